/* t_stream_group.c - consumer-group commands: XGROUP, XACK, XPENDING,
 * XCLAIM, XAUTOCLAIM.  The data structures are in t_stream_cg.c.
 *
 * Redis 7.0's rules, to the order of checks and the records they leave:
 *   XGROUP ...    recorded as given (it is deterministic)
 *   XACK          recorded as given when it acknowledged something
 *   XCLAIM        XCLAIM key group consumer 0 <id> TIME <ms> RETRYCOUNT <n>
 *                 FORCE JUSTID LASTID <last-delivered-id> for each entry
 *                 claimed or dropped (gone from the stream), then XGROUP
 *                 SETID when only LASTID changed the group
 *   XAUTOCLAIM    the same XCLAIM form for each entry claimed or dropped
 * so that an AOF or a replica rebuilds the same PELs, delivery counts and
 * last-delivered IDs.  A consumer is created only when it claims something
 * (XCLAIM, XAUTOCLAIM), as in Redis 7.0.
 */
#include <limits.h>
#include <string.h>

#include "blocking.h"
#include "db.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "t_stream_int.h"
#include "util.h"

static int cstrlen(const struct arg *a)
{
    const char *nul = memchr(a->ptr, '\0', a->len);
    return (int)(nul ? (size_t)(nul - a->ptr) : a->len);
}

static void reply_nogroup_key(struct client *c)
{
    reply_errorf(c, "-NOGROUP No such key '%.*s' or consumer group '%.*s'", cstrlen(&c->argv[1]), c->argv[1].ptr,
                 cstrlen(&c->argv[2]), c->argv[2].ptr);
}

/* ---- XGROUP ------------------------------------------------------------------------ */

static void xgroup_help(struct client *c)
{
    static const char *const help[] = {
        "CREATE <key> <groupname> <id|$> [option]",
        "    Create a new consumer group. Options are:",
        "    * MKSTREAM",
        "      Create the empty stream if it does not exist.",
        "    * ENTRIESREAD entries_read",
        "      Set the group's entries_read counter (internal use).",
        "CREATECONSUMER <key> <groupname> <consumer>",
        "    Create a new consumer in the specified group.",
        "DELCONSUMER <key> <groupname> <consumer>",
        "    Remove the specified consumer.",
        "DESTROY <key> <groupname>",
        "    Remove the specified group.",
        "SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
        "    Set the current group ID and entries_read counter.",
        NULL,
    };
    reply_help(c, help);
}

/* All subcommands share Redis's xgroupCommand flow: options, key and group
 * checks common to them, then the subcommand. */
void xgroup_command(struct client *c)
{
    const struct arg *opt = &c->argv[1];
    stream *s = NULL;
    struct stream_cg *g = NULL;
    int mkstream = 0;
    long long entries_read = STREAM_ENTRIES_READ_INVALID;
    const struct arg *key = c->argc > 2 ? &c->argv[2] : NULL;
    const struct arg *gname = c->argc > 3 ? &c->argv[3] : NULL;

    if (c->argc >= 4) {
        int create = arg_is(opt, "CREATE"), setid = arg_is(opt, "SETID");
        for (int i = 5; i < c->argc;) {
            if (create && arg_is(&c->argv[i], "MKSTREAM")) {
                mkstream = 1;
                i++;
            } else if ((create || setid) && arg_is(&c->argv[i], "ENTRIESREAD") && i + 1 < c->argc) {
                if (arg_ll(c, &c->argv[i + 1], &entries_read, NULL) < 0)
                    return;
                if (entries_read < 0 && entries_read != STREAM_ENTRIES_READ_INVALID) {
                    reply_error(c, "value for ENTRIESREAD must be positive or -1");
                    return;
                }
                i += 2;
            } else {
                reply_subcommand_syntax_error(c);
                return;
            }
        }
        struct value *v = db_lookup_write(c->db, key->ptr, key->len);
        if (stream_check_type(c, v) < 0)
            return;
        if (v)
            s = stream_of(v);
    }
    if (c->argc >= 4 && !mkstream) {
        if (!s) {
            reply_error(c, "The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to "
                           "use the MKSTREAM option to create an empty stream automatically.");
            return;
        }
        g = stream_group_lookup(s, gname->ptr, gname->len);
        if (!g && (arg_is(opt, "SETID") || arg_is(opt, "CREATECONSUMER") || arg_is(opt, "DELCONSUMER"))) {
            reply_errorf(c, "-NOGROUP No such consumer group '%.*s' for key name '%.*s'", cstrlen(gname), gname->ptr,
                         cstrlen(key), key->ptr);
            return;
        }
    }

    if (c->argc == 2 && arg_is(opt, "HELP")) {
        xgroup_help(c);
    } else if (arg_is(opt, "CREATE") && c->argc >= 5 && c->argc <= 8) {
        streamID id;
        const struct arg *ida = &c->argv[4];
        if (ida->len == 1 && ida->ptr[0] == '$') {
            if (s) {
                id = s->last_id;
            } else {
                id.ms = id.seq = 0;
            }
        } else if (stream_parse_id(c, ida, &id, 0, 1, NULL) < 0) {
            return;
        }
        if (!s) {
            /* MKSTREAM, now that nothing can fail */
            struct value *v = stream_value_new();
            db_add(c->db, key->ptr, key->len, v);
            s = stream_of(v);
            db_signal_modified(c->db, key->ptr, key->len);
        }
        if (stream_group_create(s, gname->ptr, gname->len, &id, entries_read)) {
            reply_ok(c);
            srv.dirty++;
        } else {
            reply_error(c, "-BUSYGROUP Consumer Group name already exists");
        }
    } else if (arg_is(opt, "SETID") && (c->argc == 5 || c->argc == 7)) {
        streamID id;
        const struct arg *ida = &c->argv[4];
        if (ida->len == 1 && ida->ptr[0] == '$')
            id = s->last_id;
        else if (stream_parse_id(c, ida, &id, 0, 0, NULL) < 0)
            return;
        g->last_id = id;
        g->entries_read = entries_read;
        reply_ok(c);
        srv.dirty++;
    } else if (arg_is(opt, "DESTROY") && c->argc == 4) {
        if (g) {
            stream_group_destroy(s, gname->ptr, gname->len);
            reply_int(c, 1);
            srv.dirty++;
            /* XREADGROUP clients blocked on it get -NOGROUP */
            db_signal_key_ready(c->db, key->ptr, key->len);
        } else {
            reply_int(c, 0);
        }
    } else if (arg_is(opt, "CREATECONSUMER") && c->argc == 5) {
        const struct arg *cname = &c->argv[4];
        int created = !stream_consumer_lookup(g, cname->ptr, cname->len);
        if (created) {
            stream_consumer_get(g, cname->ptr, cname->len, mstime());
            srv.dirty++;
        }
        reply_int(c, created);
    } else if (arg_is(opt, "DELCONSUMER") && c->argc == 5) {
        const struct arg *cname = &c->argv[4];
        struct stream_consumer *consumer = stream_consumer_lookup(g, cname->ptr, cname->len);
        long long pending = 0;
        if (consumer) {
            pending = (long long)stream_consumer_delete(g, consumer);
            srv.dirty++;
        }
        reply_int(c, pending);
    } else {
        reply_subcommand_syntax_error(c);
    }
}

/* ---- XACK ---------------------------------------------------------------------------- */

void xack_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    struct stream_cg *g = NULL;
    if (v) {
        if (stream_check_type(c, v) < 0)
            return;
        g = stream_group_lookup(stream_of(v), c->argv[2].ptr, c->argv[2].len);
    }
    if (!v || !g) {
        reply_int(c, 0);
        return;
    }
    /* parse every ID first: all or nothing */
    int n = c->argc - 3;
    streamID *ids = mem_alloc(sizeof(*ids) * (size_t)n);
    for (int j = 0; j < n; j++) {
        if (stream_parse_id(c, &c->argv[3 + j], &ids[j], 0, 1, NULL) < 0) {
            mem_free(ids);
            return;
        }
    }
    long long acked = 0;
    for (int j = 0; j < n; j++) {
        struct stream_nack *nack = idtree_find(g->pel, &ids[j]);
        if (nack) {
            stream_pel_remove(g, &ids[j], nack);
            acked++;
            srv.dirty++;
        }
    }
    mem_free(ids);
    reply_int(c, acked);
}

/* ---- XPENDING ------------------------------------------------------------------------- */

void xpending_command(struct client *c)
{
    int justinfo = c->argc == 3;
    const struct arg *consumername = NULL;
    streamID startid, endid;
    long long count = 0, minidle = 0;
    int startex = 0, endex = 0;
    if (c->argc != 3 && (c->argc < 6 || c->argc > 9)) {
        reply_error(c, ERR_SYNTAX);
        return;
    }
    if (c->argc >= 6) {
        int startidx = 3;
        if (arg_is(&c->argv[3], "IDLE")) {
            if (arg_ll(c, &c->argv[4], &minidle, NULL) < 0)
                return;
            if (c->argc < 8) {
                reply_error(c, ERR_SYNTAX);
                return;
            }
            startidx += 2;
        }
        if (arg_ll(c, &c->argv[startidx + 2], &count, NULL) < 0)
            return;
        if (count < 0)
            count = 0;
        if (stream_parse_interval(c, &c->argv[startidx], &startid, &startex, 0) < 0)
            return;
        if (startex && sid_incr(&startid) < 0) {
            reply_error(c, "invalid start ID for the interval");
            return;
        }
        if (stream_parse_interval(c, &c->argv[startidx + 1], &endid, &endex, UINT64_MAX) < 0)
            return;
        if (endex && sid_decr(&endid) < 0) {
            reply_error(c, "invalid end ID for the interval");
            return;
        }
        if (startidx + 3 < c->argc)
            consumername = &c->argv[startidx + 3];
    }
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (stream_check_type(c, v) < 0)
        return;
    struct stream_cg *g = v ? stream_group_lookup(stream_of(v), c->argv[2].ptr, c->argv[2].len) : NULL;
    if (!g) {
        reply_nogroup_key(c);
        return;
    }
    if (justinfo) {
        reply_array_len(c, 4);
        reply_int(c, (long long)idtree_size(g->pel));
        struct idkey first, last;
        if (!idtree_first(g->pel, &first, NULL)) {
            reply_null(c);
            reply_null(c);
            reply_null_array(c);
            return;
        }
        idtree_last(g->pel, &last, NULL);
        stream_reply_id(c, &first);
        stream_reply_id(c, &last);
        void *deferred = reply_defer_len(c);
        long n = 0;
        for (size_t i = 0; i < g->nconsumers; i++) {
            const struct stream_consumer *cs = g->consumers[i];
            if (!idtree_size(cs->pel))
                continue;
            reply_array_len(c, 2);
            reply_bulk(c, cs->name, sstr_len(cs->name));
            reply_bulk_ll(c, (long long)idtree_size(cs->pel));
            n++;
        }
        reply_set_deferred_array(c, deferred, n);
        return;
    }
    struct stream_consumer *consumer = NULL;
    if (consumername) {
        consumer = stream_consumer_lookup(g, consumername->ptr, consumername->len);
        if (!consumer) {
            reply_array_len(c, 0);
            return;
        }
    }
    idtree *pel = consumer ? consumer->pel : g->pel;
    long long now = mstime();
    void *deferred = reply_defer_len(c);
    long n = 0;
    idtree_iter it;
    struct idkey id;
    void *nv;
    idtree_seek(&it, pel, &startid);
    while (count && idtree_next(&it, &id, &nv) && idkey_cmp(&id, &endid) <= 0) {
        const struct stream_nack *nack = nv;
        if (minidle && now - nack->delivery_time < minidle)
            continue;
        n++;
        count--;
        reply_array_len(c, 4);
        stream_reply_id(c, &id);
        reply_bulk(c, nack->consumer->name, sstr_len(nack->consumer->name));
        long long elapsed = now - nack->delivery_time;
        reply_int(c, elapsed < 0 ? 0 : elapsed);
        reply_int(c, (long long)nack->delivery_count);
    }
    reply_set_deferred_array(c, deferred, n);
}

/* ---- XCLAIM ----------------------------------------------------------------------------- */

void xclaim_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    struct stream_cg *g = NULL;
    long long minidle, retrycount = -1, deliverytime = -1;
    int force = 0, justid = 0;
    if (v) {
        if (stream_check_type(c, v) < 0)
            return;
        g = stream_group_lookup(stream_of(v), c->argv[2].ptr, c->argv[2].len);
    }
    if (!v || !g) {
        reply_nogroup_key(c);
        return;
    }
    stream *s = stream_of(v);
    if (arg_ll(c, &c->argv[4], &minidle, "Invalid min-idle-time argument for XCLAIM") < 0)
        return;
    if (minidle < 0)
        minidle = 0;
    /* the IDs run until the first argument that isn't one: the options */
    int nids = c->argc - 5, j;
    streamID *ids = mem_alloc(sizeof(*ids) * (size_t)nids);
    for (j = 5; j < c->argc; j++)
        if (stream_parse_id(NULL, &c->argv[j], &ids[j - 5], 0, 1, NULL) < 0)
            break;
    int last_id_arg = j - 1;
    long long now = mstime();
    streamID last_id = {0, 0};
    int propagate_last_id = 0;
    for (; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        const struct arg *o = &c->argv[j];
        if (arg_is(o, "FORCE")) {
            force = 1;
        } else if (arg_is(o, "JUSTID")) {
            justid = 1;
        } else if (arg_is(o, "IDLE") && moreargs) {
            j++;
            if (arg_ll(c, &c->argv[j], &deliverytime, "Invalid IDLE option argument for XCLAIM") < 0)
                goto cleanup;
            deliverytime = now - deliverytime;
        } else if (arg_is(o, "TIME") && moreargs) {
            j++;
            if (arg_ll(c, &c->argv[j], &deliverytime, "Invalid TIME option argument for XCLAIM") < 0)
                goto cleanup;
        } else if (arg_is(o, "RETRYCOUNT") && moreargs) {
            j++;
            if (arg_ll(c, &c->argv[j], &retrycount, "Invalid RETRYCOUNT option argument for XCLAIM") < 0)
                goto cleanup;
        } else if (arg_is(o, "LASTID") && moreargs) {
            j++;
            if (stream_parse_id(c, &c->argv[j], &last_id, 0, 1, NULL) < 0)
                goto cleanup;
        } else {
            reply_errorf(c, "Unrecognized XCLAIM option '%.*s'", cstrlen(o), o->ptr);
            goto cleanup;
        }
    }
    if (sid_cmp(&last_id, &g->last_id) > 0) {
        g->last_id = last_id;
        propagate_last_id = 1;
    }
    /* a bogus time (clients compute it from their own clocks) means now */
    if (deliverytime == -1 || deliverytime < 0 || deliverytime > now)
        deliverytime = now;

    struct stream_consumer *consumer = NULL;
    const struct arg *cname = &c->argv[3];
    void *deferred = reply_defer_len(c);
    long n = 0;
    for (int k = 5; k <= last_id_arg; k++) {
        streamID id = ids[k - 5];
        struct stream_nack *nack = idtree_find(g->pel, &id);
        if (!stream_entry_exists(s, &id)) {
            /* gone from the stream: drop it from the PEL too */
            if (nack) {
                stream_propagate_xclaim(c, &c->argv[1], g, &c->argv[2], c->argv[k].ptr, c->argv[k].len, nack);
                propagate_last_id = 0;
                srv.dirty++;
                stream_pel_remove(g, &id, nack);
            }
            continue;
        }
        if (force && !nack) {
            /* FORCE makes the pending entry (AOF, replicas) */
            nack = stream_nack_new(NULL, now);
            idtree_insert(g->pel, &id, nack);
        }
        if (!nack)
            continue;
        if (nack->consumer && minidle && now - nack->delivery_time < minidle)
            continue;
        if (!consumer) {
            consumer = stream_consumer_lookup(g, cname->ptr, cname->len);
            if (!consumer) {
                consumer = stream_consumer_get(g, cname->ptr, cname->len, now);
                srv.dirty++;
            }
            consumer->seen_time = now;
        }
        if (nack->consumer != consumer && nack->consumer)
            idtree_remove(nack->consumer->pel, &id);
        nack->delivery_time = deliverytime;
        if (retrycount >= 0)
            nack->delivery_count = (uint64_t)retrycount;
        else if (!justid)
            nack->delivery_count++;
        if (nack->consumer != consumer) {
            idtree_insert(consumer->pel, &id, nack);
            nack->consumer = consumer;
        }
        if (justid) {
            stream_reply_id(c, &id);
        } else if (!stream_reply_range(c, s, &id, &id, 1, 0, NULL, NULL, RWR_RAWENTRIES, NULL)) {
            reply_null(c);
        }
        n++;
        stream_propagate_xclaim(c, &c->argv[1], g, &c->argv[2], c->argv[k].ptr, c->argv[k].len, nack);
        propagate_last_id = 0;
        srv.dirty++;
    }
    if (propagate_last_id) {
        stream_propagate_group_id(c, &c->argv[1], g, &c->argv[2]);
        srv.dirty++;
    }
    reply_set_deferred_array(c, deferred, n);
    propagate_prevent(c);
cleanup:
    mem_free(ids);
}

/* ---- XAUTOCLAIM ------------------------------------------------------------------------- */

void xautoclaim_command(struct client *c)
{
    long long minidle, count = 100;
    const long long attempts_factor = 10;
    streamID startid;
    int startex, justid = 0;
    if (arg_ll(c, &c->argv[4], &minidle, "Invalid min-idle-time argument for XAUTOCLAIM") < 0)
        return;
    if (minidle < 0)
        minidle = 0;
    if (stream_parse_interval(c, &c->argv[5], &startid, &startex, 0) < 0)
        return;
    if (startex && sid_incr(&startid) < 0) {
        reply_error(c, "invalid start ID for the interval");
        return;
    }
    for (int j = 6; j < c->argc; j++) {
        int moreargs = c->argc - 1 - j;
        if (arg_is(&c->argv[j], "COUNT") && moreargs) {
            long long max_count = LONG_MAX / (long long)(sizeof(streamID) > 10 ? sizeof(streamID) : 10);
            if (arg_ll_range(c, &c->argv[j + 1], 1, max_count, &count, "COUNT must be > 0") < 0)
                return;
            j++;
        } else if (arg_is(&c->argv[j], "JUSTID")) {
            justid = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    struct stream_cg *g = NULL;
    if (v) {
        if (stream_check_type(c, v) < 0)
            return;
        g = stream_group_lookup(stream_of(v), c->argv[2].ptr, c->argv[2].len);
    }
    if (!v || !g) {
        reply_nogroup_key(c);
        return;
    }
    stream *s = stream_of(v);
    long long attempts = count * attempts_factor;
    /* The reply starts with the cursor, known only at the end: first claim
     * (collecting the IDs), then reply. */
    size_t nclaimed = 0, capclaimed = 0, ndeleted = 0, capdeleted = 0;
    streamID *claimed = NULL, *deleted = NULL;
    long long now = mstime();
    struct stream_consumer *consumer = NULL;
    const struct arg *cname = &c->argv[3];
    idtree_iter it;
    struct idkey id;
    void *nv;
    int have = 0;
    idtree_seek(&it, g->pel, &startid);
    while (attempts-- && count && (have = idtree_next(&it, &id, &nv))) {
        struct stream_nack *nack = nv;
        char buf[48];
        int len = sid_format(buf, &id);
        if (!stream_entry_exists(s, &id)) {
            /* gone from the stream: dropped from the PEL, and reported */
            stream_propagate_xclaim(c, &c->argv[1], g, &c->argv[2], buf, (size_t)len, nack);
            srv.dirty++;
            stream_pel_remove(g, &id, nack);
            if (ndeleted == capdeleted) {
                capdeleted = capdeleted ? capdeleted * 2 : 8;
                deleted = mem_realloc(deleted, sizeof(*deleted) * capdeleted);
            }
            deleted[ndeleted++] = id;
            idtree_seek(&it, g->pel, &id); /* the tree changed under the iterator */
            count--;
            continue;
        }
        if (minidle && now - nack->delivery_time < minidle)
            continue;
        if (!consumer) {
            consumer = stream_consumer_lookup(g, cname->ptr, cname->len);
            if (!consumer) {
                consumer = stream_consumer_get(g, cname->ptr, cname->len, now);
                srv.dirty++;
            }
            consumer->seen_time = now;
        }
        if (nack->consumer != consumer) {
            if (nack->consumer)
                idtree_remove(nack->consumer->pel, &id);
            idtree_insert(consumer->pel, &id, nack);
            nack->consumer = consumer;
        }
        nack->delivery_time = now;
        if (!justid)
            nack->delivery_count++;
        if (nclaimed == capclaimed) {
            capclaimed = capclaimed ? capclaimed * 2 : 8;
            claimed = mem_realloc(claimed, sizeof(*claimed) * capclaimed);
        }
        claimed[nclaimed++] = id;
        count--;
        stream_propagate_xclaim(c, &c->argv[1], g, &c->argv[2], buf, (size_t)len, nack);
        srv.dirty++;
    }
    /* the cursor: the next pending entry not looked at, 0-0 at the end */
    streamID endid = {0, 0};
    if (have)
        idtree_next(&it, &endid, NULL);
    reply_array_len(c, 3);
    stream_reply_id(c, &endid);
    reply_array_len(c, (long)nclaimed);
    for (size_t i = 0; i < nclaimed; i++) {
        if (justid)
            stream_reply_id(c, &claimed[i]);
        else
            stream_reply_range(c, s, &claimed[i], &claimed[i], 1, 0, NULL, NULL, RWR_RAWENTRIES, NULL);
    }
    reply_array_len(c, (long)ndeleted);
    for (size_t i = 0; i < ndeleted; i++)
        stream_reply_id(c, &deleted[i]);
    mem_free(claimed);
    mem_free(deleted);
    propagate_prevent(c);
}
