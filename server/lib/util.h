/* util.h - number parsing/formatting, glob matching and clocks with the
 * exact semantics Redis's replies depend on. */
#ifndef SLUICE_UTIL_H
#define SLUICE_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Strict integer parse: optional '-', no '+', no leading zeros, no spaces,
 * must fit in long long.  Returns 1 on success. */
int string2ll(const char *s, size_t len, long long *out);
int string2l(const char *s, size_t len, long *out);
/* Unsigned variant (used for cursors). */
int string2ull(const char *s, size_t len, unsigned long long *out);
/* Format; returns length written (buffer should be >= 21 bytes). */
int ll2string(char *buf, size_t size, long long v);
/* Parse a double as Redis's getDoubleFromObject: no spaces, no NaN,
 * accepts inf/-inf/+inf.  Returns 1 on success. */
int string2d(const char *s, size_t len, double *out);
/* Long double, as INCRBYFLOAT parses it. */
int string2ld(const char *s, size_t len, long double *out);
/* Redis's ld2string in human-friendly mode (INCRBYFLOAT's output). */
int ld2string(char *buf, size_t size, long double v);
/* %.17g as Redis 7.0 replies doubles (inf/-inf spelled out). */
int d2string(char *buf, size_t size, double v);

/* Glob-style pattern match as Redis's stringmatchlen (KEYS, SCAN MATCH). */
int glob_match(const char *pat, size_t patlen, const char *s, size_t slen, int nocase);

/* Case-insensitive comparison of a byte slice with a C string. */
int strieq(const char *p, size_t len, const char *cstr);

/* Clocks. */
long long ustime(void);    /* wall clock, microseconds */
long long mstime(void);    /* wall clock, milliseconds */
long long monotonic_us(void);
/* Sleep usec microseconds; a negative -N sleeps 1 us once in N calls on
 * average, so loaders can be slowed by less than a syscall per item. */
void debug_delay(int usec);

/* Fast pseudo-random numbers for sampling (random keys, eviction, LFU):
 * xorshift64*, one stream for the process, independent of rand(), which
 * tests may seed.  Not for anything that must be unpredictable. */
uint64_t random_u64(void);

/* Fill with random hex characters (run ids). */
void random_hex(char *out, size_t len);

#endif
