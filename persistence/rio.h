/* rio.h - the byte stream the RDB code reads and writes through.
 *
 * One interface over the places a snapshot goes to or comes from, so the
 * RDB encoder/decoder is written once (as Redis's rio.c):
 *  - a file descriptor, with our own buffer for writes (flushed by
 *    rio_flush, made durable by rio_fsync, optionally fsync'ed every N
 *    bytes while writing so the final fsync has little left to do) and for
 *    reads (so a snapshot is read in 64 KiB chunks, not byte by byte);
 *  - a stdio FILE, for callers that go on reading the same FILE after the
 *    RDB part (the AOF loader with an RDB preamble);
 *  - a read-only memory area (RESTORE payloads, fuzzing);
 *  - a growing in-memory buffer (DUMP, tests);
 *  - a null sink that only counts bytes (serialized sizes).
 *
 * Every rio keeps a running CRC-64 (crc64.h) of the bytes that went through
 * it when checksumming is on, and counts them (processed_bytes), which is
 * the loading progress INFO shows.  A progress callback, when set, is
 * called each time another `progress_interval` bytes went through: the
 * loader uses it to serve clients while a big file loads.
 *
 * Reads and writes are all-or-nothing: rio_read() returns 0 on a short
 * read (end of data) or an I/O error, and the flags say which.  Nothing
 * here allocates on the heap except the buffers (through mem.h).
 */
#ifndef SLUICE_RIO_H
#define SLUICE_RIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "sstr.h"

enum rio_kind { RIO_FD, RIO_STDIO, RIO_MEM, RIO_BUFFER, RIO_NULL };

#define RIO_ERR_READ 1   /* read(2) failed */
#define RIO_ERR_WRITE 2  /* write(2)/fsync failed; errno in saved_errno */
#define RIO_EOF 4        /* a read wanted more bytes than were left */

#define RIO_FD_BUFSIZE (64 * 1024)

typedef struct rio rio;
typedef void rio_progress_fn(rio *r, void *priv);

struct rio {
    enum rio_kind kind;
    int flags;             /* RIO_ERR_*, RIO_EOF */
    int saved_errno;
    int cksum_on;
    uint64_t cksum;
    uint64_t processed_bytes;
    /* progress reporting */
    rio_progress_fn *progress;
    void *progress_priv;
    uint64_t progress_interval, next_progress;
    union {
        struct {
            int fd;
            int writing;       /* direction fixed by the first operation */
            unsigned char *buf;
            size_t buflen;     /* bytes in buf (writing: pending; reading: available) */
            size_t bufpos;     /* reading: next byte of buf */
            off_t start;       /* offset of the fd when the rio was made */
            off_t size;        /* regular file being read: its size, else -1 */
            size_t autosync;   /* fsync every this many bytes written (0: never) */
            uint64_t synced;   /* processed_bytes at the last autosync */
        } fd;
        struct {
            FILE *fp;
            off_t size;        /* regular file: size from the start position, else -1 */
        } stdio;
        struct {
            const unsigned char *p;
            size_t len, pos;
        } mem;
        struct {
            sstr s;
        } buffer;
    } io;
};

/* Constructors.  None takes ownership of the fd/FILE.  The fd and stdio
 * kinds remember where the descriptor was, so rio_tell() counts from
 * there and rio_remaining() can bound lengths read from a regular file. */
void rio_init_fd(rio *r, int fd);
void rio_init_stdio(rio *r, FILE *fp);
void rio_init_mem(rio *r, const void *p, size_t len);
void rio_init_buffer(rio *r);
void rio_init_null(rio *r);
/* Release the buffers.  For an fd that was read through, seeks the fd back
 * to just after the bytes consumed, so the caller can go on from there
 * (unbuffered reads past our buffer are undone). */
void rio_release(rio *r);

/* 1 on success, 0 on failure (see flags). */
int rio_write(rio *r, const void *p, size_t len);
int rio_read(rio *r, void *p, size_t len);
/* Push buffered writes to the kernel (fd, stdio).  1 ok, 0 error. */
int rio_flush(rio *r);
/* Flush, then fsync (fd, stdio).  1 ok, 0 error. */
int rio_fsync(rio *r);
/* fd writers: fsync after every `bytes` written, as Redis's
 * rdb-save-incremental-fsync, so the page cache never holds much. */
void rio_set_autosync(rio *r, size_t bytes);

/* Bytes read or written so far through this rio. */
static inline uint64_t rio_tell(const rio *r) { return r->processed_bytes; }
/* Bytes left to read when that is known (memory, regular files), else -1.
 * Lets the decoder reject a length that cannot possibly be there before
 * allocating for it. */
long long rio_remaining(const rio *r);

/* Checksumming: from now on every byte updates r->cksum. */
static inline void rio_checksum_start(rio *r)
{
    r->cksum_on = 1;
    r->cksum = 0;
}
static inline void rio_checksum_stop(rio *r) { r->cksum_on = 0; }

/* Call fn every `interval` bytes (0 disables). */
void rio_set_progress(rio *r, uint64_t interval, rio_progress_fn *fn, void *priv);

/* RIO_BUFFER: the bytes written so far (still owned by the rio), and
 * taking ownership of them (the rio is then empty). */
static inline const char *rio_buffer_data(const rio *r) { return r->io.buffer.s; }
static inline size_t rio_buffer_len(const rio *r) { return sstr_len(r->io.buffer.s); }
sstr rio_buffer_take(rio *r);

/* What went wrong, for messages: "Unexpected end of file", strerror... */
const char *rio_error_string(const rio *r);

#endif
