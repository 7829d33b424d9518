/* aof_rewrite.c - BGREWRITEAOF: a forked child writes the dataset as a new
 * base file; when it exits, the parent switches the manifest to it.
 *
 * Redis 7.0's scheme, which needs no rewrite buffer: at the moment of the
 * fork the parent starts a new incremental file (and names it in the
 * manifest), so
 *
 *     dataset at fork  = old base + old incremental files
 *                      = what the child writes (the new base)
 *     final dataset    = new base + incremental files from the new one on
 *
 * The child writes a temp file, fsyncs and renames it; the parent then
 * renames it to the next base name and replaces the manifest (temp file,
 * fsync, rename, fsync of the directory).  Until that last rename the old
 * manifest is in force and every file it names is still there (history
 * files are deleted only after the switch), so a crash at any instant of a
 * rewrite restarts from one complete, consistent set of files: nothing is
 * lost, nothing is replayed twice.
 *
 * The base is an RDB snapshot when aof-use-rdb-preamble is yes (through
 * the RDB module), else commands, as Redis's rewriteAppendOnlyFileRio:
 * SET (+PEXPIREAT) for strings, RPUSH in batches of 64 for lists, and for
 * streams XADD/XSETID/XGROUP/XCLAIM (plus Sluice's XCFGSET/XIDMPRECORD).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aof.h"
#include "aof_int.h"
#include "aof_parse.h"
#include "childinfo.h"
#include "db.h"
#include "mem.h"
#include "qlog.h"
#include "server.h"
#include "stream.h"
#include "util.h"

#if __has_include("rdb.h") && !defined(SLUICE_NO_RDB)
#include "rdb.h"
#include "rio.h"
#define HAVE_RDB 1
#else
#define HAVE_RDB 0
#endif

int rdb_child_active(void) __attribute__((weak));

#define ITEMS_PER_CMD 64 /* Redis's AOF_REWRITE_ITEMS_PER_CMD */

/* ---- writing the dataset as commands ---------------------------------------- */

#define WBUF_FLUSH (64 * 1024)
#define WSYNC_EVERY (4 * 1024 * 1024) /* as aof-rewrite-incremental-fsync */

struct dump_ctx {
    int fd;
    struct db *db;
    sstr out;            /* buffered output */
    long long unsynced;  /* bytes written since the last fdatasync */
    int failed;
    sstr err;
};

static int out_flush(struct dump_ctx *x)
{
    size_t off = 0, len = sstr_len(x->out);
    while (off < len) {
        ssize_t n = write(x->fd, x->out + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            x->failed = 1;
            x->err = sstr_catfmt(x->err, "Write error writing append only file on disk: %s",
                                 n < 0 ? strerror(errno) : "short write");
            return -1;
        }
        off += (size_t)n;
    }
    x->unsynced += (long long)len;
    sstr_clear(x->out);
    /* keep the page cache small, so the final fsync has little to do */
    if (x->unsynced >= WSYNC_EVERY) {
        fdatasync(x->fd);
        x->unsynced = 0;
    }
    return 0;
}

static int emit(struct dump_ctx *x, int argc, const struct arg *argv)
{
    x->out = resp_cat_command(x->out, argc, argv);
    if (sstr_len(x->out) >= WBUF_FLUSH)
        return out_flush(x);
    return 0;
}

static void dump_list(struct dump_ctx *x, const char *key, size_t klen, struct value *v)
{
    qlog *log = v->u.ptr;
    struct arg argv[2 + ITEMS_PER_CMD];
    char ints[ITEMS_PER_CMD][QLOG_INT_BUFSIZE];
    qlog_iter it;
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    argv[0] = (struct arg){"RPUSH", 5};
    argv[1] = (struct arg){key, klen};
    while (!x->failed) {
        int n = 0;
        qlog_value e;
        while (n < ITEMS_PER_CMD && qlog_iter_next(&it, &e)) {
            argv[2 + n].ptr = qlog_value_bytes(&e, ints[n], &argv[2 + n].len);
            n++;
        }
        if (n == 0)
            break;
        emit(x, 2 + n, argv);
    }
}

static int fmt_id(char *buf, const streamID *id)
{
    return snprintf(buf, 48, "%llu-%llu", (unsigned long long)id->ms, (unsigned long long)id->seq);
}

struct idmp_ctx {
    struct dump_ctx *x;
    const char *key;
    size_t klen;
};

static void dump_idmp_pair(void *priv, const char *pid, size_t pidlen, const char *iid, size_t iidlen,
                           const streamID *id, long long added_ms)
{
    (void)added_ms;
    struct idmp_ctx *ic = priv;
    char idb[48];
    struct arg argv[5] = {{"XIDMPRECORD", 11}, {ic->key, ic->klen}, {pid, pidlen}, {iid, iidlen},
                          {idb, (size_t)fmt_id(idb, id)}};
    emit(ic->x, 5, argv);
}

/* Redis 7.0's rewriteStreamObject: the entries as XADD with their IDs (an
 * empty stream through the XADD MAXLEN 0 trick), XSETID for the metadata,
 * then per group XGROUP CREATE, and per consumer its pending entries as
 * XCLAIM ... JUSTID FORCE, or XGROUP CREATECONSUMER when it has none.
 * Sluice's idempotent-producer state follows as XCFGSET and XIDMPRECORD
 * (its lifetime counters only survive in an RDB base). */
static void dump_stream(struct dump_ctx *x, const char *key, size_t klen, struct value *v)
{
    stream *s = stream_of(v);
    struct stream_meta m;
    stream_get_meta(s, &m);
    char a[4][48];
    if (m.length) {
        stream_iter si;
        streamID id;
        uint64_t nf;
        struct arg *argv = NULL;
        size_t cap = 0;
        stream_iter_start(&si, s, NULL, NULL, 0);
        while (!x->failed && stream_iter_next(&si, &id, &nf)) {
            if (cap < 3 + 2 * nf) {
                cap = 3 + 2 * nf;
                argv = mem_realloc(argv, sizeof(*argv) * cap);
            }
            argv[0] = (struct arg){"XADD", 4};
            argv[1] = (struct arg){key, klen};
            argv[2] = (struct arg){a[0], (size_t)fmt_id(a[0], &id)};
            for (uint64_t f = 0; f < nf; f++)
                stream_iter_field(&si, &argv[3 + 2 * f].ptr, &argv[3 + 2 * f].len, &argv[4 + 2 * f].ptr,
                                  &argv[4 + 2 * f].len);
            emit(x, (int)(3 + 2 * nf), argv);
        }
        mem_free(argv);
    } else {
        struct arg argv[7] = {{"XADD", 4}, {key, klen}, {"MAXLEN", 6}, {"0", 1}, {"0-1", 3}, {"x", 1}, {"y", 1}};
        emit(x, 7, argv);
    }
    struct arg setid[7] = {{"XSETID", 6},
                           {key, klen},
                           {a[0], (size_t)fmt_id(a[0], &m.last_id)},
                           {"ENTRIESADDED", 12},
                           {a[1], (size_t)ll2string(a[1], 48, (long long)m.entries_added)},
                           {"MAXDELETEDID", 12},
                           {a[2], (size_t)fmt_id(a[2], &m.max_deleted_id)}};
    emit(x, 7, setid);
    for (size_t gi = 0; gi < stream_group_count(s) && !x->failed; gi++) {
        stream_cg *g = stream_group_at(s, gi);
        size_t glen;
        const char *gname = stream_group_name(g, &glen);
        streamID last;
        long long entries_read;
        stream_group_state(g, &last, &entries_read);
        struct arg create[7] = {{"XGROUP", 6},
                                {"CREATE", 6},
                                {key, klen},
                                {gname, glen},
                                {a[0], (size_t)fmt_id(a[0], &last)},
                                {"ENTRIESREAD", 11},
                                {a[1], (size_t)ll2string(a[1], 48, entries_read)}};
        emit(x, 7, create);
        for (size_t ci = 0; ci < stream_consumer_count(g) && !x->failed; ci++) {
            stream_consumer *con = stream_consumer_at(g, ci);
            size_t clen;
            const char *cname = stream_consumer_name(con, &clen);
            if (stream_pel_count(g, con) == 0) {
                struct arg cc[5] = {{"XGROUP", 6}, {"CREATECONSUMER", 14}, {key, klen}, {gname, glen}, {cname, clen}};
                emit(x, 5, cc);
                continue;
            }
            stream_pel_iter pi;
            streamID id;
            long long dtime;
            uint64_t dcount;
            stream_consumer *owner;
            stream_pel_rewind(&pi, g, con);
            while (!x->failed && stream_pel_next(&pi, &id, &dtime, &dcount, &owner)) {
                struct arg claim[12] = {{"XCLAIM", 6},
                                        {key, klen},
                                        {gname, glen},
                                        {cname, clen},
                                        {"0", 1},
                                        {a[0], (size_t)fmt_id(a[0], &id)},
                                        {"TIME", 4},
                                        {a[1], (size_t)ll2string(a[1], 48, dtime)},
                                        {"RETRYCOUNT", 10},
                                        {a[2], (size_t)ll2string(a[2], 48, (long long)dcount)},
                                        {"JUSTID", 6},
                                        {"FORCE", 5}};
                emit(x, 12, claim);
            }
        }
    }
    struct stream_idmp_info info;
    stream_idmp_get_info(s, &info);
    if (info.enabled && !x->failed) {
        struct arg cfg[6] = {{"XCFGSET", 7},
                             {key, klen},
                             {"IDMP-DURATION", 13},
                             {a[0], (size_t)ll2string(a[0], 48, info.duration)},
                             {"IDMP-MAXSIZE", 12},
                             {a[1], (size_t)ll2string(a[1], 48, info.maxsize)}};
        emit(x, 6, cfg);
        struct idmp_ctx ic = {x, key, klen};
        stream_idmp_foreach(s, dump_idmp_pair, &ic);
    }
}

static void dump_key(void *priv, const char *key, size_t klen, struct value *v)
{
    struct dump_ctx *x = priv;
    if (x->failed)
        return;
    char num[32];
    if (v->type == OBJ_STRING) {
        size_t vlen;
        const char *p = value_string_bytes(v, num, &vlen);
        struct arg argv[3] = {{"SET", 3}, {key, klen}, {p, vlen}};
        emit(x, 3, argv);
    } else if (v->type == OBJ_LIST) {
        dump_list(x, key, klen, v);
    } else if (v->type == OBJ_STREAM) {
        dump_stream(x, key, klen, v);
    } else {
        /* a type this writer has no commands for: fail loudly rather than
         * write a base that silently drops the key */
        x->failed = 1;
        x->err = sstr_catfmt(x->err,
                             "AOF rewrite without RDB preamble does not support values of type %s (key '%.*s'): "
                             "set aof-use-rdb-preamble yes",
                             value_type_name(v), (int)(klen > 64 ? 64 : klen), key);
        return;
    }
    long long when = db_get_expire(x->db, key, klen);
    if (when != -1 && !x->failed) {
        int n = ll2string(num, sizeof(num), when);
        struct arg argv[3] = {{"PEXPIREAT", 9}, {key, klen}, {num, (size_t)n}};
        emit(x, 3, argv);
    }
    childinfo_key_saved();
}

static int write_commands(int fd, sstr *err)
{
    struct dump_ctx x = {fd, NULL, sstr_empty(WBUF_FLUSH + 1024), 0, 0, sstr_empty(0)};
    for (int j = 0; j < srv.dbnum && !x.failed; j++) {
        struct db *db = srv.dbs[j];
        if (db_size(db) == 0)
            continue;
        char num[16];
        int n = snprintf(num, sizeof(num), "%d", j);
        struct arg sel[2] = {{"SELECT", 6}, {num, (size_t)n}};
        if (emit(&x, 2, sel) != 0)
            break;
        x.db = db;
        db_foreach(db, dump_key, &x);
    }
    if (!x.failed)
        out_flush(&x);
    int rc = x.failed ? -1 : 0;
    if (x.failed)
        *err = sstr_cat(*err, x.err, sstr_len(x.err));
    sstr_free(x.out);
    sstr_free(x.err);
    return rc;
}

/* Write the dataset to path durably: a temp file beside it, fsync,
 * rename. */
int aof_write_base(const char *path, int rdb_format, sstr *err)
{
    sstr tmp = sstr_catfmt(sstr_empty(64), "%s.tmp-%d", path, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd == -1) {
        *err = sstr_catfmt(*err, "Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): %s",
                           strerror(errno));
        sstr_free(tmp);
        return -1;
    }
    int rc;
#if HAVE_RDB
    if (rdb_format) {
        rio r;
        rio_init_fd(&r, fd);
        rio_set_autosync(&r, WSYNC_EVERY);
        rc = rdb_save_rio(&r, RDB_FLAG_AOF_PREAMBLE, err) == 0 ? 0 : -1;
        if (rc == 0 && !rio_flush(&r)) {
            *err = sstr_catfmt(*err, "Write error writing append only file on disk: %s", rio_error_string(&r));
            rc = -1;
        }
        rio_release(&r);
    } else
#endif
        rc = write_commands(fd, err);
    (void)rdb_format;
    if (rc == 0 && fsync(fd) == -1) {
        *err = sstr_catfmt(*err, "Fail to fsync the rewritten AOF: %s", strerror(errno));
        rc = -1;
    }
    if (close(fd) == -1 && rc == 0) {
        *err = sstr_catfmt(*err, "Error closing the rewritten AOF: %s", strerror(errno));
        rc = -1;
    }
    if (rc == 0 && rename(tmp, path) == -1) {
        *err = sstr_catfmt(*err, "Error moving temp append only file on the final destination: %s",
                           strerror(errno));
        rc = -1;
    }
    if (rc != 0)
        unlink(tmp);
    sstr_free(tmp);
    return rc;
}

/* ---- the child ---------------------------------------------------------------- */

static sstr child_temp_path(pid_t child)
{
    sstr name = sstr_catfmt(sstr_empty(64), "temp-rewriteaof-bg-%d.aof", (int)child);
    sstr path = aof_path(srv.appenddirname, name);
    sstr_free(name);
    return path;
}

static void remove_temp_file(pid_t child)
{
    sstr path = child_temp_path(child);
    unlink(path);
    sstr tmp = sstr_catfmt(sstr_dup(path), ".tmp-%d", (int)child);
    unlink(tmp);
    sstr_free(tmp);
    sstr_free(path);
}

static void __attribute__((noreturn)) child_main(pid_t parent)
{
    /* an orphaned rewrite is useless: die with the parent (a restarted
     * server must not find a stray child holding files or the port) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(1);
    signal(SIGUSR1, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    for (int i = 0; i < srv.listen_count; i++)
        close(srv.listen_fds[i]);
    if (aof.fd != -1)
        close(aof.fd);
    childinfo_after_fork_child(CHILDINFO_AOF);
    sstr path = child_temp_path(getpid());
    sstr err = sstr_empty(0);
    int rc = aof_write_base(path, aof.child_rdb_format, &err);
    if (rc != 0) {
        server_log(LL_WARNING, "Background AOF rewrite failed: %s", err);
    } else {
        server_log(LL_NOTICE, "Successfully created the temporary AOF base file %s", path);
        childinfo_child_done();
    }
    _exit(rc == 0 ? 0 : 1);
}

int aof_rewrite_background(sstr *err)
{
    if (aof.child_pid > 0 || (rdb_child_active && rdb_child_active())) {
        *err = sstr_cats(*err, "a background child is already active");
        return -1;
    }
    if (mkdir(srv.appenddirname, 0755) == -1 && errno != EEXIST) {
        *err = sstr_catfmt(*err, "Can't open or create append-only dir %s: %s", srv.appenddirname, strerror(errno));
        aof.last_bgrewrite_ok = 0;
        return -1;
    }
    /* the new incremental file starts with its own SELECT */
    aof.selected_db = -1;
    aof_flush(1);
    if (aof.state != AOF_OFF && sstr_len(aof.buf)) {
        /* what could not be written (a disk error) belongs before the
         * fork: in the new incremental file it would be replayed twice */
        *err = sstr_cats(*err, "the AOF buffer can't be written (see the AOF write error)");
        aof.last_bgrewrite_ok = 0;
        return -1;
    }
    if (aof_open_new_incr_for_rewrite() != 0) {
        *err = sstr_cats(*err, "can't open a new incremental AOF file");
        aof.last_bgrewrite_ok = 0;
        return -1;
    }
    aof.rewrites++;
    aof.child_rdb_format = srv.aof_use_rdb_preamble && HAVE_RDB;
    pid_t parent = getpid();
    long long keys = 0;
    for (int i = 0; i < srv.dbnum; i++)
        keys += (long long)db_size(srv.dbs[i]);
    childinfo_before_fork(keys);
    pid_t pid = fork();
    if (pid == -1) {
        childinfo_fork_failed();
        aof.last_bgrewrite_ok = 0;
        *err = sstr_catfmt(*err, "Can't rewrite append only file in background: fork: %s", strerror(errno));
        return -1;
    }
    if (pid == 0)
        child_main(parent);
    childinfo_after_fork_parent();
    server_log(LL_NOTICE, "Background append only file rewriting started by pid %ld", (long)pid);
    aof.child_pid = pid;
    aof.rewrite_scheduled = 0;
    aof.rewrite_time_start = time(NULL);
    return 0;
}

/* ---- the parent, when the child is done ----------------------------------------- */

/* Redis's backgroundRewriteDoneHandler. */
static int rewrite_done(void)
{
    int rc = -1;
    sstr tmpfile = child_temp_path(aof.child_pid);
    sstr new_base_path = NULL, new_incr_path = NULL, temp_incr_path = NULL, err = sstr_empty(0);
    struct aof_manifest *temp = aof_manifest_dup(aof.manifest);

    if (aof.state == AOF_WAIT_REWRITE) {
        /* the temp incr file holds everything since the fork: it becomes
         * the first incremental file after the new base */
        sstr temp_name = aof_temp_incr_filename(srv.appendfilename);
        temp_incr_path = aof_path(srv.appenddirname, temp_name);
        sstr_free(temp_name);
        const char *incr = aof_manifest_new_incr(temp, srv.appendfilename);
        new_incr_path = aof_path(srv.appenddirname, incr);
        if (rename(temp_incr_path, new_incr_path) == -1) {
            server_log(LL_WARNING, "Error trying to rename the temporary AOF incr file %s into %s: %s",
                       temp_incr_path, incr, strerror(errno));
            sstr_free(new_incr_path);
            new_incr_path = NULL;
            goto out;
        }
    }
    const char *base = aof_manifest_new_base(temp, srv.appendfilename, aof.child_rdb_format);
    new_base_path = aof_path(srv.appenddirname, base);
    if (rename(tmpfile, new_base_path) == -1) {
        server_log(LL_WARNING, "Error trying to rename the temporary AOF file %s into %s: %s", tmpfile, base,
                   strerror(errno));
        goto undo_incr;
    }
    /* the files before the current one are covered by the new base; with
     * the AOF off there is no current one, so all of them are */
    aof_manifest_incr_to_history(temp, aof.state == AOF_OFF);
    if (aof_manifest_persist(temp, srv.appenddirname, srv.appendfilename, &err) != 0) {
        server_log(LL_WARNING, "%s", err);
        /* the old manifest stays in force: take the new files back out */
        unlink(new_base_path);
        goto undo_incr;
    }
    aof_manifest_free(aof.manifest);
    aof.manifest = temp;
    temp = NULL;
    if (aof.state == AOF_WAIT_REWRITE) {
        aof.state = AOF_ON;
        server_log(LL_NOTICE, "Background AOF rewrite finished successfully");
    }
    aof.base_size = aof_file_size(base);
    aof.current_size = aof.base_size + aof.last_incr_size;
    aof.fsync_offset = aof.current_size;
    aof_delete_history_files();
    server_log(LL_NOTICE, "Background AOF rewrite successfully terminated");
    rc = 0;
    goto out;
undo_incr:
    if (new_incr_path && temp_incr_path)
        rename(new_incr_path, temp_incr_path);
out:
    aof_manifest_free(temp);
    sstr_free(tmpfile);
    sstr_free(new_base_path);
    sstr_free(new_incr_path);
    sstr_free(temp_incr_path);
    sstr_free(err);
    return rc;
}

static void rewrite_finished(int ok)
{
    remove_temp_file(aof.child_pid);
    aof.rewrite_time_last = aof.rewrite_time_start >= 0 ? (long long)(time(NULL) - aof.rewrite_time_start) : -1;
    aof.rewrite_time_start = -1;
    aof.child_pid = -1;
    aof.last_bgrewrite_ok = ok;
    if (ok) {
        aof.rewrites_consecutive_failures = 0;
    } else {
        aof.rewrites_consecutive_failures++;
        /* an AOF being enabled has no base yet: keep trying */
        if (aof.state == AOF_WAIT_REWRITE)
            aof.rewrite_scheduled = 1;
    }
}

void aof_rewrite_reap(void)
{
    childinfo_receive();
    int status;
    pid_t r = waitpid(aof.child_pid, &status, WNOHANG);
    if (r == 0)
        return;
    childinfo_child_reaped(r == aof.child_pid && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (r == -1) {
        server_log(LL_WARNING, "waitpid() on the AOF rewrite child returned an error: %s", strerror(errno));
        rewrite_finished(0);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        rewrite_finished(rewrite_done() == 0);
    } else if (WIFEXITED(status)) {
        server_log(LL_WARNING, "Background AOF rewrite terminated with error");
        rewrite_finished(0);
    } else {
        int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
        server_log(LL_WARNING, "Background AOF rewrite terminated by signal %d", sig);
        /* SIGUSR1 is how the server itself stops a rewrite: not an error */
        int ok = sig == SIGUSR1 ? aof.last_bgrewrite_ok : 0;
        rewrite_finished(ok);
        if (sig == SIGUSR1)
            aof.rewrites_consecutive_failures = 0;
    }
}

void aof_kill_child(void)
{
    if (aof.child_pid <= 0)
        return;
    server_log(LL_NOTICE, "Killing running AOF rewrite child: %ld", (long)aof.child_pid);
    pid_t pid = aof.child_pid;
    kill(pid, SIGUSR1);
    while (waitpid(pid, NULL, 0) == -1 && errno == EINTR) {
    }
    remove_temp_file(pid);
    childinfo_child_reaped(0);
    aof.child_pid = -1;
    aof.rewrite_time_start = -1;
}
