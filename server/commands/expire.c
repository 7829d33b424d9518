/* expire.c - key time-to-live commands: EXPIRE PEXPIRE EXPIREAT PEXPIREAT
 * (with NX XX GT LT), TTL PTTL EXPIRETIME PEXPIRETIME PERSIST, plus the
 * helpers of keyspace.h shared with SET/GETEX and the keyspace commands.
 *
 * Redis 7.0 semantics reproduced here:
 *  - Options are validated before the time argument is parsed, so
 *    "EXPIRE k abc foo" reports "Unsupported option foo", and the option
 *    compatibility errors come before "not an integer".
 *  - EXPIRE/EXPIREAT reject seconds that overflow when turned into ms, and
 *    all four reject a time that overflows when the base time is added:
 *    "invalid expire time in '<cmd>' command".  Negative times are fine.
 *  - The key is looked up only after all that (a missing key replies 0
 *    even for a valid time).
 *  - GT treats "no TTL" as infinite (GT always fails on a persistent key),
 *    LT treats it as infinite too (LT always succeeds on one).
 *  - A time that is already in the past deletes the key: that is a write
 *    (dirty++, WATCH is touched) and replies 1.
 *  - TTL/PTTL: -2 for a missing key, -1 for no TTL, else the remaining time
 *    clamped at 0; TTL and EXPIRETIME round to the nearest second
 *    ((ms+500)/1000), EXPIRETIME included, as Redis does.
 *  - The TTL family looks keys up without touching the LRU clock.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "keyspace.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "util.h"

/* ---------------------------------------------------------------------
 * Shared helpers (keyspace.h)
 * ------------------------------------------------------------------- */

const char *ks_command_name(struct client *c)
{
    if (c->cmd && c->cmd->fullname)
        return c->cmd->fullname;
    /* Not dispatched through the table (should not happen): fall back to
     * the name as sent, lower-cased like Redis's command names. */
    static char buf[64];
    size_t n = c->argc > 0 ? c->argv[0].len : 0;
    if (n >= sizeof(buf))
        n = sizeof(buf) - 1;
    for (size_t i = 0; i < n; i++) {
        char ch = c->argv[0].ptr[i];
        buf[i] = (ch >= 'A' && ch <= 'Z') ? (char)(ch - 'A' + 'a') : ch;
    }
    buf[n] = '\0';
    return buf;
}

void ks_reply_invalid_expire(struct client *c)
{
    reply_errorf(c, "invalid expire time in '%s' command", ks_command_name(c));
}

long long ks_now_ms(void)
{
    /* The same clock the keyspace uses to decide that a key has expired,
     * so a TTL set now and checked now always agree. */
    return server_mstime();
}

int ks_already_expired(long long when_ms)
{
    /* a replica stores what its master sends, TTL and all */
    return when_ms <= ks_now_ms() && !srv.loading && !srv.masterhost;
}

int ks_parse_set_expire(struct client *c, const struct arg *a, int unit_seconds, int relative, long long *when_ms)
{
    long long ms;
    if (arg_ll(c, a, &ms, NULL) != 0)
        return -1;
    /* zero/negative, or a second count that overflows when scaled */
    if (ms <= 0 || (unit_seconds && ms > LLONG_MAX / 1000)) {
        ks_reply_invalid_expire(c);
        return -1;
    }
    if (unit_seconds)
        ms *= 1000;
    if (relative) {
        /* Redis adds and then checks the sign; do the same without the
         * signed-overflow undefined behaviour. */
        ms = (long long)((unsigned long long)ms + (unsigned long long)ks_now_ms());
    }
    if (ms <= 0) {
        ks_reply_invalid_expire(c);
        return -1;
    }
    *when_ms = ms;
    return 0;
}

struct value *ks_lookup_read_notouch(struct db *db, const char *key, size_t len)
{
    db_expire_if_needed(db, key, len);
    struct value *v = db_peek(db, key, len);
    if (v)
        srv.stat_keyspace_hits++;
    else
        srv.stat_keyspace_misses++;
    return v;
}

/* ---------------------------------------------------------------------
 * EXPIRE family
 * ------------------------------------------------------------------- */

#define EXPIRE_NX (1 << 0)
#define EXPIRE_XX (1 << 1)
#define EXPIRE_GT (1 << 2)
#define EXPIRE_LT (1 << 3)

static int parse_expire_flags(struct client *c, int *flags)
{
    for (int j = 3; j < c->argc; j++) {
        const struct arg *a = &c->argv[j];
        if (ks_opt_is(a, "nx")) {
            *flags |= EXPIRE_NX;
        } else if (ks_opt_is(a, "xx")) {
            *flags |= EXPIRE_XX;
        } else if (ks_opt_is(a, "gt")) {
            *flags |= EXPIRE_GT;
        } else if (ks_opt_is(a, "lt")) {
            *flags |= EXPIRE_LT;
        } else {
            /* Redis formats the option with %s: it stops at a NUL byte */
            const char *nul = memchr(a->ptr, '\0', a->len);
            int len = (int)(nul ? (size_t)(nul - a->ptr) : a->len);
            reply_errorf(c, "Unsupported option %.*s", len, a->ptr);
            return -1;
        }
    }
    if ((*flags & EXPIRE_NX) && (*flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT))) {
        reply_error(c, "NX and XX, GT or LT options at the same time are not compatible");
        return -1;
    }
    if ((*flags & EXPIRE_GT) && (*flags & EXPIRE_LT)) {
        reply_error(c, "GT and LT options at the same time are not compatible");
        return -1;
    }
    return 0;
}

/* basetime: 0 for the *AT forms, now for the relative ones. */
static void expire_generic(struct client *c, long long basetime, int unit_seconds)
{
    const char *key = c->argv[1].ptr;
    size_t keylen = c->argv[1].len;
    int flags = 0;
    long long when;

    if (parse_expire_flags(c, &flags) != 0)
        return;
    if (arg_ll(c, &c->argv[2], &when, NULL) != 0)
        return;

    /* negative times are allowed; only overflow is an error */
    if (unit_seconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) {
            ks_reply_invalid_expire(c);
            return;
        }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) {
        ks_reply_invalid_expire(c);
        return;
    }
    when += basetime;

    if (db_lookup_write(c->db, key, keylen) == NULL) {
        reply_int(c, 0);
        return;
    }

    if (flags) {
        long long current = db_get_expire(c->db, key, keylen);
        if ((flags & EXPIRE_NX) && current != -1) {
            reply_int(c, 0);
            return;
        }
        if ((flags & EXPIRE_XX) && current == -1) {
            reply_int(c, 0);
            return;
        }
        /* no TTL counts as an infinite one */
        if ((flags & EXPIRE_GT) && (current == -1 || when <= current)) {
            reply_int(c, 0);
            return;
        }
        if ((flags & EXPIRE_LT) && current != -1 && when >= current) {
            reply_int(c, 0);
            return;
        }
    }

    if (ks_already_expired(when)) {
        db_delete(c->db, key, keylen);
        /* recorded as the DEL it amounts to (Redis 7.0) */
        struct arg rec[2] = {{"DEL", 3}, c->argv[1]};
        propagate_rewrite(c, 2, rec);
    } else {
        db_set_expire(c->db, key, keylen, when);
        /* recorded as PEXPIREAT <absolute ms>, options kept, as Redis 7.0
         * propagates every form: a replay sets the same instant */
        char ms[32];
        int n = ll2string(ms, sizeof(ms), when);
        struct arg *rec = mem_alloc(sizeof(*rec) * (size_t)c->argc);
        rec[0] = (struct arg){"PEXPIREAT", 9};
        rec[1] = c->argv[1];
        rec[2] = (struct arg){ms, (size_t)n};
        for (int j = 3; j < c->argc; j++)
            rec[j] = c->argv[j];
        propagate_rewrite(c, c->argc, rec);
        mem_free(rec);
    }
    db_signal_modified(c->db, key, keylen);
    srv.dirty++;
    reply_int(c, 1);
}

static void expire_command(struct client *c) { expire_generic(c, ks_now_ms(), 1); }
static void pexpire_command(struct client *c) { expire_generic(c, ks_now_ms(), 0); }
static void expireat_command(struct client *c) { expire_generic(c, 0, 1); }
static void pexpireat_command(struct client *c) { expire_generic(c, 0, 0); }

/* ---------------------------------------------------------------------
 * TTL family
 * ------------------------------------------------------------------- */

static void ttl_generic(struct client *c, int output_ms, int output_abs)
{
    const char *key = c->argv[1].ptr;
    size_t keylen = c->argv[1].len;

    if (ks_lookup_read_notouch(c->db, key, keylen) == NULL) {
        reply_int(c, -2);
        return;
    }
    long long expire = db_get_expire(c->db, key, keylen);
    if (expire == -1) {
        reply_int(c, -1);
        return;
    }
    long long ttl = output_abs ? expire : expire - ks_now_ms();
    if (ttl < 0)
        ttl = 0;
    reply_int(c, output_ms ? ttl : (ttl + 500) / 1000);
}

static void ttl_command(struct client *c) { ttl_generic(c, 0, 0); }
static void pttl_command(struct client *c) { ttl_generic(c, 1, 0); }
static void expiretime_command(struct client *c) { ttl_generic(c, 0, 1); }
static void pexpiretime_command(struct client *c) { ttl_generic(c, 1, 1); }

static void persist_command(struct client *c)
{
    const char *key = c->argv[1].ptr;
    size_t keylen = c->argv[1].len;

    if (db_lookup_write(c->db, key, keylen) && db_remove_expire(c->db, key, keylen)) {
        db_signal_modified(c->db, key, keylen);
        srv.dirty++;
        reply_int(c, 1);
    } else {
        reply_int(c, 0);
    }
}

const struct command_impl expire_commands[] = {
    {"expire", expire_command},
    {"pexpire", pexpire_command},
    {"expireat", expireat_command},
    {"pexpireat", pexpireat_command},
    {"ttl", ttl_command},
    {"pttl", pttl_command},
    {"expiretime", expiretime_command},
    {"pexpiretime", pexpiretime_command},
    {"persist", persist_command},
    {NULL, NULL},
};
