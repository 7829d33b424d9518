/* childinfo.h - what a fork child (BGSAVE, AOF rewrite) tells its parent
 * while it runs: how many keys it has written and its copy-on-write size,
 * for INFO persistence's current_* and *_last_cow_size fields (Redis's
 * childinfo.c).
 *
 * The parent opens a pipe before each fork.  The child writes small
 * fixed-size records to it: one at the first 1,024 keys and then at most
 * once a second, and one at the end with its final copy-on-write size.
 * The parent drains the pipe, never blocking, from its cron and once more
 * when it reaps a child that succeeded.  Outside a child, every call a
 * child makes is a no-op, so the save code calls them unconditionally.
 */
#ifndef SLUICE_CHILDINFO_H
#define SLUICE_CHILDINFO_H

#include <stddef.h>

enum childinfo_kind { CHILDINFO_RDB, CHILDINFO_AOF };

/* Parent, right before fork(): a fresh pipe, and the current_* counters
 * reset (keys_total: the keys the child is about to write). */
void childinfo_before_fork(long long keys_total);
/* Right after fork(), in each process. */
void childinfo_after_fork_child(enum childinfo_kind kind);
void childinfo_after_fork_parent(void);
/* Parent, when fork() failed: close the pipe, reset. */
void childinfo_fork_failed(void);

/* Child: one more key written (called by the savers for every key). */
void childinfo_key_saved(void);
/* Child, when its file is complete: the final copy-on-write size. */
void childinfo_child_done(void);

/* Parent: read what the child sent so far (cron). */
void childinfo_receive(void);
/* Parent, after reaping the child: read the rest when it succeeded, then
 * close the pipe and reset the current_* counters. */
void childinfo_child_reaped(int succeeded);

struct childinfo_stats {
    size_t current_cow_peak, current_cow_size;
    long long current_cow_size_age; /* seconds since the child measured it */
    double current_fork_perc;       /* keys written / keys to write, % */
    long long current_save_keys_processed, current_save_keys_total;
    size_t rdb_last_cow_size, aof_last_cow_size;
};
void childinfo_stats(struct childinfo_stats *out);

#endif
