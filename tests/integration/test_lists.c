/* test_lists.c - list behaviour that needs many connections, time or a
 * second server: fairness and exactly-once delivery with 10,000 blocked
 * clients, timeout precision, CLIENT UNBLOCK, cleanup of a blocked client
 * that disconnects, and memory use against redis-server 7.0.
 *
 * Reply-by-reply compatibility of every list command is the job of the
 * differential scripts (tests/diff/scripts/lists.redis, blocking.redis).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "harness.h"
#include "tap.h"

#define NCLIENTS 10000
#define NKEYS 1000

static void raise_nofile(int want)
{
    struct rlimit lim;
    getrlimit(RLIMIT_NOFILE, &lim);
    if (lim.rlim_cur < (rlim_t)want) {
        lim.rlim_cur = (rlim_t)want;
        if (lim.rlim_max < lim.rlim_cur)
            lim.rlim_max = lim.rlim_cur;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* 10,000 clients block on 1,000 keys (10 per key, in a known order); then
 * 10 elements per key are pushed one RPUSH at a time.  Every element must
 * reach exactly one client, every client exactly one element, and on each
 * key the i-th client to block must get the i-th element (FIFO). */
static void test_many_blocked_clients(void)
{
    raise_nofile(NCLIENTS + 1000);
    struct test_server s;
    const char *args[] = {"--maxclients", "20000", NULL};
    if (!ok(harness_start(&s, args) == 0, "server starts with maxclients 20000"))
        return;
    int *fds = calloc(NCLIENTS, sizeof(int));
    int opened = 0;
    char cmd[128];
    for (int i = 0; i < NCLIENTS; i++) {
        fds[i] = harness_raw_connect(s.port);
        if (fds[i] < 0)
            break;
        /* client i waits on key (i % NKEYS); clients of one key block in
         * increasing i, so its FIFO rank is i / NKEYS */
        int n = snprintf(cmd, sizeof(cmd), "*3\r\n$5\r\nBLPOP\r\n$%d\r\nk%d\r\n$1\r\n0\r\n",
                         snprintf(NULL, 0, "k%d", i % NKEYS), i % NKEYS);
        if (send_all(fds[i], cmd, (size_t)n) < 0)
            break;
        opened++;
        /* let the server register the block before the next client of the
         * same key, so blocking order is the connection order */
        if (i % NKEYS == NKEYS - 1)
            harness_sleep_ms(20);
    }
    is_int(opened, NCLIENTS, "%d clients connected and sent BLPOP", NCLIENTS);
    redisContext *c = harness_connect(&s);
    long long deadline = harness_now_ms() + 20000;
    char *blocked = NULL;
    while (harness_now_ms() < deadline) {
        free(blocked);
        char *info = harness_cmd(c, "INFO clients");
        char *p = strstr(info, "blocked_clients:");
        blocked = strdup(p ? p + 16 : "?");
        free(info);
        if (atoi(blocked) == NCLIENTS)
            break;
        harness_sleep_ms(50);
    }
    is_int(atoi(blocked), NCLIENTS, "INFO reports %d blocked clients", NCLIENTS);
    free(blocked);
    /* push in rounds: round r gives every key its r-th element */
    for (int r = 0; r < NCLIENTS / NKEYS; r++)
        for (int k = 0; k < NKEYS; k++)
            redisAppendCommand(c, "RPUSH k%d v%d-%d", k, k, r);
    int push_ok = 1;
    for (int i = 0; i < NCLIENTS; i++) {
        redisReply *rep;
        if (redisGetReply(c, (void **)&rep) != REDIS_OK || rep->type != REDIS_REPLY_INTEGER)
            push_ok = 0;
        else if (rep->integer != 1)
            push_ok = 0; /* each push must be taken by a waiter at once */
        if (rep)
            freeReplyObject(rep);
    }
    ok(push_ok, "every RPUSH found the key empty again (a waiter took each element at once)");
    /* read every client's reply */
    int epfd = epoll_create1(0);
    for (int i = 0; i < opened; i++) {
        struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
        epoll_ctl(epfd, EPOLL_CTL_ADD, fds[i], &ev);
    }
    char **got = calloc(NCLIENTS, sizeof(char *));
    int received = 0;
    deadline = harness_now_ms() + 30000;
    struct epoll_event evs[256];
    while (received < opened && harness_now_ms() < deadline) {
        int n = epoll_wait(epfd, evs, 256, 200);
        for (int e = 0; e < n; e++) {
            int i = (int)evs[e].data.u32;
            char buf[256];
            ssize_t r = read(fds[i], buf, sizeof(buf) - 1);
            if (r <= 0 || got[i])
                continue;
            buf[r] = '\0';
            got[i] = strdup(buf);
            received++;
        }
    }
    is_int(received, NCLIENTS, "every blocked client received a reply");
    int wrong = 0, fifo_wrong = 0;
    for (int i = 0; i < opened; i++) {
        char want[128];
        int k = i % NKEYS, rank = i / NKEYS;
        snprintf(want, sizeof(want), "*2\r\n$%d\r\nk%d\r\n$%d\r\nv%d-%d\r\n", snprintf(NULL, 0, "k%d", k), k,
                 snprintf(NULL, 0, "v%d-%d", k, rank), k, rank);
        if (!got[i]) {
            wrong++;
        } else if (strcmp(got[i], want) != 0) {
            /* a reply for the right key but another rank is an order bug */
            char prefix[64];
            snprintf(prefix, sizeof(prefix), "*2\r\n$%d\r\nk%d\r\n", snprintf(NULL, 0, "k%d", k), k);
            if (strncmp(got[i], prefix, strlen(prefix)) == 0)
                fifo_wrong++;
            else
                wrong++;
        }
    }
    is_int(wrong, 0, "every element delivered exactly once, to a client waiting on its key");
    is_int(fifo_wrong, 0, "clients on each key served in the order they blocked");
    char *dbsize = harness_cmd(c, "DBSIZE");
    is_str(dbsize, "0", "no element left undelivered");
    free(dbsize);
    for (int i = 0; i < opened; i++) {
        close(fds[i]);
        free(got[i]);
    }
    free(got);
    free(fds);
    close(epfd);
    redisFree(c);
    harness_stop(&s);
}

static long long blpop_elapsed_ms(redisContext *c, const char *timeout, char **reply)
{
    long long t0 = harness_now_ms();
    *reply = harness_cmd(c, "BLPOP nokey %s", timeout);
    return harness_now_ms() - t0;
}

static void test_timeouts_and_unblock(void)
{
    struct test_server s;
    const char *args[] = {"--enable-debug-command", "yes", NULL};
    if (!ok(harness_start(&s, args) == 0, "server starts"))
        return;
    redisContext *c = harness_connect(&s);
    const char *timeouts[] = {"0.05", "0.1", "0.25"};
    long long want[] = {50, 100, 250};
    for (int i = 0; i < 3; i++) {
        char *r;
        long long ms = blpop_elapsed_ms(c, timeouts[i], &r);
        is_str(r, "(nil)", "BLPOP timeout %s replies nil", timeouts[i]);
        ok(ms >= want[i] && ms <= want[i] + 40, "BLPOP timeout %s took %lld ms (within 40 ms)", timeouts[i], ms);
        free(r);
    }
    /* never early: a BLPOP right behind a 100 ms command in one pipeline
     * (the event loop's cached clock is then 100 ms old when it blocks) */
    long long busy_t0 = harness_now_ms();
    redisAppendCommand(c, "DEBUG SLEEP 0.1");
    redisAppendCommand(c, "BLPOP nokey 0.1");
    redisReply *sleep_rep = NULL, *pop_rep = NULL;
    redisGetReply(c, (void **)&sleep_rep);
    redisGetReply(c, (void **)&pop_rep);
    long long both = harness_now_ms() - busy_t0;
    ok(pop_rep && pop_rep->type == REDIS_REPLY_NIL && both >= 200,
       "a BLPOP behind a busy command still waits its whole timeout (%lld ms for 100 + 100)", both);
    if (sleep_rep)
        freeReplyObject(sleep_rep);
    if (pop_rep)
        freeReplyObject(pop_rep);
    /* CLIENT UNBLOCK: TIMEOUT gives the timeout reply, ERROR an error */
    redisContext *b = harness_connect(&s);
    char *id = harness_cmd(b, "CLIENT ID");
    redisAppendCommand(b, "BRPOP q 0");
    redisBufferWrite(b, &(int){0});
    harness_sleep_ms(50);
    char *r = harness_cmd(c, "CLIENT UNBLOCK %s TIMEOUT", id);
    is_str(r, "1", "CLIENT UNBLOCK of a blocked client returns 1");
    free(r);
    redisReply *rep;
    redisGetReply(b, (void **)&rep);
    ok(rep && rep->type == REDIS_REPLY_NIL, "the unblocked client got the timeout reply");
    if (rep)
        freeReplyObject(rep);
    redisAppendCommand(b, "BLMOVE q dst LEFT RIGHT 0");
    redisBufferWrite(b, &(int){0});
    harness_sleep_ms(50);
    r = harness_cmd(c, "CLIENT UNBLOCK %s ERROR", id);
    is_str(r, "1", "CLIENT UNBLOCK ... ERROR returns 1");
    free(r);
    redisGetReply(b, (void **)&rep);
    ok(rep && rep->type == REDIS_REPLY_ERROR && !strcmp(rep->str, "UNBLOCKED client unblocked via CLIENT UNBLOCK"),
       "the client got -UNBLOCKED");
    if (rep)
        freeReplyObject(rep);
    r = harness_cmd(c, "CLIENT UNBLOCK %s", id);
    is_str(r, "0", "CLIENT UNBLOCK of a client that is not blocked returns 0");
    free(r);
    /* the client is usable afterwards, with pipelined commands intact */
    r = harness_cmd(b, "PING");
    is_str(r, "PONG", "an unblocked client goes on normally");
    free(r);
    free(id);
    /* a blocked client that disconnects is forgotten at once: the next
     * push stays in the list instead of vanishing into a dead socket */
    int fd = harness_raw_connect(s.port);
    const char *bl = "*3\r\n$5\r\nBLPOP\r\n$4\r\ngone\r\n$1\r\n0\r\n";
    ok(send_all(fd, bl, strlen(bl)) == 0, "a raw client blocks on 'gone'");
    harness_sleep_ms(50);
    char *info = harness_cmd(c, "INFO clients");
    ok(strstr(info, "blocked_clients:1") != NULL, "it is counted as blocked");
    free(info);
    close(fd);
    harness_sleep_ms(100);
    info = harness_cmd(c, "INFO clients");
    ok(strstr(info, "blocked_clients:0") != NULL, "after disconnecting it no longer is");
    free(info);
    r = harness_cmd(c, "RPUSH gone x");
    is_str(r, "1", "a push to its key stays in the list");
    free(r);
    r = harness_cmd(c, "LLEN gone");
    is_str(r, "1", "LLEN confirms nothing was delivered to the closed client");
    free(r);
    /* MULTI: a blocking pop acts as its non-blocking form */
    r = harness_cmd(c, "MULTI");
    free(r);
    r = harness_cmd(c, "BLPOP empty 0");
    free(r);
    long long t0 = harness_now_ms();
    r = harness_cmd(c, "EXEC");
    ok(harness_now_ms() - t0 < 1000, "BLPOP 0 inside MULTI does not block");
    is_str(r, "(nil)", "and replies nil");
    free(r);
    redisFree(b);
    redisFree(c);
    harness_stop(&s);
}

static long long used_memory(redisContext *c)
{
    char *info = harness_cmd(c, "INFO memory");
    char *p = strstr(info, "used_memory:");
    long long v = p ? atoll(p + 12) : -1;
    free(info);
    return v;
}

/* Load the same lists into Sluice and redis-server; Sluice must use no
 * more memory.  Both numbers are printed for the README.  A server that
 * drops elements would use less memory, so the load is checked too: every
 * RPUSH must reply the list's new length, and load_check() reads the list
 * back.  Returns the number of RPUSH replies that were not that length. */
#define LOAD_TOTAL 1000000
#define LOAD_PER_CMD 1000

/* The element at index i of the list load_lists() builds. */
static int load_elem(int small_ints, int i, char *buf, size_t len)
{
    if (small_ints)
        return snprintf(buf, len, "%d", i % 100);
    memset(buf, 'x', 100);
    buf[100] = '\0';
    return 100;
}

static int load_lists(redisContext *c, int small_ints)
{
    char val[101];
    load_elem(0, 0, val, sizeof(val));
    const int total = LOAD_TOTAL, per_cmd = LOAD_PER_CMD;
    for (int i = 0; i < total; i += per_cmd) {
        const char *argv[per_cmd + 2];
        size_t lens[per_cmd + 2];
        char nums[per_cmd][12];
        argv[0] = "RPUSH";
        lens[0] = 5;
        argv[1] = small_ints ? "ints" : "strs";
        lens[1] = 4;
        for (int j = 0; j < per_cmd; j++) {
            if (small_ints) {
                lens[j + 2] = (size_t)load_elem(1, i + j, nums[j], sizeof(nums[j]));
                argv[j + 2] = nums[j];
            } else {
                argv[j + 2] = val;
                lens[j + 2] = 100;
            }
        }
        redisAppendCommandArgv(c, per_cmd + 2, argv, lens);
    }
    int bad = 0;
    for (int i = 0; i < total; i += per_cmd) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_INTEGER ||
            r->integer != i + per_cmd)
            bad++;
        if (r)
            freeReplyObject(r);
    }
    return bad;
}

/* The list load_lists() built on c holds exactly what was pushed: its
 * length, its ends and 1000 sampled positions (pipelined LINDEX). */
static void load_check(redisContext *c, const char *server, int small_ints, int bad_replies)
{
    const char *key = small_ints ? "ints" : "strs";
    is_int(bad_replies, 0, "%s: every RPUSH of %s replied the new length", server, key);
    redisReply *r = redisCommand(c, "LLEN %s", key);
    is_int(r && r->type == REDIS_REPLY_INTEGER ? r->integer : -1, LOAD_TOTAL, "%s: LLEN %s", server, key);
    if (r)
        freeReplyObject(r);
    enum { SAMPLES = 1000 };
    int idx[SAMPLES];
    unsigned long long x = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < SAMPLES; k++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        idx[k] = k == 0 ? 0 : k == 1 ? LOAD_TOTAL - 1 : (int)(x % LOAD_TOTAL);
        redisAppendCommand(c, "LINDEX %s %d", key, idx[k]);
    }
    int wrong = 0, first = -1;
    for (int k = 0; k < SAMPLES; k++) {
        char want[128];
        int wl = load_elem(small_ints, idx[k], want, sizeof(want));
        r = NULL;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_STRING ||
            r->len != (size_t)wl || memcmp(r->str, want, (size_t)wl) != 0) {
            wrong++;
            if (first < 0)
                first = idx[k];
        }
        if (r)
            freeReplyObject(r);
    }
    ok(wrong == 0, "%s: %d sampled elements of %s (ends included) are what was pushed (%d wrong, first at %d)",
       server, SAMPLES, key, wrong, first);
}

static void test_memory_vs_redis(void)
{
    const char *redis = getenv("REDIS_SERVER") ? getenv("REDIS_SERVER") : "/usr/bin/redis-server";
    if (access(redis, X_OK) != 0) {
        tap_skip_dep("redis", "memory comparison with Redis: no redis-server at %s", redis);
        return;
    }
    struct test_server s, r;
    const char *old = getenv("SLUICE_SERVER");
    char *saved = old ? strdup(old) : NULL;
    if (!ok(harness_start(&s, NULL) == 0, "sluice starts"))
        return;
    setenv("SLUICE_SERVER", redis, 1);
    const char *rargs[] = {"--save", "", "--appendonly", "no", NULL};
    int rok = harness_start(&r, rargs) == 0;
    if (saved) {
        setenv("SLUICE_SERVER", saved, 1);
        free(saved);
    } else {
        unsetenv("SLUICE_SERVER");
    }
    if (!ok(rok, "redis-server starts")) {
        harness_stop(&s);
        return;
    }
    redisContext *cs = harness_connect(&s), *cr = harness_connect(&r);
    char *alloc = harness_cmd(cs, "INFO memory");
    int jemalloc = strstr(alloc, "mem_allocator:jemalloc") != NULL;
    free(alloc);
    if (!jemalloc) {
        /* sanitizer builds use libc malloc: its sizes say nothing about
         * how Sluice compares with Redis (which uses jemalloc) */
        tap_skip("memory comparison with Redis: this build does not use jemalloc (sanitizer build?)");
        redisFree(cs);
        redisFree(cr);
        harness_stop(&s);
        harness_stop(&r);
        return;
    }
    for (int pass = 0; pass < 2; pass++) {
        long long s0 = used_memory(cs), r0 = used_memory(cr);
        int bad_s = load_lists(cs, pass);
        int bad_r = load_lists(cr, pass);
        long long ds = used_memory(cs) - s0, dr = used_memory(cr) - r0;
        load_check(cs, "sluice", pass, bad_s);
        load_check(cr, "redis-server", pass, bad_r);
        const char *what = pass ? "1M small integers" : "1M 100-byte strings";
        tap_diag("%s: sluice %lld bytes (%.2f B/elem), redis %lld bytes (%.2f B/elem)", what, ds, ds / 1e6, dr,
                 dr / 1e6);
        ok(ds <= dr, "%s take no more memory than in Redis (%lld <= %lld)", what, ds, dr);
    }
    redisFree(cs);
    redisFree(cr);
    harness_stop(&s);
    harness_stop(&r);
}

int main(void)
{
    test_timeouts_and_unblock();
    test_many_blocked_clients();
    test_memory_vs_redis();
    return tap_done();
}
