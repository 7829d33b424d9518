/* mem.c - allocation wrapper; see mem.h.
 *
 * With jemalloc, used memory comes from jemalloc's own per-thread counters
 * of allocated and freed bytes ("thread.allocatedp"/"thread.deallocatedp"):
 * they count usable sizes, exactly what Redis sums with
 * malloc_usable_size(), but cost nothing per allocation, where asking for
 * the usable size of every block costs a radix-tree lookup on each malloc
 * and free.  All allocation happens on the main thread (the background
 * fsync thread never allocates; forked children have their own counters).
 * Without jemalloc (sanitizer builds) a plain counter of usable sizes is
 * kept instead.
 */
#include "mem.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef SLUICE_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#define usable_size(p) malloc_usable_size(p)
#else
#include <malloc.h>
#define usable_size(p) malloc_usable_size(p)
#endif

#ifdef SLUICE_USE_JEMALLOC
static uint64_t *thread_allocated, *thread_deallocated;
static uint64_t zero_counter;

static void counters_init(void)
{
    size_t sz = sizeof(uint64_t *);
    if (mallctl("thread.allocatedp", &thread_allocated, &sz, NULL, 0) != 0 ||
        mallctl("thread.deallocatedp", &thread_deallocated, &sz, NULL, 0) != 0)
        thread_allocated = thread_deallocated = &zero_counter;
}
#define ACCOUNT_ALLOC(p) ((void)0)
#define ACCOUNT_FREE(p) ((void)0)
#else
static size_t used_memory;
#define ACCOUNT_ALLOC(p) (used_memory += usable_size(p))
#define ACCOUNT_FREE(p) (used_memory -= usable_size(p))
#endif

static void oom(size_t size)
{
    fprintf(stderr, "sluice: out of memory allocating %zu bytes\n", size);
    fflush(stderr);
    abort();
}

void *mem_alloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p)
        oom(size);
    ACCOUNT_ALLOC(p);
    return p;
}

void *mem_calloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        oom(size);
    ACCOUNT_ALLOC(p);
    return p;
}

void *mem_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return mem_alloc(size);
    ACCOUNT_FREE(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    ACCOUNT_ALLOC(p);
    return p;
}

void mem_free(void *ptr)
{
    if (!ptr)
        return;
    ACCOUNT_FREE(ptr);
    free(ptr);
}

char *mem_memdup(const void *src, size_t len)
{
    char *p = mem_alloc(len + 1);
    memcpy(p, src, len);
    p[len] = '\0';
    return p;
}

char *mem_strdup(const char *s)
{
    return mem_memdup(s, strlen(s));
}

size_t mem_usable(const void *ptr)
{
    return ptr ? usable_size((void *)ptr) : 0;
}

size_t mem_used(void)
{
#ifdef SLUICE_USE_JEMALLOC
    if (!thread_allocated)
        counters_init();
    return (size_t)(*thread_allocated - *thread_deallocated);
#else
    return used_memory;
#endif
}

const char *mem_allocator_name(void)
{
#ifdef SLUICE_USE_JEMALLOC
    static char name[64];
    if (!name[0]) {
        const char *v = NULL;
        size_t sz = sizeof(v);
        if (mallctl("version", &v, &sz, NULL, 0) == 0 && v) {
            /* "5.3.0-0-g54eaed1d..." -> "jemalloc-5.3.0" as Redis shows it */
            size_t n = strcspn(v, "-");
            snprintf(name, sizeof(name), "jemalloc-%.*s", (int)n, v);
        } else {
            snprintf(name, sizeof(name), "jemalloc");
        }
    }
    return name;
#else
    return "libc";
#endif
}

size_t mem_rss(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
        rss = 0;
    fclose(f);
    return (size_t)rss * (size_t)sysconf(_SC_PAGESIZE);
}
