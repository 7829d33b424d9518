/* repl_state.c - replication ids, offsets and the backlog.
 *
 * The backlog is a ring of the stream's last repl-backlog-size bytes:
 * `buf` holds `histlen` bytes ending just before `idx` (mod size), and the
 * first of them is at stream offset `first_offset`.  A replica that has
 * the stream up to offset O continues from the backlog when
 * first_offset <= O + 1 <= master_repl_offset + 1 (Redis's rule, with its
 * 1-based offsets: the byte at offset N is the N-th byte of the history).
 */
#include <assert.h>
#include <string.h>

#include "introspection.h"
#include "mem.h"
#include "repl_int.h"
#include "server.h"

struct repl_state repl = {"0000000000000000000000000000000000000000", 0, -1};

static struct {
    char *buf;
    long long size;
    long long idx;          /* where the next byte goes */
    long long histlen;
    long long first_offset; /* stream offset of the oldest byte held */
} backlog;

const char *repl_replid(void) { return info_master_replid(); }

void repl_set_replid(const char *id) { info_set_replid(id); }

void repl_change_replid(void) { info_change_replid(); }

void repl_clear_replid2(void)
{
    memset(repl.replid2, '0', REPL_ID_LEN);
    repl.replid2[REPL_ID_LEN] = '\0';
    repl.second_repl_offset = -1;
}

void repl_shift_replid(void)
{
    memcpy(repl.replid2, repl_replid(), REPL_ID_LEN);
    repl.replid2[REPL_ID_LEN] = '\0';
    /* the new history starts with the next byte */
    repl.second_repl_offset = repl.master_repl_offset + 1;
    repl_change_replid();
}

int repl_backlog_exists(void) { return backlog.buf != NULL; }

void repl_backlog_create(void)
{
    if (backlog.buf)
        return;
    backlog.size = srv.repl_backlog_size;
    backlog.buf = mem_alloc((size_t)backlog.size);
    backlog.idx = 0;
    backlog.histlen = 0;
    /* the next byte of the stream is the first the backlog will hold */
    backlog.first_offset = repl.master_repl_offset + 1;
}

void repl_backlog_free(void)
{
    mem_free(backlog.buf);
    memset(&backlog, 0, sizeof(backlog));
}

void repl_backlog_feed(const char *p, size_t n)
{
    if (!backlog.buf)
        return;
    repl.master_repl_offset += (long long)n;
    /* only the last `size` bytes can be kept */
    if ((long long)n > backlog.size) {
        p += n - (size_t)backlog.size;
        n = (size_t)backlog.size;
    }
    while (n) {
        size_t room = (size_t)(backlog.size - backlog.idx);
        size_t k = n < room ? n : room;
        memcpy(backlog.buf + backlog.idx, p, k);
        backlog.idx = (backlog.idx + (long long)k) % backlog.size;
        backlog.histlen += (long long)k;
        p += k;
        n -= k;
    }
    if (backlog.histlen > backlog.size)
        backlog.histlen = backlog.size;
    backlog.first_offset = repl.master_repl_offset - backlog.histlen + 1;
}

int repl_backlog_covers(long long offset)
{
    /* offset is the last byte the replica has: it needs offset+1 onwards */
    return backlog.buf && offset + 1 >= backlog.first_offset && offset <= repl.master_repl_offset;
}

long long repl_backlog_copy(long long offset, sstr *out)
{
    if (!repl_backlog_covers(offset))
        return -1;
    long long want = repl.master_repl_offset - offset; /* bytes after offset */
    assert(want <= backlog.histlen);
    long long start = (backlog.idx - want + backlog.size) % backlog.size;
    long long left = want;
    while (left) {
        long long k = backlog.size - start < left ? backlog.size - start : left;
        *out = sstr_cat(*out, backlog.buf + start, (size_t)k);
        start = (start + k) % backlog.size;
        left -= k;
    }
    return want;
}

long long repl_backlog_first_byte_offset(void) { return backlog.buf ? backlog.first_offset : 0; }

long long repl_backlog_histlen(void) { return backlog.histlen; }
