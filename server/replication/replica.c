/* replica.c - the replica side of replication: REPLICAOF, the handshake,
 * loading the master's RDB, applying its stream, ACKs, promotion.
 *
 * The link goes through these states (Redis 7.0's, in its order):
 *
 *   NONE        a master (srv.masterhost NULL)
 *   CONNECT     a replica without a link: the cron connects (every second)
 *   CONNECTING  non-blocking connect() in progress
 *   PONG .. PSYNC   the handshake, one command and one reply at a time:
 *               PING, AUTH (masterauth/masteruser), REPLCONF listening-port,
 *               REPLCONF ip-address (replica-announce-ip), REPLCONF capa eof
 *               capa psync2, PSYNC <replid> <offset+1> (or ? -1)
 *   TRANSFER    +FULLRESYNC: the RDB payload, `$<len>` or `$EOF:<mark>`
 *               (diskless masters), into a temp file then dbfilename
 *               (repl-diskless-load disabled) or into memory (on-empty-db,
 *               swapdb: the old data is kept aside until the load worked)
 *   CONNECTED   the stream: the socket becomes a client flagged
 *               CLIENT_MASTER whose commands run as any client's, without
 *               replies.  Each applied command's bytes are relayed as they
 *               came (the core's master-applied hook) to this server's
 *               backlog and replicas, so repl.master_repl_offset is the
 *               applied offset and chained replicas see one history.
 *
 * "Cached master": after a link is lost (or when a master becomes a
 * replica) the next PSYNC names this server's replid and offset+1, so a
 * master that has them continues (+CONTINUE) instead of a full sync.  On
 * +CONTINUE with another id the old id becomes replid2 (the master was
 * promoted) and this server's own replicas reconnect to learn the new id.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "aof.h"
#include "blocking.h"
#include "db.h"
#include "hooks.h"
#include "mem.h"
#include "rdb.h"
#include "repl.h"
#include "repl_int.h"
#include "reply.h"
#include "rio.h"
#include "server.h"
#include "util.h"

enum link_state {
    LINK_NONE,
    LINK_CONNECT,
    LINK_CONNECTING,
    LINK_RECEIVE_PONG,
    LINK_RECEIVE_AUTH,
    LINK_RECEIVE_PORT,
    LINK_RECEIVE_IP,
    LINK_RECEIVE_CAPA,
    LINK_RECEIVE_PSYNC,
    LINK_TRANSFER,
    LINK_CONNECTED,
};

#define EOF_MARK_LEN 40

static struct {
    enum link_state state;
    int fd;                     /* during the handshake and the transfer */
    struct event *ev;
    sstr in;                    /* bytes read, not yet used */
    long long last_io;          /* unixtime of the last byte from the master */
    long long down_since;       /* unixtime the link went down; 0 = never up */
    int use_cached;             /* PSYNC with our replid/offset (else ? -1) */
    /* the transfer */
    char full_replid[REPL_ID_LEN + 1];
    long long full_offset;
    int have_header;
    long long size;             /* -1: EOF-marked */
    char eofmark[EOF_MARK_LEN];
    char tail[EOF_MARK_LEN];    /* the last bytes received (EOF-marked transfers) */
    long long received;
    int to_memory;
    sstr mem;
    int tmpfd;
    char tmpfile[128];
    /* the stream */
    struct client *master;
    int stream_db;              /* the db the lost link's stream was in (cached master) */
    int started;                /* repl_replica_startup ran: later loads say nothing of our history */
    int sync_stream_db;         /* the synced RDB's repl-stream-db: where its stream goes on */
    int load_pending;           /* the payload is in: load it at the loop's top level */
    int loading_payload;        /* loading it now (clients get -LOADING meanwhile) */
    long long last_keepalive_ms; /* when the last newline went to the master while loading */
    long long fack_sent;        /* the FACK offset of our last ACK */
    long long last_periodic_ack; /* unixtime of the cron's last ACK */
    int in_isr;                 /* what our Sluice master last said: 1, 0; -1 never said */
    int skip_applied;           /* the command just applied was out of the stream (REPLCONF ISR) */
} ml = {.fd = -1, .tmpfd = -1, .in_isr = -1};

static void link_event(evutil_socket_t fd, short what, void *arg);
static void refresh_refusals(void);

int repl_is_replica(void) { return srv.masterhost != NULL; }

static const char *state_name(void)
{
    return ml.state == LINK_CONNECTED ? "up" : "down";
}

void repl_replica_link(struct repl_link_view *out)
{
    memset(out, 0, sizeof(*out));
    out->host = srv.masterhost ? srv.masterhost : "";
    out->port = srv.masterport;
    out->link_status = state_name();
    out->link_up = ml.state == LINK_CONNECTED;
    out->last_io_seconds_ago = ml.master ? srv.unixtime - ml.master->last_interaction
                               : ml.state >= LINK_RECEIVE_PONG ? srv.unixtime - ml.last_io
                                                                 : -1;
    out->sync_in_progress = ml.state == LINK_TRANSFER;
    out->sync_total_bytes = ml.size;
    out->sync_read_bytes = ml.received;
    out->repl_offset = repl.master_repl_offset;
    out->in_isr = ml.in_isr;
    out->read_repl_offset = repl.master_repl_offset;
    if (ml.master && ml.master->querybuf)
        out->read_repl_offset += (long long)(sstr_len(ml.master->querybuf) - ml.master->qb_pos);
    out->link_down_since_seconds = ml.down_since ? srv.unixtime - ml.down_since : -1;
}

/* ---- tearing down ---- */

static void close_transfer_target(int remove_file)
{
    if (ml.tmpfd != -1) {
        close(ml.tmpfd);
        ml.tmpfd = -1;
        if (remove_file)
            unlink(ml.tmpfile);
    }
    sstr_free(ml.mem);
    ml.mem = NULL;
}

/* Drop the handshake or transfer in progress (Redis's cancelReplicationHandshake). */
static void cancel_handshake(void)
{
    if (ml.ev) {
        event_free(ml.ev);
        ml.ev = NULL;
    }
    if (ml.fd != -1) {
        close(ml.fd);
        ml.fd = -1;
    }
    close_transfer_target(1);
    sstr_free(ml.in);
    ml.in = NULL;
    ml.load_pending = 0;
    if (ml.state != LINK_NONE && ml.state != LINK_CONNECTED)
        ml.state = srv.masterhost ? LINK_CONNECT : LINK_NONE;
}

static void link_lost(const char *why)
{
    server_log(LL_WARNING, "%s", why);
    cancel_handshake();
    if (srv.masterhost) {
        ml.state = LINK_CONNECT;
        ml.use_cached = 1;
    }
    refresh_refusals();
}

/* The master link client is being freed (read error, timeout, CLIENT KILL). */
static void on_link_free(struct client *c)
{
    if (c != ml.master)
        return;
    ml.master = NULL;
    ml.stream_db = c->db ? c->db->id : 0;
    ml.down_since = srv.unixtime;
    if (srv.masterhost) {
        server_log(LL_NOTICE, "Connection with master lost.");
        ml.state = LINK_CONNECT;
        ml.use_cached = 1; /* continue from where we are */
    } else {
        ml.state = LINK_NONE;
    }
    refresh_refusals();
}

/* ---- the handshake ---- */

static int send_command(const char *const *argv, int argc)
{
    sstr s = sstr_catfmt(sstr_empty(64), "*%d\r\n", argc);
    for (int i = 0; i < argc; i++)
        s = sstr_catfmt(s, "$%zu\r\n%s\r\n", strlen(argv[i]), argv[i]);
    size_t off = 0, len = sstr_len(s);
    while (off < len) {
        ssize_t n = write(ml.fd, s + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* a few hundred bytes to an idle socket: anything else is a dead link */
            sstr_free(s);
            return -1;
        }
        off += (size_t)n;
    }
    sstr_free(s);
    return 0;
}

static void connect_to_master(void)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", srv.masterport);
    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(srv.masterhost, port, &hints, &res);
    if (rc != 0) {
        server_log(LL_WARNING, "Unable to connect to MASTER: %s", gai_strerror(rc));
        return;
    }
    int fd = -1;
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd == -1)
            continue;
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 || errno == EINPROGRESS)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd == -1) {
        server_log(LL_WARNING, "Unable to connect to MASTER: %s", strerror(errno));
        return;
    }
    int one = 1;
    if (!srv.repl_disable_tcp_nodelay)
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ml.fd = fd;
    ml.in = sstr_empty(0);
    ml.state = LINK_CONNECTING;
    ml.last_io = srv.unixtime;
    ml.ev = event_new(srv.base, fd, EV_WRITE, link_event, NULL);
    event_add(ml.ev, NULL);
    server_log(LL_NOTICE, "MASTER <-> REPLICA sync started");
}

/* One reply line out of ml.in (without its \r\n); 0 when incomplete. */
static int take_line(sstr *line)
{
    const char *nl = memchr(ml.in, '\n', sstr_len(ml.in));
    if (!nl)
        return 0;
    size_t len = (size_t)(nl - ml.in);
    size_t linelen = len && ml.in[len - 1] == '\r' ? len - 1 : len;
    *line = sstr_new(ml.in, linelen);
    sstr_consume(ml.in, len + 1);
    return 1;
}

/* Send what follows `done` in the handshake; skip the optional steps. */
static int send_next_after(enum link_state done)
{
    char port[16];
    switch (done) {
    case LINK_CONNECTING: {
        const char *argv[] = {"PING"};
        ml.state = LINK_RECEIVE_PONG;
        return send_command(argv, 1);
    }
    case LINK_RECEIVE_PONG:
        if (srv.masterauth && srv.masterauth[0]) {
            ml.state = LINK_RECEIVE_AUTH;
            if (srv.masteruser && srv.masteruser[0]) {
                const char *argv[] = {"AUTH", srv.masteruser, srv.masterauth};
                return send_command(argv, 3);
            }
            const char *argv[] = {"AUTH", srv.masterauth};
            return send_command(argv, 2);
        }
        /* fall through */
    case LINK_RECEIVE_AUTH: {
        snprintf(port, sizeof(port), "%lld", srv.replica_announce_port ? srv.replica_announce_port : (long long)srv.port);
        const char *argv[] = {"REPLCONF", "listening-port", port};
        ml.state = LINK_RECEIVE_PORT;
        return send_command(argv, 3);
    }
    case LINK_RECEIVE_PORT:
        if (srv.replica_announce_ip && srv.replica_announce_ip[0]) {
            const char *argv[] = {"REPLCONF", "ip-address", srv.replica_announce_ip};
            ml.state = LINK_RECEIVE_IP;
            return send_command(argv, 3);
        }
        /* fall through */
    case LINK_RECEIVE_IP: {
        /* isr: Sluice's own capability (Redis ignores what it does not
         * know): tell us whether we are in your in-sync replicas */
        const char *argv[] = {"REPLCONF", "capa", "eof", "capa", "psync2", "capa", "isr"};
        ml.state = LINK_RECEIVE_CAPA;
        return send_command(argv, 7);
    }
    case LINK_RECEIVE_CAPA: {
        char off[32];
        const char *argv[] = {"PSYNC", "?", "-1", "FAILOVER"};
        if (ml.use_cached) {
            snprintf(off, sizeof(off), "%lld", repl.master_repl_offset + 1);
            argv[1] = repl_replid();
            argv[2] = off;
            server_log(LL_NOTICE, "Trying a partial resynchronization (request %s:%s).", argv[1], off);
        } else {
            server_log(LL_NOTICE, "Partial resynchronization not possible (no cached master)");
        }
        ml.state = LINK_RECEIVE_PSYNC;
        /* FAILOVER: the target promotes itself before it answers */
        return send_command(argv, repl_failover_in_progress() ? 4 : 3);
    }
    default:
        return -1;
    }
}

static void start_stream(int partial);
static void receive_payload(void);

/* +CONTINUE [replid]: the master has our history; the stream follows. */
static void partial_resync(const char *newid)
{
    if (newid && strlen(newid) == REPL_ID_LEN && strcmp(newid, repl_replid())) {
        /* the master was promoted: our id becomes the previous one */
        memcpy(repl.replid2, repl_replid(), REPL_ID_LEN);
        repl.replid2[REPL_ID_LEN] = '\0';
        repl.second_repl_offset = repl.master_repl_offset + 1;
        repl_set_replid(newid);
        /* our replicas must learn the new id: they reconnect and continue */
        repl_master_disconnect_replicas();
        server_log(LL_NOTICE, "Master replication ID changed to %s", newid);
    }
    repl_backlog_create();
    server_log(LL_NOTICE, "Successful partial resynchronization with master.");
    server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
    start_stream(1);
}

/* A handshake reply; returns -1 when the link must be dropped. */
static int handle_line(const char *line)
{
    switch (ml.state) {
    case LINK_RECEIVE_PONG:
        /* -NOAUTH / -NOPERM are fine here: AUTH comes next (Redis's rule) */
        if (line[0] == '-' && strncmp(line, "-NOAUTH", 7) && strncmp(line, "-NOPERM", 7) &&
            strncmp(line, "-ERR operation not permitted", 28)) {
            server_log(LL_WARNING, "Error reply to PING from master: '%s'", line);
            return -1;
        }
        server_log(LL_NOTICE, "Master replied to PING, replication can continue...");
        return send_next_after(LINK_RECEIVE_PONG);
    case LINK_RECEIVE_AUTH:
        if (line[0] == '-') {
            server_log(LL_WARNING, "Unable to AUTH to MASTER: %s", line);
            return -1;
        }
        return send_next_after(LINK_RECEIVE_AUTH);
    case LINK_RECEIVE_PORT:
        if (line[0] == '-')
            server_log(LL_NOTICE, "(Non critical) Master does not understand REPLCONF listening-port: %s", line);
        return send_next_after(LINK_RECEIVE_PORT);
    case LINK_RECEIVE_IP:
        if (line[0] == '-')
            server_log(LL_NOTICE, "(Non critical) Master does not understand REPLCONF ip-address: %s", line);
        return send_next_after(LINK_RECEIVE_IP);
    case LINK_RECEIVE_CAPA:
        if (line[0] == '-')
            server_log(LL_NOTICE, "(Non critical) Master does not understand REPLCONF capa: %s", line);
        return send_next_after(LINK_RECEIVE_CAPA);
    case LINK_RECEIVE_PSYNC:
        if (!strncmp(line, "+FULLRESYNC", 11)) {
            char id[REPL_ID_LEN + 1] = {0};
            long long off = -1;
            if (sscanf(line + 11, " %40s %lld", id, &off) != 2 || strlen(id) != REPL_ID_LEN) {
                server_log(LL_WARNING, "Master replied with wrong +FULLRESYNC syntax.");
                return -1;
            }
            memcpy(ml.full_replid, id, sizeof(ml.full_replid));
            ml.full_offset = off;
            server_log(LL_NOTICE, "Full resync from master: %s:%lld", id, off);
            repl_failover_psync_result(1);
            ml.state = LINK_TRANSFER;
            ml.have_header = 0;
            ml.received = 0;
            ml.size = 0;
            return 0;
        }
        if (!strncmp(line, "+CONTINUE", 9)) {
            const char *p = line + 9;
            while (*p == ' ')
                p++;
            partial_resync(*p ? p : NULL);
            repl_failover_psync_result(1);
            return 1; /* the socket now belongs to the master client */
        }
        server_log(LL_WARNING, "Unexpected reply to PSYNC from master: %s", line);
        if (repl_failover_in_progress())
            repl_failover_psync_result(0); /* a master again: nothing more to do on this link */
        return -1;
    default:
        return -1;
    }
}

static void link_event(evutil_socket_t fd, short what, void *arg)
{
    (void)arg;
    if (ml.state == LINK_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err) {
            server_log(LL_WARNING, "Error condition on socket for SYNC: %s", strerror(err ? err : errno));
            link_lost("Unable to connect to MASTER");
            return;
        }
        server_log(LL_NOTICE, "Non blocking connect for SYNC fired the event.");
        event_free(ml.ev);
        ml.ev = event_new(srv.base, fd, EV_READ | EV_PERSIST, link_event, NULL);
        event_add(ml.ev, NULL);
        if (send_next_after(LINK_CONNECTING) < 0)
            link_lost("Error writing to MASTER");
        return;
    }
    if (!(what & EV_READ))
        return;
    char buf[16 * 1024];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        link_lost(n == 0 ? "Master closed the connection during the sync" : "I/O error reading from MASTER");
        return;
    }
    ml.last_io = srv.unixtime;
    ml.in = sstr_cat(ml.in, buf, (size_t)n);
    while (ml.state != LINK_TRANSFER) {
        sstr line;
        if (!take_line(&line))
            return;
        if (sstr_len(line) == 0) {
            sstr_free(line); /* a master's keep-alive newline */
            continue;
        }
        int rc = handle_line(line);
        sstr_free(line);
        if (rc < 0) {
            link_lost("Handshake with MASTER failed");
            return;
        }
        if (rc > 0)
            return;
    }
    receive_payload();
}

/* ---- the transfer and the load ---- */

static int dataset_empty(void)
{
    for (int i = 0; i < srv.dbnum; i++)
        if (db_size(srv.dbs[i]))
            return 0;
    return 1;
}

static int open_transfer_target(void)
{
    ml.to_memory = srv.repl_diskless_load == 2 || (srv.repl_diskless_load == 1 && dataset_empty());
    if (ml.to_memory) {
        ml.mem = sstr_empty(ml.size > 0 ? (size_t)ml.size : 0);
        return 0;
    }
    snprintf(ml.tmpfile, sizeof(ml.tmpfile), "temp-%lld.%ld.rdb", (long long)srv.unixtime, (long)getpid());
    ml.tmpfd = open(ml.tmpfile, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0644);
    if (ml.tmpfd == -1) {
        server_log(LL_WARNING, "Opening the temp file needed for MASTER <-> REPLICA synchronization: %s",
                   strerror(errno));
        return -1;
    }
    return 0;
}

static int write_target(const char *p, size_t n)
{
    if (ml.to_memory) {
        ml.mem = sstr_cat(ml.mem, p, n);
        return 0;
    }
    while (n) {
        ssize_t w = write(ml.tmpfd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            server_log(LL_WARNING, "Write error or short write writing to the DB dumped on disk for the sync: %s",
                       strerror(errno));
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The $EOF:<mark> header: the payload ends with the mark itself. */
static int parse_header(const char *line)
{
    if (line[0] == '-') {
        server_log(LL_WARNING, "MASTER aborted replication with an error: %s", line + 1);
        return -1;
    }
    if (line[0] != '$') {
        server_log(LL_WARNING, "Bad protocol from MASTER, the first byte is not '$' (we received '%s'), are you "
                               "sure the host and port are right?",
                   line);
        return -1;
    }
    if (!strncmp(line + 1, "EOF:", 4) && strlen(line + 5) >= EOF_MARK_LEN) {
        memcpy(ml.eofmark, line + 5, EOF_MARK_LEN);
        ml.size = -1;
        server_log(LL_NOTICE, "MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to %s",
                   srv.repl_diskless_load ? "parser" : "disk");
    } else {
        char *end;
        ml.size = strtoll(line + 1, &end, 10);
        if (*end || ml.size < 0) {
            server_log(LL_WARNING, "Bad payload length from MASTER: %s", line);
            return -1;
        }
        server_log(LL_NOTICE, "MASTER <-> REPLICA sync: receiving %lld bytes from master to %s", ml.size,
                   srv.repl_diskless_load ? "parser" : "disk");
    }
    ml.have_header = 1;
    return open_transfer_target();
}

static int load_received(void);

static void receive_payload(void)
{
    if (!ml.have_header) {
        for (;;) {
            sstr line;
            if (!take_line(&line))
                return;
            if (sstr_len(line) == 0) {
                sstr_free(line);
                continue;
            }
            int rc = parse_header(line);
            sstr_free(line);
            if (rc < 0) {
                link_lost("MASTER <-> REPLICA sync failed");
                return;
            }
            break;
        }
    }
    /* the bytes past the payload are the stream: they stay in ml.in */
    size_t avail = sstr_len(ml.in), take = avail;
    if (ml.size >= 0 && (long long)take > ml.size - ml.received)
        take = (size_t)(ml.size - ml.received);
    int done = 0;
    if (ml.size < 0) {
        /* look for the mark at the end of what came so far */
        for (size_t i = 0; i < take; i++) {
            memmove(ml.tail, ml.tail + 1, EOF_MARK_LEN - 1);
            ml.tail[EOF_MARK_LEN - 1] = ml.in[i];
            if (ml.received + (long long)i + 1 >= EOF_MARK_LEN && !memcmp(ml.tail, ml.eofmark, EOF_MARK_LEN)) {
                take = i + 1;
                done = 1;
                break;
            }
        }
    }
    if (take && write_target(ml.in, take) < 0) {
        link_lost("MASTER <-> REPLICA sync failed");
        return;
    }
    ml.received += (long long)take;
    sstr_consume(ml.in, take);
    if (ml.size >= 0 && ml.received == ml.size)
        done = 1;
    if (!done)
        return;
    if (ml.size < 0) {
        /* the mark is not RDB data */
        if (ml.to_memory)
            sstr_setlen(ml.mem, sstr_len(ml.mem) - EOF_MARK_LEN);
        else if (ftruncate(ml.tmpfd, (off_t)(ml.received - EOF_MARK_LEN)) == -1) {
            link_lost("Error truncating the RDB file received from the master");
            return;
        }
    }
    /* the load answers clients with -LOADING while it runs, which it can
     * only do outside this handler: see load_at_top_level */
    event_del(ml.ev);
    ml.load_pending = 1;
}

/* Our AOF fsynced more of the stream: tell the master now, a WAITAOF
 * there may wait for it (Redis 7.2 acks when fsynced_reploff moves). */
static void ack_new_fsync(void)
{
    struct aof_sync_mark m;
    if (ml.master && aof_synced(&m) && m.off > ml.fack_sent)
        repl_replica_send_ack();
}

static void load_at_top_level(void)
{
    if (!ml.load_pending)
        return;
    ml.load_pending = 0;
    ml.loading_payload = 1;
    ml.last_keepalive_ms = mstime();
    int rc = load_received();
    ml.loading_payload = 0;
    if (rc < 0) {
        link_lost("Failed trying to load the MASTER synchronization DB");
        return;
    }
    start_stream(0);
}

/* Clients blocked on data are told the instance changed role (Redis's
 * disconnectAllBlockedClients). */
static void disconnect_blocked_clients(void)
{
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.clients)
    {
        struct client *c = list_entry(n, struct client, node);
        if (!(c->flags & CLIENT_BLOCKED) || (c->flags & CLIENT_PAUSED))
            continue;
        blocking_remove_client(c);
        reply_error(c, "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> "
                       "replica?)");
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
    }
}

static void empty_dataset(void)
{
    for (int i = 0; i < srv.dbnum; i++) {
        watch_touch_db(srv.dbs[i], NULL);
        db_empty(srv.dbs[i]);
    }
}

static int load_received(void)
{
    /* our replicas and backlog belonged to the old dataset */
    repl_master_disconnect_replicas();
    repl_backlog_free();
    aof_stop_for_sync();
    sstr err = sstr_empty(0);
    int rc;
    event_free(ml.ev); /* the loader serves clients meanwhile; not this socket */
    ml.ev = NULL;
    ml.sync_stream_db = 0;
    /* Redis 7.0's async loading: with swapdb, a newer copy of the same
     * history (the master's id is ours) is loaded while the current data
     * goes on serving reads; it replaces it whole once loaded */
    if (ml.to_memory && srv.repl_diskless_load == 2 && !memcmp(ml.full_replid, repl_replid(), REPL_ID_LEN)) {
        server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Loading DB in memory while serving the current data");
        rio r;
        rio_init_mem(&r, ml.mem, sstr_len(ml.mem));
        srv.async_loading = 1;
        rc = rdb_load_rio_replacing(&r, &err);
        srv.async_loading = 0;
        rio_release(&r);
        for (int i = 0; rc == 0 && i < srv.dbnum; i++)
            watch_touch_db(srv.dbs[i], NULL);
        if (rc != 0)
            server_log(LL_WARNING, "Failed trying to load the MASTER synchronization DB from socket, keeping the "
                                   "current data: %s",
                       err);
    } else if (ml.to_memory) {
        struct db **old = NULL;
        if (srv.repl_diskless_load == 2) {
            /* swapdb: the old data waits aside until the new one loaded */
            old = mem_calloc(sizeof(*old) * (size_t)srv.dbnum);
            for (int i = 0; i < srv.dbnum; i++) {
                old[i] = db_create(i);
                db_swap(srv.dbs[i], old[i]);
            }
        } else {
            empty_dataset();
        }
        rio r;
        rio_init_mem(&r, ml.mem, sstr_len(ml.mem));
        srv.loading = 1;
        loading_start((long long)sstr_len(ml.mem));
        rc = rdb_load_rio(&r, &err);
        loading_end();
        srv.loading = 0;
        rio_release(&r);
        if (old) {
            for (int i = 0; i < srv.dbnum; i++) {
                if (rc != 0) {
                    db_empty(srv.dbs[i]);
                    db_swap(srv.dbs[i], old[i]);
                } else {
                    watch_touch_db(srv.dbs[i], NULL);
                }
                db_free(old[i]);
            }
            mem_free(old);
            if (rc != 0)
                server_log(LL_WARNING, "Failed trying to load the MASTER synchronization DB from socket, "
                                       "restoring the old data: %s",
                           err);
        }
    } else {
        if (fsync(ml.tmpfd) == -1 || rename(ml.tmpfile, srv.dbfilename) == -1) {
            server_log(LL_WARNING, "Failed trying to rename the temp DB into %s in MASTER <-> REPLICA "
                                   "synchronization: %s",
                       srv.dbfilename, strerror(errno));
            sstr_free(err);
            aof_restart_after_sync();
            return -1;
        }
        close(ml.tmpfd);
        ml.tmpfd = -1;
        empty_dataset();
        rc = rdb_load(srv.dbfilename, &err);
    }
    close_transfer_target(0);
    if (rc != 0) {
        server_log(LL_WARNING, "Failed trying to load the MASTER synchronization DB: %s", err);
        sstr_free(err);
        aof_restart_after_sync();
        return -1;
    }
    sstr_free(err);
    repl_set_replid(ml.full_replid);
    repl.master_repl_offset = ml.full_offset;
    repl_clear_replid2();
    repl_backlog_create();
    srv.dirty++;
    server_log(LL_NOTICE, "MASTER <-> REPLICA sync: Finished with success");
    aof_restart_after_sync();
    return 0;
}

/* ---- the stream ---- */

static void start_stream(int partial)
{
    struct event *ev = ml.ev;
    ml.ev = NULL;
    if (ev)
        event_free(ev);
    int fd = ml.fd;
    ml.fd = -1;
    struct client *c = client_create(fd, 0);
    c->flags |= CLIENT_MASTER;
    c->authenticated = 1;
    c->commit_level = COMMIT_LEVEL_NONE;
    /* a continued stream goes on in the db it was in; a full sync's in the
     * db its RDB names: a master's stream starts with SELECT anyway, but a
     * chained replica relays its own master's, which need not (Redis's
     * rsi.repl_stream_db) */
    int db = partial ? ml.stream_db : ml.sync_stream_db;
    if (db > 0 && db < srv.dbnum)
        c->db = srv.dbs[db];
    ml.master = c;
    ml.state = LINK_CONNECTED;
    refresh_refusals();
    ml.use_cached = 1;
    ml.down_since = 0;
    /* what already came after the payload or +CONTINUE is the stream */
    if (sstr_len(ml.in))
        c->querybuf = sstr_cat(c->querybuf, ml.in, sstr_len(ml.in));
    sstr_free(ml.in);
    ml.in = NULL;
    repl_replica_send_ack();
    client_process_input(c);
}

static void on_master_applied(struct client *c, const char *p, size_t n)
{
    (void)c;
    if (ml.skip_applied) { /* the master did not count it either */
        ml.skip_applied = 0;
        return;
    }
    repl_master_feed_raw(p, n);
}

void repl_replica_note_isr(int in)
{
    ml.skip_applied = 1;
    if (in == ml.in_isr)
        return;
    if (in)
        server_log(LL_NOTICE, "The master counts this replica in its in-sync replicas: slave_priority %lld",
                   srv.replica_priority);
    else
        server_log(LL_NOTICE, "The master reports this replica out of its in-sync replicas: slave_priority 0 "
                              "until it is back");
    ml.in_isr = in;
}

long long repl_replica_priority(void) { return ml.in_isr == 0 ? 0 : srv.replica_priority; }

void repl_replica_send_ack(void)
{
    struct client *c = ml.master;
    if (!c)
        return;
    char off[32], foff[32];
    int len = snprintf(off, sizeof(off), "%lld", repl.master_repl_offset);
    char buf[160];
    int n;
    struct aof_sync_mark m;
    if (aof_synced(&m)) {
        /* Redis 7.2's FACK: what our AOF has fsynced, for the master's WAITAOF */
        int flen = snprintf(foff, sizeof(foff), "%lld", m.off);
        n = snprintf(buf, sizeof(buf), "*5\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n$4\r\nFACK\r\n$%d\r\n%s\r\n", len,
                     off, flen, foff);
        ml.fack_sent = m.off;
    } else {
        n = snprintf(buf, sizeof(buf), "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$%d\r\n%s\r\n", len, off);
    }
    c->flags |= CLIENT_MASTER_FORCE_REPLY;
    reply_raw(c, buf, (size_t)n);
    c->flags &= ~CLIENT_MASTER_FORCE_REPLY;
}

int repl_replica_is_master_link(const struct client *c) { return c && c == ml.master; }

/* ---- -READONLY ---- */

static int readonly_applies(void)
{
    return srv.masterhost && srv.replica_read_only;
}

static int readonly_refusal(sstr *msg)
{
    if (hooks_refusal_is_ping() || !readonly_applies())
        return 0;
    if (msg)
        *msg = sstr_cats(*msg, "-READONLY You can't write against a read only replica.");
    return 1;
}

/* ---- -MASTERDOWN (replica-serve-stale-data no) ---- */

static void masterdown_refusal(sstr *msg)
{
    *msg = sstr_cats(*msg, "-MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
}

/* Armed while the link is down; refreshed on every change of state and by
 * the cron (CONFIG SET replica-serve-stale-data). */
static void refresh_refusals(void)
{
    hooks_arm_write_refusal(readonly_refusal, readonly_applies());
    hooks_arm_stale_refusal(srv.masterhost && ml.state != LINK_CONNECTED && !srv.replica_serve_stale_data);
}

/* ---- cron ---- */

static void replica_cron(void)
{
    refresh_refusals();
    if (!srv.masterhost)
        return;
    long long now = srv.unixtime;
    if (ml.loading_payload) {
        /* the cron runs within the load: no timeouts now, and a newline a
         * second keeps the master from timing us out (Redis does the same) */
        /* (by the clock, not the second's number: the cron runs only when
         * the load serves events, and a second boundary missed between
         * two of those would double the gap) */
        if (mstime() - ml.last_keepalive_ms >= 1000 && ml.fd >= 0) {
            ml.last_keepalive_ms = mstime();
            ssize_t w = write(ml.fd, "\n", 1); /* a failure shows when the stream starts */
            (void)w;
        }
        ml.last_io = now;
        return;
    }
    if (ml.state > LINK_CONNECT && ml.state < LINK_CONNECTED && now - ml.last_io > srv.repl_timeout) {
        link_lost(ml.state == LINK_TRANSFER ? "Timeout receiving bulk data from MASTER... If the problem "
                                                "persists try to set the 'repl-timeout' parameter in "
                                                "redis.conf to a larger value."
                                              : "Timeout connecting to the MASTER...");
    }
    if (ml.master && now - ml.master->last_interaction > srv.repl_timeout) {
        server_log(LL_WARNING, "MASTER timeout: no data nor PING received...");
        client_close_async(ml.master);
    }
    if (ml.state == LINK_CONNECT) {
        server_log(LL_NOTICE, "Connecting to MASTER %s:%d", srv.masterhost, srv.masterport);
        connect_to_master();
    }
    if (ml.master && now != ml.last_periodic_ack) { /* once a second, as Redis's replicationCron */
        ml.last_periodic_ack = now;
        repl_replica_send_ack();
    }
}

/* ---- REPLICAOF ---- */

void repl_replica_set_master(const char *host, int port)
{
    int was_master = srv.masterhost == NULL;
    ml.in_isr = -1; /* a new master will say */
    mem_free(srv.masterhost);
    srv.masterhost = NULL;
    if (ml.master) {
        struct client *m = ml.master;
        ml.master = NULL;
        ml.stream_db = m->db->id;
        client_close_async(m);
    }
    disconnect_blocked_clients();
    srv.masterhost = mem_strdup(host);
    srv.masterport = port;
    cancel_handshake();
    /* our own history is what the next PSYNC offers (Redis's
     * replicationCacheMasterUsingMyself) */
    if (was_master)
        ml.use_cached = 1;
    repl_backlog_create();
    ml.state = LINK_CONNECT;
    ml.down_since = srv.unixtime;
    refresh_refusals();
    server_log(LL_NOTICE, "Connecting to MASTER %s:%d", srv.masterhost, srv.masterport);
    connect_to_master();
}

void repl_replica_unset_master(void)
{
    ml.in_isr = -1;
    mem_free(srv.masterhost);
    srv.masterhost = NULL;
    if (ml.master) {
        struct client *m = ml.master;
        ml.master = NULL;
        ml.stream_db = m->db->id;
        client_close_async(m);
    }
    cancel_handshake();
    ml.state = LINK_NONE;
    ml.down_since = 0;
    /* a new history starts here; replicas continue with replid2 */
    repl_shift_replid();
    repl_master_disconnect_replicas();
    repl_master_reset_stream_db();
    refresh_refusals();
}

static void replicaof_command(struct client *c)
{
    if (repl_failover_active()) {
        reply_error(c, "REPLICAOF not allowed while failing over.");
        return;
    }
    if (arg_is(&c->argv[1], "no") && arg_is(&c->argv[2], "one")) {
        if (srv.masterhost) {
            repl_replica_unset_master();
            server_log(LL_NOTICE, "MASTER MODE enabled (user request from 'id=%llu addr=%s')",
                       (unsigned long long)c->id, c->addr);
        }
        reply_ok(c);
        return;
    }
    if (c->flags & CLIENT_REPLICA) {
        reply_error(c, "Command is not valid when client is a replica.");
        return;
    }
    long long port;
    if (!string2ll(c->argv[2].ptr, c->argv[2].len, &port) || port < 0 || port > 65535) {
        reply_error(c, "Invalid master port");
        return;
    }
    sstr host = sstr_new(c->argv[1].ptr, c->argv[1].len);
    if (srv.masterhost && !strcasecmp(srv.masterhost, host) && srv.masterport == port) {
        server_log(LL_NOTICE, "REPLICAOF would result into synchronization with the master we are already "
                              "connected with. No operation performed.");
        reply_raw(c, "+OK Already connected to specified master\r\n", 43);
        sstr_free(host);
        return;
    }
    repl_replica_set_master(host, (int)port);
    server_log(LL_NOTICE, "REPLICAOF %s:%d enabled (user request from 'id=%llu addr=%s')", srv.masterhost,
               srv.masterport, (unsigned long long)c->id, c->addr);
    sstr_free(host);
    reply_ok(c);
}

/* ---- the history in the RDB (repl-stream-db, repl-id, repl-offset) ---- */

static int repl_info_get(struct rdb_repl_info *out)
{
    if (srv.masterhost) {
        if (!ml.master && !ml.use_cached)
            return 0;
        out->stream_db = ml.master ? ml.master->db->id : ml.stream_db;
    } else {
        if (!repl_backlog_exists())
            return 0;
        out->stream_db = repl_master_stream_db();
    }
    memcpy(out->id, repl_replid(), REPL_ID_LEN);
    out->id[REPL_ID_LEN] = '\0';
    out->offset = repl.master_repl_offset;
    return 1;
}

/* A replica restarting from its RDB continues from where the file says
 * (Redis's cached master made from the RDB's replication info). */
static void repl_info_loaded(const struct rdb_repl_info *in)
{
    if (ml.started) {
        ml.sync_stream_db = in->stream_db; /* a sync's payload: only its db counts */
        return;
    }
    if (!srv.masterhost)
        return;
    repl_set_replid(in->id);
    repl.master_repl_offset = in->offset;
    ml.stream_db = in->stream_db;
    ml.use_cached = 1;
    server_log(LL_NOTICE, "Replication history from the RDB: id %s, offset %lld", in->id, in->offset);
}

void repl_replica_startup(void)
{
    ml.started = 1;
    if (!srv.masterhost)
        return;
    repl_backlog_create();
    ml.state = LINK_CONNECT;
    refresh_refusals();
    server_log(LL_NOTICE, "Connecting to MASTER %s:%d", srv.masterhost, srv.masterport);
    connect_to_master();
}

void repl_replica_register(void)
{
    hooks_on_link_free(on_link_free);
    hooks_on_cron(replica_cron);
    hooks_on_top_level(load_at_top_level);
    hooks_on_after_commit(ack_new_fsync);
    hooks_on_master_applied(on_master_applied);
    rdb_on_repl_info(repl_info_get, repl_info_loaded);
    /* Redis 7.0's order: MISCONF (10, 20), NOREPLICAS (30), READONLY */
    hooks_on_write_refusal(35, readonly_refusal);
    hooks_on_stale_refusal(masterdown_refusal);
}

const struct command_impl repl_replica_commands[] = {
    {"replicaof", replicaof_command},
    {"slaveof", replicaof_command},
    {NULL, NULL},
};
