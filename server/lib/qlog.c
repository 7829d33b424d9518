/* qlog.c - the queue log; the API is in qlog.h.
 *
 * DATA LAYOUT
 *
 * A log is a chain of segments under an index.
 *
 * Segment: one allocation, a 16-byte header then data[]:
 *     count | bytes | start | cap | [prefix] ... [entries] ...
 * The entries are the bytes data[start, start + bytes).  Keyed (stream)
 * segments begin data[] with a prefix: first key (ms, seq: 2 x 8 bytes),
 * aux length (4 bytes) and the aux blob; other segments have none.  Room
 * may be spare in front of the entries and behind them, so that pushes and
 * pops at the ends of the log touch no other byte (no memmove per LPOP, as
 * a listpack needs).  Only the two end segments keep such room, at most
 * their own size; inner segments are held at their exact size (that is, the
 * allocator's size class for it) and so are end segments that stop being
 * ends.  cap is the usable size of data[], so spare room costs nothing the
 * allocator hadn't already given.
 *
 * Entry: a code byte, a payload, and a trailer mirroring the code so that
 * the entry can be read backwards from its end:
 *     0xxxxxxx                     integer 0..127; the byte is the entry
 *     0x80+len  data  0x80+len     string of 0..104 bytes
 *     0xe9..0xf8 b  code           integer -2048..2047: 4 bits + 1 byte
 *     0xf9/fa/fb/fc  int  code     integer in 16/24/32/64 bits
 *     0xfd l  data  l 0xfd         string of 105..360 bytes (l = len - 105)
 *     0xfe l16 data l16 0xfe       string up to 64 KiB
 *     0xff l32 data l32 0xff       longer string
 * Integers are little endian, two's complement.  A string is stored as an
 * integer exactly when it is canonical decimal that fits in int64, in the
 * smallest form, so an entry reads back as the very bytes pushed.  The 1-
 * byte header covers strings up to 104 bytes (a listpack's stops at 63), so
 * a 100-byte value costs 102 bytes, and a small integer costs one byte: a
 * trailer is only needed where the last byte could be taken for data, and
 * a byte below 0x80 at the end of an entry can only be a small integer.
 *
 * Index (qlog_index.c): a counted B+tree whose leaves hold the segments.
 * Each slot knows how many entries are under it (and, in keyed logs, the
 * first key under it), so a position or a key is found in O(log n).  A log
 * of a single segment has no node at all (a NULL leaf stands for its slot):
 * a small list costs its 64-byte header and one segment, no more than a
 * Redis quicklist with one node.
 *
 * Lazy end counts: the counts the index holds for the head and the tail
 * segment may lag behind the segments' own counts, so that pushes and
 * pops at the ends never walk the tree.  Everything else is exact.  Reads
 * (locate()) correct for the lag; anything that changes the tree's shape
 * or an inner segment first calls sync_ends(), then keeps the counts exact
 * until it is done.
 *
 * Fill: a segment holds at most max_count entries and max_bytes bytes of
 * prefix and entries (so that header included it fits the 4..64 KiB of
 * list-max-listpack-size); only a single entry bigger than that may exceed
 * it, alone in its segment.  A write that does not fit a segment goes to
 * its neighbour at that end, or into a new segment, or splits the segment
 * where it lands.  After a deletion, a segment joins a neighbour when the
 * two fit in 3/4 of the cap, which keeps the pair from splitting again at
 * the next insert.  Keyed segments are made by the caller and are never
 * split nor merged: entries may refer to their segment's key and aux.
 */
#include "qlog.h"

#include "mem.h"
#include "qlog_int.h"

#include <stdio.h>

#define SIZE_SAFETY_LIMIT 8192 /* Redis's cap with a count fill */
#define FILL_MAX 32767

/* ---- helpers ---------------------------------------------------------------- */

static void set_bounds(qlog *log, int fill)
{
    if (fill < -5)
        fill = -5;
    if (fill > FILL_MAX)
        fill = FILL_MAX;
    if (fill < 0) {
        log->max_bytes = (uint32_t)((4096u << (-fill - 1)) - SEG_HDR);
        log->max_count = UINT32_MAX;
    } else {
        log->max_bytes = (uint32_t)(SIZE_SAFETY_LIMIT - SEG_HDR);
        log->max_count = fill > 0 ? (uint32_t)fill : 1;
    }
}

/* The segment in a slot (leaf NULL: the only one). */
static inline qseg *seg_at(const qlog *log, const qidx_node *leaf, int slot)
{
    return leaf ? leaf->child[slot] : log->idx.root;
}

static inline int last_slot(const qidx *ix)
{
    return ix->last ? ix->last->n - 1 : 0;
}

/* The slot after the last segment, for appending. */
static inline int end_slot(const qidx *ix)
{
    return ix->last ? ix->last->n : (int)ix->nsegs;
}

static int first_seg(const qlog *log, qidx_node **leaf, int *slot)
{
    *leaf = log->idx.first;
    *slot = 0;
    return log->idx.nsegs > 0;
}

static void refresh_ends(qlog *log)
{
    const qidx *ix = &log->idx;
    if (!ix->height) {
        log->head = log->tail = ix->root;
        return;
    }
    log->head = ix->first->child[0];
    log->tail = ix->last->child[ix->last->n - 1];
}

/* Makes the index's counts for the end segments exact. */
static void sync_ends(qlog *log)
{
    qidx *ix = &log->idx;
    if (!ix->height)
        return;
    int64_t d = (int64_t)log->head->count - (int64_t)ix->first->cnt[0];
    if (d)
        qidx_add(ix->first, 0, d);
    int ls = last_slot(ix);
    d = (int64_t)log->tail->count - (int64_t)ix->last->cnt[ls];
    if (d)
        qidx_add(ix->last, ls, d);
}

static int is_end(const qlog *log, const qidx_node *leaf, int slot)
{
    return (leaf == log->idx.first && slot == 0) ||
           (leaf == log->idx.last && slot == leaf->n - 1);
}

/* Stores a segment that may have moved back into its slot. */
static void put_seg(qlog *log, qidx_node *leaf, int slot, qseg *s)
{
    if (leaf)
        leaf->child[slot] = s;
    else
        log->idx.root = s;
    refresh_ends(log);
}

/* Adds segment s before slot of leaf (slot past the end appends). */
static void index_insert(qlog *log, qidx_node *leaf, int slot, qseg *s, qidx_node **at,
                         int *at_slot)
{
    qidx *ix = &log->idx;
    qlog_key key = {0, 0};
    if (ix->nsegs == 1) {
        /* A second segment: the first one needs a leaf now. */
        qseg *only = ix->root;
        if (ix->keyed)
            seg_key(only, &key);
        qidx_unsingle(ix, only->count, &key);
        leaf = ix->first;
    }
    if (ix->keyed)
        seg_key(s, &key);
    qidx_insert(ix, leaf, slot, s, s->count, &key, at, at_slot);
    refresh_ends(log);
}

/* Finds entry pos: its segment's slot and its index k in the segment. */
static void locate(const qlog *log, size_t pos, qidx_node **leaf, int *slot, size_t *k)
{
    const qidx *ix = &log->idx;
    size_t head = log->head->count, tail = log->tail->count;

    assert(pos < log->count);
    if (pos < head) {
        *leaf = ix->first, *slot = 0, *k = pos;
        return;
    }
    if (pos >= log->count - tail) {
        *leaf = ix->last, *slot = last_slot(ix), *k = pos - (log->count - tail);
        return;
    }
    /* An inner segment: the index counts the head as cnt[0] entries. */
    uint64_t off;
    int found = qidx_locate(ix, pos - head + ix->first->cnt[0], leaf, slot, &off);
    assert(found && !is_end(log, *leaf, *slot));
    (void)found;
    *k = (size_t)off;
}

/* The position of the segment's first entry. */
static size_t seg_pos(const qlog *log, const qidx_node *leaf, int slot)
{
    if (leaf == log->idx.first && slot == 0)
        return 0;
    return (size_t)(qidx_pos(leaf, slot) - log->idx.first->cnt[0] + log->head->count);
}

static int norm_index(const qlog *log, long long idx, size_t *pos)
{
    if (idx < 0)
        idx += (long long)log->count;
    if (idx < 0 || (unsigned long long)idx >= log->count)
        return 0;
    *pos = (size_t)idx;
    return 1;
}

/* A new segment holding e, with room for room bytes of entries; at_end
 * puts the spare room in front, for pushes at the head. */
static qseg *new_seg_with(qlog *log, const qlog_key *key, const void *aux, size_t auxlen,
                          const qenc *e, size_t room, int at_end)
{
    qseg *s = seg_new(log, key, aux, auxlen, room > e->size ? room : e->size);
    if (at_end)
        s->start = s->cap - (uint32_t)e->size;
    enc_write(s->data + s->start, e);
    s->bytes = (uint32_t)e->size;
    s->count = 1;
    log->count++;
    return s;
}

/* A new segment holding e alone, before slot of leaf. */
static void new_seg_at(qlog *log, qidx_node *leaf, int slot, const qenc *e)
{
    index_insert(log, leaf, slot, new_seg_with(log, NULL, NULL, 0, e, 0, 0), NULL, NULL);
}

static void remove_seg(qlog *log, qidx_node *leaf, int slot)
{
    qseg *s = seg_at(log, leaf, slot);
    log->count -= s->count;
    qidx_remove(&log->idx, leaf, slot);
    mem_free(s);
    refresh_ends(log);
}

/* Whether a and b fit in one segment filled to parts/4 of the cap. */
static int mergeable(const qlog *log, const qseg *a, const qseg *b, unsigned parts)
{
    return (uint64_t)a->count + b->count <= (uint64_t)log->max_count * parts / 4 &&
           (uint64_t)a->bytes + b->bytes <= (uint64_t)log->max_bytes * parts / 4;
}

/* Appends the right segment to the left one and drops it. */
static void merge_pair(qlog *log, qidx_node *ll, int ls, qidx_node *rl, int rs)
{
    qseg *l = ll->child[ls], *r = rl->child[rs];
    int end = is_end(log, ll, ls) || is_end(log, rl, rs);
    l = seg_tidy(log, seg_append(log, l, r, end), end);
    ll->child[ls] = l;
    qidx_add(ll, ls, r->count);
    qidx_remove(&log->idx, rl, rs);
    mem_free(r);
    refresh_ends(log);
}

/* Joins the segment with a neighbour if both are small; 1 if it did (the
 * index has then changed shape).  Needs exact counts. */
static int maybe_merge(qlog *log, qidx_node *leaf, int slot)
{
    qidx_node *pl = leaf, *nl = leaf;
    int ps = slot, ns = slot;
    qseg *s = seg_at(log, leaf, slot);

    if (log->idx.keyed)
        return 0;
    if (qidx_prev(&pl, &ps) && mergeable(log, pl->child[ps], s, 3)) {
        merge_pair(log, pl, ps, leaf, slot);
        return 1;
    }
    if (qidx_next(&nl, &ns) && mergeable(log, s, nl->child[ns], 3)) {
        merge_pair(log, leaf, slot, nl, ns);
        return 1;
    }
    return 0;
}

static void merge_at(qlog *log, size_t pos)
{
    qidx_node *leaf;
    int slot;
    size_t k;
    if (pos < log->count) {
        locate(log, pos, &leaf, &slot, &k);
        maybe_merge(log, leaf, slot);
    }
}

/* Splits the segment before its entry k (at offset off); *rl and *rs
 * receive the slot of the second half, which follows the first one. */
static void split_seg(qlog *log, qidx_node *leaf, int slot, uint32_t k, size_t off,
                      qidx_node **rl, int *rs)
{
    qseg *s = seg_at(log, leaf, slot);
    qseg *r = seg_split(log, &s, off, k);
    put_seg(log, leaf, slot, s);
    qidx_add(leaf, slot, -(int64_t)r->count);
    index_insert(log, leaf, slot + 1, r, rl, rs);
}

static void insert_into(qlog *log, qidx_node *leaf, int slot, size_t off, const qenc *e)
{
    qseg *s = seg_insert(log, seg_at(log, leaf, slot), off, e, is_end(log, leaf, slot));
    qidx_add(leaf, slot, 1);
    put_seg(log, leaf, slot, s);
}

/* ---- life cycle ------------------------------------------------------------------ */

static qlog *new_log(int fill, int keyed)
{
    qlog *log = mem_calloc(sizeof(*log));
    qidx_init(&log->idx, keyed);
    set_bounds(log, fill);
    return log;
}

qlog *qlog_create(int fill)
{
    return new_log(fill, 0);
}

qlog *qlog_create_keyed(int fill)
{
    return new_log(fill, 1);
}

qlog *qlog_dup(const qlog *log)
{
    qlog *n = new_log(qlog_get_fill(log), log->idx.keyed);
    qidx_node *leaf;
    int slot;
    for (int more = first_seg(log, &leaf, &slot); more; more = qidx_next(&leaf, &slot)) {
        qseg *c = seg_copy(log, seg_at(log, leaf, slot));
        n->count += c->count;
        index_insert(n, n->idx.last, end_slot(&n->idx), c, NULL, NULL);
    }
    return n;
}

void qlog_free(qlog *log)
{
    qidx_node *leaf;
    int slot;
    if (!log)
        return;
    for (int more = first_seg(log, &leaf, &slot); more; more = qidx_next(&leaf, &slot))
        mem_free(seg_at(log, leaf, slot));
    qidx_destroy(&log->idx);
    mem_free(log);
}

/* Repacks in one pass: segments over the new cap are split, neighbours
 * that fit together under it (as after deletions) are joined. */
void qlog_set_fill(qlog *log, int fill)
{
    set_bounds(log, fill);
    if (log->idx.keyed)
        return;
    sync_ends(log);
    size_t pos = 0;
    while (pos < log->count) {
        qidx_node *leaf, *nl, *rl;
        int slot, ns, rs;
        size_t k;
        locate(log, pos, &leaf, &slot, &k);
        qseg *s = seg_at(log, leaf, slot);
        if (s->count == 1 || (s->count <= log->max_count && s->bytes <= log->max_bytes)) {
            nl = leaf, ns = slot;
            if (qidx_next(&nl, &ns) && mergeable(log, s, nl->child[ns], 4))
                merge_pair(log, leaf, slot, nl, ns); /* and look at it again */
            else
                pos += s->count;
            continue;
        }
        /* Keep the longest run from the front that fits. */
        size_t off = s->start, bytes = 0;
        uint32_t n = 0;
        while (n < log->max_count) {
            size_t sz = ent_size(s->data + off);
            if (n > 0 && bytes + sz > log->max_bytes)
                break;
            bytes += sz, off += sz, n++;
        }
        split_seg(log, leaf, slot, n, off, &rl, &rs);
        pos += n;
    }
}

/* From the caps, which say it all (fill 0 reads back as 1). */
int qlog_get_fill(const qlog *log)
{
    if (log->max_count != UINT32_MAX)
        return (int)log->max_count;
    return -(__builtin_ctz(log->max_bytes + (uint32_t)SEG_HDR) - 11);
}

/* ---- size -------------------------------------------------------------------------- */

size_t qlog_length(const qlog *log)
{
    return log->count;
}

/* O(segments): small logs are one segment, big ones are rarely asked. */
size_t qlog_bytes(const qlog *log)
{
    qidx_node *leaf;
    int slot;
    size_t bytes = 0;
    for (int more = first_seg(log, &leaf, &slot); more; more = qidx_next(&leaf, &slot))
        bytes += seg_at(log, leaf, slot)->bytes;
    return bytes;
}

size_t qlog_mem_usage(const qlog *log)
{
    qidx_node *leaf;
    int slot;
    size_t mem = mem_usable(log) + qidx_mem(&log->idx);
    for (int more = first_seg(log, &leaf, &slot); more; more = qidx_next(&leaf, &slot))
        mem += SEG_HDR + seg_at(log, leaf, slot)->cap;
    return mem;
}

size_t qlog_segments(const qlog *log)
{
    return log->idx.nsegs;
}

int qlog_is_compact(const qlog *log)
{
    if (log->idx.nsegs == 0)
        return 1;
    const qseg *s = log->head;
    return log->idx.nsegs == 1 && s->count <= log->max_count &&
           seg_prefix(log, s) + s->bytes <= log->max_bytes;
}

/* ---- ends ------------------------------------------------------------------------ */

/* Everything a push can meet but room in the end segment: a segment that
 * must grow or move its entries, a full one, an empty log.  want: bytes
 * the caller is about to push at this end (0: just e), so that a bulk
 * append sizes the segment it grows or starts once. */
static void push_slow(qlog *log, const qenc *e, int end, size_t want)
{
    qidx *ix = &log->idx;
    qseg *s = end == QLOG_TAIL ? log->tail : log->head;
    qidx_node *leaf = end == QLOG_TAIL ? ix->last : ix->first;
    int slot = end == QLOG_TAIL ? last_slot(ix) : 0;

    sync_ends(log);
    if (s && (ix->keyed || seg_fits(log, s, e->size))) {
        size_t need = e->size;
        if (want > need && !ix->keyed) {
            size_t within = log->max_bytes - seg_prefix(log, s) - s->bytes;
            need = want < within ? want : within;
        }
        s = seg_reserve(log, s, need, end == QLOG_HEAD, 1);
        if (end == QLOG_HEAD) {
            s->start -= (uint32_t)e->size;
            enc_write(s->data + s->start, e);
        } else {
            enc_write(s->data + s->start + s->bytes, e);
        }
        s->bytes += (uint32_t)e->size;
        s->count++;
        log->count++;
        put_seg(log, leaf, slot, s);
        return;
    }
    assert(!ix->keyed); /* keyed logs start with qlog_push_tail_keyed() */
    size_t room = 0;
    if (s) {
        /* No longer an end: give its spare room back.  The log grows at
         * this end: the new segment starts with some room. */
        put_seg(log, leaf, slot, seg_tidy(log, s, 0));
        room = log->max_bytes / 4;
    }
    if (want > room)
        room = want < log->max_bytes ? want : log->max_bytes;
    s = new_seg_with(log, NULL, NULL, 0, e, room, end == QLOG_HEAD);
    if (end == QLOG_HEAD)
        index_insert(log, ix->first, 0, s, NULL, NULL);
    else
        index_insert(log, ix->last, end_slot(ix), s, NULL, NULL);
}

/* Whether an end segment takes size more bytes as it is: within the fill
 * and with the room already there, in front or behind. */
static inline int tail_takes(const qlog *log, const qseg *t, size_t size)
{
    return t && t->count < log->max_count && t->bytes + size <= log->max_bytes &&
           t->start + t->bytes + size <= t->cap;
}

static inline int head_takes(const qlog *log, const qseg *h, size_t size)
{
    return h && h->count < log->max_count && h->bytes + size <= log->max_bytes &&
           h->start >= size;
}

/* A short string that cannot be an integer: most values, written without
 * going through a qenc. */
static inline int plain_short(const unsigned char *p, size_t len)
{
    return len <= STR_INLINE_MAX &&
           (len == 0 || len > 20 || ((unsigned)(p[0] - '0') > 9u && p[0] != '-'));
}

void qlog_push_tail(qlog *log, const void *str, size_t len)
{
    qseg *t = log->tail;
    qenc e;

    if (plain_short(str, len) && tail_takes(log, t, len + 2)) {
        unsigned char *d = t->data + t->start + t->bytes;
        d[0] = d[len + 1] = (unsigned char)(ENC_STR + len);
        memcpy(d + 1, str, len);
        t->bytes += (uint32_t)(len + 2);
        t->count++;
        log->count++;
        return;
    }
    enc_prepare(&e, str, len);
    if (tail_takes(log, t, e.size)) {
        enc_write(t->data + t->start + t->bytes, &e);
        t->bytes += (uint32_t)e.size;
        t->count++;
        log->count++;
        return;
    }
    push_slow(log, &e, QLOG_TAIL, 0);
}

/* Encodes v as qlog_push_tail() would encode its bytes; integers skip the
 * round trip through decimal. */
static inline void enc_value(qenc *e, const qlog_value *v)
{
    if (v->is_int)
        enc_int(e, v->ival);
    else
        enc_prepare(e, v->str, v->len);
}

/* Encoded bytes of the values from v on, counted up to cap at most. */
static size_t encoded_upto(const qlog_value *v, size_t n, size_t cap)
{
    size_t sum = 0;
    for (size_t i = 0; i < n && sum < cap; i++) {
        if (!v[i].is_int && plain_short((const unsigned char *)v[i].str, v[i].len)) {
            sum += v[i].len + 2;
        } else {
            qenc e;
            enc_value(&e, &v[i]);
            sum += e.size;
        }
    }
    return sum;
}

/* How far the tail's entries may reach: its room, then the fill. */
static inline size_t tail_limit(const qlog *log, const qseg *t)
{
    size_t limit = t->cap - t->start;
    return limit > log->max_bytes ? log->max_bytes : limit;
}

/* The loaders' append: one call per batch, the tail segment's fields held
 * in locals across the batch, and a segment grown or started at once to
 * the size the rest of the batch needs (within the fill), instead of by
 * half at a time as single pushes grow it. */
void qlog_push_tail_many(qlog *log, const qlog_value *vals, size_t n)
{
    size_t i = 0;
    assert(!log->idx.keyed);
    while (i < n) {
        qseg *t = log->tail;
        if (t) {
            unsigned char *base = t->data + t->start;
            size_t bytes = t->bytes, count = t->count, limit = tail_limit(log, t);
            for (; i < n && count < log->max_count; i++) {
                const qlog_value *v = &vals[i];
                const unsigned char *str = (const unsigned char *)v->str;
                if (!v->is_int && plain_short(str, v->len)) {
                    size_t len = v->len;
                    if (bytes + len + 2 > limit)
                        break;
                    unsigned char *d = base + bytes;
                    d[0] = d[len + 1] = (unsigned char)(ENC_STR + len);
                    memcpy(d + 1, str, len);
                    bytes += len + 2;
                } else {
                    qenc e;
                    enc_value(&e, v);
                    if (bytes + e.size > limit)
                        break;
                    enc_write(base + bytes, &e);
                    bytes += e.size;
                }
                count++;
            }
            log->count += count - t->count;
            t->bytes = (uint32_t)bytes;
            t->count = (uint32_t)count;
            if (i == n)
                return;
        }
        qenc e;
        enc_value(&e, &vals[i]);
        push_slow(log, &e, QLOG_TAIL, encoded_upto(vals + i, n - i, log->max_bytes));
        i++;
    }
}

/* The loaders' fast path for Redis's packed nodes.  A listpack entry of
 * the two shapes handled here is <code> [data] <backlen>, where backlen is
 * the size of code+data in one byte:
 *     0xxxxxxx             integer 0..127       -> the same byte here
 *     10llllll <l bytes>   string of 0..63      -> 0x80+l data 0x80+l
 * so each is checked and rewritten in place of the tail segment, with no
 * decoding into values.  The first entry of another shape, a string that
 * might be a decimal integer (it must be stored as one), or a malformed
 * entry stops the loop: the caller decodes it in full (and rejects it when
 * malformed) and goes on after it. */
/* memcpy() of up to 64 bytes as two overlapping fixed-size moves: gcc
 * turns a variable-length call into `rep movsb`, whose start-up dwarfs a
 * 16-byte copy. */
static inline void copy_short(unsigned char *d, const unsigned char *s, size_t n)
{
    assert(n <= 64);
    if (n >= 32) {
        memcpy(d, s, 32);
        memcpy(d + n - 32, s + n - 32, 32);
    } else if (n >= 16) {
        memcpy(d, s, 16);
        memcpy(d + n - 16, s + n - 16, 16);
    } else if (n >= 8) {
        memcpy(d, s, 8);
        memcpy(d + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(d, s, 4);
        memcpy(d + n - 4, s + n - 4, 4);
    } else {
        for (size_t i = 0; i < n; i++)
            d[i] = s[i];
    }
}

/* The listpack entry at p if it is of the two shapes above (and well
 * formed, and not a string that may be a decimal integer) as a qenc:
 * its size in the listpack, or 0. */
static size_t lp_short_entry(const unsigned char *p, const unsigned char *end, qenc *e)
{
    unsigned b = p[0];
    if (b < 0x80) {
        if (end - p < 2 || p[1] != 1)
            return 0;
        enc_int(e, b);
        return 2;
    }
    size_t l = b & 0x3f;
    if (b >= 0xC0 || (size_t)(end - p) < l + 2 || p[l + 1] != l + 1 || !plain_short(p + 1, l))
        return 0;
    e->str = (const char *)p + 1;
    e->slen = l;
    e->head[0] = e->tail[0] = (unsigned char)(ENC_STR + l);
    e->hlen = e->tlen = 1;
    e->size = l + 2;
    return l + 2;
}

size_t qlog_push_tail_listpack(qlog *log, const unsigned char *lp, size_t len, size_t more,
                               size_t *appended)
{
    const unsigned char *p = lp, *end = lp + len;
    size_t added = 0;
    assert(!log->idx.keyed);
    while (p < end) {
        qseg *t = log->tail;
        if (t) {
            unsigned char *base = t->data + t->start;
            size_t bytes = t->bytes, count = t->count, limit = tail_limit(log, t);
            size_t room = limit > bytes ? limit - bytes : 0;
            size_t left = count < log->max_count ? log->max_count - count : 0, left0 = left;
            unsigned char *d = base + bytes;
            int full = 0;
            while (p < end && left) {
                unsigned b = p[0];
                if ((b & 0xC0) == 0x80) {
                    size_t l = b & 0x3f;
                    if ((size_t)(end - p) < l + 2 || p[l + 1] != l + 1 ||
                        !plain_short(p + 1, l))
                        break;
                    if (l + 2 > room) {
                        full = 1;
                        break;
                    }
                    /* code and data as they are (0x80 + l is b), then the
                     * code again in place of the backlen */
                    copy_short(d, p, l + 1);
                    d[l + 1] = (unsigned char)b;
                    d += l + 2;
                    room -= l + 2;
                    p += l + 2;
                } else if (b < 0x80) {
                    if (end - p < 2 || p[1] != 1)
                        break;
                    if (!room) {
                        full = 1;
                        break;
                    }
                    *d++ = (unsigned char)b;
                    room--;
                    p += 2;
                } else {
                    break;
                }
                left--;
            }
            if (!left && p < end)
                full = 1;
            bytes = (size_t)(d - base);
            count += left0 - left;
            added += count - t->count;
            log->count += count - t->count;
            t->bytes = (uint32_t)bytes;
            t->count = (uint32_t)count;
            if (!full)
                break;
        }
        /* The tail is full (or there is none): the next entry goes through
         * push_slow(), with what is left as the hint for sizing. */
        qenc e;
        size_t sz = lp_short_entry(p, end, &e);
        if (!sz)
            break;
        p += sz;
        push_slow(log, &e, QLOG_TAIL, (size_t)(end - p) + e.size + more);
        added++;
    }
    *appended = added;
    return (size_t)(p - lp);
}

void qlog_push_head(qlog *log, const void *str, size_t len)
{
    qseg *h = log->head;
    qenc e;

    assert(!log->idx.keyed);
    if (plain_short(str, len) && head_takes(log, h, len + 2)) {
        h->start -= (uint32_t)(len + 2);
        unsigned char *d = h->data + h->start;
        d[0] = d[len + 1] = (unsigned char)(ENC_STR + len);
        memcpy(d + 1, str, len);
        h->bytes += (uint32_t)(len + 2);
        h->count++;
        log->count++;
        return;
    }
    enc_prepare(&e, str, len);
    if (head_takes(log, h, e.size)) {
        h->start -= (uint32_t)e.size;
        enc_write(h->data + h->start, &e);
        h->bytes += (uint32_t)e.size;
        h->count++;
        log->count++;
        return;
    }
    push_slow(log, &e, QLOG_HEAD, 0);
}

static void copy_out(qlog_value *v, const unsigned char *p, char *buf, size_t bufsize)
{
    ent_decode(p, v);
    if (v->is_int)
        return;
    if (v->len == 0) {
        v->str = ""; /* not into the segment, which is about to change */
        return;
    }
    char *dst = buf;
    if (v->len > bufsize || !buf)
        dst = v->heap = mem_alloc(v->len);
    memcpy(dst, v->str, v->len);
    v->str = dst;
}

/* After a pop: drop a drained end segment, or give back spare room. */
static void pop_fixup(qlog *log, int end)
{
    qidx *ix = &log->idx;
    qidx_node *leaf = end == QLOG_HEAD ? ix->first : ix->last;
    int slot = end == QLOG_HEAD ? 0 : last_slot(ix);
    qseg *s = seg_at(log, leaf, slot);

    sync_ends(log);
    if (s->count == 0) {
        qidx_remove(ix, leaf, slot);
        mem_free(s);
        refresh_ends(log);
        return;
    }
    put_seg(log, leaf, slot, seg_tidy(log, s, 1));
}

int qlog_pop_head(qlog *log, qlog_value *v, char *buf, size_t bufsize)
{
    qseg *h = log->head;
    if (!h)
        return 0;
    const unsigned char *p = h->data + h->start;
    size_t sz = ent_size(p);
    if (v)
        copy_out(v, p, buf, bufsize);
    h->start += (uint32_t)sz;
    h->bytes -= (uint32_t)sz;
    h->count--;
    log->count--;
    if (h->count == 0 || h->cap > 2 * (size_t)h->bytes + SEG_SPARE_MIN)
        pop_fixup(log, QLOG_HEAD);
    return 1;
}

int qlog_pop_tail(qlog *log, qlog_value *v, char *buf, size_t bufsize)
{
    qseg *t = log->tail;
    if (!t)
        return 0;
    const unsigned char *end = t->data + t->start + t->bytes;
    size_t sz = ent_size_back(end);
    if (v)
        copy_out(v, end - sz, buf, bufsize);
    t->bytes -= (uint32_t)sz;
    t->count--;
    log->count--;
    if (t->count == 0 || t->cap > 2 * (size_t)t->bytes + SEG_SPARE_MIN)
        pop_fixup(log, QLOG_TAIL);
    return 1;
}

void qlog_value_release(qlog_value *v)
{
    mem_free(v->heap);
    v->heap = NULL;
}

/* ---- positions ------------------------------------------------------------------- */

int qlog_index(const qlog *log, long long idx, qlog_value *v)
{
    size_t pos, k;
    qidx_node *leaf;
    int slot;
    if (!norm_index(log, idx, &pos))
        return 0;
    locate(log, pos, &leaf, &slot, &k);
    const qseg *s = seg_at(log, leaf, slot);
    ent_decode(s->data + seg_seek(s, (uint32_t)k), v);
    return 1;
}

/* Insertion at pos, 0 < pos < count. */
static void insert_inner(qlog *log, size_t pos, const qenc *e)
{
    qidx_node *leaf, *pl, *rl;
    int slot, ps, rs;
    size_t k;

    sync_ends(log);
    locate(log, pos, &leaf, &slot, &k);
    qseg *s = seg_at(log, leaf, slot);
    pl = leaf, ps = slot;
    if (k == 0 && qidx_prev(&pl, &ps) && seg_fits(log, pl->child[ps], e->size)) {
        /* Between two segments: the end of the previous one will do. */
        qseg *p = pl->child[ps];
        insert_into(log, pl, ps, p->start + p->bytes, e);
        return;
    }
    if (seg_fits(log, s, e->size)) {
        insert_into(log, leaf, slot, seg_seek(s, (uint32_t)k), e);
        return;
    }
    if (k == 0) {
        new_seg_at(log, leaf, slot, e);
        return;
    }
    /* Split where the entry goes, then put it on the side it fits. */
    split_seg(log, leaf, slot, (uint32_t)k, seg_seek(s, (uint32_t)k), &rl, &rs);
    pl = rl, ps = rs;
    qidx_prev(&pl, &ps);
    qseg *l = pl->child[ps], *r = rl->child[rs];
    if (seg_fits(log, l, e->size))
        insert_into(log, pl, ps, l->start + l->bytes, e);
    else if (seg_fits(log, r, e->size))
        insert_into(log, rl, rs, r->start, e);
    else
        new_seg_at(log, rl, rs, e);
    /* The halves may be small: join them to their outer neighbours. */
    merge_at(log, pos - 1);
    merge_at(log, pos + 1);
}

static void insert_pos(qlog *log, size_t pos, const qenc *e)
{
    if (pos == 0)
        push_slow(log, e, QLOG_HEAD, 0);
    else if (pos == log->count)
        push_slow(log, e, QLOG_TAIL, 0);
    else
        insert_inner(log, pos, e);
}

int qlog_insert(qlog *log, long long idx, int where, const void *str, size_t len)
{
    size_t pos;
    qenc e;
    assert(!log->idx.keyed);
    if (!norm_index(log, idx, &pos))
        return 0;
    enc_prepare(&e, str, len);
    insert_pos(log, pos + (where == QLOG_AFTER), &e);
    return 1;
}

int qlog_replace(qlog *log, long long idx, const void *str, size_t len)
{
    size_t pos, k, next;
    qidx_node *leaf;
    int slot;
    qenc e;

    if (!norm_index(log, idx, &pos))
        return 0;
    enc_prepare(&e, str, len);
    sync_ends(log);
    locate(log, pos, &leaf, &slot, &k);
    qseg *s = seg_at(log, leaf, slot);
    size_t off = seg_seek(s, (uint32_t)k), old = ent_size(s->data + off);
    int end = is_end(log, leaf, slot);

    if (log->idx.keyed || s->count == 1 ||
        seg_prefix(log, s) + s->bytes - old + e.size <= log->max_bytes) {
        s = seg_replace(log, s, off, old, &e, end);
        put_seg(log, leaf, slot, seg_tidy(log, s, end));
        if (e.size < old)
            maybe_merge(log, leaf, slot);
        return 1;
    }
    /* Too big for its segment now: out, and in again as an insertion. */
    s = seg_delete(log, s, off, old, 1, end, &next);
    qidx_add(leaf, slot, -1);
    put_seg(log, leaf, slot, s);
    insert_pos(log, pos, &e);
    return 1;
}

size_t qlog_delete_range(qlog *log, long long start, size_t count)
{
    size_t pos, k, next;
    qidx_node *leaf;
    int slot;

    if (!norm_index(log, start, &pos) || count == 0)
        return 0;
    size_t n = count < log->count - pos ? count : log->count - pos;
    sync_ends(log);
    for (size_t left = n; left;) {
        locate(log, pos, &leaf, &slot, &k);
        qseg *s = seg_at(log, leaf, slot);
        size_t take = s->count - k < left ? s->count - k : left;
        if (take == s->count) {
            remove_seg(log, leaf, slot);
        } else {
            size_t off = seg_seek(s, (uint32_t)k), to = seg_skip(s, off, (uint32_t)take);
            s = seg_delete(log, s, off, to - off, (uint32_t)take, is_end(log, leaf, slot), &next);
            qidx_add(leaf, slot, -(int64_t)take);
            put_seg(log, leaf, slot, s);
        }
        left -= take;
    }
    /* The segments on both sides of the cut may now fit in one. */
    if (log->count)
        merge_at(log, pos < log->count ? pos : log->count - 1);
    return n;
}

/* ---- values --------------------------------------------------------------------- */

static size_t ll2str(char *buf, long long v)
{
    char tmp[QLOG_INT_BUFSIZE];
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    size_t n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        buf[len++] = '-';
    while (n)
        buf[len++] = tmp[--n];
    buf[len] = '\0';
    return len;
}

const char *qlog_value_bytes(const qlog_value *v, char *buf, size_t *len)
{
    if (!v->is_int) {
        *len = v->len;
        return v->str;
    }
    *len = ll2str(buf, v->ival);
    return buf;
}

int qlog_value_eq(const qlog_value *v, const void *s, size_t len)
{
    if (!v->is_int)
        return v->len == len && memcmp(v->str, s, len) == 0;
    long long x;
    return qlog_string2ll(s, len, &x) && x == v->ival;
}

/* ---- iteration ------------------------------------------------------------------ */

/* Puts the iterator before entry pos, for the direction it has. */
static void iter_seek(qlog_iter *it, size_t pos)
{
    qidx_node *leaf;
    int slot;
    size_t k;

    if (pos >= it->log->count) {
        it->seg = NULL;
        return;
    }
    locate(it->log, pos, &leaf, &slot, &k);
    qseg *s = seg_at(it->log, leaf, slot);
    size_t off = seg_seek(s, (uint32_t)k);
    if (it->dir == QLOG_BACKWARD)
        off += ent_size(s->data + off);
    it->leaf = leaf, it->slot = slot, it->seg = s, it->off = off, it->pos = pos;
}

void qlog_iter_init(qlog_iter *it, qlog *log, long long start, int dir)
{
    size_t pos;
    memset(it, 0, sizeof(*it));
    it->log = log;
    it->dir = dir;
    if (norm_index(log, start, &pos))
        iter_seek(it, pos);
}

int qlog_iter_next(qlog_iter *it, qlog_value *v)
{
    qseg *s = it->seg;
    qidx_node *leaf = it->leaf;
    int slot = it->slot;
    size_t sz;

    if (!s)
        return 0;
    if (it->dir == QLOG_FORWARD) {
        if (it->off == (size_t)s->start + s->bytes) {
            if (!qidx_next(&leaf, &slot)) {
                it->seg = NULL;
                return 0;
            }
            it->leaf = leaf, it->slot = slot, it->seg = s = leaf->child[slot];
            it->off = s->start;
        }
        sz = ent_decode(s->data + it->off, v);
        it->last_off = it->off;
        it->off += sz;
        it->last_pos = it->pos++;
    } else {
        if (it->off == s->start) {
            if (!qidx_prev(&leaf, &slot)) {
                it->seg = NULL;
                return 0;
            }
            it->leaf = leaf, it->slot = slot, it->seg = s = leaf->child[slot];
            it->off = (size_t)s->start + s->bytes;
        }
        sz = ent_size_back(s->data + it->off);
        it->off -= sz;
        ent_decode(s->data + it->off, v);
        it->last_off = it->off;
        it->last_pos = it->pos--;
    }
    it->last_size = sz;
    return 1;
}

size_t qlog_iter_pos(const qlog_iter *it)
{
    return it->last_pos;
}

void qlog_iter_delete(qlog_iter *it)
{
    qlog *log = it->log;
    qidx_node *leaf = it->leaf;
    int slot = it->slot;
    qseg *s = it->seg;
    size_t pos = it->last_pos, next;

    assert(it->last_size && s == seg_at(log, leaf, slot));
    sync_ends(log);
    if (s->count == 1) {
        remove_seg(log, leaf, slot);
    } else {
        s = seg_delete(log, s, it->last_off, it->last_size, 1, is_end(log, leaf, slot), &next);
        qidx_add(leaf, slot, -1);
        put_seg(log, leaf, slot, s);
        it->seg = s;
        it->off = next;
        if (it->dir == QLOG_FORWARD)
            it->pos = pos;
        if (!maybe_merge(log, leaf, slot)) {
            it->last_size = 0;
            return;
        }
    }
    /* The index changed shape: find the next entry again. */
    it->last_size = 0;
    if (it->dir == QLOG_FORWARD)
        iter_seek(it, pos);
    else if (pos > 0)
        iter_seek(it, pos - 1);
    else
        it->seg = NULL;
}

/* ---- keyed logs ------------------------------------------------------------------ */

int qlog_tail_has_room(const qlog *log, const void *str, size_t len)
{
    qenc e;
    if (!log->tail)
        return 0;
    enc_prepare(&e, str, len);
    return seg_fits(log, log->tail, e.size);
}

void qlog_push_tail_keyed(qlog *log, qlog_key key, const void *aux, size_t auxlen,
                          const void *str, size_t len)
{
    qidx *ix = &log->idx;
    qenc e;

    assert(ix->keyed);
    enc_prepare(&e, str, len);
    sync_ends(log);
    if (log->tail) {
        qlog_key last;
        seg_key(log->tail, &last);
        assert(key_cmp(&last, &key) < 0);
        put_seg(log, ix->last, last_slot(ix), seg_tidy(log, log->tail, 0));
    }
    qseg *s = new_seg_with(log, &key, aux, auxlen, &e, 0, 0);
    index_insert(log, ix->last, end_slot(ix), s, NULL, NULL);
}

static void seginfo(const qlog *log, const qseg *s, qlog_seginfo *si)
{
    memset(si, 0, sizeof(*si));
    si->count = s->count;
    si->bytes = s->bytes;
    if (log->idx.keyed) {
        uint32_t auxlen;
        seg_key(s, &si->key);
        memcpy(&auxlen, s->data + 16, 4);
        si->aux = s->data + KEYED_PREFIX;
        si->auxlen = auxlen;
    }
}

int qlog_tail_seginfo(const qlog *log, qlog_seginfo *si)
{
    if (!log->tail)
        return 0;
    seginfo(log, log->tail, si);
    return 1;
}

void qlog_iter_init_key(qlog_iter *it, qlog *log, qlog_key key, int dir)
{
    qidx_node *leaf = NULL;
    int slot = 0, found;

    memset(it, 0, sizeof(*it));
    it->log = log;
    it->dir = dir;
    if (!log->count)
        return;
    if (log->idx.height) {
        found = qidx_locate_key(&log->idx, &key, &leaf, &slot);
    } else {
        qlog_key only;
        seg_key(log->head, &only);
        found = key_cmp(&only, &key) <= 0;
    }
    if (!found && dir == QLOG_BACKWARD)
        return;
    qseg *s = seg_at(log, leaf, slot);
    size_t first = seg_pos(log, leaf, slot);
    it->leaf = leaf, it->slot = slot, it->seg = s;
    if (dir == QLOG_FORWARD)
        it->off = s->start, it->pos = first;
    else
        it->off = (size_t)s->start + s->bytes, it->pos = first + s->count - 1;
}

void qlog_iter_seginfo(const qlog_iter *it, qlog_seginfo *si)
{
    assert(it->last_size);
    seginfo(it->log, it->seg, si);
}

void qlog_iter_set_aux(qlog_iter *it, const void *aux, size_t auxlen)
{
    qlog *log = it->log;
    qseg *s = it->seg;
    assert(log->idx.keyed && it->last_size);
    size_t before = s->start;
    s = seg_set_aux(log, s, aux, auxlen);
    put_seg(log, it->leaf, it->slot, s);
    it->seg = s;
    it->off = it->off - before + s->start;
    it->last_off = it->last_off - before + s->start;
}

/* ---- verification ---------------------------------------------------------------- */

#define VCHECK(cond)                                                             \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "qlog check failed: %s (%s:%d)\n", #cond, __FILE__,  \
                    __LINE__);                                                   \
            return -1;                                                           \
        }                                                                        \
    } while (0)

int qlog_verify(const qlog *log)
{
    const qidx *ix = &log->idx;
    size_t count = 0, segs = 0;
    qlog_key prev_key = {0, 0};
    qidx_node *leaf;
    int slot;

    if (qidx_verify(ix) < 0)
        return -1;
    VCHECK(sizeof(*log) <= 64); /* a small list's whole overhead */
    VCHECK(log->head == (ix->height ? ix->first->child[0] : ix->root));
    VCHECK(log->tail == (ix->height ? ix->last->child[ix->last->n - 1] : ix->root));
    for (int more = first_seg(log, &leaf, &slot); more; more = qidx_next(&leaf, &slot)) {
        const qseg *s = seg_at(log, leaf, slot);
        if (seg_verify(log, s) < 0)
            return -1;
        int end = is_end(log, leaf, slot);
        /* Only the end segments may have counts the index lags on. */
        if (!end)
            VCHECK(leaf->cnt[slot] == s->count);
        if (ix->keyed) {
            qlog_key key;
            seg_key(s, &key);
            if (leaf)
                VCHECK(key_cmp(&leaf->key[slot], &key) == 0);
            VCHECK(segs == 0 || key_cmp(&prev_key, &key) < 0);
            prev_key = key;
        } else {
            /* Within the fill, but for a lone big entry. */
            VCHECK(s->count == 1 ||
                   (s->count <= log->max_count && s->bytes <= log->max_bytes));
        }
        /* Inner segments are compact and at their exact size (up to the
         * allocator's size classes). */
        if (!end) {
            size_t used = seg_prefix(log, s) + s->bytes;
            VCHECK(s->start == seg_prefix(log, s));
            VCHECK(s->cap - used <= used / 4 + 64);
        }
        count += s->count;
        segs++;
    }
    VCHECK(segs == ix->nsegs);
    VCHECK(count == log->count);
    if (ix->height) {
        /* The index's total, corrected for the lazy ends. */
        const qidx_node *root = ix->root;
        uint64_t total = 0;
        for (int i = 0; i < root->n; i++)
            total += root->cnt[i];
        uint64_t lag = (uint64_t)log->head->count - ix->first->cnt[0];
        lag += (uint64_t)log->tail->count - ix->last->cnt[ix->last->n - 1];
        VCHECK(total + lag == log->count);
    }
    return 0;
}
