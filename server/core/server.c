/* server.c - startup, the event loop, periodic work and command dispatch.
 *
 * The loop is libevent's, run one iteration at a time (EVLOOP_ONCE) so the
 * server gets a "before sleep" point after each batch of events: there it
 * serves clients unblocked by this batch's writes and flushes every
 * client's replies with one write each.  Periodic work (expiry, timeouts,
 * statistics) runs from a timer at `hz` times a second.
 */
#include "server.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <unistd.h>

#include "blocking.h"
#include "commit_gate.h"
#include "config.h"
#include "db.h"
#include "evict.h"
#include "hooks.h"
#include "mem.h"
#include "introspection.h"
#include "networking.h"
#include "propagate.h"
#include "util.h"

struct server srv;

static struct event *cron_event;
static struct event *sigterm_event, *sigint_event;

/* ---- logging -------------------------------------------------------------- */

static void log_raw(int level, const char *msg)
{
    static const char marks[] = ".-*#";
    FILE *fp;
    int to_stdout = !srv.logfile || srv.logfile[0] == '\0';
    if (level < srv.verbosity)
        return;
    fp = to_stdout ? stdout : fopen(srv.logfile, "a");
    if (!fp)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    char date[64];
    size_t off = strftime(date, sizeof(date), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(date + off, sizeof(date) - off, "%03d", (int)tv.tv_usec / 1000);
    /* the role letter as Redis writes it: C in a fork child, M otherwise */
    char role = srv.pid && getpid() != srv.pid ? 'C' : 'M';
    fprintf(fp, "%d:%c %s %c %s\n", (int)getpid(), role, date, marks[level & 3], msg);
    fflush(fp);
    if (!to_stdout)
        fclose(fp);
}

void server_log(int level, const char *fmt, ...)
{
    if (level < srv.verbosity)
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_raw(level, msg);
}

void server_panic(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_raw(LL_WARNING, "------------------------------------------------");
    log_raw(LL_WARNING, "!!! Software Failure. Press left mouse button to continue");
    log_raw(LL_WARNING, msg);
    fprintf(stderr, "sluice: panic: %s\n", msg);
    abort();
}

/* ---- time ------------------------------------------------------------------ */

void server_update_time(void)
{
    srv.mstime_cached = mstime();
    srv.unixtime = (time_t)(srv.mstime_cached / 1000);
    lru_clock_update(srv.mstime_cached);
}

long long server_uptime_s(void) { return (ustime() - srv.start_us) / 1000000; }

/* ---- dispatch ----------------------------------------------------------- */

/* Reject before execution: counts as rejected, and poisons a MULTI. */
static void reject(struct client *c, const char *msg, size_t len)
{
    multi_flag_transaction(c);
    if (c->cmd)
        c->cmd->rejected_calls++;
    if (c->cmd && !strcmp(c->cmd->fullname, "exec")) {
        /* a rejected EXEC ends the transaction, saying why (Redis's
         * execCommandAbort), whether or not one was open */
        multi_discard(c);
        if (len && msg[0] == '-') {
            msg++;
            len--;
        }
        sstr e = sstr_catfmt(sstr_empty(len + 48), "-EXECABORT Transaction discarded because of: %.*s", (int)len, msg);
        reply_error_len(c, e, sstr_len(e));
        sstr_free(e);
        return;
    }
    reply_error_len(c, msg, len);
}

static void reject_fmt(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reject_fmt(struct client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sstr s = sstr_catvfmt(sstr_empty(128), fmt, ap);
    va_end(ap);
    reject(c, s, sstr_len(s));
    sstr_free(s);
}

/* How Redis prints an argument with %s: up to the first NUL. */
static int cstr_len(const struct arg *a, int max)
{
    size_t n = strnlen(a->ptr, a->len);
    return n > (size_t)max ? max : (int)n;
}

static int lookup_command(struct client *c)
{
    struct command *base = command_lookup(c->argv[0].ptr, c->argv[0].len);
    c->cmd = base;
    if (base && base->subcommands && c->argc > 1)
        c->cmd = command_lookup_sub(base, c->argv[1].ptr, c->argv[1].len);
    if (c->cmd)
        return 1;
    if (base && base->subcommands) {
        char up[64];
        int n = cstr_len(&c->argv[0], (int)sizeof(up) - 1);
        for (int i = 0; i < n; i++)
            up[i] = (char)(c->argv[0].ptr[i] >= 'a' && c->argv[0].ptr[i] <= 'z' ? c->argv[0].ptr[i] - 32
                                                                                 : c->argv[0].ptr[i]);
        up[n] = '\0';
        reject_fmt(c, "unknown subcommand '%.*s'. Try %s HELP.", cstr_len(&c->argv[1], 128), c->argv[1].ptr, up);
        return 0;
    }
    sstr args = sstr_empty(64);
    for (int i = 1; i < c->argc && sstr_len(args) < 128; i++)
        args = sstr_catfmt(args, "'%.*s' ", cstr_len(&c->argv[i], 128 - (int)sstr_len(args)), c->argv[i].ptr);
    reject_fmt(c, "unknown command '%.*s', with args beginning with: %s", cstr_len(&c->argv[0], 128),
               c->argv[0].ptr, args);
    sstr_free(args);
    return 0;
}

static int is_multi_control(const struct command *cmd)
{
    const char *n = cmd->fullname;
    return !strcmp(n, "exec") || !strcmp(n, "discard") || !strcmp(n, "multi") || !strcmp(n, "watch") ||
           !strcmp(n, "quit") || !strcmp(n, "reset");
}

static uint64_t shutdown_requester; /* the client whose SHUTDOWN is pending */

void call_command(struct client *c)
{
    struct command *cmd = c->cmd;
    long long dirty_before = srv.dirty;
    long long errors_before = srv.stat_total_error_replies;
    long long start = ustime();
    /* expiry decisions inside the command use this time */
    srv.mstime_cached = start / 1000;

    int shutdown_before = srv.shutdown_asap;
    size_t queued_before = c->reply_bytes;
    commit_pos pos_before = commit_gate_position();
    propagate_call_begin();
    cmd->proc(c);
    propagate_call_end(c, srv.dirty != dirty_before);
    /* its replies wait until what it wrote, or could have read, is durable
     * under the client's acks; a read of data waits for the replicas only
     * with read-committed, a command that touches no data never does.  The level never drops below that of replies still
     * queued ahead (they leave in order, as one chain). */
    c->commit_tag = commit_gate_position();
    if (c->commit_tag != pos_before)
        c->commit_woff = c->commit_tag;
    int level = c->acks >= 0 ? c->acks : srv.acks;
    if (level == COMMIT_LEVEL_REPLICAS && c->commit_tag == pos_before &&
        (!srv.read_committed || !(cmd->flags & (CMD_READONLY | CMD_WRITE))))
        level = COMMIT_LEVEL_LOCAL; /* it wrote nothing, and read no data (or need not wait for what it read) */
    if (c->flags & (CLIENT_REPLICA | CLIENT_MASTER))
        c->commit_level = COMMIT_LEVEL_NONE; /* the stream never waits: it is what the replicas acknowledge */
    else if (queued_before == 0 || level > c->commit_level)
        c->commit_level = (int8_t)level;
    commit_gate_want(c->commit_level, c->commit_tag);
    if (!shutdown_before && srv.shutdown_asap)
        shutdown_requester = c->id; /* told if the shutdown fails */

    long long duration = ustime() - start;
    if (c->flags & CLIENT_BLOCKED) {
        /* counted when it is finally served or times out */
        return;
    }
    if (!(cmd->flags & CMD_SKIP_SLOWLOG))
        slowlog_push(c, c->argv, c->argc, duration);
    if (!list_empty(&srv.monitors) && !(cmd->flags & (CMD_SKIP_MONITOR | CMD_ADMIN)))
        monitor_feed(c, c->argv, c->argc);
    cmd->calls++;
    cmd->usec += duration;
    stats_record_latency(cmd, duration);
    if (srv.stat_total_error_replies > errors_before)
        cmd->failed_calls++;
    srv.stat_numcommands++;
    c->commands_processed++;
}

static int pause_applies(struct client *c)
{
    if ((!srv.pause.active && !srv.pause.failover) || (c->flags & CLIENT_MONITOR))
        return 0;
    /* CLIENT PAUSE holds the master's stream too, as in Redis (a replica
     * being paused stops applying); FAILOVER's hold is a master's affair */
    if ((c->flags & CLIENT_MASTER) && !srv.pause.active)
        return 0;
    if (srv.pause.active && !srv.pause.write_only)
        return 1;
    uint64_t f = c->cmd->flags;
    if (c->flags & CLIENT_MULTI)
        return 0; /* queued; EXEC itself is checked below */
    if (!strcmp(c->cmd->fullname, "exec"))
        f |= c->mstate.cmd_flags;
    return (f & (CMD_WRITE | CMD_MAY_REPLICATE)) != 0;
}

void process_command(struct client *c)
{
    if (!lookup_command(c))
        return;
    struct command *cmd = c->cmd;
    if ((cmd->arity > 0 && cmd->arity != c->argc) || c->argc < -cmd->arity) {
        reject_fmt(c, "wrong number of arguments for '%s' command", cmd->fullname);
        return;
    }
    if (!c->authenticated && !(cmd->flags & CMD_NO_AUTH)) {
        static const char noauth[] = "-NOAUTH Authentication required.";
        reject(c, noauth, sizeof(noauth) - 1);
        return;
    }
    if ((c->flags & CLIENT_MULTI) && (cmd->flags & CMD_NO_MULTI)) {
        reject_fmt(c, "Command not allowed inside a transaction");
        return;
    }
    /* the master's stream is obeyed: what it says was already accepted there */
    int obeys = (c->flags & CLIENT_MASTER) != 0;
    if (srv.maxmemory && !obeys && evict_perform() == EVICT_FAIL) {
        /* Redis's rule: what may grow memory is refused, and so is queueing
         * anything in MULTI (EXEC and DISCARD still run) */
        int is_exec = !strcmp(cmd->fullname, "exec");
        int denyoom = (cmd->flags & CMD_DENYOOM) || (is_exec && (c->mstate.cmd_flags & CMD_DENYOOM));
        int queues = (c->flags & CLIENT_MULTI) && !is_exec && strcmp(cmd->fullname, "discard") &&
                     strcmp(cmd->fullname, "quit") && strcmp(cmd->fullname, "reset");
        if (denyoom || queues) {
            static const char oom[] = "-OOM command not allowed when used memory > 'maxmemory'.";
            reject(c, oom, sizeof(oom) - 1);
            return;
        }
    }
    int is_write = ((cmd->flags | (!strcmp(cmd->fullname, "exec") ? c->mstate.cmd_flags : 0)) & CMD_WRITE) != 0;
    if (hooks_write_refusal_armed() && !obeys && (is_write || !strcmp(cmd->fullname, "ping")) &&
        ((hooks_refusal_is_ping_ = !is_write), hooks_write_refused(NULL))) {
        /* the last BGSAVE or AOF write failed: accepting writes would lose them */
        sstr e = sstr_empty(64);
        hooks_write_refused(&e);
        reject(c, e, sstr_len(e));
        sstr_free(e);
        return;
    }
    /* Redis's is_denystale_command: EXEC too, when a command it queued
     * may not run on stale data (the link went down after the queueing) */
    if (hooks_stale_refusal_ && !obeys &&
        (!(cmd->flags & CMD_STALE) || (!strcmp(cmd->fullname, "exec") && (c->mstate.cmd_inv_flags & CMD_STALE)))) {
        sstr e = sstr_empty(64);
        hooks_stale_refusal_(&e);
        reject(c, e, sstr_len(e));
        sstr_free(e);
        return;
    }
    if ((srv.loading && !(cmd->flags & CMD_LOADING)) || (srv.async_loading && (cmd->flags & CMD_NO_ASYNC_LOADING))) {
        static const char loading[] = ERR_LOADING;
        reject(c, loading, sizeof(loading) - 1);
        return;
    }
    c->lastcmd = cmd; /* CLIENT LIST shows the command being run, as Redis */
    if ((c->flags & CLIENT_MULTI) && !is_multi_control(cmd)) {
        multi_queue_command(c);
        reply_raw(c, "+QUEUED\r\n", 9);
        return;
    }
    if (pause_applies(c)) {
        c->flags |= CLIENT_PAUSED;
        list_add_tail(&srv.paused_clients, &c->pause_node);
        return;
    }
    call_command(c);
    blocking_handle_ready_keys();
}

/* ---- pause -------------------------------------------------------------- */

static void unpause_if_due(void)
{
    if (srv.pause.active && srv.pause.end_ms <= server_mstime()) {
        srv.pause.active = 0;
        srv.pause.resume = 1;
    }
    if (!srv.pause.resume)
        return;
    srv.pause.resume = 0;
    /* take the held clients aside: a command still held by another pause
     * goes back on the list */
    struct list_head held;
    list_init(&held);
    struct list_node *n;
    while ((n = list_first(&srv.paused_clients)) != NULL) {
        list_del(&srv.paused_clients, n);
        list_add_tail(&held, n);
    }
    while ((n = list_first(&held)) != NULL) {
        struct client *c = list_entry(n, struct client, pause_node);
        list_del(&held, n);
        c->flags &= ~CLIENT_PAUSED;
        /* run the held command from the start (Redis re-processes it: the
         * server may have become a replica meanwhile), then what followed */
        srv.current_client = c;
        process_command(c);
        srv.current_client = NULL;
        if (c->master_paused_raw && !(c->flags & CLIENT_PAUSED)) {
            hooks_run_master_applied(c, c->master_paused_raw, sstr_len(c->master_paused_raw));
            sstr_free(c->master_paused_raw);
            c->master_paused_raw = NULL;
        }
        if (!(c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED))) {
            client_command_done(c);
            list_add_tail(&srv.unblocked_clients, &c->unblocked_node);
        }
    }
}

void server_hold_writes(int on)
{
    if (srv.pause.failover && !on)
        srv.pause.resume = 1;
    srv.pause.failover = on;
}

/* CLIENT UNPAUSE: end the pause now; the held clients resume from the
 * event loop right after this iteration's commands, never nested inside
 * the UNPAUSE call (a held command may even kill the unpausing client). */
void server_unpause_clients(void)
{
    srv.pause.end_ms = 0;
}


/* ---- shutdown ----------------------------------------------------------- */

int server_prepare_shutdown(int flags)
{
    (void)flags;
    server_log(LL_WARNING, "User requested shutdown...");
    /* persistence: kill a child, flush and fsync the AOF, save when save
     * points are set (or SAVE); a module may refuse */
    if (hooks_run_shutdown(flags) < 0)
        return -1;
    if (srv.pidfile && srv.pidfile[0])
        unlink(srv.pidfile);
    if (srv.unixsocket && srv.unixsocket[0])
        unlink(srv.unixsocket);
    close_listeners();
    server_log(LL_WARNING, "Sluice is now ready to exit, bye bye...");
    return 0;
}

static void finish_shutdown_if_requested(void)
{
    if (!srv.shutdown_asap)
        return;
    if (server_prepare_shutdown(srv.shutdown_flags) == 0) {
        flush_pending_writes();
        exit(0);
    }
    /* as Redis 7.0: the SHUTDOWN caller learns that the server stays up */
    struct client *c = shutdown_requester ? client_lookup_by_id(shutdown_requester) : NULL;
    if (c)
        reply_error(c, "Errors trying to SHUTDOWN. Check logs.");
    shutdown_requester = 0;
    srv.shutdown_asap = 0;
}

static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    (void)arg;
    server_log(LL_WARNING, "Received %s scheduling shutdown...", sig == SIGINT ? "SIGINT" : "SIGTERM");
    srv.shutdown_asap = 1;
    srv.shutdown_flags = SHUTDOWN_NOFLAGS;
}

/* ---- cron --------------------------------------------------------------- */

static void cron_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    server_update_time();
    srv.cronloops++;
    stats_sample_instantaneous();
    stats_update_peak_memory();
    if (srv.active_expire_enabled) {
        /* Redis's slow cycle: up to 25% of a cron period, scaled by effort */
        long long budget = (1000000LL / srv.hz) * (25 + 2 * (srv.active_expire_effort - 1)) / 100;
        db_active_expire_cycle(srv.dbs, srv.dbnum, budget);
    }
    evict_cron();
    clients_cron();
    hooks_run_cron(); /* the modules' periodic work: children, rewrites, save points */
    unpause_if_due();
    finish_shutdown_if_requested();
}

void server_reschedule_cron(void)
{
    if (!cron_event)
        return;
    struct timeval tv = {0, 1000000 / srv.hz};
    event_del(cron_event);
    event_add(cron_event, &tv);
}

/* ---- startup ------------------------------------------------------------- */

static void init_server_state(void)
{
    srv.pid = getpid();
    srv.start_us = ustime();
    server_update_time();
    random_hex(srv.runid, 40);
    srv.runid[40] = '\0';
    list_init(&srv.clients);
    list_init(&srv.pending_writes);
    list_init(&srv.monitors);
    list_init(&srv.unblocked_clients);
    list_init(&srv.clients_to_close);
    list_init(&srv.paused_clients);
    list_init(&srv.slowlog);
    srv.errors = dict_create(NULL, 0);
    srv.dbs = mem_calloc(sizeof(struct db *) * (size_t)srv.dbnum);
    for (int i = 0; i < srv.dbnum; i++)
        srv.dbs[i] = db_create(i);
    blocking_init();
}

static void write_pidfile(void)
{
    if (!srv.pidfile || !srv.pidfile[0])
        return;
    FILE *fp = fopen(srv.pidfile, "w");
    if (fp) {
        fprintf(fp, "%d\n", (int)getpid());
        fclose(fp);
    }
}

static void raise_fd_limit(void)
{
    struct rlimit lim;
    rlim_t want = (rlim_t)srv.maxclients + 32;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < want) {
        lim.rlim_cur = want;
        if (lim.rlim_max < want)
            lim.rlim_max = want;
        if (setrlimit(RLIMIT_NOFILE, &lim) != 0) {
            getrlimit(RLIMIT_NOFILE, &lim);
            lim.rlim_cur = lim.rlim_max;
            setrlimit(RLIMIT_NOFILE, &lim);
            if (lim.rlim_cur < want && lim.rlim_cur > 32) {
                server_log(LL_WARNING, "You requested maxclients of %d requiring at least %llu max file descriptors. "
                                       "Server can't set maximum open files to %llu; maxclients lowered to %d.",
                           srv.maxclients, (unsigned long long)want, (unsigned long long)want,
                           (int)(lim.rlim_cur - 32));
                srv.maxclients = (int)(lim.rlim_cur - 32);
            }
        }
    }
}

void server_init(void)
{
    signal(SIGPIPE, SIG_IGN);
    setlocale(LC_COLLATE, ""); /* SORT ALPHA collates as Redis does */
    raise_fd_limit();
    struct event_config *ecfg = event_config_new();
    event_config_set_flag(ecfg, EVENT_BASE_FLAG_NOLOCK);
    srv.base = event_base_new_with_config(ecfg);
    event_config_free(ecfg);
    if (!srv.base) {
        fprintf(stderr, "sluice: cannot create the event loop\n");
        exit(1);
    }
    init_server_state();
}

void server_start(void)
{
    if (listen_on_configured_addresses() < 0)
        exit(1);
    write_pidfile();
    sigterm_event = evsignal_new(srv.base, SIGTERM, signal_cb, NULL);
    sigint_event = evsignal_new(srv.base, SIGINT, signal_cb, NULL);
    event_add(sigterm_event, NULL);
    event_add(sigint_event, NULL);
    cron_event = event_new(srv.base, -1, EV_PERSIST, cron_cb, NULL);
    server_reschedule_cron();
    stats_init();
    server_log(LL_NOTICE, "Server initialized");
}

/* Whether the loop is running (a handler is on the stack): libevent's
 * loop is not re-entrant, so a load started from a handler (a replica's
 * full sync, DEBUG RELOAD) cannot serve clients meanwhile. */
static int loop_running;

void server_process_events_while_blocked(void)
{
    for (int pass = 0; pass < 4 && !loop_running; pass++) {
        event_base_loop(srv.base, EVLOOP_NONBLOCK);
        server_update_time();
    }
    flush_pending_writes();
}

void server_run(void)
{
    for (;;) {
        loop_running = 1;
        event_base_loop(srv.base, EVLOOP_ONCE);
        loop_running = 0;
        server_update_time();
        hooks_run_top_level();
        unpause_if_due();
        blocking_handle_ready_keys();
        blocking_process_unblocked();
        commit_gate_advance(); /* e.g. the AOF's group commit: replies below follow its fsync */
        hooks_run_after_commit();
        flush_pending_writes();
        finish_shutdown_if_requested();
    }
}

/* CONFIG SET port/bind/unixsocket: reopen the listeners; on failure the
 * old ones stay open and the error says why. */
int server_apply_listen_config(sstr *err)
{
    return listen_on_configured_addresses_err(err);
}
