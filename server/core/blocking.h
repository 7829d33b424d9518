/* blocking.h - clients blocked on keys (BLPOP, BLMOVE, XREAD BLOCK, ...).
 *
 * A blocking command that finds no data calls blocking_block_client() with
 * its keys and timeout and returns without a reply.  When a write makes a
 * key ready (db_signal_key_ready), the clients waiting on it are served in
 * the order they blocked by running their command again: the command then
 * finds the data and replies as its non-blocking form would, and records
 * itself for AOF/replicas as that non-blocking form.  A client whose
 * command still can't be served (another client took the data) stays
 * blocked in its place.
 */
#ifndef SLUICE_BLOCKING_H
#define SLUICE_BLOCKING_H

#include <stddef.h>

struct client;
struct db;
struct value;

/* What a blocked client waits for; each kind registers its rules. */
struct block_kind {
    const char *name;
    int value_type; /* the key must hold this type to be worth retrying */
    /* Optional finer check (streams: is there an entry past the client's
     * ID?).  NULL = any value of the right type can serve. */
    int (*can_serve)(struct client *c, struct db *db, const char *key, size_t len, struct value *v);
    /* Reply sent on timeout (null array, null bulk...). */
    void (*timeout_reply)(struct client *c);
    /* Free c->bstate.priv. */
    void (*free_priv)(void *priv);
};

/* Block c on keys (argv indexes) until timeout_ms (absolute unix ms, 0 =
 * forever).  Takes ownership of priv. */
void blocking_block_client(struct client *c, const struct block_kind *kind, const int *key_idx, int nkeys,
                           long long timeout_ms, void *priv);

/* While a blocked client's command is re-run because a key became ready:
 * that key (the command serves from it, as Redis serves the ready key
 * rather than the first key of the command).  NULL otherwise. */
struct arg;
const struct arg *blocking_ready_key(const struct client *c);

/* True when the current execution must not block (inside MULTI/EXEC,
 * scripts, or replaying a file): the command acts non-blocking. */
int blocking_denied(struct client *c);

/* Parse a timeout argument the way Redis does (seconds with decimals, or
 * milliseconds for XREAD's BLOCK); replies the error and returns -1. */
int blocking_parse_timeout(struct client *c, const char *p, size_t len, int unit_ms, long long *abs_ms);

/* Forget a blocked client (it disconnected or was reset). */
void blocking_remove_client(struct client *c);
/* CLIENT UNBLOCK: wake with the timeout reply, or with an -UNBLOCKED
 * error.  Returns 1 if the client was blocked. */
int blocking_unblock_client(struct client *c, int with_error);
/* Wake clients waiting on a key with an error (key deleted under a
 * stream group, etc.). */
void blocking_fail_key_waiters(struct db *db, const char *key, size_t len, const char *err);
/* After SWAPDB/FLUSH-like changes: signal every waited-on key that now
 * exists in db. */
void blocking_signal_db(struct db *db);
/* Serve clients whose keys became ready; run after every command. */
void blocking_handle_ready_keys(void);
/* Resume the input of clients unblocked during this iteration. */
void blocking_process_unblocked(void);
void blocking_init(void);
/* blocked_clients: clients blocked on keys plus those CLIENT PAUSE holds */
long long blocking_clients_count(void);
long long blocking_keys_count(void);

#endif
