/* listpack.h - Redis 7.0's listpack format: writer, validating reader,
 * and a decoder for the older ziplist format.
 *
 * RDB files store lists (quicklist nodes) and streams as listpack blobs, so
 * Sluice must produce listpacks Redis accepts byte for byte and read any
 * Redis produced.  A listpack is:
 *
 *   <total-bytes u32 LE> <num-elements u16 LE> <entry>... <0xFF>
 *
 * num-elements saturates at 65535 ("unknown": count by walking).  Each
 * entry is <encoding+data> <backlen>, where backlen is the size of
 * encoding+data written in 1..5 bytes of 7 bits, read right to left (the
 * high bit of a byte says another byte follows to its left).  Encodings:
 *
 *   0xxxxxxx                      7-bit unsigned int 0..127
 *   10xxxxxx <data>               string of up to 63 bytes
 *   110xxxxx yyyyyyyy             13-bit signed int
 *   1110xxxx yyyyyyyy <data>      string of up to 4095 bytes (len big-endian split)
 *   11110000 <len u32 LE> <data>  string of up to 2^32-1 bytes
 *   11110001 <i16 LE>             16-bit int
 *   11110010 <i24 LE>             24-bit int
 *   11110011 <i32 LE>             32-bit int
 *   11110100 <i64 LE>             64-bit int
 *   11111111                      end of listpack (0xF5..0xFE are unused)
 *
 * As Redis's lpAppend, a string that is a canonical decimal integer is
 * stored with an integer encoding (the smallest that fits).
 *
 * The reader never trusts its input: every entry is bounds-checked and its
 * backlen compared with its size, as Redis's deep lpValidateIntegrity.
 *
 * A ziplist (Redis <= 6.2, RDB types 10 and 14 nodes) is
 *
 *   <zlbytes u32 LE> <zltail u32 LE> <zllen u16 LE> <entry>... <0xFF>
 *
 * with entries <prevlen: 1 byte < 254, or 0xFE + u32 LE> <encoding> <data>:
 * 00pppppp / 01pppppp qqqqqqqq / 10______ <u32 BE> strings; 0xC0 i16,
 * 0xD0 i32, 0xE0 i64, 0xF0 i24, 0xFE i8, 0xF1..0xFD immediate 0..12.  Only
 * decoding is needed (Sluice never writes ziplists); it validates like
 * Redis's deep ziplistValidateIntegrity.
 *
 * No server state here: this is a data-structure module (mem.h only).
 */
#ifndef SLUICE_LISTPACK_H
#define SLUICE_LISTPACK_H

#include <stddef.h>
#include <stdint.h>

#define LP_HDR_SIZE 6
#define LP_HDR_NUMELE_UNKNOWN 65535
#define LP_EOF 0xFF
/* Redis refuses to grow a listpack past 1 GiB (LISTPACK_MAX_SAFETY_SIZE). */
#define LP_MAX_SAFE_SIZE (1u << 30)

/* An entry as read: a string (str != NULL) or an integer. */
typedef struct lp_entry {
    const unsigned char *str;
    size_t len;
    long long ival;
} lp_entry;

/* ---- writing --------------------------------------------------------------- */

typedef struct lp_writer {
    unsigned char *buf; /* header reserved at the front */
    size_t len, cap;
    size_t count;
} lp_writer;

void lpw_init(lp_writer *w, size_t reserve);
void lpw_free(lp_writer *w);
/* Start over, keeping the buffer. */
void lpw_reset(lp_writer *w);
/* Append a string (integer-encoded when canonical, as lpAppend). */
void lpw_append(lp_writer *w, const void *s, size_t len);
void lpw_append_int(lp_writer *w, long long v);
/* Bytes the listpack would have with the terminator: header + entries + 1. */
static inline size_t lpw_bytes(const lp_writer *w) { return w->len + 1; }
/* Write the header and terminator; returns the blob (valid until the
 * writer is changed) and its size. */
const unsigned char *lpw_finish(lp_writer *w, size_t *size);

/* Size an entry would take (encoding + data + backlen). */
size_t lp_entry_size(const void *s, size_t len);
size_t lp_entry_size_int(long long v);

/* ---- reading --------------------------------------------------------------- */

typedef struct lp_iter {
    const unsigned char *lp, *p, *end; /* end: the terminator */
    size_t seen;
} lp_iter;

/* Check the header (size, terminator) and position before the first entry.
 * Returns 0 when the blob can't be a listpack of `size` bytes. */
int lp_iter_init(lp_iter *it, const unsigned char *lp, size_t size);
/* 1: an entry in *e; 0: the end; -1: corrupt entry. */
int lp_iter_next(lp_iter *it, lp_entry *e);
/* Steps over bytes holding entries that the caller has read and checked
 * itself (qlog_push_tail_listpack() does, for the common shapes). */
static inline void lp_iter_advance(lp_iter *it, size_t bytes, size_t entries)
{
    it->p += bytes;
    it->seen += entries;
}
/* Full validation (every entry, backlens, element count); *count gets the
 * number of entries.  1 when valid. */
/* After iterating a listpack: whether its header's element count (when
 * known) agrees with the entries seen. */
int lp_count_matches(const unsigned char *lp, size_t seen);
int lp_validate(const unsigned char *lp, size_t size, size_t *count);

/* Parse a listpack string the way Redis's lpStringToInt64 decides whether
 * a string is an integer (canonical decimal, fits in int64). */
int lp_string_to_int64(const void *s, size_t len, long long *v);

/* ---- ziplists (reading only) ------------------------------------------------ */

/* Validate a whole ziplist and call fn for each entry in order; fn returns
 * 0 to stop with an error.  Returns 1 when the ziplist is valid and fn
 * accepted every entry. */
typedef int zl_entry_fn(void *priv, const lp_entry *e);
int zl_validate_foreach(const unsigned char *zl, size_t size, zl_entry_fn *fn, void *priv);

#endif
