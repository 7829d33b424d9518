/* sync.c - the master's full sync: a fork child makes the snapshot and
 * the replicas that wait at the same time share it (Redis 7.0's
 * startBgsaveForReplication, updateSlavesWaitingBgsave and the diskless
 * rdbPipe* path).
 *
 * A replica that needs a full sync waits (WAIT_START) until no fork child
 * runs.  Then one child serves every waiting replica:
 *
 *   disk-backed  the child writes dbfilename as BGSAVE does (WAIT_END);
 *                when it is reaped each replica gets `$<size>\r\n` and the
 *                file, read a window at a time (SEND).  A replica that
 *                arrives while such a child runs joins it: it takes the
 *                same +FULLRESYNC offset and a copy of what the others
 *                hold of the stream since the fork.
 *   diskless     (repl-diskless-sync yes, every waiting replica said
 *                `capa eof`) after repl-diskless-sync-delay seconds, or
 *                once repl-diskless-sync-max-replicas wait, the child
 *                writes the RDB into a pipe; the parent relays each chunk
 *                to every replica as `$EOF:<mark>\r\n` ... `<mark>`.  It
 *                reads the pipe only while every replica's output is under
 *                one window, so the slowest replica paces the child, and
 *                the mark is sent only once the child exited with success.
 *
 * From the fork on, the stream a replica will need is kept in r->held
 * (the stream's SELECT state restarts at the fork); once its RDB is sent
 * the held bytes follow and the replica is online.  A child that fails
 * closes the replicas it served, which reconnect and try again, as in
 * Redis.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "mem.h"
#include "rdb.h"
#include "repl_int.h"
#include "reply.h"
#include "server.h"
#include "util.h"

/* a replica's output is refilled once it has been written out; a window
 * bounds what one full sync queues in memory per replica */
#define SYNC_WINDOW (1024 * 1024)
#define SYNC_CHUNK (64 * 1024)

static struct {
    int running;          /* a child serves replicas now */
    int diskless;
    long long offset;     /* the stream offset at the fork (+FULLRESYNC) */
    int pipe_fd;          /* diskless: the read end of the child's pipe */
    struct event *ev;
    int paused;           /* a replica's window is full: not reading the pipe */
    char mark[41];        /* diskless: the EOF mark */
} job = {.pipe_fd = -1};

static void drained(struct client *c);

static void close_replica(struct replica *r, const char *why)
{
    server_log(LL_WARNING, "Closing replica %s:%d: %s", r->ip, r->port, why);
    r->sync_state = REPL_SYNC_NONE;
    client_close_async(r->c);
}

/* The RDB is on its way: the stream since the fork follows, and the
 * replica is online (an rdb-only link is done instead). */
static void go_online(struct replica *r)
{
    r->sync_state = REPL_SYNC_NONE;
    r->c->on_output_drained = NULL;
    if (r->rdb_fd >= 0) {
        close(r->rdb_fd);
        r->rdb_fd = -1;
    }
    if (r->rdb_only) {
        r->c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    } else {
        if (r->held)
            reply_raw(r->c, r->held, sstr_len(r->held));
        r->attached = 1;
        r->ack_time_ms = mstime();
        repl_master_replica_online(r);
        server_log(LL_NOTICE, "Synchronization with replica %s:%d succeeded", r->ip, r->port);
    }
    sstr_free(r->held);
    r->held = NULL;
}

static void send_fullresync(struct replica *r)
{
    if (!r->psync)
        return;
    char hdr[80];
    int n = snprintf(hdr, sizeof(hdr), "+FULLRESYNC %s %lld\r\n", repl_replid(), job.offset);
    reply_raw(r->c, hdr, (size_t)n);
}

/* ---- disk-backed: send the file a window at a time ---- */

static void pump_file(struct replica *r)
{
    while (r->c->reply_bytes < SYNC_WINDOW && r->rdb_off < r->rdb_size) {
        char buf[SYNC_CHUNK];
        long long want = r->rdb_size - r->rdb_off;
        ssize_t n = pread(r->rdb_fd, buf, want < (long long)sizeof(buf) ? (size_t)want : sizeof(buf), r->rdb_off);
        if (n <= 0) {
            close_replica(r, n < 0 ? strerror(errno) : "the RDB file shrank while being sent");
            return;
        }
        reply_raw(r->c, buf, (size_t)n);
        r->rdb_off += n;
    }
    if (r->rdb_off == r->rdb_size)
        go_online(r);
}

static void send_file(struct replica *r)
{
    int fd = open(srv.dbfilename, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        if (fd >= 0)
            close(fd);
        close_replica(r, "can't open the RDB file for the transfer");
        return;
    }
    r->rdb_fd = fd;
    r->rdb_off = 0;
    r->rdb_size = st.st_size;
    r->sync_state = REPL_SYNC_SEND;
    char hdr[32];
    int n = snprintf(hdr, sizeof(hdr), "$%lld\r\n", (long long)st.st_size);
    reply_raw(r->c, hdr, (size_t)n);
    r->c->on_output_drained = drained;
    pump_file(r);
}

static void disk_child_done(int ok)
{
    job.running = 0;
    for (struct replica *r = repl_master_replica_list(), *next; r; r = next) {
        next = r->next;
        if (r->sync_state != REPL_SYNC_WAIT_END)
            continue;
        if (ok)
            send_file(r);
        else
            close_replica(r, "BGSAVE for replication failed");
    }
    repl_sync_cron(); /* replicas that came too late for this child */
}

/* ---- diskless: relay the child's pipe ---- */

static void end_pipe(void)
{
    if (job.ev) {
        event_free(job.ev);
        job.ev = NULL;
    }
    if (job.pipe_fd >= 0) {
        close(job.pipe_fd);
        job.pipe_fd = -1;
    }
    job.paused = 0;
}

static void relay(const char *buf, size_t n)
{
    for (struct replica *r = repl_master_replica_list(); r; r = r->next)
        if (r->sync_state == REPL_SYNC_SEND)
            reply_raw(r->c, buf, n);
}

static void pipe_child_done(int ok)
{
    /* the cron may reap the child before its last bytes were read: they
     * are in the pipe (at most its capacity) and go out, window or not */
    while (ok && job.pipe_fd >= 0) {
        char buf[SYNC_CHUNK];
        ssize_t n = read(job.pipe_fd, buf, sizeof(buf));
        if (n > 0)
            relay(buf, (size_t)n);
        else if (n == 0 || errno != EINTR)
            break;
    }
    end_pipe();
    job.running = 0;
    for (struct replica *r = repl_master_replica_list(), *next; r; r = next) {
        next = r->next;
        if (r->sync_state != REPL_SYNC_SEND)
            continue;
        if (ok) {
            reply_raw(r->c, job.mark, 40);
            go_online(r);
        } else {
            close_replica(r, "the diskless transfer's child failed");
        }
    }
    repl_sync_cron();
}

static int window_full(void)
{
    for (struct replica *r = repl_master_replica_list(); r; r = r->next)
        if (r->sync_state == REPL_SYNC_SEND && r->c->reply_bytes >= SYNC_WINDOW)
            return 1;
    return 0;
}

static void pipe_readable(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    (void)arg;
    while (!window_full()) {
        char buf[SYNC_CHUNK];
        ssize_t n = read((int)fd, buf, sizeof(buf));
        if (n > 0) {
            relay(buf, (size_t)n);
            continue;
        }
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        /* the end of the pipe (or an error): the child's exit says which */
        end_pipe();
        rdb_reap_child_now(); /* runs pipe_child_done */
        return;
    }
    if (!job.paused && job.ev) {
        event_del(job.ev);
        job.paused = 1;
    }
}

static void drained(struct client *c)
{
    struct replica *r = c->repl;
    if (!r)
        return;
    if (r->rdb_fd >= 0) {
        pump_file(r);
    } else if (job.diskless && job.paused && !window_full()) {
        job.paused = 0;
        event_add(job.ev, NULL);
        pipe_readable(job.pipe_fd, EV_READ, NULL);
    }
}

/* ---- starting a child ---- */

static void start_child(int diskless)
{
    sstr err = NULL;
    int rc;
    server_log(LL_NOTICE, "Starting BGSAVE for SYNC with target: %s", diskless ? "replicas sockets" : "disk");
    if (diskless) {
        int fds[2];
        if (pipe(fds) < 0) {
            err = sstr_catfmt(sstr_empty(0), "pipe: %s", strerror(errno));
            rc = -1;
        } else {
            fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
            fcntl(fds[0], F_SETFD, FD_CLOEXEC);
            rc = rdb_bgsave_for_sync(fds[1], pipe_child_done, &err);
            close(fds[1]);
            if (rc == 0) {
                job.pipe_fd = fds[0];
                job.ev = event_new(srv.base, fds[0], EV_READ | EV_PERSIST, pipe_readable, NULL);
                event_add(job.ev, NULL);
            } else {
                close(fds[0]);
            }
        }
    } else {
        rc = rdb_bgsave_for_sync(-1, disk_child_done, &err);
    }
    for (struct replica *r = repl_master_replica_list(), *next; r; r = next) {
        next = r->next;
        if (r->sync_state != REPL_SYNC_WAIT_START)
            continue;
        if (rc < 0) {
            close_replica(r, err ? err : "BGSAVE for replication failed");
            continue;
        }
        send_fullresync(r);
        repl_stat_sync_full++;
        r->held = sstr_empty(0);
        if (diskless) {
            r->sync_state = REPL_SYNC_SEND;
            char hdr[64];
            int n = snprintf(hdr, sizeof(hdr), "$EOF:%s\r\n", job.mark);
            reply_raw(r->c, hdr, (size_t)n);
            r->c->on_output_drained = drained;
        } else {
            r->sync_state = REPL_SYNC_WAIT_END;
        }
    }
    sstr_free(err);
    if (rc == 0) {
        job.running = 1;
        job.diskless = diskless;
        /* the stream after the snapshot starts with a SELECT */
        repl_master_reset_stream_db();
    }
}

/* Redis's replicationStartPendingFork: a child for the waiting replicas,
 * once no other child runs and (diskless) the delay has passed. */
static void maybe_start(void)
{
    if (job.running || rdb_any_child_active())
        return;
    int waiting = 0, all_eof = 1;
    long long oldest = 0;
    for (struct replica *r = repl_master_replica_list(); r; r = r->next) {
        if (r->sync_state != REPL_SYNC_WAIT_START)
            continue;
        if (!waiting || r->sync_since_ms < oldest)
            oldest = r->sync_since_ms;
        waiting++;
        all_eof &= r->capa_eof;
    }
    if (!waiting)
        return;
    int diskless = srv.repl_diskless_sync && all_eof;
    if (diskless) {
        int enough = srv.repl_diskless_sync_max_replicas > 0 && waiting >= srv.repl_diskless_sync_max_replicas;
        if (!enough && mstime() - oldest < srv.repl_diskless_sync_delay * 1000)
            return;
        random_hex(job.mark, 40);
        job.mark[40] = '\0';
    }
    job.offset = repl.master_repl_offset;
    start_child(diskless);
}

void repl_sync_request(struct replica *r, int psync)
{
    repl_backlog_create();
    r->psync = psync;
    r->sync_since_ms = mstime();
    r->sync_state = REPL_SYNC_WAIT_START;
    if (job.running && !job.diskless) {
        /* a disk-backed child runs for others: share its snapshot */
        for (struct replica *o = repl_master_replica_list(); o; o = o->next) {
            if (o != r && o->sync_state == REPL_SYNC_WAIT_END && !o->rdb_only) {
                send_fullresync(r);
                repl_stat_sync_full++;
                r->held = sstr_dup(o->held);
                r->sync_state = REPL_SYNC_WAIT_END;
                server_log(LL_NOTICE, "Waiting for end of BGSAVE for SYNC");
                return;
            }
        }
    }
    maybe_start();
}

void repl_sync_hold(struct replica *r, const char *p, size_t n)
{
    if (r->rdb_only)
        return;
    r->held = sstr_cat(r->held ? r->held : sstr_empty(n), p, n);
}

void repl_sync_forget(struct replica *r)
{
    int was_sending = job.running && job.diskless && r->sync_state == REPL_SYNC_SEND;
    r->sync_state = REPL_SYNC_NONE;
    r->c->on_output_drained = NULL;
    sstr_free(r->held);
    r->held = NULL;
    if (r->rdb_fd >= 0) {
        close(r->rdb_fd);
        r->rdb_fd = -1;
    }
    if (!was_sending)
        return;
    for (struct replica *o = repl_master_replica_list(); o; o = o->next)
        if (o != r && o->sync_state == REPL_SYNC_SEND)
            return;
    /* nobody left to read the child's pipe: stop it (Redis kills it too) */
    server_log(LL_WARNING, "Diskless rdb transfer, last replica dropped, killing fork child.");
    end_pipe();
    rdb_kill_child();
}

/* Once a second, a newline to each replica still waiting for its payload
 * (no child yet, or a disk child writing the file), so that its
 * repl-timeout does not run out while it waits: Redis's replicationCron
 * does the same.  Never into a payload being sent. */
static void keep_waiting_replicas_alive(void)
{
    static long long last;
    if (srv.unixtime == last)
        return;
    last = srv.unixtime;
    for (struct replica *r = repl_master_replica_list(); r; r = r->next)
        if (r->sync_state == REPL_SYNC_WAIT_START || r->sync_state == REPL_SYNC_WAIT_END)
            reply_raw(r->c, "\n", 1);
}

void repl_sync_cron(void)
{
    maybe_start();
    keep_waiting_replicas_alive();
}
