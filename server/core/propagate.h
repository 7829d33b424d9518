/* propagate.h - what the AOF and replicas receive.
 *
 * Every command that changed the dataset is recorded, after it ran, in
 * the form that replays deterministically: commands may replace their own
 * form (BRPOP -> RPOP, SET EX -> SET PXAT, XREADGROUP -> XCLAIM...) or add
 * further commands, and expiry deletes are recorded as DEL.  When one call
 * records more than one command (EXEC, or a command plus the expiry it
 * triggered), the batch is wrapped in MULTI/EXEC so a crash replays it
 * whole or not at all.  Consumers (AOF, replication) register a feed and
 * receive each batch with the database it applies to.
 */
#ifndef SLUICE_PROPAGATE_H
#define SLUICE_PROPAGATE_H

#include "resp.h"
#include "sstr.h"

struct client;
struct db;

/* A consumer: called for each command of a finished batch, in order.  The
 * arguments are valid only during the call. */
typedef void propagate_feed_fn(void *priv, int dbid, int argc, const struct arg *argv);
/* Whether the consumer records anything now (the AOF while it is on, the
 * replication stream while a backlog exists).  While no consumer wants the
 * feed, writes record nothing and cost nothing; NULL means always. */
typedef int propagate_wants_fn(void *priv);
void propagate_register(propagate_feed_fn *fn, propagate_wants_fn *wants, void *priv);
void propagate_unregister(propagate_feed_fn *fn, void *priv);
int propagate_has_consumers(void);

/* Called by the dispatcher around every command execution. */
void propagate_call_begin(void);
void propagate_call_end(struct client *c, int wrote);

/* For command implementations: replace the current command's recorded
 * form, suppress it, or record an additional command. */
void propagate_rewrite(struct client *c, int argc, const struct arg *argv);
void propagate_rewrite_cstr(struct client *c, int argc, const char *const *argv, const size_t *lens);
void propagate_prevent(struct client *c);
/* Record the command even though it changed nothing (FLUSHALL on an
 * empty dataset must still reach replicas). */
void propagate_force(struct client *c);
void propagate_also(struct db *db, int argc, const struct arg *argv);
/* An expired key was deleted (lazily or by the active cycle). */
void propagate_expired_delete(struct db *db, const char *key, size_t len);

#endif
