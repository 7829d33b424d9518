/* aof_manifest.h - Redis 7's multi-part AOF layout: file names and the
 * manifest that lists them.
 *
 * The AOF is a directory (appenddirname) holding one base file (an RDB
 * snapshot "<name>.<seq>.base.rdb" or commands "<name>.<seq>.base.aof"),
 * incremental files "<name>.<seq>.incr.aof" in the order they were
 * written, and the manifest "<name>.manifest" with one line per file:
 *
 *     file appendonly.aof.1.base.rdb seq 1 type b
 *     file appendonly.aof.1.incr.aof seq 1 type i
 *
 * (type h marks history files a finished rewrite made obsolete, deleted
 * soon after).  The manifest is the single source of truth: a file not
 * named there is ignored, so a rewrite can prepare files freely and switch
 * by replacing the manifest with rename(2), which is atomic.
 *
 * Standalone (no server state) so the check tool uses it too.
 */
#ifndef SLUICE_AOF_MANIFEST_H
#define SLUICE_AOF_MANIFEST_H

#include "sstr.h"

#define AOF_FILE_BASE 'b'
#define AOF_FILE_HIST 'h'
#define AOF_FILE_INCR 'i'

#define AOF_BASE_SUFFIX ".base"
#define AOF_INCR_SUFFIX ".incr"
#define AOF_RDB_FORMAT_SUFFIX ".rdb"
#define AOF_AOF_FORMAT_SUFFIX ".aof"
#define AOF_MANIFEST_SUFFIX ".manifest"
#define AOF_TEMP_PREFIX "temp-"

struct aof_info {
    sstr name;
    long long seq;
    char type;
};

struct aof_manifest {
    struct aof_info *base;   /* NULL when there is none */
    struct aof_info *incr;   /* in replay order */
    int nincr;
    struct aof_info *hist;
    int nhist;
    long long curr_base_seq, curr_incr_seq;
};

struct aof_manifest *aof_manifest_new(void);
void aof_manifest_free(struct aof_manifest *am);
struct aof_manifest *aof_manifest_dup(const struct aof_manifest *am);

/* Parse manifest text with Redis 7.0's rules and messages.  NULL on error
 * (*err gets the reason). */
struct aof_manifest *aof_manifest_parse(const char *text, size_t len, sstr *err);
/* Read and parse a manifest file.  NULL on error; *missing is set when
 * the file does not exist (then *err is untouched). */
struct aof_manifest *aof_manifest_load(const char *path, int *missing, sstr *err);
sstr aof_manifest_format(const struct aof_manifest *am);
/* Write the manifest of `dir` for appendfilename `name` durably: a temp
 * file, fsync, rename over the manifest, fsync of the directory.  0 or -1
 * (*err gets why). */
int aof_manifest_persist(const struct aof_manifest *am, const char *dir, const char *name, sstr *err);

/* Names. "<name>.manifest", "temp-<name>.incr" (the incremental file of an
 * AOF being enabled, before its first base exists). */
sstr aof_manifest_filename(const char *name);
sstr aof_temp_incr_filename(const char *name);
/* dir + "/" + file */
sstr aof_path(const char *dir, const char *file);

/* A new base (seq+1, .rdb or .aof): the previous base becomes history.
 * Returns the new name (owned by the manifest). */
const char *aof_manifest_new_base(struct aof_manifest *am, const char *name, int rdb_format);
/* A new incremental file appended to the list.  Returns its name. */
const char *aof_manifest_new_incr(struct aof_manifest *am, const char *name);
/* After a rewrite: every incremental file but the last one (every one
 * when `all`) is covered by the new base and becomes history. */
void aof_manifest_incr_to_history(struct aof_manifest *am, int all);
/* Add an existing file (the temp incr of a just-enabled AOF) as the next
 * incremental file under `as`. */
void aof_manifest_add_incr(struct aof_manifest *am, const char *as, long long seq);
void aof_manifest_clear_history(struct aof_manifest *am);

#endif
