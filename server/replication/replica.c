/* replica.c - the replica side of replication (REPLICAOF, the handshake,
 * loading the master's RDB, applying its stream, ACKs, promotion).
 * Skeleton: to be written. */
#include <string.h>

#include "repl_int.h"

int repl_is_replica(void) { return 0; }
void repl_replica_link(struct repl_link_view *out) { memset(out, 0, sizeof(*out)); }
