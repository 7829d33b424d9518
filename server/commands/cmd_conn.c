/* cmd_conn.c - connection commands: PING ECHO QUIT RESET HELLO AUTH.
 *
 * Authentication follows Redis 7.0 with only the default user: with no
 * requirepass every client is authenticated and AUTH with one argument is
 * an error; "AUTH default <any>" succeeds (the default user is nopass).
 * With requirepass, the password must match, and HELLO can authenticate
 * and switch protocol in one step.
 */
#include <string.h>

#include "blocking.h"
#include "introspection.h"
#include "server.h"
#include "util.h"

static const char wrongpass[] = "-WRONGPASS invalid username-password pair or user is disabled.";

static int nopass(void) { return !srv.requirepass || !srv.requirepass[0]; }

/* Constant-time comparison: a password check must not leak its length of
 * matching prefix through timing. */
static int secure_equal(const char *a, size_t alen, const char *b, size_t blen)
{
    unsigned diff = (unsigned)(alen ^ blen);
    for (size_t i = 0; i < alen; i++)
        diff |= (unsigned char)a[i] ^ (unsigned char)b[i % (blen ? blen : 1)];
    return diff == 0;
}

static int check_credentials(const struct arg *user, const struct arg *pass)
{
    /* only the default user exists; user names are case-sensitive */
    if (user->len != 7 || memcmp(user->ptr, "default", 7) != 0)
        return 0;
    if (nopass())
        return 1;
    return secure_equal(pass->ptr, pass->len, srv.requirepass, strlen(srv.requirepass));
}

static void ping_command(struct client *c)
{
    if (c->argc > 2) {
        reply_errorf(c, "wrong number of arguments for '%s' command", c->cmd->fullname);
        return;
    }
    if (c->argc == 1)
        reply_raw(c, "+PONG\r\n", 7);
    else
        reply_bulk(c, c->argv[1].ptr, c->argv[1].len);
}

static void echo_command(struct client *c) { reply_bulk(c, c->argv[1].ptr, c->argv[1].len); }

static void quit_command(struct client *c)
{
    reply_ok(c);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

static void auth_command(struct client *c)
{
    if (c->argc > 3) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    struct arg def = {"default", 7};
    const struct arg *user = &def, *pass;
    if (c->argc == 2) {
        if (nopass()) {
            reply_error(c, "AUTH <password> called without any password configured for the default user. "
                           "Are you sure your configuration is correct?");
            return;
        }
        pass = &c->argv[1];
    } else {
        user = &c->argv[1];
        pass = &c->argv[2];
    }
    if (check_credentials(user, pass)) {
        c->authenticated = 1;
        reply_ok(c);
    } else {
        reply_error(c, wrongpass);
    }
}

static void hello_command(struct client *c)
{
    long long ver = 0;
    int next = 1;
    if (c->argc >= 2) {
        if (arg_ll(c, &c->argv[next++], &ver, "Protocol version is not an integer or out of range") < 0)
            return;
        if (ver < 2 || ver > 3) {
            reply_error(c, "-NOPROTO unsupported protocol version");
            return;
        }
    }
    const struct arg *user = NULL, *pass = NULL, *name = NULL;
    for (int j = next; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "AUTH") && more >= 2) {
            user = &c->argv[j + 1];
            pass = &c->argv[j + 2];
            j += 2;
        } else if (arg_is(&c->argv[j], "SETNAME") && more) {
            name = &c->argv[j + 1];
            j++;
        } else {
            reply_errorf(c, "Syntax error in HELLO option '%.*s'", (int)strnlen(c->argv[j].ptr, c->argv[j].len),
                         c->argv[j].ptr);
            return;
        }
    }
    if (user && pass) {
        if (!check_credentials(user, pass)) {
            reply_error(c, wrongpass);
            return;
        }
        c->authenticated = 1;
    }
    if (!c->authenticated) {
        reply_error(c, "-NOAUTH HELLO must be called with the client already authenticated, otherwise the "
                       "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
                       "select the RESP protocol version at the same time");
        return;
    }
    if (name && client_setname_or_reply(c, name->ptr, name->len) < 0)
        return;
    if (ver)
        c->resp = (int)ver;
    reply_map_len(c, 7);
    reply_bulk_cstr(c, "server");
    reply_bulk_cstr(c, "redis");
    reply_bulk_cstr(c, "version");
    reply_bulk_cstr(c, REDIS_COMPAT_VERSION);
    reply_bulk_cstr(c, "proto");
    reply_int(c, c->resp);
    reply_bulk_cstr(c, "id");
    reply_int(c, (long long)c->id);
    reply_bulk_cstr(c, "mode");
    reply_bulk_cstr(c, "standalone");
    reply_bulk_cstr(c, "role");
    reply_bulk_cstr(c, "master");
    reply_bulk_cstr(c, "modules");
    reply_array_len(c, 0);
}

static void reset_command(struct client *c)
{
    if (c->flags & CLIENT_MONITOR) {
        list_del(&srv.monitors, &c->monitor_node);
        c->flags &= ~CLIENT_MONITOR;
    }
    c->db = srv.dbs[0];
    c->resp = 2;
    c->authenticated = nopass();
    multi_discard(c);
    watch_unwatch_all(c);
    sstr_free(c->name);
    c->name = NULL;
    c->acks = -1; /* CLIENT ACKS back to the directive */
    c->flags &= ~(CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP_NEXT | CLIENT_NO_EVICT);
    reply_status(c, "RESET");
}

const struct command_impl conn_commands[] = {
    {"ping", ping_command},   {"echo", echo_command},   {"quit", quit_command}, {"auth", auth_command},
    {"hello", hello_command}, {"reset", reset_command}, {NULL, NULL},
};
