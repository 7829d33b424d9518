/* test_qlog.c - unit test of the queue log (server/lib/qlog.h).
 *
 * Edge cases of every API function, the loaders' bulk appends, then the
 * memory figures the log must meet (compared with what Redis 7.0's
 * quicklist takes for the same data).  The randomized run against a model
 * is test_qlog_model.c.
 */
#include <sys/wait.h>
#include <unistd.h>
#include "mem.h"
#include "qlog.h"
#include "tap.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- helpers ------------------------------------------------------------------ */

static char vbuf[QLOG_INT_BUFSIZE];

/* The entry as bytes, NUL-terminated when it is an integer. */
static const char *bytes_of(const qlog_value *v, size_t *len)
{
    return qlog_value_bytes(v, vbuf, len);
}

/* 1 when entry idx holds exactly s. */
static int at_is(const qlog *log, long long idx, const char *s)
{
    qlog_value v;
    size_t len;
    if (!qlog_index(log, idx, &v))
        return 0;
    const char *p = bytes_of(&v, &len);
    return len == strlen(s) && memcmp(p, s, len) == 0;
}

/* 1 when the log holds exactly want[0..n), read forward and backward. */
static int log_is(qlog *log, const char *const *want, size_t n)
{
    qlog_iter it;
    qlog_value v;
    size_t i = 0, len;

    if (qlog_length(log) != n)
        return 0;
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    while (qlog_iter_next(&it, &v)) {
        const char *p = bytes_of(&v, &len);
        if (i >= n || len != strlen(want[i]) || memcmp(p, want[i], len) != 0)
            return 0;
        i++;
    }
    if (i != n)
        return 0;
    qlog_iter_init(&it, log, -1, QLOG_BACKWARD);
    while (qlog_iter_next(&it, &v)) {
        const char *p = bytes_of(&v, &len);
        if (i == 0 || len != strlen(want[i - 1]) || memcmp(p, want[i - 1], len) != 0)
            return 0;
        i--;
    }
    return i == 0 && qlog_verify(log) == 0;
}

static void push_str(qlog *log, int end, const char *s)
{
    if (end == QLOG_HEAD)
        qlog_push_head(log, s, strlen(s));
    else
        qlog_push_tail(log, s, strlen(s));
}

static void push_int(qlog *log, long long x)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", x);
    qlog_push_tail(log, buf, (size_t)n);
}

/* ---- edge cases ----------------------------------------------------------------- */

static void test_empty(void)
{
    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    qlog_value v;
    qlog_iter it;
    char buf[8];

    is_int(qlog_length(log), 0, "empty: length 0");
    is_int(qlog_bytes(log), 0, "empty: bytes 0");
    is_int(qlog_segments(log), 0, "empty: no segment");
    ok(qlog_is_compact(log), "empty: compact");
    is_int(qlog_get_fill(log), -2, "empty: default fill");
    ok(!qlog_index(log, 0, &v) && !qlog_index(log, -1, &v), "empty: index out of range");
    ok(!qlog_pop_head(log, &v, buf, sizeof(buf)), "empty: pop head");
    ok(!qlog_pop_tail(log, NULL, NULL, 0), "empty: pop tail");
    ok(!qlog_replace(log, 0, "x", 1), "empty: replace fails");
    ok(!qlog_insert(log, 0, QLOG_BEFORE, "x", 1), "empty: insert fails");
    is_int(qlog_delete_range(log, 0, 10), 0, "empty: delete range");
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    ok(!qlog_iter_next(&it, &v), "empty: forward iteration");
    qlog_iter_init(&it, log, -1, QLOG_BACKWARD);
    ok(!qlog_iter_next(&it, &v), "empty: backward iteration");
    ok(qlog_verify(log) == 0, "empty: verify");
    ok(qlog_mem_usage(log) > 0, "empty: mem usage counts the header");
    qlog *d = qlog_dup(log);
    ok(qlog_length(d) == 0 && qlog_verify(d) == 0, "empty: dup");
    qlog_free(d);
    qlog_free(log);
    /* in a child, so a crash (or a sanitizer report) is a failed check,
     * not the end of the test program */
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        qlog_free(NULL);
        _exit(0);
    }
    int status = -1;
    int waited = pid > 0 && waitpid(pid, &status, 0) == pid;
    ok(waited && WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "qlog_free(NULL) is a no-op (the child exits normally, status 0x%x)", (unsigned)status);
}

static void test_one(void)
{
    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    qlog_value v;
    char buf[16];

    qlog_push_tail(log, "hello", 5);
    is_int(qlog_length(log), 1, "one: length 1");
    is_int(qlog_bytes(log), 7, "one: 5-byte string takes 7 bytes");
    is_int(qlog_segments(log), 1, "one: one segment");
    ok(qlog_is_compact(log), "one: compact");
    ok(at_is(log, 0, "hello") && at_is(log, -1, "hello"), "one: index 0 and -1");
    ok(!qlog_index(log, 1, &v) && !qlog_index(log, -2, &v), "one: index 1 and -2 out of range");
    ok(qlog_pop_tail(log, &v, buf, sizeof(buf)), "one: pop tail");
    is_mem(v.str, v.len, "hello", 5, "one: popped value");
    ok(v.str == buf && v.heap == NULL, "one: popped into the caller buffer");
    ok(qlog_length(log) == 0 && qlog_segments(log) == 0, "one: drained segment freed");
    ok(qlog_verify(log) == 0, "one: verify after pop");

    qlog_push_head(log, "x", 1);
    ok(qlog_replace(log, -1, "y", 1) && at_is(log, 0, "y"), "one: replace");
    ok(qlog_insert(log, 0, QLOG_BEFORE, "a", 1), "one: insert before");
    ok(qlog_insert(log, -1, QLOG_AFTER, "z", 1), "one: insert after");
    const char *want[] = {"a", "y", "z"};
    ok(log_is(log, want, 3), "one: contents after inserts");
    is_int(qlog_delete_range(log, 1, 1), 1, "one: delete middle");
    const char *want2[] = {"a", "z"};
    ok(log_is(log, want2, 2), "one: contents after delete");
    ok(qlog_pop_head(log, &v, buf, sizeof(buf)) && v.len == 1 && v.str[0] == 'a', "one: pop head");
    ok(qlog_pop_head(log, NULL, NULL, 0) && qlog_length(log) == 0, "one: pop without value");
    ok(qlog_verify(log) == 0, "one: verify");
    qlog_free(log);
}

/* Every width of the integer encoding, at its boundaries. */
static void test_integers(void)
{
    static const struct {
        long long v;
        size_t size;
    } cases[] = {
        {0, 1}, {1, 1}, {127, 1}, {128, 3}, {-1, 3}, {2047, 3}, {-2048, 3}, {2048, 4},
        {-2049, 4}, {32767, 4}, {-32768, 4}, {32768, 5}, {-32769, 5}, {8388607, 5},
        {-8388608, 5}, {8388608, 6}, {-8388609, 6}, {2147483647, 6}, {-2147483648LL, 6},
        {2147483648LL, 10}, {-2147483649LL, 10}, {INT64_MAX, 10}, {INT64_MIN, 10},
        {1000000, 5}, {-100, 3},
    };
    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    size_t n = sizeof(cases) / sizeof(cases[0]);

    for (size_t i = 0; i < n; i++) {
        size_t before = qlog_bytes(log);
        push_int(log, cases[i].v);
        is_int(qlog_bytes(log) - before, cases[i].size, "int %lld takes %zu bytes", cases[i].v,
               cases[i].size);
    }
    ok(qlog_verify(log) == 0, "ints: verify");
    for (size_t i = 0; i < n; i++) {
        qlog_value v;
        char want[32];
        size_t len;
        snprintf(want, sizeof(want), "%lld", cases[i].v);
        ok(qlog_index(log, (long long)i, &v) && v.is_int && v.ival == cases[i].v,
           "int %lld reads back as an integer", cases[i].v);
        const char *p = bytes_of(&v, &len);
        is_mem(p, len, want, strlen(want), "int %lld formats back", cases[i].v);
        ok(qlog_value_eq(&v, want, strlen(want)), "int %lld equals its string", cases[i].v);
    }
    /* Backwards too: the trailers must agree with the headers. */
    qlog_iter it;
    qlog_value v;
    size_t i = n;
    int good = 1;
    qlog_iter_init(&it, log, -1, QLOG_BACKWARD);
    while (qlog_iter_next(&it, &v))
        good &= v.is_int && v.ival == cases[--i].v;
    ok(good && i == 0, "ints: backward iteration");
    i = n;
    good = 1;
    while (qlog_length(log)) {
        qlog_pop_tail(log, &v, NULL, 0);
        good &= v.is_int && v.ival == cases[--i].v;
    }
    ok(good, "ints: popped back from the tail");
    qlog_free(log);
}

/* Strings that look numeric but are not canonical stay strings. */
static void test_numeric_strings(void)
{
    static const char *const strs[] = {
        "007", "-0", "+1", " 1", "1 ", "", "-", "00", "0x10", "1e3", "1.5", "--1",
        "9223372036854775808", "-9223372036854775809", "99999999999999999999",
        "123456789012345678901", "18446744073709551616", "1\0", "-01", "٣",
    };
    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    size_t n = sizeof(strs) / sizeof(strs[0]);

    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(strs[i]) + (strcmp(strs[i], "1") == 0); /* "1\0": 2 bytes */
        qlog_push_head(log, strs[i], len);
        qlog_value v;
        ok(qlog_index(log, 0, &v) && !v.is_int, "\"%s\" stays a string", strs[i]);
        is_mem(v.str, v.len, strs[i], len, "\"%s\" reads back", strs[i]);
        ok(qlog_value_eq(&v, strs[i], len), "\"%s\" equals itself", strs[i]);
    }
    qlog_value v;
    qlog_push_tail(log, "42", 2);
    qlog_index(log, -1, &v);
    ok(v.is_int && !qlog_value_eq(&v, "042", 3) && !qlog_value_eq(&v, "42 ", 3) &&
           qlog_value_eq(&v, "42", 2),
       "integer entry compares to strings by value and form");
    qlog_index(log, 0, &v);
    ok(!qlog_value_eq(&v, "٣", 1), "string entry compares lengths");
    ok(qlog_verify(log) == 0, "numeric strings: verify");
    qlog_free(log);
}

/* Every width of the string length encoding. */
static void test_string_lengths(void)
{
    static const struct {
        size_t len, size;
    } cases[] = {
        {0, 2}, {1, 3}, {21, 23}, {63, 65}, {64, 66}, {100, 102}, {104, 106}, {105, 109},
        {200, 204}, {360, 364}, {361, 367}, {4096, 4102}, {65535, 65541}, {65536, 65546},
        {200000, 200010},
    };
    size_t n = sizeof(cases) / sizeof(cases[0]);
    char *big = mem_alloc(200000);
    for (size_t i = 0; i < 200000; i++)
        big[i] = (char)('a' + i % 26);

    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    for (size_t i = 0; i < n; i++) {
        size_t before = qlog_bytes(log);
        big[0] = (char)('A' + i); /* never numeric, and distinct */
        qlog_push_tail(log, big, cases[i].len);
        is_int(qlog_bytes(log) - before, cases[i].len ? cases[i].size : 2,
               "string of %zu bytes takes %zu", cases[i].len, cases[i].size);
    }
    ok(qlog_verify(log) == 0, "lengths: verify");
    int good = 1;
    qlog_iter it;
    qlog_value v;
    size_t i = n;
    qlog_iter_init(&it, log, -1, QLOG_BACKWARD);
    while (qlog_iter_next(&it, &v)) {
        i--;
        big[0] = (char)('A' + i);
        good &= !v.is_int && v.len == cases[i].len && memcmp(v.str, big, v.len) == 0;
    }
    ok(good && i == 0, "lengths: read back backwards");
    /* Big entries come back through the heap when the buffer is small. */
    char small[16];
    ok(qlog_pop_tail(log, &v, small, sizeof(small)), "pop a 200000-byte entry");
    ok(v.heap != NULL && v.str == v.heap && v.len == 200000, "it is copied to the heap");
    big[0] = (char)('A' + n - 1);
    ok(memcmp(v.str, big, v.len) == 0, "and intact");
    qlog_value_release(&v);
    ok(v.heap == NULL, "qlog_value_release clears the copy");
    qlog_free(log);
    mem_free(big);
}

/* Segment boundaries under a byte cap and a count cap. */
static void test_segments(void)
{
    char s[101];
    memset(s, 'x', 100);
    s[100] = '\0';

    qlog *log = qlog_create(-1); /* 4 KiB: 40 entries of 102 bytes */
    int first_split = -1;
    for (int i = 0; i < 200; i++) {
        s[0] = (char)('A' + i % 26);
        qlog_push_tail(log, s, 100);
        if (first_split < 0 && qlog_segments(log) == 2)
            first_split = i;
    }
    is_int(first_split, 40, "fill -1: 40 entries of 100 bytes per segment");
    is_int(qlog_segments(log), 5, "fill -1: 200 entries in 5 segments");
    ok(!qlog_is_compact(log), "fill -1: no longer compact");
    ok(qlog_verify(log) == 0, "fill -1: verify");
    for (int i = 38; i < 43; i++) {
        s[0] = (char)('A' + i % 26);
        ok(at_is(log, i, s), "fill -1: entry %d across the boundary", i);
    }
    qlog_delete_range(log, 0, 170);
    ok(qlog_is_compact(log) && qlog_segments(log) == 1, "fill -1: compact again after trim");
    ok(qlog_verify(log) == 0, "fill -1: verify after trim");
    qlog_free(log);

    log = qlog_create(3);
    for (int i = 0; i < 10; i++)
        push_int(log, i);
    is_int(qlog_segments(log), 4, "fill 3: 10 entries in 4 segments");
    ok(qlog_verify(log) == 0, "fill 3: verify");
    ok(qlog_insert(log, 4, QLOG_BEFORE, "new", 3), "fill 3: insert into a full segment");
    const char *want[] = {"0", "1", "2", "3", "new", "4", "5", "6", "7", "8", "9"};
    ok(log_is(log, want, 11), "fill 3: contents after split");
    qlog_free(log);

    log = qlog_create(1);
    for (int i = 0; i < 5; i++)
        push_int(log, i);
    is_int(qlog_segments(log), 5, "fill 1: one entry per segment");
    ok(qlog_insert(log, 2, QLOG_AFTER, "x", 1), "fill 1: insert");
    is_int(qlog_segments(log), 6, "fill 1: insert makes a segment");
    ok(qlog_verify(log) == 0, "fill 1: verify");
    qlog_free(log);

    log = qlog_create(0);
    push_int(log, 1);
    push_int(log, 2);
    is_int(qlog_segments(log), 2, "fill 0 behaves as 1");
    is_int(qlog_get_fill(log), 1, "fill 0 reads back as 1");
    qlog_free(log);

    log = qlog_create(-100);
    is_int(qlog_get_fill(log), -5, "fill below -5 clamps to -5");
    qlog_set_fill(log, 100000);
    is_int(qlog_get_fill(log), 32767, "fill above 32767 clamps");
    qlog_free(log);

    /* A count fill still stops at Redis's 8 KiB safety cap. */
    log = qlog_create(1000);
    for (int i = 0; i < 200; i++)
        qlog_push_tail(log, s, 100);
    is_int(qlog_segments(log), 3, "fill 1000: 8 KiB safety cap applies");
    ok(qlog_verify(log) == 0, "fill 1000: verify");
    qlog_free(log);
}

/* Entries bigger than the cap live alone. */
static void test_big_entries(void)
{
    size_t big_len = 20000;
    char *big = mem_alloc(big_len);
    memset(big, 'B', big_len);
    qlog *log = qlog_create(-1);

    for (int i = 0; i < 10; i++)
        push_int(log, i);
    qlog_push_tail(log, big, big_len);
    is_int(qlog_segments(log), 2, "big: appended in its own segment");
    push_int(log, 10);
    is_int(qlog_segments(log), 3, "big: the next entry goes to a new segment");
    qlog_push_head(log, big, big_len);
    is_int(qlog_segments(log), 4, "big: pushed at the head alone");
    ok(!qlog_is_compact(log), "big: not compact");
    ok(qlog_verify(log) == 0, "big: verify");

    /* Inserting around and into the middle of big entries. */
    ok(qlog_insert(log, 11, QLOG_BEFORE, "a", 1), "big: insert before it");
    ok(qlog_insert(log, 12, QLOG_AFTER, "b", 1), "big: insert after it");
    ok(qlog_insert(log, 5, QLOG_AFTER, big, big_len), "big: insert a big one mid-segment");
    ok(qlog_verify(log) == 0, "big: verify after inserts");
    qlog_value v;
    ok(qlog_index(log, 6, &v) && v.len == big_len, "big: it is at its position");
    ok(at_is(log, 5, "4") && at_is(log, 7, "5"), "big: neighbours in order");

    /* Replace small by big and big by small. */
    ok(qlog_replace(log, 2, big, big_len), "big: replace a small entry by a big one");
    ok(qlog_verify(log) == 0, "big: verify after replace");
    ok(qlog_index(log, 2, &v) && v.len == big_len, "big: replaced");
    ok(qlog_replace(log, 6, "small", 5) && at_is(log, 6, "small"), "big: replace big by small");
    ok(qlog_replace(log, 0, "s0", 2) && at_is(log, 0, "s0"), "big: replace the head one");
    ok(qlog_verify(log) == 0, "big: verify after shrinking");
    const char *want[] = {"s0", "0", NULL, "2", "3", "4", "small", "5", "6", "7", "8", "9",
                          "a", NULL, "b", "10"};
    size_t i = 0;
    int good = qlog_length(log) == 16;
    qlog_iter it;
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    while (good && qlog_iter_next(&it, &v)) {
        size_t len;
        const char *p = bytes_of(&v, &len);
        if (want[i])
            good = len == strlen(want[i]) && memcmp(p, want[i], len) == 0;
        else
            good = len == big_len && memcmp(p, big, len) == 0;
        i++;
    }
    ok(good && i == 16, "big: final contents");
    ok(qlog_pop_tail(log, NULL, NULL, 0) && qlog_pop_tail(log, NULL, NULL, 0) &&
           qlog_pop_tail(log, &v, NULL, 0) && v.len == big_len,
       "big: popped from the tail");
    qlog_value_release(&v);
    ok(qlog_verify(log) == 0, "big: verify after pops");
    qlog_free(log);
    mem_free(big);
}

static void test_positions(void)
{
    qlog *log = qlog_create(2);
    for (int i = 0; i < 9; i++)
        push_int(log, i * 1000);
    ok(at_is(log, -1, "8000") && at_is(log, -9, "0") && at_is(log, 8, "8000"),
       "negative and positive indexes");
    qlog_value v;
    ok(!qlog_index(log, 9, &v) && !qlog_index(log, -10, &v) &&
           !qlog_index(log, LLONG_MIN, &v) && !qlog_index(log, LLONG_MAX, &v),
       "indexes out of range");
    ok(!qlog_replace(log, 9, "x", 1) && !qlog_insert(log, -10, QLOG_AFTER, "x", 1),
       "replace and insert out of range change nothing");
    is_int(qlog_length(log), 9, "length unchanged");

    /* delete_range: negative start, counts past the end, zero. */
    is_int(qlog_delete_range(log, -2, 100), 2, "delete the last two by -2");
    is_int(qlog_delete_range(log, 7, 1), 0, "delete past the end");
    is_int(qlog_delete_range(log, 0, 0), 0, "delete zero entries");
    is_int(qlog_delete_range(log, 1, 2), 2, "delete across a segment boundary");
    const char *want[] = {"0", "3000", "4000", "5000", "6000"};
    ok(log_is(log, want, 5), "contents after deletes");
    is_int(qlog_delete_range(log, -5, 5), 5, "delete everything");
    ok(qlog_length(log) == 0 && qlog_segments(log) == 0, "empty again");
    ok(qlog_verify(log) == 0, "verify");

    /* Inserts at both ends go through the pushes. */
    ok(qlog_insert(log, 0, QLOG_BEFORE, "b", 1) == 0, "insert into an empty log fails");
    push_str(log, QLOG_TAIL, "b");
    qlog_insert(log, 0, QLOG_BEFORE, "a", 1);
    qlog_insert(log, -1, QLOG_AFTER, "c", 1);
    qlog_insert(log, 1, QLOG_AFTER, "bb", 2);
    qlog_insert(log, 1, QLOG_BEFORE, "ab", 2);
    const char *want2[] = {"a", "ab", "b", "bb", "c"};
    ok(log_is(log, want2, 5), "inserts before and after");
    qlog_free(log);
}

static void test_iterators(void)
{
    qlog *log = qlog_create(3);
    qlog_iter it;
    qlog_value v;
    for (int i = 0; i < 20; i++)
        push_int(log, i);

    qlog_iter_init(&it, log, 5, QLOG_FORWARD);
    ok(qlog_iter_next(&it, &v) && v.ival == 5 && qlog_iter_pos(&it) == 5, "forward from 5");
    qlog_iter_init(&it, log, -3, QLOG_BACKWARD);
    ok(qlog_iter_next(&it, &v) && v.ival == 17 && qlog_iter_pos(&it) == 17, "backward from -3");
    ok(qlog_iter_next(&it, &v) && v.ival == 16, "backward goes towards the head");
    qlog_iter_init(&it, log, 20, QLOG_FORWARD);
    ok(!qlog_iter_next(&it, &v), "start past the end");
    qlog_iter_init(&it, log, -21, QLOG_BACKWARD);
    ok(!qlog_iter_next(&it, &v), "start before the head");

    /* LREM-like: delete the odd ones going forward. */
    int good = 1;
    long long expect = 0;
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    while (qlog_iter_next(&it, &v)) {
        good &= v.ival == expect++;
        if (v.ival % 2)
            qlog_iter_delete(&it);
    }
    ok(good && expect == 20, "forward delete visits every entry once");
    const char *evens[] = {"0", "2", "4", "6", "8", "10", "12", "14", "16", "18"};
    ok(log_is(log, evens, 10), "odd entries deleted");

    /* Backward, deleting every other from the tail. */
    expect = 18;
    good = 1;
    int del = 1;
    qlog_iter_init(&it, log, -1, QLOG_BACKWARD);
    while (qlog_iter_next(&it, &v)) {
        good &= v.ival == expect;
        expect -= 2;
        if (del)
            qlog_iter_delete(&it);
        del = !del;
    }
    ok(good && expect == -2, "backward delete visits every entry once");
    const char *left[] = {"0", "4", "8", "12", "16"};
    ok(log_is(log, left, 5), "backward deletes");

    /* Delete everything, including whole segments, both ways. */
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    int n = 0;
    while (qlog_iter_next(&it, &v)) {
        qlog_iter_delete(&it);
        n++;
    }
    ok(n == 5 && qlog_length(log) == 0 && qlog_verify(log) == 0, "forward delete of all");
    for (int i = 0; i < 50; i++)
        push_int(log, i);
    qlog_iter_init(&it, log, -1, QLOG_BACKWARD);
    n = 0;
    while (qlog_iter_next(&it, &v)) {
        good &= qlog_iter_pos(&it) == (size_t)(49 - n);
        qlog_iter_delete(&it);
        n++;
    }
    ok(n == 50 && good && qlog_length(log) == 0 && qlog_verify(log) == 0,
       "backward delete of all");

    /* Deletes that make segments merge, under a byte fill. */
    qlog_set_fill(log, -1);
    for (int i = 0; i < 2000; i++)
        push_int(log, i);
    size_t segs = qlog_segments(log);
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    expect = 0;
    good = 1;
    while (qlog_iter_next(&it, &v)) {
        good &= v.ival == expect++;
        if (v.ival % 5)
            qlog_iter_delete(&it);
    }
    ok(good && expect == 2000 && qlog_length(log) == 400, "delete 4 in 5 under fill -1");
    ok(qlog_segments(log) < segs, "segments merged (%zu -> %zu)", segs, qlog_segments(log));
    ok(qlog_verify(log) == 0, "verify after merging deletes");
    qlog_free(log);
}

static void test_fill_and_dup(void)
{
    qlog *log = qlog_create(-5);
    for (int i = 0; i < 3000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "item:%d", i);
        qlog_push_tail(log, buf, (size_t)n);
    }
    is_int(qlog_segments(log), 1, "fill -5: one segment");
    qlog *d = qlog_dup(log);
    qlog_set_fill(log, 2);
    is_int(qlog_segments(log), 1500, "set_fill(2) splits into 1500 segments");
    ok(qlog_verify(log) == 0, "verify after set_fill(2)");
    qlog_set_fill(log, -1);
    qlog_push_tail(log, "more", 4);
    ok(qlog_verify(log) == 0, "set_fill(-1): verify");
    ok(qlog_segments(log) <= 12, "set_fill(-1) joins the small segments (%zu)",
       qlog_segments(log));
    qlog_set_fill(d, -1);
    ok(qlog_segments(d) > 1 && qlog_verify(d) == 0, "set_fill(-1) splits 32 KiB into 4 KiB");

    int same = qlog_length(d) + 1 == qlog_length(log);
    qlog_iter a, b;
    qlog_value va, vb;
    qlog_iter_init(&a, log, 0, QLOG_FORWARD);
    qlog_iter_init(&b, d, 0, QLOG_FORWARD);
    while (same && qlog_iter_next(&b, &vb)) {
        same = qlog_iter_next(&a, &va) && va.len == vb.len && memcmp(va.str, vb.str, va.len) == 0;
    }
    ok(same, "dup holds the same entries");
    size_t before = mem_used();
    qlog *e = qlog_dup(d);
    is_int(mem_used() - before, qlog_mem_usage(e), "qlog_mem_usage counts every byte");
    qlog_push_head(e, "only in e", 9);
    ok(qlog_length(d) + 1 == qlog_length(e), "dup is independent");
    qlog_free(e);
    is_int(mem_used(), before, "free gives every byte back");
    qlog_free(d);
    qlog_free(log);
}

static qlog_key mkkey(uint64_t ms, uint64_t seq)
{
    qlog_key k = {ms, seq};
    return k;
}

static void test_keyed(void)
{
    qlog *log = qlog_create_keyed(3);
    qlog_iter it;
    qlog_value v;
    qlog_seginfo si;
    char buf[64], aux[64];

    ok(!qlog_tail_has_room(log, "x", 1), "keyed: no room in an empty log");
    ok(!qlog_tail_seginfo(log, &si), "keyed: no tail segment");
    qlog_iter_init_key(&it, log, mkkey(1, 0), QLOG_FORWARD);
    ok(!qlog_iter_next(&it, &v), "keyed: seek in an empty log");
    /* Segments keyed 10, 20, ..., 100; entries "ms-seq". */
    for (int ms = 10; ms <= 100; ms += 10) {
        for (int seq = 0; seq < 3; seq++) {
            int n = snprintf(buf, sizeof(buf), "%d-%d", ms, seq);
            if (seq == 0) {
                int an = snprintf(aux, sizeof(aux), "master %d", ms);
                qlog_push_tail_keyed(log, mkkey((uint64_t)ms, 0), aux, (size_t)an, buf,
                                     (size_t)n);
            } else {
                ok(qlog_tail_has_room(log, buf, (size_t)n), "keyed: room for %s", buf);
                qlog_push_tail(log, buf, (size_t)n);
            }
        }
        ok(!qlog_tail_has_room(log, "y", 1), "keyed: segment %d full", ms);
    }
    /* Appending beyond the fill is the caller's choice. */
    qlog_push_tail(log, "100-3", 5);
    is_int(qlog_segments(log), 10, "keyed: 10 segments");
    is_int(qlog_length(log), 31, "keyed: 31 entries");
    ok(qlog_verify(log) == 0, "keyed: verify");
    ok(qlog_tail_seginfo(log, &si) && si.count == 4 && si.key.ms == 100 &&
           si.auxlen == 10 && memcmp(si.aux, "master 100", 10) == 0,
       "keyed: tail seginfo");

    qlog_iter_init_key(&it, log, mkkey(35, 7), QLOG_FORWARD);
    ok(qlog_iter_next(&it, &v) && v.len == 4 && memcmp(v.str, "30-0", 4) == 0,
       "keyed: forward seek lands on the segment before the key");
    is_int(qlog_iter_pos(&it), 6, "keyed: with its position");
    qlog_iter_seginfo(&it, &si);
    ok(si.key.ms == 30 && si.count == 3 && memcmp(si.aux, "master 30", 9) == 0,
       "keyed: iterator seginfo");
    qlog_iter_init_key(&it, log, mkkey(40, 0), QLOG_BACKWARD);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "40-2", 4) == 0 && qlog_iter_pos(&it) == 11,
       "keyed: backward seek on an exact key ends its segment");
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "40-1", 4) == 0, "keyed: and goes backward");
    qlog_iter_init_key(&it, log, mkkey(5, 0), QLOG_FORWARD);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "10-0", 4) == 0,
       "keyed: forward seek before the first key starts at the head");
    qlog_iter_init_key(&it, log, mkkey(5, 0), QLOG_BACKWARD);
    ok(!qlog_iter_next(&it, &v), "keyed: backward seek before the first key finds nothing");
    qlog_iter_init_key(&it, log, mkkey(UINT64_MAX, UINT64_MAX), QLOG_FORWARD);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "100-0", 5) == 0,
       "keyed: seek past the last key is its segment");
    qlog_iter_init_key(&it, log, mkkey(10, 0), QLOG_FORWARD);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "10-0", 4) == 0, "keyed: seek on the first key");

    /* XDEL: delete entries through the iterator; segments are not merged. */
    qlog_iter_init_key(&it, log, mkkey(50, 0), QLOG_FORWARD);
    for (int i = 0; i < 3 && qlog_iter_next(&it, &v); i++)
        qlog_iter_delete(&it);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "60-0", 4) == 0,
       "keyed: deleting a whole segment moves on to the next");
    is_int(qlog_segments(log), 9, "keyed: emptied segment freed");
    qlog_iter_init_key(&it, log, mkkey(70, 0), QLOG_FORWARD);
    qlog_iter_next(&it, &v);
    qlog_iter_next(&it, &v);
    qlog_iter_delete(&it);
    qlog_iter_next(&it, &v);
    ok(memcmp(v.str, "70-2", 4) == 0, "keyed: delete inside a segment");
    qlog_iter_set_aux(&it, "a much longer master record", 27);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "80-0", 4) == 0,
       "keyed: iteration survives set_aux");
    qlog_iter_init_key(&it, log, mkkey(70, 5), QLOG_FORWARD);
    qlog_iter_next(&it, &v);
    qlog_iter_seginfo(&it, &si);
    ok(si.auxlen == 27 && memcmp(si.aux, "a much longer master record", 27) == 0 &&
           si.count == 2 && si.key.ms == 70,
       "keyed: aux replaced");
    ok(qlog_replace(log, 0, "10-0 replaced", 13) && at_is(log, 0, "10-0 replaced"),
       "keyed: replace in place");
    ok(qlog_verify(log) == 0, "keyed: verify after deletes");

    /* XTRIM: from the head, by count. */
    is_int(qlog_delete_range(log, 0, 4), 4, "keyed: trim 4 from the head");
    ok(at_is(log, 0, "20-1"), "keyed: head after trim");
    ok(qlog_pop_head(log, NULL, NULL, 0) && at_is(log, 0, "20-2"), "keyed: pop head");
    qlog *d = qlog_dup(log);
    ok(qlog_verify(d) == 0 && qlog_length(d) == qlog_length(log), "keyed: dup");
    qlog_iter_init_key(&it, d, mkkey(90, 1), QLOG_BACKWARD);
    ok(qlog_iter_next(&it, &v) && memcmp(v.str, "90-2", 4) == 0, "keyed: dup keeps its keys");
    qlog_free(d);
    while (qlog_pop_tail(log, NULL, NULL, 0))
        ;
    ok(qlog_verify(log) == 0 && qlog_segments(log) == 0, "keyed: drained");
    qlog_push_tail_keyed(log, mkkey(1, 1), NULL, 0, "again", 5);
    ok(qlog_verify(log) == 0 && at_is(log, 0, "again"), "keyed: restart with empty aux");
    qlog_free(log);
}

/* Pushes and pops at both ends on one segment keep their spare room
 * bounded and still find their entries in order. */
static void test_queue_patterns(void)
{
    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    char buf[32];
    long long next_in = 0, next_out = 0;
    int good = 1;
    for (int round = 0; round < 20000; round++) {
        int n = snprintf(buf, sizeof(buf), "job-%lld", next_in++);
        qlog_push_tail(log, buf, (size_t)n);
        if (round % 3 != 2) {
            qlog_value v;
            char want[32];
            int wn = snprintf(want, sizeof(want), "job-%lld", next_out++);
            good &= qlog_pop_head(log, &v, buf, sizeof(buf)) && v.len == (size_t)wn &&
                    memcmp(v.str, want, v.len) == 0;
        }
    }
    ok(good, "queue: FIFO order through one and more segments");
    ok(qlog_verify(log) == 0, "queue: verify");
    ok(qlog_mem_usage(log) < 2 * qlog_bytes(log) + 32768, "queue: spare room bounded");
    /* Alternating head and tail pushes on a single segment. */
    qlog_delete_range(log, 0, qlog_length(log));
    for (int i = 0; i < 3000; i++) {
        push_int(log, i);
        push_int(log, -i);
        if (i % 2)
            qlog_push_head(log, "h", 1);
    }
    ok(qlog_verify(log) == 0, "alternating pushes: verify");
    while (qlog_length(log) > 10)
        qlog_pop_head(log, NULL, NULL, 0), qlog_pop_tail(log, NULL, NULL, 0);
    ok(qlog_verify(log) == 0 && qlog_mem_usage(log) < 1024, "popped down: memory given back");
    qlog_free(log);
}

/* A tree of several levels: one entry per segment, 100000 segments. */
static void test_deep_index(void)
{
    qlog *log = qlog_create(1);
    for (int i = 0; i < 100000; i++) {
        if (i % 2)
            push_int(log, i);
        else
            qlog_insert(log, qlog_length(log) ? -1 : 0, QLOG_AFTER, "x", 1) ||
                (qlog_push_tail(log, "x", 1), 0);
    }
    is_int(qlog_segments(log), 100000, "deep: 100000 segments");
    ok(qlog_verify(log) == 0, "deep: verify");
    ok(at_is(log, 77777, "77777") && at_is(log, -1, "99999") && at_is(log, -2, "x") &&
           at_is(log, 50000, "x"),
       "deep: index through four levels");
    /* Remove most of it from the middle, in ranges, to merge nodes. */
    size_t n = qlog_length(log);
    for (int i = 0; i < 200; i++)
        n -= qlog_delete_range(log, (long long)(n / 3), 400);
    ok(qlog_verify(log) == 0 && qlog_length(log) == n, "deep: verify after range deletes");
    ok(at_is(log, 0, "x") && at_is(log, 1, "1") && at_is(log, -1, "99999"), "deep: ends intact");
    qlog_iter it;
    qlog_value v;
    size_t seen = 0;
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    while (qlog_iter_next(&it, &v))
        if (seen++ % 3 == 0)
            qlog_iter_delete(&it);
    ok(seen == n && qlog_verify(log) == 0, "deep: delete a third while iterating");
    while (qlog_length(log) > 5)
        qlog_pop_head(log, NULL, NULL, 0), qlog_pop_tail(log, NULL, NULL, 0);
    ok(qlog_verify(log) == 0, "deep: verify after popping down");
    qlog_free(log);
}

/* ---- bulk appends (the loaders' paths) ------------------------------------------- */

/* A listpack entry, written here independently of the server's code:
 * canonical integers of the two small widths, or strings of up to 4095
 * bytes; as_string keeps a numeric-looking string a string, as a crafted
 * file may. */
static size_t lp_put(unsigned char *p, const char *s, size_t len, int as_string)
{
    long long v;
    char *endp;
    size_t n;
    int canon = 0;
    if (!as_string && len && len < 20) {
        char tmp[24];
        memcpy(tmp, s, len);
        tmp[len] = '\0';
        v = strtoll(tmp, &endp, 10);
        char back[24];
        snprintf(back, sizeof(back), "%lld", v);
        canon = *endp == '\0' && strcmp(back, tmp) == 0;
    }
    if (canon && v >= 0 && v <= 127) {
        p[0] = (unsigned char)v;
        n = 1;
    } else if (canon && v >= -4096 && v <= 4095) {
        unsigned u = (unsigned)v & 0x1fff;
        p[0] = (unsigned char)(0xC0 | (u >> 8));
        p[1] = (unsigned char)u;
        n = 2;
    } else if (len <= 63) {
        p[0] = (unsigned char)(0x80 | len);
        memcpy(p + 1, s, len);
        n = 1 + len;
    } else {
        p[0] = (unsigned char)(0xE0 | (len >> 8));
        p[1] = (unsigned char)len;
        memcpy(p + 2, s, len);
        n = 2 + len;
    }
    /* backlen: n < 128 in one byte, else two (high byte first) */
    if (n < 128) {
        p[n] = (unsigned char)n;
        return n + 1;
    }
    p[n] = (unsigned char)(n >> 7);
    p[n + 1] = (unsigned char)((n & 127) | 128);
    return n + 2;
}

/* Decodes the entry at p (of the shapes lp_put() writes) into *v. */
static size_t lp_get(const unsigned char *p, qlog_value *v)
{
    size_t n;
    memset(v, 0, sizeof(*v));
    if (p[0] < 0x80) {
        v->is_int = 1, v->ival = p[0], n = 1;
    } else if (p[0] < 0xC0) {
        v->str = (const char *)p + 1, v->len = p[0] & 0x3f, n = 1 + v->len;
    } else if (p[0] < 0xE0) {
        unsigned u = ((unsigned)(p[0] & 0x1f) << 8) | p[1];
        v->is_int = 1, v->ival = u >= 4096 ? (long long)u - 8192 : (long long)u, n = 2;
    } else {
        v->len = ((size_t)(p[0] & 0x0f) << 8) | p[1], v->str = (const char *)p + 2, n = 2 + v->len;
    }
    return n + (n < 128 ? 1 : 2);
}

/* What rdb_codec.c does with a node: the log's fast path, then one entry
 * decoded here, until the end.  Returns the bytes consumed. */
static size_t lp_load(qlog *log, const unsigned char *lp, size_t len, size_t more, size_t *count)
{
    size_t off = 0, total = 0;
    while (off < len) {
        size_t n;
        off += qlog_push_tail_listpack(log, lp + off, len - off, more, &n);
        total += n;
        if (off == len)
            break;
        qlog_value v;
        off += lp_get(lp + off, &v);
        qlog_push_tail_many(log, &v, 1);
        total++;
    }
    *count = total;
    return off;
}

static void test_bulk_append(void)
{
    static const int fills[] = {-2, -1, 1, 3, 100};
    char big[300];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)('a' + i % 26);
    unsigned char *lp = mem_alloc(1 << 20);
    srand(7);
    for (size_t f = 0; f < sizeof(fills) / sizeof(fills[0]); f++) {
        for (int prefill = 0; prefill < 2; prefill++) {
            qlog *ref = qlog_create(fills[f]), *log = qlog_create(fills[f]);
            if (prefill) { /* a tail segment with room already there */
                qlog_push_tail(ref, "x", 1);
                qlog_push_tail(log, "x", 1);
            }
            size_t len = 0, n = 0;
            char val[400];
            for (int i = 0; i < 3000; i++) {
                size_t vl;
                int as_string = 0;
                switch (rand() % 9) {
                case 0: vl = (size_t)snprintf(val, sizeof(val), "%d", rand() % 128); break;
                case 1: vl = (size_t)snprintf(val, sizeof(val), "%d", rand() % 8000 - 4000); break;
                case 2: vl = 0; break;
                case 3: vl = (size_t)(rand() % 64); memcpy(val, big, vl); break;
                case 4: vl = (size_t)(64 + rand() % 236); memcpy(val, big, vl); break;
                case 5: /* numeric-looking strings the log must store as integers */
                    vl = (size_t)snprintf(val, sizeof(val), "%d", rand() % 1000 - 500);
                    as_string = 1;
                    break;
                case 6: vl = 3; memcpy(val, rand() % 2 ? "007" : "-0x", 3); as_string = 1; break;
                default: vl = 16; memcpy(val, "vvvvvvvvvvvvvvvv", 16); break;
                }
                qlog_push_tail(ref, val, vl);
                len += lp_put(lp + len, val, vl, as_string);
                n++;
            }
            size_t got, used = lp_load(log, lp, len, prefill ? 0 : 100000, &got);
            ok(used == len && got == n, "fill %d%s: the whole listpack is appended", fills[f],
               prefill ? ", onto a tail" : "");
            ok(qlog_verify(log) == 0, "fill %d%s: verify", fills[f], prefill ? ", onto a tail" : "");
            int same = qlog_length(log) == qlog_length(ref);
            qlog_iter a, b;
            qlog_value va, vb;
            char ba[QLOG_INT_BUFSIZE], bb[QLOG_INT_BUFSIZE];
            qlog_iter_init(&a, log, 0, QLOG_FORWARD);
            qlog_iter_init(&b, ref, 0, QLOG_FORWARD);
            while (same && qlog_iter_next(&a, &va) && qlog_iter_next(&b, &vb)) {
                size_t la, lb;
                const char *pa = qlog_value_bytes(&va, ba, &la), *pb = qlog_value_bytes(&vb, bb, &lb);
                same = va.is_int == vb.is_int && la == lb && memcmp(pa, pb, la) == 0;
            }
            ok(same, "fill %d%s: the same entries, encoded the same, as single pushes", fills[f],
               prefill ? ", onto a tail" : "");
            if (fills[f] < 0)
                ok(qlog_mem_usage(log) <= qlog_mem_usage(ref) + 8192,
                   "fill %d: no more memory than single pushes (%zu vs %zu)", fills[f],
                   qlog_mem_usage(log), qlog_mem_usage(ref));
            qlog_free(ref);
            qlog_free(log);
        }
    }

    /* It stops before what it does not take, having appended what came before. */
    qlog *log = qlog_create(QLOG_FILL_DEFAULT);
    size_t len = 0, n;
    len += lp_put(lp + len, "abc", 3, 0);
    len += lp_put(lp + len, "5", 1, 0);
    size_t bad = len;
    len += lp_put(lp + len, "hello", 5, 0);
    lp[len - 1] = 9; /* a backlen that does not match */
    ok(qlog_push_tail_listpack(log, lp, len, 0, &n) == bad && n == 2 && qlog_length(log) == 2,
       "stops at a wrong backlen");
    ok(qlog_push_tail_listpack(log, lp + bad, 4, 0, &n) == 0 && n == 0,
       "stops at an entry cut short");
    lp[0] = 0xF5; /* not an encoding */
    ok(qlog_push_tail_listpack(log, lp, 1, 0, &n) == 0 && n == 0, "stops at a bad code");
    ok(qlog_verify(log) == 0 && at_is(log, 0, "abc") && at_is(log, 1, "5"), "what came before is there");
    qlog_free(log);

    /* Many values at once: integers go in without a trip through decimal,
     * and a canonical decimal string still becomes an integer. */
    log = qlog_create(3);
    qlog *ref = qlog_create(3);
    qlog_value vals[5] = {{.is_int = 1, .ival = -5}, {.str = "42", .len = 2}, {.str = "042", .len = 3},
                          {.is_int = 1, .ival = LLONG_MIN}, {.str = "", .len = 0}};
    const char *const want[] = {"-5", "42", "042", "-9223372036854775808", ""};
    for (int i = 0; i < 5; i++)
        qlog_push_tail(ref, want[i], strlen(want[i]));
    qlog_push_tail_many(log, vals, 5);
    qlog_value v;
    ok(log_is(log, want, 5) && qlog_verify(log) == 0 && qlog_index(log, 1, &v) && v.is_int,
       "push_tail_many: values, in order, canonical");
    ok(qlog_bytes(log) == qlog_bytes(ref) && qlog_segments(log) == 2, "push_tail_many: same bytes, fill kept");
    qlog_free(log);
    qlog_free(ref);
    mem_free(lp);
}

/* ---- memory ------------------------------------------------------------------------- */

#define MILLION 1000000

static double per_entry(size_t before)
{
    return (double)(mem_used() - before) / MILLION;
}

static void test_memory(void)
{
    char s[101];
    size_t before;
    double b;
    qlog *log;

    /* Redis 7.0.15 (jemalloc) used_memory per entry for the same data, by
     * RPUSH: 104.38 (100-byte strings), 5.003 ("1".."1000000"), 2.016
     * (0..99). */
    before = mem_used();
    log = qlog_create(QLOG_FILL_DEFAULT);
    for (int i = 0; i < MILLION; i++) {
        snprintf(s, sizeof(s), "%c%099d", 'v', i);
        qlog_push_tail(log, s, 100);
    }
    b = per_entry(before);
    tap_diag("1M x 100-byte RPUSH: %.2f bytes/entry, %zu segments (Redis 7.0: 104.38)", b,
             qlog_segments(log));
    ok(b <= 103.0, "1M x 100-byte strings: <= 103 bytes/entry (%.2f)", b);
    ok(qlog_verify(log) == 0, "1M x 100-byte strings: verify");
    is_int(qlog_mem_usage(log), mem_used() - before, "qlog_mem_usage matches mem_used");
    qlog_free(log);

    before = mem_used();
    log = qlog_create(QLOG_FILL_DEFAULT);
    for (int i = 0; i < MILLION; i++) {
        snprintf(s, sizeof(s), "%c%099d", 'v', i);
        qlog_push_head(log, s, 100);
    }
    b = per_entry(before);
    tap_diag("1M x 100-byte LPUSH: %.2f bytes/entry", b);
    ok(b <= 103.0, "1M x 100-byte strings by LPUSH: <= 103 bytes/entry (%.2f)", b);
    qlog_free(log);

    before = mem_used();
    log = qlog_create(QLOG_FILL_DEFAULT);
    for (int i = 1; i <= MILLION; i++)
        push_int(log, i);
    b = per_entry(before);
    tap_diag("1M integers 1..1000000: %.3f bytes/entry (Redis 7.0: 5.003)", b);
    ok(b <= 5.003, "1M integers 1..1000000: no more than Redis (%.3f)", b);
    ok(qlog_verify(log) == 0, "1M integers: verify");
    qlog_free(log);

    before = mem_used();
    log = qlog_create(QLOG_FILL_DEFAULT);
    for (int i = 0; i < MILLION; i++)
        push_int(log, i % 100);
    b = per_entry(before);
    tap_diag("1M small integers 0..99: %.3f bytes/entry (Redis 7.0: 2.016)", b);
    ok(b <= 3.0, "1M small integers: <= 3 bytes/entry (%.3f)", b);

    /* Speed, for the record (not a pass/fail criterion). */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < MILLION; i++)
        qlog_pop_head(log, NULL, NULL, 0);
    for (int i = 0; i < MILLION; i++)
        qlog_push_tail(log, "hello world", 11);
    for (int i = 0; i < MILLION; i++)
        qlog_pop_tail(log, NULL, NULL, 0);
    for (int i = 0; i < MILLION; i++)
        qlog_push_head(log, "12345", 5);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ns = ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) /
                (4.0 * MILLION);
    tap_diag("push/pop at the ends: %.1f ns/op", ns);
    ok(qlog_length(log) == MILLION && qlog_verify(log) == 0, "after the speed run");
    qlog_free(log);
}

int main(void)
{
    /* mem_used() may count every allocation of the thread (jemalloc's own
     * counters): stdout gets its buffer before the count starts. */
    tap_diag("qlog: queue log unit test");
    size_t start_mem = mem_used();
    test_empty();
    test_one();
    test_integers();
    test_numeric_strings();
    test_string_lengths();
    test_segments();
    test_big_entries();
    test_positions();
    test_iterators();
    test_fill_and_dup();
    test_keyed();
    test_queue_patterns();
    test_deep_index();
    test_bulk_append();
    test_memory();
    is_int(mem_used(), start_mem, "no memory leaked");
    return tap_done();
}
