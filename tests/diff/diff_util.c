/* diff_util.c - text buffers, clocks, TAP output, redis-cli argument splitting (see diff.h). */
#define _GNU_SOURCE
#include "diff.h"


void oom(void)
{
    fputs("Bail out! out of memory\n", stdout);
    exit(1);
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom();
    return q;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) oom();
    return d;
}

void buf_reserve(buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

void buf_add(buf_t *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
void buf_addc(buf_t *b, char c) { buf_add(b, &c, 1); }

void buf_vaddf(buf_t *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
void buf_vaddf(buf_t *b, const char *fmt, va_list ap)
{
    char tmp[512];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof(tmp)) {
        buf_add(b, tmp, (size_t)n);
    } else {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
    }
    va_end(ap2);
}

void buf_addf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void buf_clear(buf_t *b)
{
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->len) {
        buf_clear(b);
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    b->p[b->len] = '\0';
}

void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

const char *buf_str(const buf_t *b) { return b->p ? b->p : ""; }

int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end || n < 0) ? dflt : n;
}

int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcmp(v, "1") == 0;
}

/* Parse a non-negative decimal integer directive argument. */
int parse_ms(const char *s, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (!*s || *end || errno || n < 0) return -1;
    *out = n;
    return 0;
}

/* Append bytes C-escaped and double-quoted, at most `max` input bytes. */
void escape_bytes(buf_t *out, const char *p, size_t n, size_t max)
{
    size_t shown = n > max ? max : n;
    buf_addc(out, '"');
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\r': buf_adds(out, "\\r"); break;
        case '\n': buf_adds(out, "\\n"); break;
        case '\t': buf_adds(out, "\\t"); break;
        case '"': buf_adds(out, "\\\""); break;
        case '\\': buf_adds(out, "\\\\"); break;
        default:
            if (c < 32 || c >= 127) buf_addf(out, "\\x%02x", c);
            else buf_addc(out, (char)c);
        }
    }
    buf_addc(out, '"');
    if (shown < n) buf_addf(out, "... (%zu more bytes)", n - shown);
}

/* ====================================================================== */
/* TAP output                                                             */

int tap_count;
int tap_failures;

void tap_point(int ok, const char *desc)
{
    tap_count++;
    if (!ok) tap_failures++;
    printf("%sok %d - %s\n", ok ? "" : "not ", tap_count, desc);
    fflush(stdout);
}

/* Print a diagnostic; every line of it gets the "# " prefix. */
void diag(const char *fmt, ...)
{
    buf_t b = {0};
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(&b, fmt, ap);
    va_end(ap);
    if (!b.p) return;
    const char *s = b.p;
    for (;;) {
        const char *nl = strchr(s, '\n');
        size_t len = nl ? (size_t)(nl - s) : strlen(s);
        printf("#   %.*s\n", (int)len, s);
        if (!nl || !nl[1]) break;
        s = nl + 1;
    }
    fflush(stdout);
    buf_free(&b);
}

/* ====================================================================== */
/* Argument splitting, compatible with redis-cli (sdssplitargs)           */


void args_push(args_t *a, const char *p, size_t len)
{
    a->v = xrealloc(a->v, sizeof(*a->v) * (size_t)(a->n + 1));
    a->l = xrealloc(a->l, sizeof(*a->l) * (size_t)(a->n + 1));
    char *s = xrealloc(NULL, len + 1);
    if (len) memcpy(s, p, len);
    s[len] = '\0';
    a->v[a->n] = s;
    a->l[a->n] = len;
    a->n++;
}

void args_free(args_t *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    free(a->l);
    a->v = NULL;
    a->l = NULL;
    a->n = 0;
}

int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns 0, or -1 on unbalanced quotes. */
int split_args(const char *p, args_t *out)
{
    buf_t cur = {0};
    for (;;) {
        while (*p && isspace((unsigned char)*p)) p++;
        if (!*p) break;
        int inq = 0, insq = 0, done = 0;
        buf_clear(&cur);
        while (!done) {
            if (inq) {
                if (p[0] == '\\' && p[1] == 'x' && hexval((unsigned char)p[2]) >= 0 &&
                    hexval((unsigned char)p[3]) >= 0) {
                    buf_addc(&cur, (char)(hexval((unsigned char)p[2]) * 16 +
                                          hexval((unsigned char)p[3])));
                    p += 3;
                } else if (p[0] == '\\' && p[1]) {
                    char c;
                    p++;
                    switch (*p) {
                    case 'n': c = '\n'; break;
                    case 'r': c = '\r'; break;
                    case 't': c = '\t'; break;
                    case 'b': c = '\b'; break;
                    case 'a': c = '\a'; break;
                    default: c = *p; break;
                    }
                    buf_addc(&cur, c);
                } else if (*p == '"') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto err;
                    done = 1;
                } else if (!*p) {
                    goto err;
                } else {
                    buf_addc(&cur, *p);
                }
            } else if (insq) {
                if (p[0] == '\\' && p[1] == '\'') {
                    p++;
                    buf_addc(&cur, '\'');
                } else if (*p == '\'') {
                    if (p[1] && !isspace((unsigned char)p[1])) goto err;
                    done = 1;
                } else if (!*p) {
                    goto err;
                } else {
                    buf_addc(&cur, *p);
                }
            } else {
                switch (*p) {
                case ' ': case '\n': case '\r': case '\t': case '\0':
                    done = 1;
                    break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: buf_addc(&cur, *p); break;
                }
            }
            if (*p) p++;
        }
        args_push(out, buf_str(&cur), cur.len);
    }
    buf_free(&cur);
    return 0;
err:
    buf_free(&cur);
    args_free(out);
    return -1;
}
