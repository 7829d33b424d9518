/* rio.c - buffered file/memory I/O with a running CRC-64; see rio.h.
 *
 * The fd kind does its own buffering rather than going through stdio:
 * writes are batched into 64 KiB write(2) calls (a snapshot is millions of
 * tiny writes: a type byte, a length, a few bytes of string), and reads
 * are served from a 64 KiB buffer.  Large writes bypass the buffer.
 */
#include "rio.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc64.h"
#include "mem.h"

static void rio_zero(rio *r, enum rio_kind kind)
{
    memset(r, 0, sizeof(*r));
    r->kind = kind;
}

void rio_init_fd(rio *r, int fd)
{
    rio_zero(r, RIO_FD);
    r->io.fd.fd = fd;
    r->io.fd.writing = -1;
    r->io.fd.start = lseek(fd, 0, SEEK_CUR);
    r->io.fd.size = -1;
    struct stat st;
    if (r->io.fd.start >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
        r->io.fd.size = st.st_size - r->io.fd.start;
    if (r->io.fd.start < 0)
        r->io.fd.start = 0; /* a pipe or socket */
}

void rio_init_stdio(rio *r, FILE *fp)
{
    rio_zero(r, RIO_STDIO);
    r->io.stdio.fp = fp;
    r->io.stdio.size = -1;
    struct stat st;
    long pos = ftell(fp);
    if (pos >= 0 && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
        r->io.stdio.size = st.st_size - pos;
}

void rio_init_mem(rio *r, const void *p, size_t len)
{
    rio_zero(r, RIO_MEM);
    r->io.mem.p = p;
    r->io.mem.len = len;
}

void rio_init_buffer(rio *r)
{
    rio_zero(r, RIO_BUFFER);
    r->io.buffer.s = sstr_empty(256);
}

void rio_init_null(rio *r) { rio_zero(r, RIO_NULL); }

void rio_release(rio *r)
{
    switch (r->kind) {
    case RIO_FD:
        if (r->io.fd.writing == 0 && r->io.fd.buflen > r->io.fd.bufpos) {
            /* give back what we read ahead */
            lseek(r->io.fd.fd, r->io.fd.start + (off_t)r->processed_bytes, SEEK_SET);
        }
        mem_free(r->io.fd.buf);
        r->io.fd.buf = NULL;
        r->io.fd.buflen = r->io.fd.bufpos = 0;
        break;
    case RIO_BUFFER:
        if (r->io.buffer.s)
            sstr_free(r->io.buffer.s);
        r->io.buffer.s = NULL;
        break;
    default:
        break;
    }
}

sstr rio_buffer_take(rio *r)
{
    sstr s = r->io.buffer.s;
    r->io.buffer.s = sstr_empty(256);
    return s;
}

void rio_set_progress(rio *r, uint64_t interval, rio_progress_fn *fn, void *priv)
{
    r->progress = interval ? fn : NULL;
    r->progress_priv = priv;
    r->progress_interval = interval;
    r->next_progress = r->processed_bytes + interval;
}

void rio_set_autosync(rio *r, size_t bytes)
{
    if (r->kind == RIO_FD)
        r->io.fd.autosync = bytes;
}

long long rio_remaining(const rio *r)
{
    switch (r->kind) {
    case RIO_MEM:
        return (long long)(r->io.mem.len - r->io.mem.pos);
    case RIO_FD:
        return r->io.fd.size < 0 ? -1 : (long long)r->io.fd.size - (long long)r->processed_bytes;
    case RIO_STDIO:
        return r->io.stdio.size < 0 ? -1 : (long long)r->io.stdio.size - (long long)r->processed_bytes;
    default:
        return -1;
    }
}

const char *rio_error_string(const rio *r)
{
    if (r->flags & (RIO_ERR_READ | RIO_ERR_WRITE))
        return r->saved_errno ? strerror(r->saved_errno) : "I/O error";
    if (r->flags & RIO_EOF)
        return "Unexpected end of file";
    return "no error";
}

/* Account for bytes that went through: checksum, counters, progress. */
static void processed(rio *r, const void *p, size_t len)
{
    if (r->cksum_on)
        r->cksum = crc64(r->cksum, p, len);
    r->processed_bytes += len;
    if (r->progress && r->processed_bytes >= r->next_progress) {
        r->next_progress = r->processed_bytes + r->progress_interval;
        r->progress(r, r->progress_priv);
    }
}

/* ---- fd ------------------------------------------------------------------ */

static int write_all(rio *r, int fd, const void *p, size_t len)
{
    const char *s = p;
    while (len) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->flags |= RIO_ERR_WRITE;
            r->saved_errno = errno;
            return 0;
        }
        s += n;
        len -= (size_t)n;
    }
    return 1;
}

static int fd_flush(rio *r)
{
    if (r->io.fd.writing != 1 || r->io.fd.buflen == 0)
        return !(r->flags & RIO_ERR_WRITE);
    int ok = write_all(r, r->io.fd.fd, r->io.fd.buf, r->io.fd.buflen);
    r->io.fd.buflen = 0;
    return ok;
}

static int fd_sync(rio *r)
{
    if (fdatasync(r->io.fd.fd) != 0 && errno != EINVAL && errno != EROFS) {
        r->flags |= RIO_ERR_WRITE;
        r->saved_errno = errno;
        return 0;
    }
    return 1;
}

static int fd_write(rio *r, const void *p, size_t len)
{
    if (r->io.fd.writing == 0)
        return 0; /* this rio was used for reading */
    r->io.fd.writing = 1;
    if (!r->io.fd.buf)
        r->io.fd.buf = mem_alloc(RIO_FD_BUFSIZE);
    if (r->io.fd.buflen + len > RIO_FD_BUFSIZE) {
        if (!fd_flush(r))
            return 0;
        if (len >= RIO_FD_BUFSIZE)
            return write_all(r, r->io.fd.fd, p, len);
    }
    memcpy(r->io.fd.buf + r->io.fd.buflen, p, len);
    r->io.fd.buflen += len;
    return 1;
}

static int fd_read(rio *r, void *p, size_t len)
{
    unsigned char *out = p;
    if (r->io.fd.writing == 1)
        return 0;
    r->io.fd.writing = 0;
    if (!r->io.fd.buf)
        r->io.fd.buf = mem_alloc(RIO_FD_BUFSIZE);
    while (len) {
        size_t avail = r->io.fd.buflen - r->io.fd.bufpos;
        if (avail) {
            size_t n = avail < len ? avail : len;
            memcpy(out, r->io.fd.buf + r->io.fd.bufpos, n);
            r->io.fd.bufpos += n;
            out += n;
            len -= n;
            continue;
        }
        /* big reads go straight to the destination */
        unsigned char *dst = len >= RIO_FD_BUFSIZE ? out : r->io.fd.buf;
        size_t want = len >= RIO_FD_BUFSIZE ? len : RIO_FD_BUFSIZE;
        ssize_t n = read(r->io.fd.fd, dst, want);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            r->flags |= RIO_ERR_READ;
            r->saved_errno = errno;
            return 0;
        }
        if (n == 0) {
            r->flags |= RIO_EOF;
            return 0;
        }
        if (dst == out) {
            out += n;
            len -= (size_t)n;
        } else {
            r->io.fd.buflen = (size_t)n;
            r->io.fd.bufpos = 0;
        }
    }
    return 1;
}

/* ---- the generic entry points ------------------------------------------- */

int rio_write(rio *r, const void *p, size_t len)
{
    if (r->flags & RIO_ERR_WRITE)
        return 0;
    if (len == 0)
        return 1;
    int ok;
    switch (r->kind) {
    case RIO_FD:
        ok = fd_write(r, p, len);
        break;
    case RIO_STDIO:
        ok = fwrite(p, len, 1, r->io.stdio.fp) == 1;
        if (!ok) {
            r->flags |= RIO_ERR_WRITE;
            r->saved_errno = errno;
        }
        break;
    case RIO_BUFFER:
        r->io.buffer.s = sstr_cat(r->io.buffer.s, p, len);
        ok = 1;
        break;
    case RIO_NULL:
        ok = 1;
        break;
    default:
        ok = 0;
        r->flags |= RIO_ERR_WRITE;
        break;
    }
    if (!ok)
        return 0;
    processed(r, p, len);
    if (r->kind == RIO_FD && r->io.fd.autosync && r->processed_bytes - r->io.fd.synced >= r->io.fd.autosync) {
        r->io.fd.synced = r->processed_bytes;
        if (!fd_flush(r) || !fd_sync(r))
            return 0;
    }
    return 1;
}

int rio_read(rio *r, void *p, size_t len)
{
    if (r->flags & (RIO_ERR_READ | RIO_EOF))
        return 0;
    if (len == 0)
        return 1;
    int ok;
    switch (r->kind) {
    case RIO_FD:
        ok = fd_read(r, p, len);
        break;
    case RIO_STDIO:
        ok = fread(p, len, 1, r->io.stdio.fp) == 1;
        if (!ok) {
            if (ferror(r->io.stdio.fp)) {
                r->flags |= RIO_ERR_READ;
                r->saved_errno = errno;
            } else {
                r->flags |= RIO_EOF;
            }
        }
        break;
    case RIO_MEM:
        ok = len <= r->io.mem.len - r->io.mem.pos;
        if (ok) {
            memcpy(p, r->io.mem.p + r->io.mem.pos, len);
            r->io.mem.pos += len;
        } else {
            r->io.mem.pos = r->io.mem.len;
            r->flags |= RIO_EOF;
        }
        break;
    default:
        ok = 0;
        r->flags |= RIO_EOF;
        break;
    }
    if (!ok)
        return 0;
    processed(r, p, len);
    return 1;
}

int rio_flush(rio *r)
{
    switch (r->kind) {
    case RIO_FD:
        return fd_flush(r);
    case RIO_STDIO:
        if (fflush(r->io.stdio.fp) != 0) {
            r->flags |= RIO_ERR_WRITE;
            r->saved_errno = errno;
            return 0;
        }
        return 1;
    default:
        return !(r->flags & RIO_ERR_WRITE);
    }
}

int rio_fsync(rio *r)
{
    if (!rio_flush(r))
        return 0;
    switch (r->kind) {
    case RIO_FD:
        return fd_sync(r);
    case RIO_STDIO:
        if (fsync(fileno(r->io.stdio.fp)) != 0) {
            r->flags |= RIO_ERR_WRITE;
            r->saved_errno = errno;
            return 0;
        }
        return 1;
    default:
        return 1;
    }
}
