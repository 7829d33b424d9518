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

static long long info_field(redisContext *c, const char *section, const char *field)
{
    redisReply *r = redisCommand(c, "INFO %s", section);
    long long v = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        char key[64];
        snprintf(key, sizeof key, "\r\n%s:", field);
        const char *p = strstr(r->str, key);
        if (p)
            v = atoll(p + strlen(key));
    }
    if (r)
        freeReplyObject(r);
    return v;
}

static long long blocked_clients(redisContext *c) { return info_field(c, "clients", "blocked_clients"); }

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

    harness_stop(&s);
    if (have_redis)
        harness_stop(&r);
    return tap_done();
}
