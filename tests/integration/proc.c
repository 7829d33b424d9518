/* proc.c - server processes on a directory of their own; see proc.h. */
#define _GNU_SOURCE
#include "proc.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_LIVE 32

static pid_t live[MAX_LIVE];
static char topdir[256];

static void kill_live(void)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) {
            kill(live[i], SIGKILL);
            waitpid(live[i], NULL, 0);
            live[i] = 0;
        }
}

static void cleanup(void)
{
    kill_live();
    if (topdir[0] && !getenv("SLUICE_KEEP_TEST_DIRS")) {
        char rm[400];
        snprintf(rm, sizeof(rm), "rm -rf '%s'", topdir);
        if (system(rm) != 0) {
            /* a leftover temp dir is not a test failure */
        }
    }
}

static void on_signal(int sig)
{
    kill_live();
    signal(sig, SIG_DFL);
    raise(sig);
}

void proc_init(const char *name)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(topdir, sizeof(topdir), "%s/sluice-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!mkdtemp(topdir)) {
        printf("Bail out! cannot create a temp dir under %s\n", tmp && *tmp ? tmp : "/tmp");
        exit(1);
    }
    atexit(cleanup);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGSEGV, on_signal);
    signal(SIGABRT, on_signal);
}

void proc_make_dir(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", topdir, name);
    mkdir(out, 0755);
}

const char *proc_redis_path(void)
{
    const char *p = getenv("REDIS_SERVER");
    if (p && *p)
        return p;
    return access("/usr/bin/redis-server", X_OK) == 0 ? "/usr/bin/redis-server" : NULL;
}

void proc_build_path(char *out, size_t len, const char *rel)
{
    const char *b = getenv("SLUICE_BUILDDIR");
    snprintf(out, len, "%s/%s", b && *b ? b : ".", rel);
}

void proc_track(pid_t pid)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (!live[i]) {
            live[i] = pid;
            return;
        }
}

void proc_untrack(pid_t pid)
{
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == pid)
            live[i] = 0;
}

static int answers_ping(int port)
{
    struct timeval tv = {1, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    int up = 0;
    if (c && !c->err) {
        redisReply *r = redisCommand(c, "PING");
        up = r && r->type == REDIS_REPLY_STATUS;
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return up;
}

int proc_start(struct proc *p, const char *bin, const char *dir, const char *const *extra, int wait_ms)
{
    p->port = harness_free_port();
    snprintf(p->dir, sizeof(p->dir), "%s", dir);
    char port[16], log[460];
    snprintf(port, sizeof(port), "%d", p->port);
    snprintf(log, sizeof(log), "%s/%s.log", dir, strstr(bin, "redis") ? "redis" : "sluice");
    const char *base[] = {bin,    "--port", port, "--bind", "127.0.0.1", "--dir", dir, "--logfile", log,
                          "--save", "",     "--enable-debug-command", "yes",
                          /* as Redis's test config: a full sync starts at once */
                          "--repl-diskless-sync-delay", "0", NULL};
    pid_t pid = harness_spawn(base, extra, HARNESS_QUIET_STDIN | HARNESS_QUIET_STDOUT);
    p->pid = pid;
    proc_track(pid);
    if (!wait_ms)
        return 0;
    long long deadline = harness_now_ms() + wait_ms;
    while (harness_now_ms() < deadline) {
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            proc_untrack(pid);
            p->pid = 0;
            return -1;
        }
        if (answers_ping(p->port))
            return 0;
        harness_sleep_ms(20);
    }
    return -1;
}

int proc_start_sluice(struct proc *p, const char *dir, const char *const *extra)
{
    return proc_start(p, harness_server_path(), dir, extra, 120000);
}

void proc_kill9(struct proc *p)
{
    if (p->pid <= 0)
        return;
    kill(p->pid, SIGKILL);
    waitpid(p->pid, NULL, 0);
    proc_untrack(p->pid);
    p->pid = 0;
}

int proc_wait_exit(struct proc *p, int ms)
{
    long long deadline = harness_now_ms() + ms;
    int st;
    while (harness_now_ms() < deadline) {
        if (waitpid(p->pid, &st, WNOHANG) == p->pid) {
            proc_untrack(p->pid);
            p->pid = 0;
            return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
        }
        harness_sleep_ms(10);
    }
    return -2;
}

int proc_stop(struct proc *p)
{
    if (p->pid <= 0)
        return -1;
    kill(p->pid, SIGTERM);
    int st = proc_wait_exit(p, 60000);
    if (st == -2)
        proc_kill9(p);
    return st;
}

redisContext *proc_conn(const struct proc *p)
{
    struct timeval tv = {60, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", p->port, tv);
    if (c && !c->err)
        redisSetTimeout(c, tv);
    return c;
}

pid_t proc_child_of(pid_t pid)
{
    char path[128], line[256];
    snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    pid_t child = 0;
    if (fgets(line, sizeof(line), fp))
        child = (pid_t)atoi(line);
    fclose(fp);
    return child;
}
