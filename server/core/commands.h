/* commands.h - the command table: specs (metadata) and the dispatch lookup.
 *
 * A command is described twice, on purpose, by two kinds of file:
 *  - command_table.c holds the *spec* of every command Sluice knows about:
 *    name, arity, flags, ACL categories, key specs, tips and docs, exactly as
 *    Redis 7.0 publishes them through COMMAND INFO / COMMAND DOCS.  It is
 *    pure data and is regenerated from a reference server by
 *    utils/gen-command-table.
 *  - each command module (cmd_*.c, t_*.c) lists the handlers it implements
 *    in a `struct command_impl` array.
 * At startup command_table_init() joins the two by name: a spec with no
 * handler is not registered, so COMMAND COUNT/LIST/INFO only ever show what
 * really works.  Key positions for every purpose (GETKEYS, WATCH, cluster
 * slot checks, blocking) come from the key specs, as in Redis 7.
 */
#ifndef SLUICE_COMMANDS_H
#define SLUICE_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

struct client;
typedef void command_proc(struct client *c);

/* Command flags, in the order Redis 7.0 prints them in COMMAND INFO. */
#define CMD_WRITE             (1ULL << 0)
#define CMD_READONLY          (1ULL << 1)
#define CMD_DENYOOM           (1ULL << 2)
#define CMD_MODULE            (1ULL << 3)
#define CMD_ADMIN             (1ULL << 4)
#define CMD_PUBSUB            (1ULL << 5)
#define CMD_NOSCRIPT          (1ULL << 6)
#define CMD_BLOCKING          (1ULL << 7)
#define CMD_LOADING           (1ULL << 8)
#define CMD_STALE             (1ULL << 9)
#define CMD_SKIP_MONITOR      (1ULL << 10)
#define CMD_SKIP_SLOWLOG      (1ULL << 11)
#define CMD_ASKING            (1ULL << 12)
#define CMD_FAST              (1ULL << 13)
#define CMD_NO_AUTH           (1ULL << 14)
#define CMD_MAY_REPLICATE     (1ULL << 15)
#define CMD_SENTINEL          (1ULL << 16)
#define CMD_ONLY_SENTINEL     (1ULL << 17)
#define CMD_NO_MANDATORY_KEYS (1ULL << 18)
#define CMD_PROTECTED         (1ULL << 19)
#define CMD_MODULE_GETKEYS    (1ULL << 20)
#define CMD_MODULE_NO_CLUSTER (1ULL << 21)
#define CMD_NO_ASYNC_LOADING  (1ULL << 22)
#define CMD_NO_MULTI          (1ULL << 23)
#define CMD_MOVABLE_KEYS      (1ULL << 24)
#define CMD_ALLOW_BUSY        (1ULL << 25)

/* ACL categories, in the order Redis 7.0 prints them. */
#define ACL_KEYSPACE    (1ULL << 0)
#define ACL_READ        (1ULL << 1)
#define ACL_WRITE       (1ULL << 2)
#define ACL_SET         (1ULL << 3)
#define ACL_SORTEDSET   (1ULL << 4)
#define ACL_LIST        (1ULL << 5)
#define ACL_HASH        (1ULL << 6)
#define ACL_STRING      (1ULL << 7)
#define ACL_BITMAP      (1ULL << 8)
#define ACL_HYPERLOGLOG (1ULL << 9)
#define ACL_GEO         (1ULL << 10)
#define ACL_STREAM      (1ULL << 11)
#define ACL_PUBSUB      (1ULL << 12)
#define ACL_ADMIN       (1ULL << 13)
#define ACL_FAST        (1ULL << 14)
#define ACL_SLOW        (1ULL << 15)
#define ACL_BLOCKING    (1ULL << 16)
#define ACL_DANGEROUS   (1ULL << 17)
#define ACL_CONNECTION  (1ULL << 18)
#define ACL_TRANSACTION (1ULL << 19)
#define ACL_SCRIPTING   (1ULL << 20)

/* Key spec flags, in Redis 7.0's order. */
#define KS_RO               (1ULL << 0)
#define KS_RW               (1ULL << 1)
#define KS_OW               (1ULL << 2)
#define KS_RM               (1ULL << 3)
#define KS_ACCESS           (1ULL << 4)
#define KS_UPDATE           (1ULL << 5)
#define KS_INSERT           (1ULL << 6)
#define KS_DELETE           (1ULL << 7)
#define KS_NOT_KEY          (1ULL << 8)
#define KS_INCOMPLETE       (1ULL << 9)
#define KS_VARIABLE_FLAGS   (1ULL << 10)

enum ks_begin { KS_BEGIN_INVALID = 0, KS_BEGIN_UNKNOWN, KS_BEGIN_INDEX, KS_BEGIN_KEYWORD };
enum ks_find { KS_FIND_INVALID = 0, KS_FIND_UNKNOWN, KS_FIND_RANGE, KS_FIND_KEYNUM };

struct key_spec {
    const char *notes;          /* NULL when none */
    uint64_t flags;             /* KS_* */
    enum ks_begin begin;
    int index;                  /* KS_BEGIN_INDEX: argv position */
    const char *keyword;        /* KS_BEGIN_KEYWORD: keyword to look for */
    int startfrom;              /* KS_BEGIN_KEYWORD: where to start (neg = from end) */
    enum ks_find find;
    int lastkey, keystep, limit;        /* KS_FIND_RANGE */
    int keynumidx, firstkey, keystep_n; /* KS_FIND_KEYNUM (keystep_n is its keystep) */
};

/* A node of a static reply tree: used for COMMAND DOCS, which is pure
 * documentation and is rendered as stored, in RESP2 or RESP3. */
enum doc_kind { DOC_MAP, DOC_ARRAY, DOC_SET, DOC_BULK, DOC_STATUS, DOC_INT };
struct doc_node {
    enum doc_kind kind;
    const char *str;                 /* DOC_BULK, DOC_STATUS */
    long long num;                   /* DOC_INT */
    int count;                       /* children; a map has 2*count children */
    const struct doc_node *children; /* DOC_MAP (key, value, key, value...), DOC_ARRAY, DOC_SET */
};

struct command_spec {
    const char *name;           /* lower case; a subcommand has its own name only ("get") */
    int arity;                  /* Redis convention: negative = at least -arity */
    uint64_t flags;             /* CMD_* */
    uint64_t acl;               /* ACL_* */
    const char *const *tips;    /* NULL-terminated, or NULL */
    const struct key_spec *key_specs;
    int key_specs_count;
    int first_key, last_key, key_step; /* legacy triple shown by COMMAND INFO */
    const struct command_spec *subcommands; /* terminated by an entry with name == NULL */
    const struct doc_node *docs; /* the map COMMAND DOCS shows for it (without the name) */
};

/* The generated spec table, terminated by an entry with name == NULL. */
extern const struct command_spec command_specs[];

/* What a command module provides: the full name ("get", "config|get"). */
struct command_impl {
    const char *fullname;
    command_proc *proc;
};

/* A registered, dispatchable command. */
struct command {
    const struct command_spec *spec;
    struct command *parent;     /* container for subcommands, else NULL */
    char *fullname;             /* "get" or "config|get" */
    command_proc *proc;
    int arity;
    uint64_t flags;
    /* statistics for INFO commandstats */
    long long calls, usec, rejected_calls, failed_calls;
    struct dict *subcommands;   /* name -> struct command*, for containers */
};

/* A module's handlers (terminated by a NULL fullname), registered from
 * main() before command_table_init(); when two modules implement the same
 * name, the one registered first wins. */
void commands_register_module(const struct command_impl *impls);
/* A Sluice-only subcommand of one of Redis's containers (command_table_local.c). */
struct command_subspec_local {
    const char *parent;
    struct command_spec spec;
};
void command_table_init(void);
/* Look up by name (case-insensitive).  NULL when unknown. */
struct command *command_lookup(const char *name, size_t len);
/* Subcommand of a container, or NULL. */
struct command *command_lookup_sub(struct command *parent, const char *name, size_t len);

#endif

/* Iterate over registered top-level commands (in table order). */
void command_foreach(void (*fn)(struct command *cmd, void *priv), void *priv);
size_t command_count(void);

/* Positions of the key arguments of a command line, from its key specs.
 * Returns the number of keys (written to keys_out, at most max), or -1 when
 * the arguments don't fit the spec (e.g. a bad numkeys). */
struct arg;
int command_get_keys(struct command *cmd, struct arg *argv, int argc, int *keys_out, int max);

/* Full command flags (container + subcommand), with CMD_MOVABLE_KEYS set
 * where the key positions depend on the arguments. */
uint64_t command_flags(const struct command *cmd);
