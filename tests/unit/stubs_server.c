/* stubs_server.c - what config.c needs from the server, for unit tests
 * that link config.c without networking.
 *
 * Replies are not sent anywhere: they are recorded as text in stub_reply
 * ("+OK", "-ERR ...", "%2" for a map header, "$value" for a bulk), one per
 * line, so a test can run a CONFIG subcommand handler on a fake client and
 * compare what it answered.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "server.h"

struct server srv;

sstr stub_reply;            /* recorded replies; tests clear it */
int stub_listen_fail;       /* make server_apply_listen_config() fail */
int stub_listen_calls;
int stub_reset_stats_calls;

const char *const ERR_SYNTAX = "syntax error";

static void record(const char *prefix, const char *p, size_t len)
{
    if (!stub_reply)
        stub_reply = sstr_empty(256);
    stub_reply = sstr_cats(stub_reply, prefix);
    stub_reply = sstr_cat(stub_reply, p, len);
    stub_reply = sstr_cat(stub_reply, "\n", 1);
}

void reply_ok(struct client *c) { record("+", "OK", 2); }

void reply_error_len(struct client *c, const char *msg, size_t len)
{
    if (len && msg[0] == '-')
        record("", msg, len);
    else
        record("-ERR ", msg, len);
}

void reply_error(struct client *c, const char *msg) { reply_error_len(c, msg, strlen(msg)); }

void reply_errorf(struct client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sstr s = sstr_catvfmt(sstr_empty(64), fmt, ap);
    va_end(ap);
    reply_error_len(c, s, sstr_len(s));
    sstr_free(s);
}

void reply_map_len(struct client *c, long n)
{
    char buf[32];
    int len = snprintf(buf, sizeof(buf), "%ld", n);
    record("%", buf, (size_t)len);
}

void reply_bulk(struct client *c, const void *p, size_t len) { record("$", p, len); }
void reply_bulk_sstr(struct client *c, sstr s) { record("$", s, sstr_len(s)); }
void reply_bulk_cstr(struct client *c, const char *s) { record("$", s, strlen(s)); }

void reply_help(struct client *c, const char *const *lines)
{
    while (*lines) {
        record("+", *lines, strlen(*lines));
        lines++;
    }
}

void server_reset_stats(void) { stub_reset_stats_calls++; }

int server_apply_listen_config(sstr *err)
{
    stub_listen_calls++;
    if (!stub_listen_fail)
        return 0;
    *err = sstr_cats(*err, "stub: cannot listen");
    return -1;
}

void server_log(int level, const char *fmt, ...) {}
