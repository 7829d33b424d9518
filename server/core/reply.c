/* reply.c - RESP2/RESP3 encoding into the client's output chain. */
#include "reply.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"
#include "server.h"
#include "util.h"

const char *const ERR_WRONGTYPE = "-WRONGTYPE Operation against a key holding the wrong kind of value";
const char *const ERR_SYNTAX = "syntax error";
const char *const ERR_NOT_INTEGER = "value is not an integer or out of range";
const char *const ERR_NOT_FLOAT = "value is not a valid float";
const char *const ERR_NO_SUCH_KEY = "no such key";
const char *const ERR_OUT_OF_RANGE = "index out of range";
const char *const ERR_OVERFLOW = "increment or decrement would overflow";

/* Whether output for this client should be produced at all; schedules the
 * client for writing on its first reply of this iteration. */
static int prepare_to_write(struct client *c)
{
    if (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP |
                    CLIENT_LOADING_CLIENT))
        return 0;
    if (c->fd < 0)
        return 0;
    if ((c->flags & (CLIENT_MASTER | CLIENT_MASTER_FORCE_REPLY)) == CLIENT_MASTER)
        return 0; /* the master's stream is applied, never answered (but for ACKs) */
    if (!(c->flags & (CLIENT_PENDING_WRITE | CLIENT_GATE_HELD))) {
        c->flags |= CLIENT_PENDING_WRITE;
        list_add_tail(&srv.pending_writes, &c->pending_node);
    }
    return 1;
}

static struct reply_block *new_block(struct client *c, size_t min)
{
    /* a whole block is 16 KiB, header included: one allocator size class
     * (16 KiB of data plus the header would take a 20 KiB one) */
    size_t chunk = REPLY_CHUNK_BYTES - sizeof(struct reply_block);
    size_t size = min > chunk ? min : chunk;
    struct reply_block *b = mem_alloc(sizeof(*b) + size);
    b->size = mem_usable(b) - sizeof(*b);
    b->used = 0;
    b->deferred = 0;
    b->next = NULL;
    if (c->reply_tail)
        c->reply_tail->next = b;
    else
        c->reply_head = b;
    c->reply_tail = b;
    return b;
}

static void append(struct client *c, const char *p, size_t len)
{
    struct reply_block *b = c->reply_tail;
    if (b && !b->deferred) {
        size_t room = b->size - b->used;
        if (len <= room) {
            memcpy(b->buf + b->used, p, len);
            b->used += len;
            c->reply_bytes += len;
            return;
        }
        memcpy(b->buf + b->used, p, room);
        b->used += room;
        c->reply_bytes += room;
        p += room;
        len -= room;
    }
    b = new_block(c, len);
    memcpy(b->buf, p, len);
    b->used = len;
    c->reply_bytes += len;
}

void reply_raw(struct client *c, const char *p, size_t len)
{
    if (prepare_to_write(c))
        append(c, p, len);
}

void reply_free_chain(struct client *c)
{
    struct reply_block *b = c->reply_head;
    while (b) {
        struct reply_block *next = b->next;
        mem_free(b);
        b = next;
    }
    c->reply_head = c->reply_tail = NULL;
    c->reply_bytes = 0;
    c->sent_in_head = 0;
}

void reply_ok(struct client *c) { reply_raw(c, "+OK\r\n", 5); }

void reply_status_len(struct client *c, const char *s, size_t len)
{
    if (!prepare_to_write(c))
        return;
    append(c, "+", 1);
    append(c, s, len);
    append(c, "\r\n", 2);
}

void reply_status(struct client *c, const char *s) { reply_status_len(c, s, strlen(s)); }

void reply_error_len(struct client *c, const char *msg, size_t len)
{
    /* statistics count every error, even for clients with replies off */
    const char *code = msg;
    size_t codelen;
    if (len && msg[0] == '-') {
        code = msg + 1;
        const char *sp = memchr(code, ' ', len - 1);
        codelen = sp ? (size_t)(sp - code) : len - 1;
    } else {
        code = "ERR";
        codelen = 3;
    }
    stats_count_error(code, codelen);
    if (!prepare_to_write(c))
        return;
    if (!len || msg[0] != '-')
        append(c, "-ERR ", 5);
    /* newlines would break the protocol; Redis maps them to spaces */
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (msg[i] == '\r' || msg[i] == '\n') {
            append(c, msg + start, i - start);
            append(c, " ", 1);
            start = i + 1;
        }
    }
    append(c, msg + start, len - start);
    append(c, "\r\n", 2);
}

void reply_error(struct client *c, const char *msg) { reply_error_len(c, msg, strlen(msg)); }

void reply_errorf(struct client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sstr s = sstr_catvfmt(sstr_empty(64), fmt, ap);
    va_end(ap);
    reply_error_len(c, s, sstr_len(s));
    sstr_free(s);
}

static void header(struct client *c, char prefix, long long n)
{
    char buf[32];
    buf[0] = prefix;
    int len = ll2string(buf + 1, sizeof(buf) - 3, n);
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    append(c, buf, (size_t)len + 3);
}

void reply_int(struct client *c, long long v)
{
    if (!prepare_to_write(c))
        return;
    if (v == 0) {
        append(c, ":0\r\n", 4);
    } else if (v == 1) {
        append(c, ":1\r\n", 4);
    } else {
        header(c, ':', v);
    }
}

void reply_bulk(struct client *c, const void *p, size_t len)
{
    if (!prepare_to_write(c))
        return;
    char buf[32 + 64];
    buf[0] = '$';
    int n = ll2string(buf + 1, 24, (long long)len) + 1;
    buf[n++] = '\r';
    buf[n++] = '\n';
    if (len <= 64) {
        /* small payloads: one copy of header, data and trailer */
        memcpy(buf + n, p, len);
        n += (int)len;
        buf[n++] = '\r';
        buf[n++] = '\n';
        append(c, buf, (size_t)n);
        return;
    }
    append(c, buf, (size_t)n);
    append(c, p, len);
    append(c, "\r\n", 2);
}

void reply_bulk_cstr(struct client *c, const char *s)
{
    if (!s)
        reply_null(c);
    else
        reply_bulk(c, s, strlen(s));
}

void reply_bulk_sstr(struct client *c, sstr s) { reply_bulk(c, s, sstr_len(s)); }

void reply_bulk_ll(struct client *c, long long v)
{
    char buf[32];
    int n = ll2string(buf, sizeof(buf), v);
    reply_bulk(c, buf, (size_t)n);
}

void reply_null(struct client *c)
{
    if (c->resp >= 3)
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "$-1\r\n", 5);
}

void reply_null_array(struct client *c)
{
    if (c->resp >= 3)
        reply_raw(c, "_\r\n", 3);
    else
        reply_raw(c, "*-1\r\n", 5);
}

void reply_array_len(struct client *c, long n)
{
    if (prepare_to_write(c))
        header(c, '*', n);
}

void reply_map_len(struct client *c, long n)
{
    if (prepare_to_write(c))
        header(c, c->resp >= 3 ? '%' : '*', c->resp >= 3 ? n : 2 * n);
}

void reply_set_len(struct client *c, long n)
{
    if (prepare_to_write(c))
        header(c, c->resp >= 3 ? '~' : '*', n);
}

void reply_push_len(struct client *c, long n)
{
    if (prepare_to_write(c))
        header(c, c->resp >= 3 ? '>' : '*', n);
}

void reply_double(struct client *c, double d)
{
    char buf[64];
    int n = d2string(buf, sizeof(buf), d);
    if (c->resp >= 3) {
        if (!prepare_to_write(c))
            return;
        append(c, ",", 1);
        append(c, buf, (size_t)n);
        append(c, "\r\n", 2);
    } else {
        reply_bulk(c, buf, (size_t)n);
    }
}

void reply_bool(struct client *c, int b)
{
    if (c->resp >= 3)
        reply_raw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else
        reply_int(c, b ? 1 : 0);
}

void reply_verbatim(struct client *c, const char *p, size_t len, const char *ext)
{
    if (c->resp < 3) {
        reply_bulk(c, p, len);
        return;
    }
    if (!prepare_to_write(c))
        return;
    header(c, '=', (long long)len + 4);
    append(c, ext, 3);
    append(c, ":", 1);
    append(c, p, len);
    append(c, "\r\n", 2);
}

void reply_help(struct client *c, const char *const *lines)
{
    /* Redis prints the command as the client spelled it, upper-cased */
    char name[64];
    int nlen = c->argc ? (int)(c->argv[0].len < sizeof(name) - 1 ? c->argv[0].len : sizeof(name) - 1) : 0;
    memcpy(name, c->argc ? c->argv[0].ptr : "", (size_t)nlen);
    name[nlen] = '\0';
    size_t n = 0;
    while (lines[n])
        n++;
    char first[256];
    int len = snprintf(first, sizeof(first), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", name);
    for (int i = 0; i < len && first[i] != ' '; i++)
        first[i] = (char)toupper((unsigned char)first[i]);
    reply_array_len(c, (long)n + 3);
    reply_status_len(c, first, (size_t)len);
    for (size_t i = 0; i < n; i++)
        reply_status(c, lines[i]);
    reply_status(c, "HELP");
    reply_status(c, "    Prints this help.");
}

void reply_subcommand_syntax_error(struct client *c)
{
    char cmd[64];
    int n = (int)(c->argv[0].len < sizeof(cmd) - 1 ? c->argv[0].len : sizeof(cmd) - 1);
    snprintf(cmd, sizeof(cmd), "%.*s", n, c->argv[0].ptr);
    for (char *p = cmd; *p; p++)
        *p = (char)toupper((unsigned char)*p);
    int len = c->argv[1].len > 128 ? 128 : (int)c->argv[1].len;
    reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.", len,
                 c->argv[1].ptr, cmd);
}

void *reply_defer_len(struct client *c)
{
    if (!prepare_to_write(c))
        return NULL;
    struct reply_block *b = mem_alloc(sizeof(*b) + 32);
    b->size = 32;
    b->used = 0;
    b->deferred = 1;
    b->next = NULL;
    if (c->reply_tail)
        c->reply_tail->next = b;
    else
        c->reply_head = b;
    c->reply_tail = b;
    return b;
}

static void set_deferred(struct client *c, void *handle, char prefix, long n)
{
    struct reply_block *b = handle;
    if (!b)
        return;
    assert(b->deferred && b->used == 0);
    char buf[32];
    buf[0] = prefix;
    int len = ll2string(buf + 1, sizeof(buf) - 3, n);
    buf[len + 1] = '\r';
    buf[len + 2] = '\n';
    memcpy(b->buf, buf, (size_t)len + 3);
    b->used = (size_t)len + 3;
    b->deferred = 0;
    c->reply_bytes += b->used;
}

void reply_set_deferred_array(struct client *c, void *h, long n) { set_deferred(c, h, '*', n); }
void reply_set_deferred_map(struct client *c, void *h, long n)
{
    set_deferred(c, h, c->resp >= 3 ? '%' : '*', c->resp >= 3 ? n : 2 * n);
}
void reply_set_deferred_set(struct client *c, void *h, long n) { set_deferred(c, h, c->resp >= 3 ? '~' : '*', n); }
