/* rdb_standalone.c - the few server pieces the stream modules use, for
 * programs that run the RDB layer without the server: sluice-check-rdb,
 * the RDB unit and smoke tests, the fuzzer.
 *
 * The stream value code (server/commands/t_stream_store.c...) reads two settings
 * from srv (stream-node-max-bytes/-entries, to cut its segments as Redis
 * cuts nodes) and may wake clients blocked on a stream that goes away;
 * here there are no clients, and the settings are Redis's defaults.
 */
#include "blocking.h"
#include "server.h"

struct server srv = {
    .dbnum = 16,
    .list_max_listpack_size = -2,
    .stream_node_max_bytes = 4096,
    .stream_node_max_entries = 100,
    .rdbcompression = 1,
    .rdbchecksum = 1,
};

int blocking_unblock_client(struct client *c, int with_error)
{
    (void)c;
    (void)with_error;
    return 0;
}
