/* test_mem.c - the allocation wrapper's prefaulting of bulk loads.
 *
 * What mem_prefault_begin()/end() promise, checked from outside:
 *   - data written while the helper populates the same pages is intact
 *     (populating must never write into a page the loader already filled);
 *   - pages the loader touches after the helper ran ahead cost the loader
 *     no page faults (counted with RUSAGE_THREAD), where the same pattern
 *     without prefaulting costs one fault per page;
 *   - the helper stays within its window of the loader's growth, so memory
 *     the load never uses is not made resident;
 *   - after end, the thread allocates from its usual arena again.
 * Without jemalloc (sanitizer builds) both calls must be harmless no-ops.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#include "tap.h"
#include "mem.h"

#ifdef SLUICE_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#define BLOCK 8192
#define MB ((size_t)1 << 20)

static long thread_minor_faults(void)
{
    struct rusage ru;
    getrusage(RUSAGE_THREAD, &ru);
    return ru.ru_minflt;
}

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Wait until the helper has populated at least want bytes more than base
 * or stopped making progress; returns what it populated since base. */
static size_t wait_populated(size_t base, size_t want)
{
    size_t last = (size_t)-1;
    for (int i = 0; i < 400; i++) {
        size_t now = mem_prefault_populated() - base;
        if (now >= want)
            return now;
        if (i % 20 == 19) {
            if (now == last)
                return now; /* no progress for 100 ms */
            last = now;
        }
        sleep_ms(5);
    }
    return mem_prefault_populated() - base;
}

static void fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 64)
        p[i] = (unsigned char)(seed + i / 64);
    p[n - 1] = (unsigned char)seed;
}

static int intact(const unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i += 64)
        if (p[i] != (unsigned char)(seed + i / 64))
            return 0;
    return p[n - 1] == (unsigned char)seed;
}

/* Allocate and fill blocks as fast as possible while the helper populates
 * the same ranges, then check every byte pattern survived. */
static void test_racing_writes(void)
{
    enum { N = 6000 }; /* ~47 MB: several ranges of the arena */
    static unsigned char *blocks[N];
    mem_prefault_begin();
    for (int i = 0; i < N; i++) {
        blocks[i] = mem_alloc(BLOCK);
        fill(blocks[i], BLOCK, (unsigned)i * 7u);
    }
    mem_prefault_end();
    int bad = 0;
    for (int i = 0; i < N; i++)
        bad += !intact(blocks[i], BLOCK, (unsigned)i * 7u);
    is_int(bad, 0, "blocks written while the helper populated them are intact");
    for (int i = 0; i < N; i++)
        mem_free(blocks[i]);
}

/* Touch n fresh blocks and count this thread's page faults. */
static long faults_touching(unsigned char **blocks, int n)
{
    long before = thread_minor_faults();
    for (int i = 0; i < n; i++)
        fill(blocks[i], BLOCK, (unsigned)i);
    long faults = thread_minor_faults() - before;
    for (int i = 0; i < n; i++)
        if (!intact(blocks[i], BLOCK, (unsigned)i))
            return -1;
    return faults;
}

#ifdef SLUICE_USE_JEMALLOC
static unsigned current_arena(void)
{
    unsigned a = 0;
    size_t sz = sizeof(a);
    mallctl("thread.arena", &a, &sz, NULL, 0);
    return a;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif

/* Whether this kernel supports MADV_POPULATE_WRITE, asked directly on a
 * scratch mapping: the helper's "populated nothing" is then a failure,
 * not a kernel that cannot populate. */
static int kernel_populates(void)
{
    size_t len = 2 * 4096;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        return 0;
    int r = madvise(m, len, MADV_POPULATE_WRITE);
    munmap(m, len);
    return r == 0;
}

static void test_loader_takes_no_faults(void)
{
    enum { N = 1024 }; /* 8 MB = 2048 pages */
    static unsigned char *blocks[N];
    long pages = (long)N * BLOCK / 4096;
    unsigned arena_before = current_arena();

    /* control: the same pattern in the usual arena costs a fault a page */
    for (int i = 0; i < N; i++)
        blocks[i] = mem_alloc(BLOCK);
    long plain = faults_touching(blocks, N);
    ok(plain >= pages * 9 / 10, "without prefaulting, touching %ld fresh pages faults (%ld faults)", pages, plain);
    for (int i = 0; i < N; i++)
        mem_free(blocks[i]);

    size_t base = mem_prefault_populated();
    mem_prefault_begin();
    ok(current_arena() != arena_before, "during a bulk load the thread allocates from the load arena");
    for (int i = 0; i < N; i++)
        blocks[i] = mem_alloc(BLOCK);
    size_t populated = wait_populated(base, (size_t)N * BLOCK);
    long faults = faults_touching(blocks, N);
    mem_prefault_end();
    if (!kernel_populates()) {
        /* a kernel before 5.14 refuses MADV_POPULATE_WRITE: nothing to measure */
        tap_skip("the kernel refuses MADV_POPULATE_WRITE (before 5.14): prefault and fault counts not checked");
        tap_skip("the kernel refuses MADV_POPULATE_WRITE: the loader's faults not checked");
    } else {
        ok(populated >= (size_t)N * BLOCK, "the helper populated the loader's %zu bytes (%zu)", (size_t)N * BLOCK,
           populated);
        ok(faults >= 0 && faults < pages / 10, "with prefaulting the loader takes almost no faults (%ld for %ld pages)",
           faults, pages);
    }
    is_int(current_arena(), arena_before, "after the load the thread is back on its usual arena");
    for (int i = 0; i < N; i++)
        mem_free(blocks[i]);
}

/* A big range mapped and given back at once: the loader did not grow, so
 * the helper must stop at its window instead of populating all of it. */
static void test_window_bounds_residency(void)
{
    size_t big = 96 * MB;
    size_t base = mem_prefault_populated();
    mem_prefault_begin();
    void *p = mem_alloc(big);
    mem_free(p);
    size_t populated = wait_populated(base, big);
    sleep_ms(50);
    populated = mem_prefault_populated() - base;
    mem_prefault_end();
    if (!kernel_populates())
        tap_skip("the kernel refuses MADV_POPULATE_WRITE: the window bound not checked");
    else
        ok(populated > 0, "the helper populates within the window (%zu bytes), so the bound below means something",
           populated);
    ok(populated <= 20 * MB, "a range the loader does not grow into is populated only within the window (%zu MB)",
       populated / MB);
}
#endif

int main(void)
{
#ifdef SLUICE_USE_JEMALLOC
    test_loader_takes_no_faults(); /* first: it needs a load arena with no pages yet */
    test_racing_writes();
    test_window_bounds_residency();
    /* begin twice, end twice: the second of each is ignored */
    unsigned arena_before = current_arena();
    mem_prefault_begin();
    unsigned load_arena = current_arena();
    mem_prefault_begin();
    is_int(current_arena(), load_arena, "a nested begin keeps the load arena");
    mem_prefault_end();
    mem_prefault_end();
    is_int(current_arena(), arena_before, "one end restores the usual arena, a second is a no-op");
#else
    test_racing_writes();
    tap_diag("built without jemalloc: prefaulting is off, begin/end must be no-ops");
    mem_prefault_begin();
    unsigned char *b = mem_alloc(BLOCK);
    fill(b, BLOCK, 3);
    mem_prefault_end();
    ok(intact(b, BLOCK, 3), "allocation between begin and end works");
    is_int(mem_prefault_populated(), 0, "nothing is populated without jemalloc");
    mem_free(b);
#endif
    return tap_done();
}
