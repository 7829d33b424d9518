/* reply.h - building replies for a client, in RESP2 or RESP3.
 *
 * Replies are appended to the client's output chain (blocks of 16 KiB) and
 * written to the socket once per event-loop iteration, so a pipeline of N
 * commands costs one write().  Aggregate lengths that are only known at the
 * end (filtered SCAN, KEYS...) are reserved with reply_defer_len() and
 * filled in later.  Types RESP2 lacks degrade as Redis degrades them: map
 * to a flat array, set to array, double to bulk string, boolean to integer,
 * null to the null bulk (or null array where Redis sends *-1).
 */
#ifndef SLUICE_REPLY_H
#define SLUICE_REPLY_H

#include <stddef.h>

#include "sstr.h"

struct client;

struct reply_block {
    struct reply_block *next;
    size_t size, used;
    int deferred; /* a reserved header slot: nothing may be appended after it */
    char buf[];
};

void reply_raw(struct client *c, const char *p, size_t len);
void reply_ok(struct client *c);
void reply_status(struct client *c, const char *status);
void reply_status_len(struct client *c, const char *status, size_t len);
/* An error.  "msg" without a leading '-' gets "-ERR "; "-CODE rest" is sent
 * as given.  CR/LF inside are turned into spaces. */
void reply_error(struct client *c, const char *msg);
void reply_error_len(struct client *c, const char *msg, size_t len);
void reply_errorf(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void reply_int(struct client *c, long long v);
void reply_bulk(struct client *c, const void *p, size_t len);
void reply_bulk_cstr(struct client *c, const char *s); /* NULL -> null */
void reply_bulk_ll(struct client *c, long long v);
void reply_bulk_sstr(struct client *c, sstr s);
void reply_null(struct client *c);       /* $-1 / _ */
void reply_null_array(struct client *c); /* *-1 / _ */
void reply_array_len(struct client *c, long n);
void reply_map_len(struct client *c, long n);
void reply_set_len(struct client *c, long n);
void reply_push_len(struct client *c, long n);
void reply_double(struct client *c, double d);
void reply_bool(struct client *c, int b);
void reply_verbatim(struct client *c, const char *p, size_t len, const char *ext);
/* HELP replies: lines are status strings, ending with HELP's own line. */
void reply_help(struct client *c, const char *const *lines);
/* Generic "unknown subcommand" error for container commands. */
void reply_subcommand_syntax_error(struct client *c);

void *reply_defer_len(struct client *c);
void reply_set_deferred_array(struct client *c, void *handle, long n);
void reply_set_deferred_map(struct client *c, void *handle, long n);
void reply_set_deferred_set(struct client *c, void *handle, long n);

/* Shared error strings (Redis 7.0's text). */
extern const char *const ERR_WRONGTYPE;
extern const char *const ERR_SYNTAX;
extern const char *const ERR_NOT_INTEGER;
extern const char *const ERR_NOT_FLOAT;
extern const char *const ERR_NO_SUCH_KEY;
extern const char *const ERR_OUT_OF_RANGE;
extern const char *const ERR_OVERFLOW;

void reply_free_chain(struct client *c);

#endif
