/* mem.h - the one allocation wrapper of Sluice.
 *
 * Every heap allocation in the server goes through these functions so that
 * INFO memory can report used_memory the way Redis does: the sum of the
 * usable sizes of all live allocations (what the allocator really handed
 * out, not what was asked for).  The allocator is jemalloc, except in
 * sanitizer builds, where ASan must own malloc and libc's is used.
 *
 * Allocation failure is fatal (as in Redis): callers never see NULL.
 */
#ifndef SLUICE_MEM_H
#define SLUICE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t size);
void *mem_realloc(void *ptr, size_t size);
void mem_free(void *ptr);
char *mem_strdup(const char *s);
char *mem_memdup(const void *p, size_t len);

/* Usable size of a live allocation (>= the size asked for). */
size_t mem_usable(const void *ptr);

/* Bytes currently allocated through this wrapper. */
size_t mem_used(void);

/* Allocator name and version as INFO's mem_allocator shows it. */
const char *mem_allocator_name(void);

/* Resident set size of the process, from /proc (0 when unknown). */
size_t mem_rss(void);

/* Bulk loads: between begin and end, the calling (main) thread's fresh
 * memory is faulted in by a helper thread running ahead of it
 * (mem_prefault.c).  Nesting is not supported; a second begin is ignored.
 * mem_prefault_populated() counts the bytes the helper has populated
 * since the process started. */
void mem_prefault_begin(void);
void mem_prefault_end(void);
size_t mem_prefault_populated(void);

#endif
