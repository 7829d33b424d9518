/* sluice-diff.c - differential test harness: Sluice vs. Redis, byte for byte.
 *
 * Usage: sluice-diff SCRIPT.redis [SCRIPT.redis ...]
 *
 * For every script file, sluice-diff starts a fresh sluice-server and a fresh
 * redis-server (each on its own free loopback port, in its own temp dir,
 * with `--port N --bind 127.0.0.1 --save "" --appendonly no --dir DIR` plus
 * any `:server-args`), runs the script against both, compares the raw reply
 * bytes and prints TAP: one test point per compared reply, plan ("1..N") at
 * the end.  Both servers are stopped (SIGTERM, SIGKILL after 5 s) when the
 * file is done, so no state leaks from one file to the next.  The exit
 * status is non-zero if any test point failed.
 *
 * Environment:
 *   SLUICE_SERVER         server under test   (default: server/sluice-server)
 *   REDIS_SERVER          reference server    (default: /usr/bin/redis-server)
 *   SLUICE_REQUIRE_REDIS  if "1", a missing redis-server is an error; otherwise
 *                         it prints "1..0 # SKIP redis-server not found"
 *   SLUICE_DIFF_TIMEOUT   per-reply timeout in ms (default 5000; see :timeout)
 *   SLUICE_DIFF_RAW_WAIT  quiet time in ms that ends a :raw read (default 150)
 *   SLUICE_DIFF_VERBOSE   if "1", print every reply as a TAP diagnostic
 *   SLUICE_DIFF_KEEP      if "1", keep the servers' temp dirs (and logs)
 *
 * Script format
 * -------------
 * One command per line.  Arguments are split the way redis-cli splits them:
 * separated by white space; "double quotes" understand \n \r \t \b \a \xHH
 * and a backslash before any other character stands for that character
 * (\" \\); 'single quotes' only understand \'.  A closing quote must be
 * followed by white space or the end of the line.  Blank lines and lines
 * whose first non-blank character is '#' are ignored.  Commands are sent as
 * RESP multibulk requests.  `""` alone is a command with one empty argument.
 *
 * Lines starting with ':' are directives.  Modifiers apply to the NEXT
 * command (or :read / :raw / :resp2 / :resp3) only:
 *   :sort          sort the elements of the top-level array/set (pairs of a
 *                  map) of both replies before comparing (KEYS, SMEMBERS...)
 *   :sort-pairs    like :sort, but a top-level array is sorted as consecutive
 *                  key/value pairs (RESP2 CONFIG GET a b, HGETALL...)
 *   :ignore        read the reply but do not compare it (TIME, INFO...)
 *   :match REGEX   both replies must match this POSIX extended regex,
 *                  applied to the raw reply bytes (CR LF included).  REGEX is
 *                  the rest of the line; in "double quotes" only \r \n \t \"
 *                  and \xHH are translated, other backslashes (\* \$ \.) stay
 *                  for the regex: :match "^:[0-9]+\r\n$"
 *   :noreply       send the command but do not read its reply now
 * Other directives:
 *   :read          read the next pending reply (of a :noreply command) on the
 *                  current connection from both servers and compare it
 *   :resp3 / :resp2  send HELLO 3 / HELLO 2 on the current connection and
 *                  compare the replies (see the legitimate-difference table)
 *   :client NAME   switch to the named connection, creating it if needed
 *                  (one connection to each server per name; default "main")
 *   :reconnect     close the current connection (both servers) and open a
 *                  fresh one on next use
 *   :raw "BYTES"   send these bytes as they are (tokens are concatenated
 *                  without separators), then read whatever comes back until
 *                  the connection closes or no more bytes arrive for the raw
 *                  wait time; compares all bytes received AND whether the
 *                  connection got closed.  A closed connection is reopened
 *                  automatically on next use.
 *   :flushall      send FLUSHALL to both without comparing (must be +OK)
 *   :sleep MS      pause
 *   :timeout MS    per-reply timeout for the rest of the file (default 5000)
 *   :raw-wait MS   quiet time that ends a :raw read (default 150)
 *   :server-args ARGS...  extra arguments for both servers; only allowed
 *                  before the first command of the file
 *
 * Replies are read in order per connection; a command sent on a connection
 * that still has unread :noreply replies is a script error.  Script errors
 * (bad directive, unbalanced quotes...) are failed test points.
 *
 * Replies are framed with a RESP2/RESP3 parser (+ - : $ * _ # , ( ! = % ~ |
 * >, attributes, nested aggregates, nulls, streamed strings/aggregates) only
 * to find where a reply ends; the raw bytes are what gets compared.  A reply
 * that does not arrive within the timeout is a failure, not a hang (the
 * connection is then reopened to resynchronise).  A connection that both
 * servers close without a reply counts as identical behaviour.
 *
 * Legitimate differences are listed in ONE table, legit_diffs[] below; any
 * other byte that differs is a failure.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define NSIDES 2              /* 0 = sluice (under test), 1 = redis (spec) */
#define DIAG_MAX_BYTES 2048   /* raw reply bytes shown in a diagnostic */
#define DESC_MAX 100          /* characters of a command in a test name */
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define RESP_MAX_DEPTH 128

/* ======================================================================
 * The legitimate-difference table.
 *
 * Each rule names a command (and optionally its first argument, for
 * container commands) and says which part of a NON-error reply is masked
 * before comparing.  Error replies are never masked.  Keep this minimal:
 * everything not listed here must match byte for byte (HELLO's "server"
 * and "version" fields included: Sluice answers "redis" / "7.0.15").
 * ====================================================================== */
typedef enum {
    MASK_KEY_VALUE, /* in a map (RESP3) or flat key/value array (RESP2),
                       replace the value that follows key `key` */
    MASK_WHOLE      /* keep only the reply's type byte */
} mask_kind;

typedef struct {
    const char *cmd;  /* command name, case-insensitive */
    const char *sub;  /* first argument (subcommand), or NULL for any */
    mask_kind kind;
    const char *key;  /* for MASK_KEY_VALUE */
    const char *why;
} legit_diff;

static const legit_diff legit_diffs[] = {
    {"HELLO", NULL, MASK_KEY_VALUE, "id",
     "client ids are allocated independently by each server"},
    {"CLIENT", "ID", MASK_WHOLE, NULL,
     "client ids are allocated independently by each server"},
};
#define N_LEGIT_DIFFS ((int)(sizeof(legit_diffs) / sizeof(legit_diffs[0])))

/* ====================================================================== */
/* Small utilities                                                        */

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

static void oom(void)
{
    fputs("Bail out! out of memory\n", stdout);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) oom();
    return q;
}

static char *xstrdup(const char *s)
{
    char *d = strdup(s);
    if (!d) oom();
    return d;
}

static void buf_reserve(buf_t *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1) cap *= 2;
    b->p = xrealloc(b->p, cap);
    b->cap = cap;
}

static void buf_add(buf_t *b, const void *d, size_t n)
{
    buf_reserve(b, n);
    if (n) memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_adds(buf_t *b, const char *s) { buf_add(b, s, strlen(s)); }
static void buf_addc(buf_t *b, char c) { buf_add(b, &c, 1); }

static void buf_vaddf(buf_t *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void buf_vaddf(buf_t *b, const char *fmt, va_list ap)
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

static void buf_addf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_addf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vaddf(b, fmt, ap);
    va_end(ap);
}

static void buf_clear(buf_t *b)
{
    b->len = 0;
    if (b->p) b->p[0] = '\0';
}

static void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->len) {
        buf_clear(b);
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    b->p[b->len] = '\0';
}

static void buf_free(buf_t *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

static const char *buf_str(const buf_t *b) { return b->p ? b->p : ""; }

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {}
}

static long env_long(const char *name, long dflt)
{
    const char *v = getenv(name);
    if (!v || !*v) return dflt;
    char *end;
    long n = strtol(v, &end, 10);
    return (*end || n < 0) ? dflt : n;
}

static int env_true(const char *name)
{
    const char *v = getenv(name);
    return v && strcmp(v, "1") == 0;
}

/* Parse a non-negative decimal integer directive argument. */
static int parse_ms(const char *s, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (!*s || *end || errno || n < 0) return -1;
    *out = n;
    return 0;
}

/* Append bytes C-escaped and double-quoted, at most `max` input bytes. */
static void escape_bytes(buf_t *out, const char *p, size_t n, size_t max)
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

static int tap_count;
static int tap_failures;

static void tap_point(int ok, const char *desc)
{
    tap_count++;
    if (!ok) tap_failures++;
    printf("%sok %d - %s\n", ok ? "" : "not ", tap_count, desc);
    fflush(stdout);
}

/* Print a diagnostic; every line of it gets the "# " prefix. */
static void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void diag(const char *fmt, ...)
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

typedef struct {
    char **v;
    size_t *l;
    int n;
} args_t;

static void args_push(args_t *a, const char *p, size_t len)
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

static void args_free(args_t *a)
{
    for (int i = 0; i < a->n; i++) free(a->v[i]);
    free(a->v);
    free(a->l);
    a->v = NULL;
    a->l = NULL;
    a->n = 0;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns 0, or -1 on unbalanced quotes. */
static int split_args(const char *p, args_t *out)
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

/* ====================================================================== */
/* RESP framing: find where one reply ends (RESP2 and RESP3)              */

/* Strict signed decimal, as servers emit it. */
static int parse_ll(const char *p, size_t n, long long *out)
{
    if (n == 0 || n > 20) return 0;
    char tmp[24];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (*end || errno || isspace((unsigned char)tmp[0]) || tmp[0] == '+') return 0;
    *out = v;
    return 1;
}

/* Length of the line starting at p including CRLF, 0 if incomplete. */
static size_t line_len(const char *p, size_t n)
{
    const char *cr = n >= 2 ? memmem(p, n, "\r\n", 2) : NULL;
    return cr ? (size_t)(cr - p) + 2 : 0;
}

/* Returns the length of the complete reply at p, 0 if more bytes are
 * needed, -1 if the bytes are not valid RESP. */
static long resp_frame(const char *p, size_t n, int depth)
{
    if (depth > RESP_MAX_DEPTH) return -1;
    if (n == 0) return 0;
    size_t hl = line_len(p, n);
    if (hl == 0) return 0;
    const char *body = p + 1;
    size_t bl = hl - 3;
    int streamed = (bl == 1 && body[0] == '?');
    long long cnt;

    switch (p[0]) {
    case '+': case '-': case ':': case ',': case '(': case '#': case '_':
        return (long)hl;
    case '$': case '!': case '=':
        if (streamed && p[0] == '$') {
            /* ;len\r\n<data>\r\n ... ;0\r\n */
            size_t off = hl;
            for (;;) {
                size_t cl = line_len(p + off, n - off);
                if (cl == 0) return 0;
                if (p[off] != ';' || !parse_ll(p + off + 1, cl - 3, &cnt) || cnt < 0)
                    return -1;
                off += cl;
                if (cnt == 0) return (long)off;
                if (n - off < (size_t)cnt + 2) return 0;
                if (p[off + cnt] != '\r' || p[off + cnt + 1] != '\n') return -1;
                off += (size_t)cnt + 2;
            }
        }
        if (!parse_ll(body, bl, &cnt)) return -1;
        if (cnt < 0) return cnt == -1 ? (long)hl : -1;
        if (n - hl < (size_t)cnt + 2) return 0;
        if (p[hl + cnt] != '\r' || p[hl + cnt + 1] != '\n') return -1;
        return (long)(hl + (size_t)cnt + 2);
    case '*': case '~': case '>': case '%': case '|': {
        size_t off = hl;
        if (streamed) {
            /* elements until ".\r\n" */
            for (;;) {
                if (n - off < 1) return 0;
                if (p[off] == '.') {
                    size_t el = line_len(p + off, n - off);
                    if (el == 0) return 0;
                    return el == 3 ? (long)(off + 3) : -1;
                }
                long r = resp_frame(p + off, n - off, depth + 1);
                if (r <= 0) return r;
                off += (size_t)r;
            }
        }
        if (!parse_ll(body, bl, &cnt)) return -1;
        if (cnt < 0) return (cnt == -1 && p[0] != '|') ? (long)hl : -1;
        if (p[0] == '%' || p[0] == '|') cnt *= 2;
        for (long long i = 0; i < cnt; i++) {
            long r = resp_frame(p + off, n - off, depth + 1);
            if (r <= 0) return r;
            off += (size_t)r;
        }
        if (p[0] == '|') { /* an attribute is followed by the value it describes */
            long r = resp_frame(p + off, n - off, depth + 1);
            if (r <= 0) return r;
            off += (size_t)r;
        }
        return (long)off;
    }
    default:
        return -1;
    }
}

/* A top-level reply split into prefix (attribute + header line) and its
 * elements; only for non-null, non-streamed aggregates. */
typedef struct {
    size_t off, len;
} span_t;

typedef struct {
    size_t prefix;   /* bytes before the first element */
    char type;       /* type byte of the (non-attribute) reply */
    int is_map;      /* elements come in key/value pairs */
    int n;           /* number of elements (not pairs) */
    span_t *el;
} resp_split;

static int resp_split_top(const char *p, size_t n, resp_split *s)
{
    size_t off = 0;
    memset(s, 0, sizeof(*s));
    if (n && p[0] == '|') { /* skip a top-level attribute */
        size_t hl = line_len(p, n);
        long long cnt;
        if (!hl || !parse_ll(p + 1, hl - 3, &cnt) || cnt < 0) return -1;
        off = hl;
        for (long long i = 0; i < cnt * 2; i++) {
            long r = resp_frame(p + off, n - off, 1);
            if (r <= 0) return -1;
            off += (size_t)r;
        }
    }
    if (off >= n) return -1;
    s->type = p[off];
    if (!strchr("*~>%", s->type)) return -1;
    size_t hl = line_len(p + off, n - off);
    long long cnt;
    if (!hl || !parse_ll(p + off + 1, hl - 3, &cnt) || cnt < 0) return -1;
    off += hl;
    s->prefix = off;
    s->is_map = (s->type == '%');
    if (s->is_map) cnt *= 2;
    s->el = xrealloc(NULL, sizeof(span_t) * (size_t)(cnt ? cnt : 1));
    for (long long i = 0; i < cnt; i++) {
        long r = resp_frame(p + off, n - off, 1);
        if (r <= 0) {
            free(s->el);
            s->el = NULL;
            return -1;
        }
        s->el[i].off = off;
        s->el[i].len = (size_t)r;
        off += (size_t)r;
        s->n++;
    }
    return 0;
}

/* Type byte of a reply, skipping a leading attribute. */
static char resp_type(const char *p, size_t n)
{
    if (n && p[0] == '|') {
        resp_split s;
        if (resp_split_top(p, n, &s) == 0) {
            free(s.el);
            return s.type;
        }
        return '|';
    }
    return n ? p[0] : 0;
}

/* If the element is a simple/bulk string, return its content. */
static int resp_string(const char *p, size_t n, const char **s, size_t *len)
{
    size_t hl = line_len(p, n);
    if (!hl) return 0;
    if (p[0] == '+') {
        *s = p + 1;
        *len = hl - 3;
        return 1;
    }
    if (p[0] == '$' && n > hl + 2) {
        *s = p + hl;
        *len = n - hl - 2;
        return 1;
    }
    return 0;
}

typedef struct {
    const char *p;
    size_t n;
} unit_t;

static int unit_cmp(const void *a, const void *b)
{
    const unit_t *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    if (c) return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

static const char MASKED[] = "<masked>\r\n";

/* Build the form of a reply that gets compared: the raw bytes, with the
 * legitimate-difference rule `rule` (may be NULL) applied and, if `sort`,
 * the top-level elements sorted (sort == 2: sorted as consecutive pairs,
 * for RESP2 flat key/value arrays; RESP3 maps are always sorted by pair).
 * Returns 1 if it differs from raw. */
static int normalize(const char *p, size_t n, const legit_diff *rule, int sort, buf_t *out)
{
    buf_clear(out);
    char type = resp_type(p, n);
    if (type == '-' || type == '!') rule = NULL; /* errors always compared */
    if (rule && rule->kind == MASK_WHOLE) {
        buf_addc(out, type);
        buf_adds(out, MASKED);
        return 1;
    }
    resp_split s;
    if ((!rule && !sort) || resp_split_top(p, n, &s) != 0) {
        buf_add(out, p, n);
        return 0;
    }
    int pairs = s.is_map || ((sort == 2 || (rule && rule->kind == MASK_KEY_VALUE)) && s.n % 2 == 0);
    int nunits = pairs ? s.n / 2 : s.n;
    unit_t *u = xrealloc(NULL, sizeof(unit_t) * (size_t)(nunits ? nunits : 1));
    buf_t masked = {0};
    /* Units point into p, or into `masked` for masked pairs; build all
     * masked pairs first so that the buffer does not move afterwards. */
    size_t *moff = xrealloc(NULL, sizeof(size_t) * (size_t)(nunits ? nunits : 1));
    for (int i = 0; i < nunits; i++) {
        moff[i] = SIZE_MAX;
        if (pairs && rule && rule->kind == MASK_KEY_VALUE) {
            const span_t *k = &s.el[2 * i];
            const char *ks;
            size_t kl;
            if (resp_string(p + k->off, k->len, &ks, &kl) && kl == strlen(rule->key) &&
                strncasecmp(ks, rule->key, kl) == 0) {
                moff[i] = masked.len;
                buf_add(&masked, p + k->off, k->len);
                buf_adds(&masked, MASKED);
            }
        }
    }
    for (int i = 0; i < nunits; i++) {
        if (moff[i] != SIZE_MAX) {
            u[i].p = masked.p + moff[i];
            u[i].n = s.el[2 * i].len + strlen(MASKED);
        } else if (pairs) {
            u[i].p = p + s.el[2 * i].off;
            u[i].n = s.el[2 * i].len + s.el[2 * i + 1].len;
        } else {
            u[i].p = p + s.el[i].off;
            u[i].n = s.el[i].len;
        }
    }
    if (sort) qsort(u, (size_t)nunits, sizeof(unit_t), unit_cmp);
    buf_add(out, p, s.prefix);
    for (int i = 0; i < nunits; i++) buf_add(out, u[i].p, u[i].n);
    free(u);
    free(moff);
    free(s.el);
    buf_free(&masked);
    return out->len != n || memcmp(out->p, p, n) != 0;
}

static const legit_diff *find_rule(const args_t *a)
{
    if (a->n < 1) return NULL;
    for (int i = 0; i < N_LEGIT_DIFFS; i++) {
        const legit_diff *r = &legit_diffs[i];
        if (strcasecmp(a->v[0], r->cmd) != 0) continue;
        if (r->sub && (a->n < 2 || strcasecmp(a->v[1], r->sub) != 0)) continue;
        return r;
    }
    return NULL;
}

/* ====================================================================== */
/* Server processes                                                       */

typedef struct {
    const char *label;
    const char *path;
    pid_t pid;
    int port;
    char dir[PATH_MAX];
    int status;     /* wait status once reaped */
    int reaped;
} server_t;

static server_t srv[NSIDES];
static volatile sig_atomic_t sig_pids[NSIDES];
static int keep_dirs;
/* Copies of the temp dir paths for the signal handler (which may only make
 * async-signal-safe calls: it unlinks the log and removes the dir). */
static char sig_dirs[NSIDES][PATH_MAX];
static char sig_logs[NSIDES][PATH_MAX + 16];

static void on_signal(int sig)
{
    /* async-signal-safe: kill and reap our servers, then die by the signal */
    for (int i = 0; i < NSIDES; i++)
        if (sig_pids[i] > 0) kill((pid_t)sig_pids[i], SIGTERM);
    for (int t = 0; t < 200; t++) {
        int alive = 0;
        for (int i = 0; i < NSIDES; i++) {
            if (sig_pids[i] <= 0) continue;
            if (waitpid((pid_t)sig_pids[i], NULL, WNOHANG) == 0) alive = 1;
            else sig_pids[i] = 0;
        }
        if (!alive) break;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < NSIDES; i++)
        if (sig_pids[i] > 0) {
            kill((pid_t)sig_pids[i], SIGKILL);
            waitpid((pid_t)sig_pids[i], NULL, 0);
        }
    if (!keep_dirs)
        for (int i = 0; i < NSIDES; i++)
            if (sig_dirs[i][0]) {
                unlink(sig_logs[i]);
                rmdir(sig_dirs[i]);
            }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int pick_port(int avoid)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return -1;
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t al = sizeof(a);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
            getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
            close(fd);
            return -1;
        }
        close(fd);
        int port = ntohs(a.sin_port);
        if (port != avoid && port != 6379 && port < 55535) return port;
    }
    return -1;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *dir)
{
    if (dir[0]) nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

static void log_tail(const server_t *s)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/server.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *lines[15] = {0};
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[len - 1] = '\0';
        free(lines[n % 15]);
        lines[n % 15] = xstrdup(line);
        n++;
    }
    free(line);
    fclose(f);
    diag("last lines of %s's log (%s):", s->label, path);
    for (int i = n > 15 ? n - 15 : 0; i < n; i++) diag("  %s", lines[i % 15]);
    for (int i = 0; i < 15; i++) free(lines[i]);
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Has the server exited?  Reaps it if so. */
static int server_dead(server_t *s)
{
    if (s->pid <= 0) return 1;
    if (s->reaped) return 1;
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
        s->status = st;
        s->reaped = 1;
        for (int i = 0; i < NSIDES; i++)
            if (sig_pids[i] == s->pid) sig_pids[i] = 0;
        return 1;
    }
    return 0;
}

static void describe_status(const server_t *s, char *out, size_t n)
{
    if (WIFEXITED(s->status)) snprintf(out, n, "exit status %d", WEXITSTATUS(s->status));
    else if (WIFSIGNALED(s->status))
        snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(s->status),
                 strsignal(WTERMSIG(s->status)));
    else snprintf(out, n, "wait status %d", s->status);
}

static int spawn_server(server_t *s, int idx, const args_t *extra, int avoid_port)
{
    s->port = pick_port(avoid_port);
    if (s->port < 0) return -1;
    s->reaped = 0;
    s->status = 0;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", s->port);
    const char *fixed[] = {s->path, "--port", portstr, "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", s->dir};
    int nf = (int)(sizeof(fixed) / sizeof(fixed[0]));
    char **argv = xrealloc(NULL, sizeof(char *) * (size_t)(nf + extra->n + 1));
    for (int i = 0; i < nf; i++) argv[i] = (char *)fixed[i];
    for (int i = 0; i < extra->n; i++) argv[nf + i] = extra->v[i];
    argv[nf + extra->n] = NULL;
    char logpath[PATH_MAX + 16];
    snprintf(logpath, sizeof(logpath), "%s/server.log", s->dir);
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        return -1;
    }
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent) _exit(126);
        signal(SIGPIPE, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        int lg = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in >= 0) dup2(in, 0);
        if (lg >= 0) {
            dup2(lg, 1);
            dup2(lg, 2);
        }
        execv(s->path, argv);
        dprintf(2, "exec %s: %s\n", s->path, strerror(errno));
        _exit(127);
    }
    free(argv);
    s->pid = pid;
    sig_pids[idx] = pid;
    return 0;
}

/* Wait until the server answers PING with +PONG.  0 ok, -1 failed. */
static int wait_ready(server_t *s, int64_t deadline)
{
    while (now_ms() < deadline) {
        if (server_dead(s)) return -1;
        int fd = connect_port(s->port);
        if (fd < 0) {
            sleep_ms(10);
            continue;
        }
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        char rep[64];
        size_t got = 0;
        int ok = 0;
        if (send_all(fd, ping, sizeof(ping) - 1) == 0) {
            while (got < 7) {
                struct pollfd pf = {fd, POLLIN, 0};
                if (poll(&pf, 1, 1000) <= 0) break;
                ssize_t r = recv(fd, rep + got, sizeof(rep) - got, 0);
                if (r <= 0) break;
                got += (size_t)r;
            }
            ok = got == 7 && memcmp(rep, "+PONG\r\n", 7) == 0;
        }
        close(fd);
        if (ok) return 0;
        sleep_ms(20);
    }
    return -1;
}

static void stop_server(server_t *s)
{
    if (s->pid > 0 && !server_dead(s)) {
        kill(s->pid, SIGTERM);
        int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
        while (!server_dead(s) && now_ms() < deadline) sleep_ms(5);
        if (!server_dead(s)) {
            diag("%s did not exit within %d ms of SIGTERM; sending SIGKILL", s->label,
                 STOP_TIMEOUT_MS);
            kill(s->pid, SIGKILL);
            int st;
            if (waitpid(s->pid, &st, 0) == s->pid) {
                s->status = st;
                s->reaped = 1;
            }
        }
    }
    for (int i = 0; i < NSIDES; i++)
        if (sig_pids[i] == s->pid) sig_pids[i] = 0;
}

static void cleanup_dir(server_t *s)
{
    for (int i = 0; i < NSIDES; i++)
        if (s == &srv[i]) sig_dirs[i][0] = '\0';
    if (s->dir[0] && !keep_dirs) rm_rf(s->dir);
    else if (s->dir[0]) diag("kept %s's directory %s", s->label, s->dir);
    s->dir[0] = '\0';
}

static void stop_all_atexit(void)
{
    for (int i = 0; i < NSIDES; i++) {
        if (srv[i].pid > 0 && !srv[i].reaped) stop_server(&srv[i]);
        if (srv[i].dir[0]) cleanup_dir(&srv[i]);
    }
}

/* ====================================================================== */
/* Connections                                                            */

typedef struct {
    int fd;
    buf_t in;
} sconn_t;

typedef struct {
    char *desc;
    const legit_diff *rule;
} pending_t;

typedef struct client {
    char *name;
    sconn_t s[NSIDES];
    int broken;        /* reopen both connections before next use */
    pending_t *pend;
    int npend, pend_head;
    struct client *next;
} client_t;

enum { RS_OK, RS_EOF, RS_TIMEOUT, RS_BAD };

static const char *status_name(int st)
{
    switch (st) {
    case RS_OK: return "reply";
    case RS_EOF: return "connection closed";
    case RS_TIMEOUT: return "timeout";
    default: return "invalid RESP";
    }
}

/* Read until one complete reply is buffered.  On RS_OK *flen is its length. */
static int read_frame(sconn_t *c, long timeout_ms, size_t *flen)
{
    int64_t deadline = now_ms() + timeout_ms;
    char tmp[65536];
    for (;;) {
        if (c->in.len) {
            long r = resp_frame(c->in.p, c->in.len, 0);
            if (r > 0) {
                *flen = (size_t)r;
                return RS_OK;
            }
            if (r < 0) return RS_BAD;
        }
        if (c->fd < 0) return RS_EOF;
        int64_t left = deadline - now_ms();
        if (left <= 0) return RS_TIMEOUT;
        struct pollfd pf = {c->fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno != EINTR) return RS_EOF;
        if (pr <= 0) continue;
        ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
        if (n > 0) buf_add(&c->in, tmp, (size_t)n);
        else if (n == 0) return RS_EOF;
        else if (errno != EINTR && errno != EAGAIN) return RS_EOF;
    }
}

/* ====================================================================== */
/* Script execution                                                       */

typedef struct {
    int sort, ignore, noreply;
    int have_re;
    regex_t re;
    char *re_src;
} mods_t;

typedef struct {
    const char *path;
    const char *base;
    int line;
    int started, aborted, any_command;
    args_t server_args;
    long timeout_ms, raw_wait_ms;
    client_t *clients, *cur;
    mods_t mods;
    int failures_at_start;
} ctx_t;

typedef struct {
    int st;
    buf_t raw;    /* complete reply (RS_OK) or whatever partial bytes arrived */
    int closed;   /* :raw only */
} outcome_t;

static void mods_clear(mods_t *m)
{
    if (m->have_re) regfree(&m->re);
    free(m->re_src);
    memset(m, 0, sizeof(*m));
}

static int mods_any(const mods_t *m) { return m->sort || m->ignore || m->noreply || m->have_re; }

static void script_error(ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void script_error(ctx_t *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_t d = {0};
    buf_addf(&d, "%s:%d script error: %s", x->base, x->line, msg);
    for (size_t i = 0; i < d.len; i++)
        if (d.p[i] == '#') d.p[i] = '%';
    tap_point(0, d.p);
    buf_free(&d);
    mods_clear(&x->mods);
}

/* A test name: "file:line CMD args", printable and without '#'. */
static void make_desc(ctx_t *x, buf_t *d, const char *prefix, const args_t *a)
{
    buf_addf(d, "%s:%d ", x->base, x->line);
    size_t start = d->len;
    if (prefix) buf_adds(d, prefix);
    for (int i = 0; a && i < a->n; i++) {
        if (d->len > start) buf_addc(d, ' ');
        int plain = a->l[i] > 0;
        for (size_t j = 0; j < a->l[i]; j++) {
            unsigned char c = (unsigned char)a->v[i][j];
            if (c <= 32 || c >= 127 || c == '"' || c == '\'' || c == '\\' || c == '#') plain = 0;
        }
        if (plain) buf_add(d, a->v[i], a->l[i]);
        else escape_bytes(d, a->v[i], a->l[i], DESC_MAX);
        if (d->len - start > DESC_MAX) break;
    }
    if (d->len - start > DESC_MAX) {
        d->len = start + DESC_MAX;
        d->p[d->len] = '\0';
        buf_adds(d, "...");
    }
    for (size_t i = start; i < d->len; i++)
        if (d->p[i] == '#') d->p[i] = '%';
}

static void client_close(client_t *c)
{
    for (int i = 0; i < NSIDES; i++) {
        if (c->s[i].fd >= 0) close(c->s[i].fd);
        c->s[i].fd = -1;
        buf_clear(&c->s[i].in);
    }
    for (int i = c->pend_head; i < c->npend; i++) free(c->pend[i].desc);
    c->npend = c->pend_head = 0;
    c->broken = 0;
}

static client_t *client_find(ctx_t *x, const char *name)
{
    for (client_t *c = x->clients; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    client_t *c = xrealloc(NULL, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->name = xstrdup(name);
    for (int i = 0; i < NSIDES; i++) c->s[i].fd = -1;
    c->next = x->clients;
    x->clients = c;
    return c;
}

static void clients_free(ctx_t *x)
{
    client_t *c = x->clients;
    while (c) {
        client_t *next = c->next;
        client_close(c);
        for (int i = 0; i < NSIDES; i++) buf_free(&c->s[i].in);
        free(c->pend);
        free(c->name);
        free(c);
        c = next;
    }
    x->clients = x->cur = NULL;
}

/* Report servers that died; aborts the rest of the file.  Returns 1 if so. */
static int check_servers(ctx_t *x)
{
    int dead = 0;
    for (int i = 0; i < NSIDES; i++) {
        if (!x->started || !server_dead(&srv[i])) continue;
        char st[128], d[256];
        describe_status(&srv[i], st, sizeof(st));
        snprintf(d, sizeof(d), "%s:%d %s is alive", x->base, x->line, srv[i].label);
        tap_point(0, d);
        diag("%s (%s) exited unexpectedly: %s; skipping the rest of %s", srv[i].label,
             srv[i].path, st, x->base);
        log_tail(&srv[i]);
        srv[i].pid = 0;
        dead = 1;
    }
    if (dead) x->aborted = 1;
    return dead;
}

static int start_servers(ctx_t *x)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    for (int i = 0; i < NSIDES; i++) {
        snprintf(srv[i].dir, sizeof(srv[i].dir), "%s/sluice-diff-%s.XXXXXX", tmpdir, srv[i].label);
        if (!mkdtemp(srv[i].dir)) {
            buf_t d = {0};
            buf_addf(&d, "%s: start servers", x->base);
            tap_point(0, d.p);
            buf_free(&d);
            diag("mkdtemp(%s): %s", srv[i].dir, strerror(errno));
            srv[i].dir[0] = '\0';
            return -1;
        }
        sig_dirs[i][0] = '\0';
        snprintf(sig_logs[i], sizeof(sig_logs[i]), "%s/server.log", srv[i].dir);
        memcpy(sig_dirs[i], srv[i].dir, sizeof(sig_dirs[i]));
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        int ok = 1;
        for (int i = 0; i < NSIDES; i++) {
            if (srv[i].pid > 0 && !server_dead(&srv[i])) continue;
            if (spawn_server(&srv[i], i, &x->server_args, i ? srv[0].port : -1) != 0) ok = 0;
        }
        int64_t deadline = now_ms() + START_TIMEOUT_MS;
        for (int i = 0; i < NSIDES && ok; i++)
            if (wait_ready(&srv[i], deadline) != 0) ok = 0;
        if (ok) {
            x->started = 1;
            return 0;
        }
        /* Retry only if a server exited (e.g. lost a race for its port). */
        int retry = 0;
        for (int i = 0; i < NSIDES; i++)
            if (srv[i].pid > 0 && server_dead(&srv[i])) retry = 1;
        if (!retry || attempt == 2) break;
    }
    buf_t d = {0};
    buf_addf(&d, "%s: start servers", x->base);
    tap_point(0, d.p);
    buf_free(&d);
    for (int i = 0; i < NSIDES; i++) {
        char st[128] = "still running but not answering PING";
        if (server_dead(&srv[i])) describe_status(&srv[i], st, sizeof(st));
        diag("%s (%s, port %d): %s", srv[i].label, srv[i].path, srv[i].port, st);
        log_tail(&srv[i]);
    }
    return -1;
}

static int need_servers(ctx_t *x)
{
    x->any_command = 1;
    if (x->aborted) return -1;
    if (x->started) return 0;
    if (start_servers(x) != 0) {
        x->aborted = 1;
        return -1;
    }
    return 0;
}

/* Make sure the current client is connected on both sides. */
static int client_ready(ctx_t *x, client_t *c)
{
    if (c->broken) {
        client_close(c);
        if (getenv("SLUICE_DIFF_VERBOSE")) diag("reopening connection '%s'", c->name);
    }
    for (int i = 0; i < NSIDES; i++) {
        if (c->s[i].fd >= 0) continue;
        c->s[i].fd = connect_port(srv[i].port);
        if (c->s[i].fd < 0) {
            buf_t d = {0};
            buf_addf(&d, "%s:%d connect '%s' to %s", x->base, x->line, c->name, srv[i].label);
            tap_point(0, d.p);
            buf_free(&d);
            diag("connect to 127.0.0.1:%d: %s", srv[i].port, strerror(errno));
            client_close(c);
            check_servers(x);
            return -1;
        }
    }
    return 0;
}

static void show_reply(const char *label, const outcome_t *o, const char *suffix)
{
    buf_t e = {0};
    if (o->st == RS_OK || o->raw.len) escape_bytes(&e, o->raw.p, o->raw.len, DIAG_MAX_BYTES);
    if (o->st != RS_OK) {
        if (e.len) buf_adds(&e, " ");
        buf_addf(&e, "[%s]", status_name(o->st));
    }
    diag("%-8s%s %s", label, suffix, buf_str(&e));
    buf_free(&e);
}

static int regex_matches(regex_t *re, const char *p, size_t n)
{
#ifdef REG_STARTEND
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    return regexec(re, p ? p : "", 1, m, REG_STARTEND) == 0;
#else
    (void)n;
    return regexec(re, p ? p : "", 0, NULL, 0) == 0;
#endif
}

/* Compare the two outcomes of one request and emit the test point. */
static void judge(ctx_t *x, client_t *c, const char *desc, outcome_t *o,
                  const legit_diff *rule, mods_t *m)
{
    int verbose = env_true("SLUICE_DIFF_VERBOSE");
    int transport_ok = 1, same_eof = 0;
    for (int i = 0; i < NSIDES; i++)
        if (o[i].st != RS_OK) transport_ok = 0;
    if (!transport_ok) {
        c->broken = 1; /* resynchronise: replies may still be in flight */
        same_eof = o[0].st == RS_EOF && o[1].st == RS_EOF && o[0].raw.len == 0 &&
                   o[1].raw.len == 0;
        if (!same_eof || m->have_re) {
            tap_point(0, desc);
            diag("%s:%d: no complete reply from %s", x->base, x->line,
                 o[0].st != RS_OK ? (o[1].st != RS_OK ? "either server" : srv[0].label)
                                 : srv[1].label);
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
            check_servers(x);
            return;
        }
        if (m->ignore) return;
        tap_point(1, desc);
        if (verbose) diag("both servers closed the connection without a reply");
        return;
    }
    if (m->ignore) {
        if (verbose)
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], " (ignored)");
        return;
    }
    buf_t norm[NSIDES] = {{0}};
    int changed = 0;
    /* :match sees the raw bytes (sorted if asked), never masked ones */
    for (int i = 0; i < NSIDES; i++)
        changed |= normalize(o[i].raw.p, o[i].raw.len, m->have_re ? NULL : rule, m->sort,
                             &norm[i]);
    int ok;
    if (m->have_re) {
        int mt[NSIDES];
        ok = 1;
        for (int i = 0; i < NSIDES; i++) {
            mt[i] = regex_matches(&m->re, norm[i].p, norm[i].len);
            ok &= mt[i];
        }
        tap_point(ok, desc);
        if (!ok) {
            diag("%s:%d: reply does not match /%s/ on %s", x->base, x->line, m->re_src,
                 mt[0] ? srv[1].label : mt[1] ? srv[0].label : "either server");
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
        }
    } else {
        ok = norm[0].len == norm[1].len && memcmp(norm[0].p, norm[1].p, norm[0].len) == 0;
        tap_point(ok, desc);
        if (!ok) {
            size_t k = 0;
            while (k < norm[0].len && k < norm[1].len && norm[0].p[k] == norm[1].p[k]) k++;
            diag("%s:%d: replies differ (first difference at byte %zu%s)", x->base, x->line, k,
                 changed ? " of the normalized replies" : "");
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
            if (changed)
                for (int i = 0; i < NSIDES; i++) {
                    outcome_t t = {RS_OK, norm[i], 0};
                    show_reply(srv[i].label, &t, " (normalized)");
                }
        }
    }
    if (ok && verbose) show_reply("reply", &o[1], "");
    for (int i = 0; i < NSIDES; i++) buf_free(&norm[i]);
}

static void outcomes_free(outcome_t *o)
{
    for (int i = 0; i < NSIDES; i++) buf_free(&o[i].raw);
}

/* Read one reply from both sides of c (the first may already be buffered). */
static void read_both(ctx_t *x, client_t *c, outcome_t *o)
{
    for (int i = 0; i < NSIDES; i++) {
        size_t fl = 0;
        memset(&o[i], 0, sizeof(o[i]));
        o[i].st = read_frame(&c->s[i], x->timeout_ms, &fl);
        if (o[i].st == RS_OK) {
            buf_add(&o[i].raw, c->s[i].in.p, fl);
            buf_consume(&c->s[i].in, fl);
        } else {
            buf_add(&o[i].raw, c->s[i].in.p, c->s[i].in.len);
            buf_clear(&c->s[i].in);
        }
    }
}

static void encode_command(const args_t *a, buf_t *out)
{
    buf_addf(out, "*%d\r\n", a->n);
    for (int i = 0; i < a->n; i++) {
        buf_addf(out, "$%zu\r\n", a->l[i]);
        buf_add(out, a->v[i], a->l[i]);
        buf_adds(out, "\r\n");
    }
}

/* Send `req` on both sides; a failed send is recorded as RS_EOF in o. */
static void send_both(client_t *c, const buf_t *req, outcome_t *o)
{
    for (int i = 0; i < NSIDES; i++) {
        memset(&o[i], 0, sizeof(o[i]));
        if (send_all(c->s[i].fd, req->p, req->len) != 0) o[i].st = RS_EOF;
    }
}

/* Run one command (or a directive that behaves like one, e.g. :resp3). */
static void run_command(ctx_t *x, const args_t *a, const char *prefix)
{
    mods_t m = x->mods;
    memset(&x->mods, 0, sizeof(x->mods));
    if (need_servers(x) != 0) goto out;
    client_t *c = x->cur;
    if (client_ready(x, c) != 0) goto out;
    buf_t desc = {0};
    make_desc(x, &desc, prefix, a);
    if (c->npend > c->pend_head && !m.noreply) {
        x->mods = m;
        script_error(x, "'%s' has unread replies of :noreply commands; :read them first",
                     c->name);
        memset(&m, 0, sizeof(m));
        buf_free(&desc);
        goto out;
    }
    const legit_diff *rule = find_rule(a);
    buf_t req = {0};
    encode_command(a, &req);
    outcome_t o[NSIDES];
    send_both(c, &req, o);
    buf_free(&req);
    if (m.noreply && o[0].st == RS_OK && o[1].st == RS_OK) {
        c->pend = xrealloc(c->pend, sizeof(pending_t) * (size_t)(c->npend + 1));
        c->pend[c->npend].desc = xstrdup(desc.p);
        c->pend[c->npend].rule = rule;
        c->npend++;
        buf_free(&desc);
        goto out;
    }
    if (o[0].st == RS_OK && o[1].st == RS_OK) read_both(x, c, o);
    judge(x, c, desc.p, o, rule, &m);
    outcomes_free(o);
    buf_free(&desc);
out:
    mods_clear(&m);
}

static void run_read(ctx_t *x)
{
    mods_t m = x->mods;
    memset(&x->mods, 0, sizeof(x->mods));
    if (need_servers(x) != 0) goto out;
    client_t *c = x->cur;
    if (c->npend <= c->pend_head) {
        x->mods = m;
        memset(&m, 0, sizeof(m));
        script_error(x, ":read without a pending :noreply command on '%s'", c->name);
        goto out;
    }
    pending_t p = c->pend[c->pend_head++];
    if (c->pend_head == c->npend) c->pend_head = c->npend = 0;
    buf_t desc = {0};
    make_desc(x, &desc, ":read", NULL);
    buf_adds(&desc, " of ");
    buf_adds(&desc, p.desc); /* "file:line CMD" of the :noreply command */
    outcome_t o[NSIDES];
    read_both(x, c, o);
    judge(x, c, desc.p, o, p.rule, &m);
    outcomes_free(o);
    buf_free(&desc);
    free(p.desc);
out:
    mods_clear(&m);
}

/* Done with a side of a :raw read? */
typedef struct {
    int done;
    int64_t last; /* time of last activity */
} rawstate_t;

static int raw_complete(const buf_t *b)
{
    size_t off = 0;
    while (off < b->len) {
        long r = resp_frame(b->p + off, b->len - off, 0);
        if (r == 0) return 0;
        if (r < 0) return 1; /* garbage: nothing better will come */
        off += (size_t)r;
    }
    return 1;
}

static void run_raw(ctx_t *x, const args_t *a)
{
    mods_t m = x->mods;
    memset(&x->mods, 0, sizeof(x->mods));
    if (m.sort || m.noreply) {
        x->mods = m;
        memset(&m, 0, sizeof(m));
        script_error(x, ":sort and :noreply do not apply to :raw");
        goto out;
    }
    if (need_servers(x) != 0) goto out;
    client_t *c = x->cur;
    if (client_ready(x, c) != 0) goto out;
    if (c->npend > c->pend_head) {
        x->mods = m;
        memset(&m, 0, sizeof(m));
        script_error(x, "'%s' has unread replies of :noreply commands", c->name);
        goto out;
    }
    buf_t req = {0};
    for (int i = 0; i < a->n; i++) buf_add(&req, a->v[i], a->l[i]);
    buf_t desc = {0};
    args_t one = {0};
    args_push(&one, req.p ? req.p : "", req.len);
    make_desc(x, &desc, ":raw", &one);
    args_free(&one);
    outcome_t o[NSIDES];
    send_both(c, &req, o);
    buf_free(&req);
    /* Collect from both sides at once until each one closed, went quiet
     * after complete replies (or after nothing), or timed out mid-reply. */
    rawstate_t rs[NSIDES];
    int64_t start = now_ms();
    for (int i = 0; i < NSIDES; i++) {
        rs[i].done = 0;
        rs[i].last = start;
        o[i].st = RS_OK; /* a failed send still leaves what the peer said */
        buf_add(&o[i].raw, c->s[i].in.p, c->s[i].in.len);
        buf_clear(&c->s[i].in);
    }
    char tmp[65536];
    for (;;) {
        struct pollfd pf[NSIDES];
        int np = 0, idx[NSIDES];
        int64_t now = now_ms(), wake = INT64_MAX;
        for (int i = 0; i < NSIDES; i++) {
            if (rs[i].done) continue;
            int64_t dl = raw_complete(&o[i].raw) ? rs[i].last + x->raw_wait_ms
                                                 : start + x->timeout_ms;
            if (now >= dl) {
                rs[i].done = 1;
                if (!raw_complete(&o[i].raw)) o[i].st = RS_TIMEOUT;
                continue;
            }
            if (dl < wake) wake = dl;
            pf[np].fd = c->s[i].fd;
            pf[np].events = POLLIN;
            pf[np].revents = 0;
            idx[np++] = i;
        }
        if (np == 0) break;
        int pr = poll(pf, (nfds_t)np, (int)(wake - now));
        if (pr <= 0) continue;
        for (int k = 0; k < np; k++) {
            if (!pf[k].revents) continue;
            int i = idx[k];
            ssize_t n = recv(c->s[i].fd, tmp, sizeof(tmp), 0);
            if (n > 0) {
                buf_add(&o[i].raw, tmp, (size_t)n);
                rs[i].last = now_ms();
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                o[i].closed = 1;
                rs[i].done = 1;
            }
        }
    }
    /* Compare bytes + connection state. */
    for (int i = 0; i < NSIDES; i++) {
        if (o[i].closed) c->broken = 1;
        if (o[i].st == RS_EOF) o[i].st = RS_OK; /* closure is part of the outcome */
    }
    int ok = 1;
    if (o[0].st != RS_OK || o[1].st != RS_OK) ok = 0;
    if (ok && !m.ignore) {
        if (m.have_re) {
            for (int i = 0; i < NSIDES; i++)
                ok &= regex_matches(&m.re, o[i].raw.p, o[i].raw.len);
            ok &= o[0].closed == o[1].closed;
        } else {
            ok = o[0].closed == o[1].closed && o[0].raw.len == o[1].raw.len &&
                 memcmp(buf_str(&o[0].raw), buf_str(&o[1].raw), o[0].raw.len) == 0;
        }
    }
    if (!m.ignore || !ok) {
        tap_point(ok, desc.p);
        if (!ok) {
            diag("%s:%d: raw exchange differs%s%s", x->base, x->line,
                 m.have_re ? " or does not match " : "", m.have_re ? m.re_src : "");
            for (int i = 0; i < NSIDES; i++)
                show_reply(srv[i].label, &o[i], o[i].closed ? " [closed]" : " [open]");
            check_servers(x);
        } else if (env_true("SLUICE_DIFF_VERBOSE")) {
            show_reply("reply", &o[1], o[1].closed ? " [closed]" : " [open]");
        }
    }
    if (!ok) c->broken = 1;
    outcomes_free(o);
    buf_free(&desc);
out:
    mods_clear(&m);
}

static void run_flushall(ctx_t *x)
{
    if (mods_any(&x->mods)) {
        script_error(x, "modifiers do not apply to :flushall");
        return;
    }
    if (need_servers(x) != 0) return;
    client_t *c = x->cur;
    if (client_ready(x, c) != 0) return;
    if (c->npend > c->pend_head) {
        script_error(x, "'%s' has unread replies of :noreply commands", c->name);
        return;
    }
    static const char req_s[] = "*1\r\n$8\r\nFLUSHALL\r\n";
    buf_t req = {0};
    buf_adds(&req, req_s);
    outcome_t o[NSIDES];
    send_both(c, &req, o);
    buf_free(&req);
    if (o[0].st == RS_OK && o[1].st == RS_OK) read_both(x, c, o);
    int ok = 1;
    for (int i = 0; i < NSIDES; i++)
        if (o[i].st != RS_OK || o[i].raw.len != 5 || memcmp(o[i].raw.p, "+OK\r\n", 5) != 0) ok = 0;
    if (!ok) {
        buf_t d = {0};
        buf_addf(&d, "%s:%d :flushall", x->base, x->line);
        tap_point(0, d.p);
        buf_free(&d);
        diag("FLUSHALL did not answer +OK on both servers");
        for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
        c->broken = 1;
        check_servers(x);
    }
    outcomes_free(o);
}

/* The argument of ":match": the rest of the line, trimmed.  If it is in
 * double quotes, the quotes are removed and only \r \n \t \" and \xHH are
 * translated; every other backslash sequence (\* \$ \. \\ ...) is kept for
 * the regex.  Returns -1 if empty or if a quote is unbalanced. */
static int regex_arg(const char *line, buf_t *out)
{
    const char *p = line + 1;
    while (*p && !isspace((unsigned char)*p)) p++; /* skip "match" */
    while (*p && isspace((unsigned char)*p)) p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1])) n--;
    if (n == 0) return -1;
    if (p[0] != '"') {
        buf_add(out, p, n);
        return 0;
    }
    size_t i = 1;
    for (; i < n && p[i] != '"'; i++) {
        if (p[i] != '\\' || i + 1 >= n) {
            buf_addc(out, p[i]);
            continue;
        }
        char c = p[++i];
        if (c == 'r') buf_addc(out, '\r');
        else if (c == 'n') buf_addc(out, '\n');
        else if (c == 't') buf_addc(out, '\t');
        else if (c == '"') buf_addc(out, '"');
        else if (c == 'x' && i + 2 < n && hexval((unsigned char)p[i + 1]) >= 0 &&
                 hexval((unsigned char)p[i + 2]) >= 0) {
            buf_addc(out, (char)(hexval((unsigned char)p[i + 1]) * 16 +
                                 hexval((unsigned char)p[i + 2])));
            i += 2;
        } else {
            buf_addc(out, '\\');
            buf_addc(out, c);
        }
    }
    if (i != n - 1) return -1; /* no closing quote, or text after it */
    return out->len ? 0 : -1;
}

static void run_directive(ctx_t *x, const char *line)
{
    args_t a = {0};
    if (split_args(line + 1, &a) != 0) {
        script_error(x, "unbalanced quotes in directive");
        return;
    }
    if (a.n == 0) {
        script_error(x, "empty directive");
        goto out;
    }
    const char *d = a.v[0];
    long ms;
    if (!strcmp(d, "sort") || !strcmp(d, "sort-pairs") || !strcmp(d, "ignore") ||
        !strcmp(d, "noreply")) {
        if (a.n != 1) {
            script_error(x, ":%s takes no arguments", d);
            goto out;
        }
        if (d[0] == 's') x->mods.sort = d[4] ? 2 : 1;
        else if (d[0] == 'i') x->mods.ignore = 1;
        else x->mods.noreply = 1;
    } else if (!strcmp(d, "match")) {
        if (x->mods.have_re) {
            script_error(x, "two :match for one command");
            goto out;
        }
        buf_t re = {0};
        if (regex_arg(line, &re) != 0) {
            buf_free(&re);
            script_error(x, ":match takes one regex (optionally in double quotes)");
            goto out;
        }
        int rc = regcomp(&x->mods.re, buf_str(&re), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char err[256];
            regerror(rc, &x->mods.re, err, sizeof(err));
            buf_free(&re);
            script_error(x, "bad regex: %s", err);
            goto out;
        }
        x->mods.have_re = 1;
        buf_t src = {0};
        escape_bytes(&src, re.p, re.len, 512);
        x->mods.re_src = src.p;
        buf_free(&re);
    } else if (!strcmp(d, "read")) {
        if (a.n != 1) script_error(x, ":read takes no arguments");
        else run_read(x);
    } else if (!strcmp(d, "resp2") || !strcmp(d, "resp3")) {
        if (a.n != 1) {
            script_error(x, ":%s takes no arguments", d);
            goto out;
        }
        args_t h = {0};
        args_push(&h, "HELLO", 5);
        args_push(&h, d[4] == '3' ? "3" : "2", 1);
        run_command(x, &h, d[4] == '3' ? ":resp3" : ":resp2");
        args_free(&h);
    } else if (!strcmp(d, "client")) {
        if (a.n != 2) script_error(x, ":client takes a connection name");
        else if (mods_any(&x->mods)) script_error(x, "modifiers must directly precede a command");
        else x->cur = client_find(x, a.v[1]);
    } else if (!strcmp(d, "reconnect")) {
        if (a.n != 1) script_error(x, ":reconnect takes no arguments");
        else if (mods_any(&x->mods)) script_error(x, "modifiers must directly precede a command");
        else client_close(x->cur);
    } else if (!strcmp(d, "raw")) {
        if (a.n < 2) {
            script_error(x, ":raw needs the bytes to send");
            goto out;
        }
        args_t bytes = {0};
        for (int i = 1; i < a.n; i++) args_push(&bytes, a.v[i], a.l[i]);
        run_raw(x, &bytes);
        args_free(&bytes);
    } else if (!strcmp(d, "flushall")) {
        if (a.n != 1) script_error(x, ":flushall takes no arguments");
        else run_flushall(x);
    } else if (!strcmp(d, "sleep") || !strcmp(d, "timeout") || !strcmp(d, "raw-wait")) {
        if (a.n != 2 || parse_ms(a.v[1], &ms) != 0) {
            script_error(x, ":%s takes a number of milliseconds", d);
            goto out;
        }
        if (d[0] == 's') sleep_ms(ms);
        else if (d[0] == 't') x->timeout_ms = ms;
        else x->raw_wait_ms = ms;
    } else if (!strcmp(d, "server-args")) {
        if (x->any_command || x->started) {
            script_error(x, ":server-args must come before the first command");
            goto out;
        }
        for (int i = 1; i < a.n; i++) args_push(&x->server_args, a.v[i], a.l[i]);
    } else {
        script_error(x, "unknown directive ':%s'", d);
    }
out:
    args_free(&a);
}

static void run_file(const char *path)
{
    ctx_t x;
    memset(&x, 0, sizeof(x));
    x.path = path;
    const char *slash = strrchr(path, '/');
    x.base = slash ? slash + 1 : path;
    x.timeout_ms = env_long("SLUICE_DIFF_TIMEOUT", 5000);
    x.raw_wait_ms = env_long("SLUICE_DIFF_RAW_WAIT", 150);
    x.cur = client_find(&x, "main");
    x.failures_at_start = tap_failures;

    printf("# %s\n", path);
    FILE *f = fopen(path, "r");
    if (!f) {
        buf_t d = {0};
        buf_addf(&d, "%s: open script", x.base);
        tap_point(0, d.p);
        buf_free(&d);
        diag("%s: %s", path, strerror(errno));
        clients_free(&x);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!x.aborted && (len = getline(&line, &cap, f)) >= 0) {
        x.line++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            script_error(&x, "NUL byte in script line");
            continue;
        }
        const char *s = line;
        while (*s && isspace((unsigned char)*s)) s++;
        if (!*s || *s == '#') continue;
        if (*s == ':') {
            run_directive(&x, s);
            continue;
        }
        args_t a = {0};
        if (split_args(s, &a) != 0) {
            script_error(&x, "unbalanced quotes");
            continue;
        }
        run_command(&x, &a, NULL);
        args_free(&a);
    }
    free(line);
    fclose(f);
    if (!x.aborted && mods_any(&x.mods)) script_error(&x, "modifier at end of file without a command");
    mods_clear(&x.mods);
    for (client_t *c = x.clients; c; c = c->next)
        if (c->npend > c->pend_head)
            diag("%s: %d unread :noreply replies on '%s'", x.base, c->npend - c->pend_head,
                 c->name);
    if (x.started && !x.aborted) check_servers(&x);
    clients_free(&x);
    /* Stop both; a crash or a non-zero exit on SIGTERM is a failure. */
    for (int i = 0; i < NSIDES; i++) {
        if (srv[i].pid <= 0) continue;
        int was_dead = srv[i].reaped;
        stop_server(&srv[i]);
        if (!was_dead && srv[i].reaped &&
            !(WIFEXITED(srv[i].status) && WEXITSTATUS(srv[i].status) == 0)) {
            char st[128], d[256];
            describe_status(&srv[i], st, sizeof(st));
            snprintf(d, sizeof(d), "%s: %s shuts down cleanly on SIGTERM", x.base, srv[i].label);
            tap_point(0, d);
            diag("%s: %s", srv[i].label, st);
            log_tail(&srv[i]);
        }
        srv[i].pid = 0;
    }
    if (tap_failures > x.failures_at_start)
        for (int i = 0; i < NSIDES; i++)
            if (srv[i].dir[0] && keep_dirs) diag("%s log: %s/server.log", srv[i].label, srv[i].dir);
    for (int i = 0; i < NSIDES; i++) cleanup_dir(&srv[i]);
    args_free(&x.server_args);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT.redis [SCRIPT.redis ...]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    srv[0].label = "sluice";
    srv[0].path = getenv("SLUICE_SERVER");
    if (!srv[0].path || !*srv[0].path) srv[0].path = "server/sluice-server";
    srv[1].label = "redis";
    srv[1].path = getenv("REDIS_SERVER");
    if (!srv[1].path || !*srv[1].path) srv[1].path = "/usr/bin/redis-server";
    keep_dirs = env_true("SLUICE_DIFF_KEEP");

    if (access(srv[1].path, X_OK) != 0) {
        if (env_true("SLUICE_REQUIRE_REDIS")) {
            printf("Bail out! redis-server not found at %s (SLUICE_REQUIRE_REDIS=1)\n",
                   srv[1].path);
            return 1;
        }
        printf("1..0 # SKIP redis-server not found\n");
        return 0;
    }
    if (access(srv[0].path, X_OK) != 0) {
        printf("Bail out! sluice-server not found at %s (set SLUICE_SERVER)\n", srv[0].path);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(stop_all_atexit);

    for (int i = 1; i < argc; i++) run_file(argv[i]);

    printf("1..%d\n", tap_count);
    if (tap_failures) printf("# %d of %d failed\n", tap_failures, tap_count);
    fflush(stdout);
    return tap_failures ? 1 : 0;
}
