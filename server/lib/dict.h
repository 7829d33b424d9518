/* dict.h - hash table keyed by byte strings.
 *
 * Chained hashing over power-of-two tables with incremental rehashing, as
 * Redis does, because SCAN's guarantee (every element present for the whole
 * scan is returned at least once, even across resizes) depends on it.
 * Unlike Redis, the key bytes live inside the entry itself: one allocation
 * per element and no pointer chase to compare keys.
 *
 * Lookups take (pointer, length), so callers can look up straight from the
 * request buffer without building a string first.  A dict may be created
 * case-insensitive (ASCII), for command and configuration names.
 */
#ifndef SLUICE_DICT_H
#define SLUICE_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct dict dict;

typedef struct dict_entry {
    struct dict_entry *next;
    union {
        void *ptr;
        int64_t i64;
        uint64_t u64;
        double d;
    } v;
    uint32_t hash;
    uint32_t keylen;
    char key[]; /* keylen bytes, then a NUL */
} dict_entry;

/* Called with each value when its entry is deleted or the dict freed. */
typedef void dict_val_free(void *val);

#define DICT_NOCASE 1

dict *dict_create(dict_val_free *val_free, int flags);
void dict_free(dict *d);
/* Remove every entry; `progress` (may be NULL) is called every 65536
 * buckets so very large flushes can keep a server responsive. */
void dict_clear(dict *d);

size_t dict_size(const dict *d);
size_t dict_buckets(const dict *d);
/* Memory used by the table itself and its entries (not the values). */
size_t dict_mem_usage(const dict *d);

dict_entry *dict_find(dict *d, const void *key, size_t len);
/* Insert a new key; returns NULL (and sets *existing if given) when the key
 * is already present.  The caller sets the value in the returned entry. */
dict_entry *dict_add(dict *d, const void *key, size_t len, dict_entry **existing);
/* Remove and free (calling val_free).  Returns 1 if the key was there. */
int dict_delete(dict *d, const void *key, size_t len);
/* Remove without freeing; free later with dict_free_unlinked(). */
dict_entry *dict_unlink(dict *d, const void *key, size_t len);
void dict_free_unlinked(dict *d, dict_entry *e);

/* A random entry, or NULL when empty.  Not uniform across chains (as in
 * Redis), which is fine for RANDOMKEY and eviction/expiry sampling. */
dict_entry *dict_random(dict *d);

/* SCAN-style iteration.  Start with cursor 0; returns the next cursor, 0
 * when done.  `fn` may not modify the dict. */
typedef void dict_scan_fn(void *privdata, const dict_entry *e);
uint64_t dict_scan(dict *d, uint64_t cursor, dict_scan_fn *fn, void *privdata);

/* Iterator.  Safe: entries may be deleted (including the current one)
 * while iterating; rehashing is paused until dict_iter_release. */
typedef struct dict_iter {
    dict *d;
    long table;
    long index;
    dict_entry *entry, *next_entry;
} dict_iter;
void dict_iter_init(dict_iter *it, dict *d);
dict_entry *dict_iter_next(dict_iter *it);
void dict_iter_release(dict_iter *it);

/* Do some rehashing for at most `ms` milliseconds; returns 1 if more is left. */
int dict_rehash_ms(dict *d, int ms);
/* Shrink the table when it is mostly empty (called from cron). */
void dict_maybe_shrink(dict *d);

/* Set the process-wide hash seed (call once at startup, before any dict). */
void dict_set_seed(const uint8_t seed[16]);
uint64_t dict_hash_bytes(const void *key, size_t len);

#endif
