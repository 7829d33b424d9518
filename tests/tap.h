/* tap.h - a tiny header-only TAP producer for Sluice's C tests.
 *
 * Output follows TAP version 13 as automake's tap-driver.sh reads it:
 * "ok N - name" / "not ok N - name", diagnostics behind "# ", and a plan
 * line "1..N" printed by tap_done() (or up front by tap_plan()).
 * A failed check never aborts the test program: it is counted, reported
 * with file and line, and tap_done() returns a non-zero exit status.
 */
#ifndef SLUICE_TAP_H
#define SLUICE_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int tap_count_;
static int tap_failed_;
static int tap_planned_;

static inline void tap_plan(int n)
{
    tap_planned_ = n;
    printf("1..%d\n", n);
    fflush(stdout);
}

static inline void tap_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
}

static inline int tap_ok_(int cond, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    tap_count_++;
    printf("%sok %d - ", cond ? "" : "not ", tap_count_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    if (!cond) {
        tap_failed_++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, ...) tap_ok_(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

#define is_int(got, want, ...)                                              \
    do {                                                                    \
        long long g_ = (long long)(got), w_ = (long long)(want);            \
        if (!tap_ok_(g_ == w_, __FILE__, __LINE__, __VA_ARGS__))            \
            tap_diag("  got: %lld, expected: %lld", g_, w_);                \
    } while (0)

#define is_str(got, want, ...)                                              \
    do {                                                                    \
        const char *g_ = (got), *w_ = (want);                               \
        int c_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;               \
        if (!tap_ok_(c_, __FILE__, __LINE__, __VA_ARGS__))                  \
            tap_diag("  got: \"%s\", expected: \"%s\"", g_ ? g_ : "(null)", \
                     w_ ? w_ : "(null)");                                   \
    } while (0)

#define is_mem(got, glen, want, wlen, ...)                                  \
    do {                                                                    \
        size_t gl_ = (glen), wl_ = (wlen);                                  \
        int c_ = gl_ == wl_ && memcmp((got), (want), gl_) == 0;             \
        if (!tap_ok_(c_, __FILE__, __LINE__, __VA_ARGS__))                  \
            tap_diag("  got: \"%.*s\", expected: \"%.*s\"", (int)gl_,       \
                     (const char *)(got), (int)wl_, (const char *)(want));  \
    } while (0)

/* A visible skip: "ok N # SKIP reason", which automake's TAP driver
 * counts as SKIP (utils/check reports the number).
 *
 * tap_skip_dep() is the skip of a check that needs an outside dependency
 * (redis-server, strace, a network namespace...).  Where the environment
 * requires that dependency, the skip is a failure instead: CI sets
 * SLUICE_REQUIRE=all, so it cannot skip what the README promises, while
 * a local run without the tool still skips gracefully.
 *   SLUICE_REQUIRE=all              every dependency is required
 *   SLUICE_REQUIRE=redis,strace     these (comma-separated names)
 *   SLUICE_REQUIRE_REDIS=1          the older spelling of "redis"
 */
static inline void tap_skip(const char *fmt, ...)
{
    va_list ap;
    tap_count_++;
    printf("ok %d # SKIP ", tap_count_);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
}

/* Whether the environment requires dependency `dep` (see tap_skip_dep). */
static inline int tap_dep_required(const char *dep)
{
    const char *req = getenv("SLUICE_REQUIRE");
    if (strcmp(dep, "redis") == 0) {
        const char *old = getenv("SLUICE_REQUIRE_REDIS");
        if (old && *old && strcmp(old, "0") != 0)
            return 1;
    }
    if (!req || !*req)
        return 0;
    size_t n = strlen(dep);
    for (const char *p = req; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if ((len == 3 && strncmp(p, "all", 3) == 0) || (len == n && strncmp(p, dep, n) == 0))
            return 1;
        if (!end)
            break;
        p = end + 1;
    }
    return 0;
}

static inline void tap_skip_dep(const char *dep, const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (tap_dep_required(dep))
        tap_ok_(0, __FILE__, __LINE__, "%s (required: SLUICE_REQUIRE names %s)", why, dep);
    else
        tap_skip("%s", why);
}

static inline void tap_bail(const char *why)
{
    printf("Bail out! %s\n", why);
    fflush(stdout);
    exit(1);
}

static inline int tap_done(void)
{
    if (!tap_planned_)
        printf("1..%d\n", tap_count_);
    else if (tap_planned_ != tap_count_)
        printf("# planned %d tests but ran %d\n", tap_planned_, tap_count_);
    fflush(stdout);
    return tap_failed_ || (tap_planned_ && tap_planned_ != tap_count_) ? 1 : 0;
}

#endif
