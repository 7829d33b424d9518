/* test_blocking_timeouts.c - short timeouts of blocking commands, and what
 * INFO counts as blocked, against redis-server 7.0.
 *
 * Issue 12's defect: `BLPOP nolist 0.001` never returned.  A timeout in
 * seconds became milliseconds with a plain cast, and strtold("0.001") *
 * 1000 is 0.99999..., so 0.001 and everything under 1 ms turned into 0,
 * "block forever".  Redis 7.0.8+ rounds up.  Here every blocking command
 * (BLPOP BRPOP BLMOVE BRPOPLPUSH BLMPOP, and XREAD/XREADGROUP BLOCK in ms)
 * times out with 0.001, 0.0001 and 0.01: alone, and next to clients that
 * block on the same key and on other keys, with no timeout and with long
 * ones.  Each must answer nil within 500 ms and never before its timeout,
 * blocked_clients must come back to the right count, and the clients left
 * blocked must still be served in order.
 *
 * Also here: a client held by CLIENT PAUSE WRITE counts in blocked_clients
 * (Redis counts it as a blocked, "postponed" client), compared with
 * redis-server's figures; and the query buffer sizes CLIENT LIST shows
 * (qbuf / qbuf-free) after the same sequences on both servers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tap.h"

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A connection that gives up after 3 s: a command that never returns
 * then fails its check instead of hanging the test. */
static redisContext *conn3(const struct test_server *s)
{
    redisContext *c = harness_connect(s);
    struct timeval tv = {3, 0};
    if (c && !c->err)
        redisSetTimeout(c, tv);
    return c;
}

/* redis-server on a free port, or 0 when it isn't installed (a visible
 * skip, a failure where SLUICE_REQUIRE names redis). */
static int start_redis(struct test_server *r, const char *why)
{
    const char *redis = getenv("REDIS_SERVER") ? getenv("REDIS_SERVER") : "/usr/bin/redis-server";
    if (access(redis, X_OK) != 0) {
        tap_skip_dep("redis", "%s: no redis-server at %s", why, redis);
        return 0;
    }
    const char *old = getenv("SLUICE_SERVER");
    char *saved = old ? strdup(old) : NULL;
    setenv("SLUICE_SERVER", redis, 1);
    const char *rargs[] = {"--save", "", "--appendonly", "no", NULL};
    int rok = harness_start(r, rargs) == 0;
    if (saved) {
        setenv("SLUICE_SERVER", saved, 1);
        free(saved);
    } else {
        unsetenv("SLUICE_SERVER");
    }
    return ok(rok, "redis-server starts (%s)", why);
}

static long long blocked_clients(redisContext *c) { return harness_info_field(c, "clients", "blocked_clients"); }

/* Wait until blocked_clients reads want (the blocking commands of other
 * connections reach the server asynchronously); returns the last value. */
static long long wait_blocked(redisContext *c, long long want)
{
    long long v = -1;
    for (int i = 0; i < 300; i++) {
        v = blocked_clients(c);
        if (v == want)
            break;
        harness_sleep_ms(10);
    }
    return v;
}

/* The blocking commands, each on key "nolist" (and "dst"), timeout %s. */
struct bcmd {
    const char *name;
    const char *fmt;   /* one %s: the timeout */
    int seconds;       /* timeout in seconds (else ms) */
};

static const struct bcmd bcmds[] = {
    {"BLPOP", "BLPOP nolist %s", 1},
    {"BRPOP", "BRPOP nolist other %s", 1},
    {"BLMOVE", "BLMOVE nolist dst LEFT RIGHT %s", 1},
    {"BRPOPLPUSH", "BRPOPLPUSH nolist dst %s", 1},
    {"BLMPOP", "BLMPOP %s 2 nolist other LEFT COUNT 2", 1},
    {"XREAD", "XREAD BLOCK %s STREAMS nostream $", 0},
    {"XREADGROUP", "XREADGROUP GROUP g alice BLOCK %s STREAMS gstream >", 0},
};
#define NBCMDS (sizeof(bcmds) / sizeof(bcmds[0]))

/* Run one blocking command that must time out: nil, within 500 ms, never
 * before min_us.  Returns 1 when it did. */
static int timed_nil(redisContext *c, const char *cmd, long long min_us, const char *what)
{
    long long t0 = now_us();
    redisReply *r = redisCommand(c, cmd);
    long long us = now_us() - t0;
    int nil = r && r->type == REDIS_REPLY_NIL;
    int good = ok(nil && us >= min_us && us < 500000, "%s: %s answers nil after %lld us (>= %lld, < 500 ms)%s",
                  what, cmd, us, min_us, r ? "" : " [no reply]");
    if (r)
        freeReplyObject(r);
    return good;
}

static void setup_group(redisContext *c)
{
    redisReply *r = redisCommand(c, "XGROUP CREATE gstream g $ MKSTREAM");
    if (r)
        freeReplyObject(r);
}

static const char *const timeouts_s[] = {"0.001", "0.0001", "0.01"};
static const char *const timeouts_ms[] = {"1", "1", "10"};
static const long long min_us[] = {1000, 100, 10000};

/* Each command, each timeout, alone. */
static void test_alone(const struct test_server *s, const char *label)
{
    redisContext *c = conn3(s);
    setup_group(c);
    for (size_t i = 0; i < NBCMDS; i++) {
        for (int t = 0; t < 3; t++) {
            char cmd[160];
            snprintf(cmd, sizeof cmd, bcmds[i].fmt, bcmds[i].seconds ? timeouts_s[t] : timeouts_ms[t]);
            timed_nil(c, cmd, min_us[t], label);
        }
        /* the connection is usable afterwards and nothing stayed blocked */
        is_int(blocked_clients(c), 0, "%s: after %s, blocked_clients is 0", label, bcmds[i].name);
    }
    /* rounding: 1e-9 s is still a timeout, not "forever" (Redis rounds up) */
    timed_nil(c, "BLPOP nolist 1e-9", 1, label);
    timed_nil(c, "BLPOP nolist 0.0009", 900, label);
    timed_nil(c, "BLPOP nolist 0.002", 2000, label);
    redisFree(c);
}

/* Short timeouts next to clients blocked on the same key and another key,
 * forever and with a long timeout: only the short ones leave, the others
 * stay blocked in their order and are served by a push. */
static void test_with_others(const struct test_server *s, const char *label)
{
    redisContext *ctl = conn3(s);
    redisContext *same0 = conn3(s), *same30 = conn3(s), *other0 = conn3(s), *other30 = conn3(s);
    redisAppendCommand(same0, "BLPOP k 0");
    redisAppendCommand(same30, "BLPOP k 30");
    redisAppendCommand(other0, "BLPOP otherkey 0");
    redisAppendCommand(other30, "BRPOP otherkey 30");
    redisContext *bg[] = {same0, same30, other0, other30};
    for (int i = 0; i < 4; i++) {
        int done = 0;
        redisBufferWrite(bg[i], &done);
        /* one at a time, so the order on each key is known */
        wait_blocked(ctl, i + 1);
    }
    is_int(wait_blocked(ctl, 4), 4, "%s: four clients blocked", label);
    redisContext *c = conn3(s);
    for (int t = 0; t < 3; t++) {
        char cmd[96];
        snprintf(cmd, sizeof cmd, "BLPOP k %s", timeouts_s[t]);
        timed_nil(c, cmd, min_us[t], label);
        snprintf(cmd, sizeof cmd, "BRPOP otherkey %s", timeouts_s[t]);
        timed_nil(c, cmd, min_us[t], label);
        snprintf(cmd, sizeof cmd, "BLMPOP %s 2 k otherkey RIGHT", timeouts_s[t]);
        timed_nil(c, cmd, min_us[t], label);
        is_int(blocked_clients(ctl), 4, "%s: after the %s timeouts, the four others are still blocked", label,
               timeouts_s[t]);
    }
    /* several short ones at once, on the same keys as the long waiters */
    redisContext *many[6];
    long long t0 = now_us();
    for (int i = 0; i < 6; i++) {
        many[i] = conn3(s);
        redisAppendCommand(many[i], i % 2 ? "BLPOP k %s" : "BLMOVE otherkey dst LEFT LEFT %s", timeouts_s[i % 3]);
        int done = 0;
        redisBufferWrite(many[i], &done);
    }
    int all_nil = 1;
    for (int i = 0; i < 6; i++) {
        redisReply *r = NULL;
        if (redisGetReply(many[i], (void **)&r) != REDIS_OK || !r || r->type != REDIS_REPLY_NIL)
            all_nil = 0;
        if (r)
            freeReplyObject(r);
        redisFree(many[i]);
    }
    long long us = now_us() - t0;
    ok(all_nil && us < 500000, "%s: six concurrent short timeouts all answer nil (%lld us for all)", label, us);
    is_int(wait_blocked(ctl, 4), 4, "%s: blocked_clients is back to 4", label);
    /* the long waiters kept their places: k serves same0 then same30 */
    redisReply *r = redisCommand(ctl, "RPUSH k a b");
    if (r)
        freeReplyObject(r);
    r = redisCommand(ctl, "RPUSH otherkey x y");
    if (r)
        freeReplyObject(r);
    const char *want[] = {"a", "b", "x", "y"};
    for (int i = 0; i < 4; i++) {
        redisReply *g = NULL;
        int got = redisGetReply(bg[i], (void **)&g) == REDIS_OK && g && g->type == REDIS_REPLY_ARRAY &&
                  g->elements == 2 && strcmp(g->element[1]->str, want[i]) == 0;
        ok(got, "%s: blocked client %d still served in order (%s)", label, i, want[i]);
        if (g)
            freeReplyObject(g);
        redisFree(bg[i]);
    }
    is_int(wait_blocked(ctl, 0), 0, "%s: blocked_clients is 0 at the end", label);
    redisFree(c);
    redisFree(ctl);
}

/* The timeout that rounds to -0 (not negative) blocks forever in Redis,
 * and the same here: it must still be blocked, then CLIENT UNBLOCK. */
static void negative_zero(const struct test_server *s, const char *label, long long *blocked_out)
{
    redisContext *c = conn3(s), *ctl = conn3(s);
    redisReply *id = redisCommand(c, "CLIENT ID");
    redisAppendCommand(c, "BLPOP nolist -0.0001");
    int done = 0;
    redisBufferWrite(c, &done);
    harness_sleep_ms(100);
    *blocked_out = blocked_clients(ctl);
    redisReply *u = redisCommand(ctl, "CLIENT UNBLOCK %lld", id ? id->integer : 0);
    redisReply *r = NULL;
    redisGetReply(c, (void **)&r);
    ok(u && u->integer == 1 && r && r->type == REDIS_REPLY_NIL, "%s: BLPOP -0.0001 blocks until CLIENT UNBLOCK",
       label);
    if (id)
        freeReplyObject(id);
    if (u)
        freeReplyObject(u);
    if (r)
        freeReplyObject(r);
    redisFree(c);
    redisFree(ctl);
}

/* ---- CLIENT PAUSE: held clients count as blocked ------------------------- */

struct pause_figures {
    long long during;   /* blocked_clients while a SET is held */
    long long with_pop; /* ... and a BLPOP blocked too */
    long long after;    /* after UNPAUSE (the BLPOP still blocked) */
    int flag_b;         /* CLIENT LIST shows the held client with flags=b */
    int set_ok;
};

static void pause_sequence(const struct test_server *s, struct pause_figures *f)
{
    redisContext *a = conn3(s), *b = conn3(s), *c = conn3(s), *d = conn3(s);
    redisReply *r = redisCommand(a, "CLIENT PAUSE 10000 WRITE");
    if (r)
        freeReplyObject(r);
    redisReply *bid = redisCommand(b, "CLIENT ID");
    redisAppendCommand(b, "SET k v");
    int done = 0;
    redisBufferWrite(b, &done);
    f->during = wait_blocked(c, 1);
    redisAppendCommand(d, "BLPOP nolist 0");
    redisBufferWrite(d, &done);
    f->with_pop = wait_blocked(c, 2);
    char want[64];
    snprintf(want, sizeof want, "id=%lld ", bid ? bid->integer : -1);
    r = redisCommand(c, "CLIENT LIST");
    f->flag_b = 0;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *line = strstr(r->str, want);
        const char *fl = line ? strstr(line, " flags=") : NULL;
        f->flag_b = fl && fl[7] == 'b';
    }
    if (r)
        freeReplyObject(r);
    r = redisCommand(a, "CLIENT UNPAUSE");
    if (r)
        freeReplyObject(r);
    redisReply *sr = NULL;
    f->set_ok = redisGetReply(b, (void **)&sr) == REDIS_OK && sr && sr->type == REDIS_REPLY_STATUS;
    if (sr)
        freeReplyObject(sr);
    f->after = wait_blocked(c, 1);
    r = redisCommand(c, "LPUSH nolist x");
    if (r)
        freeReplyObject(r);
    redisReply *pr = NULL;
    redisGetReply(d, (void **)&pr);
    if (pr)
        freeReplyObject(pr);
    if (bid)
        freeReplyObject(bid);
    redisFree(a);
    redisFree(b);
    redisFree(c);
    redisFree(d);
}

static void test_pause_counts(const struct test_server *s, const struct test_server *r)
{
    struct pause_figures fs, fr;
    pause_sequence(s, &fs);
    is_int(fs.during, 1, "CLIENT PAUSE WRITE: the held SET counts in blocked_clients");
    is_int(fs.with_pop, 2, "CLIENT PAUSE WRITE: held SET + blocked BLPOP = 2");
    is_int(fs.after, 1, "after CLIENT UNPAUSE only the BLPOP is blocked");
    ok(fs.flag_b, "CLIENT LIST shows the held client with flags=b");
    ok(fs.set_ok, "the held SET runs after CLIENT UNPAUSE");
    if (!r)
        return;
    pause_sequence(r, &fr);
    ok(fs.during == fr.during && fs.with_pop == fr.with_pop && fs.after == fr.after && fs.flag_b == fr.flag_b,
       "the same figures as redis-server (sluice %lld/%lld/%lld/b=%d, redis %lld/%lld/%lld/b=%d)", fs.during,
       fs.with_pop, fs.after, fs.flag_b, fr.during, fr.with_pop, fr.after, fr.flag_b);
}

/* A pipelined client whose read was answered and whose write is then held:
 * it waits on the pending-writes list and the paused list at once
 * (regression: both used one list node, and the server crashed). */
static void pipelined_pause(const struct test_server *s, char *out, size_t len)
{
    redisContext *a = conn3(s), *c = conn3(s);
    redisReply *r = redisCommand(a, "CLIENT PAUSE 10000 WRITE");
    if (r)
        freeReplyObject(r);
    int fd = harness_raw_connect(s->port);
    static const char pipeline[] = "PING\r\nSET pipelined v\r\nPING\r\n";
    char buf[128] = {0};
    int closed = 0;
    ssize_t n = harness_raw_exchange(fd, pipeline, sizeof(pipeline) - 1, buf, sizeof(buf) - 1, 7, 2000, &closed);
    char *p = harness_cmd(c, "PING"); /* the server still serves the others */
    r = redisCommand(a, "CLIENT UNPAUSE");
    if (r)
        freeReplyObject(r);
    ssize_t m = harness_raw_exchange(fd, NULL, 0, buf + (n > 0 ? n : 0), sizeof(buf) - 1 - (size_t)(n > 0 ? n : 0),
                                     19 - (size_t)(n > 0 ? n : 0), 2000, &closed);
    buf[(n > 0 ? n : 0) + (m > 0 ? m : 0)] = '\0';
    snprintf(out, len, "%s|%s", p, buf);
    free(p);
    close(fd);
    redisFree(a);
    redisFree(c);
}

static void test_pipelined_pause(const struct test_server *s, const struct test_server *r)
{
    char got[256], want[256];
    pipelined_pause(s, got, sizeof(got));
    is_str(got, "PONG|+PONG\r\n+OK\r\n+PONG\r\n",
           "CLIENT PAUSE WRITE: a pipeline PING, SET, PING gets PONG at once and the rest after UNPAUSE");
    if (!r)
        return;
    pipelined_pause(r, want, sizeof(want));
    is_str(got, want, "... byte for byte as redis-server");
}

/* ---- query buffer sizes (CLIENT LIST qbuf / qbuf-free) ------------------- */

static int qbuf_of(redisContext *ctl, long long id, long long *qbuf, long long *qfree)
{
    redisReply *r = redisCommand(ctl, "CLIENT LIST ID %lld", id);
    int got = 0;
    if (r && r->type == REDIS_REPLY_STRING) {
        const char *p = strstr(r->str, " qbuf=");
        if (p && sscanf(p, " qbuf=%lld qbuf-free=%lld", qbuf, qfree) == 2)
            got = 1;
    }
    if (r)
        freeReplyObject(r);
    return got;
}

/* The same size as Redis's: zero where Redis shows zero; otherwise, with
 * jemalloc (which Redis uses), within the 16 bytes the two string headers
 * differ by; another allocator rounds differently, so within a factor 2. */
static int same_size(long long sl, long long rd, int jemalloc)
{
    if (rd == 0 || sl == 0)
        return rd == sl;
    if (jemalloc)
        return sl - rd <= 16 && rd - sl <= 16;
    return sl <= 2 * rd && rd <= 2 * sl;
}

struct qside {
    const struct test_server *srv;
    redisContext *ctl, *c;
    long long id;
};

static void qside_open(struct qside *q, const struct test_server *srv)
{
    q->srv = srv;
    q->ctl = conn3(srv);
    q->c = conn3(srv);
    redisReply *r = redisCommand(q->c, "CLIENT ID");
    q->id = r ? r->integer : -1;
    if (r)
        freeReplyObject(r);
}

static void qside_cmd(struct qside *q, const char *fmt, const char *arg, size_t len)
{
    redisReply *r = arg ? redisCommand(q->c, fmt, arg, len) : redisCommand(q->c, fmt);
    if (r)
        freeReplyObject(r);
}

/* Compare a's and b's figures for one step. */
static void compare_step(struct qside *sl, struct qside *rd, int jemalloc, const char *step)
{
    long long sq = -1, sf = -1, rq = -1, rf = -1;
    int got = qbuf_of(sl->ctl, sl->id, &sq, &sf) && qbuf_of(rd->ctl, rd->id, &rq, &rf);
    ok(got && sq == rq && same_size(sf, rf, jemalloc), "%s: qbuf=%lld qbuf-free=%lld as redis-server's %lld/%lld",
       step, sq, sf, rq, rf);
}

/* Poll until the idle client's qbuf-free reads 0 (up to ms); the time taken. */
static long long wait_qfree_zero(struct qside *q, int ms)
{
    long long t0 = harness_now_ms(), qb, qf;
    while (harness_now_ms() - t0 < ms) {
        if (qbuf_of(q->ctl, q->id, &qb, &qf) && qb == 0 && qf == 0)
            return harness_now_ms() - t0;
        harness_sleep_ms(20);
    }
    return -1;
}

static void test_query_buffers(const struct test_server *s, const struct test_server *r)
{
    struct qside sl, rd;
    qside_open(&sl, s);
    char alloc[64];
    int jemalloc = !strncmp(harness_info_str(sl.ctl, "memory", "mem_allocator", alloc, sizeof alloc), "jemalloc", 8);
    if (!r) {
        /* without the oracle, Redis's rules as recorded from it */
        harness_sleep_ms(3200);
        long long qb = -1, qf = -1;
        qbuf_of(sl.ctl, sl.id, &qb, &qf);
        ok(qb == 0 && qf == 0, "an idle client gives its query buffer back (qbuf=%lld qbuf-free=%lld)", qb, qf);
        redisFree(sl.ctl);
        redisFree(sl.c);
        return;
    }
    qside_open(&rd, r);
    compare_step(&sl, &rd, jemalloc, "a fresh client after one command");

    /* idle for more than 2 s: the whole buffer back */
    harness_sleep_ms(3200);
    compare_step(&sl, &rd, jemalloc, "idle for 3.2 s");
    long long qb = -1, qf = -1;
    qbuf_of(sl.ctl, sl.id, &qb, &qf);
    ok(qb == 0 && qf == 0, "idle for 3.2 s: qbuf=0 qbuf-free=0 (got %lld/%lld)", qb, qf);
    qside_cmd(&sl, "GET x", NULL, 0);
    qside_cmd(&rd, "GET x", NULL, 0);
    compare_step(&sl, &rd, jemalloc, "the next command after idling");

    /* a big argument grows the buffer past 32 KB; with no more requests
     * the peak falls and the cron shrinks it within a few passes */
    size_t big = 100000;
    char *v = malloc(big);
    memset(v, 'x', big);
    qside_cmd(&sl, "SET big %b", v, big);
    qside_cmd(&rd, "SET big %b", v, big);
    compare_step(&sl, &rd, jemalloc, "right after a 100 KB argument");
    long long sms = wait_qfree_zero(&sl, 1500), rms = wait_qfree_zero(&rd, 1500);
    ok(sms >= 0 && sms < 1000, "the 100 KB buffer is given back once the peak falls (%lld ms; redis: %lld ms)", sms,
       rms);
    ok(rms >= 0, "redis-server gives it back too (%lld ms)", rms);
    compare_step(&sl, &rd, jemalloc, "after the peak fell");

    /* 40 KB, then a steady trickle of small requests: cut to the peak,
     * then the usual 16 KB read buffer again */
    qside_cmd(&sl, "SET big %b", v, 40000);
    qside_cmd(&rd, "SET big %b", v, 40000);
    compare_step(&sl, &rd, jemalloc, "right after a 40 KB argument");
    for (int i = 0; i < 6; i++) {
        qside_cmd(&sl, "GET x", NULL, 0);
        qside_cmd(&rd, "GET x", NULL, 0);
        harness_sleep_ms(100);
    }
    qside_cmd(&sl, "GET x", NULL, 0);
    qside_cmd(&rd, "GET x", NULL, 0);
    compare_step(&sl, &rd, jemalloc, "small requests after the 40 KB one");
    qbuf_of(sl.ctl, sl.id, &qb, &qf);
    ok(qf < 32 * 1024, "the 40 KB buffer shrank (qbuf-free=%lld)", qf);

    /* a big argument half sent: the buffer keeps room for all of it
     * while the cron runs */
    char hdr[64];
    int hl = snprintf(hdr, sizeof hdr, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", big);
    struct qside *both[] = {&sl, &rd};
    long long half_free[2] = {-1, -1};
    for (int i = 0; i < 2; i++) {
        int fd = harness_raw_connect(both[i]->srv->port);
        redisReply *idr = NULL;
        (void)idr;
        /* a raw connection: its id is the newest client's */
        if (write(fd, hdr, (size_t)hl) != hl || write(fd, v, big / 2) != (ssize_t)(big / 2))
            ok(0, "sending half a big argument");
        harness_sleep_ms(400);
        redisReply *cl = redisCommand(both[i]->ctl, "CLIENT LIST");
        long long fq = -1, ff = -1;
        if (cl && cl->type == REDIS_REPLY_STRING) {
            const char *last = NULL, *p = cl->str;
            while ((p = strstr(p, "id=")) != NULL) {
                last = p;
                p++;
            }
            const char *q = last ? strstr(last, " qbuf=") : NULL;
            if (q)
                sscanf(q, " qbuf=%lld qbuf-free=%lld", &fq, &ff);
        }
        if (cl)
            freeReplyObject(cl);
        half_free[i] = fq + ff;
        if (write(fd, v + big / 2, big - big / 2) != (ssize_t)(big - big / 2) || write(fd, "\r\n", 2) != 2)
            ok(0, "sending the rest");
        char buf[16];
        int closed = 0;
        harness_raw_exchange(fd, "", 0, buf, sizeof buf, 5, 2000, &closed);
        close(fd);
    }
    ok(half_free[0] >= (long long)big && half_free[1] >= (long long)big,
       "half way through a 100 KB argument the buffer keeps room for all of it (sluice %lld, redis %lld bytes)",
       half_free[0], half_free[1]);
    free(v);
    redisFree(sl.ctl);
    redisFree(sl.c);
    redisFree(rd.ctl);
    redisFree(rd.c);
}

int main(void)
{
    struct test_server s, r;
    if (!ok(harness_start(&s, NULL) == 0, "sluice starts"))
        return tap_done();
    int have_redis = start_redis(&r, "differential blocking timeouts");

    test_alone(&s, "sluice");
    test_with_others(&s, "sluice");
    long long neg_s = -1, neg_r = -1;
    negative_zero(&s, "sluice", &neg_s);
    is_int(neg_s, 1, "sluice: BLPOP -0.0001 counts as blocked");
    if (have_redis) {
        /* the same checks hold for redis-server 7.0: they describe Redis */
        test_alone(&r, "redis");
        test_with_others(&r, "redis");
        negative_zero(&r, "redis", &neg_r);
        is_int(neg_s, neg_r, "BLPOP -0.0001: blocked_clients as redis-server");
    }
    test_pause_counts(&s, have_redis ? &r : NULL);
    test_pipelined_pause(&s, have_redis ? &r : NULL);
    test_query_buffers(&s, have_redis ? &r : NULL);

    harness_stop(&s);
    if (have_redis)
        harness_stop(&r);
    return tap_done();
}
