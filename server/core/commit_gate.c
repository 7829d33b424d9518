/* commit_gate.c - durability conditions holding replies; see commit_gate.h.
 *
 * State: the position of the last emitted batch, the registered
 * conditions, the durable position computed from them at the last
 * advance/update, and the clients parked because their tag was beyond it
 * (linked through their pending_node: a client is on the pending writes
 * or at the gate, never both).
 */
#include "commit_gate.h"

#include <assert.h>

#include "list.h"
#include "server.h"

#define MAX_CONDITIONS 4

static const struct commit_condition *conditions[MAX_CONDITIONS];
static int nconditions;
struct commit_gate_marks commit_gate_marks_ = {0, {COMMIT_POS_MAX, COMMIT_POS_MAX, COMMIT_POS_MAX}, {0, 0, 0}};
static struct list_head held = {{&held.n, &held.n}, 0};

void commit_gate_register(const struct commit_condition *cond)
{
    assert(nconditions < MAX_CONDITIONS);
    assert(cond->level == COMMIT_LEVEL_LOCAL || cond->level == COMMIT_LEVEL_REPLICAS);
    conditions[nconditions++] = cond;
}


void commit_gate_hold(struct client *c)
{
    assert(!(c->flags & (CLIENT_PENDING_WRITE | CLIENT_GATE_HELD)));
    c->flags |= CLIENT_GATE_HELD;
    list_add_tail(&held, &c->pending_node);
}

void commit_gate_forget(struct client *c)
{
    if (c->flags & CLIENT_GATE_HELD) {
        list_del(&held, &c->pending_node);
        c->flags &= ~CLIENT_GATE_HELD;
    }
}

void commit_gate_for_each_held(int level, commit_pos upto, void (*fn)(struct client *c))
{
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &held)
    {
        struct client *c = list_entry(n, struct client, pending_node);
        if (c->commit_level >= level && c->commit_tag <= upto)
            fn(c);
    }
}

unsigned long commit_gate_held_count(void) { return (unsigned long)held.len; }

static void compute_durable(void)
{
    commit_pos d[COMMIT_LEVELS] = {COMMIT_POS_MAX, COMMIT_POS_MAX, COMMIT_POS_MAX};
    for (int i = 0; i < nconditions; i++) {
        commit_pos p = conditions[i]->durable();
        if (p < d[conditions[i]->level])
            d[conditions[i]->level] = p;
    }
    /* a level waits for every condition of the levels below it too */
    for (int l = 1; l < COMMIT_LEVELS; l++) {
        if (d[l - 1] < d[l])
            d[l] = d[l - 1];
        commit_gate_marks_.durable[l] = d[l];
    }
}

/* Held clients the durable position now covers go back to the pending
 * writes, in the order they were held; the loop's flush writes them. */
static void release_covered(void)
{
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &held)
    {
        struct client *c = list_entry(n, struct client, pending_node);
        if (commit_gate_holds(c))
            continue;
        list_del(&held, n);
        c->flags &= ~CLIENT_GATE_HELD;
        c->flags |= CLIENT_PENDING_WRITE;
        list_add_tail(&srv.pending_writes, &c->pending_node);
    }
}

void commit_gate_update(void)
{
    compute_durable();
    if (held.len)
        release_covered();
}

void commit_gate_advance(void)
{
    for (int i = 0; i < nconditions; i++)
        if (conditions[i]->advance)
            conditions[i]->advance();
    commit_gate_update();
}
