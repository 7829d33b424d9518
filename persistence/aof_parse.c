/* aof_parse.c - see aof_parse.h.
 *
 * The parser is restartable rather than incremental: after NEED_MORE the
 * caller passes the same start again with more bytes, and the command's
 * few header lines are scanned again.  That costs nothing next to reading
 * the arguments, and keeps the state machine out of the fuzzer's way.
 */
#include "aof_parse.h"

#include <stdio.h>
#include <string.h>

#include "mem.h"

void aof_parser_init(struct aof_parser *p) { memset(p, 0, sizeof(*p)); }

void aof_parser_free(struct aof_parser *p)
{
    mem_free(p->argv);
    memset(p, 0, sizeof(*p));
}

static enum aofp_result fail(struct aof_parser *p, size_t at, const char *fmt, int ch)
{
    p->error_at = at;
    snprintf(p->error, sizeof(p->error), fmt, ch);
    return AOFP_ERROR;
}

/* A "<c><digits>\r\n" line at buf[*pos]: the number, or -1 with the result
 * in *res (NEED_MORE or ERROR). */
static long long parse_len_line(struct aof_parser *p, const char *buf, size_t len, size_t *pos, char type,
                                long long max, enum aofp_result *res)
{
    size_t i = *pos;
    if (i >= len) {
        *res = AOFP_NEED_MORE;
        return -1;
    }
    if (buf[i] != type) {
        *res = fail(p, i, type == '*' ? "Expected '*', got byte 0x%02x" : "Expected '$', got byte 0x%02x",
                    (unsigned char)buf[i]);
        return -1;
    }
    i++;
    long long v = 0;
    size_t digits = 0;
    for (;; i++) {
        if (i >= len) {
            *res = AOFP_NEED_MORE;
            return -1;
        }
        char ch = buf[i];
        if (ch >= '0' && ch <= '9') {
            if (digits == 19 || (v = v * 10 + (ch - '0')) > max) {
                *res = fail(p, i, "Length out of range (digit '%c')", ch);
                return -1;
            }
            digits++;
            continue;
        }
        if (ch == '\r' && digits > 0)
            break;
        *res = fail(p, i, "Expected a length digit, got byte 0x%02x", (unsigned char)ch);
        return -1;
    }
    if (i + 1 >= len) {
        *res = AOFP_NEED_MORE;
        return -1;
    }
    if (buf[i + 1] != '\n') {
        *res = fail(p, i + 1, "Expected \\n after a length, got byte 0x%02x", (unsigned char)buf[i + 1]);
        return -1;
    }
    *pos = i + 2;
    return v;
}

enum aofp_result aof_parse_next(struct aof_parser *p, const char *buf, size_t len, size_t *consumed)
{
    p->argc = 0;
    p->error[0] = '\0';
    if (len == 0)
        return AOFP_NEED_MORE;
    if (buf[0] == '#') {
        const char *nl = memchr(buf, '\n', len);
        if (!nl)
            return AOFP_NEED_MORE;
        *consumed = (size_t)(nl - buf) + 1;
        return AOFP_ANNOTATION;
    }
    enum aofp_result res = AOFP_ERROR;
    size_t pos = 0;
    long long argc = parse_len_line(p, buf, len, &pos, '*', 0x7fffffff, &res);
    if (argc < 0)
        return res;
    if (argc == 0)
        return fail(p, 1, "A command needs at least one argument (got *%d)", 0);
    for (long long j = 0; j < argc; j++) {
        long long blen = parse_len_line(p, buf, len, &pos, '$', AOFP_MAX_BULK, &res);
        if (blen < 0)
            return res;
        if ((unsigned long long)(len - pos) < (unsigned long long)blen + 2)
            return AOFP_NEED_MORE;
        if (buf[pos + blen] != '\r' || buf[pos + blen + 1] != '\n')
            return fail(p, pos + (size_t)blen, "Expected \\r\\n after an argument, got byte 0x%02x",
                        (unsigned char)buf[pos + blen + (buf[pos + blen] == '\r')]);
        /* argv grows with the arguments actually present, so a huge argc
         * in a short (or hostile) file allocates nothing */
        if (p->argc == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 8;
            p->argv = mem_realloc(p->argv, sizeof(struct arg) * (size_t)p->cap);
        }
        p->argv[p->argc].ptr = buf + pos;
        p->argv[p->argc].len = (size_t)blen;
        p->argc++;
        pos += (size_t)blen + 2;
    }
    *consumed = pos;
    return AOFP_COMMAND;
}

static int arg_is_word(const struct arg *a, const char *w)
{
    size_t n = strlen(w);
    if (a->len != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char ch = a->ptr[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != w[i])
            return 0;
    }
    return 1;
}

static long long count_lines(const char *buf, size_t upto)
{
    long long lines = 1;
    if (upto == 0)
        return lines;
    for (const char *q = buf, *end = buf + upto; (q = memchr(q, '\n', (size_t)(end - q))) != NULL; q++)
        lines++;
    return lines;
}

void aof_scan(const char *buf, size_t len, struct aof_scan_result *r)
{
    struct aof_parser p;
    aof_parser_init(&p);
    memset(r, 0, sizeof(*r));
    size_t pos = 0, multi_at = 0;
    int in_multi = 0;
    long long cmds = 0, cmds_before_multi = 0;
    r->status = AOF_SCAN_OK;
    while (pos < len) {
        size_t used = 0;
        enum aofp_result res = aof_parse_next(&p, buf + pos, len - pos, &used);
        if (res == AOFP_NEED_MORE) {
            r->status = AOF_SCAN_TRUNCATED;
            break;
        }
        if (res == AOFP_ERROR) {
            r->status = AOF_SCAN_FORMAT;
            r->error_at = pos + p.error_at;
            memcpy(r->error, p.error, sizeof(r->error));
            break;
        }
        if (res == AOFP_COMMAND) {
            if (arg_is_word(&p.argv[0], "multi")) {
                if (in_multi) {
                    r->status = AOF_SCAN_FORMAT;
                    r->error_at = pos;
                    snprintf(r->error, sizeof(r->error), "Unexpected MULTI inside a transaction");
                    break;
                }
                in_multi = 1;
                multi_at = pos;
                cmds_before_multi = cmds;
            } else if (arg_is_word(&p.argv[0], "exec")) {
                if (!in_multi) {
                    r->status = AOF_SCAN_FORMAT;
                    r->error_at = pos;
                    snprintf(r->error, sizeof(r->error), "Unexpected EXEC without MULTI");
                    break;
                }
                in_multi = 0;
            }
            cmds++;
        }
        pos += used;
        if (!in_multi) {
            r->valid_up_to = pos;
            r->commands = cmds;
        }
    }
    if (in_multi) {
        /* the transaction never completed: it is dropped whole, whatever
         * stopped the scan (EOF, a torn command, or corruption inside) */
        r->valid_up_to = multi_at;
        r->commands = cmds_before_multi;
        if (r->status != AOF_SCAN_FORMAT)
            r->status = AOF_SCAN_OPEN_MULTI;
    }
    r->line = count_lines(buf, r->valid_up_to);
    aof_parser_free(&p);
}
