/* util.c - see util.h. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "mem.h"

int string2ll(const char *s, size_t len, long long *out)
{
    const char *p = s;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (len == 0 || len > 20)
        return 0;
    if (len == 1 && p[0] == '0') {
        *out = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == len)
            return 0;
    }
    if (p[0] >= '1' && p[0] <= '9') {
        v = (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    } else {
        return 0;
    }
    while (plen < len && p[0] >= '0' && p[0] <= '9') {
        if (v > ULLONG_MAX / 10)
            return 0;
        v *= 10;
        if (v > ULLONG_MAX - (unsigned long long)(p[0] - '0'))
            return 0;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < len)
        return 0;
    if (negative) {
        if (v > ((unsigned long long)(-(LLONG_MIN + 1)) + 1))
            return 0;
        *out = (long long)(0ULL - v);
    } else {
        if (v > LLONG_MAX)
            return 0;
        *out = (long long)v;
    }
    return 1;
}

int string2l(const char *s, size_t len, long *out)
{
    long long v;
    if (!string2ll(s, len, &v) || v < LONG_MIN || v > LONG_MAX)
        return 0;
    *out = (long)v;
    return 1;
}

int string2ull(const char *s, size_t len, unsigned long long *out)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (buf[0] == '-' || isspace((unsigned char)buf[0]))
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(buf, &end, 10);
    if (errno || *end != '\0')
        return 0;
    *out = v;
    return 1;
}

int ll2string(char *buf, size_t size, long long v)
{
    char tmp[24];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    int n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        tmp[n++] = '-';
    if ((size_t)n + 1 > size)
        return 0;
    for (int i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int string2d(const char *s, size_t len, double *out)
{
    /* Redis 7.0 runs strtod on the whole argument, with no length limit
     * (ZADD accepts a 300-digit score): copy long inputs to the heap. */
    char stackbuf[256];
    if (len == 0 || isspace((unsigned char)s[0]))
        return 0;
    char *buf = len < sizeof(stackbuf) ? stackbuf : mem_alloc(len + 1);
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int good = (size_t)(end - buf) == len && !(errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || v == 0)) &&
               !isnan(v);
    if (buf != stackbuf)
        mem_free(buf);
    if (!good)
        return 0;
    *out = v;
    return 1;
}

int string2ld(const char *s, size_t len, long double *out)
{
    char buf[5120];
    if (len == 0 || len >= sizeof(buf) || isspace((unsigned char)s[0]))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    /* as Redis's string2ld: underflow to a tiny number is fine, overflow
     * and underflow to zero are not */
    if ((size_t)(end - buf) != len || isnan(v) ||
        (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)))
        return 0;
    *out = v;
    return 1;
}

int ld2string(char *buf, size_t size, long double v)
{
    int n;
    if (isinf(v)) {
        if (size < 5)
            return 0;
        if (v > 0) {
            memcpy(buf, "inf", 4);
            return 3;
        }
        memcpy(buf, "-inf", 5);
        return 4;
    }
    /* %.17Lf then strip trailing zeros, as Redis's LD_STR_HUMAN mode */
    n = snprintf(buf, size, "%.17Lf", v);
    if (n < 0 || (size_t)n >= size)
        return 0;
    if (strchr(buf, '.')) {
        char *p = buf + n - 1;
        while (*p == '0') {
            p--;
            n--;
        }
        if (*p == '.')
            n--;
    }
    if (n == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        n = 1;
    }
    buf[n] = '\0';
    return n;
}

int d2string(char *buf, size_t size, double v)
{
    if (isinf(v))
        return snprintf(buf, size, "%s", v > 0 ? "inf" : "-inf");
    if (isnan(v))
        return snprintf(buf, size, "nan");
    return snprintf(buf, size, "%.17g", v);
}

static int match_impl(const char *pat, size_t patlen, const char *s, size_t slen, int nocase,
                      int *skip_longer, int depth)
{
    if (depth > 1000)
        return 0; /* protects the stack against patterns like "*****..." */
    while (patlen && slen) {
        switch (pat[0]) {
        case '*':
            while (patlen > 1 && pat[1] == '*') {
                pat++;
                patlen--;
            }
            if (patlen == 1)
                return 1;
            while (slen) {
                if (match_impl(pat + 1, patlen - 1, s, slen, nocase, skip_longer, depth + 1))
                    return 1;
                if (*skip_longer)
                    return 0;
                s++;
                slen--;
            }
            *skip_longer = 1;
            return 0;
        case '?':
            s++;
            slen--;
            break;
        case '[': {
            int not_, match = 0;
            pat++;
            patlen--;
            not_ = patlen && pat[0] == '^';
            if (not_) {
                pat++;
                patlen--;
            }
            for (;;) {
                if (patlen == 0) {
                    pat--;
                    patlen++;
                    break;
                }
                if (pat[0] == '\\' && patlen >= 2) {
                    pat++;
                    patlen--;
                    if (pat[0] == s[0])
                        match = 1;
                } else if (pat[0] == ']') {
                    break;
                } else if (patlen >= 3 && pat[1] == '-') {
                    int start = (unsigned char)pat[0], end = (unsigned char)pat[2], c = (unsigned char)s[0];
                    if (start > end) {
                        int t = start;
                        start = end;
                        end = t;
                    }
                    if (nocase) {
                        start = tolower(start);
                        end = tolower(end);
                        c = tolower(c);
                    }
                    pat += 2;
                    patlen -= 2;
                    if (c >= start && c <= end)
                        match = 1;
                } else {
                    if (!nocase) {
                        if (pat[0] == s[0])
                            match = 1;
                    } else if (tolower((unsigned char)pat[0]) == tolower((unsigned char)s[0])) {
                        match = 1;
                    }
                }
                pat++;
                patlen--;
            }
            if (not_)
                match = !match;
            if (!match)
                return 0;
            s++;
            slen--;
            break;
        }
        case '\\':
            if (patlen >= 2) {
                pat++;
                patlen--;
            }
            /* fall through */
        default:
            if (!nocase) {
                if (pat[0] != s[0])
                    return 0;
            } else if (tolower((unsigned char)pat[0]) != tolower((unsigned char)s[0])) {
                return 0;
            }
            s++;
            slen--;
            break;
        }
        pat++;
        patlen--;
        if (slen == 0) {
            while (patlen && *pat == '*') {
                pat++;
                patlen--;
            }
            break;
        }
    }
    return patlen == 0 && slen == 0;
}

int glob_match(const char *pat, size_t patlen, const char *s, size_t slen, int nocase)
{
    int skip_longer = 0;
    return match_impl(pat, patlen, s, slen, nocase, &skip_longer, 0);
}

int strieq(const char *p, size_t len, const char *cstr)
{
    size_t n = strlen(cstr);
    return n == len && strncasecmp(p, cstr, len) == 0;
}

long long ustime(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000000 + tv.tv_usec;
}

long long mstime(void) { return ustime() / 1000; }

long long monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void debug_delay(int usec)
{
    if (usec < 0) /* even the shortest sleep is a syscall: sleep less often */
        usec = (random_u64() % (uint64_t)(-(long long)usec)) == 0 ? 1 : 0;
    if (usec)
        usleep((useconds_t)usec);
}

uint64_t random_u64(void)
{
    static uint64_t x = 0x2545F4914F6CDD1DULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    return x * 0x2545F4914F6CDD1DULL;
}

void random_hex(char *out, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char buf[64];
    size_t have = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        ssize_t n = read(fd, buf, len < sizeof(buf) ? len : sizeof(buf));
        have = n > 0 ? (size_t)n : 0;
        close(fd);
    }
    for (size_t i = 0; i < len; i++) {
        unsigned r = i < have ? buf[i] : (unsigned)(ustime() ^ (long long)i * 2654435761u);
        out[i] = hex[r & 15];
    }
}
