/* command_table_local.c - specs of Sluice-only commands.
 *
 * command_table.c is generated from Redis 7.0.15 and holds only what that
 * release has.  Commands Sluice adds beyond it (here: Redis 8.6's stream
 * idempotency commands) are described by hand in the same form, and
 * command_table_init() registers both tables.  A command whose Redis spec
 * later lands in the generated table must be removed from here.
 *
 *   XCFGSET key [IDMP-DURATION duration] [IDMP-MAXSIZE maxsize]   (8.6)
 *       sets a stream's idempotency window (XADD IDMP/IDMPAUTO).
 *   XIDMPRECORD key producer-id idempotent-id id                  (8.6)
 *       records an idempotency pair for an existing entry: the form in
 *       which XADD IDMP/IDMPAUTO reaches the AOF and replicas.
 *   WAITAOF numlocal numreplicas timeout                          (7.2)
 *       waits until the connection's writes are fsynced by the local AOF
 *       and/or the AOFs of replicas (replication/master.c).
 */
#include <stddef.h>

#include "commands.h"

/* ---- xcfgset -------------------------------------------------------------- */

static const struct key_spec ks_xcfgset[] = {
    { .flags = KS_RW | KS_UPDATE, .begin = KS_BEGIN_INDEX, .index = 1, .find = KS_FIND_RANGE, .lastkey = 0, .keystep = 1, .limit = 0 },
};

static const struct doc_node docs_xcfgset_args_0[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "key" },
    { DOC_BULK, "type" }, { DOC_BULK, "key" },
    { DOC_BULK, "key_spec_index" }, { DOC_INT, .num = 0 },
};

static const struct doc_node docs_xcfgset_optional[] = {
    { DOC_STATUS, "optional" },
};

static const struct doc_node docs_xcfgset_args_1[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "idmp-duration" },
    { DOC_BULK, "type" }, { DOC_BULK, "integer" },
    { DOC_BULK, "token" }, { DOC_BULK, "IDMP-DURATION" },
    { DOC_BULK, "flags" }, { DOC_SET, .count = 1, .children = docs_xcfgset_optional },
};

static const struct doc_node docs_xcfgset_args_2[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "idmp-maxsize" },
    { DOC_BULK, "type" }, { DOC_BULK, "integer" },
    { DOC_BULK, "token" }, { DOC_BULK, "IDMP-MAXSIZE" },
    { DOC_BULK, "flags" }, { DOC_SET, .count = 1, .children = docs_xcfgset_optional },
};

static const struct doc_node docs_xcfgset_args[] = {
    { DOC_MAP, .count = 3, .children = docs_xcfgset_args_0 },
    { DOC_MAP, .count = 4, .children = docs_xcfgset_args_1 },
    { DOC_MAP, .count = 4, .children = docs_xcfgset_args_2 },
};

static const struct doc_node docs_xcfgset_map[] = {
    { DOC_BULK, "summary" }, { DOC_BULK, "Sets the IDMP configuration parameters for a stream." },
    { DOC_BULK, "since" }, { DOC_BULK, "8.6.0" },
    { DOC_BULK, "group" }, { DOC_BULK, "stream" },
    { DOC_BULK, "complexity" }, { DOC_BULK, "O(1)" },
    { DOC_BULK, "arguments" }, { DOC_ARRAY, .count = 3, .children = docs_xcfgset_args },
};

static const struct doc_node docs_xcfgset = { DOC_MAP, .count = 5, .children = docs_xcfgset_map };

/* ---- xidmprecord ---------------------------------------------------------- */

static const struct key_spec ks_xidmprecord[] = {
    { .flags = KS_RW | KS_UPDATE, .begin = KS_BEGIN_INDEX, .index = 1, .find = KS_FIND_RANGE, .lastkey = 0, .keystep = 1, .limit = 0 },
};

static const struct doc_node docs_xidmprecord_args_0[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "key" },
    { DOC_BULK, "type" }, { DOC_BULK, "key" },
    { DOC_BULK, "key_spec_index" }, { DOC_INT, .num = 0 },
};

static const struct doc_node docs_xidmprecord_args_1[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "producer-id" },
    { DOC_BULK, "type" }, { DOC_BULK, "string" },
};

static const struct doc_node docs_xidmprecord_args_2[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "idempotent-id" },
    { DOC_BULK, "type" }, { DOC_BULK, "string" },
};

static const struct doc_node docs_xidmprecord_args_3[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "id" },
    { DOC_BULK, "type" }, { DOC_BULK, "string" },
};

static const struct doc_node docs_xidmprecord_args[] = {
    { DOC_MAP, .count = 3, .children = docs_xidmprecord_args_0 },
    { DOC_MAP, .count = 2, .children = docs_xidmprecord_args_1 },
    { DOC_MAP, .count = 2, .children = docs_xidmprecord_args_2 },
    { DOC_MAP, .count = 2, .children = docs_xidmprecord_args_3 },
};

static const struct doc_node docs_xidmprecord_map[] = {
    { DOC_BULK, "summary" }, { DOC_BULK, "An internal command for replicating stream idempotency records" },
    { DOC_BULK, "since" }, { DOC_BULK, "8.6.0" },
    { DOC_BULK, "group" }, { DOC_BULK, "stream" },
    { DOC_BULK, "complexity" }, { DOC_BULK, "O(1)" },
    { DOC_BULK, "arguments" }, { DOC_ARRAY, .count = 4, .children = docs_xidmprecord_args },
};

static const struct doc_node docs_xidmprecord = { DOC_MAP, .count = 5, .children = docs_xidmprecord_map };

/* ---- waitaof (Redis 7.2) --------------------------------------------------- */

static const char *const tips_waitaof[] = {
    "request_policy:all_shards",
    "response_policy:agg_min",
    NULL,
};

static const struct doc_node docs_waitaof_args_0[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "numlocal" },
    { DOC_BULK, "type" }, { DOC_BULK, "integer" },
};

static const struct doc_node docs_waitaof_args_1[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "numreplicas" },
    { DOC_BULK, "type" }, { DOC_BULK, "integer" },
};

static const struct doc_node docs_waitaof_args_2[] = {
    { DOC_BULK, "name" }, { DOC_BULK, "timeout" },
    { DOC_BULK, "type" }, { DOC_BULK, "integer" },
};

static const struct doc_node docs_waitaof_args[] = {
    { DOC_MAP, .count = 2, .children = docs_waitaof_args_0 },
    { DOC_MAP, .count = 2, .children = docs_waitaof_args_1 },
    { DOC_MAP, .count = 2, .children = docs_waitaof_args_2 },
};

static const struct doc_node docs_waitaof_map[] = {
    { DOC_BULK, "summary" }, { DOC_BULK, "Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the master and/or replicas." },
    { DOC_BULK, "since" }, { DOC_BULK, "7.2.0" },
    { DOC_BULK, "group" }, { DOC_BULK, "generic" },
    { DOC_BULK, "complexity" }, { DOC_BULK, "O(1)" },
    { DOC_BULK, "arguments" }, { DOC_ARRAY, .count = 3, .children = docs_waitaof_args },
};

static const struct doc_node docs_waitaof = { DOC_MAP, .count = 5, .children = docs_waitaof_map };

/* ---- client|acks (Sluice: Kafka's producer acks, per connection) ---------- */

static const struct doc_node docs_client_acks_map[] = {
    { DOC_BULK, "summary" }, { DOC_BULK, "Sets which durability a write of this connection waits for before its reply: 0, 1 or all." },
    { DOC_BULK, "since" }, { DOC_BULK, "1.0.0" },
    { DOC_BULK, "group" }, { DOC_BULK, "connection" },
    { DOC_BULK, "complexity" }, { DOC_BULK, "O(1)" },
};

static const struct doc_node docs_client_acks = { DOC_MAP, .count = 4, .children = docs_client_acks_map };

/* Subcommands Sluice adds to a container of Redis's table. */
const struct command_subspec_local command_subspecs_local[] = {
    {
        "client",
        {
            .name = "acks", .arity = -2,
            .flags = CMD_NOSCRIPT | CMD_LOADING | CMD_STALE,
            .acl = ACL_CONNECTION,
            .docs = &docs_client_acks,
        },
    },
    { NULL, { .name = NULL } },
};

/* ---- the table ------------------------------------------------------------- */

const struct command_spec command_specs_local[] = {
    {
        .name = "xcfgset", .arity = -2,
        .flags = CMD_WRITE | CMD_FAST,
        .acl = ACL_WRITE | ACL_STREAM | ACL_FAST,
        .key_specs = ks_xcfgset, .key_specs_count = 1,
        .first_key = 1, .last_key = 1, .key_step = 1,
        .docs = &docs_xcfgset,
    },
    {
        .name = "xidmprecord", .arity = 5,
        .flags = CMD_WRITE | CMD_FAST,
        .acl = ACL_WRITE | ACL_STREAM | ACL_FAST,
        .key_specs = ks_xidmprecord, .key_specs_count = 1,
        .first_key = 1, .last_key = 1, .key_step = 1,
        .docs = &docs_xidmprecord,
    },
    {
        .name = "waitaof", .arity = 4,
        .flags = CMD_NOSCRIPT,
        .acl = ACL_SLOW | ACL_CONNECTION,
        .tips = tips_waitaof,
        .first_key = 0, .last_key = 0, .key_step = 0,
        .docs = &docs_waitaof,
    },
    { .name = NULL },
};
