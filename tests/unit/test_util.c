/* test_util.c - unit tests for server/lib/util.c and server/lib/sstr.c.
 *
 * Expected values marked [redis] were checked against the real
 * redis-server 7.0.15 (Debian 12):
 *   - string2ll: `SET k 0; INCRBY k <s>` accepts/rejects exactly as below;
 *   - string2d: `ZADD z <s> m` (ZADD parses with string2d in 7.0);
 *   - string2ld / ld2string: `SET k <a>; INCRBYFLOAT k <b>` replies;
 *   - d2string: ZSCORE replies (%.17g);
 *   - glob_match: `FLUSHALL; SET <key> 1; KEYS <pattern>` (KEYS "*" alone
 *     is special-cased by Redis, so "*" vs "" is not a stringmatchlen
 *     result; "**" is).
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "sstr.h"
#include "tap.h"
#include "util.h"

/* ------------------------------------------------------------ string2ll */

static void test_string2ll(void)
{
    static const struct {
        const char *s;
        int ok;
        long long v;
    } t[] = {
        {"0", 1, 0},
        {"1", 1, 1},
        {"-1", 1, -1},
        {"123", 1, 123},
        {"-123", 1, -123},
        {"9223372036854775807", 1, LLONG_MAX},   /* [redis] */
        {"-9223372036854775808", 1, LLONG_MIN},  /* [redis] 20 chars */
        {"9223372036854775808", 0, 0},           /* [redis] LLONG_MAX+1 */
        {"-9223372036854775809", 0, 0},          /* [redis] LLONG_MIN-1, 20 chars */
        {"18446744073709551615", 0, 0},          /* [redis] ULLONG_MAX, 20 chars */
        {"18446744073709551616", 0, 0},          /* [redis] overflows unsigned too */
        {"99999999999999999999", 0, 0},          /* [redis] 20 nines */
        {"100000000000000000000", 0, 0},         /* 21 chars */
        {"000000000000000000001", 0, 0},         /* [redis] 21 chars */
        {"-00000000000000000001", 0, 0},         /* [redis] 21 chars */
        {"-0", 0, 0},                            /* [redis] */
        {"+1", 0, 0},                            /* [redis] */
        {"01", 0, 0},                            /* [redis] */
        {"00", 0, 0},
        {"-01", 0, 0},
        {" 1", 0, 0},                            /* [redis] */
        {"1 ", 0, 0},                            /* [redis] */
        {"", 0, 0},                              /* [redis] */
        {"-", 0, 0},                             /* [redis] */
        {"--1", 0, 0},
        {"1e3", 0, 0},                           /* [redis] */
        {"0x10", 0, 0},                          /* [redis] */
        {"1.0", 0, 0},
        {"a1", 0, 0},
        {"1a", 0, 0},
        {"\t1", 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        long long v = 12345;
        int r = string2ll(t[i].s, strlen(t[i].s), &v);
        if (t[i].ok)
            ok(r == 1 && v == t[i].v, "string2ll(\"%s\") = %lld", t[i].s, t[i].v);
        else
            ok(r == 0 && v == 12345, "string2ll(\"%s\") rejected, output untouched", t[i].s);
    }
    long long v = 0;
    ok(string2ll("12345", 3, &v) == 1 && v == 123, "string2ll reads only len bytes");
    ok(string2ll("1\0", 2, &v) == 0, "string2ll: embedded NUL rejected");
    ok(string2ll("\0", 1, &v) == 0, "string2ll: lone NUL rejected");
    ok(string2ll("0", 0, &v) == 0, "string2ll: length 0 rejected");
    ok(string2ll("-9223372036854775808x", 20, &v) == 1 && v == LLONG_MIN, "string2ll: LLONG_MIN with len 20");

    long l = 0;
    ok(string2l("-42", 3, &l) == 1 && l == -42, "string2l(-42)");
    ok(string2l("9223372036854775807", 19, &l) == (LONG_MAX == LLONG_MAX), "string2l(LLONG_MAX) as wide as long");
    ok(string2l("x", 1, &l) == 0, "string2l rejects junk");

    unsigned long long u = 0;
    ok(string2ull("18446744073709551615", 20, &u) == 1 && u == ULLONG_MAX, "string2ull(ULLONG_MAX)");
    ok(string2ull("18446744073709551616", 20, &u) == 0, "string2ull overflow");
    ok(string2ull("0", 1, &u) == 1 && u == 0, "string2ull(0)");
    ok(string2ull("12x", 3, &u) == 0, "string2ull rejects trailing junk");
    ok(string2ull(" 1", 2, &u) == 0, "string2ull rejects leading space");
}

static void test_ll2string(void)
{
    char buf[32];
    static const long long vals[] = {0,
                                     1,
                                     -1,
                                     9,
                                     10,
                                     -10,
                                     99,
                                     100,
                                     123456789,
                                     -987654321,
                                     LLONG_MAX,
                                     LLONG_MIN,
                                     LLONG_MAX - 1,
                                     LLONG_MIN + 1,
                                     (long long)INT_MAX + 1,
                                     (long long)INT_MIN - 1,
                                     1000000000000000000LL,
                                     -1000000000000000000LL};
    int bad = 0;
    for (size_t i = 0; i < sizeof(vals) / sizeof(vals[0]); i++) {
        char want[32];
        int wl = snprintf(want, sizeof(want), "%lld", vals[i]);
        int n = ll2string(buf, sizeof(buf), vals[i]);
        long long back = 0;
        if (n != wl || strcmp(buf, want) != 0 || !string2ll(buf, (size_t)n, &back) || back != vals[i]) {
            bad++;
            tap_diag("ll2string(%s) = \"%s\" (%d)", want, buf, n);
        }
    }
    is_int(bad, 0, "ll2string matches %%lld and round-trips through string2ll at the extremes");

    is_int(ll2string(buf, 21, LLONG_MIN), 20, "LLONG_MIN fits in 21 bytes");
    is_str(buf, "-9223372036854775808", "LLONG_MIN text");
    is_int(ll2string(buf, 20, LLONG_MIN), 0, "LLONG_MIN does not fit in 20 bytes");
    is_int(ll2string(buf, 2, 7), 1, "one digit fits in 2 bytes");
    is_int(ll2string(buf, 1, 7), 0, "one digit does not fit in 1 byte (NUL)");
    is_int(ll2string(buf, 2, -7), 0, "-7 does not fit in 2 bytes");

    /* random round trips */
    uint64_t x = 88172645463325252ULL;
    bad = 0;
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        long long v = (long long)(x >> (x % 64)) * ((x & 1) ? -1 : 1);
        char want[32];
        snprintf(want, sizeof(want), "%lld", v);
        int n = ll2string(buf, sizeof(buf), v);
        long long back;
        if (strcmp(buf, want) != 0 || !string2ll(buf, (size_t)n, &back) || back != v)
            bad++;
    }
    is_int(bad, 0, "100000 random ll2string/string2ll round trips");
}

/* ------------------------------------------------------------ doubles */

static void test_string2d(void)
{
    static const struct {
        const char *s;
        int ok;
        double v;
    } t[] = {
        {"1.5", 1, 1.5},
        {"-1.5", 1, -1.5},
        {"0", 1, 0.0},
        {"10", 1, 10.0},
        {".5", 1, 0.5},
        {"5.", 1, 5.0},
        {"1e308", 1, 1e308},
        {"-1e308", 1, -1e308},
        {"1e-320", 1, 1e-320},     /* [redis] subnormal accepted */
        {"0x1p3", 1, 8.0},         /* [redis] strtod's hex floats */
        {"+1.5", 1, 1.5},
        {"inf", 1, INFINITY},      /* [redis] */
        {"-inf", 1, -INFINITY},    /* [redis] */
        {"+inf", 1, INFINITY},     /* [redis] */
        {"infinity", 1, INFINITY}, /* [redis] */
        {"1e309", 0, 0},           /* overflow */
        {"-1e309", 0, 0},
        {"1e-400", 0, 0},          /* [redis] underflow to zero */
        {"nan", 0, 0},             /* [redis] */
        {"NaN", 0, 0},
        {"-nan", 0, 0},
        {" 1", 0, 0},              /* [redis] */
        {"1 ", 0, 0},              /* [redis] */
        {"", 0, 0},
        {"abc", 0, 0},
        {"1.5x", 0, 0},
        {"\t1", 0, 0},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        double v = 12345;
        int r = string2d(t[i].s, strlen(t[i].s), &v);
        if (t[i].ok)
            ok(r == 1 && (v == t[i].v), "string2d(\"%s\") accepted", t[i].s);
        else
            ok(r == 0, "string2d(\"%s\") rejected", t[i].s);
    }
    double v;
    ok(string2d("1.5", 2, &v) == 1 && v == 1.0, "string2d reads only len bytes");
    ok(string2d("1\0", 2, &v) == 0, "string2d: embedded NUL rejected");

    /* [redis] ZADD accepts a 302-character score: Redis 7.0's string2d runs
     * strtod on the whole argument, with no length limit. */
    char lng[400];
    lng[0] = '0';
    lng[1] = '.';
    memset(lng + 2, '0', 300);
    lng[302] = '1';
    lng[303] = '\0';
    ok(string2d(lng, 303, &v) == 1 && v > 0.99e-301 && v < 1.01e-301,
       "string2d accepts a 303-character number (ZADD does) [redis]");
    memset(lng, '1', 350);
    lng[350] = '\0';
    ok(string2d(lng, 350, &v) == 0, "string2d: a 350-digit integer overflows and is rejected");
    lng[0] = '-';
    memset(lng + 1, '0', 299);
    lng[300] = '5';
    ok(string2d(lng, 301, &v) == 1 && v == -5.0, "string2d: 301 characters with leading zeros [redis]");
}

static void test_string2ld(void)
{
    long double v;
    ok(string2ld("10.5", 4, &v) == 1 && v == 10.5L, "string2ld(10.5)");
    ok(string2ld("-0.0", 4, &v) == 1 && v == 0, "string2ld(-0.0) [redis]");
    ok(string2ld("inf", 3, &v) == 1 && isinf(v) && v > 0, "string2ld(inf) parses (INCRBYFLOAT then refuses the sum) [redis]");
    ok(string2ld("-inf", 4, &v) == 1 && isinf(v) && v < 0, "string2ld(-inf)");
    ok(string2ld("nan", 3, &v) == 0, "string2ld(nan) rejected [redis]");
    ok(string2ld(" 1", 2, &v) == 0, "string2ld(' 1') rejected [redis]");
    ok(string2ld("1 ", 2, &v) == 0, "string2ld('1 ') rejected [redis]");
    ok(string2ld("", 0, &v) == 0, "string2ld('') rejected");
    ok(string2ld("+1.5", 4, &v) == 1 && v == 1.5L, "string2ld(+1.5) [redis]");
    ok(string2ld(".5", 2, &v) == 1 && v == 0.5L, "string2ld(.5) [redis]");
    ok(string2ld("5.", 2, &v) == 1 && v == 5.0L, "string2ld(5.) [redis]");
    ok(string2ld("0x10", 4, &v) == 1 && v == 16.0L, "string2ld(0x10) [redis]");
    ok(string2ld("1e308", 5, &v) == 1 && v == 1e308L, "string2ld(1e308)");
    ok(string2ld("1e400", 5, &v) == 1 && v > 1e399L, "string2ld(1e400) is in long double range");
    ok(string2ld("1e5000", 6, &v) == 0, "string2ld(1e5000) overflows [redis]");
    ok(string2ld("1e-5000", 7, &v) == 0, "string2ld(1e-5000) underflows to 0, rejected [redis]");
    ok(string2ld("-1e-5000", 8, &v) == 0, "string2ld(-1e-5000) rejected [redis]");
    /* Redis rejects ERANGE only when the result is +-HUGE_VAL or zero: a
     * subnormal long double is accepted (INCRBYFLOAT k 1e-4940 -> "0"). */
    ok(string2ld("1e-4940", 7, &v) == 1 && v > 0, "string2ld(1e-4940): subnormal accepted [redis]");
    ok(string2ld("-1e-4940", 8, &v) == 1 && v < 0, "string2ld(-1e-4940): subnormal accepted [redis]");
    ok(string2ld("1e-320", 6, &v) == 1 && v > 0, "string2ld(1e-320) [redis]");
    ok(string2ld("1.5x", 3, &v) == 1 && v == 1.5L, "string2ld reads only len bytes");

    /* [redis] 5119 characters parse, 5120 do not (MAX_LONG_DOUBLE_CHARS) */
    char *b = malloc(6000);
    b[0] = '1';
    b[1] = '.';
    memset(b + 2, '0', 5990);
    ok(string2ld(b, 5119, &v) == 1 && v == 1.0L, "string2ld: 5119 characters accepted [redis]");
    ok(string2ld(b, 5120, &v) == 0, "string2ld: 5120 characters rejected [redis]");
    free(b);
}

/* INCRBYFLOAT: new = parse(old) + parse(incr), replied with ld2string. */
static const char *incrbyfloat(const char *old, const char *incr, char *buf, size_t size)
{
    long double a, b;
    if (!string2ld(old, strlen(old), &a) || !string2ld(incr, strlen(incr), &b))
        return "(parse error)";
    if (ld2string(buf, size, a + b) == 0)
        return "(no room)";
    return buf;
}

static void test_ld2string(void)
{
    char buf[5200];
    /* [redis] SET k <a>; INCRBYFLOAT k <b> */
    static const struct {
        const char *a, *b, *want;
    } t[] = {
        {"10.5", "0.1", "10.6"},
        {"0", "3.0e3", "3000"},
        {"0", "5.0e-3", "0.005"},
        {"5.0e3", "2.0e2", "5200"},
        {"10", "-10", "0"},
        {"0", "-0.0", "0"},
        {"1", "1e-17", "1.00000000000000001"},
        {"0", "1.5", "1.5"},
        {"0", "-1.5", "-1.5"},
        {"3", "0.3333333333333333", "3.3333333333333333"},
        {"0", "0.1", "0.1"},
        {"0", "1e20", "100000000000000000000"},
        {"0", "123456789012345678", "123456789012345678"},
        {"17179869184", "0.0001", "17179869184.00009999983012676"},
        {"0", "-0.00000000000000001", "-0.00000000000000001"},
        {"0", "-0.000000000000000001", "0"}, /* "-0.00000000000000000" -> "-0" -> "0" */
        {"0", "+1.5", "1.5"},
        {"0", ".5", "0.5"},
        {"0", "5.", "5"},
        {"0", "0x10", "16"},
        {"0", "1e-320", "0"},
        {"0", "1e-4940", "0"},
        {"0", "-1e-4940", "0"},
        {"0", "1e300",
         "100000000000000000000899732407955919387052394427329074793826008232126564659618093575584915208375049719035"
         "037250861427483590359255618467298391309626052074864628732713564184365329408425510760601678972665293237003"
         "0551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"},
        {"1e308", "1e308",
         "199999999999999999993371759311691291321120199694831134415594095989843469737676123744200253843777078640893"
         "494450108026446304269499187921167194841628860392837535918200039206381557326219209014213335878306791577877"
         "829121087126122536729803237260434173178506889763247582601711514636284849020905456510092687857156096"},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
        is_str(incrbyfloat(t[i].a, t[i].b, buf, sizeof(buf)), t[i].want, "INCRBYFLOAT %s by %s -> %.40s [redis]",
               t[i].a, t[i].b, t[i].want);

    int n = ld2string(buf, sizeof(buf), INFINITY);
    ok(n == 3 && strcmp(buf, "inf") == 0, "ld2string(inf)");
    n = ld2string(buf, sizeof(buf), -INFINITY);
    ok(n == 4 && strcmp(buf, "-inf") == 0, "ld2string(-inf)");
    is_int(ld2string(buf, 4, -INFINITY), 0, "ld2string(-inf) needs 5 bytes");
    n = ld2string(buf, sizeof(buf), 0.0L);
    ok(n == 1 && strcmp(buf, "0") == 0, "ld2string(0)");
    n = ld2string(buf, sizeof(buf), -0.0L);
    ok(n == 1 && strcmp(buf, "0") == 0, "ld2string(-0) is 0");
    n = ld2string(buf, sizeof(buf), 100.0L);
    ok(n == 3 && strcmp(buf, "100") == 0, "ld2string(100): zeros before the point stay");
    /* "3.00000000000000000" = 19 chars: needs 20 bytes for snprintf */
    is_int(ld2string(buf, 19, 3.0L), 0, "ld2string: no room for the %%.17Lf text");
    is_int(ld2string(buf, 20, 3.0L), 1, "ld2string: room for the %%.17Lf text");
    is_str(buf, "3", "ld2string(3) in a 20-byte buffer");

    /* d2string: %.17g, as Redis 7.0 replies doubles */
    d2string(buf, sizeof(buf), 1.5);
    is_str(buf, "1.5", "d2string(1.5)");
    d2string(buf, sizeof(buf), 0.1);
    is_str(buf, "0.10000000000000001", "d2string(0.1)");
    d2string(buf, sizeof(buf), 1e-320);
    is_str(buf, "9.9998886718268301e-321", "d2string(1e-320) [redis ZSCORE]");
    d2string(buf, sizeof(buf), 1.0000000000000001e-301);
    is_str(buf, "1.0000000000000001e-301", "d2string(1e-301) [redis ZSCORE]");
    d2string(buf, sizeof(buf), INFINITY);
    is_str(buf, "inf", "d2string(inf)");
    d2string(buf, sizeof(buf), -INFINITY);
    is_str(buf, "-inf", "d2string(-inf)");
    d2string(buf, sizeof(buf), 3.0);
    is_str(buf, "3", "d2string(3)");
    d2string(buf, sizeof(buf), -0.0);
    is_str(buf, "-0", "d2string(-0.0)");
}

/* ------------------------------------------------------------ glob */

static int gm(const char *p, const char *s, int nocase)
{
    return glob_match(p, strlen(p), s, strlen(s), nocase);
}

static void test_glob(void)
{
    static const struct {
        const char *pat, *str;
        int want;
    } t[] = {
        /* all [redis] KEYS results */
        {"a*", "abc", 1},        {"a*", "bac", 0},          {"*a", "bca", 1},          {"*a", "abc", 0},
        {"?", "a", 1},           {"?", "ab", 0},            {"?", "", 0},              {"[abc]", "b", 1},
        {"[abc]", "d", 0},       {"[^abc]", "d", 1},        {"[^abc]", "a", 0},        {"[a-z]", "m", 1},
        {"[a-z]", "M", 0},       {"[z-a]", "m", 1},         {"\\*", "*", 1},           {"\\*", "a", 0},
        {"a\\", "a\\", 1},       {"\\", "\\", 1},           {"**", "", 0},             {"*?", "", 0},
        {"", "", 1},             {"", "a", 0},              {"a", "", 0},              {"[a]", "", 0},
        {"[abc", "a", 1},        {"[abc", "b", 1},          {"[a-", "-", 1},           {"[a-", "a", 1},
        {"[\\]]", "]", 1},       {"[\\", "\\", 1},          {"h?llo", "hello", 1},     {"h*llo", "heeeello", 1},
        {"h[^e]llo", "hallo", 1}, {"h[^e]llo", "hello", 0}, {"h[a-b]llo", "hbllo", 1}, {"h\\?llo", "h?llo", 1},
        {"h\\?llo", "hallo", 0}, {"*x", "x", 1},            {"a*b*c", "abxxbyc", 1},   {"a*b*c", "abxxbyd", 0},
        {"[]]", "]", 0},         {"[]", "]", 0},            {"[]a]", "a", 0},          {"[^]", "a", 1},
        {"a[", "a", 0},          {"a[", "a[", 0},           {"*[", "x", 0},            {"[-a]", "-", 1},
        {"ab*", "ab", 1},        {"ab**", "ab", 1},         {"ab*?", "ab", 0},         {"\\a", "a", 1},
        {"[\\a]", "a", 1},       {"[a\\-z]", "b", 0},       {"a*", "a", 1},
    };
    int bad = 0;
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int got = gm(t[i].pat, t[i].str, 0);
        if (got != t[i].want) {
            bad++;
            tap_diag("glob_match(\"%s\", \"%s\") = %d, Redis says %d", t[i].pat, t[i].str, got, t[i].want);
        }
    }
    is_int(bad, 0, "glob_match agrees with Redis KEYS on %zu patterns [redis]", sizeof(t) / sizeof(t[0]));

    ok(gm("[a-z]", "M", 1), "nocase: range matches the other case");
    ok(gm("[A-Z]", "m", 1), "nocase: upper range matches lower");
    ok(gm("HELLO", "hello", 1), "nocase: literal");
    ok(gm("h\\ELLO", "hello", 1), "nocase: escaped literal");
    ok(gm("[H]ello", "hello", 1), "nocase: set");
    ok(!gm("h[^E]llo", "hello", 1), "nocase: negated set");
    ok(!gm("HELLO", "hello", 0), "case-sensitive literal");
    ok(!gm("[", "[", 1) && !gm("@", "`", 1), "nocase folds letters only");

    /* binary: lengths, not NULs, delimit */
    ok(glob_match("a?c", 3, "a\0c", 3, 0), "? matches a NUL byte");
    ok(glob_match("a\0*", 3, "a\0xyz", 5, 0), "NUL in the pattern is a literal");
    ok(!glob_match("a\0*", 3, "a", 1, 0), "... that must be present");
    ok(glob_match("ab*", 2, "abc", 2, 0), "only patlen / slen bytes are read");

    /* pathological patterns finish quickly (skip-longer-matches) */
    char *s = malloc(100001);
    memset(s, 'a', 100000);
    s[100000] = '\0';
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int r1 = gm("a*a*a*a*a*a*a*a*a*a*b", s, 0);
    char pat[200];
    size_t pl = 0;
    for (int i = 0; i < 50; i++) {
        pat[pl++] = 'a';
        pat[pl++] = '*';
    }
    pat[pl++] = 'b';
    int r2 = glob_match(pat, pl, s, 5000, 0);
    int r3 = gm("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b", s, 0);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    ok(!r1 && !r2 && !r3, "pathological a*a*...*b patterns do not match a run of a's");
    ok(secs < 1.0, "... and finish quickly (%.3f s)", secs);
    ok(gm("a*a*a*a*a*a*a*a*a*a*", s, 0), "a*a*...* matches a run of a's");

    /* [redis] nesting limit: "*a" x 1000 matches 1000 a's, x 1001 does not */
    char *np = malloc(2 * 1002 + 1);
    for (int n = 1000; n <= 1001; n++) {
        for (int i = 0; i < n; i++) {
            np[2 * i] = '*';
            np[2 * i + 1] = 'a';
        }
        is_int(glob_match(np, (size_t)(2 * n), s, (size_t)n, 0), n == 1000,
               "\"*a\" x %d vs %d a's: %s (Redis's 1000-level nesting limit) [redis]", n, n,
               n == 1000 ? "match" : "no match");
    }
    /* a long run of stars collapses instead of recursing */
    char *stars = malloc(100000);
    memset(stars, '*', 100000);
    ok(glob_match(stars, 100000, "abc", 3, 0), "100000 stars match (collapsed, no deep recursion)");
    free(stars);
    free(np);
    free(s);

    ok(strieq("GET", 3, "get"), "strieq GET get");
    ok(!strieq("GE", 2, "get"), "strieq: length differs");
    ok(!strieq("get\0", 4, "get"), "strieq: trailing NUL differs");
    ok(!strieq("gex", 3, "get"), "strieq: byte differs");
}

/* ------------------------------------------------------------ sstr */

static void test_sstr(void)
{
    size_t base = mem_used();
    sstr s = sstr_new("abc", 3);
    is_int(sstr_len(s), 3, "sstr_new length");
    is_str(s, "abc", "sstr_new content, NUL-terminated");
    ok(sstr_cap(s) >= 3 && sstr_avail(s) == sstr_cap(s) - 3, "cap/avail consistent");
    s = sstr_cat(s, "\0def", 4);
    is_int(sstr_len(s), 7, "cat with an embedded NUL");
    is_mem(s, 7, "abc\0def", 7, "binary-safe content");
    ok(s[7] == '\0', "still NUL-terminated");
    s = sstr_cats(s, "gh");
    is_mem(s, 9, "abc\0defgh", 9, "cats");
    sstr d = sstr_dup(s);
    ok(d != s && sstr_len(d) == 9 && memcmp(d, s, 9) == 0, "dup copies binary content");
    sstr_free(d);

    sstr e = sstr_empty(100);
    ok(sstr_len(e) == 0 && sstr_cap(e) >= 100 && e[0] == '\0', "sstr_empty reserves");
    char *before = e;
    e = sstr_cat(e, "0123456789", 10);
    ok(e == before, "cat within the reserve does not move");
    sstr_free(e);

    sstr f = sstr_from("");
    ok(sstr_len(f) == 0 && f[0] == '\0', "sstr_from empty string");
    f = sstr_catfmt(f, "%d-%s-%c", 42, "x", 'y');
    is_str(f, "42-x-y", "catfmt short");
    /* longer than the 256-byte stack buffer: second vsnprintf path */
    f = sstr_catfmt(f, "|%0300d|", 7);
    ok(sstr_len(f) == 6 + 302 && f[6] == '|' && f[306] == '7' && f[307] == '|' && f[308] == '\0',
       "catfmt longer than 256 bytes");
    int zeros = 1;
    for (int i = 7; i < 306; i++)
        zeros &= f[i] == '0';
    ok(zeros, "catfmt long: padding intact");
    f = sstr_catfmt(f, "%s", "");
    is_int(sstr_len(f), 308, "catfmt of nothing");
    sstr_free(f);

    /* catrepr: redis-cli style quoting */
    sstr r = sstr_catrepr(sstr_empty(0), "a\"b\\c\n\r\t\a\b\x01\x7f\xff\0 z", 16);
    is_str(r, "\"a\\\"b\\\\c\\n\\r\\t\\a\\b\\x01\\x7f\\xff\\x00 z\"", "catrepr escapes quotes, backslashes, controls, high bytes");
    sstr_clear(r);
    r = sstr_catrepr(r, "", 0);
    is_str(r, "\"\"", "catrepr of nothing");
    sstr_free(r);

    /* consume */
    sstr c = sstr_from("hello world");
    sstr_consume(c, 0);
    is_str(c, "hello world", "consume 0");
    sstr_consume(c, 6);
    ok(sstr_len(c) == 5 && strcmp(c, "world") == 0, "consume 6");
    sstr_consume(c, 5);
    ok(sstr_len(c) == 0 && c[0] == '\0', "consume everything");
    c = sstr_cat(c, "ab", 2);
    sstr_consume(c, 100);
    ok(sstr_len(c) == 0 && c[0] == '\0', "consume more than the length");
    c = sstr_cat(c, "x\0y", 3);
    sstr_consume(c, 1);
    is_mem(c, sstr_len(c), "\0y", 2, "consume keeps binary content");

    /* grow_zero */
    c = sstr_grow_zero(c, 10);
    is_int(sstr_len(c), 10, "grow_zero length");
    is_mem(c, 10, "\0y\0\0\0\0\0\0\0\0", 10, "grow_zero pads with zeros, keeps content");
    ok(c[10] == '\0', "grow_zero terminates");
    c = sstr_grow_zero(c, 4);
    is_int(sstr_len(c), 10, "grow_zero never shrinks");
    c = sstr_grow_zero(c, 100000);
    int allz = sstr_len(c) == 100000;
    for (size_t i = 10; allz && i < 100000; i++)
        allz = c[i] == 0;
    ok(allz && c[1] == 'y', "grow_zero to 100000");

    /* setlen / clear / tolower */
    sstr_setlen(c, 3);
    ok(sstr_len(c) == 3 && c[3] == '\0', "setlen");
    sstr_clear(c);
    ok(sstr_len(c) == 0 && c[0] == '\0', "clear");
    c = sstr_cats(c, "MiXeD-123-\xc4");
    sstr_tolower(c);
    is_str(c, "mixed-123-\xc4", "tolower: ASCII only");
    sstr_free(c);

    /* reserve growth: geometric below 1 MiB, so appending byte by byte
     * reallocates O(log n) times, not n times */
    sstr g = sstr_empty(0);
    int moves = 0, bad = 0;
    size_t last_cap = sstr_cap(g);
    for (int i = 0; i < 300000; i++) {
        char ch = (char)('a' + i % 26);
        g = sstr_reserve(g, 1);
        if (sstr_avail(g) < 1)
            bad++;
        g = sstr_cat(g, &ch, 1);
        if (sstr_cap(g) != last_cap) {
            moves++;
            last_cap = sstr_cap(g);
        }
    }
    is_int(bad, 0, "reserve always leaves the room asked for");
    ok(moves < 40, "300000 one-byte appends grow the buffer only %d times", moves);
    int content = sstr_len(g) == 300000;
    for (int i = 0; content && i < 300000; i++)
        content = g[i] == (char)('a' + i % 26);
    ok(content && g[300000] == '\0', "content intact through growth");
    g = sstr_reserve(g, 5000000);
    ok(sstr_avail(g) >= 5000000, "reserve a big block");
    g = sstr_shrink(g);
    ok(sstr_cap(g) >= sstr_len(g) && sstr_cap(g) <= sstr_len(g) + sstr_len(g) / 4 + 4096,
       "shrink releases the spare capacity (cap %zu; allocator size classes allowed)", sstr_cap(g));
    ok(sstr_alloc_size(g) >= sstr_cap(g) + 1, "alloc_size covers the content");
    sstr_free(g);
    sstr_free(NULL);
    sstr_free(s);
    is_int(mem_used(), base, "no memory left behind (sstr)");
}

static void test_mem(void)
{
    size_t base = mem_used();
    char *p = mem_alloc(1000);
    ok(mem_used() >= base + 1000, "mem_alloc counted");
    ok(mem_usable(p) >= 1000, "usable >= asked");
    p = mem_realloc(p, 100000);
    ok(mem_used() >= base + 100000 && mem_used() == base + mem_usable(p), "realloc counted by usable size");
    mem_free(p);
    is_int(mem_used(), base, "free returns to the baseline");
    char *z = mem_calloc(64);
    int allz = 1;
    for (int i = 0; i < 64; i++)
        allz &= z[i] == 0;
    ok(allz, "calloc zeroes");
    char *q = mem_memdup("a\0b", 3);
    ok(memcmp(q, "a\0b", 4) == 0, "memdup copies and terminates");
    char *r = mem_strdup("hi");
    is_str(r, "hi", "strdup");
    mem_free(z);
    mem_free(q);
    mem_free(r);
    mem_free(NULL);
    char *n0 = mem_alloc(0);
    ok(n0 != NULL, "mem_alloc(0) returns a pointer");
    mem_free(n0);
    char *rn = mem_realloc(NULL, 10);
    ok(rn != NULL, "realloc(NULL) allocates");
    mem_free(rn);
    is_int(mem_used(), base, "no memory left behind (mem)");
    ok(mem_usable(NULL) == 0, "usable(NULL) is 0");
}

int main(void)
{
    test_string2ll();
    test_ll2string();
    test_string2d();
    test_string2ld();
    test_ld2string();
    test_glob();
    test_sstr();
    test_mem();
    return tap_done();
}
