/* introspection.h - what the introspection modules (cmd_info.c,
 * cmd_client.c, cmd_server.c) export beyond the entry points already
 * declared in server.h (monitor_feed, slowlog_push, stats_count_error,
 * client_info_string).
 */
#ifndef SLUICE_INTROSPECTION_H
#define SLUICE_INTROSPECTION_H

#include <stddef.h>

#include "commands.h"
#include "sstr.h"

struct arg;
struct client;
struct command;

/* cmd_info.c: statistics kept for INFO. */
void stats_init(void);                 /* once, at the end of startup: records used_memory_startup */
void stats_sample_instantaneous(void); /* from the cron: instantaneous_* metrics (samples every 100 ms) */
void stats_update_peak_memory(void);   /* from the cron: used_memory_peak */
void server_reset_stats(void);         /* CONFIG RESETSTAT */
/* One execution of cmd took usec µs: feeds INFO latencystats (call_command,
 * and when a blocked command completes). */
void stats_record_latency(struct command *cmd, long long usec);
const char *info_master_replid(void);  /* the 40-hex replication ID INFO shows */
void info_change_replid(void);         /* DEBUG CHANGE-REPL-ID */
void info_set_replid(const char *id);  /* a replica adopts its master's (40 hex digits) */
/* The whole INFO text for the given section arguments (as INFO's argv
 * after the command name).  The caller frees it. */
sstr info_generate(const struct arg *argv, int argc);

/* cmd_server.c: DEBUG extension points, so that the modules owning a
 * subsystem add their own DEBUG subcommands (RELOAD, DIGEST,
 * QUICKLIST-PACKED-THRESHOLD...) and DEBUG OBJECT details.
 * A registered subcommand runs when argc (DEBUG and the subcommand
 * included) is within [min_argc, max_argc] (max_argc < 0: no maximum);
 * help_lines (NULL-terminated, may be NULL) are added to DEBUG HELP.
 * Registration is for startup; the strings must outlive the server. */
struct value;
void debug_register_subcommand(const char *name, int min_argc, int max_argc, command_proc *proc,
                               const char *const *help_lines);
/* Extra " field:value" text DEBUG OBJECT appends for values of a type
 * (the quicklist fields of lists...). */
void debug_register_object_extra(int value_type, void (*extra)(const struct value *v, sstr *out));
/* The RDB writer's size of a value, for DEBUG OBJECT's serializedlength
 * (until registered: exact for strings, memory usage for other types). */
void debug_set_serialized_length(size_t (*fn)(const struct value *v));

/* cmd_client.c */
/* Memory a client uses (CLIENT LIST tot-mem, INFO mem_clients_*);
 * *obuf gets the output-buffer part when not NULL. */
size_t client_memory_usage(const struct client *c, size_t *obuf);
/* CLIENT SETNAME's validation and effect, shared with HELLO ... SETNAME.
 * An empty name removes the name.  Returns 0, or -1 after replying with
 * Redis's error. */
int client_setname_or_reply(struct client *c, const char *name, size_t len);

#endif
