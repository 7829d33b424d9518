/* aof.h - the append-only file, in Redis 7.0's multi-part format.
 *
 * How the server uses it:
 *
 *   aof_register_hooks()  main(), at startup: the commit gate's condition
 *                         (once per event-loop iteration, after blocked
 *                         clients were served and before replies are
 *                         written: one write() of everything this
 *                         iteration recorded, and with appendfsync always
 *                         one fdatasync(), and no reply of a write leaves
 *                         before it: group commit), the cron (reaps the
 *                         rewrite child, starts scheduled/automatic
 *                         rewrites, retries failed writes and postponed
 *                         everysec flushes), shutdown (kill a rewrite,
 *                         flush, fsync; refuses while the first AOF of a
 *                         server that just enabled it is being written),
 *                         MISCONF after a failed write, INFO persistence,
 *                         CONFIG SET appendonly/appendfsync.
 *   aof_startup()         main(), after listening, before the loop: with
 *                         appendonly yes, load the AOF directory (base,
 *                         then incremental files, in manifest order) and
 *                         open the current incremental file for appending.
 *
 * Writes reach the AOF through the propagation feed (propagate.h), already
 * in their deterministic form and with MULTI/EXEC around batches.
 */
#ifndef SLUICE_AOF_H
#define SLUICE_AOF_H

#include <stdint.h>

#include "sstr.h"

void aof_register_hooks(void);
void aof_startup(void);
void aof_cron(void);
int aof_prepare_shutdown(int shutdown_flags);

/* Whether a BGREWRITEAOF child is running (the RDB module checks it before
 * forking: one child at a time). */
int aof_child_active(void);
/* The RDB module calls this when its child exited, so a rewrite that was
 * scheduled behind it starts without waiting for the next cron tick. */
void aof_start_scheduled_rewrite(void);

/* A replica's full sync replaces the dataset (Redis's stopAppendOnly
 * before the load, restartAOFAfterSYNC after): the AOF is closed, then
 * starts over with a rewrite of what was loaded. */
void aof_stop_for_sync(void);
void aof_restart_after_sync(void);

/* CONFIG SET appendonly / appendfsync: the config module's apply hooks.
 * 0 ok, -1 with *err set. */
int aof_apply_appendonly(const char **err);
int aof_apply_appendfsync(const char **err);

/* INFO persistence.  aof_info_append(): the "aof_enabled" ..
 * "aof_last_cow_size" lines (where Redis 7.0 prints them, before
 * module_fork_in_progress); aof_info_append_tail(): what Redis prints after
 * module_fork_last_cow_size: aof_current_size .. aof_delayed_fsync when
 * the AOF is on, and loading_* while loading. */
void aof_info_append(sstr *out);
void aof_info_append_tail(sstr *out);

/* Loading progress (also for the RDB loader, which may call these). */
void loading_start(long long total_bytes);
void loading_progress(long long loaded_bytes);
void loading_end(void);

/* WAITAOF: what the file on disk holds.  A mark is the commit position
 * (commit_gate.h) and the replication stream's offset of the last write
 * that a completed fsync covered.  aof_synced() gives it, or returns 0
 * while the AOF is off or still being enabled (its first rewrite runs).
 * The stream offset comes from fn, registered by replication (0 without). */
struct aof_sync_mark {
    uint64_t pos;
    long long off;
};
int aof_synced(struct aof_sync_mark *out);
void aof_on_stream_offset(long long (*fn)(void));

/* Writes are refused with -MISCONF while the last AOF write failed. */
int aof_write_error(sstr *msg);

/* BGREWRITEAOF (aof_commands[] is joined to the command table by
 * commands.c). */

#endif
