/* master.c - the master side of replication (SYNC/PSYNC, full sync,
 * partial resync, the stream to the replicas, REPLCONF).
 *
 * A link becomes a replica (CLIENT_REPLICA, c->repl holds a struct
 * replica) at its first REPLCONF or at SYNC/PSYNC; it joins the stream
 * (`attached`) at SYNC/PSYNC.
 *
 * A full sync is sync.c's: a fork child, disk-backed or diskless.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof.h"
#include "blocking.h"
#include "commands.h"
#include "commit_gate.h"
#include "hooks.h"
#include "mem.h"
#include "propagate.h"
#include "rdb.h"
#include "repl.h"
#include "repl_int.h"
#include "reply.h"
#include "rio.h"
#include "server.h"
#include "util.h"

static struct replica *replicas;
static int stream_db = -1;           /* the db the stream last SELECTed (Redis's slaveseldb) */
static long long no_replicas_since;  /* unixtime when the last replica left (backlog ttl) */
static long long last_ping;

long long repl_stat_sync_full, repl_stat_sync_partial_ok, repl_stat_sync_partial_err;

static void wake_waiters(void);
static void refresh_good_replicas(void);

struct replica *repl_master_replica_list(void) { return replicas; }

static struct replica *replica_of(struct client *c)
{
    if (c->repl)
        return c->repl;
    struct replica *r = mem_alloc(sizeof(*r));
    memset(r, 0, sizeof(*r));
    r->c = c;
    r->rdb_fd = -1;
    /* the peer's ip: c->addr is "ip:port" */
    snprintf(r->ip, sizeof(r->ip), "%s", c->addr);
    char *colon = strrchr(r->ip, ':');
    if (colon)
        *colon = '\0';
    r->next = replicas;
    replicas = r;
    c->repl = r;
    c->flags |= CLIENT_REPLICA;
    return r;
}

static void on_link_free(struct client *c)
{
    struct replica *r = c->repl;
    if (!r || !(c->flags & CLIENT_REPLICA))
        return;
    r->leaving = 1;  /* nothing more is sent to it */
    if (r->attached) /* while still listed, so that the log names it */
        repl_isr_on_replica_gone(c->id);
    for (struct replica **pp = &replicas; *pp; pp = &(*pp)->next) {
        if (*pp == r) {
            *pp = r->next;
            break;
        }
    }
    repl_sync_forget(r);
    c->repl = NULL;
    mem_free(r);
    if (!repl_master_replica_count())
        no_replicas_since = srv.unixtime;
}

/* ---- the stream ---- */

void repl_master_feed_raw(const char *p, size_t n)
{
    repl_backlog_feed(p, n);
    for (struct replica *r = replicas; r; r = r->next) {
        if (r->attached && !r->rdb_only)
            reply_raw(r->c, p, n);
        else if (r->sync_state == REPL_SYNC_WAIT_END || r->sync_state == REPL_SYNC_SEND)
            repl_sync_hold(r, p, n);
    }
}

/* a replica relays its master's bytes instead; nothing to do without a backlog */
static int master_wants_feed(void *priv)
{
    (void)priv;
    return !repl_is_replica() && repl_backlog_exists();
}

static void master_feed(void *priv, int dbid, int argc, const struct arg *argv)
{
    (void)priv;
    static sstr s; /* reused: one record at a time */
    if (!s)
        s = sstr_empty(64);
    sstr_clear(s);
    if (dbid != stream_db) {
        s = resp_cat_select(s, dbid);
        stream_db = dbid;
    }
    s = resp_cat_command(s, argc, argv);
    repl_master_feed_raw(s, sstr_len(s));
    if (srv.current_client) /* whose write this is: its WAIT waits for here */
        srv.current_client->repl_woff = repl.master_repl_offset;
    if (sstr_len(s) > 64 * 1024) { /* a big record does not pin its buffer */
        sstr_free(s);
        s = NULL;
    }
    repl_isr_note_stream(commit_gate_position(), repl.master_repl_offset);
}

/* ---- REPLCONF ---- */

/* An offset argument, without a reply on error (REPLCONF ACK never replies). */
static int parse_offset(const struct arg *a, long long *out)
{
    char buf[32];
    if (a->len == 0 || a->len >= sizeof(buf))
        return 0;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    char *end;
    *out = strtoll(buf, &end, 10);
    return *end == '\0';
}

static void replconf_command(struct client *c)
{
    if (c->argc % 2 == 0) {
        reply_error(c, "syntax error");
        return;
    }
    for (int i = 1; i < c->argc; i += 2) {
        const struct arg *opt = &c->argv[i], *val = &c->argv[i + 1];
        if (arg_is(opt, "listening-port")) {
            long long port;
            if (arg_ll(c, val, &port, NULL) < 0)
                return;
            replica_of(c)->port = (int)port;
        } else if (arg_is(opt, "ip-address")) {
            struct replica *r = replica_of(c);
            if (val->len < sizeof(r->ip)) {
                memcpy(r->ip, val->ptr, val->len);
                r->ip[val->len] = '\0';
            } else {
                reply_errorf(c, "REPLCONF ip-address provided by replica instance is too long: %zd bytes",
                             (ssize_t)val->len);
                return;
            }
        } else if (arg_is(opt, "capa")) {
            struct replica *r = replica_of(c);
            if (arg_is(val, "eof"))
                r->capa_eof = 1;
            else if (arg_is(val, "psync2"))
                r->capa_psync2 = 1;
            else if (arg_is(val, "isr"))
                r->capa_isr = 1; /* Sluice: wants REPLCONF ISR */
            /* unknown capabilities are ignored, as in Redis */
        } else if (arg_is(opt, "ack")) {
            /* no reply, ever */
            if (!c->repl)
                return;
            struct replica *r = c->repl;
            long long off;
            if (!parse_offset(val, &off))
                return;
            if (off > r->ack_offset)
                r->ack_offset = off;
            /* Redis 7.2's replicas add FACK <offset their AOF fsynced> */
            if (i + 3 < c->argc && arg_is(&c->argv[i + 2], "fack") && parse_offset(&c->argv[i + 3], &off) &&
                off > r->fack_offset)
                r->fack_offset = off;
            r->ack_time_ms = mstime();
            if (r->attached) {
                repl_isr_on_ack(c->id, r->ack_offset);
                wake_waiters();
                refresh_good_replicas();
            }
            return;
        } else if (arg_is(opt, "isr")) {
            /* our Sluice master says whether we are in its ISR; no reply */
            if (c->flags & CLIENT_MASTER)
                repl_replica_note_isr(val->len == 1 && val->ptr[0] == '1');
            return;
        } else if (arg_is(opt, "getack")) {
            /* our master asks where we are; a master ignores it */
            if (c->flags & CLIENT_MASTER)
                repl_replica_send_ack();
            return;
        } else if (arg_is(opt, "rdb-only")) {
            long long v;
            if (arg_ll(c, val, &v, NULL) < 0)
                return;
            if (v != 0 && v != 1) {
                reply_error(c, "value is out of range, value must between 0 and 1");
                return;
            }
            replica_of(c)->rdb_only = (int)v;
        } else if (arg_is(opt, "rdb-filter-only")) {
            /* Redis 7.0 accepts only an empty filter or "functions"; Sluice
             * has no functions, so every filter keeps all the data */
            replica_of(c);
        } else {
            reply_errorf(c, "Unrecognized REPLCONF option: %.*s", (int)opt->len, opt->ptr);
            return;
        }
    }
    reply_ok(c);
}

/* ---- SYNC / PSYNC ---- */

static void sync_command(struct client *c)
{
    int psync = arg_is(&c->argv[0], "psync");
    if (c->flags & CLIENT_REPLICA && c->repl &&
        (((struct replica *)c->repl)->attached || ((struct replica *)c->repl)->sync_state != REPL_SYNC_NONE))
        return; /* already a replica: ignore, as Redis */
    if (psync && c->argc > 3 && arg_is(&c->argv[3], "failover")) {
        /* our master hands over (FAILOVER): we must be replicating it */
        if (c->argv[1].len == REPL_ID_LEN && !memcmp(c->argv[1].ptr, repl_replid(), REPL_ID_LEN)) {
            repl_replica_unset_master();
            server_log(LL_NOTICE, "MASTER MODE enabled (failover request from 'id=%llu addr=%s')",
                       (unsigned long long)c->id, c->addr);
        } else {
            reply_error(c, "PSYNC FAILOVER replid must match my replid.");
            return;
        }
    }
    if (repl_failover_active()) {
        reply_error(c, "-NOMASTERLINK Can't SYNC while failing over");
        return;
    }
    if (repl_is_replica()) {
        struct repl_link_view l;
        repl_replica_link(&l);
        if (strcmp(l.link_status, "up")) {
            reply_error(c, "-NOMASTERLINK Can't SYNC while not connected with my master");
            return;
        }
    }
    if (c->reply_bytes) {
        reply_error(c, "SYNC and PSYNC are invalid with pending output");
        return;
    }
    struct replica *r = replica_of(c);
    if (psync) {
        const struct arg *id = &c->argv[1];
        long long off = 0;
        char buf[32];
        int ok = 0;
        if (c->argv[2].len < sizeof(buf)) {
            memcpy(buf, c->argv[2].ptr, c->argv[2].len);
            buf[c->argv[2].len] = '\0';
            char *end;
            off = strtoll(buf, &end, 10);
            ok = *buf && !*end;
        }
        int is_q = id->len == 1 && id->ptr[0] == '?';
        int same = id->len == REPL_ID_LEN && !memcmp(id->ptr, repl_replid(), REPL_ID_LEN);
        int prev = id->len == REPL_ID_LEN && !memcmp(id->ptr, repl.replid2, REPL_ID_LEN) &&
                   off <= repl.second_repl_offset;
        if (ok && (same || prev) && repl_backlog_covers(off - 1)) {
            char hdr[128];
            int n = r->capa_psync2 ? snprintf(hdr, sizeof(hdr), "+CONTINUE %s\r\n", repl_replid())
                                   : snprintf(hdr, sizeof(hdr), "+CONTINUE\r\n");
            reply_raw(c, hdr, (size_t)n);
            sstr s = sstr_empty(64);
            repl_backlog_copy(off - 1, &s);
            reply_raw(c, s, sstr_len(s));
            sstr_free(s);
            r->attached = 1;
            r->ack_time_ms = mstime();
            repl_stat_sync_partial_ok++;
            repl_master_replica_online(r);
            return;
        }
        if (!is_q) {
            repl_stat_sync_partial_err++;
            if (ok && !same && id->len == REPL_ID_LEN && !memcmp(id->ptr, repl.replid2, REPL_ID_LEN))
                server_log(LL_NOTICE,
                           "Partial resynchronization not accepted: Requested offset for second ID was %lld, but I "
                           "can reply up to %lld",
                           off, repl.second_repl_offset);
            else if (!ok || (!same && !prev))
                server_log(LL_NOTICE,
                           "Partial resynchronization not accepted: Replication ID mismatch (Replica asked for "
                           "'%.*s', my replication IDs are '%s' and '%s')",
                           (int)(id->len < 64 ? id->len : 64), id->ptr, repl_replid(), repl.replid2);
            else
                server_log(LL_NOTICE,
                           "Unable to partial resync with replica %s:%d for lack of backlog (Replica request was: "
                           "%lld).",
                           r->ip, r->port, off);
        } else {
            server_log(LL_NOTICE, "Full resync requested by replica %s:%d", r->ip, r->port);
        }
    }
    repl_sync_request(r, psync);
}

/* ---- telling Sluice replicas whether they are in the ISR ---- */

/* Out of the stream: straight into the replica's output, between two
 * records, never into the backlog (offsets are the stream's alone). */
static void send_isr(struct replica *r, int in)
{
    if (!r->capa_isr || !r->attached || r->rdb_only || r->leaving)
        return;
    static const char msg0[] = "*3\r\n$8\r\nREPLCONF\r\n$3\r\nISR\r\n$1\r\n0\r\n";
    static const char msg1[] = "*3\r\n$8\r\nREPLCONF\r\n$3\r\nISR\r\n$1\r\n1\r\n";
    reply_raw(r->c, in ? msg1 : msg0, sizeof(msg0) - 1);
}

void repl_master_tell_isr(uint64_t client_id, int in)
{
    for (struct replica *r = replicas; r; r = r->next)
        if (r->c->id == client_id)
            send_isr(r, in);
}

/* A replica that comes online is not in the ISR until it acknowledged. */
void repl_master_replica_online(struct replica *r) { send_isr(r, 0); }

/* ---- WAIT ---- */

/* A client blocked in WAIT or WAITAOF (Redis's clients_waiting_acks). */
struct waiter {
    struct client *c;
    struct waiter *next;
    long long offset;      /* the stream offset of its last write */
    long long numreplicas;
    int aof;               /* WAITAOF: replicas count by their FACK */
    long long numlocal;    /* WAITAOF: 1 waits for the local AOF's fsync */
    uint64_t local_pos;    /* ... of the commit position of its last write */
};
static struct waiter *waiters;

/* Replicas that acknowledged offset (aof: that fsynced it in their AOF). */
static int count_acks(long long offset, int aof)
{
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next)
        n += r->attached && !r->rdb_only && (aof ? r->fack_offset : r->ack_offset) >= offset;
    return n;
}

/* WAITAOF's local count: 1 once the AOF on disk covers pos. */
static int local_synced(uint64_t pos)
{
    struct aof_sync_mark m;
    return aof_synced(&m) && m.pos >= pos;
}

static void reply_waitaof(struct client *c, int local, int replicas)
{
    reply_array_len(c, 2);
    reply_int(c, local);
    reply_int(c, replicas);
}

#define ERR_WAITAOF_NO_AOF "WAITAOF cannot be used when numlocal is set but appendonly is disabled."

static void wait_reply(struct client *c)
{
    struct waiter *w = c->bstate.priv;
    if (!w)
        reply_int(c, 0);
    else if (!w->aof)
        reply_int(c, count_acks(w->offset, 0));
    else if (w->numlocal && !srv.appendonly)
        reply_error(c, ERR_WAITAOF_NO_AOF); /* the AOF was turned off meanwhile */
    else
        reply_waitaof(c, local_synced(w->local_pos), count_acks(w->offset, 1));
}

static void wait_free(void *priv)
{
    for (struct waiter **pp = &waiters; *pp; pp = &(*pp)->next) {
        if (*pp == priv) {
            *pp = ((struct waiter *)priv)->next;
            break;
        }
    }
    mem_free(priv);
}

static const struct block_kind wait_kind = {"wait", -1, NULL, wait_reply, wait_free};

static int waiter_done(const struct waiter *w)
{
    if (!w->aof)
        return count_acks(w->offset, 0) >= w->numreplicas;
    if (w->numlocal && !srv.appendonly)
        return 1; /* answered with the error */
    return (!w->numlocal || local_synced(w->local_pos)) && count_acks(w->offset, 1) >= w->numreplicas;
}

/* After an ACK, an fsync, a change of appendonly: wake the waiters that
 * have their count. */
static void wake_waiters(void)
{
    struct waiter *w = waiters;
    while (w) {
        struct waiter *next = w->next;
        if (waiter_done(w))
            blocking_unblock_client(w->c, 0); /* replies the count, frees w */
        w = next;
    }
}

static void block_waiter(struct client *c, struct waiter *proto, long long timeout_ms)
{
    struct waiter *w = mem_alloc(sizeof(*w));
    *w = *proto;
    w->c = c;
    w->next = waiters;
    waiters = w;
    blocking_block_client(c, &wait_kind, NULL, 0, timeout_ms, w);
    repl_master_send_getack();
}

/* WAIT numreplicas timeout */
static void wait_command(struct client *c)
{
    if (repl_is_replica()) {
        reply_error(c, "WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a "
                       "replica is configured to be writable (which is not the default) writes to replicas are "
                       "just local and are not propagated.");
        return;
    }
    long long numreplicas, timeout_ms;
    if (arg_ll(c, &c->argv[1], &numreplicas, NULL) < 0)
        return;
    if (blocking_parse_timeout(c, c->argv[2].ptr, c->argv[2].len, 1, &timeout_ms) < 0)
        return;
    /* the client's own last write, as Redis (c->woff) */
    struct waiter w = {.offset = c->repl_woff, .numreplicas = numreplicas};
    int acks = count_acks(w.offset, 0);
    if (acks >= numreplicas || blocking_denied(c)) {
        reply_int(c, acks);
        return;
    }
    block_waiter(c, &w, timeout_ms);
}

/* WAITAOF numlocal numreplicas timeout (Redis 7.2): until the client's
 * writes are fsynced by the local AOF (numlocal 1) and by the AOFs of
 * numreplicas replicas (their REPLCONF ACK ... FACK).  Replies
 * [local, replicas]. */
static void waitaof_command(struct client *c)
{
    long long numlocal, numreplicas, timeout_ms;
    if (arg_ll(c, &c->argv[1], &numlocal, NULL) < 0)
        return;
    if (numlocal < 0 || numlocal > 1) {
        reply_error(c, "value is out of range, value must between 0 and 1");
        return;
    }
    if (arg_ll(c, &c->argv[2], &numreplicas, NULL) < 0)
        return;
    if (numreplicas < 0) {
        reply_error(c, "value is out of range, must be positive");
        return;
    }
    if (blocking_parse_timeout(c, c->argv[3].ptr, c->argv[3].len, 1, &timeout_ms) < 0)
        return;
    if (repl_is_replica()) {
        reply_error(c, "WAITAOF cannot be used with replica instances. Please also note that writes to replicas "
                       "are just local and are not propagated.");
        return;
    }
    if (numlocal && !srv.appendonly) {
        reply_error(c, ERR_WAITAOF_NO_AOF);
        return;
    }
    struct waiter w = {.offset = c->repl_woff, .numreplicas = numreplicas, .aof = 1, .numlocal = numlocal,
                       .local_pos = c->commit_woff};
    int local = local_synced(w.local_pos), acks = count_acks(w.offset, 1);
    if ((local >= numlocal && acks >= numreplicas) || blocking_denied(c)) {
        reply_waitaof(c, local, acks);
        return;
    }
    block_waiter(c, &w, timeout_ms);
}

/* ---- min-replicas-to-write (Redis's refreshGoodSlavesCount) ---- */

static int good_replicas(void)
{
    long long now = srv.unixtime;
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next)
        n += r->attached && !r->rdb_only && now - r->ack_time_ms / 1000 <= srv.min_replicas_max_lag;
    return n;
}

static int too_few_replicas(void)
{
    return !repl_is_replica() && srv.min_replicas_to_write && srv.min_replicas_max_lag &&
           good_replicas() < srv.min_replicas_to_write;
}

static int noreplicas_refusal(sstr *msg)
{
    if (hooks_refusal_is_ping() || !too_few_replicas())
        return 0;
    if (msg)
        *msg = sstr_cats(*msg, "-NOREPLICAS Not enough good replicas to write.");
    return 1;
}

static void refresh_good_replicas(void)
{
    hooks_arm_write_refusal(noreplicas_refusal, too_few_replicas());
}

/* ---- cron ---- */

static void master_cron(void)
{
    refresh_good_replicas();
    if (waiters)
        wake_waiters(); /* a background fsync may have finished (WAITAOF) */
    repl_sync_cron();
    long long now = srv.unixtime;
    int n = repl_master_replica_count();
    if (n && srv.repl_ping_replica_period > 0 && now - last_ping >= srv.repl_ping_replica_period &&
        !repl_is_replica()) {
        last_ping = now;
        if (repl_backlog_exists()) {
            static const char ping[] = "*1\r\n$4\r\nPING\r\n";
            repl_master_feed_raw(ping, sizeof(ping) - 1);
        }
    }
    long long nowms = mstime();
    for (struct replica *r = replicas; r; r = r->next) {
        /* an ACK or, from a replica still loading, a newline (Redis's
         * repl_ack_time counts both) */
        if (r->attached && !r->rdb_only && srv.repl_timeout > 0 &&
            nowms - r->ack_time_ms > srv.repl_timeout * 1000 && now - r->c->last_interaction > srv.repl_timeout) {
            server_log(LL_WARNING, "Disconnecting timedout replica: %s:%d", r->ip, r->port);
            client_close_async(r->c);
        }
    }
    if (!n && !repl_is_replica() && repl_backlog_exists() && srv.repl_backlog_ttl > 0 && no_replicas_since &&
        now - no_replicas_since > srv.repl_backlog_ttl) {
        /* Redis 7.0: a new id, replid2 cleared, then the backlog goes */
        repl_change_replid();
        repl_clear_replid2();
        repl_backlog_free();
        server_log(LL_NOTICE, "Replication backlog freed after %lld seconds without connected replicas.",
                   srv.repl_backlog_ttl);
    }
}

static long long stream_offset(void) { return repl.master_repl_offset; }

/* WAITAOF's waiters look again once the AOF wrote and fsynced (always) */
static void after_commit(void)
{
    if (waiters)
        wake_waiters();
}

void repl_master_register(void)
{
    propagate_register(master_feed, master_wants_feed, NULL);
    hooks_on_link_free(on_link_free);
    hooks_on_cron(master_cron);
    hooks_on_after_commit(after_commit);
    aof_on_stream_offset(stream_offset);
    hooks_on_write_refusal(30, noreplicas_refusal);
}

void repl_master_disconnect_replicas(void)
{
    /* the ones still in their full sync too: their snapshot is of the
     * history this server is leaving */
    for (struct replica *r = replicas; r; r = r->next)
        if (r->attached || r->sync_state != REPL_SYNC_NONE)
            client_close_async(r->c);
}

void repl_master_reset_stream_db(void) { stream_db = -1; }

int repl_master_stream_db(void) { return stream_db < 0 ? 0 : stream_db; }

void repl_master_send_getack(void)
{
    static const char getack[] = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n";
    /* it is part of the stream (the backlog and the offsets count it), as
     * in Redis, or the replicas' offsets would not match the master's */
    if (repl_master_replica_count() && repl_backlog_exists() && !repl_is_replica())
        repl_master_feed_raw(getack, sizeof(getack) - 1);
}

int repl_master_replicas(struct repl_replica_view *out, int max)
{
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next) {
        if (r->rdb_only || (!r->attached && r->sync_state == REPL_SYNC_NONE))
            continue;
        if (n < max) {
            struct repl_replica_view *v = &out[n];
            memset(v, 0, sizeof(*v));
            v->client_id = r->c->id;
            v->ip = r->ip;
            v->port = r->port;
            v->state = r->attached ? "online" : r->sync_state == REPL_SYNC_SEND ? "send_bulk" : "wait_bgsave";
            v->online = r->attached;
            v->ack_offset = r->ack_offset;
            v->ack_time_ms = r->ack_time_ms;
        }
        n++;
    }
    return n;
}

int repl_master_replica_count(void)
{
    int n = 0;
    for (struct replica *r = replicas; r; r = r->next)
        n += (r->attached || r->sync_state != REPL_SYNC_NONE) && !r->rdb_only;
    return n;
}

const struct command_impl repl_master_commands[] = {
    {"sync", sync_command},
    {"psync", sync_command},
    {"replconf", replconf_command},
    {"wait", wait_command},
    {"waitaof", waitaof_command},
    {NULL, NULL},
};
