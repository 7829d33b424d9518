/* evict.c - maxmemory eviction; see evict.h.
 *
 * The pool: up to EVPOOL_SIZE candidates (key, database, score), sorted by
 * score ascending, so the best key to evict is the rightmost.  The score
 * is the idle time (LRU), 255 minus the decayed access counter (LFU), or
 * how far from the end of time the key expires (volatile-ttl).  Each round
 * samples maxmemory-samples keys of every database into the pool and
 * evicts the best candidate that still exists; the pool keeps what it
 * learned for the next round, as Redis's does.
 */
#include "evict.h"

#include <limits.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "mem.h"
#include "object.h"
#include "propagate.h"
#include "resp.h"
#include "server.h"
#include "util.h"

#define EVPOOL_SIZE 16
#define EVICTION_TIME_LIMIT_US 500 /* maxmemory-eviction-tenacity 10 */

struct candidate {
    unsigned long long score;
    sstr key; /* NULL: empty */
    int dbid;
};

static struct candidate pool[EVPOOL_SIZE];
static int continue_from_cron;

void evict_apply_config(void)
{
    value_tracking_set((srv.maxmemory_policy & MAXMEMORY_FLAG_LFU) != 0, srv.lfu_log_factor, srv.lfu_decay_time);
}

static int volatile_only(void) { return !(srv.maxmemory_policy & MAXMEMORY_FLAG_ALLKEYS); }

static unsigned long long score_of(struct value *v, long long expire_ms)
{
    if (srv.maxmemory_policy & MAXMEMORY_FLAG_LRU)
        return (unsigned long long)value_idle_ms(v);
    if (srv.maxmemory_policy & MAXMEMORY_FLAG_LFU)
        return 255 - value_lfu_freq(v);
    /* volatile-ttl: the sooner it expires, the better to evict */
    return ULLONG_MAX - (unsigned long long)expire_ms;
}

/* Redis's evictionPoolPopulate, for one sampled key. */
static void pool_offer(void *priv, const char *key, size_t len, struct value *v, long long expire_ms)
{
    int dbid = *(int *)priv;
    unsigned long long score = score_of(v, expire_ms);
    int k = 0;
    while (k < EVPOOL_SIZE && pool[k].key && pool[k].score < score)
        k++;
    if (k == 0 && pool[EVPOOL_SIZE - 1].key)
        return; /* no better than anything in a full pool */
    if (k < EVPOOL_SIZE && pool[k].key) {
        if (!pool[EVPOOL_SIZE - 1].key) {
            /* room on the right: shift the better ones right */
            memmove(pool + k + 1, pool + k, sizeof(pool[0]) * (size_t)(EVPOOL_SIZE - k - 1));
        } else {
            /* full: drop the worst (leftmost) and shift left */
            k--;
            sstr_free(pool[0].key);
            memmove(pool, pool + 1, sizeof(pool[0]) * (size_t)k);
        }
    } else if (k == EVPOOL_SIZE) {
        /* better than all of a full pool: drop the worst */
        k--;
        sstr_free(pool[0].key);
        memmove(pool, pool + 1, sizeof(pool[0]) * (size_t)k);
    }
    pool[k] = (struct candidate){score, sstr_new(key, len), dbid};
}

/* The best candidate that still is what the policy may evict; its key
 * (owned by the caller) and database, or NULL when no key qualifies. */
static sstr pick_from_pool(int *dbid)
{
    for (;;) {
        size_t total = 0;
        for (int i = 0; i < srv.dbnum; i++) {
            struct db *db = srv.dbs[i];
            size_t n = volatile_only() ? db->volatile_keys : db->keys;
            if (n) {
                db_sample(db, volatile_only(), (size_t)srv.maxmemory_samples, pool_offer, &i);
                total += n;
            }
        }
        if (!total)
            return NULL;
        for (int k = EVPOOL_SIZE - 1; k >= 0; k--) {
            if (!pool[k].key)
                continue;
            sstr key = pool[k].key;
            *dbid = pool[k].dbid;
            pool[k].key = NULL;
            struct db *db = srv.dbs[*dbid];
            int there = volatile_only() ? db_get_expire(db, key, sstr_len(key)) != -1
                                        : db_peek(db, key, sstr_len(key)) != NULL;
            if (there)
                return key;
            sstr_free(key); /* a ghost: deleted since it was sampled */
        }
    }
}

static void take_one(void *priv, const char *key, size_t len, struct value *v, long long expire_ms)
{
    (void)v;
    (void)expire_ms;
    *(sstr *)priv = sstr_new(key, len);
}

/* The random policies: a random key of the next database that has one. */
static sstr pick_random(int *dbid)
{
    static int next_db;
    for (int i = 0; i < srv.dbnum; i++) {
        int j = (++next_db) % srv.dbnum;
        sstr key = NULL;
        if (db_sample(srv.dbs[j], volatile_only(), 1, take_one, &key)) {
            *dbid = j;
            return key;
        }
    }
    return NULL;
}

static void evict_key(int dbid, sstr key)
{
    struct db *db = srv.dbs[dbid];
    db_delete(db, key, sstr_len(key));
    srv.stat_evictedkeys++;
    db_signal_modified(db, key, sstr_len(key));
    struct arg argv[2] = {{"DEL", 3}, {key, sstr_len(key)}};
    propagate_also(db, 2, argv);
}

enum evict_result evict_perform(void)
{
    continue_from_cron = 0;
    if (!srv.maxmemory || srv.loading || srv.masterhost)
        return EVICT_OK; /* a replica evicts nothing: its master's DELs do (replica-ignore-maxmemory) */
    long long used = (long long)mem_used();
    if (used <= srv.maxmemory)
        return EVICT_OK;
    if (srv.maxmemory_policy == MAXMEMORY_NO_EVICTION)
        return EVICT_FAIL;
    long long to_free = used - srv.maxmemory, freed = 0;
    long long start = ustime();
    int evicted = 0;
    int random_policy =
        srv.maxmemory_policy == MAXMEMORY_ALLKEYS_RANDOM || srv.maxmemory_policy == MAXMEMORY_VOLATILE_RANDOM;
    while (freed < to_free) {
        int dbid = 0;
        sstr key = random_policy ? pick_random(&dbid) : pick_from_pool(&dbid);
        if (!key)
            return EVICT_FAIL; /* nothing left that the policy may evict */
        long long before = (long long)mem_used();
        evict_key(dbid, key);
        sstr_free(key);
        freed += before - (long long)mem_used();
        if (++evicted % 16 == 0 && ustime() - start > EVICTION_TIME_LIMIT_US) {
            continue_from_cron = 1;
            return EVICT_RUNNING;
        }
    }
    return EVICT_OK;
}

void evict_cron(void)
{
    if (continue_from_cron)
        evict_perform();
}
