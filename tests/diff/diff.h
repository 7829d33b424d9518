/* diff.h - the parts of sluice-diff shared by its files: text buffers,
 * TAP output and argument splitting (diff_util.c), RESP framing and the
 * legitimate-difference table (diff_resp.c), the two server processes
 * (diff_server.c); the script runner is sluice-diff.c. */
#ifndef SLUICE_DIFF_H
#define SLUICE_DIFF_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define NSIDES 2              /* 0 = sluice (under test), 1 = redis (spec) */
#define DIAG_MAX_BYTES 2048   /* raw reply bytes shown in a diagnostic */
#define DESC_MAX 100          /* characters of a command in a test name */
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define RESP_MAX_DEPTH 128


/* ======================================================================
 * The legitimate-difference table.
 *
 * Each rule names a command (and optionally its first argument, for
 * container commands) and says which part of a NON-error reply is masked
 * before comparing.  Error replies are never masked.  Keep this minimal:
 * everything not listed here must match byte for byte (HELLO's "server"
 * and "version" fields included: Sluice answers "redis" / "7.0.15").
 * ====================================================================== */
typedef enum {
    MASK_KEY_VALUE, /* in a map (RESP3) or flat key/value array (RESP2),
                       replace the value that follows key `key` */
    MASK_WHOLE      /* keep only the reply's type byte */
} mask_kind;

typedef struct {
    const char *cmd;  /* command name, case-insensitive */
    const char *sub;  /* first argument (subcommand), or NULL for any */
    mask_kind kind;
    const char *key;  /* for MASK_KEY_VALUE */
    const char *why;
} legit_diff;

typedef struct {
    char *p;
    size_t len, cap;
} buf_t;

typedef struct {
    char **v;
    size_t *l;
    int n;
} args_t;

/* A top-level reply split into prefix (attribute + header line) and its
 * elements; only for non-null, non-streamed aggregates. */
typedef struct {
    size_t off, len;
} span_t;

typedef struct {
    size_t prefix;   /* bytes before the first element */
    char type;       /* type byte of the (non-attribute) reply */
    int is_map;      /* elements come in key/value pairs */
    int n;           /* number of elements (not pairs) */
    span_t *el;
} resp_split;

typedef struct {
    const char *p;
    size_t n;
} unit_t;

typedef struct {
    const char *label;
    const char *path;
    pid_t pid;
    int port;
    char dir[PATH_MAX];
    int status;     /* wait status once reaped */
    int reaped;
} server_t;

/* ---- diff_util.c: buffers, clocks, TAP, redis-cli argument splitting ---- */
void oom(void);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
void buf_reserve(buf_t *b, size_t extra);
void buf_add(buf_t *b, const void *d, size_t n);
void buf_adds(buf_t *b, const char *s);
void buf_addc(buf_t *b, char c);
void buf_vaddf(buf_t *b, const char *fmt, va_list ap);
void buf_addf(buf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_clear(buf_t *b);
void buf_consume(buf_t *b, size_t n);
void buf_free(buf_t *b);
const char *buf_str(const buf_t *b);
int64_t now_ms(void);
void sleep_ms(long ms);
long env_long(const char *name, long dflt);
int env_true(const char *name);
int parse_ms(const char *s, long *out);
void escape_bytes(buf_t *out, const char *p, size_t n, size_t max);
extern int tap_count;
extern int tap_failures;
void tap_point(int ok, const char *desc);
void diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void args_push(args_t *a, const char *p, size_t len);
void args_free(args_t *a);
int hexval(int c);
/* 0, or -1 on unbalanced quotes */
int split_args(const char *p, args_t *out);
int parse_ll(const char *p, size_t n, long long *out);
/* ---- diff_resp.c: RESP framing, the legitimate differences ---- */
/* length of the complete reply at p, 0 if incomplete, -1 if invalid */
long resp_frame(const char *p, size_t n, int depth);
int resp_split_top(const char *p, size_t n, resp_split *s);
char resp_type(const char *p, size_t n);
int resp_string(const char *p, size_t n, const char **s, size_t *len);
int normalize(const char *p, size_t n, const legit_diff *rule, int sort, buf_t *out);
const legit_diff *find_rule(const args_t *a);
/* ---- diff_server.c: the two servers ---- */
extern server_t srv[NSIDES];
/* the servers' pids and temp paths, for the signal handler */
extern volatile sig_atomic_t sig_pids[NSIDES];
extern char sig_dirs[NSIDES][PATH_MAX];
extern char sig_logs[NSIDES][PATH_MAX + 16];
void on_signal(int sig);
extern int keep_dirs;
int pick_port(int avoid);
void rm_rf(const char *dir);
void log_tail(const server_t *s);
int connect_port(int port);
int send_all(int fd, const char *p, size_t n);
int server_dead(server_t *s);
void describe_status(const server_t *s, char *out, size_t n);
int spawn_server(server_t *s, int idx, const args_t *extra, int avoid_port);
int wait_ready(server_t *s, int64_t deadline);
void stop_server(server_t *s);
void cleanup_dir(server_t *s);
void stop_all_atexit(void);

#endif
