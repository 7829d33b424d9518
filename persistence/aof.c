/* aof.c - the append-only file: recording, writing, fsync policies, the
 * AOF's life cycle (startup, CONFIG SET appendonly, shutdown), the
 * BGREWRITEAOF command and INFO.  The rewrite child lives in
 * aof_rewrite.c, replay in aof_load.c; aof.h says how the server calls in.
 *
 * Durability, per appendfsync:
 *  - always: everything recorded during an event-loop iteration is written
 *    with one write() and made durable with one fdatasync() before any
 *    reply of that iteration is written (the AOF is a condition of the
 *    core's commit gate: its advance runs right before the loop writes
 *    replies, and the gate holds any reply whose write is not yet
 *    covered).  So a client never sees a reply, or data, that a
 *    crash could take back: group commit, as every client of the
 *    iteration shares the fsync.
 *  - everysec: writes as above, fsync once a second in the background
 *    thread; if that fsync is still running, writing is postponed up to 2
 *    seconds (aof_flush_postponed_start), then done anyway and counted in
 *    aof_delayed_fsync: Redis's trade-off, so a slow disk does not stall
 *    the loop on write() behind the fsync.
 *  - no: write only; the kernel decides when.
 *
 * The background thread (a minimal "bio") runs fsync, close and unlink
 * jobs in order, so closing an old incremental file after its last fsync
 * never blocks the loop and never overtakes that fsync.
 */
#include "aof.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof_int.h"
#include "aof_parse.h"
#include "childinfo.h"
#include "commands.h"
#include "commit_gate.h"
#include "config.h"
#include "digest.h"
#include "hooks.h"
#include "introspection.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "util.h"

/* The RDB module's child, when there is one: weak so this module links
 * (and simply sees no RDB child) in builds without persistence/rdb.c. */
int rdb_child_active(void) __attribute__((weak));

struct aof_state aof = {.fd = -1, .selected_db = -1, .rewrite_time_last = -1, .last_write_ok = 1,
                        .last_bgrewrite_ok = 1, .rewrite_time_start = -1};

#define AOF_WRITE_LOG_ERROR_RATE 30 /* seconds between two logs of the same write error */
#define AOF_BUF_KEEP 4000           /* keep a buffer this small between iterations */

static int other_child_active(void) { return rdb_child_active && rdb_child_active(); }

/* ---- the background thread ------------------------------------------------ */

enum bio_kind { BIO_FSYNC, BIO_CLOSE, BIO_FSYNC_CLOSE, BIO_UNLINK };

struct bio_job {
    enum bio_kind kind;
    int fd;
    char *path;
    struct aof_sync_mark mark; /* an fsync's: what the file holds once it is done */
    struct bio_job *next;
};

static pthread_mutex_t bio_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t bio_cv = PTHREAD_COND_INITIALIZER;
static struct bio_job *bio_head, *bio_tail;
/* Finished jobs, freed by the main thread: the background thread never
 * calls the allocator, so a fork() can never catch it holding an allocator
 * lock (jemalloc and glibc lock around fork; ASan's allocator does not, and
 * a rewrite child forked while this thread freed a job hung in free()). */
static struct bio_job *bio_done;
static unsigned long long bio_fsync_pending; /* fsync jobs queued or running */
/* the mark of the last background fsync completed (under bio_mu) */
static struct aof_sync_mark bio_synced;

/* Marks only grow, in both parts (a replica's stream offset can move while
 * its commit position does not, and a master's the other way round). */
static int mark_after(struct aof_sync_mark a, struct aof_sync_mark b)
{
    return a.pos > b.pos || (a.pos == b.pos && a.off > b.off);
}
static int bio_started;
/* DEBUG AOF-FSYNC-STALL ms (Sluice only, for tests): the next background
 * fsync sleeps this long first, as on a stalled disk */
static int bio_stall_ms;
/* DEBUG AOF-WRITE-DEFER ms (Sluice only, for tests): until this time the
 * loop's flush leaves the buffer unwritten, as a disk refusing writes would
 * (EAGAIN), so the commit gate must hold the replies that depend on it */
static long long write_defer_until_ms;

static void *bio_main(void *arg)
{
    (void)arg;
    sigset_t set;
    sigfillset(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* signals are the loop's business */
    pthread_mutex_lock(&bio_mu);
    for (;;) {
        while (!bio_head)
            pthread_cond_wait(&bio_cv, &bio_mu);
        struct bio_job *j = bio_head;
        pthread_mutex_unlock(&bio_mu);
        /* the job stays at the head while it runs, so "pending" covers a
         * running fsync too (what aof_pending_bio_fsync reports) */
        if (j->kind == BIO_FSYNC || j->kind == BIO_FSYNC_CLOSE) {
            int stall = __atomic_exchange_n(&bio_stall_ms, 0, __ATOMIC_SEQ_CST);
            if (stall > 0)
                usleep((useconds_t)stall * 1000);
            if (fdatasync(j->fd) == -1 && errno != EBADF && errno != EINVAL)
                fprintf(stderr, "sluice: background AOF fsync: %s\n", strerror(errno));
        }
        if (j->kind == BIO_CLOSE || j->kind == BIO_FSYNC_CLOSE)
            close(j->fd);
        if (j->kind == BIO_UNLINK)
            unlink(j->path);
        pthread_mutex_lock(&bio_mu);
        bio_head = j->next;
        if (!bio_head)
            bio_tail = NULL;
        if (j->kind == BIO_FSYNC || j->kind == BIO_FSYNC_CLOSE) {
            bio_fsync_pending--;
            if (mark_after(j->mark, bio_synced))
                bio_synced = j->mark;
        }
        j->next = bio_done;
        bio_done = j;
    }
    return NULL;
}

static void bio_free_done(void)
{
    pthread_mutex_lock(&bio_mu);
    struct bio_job *j = bio_done;
    bio_done = NULL;
    pthread_mutex_unlock(&bio_mu);
    while (j) {
        struct bio_job *next = j->next;
        free(j->path);
        free(j);
        j = next;
    }
}

/* At startup, so that the thread's own creation (which allocates) is long
 * over when the first child is forked. */
static void bio_start(void)
{
    if (bio_started)
        return;
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, bio_main, NULL) != 0)
        server_panic("can't create the AOF background thread: %s", strerror(errno));
    pthread_attr_destroy(&attr);
    bio_started = 1;
}

static void bio_submit(enum bio_kind kind, int fd, const char *path, struct aof_sync_mark mark)
{
    bio_start();
    bio_free_done();
    struct bio_job *j = calloc(1, sizeof(*j));
    if (!j)
        server_panic("out of memory queueing an AOF background job");
    j->kind = kind;
    j->fd = fd;
    j->path = path ? strdup(path) : NULL;
    j->mark = mark;
    pthread_mutex_lock(&bio_mu);
    if (bio_tail)
        bio_tail->next = j;
    else
        bio_head = j;
    bio_tail = j;
    if (kind == BIO_FSYNC || kind == BIO_FSYNC_CLOSE)
        bio_fsync_pending++;
    pthread_cond_signal(&bio_cv);
    pthread_mutex_unlock(&bio_mu);
}

static const struct aof_sync_mark no_mark;

/* What an fsync issued now makes durable: everything written so far. */
static struct aof_sync_mark written_mark(void) { return (struct aof_sync_mark){aof.flushed_pos, aof.flushed_off}; }

void aof_bio_fsync(int fd) { bio_submit(BIO_FSYNC, fd, NULL, written_mark()); }
void aof_bio_close(int fd, int fsync_first)
{
    bio_submit(fsync_first ? BIO_FSYNC_CLOSE : BIO_CLOSE, fd, NULL, fsync_first ? written_mark() : no_mark);
}
void aof_bio_unlink(const char *path) { bio_submit(BIO_UNLINK, -1, path, no_mark); }

/* ---- what the disk has (WAITAOF) ----------------------------------------- */

static long long (*stream_offset_fn)(void);

void aof_on_stream_offset(long long (*fn)(void)) { stream_offset_fn = fn; }

int aof_synced(struct aof_sync_mark *out)
{
    /* while being enabled, the file is not yet a whole copy (Redis keeps
     * fsynced_reploff at -1 until the first rewrite is done) */
    if (aof.state != AOF_ON)
        return 0;
    pthread_mutex_lock(&bio_mu);
    struct aof_sync_mark bg = bio_synced;
    pthread_mutex_unlock(&bio_mu);
    *out = mark_after(bg, aof.synced) ? bg : aof.synced;
    return 1;
}

unsigned long long aof_bio_pending_fsync(void)
{
    pthread_mutex_lock(&bio_mu);
    unsigned long long n = bio_fsync_pending;
    pthread_mutex_unlock(&bio_mu);
    return n;
}

/* ---- recording ------------------------------------------------------------ */

/* The propagation feed: every write, after it ran, in replayable form. */
/* Being enabled, the AOF records only once its first rewrite forked:
 * what was written before is in that child's snapshot (Redis's rule).
 * A replay (DEBUG LOADAOF) must not record itself again. */
static int aof_wants_feed(void *priv)
{
    (void)priv;
    return !(aof.state == AOF_OFF || (aof.state == AOF_WAIT_REWRITE && aof.child_pid <= 0) || srv.loading);
}

static void aof_feed(void *priv, int dbid, int argc, const struct arg *argv)
{
    (void)priv;
    if (dbid != aof.selected_db) {
        aof.buf = resp_cat_select(aof.buf, dbid);
        aof.selected_db = dbid;
    }
    aof.buf = resp_cat_command(aof.buf, argc, argv);
}

static int feed_registered;

static void feed_on(void)
{
    if (!feed_registered) {
        propagate_register(aof_feed, aof_wants_feed, NULL);
        feed_registered = 1;
    }
}

static void feed_off(void)
{
    if (feed_registered) {
        propagate_unregister(aof_feed, NULL);
        feed_registered = 0;
    }
}

/* ---- writing and fsync ---------------------------------------------------- */

static ssize_t write_all(int fd, const char *p, size_t len)
{
    ssize_t total = 0;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return total ? total : -1;
        }
        len -= (size_t)n;
        p += n;
        total += n;
    }
    return total;
}

/* A failed write arms the core's write refusal hook (MISCONF), a good one
 * disarms it. */
static void set_last_write_ok(int ok)
{
    aof.last_write_ok = ok;
    hooks_arm_write_refusal(aof_write_error, !ok);
}

/* Redis's flushAppendOnlyFile: force skips the everysec postponing (used
 * before switching files and at shutdown). */
void aof_flush(int force)
{
    int sync_in_progress = 0;
    if (aof.fd == -1)
        return;
    if (sstr_len(aof.buf) == 0) {
        /* nothing new, but an everysec fsync may still be owed for what
         * was written since the last one */
        if (srv.appendfsync == AOF_FSYNC_EVERYSEC && aof.fsync_offset != aof.current_size &&
            srv.unixtime > aof.last_fsync && !aof_bio_pending_fsync())
            goto try_fsync;
        /* with always, writes left unsynced while a child ran
         * (no-appendfsync-on-rewrite) are synced as soon as it is gone,
         * not at the next write */
        if (srv.appendfsync == AOF_FSYNC_ALWAYS && aof.fsync_offset != aof.current_size)
            goto try_fsync;
        /* everything is on disk: the stream may still have moved on (a
         * master's PINGs, a write not recorded here), and WAITAOF must
         * not wait for that (Redis 7.2 does the same) */
        if (srv.appendfsync != AOF_FSYNC_NO && aof.fsync_offset == aof.current_size) {
            struct aof_sync_mark now = {commit_gate_position(), stream_offset_fn ? stream_offset_fn() : 0};
            if (mark_after(now, aof.synced) && !aof_bio_pending_fsync())
                aof.synced = now;
        }
        return;
    }
    if (!force && write_defer_until_ms && mstime() < write_defer_until_ms)
        return;
    if (srv.appendfsync == AOF_FSYNC_EVERYSEC)
        sync_in_progress = aof_bio_pending_fsync() != 0;
    if (srv.appendfsync == AOF_FSYNC_EVERYSEC && !force && sync_in_progress) {
        /* write() would wait behind the running fsync on most file
         * systems: postpone up to 2 seconds */
        if (aof.flush_postponed_start == 0) {
            aof.flush_postponed_start = srv.unixtime;
            return;
        } else if (srv.unixtime - aof.flush_postponed_start < 2) {
            return;
        }
        aof.delayed_fsync++;
        server_log(LL_NOTICE, "Asynchronous AOF fsync is taking too long (disk is busy?). Writing the AOF buffer "
                              "without waiting for fsync to complete, this may slow down Sluice.");
    }
    ssize_t n = write_all(aof.fd, aof.buf, sstr_len(aof.buf));
    aof.flush_postponed_start = 0;
    if (n != (ssize_t)sstr_len(aof.buf)) {
        static time_t last_log;
        int can_log = srv.unixtime - last_log > AOF_WRITE_LOG_ERROR_RATE;
        if (can_log)
            last_log = srv.unixtime;
        if (n == -1) {
            if (can_log)
                server_log(LL_WARNING, "Error writing to the AOF file: %s", strerror(errno));
            aof.last_write_errno = errno;
        } else {
            if (can_log)
                server_log(LL_WARNING, "Short write while writing to the AOF file: (nwritten=%lld, expected=%lld)",
                           (long long)n, (long long)sstr_len(aof.buf));
            /* take the partial command back out, or the file would hold a
             * torn command in the middle once the rest is written */
            if (ftruncate(aof.fd, aof.last_incr_size) == -1) {
                if (can_log)
                    server_log(LL_WARNING, "Could not remove short write from the append-only file. Sluice may "
                                           "refuse to load the AOF the next time it starts. ftruncate: %s",
                               strerror(errno));
            } else {
                n = -1;
            }
            aof.last_write_errno = ENOSPC;
        }
        if (srv.appendfsync == AOF_FSYNC_ALWAYS) {
            /* replies may already be promised for this data (the held
             * replies are not, but reads in the same iteration saw it):
             * the contract cannot be kept, so stop */
            server_log(LL_WARNING,
                       "Can't recover from AOF write error when the AOF fsync policy is 'always'. Exiting...");
            exit(1);
        }
        set_last_write_ok(0);
        if (n > 0) {
            aof.current_size += n;
            aof.last_incr_size += n;
            sstr_consume(aof.buf, (size_t)n);
        }
        return; /* retried from the cron */
    }
    if (!aof.last_write_ok) {
        server_log(LL_WARNING, "AOF write error looks solved, Sluice can write again.");
        set_last_write_ok(1);
    }
    aof.current_size += n;
    aof.last_incr_size += n;
    aof.flushed_pos = commit_gate_position(); /* (fsynced below under always, or the process exits) */
    aof.flushed_off = stream_offset_fn ? stream_offset_fn() : 0;
    if (sstr_cap(aof.buf) <= AOF_BUF_KEEP) {
        sstr_clear(aof.buf);
    } else {
        sstr_free(aof.buf);
        aof.buf = sstr_empty(0);
    }
try_fsync:
    /* no-appendfsync-on-rewrite: the user chose latency over durability
     * while a child's writes load the disk; the fsync owed comes with the
     * first flush after the child */
    if (srv.no_appendfsync_on_rewrite && (aof.child_pid > 0 || other_child_active()))
        return;
    if (srv.appendfsync == AOF_FSYNC_ALWAYS) {
        if (fdatasync(aof.fd) == -1) {
            server_log(LL_WARNING,
                       "Can't persist AOF for fsync error when the AOF fsync policy is 'always': %s. Exiting...",
                       strerror(errno));
            exit(1);
        }
        aof.fsync_offset = aof.current_size;
        aof.last_fsync = srv.unixtime;
        aof.synced = written_mark();
    } else if (srv.appendfsync == AOF_FSYNC_EVERYSEC && srv.unixtime > aof.last_fsync) {
        if (!sync_in_progress) {
            aof_bio_fsync(aof.fd);
            aof.fsync_offset = aof.current_size;
        }
        aof.last_fsync = srv.unixtime;
    }
}

/* The commit gate's condition (commit_gate.h).  advance: once per loop
 * iteration, one write() of everything the iteration recorded and, with
 * always, one fdatasync() (group commit).  durable: under always, a
 * reply waits while its write is still in the buffer; once the buffer
 * is written (and synced), everything emitted so far is covered. */
static void aof_gate_advance(void)
{
    if (aof.state != AOF_OFF && !srv.loading)
        aof_flush(0);
}

static commit_pos aof_gate_durable(void)
{
    if (aof.state == AOF_OFF || srv.appendfsync != AOF_FSYNC_ALWAYS)
        return COMMIT_POS_MAX;
    if (aof.buf && sstr_len(aof.buf) > 0)
        return aof.flushed_pos;
    return commit_gate_position();
}

static const struct commit_condition aof_condition = {"aof", COMMIT_LEVEL_LOCAL, aof_gate_advance, aof_gate_durable};

int aof_write_error(sstr *msg)
{
    if (aof.state == AOF_OFF || aof.last_write_ok)
        return 0;
    if (msg)
        *msg = sstr_catfmt(*msg, "-MISCONF Errors writing to the AOF file: %s", strerror(aof.last_write_errno));
    return 1;
}

/* ---- files ---------------------------------------------------------------- */

long long aof_file_size(const char *name)
{
    sstr path = aof_path(srv.appenddirname, name);
    struct stat st;
    long long size = stat(path, &st) == 0 ? (long long)st.st_size : 0;
    sstr_free(path);
    return size;
}

static int dir_create_if_missing(const char *dir)
{
    if (mkdir(dir, 0755) == -1 && errno != EEXIST)
        return -1;
    return 0;
}

/* At the start of a rewrite: the data recorded from now on goes to a new
 * incremental file, so the child's snapshot (taken at fork, right after)
 * plus the files from this one on are the whole dataset.  The manifest
 * names the new file before anything is written to it. */
int aof_open_new_incr_for_rewrite(void)
{
    if (aof.state == AOF_OFF)
        return 0;
    struct aof_manifest *temp = NULL;
    sstr name;
    if (aof.state == AOF_WAIT_REWRITE) {
        /* no base yet: collect in the temp incr file, named in no manifest */
        name = aof_temp_incr_filename(srv.appendfilename);
    } else {
        temp = aof_manifest_dup(aof.manifest);
        name = sstr_from(aof_manifest_new_incr(temp, srv.appendfilename));
    }
    sstr path = aof_path(srv.appenddirname, name);
    int fd = open(path, O_WRONLY | O_TRUNC | O_CREAT | O_APPEND, 0644);
    if (fd == -1) {
        server_log(LL_WARNING, "Can't open the append-only file %s: %s", name, strerror(errno));
        goto fail;
    }
    if (temp) {
        sstr err = sstr_empty(0);
        if (aof_manifest_persist(temp, srv.appenddirname, srv.appendfilename, &err) != 0) {
            server_log(LL_WARNING, "%s", err);
            sstr_free(err);
            close(fd);
            unlink(path);
            goto fail;
        }
        sstr_free(err);
    }
    server_log(LL_NOTICE, "Creating AOF incr file %s on background rewrite", name);
    if (aof.fd != -1) {
        /* everysec: the last fsync of the old file may be pending; the
         * close is queued behind it.  always: already synced. */
        aof_bio_close(aof.fd, srv.appendfsync != AOF_FSYNC_NO);
        aof.fsync_offset = aof.current_size;
        aof.last_fsync = srv.unixtime;
    }
    aof.fd = fd;
    aof.last_incr_size = 0;
    if (temp) {
        aof_manifest_free(aof.manifest);
        aof.manifest = temp;
    }
    sstr_free(name);
    sstr_free(path);
    return 0;
fail:
    aof_manifest_free(temp);
    sstr_free(name);
    sstr_free(path);
    return -1;
}

void aof_delete_history_files(void)
{
    if (!aof.manifest || aof.manifest->nhist == 0)
        return;
    for (int i = 0; i < aof.manifest->nhist; i++) {
        server_log(LL_NOTICE, "Removing the history file %s in the background", aof.manifest->hist[i].name);
        sstr path = aof_path(srv.appenddirname, aof.manifest->hist[i].name);
        aof_bio_unlink(path);
        sstr_free(path);
    }
    aof_manifest_clear_history(aof.manifest);
    /* best effort: a manifest still listing deleted history files is
     * harmless, history is never loaded */
    sstr err = sstr_empty(0);
    if (aof_manifest_persist(aof.manifest, srv.appenddirname, srv.appendfilename, &err) != 0)
        server_log(LL_WARNING, "%s", err);
    sstr_free(err);
}

/* ---- startup ---------------------------------------------------------------- */

static void load_manifest_or_exit(void)
{
    aof.manifest = NULL;
    struct stat st;
    if (stat(srv.appenddirname, &st) == 0 && S_ISDIR(st.st_mode)) {
        sstr mname = aof_manifest_filename(srv.appendfilename);
        sstr mpath = aof_path(srv.appenddirname, mname);
        sstr err = sstr_empty(0);
        int missing;
        aof.manifest = aof_manifest_load(mpath, &missing, &err);
        if (!aof.manifest && !missing) {
            server_log(LL_WARNING, "%s", err);
            exit(1);
        }
        sstr_free(err);
        sstr_free(mname);
        sstr_free(mpath);
    }
    if (!aof.manifest)
        aof.manifest = aof_manifest_new();
}

/* Redis's aofOpenIfNeededOnServerStart: an empty AOF gets a base file (so
 * the directory always has one), then the last incremental file is opened
 * for appending and the manifest written. */
static void open_on_startup(void)
{
    if (dir_create_if_missing(srv.appenddirname) == -1) {
        server_log(LL_WARNING, "Can't open or create append-only dir %s: %s", srv.appenddirname, strerror(errno));
        exit(1);
    }
    if (!aof.manifest->base && aof.manifest->nincr == 0) {
        const char *base = aof_manifest_new_base(aof.manifest, srv.appendfilename, srv.aof_use_rdb_preamble);
        sstr path = aof_path(srv.appenddirname, base);
        sstr err = sstr_empty(0);
        if (aof_write_base(path, srv.aof_use_rdb_preamble, &err) != 0) {
            server_log(LL_WARNING, "%s", err);
            exit(1);
        }
        sstr_free(err);
        sstr_free(path);
        server_log(LL_NOTICE, "Creating AOF base file %s on server start", base);
        aof.base_size = aof_file_size(base);
        aof.current_size += aof.base_size;
    }
    const char *incr = aof.manifest->nincr ? aof.manifest->incr[aof.manifest->nincr - 1].name
                                           : aof_manifest_new_incr(aof.manifest, srv.appendfilename);
    sstr path = aof_path(srv.appenddirname, incr);
    aof.fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);
    if (aof.fd == -1) {
        server_log(LL_WARNING, "Can't open the append-only file %s: %s", incr, strerror(errno));
        exit(1);
    }
    sstr_free(path);
    sstr err = sstr_empty(0);
    if (aof_manifest_persist(aof.manifest, srv.appenddirname, srv.appendfilename, &err) != 0) {
        server_log(LL_WARNING, "Can't persist the AOF manifest: %s", err);
        exit(1);
    }
    sstr_free(err);
    aof.last_incr_size = aof_file_size(incr);
    aof.fsync_offset = aof.current_size;
}

/* DEBUG AOF-FSYNC-STALL <ms>: a Sluice-only test hook (Redis has no such
 * subcommand) that makes the next background fsync take ms longer, so a
 * test can watch everysec's postponement rule without a slow disk. */
static void debug_aof_fsync_stall(struct client *c)
{
    long long ms;
    if (!string2ll(c->argv[2].ptr, c->argv[2].len, &ms) || ms < 0 || ms > 60000) {
        reply_error(c, "ERR stall must be 0..60000 milliseconds");
        return;
    }
    __atomic_store_n(&bio_stall_ms, (int)ms, __ATOMIC_SEQ_CST);
    reply_ok(c);
}

/* DEBUG AOF-WRITE-DEFER <ms>: Sluice only, for tests of the commit gate:
 * for ms the loop's flush does not write the AOF buffer. */
static void debug_aof_write_defer(struct client *c)
{
    long long ms;
    if (!string2ll(c->argv[2].ptr, c->argv[2].len, &ms) || ms < 0 || ms > 60000) {
        reply_error(c, "ERR defer must be 0..60000 milliseconds");
        return;
    }
    write_defer_until_ms = ms ? mstime() + ms : 0;
    reply_ok(c);
}

void aof_startup(void)
{
    static const char *const stall_help[] = {
        "AOF-FSYNC-STALL <ms>",
        "    Sluice only: the next background AOF fsync first sleeps <ms> (a stalled disk, for tests).",
        NULL,
    };
    static const char *const defer_help[] = {
        "AOF-WRITE-DEFER <ms>",
        "    Sluice only: for <ms> the AOF buffer is not written (a disk refusing writes, for tests).",
        NULL,
    };
    aof.buf = sstr_empty(0);
    bio_start();
    aof_register_debug();
    debug_register_subcommand("aof-fsync-stall", 3, 3, debug_aof_fsync_stall, stall_help);
    debug_register_subcommand("aof-write-defer", 3, 3, debug_aof_write_defer, defer_help);
    digest_register_debug();
    load_manifest_or_exit();
    if (!srv.appendonly) {
        aof.state = AOF_OFF;
        return;
    }
    aof.state = AOF_ON;
    aof_upgrade_if_needed(aof.manifest);
    long long start = ustime();
    aof_load_serve_clients(1);
    enum aof_load_result r = aof_load_manifest(aof.manifest);
    aof_load_serve_clients(0);
    if (r == AOF_LOAD_FAILED || r == AOF_LOAD_OPEN_ERR)
        exit(1);
    if (r != AOF_LOAD_NOT_EXIST)
        server_log(LL_NOTICE, "DB loaded from append only file: %.3f seconds", (double)(ustime() - start) / 1e6);
    open_on_startup();
    aof_delete_history_files();
    aof.selected_db = -1;
    aof.last_fsync = srv.unixtime;
    feed_on();
}

/* ---- enabling and disabling at runtime ------------------------------------- */

/* Redis's startAppendOnly: the AOF starts with a rewrite, recording into
 * the temp incr file meanwhile; it is ON once the first base exists. */
static int start_append_only(void)
{
    if (dir_create_if_missing(srv.appenddirname) == -1) {
        server_log(LL_WARNING, "Can't open or create append-only dir %s: %s", srv.appenddirname, strerror(errno));
        return -1;
    }
    aof.state = AOF_WAIT_REWRITE;
    aof.selected_db = -1;
    if (other_child_active()) {
        aof.rewrite_scheduled = 1;
        server_log(LL_WARNING, "AOF was enabled but there is already another background operation. An AOF "
                               "background was scheduled to start when possible.");
    } else {
        if (aof.child_pid > 0) {
            server_log(LL_WARNING, "AOF was enabled but there is already an AOF rewriting in background. "
                                   "Stopping background AOF and starting a rewrite now.");
            aof_kill_child();
        }
        sstr err = sstr_empty(0);
        if (aof_rewrite_background(&err) != 0) {
            server_log(LL_WARNING, "Sluice needs to enable the AOF but can't trigger a background AOF rewrite "
                                   "operation. Check the above logs for more info about the error. %s",
                       err);
            sstr_free(err);
            aof.state = AOF_OFF;
            return -1;
        }
        sstr_free(err);
    }
    aof.last_fsync = srv.unixtime;
    feed_on();
    return 0;
}

/* Redis's stopAppendOnly: make what was written durable, close, and kill
 * a rewrite in progress. */
static void stop_append_only(void)
{
    aof_flush(1);
    if (aof.fd != -1) {
        if (fdatasync(aof.fd) == -1)
            server_log(LL_WARNING, "Fail to fsync the AOF file: %s", strerror(errno));
        close(aof.fd);
        aof.fd = -1;
    }
    aof.fsync_offset = aof.current_size;
    aof.last_fsync = srv.unixtime;
    aof.state = AOF_OFF;
    aof.rewrite_scheduled = 0;
    if (aof.child_pid > 0)
        aof_kill_child();
    sstr_clear(aof.buf);
    feed_off();
}

void aof_stop_for_sync(void)
{
    if (aof.state != AOF_OFF)
        stop_append_only();
}

void aof_restart_after_sync(void)
{
    if (srv.appendonly && aof.state == AOF_OFF && start_append_only() != 0)
        server_log(LL_WARNING, "Failed enabling the AOF after successful master synchronization!");
}

int aof_apply_appendonly(const char **err)
{
    if (srv.appendonly && aof.state == AOF_OFF) {
        if (start_append_only() != 0) {
            *err = "Unable to turn on AOF. Check server logs.";
            return -1;
        }
    } else if (!srv.appendonly && aof.state != AOF_OFF) {
        stop_append_only();
    }
    return 0;
}

int aof_apply_appendfsync(const char **err)
{
    (void)err;
    /* switching to always: what was written under the old policy gets its
     * fsync now, so "always" holds from this command on */
    if (aof.state != AOF_OFF && srv.appendfsync == AOF_FSYNC_ALWAYS && aof.fd != -1) {
        aof_flush(1);
        fdatasync(aof.fd);
        aof.fsync_offset = aof.current_size;
    }
    return 0;
}

/* ---- cron, shutdown ---------------------------------------------------------- */

/* Redis's aofRewriteLimited: after 3 failures in a row, automatic rewrites
 * back off (1 minute, doubling up to an hour) instead of piling up
 * incremental files while, say, the disk is full. */
static int rewrite_limited(void)
{
    static time_t next_allowed;
    static long long delay_min = 1;
    if (aof.rewrites_consecutive_failures < 3) {
        next_allowed = 0;
        delay_min = 1;
        return 0;
    }
    if (next_allowed == 0) {
        next_allowed = srv.unixtime + delay_min * 60;
        if (delay_min < 60)
            delay_min *= 2;
        server_log(LL_WARNING, "Background AOF rewrite has repeatedly failed and triggered the limit, will retry in "
                               "%lld minutes",
                   (long long)(next_allowed - srv.unixtime + 59) / 60);
        return 1;
    }
    if (srv.unixtime < next_allowed)
        return 1;
    next_allowed = 0;
    return 0;
}

void aof_start_scheduled_rewrite(void)
{
    if (!aof.rewrite_scheduled || aof.child_pid > 0 || other_child_active() || srv.loading)
        return;
    if (aof.state == AOF_ON && rewrite_limited())
        return;
    sstr err = sstr_empty(0);
    if (aof_rewrite_background(&err) == 0)
        aof.rewrite_scheduled = 0;
    else
        server_log(LL_WARNING, "Scheduled AOF rewrite failed to start: %s", err);
    sstr_free(err);
}

void aof_cron(void)
{
    bio_free_done();
    static long long last_error_retry;
    if (srv.loading)
        return;
    if (aof.child_pid > 0)
        aof_rewrite_reap();
    aof_start_scheduled_rewrite();
    if (aof.state == AOF_ON && aof.child_pid <= 0 && !other_child_active() && srv.auto_aof_rewrite_perc &&
        aof.current_size > srv.auto_aof_rewrite_min_size) {
        long long base = aof.base_size ? aof.base_size : 1;
        long long growth = aof.current_size * 100 / base - 100;
        if (growth >= srv.auto_aof_rewrite_perc && !rewrite_limited()) {
            server_log(LL_NOTICE, "Starting automatic rewriting of AOF on %lld%% growth", growth);
            sstr err = sstr_empty(0);
            if (aof_rewrite_background(&err) != 0)
                server_log(LL_WARNING, "Automatic AOF rewrite failed to start: %s", err);
            sstr_free(err);
        }
    }
    if (aof.state != AOF_OFF && aof.flush_postponed_start)
        aof_flush(0);
    if (aof.state != AOF_OFF && !aof.last_write_ok && server_mstime() - last_error_retry >= 1000) {
        last_error_retry = server_mstime();
        aof_flush(0);
    }
}

int aof_prepare_shutdown(int flags)
{
    if (aof.child_pid > 0) {
        if (aof.state == AOF_WAIT_REWRITE) {
            if (flags & SHUTDOWN_FORCE) {
                server_log(LL_WARNING, "Writing initial AOF. Exit anyway.");
            } else {
                server_log(LL_WARNING, "Writing initial AOF, can't exit.");
                return -1;
            }
        }
        server_log(LL_WARNING, "There is a child rewriting the AOF. Killing it!");
        aof_kill_child();
    }
    if (aof.state != AOF_OFF && aof.fd != -1) {
        server_log(LL_NOTICE, "Calling fsync() on the AOF file.");
        aof_flush(1);
        if (fdatasync(aof.fd) == -1)
            server_log(LL_WARNING, "Fail to fsync the AOF file: %s.", strerror(errno));
    }
    return 0;
}

int aof_child_active(void) { return aof.child_pid > 0; }

/* ---- INFO and loading progress ------------------------------------------------ */

static struct {
    long long start_s, total, loaded, start_us;
} loading;

void loading_start(long long total_bytes)
{
    srv.loading = 1;
    loading.start_s = time(NULL);
    loading.start_us = ustime();
    loading.total = total_bytes;
    loading.loaded = 0;
    mem_prefault_begin(); /* the dataset's page faults go to the idle core */
}

void loading_progress(long long loaded_bytes) { loading.loaded = loaded_bytes; }

void loading_end(void)
{
    mem_prefault_end();
    srv.loading = 0;
}

void aof_info_append(sstr *out)
{
    struct childinfo_stats ci;
    childinfo_stats(&ci);
    long long cur = aof.child_pid > 0 && aof.rewrite_time_start >= 0 ? (long long)(time(NULL) - aof.rewrite_time_start)
                                                                     : -1;
    *out = sstr_catfmt(*out,
                       "aof_enabled:%d\r\n"
                       "aof_rewrite_in_progress:%d\r\n"
                       "aof_rewrite_scheduled:%d\r\n"
                       "aof_last_rewrite_time_sec:%lld\r\n"
                       "aof_current_rewrite_time_sec:%lld\r\n"
                       "aof_last_bgrewrite_status:%s\r\n"
                       "aof_rewrites:%lld\r\n"
                       "aof_rewrites_consecutive_failures:%lld\r\n"
                       "aof_last_write_status:%s\r\n"
                       "aof_last_cow_size:%zu\r\n",
                       aof.state != AOF_OFF, aof.child_pid > 0, aof.rewrite_scheduled, aof.rewrite_time_last, cur,
                       aof.last_bgrewrite_ok ? "ok" : "err", aof.rewrites, aof.rewrites_consecutive_failures,
                       aof.last_write_ok ? "ok" : "err", ci.aof_last_cow_size);
}

void aof_info_append_tail(sstr *out)
{
    if (aof.state != AOF_OFF) {
        *out = sstr_catfmt(*out,
                           "aof_current_size:%lld\r\n"
                           "aof_base_size:%lld\r\n"
                           "aof_pending_rewrite:%d\r\n"
                           "aof_buffer_length:%zu\r\n"
                           "aof_pending_bio_fsync:%llu\r\n"
                           "aof_delayed_fsync:%lu\r\n",
                           aof.current_size, aof.base_size, aof.rewrite_scheduled, sstr_len(aof.buf),
                           aof_bio_pending_fsync(), aof.delayed_fsync);
    }
    if (srv.loading) {
        double perc = loading.total ? (double)loading.loaded * 100.0 / (double)loading.total : 0;
        long long elapsed_us = ustime() - loading.start_us;
        long long eta = loading.loaded && loading.total > loading.loaded
                            ? (long long)((double)(loading.total - loading.loaded) * (double)elapsed_us /
                                          (double)loading.loaded / 1e6)
                            : 1;
        *out = sstr_catfmt(*out,
                           "loading_start_time:%lld\r\n"
                           "loading_total_bytes:%lld\r\n"
                           "loading_rdb_used_mem:0\r\n"
                           "loading_loaded_bytes:%lld\r\n"
                           "loading_loaded_perc:%.2f\r\n"
                           "loading_eta_seconds:%lld\r\n",
                           loading.start_s, loading.total, loading.loaded, perc, eta);
    }
}

/* ---- BGREWRITEAOF -------------------------------------------------------------- */

static void bgrewriteaof_command(struct client *c)
{
    if (aof.child_pid > 0) {
        reply_error(c, "Background append only file rewriting already in progress");
    } else if (other_child_active() || (c->flags & CLIENT_EXECUTING_MULTI)) {
        aof.rewrite_scheduled = 1;
        reply_status(c, "Background append only file rewriting scheduled");
    } else {
        sstr err = sstr_empty(0);
        if (aof_rewrite_background(&err) == 0) {
            reply_status(c, "Background append only file rewriting started");
        } else {
            server_log(LL_WARNING, "Can't rewrite the append only file in background: %s", err);
            reply_error(c, "Can't execute an AOF background rewriting. Please check the server logs for more "
                           "information.");
        }
        sstr_free(err);
    }
}

const struct command_impl aof_commands[] = {
    {"bgrewriteaof", bgrewriteaof_command},
    {NULL, NULL},
};

/* ---- the core's hooks ------------------------------------------------------ */

void aof_register_hooks(void)
{
    commit_gate_register(&aof_condition);
    hooks_on_cron(aof_cron);
    hooks_on_shutdown(aof_prepare_shutdown);
    hooks_on_write_refusal(20, aof_write_error);
    hooks_on_info("Persistence", 20, aof_info_append);
    hooks_on_info("Persistence", 40, aof_info_append_tail);
    config_register_apply("appendonly", aof_apply_appendonly);
    config_register_apply("appendfsync", aof_apply_appendfsync);
}
