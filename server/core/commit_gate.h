/* commit_gate.h - a reply leaves the server only once the writes it
 * depends on are durable.
 *
 * Positions.  Every batch of writes the propagation feed emits (one
 * command, an EXEC, a command plus the expiries it caused) advances the
 * commit position by one; commit_gate_position() is the position of the
 * last batch emitted.  When a command finishes, its client is tagged with
 * the position at that moment: for a write that is its own batch, for a
 * read the newest write it could have seen.  The client's output may
 * leave once the gate's durable position has reached that tag.
 *
 * Conditions.  A module that makes writes durable (the AOF's fsync,
 * later replica acknowledgements) registers a condition.  The gate's
 * durable position is the lowest of the conditions' durable positions;
 * with no condition registered, or none holding anything, every reply
 * leaves at once.  The core never names the modules behind them.
 *
 * Once per event-loop iteration, after commands ran and blocked clients
 * were served and before replies are written, commit_gate_advance() lets
 * every condition do its work (the AOF writes and fsyncs the iteration's
 * writes: group commit), recomputes the durable position and releases
 * the clients it covers, so one fsync releases the whole iteration's
 * replies together.  A condition whose durable position moves outside
 * that point (an acknowledgement read from a socket) calls
 * commit_gate_update().
 *
 * Levels (Kafka's acks).  A condition belongs to a level: the local ones
 * (the AOF's fsync) to COMMIT_LEVEL_LOCAL, replica acknowledgements to
 * COMMIT_LEVEL_REPLICAS.  Each client waits for the conditions up to its
 * own level (c->commit_level): 0 waits for nothing (acks 0), LOCAL for
 * the local conditions (acks 1), REPLICAS for all of them (acks all).
 * The gate keeps one durable mark per level.
 *
 * A held client keeps its whole output chain: a reply queued behind a
 * held one waits too, so the order of replies on a connection is kept.
 */
#ifndef SLUICE_COMMIT_GATE_H
#define SLUICE_COMMIT_GATE_H

#include <stdint.h>

struct client;

typedef uint64_t commit_pos;
#define COMMIT_POS_MAX UINT64_MAX

#define COMMIT_LEVEL_NONE 0
#define COMMIT_LEVEL_LOCAL 1
#define COMMIT_LEVEL_REPLICAS 2
#define COMMIT_LEVELS 3

struct commit_condition {
    const char *name;
    int level; /* COMMIT_LEVEL_LOCAL or COMMIT_LEVEL_REPLICAS */
    /* Once per loop iteration before replies are written (may be NULL). */
    void (*advance)(void);
    /* Every write up to this position is covered by the condition;
     * COMMIT_POS_MAX when it holds nothing back. */
    commit_pos (*durable)(void);
};

/* At startup, from the composition root; the struct must outlive the
 * server. */
void commit_gate_register(const struct commit_condition *cond);

/* The propagation feed calls this before emitting a batch; the batch's
 * records carry the new position (commit_gate_position() while the feeds
 * run). */
/* The gate's two hot numbers, read inline on every write command and
 * every reply written (a call each was measurable in Ir per request);
 * only commit_gate.c writes them. */
struct commit_gate_marks {
    commit_pos position; /* of the last batch emitted */
    /* per level: min over the conditions up to that level, at the last
     * advance/update; durable[COMMIT_LEVEL_NONE] is always COMMIT_POS_MAX */
    commit_pos durable[COMMIT_LEVELS];
    /* per level: the highest tag a client at that level was given (a
     * condition that must ask for acknowledgements knows someone waits) */
    commit_pos wanted[COMMIT_LEVELS];
};
extern struct commit_gate_marks commit_gate_marks_;

static inline void commit_gate_next_batch(void) { commit_gate_marks_.position++; }

/* The position of the last batch emitted. */
static inline commit_pos commit_gate_position(void) { return commit_gate_marks_.position; }

/* The loop's point before replies are written (see above). */
void commit_gate_advance(void);

/* A condition's durable position moved outside commit_gate_advance(). */
void commit_gate_update(void);

/* Whether the client's output must wait: the writes its replies depend on
 * are not durable yet.  networking.c asks before every write. */
static inline int commit_gate_holds_tag(commit_pos tag, int level) { return tag > commit_gate_marks_.durable[level]; }
#define commit_gate_holds(c) commit_gate_holds_tag((c)->commit_tag, (c)->commit_level)
/* A client at `level` got `tag` (call_command). */
static inline void commit_gate_want(int level, commit_pos tag)
{
    if (tag > commit_gate_marks_.wanted[level])
        commit_gate_marks_.wanted[level] = tag;
}
static inline commit_pos commit_gate_wanted(int level) { return commit_gate_marks_.wanted[level]; }
/* The durable mark of a level (INFO, the replication module). */
static inline commit_pos commit_gate_durable(int level) { return commit_gate_marks_.durable[level]; }

/* Park a client whose output is held (it must be on no pending list); it
 * returns to the pending writes when the durable position covers it. */
void commit_gate_hold(struct client *c);

/* A held client is being freed. */
void commit_gate_forget(struct client *c);

/* A condition gives up on writes it cannot make durable (acks all past
 * ack-timeout-ms): fn is called, in hold order, for every held client at
 * `level` or above whose tag is at most upto; fn must not free the client
 * (client_close_async is fine). */
void commit_gate_for_each_held(int level, commit_pos upto, void (*fn)(struct client *c));

/* How many clients wait at the gate (INFO, tests). */
unsigned long commit_gate_held_count(void);

#endif
