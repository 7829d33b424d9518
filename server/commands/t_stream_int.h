/* t_stream_int.h - internals shared by the stream modules:
 *
 *   t_stream_store.c  the value: entries in the queue log, trimming,
 *                     deletion, Redis node emulation (XINFO, `~` trimming)
 *   t_stream_cg.c     consumer groups, consumers and pending-entries lists
 *   t_stream_idmp.c   idempotent producers (XADD IDMP/IDMPAUTO)
 *   t_stream.c        XADD XRANGE XREVRANGE XLEN XDEL XTRIM XSETID XREAD
 *                     XREADGROUP (and blocking) XCFGSET XIDMPRECORD
 *   t_stream_group.c  XGROUP XACK XPENDING XCLAIM XAUTOCLAIM
 *   t_stream_info.c   XINFO
 *
 * Nothing outside t_stream*.c includes this header; other modules use
 * stream.h.
 */
#ifndef SLUICE_T_STREAM_INT_H
#define SLUICE_T_STREAM_INT_H

#include "idtree.h"
#include "list.h"
#include "qlog.h"
#include "sstr.h"
#include "stream.h"

/* Entry flags: the first byte of every entry in the log. */
#define SE_DELETED 1    /* tombstone: skipped by readers, counted by the segment */
#define SE_SAMEFIELDS 2 /* field names are the segment's master fields */

/* A pending entry: shared by the group's PEL and its owner's PEL. */
struct stream_nack {
    long long delivery_time;
    uint64_t delivery_count;
    struct stream_consumer *consumer;
};

struct stream_consumer {
    sstr name;
    long long seen_time;
    idtree *pel; /* id -> struct stream_nack (owned by the group's PEL) */
};

struct stream_cg {
    sstr name;
    streamID last_id;
    long long entries_read;
    idtree *pel; /* id -> struct stream_nack */
    struct stream_consumer **consumers; /* sorted by name */
    size_t nconsumers, capconsumers;
};

struct stream_idmp;

struct stream {
    qlog *log;
    uint64_t length; /* live entries (the log also holds tombstones) */
    streamID last_id, first_id, max_deleted_id;
    uint64_t entries_added;
    struct stream_cg **groups; /* sorted by name */
    size_t ngroups, capgroups;
    struct stream_idmp *idmp; /* NULL until IDMP/IDMPAUTO/XCFGSET is used */
    /* Redis's node size for the tail segment (see t_stream_store.c): the
     * listpack bytes its entries would take, cached for tail_key */
    qlog_key tail_key;
    int tail_known;
    size_t tail_entry_bytes;
    /* clients blocked in XREADGROUP on this stream (struct stream_waiter),
     * told when the stream goes away under them */
    struct list_head waiters;
};

struct client;
struct stream_waiter {
    struct list_node node;
    stream *s;   /* the stream waited on; NULL once it is freed */
    int gone;    /* it was freed: what replaced it is still to be seen */
    void *owner; /* the command module's block state */
};
/* Called (when set) for each waiter of a stream being freed, after it was
 * unlinked: the command module decides, once the command that freed it is
 * over, whether the key is gone (Redis's -UNBLOCKED) or holds another
 * stream.  Unset in programs without clients (RDB tools). */
extern void (*stream_waiter_gone)(struct stream_waiter *w);

/* ---- IDs ------------------------------------------------------------------- */

static inline int sid_cmp(const streamID *a, const streamID *b) { return idkey_cmp(a, b); }
static inline int sid_is_zero(const streamID *id) { return !id->ms && !id->seq; }
int sid_incr(streamID *id); /* 0, or -1 when it wrapped from the maximum */
int sid_decr(streamID *id); /* 0, or -1 when it wrapped from 0-0 */
int sid_format(char *buf, const streamID *id); /* "ms-seq"; buf >= 42 bytes */

/* ---- store (t_stream_store.c) -------------------------------------------------- */

stream *stream_new(void);
void stream_free(stream *s);
stream *stream_dup(const stream *s);

/* The last live entry's ID (0-0 when empty). */
void stream_last_valid_id(stream *s, streamID *id);
/* First live entry's ID, or max ID when empty (Redis's streamGetEdgeID). */
void stream_first_valid_id(stream *s, streamID *id);
/* The first entry's ID, tombstones included (0-0 when empty). */
void stream_first_entry_id(stream *s, streamID *id);
int stream_entry_exists(stream *s, const streamID *id);
/* XDEL one entry: 1 if it was there. */
int stream_delete_entry(stream *s, const streamID *id);

/* Would appending an entry with these elements open a new segment?  And
 * is one element too large for a segment at all (Redis: ERANGE)? */
int stream_elements_too_large(uint64_t numfields, const size_t *fvlen);

enum { TRIM_NONE = 0, TRIM_MAXLEN = 1, TRIM_MINID = 2 };
struct stream_trim {
    int strategy;
    int approx;
    long long limit; /* 0: no limit */
    long long maxlen;
    streamID minid;
};
long long stream_trim(stream *s, const struct stream_trim *t);

/* Redis's node counts for XINFO STREAM. */
size_t stream_node_count(const stream *s);
size_t stream_rax_nodes(stream *s);
size_t stream_mem_usage(const stream *s);

/* ---- consumer groups (t_stream_cg.c) ------------------------------------------- */

void stream_cg_free(struct stream_cg *g);
struct stream_cg *stream_cg_dup(const struct stream_cg *g);
int stream_group_destroy(stream *s, const char *name, size_t len);
struct stream_nack *stream_nack_new(struct stream_consumer *c, long long now);
/* Removes a pending entry from the group and its owner; frees it. */
void stream_pel_remove(struct stream_cg *g, const streamID *id, struct stream_nack *n);
/* Deletes a consumer and its pending entries; returns how many it had. */
size_t stream_consumer_delete(struct stream_cg *g, struct stream_consumer *c);
long long stream_estimate_entries_read(const stream *s, const streamID *id);
int stream_range_has_tombstones(const stream *s, const streamID *start, const streamID *end);
/* The group's lag: 0 when Redis reports it as null. */
int stream_cg_lag(const stream *s, const struct stream_cg *g, long long *lag);
size_t stream_cg_mem_usage(const struct stream_cg *g);

/* ---- idempotency (t_stream_idmp.c) ------------------------------------------------ */

void stream_idmp_free(struct stream_idmp *m);
struct stream_idmp *stream_idmp_dup(const struct stream_idmp *m);
size_t stream_idmp_mem_usage(const struct stream_idmp *m);
/* The iid IDMPAUTO derives from the field-value pairs (order-insensitive). */
void stream_idmp_auto_iid(uint64_t numfields, const char *const *fv, const size_t *fvlen, unsigned char out[16]);
/* A pair seen within the window: 1 and the original entry's ID (counted
 * as a duplicate when count_duplicate). */
int stream_idmp_lookup(stream *s, const char *pid, size_t pidlen, const char *iid, size_t iidlen, long long now,
                       streamID *id, int count_duplicate);
void stream_idmp_record(stream *s, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                        const streamID *id, long long now);
/* XCFGSET: -1 keeps a value; clears the pairs when a value changes. */
void stream_idmp_configure(stream *s, long long duration, long long maxsize);

/* ---- shared by the command modules --------------------------------------------------- */

struct client;
struct arg;

#define RWR_NOACK 1      /* deliver without creating pending entries */
#define RWR_RAWENTRIES 2 /* no array header: just the entries */
#define RWR_HISTORY 4    /* serve the consumer's own pending entries */

/* Where the records of a group read go (Redis's streamPropInfo). */
struct stream_prop {
    const struct arg *key, *group;
};

void stream_reply_id(struct client *c, const streamID *id);
/* Redis's streamGenericParseIDOrReply: "-"/"+" unless strict, "ms" (seq =
 * missing_seq), "ms-seq", "ms-*" when seq_given is not NULL.  Replies the
 * error and returns -1 when invalid. */
int stream_parse_id(struct client *c, const struct arg *a, streamID *id, uint64_t missing_seq, int strict,
                    int *seq_given);
/* A range bound, with "(" for exclusive (exclude may be NULL). */
int stream_parse_interval(struct client *c, const struct arg *a, streamID *id, int *exclude, uint64_t missing_seq);
/* Redis's streamReplyWithRange: replies entries in [start, end] (count 0:
 * all); with a group, delivers them (PEL, last-delivered-id, entries-read)
 * and records XCLAIM / XGROUP SETID for AOF and replicas when prop is set. */
size_t stream_reply_range(struct client *c, stream *s, const streamID *start, const streamID *end, size_t count,
                          int rev, struct stream_cg *g, struct stream_consumer *consumer, int flags,
                          const struct stream_prop *prop);
void stream_propagate_xclaim(struct client *c, const struct arg *key, const struct stream_cg *g,
                             const struct arg *group, const char *id, size_t idlen, const struct stream_nack *n);
void stream_propagate_group_id(struct client *c, const struct arg *key, const struct stream_cg *g,
                               const struct arg *group);
/* -1 (WRONGTYPE replied) when v is there and not a stream. */
struct value;
int stream_check_type(struct client *c, struct value *v);

/* t_stream_info.c */
void xinfo_help_command(struct client *c);
void xinfo_consumers_command(struct client *c);
void xinfo_groups_command(struct client *c);
void xinfo_stream_command(struct client *c);

/* t_stream_group.c */
void xgroup_command(struct client *c);
void xack_command(struct client *c);
void xpending_command(struct client *c);
void xclaim_command(struct client *c);
void xautoclaim_command(struct client *c);

#endif
