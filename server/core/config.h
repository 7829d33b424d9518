/* config.h - configuration: defaults, redis.conf / command-line loading,
 * and the CONFIG GET/SET/RESETSTAT/REWRITE/HELP commands.
 *
 * Every directive lives in one descriptor table in config.c; the values
 * themselves are fields of `srv` (server.h), so the rest of the server
 * reads srv.port, srv.maxmemory... directly and never calls into here.
 * Directives Redis knows but Sluice does not act on (cluster-*, repl-*,
 * activedefrag...) are still parsed, validated and reported by CONFIG GET,
 * so real-world redis.conf files load unchanged.
 */
#ifndef SLUICE_CONFIG_H
#define SLUICE_CONFIG_H

#include <stddef.h>

#include "commands.h"
#include "sstr.h"

struct client;

/* srv.maxmemory_policy: Redis's encoding, so eviction code can test the
 * LRU/LFU/ALLKEYS bits instead of listing policies. */
#define MAXMEMORY_FLAG_LRU (1 << 0)
#define MAXMEMORY_FLAG_LFU (1 << 1)
#define MAXMEMORY_FLAG_ALLKEYS (1 << 2)
#define MAXMEMORY_VOLATILE_LRU ((0 << 8) | MAXMEMORY_FLAG_LRU)
#define MAXMEMORY_VOLATILE_LFU ((1 << 8) | MAXMEMORY_FLAG_LFU)
#define MAXMEMORY_VOLATILE_TTL (2 << 8)
#define MAXMEMORY_VOLATILE_RANDOM (3 << 8)
#define MAXMEMORY_ALLKEYS_LRU ((4 << 8) | MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_ALLKEYS_LFU ((5 << 8) | MAXMEMORY_FLAG_LFU | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_ALLKEYS_RANDOM ((6 << 8) | MAXMEMORY_FLAG_ALLKEYS)
#define MAXMEMORY_NO_EVICTION (7 << 8)

/* srv.appendfsync */
#define AOF_FSYNC_NO 0
#define AOF_FSYNC_ALWAYS 1
#define AOF_FSYNC_EVERYSEC 2

/* srv.supervised */
#define SUPERVISED_NONE 0
#define SUPERVISED_AUTODETECT 1
#define SUPERVISED_SYSTEMD 2
#define SUPERVISED_UPSTART 3

/* srv.enable_debug_command, srv.enable_protected_configs */
#define PROTECTED_ACTION_ALLOWED_NO 0
#define PROTECTED_ACTION_ALLOWED_YES 1
#define PROTECTED_ACTION_ALLOWED_LOCAL 2

/* Indexes of srv.client_obuf_limits */
#define OBUF_CLASS_NORMAL 0
#define OBUF_CLASS_REPLICA 1
#define OBUF_CLASS_PUBSUB 2

#define CONFIG_MIN_HZ 1
#define CONFIG_MAX_HZ 500

/* Set every configuration field of srv (and the directives srv has no
 * field for) to Redis 7.0's default.  Also records the working directory
 * as srv.dir.  Call once before loading. */
void config_init_defaults(void);

/* A module above the core gives a directive its runtime effect (CONFIG
 * SET): apply returns 0, or -1 with *err set, which fails the SET and
 * restores the old values.  Registered at startup from main(). */
void config_register_apply(const char *directive, int (*apply)(const char **err));

/* Load `sluice-server [file.conf] [-] [--name value ...]` as redis-server
 * does: the file, then stdin when "-" is given, then the options appended
 * as config lines.  Sets srv.configfile (absolute) when a file is given.
 * On error prints Redis's fatal message to stderr and returns -1 (the
 * caller exits with status 1); 0 on success. */
int config_load_from_argv(int argc, char **argv);

/* Parse configuration text (redis.conf syntax).  0 ok; -1 error, message
 * printed to stderr. */
int config_load_string(const char *text, size_t len);

/* The reason of the last loading error ("argument must be 'yes' or
 * 'no'"...), or NULL when the last load succeeded.  For tests. */
const char *config_last_error(void);

/* CONFIG GET's text for one parameter (name or alias, any case); NULL when
 * unknown.  The caller frees the result with sstr_free(). */
sstr config_get_value(const char *name);

/* Whether a "no/yes/local" setting (enable-debug-command,
 * enable-protected-configs) lets this client run the protected action:
 * "local" means a unix socket or a loopback (127.0.0.1 / ::1) peer. */
int config_allow_protected_action(int setting, const struct client *c);

/* CONFIG subcommand handlers: config|get, config|set, config|resetstat,
 * config|rewrite, config|help; terminated by {NULL, NULL}. */
extern const struct command_impl config_commands[];

/* Hooks implemented by server.c. */
void server_reset_stats(void);             /* CONFIG RESETSTAT (implemented in cmd_info.c) */
int server_apply_listen_config(sstr *err); /* re-listen after port/bind changed; 0 ok, -1 (+*err) */

#endif
