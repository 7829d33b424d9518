/* multi.c - MULTI/EXEC/DISCARD and WATCH, with Redis 7.0's semantics.
 *
 * Queued commands copy their arguments (the query buffer moves on).  A
 * queued error (unknown command, wrong arity...) flags the transaction so
 * EXEC answers -EXECABORT; errors at run time are just replies inside the
 * EXEC array.  Blocking commands inside EXEC act non-blocking.
 *
 * WATCH: db->watched_keys maps key -> struct watchers (the watching
 * clients); each client lists its struct watched_key nodes.  Any write
 * signalled on the key (db_signal_modified), including expiry deletion,
 * FLUSHDB/FLUSHALL and SWAPDB, marks the watching clients dirty.  A key
 * that was already logically expired when watched is tracked so that its
 * deletion is not mistaken for a change, while a key that expires between
 * WATCH and EXEC aborts the transaction, as in Redis 7.0.
 */
#include <assert.h>
#include <string.h>

#include "db.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"

struct watchers {
    struct list_head list; /* struct watched_key via key_node */
};

struct watched_key {
    struct list_node client_node;
    struct list_node key_node;
    struct client *c;
    struct db *db;
    int expired; /* logically expired when WATCH ran */
    size_t keylen;
    char key[];
};

/* ---- queueing -------------------------------------------------------- */

void multi_queue_command(struct client *c)
{
    struct multi_state *m = &c->mstate;
    /* no point queueing once the transaction is doomed */
    if (c->flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC))
        return;
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->cmds = mem_realloc(m->cmds, sizeof(*m->cmds) * (size_t)m->cap);
    }
    size_t bytes = sizeof(struct arg) * (size_t)c->argc;
    for (int i = 0; i < c->argc; i++)
        bytes += c->argv[i].len + 1;
    struct arg *argv = mem_alloc(bytes);
    char *p = (char *)(argv + c->argc);
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].ptr, c->argv[i].len);
        p[c->argv[i].len] = '\0';
        argv[i].ptr = p;
        argv[i].len = c->argv[i].len;
        p += c->argv[i].len + 1;
    }
    struct multi_cmd *mc = &m->cmds[m->count++];
    mc->cmd = c->cmd;
    mc->argc = c->argc;
    mc->argv = argv;
    m->cmd_flags |= c->cmd->flags;
    m->cmd_inv_flags |= ~c->cmd->flags;
}

void multi_discard(struct client *c)
{
    struct multi_state *m = &c->mstate;
    for (int i = 0; i < m->count; i++)
        mem_free(m->cmds[i].argv);
    mem_free(m->cmds);
    memset(m, 0, sizeof(*m));
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    watch_unwatch_all(c);
}

void multi_flag_transaction(struct client *c)
{
    if (c->flags & CLIENT_MULTI)
        c->flags |= CLIENT_DIRTY_EXEC;
}

/* ---- WATCH ----------------------------------------------------------- */

static void watch_key(struct client *c, const char *key, size_t len)
{
    for (struct list_node *n = list_first(&c->watched_keys); n; n = list_next(&c->watched_keys, n)) {
        struct watched_key *wk = list_entry(n, struct watched_key, client_node);
        if (wk->db == c->db && wk->keylen == len && memcmp(wk->key, key, len) == 0)
            return;
    }
    dict_entry *e = dict_find(c->db->watched_keys, key, len);
    if (!e) {
        e = dict_add(c->db->watched_keys, key, len, NULL);
        struct watchers *ws = mem_alloc(sizeof(*ws));
        list_init(&ws->list);
        e->v.ptr = ws;
    }
    struct watchers *ws = e->v.ptr;
    struct watched_key *wk = mem_alloc(sizeof(*wk) + len);
    wk->c = c;
    wk->db = c->db;
    wk->keylen = len;
    memcpy(wk->key, key, len);
    wk->expired = db_key_is_expired(c->db, key, len);
    list_add_tail(&ws->list, &wk->key_node);
    list_add_tail(&c->watched_keys, &wk->client_node);
}

static void unwatch(struct watched_key *wk)
{
    dict_entry *e = dict_find(wk->db->watched_keys, wk->key, wk->keylen);
    assert(e);
    struct watchers *ws = e->v.ptr;
    list_del(&ws->list, &wk->key_node);
    if (list_empty(&ws->list)) {
        mem_free(ws);
        dict_delete(wk->db->watched_keys, wk->key, wk->keylen);
    }
    list_del(&wk->c->watched_keys, &wk->client_node);
    mem_free(wk);
}

void watch_unwatch_all(struct client *c)
{
    struct list_node *n;
    while ((n = list_first(&c->watched_keys)) != NULL)
        unwatch(list_entry(n, struct watched_key, client_node));
}

void watch_touch_key(struct db *db, const char *key, size_t len)
{
    dict_entry *e = dict_find(db->watched_keys, key, len);
    if (!e)
        return;
    struct watchers *ws = e->v.ptr;
    /* collect first: unwatching frees nodes of this very list (and the list
     * itself with its last node) */
    struct client *stackbuf[16], **victims = stackbuf;
    size_t n = 0;
    if (ws->list.len > 16)
        victims = mem_alloc(sizeof(*victims) * ws->list.len);
    for (struct list_node *ln = list_first(&ws->list); ln; ln = list_next(&ws->list, ln)) {
        struct watched_key *wk = list_entry(ln, struct watched_key, key_node);
        if (wk->expired && !db_peek(db, key, len)) {
            /* an already-expired key got deleted: no logical change */
            wk->expired = 0;
            continue;
        }
        victims[n++] = wk->c;
    }
    for (size_t i = 0; i < n; i++) {
        victims[i]->flags |= CLIENT_DIRTY_CAS;
        /* dirty already: its other watches are useless (as Redis 7.0) */
        watch_unwatch_all(victims[i]);
    }
    if (victims != stackbuf)
        mem_free(victims);
}

void watch_touch_db(struct db *db, struct db *other)
{
    dict_iter it;
    dict_iter_init(&it, db->watched_keys);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        int in_db = db_peek(db, e->key, e->keylen) != NULL ||
                    (db_get_expire(db, e->key, e->keylen) >= 0); /* exists even if expired */
        int in_other = other && db_peek(other, e->key, e->keylen) != NULL;
        int other_expired = other && !in_other && db_get_expire(other, e->key, e->keylen) >= 0;
        if (!in_db && !in_other && !other_expired)
            continue;
        struct watchers *ws = e->v.ptr;
        for (struct list_node *n = list_first(&ws->list); n; n = list_next(&ws->list, n)) {
            struct watched_key *wk = list_entry(n, struct watched_key, key_node);
            if (wk->expired) {
                if (!other || (!in_other && !other_expired)) {
                    wk->expired = 0;
                    continue;
                }
                if (other_expired)
                    continue;
            } else if (!in_db && other_expired) {
                wk->expired = 1;
                continue;
            }
            wk->c->flags |= CLIENT_DIRTY_CAS;
        }
    }
    dict_iter_release(&it);
}

int watch_any_expired(struct client *c)
{
    for (struct list_node *n = list_first(&c->watched_keys); n; n = list_next(&c->watched_keys, n)) {
        struct watched_key *wk = list_entry(n, struct watched_key, client_node);
        if (!wk->expired && db_key_is_expired(wk->db, wk->key, wk->keylen))
            return 1;
    }
    return 0;
}

/* ---- commands ------------------------------------------------------- */

static void multi_command(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "MULTI calls can not be nested");
        return;
    }
    c->flags |= CLIENT_MULTI;
    reply_ok(c);
}

static void discard_command(struct client *c)
{
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "DISCARD without MULTI");
        return;
    }
    multi_discard(c);
    reply_ok(c);
}

static void exec_command(struct client *c)
{
    if (!(c->flags & CLIENT_MULTI)) {
        reply_error(c, "EXEC without MULTI");
        return;
    }
    if (watch_any_expired(c))
        c->flags |= CLIENT_DIRTY_CAS;
    if (c->flags & (CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC)) {
        if (c->flags & CLIENT_DIRTY_EXEC)
            reply_error(c, "-EXECABORT Transaction discarded because of previous errors.");
        else
            reply_null_array(c);
        multi_discard(c);
        return;
    }
    watch_unwatch_all(c);
    /* the queued commands record themselves; EXEC's batch gets wrapped in
     * MULTI/EXEC by the propagation layer when it holds several writes */
    propagate_prevent(c);
    /* run with the queued argv; restore the EXEC's own afterwards so the
     * dispatcher's bookkeeping (slowlog, stats) sees EXEC */
    struct command *exec_cmd = c->cmd;
    int argc = c->argc;
    struct arg *argv = c->argv;
    struct multi_state m = c->mstate;
    memset(&c->mstate, 0, sizeof(c->mstate));
    c->flags &= ~CLIENT_MULTI;
    c->flags |= CLIENT_EXECUTING_MULTI;
    reply_array_len(c, m.count);
    for (int i = 0; i < m.count; i++) {
        c->cmd = m.cmds[i].cmd;
        c->argc = m.cmds[i].argc;
        c->argv = m.cmds[i].argv;
        call_command(c);
        assert(!(c->flags & CLIENT_BLOCKED));
    }
    c->flags &= ~CLIENT_EXECUTING_MULTI;
    c->cmd = exec_cmd;
    c->argc = argc;
    c->argv = argv;
    for (int i = 0; i < m.count; i++)
        mem_free(m.cmds[i].argv);
    mem_free(m.cmds);
}

static void watch_command(struct client *c)
{
    if (c->flags & CLIENT_MULTI) {
        reply_error(c, "WATCH inside MULTI is not allowed");
        return;
    }
    /* no point in watching once already dirty */
    if (c->flags & CLIENT_DIRTY_CAS) {
        reply_ok(c);
        return;
    }
    for (int i = 1; i < c->argc; i++)
        watch_key(c, c->argv[i].ptr, c->argv[i].len);
    reply_ok(c);
}

static void unwatch_command(struct client *c)
{
    watch_unwatch_all(c);
    c->flags &= ~CLIENT_DIRTY_CAS;
    reply_ok(c);
}

const struct command_impl multi_commands[] = {
    {"multi", multi_command}, {"exec", exec_command},       {"discard", discard_command},
    {"watch", watch_command}, {"unwatch", unwatch_command}, {NULL, NULL},
};
