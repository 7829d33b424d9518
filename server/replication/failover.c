/* failover.c - FAILOVER: Redis 6.2's coordinated switchover, which loses
 * nothing.
 *
 *   FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms]
 *
 * no-failover -> waiting-for-sync: writes are held (server_hold_writes)
 * and the replicas are asked for ACKs until one (the named one, or any)
 * has acknowledged the whole stream.  -> failover-in-progress: this
 * server becomes a replica of that one and its PSYNC carries FAILOVER,
 * which tells the target to promote itself first (its replid must be
 * ours).  Once the target answers +CONTINUE (or +FULLRESYNC) the failover
 * is over and the held writes run again, now refused with -READONLY.
 * A timeout aborts (or, with FORCE, fails over anyway); ABORT, or a
 * refused PSYNC, goes back to being the master.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "hooks.h"
#include "mem.h"
#include "repl.h"
#include "repl_int.h"
#include "reply.h"
#include "server.h"
#include "util.h"

enum failover_state { NO_FAILOVER, FAILOVER_WAIT_FOR_SYNC, FAILOVER_IN_PROGRESS };

static struct {
    enum failover_state state;
    char host[64];     /* the target; "" for any replica (until one caught up) */
    int port;
    long long end_ms;  /* 0: no timeout */
    int force;
} fo;

const char *repl_failover_state_name(void)
{
    return fo.state == FAILOVER_WAIT_FOR_SYNC ? "waiting-for-sync"
           : fo.state == FAILOVER_IN_PROGRESS ? "failover-in-progress"
                                              : "no-failover";
}

int repl_failover_active(void) { return fo.state != NO_FAILOVER; }
int repl_failover_in_progress(void) { return fo.state == FAILOVER_IN_PROGRESS; }

static void clear_state(void)
{
    fo.state = NO_FAILOVER;
    fo.host[0] = '\0';
    fo.port = 0;
    fo.end_ms = 0;
    fo.force = 0;
    server_hold_writes(0);
}

static void abort_failover(const char *why)
{
    if (fo.state == NO_FAILOVER)
        return;
    if (fo.host[0])
        server_log(LL_NOTICE, "FAILOVER to %s:%d aborted: %s", fo.host, fo.port, why);
    else
        server_log(LL_NOTICE, "FAILOVER to any replica aborted: %s", why);
    if (fo.state == FAILOVER_IN_PROGRESS)
        repl_replica_unset_master();
    clear_state();
}

/* The target answered our PSYNC FAILOVER. */
void repl_failover_psync_result(int accepted)
{
    if (fo.state != FAILOVER_IN_PROGRESS)
        return;
    if (accepted) {
        server_log(LL_NOTICE, "Failover to %s:%d done.", fo.host, fo.port);
        clear_state();
    } else {
        abort_failover("Failover target rejected psync request");
    }
}

static void start_switch(void)
{
    fo.state = FAILOVER_IN_PROGRESS;
    repl_replica_set_master(fo.host, fo.port);
}

/* Every cron tick while waiting: has a replica acknowledged everything? */
static void failover_cron(void)
{
    if (fo.state != FAILOVER_WAIT_FOR_SYNC)
        return;
    if (fo.end_ms && fo.end_ms <= mstime()) {
        if (fo.force && fo.host[0]) {
            server_log(LL_NOTICE, "FAILOVER to %s:%d time out exceeded, failing over.", fo.host, fo.port);
            start_switch();
        } else {
            abort_failover("Replica never caught up before timeout");
        }
        return;
    }
    struct repl_replica_view v[64];
    int n = repl_master_replicas(v, 64);
    for (int i = 0; i < n && i < 64; i++) {
        int named = fo.host[0] && !strcasecmp(v[i].ip, fo.host) && v[i].port == fo.port;
        if ((fo.host[0] && !named) || !v[i].online || v[i].ack_offset != repl.master_repl_offset)
            continue;
        if (!fo.host[0]) {
            snprintf(fo.host, sizeof(fo.host), "%s", v[i].ip);
            fo.port = v[i].port;
        }
        server_log(LL_NOTICE, "Failover target %s:%d is synced, failing over.", fo.host, fo.port);
        start_switch();
        return;
    }
    repl_master_send_getack();
}

static void failover_command(struct client *c)
{
    const struct arg *host = NULL;
    long long port = 0, timeout_ms = 0;
    int force = 0, abort_flag = 0;
    for (int j = 1; j < c->argc;) {
        const struct arg *a = &c->argv[j];
        if (arg_is(a, "to") && !host && j + 2 < c->argc) {
            host = &c->argv[j + 1];
            if (arg_ll(c, &c->argv[j + 2], &port, NULL) < 0)
                return;
            j += 3;
        } else if (arg_is(a, "timeout") && j + 1 < c->argc && timeout_ms <= 0) {
            if (arg_ll(c, &c->argv[j + 1], &timeout_ms, NULL) < 0)
                return;
            if (timeout_ms <= 0) {
                reply_error(c, "FAILOVER timeout must be greater than 0");
                return;
            }
            j += 2;
        } else if (arg_is(a, "force")) {
            force = 1;
            j++;
        } else if (arg_is(a, "abort")) {
            abort_flag = 1;
            j++;
        } else {
            reply_error(c, "syntax error");
            return;
        }
    }
    if (abort_flag) {
        if (fo.state == NO_FAILOVER) {
            reply_error(c, "No failover in progress.");
            return;
        }
        abort_failover("Failover manually aborted");
        reply_ok(c);
        return;
    }
    if (force && (!timeout_ms || !host)) {
        reply_error(c, "FAILOVER with force option requires both a timeout and target HOST and IP.");
        return;
    }
    if (repl_is_replica()) {
        reply_error(c, "FAILOVER is not valid when server is a replica.");
        return;
    }
    if (repl_master_replica_count() == 0) {
        reply_error(c, "FAILOVER requires connected replicas.");
        return;
    }
    if (fo.state != NO_FAILOVER) {
        reply_error(c, "FAILOVER already in progress.");
        return;
    }
    if (host) {
        struct repl_replica_view v[64];
        int n = repl_master_replicas(v, 64), found = -1;
        for (int i = 0; i < n && i < 64; i++)
            if (strlen(v[i].ip) == host->len && !strncasecmp(v[i].ip, host->ptr, host->len) && v[i].port == port)
                found = i;
        if (found < 0 || host->len >= sizeof(fo.host)) {
            reply_error(c, "FAILOVER target HOST and PORT is not a replica.");
            return;
        }
        if (!v[found].online) {
            reply_error(c, "FAILOVER target replica is not online.");
            return;
        }
        memcpy(fo.host, host->ptr, host->len);
        fo.host[host->len] = '\0';
        fo.port = (int)port;
        server_log(LL_NOTICE, "FAILOVER requested to %s:%d.", fo.host, fo.port);
    } else {
        server_log(LL_NOTICE, "FAILOVER requested to any replica.");
    }
    fo.end_ms = timeout_ms ? mstime() + timeout_ms : 0;
    fo.force = force;
    fo.state = FAILOVER_WAIT_FOR_SYNC;
    server_hold_writes(1);
    repl_master_send_getack();
    reply_ok(c);
}

void repl_failover_register(void) { hooks_on_cron(failover_cron); }

const struct command_impl repl_failover_commands[] = {
    {"failover", failover_command},
    {NULL, NULL},
};
