/* t_stream.c - the stream commands: XADD XRANGE XREVRANGE XLEN XDEL XTRIM
 * XSETID XREAD XREADGROUP, and Redis 8.6's XCFGSET and XIDMPRECORD.
 * Consumer-group commands are in t_stream_group.c, XINFO in
 * t_stream_info.c; the value itself (data layout, trimming, deletion) in
 * t_stream_store.c, groups in t_stream_cg.c, idempotency in t_stream_idmp.c.
 *
 * Every command parses and validates in Redis 7.0's order (the first bad
 * argument decides the error), then calls the stream API, and replies as
 * Redis does in RESP2 and RESP3.
 *
 * Recording for AOF and replicas (propagate.h), exactly as Redis 7.0 does:
 *   XADD *            the ID it generated; `~` trimming as `=` with the
 *                     resulting length / first ID (exact on replay)
 *   XADD IDMP...      XADD with the ID, without IDMP, then XIDMPRECORD
 *   XTRIM ~           as `=`, like XADD
 *   XREADGROUP        XCLAIM ... 0 <id> TIME <ms> RETRYCOUNT <n> FORCE JUSTID
 *                     LASTID <id> per delivered entry; with NOACK (no
 *                     pending entries) XGROUP SETID <id> ENTRIESREAD <n>
 *                     instead, and XGROUP CREATECONSUMER for a consumer it
 *                     created; nothing else
 *   XREAD             nothing
 *
 * Blocking (XREAD/XREADGROUP BLOCK) goes through blocking.c: a client that
 * can't be served blocks on its keys; when a key is signalled ready the
 * block kind's can_serve() says whether that key has something for it
 * (an entry past the ID it waits after, or its group gone), and the
 * command runs again, serving only that key, as Redis serves the ready
 * key.  What the first run resolved ("$" IDs, the timeout) travels in the
 * block state; blocking.c frees it just before the re-run, so free_priv
 * keeps the last one aside for the re-run to take back.  A waiting
 * XREADGROUP is also registered on its streams: when one is freed or
 * leaves its key (RENAME, MOVE, SWAPDB: value_unlinked()), the waiter gets
 * Redis's -UNBLOCKED error unless the key holds a stream again once the
 * command is over.
 */
#include <assert.h>
#include <event2/event.h>
#include <limits.h>
#include <string.h>

#include "blocking.h"
#include "db.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "t_stream_int.h"
#include "util.h"

#define XREAD_BLOCKED_DEFAULT_COUNT 1000

static const char *const ERR_INVALID_ID = "Invalid stream ID specified as stream command argument";

/* %s of a possibly binary argument, as Redis formats an sds: up to a NUL. */
static int cstrlen(const struct arg *a)
{
    const char *nul = memchr(a->ptr, '\0', a->len);
    return (int)(nul ? (size_t)(nul - a->ptr) : a->len);
}

int stream_check_type(struct client *c, struct value *v)
{
    if (v && v->type != OBJ_STREAM) {
        reply_error(c, ERR_WRONGTYPE);
        return -1;
    }
    return 0;
}

void stream_reply_id(struct client *c, const streamID *id)
{
    char buf[48];
    int n = sid_format(buf, id);
    reply_bulk(c, buf, (size_t)n);
}

/* ---- ID parsing ---------------------------------------------------------------- */

/* Redis 7.0's string2ull: a long long if it is one (then not negative),
 * else whatever strtoull accepts whole (leading blanks, '+', zeros). */
static int parse_u64(const char *p, unsigned long long *v)
{
    long long ll;
    size_t len = strlen(p);
    if (string2ll(p, len, &ll)) {
        if (ll < 0)
            return 0;
        *v = (unsigned long long)ll;
        return 1;
    }
    return string2ull(p, len, v);
}

int stream_parse_id(struct client *c, const struct arg *a, streamID *id, uint64_t missing_seq, int strict,
                    int *seq_given)
{
    char buf[128];
    if (a->len > sizeof(buf) - 1)
        goto invalid;
    memcpy(buf, a->ptr, a->len);
    buf[a->len] = '\0';
    if (strict && (buf[0] == '-' || buf[0] == '+') && buf[1] == '\0')
        goto invalid;
    if (seq_given)
        *seq_given = 1;
    if (buf[0] == '-' && buf[1] == '\0') {
        id->ms = id->seq = 0;
        return 0;
    }
    if (buf[0] == '+' && buf[1] == '\0') {
        id->ms = id->seq = UINT64_MAX;
        return 0;
    }
    unsigned long long ms, seq;
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (!parse_u64(buf, &ms))
        goto invalid;
    if (dash) {
        if (seq_given && dash[1] == '*' && dash[2] == '\0') {
            seq = 0;
            *seq_given = 0;
        } else if (!parse_u64(dash + 1, &seq)) {
            goto invalid;
        }
    } else {
        seq = missing_seq;
    }
    id->ms = ms;
    id->seq = seq;
    return 0;
invalid:
    if (c)
        reply_error(c, ERR_INVALID_ID);
    return -1;
}

int stream_parse_interval(struct client *c, const struct arg *a, streamID *id, int *exclude, uint64_t missing_seq)
{
    if (exclude)
        *exclude = a->len > 1 && a->ptr[0] == '(';
    if (exclude && *exclude) {
        struct arg rest = {a->ptr + 1, a->len - 1};
        return stream_parse_id(c, &rest, id, missing_seq, 1, NULL);
    }
    return stream_parse_id(c, a, id, missing_seq, 0, NULL);
}

/* ---- replies and records ------------------------------------------------------------- */

static void reply_entry_fields(struct client *c, stream_iter *si, uint64_t nf)
{
    reply_array_len(c, (long)(nf * 2));
    while (nf--) {
        const char *f, *v;
        size_t fl, vl;
        stream_iter_field(si, &f, &fl, &v, &vl);
        reply_bulk(c, f, fl);
        reply_bulk(c, v, vl);
    }
}

void stream_propagate_xclaim(struct client *c, const struct arg *key, const struct stream_cg *g,
                             const struct arg *group, const char *id, size_t idlen, const struct stream_nack *n)
{
    char t[24], rc[24], last[48];
    struct arg argv[14] = {
        {"XCLAIM", 6}, *key, *group, {n->consumer->name, sstr_len(n->consumer->name)}, {"0", 1}, {id, idlen},
        {"TIME", 4}, {t, (size_t)ll2string(t, sizeof(t), n->delivery_time)}, {"RETRYCOUNT", 10},
        {rc, (size_t)ll2string(rc, sizeof(rc), (long long)n->delivery_count)}, {"FORCE", 5}, {"JUSTID", 6},
        {"LASTID", 6}, {last, (size_t)sid_format(last, &g->last_id)},
    };
    propagate_also(c->db, 14, argv);
}

void stream_propagate_group_id(struct client *c, const struct arg *key, const struct stream_cg *g,
                               const struct arg *group)
{
    char id[48], er[24];
    struct arg argv[7] = {
        {"XGROUP", 6}, {"SETID", 5}, *key, *group, {id, (size_t)sid_format(id, &g->last_id)},
        {"ENTRIESREAD", 11}, {er, (size_t)ll2string(er, sizeof(er), g->entries_read)},
    };
    propagate_also(c->db, 7, argv);
}

static void propagate_consumer_creation(struct client *c, const struct arg *key, const struct arg *group,
                                        const struct stream_consumer *consumer)
{
    struct arg argv[5] = {
        {"XGROUP", 6}, {"CREATECONSUMER", 14}, *key, *group, {consumer->name, sstr_len(consumer->name)},
    };
    propagate_also(c->db, 5, argv);
}

/* A consumer's own pending entries from start on (XREADGROUP with an ID):
 * each is redelivered (time, count), or shown with a null body when the
 * entry is gone from the stream. */
static size_t reply_consumer_pel(struct client *c, stream *s, const streamID *start, size_t count,
                                 struct stream_consumer *consumer)
{
    void *deferred = reply_defer_len(c);
    size_t n = 0;
    long long now = mstime();
    idtree_iter it;
    struct idkey id;
    void *v;
    idtree_seek(&it, consumer->pel, start);
    while ((!count || n < count) && idtree_next(&it, &id, &v)) {
        struct stream_nack *nack = v;
        if (stream_reply_range(c, s, &id, &id, 1, 0, NULL, NULL, RWR_RAWENTRIES, NULL) == 0) {
            reply_array_len(c, 2);
            stream_reply_id(c, &id);
            reply_null_array(c);
        } else {
            nack->delivery_time = now;
            nack->delivery_count++;
        }
        n++;
    }
    reply_set_deferred_array(c, deferred, (long)n);
    return n;
}

size_t stream_reply_range(struct client *c, stream *s, const streamID *start, const streamID *end, size_t count,
                          int rev, struct stream_cg *g, struct stream_consumer *consumer, int flags,
                          const struct stream_prop *prop)
{
    if (g && (flags & RWR_HISTORY))
        return reply_consumer_pel(c, s, start, count, consumer);
    void *deferred = (flags & RWR_RAWENTRIES) ? NULL : reply_defer_len(c);
    size_t n = 0;
    int propagate_last_id = 0;
    long long now = g ? mstime() : 0;
    stream_iter si;
    streamID id;
    uint64_t nf;
    stream_iter_start(&si, s, start, end, rev);
    while (stream_iter_next(&si, &id, &nf)) {
        if (g && sid_cmp(&id, &g->last_id) > 0) {
            /* a valid counter and no tombstone ahead: count this read;
             * otherwise try to learn the counter again */
            if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !stream_range_has_tombstones(s, &id, NULL))
                g->entries_read++;
            else if (s->entries_added)
                g->entries_read = stream_estimate_entries_read(s, &id);
            g->last_id = id;
            /* Redis 7.0 records the new last ID apart only with NOACK:
             * otherwise each XCLAIM's LASTID carries it */
            if (flags & RWR_NOACK)
                propagate_last_id = 1;
        }
        reply_array_len(c, 2);
        stream_reply_id(c, &id);
        reply_entry_fields(c, &si, nf);
        if (g && !(flags & RWR_NOACK)) {
            /* the entry may already be pending (XGROUP SETID moved the
             * group back): it then changes hands */
            struct stream_nack *nack = idtree_find(g->pel, &id);
            if (!nack) {
                nack = stream_nack_new(consumer, now);
                idtree_insert(g->pel, &id, nack);
                int inserted = idtree_insert(consumer->pel, &id, nack);
                assert(inserted);
                (void)inserted;
            } else {
                idtree_remove(nack->consumer->pel, &id);
                nack->consumer = consumer;
                nack->delivery_time = now;
                nack->delivery_count = 1;
                idtree_insert(consumer->pel, &id, nack);
            }
            if (prop) {
                char buf[48];
                int len = sid_format(buf, &id);
                stream_propagate_xclaim(c, prop->key, g, prop->group, buf, (size_t)len, nack);
            }
        }
        n++;
        if (count && count == n)
            break;
    }
    if (prop && propagate_last_id)
        stream_propagate_group_id(c, prop->key, g, prop->group);
    if (deferred)
        reply_set_deferred_array(c, deferred, (long)n);
    return n;
}

/* ---- XADD / XTRIM ------------------------------------------------------------------------ */

struct add_args {
    /* XADD */
    streamID id;
    int id_given, seq_given, no_mkstream;
    /* idempotency (8.6) */
    int idmp;       /* 0, or 1 IDMP, 2 IDMPAUTO */
    int idmp_pos;   /* argv index of the IDMP/IDMPAUTO token */
    struct arg pid, iid;
    /* trimming */
    struct stream_trim trim;
    int trim_arg_idx; /* argv index of the threshold, for the record */
};

/* Redis's streamParseAddOrTrimArgsOrReply, plus IDMP/IDMPAUTO: returns the
 * ID's position (XADD), or -1 after replying an error. */
static int parse_add_or_trim(struct client *c, struct add_args *a, int xadd)
{
    memset(a, 0, sizeof(*a));
    int i = 2, limit_given = 0;
    for (; i < c->argc; i++) {
        int moreargs = c->argc - 1 - i;
        const struct arg *opt = &c->argv[i];
        if (xadd && opt->len == 1 && opt->ptr[0] == '*') {
            break; /* the common case, fast */
        } else if (arg_is(opt, "maxlen") && moreargs) {
            if (a->trim.strategy != TRIM_NONE) {
                reply_error(c, "syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            a->trim.approx = 0;
            const struct arg *next = &c->argv[i + 1];
            if (moreargs >= 2 && next->len == 1 && next->ptr[0] == '~') {
                a->trim.approx = 1;
                i++;
            } else if (moreargs >= 2 && next->len == 1 && next->ptr[0] == '=') {
                i++;
            }
            if (arg_ll(c, &c->argv[i + 1], &a->trim.maxlen, NULL) < 0)
                return -1;
            if (a->trim.maxlen < 0) {
                reply_error(c, "The MAXLEN argument must be >= 0.");
                return -1;
            }
            i++;
            a->trim.strategy = TRIM_MAXLEN;
            a->trim_arg_idx = i;
        } else if (arg_is(opt, "minid") && moreargs) {
            if (a->trim.strategy != TRIM_NONE) {
                reply_error(c, "syntax error, MAXLEN and MINID options at the same time are not compatible");
                return -1;
            }
            a->trim.approx = 0;
            const struct arg *next = &c->argv[i + 1];
            if (moreargs >= 2 && next->len == 1 && next->ptr[0] == '~') {
                a->trim.approx = 1;
                i++;
            } else if (moreargs >= 2 && next->len == 1 && next->ptr[0] == '=') {
                i++;
            }
            if (stream_parse_id(c, &c->argv[i + 1], &a->trim.minid, 0, 1, NULL) < 0)
                return -1;
            i++;
            a->trim.strategy = TRIM_MINID;
            a->trim_arg_idx = i;
        } else if (arg_is(opt, "limit") && moreargs) {
            if (arg_ll(c, &c->argv[i + 1], &a->trim.limit, NULL) < 0)
                return -1;
            if (a->trim.limit < 0) {
                reply_error(c, "The LIMIT argument must be >= 0.");
                return -1;
            }
            limit_given = 1;
            i++;
        } else if (xadd && arg_is(opt, "nomkstream")) {
            a->no_mkstream = 1;
        } else if (xadd && arg_is(opt, "idmp") && moreargs >= 2) {
            if (a->idmp) {
                reply_error(c, "IDMP/IDMPAUTO specified multiple times");
                return -1;
            }
            if (c->argv[i + 1].len == 0) {
                reply_error(c, "IDMP requires a non-empty producer ID");
                return -1;
            }
            if (c->argv[i + 2].len == 0) {
                reply_error(c, "IDMP requires a non-empty idempotent ID");
                return -1;
            }
            a->idmp = 1;
            a->idmp_pos = i;
            a->pid = c->argv[i + 1];
            a->iid = c->argv[i + 2];
            i += 2;
        } else if (xadd && arg_is(opt, "idmpauto") && moreargs >= 1) {
            if (a->idmp) {
                reply_error(c, "IDMP/IDMPAUTO specified multiple times");
                return -1;
            }
            if (c->argv[i + 1].len == 0) {
                reply_error(c, "IDMPAUTO requires a non-empty producer ID");
                return -1;
            }
            a->idmp = 2;
            a->idmp_pos = i;
            a->pid = c->argv[i + 1];
            i++;
        } else if (xadd) {
            /* an ID, or a syntax error */
            if (stream_parse_id(c, opt, &a->id, 0, 1, &a->seq_given) < 0)
                return -1;
            a->id_given = 1;
            if (a->idmp) {
                reply_error(c, "IDMP/IDMPAUTO can be used only with auto-generated IDs");
                return -1;
            }
            break;
        } else {
            reply_error(c, ERR_SYNTAX);
            return -1;
        }
    }
    if (a->trim.limit && a->trim.strategy == TRIM_NONE) {
        reply_error(c, "syntax error, LIMIT cannot be used without specifying a trimming strategy");
        return -1;
    }
    if (!xadd && a->trim.strategy == TRIM_NONE) {
        reply_error(c, "syntax error, XTRIM must be called with a trimming strategy");
        return -1;
    }
    if (c->flags & CLIENT_LOADING_CLIENT) {
        /* replaying our own record: `=` with LIMIT was written by us */
        a->trim.limit = 0;
    } else if (limit_given) {
        if (!a->trim.approx) {
            reply_error(c, "syntax error, LIMIT cannot be used without the special ~ option");
            return -1;
        }
    } else if (a->trim.approx) {
        /* bound the work `~` may do: at most 100 nodes */
        a->trim.limit = 100 * srv.stream_node_max_entries;
        if (a->trim.limit <= 0)
            a->trim.limit = 10000;
        if (a->trim.limit > 1000000)
            a->trim.limit = 1000000;
    } else {
        a->trim.limit = 0;
    }
    return i;
}

/* The record of a `~` trim is the exact trim it turned into: `=` and the
 * resulting length (MAXLEN) or first entry ID, tombstones included (MINID;
 * Redis gives the maximal ID for an empty stream). */
static void trim_record_args(stream *s, const struct add_args *a, struct arg *argv, char *buf)
{
    argv[a->trim_arg_idx - 1] = (struct arg){"=", 1};
    int n;
    if (a->trim.strategy == TRIM_MAXLEN) {
        n = ll2string(buf, 48, (long long)s->length);
    } else {
        streamID first = {UINT64_MAX, UINT64_MAX};
        if (qlog_length(s->log))
            stream_first_entry_id(s, &first);
        n = sid_format(buf, &first);
    }
    argv[a->trim_arg_idx] = (struct arg){buf, (size_t)n};
}

static stream *lookup_write_or_create(struct client *c, int no_create)
{
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (stream_check_type(c, v) < 0)
        return NULL;
    if (!v) {
        if (no_create) {
            reply_null(c);
            return NULL;
        }
        v = stream_value_new();
        db_add(c->db, key->ptr, key->len, v);
    }
    return stream_of(v);
}

static void xadd_command(struct client *c)
{
    struct add_args a;
    int idpos = parse_add_or_trim(c, &a, 1);
    if (idpos < 0)
        return;
    int field_pos = idpos + 1;
    if (c->argc - field_pos < 2 || (c->argc - field_pos) % 2 == 1) {
        reply_errorf(c, "wrong number of arguments for '%s' command", c->cmd->fullname);
        return;
    }
    /* before creating the key: a 0-0 XADD must not leave an empty stream */
    if (a.id_given && a.seq_given && a.id.ms == 0 && a.id.seq == 0) {
        reply_error(c, "The ID specified in XADD must be greater than 0-0");
        return;
    }
    stream *s = lookup_write_or_create(c, a.no_mkstream);
    if (!s)
        return;

    uint64_t nf = (uint64_t)(c->argc - field_pos) / 2;
    const char *fv_small[32];
    size_t fvlen_small[32];
    const char **fv = nf <= 16 ? fv_small : mem_alloc(sizeof(*fv) * nf * 2);
    size_t *fvlen = nf <= 16 ? fvlen_small : mem_alloc(sizeof(*fvlen) * nf * 2);
    for (uint64_t i = 0; i < nf * 2; i++) {
        fv[i] = c->argv[field_pos + (int)i].ptr;
        fvlen[i] = c->argv[field_pos + (int)i].len;
    }
    unsigned char autoiid[16];
    if (a.idmp == 2) {
        stream_idmp_auto_iid(nf, fv, fvlen, autoiid);
        a.iid = (struct arg){(const char *)autoiid, sizeof(autoiid)};
    }
    streamID id;
    long long now = mstime();
    if (a.idmp && stream_idmp_lookup(s, a.pid.ptr, a.pid.len, a.iid.ptr, a.iid.len, now, &id, 1)) {
        /* a retry: the original entry's ID, nothing appended */
        stream_reply_id(c, &id);
        goto done;
    }
    if (s->last_id.ms == UINT64_MAX && s->last_id.seq == UINT64_MAX) {
        reply_error(c, "The stream has exhausted the last possible ID, unable to add more items");
        goto done;
    }
    if (!a.id_given) {
        uint64_t ms = (uint64_t)now;
        if (ms > s->last_id.ms) {
            id.ms = ms;
            id.seq = 0;
        } else {
            id = s->last_id;
            sid_incr(&id);
        }
    } else if (!a.seq_given) {
        /* ms-*: the next sequence in the last ID's millisecond */
        if (s->last_id.ms == a.id.ms) {
            if (s->last_id.seq == UINT64_MAX) {
                /* Redis 7.0 fails here without setting errno: hence the
                 * other error's text */
                reply_error(c, "Elements are too large to be stored");
                goto done;
            }
            id = s->last_id;
            id.seq++;
        } else {
            id = a.id;
        }
    } else {
        id = a.id;
    }
    if (sid_cmp(&id, &s->last_id) <= 0) {
        reply_error(c, "The ID specified in XADD is equal or smaller than the target stream top item");
        goto done;
    }
    if (stream_elements_too_large(nf, fvlen)) {
        reply_error(c, "Elements are too large to be stored");
        goto done;
    }
    stream_append(s, &id, nf, fv, fvlen);
    stream_reply_id(c, &id);
    srv.dirty++;
    if (a.trim.strategy != TRIM_NONE)
        stream_trim(s, &a.trim);
    if (a.idmp)
        stream_idmp_record(s, a.pid.ptr, a.pid.len, a.iid.ptr, a.iid.len, &id, now);
    db_signal_modified(c->db, c->argv[1].ptr, c->argv[1].len);
    db_signal_key_ready(c->db, c->argv[1].ptr, c->argv[1].len);

    /* the record: explicit ID, exact trim, no IDMP (XIDMPRECORD instead) */
    struct arg *argv = mem_alloc(sizeof(*argv) * (size_t)c->argc);
    memcpy(argv, c->argv, sizeof(*argv) * (size_t)c->argc);
    char idbuf[48], trimbuf[48];
    struct arg idarg = {idbuf, (size_t)sid_format(idbuf, &id)};
    if (!a.id_given || !a.seq_given) /* an ID given in full is recorded as given */
        argv[idpos] = idarg;
    if (a.trim.strategy != TRIM_NONE && a.trim.approx)
        trim_record_args(s, &a, argv, trimbuf);
    int argc = c->argc;
    if (a.idmp) {
        int drop = a.idmp == 1 ? 3 : 2;
        memmove(argv + a.idmp_pos, argv + a.idmp_pos + drop, sizeof(*argv) * (size_t)(argc - a.idmp_pos - drop));
        argc -= drop;
        struct arg rec[5] = {{"XIDMPRECORD", 11}, c->argv[1], a.pid, a.iid, idarg};
        propagate_prevent(c);
        propagate_also(c->db, argc, argv);
        propagate_also(c->db, 5, rec);
    } else {
        propagate_rewrite(c, argc, argv);
    }
    mem_free(argv);
done:
    if (fv != fv_small) {
        mem_free(fv);
        mem_free(fvlen);
    }
}

static void xtrim_command(struct client *c)
{
    struct add_args a;
    if (parse_add_or_trim(c, &a, 0) < 0)
        return;
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    stream *s = stream_of(v);
    long long deleted = stream_trim(s, &a.trim);
    if (deleted) {
        if (a.trim.approx) {
            struct arg *argv = mem_alloc(sizeof(*argv) * (size_t)c->argc);
            memcpy(argv, c->argv, sizeof(*argv) * (size_t)c->argc);
            char buf[48];
            trim_record_args(s, &a, argv, buf);
            propagate_rewrite(c, c->argc, argv);
            mem_free(argv);
        }
        db_signal_modified(c->db, key->ptr, key->len);
        srv.dirty += deleted;
    }
    reply_int(c, deleted);
}

/* ---- XRANGE / XREVRANGE / XLEN ---------------------------------------------------------------- */

static void xrange_generic(struct client *c, int rev)
{
    streamID startid, endid;
    long long count = -1;
    const struct arg *startarg = rev ? &c->argv[3] : &c->argv[2];
    const struct arg *endarg = rev ? &c->argv[2] : &c->argv[3];
    int startex = 0, endex = 0;
    if (stream_parse_interval(c, startarg, &startid, &startex, 0) < 0)
        return;
    if (startex && sid_incr(&startid) < 0) {
        reply_error(c, "invalid start ID for the interval");
        return;
    }
    if (stream_parse_interval(c, endarg, &endid, &endex, UINT64_MAX) < 0)
        return;
    if (endex && sid_decr(&endid) < 0) {
        reply_error(c, "invalid end ID for the interval");
        return;
    }
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (arg_is(&c->argv[j], "COUNT") && additional >= 1) {
            if (arg_ll(c, &c->argv[j + 1], &count, NULL) < 0)
                return;
            if (count < 0)
                count = 0;
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_array_len(c, 0);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    if (count == 0) {
        reply_null_array(c);
        return;
    }
    stream_reply_range(c, stream_of(v), &startid, &endid, count == -1 ? 0 : (size_t)count, rev, NULL, NULL, 0,
                       NULL);
}

static void xrange_command(struct client *c) { xrange_generic(c, 0); }
static void xrevrange_command(struct client *c) { xrange_generic(c, 1); }

static void xlen_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    reply_int(c, (long long)stream_of(v)->length);
}

/* ---- XDEL / XSETID --------------------------------------------------------------------------------- */

static void xdel_command(struct client *c)
{
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_int(c, 0);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    stream *s = stream_of(v);
    /* all IDs first: the command is all or nothing */
    int n = c->argc - 2;
    streamID *ids = mem_alloc(sizeof(*ids) * (size_t)n);
    for (int j = 0; j < n; j++) {
        if (stream_parse_id(c, &c->argv[2 + j], &ids[j], 0, 1, NULL) < 0) {
            mem_free(ids);
            return;
        }
    }
    long long deleted = 0;
    int first_entry = 0;
    for (int j = 0; j < n; j++) {
        if (!stream_delete_entry(s, &ids[j]))
            continue;
        if (sid_cmp(&ids[j], &s->first_id) == 0)
            first_entry = 1;
        if (sid_cmp(&ids[j], &s->max_deleted_id) > 0)
            s->max_deleted_id = ids[j];
        deleted++;
    }
    mem_free(ids);
    if (deleted) {
        if (s->length == 0)
            s->first_id.ms = s->first_id.seq = 0;
        else if (first_entry)
            stream_first_valid_id(s, &s->first_id);
        db_signal_modified(c->db, key->ptr, key->len);
        srv.dirty += deleted;
    }
    reply_int(c, deleted);
}

static void xsetid_command(struct client *c)
{
    streamID id, max_xdel_id = {0, 0};
    long long entries_added = -1;
    if (stream_parse_id(c, &c->argv[2], &id, 0, 1, NULL) < 0)
        return;
    for (int i = 3; i < c->argc;) {
        int moreargs = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "ENTRIESADDED") && moreargs) {
            if (arg_ll(c, &c->argv[i + 1], &entries_added, NULL) < 0)
                return;
            if (entries_added < 0) {
                reply_error(c, "entries_added must be positive");
                return;
            }
            i += 2;
        } else if (arg_is(&c->argv[i], "MAXDELETEDID") && moreargs) {
            if (stream_parse_id(c, &c->argv[i + 1], &max_xdel_id, 0, 1, NULL) < 0)
                return;
            if (sid_cmp(&id, &max_xdel_id) < 0) {
                reply_error(c, "The ID specified in XSETID is smaller than the provided max_deleted_entry_id");
                return;
            }
            i += 2;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    stream *s = stream_of(v);
    if (s->length > 0) {
        streamID maxid;
        stream_last_valid_id(s, &maxid);
        if (sid_cmp(&id, &maxid) < 0) {
            reply_error(c, "The ID specified in XSETID is smaller than the target stream top item");
            return;
        }
        if (entries_added != -1 && s->length > (uint64_t)entries_added) {
            reply_error(c, "The entries_added specified in XSETID is smaller than the target stream length");
            return;
        }
    }
    s->last_id = id;
    if (entries_added != -1)
        s->entries_added = (uint64_t)entries_added;
    if (!sid_is_zero(&max_xdel_id))
        s->max_deleted_id = max_xdel_id;
    reply_ok(c);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
}

/* ---- XREAD / XREADGROUP ------------------------------------------------------------------------------- */

/* What a blocked XREAD/XREADGROUP waits for (its block state). */
struct xread_wait {
    struct client *c;
    uint64_t client_id;
    int group, noack;
    long long count;       /* entries per served key (0: no limit) */
    long long timeout;     /* absolute ms, 0: forever */
    int streams_arg, nkeys;
    streamID *ids;         /* XREAD: serve after; XREADGROUP: "> " (max ID) */
    sstr groupname, consumer;
    struct stream_waiter *waiters; /* XREADGROUP: one per key */
    int check_queued;      /* on gone_queue: a stream of ours was freed */
    int key_gone;          /* unblocked because its key holds no stream */
};

static void xread_wait_free(struct xread_wait *w)
{
    if (!w)
        return;
    mem_free(w->ids);
    if (w->groupname)
        sstr_free(w->groupname);
    if (w->consumer)
        sstr_free(w->consumer);
    mem_free(w->waiters);
    mem_free(w);
}

static void unregister_waiters(struct xread_wait *w)
{
    for (int i = 0; w->waiters && i < w->nkeys; i++) {
        struct stream_waiter *sw = &w->waiters[i];
        if (sw->s && list_node_linked(&sw->node))
            list_del(&sw->s->waiters, &sw->node);
        sw->s = NULL;
    }
}

/* XREADGROUP waiters whose stream was freed (DEL, SET over it, FLUSHALL,
 * expiry, a stream renamed over it...).  Redis tells them "-UNBLOCKED the
 * stream key no longer exists" unless the key holds a stream again when
 * the command that freed it is over (then the usual rules apply: served,
 * -NOGROUP, or waiting on).  The check runs right after that command, from
 * the event loop. */
static struct xread_wait **gone_queue;
static size_t gone_len, gone_cap;
static struct event *gone_event;

static void dequeue_gone(struct xread_wait *w)
{
    for (size_t i = 0; i < gone_len; i++) {
        if (gone_queue[i] == w) {
            gone_queue[i] = gone_queue[--gone_len];
            break;
        }
    }
    w->check_queued = 0;
}

/* Registers each key's stream (as the key holds it now) as waited on. */
static void register_waiters(struct client *c, struct xread_wait *w)
{
    if (!w->waiters)
        w->waiters = mem_calloc(sizeof(*w->waiters) * (size_t)w->nkeys);
    for (int i = 0; i < w->nkeys; i++) {
        struct stream_waiter *sw = &w->waiters[i];
        if (sw->s)
            continue;
        const struct arg *k = &c->argv[w->streams_arg + i];
        struct value *v = db_peek(c->db, k->ptr, k->len);
        sw->owner = w;
        sw->gone = 0;
        if (v && v->type == OBJ_STREAM) {
            sw->s = stream_of(v);
            list_add_tail(&sw->s->waiters, &sw->node);
        }
    }
}

static void check_gone_waiters(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
    /* a waiter may be unblocked (its state stashed, see below) while we go:
     * work on a copy, which nothing but this loop frees from */
    size_t n = gone_len;
    struct xread_wait **batch = mem_alloc(sizeof(*batch) * (n ? n : 1));
    memcpy(batch, gone_queue, sizeof(*batch) * n);
    for (size_t i = 0; i < n; i++)
        batch[i]->check_queued = 0;
    gone_len = 0;
    for (size_t i = 0; i < n; i++) {
        struct xread_wait *w = batch[i];
        struct client *c = w->c;
        int gone = 0;
        for (int k = 0; k < w->nkeys && !gone; k++) {
            if (!w->waiters[k].gone)
                continue;
            const struct arg *key = &c->argv[w->streams_arg + k];
            struct value *v = db_peek(c->db, key->ptr, key->len);
            gone = !v || v->type != OBJ_STREAM;
        }
        if (gone) {
            w->key_gone = 1;
            blocking_unblock_client(c, 0); /* the timeout reply says why */
        } else {
            register_waiters(c, w);
        }
    }
    mem_free(batch);
}

static void on_waiter_gone(struct stream_waiter *sw)
{
    struct xread_wait *w = sw->owner;
    if (w->check_queued)
        return;
    if (gone_len == gone_cap) {
        gone_cap = gone_cap ? gone_cap * 2 : 8;
        gone_queue = mem_realloc(gone_queue, sizeof(*gone_queue) * gone_cap);
    }
    gone_queue[gone_len++] = w;
    w->check_queued = 1;
    if (!gone_event)
        gone_event = evtimer_new(srv.base, check_gone_waiters, NULL);
    struct timeval now = {0, 0};
    evtimer_add(gone_event, &now);
}

/* blocking.c frees the state just before re-running the command; the last
 * one freed is kept here until the next, for that re-run to take back. */
static struct xread_wait *last_unblocked;

static void xread_free_priv(void *priv)
{
    struct xread_wait *w = priv;
    unregister_waiters(w);
    if (w->check_queued)
        dequeue_gone(w);
    xread_wait_free(last_unblocked);
    last_unblocked = w;
}

static struct xread_wait *take_unblocked(struct client *c)
{
    struct xread_wait *w = last_unblocked;
    if (!w || w->c != c || w->client_id != c->id)
        return NULL;
    last_unblocked = NULL;
    return w;
}

static int wait_key_index(const struct client *c, const struct xread_wait *w, const char *key, size_t len)
{
    for (int i = 0; i < w->nkeys; i++) {
        const struct arg *k = &c->argv[w->streams_arg + i];
        if (k->len == len && memcmp(k->ptr, key, len) == 0)
            return i;
    }
    return -1;
}

/* Redis serves a blocked reader when the stream's last ID passed the one
 * it waits after (for a group: the group's last-delivered ID), or when its
 * group is gone (it then gets an error). */
static int xread_can_serve(struct client *c, struct db *db, const char *key, size_t len, struct value *v)
{
    (void)db;
    struct xread_wait *w = c->bstate.priv;
    int i = wait_key_index(c, w, key, len);
    if (i < 0)
        return 0;
    stream *s = stream_of(v);
    if (w->group) {
        struct stream_cg *g = stream_group_lookup(s, w->groupname, sstr_len(w->groupname));
        return !g || sid_cmp(&s->last_id, &g->last_id) > 0;
    }
    return sid_cmp(&s->last_id, &w->ids[i]) > 0;
}

static void xread_timeout_reply(struct client *c)
{
    struct xread_wait *w = c->bstate.priv;
    if (w && w->key_gone)
        reply_error(c, "-UNBLOCKED the stream key no longer exists");
    else
        reply_null_array(c);
}

static const struct block_kind block_stream = {
    "stream", OBJ_STREAM, xread_can_serve, xread_timeout_reply, xread_free_priv,
};

static void block_on_streams(struct client *c, struct xread_wait *w)
{
    if (w->group) {
        stream_waiter_gone = on_waiter_gone;
        register_waiters(c, w);
    }
    int idx[64], *keys = w->nkeys <= 64 ? idx : mem_alloc(sizeof(int) * (size_t)w->nkeys);
    for (int i = 0; i < w->nkeys; i++)
        keys[i] = w->streams_arg + i;
    blocking_block_client(c, &block_stream, keys, w->nkeys, w->timeout, w);
    if (keys != idx)
        mem_free(keys);
}

/* The re-run of a blocked reader, for the key that became ready: serve that
 * key alone, as Redis's serveClientsBlockedOnStreamKey does. */
static void serve_blocked(struct client *c, const struct arg *ready)
{
    struct xread_wait *w = take_unblocked(c);
    assert(w);
    propagate_prevent(c);
    int i = wait_key_index(c, w, ready->ptr, ready->len);
    struct value *v = i >= 0 ? db_peek(c->db, ready->ptr, ready->len) : NULL;
    if (!v || v->type != OBJ_STREAM) {
        block_on_streams(c, w);
        return;
    }
    stream *s = stream_of(v);
    const struct arg *key = &c->argv[w->streams_arg + i];
    struct stream_cg *g = NULL;
    streamID gt = w->ids[i];
    if (w->group) {
        g = stream_group_lookup(s, w->groupname, sstr_len(w->groupname));
        if (!g) {
            reply_error(c, "-NOGROUP the consumer group this client was blocked on no longer exists");
            xread_wait_free(w);
            return;
        }
        gt = g->last_id;
    }
    if (sid_cmp(&s->last_id, &gt) <= 0) {
        block_on_streams(c, w); /* nothing for us after all */
        return;
    }
    streamID start = gt;
    sid_incr(&start);
    struct stream_consumer *consumer = NULL;
    struct arg groupname = {0};
    if (g) {
        groupname = (struct arg){w->groupname, sstr_len(w->groupname)};
        long long now = mstime();
        consumer = stream_consumer_lookup(g, w->consumer, sstr_len(w->consumer));
        if (!consumer) {
            consumer = stream_consumer_get(g, w->consumer, sstr_len(w->consumer), now);
            srv.dirty++;
            if (w->noack)
                propagate_consumer_creation(c, key, &groupname, consumer);
        }
        consumer->seen_time = now;
    }
    if (c->resp == 2) {
        reply_array_len(c, 1);
        reply_array_len(c, 2);
    } else {
        reply_map_len(c, 1);
    }
    reply_bulk(c, key->ptr, key->len);
    struct stream_prop prop = {key, &groupname};
    stream_reply_range(c, s, &start, NULL, (size_t)w->count, 0, g, consumer, w->noack ? RWR_NOACK : 0,
                       g ? &prop : NULL);
    if (g)
        srv.dirty++;
    xread_wait_free(w);
}

static void xread_generic(struct client *c, int xreadgroup)
{
    const struct arg *ready = blocking_ready_key(c);
    if (ready) {
        serve_blocked(c, ready);
        return;
    }
    long long timeout = -1, count = 0;
    int streams_arg = 0, streams_count = 0, noack = 0;
    const struct arg *groupname = NULL, *consumername = NULL;
    for (int i = 1; i < c->argc; i++) {
        int moreargs = c->argc - i - 1;
        const struct arg *o = &c->argv[i];
        if (arg_is(o, "BLOCK") && moreargs) {
            i++;
            if (blocking_parse_timeout(c, c->argv[i].ptr, c->argv[i].len, 1, &timeout) < 0)
                return;
        } else if (arg_is(o, "COUNT") && moreargs) {
            i++;
            if (arg_ll(c, &c->argv[i], &count, NULL) < 0)
                return;
            if (count < 0)
                count = 0;
        } else if (arg_is(o, "STREAMS") && moreargs) {
            streams_arg = i + 1;
            streams_count = c->argc - streams_arg;
            if (streams_count % 2 != 0) {
                /* Redis 7.0 says this for XREADGROUP too */
                reply_error(c, "Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
                               "specified.");
                return;
            }
            streams_count /= 2;
            break;
        } else if (arg_is(o, "GROUP") && moreargs >= 2) {
            if (!xreadgroup) {
                reply_error(c, "The GROUP option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            groupname = &c->argv[i + 1];
            consumername = &c->argv[i + 2];
            i += 2;
        } else if (arg_is(o, "NOACK")) {
            if (!xreadgroup) {
                reply_error(c, "The NOACK option is only supported by XREADGROUP. You called XREAD instead.");
                return;
            }
            noack = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    if (streams_arg == 0) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (xreadgroup && !groupname) {
        reply_error(c, "Missing GROUP option for XREADGROUP");
        return;
    }

    /* the IDs, the keys' types and groups */
    streamID *ids = mem_alloc(sizeof(*ids) * (size_t)streams_count);
    struct stream_cg **groups = groupname ? mem_calloc(sizeof(*groups) * (size_t)streams_count) : NULL;
    for (int k = 0; k < streams_count; k++) {
        const struct arg *key = &c->argv[streams_arg + k];
        const struct arg *ida = &c->argv[streams_arg + streams_count + k];
        struct value *v = db_lookup_read(c->db, key->ptr, key->len);
        if (stream_check_type(c, v) < 0)
            goto cleanup;
        if (groupname) {
            struct stream_cg *g = v ? stream_group_lookup(stream_of(v), groupname->ptr, groupname->len) : NULL;
            if (!g) {
                reply_errorf(c, "-NOGROUP No such key '%.*s' or consumer group '%.*s' in XREADGROUP with GROUP option",
                             cstrlen(key), key->ptr, cstrlen(groupname), groupname->ptr);
                goto cleanup;
            }
            groups[k] = g;
        }
        if (ida->len == 1 && ida->ptr[0] == '$') {
            if (xreadgroup) {
                reply_error(c, "The $ ID is meaningless in the context of XREADGROUP: you want to read the history "
                               "of this consumer by specifying a proper ID, or use the > ID to get new messages. "
                               "The $ ID would just return an empty result set.");
                goto cleanup;
            }
            if (v) {
                ids[k] = stream_of(v)->last_id;
            } else {
                ids[k].ms = ids[k].seq = 0;
            }
            continue;
        } else if (ida->len == 1 && ida->ptr[0] == '>') {
            if (!xreadgroup) {
                reply_error(c, "The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
                               "<consumer> option.");
                goto cleanup;
            }
            ids[k].ms = ids[k].seq = UINT64_MAX; /* resolved against the group when served */
            continue;
        }
        if (stream_parse_id(c, ida, &ids[k], 0, 1, NULL) < 0)
            goto cleanup;
    }

    /* serve what can be served now */
    long arraylen = 0;
    void *deferred = NULL;
    long long now = mstime();
    for (int k = 0; k < streams_count; k++) {
        const struct arg *key = &c->argv[streams_arg + k];
        struct value *v = db_lookup_read(c->db, key->ptr, key->len);
        if (!v)
            continue;
        stream *s = stream_of(v);
        streamID *gt = &ids[k];
        int serve = 0, history = 0;
        if (groups) {
            if (gt->ms != UINT64_MAX || gt->seq != UINT64_MAX) {
                /* a consumer's history is always served */
                serve = history = 1;
            } else if (s->length) {
                streamID maxid;
                stream_last_valid_id(s, &maxid);
                if (sid_cmp(&maxid, &groups[k]->last_id) > 0) {
                    serve = 1;
                    *gt = groups[k]->last_id;
                }
            }
        } else if (s->length) {
            streamID maxid;
            stream_last_valid_id(s, &maxid);
            serve = sid_cmp(&maxid, gt) > 0;
        }
        if (!serve)
            continue;
        if (++arraylen == 1)
            deferred = reply_defer_len(c);
        streamID start = *gt;
        sid_incr(&start);
        if (c->resp == 2)
            reply_array_len(c, 2);
        reply_bulk(c, key->ptr, key->len);
        struct stream_consumer *consumer = NULL;
        struct stream_prop prop = {key, groupname};
        if (groups) {
            consumer = stream_consumer_lookup(groups[k], consumername->ptr, consumername->len);
            if (!consumer) {
                consumer = stream_consumer_get(groups[k], consumername->ptr, consumername->len, now);
                srv.dirty++;
                if (noack)
                    propagate_consumer_creation(c, key, groupname, consumer);
            }
            consumer->seen_time = now;
        }
        int flags = (noack ? RWR_NOACK : 0) | (history ? RWR_HISTORY : 0);
        stream_reply_range(c, s, &start, NULL, (size_t)count, 0, groups ? groups[k] : NULL, consumer, flags,
                           groups ? &prop : NULL);
        if (groups)
            srv.dirty++;
    }
    if (arraylen) {
        if (c->resp == 2)
            reply_set_deferred_array(c, deferred, arraylen);
        else
            reply_set_deferred_map(c, deferred, arraylen);
    } else if (timeout != -1 && !blocking_denied(c)) {
        struct xread_wait *w = mem_calloc(sizeof(*w));
        w->c = c;
        w->client_id = c->id;
        w->group = xreadgroup;
        w->noack = noack;
        w->count = count ? count : XREAD_BLOCKED_DEFAULT_COUNT;
        w->timeout = timeout;
        w->streams_arg = streams_arg;
        w->nkeys = streams_count;
        w->ids = ids;
        ids = NULL;
        if (groupname) {
            w->groupname = sstr_new(groupname->ptr, groupname->len);
            w->consumer = sstr_new(consumername->ptr, consumername->len);
        }
        block_on_streams(c, w);
    } else {
        reply_null_array(c);
    }
cleanup:
    /* groups record their changes as XCLAIM/XGROUP, never as themselves */
    propagate_prevent(c);
    mem_free(ids);
    mem_free(groups);
}

static void xread_command(struct client *c) { xread_generic(c, 0); }
static void xreadgroup_command(struct client *c) { xread_generic(c, 1); }

/* ---- XCFGSET / XIDMPRECORD (Redis 8.6) ------------------------------------------------------------------ */

/* XCFGSET key [IDMP-DURATION seconds] [IDMP-MAXSIZE n] */
static void xcfgset_command(struct client *c)
{
    long long duration = -1, maxsize = -1;
    if (c->argc == 2) {
        reply_error(c, "At least one parameter must be specified: IDMP-DURATION or IDMP-MAXSIZE");
        return;
    }
    for (int i = 2; i < c->argc; i += 2) {
        int moreargs = c->argc - 1 - i;
        if (arg_is(&c->argv[i], "IDMP-DURATION") && moreargs) {
            if (arg_ll(c, &c->argv[i + 1], &duration, NULL) < 0)
                return;
            if (duration < 1 || duration > STREAM_IDMP_MAX_DURATION) {
                reply_error(c, "IDMP-DURATION must be between 1 and 86400 seconds");
                return;
            }
        } else if (arg_is(&c->argv[i], "IDMP-MAXSIZE") && moreargs) {
            if (arg_ll(c, &c->argv[i + 1], &maxsize, NULL) < 0)
                return;
            if (maxsize < 1 || maxsize > STREAM_IDMP_MAX_MAXSIZE) {
                reply_error(c, "IDMP-MAXSIZE must be between 1 and 10000 entries");
                return;
            }
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    const struct arg *key = &c->argv[1];
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    stream_idmp_configure(stream_of(v), duration, maxsize);
    reply_ok(c);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
}

/* XIDMPRECORD key pid iid id: what XADD IDMP/IDMPAUTO leaves in the AOF
 * and sends replicas after the XADD itself. */
static void xidmprecord_command(struct client *c)
{
    streamID id, existing;
    if (stream_parse_id(c, &c->argv[4], &id, 0, 1, NULL) < 0)
        return;
    const struct arg *key = &c->argv[1], *pid = &c->argv[2], *iid = &c->argv[3];
    if (pid->len == 0 || iid->len == 0) {
        reply_error(c, "IDMP requires a non-empty producer ID and idempotent ID");
        return;
    }
    struct value *v = db_lookup_write(c->db, key->ptr, key->len);
    if (!v) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return;
    }
    if (stream_check_type(c, v) < 0)
        return;
    stream *s = stream_of(v);
    if (!stream_entry_exists(s, &id)) {
        reply_error(c, "The specified stream ID was deleted or doesn't exist");
        return;
    }
    long long now = mstime();
    if (stream_idmp_lookup(s, pid->ptr, pid->len, iid->ptr, iid->len, now, &existing, 0)) {
        if (sid_cmp(&existing, &id) != 0) {
            reply_error(c, "The specified IDMP producer-id/idempotent-id pair maps to a different stream ID");
            return;
        }
        reply_ok(c);
        return;
    }
    stream_idmp_record(s, pid->ptr, pid->len, iid->ptr, iid->len, &id, now);
    reply_ok(c);
    db_signal_modified(c->db, key->ptr, key->len);
    srv.dirty++;
}

const struct command_impl stream_commands[] = {
    {"xadd", xadd_command},
    {"xrange", xrange_command},
    {"xrevrange", xrevrange_command},
    {"xlen", xlen_command},
    {"xdel", xdel_command},
    {"xtrim", xtrim_command},
    {"xsetid", xsetid_command},
    {"xread", xread_command},
    {"xreadgroup", xreadgroup_command},
    {"xgroup|create", xgroup_command},
    {"xgroup|setid", xgroup_command},
    {"xgroup|destroy", xgroup_command},
    {"xgroup|createconsumer", xgroup_command},
    {"xgroup|delconsumer", xgroup_command},
    {"xgroup|help", xgroup_command},
    {"xack", xack_command},
    {"xpending", xpending_command},
    {"xclaim", xclaim_command},
    {"xautoclaim", xautoclaim_command},
    {"xinfo|stream", xinfo_stream_command},
    {"xinfo|groups", xinfo_groups_command},
    {"xinfo|consumers", xinfo_consumers_command},
    {"xinfo|help", xinfo_help_command},
    {"xcfgset", xcfgset_command},
    {"xidmprecord", xidmprecord_command},
    {NULL, NULL},
};
