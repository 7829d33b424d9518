/* rdb.h - RDB snapshots: what the rest of the server calls.
 *
 * Snapshots are Redis 7.0's dump.rdb files (RDB version 10, see
 * rdb_format.h), so Sluice and redis-server 7.0 load each other's files.
 *
 * Life cycle, as the server calls it:
 *   rdb_startup()           main(), after listening, before the loop: with
 *                           appendonly no, load dir/dbfilename (clients get
 *                           -LOADING meanwhile); a bad file stops startup.
 *   rdb_cron()              every cron tick: reap the BGSAVE child, apply
 *                           the `save` points, start a scheduled BGSAVE.
 *   rdb_prepare_shutdown()  from server_prepare_shutdown(): kill a BGSAVE
 *                           child, and save when save points are set (or
 *                           SHUTDOWN SAVE); -1 when the save failed.
 *   rdb_after_flushall()    the keyspace module, after FLUSHALL emptied the
 *                           databases: kills a BGSAVE and, with save points
 *                           configured, rewrites the snapshot (as Redis).
 *
 * Errors are appended to *err (an sstr the caller owns; NULL is allowed
 * and then a new one is made) with the file name and the offset.
 */
#ifndef SLUICE_RDB_H
#define SLUICE_RDB_H

#include <sys/types.h>

#include "commands.h"
#include "sstr.h"

struct rio;

/* rdb_save_rio() flags. */
#define RDB_FLAG_AOF_PREAMBLE 1 /* an AOF base: aux aof-base 1 */

/* Config values Redis 7.0 has as constants. */
#define CONFIG_BGSAVE_RETRY_DELAY 5                   /* seconds after a failed BGSAVE */
#define RDB_LOADING_EVENTS_INTERVAL (2 * 1024 * 1024) /* serve clients every 2 MB loaded */

/* rdb_load() results besides 0 and -1. */
#define RDB_LOAD_NOT_FOUND (-2)

/* Save the whole dataset to path the safe way: a temp file in the same
 * directory, fsync, rename over path, fsync the directory.  On success
 * the dirty counter and LASTSAVE are reset.  0 or -1. */
int rdb_save(const char *path, sstr *err);
/* The whole dataset as an RDB stream into r (header to checksum). */
int rdb_save_rio(struct rio *r, int flags, sstr *err);

/* Load a file into the keyspace (loading state on meanwhile).  0, -1 on
 * error (nothing is loaded: the load fails whole), RDB_LOAD_NOT_FOUND. */
int rdb_load(const char *path, sstr *err);
/* Load an RDB stream from r's position (left just after its checksum).
 * Keys already present in the keyspace are an error.  Keys whose TTL has
 * passed are kept when the stream is an AOF base (aux aof-base 1). */
int rdb_load_rio(struct rio *r, sstr *err);
/* A replica's async load (repl-diskless-load swapdb): the keyspace keeps
 * serving while r is parsed; on success each database is replaced by what
 * was loaded, on failure it is untouched. */
int rdb_load_rio_replacing(struct rio *r, sstr *err);

/* BGSAVE: fork a child that writes dbfilename.  0, or -1 with *err. */
int rdb_bgsave(sstr *err);
/* A full sync to replicas (the replication module).  fd < 0: the child
 * writes dbfilename as BGSAVE does (disk-backed sync); else it writes the
 * bare RDB stream to fd, the write end of a pipe (diskless sync; the
 * parent closes its copy).  done(ok) runs in the parent once the child is
 * reaped or killed.  0, or -1 with *err (another child runs, fork failed). */
typedef void rdb_child_done_fn(int ok);
int rdb_bgsave_for_sync(int fd, rdb_child_done_fn *done, sstr *err);
/* Wait for the child to exit and finish it now (a diskless transfer saw
 * the end of its pipe and must know whether the child succeeded). */
void rdb_reap_child_now(void);
/* BGSAVE SCHEDULE / inside MULTI: start as soon as no child runs. */
void rdb_schedule_bgsave(void);
int rdb_child_active(void);
pid_t rdb_child_pid(void);
/* An RDB or AOF-rewrite child: Redis runs one fork child at a time. */
int rdb_any_child_active(void);
/* Kill the BGSAVE child (SIGUSR1, as Redis) and remove its temp file. */
void rdb_kill_child(void);
/* Writes are refused with -MISCONF while the last BGSAVE failed, save
 * points are set and stop-writes-on-bgsave-error is yes (Redis's rule).
 * Returns 1 then, and appends the error line to *msg when msg is given. */
int rdb_bgsave_error(sstr *msg);

/* main(): register the module's hooks with the core (hooks.h): cron,
 * shutdown, MISCONF, FLUSHALL, INFO persistence. */
void rdb_register_hooks(void);

void rdb_startup(void);
void rdb_cron(void);
int rdb_prepare_shutdown(int shutdown_flags);
void rdb_after_flushall(void);

/* INFO persistence.  rdb_info_append() appends Redis 7.0's lines from
 * "loading:" through "rdb_last_load_keys_loaded:" (the part before
 * "aof_enabled:"); the loading_* lines Redis prints at the end of the
 * section come from the AOF module's aof_info_append_tail(). */
struct rdb_info {
    int loading;
    long long changes_since_last_save;
    int bgsave_in_progress;
    long long last_save_time;
    int last_bgsave_ok;
    long long last_bgsave_time_sec;    /* -1 before the first BGSAVE ended */
    long long current_bgsave_time_sec; /* -1 when none runs */
    long long saves;
    long long last_load_keys_loaded, last_load_keys_expired;
};
void rdb_info_get(struct rdb_info *info);
void rdb_info_append(sstr *out);
long long rdb_last_save_time(void);

/* The server's settings as the encoder's options (rdbcompression,
 * list-max-listpack-size, stream-node-max-*). */
struct rdb_save_opts;
void rdb_server_save_opts(struct rdb_save_opts *o);

/* Where this server is in a replication history, saved as Redis 4+'s aux
 * fields repl-stream-db, repl-id and repl-offset, so that a restarted
 * replica continues from its master's backlog instead of a full sync.
 * The replication module provides both ends: get() fills *out and returns
 * 1 when there is a history to save; loaded() receives what a file held
 * (after the whole file loaded). */
struct rdb_repl_info {
    int stream_db;
    char id[41];
    long long offset;
};
typedef int rdb_repl_get_fn(struct rdb_repl_info *out);
typedef void rdb_repl_loaded_fn(const struct rdb_repl_info *in);
void rdb_on_repl_info(rdb_repl_get_fn *get, rdb_repl_loaded_fn *loaded);

/* Persistence commands (SAVE BGSAVE LASTSAVE DUMP RESTORE). */
extern const struct command_impl persistence_commands[];

#endif
