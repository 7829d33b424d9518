/* harness.h - start and stop sluice-server instances for integration tests.
 *
 * Each test starts its own servers on free loopback ports, in a fresh
 * temporary directory, and stops them at exit (also when a check fails
 * or the test crashes on a signal), so nothing depends on a server already
 * running or on port 6379.
 */
#ifndef SLUICE_TEST_HARNESS_H
#define SLUICE_TEST_HARNESS_H

#include <hiredis/hiredis.h>
#include <stddef.h>
#include <sys/types.h>

struct test_server {
    pid_t pid;
    int port;
    char dir[256];
    char logpath[300];
};

/* Path of the binary under test: $SLUICE_SERVER or server/sluice-server. */
const char *harness_server_path(void);
/* A free TCP port on 127.0.0.1. */
int harness_free_port(void);
/* Start with extra "--name value" arguments (NULL-terminated list).
 * Returns 0 when the server answers PING. */
int harness_start(struct test_server *s, const char *const *extra_args);
/* fork + exec (PATH searched) of base (NULL-terminated) followed by extra
 * (NULL-terminated, may be NULL), at most 62 words; the file descriptors
 * in quiet (HARNESS_QUIET_STDIN | _STDOUT | _STDERR) go to /dev/null.
 * Returns the child's pid, or -1. */
#define HARNESS_QUIET_STDIN 1u
#define HARNESS_QUIET_STDOUT 2u
#define HARNESS_QUIET_STDERR 4u
pid_t harness_spawn(const char *const *base, const char *const *extra, unsigned quiet);
/* Like harness_start but does not wait: for tests of startup failures.
 * Returns the exit status of the server (waits up to timeout_ms), or -1
 * if it is still running. */
int harness_run_expect_exit(const char *const *argv_tail, int timeout_ms, char *out, size_t outlen);
void harness_stop(struct test_server *s);            /* SIGTERM, wait, SIGKILL fallback */
int harness_stop_status(struct test_server *s);      /* SIGTERM; returns exit status */
redisContext *harness_connect(const struct test_server *s);

/* Raw socket access for byte-exact protocol checks. */
int harness_raw_connect(int port);
/* Send bytes, then read until `expect_len` bytes arrived, the peer closed,
 * or timeout_ms passed.  Returns bytes read; *closed set when EOF seen. */
ssize_t harness_raw_exchange(int fd, const char *send, size_t sendlen, char *buf, size_t buflen,
                             size_t expect_len, int timeout_ms, int *closed);

/* Run a command and return the reply as a string for simple checks:
 * status/bulk -> text, integer -> decimal, nil -> "(nil)", error -> "ERR..."
 * (the error text), array -> elements joined by "," (nested with []). */
char *harness_cmd(redisContext *c, const char *fmt, ...);
/* Run a command, discard its reply. */
void harness_run(redisContext *c, const char *fmt, ...);
/* 1 if the reply, as harness_cmd gives it, is want; else a TAP diagnostic
 * (got/want) and 0. */
int harness_expect(redisContext *c, const char *want, const char *fmt, ...);
char *harness_cmdargv(redisContext *c, int argc, const char **argv, const size_t *lens);

long long harness_now_ms(void);
void harness_sleep_ms(int ms);

/* INFO <section>'s field as a number (-1 when absent), or as text copied
 * into buf ("" when absent; returns buf). */
long long harness_info_field(redisContext *c, const char *section, const char *field);
char *harness_info_str(redisContext *c, const char *section, const char *field, char *buf, size_t len);
/* Poll INFO until the field equals want (every 20 ms, up to ms): 1 if it did. */
int harness_wait_info_field(redisContext *c, const char *section, const char *field, long long want, int ms);

/* Replication.  harness_link_up: the replica's master_link_status is up.
 * harness_caught_up: polls until the replica's link is up and its
 * slave_repl_offset reaches the master's master_repl_offset at least (a
 * PING or GETACK may follow), up to ms; 1 if it did.
 * harness_digests_equal: DEBUG DIGEST of both, equal and not the empty
 * dataset's (a TAP diagnostic with both when not). */
int harness_link_up(redisContext *replica);
int harness_caught_up(redisContext *master, redisContext *replica, int ms);
int harness_digests_equal(redisContext *a, redisContext *b);
/* How many times needle occurs in the file (0 when unreadable). */
int harness_file_count(const char *path, const char *needle);
/* A whole file, NUL-terminated (malloc'ed; "" when it can't be read). */
char *harness_read_file(const char *path);
int harness_file_contains(const char *path, const char *needle);

#endif
