/* diff_server.c - the two server processes: spawn, readiness, stop, clean-up (see diff.h). */
#define _GNU_SOURCE
#include "diff.h"


server_t srv[NSIDES];
volatile sig_atomic_t sig_pids[NSIDES];
int keep_dirs;
/* Copies of the temp dir paths for the signal handler (which may only make
 * async-signal-safe calls: it unlinks the log and removes the dir). */
char sig_dirs[NSIDES][PATH_MAX];
char sig_logs[NSIDES][PATH_MAX + 16];

void on_signal(int sig)
{
    /* async-signal-safe: kill and reap our servers, then die by the signal */
    for (int i = 0; i < NSIDES; i++)
        if (sig_pids[i] > 0) kill((pid_t)sig_pids[i], SIGTERM);
    for (int t = 0; t < 200; t++) {
        int alive = 0;
        for (int i = 0; i < NSIDES; i++) {
            if (sig_pids[i] <= 0) continue;
            if (waitpid((pid_t)sig_pids[i], NULL, WNOHANG) == 0) alive = 1;
            else sig_pids[i] = 0;
        }
        if (!alive) break;
        struct timespec ts = {0, 10000000L};
        nanosleep(&ts, NULL);
    }
    for (int i = 0; i < NSIDES; i++)
        if (sig_pids[i] > 0) {
            kill((pid_t)sig_pids[i], SIGKILL);
            waitpid((pid_t)sig_pids[i], NULL, 0);
        }
    if (!keep_dirs)
        for (int i = 0; i < NSIDES; i++)
            if (sig_dirs[i][0]) {
                unlink(sig_logs[i]);
                rmdir(sig_dirs[i]);
            }
    signal(sig, SIG_DFL);
    raise(sig);
}

int pick_port(int avoid)
{
    for (int attempt = 0; attempt < 50; attempt++) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        if (fd < 0) return -1;
        struct sockaddr_in a;
        memset(&a, 0, sizeof(a));
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        a.sin_port = 0;
        socklen_t al = sizeof(a);
        if (bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
            getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
            close(fd);
            return -1;
        }
        close(fd);
        int port = ntohs(a.sin_port);
        if (port != avoid && port != 6379 && port < 55535) return port;
    }
    return -1;
}

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

void rm_rf(const char *dir)
{
    if (dir[0]) nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void log_tail(const server_t *s)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof(path), "%s/server.log", s->dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char *lines[15] = {0};
    int n = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n') line[len - 1] = '\0';
        free(lines[n % 15]);
        lines[n % 15] = xstrdup(line);
        n++;
    }
    free(line);
    fclose(f);
    diag("last lines of %s's log (%s):", s->label, path);
    for (int i = n > 15 ? n - 15 : 0; i < n; i++) diag("  %s", lines[i % 15]);
    for (int i = 0; i < 15; i++) free(lines[i]);
}

int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons((uint16_t)port);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Has the server exited?  Reaps it if so. */
int server_dead(server_t *s)
{
    if (s->pid <= 0) return 1;
    if (s->reaped) return 1;
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
        s->status = st;
        s->reaped = 1;
        for (int i = 0; i < NSIDES; i++)
            if (sig_pids[i] == s->pid) sig_pids[i] = 0;
        return 1;
    }
    return 0;
}

void describe_status(const server_t *s, char *out, size_t n)
{
    if (WIFEXITED(s->status)) snprintf(out, n, "exit status %d", WEXITSTATUS(s->status));
    else if (WIFSIGNALED(s->status))
        snprintf(out, n, "killed by signal %d (%s)", WTERMSIG(s->status),
                 strsignal(WTERMSIG(s->status)));
    else snprintf(out, n, "wait status %d", s->status);
}

int spawn_server(server_t *s, int idx, const args_t *extra, int avoid_port)
{
    s->port = pick_port(avoid_port);
    if (s->port < 0) return -1;
    s->reaped = 0;
    s->status = 0;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", s->port);
    const char *fixed[] = {s->path, "--port", portstr, "--bind", "127.0.0.1", "--save", "",
                           "--appendonly", "no", "--dir", s->dir};
    int nf = (int)(sizeof(fixed) / sizeof(fixed[0]));
    char **argv = xrealloc(NULL, sizeof(char *) * (size_t)(nf + extra->n + 1));
    for (int i = 0; i < nf; i++) argv[i] = (char *)fixed[i];
    for (int i = 0; i < extra->n; i++) argv[nf + i] = extra->v[i];
    argv[nf + extra->n] = NULL;
    char logpath[PATH_MAX + 16];
    snprintf(logpath, sizeof(logpath), "%s/server.log", s->dir);
    pid_t parent = getpid();
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        free(argv);
        return -1;
    }
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent) _exit(126);
        signal(SIGPIPE, SIG_DFL);
        int in = open("/dev/null", O_RDONLY);
        int lg = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in >= 0) dup2(in, 0);
        if (lg >= 0) {
            dup2(lg, 1);
            dup2(lg, 2);
        }
        execv(s->path, argv);
        dprintf(2, "exec %s: %s\n", s->path, strerror(errno));
        _exit(127);
    }
    free(argv);
    s->pid = pid;
    sig_pids[idx] = pid;
    return 0;
}

/* Wait until the server answers PING with +PONG.  0 ok, -1 failed. */
int wait_ready(server_t *s, int64_t deadline)
{
    while (now_ms() < deadline) {
        if (server_dead(s)) return -1;
        int fd = connect_port(s->port);
        if (fd < 0) {
            sleep_ms(10);
            continue;
        }
        static const char ping[] = "*1\r\n$4\r\nPING\r\n";
        char rep[64];
        size_t got = 0;
        int ok = 0;
        if (send_all(fd, ping, sizeof(ping) - 1) == 0) {
            while (got < 7) {
                struct pollfd pf = {fd, POLLIN, 0};
                if (poll(&pf, 1, 1000) <= 0) break;
                ssize_t r = recv(fd, rep + got, sizeof(rep) - got, 0);
                if (r <= 0) break;
                got += (size_t)r;
            }
            ok = got == 7 && memcmp(rep, "+PONG\r\n", 7) == 0;
        }
        close(fd);
        if (ok) return 0;
        sleep_ms(20);
    }
    return -1;
}

void stop_server(server_t *s)
{
    if (s->pid > 0 && !server_dead(s)) {
        kill(s->pid, SIGTERM);
        int64_t deadline = now_ms() + STOP_TIMEOUT_MS;
        while (!server_dead(s) && now_ms() < deadline) sleep_ms(5);
        if (!server_dead(s)) {
            diag("%s did not exit within %d ms of SIGTERM; sending SIGKILL", s->label,
                 STOP_TIMEOUT_MS);
            kill(s->pid, SIGKILL);
            int st;
            if (waitpid(s->pid, &st, 0) == s->pid) {
                s->status = st;
                s->reaped = 1;
            }
        }
    }
    for (int i = 0; i < NSIDES; i++)
        if (sig_pids[i] == s->pid) sig_pids[i] = 0;
}

void cleanup_dir(server_t *s)
{
    for (int i = 0; i < NSIDES; i++)
        if (s == &srv[i]) sig_dirs[i][0] = '\0';
    if (s->dir[0] && !keep_dirs) rm_rf(s->dir);
    else if (s->dir[0]) diag("kept %s's directory %s", s->label, s->dir);
    s->dir[0] = '\0';
}

void stop_all_atexit(void)
{
    for (int i = 0; i < NSIDES; i++) {
        if (srv[i].pid > 0 && !srv[i].reaped) stop_server(&srv[i]);
        if (srv[i].dir[0]) cleanup_dir(&srv[i]);
    }
}
