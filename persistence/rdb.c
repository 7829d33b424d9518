/* rdb.c - RDB snapshots in the server: SAVE/BGSAVE machinery, save points,
 * loading at startup, shutdown and FLUSHALL hooks, INFO fields.  The
 * format itself is in rdb_codec.c / rdb_parse.c / rdb_stream.c.
 *
 * What a file holds, in order (Redis 7.0's rdbSaveRio): "REDIS0010"; aux
 * fields redis-ver (the Redis version Sluice matches), redis-bits, ctime,
 * used-mem, aof-base (1 for an AOF base, else 0), sluice-ver; then per
 * non-empty database SELECTDB and RESIZEDB, and each key with
 * EXPIRETIME_MS when it has a TTL (and IDLE under an LRU maxmemory policy, FREQ under an LFU one,
 * as Redis); EOF and the CRC-64 (0 with rdbchecksum no).
 *
 * Saving (rdb_save) writes "temp-<pid>.rdb" next to the target, fsyncs it,
 * renames it over the target and fsyncs the directory, so a crash at any
 * moment leaves either the old file or the new one, never a torn one.
 * BGSAVE forks a child that does the same; the child dies with its parent
 * (PR_SET_PDEATHSIG): an orphan could otherwise rename an old snapshot
 * over a newer one written by a restarted server.  The cron reaps it with
 * waitpid(WNOHANG) on its pid only (the AOF module reaps its own child).
 *
 * Loading parses into scratch databases and moves them into the keyspace
 * only when the whole file was read and checked, so a bad file loads
 * nothing.  Every 2 MB the loader serves clients (they get -LOADING), as
 * Redis's processEventsWhileBlocked, except when the load runs inside a
 * command (DEBUG RELOAD), where the event loop must not be re-entered.
 */
#include "rdb.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "childinfo.h"
#include "config.h"
#include "db.h"
#include "hooks.h"
#include "introspection.h"
#include "mem.h"
#include "rdb_format.h"
#include "rio.h"
#include "server.h"
#include "util.h"

/* The AOF module's hooks, weak so that this module links without it. */
int aof_child_active(void) __attribute__((weak));
void aof_start_scheduled_rewrite(void) __attribute__((weak));
void loading_start(long long total_bytes) __attribute__((weak));
void loading_progress(long long loaded_bytes) __attribute__((weak));
void loading_end(void) __attribute__((weak));

static struct {
    int initialized;
    time_t lastsave;          /* last successful save (LASTSAVE) */
    time_t lastbgsave_try;
    int lastbgsave_ok;
    pid_t child_pid;          /* -1: none */
    time_t child_start;
    int child_to_fd;          /* the child writes to a pipe (diskless sync), not a file */
    rdb_child_done_fn *child_done_cb; /* a full sync waits for this child */
    long long dirty_before_bgsave;
    long long last_bgsave_time; /* seconds the last BGSAVE took, -1 */
    int bgsave_scheduled;
    long long saves;
    long long keys_loaded, keys_expired;
} rdb = {.child_pid = -1, .lastbgsave_ok = 1, .last_bgsave_time = -1};

/* The BGSAVE outcome MISCONF reads: a failure arms the core's write
 * refusal hook (hooks.h), a success disarms it. */
static void set_lastbgsave_ok(int ok)
{
    rdb.lastbgsave_ok = ok;
    hooks_arm_write_refusal(rdb_bgsave_error, !ok);
}

static void init_once(void);

static sstr *err_target(sstr *err, sstr *local)
{
    if (err) {
        if (!*err)
            *err = sstr_empty(64);
        return err;
    }
    *local = sstr_empty(64);
    return local;
}

/* ---- writing ---------------------------------------------------------------- */

struct save_ctx {
    rio *r;
    struct db *db;
    struct rdb_save_opts o;
    int save_lru, save_lfu;
    int failed;
    sstr why;
};

static void save_key(void *priv, const char *key, size_t len, struct value *v)
{
    struct save_ctx *x = priv;
    if (x->failed)
        return;
    if (srv.rdb_key_save_delay)
        debug_delay(srv.rdb_key_save_delay);
    int type = rdb_value_type(v);
    if (type < 0) {
        x->failed = 1;
        x->why = sstr_catfmt(sstr_empty(64), "a value of type %s can't be saved", value_type_name(v));
        return;
    }
    long long expire = db_get_expire(x->db, key, len);
    if (expire != -1 && (rdb_save_type(x->r, RDB_OPCODE_EXPIRETIME_MS) || rdb_save_ms_time(x->r, expire)))
        goto werr;
    if (x->save_lru && (rdb_save_type(x->r, RDB_OPCODE_IDLE) || rdb_save_len(x->r, (uint64_t)value_idle_ms(v) / 1000)))
        goto werr;
    if (x->save_lfu) {
        unsigned char freq = (unsigned char)value_lfu_freq(v);
        if (rdb_save_type(x->r, RDB_OPCODE_FREQ) || !rio_write(x->r, &freq, 1))
            goto werr;
    }
    if (rdb_save_type(x->r, type) || rdb_save_raw_string(x->r, key, len, x->o.compress) ||
        rdb_save_value(x->r, v, &x->o))
        goto werr;
    childinfo_key_saved();
    if (v->type == OBJ_STREAM) {
        sstr blob = rdb_stream_idmp_blob(x->db->id, key, len, v);
        if (blob) {
            int rc = rdb_save_aux(x->r, RDB_AUX_IDMP, blob, sstr_len(blob));
            sstr_free(blob);
            if (rc)
                goto werr;
        }
    }
    return;
werr:
    x->failed = 1;
}

void rdb_server_save_opts(struct rdb_save_opts *o)
{
    o->compress = srv.rdbcompression;
    o->list_fill = srv.list_max_listpack_size;
    o->stream_node_max_bytes = srv.stream_node_max_bytes;
    o->stream_node_max_entries = srv.stream_node_max_entries;
}

static rdb_repl_get_fn *repl_get;
static rdb_repl_loaded_fn *repl_loaded;

void rdb_on_repl_info(rdb_repl_get_fn *get, rdb_repl_loaded_fn *loaded)
{
    repl_get = get;
    repl_loaded = loaded;
}

/* Redis's rdbSaveInfoAuxFields places them after used-mem */
static int save_repl_aux(rio *r, int flags)
{
    struct rdb_repl_info ri;
    if ((flags & RDB_FLAG_AOF_PREAMBLE) || !repl_get || !repl_get(&ri))
        return 0;
    return rdb_save_aux_ll(r, "repl-stream-db", ri.stream_db) || rdb_save_aux(r, "repl-id", ri.id, strlen(ri.id)) ||
           rdb_save_aux_ll(r, "repl-offset", ri.offset);
}

int rdb_save_rio(struct rio *r, int flags, sstr *err)
{
    sstr local = NULL, *e = err_target(err, &local);
    struct save_ctx x = {r,    NULL, {0}, (srv.maxmemory_policy & MAXMEMORY_FLAG_LRU) != 0,
                         (srv.maxmemory_policy & MAXMEMORY_FLAG_LFU) != 0, 0, NULL};
    rdb_server_save_opts(&x.o);
    char magic[16];
    snprintf(magic, sizeof(magic), "REDIS%04d", RDB_VERSION);
    if (srv.rdbchecksum)
        rio_checksum_start(r);
    if (!rio_write(r, magic, 9) || rdb_save_aux(r, "redis-ver", REDIS_COMPAT_VERSION, strlen(REDIS_COMPAT_VERSION)) ||
        rdb_save_aux_ll(r, "redis-bits", (long long)sizeof(void *) * 8) || rdb_save_aux_ll(r, "ctime", (long long)time(NULL)) ||
        rdb_save_aux_ll(r, "used-mem", (long long)mem_used()) || save_repl_aux(r, flags) ||
        rdb_save_aux_ll(r, "aof-base", (flags & RDB_FLAG_AOF_PREAMBLE) ? 1 : 0) ||
        rdb_save_aux(r, "sluice-ver", SLUICE_VERSION, strlen(SLUICE_VERSION)))
        goto werr;
    for (int i = 0; i < srv.dbnum; i++) {
        struct db *db = srv.dbs[i];
        if (db_size(db) == 0)
            continue;
        if (rdb_save_type(r, RDB_OPCODE_SELECTDB) || rdb_save_len(r, (uint64_t)i) ||
            rdb_save_type(r, RDB_OPCODE_RESIZEDB) || rdb_save_len(r, db->keys) || rdb_save_len(r, db->volatile_keys))
            goto werr;
        x.db = db;
        db_foreach(db, save_key, &x);
        if (x.failed)
            goto werr;
    }
    if (rdb_save_type(r, RDB_OPCODE_EOF))
        goto werr;
    /* the checksum covers everything before it; 0 means "not computed" */
    uint64_t crc = srv.rdbchecksum ? r->cksum : 0;
    rio_checksum_stop(r);
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(crc >> (8 * i));
    if (!rio_write(r, b, 8))
        goto werr;
    sstr_free(local);
    return 0;
werr:
    rio_checksum_stop(r);
    *e = sstr_catfmt(*e, "%s", x.why ? x.why : rio_error_string(r));
    sstr_free(x.why);
    sstr_free(local);
    return -1;
}

/* The directory part of path ("." when none), for the temp file and the
 * directory fsync. */
static sstr dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash)
        return sstr_from(".");
    if (slash == path)
        return sstr_from("/");
    return sstr_new(path, (size_t)(slash - path));
}

static sstr temp_path(const char *path, pid_t pid)
{
    sstr dir = dir_of(path);
    sstr t = sstr_catfmt(sstr_empty(64), "%s/temp-%d.rdb", dir, (int)pid);
    sstr_free(dir);
    return t;
}

static void fsync_dir(const char *path)
{
    sstr dir = dir_of(path);
    int fd = open(dir, O_RDONLY);
    if (fd != -1) {
        fsync(fd);
        close(fd);
    }
    sstr_free(dir);
}

int rdb_save(const char *path, sstr *err)
{
    sstr local = NULL, *e = err_target(err, &local);
    char cwd[PATH_MAX];
    rdb.saves++; /* rdb_saves counts SAVE too (and BGSAVE in the parent) */
    sstr tmp = temp_path(path, getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd == -1) {
        *e = sstr_catfmt(*e, "Failed opening the temp RDB file %s (in server root dir %s) for saving: %s", tmp,
                         getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
        server_log(LL_WARNING, "%s", *e);
        sstr_free(tmp);
        sstr_free(local);
        return -1;
    }
    rio r;
    rio_init_fd(&r, fd);
    /* rdb-save-incremental-fsync: don't let the page cache pile up 32 MB */
    rio_set_autosync(&r, 32 * 1024 * 1024);
    sstr werr = sstr_empty(0);
    int rc = rdb_save_rio(&r, 0, &werr);
    if (rc == 0 && !rio_fsync(&r)) {
        werr = sstr_cats(werr, rio_error_string(&r));
        rc = -1;
    }
    rio_release(&r);
    if (close(fd) != 0 && rc == 0) {
        werr = sstr_cats(werr, strerror(errno));
        rc = -1;
    }
    if (rc != 0) {
        *e = sstr_catfmt(*e, "Write error saving DB on disk: %s", werr);
        server_log(LL_WARNING, "%s", *e);
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, path) == -1) {
        *e = sstr_catfmt(*e, "Error moving temp DB file %s on the final destination %s (in server root dir %s): %s", tmp,
                         path, getcwd(cwd, sizeof(cwd)) ? cwd : "unknown", strerror(errno));
        server_log(LL_WARNING, "%s", *e);
        unlink(tmp);
        rc = -1;
        goto out;
    }
    fsync_dir(path);
    server_log(LL_NOTICE, "DB saved on disk");
    srv.dirty = 0;
    rdb.lastsave = time(NULL);
    set_lastbgsave_ok(1);
out:
    sstr_free(werr);
    sstr_free(tmp);
    sstr_free(local);
    return rc;
}

/* ---- BGSAVE ---------------------------------------------------------------------- */

int rdb_child_active(void) { return rdb.child_pid > 0; }
pid_t rdb_child_pid(void) { return rdb.child_pid; }

static int other_child_active(void) { return aof_child_active && aof_child_active(); }
int rdb_any_child_active(void) { return rdb_child_active() || other_child_active(); }

/* The child.  fd < 0: write dbfilename the safe way (BGSAVE, a disk-backed
 * full sync); else write the bare RDB stream to fd, a pipe whose other end
 * the parent relays to replicas (a diskless full sync). */
static void __attribute__((noreturn)) child_main(pid_t parent, int fd)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    prctl(PR_SET_NAME, fd < 0 ? "sluice-rdb-bgsave" : "sluice-rdb-to-replicas");
    signal(SIGUSR1, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    for (int i = 0; i < srv.listen_count; i++)
        close(srv.listen_fds[i]);
    childinfo_after_fork_child(CHILDINFO_RDB);
    sstr err = sstr_empty(0);
    int rc;
    if (fd < 0) {
        rc = rdb_save(srv.dbfilename, &err);
    } else {
        rio r;
        rio_init_fd(&r, fd);
        rc = rdb_save_rio(&r, 0, &err) == 0 && rio_flush(&r) ? 0 : -1;
        if (rc != 0)
            server_log(LL_WARNING, "Diskless RDB transfer failed: %s", err[0] ? err : rio_error_string(&r));
        rio_release(&r);
        close(fd);
    }
    sstr_free(err);
    if (rc == 0)
        childinfo_child_done();
    /* _exit: no atexit handlers, no stdio buffers of the parent flushed twice */
    _exit(rc == 0 ? 0 : 1);
}

static int fork_child(int fd, rdb_child_done_fn *done, sstr *err)
{
    sstr local = NULL, *e = err_target(err, &local);
    init_once();
    if (rdb_child_active() || other_child_active()) {
        *e = sstr_cats(*e, "a background child is already active");
        sstr_free(local);
        return -1;
    }
    if (fd < 0) {
        rdb.saves++;
        rdb.dirty_before_bgsave = srv.dirty;
        rdb.lastbgsave_try = time(NULL);
    }
    long long keys = 0;
    for (int i = 0; i < srv.dbnum; i++)
        keys += (long long)db_size(srv.dbs[i]);
    pid_t parent = getpid();
    fflush(stdout);
    childinfo_before_fork(keys);
    pid_t pid = fork();
    if (pid == 0)
        child_main(parent, fd);
    if (pid == -1) {
        childinfo_fork_failed();
        if (fd < 0)
            set_lastbgsave_ok(0);
        *e = sstr_catfmt(*e, "Can't save in background: fork: %s", strerror(errno));
        server_log(LL_WARNING, "%s", *e);
        sstr_free(local);
        return -1;
    }
    childinfo_after_fork_parent();
    if (fd < 0)
        server_log(LL_NOTICE, "Background saving started by pid %ld", (long)pid);
    else
        server_log(LL_NOTICE, "Background RDB transfer started by pid %ld", (long)pid);
    rdb.child_pid = pid;
    rdb.child_start = time(NULL);
    rdb.child_to_fd = fd >= 0;
    rdb.child_done_cb = done;
    sstr_free(local);
    return 0;
}

int rdb_bgsave(sstr *err) { return fork_child(-1, NULL, err); }

int rdb_bgsave_for_sync(int fd, rdb_child_done_fn *done, sstr *err) { return fork_child(fd, done, err); }

void rdb_schedule_bgsave(void) { rdb.bgsave_scheduled = 1; }

int rdb_bgsave_error(sstr *msg)
{
    if (rdb.lastbgsave_ok || !srv.stop_writes_on_bgsave_err || srv.save_params_count == 0)
        return 0;
    if (msg)
        *msg = sstr_cats(*msg, "-MISCONF Sluice is configured to save RDB snapshots, but it's currently unable to "
                               "persist to disk. Commands that may modify the data set are disabled, because this "
                               "instance is configured to report errors during writes if RDB snapshotting fails "
                               "(stop-writes-on-bgsave-error option). Please check the Sluice logs for details "
                               "about the RDB error.");
    return 1;
}

static void remove_temp_file(pid_t child)
{
    sstr tmp = temp_path(srv.dbfilename, child);
    unlink(tmp);
    sstr_free(tmp);
}

void rdb_kill_child(void)
{
    if (rdb.child_pid <= 0)
        return;
    kill(rdb.child_pid, SIGUSR1);
    /* wait for it here (it dies at once): the temp file can then go, and
     * the next save can't race with a dying child's rename */
    int status;
    while (waitpid(rdb.child_pid, &status, 0) == -1 && errno == EINTR) {
    }
    if (!rdb.child_to_fd)
        remove_temp_file(rdb.child_pid);
    childinfo_child_reaped(0);
    rdb.child_pid = -1;
    rdb.last_bgsave_time = time(NULL) - rdb.child_start;
    rdb_child_done_fn *done = rdb.child_done_cb;
    rdb.child_done_cb = NULL;
    if (done)
        done(0);
}

/* Redis's backgroundSaveDoneHandlerDisk and ...Socket: a transfer to
 * replicas is no save (LASTSAVE, the dirty counter and MISCONF stay). */
static void child_done(int exitcode, int bysignal)
{
    int ok = !bysignal && exitcode == 0;
    childinfo_child_reaped(ok);
    if (rdb.child_to_fd) {
        if (ok)
            server_log(LL_NOTICE, "Background RDB transfer terminated with success");
        else if (!bysignal)
            server_log(LL_WARNING, "Background transfer error");
        else
            server_log(LL_WARNING, "Background transfer terminated by signal %d", bysignal);
    } else if (ok) {
        server_log(LL_NOTICE, "Background saving terminated with success");
        srv.dirty -= rdb.dirty_before_bgsave;
        rdb.lastsave = time(NULL);
        set_lastbgsave_ok(1);
    } else if (!bysignal) {
        server_log(LL_WARNING, "Background saving error");
        set_lastbgsave_ok(0);
    } else {
        server_log(LL_WARNING, "Background saving terminated by signal %d", bysignal);
        remove_temp_file(rdb.child_pid);
        /* SIGUSR1 is how we kill it on purpose: not an error */
        if (bysignal != SIGUSR1)
            set_lastbgsave_ok(0);
    }
    rdb.child_pid = -1;
    rdb.last_bgsave_time = time(NULL) - rdb.child_start;
    rdb_child_done_fn *done = rdb.child_done_cb;
    rdb.child_done_cb = NULL;
    if (done)
        done(ok);
    if (aof_start_scheduled_rewrite)
        aof_start_scheduled_rewrite();
}

void rdb_reap_child_now(void)
{
    if (rdb.child_pid <= 0)
        return;
    int status;
    pid_t r;
    while ((r = waitpid(rdb.child_pid, &status, 0)) == -1 && errno == EINTR) {
    }
    if (r == rdb.child_pid)
        child_done(WIFEXITED(status) ? WEXITSTATUS(status) : 0, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    else
        child_done(1, 0);
}

void rdb_cron(void)
{
    init_once();
    if (rdb.child_pid > 0) {
        childinfo_receive();
        int status;
        pid_t r = waitpid(rdb.child_pid, &status, WNOHANG);
        if (r == rdb.child_pid) {
            child_done(WIFEXITED(status) ? WEXITSTATUS(status) : 0, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        } else if (r == -1 && errno == ECHILD) {
            server_log(LL_WARNING, "The BGSAVE child %ld vanished", (long)rdb.child_pid);
            child_done(1, 0);
        }
    }
    if (srv.loading || rdb_child_active() || other_child_active())
        return;
    time_t now = time(NULL);
    int may_retry = now - rdb.lastbgsave_try > CONFIG_BGSAVE_RETRY_DELAY || rdb.lastbgsave_ok;
    for (int j = 0; j < srv.save_params_count; j++) {
        long long seconds = srv.save_params[j][0], changes = srv.save_params[j][1];
        /* as Redis: enough changes, strictly more seconds than configured
         * since the last save, and not right after a failed attempt */
        if (srv.dirty >= changes && now - rdb.lastsave > seconds && may_retry) {
            server_log(LL_NOTICE, "%lld changes in %lld seconds. Saving...", changes, seconds);
            rdb_bgsave(NULL);
            return;
        }
    }
    if (rdb.bgsave_scheduled && may_retry) {
        if (rdb_bgsave(NULL) == 0)
            rdb.bgsave_scheduled = 0;
    }
}

/* ---- loading ------------------------------------------------------------------------ */

struct load_ctx {
    struct db **scratch;
    int merge;
    struct rdb_repl_info repl; /* the repl-* aux fields (have: a bit each) */
    int repl_have;
};

static sstr quote_key(const char *key, size_t len)
{
    sstr s = sstr_cats(sstr_empty(len + 8), "'");
    for (size_t i = 0; i < len && i < 128; i++)
        s = (unsigned char)key[i] >= 32 && (unsigned char)key[i] < 127 ? sstr_cat(s, &key[i], 1)
                                                                      : sstr_catfmt(s, "\\x%02x", (unsigned char)key[i]);
    return sstr_cats(s, "'");
}

static int sink_add(void *priv, int dbid, const char *key, size_t len, struct value *v, long long expire, sstr *err)
{
    struct load_ctx *x = priv;
    struct db *db = x->scratch[dbid];
    if (db_peek(db, key, len)) {
        value_free(v);
        sstr q = quote_key(key, len);
        *err = sstr_catfmt(sstr_empty(64), "RDB has duplicated key %s in DB %d", q, dbid);
        sstr_free(q);
        return -1;
    }
    db_add(db, key, len, v);
    if (srv.key_load_delay)
        debug_delay(srv.key_load_delay);
    if (expire != -1)
        db_set_expire(db, key, len, expire);
    return 0;
}

static struct value *sink_lookup(void *priv, int dbid, const char *key, size_t len)
{
    struct load_ctx *x = priv;
    return db_peek(x->scratch[dbid], key, len);
}

static void sink_aux(void *priv, const char *k, size_t kl, const char *v, size_t vl, uint64_t off)
{
    struct load_ctx *x = priv;
    (void)off;
    if (kl == 14 && !memcmp(k, "repl-stream-db", 14)) {
        x->repl.stream_db = (int)strtol(v, NULL, 10);
        x->repl_have |= 1;
    } else if (kl == 7 && !memcmp(k, "repl-id", 7)) {
        if (vl == 40) {
            memcpy(x->repl.id, v, 40);
            x->repl.id[40] = '\0';
            x->repl_have |= 2;
        }
    } else if (kl == 11 && !memcmp(k, "repl-offset", 11)) {
        x->repl.offset = strtoll(v, NULL, 10);
        x->repl_have |= 4;
    } else if (kl == 9 && !memcmp(k, "redis-ver", 9)) {
        server_log(LL_NOTICE, "Loading RDB produced by version %s", v);
    } else if (kl == 5 && !memcmp(k, "ctime", 5)) {
        long long age = (long long)time(NULL) - strtoll(v, NULL, 10);
        server_log(LL_NOTICE, "RDB age %lld seconds", age < 0 ? 0 : age);
    } else if (kl == 8 && !memcmp(k, "used-mem", 8)) {
        server_log(LL_NOTICE, "RDB memory usage when created %.2f Mb", (double)strtoll(v, NULL, 10) / (1024 * 1024));
    } else if (kl == 8 && !memcmp(k, "aof-base", 8)) {
        if (strtoll(v, NULL, 10))
            server_log(LL_NOTICE, "RDB is base AOF");
    } else if (kl > 0 && k[0] == '%') {
        server_log(LL_NOTICE, "RDB '%s': %s", k, v);
    }
}

/* Serve clients while a big file loads (they get -LOADING; INFO works),
 * unless the load runs inside a command. */
static void load_progress(rio *r, void *priv)
{
    long long base = priv ? *(long long *)priv : 0;
    if (loading_progress)
        loading_progress(base + (long long)rio_tell(r));
    if (srv.current_client || !srv.base)
        return;
    server_process_events_while_blocked();
}

struct move_ctx {
    struct db *from, *to;
    int merge;
    int dup;
    sstr err;
};

static void check_dup(void *priv, const char *key, size_t len, struct value *v)
{
    struct move_ctx *m = priv;
    (void)v;
    if (!m->dup && db_peek(m->to, key, len)) {
        m->dup = 1;
        sstr q = quote_key(key, len);
        m->err = sstr_catfmt(sstr_empty(64), "RDB has key %s in DB %d, which already exists", q, m->to->id);
        sstr_free(q);
    }
}

static void move_key(void *priv, const char *key, size_t len, struct value *v)
{
    struct move_ctx *m = priv;
    (void)v;
    long long expire = db_get_expire(m->from, key, len);
    struct value *val = db_take(m->from, key, len);
    db_delete(m->to, key, len);
    db_add(m->to, key, len, val);
    if (expire != -1)
        db_set_expire(m->to, key, len, expire);
}

/* Parse r into scratch databases; when it all went well, move them into
 * the keyspace (a swap when the target is empty, as at startup).
 * replace (a replica's async load): the keyspace goes on serving while r
 * is parsed, so srv.loading stays off and only the scratch dbs are marked
 * loading; on success every db is replaced by what was loaded, on failure
 * the keyspace is as it was. */
static int load_into_keyspace(rio *r, const char *name, int merge, int replace, long long base_offset, sstr *e)
{
    init_once();
    struct load_ctx x = {mem_calloc(sizeof(struct db *) * (size_t)srv.dbnum), merge};
    for (int i = 0; i < srv.dbnum; i++) {
        x.scratch[i] = db_create(i);
        x.scratch[i]->loading = 1;
    }
    struct rdb_load_opts o = {name, srv.dbnum, srv.list_max_listpack_size, srv.rdbchecksum, mstime(), srv.masterhost != NULL,
                              (srv.maxmemory_policy & MAXMEMORY_FLAG_LFU) != 0};
    struct rdb_sink sink = {sink_add, sink_lookup, sink_aux, NULL, &x};
    struct rdb_load_stats st;
    sstr perr = NULL;
    int was_loading = srv.loading;
    if (!replace)
        srv.loading = 1; /* nothing else runs meanwhile (clients get -LOADING) */
    rio_set_progress(r, RDB_LOADING_EVENTS_INTERVAL, load_progress, &base_offset);
    int rc = rdb_parse(r, &o, &sink, &st, &perr);
    rio_set_progress(r, 0, NULL, NULL);
    if (rc != 0) {
        *e = sstr_catfmt(*e, "%s", perr);
        sstr_free(perr);
    }
    for (int i = 0; rc == 0 && !merge && !replace && i < srv.dbnum; i++) {
        if (db_size(srv.dbs[i]) && db_size(x.scratch[i])) {
            struct move_ctx m = {x.scratch[i], srv.dbs[i], merge, 0, NULL};
            db_foreach(x.scratch[i], check_dup, &m);
            if (m.dup) {
                *e = sstr_catfmt(*e, "%s (%s)", m.err, name);
                sstr_free(m.err);
                rc = -1;
            }
        }
    }
    if (rc == 0) {
        for (int i = 0; i < srv.dbnum; i++) {
            if (replace) {
                x.scratch[i]->loading = 0;
                db_empty(srv.dbs[i]);
                db_swap(srv.dbs[i], x.scratch[i]);
                continue;
            }
            if (!db_size(x.scratch[i]))
                continue;
            if (!db_size(srv.dbs[i])) {
                db_swap(srv.dbs[i], x.scratch[i]);
            } else {
                struct move_ctx m = {x.scratch[i], srv.dbs[i], merge, 0, NULL};
                db_foreach(x.scratch[i], move_key, &m);
            }
        }
        rdb.keys_loaded = st.keys_loaded;
        rdb.keys_expired = st.keys_expired;
        if (x.repl_have == 7 && repl_loaded)
            repl_loaded(&x.repl);
        if (st.empty_skipped)
            server_log(LL_WARNING, "Done loading RDB, keys loaded: %lld, keys expired: %lld, empty keys skipped: %lld.",
                       st.keys_loaded, st.keys_expired, st.empty_skipped);
        else
            server_log(LL_NOTICE, "Done loading RDB, keys loaded: %lld, keys expired: %lld.", st.keys_loaded,
                       st.keys_expired);
    }
    srv.loading = was_loading;
    for (int i = 0; i < srv.dbnum; i++)
        db_free(x.scratch[i]);
    mem_free(x.scratch);
    return rc;
}

int rdb_load_rio(struct rio *r, sstr *err)
{
    sstr local = NULL, *e = err_target(err, &local);
    int rc = load_into_keyspace(r, "RDB data", 0, 0, 0, e);
    sstr_free(local);
    return rc;
}

int rdb_load_rio_replacing(struct rio *r, sstr *err)
{
    sstr local = NULL, *e = err_target(err, &local);
    int rc = load_into_keyspace(r, "RDB data", 0, 1, 0, e);
    sstr_free(local);
    return rc;
}

static int load_file(const char *path, int merge, sstr *err)
{
    sstr local = NULL, *e = err_target(err, &local);
    int fd = open(path, O_RDONLY);
    if (fd == -1) {
        int en = errno;
        sstr_free(local);
        if (en == ENOENT)
            return RDB_LOAD_NOT_FOUND;
        *e = sstr_catfmt(*e, "Can't open the RDB file %s: %s", path, strerror(en));
        return -1;
    }
    struct stat st;
    long long size = fstat(fd, &st) == 0 ? (long long)st.st_size : 0;
    int was_loading = srv.loading;
    if (!was_loading) {
        if (loading_start)
            loading_start(size);
        srv.loading = 1;
    }
    rio r;
    rio_init_fd(&r, fd);
    int rc = load_into_keyspace(&r, path, merge, 0, 0, e);
    rio_release(&r);
    close(fd);
    if (!was_loading) {
        if (loading_end)
            loading_end();
        srv.loading = 0;
    }
    sstr_free(local);
    return rc;
}

int rdb_load(const char *path, sstr *err) { return load_file(path, 0, err); }

void rdb_startup(void)
{
    init_once();
    if (srv.appendonly)
        return; /* the AOF module loads the dataset */
    long long start = ustime();
    sstr err = sstr_empty(0);
    int rc = rdb_load(srv.dbfilename, &err);
    if (rc == 0) {
        server_log(LL_NOTICE, "DB loaded from disk: %.3f seconds", (double)(ustime() - start) / 1e6);
    } else if (rc != RDB_LOAD_NOT_FOUND) {
        char cwd[PATH_MAX];
        server_log(LL_WARNING, "Fatal error loading the DB from %s/%s: %s. Exiting.",
                   getcwd(cwd, sizeof(cwd)) ? cwd : ".", srv.dbfilename, err);
        exit(1);
    }
    sstr_free(err);
}

/* ---- shutdown, FLUSHALL -------------------------------------------------------------- */

int rdb_prepare_shutdown(int flags)
{
    init_once();
    if (rdb.child_pid > 0) {
        server_log(LL_WARNING, "There is a child saving an .rdb. Killing it!");
        rdb_kill_child();
    }
    if (srv.loading)
        return 0; /* never overwrite a good file with a partly loaded dataset */
    if ((srv.save_params_count > 0 && !(flags & SHUTDOWN_NOSAVE)) || (flags & SHUTDOWN_SAVE)) {
        server_log(LL_NOTICE, "Saving the final RDB snapshot before exiting.");
        sstr err = sstr_empty(0);
        int rc = rdb_save(srv.dbfilename, &err);
        sstr_free(err);
        if (rc != 0) {
            if (flags & SHUTDOWN_FORCE) {
                server_log(LL_WARNING, "Error trying to save the DB. Exit anyway.");
            } else {
                server_log(LL_WARNING, "Error trying to save the DB, can't exit.");
                return -1;
            }
        }
    }
    return 0;
}

void rdb_after_flushall(void)
{
    init_once();
    if (rdb.child_pid > 0)
        rdb_kill_child();
    if (srv.save_params_count > 0) {
        /* the save resets the dirty counter; keep it, so the FLUSHALL still
         * counts as a write (propagation, the next save point) */
        long long dirty = srv.dirty;
        rdb_save(srv.dbfilename, NULL);
        srv.dirty = dirty;
    }
}

/* ---- INFO, LASTSAVE ------------------------------------------------------------------ */

long long rdb_last_save_time(void)
{
    init_once();
    return (long long)rdb.lastsave;
}

void rdb_info_get(struct rdb_info *info)
{
    init_once();
    info->loading = srv.loading != 0;
    info->changes_since_last_save = srv.dirty;
    info->bgsave_in_progress = rdb.child_pid > 0;
    info->last_save_time = rdb.lastsave;
    info->last_bgsave_ok = rdb.lastbgsave_ok;
    info->last_bgsave_time_sec = rdb.last_bgsave_time;
    info->current_bgsave_time_sec = rdb.child_pid > 0 ? (long long)(time(NULL) - rdb.child_start) : -1;
    info->saves = rdb.saves;
    info->last_load_keys_loaded = rdb.keys_loaded;
    info->last_load_keys_expired = rdb.keys_expired;
}

void rdb_info_append(sstr *out)
{
    struct rdb_info i;
    rdb_info_get(&i);
    struct childinfo_stats ci;
    childinfo_stats(&ci);
    *out = sstr_catfmt(*out,
                       "loading:%d\r\n"
                       "async_loading:%d\r\n"
                       "current_cow_peak:%zu\r\n"
                       "current_cow_size:%zu\r\n"
                       "current_cow_size_age:%lld\r\n"
                       "current_fork_perc:%.2f\r\n"
                       "current_save_keys_processed:%lld\r\n"
                       "current_save_keys_total:%lld\r\n"
                       "rdb_changes_since_last_save:%lld\r\n"
                       "rdb_bgsave_in_progress:%d\r\n"
                       "rdb_last_save_time:%lld\r\n"
                       "rdb_last_bgsave_status:%s\r\n"
                       "rdb_last_bgsave_time_sec:%lld\r\n"
                       "rdb_current_bgsave_time_sec:%lld\r\n"
                       "rdb_saves:%lld\r\n"
                       "rdb_last_cow_size:%zu\r\n"
                       "rdb_last_load_keys_expired:%lld\r\n"
                       "rdb_last_load_keys_loaded:%lld\r\n",
                       i.loading, srv.async_loading, ci.current_cow_peak, ci.current_cow_size, ci.current_cow_size_age,
                       ci.current_fork_perc, ci.current_save_keys_processed, ci.current_save_keys_total,
                       i.changes_since_last_save, i.bgsave_in_progress, i.last_save_time, i.last_bgsave_ok ? "ok" : "err", i.last_bgsave_time_sec,
                       i.current_bgsave_time_sec, i.saves, ci.rdb_last_cow_size, i.last_load_keys_expired,
                       i.last_load_keys_loaded);
}

/* ---- DEBUG RELOAD, DEBUG OBJECT serializedlength --------------------------------------- */

static size_t serialized_length(const struct value *v)
{
    rio r;
    struct rdb_save_opts o;
    rdb_server_save_opts(&o);
    rio_init_null(&r);
    rdb_save_value(&r, v, &o);
    return (size_t)rio_tell(&r);
}

/* DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load again. */
static void debug_reload(struct client *c)
{
    int merge = 0, noflush = 0, nosave = 0;
    for (int j = 2; j < c->argc; j++) {
        if (arg_is(&c->argv[j], "merge"))
            merge = 1;
        else if (arg_is(&c->argv[j], "noflush"))
            noflush = 1;
        else if (arg_is(&c->argv[j], "nosave"))
            nosave = 1;
        else {
            reply_error(c, "DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
            return;
        }
    }
    if (srv.loading || rdb_child_active()) {
        reply_error(c, "DEBUG RELOAD is not possible while loading or saving");
        return;
    }
    if (!nosave && rdb_save(srv.dbfilename, NULL) != 0) {
        reply_error(c, "Error trying to save the DB");
        return;
    }
    if (!noflush) {
        for (int i = 0; i < srv.dbnum; i++) {
            watch_touch_db(srv.dbs[i], NULL);
            db_empty(srv.dbs[i]);
        }
    }
    sstr err = sstr_empty(0);
    int rc = load_file(srv.dbfilename, merge, &err);
    if (rc != 0) {
        server_log(LL_WARNING, "DEBUG RELOAD failed: %s", err);
        sstr_free(err);
        reply_error(c, "Error trying to load the RDB dump, check server logs.");
        return;
    }
    sstr_free(err);
    server_log(LL_NOTICE, "DB reloaded by DEBUG RELOAD");
    reply_ok(c);
}

static const char *const reload_help[] = {
    "RELOAD [option ...]",
    "    Save the RDB on disk and reload it back to memory. Available <option> values:",
    "    * MERGE: conflicting keys will be loaded from RDB.",
    "    * NOFLUSH: the existing database will not be removed before load, but",
    "      conflicting keys will generate an exception and kill the server.",
    "    * NOSAVE: the database will be loaded from an existing RDB file.",
    "    Examples:",
    "    * DEBUG RELOAD: verify that the server is able to persist, flush and reload",
    "      the database.",
    "    * DEBUG RELOAD NOSAVE: replace the current database with the contents of an",
    "      existing RDB file.",
    "    * DEBUG RELOAD NOSAVE NOFLUSH MERGE: add the contents of an existing RDB",
    "      file to the database.",
    NULL,
};

static void init_once(void)
{
    if (rdb.initialized)
        return;
    rdb.initialized = 1;
    /* as Redis: at startup the dataset counts as saved */
    rdb.lastsave = time(NULL);
    debug_register_subcommand("reload", 2, -1, debug_reload, reload_help);
    debug_set_serialized_length(serialized_length);
}

/* ---- the core's hooks ------------------------------------------------------------------- */

static void rdb_on_flush(int dbid)
{
    if (dbid < 0)
        rdb_after_flushall(); /* FLUSHDB leaves the snapshot alone, as Redis */
}

void rdb_register_hooks(void)
{
    hooks_on_cron(rdb_cron);
    hooks_on_shutdown(rdb_prepare_shutdown);
    hooks_on_write_refusal(10, rdb_bgsave_error);
    hooks_on_flush(rdb_on_flush);
    hooks_on_info("Persistence", 10, rdb_info_append);
}
