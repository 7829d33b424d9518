/* qlog.h - the queue log: Sluice's one storage structure for lists and streams.
 *
 * A queue log is a sequence of entries (byte strings) kept in packed
 * segments of a few KiB under a counted B+tree index.  Pushing and popping
 * at either end is O(1) amortized; access, insertion and deletion by
 * position are O(log n) to find the segment plus a walk inside it.
 * Strings that are canonical decimal integers are stored as integers and
 * come back either as an integer (qlog_value.is_int) or, through
 * qlog_value_bytes(), as the very same decimal string.
 *
 * Segment size follows Redis's list-max-listpack-size ("fill"): -1..-5 caps
 * a segment at 4/8/16/32/64 KiB, a positive value caps its entry count
 * (with an 8 KiB safety cap, as in Redis).  An entry bigger than the cap
 * gets a segment of its own.
 *
 * Keyed logs (streams): their segments are made by the caller, with
 * qlog_push_tail_keyed(), and carry a 128-bit first key and an auxiliary
 * blob chosen by the caller; qlog never splits nor merges them, so entries
 * may be encoded relative to their segment's key and aux.  Segment keys
 * must be strictly increasing; qlog_iter_init_key() finds a key's segment
 * in O(log n).  On keyed logs qlog_push_head() and qlog_insert() are not
 * allowed, and qlog_push_tail() needs a tail segment to append to.
 *
 * Values and iterators point into the log: they stay valid until the log is
 * next modified, except through the iterator's own qlog_iter_delete() and
 * qlog_iter_set_aux().  Values popped are copies.
 * Positions are 0-based; functions taking a position also accept negative
 * ones, counted from the tail (-1 is the last entry), as Redis does.
 * Memory comes from mem.h; the log has no other dependency.
 */
#ifndef SLUICE_QLOG_H
#define SLUICE_QLOG_H

#include <stddef.h>
#include <stdint.h>

typedef struct qlog qlog;

#define QLOG_FILL_DEFAULT (-2)
/* Enough for any int64 in decimal, with its NUL. */
#define QLOG_INT_BUFSIZE 21

enum { QLOG_HEAD = 0, QLOG_TAIL = 1 };         /* ends, and iteration starts */
enum { QLOG_FORWARD = 0, QLOG_BACKWARD = 1 };  /* iteration directions */
enum { QLOG_BEFORE = 0, QLOG_AFTER = 1 };      /* qlog_insert() */

/* An entry as read from the log. */
typedef struct qlog_value {
    const char *str; /* string bytes (not NUL-terminated); NULL if is_int */
    size_t len;      /* length of str */
    long long ival;  /* the value when is_int */
    int is_int;
    char *heap;      /* qlog_pop_*() only: owned copy, see qlog_value_release */
} qlog_value;

/* Streams' segment key (a stream ID). */
typedef struct qlog_key {
    uint64_t ms, seq;
} qlog_key;

/* One segment, as a keyed log's user sees it. */
typedef struct qlog_seginfo {
    size_t count;    /* entries */
    size_t bytes;    /* encoded bytes of the entries (aux excluded) */
    qlog_key key;    /* first key */
    const void *aux; /* auxiliary blob, valid until the log changes */
    size_t auxlen;
} qlog_seginfo;

/* An iterator lives on the caller's stack; its fields are private. */
typedef struct qlog_iter {
    qlog *log;
    void *leaf;       /* index leaf holding seg */
    void *seg;        /* current segment; NULL once exhausted */
    int slot;         /* seg's slot in leaf */
    int dir;
    size_t off;       /* forward: next entry's offset; backward: its end */
    size_t pos;       /* position of the entry next() returns */
    size_t last_off;  /* the entry next() returned last, for delete */
    size_t last_size; /* 0: nothing to delete */
    size_t last_pos;
} qlog_iter;

/* Life cycle.  fill: see above; qlog_set_fill() repacks the segments to the
 * new cap in O(n) (keyed logs: only qlog_tail_has_room() follows the fill). */
qlog *qlog_create(int fill);
qlog *qlog_create_keyed(int fill);
qlog *qlog_dup(const qlog *log);
void qlog_free(qlog *log);
void qlog_set_fill(qlog *log, int fill);
int qlog_get_fill(const qlog *log);

/* Size.  qlog_bytes() counts encoded entries (the "serialized" size),
 * qlog_mem_usage() every allocated byte (segments, index, header); both
 * walk the segments, O(1) for a log of one segment. */
size_t qlog_length(const qlog *log);
size_t qlog_bytes(const qlog *log);
size_t qlog_mem_usage(const qlog *log);
size_t qlog_segments(const qlog *log);
/* 1 when the log is at most one segment within the fill cap: what Redis
 * reports as OBJECT ENCODING "listpack" (otherwise "quicklist"). */
int qlog_is_compact(const qlog *log);

/* Ends.  A pop stores the entry into *v when v is not NULL: integers in
 * v->ival; strings are copied to buf when they fit in bufsize, else into
 * v->heap, which qlog_value_release() frees.  Return 0 when empty. */
void qlog_push_head(qlog *log, const void *s, size_t len);
void qlog_push_tail(qlog *log, const void *s, size_t len);
int qlog_pop_head(qlog *log, qlog_value *v, char *buf, size_t bufsize);
int qlog_pop_tail(qlog *log, qlog_value *v, char *buf, size_t bufsize);
void qlog_value_release(qlog_value *v);
/* Appends n values (strings, or integers when is_int) at the tail, as n
 * qlog_push_tail() calls would, but faster: for loaders.  Not on keyed
 * logs. */
void qlog_push_tail_many(qlog *log, const qlog_value *v, size_t n);
/* Appends entries given in Redis's listpack encoding (the bytes of a
 * listpack between its header and its terminator), from the first on, for
 * as long as they are 7-bit integers or strings of up to 63 bytes that
 * cannot be read as integers: the common shapes, transcoded without
 * decoding.  Stops before any other entry, or a malformed one: returns the
 * bytes consumed and sets *appended; the caller decodes the entry it
 * stopped at and goes on after it.  more: bytes the caller expects to
 * append after these (0 if unknown), to size segments once.  Not on keyed
 * logs. */
size_t qlog_push_tail_listpack(qlog *log, const unsigned char *lp, size_t len, size_t more,
                               size_t *appended);

/* Positions.  Return 0 (and change nothing) when idx is out of range. */
int qlog_index(const qlog *log, long long idx, qlog_value *v);
int qlog_replace(qlog *log, long long idx, const void *s, size_t len);
int qlog_insert(qlog *log, long long idx, int where, const void *s, size_t len);
/* Deletes up to count entries from start on; returns how many it deleted. */
size_t qlog_delete_range(qlog *log, long long start, size_t count);

/* The entry's bytes: v->str, or the integer formatted into buf (which must
 * hold QLOG_INT_BUFSIZE bytes; it is NUL-terminated). */
const char *qlog_value_bytes(const qlog_value *v, char *buf, size_t *len);
/* 1 when the entry equals the len bytes at s. */
int qlog_value_eq(const qlog_value *v, const void *s, size_t len);

/* Iteration from position start (negative: from the tail) in direction dir
 * (QLOG_FORWARD: towards the tail).  next() returns 0 at the end.
 * delete() removes the entry next() returned last; iteration then goes on
 * with the entry after it in the direction of travel. */
void qlog_iter_init(qlog_iter *it, qlog *log, long long start, int dir);
int qlog_iter_next(qlog_iter *it, qlog_value *v);
size_t qlog_iter_pos(const qlog_iter *it); /* of the entry returned last */
void qlog_iter_delete(qlog_iter *it);

/* Keyed logs.  has_room: whether the entry fits the tail segment's cap (0
 * when the log is empty); push_tail_keyed starts a new tail segment with
 * the given first key (greater than every segment's) and aux, holding the
 * entry; qlog_push_tail() appends to the tail segment, whatever its size.
 * init_key: forward, from the first entry of the last segment whose key is
 * <= key (or the first segment); backward, from the last entry of that
 * segment (nothing when every key is > key). */
int qlog_tail_has_room(const qlog *log, const void *s, size_t len);
void qlog_push_tail_keyed(qlog *log, qlog_key key, const void *aux, size_t auxlen,
                          const void *s, size_t len);
int qlog_tail_seginfo(const qlog *log, qlog_seginfo *si);
void qlog_iter_init_key(qlog_iter *it, qlog *log, qlog_key key, int dir);
/* The segment of the entry next() returned last. */
void qlog_iter_seginfo(const qlog_iter *it, qlog_seginfo *si);
void qlog_iter_set_aux(qlog_iter *it, const void *aux, size_t auxlen);

/* Checks every invariant (and asserts on the internal ones): 0 or -1. */
int qlog_verify(const qlog *log);

#endif
