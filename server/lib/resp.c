/* resp.c - request parsing; see resp.h.
 *
 * Behaviour follows Redis 7.0's processMultibulkBuffer/processInlineBuffer
 * to the byte, including its quirks: line ends are found with a search for
 * '\r' that stops at a NUL byte, the byte after '\r' is not checked to be
 * '\n', and a multibulk count <= 0 is an empty request.
 */
#include "resp.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "util.h"

void resp_parser_init(struct resp_parser *p)
{
    memset(p, 0, sizeof(*p));
    p->max_bulk_len = 512LL * 1024 * 1024;
    p->bulk_len = -1;
}

void resp_parser_free(struct resp_parser *p)
{
    mem_free(p->argv);
    mem_free(p->arg_off);
    sstr_free(p->inline_buf);
    if (p->split) {
        split_args_free(p->split);
        mem_free(p->split);
        p->split = NULL;
    }
    p->argv = NULL;
    p->arg_off = NULL;
    p->inline_buf = NULL;
}

static void reset_request(struct resp_parser *p)
{
    p->inline_request = 0;
    p->multibulk_left = 0;
    p->bulk_len = -1;
    p->pos = 0;
}

static void ensure_argv(struct resp_parser *p, int n)
{
    if (n <= p->argv_cap)
        return;
    int cap = p->argv_cap ? p->argv_cap : 8;
    while (cap < n)
        cap *= 2;
    p->argv = mem_realloc(p->argv, sizeof(*p->argv) * (size_t)cap);
    p->arg_off = mem_realloc(p->arg_off, sizeof(*p->arg_off) * (size_t)cap);
    p->argv_cap = cap;
}

/* strchr(start, c) on a buffer that is not NUL-terminated: NULL at the
 * first NUL or at the end, as Redis's strchr on its sds would. */
static const char *find_byte(const char *start, const char *end, char c)
{
    for (const char *q = start; q < end; q++) {
        if (*q == c)
            return q;
        if (*q == '\0')
            return NULL;
    }
    return NULL;
}

static enum resp_result fail(struct resp_parser *p, const char *msg)
{
    p->error = msg;
    reset_request(p);
    p->argc = 0;
    return RESP_ERROR;
}

static enum resp_result parse_inline(struct resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    const char *end = buf + len;
    const char *nl = find_byte(buf, end, '\n');
    if (!nl) {
        if (len > RESP_INLINE_MAX_SIZE)
            return fail(p, "Protocol error: too big inline request");
        return RESP_NEED_MORE;
    }
    size_t linefeed = 1;
    if (nl != buf && nl[-1] == '\r') {
        nl--;
        linefeed++;
    }
    size_t linelen = (size_t)(nl - buf);
    if (!p->inline_buf)
        p->inline_buf = sstr_empty(64);
    if (!p->split)
        p->split = mem_calloc(sizeof(*p->split));
    sstr_clear(p->inline_buf);
    int argc = resp_split_args(buf, linelen, &p->inline_buf, p->split);
    if (argc < 0)
        return fail(p, "Protocol error: unbalanced quotes in request");
    *consumed = linelen + linefeed;
    reset_request(p);
    ensure_argv(p, argc);
    p->argc = argc;
    for (int i = 0; i < argc; i++) {
        p->argv[i].ptr = p->inline_buf + p->split->off[i];
        p->argv[i].len = p->split->len[i];
    }
    return argc ? RESP_COMMAND : RESP_EMPTY;
}

static enum resp_result parse_multibulk(struct resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    const char *end = buf + len;

    if (p->multibulk_left == 0) {
        /* the "*<count>\r\n" line */
        const char *cr = find_byte(buf + p->pos, end, '\r');
        if (!cr) {
            if (len - p->pos > RESP_INLINE_MAX_SIZE)
                return fail(p, "Protocol error: too big mbulk count string");
            return RESP_NEED_MORE;
        }
        if (cr + 1 >= end) /* need the byte after \r too */
            return RESP_NEED_MORE;
        long long n;
        const char *digits = buf + p->pos + 1;
        int ok = string2ll(digits, (size_t)(cr - digits), &n);
        if (!ok || n > INT_MAX)
            return fail(p, "Protocol error: invalid multibulk length");
        if (n > 10 && p->auth_required)
            return fail(p, "Protocol error: unauthenticated multibulk length");
        p->pos = (size_t)(cr - buf) + 2;
        if (n <= 0) {
            *consumed = p->pos;
            reset_request(p);
            p->argc = 0;
            return RESP_EMPTY;
        }
        p->multibulk_left = (long)n;
        p->argc = 0;
        /* don't trust a huge count for preallocation: grow as args arrive */
        ensure_argv(p, n < 1024 ? (int)n : 1024);
    }

    while (p->multibulk_left) {
        if (p->bulk_len == -1) {
            const char *start = buf + p->pos;
            const char *cr = find_byte(start, end, '\r');
            if (!cr) {
                if ((size_t)(end - start) > RESP_INLINE_MAX_SIZE)
                    return fail(p, "Protocol error: too big bulk count string");
                return RESP_NEED_MORE;
            }
            if (cr + 1 >= end)
                return RESP_NEED_MORE;
            if (start[0] != '$') {
                static char msg[64];
                snprintf(msg, sizeof(msg), "Protocol error: expected '$', got '%c'", start[0]);
                return fail(p, msg);
            }
            long long n;
            int ok = string2ll(start + 1, (size_t)(cr - start - 1), &n);
            if (!ok || n < 0 || n > p->max_bulk_len)
                return fail(p, "Protocol error: invalid bulk length");
            if (n > 16384 && p->auth_required)
                return fail(p, "Protocol error: unauthenticated bulk length");
            p->pos = (size_t)(cr - buf) + 2;
            p->bulk_len = n;
        }
        /* the argument bytes plus \r\n */
        if (len - p->pos < (size_t)p->bulk_len + 2)
            return RESP_NEED_MORE;
        ensure_argv(p, p->argc + 1);
        p->arg_off[p->argc] = p->pos;
        p->argv[p->argc].len = (size_t)p->bulk_len;
        p->argc++;
        p->pos += (size_t)p->bulk_len + 2;
        p->bulk_len = -1;
        p->multibulk_left--;
    }
    for (int i = 0; i < p->argc; i++)
        p->argv[i].ptr = buf + p->arg_off[i];
    *consumed = p->pos;
    reset_request(p);
    return RESP_COMMAND;
}

enum resp_result resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *consumed)
{
    p->error = NULL;
    if (len == 0)
        return RESP_NEED_MORE;
    if (p->multibulk_left == 0 && p->pos == 0)
        p->inline_request = buf[0] != '*';
    if (p->inline_request)
        return parse_inline(p, buf, len, consumed);
    return parse_multibulk(p, buf, len, consumed);
}

size_t resp_bulk_remaining(const struct resp_parser *p, size_t buffered)
{
    if (p->inline_request || p->multibulk_left == 0 || p->bulk_len < RESP_MBULK_BIG_ARG)
        return 0;
    size_t need = p->pos + (size_t)p->bulk_len + 2;
    return need > buffered ? need - buffered : 0;
}

static int hex_digit_value(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return 0;
}

/* Port of the sdssplitargs grammar: spaces separate, "..." with C escapes
 * and \xHH, '...' with only \' escaped; a closing quote must be followed by
 * a space or the end of the line. */
void split_args_free(struct split_args *r)
{
    mem_free(r->off);
    mem_free(r->len);
    r->off = r->len = NULL;
    r->argc = r->cap = 0;
}

int resp_split_args(const char *line, size_t len, sstr *out, struct split_args *r)
{
    const char *p = line, *end = line + len;
    int argc = 0;
    r->argc = 0;
    for (;;) {
        while (p < end && isspace((unsigned char)*p))
            p++;
        if (p >= end)
            return argc;
        int inq = 0, insq = 0, done = 0;
        size_t start = sstr_len(*out);
        while (!done) {
            if (inq) {
                if (p >= end)
                    return -1;
                if (*p == '\\' && p + 3 < end && p[1] == 'x' && isxdigit((unsigned char)p[2]) &&
                    isxdigit((unsigned char)p[3])) {
                    char b = (char)(hex_digit_value(p[2]) * 16 + hex_digit_value(p[3]));
                    *out = sstr_cat(*out, &b, 1);
                    p += 3;
                } else if (*p == '\\' && p + 1 < end) {
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
                    *out = sstr_cat(*out, &c, 1);
                } else if (*p == '"') {
                    if (p + 1 < end && !isspace((unsigned char)p[1]))
                        return -1;
                    done = 1;
                } else {
                    *out = sstr_cat(*out, p, 1);
                }
            } else if (insq) {
                if (p >= end)
                    return -1;
                if (*p == '\\' && p + 1 < end && p[1] == '\'') {
                    p++;
                    *out = sstr_cat(*out, "'", 1);
                } else if (*p == '\'') {
                    if (p + 1 < end && !isspace((unsigned char)p[1]))
                        return -1;
                    done = 1;
                } else {
                    *out = sstr_cat(*out, p, 1);
                }
            } else {
                if (p >= end)
                    break;
                switch (*p) {
                case ' ':
                case '\n':
                case '\r':
                case '\t':
                case '\0':
                    done = 1;
                    break;
                case '"': inq = 1; break;
                case '\'': insq = 1; break;
                default: *out = sstr_cat(*out, p, 1); break;
                }
            }
            if (p < end)
                p++;
        }
        if (argc + 1 > r->cap) {
            int ncap = r->cap ? r->cap * 2 : 8;
            r->off = mem_realloc(r->off, sizeof(*r->off) * (size_t)ncap);
            r->len = mem_realloc(r->len, sizeof(*r->len) * (size_t)ncap);
            r->cap = ncap;
        }
        r->off[argc] = start;
        r->len[argc] = sstr_len(*out) - start;
        *out = sstr_cat(*out, "", 1); /* NUL separator keeps each arg a C string */
        r->argc = ++argc;
    }
}

/* ---- writing commands ---- */

static sstr cat_header(sstr out, char type, long long n)
{
    char hdr[32];
    hdr[0] = type;
    int len = ll2string(hdr + 1, sizeof(hdr) - 3, n);
    hdr[len + 1] = '\r';
    hdr[len + 2] = '\n';
    return sstr_cat(out, hdr, (size_t)len + 3);
}

sstr resp_cat_command(sstr out, int argc, const struct arg *argv)
{
    size_t need = 16;
    for (int i = 0; i < argc; i++)
        need += argv[i].len + 24;
    out = sstr_reserve(out, need);
    out = cat_header(out, '*', argc);
    for (int i = 0; i < argc; i++) {
        out = cat_header(out, '$', (long long)argv[i].len);
        out = sstr_cat(out, argv[i].ptr, argv[i].len);
        out = sstr_cat(out, "\r\n", 2);
    }
    return out;
}

sstr resp_cat_select(sstr out, int dbid)
{
    char num[16];
    int n = ll2string(num, sizeof(num), dbid);
    struct arg argv[2] = {{"SELECT", 6}, {num, (size_t)n}};
    return resp_cat_command(out, 2, argv);
}
