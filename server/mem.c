/* mem.c - allocation wrapper; see mem.h.
 *
 * used_memory is kept in one counter updated with the usable size of every
 * block.  The server is single-threaded for everything that allocates
 * through here, except the background fsync thread, which never allocates,
 * so a plain (non-atomic) counter is enough and keeps the hot path cheap.
 */
#include "mem.h"

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

static size_t used_memory;

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
    used_memory += usable_size(p);
    return p;
}

void *mem_calloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        oom(size);
    used_memory += usable_size(p);
    return p;
}

void *mem_realloc(void *ptr, size_t size)
{
    if (!ptr)
        return mem_alloc(size);
    size_t old = usable_size(ptr);
    void *p = realloc(ptr, size ? size : 1);
    if (!p)
        oom(size);
    used_memory = used_memory - old + usable_size(p);
    return p;
}

void mem_free(void *ptr)
{
    if (!ptr)
        return;
    used_memory -= usable_size(ptr);
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
    return used_memory;
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
