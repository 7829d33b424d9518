/* db.c - keyspace partitions, lazy and active expiry; see db.h.
 *
 * Expire times live in a second dict per partition (key -> ms), as in
 * Redis, so that active expiry only walks keys that can expire.  The value
 * dict owns the values; the expire dict holds plain numbers.
 */
#include "db.h"

#include <assert.h>
#include <string.h>

#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "util.h"

struct partition {
    dict *keys;
    dict *expires;
};

static void free_value_cb(void *v) { value_free(v); }

struct db *db_create(int id)
{
    struct db *db = mem_calloc(sizeof(*db));
    db->id = id;
    db->watched_keys = dict_create(NULL, 0);
    db->blocking_keys = dict_create(NULL, 0);
    return db;
}

static void partition_free(struct partition *p)
{
    dict_free(p->keys);
    dict_free(p->expires);
    mem_free(p);
}

void db_free(struct db *db)
{
    db_empty(db);
    mem_free(db->slots);
    dict_free(db->watched_keys);
    dict_free(db->blocking_keys);
    mem_free(db);
}

/* A command usually touches the same key several times (lookup, then
 * write, then expiry bookkeeping); remembering the last key's slot saves
 * recomputing CRC16 each time.  Compared by content, since query buffers
 * are reused at the same addresses. */
static struct {
    size_t len;
    unsigned slot;
    char key[64];
} slot_cache = {(size_t)-1, 0, {0}};

static inline unsigned slot_of(const char *key, size_t len)
{
    if (len == slot_cache.len && memcmp(key, slot_cache.key, len) == 0)
        return slot_cache.slot;
    unsigned slot = key_hash_slot(key, len);
    if (len <= sizeof(slot_cache.key)) {
        memcpy(slot_cache.key, key, len);
        slot_cache.len = len;
        slot_cache.slot = slot;
    }
    return slot;
}

static inline struct partition *find_partition(const struct db *db, const char *key, size_t len)
{
    if (!db->slots)
        return NULL;
    return db->slots[slot_of(key, len)];
}

static struct partition *get_partition(struct db *db, const char *key, size_t len)
{
    if (!db->slots)
        db->slots = mem_calloc(sizeof(*db->slots) * SLOT_COUNT);
    unsigned slot = slot_of(key, len);
    struct partition *p = db->slots[slot];
    if (!p) {
        p = mem_alloc(sizeof(*p));
        p->keys = dict_create(free_value_cb, 0);
        p->expires = dict_create(NULL, 0);
        db->slots[slot] = p;
    }
    return p;
}

/* Free a partition that became empty, so idle slots cost nothing. */
static void release_if_empty(struct db *db, const char *key, size_t len)
{
    unsigned slot = slot_of(key, len);
    struct partition *p = db->slots[slot];
    if (p && dict_size(p->keys) == 0) {
        assert(dict_size(p->expires) == 0);
        partition_free(p);
        db->slots[slot] = NULL;
    }
}

static long long expire_of(struct partition *p, const char *key, size_t len)
{
    if (dict_size(p->expires) == 0)
        return -1;
    dict_entry *e = dict_find(p->expires, key, len);
    return e ? e->v.i64 : -1;
}

static int is_expired_at(long long when, long long now)
{
    return when >= 0 && when <= now;
}

/* Expiry on a replica (Redis's rule): the master decides when a key
 * expires and sends its DEL down the stream.  The master's own commands
 * therefore see every key; other clients see a logically expired key as
 * absent, but reads leave it in place until that DEL comes. */
static int master_view(void)
{
    return srv.masterhost && srv.current_client && (srv.current_client->flags & CLIENT_MASTER);
}

static int expired_now(long long when)
{
    return is_expired_at(when, server_mstime()) && !master_view();
}

int db_key_is_expired(struct db *db, const char *key, size_t len)
{
    struct partition *p = find_partition(db, key, len);
    if (!p || srv.loading || db->loading)
        return 0;
    return expired_now(expire_of(p, key, len));
}

/* Remove an expired key as Redis does: count it, make WATCH see it. */
static void delete_expired(struct db *db, const char *key, size_t len)
{
    /* copy: the key bytes may belong to the entry being freed */
    char stackbuf[128];
    char *k = len < sizeof(stackbuf) ? stackbuf : mem_alloc(len);
    memcpy(k, key, len);
    db_delete(db, k, len);
    srv.stat_expiredkeys++;
    db_signal_modified(db, k, len);
    propagate_expired_delete(db, k, len);
    if (k != stackbuf)
        mem_free(k);
}

int db_expire_if_needed(struct db *db, const char *key, size_t len)
{
    if (!db_key_is_expired(db, key, len))
        return 0;
    if (srv.masterhost)
        return 1; /* hidden, not deleted: the master's DEL will come */
    delete_expired(db, key, len);
    return 1;
}

/* for_write: a write on a (writable) replica deletes the expired key it
 * replaces, as Redis's lookupKeyWrite */
static struct value *lookup(struct db *db, const char *key, size_t len, int for_write)
{
    struct partition *p = find_partition(db, key, len);
    if (!p)
        return NULL;
    dict_entry *e = dict_find(p->keys, key, len);
    if (!e)
        return NULL;
    if (dict_size(p->expires) && !srv.loading && !db->loading && expired_now(expire_of(p, key, len))) {
        if (!srv.masterhost || for_write)
            delete_expired(db, key, len);
        return NULL;
    }
    return e->v.ptr;
}

struct value *db_lookup_read(struct db *db, const char *key, size_t len)
{
    struct value *v = lookup(db, key, len, 0);
    if (v) {
        srv.stat_keyspace_hits++;
        value_touch(v);
    } else {
        srv.stat_keyspace_misses++;
    }
    return v;
}

struct value *db_lookup_write(struct db *db, const char *key, size_t len)
{
    struct value *v = lookup(db, key, len, 1);
    if (v)
        value_touch(v);
    return v;
}

struct value *db_peek(struct db *db, const char *key, size_t len)
{
    struct partition *p = find_partition(db, key, len);
    if (!p)
        return NULL;
    dict_entry *e = dict_find(p->keys, key, len);
    if (!e || (!srv.loading && !db->loading && expired_now(expire_of(p, key, len))))
        return NULL;
    return e->v.ptr;
}

void db_add(struct db *db, const char *key, size_t len, struct value *v)
{
    struct partition *p = get_partition(db, key, len);
    dict_entry *e = dict_add(p->keys, key, len, NULL);
    assert(e != NULL);
    e->v.ptr = v;
    db->keys++;
    db_signal_key_ready(db, key, len);
}

void db_set(struct db *db, const char *key, size_t len, struct value *v, int keep_ttl)
{
    struct partition *p = get_partition(db, key, len);
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(p->keys, key, len, &existing);
    if (e) {
        e->v.ptr = v;
        db->keys++;
        db_signal_key_ready(db, key, len);
    } else {
        struct value *old = existing->v.ptr;
        existing->v.ptr = v;
        value_free(old);
        if (!keep_ttl && dict_delete(p->expires, key, len))
            db->volatile_keys--;
        if (v->type != OBJ_STRING)
            db_signal_key_ready(db, key, len);
    }
}

struct value *db_take(struct db *db, const char *key, size_t len)
{
    struct partition *p = find_partition(db, key, len);
    if (!p)
        return NULL;
    dict_entry *e = dict_unlink(p->keys, key, len);
    if (!e)
        return NULL;
    struct value *v = e->v.ptr;
    e->v.ptr = NULL;
    if (dict_delete(p->expires, key, len))
        db->volatile_keys--;
    db->keys--;
    dict_free_unlinked(p->keys, e);
    release_if_empty(db, key, len);
    value_unlinked(v);
    return v;
}

int db_delete(struct db *db, const char *key, size_t len)
{
    struct value *v = db_take(db, key, len);
    if (!v)
        return 0;
    value_free(v);
    return 1;
}

void db_set_expire(struct db *db, const char *key, size_t len, long long when_ms)
{
    struct partition *p = find_partition(db, key, len);
    assert(p && dict_find(p->keys, key, len));
    dict_entry *existing = NULL;
    dict_entry *e = dict_add(p->expires, key, len, &existing);
    if (e) {
        e->v.i64 = when_ms;
        db->volatile_keys++;
    } else {
        existing->v.i64 = when_ms;
    }
}

long long db_get_expire(struct db *db, const char *key, size_t len)
{
    struct partition *p = find_partition(db, key, len);
    return p ? expire_of(p, key, len) : -1;
}

int db_remove_expire(struct db *db, const char *key, size_t len)
{
    struct partition *p = find_partition(db, key, len);
    if (p && dict_delete(p->expires, key, len)) {
        db->volatile_keys--;
        return 1;
    }
    return 0;
}

size_t db_size(const struct db *db) { return db->keys; }

long long db_empty(struct db *db)
{
    long long removed = (long long)db->keys;
    if (db->slots) {
        for (unsigned s = 0; s < SLOT_COUNT; s++) {
            if (db->slots[s]) {
                partition_free(db->slots[s]);
                db->slots[s] = NULL;
            }
        }
    }
    db->keys = db->volatile_keys = 0;
    db->avg_ttl = 0;
    db->expire_cursor = 0;
    db->expire_scan_cursor = 0;
    return removed;
}

void db_swap(struct db *a, struct db *b)
{
    struct partition **slots = a->slots;
    size_t keys = a->keys, vol = a->volatile_keys;
    long long avg = a->avg_ttl;
    a->slots = b->slots;
    a->keys = b->keys;
    a->volatile_keys = b->volatile_keys;
    a->avg_ttl = b->avg_ttl;
    b->slots = slots;
    b->keys = keys;
    b->volatile_keys = vol;
    b->avg_ttl = avg;
    a->expire_cursor = b->expire_cursor = 0;
    a->expire_scan_cursor = b->expire_scan_cursor = 0;
}

int db_random_key(struct db *db, sstr *out)
{
    /* pick a partition weighted by size, then a key in it; retry a bounded
     * number of times if we land on expired keys (as Redis does) */
    for (int tries = 0; tries < 100 && db->keys; tries++) {
        uint64_t target = random_u64() % db->keys;
        struct partition *p = NULL;
        for (unsigned s = 0; s < SLOT_COUNT; s++) {
            struct partition *cand = db->slots[s];
            if (!cand)
                continue;
            size_t n = dict_size(cand->keys);
            if (target < n) {
                p = cand;
                break;
            }
            target -= n;
        }
        assert(p);
        dict_entry *e = dict_random(p->keys);
        if (is_expired_at(expire_of(p, e->key, e->keylen), server_mstime()) && !srv.loading && !db->loading) {
            if (tries < 99) {
                sstr k = sstr_new(e->key, e->keylen);
                delete_expired(db, k, sstr_len(k));
                sstr_free(k);
                continue;
            }
        }
        *out = sstr_new(e->key, e->keylen);
        return 1;
    }
    return 0;
}

size_t db_sample(struct db *db, int volatile_only, size_t n, db_sample_fn *fn, void *priv)
{
    if (!db->slots || (volatile_only ? db->volatile_keys : db->keys) == 0)
        return 0;
    size_t done = 0;
    for (; done < n; done++) {
        /* a random slot, then the next partition that has such keys: not
         * uniform over keys, but cheap, like Redis's dictGetSomeKeys */
        unsigned s = (unsigned)(random_u64() % SLOT_COUNT);
        struct partition *p = NULL;
        for (unsigned k = 0; k < SLOT_COUNT && !p; k++, s = (s + 1) % SLOT_COUNT) {
            struct partition *cand = db->slots[s];
            if (cand && dict_size(volatile_only ? cand->expires : cand->keys))
                p = cand;
        }
        assert(p);
        dict_entry *e = dict_random(volatile_only ? p->expires : p->keys);
        dict_entry *ke = volatile_only ? dict_find(p->keys, e->key, e->keylen) : e;
        assert(ke);
        fn(priv, ke->key, ke->keylen, ke->v.ptr, expire_of(p, ke->key, ke->keylen));
    }
    return done;
}

/* The SCAN cursor: the low 14 bits are the slot, the rest is that slot's
 * dict cursor, so a cursor stays valid across resizes of any partition. */
struct scan_ctx {
    db_scan_fn *fn;
    void *priv;
    struct partition *p;
};

static void scan_cb(void *priv, const dict_entry *e)
{
    struct scan_ctx *ctx = priv;
    ctx->fn(ctx->priv, e->key, e->keylen, e->v.ptr);
}

uint64_t db_scan(struct db *db, uint64_t cursor, db_scan_fn *fn, void *priv)
{
    if (!db->slots)
        return 0;
    unsigned slot = (unsigned)(cursor & (SLOT_COUNT - 1));
    uint64_t dc = cursor >> 14;
    struct scan_ctx ctx = {fn, priv, NULL};
    for (;;) {
        struct partition *p = db->slots[slot];
        if (p) {
            ctx.p = p;
            dc = dict_scan(p->keys, dc, scan_cb, &ctx);
            if (dc != 0)
                return (dc << 14) | slot;
        } else {
            dc = 0;
        }
        slot++;
        if (slot == SLOT_COUNT)
            return 0;
        /* one partition per call keeps each SCAN step bounded; an empty
         * slot costs nothing, so skip ahead to the next populated one */
        if (p)
            return slot;
    }
}

void db_foreach(struct db *db, db_scan_fn *fn, void *priv)
{
    if (!db->slots)
        return;
    for (unsigned s = 0; s < SLOT_COUNT; s++) {
        struct partition *p = db->slots[s];
        if (!p)
            continue;
        dict_iter it;
        dict_iter_init(&it, p->keys);
        dict_entry *e;
        while ((e = dict_iter_next(&it)) != NULL)
            fn(priv, e->key, e->keylen, e->v.ptr);
        dict_iter_release(&it);
    }
}

size_t db_count_keys_in_slot(struct db *db, unsigned slot)
{
    if (!db->slots || slot >= SLOT_COUNT || !db->slots[slot])
        return 0;
    return dict_size(db->slots[slot]->keys);
}

size_t db_keys_in_slot(struct db *db, unsigned slot, size_t max, sstr **keys)
{
    size_t n = 0;
    *keys = NULL;
    if (!db->slots || slot >= SLOT_COUNT || !db->slots[slot])
        return 0;
    struct partition *p = db->slots[slot];
    size_t total = dict_size(p->keys);
    if (max > total)
        max = total;
    if (max == 0)
        return 0;
    *keys = mem_alloc(sizeof(sstr) * max);
    dict_iter it;
    dict_iter_init(&it, p->keys);
    dict_entry *e;
    while (n < max && (e = dict_iter_next(&it)) != NULL)
        (*keys)[n++] = sstr_new(e->key, e->keylen);
    dict_iter_release(&it);
    return n;
}

/* Active expiry: walk each database's volatile keys with a cursor (slot,
 * dict cursor), deleting what has expired, until the time budget runs out
 * or a pass finds few expired keys.  Mirrors the intent of Redis's
 * activeExpireCycle: bounded CPU, and memory of expired keys reclaimed even
 * when nobody reads them. */
struct expire_ctx {
    long long now;
    int checked, expired;
    sstr *victims;
    int nvictims, cap;
    long long ttl_sum;
    int ttl_samples;
};

static void expire_scan_cb(void *priv, const dict_entry *e)
{
    struct expire_ctx *ctx = priv;
    ctx->checked++;
    if (is_expired_at(e->v.i64, ctx->now)) {
        if (ctx->nvictims == ctx->cap) {
            ctx->cap = ctx->cap ? ctx->cap * 2 : 32;
            ctx->victims = mem_realloc(ctx->victims, sizeof(sstr) * (size_t)ctx->cap);
        }
        ctx->victims[ctx->nvictims++] = sstr_new(e->key, e->keylen);
    } else {
        ctx->ttl_sum += e->v.i64 - ctx->now;
        ctx->ttl_samples++;
    }
}

void db_active_expire_cycle(struct db **dbs, int dbnum, long long budget_us)
{
    if (srv.loading || srv.masterhost)
        return;
    long long start = monotonic_us();
    for (int i = 0; i < dbnum; i++) {
        struct db *db = dbs[i];
        if (db->volatile_keys == 0 || !db->slots)
            continue;
        struct expire_ctx ctx = {0};
        ctx.now = server_mstime();
        int passes = 0;
        for (;;) {
            int before_checked = ctx.checked, before_expired = ctx.expired;
            /* visit up to ~20 volatile keys per round */
            while (ctx.checked - before_checked < 20) {
                unsigned slot = db->expire_cursor;
                struct partition *p = db->slots[slot];
                if (p && dict_size(p->expires)) {
                    db->expire_scan_cursor = dict_scan(p->expires, db->expire_scan_cursor, expire_scan_cb, &ctx);
                    if (db->expire_scan_cursor != 0)
                        continue;
                }
                db->expire_scan_cursor = 0;
                db->expire_cursor = (slot + 1) & (SLOT_COUNT - 1);
                if (db->expire_cursor == 0)
                    break; /* wrapped around the slots: one full pass */
            }
            for (int v = 0; v < ctx.nvictims; v++) {
                if (db_key_is_expired(db, ctx.victims[v], sstr_len(ctx.victims[v]))) {
                    delete_expired(db, ctx.victims[v], sstr_len(ctx.victims[v]));
                    ctx.expired++;
                }
                sstr_free(ctx.victims[v]);
            }
            ctx.nvictims = 0;
            passes++;
            int round_checked = ctx.checked - before_checked;
            int round_expired = ctx.expired - before_expired;
            if (round_checked == 0 || db->volatile_keys == 0)
                break;
            /* keep going only while more than 10% of what we saw was stale */
            if (round_expired * 10 <= round_checked)
                break;
            if ((passes & 15) == 0 && monotonic_us() - start > budget_us) {
                srv.stat_expired_time_cap_reached_count++;
                break;
            }
        }
        if (ctx.ttl_samples) {
            long long avg = ctx.ttl_sum / ctx.ttl_samples;
            db->avg_ttl = db->avg_ttl ? (db->avg_ttl / 50) * 49 + avg / 50 : avg;
        }
        mem_free(ctx.victims);
        if (monotonic_us() - start > budget_us)
            break;
    }
}

static void (*key_ready_hook)(struct db *db, const char *key, size_t len);

void db_set_key_ready_hook(void (*hook)(struct db *, const char *, size_t)) { key_ready_hook = hook; }

void db_signal_key_ready(struct db *db, const char *key, size_t len)
{
    if (key_ready_hook && dict_size(db->blocking_keys) && dict_find(db->blocking_keys, key, len))
        key_ready_hook(db, key, len);
}

void db_signal_modified(struct db *db, const char *key, size_t len)
{
    if (dict_size(db->watched_keys))
        watch_touch_key(db, key, len);
}

size_t db_overhead_bytes(const struct db *db)
{
    size_t n = sizeof(*db) + (db->slots ? sizeof(*db->slots) * SLOT_COUNT : 0);
    if (db->slots) {
        for (unsigned s = 0; s < SLOT_COUNT; s++) {
            struct partition *p = db->slots[s];
            if (p)
                n += sizeof(*p) + dict_mem_usage(p->keys) + dict_mem_usage(p->expires);
        }
    }
    return n;
}
