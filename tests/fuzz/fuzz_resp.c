/* fuzz_resp.c - libFuzzer target for the request parser (server/lib/resp.c).
 *
 * The input's first byte configures the parser (bit 7: auth_required; bit
 * 6: proto-max-bulk-len of (bits 0-5) * 1000, else the default 512 MB); the
 * rest is a client byte stream.  It is parsed twice:
 *   1. all at once, as a query buffer holding the whole stream: commands
 *      are consumed one after another until an error or a need for more;
 *   2. as a connection would receive it, in chunks whose sizes come from
 *      the input's first bytes, each read appended to a query buffer that
 *      is reallocated to its exact size (stale pointers and over-reads are
 *      ASan errors), parsing after every read.
 * Checked on every call: `consumed` within the buffer and non-zero, every
 * argument inside the buffer (multibulk) or the parser's own NUL-terminated
 * inline buffer, an error message always set on RESP_ERROR and always one
 * of Redis's protocol error strings.  Below 64 KiB (where the "too big"
 * errors depend on how much is buffered) both passes must produce the same
 * sequence of commands, empty requests and error.  Any violation aborts.
 *
 * Build and run: see tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"
#include "sstr.h"

static const char *const known_errors[] = {
    "Protocol error: invalid multibulk length",
    "Protocol error: invalid bulk length",
    "Protocol error: unauthenticated multibulk length",
    "Protocol error: unauthenticated bulk length",
    "Protocol error: too big inline request",
    "Protocol error: too big mbulk count string",
    "Protocol error: too big bulk count string",
    "Protocol error: unbalanced quotes in request",
};

static void die(const char *why)
{
    fprintf(stderr, "fuzz_resp: %s\n", why);
    abort();
}

static void check_error(const char *e)
{
    if (!e)
        die("RESP_ERROR without a message");
    for (size_t i = 0; i < sizeof(known_errors) / sizeof(known_errors[0]); i++)
        if (strcmp(e, known_errors[i]) == 0)
            return;
    static const char pfx[] = "Protocol error: expected '$', got '";
    size_t n = strlen(e);
    if (n == sizeof(pfx) + 1 && memcmp(e, pfx, sizeof(pfx) - 1) == 0 && e[n - 1] == '\'')
        return;
    die("unknown error message");
}

/* Running digest of a parse: every outcome and argument byte. */
struct digest {
    uint64_t h;
    size_t events;
};

static void dg(struct digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        d->h = (d->h ^ b[i]) * 0x100000001b3ULL;
}

static void record(struct digest *d, const struct resp_parser *p, enum resp_result r, const char *buf, size_t len,
                   size_t consumed)
{
    d->events++;
    int ri = (int)r;
    dg(d, &ri, sizeof(ri));
    if (r == RESP_ERROR) {
        check_error(p->error);
        dg(d, p->error, strlen(p->error));
        return;
    }
    if (consumed == 0 || consumed > len)
        die("consumed out of range");
    if (r == RESP_EMPTY)
        return;
    if (p->argc <= 0)
        die("command without arguments");
    dg(d, &p->argc, sizeof(p->argc));
    for (int i = 0; i < p->argc; i++) {
        const struct arg *a = &p->argv[i];
        int in_inline = p->inline_buf && a->ptr >= p->inline_buf &&
                        a->ptr + a->len <= p->inline_buf + sstr_len(p->inline_buf);
        if (in_inline) {
            if (a->ptr[a->len] != '\0')
                die("inline argument not NUL-terminated");
        } else if (!(a->ptr >= buf && a->ptr + a->len <= buf + consumed)) {
            die("argument outside the request");
        }
        dg(d, &a->len, sizeof(a->len));
        dg(d, a->ptr, a->len);
    }
}

static void configure(struct resp_parser *p, unsigned c)
{
    resp_parser_init(p);
    p->auth_required = (c & 0x80) != 0;
    if (c & 0x40)
        p->max_bulk_len = (long long)(c & 0x3f) * 1000; /* small limits, including 0 */
}

/* Pass 1: the whole stream in one buffer. */
static struct digest parse_whole(unsigned cfg, const uint8_t *data, size_t size)
{
    struct digest d = {0xcbf29ce484222325ULL, 0};
    struct resp_parser p;
    configure(&p, cfg);
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    size_t off = 0;
    while (off < size) {
        size_t consumed = 0;
        enum resp_result r = resp_parse(&p, buf + off, size - off, &consumed);
        if (r == RESP_NEED_MORE)
            break;
        record(&d, &p, r, buf + off, size - off, consumed);
        if (r == RESP_ERROR)
            break;
        off += consumed;
    }
    free(buf);
    resp_parser_free(&p);
    return d;
}

/* Pass 2: chunked reads into an exact-size, reallocated query buffer. */
static struct digest parse_chunked(unsigned cfg, const uint8_t *data, size_t size)
{
    struct digest d = {0xcbf29ce484222325ULL, 0};
    struct resp_parser p;
    configure(&p, cfg);
    char *qb = NULL;
    size_t qlen = 0, fed = 0, k = 0;
    int stop = 0;
    while (fed < size && !stop) {
        /* chunk sizes 1..16 from the stream's first 8 bytes, cycled; the
         * big-bulk hint (resp_bulk_remaining) may stretch a read */
        size_t n = (size_t)(data[k % (size < 8 ? size : 8)] & 15) + 1;
        k++;
        size_t hint = resp_bulk_remaining(&p, qlen);
        if (hint > n && (k & 1))
            n = hint;
        if (n > size - fed)
            n = size - fed;
        char *nq = malloc(qlen + n);
        if (qlen)
            memcpy(nq, qb, qlen);
        memcpy(nq + qlen, data + fed, n);
        free(qb);
        qb = nq;
        qlen += n;
        fed += n;
        while (qlen > 0) {
            size_t consumed = 0;
            enum resp_result r = resp_parse(&p, qb, qlen, &consumed);
            if (r == RESP_NEED_MORE) {
                if (p.error)
                    die("error set on RESP_NEED_MORE");
                break;
            }
            record(&d, &p, r, qb, qlen, consumed);
            if (r == RESP_ERROR) {
                stop = 1;
                break;
            }
            memmove(qb, qb + consumed, qlen - consumed);
            qlen -= consumed;
        }
    }
    free(qb);
    resp_parser_free(&p);
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    unsigned cfg = data[0];
    data++;
    size--;
    struct digest a = parse_whole(cfg, data, size);
    struct digest b = parse_chunked(cfg, data, size);
    if (size <= RESP_INLINE_MAX_SIZE && (a.h != b.h || a.events != b.events))
        die("whole and chunked parses differ");
    return 0;
}
