/* repl_int.h - what the replication module's files share.
 *
 *   repl_state.c   replication ids and offsets, the backlog (a ring of the
 *                  stream's last repl-backlog-size bytes), INFO replication
 *   master.c       the master side: SYNC/PSYNC, partial resync from the
 *                  backlog, the stream to the replicas, REPLCONF, WAIT
 *   sync.c         the full sync: one fork child (disk-backed or
 *                  diskless) shared by the replicas waiting for it
 *   replica.c      the replica side: REPLICAOF, the handshake, loading the
 *                  master's RDB, applying its stream, ACKs, promotion
 *   isr.c          the in-sync replica set and `acks`: the commit gate's
 *                  replica condition
 *
 * The stream.  Everything the master's propagation feed emits is encoded
 * as RESP (with SELECT when the database changes) and appended to the
 * replication stream: the backlog gets it and so does every online
 * replica.  master_repl_offset counts the stream's bytes, as in Redis.  A
 * replica applies its master's stream and relays the same bytes to its
 * own replicas and backlog (repl_master_feed_raw), so chained replicas and
 * a promoted replica see one history.
 */
#ifndef SLUICE_REPL_INT_H
#define SLUICE_REPL_INT_H
#include <stddef.h>
#include <stdint.h>

#include "commit_gate.h"
#include "sstr.h"

struct client;

#define REPL_ID_LEN 40

struct repl_state {
    char replid2[REPL_ID_LEN + 1]; /* the previous history's id ("000..." when none) */
    long long master_repl_offset;  /* bytes of the stream so far */
    long long second_repl_offset;  /* replid2 is valid up to here; -1 when none */
};
extern struct repl_state repl;

/* ---- repl_state.c ---- */
/* The current replication id (40 hex digits). */
const char *repl_replid(void);
/* Adopt id as the current id (a replica takes its master's at FULLRESYNC). */
void repl_set_replid(const char *id);
/* A new random id (a master that starts a new history). */
void repl_change_replid(void);
/* Promotion: the current id becomes replid2, valid up to the current
 * offset + 1 (Redis's shiftReplicationId), and a new id is made. */
void repl_shift_replid(void);
/* Forget replid2 (Redis's clearReplicationId2). */
void repl_clear_replid2(void);

/* The backlog.  Created when the first replica attaches (or when this
 * server becomes a replica), freed after repl-backlog-ttl without replicas
 * on a master. */
void repl_backlog_create(void);
void repl_backlog_free(void);
int repl_backlog_exists(void);
/* Append n bytes of stream to the backlog and advance master_repl_offset
 * (the offset advances only while a backlog exists, as in Redis). */
void repl_backlog_feed(const char *p, size_t n);
/* Whether a replica that has everything before `offset` can continue from
 * the backlog (partial resync). */
int repl_backlog_covers(long long offset);
/* Append the backlog's bytes from offset to the end to *out; returns their
 * number, or -1 when not covered. */
long long repl_backlog_copy(long long offset, sstr *out);
/* The INFO fields repl_backlog_active ... repl_backlog_histlen. */
long long repl_backlog_first_byte_offset(void);
long long repl_backlog_histlen(void);

/* ---- master.c ---- */
/* A replica link (c->repl of a CLIENT_REPLICA client). */
enum repl_sync_state {
    REPL_SYNC_NONE,       /* not in a full sync (online once attached) */
    REPL_SYNC_WAIT_START, /* needs a full sync; no child serves it yet */
    REPL_SYNC_WAIT_END,   /* the disk-backed child is writing its RDB */
    REPL_SYNC_SEND,       /* its RDB is being sent (file or diskless pipe) */
};
struct replica {
    struct client *c;
    struct replica *next;
    char ip[64];
    int port;
    int capa_eof, capa_psync2;
    int rdb_only;
    int attached;           /* receives the stream (online) */
    long long ack_offset;
    long long fack_offset;  /* REPLCONF ACK ... FACK: what its AOF has fsynced (WAITAOF) */
    int capa_isr;           /* a Sluice replica: told REPLCONF ISR 0|1 as it leaves and joins */
    int leaving;            /* its link is being freed */
    long long ack_time_ms;
    /* full sync (sync.c) */
    enum repl_sync_state sync_state;
    int psync;              /* answer +FULLRESYNC first (not the old SYNC) */
    long long sync_since_ms;/* when it asked */
    sstr held;              /* the stream since the snapshot, sent after it */
    int rdb_fd;             /* disk-backed: the file being sent, else -1 */
    long long rdb_off, rdb_size;
};
/* The replica list, newest first. */
struct replica *repl_master_replica_list(void);

/* Bytes that are the stream (a replica relaying its master's stream, or
 * the master's own feed): to the backlog and every online replica. */
void repl_master_feed_raw(const char *p, size_t n);
/* Close every replica link (a master becoming a replica; a replid change). */
void repl_master_disconnect_replicas(void);
/* The next command on the stream starts with SELECT (a new history). */
void repl_master_reset_stream_db(void);
/* The db the stream last selected (0 before any): the RDB's repl-stream-db. */
int repl_master_stream_db(void);
/* Ask every online replica for an ACK now (REPLCONF GETACK *). */
void repl_master_send_getack(void);
/* The replicas, as INFO and the ISR see them. */
struct repl_replica_view {
    uint64_t client_id;
    const char *ip;
    int port;              /* listening-port, or replica-announce-port */
    const char *state;     /* wait_bgsave, send_bulk, online */
    int online;
    long long ack_offset;  /* last REPLCONF ACK */
    long long ack_time_ms; /* when it came (mstime) */
    int sluice;            /* negotiated the Sluice capability (ISR notices) */
};
/* INFO stats sync_full, sync_partial_ok, sync_partial_err. */
extern long long repl_stat_sync_full, repl_stat_sync_partial_ok, repl_stat_sync_partial_err;
/* The feed, link-free and cron hooks (repl_register_hooks calls it). */
void repl_master_register(void);
/* Fill up to max views; returns how many replicas there are. */
int repl_master_replicas(struct repl_replica_view *out, int max);
int repl_master_replica_count(void);

/* ---- sync.c ---- */
/* r needs a full sync: it is served by a fork child, shared with the
 * replicas that wait at the same time. */
void repl_sync_request(struct replica *r, int psync);
/* Stream bytes for a replica in the middle of its full sync. */
void repl_sync_hold(struct replica *r, const char *p, size_t n);
/* r's link is going away. */
void repl_sync_forget(struct replica *r);
/* Start a child when the delay has passed (from the master's cron). */
void repl_sync_cron(void);

/* ---- replica.c ---- */
/* Whether this server is a replica (REPLICAOF host port), and its link. */
int repl_is_replica(void);
struct repl_link_view {
    const char *host;
    int port;
    const char *link_status;   /* up, down */
    int link_up;
    long long last_io_seconds_ago;
    int sync_in_progress;
    long long sync_total_bytes; /* -1: EOF-marked (size unknown) */
    long long sync_read_bytes;
    long long read_repl_offset; /* bytes read from the master */
    long long repl_offset;      /* bytes applied */
    long long link_down_since_seconds; /* -1 while up */
    int in_isr;                /* as the master last said: 1, 0, or -1 when it never said (not Sluice) */
};
void repl_replica_link(struct repl_link_view *out);
/* REPLCONF ACK <applied offset> to the master (every second, after a
 * sync, and when the master sends REPLCONF GETACK). */
void repl_replica_send_ack(void);
/* REPLCONF ISR 0|1 from a Sluice master: whether we are in its in-sync
 * replicas.  Outside them INFO shows slave_priority:0 (not electable). The
 * message is out of the stream: not counted in the offset, not relayed. */
void repl_replica_note_isr(int in);
/* The priority INFO shows: replica-priority, or 0 while the master says we
 * are out of its ISR (the last word of a master that died counts). */
long long repl_replica_priority(void);
/* The link-free, cron, master-applied and READONLY hooks. */
void repl_replica_register(void);
/* replicaof in the configuration: connect. */
void repl_replica_startup(void);

/* Become a replica of host:port / a master again (REPLICAOF's work; FAILOVER). */
void repl_replica_set_master(const char *host, int port);
void repl_replica_unset_master(void);

/* ---- failover.c ---- */
const char *repl_failover_state_name(void); /* INFO master_failover_state */
int repl_failover_active(void);             /* waiting-for-sync or failover-in-progress */
int repl_failover_in_progress(void);        /* our PSYNC carries FAILOVER */
/* The target's answer to PSYNC ... FAILOVER: accepted (+CONTINUE or
 * +FULLRESYNC) ends the failover, refused aborts it. */
void repl_failover_psync_result(int accepted);
void repl_failover_register(void);

/* ---- isr.c ---- */
/* The master's feed ends a record at stream offset `end` for commit
 * position pos. */
void repl_isr_note_stream(commit_pos pos, long long end);
/* A replica acknowledged offset, or went away. */
void repl_isr_on_ack(uint64_t client_id, long long offset);
void repl_isr_on_replica_gone(uint64_t client_id);
/* master.c: tell a replica (by client id) whether it is in the ISR, if it
 * said `capa isr`; and its state when it comes online. */
void repl_master_tell_isr(uint64_t client_id, int in);
void repl_master_replica_online(struct replica *r);
void repl_isr_register(void);
#endif
