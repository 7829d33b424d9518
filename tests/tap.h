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
