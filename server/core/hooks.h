/* hooks.h - the points where modules above the core plug into it.
 *
 * The core runs each list of hooks at its fixed point and never names the
 * modules behind them (persistence today; replication, pub/sub and
 * scripting next).  Modules register at startup, from main(), the
 * composition root; hooks run in the order they were registered.
 * Durability conditions that hold replies register with the commit gate
 * (commit_gate.h) instead, and command handlers through the command table
 * (commands.h).
 */
#ifndef SLUICE_HOOKS_H
#define SLUICE_HOOKS_H

#include "sstr.h"

typedef void hook_fn(void);

/* Every server cron tick, after the core's own periodic work (expiry,
 * eviction, client timeouts). */
void hooks_on_cron(hook_fn *fn);
void hooks_run_cron(void);

/* At the top level of the event loop, after each iteration, outside every
 * handler: work that must itself serve clients meanwhile (a long load that
 * answers -LOADING) is deferred to here, as libevent's loop does not
 * re-enter. */
void hooks_on_top_level(hook_fn *fn);
void hooks_run_top_level(void);

/* Each loop iteration, after the commit gate advanced (the AOF's write and
 * fsync) and before replies are written: a module waiting on durability
 * outside the gate (WAITAOF) looks again. */
void hooks_on_after_commit(hook_fn *fn);
void hooks_run_after_commit(void);

/* SHUTDOWN / SIGTERM, before the listeners close: a hook may refuse (-1),
 * which keeps the server running.  Hooks after a refusing one don't run. */
typedef int shutdown_hook_fn(int shutdown_flags);
void hooks_on_shutdown(shutdown_hook_fn *fn);
int hooks_run_shutdown(int shutdown_flags);

/* Writes (and PING) are refused while a hook returns nonzero: the last
 * BGSAVE or AOF write failed (-MISCONF).  With msg non-NULL, the first
 * refusing hook appends its error reply (with the leading '-') to *msg.
 * Hooks are asked by `order` (lower first): Redis names a failed BGSAVE
 * (10) before a failed AOF write (20). */
typedef int write_refusal_fn(sstr *msg);
void hooks_on_write_refusal(int order, write_refusal_fn *fn);
int hooks_write_refused(sstr *msg);
/* The hot path: every write command would ask every hook.  A hook can only
 * refuse after its module saw a failure, so the module arms its hook when
 * the failure happens and disarms it on recovery; the core asks the hooks
 * only while one is armed (one load per write command when healthy). */
void hooks_arm_write_refusal(write_refusal_fn *fn, int armed);
extern unsigned hooks_refusals_armed_; /* bit per hook; written by hooks.c only */
/* While the hooks are asked: whether the command is PING rather than a
 * write (a hook that refuses writes only lets it through: NOREPLICAS). */
extern int hooks_refusal_is_ping_;
static inline int hooks_refusal_is_ping(void) { return hooks_refusal_is_ping_; }
static inline int hooks_write_refusal_armed(void) { return hooks_refusals_armed_ != 0; }

/* Commands that could serve stale data (without CMD_STALE) are refused
 * while the module that set the hook has armed it: a replica whose link
 * is down under replica-serve-stale-data no (-MASTERDOWN).  The hook
 * appends its error reply (with the leading '-') to *msg. */
typedef void stale_refusal_fn(sstr *msg);
void hooks_on_stale_refusal(stale_refusal_fn *fn);
void hooks_arm_stale_refusal(int armed);
extern stale_refusal_fn *hooks_stale_refusal_; /* non-NULL while armed; written by hooks.c only */

/* After FLUSHDB (dbid) or FLUSHALL (dbid -1) emptied the data, before the
 * reply: with save points set, FLUSHALL rewrites the snapshot at once. */
typedef void flush_hook_fn(int dbid);
void hooks_on_flush(flush_hook_fn *fn);
void hooks_run_flush(int dbid);

/* A client that a module marked as a link of its own (CLIENT_REPLICA,
 * CLIENT_MASTER: c->repl holds the module's state) is being freed. */
struct client;
typedef void client_hook_fn(struct client *c);
void hooks_on_link_free(client_hook_fn *fn);
void hooks_run_link_free(struct client *c);

/* A command that came on the master link (CLIENT_MASTER) was applied (or
 * refused: it counts all the same); p[0..n) are its bytes as they came,
 * which a replica counts in its offset and relays to its own replicas. */
typedef void link_input_fn(struct client *c, const char *p, size_t n);
void hooks_on_master_applied(link_input_fn *fn);
void hooks_run_master_applied(struct client *c, const char *p, size_t n);

/* INFO: a module's lines inside a section (the section's name as INFO
 * prints it in its header, e.g. "Persistence"), placed among the other
 * parts of that section by `order` (lower first; equal orders keep the
 * registration order). */
typedef void info_hook_fn(sstr *out);
void hooks_on_info(const char *section, int order, info_hook_fn *fn);
void hooks_run_info(const char *section, sstr *out);

#endif
