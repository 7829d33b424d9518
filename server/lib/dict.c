/* dict.c - chained hash table with incremental rehash; see dict.h.
 *
 * Two tables exist only while rehashing: every lookup or insert moves one
 * bucket from table 0 to table 1, so a resize never stalls the server.
 * Iterators pause rehashing (pause counter) so they never miss or repeat an
 * entry.  The scan cursor walks bucket indexes in reverse-bit order so that
 * buckets already visited stay visited when the table doubles or halves.
 */
#include "dict.h"

#include <assert.h>
#include <string.h>
#include <time.h>

#include "mem.h"
#include "util.h"

struct dict {
    dict_entry **table[2];
    uint64_t size[2]; /* bucket counts, powers of two (0 when absent) */
    uint64_t used[2];
    long rehash_idx;  /* -1 when not rehashing */
    int pause_rehash;
    int nocase;
    dict_val_free *val_free;
};

#define DICT_INITIAL_SIZE 4

static uint8_t hash_seed[16] = {0x5a, 0x17, 0x3c, 0x99, 0x01, 0x42, 0xee, 0x10,
                                0x7b, 0x2d, 0x66, 0x81, 0xc4, 0x3f, 0x90, 0x25};

void dict_set_seed(const uint8_t seed[16]) { memcpy(hash_seed, seed, 16); }

/* A fast 64-bit hash (wyhash-style multiply-mix), seeded per process so
 * clients can't build collision chains. */
static inline uint64_t mix(uint64_t a, uint64_t b)
{
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t read64(const unsigned char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint64_t read32(const unsigned char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t hash_impl(const unsigned char *p, size_t len, int nocase)
{
    uint64_t s0, s1;
    memcpy(&s0, hash_seed, 8);
    memcpy(&s1, hash_seed + 8, 8);
    const uint64_t k1 = 0xa0761d6478bd642fULL, k2 = 0xe7037ed1a0b428dbULL;
    /* Case-insensitive dicts OR 0x20 into every byte: 'A' and 'a' hash
     * alike, and bytes that compare equal under strncasecmp always do.
     * (Some unequal bytes collide too, e.g. '@' and '`'; the key compare
     * sorts those out.) */
    const uint64_t fold = nocase ? 0x2020202020202020ULL : 0;
    uint64_t h = s0 ^ (len * k1);
    size_t i = 0;
    for (; i + 16 <= len; i += 16)
        h = mix((read64(p + i) | fold) ^ k1 ^ h, (read64(p + i + 8) | fold) ^ s1);
    uint64_t a = 0, b = 0;
    size_t rest = len - i;
    if (rest >= 8) {
        a = read64(p + i) | fold;
        b = read64(p + len - 8) | fold;
    } else if (rest >= 4) {
        a = read32(p + i) | (fold & 0xffffffffULL);
        b = read32(p + len - 4) | (fold & 0xffffffffULL);
    } else if (rest > 0) {
        uint64_t f = fold & 0xff;
        a = ((uint64_t)(p[i] | f) << 16) | ((uint64_t)(p[i + rest / 2] | f) << 8) | (p[i + rest - 1] | f);
    }
    return mix(mix(a ^ k1 ^ h, b ^ s1), k2 ^ len);
}

uint64_t dict_hash_bytes(const void *key, size_t len)
{
    return hash_impl(key, len, 0);
}

/* ASCII case-insensitive comparison of exactly `len` bytes.  Not
 * strncasecmp: that stops at the first NUL, which would make binary keys
 * such as "\0abc" and "\0xyz" equal whenever their hashes collide. */
static int ascii_caseeq(const char *a, const char *b, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return 0;
    }
    return 1;
}

static inline int key_equal(const dict *d, const dict_entry *e, const void *key, size_t len)
{
    if (e->keylen != len)
        return 0;
    return d->nocase ? ascii_caseeq(e->key, key, len) : memcmp(e->key, key, len) == 0;
}

dict *dict_create(dict_val_free *val_free, int flags)
{
    dict *d = mem_calloc(sizeof(*d));
    d->rehash_idx = -1;
    d->nocase = (flags & DICT_NOCASE) != 0;
    d->val_free = val_free;
    return d;
}

static inline int is_rehashing(const dict *d) { return d->rehash_idx != -1; }

size_t dict_size(const dict *d) { return d->used[0] + d->used[1]; }
size_t dict_buckets(const dict *d) { return d->size[0] + d->size[1]; }

size_t dict_mem_usage(const dict *d)
{
    return sizeof(*d) + (d->size[0] + d->size[1]) * sizeof(dict_entry *) +
           dict_size(d) * (sizeof(dict_entry) + 16);
}

static void free_entry(dict *d, dict_entry *e)
{
    if (d->val_free && e->v.ptr)
        d->val_free(e->v.ptr);
    mem_free(e);
}

static void clear_table(dict *d, int t)
{
    for (uint64_t i = 0; i < d->size[t] && d->used[t] > 0; i++) {
        dict_entry *e = d->table[t][i];
        while (e) {
            dict_entry *next = e->next;
            free_entry(d, e);
            d->used[t]--;
            e = next;
        }
    }
    mem_free(d->table[t]);
    d->table[t] = NULL;
    d->size[t] = d->used[t] = 0;
}

void dict_clear(dict *d)
{
    clear_table(d, 0);
    clear_table(d, 1);
    d->rehash_idx = -1;
}

void dict_free(dict *d)
{
    if (!d)
        return;
    dict_clear(d);
    mem_free(d);
}

/* Move `n` buckets from table 0 to table 1; visits at most 10*n empty ones. */
static int rehash_step(dict *d, int n)
{
    int empty_visits = n * 10;
    if (!is_rehashing(d))
        return 0;
    while (n-- && d->used[0] != 0) {
        assert(d->size[0] > (uint64_t)d->rehash_idx);
        while (d->table[0][d->rehash_idx] == NULL) {
            d->rehash_idx++;
            if (--empty_visits == 0)
                return 1;
        }
        dict_entry *e = d->table[0][d->rehash_idx];
        while (e) {
            dict_entry *next = e->next;
            uint64_t idx = e->hash & (d->size[1] - 1);
            e->next = d->table[1][idx];
            d->table[1][idx] = e;
            d->used[0]--;
            d->used[1]++;
            e = next;
        }
        d->table[0][d->rehash_idx] = NULL;
        d->rehash_idx++;
    }
    if (d->used[0] == 0) {
        mem_free(d->table[0]);
        d->table[0] = d->table[1];
        d->size[0] = d->size[1];
        d->used[0] = d->used[1];
        d->table[1] = NULL;
        d->size[1] = d->used[1] = 0;
        d->rehash_idx = -1;
        return 0;
    }
    return 1;
}

static inline void rehash_if_idle(dict *d)
{
    if (d->pause_rehash == 0)
        rehash_step(d, 1);
}

int dict_rehash_ms(dict *d, int ms)
{
    if (d->pause_rehash > 0)
        return 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (rehash_step(d, 100)) {
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long elapsed = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (elapsed >= ms)
            return 1;
    }
    return is_rehashing(d);
}

static void resize_to(dict *d, uint64_t want)
{
    uint64_t size = DICT_INITIAL_SIZE;
    while (size < want)
        size <<= 1;
    if (is_rehashing(d) || size == d->size[0])
        return;
    dict_entry **t = mem_calloc(size * sizeof(*t));
    if (d->table[0] == NULL) {
        d->table[0] = t;
        d->size[0] = size;
        return;
    }
    d->table[1] = t;
    d->size[1] = size;
    d->rehash_idx = 0;
}

static void expand_if_needed(dict *d)
{
    if (is_rehashing(d))
        return;
    if (d->size[0] == 0) {
        resize_to(d, DICT_INITIAL_SIZE);
        return;
    }
    /* grow at load factor 1, unless an iterator pins the table, in which
     * case only grow when chains get really long */
    if (d->used[0] >= d->size[0] && (d->pause_rehash == 0 || d->used[0] / d->size[0] > 5))
        resize_to(d, d->used[0] + 1);
}

void dict_maybe_shrink(dict *d)
{
    if (is_rehashing(d) || d->pause_rehash || d->size[0] <= DICT_INITIAL_SIZE)
        return;
    if (d->used[0] * 10 < d->size[0])
        resize_to(d, d->used[0] < DICT_INITIAL_SIZE ? DICT_INITIAL_SIZE : d->used[0]);
}

dict_entry *dict_find(dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0)
        return NULL;
    rehash_if_idle(d);
    uint32_t h = (uint32_t)hash_impl(key, len, d->nocase);
    for (int t = 0; t <= 1; t++) {
        if (d->size[t] == 0)
            break;
        for (dict_entry *e = d->table[t][h & (d->size[t] - 1)]; e; e = e->next) {
            if (e->hash == h && key_equal(d, e, key, len))
                return e;
        }
        if (!is_rehashing(d))
            break;
    }
    return NULL;
}

dict_entry *dict_add(dict *d, const void *key, size_t len, dict_entry **existing)
{
    dict_entry *found = dict_find(d, key, len);
    if (found) {
        if (existing)
            *existing = found;
        return NULL;
    }
    expand_if_needed(d);
    assert(len <= UINT32_MAX);
    uint32_t h = (uint32_t)hash_impl(key, len, d->nocase);
    int t = is_rehashing(d) ? 1 : 0;
    dict_entry *e = mem_alloc(sizeof(*e) + len + 1);
    memcpy(e->key, key, len);
    e->key[len] = '\0';
    e->keylen = (uint32_t)len;
    e->hash = h;
    e->v.ptr = NULL;
    uint64_t idx = h & (d->size[t] - 1);
    e->next = d->table[t][idx];
    d->table[t][idx] = e;
    d->used[t]++;
    return e;
}

dict_entry *dict_unlink(dict *d, const void *key, size_t len)
{
    if (dict_size(d) == 0)
        return NULL;
    rehash_if_idle(d);
    uint32_t h = (uint32_t)hash_impl(key, len, d->nocase);
    for (int t = 0; t <= 1; t++) {
        if (d->size[t] == 0)
            break;
        dict_entry **pp = &d->table[t][h & (d->size[t] - 1)];
        for (dict_entry *e = *pp; e; pp = &e->next, e = e->next) {
            if (e->hash == h && key_equal(d, e, key, len)) {
                *pp = e->next;
                d->used[t]--;
                return e;
            }
        }
        if (!is_rehashing(d))
            break;
    }
    return NULL;
}

void dict_free_unlinked(dict *d, dict_entry *e)
{
    if (e)
        free_entry(d, e);
}

int dict_delete(dict *d, const void *key, size_t len)
{
    dict_entry *e = dict_unlink(d, key, len);
    if (!e)
        return 0;
    free_entry(d, e);
    return 1;
}

dict_entry *dict_random(dict *d)
{
    if (dict_size(d) == 0)
        return NULL;
    rehash_if_idle(d);
    dict_entry *e = NULL;
    if (is_rehashing(d)) {
        uint64_t s0 = d->size[0], span = s0 + d->size[1];
        do {
            uint64_t r = (uint64_t)d->rehash_idx + random_u64() % (span - (uint64_t)d->rehash_idx);
            e = r >= s0 ? d->table[1][r - s0] : d->table[0][r];
        } while (!e);
    } else {
        do {
            e = d->table[0][random_u64() & (d->size[0] - 1)];
        } while (!e);
    }
    long n = 0;
    for (dict_entry *p = e; p; p = p->next)
        n++;
    long pick = (long)(random_u64() % (uint64_t)n);
    while (pick--)
        e = e->next;
    return e;
}

static uint64_t rev64(uint64_t v)
{
    uint64_t s = 64, mask = ~0ULL;
    while ((s >>= 1) > 0) {
        mask ^= (mask << s);
        v = ((v >> s) & mask) | ((v << s) & ~mask);
    }
    return v;
}

static void scan_bucket(dict_entry *e, dict_scan_fn *fn, void *privdata)
{
    while (e) {
        dict_entry *next = e->next;
        fn(privdata, e);
        e = next;
    }
}

uint64_t dict_scan(dict *d, uint64_t v, dict_scan_fn *fn, void *privdata)
{
    if (dict_size(d) == 0)
        return 0;
    d->pause_rehash++;
    if (!is_rehashing(d)) {
        uint64_t m0 = d->size[0] - 1;
        scan_bucket(d->table[0][v & m0], fn, privdata);
        v |= ~m0;
        v = rev64(v);
        v++;
        v = rev64(v);
    } else {
        int small = d->size[0] <= d->size[1] ? 0 : 1, large = 1 - small;
        uint64_t m0 = d->size[small] - 1, m1 = d->size[large] - 1;
        scan_bucket(d->table[small][v & m0], fn, privdata);
        do {
            scan_bucket(d->table[large][v & m1], fn, privdata);
            v |= ~m1;
            v = rev64(v);
            v++;
            v = rev64(v);
        } while (v & (m0 ^ m1));
    }
    d->pause_rehash--;
    return v;
}

void dict_iter_init(dict_iter *it, dict *d)
{
    it->d = d;
    it->table = 0;
    it->index = -1;
    it->entry = it->next_entry = NULL;
    d->pause_rehash++;
}

dict_entry *dict_iter_next(dict_iter *it)
{
    dict *d = it->d;
    for (;;) {
        if (it->entry == NULL) {
            it->index++;
            if (it->index >= (long)d->size[it->table]) {
                if (is_rehashing(d) && it->table == 0) {
                    it->table = 1;
                    it->index = 0;
                } else {
                    return NULL;
                }
            }
            if (d->size[it->table] == 0)
                return NULL;
            it->entry = d->table[it->table][it->index];
        } else {
            it->entry = it->next_entry;
        }
        if (it->entry) {
            it->next_entry = it->entry->next;
            return it->entry;
        }
    }
}

void dict_iter_release(dict_iter *it)
{
    if (it->d) {
        it->d->pause_rehash--;
        it->d = NULL;
    }
}
