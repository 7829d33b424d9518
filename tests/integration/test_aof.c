/* test_aof.c - the append-only file, end to end.
 *
 * Servers here are restarted on the same directory (the harness's
 * harness_start makes a fresh one each time), so this file runs its own
 * processes: start on a directory, SIGKILL, restart, compare.
 *
 *  - layout: the appendonlydir, its manifest lines, redis-check-aof and
 *    utils/sluice-check-aof agree it is valid;
 *  - every kind of write comes back identical after SIGKILL (DEBUG DIGEST
 *    before == after), TTLs as absolute times;
 *  - crash tests: writers LPUSH unique values with appendfsync always;
 *    the server is SIGKILLed (plain, during BGREWRITEAOF, during BGSAVE,
 *    during loading); after the restart every acknowledged value is
 *    there, exactly once, and nothing beyond what was in flight;
 *  - the wire order under strace: no reply is written while an AOF write
 *    is not yet covered by fdatasync; group commit shares fsyncs;
 *  - BGREWRITEAOF replies, automatic rewrite, CONFIG SET appendonly yes;
 *  - loading: torn tail, incomplete MULTI, corruption (refused, message),
 *    -LOADING while loading, the old single-file AOF upgraded;
 *  - interchange with redis-server 7.0 both ways, digests equal;
 *  - sluice-check-aof: valid, torn tail fixed, corruption refused.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
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
    char *out;
    if (!r)
        return strdup("(io error)");
    if (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR)
        out = strdup(r->str);
    else if (r->type == REDIS_REPLY_INTEGER) {
        if (asprintf(&out, "%lld", r->integer) < 0)
            out = NULL;
    } else if (r->type == REDIS_REPLY_NIL)
        out = strdup("(nil)");
    else
        out = strdup("(array)");
    freeReplyObject(r);
    return out;
}

static long long cmd_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : -999;
    if (r)
        freeReplyObject(r);
    return v;
}

static void digest(struct proc *p, char out[64])
{
    redisContext *c = proc_conn(p);
    char *d = c && !c->err ? cmd(c, "DEBUG DIGEST") : strdup("(no connection)");
    snprintf(out, 64, "%s", d);
    free(d);
    if (c)
        redisFree(c);
}

static int file_contains(const char *path, const char *needle)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[4096];
    int found = 0;
    while (!found && fgets(line, sizeof(line), fp))
        found = strstr(line, needle) != NULL;
    fclose(fp);
    return found;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        *len = 0;
        return NULL;
    }
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, fp);
    buf[*len] = '\0';
    fclose(fp);
    return buf;
}

static void append_file(const char *path, const char *data, size_t len)
{
    FILE *fp = fopen(path, "ab");
    if (fp) {
        fwrite(data, 1, len, fp);
        fclose(fp);
    }
}

/* Name of the last incremental file in dir/appendonlydir's manifest. */
static int last_incr(const char *dir, char *out, size_t len)
{
    char mpath[512];
    snprintf(mpath, sizeof(mpath), "%s/appendonlydir/appendonly.aof.manifest", dir);
    FILE *fp = fopen(mpath, "r");
    if (!fp)
        return -1;
    char line[512], name[256];
    int found = -1;
    while (fgets(line, sizeof(line), fp)) {
        char type;
        long long seq;
        if (sscanf(line, "file %255s seq %lld type %c", name, &seq, &type) == 3 && type == 'i') {
            snprintf(out, len, "%s/appendonlydir/%s", dir, name);
            found = 0;
        }
    }
    fclose(fp);
    return found;
}

static int run_status(const char *shell_cmd)
{
    int st = system(shell_cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Wait until INFO persistence says no rewrite runs and the manifest's
 * base has sequence >= seq. */
static int wait_base_seq(const char *dir, int seq, int ms)
{
    char mpath[512];
    snprintf(mpath, sizeof(mpath), "%s/appendonlydir/appendonly.aof.manifest", dir);
    long long deadline = harness_now_ms() + ms;
    while (harness_now_ms() < deadline) {
        FILE *fp = fopen(mpath, "r");
        if (fp) {
            char line[512], name[256];
            while (fgets(line, sizeof(line), fp)) {
                char type;
                long long s;
                if (sscanf(line, "file %255s seq %lld type %c", name, &s, &type) == 3 && type == 'b' && s >= seq) {
                    fclose(fp);
                    return 0;
                }
            }
            fclose(fp);
        }
        harness_sleep_ms(20);
    }
    return -1;
}

static const char *const AOF_ALWAYS[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};

/* ---- layout and identity after restart ------------------------------------------ */

static void write_everything(redisContext *c)
{
    char *r;
#define DO(...) (r = cmd(c, __VA_ARGS__), free(r))
    DO("SET s1 hello");
    DO("SET s2 %d", 12345);
    DO("SET ttl1 v EX 1000");
    DO("SET ttl2 v PX 500000");
    DO("SETEX ttl3 900 v");
    DO("SET k v");
    DO("EXPIRE k 800");
    DO("SET gone v");
    DO("EXPIRE gone -1");
    DO("SET f 10.5");
    DO("INCRBYFLOAT f 0.1");
    DO("SET gx v");
    DO("GETEX gx EX 700");
    DO("SET gd v");
    DO("GETDEL gd");
    DO("SET old v GET");
    DO("RPUSH l1 a b c d e f g");
    DO("LPUSH l1 z");
    DO("LPOP l1");
    DO("RPOPLPUSH l1 l2");
    DO("LMOVE l1 l3 LEFT RIGHT");
    DO("MULTI");
    DO("INCR counter");
    DO("RPUSH l4 x");
    DO("EXEC");
    DO("XADD st * f1 v1 f2 v2");
    DO("XADD st 9999999999999-1 f v");
    DO("XADD st * f v");
    DO("XADD st2 MAXLEN = 2 * a 1");
    DO("XADD st2 MAXLEN = 2 * a 2");
    DO("XADD st2 MAXLEN = 2 * a 3");
    DO("XGROUP CREATE st g1 0");
    DO("XGROUP CREATE st g2 $ MKSTREAM");
    DO("XREADGROUP GROUP g1 alice COUNT 2 STREAMS st >");
    DO("XREADGROUP GROUP g1 bob STREAMS st >");
    DO("XACK st g1 9999999999999-1");
    DO("XGROUP CREATECONSUMER st g1 carol");
    DO("XDEL st 9999999999999-1");
    DO("XADD empty MAXLEN 0 * x y");
    DO("SELECT 3");
    DO("SET indb3 v");
    DO("RPUSH list3 1 2 3");
    DO("SELECT 5");
    DO("SET indb5 v");
    DO("SWAPDB 5 6");
    DO("SELECT 0");
    DO("APPEND s1 world");
    DO("DEL s2");
#undef DO
}

/* preamble: the base is an RDB snapshot (the default) or commands. */
static void test_identity_and_layout(int preamble)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), preamble ? "identity-rdb" : "identity");
    struct proc s;
    const char *args[] = {"--appendonly", "yes", "--appendfsync", "always", "--aof-use-rdb-preamble",
                          preamble ? "yes" : "no", NULL};
    if (proc_start_sluice(&s, dir, args) != 0) {
        ok(0, "server with appendonly yes starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    write_everything(c);
    long long pttl_before = cmd_int(c, "PTTL ttl1");
    char before[64], after[64];
    digest(&s, before);
    redisFree(c);
    ok(strcmp(before, "0000000000000000000000000000000000000000") != 0, "digest of a non-empty dataset: %s", before);

    char path[600];
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.manifest", dir);
    size_t len;
    char *manifest = read_file(path, &len);
    is_str(manifest ? manifest : "(none)",
           preamble ? "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n"
                    : "file appendonly.aof.1.base.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
           "manifest lists the base (%s) and the incremental file, in Redis's line format", preamble ? "RDB" : "AOF");
    free(manifest);
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    char *incr = read_file(path, &len);
    ok(incr && strstr(incr, "PXAT") && !strstr(incr, "\r\nEX\r\n"), "SET EX is recorded as SET ... PXAT");
    ok(incr && strstr(incr, "PEXPIREAT") && !strstr(incr, "$6\r\nEXPIRE\r\n"), "EXPIRE is recorded as PEXPIREAT");
    ok(incr && strstr(incr, "KEEPTTL") && !strstr(incr, "INCRBYFLOAT"), "INCRBYFLOAT is recorded as SET KEEPTTL");
    ok(incr && strstr(incr, "*1\r\n$5\r\nMULTI\r\n") && strstr(incr, "*1\r\n$4\r\nEXEC\r\n"),
       "EXEC is recorded inside MULTI/EXEC");
    free(incr);

    /* the data into a base file (an RDB one with the preamble), more after */
    c = proc_conn(&s);
    char *rr = cmd(c, "BGREWRITEAOF");
    free(rr);
    ok(wait_base_seq(dir, 2, 30000) == 0, "BGREWRITEAOF writes base seq 2");
    freeReplyObject(redisCommand(c, "RPUSH after-rewrite a b"));
    freeReplyObject(redisCommand(c, "XADD st * after rewrite"));
    redisFree(c);
    digest(&s, before);

    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, args) == 0, "restarts on the same directory after SIGKILL");
    digest(&s, after);
    is_str(after, before, "DEBUG DIGEST after restart equals the one before the kill");
    c = proc_conn(&s);
    long long pttl_after = cmd_int(c, "PTTL ttl1");
    ok(pttl_after <= pttl_before && pttl_after > pttl_before - 60000,
       "TTL survives as an absolute time (%lld ms before, %lld after)", pttl_before, pttl_after);
    char *v = cmd(c, "GET s1");
    is_str(v, "helloworld", "APPEND replayed");
    free(v);
    redisFree(c);
    proc_stop(&s);

    /* the other tools agree the directory is valid */
    char tool[512], shell[1200];
    proc_build_path(tool, sizeof(tool), "utils/sluice-check-aof");
    snprintf(shell, sizeof(shell), "'%s' '%s/appendonlydir/appendonly.aof.manifest' > '%s/check.out' 2>&1", tool,
             dir, dir);
    is_int(run_status(shell), 0, "sluice-check-aof validates the directory");
    snprintf(path, sizeof(path), "%s/check.out", dir);
    ok(file_contains(path, "All AOF files and manifest are valid"), "sluice-check-aof reports every file valid");
    if (access("/usr/bin/redis-check-aof", X_OK) == 0) {
        snprintf(shell, sizeof(shell),
                 "redis-check-aof '%s/appendonlydir/appendonly.aof.manifest' > '%s/rcheck.out' 2>&1", dir, dir);
        is_int(run_status(shell), 0, "redis-check-aof (7.0) validates Sluice's appendonlydir");
    } else {
        tap_skip_dep("redis", "redis-check-aof not installed: redis-check-aof (7.0) validates Sluice's appendonlydir");
    }

    /* redis-server 7.0 loads it and has the same data */
    const char *rs = proc_redis_path();
    if (rs) {
        char rdir[300], shell2[800];
        proc_make_dir(rdir, sizeof(rdir), preamble ? "identity-rdb-redis" : "identity-redis");
        snprintf(shell2, sizeof(shell2), "cp -r '%s/appendonlydir' '%s/'", dir, rdir);
        run_status(shell2);
        struct proc r;
        const char *rargs[] = {"--appendonly", "yes", NULL};
        if (proc_start(&r, rs, rdir, rargs, 20000) == 0) {
            char rd[64];
            digest(&r, rd);
            is_str(rd, before, "redis-server 7.0 loads Sluice's AOF (%s base): same DEBUG DIGEST",
                   preamble ? "RDB" : "AOF");
            proc_stop(&r);
        } else {
            ok(0, "redis-server starts on Sluice's appendonlydir");
        }
    } else {
        tap_skip_dep("redis", "redis-server not installed: redis-server 7.0 loads Sluice's AOF");
    }
}

/* ---- crash tests -------------------------------------------------------------------- */

#define WRITERS 4

/* Shared with the writer processes: the highest sequence number each one
 * got a success reply for (-1: none). */
static volatile long long *acked;

/* Keys starting with "x" are streams (XADD), others lists (LPUSH). */
static void writer(int port, int id, const char *key)
{
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c || c->err)
        _exit(0);
    redisSetTimeout(c, tv);
    for (long long seq = 0;; seq++) {
        redisReply *r = key[0] == 'x' ? redisCommand(c, "XADD %s * v w%d-%lld", key, id, seq)
                                      : redisCommand(c, "LPUSH %s w%d-%lld", key, id, seq);
        if (!r || (r->type != REDIS_REPLY_INTEGER && r->type != REDIS_REPLY_STRING))
            _exit(0);
        freeReplyObject(r);
        acked[id] = seq;
    }
}

/* What a crash round saw at the kill. */
struct kill_info {
    char digest[64]; /* DEBUG DIGEST of the dataset the kill destroyed ("" if not taken) */
    pid_t child;     /* the BGSAVE/rewrite child alive when the kill landed (0: none) */
};

/* Start writers, let them run, then SIGKILL the server.
 * With `during` (which triggers a rewrite or a save), after_ms later; the
 * child's pid is read right before the kill, so a round "N ms into a
 * rewrite" proves the rewrite was still running.
 * paused: the writers are stopped (SIGSTOP) run_ms in, a moment is left
 * for what they had sent, and DEBUG DIGEST is taken before `during`; the
 * dataset the kill destroys is then exactly that digest (the child does
 * not change it), which the restart must reproduce.  Without pause the
 * writers keep going until the kill, and no digest can be exact. */
static void crash_round_at(struct proc *s, const char *key, int run_ms, void (*during)(struct proc *),
                           int after_ms, int paused, struct kill_info *ki)
{
    pid_t w[WRITERS];
    memset(ki, 0, sizeof(*ki));
    for (int i = 0; i < WRITERS; i++) {
        acked[i] = -1;
        w[i] = fork();
        if (w[i] == 0)
            writer(s->port, i, key);
    }
    harness_sleep_ms(run_ms);
    if (paused) {
        for (int i = 0; i < WRITERS; i++)
            kill(w[i], SIGSTOP);
        harness_sleep_ms(20); /* commands already sent are executed and logged */
        digest(s, ki->digest);
    }
    if (during)
        during(s);
    harness_sleep_ms(after_ms);
    ki->child = proc_child_of(s->pid);
    proc_kill9(s);
    for (int i = 0; i < WRITERS; i++) {
        kill(w[i], SIGKILL);
        waitpid(w[i], NULL, 0);
    }
}

/* Every acknowledged value is there exactly once; per writer the values
 * present are 0..k with k at most one past the last ack (the write in
 * flight when the server died may or may not have made it). */
static void verify_acked(struct proc *s, const char *key, const char *what)
{
    redisContext *c = proc_conn(s);
    int stream = key[0] == 'x';
    redisReply *r = stream ? redisCommand(c, "XRANGE %s - +", key) : redisCommand(c, "LRANGE %s 0 -1", key);
    long long next[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        next[i] = 0;
    int dup_or_gap = 0;
    if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t k = 0; k < r->elements; k++) {
            /* oldest first: LPUSH puts the newest at the head */
            redisReply *e = r->element[stream ? k : r->elements - 1 - k];
            const char *val = stream ? (e->element[1]->element[1]->str) : e->str;
            int id;
            long long seq;
            if (sscanf(val, "w%d-%lld", &id, &seq) != 2 || id < 0 || id >= WRITERS || seq != next[id]) {
                dup_or_gap = 1;
                continue;
            }
            next[id]++;
        }
    } else {
        dup_or_gap = 1;
    }
    int missing = 0, beyond = 0;
    long long total_acked = 0;
    for (int i = 0; i < WRITERS; i++) {
        total_acked += acked[i] + 1;
        if (next[i] - 1 < acked[i])
            missing = 1;
        if (next[i] - 1 > acked[i] + 1)
            beyond = 1;
    }
    ok(total_acked > 0, "%s: writers got acknowledgements (%lld)", what, total_acked);
    ok(!missing, "%s: every acknowledged write survived the SIGKILL", what);
    ok(!dup_or_gap, "%s: no value duplicated or skipped", what);
    ok(!beyond, "%s: nothing beyond the one write in flight per client", what);
    if (r)
        freeReplyObject(r);
    redisFree(c);
}

/* After the restart: the digest of the killed dataset is reproduced. */
static void verify_digest(struct proc *s, const struct kill_info *ki, const char *what)
{
    char after[64];
    digest(s, after);
    ok(strlen(ki->digest) == 40 && strcmp(ki->digest, "0000000000000000000000000000000000000000") != 0,
       "%s: DEBUG DIGEST taken before the kill (%s)", what, ki->digest);
    is_str(after, ki->digest, "%s: DEBUG DIGEST after the restart equals the one before the kill", what);
}

static void trigger_rewrite(struct proc *s)
{
    redisContext *c = proc_conn(s);
    char *r = cmd(c, "BGREWRITEAOF");
    if (strcmp(r, "Background append only file rewriting started") != 0)
        tap_diag("BGREWRITEAOF: %s", r);
    free(r);
    redisFree(c);
}

static void trigger_bgsave(struct proc *s)
{
    redisContext *c = proc_conn(s);
    char *r = cmd(c, "BGSAVE");
    if (strcmp(r, "Background saving started") != 0)
        tap_diag("BGSAVE: %s", r);
    free(r);
    redisFree(c);
}

/* The INFO persistence field `name` of a running server ("" if absent). */
static void info_field(redisContext *c, const char *name, char *out, size_t len)
{
    out[0] = '\0';
    redisReply *r = redisCommand(c, "INFO persistence");
    if (r && r->type == REDIS_REPLY_STRING) {
        char pat[64];
        snprintf(pat, sizeof(pat), "\r\n%s:", name);
        const char *p = strstr(r->str, pat);
        if (p) {
            p += strlen(pat);
            size_t n = strcspn(p, "\r\n");
            snprintf(out, len, "%.*s", (int)(n < len ? n : len - 1), p);
        }
    }
    if (r)
        freeReplyObject(r);
}

/* BGREWRITEAOF and wait until it completed (INFO: one more aof_rewrites,
 * none in progress); 1 when it did. */
static int rewrite_to_completion(struct proc *s)
{
    redisContext *c = proc_conn(s);
    char before[16], rewrites[16] = "", running[16] = "";
    info_field(c, "aof_rewrites", before, sizeof(before));
    char *r = cmd(c, "BGREWRITEAOF");
    if (strncmp(r, "Background append only file rewriting", 37) != 0)
        tap_diag("BGREWRITEAOF: %s", r);
    free(r);
    int done = 0;
    for (long long dl = harness_now_ms() + 60000; !done && harness_now_ms() < dl; harness_sleep_ms(20)) {
        info_field(c, "aof_rewrites", rewrites, sizeof(rewrites));
        info_field(c, "aof_rewrite_in_progress", running, sizeof(running));
        /* an automatic rewrite (the AOF doubled since the start) may
         * run too, and count as well */
        done = atoll(rewrites) >= atoll(before) + 1 && strcmp(running, "0") == 0;
    }
    redisFree(c);
    return done;
}

/* A paused crash round on key, a restart, the acknowledged writes and the
 * digest checked; the length the key then has (len_cmd: LLEN or XLEN). */
static long long crash_restart_verify(struct proc *s, const char *dir, const char *key, const char *len_cmd,
                                      const char *restart_what, const char *what)
{
    struct kill_info ki;
    crash_round_at(s, key, 300, NULL, 0, 1, &ki);
    ok(proc_start_sluice(s, dir, AOF_ALWAYS) == 0, "crash: restart after SIGKILL %s", restart_what);
    verify_acked(s, key, what);
    verify_digest(s, &ki, what);
    redisContext *c = proc_conn(s);
    long long len = cmd_int(c, "%s %s", len_cmd, key);
    redisFree(c);
    return len;
}

static void test_crash_durability(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "crash");
    acked = mmap(NULL, sizeof(long long) * WRITERS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    struct proc s;
    struct kill_info ki;
    /* some data first, so that rewrites, saves and loads take a while
     * (a rewrite of this is ~150 ms, a load longer) */
    if (proc_start_sluice(&s, dir, AOF_ALWAYS) != 0) {
        ok(0, "crash: server starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    char *r = cmd(c, "DEBUG POPULATE 50000 filler 100");
    free(r);
    redisFree(c);
    /* DEBUG POPULATE is not recorded (as in Redis): a rewrite puts the
     * filler in the base, or a restart would lose it */
    ok(rewrite_to_completion(&s), "crash: the filler is rewritten into the base");

    long long q1len = crash_restart_verify(&s, dir, "q1", "LLEN", "under load", "plain kill");
    long long xs1len = crash_restart_verify(&s, dir, "xs1", "XLEN", "under XADD load", "XADD, plain kill");

    /* writers going through the rewrite until the kill: no exact digest,
     * the acknowledged writes are what is checked */
    crash_round_at(&s, "q2", 300, trigger_rewrite, 5, 0, &ki);
    ok(ki.child > 0, "kill during rewrite under load: the rewrite child was running at the kill");
    ok(proc_start_sluice(&s, dir, AOF_ALWAYS) == 0, "crash: restart after SIGKILL during BGREWRITEAOF");
    verify_acked(&s, "q2", "kill during rewrite");

    c = proc_conn(&s);
    is_int(cmd_int(c, "LLEN q1"), q1len, "kill during rewrite: the list of an earlier round is intact");
    is_int(cmd_int(c, "XLEN xs1"), xs1len, "kill during rewrite: the stream of an earlier round is intact");
    redisFree(c);

    /* killed a few ms after the fork: the child is still writing */
    for (int k = 0; k < 3; k++) {
        char key[16], what[64];
        snprintf(key, sizeof(key), "q2%c", 'a' + k);
        snprintf(what, sizeof(what), "kill %d ms into a rewrite", 2 + 8 * k);
        crash_round_at(&s, key, 300, trigger_rewrite, 2 + 8 * k, 1, &ki);
        ok(ki.child > 0, "%s: the rewrite child was running at the kill", what);
        ok(proc_start_sluice(&s, dir, AOF_ALWAYS) == 0, "crash: restart after SIGKILL %d ms into a rewrite", 2 + 8 * k);
        verify_acked(&s, key, what);
        verify_digest(&s, &ki, what);
    }

    crash_round_at(&s, "xs3", 300, trigger_bgsave, 10, 1, &ki);
    ok(ki.child > 0, "kill during BGSAVE: the BGSAVE child was running at the kill");
    ok(proc_start_sluice(&s, dir, AOF_ALWAYS) == 0, "crash: restart after SIGKILL during BGSAVE");
    verify_acked(&s, "xs3", "XADD, kill during BGSAVE");
    verify_digest(&s, &ki, "XADD, kill during BGSAVE");

    /* a rewrite that completes, then more writes and a kill */
    ok(rewrite_to_completion(&s), "crash: a rewrite completes");
    crash_round_at(&s, "q4", 300, NULL, 0, 1, &ki);
    ok(proc_start_sluice(&s, dir, AOF_ALWAYS) == 0, "crash: restart after a completed rewrite");
    verify_acked(&s, "q4", "kill after rewrite");
    verify_digest(&s, &ki, "kill after rewrite");

    /* kill while loading: the files are not changed by a load.  INFO
     * answers during the load (at the loader's looks at the clients,
     * every 100 ms), so the load is made long (a million keys more, in
     * the base) and the kill comes once it said loading:1. */
    c = proc_conn(&s);
    r = cmd(c, "DEBUG POPULATE 1000000 big 10");
    free(r);
    redisFree(c);
    ok(rewrite_to_completion(&s), "crash: a million keys more, rewritten into the base");
    digest(&s, ki.digest);
    proc_stop(&s);
    struct proc l;
    /* and slowed (1 us once in 20 keys), whatever the machine's speed */
    const char *slow_load[] = {"--appendonly", "yes", "--appendfsync", "always", "--key-load-delay", "-20", NULL};
    proc_start(&l, harness_server_path(), dir, slow_load, 0);
    char loading[16] = "";
    long long deadline = harness_now_ms() + 20000;
    while (strcmp(loading, "1") != 0 && strcmp(loading, "0") != 0 && harness_now_ms() < deadline) {
        struct timeval tv = {1, 0};
        redisContext *lc = redisConnectWithTimeout("127.0.0.1", l.port, tv);
        if (lc && !lc->err)
            info_field(lc, "loading", loading, sizeof(loading));
        if (lc)
            redisFree(lc);
        if (!loading[0])
            harness_sleep_ms(1);
    }
    proc_kill9(&l);
    is_str(loading, "1", "kill during loading: INFO said loading:1 right before the kill");
    ok(proc_start_sluice(&s, dir, AOF_ALWAYS) == 0, "crash: restart after SIGKILL during loading");
    verify_digest(&s, &ki, "kill during loading");
    verify_acked(&s, "q4", "kill during loading");
    proc_stop(&s);

    char tool[512], shell[1200];
    proc_build_path(tool, sizeof(tool), "utils/sluice-check-aof");
    snprintf(shell, sizeof(shell), "'%s' '%s/appendonlydir/appendonly.aof.manifest' > /dev/null 2>&1", tool, dir);
    is_int(run_status(shell), 0, "crash: the directory is valid after all the kills");
}

/* ---- the wire order, traced -------------------------------------------------------- */

/* A server run under strace (write, fsync and fork calls, with fd paths and
 * timestamps) with appendfsync always.  strace_pid is the process we
 * started, server_pid the server itself (strace's child). */
struct traced {
    struct proc s;
    pid_t strace_pid, server_pid;
    char trace[400];
};

/* 1: started; 0: skipped (no strace, or ptrace not permitted), reported. */
static int start_traced(struct traced *t, const char *name, const char *const *extra)
{
    if (system("command -v strace >/dev/null 2>&1") != 0) { /* found as harness_spawn's execvp finds it */
        tap_skip_dep("strace", "strace not installed: the reply/fsync order under strace");
        return 0;
    }
    char dir[300];
    proc_make_dir(dir, sizeof(dir), name);
    snprintf(t->trace, sizeof(t->trace), "%s/trace.txt", dir);
    int port = harness_free_port();
    char portbuf[16], log[400];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    const char *base[] = {"strace", "-f", "-y", "-ttt", "-s", "0", "-e", "trace=write,writev,fdatasync,fsync,wait4",
                          "-o", t->trace, harness_server_path(), "--port", portbuf, "--bind", "127.0.0.1",
                          "--dir", dir, "--logfile", log, "--appendonly", "yes", "--appendfsync", "always",
                          "--save", "", "--enable-debug-command", "yes", NULL};
    pid_t pid = harness_spawn(base, extra, HARNESS_QUIET_STDIN | HARNESS_QUIET_STDOUT | HARNESS_QUIET_STDERR);
    proc_track(pid);
    t->strace_pid = pid;
    t->s.pid = pid;
    t->s.port = port;
    snprintf(t->s.dir, sizeof(t->s.dir), "%s", dir);
    redisContext *c = NULL;
    for (int i = 0; i < 500 && !c; i++) {
        harness_sleep_ms(20);
        c = proc_conn(&t->s);
        if (c && c->err) {
            redisFree(c);
            c = NULL;
        }
    }
    if (!c) {
        tap_skip_dep("strace", "the server does not start under strace (ptrace not permitted?)");
        proc_kill9(&t->s);
        return 0;
    }
    /* stop it by its own pid later: SIGTERM to strace would only detach */
    t->server_pid = 0;
    char *info = cmd(c, "INFO server");
    const char *p = strstr(info, "process_id:");
    if (p)
        t->server_pid = (pid_t)atol(p + 11);
    free(info);
    redisFree(c);
    if (t->server_pid > 0)
        proc_track(t->server_pid);
    return 1;
}

/* Stop the server; strace exits once its tracee did, with the whole trace
 * written. */
static void stop_traced(struct traced *t)
{
    if (t->server_pid > 0) {
        kill(t->server_pid, SIGTERM);
        proc_untrack(t->server_pid);
    }
    long long deadline = harness_now_ms() + 20000;
    while (harness_now_ms() < deadline && waitpid(t->strace_pid, NULL, WNOHANG) != t->strace_pid)
        harness_sleep_ms(10);
    if (harness_now_ms() >= deadline)
        proc_kill9(&t->s);
    proc_untrack(t->strace_pid);
}

static void test_strace_order(void)
{
    struct traced t;
    if (!start_traced(&t, "strace", NULL))
        return;
    redisContext *c = proc_conn(&t.s);
    /* sequential writes, then pipelines from several clients at once */
    for (int i = 0; i < 50; i++)
        freeReplyObject(redisCommand(c, "SET k%d v%d", i, i));
    redisContext *cs[4];
    for (int k = 0; k < 4; k++)
        cs[k] = proc_conn(&t.s);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 100; i++)
            redisAppendCommand(cs[k], "RPUSH p%d %d", k, i);
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 100; i++) {
            redisReply *r;
            if (redisGetReply(cs[k], (void **)&r) == REDIS_OK)
                freeReplyObject(r);
        }
    /* reads mixed with writes in one pipeline */
    for (int i = 0; i < 20; i++) {
        redisAppendCommand(c, "GET k%d", i);
        redisAppendCommand(c, "INCR n");
    }
    for (int i = 0; i < 40; i++) {
        redisReply *r;
        if (redisGetReply(c, (void **)&r) == REDIS_OK)
            freeReplyObject(r);
    }
    for (int k = 0; k < 4; k++)
        redisFree(cs[k]);
    redisFree(c);
    stop_traced(&t);

    FILE *fp = fopen(t.trace, "r");
    if (!fp) {
        ok(0, "strace wrote a trace");
        return;
    }
    char line[2048];
    int pending = 0, violations = 0;
    long aof_writes = 0, fsyncs = 0, replies = 0;
    while (fgets(line, sizeof(line), fp)) {
        if (strstr(line, "resumed>") && !strstr(line, "write"))
            continue;
        int is_aof = strstr(line, "incr.aof>") != NULL;
        int is_sock = strstr(line, "<TCP") != NULL || strstr(line, "<socket:[") != NULL;
        if ((strstr(line, " write(") || strstr(line, " writev(")) && is_aof) {
            aof_writes++;
            pending = 1;
        } else if ((strstr(line, " fdatasync(") || strstr(line, " fsync(")) && is_aof) {
            fsyncs++;
            pending = 0;
        } else if ((strstr(line, " write(") || strstr(line, " writev(")) && is_sock) {
            replies++;
            if (pending)
                violations++;
        }
    }
    fclose(fp);
    ok(aof_writes >= 50 && fsyncs >= 50 && replies >= 50,
       "strace saw AOF writes (%ld), fdatasyncs (%ld) and replies (%ld)", aof_writes, fsyncs, replies);
    is_int(violations, 0, "no reply was written while an AOF write awaited its fdatasync");
    ok(fsyncs < 50 + 400 + 20, "group commit: %ld fdatasyncs for %d writes", fsyncs, 50 + 400 + 20);
}

/* no-appendfsync-on-rewrite yes: while a fork child runs, AOF writes are
 * not fsynced (their replies go out at once); as soon as the child is gone
 * what was written meanwhile is fsynced, before any new write arrives. */
static void test_no_fsync_while_child(void)
{
    const char *extra[] = {"--no-appendfsync-on-rewrite", "yes", NULL};
    struct traced t;
    if (!start_traced(&t, "nofsync", extra))
        return;
    redisContext *c = proc_conn(&t.s);
    char *r = cmd(c, "DEBUG POPULATE 300000 pop 100");
    free(r);
    r = cmd(c, "BGSAVE");
    is_str(r, "Background saving started", "no-appendfsync-on-rewrite: a BGSAVE runs");
    free(r);
    int during = 0;
    for (int i = 0; i < 500 && proc_child_of(t.server_pid); i++) {
        freeReplyObject(redisCommand(c, "SET during%d v", i));
        during += proc_child_of(t.server_pid) != 0; /* the whole round trip inside the child's life */
    }
    long long deadline = harness_now_ms() + 60000;
    for (;;) {
        char *info = cmd(c, "INFO persistence");
        int running = strstr(info, "rdb_bgsave_in_progress:1") != NULL;
        free(info);
        if (!running || harness_now_ms() > deadline)
            break;
        harness_sleep_ms(20);
    }
    harness_sleep_ms(300); /* idle: only the owed fsync may touch the AOF now */
    for (int i = 0; i < 5; i++)
        freeReplyObject(redisCommand(c, "SET after%d v", i));
    redisFree(c);
    stop_traced(&t);

    FILE *fp = fopen(t.trace, "r");
    if (!fp) {
        ok(0, "strace wrote a trace");
        return;
    }
    /* first pass: the child's pid and the end of its life */
    char line[2048];
    long child = 0;
    double child_start = 0, child_end = 0;
    while (fgets(line, sizeof(line), fp)) {
        long pid;
        double ts;
        if (sscanf(line, "%ld %lf", &pid, &ts) != 2)
            continue;
        if (!child && pid != t.server_pid && strstr(line, ".rdb>")) {
            child = pid;
            child_start = ts;
        }
        /* the end of the child's life for the server is when it reaps it:
         * until then a child is active and writes stay unsynced (a write
         * between the child's exit and the reap is not "after") */
        const char *ret = strrchr(line, '=');
        if (child && pid == t.server_pid && strstr(line, "wait4(") && ret && atol(ret + 1) == child)
            child_end = ts;
    }
    /* second pass: the server's AOF writes and fsyncs, inside and after */
    rewind(fp);
    long writes_in = 0, syncs_in = 0, writes_after = 0, syncs_after = 0;
    const char *first_after = NULL;
    while (fgets(line, sizeof(line), fp)) {
        long pid;
        double ts;
        if (sscanf(line, "%ld %lf", &pid, &ts) != 2 || pid != t.server_pid || !strstr(line, "incr.aof>"))
            continue;
        int is_sync = strstr(line, " fdatasync(") || strstr(line, " fsync(");
        int is_write = strstr(line, " write(") || strstr(line, " writev(");
        if (ts >= child_start && ts <= child_end) {
            writes_in += is_write;
            syncs_in += is_sync;
        } else if (child_end && ts > child_end) {
            if (!first_after && (is_sync || is_write))
                first_after = is_sync ? "fdatasync" : "write";
            writes_after += is_write;
            syncs_after += is_sync;
        }
    }
    fclose(fp);
    ok(child && child_end > child_start && during > 0 && writes_in > 0,
       "the trace shows the child's life and %ld AOF writes in it (%d writes answered meanwhile)", writes_in, during);
    is_int(syncs_in, 0, "no AOF fsync while the child runs");
    is_str(first_after ? first_after : "(none)", "fdatasync",
           "once the child is gone, the unsynced writes are fsynced before any new write");
    ok(writes_after >= 5 && syncs_after >= 6, "afterwards every write is fsynced again (%ld writes, %ld fsyncs)",
       writes_after, syncs_after);
}

/* ---- rewrite ------------------------------------------------------------------------- */

static void test_rewrite(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "rewrite");
    struct proc s;
    const char *args[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", "no", NULL};
    if (proc_start_sluice(&s, dir, args) != 0) {
        ok(0, "rewrite: server starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    char *r = cmd(c, "DEBUG POPULATE 300000 key 50");
    free(r);
    for (int i = 0; i < 100; i++)
        freeReplyObject(redisCommand(c, "RPUSH biglist %d %d %d", i, i * 2, i * 3));
    freeReplyObject(redisCommand(c, "SET withttl v PX 900000"));
    r = cmd(c, "BGREWRITEAOF");
    is_str(r, "Background append only file rewriting started", "BGREWRITEAOF starts a rewrite");
    free(r);
    r = cmd(c, "BGREWRITEAOF");
    is_str(r, "ERR Background append only file rewriting already in progress",
           "a second BGREWRITEAOF while one runs is refused");
    free(r);
    freeReplyObject(redisCommand(c, "SET during rewrite"));
    ok(wait_base_seq(dir, 2, 60000) == 0, "the manifest switches to base seq 2");
    char path[600];
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    harness_sleep_ms(200);
    ok(access(path, F_OK) != 0, "the history files are deleted after the switch");
    freeReplyObject(redisCommand(c, "SET after rewrite"));
    r = cmd(c, "INFO persistence");
    ok(strstr(r, "aof_enabled:1\r\n") && strstr(r, "aof_rewrites:1\r\n") &&
           strstr(r, "aof_last_bgrewrite_status:ok\r\n") && strstr(r, "aof_rewrite_in_progress:0\r\n") &&
           strstr(r, "aof_current_size:") && strstr(r, "aof_delayed_fsync:0\r\n"),
       "INFO persistence reports the AOF and its rewrite as Redis 7.0 does");
    const char *cow = strstr(r, "aof_last_cow_size:");
    ok(cow && atoll(cow + strlen("aof_last_cow_size:")) > 0, "aof_last_cow_size: the rewrite child's peak (%lld)",
       cow ? atoll(cow + strlen("aof_last_cow_size:")) : -1);
    free(r);
    char before[64], after[64];
    digest(&s, before);
    redisFree(c);
    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, args) == 0, "rewrite: restart");
    digest(&s, after);
    is_str(after, before, "rewrite: dataset identical after restart (base + incr)");

    /* BGREWRITEAOF while BGSAVE runs: scheduled, then run after it */
    c = proc_conn(&s);
    redisAppendCommand(c, "BGSAVE");
    redisAppendCommand(c, "BGREWRITEAOF");
    redisReply *r1 = NULL, *r2 = NULL;
    redisGetReply(c, (void **)&r1);
    redisGetReply(c, (void **)&r2);
    if (r1 && r1->type == REDIS_REPLY_STATUS && !strcmp(r1->str, "Background saving started")) {
        is_str(r2 ? r2->str : "(null)", "Background append only file rewriting scheduled",
               "BGREWRITEAOF while BGSAVE runs is scheduled");
        ok(wait_base_seq(dir, 3, 60000) == 0, "the scheduled rewrite runs once BGSAVE is done");
    } else {
        ok(0, "BGSAVE starts (%s)", r1 && r1->str ? r1->str : "?");
    }
    if (r1)
        freeReplyObject(r1);
    if (r2)
        freeReplyObject(r2);

    /* DEBUG LOADAOF reads back exactly what is in memory */
    digest(&s, before);
    r = cmd(c, "DEBUG LOADAOF");
    is_str(r, "OK", "DEBUG LOADAOF");
    free(r);
    digest(&s, after);
    is_str(after, before, "DEBUG LOADAOF: same digest after reloading the AOF");
    redisFree(c);
    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, args) == 0, "restart after DEBUG LOADAOF");
    digest(&s, after);
    is_str(after, before, "DEBUG LOADAOF recorded nothing twice: same digest after a restart");
    c = proc_conn(&s);

    /* automatic rewrite on growth */
    r = cmd(c, "CONFIG SET auto-aof-rewrite-min-size 1mb");
    free(r);
    r = cmd(c, "CONFIG SET auto-aof-rewrite-percentage 5");
    free(r);
    for (int i = 0; i < 3000; i++)
        redisAppendCommand(c, "SET auto%d %0500d", i, i);
    for (int i = 0; i < 3000; i++) {
        redisReply *rr;
        if (redisGetReply(c, (void **)&rr) == REDIS_OK)
            freeReplyObject(rr);
    }
    ok(wait_base_seq(dir, 4, 60000) == 0, "auto-aof-rewrite-percentage triggers a rewrite (base seq 4)");
    digest(&s, before);
    redisFree(c);
    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, args) == 0, "auto rewrite: restart");
    digest(&s, after);
    is_str(after, before, "auto rewrite: dataset identical after restart");
    proc_stop(&s);
}

static void test_enable_at_runtime(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "enable");
    struct proc s;
    const char *off[] = {"--appendonly", "no", NULL};
    if (proc_start_sluice(&s, dir, off) != 0) {
        ok(0, "enable: server starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    freeReplyObject(redisCommand(c, "RPUSH before 1 2 3"));
    freeReplyObject(redisCommand(c, "SET x y EX 5000"));
    char *r = cmd(c, "CONFIG SET appendonly yes");
    is_str(r, "OK", "CONFIG SET appendonly yes");
    free(r);
    freeReplyObject(redisCommand(c, "RPUSH after 4 5 6"));
    ok(wait_base_seq(dir, 1, 30000) == 0, "enabling the AOF writes a base file and a manifest");
    harness_sleep_ms(200);
    freeReplyObject(redisCommand(c, "RPUSH after 7"));
    char before[64], after[64];
    digest(&s, before);
    redisFree(c);
    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, AOF_ALWAYS) == 0, "enable: restart with appendonly yes");
    digest(&s, after);
    is_str(after, before, "enable: writes before and after CONFIG SET appendonly yes are all there");
    c = proc_conn(&s);
    r = cmd(c, "CONFIG SET appendonly no");
    is_str(r, "OK", "CONFIG SET appendonly no");
    free(r);
    redisFree(c);
    proc_stop(&s);
}

static void test_fsync_modes(void)
{
    const char *modes[] = {"everysec", "no"};
    for (int m = 0; m < 2; m++) {
        char dir[300];
        char name[32];
        snprintf(name, sizeof(name), "fsync-%s", modes[m]);
        proc_make_dir(dir, sizeof(dir), name);
        struct proc s;
        const char *args[] = {"--appendonly", "yes", "--appendfsync", modes[m], NULL};
        if (proc_start_sluice(&s, dir, args) != 0) {
            ok(0, "appendfsync %s: starts", modes[m]);
            continue;
        }
        redisContext *c = proc_conn(&s);
        write_everything(c);
        for (int i = 0; i < 2000; i++)
            redisAppendCommand(c, "RPUSH big %d", i);
        for (int i = 0; i < 2000; i++) {
            redisReply *r;
            if (redisGetReply(c, (void **)&r) == REDIS_OK)
                freeReplyObject(r);
        }
        harness_sleep_ms(1200); /* everysec: at least one background fsync */
        char *r = cmd(c, "CONFIG SET appendfsync always");
        is_str(r, "OK", "appendfsync %s: CONFIG SET appendfsync always at runtime", modes[m]);
        free(r);
        freeReplyObject(redisCommand(c, "SET last one"));
        redisFree(c);
        char before[64], after[64];
        digest(&s, before);
        proc_kill9(&s);
        ok(proc_start_sluice(&s, dir, args) == 0, "appendfsync %s: restart after SIGKILL", modes[m]);
        digest(&s, after);
        is_str(after, before, "appendfsync %s: dataset identical after restart", modes[m]);
        proc_stop(&s);
    }
}

/* ---- loading -------------------------------------------------------------------------- */

static void prepare_dir(char *dir, size_t len, const char *name)
{
    proc_make_dir(dir, len, name);
    struct proc s;
    const char *args[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", "no", NULL};
    if (proc_start_sluice(&s, dir, args) != 0)
        return;
    redisContext *c = proc_conn(&s);
    freeReplyObject(redisCommand(c, "SET a 1"));
    freeReplyObject(redisCommand(c, "RPUSH l x y"));
    redisFree(c);
    proc_stop(&s);
}

static void test_loading(void)
{
    char dir[300], incr[600], log[600];
    const char *trunc_yes[] = {"--appendonly", "yes", "--aof-load-truncated", "yes", NULL};
    const char *trunc_no[] = {"--appendonly", "yes", "--aof-load-truncated", "no", NULL};

    /* torn tail */
    prepare_dir(dir, sizeof(dir), "torn");
    last_incr(dir, incr, sizeof(incr));
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    const char torn[] = "*3\r\n$3\r\nSET\r\n$1\r\nb\r\n$5\r\nhel";
    append_file(incr, torn, sizeof(torn) - 1);
    struct proc s;
    proc_start(&s, harness_server_path(), dir, trunc_no, 0);
    is_int(proc_wait_exit(&s, 20000), 1, "torn tail with aof-load-truncated no: refuses to start");
    ok(file_contains(log, "Unexpected end of file reading the append only file"), "and says why");
    ok(proc_start_sluice(&s, dir, trunc_yes) == 0, "torn tail with aof-load-truncated yes: starts");
    ok(file_contains(log, "!!! Warning: short read while loading the AOF file") &&
           file_contains(log, "loaded anyway because aof-load-truncated is enabled"),
       "the truncation is logged as Redis logs it");
    redisContext *c = proc_conn(&s);
    char *v = cmd(c, "GET a");
    is_str(v, "1", "data before the torn tail is loaded");
    free(v);
    v = cmd(c, "EXISTS b");
    is_str(v, "0", "the torn command is not");
    free(v);
    freeReplyObject(redisCommand(c, "SET c 3"));
    redisFree(c);
    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, trunc_no) == 0, "after the truncation the file loads strictly");
    c = proc_conn(&s);
    v = cmd(c, "GET c");
    is_str(v, "3", "writes after the truncation follow whole commands");
    free(v);
    redisFree(c);
    proc_stop(&s);

    /* a torn tail followed only by an empty incremental file (a crash
     * right after a rewrite started): still the end of the data */
    prepare_dir(dir, sizeof(dir), "torn-then-empty");
    last_incr(dir, incr, sizeof(incr));
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    append_file(incr, torn, sizeof(torn) - 1);
    char mpath[600], empty_incr[600];
    snprintf(mpath, sizeof(mpath), "%s/appendonlydir/appendonly.aof.manifest", dir);
    snprintf(empty_incr, sizeof(empty_incr), "%s/appendonlydir/appendonly.aof.2.incr.aof", dir);
    append_file(empty_incr, "", 0);
    append_file(mpath, "file appendonly.aof.2.incr.aof seq 2 type i\n", 44);
    ok(proc_start_sluice(&s, dir, trunc_yes) == 0, "a torn tail before an empty last incremental file: starts");
    c = proc_conn(&s);
    v = cmd(c, "GET a");
    is_str(v, "1", "and loads the data before the torn tail");
    free(v);
    redisFree(c);
    proc_stop(&s);

    /* MULTI without EXEC at the end */
    prepare_dir(dir, sizeof(dir), "multi");
    last_incr(dir, incr, sizeof(incr));
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    const char open_multi[] = "*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nm\r\n$1\r\n1\r\n";
    append_file(incr, open_multi, sizeof(open_multi) - 1);
    ok(proc_start_sluice(&s, dir, trunc_yes) == 0, "a transaction without EXEC at the end: starts");
    ok(file_contains(log, "Revert incomplete MULTI/EXEC transaction"), "and logs the revert");
    c = proc_conn(&s);
    v = cmd(c, "EXISTS m");
    is_str(v, "0", "the incomplete transaction is not applied");
    free(v);
    redisFree(c);
    proc_stop(&s);

    /* corruption in the middle */
    prepare_dir(dir, sizeof(dir), "corrupt");
    last_incr(dir, incr, sizeof(incr));
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    const char bad[] = "*2\r\n$3\r\nDEL\r\n$1\r\na\r\nGARBAGE\r\n*2\r\n$3\r\nDEL\r\n$1\r\nl\r\n";
    append_file(incr, bad, sizeof(bad) - 1);
    proc_start(&s, harness_server_path(), dir, trunc_yes, 0);
    is_int(proc_wait_exit(&s, 20000), 1, "corruption in the middle: refuses to start even with aof-load-truncated yes");
    ok(file_contains(log, "Bad file format reading the append only file appendonly.aof.1.incr.aof at offset"),
       "the message names the file and the offset");
    ok(file_contains(log, "utils/sluice-check-aof"), "and the check tool");

    /* the check tool on the same files */
    char tool[512], shell[2200], out[600];
    proc_build_path(tool, sizeof(tool), "utils/sluice-check-aof");
    snprintf(out, sizeof(out), "%s/check.out", dir);
    snprintf(shell, sizeof(shell), "'%s' --fix '%s/appendonlydir/appendonly.aof.manifest' > '%s' 2>&1", tool, dir,
             out);
    is_int(run_status(shell), 1, "sluice-check-aof --fix refuses to truncate a corruption in the middle");
    ok(file_contains(out, "is not valid: corrupt at offset"), "and reports the offset");
    prepare_dir(dir, sizeof(dir), "checkfix");
    last_incr(dir, incr, sizeof(incr));
    append_file(incr, torn, sizeof(torn) - 1);
    snprintf(out, sizeof(out), "%s/check.out", dir);
    snprintf(shell, sizeof(shell), "'%s' '%s/appendonlydir/appendonly.aof.manifest' > '%s' 2>&1", tool, dir, out);
    is_int(run_status(shell), 1, "sluice-check-aof: a torn tail is invalid");
    snprintf(shell, sizeof(shell), "'%s' --fix '%s/appendonlydir/appendonly.aof.manifest' > '%s' 2>&1", tool, dir,
             out);
    is_int(run_status(shell), 0, "sluice-check-aof --fix truncates the torn tail");
    ok(file_contains(out, "Successfully truncated AOF"), "and says so");
    ok(proc_start_sluice(&s, dir, trunc_no) == 0, "the fixed directory loads with aof-load-truncated no");
    proc_stop(&s);

    /* -LOADING while a big AOF loads */
    proc_make_dir(dir, sizeof(dir), "loading");
    char adir[400];
    snprintf(adir, sizeof(adir), "%s/appendonlydir", dir);
    mkdir(adir, 0755);
    char path[600];
    snprintf(path, sizeof(path), "%s/appendonly.aof.1.incr.aof", adir);
    FILE *fp = fopen(path, "w");
    /* key-load-delay (Redis's test knob) stretches the load to a few
     * seconds, whatever the machine's speed: unslowed, 1M commands load
     * in 0.1 s, too fast for a client to catch the loading state */
    for (int i = 0; i < 50000; i++)
        fprintf(fp, "*3\r\n$5\r\nRPUSH\r\n$5\r\nlist%d\r\n$8\r\n%08d\r\n", i % 10, i);
    fclose(fp);
    snprintf(path, sizeof(path), "%s/appendonly.aof.manifest", adir);
    fp = fopen(path, "w");
    fprintf(fp, "file appendonly.aof.1.incr.aof seq 1 type i\n");
    fclose(fp);
    const char *slow_load[] = {"--appendonly", "yes", "--aof-load-truncated", "no", "--key-load-delay", "20", NULL};
    proc_start(&s, harness_server_path(), dir, slow_load, 0);
    int saw_loading = 0, saw_info = 0;
    long long deadline = harness_now_ms() + 60000;
    while (harness_now_ms() < deadline) {
        c = proc_conn(&s);
        if (!c || c->err) {
            if (c)
                redisFree(c);
            harness_sleep_ms(5);
            continue;
        }
        /* until INFO says the load is over: each answer waits for the
         * loader's next look at the clients (every 100 ms) */
        /* pipelined: both are answered in the same look at the clients */
        redisAppendCommand(c, "INFO persistence");
        redisAppendCommand(c, "GET x");
        redisReply *ri = NULL, *rg = NULL;
        redisGetReply(c, (void **)&ri);
        redisGetReply(c, (void **)&rg);
        const char *info = ri && ri->str ? ri->str : "";
        int done = strstr(info, "\nloading:0") != NULL; /* not async_loading */
        if (strstr(info, "\nloading:1") && strstr(info, "loading_total_bytes:") &&
            strstr(info, "loading_loaded_perc:"))
            saw_info = 1;
        if (rg && rg->type == REDIS_REPLY_ERROR && strncmp(rg->str, "LOADING", 7) == 0)
            saw_loading = 1;
        if (ri)
            freeReplyObject(ri);
        if (rg)
            freeReplyObject(rg);
        redisFree(c);
        if (done)
            break;
        harness_sleep_ms(5);
    }
    ok(saw_loading, "commands get -LOADING while the AOF loads");
    ok(saw_info, "INFO answers during loading: loading:1 and the loading_* progress fields");
    c = proc_conn(&s);
    long long n = cmd_int(c, "LLEN list3");
    is_int(n, 5000, "the whole AOF is loaded");
    redisFree(c);
    proc_stop(&s);

    /* old-style single file */
    proc_make_dir(dir, sizeof(dir), "upgrade");
    snprintf(path, sizeof(path), "%s/appendonly.aof", dir);
    fp = fopen(path, "w");
    fprintf(fp, "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$3\r\nold\r\n$5\r\nstyle\r\n");
    fclose(fp);
    ok(proc_start_sluice(&s, dir, trunc_no) == 0, "an old-style appendonly.aof: starts");
    c = proc_conn(&s);
    v = cmd(c, "GET old");
    is_str(v, "style", "its data is loaded");
    free(v);
    freeReplyObject(redisCommand(c, "SET new one"));
    redisFree(c);
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof", dir);
    ok(access(path, F_OK) == 0, "the file is moved into the AOF directory");
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.manifest", dir);
    ok(file_contains(path, "file appendonly.aof seq 1 type b"), "and becomes the manifest's base");
    proc_kill9(&s);
    ok(proc_start_sluice(&s, dir, trunc_no) == 0, "upgraded directory: restart");
    c = proc_conn(&s);
    v = cmd(c, "GET new");
    is_str(v, "one", "writes after the upgrade are kept");
    free(v);
    redisFree(c);
    proc_stop(&s);
}

/* ---- interchange: Sluice loads what redis-server wrote ------------------------------------- */

static void test_load_redis_dir(void)
{
    const char *rs = proc_redis_path();
    if (!rs) {
        tap_skip_dep("redis", "redis-server not installed: Sluice loads an appendonlydir written by redis-server");
        return;
    }
    for (int preamble = 0; preamble < 2; preamble++) {
        char dir[300];
        proc_make_dir(dir, sizeof(dir), preamble ? "from-redis-rdb" : "from-redis-aof");
        struct proc r;
        const char *rargs[] = {"--appendonly", "yes", "--aof-use-rdb-preamble", preamble ? "yes" : "no", NULL};
        if (proc_start(&r, rs, dir, rargs, 20000) != 0) {
            ok(0, "redis-server starts");
            continue;
        }
        redisContext *c = proc_conn(&r);
        write_everything(c);
        freeReplyObject(redisCommand(c, "BGREWRITEAOF"));
        harness_sleep_ms(500);
        freeReplyObject(redisCommand(c, "RPUSH after-rewrite 1 2 3"));
        freeReplyObject(redisCommand(c, "SET tail v PX 800000"));
        redisFree(c);
        char rd[64], sd[64];
        digest(&r, rd);
        proc_stop(&r);
        struct proc s;
        const char *sargs[] = {"--appendonly", "yes", NULL};
        /* The load must succeed: a refusal to start is a failure (the RDB
         * base is what redis-server writes by default), and the data must
         * be there, not just an equal digest of two empty datasets. */
        if (proc_start_sluice(&s, dir, sargs) != 0) {
            ok(0, "Sluice starts on redis-server's appendonlydir (%s base)", preamble ? "RDB" : "AOF");
            continue;
        }
        digest(&s, sd);
        ok(strlen(rd) == 40 && strspn(rd, "0123456789abcdef") == 40 && strspn(rd, "0") != 40, "redis-server's dataset (%s base) is not empty: digest %s",
           preamble ? "RDB" : "AOF", rd);
        is_str(sd, rd, "Sluice loads an appendonlydir written by redis-server 7.0 (%s base): same digest",
               preamble ? "RDB" : "AOF");
        redisContext *sc = proc_conn(&s);
        redisReply *lr = sc ? redisCommand(sc, "LRANGE after-rewrite 0 -1") : NULL;
        ok(lr && lr->type == REDIS_REPLY_ARRAY && lr->elements == 3 && !strcmp(lr->element[0]->str, "1") &&
               !strcmp(lr->element[2]->str, "3"),
           "Sluice loads redis-server's %s base and its tail: after-rewrite is [1 2 3]", preamble ? "RDB" : "AOF");
        if (lr)
            freeReplyObject(lr);
        lr = sc ? redisCommand(sc, "PTTL tail") : NULL;
        ok(lr && lr->type == REDIS_REPLY_INTEGER && lr->integer > 0 && lr->integer <= 800000,
           "Sluice loads redis-server's %s base: tail keeps its TTL (%lld)", preamble ? "RDB" : "AOF",
           lr && lr->type == REDIS_REPLY_INTEGER ? lr->integer : -3);
        if (lr)
            freeReplyObject(lr);
        if (sc)
            redisFree(sc);
        proc_stop(&s);
    }
}

int main(void)
{
    proc_init("aof");
    test_identity_and_layout(0);
    test_identity_and_layout(1);
    test_crash_durability();
    test_strace_order();
    test_no_fsync_while_child();
    test_rewrite();
    test_enable_at_runtime();
    test_fsync_modes();
    test_loading();
    test_load_redis_dir();
    return tap_done();
}
