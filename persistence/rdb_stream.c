/* rdb_stream.c - streams in Redis 7.0's RDB format, through stream.h.
 *
 * RDB_TYPE_STREAM_LISTPACKS_2 (19), as rdbSaveObject writes it:
 *
 *   <len nodes> { <string: master ID, 16 bytes ms|seq big-endian>
 *                 <string: listpack> }
 *   <len length> <len last.ms> <len last.seq>
 *   <len first.ms> <len first.seq> <len maxdel.ms> <len maxdel.seq>   (v2)
 *   <len entries-added>                                              (v2)
 *   <len groups> { <string name> <len last.ms> <len last.seq>
 *                  <len entries-read>                                (v2)
 *                  <len pel> { <16-byte ID> <ms delivery-time> <len delivery-count> }
 *                  <len consumers> { <string name> <ms seen-time>
 *                                    <len pel> { <16-byte ID> } } }
 *
 * A node's listpack (Redis's t_stream.c) starts with the master entry
 *   <count> <deleted> <num-fields> <field>... <0>
 * followed by entries, each
 *   <flags> <ms-diff> <seq-diff> [<num-fields> <field> <value>...] | [<value>...] <lp-count>
 * where flags 1 = deleted, 2 = same fields as the master entry (then only
 * values are stored), the diffs are from the master ID, and lp-count is the
 * number of listpack elements of the entry before it.  Type 15 (v1) lacks
 * the v2 fields; as Redis, loading derives them (first ID from the entries,
 * entries-added = length, entries-read estimated).
 *
 * Sluice keeps streams in its own log, so saving re-packs the live entries
 * into fresh nodes cut as Redis cuts them (stream-node-max-bytes /
 * -entries), with no tombstones: the metadata keeps what tombstones would
 * tell (max deleted ID, entries added).  Loading checks each node as
 * Redis's deep streamValidateListpackIntegrity, appends the live entries in
 * ID order, and resolves each consumer's PEL against the group's PEL (an
 * entry owned by no consumer, which Sluice cannot represent, is an error).
 *
 * Idempotent producers (XADD IDMP) are Sluice state Redis 7.0 has no field
 * for.  It is written after the stream's key as an AUX field named
 * "sluice-idmp" that names its own database and key: Redis 7.0 and
 * redis-check-rdb skip AUX fields they don't know (that is the AUX
 * contract), so the file stays loadable by Redis, while Sluice attaches the
 * state to the key when it reads the field.  Blob layout (RDB primitives):
 *   <len version=1> <len dbid> <string key> <len enabled> <len duration>
 *   <len maxsize> <len iids-added> <len iids-duplicates> <len pairs>
 *   { <string pid> <string iid> <len id.ms> <len id.seq> <ms added> }
 * It is only written for streams that have idempotency state.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "listpack.h"
#include "mem.h"
#include "rdb_format.h"
#include "stream.h"

/* The stream API is referenced weakly: programs built without the stream
 * modules (and the server while they are being written) still link, and
 * then refuse stream values with a clear error instead. */
#pragma weak stream_type_init
#pragma weak stream_value_new
#pragma weak stream_get_meta
#pragma weak stream_set_meta
#pragma weak stream_iter_start
#pragma weak stream_iter_next
#pragma weak stream_iter_field
#pragma weak stream_append
#pragma weak stream_group_count
#pragma weak stream_group_at
#pragma weak stream_group_create
#pragma weak stream_group_name
#pragma weak stream_group_state
#pragma weak stream_consumer_count
#pragma weak stream_consumer_at
#pragma weak stream_consumer_lookup
#pragma weak stream_consumer_get
#pragma weak stream_consumer_name
#pragma weak stream_consumer_seen_time
#pragma weak stream_consumer_set_seen_time
#pragma weak stream_pel_count
#pragma weak stream_pel_rewind
#pragma weak stream_pel_next
#pragma weak stream_pel_add
#pragma weak stream_idmp_get_info
#pragma weak stream_idmp_set_info
#pragma weak stream_idmp_foreach
#pragma weak stream_idmp_restore

static int streams_linked(void) { return stream_value_new != NULL && stream_append != NULL; }

#define STREAM_ITEM_FLAG_DELETED 1
#define STREAM_ITEM_FLAG_SAMEFIELDS 2
#define STREAM_LISTPACK_MAX_SIZE (1u << 30)

void rdb_stream_standalone_init(void)
{
    if (stream_type_init)
        stream_type_init();
}

static void encode_id(unsigned char *buf, const streamID *id)
{
    for (int i = 0; i < 8; i++) {
        buf[i] = (unsigned char)(id->ms >> (56 - 8 * i));
        buf[8 + i] = (unsigned char)(id->seq >> (56 - 8 * i));
    }
}

static void decode_id(const unsigned char *buf, streamID *id)
{
    id->ms = id->seq = 0;
    for (int i = 0; i < 8; i++) {
        id->ms = (id->ms << 8) | buf[i];
        id->seq = (id->seq << 8) | buf[8 + i];
    }
}

/* ---- saving ------------------------------------------------------------------ */

/* The entry being packed: its fields and values, copied out of the
 * iterator (whose pointers only last until the next call). */
struct entry_buf {
    streamID id;
    uint64_t nfields;
    sstr arena;
    size_t *off, *len; /* 2*nfields slices of arena: field, value, ... */
    size_t cap;
};

static void entry_read(struct entry_buf *e, stream_iter *si, const streamID *id, uint64_t nfields)
{
    e->id = *id;
    e->nfields = nfields;
    sstr_clear(e->arena);
    if (2 * nfields > e->cap) {
        e->cap = 2 * nfields;
        e->off = mem_realloc(e->off, sizeof(size_t) * e->cap);
        e->len = mem_realloc(e->len, sizeof(size_t) * e->cap);
    }
    for (uint64_t i = 0; i < nfields; i++) {
        const char *f, *v;
        size_t fl, vl;
        stream_iter_field(si, &f, &fl, &v, &vl);
        e->off[2 * i] = sstr_len(e->arena);
        e->len[2 * i] = fl;
        e->arena = sstr_cat(e->arena, f, fl);
        e->off[2 * i + 1] = sstr_len(e->arena);
        e->len[2 * i + 1] = vl;
        e->arena = sstr_cat(e->arena, v, vl);
    }
}

static inline const char *ebuf_at(const struct entry_buf *e, size_t i) { return e->arena + e->off[i]; }

/* A node being built.  The master entry's count must be the node's final
 * entry count, so the first pass records every node's count and the
 * second writes nodes with them. */
struct node_state {
    lp_writer w;            /* entries after the master entry */
    int open;
    streamID master;
    sstr mfields;           /* master field names, each prefixed by its length */
    uint64_t mcount;        /* master field count */
    uint64_t entries;       /* entries in the node */
    size_t entry_bytes;     /* their listpack size */
};

static int same_fields(const struct node_state *n, const struct entry_buf *e)
{
    if (e->nfields != n->mcount)
        return 0;
    const char *p = n->mfields;
    for (uint64_t i = 0; i < e->nfields; i++) {
        size_t l;
        memcpy(&l, p, sizeof(l));
        p += sizeof(l);
        if (l != e->len[2 * i] || memcmp(p, ebuf_at(e, 2 * i), l) != 0)
            return 0;
        p += l;
    }
    return 1;
}

static size_t master_size(const struct node_state *n, uint64_t count)
{
    size_t sz = lp_entry_size_int((long long)count) + lp_entry_size_int(0) + lp_entry_size_int((long long)n->mcount) +
                lp_entry_size_int(0);
    const char *p = n->mfields;
    for (uint64_t i = 0; i < n->mcount; i++) {
        size_t l;
        memcpy(&l, p, sizeof(l));
        p += sizeof(l);
        sz += lp_entry_size(p, l);
        p += l;
    }
    return sz;
}

/* Append the entry's listpack elements to w (when not NULL); returns their
 * encoded size. */
static size_t entry_encode(lp_writer *w, const struct node_state *n, const struct entry_buf *e)
{
    int same = same_fields(n, e);
    long long flags = same ? STREAM_ITEM_FLAG_SAMEFIELDS : 0;
    long long msd = (long long)(e->id.ms - n->master.ms), seqd = (long long)(e->id.seq - n->master.seq);
    long long lpcount = (long long)e->nfields + 3 + (same ? 0 : (long long)e->nfields + 1);
    size_t sz = lp_entry_size_int(flags) + lp_entry_size_int(msd) + lp_entry_size_int(seqd) + lp_entry_size_int(lpcount);
    if (w) {
        lpw_append_int(w, flags);
        lpw_append_int(w, msd);
        lpw_append_int(w, seqd);
    }
    if (!same) {
        sz += lp_entry_size_int((long long)e->nfields);
        if (w)
            lpw_append_int(w, (long long)e->nfields);
    }
    for (uint64_t i = 0; i < e->nfields; i++) {
        if (!same) {
            sz += lp_entry_size(ebuf_at(e, 2 * i), e->len[2 * i]);
            if (w)
                lpw_append(w, ebuf_at(e, 2 * i), e->len[2 * i]);
        }
        sz += lp_entry_size(ebuf_at(e, 2 * i + 1), e->len[2 * i + 1]);
        if (w)
            lpw_append(w, ebuf_at(e, 2 * i + 1), e->len[2 * i + 1]);
    }
    if (w)
        lpw_append_int(w, lpcount);
    return sz;
}

static void node_open(struct node_state *n, const struct entry_buf *e)
{
    n->open = 1;
    n->master = e->id;
    n->mcount = e->nfields;
    sstr_clear(n->mfields);
    for (uint64_t i = 0; i < e->nfields; i++) {
        size_t l = e->len[2 * i];
        n->mfields = sstr_cat(n->mfields, &l, sizeof(l));
        n->mfields = sstr_cat(n->mfields, ebuf_at(e, 2 * i), l);
    }
    n->entries = 0;
    n->entry_bytes = 0;
    lpw_reset(&n->w);
}

/* Write the open node: master ID, then the listpack (master entry with
 * the final count, then the entries already encoded in n->w). */
static int node_write(rio *r, struct node_state *n, int compress)
{
    unsigned char key[16];
    encode_id(key, &n->master);
    lp_writer full;
    lpw_init(&full, n->w.len + 64 + sstr_len(n->mfields));
    lpw_append_int(&full, (long long)n->entries);
    lpw_append_int(&full, 0);
    lpw_append_int(&full, (long long)n->mcount);
    const char *p = n->mfields;
    for (uint64_t i = 0; i < n->mcount; i++) {
        size_t l;
        memcpy(&l, p, sizeof(l));
        p += sizeof(l);
        lpw_append(&full, p, l);
        p += l;
    }
    lpw_append_int(&full, 0);
    /* the entries, as encoded */
    size_t ebytes = n->w.len - LP_HDR_SIZE;
    if (full.len + ebytes + 1 > full.cap) {
        full.cap = full.len + ebytes + 1;
        full.buf = mem_realloc(full.buf, full.cap);
    }
    memcpy(full.buf + full.len, n->w.buf + LP_HDR_SIZE, ebytes);
    full.len += ebytes;
    full.count += n->w.count;
    size_t size;
    const unsigned char *lp = lpw_finish(&full, &size);
    int rc = rdb_save_raw_string(r, key, 16, compress) == 0 && rdb_save_raw_string(r, lp, size, compress) == 0 ? 0 : -1;
    lpw_free(&full);
    n->open = 0;
    return rc;
}

/* One pass over the entries.  Pass 1 (counts == NULL... counts_out set):
 * decide the node boundaries as Redis's streamAppendItem would (a new
 * node when the listpack plus the entry's fields and values reach
 * node_max_bytes, or the node has node_max_entries entries) and record
 * each node's entry count.  Pass 2 (r set): follow those counts, write. */
static int pack_stream(stream *s, const struct rdb_save_opts *o, rio *r, uint64_t **counts, size_t *nnodes)
{
    size_t max_bytes = o->stream_node_max_bytes;
    if (max_bytes == 0 || max_bytes > STREAM_LISTPACK_MAX_SIZE)
        max_bytes = STREAM_LISTPACK_MAX_SIZE;
    uint64_t max_entries = (uint64_t)o->stream_node_max_entries;
    struct entry_buf e = {{0, 0}, 0, sstr_empty(64), NULL, NULL, 0};
    struct node_state n;
    memset(&n, 0, sizeof(n));
    lpw_init(&n.w, 4096);
    n.mfields = sstr_empty(64);
    size_t node = 0, cap = 0;
    int rc = 0;
    stream_iter si;
    streamID id;
    uint64_t nf;
    stream_iter_start(&si, s, NULL, NULL, 0);
    while (stream_iter_next(&si, &id, &nf)) {
        entry_read(&e, &si, &id, nf);
        if (n.open) {
            int new_node;
            if (r) {
                new_node = n.entries >= (*counts)[node];
            } else {
                size_t totelelen = 0;
                for (uint64_t i = 0; i < 2 * nf; i++)
                    totelelen += e.len[i];
                size_t lp_bytes = LP_HDR_SIZE + 1 + master_size(&n, n.entries) + n.entry_bytes;
                new_node = lp_bytes + totelelen >= max_bytes || (max_entries && n.entries >= max_entries);
            }
            if (new_node) {
                if (r) {
                    if (node_write(r, &n, o->compress) != 0) {
                        rc = -1;
                        break;
                    }
                    node++;
                } else {
                    if (node == cap) {
                        cap = cap ? cap * 2 : 16;
                        *counts = mem_realloc(*counts, sizeof(uint64_t) * cap);
                    }
                    (*counts)[node++] = n.entries;
                }
                n.open = 0;
            }
        }
        if (!n.open)
            node_open(&n, &e);
        n.entry_bytes += entry_encode(r ? &n.w : NULL, &n, &e);
        n.entries++;
    }
    if (rc == 0 && n.open) {
        if (r) {
            rc = node_write(r, &n, o->compress);
            node++;
        } else {
            if (node == cap) {
                cap = cap ? cap * 2 : 16;
                *counts = mem_realloc(*counts, sizeof(uint64_t) * cap);
            }
            (*counts)[node++] = n.entries;
        }
    }
    *nnodes = node;
    lpw_free(&n.w);
    sstr_free(n.mfields);
    sstr_free(e.arena);
    mem_free(e.off);
    mem_free(e.len);
    return rc;
}

static int save_pel_id(rio *r, const streamID *id)
{
    unsigned char raw[16];
    encode_id(raw, id);
    return rio_write(r, raw, 16) ? 0 : -1;
}

int rdb_save_stream(rio *r, const struct value *v, const struct rdb_save_opts *o)
{
    if (!streams_linked())
        return -1;
    stream *s = stream_of(v);
    uint64_t *counts = NULL;
    size_t nodes = 0, written = 0;
    pack_stream(s, o, NULL, &counts, &nodes);
    int rc = rdb_save_len(r, nodes);
    if (rc == 0)
        rc = pack_stream(s, o, r, &counts, &written);
    mem_free(counts);
    if (rc != 0)
        return -1;

    struct stream_meta m;
    stream_get_meta(s, &m);
    if (rdb_save_len(r, m.length) || rdb_save_len(r, m.last_id.ms) || rdb_save_len(r, m.last_id.seq) ||
        rdb_save_len(r, m.first_id.ms) || rdb_save_len(r, m.first_id.seq) || rdb_save_len(r, m.max_deleted_id.ms) ||
        rdb_save_len(r, m.max_deleted_id.seq) || rdb_save_len(r, m.entries_added))
        return -1;

    size_t ngroups = stream_group_count(s);
    if (rdb_save_len(r, ngroups))
        return -1;
    for (size_t gi = 0; gi < ngroups; gi++) {
        stream_cg *g = stream_group_at(s, gi);
        size_t nlen;
        const char *name = stream_group_name(g, &nlen);
        streamID last;
        long long entries_read;
        stream_group_state(g, &last, &entries_read);
        /* an unknown entries-read (-1) is written as Redis writes it: the
         * 64-bit length 0xffffffffffffffff */
        if (rdb_save_raw_string(r, name, nlen, o->compress) || rdb_save_len(r, last.ms) ||
            rdb_save_len(r, last.seq) || rdb_save_len(r, (uint64_t)entries_read))
            return -1;
        stream_pel_iter pi;
        streamID pid;
        long long dtime;
        uint64_t dcount;
        stream_consumer *owner;
        if (rdb_save_len(r, stream_pel_count(g, NULL)))
            return -1;
        stream_pel_rewind(&pi, g, NULL);
        while (stream_pel_next(&pi, &pid, &dtime, &dcount, &owner))
            if (save_pel_id(r, &pid) || rdb_save_ms_time(r, dtime) || rdb_save_len(r, dcount))
                return -1;
        size_t nconsumers = stream_consumer_count(g);
        if (rdb_save_len(r, nconsumers))
            return -1;
        for (size_t ci = 0; ci < nconsumers; ci++) {
            stream_consumer *c = stream_consumer_at(g, ci);
            size_t cl;
            const char *cname = stream_consumer_name(c, &cl);
            if (rdb_save_raw_string(r, cname, cl, o->compress) || rdb_save_ms_time(r, stream_consumer_seen_time(c)) ||
                rdb_save_len(r, stream_pel_count(g, c)))
                return -1;
            stream_pel_rewind(&pi, g, c);
            while (stream_pel_next(&pi, &pid, &dtime, &dcount, &owner))
                if (save_pel_id(r, &pid))
                    return -1;
        }
    }
    return 0;
}

/* ---- loading ------------------------------------------------------------------ */

/* An integer element, also when stored as a string (lpGetIntegerIfValid). */
static int lp_int(const lp_entry *e, long long *v)
{
    if (!e->str) {
        *v = e->ival;
        return 1;
    }
    return lp_string_to_int64(e->str, e->len, v);
}

/* Element bytes: strings as they are, integers formatted into an arena. */
struct fv_arena {
    sstr bytes;
    size_t *off, *len;
    const char **ptr;
    size_t n, cap;
};

static void fv_reset(struct fv_arena *a)
{
    sstr_clear(a->bytes);
    a->n = 0;
}

static void fv_push(struct fv_arena *a, const lp_entry *e)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 16;
        a->off = mem_realloc(a->off, sizeof(size_t) * a->cap);
        a->len = mem_realloc(a->len, sizeof(size_t) * a->cap);
        a->ptr = mem_realloc(a->ptr, sizeof(char *) * a->cap);
    }
    a->off[a->n] = sstr_len(a->bytes);
    if (e->str) {
        a->bytes = sstr_cat(a->bytes, e->str, e->len);
        a->len[a->n] = e->len;
    } else {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%lld", e->ival);
        a->bytes = sstr_cat(a->bytes, buf, (size_t)n);
        a->len[a->n] = (size_t)n;
    }
    a->n++;
}

static void fv_free(struct fv_arena *a)
{
    sstr_free(a->bytes);
    mem_free(a->off);
    mem_free(a->len);
    mem_free(a->ptr);
}

/* Parse one node's listpack (already validated as a listpack) and append
 * its live entries.  Returns 0 or -1 (error recorded). */
static int load_node(struct rdb_loader *l, stream *s, const streamID *master, const unsigned char *lp, size_t size,
                     uint64_t *appended)
{
    lp_iter it;
    lp_entry e;
    long long count, deleted, mfields, v;
    struct fv_arena mf = {sstr_empty(64), NULL, NULL, NULL, 0, 0}, fv = {sstr_empty(256), NULL, NULL, NULL, 0, 0};
    int rc = -1;
    if (!lp_iter_init(&it, lp, size))
        goto bad;
    if (lp_iter_next(&it, &e) != 1) {
        rdb_fail(l, "Empty listpack inside stream");
        goto out;
    }
    if (!lp_int(&e, &count) || lp_iter_next(&it, &e) != 1 || !lp_int(&e, &deleted) || lp_iter_next(&it, &e) != 1 ||
        !lp_int(&e, &mfields) || count < 0 || deleted < 0 || mfields < 0)
        goto bad;
    for (long long i = 0; i < mfields; i++) {
        if (lp_iter_next(&it, &e) != 1)
            goto bad;
        fv_push(&mf, &e);
    }
    if (lp_iter_next(&it, &e) != 1 || !lp_int(&e, &v) || v != 0)
        goto bad;
    long long total = count + deleted;
    if (total <= 0)
        goto bad;
    while (total--) {
        long long flags, msd, seqd, nfields = mfields, extra = 3, lpcount;
        if (lp_iter_next(&it, &e) != 1 || !lp_int(&e, &flags) || lp_iter_next(&it, &e) != 1 || !lp_int(&e, &msd) ||
            lp_iter_next(&it, &e) != 1 || !lp_int(&e, &seqd))
            goto bad;
        int same = (flags & STREAM_ITEM_FLAG_SAMEFIELDS) != 0;
        fv_reset(&fv);
        if (!same) {
            if (lp_iter_next(&it, &e) != 1 || !lp_int(&e, &nfields) || nfields < 0)
                goto bad;
            extra += nfields + 1;
        }
        for (long long i = 0; i < nfields; i++) {
            if (same) {
                lp_entry fe = {(const unsigned char *)mf.bytes + mf.off[i], mf.len[i], 0};
                fv_push(&fv, &fe);
            } else {
                if (lp_iter_next(&it, &e) != 1)
                    goto bad;
                fv_push(&fv, &e);
            }
            if (lp_iter_next(&it, &e) != 1)
                goto bad;
            fv_push(&fv, &e);
        }
        if (lp_iter_next(&it, &e) != 1 || !lp_int(&e, &lpcount) || lpcount != nfields + extra)
            goto bad;
        if (flags & STREAM_ITEM_FLAG_DELETED)
            continue;
        streamID id = {master->ms + (uint64_t)msd, master->seq + (uint64_t)seqd};
        for (size_t i = 0; i < fv.n; i++)
            fv.ptr[i] = fv.bytes + fv.off[i];
        if (stream_append(s, &id, (uint64_t)nfields, fv.ptr, fv.len) != 0) {
            rdb_fail(l, "Stream entry %llu-%llu is not greater than the previous entry",
                     (unsigned long long)id.ms, (unsigned long long)id.seq);
            goto out;
        }
        (*appended)++;
    }
    if (lp_iter_next(&it, &e) != 0)
        goto bad;
    rc = 0;
    goto out;
bad:
    rdb_fail(l, "Stream listpack integrity check failed");
out:
    fv_free(&mf);
    fv_free(&fv);
    return rc;
}

static int load_u64(struct rdb_loader *l, uint64_t *v, const char *what) { return rdb_load_plain_len(l, v, what); }

/* Redis's streamEstimateDistanceFromFirstEverEntry, for v1 groups. */
static long long estimate_entries_read(const struct stream_meta *m, const streamID *id)
{
    if (!m->entries_added)
        return 0;
    int cmp_last = idkey_cmp(id, &m->last_id);
    if (!m->length && cmp_last <= 0)
        return (long long)m->entries_added;
    if (cmp_last == 0)
        return (long long)m->entries_added;
    if (cmp_last > 0)
        return STREAM_ENTRIES_READ_INVALID;
    int cmp_id_first = idkey_cmp(id, &m->first_id);
    int nodel = (!m->max_deleted_id.ms && !m->max_deleted_id.seq) || idkey_cmp(&m->max_deleted_id, &m->first_id) < 0;
    if (nodel) {
        if (cmp_id_first < 0)
            return (long long)(m->entries_added - m->length);
        if (cmp_id_first == 0)
            return (long long)(m->entries_added - m->length + 1);
    }
    return STREAM_ENTRIES_READ_INVALID;
}

/* A group's PEL entry while its owner is not known yet: the group's PEL
 * is read first (IDs, times, counts), then each consumer names its IDs. */
struct pending {
    streamID id;
    long long time;
    uint64_t count;
    int owned;
};

static int pending_cmp(const void *a, const void *b)
{
    return idkey_cmp(&((const struct pending *)a)->id, &((const struct pending *)b)->id);
}

static int load_group(struct rdb_loader *l, stream *s, int type, const struct stream_meta *m)
{
    sstr name = rdb_load_string(l, "a consumer group name");
    if (!name)
        return -1;
    streamID last;
    uint64_t er;
    long long entries_read;
    if (load_u64(l, &last.ms, "a consumer group ID") || load_u64(l, &last.seq, "a consumer group ID")) {
        sstr_free(name);
        return -1;
    }
    if (type == RDB_TYPE_STREAM_LISTPACKS_2) {
        if (load_u64(l, &er, "a consumer group entries-read counter")) {
            sstr_free(name);
            return -1;
        }
        /* Redis writes an unknown counter (-1) as a 64-bit length */
        entries_read = (long long)er;
        if (entries_read < 0)
            entries_read = STREAM_ENTRIES_READ_INVALID;
    } else {
        entries_read = estimate_entries_read(m, &last);
    }
    stream_cg *g = stream_group_create(s, name, sstr_len(name), &last, entries_read);
    sstr_free(name);
    if (!g)
        return rdb_fail(l, "Duplicated consumer group name");

    struct pending *pel = NULL;
    size_t npel = 0, cap = 0;
    int rc = -1;
    uint64_t n;
    if (load_u64(l, &n, "a stream PEL size"))
        goto out;
    while (n--) {
        unsigned char raw[16];
        if (!rio_read(l->r, raw, 16)) {
            rdb_fail_io(l, "a stream PEL ID");
            goto out;
        }
        if (npel == cap) {
            cap = cap ? cap * 2 : 16;
            pel = mem_realloc(pel, sizeof(*pel) * cap);
        }
        struct pending *p = &pel[npel];
        memset(p, 0, sizeof(*p));
        decode_id(raw, &p->id);
        if (rdb_load_ms_time(l, &p->time) || load_u64(l, &p->count, "a stream PEL delivery count"))
            goto out;
        npel++;
    }
    if (npel > 1) {
        qsort(pel, npel, sizeof(*pel), pending_cmp);
        for (size_t i = 1; i < npel; i++) {
            if (idkey_cmp(&pel[i - 1].id, &pel[i].id) == 0) {
                rdb_fail(l, "Duplicated global PEL entry loading stream consumer group");
                goto out;
            }
        }
    }
    uint64_t nconsumers;
    if (load_u64(l, &nconsumers, "a stream consumer count"))
        goto out;
    while (nconsumers--) {
        sstr cname = rdb_load_string(l, "a stream consumer name");
        if (!cname)
            goto out;
        if (stream_consumer_lookup(g, cname, sstr_len(cname))) {
            sstr_free(cname);
            rdb_fail(l, "Duplicate stream consumer detected");
            goto out;
        }
        long long seen;
        if (rdb_load_ms_time(l, &seen)) {
            sstr_free(cname);
            goto out;
        }
        stream_consumer *c = stream_consumer_get(g, cname, sstr_len(cname), seen);
        sstr_free(cname);
        stream_consumer_set_seen_time(c, seen);
        uint64_t np;
        if (load_u64(l, &np, "a stream consumer PEL size"))
            goto out;
        while (np--) {
            unsigned char raw[16];
            struct pending key;
            if (!rio_read(l->r, raw, 16)) {
                rdb_fail_io(l, "a stream consumer PEL ID");
                goto out;
            }
            decode_id(raw, &key.id);
            struct pending *p = npel ? bsearch(&key, pel, npel, sizeof(*pel), pending_cmp) : NULL;
            if (!p) {
                rdb_fail(l, "Consumer entry not found in group global PEL");
                goto out;
            }
            if (p->owned || stream_pel_add(g, c, &p->id, p->time, p->count) != 0) {
                rdb_fail(l, "Duplicated consumer PEL entry loading a stream consumer group");
                goto out;
            }
            p->owned = 1;
        }
    }
    /* every pending entry must have an owner: Sluice can't keep orphans */
    for (size_t i = 0; i < npel; i++) {
        if (!pel[i].owned) {
            rdb_fail(l, "Stream CG PEL entry without consumer");
            goto out;
        }
    }
    rc = 0;
out:
    mem_free(pel);
    return rc;
}

struct value *rdb_load_stream(struct rdb_loader *l, int type)
{
    if (!streams_linked()) {
        rdb_fail(l, "RDB type 'stream' (type %d) is not supported by this build", type);
        return NULL;
    }
    struct value *v = stream_value_new();
    stream *s = stream_of(v);
    uint64_t nodes, appended = 0;
    struct stream_meta m;
    memset(&m, 0, sizeof(m));
    if (load_u64(l, &nodes, "a stream node count"))
        goto err;
    while (nodes--) {
        sstr key = rdb_load_string(l, "a stream node key");
        if (!key)
            goto err;
        if (sstr_len(key) != 16) {
            sstr_free(key);
            rdb_fail(l, "Stream node key entry is not the size of a stream ID");
            goto err;
        }
        streamID master;
        decode_id((const unsigned char *)key, &master);
        sstr_free(key);
        sstr lp = rdb_load_string(l, "a stream listpack");
        if (!lp)
            goto err;
        int ok = lp_validate((const unsigned char *)lp, sstr_len(lp), NULL);
        int rc = ok ? load_node(l, s, &master, (const unsigned char *)lp, sstr_len(lp), &appended) : -1;
        sstr_free(lp);
        if (!ok)
            rdb_fail(l, "Stream listpack integrity check failed");
        if (rc != 0)
            goto err;
    }
    if (load_u64(l, &m.length, "the stream length") || load_u64(l, &m.last_id.ms, "the stream last ID") ||
        load_u64(l, &m.last_id.seq, "the stream last ID"))
        goto err;
    if (type == RDB_TYPE_STREAM_LISTPACKS_2) {
        if (load_u64(l, &m.first_id.ms, "the stream first ID") || load_u64(l, &m.first_id.seq, "the stream first ID") ||
            load_u64(l, &m.max_deleted_id.ms, "the stream max deleted ID") ||
            load_u64(l, &m.max_deleted_id.seq, "the stream max deleted ID") ||
            load_u64(l, &m.entries_added, "the stream entries-added counter"))
            goto err;
    } else {
        /* as Redis: the offset starts at the length, no tombstones known,
         * the first ID is the first entry's (max ID when empty) */
        m.entries_added = m.length;
        stream_iter si;
        uint64_t nf;
        stream_iter_start(&si, s, NULL, NULL, 0);
        if (!stream_iter_next(&si, &m.first_id, &nf))
            m.first_id.ms = m.first_id.seq = UINT64_MAX;
    }
    if (m.length != appended) {
        rdb_fail(l, "Stream length %llu does not match its %llu entries", (unsigned long long)m.length,
                 (unsigned long long)appended);
        goto err;
    }
    if (appended) {
        struct stream_meta cur;
        stream_get_meta(s, &cur);
        if (idkey_cmp(&cur.last_id, &m.last_id) > 0) {
            rdb_fail(l, "Stream last ID is smaller than its last entry");
            goto err;
        }
    }
    stream_set_meta(s, &m);
    uint64_t ngroups;
    if (load_u64(l, &ngroups, "the stream consumer group count"))
        goto err;
    while (ngroups--)
        if (load_group(l, s, type, &m) != 0)
            goto err;
    return v;
err:
    value_free(v);
    return NULL;
}

/* ---- idempotent-producer state: the "sluice-idmp" AUX field ----------------------- */

struct idmp_collect {
    rio *r;
    int compress;
    int failed;
};

static void idmp_visit(void *priv, const char *pid, size_t pidlen, const char *iid, size_t iidlen, const streamID *id,
                       long long added_ms)
{
    struct idmp_collect *c = priv;
    if (rdb_save_raw_string(c->r, pid, pidlen, c->compress) || rdb_save_raw_string(c->r, iid, iidlen, c->compress) ||
        rdb_save_len(c->r, id->ms) || rdb_save_len(c->r, id->seq) || rdb_save_ms_time(c->r, added_ms))
        c->failed = 1;
}

static void idmp_count(void *priv, const char *pid, size_t pidlen, const char *iid, size_t iidlen, const streamID *id,
                       long long added_ms)
{
    (void)pid, (void)pidlen, (void)iid, (void)iidlen, (void)id, (void)added_ms;
    (*(uint64_t *)priv)++;
}

sstr rdb_stream_idmp_blob(int dbid, const char *key, size_t keylen, const struct value *v)
{
    if (v->type != OBJ_STREAM || !streams_linked() || !stream_idmp_get_info)
        return NULL;
    stream *s = stream_of(v);
    struct stream_idmp_info info;
    stream_idmp_get_info(s, &info);
    if (!info.enabled)
        return NULL;
    uint64_t pairs = 0;
    stream_idmp_foreach(s, idmp_count, &pairs);
    rio r;
    rio_init_buffer(&r);
    struct idmp_collect c = {&r, 0, 0};
    if (rdb_save_len(&r, 1) || rdb_save_len(&r, (uint64_t)dbid) || rdb_save_raw_string(&r, key, keylen, 0) ||
        rdb_save_len(&r, (uint64_t)info.enabled) || rdb_save_len(&r, (uint64_t)info.duration) ||
        rdb_save_len(&r, (uint64_t)info.maxsize) || rdb_save_len(&r, info.iids_added) ||
        rdb_save_len(&r, info.iids_duplicates) || rdb_save_len(&r, pairs))
        c.failed = 1;
    if (!c.failed)
        stream_idmp_foreach(s, idmp_visit, &c);
    sstr out = c.failed ? NULL : rio_buffer_take(&r);
    rio_release(&r);
    return out;
}

/* Decode the blob's header: which key it belongs to.  The key is returned
 * in *key (to free); 0 or -1. */
int rdb_stream_idmp_target(const char *blob, size_t len, int *dbid, sstr *key)
{
    rio r;
    struct rdb_load_opts o = {0};
    struct rdb_loader l;
    uint64_t ver, db;
    int rc = -1;
    rio_init_mem(&r, blob, len);
    rdb_loader_init(&l, &r, &o);
    if (rdb_load_plain_len(&l, &ver, "idmp") == 0 && ver == 1 && rdb_load_plain_len(&l, &db, "idmp") == 0 &&
        db < 1u << 30 && (*key = rdb_load_string(&l, "idmp")) != NULL) {
        *dbid = (int)db;
        rc = 0;
    }
    rdb_loader_free(&l);
    rio_release(&r);
    return rc;
}

int rdb_stream_idmp_apply(struct value *v, const char *blob, size_t len, sstr *err)
{
    rio r;
    struct rdb_load_opts o = {0};
    struct rdb_loader l;
    uint64_t ver, db, enabled, duration, maxsize, added, dups, pairs;
    sstr key = NULL;
    int rc = -1;
    if (v->type != OBJ_STREAM || !stream_idmp_set_info) {
        *err = sstr_from("sluice-idmp state for a key that is not a stream");
        return -1;
    }
    stream *s = stream_of(v);
    rio_init_mem(&r, blob, len);
    rdb_loader_init(&l, &r, &o);
    if (rdb_load_plain_len(&l, &ver, "idmp") || rdb_load_plain_len(&l, &db, "idmp") ||
        !(key = rdb_load_string(&l, "idmp")) || rdb_load_plain_len(&l, &enabled, "idmp") ||
        rdb_load_plain_len(&l, &duration, "idmp") || rdb_load_plain_len(&l, &maxsize, "idmp") ||
        rdb_load_plain_len(&l, &added, "idmp") || rdb_load_plain_len(&l, &dups, "idmp") ||
        rdb_load_plain_len(&l, &pairs, "idmp"))
        goto out;
    if (duration < 1 || duration > STREAM_IDMP_MAX_DURATION || maxsize < 1 || maxsize > STREAM_IDMP_MAX_MAXSIZE) {
        rdb_fail(&l, "bad idempotency configuration");
        goto out;
    }
    struct stream_idmp_info info = {(int)(enabled != 0), (long long)duration, (long long)maxsize, 0, 0, added, dups};
    stream_idmp_set_info(s, &info);
    while (pairs--) {
        sstr pid = rdb_load_string(&l, "an idempotent producer ID");
        sstr iid = pid ? rdb_load_string(&l, "an idempotency ID") : NULL;
        streamID id;
        long long at;
        if (!pid || !iid || rdb_load_plain_len(&l, &id.ms, "idmp") || rdb_load_plain_len(&l, &id.seq, "idmp") ||
            rdb_load_ms_time(&l, &at)) {
            sstr_free(pid);
            sstr_free(iid);
            goto out;
        }
        stream_idmp_restore(s, pid, sstr_len(pid), iid, sstr_len(iid), &id, at);
        sstr_free(pid);
        sstr_free(iid);
    }
    /* the lifetime counters as saved, whatever restoring did to them */
    stream_idmp_set_info(s, &info);
    if (rio_remaining(&r) != 0) {
        rdb_fail(&l, "trailing bytes");
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        *err = sstr_catfmt(sstr_empty(64), "Bad sluice-idmp AUX field: %s", l.err ? l.err : "bad format");
    sstr_free(key);
    rdb_loader_free(&l);
    rio_release(&r);
    return rc;
}
