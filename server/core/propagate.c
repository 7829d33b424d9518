/* propagate.c - batching of recorded writes; see propagate.h.
 *
 * Calls nest (EXEC runs its queued commands through call_command, a woken
 * blocked client runs inside another client's call), so records gather in
 * one pending batch until the outermost call ends.  The current command's
 * own record is decided when it finishes: its rewritten form if it set
 * one, nothing if it prevented it or did not write, else its argv.
 */
#include "propagate.h"

#include <assert.h>
#include <string.h>

#include "commit_gate.h"
#include "db.h"
#include "mem.h"
#include "server.h"

/* A recorded command: its argument array and their bytes in one block. */
struct op {
    int dbid;
    int argc;
    struct arg *argv;
};

struct feed {
    propagate_feed_fn *fn;
    propagate_wants_fn *wants;
    void *priv;
};

static struct feed feeds[8];
static int nfeeds;

static struct op *pending;
static int npending, cappending;
static int depth;

/* Per-call state of the command currently running at each depth. */
#define MAX_DEPTH 64
static struct {
    int prevented;
    int forced;
    int rewritten;
    struct op rewrite;
} frames[MAX_DEPTH];

void propagate_register(propagate_feed_fn *fn, propagate_wants_fn *wants, void *priv)
{
    assert(nfeeds < (int)(sizeof(feeds) / sizeof(feeds[0])));
    feeds[nfeeds++] = (struct feed){fn, wants, priv};
}

void propagate_unregister(propagate_feed_fn *fn, void *priv)
{
    for (int i = 0; i < nfeeds; i++) {
        if (feeds[i].fn == fn && feeds[i].priv == priv) {
            feeds[i] = feeds[--nfeeds];
            return;
        }
    }
}

/* Whether any consumer records now; asked per record, so it stays cheap. */
static int feeding(void)
{
    for (int f = 0; f < nfeeds; f++)
        if (!feeds[f].wants || feeds[f].wants(feeds[f].priv))
            return 1;
    return 0;
}

int propagate_has_consumers(void) { return feeding(); }

static void free_op(struct op *op)
{
    mem_free(op->argv);
    op->argv = NULL;
    op->argc = 0;
}

static struct op make_op(int dbid, int argc, const struct arg *argv)
{
    size_t bytes = 0;
    for (int i = 0; i < argc; i++)
        bytes += argv[i].len;
    struct op op = {dbid, argc, mem_alloc(sizeof(struct arg) * (size_t)argc + bytes + 1)};
    char *p = (char *)(op.argv + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        op.argv[i] = (struct arg){p, argv[i].len};
        p += argv[i].len;
    }
    return op;
}

static void insert_op(int at, struct op op)
{
    if (npending == cappending) {
        cappending = cappending ? cappending * 2 : 16;
        pending = mem_realloc(pending, sizeof(*pending) * (size_t)cappending);
    }
    memmove(pending + at + 1, pending + at, sizeof(*pending) * (size_t)(npending - at));
    pending[at] = op;
    npending++;
}

int propagate_pending_count(void) { return npending; }

static void emit(int dbid, int argc, const struct arg *argv)
{
    for (int f = 0; f < nfeeds; f++)
        if (!feeds[f].wants || feeds[f].wants(feeds[f].priv))
            feeds[f].fn(feeds[f].priv, dbid, argc, argv);
}

static void flush(void)
{
    if (npending == 0)
        return;
    if (feeding()) {
        int wrap = npending > 1;
        commit_gate_next_batch(); /* the batch's replies wait for this position */
        static const struct arg multi = {"MULTI", 5}, exec = {"EXEC", 4};
        if (wrap)
            emit(pending[0].dbid, 1, &multi);
        for (int i = 0; i < npending; i++)
            emit(pending[i].dbid, pending[i].argc, pending[i].argv);
        if (wrap)
            emit(pending[npending - 1].dbid, 1, &exec);
    }
    for (int i = 0; i < npending; i++)
        free_op(&pending[i]);
    npending = 0;
}

void propagate_call_begin(void)
{
    if (depth < MAX_DEPTH) {
        frames[depth].prevented = 0;
        frames[depth].forced = 0;
        frames[depth].rewritten = 0;
    }
    depth++;
}

/* The command's record is appended after whatever it recorded while
 * running (lazy-expiry DELs, extra commands), which is the order they took
 * effect in.  Clients it woke run after the outermost call returns, so
 * their records follow in the next batch. */
void propagate_call_end(struct client *c, int wrote)
{
    depth--;
    if (depth < MAX_DEPTH) {
        if (frames[depth].rewritten) {
            if (!frames[depth].prevented && frames[depth].rewrite.argv && feeding())
                insert_op(npending, frames[depth].rewrite);
            else
                free_op(&frames[depth].rewrite);
        } else if ((wrote || frames[depth].forced) && !frames[depth].prevented && feeding()) {
            if (depth == 0 && npending == 0) {
                /* the common case, one command alone: its own arguments go
                 * to the feeds as they are, without a copy */
                commit_gate_next_batch();
                emit(c->db->id, c->argc, c->argv);
                return;
            }
            insert_op(npending, make_op(c->db->id, c->argc, c->argv));
        }
    }
    if (depth == 0)
        flush();
}

void propagate_force(struct client *c)
{
    (void)c;
    if (depth > 0 && depth <= MAX_DEPTH)
        frames[depth - 1].forced = 1;
}

void propagate_rewrite(struct client *c, int argc, const struct arg *argv)
{
    if (depth == 0 || depth > MAX_DEPTH)
        return;
    int d = depth - 1;
    if (frames[d].rewritten)
        free_op(&frames[d].rewrite);
    /* without a consumer the form is not kept: it would be dropped */
    frames[d].rewrite = feeding() ? make_op(c->db->id, argc, argv) : (struct op){0};
    frames[d].rewritten = 1;
}

void propagate_rewrite_cstr(struct client *c, int argc, const char *const *argv, const size_t *lens)
{
    struct arg *a = mem_alloc(sizeof(*a) * (size_t)(argc ? argc : 1));
    for (int i = 0; i < argc; i++) {
        a[i].ptr = argv[i];
        a[i].len = lens ? lens[i] : strlen(argv[i]);
    }
    propagate_rewrite(c, argc, a);
    mem_free(a);
}

void propagate_prevent(struct client *c)
{
    (void)c;
    if (depth > 0 && depth <= MAX_DEPTH)
        frames[depth - 1].prevented = 1;
}

void propagate_also(struct db *db, int argc, const struct arg *argv)
{
    if (!feeding())
        return;
    insert_op(npending, make_op(db->id, argc, argv));
    if (depth == 0)
        flush();
}

void propagate_expired_delete(struct db *db, const char *key, size_t len)
{
    struct arg argv[2] = {{"DEL", 3}, {key, len}};
    propagate_also(db, 2, argv);
}
