/* command_render.c - COMMAND INFO / COMMAND DOCS replies from the spec table.
 *
 * The layout follows Redis 7.0's addReplyCommandInfo / addReplyCommandDocs
 * byte for byte, quirks included (they are what clients of 7.0 parse):
 *  - flags, ACL categories and tips are sets; flags and categories are
 *    status strings, tips are bulk strings;
 *  - the key specs are a *set* of maps (Redis 7.2 made it an array);
 *  - the subcommands are an array of entries, but a command without
 *    subcommands gets an empty *set*.
 * tests/unit/test_command_render.c checks this against captured replies.
 */
#include "command_render.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct flag_name {
    uint64_t flag;
    const char *name;
};

/* In bit order, which is the order Redis prints them in.  Redis hides
 * may_replicate, sentinel, only_sentinel, protected and the module-only
 * flags from COMMAND INFO, so they have no name here either. */
static const struct flag_name cmd_flag_names[] = {
    {CMD_WRITE, "write"},
    {CMD_READONLY, "readonly"},
    {CMD_DENYOOM, "denyoom"},
    {CMD_MODULE, "module"},
    {CMD_ADMIN, "admin"},
    {CMD_PUBSUB, "pubsub"},
    {CMD_NOSCRIPT, "noscript"},
    {CMD_BLOCKING, "blocking"},
    {CMD_LOADING, "loading"},
    {CMD_STALE, "stale"},
    {CMD_SKIP_MONITOR, "skip_monitor"},
    {CMD_SKIP_SLOWLOG, "skip_slowlog"},
    {CMD_ASKING, "asking"},
    {CMD_FAST, "fast"},
    {CMD_NO_AUTH, "no_auth"},
    {CMD_NO_MANDATORY_KEYS, "no_mandatory_keys"},
    {CMD_NO_ASYNC_LOADING, "no_async_loading"},
    {CMD_NO_MULTI, "no_multi"},
    {CMD_MOVABLE_KEYS, "movablekeys"},
    {CMD_ALLOW_BUSY, "allow_busy"},
    {0, NULL},
};

static const struct flag_name acl_names[] = {
    {ACL_KEYSPACE, "@keyspace"},
    {ACL_READ, "@read"},
    {ACL_WRITE, "@write"},
    {ACL_SET, "@set"},
    {ACL_SORTEDSET, "@sortedset"},
    {ACL_LIST, "@list"},
    {ACL_HASH, "@hash"},
    {ACL_STRING, "@string"},
    {ACL_BITMAP, "@bitmap"},
    {ACL_HYPERLOGLOG, "@hyperloglog"},
    {ACL_GEO, "@geo"},
    {ACL_STREAM, "@stream"},
    {ACL_PUBSUB, "@pubsub"},
    {ACL_ADMIN, "@admin"},
    {ACL_FAST, "@fast"},
    {ACL_SLOW, "@slow"},
    {ACL_BLOCKING, "@blocking"},
    {ACL_DANGEROUS, "@dangerous"},
    {ACL_CONNECTION, "@connection"},
    {ACL_TRANSACTION, "@transaction"},
    {ACL_SCRIPTING, "@scripting"},
    {0, NULL},
};

static const struct flag_name ks_flag_names[] = {
    {KS_RO, "RO"},
    {KS_RW, "RW"},
    {KS_OW, "OW"},
    {KS_RM, "RM"},
    {KS_ACCESS, "access"},
    {KS_UPDATE, "update"},
    {KS_INSERT, "insert"},
    {KS_DELETE, "delete"},
    {KS_NOT_KEY, "not_key"},
    {KS_INCOMPLETE, "incomplete"},
    {KS_VARIABLE_FLAGS, "variable_flags"},
    {0, NULL},
};

static void out_cstr(const struct render_out *out, const char *s)
{
    out->bulk(out->ctx, s, strlen(s));
}

/* A set of status strings, one per flag that is set and has a name. */
static void out_flags(const struct render_out *out, uint64_t flags, const struct flag_name *names)
{
    long n = 0;
    for (const struct flag_name *f = names; f->name; f++)
        if (flags & f->flag)
            n++;
    out->set(out->ctx, n);
    for (const struct flag_name *f = names; f->name; f++)
        if (flags & f->flag)
            out->status(out->ctx, f->name);
}

static void out_int_field(const struct render_out *out, const char *key, long long v)
{
    out_cstr(out, key);
    out->integer(out->ctx, v);
}

size_t render_fullname(char *buf, size_t size, const struct command_spec *spec,
                       const struct command_spec *parent)
{
    int n = parent ? snprintf(buf, size, "%s|%s", parent->name, spec->name)
                   : snprintf(buf, size, "%s", spec->name);
    return n < 0 ? 0 : (size_t)n;
}

/* The full name as one bulk string.  Both parts come from the const table,
 * never from a client, so the stack buffer is bounded by table data; the
 * fixed buffer is the fast path that every name in the table takes. */
static void out_fullname(const struct render_out *out, const struct command_spec *spec,
                         const struct command_spec *parent)
{
    char buf[128];
    size_t len = render_fullname(buf, sizeof(buf), spec, parent);
    if (len < sizeof(buf)) {
        out->bulk(out->ctx, buf, len);
        return;
    }
    /* A bulk cannot be written in two pieces and truncating would change
     * the name, so size a buffer to fit. */
    char big[len + 1];
    render_fullname(big, len + 1, spec, parent);
    out->bulk(out->ctx, big, len);
}

static int sub_visible(const struct render_filter *filter, const struct command_spec *parent,
                       const struct command_spec *sub)
{
    return !filter || !filter->visible || filter->visible(filter->ctx, parent, sub);
}

static long count_visible(const struct command_spec *spec, const struct render_filter *filter)
{
    long n = 0;
    for (const struct command_spec *sub = spec->subcommands; sub && sub->name; sub++)
        if (sub_visible(filter, spec, sub))
            n++;
    return n;
}

static void render_key_spec(const struct render_out *out, const struct key_spec *ks)
{
    out->map(out->ctx, ks->notes ? 4 : 3);
    if (ks->notes) {
        out_cstr(out, "notes");
        out_cstr(out, ks->notes);
    }
    out_cstr(out, "flags");
    out_flags(out, ks->flags, ks_flag_names);

    out_cstr(out, "begin_search");
    out->map(out->ctx, 2);
    out_cstr(out, "type");
    switch (ks->begin) {
    case KS_BEGIN_INDEX:
        out_cstr(out, "index");
        out_cstr(out, "spec");
        out->map(out->ctx, 1);
        out_int_field(out, "index", ks->index);
        break;
    case KS_BEGIN_KEYWORD:
        out_cstr(out, "keyword");
        out_cstr(out, "spec");
        out->map(out->ctx, 2);
        out_cstr(out, "keyword");
        out_cstr(out, ks->keyword);
        out_int_field(out, "startfrom", ks->startfrom);
        break;
    default: /* KS_BEGIN_UNKNOWN; an invalid spec must still be a valid reply */
        out_cstr(out, "unknown");
        out_cstr(out, "spec");
        out->map(out->ctx, 0);
        break;
    }

    out_cstr(out, "find_keys");
    out->map(out->ctx, 2);
    out_cstr(out, "type");
    switch (ks->find) {
    case KS_FIND_RANGE:
        out_cstr(out, "range");
        out_cstr(out, "spec");
        out->map(out->ctx, 3);
        out_int_field(out, "lastkey", ks->lastkey);
        out_int_field(out, "keystep", ks->keystep);
        out_int_field(out, "limit", ks->limit);
        break;
    case KS_FIND_KEYNUM:
        out_cstr(out, "keynum");
        out_cstr(out, "spec");
        out->map(out->ctx, 3);
        out_int_field(out, "keynumidx", ks->keynumidx);
        out_int_field(out, "firstkey", ks->firstkey);
        out_int_field(out, "keystep", ks->keystep_n);
        break;
    default:
        out_cstr(out, "unknown");
        out_cstr(out, "spec");
        out->map(out->ctx, 0);
        break;
    }
}

void render_command_info(const struct render_out *out, const struct command_spec *spec,
                         const struct command_spec *parent, const struct render_filter *filter)
{
    out->array(out->ctx, 10);
    out_fullname(out, spec, parent);
    out->integer(out->ctx, spec->arity);
    out_flags(out, spec->flags, cmd_flag_names);
    out->integer(out->ctx, spec->first_key);
    out->integer(out->ctx, spec->last_key);
    out->integer(out->ctx, spec->key_step);
    out_flags(out, spec->acl, acl_names);

    long ntips = 0;
    for (const char *const *t = spec->tips; t && *t; t++)
        ntips++;
    out->set(out->ctx, ntips);
    for (long i = 0; i < ntips; i++)
        out_cstr(out, spec->tips[i]);

    out->set(out->ctx, spec->key_specs_count);
    for (int i = 0; i < spec->key_specs_count; i++)
        render_key_spec(out, &spec->key_specs[i]);

    /* Redis answers an empty set when there is no subcommand dict; a
     * container whose subcommands are all filtered out looks the same. */
    long nsubs = count_visible(spec, filter);
    if (nsubs == 0) {
        out->set(out->ctx, 0);
        return;
    }
    out->array(out->ctx, nsubs);
    for (const struct command_spec *sub = spec->subcommands; sub->name; sub++)
        if (sub_visible(filter, spec, sub))
            render_command_info(out, sub, spec, filter);
}

void render_doc_node(const struct render_out *out, const struct doc_node *node)
{
    switch (node->kind) {
    case DOC_MAP:
        out->map(out->ctx, node->count);
        for (int i = 0; i < 2 * node->count; i++)
            render_doc_node(out, &node->children[i]);
        break;
    case DOC_ARRAY:
    case DOC_SET:
        if (node->kind == DOC_ARRAY)
            out->array(out->ctx, node->count);
        else
            out->set(out->ctx, node->count);
        for (int i = 0; i < node->count; i++)
            render_doc_node(out, &node->children[i]);
        break;
    case DOC_BULK:
        out_cstr(out, node->str);
        break;
    case DOC_STATUS:
        out->status(out->ctx, node->str);
        break;
    case DOC_INT:
        out->integer(out->ctx, node->num);
        break;
    }
}

static int is_key(const struct doc_node *node, const char *key)
{
    return node->kind == DOC_BULK && strcmp(node->str, key) == 0;
}

void render_command_docs(const struct render_out *out, const struct command_spec *spec,
                         const struct command_spec *parent, const struct render_filter *filter)
{
    out_fullname(out, spec, parent);
    const struct doc_node *docs = spec->docs;
    if (!docs) {
        /* Every Redis 7.0 command has docs (at least its group); an empty
         * map keeps the reply well-formed should one ever lack them. */
        out->map(out->ctx, 0);
        return;
    }
    out->map(out->ctx, docs->count);
    for (int i = 0; i < docs->count; i++) {
        const struct doc_node *key = &docs->children[2 * i];
        const struct doc_node *val = &docs->children[2 * i + 1];
        render_doc_node(out, key);
        if (spec->subcommands && is_key(key, "subcommands")) {
            /* Rebuilt rather than stored so that the filter applies; with
             * no filter this is exactly the stored tree. */
            out->map(out->ctx, count_visible(spec, filter));
            for (const struct command_spec *sub = spec->subcommands; sub->name; sub++)
                if (sub_visible(filter, spec, sub))
                    render_command_docs(out, sub, spec, filter);
        } else {
            render_doc_node(out, val);
        }
    }
}
