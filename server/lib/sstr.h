/* sstr.h - binary-safe dynamic strings.
 *
 * An sstr is a `char *` pointing at the bytes, always NUL-terminated, with
 * a small header (length and capacity) stored just before them.  Passing it
 * where a C string is expected works; the length is O(1) and embedded NULs
 * are allowed.  Used for keys, string values, buffers and reply building.
 */
#ifndef SLUICE_SSTR_H
#define SLUICE_SSTR_H

#include <stdarg.h>
#include <stddef.h>

typedef char *sstr;

struct sstr_hdr {
    size_t len;
    size_t cap; /* bytes available for content, excluding the NUL */
};

#define SSTR_HDR(s) ((struct sstr_hdr *)((s) - sizeof(struct sstr_hdr)))

static inline size_t sstr_len(const sstr s) { return SSTR_HDR(s)->len; }
static inline size_t sstr_avail(const sstr s) { return SSTR_HDR(s)->cap - SSTR_HDR(s)->len; }
static inline size_t sstr_cap(const sstr s) { return SSTR_HDR(s)->cap; }

sstr sstr_new(const void *p, size_t len);
sstr sstr_from(const char *cstr);
sstr sstr_empty(size_t reserve);
sstr sstr_dup(const sstr s);
void sstr_free(sstr s);
/* Make room for `extra` more bytes; may move the string. */
sstr sstr_reserve(sstr s, size_t extra);
/* Room for extra more bytes and no more (what the allocator rounds to):
 * for buffers whose size is known, where doubling would waste memory. */
sstr sstr_reserve_exact(sstr s, size_t extra);
sstr sstr_cat(sstr s, const void *p, size_t len);
sstr sstr_cats(sstr s, const char *cstr);
sstr sstr_catfmt(sstr s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
sstr sstr_catvfmt(sstr s, const char *fmt, va_list ap);
/* Append with redis-cli style quoting ("\n", "\x01", ...). */
sstr sstr_catrepr(sstr s, const char *p, size_t len);
/* Set the length after writing into the reserved space directly. */
void sstr_setlen(sstr s, size_t len);
void sstr_clear(sstr s);
/* Drop the first n bytes. */
void sstr_consume(sstr s, size_t n);
/* Grow to `len` bytes, padding with zero bytes. */
sstr sstr_grow_zero(sstr s, size_t len);
/* Release unused capacity. */
sstr sstr_shrink(sstr s);
/* Bytes this string occupies on the heap. */
size_t sstr_alloc_size(const sstr s);
void sstr_tolower(sstr s);

#endif
