/* networking.c - connections: accept, read, parse, batched writes, close.
 *
 * Life of a request: the read callback appends socket bytes to the
 * client's query buffer and parses as many whole commands as it holds
 * (resp.c); each is dispatched by process_command() (server.c), whose
 * replies go to the client's output chain (reply.c) and put the client on
 * srv.pending_writes.  After every event-loop iteration the server calls
 * flush_pending_writes(): one write()/writev() per client covers all the
 * replies of that iteration (pipelining costs one syscall), and only a
 * client whose socket would block gets an EV_WRITE event.
 *
 * Clients are never freed while a command of theirs runs: closing is
 * deferred with CLIENT_CLOSE_ASAP and done between iterations.
 */
#include "networking.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "blocking.h"
#include "commit_gate.h"
#include "db.h"
#include "hooks.h"
#include "mem.h"
#include "server.h"
#include "util.h"

#define MAX_ACCEPTS_PER_CALL 1000
#define WRITEV_MAX_BLOCKS 64
#define QUERYBUF_SHRINK_IDLE_S 2
/* Redis's PROTO_RESIZE_THRESHOLD: a query buffer above this shrinks once
 * the peak of recent requests is under half of it */
#define QUERYBUF_RESIZE_THRESHOLD (32 * 1024)

static void read_handler(evutil_socket_t fd, short what, void *arg);
static void write_handler(evutil_socket_t fd, short what, void *arg);

static int set_nonblock(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static void format_addr(char *buf, size_t size, const struct sockaddr_storage *sa)
{
    char ip[INET6_ADDRSTRLEN];
    int port;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(buf, size, "%s:%d", ip, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(buf, size, "[%s]:%d", ip, port);
    } else {
        snprintf(buf, size, "%s", "?");
    }
}

static int is_loopback(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr))
            return 1;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr))
            return s->sin6_addr.s6_addr[12] == 127;
        return 0;
    }
    return 1; /* unix sockets are local */
}

struct client *client_create(int fd, int is_unix)
{
    struct client *c = mem_calloc(sizeof(*c));
    c->id = ++srv.next_client_id;
    c->fd = fd;
    c->resp = 2;
    c->acks = -1;
    c->commit_level = (int8_t)srv.acks;
    c->db = srv.dbs[0];
    c->authenticated = srv.requirepass == NULL || srv.requirepass[0] == '\0';
    c->querybuf = sstr_empty(0);
    resp_parser_init(&c->parser);
    c->parser.max_bulk_len = srv.proto_max_bulk_len;
    c->parser.auth_required = !c->authenticated;
    c->ctime = time(NULL);
    c->last_interaction = srv.unixtime;
    list_init(&c->watched_keys);
    list_init(&c->bstate.keys);
    list_node_init(&c->node);
    list_node_init(&c->pending_node);
    list_node_init(&c->pause_node);
    list_node_init(&c->monitor_node);
    list_node_init(&c->unblocked_node);
    list_node_init(&c->bstate.timeout_node);
    if (is_unix)
        c->flags |= CLIENT_UNIX_SOCKET;
    if (fd >= 0) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        if (is_unix) {
            snprintf(c->addr, sizeof(c->addr), "%s:0", srv.unixsocket ? srv.unixsocket : "");
            snprintf(c->laddr, sizeof(c->laddr), "%s:0", srv.unixsocket ? srv.unixsocket : "");
        } else {
            if (getpeername(fd, (struct sockaddr *)&sa, &len) == 0)
                format_addr(c->addr, sizeof(c->addr), &sa);
            len = sizeof(sa);
            if (getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
                format_addr(c->laddr, sizeof(c->laddr), &sa);
        }
        c->ev_read = event_new(srv.base, fd, EV_READ | EV_PERSIST, read_handler, c);
        c->ev_write = event_new(srv.base, fd, EV_WRITE | EV_PERSIST, write_handler, c);
        event_add(c->ev_read, NULL);
        list_add_tail(&srv.clients, &c->node);
    }
    return c;
}

void client_free_owned_argv(struct client *c)
{
    if (c->owned_argv) {
        if (c->argv == c->owned_argv) {
            c->argv = NULL;
            c->argc = 0;
        }
        mem_free(c->owned_argv);
        c->owned_argv = NULL;
    }
}

/* Copy the current argv (which points into the query buffer or the
 * parser's inline buffer) into one allocation the client owns, so it
 * survives further reads: needed by commands that block or pause. */
void client_own_argv(struct client *c)
{
    if (c->argv && c->argv == c->owned_argv)
        return;
    size_t bytes = sizeof(struct arg) * (size_t)c->argc;
    for (int i = 0; i < c->argc; i++)
        bytes += c->argv[i].len + 1;
    struct arg *copy = mem_alloc(bytes);
    char *p = (char *)(copy + c->argc);
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].ptr, c->argv[i].len);
        p[c->argv[i].len] = '\0';
        copy[i].ptr = p;
        copy[i].len = c->argv[i].len;
        p += c->argv[i].len + 1;
    }
    client_free_owned_argv(c);
    c->owned_argv = copy;
    c->argv = copy;
}

static void unlink_client(struct client *c)
{
    if (c->fd >= 0) {
        if (c->ev_read) {
            event_free(c->ev_read);
            c->ev_read = NULL;
        }
        if (c->ev_write) {
            event_free(c->ev_write);
            c->ev_write = NULL;
        }
        close(c->fd);
        c->fd = -1;
    }
    if (list_node_linked(&c->node))
        list_del(&srv.clients, &c->node);
    if (c->flags & CLIENT_GATE_HELD) {
        commit_gate_forget(c);
    } else if (list_node_linked(&c->pending_node)) {
        list_del(&srv.pending_writes, &c->pending_node);
        c->flags &= ~CLIENT_PENDING_WRITE;
    }
    if (list_node_linked(&c->monitor_node))
        list_del(&srv.monitors, &c->monitor_node);
    if (list_node_linked(&c->unblocked_node))
        list_del(&srv.clients_to_close, &c->unblocked_node);
}

void client_free(struct client *c)
{
    if (srv.current_client == c) {
        /* a command of this client is running: finish it first */
        client_close_async(c);
        return;
    }
    if (c->flags & CLIENT_BLOCKED)
        blocking_remove_client(c);
    if (c->flags & CLIENT_PAUSED) {
        list_del(&srv.paused_clients, &c->pause_node);
        c->flags &= ~CLIENT_PAUSED;
    }
    sstr_free(c->master_paused_raw);
    c->master_paused_raw = NULL;
    if (c->flags & (CLIENT_REPLICA | CLIENT_MASTER))
        hooks_run_link_free(c);
    watch_unwatch_all(c);
    multi_discard(c);
    unlink_client(c);
    reply_free_chain(c);
    sstr_free(c->querybuf);
    resp_parser_free(&c->parser);
    client_free_owned_argv(c);
    sstr_free(c->name);
    mem_free(c);
}

void client_close_async(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    c->flags |= CLIENT_CLOSE_ASAP;
    list_add_tail(&srv.clients_to_close, &c->unblocked_node);
}

static void free_clients_to_close(void)
{
    struct list_node *n;
    while ((n = list_first(&srv.clients_to_close)) != NULL) {
        struct client *c = list_entry(n, struct client, unblocked_node);
        list_del(&srv.clients_to_close, n);
        c->flags &= ~CLIENT_CLOSE_ASAP;
        if (srv.current_client == c) {
            /* cannot happen between iterations; keep the invariant loud */
            server_panic("freeing a running client");
        }
        client_free(c);
    }
}

void client_set_protocol_error(struct client *c)
{
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

struct client *client_lookup_by_id(uint64_t id)
{
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.clients)
    {
        struct client *c = list_entry(n, struct client, node);
        if (c->id == id)
            return c;
    }
    return NULL;
}

/* Reset per-command state after a command completed (not when it
 * blocked: the blocked command's argv must stay until it is retried). */
static void reset_after_command(struct client *c)
{
    client_free_owned_argv(c);
    c->argc = 0;
    c->argv = NULL;
    c->cmd = NULL;
    c->flags &= ~CLIENT_REPLY_SKIP;
    if (c->flags & CLIENT_REPLY_SKIP_NEXT) {
        c->flags |= CLIENT_REPLY_SKIP;
        c->flags &= ~CLIENT_REPLY_SKIP_NEXT;
    }
}

void client_process_input(struct client *c)
{
    if (!c->querybuf)
        return; /* idle: the cron gave the buffer back */
    srv.current_client = c;
    while (c->qb_pos < sstr_len(c->querybuf)) {
        if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED | CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP))
            break;
        size_t consumed = 0;
        c->parser.auth_required = !c->authenticated;
        c->parser.max_bulk_len = srv.proto_max_bulk_len;
        enum resp_result r =
            resp_parse(&c->parser, c->querybuf + c->qb_pos, sstr_len(c->querybuf) - c->qb_pos, &consumed);
        if (r == RESP_NEED_MORE)
            break;
        if (r == RESP_ERROR) {
            reply_error(c, c->parser.error);
            server_log(LL_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s", c->parser.error,
                       (unsigned long long)c->id, c->addr);
            client_set_protocol_error(c);
            /* drop the rest of the input: nothing after a protocol error is trusted */
            c->qb_pos = sstr_len(c->querybuf);
            break;
        }
        if (r == RESP_EMPTY) {
            if (c->flags & CLIENT_MASTER)
                hooks_run_master_applied(c, c->querybuf + c->qb_pos, consumed);
            c->qb_pos += consumed;
            continue;
        }
        c->argc = c->parser.argc;
        c->argv = c->parser.argv;
        process_command(c);
        if ((c->flags & (CLIENT_MASTER | CLIENT_PAUSED)) == (CLIENT_MASTER | CLIENT_PAUSED))
            /* held by CLIENT PAUSE: applied (and relayed, and counted in
             * the offset we acknowledge) only once it runs */
            c->master_paused_raw = sstr_new(c->querybuf + c->qb_pos, consumed);
        else if (c->flags & CLIENT_MASTER)
            hooks_run_master_applied(c, c->querybuf + c->qb_pos, consumed);
        c->qb_pos += consumed;
        if (!(c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED)))
            reset_after_command(c);
        else
            client_own_argv(c);
    }
    srv.current_client = NULL;
    if (c->qb_pos) {
        sstr_consume(c->querybuf, c->qb_pos);
        c->qb_pos = 0;
    }
}

/* The command of a client that was blocked or paused finished: resume
 * normal state and run whatever else it had pipelined. */
void client_command_done(struct client *c)
{
    reset_after_command(c);
}

static void read_handler(evutil_socket_t fd, short what, void *arg)
{
    struct client *c = arg;
    (void)what;
    if (c->flags & (CLIENT_CLOSE_ASAP | CLIENT_CLOSE_AFTER_REPLY))
        return;
    size_t readlen = IOBUF_LEN;
    size_t big = c->querybuf ? resp_bulk_remaining(&c->parser, sstr_len(c->querybuf) - c->qb_pos) : 0;
    if (big > readlen)
        readlen = big;
    if (!c->querybuf) {
        /* the first read after the cron took an idle client's buffer */
        c->querybuf = sstr_empty(readlen);
        if (c->querybuf_peak < readlen)
            c->querybuf_peak = readlen;
    } else if (big > IOBUF_LEN || sstr_cap(c->querybuf) < IOBUF_LEN) {
        /* a client's first read, or one big argument: just the room
         * needed, as Redis (doubling would give every new client a 32 KiB
         * buffer, and a 20 MiB argument 40 MiB).  Room asked for is room
         * about to be used: it counts in the peak, so the cron doesn't
         * take it back first (as Redis) */
        c->querybuf = sstr_reserve_exact(c->querybuf, readlen);
        if (c->querybuf_peak < sstr_len(c->querybuf) + readlen)
            c->querybuf_peak = sstr_len(c->querybuf) + readlen;
    } else {
        c->querybuf = sstr_reserve(c->querybuf, readlen);
    }
    size_t have = sstr_len(c->querybuf);
    ssize_t n = read(fd, c->querybuf + have, readlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
            return;
        server_log(LL_VERBOSE, "Reading from client: %s", strerror(errno));
        client_free(c);
        return;
    }
    if (n == 0) {
        server_log(LL_VERBOSE, "Client closed connection id=%llu addr=%s", (unsigned long long)c->id, c->addr);
        client_free(c);
        return;
    }
    sstr_setlen(c->querybuf, have + (size_t)n);
    srv.stat_net_input_bytes += n;
    srv.stat_total_reads_processed++;
    c->last_interaction = srv.unixtime;
    if (sstr_len(c->querybuf) > c->querybuf_peak)
        c->querybuf_peak = sstr_len(c->querybuf);
    if ((long long)sstr_len(c->querybuf) > srv.client_max_querybuf_len) {
        server_log(LL_WARNING, "Closing client that reached max query buffer length: id=%llu addr=%s (qbuf=%zu)",
                   (unsigned long long)c->id, c->addr, sstr_len(c->querybuf));
        srv.stat_client_qbuf_limit_disconnections++;
        client_free(c);
        return;
    }
    client_process_input(c);
}

/* Write as much of the output chain as the socket takes.  Returns -1 when
 * the client had to be freed. */
static int write_to_client(struct client *c)
{
    while (c->reply_bytes > 0) {
        struct iovec iov[WRITEV_MAX_BLOCKS];
        int cnt = 0;
        size_t total = 0;
        for (struct reply_block *b = c->reply_head; b && cnt < WRITEV_MAX_BLOCKS; b = b->next) {
            if (b->deferred)
                server_panic("deferred reply length never set");
            size_t off = b == c->reply_head ? c->sent_in_head : 0;
            if (b->used == off)
                continue;
            iov[cnt].iov_base = b->buf + off;
            iov[cnt].iov_len = b->used - off;
            total += iov[cnt].iov_len;
            cnt++;
        }
        ssize_t n = cnt == 1 ? write(c->fd, iov[0].iov_base, iov[0].iov_len) : writev(c->fd, iov, cnt);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                return 0;
            server_log(LL_VERBOSE, "Error writing to client: %s", strerror(errno));
            client_free(c);
            return -1;
        }
        srv.stat_net_output_bytes += n;
        srv.stat_total_writes_processed++;
        c->reply_bytes -= (size_t)n;
        size_t left = (size_t)n;
        while (left && c->reply_head) {
            struct reply_block *b = c->reply_head;
            size_t avail = b->used - c->sent_in_head;
            if (left < avail) {
                c->sent_in_head += left;
                break;
            }
            left -= avail;
            c->sent_in_head = 0;
            /* (usable sizes are rounded up by the allocator: a standard
             * block is anything under two chunks) */
            if (b == c->reply_tail && b->size < 2 * REPLY_CHUNK_BYTES) {
                /* keep the last block: most clients reply again soon, and
                 * a malloc/free pair per round trip is measurable */
                b->used = 0;
                break;
            }
            c->reply_head = b->next;
            if (!c->reply_head)
                c->reply_tail = NULL;
            mem_free(b);
        }
        if ((size_t)n < total)
            return 0; /* socket buffer full: EV_WRITE will continue */
    }
    if (c->on_output_drained) {
        c->on_output_drained(c); /* may queue the next window (then pending again) */
        if (c->reply_bytes)
            return 0;
    }
    if (c->flags & CLIENT_WRITE_INSTALLED) {
        event_del(c->ev_write);
        c->flags &= ~CLIENT_WRITE_INSTALLED;
    }
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
        client_free(c);
        return -1;
    }
    return 0;
}

static void write_handler(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    struct client *c = arg;
    /* the rest of a reply whose writes are not durable yet waits at the
     * gate, without the EV_WRITE event: the gate's release puts the client
     * back on the pending writes */
    if (commit_gate_holds(c)) {
        event_del(c->ev_write);
        c->flags &= ~CLIENT_WRITE_INSTALLED;
        if (!(c->flags & (CLIENT_PENDING_WRITE | CLIENT_GATE_HELD)))
            commit_gate_hold(c);
        return;
    }
    write_to_client(c);
}

static int output_limit_reached(struct client *c)
{
    int cls = (c->flags & (CLIENT_MONITOR | CLIENT_REPLICA)) ? 1 : 0; /* monitors count as replicas in Redis */
    long long hard = srv.client_obuf_limits[cls][0];
    long long soft = srv.client_obuf_limits[cls][1];
    long long soft_s = srv.client_obuf_limits[cls][2];
    long long used = (long long)c->reply_bytes;
    if (hard && used >= hard)
        return 1;
    if (soft && used >= soft) {
        if (!c->obuf_soft_limit_since) {
            c->obuf_soft_limit_since = srv.unixtime;
            return 0;
        }
        return srv.unixtime - c->obuf_soft_limit_since >= soft_s;
    }
    c->obuf_soft_limit_since = 0;
    return 0;
}

void flush_pending_writes(void)
{
    struct list_node *n;
    while ((n = list_first(&srv.pending_writes)) != NULL) {
        struct client *c = list_entry(n, struct client, pending_node);
        list_del(&srv.pending_writes, n);
        c->flags &= ~CLIENT_PENDING_WRITE;
        if (c->flags & CLIENT_CLOSE_ASAP)
            continue;
        if (commit_gate_holds(c)) {
            commit_gate_hold(c);
            continue;
        }
        if (output_limit_reached(c)) {
            server_log(LL_WARNING, "Client id=%llu addr=%s scheduled to be closed ASAP for overcoming of output buffer limits.",
                       (unsigned long long)c->id, c->addr);
            srv.stat_client_outbuf_limit_disconnections++;
            client_close_async(c);
            continue;
        }
        if (write_to_client(c) < 0)
            continue;
        if (c->reply_bytes && !(c->flags & CLIENT_WRITE_INSTALLED)) {
            event_add(c->ev_write, NULL);
            c->flags |= CLIENT_WRITE_INSTALLED;
        }
    }
    free_clients_to_close();
}

/* ---- accepting -------------------------------------------------------- */

static const char *protected_mode_error =
    "-DENIED Sluice is running in protected mode because protected mode is enabled and no password is set "
    "for the default user. In this mode connections are only accepted from the loopback interface. If you "
    "want to connect from external computers to Sluice you may adopt one of the following solutions: 1) Just "
    "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    "connecting to Sluice from the same host the server is running, however MAKE SURE Sluice is not publicly "
    "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Sluice configuration file, and setting the "
    "protected mode option to 'no', and then restarting the server. 3) If you started the server manually just "
    "for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for "
    "the default user. NOTE: You only need to do one of the above things in order for the server to start "
    "accepting connections from the outside.\r\n";

static void tune_socket(int fd, int is_unix)
{
    set_nonblock(fd);
    if (is_unix)
        return;
    int yes = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    if (srv.tcpkeepalive > 0) {
        int idle = srv.tcpkeepalive, intvl = srv.tcpkeepalive / 3, cnt = 3;
        if (intvl == 0)
            intvl = 1;
        setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &yes, sizeof(yes));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    }
}

static void reject(int fd, const char *msg)
{
    /* best effort, as Redis: the client may not read it */
    if (write(fd, msg, strlen(msg)) < 0) {
    }
    close(fd);
    srv.stat_rejected_conn++;
}

static void accept_handler(evutil_socket_t lfd, short what, void *arg)
{
    int is_unix = arg != NULL;
    (void)what;
    for (int i = 0; i < MAX_ACCEPTS_PER_CALL; i++) {
        struct sockaddr_storage sa;
        socklen_t len = sizeof(sa);
        int fd = accept(lfd, (struct sockaddr *)&sa, &len);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                server_log(LL_WARNING, "Accepting client connection: %s", strerror(errno));
            return;
        }
        tune_socket(fd, is_unix);
        if ((long long)srv.clients.len >= srv.maxclients) {
            reject(fd, "-ERR max number of clients reached\r\n");
            continue;
        }
        if (!is_unix && srv.protected_mode && (!srv.requirepass || !srv.requirepass[0]) && !is_loopback(&sa)) {
            reject(fd, protected_mode_error);
            continue;
        }
        srv.stat_numconnections++;
        struct client *c = client_create(fd, is_unix);
        server_log(LL_VERBOSE, "Accepted %s", c->addr);
    }
}

static int listen_tcp(const char *addr, int port, sstr *err)
{
    int optional = 0;
    if (addr[0] == '-') {
        /* "-::1": bind if available, don't fail when IPv6 is off */
        optional = 1;
        addr++;
    }
    int is6 = strchr(addr, ':') != NULL;
    int fd = socket(is6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        goto fail;
    int yes = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (is6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &yes, sizeof(yes));
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    socklen_t sl;
    if (is6) {
        struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
        s->sin6_family = AF_INET6;
        s->sin6_port = htons((uint16_t)port);
        if (strcmp(addr, "::*") == 0)
            s->sin6_addr = in6addr_any;
        else if (inet_pton(AF_INET6, addr, &s->sin6_addr) != 1)
            goto badaddr;
        sl = sizeof(*s);
    } else {
        struct sockaddr_in *s = (struct sockaddr_in *)&ss;
        s->sin_family = AF_INET;
        s->sin_port = htons((uint16_t)port);
        if (strcmp(addr, "*") == 0)
            s->sin_addr.s_addr = htonl(INADDR_ANY);
        else if (inet_pton(AF_INET, addr, &s->sin_addr) != 1)
            goto badaddr;
        sl = sizeof(*s);
    }
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, srv.tcp_backlog) < 0)
        goto fail;
    set_nonblock(fd);
    return fd;
badaddr:
    errno = EINVAL;
fail:
    if (optional && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
        if (fd >= 0)
            close(fd);
        return -2;
    }
    *err = sstr_catfmt(*err, "Could not create server TCP listening socket %s:%d: %s", addr, port, strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

static int listen_unix(const char *path, int perm, sstr *err)
{
    struct sockaddr_un sa;
    if (strlen(path) >= sizeof(sa.sun_path)) {
        *err = sstr_catfmt(*err, "unixsocket path too long: %s", path);
        return -1;
    }
    unlink(path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, path);
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, srv.tcp_backlog) < 0)
        goto fail;
    if (perm)
        chmod(path, (mode_t)perm);
    set_nonblock(fd);
    return fd;
fail:
    *err = sstr_catfmt(*err, "Failed opening Unix socket: %s", strerror(errno));
    if (fd >= 0)
        close(fd);
    return -1;
}

void close_listeners(void)
{
    for (int i = 0; i < srv.listen_count; i++) {
        event_free(srv.listen_events[i]);
        close(srv.listen_fds[i]);
    }
    srv.listen_count = 0;
}

static int open_listeners(int *fds, int *is_unix, int *count, sstr *err)
{
    *count = 0;
    if (srv.port != 0) {
        for (int i = 0; i < srv.bindaddr_count; i++) {
            int fd = listen_tcp(srv.bindaddr[i], srv.port, err);
            if (fd == -2)
                continue;
            if (fd < 0)
                goto fail;
            is_unix[*count] = 0;
            fds[(*count)++] = fd;
        }
    }
    if (srv.unixsocket && srv.unixsocket[0]) {
        int fd = listen_unix(srv.unixsocket, srv.unixsocketperm, err);
        if (fd < 0)
            goto fail;
        is_unix[*count] = 1;
        fds[(*count)++] = fd;
    }
    return 0;
fail:
    for (int i = 0; i < *count; i++)
        close(fds[i]);
    *count = 0;
    return -1;
}

/* The old listeners are closed first: the new set usually reuses some of
 * the same addresses (bind changed, port kept).  On failure nothing is
 * listening; the caller (CONFIG SET) restores the old settings and calls
 * again, which reopens them. */
int listen_on_configured_addresses_err(sstr *err)
{
    int fds[CONFIG_MAX_BIND + 1], is_unix[CONFIG_MAX_BIND + 1], count;
    close_listeners();
    if (open_listeners(fds, is_unix, &count, err) < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        srv.listen_fds[i] = fds[i];
        srv.listen_events[i] =
            event_new(srv.base, fds[i], EV_READ | EV_PERSIST, accept_handler, is_unix[i] ? (void *)1 : NULL);
        event_add(srv.listen_events[i], NULL);
    }
    srv.listen_count = count;
    return 0;
}

int listen_on_configured_addresses(void)
{
    sstr err = sstr_empty(0);
    int r = listen_on_configured_addresses_err(&err);
    if (r < 0)
        server_log(LL_WARNING, "%s", err);
    sstr_free(err);
    return r;
}

/* ---- periodic work ------------------------------------------------------ */

/* Redis 7.0's clientsCronResizeQueryBuffer, once per cron pass: a buffer
 * wasting more than 4 KB is given back when the client has been idle for
 * more than 2 s (all of it when empty: CLIENT LIST then shows qbuf=0
 * qbuf-free=0, as Redis), or, when it is over 32 KB and twice the peak
 * of the requests since the last pass, cut to that peak (never below what
 * it holds or the big argument being read).  The peak then restarts from
 * what the buffer holds.  Runs between commands, when no argv points into
 * the buffer (a blocked or paused client owns its argv). */
static void resize_query_buffer(struct client *c)
{
    sstr q = c->querybuf;
    if (!q)
        return;
    size_t len = sstr_len(q);
    size_t need = len + resp_bulk_remaining(&c->parser, len);
    if (sstr_avail(q) > 4096) {
        if (srv.unixtime - c->last_interaction > QUERYBUF_SHRINK_IDLE_S) {
            if (len == 0) {
                sstr_free(q);
                c->querybuf = NULL;
            } else {
                c->querybuf = sstr_shrink(q);
            }
        } else if (sstr_cap(q) > QUERYBUF_RESIZE_THRESHOLD && sstr_cap(q) / 2 > c->querybuf_peak) {
            size_t size = len;
            if (size < c->querybuf_peak)
                size = c->querybuf_peak;
            if (size < need)
                size = need;
            if (size == 0) { /* nothing held or coming: all of it back */
                sstr_free(q);
                c->querybuf = NULL;
                c->querybuf_peak = 0;
                return;
            }
            sstr n = sstr_empty(size);
            memcpy(n, q, len + 1);
            sstr_setlen(n, len);
            sstr_free(q);
            c->querybuf = n;
        }
    }
    c->querybuf_peak = need;
}

void clients_cron(void)
{
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.clients)
    {
        struct client *c = list_entry(n, struct client, node);
        if (c->flags & CLIENT_CLOSE_ASAP)
            continue;
        if (srv.maxidletime &&
            !(c->flags & (CLIENT_BLOCKED | CLIENT_MONITOR | CLIENT_PAUSED | CLIENT_REPLICA | CLIENT_MASTER)) &&
            srv.unixtime - c->last_interaction > srv.maxidletime) {
            server_log(LL_VERBOSE, "Closing idle client");
            client_close_async(c);
            continue;
        }
        resize_query_buffer(c);
        if (c->reply_bytes == 0 && c->reply_head && !(c->flags & CLIENT_PENDING_WRITE) &&
            srv.unixtime - c->last_interaction > QUERYBUF_SHRINK_IDLE_S)
            reply_free_chain(c);
    }
}

const char *client_type_name(const struct client *c)
{
    if (c->flags & CLIENT_MASTER)
        return "master";
    if (c->flags & (CLIENT_MONITOR | CLIENT_REPLICA))
        return "replica";
    return "normal";
}
