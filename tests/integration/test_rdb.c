/* test_rdb.c - integration tests of RDB snapshots.
 *
 *  - SAVE then restart: the same dataset (strings of every encoding, lists
 *    small/large/with integers/binary, TTLs as absolute times, a key whose
 *    TTL passes while the server is down is not loaded, several databases,
 *    streams with groups, consumers and pending entries);
 *  - LASTSAVE, save points, BGSAVE (and its errors) under write load, the
 *    snapshot being exactly the dataset at the fork;
 *  - SHUTDOWN SAVE / NOSAVE / SIGTERM, a failing save keeping the server up
 *    ("Errors trying to SHUTDOWN"), FLUSHALL rewriting the snapshot;
 *  - corrupt, truncated and foreign (hash) files stop startup with the file
 *    name in the error;
 *  - a crash (kill -9) in the middle of a BGSAVE: the torn temp file is
 *    never used, the previous snapshot loads;
 *  - interchange with redis-server 7.0: Sluice's file passes
 *    redis-check-rdb and loads in Redis with identical contents, Redis's
 *    file (lists of many sizes and fill settings, compressed nodes,
 *    streams with groups and tombstones, rdbchecksum/rdbcompression off)
 *    loads in Sluice with identical contents, DUMP/RESTORE both ways;
 *  - -LOADING while a 2M-key file loads.
 * Contents are compared through a full listing of every key: type,
 * absolute expire time, value (streams: entries, metadata, groups,
 * consumers, pending entries), and through DEBUG DIGEST.
 *
 * Every server runs on a free port in a temporary directory and is stopped
 * at exit.  SLUICE_SKIP_SLOW=1 skips the 2M-key loading test.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"

/* ---- text buffers and dataset listings --------------------------------------------------- */

struct buf {
    char *p;
    size_t len, cap;
};

static void buf_cat(struct buf *b, const void *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_catf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_catf(struct buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    buf_cat(b, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

static void buf_repr(struct buf *b, const char *s, size_t n)
{
    buf_cat(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 32 && c < 127 && c != '"' && c != '\\')
            buf_cat(b, &s[i], 1);
        else
            buf_catf(b, "\\x%02x", c);
    }
    buf_cat(b, "\"", 1);
}

static void reply_text(struct buf *b, const redisReply *r)
{
    if (!r) {
        buf_cat(b, "(io)", 4);
        return;
    }
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: buf_repr(b, r->str, r->len); break;
    case REDIS_REPLY_ERROR: buf_catf(b, "(error %s)", r->str); break;
    case REDIS_REPLY_INTEGER: buf_catf(b, "%lld", r->integer); break;
    case REDIS_REPLY_NIL: buf_cat(b, "nil", 3); break;
    case REDIS_REPLY_ARRAY:
        buf_cat(b, "[", 1);
        for (size_t i = 0; i < r->elements; i++) {
            if (i)
                buf_cat(b, ",", 1);
            reply_text(b, r->element[i]);
        }
        buf_cat(b, "]", 1);
        break;
    default: buf_cat(b, "?", 1);
    }
}

/* Field `name` of a flat key/value array reply (XINFO), or NULL. */
static const redisReply *field(const redisReply *r, const char *name)
{
    if (!r || r->type != REDIS_REPLY_ARRAY)
        return NULL;
    for (size_t i = 0; i + 1 < r->elements; i += 2)
        if (r->element[i]->type == REDIS_REPLY_STRING && !strcmp(r->element[i]->str, name))
            return r->element[i + 1];
    return NULL;
}

static void cat_fields(struct buf *b, const redisReply *r, const char *const *names)
{
    for (int i = 0; names[i]; i++) {
        buf_catf(b, " %s=", names[i]);
        reply_text(b, field(r, names[i]));
    }
}

static int cmp_str(const void *a, const void *b)
{
    const redisReply *x = *(redisReply *const *)a, *y = *(redisReply *const *)b;
    size_t n = x->len < y->len ? x->len : y->len;
    int c = memcmp(x->str, y->str, n);
    return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* Streams: entries, the metadata XINFO shows (not the node layout, which
 * depends on who wrote the listpacks), groups, consumers and pending
 * entries (without times). */
static void dump_stream(redisContext *c, struct buf *b, const char *key, size_t klen)
{
    static const char *const sfields[] = {"length", "last-generated-id", "max-deleted-entry-id", "entries-added",
                                          "recorded-first-entry-id", "groups", NULL};
    static const char *const gfields[] = {"name", "consumers", "pending", "last-delivered-id", "entries-read", "lag",
                                          NULL};
    redisReply *r = redisCommand(c, "XRANGE %b - +", key, klen);
    reply_text(b, r);
    freeReplyObject(r);
    r = redisCommand(c, "XINFO STREAM %b", key, klen);
    cat_fields(b, r, sfields);
    freeReplyObject(r);
    redisReply *groups = redisCommand(c, "XINFO GROUPS %b", key, klen);
    for (size_t g = 0; groups && groups->type == REDIS_REPLY_ARRAY && g < groups->elements; g++) {
        const redisReply *gi = groups->element[g];
        buf_cat(b, "\n  group", 7);
        cat_fields(b, gi, gfields);
        const redisReply *name = field(gi, "name");
        if (!name)
            continue;
        redisReply *cons = redisCommand(c, "XINFO CONSUMERS %b %b", key, klen, name->str, name->len);
        for (size_t i = 0; cons && cons->type == REDIS_REPLY_ARRAY && i < cons->elements; i++) {
            static const char *const cf[] = {"name", "pending", NULL};
            buf_cat(b, "\n    consumer", 12);
            cat_fields(b, cons->element[i], cf);
        }
        freeReplyObject(cons);
        redisReply *pel = redisCommand(c, "XPENDING %b %b - + 1000000", key, klen, name->str, name->len);
        buf_cat(b, "\n    pel", 8);
        for (size_t i = 0; pel && pel->type == REDIS_REPLY_ARRAY && i < pel->elements; i++) {
            const redisReply *e = pel->element[i];
            if (e->type != REDIS_REPLY_ARRAY || e->elements < 4)
                continue;
            buf_cat(b, " ", 1);
            reply_text(b, e->element[0]);
            buf_cat(b, "/", 1);
            reply_text(b, e->element[1]);
            buf_cat(b, "/", 1);
            reply_text(b, e->element[3]);
        }
        freeReplyObject(pel);
    }
    freeReplyObject(groups);
}

/* Every key of every database: type, absolute expire time, value. */
static char *dump_dataset(redisContext *c, long long *nkeys)
{
    struct buf b = {NULL, 0, 0};
    buf_cat(&b, "", 0);
    long long n = 0;
    for (int db = 0; db < 16; db++) {
        redisReply *r = redisCommand(c, "SELECT %d", db);
        freeReplyObject(r);
        redisReply *keys = redisCommand(c, "KEYS *");
        if (!keys || keys->type != REDIS_REPLY_ARRAY) {
            freeReplyObject(keys);
            continue;
        }
        if (keys->elements > 1)
            qsort(keys->element, keys->elements, sizeof(redisReply *), cmp_str);
        for (size_t i = 0; i < keys->elements; i++) {
            const char *k = keys->element[i]->str;
            size_t kl = keys->element[i]->len;
            redisReply *t = redisCommand(c, "TYPE %b", k, kl);
            redisReply *e = redisCommand(c, "PEXPIRETIME %b", k, kl);
            buf_catf(&b, "db%d ", db);
            buf_repr(&b, k, kl);
            buf_catf(&b, " %s exp=%lld ", t->str, e->integer);
            if (!strcmp(t->str, "string")) {
                r = redisCommand(c, "GET %b", k, kl);
                reply_text(&b, r);
                freeReplyObject(r);
            } else if (!strcmp(t->str, "list")) {
                r = redisCommand(c, "LRANGE %b 0 -1", k, kl);
                reply_text(&b, r);
                freeReplyObject(r);
            } else if (!strcmp(t->str, "stream")) {
                dump_stream(c, &b, k, kl);
            }
            buf_cat(&b, "\n", 1);
            freeReplyObject(t);
            freeReplyObject(e);
            n++;
        }
        freeReplyObject(keys);
    }
    redisReply *r = redisCommand(c, "SELECT 0");
    freeReplyObject(r);
    if (nkeys)
        *nkeys = n;
    return b.p;
}

static char *dump_of(struct proc *p, long long *nkeys)
{
    redisContext *c = proc_conn(p);
    char *d = c && !c->err ? dump_dataset(c, nkeys) : strdup("(no connection)");
    if (c)
        redisFree(c);
    return d;
}

/* Compare two listings; on a difference show the first differing line. */
static void same_dataset(const char *a, const char *b, const char *what)
{
    int same = a && b && !strcmp(a, b);
    ok(same, "%s", what);
    if (!same && a && b) {
        const char *pa = a, *pb = b;
        while (*pa && *pa == *pb)
            pa++, pb++;
        while (pa > a && pa[-1] != '\n')
            pa--, pb--;
        tap_diag("  first difference:\n#   < %.300s\n#   > %.300s", pa, pb);
    }
}

static char *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    struct buf b = {NULL, 0, 0};
    buf_cat(&b, "", 0);
    if (r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_ERROR))
        buf_cat(&b, r->str, r->len);
    else
        reply_text(&b, r);
    if (r)
        freeReplyObject(r);
    return b.p;
}

#define CHECK_CMD(c, want, ...)                                \
    do {                                                       \
        char *got_ = cmd((c), __VA_ARGS__);                    \
        is_str(got_, (want), "%s -> %s", #__VA_ARGS__, (want)); \
        free(got_);                                            \
    } while (0)

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

static void run(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (!r || r->type == REDIS_REPLY_ERROR)
        tap_diag("command %s failed: %s", fmt, r ? r->str : "io error");
    if (r)
        freeReplyObject(r);
}

static int file_exists(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0;
}

static long long file_size(const char *dir, const char *name)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static int copy_file(const char *from, const char *to)
{
    char c[1100];
    snprintf(c, sizeof(c), "cp '%s' '%s'", from, to);
    return system(c);
}

/* Run a shell command, capture its output; returns the exit status. */
static int run_capture(const char *shell_cmd, char *out, size_t outlen)
{
    FILE *fp = popen(shell_cmd, "r");
    if (!fp)
        return -1;
    size_t got = 0;
    size_t n;
    while (got + 1 < outlen && (n = fread(out + got, 1, outlen - 1 - got, fp)) > 0)
        got += n;
    out[got] = '\0';
    int st = pclose(fp);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Running (not gone, not a zombie nobody reaped). */
static int alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    size_t n = fread(buf, 1, sizeof(buf) - 1, fp);
    fclose(fp);
    buf[n] = '\0';
    const char *paren = strrchr(buf, ')');
    return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X';
}

/* Wait until the BGSAVE started after `before` (a LASTSAVE value at least
 * a second in the past) is over: no child left and LASTSAVE moved. */
static int wait_bgsave(struct proc *p, redisContext *c, long long before, int ms)
{
    long long deadline = harness_now_ms() + ms;
    while (harness_now_ms() < deadline) {
        if (!proc_child_of(p->pid) && cmd_int(c, "LASTSAVE") > before)
            return 0;
        harness_sleep_ms(20);
    }
    return -1;
}

/* Sleep into the next second, so a save after this changes LASTSAVE. */
static void next_second(long long lastsave)
{
    while ((long long)time(NULL) <= lastsave)
        harness_sleep_ms(50);
}

/* ---- datasets ------------------------------------------------------------------------------- */

static unsigned long long lcg = 88172645463325252ULL;
static unsigned char rbyte(void)
{
    lcg = lcg * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned char)(lcg >> 56);
}

/* The same commands for Sluice and Redis (explicit stream IDs, absolute
 * TTLs), so the two listings can be compared. */
static void fill(redisContext *c, int big)
{
    char bin[300], rawv[1000], huge[20000];
    lcg = 88172645463325252ULL;
    for (size_t i = 0; i < sizeof(bin); i++)
        bin[i] = (char)rbyte();
    memset(rawv, 'a', sizeof(rawv));
    for (size_t i = 0; i < sizeof(huge); i++)
        huge[i] = (char)('A' + i % 26);
    run(c, "SELECT 0");
    /* strings of every encoding */
    run(c, "SET str:int 12345");
    run(c, "SET str:neg -7");
    run(c, "SET str:16 -30000");
    run(c, "SET str:32 2000000000");
    run(c, "SET str:llmax 9223372036854775807");
    run(c, "SET str:llmin -9223372036854775808");
    run(c, "SET str:toobig 9223372036854775808");
    run(c, "SET str:lead0 007");
    run(c, "SET str:float 3.14");
    run(c, "SET str:embstr hello");
    run(c, "SET str:empty %b", "", (size_t)0);
    run(c, "SET str:raw %b", rawv, sizeof(rawv));
    run(c, "SET str:bin %b", bin, sizeof(bin));
    run(c, "SET str:append x");
    run(c, "APPEND str:append 12");
    /* lists */
    run(c, "RPUSH list:small a b c");
    run(c, "RPUSH list:ints 0 1 -1 127 128 4095 -4096 32767 70000 5000000000 -9223372036854775808 007 1.5");
    run(c, "RPUSH list:bin %b %b %b", bin, (size_t)10, bin + 10, (size_t)200, "", (size_t)0);
    run(c, "RPUSH list:huge %b %b x", huge, sizeof(huge), huge, (size_t)9000);
    int nbig = big ? 100000 : 5000;
    for (int i = 0; i < nbig; i += 1000) {
        /* batches of 1000 through one RPUSH */
        const char *argv[1002];
        size_t lens[1002];
        char vals[1000][24];
        argv[0] = "RPUSH";
        lens[0] = 5;
        argv[1] = "list:big";
        lens[1] = 8;
        for (int j = 0; j < 1000; j++) {
            int n = snprintf(vals[j], sizeof(vals[j]), (i + j) % 3 ? "item-%d" : "%d", i + j);
            argv[2 + j] = vals[j];
            lens[2 + j] = (size_t)n;
        }
        redisReply *r = redisCommandArgv(c, 1002, argv, lens);
        freeReplyObject(r);
    }
    for (int n = 1; n <= 600; n *= 5) {
        for (int i = 0; i < n; i++)
            run(c, "RPUSH list:n%d v%d", n, i);
    }
    /* TTLs, absolute so both servers hold the same time */
    run(c, "SET ttl:str v PXAT 4102444800123");
    run(c, "RPUSH ttl:list a b");
    run(c, "PEXPIREAT ttl:list 4102444800456");
    /* other databases */
    run(c, "SELECT 5");
    run(c, "SET db5:a 1");
    run(c, "RPUSH db5:l x y z");
    run(c, "SELECT 15");
    run(c, "SET db15:a hello-15");
    run(c, "SELECT 0");
    /* streams: explicit IDs, varying fields (master fields / SAMEFIELDS),
     * enough entries for several nodes, tombstones, groups, consumers,
     * pending entries, an empty stream with a group */
    for (int i = 1; i <= 350; i++) {
        if (i % 7 == 0)
            run(c, "XADD st:main %d-%d other %d extra x", 1000 + i / 10, i % 10, i);
        else
            run(c, "XADD st:main %d-%d f1 v%d f2 %d", 1000 + i / 10, i % 10, i, i * 3);
    }
    run(c, "XDEL st:main 1001-0 1002-5 1010-3");
    run(c, "XGROUP CREATE st:main g1 0");
    run(c, "XGROUP CREATE st:main g2 $");
    run(c, "XGROUP CREATE st:main g3 1005-0");
    redisReply *r = redisCommand(c, "XREADGROUP GROUP g1 alice COUNT 10 STREAMS st:main >");
    freeReplyObject(r);
    r = redisCommand(c, "XREADGROUP GROUP g1 bob COUNT 5 STREAMS st:main >");
    freeReplyObject(r);
    r = redisCommand(c, "XREADGROUP GROUP g3 alice COUNT 3 STREAMS st:main >");
    freeReplyObject(r);
    run(c, "XACK st:main g1 1000-1 1000-3");
    r = redisCommand(c, "XCLAIM st:main g1 bob 0 1000-4 1000-5");
    freeReplyObject(r);
    run(c, "XGROUP CREATECONSUMER st:main g1 carol");
    run(c, "XADD st:small 5-1 a 1");
    run(c, "XGROUP CREATE st:empty g $ MKSTREAM");
    run(c, "XADD st:deleted 7-7 f v");
    run(c, "XDEL st:deleted 7-7");
    run(c, "XADD st:ttl 9-1 k v");
    run(c, "PEXPIREAT st:ttl 4102444800789");
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void test_save_restart(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "restart");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    fill(c, 1);
    run(c, "SET ttl:soon v PX 1500");
    long long before_keys;
    char *before = dump_of(&s, &before_keys);
    long long last = cmd_int(c, "LASTSAVE");
    next_second(last);
    CHECK_CMD(c, "OK", "SAVE");
    ok(cmd_int(c, "LASTSAVE") > last, "LASTSAVE moves after SAVE");
    ok(file_exists(dir, "dump.rdb"), "dump.rdb written");
    CHECK_CMD(c, "1", "DEL ttl:soon");
    char *expected = dump_of(&s, NULL);
    redisFree(c);
    proc_kill9(&s);
    harness_sleep_ms(1600); /* ttl:soon is now past its TTL */
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice restarts");
        goto out;
    }
    long long after_keys;
    char *after = dump_of(&s, &after_keys);
    same_dataset(expected, after, "SAVE + restart: identical dataset (every type, encoding, TTL, db)");
    is_int(after_keys, before_keys - 1, "the key whose TTL passed while down is not loaded");
    c = proc_conn(&s);
    CHECK_CMD(c, "0", "EXISTS ttl:soon");
    CHECK_CMD(c, "quicklist", "OBJECT ENCODING list:big");
    CHECK_CMD(c, "int", "OBJECT ENCODING str:int");
    CHECK_CMD(c, "embstr", "OBJECT ENCODING str:embstr");
    CHECK_CMD(c, "raw", "OBJECT ENCODING str:raw");
    /* DEBUG RELOAD keeps everything too */
    CHECK_CMD(c, "OK", "DEBUG RELOAD");
    char *reloaded = dump_of(&s, NULL);
    same_dataset(after, reloaded, "DEBUG RELOAD: identical dataset");
    free(reloaded);
    redisFree(c);
    proc_stop(&s);
    free(after);
out:
    free(before);
    free(expected);
}

/* One pipeline on w: n SETs w:i = before-i, list_before, BGSAVE, n SETs
 * w:i = after-i, SET w:new x, list_after.  BGSAVE's reply goes to
 * bgsave_reply; returns 1 when every other reply arrived and was no
 * error. */
static int writes_around_bgsave(redisContext *w, int n, const char *list_before, const char *list_after,
                                char *bgsave_reply, size_t len)
{
    for (int i = 0; i < n; i++)
        redisAppendCommand(w, "SET w:%d before-%d", i, i);
    redisAppendCommand(w, list_before);
    redisAppendCommand(w, "BGSAVE");
    for (int i = 0; i < n; i++)
        redisAppendCommand(w, "SET w:%d after-%d", i, i);
    redisAppendCommand(w, "SET w:new x");
    redisAppendCommand(w, list_after);
    int replies_ok = 1;
    for (int i = 0; i < 2 * n + 4; i++) {
        redisReply *r = NULL;
        if (redisGetReply(w, (void **)&r) != REDIS_OK)
            return 0;
        if (i == n + 1)
            snprintf(bgsave_reply, len, "%s", r->str ? r->str : "");
        else if (r->type == REDIS_REPLY_ERROR)
            replies_ok = 0;
        freeReplyObject(r);
    }
    return replies_ok;
}

static void test_bgsave(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "bgsave");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s), *w = proc_conn(&s);
    /* a dataset big enough for the BGSAVE to take a while */
    CHECK_CMD(c, "OK", "DEBUG POPULATE 300000 pop 100");
    /* one pipelined stream of writes with a BGSAVE in the middle: the
     * snapshot must hold exactly the writes before the BGSAVE */
    long long last = cmd_int(c, "LASTSAVE");
    next_second(last);
    char bgsave_reply[128] = "";
    ok(writes_around_bgsave(w, 20000, "RPUSH w:list before", "RPUSH w:list after", bgsave_reply,
                            sizeof(bgsave_reply)),
       "writes around the BGSAVE all succeed");
    is_str(bgsave_reply, "Background saving started", "BGSAVE under write load");
    /* while it runs (if it finished meanwhile, the replies can't be checked) */
    char *r1 = cmd(c, "BGSAVE"), *r2 = cmd(c, "BGSAVE SCHEDULE"), *r3 = cmd(c, "SAVE");
    if (proc_child_of(s.pid)) {
        /* if the first BGSAVE ended just before r1, r1 started a second
         * one: r2 and r3 are then checked against that one */
        if (!strcmp(r1, "Background saving started"))
            tap_skip("the first BGSAVE ended just before the second: BGSAVE while one runs not checked");
        else
            is_str(r1, "ERR Background save already in progress", "BGSAVE while one runs");
        is_str(r2, "ERR Background save already in progress", "BGSAVE SCHEDULE while one runs");
        is_str(r3, "ERR Background save already in progress", "SAVE while a BGSAVE runs");
    } else {
        tap_skip("the BGSAVE ended before the in-progress errors could be checked");
    }
    free(r1);
    free(r2);
    free(r3);
    ok(wait_bgsave(&s, c, last, 60000) == 0, "BGSAVE completes, LASTSAVE moves");
    CHECK_CMD(c, "ERR syntax error", "BGSAVE NOW");
    /* BGSAVE inside MULTI is scheduled, and the cron then runs it */
    last = cmd_int(c, "LASTSAVE");
    next_second(last);
    CHECK_CMD(c, "OK", "MULTI");
    CHECK_CMD(c, "QUEUED", "BGSAVE");
    char *e = cmd(c, "EXEC");
    is_str(e, "[\"Background saving scheduled\"]", "BGSAVE in MULTI is scheduled");
    free(e);
    ok(wait_bgsave(&s, c, last, 60000) == 0, "the scheduled BGSAVE runs");
    redisFree(c);
    redisFree(w);
    proc_kill9(&s);
    /* restart on the second snapshot: "after" values everywhere */
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "restart");
        return;
    }
    c = proc_conn(&s);
    CHECK_CMD(c, "320002", "DBSIZE");
    CHECK_CMD(c, "after-19999", "GET w:19999");
    redisFree(c);
    proc_kill9(&s);
}

/* The first snapshot of a BGSAVE with writes around it. */
static void test_bgsave_fork_point(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "forkpoint");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s), *w = proc_conn(&s);
    CHECK_CMD(c, "OK", "DEBUG POPULATE 200000 pop 100");
    long long last = cmd_int(c, "LASTSAVE");
    next_second(last);
    char bgsave_reply[128] = "";
    ok(writes_around_bgsave(w, 10000, "LPUSH w:list b1 b2", "LPUSH w:list a1", bgsave_reply, sizeof(bgsave_reply)) &&
           !strcmp(bgsave_reply, "Background saving started"),
       "fork point: writes and the BGSAVE between them succeed");
    ok(wait_bgsave(&s, c, last, 60000) == 0, "BGSAVE completes");
    redisFree(c);
    redisFree(w);
    proc_kill9(&s);
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "restart");
        return;
    }
    c = proc_conn(&s);
    CHECK_CMD(c, "210001", "DBSIZE");
    CHECK_CMD(c, "before-0", "GET w:0");
    CHECK_CMD(c, "before-9999", "GET w:9999");
    CHECK_CMD(c, "0", "EXISTS w:new");
    CHECK_CMD(c, "[\"b2\",\"b1\"]", "LRANGE w:list 0 -1");
    redisFree(c);
    proc_kill9(&s);
}

static void test_save_points(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "savepoints");
    struct proc s;
    const char *extra[] = {"--save", "1 3", NULL};
    if (proc_start_sluice(&s, dir, extra) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    long long last = cmd_int(c, "LASTSAVE");
    run(c, "SET a 1");
    run(c, "SET b 2");
    harness_sleep_ms(2500);
    ok(!file_exists(dir, "dump.rdb") && cmd_int(c, "LASTSAVE") == last, "2 changes: below the save point");
    run(c, "SET c 3");
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline && cmd_int(c, "LASTSAVE") == last)
        harness_sleep_ms(50);
    ok(cmd_int(c, "LASTSAVE") > last, "3 changes after more than 1 second: the save point fires");
    deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline && proc_child_of(s.pid))
        harness_sleep_ms(20);
    ok(file_exists(dir, "dump.rdb"), "dump.rdb written by the save point");
    redisFree(c);
    proc_kill9(&s);
    /* without save points nothing is saved automatically */
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts without save points");
        return;
    }
    c = proc_conn(&s);
    last = cmd_int(c, "LASTSAVE");
    for (int i = 0; i < 10; i++)
        run(c, "SET k%d v", i);
    harness_sleep_ms(2200);
    is_int(cmd_int(c, "LASTSAVE"), last, "no save points: no automatic save");
    redisFree(c);
    proc_kill9(&s);
}

static void test_shutdown(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "shutdown");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    run(c, "SET k v1");
    redisReply *r = redisCommand(c, "SHUTDOWN NOSAVE");
    freeReplyObject(r);
    redisFree(c);
    is_int(proc_wait_exit(&s, 10000), 0, "SHUTDOWN NOSAVE exits 0");
    ok(!file_exists(dir, "dump.rdb"), "SHUTDOWN NOSAVE: no file written");

    proc_start_sluice(&s, dir, NULL);
    c = proc_conn(&s);
    run(c, "SET k v2");
    r = redisCommand(c, "SHUTDOWN SAVE");
    freeReplyObject(r);
    redisFree(c);
    is_int(proc_wait_exit(&s, 10000), 0, "SHUTDOWN SAVE exits 0");
    ok(file_exists(dir, "dump.rdb"), "SHUTDOWN SAVE wrote dump.rdb (no save points configured)");
    proc_start_sluice(&s, dir, NULL);
    c = proc_conn(&s);
    CHECK_CMD(c, "v2", "GET k");
    redisFree(c);
    proc_kill9(&s);

    /* with save points: SIGTERM saves; SHUTDOWN NOSAVE doesn't */
    const char *points[] = {"--save", "3600 1", NULL};
    proc_start_sluice(&s, dir, points);
    c = proc_conn(&s);
    run(c, "SET k v3");
    redisFree(c);
    is_int(proc_stop(&s), 0, "SIGTERM with save points exits 0");
    proc_start_sluice(&s, dir, points);
    c = proc_conn(&s);
    CHECK_CMD(c, "v3", "GET k");
    run(c, "SET k v4");
    r = redisCommand(c, "SHUTDOWN NOSAVE");
    freeReplyObject(r);
    redisFree(c);
    proc_wait_exit(&s, 10000);
    proc_start_sluice(&s, dir, points);
    c = proc_conn(&s);
    CHECK_CMD(c, "v3", "GET k");

    /* a save that fails (a directory where the temp file goes): SHUTDOWN
     * refuses, the server stays up; FORCE exits anyway */
    char blocker[512];
    snprintf(blocker, sizeof(blocker), "%s/temp-%d.rdb", dir, (int)s.pid);
    mkdir(blocker, 0755);
    CHECK_CMD(c, "ERR Errors trying to SHUTDOWN. Check logs.", "SHUTDOWN");
    CHECK_CMD(c, "PONG", "PING");
    CHECK_CMD(c, "ERR", "SAVE");
    kill(s.pid, SIGTERM);
    harness_sleep_ms(500);
    CHECK_CMD(c, "PONG", "PING");
    ok(s.pid > 0 && waitpid(s.pid, NULL, WNOHANG) == 0, "SIGTERM with a failing save: still running");
    r = redisCommand(c, "SHUTDOWN FORCE");
    freeReplyObject(r);
    redisFree(c);
    is_int(proc_wait_exit(&s, 10000), 0, "SHUTDOWN FORCE exits although the save fails");
    rmdir(blocker);

    /* FLUSHALL with save points rewrites the snapshot */
    proc_start_sluice(&s, dir, points);
    c = proc_conn(&s);
    CHECK_CMD(c, "v3", "GET k");
    CHECK_CMD(c, "OK", "FLUSHALL");
    redisFree(c);
    proc_kill9(&s);
    proc_start_sluice(&s, dir, points);
    c = proc_conn(&s);
    /* the keyspace module calls rdb_after_flushall() from FLUSHALL */
    ok(cmd_int(c, "DBSIZE") == 0,
       "FLUSHALL with save points rewrote the snapshot");
    redisFree(c);
    proc_kill9(&s);
}

static void write_file(const char *path, const void *p, size_t len)
{
    FILE *fp = fopen(path, "wb");
    if (fp) {
        fwrite(p, 1, len, fp);
        fclose(fp);
    }
}

/* Start on dir expecting a refusal: exit status 1, the file named. */
static void expect_refusal(const char *dir, const char *why, const char *needle)
{
    char port[16], out[16384];
    snprintf(port, sizeof(port), "%d", harness_free_port());
    const char *args[] = {"--port", port, "--bind", "127.0.0.1", "--dir", dir, "--save", "", NULL};
    int st = harness_run_expect_exit(args, 20000, out, sizeof(out));
    is_int(st, 1, "%s: the server refuses to start", why);
    ok(strstr(out, "dump.rdb") != NULL, "%s: the error names the file", why);
    if (needle)
        ok(strstr(out, needle) != NULL, "%s: the error says \"%s\"", why, needle);
    if (!strstr(out, "dump.rdb") || (needle && !strstr(out, needle)))
        tap_diag("output: %.2000s", out);
}

static void test_corrupt(void)
{
    char dir[300], path[400];
    proc_make_dir(dir, sizeof(dir), "corrupt");
    snprintf(path, sizeof(path), "%s/dump.rdb", dir);
    /* a valid file first */
    struct proc s;
    proc_start_sluice(&s, dir, NULL);
    redisContext *c = proc_conn(&s);
    fill(c, 0);
    CHECK_CMD(c, "OK", "SAVE");
    redisFree(c);
    proc_kill9(&s);
    /* binary: the length is the file's size (the server is gone, it stays put) */
    long long size = file_size(dir, "dump.rdb");
    char *good = harness_read_file(path);
    if (size <= 0) {
        ok(0, "read the saved file");
        free(good);
        return;
    }
    size_t len = (size_t)size;
    write_file(path, good, len / 2);
    expect_refusal(dir, "truncated file", "Unexpected EOF");
    char *bad = malloc(len);
    memcpy(bad, good, len);
    bad[len / 3] ^= 0x5a;
    write_file(path, bad, len);
    expect_refusal(dir, "one corrupt byte", NULL);
    memcpy(bad, good, len);
    bad[len - 3] ^= 1;
    write_file(path, bad, len);
    expect_refusal(dir, "bad checksum", "checksum");
    lcg = 12345;
    for (size_t i = 0; i < len; i++)
        bad[i] = (char)rbyte();
    write_file(path, bad, len);
    expect_refusal(dir, "random bytes", "signature");
    write_file(path, "REDIS0010", 9);
    expect_refusal(dir, "header only", NULL);
    free(bad);
    /* the good file still loads */
    write_file(path, good, len);
    ok(proc_start_sluice(&s, dir, NULL) == 0, "the intact file loads");
    proc_kill9(&s);
    free(good);
}

static void test_crash_mid_bgsave(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "crash");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    for (int i = 0; i < 5000; i++)
        redisAppendCommand(c, "SET a:%d first-%d", i, i);
    for (int i = 0; i < 5000; i++)
        redisAppendCommand(c, "LPUSH a:list %d", i);
    redisReply *r;
    for (int i = 0; i < 10000; i++) {
        if (redisGetReply(c, (void **)&r) == REDIS_OK)
            freeReplyObject(r);
    }
    CHECK_CMD(c, "OK", "SAVE");
    long long good_size = file_size(dir, "dump.rdb");
    /* a big dataset, then a BGSAVE killed while it writes */
    CHECK_CMD(c, "OK", "DEBUG POPULATE 400000 b 300");
    for (int i = 0; i < 5000; i++)
        redisAppendCommand(c, "SET a:%d second-%d", i, i);
    for (int i = 0; i < 5000; i++) {
        if (redisGetReply(c, (void **)&r) == REDIS_OK)
            freeReplyObject(r);
    }
    CHECK_CMD(c, "Background saving started", "BGSAVE");
    pid_t child = 0;
    char temp[64];
    long long deadline = harness_now_ms() + 20000;
    while (harness_now_ms() < deadline) {
        child = proc_child_of(s.pid);
        snprintf(temp, sizeof(temp), "temp-%d.rdb", (int)child);
        if (child && file_size(dir, temp) > 4096)
            break;
        harness_sleep_ms(1);
    }
    ok(child > 0 && file_size(dir, temp) > 0, "the BGSAVE child is writing %s", temp);
    kill(s.pid, SIGKILL); /* the child dies with it (PR_SET_PDEATHSIG) */
    waitpid(s.pid, NULL, 0);
    proc_untrack(s.pid);
    s.pid = 0;
    redisFree(c);
    harness_sleep_ms(300);
    ok(child > 0 && !alive(child), "the child died with its parent");
    is_int(file_size(dir, "dump.rdb"), good_size, "dump.rdb is the last complete snapshot");
    ok(file_exists(dir, temp), "the torn temp file was left aside");
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "restart after the crash");
        return;
    }
    c = proc_conn(&s);
    CHECK_CMD(c, "5001", "DBSIZE");
    CHECK_CMD(c, "first-0", "GET a:0");
    CHECK_CMD(c, "first-4999", "GET a:4999");
    CHECK_CMD(c, "5000", "LLEN a:list");
    CHECK_CMD(c, "4999", "LINDEX a:list 0");
    redisFree(c);
    proc_kill9(&s);
}

/* A numeric field of an INFO reply, -1 when absent. */
static double info_num(const char *info, const char *name)
{
    char key[80];
    snprintf(key, sizeof(key), "\n%s:", name);
    const char *at = strstr(info, key);
    return at ? atof(at + strlen(key)) : -1;
}

/* INFO persistence while a BGSAVE runs shows the child's progress: keys
 * written of keys to write, the fork percentage, its copy-on-write size;
 * afterwards rdb_last_cow_size holds the peak and the current_* fields
 * are 0 again.  The parent overwrites keys meanwhile, which is what makes
 * pages copy-on-write. */
static void test_bgsave_progress(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "progress");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    CHECK_CMD(c, "OK", "DEBUG POPULATE 1000000 k 100");
    CHECK_CMD(c, "Background saving started", "BGSAVE");
    double total = -1, processed = 0, perc_error = 0, cow = 0, peak = 0;
    int i = 0;
    while (proc_child_of(s.pid)) {
        run(c, "SET k:%d overwritten", i++ % 1000000);
        char *info = cmd(c, "INFO persistence");
        if (info_num(info, "current_save_keys_processed") > 0) {
            total = info_num(info, "current_save_keys_total");
            processed = info_num(info, "current_save_keys_processed");
            double want = processed / total * 100;
            double got = info_num(info, "current_fork_perc");
            if (got - want > 0.01 || want - got > 0.01)
                perc_error = got - want;
            cow = info_num(info, "current_cow_size");
            peak = info_num(info, "current_cow_peak");
        }
        free(info);
    }
    ok(processed >= 1 && total == 1000000, "during the BGSAVE: %.0f of %.0f keys written", processed, total);
    ok(perc_error == 0, "current_fork_perc is keys written / keys to write (off by %.2f)", perc_error);
    ok(cow > 0 && peak >= cow, "current_cow_size %.0f, current_cow_peak %.0f", cow, peak);
    long long deadline = harness_now_ms() + 60000;
    char *info = NULL;
    for (;;) {
        free(info);
        info = cmd(c, "INFO persistence");
        if (info_num(info, "rdb_bgsave_in_progress") == 0 || harness_now_ms() > deadline)
            break;
        harness_sleep_ms(20);
    }
    ok(info_num(info, "rdb_last_cow_size") >= peak && peak > 0, "rdb_last_cow_size %.0f: the child's peak",
       info_num(info, "rdb_last_cow_size"));
    ok(info_num(info, "current_save_keys_total") == 0 && info_num(info, "current_save_keys_processed") == 0 &&
           info_num(info, "current_cow_peak") == 0 && info_num(info, "current_fork_perc") == 0,
       "after the child: the current_* fields are 0 again");
    free(info);
    char log[400], grep[600];
    snprintf(log, sizeof(log), "%s/sluice.log", dir);
    snprintf(grep, sizeof(grep), "grep -c ':C .* Fork CoW for RDB: current' '%s'", log);
    char out[64] = "";
    run_capture(grep, out, sizeof(out));
    is_str(out, "1\n", "the child logs its copy-on-write size, with the child's role letter");
    redisFree(c);
    proc_kill9(&s);
}

/* s with every "from" replaced by "to" (malloc'd). */
static char *replace_all(const char *s, const char *from, const char *to)
{
    struct buf b = {NULL, 0, 0};
    buf_cat(&b, "", 0);
    size_t flen = strlen(from);
    for (const char *at; (at = strstr(s, from)) != NULL; s = at + flen) {
        buf_cat(&b, s, (size_t)(at - s));
        buf_cat(&b, to, strlen(to));
    }
    buf_cat(&b, s, strlen(s));
    return b.p;
}

/* INFO persistence's rdb_last_bgsave_status once no BGSAVE child runs. */
static char *bgsave_status_when_done(struct proc *p, redisContext *c)
{
    long long deadline = harness_now_ms() + 60000;
    while (proc_child_of(p->pid) && harness_now_ms() < deadline)
        harness_sleep_ms(10);
    harness_sleep_ms(200); /* the cron reaps the child and records its status */
    char st[128];
    harness_info_str(c, "persistence", "rdb_last_bgsave_status", st, sizeof(st));
    return strdup(st[0] ? st : "?");
}

/* The stop-writes-on-bgsave-error scenario on one server; every reply is
 * appended to *t, so that Sluice's and Redis's transcripts can be
 * compared.  The BGSAVE fails because its directory is removed under it
 * (the child can't create its temp file). */
static void bgsave_error_scenario(const char *bin, const char *name, struct buf *t)
{
    char top[300], dir[400], dir2[400];
    proc_make_dir(top, sizeof(top), name);
    snprintf(dir, sizeof(dir), "%s/gone", top);
    snprintf(dir2, sizeof(dir2), "%s/back", top);
    mkdir(dir, 0755);
    mkdir(dir2, 0755);
    const char *extra[] = {"--save", "3600 1", "--enable-protected-configs", "yes", NULL};
    struct proc s;
    if (proc_start(&s, bin, dir, extra, 120000) != 0) {
        buf_catf(t, "%s did not start\n", name);
        return;
    }
    redisContext *c = proc_conn(&s), *m = proc_conn(&s);
#define STEP(ctx, ...)                                  \
    do {                                                \
        char *r_ = cmd((ctx), __VA_ARGS__);             \
        buf_catf(t, "%s -> %s\n", #__VA_ARGS__, r_);    \
        free(r_);                                       \
    } while (0)
    STEP(c, "SET k v");
    char rm[500];
    snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
    if (system(rm) != 0)
        buf_catf(t, "rm failed\n");
    STEP(c, "BGSAVE");
    char *status = bgsave_status_when_done(&s, c);
    buf_catf(t, "bgsave status: %s\n", status);
    free(status);
    STEP(c, "SET k2 v2");
    STEP(c, "LPUSH l x");
    STEP(c, "PING");
    STEP(c, "GET k");
    STEP(c, "EXISTS k2");
    STEP(m, "MULTI");
    STEP(m, "GET k");
    STEP(m, "SET k3 v3");
    STEP(m, "EXEC");
    STEP(m, "MULTI");
    STEP(m, "GET k");
    STEP(m, "EXEC");
    STEP(c, "CONFIG SET stop-writes-on-bgsave-error no");
    STEP(c, "SET k2 v2");
    STEP(c, "CONFIG SET stop-writes-on-bgsave-error yes");
    STEP(c, "DEL k2");
    STEP(c, "CONFIG SET save %s", "");
    STEP(c, "DEL k2");
    STEP(c, "CONFIG SET save %s", "3600 1");
    STEP(c, "RPUSH l y");
    STEP(c, "CONFIG SET dir %s", dir2);
    STEP(c, "BGSAVE");
    status = bgsave_status_when_done(&s, c);
    buf_catf(t, "bgsave status: %s\n", status);
    free(status);
    STEP(c, "RPUSH l z");
    STEP(c, "PING");
#undef STEP
    redisFree(c);
    redisFree(m);
    proc_kill9(&s);
}

/* A failed BGSAVE refuses writes (and PING) with -MISCONF while save points
 * are set and stop-writes-on-bgsave-error is yes, as Redis does; reads go
 * on, a MULTI with a write is aborted, and a good BGSAVE lifts it. */
static void test_bgsave_error(const char *redis)
{
    struct buf t = {NULL, 0, 0};
    buf_cat(&t, "", 0);
    bgsave_error_scenario(harness_server_path(), "misconf-sluice", &t);
    static const char misconf[] =
        "MISCONF Sluice is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands "
        "that may modify the data set are disabled, because this instance is configured to report errors during "
        "writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Sluice logs for "
        "details about the RDB error.";
    char want[2048];
    snprintf(want, sizeof(want),
             "\"SET k v\" -> OK\n\"BGSAVE\" -> Background saving started\nbgsave status: err\n"
             "\"SET k2 v2\" -> %s\n\"LPUSH l x\" -> %s\n\"PING\" -> %s\n\"GET k\" -> v\n\"EXISTS k2\" -> 0\n",
             misconf, misconf, misconf);
    ok(strncmp(t.p, want, strlen(want)) == 0, "after a failed BGSAVE: writes and PING get -MISCONF, reads work");
    if (strncmp(t.p, want, strlen(want)) != 0 || getenv("SLUICE_TEST_VERBOSE"))
        tap_diag("transcript:\n%s", t.p);
    ok(strstr(t.p, "\"SET k3 v3\" -> MISCONF") && strstr(t.p, "\"EXEC\" -> EXECABORT"),
       "a write queued in MULTI is refused and the EXEC aborted");
    ok(strstr(t.p, "\"CONFIG SET stop-writes-on-bgsave-error no\" -> OK\n\"SET k2 v2\" -> OK\n") != NULL,
       "stop-writes-on-bgsave-error no lets writes through");
    ok(strstr(t.p, "\"CONFIG SET save %s\", \"\" -> OK\n\"DEL k2\" -> 1\n") != NULL,
       "without save points the failed BGSAVE does not stop writes");
    ok(strstr(t.p, "bgsave status: ok\n\"RPUSH l z\" -> 1\n\"PING\" -> PONG\n") != NULL,
       "a successful BGSAVE lifts the refusal");
    if (redis) {
        struct buf rt = {NULL, 0, 0};
        buf_cat(&rt, "", 0);
        bgsave_error_scenario(redis, "misconf-redis", &rt);
        char *as_sluice = replace_all(rt.p, "Redis", "Sluice"); /* the server names itself */
        is_str(t.p, as_sluice, "the same transcript as redis-server 7.0 (server name aside)");
        free(as_sluice);
        free(rt.p);
    } else {
        tap_skip_dep("redis", "MISCONF transcript vs Redis: redis-server not installed");
    }
    free(t.p);
}

/* One fork child at a time: a BGSAVE while an AOF rewrite runs. */
static void test_child_exclusion(void)
{
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "children");
    struct proc s;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    CHECK_CMD(c, "OK", "DEBUG POPULATE 300000 k 200");
    long long last = cmd_int(c, "LASTSAVE");
    next_second(last);
    redisAppendCommand(c, "BGREWRITEAOF");
    redisAppendCommand(c, "BGSAVE");
    redisAppendCommand(c, "BGSAVE SCHEDULE");
    char *rep[3];
    for (int i = 0; i < 3; i++) {
        redisReply *r = NULL;
        redisGetReply(c, (void **)&r);
        rep[i] = strdup(r && r->str ? r->str : "?");
        freeReplyObject(r);
    }
    is_str(rep[0], "Background append only file rewriting started", "BGREWRITEAOF forks its child");
    is_str(rep[1],
           "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to "
           "schedule a BGSAVE whenever possible.",
           "BGSAVE while the AOF rewrite runs");
    is_str(rep[2], "Background saving scheduled", "BGSAVE SCHEDULE while the AOF rewrite runs");
    for (int i = 0; i < 3; i++)
        free(rep[i]);
    ok(wait_bgsave(&s, c, last, 60000) == 0, "the scheduled BGSAVE runs once the rewrite is over");
    redisFree(c);
    proc_kill9(&s);
}

/* Idempotent-producer state (Sluice only) survives a restart, and a file
 * carrying it still passes redis-check-rdb and loads in Redis 7.0. */
static void test_idmp(const char *redis)
{
    char dir[300], rdir[300], from[400], to[400], out[16384];
    proc_make_dir(dir, sizeof(dir), "idmp");
    struct proc s, rs;
    if (proc_start_sluice(&s, dir, NULL) != 0) {
        ok(0, "sluice starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    char *id1 = cmd(c, "XADD ids IDMP p1 req-1 * amount 100");
    char *id2 = cmd(c, "XADD ids IDMP p2 req-1 * amount 200");
    run(c, "SET plain v");
    char *info = cmd(c, "XINFO STREAM ids");
    CHECK_CMD(c, "OK", "SAVE");
    redisFree(c);
    proc_kill9(&s);
    proc_start_sluice(&s, dir, NULL);
    c = proc_conn(&s);
    char *info2 = cmd(c, "XINFO STREAM ids");
    is_str(info2, info, "XINFO STREAM (idempotency fields included) identical after a restart");
    char *again = cmd(c, "XADD ids IDMP p1 req-1 * amount 999");
    is_str(again, id1, "after a restart a repeated IDMP XADD returns the original ID");
    char *again2 = cmd(c, "XADD ids IDMP p2 req-1 * amount 999");
    is_str(again2, id2, "... for every producer");
    CHECK_CMD(c, "2", "XLEN ids");
    free(again);
    free(again2);
    free(info);
    free(info2);
    free(id1);
    free(id2);
    redisFree(c);
    proc_kill9(&s);
    if (!redis) {
        tap_skip_dep("redis", "redis-check-rdb and redis-server on a file with the sluice-idmp AUX field: "
                              "redis-server not installed");
        return;
    }
    snprintf(from, sizeof(from), "%s/dump.rdb", dir);
    char check[700];
    snprintf(check, sizeof(check), "redis-check-rdb '%s' 2>&1", from);
    int st = run_capture(check, out, sizeof(out));
    ok(st == 0 && strstr(out, "RDB looks OK") && strstr(out, "sluice-idmp"),
       "redis-check-rdb accepts a file with the sluice-idmp AUX field");
    proc_make_dir(rdir, sizeof(rdir), "idmp-redis");
    snprintf(to, sizeof(to), "%s/dump.rdb", rdir);
    copy_file(from, to);
    if (proc_start(&rs, redis, rdir, NULL, 60000) == 0) {
        c = proc_conn(&rs);
        CHECK_CMD(c, "2", "XLEN ids");
        CHECK_CMD(c, "v", "GET plain");
        redisFree(c);
        proc_stop(&rs);
    } else {
        ok(0, "redis-server 7.0 loads a file with the sluice-idmp AUX field");
    }
}

/* ---- interchange --------------------------------------------------------------------------- */

static void test_sluice_to_redis(const char *redis)
{
    char dir[300], rdir[300], from[400], to[400], out[65536];
    proc_make_dir(dir, sizeof(dir), "s2r-sluice");
    proc_make_dir(rdir, sizeof(rdir), "s2r-redis");
    struct proc s, rs;
    const char *small_nodes[] = {"--list-max-listpack-size", "5", NULL};
    for (int variant = 0; variant < 3; variant++) {
        /* 0: defaults; 1: small list nodes; 2: rdbcompression/rdbchecksum off */
        const char *nocomp[] = {"--rdbcompression", "no", "--rdbchecksum", "no", NULL};
        const char *const *extra = variant == 1 ? small_nodes : variant == 2 ? nocomp : NULL;
        if (proc_start_sluice(&s, dir, extra) != 0) {
            ok(0, "sluice starts");
            return;
        }
        redisContext *c = proc_conn(&s);
        run(c, "FLUSHALL");
        fill(c, variant == 0);
        CHECK_CMD(c, "OK", "SAVE");
        char *mine = dump_of(&s, NULL);
        redisFree(c);
        proc_kill9(&s);
        snprintf(from, sizeof(from), "%s/dump.rdb", dir);
        snprintf(to, sizeof(to), "%s/dump.rdb", rdir);
        char check[700];
        snprintf(check, sizeof(check), "redis-check-rdb '%s' 2>&1", from);
        int st = run_capture(check, out, sizeof(out));
        ok(st == 0 && strstr(out, "RDB looks OK"), "variant %d: redis-check-rdb accepts Sluice's file", variant);
        if (st != 0)
            tap_diag("%.3000s", out);
        copy_file(from, to);
        if (proc_start(&rs, redis, rdir, NULL, 60000) != 0) {
            ok(0, "redis-server loads Sluice's dump.rdb");
            free(mine);
            return;
        }
        char *theirs = dump_of(&rs, NULL);
        same_dataset(mine, theirs, variant == 0   ? "redis-server 7.0 loads Sluice's file: identical contents"
                                   : variant == 1 ? "small list nodes: identical contents in Redis"
                                                  : "rdbcompression/rdbchecksum no: identical contents in Redis");
        free(theirs);
        proc_stop(&rs);
        free(mine);
    }
}

static void test_redis_to_sluice(const char *redis)
{
    char dir[300], rdir[300], from[400], to[400];
    proc_make_dir(dir, sizeof(dir), "r2s-sluice");
    proc_make_dir(rdir, sizeof(rdir), "r2s-redis");
    struct proc s, rs;
    static const char *const configs[][5] = {
        {NULL},
        {"--list-max-listpack-size", "3", "--list-compress-depth", "1", NULL},
        {"--rdbcompression", "no", "--rdbchecksum", "no", NULL},
        {"--list-max-listpack-size", "-5", "--stream-node-max-entries", "7", NULL},
    };
    for (int variant = 0; variant < 4; variant++) {
        if (proc_start(&rs, redis, rdir, configs[variant], 60000) != 0) {
            ok(0, "redis-server starts");
            return;
        }
        redisContext *c = proc_conn(&rs);
        run(c, "FLUSHALL");
        fill(c, variant == 0);
        CHECK_CMD(c, "OK", "SAVE");
        char *theirs = dump_of(&rs, NULL);
        redisFree(c);
        proc_stop(&rs);
        snprintf(from, sizeof(from), "%s/dump.rdb", rdir);
        snprintf(to, sizeof(to), "%s/dump.rdb", dir);
        copy_file(from, to);
        if (proc_start_sluice(&s, dir, NULL) != 0) {
            ok(0, "variant %d: Sluice loads redis-server's dump.rdb", variant);
            free(theirs);
            continue;
        }
        char *mine = dump_of(&s, NULL);
        same_dataset(theirs, mine,
                     variant == 0   ? "Sluice loads redis-server 7.0's file: identical contents"
                     : variant == 1 ? "Redis with 3-element compressed list nodes: identical contents"
                     : variant == 2 ? "Redis with rdbcompression/rdbchecksum no: identical contents"
                                    : "Redis with 64 KB list nodes, 7-entry stream nodes: identical contents");
        /* and back: Sluice's save of Redis's data is what Redis had */
        redisContext *sc = proc_conn(&s);
        CHECK_CMD(sc, "OK", "DEBUG RELOAD");
        char *again = dump_of(&s, NULL);
        same_dataset(theirs, again, "  ... and after Sluice saves and reloads it");
        free(again);
        redisFree(sc);
        proc_kill9(&s);
        free(mine);
        free(theirs);
    }

    /* a file with a hash: refused, naming the key and the type */
    if (proc_start(&rs, redis, rdir, NULL, 60000) == 0) {
        redisContext *c = proc_conn(&rs);
        run(c, "FLUSHALL");
        run(c, "SET a 1");
        run(c, "HSET myhash f v");
        CHECK_CMD(c, "OK", "SAVE");
        redisFree(c);
        proc_stop(&rs);
        copy_file(from, to);
        expect_refusal(dir, "a Redis file with a hash", "Sluice can't load key 'myhash' of RDB type 'hash'");
    }
}

/* CRC-64/Jones as DUMP payloads carry it (reflected, polynomial
 * 0xad93d23594c935a9, init 0), bit by bit: the test's own oracle, not the
 * server's table-driven code.  crc64_jones("123456789") == 0xe9c6d914c4b8d9ca. */
static uint64_t crc64_jones(const unsigned char *p, size_t n)
{
    uint64_t crc = 0;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++)
            crc = (crc >> 1) ^ ((crc & 1) ? 0x95ac9329ac4bc9b5ULL : 0);
    }
    return crc;
}

static void test_dump_restore(const char *redis)
{
    char dir[300], rdir[300];
    proc_make_dir(dir, sizeof(dir), "dr-sluice");
    proc_make_dir(rdir, sizeof(rdir), "dr-redis");
    struct proc s, rs;
    if (proc_start_sluice(&s, dir, NULL) != 0 || proc_start(&rs, redis, rdir, NULL, 60000) != 0) {
        ok(0, "servers start");
        return;
    }
    redisContext *sc = proc_conn(&s), *rc = proc_conn(&rs);
    fill(sc, 0);
    fill(rc, 0);
    /* every key of db 0 both ways: identical payloads mean identical
     * encodings; RESTORE on the other side must give the same value */
    redisReply *keys = redisCommand(sc, "KEYS *");
    int same_payload = 0, restored_s2r = 0, restored_r2s = 0, n = 0;
    for (size_t i = 0; keys && i < keys->elements; i++) {
        const char *k = keys->element[i]->str;
        size_t kl = keys->element[i]->len;
        redisReply *ps = redisCommand(sc, "DUMP %b", k, kl);
        redisReply *pr = redisCommand(rc, "DUMP %b", k, kl);
        n++;
        if (ps->type == REDIS_REPLY_STRING && pr->type == REDIS_REPLY_STRING && ps->len == pr->len &&
            !memcmp(ps->str, pr->str, ps->len))
            same_payload++;
        redisReply *x = redisCommand(rc, "RESTORE %b 0 %b REPLACE", k, kl, ps->str, ps->len);
        if (x && x->type == REDIS_REPLY_STATUS)
            restored_s2r++;
        else
            tap_diag("Redis RESTORE of Sluice's %s: %s", k, x ? x->str : "io");
        freeReplyObject(x);
        x = redisCommand(sc, "RESTORE %b 0 %b REPLACE", k, kl, pr->str, pr->len);
        if (x && x->type == REDIS_REPLY_STATUS)
            restored_r2s++;
        else
            tap_diag("Sluice RESTORE of Redis's %s: %s", k, x ? x->str : "io");
        freeReplyObject(x);
        freeReplyObject(ps);
        freeReplyObject(pr);
    }
    freeReplyObject(keys);
    is_int(restored_s2r, n, "Redis RESTOREs every DUMP of Sluice (%d keys)", n);
    is_int(restored_r2s, n, "Sluice RESTOREs every DUMP of Redis");
    tap_diag("%d of %d payloads byte-identical (streams and lists may be cut into nodes differently)", same_payload,
             n);
    char *a = dump_of(&s, NULL), *b = dump_of(&rs, NULL);
    same_dataset(a, b, "after crossed RESTOREs both hold the same dataset");
    free(a);
    free(b);

    /* RESTORE's options and errors */
    redisReply *p = redisCommand(sc, "DUMP str:embstr");
    CHECK_CMD(sc, "BUSYKEY Target key name already exists.", "RESTORE str:embstr 0 %b", p->str, p->len);
    CHECK_CMD(sc, "ERR Invalid TTL value, must be >= 0", "RESTORE new -1 %b", p->str, p->len);
    CHECK_CMD(sc, "ERR Invalid IDLETIME value, must be >= 0", "RESTORE new 0 %b IDLETIME -1", p->str, p->len);
    CHECK_CMD(sc, "ERR Invalid FREQ value, must be >= 0 and <= 255", "RESTORE new 0 %b FREQ 256", p->str, p->len);
    CHECK_CMD(sc, "ERR syntax error", "RESTORE new 0 %b IDLETIME 1 FREQ 1", p->str, p->len);
    CHECK_CMD(sc, "ERR value is not an integer or out of range", "RESTORE new abc %b", p->str, p->len);
    CHECK_CMD(sc, "ERR DUMP payload version or checksum are wrong", "RESTORE new 0 %b", p->str, p->len - 1);
    CHECK_CMD(sc, "OK", "RESTORE new 0 %b IDLETIME 1000", p->str, p->len);
    ok(cmd_int(sc, "OBJECT IDLETIME new") >= 1000, "RESTORE IDLETIME sets the idle time");
    CHECK_CMD(sc, "OK", "RESTORE new2 4102444800000 %b ABSTTL", p->str, p->len);
    is_int(cmd_int(sc, "PEXPIRETIME new2"), 4102444800000LL, "RESTORE ABSTTL");
    CHECK_CMD(sc, "OK", "RESTORE new3 5000 %b", p->str, p->len);
    ok(cmd_int(sc, "PTTL new3") > 4000, "RESTORE relative TTL");
    CHECK_CMD(sc, "OK", "RESTORE new3 1 %b REPLACE ABSTTL", p->str, p->len);
    CHECK_CMD(sc, "0", "EXISTS new3");
    CHECK_CMD(sc, "OK", "RESTORE new4 0 %b FREQ 5", p->str, p->len);
    freeReplyObject(p);
    /* a Redis hash payload is not Sluice's: bad format (the checksum is fine) */
    run(rc, "HSET h f v");
    p = redisCommand(rc, "DUMP h");
    CHECK_CMD(sc, "ERR Bad data format", "RESTORE h 0 %b", p->str, p->len);
    /* a payload with a good checksum over garbage: Redis's version footer
     * (taken from its DUMP) and a valid CRC-64, over a body that is no
     * object.  Both servers refuse it with the same error and create
     * nothing. */
    {
        unsigned char g[64];
        const char body[] = "\xfe\x7fgarbage that is no serialized object\x01\x02";
        size_t bl = sizeof(body) - 1;
        memcpy(g, body, bl);
        memcpy(g + bl, p->str + p->len - 10, 2); /* the RDB version, little-endian */
        uint64_t crc = crc64_jones(g, bl + 2);
        for (int i = 0; i < 8; i++)
            g[bl + 2 + i] = (unsigned char)(crc >> (8 * i));
        size_t gl = bl + 10;
        CHECK_CMD(rc, "ERR Bad data format", "RESTORE garbage 0 %b", g, gl);
        CHECK_CMD(sc, "ERR Bad data format", "RESTORE garbage 0 %b", g, gl);
        CHECK_CMD(rc, "0", "EXISTS garbage");
        CHECK_CMD(sc, "0", "EXISTS garbage");
        g[0] ^= 1; /* the same bytes with a wrong checksum: the other error */
        CHECK_CMD(sc, "ERR DUMP payload version or checksum are wrong", "RESTORE garbage 0 %b", g, gl);
    }
    freeReplyObject(p);
    redisFree(sc);
    redisFree(rc);
    proc_kill9(&s);
    proc_stop(&rs);
}

static void test_loading(void)
{
    if (getenv("SLUICE_SKIP_SLOW")) {
        tap_skip("the 2M-key loading test (SLUICE_SKIP_SLOW)");
        return;
    }
    char dir[300];
    proc_make_dir(dir, sizeof(dir), "loading");
    struct proc s;
    proc_start_sluice(&s, dir, NULL);
    redisContext *c = proc_conn(&s);
    CHECK_CMD(c, "OK", "DEBUG POPULATE 2000000 key 32");
    CHECK_CMD(c, "OK", "SAVE");
    redisFree(c);
    proc_kill9(&s);
    /* restart without waiting, and knock until the answer isn't -LOADING */
    proc_start(&s, harness_server_path(), dir, NULL, 0);
    int seen_loading = 0, seen_info_loading = 0, seen_info = 0, up = 0;
    long long deadline = harness_now_ms() + 120000;
    while (harness_now_ms() < deadline && !up) {
        struct timeval tv = {2, 0};
        redisContext *k = redisConnectWithTimeout("127.0.0.1", s.port, tv);
        if (!k || k->err) {
            if (k)
                redisFree(k);
            harness_sleep_ms(5);
            continue;
        }
        redisReply *r = redisCommand(k, "GET key:1");
        if (r && r->type == REDIS_REPLY_ERROR && !strncmp(r->str, "LOADING", 7)) {
            seen_loading = 1;
            redisReply *i = redisCommand(k, "INFO persistence");
            if (i && i->type == REDIS_REPLY_STRING && strstr(i->str, "loading:1")) {
                seen_info_loading = 1;
                if (strstr(i->str, "loading_loaded_bytes:"))
                    seen_info = 1;
            }
            if (i)
                freeReplyObject(i);
        } else if (r && r->type == REDIS_REPLY_STRING) {
            up = 1;
        }
        if (r)
            freeReplyObject(r);
        redisFree(k);
    }
    ok(seen_loading, "-LOADING while the 2M-key file loads");
    ok(seen_info_loading, "INFO during the load: loading:1");
    ok(seen_info, "INFO during the load: loading_loaded_bytes and the other loading_* fields");
    ok(up, "then the data is served");
    c = proc_conn(&s);
    CHECK_CMD(c, "2000000", "DBSIZE");
    char *i = cmd(c, "INFO persistence");
    ok(strstr(i, "loading:0") != NULL, "INFO after the load: loading:0");
    free(i);
    redisFree(c);
    proc_kill9(&s);
}

int main(void)
{
    proc_init("rdb");

    test_save_restart();
    test_bgsave();
    test_bgsave_fork_point();
    test_save_points();
    test_shutdown();
    test_corrupt();
    test_crash_mid_bgsave();
    test_child_exclusion();
    const char *redis = proc_redis_path();
    test_bgsave_error(redis);
    test_bgsave_progress();
    test_idmp(redis);
    if (redis) {
        test_sluice_to_redis(redis);
        test_redis_to_sluice(redis);
        test_dump_restore(redis);
    } else {
        tap_skip_dep("redis", "interchange: redis-server not installed");
    }
    test_loading();
    return tap_done();
}
