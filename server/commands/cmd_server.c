/* cmd_server.c - server administration and introspection commands:
 * TIME, LASTSAVE, MONITOR, SLOWLOG, COMMAND, SHUTDOWN and DEBUG.
 *
 * Also the two hooks every command goes through after it ran (server.c's
 * call_command): slowlog_push() and monitor_feed().  Both show the
 * arguments the way Redis 7.0 does, including its redaction of passwords
 * (AUTH, HELLO ... AUTH, MIGRATE ... AUTH/AUTH2 show "(redacted)"), which
 * Redis performs by rewriting the command's argv and Sluice performs here,
 * at the only two places that print arguments.
 *
 * COMMAND INFO / DOCS render the generated spec table through
 * command_render.c, so what they print is exactly what was captured from
 * the reference server, limited to the commands (and subcommands) Sluice
 * registers.
 */
#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "command_render.h"
#include "config.h"
#include "db.h"
#include "introspection.h"
#include "mem.h"
#include "server.h"
#include "util.h"

/* Provided by commands.c (not yet declared in commands.h). */
void command_foreach(void (*fn)(struct command *cmd, void *priv), void *priv);
int command_get_keys(struct command *cmd, struct arg *argv, int argc, int *keys_out, int max);

/* Redis's addReplySubcommandSyntaxError(): the command as typed, upper
 * cased; arguments read as C strings. */
static void reply_subcommand_error(struct client *c)
{
    char cmd[64];
    size_t n = strnlen(c->argv[0].ptr, c->argv[0].len);
    if (n >= sizeof(cmd))
        n = sizeof(cmd) - 1;
    for (size_t i = 0; i < n; i++)
        cmd[i] = (char)toupper((unsigned char)c->argv[0].ptr[i]);
    cmd[n] = '\0';
    size_t sub = strnlen(c->argv[1].ptr, c->argv[1].len);
    reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try %s HELP.",
                 (int)(sub > 128 ? 128 : sub), c->argv[1].ptr, cmd);
}

/* Redis's limits for what one slow log entry keeps. */
#define SLOWLOG_ENTRY_MAX_ARGC 32
#define SLOWLOG_ENTRY_MAX_STRING 128

/* ---- argument redaction ------------------------------------------------ */

/* Whether argv[j] is a secret Redis would show as "(redacted)".  Follows
 * where each command calls redactClientCommandArgument(): AUTH only once
 * its argument count was accepted, HELLO for the two words after each
 * AUTH option up to the first invalid option, MIGRATE after AUTH/AUTH2. */
static int arg_redacted(const struct client *c, const struct arg *argv, int argc, int j)
{
    const struct command *cmd = c->cmd;
    if (!cmd || j == 0)
        return 0;
    const char *name = cmd->fullname;
    if (!strcmp(name, "auth"))
        return argc <= 3;
    if (!strcmp(name, "hello")) {
        for (int i = 2; i < argc; i++) {
            int more = argc - 1 - i;
            if (arg_is(&argv[i], "auth") && more >= 2) {
                if (j == i + 1 || j == i + 2)
                    return 1;
                i += 2;
            } else if (arg_is(&argv[i], "setname") && more) {
                i++;
            } else {
                break;
            }
        }
        return 0;
    }
    if (!strcmp(name, "migrate")) {
        for (int i = 6; i < argc; i++) {
            int more = argc - 1 - i;
            if (arg_is(&argv[i], "auth") && more >= 1) {
                if (j == i + 1)
                    return 1;
                i++;
            } else if (arg_is(&argv[i], "auth2") && more >= 2) {
                if (j == i + 1 || j == i + 2)
                    return 1;
                i += 2;
            } else if (arg_is(&argv[i], "keys")) {
                break;
            }
        }
    }
    return 0;
}

static const struct arg redacted_arg = {"(redacted)", 10};

/* ---- MONITOR -------------------------------------------------------------- */

/* Send one executed command to every monitor, in Redis's line format:
 *   +1700000000.123456 [0 127.0.0.1:50000] "set" "k" "v"
 * (unix socket clients show "unix:<path>").  The caller (call_command)
 * skips admin commands and commands flagged skip-monitor, as Redis's
 * call() does; the database shown is the client's after the command ran,
 * as in Redis 7.0 (SELECT shows the new one). */
void monitor_feed(struct client *c, struct arg *argv, int argc)
{
    if (list_empty(&srv.monitors) || srv.loading)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    sstr line = sstr_empty(128);
    line = sstr_catfmt(line, "+%ld.%06ld ", (long)tv.tv_sec, (long)tv.tv_usec);
    int dbid = c->db ? c->db->id : 0;
    if (c->flags & CLIENT_UNIX_SOCKET)
        line = sstr_catfmt(line, "[%d unix:%s] ", dbid, srv.unixsocket ? srv.unixsocket : "");
    else
        line = sstr_catfmt(line, "[%d %s] ", dbid, c->addr);
    for (int j = 0; j < argc; j++) {
        const struct arg *a = arg_redacted(c, argv, argc, j) ? &redacted_arg : &argv[j];
        line = sstr_catrepr(line, a->ptr, a->len);
        if (j != argc - 1)
            line = sstr_cat(line, " ", 1);
    }
    line = sstr_cat(line, "\r\n", 2);

    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.monitors)
    {
        struct client *m = list_entry(n, struct client, monitor_node);
        reply_raw(m, line, sstr_len(line));
    }
    sstr_free(line);
}

/* MONITOR */
static void monitor_command(struct client *c)
{
    /* a transaction expects one reply per command: no stream inside it */
    if (c->flags & (CLIENT_MULTI | CLIENT_EXECUTING_MULTI)) {
        reply_error(c, "MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    /* already monitoring: Redis ignores it without a reply */
    if (c->flags & CLIENT_MONITOR)
        return;
    c->flags |= CLIENT_MONITOR;
    list_add_tail(&srv.monitors, &c->monitor_node);
    reply_ok(c);
}

/* ---- SLOWLOG ---------------------------------------------------------------- */

struct slowlog_entry {
    struct list_node node; /* srv.slowlog, newest first */
    long long id;
    long long time;        /* unix seconds */
    long long duration;    /* microseconds */
    int argc;
    sstr *argv;
    sstr peerid;
    sstr cname;
};

static void slowlog_free_entry(struct slowlog_entry *e)
{
    for (int j = 0; j < e->argc; j++)
        sstr_free(e->argv[j]);
    mem_free(e->argv);
    sstr_free(e->peerid);
    sstr_free(e->cname);
    mem_free(e);
}

/* Record a command that took at least slowlog-log-slower-than µs (negative
 * disables the log, 0 logs everything).  Like Redis, an entry keeps at
 * most 32 arguments (the last one then says how many more there were) and
 * at most 128 bytes of each. */
void slowlog_push(struct client *c, struct arg *argv, int argc, long long duration_us)
{
    if (srv.slowlog_log_slower_than < 0 || duration_us < srv.slowlog_log_slower_than)
        return;
    struct slowlog_entry *e = mem_calloc(sizeof(*e));
    int slargc = argc > SLOWLOG_ENTRY_MAX_ARGC ? SLOWLOG_ENTRY_MAX_ARGC : argc;
    e->argc = slargc;
    e->argv = mem_alloc(sizeof(sstr) * (size_t)(slargc ? slargc : 1));
    for (int j = 0; j < slargc; j++) {
        if (slargc != argc && j == slargc - 1) {
            e->argv[j] = sstr_catfmt(sstr_empty(32), "... (%d more arguments)", argc - slargc + 1);
            continue;
        }
        const struct arg *a = arg_redacted(c, argv, argc, j) ? &redacted_arg : &argv[j];
        if (a->len > SLOWLOG_ENTRY_MAX_STRING) {
            e->argv[j] = sstr_new(a->ptr, SLOWLOG_ENTRY_MAX_STRING);
            e->argv[j] = sstr_catfmt(e->argv[j], "... (%zu more bytes)", a->len - SLOWLOG_ENTRY_MAX_STRING);
        } else {
            e->argv[j] = sstr_new(a->ptr, a->len);
        }
    }
    e->id = srv.slowlog_next_id++;
    e->time = (long long)time(NULL);
    e->duration = duration_us;
    e->peerid = sstr_from(c->addr);
    e->cname = c->name ? sstr_dup(c->name) : sstr_empty(0);
    list_add_head(&srv.slowlog, &e->node);

    while ((long long)srv.slowlog.len > srv.slowlog_max_len) {
        struct list_node *last = list_last(&srv.slowlog);
        list_del(&srv.slowlog, last);
        slowlog_free_entry(list_entry(last, struct slowlog_entry, node));
    }
}

static void slowlog_reset(void)
{
    struct list_node *n;
    while ((n = list_first(&srv.slowlog)) != NULL) {
        list_del(&srv.slowlog, n);
        slowlog_free_entry(list_entry(n, struct slowlog_entry, node));
    }
}

/* SLOWLOG GET [count]: newest first; -1 = all. */
static void slowlog_get_command(struct client *c)
{
    long long count = 10;
    if (c->argc > 3) {
        reply_subcommand_error(c);
        return;
    }
    if (c->argc == 3) {
        if (arg_ll_range(c, &c->argv[2], -1, LONG_MAX, &count, "count should be greater than or equal to -1") < 0)
            return;
        if (count == -1)
            count = (long long)srv.slowlog.len;
    }
    if (count > (long long)srv.slowlog.len)
        count = (long long)srv.slowlog.len;
    reply_array_len(c, (long)count);
    struct list_node *n = list_first(&srv.slowlog);
    for (long long i = 0; i < count && n; i++, n = list_next(&srv.slowlog, n)) {
        struct slowlog_entry *e = list_entry(n, struct slowlog_entry, node);
        reply_array_len(c, 6);
        reply_int(c, e->id);
        reply_int(c, e->time);
        reply_int(c, e->duration);
        reply_array_len(c, e->argc);
        for (int j = 0; j < e->argc; j++)
            reply_bulk_sstr(c, e->argv[j]);
        reply_bulk_sstr(c, e->peerid);
        reply_bulk_sstr(c, e->cname);
    }
}

/* SLOWLOG LEN */
static void slowlog_len_command(struct client *c) { reply_int(c, (long long)srv.slowlog.len); }

/* SLOWLOG RESET: entry IDs keep counting, as in Redis. */
static void slowlog_reset_command(struct client *c)
{
    slowlog_reset();
    reply_ok(c);
}

/* SLOWLOG HELP */
static void slowlog_help_command(struct client *c)
{
    static const char *const help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL,
    };
    reply_help(c, help);
}

/* ---- TIME, LASTSAVE ------------------------------------------------------ */

/* TIME: seconds and microseconds, as bulk strings. */
static void time_command(struct client *c)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    reply_array_len(c, 2);
    reply_bulk_ll(c, (long long)tv.tv_sec);
    reply_bulk_ll(c, (long long)tv.tv_usec);
}

/* LASTSAVE: the time of the last successful save.  Nothing has been saved
 * yet, and Redis reports the server's start time until its first save. */
static void lastsave_command(struct client *c) { reply_int(c, srv.start_us / 1000000); }

/* ---- COMMAND ------------------------------------------------------------- */

/* Find a command by a name that may be "container|sub", as Redis's
 * lookupCommandBySds. */
static struct command *lookup_by_fullname(const char *p, size_t len)
{
    const char *bar = memchr(p, '|', len);
    if (!bar)
        return command_lookup(p, len);
    const char *sub = bar + 1;
    size_t sublen = len - (size_t)(sub - p);
    if (memchr(sub, '|', sublen))
        return NULL; /* only one level of subcommands */
    struct command *base = command_lookup(p, (size_t)(bar - p));
    if (!base || !base->subcommands)
        return NULL;
    return command_lookup_sub(base, sub, sublen);
}

/* ---- rendering through command_render.c ---- */

static void out_array(void *ctx, long n) { reply_array_len(ctx, n); }
static void out_map(void *ctx, long n) { reply_map_len(ctx, n); }
static void out_set(void *ctx, long n) { reply_set_len(ctx, n); }
static void out_bulk(void *ctx, const char *s, size_t len) { reply_bulk(ctx, s, len); }
static void out_status(void *ctx, const char *s) { reply_status(ctx, s); }
static void out_integer(void *ctx, long long v) { reply_int(ctx, v); }

/* Only subcommands Sluice registers are shown. */
static int sub_registered(void *ctx, const struct command_spec *parent, const struct command_spec *sub)
{
    (void)ctx;
    struct command *base = command_lookup(parent->name, strlen(parent->name));
    return base && command_lookup_sub(base, sub->name, strlen(sub->name)) != NULL;
}

static const struct render_filter registered_only = {sub_registered, NULL};

static void render_info(struct client *c, struct command *cmd)
{
    struct render_out out = {c, out_array, out_map, out_set, out_bulk, out_status, out_integer};
    render_command_info(&out, cmd->spec, cmd->parent ? cmd->parent->spec : NULL, &registered_only);
}

/* The name -> docs pair of the COMMAND DOCS map. */
static void render_docs(struct client *c, struct command *cmd)
{
    struct render_out out = {c, out_array, out_map, out_set, out_bulk, out_status, out_integer};
    render_command_docs(&out, cmd->spec, cmd->parent ? cmd->parent->spec : NULL, &registered_only);
}

/* A key's flags as COMMAND GETKEYSANDFLAGS shows them: a set of status
 * strings in Redis's order. */
static void reply_key_flags(struct client *c, uint64_t flags)
{
    static const struct {
        uint64_t flag;
        const char *name;
    } names[] = {
        {KS_RO, "RO"},           {KS_RW, "RW"},         {KS_OW, "OW"},
        {KS_RM, "RM"},           {KS_ACCESS, "access"}, {KS_UPDATE, "update"},
        {KS_INSERT, "insert"},   {KS_DELETE, "delete"}, {KS_NOT_KEY, "not_key"},
        {KS_INCOMPLETE, "incomplete"}, {KS_VARIABLE_FLAGS, "variable_flags"},
    };
    long n = 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].flag)
            n++;
    reply_set_len(c, n);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (flags & names[i].flag)
            reply_status(c, names[i].name);
}

struct cmd_counter {
    struct client *c;
    long n;
};

static void count_one(struct command *cmd, void *priv)
{
    (void)cmd;
    ((struct cmd_counter *)priv)->n++;
}

static void info_one(struct command *cmd, void *priv) { render_info(priv, cmd); }

/* COMMAND: every command's COMMAND INFO entry. */
static void command_command(struct client *c)
{
    struct cmd_counter k = {c, 0};
    command_foreach(count_one, &k);
    reply_array_len(c, k.n);
    command_foreach(info_one, c);
}

/* COMMAND COUNT */
static void command_count_command(struct client *c)
{
    struct cmd_counter k = {c, 0};
    command_foreach(count_one, &k);
    reply_int(c, k.n);
}

/* COMMAND INFO [name ...]: unknown names give a null entry. */
static void command_info_command(struct client *c)
{
    if (c->argc == 2) {
        command_command(c);
        return;
    }
    reply_array_len(c, c->argc - 2);
    for (int i = 2; i < c->argc; i++) {
        struct command *cmd = lookup_by_fullname(c->argv[i].ptr, c->argv[i].len);
        if (cmd)
            render_info(c, cmd);
        else
            reply_null(c);
    }
}

static void docs_one(struct command *cmd, void *priv) { render_docs(priv, cmd); }

/* COMMAND DOCS [name ...]: a map name -> docs; unknown names are skipped. */
static void command_docs_command(struct client *c)
{
    if (c->argc == 2) {
        struct cmd_counter k = {c, 0};
        command_foreach(count_one, &k);
        reply_map_len(c, k.n);
        command_foreach(docs_one, c);
        return;
    }
    void *len = reply_defer_len(c);
    long n = 0;
    for (int i = 2; i < c->argc; i++) {
        struct command *cmd = lookup_by_fullname(c->argv[i].ptr, c->argv[i].len);
        if (!cmd)
            continue;
        docs_one(cmd, c);
        n++;
    }
    reply_set_deferred_map(c, len, n);
}

/* COMMAND LIST [FILTERBY MODULE name | ACLCAT category | PATTERN pattern] */
enum list_filter { FILTER_NONE, FILTER_MODULE, FILTER_ACLCAT, FILTER_PATTERN };

struct list_ctx {
    struct client *c;
    enum list_filter type;
    const struct arg *arg;
    uint64_t aclcat; /* FILTER_ACLCAT: the category's bit, 0 when unknown */
    long n;
};

static const char *const acl_category_names[] = {
    "keyspace", "read",  "write", "set",      "sortedset",   "list",       "hash",
    "string",   "bitmap", "hyperloglog", "geo", "stream", "pubsub", "admin",
    "fast",     "slow",  "blocking", "dangerous", "connection", "transaction", "scripting",
};

static int list_matches(struct list_ctx *x, struct command *cmd)
{
    switch (x->type) {
    case FILTER_NONE: return 1;
    case FILTER_MODULE: return 0; /* no modules: no command belongs to one */
    case FILTER_ACLCAT: return (cmd->spec->acl & x->aclcat) != 0;
    case FILTER_PATTERN:
        return glob_match(x->arg->ptr, x->arg->len, cmd->fullname, strlen(cmd->fullname), 1);
    }
    return 0;
}

static void list_one(struct command *cmd, void *priv)
{
    struct list_ctx *x = priv;
    if (list_matches(x, cmd)) {
        reply_bulk_cstr(x->c, cmd->fullname);
        x->n++;
    }
    /* subcommands are listed by their full names, after their container */
    if (cmd->subcommands) {
        dict_iter it;
        dict_entry *e;
        dict_iter_init(&it, cmd->subcommands);
        while ((e = dict_iter_next(&it)) != NULL)
            list_one(e->v.ptr, priv);
        dict_iter_release(&it);
    }
}

static void command_list_command(struct client *c)
{
    struct list_ctx x = {c, FILTER_NONE, NULL, 0, 0};
    for (int i = 2; i < c->argc; i++) {
        int more = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "filterby") && more == 2) {
            const struct arg *type = &c->argv[i + 1];
            if (arg_is(type, "module"))
                x.type = FILTER_MODULE;
            else if (arg_is(type, "aclcat"))
                x.type = FILTER_ACLCAT;
            else if (arg_is(type, "pattern"))
                x.type = FILTER_PATTERN;
            else {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            x.arg = &c->argv[i + 2];
            i += 2;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (x.type == FILTER_ACLCAT) {
        for (size_t k = 0; k < sizeof(acl_category_names) / sizeof(acl_category_names[0]); k++)
            if (strieq(x.arg->ptr, x.arg->len, acl_category_names[k]))
                x.aclcat = 1ULL << k;
    }
    void *len = reply_defer_len(c);
    command_foreach(list_one, &x);
    reply_set_deferred_array(c, len, x.n);
}

/* The command COMMAND GETKEYS names: argv[0], or argv[0] argv[1] for a
 * container (a container named alone is itself), as Redis's lookupCommand. */
static struct command *lookup_for_getkeys(struct arg *argv, int argc)
{
    struct command *base = command_lookup(argv[0].ptr, argv[0].len);
    if (!base || argc == 1 || !base->subcommands)
        return base;
    return command_lookup_sub(base, argv[1].ptr, argv[1].len);
}

/* Whether a command has keys: a key spec that is not "not_key". */
static int command_has_keys(const struct command *cmd)
{
    const struct command_spec *s = cmd->spec;
    for (int i = 0; i < s->key_specs_count; i++)
        if (!(s->key_specs[i].flags & KS_NOT_KEY))
            return 1;
    return 0;
}

#define GETKEYS_MAX 256

/* Flags of the key of commands whose key spec says "variable_flags": Redis
 * computes them from the arguments in the command's getkeys function. */
static uint64_t set_key_flags(struct arg *argv, int argc)
{
    for (int i = 3; i < argc; i++)
        if (argv[i].len >= 3 && strieq(argv[i].ptr, 3, "get") && (argv[i].len == 3 || argv[i].ptr[3] == '\0'))
            return KS_RW | KS_ACCESS | KS_UPDATE;
    return KS_OW | KS_UPDATE;
}

static uint64_t bitfield_key_flags(struct arg *argv, int argc)
{
    for (int i = 2; i < argc; i++) {
        int rem = argc - i - 1;
        if (arg_is(&argv[i], "get") && rem >= 2)
            i += 2;
        else if (arg_is(&argv[i], "overflow") && rem >= 1)
            i += 1;
        else
            return KS_RW | KS_ACCESS | KS_UPDATE; /* a write, or a syntax error: assume a write */
    }
    return KS_RO | KS_ACCESS;
}

/* SORT's key specs cannot say where the keys are (BY/GET patterns, STORE
 * anywhere): Redis asks sortGetKeys()/sortROGetKeys() instead.  The sort
 * key, then the destination of the last STORE, skipping the arguments of
 * LIMIT, GET and BY as Redis does. */
static int sort_keys(struct command *cmd, struct arg *argv, int argc, int *pos, uint64_t *flags, int max)
{
    int n = 0, store = 0;
    if (max < 2)
        return 2; /* caller retries with room */
    pos[n] = 1;
    flags[n++] = KS_RO | KS_ACCESS;
    if (strcmp(cmd->fullname, "sort") != 0)
        return n;
    for (int i = 2; i < argc; i++) {
        if (arg_is(&argv[i], "limit"))
            i += 2;
        else if (arg_is(&argv[i], "get") || arg_is(&argv[i], "by"))
            i += 1;
        else if (arg_is(&argv[i], "store") && i + 1 < argc) {
            store = 1;
            pos[n] = i + 1;
            flags[n] = KS_OW | KS_UPDATE;
        }
    }
    return n + store;
}

/* Keys of argv and, per key, the flags of the key spec that found it.
 * Runs the key extraction one spec at a time so each key can carry its
 * spec's flags; any invalid spec makes the whole call invalid (-1).  Specs
 * of things that are not keys are skipped, as Redis does.  Returns the
 * number of keys (only the first `max` are stored). */
static int keys_with_flags(struct command *cmd, struct arg *argv, int argc, int *pos, uint64_t *flags, int max)
{
    const struct command_spec *s = cmd->spec;
    int total = 0;
    if (!strcmp(cmd->fullname, "sort") || !strcmp(cmd->fullname, "sort_ro"))
        return sort_keys(cmd, argv, argc, pos, flags, max);
    for (int j = 0; j < s->key_specs_count; j++) {
        uint64_t f = s->key_specs[j].flags;
        if (f & KS_NOT_KEY)
            continue;
        struct command_spec one = *s;
        struct command tmp = *cmd;
        one.key_specs = &s->key_specs[j];
        one.key_specs_count = 1;
        tmp.spec = &one;
        int room = total < max ? max - total : 0;
        int n = command_get_keys(&tmp, argv, argc, pos + (total < max ? total : max), room);
        if (n < 0)
            return -1;
        if (f & KS_VARIABLE_FLAGS) {
            if (!strcmp(cmd->fullname, "set"))
                f = set_key_flags(argv, argc);
            else if (!strcmp(cmd->fullname, "bitfield"))
                f = bitfield_key_flags(argv, argc);
        }
        /* Redis reports these through getkeys functions that never set
         * the two "how to read this spec" flags */
        f &= ~(KS_INCOMPLETE | KS_VARIABLE_FLAGS);
        for (int k = 0; k < n && total + k < max; k++)
            flags[total + k] = f;
        total += n;
    }
    return total;
}

/* COMMAND GETKEYS / GETKEYSANDFLAGS command [arg ...] */
static void getkeys(struct client *c, int with_flags)
{
    struct arg *argv = c->argv + 2;
    int argc = c->argc - 2;
    struct command *cmd = lookup_for_getkeys(argv, argc);
    if (!cmd) {
        reply_error(c, "Invalid command specified");
        return;
    }
    if (!command_has_keys(cmd)) {
        reply_error(c, "The command has no key arguments");
        return;
    }
    if ((cmd->arity > 0 && cmd->arity != argc) || argc < -cmd->arity) {
        reply_error(c, "Invalid number of arguments specified for command");
        return;
    }
    int pos[GETKEYS_MAX];
    uint64_t flags[GETKEYS_MAX];
    int n = keys_with_flags(cmd, argv, argc, pos, flags, GETKEYS_MAX);
    int *posp = pos;
    uint64_t *flagsp = flags;
    if (n > GETKEYS_MAX) {
        /* rare: many keys; run again with room for all of them */
        posp = mem_alloc(sizeof(int) * (size_t)n);
        flagsp = mem_alloc(sizeof(uint64_t) * (size_t)n);
        n = keys_with_flags(cmd, argv, argc, posp, flagsp, n);
    }
    if (n <= 0) {
        if (cmd->flags & CMD_NO_MANDATORY_KEYS)
            reply_array_len(c, 0);
        else
            reply_error(c, "Invalid arguments specified for command");
    } else {
        reply_array_len(c, n);
        for (int i = 0; i < n; i++) {
            if (with_flags) {
                reply_array_len(c, 2);
                reply_bulk(c, argv[posp[i]].ptr, argv[posp[i]].len);
                reply_key_flags(c, flagsp[i]);
            } else {
                reply_bulk(c, argv[posp[i]].ptr, argv[posp[i]].len);
            }
        }
    }
    if (posp != pos) {
        mem_free(posp);
        mem_free(flagsp);
    }
}

static void command_getkeys_command(struct client *c) { getkeys(c, 0); }
static void command_getkeysandflags_command(struct client *c) { getkeys(c, 1); }

/* COMMAND HELP */
static void command_help_command(struct client *c)
{
    static const char *const help[] = {
        "(no subcommand)",
        "    Return details about all Redis commands.",
        "COUNT",
        "    Return the total number of commands in this Redis server.",
        "LIST",
        "    Return a list of all commands in this Redis server.",
        "INFO [<command-name> ...]",
        "    Return details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "DOCS [<command-name> ...]",
        "    Return documentation details about multiple Redis commands.",
        "    If no command names are given, documentation details for all",
        "    commands are returned.",
        "GETKEYS <full-command>",
        "    Return the keys from a full Redis command.",
        "GETKEYSANDFLAGS <full-command>",
        "    Return the keys and the access flags from a full Redis command.",
        NULL,
    };
    reply_help(c, help);
}

/* ---- SHUTDOWN -------------------------------------------------------------- */

/* SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE] [ABORT]: the event loop performs
 * the shutdown at the end of this iteration (server.c); the client gets no
 * reply, its connection just closes, as with Redis. */
static void shutdown_command(struct client *c)
{
    int flags = SHUTDOWN_NOFLAGS, abort_req = 0;
    for (int i = 1; i < c->argc; i++) {
        if (arg_is(&c->argv[i], "nosave"))
            flags |= SHUTDOWN_NOSAVE;
        else if (arg_is(&c->argv[i], "save"))
            flags |= SHUTDOWN_SAVE;
        else if (arg_is(&c->argv[i], "now"))
            flags |= SHUTDOWN_NOW;
        else if (arg_is(&c->argv[i], "force"))
            flags |= SHUTDOWN_FORCE;
        else if (arg_is(&c->argv[i], "abort"))
            abort_req = 1;
        else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if ((abort_req && flags != SHUTDOWN_NOFLAGS) || ((flags & SHUTDOWN_NOSAVE) && (flags & SHUTDOWN_SAVE))) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (abort_req) {
        if (srv.shutdown_asap) {
            srv.shutdown_asap = 0;
            srv.shutdown_flags = SHUTDOWN_NOFLAGS;
            reply_ok(c);
        } else {
            reply_error(c, "No shutdown in progress.");
        }
        return;
    }
    srv.shutdown_flags = flags;
    srv.shutdown_asap = 1;
}

/* ---- DEBUG ------------------------------------------------------------------ */

/* Subcommands and DEBUG OBJECT details registered by other modules. */
#define DEBUG_EXT_MAX 32

static struct debug_ext {
    const char *name;
    int min_argc, max_argc;
    command_proc *proc;
    const char *const *help;
} debug_exts[DEBUG_EXT_MAX];
static int debug_ext_count;

static void (*object_extra[16])(const struct value *v, sstr *out);
static size_t (*serialized_length_fn)(const struct value *v);

void debug_register_subcommand(const char *name, int min_argc, int max_argc, command_proc *proc,
                               const char *const *help_lines)
{
    if (debug_ext_count == DEBUG_EXT_MAX)
        server_panic("too many DEBUG subcommands registered (%s)", name);
    debug_exts[debug_ext_count++] = (struct debug_ext){name, min_argc, max_argc, proc, help_lines};
}

void debug_register_object_extra(int value_type, void (*extra)(const struct value *v, sstr *out))
{
    if (value_type >= 0 && value_type < 16)
        object_extra[value_type] = extra;
}

void debug_set_serialized_length(size_t (*fn)(const struct value *v)) { serialized_length_fn = fn; }

/* Length of the RDB length prefix for n. */
static size_t rdb_len_size(unsigned long long n)
{
    if (n < (1 << 6))
        return 1;
    if (n < (1 << 14))
        return 2;
    if (n <= 0xffffffffULL)
        return 5;
    return 9;
}

/* Size of an integer in RDB's compact integer encoding, 0 when it does
 * not fit in 32 bits. */
static size_t rdb_int_size(long long v)
{
    if (v >= -(1LL << 7) && v <= (1LL << 7) - 1)
        return 2;
    if (v >= -(1LL << 15) && v <= (1LL << 15) - 1)
        return 3;
    if (v >= -(1LL << 31) && v <= (1LL << 31) - 1)
        return 5;
    return 0;
}

/* DEBUG OBJECT's serializedlength: what RDB would write for the value.
 * Strings are exact except that LZF compression of long strings is not
 * accounted for; other types report their memory usage until the RDB
 * writer exists. */
static size_t serialized_length(const struct value *v)
{
    if (serialized_length_fn)
        return serialized_length_fn(v);
    if (v->type != OBJ_STRING)
        return value_mem_usage(v);
    char buf[32];
    size_t len;
    const char *p = value_string_bytes(v, buf, &len);
    long long n;
    if (len <= 11 && string2ll(p, len, &n)) {
        size_t sz = rdb_int_size(n);
        if (sz)
            return sz;
    }
    return rdb_len_size(len) + len;
}

static void debug_object(struct client *c)
{
    struct value *v = db_peek(c->db, c->argv[2].ptr, c->argv[2].len);
    if (!v) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    sstr s = sstr_catfmt(sstr_empty(128),
                         "Value at:%p refcount:1 encoding:%s serializedlength:%zu lru:%u lru_seconds_idle:%lld",
                         (void *)v, value_encoding_name(v), serialized_length(v), (unsigned)v->lru,
                         value_idle_ms(v) / 1000);
    if (object_extra[v->type])
        object_extra[v->type](v, &s);
    reply_status_len(c, s, sstr_len(s));
    sstr_free(s);
}

/* Redis parses these as C strings (strtod/atoi): copy up to the first NUL. */
static void arg_cstr(const struct arg *a, char *buf, size_t size)
{
    size_t n = strnlen(a->ptr, a->len);
    if (n >= size)
        n = size - 1;
    memcpy(buf, a->ptr, n);
    buf[n] = '\0';
}

static void debug_sleep(struct client *c)
{
    char buf[64];
    arg_cstr(&c->argv[2], buf, sizeof(buf));
    double dtime = strtod(buf, NULL);
    long long utime = (long long)(dtime * 1000000);
    struct timespec ts = {(time_t)(utime / 1000000), (long)(utime % 1000000) * 1000};
    if (utime > 0)
        nanosleep(&ts, NULL);
    reply_ok(c);
}

/* A non-negative integer; Redis's getPositiveLongFromObjectOrReply uses
 * one message for both failures. */
static int parse_nonneg(struct client *c, const struct arg *a, long long *out)
{
    if (!string2ll(a->ptr, a->len, out) || *out < 0) {
        reply_error(c, "value is out of range, must be positive");
        return -1;
    }
    return 0;
}

/* DEBUG POPULATE count [prefix] [size]: keys "prefix:N" with values
 * "value:N" (padded with NULs or cut to `size`); existing keys are kept. */
static void debug_populate(struct client *c)
{
    long long count, size = 0;
    if (parse_nonneg(c, &c->argv[2], &count) < 0)
        return;
    if (c->argc == 5 && parse_nonneg(c, &c->argv[4], &size) < 0)
        return;
    char prefix[128];
    if (c->argc >= 4)
        arg_cstr(&c->argv[3], prefix, sizeof(prefix));
    else
        strcpy(prefix, "key");
    char key[128], val[128];
    char *padded = size ? mem_alloc((size_t)size) : NULL;
    for (long long j = 0; j < count; j++) {
        int klen = snprintf(key, sizeof(key), "%s:%lld", prefix, j);
        if (klen >= (int)sizeof(key))
            klen = (int)sizeof(key) - 1; /* Redis's buffer truncates the same way */
        if (db_lookup_write(c->db, key, (size_t)klen))
            continue;
        int vlen = snprintf(val, sizeof(val), "value:%lld", j);
        struct value *v;
        if (size == 0) {
            v = value_string_new(val, (size_t)vlen);
        } else {
            memset(padded, 0, (size_t)size);
            memcpy(padded, val, (size_t)(size < vlen ? size : vlen));
            v = value_string_new(padded, (size_t)size);
        }
        db_add(c->db, key, (size_t)klen, v);
    }
    mem_free(padded);
    reply_ok(c);
}

/* DEBUG PROTOCOL type: a sample reply of each RESP type. */
static void debug_protocol(struct client *c)
{
    const struct arg *t = &c->argv[2];
    if (arg_is(t, "string")) {
        reply_bulk_cstr(c, "Hello World");
    } else if (arg_is(t, "integer")) {
        reply_int(c, 12345);
    } else if (arg_is(t, "double")) {
        reply_double(c, 3.141);
    } else if (arg_is(t, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        if (c->resp >= 3)
            reply_raw(c, "(1234567999999999999999999999999999999\r\n", sizeof(big) + 2);
        else
            reply_bulk(c, big, sizeof(big) - 1);
    } else if (arg_is(t, "null")) {
        reply_null(c);
    } else if (arg_is(t, "array") || arg_is(t, "set")) {
        if (arg_is(t, "set"))
            reply_set_len(c, 3);
        else
            reply_array_len(c, 3);
        for (int j = 0; j < 3; j++)
            reply_int(c, j);
    } else if (arg_is(t, "map")) {
        reply_map_len(c, 3);
        for (int j = 0; j < 3; j++) {
            reply_int(c, j);
            reply_bool(c, j == 1);
        }
    } else if (arg_is(t, "attrib")) {
        if (c->resp >= 3) {
            reply_raw(c, "|1\r\n", 4);
            reply_bulk_cstr(c, "key-popularity");
            reply_array_len(c, 2);
            reply_bulk_cstr(c, "key:123");
            reply_int(c, 90);
        }
        /* an attribute is not a reply: a real one follows */
        reply_bulk_cstr(c, "Some real reply following the attribute");
    } else if (arg_is(t, "push")) {
        if (c->resp < 3) {
            reply_error(c, "RESP2 is not supported by this command");
            return;
        }
        reply_push_len(c, 2);
        reply_bulk_cstr(c, "server-cpu-usage");
        reply_int(c, 42);
        reply_bulk_cstr(c, "Some real reply following the push reply");
    } else if (arg_is(t, "true")) {
        reply_bool(c, 1);
    } else if (arg_is(t, "false")) {
        reply_bool(c, 0);
    } else if (arg_is(t, "verbatim")) {
        reply_verbatim(c, "This is a verbatim\nstring", 25, "txt");
    } else {
        reply_error(c, "Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

static void debug_help(struct client *c)
{
    static const char *const help[] = {
        "ASSERT",
        "    Crash by assertion failed.",
        "CHANGE-REPL-ID",
        "    Change the replication IDs of the instance.",
        "    Dangerous: should be used only for testing the replication subsystem.",
        "ERROR <string>",
        "    Return a Redis protocol error with <string> as message. Useful for clients",
        "    unit tests to simulate Redis errors.",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Show low level info about `key` and associated value.",
        "PANIC",
        "    Crash the server simulating a panic.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named key:<num>. If <prefix> is specified then",
        "    it is used instead of the 'key' prefix. These are not propagated to",
        "    replicas. Cluster slots are not respected so keys not belonging to the",
        "    current node can be created in cluster mode.",
        "PROTOCOL <type>",
        "    Reply with a test value of the specified type. <type> can be: string,",
        "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
        "    true, false.",
        "SEGFAULT",
        "    Crash the server with sigsegv.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Setting it to 0 disables expiring keys in background when they are not",
        "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
        "    default.",
        "SLEEP <seconds>",
        "    Stop the server for <seconds>. Decimals allowed.",
        NULL,
    };
    size_t n = sizeof(help) / sizeof(help[0]) - 1;
    for (int i = 0; i < debug_ext_count; i++)
        for (const char *const *l = debug_exts[i].help; l && *l; l++)
            n++;
    const char **all = mem_alloc(sizeof(*all) * (n + 1));
    size_t k = 0;
    for (const char *const *l = help; *l; l++)
        all[k++] = *l;
    for (int i = 0; i < debug_ext_count; i++)
        for (const char *const *l = debug_exts[i].help; l && *l; l++)
            all[k++] = *l;
    all[k] = NULL;
    reply_help(c, all);
    mem_free(all);
}

/* DEBUG subcommand [arg ...]: only when enable-debug-command allows this
 * client (Redis 7.0 defaults to "no"). */
static void debug_command(struct client *c)
{
    if (!config_allow_protected_action(srv.enable_debug_command, c)) {
        reply_error(c, "DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can "
                       "run it from a local connection, otherwise you need to set this option in the configuration "
                       "file, and then restart the server.");
        return;
    }
    const struct arg *sub = &c->argv[1];
    int argc = c->argc;
    if (argc == 2 && arg_is(sub, "help")) {
        debug_help(c);
    } else if (argc == 3 && arg_is(sub, "object")) {
        debug_object(c);
    } else if (argc == 3 && arg_is(sub, "sleep")) {
        debug_sleep(c);
    } else if (argc == 3 && arg_is(sub, "set-active-expire")) {
        char buf[32];
        arg_cstr(&c->argv[2], buf, sizeof(buf));
        srv.active_expire_enabled = atoi(buf);
        reply_ok(c);
    } else if (argc >= 3 && argc <= 5 && arg_is(sub, "populate")) {
        debug_populate(c);
    } else if (argc == 3 && arg_is(sub, "protocol")) {
        debug_protocol(c);
    } else if (argc == 3 && arg_is(sub, "log")) {
        server_log(LL_WARNING, "DEBUG LOG: %.*s", (int)strnlen(c->argv[2].ptr, c->argv[2].len), c->argv[2].ptr);
        reply_ok(c);
    } else if (argc == 3 && arg_is(sub, "error")) {
        /* sent as raw protocol, as Redis does: the argument is the whole
         * error line, and it does not count as an error reply in INFO */
        size_t n = strnlen(c->argv[2].ptr, c->argv[2].len);
        sstr e = sstr_cat(sstr_new("-", 1), c->argv[2].ptr, n);
        for (size_t i = 0; i < sstr_len(e); i++)
            if (e[i] == '\r' || e[i] == '\n')
                e[i] = ' ';
        e = sstr_cat(e, "\r\n", 2);
        reply_raw(c, e, sstr_len(e));
        sstr_free(e);
    } else if (argc == 2 && arg_is(sub, "change-repl-id")) {
        info_change_replid();
        server_log(LL_WARNING, "Changing replication IDs after receiving DEBUG change-repl-id");
        reply_ok(c);
    } else if (argc == 2 && arg_is(sub, "segfault")) {
        server_log(LL_WARNING, "DEBUG SEGFAULT: crashing on request");
        raise(SIGSEGV);
    } else if (argc == 2 && arg_is(sub, "panic")) {
        server_panic("DEBUG PANIC called at Unix time %lld", (long long)time(NULL));
    } else if (argc == 2 && arg_is(sub, "assert")) {
        server_panic("=== ASSERTION FAILED === ==> DEBUG ASSERT: 1 == 2 is false");
    } else {
        for (int i = 0; i < debug_ext_count; i++) {
            const struct debug_ext *x = &debug_exts[i];
            if (arg_is(sub, x->name) && argc >= x->min_argc && (x->max_argc < 0 || argc <= x->max_argc)) {
                x->proc(c);
                return;
            }
        }
        reply_subcommand_error(c);
    }
}

const struct command_impl server_commands[] = {
    {"time", time_command},
    {"lastsave", lastsave_command},
    {"monitor", monitor_command},
    {"slowlog|get", slowlog_get_command},
    {"slowlog|len", slowlog_len_command},
    {"slowlog|reset", slowlog_reset_command},
    {"slowlog|help", slowlog_help_command},
    {"command", command_command},
    {"command|count", command_count_command},
    {"command|list", command_list_command},
    {"command|info", command_info_command},
    {"command|docs", command_docs_command},
    {"command|getkeys", command_getkeys_command},
    {"command|getkeysandflags", command_getkeysandflags_command},
    {"command|help", command_help_command},
    {"shutdown", shutdown_command},
    {"debug", debug_command},
    {NULL, NULL},
};
