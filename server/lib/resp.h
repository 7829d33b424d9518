/* resp.h - incremental parser for client requests (RESP multibulk and the
 * inline/telnet form), independent of sockets and clients.
 *
 * The parser is fed the unconsumed part of a query buffer.  It remembers
 * how far it got, so a command that arrives in many small reads is scanned
 * once, not once per read.  A finished multibulk command's arguments point
 * straight into the caller's buffer (no copy, no allocation per argument);
 * an inline command's arguments are unquoted into a buffer the parser owns.
 *
 * Errors carry Redis's exact messages ("Protocol error: ..."); after an
 * error the connection must be closed once the error reply is sent.
 */
#ifndef SLUICE_RESP_H
#define SLUICE_RESP_H

#include <stddef.h>

#include "sstr.h"

struct arg {
    const char *ptr;
    size_t len;
};

/* Limits Redis enforces while parsing. */
#define RESP_INLINE_MAX_SIZE (1024 * 64)
#define RESP_MBULK_BIG_ARG (1024 * 32)

enum resp_result {
    RESP_COMMAND,   /* a whole command is ready in argv/argc */
    RESP_EMPTY,     /* a complete but empty request (blank line, *0, *-1): consumed, nothing to run */
    RESP_NEED_MORE, /* the buffer ends mid-command */
    RESP_ERROR,     /* protocol error: message in resp_error() */
};

struct resp_parser {
    /* configuration */
    long long max_bulk_len;   /* proto-max-bulk-len */
    int auth_required;        /* unauthenticated: stricter limits, as Redis */
    /* progress inside the current multibulk request */
    int inline_request;
    long multibulk_left;      /* arguments still to read; 0 = not started */
    long long bulk_len;       /* -1 when the next thing is a $<len> line */
    size_t pos;               /* bytes of the buffer consumed by this request so far */
    /* the parsed command */
    int argc, argv_cap;
    struct arg *argv;
    size_t *arg_off;          /* offsets into the buffer (stable across reallocs) */
    sstr inline_buf;          /* unquoted inline arguments */
    struct split_args *split; /* scratch for inline splitting */
    const char *error;
};

void resp_parser_init(struct resp_parser *p);
void resp_parser_free(struct resp_parser *p);

/* Parse the next request from buf[0..len).  On RESP_COMMAND and RESP_EMPTY
 * `*consumed` is the request's size; the caller drops those bytes (or
 * advances past them) and calls again for the next request.  After
 * RESP_NEED_MORE call again with the same start and more bytes. */
enum resp_result resp_parse(struct resp_parser *p, const char *buf, size_t len, size_t *consumed);

/* Bytes the parser still needs before it can make progress on a large
 * bulk argument (0 when unknown): lets the reader size its next read. */
size_t resp_bulk_remaining(const struct resp_parser *p, size_t buffered);

/* Split a line into arguments like redis-cli and Redis's inline protocol
 * (sdssplitargs).  Unquoted arguments are appended to *out, each followed
 * by a NUL; their offsets and lengths go to `r`.  Returns argc, or -1 on
 * unbalanced quotes.  Also used for redis.conf lines. */
struct split_args {
    int argc, cap;
    size_t *off, *len;
};
int resp_split_args(const char *line, size_t len, sstr *out, struct split_args *r);
void split_args_free(struct split_args *r);

/* Append a command in the request form (*argc, then $len bulks), as the
 * AOF and the replication stream carry it. */
sstr resp_cat_command(sstr out, int argc, const struct arg *argv);
/* Append SELECT dbid in the same form. */
sstr resp_cat_select(sstr out, int dbid);

#endif
