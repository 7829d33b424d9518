/* master.c - the master side of replication (SYNC/PSYNC, full sync,
 * partial resync, the stream to the replicas, REPLCONF, WAIT).
 * Skeleton: to be written. */
#include "repl_int.h"

void repl_master_feed_raw(const char *p, size_t n) { repl_backlog_feed(p, n); }
void repl_master_disconnect_replicas(void) {}
void repl_master_send_getack(void) {}
int repl_master_replicas(struct repl_replica_view *out, int max)
{
    (void)out;
    (void)max;
    return 0;
}
int repl_master_replica_count(void) { return 0; }
