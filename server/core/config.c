/* config.c - configuration directives: the table, defaults, redis.conf and
 * command-line loading, with Redis 7.0's exact names, defaults, validation
 * and error texts.  The CONFIG command (GET/SET/RESETSTAT/REWRITE/HELP) is
 * cmd_config.c, over the same table (config_int.h).
 *
 * Design: ONE table of directive descriptors (`cfg_table[]` below).  Each row
 * says everything about a directive:
 *   - name, and an optional alias (slave-read-only, lua-time-limit...);
 *   - type: T_BOOL (yes/no), T_NUM (integer; F_MEMORY accepts 1k/1kb/1gb...,
 *     F_PERCENT "10%", F_OCTAL, F_LL when the field is a long long, else an
 *     int), T_ENUM (name table), T_STR (string, F_EMPTY_NULL when "" means
 *     unset) or T_SPECIAL (own set/get/rewrite: save, bind, dir...);
 *   - a pointer to where the value lives: a field of `srv` for everything
 *     the server acts on, or a private static object (a file-scope compound
 *     literal, P_INT/P_LL/P_STR) for directives Redis has and Sluice only
 *     stores (cluster-*, repl-*, activedefrag...), so that stock redis.conf
 *     files load and CONFIG GET * shows what Redis shows;
 *   - default, min/max, flags (F_IMMUTABLE, F_PROTECTED, F_DENY_LOAD,
 *     F_MULTI_ARG), and optional validate / apply hooks.
 * Loading, CONFIG GET/SET and CONFIG REWRITE are generic code driven by the
 * table, exactly like Redis's standardConfig, so a new directive is one row.
 * The field pointers are checked with _Generic: an int row cannot point at
 * a long long field.
 *
 */
#include "config.h"
#include "config_int.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "mem.h"
#include "reply.h"
#include "resp.h"
#include "server.h"
#include "util.h"

#define IPTR(v) _Generic(&(v), int *: &(v))
#define LPTR(v) _Generic(&(v), long long *: &(v))
#define SPTR(v) _Generic(&(v), char **: &(v))
/* Storage for directives srv has no field for: static objects. */
#define P_INT (int){0}
#define P_LL (long long){0}
#define P_STR (char *){NULL}

#define BOOL(n, a, fl, v, d, va, ap) {n, a, T_BOOL, fl, IPTR(v), 0, 1, d, NULL, va, ap}
#define INT(n, a, fl, v, lo, hi, d, ap) {n, a, T_NUM, fl, IPTR(v), lo, hi, d, NULL, NULL, ap}
#define LL(n, a, fl, v, lo, hi, d, ap) {n, a, T_NUM, (fl) | F_LL, LPTR(v), lo, hi, d, NULL, NULL, ap}
#define ENUM(n, a, fl, v, tab, d, va) {n, a, T_ENUM, fl, IPTR(v), 0, 0, d, tab, va, NULL}
#define STR(n, a, fl, v, d, va, ap) {n, a, T_STR, fl, SPTR(v), 0, 0, 0, d, va, ap}
#define SPECIAL(n, a, fl, ops, ap) {n, a, T_SPECIAL, fl, NULL, 0, 0, 0, &ops, NULL, ap}


/* ---- enum tables (Redis's order: it shows up in error messages) ---- */

static const struct enum_val maxmemory_policy_enum[] = {
    {"volatile-lru", MAXMEMORY_VOLATILE_LRU}, {"volatile-lfu", MAXMEMORY_VOLATILE_LFU},
    {"volatile-random", MAXMEMORY_VOLATILE_RANDOM}, {"volatile-ttl", MAXMEMORY_VOLATILE_TTL},
    {"allkeys-lru", MAXMEMORY_ALLKEYS_LRU}, {"allkeys-lfu", MAXMEMORY_ALLKEYS_LFU},
    {"allkeys-random", MAXMEMORY_ALLKEYS_RANDOM}, {"noeviction", MAXMEMORY_NO_EVICTION}, {NULL, 0}};
static const struct enum_val syslog_facility_enum[] = {
    {"user", LOG_USER}, {"local0", LOG_LOCAL0}, {"local1", LOG_LOCAL1}, {"local2", LOG_LOCAL2},
    {"local3", LOG_LOCAL3}, {"local4", LOG_LOCAL4}, {"local5", LOG_LOCAL5}, {"local6", LOG_LOCAL6},
    {"local7", LOG_LOCAL7}, {NULL, 0}};
static const struct enum_val loglevel_enum[] = {
    {"debug", LL_DEBUG}, {"verbose", LL_VERBOSE}, {"notice", LL_NOTICE}, {"warning", LL_WARNING}, {NULL, 0}};
static const struct enum_val supervised_enum[] = {{"upstart", SUPERVISED_UPSTART}, {"systemd", SUPERVISED_SYSTEMD},
                                                  {"auto", SUPERVISED_AUTODETECT}, {"no", SUPERVISED_NONE}, {NULL, 0}};
static const struct enum_val aof_fsync_enum[] = {
    {"everysec", AOF_FSYNC_EVERYSEC}, {"always", AOF_FSYNC_ALWAYS}, {"no", AOF_FSYNC_NO}, {NULL, 0}};
static const struct enum_val repl_diskless_load_enum[] = {
    {"disabled", 0}, {"on-empty-db", 1}, {"swapdb", 2}, {NULL, 0}};
static const struct enum_val acks_enum[] = {{"0", 0}, {"1", 1}, {"all", 2}, {NULL, 0}};
static const struct enum_val oom_score_adj_enum[] = {
    {"no", 0}, {"yes", 1}, {"relative", 1}, {"absolute", 2}, {NULL, 0}};
static const struct enum_val acl_pubsub_default_enum[] = {{"allchannels", 1}, {"resetchannels", 0}, {NULL, 0}};
static const struct enum_val sanitize_dump_payload_enum[] = {{"no", 0}, {"yes", 1}, {"clients", 2}, {NULL, 0}};
static const struct enum_val protected_action_enum[] = {{"no", PROTECTED_ACTION_ALLOWED_NO},
                                                        {"yes", PROTECTED_ACTION_ALLOWED_YES},
                                                        {"local", PROTECTED_ACTION_ALLOWED_LOCAL}, {NULL, 0}};
static const struct enum_val endpoint_type_enum[] = {{"ip", 0}, {"hostname", 1}, {"unknown-endpoint", 2}, {NULL, 0}};
static const struct enum_val propagation_error_enum[] = {
    {"ignore", 0}, {"panic", 1}, {"panic-on-replicas", 2}, {NULL, 0}};
/* A flags enum (F_MULTI_ARG): "shutdown-on-sigterm nosave now". */
static const struct enum_val shutdown_on_sig_enum[] = {{"default", 0}, {"save", SHUTDOWN_SAVE},
                                                       {"nosave", SHUTDOWN_NOSAVE}, {"now", SHUTDOWN_NOW},
                                                       {"force", SHUTDOWN_FORCE}, {NULL, 0}};

/* ---- validate / apply hooks and specials, defined further down ---- */
static validate_fn valid_dbfilename, valid_aof_filename, valid_aof_dirname, valid_hostname, valid_proc_title,
    valid_activedefrag, valid_shutdown_flags;
static apply_fn apply_backlog, apply_port, apply_bind, apply_hz, apply_maxclients, apply_appendonly, apply_appendfsync,
    apply_tracking;
static const struct special_ops dir_ops, save_ops, cobl_ops, oom_values_ops, notify_ops, bind_ops, replicaof_ops,
    latency_pct_ops;

#define DEF_PROC_TITLE "{title} {listen-addr} {server-mode}"
/* Redis binds "* -::*" by default; Sluice only loopback unless told. */
#define BIND_DEFAULT "127.0.0.1 -::1"

const struct cfg cfg_table[] = {
    /* bool */
    BOOL("rdbchecksum", NULL, F_IMMUTABLE, srv.rdbchecksum, 1, NULL, NULL),
    BOOL("daemonize", NULL, F_IMMUTABLE, srv.daemonize, 0, NULL, NULL),
    BOOL("io-threads-do-reads", NULL, F_IMMUTABLE, P_INT, 0, NULL, NULL),
    BOOL("always-show-logo", NULL, F_IMMUTABLE, P_INT, 0, NULL, NULL),
    BOOL("protected-mode", NULL, 0, srv.protected_mode, 1, NULL, NULL),
    BOOL("rdbcompression", NULL, 0, srv.rdbcompression, 1, NULL, NULL),
    BOOL("rdb-del-sync-files", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("activerehashing", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("stop-writes-on-bgsave-error", NULL, 0, srv.stop_writes_on_bgsave_err, 1, NULL, NULL),
    BOOL("set-proc-title", NULL, F_IMMUTABLE, srv.set_proc_title, 1, NULL, NULL),
    BOOL("dynamic-hz", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("lazyfree-lazy-eviction", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("lazyfree-lazy-expire", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("lazyfree-lazy-server-del", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("lazyfree-lazy-user-del", NULL, 0, srv.lazyfree_lazy_user_del, 0, NULL, NULL),
    BOOL("lazyfree-lazy-user-flush", NULL, 0, srv.lazyfree_lazy_user_flush, 0, NULL, NULL),
    BOOL("repl-disable-tcp-nodelay", NULL, 0, srv.repl_disable_tcp_nodelay, 0, NULL, NULL),
    BOOL("repl-diskless-sync", NULL, 0, srv.repl_diskless_sync, 1, NULL, NULL),
    BOOL("aof-rewrite-incremental-fsync", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("no-appendfsync-on-rewrite", NULL, 0, srv.no_appendfsync_on_rewrite, 0, NULL, NULL),
    BOOL("cluster-require-full-coverage", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("rdb-save-incremental-fsync", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("aof-load-truncated", NULL, 0, srv.aof_load_truncated, 1, NULL, NULL),
    BOOL("aof-use-rdb-preamble", NULL, 0, srv.aof_use_rdb_preamble, 1, NULL, NULL),
    BOOL("aof-timestamp-enabled", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("cluster-replica-no-failover", "cluster-slave-no-failover", 0, P_INT, 0, NULL, NULL),
    BOOL("replica-lazy-flush", "slave-lazy-flush", 0, P_INT, 0, NULL, NULL),
    BOOL("replica-serve-stale-data", "slave-serve-stale-data", 0, srv.replica_serve_stale_data, 1, NULL, NULL),
    BOOL("replica-read-only", "slave-read-only", 0, srv.replica_read_only, 1, NULL, NULL),
    BOOL("replica-ignore-maxmemory", "slave-ignore-maxmemory", 0, P_INT, 1, NULL, NULL),
    BOOL("jemalloc-bg-thread", NULL, 0, srv.jemalloc_bg_thread, 1, NULL, NULL),
    BOOL("activedefrag", NULL, 0, P_INT, 0, valid_activedefrag, NULL),
    BOOL("syslog-enabled", NULL, F_IMMUTABLE, P_INT, 0, NULL, NULL),
    BOOL("cluster-enabled", NULL, F_IMMUTABLE, P_INT, 0, NULL, NULL),
    BOOL("appendonly", NULL, F_DENY_LOAD, srv.appendonly, 0, NULL, apply_appendonly),
    BOOL("cluster-allow-reads-when-down", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("cluster-allow-pubsubshard-when-down", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("crash-log-enabled", NULL, 0, srv.crash_log_enabled, 1, NULL, NULL),
    BOOL("crash-memcheck-enabled", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("disable-thp", NULL, F_IMMUTABLE, P_INT, 1, NULL, NULL),
    BOOL("cluster-allow-replica-migration", NULL, 0, P_INT, 1, NULL, NULL),
    BOOL("replica-announced", NULL, 0, srv.replica_announced, 1, NULL, NULL),
    BOOL("latency-tracking", NULL, 0, srv.latency_tracking, 1, NULL, NULL),
    BOOL("aof-disable-auto-gc", NULL, 0, P_INT, 0, NULL, NULL),
    BOOL("replica-ignore-disk-write-errors", NULL, 0, P_INT, 0, NULL, NULL),
    /* strings */
    STR("aclfile", NULL, F_IMMUTABLE, P_STR, "", NULL, NULL),
    STR("unixsocket", NULL, F_IMMUTABLE | F_EMPTY_NULL, srv.unixsocket, NULL, NULL, NULL),
    STR("pidfile", NULL, F_IMMUTABLE | F_EMPTY_NULL, srv.pidfile, NULL, NULL, NULL),
    STR("replica-announce-ip", "slave-announce-ip", F_EMPTY_NULL, srv.replica_announce_ip, NULL, NULL, NULL),
    STR("masteruser", NULL, F_EMPTY_NULL, srv.masteruser, NULL, NULL, NULL),
    STR("cluster-announce-ip", NULL, F_EMPTY_NULL, P_STR, NULL, NULL, NULL),
    STR("cluster-config-file", NULL, F_IMMUTABLE, P_STR, "nodes.conf", NULL, NULL),
    STR("cluster-announce-hostname", NULL, F_EMPTY_NULL, P_STR, NULL, valid_hostname, NULL),
    STR("syslog-ident", NULL, F_IMMUTABLE, srv.syslog_ident, "redis", NULL, NULL),
    STR("dbfilename", NULL, F_PROTECTED, srv.dbfilename, "dump.rdb", valid_dbfilename, NULL),
    STR("appendfilename", NULL, F_IMMUTABLE, srv.appendfilename, "appendonly.aof", valid_aof_filename, NULL),
    STR("appenddirname", NULL, F_IMMUTABLE, srv.appenddirname, "appendonlydir", valid_aof_dirname, NULL),
    STR("server_cpulist", NULL, F_IMMUTABLE | F_EMPTY_NULL, P_STR, NULL, NULL, NULL),
    STR("bio_cpulist", NULL, F_IMMUTABLE | F_EMPTY_NULL, P_STR, NULL, NULL, NULL),
    STR("aof_rewrite_cpulist", NULL, F_IMMUTABLE | F_EMPTY_NULL, P_STR, NULL, NULL, NULL),
    STR("bgsave_cpulist", NULL, F_IMMUTABLE | F_EMPTY_NULL, P_STR, NULL, NULL, NULL),
    STR("ignore-warnings", NULL, 0, P_STR, "", NULL, NULL),
    STR("proc-title-template", NULL, 0, srv.proc_title_template, DEF_PROC_TITLE, valid_proc_title, NULL),
    STR("bind-source-addr", NULL, F_EMPTY_NULL, P_STR, NULL, NULL, NULL),
    STR("logfile", NULL, F_IMMUTABLE, srv.logfile, "", NULL, NULL),
    STR("masterauth", NULL, F_EMPTY_NULL, srv.masterauth, NULL, NULL, NULL),
    STR("requirepass", NULL, F_EMPTY_NULL, srv.requirepass, NULL, NULL, NULL),
    /* enums */
    ENUM("supervised", NULL, F_IMMUTABLE, srv.supervised, supervised_enum, SUPERVISED_NONE, NULL),
    ENUM("syslog-facility", NULL, F_IMMUTABLE, P_INT, syslog_facility_enum, LOG_LOCAL0, NULL),
    ENUM("acks", NULL, 0, srv.acks, acks_enum, 1, NULL),
    INT("min-insync-replicas", NULL, 0, srv.min_insync_replicas, 1, INT_MAX, 1, NULL),
    LL("replica-lag-max-ms", NULL, 0, srv.replica_lag_max_ms, 1, LLONG_MAX, 10000, NULL),
    LL("ack-timeout-ms", NULL, 0, srv.ack_timeout_ms, 0, LLONG_MAX, 5000, NULL),
    BOOL("read-committed", NULL, 0, srv.read_committed, 1, NULL, NULL),
    ENUM("repl-diskless-load", NULL, F_DENY_LOAD, srv.repl_diskless_load, repl_diskless_load_enum, 0, NULL),
    ENUM("loglevel", NULL, 0, srv.verbosity, loglevel_enum, LL_NOTICE, NULL),
    /* (ENUM rows have no apply hook; this one needs one) */
    {"maxmemory-policy", NULL, T_ENUM, 0, IPTR(srv.maxmemory_policy), 0, 0, MAXMEMORY_NO_EVICTION,
     maxmemory_policy_enum, NULL, apply_tracking},
    /* ENUM() with an apply hook */
    {"appendfsync", NULL, T_ENUM, 0, IPTR(srv.appendfsync), 0, 0, AOF_FSYNC_EVERYSEC, aof_fsync_enum, NULL,
     apply_appendfsync},
    ENUM("oom-score-adj", NULL, 0, P_INT, oom_score_adj_enum, 0, NULL),
    ENUM("acl-pubsub-default", NULL, 0, P_INT, acl_pubsub_default_enum, 0, NULL),
    ENUM("sanitize-dump-payload", NULL, 0, P_INT, sanitize_dump_payload_enum, 0, NULL),
    ENUM("enable-protected-configs", NULL, F_IMMUTABLE, srv.enable_protected_configs, protected_action_enum, 0, NULL),
    ENUM("enable-debug-command", NULL, F_IMMUTABLE, srv.enable_debug_command, protected_action_enum, 0, NULL),
    ENUM("enable-module-command", NULL, F_IMMUTABLE, P_INT, protected_action_enum, 0, NULL),
    ENUM("cluster-preferred-endpoint-type", NULL, 0, P_INT, endpoint_type_enum, 0, NULL),
    ENUM("propagation-error-behavior", NULL, 0, P_INT, propagation_error_enum, 0, NULL),
    ENUM("shutdown-on-sigint", NULL, F_MULTI_ARG, P_INT, shutdown_on_sig_enum, 0, valid_shutdown_flags),
    ENUM("shutdown-on-sigterm", NULL, F_MULTI_ARG, P_INT, shutdown_on_sig_enum, 0, valid_shutdown_flags),
    /* integers */
    INT("databases", NULL, F_IMMUTABLE, srv.dbnum, 1, INT_MAX, CONFIG_DEFAULT_DBNUM, NULL),
    INT("port", NULL, 0, srv.port, 0, 65535, 6379, apply_port),
    INT("io-threads", NULL, F_IMMUTABLE, srv.io_threads, 1, 128, 1, NULL),
    LL("auto-aof-rewrite-percentage", NULL, 0, srv.auto_aof_rewrite_perc, 0, INT_MAX, 100, NULL),
    LL("cluster-replica-validity-factor", "cluster-slave-validity-factor", 0, P_LL, 0, INT_MAX, 10, NULL),
    INT("list-max-listpack-size", "list-max-ziplist-size", 0, srv.list_max_listpack_size, INT_MIN, INT_MAX, -2, NULL),
    INT("tcp-keepalive", NULL, 0, srv.tcpkeepalive, 0, INT_MAX, 300, NULL),
    LL("cluster-migration-barrier", NULL, 0, P_LL, 0, INT_MAX, 1, NULL),
    LL("active-defrag-cycle-min", NULL, 0, P_LL, 1, 99, 1, NULL),
    LL("active-defrag-cycle-max", NULL, 0, P_LL, 1, 99, 25, NULL),
    LL("active-defrag-threshold-lower", NULL, 0, P_LL, 0, 1000, 10, NULL),
    LL("active-defrag-threshold-upper", NULL, 0, P_LL, 0, 1000, 100, NULL),
    INT("lfu-log-factor", NULL, 0, srv.lfu_log_factor, 0, INT_MAX, 10, apply_tracking),
    INT("lfu-decay-time", NULL, 0, srv.lfu_decay_time, 0, INT_MAX, 1, apply_tracking),
    LL("replica-priority", "slave-priority", 0, srv.replica_priority, 0, INT_MAX, 100, NULL),
    LL("repl-diskless-sync-delay", NULL, 0, srv.repl_diskless_sync_delay, 0, INT_MAX, 5, NULL),
    INT("maxmemory-samples", NULL, 0, srv.maxmemory_samples, 1, INT_MAX, 5, NULL),
    LL("maxmemory-eviction-tenacity", NULL, 0, P_LL, 0, 100, 10, NULL),
    INT("timeout", NULL, 0, srv.maxidletime, 0, INT_MAX, 0, NULL),
    LL("replica-announce-port", "slave-announce-port", 0, srv.replica_announce_port, 0, 65535, 0, NULL),
    INT("tcp-backlog", NULL, F_IMMUTABLE, srv.tcp_backlog, 0, INT_MAX, 511, NULL),
    LL("cluster-port", NULL, F_IMMUTABLE, P_LL, 0, 65535, 0, NULL),
    LL("cluster-announce-bus-port", NULL, 0, P_LL, 0, 65535, 0, NULL),
    LL("cluster-announce-port", NULL, 0, P_LL, 0, 65535, 0, NULL),
    LL("cluster-announce-tls-port", NULL, 0, P_LL, 0, 65535, 0, NULL),
    LL("repl-timeout", NULL, 0, srv.repl_timeout, 1, INT_MAX, 60, NULL),
    LL("repl-ping-replica-period", "repl-ping-slave-period", 0, srv.repl_ping_replica_period, 1, INT_MAX, 10, NULL),
    INT("list-compress-depth", NULL, 0, srv.list_compress_depth, 0, INT_MAX, 0, NULL),
    INT("active-expire-effort", NULL, 0, srv.active_expire_effort, 1, 10, 1, NULL),
    INT("hz", NULL, 0, srv.hz, 0, INT_MAX, 10, apply_hz),
    INT("key-load-delay", NULL, F_HIDDEN, srv.key_load_delay, INT_MIN, INT_MAX, 0, NULL),
    INT("rdb-key-save-delay", NULL, F_HIDDEN, srv.rdb_key_save_delay, INT_MIN, INT_MAX, 0, NULL),
    INT("min-replicas-to-write", "min-slaves-to-write", 0, srv.min_replicas_to_write, 0, INT_MAX, 0, NULL),
    INT("min-replicas-max-lag", "min-slaves-max-lag", 0, srv.min_replicas_max_lag, 0, INT_MAX, 10, NULL),
    LL("shutdown-timeout", NULL, 0, P_LL, 0, INT_MAX, 10, NULL),
    LL("repl-diskless-sync-max-replicas", NULL, 0, srv.repl_diskless_sync_max_replicas, 0, INT_MAX, 0, NULL),
    /* maxclients is unsigned in Redis; values past INT_MAX saturate in srv */
    INT("maxclients", NULL, 0, srv.maxclients, 1, UINT_MAX, 10000, apply_maxclients),
    INT("unixsocketperm", NULL, F_IMMUTABLE | F_OCTAL, srv.unixsocketperm, 0, 0777, 0, NULL),
    LL("socket-mark-id", NULL, F_IMMUTABLE, P_LL, 0, UINT_MAX, 0, NULL),
    LL("active-defrag-max-scan-fields", NULL, 0, P_LL, 1, LONG_MAX, 1000, NULL),
    LL("slowlog-max-len", NULL, 0, srv.slowlog_max_len, 0, LONG_MAX, 128, NULL),
    LL("acllog-max-len", NULL, 0, P_LL, 0, LONG_MAX, 128, NULL),
    INT("busy-reply-threshold", "lua-time-limit", 0, srv.busy_reply_threshold, 0, LONG_MAX, 5000, NULL),
    LL("cluster-node-timeout", NULL, 0, P_LL, 0, LLONG_MAX, 15000, NULL),
    LL("slowlog-log-slower-than", NULL, 0, srv.slowlog_log_slower_than, -1, LLONG_MAX, 10000, NULL),
    LL("latency-monitor-threshold", NULL, 0, P_LL, 0, LLONG_MAX, 0, NULL),
    LL("proto-max-bulk-len", NULL, F_MEMORY, srv.proto_max_bulk_len, MB, LONG_MAX, 512 * MB, NULL),
    LL("stream-node-max-entries", NULL, 0, srv.stream_node_max_entries, 0, LLONG_MAX, 100, NULL),
    LL("repl-backlog-size", NULL, F_MEMORY, srv.repl_backlog_size, 1, LLONG_MAX, MB, apply_backlog),
    /* max -1 is ULLONG_MAX: F_UNSIGNED bounds are compared as unsigned */
    LL("maxmemory", NULL, F_MEMORY | F_UNSIGNED, srv.maxmemory, 0, -1, 0, NULL),
    LL("cluster-link-sendbuf-limit", NULL, F_MEMORY | F_UNSIGNED, P_LL, 0, -1, 0, NULL),
    LL("hash-max-listpack-entries", "hash-max-ziplist-entries", 0, P_LL, 0, LONG_MAX, 512, NULL),
    LL("set-max-intset-entries", NULL, 0, P_LL, 0, LONG_MAX, 512, NULL),
    LL("zset-max-listpack-entries", "zset-max-ziplist-entries", 0, P_LL, 0, LONG_MAX, 128, NULL),
    LL("active-defrag-ignore-bytes", NULL, F_MEMORY, P_LL, 1, LLONG_MAX, 100 * MB, NULL),
    LL("hash-max-listpack-value", "hash-max-ziplist-value", F_MEMORY, P_LL, 0, LONG_MAX, 64, NULL),
    LL("stream-node-max-bytes", NULL, F_MEMORY, srv.stream_node_max_bytes, 0, LONG_MAX, 4096, NULL),
    LL("zset-max-listpack-value", "zset-max-ziplist-value", F_MEMORY, P_LL, 0, LONG_MAX, 64, NULL),
    LL("hll-sparse-max-bytes", NULL, F_MEMORY, P_LL, 0, LONG_MAX, 3000, NULL),
    LL("tracking-table-max-keys", NULL, 0, P_LL, 0, LONG_MAX, 1000000, NULL),
    LL("client-query-buffer-limit", NULL, F_MEMORY, srv.client_max_querybuf_len, MB, LONG_MAX, 1024 * MB, NULL),
    LL("maxmemory-clients", NULL, F_MEMORY | F_PERCENT, P_LL, -100, LONG_MAX, 0, NULL),
    LL("repl-backlog-ttl", NULL, 0, srv.repl_backlog_ttl, 0, LONG_MAX, 3600, NULL),
    LL("auto-aof-rewrite-min-size", NULL, F_MEMORY, srv.auto_aof_rewrite_min_size, 0, LLONG_MAX, 64 * MB, NULL),
    /* specials */
    SPECIAL("dir", NULL, F_PROTECTED | F_DENY_LOAD, dir_ops, NULL),
    SPECIAL("save", NULL, F_MULTI_ARG, save_ops, NULL),
    SPECIAL("client-output-buffer-limit", NULL, F_MULTI_ARG, cobl_ops, NULL),
    SPECIAL("oom-score-adj-values", NULL, F_MULTI_ARG, oom_values_ops, NULL),
    SPECIAL("notify-keyspace-events", NULL, 0, notify_ops, NULL),
    SPECIAL("bind", NULL, F_MULTI_ARG, bind_ops, apply_bind),
    SPECIAL("replicaof", "slaveof", F_IMMUTABLE | F_MULTI_ARG, replicaof_ops, NULL),
    SPECIAL("latency-tracking-info-percentiles", NULL, F_MULTI_ARG, latency_pct_ops, NULL),
};

#define NCONFIGS ((int)(sizeof(cfg_table) / sizeof(cfg_table[0])))
const int cfg_count = NCONFIGS;

/* ---- name lookup ----
 * An entry code is (table index << 1) | is_alias.  Redis registers an
 * alias as an entry of its own, which is visible: CONFIG GET * lists both
 * names, and "CONFIG SET busy-reply-threshold 1 lua-time-limit 2" is not a
 * duplicate.  A linear scan: lookups only happen when loading and in
 * CONFIG, and a dict built before server.c seeds the hash would go stale. */

int cfg_lookup(const char *name, size_t len)
{
    for (int i = 0; i < NCONFIGS; i++) {
        if (strieq(name, len, cfg_table[i].name))
            return i << 1;
        if (cfg_table[i].alias && strieq(name, len, cfg_table[i].alias))
            return (i << 1) | 1;
    }
    return -1;
}

const char *cfg_entry_name(int code)
{
    const struct cfg *c = &cfg_table[code >> 1];
    return (code & 1) ? c->alias : c->name;
}

/* ---- typed values ---- */

/* Redis's memtoull(): digits plus an optional unit; overflow wraps. */
static unsigned long long memtoull(const char *p, int *err)
{
    static const struct {
        const char *unit;
        unsigned long long mul;
    } units[] = {{"", 1}, {"b", 1}, {"k", 1000}, {"kb", 1024}, {"m", 1000000}, {"mb", 1 << 20},
                 {"g", 1000000000}, {"gb", 1 << 30}};
    unsigned long long mul = 0;
    const char *u = p;
    *err = 1;
    if (*p == '-')
        return 0;
    while (isdigit((unsigned char)*u))
        u++;
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !mul; i++)
        if (!strcasecmp(u, units[i].unit))
            mul = units[i].mul;
    if (!mul || u - p >= 128)
        return 0;
    char buf[128], *end;
    memcpy(buf, p, (size_t)(u - p));
    buf[u - p] = '\0';
    unsigned long long v = strtoull(buf, &end, 10);
    if (*end)
        return 0;
    *err = 0;
    return v * mul;
}

static char errbuf[256]; /* formatted error reasons, as Redis's loadbuf */

static int parse_num(const struct cfg *c, const char *s, long long *out, const char **err)
{
    if (c->flags & F_MEMORY) {
        int e;
        unsigned long long v = memtoull(s, &e);
        if (!e) {
            *out = (long long)v;
            return 1;
        }
    }
    size_t len = strlen(s);
    if ((c->flags & F_PERCENT) && len > 1 && s[len - 1] == '%' && string2ll(s, len - 1, out) && *out >= 0) {
        *out = -*out;
        return 1;
    }
    if (c->flags & F_OCTAL) {
        char *end;
        errno = 0;
        *out = strtoll(s, &end, 8);
        if (errno == 0 && *end == '\0')
            return 1;
    }
    if (!(c->flags & (F_MEMORY | F_PERCENT | F_OCTAL)) && string2ll(s, len, out))
        return 1;
    if ((c->flags & F_MEMORY) && (c->flags & F_PERCENT))
        *err = "argument must be a memory or percent value";
    else if (c->flags & F_MEMORY)
        *err = "argument must be a memory value";
    else if (c->flags & F_OCTAL)
        *err = "argument couldn't be parsed as an octal number";
    else
        *err = "argument couldn't be parsed into an integer";
    return 0;
}

static int check_bounds(const struct cfg *c, long long v, const char **err)
{
    if (c->flags & F_UNSIGNED) {
        if ((unsigned long long)v >= (unsigned long long)c->min && (unsigned long long)v <= (unsigned long long)c->max)
            return 1;
        snprintf(errbuf, sizeof(errbuf), "argument must be between %llu and %llu inclusive",
                 (unsigned long long)c->min, (unsigned long long)c->max);
    } else if ((c->flags & F_PERCENT) && v < 0) {
        if (v >= c->min)
            return 1;
        snprintf(errbuf, sizeof(errbuf), "percentage argument must be less or equal to %lld", -c->min);
    } else {
        if (v >= c->min && v <= c->max)
            return 1;
        snprintf(errbuf, sizeof(errbuf),
                 (c->flags & F_OCTAL) ? "argument must be between %llo and %llo inclusive"
                                      : "argument must be between %lld and %lld inclusive",
                 c->min, c->max);
    }
    *err = errbuf;
    return 0;
}

long long cfg_num_load(const struct cfg *c)
{
    return (c->flags & F_LL) ? *(long long *)c->ptr : *(int *)c->ptr;
}

static void num_store(const struct cfg *c, long long v)
{
    if (c->flags & F_LL)
        *(long long *)c->ptr = v;
    else /* the few int fields with wider Redis ranges saturate */
        *(int *)c->ptr = v > INT_MAX ? INT_MAX : v < INT_MIN ? INT_MIN : (int)v;
}

/* Enum lookup; a flags enum ORs several names.  INT_MIN when invalid. */
static int enum_parse(const struct cfg *c, char **argv, int argc, const char **err)
{
    int v = 0;
    for (int i = 0; i < argc && (argc == 1 || (c->flags & F_MULTI_ARG)); i++) {
        const struct enum_val *e = c->aux;
        while (e->name && strcasecmp(e->name, argv[i]))
            e++;
        if (!e->name)
            break;
        v |= e->val;
        if (i == argc - 1)
            return v;
    }
    int n = snprintf(errbuf, sizeof(errbuf), "argument(s) must be one of the following: ");
    for (const struct enum_val *e = c->aux; e->name && n < (int)sizeof(errbuf); e++)
        n += snprintf(errbuf + n, sizeof(errbuf) - (size_t)n, "%s%s", e->name, e[1].name ? ", " : "");
    *err = errbuf;
    return INT_MIN;
}

static sstr enum_name(const struct cfg *c, int v)
{
    sstr s = sstr_empty(16);
    int unmatched = v;
    for (const struct enum_val *e = c->aux; e->name; e++) {
        if (e->val == v) {
            sstr_clear(s);
            return sstr_cats(s, e->name);
        }
        if ((c->flags & F_MULTI_ARG) && e->val && (unmatched & e->val) == e->val) {
            s = sstr_catfmt(s, "%s%s", sstr_len(s) ? " " : "", e->name);
            unmatched &= ~e->val;
        }
    }
    if (!sstr_len(s) || unmatched) {
        sstr_clear(s);
        s = sstr_cats(s, "unknown");
    }
    return s;
}

/* Set a directive from its arguments.  0 error (*err set), 1 changed,
 * 2 same value as before. */
static int cfg_set(const struct cfg *c, char **argv, int argc, const char **err)
{
    long long v;
    switch (c->type) {
    case T_BOOL:
    case T_ENUM:
        if (c->type == T_ENUM)
            v = enum_parse(c, argv, argc, err);
        else if ((v = !strcasecmp(argv[0], "yes") ? 1 : !strcasecmp(argv[0], "no") ? 0 : INT_MIN) == INT_MIN)
            *err = "argument must be 'yes' or 'no'";
        if (v == INT_MIN || (c->valid && !c->valid(argv[0], v, err)))
            return 0;
        if (*(int *)c->ptr == v)
            return 2;
        *(int *)c->ptr = (int)v;
        return 1;
    case T_NUM:
        if (!parse_num(c, argv[0], &v, err) || !check_bounds(c, v, err))
            return 0;
        if (cfg_num_load(c) == v)
            return 2;
        num_store(c, v);
        return 1;
    case T_STR: {
        char **field = c->ptr;
        if (c->valid && !c->valid(argv[0], 0, err))
            return 0;
        const char *nv = ((c->flags & F_EMPTY_NULL) && !argv[0][0]) ? NULL : argv[0];
        if (nv == *field || (nv && *field && !strcmp(nv, *field)))
            return 2;
        mem_free(*field);
        *field = nv ? mem_strdup(nv) : NULL;
        return 1;
    }
    default:
        return ((const struct special_ops *)c->aux)->set(argv, argc, err);
    }
}

/* CONFIG GET's text of a directive. */
sstr cfg_get(const struct cfg *c)
{
    long long v;
    switch (c->type) {
    case T_BOOL:
        return sstr_from(*(int *)c->ptr ? "yes" : "no");
    case T_NUM:
        v = cfg_num_load(c);
        if ((c->flags & F_PERCENT) && v < 0)
            return sstr_catfmt(sstr_empty(24), "%lld%%", -v);
        if (c->flags & (F_MEMORY | F_UNSIGNED))
            return sstr_catfmt(sstr_empty(24), "%llu", (unsigned long long)v);
        return sstr_catfmt(sstr_empty(24), (c->flags & F_OCTAL) ? "%llo" : "%lld", v);
    case T_ENUM:
        return enum_name(c, *(int *)c->ptr);
    case T_STR:
        return sstr_from(*(char **)c->ptr ? *(char **)c->ptr : "");
    default:
        return ((const struct special_ops *)c->aux)->get();
    }
}

/* Set from one string, as CONFIG SET does: a multi-word directive's value
 * is split on single spaces like Redis's sdssplitlen ("" is no words at
 * all, "a  b" is three). */
int cfg_set_from_string(const struct cfg *c, const char *value, const char **err)
{
    sstr v = sstr_from(value);
    size_t len = sstr_len(v);
    int argc = 1;
    char **argv = mem_alloc(sizeof(char *) * (len + 1));
    argv[0] = v;
    if (c->flags & F_MULTI_ARG) {
        argc = len ? 1 : 0;
        for (size_t i = 0; i < len; i++)
            if (v[i] == ' ') {
                v[i] = '\0';
                argv[argc++] = v + i + 1;
            }
    }
    int res = cfg_set(c, argv, argc, err);
    mem_free(argv);
    sstr_free(v);
    return res;
}

/* ---- validators ---- */

static int valid_dbfilename(const char *s, long long v, const char **err)
{
    if (!strchr(s, '/'))
        return 1;
    *err = "dbfilename can't be a path, just a filename";
    return 0;
}

static int valid_aof_filename(const char *s, long long v, const char **err)
{
    if (!*s)
        *err = "appendfilename can't be empty";
    else if (strchr(s, '/'))
        *err = "appendfilename can't be a path, just a filename";
    return *s && !strchr(s, '/');
}

static int valid_aof_dirname(const char *s, long long v, const char **err)
{
    if (!*s)
        *err = "appenddirname can't be empty";
    else if (strchr(s, '/'))
        *err = "appenddirname can't be a path, just a dirname";
    return *s && !strchr(s, '/');
}

static int valid_hostname(const char *s, long long v, const char **err)
{
    if (strlen(s) >= 256) {
        *err = "Hostnames must be less than 256 characters";
        return 0;
    }
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '-' && *s != '.') {
            *err = "Hostnames may only contain alphanumeric characters, hyphens or dots";
            return 0;
        }
    return 1;
}

static int has_nonspace(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ')
            return 1;
    return 0;
}

/* Redis expands the template with an empty title and rejects unknown
 * {variables}, unbalanced braces and a result that trims to nothing. */
static int valid_proc_title(const char *s, long long v, const char **err)
{
    static const char *const vars[] = {"title",     "listen-addr", "server-mode", "port",
                                       "tls-port",  "unixsocket",  "config-file", NULL};
    int nonblank = 0;
    const char *p = s;
    while (*p) {
        const char *open = strchr(p, '{');
        if (!open) {
            nonblank |= has_nonspace(p, strlen(p));
            break;
        }
        nonblank |= has_nonspace(p, (size_t)(open - p));
        if (open[1] == '{') { /* "{{" is a literal brace */
            nonblank = 1;
            p = open + 2;
            continue;
        }
        const char *close = strchr(open + 1, '}');
        if (!close)
            goto bad;
        size_t n = (size_t)(close - open - 1);
        int k = 0;
        while (vars[k] && !(strlen(vars[k]) == n && !memcmp(vars[k], open + 1, n)))
            k++;
        if (!vars[k])
            goto bad;
        /* listen-addr, port and tls-port never expand to nothing */
        if (k == 1 || k == 3 || k == 4 || (k == 5 && srv.unixsocket) || (k == 6 && srv.configfile))
            nonblank = 1;
        p = close + 1;
    }
    if (nonblank)
        return 1;
bad:
    *err = "template format is invalid or contains unknown variables";
    return 0;
}

static int valid_activedefrag(const char *s, long long v, const char **err)
{
    if (!v)
        return 1;
    *err = "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified "
           "Jemalloc like the one shipped by default with the Redis source distribution";
    return 0;
}

static int valid_shutdown_flags(const char *s, long long v, const char **err)
{
    if ((v & SHUTDOWN_SAVE) && (v & SHUTDOWN_NOSAVE)) {
        *err = "shutdown options SAVE and NOSAVE can't be used simultaneously";
        return 0;
    }
    return 1;
}

/* ---- apply hooks (CONFIG SET only; loading happens before listening) ---- */

static int apply_listen(const char **err, const char *dflt)
{
    sstr e = sstr_empty(0);
    int rc = server_apply_listen_config(&e);
    if (rc != 0) {
        snprintf(errbuf, sizeof(errbuf), "%s", sstr_len(e) ? e : dflt);
        *err = errbuf;
    }
    sstr_free(e);
    return rc == 0;
}

static int apply_port(const char **err)
{
    return apply_listen(err, "Unable to listen on this port. Check server logs.");
}

static int apply_bind(const char **err) { return apply_listen(err, "Failed to bind to specified addresses."); }

/* Directives whose runtime effect belongs to a module above the core
 * (appendonly/appendfsync: the AOF, where turning it on starts a
 * rewrite, as in Redis).  The module registers the effect; until one
 * does (unit tests link config.c alone), the value is simply set. */
static struct {
    const char *name;
    int (*apply)(const char **err);
} module_applies[8];
static int nmodule_applies;

void config_register_apply(const char *directive, int (*apply)(const char **err))
{
    if (nmodule_applies < (int)(sizeof(module_applies) / sizeof(module_applies[0])))
        module_applies[nmodule_applies++] = (typeof(module_applies[0])){directive, apply};
}

static int apply_registered(const char *directive, const char **err)
{
    for (int i = 0; i < nmodule_applies; i++)
        if (!strcmp(module_applies[i].name, directive))
            return module_applies[i].apply(err) == 0;
    return 1;
}

static int apply_appendonly(const char **err) { return apply_registered("appendonly", err); }

static int apply_appendfsync(const char **err) { return apply_registered("appendfsync", err); }

/* Redis never sizes the replication backlog under 16kb. */
static int apply_backlog(const char **err)
{
    if (srv.repl_backlog_size < 16 * 1024)
        srv.repl_backlog_size = 16 * 1024;
    return 1;
}

/* hz is a hint: out-of-range values are accepted and clamped. */
/* Eviction's settings for how values track access (evict.c). */
void evict_apply_config(void) __attribute__((weak));

static int apply_tracking(const char **err)
{
    (void)err;
    if (evict_apply_config)
        evict_apply_config();
    return 1;
}

static int apply_hz(const char **err)
{
    if (srv.hz < CONFIG_MIN_HZ)
        srv.hz = CONFIG_MIN_HZ;
    if (srv.hz > CONFIG_MAX_HZ)
        srv.hz = CONFIG_MAX_HZ;
    return 1;
}

/* Like Redis, make sure the process may open maxclients sockets plus 32
 * descriptors for listeners, files and the rest. */
static int apply_maxclients(const char **err)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)srv.maxclients + 32;
    if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= need)
        return 1;
    struct rlimit want = {need, rl.rlim_max > need ? rl.rlim_max : need};
    if (setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 1;
    want.rlim_max = rl.rlim_max;
    if (need <= rl.rlim_max && setrlimit(RLIMIT_NOFILE, &want) == 0)
        return 1;
    snprintf(errbuf, sizeof(errbuf),
             "The operating system is not able to handle the specified number of clients, try with %lld",
             (long long)rl.rlim_cur - 32);
    *err = errbuf;
    return 0;
}

/* ---- special directives ---- */

static int loading_file;     /* inside config_load_string() */
static int save_reset_done;  /* the load's first "save" line replaced the defaults */

static int dir_set(char **argv, int argc, const char **err)
{
    char cwd[PATH_MAX];
    if (argc != 1) {
        *err = "wrong number of arguments";
        return 0;
    }
    if (chdir(argv[0]) == -1) {
        *err = strerror(errno);
        return 0;
    }
    if (getcwd(cwd, sizeof(cwd))) {
        mem_free(srv.dir);
        srv.dir = mem_strdup(cwd);
    }
    return 1;
}

static sstr dir_get(void)
{
    char cwd[PATH_MAX];
    return sstr_from(getcwd(cwd, sizeof(cwd)) ? cwd : "");
}

static int save_set(char **argv, int argc, const char **err)
{
    if (argc == 1 && !argv[0][0])
        argc = 0;
    int reset = !loading_file || !save_reset_done;
    int base = reset ? 0 : srv.save_params_count;
    /* srv has room for 16 points; Redis has no limit */
    if ((argc & 1) || base + argc / 2 > (int)(sizeof(srv.save_params) / sizeof(srv.save_params[0])))
        goto bad;
    for (int j = 0; j < argc; j++) {
        char *end;
        long long v = strtoll(argv[j], &end, 10);
        if (*end || ((j & 1) == 0 && v < 1) || ((j & 1) && v < 0))
            goto bad;
    }
    if (loading_file)
        save_reset_done = 1;
    srv.save_params_count = base;
    for (int j = 0; j < argc; j += 2) {
        srv.save_params[srv.save_params_count][0] = strtoll(argv[j], NULL, 10);
        srv.save_params[srv.save_params_count][1] = (int)strtoll(argv[j + 1], NULL, 10);
        srv.save_params_count++;
    }
    return 1;
bad:
    *err = "Invalid save parameters";
    return 0;
}

static sstr save_get(void)
{
    sstr s = sstr_empty(64);
    for (int j = 0; j < srv.save_params_count; j++)
        s = sstr_catfmt(s, "%s%lld %lld", j ? " " : "", srv.save_params[j][0], srv.save_params[j][1]);
    return s;
}

static const char *const obuf_class_names[3] = {"normal", "slave", "pubsub"};
const long long cfg_obuf_defaults[3][3] = {{0, 0, 0}, {256 * MB, 64 * MB, 60}, {32 * MB, 8 * MB, 60}};

static int cobl_set(char **argv, int argc, const char **err)
{
    long long vals[3][3];
    int seen[3] = {0, 0, 0};
    if (argc % 4) {
        *err = "Wrong number of arguments in buffer limit configuration.";
        return 0;
    }
    for (int j = 0; j < argc; j += 4) {
        int cls = 0;
        while (cls < 4 && strcasecmp(argv[j], (const char *[]){"normal", "slave", "pubsub", "replica"}[cls]))
            cls++;
        if (cls == 4) {
            *err = "Invalid client class specified in buffer limit configuration.";
            return 0;
        }
        int herr, serr;
        char *end;
        unsigned long long hard = memtoull(argv[j + 1], &herr), soft = memtoull(argv[j + 2], &serr);
        long long secs = strtoll(argv[j + 3], &end, 10);
        if (herr || serr || secs < 0 || *end) {
            *err = "Error in hard, soft or soft_seconds setting in buffer limit configuration.";
            return 0;
        }
        cls = cls == 3 ? OBUF_CLASS_REPLICA : cls;
        vals[cls][0] = (long long)hard;
        vals[cls][1] = (long long)soft;
        vals[cls][2] = secs;
        seen[cls] = 1;
    }
    for (int k = 0; k < 3; k++)
        if (seen[k])
            memcpy(srv.client_obuf_limits[k], vals[k], sizeof(vals[k]));
    return 1;
}

static sstr cobl_get(void)
{
    sstr s = sstr_empty(96);
    for (int k = 0; k < 3; k++)
        s = sstr_catfmt(s, "%s%s %llu %llu %lld", k ? " " : "", obuf_class_names[k],
                        (unsigned long long)srv.client_obuf_limits[k][0],
                        (unsigned long long)srv.client_obuf_limits[k][1], srv.client_obuf_limits[k][2]);
    return s;
}

static int oom_values[3];

static int oom_values_set(char **argv, int argc, const char **err)
{
    int vals[3], changed = 0;
    if (argc != 3) {
        *err = "wrong number of arguments";
        return 0;
    }
    for (int i = 0; i < 3; i++) {
        char *end;
        long long v = strtoll(argv[i], &end, 10);
        if (*end || v < -2000 || v > 2000) {
            *err = "Invalid oom-score-adj-values, elements must be between -2000 and 2000.";
            return 0;
        }
        vals[i] = (int)v;
    }
    for (int i = 0; i < 3; i++) {
        changed |= oom_values[i] != vals[i];
        oom_values[i] = vals[i];
    }
    return changed ? 1 : 2;
}

static sstr oom_values_get(void)
{
    return sstr_catfmt(sstr_empty(24), "%d %d %d", oom_values[0], oom_values[1], oom_values[2]);
}

/* notify-keyspace-events: bit i is letter i, in the order Redis prints
 * them; "A" stands for the first ten (all but n, K, E and m). */
static int notify_flags;
static const char notify_letters[] = "g$lshzxetdnKEm";
#define NOTIFY_ALL 0x3ff

static int notify_set(char **argv, int argc, const char **err)
{
    int flags = 0;
    for (const char *p = argv[0]; *p; p++) {
        const char *l = strchr(notify_letters, *p);
        if (*p != 'A' && !l) {
            *err = "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.";
            return 0;
        }
        flags |= *p == 'A' ? NOTIFY_ALL : 1 << (l - notify_letters);
    }
    notify_flags = flags;
    return 1;
}

static sstr notify_get(void)
{
    int all = (notify_flags & NOTIFY_ALL) == NOTIFY_ALL;
    sstr s = sstr_from(all ? "A" : "");
    for (int i = all ? 11 : 0; notify_letters[i]; i++) /* as Redis: "A" hides n */
        if (notify_flags & (1 << i))
            s = sstr_cat(s, &notify_letters[i], 1);
    return s;
}

static int bind_set(char **argv, int argc, const char **err)
{
    if (argc > CONFIG_MAX_BIND) {
        *err = "Too many bind addresses specified.";
        return 0;
    }
    if (argc == 1 && !argv[0][0])
        argc = 0;
    for (int j = 0; j < srv.bindaddr_count; j++)
        mem_free(srv.bindaddr[j]);
    for (int j = 0; j < argc; j++)
        srv.bindaddr[j] = mem_strdup(argv[j]);
    srv.bindaddr_count = argc;
    return 1;
}

static sstr bind_get(void)
{
    sstr s = sstr_empty(32);
    for (int j = 0; j < srv.bindaddr_count; j++)
        s = sstr_catfmt(s, "%s%s", j ? " " : "", srv.bindaddr[j]);
    return s;
}

/* replicaof: the master this server replicates at startup (the
 * replication module connects; REPLICAOF changes it at run time). */

static int replicaof_set(char **argv, int argc, const char **err)
{
    char *end;
    if (argc != 2) {
        *err = "wrong number of arguments";
        return 0;
    }
    mem_free(srv.masterhost);
    srv.masterhost = NULL;
    if (!strcasecmp(argv[0], "no") && !strcasecmp(argv[1], "one"))
        return 1;
    long port = strtol(argv[1], &end, 10);
    if (port < 0 || port > 65535 || *end) {
        *err = "Invalid master port";
        return 0;
    }
    srv.masterport = (int)port;
    srv.masterhost = mem_strdup(argv[0]);
    return 1;
}

static sstr replicaof_get(void)
{
    return srv.masterhost ? sstr_catfmt(sstr_empty(32), "%s %d", srv.masterhost, srv.masterport) : sstr_empty(0);
}

static double *latency_pcts;
static int latency_pcts_len;

static int latency_pct_set(char **argv, int argc, const char **err)
{
    if (argc == 1 && !argv[0][0])
        argc = 0;
    double *v = mem_alloc(sizeof(double) * (size_t)(argc + 1));
    for (int j = 0; j < argc; j++) {
        if (!string2d(argv[j], strlen(argv[j]), &v[j]))
            *err = "Invalid latency-tracking-info-percentiles parameters";
        else if (v[j] > 100.0 || v[j] < 0.0)
            *err = "latency-tracking-info-percentiles parameters should sit between [0.0,100.0]";
        else
            continue;
        /* Redis empties the list on error (and restores it only in CONFIG SET) */
        mem_free(v);
        latency_pcts_len = 0;
        return 0;
    }
    mem_free(latency_pcts);
    latency_pcts = v;
    latency_pcts_len = argc;
    return 1;
}

static sstr latency_pct_get(void)
{
    sstr s = sstr_empty(32);
    for (int j = 0; j < latency_pcts_len; j++) {
        char buf[64];
        int n = snprintf(buf, sizeof(buf), "%f", latency_pcts[j]);
        while (n > 1 && strchr(buf, '.') && (buf[n - 1] == '0' || buf[n - 1] == '.'))
            if (buf[--n] == '.') {
                buf[n] = '\0';
                break;
            } else
                buf[n] = '\0';
        s = sstr_catfmt(s, "%s%s", j ? " " : "", buf);
    }
    return s;
}

static const struct special_ops dir_ops = {dir_set, dir_get, NULL, NULL, RW_QUOTE | RW_ALWAYS | RW_UNSET_EMPTY};
static const struct special_ops save_ops = {save_set, save_get, cfg_save_rewrite, "3600 1 300 100 60 10000", 0};
static const struct special_ops cobl_ops = {cobl_set, cobl_get, cfg_cobl_rewrite,
                                            "normal 0 0 0 slave 256mb 64mb 60 pubsub 32mb 8mb 60", 0};
static const struct special_ops oom_values_ops = {oom_values_set, oom_values_get, NULL, "0 200 800", 0};
static const struct special_ops notify_ops = {notify_set, notify_get, NULL, "", RW_QUOTE};
/* Redis drops a bind line equal to its default; Sluice's default differs,
 * so the line is kept: the file must not open up under Redis. */
static const struct special_ops bind_ops = {bind_set, bind_get, NULL, BIND_DEFAULT, 0};
static const struct special_ops replicaof_ops = {replicaof_set, replicaof_get, NULL, "no one",
                                                 RW_ALWAYS | RW_UNSET_EMPTY};
static const struct special_ops latency_pct_ops = {latency_pct_set, latency_pct_get, NULL, "50 99 99.9", RW_ALWAYS};

/* ---- defaults ---- */

void config_init_defaults(void)
{
    char cwd[PATH_MAX];
    const char *err;
    for (int i = 0; i < NCONFIGS; i++) {
        const struct cfg *c = &cfg_table[i];
        switch (c->type) {
        case T_BOOL:
        case T_ENUM:
            *(int *)c->ptr = (int)c->def;
            break;
        case T_NUM:
            num_store(c, c->def);
            break;
        case T_STR:
            mem_free(*(char **)c->ptr);
            *(char **)c->ptr = c->aux ? mem_strdup(c->aux) : NULL;
            break;
        default:
            if (((const struct special_ops *)c->aux)->def)
                cfg_set_from_string(c, ((const struct special_ops *)c->aux)->def, &err);
        }
    }
    mem_free(srv.dir);
    srv.dir = mem_strdup(getcwd(cwd, sizeof(cwd)) ? cwd : "/");
    srv.active_expire_enabled = 1;
}

/* ---- loading ---- */

static sstr last_error;
static int load_depth;

const char *config_last_error(void) { return last_error; }

static void load_error(int linenum, const char *line, size_t linelen, const char *reason)
{
    fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR (Sluice %s) ***\n", SLUICE_VERSION);
    if (line) {
        fprintf(stderr, "Reading the configuration file, at line %d\n", linenum);
        fprintf(stderr, ">>> '%.*s'\n", (int)linelen, line);
    }
    fprintf(stderr, "%s\n", reason);
    fflush(stderr);
    sstr_free(last_error);
    last_error = sstr_from(reason);
}

int cfg_is_trim_char(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

/* Read a whole file (appending to *out).  -1 with errno on failure. */
int cfg_read_file(const char *path, sstr *out)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof(buf), fp)) > 0)
        *out = sstr_cat(*out, buf, n);
    fclose(fp);
    return 0;
}

static int cant_open(const char *path)
{
    int e = errno;
    server_log(LL_WARNING, "Fatal error, can't open config file '%s': %s", path, strerror(e));
    sstr_free(last_error);
    last_error = sstr_catfmt(sstr_empty(64), "can't open config file '%s': %s", path, strerror(e));
    return -1;
}

/* "include path": a glob pattern may match nothing (empty conf.d). */
static int load_include(const char *pattern)
{
    sstr text = sstr_empty(0);
    int rc = 0;
    if (strpbrk(pattern, "*?[")) {
        glob_t g;
        if (glob(pattern, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc && rc == 0; i++)
                if (cfg_read_file(g.gl_pathv[i], &text) == -1)
                    rc = cant_open(g.gl_pathv[i]);
            globfree(&g);
        }
    } else if (cfg_read_file(pattern, &text) == -1) {
        rc = cant_open(pattern);
    }
    if (rc == 0)
        rc = config_load_string(text, sstr_len(text));
    sstr_free(text);
    return rc;
}

/* One directive line, already split.  Returns 0, or -1 with *err set
 * (*err NULL when the message was already printed, by an include). */
static int load_directive(char **argv, int argc, const char **err)
{
    int code = cfg_lookup(argv[0], strlen(argv[0]));
    if (code >= 0) {
        const struct cfg *c = &cfg_table[code >> 1];
        if (!(c->flags & F_MULTI_ARG) && argc != 2) {
            *err = "wrong number of arguments";
            return -1;
        }
        if (!(c->flags & F_MULTI_ARG) || argc != 2 || !argv[1][0])
            return cfg_set(c, argv + 1, argc - 1, err) ? 0 : -1;
        /* As Redis 7.0.x: one non-empty argument of a multi-word directive
         * is split again, so --save "60 10" works (unbalanced quotes: no
         * words at all). */
        sstr buf = sstr_empty(64);
        struct split_args sa = {0};
        int n = resp_split_args(argv[1], strlen(argv[1]), &buf, &sa);
        char **words = mem_alloc(sizeof(char *) * (size_t)(n > 0 ? n : 1));
        for (int i = 0; i < n; i++)
            words[i] = buf + sa.off[i];
        int res = cfg_set(c, words, n > 0 ? n : 0, err);
        mem_free(words);
        split_args_free(&sa);
        sstr_free(buf);
        return res ? 0 : -1;
    }
    /* Gone from Redis 7 but still accepted (and ignored) by it. */
    if (argc == 2 && (!strcmp(argv[0], "list-max-ziplist-entries") || !strcmp(argv[0], "list-max-ziplist-value") ||
                      !strcmp(argv[0], "lua-replicate-commands")))
        return 0;
    if (!strcmp(argv[0], "include") && argc == 2) {
        *err = NULL;
        return load_include(argv[1]);
    }
    if (!strcmp(argv[0], "rename-command") || !strcmp(argv[0], "user") || !strcmp(argv[0], "loadmodule") ||
        !strcmp(argv[0], "sentinel"))
        *err = "Directive not supported by Sluice";
    else
        *err = "Bad directive or wrong number of arguments";
    return -1;
}

static int load_lines(const char *text, size_t len)
{
    sstr buf = sstr_empty(256);
    struct split_args sa = {0};
    char **argv = NULL;
    int linenum = 0, rc = 0;
    const char *p = text, *end = text + len;
    while (rc == 0 && p) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *s = p, *e = nl ? nl : end;
        p = nl ? nl + 1 : NULL;
        linenum++;
        while (s < e && cfg_is_trim_char(*s))
            s++;
        while (e > s && cfg_is_trim_char(e[-1]))
            e--;
        if (s == e || *s == '#')
            continue;
        sstr_clear(buf);
        const char *err = NULL;
        int argc = resp_split_args(s, (size_t)(e - s), &buf, &sa);
        if (argc < 0) {
            err = "Unbalanced quotes in configuration line";
        } else if (argc > 0) {
            argv = mem_realloc(argv, sizeof(char *) * (size_t)argc);
            for (int i = 0; i < argc; i++)
                argv[i] = buf + sa.off[i];
            for (char *q = argv[0]; *q; q++)
                *q = (char)tolower((unsigned char)*q);
            if (load_directive(argv, argc, &err) == 0)
                continue;
        } else {
            continue;
        }
        if (err)
            load_error(linenum, s, (size_t)(e - s), err);
        rc = -1;
    }
    mem_free(argv);
    split_args_free(&sa);
    sstr_free(buf);
    return rc;
}

int config_load_string(const char *text, size_t len)
{
    int outer = load_depth++ == 0;
    if (outer) {
        save_reset_done = 0;
        sstr_free(last_error);
        last_error = NULL;
    }
    loading_file = 1;
    int rc = load_lines(text, len);
    if (outer) {
        loading_file = 0;
        /* as Redis: make sure the log file can be opened, clamp hz */
        if (rc == 0 && srv.logfile && srv.logfile[0]) {
            FILE *fp = fopen(srv.logfile, "a");
            if (fp) {
                fclose(fp);
            } else {
                sstr msg = sstr_catfmt(sstr_empty(64), "Can't open the log file: %s", strerror(errno));
                load_error(0, NULL, 0, msg);
                sstr_free(msg);
                rc = -1;
            }
        }
        const char *unused;
        apply_hz(&unused);
    }
    load_depth--;
    return rc;
}

/* Redis's getAbsolutePath(): cwd + path, folding leading "../". */
static char *absolute_path(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return mem_strdup(path);
    sstr abs = sstr_from(cwd);
    if (sstr_len(abs) && abs[sstr_len(abs) - 1] != '/')
        abs = sstr_cat(abs, "/", 1);
    while (!strncmp(path, "../", 3)) {
        path += 3;
        if (sstr_len(abs) > 1) {
            size_t n = sstr_len(abs) - 1;
            while (n > 0 && abs[n - 1] != '/')
                n--;
            sstr_setlen(abs, n);
            abs[n] = '\0';
        }
    }
    abs = sstr_cats(abs, path);
    char *res = mem_strdup(abs);
    sstr_free(abs);
    return res;
}

int config_load_from_argv(int argc, char **argv)
{
    if (argc < 2)
        return 0;
    int j = 1, from_stdin = 0, last_had_value = 1, rc = 0;
    sstr options = sstr_empty(64), text = sstr_empty(0), scratch = sstr_empty(64);
    struct split_args sa = {0};
    if (argv[1][0] != '-') {
        mem_free(srv.configfile);
        srv.configfile = absolute_path(argv[1]);
        j = 2;
    }
    /* Options become config lines appended after the file, as redis-server
     * does: "--port 7000" -> "port \"7000\"".  A name without a value in
     * the same word takes the following words as values, even if they
     * start with "--"; a trailing or empty "--save" means save "". */
    for (; j < argc; j++) {
        const char *a = argv[j];
        if (a[0] == '-' && a[1] == '\0' && (j == 1 || j == argc - 1)) {
            from_stdin = 1;
        } else if (last_had_value && a[0] == '-' && a[1] == '-') {
            if (sstr_len(options))
                options = sstr_cat(options, "\n", 1);
            options = sstr_cats(sstr_cats(options, a + 2), " ");
            sstr_clear(scratch);
            if (resp_split_args(a, strlen(a), &scratch, &sa) == 1) {
                last_had_value = 0;
                if (!strcasecmp(a, "--save") && (j == argc - 1 || (argv[j + 1][0] == '-' && argv[j + 1][1] == '-'))) {
                    options = sstr_cats(options, "\"\"");
                    last_had_value = 1;
                } else if (!strcasecmp(a, "--sentinel") && j != argc - 1 && argv[j + 1][0] == '-' &&
                           argv[j + 1][1] == '-') {
                    last_had_value = 1;
                }
            } else {
                last_had_value = 1;
            }
        } else {
            options = sstr_cats(sstr_catrepr(options, a, strlen(a)), " ");
            last_had_value = 1;
        }
    }
    if (srv.configfile && cfg_read_file(srv.configfile, &text) == -1)
        rc = cant_open(srv.configfile);
    if (rc == 0 && from_stdin) {
        char buf[4096];
        size_t n;
        server_log(LL_WARNING, "Reading config from stdin");
        while ((n = fread(buf, 1, sizeof(buf), stdin)) > 0)
            text = sstr_cat(text, buf, n);
    }
    if (rc == 0) {
        text = sstr_cat(sstr_cat(text, "\n", 1), options, sstr_len(options));
        rc = config_load_string(text, sstr_len(text));
    }
    split_args_free(&sa);
    sstr_free(scratch);
    sstr_free(options);
    sstr_free(text);
    return rc;
}

sstr config_get_value(const char *name)
{
    int code = cfg_lookup(name, strlen(name));
    return code < 0 ? NULL : cfg_get(&cfg_table[code >> 1]);
}

int config_allow_protected_action(int setting, const struct client *c)
{
    if (setting == PROTECTED_ACTION_ALLOWED_YES)
        return 1;
    if (setting != PROTECTED_ACTION_ALLOWED_LOCAL || !c)
        return 0;
    if (c->flags & CLIENT_UNIX_SOCKET)
        return 1;
    return !strncmp(c->addr, "127.0.0.1:", 10) || !strncmp(c->addr, "[::1]:", 6);
}
