/* test_scan.c - the SCAN command end to end across rehashing.
 *
 * SCAN's guarantee (Redis's): a key present during the whole iteration is
 * returned at least once, whatever resizing the keyspace goes through
 * meanwhile.  The dict-level guarantee is tested in tests/unit/test_dict;
 * here the command's cursor goes through the server:
 *   - grow: 1,000 keys "k:*" are there throughout; between SCAN calls
 *     29,000 more are added, so the table doubles several times (and
 *     rehashes incrementally) during the iteration;
 *   - shrink: the same 1,000 keys plus 29,000 "d:*" that are deleted
 *     during the iteration, with pauses so the cron shrinks the table.
 * Every "k:*" key must be seen; nothing outside the keyspace is returned.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tap.h"

#define KEPT 1000
#define EXTRA 29000

static void pipeline(redisContext *c, const char *fmt, const char *prefix, long from, long to)
{
    for (long i = from; i < to; i++)
        redisAppendCommand(c, fmt, prefix, i);
    for (long i = from; i < to; i++) {
        redisReply *r = NULL;
        if (redisGetReply(c, (void **)&r) == REDIS_OK)
            freeReplyObject(r);
    }
}

/* One full SCAN iteration, calling step(c, call number) between calls;
 * seen[i] counts how often "k:i" came back; *bad counts keys of neither
 * prefix (or malformed replies). */
static long scan_all(redisContext *c, int *seen, long *bad, void (*step)(redisContext *, long))
{
    char cursor[32] = "0";
    long calls = 0;
    do {
        redisReply *r = redisCommand(c, "SCAN %s COUNT 20", cursor);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            (*bad)++;
            if (r)
                freeReplyObject(r);
            return calls;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        for (size_t i = 0; i < r->element[1]->elements; i++) {
            const char *k = r->element[1]->element[i]->str;
            long n;
            if (sscanf(k, "k:%ld", &n) == 1 && n >= 0 && n < KEPT)
                seen[n]++;
            else if (strncmp(k, "n:", 2) != 0 && strncmp(k, "d:", 2) != 0)
                (*bad)++;
        }
        freeReplyObject(r);
        calls++;
        step(c, calls);
    } while (strcmp(cursor, "0") != 0 && calls < 1000000);
    return calls;
}

static void grow_step(redisContext *c, long call)
{
    /* 1,000 keys more at each of the first 29 calls */
    if (call <= EXTRA / 1000)
        pipeline(c, "SET %s%ld v", "n:", (call - 1) * 1000, call * 1000);
}

static void shrink_step(redisContext *c, long call)
{
    if (call <= EXTRA / 1000) {
        pipeline(c, "DEL %s%ld", "d:", (call - 1) * 1000, call * 1000);
        if (call % 5 == 0)
            harness_sleep_ms(150); /* the cron resizes the table */
    }
}

static void check(const char *what, const int *seen, long bad, long calls)
{
    long missing = 0, dup = 0;
    for (long i = 0; i < KEPT; i++) {
        missing += seen[i] == 0;
        dup += seen[i] > 1;
    }
    ok(calls > EXTRA / 1000, "%s: the iteration took %ld calls (the keyspace changed during it)", what, calls);
    is_int(missing, 0, "%s: every key present throughout was returned at least once", what);
    is_int(bad, 0, "%s: nothing but the keyspace's keys came back", what);
    tap_diag("%s: %ld keys returned more than once (allowed)", what, dup);
}

int main(void)
{
    struct test_server s;
    if (!ok(harness_start(&s, NULL) == 0, "scan: server starts"))
        return tap_done();
    redisContext *c = harness_connect(&s);
    static int seen[KEPT];
    long bad = 0;

    pipeline(c, "SET %s%ld v", "k:", 0, KEPT);
    long calls = scan_all(c, seen, &bad, grow_step);
    char *r = harness_cmd(c, "DBSIZE");
    is_str(r, "30000", "grow: the keyspace grew to 30,000 keys during the scan");
    free(r);
    check("grow", seen, bad, calls);

    r = harness_cmd(c, "FLUSHALL");
    free(r);
    memset(seen, 0, sizeof(seen));
    bad = 0;
    pipeline(c, "SET %s%ld v", "k:", 0, KEPT);
    pipeline(c, "SET %s%ld v", "d:", 0, EXTRA);
    calls = scan_all(c, seen, &bad, shrink_step);
    r = harness_cmd(c, "DBSIZE");
    is_str(r, "1000", "shrink: the keyspace shrank to 1,000 keys during the scan");
    free(r);
    check("shrink", seen, bad, calls);

    redisFree(c);
    harness_stop(&s);
    return tap_done();
}
