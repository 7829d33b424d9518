/* rdb_parse.c - reading a whole RDB stream: header, aux fields, database
 * selectors, per-key opcodes, keys and the trailing checksum (format in
 * rdb_format.h), feeding each key to a sink.
 *
 * Behaviour follows Redis 7.0's rdbLoadRioWithLoadingCtx:
 *  - unknown AUX fields are ignored (that is the AUX contract); aof-base
 *    and used-mem are noted;
 *  - RESIZEDB is only a hint and is skipped; IDLE sets the value's LRU
 *    clock (unless the policy is LFU), FREQ its LFU counter (only under an
 *    LFU policy), as Redis's objectSetLRUOrLFU;
 *  - keys whose expire time has passed are not loaded, except from an AOF
 *    base (whose later commands assume the keyspace as it was);
 *  - empty lists/streams are skipped as Redis skips them;
 *  - a checksum of 0 means "saved with rdbchecksum no" and is not checked.
 * Where Redis would exit or panic (a SELECTDB past `databases`, duplicate
 * keys, module data) the parser returns an error instead, and so does a
 * key of a type Sluice does not have (set, zset, hash, module) or any
 * Redis Functions payload: the load fails whole rather than losing data.
 *
 * rdb_check() is the same parser over a scratch keyspace (one dict per
 * database, freed at the end): sluice-check-rdb and the fuzzers use it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dict.h"
#include "mem.h"
#include "qlog.h"
#include "rdb_format.h"

/* Up to 128 bytes of a key, quoted for messages. */
static sstr cat_key(sstr s, const char *key, size_t len)
{
    size_t n = len > 128 ? 128 : len;
    s = sstr_cat(s, "'", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)key[i];
        if (c >= 32 && c < 127 && c != '\'' && c != '\\')
            s = sstr_cat(s, &key[i], 1);
        else
            s = sstr_catfmt(s, "\\x%02x", c);
    }
    s = sstr_cat(s, "'", 1);
    if (n < len)
        s = sstr_catfmt(s, "... (%zu bytes)", len);
    return s;
}

static int aux_is(const sstr k, const char *name) { return sstr_len(k) == strlen(name) && !strcasecmp(k, name); }

void rdb_set_idle(struct value *v, long long idle_s)
{
    long long clock = lru_clock();
    long long abs = clock - idle_s;
    if (abs < 0)
        abs = (clock + (LRU_CLOCK_MAX / 2)) % LRU_CLOCK_MAX;
    v->lru = (unsigned)abs & LRU_CLOCK_MAX;
}

/* A "sluice-idmp" AUX field: the idempotency state of a stream loaded
 * before it.  A key that is not there was skipped (expired): the state
 * goes with it. */
static int attach_idmp(struct rdb_loader *l, const struct rdb_sink *sink, const sstr blob)
{
    int dbid;
    sstr key = NULL, err = NULL;
    if (rdb_stream_idmp_target(blob, sstr_len(blob), &dbid, &key) != 0)
        return rdb_fail(l, "Bad %s AUX field", RDB_AUX_IDMP);
    struct value *v = sink->lookup && dbid < l->o->dbnum ? sink->lookup(sink->priv, dbid, key, sstr_len(key)) : NULL;
    sstr_free(key);
    if (!v)
        return 0;
    if (rdb_stream_idmp_apply(v, blob, sstr_len(blob), &err) != 0) {
        rdb_fail(l, "%s", err);
        sstr_free(err);
        return -1;
    }
    return 0;
}

static int is_value_type(int t) { return (t >= 0 && t <= 7) || (t >= 9 && t <= 19); }

int rdb_parse(rio *r, const struct rdb_load_opts *o, const struct rdb_sink *sink, struct rdb_load_stats *st,
              sstr *err)
{
    struct rdb_loader l;
    char magic[10];
    int dbid = 0, type;
    long long expire = -1, idle = -1, freq = -1;
    sstr key = NULL;
    int rc = -1;

    memset(st, 0, sizeof(*st));
    rdb_loader_init(&l, r, o);
    rio_checksum_start(r);
    if (!rio_read(r, magic, 9)) {
        rdb_fail_io(&l, "the RDB header");
        goto done;
    }
    magic[9] = '\0';
    if (memcmp(magic, "REDIS", 5) != 0) {
        rdb_fail(&l, "Wrong signature trying to load DB from file (not an RDB file)");
        goto done;
    }
    for (int i = 5; i < 9; i++) {
        if (magic[i] < '0' || magic[i] > '9') {
            rdb_fail(&l, "Bad RDB version field '%.4s'", magic + 5);
            goto done;
        }
    }
    l.rdbver = atoi(magic + 5);
    st->rdbver = l.rdbver;
    if (l.rdbver < 1 || l.rdbver > RDB_VERSION) {
        rdb_fail(&l, "Can't handle RDB format version %d", l.rdbver);
        goto done;
    }

    for (;;) {
        if (rdb_load_type(&l, &type) != 0)
            goto done;
        if (type == RDB_OPCODE_EXPIRETIME) {
            unsigned char b[4];
            if (!rio_read(r, b, 4)) {
                rdb_fail_io(&l, "an expire time");
                goto done;
            }
            int32_t t = (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
            expire = (long long)t * 1000;
            continue;
        } else if (type == RDB_OPCODE_EXPIRETIME_MS) {
            if (rdb_load_ms_time(&l, &expire) != 0)
                goto done;
            continue;
        } else if (type == RDB_OPCODE_FREQ) {
            unsigned char b;
            if (!rio_read(r, &b, 1)) {
                rdb_fail_io(&l, "an LFU frequency");
                goto done;
            }
            freq = b;
            continue;
        } else if (type == RDB_OPCODE_IDLE) {
            uint64_t v;
            if (rdb_load_plain_len(&l, &v, "an LRU idle time") != 0)
                goto done;
            idle = v > (uint64_t)LRU_CLOCK_MAX * 2 ? (long long)LRU_CLOCK_MAX * 2 : (long long)v;
            continue;
        } else if (type == RDB_OPCODE_EOF) {
            break;
        } else if (type == RDB_OPCODE_SELECTDB) {
            uint64_t id;
            if (rdb_load_plain_len(&l, &id, "a database number") != 0)
                goto done;
            if (id >= (uint64_t)o->dbnum) {
                rdb_fail(&l,
                         "Data file was created with a server configured to handle more than %d databases "
                         "(it selects DB %llu)",
                         o->dbnum, (unsigned long long)id);
                goto done;
            }
            dbid = (int)id;
            if (sink->select_db)
                sink->select_db(sink->priv, dbid, rio_tell(r));
            continue;
        } else if (type == RDB_OPCODE_RESIZEDB) {
            uint64_t a, b;
            if (rdb_load_plain_len(&l, &a, "a RESIZEDB hint") != 0 || rdb_load_plain_len(&l, &b, "a RESIZEDB hint") != 0)
                goto done;
            continue;
        } else if (type == RDB_OPCODE_AUX) {
            sstr k = rdb_load_string(&l, "an AUX field name");
            if (!k)
                goto done;
            sstr v = rdb_load_string(&l, "an AUX field value");
            if (!v) {
                sstr_free(k);
                goto done;
            }
            if (aux_is(k, "aof-base") || aux_is(k, "aof-preamble"))
                st->aof_base = strtoll(v, NULL, 10) != 0;
            else if (aux_is(k, "used-mem"))
                st->used_mem = strtoll(v, NULL, 10);
            if (sink->aux)
                sink->aux(sink->priv, k, sstr_len(k), v, sstr_len(v), rio_tell(r));
            if (aux_is(k, RDB_AUX_IDMP) && attach_idmp(&l, sink, v) != 0) {
                sstr_free(k);
                sstr_free(v);
                goto done;
            }
            sstr_free(k);
            sstr_free(v);
            continue;
        } else if (type == RDB_OPCODE_MODULE_AUX) {
            rdb_fail(&l, "The RDB file contains module AUX data (RDB opcode %d): Sluice has no modules", type);
            goto done;
        } else if (type == RDB_OPCODE_FUNCTION2 || type == RDB_OPCODE_FUNCTION_PRE_GA) {
            rdb_fail(&l, "The RDB file contains Redis Functions (RDB opcode %d): Sluice does not support functions",
                     type);
            goto done;
        } else if (!is_value_type(type)) {
            rdb_fail(&l, "Unknown RDB type or opcode %d", type);
            goto done;
        }

        /* a key and its value */
        key = rdb_load_string(&l, "a key name");
        if (!key)
            goto done;
        const char *family = rdb_type_family(type);
        if (strcmp(family, "string") && strcmp(family, "list") && strcmp(family, "stream")) {
            sstr m = cat_key(sstr_from("Sluice can't load key "), key, sstr_len(key));
            rdb_fail(&l, "%s of RDB type '%s' (type %d): the type is not supported", m, family, type);
            sstr_free(m);
            goto done;
        }
        struct value *v = rdb_load_value(&l, type);
        if (!v) {
            if (!l.err && l.empty) {
                st->empty_skipped++;
                goto next;
            }
            /* "<what is wrong> (key '<key>', <type> value in DB n)" */
            sstr m = sstr_catfmt(sstr_from(l.err ? l.err : "Bad value"), " (key ");
            m = cat_key(m, key, sstr_len(key));
            m = sstr_catfmt(m, ", %s value in DB %d)", rdb_type_name(type), dbid);
            sstr_free(l.err);
            l.err = NULL;
            rdb_fail(&l, "%s", m);
            sstr_free(m);
            goto done;
        }
        if (expire != -1 && !o->keep_expired && !st->aof_base && expire < o->now_ms) {
            value_free(v);
            st->keys_expired++;
            goto next;
        }
        /* Redis's objectSetLRUOrLFU: what the current policy tracks */
        if (o->lfu && freq >= 0)
            value_set_lfu_freq(v, (unsigned)freq);
        else if (!o->lfu && idle >= 0)
            rdb_set_idle(v, idle);
        sstr aerr = NULL;
        if (sink->add(sink->priv, dbid, key, sstr_len(key), v, expire, &aerr) != 0) {
            rdb_fail(&l, "%s", aerr ? aerr : "the key could not be added");
            if (aerr)
                sstr_free(aerr);
            goto done;
        }
        st->keys_loaded++;
        if (expire != -1)
            st->expires++;
    next:
        sstr_free(key);
        key = NULL;
        expire = idle = freq = -1;
    }

    if (l.rdbver >= 5) {
        uint64_t expected = r->cksum, stored = 0;
        unsigned char b[8];
        if (!rio_read(r, b, 8)) {
            rdb_fail_io(&l, "the checksum");
            goto done;
        }
        for (int i = 7; i >= 0; i--)
            stored = (stored << 8) | b[i];
        st->checksum_absent = stored == 0;
        if (o->verify_checksum && stored != 0) {
            if (stored != expected) {
                rdb_fail(&l, "Wrong RDB checksum expected: (%llx) but got (%llx)", (unsigned long long)expected,
                         (unsigned long long)stored);
                goto done;
            }
            st->checksum_verified = 1;
        }
    }
    rc = 0;
done:
    rio_checksum_stop(r);
    if (key)
        sstr_free(key);
    if (rc != 0)
        st->error_offset = rio_tell(r);
    if (rc != 0 && err) {
        /* the message, what was read, and where */
        *err = sstr_catfmt(sstr_empty(128), "%s (%s, offset %llu)", l.err ? l.err : "error", o->name ? o->name : "RDB",
                           (unsigned long long)rio_tell(r));
    }
    rdb_loader_free(&l);
    return rc;
}

/* ---- check mode ------------------------------------------------------------------------ */

struct scratch {
    dict **dbs;
    int dbnum;
    const struct rdb_sink *notify;
};

static void free_value_cb(void *v) { value_free(v); }

static int scratch_add(void *priv, int dbid, const char *key, size_t keylen, struct value *v, long long expire_ms,
                       sstr *err)
{
    struct scratch *s = priv;
    (void)expire_ms;
    if (!s->dbs[dbid])
        s->dbs[dbid] = dict_create(free_value_cb, 0);
    dict_entry *e = dict_add(s->dbs[dbid], key, keylen, NULL);
    if (!e) {
        value_free(v);
        *err = cat_key(sstr_from("Duplicated key "), key, keylen);
        *err = sstr_catfmt(*err, " in DB %d", dbid);
        return -1;
    }
    e->v.ptr = v;
    return 0;
}

static struct value *scratch_lookup(void *priv, int dbid, const char *key, size_t keylen)
{
    struct scratch *s = priv;
    dict_entry *e = s->dbs[dbid] ? dict_find(s->dbs[dbid], key, keylen) : NULL;
    return e ? e->v.ptr : NULL;
}

static void scratch_aux(void *priv, const char *k, size_t kl, const char *v, size_t vl, uint64_t off)
{
    struct scratch *s = priv;
    if (s->notify && s->notify->aux)
        s->notify->aux(s->notify->priv, k, kl, v, vl, off);
}

static void scratch_select(void *priv, int dbid, uint64_t off)
{
    struct scratch *s = priv;
    if (s->notify && s->notify->select_db)
        s->notify->select_db(s->notify->priv, dbid, off);
}

int rdb_check(rio *r, const struct rdb_load_opts *o, const struct rdb_sink *notify, struct rdb_load_stats *st,
              sstr *err)
{
    struct scratch s = {mem_calloc(sizeof(dict *) * (size_t)(o->dbnum > 0 ? o->dbnum : 1)), o->dbnum, notify};
    struct rdb_sink sink = {scratch_add, scratch_lookup, scratch_aux, scratch_select, &s};
    int rc = rdb_parse(r, o, &sink, st, err);
    for (int i = 0; i < o->dbnum; i++)
        if (s.dbs[i])
            dict_free(s.dbs[i]);
    mem_free(s.dbs);
    return rc;
}

/* ---- standalone use ---------------------------------------------------------------------- */

void rdb_stream_standalone_init(void); /* rdb_stream.c */

static void list_free(void *p) { qlog_free(p); }
static void *list_dup(const void *p) { return qlog_dup(p); }
static size_t list_mem(const void *p) { return qlog_mem_usage(p); }
static const struct value_ops standalone_list_ops = {list_free, list_dup, list_mem, NULL};

void rdb_standalone_init(void)
{
    value_register_type(OBJ_LIST, &standalone_list_ops);
    rdb_stream_standalone_init();
}
