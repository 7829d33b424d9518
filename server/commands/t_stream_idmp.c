/* t_stream_idmp.c - idempotent producers: Redis 8.6's XADD IDMP/IDMPAUTO.
 *
 * A producer (pid) that retries an XADD with the same idempotent id (iid)
 * within the stream's window gets the ID of the entry it added the first
 * time, and nothing is appended: Kafka's producer id + sequence, at-most-
 * once production on top of at-least-once sending.  IDMPAUTO derives the
 * iid from the entry's field-value pairs, in any order.
 *
 * DATA LAYOUT (inside the stream value, so every copy and save carries it)
 *
 *   struct stream_idmp   duration (s), maxsize (iids per producer),
 *                        lifetime counters iids-added / iids-duplicates,
 *                        producers: dict pid -> struct producer
 *   struct producer      dict iid -> struct rec, and a ring buffer of the
 *                        same records, oldest first
 *   struct rec           iid, entry ID, time added (ms)
 *
 * A record leaves when it is older than the duration (checked lazily,
 * oldest first, whenever its producer is used or the state is read) or when
 * its producer has maxsize newer ones.  A producer with no record left is
 * dropped.  Changing the duration or the maxsize (XCFGSET) forgets every
 * record but keeps the lifetime counters, as Redis 8.6 does.
 */
#include <string.h>

#include "dict.h"
#include "mem.h"
#include "server.h"
#include "t_stream_int.h"

struct rec {
    sstr iid;
    streamID id;
    long long added_ms;
};

struct producer {
    sstr pid;
    dict *by_iid;      /* iid -> struct rec (freed through the ring) */
    struct rec **ring; /* ring[(head + i) % cap], i < count: oldest first */
    size_t head, count, cap;
};

struct stream_idmp {
    long long duration, maxsize;
    uint64_t iids_added, iids_duplicates;
    dict *producers; /* pid -> struct producer */
};

static void rec_free(struct rec *r)
{
    sstr_free(r->iid);
    mem_free(r);
}

static void producer_free(void *p)
{
    struct producer *pr = p;
    for (size_t i = 0; i < pr->count; i++)
        rec_free(pr->ring[(pr->head + i) % pr->cap]);
    mem_free(pr->ring);
    dict_free(pr->by_iid);
    sstr_free(pr->pid);
    mem_free(pr);
}

static struct stream_idmp *idmp_new(void)
{
    struct stream_idmp *m = mem_calloc(sizeof(*m));
    m->duration = STREAM_IDMP_DEFAULT_DURATION;
    m->maxsize = STREAM_IDMP_DEFAULT_MAXSIZE;
    m->producers = dict_create(producer_free, 0);
    return m;
}

static struct stream_idmp *idmp_of(stream *s)
{
    if (!s->idmp)
        s->idmp = idmp_new();
    return s->idmp;
}

void stream_idmp_free(struct stream_idmp *m)
{
    if (!m)
        return;
    dict_free(m->producers);
    mem_free(m);
}

static void drop_oldest(struct producer *pr)
{
    struct rec *r = pr->ring[pr->head];
    dict_delete(pr->by_iid, r->iid, sstr_len(r->iid));
    rec_free(r);
    pr->head = (pr->head + 1) % pr->cap;
    pr->count--;
}

/* Is a record added at `added` out of the window at `now`?  Times come
 * from files too, so the difference may not fit a long long. */
static int outside_window(long long now, long long added, long long duration_s)
{
    long long age;
    if (__builtin_sub_overflow(now, added, &age))
        return added < now; /* further apart than any window */
    return age >= duration_s * 1000;
}

/* Forgets the producer's records older than the window. */
static void expire(const struct stream_idmp *m, struct producer *pr, long long now)
{
    while (pr->count && outside_window(now, pr->ring[pr->head]->added_ms, m->duration))
        drop_oldest(pr);
}

static void push(struct stream_idmp *m, struct producer *pr, struct rec *r)
{
    while (pr->count && (long long)pr->count >= m->maxsize)
        drop_oldest(pr);
    if (pr->count == pr->cap) {
        size_t ncap = pr->cap ? pr->cap * 2 : 4;
        struct rec **ring = mem_alloc(sizeof(*ring) * ncap);
        for (size_t i = 0; i < pr->count; i++)
            ring[i] = pr->ring[(pr->head + i) % pr->cap];
        mem_free(pr->ring);
        pr->ring = ring;
        pr->cap = ncap;
        pr->head = 0;
    }
    pr->ring[(pr->head + pr->count) % pr->cap] = r;
    pr->count++;
    dict_add(pr->by_iid, r->iid, sstr_len(r->iid), NULL)->v.ptr = r;
}

static struct producer *producer_get(struct stream_idmp *m, const char *pid, size_t pidlen, int create)
{
    dict_entry *e = dict_find(m->producers, pid, pidlen);
    if (e)
        return e->v.ptr;
    if (!create)
        return NULL;
    struct producer *pr = mem_calloc(sizeof(*pr));
    pr->pid = sstr_new(pid, pidlen);
    pr->by_iid = dict_create(NULL, 0);
    dict_add(m->producers, pid, pidlen, NULL)->v.ptr = pr;
    return pr;
}

/* Expires every producer; drops the empty ones. */
static void expire_all(struct stream_idmp *m, long long now)
{
    dict_iter it;
    dict_entry *e;
    dict_iter_init(&it, m->producers);
    while ((e = dict_iter_next(&it)) != NULL) {
        struct producer *pr = e->v.ptr;
        expire(m, pr, now);
        if (!pr->count)
            dict_delete(m->producers, e->key, e->keylen);
    }
    dict_iter_release(&it);
}

int stream_idmp_lookup(stream *s, const char *pid, size_t pidlen, const char *iid, size_t iidlen, long long now,
                       streamID *id, int count_duplicate)
{
    struct stream_idmp *m = idmp_of(s);
    struct producer *pr = producer_get(m, pid, pidlen, 0);
    if (!pr)
        return 0;
    expire(m, pr, now);
    dict_entry *e = pr->count ? dict_find(pr->by_iid, iid, iidlen) : NULL;
    if (!pr->count)
        dict_delete(m->producers, pid, pidlen);
    if (!e)
        return 0;
    *id = ((struct rec *)e->v.ptr)->id;
    if (count_duplicate)
        m->iids_duplicates++;
    return 1;
}

static void record(struct stream_idmp *m, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                   const streamID *id, long long added_ms, long long now)
{
    struct producer *pr = producer_get(m, pid, pidlen, 1);
    expire(m, pr, now);
    if (dict_find(pr->by_iid, iid, iidlen))
        return;
    struct rec *r = mem_alloc(sizeof(*r));
    r->iid = sstr_new(iid, iidlen);
    r->id = *id;
    r->added_ms = added_ms;
    push(m, pr, r);
}

void stream_idmp_record(stream *s, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                        const streamID *id, long long now)
{
    struct stream_idmp *m = idmp_of(s);
    record(m, pid, pidlen, iid, iidlen, id, now, now);
    m->iids_added++;
}

void stream_idmp_restore(stream *s, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                         const streamID *id, long long added_ms)
{
    record(idmp_of(s), pid, pidlen, iid, iidlen, id, added_ms, added_ms);
}

void stream_idmp_configure(stream *s, long long duration, long long maxsize)
{
    struct stream_idmp *m = idmp_of(s);
    long long d = duration >= 0 ? duration : m->duration;
    long long n = maxsize >= 0 ? maxsize : m->maxsize;
    if (d != m->duration || n != m->maxsize) {
        dict_free(m->producers);
        m->producers = dict_create(producer_free, 0);
    }
    m->duration = d;
    m->maxsize = n;
}

void stream_idmp_get_info(stream *s, struct stream_idmp_info *info)
{
    memset(info, 0, sizeof(*info));
    info->duration = STREAM_IDMP_DEFAULT_DURATION;
    info->maxsize = STREAM_IDMP_DEFAULT_MAXSIZE;
    struct stream_idmp *m = s->idmp;
    if (!m)
        return;
    expire_all(m, server_mstime());
    info->enabled = 1;
    info->duration = m->duration;
    info->maxsize = m->maxsize;
    info->iids_added = m->iids_added;
    info->iids_duplicates = m->iids_duplicates;
    info->pids_tracked = dict_size(m->producers);
    dict_iter it;
    dict_entry *e;
    dict_iter_init(&it, m->producers);
    while ((e = dict_iter_next(&it)) != NULL)
        info->iids_tracked += ((struct producer *)e->v.ptr)->count;
    dict_iter_release(&it);
}

void stream_idmp_set_info(stream *s, const struct stream_idmp_info *info)
{
    struct stream_idmp *m = idmp_of(s);
    m->duration = info->duration;
    m->maxsize = info->maxsize;
    m->iids_added = info->iids_added;
    m->iids_duplicates = info->iids_duplicates;
}

void stream_idmp_foreach(stream *s, stream_idmp_visit_fn *fn, void *priv)
{
    struct stream_idmp *m = s->idmp;
    if (!m)
        return;
    dict_iter it;
    dict_entry *e;
    dict_iter_init(&it, m->producers);
    while ((e = dict_iter_next(&it)) != NULL) {
        struct producer *pr = e->v.ptr;
        for (size_t i = 0; i < pr->count; i++) {
            const struct rec *r = pr->ring[(pr->head + i) % pr->cap];
            fn(priv, pr->pid, sstr_len(pr->pid), r->iid, sstr_len(r->iid), &r->id, r->added_ms);
        }
    }
    dict_iter_release(&it);
}

struct stream_idmp *stream_idmp_dup(const struct stream_idmp *m)
{
    if (!m)
        return NULL;
    struct stream_idmp *d = idmp_new();
    d->duration = m->duration;
    d->maxsize = m->maxsize;
    d->iids_added = m->iids_added;
    d->iids_duplicates = m->iids_duplicates;
    dict_iter it;
    dict_entry *e;
    dict_iter_init(&it, m->producers);
    while ((e = dict_iter_next(&it)) != NULL) {
        const struct producer *pr = e->v.ptr;
        for (size_t i = 0; i < pr->count; i++) {
            const struct rec *r = pr->ring[(pr->head + i) % pr->cap];
            record(d, pr->pid, sstr_len(pr->pid), r->iid, sstr_len(r->iid), &r->id, r->added_ms, r->added_ms);
        }
    }
    dict_iter_release(&it);
    return d;
}

size_t stream_idmp_mem_usage(const struct stream_idmp *m)
{
    if (!m)
        return 0;
    size_t n = mem_usable(m) + dict_mem_usage(m->producers);
    dict_iter it;
    dict_entry *e;
    dict_iter_init(&it, m->producers);
    while ((e = dict_iter_next(&it)) != NULL) {
        const struct producer *pr = e->v.ptr;
        n += mem_usable(pr) + sstr_alloc_size(pr->pid) + dict_mem_usage(pr->by_iid);
        if (pr->ring)
            n += mem_usable(pr->ring);
        for (size_t i = 0; i < pr->count; i++) {
            const struct rec *r = pr->ring[(pr->head + i) % pr->cap];
            n += mem_usable(r) + sstr_alloc_size(r->iid);
        }
    }
    dict_iter_release(&it);
    return n;
}

/* ---- IDMPAUTO's content iid ---------------------------------------------------------- */

/* MurmurHash3 x64 128 (Austin Appleby, public domain): stable across
 * processes and versions, unlike the seeded dict hash, because iids are
 * persisted and replicated. */
static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static inline uint64_t fmix64(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    k *= 0xc4ceb9fe1a85ec53ULL;
    k ^= k >> 33;
    return k;
}

static inline uint64_t load64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void murmur3_128(const void *key, size_t len, uint64_t seed, uint64_t out[2])
{
    const unsigned char *data = key;
    size_t nblocks = len / 16;
    uint64_t h1 = seed, h2 = seed;
    const uint64_t c1 = 0x87c37b91114253d5ULL, c2 = 0x4cf5ad432745937fULL;
    for (size_t i = 0; i < nblocks; i++) {
        uint64_t k1 = load64(data + i * 16), k2 = load64(data + i * 16 + 8);
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
        h1 = rotl64(h1, 27);
        h1 += h2;
        h1 = h1 * 5 + 0x52dce729;
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
        h2 = rotl64(h2, 31);
        h2 += h1;
        h2 = h2 * 5 + 0x38495ab5;
    }
    const unsigned char *tail = data + nblocks * 16;
    uint64_t k1 = 0, k2 = 0;
    size_t rest = len & 15;
    for (size_t i = rest; i > 8; i--)
        k2 ^= (uint64_t)tail[i - 1] << (8 * (i - 9));
    if (rest > 8) {
        k2 *= c2;
        k2 = rotl64(k2, 33);
        k2 *= c1;
        h2 ^= k2;
    }
    for (size_t i = rest < 8 ? rest : 8; i > 0; i--)
        k1 ^= (uint64_t)tail[i - 1] << (8 * (i - 1));
    if (rest) {
        k1 *= c1;
        k1 = rotl64(k1, 31);
        k1 *= c2;
        h1 ^= k1;
    }
    h1 ^= len;
    h2 ^= len;
    h1 += h2;
    h2 += h1;
    h1 = fmix64(h1);
    h2 = fmix64(h2);
    h1 += h2;
    h2 += h1;
    out[0] = h1;
    out[1] = h2;
}

/* Each (field, value) pair hashes to 128 bits (field and value hashed with
 * different seeds, then together); the pairs' hashes are summed, so the
 * order of the pairs does not matter but their multiplicity does. */
void stream_idmp_auto_iid(uint64_t numfields, const char *const *fv, const size_t *fvlen, unsigned char out[16])
{
    uint64_t acc[2] = {0, 0};
    for (uint64_t i = 0; i < numfields; i++) {
        uint64_t hf[2], hv[2], hp[2];
        unsigned char pair[32];
        murmur3_128(fv[2 * i], fvlen[2 * i], 0x5eed0f1e1d5ULL, hf);
        murmur3_128(fv[2 * i + 1], fvlen[2 * i + 1], 0x5eedba1e5ULL, hv);
        for (int b = 0; b < 8; b++) {
            pair[b] = (unsigned char)(hf[0] >> (8 * b));
            pair[8 + b] = (unsigned char)(hf[1] >> (8 * b));
            pair[16 + b] = (unsigned char)(hv[0] >> (8 * b));
            pair[24 + b] = (unsigned char)(hv[1] >> (8 * b));
        }
        murmur3_128(pair, sizeof(pair), 0x1d3a70, hp);
        acc[0] += hp[0];
        acc[1] += hp[1];
    }
    for (int b = 0; b < 8; b++) {
        out[b] = (unsigned char)(acc[0] >> (8 * b));
        out[8 + b] = (unsigned char)(acc[1] >> (8 * b));
    }
}
