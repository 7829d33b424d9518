/* server.h - the server's shared state: clients, databases, statistics,
 * configuration values, and the entry points every command module uses.
 *
 * Dependency direction (see docs/ARCHITECTURE.md): data-structure modules
 * (sstr, dict, qlog, resp, slot, util, mem) know nothing of this header;
 * the keyspace (db) and values (object, t_*) sit on them; networking and
 * dispatch sit on top.  Command modules include this header.
 */
#ifndef SLUICE_SERVER_H
#define SLUICE_SERVER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "commands.h"
#include "dict.h"
#include "list.h"
#include "object.h"
#include "reply.h"
#include "resp.h"
#include "sstr.h"

#define SLUICE_VERSION "0.1.0"
/* The Redis release whose behaviour Sluice matches; INFO reports it as
 * redis_version so client libraries enable the right features. */
#define REDIS_COMPAT_VERSION "7.0.15"

#define CONFIG_DEFAULT_DBNUM 16
#define CONFIG_MAX_BIND 16
#define REPLY_CHUNK_BYTES (16 * 1024)
/* Refusal while the dataset loads: the dispatcher's and CONFIG SET's. */
#define ERR_LOADING "-LOADING Sluice is loading the dataset in memory"
#define IOBUF_LEN (16 * 1024)

/* client->flags */
#define CLIENT_MULTI            (1u << 0)  /* inside MULTI */
#define CLIENT_DIRTY_CAS        (1u << 1)  /* a WATCHed key was touched */
#define CLIENT_DIRTY_EXEC       (1u << 2)  /* a command failed to queue: EXECABORT */
#define CLIENT_CLOSE_AFTER_REPLY (1u << 3) /* QUIT, protocol error */
#define CLIENT_CLOSE_ASAP       (1u << 4)  /* CLIENT KILL, output limits */
#define CLIENT_PENDING_WRITE    (1u << 5)  /* on srv.pending_writes */
#define CLIENT_BLOCKED          (1u << 6)  /* waiting for data or a timeout */
#define CLIENT_MONITOR          (1u << 7)
#define CLIENT_NO_EVICT         (1u << 8)
#define CLIENT_REPLY_OFF        (1u << 9)
#define CLIENT_REPLY_SKIP_NEXT  (1u << 10)
#define CLIENT_REPLY_SKIP       (1u << 11)
#define CLIENT_PROTECTED        (1u << 12) /* don't free: command running */
#define CLIENT_EXECUTING_MULTI  (1u << 13)
#define CLIENT_UNIX_SOCKET      (1u << 14)
#define CLIENT_WRITE_INSTALLED  (1u << 15) /* EV_WRITE armed for the rest of the output */
#define CLIENT_PAUSED           (1u << 16) /* held by CLIENT PAUSE */
#define CLIENT_LOADING_CLIENT   (1u << 17) /* fake client replaying a file */
#define CLIENT_GATE_HELD        (1u << 18) /* output waits at the commit gate */
#define CLIENT_REPLICA          (1u << 19) /* a replica's link (after SYNC/PSYNC) */
#define CLIENT_MASTER           (1u << 20) /* this replica's link to its master */
#define CLIENT_MASTER_FORCE_REPLY (1u << 21) /* the master link's one reply (REPLCONF ACK) */

struct db;
struct event;
struct reply_block;
struct watched_key;

struct multi_cmd {
    struct command *cmd;
    int argc;
    struct arg *argv; /* argument bytes follow in the same allocation */
};

struct multi_state {
    struct multi_cmd *cmds;
    int count, cap;
    uint64_t cmd_flags; /* union of the queued commands' flags */
    uint64_t cmd_inv_flags; /* union of their inverted flags: some queued command lacks the flag */
};

/* What a blocked client waits for; filled by the blocking module. */
struct block_state {
    long long timeout_ms; /* absolute wall-clock ms, 0 = forever */
    int btype;            /* BLOCKED_* of blocking.h */
    struct list_head keys; /* entries in the db's blocking-keys lists */
    void *priv;           /* type-specific (target key, where, count...) */
    struct list_node timeout_node;
    long long start_us;
};

struct client {
    uint64_t id;
    int fd;
    uint32_t flags;
    int resp;                  /* 2 or 3 */
    int authenticated;
    struct db *db;
    struct event *ev_read, *ev_write;

    /* input */
    sstr querybuf;
    size_t qb_pos;             /* consumed bytes not yet trimmed */
    size_t querybuf_peak;
    struct resp_parser parser;
    int argc;
    struct arg *argv;          /* the current command (into querybuf, or owned) */
    struct arg *owned_argv;    /* when argv had to outlive the query buffer */
    struct command *cmd, *lastcmd;

    /* output: a chain of blocks written in order */
    struct reply_block *reply_head, *reply_tail;
    size_t reply_bytes;        /* bytes queued, not yet written */
    size_t sent_in_head;       /* bytes of reply_head already written */
    uint64_t commit_tag;       /* commit position the output depends on (commit_gate.h) */
    uint64_t commit_woff;      /* commit position of its last write (WAITAOF's local part) */
    int8_t commit_level;       /* which durability conditions it waits for (COMMIT_LEVEL_*) */
    int8_t acks;               /* CLIENT ACKS: 0, 1, 2 (all); -1 follows the acks directive */
    long long obuf_soft_limit_since;

    /* bookkeeping */
    struct list_node node;          /* srv.clients */
    struct list_node pending_node;  /* srv.pending_writes, or the commit gate's held clients */
    sstr master_paused_raw;         /* the master link's command held by CLIENT PAUSE, as it came */
    struct list_node pause_node;    /* srv.paused_clients (a command held by CLIENT PAUSE); apart from
                                     * pending_node: a pipelined client can be both at once */
    struct list_node monitor_node;  /* srv.monitors */
    struct list_node unblocked_node;/* srv.unblocked_clients */
    sstr name;
    char addr[64], laddr[64];
    time_t ctime;
    long long last_interaction;     /* seconds, for timeout and CLIENT LIST idle */
    long long commands_processed;

    struct multi_state mstate;
    struct list_head watched_keys;  /* struct watched_key, via client_node */
    struct block_state bstate;

    /* cache for "$<len>\r\n" of the current output block */
    int argv_owned_len;

    /* replication's per-link state (replication module; NULL otherwise) */
    void *repl;
    /* the replication stream's offset after this client's last write
     * (Redis's c->woff: what its WAIT waits for); the replication module
     * writes it */
    long long repl_woff;
    /* Called when the output chain has been written out completely: a
     * module that streams a large payload (a full sync's RDB) queues it a
     * window at a time instead of all at once.  NULL for most clients. */
    void (*on_output_drained)(struct client *c);
};

/* Per-database keyspace; see db.h. */
struct db;

struct client_pause {
    int active;
    int write_only;           /* CLIENT PAUSE ... WRITE */
    long long end_ms;
    int failover;             /* writes held by FAILOVER until it ends (server_hold_writes) */
    int resume;               /* a pause ended: re-run the held commands */
};

struct server {
    struct event_base *base;
    pid_t pid;
    char runid[41];
    char executable[1024];
    char *configfile;          /* absolute path, NULL when none */
    long long start_us;
    long long mstime_cached;   /* updated once per event-loop iteration */
    time_t unixtime;
    int shutdown_asap;
    int shutdown_flags;
    long long cronloops;
    int loading;
    int async_loading; /* a replica loads its master's payload while serving the old data */

    /* networking */
    int listen_fds[CONFIG_MAX_BIND];
    struct event *listen_events[CONFIG_MAX_BIND];
    int listen_count;
    struct list_head clients;
    struct list_head pending_writes;
    struct list_head monitors;
    struct list_head unblocked_clients;
    struct list_head clients_to_close;
    uint64_t next_client_id;
    struct client *current_client;
    struct client_pause pause;
    struct list_head paused_clients;

    /* keyspace */
    struct db **dbs;
    long long dirty;           /* writes since the last save */
    long long dirty_before_cmd;

    /* statistics (INFO stats) */
    long long stat_numcommands;
    long long stat_numconnections;
    long long stat_rejected_conn;
    long long stat_expiredkeys;
    long long stat_expired_stale_perc_x100;
    long long stat_expired_time_cap_reached_count;
    long long stat_keyspace_hits, stat_keyspace_misses;
    long long stat_net_input_bytes, stat_net_output_bytes;
    long long stat_total_error_replies;
    long long stat_unexpected_error_replies;
    long long stat_total_reads_processed, stat_total_writes_processed;
    long long stat_io_reads, stat_io_writes;
    long long stat_client_qbuf_limit_disconnections;
    long long stat_client_outbuf_limit_disconnections;
    long long stat_evictedkeys;
    size_t stat_peak_memory;
    dict *errors;              /* error code -> count (INFO errorstats) */
    /* instantaneous metrics: samples taken by the cron */
    long long inst_last_sample_ms, inst_last_cmds, inst_last_in, inst_last_out;
    long long inst_ops_samples[16], inst_in_samples[16], inst_out_samples[16];
    int inst_idx;

    /* slow log */
    struct list_head slowlog;
    long long slowlog_next_id;

    /* configuration (see config.c for every directive) */
    int port;
    char *bindaddr[CONFIG_MAX_BIND];
    int bindaddr_count;
    int tcp_backlog;
    char *unixsocket;
    int unixsocketperm;
    int protected_mode;
    char *requirepass;
    int maxclients;
    int maxidletime;           /* timeout, seconds; 0 = never */
    int tcpkeepalive;
    int hz;
    int dbnum;
    char *dir;                 /* absolute */
    char *logfile;
    int verbosity;
    int daemonize;
    char *pidfile;
    long long proto_max_bulk_len;
    long long client_max_querybuf_len;
    long long maxmemory;
    int maxmemory_policy;
    int maxmemory_samples;
    long long slowlog_log_slower_than;
    long long slowlog_max_len;
    int active_expire_enabled;
    int active_expire_effort;
    int list_max_listpack_size;
    int list_compress_depth;
    long long stream_node_max_bytes;
    long long stream_node_max_entries;
    char *dbfilename;
    char *appendfilename;
    char *appenddirname;
    int appendonly;
    int appendfsync;
    int rdbcompression;
    int rdbchecksum;
    int aof_use_rdb_preamble;
    int aof_load_truncated;
    long long auto_aof_rewrite_perc;
    long long auto_aof_rewrite_min_size;
    long long save_params[16][2]; /* seconds, changes */
    int save_params_count;
    int latency_tracking;
    char *syslog_ident;
    int supervised;
    int io_threads;
    int lazyfree_lazy_user_del;
    int stop_writes_on_bgsave_err;
    int no_appendfsync_on_rewrite;
    int lazyfree_lazy_user_flush;
    int busy_reply_threshold;
    long long client_obuf_limits[3][3]; /* normal/replica/pubsub: hard, soft, soft seconds */
    int set_proc_title;
    char *proc_title_template;
    int enable_debug_command;
    int enable_protected_configs;
    int crash_log_enabled;
    int repl_diskless_sync;
    int replica_read_only;
    int replica_serve_stale_data;
    int min_replicas_to_write;
    int min_replicas_max_lag;
    long long replica_priority;
    long long repl_diskless_sync_delay;
    long long repl_diskless_sync_max_replicas;
    long long replica_announce_port;
    char *replica_announce_ip;
    int replica_announced;
    int repl_diskless_load;     /* 0 disabled, 1 on-empty-db, 2 swapdb */
    int repl_disable_tcp_nodelay;
    long long repl_timeout;
    long long repl_ping_replica_period;
    long long repl_backlog_size;
    long long repl_backlog_ttl;
    /* Kafka's delivery rules (the replication module's ISR) */
    int acks;                   /* default for clients: 0, 1, 2 (all) = COMMIT_LEVEL_* */
    int min_insync_replicas;    /* ISR size (master included) below which acks-all writes are refused */
    long long replica_lag_max_ms;
    long long ack_timeout_ms;
    int read_committed;         /* under acks all, reads wait for the ISR too */
    char *masterhost;           /* replicaof: this server is a replica of masterhost:masterport */
    int masterport;
    char *masterauth;
    char *masteruser;
    int lfu_log_factor;
    int lfu_decay_time;
    int key_load_delay; /* test knob: microseconds per loaded key or AOF command; -N: 1 us once in N */
    int rdb_key_save_delay; /* test knob: the same per key an RDB save writes (slows a fork child) */
    int jemalloc_bg_thread;
};

extern struct server srv;

/* Entry points shared by modules. */
void call_command(struct client *c);        /* run c->cmd with c->argv (stats, slowlog, monitor) */
void process_command(struct client *c);     /* checks, then MULTI queue or call */
int server_should_close_client(struct client *c);
void server_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void server_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
long long server_uptime_s(void);
static inline long long server_mstime(void) { return srv.mstime_cached; }
void server_update_time(void);
/* Serve clients from inside a long operation (loading a file): up to four
 * non-blocking passes of the loop, as Redis's processEventsWhileBlocked, so
 * a connection accepted in one pass has its request read and answered in
 * the next, then the replies are written. */
void server_process_events_while_blocked(void);
/* FAILOVER: hold every write (as CLIENT PAUSE WRITE, with no end time and
 * apart from it) until released; the held commands then run from the
 * start, so a server that became a replica meanwhile refuses them. */
void server_hold_writes(int on);
int server_prepare_shutdown(int flags);

/* Startup, in main()'s order: server_init() (event loop, state),
 * then the modules register, server_start() (listeners, signals, cron),
 * the dataset loads, server_run() (the loop; never returns). */
void server_init(void);
void server_start(void);
void server_run(void) __attribute__((noreturn));

#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3

#define SHUTDOWN_NOFLAGS 0
#define SHUTDOWN_SAVE 1
#define SHUTDOWN_NOSAVE 2
#define SHUTDOWN_NOW 4
#define SHUTDOWN_FORCE 8

/* Client lifecycle (networking.c). */
struct client *client_create(int fd, int is_unix);
void client_free(struct client *c);
void client_close_async(struct client *c);
void client_set_protocol_error(struct client *c);
void client_own_argv(struct client *c);      /* copy argv out of the query buffer */
void client_free_owned_argv(struct client *c);
void client_process_input(struct client *c); /* run what is buffered (after unblock/unpause) */
void client_info_string(struct client *c, sstr *out);
struct client *client_lookup_by_id(uint64_t id);
void flush_pending_writes(void);
void clients_cron(void);
int listen_on_configured_addresses(void);
void close_listeners(void);
const char *client_type_name(const struct client *c);

/* Multi/exec (multi.c). */
void multi_queue_command(struct client *c);
void multi_discard(struct client *c);
void multi_flag_transaction(struct client *c);
void watch_touch_key(struct db *db, const char *key, size_t len);
void watch_touch_db(struct db *db, struct db *other);
void watch_unwatch_all(struct client *c);
int watch_any_expired(struct client *c);

/* Monitor feed and slowlog (cmd_server.c). */
void monitor_feed(struct client *c, struct arg *argv, int argc);
void slowlog_push(struct client *c, struct arg *argv, int argc, long long duration_us);

/* INFO errorstats. */
void stats_count_error(const char *err, size_t len);

/* Command argument helpers: each sends Redis's error reply on failure and
 * returns -1, else 0. */
int arg_ll(struct client *c, const struct arg *a, long long *out, const char *errmsg);
int arg_ll_range(struct client *c, const struct arg *a, long long min, long long max, long long *out,
                 const char *errmsg);
int arg_positive_ll(struct client *c, const struct arg *a, long long *out, const char *errmsg);
int arg_double(struct client *c, const struct arg *a, double *out, const char *errmsg);
int arg_long_double(struct client *c, const struct arg *a, long double *out, const char *errmsg);
int arg_is(const struct arg *a, const char *word); /* case-insensitive */

#endif
