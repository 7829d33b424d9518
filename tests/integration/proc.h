/* proc.h - server processes on a directory of their own, for the
 * persistence tests (test_rdb, test_aof).
 *
 * These tests restart servers on the same directory, kill them with
 * SIGKILL mid-write and start redis-server on Sluice's files, so a server
 * here is a directory plus a process: started with --dir, --logfile
 * <dir>/sluice.log (redis.log for redis-server), no save points and
 * DEBUG enabled.  Every process started is tracked and killed at exit,
 * also when the test dies on a signal; the directories live under one
 * temporary top directory that is removed at exit
 * (SLUICE_KEEP_TEST_DIRS=1 keeps it).
 */
#ifndef SLUICE_TEST_PROC_H
#define SLUICE_TEST_PROC_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/types.h>

struct proc {
    pid_t pid; /* 0: not running */
    int port;
    char dir[400];
};

/* Create the top directory $TMPDIR/sluice-<name>-XXXXXX and install the
 * exit and signal handlers; bails out of the TAP run when it can't. */
void proc_init(const char *name);
/* out = <top>/<name>, created. */
void proc_make_dir(char *out, size_t len, const char *name);

/* redis-server for interchange tests: $REDIS_SERVER or Debian's, else NULL. */
const char *proc_redis_path(void);
/* A file of the build tree: $SLUICE_BUILDDIR/<rel>. */
void proc_build_path(char *out, size_t len, const char *rel);

/* Start bin on dir with extra "--name value" arguments (NULL-terminated).
 * wait_ms: how long to wait for a PING answered with a status (not
 * -LOADING); 0: don't wait.  0 when up (or not waited for), -1 when the
 * process exited or did not answer in time. */
int proc_start(struct proc *p, const char *bin, const char *dir, const char *const *extra, int wait_ms);
/* proc_start of the server under test, waiting up to two minutes. */
int proc_start_sluice(struct proc *p, const char *dir, const char *const *extra);

/* Track/untrack a pid started otherwise, so that it is killed at exit. */
void proc_track(pid_t pid);
void proc_untrack(pid_t pid);

void proc_kill9(struct proc *p);
/* Wait for the process to exit by itself: its exit status, -1 when a
 * signal ended it, -2 on timeout (it keeps running). */
int proc_wait_exit(struct proc *p, int ms);
/* SIGTERM and wait up to a minute: the exit status, -1 when a signal ended
 * it, -2 when it had to be killed. */
int proc_stop(struct proc *p);

/* The first fork child of pid (a BGSAVE or rewrite child), 0 if none. */
pid_t proc_child_of(pid_t pid);

/* A connection with generous timeouts (CI machines are small and busy). */
redisContext *proc_conn(const struct proc *p);

#endif
