/* sluice-proxy - a TCP proxy for the replication tests: a slow or distant
 * link, and a partition, on one machine.
 *
 *   sluice-proxy LISTEN_PORT TARGET_PORT DELAY_MS
 *
 * Accepts on 127.0.0.1:LISTEN_PORT and connects each client to
 * 127.0.0.1:TARGET_PORT.  Every chunk read in either direction is held
 * DELAY_MS before it is written on (a one-way delay, order kept).
 * SIGUSR1 partitions the link: nothing more is delivered either way, the
 * connections stay open and what is read waits, as TCP keeps unacked
 * bytes through a partition; SIGUSR2 heals it and the bytes flow on, in
 * order (the peers' own timeouts decide whether the link survived).  The
 * tests kill it with SIGKILL together with the server behind it, as when a
 * machine dies.  Prints "ready" on stdout once it listens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PAIRS 64
#define CHUNK 65536

struct chunk {
    struct chunk *next;
    long long due_ms;
    size_t len, off;
    char data[];
};

/* one direction: bytes read from `from`, written to `to` when due */
struct pipe_dir {
    int from, to;
    struct chunk *head, *tail;
};

struct pair {
    int used;
    struct pipe_dir dir[2];
};

static struct pair pairs[MAX_PAIRS];
static long long delay_ms;
static volatile sig_atomic_t partitioned;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_usr1(int sig)
{
    (void)sig;
    partitioned = 1;
}

static void on_usr2(int sig)
{
    (void)sig;
    partitioned = 0;
}

static void close_pair(struct pair *p)
{
    close(p->dir[0].from);
    close(p->dir[1].from);
    for (int d = 0; d < 2; d++) {
        struct chunk *c = p->dir[d].head;
        while (c) {
            struct chunk *n = c->next;
            free(c);
            c = n;
        }
    }
    memset(p, 0, sizeof(*p));
}

static int connect_target(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    return fd;
}

/* Read what is there; queue it with its due time (or drop it). 0 on EOF. */
static int read_dir(struct pipe_dir *d)
{
    char buf[CHUNK];
    ssize_t n = read(d->from, buf, sizeof(buf));
    if (n <= 0)
        return n < 0 && (errno == EINTR || errno == EAGAIN) ? 1 : 0;
    struct chunk *c = malloc(sizeof(*c) + (size_t)n);
    if (!c)
        return 0;
    c->next = NULL;
    c->due_ms = now_ms() + delay_ms;
    c->len = (size_t)n;
    c->off = 0;
    memcpy(c->data, buf, (size_t)n);
    if (d->tail)
        d->tail->next = c;
    else
        d->head = c;
    d->tail = c;
    return 1;
}

/* Write the chunks that are due. 0 on a write error. */
static int flush_dir(struct pipe_dir *d, long long now)
{
    while (!partitioned && d->head && d->head->due_ms <= now) {
        struct chunk *c = d->head;
        ssize_t n = write(d->to, c->data + c->off, c->len - c->off);
        if (n < 0)
            return errno == EAGAIN || errno == EINTR;
        c->off += (size_t)n;
        if (c->off < c->len)
            return 1;
        d->head = c->next;
        if (!d->head)
            d->tail = NULL;
        free(c);
    }
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sluice-proxy LISTEN_PORT TARGET_PORT DELAY_MS\n");
        return 2;
    }
    int lport = atoi(argv[1]), tport = atoi(argv[2]);
    delay_ms = atoll(argv[3]);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGUSR1, on_usr1);
    signal(SIGUSR2, on_usr2);
    int ls = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)lport)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(ls, 16) < 0) {
        perror("sluice-proxy: listen");
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        struct pollfd pfd[1 + 2 * MAX_PAIRS];
        int idx[1 + 2 * MAX_PAIRS];
        int n = 0;
        pfd[n].fd = ls;
        pfd[n].events = POLLIN;
        idx[n++] = -1;
        long long now = now_ms(), next_due = -1;
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (!pairs[i].used)
                continue;
            for (int d = 0; d < 2; d++) {
                struct pipe_dir *pd = &pairs[i].dir[d];
                pfd[n].fd = pd->from;
                pfd[n].events = POLLIN;
                idx[n++] = i * 2 + d;
                if (pd->head && (next_due < 0 || pd->head->due_ms < next_due))
                    next_due = pd->head->due_ms;
            }
        }
        int timeout = next_due < 0 ? 100 : (int)(next_due > now ? next_due - now : 0);
        if (timeout > 100)
            timeout = 100;
        if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
            return 1;
        for (int k = 0; k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (idx[k] < 0) {
                int c = accept(ls, NULL, NULL);
                if (c < 0)
                    continue;
                setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                int t = connect_target(tport);
                int slot = -1;
                for (int i = 0; i < MAX_PAIRS && slot < 0; i++)
                    if (!pairs[i].used)
                        slot = i;
                if (t < 0 || slot < 0) {
                    close(c);
                    if (t >= 0)
                        close(t);
                    continue;
                }
                fcntl(c, F_SETFL, fcntl(c, F_GETFL) | O_NONBLOCK);
                fcntl(t, F_SETFL, fcntl(t, F_GETFL) | O_NONBLOCK);
                pairs[slot].used = 1;
                pairs[slot].dir[0] = (struct pipe_dir){.from = c, .to = t};
                pairs[slot].dir[1] = (struct pipe_dir){.from = t, .to = c};
                continue;
            }
            struct pair *p = &pairs[idx[k] / 2];
            if (p->used && !read_dir(&p->dir[idx[k] % 2]))
                close_pair(p);
        }
        now = now_ms();
        for (int i = 0; i < MAX_PAIRS; i++)
            if (pairs[i].used && (!flush_dir(&pairs[i].dir[0], now) || !flush_dir(&pairs[i].dir[1], now)))
                close_pair(&pairs[i]);
    }
}
