/* commands.c - the command registry, key extraction and argument parsing
 * helpers shared by all command modules.
 *
 * Registration joins the generated specs (command_table.c) with the handler
 * arrays each module exports; see commands.h for why they are separate.
 */
#include "commands.h"

#include <assert.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "dict.h"
#include "mem.h"
#include "server.h"
#include "util.h"

/* Every module's handler list, registered by main() before
 * command_table_init(): the registry never names the modules. */
#define MAX_IMPL_MODULES 32
static const struct command_impl *all_impls[MAX_IMPL_MODULES + 1];
static int nimpls;

void commands_register_module(const struct command_impl *impls)
{
    if (nimpls < MAX_IMPL_MODULES)
        all_impls[nimpls++] = impls;
}

static dict *commands;                 /* name -> struct command* */
static struct command **ordered;       /* registration order, for COMMAND */
static size_t ordered_count;

static command_proc *find_impl(const char *fullname)
{
    for (int m = 0; all_impls[m]; m++)
        for (const struct command_impl *i = all_impls[m]; i->fullname; i++)
            if (strcasecmp(i->fullname, fullname) == 0)
                return i->proc;
    return NULL;
}

static struct command *make_command(const struct command_spec *spec, struct command *parent, command_proc *proc)
{
    struct command *cmd = mem_calloc(sizeof(*cmd));
    cmd->spec = spec;
    cmd->parent = parent;
    cmd->proc = proc;
    cmd->arity = spec->arity;
    cmd->flags = spec->flags;
    if (parent) {
        size_t n = strlen(parent->fullname) + 1 + strlen(spec->name) + 1;
        cmd->fullname = mem_alloc(n);
        snprintf(cmd->fullname, n, "%s|%s", parent->fullname, spec->name);
    } else {
        cmd->fullname = mem_strdup(spec->name);
    }
    return cmd;
}

/* Sluice-only commands (command_table_local.c), registered after Redis's. */
extern const struct command_spec command_specs_local[];
extern const struct command_subspec_local command_subspecs_local[];

void command_table_init(void)
{
    static const struct command_spec *const tables[] = {command_specs, command_specs_local};
    const size_t ntables = sizeof(tables) / sizeof(tables[0]);
    commands = dict_create(NULL, DICT_NOCASE);
    size_t nspecs = 0;
    for (size_t t = 0; t < ntables; t++)
        for (const struct command_spec *spec = tables[t]; spec->name; spec++)
            nspecs++;
    ordered = mem_alloc(sizeof(*ordered) * (nspecs + 1));
    for (size_t t = 0; t < ntables; t++)
    for (const struct command_spec *spec = tables[t]; spec->name; spec++) {
        struct command *cmd;
        if (spec->subcommands) {
            /* a container may also run alone (COMMAND with no argument) */
            cmd = make_command(spec, NULL, find_impl(spec->name));
            cmd->subcommands = dict_create(NULL, DICT_NOCASE);
            for (const struct command_spec *sub = spec->subcommands; sub->name; sub++) {
                struct command *sc = make_command(sub, cmd, NULL);
                sc->proc = find_impl(sc->fullname);
                if (!sc->proc) {
                    mem_free(sc->fullname);
                    mem_free(sc);
                    continue;
                }
                dict_add(cmd->subcommands, sub->name, strlen(sub->name), NULL)->v.ptr = sc;
            }
            if (dict_size(cmd->subcommands) == 0) {
                dict_free(cmd->subcommands);
                mem_free(cmd->fullname);
                mem_free(cmd);
                continue;
            }
        } else {
            command_proc *proc = find_impl(spec->name);
            if (!proc)
                continue;
            cmd = make_command(spec, NULL, proc);
        }
        dict_add(commands, spec->name, strlen(spec->name), NULL)->v.ptr = cmd;
        ordered[ordered_count++] = cmd;
    }
    for (const struct command_subspec_local *l = command_subspecs_local; l->parent; l++) {
        struct command *parent = command_lookup(l->parent, strlen(l->parent));
        if (!parent || !parent->subcommands)
            continue;
        struct command *sc = make_command(&l->spec, parent, NULL);
        sc->proc = find_impl(sc->fullname);
        if (!sc->proc) {
            mem_free(sc->fullname);
            mem_free(sc);
            continue;
        }
        dict_add(parent->subcommands, l->spec.name, strlen(l->spec.name), NULL)->v.ptr = sc;
    }
    /* every handler must have a spec: a handler without one is a bug */
    for (int m = 0; all_impls[m]; m++) {
        for (const struct command_impl *i = all_impls[m]; i->fullname; i++) {
            const char *bar = strchr(i->fullname, '|');
            struct command *cmd = bar ? command_lookup(i->fullname, (size_t)(bar - i->fullname))
                                      : command_lookup(i->fullname, strlen(i->fullname));
            if (cmd && bar)
                cmd = command_lookup_sub(cmd, bar + 1, strlen(bar + 1));
            if (!cmd)
                server_panic("command handler '%s' has no spec in command_table.c", i->fullname);
        }
    }
}

struct command *command_lookup(const char *name, size_t len)
{
    dict_entry *e = dict_find(commands, name, len);
    return e ? e->v.ptr : NULL;
}

struct command *command_lookup_sub(struct command *parent, const char *name, size_t len)
{
    if (!parent->subcommands)
        return NULL;
    dict_entry *e = dict_find(parent->subcommands, name, len);
    return e ? e->v.ptr : NULL;
}

void command_foreach(void (*fn)(struct command *cmd, void *priv), void *priv)
{
    for (size_t i = 0; i < ordered_count; i++)
        fn(ordered[i], priv);
}

size_t command_count(void) { return ordered_count; }

uint64_t command_flags(const struct command *cmd)
{
    uint64_t f = cmd->flags;
    const struct command_spec *s = cmd->spec;
    for (int i = 0; i < s->key_specs_count; i++) {
        const struct key_spec *ks = &s->key_specs[i];
        if (ks->begin != KS_BEGIN_INDEX || ks->find != KS_FIND_RANGE || (ks->flags & KS_INCOMPLETE))
            f |= CMD_MOVABLE_KEYS;
    }
    return f;
}

/* Key extraction from key specs, following Redis 7.0's
 * getKeysUsingKeySpecs: find where the keys begin, then how many there are.
 * A spec that points outside the arguments makes the whole call invalid. */
int command_get_keys(struct command *cmd, struct arg *argv, int argc, int *keys_out, int max)
{
    const struct command_spec *s = cmd->spec;
    int n = 0;
    for (int j = 0; j < s->key_specs_count; j++) {
        const struct key_spec *ks = &s->key_specs[j];
        int first = 0, last, step;
        if (ks->flags & KS_NOT_KEY)
            continue; /* e.g. a channel name: not a key for any purpose here */
        if (ks->begin == KS_BEGIN_INDEX) {
            first = ks->index;
        } else if (ks->begin == KS_BEGIN_KEYWORD) {
            int start = ks->startfrom > 0 ? ks->startfrom : argc + ks->startfrom;
            int end = ks->startfrom > 0 ? argc - 1 : 1;
            for (int i = start; i != end; i = start <= end ? i + 1 : i - 1) {
                if (i >= argc || i < 1)
                    break;
                if (strieq(argv[i].ptr, argv[i].len, ks->keyword)) {
                    first = i + 1;
                    break;
                }
            }
            if (!first)
                continue;
        } else {
            continue;
        }
        if (ks->find == KS_FIND_RANGE) {
            step = ks->keystep;
            if (ks->lastkey >= 0)
                last = first + ks->lastkey;
            else if (!ks->limit)
                last = argc + ks->lastkey;
            else
                last = first + ((argc - first) / ks->limit + ks->lastkey);
        } else if (ks->find == KS_FIND_KEYNUM) {
            step = ks->keystep_n;
            long long numkeys;
            if (ks->keynumidx >= argc || first + ks->keynumidx >= argc)
                return -1;
            const struct arg *a = &argv[first + ks->keynumidx];
            if (!string2ll(a->ptr, a->len, &numkeys) || numkeys < 0)
                return -1;
            first += ks->firstkey;
            last = first + (int)numkeys - 1;
        } else {
            return -1;
        }
        if (last >= argc || last < first || first >= argc)
            return -1;
        for (int i = first; i <= last; i += step) {
            if (i >= argc || i < first)
                continue;
            if (n < max)
                keys_out[n] = i;
            n++;
        }
    }
    return n;
}

/* ---- argument helpers ---------------------------------------------------- */

int arg_is(const struct arg *a, const char *word) { return strieq(a->ptr, a->len, word); }

int arg_ll(struct client *c, const struct arg *a, long long *out, const char *errmsg)
{
    if (string2ll(a->ptr, a->len, out))
        return 0;
    reply_error(c, errmsg ? errmsg : ERR_NOT_INTEGER);
    return -1;
}

int arg_ll_range(struct client *c, const struct arg *a, long long min, long long max, long long *out,
                 const char *errmsg)
{
    long long v;
    if (!string2ll(a->ptr, a->len, &v) || v < min || v > max) {
        if (errmsg) {
            reply_error(c, errmsg);
        } else if (!string2ll(a->ptr, a->len, &v)) {
            reply_error(c, ERR_NOT_INTEGER);
        } else {
            reply_errorf(c, "value is out of range, value must between %lld and %lld", min, max);
        }
        return -1;
    }
    *out = v;
    return 0;
}

int arg_positive_ll(struct client *c, const struct arg *a, long long *out, const char *errmsg)
{
    long long v;
    if (!string2ll(a->ptr, a->len, &v)) {
        reply_error(c, errmsg ? errmsg : ERR_NOT_INTEGER);
        return -1;
    }
    if (v <= 0) {
        reply_error(c, errmsg ? errmsg : "value is out of range, must be positive");
        return -1;
    }
    *out = v;
    return 0;
}

int arg_double(struct client *c, const struct arg *a, double *out, const char *errmsg)
{
    if (string2d(a->ptr, a->len, out))
        return 0;
    reply_error(c, errmsg ? errmsg : ERR_NOT_FLOAT);
    return -1;
}

int arg_long_double(struct client *c, const struct arg *a, long double *out, const char *errmsg)
{
    if (string2ld(a->ptr, a->len, out))
        return 0;
    reply_error(c, errmsg ? errmsg : ERR_NOT_FLOAT);
    return -1;
}
