/* t_stream_info.c - XINFO STREAM / GROUPS / CONSUMERS / HELP: what a stream,
 * its groups and their consumers look like, in Redis 7.0's replies.
 *
 * Two fields can't be read off Sluice's structures and are derived: a
 * segment of the queue log is a Redis radix-tree node, so radix-tree-keys
 * is the segment count, and radix-tree-nodes is the node count of the
 * radix tree Redis would build over the segments' keys (see
 * stream_rax_nodes()).  Redis 8.6's idempotency fields (idmp-duration,
 * idmp-maxsize, pids-tracked, iids-tracked, iids-added, iids-duplicates)
 * follow recorded-first-entry-id, for streams that use idempotency only.
 */
#include <string.h>

#include "db.h"
#include "server.h"
#include "t_stream_int.h"
#include "util.h"

static int cstrlen(const struct arg *a)
{
    const char *nul = memchr(a->ptr, '\0', a->len);
    return (int)(nul ? (size_t)(nul - a->ptr) : a->len);
}

/* ---- XINFO ------------------------------------------------------------------------------------------------ */

void xinfo_help_command(struct client *c)
{
    static const char *const help[] = {
        "CONSUMERS <key> <groupname>",
        "    Show consumers of <groupname>.",
        "GROUPS <key>",
        "    Show the stream consumer groups.",
        "STREAM <key> [FULL [COUNT <count>]",
        "    Show information about the stream.",
        NULL,
    };
    reply_help(c, help);
}

static stream *xinfo_lookup(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[2].ptr, c->argv[2].len);
    if (!v) {
        reply_error(c, ERR_NO_SUCH_KEY);
        return NULL;
    }
    if (stream_check_type(c, v) < 0)
        return NULL;
    return stream_of(v);
}

static void reply_lag(struct client *c, const stream *s, const struct stream_cg *g)
{
    long long lag;
    if (stream_cg_lag(s, g, &lag))
        reply_int(c, lag);
    else
        reply_null(c);
}

static void reply_entries_read(struct client *c, const struct stream_cg *g)
{
    if (g->entries_read != STREAM_ENTRIES_READ_INVALID)
        reply_int(c, g->entries_read);
    else
        reply_null(c);
}

void xinfo_consumers_command(struct client *c)
{
    stream *s = xinfo_lookup(c);
    if (!s)
        return;
    const struct arg *gname = &c->argv[3];
    struct stream_cg *g = stream_group_lookup(s, gname->ptr, gname->len);
    if (!g) {
        reply_errorf(c, "-NOGROUP No such consumer group '%.*s' for key name '%.*s'", cstrlen(gname), gname->ptr,
                     cstrlen(&c->argv[2]), c->argv[2].ptr);
        return;
    }
    long long now = mstime();
    reply_array_len(c, (long)g->nconsumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        const struct stream_consumer *cs = g->consumers[i];
        long long idle = now - cs->seen_time;
        if (idle < 0)
            idle = 0;
        reply_map_len(c, 3);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, cs->name, sstr_len(cs->name));
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)idtree_size(cs->pel));
        reply_bulk_cstr(c, "idle");
        reply_int(c, idle);
    }
}

void xinfo_groups_command(struct client *c)
{
    stream *s = xinfo_lookup(c);
    if (!s)
        return;
    reply_array_len(c, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        const struct stream_cg *g = s->groups[i];
        reply_map_len(c, 6);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, sstr_len(g->name));
        reply_bulk_cstr(c, "consumers");
        reply_int(c, (long long)g->nconsumers);
        reply_bulk_cstr(c, "pending");
        reply_int(c, (long long)idtree_size(g->pel));
        reply_bulk_cstr(c, "last-delivered-id");
        stream_reply_id(c, &g->last_id);
        reply_bulk_cstr(c, "entries-read");
        reply_entries_read(c, g);
        reply_bulk_cstr(c, "lag");
        reply_lag(c, s, g);
    }
}

/* XINFO STREAM FULL's groups: everything, PELs cut at count. */
static void reply_full_groups(struct client *c, const stream *s, long long count)
{
    reply_array_len(c, (long)s->ngroups);
    for (size_t i = 0; i < s->ngroups; i++) {
        const struct stream_cg *g = s->groups[i];
        reply_map_len(c, 7);
        reply_bulk_cstr(c, "name");
        reply_bulk(c, g->name, sstr_len(g->name));
        reply_bulk_cstr(c, "last-delivered-id");
        stream_reply_id(c, &g->last_id);
        reply_bulk_cstr(c, "entries-read");
        reply_entries_read(c, g);
        reply_bulk_cstr(c, "lag");
        reply_lag(c, s, g);
        reply_bulk_cstr(c, "pel-count");
        reply_int(c, (long long)idtree_size(g->pel));
        reply_bulk_cstr(c, "pending");
        void *deferred = reply_defer_len(c);
        long n = 0;
        idtree_iter it;
        struct idkey id;
        void *v;
        idtree_rewind(&it, g->pel);
        while ((!count || n < count) && idtree_next(&it, &id, &v)) {
            const struct stream_nack *nack = v;
            reply_array_len(c, 4);
            stream_reply_id(c, &id);
            reply_bulk(c, nack->consumer->name, sstr_len(nack->consumer->name));
            reply_int(c, nack->delivery_time);
            reply_int(c, (long long)nack->delivery_count);
            n++;
        }
        reply_set_deferred_array(c, deferred, n);
        reply_bulk_cstr(c, "consumers");
        reply_array_len(c, (long)g->nconsumers);
        for (size_t j = 0; j < g->nconsumers; j++) {
            const struct stream_consumer *cs = g->consumers[j];
            reply_map_len(c, 4);
            reply_bulk_cstr(c, "name");
            reply_bulk(c, cs->name, sstr_len(cs->name));
            reply_bulk_cstr(c, "seen-time");
            reply_int(c, cs->seen_time);
            reply_bulk_cstr(c, "pel-count");
            reply_int(c, (long long)idtree_size(cs->pel));
            reply_bulk_cstr(c, "pending");
            void *cdeferred = reply_defer_len(c);
            long cn = 0;
            idtree_rewind(&it, cs->pel);
            while ((!count || cn < count) && idtree_next(&it, &id, &v)) {
                const struct stream_nack *nack = v;
                reply_array_len(c, 3);
                stream_reply_id(c, &id);
                reply_int(c, nack->delivery_time);
                reply_int(c, (long long)nack->delivery_count);
                cn++;
            }
            reply_set_deferred_array(c, cdeferred, cn);
        }
    }
}

void xinfo_stream_command(struct client *c)
{
    stream *s = xinfo_lookup(c);
    if (!s)
        return;
    int full = 1;
    long long count = 10; /* FULL's default, so a big stream can't block the server */
    int optc = c->argc - 3;
    const struct arg *optv = c->argv + 3;
    if (optc == 0) {
        full = 0;
    } else {
        if ((optc != 1 && optc != 3) || !arg_is(&optv[0], "full")) {
            reply_subcommand_syntax_error(c);
            return;
        }
        if (optc == 3) {
            if (!arg_is(&optv[1], "count")) {
                reply_subcommand_syntax_error(c);
                return;
            }
            if (arg_ll(c, &optv[2], &count, NULL) < 0)
                return;
            if (count < 0)
                count = 10;
        }
    }
    /* Redis 8.6's idempotency fields, only for a stream that uses it, so a
     * Redis 7.0 client sees Redis 7.0's reply */
    struct stream_idmp_info im;
    stream_idmp_get_info(s, &im);
    reply_map_len(c, (full ? 9 : 10) + (im.enabled ? 6 : 0));
    reply_bulk_cstr(c, "length");
    reply_int(c, (long long)s->length);
    reply_bulk_cstr(c, "radix-tree-keys");
    reply_int(c, (long long)stream_node_count(s));
    reply_bulk_cstr(c, "radix-tree-nodes");
    reply_int(c, (long long)stream_rax_nodes(s));
    reply_bulk_cstr(c, "last-generated-id");
    stream_reply_id(c, &s->last_id);
    reply_bulk_cstr(c, "max-deleted-entry-id");
    stream_reply_id(c, &s->max_deleted_id);
    reply_bulk_cstr(c, "entries-added");
    reply_int(c, (long long)s->entries_added);
    reply_bulk_cstr(c, "recorded-first-entry-id");
    stream_reply_id(c, &s->first_id);
    if (im.enabled) {
        reply_bulk_cstr(c, "idmp-duration");
        reply_int(c, im.duration);
        reply_bulk_cstr(c, "idmp-maxsize");
        reply_int(c, im.maxsize);
        reply_bulk_cstr(c, "pids-tracked");
        reply_int(c, (long long)im.pids_tracked);
        reply_bulk_cstr(c, "iids-tracked");
        reply_int(c, (long long)im.iids_tracked);
        reply_bulk_cstr(c, "iids-added");
        reply_int(c, (long long)im.iids_added);
        reply_bulk_cstr(c, "iids-duplicates");
        reply_int(c, (long long)im.iids_duplicates);
    }
    if (!full) {
        streamID start = {0, 0}, end = {UINT64_MAX, UINT64_MAX};
        reply_bulk_cstr(c, "groups");
        reply_int(c, (long long)s->ngroups);
        reply_bulk_cstr(c, "first-entry");
        if (!stream_reply_range(c, s, &start, &end, 1, 0, NULL, NULL, RWR_RAWENTRIES, NULL))
            reply_null(c);
        reply_bulk_cstr(c, "last-entry");
        if (!stream_reply_range(c, s, &start, &end, 1, 1, NULL, NULL, RWR_RAWENTRIES, NULL))
            reply_null(c);
        return;
    }
    reply_bulk_cstr(c, "entries");
    stream_reply_range(c, s, NULL, NULL, (size_t)count, 0, NULL, NULL, 0, NULL);
    reply_bulk_cstr(c, "groups");
    reply_full_groups(c, s, count);
}
