/* test_repl_fullsync.c - the master's full sync is a fork child's work:
 *
 *  - diskless, shared: with repl-diskless-sync-delay, a redis-server 7.0
 *    replica and a Sluice replica that arrive together wait (INFO
 *    state=wait_bgsave) and are served by one child (one "Starting BGSAVE
 *    for SYNC" in the log, sync_full 2); both digests equal the master's;
 *  - repl-diskless-sync-max-replicas 2 starts the child once two wait,
 *    with an hour of delay left;
 *  - the master keeps serving while the child runs (rdb-key-save-delay
 *    slows it): INFO shows rdb_bgsave_in_progress:1 and state=send_bulk,
 *    writes are answered meanwhile, and they reach the replica after its
 *    snapshot (digests equal);
 *  - a master that becomes a replica drops the replicas still in their
 *    full sync (and the child), which then sync the new history;
 *  - disk-backed (repl-diskless-sync no): the child writes dbfilename; a
 *    replica that arrives while it runs joins it ("Waiting for end of
 *    BGSAVE for SYNC", still one child); both replicas equal the master,
 *    and LASTSAVE is not moved by a transfer to replicas;
 *  - a replica killed in the middle of a diskless transfer: the child is
 *    killed with it (nobody reads its pipe), the master goes on, and the
 *    next replica syncs;
 *  - SYNC from a client without `capa eof` (the old protocol) gets a
 *    disk-backed transfer even under repl-diskless-sync yes;
 *  - a chained replica's own full sync: the stream it relays continues in
 *    the db its RDB names (repl-stream-db), not in db 0;
 *  - the replica's load of the payload serves clients (-LOADING, INFO
 *    loading:1) and keeps the link alive past the master's repl-timeout;
 *  - repl-diskless-load swapdb, a full sync of the same history: async
 *    loading (reads served from the old data, async_loading:1), then the
 *    new copy replaces it whole.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"







static int wait_count_in_file(const char *path, const char *needle, int want, int ms)
{
    long long deadline = harness_now_ms() + ms;
    do {
        if (harness_file_count(path, needle) >= want)
            return 1;
        harness_sleep_ms(20);
    } while (harness_now_ms() < deadline);
    return 0;
}

/* INFO replication of the master shows a slave line with state=<state>. */
static int wait_slave_state(redisContext *m, const char *state, int ms)
{
    char needle[64];
    snprintf(needle, sizeof(needle), "state=%s,", state);
    long long deadline = harness_now_ms() + ms;
    do {
        char *info = harness_cmd(m, "INFO replication");
        int found = strstr(info, needle) != NULL;
        free(info);
        if (found)
            return 1;
        harness_sleep_ms(10);
    } while (harness_now_ms() < deadline);
    return 0;
}

static int start_master(struct proc *m, char *log, size_t loglen, const char *name)
{
    char dir[400];
    proc_make_dir(dir, sizeof(dir), name);
    snprintf(log, loglen, "%s/sluice.log", dir);
    return proc_start_sluice(m, dir, NULL);
}

/* Start bin as a replica of port without waiting for its sync. */
static int start_replica(struct proc *r, const char *bin, const char *name, int port)
{
    char dir[400], mport[16];
    proc_make_dir(dir, sizeof(dir), name);
    snprintf(mport, sizeof(mport), "%d", port);
    const char *args[] = {"--replicaof", "127.0.0.1", mport, NULL};
    return proc_start(r, bin, dir, args, 20000);
}

static void diskless_shared(const char *rs)
{
    struct proc m, a, b;
    char log[460];
    if (start_master(&m, log, sizeof(log), "shared") != 0) {
        ok(0, "shared: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    harness_run(mc, "DEBUG POPULATE 2000 key 20");
    harness_run(mc, "RPUSH q a b c");
    harness_run(mc, "XADD s 1-1 f v");
    harness_run(mc, "CONFIG SET repl-diskless-sync-delay 3"); /* both replicas arrive within it, even on a slow machine */
    if (start_replica(&a, rs, "shared-redis", m.port) != 0 ||
        start_replica(&b, harness_server_path(), "shared-sluice", m.port) != 0) {
        ok(0, "shared: replicas start");
        proc_stop(&m);
        return;
    }
    ok(harness_wait_info_field(mc, "replication", "connected_slaves", 2, 10000) && wait_slave_state(mc, "wait_bgsave", 1),
       "shared: both replicas wait for the child (connected_slaves:2, state=wait_bgsave)");
    redisContext *ac = proc_conn(&a), *bc = proc_conn(&b);
    ok(harness_caught_up(mc, ac, 20000) && harness_caught_up(mc, bc, 20000), "shared: both replicas are online and caught up");
    ok(harness_file_count(log, "Starting BGSAVE for SYNC with target: replicas sockets") == 1,
       "shared: one diskless child served both");
    ok(harness_info_field(mc, "stats", "sync_full") == 2, "shared: sync_full 2");
    ok(harness_digests_equal(mc, ac) && harness_digests_equal(mc, bc), "shared: redis-server's and Sluice's digests equal the master's");
    ok(harness_expect(ac, "3", "LLEN q") && harness_expect(bc, "1", "XLEN s"), "shared: the list and the stream are on the replicas");
    redisFree(ac);
    redisFree(bc);
    proc_stop(&a);
    proc_stop(&b);
    redisFree(mc);
    proc_stop(&m);
}

/* repl-diskless-sync-max-replicas: the child starts as soon as that many
 * replicas wait, without waiting out repl-diskless-sync-delay. */
static void max_replicas(void)
{
    struct proc m, a, b;
    char log[460];
    if (start_master(&m, log, sizeof(log), "maxrep") != 0) {
        ok(0, "max-replicas: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    harness_run(mc, "SET k v");
    harness_run(mc, "CONFIG SET repl-diskless-sync-delay 3600");
    harness_run(mc, "CONFIG SET repl-diskless-sync-max-replicas 2");
    if (start_replica(&a, harness_server_path(), "maxrep-a", m.port) != 0) {
        ok(0, "max-replicas: first replica starts");
        proc_stop(&m);
        return;
    }
    ok(wait_slave_state(mc, "wait_bgsave", 10000), "max-replicas: one replica waits out the delay alone");
    /* longer than its repl-timeout: the master's newline a second keeps it waiting */
    redisContext *ac0 = proc_conn(&a);
    harness_run(ac0, "CONFIG SET repl-timeout 2");
    redisFree(ac0);
    harness_sleep_ms(3500);
    ok(harness_file_count(log, "Starting BGSAVE for SYNC") == 0, "max-replicas: ... and no child starts for it");
    char alog[460], adir[400];
    proc_make_dir(adir, sizeof(adir), "maxrep-a"); /* (its directory: start_replica made it) */
    snprintf(alog, sizeof(alog), "%s/sluice.log", adir);
    ok(harness_file_count(alog, "Timeout connecting to the MASTER") == 0 && harness_file_count(alog, "Connecting to MASTER") == 1,
       "max-replicas: the waiting replica outlived its repl-timeout (kept alive, no reconnect)");
    if (start_replica(&b, harness_server_path(), "maxrep-b", m.port) != 0) {
        ok(0, "max-replicas: second replica starts");
        proc_stop(&a);
        proc_stop(&m);
        return;
    }
    redisContext *ac = proc_conn(&a), *bc = proc_conn(&b);
    ok(harness_caught_up(mc, ac, 20000) && harness_caught_up(mc, bc, 20000),
       "max-replicas: with the second one waiting, the child starts at once (both online, an hour of delay left)");
    ok(harness_file_count(log, "Starting BGSAVE for SYNC with target: replicas sockets") == 1,
       "max-replicas: one child for both");
    redisFree(ac);
    redisFree(bc);
    redisFree(mc);
    proc_stop(&a);
    proc_stop(&b);
    proc_stop(&m);
}

/* Writes while a slow child transfers; then a replica that dies mid-way. */
static void slow_transfer(void)
{
    struct proc m, r, r2;
    char log[460];
    if (start_master(&m, log, sizeof(log), "slow") != 0) {
        ok(0, "slow: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    harness_run(mc, "DEBUG POPULATE 1000 key 20");
    harness_run(mc, "CONFIG SET rdb-key-save-delay 2000"); /* ~2 s for the child */
    long long lastsave = harness_info_field(mc, "persistence", "rdb_last_save_time");
    if (start_replica(&r, harness_server_path(), "slow-replica", m.port) != 0) {
        ok(0, "slow: replica starts");
        proc_stop(&m);
        return;
    }
    ok(wait_slave_state(mc, "send_bulk", 10000), "slow: the replica is in state=send_bulk while the child runs");
    ok(harness_info_field(mc, "persistence", "rdb_bgsave_in_progress") == 1, "slow: rdb_bgsave_in_progress:1");
    for (int i = 0; i < 100; i++)
        harness_run(mc, "INCR during");
    harness_run(mc, "RPUSH during-list x y");
    harness_run(mc, "SELECT 3");
    harness_run(mc, "SET in3 v");
    harness_run(mc, "SELECT 0");
    ok(harness_expect(mc, "100", "GET during") && harness_info_field(mc, "persistence", "rdb_bgsave_in_progress") == 1,
       "slow: writes are answered while the child still runs");
    redisContext *rc = proc_conn(&r);
    ok(harness_caught_up(mc, rc, 30000), "slow: the replica comes online after the transfer");
    ok(harness_expect(rc, "100", "GET during") && harness_digests_equal(mc, rc),
       "slow: the writes made during the transfer followed the snapshot (digests equal)");
    ok(harness_info_field(mc, "persistence", "rdb_last_save_time") == lastsave,
       "slow: a transfer to replicas is no save (LASTSAVE unchanged)");
    redisFree(rc);
    proc_stop(&r);

    /* a replica that dies mid-transfer takes the child with it */
    harness_run(mc, "CONFIG SET rdb-key-save-delay 20000"); /* ~20 s: it must be killed */
    int transfers = harness_file_count(log, "Starting BGSAVE for SYNC");
    if (start_replica(&r, harness_server_path(), "slow-victim", m.port) != 0) {
        ok(0, "slow: second replica starts");
        proc_stop(&m);
        return;
    }
    ok(wait_slave_state(mc, "send_bulk", 10000) && harness_file_count(log, "Starting BGSAVE for SYNC") == transfers + 1,
       "slow: a new transfer runs for the next replica");
    proc_kill9(&r);
    ok(wait_count_in_file(log, "last replica dropped, killing fork child", 1, 10000),
       "slow: the replica's death kills the child (Redis's log line)");
    ok(harness_wait_info_field(mc, "persistence", "rdb_bgsave_in_progress", 0, 10000),
       "slow: no child left (rdb_bgsave_in_progress:0)");
    ok(harness_expect(mc, "OK", "SET after-kill v") && harness_expect(mc, "PONG", "PING"),
       "slow: the master goes on");
    harness_run(mc, "CONFIG SET rdb-key-save-delay 0");
    if (start_replica(&r2, harness_server_path(), "slow-next", m.port) != 0) {
        ok(0, "slow: third replica starts");
        proc_stop(&m);
        return;
    }
    rc = proc_conn(&r2);
    ok(harness_caught_up(mc, rc, 20000) && harness_digests_equal(mc, rc), "slow: the next replica syncs in full");
    redisFree(rc);
    proc_stop(&r2);
    redisFree(mc);
    proc_stop(&m);
}

/* A master that becomes a replica drops the replicas still in their full
 * sync too (their snapshot is of the history it leaves); they sync again,
 * now with the new history. */
static void role_change_mid_sync(void)
{
    struct proc m, top, r;
    char log[460], toplog[460];
    if (start_master(&m, log, sizeof(log), "role") != 0 || start_master(&top, toplog, sizeof(toplog), "role-top") != 0) {
        ok(0, "role change: masters start");
        return;
    }
    redisContext *mc = proc_conn(&m), *tc = proc_conn(&top);
    harness_run(mc, "DEBUG POPULATE 1000 old 20");
    harness_run(tc, "SET from-top yes");
    harness_run(mc, "CONFIG SET rdb-key-save-delay 20000"); /* a 20 s child */
    if (start_replica(&r, harness_server_path(), "role-replica", m.port) != 0) {
        ok(0, "role change: replica starts");
        proc_stop(&m);
        proc_stop(&top);
        return;
    }
    ok(wait_slave_state(mc, "send_bulk", 10000), "role change: a replica is in its full sync");
    harness_run(mc, "CONFIG SET rdb-key-save-delay 0");
    ok(harness_expect(mc, "OK", "REPLICAOF 127.0.0.1 %d", top.port), "role change: the master becomes a replica");
    ok(wait_count_in_file(log, "last replica dropped, killing fork child", 1, 10000),
       "role change: the syncing replica was dropped, and the child with it");
    redisContext *rc = proc_conn(&r);
    ok(harness_caught_up(mc, rc, 30000) && harness_expect(rc, "yes", "GET from-top") &&
           harness_expect(rc, "0", "EXISTS old:1"),
       "role change: the replica synced again, with the new history");
    redisFree(rc);
    redisFree(tc);
    redisFree(mc);
    proc_stop(&r);
    proc_stop(&m);
    proc_stop(&top);
}

static void disk_backed(const char *rs)
{
    struct proc m, a, b;
    char log[460];
    if (start_master(&m, log, sizeof(log), "disk") != 0) {
        ok(0, "disk: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    harness_run(mc, "DEBUG POPULATE 1000 key 20");
    harness_run(mc, "CONFIG SET repl-diskless-sync no");
    harness_run(mc, "CONFIG SET rdb-key-save-delay 2000");
    if (start_replica(&a, harness_server_path(), "disk-first", m.port) != 0) {
        ok(0, "disk: first replica starts");
        proc_stop(&m);
        return;
    }
    ok(wait_slave_state(mc, "wait_bgsave", 10000) &&
           harness_info_field(mc, "persistence", "rdb_bgsave_in_progress") == 1,
       "disk: the first replica waits for the child writing dbfilename (state=wait_bgsave)");
    harness_run(mc, "RPUSH between a b");
    if (start_replica(&b, rs, "disk-redis", m.port) != 0) {
        ok(0, "disk: redis-server replica starts");
        proc_stop(&a);
        proc_stop(&m);
        return;
    }
    ok(wait_count_in_file(log, "Waiting for end of BGSAVE for SYNC", 1, 10000),
       "disk: the second replica joins the running child");
    harness_run(mc, "INCR joined");
    redisContext *ac = proc_conn(&a), *bc = proc_conn(&b);
    ok(harness_caught_up(mc, ac, 30000) && harness_caught_up(mc, bc, 30000), "disk: both replicas online and caught up");
    ok(harness_file_count(log, "Starting BGSAVE for SYNC with target: disk") == 1, "disk: one child for both");
    ok(harness_digests_equal(mc, ac) && harness_digests_equal(mc, bc), "disk: both digests equal the master's");
    char path[500];
    snprintf(path, sizeof(path), "%s/dump.rdb", m.dir);
    ok(access(path, F_OK) == 0, "disk: the snapshot was written as dbfilename");
    redisFree(ac);
    redisFree(bc);
    proc_stop(&a);
    proc_stop(&b);

    /* the old SYNC, without capa eof: disk-backed even when diskless is on */
    harness_run(mc, "CONFIG SET repl-diskless-sync yes");
    harness_run(mc, "CONFIG SET rdb-key-save-delay 0");
    int before = harness_file_count(log, "target: disk");
    redisContext *raw = proc_conn(&m);
    redisAppendCommand(raw, "SYNC");
    int done = 0;
    while (!done && redisBufferWrite(raw, &done) == REDIS_OK) {
    }
    ok(wait_count_in_file(log, "target: disk", before + 1, 10000), "SYNC without capa eof: a disk-backed transfer");
    char buf[8] = {0};
    ssize_t n;
    do /* (keep-alive newlines may come first, once a second, as from Redis) */
        n = read(raw->fd, buf, 1);
    while (n == 1 && buf[0] == '\n');
    ok(n == 1 && buf[0] == '$', "SYNC: the bulk arrives as $<size>");
    redisFree(raw);
    redisFree(mc);
    proc_stop(&m);
}

/* A chained replica forks for its own replica: its master's stream, which
 * it relays, need not start with SELECT, so the sub-replica must take the
 * db from the RDB (repl-stream-db). */
static void chained(void)
{
    struct proc m, r1, r2;
    char log[460];
    if (start_master(&m, log, sizeof(log), "chain") != 0) {
        ok(0, "chain: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    harness_run(mc, "SELECT 5");
    if (start_replica(&r1, harness_server_path(), "chain-r1", m.port) != 0) {
        ok(0, "chain: first replica starts");
        proc_stop(&m);
        return;
    }
    redisContext *c1 = proc_conn(&r1);
    harness_run(mc, "SET a 1"); /* the stream: SELECT 5, SET a 1 */
    ok(harness_caught_up(mc, c1, 20000), "chain: the first replica is caught up");
    if (start_replica(&r2, harness_server_path(), "chain-r2", r1.port) != 0) {
        ok(0, "chain: second replica starts");
        proc_stop(&r1);
        proc_stop(&m);
        return;
    }
    redisContext *c2 = proc_conn(&r2);
    ok(harness_caught_up(c1, c2, 20000), "chain: the chained replica synced from the first");
    harness_run(mc, "SET b 2"); /* still db 5: no SELECT in the stream */
    ok(harness_caught_up(mc, c1, 20000) && harness_caught_up(c1, c2, 20000), "chain: both caught up after the write");
    ok(harness_expect(c2, "OK", "SELECT 5") && harness_expect(c2, "2", "GET b") && harness_expect(c2, "OK", "SELECT 0") &&
           harness_expect(c2, "0", "DBSIZE"),
       "chain: the write after the sync landed in db 5 (the RDB's repl-stream-db), not db 0");
    ok(harness_digests_equal(mc, c2), "chain: the chained replica's digest equals the master's");
    redisFree(c2);
    redisFree(c1);
    redisFree(mc);
    proc_stop(&r2);
    proc_stop(&r1);
    proc_stop(&m);
}

/* The replica loads the master's payload at the loop's top level: clients
 * get -LOADING meanwhile, and the master does not time the replica out
 * (a newline a second keeps the link alive). */
static void replica_loading(void)
{
    struct proc m, r;
    char log[460];
    if (start_master(&m, log, sizeof(log), "loading") != 0) {
        ok(0, "loading: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    /* ~40 MB: the loader serves clients (and sends its newline) every
     * 2 MB, a quarter second at this key-load-delay */
    harness_run(mc, "CONFIG SET rdbcompression no");
    harness_run(mc, "CONFIG SET repl-timeout 2");
    harness_run(mc, "CONFIG SET repl-ping-replica-period 1");
    harness_run(mc, "DEBUG POPULATE 20000 key 2000");
    char dir[400], mport[16];
    proc_make_dir(dir, sizeof(dir), "loading-replica");
    snprintf(mport, sizeof(mport), "%d", m.port);
    const char *args[] = {"--replicaof", "127.0.0.1", mport, "--key-load-delay", "250", NULL}; /* ~5 s */
    if (proc_start(&r, harness_server_path(), dir, args, 0) != 0) {
        ok(0, "loading: replica starts");
        proc_stop(&m);
        return;
    }
    redisContext *rc = NULL;
    for (int i = 0; i < 200 && !rc; i++) {
        rc = proc_conn(&r);
        if (rc && rc->err) {
            redisFree(rc);
            rc = NULL;
            harness_sleep_ms(20);
        }
    }
    int seen_loading = 0;
    long long deadline = harness_now_ms() + 20000;
    while (rc && !seen_loading && harness_now_ms() < deadline) {
        seen_loading = harness_info_field(rc, "persistence", "loading") == 1;
        if (!seen_loading)
            harness_sleep_ms(20);
    }
    ok(seen_loading, "loading: the replica's INFO answers during the load (loading:1)");
    ok(harness_expect(rc, "LOADING Sluice is loading the dataset in memory", "PING"),
       "loading: other commands get -LOADING meanwhile, as from Redis");
    ok(harness_info_field(rc, "replication", "master_sync_in_progress") == 1,
       "loading: master_sync_in_progress:1 while it loads");
    ok(harness_caught_up(mc, rc, 60000), "loading: the link comes up after the load");
    ok(harness_expect(rc, "20000", "DBSIZE") && harness_digests_equal(mc, rc), "loading: the whole dataset arrived (digests equal)");
    ok(harness_file_count(log, "Disconnecting timedout replica") == 0,
       "loading: the master (repl-timeout 2) kept the replica through a longer load");
    redisFree(rc);
    redisFree(mc);
    proc_stop(&r);
    proc_stop(&m);
}

/* repl-diskless-load swapdb and a full sync of the same history (a replica
 * whose master's backlog no longer covers it): Redis 7.0's async loading,
 * the old data serving reads until the new copy replaces it. */
static void async_loading(void)
{
    struct proc m, r;
    char log[460];
    if (start_master(&m, log, sizeof(log), "async") != 0) {
        ok(0, "async: master starts");
        return;
    }
    redisContext *mc = proc_conn(&m);
    harness_run(mc, "CONFIG SET rdbcompression no");
    harness_run(mc, "CONFIG SET repl-backlog-size 16384");
    harness_run(mc, "DEBUG POPULATE 20000 key 500");
    harness_run(mc, "SET marker old");
    char dir[400], mport[16], rlog[460];
    proc_make_dir(dir, sizeof(dir), "async-replica");
    snprintf(rlog, sizeof(rlog), "%s/sluice.log", dir);
    snprintf(mport, sizeof(mport), "%d", m.port);
    const char *args[] = {"--replicaof", "127.0.0.1", mport, "--repl-diskless-load", "swapdb", NULL};
    if (proc_start(&r, harness_server_path(), dir, args, 20000) != 0) {
        ok(0, "async: replica starts");
        proc_stop(&m);
        return;
    }
    redisContext *rc = proc_conn(&r);
    ok(harness_caught_up(mc, rc, 30000) && harness_expect(rc, "old", "GET marker"), "async: the swapdb replica synced");
    harness_run(rc, "CONFIG SET key-load-delay 250"); /* the next load takes ~5 s */
    /* the replica falls behind the backlog: its next sync is a full one, of the same history */
    kill(r.pid, SIGSTOP);
    harness_run(mc, "CLIENT KILL TYPE replica");
    for (int i = 0; i < 400; i++)
        harness_run(mc, "SET filler:%d %0100d", i, i);
    harness_run(mc, "SET marker new");
    kill(r.pid, SIGCONT);
    int seen = 0;
    long long deadline = harness_now_ms() + 20000;
    while (!seen && harness_now_ms() < deadline) {
        seen = harness_info_field(rc, "persistence", "async_loading") == 1;
        if (!seen)
            harness_sleep_ms(20);
    }
    ok(seen, "async: INFO persistence async_loading:1 during the load");
    ok(harness_expect(rc, "old", "GET marker"), "async: reads are served from the current data meanwhile, not -LOADING");
    ok(harness_info_field(rc, "persistence", "loading") == 0, "async: loading:0 meanwhile");
    ok(harness_expect(rc, "LOADING Sluice is loading the dataset in memory", "BGSAVE"),
       "async: a command flagged no-async-loading gets -LOADING");
    ok(harness_caught_up(mc, rc, 60000), "async: the replica is online after the load");
    ok(harness_expect(rc, "new", "GET marker") && harness_expect(rc, "20401", "DBSIZE") && harness_digests_equal(mc, rc),
       "async: the new copy replaced the old one whole (digests equal)");
    ok(harness_file_contains(rlog, "while serving the current data"), "async: the replica logs the async load");
    redisFree(rc);
    redisFree(mc);
    proc_stop(&r);
    proc_stop(&m);
}

int main(void)
{
    proc_init("replfullsync");
    const char *rs = proc_redis_path();
    if (!rs) {
        tap_skip_dep("redis", "redis-server not installed: no peer replica");
        return tap_done();
    }
    diskless_shared(rs);
    max_replicas();
    slow_transfer();
    role_change_mid_sync();
    disk_backed(rs);
    chained();
    replica_loading();
    async_loading();
    return tap_done();
}
