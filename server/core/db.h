/* db.h - the keyspace: numbered databases, each partitioned by hash slot.
 *
 * Every key lives in the partition of its Redis Cluster slot (slot.h).  A
 * partition holds two dicts: keys -> value, and the subset of keys with a
 * TTL -> absolute expire time in ms.  Partitions are created on first use
 * and freed when empty, so an idle database costs one pointer array.  This
 * is the boundary along which data will later move between nodes: nothing
 * outside db.c reaches into a partition.
 *
 * Lookups apply lazy expiry: an expired key is deleted on access and looks
 * absent.  Commands that write call db_signal_modified() for each key they
 * change (as Redis's signalModifiedKey), so WATCH sees them; the write
 * helpers here don't, because loading and internal moves use them too.
 */
#ifndef SLUICE_DB_H
#define SLUICE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "object.h"
#include "slot.h"

struct partition;

struct db {
    int id;
    struct partition **slots; /* SLOT_COUNT entries; NULL until the first key */
    size_t keys, volatile_keys;
    long long avg_ttl;
    dict *watched_keys;       /* key -> struct watchers (multi.c) */
    dict *blocking_keys;      /* key -> clients blocked on it (blocking) */
    unsigned expire_cursor;   /* active expiry: next slot to visit */
    uint64_t expire_scan_cursor;
    int loading;              /* a load fills it: lookups neither hide nor expire keys
                               * (as srv.loading does for every db) */
};

struct db *db_create(int id);
void db_free(struct db *db);

/* Lookups: NULL when absent or expired (expired keys are deleted). */
struct value *db_lookup_read(struct db *db, const char *key, size_t len);  /* counts hits/misses */
struct value *db_lookup_write(struct db *db, const char *key, size_t len);
/* Without side effects (no expiry deletion, no stats, no LRU update):
 * for OBJECT, TYPE-like introspection that must not count as access. */
struct value *db_peek(struct db *db, const char *key, size_t len);

/* Writes.  db_add requires the key to be absent; db_set overwrites and
 * drops any TTL unless keep_ttl; db_replace_value swaps the value in place
 * keeping the TTL. */
void db_add(struct db *db, const char *key, size_t len, struct value *v);
void db_set(struct db *db, const char *key, size_t len, struct value *v, int keep_ttl);
int db_delete(struct db *db, const char *key, size_t len);
/* Remove without freeing the value; the caller owns it. */
struct value *db_take(struct db *db, const char *key, size_t len);

/* Expiry (absolute unix ms; -1 = none). */
void db_set_expire(struct db *db, const char *key, size_t len, long long when_ms);
long long db_get_expire(struct db *db, const char *key, size_t len);
int db_remove_expire(struct db *db, const char *key, size_t len);
int db_key_is_expired(struct db *db, const char *key, size_t len);
/* Delete the key if it is logically expired; returns 1 if it was. */
int db_expire_if_needed(struct db *db, const char *key, size_t len);

/* Whole-database operations. */
size_t db_size(const struct db *db);
long long db_empty(struct db *db);         /* returns keys removed */
void db_swap(struct db *a, struct db *b);  /* contents only, not watchers */
int db_random_key(struct db *db, sstr *out);
/* Eviction's sampling: n keys picked at random (repeats possible), from
 * all keys or only those with a TTL.  fn gets each with its value and
 * expire time (-1: none).  Returns how many it sampled (0: none there). */
typedef void db_sample_fn(void *priv, const char *key, size_t len, struct value *v, long long expire_ms);
size_t db_sample(struct db *db, int volatile_only, size_t n, db_sample_fn *fn, void *priv);
/* SCAN cursor over all partitions; fn is called for every live key. */
typedef void db_scan_fn(void *priv, const char *key, size_t len, struct value *v);
uint64_t db_scan(struct db *db, uint64_t cursor, db_scan_fn *fn, void *priv);
/* Iterate over all keys (safe against deletion of the current key). */
void db_foreach(struct db *db, db_scan_fn *fn, void *priv);

/* Slots. */
size_t db_count_keys_in_slot(struct db *db, unsigned slot);
/* Up to `max` key names of a slot appended to *keys (an array of sstr). */
size_t db_keys_in_slot(struct db *db, unsigned slot, size_t max, sstr **keys);

/* Active expiry: one incremental cycle; slow = cron cycle (time-bounded). */
void db_active_expire_cycle(struct db **dbs, int dbnum, long long budget_us);

/* Called on every write to a key (WATCH, later: client-side caching). */
void db_signal_modified(struct db *db, const char *key, size_t len);
/* Called when a key gets a new value that could wake blocked clients. */
void db_signal_key_ready(struct db *db, const char *key, size_t len);

size_t db_overhead_bytes(const struct db *db);
void db_set_key_ready_hook(void (*hook)(struct db *db, const char *key, size_t len));

#endif
