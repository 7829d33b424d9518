/* childinfo.c - progress and copy-on-write reports from fork children; see
 * childinfo.h.
 *
 * A record is a fixed-size struct written with one write() (well under
 * PIPE_BUF, so never interleaved or torn).  Both ends are non-blocking:
 * a child never waits for a parent that is slow to read (a record that
 * finds the pipe full is dropped; the next one carries the newer numbers),
 * and the parent's cron never waits for a child.
 */
#include "childinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

enum record_type { REC_CURRENT, REC_FINAL };

struct record {
    int type;
    int kind; /* enum childinfo_kind of the sender */
    long long keys;
    size_t cow;
    long long cow_measured_ms; /* CLOCK_MONOTONIC, shared across fork */
};

#define SEND_INTERVAL_MS 1000
#define KEYS_PER_CHECK 1024

static int pipe_fds[2] = {-1, -1};

/* parent side */
static struct {
    size_t cow_peak, cow_size;
    long long cow_measured_ms;
    long long keys_processed, keys_total;
    size_t rdb_last_cow, aof_last_cow;
    unsigned char partial[sizeof(struct record)];
    size_t partial_len;
} parent;

/* child side */
static struct {
    int active;
    enum childinfo_kind kind;
    long long keys;
    long long last_send_ms;
    size_t cow_peak;
    size_t cow_sum;
    long long cow_samples;
} child;

static long long monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static size_t sum_private_dirty(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    char line[256];
    size_t kb = 0, total = 0;
    while (fgets(line, sizeof(line), fp))
        if (sscanf(line, "Private_Dirty: %zu kB", &kb) == 1)
            total += kb;
    fclose(fp);
    return total * 1024;
}

/* This process's private dirty memory (bytes), from /proc; 0 if unknown. */
static size_t private_dirty(void)
{
    /* smaps_rollup (Linux 4.14+) is one summary; smaps lists every mapping */
    size_t bytes = sum_private_dirty("/proc/self/smaps_rollup");
    return bytes ? bytes : sum_private_dirty("/proc/self/smaps");
}

static void close_pipe(void)
{
    for (int i = 0; i < 2; i++)
        if (pipe_fds[i] != -1) {
            close(pipe_fds[i]);
            pipe_fds[i] = -1;
        }
    parent.partial_len = 0;
}

static void reset_current(long long keys_total)
{
    parent.cow_peak = parent.cow_size = 0;
    parent.cow_measured_ms = 0;
    parent.keys_processed = 0;
    parent.keys_total = keys_total;
}

void childinfo_before_fork(long long keys_total)
{
    close_pipe();
    reset_current(keys_total);
    if (pipe(pipe_fds) == -1) {
        pipe_fds[0] = pipe_fds[1] = -1; /* INFO simply shows no progress */
        return;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(pipe_fds[i], F_SETFL, fcntl(pipe_fds[i], F_GETFL) | O_NONBLOCK);
        fcntl(pipe_fds[i], F_SETFD, FD_CLOEXEC);
    }
}

void childinfo_after_fork_child(enum childinfo_kind kind)
{
    if (pipe_fds[0] != -1) {
        close(pipe_fds[0]);
        pipe_fds[0] = -1;
    }
    memset(&child, 0, sizeof(child));
    child.active = pipe_fds[1] != -1;
    child.kind = kind;
}

void childinfo_after_fork_parent(void)
{
    if (pipe_fds[1] != -1) {
        close(pipe_fds[1]);
        pipe_fds[1] = -1;
    }
}

void childinfo_fork_failed(void)
{
    close_pipe();
    reset_current(0);
}

static size_t measure_cow(void)
{
    size_t cow = private_dirty();
    if (cow > child.cow_peak)
        child.cow_peak = cow;
    child.cow_sum += cow;
    child.cow_samples++;
    return cow;
}

/* Returns the copy-on-write size it measured and sent. */
static size_t send_record(int type, long long now_ms)
{
    struct record r = {type, (int)child.kind, child.keys, measure_cow(), now_ms};
    ssize_t n = write(pipe_fds[1], &r, sizeof(r));
    (void)n; /* a full pipe drops the record: the next carries newer numbers */
    return r.cow;
}

void childinfo_key_saved(void)
{
    if (!child.active)
        return;
    if ((child.keys++ % KEYS_PER_CHECK) != 0)
        return;
    long long now = monotonic_ms();
    if (child.last_send_ms && now - child.last_send_ms < SEND_INTERVAL_MS)
        return;
    child.last_send_ms = now;
    send_record(REC_CURRENT, now);
}

void childinfo_child_done(void)
{
    if (!child.active)
        return;
    size_t cow = send_record(REC_FINAL, monotonic_ms());
    const char *name = child.kind == CHILDINFO_RDB ? "RDB" : "AOF rewrite";
    server_log(LL_NOTICE, "Fork CoW for %s: current %zu MB, peak %zu MB, average %llu MB", name, cow >> 20,
               child.cow_peak >> 20,
               (unsigned long long)(child.cow_sum / (size_t)child.cow_samples) >> 20);
}

static void apply(const struct record *r)
{
    if (r->cow > parent.cow_peak)
        parent.cow_peak = r->cow;
    if (r->type == REC_CURRENT) {
        parent.cow_size = r->cow;
        parent.cow_measured_ms = r->cow_measured_ms;
        parent.keys_processed = r->keys;
    } else if (r->kind == CHILDINFO_RDB) {
        parent.rdb_last_cow = parent.cow_peak; /* Redis reports the peak */
    } else {
        parent.aof_last_cow = parent.cow_peak;
    }
}

void childinfo_receive(void)
{
    if (pipe_fds[0] == -1)
        return;
    for (;;) {
        ssize_t n = read(pipe_fds[0], parent.partial + parent.partial_len, sizeof(struct record) - parent.partial_len);
        if (n <= 0) {
            if (n == 0 || (errno != EINTR))
                return;
            continue;
        }
        parent.partial_len += (size_t)n;
        if (parent.partial_len == sizeof(struct record)) {
            struct record r;
            memcpy(&r, parent.partial, sizeof(r));
            parent.partial_len = 0;
            apply(&r);
        }
    }
}

void childinfo_child_reaped(int succeeded)
{
    if (succeeded)
        childinfo_receive();
    close_pipe();
    reset_current(0);
}

void childinfo_stats(struct childinfo_stats *out)
{
    out->current_cow_peak = parent.cow_peak;
    out->current_cow_size = parent.cow_size;
    out->current_cow_size_age = parent.cow_measured_ms ? (monotonic_ms() - parent.cow_measured_ms) / 1000 : 0;
    out->current_fork_perc =
        parent.keys_total ? (double)parent.keys_processed / (double)parent.keys_total * 100.0 : 0.0;
    out->current_save_keys_processed = parent.keys_processed;
    out->current_save_keys_total = parent.keys_total;
    out->rdb_last_cow_size = parent.rdb_last_cow;
    out->aof_last_cow_size = parent.aof_last_cow;
}
