/* test_aof_claims.c - README durability claims that test_aof does not cover:
 *
 *  - a served blocking pop (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) is
 *    recorded in the AOF as its non-blocking form: the same script runs
 *    on Sluice and on redis-server 7.0, and the two incremental files must
 *    be byte-identical (plus exact records checked on Sluice's file, so
 *    the check stands without redis-server too);
 *  - a failed AOF write stops writes with -MISCONF (PING too), reads go
 *    on, and writes resume once the write succeeds again: the AOF
 *    directory is a tiny tmpfs mounted by the test (root only) that a
 *    ballast file fills up and whose removal frees it;
 *  - everysec on a stalled disk (DEBUG AOF-FSYNC-STALL, a Sluice-only hook
 *    that slows the next background fsync): while that fsync runs, new
 *    writes stay in the buffer for up to 2 s, then are written anyway and
 *    counted in aof_delayed_fsync, Redis's rule;
 *  - appendfsync always, under strace with the written bytes: each reply
 *    leaves only after the AOF write holding its own command's record and
 *    an fdatasync after that write (XADDs with explicit IDs, unique over
 *    all clients, make each reply name its command), and group commit
 *    needs far fewer fdatasyncs than writes (one per write could not).
 *
 * Each server runs on a directory of its own (proc.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"

static long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

/* `blocker` sends a blocking command; once the server counts it blocked,
 * `pusher` runs the push that serves it; the blocked reply is then read. */
static void serve_blocked(redisContext *blocker, redisContext *pusher, const char *block, const char *push)
{
    redisAppendCommand(blocker, block);
    int done = 0;
    redisBufferWrite(blocker, &done);
    for (int i = 0; i < 2000 && harness_info_field(pusher, "clients", "blocked_clients") < 1; i++)
        harness_sleep_ms(1);
    redisReply *r = redisCommand(pusher, push);
    if (r)
        freeReplyObject(r);
    void *reply = NULL;
    redisGetReply(blocker, &reply);
    if (reply)
        freeReplyObject(reply);
}

static void run_script(const struct proc *p)
{
    redisContext *a = proc_conn(p), *b = proc_conn(p);
    serve_blocked(a, b, "BLPOP bl 0", "RPUSH bl a b");
    serve_blocked(a, b, "BRPOP br 0", "LPUSH br x y");
    serve_blocked(a, b, "BLMOVE src dst LEFT RIGHT 0", "RPUSH src s1 s2");
    serve_blocked(a, b, "BRPOPLPUSH src2 dst2 0", "RPUSH src2 t1 t2");
    serve_blocked(a, b, "BLMPOP 0 2 m1 m2 RIGHT COUNT 2", "RPUSH m2 p q r");
    /* served at once, without blocking */
    redisReply *r = redisCommand(b, "RPUSH im 1 2 3 4 5 6");
    freeReplyObject(r);
    const char *now[] = {"BLPOP im 0", "BRPOP im 0", "BLMOVE im imd RIGHT LEFT 0", "BRPOPLPUSH im imd 0",
                         "BLMPOP 0 1 im LEFT COUNT 5"};
    for (size_t i = 0; i < sizeof(now) / sizeof(now[0]); i++) {
        r = redisCommand(b, now[i]);
        if (r)
            freeReplyObject(r);
    }
    redisFree(a);
    redisFree(b);
}

static const char *const AOF_ALWAYS[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};

static void test_blocking_pops_recorded(void)
{
    char dir[400], path[600];
    struct proc s;
    proc_make_dir(dir, sizeof(dir), "blocking");
    if (proc_start_sluice(&s, dir, AOF_ALWAYS) != 0) {
        ok(0, "blocking: server starts");
        return;
    }
    run_script(&s);
    proc_stop(&s);
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    char *aof = harness_read_file(path);
    size_t len = strlen(aof);
    /* the whole file is text: no NUL cut it short */
    ok(len > 0 && (long long)len == file_size(path), "blocking: the incremental file has the script (%zu bytes)", len);
    if (!len) {
        free(aof);
        return;
    }
    static const struct {
        const char *record, *what;
    } want[] = {
        {"*2\r\n$4\r\nLPOP\r\n$2\r\nbl\r\n", "a served BLPOP is recorded as LPOP key"},
        {"*2\r\n$4\r\nRPOP\r\n$2\r\nbr\r\n", "a served BRPOP is recorded as RPOP key"},
        {"*5\r\n$5\r\nLMOVE\r\n$3\r\nsrc\r\n$3\r\ndst\r\n$4\r\nleft\r\n$5\r\nright\r\n",
         "a served BLMOVE is recorded as LMOVE, directions in lower case as Redis 7.0 does"},
        {"*3\r\n$9\r\nRPOPLPUSH\r\n$4\r\nsrc2\r\n$4\r\ndst2\r\n", "a served BRPOPLPUSH is recorded as RPOPLPUSH"},
        {"*3\r\n$4\r\nRPOP\r\n$2\r\nm2\r\n$1\r\n2\r\n", "a served BLMPOP is recorded as RPOP key count"},
        {"*2\r\n$4\r\nLPOP\r\n$2\r\nim\r\n", "BLPOP answered at once: LPOP key"},
        {"*2\r\n$4\r\nRPOP\r\n$2\r\nim\r\n", "BRPOP answered at once: RPOP key"},
        {"*5\r\n$5\r\nLMOVE\r\n$2\r\nim\r\n$3\r\nimd\r\n$5\r\nRIGHT\r\n$4\r\nLEFT\r\n", "BLMOVE answered at once: LMOVE"},
        {"*3\r\n$9\r\nRPOPLPUSH\r\n$2\r\nim\r\n$3\r\nimd\r\n", "BRPOPLPUSH answered at once: RPOPLPUSH"},
        {"*3\r\n$4\r\nLPOP\r\n$2\r\nim\r\n$1\r\n2\r\n", "BLMPOP answered at once: LPOP key count (what was left)"},
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        ok(memmem(aof, len, want[i].record, strlen(want[i].record)) != NULL, "blocking: %s", want[i].what);
    ok(!memmem(aof, len, "BLPOP", 5) && !memmem(aof, len, "BRPOP", 5) && !memmem(aof, len, "BLMOVE", 6) &&
           !memmem(aof, len, "BLMPOP", 6) && !memmem(aof, len, "BRPOPLPUSH", 10),
       "blocking: no blocking command is recorded as itself");

    const char *rs = proc_redis_path();
    if (!rs) {
        tap_skip_dep("redis", "redis-server not installed: the AOF is not compared with Redis 7.0's");
        free(aof);
        return;
    }
    char rdir[400], rpath[600];
    proc_make_dir(rdir, sizeof(rdir), "blocking-redis");
    struct proc r;
    if (proc_start(&r, rs, rdir, AOF_ALWAYS, 30000) != 0) {
        ok(0, "blocking: redis-server starts");
        free(aof);
        return;
    }
    run_script(&r);
    proc_stop(&r);
    snprintf(rpath, sizeof(rpath), "%s/appendonlydir/appendonly.aof.1.incr.aof", rdir);
    char *raof = harness_read_file(rpath);
    is_mem(aof, len, raof, strlen(raof),
           "blocking: Sluice's incremental AOF is byte-identical to redis-server 7.0's for the same script");
    free(raof);
    free(aof);
}

/* The first line of a reply, as text ("(io error)" without one). */
static char *reply_text(redisContext *c, const char *command)
{
    redisReply *r = redisCommand(c, command);
    char *out = strdup(!r ? "(io error)" : r->str ? r->str : r->type == REDIS_REPLY_INTEGER ? "(integer)" : "(other)");
    if (r)
        freeReplyObject(r);
    return out;
}

static void test_misconf_after_failed_write(void)
{
    if (geteuid() != 0) {
        tap_skip_dep("root", "mounting a tiny tmpfs for the AOF directory needs root");
        return;
    }
    char dir[400], adir[500], ballast[600];
    proc_make_dir(dir, sizeof(dir), "misconf");
    snprintf(adir, sizeof(adir), "%s/appendonlydir", dir);
    mkdir(adir, 0755);
    if (mount("tmpfs", adir, "tmpfs", 0, "size=1m") != 0) {
        tap_skip_dep("root", "mount tmpfs: %s", strerror(errno));
        return;
    }
    /* most of the space is ballast, removed later to let the AOF grow */
    snprintf(ballast, sizeof(ballast), "%s/ballast", adir);
    FILE *fp = fopen(ballast, "w");
    static char block[4096];
    memset(block, 'b', sizeof(block));
    for (int i = 0; i < 200; i++)
        fwrite(block, 1, sizeof(block), fp);
    fclose(fp);

    static const char *const everysec[] = {"--appendonly", "yes", "--appendfsync", "everysec", NULL};
    struct proc s;
    if (proc_start_sluice(&s, dir, everysec) != 0) {
        ok(0, "misconf: server starts");
        umount2(adir, MNT_DETACH);
        return;
    }
    redisContext *c = proc_conn(&s);
    char *r = reply_text(c, "SET keep value");
    is_str(r, "OK", "misconf: a write before the disk is full");
    free(r);
    /* 50 KB values until a write fails and the next command sees it */
    char *big = malloc(50001);
    memset(big, 'v', 50000);
    big[50000] = '\0';
    char *last = NULL;
    for (int i = 0; i < 100; i++) {
        redisReply *rr = redisCommand(c, "SET big%d %s", i, big);
        free(last);
        last = strdup(rr && rr->str ? rr->str : rr ? "(other)" : "(io error)");
        if (rr)
            freeReplyObject(rr);
        if (strncmp(last, "MISCONF", 7) == 0)
            break;
    }
    is_str(last, "MISCONF Errors writing to the AOF file: No space left on device",
           "misconf: once an AOF write failed, writes get -MISCONF (Redis's text)");
    free(last);
    r = reply_text(c, "PING");
    is_str(r, "MISCONF Errors writing to the AOF file: No space left on device", "misconf: PING gets -MISCONF too");
    free(r);
    r = reply_text(c, "GET keep");
    is_str(r, "value", "misconf: reads go on");
    free(r);
    r = reply_text(c, "INFO persistence");
    ok(strstr(r, "aof_last_write_status:err"), "misconf: INFO says aof_last_write_status:err");
    free(r);

    unlink(ballast);
    char *after = NULL;
    for (long long dl = harness_now_ms() + 10000; harness_now_ms() < dl; harness_sleep_ms(50)) {
        free(after);
        after = reply_text(c, "SET after space");
        if (strcmp(after, "OK") == 0)
            break;
    }
    is_str(after, "OK", "misconf: writes resume once the AOF can be written again");
    free(after);
    r = reply_text(c, "INFO persistence");
    ok(strstr(r, "aof_last_write_status:ok"), "misconf: INFO says aof_last_write_status:ok again");
    free(r);
    redisFree(c);
    free(big);
    /* nothing acknowledged was lost: the AOF loads with every write */
    proc_stop(&s);
    if (proc_start_sluice(&s, dir, everysec) == 0) {
        c = proc_conn(&s);
        r = reply_text(c, "GET after");
        is_str(r, "space", "misconf: the write after the recovery is in the AOF");
        free(r);
        r = reply_text(c, "GET keep");
        is_str(r, "value", "misconf: and the one before the failure");
        free(r);
        redisFree(c);
        proc_stop(&s);
    } else {
        ok(0, "misconf: restart on the recovered AOF");
    }
    umount2(adir, MNT_DETACH);
}

/* ---- everysec: writes postponed behind a stalled fsync -------------------- */

static void test_everysec_postpones(void)
{
    char dir[400], incr[600];
    proc_make_dir(dir, sizeof(dir), "everysec");
    snprintf(incr, sizeof(incr), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    static const char *const everysec[] = {"--appendonly", "yes", "--appendfsync", "everysec", NULL};
    struct proc s;
    if (proc_start_sluice(&s, dir, everysec) != 0) {
        ok(0, "everysec: server starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    char *r = reply_text(c, "DEBUG AOF-FSYNC-STALL 6000");
    is_str(r, "OK", "everysec: DEBUG AOF-FSYNC-STALL (Sluice only) arms a stalled fsync");
    free(r);
    /* writes until the once-a-second fsync starts and hangs */
    long long pending = 0;
    for (int i = 0; i < 300 && pending < 1; i++) {
        redisReply *rr = redisCommand(c, "SET warm %d", i);
        freeReplyObject(rr);
        harness_sleep_ms(10);
        pending = harness_info_field(c, "persistence", "aof_pending_bio_fsync");
    }
    is_int(pending, 1, "everysec: a background fsync is running (stalled)");
    long long size0 = file_size(incr);
    long long t0 = harness_now_ms();
    r = reply_text(c, "SET postponed yes");
    long long reply_ms = harness_now_ms() - t0;
    is_str(r, "OK", "everysec: a write during the stalled fsync is answered");
    free(r);
    ok(reply_ms < 500, "everysec: at once (%lld ms): replies do not wait for the disk", reply_ms);
    harness_sleep_ms(1000);
    is_int(file_size(incr), size0, "everysec: 1 s later the write is still postponed (not in the file)");
    is_int(harness_info_field(c, "persistence", "aof_delayed_fsync"), 0, "everysec: aof_delayed_fsync still 0");
    long long grown_at = -1;
    for (long long dl = t0 + 5000; harness_now_ms() < dl; harness_sleep_ms(20))
        if (file_size(incr) > size0) {
            grown_at = harness_now_ms() - t0;
            break;
        }
    ok(grown_at >= 1000 && grown_at <= 3500,
       "everysec: written anyway once postponed about 2 s (%lld ms after the write)", grown_at);
    is_int(harness_info_field(c, "persistence", "aof_delayed_fsync"), 1, "everysec: and counted in aof_delayed_fsync");
    redisFree(c);
    proc_stop(&s);
    if (proc_start_sluice(&s, dir, everysec) == 0) {
        c = proc_conn(&s);
        r = reply_text(c, "GET postponed");
        is_str(r, "yes", "everysec: the postponed write is in the AOF after a restart");
        free(r);
        redisFree(c);
        proc_stop(&s);
    } else {
        ok(0, "everysec: restart");
    }
}

/* ---- the commit gate holds what the AOF has not written -------------------- */

/* Under always, the loop's flush normally writes and fsyncs before any
 * reply leaves, so the gate's hold is seen only when the AOF cannot write
 * at once (a short write, a disk refusing writes).  DEBUG AOF-WRITE-DEFER
 * (Sluice only) makes the flush leave the buffer unwritten for a while:
 * replies that depend on it must wait, a write's and a read's that may
 * have seen it, and arrive only once the record is in the file. */
static void test_gate_holds_unwritten(void)
{
    char dir[400], incr[600];
    proc_make_dir(dir, sizeof(dir), "gate");
    snprintf(incr, sizeof(incr), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    struct proc s;
    if (proc_start_sluice(&s, dir, AOF_ALWAYS) != 0) {
        ok(0, "gate: server starts");
        return;
    }
    redisContext *writer = proc_conn(&s), *reader = proc_conn(&s);
    char *r = reply_text(writer, "DEBUG AOF-WRITE-DEFER 600");
    is_str(r, "OK", "gate: DEBUG AOF-WRITE-DEFER (Sluice only) defers the AOF's writes");
    free(r);
    long long t0 = harness_now_ms();
    redisAppendCommand(writer, "SET gated-key gated-value");
    int done = 0;
    while (!done && redisBufferWrite(writer, &done) == REDIS_OK) {
    }
    harness_sleep_ms(100);
    long long t1 = harness_now_ms();
    r = reply_text(reader, "GET gated-key");
    long long read_ms = harness_now_ms() - t1;
    int in_file_at_read = harness_file_contains(incr, "gated-value");
    is_str(r, "gated-value", "gate: a read during the hold sees the write");
    free(r);
    ok(read_ms >= 300, "gate: the read's reply is held too, it may have seen the write (%lld ms)", read_ms);
    ok(in_file_at_read, "gate: when the read's reply arrived, the write was in the AOF file");
    redisReply *w = NULL;
    redisGetReply(writer, (void **)&w);
    long long write_ms = harness_now_ms() - t0;
    is_str(w && w->type == REDIS_REPLY_STATUS ? w->str : "(no status)", "OK", "gate: the write is answered");
    if (w)
        freeReplyObject(w);
    ok(write_ms >= 400, "gate: its reply waited for the deferred AOF write (%lld ms of 600)", write_ms);
    /* the EV_WRITE path: a client with a big reply still pending (its
     * socket full) runs a write; when it reads again, the rest of its
     * output, the write's reply included, waits for the deferred record */
    char *blob = malloc(200001);
    memset(blob, 'b', 200000);
    blob[200000] = '\0';
    for (int i = 0; i < 40; i++)
        freeReplyObject(redisCommand(writer, "RPUSH big %s", blob));
    free(blob);
    redisAppendCommand(reader, "LRANGE big 0 -1");
    done = 0;
    while (!done && redisBufferWrite(reader, &done) == REDIS_OK) {
    }
    harness_sleep_ms(200); /* the server fills the socket and waits for EV_WRITE */
    r = reply_text(writer, "DEBUG AOF-WRITE-DEFER 600");
    free(r);
    long long t2 = harness_now_ms();
    redisAppendCommand(reader, "SET evwrite-key evwrite-value");
    done = 0;
    while (!done && redisBufferWrite(reader, &done) == REDIS_OK) {
    }
    harness_sleep_ms(100); /* the SET runs; its reply queues behind the LRANGE's */
    redisReply *lr = NULL, *sr = NULL;
    redisGetReply(reader, (void **)&lr);
    redisGetReply(reader, (void **)&sr);
    long long evw_ms = harness_now_ms() - t2;
    in_file_at_read = harness_file_contains(incr, "evwrite-value");
    ok(lr && lr->type == REDIS_REPLY_ARRAY && lr->elements == 40, "gate: the big reply arrives whole (%zu elements)",
       lr && lr->type == REDIS_REPLY_ARRAY ? lr->elements : 0);
    is_str(sr && sr->type == REDIS_REPLY_STATUS ? sr->str : "(no status)", "OK", "gate: then the write's reply");
    ok(evw_ms >= 400 && in_file_at_read,
       "gate: on the EV_WRITE path too the write's reply waited for its record (%lld ms of 600, in the file: %d)", evw_ms,
       in_file_at_read);
    if (lr)
        freeReplyObject(lr);
    if (sr)
        freeReplyObject(sr);
    r = reply_text(writer, "SET after-defer 1");
    is_str(r, "OK", "gate: after the defer writes are answered again");
    free(r);
    redisFree(writer);
    redisFree(reader);
    proc_stop(&s);
}

/* ---- replies after the fsync of their own record -------------------------- */

#define PIPE_CLIENTS 4
#define PIPE_DEPTH 100
#define MAX_ID (PIPE_CLIENTS * 1000 + PIPE_DEPTH + 1)

/* The IDs "<n>-1" in one strace line (as written: "\r\n" escaped). */
static int ids_in(const char *line, int *out, int max)
{
    int n = 0;
    for (const char *p = line; (p = strstr(p, "-1\\r\\n")) != NULL && n < max; p += 5) {
        const char *q = p;
        while (q > line && q[-1] >= '0' && q[-1] <= '9')
            q--;
        if (q < p && (q == line || q[-1] == 'n' /* after "\r\n" */)) {
            int v = atoi(q);
            if (v > 0 && v < MAX_ID)
                out[n++] = v;
        }
    }
    return n;
}

static void test_reply_after_own_fsync(void)
{
    if (access("/usr/bin/strace", X_OK) != 0) {
        tap_skip_dep("strace", "strace not installed: reply/fsync order not traced");
        return;
    }
    char dir[400], trace[600], log[600], portbuf[16];
    proc_make_dir(dir, sizeof(dir), "strace-own");
    snprintf(trace, sizeof(trace), "%s/trace", dir);
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    int port = harness_free_port();
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *base[] = {"strace", "-f", "-y", "-s", "65536", "-e", "trace=write,writev,sendto,sendmsg,fdatasync,fsync",
                          "-o", trace, harness_server_path(), "--port", portbuf, "--bind", "127.0.0.1", "--dir", dir,
                          "--logfile", log, "--appendonly", "yes", "--appendfsync", "always", "--save", "", NULL};
    pid_t st = harness_spawn(base, NULL, HARNESS_QUIET_STDIN | HARNESS_QUIET_STDOUT | HARNESS_QUIET_STDERR);
    proc_track(st);
    struct proc s = {.pid = 0, .port = port};
    redisContext *cs[PIPE_CLIENTS];
    int up = 0;
    for (long long dl = harness_now_ms() + 30000; !up && harness_now_ms() < dl; harness_sleep_ms(50)) {
        redisContext *c = proc_conn(&s);
        redisReply *r = c && !c->err ? redisCommand(c, "PING") : NULL;
        up = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
        if (c)
            redisFree(c);
    }
    if (!up) {
        tap_skip_dep("strace", "the server does not start under strace (ptrace not permitted?)");
        kill(st, SIGKILL);
        waitpid(st, NULL, 0);
        proc_untrack(st);
        return;
    }
    for (int k = 0; k < PIPE_CLIENTS; k++)
        cs[k] = proc_conn(&s);
    for (int k = 0; k < PIPE_CLIENTS; k++)
        for (int i = 0; i < PIPE_DEPTH; i++)
            redisAppendCommand(cs[k], "XADD s%d %d-1 f v", k, (k + 1) * 1000 + i);
    int replied = 0;
    for (int k = 0; k < PIPE_CLIENTS; k++) {
        for (int i = 0; i < PIPE_DEPTH; i++) {
            redisReply *r;
            if (redisGetReply(cs[k], (void **)&r) == REDIS_OK) {
                replied += r->type == REDIS_REPLY_STRING;
                freeReplyObject(r);
            }
        }
        redisFree(cs[k]);
    }
    pid_t server = proc_child_of(st);
    if (server > 0)
        kill(server, SIGTERM);
    waitpid(st, NULL, 0);
    proc_untrack(st);
    is_int(replied, PIPE_CLIENTS * PIPE_DEPTH, "strace: every pipelined XADD got its ID back");

    /* state of each ID: 0 unseen, 1 in an AOF write, 2 fdatasynced after it */
    static unsigned char state[MAX_ID];
    memset(state, 0, sizeof(state));
    FILE *fp = fopen(trace, "r");
    long aof_writes = 0, fsyncs = 0, replies_checked = 0, early = 0;
    int ids[4096];
    size_t cap = 1 << 20;
    char *line = malloc(cap);
    while (fp && fgets(line, (int)cap, fp)) {
        int is_aof = strstr(line, "incr.aof>") != NULL;
        int is_sock = strstr(line, "<TCP") != NULL || strstr(line, "<socket:[") != NULL;
        int is_write = strstr(line, " write(") || strstr(line, " writev(") || strstr(line, " sendto(") ||
                       strstr(line, " sendmsg(");
        int is_sync = strstr(line, " fdatasync(") || strstr(line, " fsync(");
        if (is_aof && is_write) {
            aof_writes++;
            int n = ids_in(line, ids, 4096);
            for (int i = 0; i < n; i++)
                state[ids[i]] = 1;
        } else if (is_aof && is_sync) {
            fsyncs++;
            for (int i = 0; i < MAX_ID; i++)
                if (state[i] == 1)
                    state[i] = 2;
        } else if (is_sock && is_write) {
            int n = ids_in(line, ids, 4096);
            for (int i = 0; i < n; i++) {
                replies_checked++;
                if (state[ids[i]] != 2) {
                    if (!early)
                        tap_diag("reply %d-1 left with its record %s", ids[i],
                                 state[ids[i]] ? "written but not fdatasynced" : "not written");
                    early++;
                }
            }
        }
    }
    free(line);
    if (fp)
        fclose(fp);
    is_int(replies_checked, PIPE_CLIENTS * PIPE_DEPTH, "strace: every reply's ID found in a socket write");
    is_int(early, 0, "strace: each reply left after the AOF write of its own record and an fdatasync after it");
    ok(aof_writes > 0 && fsyncs > 0 && fsyncs * 4 <= PIPE_CLIENTS * PIPE_DEPTH,
       "group commit: %ld fdatasyncs (%ld AOF writes) for %d pipelined writes, where one per write makes %d",
       fsyncs, aof_writes, PIPE_CLIENTS * PIPE_DEPTH, PIPE_CLIENTS * PIPE_DEPTH);
}

int main(void)
{
    proc_init("aofclaims");
    test_blocking_pops_recorded();
    test_misconf_after_failed_write();
    test_everysec_postpones();
    test_gate_holds_unwritten();
    test_reply_after_own_fsync();
    return tap_done();
}
