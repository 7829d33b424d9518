/* test_streams.c - stream behaviour beyond what the differential scripts
 * can compare with redis-server 7.0:
 *
 *  - idempotent producers, Redis 8.6's XADD IDMP/IDMPAUTO and XCFGSET
 *    (Debian's Redis predates them): deduplication, producer isolation,
 *    content-derived iids, the documented errors, XINFO STREAM's
 *    idempotency fields, the window expiring by time and by size, and the
 *    state travelling with the value (COPY, RENAME, AOF restart);
 *  - at-least-once delivery: several consumers of a group, one killed in
 *    the middle of a batch, its entries reclaimed with XAUTOCLAIM, every
 *    entry processed at least once and acknowledged exactly once;
 *  - the records groups leave for AOF/replicas: after a restart from the
 *    AOF the pending lists, delivery counts and times, last-delivered IDs
 *    and entries-read are the ones before;
 *  - blocking details: CLIENT UNBLOCK, timeout precision, a waiter that
 *    disconnects.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tap.h"

/* Runs a command and checks its rendering (see harness_cmd). */
static void cmd_is(redisContext *c, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char desc[256];
    va_start(ap, fmt);
    vsnprintf(desc, sizeof(desc), fmt, ap);
    va_end(ap);
    char *got = NULL;
    if (!r) {
        got = strdup("(connection error)");
    } else {
        switch (r->type) {
        case REDIS_REPLY_ERROR:
        case REDIS_REPLY_STATUS:
        case REDIS_REPLY_STRING:
            got = strndup(r->str, r->len);
            break;
        case REDIS_REPLY_INTEGER: {
            char num[32];
            snprintf(num, sizeof(num), "%lld", r->integer);
            got = strdup(num);
            break;
        }
        case REDIS_REPLY_NIL:
            got = strdup("(nil)");
            break;
        default:
            got = strdup("(aggregate)");
        }
        freeReplyObject(r);
    }
    is_str(got, want, "%s -> %s", desc, want);
    free(got);
}

static redisReply *cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return r;
}

/* A string reply as a malloc'ed C string ("" for anything else). */
static char *cmd_str(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char *s = strdup(r && r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
    return s;
}

/* Whether s is an entry id "<ms>-<seq>", as XADD's bulk reply is: cmd_str()
 * gives "" for an error reply, and a check "x != y" must not pass on it. */
static int is_stream_id(const char *s)
{
    size_t ms = strspn(s, "0123456789");
    return ms > 0 && s[ms] == '-' && s[ms + 1] && strspn(s + ms + 1, "0123456789") == strlen(s + ms + 1);
}

/* A field of XINFO STREAM's reply (RESP2 flat map): its integer, or
 * LLONG_MIN when the field is absent. */
static long long info_field(redisContext *c, const char *key, const char *field)
{
    redisReply *r = cmd(c, "XINFO STREAM %s", key);
    long long v = LLONG_MIN;
    if (r && r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i + 1 < r->elements; i += 2)
            if (r->element[i]->type == REDIS_REPLY_STRING && !strcmp(r->element[i]->str, field) &&
                r->element[i + 1]->type == REDIS_REPLY_INTEGER)
                v = r->element[i + 1]->integer;
    freeReplyObject(r);
    return v;
}

static long long cmd_int(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = r && r->type == REDIS_REPLY_INTEGER ? r->integer : LLONG_MIN;
    freeReplyObject(r);
    return v;
}

/* ---- idempotent producers ------------------------------------------------------------ */

static void test_idmp_basics(redisContext *c)
{
    char *id1 = cmd_str(c, "XADD s IDMP p1 req-1 * amount 100 currency USD");
    ok(strchr(id1, '-') != NULL, "XADD IDMP adds an entry (%s)", id1);
    char *dup = cmd_str(c, "XADD s IDMP p1 req-1 * amount 200 currency EUR");
    is_str(dup, id1, "the same (pid, iid) returns the original entry's ID");
    cmd_is(c, "1", "XLEN s");
    redisReply *r = cmd(c, "XRANGE s - +");
    ok(r && r->elements == 1 && !strcmp(r->element[0]->element[1]->element[1]->str, "100"),
       "the original fields are kept");
    freeReplyObject(r);
    char *other = cmd_str(c, "XADD s IDMP p2 req-1 * amount 300");
    ok(strcmp(other, id1) != 0, "another producer with the same iid adds an entry");
    char *id2 = cmd_str(c, "XADD s IDMP p1 req-2 * amount 400");
    ok(strcmp(id2, id1) != 0, "another iid adds an entry");
    cmd_is(c, "3", "XLEN s");
    /* binary-safe ids */
    const char *argv[] = {"XADD", "s", "IDMP", "p\0x", "\x01\x00\xff", "*", "f", "v"};
    size_t lens[] = {4, 1, 4, 3, 3, 1, 1, 1};
    redisReply *b1 = redisCommandArgv(c, 8, argv, lens);
    redisReply *b2 = redisCommandArgv(c, 8, argv, lens);
    ok(b1 && b2 && b1->type == REDIS_REPLY_STRING && !strcmp(b1->str, b2->str), "binary pid/iid deduplicate");
    freeReplyObject(b1);
    freeReplyObject(b2);
    cmd_is(c, "4", "XLEN s");
    /* options in any order; NOMKSTREAM on a missing key */
    cmd_is(c, "(nil)", "XADD nokey NOMKSTREAM IDMP p1 x * f v");
    cmd_is(c, "0", "EXISTS nokey");
    char *o1 = cmd_str(c, "XADD s MAXLEN ~ 100 IDMP p3 a * f v");
    char *o2 = cmd_str(c, "XADD s IDMP p3 a MAXLEN ~ 100 NOMKSTREAM * f v");
    is_str(o2, o1, "IDMP after or before the other options");
    free(id1);
    free(dup);
    free(other);
    free(id2);
    free(o1);
    free(o2);
}

static void test_idmpauto(redisContext *c)
{
    char *a = cmd_str(c, "XADD auto IDMPAUTO p1 * f1 a f2 b f3 c");
    char *b = cmd_str(c, "XADD auto IDMPAUTO p1 * f2 b f3 c f1 a");
    is_str(b, a, "IDMPAUTO: the same pairs in another order are a duplicate");
    char *d = cmd_str(c, "XADD auto IDMPAUTO p1 * f1 a f2 b f3 x");
    ok(strcmp(d, a) != 0, "IDMPAUTO: another value is a new entry");
    char *e = cmd_str(c, "XADD auto IDMPAUTO p1 * g1 a f2 b f3 c");
    ok(strcmp(e, a) != 0, "IDMPAUTO: another field name is a new entry");
    char *f = cmd_str(c, "XADD auto IDMPAUTO p2 * f1 a f2 b f3 c");
    ok(strcmp(f, a) != 0, "IDMPAUTO: another producer is a new entry");
    char *g = cmd_str(c, "XADD auto IDMPAUTO p1 * f1 a f1 a f2 b f3 c");
    ok(strcmp(g, a) != 0, "IDMPAUTO: a repeated pair changes the content");
    char *h1 = cmd_str(c, "XADD auto IDMPAUTO p1 * f %s", "");
    char *h2 = cmd_str(c, "XADD auto IDMPAUTO p1 * f %s", "");
    is_str(h2, h1, "IDMPAUTO: empty values deduplicate");
    cmd_is(c, "6", "XLEN auto");
    free(a);
    free(b);
    free(d);
    free(e);
    free(f);
    free(g);
    free(h1);
    free(h2);
}

static void test_idmp_errors(redisContext *c)
{
    cmd_is(c, "ERR Invalid stream ID specified as stream command argument", "XADD e IDMP p1 * f v");
    cmd_is(c, "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs", "XADD e IDMP p1 iid1 1-1 f v");
    cmd_is(c, "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs", "XADD e IDMPAUTO p1 1-* f v");
    cmd_is(c, "ERR IDMP/IDMPAUTO specified multiple times", "XADD e IDMP p1 iid1 IDMP p2 iid2 * f v");
    cmd_is(c, "ERR IDMP/IDMPAUTO specified multiple times", "XADD e IDMPAUTO p1 IDMP p2 iid2 * f v");
    cmd_is(c, "ERR IDMP/IDMPAUTO specified multiple times", "XADD e IDMPAUTO p1 IDMPAUTO p2 * f v");
    cmd_is(c, "ERR IDMP requires a non-empty producer ID", "XADD e IDMP %s iid1 * f v", "");
    cmd_is(c, "ERR IDMP requires a non-empty idempotent ID", "XADD e IDMP p1 %s * f v", "");
    cmd_is(c, "ERR IDMPAUTO requires a non-empty producer ID", "XADD e IDMPAUTO %s * f v", "");
    cmd_is(c, "0", "EXISTS e");
    cmd_is(c, "ERR syntax error", "XTRIM e IDMP p1 i MAXLEN 1");
    /* XCFGSET */
    cmd_is(c, "ERR no such key", "XCFGSET e IDMP-DURATION 5");
    cmd_is(c, "OK", "SET str x");
    cmd_is(c, "WRONGTYPE Operation against a key holding the wrong kind of value", "XCFGSET str IDMP-DURATION 5");
    cmd_is(c, "1-0", "XADD e 1-0 f v");
    ok(info_field(c, "e", "idmp-duration") == LLONG_MIN, "a stream that never used IDMP shows Redis 7.0's XINFO");
    cmd_is(c, "ERR At least one parameter must be specified: IDMP-DURATION or IDMP-MAXSIZE", "XCFGSET e");
    cmd_is(c, "ERR syntax error", "XCFGSET e IDMP-DURATION");
    cmd_is(c, "ERR syntax error", "XCFGSET e IDMP-MAXSIZE");
    cmd_is(c, "ERR syntax error", "XCFGSET e INVALID");
    cmd_is(c, "ERR value is not an integer or out of range", "XCFGSET e IDMP-DURATION A");
    cmd_is(c, "ERR value is not an integer or out of range", "XCFGSET e IDMP-DURATION 3.14");
    cmd_is(c, "ERR value is not an integer or out of range", "XCFGSET e IDMP-DURATION 000000000");
    cmd_is(c, "ERR value is not an integer or out of range", "XCFGSET e IDMP-DURATION INVALID IDMP-MAXSIZE");
    cmd_is(c, "ERR value is not an integer or out of range", "XCFGSET e IDMP-MAXSIZE 120-5");
    cmd_is(c, "ERR IDMP-DURATION must be between 1 and 86400 seconds", "XCFGSET e IDMP-DURATION 0");
    cmd_is(c, "ERR IDMP-DURATION must be between 1 and 86400 seconds", "XCFGSET e IDMP-DURATION 86401");
    cmd_is(c, "ERR IDMP-DURATION must be between 1 and 86400 seconds", "XCFGSET e IDMP-DURATION -100");
    cmd_is(c, "ERR IDMP-MAXSIZE must be between 1 and 10000 entries", "XCFGSET e IDMP-MAXSIZE 0");
    cmd_is(c, "ERR IDMP-MAXSIZE must be between 1 and 10000 entries", "XCFGSET e IDMP-MAXSIZE 10001");
    ok(info_field(c, "e", "idmp-duration") == LLONG_MIN, "failed XCFGSETs change nothing");
    cmd_is(c, "OK", "XCFGSET e IDMP-DURATION 86400");
    cmd_is(c, "OK", "XCFGSET e IDMP-MAXSIZE 10000");
    ok(info_field(c, "e", "idmp-duration") == 86400 && info_field(c, "e", "idmp-maxsize") == 10000,
       "XINFO STREAM shows the configuration");
    cmd_is(c, "OK", "XCFGSET e IDMP-DURATION 1 IDMP-MAXSIZE 1");
    ok(info_field(c, "e", "idmp-duration") == 1 && info_field(c, "e", "idmp-maxsize") == 1, "both at once");
    cmd_is(c, "ERR wrong number of arguments for 'xcfgset' command", "XCFGSET");
    cmd_is(c, "ERR wrong number of arguments for 'xidmprecord' command", "XIDMPRECORD e p i");
    cmd_is(c, "ERR The specified stream ID was deleted or doesn't exist", "XIDMPRECORD e p i 9-9");
}

static void test_idmp_info_and_window(redisContext *c)
{
    cmd_is(c, "1-0", "XADD w 1-0 f v");
    ok(info_field(c, "w", "iids-tracked") == LLONG_MIN, "no idempotency fields before use");
    cmd_is(c, "2-0", "XADD w 2-0 f v");
    free(cmd_str(c, "XADD w IDMP p1 req-1 * f v"));
    free(cmd_str(c, "XADD w IDMP p1 req-2 * f v"));
    free(cmd_str(c, "XADD w IDMP p2 req-1 * f v"));
    free(cmd_str(c, "XADD w IDMP p1 req-1 * f dup"));
    free(cmd_str(c, "XADD w IDMP p1 req-1 * f dup"));
    ok(info_field(c, "w", "idmp-duration") == 100 && info_field(c, "w", "idmp-maxsize") == 100,
       "defaults: duration 100 s, maxsize 100");
    is_int(info_field(c, "w", "pids-tracked"), 2, "pids-tracked");
    is_int(info_field(c, "w", "iids-tracked"), 3, "iids-tracked");
    is_int(info_field(c, "w", "iids-added"), 3, "iids-added");
    is_int(info_field(c, "w", "iids-duplicates"), 2, "iids-duplicates");
    redisReply *r = cmd(c, "XINFO STREAM w FULL");
    int found = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i += 2)
        found += !strcmp(r->element[i]->str, "iids-added");
    ok(found == 1, "XINFO STREAM FULL has the fields too");
    freeReplyObject(r);

    /* same values: nothing forgotten; different values: the pairs go,
     * the lifetime counters stay */
    cmd_is(c, "OK", "XCFGSET w IDMP-DURATION 100 IDMP-MAXSIZE 100");
    is_int(info_field(c, "w", "iids-tracked"), 3, "XCFGSET with the same values keeps the pairs");
    char *before = cmd_str(c, "XADD w IDMP p2 req-1 * f again");
    cmd_is(c, "OK", "XCFGSET w IDMP-MAXSIZE 3");
    is_int(info_field(c, "w", "iids-tracked"), 0, "XCFGSET with another value forgets the pairs");
    is_int(info_field(c, "w", "pids-tracked"), 0, "... and the producers");
    is_int(info_field(c, "w", "iids-added"), 3, "... but not the lifetime counters");
    char *after = cmd_str(c, "XADD w IDMP p2 req-1 * f again");
    ok(is_stream_id(before) && is_stream_id(after) && strcmp(before, after) != 0,
       "a forgotten pair adds a new entry (%s, then %s)", before, after);

    /* the window by size: the oldest iid of the producer goes first */
    char *ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = cmd_str(c, "XADD w IDMP sz r%d * n %d", i, i);
    is_int(info_field(c, "w", "iids-tracked"), 4, "at most maxsize (3) per producer: 3 + 1");
    char *again4 = cmd_str(c, "XADD w IDMP sz r4 * n x");
    char *again2 = cmd_str(c, "XADD w IDMP sz r2 * n x");
    ok(is_stream_id(ids[2]) && is_stream_id(ids[4]), "XADD IDMP replies entry ids (%s, %s)", ids[2], ids[4]);
    is_str(again4, ids[4], "the newest iids are still known");
    is_str(again2, ids[2], "... all three of them");
    char *again0 = cmd_str(c, "XADD w IDMP sz r0 * n x");
    ok(is_stream_id(again0) && is_stream_id(ids[0]) && strcmp(again0, ids[0]) != 0,
       "the oldest was evicted (%s, then %s)", ids[0], again0);
    for (int i = 0; i < 5; i++)
        free(ids[i]);
    free(again4);
    free(again2);
    free(again0);
    free(before);
    free(after);

    /* the window by time */
    cmd_is(c, "OK", "XCFGSET w IDMP-DURATION 1");
    char *t1 = cmd_str(c, "XADD w IDMP tm a * f v");
    char *t2 = cmd_str(c, "XADD w IDMP tm a * f v");
    ok(is_stream_id(t1), "XADD IDMP replies an entry id (%s)", t1);
    is_str(t2, t1, "within the duration: a duplicate");
    harness_sleep_ms(1200);
    char *t3 = cmd_str(c, "XADD w IDMP tm a * f v");
    ok(is_stream_id(t1) && is_stream_id(t3) && strcmp(t3, t1) != 0, "after the duration: a new entry (%s, then %s)",
       t1, t3);
    harness_sleep_ms(1200);
    is_int(info_field(c, "w", "iids-tracked"), 0, "expired pairs are not tracked");
    is_int(info_field(c, "w", "pids-tracked"), 0, "nor their producers");
    free(t1);
    free(t2);
    free(t3);
}

static void test_idmp_travels(redisContext *c)
{
    char *id = cmd_str(c, "XADD tr IDMP p k * f v");
    cmd_is(c, "1", "COPY tr tr2");
    char *d = cmd_str(c, "XADD tr2 IDMP p k * f v");
    is_str(d, id, "COPY carries the idempotency state");
    cmd_is(c, "OK", "RENAME tr2 tr3");
    char *d2 = cmd_str(c, "XADD tr3 IDMP p k * f v");
    is_str(d2, id, "RENAME carries it");
    is_int(info_field(c, "tr3", "iids-duplicates"), 2, "counters travel too");
    is_int(info_field(c, "tr", "iids-duplicates"), 0, "the copy is independent");
    cmd_is(c, "1", "MOVE tr3 1");
    cmd_is(c, "OK", "SELECT 1");
    char *d3 = cmd_str(c, "XADD tr3 IDMP p k * f v");
    is_str(d3, id, "MOVE carries it");
    cmd_is(c, "OK", "SELECT 0");
    free(id);
    free(d);
    free(d2);
    free(d3);
}

static void test_idmp(void)
{
    struct test_server s;
    if (!ok(harness_start(&s, NULL) == 0, "server starts"))
        return;
    redisContext *c = harness_connect(&s);
    test_idmp_basics(c);
    test_idmpauto(c);
    test_idmp_errors(c);
    test_idmp_info_and_window(c);
    test_idmp_travels(c);
    redisFree(c);
    harness_stop(&s);
}

/* ---- at-least-once delivery ------------------------------------------------------------ */

#define NENTRIES 300

static int id_index(const char *id)
{
    return atoi(id) - 1; /* entries are n-0, n = 1..NENTRIES */
}

/* Processes one XREADGROUP/XAUTOCLAIM batch: marks each entry processed
 * and (when ack) acknowledges it, counting XACK replies of 1. */
static void process(redisContext *c, redisReply *entries, int *processed, int *acked_once, int ack)
{
    for (size_t i = 0; i < entries->elements; i++) {
        redisReply *e = entries->element[i];
        const char *id = e->element[0]->str;
        processed[id_index(id)]++;
        if (ack) {
            long long n = cmd_int(c, "XACK q g %s", id);
            if (n == 1)
                acked_once[id_index(id)]++;
        }
    }
}

static void test_at_least_once(void)
{
    struct test_server s;
    if (!ok(harness_start(&s, NULL) == 0, "server starts"))
        return;
    redisContext *prod = harness_connect(&s);
    for (int i = 1; i <= NENTRIES; i++)
        freeReplyObject(cmd(prod, "XADD q %d-0 job %d", i, i));
    cmd_is(prod, "OK", "XGROUP CREATE q g 0");

    int processed[NENTRIES] = {0}, acked[NENTRIES] = {0};
    redisContext *workers[3];
    for (int w = 0; w < 3; w++)
        workers[w] = harness_connect(&s);

    /* the doomed consumer takes a batch and dies without acknowledging */
    redisReply *r = cmd(workers[0], "XREADGROUP GROUP g doomed COUNT 25 STREAMS q >");
    ok(r && r->type == REDIS_REPLY_ARRAY && r->element[0]->element[1]->elements == 25, "doomed reads 25 entries");
    process(workers[0], r->element[0]->element[1], processed, acked, 0);
    freeReplyObject(r);
    redisFree(workers[0]);

    /* two healthy consumers share the rest */
    int rounds = 0;
    for (;;) {
        int got = 0;
        for (int w = 1; w < 3; w++) {
            r = cmd(workers[w], "XREADGROUP GROUP g worker%d COUNT 10 STREAMS q >", w);
            if (r && r->type == REDIS_REPLY_ARRAY) {
                process(workers[w], r->element[0]->element[1], processed, acked, 1);
                got += (int)r->element[0]->element[1]->elements;
            }
            freeReplyObject(r);
        }
        rounds++;
        if (!got)
            break;
    }
    redisReply *p = cmd(prod, "XPENDING q g");
    ok(p && p->element[0]->integer == 25 && !strcmp(p->element[3]->element[0]->element[0]->str, "doomed"),
       "25 entries stay pending with the dead consumer");
    freeReplyObject(p);

    /* a survivor reclaims them once they have been idle long enough */
    harness_sleep_ms(120);
    char cursor[64] = "0-0";
    int claims = 0;
    do {
        r = cmd(workers[1], "XAUTOCLAIM q g worker1 100 %s COUNT 7", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY)
            break;
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        process(workers[1], r->element[1], processed, acked, 1);
        claims++;
        freeReplyObject(r);
    } while (strcmp(cursor, "0-0") != 0 && claims < 20);
    ok(claims >= 4, "XAUTOCLAIM walked the PEL with its cursor (%d calls)", claims);

    int all_processed = 1, all_acked_once = 1, redelivered = 0;
    for (int i = 0; i < NENTRIES; i++) {
        all_processed &= processed[i] >= 1;
        all_acked_once &= acked[i] == 1;
        redelivered += processed[i] > 1;
    }
    ok(all_processed, "every entry was processed at least once");
    ok(all_acked_once, "every entry was acknowledged exactly once (one XACK replied 1)");
    is_int(redelivered, 25, "exactly the dead consumer's entries were processed twice");
    p = cmd(prod, "XPENDING q g");
    ok(p && p->element[0]->integer == 0, "XPENDING is 0 at the end");
    freeReplyObject(p);
    /* acknowledging again changes nothing */
    is_int(cmd_int(prod, "XACK q g 1-0 2-0 3-0"), 0, "a second XACK of the same IDs acknowledges nothing");
    redisReply *cs = cmd(prod, "XINFO CONSUMERS q g");
    ok(cs && cs->elements == 3, "three consumers are known to the group");
    freeReplyObject(cs);
    for (int w = 1; w < 3; w++)
        redisFree(workers[w]);
    redisFree(prod);
    harness_stop(&s);
}

/* ---- the records of group changes: restart from the AOF ------------------------------------ */

/* XINFO STREAM FULL with the consumers' seen-time masked (a restart sees
 * them anew), rendered flat. */
static void render(redisReply *r, char **out, size_t *len, int mask_next)
{
    char buf[64];
    const char *p = buf;
    size_t n;
    switch (r->type) {
    case REDIS_REPLY_INTEGER:
        n = (size_t)snprintf(buf, sizeof(buf), mask_next ? "<t>" : "%lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        n = (size_t)snprintf(buf, sizeof(buf), "nil");
        break;
    case REDIS_REPLY_ARRAY:
        *out = realloc(*out, *len + 2);
        (*out)[(*len)++] = '[';
        for (size_t i = 0; i < r->elements; i++)
            render(r->element[i], out, len,
                   i > 0 && r->element[i - 1]->type == REDIS_REPLY_STRING &&
                       !strcmp(r->element[i - 1]->str, "seen-time"));
        p = "]";
        n = 1;
        break;
    default:
        p = r->str;
        n = r->len;
    }
    *out = realloc(*out, *len + n + 2);
    memcpy(*out + *len, p, n);
    *len += n;
    (*out)[(*len)++] = ' ';
    (*out)[*len] = '\0';
}

static char *group_state(redisContext *c)
{
    char *out = NULL;
    size_t len = 0;
    redisReply *r = cmd(c, "XINFO STREAM q FULL COUNT 0");
    if (r)
        render(r, &out, &len, 0);
    freeReplyObject(r);
    return out ? out : strdup("");
}

static void test_records_replay(void)
{
    struct test_server s;
    const char *args[] = {"--appendonly", "yes", NULL};
    if (!ok(harness_start(&s, args) == 0, "server starts with appendonly yes"))
        return;
    redisContext *c = harness_connect(&s);
    for (int i = 1; i <= 20; i++)
        freeReplyObject(cmd(c, "XADD q * n %d", i));
    freeReplyObject(cmd(c, "XADD q MAXLEN ~ 5 * n 21"));
    freeReplyObject(cmd(c, "XGROUP CREATE q g 0"));
    freeReplyObject(cmd(c, "XGROUP CREATE q h $"));
    freeReplyObject(cmd(c, "XREADGROUP GROUP g c1 COUNT 5 STREAMS q >"));
    freeReplyObject(cmd(c, "XREADGROUP GROUP g c2 COUNT 3 STREAMS q >"));
    freeReplyObject(cmd(c, "XREADGROUP GROUP g c3 NOACK COUNT 2 STREAMS q >"));
    freeReplyObject(cmd(c, "XREADGROUP GROUP h c9 NOACK STREAMS q >"));
    redisReply *first = cmd(c, "XRANGE q - + COUNT 2");
    freeReplyObject(cmd(c, "XCLAIM q g c4 0 %s RETRYCOUNT 9", first->element[1]->element[0]->str));
    freeReplyObject(cmd(c, "XDEL q %s", first->element[0]->element[0]->str));
    freeReplyObject(first);
    harness_sleep_ms(5);
    freeReplyObject(cmd(c, "XAUTOCLAIM q g c5 0 0 COUNT 3"));
    freeReplyObject(cmd(c, "XACK q g 99-0"));
    /* recorded as MAXLEN = <length> LIMIT 50: accepted when replayed */
    freeReplyObject(cmd(c, "XADD q MAXLEN ~ 3 LIMIT 50 * n 21b"));
    freeReplyObject(cmd(c, "XCFGSET q IDMP-DURATION 500 IDMP-MAXSIZE 7"));
    char *aid = cmd_str(c, "XADD q IDMP prod one * n 22");
    char *before = group_state(c);
    long long entries_added = info_field(c, "q", "entries-added");
    redisFree(c);
    harness_stop_status(&s); /* keeps the directory */

    /* same directory, so the AOF is loaded */
    const char *args2[] = {"--appendonly", "yes", "--dir", s.dir, NULL};
    struct test_server s2;
    if (!ok(harness_start(&s2, args2) == 0, "server restarts from the AOF"))
        goto out;
    c = harness_connect(&s2);
    char *after = group_state(c);
    is_str(after, before, "PELs, delivery counts and times, last-delivered IDs, entries-read, consumers: replayed");
    is_int(info_field(c, "q", "entries-added"), entries_added, "entries-added replayed");
    ok(info_field(c, "q", "idmp-duration") == 500 && info_field(c, "q", "idmp-maxsize") == 7,
       "the idempotency configuration replayed (XCFGSET)");
    char *dup = cmd_str(c, "XADD q IDMP prod one * n 23");
    is_str(dup, aid, "the idempotency pair was replayed (XIDMPRECORD)");
    /* as in Redis 7.0, re-reading a consumer's history counts a delivery
     * but leaves no record: the count is not replayed */
    freeReplyObject(cmd(c, "XREADGROUP GROUP g c1 STREAMS q 0"));
    redisReply *p = cmd(c, "XPENDING q g - + 1 c1");
    ok(p && p->elements == 1 && p->element[0]->element[3]->integer == 2, "a history read counts a delivery");
    freeReplyObject(p);
    free(dup);
    free(after);
    redisFree(c);
    harness_stop(&s2);
out:
    harness_stop(&s); /* now removes the first directory */
    free(before);
    free(aid);
}

/* ---- the records are Redis 7.0's: the same commands, the same AOF ------------------------ */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 4096 > cap) {
            cap = cap ? cap * 2 : 65536;
            buf = realloc(buf, cap);
        }
        size_t n = fread(buf + *len, 1, cap - *len - 1, f);
        if (!n)
            break;
        *len += n;
    }
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* The AOF's lines with each delivery time (the value after TIME) masked. */
static char *masked_aof(const char *dir)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    size_t len;
    char *raw = slurp(path, &len);
    if (!raw)
        return strdup("(no aof)");
    char *out = malloc(len + 1), *o = out;
    int skip = 0;
    for (char *line = strtok(raw, "\r\n"); line; line = strtok(NULL, "\r\n")) {
        if (skip && --skip < 1) {
            o += sprintf(o, "<time> ");
            continue;
        }
        if (skip)
            continue;
        o += sprintf(o, "%s ", line);
        if (!strcmp(line, "TIME"))
            skip = 2; /* its $len and the value */
    }
    *o = '\0';
    free(raw);
    return out;
}

static const char *const record_script[] = {
    "XADD s 1-0 a 1", "XADD s 2-0 a 2", "XADD s 3-0 a 3", "XADD s 4-0 a 4", "XADD s 5-0 a 5",
    "XGROUP CREATE s g 0", "XGROUP CREATE s h $",
    "XREADGROUP GROUP g c1 COUNT 2 STREAMS s >",
    "XREADGROUP GROUP g c2 NOACK COUNT 1 STREAMS s >",
    "XREADGROUP GROUP h c9 NOACK STREAMS s >",
    "XREADGROUP GROUP g c1 STREAMS s 0",
    "XCLAIM s g c3 0 1-0 2 RETRYCOUNT 5",
    "XCLAIM s g c3 0 2-0 LASTID 9-0 JUSTID",
    "XCLAIM s g c4 0 LASTID 10-0",
    "XDEL s 2-0",
    "XAUTOCLAIM s g c5 0 0",
    "XACK s g 1-0 7-0", "XACK s g 8-0",
    "XADD s MAXLEN ~ 1 6-0 a 6",
    "XADD s MAXLEN ~ 2 LIMIT 3 7-0 a 7",
    "XTRIM s MINID ~ 9", "XTRIM s MAXLEN = 1", "XTRIM s MAXLEN 10",
    "XGROUP CREATECONSUMER s g c9", "XGROUP DELCONSUMER s g c9",
    "XGROUP SETID s g $ ENTRIESREAD 3", "XGROUP DESTROY s h",
    "XSETID s 20-0 ENTRIESADDED 30", "XADD s 21-* z z", "XADD s 22 z z",
    NULL,
};

static char *run_record_script(const char *bin)
{
    setenv("SLUICE_SERVER", bin, 1);
    struct test_server s;
    const char *args[] = {"--appendonly", "yes", "--save", "", NULL};
    if (harness_start(&s, args) != 0)
        return strdup("(did not start)");
    redisContext *c = harness_connect(&s);
    for (int i = 0; record_script[i]; i++)
        freeReplyObject(cmd(c, record_script[i]));
    freeReplyObject(cmd(c, "PING"));
    redisFree(c);
    harness_sleep_ms(100); /* appendfsync everysec: the file is written */
    char *aof = masked_aof(s.dir);
    harness_stop(&s);
    return aof;
}

static void test_records_match_redis(void)
{
    const char *redis = getenv("REDIS_SERVER") ? getenv("REDIS_SERVER") : "/usr/bin/redis-server";
    if (access(redis, X_OK) != 0) {
        tap_skip_dep("redis", "no redis-server at %s to compare the AOF records with", redis);
        return;
    }
    char *sluice_bin = strdup(harness_server_path());
    char *mine = run_record_script(sluice_bin);
    char *theirs = run_record_script(redis);
    setenv("SLUICE_SERVER", sluice_bin, 1);
    ok(strlen(mine) > 1000, "Sluice wrote the records to its AOF");
    is_str(mine, theirs, "XREADGROUP/XCLAIM/XAUTOCLAIM/XACK/XADD ~/XTRIM/XGROUP/XSETID records equal Redis 7.0's");
    free(mine);
    free(theirs);
    free(sluice_bin);
}

/* ---- blocking ---------------------------------------------------------------------------- */

static void test_blocking(void)
{
    struct test_server s;
    if (!ok(harness_start(&s, NULL) == 0, "server starts"))
        return;
    redisContext *c = harness_connect(&s), *b = harness_connect(&s);
    long long bid = cmd_int(b, "CLIENT ID");

    /* timeout precision */
    long long t0 = harness_now_ms();
    redisReply *r = cmd(b, "XREAD BLOCK 200 STREAMS nothing $");
    long long took = harness_now_ms() - t0;
    ok(r && r->type == REDIS_REPLY_NIL && took >= 195 && took < 400, "XREAD BLOCK 200 times out after %lld ms", took);
    freeReplyObject(r);

    /* CLIENT UNBLOCK: a timeout, or an error */
    redisAppendCommand(b, "XREAD BLOCK 0 STREAMS nothing $");
    redisBufferWrite(b, &(int){0});
    harness_sleep_ms(50);
    is_int(cmd_int(c, "CLIENT UNBLOCK %lld", bid), 1, "CLIENT UNBLOCK finds the blocked XREAD");
    redisGetReply(b, (void **)&r);
    ok(r && r->type == REDIS_REPLY_NIL, "... which gets the timeout reply");
    freeReplyObject(r);
    cmd_is(c, "OK", "XGROUP CREATE gs g $ MKSTREAM");
    redisAppendCommand(b, "XREADGROUP GROUP g c BLOCK 0 STREAMS gs >");
    redisBufferWrite(b, &(int){0});
    harness_sleep_ms(50);
    is_int(cmd_int(c, "CLIENT UNBLOCK %lld ERROR", bid), 1, "CLIENT UNBLOCK ERROR");
    redisGetReply(b, (void **)&r);
    ok(r && r->type == REDIS_REPLY_ERROR && !strcmp(r->str, "UNBLOCKED client unblocked via CLIENT UNBLOCK"),
       "... gives the UNBLOCKED error");
    freeReplyObject(r);

    /* a waiter that disconnects is forgotten: the entry goes to the next */
    redisContext *gone = harness_connect(&s);
    redisAppendCommand(gone, "XREADGROUP GROUP g quitter BLOCK 0 STREAMS gs >");
    redisBufferWrite(gone, &(int){0});
    harness_sleep_ms(50);
    redisAppendCommand(b, "XREADGROUP GROUP g stayer BLOCK 0 STREAMS gs >");
    redisBufferWrite(b, &(int){0});
    harness_sleep_ms(50);
    redisFree(gone);
    harness_sleep_ms(50);
    cmd_is(c, "PONG", "PING");
    free(cmd_str(c, "XADD gs 1-0 f v"));
    redisGetReply(b, (void **)&r);
    ok(r && r->type == REDIS_REPLY_ARRAY && r->elements == 1, "the remaining waiter is served");
    freeReplyObject(r);
    redisReply *cs = cmd(c, "XINFO CONSUMERS gs g");
    ok(cs && cs->elements == 1 && !strcmp(cs->element[0]->element[1]->str, "stayer"),
       "the disconnected waiter never became a consumer");
    freeReplyObject(cs);

    redisFree(b);
    redisFree(c);
    harness_stop(&s);
}

int main(void)
{
    test_idmp();
    test_at_least_once();
    test_records_replay();
    test_records_match_redis();
    test_blocking();
    return tap_done();
}
