/* aof_int.h - state shared by the AOF modules (aof.c: writing, fsync,
 * commands, INFO; aof_rewrite.c: the rewrite child and the switch of the
 * manifest; aof_load.c: replay).  Not for use outside persistence/aof*.c.
 */
#ifndef SLUICE_AOF_INT_H
#define SLUICE_AOF_INT_H

#include <sys/types.h>
#include <time.h>

#include <stdint.h>

#include "aof.h"
#include "aof_manifest.h"
#include "sstr.h"

enum aof_state_kind {
    AOF_OFF,
    AOF_ON,
    AOF_WAIT_REWRITE, /* being enabled: writes go to the temp incr file until the first base exists */
};

/* Results of loading one file, as Redis's loadSingleAppendOnlyFile. */
enum aof_load_result { AOF_LOAD_OK, AOF_LOAD_NOT_EXIST, AOF_LOAD_EMPTY, AOF_LOAD_OPEN_ERR, AOF_LOAD_FAILED,
                       AOF_LOAD_TRUNCATED };

struct aof_state {
    enum aof_state_kind state;
    struct aof_manifest *manifest;
    int fd;                      /* the incremental file being appended to, -1 when none */
    sstr buf;                    /* recorded, not yet written */
    int selected_db;             /* -1: the next record starts with SELECT */

    long long current_size;      /* base + incremental files */
    long long base_size;         /* size when the last rewrite finished (auto-rewrite growth base) */
    long long last_incr_size;    /* the current incremental file */
    long long fsync_offset;      /* current_size at the last fsync (scheduled) */
    uint64_t flushed_pos;        /* commit position of the last buffer written whole */
    long long flushed_off;       /* the replication stream's offset at that write */
    struct aof_sync_mark synced; /* what the last fsync in the loop (always) covered */
    time_t last_fsync;
    time_t flush_postponed_start;
    unsigned long delayed_fsync;
    int last_write_ok;
    int last_write_errno;

    /* rewrite */
    pid_t child_pid;
    int child_rdb_format;        /* what the child writes: base.rdb or base.aof */
    int rewrite_scheduled;
    time_t rewrite_time_start;
    long long rewrite_time_last; /* seconds, -1 before the first */
    int last_bgrewrite_ok;
    long long rewrites;
    long long rewrites_consecutive_failures;
};

extern struct aof_state aof;

/* aof.c */
void aof_bio_fsync(int fd);
void aof_bio_close(int fd, int fsync_first);
void aof_bio_unlink(const char *path);
unsigned long long aof_bio_pending_fsync(void);
void aof_flush(int force);
int aof_open_new_incr_for_rewrite(void);
void aof_delete_history_files(void);
long long aof_file_size(const char *name);

/* aof_rewrite.c */
int aof_rewrite_background(sstr *err);
void aof_rewrite_reap(void);
void aof_kill_child(void);
/* Write the whole dataset as a base file at path (used in the child, and
 * in the parent for the base created when a server starts empty). */
int aof_write_base(const char *path, int rdb_format, sstr *err);

/* aof_load.c */
/* Load every file of the manifest.  Returns AOF_LOAD_OK, NOT_EXIST (no
 * AOF at all), or FAILED (the caller exits). */
enum aof_load_result aof_load_manifest(struct aof_manifest *am);
/* Old-style single file in the working directory: move it into the AOF
 * directory as the base of a new manifest (Redis 7's upgrade). */
int aof_upgrade_if_needed(struct aof_manifest *am);
void aof_load_serve_clients(int on);
void aof_register_debug(void);

#endif
