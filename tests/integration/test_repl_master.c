/* test_repl_master.c - Sluice as a master, redis-server 7.0 as its replica:
 *
 *  - full sync: data written before the sync (strings with and without a
 *    TTL, lists, a stream with a consumer group, another db) reaches the
 *    Redis replica; DEBUG DIGEST equal on both;
 *  - the stream: mixed writes after the sync (pops, a served BRPOP and
 *    BLMOVE, XADD/XREADGROUP/XACK, EXPIRE, MULTI/EXEC, other dbs); once
 *    the replica's offset is the master's, the digests are equal;
 *  - partial resync: CLIENT KILL TYPE replica, more writes, the replica
 *    reconnects with PSYNC and continues (its log says so), digests equal;
 *  - INFO replication (slave0 line) and ROLE with a connected replica;
 *    CLIENT LIST shows the link with flags=S;
 *  - REPLCONF errors as Redis 7.0 words them;
 *  - WAIT with the replica up (1) and stopped (0 after the timeout); WAIT
 *    waits for the connection's own last write (Redis's c->woff);
 *    min-replicas-to-write: -NOREPLICAS once the stopped replica's lag
 *    passes min-replicas-max-lag, PING still answered;
 *  - redis-cli --rdb: a file redis-check-rdb accepts; redis-cli --replica
 *    gets the sync and then a write from the stream.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"


/* Poll until the replica has applied the master's whole stream. */
static int caught_up(redisContext *m, redisContext *rep, int ms)
{
    long long deadline = harness_now_ms() + ms;
    while (harness_now_ms() < deadline) {
        long long mo = harness_info_field(m, "replication", "master_repl_offset");
        if (harness_link_up(rep) && mo > 0 && harness_info_field(rep, "replication", "slave_repl_offset") == mo)
            return 1;
        harness_sleep_ms(20);
    }
    return 0;
}



static int wait_file_contains(const char *path, const char *needle, int ms)
{
    long long deadline = harness_now_ms() + ms;
    while (harness_now_ms() < deadline) {
        if (harness_file_contains(path, needle))
            return 1;
        harness_sleep_ms(20);
    }
    return 0;
}

/* INFO replication with the values masked: the field names in order, and
 * for slaveN lines the names of their parts ("slave0:ip,port,state,..."). */
static char *masked_info(redisContext *c)
{
    redisReply *r = redisCommand(c, "INFO replication");
    size_t cap = 4096, len = 0;
    char *out = calloc(1, cap);
    if (!r || r->type != REDIS_REPLY_STRING) {
        if (r)
            freeReplyObject(r);
        return out;
    }
    char *save = NULL;
    for (char *line = strtok_r(r->str, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
        char *colon = strchr(line, ':');
        if (!colon || len + strlen(line) + 4 >= cap)
            continue;
        len += (size_t)snprintf(out + len, cap - len, "%.*s", (int)(colon - line), line);
        if (!strncmp(line, "slave", 5) && strchr(colon, '=')) {
            char *v = colon + 1, *s2 = NULL;
            for (char *part = strtok_r(v, ",", &s2); part; part = strtok_r(NULL, ",", &s2)) {
                char *eq = strchr(part, '=');
                len += (size_t)snprintf(out + len, cap - len, ":%.*s", eq ? (int)(eq - part) : 0, part);
            }
        }
        len += (size_t)snprintf(out + len, cap - len, "\n");
    }
    freeReplyObject(r);
    return out;
}

/* What redis-server 7.0 prints as a master with one online replica. */
static char *redis_master_info(const char *rs)
{
    char d1[512], d2[512];
    proc_make_dir(d1, sizeof(d1), "rmaster");
    proc_make_dir(d2, sizeof(d2), "rreplica");
    struct proc a, b;
    char *out = NULL;
    if (proc_start(&a, rs, d1, NULL, 20000) != 0)
        return NULL;
    char port[16];
    snprintf(port, sizeof(port), "%d", a.port);
    const char *args[] = {"--replicaof", "127.0.0.1", port, NULL};
    if (proc_start(&b, rs, d2, args, 20000) == 0) {
        redisContext *ac = proc_conn(&a), *bc = proc_conn(&b);
        harness_run(ac, "SET k v");
        long long deadline = harness_now_ms() + 10000;
        while (harness_now_ms() < deadline) {
            long long mo = harness_info_field(ac, "replication", "master_repl_offset");
            if (harness_link_up(bc) && harness_info_field(bc, "replication", "slave_repl_offset") == mo)
                break;
            harness_sleep_ms(20);
        }
        out = masked_info(ac);
        redisFree(ac);
        redisFree(bc);
        proc_stop(&b);
    }
    proc_stop(&a);
    return out;
}

static void test_replica(const char *rs)
{
    char mdir[512], rdir[512];
    proc_make_dir(mdir, sizeof(mdir), "master");
    proc_make_dir(rdir, sizeof(rdir), "replica");
    struct proc m, r;
    if (proc_start_sluice(&m, mdir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *mc = proc_conn(&m);

    /* data before the sync */
    harness_run(mc, "SET plain v1");
    harness_run(mc, "SET withttl v2 EX 1000");
    harness_run(mc, "RPUSH list a b c d e");
    harness_run(mc, "XADD st 1-1 f v");
    harness_run(mc, "XADD st 2-1 f w");
    harness_run(mc, "XGROUP CREATE st g 0");
    harness_run(mc, "XREADGROUP GROUP g c1 COUNT 1 STREAMS st >");
    harness_run(mc, "SELECT 5");
    harness_run(mc, "SET in5 x");
    harness_run(mc, "SELECT 0");

    char mport[16];
    snprintf(mport, sizeof(mport), "%d", m.port);
    const char *rargs[] = {"--replicaof", "127.0.0.1", mport, "--appendonly", "no", NULL};
    if (proc_start(&r, rs, rdir, rargs, 20000) != 0) {
        ok(0, "redis-server starts as a replica");
        proc_stop(&m);
        return;
    }
    redisContext *rc = proc_conn(&r);
    ok(caught_up(mc, rc, 10000), "full sync: the replica's link is up and its offset is the master's");
    char *v = harness_cmd(rc, "GET plain");
    is_str(v, "v1", "full sync: a string reached the replica");
    free(v);
    long long ttl = -3;
    redisReply *t = redisCommand(rc, "TTL withttl");
    if (t && t->type == REDIS_REPLY_INTEGER)
        ttl = t->integer;
    if (t)
        freeReplyObject(t);
    ok(ttl > 900 && ttl <= 1000, "full sync: the TTL came along (%lld)", ttl);
    ok(harness_digests_equal(mc, rc), "full sync: DEBUG DIGEST equal");

    /* the stream */
    redisContext *blk = proc_conn(&m);
    redisAppendCommand(blk, "BRPOP blist 5");
    int done = 0;
    redisBufferWrite(blk, &done);
    for (int i = 0; i < 2000 && harness_info_field(mc, "clients", "blocked_clients") < 1; i++)
        harness_sleep_ms(1);
    harness_run(mc, "LPUSH blist one two");
    redisReply *br;
    redisGetReply(blk, (void **)&br);
    ok(br && br->type == REDIS_REPLY_ARRAY, "stream: BRPOP served");
    if (br)
        freeReplyObject(br);
    redisAppendCommand(blk, "BLMOVE src dst LEFT RIGHT 5");
    redisBufferWrite(blk, &done);
    for (int i = 0; i < 2000 && harness_info_field(mc, "clients", "blocked_clients") < 1; i++)
        harness_sleep_ms(1);
    harness_run(mc, "RPUSH src s1 s2");
    redisGetReply(blk, (void **)&br);
    ok(br && br->type == REDIS_REPLY_STRING, "stream: BLMOVE served");
    if (br)
        freeReplyObject(br);
    redisFree(blk);
    harness_run(mc, "LPUSH list z");
    harness_run(mc, "RPOP list");
    harness_run(mc, "XADD st 3-1 f x");
    harness_run(mc, "XREADGROUP GROUP g c2 STREAMS st >");
    harness_run(mc, "XACK st g 1-1");
    harness_run(mc, "EXPIRE plain 5000");
    harness_run(mc, "MULTI");
    harness_run(mc, "INCR counter");
    harness_run(mc, "SET other y PX 800000");
    harness_run(mc, "EXEC");
    harness_run(mc, "SELECT 7");
    harness_run(mc, "SET in7 z");
    harness_run(mc, "SELECT 0");
    harness_run(mc, "DEL withttl");
    ok(caught_up(mc, rc, 10000), "stream: the replica's offset reaches the master's");
    ok(harness_digests_equal(mc, rc), "stream: DEBUG DIGEST equal after mixed writes");

    /* what the master shows */
    char *want_fmt = redis_master_info(rs);
    char *got_fmt = masked_info(mc);
    ok(want_fmt && *want_fmt && !strcmp(got_fmt, want_fmt),
       "INFO replication: the fields and their order as redis-server 7.0 prints them as a master with a replica");
    if (want_fmt && strcmp(got_fmt, want_fmt))
        tap_diag("sluice:\n%s\nredis:\n%s", got_fmt, want_fmt);
    free(want_fmt);
    free(got_fmt);
    redisReply *info = redisCommand(mc, "INFO replication");
    char want[128];
    snprintf(want, sizeof(want), "slave0:ip=127.0.0.1,port=%d,state=online,offset=", r.port);
    ok(info && info->type == REDIS_REPLY_STRING && strstr(info->str, "connected_slaves:1\r\n") &&
           strstr(info->str, want),
       "INFO replication: connected_slaves:1 and a slave0 line as Redis prints it");
    if (info)
        freeReplyObject(info);
    redisReply *role = redisCommand(mc, "ROLE");
    char rport[16];
    snprintf(rport, sizeof(rport), "%d", r.port);
    ok(role && role->type == REDIS_REPLY_ARRAY && role->elements == 3 &&
           !strcmp(role->element[0]->str, "master") && role->element[2]->elements == 1 &&
           !strcmp(role->element[2]->element[0]->element[0]->str, "127.0.0.1") &&
           !strcmp(role->element[2]->element[0]->element[1]->str, rport),
       "ROLE: master, offset, and the replica's ip and port");
    if (role)
        freeReplyObject(role);
    v = harness_cmd(mc, "CLIENT LIST TYPE replica");
    ok(strstr(v, "flags=S ") != NULL, "CLIENT LIST TYPE replica: the link, flags=S");
    free(v);

    /* partial resync */
    v = harness_cmd(mc, "CLIENT KILL TYPE replica");
    is_str(v, "1", "CLIENT KILL TYPE replica kills the link");
    free(v);
    harness_run(mc, "SET after-kill 1");
    harness_run(mc, "RPUSH list more");
    char rlog[600];
    snprintf(rlog, sizeof(rlog), "%s/redis.log", rdir);
    ok(wait_file_contains(rlog, "Successful partial resynchronization", 10000),
       "partial resync: the replica continues from the backlog");
    ok(caught_up(mc, rc, 10000), "partial resync: the replica's offset reaches the master's");
    ok(harness_digests_equal(mc, rc), "partial resync: DEBUG DIGEST equal");
    is_int(harness_info_field(mc, "stats", "sync_partial_ok"), 1, "INFO stats: sync_partial_ok 1");
    is_int(harness_info_field(mc, "stats", "sync_full"), 1, "INFO stats: sync_full 1 (the first sync)");
    is_int(harness_info_field(mc, "stats", "sync_partial_err"), 0, "INFO stats: sync_partial_err 0");

    /* WAIT and min-replicas-to-write */
    harness_run(mc, "SET w 1");
    v = harness_cmd(mc, "WAIT 1 5000");
    is_str(v, "1", "WAIT 1: one replica acknowledged the write");
    free(v);
    harness_run(mc, "CONFIG SET min-replicas-max-lag 2");
    harness_run(mc, "CONFIG SET min-replicas-to-write 1");
    v = harness_cmd(mc, "SET w 2");
    is_str(v, "OK", "min-replicas-to-write 1: a write passes with a replica acking");
    free(v);
    kill(r.pid, SIGSTOP);
    harness_run(mc, "SET w 3");
    long long t0 = harness_now_ms();
    v = harness_cmd(mc, "WAIT 1 200");
    long long took = harness_now_ms() - t0;
    is_str(v, "0", "WAIT 1 200 with the replica stopped: 0");
    ok(took >= 190, "WAIT waited for its timeout (%lld ms)", took);
    free(v);
    /* WAIT is per connection (Redis's c->woff): another client's writes
     * since the replica stopped are not this one's to wait for */
    redisContext *other = proc_conn(&m);
    v = harness_cmd(other, "WAIT 1 5000");
    is_str(v, "1", "WAIT from a connection that wrote nothing: the replica has all of it (1, at once)");
    free(v);
    harness_run(other, "SET w-other 1");
    v = harness_cmd(other, "WAIT 1 100");
    is_str(v, "0", "... until that connection writes too: 0 after the timeout");
    free(v);
    redisFree(other);
    char *last = NULL;
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        free(last);
        last = harness_cmd(mc, "SET w 4");
        if (strcmp(last, "OK"))
            break;
        harness_sleep_ms(100);
    }
    is_str(last, "NOREPLICAS Not enough good replicas to write.", "stopped replica past max-lag: -NOREPLICAS");
    free(last);
    v = harness_cmd(mc, "PING");
    is_str(v, "PONG", "NOREPLICAS does not refuse PING");
    free(v);
    kill(r.pid, SIGCONT);
    deadline = harness_now_ms() + 10000;
    last = NULL;
    while (harness_now_ms() < deadline) {
        free(last);
        last = harness_cmd(mc, "SET w 5");
        if (!strcmp(last, "OK"))
            break;
        harness_sleep_ms(100);
    }
    is_str(last, "OK", "writes pass again once the replica acks");
    free(last);
    harness_run(mc, "CONFIG SET min-replicas-to-write 0");

    redisFree(rc);
    proc_stop(&r);

    /* REPLCONF errors */
    v = harness_cmd(mc, "REPLCONF bogus 1");
    is_str(v, "ERR Unrecognized REPLCONF option: bogus", "REPLCONF: unknown option as Redis 7.0 words it");
    free(v);
    v = harness_cmd(mc, "REPLCONF listening-port 1 capa eof capa weird");
    is_str(v, "OK", "REPLCONF: several options, unknown capa ignored");
    free(v);

    /* redis-cli --rdb */
    char rdbpath[600], cmdline[1400], out[4096];
    snprintf(rdbpath, sizeof(rdbpath), "%s/dump-cli.rdb", mdir);
    snprintf(cmdline, sizeof(cmdline), "redis-cli -p %d --rdb %s >/dev/null 2>&1 && redis-check-rdb %s 2>&1", m.port,
             rdbpath, rdbpath);
    FILE *p = popen(cmdline, "r");
    size_t got = p ? fread(out, 1, sizeof(out) - 1, p) : 0;
    out[got] = '\0';
    int rc2 = p ? pclose(p) : -1;
    ok(rc2 == 0 && strstr(out, "RDB looks OK"), "redis-cli --rdb: redis-check-rdb accepts the file");
    if (rc2 != 0)
        tap_diag("%s", out);

    /* redis-cli --replica: SYNC, then the stream as commands */
    char clilog[600];
    snprintf(clilog, sizeof(clilog), "%s/cli-replica.out", mdir);
    pid_t cli = fork();
    if (cli == 0) {
        FILE *o = freopen(clilog, "w", stdout);
        (void)o;
        dup2(1, 2);
        char port[16];
        snprintf(port, sizeof(port), "%d", m.port);
        execlp("redis-cli", "redis-cli", "-p", port, "--replica", (char *)NULL);
        _exit(127);
    }
    ok(wait_file_contains(clilog, "SYNC done", 10000), "redis-cli --replica: the sync completes");
    harness_run(mc, "SET cli-marker-key cli-marker-value");
    ok(wait_file_contains(clilog, "cli-marker-value", 10000), "redis-cli --replica: receives a write in the stream");
    kill(cli, SIGTERM);
    waitpid(cli, NULL, 0);

    redisFree(mc);
    proc_stop(&m);
}

int main(void)
{
    proc_init("replmaster");
    const char *rs = proc_redis_path();
    if (!rs) {
        tap_skip_dep("redis", "redis-server not installed: no replica to sync");
        return tap_done();
    }
    test_replica(rs);
    return tap_done();
}
