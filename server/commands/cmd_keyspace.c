/* cmd_keyspace.c - type-independent key commands: DEL UNLINK EXISTS TYPE
 * KEYS SCAN RANDOMKEY RENAME RENAMENX COPY MOVE TOUCH DBSIZE FLUSHDB
 * FLUSHALL SELECT SWAPDB OBJECT, and the key/slot part of CLUSTER
 * (KEYSLOT COUNTKEYSINSLOT GETKEYSINSLOT HELP), answered in standalone mode.
 *
 * Redis 7.0 semantics reproduced here:
 *  - DEL/UNLINK expire a key before deleting it, so an expired key does not
 *    count as deleted.  UNLINK frees synchronously (values are small and
 *    there is no lazy-free thread); the reply is the same.
 *  - EXISTS, TYPE, OBJECT and SCAN's TYPE filter look keys up without
 *    touching the LRU clock but do expire them and count hits/misses.
 *  - KEYS skips expired keys without deleting them; SCAN deletes the
 *    expired keys it returns... except that its TYPE filter has already
 *    removed them, so "SCAN 0 TYPE none" can list keys that just expired,
 *    exactly like Redis (its type lookup deletes the key, then the expiry
 *    check finds nothing left to expire).
 *  - SCAN's cursor is parsed with strtoul() as Redis does: "" is 0, "-1"
 *    and "+5" are accepted, leading space or trailing bytes are "invalid
 *    cursor".  COUNT < 1 is a syntax error.  Unknown TYPE names just match
 *    nothing.  The cursor values themselves are Sluice's (slot + position).
 *  - RENAME onto itself only checks that the key exists (its TTL stays);
 *    RENAME/MOVE/COPY carry the TTL over.  COPY of a value gives a new
 *    object (fresh LRU clock, refcount 1).
 *  - SELECT/MOVE/COPY DB parse the index as an int: "value is out of
 *    range, value must between -2147483648 and 2147483647" beyond it.
 *    SWAPDB reports "invalid first/second DB index" for both parse and
 *    range failures, "DB index is out of range" for valid ints outside the
 *    configured databases.  SWAPDB of a db with itself is OK (and a write).
 *  - FLUSHDB/FLUSHALL accept one optional SYNC|ASYNC; anything else is a
 *    syntax error.  Both count the removed keys as writes, nothing more
 *    (an empty FLUSHALL leaves the dirty counter alone, as in 7.0).  With
 *    `save` points configured Redis also rewrites the RDB on FLUSHALL;
 *    that belongs to the persistence layer.
 *  - OBJECT REFCOUNT: Redis shares the int objects 0..9999 unless maxmemory
 *    is set with an LRU/LFU policy; shared objects report INT_MAX.
 *  - CLUSTER errors are those of a cluster-enabled Redis: "Invalid slot"
 *    (COUNTKEYSINSLOT), "Invalid slot or number of keys" (GETKEYSINSLOT).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "db.h"
#include "hooks.h"
#include "propagate.h"
#include "keyspace.h"
#include "mem.h"
#include "server.h"
#include "slot.h"
#include "util.h"

#define ERR_SAME_OBJECT "source and destination objects are the same"
#define ERR_DB_RANGE "DB index is out of range"

/* Redis's OBJ_SHARED_INTEGERS / OBJ_SHARED_REFCOUNT */
#define SHARED_INTEGERS 10000
#define SHARED_REFCOUNT INT_MAX

/* Redis's getIntFromObjectOrReply(): `msg` (when given) replaces both the
 * parse error and the range error. */
static int get_int_or_reply(struct client *c, const struct arg *a, int *out, const char *msg)
{
    long long v;
    if (!string2ll(a->ptr, a->len, &v)) {
        reply_error(c, msg ? msg : ERR_NOT_INTEGER);
        return -1;
    }
    if (v < INT_MIN || v > INT_MAX) {
        if (msg)
            reply_error(c, msg);
        else
            reply_errorf(c, "value is out of range, value must between %d and %d", INT_MIN, INT_MAX);
        return -1;
    }
    *out = (int)v;
    return 0;
}

static struct db *db_by_index(int id)
{
    if (id < 0 || id >= srv.dbnum)
        return NULL;
    return srv.dbs[id];
}

static int same_bytes(const struct arg *a, const struct arg *b)
{
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* ---------------------------------------------------------------------
 * DEL UNLINK EXISTS TYPE TOUCH DBSIZE RANDOMKEY
 * ------------------------------------------------------------------- */

static void del_command(struct client *c)
{
    long long deleted = 0;
    for (int j = 1; j < c->argc; j++) {
        const struct arg *k = &c->argv[j];
        db_expire_if_needed(c->db, k->ptr, k->len);
        if (db_delete(c->db, k->ptr, k->len)) {
            db_signal_modified(c->db, k->ptr, k->len);
            srv.dirty++;
            deleted++;
        }
    }
    reply_int(c, deleted);
}

static void exists_command(struct client *c)
{
    long long count = 0;
    for (int j = 1; j < c->argc; j++)
        if (ks_lookup_read_notouch(c->db, c->argv[j].ptr, c->argv[j].len))
            count++;
    reply_int(c, count);
}

static void type_command(struct client *c)
{
    struct value *v = ks_lookup_read_notouch(c->db, c->argv[1].ptr, c->argv[1].len);
    reply_status(c, v ? value_type_name(v) : "none");
}

static void touch_command(struct client *c)
{
    long long touched = 0;
    for (int j = 1; j < c->argc; j++)
        if (db_lookup_read(c->db, c->argv[j].ptr, c->argv[j].len))
            touched++;
    reply_int(c, touched);
}

static void dbsize_command(struct client *c) { reply_int(c, (long long)db_size(c->db)); }

static void randomkey_command(struct client *c)
{
    sstr key;
    if (!db_random_key(c->db, &key)) {
        reply_null(c);
        return;
    }
    reply_bulk_sstr(c, key);
    sstr_free(key);
}

/* ---------------------------------------------------------------------
 * KEYS SCAN
 * ------------------------------------------------------------------- */

struct keys_ctx {
    struct client *c;
    struct db *db;
    const char *pat;
    size_t patlen;
    int allkeys;
    long n;
};

static void keys_cb(void *priv, const char *key, size_t len, struct value *v)
{
    struct keys_ctx *k = priv;
    if (!k->allkeys && !glob_match(k->pat, k->patlen, key, len, 0))
        return;
    if (db_key_is_expired(k->db, key, len))
        return; /* skipped, not deleted: KEYS must not modify the dict it walks */
    reply_bulk(k->c, key, len);
    k->n++;
}

static void keys_command(struct client *c)
{
    struct keys_ctx k = {c, c->db, c->argv[1].ptr, c->argv[1].len, 0, 0};
    k.allkeys = k.patlen == 1 && k.pat[0] == '*';
    void *len = reply_defer_len(c);
    db_foreach(c->db, keys_cb, &k);
    reply_set_deferred_array(c, len, k.n);
}

/* Redis's parseScanCursorOrReply(): strtoul on the argument as a C string. */
static int parse_scan_cursor(struct client *c, const struct arg *a, uint64_t *cursor)
{
    char stackbuf[64];
    char *buf = a->len < sizeof(stackbuf) ? stackbuf : mem_alloc(a->len + 1);
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    char *end;
    errno = 0;
    unsigned long v = strtoul(buf, &end, 10);
    int bad = isspace((unsigned char)buf[0]) || end[0] != '\0' || errno == ERANGE;
    if (buf != stackbuf)
        mem_free(buf);
    if (bad) {
        reply_error(c, "invalid cursor");
        return -1;
    }
    *cursor = v;
    return 0;
}

struct scan_ctx {
    sstr *keys;
    size_t n, cap;
};

static void scan_cb(void *priv, const char *key, size_t len, struct value *v)
{
    struct scan_ctx *s = priv;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->keys = mem_realloc(s->keys, s->cap * sizeof(sstr));
    }
    s->keys[s->n++] = sstr_new(key, len);
}

/* SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
static void scan_command(struct client *c)
{
    uint64_t cursor;
    long long count = 10;
    const struct arg *pat = NULL, *type = NULL;
    int use_pattern = 0;

    if (parse_scan_cursor(c, &c->argv[1], &cursor) != 0)
        return;
    for (int i = 2; i < c->argc;) {
        int left = c->argc - i;
        const struct arg *opt = &c->argv[i];
        if (ks_opt_is(opt, "count") && left >= 2) {
            if (arg_ll(c, &c->argv[i + 1], &count, NULL) != 0)
                return;
            if (count < 1) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
        } else if (ks_opt_is(opt, "match") && left >= 2) {
            pat = &c->argv[i + 1];
            /* "*" matches everything: same as no pattern */
            use_pattern = !(pat->len == 1 && pat->ptr[0] == '*');
        } else if (ks_opt_is(opt, "type") && left >= 2) {
            type = &c->argv[i + 1];
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
        i += 2;
    }

    /* Collect first, filter after: expiring keys while the dict is being
     * scanned would break the iteration. */
    struct scan_ctx s = {NULL, 0, 0};
    long long maxiterations = count * 10;
    do {
        cursor = db_scan(c->db, cursor, scan_cb, &s);
    } while (cursor && maxiterations-- && s.n < (size_t)count);

    /* the TYPE name is compared as a C string, as Redis does */
    char typebuf[64] = "";
    int type_ok = 1;
    if (type) {
        const char *nul = memchr(type->ptr, '\0', type->len);
        size_t tlen = nul ? (size_t)(nul - type->ptr) : type->len;
        if (tlen < sizeof(typebuf)) {
            memcpy(typebuf, type->ptr, tlen);
            typebuf[tlen] = '\0';
        } else {
            type_ok = 0; /* longer than any type name: matches nothing */
        }
    }

    size_t kept = 0;
    for (size_t i = 0; i < s.n; i++) {
        sstr k = s.keys[i];
        size_t klen = sstr_len(k);
        int filter = 0;
        if (use_pattern && !glob_match(pat->ptr, pat->len, k, klen, 0))
            filter = 1;
        if (!filter && type) {
            struct value *v = ks_lookup_read_notouch(c->db, k, klen);
            const char *tname = v ? value_type_name(v) : "none";
            if (!type_ok || strcasecmp(typebuf, tname) != 0)
                filter = 1;
        }
        if (!filter && db_expire_if_needed(c->db, k, klen))
            filter = 1;
        if (filter)
            sstr_free(k);
        else
            s.keys[kept++] = k;
    }

    reply_array_len(c, 2);
    /* Redis sends the unsigned cursor through addReplyBulkLongLong */
    reply_bulk_ll(c, (long long)cursor);
    reply_array_len(c, (long)kept);
    for (size_t i = 0; i < kept; i++) {
        reply_bulk_sstr(c, s.keys[i]);
        sstr_free(s.keys[i]);
    }
    mem_free(s.keys);
}

/* ---------------------------------------------------------------------
 * RENAME RENAMENX COPY MOVE
 * ------------------------------------------------------------------- */

static void rename_generic(struct client *c, int nx)
{
    const struct arg *src = &c->argv[1], *dst = &c->argv[2];

    if (!db_lookup_write(c->db, src->ptr, src->len)) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    /* same name: nothing moves, the TTL stays */
    if (same_bytes(src, dst)) {
        if (nx)
            reply_int(c, 0);
        else
            reply_ok(c);
        return;
    }

    long long expire = db_get_expire(c->db, src->ptr, src->len);
    if (db_lookup_write(c->db, dst->ptr, dst->len)) {
        if (nx) {
            reply_int(c, 0);
            return;
        }
        db_delete(c->db, dst->ptr, dst->len);
    }
    struct value *v = db_take(c->db, src->ptr, src->len);
    db_add(c->db, dst->ptr, dst->len, v);
    if (expire != -1)
        db_set_expire(c->db, dst->ptr, dst->len, expire);
    db_signal_modified(c->db, src->ptr, src->len);
    db_signal_modified(c->db, dst->ptr, dst->len);
    srv.dirty++;
    if (nx)
        reply_int(c, 1);
    else
        reply_ok(c);
}

static void rename_command(struct client *c) { rename_generic(c, 0); }
static void renamenx_command(struct client *c) { rename_generic(c, 1); }

/* COPY source destination [DB destination-db] [REPLACE] */
static void copy_command(struct client *c)
{
    const struct arg *key = &c->argv[1], *newkey = &c->argv[2];
    struct db *src = c->db, *dst = c->db;
    int replace = 0;

    for (int j = 3; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (ks_opt_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (ks_opt_is(&c->argv[j], "db") && additional >= 1) {
            int id;
            if (get_int_or_reply(c, &c->argv[j + 1], &id, NULL) != 0)
                return;
            if (!(dst = db_by_index(id))) {
                reply_error(c, ERR_DB_RANGE);
                return;
            }
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }

    if (src == dst && same_bytes(key, newkey)) {
        reply_error(c, ERR_SAME_OBJECT);
        return;
    }

    struct value *v = db_lookup_read(src, key->ptr, key->len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    long long expire = db_get_expire(src, key->ptr, key->len);

    int delete = 0;
    if (db_lookup_write(dst, newkey->ptr, newkey->len)) {
        if (!replace) {
            reply_int(c, 0);
            return;
        }
        delete = 1;
    }

    struct value *copy = value_dup(v); /* fresh access data, as Redis's dup*Object() */
    if (delete)
        db_delete(dst, newkey->ptr, newkey->len);
    db_add(dst, newkey->ptr, newkey->len, copy);
    if (expire != -1)
        db_set_expire(dst, newkey->ptr, newkey->len, expire);
    db_signal_modified(dst, newkey->ptr, newkey->len);
    srv.dirty++;
    reply_int(c, 1);
}

/* MOVE key db */
static void move_command(struct client *c)
{
    const struct arg *key = &c->argv[1];
    struct db *src = c->db, *dst;
    int id;

    if (get_int_or_reply(c, &c->argv[2], &id, NULL) != 0)
        return;
    if (!(dst = db_by_index(id))) {
        reply_error(c, ERR_DB_RANGE);
        return;
    }
    if (src == dst) {
        reply_error(c, ERR_SAME_OBJECT);
        return;
    }
    if (!db_lookup_write(src, key->ptr, key->len)) {
        reply_int(c, 0);
        return;
    }
    long long expire = db_get_expire(src, key->ptr, key->len);
    if (db_lookup_write(dst, key->ptr, key->len)) {
        reply_int(c, 0);
        return;
    }
    struct value *v = db_take(src, key->ptr, key->len);
    db_add(dst, key->ptr, key->len, v);
    if (expire != -1)
        db_set_expire(dst, key->ptr, key->len, expire);
    db_signal_modified(src, key->ptr, key->len);
    db_signal_modified(dst, key->ptr, key->len);
    srv.dirty++;
    reply_int(c, 1);
}

/* ---------------------------------------------------------------------
 * FLUSHDB FLUSHALL SELECT SWAPDB
 * ------------------------------------------------------------------- */

/* [SYNC|ASYNC]: both empty the db at once here (there is no lazy-free
 * thread), so only the syntax matters. */
static int parse_flush_flags(struct client *c)
{
    if (c->argc == 1)
        return 0;
    if (c->argc == 2 && (ks_opt_is(&c->argv[1], "sync") || ks_opt_is(&c->argv[1], "async")))
        return 0;
    reply_error(c, ERR_SYNTAX);
    return -1;
}

static void flushdb_command(struct client *c)
{
    if (parse_flush_flags(c) != 0)
        return;
    /* WATCH must see the keys while they still exist */
    watch_touch_db(c->db, NULL);
    srv.dirty += db_empty(c->db);
    hooks_run_flush(c->db->id);
    propagate_force(c); /* recorded even for an empty database, as Redis does */
    reply_ok(c);
}

static void flushall_command(struct client *c)
{
    if (parse_flush_flags(c) != 0)
        return;
    for (int i = 0; i < srv.dbnum; i++) {
        watch_touch_db(srv.dbs[i], NULL);
        srv.dirty += db_empty(srv.dbs[i]);
    }
    /* with save points configured the snapshot is rewritten at once */
    hooks_run_flush(-1);
    /* recorded even when nothing was there to flush, as Redis does */
    propagate_force(c);
    reply_ok(c);
}

static void select_command(struct client *c)
{
    int id;
    if (get_int_or_reply(c, &c->argv[1], &id, NULL) != 0)
        return;
    struct db *db = db_by_index(id);
    if (!db) {
        reply_error(c, ERR_DB_RANGE);
        return;
    }
    c->db = db;
    reply_ok(c);
}

/* After SWAPDB, clients blocked on a key of either db may now find data
 * there (Redis's scanDatabaseForReadyKeys).  Collect the keys first: the
 * ready hook may change the blocking dict. */
static void signal_ready_keys(struct db *db)
{
    if (dict_size(db->blocking_keys) == 0)
        return;
    size_t n = 0, cap = dict_size(db->blocking_keys);
    sstr *keys = mem_alloc(cap * sizeof(sstr));
    dict_iter it;
    dict_iter_init(&it, db->blocking_keys);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL && n < cap) {
        struct value *v = db_peek(db, e->key, e->keylen);
        if (v && v->type != OBJ_STRING)
            keys[n++] = sstr_new(e->key, e->keylen);
    }
    dict_iter_release(&it);
    for (size_t i = 0; i < n; i++) {
        db_signal_key_ready(db, keys[i], sstr_len(keys[i]));
        sstr_free(keys[i]);
    }
    mem_free(keys);
}

/* Before SWAPDB: the values at db's blocked keys are about to leave it. */
static void unlink_blocked_values(struct db *db)
{
    dict_iter it;
    dict_iter_init(&it, db->blocking_keys);
    dict_entry *e;
    while ((e = dict_iter_next(&it)) != NULL)
        value_unlinked(db_peek(db, e->key, e->keylen));
    dict_iter_release(&it);
}

static void swapdb_command(struct client *c)
{
    int id1, id2;
    if (get_int_or_reply(c, &c->argv[1], &id1, "invalid first DB index") != 0)
        return;
    if (get_int_or_reply(c, &c->argv[2], &id2, "invalid second DB index") != 0)
        return;
    struct db *a = db_by_index(id1), *b = db_by_index(id2);
    if (!a || !b) {
        reply_error(c, ERR_DB_RANGE);
        return;
    }
    if (a != b) {
        /* both directions: a key watched in either db changes */
        watch_touch_db(a, b);
        watch_touch_db(b, a);
        unlink_blocked_values(a);
        unlink_blocked_values(b);
        db_swap(a, b);
        signal_ready_keys(a);
        signal_ready_keys(b);
    }
    srv.dirty++;
    reply_ok(c);
}

/* ---------------------------------------------------------------------
 * OBJECT
 * ------------------------------------------------------------------- */

static struct value *object_lookup_or_reply(struct client *c)
{
    struct value *v = ks_lookup_read_notouch(c->db, c->argv[2].ptr, c->argv[2].len);
    if (!v)
        reply_null(c);
    return v;
}

static void object_encoding_command(struct client *c)
{
    struct value *v = object_lookup_or_reply(c);
    if (v)
        reply_bulk_cstr(c, value_encoding_name(v));
}

static void object_refcount_command(struct client *c)
{
    struct value *v = object_lookup_or_reply(c);
    if (!v)
        return;
    /* Redis hands out shared objects for the ints 0..9999 unless an
     * LRU/LFU maxmemory policy needs per-key access data. */
    int shared = v->type == OBJ_STRING && v->enc == ENC_INT && v->u.ival >= 0 && v->u.ival < SHARED_INTEGERS &&
                 (srv.maxmemory == 0 || !(srv.maxmemory_policy & (MAXMEMORY_FLAG_LRU | MAXMEMORY_FLAG_LFU)));
    reply_int(c, shared ? SHARED_REFCOUNT : 1);
}

static void object_idletime_command(struct client *c)
{
    struct value *v = object_lookup_or_reply(c);
    if (!v)
        return;
    if (srv.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
        reply_error(c, "An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching "
                       "between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, value_idle_ms(v) / 1000);
}

static void object_freq_command(struct client *c)
{
    struct value *v = object_lookup_or_reply(c);
    if (!v)
        return;
    if (!(srv.maxmemory_policy & MAXMEMORY_FLAG_LFU)) {
        reply_error(c, "An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
                       "when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    reply_int(c, value_lfu_freq(v));
}

static void object_help_command(struct client *c)
{
    static const char *const help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL,
    };
    reply_help(c, help);
}

/* ---------------------------------------------------------------------
 * CLUSTER (key/slot introspection only)
 * ------------------------------------------------------------------- */

static void cluster_keyslot_command(struct client *c)
{
    reply_int(c, key_hash_slot(c->argv[2].ptr, c->argv[2].len));
}

static void cluster_countkeysinslot_command(struct client *c)
{
    long long slot;
    if (arg_ll(c, &c->argv[2], &slot, NULL) != 0)
        return;
    if (slot < 0 || slot >= SLOT_COUNT) {
        reply_error(c, "Invalid slot");
        return;
    }
    reply_int(c, (long long)db_count_keys_in_slot(c->db, (unsigned)slot));
}

static void cluster_getkeysinslot_command(struct client *c)
{
    long long slot, maxkeys;
    if (arg_ll(c, &c->argv[2], &slot, NULL) != 0 || arg_ll(c, &c->argv[3], &maxkeys, NULL) != 0)
        return;
    if (slot < 0 || slot >= SLOT_COUNT || maxkeys < 0) {
        reply_error(c, "Invalid slot or number of keys");
        return;
    }
    sstr *keys;
    size_t n = db_keys_in_slot(c->db, (unsigned)slot, (size_t)maxkeys, &keys);
    reply_array_len(c, (long)n);
    for (size_t i = 0; i < n; i++) {
        reply_bulk_sstr(c, keys[i]);
        sstr_free(keys[i]);
    }
    mem_free(keys);
}

static void cluster_help_command(struct client *c)
{
    /* Redis 7.0's text, verbatim (it documents the cluster-mode command) */
    static const char *const help[] = {
        "ADDSLOTS <slot> [<slot> ...]",
        "    Assign slots to current node.",
        "ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "    Assign slots which are between <start-slot> and <end-slot> to current node.",
        "BUMPEPOCH",
        "    Advance the cluster config epoch.",
        "COUNT-FAILURE-REPORTS <node-id>",
        "    Return number of failure reports for <node-id>.",
        "COUNTKEYSINSLOT <slot>",
        "    Return the number of keys in <slot>.",
        "DELSLOTS <slot> [<slot> ...]",
        "    Delete slots information from current node.",
        "DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]",
        "    Delete slots information which are between <start-slot> and <end-slot> from current node.",
        "FAILOVER [FORCE|TAKEOVER]",
        "    Promote current replica node to being a master.",
        "FORGET <node-id>",
        "    Remove a node from the cluster.",
        "GETKEYSINSLOT <slot> <count>",
        "    Return key names stored by current node in a slot.",
        "FLUSHSLOTS",
        "    Delete current node own slots information.",
        "INFO",
        "    Return information about the cluster.",
        "KEYSLOT <key>",
        "    Return the hash slot for <key>.",
        "MEET <ip> <port> [<bus-port>]",
        "    Connect nodes into a working cluster.",
        "MYID",
        "    Return the node id.",
        "NODES",
        "    Return cluster configuration seen by node. Output format:",
        "    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
        "REPLICATE <node-id>",
        "    Configure current node as replica to <node-id>.",
        "RESET [HARD|SOFT]",
        "    Reset current node (default: soft).",
        "SET-CONFIG-EPOCH <epoch>",
        "    Set config epoch of current node.",
        "SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)",
        "    Set slot state.",
        "REPLICAS <node-id>",
        "    Return <node-id> replicas.",
        "SAVECONFIG",
        "    Force saving cluster configuration on disk.",
        "SLOTS",
        "    Return information about slots range mappings. Each range is made of:",
        "    start, end, master and replicas IP addresses, ports and ids",
        "SHARDS",
        "    Return information about slot range mappings and the nodes associated with them.",
        "LINKS",
        "    Return information about all network links between this node and its peers.",
        "    Output format is an array where each array element is a map containing attributes of a link",
        NULL,
    };
    reply_help(c, help);
}

const struct command_impl keyspace_commands[] = {
    {"del", del_command},
    {"unlink", del_command},
    {"exists", exists_command},
    {"type", type_command},
    {"keys", keys_command},
    {"scan", scan_command},
    {"randomkey", randomkey_command},
    {"rename", rename_command},
    {"renamenx", renamenx_command},
    {"copy", copy_command},
    {"move", move_command},
    {"touch", touch_command},
    {"dbsize", dbsize_command},
    {"flushdb", flushdb_command},
    {"flushall", flushall_command},
    {"select", select_command},
    {"swapdb", swapdb_command},
    {"object|encoding", object_encoding_command},
    {"object|refcount", object_refcount_command},
    {"object|idletime", object_idletime_command},
    {"object|freq", object_freq_command},
    {"object|help", object_help_command},
    {"cluster|keyslot", cluster_keyslot_command},
    {"cluster|countkeysinslot", cluster_countkeysinslot_command},
    {"cluster|getkeysinslot", cluster_getkeysinslot_command},
    {"cluster|help", cluster_help_command},
    {NULL, NULL},
};
