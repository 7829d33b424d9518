/* cmd_client.c - the CLIENT command: naming, listing, killing, pausing
 * and reply control of connections.
 *
 * CLIENT LIST / CLIENT INFO print Redis 7.0's line format field for field
 * (client_info_string), since tools parse it by field name.  The values are
 * read from Sluice's own structures: the output chain's first block stands
 * for Redis's static reply buffer (rbs/rbp/obl), the blocks after it for
 * Redis's reply list (oll/omem).  Fields for features Sluice lacks (pub/sub
 * counts, ACL users, tracking redirection) show what Redis shows for a
 * client that does not use them.
 *
 * Client tracking is not implemented: GETREDIR, TRACKINGINFO and CACHING
 * answer as Redis does for a client with tracking off.
 */
#include <event2/event.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "blocking.h"
#include "db.h"
#include "introspection.h"
#include "mem.h"
#include "server.h"
#include "util.h"

/* Client types as CLIENT LIST/KILL TYPE name them. */
enum client_type { TYPE_NONE = -1, TYPE_NORMAL, TYPE_REPLICA, TYPE_PUBSUB, TYPE_MASTER };

static enum client_type type_from_name(const char *p, size_t len)
{
    if (strieq(p, len, "normal"))
        return TYPE_NORMAL;
    if (strieq(p, len, "slave") || strieq(p, len, "replica"))
        return TYPE_REPLICA;
    if (strieq(p, len, "pubsub"))
        return TYPE_PUBSUB;
    if (strieq(p, len, "master"))
        return TYPE_MASTER;
    return TYPE_NONE;
}

static enum client_type type_of(const struct client *c)
{
    const char *name = client_type_name(c);
    return type_from_name(name, strlen(name));
}

/* Redis prints arguments in messages with %s: up to the first NUL. */
static int cstr_len(const struct arg *a)
{
    size_t n = strnlen(a->ptr, a->len);
    return n > INT_MAX ? INT_MAX : (int)n;
}

static int parse_type_or_reply(struct client *c, const struct arg *a, enum client_type *out)
{
    *out = type_from_name(a->ptr, a->len);
    if (*out == TYPE_NONE) {
        reply_errorf(c, "Unknown client type '%.*s'", cstr_len(a), a->ptr);
        return -1;
    }
    return 0;
}

/* Redis's addReplySubcommandSyntaxError(): for a subcommand whose
 * argument count is accepted by its arity but not by its syntax. */
static void reply_subcommand_error(struct client *c)
{
    size_t sub = strnlen(c->argv[1].ptr, c->argv[1].len);
    reply_errorf(c, "unknown subcommand or wrong number of arguments for '%.*s'. Try CLIENT HELP.",
                 (int)(sub > 128 ? 128 : sub), c->argv[1].ptr);
}

/* ---- memory and the info line ---------------------------------------- */

static size_t multi_mem(const struct client *c)
{
    size_t n = 0;
    for (int i = 0; i < c->mstate.count; i++)
        n += mem_usable(c->mstate.cmds[i].argv);
    return n;
}

static size_t argv_mem(const struct client *c)
{
    size_t n = 0;
    for (int i = 0; i < c->argc; i++)
        n += c->argv[i].len;
    return n;
}

size_t client_memory_usage(const struct client *c, size_t *obuf)
{
    size_t out = 0;
    for (const struct reply_block *b = c->reply_head; b; b = b->next)
        out += mem_usable(b);
    if (obuf)
        *obuf = out;
    size_t n = mem_usable(c) + out;
    if (c->querybuf)
        n += sstr_alloc_size(c->querybuf);
    if (c->name)
        n += sstr_alloc_size(c->name);
    n += mem_usable(c->owned_argv) + mem_usable(c->parser.argv) + mem_usable(c->parser.arg_off);
    if (c->parser.inline_buf)
        n += sstr_alloc_size(c->parser.inline_buf);
    n += mem_usable(c->mstate.cmds) + multi_mem(c);
    return n;
}

/* Redis's one-letter flags, in Redis's order ('N' when none). */
static void flags_string(const struct client *c, char *buf)
{
    char *p = buf;
    if (c->flags & CLIENT_REPLICA)
        *p++ = 'S';
    if (c->flags & CLIENT_MASTER)
        *p++ = 'M';
    if (c->flags & CLIENT_MONITOR)
        *p++ = 'O';
    if (c->flags & CLIENT_MULTI)
        *p++ = 'x';
    if (c->flags & (CLIENT_BLOCKED | CLIENT_PAUSED)) /* Redis: a paused client is blocked */
        *p++ = 'b';
    if (c->flags & CLIENT_DIRTY_CAS)
        *p++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY)
        *p++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP)
        *p++ = 'A';
    if (c->flags & CLIENT_UNIX_SOCKET)
        *p++ = 'U';
    if (c->flags & CLIENT_NO_EVICT)
        *p++ = 'e';
    if (p == buf)
        *p++ = 'N';
    *p = '\0';
}

void client_info_string(struct client *c, sstr *out)
{
    char flags[16], events[3], *e = events;
    flags_string(c, flags);
    if (c->ev_read && event_pending(c->ev_read, EV_READ, NULL))
        *e++ = 'r';
    if (c->ev_write && event_pending(c->ev_write, EV_WRITE, NULL))
        *e++ = 'w';
    *e = '\0';

    /* the first block plays Redis's static buffer, the rest its list */
    const struct reply_block *head = c->reply_head;
    size_t rbs = head ? head->size : 0, rbp = head ? head->used : 0;
    size_t obl = head ? head->used - c->sent_in_head : 0;
    size_t oll = 0, omem = 0;
    for (const struct reply_block *b = head ? head->next : NULL; b; b = b->next) {
        oll++;
        omem += mem_usable(b);
    }
    /* the whole buffer, commands of this batch already run included, as
     * Redis trims its query buffer only after the batch */
    size_t qbuf = c->querybuf ? sstr_len(c->querybuf) : 0;
    size_t qfree = c->querybuf ? sstr_avail(c->querybuf) : 0;
    long long now = srv.unixtime ? (long long)srv.unixtime : (long long)time(NULL);
    /* the command running now counts as the client's last one, as in
     * Redis, where processCommand sets lastcmd before calling it */
    const struct command *last = c->lastcmd;
    if (c == srv.current_client && c->cmd && !(c->flags & CLIENT_EXECUTING_MULTI))
        last = c->cmd;

    *out = sstr_catfmt(*out,
                       "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=0 psub=0 "
                       "ssub=0 multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=%zu rbs=%zu rbp=%zu obl=%zu "
                       "oll=%zu omem=%zu tot-mem=%zu events=%s cmd=%s user=default redir=-1 resp=%d",
                       (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
                       now - (long long)c->ctime, now - c->last_interaction, flags, c->db ? c->db->id : 0,
                       (c->flags & CLIENT_MULTI) ? c->mstate.count : -1, qbuf, qfree, argv_mem(c), multi_mem(c),
                       rbs, rbp, obl, oll, omem, client_memory_usage(c, NULL), events,
                       last ? last->fullname : "NULL", c->resp);
}

/* ---- naming ------------------------------------------------------------ */

int client_setname_or_reply(struct client *c, const char *name, size_t len)
{
    /* only printable ASCII without spaces, so CLIENT LIST stays splittable */
    for (size_t i = 0; i < len; i++) {
        if (name[i] < '!' || name[i] > '~') {
            reply_error(c, "Client names cannot contain spaces, newlines or special characters.");
            return -1;
        }
    }
    if (c->name) {
        sstr_free(c->name);
        c->name = NULL;
    }
    if (len)
        c->name = sstr_new(name, len);
    return 0;
}

/* CLIENT SETNAME name */
static void client_setname(struct client *c)
{
    if (client_setname_or_reply(c, c->argv[2].ptr, c->argv[2].len) == 0)
        reply_ok(c);
}

/* CLIENT GETNAME */
static void client_getname(struct client *c)
{
    if (c->name)
        reply_bulk_sstr(c, c->name);
    else
        reply_null(c);
}

/* CLIENT ID */
static void client_id(struct client *c) { reply_int(c, (long long)c->id); }

/* ---- listing ------------------------------------------------------------ */

/* CLIENT INFO */
static void client_info(struct client *c)
{
    sstr s = sstr_empty(512);
    client_info_string(c, &s);
    s = sstr_cat(s, "\n", 1);
    reply_verbatim(c, s, sstr_len(s), "txt");
    sstr_free(s);
}

/* CLIENT LIST [TYPE type] | [ID id [id ...]] */
static void client_list(struct client *c)
{
    enum client_type type = TYPE_NONE;
    sstr s = NULL;
    if (c->argc == 4 && arg_is(&c->argv[2], "type")) {
        if (parse_type_or_reply(c, &c->argv[3], &type) < 0)
            return;
    } else if (c->argc > 3 && arg_is(&c->argv[2], "id")) {
        /* listed in the order asked; unknown IDs are skipped */
        s = sstr_empty(512);
        for (int j = 3; j < c->argc; j++) {
            long long id;
            if (!string2ll(c->argv[j].ptr, c->argv[j].len, &id)) {
                reply_error(c, "Invalid client ID");
                sstr_free(s);
                return;
            }
            struct client *cl = client_lookup_by_id((uint64_t)id);
            if (cl) {
                client_info_string(cl, &s);
                s = sstr_cat(s, "\n", 1);
            }
        }
    } else if (c->argc != 2) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (!s) {
        s = sstr_empty(512);
        struct list_node *n, *tmp;
        list_for_each_safe(n, tmp, &srv.clients)
        {
            struct client *cl = list_entry(n, struct client, node);
            if (type != TYPE_NONE && type_of(cl) != type)
                continue;
            client_info_string(cl, &s);
            s = sstr_cat(s, "\n", 1);
        }
    }
    reply_verbatim(c, s, sstr_len(s), "txt");
    sstr_free(s);
}

/* ---- killing ------------------------------------------------------------- */

static int arg_eq(const struct arg *a, const char *s) { return a->len == strlen(s) && !memcmp(a->ptr, s, a->len); }

/* CLIENT KILL addr (old form: may kill the caller, replies OK or an error)
 * CLIENT KILL [ID id] [TYPE type] [ADDR addr] [LADDR addr] [USER user]
 *             [SKIPME yes|no] (new form: replies the number killed) */
static void client_kill(struct client *c)
{
    const struct arg *addr = NULL, *laddr = NULL;
    enum client_type type = TYPE_NONE;
    unsigned long long id = 0;
    int skipme = 1, killed = 0, close_self = 0;

    if (c->argc == 3) {
        addr = &c->argv[2];
        skipme = 0; /* with the old form you can kill yourself */
    } else if (c->argc > 3) {
        for (int i = 2; i < c->argc; i += 2) {
            int moreargs = c->argc > i + 1;
            const struct arg *opt = &c->argv[i], *val = &c->argv[i + 1];
            if (arg_is(opt, "id") && moreargs) {
                long long v;
                if (arg_ll_range(c, val, 1, LONG_MAX, &v, "client-id should be greater than 0") < 0)
                    return;
                id = (unsigned long long)v;
            } else if (arg_is(opt, "type") && moreargs) {
                if (parse_type_or_reply(c, val, &type) < 0)
                    return;
            } else if (arg_is(opt, "addr") && moreargs) {
                addr = val;
            } else if (arg_is(opt, "laddr") && moreargs) {
                laddr = val;
            } else if (arg_is(opt, "user") && moreargs) {
                /* no ACL users yet: everybody is "default" */
                if (!arg_eq(val, "default")) {
                    reply_errorf(c, "No such user '%.*s'", cstr_len(val), val->ptr);
                    return;
                }
            } else if (arg_is(opt, "skipme") && moreargs) {
                if (arg_is(val, "yes")) {
                    skipme = 1;
                } else if (arg_is(val, "no")) {
                    skipme = 0;
                } else {
                    reply_error(c, ERR_SYNTAX);
                    return;
                }
            } else {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        }
    } else {
        reply_error(c, ERR_SYNTAX);
        return;
    }

    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.clients)
    {
        struct client *cl = list_entry(n, struct client, node);
        /* already being closed: Redis would have freed it on the spot */
        if (cl->flags & CLIENT_CLOSE_ASAP)
            continue;
        if (addr && !arg_eq(addr, cl->addr))
            continue;
        if (laddr && !arg_eq(laddr, cl->laddr))
            continue;
        if (type != TYPE_NONE && type_of(cl) != type)
            continue;
        if (id && cl->id != id)
            continue;
        if (cl == c && skipme)
            continue;
        if (cl == c)
            close_self = 1; /* after the reply below has been queued */
        else
            client_close_async(cl);
        killed++;
    }

    if (c->argc == 3) {
        if (killed == 0)
            reply_error(c, "No such client");
        else
            reply_ok(c);
    } else {
        reply_int(c, killed);
    }
    if (close_self)
        c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* ---- pause ------------------------------------------------------------- */

/* CLIENT PAUSE timeout [WRITE|ALL] */
static void client_pause(struct client *c)
{
    int write_only = 0;
    if (c->argc > 4) {
        reply_subcommand_error(c);
        return;
    }
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "write")) {
            write_only = 1;
        } else if (!arg_is(&c->argv[3], "all")) {
            reply_error(c, "CLIENT PAUSE mode must be WRITE or ALL");
            return;
        }
    }
    long long ms;
    if (arg_ll(c, &c->argv[2], &ms, "timeout is not an integer or out of range") < 0)
        return;
    if (ms < 0) {
        reply_error(c, "timeout is negative");
        return;
    }
    /* Redis adds the current time without an overflow check; a huge
     * timeout wraps into the past and so pauses nothing.  Same here,
     * without the undefined behaviour. */
    long long end = ms > 0 ? (long long)((unsigned long long)ms + (unsigned long long)mstime()) : 0;
    /* a pause while another is in force keeps the stronger mode and the
     * later end, as Redis's pauseClients */
    if (srv.pause.active && srv.pause.end_ms > mstime()) {
        write_only = write_only && srv.pause.write_only;
        if (srv.pause.end_ms > end)
            end = srv.pause.end_ms;
    }
    srv.pause.active = 1;
    srv.pause.write_only = write_only;
    srv.pause.end_ms = end;
    reply_ok(c);
}

/* CLIENT UNPAUSE */
static void client_unpause(struct client *c)
{
    /* The held clients are released by the cron's expiry check, which
     * runs them outside any command; releasing them from here would run
     * their commands nested inside this one. */
    if (srv.pause.active)
        srv.pause.end_ms = 0;
    reply_ok(c);
}

/* ---- reply control, unblocking, eviction --------------------------------- */

/* CLIENT REPLY ON|OFF|SKIP */
static void client_reply(struct client *c)
{
    if (arg_is(&c->argv[2], "on")) {
        c->flags &= ~(CLIENT_REPLY_SKIP | CLIENT_REPLY_OFF);
        reply_ok(c);
    } else if (arg_is(&c->argv[2], "off")) {
        c->flags |= CLIENT_REPLY_OFF;
    } else if (arg_is(&c->argv[2], "skip")) {
        if (!(c->flags & CLIENT_REPLY_OFF))
            c->flags |= CLIENT_REPLY_SKIP_NEXT;
    } else {
        reply_error(c, ERR_SYNTAX);
    }
}

/* CLIENT UNBLOCK id [TIMEOUT|ERROR] */
static void client_unblock(struct client *c)
{
    int with_error = 0;
    if (c->argc > 4) {
        reply_subcommand_error(c);
        return;
    }
    if (c->argc == 4) {
        if (arg_is(&c->argv[3], "error")) {
            with_error = 1;
        } else if (!arg_is(&c->argv[3], "timeout")) {
            reply_error(c, "CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
            return;
        }
    }
    long long id;
    if (arg_ll(c, &c->argv[2], &id, NULL) < 0)
        return;
    struct client *target = client_lookup_by_id((uint64_t)id);
    int done = target && (target->flags & CLIENT_BLOCKED) && blocking_unblock_client(target, with_error);
    reply_int(c, done ? 1 : 0);
}

/* CLIENT NO-EVICT ON|OFF */
static void client_no_evict(struct client *c)
{
    if (arg_is(&c->argv[2], "on")) {
        c->flags |= CLIENT_NO_EVICT;
        reply_ok(c);
    } else if (arg_is(&c->argv[2], "off")) {
        c->flags &= ~CLIENT_NO_EVICT;
        reply_ok(c);
    } else {
        reply_error(c, ERR_SYNTAX);
    }
}

/* CLIENT ACKS [0|1|all|default] (Sluice): what this connection's writes
 * wait for before their replies leave, as a Kafka producer's acks.  With
 * no argument, the connection's current setting. */
static void client_acks(struct client *c)
{
    static const char *const names[] = {"0", "1", "all"};
    if (c->argc == 2) {
        reply_bulk_cstr(c, names[c->acks >= 0 ? c->acks : srv.acks]);
        return;
    }
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    int v = -2;
    for (int i = 0; i < 3; i++)
        if (arg_is(&c->argv[2], names[i]))
            v = i;
    if (arg_is(&c->argv[2], "default"))
        v = -1;
    if (v == -2) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    c->acks = (int8_t)v;
    reply_ok(c);
}

/* ---- tracking (always off) --------------------------------------------- */

/* CLIENT GETREDIR: -1 means tracking is off. */
static void client_getredir(struct client *c) { reply_int(c, -1); }

/* CLIENT TRACKINGINFO */
static void client_trackinginfo(struct client *c)
{
    reply_map_len(c, 3);
    reply_bulk_cstr(c, "flags");
    reply_set_len(c, 1);
    reply_bulk_cstr(c, "off");
    reply_bulk_cstr(c, "redirect");
    reply_int(c, -1);
    reply_bulk_cstr(c, "prefixes");
    reply_array_len(c, 0);
}

/* CLIENT CACHING YES|NO */
static void client_caching(struct client *c)
{
    reply_error(c, "CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT "
                   "mode enabled");
}

/* CLIENT HELP */
static void client_help(struct client *c)
{
    static const char *const help[] = {
        "CACHING (YES|NO)",
        "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
        "GETREDIR",
        "    Return the client ID we are redirecting to when tracking is enabled.",
        "GETNAME",
        "    Return the name of the current connection.",
        "ID",
        "    Return the ID of the current connection.",
        "INFO",
        "    Return information about the current client connection.",
        "KILL <ip:port>",
        "    Kill connection made from <ip:port>.",
        "KILL <option> <value> [<option> <value> [...]]",
        "    Kill connections. Options are:",
        "    * ADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made from the specified address",
        "    * LADDR (<ip:port>|<unixsocket>:0)",
        "      Kill connections made to specified local address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Kill connections by type.",
        "    * USER <username>",
        "      Kill connections authenticated by <username>.",
        "    * SKIPME (YES|NO)",
        "      Skip killing current connection (default: yes).",
        "LIST [options ...]",
        "    Return information about client connections. Options:",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
        "      Return clients of specified type.",
        "UNPAUSE",
        "    Stop the current client pause, resuming traffic.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Suspend all, or just write, clients for <timeout> milliseconds.",
        "REPLY (ON|OFF|SKIP)",
        "    Control the replies sent to the current connection.",
        "SETNAME <name>",
        "    Assign the name <name> to the current connection.",
        "UNBLOCK <clientid> [TIMEOUT|ERROR]",
        "    Unblock the specified blocked client.",
        "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
        "         [OPTIN] [OPTOUT] [NOLOOP]",
        "    Control server assisted client side caching.",
        "TRACKINGINFO",
        "    Report tracking status for the current connection.",
        "NO-EVICT (ON|OFF)",
        "    Protect current client connection from eviction.",
        NULL,
    };
    reply_help(c, help);
}

const struct command_impl client_commands[] = {
    {"client|id", client_id},
    {"client|setname", client_setname},
    {"client|getname", client_getname},
    {"client|info", client_info},
    {"client|list", client_list},
    {"client|kill", client_kill},
    {"client|pause", client_pause},
    {"client|unpause", client_unpause},
    {"client|reply", client_reply},
    {"client|unblock", client_unblock},
    {"client|no-evict", client_no_evict},
    {"client|acks", client_acks},
    {"client|getredir", client_getredir},
    {"client|trackinginfo", client_trackinginfo},
    {"client|caching", client_caching},
    {"client|help", client_help},
    {NULL, NULL},
};
