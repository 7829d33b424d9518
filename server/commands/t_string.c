/* t_string.c - the string commands: GET SET SETNX SETEX PSETEX MGET MSET
 * MSETNX GETSET GETDEL GETEX INCR DECR INCRBY DECRBY INCRBYFLOAT APPEND
 * STRLEN GETRANGE/SUBSTR SETRANGE.
 *
 * Replies, errors and their order follow Redis 7.0's t_string.c:
 *  - SET/GETEX option parsing is Redis's parseExtendedStringArgumentsOrReply:
 *    an option that conflicts with an earlier one (NX after XX, EX after
 *    PX, KEEPTTL after EX, ...) is a plain "syntax error"; repeating the
 *    same option is allowed and the last value wins ("EX 10 EX 20").  NX
 *    and GET may be combined (7.0).  The expire value is only parsed after
 *    all options; then GET's type check; then NX/XX.
 *  - A SET with an expire time in the past stores the key with that time
 *    (it is gone on the next access), as 7.0 does; GETEX with EXAT/PXAT in
 *    the past deletes the key after replying with its value.
 *  - GETEX on a missing key replies null without validating the time.
 *  - MGET replies null for keys of another type instead of an error.
 *  - Encodings are what OBJECT ENCODING would show in Redis: values from a
 *    client go through tryObjectEncoding (int / embstr <= 44 bytes / raw);
 *    APPEND and SETRANGE on an existing key always leave a raw string
 *    (even appending ""), SETRANGE creating a key makes it raw, INCR & co
 *    store an int, INCRBYFLOAT stores its formatted result as a fresh
 *    string (embstr or raw, never int).
 *  - Overwrites by INCR/INCRBYFLOAT/APPEND/SETRANGE keep the key's TTL;
 *    SET (without KEEPTTL), GETSET, MSET drop it.
 *  - INCRBYFLOAT parses with Redis's string2ld rules (no leading space,
 *    no trailing bytes, hex floats accepted, underflow to zero rejected) and
 *    formats with %.17Lf minus trailing zeros.
 *  - APPEND/SETRANGE refuse results larger than proto-max-bulk-len,
 *    overflow included, except for clients replaying a file.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "keyspace.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "util.h"

/* Redis's MAX_LONG_DOUBLE_CHARS: limits both the INCRBYFLOAT input and
 * its formatted output. */
#define MAX_LONG_DOUBLE_CHARS (5 * 1024)

/* ---------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------- */

static void reply_string_value(struct client *c, const struct value *v)
{
    if (v->enc == ENC_INT)
        reply_bulk_ll(c, v->u.ival);
    else
        reply_bulk_sstr(c, v->u.str);
}

/* A string value as a long long, with Redis's strict string2ll rules. */
static int string_value_to_ll(const struct value *v, long long *out)
{
    if (v->enc == ENC_INT) {
        *out = v->u.ival;
        return 1;
    }
    return string2ll(v->u.str, sstr_len(v->u.str), out);
}

/* Redis's string2ld(): unlike strtold alone, rejects leading space,
 * trailing bytes, NaN, overflow, and underflow to zero (but accepts a
 * denormal result). */
static int parse_long_double(const char *s, size_t len, long double *out)
{
    char buf[MAX_LONG_DOUBLE_CHARS];
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (isspace((unsigned char)buf[0]) || end[0] != '\0' || (size_t)(end - buf) != len ||
        (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL || fpclassify(v) == FP_ZERO)) || errno == EINVAL ||
        isnan(v))
        return 0;
    *out = v;
    return 1;
}

static int string_value_to_ld(const struct value *v, long double *out)
{
    if (v->enc == ENC_INT) {
        *out = (long double)v->u.ival;
        return 1;
    }
    return parse_long_double(v->u.str, sstr_len(v->u.str), out);
}

/* Redis's checkStringLength(): would a string of size+append bytes be too
 * long?  Replies with the error if so. */
static int check_string_length(struct client *c, size_t size, size_t append)
{
    if (c->flags & CLIENT_LOADING_CLIENT)
        return 0; /* replaying a file: obey, as Redis obeys its master/AOF */
    uint64_t total = (uint64_t)size + append;
    if (total > (uint64_t)srv.proto_max_bulk_len || total < size || total < append) {
        reply_error(c, "string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

/* Store a value under a key (Redis's setKey): overwrite, drop the TTL
 * unless keep_ttl, signal WATCH.  The caller counts dirty. */
static void set_key(struct client *c, const struct arg *key, struct value *v, int keep_ttl)
{
    db_set(c->db, key->ptr, key->len, v, keep_ttl);
    db_signal_modified(c->db, key->ptr, key->len);
}

/* Redis's getGenericCommand(): reply with the value or null; -1 (after
 * replying WRONGTYPE) when the key holds another type. */
static int get_generic(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_null(c);
        return 0;
    }
    if (v->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    reply_string_value(c, v);
    return 0;
}

/* ---------------------------------------------------------------------
 * SET and friends
 * ------------------------------------------------------------------- */

#define OBJ_SET_NX (1 << 0)
#define OBJ_SET_XX (1 << 1)
#define OBJ_EX (1 << 2)
#define OBJ_PX (1 << 3)
#define OBJ_KEEPTTL (1 << 4)
#define OBJ_SET_GET (1 << 5)
#define OBJ_EXAT (1 << 6)
#define OBJ_PXAT (1 << 7)
#define OBJ_PERSIST (1 << 8)

#define OBJ_ANY_EXPIRE (OBJ_EX | OBJ_PX | OBJ_EXAT | OBJ_PXAT)

enum parse_mode { PARSE_SET, PARSE_GETEX };

/* Redis's parseExtendedStringArgumentsOrReply(), condition for condition:
 * each option is refused (syntax error) when a conflicting one was seen
 * before it, and an expire option needs a following argument. */
static int parse_string_options(struct client *c, int *flags, const struct arg **expire, enum parse_mode mode)
{
    int j = mode == PARSE_GETEX ? 2 : 3;
    for (; j < c->argc; j++) {
        const struct arg *opt = &c->argv[j];
        const struct arg *next = j == c->argc - 1 ? NULL : &c->argv[j + 1];
        int f = *flags;

        if (ks_opt_is(opt, "nx") && !(f & OBJ_SET_XX) && mode == PARSE_SET) {
            *flags |= OBJ_SET_NX;
        } else if (ks_opt_is(opt, "xx") && !(f & OBJ_SET_NX) && mode == PARSE_SET) {
            *flags |= OBJ_SET_XX;
        } else if (ks_opt_is(opt, "get") && mode == PARSE_SET) {
            *flags |= OBJ_SET_GET;
        } else if (ks_opt_is(opt, "keepttl") && !(f & (OBJ_PERSIST | OBJ_ANY_EXPIRE)) && mode == PARSE_SET) {
            *flags |= OBJ_KEEPTTL;
        } else if (ks_opt_is(opt, "persist") && mode == PARSE_GETEX && !(f & (OBJ_ANY_EXPIRE | OBJ_KEEPTTL))) {
            *flags |= OBJ_PERSIST;
        } else if (ks_opt_is(opt, "ex") && !(f & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EXAT | OBJ_PX | OBJ_PXAT)) &&
                   next) {
            *flags |= OBJ_EX;
            *expire = next;
            j++;
        } else if (ks_opt_is(opt, "px") && !(f & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PXAT)) &&
                   next) {
            *flags |= OBJ_PX;
            *expire = next;
            j++;
        } else if (ks_opt_is(opt, "exat") && !(f & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_PX | OBJ_PXAT)) &&
                   next) {
            *flags |= OBJ_EXAT;
            *expire = next;
            j++;
        } else if (ks_opt_is(opt, "pxat") && !(f & (OBJ_KEEPTTL | OBJ_PERSIST | OBJ_EX | OBJ_EXAT | OBJ_PX)) &&
                   next) {
            *flags |= OBJ_PXAT;
            *expire = next;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    return 0;
}

/* Parse the expire argument selected by `flags` into an absolute time. */
static int parse_flag_expire(struct client *c, int flags, const struct arg *expire, long long *when)
{
    int seconds = (flags & (OBJ_EX | OBJ_EXAT)) != 0;
    int relative = (flags & (OBJ_EX | OBJ_PX)) != 0;
    return ks_parse_set_expire(c, expire, seconds, relative, when);
}

enum set_reply { SET_REPLY_OK, SET_REPLY_INT }; /* +OK / null, or :1 / :0 */

/* Redis's setGenericCommand(). */
static void set_generic(struct client *c, int flags, const struct arg *key, const struct arg *val,
                        const struct arg *expire, enum set_reply rk)
{
    long long when = 0;

    if (expire && parse_flag_expire(c, flags, expire, &when) != 0)
        return;
    if ((flags & OBJ_SET_GET) && get_generic(c) != 0)
        return;

    int found = db_lookup_write(c->db, key->ptr, key->len) != NULL;
    if (((flags & OBJ_SET_NX) && found) || ((flags & OBJ_SET_XX) && !found)) {
        /* with GET the old value (or null) has been sent already */
        if (!(flags & OBJ_SET_GET)) {
            if (rk == SET_REPLY_INT)
                reply_int(c, 0);
            else
                reply_null(c);
        }
        return;
    }

    set_key(c, key, value_string_new(val->ptr, val->len), (flags & OBJ_KEEPTTL) != 0);
    srv.dirty++;
    if (expire) {
        db_set_expire(c->db, key->ptr, key->len, when);
        /* recorded as SET key value PXAT <absolute ms>, as Redis 7.0
         * propagates it: a replay sets the same instant */
        char ms[32];
        int n = ll2string(ms, sizeof(ms), when);
        struct arg rec[5] = {{"SET", 3}, *key, *val, {"PXAT", 4}, {ms, (size_t)n}};
        propagate_rewrite(c, 5, rec);
    } else if (flags & OBJ_SET_GET) {
        /* recorded without GET (a replay has no one to reply to) */
        struct arg *rec = mem_alloc(sizeof(*rec) * (size_t)c->argc);
        int n = 0;
        for (int j = 0; j < c->argc; j++)
            if (j < 3 || !ks_opt_is(&c->argv[j], "get"))
                rec[n++] = c->argv[j];
        propagate_rewrite(c, n, rec);
        mem_free(rec);
    }

    if (!(flags & OBJ_SET_GET)) {
        if (rk == SET_REPLY_INT)
            reply_int(c, 1);
        else
            reply_ok(c);
    }
}

/* SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL] */
static void set_command(struct client *c)
{
    int flags = 0;
    const struct arg *expire = NULL;
    if (parse_string_options(c, &flags, &expire, PARSE_SET) != 0)
        return;
    set_generic(c, flags, &c->argv[1], &c->argv[2], expire, SET_REPLY_OK);
}

static void setnx_command(struct client *c)
{
    set_generic(c, OBJ_SET_NX, &c->argv[1], &c->argv[2], NULL, SET_REPLY_INT);
}

static void setex_command(struct client *c)
{
    set_generic(c, OBJ_EX, &c->argv[1], &c->argv[3], &c->argv[2], SET_REPLY_OK);
}

static void psetex_command(struct client *c)
{
    set_generic(c, OBJ_PX, &c->argv[1], &c->argv[3], &c->argv[2], SET_REPLY_OK);
}

static void get_command(struct client *c) { get_generic(c); }

static void getset_command(struct client *c)
{
    if (get_generic(c) != 0)
        return;
    set_key(c, &c->argv[1], value_string_new(c->argv[2].ptr, c->argv[2].len), 0);
    srv.dirty++;
}

static void getdel_command(struct client *c)
{
    if (get_generic(c) != 0)
        return;
    if (db_delete(c->db, c->argv[1].ptr, c->argv[1].len)) {
        db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
        srv.dirty++;
        /* recorded as the DEL/UNLINK it amounts to, as Redis 7.0 */
        struct arg rec[2] = {srv.lazyfree_lazy_user_del ? (struct arg){"UNLINK", 6} : (struct arg){"DEL", 3},
                             c->argv[1]};
        propagate_rewrite(c, 2, rec);
    }
}

/* GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST] */
static void getex_command(struct client *c)
{
    const struct arg *key = &c->argv[1];
    int flags = 0;
    const struct arg *expire = NULL;

    if (parse_string_options(c, &flags, &expire, PARSE_GETEX) != 0)
        return;

    struct value *v = db_lookup_read(c->db, key->ptr, key->len);
    if (!v) {
        reply_null(c);
        return;
    }
    if (v->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }

    long long when = 0;
    if (expire && parse_flag_expire(c, flags, expire, &when) != 0)
        return;

    /* reply before the key may be deleted below */
    reply_string_value(c, v);

    /* recorded as Redis 7.0 propagates GETEX: DEL, PEXPIREAT <abs ms>
     * (PXAT as sent), PERSIST */
    if ((flags & (OBJ_EXAT | OBJ_PXAT)) && ks_already_expired(when)) {
        db_delete(c->db, key->ptr, key->len);
        db_signal_modified(c->db, key->ptr, key->len);
        srv.dirty++;
        struct arg rec[2] = {{"DEL", 3}, *key};
        propagate_rewrite(c, 2, rec);
    } else if (expire) {
        db_set_expire(c->db, key->ptr, key->len, when);
        db_signal_modified(c->db, key->ptr, key->len);
        srv.dirty++;
        if (!(flags & OBJ_PXAT)) {
            char ms[32];
            int n = ll2string(ms, sizeof(ms), when);
            struct arg rec[3] = {{"PEXPIREAT", 9}, *key, {ms, (size_t)n}};
            propagate_rewrite(c, 3, rec);
        }
    } else if (flags & OBJ_PERSIST) {
        if (db_remove_expire(c->db, key->ptr, key->len)) {
            db_signal_modified(c->db, key->ptr, key->len);
            srv.dirty++;
            struct arg rec[2] = {{"PERSIST", 7}, *key};
            propagate_rewrite(c, 2, rec);
        }
    }
}

static void mget_command(struct client *c)
{
    reply_array_len(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        struct value *v = db_lookup_read(c->db, c->argv[j].ptr, c->argv[j].len);
        /* another type is not an error here, just "no string value" */
        if (!v || v->type != OBJ_STRING)
            reply_null(c);
        else
            reply_string_value(c, v);
    }
}

static void mset_generic(struct client *c, int nx)
{
    /* the table's arity (-3) lets an even argc through: Redis checks here */
    if (c->argc % 2 == 0) {
        reply_errorf(c, "wrong number of arguments for '%s' command", ks_command_name(c));
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            if (db_lookup_write(c->db, c->argv[j].ptr, c->argv[j].len) != NULL) {
                reply_int(c, 0);
                return;
            }
        }
    }
    /* a key given twice is simply overwritten: the last value wins */
    for (int j = 1; j < c->argc; j += 2)
        set_key(c, &c->argv[j], value_string_new(c->argv[j + 1].ptr, c->argv[j + 1].len), 0);
    srv.dirty += (c->argc - 1) / 2;
    if (nx)
        reply_int(c, 1);
    else
        reply_ok(c);
}

static void mset_command(struct client *c) { mset_generic(c, 0); }
static void msetnx_command(struct client *c) { mset_generic(c, 1); }

/* ---------------------------------------------------------------------
 * Counters
 * ------------------------------------------------------------------- */

static void incr_decr(struct client *c, long long incr)
{
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    long long value = 0;

    if (v) {
        if (v->type != OBJ_STRING) {
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        if (!string_value_to_ll(v, &value)) {
            reply_error(c, ERR_NOT_INTEGER);
            return;
        }
    }
    if ((incr < 0 && value < 0 && incr < LLONG_MIN - value) || (incr > 0 && value > 0 && incr > LLONG_MAX - value)) {
        reply_error(c, ERR_OVERFLOW);
        return;
    }
    value += incr;

    if (v && v->enc == ENC_INT) {
        v->u.ival = value; /* in place: TTL and everything else unchanged */
    } else if (v) {
        db_set(c->db, key->ptr, key->len, value_string_from_ll(value), 1);
    } else {
        db_add(c->db, key->ptr, key->len, value_string_from_ll(value));
    }
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
    reply_int(c, value);
}

static void incr_command(struct client *c) { incr_decr(c, 1); }
static void decr_command(struct client *c) { incr_decr(c, -1); }

static void incrby_command(struct client *c)
{
    long long incr;
    if (arg_ll(c, &c->argv[2], &incr, NULL) != 0)
        return;
    incr_decr(c, incr);
}

static void decrby_command(struct client *c)
{
    long long incr;
    if (arg_ll(c, &c->argv[2], &incr, NULL) != 0)
        return;
    /* -LLONG_MIN does not exist */
    if (incr == LLONG_MIN) {
        reply_error(c, "decrement would overflow");
        return;
    }
    incr_decr(c, -incr);
}

static void incrbyfloat_command(struct client *c)
{
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    long double value = 0, incr;

    if (v && v->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    if ((v && !string_value_to_ld(v, &value)) || !parse_long_double(c->argv[2].ptr, c->argv[2].len, &incr)) {
        reply_error(c, ERR_NOT_FLOAT);
        return;
    }
    value += incr;
    if (isnan(value) || isinf(value)) {
        reply_error(c, "increment would produce NaN or Infinity");
        return;
    }

    /* a fresh string object, as createStringObjectFromLongDouble(): never
     * int-encoded, even when the result is integral */
    char *buf = mem_alloc(MAX_LONG_DOUBLE_CHARS);
    int len = ld2string(buf, MAX_LONG_DOUBLE_CHARS, value);
    if (len < 0)
        len = 0;
    struct value *nv = value_new(OBJ_STRING, len <= EMBSTR_SIZE_LIMIT ? ENC_EMBSTR : ENC_RAW,
                                 sstr_new(buf, (size_t)len));
    mem_free(buf);

    if (v)
        db_set(c->db, key->ptr, key->len, nv, 1);
    else
        db_add(c->db, key->ptr, key->len, nv);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
    /* recorded as SET key <result> KEEPTTL (Redis 7.0): a replay must not
     * depend on float formatting */
    struct arg rec[4] = {{"SET", 3}, *key, {nv->u.str, sstr_len(nv->u.str)}, {"KEEPTTL", 7}};
    propagate_rewrite(c, 4, rec);
    reply_bulk_sstr(c, nv->u.str);
}

/* ---------------------------------------------------------------------
 * Byte-level commands
 * ------------------------------------------------------------------- */

static void append_command(struct client *c)
{
    const struct arg *key = &c->argv[1], *add = &c->argv[2];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    size_t total;

    if (!v) {
        /* a new key is encoded as SET would encode it */
        v = value_string_new(add->ptr, add->len);
        db_add(c->db, key->ptr, key->len, v);
        total = add->len;
    } else {
        if (v->type != OBJ_STRING) {
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        if (check_string_length(c, value_string_len(v), add->len) != 0)
            return;
        /* always raw afterwards, even when appending nothing */
        sstr s = value_string_make_raw(v);
        v->u.str = sstr_cat(s, add->ptr, add->len);
        total = sstr_len(v->u.str);
    }
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
    reply_int(c, (long long)total);
}

static void strlen_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    if (v->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }
    reply_int(c, (long long)value_string_len(v));
}

/* GETRANGE key start end (and its old name SUBSTR) */
static void getrange_command(struct client *c)
{
    long long start, end;
    if (arg_ll(c, &c->argv[2], &start, NULL) != 0 || arg_ll(c, &c->argv[3], &end, NULL) != 0)
        return;

    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_bulk(c, "", 0); /* an empty string, not null, even in RESP3 */
        return;
    }
    if (v->type != OBJ_STRING) {
        reply_error(c, ERR_WRONGTYPE);
        return;
    }

    char buf[32];
    size_t slen;
    const char *str = value_string_bytes(v, buf, &slen);

    if (start < 0 && end < 0 && start > end) {
        reply_bulk(c, "", 0);
        return;
    }
    if (start < 0)
        start += (long long)slen;
    if (end < 0)
        end += (long long)slen;
    if (start < 0)
        start = 0;
    if (end < 0)
        end = 0;
    if ((unsigned long long)end >= slen)
        end = (long long)slen - 1;
    if (start > end || slen == 0)
        reply_bulk(c, "", 0);
    else
        reply_bulk(c, str + start, (size_t)(end - start + 1));
}

/* SETRANGE key offset value */
static void setrange_command(struct client *c)
{
    const struct arg *key = &c->argv[1], *val = &c->argv[3];
    long long offset;

    if (arg_ll(c, &c->argv[2], &offset, NULL) != 0)
        return;
    if (offset < 0) {
        reply_error(c, "offset is out of range");
        return;
    }

    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        /* setting nothing on a missing key creates nothing */
        if (val->len == 0) {
            reply_int(c, 0);
            return;
        }
        if (check_string_length(c, (size_t)offset, val->len) != 0)
            return;
        size_t total = (size_t)offset + val->len;
        sstr s = sstr_grow_zero(sstr_empty(total), total);
        v = value_new(OBJ_STRING, ENC_RAW, s);
        db_add(c->db, key->ptr, key->len, v);
    } else {
        if (v->type != OBJ_STRING) {
            reply_error(c, ERR_WRONGTYPE);
            return;
        }
        /* setting nothing: report the length, leave the value (and its
         * encoding) alone */
        if (val->len == 0) {
            reply_int(c, (long long)value_string_len(v));
            return;
        }
        if (check_string_length(c, (size_t)offset, val->len) != 0)
            return;
        sstr s = value_string_make_raw(v);
        v->u.str = sstr_grow_zero(s, (size_t)offset + val->len);
    }

    memcpy(v->u.str + offset, val->ptr, val->len);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
    reply_int(c, (long long)sstr_len(v->u.str));
}

const struct command_impl string_commands[] = {
    {"get", get_command},
    {"set", set_command},
    {"setnx", setnx_command},
    {"setex", setex_command},
    {"psetex", psetex_command},
    {"mget", mget_command},
    {"mset", mset_command},
    {"msetnx", msetnx_command},
    {"getset", getset_command},
    {"getdel", getdel_command},
    {"getex", getex_command},
    {"incr", incr_command},
    {"decr", decr_command},
    {"incrby", incrby_command},
    {"decrby", decrby_command},
    {"incrbyfloat", incrbyfloat_command},
    {"append", append_command},
    {"strlen", strlen_command},
    {"getrange", getrange_command},
    {"substr", getrange_command},
    {"setrange", setrange_command},
    {NULL, NULL},
};
