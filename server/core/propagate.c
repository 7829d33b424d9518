/* propagate.c - batching of recorded writes; see propagate.h.
 *
 * Calls nest (EXEC runs its queued commands through call_command, a woken
 * blocked client runs inside another client's call), so records gather in
 * one pending batch until the outermost call ends.  The current command's
 * own record is decided when it finishes: its rewritten form if it set
 * one, nothing if it prevented it or did not write, else its argv.
 */
#include "propagate.h"

#include <string.h>

#include "commit_gate.h"
#include "db.h"
#include "mem.h"
#include "server.h"

struct op {
    int dbid;
    int argc;
    sstr *argv;
};

struct feed {
    propagate_feed_fn *fn;
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

void propagate_register(propagate_feed_fn *fn, void *priv)
{
    if (nfeeds < (int)(sizeof(feeds) / sizeof(feeds[0])))
        feeds[nfeeds++] = (struct feed){fn, priv};
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

int propagate_has_consumers(void) { return nfeeds > 0; }

static void free_op(struct op *op)
{
    for (int i = 0; i < op->argc; i++)
        sstr_free(op->argv[i]);
    mem_free(op->argv);
    op->argv = NULL;
    op->argc = 0;
}

static struct op make_op(int dbid, int argc, const struct arg *argv)
{
    struct op op = {dbid, argc, mem_alloc(sizeof(sstr) * (size_t)(argc ? argc : 1))};
    for (int i = 0; i < argc; i++)
        op.argv[i] = sstr_new(argv[i].ptr, argv[i].len);
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

static void emit(const struct op *op)
{
    for (int f = 0; f < nfeeds; f++)
        feeds[f].fn(feeds[f].priv, op->dbid, op->argc, op->argv);
}

static void flush(void)
{
    if (npending == 0)
        return;
    if (nfeeds) {
        int wrap = npending > 1;
        commit_gate_next_batch(); /* the batch's replies wait for this position */
        static const struct arg multi = {"MULTI", 5}, exec = {"EXEC", 4};
        if (wrap) {
            struct op m = make_op(pending[0].dbid, 1, &multi);
            emit(&m);
            free_op(&m);
        }
        for (int i = 0; i < npending; i++)
            emit(&pending[i]);
        if (wrap) {
            struct op e = make_op(pending[npending - 1].dbid, 1, &exec);
            emit(&e);
            free_op(&e);
        }
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
            if (!frames[depth].prevented && nfeeds)
                insert_op(npending, frames[depth].rewrite);
            else
                free_op(&frames[depth].rewrite);
        } else if ((wrote || frames[depth].forced) && !frames[depth].prevented && nfeeds) {
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
    frames[d].rewrite = make_op(c->db->id, argc, argv);
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
    if (!nfeeds)
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
