/* qlog_segment.c - entry encoding and the packed segments of the queue log.
 *
 * The layout is described at the top of qlog.c.  Functions that may move a
 * segment (realloc) return its new address: the caller stores it back into
 * the index.  Those that add or remove entries keep log->count exact.
 */
#include "qlog_int.h"

#include "mem.h"

#include <stdio.h>

/* ---- integers ------------------------------------------------------------- */

/* Canonical decimal only (what Redis's string2ll accepts): no sign but a
 * leading '-', no leading zero, no "-0", no spaces, fits in int64. */
int qlog_string2ll(const char *s, size_t len, long long *v)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    int neg = 0;

    if (len == 0 || len > 20)
        return 0;
    if (len == 1 && p[0] == '0') {
        *v = 0;
        return 1;
    }
    if (p[0] == '-') {
        neg = 1;
        i = 1;
    }
    if (i == len || p[i] < '1' || p[i] > '9')
        return 0;
    uint64_t u = p[i++] - '0';
    if (len - neg <= 19) { /* below 10^19: no overflow to watch for */
        for (; i < len; i++) {
            unsigned d = p[i] - (unsigned)'0';
            if (d > 9)
                return 0;
            u = u * 10 + d;
        }
    } else {
        for (; i < len; i++) {
            unsigned d = p[i] - (unsigned)'0';
            if (d > 9 || u > (UINT64_MAX - d) / 10)
                return 0;
            u = u * 10 + d;
        }
    }
    if (neg) {
        if (u > (uint64_t)INT64_MAX + 1)
            return 0;
        *v = (long long)(0 - u); /* well defined for INT64_MIN too */
    } else {
        if (u > (uint64_t)INT64_MAX)
            return 0;
        *v = (long long)u;
    }
    return 1;
}

static void store_le(unsigned char *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

void enc_int(qenc *e, long long v)
{
    e->str = NULL;
    e->slen = 0;
    if (v >= 0 && v <= ENC_UINT7_MAX) {
        e->head[0] = (unsigned char)v;
        e->hlen = 1;
        e->tlen = 0;
        e->size = 1;
        return;
    }
    if (v >= -INT12_BIAS && v < INT12_BIAS) {
        unsigned u = (unsigned)(v + INT12_BIAS);
        e->head[0] = (unsigned char)(ENC_INT12 + (u >> 8));
        e->head[1] = (unsigned char)u;
        e->hlen = 2;
    } else {
        int n;
        if (v >= INT16_MIN && v <= INT16_MAX)
            e->head[0] = ENC_INT16, n = 2;
        else if (v >= -(1LL << 23) && v < (1LL << 23))
            e->head[0] = ENC_INT24, n = 3;
        else if (v >= INT32_MIN && v <= INT32_MAX)
            e->head[0] = ENC_INT32, n = 4;
        else
            e->head[0] = ENC_INT64, n = 8;
        store_le(e->head + 1, (uint64_t)v, n);
        e->hlen = (uint8_t)(1 + n);
    }
    e->tail[0] = e->head[0];
    e->tlen = 1;
    e->size = e->hlen + 1;
}

void enc_long_str(qenc *e, const void *s, size_t len)
{
    int n;
    size_t stored = len;

    /* A segment's sizes are 32-bit. */
    assert(len > STR_INLINE_MAX && len <= UINT32_MAX - 64);
    if (len - STR8_BASE <= 0xff)
        e->head[0] = ENC_STR8, n = 1, stored = len - STR8_BASE;
    else if (len <= 0xffff)
        e->head[0] = ENC_STR16, n = 2;
    else
        e->head[0] = ENC_STR32, n = 4;
    store_le(e->head + 1, stored, n);
    memcpy(e->tail, e->head + 1, n);
    e->tail[n] = e->head[0];
    e->hlen = e->tlen = (uint8_t)(1 + n);
    e->str = s;
    e->slen = len;
    e->size = e->hlen + len + e->tlen;
}

/* ---- allocation ------------------------------------------------------------ */

static void set_cap(qseg *s)
{
    size_t usable = mem_usable(s);
    assert(usable - SEG_HDR <= UINT32_MAX);
    s->cap = (uint32_t)(usable - SEG_HDR);
}

/* Reallocates to hold datasize bytes of data[]; the data must be below. */
static qseg *seg_resize(qseg *s, size_t datasize)
{
    s = mem_realloc(s, SEG_HDR + datasize);
    set_cap(s);
    return s;
}

qseg *seg_new(qlog *log, const qlog_key *key, const void *aux, size_t auxlen, size_t room)
{
    size_t pre = log->idx.keyed ? KEYED_PREFIX + auxlen : 0;
    assert(pre + room <= UINT32_MAX - 64);
    qseg *s = mem_alloc(SEG_HDR + pre + room);
    s->count = 0;
    s->bytes = 0;
    s->start = (uint32_t)pre;
    set_cap(s);
    if (log->idx.keyed) {
        uint32_t al = (uint32_t)auxlen;
        memcpy(s->data, &key->ms, 8);
        memcpy(s->data + 8, &key->seq, 8);
        memcpy(s->data + 16, &al, 4);
        if (auxlen)
            memcpy(s->data + KEYED_PREFIX, aux, auxlen);
    }
    return s;
}

void seg_key(const qseg *s, qlog_key *key)
{
    memcpy(&key->ms, s->data, 8);
    memcpy(&key->seq, s->data + 8, 8);
}

/* Makes room for need bytes before (front) or after the entries.  Spare
 * room already there is used first, re-centred so that a segment pushed at
 * both ends (or pushed at one and popped at the other, as a queue is) does
 * not move its entries on every push.  Otherwise an end segment grows by
 * half (up to the fill cap while under it), which makes pushes amortized
 * O(1) with few reallocations, and an inner one to the size needed. */
qseg *seg_reserve(qlog *log, qseg *s, size_t need, int front, int end_segment)
{
    size_t pre = seg_prefix(log, s);
    size_t ffree = s->start - pre;
    size_t bfree = s->cap - s->start - s->bytes;
    size_t newstart;

    if ((front ? ffree : bfree) >= need)
        return s;
    size_t spare = ffree + bfree;
    if (spare >= need && spare - need >= s->bytes / 8) {
        newstart = pre + (spare - need) / 2 + (front ? need : 0);
    } else {
        /* Either way the segment grows: inner ones have no room in front,
         * so spare < need; end ones grow past their cap.  Shrinking here
         * would cut entries that have not moved yet. */
        size_t size = pre + s->bytes + need;
        if (end_segment) {
            size_t grown = s->cap + s->cap / 2;
            if (grown > log->max_bytes && s->cap < log->max_bytes)
                grown = log->max_bytes;
            if (grown > size)
                size = grown;
        }
        assert(size > s->cap);
        s = seg_resize(s, size);
        spare = s->cap - pre - s->bytes;
        assert(spare >= need);
        newstart = front ? pre + spare : pre;
    }
    memmove(s->data + newstart, s->data + s->start, s->bytes);
    s->start = (uint32_t)newstart;
    return s;
}

/* Gives the spare room back, moving the entries next to the prefix. */
qseg *seg_shrink(qlog *log, qseg *s)
{
    size_t pre = seg_prefix(log, s);
    if (s->start != pre) {
        memmove(s->data + pre, s->data + s->start, s->bytes);
        s->start = (uint32_t)pre;
    }
    return seg_resize(s, pre + s->bytes);
}

/* End segments keep up to their own size spare (they are pushed and popped
 * in place; growth by half and this leave pops a quarter of the entries
 * before the segment shrinks); inner ones are held at their exact size, as
 * far as the size classes of the allocator go. */
qseg *seg_tidy(qlog *log, qseg *s, int end_segment)
{
    size_t pre = seg_prefix(log, s), used = pre + s->bytes;
    size_t spare = s->cap - used;
    if (end_segment ? spare > used + SEG_SPARE_MIN : spare > used / 8 + 16 || s->start != pre)
        return seg_shrink(log, s);
    return s;
}

/* ---- entries ----------------------------------------------------------------- */

/* Inserts e at offset off (start <= off <= start + bytes). */
qseg *seg_insert(qlog *log, qseg *s, size_t off, const qenc *e, int end_segment)
{
    size_t rel = off - s->start, after = s->bytes - rel;
    size_t sz = e->size;

    if (rel <= after && s->start - seg_prefix(log, s) >= sz) {
        /* Moving the part in front is cheaper and there is room for it. */
        memmove(s->data + s->start - sz, s->data + s->start, rel);
        s->start -= (uint32_t)sz;
    } else {
        s = seg_reserve(log, s, sz, 0, end_segment);
        memmove(s->data + s->start + rel + sz, s->data + s->start + rel, after);
    }
    enc_write(s->data + s->start + rel, e);
    s->bytes += (uint32_t)sz;
    s->count++;
    log->count++;
    return s;
}

/* Deletes n entries, len bytes at off.  *next_off receives the new offset
 * of the byte that followed them (the end of what came before them). */
qseg *seg_delete(qlog *log, qseg *s, size_t off, size_t len, uint32_t n, int end_segment,
                 size_t *next_off)
{
    size_t rel = off - s->start, after = s->bytes - rel - len;
    size_t next;

    assert(off >= s->start && rel + len <= s->bytes && n <= s->count);
    /* Only end segments keep room in front of their entries. */
    if (rel < after && end_segment) {
        memmove(s->data + s->start + len, s->data + s->start, rel);
        s->start += (uint32_t)len;
        next = off + len;
    } else {
        memmove(s->data + off, s->data + off + len, after);
        next = off;
    }
    s->bytes -= (uint32_t)len;
    s->count -= n;
    log->count -= n;
    if (s->count) {
        size_t before = s->start;
        s = seg_tidy(log, s, end_segment);
        next = next - before + s->start;
    }
    *next_off = next;
    return s;
}

/* Replaces the entry of oldsize bytes at off with e. */
qseg *seg_replace(qlog *log, qseg *s, size_t off, size_t oldsize, const qenc *e,
                  int end_segment)
{
    size_t rel = off - s->start, after = s->bytes - rel - oldsize;
    if (e->size > oldsize)
        s = seg_reserve(log, s, e->size - oldsize, 0, end_segment);
    unsigned char *p = s->data + s->start + rel;
    if (e->size != oldsize)
        memmove(p + e->size, p + oldsize, after);
    enc_write(p, e);
    s->bytes = (uint32_t)(s->bytes - oldsize + e->size);
    return s;
}

/* Moves entries k.. (starting at off) into a new segment, which it
 * returns; *sp keeps the first k, at their exact size. */
qseg *seg_split(qlog *log, qseg **sp, size_t off, uint32_t k)
{
    qseg *s = *sp;
    size_t moved = s->start + s->bytes - off;

    assert(!log->idx.keyed && k > 0 && k < s->count);
    qseg *r = seg_new(log, NULL, NULL, 0, moved);
    memcpy(r->data, s->data + off, moved);
    r->bytes = (uint32_t)moved;
    r->count = s->count - k;
    s->bytes -= (uint32_t)moved;
    s->count = k;
    *sp = seg_shrink(log, s);
    return r;
}

/* Appends src's entries to dst (src is left as it was). */
qseg *seg_append(qlog *log, qseg *dst, const qseg *src, int end_segment)
{
    assert(!log->idx.keyed);
    dst = seg_reserve(log, dst, src->bytes, 0, end_segment);
    memcpy(dst->data + dst->start + dst->bytes, src->data + src->start, src->bytes);
    dst->bytes += src->bytes;
    dst->count += src->count;
    return dst;
}

/* A compact copy of s, a segment of from. */
qseg *seg_copy(const qlog *from, const qseg *s)
{
    size_t pre = seg_prefix(from, s);
    qseg *c = mem_alloc(SEG_HDR + pre + s->bytes);
    memcpy(c->data, s->data, pre);
    memcpy(c->data + pre, s->data + s->start, s->bytes);
    c->count = s->count;
    c->bytes = s->bytes;
    c->start = (uint32_t)pre;
    set_cap(c);
    return c;
}

/* A keyed segment with a new aux; the entries move with it. */
qseg *seg_set_aux(qlog *log, qseg *s, const void *aux, size_t auxlen)
{
    qlog_key key;
    seg_key(s, &key);
    qseg *n = seg_new(log, &key, aux, auxlen, s->bytes);
    memcpy(n->data + n->start, s->data + s->start, s->bytes);
    n->bytes = s->bytes;
    n->count = s->count;
    mem_free(s);
    return n;
}

/* Offset of entry k, walked from the nearer end. */
size_t seg_seek(const qseg *s, uint32_t k)
{
    assert(k <= s->count);
    if (k <= s->count / 2)
        return seg_skip(s, s->start, k);
    size_t off = s->start + s->bytes;
    for (uint32_t i = s->count; i > k; i--)
        off -= ent_size_back(s->data + off);
    return off;
}

size_t seg_skip(const qseg *s, size_t off, uint32_t n)
{
    while (n--)
        off += ent_size(s->data + off);
    return off;
}

/* ---- verification -------------------------------------------------------------- */

#define VCHECK(cond)                                                             \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "qlog segment check failed: %s (%s:%d)\n", #cond,    \
                    __FILE__, __LINE__);                                         \
            return -1;                                                           \
        }                                                                        \
    } while (0)

/* The entry at p, of size sz, is encoded as enc_prepare() would have. */
static int ent_canonical(const unsigned char *p, size_t sz)
{
    qlog_value v;
    qenc e;
    ent_decode(p, &v);
    if (v.is_int) {
        char buf[QLOG_INT_BUFSIZE];
        size_t len;
        qlog_value_bytes(&v, buf, &len);
        enc_prepare(&e, buf, len);
    } else {
        enc_prepare(&e, v.str, v.len);
    }
    VCHECK(e.size == sz);
    VCHECK(memcmp(p, e.head, e.hlen) == 0);
    VCHECK(memcmp(p + sz - e.tlen, e.tail, e.tlen) == 0);
    return 0;
}

int seg_verify(const qlog *log, const qseg *s)
{
    size_t pre = seg_prefix(log, s);
    VCHECK(s->count > 0);
    VCHECK(s->start >= pre);
    VCHECK((size_t)s->start + s->bytes <= s->cap);
    VCHECK(mem_usable(s) == SEG_HDR + s->cap);

    size_t off = s->start, end = (size_t)s->start + s->bytes;
    uint32_t n = 0;
    while (off < end) {
        size_t sz = ent_size(s->data + off);
        VCHECK(sz <= end - off);
        VCHECK(ent_size_back(s->data + off + sz) == sz);
        if (ent_canonical(s->data + off, sz) < 0)
            return -1;
        off += sz;
        n++;
    }
    VCHECK(off == end);
    VCHECK(n == s->count);
    /* And back again, as backward iteration and tail pops read it. */
    n = 0;
    while (off > s->start) {
        off -= ent_size_back(s->data + off);
        n++;
    }
    VCHECK(off == s->start && n == s->count);
    return 0;
}
