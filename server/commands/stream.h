/* stream.h - the stream value, as other modules see it.
 *
 * A stream is an append-only log of entries (an ID and field-value pairs)
 * kept in the queue log (qlog.h), plus the state Redis 7.0 keeps beside the
 * entries: last generated ID, recorded first ID, maximal deleted ID and the
 * count of entries ever added; consumer groups with their last-delivered
 * ID, entries-read counter, pending-entries list (PEL) and consumers; and,
 * for Redis 8.6's idempotent producers (XADD IDMP/IDMPAUTO), the
 * idempotency configuration, counters and the recent (producer, iid) pairs.
 * All of it lives in the value, so whatever copies or saves the value
 * (COPY, RENAME, MOVE, RDB, AOF rewrite) carries all of it.
 *
 * This header is what persistence needs to write a stream out (iterate the
 * entries, groups, PELs, consumers and idempotency state) and to build one
 * back (append entries with their IDs, set the metadata, create groups,
 * consumers and PEL entries, restore idempotency records), in Redis's RDB
 * terms.  Everything else is private to t_stream*.c.
 */
#ifndef SLUICE_STREAM_H
#define SLUICE_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "idtree.h"
#include "qlog.h"

typedef struct idkey streamID;
typedef struct stream stream;
typedef struct stream_cg stream_cg;
typedef struct stream_consumer stream_consumer;

/* A group whose entries-read counter is unknown (Redis's
 * SCG_INVALID_ENTRIES_READ). */
#define STREAM_ENTRIES_READ_INVALID (-1LL)

struct value;

/* ---- the value ------------------------------------------------------------ */

void stream_type_init(void);       /* registers OBJ_STREAM's value_ops */
struct value *stream_value_new(void);
static inline stream *stream_of(const struct value *v);

/* ---- metadata --------------------------------------------------------------- */

struct stream_meta {
    uint64_t length;
    streamID last_id;        /* last-generated-id */
    streamID first_id;       /* recorded-first-entry-id */
    streamID max_deleted_id; /* max-deleted-entry-id */
    uint64_t entries_added;
};
void stream_get_meta(const stream *s, struct stream_meta *m);
/* For loading: length is ignored (it follows the appended entries). */
void stream_set_meta(stream *s, const struct stream_meta *m);

/* ---- entries ------------------------------------------------------------------- */

/* Iterates entries in [start, end] (NULL: unbounded), forward or reversed,
 * skipping deleted ones.  Field and value pointers stay valid until the
 * next call on the iterator; the stream must not change meanwhile. */
typedef struct stream_iter {
    stream *s;
    qlog_iter it;
    int rev, started;
    streamID start, end;
    /* the current segment and its master fields */
    qlog_key segkey;
    int have_seg;
    uint64_t master_count;
    const unsigned char *master_fields, *mf_cursor;
    /* the current entry */
    const unsigned char *p, *pend;
    unsigned flags;
    uint64_t nfields;
    size_t seg_index; /* the entry's index in its segment */
} stream_iter;

void stream_iter_start(stream_iter *si, stream *s, const streamID *start, const streamID *end, int rev);
int stream_iter_next(stream_iter *si, streamID *id, uint64_t *numfields);
void stream_iter_field(stream_iter *si, const char **field, size_t *flen, const char **value, size_t *vlen);

/* Appends an entry with an ID greater than every ID so far (loading and
 * XADD); fv holds 2*numfields strings.  Returns 0, or -1 when the ID is not
 * greater than the last ID. */
int stream_append(stream *s, const streamID *id, uint64_t numfields, const char *const *fv, const size_t *fvlen);

/* ---- consumer groups ------------------------------------------------------------- */

/* Groups and consumers are kept in name order (as Redis's radix trees). */
size_t stream_group_count(const stream *s);
stream_cg *stream_group_at(const stream *s, size_t i);
stream_cg *stream_group_lookup(const stream *s, const char *name, size_t len);
/* NULL when a group of that name exists. */
stream_cg *stream_group_create(stream *s, const char *name, size_t len, const streamID *last_id,
                               long long entries_read);
const char *stream_group_name(const stream_cg *g, size_t *len);
void stream_group_state(const stream_cg *g, streamID *last_id, long long *entries_read);

size_t stream_consumer_count(const stream_cg *g);
stream_consumer *stream_consumer_at(const stream_cg *g, size_t i);
stream_consumer *stream_consumer_lookup(const stream_cg *g, const char *name, size_t len);
/* Creates it (seen time: seen_ms) or returns the existing one. */
stream_consumer *stream_consumer_get(stream_cg *g, const char *name, size_t len, long long seen_ms);
const char *stream_consumer_name(const stream_consumer *c, size_t *len);
long long stream_consumer_seen_time(const stream_consumer *c);
void stream_consumer_set_seen_time(stream_consumer *c, long long ms);

/* PEL iteration: the group's PEL (consumer NULL) or one consumer's. */
typedef struct stream_pel_iter {
    idtree_iter it;
} stream_pel_iter;
size_t stream_pel_count(const stream_cg *g, const stream_consumer *c);
void stream_pel_rewind(stream_pel_iter *pi, const stream_cg *g, const stream_consumer *c);
int stream_pel_next(stream_pel_iter *pi, streamID *id, long long *delivery_time, uint64_t *delivery_count,
                    stream_consumer **owner);
/* Loading: adds a pending entry owned by consumer (which must belong to g).
 * Returns 0, or -1 when the ID is already pending. */
int stream_pel_add(stream_cg *g, stream_consumer *c, const streamID *id, long long delivery_time,
                   uint64_t delivery_count);

/* ---- idempotent producers (Redis 8.6: XADD IDMP/IDMPAUTO, XCFGSET) ------------ */

#define STREAM_IDMP_DEFAULT_DURATION 100 /* seconds */
#define STREAM_IDMP_DEFAULT_MAXSIZE 100  /* iids per producer */
#define STREAM_IDMP_MAX_DURATION 86400   /* XCFGSET's bounds; files are held to them too */
#define STREAM_IDMP_MAX_MAXSIZE 10000

struct stream_idmp_info {
    int enabled;        /* ever configured or used: XINFO shows the fields */
    long long duration; /* seconds */
    long long maxsize;
    uint64_t pids_tracked, iids_tracked;
    uint64_t iids_added, iids_duplicates; /* lifetime counters */
};
void stream_idmp_get_info(stream *s, struct stream_idmp_info *info);
/* Loading: configuration and lifetime counters. */
void stream_idmp_set_info(stream *s, const struct stream_idmp_info *info);

/* Visits every tracked (producer, iid) pair, oldest first per producer. */
typedef void stream_idmp_visit_fn(void *priv, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                                  const streamID *id, long long added_ms);
void stream_idmp_foreach(stream *s, stream_idmp_visit_fn *fn, void *priv);
/* Loading (and XIDMPRECORD): records a pair as added at added_ms. */
void stream_idmp_restore(stream *s, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                         const streamID *id, long long added_ms);

/* ---- inline ---------------------------------------------------------------------- */

#include "object.h"
static inline stream *stream_of(const struct value *v) { return (stream *)v->u.ptr; }

#endif
