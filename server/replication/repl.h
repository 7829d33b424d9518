/* repl.h - replication: what the composition root (main()) calls.
 *
 * The module plugs into the core through the propagation feed, the
 * command table, the commit gate and the hooks (see repl_int.h for how
 * its files divide the work).
 */
#ifndef SLUICE_REPL_H
#define SLUICE_REPL_H
#include "commands.h"

/* Register the feed, the commit-gate condition, cron/INFO/shutdown hooks. */
void repl_register_hooks(void);
/* After the dataset is loaded, before the loop: connect to the master
 * named by the `replicaof` directive, if any. */
void repl_startup(void);
/* REPLICAOF SLAVEOF ROLE SYNC PSYNC REPLCONF WAIT WAITAOF FAILOVER. */
extern const struct command_impl replication_commands[];
/* SYNC PSYNC REPLCONF (master.c). */
extern const struct command_impl repl_master_commands[];
/* REPLICAOF SLAVEOF (replica.c). */
extern const struct command_impl repl_replica_commands[];
/* FAILOVER (failover.c). */
extern const struct command_impl repl_failover_commands[];
#endif
