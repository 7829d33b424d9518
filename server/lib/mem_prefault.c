/* mem_prefault.c - page faults taken on the idle core during bulk loads.
 *
 * Loading a dataset (RDB at startup, an AOF, DEBUG RELOAD) writes every
 * byte of the dataset into memory the process has never touched, and the
 * kernel takes one page fault per 4 KB page: for a 180 MB dataset that is
 * 46,000 faults and more of the load's time than decoding the file.  The
 * server is single-threaded, so the second core sits idle meanwhile.
 *
 * While a load runs, the main thread allocates from a jemalloc arena of its
 * own whose extent hook hands every range the arena maps to a helper
 * thread.  The helper faults the pages in with MADV_POPULATE_WRITE, ahead
 * of the main thread, which then finds them present.  Populating never
 * changes what a page holds (a present page is left alone, a missing one
 * is mapped zero-filled, exactly what the main thread's own fault would
 * do), so the two threads may touch the same page in either order.
 *
 * The helper stays at most PREFAULT_WINDOW bytes ahead of the main
 * thread's net allocation since the range was mapped, so that the part of
 * the arena's last range the load never uses is not made resident.  It
 * never allocates (the hook runs inside jemalloc and must not either): the
 * ranges pass through a fixed ring, and a range that finds the ring full
 * is simply not prefaulted.
 *
 * After the load the main thread returns to its usual arena; the loaded
 * data stays in the load arena, and frees go back to it as usual.  On a
 * kernel without MADV_POPULATE_WRITE (before Linux 5.14) the helper stops
 * at its first refusal and the load takes its own faults, as before.
 * Without jemalloc (sanitizer builds) both calls do nothing.
 */
#include "mem.h"

#ifdef SLUICE_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

#define PREFAULT_RING 64
#define PREFAULT_STEP ((size_t)1 << 20)    /* bytes per madvise call */
#define PREFAULT_WINDOW ((size_t)16 << 20) /* how far ahead of the loader */

struct prefault_range {
    char *addr;
    size_t size;
    uint64_t net_at_map; /* main thread's net allocation when mapped */
};

static struct {
    int active;
    int arena_ready;
    unsigned arena, saved_arena;
    extent_hooks_t *defaults; /* the hooks of arena 0, which ours wrap */
    extent_hooks_t hooks;
    uint64_t *main_allocated, *main_deallocated; /* the loader's counters */
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    struct prefault_range ring[PREFAULT_RING];
    unsigned head, tail; /* free-running; tail - head ranges are queued */
    int stop;
    size_t populated; /* bytes the helper populated (for tests) */
} pf = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

/* The loader's allocated minus freed bytes.  The counters belong to the
 * main thread, which updates them with plain stores; an aligned 64-bit
 * load sees either the old or the new value, and either is a fine
 * estimate. */
static uint64_t main_net(void)
{
    return __atomic_load_n(pf.main_allocated, __ATOMIC_RELAXED) -
           __atomic_load_n(pf.main_deallocated, __ATOMIC_RELAXED);
}

/* How far the loader has grown since a range was mapped (0 if it shrank). */
static size_t grown_since(uint64_t net_at_map)
{
    int64_t d = (int64_t)(main_net() - net_at_map);
    return d > 0 ? (size_t)d : 0;
}

static int stopping(void) { return __atomic_load_n(&pf.stop, __ATOMIC_RELAXED); }

/* Runs on the main thread, inside jemalloc, whenever the load arena maps
 * a new range. */
static void *prefault_extent_alloc(extent_hooks_t *hooks, void *new_addr, size_t size, size_t alignment,
                                   bool *zero, bool *commit, unsigned arena_ind)
{
    (void)hooks;
    void *p = pf.defaults->alloc(pf.defaults, new_addr, size, alignment, zero, commit, arena_ind);
    if (!p)
        return NULL;
    pthread_mutex_lock(&pf.lock);
    if (pf.tail - pf.head < PREFAULT_RING) {
        struct prefault_range *r = &pf.ring[pf.tail % PREFAULT_RING];
        r->addr = p;
        r->size = size;
        r->net_at_map = main_net();
        pf.tail++;
        pthread_cond_signal(&pf.wake);
    }
    pthread_mutex_unlock(&pf.lock);
    return p;
}

/* Populate one range, never more than the window ahead of what the
 * loader has allocated since the range was mapped.  Returns 0 when the
 * kernel refuses (no MADV_POPULATE_WRITE, or the range is gone). */
static int populate(const struct prefault_range *r)
{
    for (size_t off = 0; off < r->size; off += PREFAULT_STEP) {
        while (!stopping() && off > grown_since(r->net_at_map) + PREFAULT_WINDOW) {
            struct timespec pause = {0, 200 * 1000};
            nanosleep(&pause, NULL);
        }
        if (stopping())
            return 1;
        size_t n = r->size - off < PREFAULT_STEP ? r->size - off : PREFAULT_STEP;
        if (madvise(r->addr + off, n, MADV_POPULATE_WRITE) != 0)
            return 0;
        __atomic_fetch_add(&pf.populated, n, __ATOMIC_RELAXED);
    }
    return 1;
}

static void *prefault_main(void *arg)
{
    (void)arg;
    int usable = 1;
    pthread_mutex_lock(&pf.lock);
    while (!pf.stop) {
        if (pf.head == pf.tail) {
            pthread_cond_wait(&pf.wake, &pf.lock);
            continue;
        }
        struct prefault_range r = pf.ring[pf.head % PREFAULT_RING];
        pf.head++;
        pthread_mutex_unlock(&pf.lock);
        if (usable && !populate(&r))
            usable = 0; /* the kernel said no: leave the faults to the loader */
        pthread_mutex_lock(&pf.lock);
    }
    pthread_mutex_unlock(&pf.lock);
    return NULL;
}

static int arena_setup(void)
{
    if (pf.arena_ready)
        return 1;
    size_t sz = sizeof(pf.defaults);
    if (mallctl("arena.0.extent_hooks", &pf.defaults, &sz, NULL, 0) != 0)
        return 0;
    pf.hooks = *pf.defaults;
    pf.hooks.alloc = prefault_extent_alloc;
    extent_hooks_t *ours = &pf.hooks;
    sz = sizeof(pf.arena);
    if (mallctl("arenas.create", &pf.arena, &sz, &ours, sizeof(ours)) != 0)
        return 0;
    pf.arena_ready = 1;
    return 1;
}

void mem_prefault_begin(void)
{
    if (pf.active)
        return;
    /* before the arena exists: creating it already maps its metadata */
    size_t sz = sizeof(uint64_t *);
    if (mallctl("thread.allocatedp", &pf.main_allocated, &sz, NULL, 0) != 0 ||
        mallctl("thread.deallocatedp", &pf.main_deallocated, &sz, NULL, 0) != 0 || !arena_setup())
        return;
    pf.stop = 0;
    pf.head = pf.tail = 0;
    if (pthread_create(&pf.thread, NULL, prefault_main, NULL) != 0)
        return;
    sz = sizeof(pf.saved_arena);
    if (mallctl("thread.arena", &pf.saved_arena, &sz, &pf.arena, sizeof(pf.arena)) != 0) {
        pf.active = 1;
        mem_prefault_end();
        return;
    }
    pf.active = 1;
}

void mem_prefault_end(void)
{
    if (!pf.active)
        return;
    unsigned current;
    size_t sz = sizeof(current);
    if (mallctl("thread.arena", &current, &sz, NULL, 0) == 0 && current == pf.arena)
        mallctl("thread.arena", NULL, NULL, &pf.saved_arena, sizeof(pf.saved_arena));
    pthread_mutex_lock(&pf.lock);
    __atomic_store_n(&pf.stop, 1, __ATOMIC_RELAXED); /* populate() reads it unlocked */
    pthread_cond_signal(&pf.wake);
    pthread_mutex_unlock(&pf.lock);
    pthread_join(pf.thread, NULL);
    pf.active = 0;
}

size_t mem_prefault_populated(void) { return __atomic_load_n(&pf.populated, __ATOMIC_RELAXED); }

#else

void mem_prefault_begin(void) {}
void mem_prefault_end(void) {}
size_t mem_prefault_populated(void) { return 0; }

#endif
