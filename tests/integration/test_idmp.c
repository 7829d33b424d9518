/* test_idmp.c - idempotent producers (XADD IDMP / IDMPAUTO) end to end:
 * the dedup state must go wherever the stream goes.
 *
 * For each path a stream leaves by - DUMP/RESTORE, COPY, RENAME, MOVE,
 * SWAPDB, DEBUG RELOAD, SAVE + a real restart, an AOF restart, and
 * BGREWRITEAOF + restart (with and without the RDB preamble) - a fresh stream is made with one IDMP entry and
 * one IDMPAUTO entry, its XINFO STREAM is recorded, the stream is moved,
 * and then on the destination:
 *   - XINFO STREAM (idempotency fields included) is what it was;
 *   - the retried XADD IDMP p1 r1 returns the original ID and appends
 *     nothing (XLEN unchanged), and so does the retried IDMPAUTO;
 *   - a new idempotency id appends (XLEN grows, a new ID).
 * A server that drops the state anywhere appends the retry and fails here.
 * Replication too: a stream made before a replica's full sync and one made
 * while it streams, checked on the replica once promoted.
 *
 * Interchange with redis-server 7.0 (which has no IDMP): it RESTOREs
 * Sluice's payload of a stream with dedup state (the extension after the
 * value is ignored), keeps the entries, and its own DUMP of that key, back
 * in Sluice, is a stream without dedup state - the loss the README states.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tap.h"

struct src {
    char *id1, *id2, *info;
};

/* A stream `key` with an IDMP entry and an IDMPAUTO entry. */
static struct src make_src(redisContext *c, const char *key)
{
    struct src s;
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "XADD %s IDMP p1 r1 * f v", key);
    s.id1 = harness_cmd(c, cmd);
    snprintf(cmd, sizeof(cmd), "XADD %s IDMPAUTO p2 * a b", key);
    s.id2 = harness_cmd(c, cmd);
    snprintf(cmd, sizeof(cmd), "XINFO STREAM %s", key);
    s.info = harness_cmd(c, cmd);
    return s;
}

static void free_src(struct src *s)
{
    free(s->id1);
    free(s->id2);
    free(s->info);
}

/* One XADD; its reply must be a bulk string (an ID), else "" */
static char *xadd(redisContext *c, const char *key, const char *mode, const char *pid, const char *iid,
                  const char *f, const char *v)
{
    redisReply *r = iid ? redisCommand(c, "XADD %s %s %s %s * %s %s", key, mode, pid, iid, f, v)
                        : redisCommand(c, "XADD %s %s %s * %s %s", key, mode, pid, f, v);
    char *out = strdup(r && r->type == REDIS_REPLY_STRING ? r->str : "");
    if (r)
        freeReplyObject(r);
    return out;
}

static long long xlen(redisContext *c, const char *key)
{
    redisReply *r = redisCommand(c, "XLEN %s", key);
    long long n = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1;
    if (r)
        freeReplyObject(r);
    return n;
}

/* The checks on the destination `key`, named by `path` */
static void check_dest(redisContext *c, const char *key, const struct src *s, const char *path)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "XINFO STREAM %s", key);
    char *info = harness_cmd(c, cmd);
    ok(strstr(s->info, "idmp-duration") != NULL && strcmp(info, s->info) == 0,
       "%s: XINFO STREAM identical, idempotency fields included", path);
    free(info);
    ok(xlen(c, key) == 2, "%s: the stream arrived with its 2 entries", path);

    char *r1 = xadd(c, key, "IDMP", "p1", "r1", "f", "v");
    ok(s->id1[0] && strcmp(r1, s->id1) == 0, "%s: retried IDMP XADD returns the original ID (%s vs %s)", path, r1,
       s->id1);
    ok(xlen(c, key) == 2, "%s: ... and appends nothing", path);
    char *r2 = xadd(c, key, "IDMPAUTO", "p2", NULL, "a", "b");
    ok(s->id2[0] && strcmp(r2, s->id2) == 0, "%s: retried IDMPAUTO XADD returns the original ID", path);
    ok(xlen(c, key) == 2, "%s: ... and appends nothing", path);
    char *r3 = xadd(c, key, "IDMP", "p1", "r2", "f", "v");
    ok(r3[0] && strcmp(r3, s->id1) != 0 && strcmp(r3, s->id2) != 0 && xlen(c, key) == 3,
       "%s: a new idempotency id appends (%s)", path, r3);
    free(r1);
    free(r2);
    free(r3);
}

static int cmd_is(redisContext *c, const char *expect, const char *cmd)
{
    char *r = harness_cmd(c, cmd);
    int same = strcmp(r, expect) == 0;
    if (!same)
        tap_diag("%s -> %s (expected %s)", cmd, r, expect);
    free(r);
    return same;
}

static void run_quiet(redisContext *c, const char *cmd)
{
    free(harness_cmd(c, cmd));
}

/* Restart the server on the same directory with the same arguments. */
static int restart(struct test_server *s, redisContext **c, const char *const *args)
{
    char dir[256];
    snprintf(dir, sizeof(dir), "%s", s->dir);
    redisFree(*c);
    *c = NULL;
    harness_stop_status(s);
    const char *extra[16];
    int n = 0;
    for (; args[n]; n++)
        extra[n] = args[n];
    char log[300];
    snprintf(log, sizeof(log), "%s/server.log", dir);
    extra[n++] = "--dir";
    extra[n++] = dir;
    extra[n++] = "--logfile"; /* the log stays in the data dir too */
    extra[n++] = log;
    extra[n] = NULL;
    struct test_server t;
    int rc = harness_start(&t, extra);
    /* the new server's own temp dir is unused: keep the data dir's name so
     * harness_stop() cleans it, and remove the empty one */
    if (rc == 0) {
        if (rmdir(t.dir) != 0)
            tap_diag("could not remove the unused %s", t.dir);
        snprintf(t.dir, sizeof(t.dir), "%s", dir);
        snprintf(t.logpath, sizeof(t.logpath), "%s/server.log", dir);
    }
    *s = t;
    if (rc == 0)
        *c = harness_connect(s);
    return rc == 0 && *c ? 0 : -1;
}

static void test_keyspace_and_rdb(void)
{
    const char *args[] = {"--save", "", "--enable-debug-command", "yes", NULL};
    struct test_server s;
    if (harness_start(&s, args) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = harness_connect(&s);

    /* DUMP / RESTORE */
    struct src d = make_src(c, "k:dump");
    redisReply *p = redisCommand(c, "DUMP k:dump");
    int restored = 0;
    if (p && p->type == REDIS_REPLY_STRING) {
        redisReply *r = redisCommand(c, "RESTORE k:restored 0 %b", p->str, p->len);
        restored = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
        if (r)
            freeReplyObject(r);
    }
    if (p)
        freeReplyObject(p);
    ok(restored, "DUMP/RESTORE: RESTORE of the stream's payload OK");
    check_dest(c, "k:restored", &d, "DUMP/RESTORE");
    /* the source still deduplicates too */
    check_dest(c, "k:dump", &d, "DUMP source");
    free_src(&d);

    /* COPY, and the copy's state is its own */
    struct src cp = make_src(c, "k:copy");
    ok(cmd_is(c, "1", "COPY k:copy k:copied"), "COPY OK");
    check_dest(c, "k:copied", &cp, "COPY");
    check_dest(c, "k:copy", &cp, "COPY source (untouched by the copy's XADDs)");
    free_src(&cp);

    struct src rn = make_src(c, "k:rename");
    ok(cmd_is(c, "OK", "RENAME k:rename k:renamed"), "RENAME OK");
    check_dest(c, "k:renamed", &rn, "RENAME");
    free_src(&rn);

    struct src mv = make_src(c, "k:move");
    ok(cmd_is(c, "1", "MOVE k:move 1") && cmd_is(c, "OK", "SELECT 1"), "MOVE to db 1 OK");
    check_dest(c, "k:move", &mv, "MOVE");
    free_src(&mv);

    ok(cmd_is(c, "OK", "SELECT 4"), "SELECT 4");
    struct src sw = make_src(c, "k:swap");
    ok(cmd_is(c, "OK", "SWAPDB 4 5") && cmd_is(c, "0", "EXISTS k:swap") && cmd_is(c, "OK", "SELECT 5"),
       "SWAPDB 4 5 OK");
    check_dest(c, "k:swap", &sw, "SWAPDB");
    free_src(&sw);
    ok(cmd_is(c, "OK", "SELECT 0"), "SELECT 0");

    struct src rl = make_src(c, "k:reload");
    ok(cmd_is(c, "OK", "DEBUG RELOAD"), "DEBUG RELOAD OK");
    check_dest(c, "k:reload", &rl, "DEBUG RELOAD");
    free_src(&rl);

    /* SAVE, then a real restart (SIGTERM without save points: the file is
     * the SAVE's) */
    struct src sv = make_src(c, "k:save");
    ok(cmd_is(c, "OK", "SAVE"), "SAVE OK");
    if (restart(&s, &c, args) != 0) {
        ok(0, "sluice restarts on its dump.rdb");
    } else {
        check_dest(c, "k:save", &sv, "SAVE + restart");
    }
    free_src(&sv);
    if (c)
        redisFree(c);
    harness_stop(&s);
}

static int wait_rewrite(redisContext *c)
{
    for (int i = 0; i < 500; i++) {
        char *info = harness_cmd(c, "INFO persistence");
        int busy = strstr(info, "aof_rewrite_in_progress:0") == NULL ||
                   strstr(info, "aof_rewrite_scheduled:1") != NULL;
        int good = strstr(info, "aof_last_bgrewrite_status:ok") != NULL;
        free(info);
        if (!busy)
            return good ? 0 : -1;
        harness_sleep_ms(20);
    }
    return -1;
}

/* preamble: aof-use-rdb-preamble.  With it the rewrite's base is an RDB
 * (the sluice-idmp AUX field); without it, commands (XCFGSET and
 * XIDMPRECORD): both must carry the state. */
static void test_aof(const char *preamble)
{
    const char *args[] = {"--save", "", "--appendonly", "yes", "--aof-use-rdb-preamble", preamble, NULL};
    char p_aof[64], p_rw[64];
    snprintf(p_aof, sizeof(p_aof), "AOF restart (preamble %s)", preamble);
    snprintf(p_rw, sizeof(p_rw), "BGREWRITEAOF + restart (preamble %s)", preamble);
    struct test_server s;
    if (harness_start(&s, args) != 0) {
        ok(0, "sluice starts with appendonly yes");
        return;
    }
    redisContext *c = harness_connect(&s);
    /* the AOF of the commands as run */
    struct src a = make_src(c, "k:aof");
    if (restart(&s, &c, args) != 0) {
        ok(0, "sluice restarts on its AOF");
        harness_stop(&s);
        return;
    }
    check_dest(c, "k:aof", &a, p_aof);
    free_src(&a);

    /* the rewritten AOF: the state must be in the new base (nothing is
     * written after the rewrite, so the restart reads only the base) */
    struct src w = make_src(c, "k:rewrite");
    ok(cmd_is(c, "Background append only file rewriting started", "BGREWRITEAOF") && wait_rewrite(c) == 0,
       "BGREWRITEAOF completes");
    if (restart(&s, &c, args) != 0) {
        ok(0, "sluice restarts on its rewritten AOF");
    } else {
        check_dest(c, "k:rewrite", &w, p_rw);
    }
    free_src(&w);
    if (c)
        redisFree(c);
    harness_stop(&s);
}

static int redis_installed(void)
{
    return system("command -v redis-server >/dev/null 2>&1") == 0;
}

static redisReply *dump_of(redisContext *c, const char *key)
{
    redisReply *r = redisCommand(c, "DUMP %s", key);
    if (r && r->type != REDIS_REPLY_STRING) {
        freeReplyObject(r);
        r = NULL;
    }
    return r;
}

static int restore_ok(redisContext *c, const char *key, const redisReply *p)
{
    redisReply *r = redisCommand(c, "RESTORE %s 0 %b", key, p->str, p->len);
    int good = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
    if (r && !good)
        tap_diag("RESTORE %s -> %s", key, r->str ? r->str : "?");
    if (r)
        freeReplyObject(r);
    return good;
}

static void test_redis_interchange(void)
{
    if (!redis_installed()) {
        tap_skip_dep("redis", "RESTORE into redis-server 7.0: redis-server not installed");
        return;
    }
    struct test_server s;
    if (harness_start(&s, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = harness_connect(&s);
    int port = harness_free_port();
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *base[] = {"redis-server", "--port", portbuf, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                          "--dir", s.dir, "--dbfilename", "redis.rdb", NULL};
    pid_t rpid = harness_spawn(base, NULL, HARNESS_QUIET_STDIN | HARNESS_QUIET_STDOUT);
    redisContext *r = NULL;
    for (int i = 0; i < 200 && rpid > 0; i++) {
        r = redisConnect("127.0.0.1", port);
        if (r && !r->err && cmd_is(r, "PONG", "PING"))
            break;
        if (r)
            redisFree(r);
        r = NULL;
        harness_sleep_ms(25);
    }
    if (!r) {
        ok(0, "redis-server starts");
        goto out;
    }
    struct src a = make_src(c, "k:idmp");
    run_quiet(c, "XADD k:plain 5-1 f v");
    char *range = harness_cmd(c, "XRANGE k:idmp - +");
    redisReply *pi = dump_of(c, "k:idmp"), *pp = dump_of(c, "k:plain");
    for (int variant = 0; variant < 2 && pi && pp; variant++) {
        const char *mode = variant ? "yes" : "no";
        char cfg[64];
        snprintf(cfg, sizeof(cfg), "CONFIG SET sanitize-dump-payload %s", mode);
        cmd_is(r, "OK", cfg);
        cmd_is(r, "OK", "FLUSHALL");
        ok(restore_ok(r, "k:idmp", pi), "redis-server 7.0 (sanitize %s) RESTOREs a stream payload with IDMP state",
           mode);
        char *theirs = harness_cmd(r, "XRANGE k:idmp - +");
        ok(strcmp(theirs, range) == 0, "... with the same entries (%s)", theirs);
        free(theirs);
        ok(restore_ok(r, "k:plain", pp), "redis-server 7.0 (sanitize %s) RESTOREs a plain stream payload", mode);
    }
    /* without dedup state the payload is Redis's own bytes */
    redisReply *rp = dump_of(r, "k:plain");
    ok(pp && rp && pp->len == rp->len && memcmp(pp->str, rp->str, pp->len) == 0,
       "DUMP of a stream without IDMP state: byte-identical to redis-server 7.0's");
    /* Redis's DUMP of the restored key comes back without the state */
    redisReply *back = dump_of(r, "k:idmp");
    ok(back && restore_ok(c, "k:fromredis", back), "Sluice RESTOREs redis-server's DUMP of that stream");
    char *info = harness_cmd(c, "XINFO STREAM k:fromredis");
    ok(strstr(info, "idmp-duration") == NULL && xlen(c, "k:fromredis") == 2,
       "... a stream with its entries and no dedup state (Redis 7.0 has none to keep)");
    free(info);
    if (rp)
        freeReplyObject(rp);
    if (back)
        freeReplyObject(back);
    if (pi)
        freeReplyObject(pi);
    if (pp)
        freeReplyObject(pp);
    free(range);
    free_src(&a);
    redisFree(r);
out:
    if (rpid > 0) {
        kill(rpid, SIGTERM);
        waitpid(rpid, NULL, 0);
    }
    redisFree(c);
    harness_stop(&s);
}

/* Replication: the state reaches a Sluice replica by both ways a replica
 * gets data (the full sync's RDB, the stream's XADD + XIDMPRECORD), so a
 * producer's retry after a failover to that replica appends nothing. */
static void test_replication(void)
{
    struct test_server m, r;
    if (harness_start(&m, NULL) != 0) {
        ok(0, "replication: master starts");
        return;
    }
    redisContext *mc = harness_connect(&m);
    struct src before = make_src(mc, "k:before-sync");
    char port[16];
    snprintf(port, sizeof(port), "%d", m.port);
    const char *rargs[] = {"--replicaof", "127.0.0.1", port, NULL};
    if (harness_start(&r, rargs) != 0) {
        ok(0, "replication: replica starts");
        harness_stop(&m);
        return;
    }
    redisContext *rc = harness_connect(&r);
    long long deadline = harness_now_ms() + 20000;
    char st[16] = "";
    while (harness_now_ms() < deadline &&
           strcmp(harness_info_str(rc, "replication", "master_link_status", st, sizeof(st)), "up"))
        harness_sleep_ms(20);
    ok(!strcmp(st, "up"), "replication: the replica synced");
    struct src streamed = make_src(mc, "k:streamed");
    long long want = harness_info_field(mc, "replication", "master_repl_offset");
    while (harness_now_ms() < deadline && harness_info_field(rc, "replication", "slave_repl_offset") < want)
        harness_sleep_ms(20);
    ok(harness_info_field(rc, "replication", "slave_repl_offset") >= want, "replication: the replica caught up");
    /* the master goes away; the replica takes over */
    redisFree(mc);
    harness_stop(&m);
    ok(cmd_is(rc, "OK", "REPLICAOF NO ONE"), "replication: the replica is promoted");
    check_dest(rc, "k:before-sync", &before, "full sync to a replica, then promotion");
    check_dest(rc, "k:streamed", &streamed, "the replication stream, then promotion");
    free_src(&before);
    free_src(&streamed);
    redisFree(rc);
    harness_stop(&r);
}

int main(void)
{
    test_replication();
    test_redis_interchange();
    test_keyspace_and_rdb();
    test_aof("yes");
    test_aof("no");
    return tap_done();
}
