/* evict.h - keeping used memory under maxmemory (Redis's evict.c).
 *
 * Before each command, when maxmemory is set and used memory is above it,
 * keys are evicted by maxmemory-policy until it is not: the LRU, LFU and
 * volatile-ttl policies through Redis's approximation (maxmemory-samples
 * keys sampled per database into a pool of the 16 best candidates), the
 * random ones by picking keys at random, database after database.  The
 * volatile-* policies only consider keys with a TTL.  Each evicted key is
 * deleted as DEL would (WATCH, blocked XREADGROUPs, the AOF and replicas
 * see a DEL).  Evicting stops after about 500 us (maxmemory-eviction-
 * tenacity 10, as Redis) and goes on from the cron.
 */
#ifndef SLUICE_EVICT_H
#define SLUICE_EVICT_H

enum evict_result {
    EVICT_OK,      /* under maxmemory (or no limit) */
    EVICT_RUNNING, /* still above, eviction goes on from the cron */
    EVICT_FAIL,    /* above, and nothing may or can be evicted */
};

enum evict_result evict_perform(void);
/* From the cron: go on with an eviction that ran out of time. */
void evict_cron(void);
/* maxmemory-policy / lfu-* changed: tell the values how to track access. */
void evict_apply_config(void);

#endif
