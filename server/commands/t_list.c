/* t_list.c - the list type: Redis's list commands over the queue log.
 *
 * Data layout: a list value is a struct value of type OBJ_LIST whose
 * payload is a qlog (qlog.h): packed segments of at most
 * list-max-listpack-size under a counted index, so pushes and pops at
 * either end are O(1) and positional access is O(log n).  An empty list is
 * never stored: the command that removes the last element deletes the key.
 *
 * Every command follows Redis 7.0's t_list.c to the order of its checks
 * (which argument is parsed first decides which error a bad call gets),
 * and its replies in RESP2 and RESP3.  OBJECT ENCODING reports "quicklist"
 * as Redis 7.0 does for every list.
 *
 * Blocking pops (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP) try their
 * non-blocking form first; with nothing to pop they block through
 * blocking.c, which runs them again when a key is signalled ready.
 */
#include <assert.h>
#include <limits.h>
#include <string.h>

#include "blocking.h"
#include "db.h"
#include "mem.h"
#include "propagate.h"
#include "qlog.h"
#include "server.h"
#include "util.h"

enum { HEAD = QLOG_HEAD, TAIL = QLOG_TAIL };

/* ---- the value type ----------------------------------------------------- */

static void list_free(void *p) { qlog_free(p); }
static void *list_dup(const void *p) { return qlog_dup(p); }
static size_t list_mem(const void *p) { return qlog_mem_usage(p); }
static const char *list_encoding(const struct value *v)
{
    (void)v;
    return "quicklist";
}

static const struct value_ops list_ops = {list_free, list_dup, list_mem, list_encoding};

void list_type_init(void) { value_register_type(OBJ_LIST, &list_ops); }

static struct value *list_new(void)
{
    return value_new(OBJ_LIST, ENC_QUICKLIST, qlog_create(srv.list_max_listpack_size));
}

static inline qlog *ql(struct value *v) { return v->u.ptr; }

/* Reply WRONGTYPE unless v is absent or a list; returns -1 on mismatch. */
static int check_list(struct client *c, struct value *v)
{
    if (v && v->type != OBJ_LIST) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    return 0;
}

static void reply_value(struct client *c, const qlog_value *v)
{
    if (v->is_int)
        reply_bulk_ll(c, v->ival);
    else
        reply_bulk(c, v->str, v->len);
}

/* Pop one element and reply it as a bulk string. */
static void pop_reply(struct client *c, qlog *log, int where)
{
    qlog_value v;
    char buf[256];
    int ok = where == HEAD ? qlog_pop_head(log, &v, buf, sizeof(buf)) : qlog_pop_tail(log, &v, buf, sizeof(buf));
    assert(ok);
    (void)ok;
    reply_value(c, &v);
    qlog_value_release(&v);
}

/* After removing elements: delete the key if the list emptied, tell
 * WATCH, count the changes (Redis's listElementsRemoved). */
static void elements_removed(struct client *c, const struct arg *key, struct value *list, long count)
{
    if (qlog_length(ql(list)) == 0)
        db_delete(c->db, key->ptr, key->len);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty += count;
}

/* Reply elements [start, end] (normalised as LRANGE does), reversed for
 * pops from the tail. */
static void range_reply(struct client *c, qlog *log, long long start, long long end, int reverse)
{
    long long llen = (long long)qlog_length(log);
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen) {
        reply_array_len(c, 0);
        return;
    }
    if (end >= llen)
        end = llen - 1;
    long long n = end - start + 1;
    reply_array_len(c, n);
    qlog_iter it;
    qlog_iter_init(&it, log, reverse ? end : start, reverse ? QLOG_BACKWARD : QLOG_FORWARD);
    qlog_value v;
    while (n-- && qlog_iter_next(&it, &v))
        reply_value(c, &v);
}

static int parse_where(struct client *c, const struct arg *a, int *where)
{
    if (arg_is(a, "right")) {
        *where = TAIL;
    } else if (arg_is(a, "left")) {
        *where = HEAD;
    } else {
        reply_error(c, ERR_SYNTAX);
        return -1;
    }
    return 0;
}

/* ---- pushes -------------------------------------------------------------- */

static void push_generic(struct client *c, int where, int only_existing)
{
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (check_list(c, v) < 0)
        return;
    if (!v) {
        if (only_existing) {
            reply_int(c, 0);
            return;
        }
        v = list_new();
        for (int j = 2; j < c->argc; j++) {
            if (where == HEAD)
                qlog_push_head(ql(v), c->argv[j].ptr, c->argv[j].len);
            else
                qlog_push_tail(ql(v), c->argv[j].ptr, c->argv[j].len);
        }
        db_add(c->db, key->ptr, key->len, v); /* signals the key ready */
    } else {
        for (int j = 2; j < c->argc; j++) {
            if (where == HEAD)
                qlog_push_head(ql(v), c->argv[j].ptr, c->argv[j].len);
            else
                qlog_push_tail(ql(v), c->argv[j].ptr, c->argv[j].len);
        }
        db_signal_key_ready(c->db, key->ptr, key->len);
    }
    reply_int(c, (long long)qlog_length(ql(v)));
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty += c->argc - 2;
}

static void lpush_command(struct client *c) { push_generic(c, HEAD, 0); }
static void rpush_command(struct client *c) { push_generic(c, TAIL, 0); }
static void lpushx_command(struct client *c) { push_generic(c, HEAD, 1); }
static void rpushx_command(struct client *c) { push_generic(c, TAIL, 1); }

/* ---- pops ------------------------------------------------------------------ */

static void pop_generic(struct client *c, int where)
{
    int hascount = c->argc == 3;
    long long count = 0;
    if (c->argc > 3) {
        reply_errorf(c, "wrong number of arguments for '%s' command", c->cmd->fullname);
        return;
    }
    if (hascount && arg_ll_range(c, &c->argv[2], 0, LONG_MAX, &count, "value is out of range, must be positive") < 0)
        return;
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        if (hascount)
            reply_null_array(c);
        else
            reply_null(c);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    if (hascount && count == 0) {
        reply_array_len(c, 0);
        return;
    }
    if (!hascount) {
        pop_reply(c, ql(v), where);
        elements_removed(c, key, v, 1);
        return;
    }
    long long llen = (long long)qlog_length(ql(v));
    long long n = count > llen ? llen : count;
    if (where == HEAD) {
        range_reply(c, ql(v), 0, n - 1, 0);
        qlog_delete_range(ql(v), 0, (size_t)n);
    } else {
        range_reply(c, ql(v), -n, -1, 1);
        qlog_delete_range(ql(v), -n, (size_t)n);
    }
    elements_removed(c, key, v, (long)n);
}

static void lpop_command(struct client *c) { pop_generic(c, HEAD); }
static void rpop_command(struct client *c) { pop_generic(c, TAIL); }

/* ---- reads ------------------------------------------------------------------ */

static void llen_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (check_list(c, v) < 0)
        return;
    reply_int(c, v ? (long long)qlog_length(ql(v)) : 0);
}

static void lrange_command(struct client *c)
{
    long long start, end;
    if (arg_ll(c, &c->argv[2], &start, NULL) < 0 || arg_ll(c, &c->argv[3], &end, NULL) < 0)
        return;
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_array_len(c, 0);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    range_reply(c, ql(v), start, end, 0);
}

static void lindex_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_null(c);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    long long idx;
    if (arg_ll(c, &c->argv[2], &idx, NULL) < 0)
        return;
    qlog_value e;
    if (qlog_index(ql(v), idx, &e))
        reply_value(c, &e);
    else
        reply_null(c);
}

static void lpos_command(struct client *c)
{
    long long rank = 1, count = -1, maxlen = 0;
    int dir = QLOG_FORWARD;
    for (int j = 3; j < c->argc; j++) {
        int more = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "RANK") && more) {
            j++;
            if (arg_ll(c, &c->argv[j], &rank, NULL) < 0)
                return;
            if (rank == 0) {
                reply_error(c, "RANK can't be zero: use 1 to start from the first match, 2 from the second ... or "
                               "use negative to start from the end of the list");
                return;
            }
        } else if (arg_is(&c->argv[j], "COUNT") && more) {
            j++;
            if (arg_ll_range(c, &c->argv[j], 0, LONG_MAX, &count, "COUNT can't be negative") < 0)
                return;
        } else if (arg_is(&c->argv[j], "MAXLEN") && more) {
            j++;
            if (arg_ll_range(c, &c->argv[j], 0, LONG_MAX, &maxlen, "MAXLEN can't be negative") < 0)
                return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (rank < 0) {
        /* -LLONG_MIN does not exist; Redis's negation wraps, which keeps
         * the rank negative and so satisfied by the first match */
        rank = rank == LLONG_MIN ? LLONG_MIN : -rank;
        dir = QLOG_BACKWARD;
    }
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        if (count != -1)
            reply_array_len(c, 0);
        else
            reply_null(c);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    void *deferred = count != -1 ? reply_defer_len(c) : NULL;
    long long llen = (long long)qlog_length(ql(v));
    long long index = 0, matches = 0, matchindex = -1, arraylen = 0;
    qlog_iter it;
    qlog_iter_init(&it, ql(v), dir == QLOG_BACKWARD ? -1 : 0, dir);
    qlog_value e;
    while ((maxlen == 0 || index < maxlen) && qlog_iter_next(&it, &e)) {
        if (qlog_value_eq(&e, c->argv[2].ptr, c->argv[2].len)) {
            matches++;
            matchindex = dir == QLOG_FORWARD ? index : llen - index - 1;
            if (matches >= rank) {
                if (count != -1) {
                    arraylen++;
                    reply_int(c, matchindex);
                    if (count && matches - rank + 1 >= count)
                        break;
                } else {
                    break;
                }
            }
        }
        index++;
        matchindex = -1;
    }
    if (count != -1)
        reply_set_deferred_array(c, deferred, arraylen);
    else if (matchindex != -1)
        reply_int(c, matchindex);
    else
        reply_null(c);
}

/* ---- in-place edits ------------------------------------------------------ */

static void lset_command(struct client *c)
{
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    long long idx;
    if (arg_ll(c, &c->argv[2], &idx, NULL) < 0)
        return;
    if (!qlog_replace(ql(v), idx, c->argv[3].ptr, c->argv[3].len)) {
        reply_error(c, ERR_OUT_OF_RANGE);
        return;
    }
    reply_ok(c);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
}

static void linsert_command(struct client *c)
{
    int where;
    if (arg_is(&c->argv[2], "after")) {
        where = QLOG_AFTER;
    } else if (arg_is(&c->argv[2], "before")) {
        where = QLOG_BEFORE;
    } else {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    qlog_iter it;
    qlog_iter_init(&it, ql(v), 0, QLOG_FORWARD);
    qlog_value e;
    long long pos = -1;
    while (qlog_iter_next(&it, &e)) {
        if (qlog_value_eq(&e, c->argv[3].ptr, c->argv[3].len)) {
            pos = (long long)qlog_iter_pos(&it);
            break;
        }
    }
    if (pos < 0) {
        reply_int(c, -1);
        return;
    }
    qlog_insert(ql(v), pos, where, c->argv[4].ptr, c->argv[4].len);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
    reply_int(c, (long long)qlog_length(ql(v)));
}

static void lrem_command(struct client *c)
{
    long long toremove;
    if (arg_ll(c, &c->argv[2], &toremove, NULL) < 0)
        return;
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    int dir = QLOG_FORWARD;
    unsigned long long limit = (unsigned long long)toremove;
    if (toremove < 0) {
        limit = 0ULL - (unsigned long long)toremove; /* LLONG_MIN too */
        dir = QLOG_BACKWARD;
    }
    qlog_iter it;
    qlog_iter_init(&it, ql(v), dir == QLOG_BACKWARD ? -1 : 0, dir);
    qlog_value e;
    unsigned long long removed = 0;
    while (qlog_iter_next(&it, &e)) {
        if (qlog_value_eq(&e, c->argv[3].ptr, c->argv[3].len)) {
            qlog_iter_delete(&it);
            srv.dirty++;
            removed++;
            if (limit && removed == limit)
                break;
        }
    }
    if (removed)
        db_signal_modified(c->db, key->ptr, key->len);
    if (qlog_length(ql(v)) == 0)
        db_delete(c->db, key->ptr, key->len);
    reply_int(c, (long long)removed);
}

static void ltrim_command(struct client *c)
{
    long long start, end;
    if (arg_ll(c, &c->argv[2], &start, NULL) < 0 || arg_ll(c, &c->argv[3], &end, NULL) < 0)
        return;
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_ok(c);
        return;
    }
    if (check_list(c, v) < 0)
        return;
    long long llen = (long long)qlog_length(ql(v)), ltrim, rtrim;
    if (start < 0)
        start = llen + start;
    if (end < 0)
        end = llen + end;
    if (start < 0)
        start = 0;
    if (start > end || start >= llen) {
        ltrim = llen;
        rtrim = 0;
    } else {
        if (end >= llen)
            end = llen - 1;
        ltrim = start;
        rtrim = llen - end - 1;
    }
    qlog_delete_range(ql(v), 0, (size_t)ltrim);
    if (rtrim)
        qlog_delete_range(ql(v), -rtrim, (size_t)rtrim);
    if (qlog_length(ql(v)) == 0)
        db_delete(c->db, key->ptr, key->len);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty += ltrim + rtrim;
    reply_ok(c);
}

/* ---- moves ---------------------------------------------------------------- */

/* LMOVE's body once directions are parsed (also run by BLMOVE and
 * BRPOPLPUSH when their source has data). */
static void lmove_generic(struct client *c, int wherefrom, int whereto)
{
    const struct arg *src = &c->argv[1], *dst = &c->argv[2];
    struct value *sv = db_lookup_write(c->db, src->ptr, src->len);
    if (!sv) {
        reply_null(c);
        return;
    }
    if (check_list(c, sv) < 0)
        return;
    struct value *dv = db_lookup_write(c->db, dst->ptr, dst->len);
    if (check_list(c, dv) < 0)
        return;
    qlog_value e;
    char buf[256];
    int ok = wherefrom == HEAD ? qlog_pop_head(ql(sv), &e, buf, sizeof(buf))
                               : qlog_pop_tail(ql(sv), &e, buf, sizeof(buf));
    assert(ok);
    (void)ok;
    char ibuf[QLOG_INT_BUFSIZE];
    size_t len;
    const char *bytes = qlog_value_bytes(&e, ibuf, &len);
    int created = 0;
    if (!dv) {
        dv = list_new();
        created = 1;
    }
    if (whereto == HEAD)
        qlog_push_head(ql(dv), bytes, len);
    else
        qlog_push_tail(ql(dv), bytes, len);
    if (created)
        db_add(c->db, dst->ptr, dst->len, dv);
    else
        db_signal_key_ready(c->db, dst->ptr, dst->len);
    db_signal_modified(c->db, dst->ptr, dst->len);
    reply_bulk(c, bytes, len);
    qlog_value_release(&e);
    if (qlog_length(ql(sv)) == 0)
        db_delete(c->db, src->ptr, src->len);
    db_signal_modified(c->db, src->ptr, src->len);
    srv.dirty++;
    if (!strcmp(c->cmd->fullname, "blmove")) {
        struct arg argv[5] = {{"LMOVE", 5}, c->argv[1], c->argv[2], c->argv[3], c->argv[4]};
        if (blocking_ready_key(c)) {
            /* served after blocking, Redis 7.0 records the directions as
             * its own shared "left"/"right", whatever case the client
             * used (answered at once, the client's arguments) */
            argv[3] = wherefrom == HEAD ? (struct arg){"left", 4} : (struct arg){"right", 5};
            argv[4] = whereto == HEAD ? (struct arg){"left", 4} : (struct arg){"right", 5};
        }
        propagate_rewrite(c, 5, argv);
    } else if (!strcmp(c->cmd->fullname, "brpoplpush")) {
        struct arg argv[3] = {{"RPOPLPUSH", 9}, c->argv[1], c->argv[2]};
        propagate_rewrite(c, 3, argv);
    }
}

static void lmove_command(struct client *c)
{
    int from, to;
    if (parse_where(c, &c->argv[3], &from) < 0 || parse_where(c, &c->argv[4], &to) < 0)
        return;
    lmove_generic(c, from, to);
}

static void rpoplpush_command(struct client *c) { lmove_generic(c, TAIL, HEAD); }

/* ---- multi-key pops --------------------------------------------------------- */

/* Record a pop the way it replays: [LR]POP key [count]. */
static void record_pop(struct client *c, const struct arg *key, int where, long long count)
{
    char num[32];
    struct arg argv[3] = {{where == HEAD ? "LPOP" : "RPOP", 4}, *key, {num, 0}};
    if (count >= 0)
        argv[2].len = (size_t)ll2string(num, sizeof(num), count);
    propagate_rewrite(c, count >= 0 ? 3 : 2, argv);
}

/* Pop up to count from one list, replying [key, [elements]]. */
static void mpop_from(struct client *c, const struct arg *key, struct value *v, int where, long long count)
{
    long long llen = (long long)qlog_length(ql(v));
    long long n = count > llen ? llen : count;
    record_pop(c, key, where, n);
    reply_array_len(c, 2);
    reply_bulk(c, key->ptr, key->len);
    if (where == HEAD) {
        range_reply(c, ql(v), 0, n - 1, 0);
        qlog_delete_range(ql(v), 0, (size_t)n);
    } else {
        range_reply(c, ql(v), -n, -1, 1);
        qlog_delete_range(ql(v), -n, (size_t)n);
    }
    elements_removed(c, key, v, (long)n);
}

/* ---- blocking ----------------------------------------------------------------- */

static void timeout_null_array(struct client *c) { reply_null_array(c); }

static const struct block_kind block_list = {"list", OBJ_LIST, NULL, timeout_null_array, NULL};

/* Shared by BLPOP/BRPOP/BLMPOP: try the keys in order, else block.
 * count == -1: single-element form ([key, element]). */
static void blocking_pop(struct client *c, int first_key, int nkeys, int where, int timeout_idx, long long count)
{
    long long timeout;
    if (blocking_parse_timeout(c, c->argv[timeout_idx].ptr, c->argv[timeout_idx].len, 0, &timeout) < 0)
        return;
    const struct arg *ready = blocking_ready_key(c);
    for (int j = 0; j < nkeys; j++) {
        const struct arg *key = &c->argv[first_key + j];
        if (ready && (key->len != ready->len || memcmp(key->ptr, ready->ptr, key->len) != 0))
            continue;
        struct value *v = db_lookup_write(c->db, key->ptr, key->len);
        if (!v)
            continue;
        if (check_list(c, v) < 0)
            return;
        if (qlog_length(ql(v)) == 0)
            continue;
        if (count != -1) {
            mpop_from(c, key, v, where, count);
            return;
        }
        reply_array_len(c, 2);
        reply_bulk(c, key->ptr, key->len);
        pop_reply(c, ql(v), where);
        record_pop(c, key, where, -1);
        elements_removed(c, key, v, 1);
        return;
    }
    if (blocking_denied(c)) {
        reply_null_array(c);
        return;
    }
    int idx[256], *keys = nkeys <= 256 ? idx : mem_alloc(sizeof(int) * (size_t)nkeys);
    for (int j = 0; j < nkeys; j++)
        keys[j] = first_key + j;
    blocking_block_client(c, &block_list, keys, nkeys, timeout, NULL);
    if (keys != idx)
        mem_free(keys);
}

static void blpop_command(struct client *c) { blocking_pop(c, 1, c->argc - 2, HEAD, c->argc - 1, -1); }
static void brpop_command(struct client *c) { blocking_pop(c, 1, c->argc - 2, TAIL, c->argc - 1, -1); }

static void blmove_generic(struct client *c, int from, int to, long long timeout)
{
    struct value *v = db_lookup_write(c->db, c->argv[1].ptr, c->argv[1].len);
    if (check_list(c, v) < 0)
        return;
    if (v) {
        lmove_generic(c, from, to);
        return;
    }
    if (blocking_denied(c)) {
        reply_null(c);
        return;
    }
    int key = 1;
    blocking_block_client(c, &block_list, &key, 1, timeout, NULL);
}

static void blmove_command(struct client *c)
{
    int from, to;
    long long timeout;
    if (parse_where(c, &c->argv[3], &from) < 0 || parse_where(c, &c->argv[4], &to) < 0)
        return;
    if (blocking_parse_timeout(c, c->argv[5].ptr, c->argv[5].len, 0, &timeout) < 0)
        return;
    blmove_generic(c, from, to, timeout);
}

static void brpoplpush_command(struct client *c)
{
    long long timeout;
    if (blocking_parse_timeout(c, c->argv[3].ptr, c->argv[3].len, 0, &timeout) < 0)
        return;
    blmove_generic(c, TAIL, HEAD, timeout);
}

/* LMPOP numkeys key... LEFT|RIGHT [COUNT n] and BLMPOP timeout numkeys ... */
static void lmpop_generic(struct client *c, int numkeys_idx, int blocking)
{
    long long numkeys, count = -1;
    int where;
    if (arg_ll_range(c, &c->argv[numkeys_idx], 1, LONG_MAX, &numkeys, "numkeys should be greater than 0") < 0)
        return;
    /* more keys than arguments can't leave room for LEFT|RIGHT (checked
     * before adding, which could overflow) */
    if (numkeys >= c->argc - numkeys_idx - 1) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    long long where_idx = numkeys_idx + numkeys + 1;
    if (where_idx >= c->argc) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (parse_where(c, &c->argv[where_idx], &where) < 0)
        return;
    for (long long j = where_idx + 1; j < c->argc; j++) {
        int more = c->argc - 1 - (int)j;
        if (count == -1 && arg_is(&c->argv[j], "COUNT") && more) {
            j++;
            if (arg_ll_range(c, &c->argv[j], 1, LONG_MAX, &count, "count should be greater than 0") < 0)
                return;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (count == -1)
        count = 1;
    if (blocking) {
        blocking_pop(c, numkeys_idx + 1, (int)numkeys, where, 1, count);
        return;
    }
    for (int j = 0; j < numkeys; j++) {
        const struct arg *key = &c->argv[numkeys_idx + 1 + j];
        struct value *v = db_lookup_write(c->db, key->ptr, key->len);
        if (!v)
            continue;
        if (check_list(c, v) < 0)
            return;
        if (qlog_length(ql(v)) == 0)
            continue;
        mpop_from(c, key, v, where, count);
        return;
    }
    reply_null_array(c);
}

static void lmpop_command(struct client *c) { lmpop_generic(c, 1, 0); }
static void blmpop_command(struct client *c) { lmpop_generic(c, 2, 1); }

const struct command_impl list_commands[] = {
    {"lpush", lpush_command},
    {"rpush", rpush_command},
    {"lpushx", lpushx_command},
    {"rpushx", rpushx_command},
    {"lpop", lpop_command},
    {"rpop", rpop_command},
    {"llen", llen_command},
    {"lrange", lrange_command},
    {"lindex", lindex_command},
    {"lpos", lpos_command},
    {"lset", lset_command},
    {"linsert", linsert_command},
    {"lrem", lrem_command},
    {"ltrim", ltrim_command},
    {"lmove", lmove_command},
    {"rpoplpush", rpoplpush_command},
    {"lmpop", lmpop_command},
    {"blpop", blpop_command},
    {"brpop", brpop_command},
    {"blmove", blmove_command},
    {"brpoplpush", brpoplpush_command},
    {"blmpop", blmpop_command},
    {NULL, NULL},
};
