/* t_stream_store.c - the stream value: entries stored in the queue log.
 *
 * DATA LAYOUT
 *
 * The entries live in a keyed queue log (qlog.h), one log entry per stream
 * entry, in ID order.  A log segment plays the part of a Redis radix-tree
 * node (a listpack): its 128-bit key is the ID of the first entry added to
 * it (the "master ID"), and its aux blob holds the rest of Redis's master
 * entry:
 *
 *     aux:   deleted (u32 LE) | nfields (varint) | nfields x (len varint, bytes)
 *
 * deleted counts the segment's tombstones; the field names are those of the
 * segment's first entry, which later entries share in the common case.
 *
 * An entry is a byte string:
 *
 *     flags | ms-delta | seq | [nfields | (flen, field, vlen, value)...]
 *                            | or, with SAMEFIELDS: (vlen, value)...
 *
 *   flags     one byte: SE_DELETED (a tombstone left by XDEL/XTRIM),
 *             SE_SAMEFIELDS (the field names are the segment's: only the
 *             values follow).  Always 0..3, so the log never mistakes an
 *             entry for a decimal integer.
 *   ms-delta  id.ms - master.ms, unsigned LEB128 varint.
 *   seq       when ms-delta is 0, id.seq - master.seq; else id.seq: both
 *             small for generated IDs (same-millisecond runs, or seq 0).
 *   lengths   unsigned LEB128 varints.
 *
 * So `XADD s * field value` costs flags 1 + ms-delta 1-2 + seq 1 + value
 * 1+5 bytes, plus the log's 2-byte entry framing: 11-12 bytes, where a
 * Redis listpack spends 15-16.
 *
 * Deletion flags an entry rather than removing it, and a segment whose
 * last live entry is deleted goes away whole, exactly when Redis frees a
 * node.  Segments are opened under Redis's rules (stream-node-max-bytes on
 * the node's *listpack* size, stream-node-max-entries counting
 * tombstones), so XINFO's radix-tree-keys and the result of `~` trimming,
 * which drops whole nodes only, match Redis's: the listpack size a segment
 * would have in Redis is computed from its entries (lp_* below), cached
 * for the tail segment, the only one that grows.
 *
 * Seeking an ID is O(log n): the log's index finds the last segment whose
 * key is <= the ID, then at most one segment is scanned.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "mem.h"
#include "qlog_stream_ext.h"
#include "server.h"
#include "t_stream_int.h"
#include "util.h"

#define LP_MAX_SIZE (1ULL << 30) /* Redis's STREAM_LISTPACK_MAX_SIZE */

/* ---- IDs ---------------------------------------------------------------------- */

int sid_incr(streamID *id)
{
    if (id->seq == UINT64_MAX) {
        if (id->ms == UINT64_MAX) {
            id->ms = id->seq = 0;
            return -1;
        }
        id->ms++;
        id->seq = 0;
    } else {
        id->seq++;
    }
    return 0;
}

int sid_decr(streamID *id)
{
    if (id->seq == 0) {
        if (id->ms == 0) {
            id->ms = id->seq = UINT64_MAX;
            return -1;
        }
        id->ms--;
        id->seq = UINT64_MAX;
    } else {
        id->seq--;
    }
    return 0;
}

static int u64_format(char *buf, uint64_t v)
{
    char tmp[24];
    int n = 0, len = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        buf[len++] = tmp[--n];
    return len;
}

int sid_format(char *buf, const streamID *id)
{
    int n = u64_format(buf, id->ms);
    buf[n++] = '-';
    n += u64_format(buf + n, id->seq);
    buf[n] = '\0';
    return n;
}

static inline qlog_key key_of(const streamID *id)
{
    qlog_key k = {id->ms, id->seq};
    return k;
}

/* ---- varints -------------------------------------------------------------------- */

static inline size_t varint_put(unsigned char *p, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        p[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    p[n++] = (unsigned char)v;
    return n;
}

static inline size_t varint_len(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static inline uint64_t varint_get(const unsigned char **pp)
{
    const unsigned char *p = *pp;
    uint64_t v = 0;
    int shift = 0;
    for (;;) {
        unsigned char b = *p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            break;
        shift += 7;
    }
    *pp = p;
    return v;
}

/* ---- aux blob (the master entry) --------------------------------------------------- */

static uint32_t aux_deleted(const void *aux)
{
    const unsigned char *p = aux;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void aux_set_deleted(unsigned char *p, uint32_t d)
{
    p[0] = (unsigned char)d;
    p[1] = (unsigned char)(d >> 8);
    p[2] = (unsigned char)(d >> 16);
    p[3] = (unsigned char)(d >> 24);
}

/* Master field count; *fields points at the first (len, bytes). */
static uint64_t aux_fields(const void *aux, const unsigned char **fields)
{
    const unsigned char *p = (const unsigned char *)aux + 4;
    uint64_t n = varint_get(&p);
    *fields = p;
    return n;
}

/* Adds delta to a segment's tombstone count. */
static void seg_add_deleted(qlog *log, size_t segpos, const qlog_seginfo *si, uint32_t delta)
{
    unsigned char small[256];
    unsigned char *copy = si->auxlen <= sizeof(small) ? small : mem_alloc(si->auxlen);
    memcpy(copy, si->aux, si->auxlen);
    aux_set_deleted(copy, aux_deleted(si->aux) + delta);
    size_t len = si->auxlen;
    qlog_seg_set_aux(log, segpos, copy, len);
    if (copy != small)
        mem_free(copy);
}

/* ---- Redis listpack sizes (node boundaries) ------------------------------------------ */

static size_t lp_backlen_size(size_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

static size_t lp_int_size(int64_t v)
{
    if (v >= 0 && v <= 127)
        return 2;
    if (v >= -4096 && v <= 4095)
        return 3;
    if (v >= -32768 && v <= 32767)
        return 4;
    if (v >= -8388608 && v <= 8388607)
        return 5;
    if (v >= INT32_MIN && v <= INT32_MAX)
        return 6;
    return 10;
}

static size_t lp_str_size(const char *p, size_t len)
{
    long long v;
    /* listpacks store canonical decimal strings as integers */
    if (len && len <= 20 && string2ll(p, len, &v))
        return lp_int_size(v);
    size_t enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
    return enc + lp_backlen_size(enc);
}

/* The listpack bytes of an entry: flags, ms-diff, seq-diff, [numfields,
 * fields], values, lp-count. */
static size_t lp_entry_size(const streamID *id, const qlog_key *master, int same, uint64_t numfields,
                            const char *const *fv, const size_t *fvlen)
{
    size_t n = 2; /* flags: 0..3 */
    n += lp_int_size((int64_t)(id->ms - master->ms));
    n += lp_int_size((int64_t)(id->seq - master->seq));
    if (!same)
        n += lp_int_size((int64_t)numfields);
    for (uint64_t i = 0; i < numfields; i++) {
        if (!same)
            n += lp_str_size(fv[2 * i], fvlen[2 * i]);
        n += lp_str_size(fv[2 * i + 1], fvlen[2 * i + 1]);
    }
    n += lp_int_size((int64_t)(same ? numfields + 3 : 2 * numfields + 4));
    return n;
}

/* Header, the master entry and the terminator. */
static size_t lp_master_size(uint64_t valid, uint64_t deleted, const void *aux)
{
    const unsigned char *f;
    uint64_t nf = aux_fields(aux, &f);
    size_t n = 7 + lp_int_size((int64_t)valid) + lp_int_size((int64_t)deleted) + lp_int_size((int64_t)nf) + 2;
    for (uint64_t i = 0; i < nf; i++) {
        uint64_t len = varint_get(&f);
        n += lp_str_size((const char *)f, len);
        f += len;
    }
    return n;
}

/* ---- entry encoding ------------------------------------------------------------------ */

struct decoded {
    unsigned flags;
    streamID id;
    uint64_t nfields;
    const unsigned char *p; /* after the ID (and nfields) */
};

static void entry_decode(const qlog_value *v, const qlog_key *master, uint64_t master_count, struct decoded *d)
{
    assert(!v->is_int);
    const unsigned char *p = (const unsigned char *)v->str;
    d->flags = p[0];
    p++;
    uint64_t msd = varint_get(&p), seq = varint_get(&p);
    d->id.ms = master->ms + msd;
    d->id.seq = msd ? seq : master->seq + seq;
    d->nfields = (d->flags & SE_SAMEFIELDS) ? master_count : varint_get(&p);
    d->p = p;
}

/* Does the entry's field list equal the master fields in aux? */
static int same_fields(const void *aux, uint64_t numfields, const char *const *fv, const size_t *fvlen)
{
    const unsigned char *f;
    if (aux_fields(aux, &f) != numfields)
        return 0;
    for (uint64_t i = 0; i < numfields; i++) {
        uint64_t len = varint_get(&f);
        if (len != fvlen[2 * i] || memcmp(f, fv[2 * i], len) != 0)
            return 0;
        f += len;
    }
    return 1;
}

static size_t entry_encoded_len(const streamID *id, const qlog_key *master, int same, uint64_t numfields,
                                const size_t *fvlen)
{
    uint64_t msd = id->ms - master->ms;
    size_t n = 1 + varint_len(msd) + varint_len(msd ? id->seq : id->seq - master->seq);
    if (!same)
        n += varint_len(numfields);
    for (uint64_t i = 0; i < numfields; i++) {
        if (!same)
            n += varint_len(fvlen[2 * i]) + fvlen[2 * i];
        n += varint_len(fvlen[2 * i + 1]) + fvlen[2 * i + 1];
    }
    return n;
}

static size_t entry_encode(unsigned char *out, const streamID *id, const qlog_key *master, int same,
                           uint64_t numfields, const char *const *fv, const size_t *fvlen)
{
    unsigned char *p = out;
    uint64_t msd = id->ms - master->ms;
    *p++ = same ? SE_SAMEFIELDS : 0;
    p += varint_put(p, msd);
    p += varint_put(p, msd ? id->seq : id->seq - master->seq);
    if (!same)
        p += varint_put(p, numfields);
    for (uint64_t i = 0; i < numfields; i++) {
        if (!same) {
            p += varint_put(p, fvlen[2 * i]);
            memcpy(p, fv[2 * i], fvlen[2 * i]);
            p += fvlen[2 * i];
        }
        p += varint_put(p, fvlen[2 * i + 1]);
        memcpy(p, fv[2 * i + 1], fvlen[2 * i + 1]);
        p += fvlen[2 * i + 1];
    }
    return (size_t)(p - out);
}

/* The listpack size of an entry already in the log. */
static size_t lp_stored_entry_size(const qlog_value *v, const qlog_key *master, const void *aux)
{
    const unsigned char *mf;
    uint64_t mcount = aux_fields(aux, &mf);
    struct decoded d;
    entry_decode(v, master, mcount, &d);
    int same = (d.flags & SE_SAMEFIELDS) != 0;
    size_t n = 2 + lp_int_size((int64_t)(d.id.ms - master->ms)) + lp_int_size((int64_t)(d.id.seq - master->seq));
    if (!same)
        n += lp_int_size((int64_t)d.nfields);
    const unsigned char *p = d.p;
    for (uint64_t i = 0; i < d.nfields; i++) {
        if (!same) {
            uint64_t fl = varint_get(&p);
            n += lp_str_size((const char *)p, fl);
            p += fl;
        }
        uint64_t vl = varint_get(&p);
        n += lp_str_size((const char *)p, vl);
        p += vl;
    }
    n += lp_int_size((int64_t)(same ? d.nfields + 3 : 2 * d.nfields + 4));
    return n;
}

/* Listpack bytes of the tail segment's entries (cached per tail key). */
static size_t tail_entry_bytes(stream *s, const qlog_seginfo *si)
{
    if (s->tail_known && s->tail_key.ms == si->key.ms && s->tail_key.seq == si->key.seq)
        return s->tail_entry_bytes;
    size_t total = 0, pos = qlog_length(s->log) - si->count;
    qlog_iter it;
    qlog_value v;
    qlog_seginfo cur;
    qlog_iter_init(&it, s->log, (long long)pos, QLOG_FORWARD);
    while (qlog_iter_next(&it, &v)) {
        qlog_iter_seginfo(&it, &cur);
        total += lp_stored_entry_size(&v, &cur.key, cur.aux);
    }
    s->tail_key = si->key;
    s->tail_known = 1;
    s->tail_entry_bytes = total;
    return total;
}

/* ---- life cycle ------------------------------------------------------------------------ */

stream *stream_new(void)
{
    stream *s = mem_calloc(sizeof(*s));
    s->log = qlog_create_keyed(QLOG_FILL_DEFAULT);
    list_init(&s->waiters);
    return s;
}

void (*stream_waiter_gone)(struct stream_waiter *w);

/* Clients blocked in XREADGROUP on this stream are told it left their key
 * (freed, or moved to another key or database); the command module
 * decides, once the command is over, from what their key holds then. */
static void release_waiters(stream *s)
{
    struct list_node *n;
    while ((n = list_first(&s->waiters)) != NULL) {
        struct stream_waiter *w = list_entry(n, struct stream_waiter, node);
        list_del(&s->waiters, n);
        w->s = NULL;
        w->gone = 1;
        if (stream_waiter_gone)
            stream_waiter_gone(w);
    }
}

void stream_free(stream *s)
{
    release_waiters(s);
    qlog_free(s->log);
    for (size_t i = 0; i < s->ngroups; i++)
        stream_cg_free(s->groups[i]);
    mem_free(s->groups);
    stream_idmp_free(s->idmp);
    mem_free(s);
}

stream *stream_dup(const stream *s)
{
    stream *d = mem_calloc(sizeof(*d));
    d->log = qlog_dup(s->log);
    d->length = s->length;
    d->last_id = s->last_id;
    d->first_id = s->first_id;
    d->max_deleted_id = s->max_deleted_id;
    d->entries_added = s->entries_added;
    list_init(&d->waiters);
    if (s->ngroups) {
        d->groups = mem_alloc(sizeof(*d->groups) * s->ngroups);
        d->capgroups = d->ngroups = s->ngroups;
        for (size_t i = 0; i < s->ngroups; i++)
            d->groups[i] = stream_cg_dup(s->groups[i]);
    }
    d->idmp = stream_idmp_dup(s->idmp);
    return d;
}

size_t stream_mem_usage(const stream *s)
{
    size_t n = mem_usable(s) + qlog_mem_usage(s->log);
    if (s->groups)
        n += mem_usable(s->groups);
    for (size_t i = 0; i < s->ngroups; i++)
        n += stream_cg_mem_usage(s->groups[i]);
    return n + stream_idmp_mem_usage(s->idmp);
}

void stream_get_meta(const stream *s, struct stream_meta *m)
{
    m->length = s->length;
    m->last_id = s->last_id;
    m->first_id = s->first_id;
    m->max_deleted_id = s->max_deleted_id;
    m->entries_added = s->entries_added;
}

void stream_set_meta(stream *s, const struct stream_meta *m)
{
    s->last_id = m->last_id;
    s->first_id = m->first_id;
    s->max_deleted_id = m->max_deleted_id;
    s->entries_added = m->entries_added;
}

/* ---- appending ---------------------------------------------------------------------------- */

int stream_elements_too_large(uint64_t numfields, const size_t *fvlen)
{
    unsigned long long total = 0;
    for (uint64_t i = 0; i < numfields * 2; i++)
        total += fvlen[i];
    return total > LP_MAX_SIZE;
}

/* Would Redis start a new node for this entry?  See streamAppendItem: the
 * tail listpack plus the raw element bytes reaching stream-node-max-bytes,
 * or the node holding stream-node-max-entries entries, tombstones included. */
static int tail_is_full(stream *s, const qlog_seginfo *si, unsigned long long totelelen)
{
    unsigned long long max_bytes = (unsigned long long)srv.stream_node_max_bytes;
    if (max_bytes == 0 || max_bytes > LP_MAX_SIZE)
        max_bytes = LP_MAX_SIZE;
    uint32_t deleted = aux_deleted(si->aux);
    size_t lp_bytes = lp_master_size(si->count - deleted, deleted, si->aux) + tail_entry_bytes(s, si);
    if (lp_bytes + totelelen >= max_bytes)
        return 1;
    return srv.stream_node_max_entries && (long long)si->count >= srv.stream_node_max_entries;
}

int stream_append(stream *s, const streamID *id, uint64_t numfields, const char *const *fv, const size_t *fvlen)
{
    if (sid_cmp(id, &s->last_id) <= 0)
        return -1;
    unsigned long long totelelen = 0;
    for (uint64_t i = 0; i < numfields * 2; i++)
        totelelen += fvlen[i];

    qlog_seginfo si;
    int new_seg = !qlog_tail_seginfo(s->log, &si) || tail_is_full(s, &si, totelelen);
    qlog_key master = new_seg ? key_of(id) : si.key;
    int same = new_seg ? 1 : same_fields(si.aux, numfields, fv, fvlen);
    size_t len = entry_encoded_len(id, &master, same, numfields, fvlen);
    unsigned char small[512];
    unsigned char *buf = len <= sizeof(small) ? small : mem_alloc(len);
    entry_encode(buf, id, &master, same, numfields, fv, fvlen);
    size_t lpsize = lp_entry_size(id, &master, same, numfields, fv, fvlen);

    if (new_seg) {
        size_t auxlen = 4 + varint_len(numfields);
        for (uint64_t i = 0; i < numfields; i++)
            auxlen += varint_len(fvlen[2 * i]) + fvlen[2 * i];
        unsigned char asmall[256];
        unsigned char *aux = auxlen <= sizeof(asmall) ? asmall : mem_alloc(auxlen);
        unsigned char *p = aux;
        aux_set_deleted(p, 0);
        p += 4;
        p += varint_put(p, numfields);
        for (uint64_t i = 0; i < numfields; i++) {
            p += varint_put(p, fvlen[2 * i]);
            memcpy(p, fv[2 * i], fvlen[2 * i]);
            p += fvlen[2 * i];
        }
        qlog_push_tail_keyed(s->log, master, aux, auxlen, buf, len);
        if (aux != asmall)
            mem_free(aux);
        s->tail_key = master;
        s->tail_known = 1;
        s->tail_entry_bytes = lpsize;
    } else {
        qlog_push_tail(s->log, buf, len);
        s->tail_entry_bytes += lpsize; /* tail_is_full() made the cache current */
    }
    if (buf != small)
        mem_free(buf);
    s->length++;
    s->entries_added++;
    s->last_id = *id;
    if (s->length == 1)
        s->first_id = *id;
    return 0;
}

/* ---- iteration ------------------------------------------------------------------------------ */

void stream_iter_start(stream_iter *si, stream *s, const streamID *start, const streamID *end, int rev)
{
    memset(si, 0, sizeof(*si));
    si->s = s;
    si->rev = rev;
    if (start)
        si->start = *start;
    if (end) {
        si->end = *end;
    } else {
        si->end.ms = si->end.seq = UINT64_MAX;
    }
    if (!rev) {
        if (start && !sid_is_zero(start))
            qlog_iter_init_key(&si->it, s->log, key_of(start), QLOG_FORWARD);
        else
            qlog_iter_init(&si->it, s->log, 0, QLOG_FORWARD);
    } else {
        if (end && !sid_is_zero(end))
            qlog_iter_init_key(&si->it, s->log, key_of(end), QLOG_BACKWARD);
        else
            qlog_iter_init(&si->it, s->log, -1, QLOG_BACKWARD);
    }
}

/* Next entry, tombstones included; 0 at the end of the log. */
static int iter_raw_next(stream_iter *si, struct decoded *d)
{
    qlog_value v;
    qlog_seginfo seg;
    if (!qlog_iter_next(&si->it, &v))
        return 0;
    qlog_iter_seginfo(&si->it, &seg);
    if (!si->have_seg || seg.key.ms != si->segkey.ms || seg.key.seq != si->segkey.seq) {
        si->have_seg = 1;
        si->segkey = seg.key;
        si->master_count = aux_fields(seg.aux, &si->master_fields);
        si->seg_index = si->rev ? seg.count - 1 : 0;
    } else if (si->rev) {
        si->seg_index--;
    } else {
        si->seg_index++;
    }
    entry_decode(&v, &si->segkey, si->master_count, d);
    si->pend = (const unsigned char *)v.str + v.len;
    return 1;
}

int stream_iter_next(stream_iter *si, streamID *id, uint64_t *numfields)
{
    struct decoded d;
    while (iter_raw_next(si, &d)) {
        /* Redis's rule: tombstones are skipped wherever they are, and the
         * first live entry past the range ends it (XSETID may leave IDs
         * out of order behind a tombstone: this gives Redis's answers) */
        if (d.flags & SE_DELETED)
            continue;
        if (!si->rev) {
            if (sid_cmp(&d.id, &si->start) < 0)
                continue;
            if (sid_cmp(&d.id, &si->end) > 0)
                return 0;
        } else {
            if (sid_cmp(&d.id, &si->end) > 0)
                continue;
            if (sid_cmp(&d.id, &si->start) < 0)
                return 0;
        }
        si->flags = d.flags;
        si->nfields = d.nfields;
        si->p = d.p;
        si->mf_cursor = si->master_fields;
        *id = d.id;
        if (numfields)
            *numfields = d.nfields;
        return 1;
    }
    return 0;
}

void stream_iter_field(stream_iter *si, const char **field, size_t *flen, const char **value, size_t *vlen)
{
    if (si->flags & SE_SAMEFIELDS) {
        const unsigned char *f = si->mf_cursor;
        uint64_t l = varint_get(&f);
        *field = (const char *)f;
        *flen = l;
        si->mf_cursor = f + l;
    } else {
        uint64_t l = varint_get(&si->p);
        *field = (const char *)si->p;
        *flen = l;
        si->p += l;
    }
    uint64_t l = varint_get(&si->p);
    *value = (const char *)si->p;
    *vlen = l;
    si->p += l;
}

/* ---- lookups ------------------------------------------------------------------------------------ */

void stream_last_valid_id(stream *s, streamID *id)
{
    stream_iter si;
    stream_iter_start(&si, s, NULL, NULL, 1);
    if (!stream_iter_next(&si, id, NULL))
        id->ms = id->seq = 0;
}

void stream_first_valid_id(stream *s, streamID *id)
{
    stream_iter si;
    stream_iter_start(&si, s, NULL, NULL, 0);
    if (!stream_iter_next(&si, id, NULL))
        id->ms = id->seq = UINT64_MAX;
}

void stream_first_entry_id(stream *s, streamID *id)
{
    stream_iter si;
    struct decoded d;
    stream_iter_start(&si, s, NULL, NULL, 0);
    if (iter_raw_next(&si, &d))
        *id = d.id;
    else
        id->ms = id->seq = 0;
}

int stream_entry_exists(stream *s, const streamID *id)
{
    stream_iter si;
    streamID got;
    stream_iter_start(&si, s, id, id, 0);
    return stream_iter_next(&si, &got, NULL);
}

/* Flags the entry at pos (in segment si, whose first entry is at segpos) as
 * deleted, or drops the segment when it was its last live entry.  Returns
 * 1 if the segment was dropped. */
static int tombstone_at(stream *s, size_t pos, size_t segpos, const qlog_seginfo *si)
{
    uint32_t deleted = aux_deleted(si->aux);
    if (si->count - deleted == 1) {
        qlog_delete_range(s->log, (long long)segpos, si->count);
        return 1;
    }
    seg_add_deleted(s->log, segpos, si, 1);
    qlog_value v;
    int found = qlog_index(s->log, (long long)pos, &v);
    assert(found && !v.is_int);
    (void)found;
    unsigned char small[512];
    unsigned char *copy = v.len <= sizeof(small) ? small : mem_alloc(v.len);
    memcpy(copy, v.str, v.len);
    copy[0] |= SE_DELETED;
    qlog_replace(s->log, (long long)pos, copy, v.len);
    if (copy != small)
        mem_free(copy);
    return 0;
}

int stream_delete_entry(stream *s, const streamID *id)
{
    stream_iter si;
    streamID got;
    stream_iter_start(&si, s, id, id, 0);
    if (!stream_iter_next(&si, &got, NULL))
        return 0;
    qlog_seginfo seg;
    qlog_iter_seginfo(&si.it, &seg);
    size_t pos = qlog_iter_pos(&si.it);
    tombstone_at(s, pos, pos - si.seg_index, &seg);
    s->length--;
    return 1;
}

/* ---- trimming ----------------------------------------------------------------------------------- */

/* Redis's streamTrim: whole head segments go while the strategy allows;
 * approximate trimming stops at the first segment it can't drop whole,
 * exact trimming then flags entries of that segment. */
long long stream_trim(stream *s, const struct stream_trim *t)
{
    if (t->strategy == TRIM_NONE)
        return 0;
    long long deleted = 0;
    qlog_seginfo si;
    while (qlog_seg_at(s->log, 0, &si)) {
        if (t->strategy == TRIM_MAXLEN && s->length <= (uint64_t)t->maxlen)
            break;
        uint64_t entries = si.count - aux_deleted(si.aux);
        if (t->limit && deleted + (long long)entries > t->limit)
            break;
        int remove;
        if (t->strategy == TRIM_MAXLEN) {
            remove = s->length - entries >= (uint64_t)t->maxlen;
        } else {
            /* the segment's last entry, tombstone or not */
            qlog_value v;
            struct decoded d;
            qlog_index(s->log, (long long)si.count - 1, &v);
            const unsigned char *mf;
            entry_decode(&v, &si.key, aux_fields(si.aux, &mf), &d);
            remove = sid_cmp(&d.id, &t->minid) < 0;
        }
        if (remove) {
            qlog_delete_range(s->log, 0, si.count);
            s->length -= entries;
            deleted += (long long)entries;
            continue;
        }
        if (t->approx)
            break;
        /* flag entries of this segment from its start */
        uint32_t flagged = 0;
        qlog_key segkey = si.key;
        for (size_t pos = 0; pos < si.count; pos++) {
            qlog_value v;
            struct decoded d;
            qlog_seginfo cur;
            qlog_iter it;
            qlog_iter_init(&it, s->log, (long long)pos, QLOG_FORWARD);
            qlog_iter_next(&it, &v);
            qlog_iter_seginfo(&it, &cur);
            const unsigned char *mf;
            entry_decode(&v, &segkey, aux_fields(cur.aux, &mf), &d);
            int stop = t->strategy == TRIM_MAXLEN ? s->length <= (uint64_t)t->maxlen
                                                  : sid_cmp(&d.id, &t->minid) >= 0;
            if (stop)
                break;
            if (!(d.flags & SE_DELETED)) {
                unsigned char small[512];
                unsigned char *copy = v.len <= sizeof(small) ? small : mem_alloc(v.len);
                memcpy(copy, v.str, v.len);
                copy[0] |= SE_DELETED;
                qlog_replace(s->log, (long long)pos, copy, v.len);
                if (copy != small)
                    mem_free(copy);
                flagged++;
                s->length--;
            }
        }
        if (flagged) {
            qlog_seg_at(s->log, 0, &si);
            seg_add_deleted(s->log, 0, &si, flagged);
        }
        deleted += flagged;
        break;
    }
    if (s->length == 0) {
        s->first_id.ms = s->first_id.seq = 0;
    } else if (deleted) {
        stream_first_valid_id(s, &s->first_id);
    }
    return deleted;
}

/* ---- Redis's radix tree, for XINFO --------------------------------------------------------------- */

size_t stream_node_count(const stream *s) { return qlog_segments(s->log); }

static void key_bytes(const qlog_key *k, unsigned char out[16])
{
    for (int i = 0; i < 8; i++) {
        out[i] = (unsigned char)(k->ms >> (56 - 8 * i));
        out[8 + i] = (unsigned char)(k->seq >> (56 - 8 * i));
    }
}

static int lcp16(const unsigned char *a, const unsigned char *b)
{
    int i = 0;
    while (i < 16 && a[i] == b[i])
        i++;
    return i;
}

/* The node count of a Redis radix tree holding the segment keys as 16-byte
 * big-endian strings (XINFO's radix-tree-nodes).  A rax is a compressed
 * trie: a branching point is one node holding a character per child; a
 * run of characters leading to one child is one compressed node; every key
 * ends in a node of its own.  From the sorted keys and the common prefix of
 * neighbours: branch nodes + leaves + one compressed node per edge longer
 * than one character + the root when the keys share a first byte. */
size_t stream_rax_nodes(stream *s)
{
    size_t nkeys = qlog_segments(s->log);
    if (nkeys == 0)
        return 1;
    int stack[17];
    int sp = 0, cur = 16;
    size_t branches = 0, extra = 0, pos = 0;
    unsigned char prev[16], key[16];
    qlog_seginfo si;
    int first = 1;
    while (qlog_seg_at(s->log, pos, &si)) {
        pos += si.count;
        key_bytes(&si.key, key);
        if (!first) {
            int d = lcp16(prev, key);
            while (sp && stack[sp - 1] > d) {
                int top = stack[--sp];
                extra += cur - top >= 2;
                cur = top;
            }
            extra += cur - d >= 2;
            if (!sp || stack[sp - 1] < d) {
                stack[sp++] = d;
                branches++;
            }
            cur = 16;
        }
        memcpy(prev, key, 16);
        first = 0;
    }
    while (sp) {
        int top = stack[--sp];
        extra += cur - top >= 2;
        cur = top;
    }
    return branches + nkeys + extra + (cur > 0);
}

/* ---- the value type ------------------------------------------------------------------------------ */

static void ops_free(void *p) { stream_free(p); }
static void *ops_dup(const void *p) { return stream_dup(p); }
static size_t ops_mem(const void *p) { return stream_mem_usage(p); }
static const char *ops_encoding(const struct value *v)
{
    (void)v;
    return "stream";
}

static void ops_unlinked(void *p) { release_waiters(p); }

static const struct value_ops stream_ops = {ops_free, ops_dup, ops_mem, ops_encoding, ops_unlinked};

void stream_type_init(void) { value_register_type(OBJ_STREAM, &stream_ops); }

struct value *stream_value_new(void) { return value_new(OBJ_STREAM, ENC_STREAM, stream_new()); }
