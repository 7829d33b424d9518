/* harness.c - see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_SERVERS 16
static pid_t live[MAX_SERVERS];
static int cleanup_installed;

static void kill_all(void)
{
    for (int i = 0; i < MAX_SERVERS; i++) {
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
    }
}

static void on_signal(int sig)
{
    kill_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void track(pid_t pid)
{
    if (!cleanup_installed) {
        atexit(kill_all);
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        signal(SIGSEGV, on_signal);
        signal(SIGABRT, on_signal);
        signal(SIGPIPE, SIG_IGN);
        cleanup_installed = 1;
    }
    for (int i = 0; i < MAX_SERVERS; i++)
        if (live[i] == 0) {
            live[i] = pid;
            return;
        }
}

static void untrack(pid_t pid)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (live[i] == pid)
            live[i] = 0;
}

long long harness_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void harness_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

char *harness_info_str(redisContext *c, const char *section, const char *field, char *buf, size_t len)
{
    buf[0] = '\0';
    redisReply *r = redisCommand(c, "INFO %s", section);
    if (r && r->type == REDIS_REPLY_STRING) {
        char key[128];
        snprintf(key, sizeof(key), "\n%s:", field);
        const char *p = strstr(r->str, key);
        if (!p && !strncmp(r->str, key + 1, strlen(key + 1)))
            p = r->str - 1; /* the first line */
        if (p) {
            p += strlen(key);
            size_t n = strcspn(p, "\r\n");
            if (n >= len)
                n = len - 1;
            memcpy(buf, p, n);
            buf[n] = '\0';
        }
    }
    if (r)
        freeReplyObject(r);
    return buf;
}

long long harness_info_field(redisContext *c, const char *section, const char *field)
{
    char buf[128];
    harness_info_str(c, section, field, buf, sizeof(buf));
    return buf[0] ? atoll(buf) : -1;
}

int harness_wait_info_field(redisContext *c, const char *section, const char *field, long long want, int ms)
{
    long long deadline = harness_now_ms() + ms;
    do {
        if (harness_info_field(c, section, field) == want)
            return 1;
        harness_sleep_ms(20);
    } while (harness_now_ms() < deadline);
    return 0;
}

char *harness_read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return strdup("");
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc(n > 0 ? (size_t)n + 1 : 1);
    size_t got = n > 0 ? fread(buf, 1, (size_t)n, fp) : 0;
    buf[got] = '\0';
    fclose(fp);
    return buf;
}

int harness_file_contains(const char *path, const char *needle)
{
    char *s = harness_read_file(path);
    int found = strstr(s, needle) != NULL;
    free(s);
    return found;
}

const char *harness_server_path(void)
{
    const char *p = getenv("SLUICE_SERVER");
    return p && *p ? p : "server/sluice-server";
}

int harness_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    socklen_t len = sizeof(sa);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int port = ntohs(sa.sin_port);
    close(fd);
    return port;
}

static int wait_ready(struct test_server *s, int timeout_ms)
{
    long long deadline = harness_now_ms() + timeout_ms;
    while (harness_now_ms() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            untrack(s->pid);
            s->pid = 0;
            return -1;
        }
        struct timeval tv = {1, 0};
        redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
        if (c && !c->err) {
            redisReply *r = redisCommand(c, "PING");
            /* a password-protected server answers -NOAUTH: it is up */
            int ok = r && (r->type == REDIS_REPLY_STATUS ||
                           (r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOAUTH", 6) == 0));
            if (r)
                freeReplyObject(r);
            redisFree(c);
            if (ok)
                return 0;
        } else if (c) {
            redisFree(c);
        }
        harness_sleep_ms(20);
    }
    return -1;
}

pid_t harness_spawn(const char *const *base, const char *const *extra, unsigned quiet)
{
    const char *argv[64];
    int n = 0;
    for (int i = 0; base[i] && n < 62; i++)
        argv[n++] = base[i];
    for (int i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDWR);
        for (int fd = 0; fd < 3; fd++)
            if (quiet & (1u << fd))
                dup2(devnull, fd);
        execvp(argv[0], (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int harness_start(struct test_server *s, const char *const *extra)
{
    memset(s, 0, sizeof(*s));
    const char *tmp = getenv("TMPDIR");
    snprintf(s->dir, sizeof(s->dir), "%s/sluice-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(s->logpath, sizeof(s->logpath), "%s/server.log", s->dir);
    for (int attempt = 0; attempt < 5; attempt++) {
        s->port = harness_free_port();
        char portbuf[16];
        snprintf(portbuf, sizeof(portbuf), "%d", s->port);
        const char *base[] = {harness_server_path(), "--port", portbuf, "--bind", "127.0.0.1", "--dir", s->dir,
                              "--logfile", s->logpath,
                              /* as Redis's own test config: a full sync starts at once (tests of the
                               * delay set it again after this) */
                              "--repl-diskless-sync-delay", "0", NULL};
        s->pid = harness_spawn(base, extra, HARNESS_QUIET_STDIN);
        track(s->pid);
        if (wait_ready(s, 10000) == 0)
            return 0;
        if (s->pid) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            untrack(s->pid);
            s->pid = 0;
        }
    }
    return -1;
}

int harness_stop_status(struct test_server *s)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, SIGTERM);
    int status = -1;
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline) {
        if (waitpid(s->pid, &status, WNOHANG) == s->pid)
            break;
        harness_sleep_ms(10);
    }
    if (harness_now_ms() >= deadline) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, &status, 0);
    }
    untrack(s->pid);
    s->pid = 0;
    return status;
}

void harness_stop(struct test_server *s)
{
    harness_stop_status(s);
    char cmd[400];
    if (s->dir[0] && !getenv("SLUICE_KEEP_TEST_DIRS")) {
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
        if (system(cmd) != 0) {
        }
    }
}

int harness_run_expect_exit(const char *const *argv_tail, int timeout_ms, char *out, size_t outlen)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        return -1;
    const char *argv[64];
    int n = 0;
    argv[n++] = harness_server_path();
    for (int i = 0; argv_tail && argv_tail[i] && n < 63; i++)
        argv[n++] = argv_tail[i];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pipefd[1], 1);
        dup2(pipefd[1], 2);
        close(pipefd[0]);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(pipefd[1]);
    track(pid);
    size_t got = 0;
    long long deadline = harness_now_ms() + timeout_ms;
    fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
    int status = -1, exited = 0;
    while (harness_now_ms() < deadline) {
        ssize_t r = out && got + 1 < outlen ? read(pipefd[0], out + got, outlen - 1 - got) : 0;
        if (r > 0)
            got += (size_t)r;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            exited = 1;
            break;
        }
        harness_sleep_ms(10);
    }
    if (exited && out) {
        ssize_t r;
        while (got + 1 < outlen && (r = read(pipefd[0], out + got, outlen - 1 - got)) > 0)
            got += (size_t)r;
    }
    if (out)
        out[got] = '\0';
    close(pipefd[0]);
    if (!exited) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        untrack(pid);
        return -1;
    }
    untrack(pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

redisContext *harness_connect(const struct test_server *s)
{
    struct timeval tv = {60, 0}; /* generous: CI machines are small and busy */
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (c && !c->err)
        redisSetTimeout(c, tv);
    return c;
}

int harness_raw_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

ssize_t harness_raw_exchange(int fd, const char *send, size_t sendlen, char *buf, size_t buflen,
                             size_t expect_len, int timeout_ms, int *closed)
{
    size_t off = 0;
    *closed = 0;
    while (off < sendlen) {
        ssize_t w = write(fd, send + off, sendlen - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    size_t got = 0;
    long long deadline = harness_now_ms() + timeout_ms;
    while (got < expect_len && got < buflen) {
        int left = (int)(deadline - harness_now_ms());
        if (left <= 0)
            break;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, left) <= 0)
            break;
        ssize_t r = read(fd, buf + got, buflen - got);
        if (r == 0) {
            *closed = 1;
            break;
        }
        if (r < 0) {
            if (errno == EINTR)
                continue;
            *closed = 1;
            break;
        }
        got += (size_t)r;
    }
    return (ssize_t)got;
}

static void append_reply(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
    while (*len + n + 1 > *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *out = realloc(*out, *cap);
    }
    memcpy(*out + *len, s, n);
    *len += n;
    (*out)[*len] = '\0';
}

static void render(redisReply *r, char **out, size_t *len, size_t *cap)
{
    char num[64];
    switch (r->type) {
    case REDIS_REPLY_STATUS:
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_ERROR:
        append_reply(out, len, cap, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        snprintf(num, sizeof(num), "%lld", r->integer);
        append_reply(out, len, cap, num, strlen(num));
        break;
    case REDIS_REPLY_NIL:
        append_reply(out, len, cap, "(nil)", 5);
        break;
    case REDIS_REPLY_ARRAY:
        for (size_t i = 0; i < r->elements; i++) {
            if (i)
                append_reply(out, len, cap, ",", 1);
            if (r->element[i]->type == REDIS_REPLY_ARRAY) {
                append_reply(out, len, cap, "[", 1);
                render(r->element[i], out, len, cap);
                append_reply(out, len, cap, "]", 1);
            } else {
                render(r->element[i], out, len, cap);
            }
        }
        break;
    default:
        append_reply(out, len, cap, "?", 1);
    }
}

static char *to_string(redisReply *r, redisContext *c)
{
    char *out = NULL;
    size_t len = 0, cap = 0;
    if (!r) {
        append_reply(&out, &len, &cap, "(connection error: ", 19);
        append_reply(&out, &len, &cap, c->errstr, strlen(c->errstr));
        append_reply(&out, &len, &cap, ")", 1);
        return out;
    }
    render(r, &out, &len, &cap);
    if (!out)
        append_reply(&out, &len, &cap, "", 0);
    freeReplyObject(r);
    return out;
}

char *harness_cmd(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    return to_string(r, c);
}

void harness_run(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    if (r)
        freeReplyObject(r);
}

int harness_expect(redisContext *c, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char *got = to_string(r, c);
    int eq = !strcmp(got, want);
    if (!eq)
        printf("# got \"%s\", want \"%s\"\n", got, want); /* a TAP diagnostic */
    free(got);
    return eq;
}

int harness_link_up(redisContext *replica)
{
    char st[32];
    return !strcmp(harness_info_str(replica, "replication", "master_link_status", st, sizeof(st)), "up");
}

int harness_caught_up(redisContext *master, redisContext *replica, int ms)
{
    long long deadline = harness_now_ms() + ms;
    do {
        long long mo = harness_info_field(master, "replication", "master_repl_offset");
        if (harness_link_up(replica) && mo > 0 && harness_info_field(replica, "replication", "slave_repl_offset") >= mo)
            return 1;
        harness_sleep_ms(20);
    } while (harness_now_ms() < deadline);
    return 0;
}

int harness_digests_equal(redisContext *a, redisContext *b)
{
    char *da = harness_cmd(a, "DEBUG DIGEST"), *db = harness_cmd(b, "DEBUG DIGEST");
    int eq = !strcmp(da, db) && strlen(da) == 40 && strcmp(da, "0000000000000000000000000000000000000000");
    if (!eq)
        printf("# digests: %s vs %s\n", da, db);
    free(da);
    free(db);
    return eq;
}

int harness_file_count(const char *path, const char *needle)
{
    char *s = harness_read_file(path);
    int n = 0;
    for (char *p = s; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    free(s);
    return n;
}

char *harness_cmdargv(redisContext *c, int argc, const char **argv, const size_t *lens)
{
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    return to_string(r, c);
}
