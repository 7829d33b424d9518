/* test_repl_replica.c - Sluice as a replica, of redis-server 7.0 and of
 * Sluice, proven against the master's own view of its data:
 *
 *  - a Sluice replica of a redis-server master: full sync both ways the
 *    master sends it (diskless `$EOF:` and disk-backed `$<len>`), into a
 *    file or into memory (repl-diskless-load swapdb); DEBUG DIGEST equal to
 *    the master's; the stream after it (SELECT, MULTI, expiries as
 *    absolute times);
 *  - INFO replication on the replica: Redis 7.0's fields in its order
 *    (compared with a redis-server replica of the same master); ROLE;
 *  - -READONLY for writes (and EXECABORT in MULTI), reads served;
 *  - expiry on a replica: a logically expired key is hidden from reads
 *    but stays until the master's DEL comes;
 *  - the link killed: partial resync (+CONTINUE, sync_partial_ok);
 *  - replica-serve-stale-data no: -MASTERDOWN while the link is down;
 *  - REPLICAOF errors and "Already connected"; a client blocked in BLPOP
 *    is told -UNBLOCKED when its server becomes a replica;
 *  - a chain Sluice -> Sluice -> Sluice under a workload of lists,
 *    streams and groups: every digest equal; WAIT and acks all answered
 *    by a Sluice replica's GETACK reply; promotion with REPLICAOF NO ONE:
 *    the chained replica and the old master continue partially, with
 *    replid2;
 *  - a replica with appendonly yes: its AOF starts over from the synced
 *    data, so a restart finds it;
 *  - kill -9 of a master at acks all under a pipelined load with two
 *    Sluice replicas: both have every acknowledged write in order, the one
 *    furthest ahead is promoted, the other follows it partially, the old
 *    master rejoins;
 *  - FAILOVER: Redis's errors; a timeout and ABORT give the writes held
 *    meanwhile back; the switchover itself: roles swapped, no full sync,
 *    a write sent during it refused with -READONLY, digests equal;
 *  - a replica restarted from its RDB continues partially (repl-id,
 *    repl-offset and repl-stream-db aux fields), of Sluice and of Redis.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"

static char *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char *s;
    if (!r)
        s = strdup("(io error)");
    else if (r->type == REDIS_REPLY_INTEGER)
        (void)!asprintf(&s, "%lld", r->integer);
    else if (r->type == REDIS_REPLY_NIL)
        s = strdup("(nil)");
    else if (r->str)
        s = strdup(r->str);
    else
        (void)!asprintf(&s, "(type %d, %zu elements)", r->type, r->elements);
    if (r)
        freeReplyObject(r);
    return s;
}

static int expect(redisContext *c, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char num[32];
    const char *got = !r ? "(io error)" : r->str ? r->str : r->type == REDIS_REPLY_NIL ? "(nil)" : "(other)";
    if (r && r->type == REDIS_REPLY_INTEGER) {
        snprintf(num, sizeof(num), "%lld", r->integer);
        got = num;
    }
    int eq = !strcmp(got, want);
    if (!eq)
        tap_diag("got '%s', want '%s'", got, want);
    if (r)
        freeReplyObject(r);
    return eq;
}

static int wait_link_up(redisContext *c, int ms)
{
    long long deadline = harness_now_ms() + ms;
    char buf[32];
    do {
        if (!strcmp(harness_info_str(c, "replication", "master_link_status", buf, sizeof(buf)), "up") &&
            harness_info_field(c, "replication", "master_sync_in_progress") == 0)
            return 1;
        harness_sleep_ms(20);
    } while (harness_now_ms() < deadline);
    return 0;
}

/* The replica has applied everything the master has sent so far. */
static int wait_caught_up(redisContext *m, redisContext *r, int ms)
{
    /* at least: the master may add a PING or GETACK meanwhile */
    long long want = harness_info_field(m, "replication", "master_repl_offset");
    long long deadline = harness_now_ms() + ms;
    do {
        if (harness_info_field(r, "replication", "slave_repl_offset") >= want)
            return 1;
        harness_sleep_ms(20);
    } while (harness_now_ms() < deadline);
    tap_diag("replica at %lld, master was at %lld", harness_info_field(r, "replication", "slave_repl_offset"), want);
    return 0;
}

static int same_digest(redisContext *a, redisContext *b)
{
    char *da = cmd(a, "DEBUG DIGEST"), *db = cmd(b, "DEBUG DIGEST");
    int eq = !strcmp(da, db) && strlen(da) == 40;
    if (!eq)
        tap_diag("digests differ: %s vs %s", da, db);
    free(da);
    free(db);
    return eq;
}

/* INFO replication's field names, in order, with the values dropped. */
static char *field_names(redisContext *c)
{
    char *info = cmd(c, "INFO replication");
    size_t cap = strlen(info) + 1, n = 0;
    char *out = calloc(1, cap);
    for (char *line = strtok(info, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        char *colon = strchr(line, ':');
        if (!colon || line[0] == '#')
            continue;
        n += (size_t)snprintf(out + n, cap - n, "%.*s,", (int)(colon - line), line);
    }
    free(info);
    return out;
}

static void start_replica_of(struct proc *p, const char *bin, const char *name, int master_port,
                             const char *const *more)
{
    char dir[400], port[16];
    proc_make_dir(dir, sizeof(dir), name);
    snprintf(port, sizeof(port), "%d", master_port);
    const char *args[16] = {"--replicaof", "127.0.0.1", port};
    int n = 3;
    for (int i = 0; more && more[i] && n < 15; i++)
        args[n++] = more[i];
    args[n] = NULL;
    if (proc_start(p, bin, dir, args, 60000) != 0)
        p->pid = 0;
}

/* ---- of a redis-server master ---- */

static void fill(redisContext *m)
{
    free(cmd(m, "RPUSH q a b c d"));
    free(cmd(m, "SET k v"));
    free(cmd(m, "SET later v PX 600000"));
    free(cmd(m, "XADD s 1-1 f v"));
    free(cmd(m, "XADD s 2-1 f w"));
    free(cmd(m, "XGROUP CREATE s g 0"));
    free(cmd(m, "XREADGROUP GROUP g alice COUNT 1 STREAMS s >"));
    free(cmd(m, "SELECT 5"));
    free(cmd(m, "SET in5 yes"));
    free(cmd(m, "SELECT 0"));
}

static void of_redis(const char *rs, const char *name, const char *const *mextra, const char *const *rextra)
{
    char mdir[400], rlog[600];
    proc_make_dir(mdir, sizeof(mdir), name);
    struct proc m, r;
    if (proc_start(&m, rs, mdir, mextra, 20000) != 0) {
        ok(0, "%s: redis-server master starts", name);
        return;
    }
    redisContext *mc = proc_conn(&m);
    fill(mc);
    char rname[64];
    snprintf(rname, sizeof(rname), "%s-replica", name);
    start_replica_of(&r, harness_server_path(), rname, m.port, rextra);
    if (!r.pid) {
        ok(0, "%s: sluice starts as a replica", name);
        proc_stop(&m);
        return;
    }
    snprintf(rlog, sizeof(rlog), "%s/sluice.log", r.dir);
    redisContext *rc = proc_conn(&r);
    ok(wait_link_up(rc, 30000), "%s: the link comes up after the full sync", name);
    ok(wait_caught_up(mc, rc, 10000), "%s: slave_repl_offset reaches the master's offset", name);
    ok(same_digest(mc, rc), "%s: DEBUG DIGEST equals the master's", name);
    ok(expect(rc, "a", "LINDEX q 0") && expect(rc, "2", "XLEN s"), "%s: lists and streams are there", name);
    ok(harness_info_field(mc, "stats", "sync_full") == 1, "%s: the master counted one full sync", name);

    /* the stream: writes in two databases, MULTI, an expiry */
    free(cmd(mc, "RPUSH q e"));
    free(cmd(mc, "SELECT 5"));
    free(cmd(mc, "MULTI"));
    free(cmd(mc, "INCR n"));
    free(cmd(mc, "INCR n"));
    free(cmd(mc, "EXEC"));
    free(cmd(mc, "SELECT 0"));
    free(cmd(mc, "XACK s g 1-1"));
    ok(wait_caught_up(mc, rc, 10000), "%s: the stream's writes arrive", name);
    ok(same_digest(mc, rc), "%s: digests still equal after the stream", name);
    ok(expect(rc, "OK", "SELECT 5") && expect(rc, "2", "GET n") && expect(rc, "OK", "SELECT 0"),
       "%s: MULTI/EXEC in db 5 applied", name);
    ok(harness_file_contains(rlog, "MASTER <-> REPLICA sync: Finished with success"),
       "%s: the replica logged a successful sync", name);
    redisFree(rc);
    redisFree(mc);
    proc_stop(&r);
    proc_stop(&m);
}

/* ---- behaviour on a replica, with redis-server as the master ---- */

static void behaviour(const char *rs)
{
    char mdir[400];
    proc_make_dir(mdir, sizeof(mdir), "behaviour");
    const char *margs[] = {"--repl-diskless-sync-delay", "0", NULL};
    struct proc m, r, rr;
    if (proc_start(&m, rs, mdir, margs, 20000) != 0) {
        ok(0, "behaviour: redis-server master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    free(cmd(mc, "SET k v"));
    start_replica_of(&r, harness_server_path(), "behaviour-sluice", m.port, NULL);
    start_replica_of(&rr, rs, "behaviour-redis", m.port, NULL);
    if (!r.pid || !rr.pid) {
        ok(0, "behaviour: both replicas start");
        proc_stop(&m);
        return;
    }
    redisContext *rc = proc_conn(&r), *rrc = proc_conn(&rr);
    ok(wait_link_up(rc, 30000) && wait_link_up(rrc, 30000), "behaviour: both replicas are up");

    /* INFO replication: the fields redis-server's replica prints, in order */
    char *ours = field_names(rc), *theirs = field_names(rrc);
    is_str(ours, theirs, "INFO replication on a replica: Redis 7.0's fields in its order");
    free(ours);
    free(theirs);
    char buf[64];
    ok(!strcmp(harness_info_str(rc, "replication", "role", buf, sizeof(buf)), "slave"), "role:slave");
    ok(harness_info_field(rc, "replication", "master_port") == m.port, "master_port is the master's");
    ok(harness_info_field(rc, "replication", "master_last_io_seconds_ago") >= 0,
       "master_last_io_seconds_ago is a number of seconds");
    redisReply *role = redisCommand(rc, "ROLE");
    ok(role && role->type == REDIS_REPLY_ARRAY && role->elements == 5 && !strcmp(role->element[0]->str, "slave") &&
           role->element[2]->integer == m.port && !strcmp(role->element[3]->str, "connected"),
       "ROLE: slave, host, port, connected, offset");
    if (role)
        freeReplyObject(role);

    /* read-only */
    char *v = cmd(rc, "SET x y");
    is_str(v, "READONLY You can't write against a read only replica.", "a write on the replica: -READONLY");
    free(v);
    ok(expect(rc, "v", "GET k") && expect(rc, "PONG", "PING"), "reads and PING are served");
    free(cmd(rc, "MULTI"));
    v = cmd(rc, "LPUSH l x");
    is_str(v, "READONLY You can't write against a read only replica.", "... inside MULTI too");
    free(v);
    v = cmd(rc, "EXEC");
    ok(!strncmp(v, "EXECABORT", 9), "... and EXEC aborts (%s)", v);
    free(v);

    /* expiry: the master decides */
    free(cmd(mc, "DEBUG SET-ACTIVE-EXPIRE 0"));
    free(cmd(mc, "SET soon v PX 200"));
    ok(wait_caught_up(mc, rc, 10000), "a key with a TTL reaches the replica");
    ok(expect(rc, "v", "GET soon"), "... readable before it expires");
    harness_sleep_ms(400);
    ok(expect(rc, "(nil)", "GET soon") && expect(rc, "0", "EXISTS soon"), "expired on the replica: hidden from reads");
    ok(expect(rc, "2", "DBSIZE"), "... but still there: the replica does not delete it (DBSIZE 2)");
    free(cmd(mc, "GET soon")); /* the master expires it and sends DEL */
    ok(wait_caught_up(mc, rc, 10000) && expect(rc, "1", "DBSIZE"), "the master's DEL removes it (DBSIZE 1)");
    free(cmd(mc, "DEBUG SET-ACTIVE-EXPIRE 1"));

    /* the link killed: partial resync */
    long long partial = harness_info_field(mc, "stats", "sync_partial_ok");
    free(cmd(rc, "CLIENT KILL TYPE master"));
    free(cmd(mc, "SET during gap"));
    ok(harness_wait_info_field(mc, "stats", "sync_partial_ok", partial + 1, 20000),
       "after CLIENT KILL TYPE master the replica continues (+CONTINUE, sync_partial_ok +1)");
    ok(wait_link_up(rc, 20000) && wait_caught_up(mc, rc, 10000) && expect(rc, "gap", "GET during"),
       "the write made meanwhile arrives");
    ok(harness_info_field(mc, "stats", "sync_full") == 2, "no further full sync (two replicas, two full syncs)");
    ok(same_digest(mc, rc), "digest equal to the master's");

    /* REPLICAOF replies */
    char port[16];
    snprintf(port, sizeof(port), "%d", m.port);
    ok(expect(rc, "OK Already connected to specified master", "REPLICAOF 127.0.0.1 %s", port),
       "REPLICAOF to the same master: +OK Already connected to specified master");
    v = cmd(rc, "REPLICAOF 127.0.0.1 70000");
    is_str(v, "ERR Invalid master port", "REPLICAOF with port 70000: Redis's error");
    free(v);
    v = cmd(rc, "REPLICAOF 127.0.0.1 nope");
    is_str(v, "ERR Invalid master port", "REPLICAOF with a non-numeric port: the same error");
    free(v);
    v = cmd(rc, "REPLICAOF a");
    is_str(v, "ERR wrong number of arguments for 'replicaof' command", "REPLICAOF with one argument: arity");
    free(v);

    /* promotion, then a blocked client told when it becomes a replica again */
    ok(expect(rc, "OK", "REPLICAOF NO ONE"), "REPLICAOF NO ONE");
    ok(!strcmp(harness_info_str(rc, "replication", "role", buf, sizeof(buf)), "master"), "... role:master");
    char id2[64], was[64];
    harness_info_str(rc, "replication", "master_replid2", id2, sizeof(id2));
    harness_info_str(mc, "replication", "master_replid", was, sizeof(was));
    is_str(id2, was, "... master_replid2 is the old master's id");
    ok(expect(rc, "OK", "SET now writable"), "... and writes are accepted");
    redisContext *blocked = proc_conn(&r);
    redisAppendCommand(blocked, "BLPOP nothing 0");
    int done = 0;
    while (!done && redisBufferWrite(blocked, &done) == REDIS_OK) {
    }
    ok(harness_wait_info_field(rc, "clients", "blocked_clients", 1, 5000), "a client blocks in BLPOP");
    ok(expect(rc, "OK", "REPLICAOF 127.0.0.1 %s", port), "REPLICAOF the old master again");
    redisReply *br = NULL;
    redisGetReply(blocked, (void **)&br);
    ok(br && br->type == REDIS_REPLY_ERROR &&
           !strcmp(br->str, "UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
                            "replica?)"),
       "the blocked client gets -UNBLOCKED (%s)", br && br->str ? br->str : "?");
    if (br)
        freeReplyObject(br);
    redisFree(blocked);
    ok(wait_link_up(rc, 30000) && wait_caught_up(mc, rc, 10000) && same_digest(mc, rc),
       "back as a replica: synced again, digest equal (its own write is gone)");

    /* replica-serve-stale-data no: with the link down, data commands are refused */
    ok(expect(rc, "OK", "CONFIG SET replica-serve-stale-data no") && expect(rc, "v", "GET k"),
       "replica-serve-stale-data no: served while the link is up");
    free(cmd(rrc, "CONFIG SET replica-serve-stale-data no"));
    /* a transaction queued while the link was up, EXEC'd once it is down:
     * on both replicas (Redis refuses the EXEC, the transaction stays
     * flagged, the next EXEC aborts) */
    redisContext *tx = proc_conn(&r), *rtx = proc_conn(&rr);
    free(cmd(tx, "MULTI"));
    free(cmd(tx, "GET k"));
    free(cmd(rtx, "MULTI"));
    free(cmd(rtx, "GET k"));
    redisFree(mc);
    mc = NULL;
    proc_stop(&m);
    long long deadline = harness_now_ms() + 20000;
    while ((strcmp(harness_info_str(rc, "replication", "master_link_status", buf, sizeof(buf)), "down") ||
            strcmp(harness_info_str(rrc, "replication", "master_link_status", buf, sizeof(buf)), "down")) &&
           harness_now_ms() < deadline)
        harness_sleep_ms(20);
    harness_sleep_ms(300); /* the cron's refresh */
    v = cmd(rc, "GET k");
    is_str(v, "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
           "the master gone: GET gets -MASTERDOWN");
    free(v);
    char *e1 = cmd(tx, "EXEC"), *re1 = cmd(rtx, "EXEC");
    is_str(e1, re1, "EXEC of a transaction queued before the link went down: as redis-server (%s)", re1);
    char *e2 = cmd(tx, "EXEC"), *re2 = cmd(rtx, "EXEC");
    is_str(e2, re2, "... and the EXEC after it: as redis-server (%s)", re2);
    free(e1);
    free(re1);
    free(e2);
    free(re2);
    redisFree(tx);
    redisFree(rtx);
    redisFree(rrc);
    rrc = NULL;
    proc_stop(&rr);
    ok(harness_info_field(rc, "replication", "master_link_down_since_seconds") >= 0,
       "INFO is still served (master_link_down_since_seconds)");
    ok(expect(rc, "OK", "CONFIG SET replica-serve-stale-data yes") && (harness_sleep_ms(300), expect(rc, "v", "GET k")),
       "replica-serve-stale-data yes: the stale data is served again");

    redisFree(rc);
    proc_stop(&r);
}

/* ---- Sluice -> Sluice -> Sluice ---- */

static void workload(redisContext *c, int round)
{
    for (int i = 0; i < 50; i++) {
        free(cmd(c, "RPUSH jobs:%d job-%d-%d", i % 5, round, i));
        free(cmd(c, "XADD events * n %d r %d", i, round));
    }
    free(cmd(c, "LPOP jobs:0"));
    free(cmd(c, "RPOPLPUSH jobs:1 done"));
    free(cmd(c, "XGROUP CREATE events workers 0 MKSTREAM"));
    free(cmd(c, "XREADGROUP GROUP workers w1 COUNT 7 STREAMS events >"));
    free(cmd(c, "SET counter 0"));
    free(cmd(c, "MULTI"));
    free(cmd(c, "INCRBY counter 5"));
    free(cmd(c, "EXPIRE counter 1000"));
    free(cmd(c, "EXEC"));
    free(cmd(c, "SET gone x PX 50"));
    /* its DEL is in the stream before the workload returns, so a quiet
     * stream after it stays quiet (the promotion below relies on it) */
    harness_sleep_ms(60);
    free(cmd(c, "EXISTS gone"));
}

static void chain(void)
{
    char mdir[400];
    proc_make_dir(mdir, sizeof(mdir), "chain-master");
    struct proc m, r1, r2;
    if (proc_start_sluice(&m, mdir, NULL) != 0) {
        ok(0, "chain: sluice master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    workload(mc, 0);
    start_replica_of(&r1, harness_server_path(), "chain-r1", m.port, NULL);
    if (!r1.pid) {
        ok(0, "chain: first replica starts");
        proc_stop(&m);
        return;
    }
    redisContext *c1 = proc_conn(&r1);
    ok(wait_link_up(c1, 30000), "chain: sluice replica of sluice is up");
    start_replica_of(&r2, harness_server_path(), "chain-r2", r1.port, NULL);
    redisContext *c2 = r2.pid ? proc_conn(&r2) : NULL;
    ok(c2 && wait_link_up(c2, 30000), "chain: a replica of the replica is up");
    if (!c2) {
        proc_stop(&r1);
        proc_stop(&m);
        return;
    }
    workload(mc, 1);
    /* a blocked pop served on the master reaches the replicas as a plain pop */
    redisContext *b = proc_conn(&m);
    redisAppendCommand(b, "BLPOP wakeme 0");
    int done = 0;
    while (!done && redisBufferWrite(b, &done) == REDIS_OK) {
    }
    harness_wait_info_field(mc, "clients", "blocked_clients", 1, 5000);
    free(cmd(mc, "RPUSH wakeme one two"));
    redisReply *br = NULL;
    redisGetReply(b, (void **)&br);
    ok(br && br->type == REDIS_REPLY_ARRAY, "chain: BLPOP served on the master");
    if (br)
        freeReplyObject(br);
    redisFree(b);
    ok(wait_caught_up(mc, c1, 10000) && wait_caught_up(mc, c2, 10000),
       "chain: both replicas reach the master's offset");
    ok(same_digest(mc, c1) && same_digest(mc, c2), "chain: all three digests equal after the workload");
    ok(expect(c2, "1", "LLEN wakeme"), "chain: the served BLPOP took one element on the replicas too");

    /* WAIT is answered by the replica's reply to GETACK */
    ok(expect(mc, "1", "WAIT 1 5000"), "chain: WAIT 1 is answered by the sluice replica's ACK");
    free(cmd(mc, "CLIENT ACKS all"));
    ok(harness_wait_info_field(mc, "isr", "isr_size", 2, 10000), "chain: the sluice replica is in the ISR");
    ok(expect(mc, "OK", "SET acked yes"), "chain: a write at acks all is acknowledged");
    ok(expect(c1, "yes", "GET acked"), "... and was already on the replica");

    /* promotion of the middle replica */
    char oldid[64];
    harness_info_str(mc, "replication", "master_replid", oldid, sizeof(oldid));
    long long p1 = harness_info_field(c1, "stats", "sync_partial_ok");
    /* the old master must continue partially below: the promoted replica
     * has to have its whole history (no PING may slip in between) */
    free(cmd(mc, "CONFIG SET repl-ping-replica-period 3600"));
    ok(wait_caught_up(mc, c1, 10000) && wait_caught_up(mc, c2, 10000), "chain: both replicas caught up");
    ok(expect(c1, "OK", "REPLICAOF NO ONE"), "chain: REPLICAOF NO ONE on the middle replica");
    ok(harness_wait_info_field(c1, "stats", "sync_partial_ok", p1 + 1, 20000),
       "chain: its replica continues partially (replid2)");
    char id2[64];
    harness_info_str(c2, "replication", "master_replid2", id2, sizeof(id2));
    is_str(id2, oldid, "chain: the chained replica's master_replid2 is the old history's id");
    free(cmd(c1, "RPUSH after promotion"));
    char port[16];
    snprintf(port, sizeof(port), "%d", r1.port);
    ok(expect(mc, "OK", "REPLICAOF 127.0.0.1 %s", port), "chain: the old master becomes a replica of the new one");
    ok(harness_wait_info_field(c1, "stats", "sync_partial_ok", p1 + 2, 20000),
       "chain: ... and continues partially too");
    ok(wait_link_up(mc, 20000) && wait_caught_up(c1, mc, 10000) && wait_caught_up(c1, c2, 10000),
       "chain: both reach the new master's offset");
    ok(same_digest(c1, mc) && same_digest(c1, c2) && expect(mc, "promotion", "LINDEX after 0"),
       "chain: digests equal, the new master's write everywhere");
    ok(harness_info_field(c1, "stats", "sync_full") == 1, "chain: the new master made only its one full sync");
    redisFree(c2);
    redisFree(c1);
    redisFree(mc);
    proc_stop(&r2);
    proc_stop(&r1);
    proc_stop(&m);
}

/* ---- a replica's AOF after a full sync ---- */

static void replica_aof(void)
{
    char mdir[400];
    proc_make_dir(mdir, sizeof(mdir), "aof-master");
    struct proc m, r;
    if (proc_start_sluice(&m, mdir, NULL) != 0) {
        ok(0, "aof: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    for (int i = 0; i < 100; i++)
        free(cmd(mc, "RPUSH synced %d", i));
    const char *rargs[] = {"--appendonly", "yes", NULL};
    start_replica_of(&r, harness_server_path(), "aof-replica", m.port, rargs);
    redisContext *rc = r.pid ? proc_conn(&r) : NULL;
    ok(rc && wait_link_up(rc, 30000), "aof: a replica with appendonly yes syncs");
    if (!rc) {
        proc_stop(&m);
        return;
    }
    free(cmd(mc, "RPUSH streamed x"));
    ok(wait_caught_up(mc, rc, 10000), "aof: the stream arrives");
    ok(harness_wait_info_field(rc, "persistence", "aof_rewrite_in_progress", 0, 20000) &&
           harness_wait_info_field(rc, "persistence", "aof_rewrite_scheduled", 0, 20000),
       "aof: the AOF rewrite after the sync finished");
    free(cmd(mc, "RPUSH streamed y"));
    ok(wait_caught_up(mc, rc, 10000), "aof: a write after the rewrite arrives");
    redisFree(rc);
    /* restarted without its master, it must have everything from its AOF */
    proc_stop(&r);
    const char *alone[] = {"--appendonly", "yes", NULL};
    struct proc again;
    if (proc_start_sluice(&again, r.dir, alone) != 0) {
        ok(0, "aof: the replica restarts");
        proc_stop(&m);
        return;
    }
    rc = proc_conn(&again);
    ok(expect(rc, "100", "LLEN synced") && expect(rc, "2", "LLEN streamed"),
       "aof: after a restart the synced data and the stream are there (from the AOF)");
    redisFree(rc);
    redisFree(mc);
    proc_stop(&again);
    proc_stop(&m);
}

/* ---- a restarted replica continues from the history in its RDB ---- */

static void restart_partial(const char *master_bin, const char *name)
{
    char mdir[400], rname[64];
    proc_make_dir(mdir, sizeof(mdir), name);
    struct proc m, r;
    const char *margs[] = {"--repl-diskless-sync-delay", "0", NULL};
    if (proc_start(&m, master_bin, mdir, margs, 20000) != 0) {
        ok(0, "%s: master starts", name);
        return;
    }
    redisContext *mc = proc_conn(&m);
    free(cmd(mc, "SELECT 3"));
    free(cmd(mc, "SET before restart"));
    snprintf(rname, sizeof(rname), "%s-replica", name);
    start_replica_of(&r, harness_server_path(), rname, m.port, NULL);
    redisContext *rc = r.pid ? proc_conn(&r) : NULL;
    ok(rc && wait_link_up(rc, 30000) && wait_caught_up(mc, rc, 10000), "%s: the replica is in sync", name);
    if (!rc) {
        proc_stop(&m);
        return;
    }
    ok(expect(rc, "OK", "SAVE"), "%s: SAVE on the replica (its RDB holds repl-id and repl-offset)", name);
    redisFree(rc);
    proc_stop(&r);
    /* the stream goes on in db 3 without a new SELECT */
    free(cmd(mc, "SET during downtime"));
    long long partial = harness_info_field(mc, "stats", "sync_partial_ok");
    long long full = harness_info_field(mc, "stats", "sync_full");
    char port[16];
    snprintf(port, sizeof(port), "%d", m.port);
    const char *again_args[] = {"--replicaof", "127.0.0.1", port, NULL};
    struct proc again;
    if (proc_start(&again, harness_server_path(), r.dir, again_args, 60000) != 0) {
        ok(0, "%s: the replica restarts", name);
        proc_stop(&m);
        return;
    }
    rc = proc_conn(&again);
    ok(harness_wait_info_field(mc, "stats", "sync_partial_ok", partial + 1, 20000),
       "%s: the restarted replica continues partially (sync_partial_ok +1)", name);
    ok(harness_info_field(mc, "stats", "sync_full") == full, "%s: ... with no full sync", name);
    ok(wait_link_up(rc, 20000) && wait_caught_up(mc, rc, 10000) && expect(rc, "OK", "SELECT 3") &&
           expect(rc, "downtime", "GET during") && expect(rc, "restart", "GET before"),
       "%s: the write made while it was down lands in db 3 (repl-stream-db)", name);
    ok(same_digest(mc, rc), "%s: digest equal to the master's", name);
    redisFree(rc);
    redisFree(mc);
    proc_stop(&again);
    proc_stop(&m);
}

/* ---- kill -9 of the master under acks all, then promotion ---- */

static int read_acks(redisContext *c, int *acked, int upto)
{
    int in_order = 1;
    while (*acked < upto) {
        redisReply *x = NULL;
        if (redisGetReply(c, (void **)&x) != REDIS_OK || !x)
            break;
        in_order &= x->type == REDIS_REPLY_INTEGER && x->integer == *acked + 1;
        freeReplyObject(x);
        (*acked)++;
    }
    return in_order;
}

static void failover(void)
{
    char mdir[400];
    proc_make_dir(mdir, sizeof(mdir), "failover-master");
    struct proc m, r1, r2;
    const char *margs[] = {"--acks", "all", "--min-insync-replicas", "2", NULL};
    if (proc_start_sluice(&m, mdir, margs) != 0) {
        ok(0, "failover: master starts");
        return;
    }
    start_replica_of(&r1, harness_server_path(), "failover-r1", m.port, NULL);
    start_replica_of(&r2, harness_server_path(), "failover-r2", m.port, NULL);
    redisContext *mc = proc_conn(&m), *c1 = r1.pid ? proc_conn(&r1) : NULL, *c2 = r2.pid ? proc_conn(&r2) : NULL;
    ok(c1 && c2 && harness_wait_info_field(mc, "isr", "isr_size", 3, 20000),
       "failover: two sluice replicas in the ISR (isr_size:3)");
    if (!c1 || !c2) {
        proc_stop(&m);
        return;
    }
    /* batches of 200 pipelined writes, each read back before the next,
     * while another process kills the master 300 ms into the load */
    pid_t killer = fork();
    if (killer == 0) {
        harness_sleep_ms(300);
        kill(m.pid, SIGKILL);
        _exit(0);
    }
    int sent = 0, acked = 0, in_order = 1;
    while (sent < 2000000) {
        for (int i = 0; i < 200; i++)
            redisAppendCommand(mc, "RPUSH load %d", sent++);
        int done = 0;
        while (!done && redisBufferWrite(mc, &done) == REDIS_OK) {
        }
        int before = acked;
        in_order &= read_acks(mc, &acked, sent);
        if (acked - before < 200)
            break; /* the master is gone */
    }
    waitpid(killer, NULL, 0);
    proc_kill9(&m);
    ok(in_order && acked > 0 && acked < sent, "failover: killed mid-load, replies in order until then (%d acknowledged of %d sent)", acked, sent);
    /* promote the replica that got furthest (as Sentinel does); the other follows it */
    /* once a replica sees its link down it has applied all it read */
    char st[32];
    long long until = harness_now_ms() + 20000;
    while ((strcmp(harness_info_str(c1, "replication", "master_link_status", st, sizeof(st)), "down") ||
            strcmp(harness_info_str(c2, "replication", "master_link_status", st, sizeof(st)), "down")) &&
           harness_now_ms() < until)
        harness_sleep_ms(20);
    int first = harness_info_field(c1, "replication", "slave_repl_offset") >=
                harness_info_field(c2, "replication", "slave_repl_offset");
    redisContext *pc = first ? c1 : c2, *fc = first ? c2 : c1;
    int pport = first ? r1.port : r2.port;
    ok(expect(pc, "OK", "REPLICAOF NO ONE"), "failover: REPLICAOF NO ONE on the replica furthest ahead");
    char want[16], port[16];
    snprintf(want, sizeof(want), "%d", acked - 1);
    int all = 1;
    for (int i = 0; i < 2; i++) {
        redisContext *x = i ? fc : pc;
        redisReply *len = redisCommand(x, "LLEN load");
        long long on = len && len->type == REDIS_REPLY_INTEGER ? len->integer : -1;
        if (len)
            freeReplyObject(len);
        if (on < acked || !expect(x, want, "LINDEX load %d", acked - 1)) {
            tap_diag("replica %d has %lld of %d acknowledged writes", i, on, acked);
            all = 0;
        }
    }
    ok(all, "failover: both replicas have every acknowledged write, in order (%d)", acked);
    snprintf(port, sizeof(port), "%d", pport);
    long long partial = harness_info_field(pc, "stats", "sync_partial_ok");
    ok(expect(fc, "OK", "REPLICAOF 127.0.0.1 %s", port), "failover: the other replica follows the new master");
    int cont = harness_wait_info_field(pc, "stats", "sync_partial_ok", partial + 1, 20000);
    if (!cont)
        tap_diag("sync_partial_ok %lld, sync_full %lld", harness_info_field(pc, "stats", "sync_partial_ok"),
                 harness_info_field(pc, "stats", "sync_full"));
    ok(cont && wait_link_up(fc, 30000) && wait_caught_up(pc, fc, 20000) && same_digest(pc, fc),
       "failover: ... partially (replid2), and their digests are equal");
    free(cmd(pc, "RPUSH load after"));
    ok(wait_caught_up(pc, fc, 10000) && expect(fc, "after", "LINDEX load -1"), "failover: new writes flow on");
    /* the old master comes back empty (no persistence) and rejoins as a replica */
    const char *back[] = {"--replicaof", "127.0.0.1", port, NULL};
    struct proc again;
    redisContext *ac = proc_start_sluice(&again, m.dir, back) == 0 ? proc_conn(&again) : NULL;
    ok(ac && wait_link_up(ac, 30000) && wait_caught_up(pc, ac, 10000) && same_digest(pc, ac),
       "failover: the old master rejoins as a replica of the new one, digest equal");
    if (ac) {
        redisFree(ac);
        proc_stop(&again);
    }
    redisFree(mc);
    redisFree(c1);
    redisFree(c2);
    proc_stop(&r2);
    proc_stop(&r1);
}

/* ---- FAILOVER: the coordinated switchover ---- */

static void coordinated_failover(void)
{
    char mdir[400];
    proc_make_dir(mdir, sizeof(mdir), "switch-master");
    struct proc m, r1, r2;
    if (proc_start_sluice(&m, mdir, NULL) != 0) {
        ok(0, "FAILOVER: master starts");
        return;
    }
    start_replica_of(&r1, harness_server_path(), "switch-r1", m.port, NULL);
    start_replica_of(&r2, harness_server_path(), "switch-r2", m.port, NULL);
    redisContext *mc = proc_conn(&m), *c1 = r1.pid ? proc_conn(&r1) : NULL, *c2 = r2.pid ? proc_conn(&r2) : NULL;
    ok(c1 && c2 && wait_link_up(c1, 30000) && wait_link_up(c2, 30000), "FAILOVER: two replicas up");
    if (!c1 || !c2) {
        proc_stop(&m);
        return;
    }
    static const struct {
        const char *cmd, *want;
    } errors[] = {
        {"FAILOVER ABORT", "ERR No failover in progress."},
        {"FAILOVER FORCE", "ERR FAILOVER with force option requires both a timeout and target HOST and IP."},
        {"FAILOVER TIMEOUT 0", "ERR FAILOVER timeout must be greater than 0"},
        {"FAILOVER TO 127.0.0.1 1", "ERR FAILOVER target HOST and PORT is not a replica."},
        {"FAILOVER BOGUS", "ERR syntax error"},
    };
    for (size_t i = 0; i < sizeof(errors) / sizeof(errors[0]); i++) {
        char *v = cmd(mc, errors[i].cmd);
        is_str(v, errors[i].want, "%s: Redis's error", errors[i].cmd);
        free(v);
    }
    char *v = cmd(c1, "FAILOVER");
    is_str(v, "ERR FAILOVER is not valid when server is a replica.", "FAILOVER on a replica: refused");
    free(v);
    for (int i = 0; i < 100; i++)
        free(cmd(mc, "RPUSH before %d", i));

    /* to a stopped replica, with a timeout: writes are held, then it aborts */
    char port1[16];
    snprintf(port1, sizeof(port1), "%d", r1.port);
    kill(r1.pid, SIGSTOP);
    free(cmd(mc, "RPUSH before 100")); /* r1 cannot have acknowledged this one */
    ok(expect(mc, "OK", "FAILOVER TO 127.0.0.1 %s TIMEOUT 500", port1), "FAILOVER TO a stopped replica TIMEOUT 500");
    char buf[64];
    is_str(harness_info_str(mc, "replication", "master_failover_state", buf, sizeof(buf)), "waiting-for-sync",
           "master_failover_state:waiting-for-sync");
    v = cmd(mc, "FAILOVER");
    is_str(v, "ERR FAILOVER already in progress.", "a second FAILOVER: already in progress");
    free(v);
    v = cmd(mc, "REPLICAOF NO ONE");
    is_str(v, "ERR REPLICAOF not allowed while failing over.", "REPLICAOF while failing over: refused");
    free(v);
    long long t0 = harness_now_ms();
    ok(expect(mc, "102", "RPUSH before held"), "a write is held, and runs once the failover is aborted");
    long long held = harness_now_ms() - t0;
    ok(held >= 300, "... it waited for the timeout (%lld ms)", held);
    is_str(harness_info_str(mc, "replication", "master_failover_state", buf, sizeof(buf)), "no-failover",
           "... and the state is no-failover again");
    kill(r1.pid, SIGCONT);
    ok(wait_caught_up(mc, c1, 10000), "the replica resumes and catches up");

    /* ABORT while waiting */
    kill(r1.pid, SIGSTOP);
    free(cmd(mc, "RPUSH before stopped"));
    ok(expect(mc, "OK", "FAILOVER TO 127.0.0.1 %s", port1) && expect(mc, "OK", "FAILOVER ABORT"),
       "FAILOVER then FAILOVER ABORT");
    ok(expect(mc, "104", "RPUSH before after-abort"), "writes are served again after ABORT");
    kill(r1.pid, SIGCONT);
    ok(wait_caught_up(mc, c1, 10000), "the replica catches up again");

    /* the switchover: a write sent meanwhile is refused, nothing is lost */
    long long full = harness_info_field(mc, "stats", "sync_full");
    ok(expect(mc, "OK", "FAILOVER TO 127.0.0.1 %s", port1), "FAILOVER TO the first replica");
    char *late = cmd(mc, "RPUSH before late");
    is_str(late, "READONLY You can't write against a read only replica.",
           "a write sent during the switchover is held, then refused as on a replica");
    free(late);
    ok(harness_wait_info_field(c1, "stats", "sync_partial_ok", 1, 20000),
       "the old master continues from the new one partially");
    ok(!strcmp(harness_info_str(c1, "replication", "role", buf, sizeof(buf)), "master") &&
           !strcmp(harness_info_str(mc, "replication", "role", buf, sizeof(buf)), "slave") &&
           harness_info_field(mc, "replication", "master_port") == r1.port,
       "roles swapped: the replica is the master, the old master its replica");
    ok(harness_info_field(c1, "stats", "sync_full") == 0 && harness_info_field(mc, "stats", "sync_full") == full,
       "no full sync anywhere");
    ok(wait_link_up(mc, 20000) && wait_caught_up(c1, mc, 10000) && same_digest(c1, mc) &&
           expect(c1, "104", "LLEN before"),
       "every write made before the switch is on the new master, digests equal");
    ok(wait_link_up(c2, 20000),
       "the other replica is linked again (to the old master, now a replica: a chain)");
    free(cmd(c1, "RPUSH before new-master"));
    ok(wait_caught_up(c1, mc, 10000) && wait_caught_up(c1, c2, 10000) && same_digest(c1, c2),
       "a write on the new master reaches both");
    redisFree(mc);
    redisFree(c1);
    redisFree(c2);
    proc_stop(&r2);
    proc_stop(&r1);
    proc_stop(&m);
}

int main(void)
{
    proc_init("replreplica");
    chain();
    replica_aof();
    failover();
    coordinated_failover();
    restart_partial(harness_server_path(), "restart-sluice");
    const char *rs = proc_redis_path();
    if (!rs) {
        tap_skip_dep("redis", "redis-server not installed: no redis master");
        return tap_done();
    }
    const char *diskless[] = {"--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0", NULL};
    const char *disk[] = {"--repl-diskless-sync", "no", NULL};
    const char *swapdb[] = {"--repl-diskless-load", "swapdb", NULL};
    of_redis(rs, "diskless", diskless, NULL);
    of_redis(rs, "disk", disk, NULL);
    of_redis(rs, "swapdb", diskless, swapdb);
    behaviour(rs);
    restart_partial(rs, "restart-redis");
    return tap_done();
}
