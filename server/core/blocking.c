/* blocking.c - see blocking.h for the model.
 *
 * Data layout:
 *   db->blocking_keys: key -> struct waiters, a FIFO of struct wait nodes;
 *   client->bstate.keys: the same nodes, so a client leaves every queue in
 *   O(keys) when it is served, times out or disconnects;
 *   ready_keys: (db, key) pairs signalled since the last pass, deduplicated
 *   by a dict, served in signalling order.
 * Timeouts use one libevent timer per blocked client (a min-heap inside
 * libevent), which gives millisecond precision without scanning.
 */
#include "blocking.h"

#include <assert.h>
#include <event2/event.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "mem.h"
#include "networking.h"
#include "server.h"
#include "util.h"

struct waiters {
    struct list_head clients; /* struct wait via key_node */
};

struct wait {
    struct list_node key_node;    /* in waiters.clients */
    struct list_node client_node; /* in client->bstate.keys */
    struct client *c;
    struct db *db;
    sstr key;
};

struct ready_key {
    struct list_node node;
    struct db *db;
    sstr key;
};

static struct list_head ready_keys;
static dict *ready_set;          /* "<dbid>:<key>" -> present */
static long long blocked_count;
static int serving;              /* re-entrancy guard */

/* Per-client state that does not fit struct block_state's generic fields. */
struct block_extra {
    const struct block_kind *kind;
    struct event *timer;
};

static void on_key_ready(struct db *db, const char *key, size_t len);

void blocking_init(void)
{
    list_init(&ready_keys);
    ready_set = dict_create(NULL, 0);
    db_set_key_ready_hook(on_key_ready);
}

/* INFO's blocked_clients: Redis 7.0 holds a client that CLIENT PAUSE stops
 * as a blocked ("postponed") client, and counts it, so tools read this
 * figure to see that a pause took hold. */
long long blocking_clients_count(void) { return blocked_count + (long long)srv.paused_clients.len; }

long long blocking_keys_count(void)
{
    long long n = 0;
    for (int i = 0; i < srv.dbnum; i++)
        n += (long long)dict_size(srv.dbs[i]->blocking_keys);
    return n;
}

int blocking_denied(struct client *c)
{
    return (c->flags & (CLIENT_EXECUTING_MULTI | CLIENT_LOADING_CLIENT)) != 0;
}

int blocking_parse_timeout(struct client *c, const char *p, size_t len, int unit_ms, long long *abs_ms)
{
    long long tval;
    if (unit_ms) {
        if (!string2ll(p, len, &tval)) {
            reply_error(c, "timeout is not an integer or out of range");
            return -1;
        }
    } else {
        long double ftval;
        if (!string2ld(p, len, &ftval)) {
            reply_error(c, "timeout is not a float or out of range");
            return -1;
        }
        /* Rounded up, as Redis 7.0.8+ (ceill): a plain cast made any
         * timeout under 1 ms, and 0.001 itself (strtold gives
         * 0.000999...), a 0 = "block forever".  -0.0001 rounds to -0, which
         * is 0 and blocks forever in Redis too.  On x86 a value that
         * doesn't fit (inf, 1e30) converts to LLONG_MIN, hence "negative" */
        ftval = ceill(ftval * 1000.0L);
        if (ftval >= 9223372036854775808.0L || ftval < -9223372036854775808.0L || ftval != ftval)
            tval = LLONG_MIN;
        else
            tval = (long long)ftval;
    }
    if (tval < 0) {
        reply_error(c, "timeout is negative");
        return -1;
    }
    if (tval > 0) {
        /* Redis 7.0 adds without an overflow check; a wrapped (past)
         * deadline times out at once, which is what we do too */
        tval = (long long)((unsigned long long)tval + (unsigned long long)mstime());
        if (tval <= 0)
            tval = 1;
    }
    *abs_ms = tval;
    return 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg);

/* Redis times a client out once the clock has passed its deadline
 * (deadline < now, in whole ms), so never before the timeout however the
 * ms boundaries fall.  The first microsecond of deadline+1 is that moment. */
static long long due_us(long long deadline_ms) { return (deadline_ms + 1) * 1000; }

/* Fire at due_us(deadline) by the wall clock.  libevent adds the delay to
 * the time it cached when the loop woke, which is stale while commands
 * run: refresh it first; timer_cb re-arms if libevent's coarse clock still
 * fires early. */
static void arm_timer(struct event *timer, long long deadline_ms)
{
    long long delta_us = due_us(deadline_ms) - ustime();
    if (delta_us < 0)
        delta_us = 0;
    event_base_update_cache_time(srv.base);
    struct timeval tv = {(time_t)(delta_us / 1000000), (suseconds_t)(delta_us % 1000000)};
    evtimer_add(timer, &tv);
}

void blocking_block_client(struct client *c, const struct block_kind *kind, const int *key_idx, int nkeys,
                           long long timeout_ms, void *priv)
{
    assert(!(c->flags & CLIENT_BLOCKED));
    struct block_extra *x = mem_calloc(sizeof(*x));
    x->kind = kind;
    c->bstate.priv = priv;
    c->bstate.timeout_ms = timeout_ms;
    c->bstate.start_us = ustime();
    c->bstate.btype = 0;
    /* bstate.keys holds the waits; the extra state hangs off timeout_node's
     * slot through a side pointer kept in the client's bstate */
    c->bstate.timeout_node.prev = (struct list_node *)x;
    for (int i = 0; i < nkeys; i++) {
        const struct arg *k = &c->argv[key_idx[i]];
        /* the same key twice waits once (BLPOP k k 0) */
        int dup = 0;
        for (struct list_node *n = list_first(&c->bstate.keys); n; n = list_next(&c->bstate.keys, n)) {
            struct wait *w = list_entry(n, struct wait, client_node);
            if (sstr_len(w->key) == k->len && memcmp(w->key, k->ptr, k->len) == 0)
                dup = 1;
        }
        if (dup)
            continue;
        dict_entry *e = dict_find(c->db->blocking_keys, k->ptr, k->len);
        if (!e) {
            e = dict_add(c->db->blocking_keys, k->ptr, k->len, NULL);
            struct waiters *ws = mem_alloc(sizeof(*ws));
            list_init(&ws->clients);
            e->v.ptr = ws;
        }
        struct waiters *ws = e->v.ptr;
        struct wait *w = mem_alloc(sizeof(*w));
        w->c = c;
        w->db = c->db;
        w->key = sstr_new(k->ptr, k->len);
        list_add_tail(&ws->clients, &w->key_node);
        list_add_tail(&c->bstate.keys, &w->client_node);
    }
    if (timeout_ms > 0) {
        x->timer = evtimer_new(srv.base, timer_cb, c);
        arm_timer(x->timer, timeout_ms);
    }
    c->flags |= CLIENT_BLOCKED;
    blocked_count++;
    client_own_argv(c);
}

static struct block_extra *extra_of(struct client *c)
{
    return (struct block_extra *)c->bstate.timeout_node.prev;
}

/* Take the client off every queue and free the blocking state. */
static void unblock(struct client *c)
{
    assert(c->flags & CLIENT_BLOCKED);
    struct list_node *n;
    while ((n = list_first(&c->bstate.keys)) != NULL) {
        struct wait *w = list_entry(n, struct wait, client_node);
        list_del(&c->bstate.keys, n);
        dict_entry *e = dict_find(w->db->blocking_keys, w->key, sstr_len(w->key));
        assert(e);
        struct waiters *ws = e->v.ptr;
        list_del(&ws->clients, &w->key_node);
        if (list_empty(&ws->clients)) {
            mem_free(ws);
            e->v.ptr = NULL;
            dict_delete(w->db->blocking_keys, w->key, sstr_len(w->key));
        }
        sstr_free(w->key);
        mem_free(w);
    }
    struct block_extra *x = extra_of(c);
    if (x) {
        if (x->timer)
            event_free(x->timer);
        if (x->kind->free_priv && c->bstate.priv)
            x->kind->free_priv(c->bstate.priv);
        mem_free(x);
    }
    c->bstate.priv = NULL;
    c->bstate.timeout_node.prev = NULL;
    c->flags &= ~CLIENT_BLOCKED;
    blocked_count--;
}

/* After the blocked command finished one way or another, run whatever the
 * client pipelined behind it. */
static void schedule_resume(struct client *c)
{
    client_command_done(c);
    if (!list_node_linked(&c->unblocked_node) && !(c->flags & CLIENT_CLOSE_ASAP))
        list_add_tail(&srv.unblocked_clients, &c->unblocked_node);
}

void blocking_process_unblocked(void)
{
    struct list_node *n;
    while ((n = list_first(&srv.unblocked_clients)) != NULL) {
        struct client *c = list_entry(n, struct client, unblocked_node);
        list_del(&srv.unblocked_clients, n);
        if (!(c->flags & (CLIENT_BLOCKED | CLIENT_CLOSE_ASAP)))
            client_process_input(c);
    }
}

static void reply_timeout(struct client *c)
{
    struct block_extra *x = extra_of(c);
    x->kind->timeout_reply(c);
    if (c->cmd) {
        c->cmd->calls++;
        c->cmd->usec += 0;
    }
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    (void)fd;
    (void)what;
    if (!(c->flags & CLIENT_BLOCKED))
        return;
    /* libevent's clock is coarse: its timer may fire a little early.
     * Redis never times out before the deadline, so neither do we. */
    if (ustime() < due_us(c->bstate.timeout_ms)) {
        arm_timer(extra_of(c)->timer, c->bstate.timeout_ms);
        return;
    }
    reply_timeout(c);
    unblock(c);
    schedule_resume(c);
}

void blocking_remove_client(struct client *c)
{
    if (c->flags & CLIENT_BLOCKED)
        unblock(c);
}

int blocking_unblock_client(struct client *c, int with_error)
{
    if (!(c->flags & CLIENT_BLOCKED))
        return 0;
    if (with_error)
        reply_error(c, "-UNBLOCKED client unblocked via CLIENT UNBLOCK");
    else
        reply_timeout(c);
    unblock(c);
    schedule_resume(c);
    return 1;
}

void blocking_fail_key_waiters(struct db *db, const char *key, size_t len, const char *err)
{
    dict_entry *e = dict_find(db->blocking_keys, key, len);
    if (!e)
        return;
    struct waiters *ws = e->v.ptr;
    /* unblock() may free ws when the last waiter leaves: count first */
    size_t n = ws->clients.len;
    while (n--) {
        struct wait *w = list_entry(list_first(&ws->clients), struct wait, key_node);
        struct client *c = w->c;
        reply_error(c, err);
        int last = ws->clients.len == 1;
        unblock(c);
        schedule_resume(c);
        if (last)
            break;
    }
}

static void on_key_ready(struct db *db, const char *key, size_t len)
{
    char prefix[16];
    int plen = snprintf(prefix, sizeof(prefix), "%d:", db->id);
    sstr id = sstr_new(prefix, (size_t)plen);
    id = sstr_cat(id, key, len);
    if (dict_add(ready_set, id, sstr_len(id), NULL)) {
        struct ready_key *rk = mem_alloc(sizeof(*rk));
        rk->db = db;
        rk->key = sstr_new(key, len);
        list_add_tail(&ready_keys, &rk->node);
    }
    sstr_free(id);
}

/* Re-run the command of one blocked client that the key can serve (the
 * caller checked type and can_serve).  The client leaves its queues first,
 * so the command runs exactly as a fresh call would; it replies and, for
 * AOF/replicas, records itself as its non-blocking form. */
static struct client *retrying;
static struct arg retrying_key;

static void retry_client(struct client *c, const sstr key)
{
    unblock(c);
    struct client *prev = srv.current_client;
    srv.current_client = c;
    retrying = c;
    retrying_key.ptr = key;
    retrying_key.len = sstr_len(key);
    call_command(c);
    retrying = NULL;
    srv.current_client = prev;
    if (!(c->flags & CLIENT_BLOCKED))
        schedule_resume(c);
}

const struct arg *blocking_ready_key(const struct client *c)
{
    return c == retrying ? &retrying_key : NULL;
}

void blocking_signal_db(struct db *db)
{
    dict_iter it;
    dict_iter_init(&it, db->blocking_keys);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL) {
        if (db_peek(db, e->key, e->keylen))
            on_key_ready(db, e->key, e->keylen);
    }
    dict_iter_release(&it);
}

void blocking_handle_ready_keys(void)
{
    if (serving || list_empty(&ready_keys))
        return;
    serving = 1;
    struct list_node *n;
    while ((n = list_first(&ready_keys)) != NULL) {
        struct ready_key *rk = list_entry(n, struct ready_key, node);
        list_del(&ready_keys, n);
        char prefix[16];
        int plen = snprintf(prefix, sizeof(prefix), "%d:", rk->db->id);
        sstr id = sstr_new(prefix, (size_t)plen);
        id = sstr_cat(id, rk->key, sstr_len(rk->key));
        dict_delete(ready_set, id, sstr_len(id));
        sstr_free(id);

        dict_entry *e = dict_find(rk->db->blocking_keys, rk->key, sstr_len(rk->key));
        if (e) {
            struct waiters *ws = e->v.ptr;
            /* serve in blocking order; stop when the key can't serve the
             * next one (it is empty, deleted, or of another type) */
            size_t budget = ws->clients.len;
            while (budget--) {
                e = dict_find(rk->db->blocking_keys, rk->key, sstr_len(rk->key));
                if (!e)
                    break;
                ws = e->v.ptr;
                struct wait *w = list_entry(list_first(&ws->clients), struct wait, key_node);
                struct client *c = w->c;
                struct block_extra *x = extra_of(c);
                struct value *v = db_peek(rk->db, rk->key, sstr_len(rk->key));
                if (!v || (int)v->type != x->kind->value_type)
                    break;
                if (x->kind->can_serve && !x->kind->can_serve(c, rk->db, rk->key, sstr_len(rk->key), v)) {
                    /* this one waits for something newer: move it behind
                     * the others; every waiter is visited once per pass, so
                     * the relative order of those left waiting is kept */
                    list_del(&ws->clients, &w->key_node);
                    list_add_tail(&ws->clients, &w->key_node);
                    continue;
                }
                assert(c->db == rk->db);
                retry_client(c, rk->key);
            }
        }
        sstr_free(rk->key);
        mem_free(rk);
    }
    serving = 0;
}
