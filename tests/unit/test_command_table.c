/* test_command_table.c - sanity of the generated spec table.
 *
 * server/core/command_table.c is generated from a reference redis-server, so
 * these checks are not about typing mistakes: they guard the generator and
 * the assumptions the rest of the server makes about the data (lookup by
 * unique lower-case name, key specs that can be walked without bounds
 * checks, docs trees the renderer can walk blindly).  Each property is one
 * TAP test over the whole table; offenders are listed as diagnostics.
 */
#include <ctype.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "commands.h"
#include "tap.h"

/* Every spec, commands and subcommands alike, with its full name. */
struct entry {
    const struct command_spec *s, *parent;
    char name[128];
};
#define MAX_ENTRIES 1024

static int collect(struct entry *all, int max)
{
    int n = 0;
    for (const struct command_spec *s = command_specs; s->name; s++) {
        if (n == max)
            tap_bail("more specs than MAX_ENTRIES");
        all[n].s = s;
        all[n].parent = NULL;
        snprintf(all[n].name, sizeof(all[n].name), "%s", s->name);
        n++;
        for (const struct command_spec *sub = s->subcommands; sub && sub->name; sub++) {
            if (n == max)
                tap_bail("more specs than MAX_ENTRIES");
            all[n].s = sub;
            all[n].parent = s;
            snprintf(all[n].name, sizeof(all[n].name), "%s|%s", s->name, sub->name);
            n++;
        }
    }
    return n;
}

static const struct command_spec *find(const char *name)
{
    const char *bar = strchr(name, '|');
    size_t len = bar ? (size_t)(bar - name) : strlen(name);
    for (const struct command_spec *s = command_specs; s->name; s++) {
        if (strlen(s->name) != len || strncmp(s->name, name, len) != 0)
            continue;
        if (!bar)
            return s;
        for (const struct command_spec *sub = s->subcommands; sub && sub->name; sub++)
            if (strcmp(sub->name, bar + 1) == 0)
                return sub;
        return NULL;
    }
    return NULL;
}

static int count_specs(int *nsubs)
{
    int n = 0;
    *nsubs = 0;
    for (const struct command_spec *s = command_specs; s->name; s++) {
        n++;
        for (const struct command_spec *sub = s->subcommands; sub && sub->name; sub++)
            (*nsubs)++;
    }
    return n;
}

/* ---- names ------------------------------------------------------------ */

static int name_ok(const char *name)
{
    if (!name || !*name || strlen(name) > 60)
        return 0;
    for (const char *p = name; *p; p++)
        if (isupper((unsigned char)*p) || isspace((unsigned char)*p) || *p == '|')
            return 0;
    return 1;
}

static void test_names(const struct entry *all, int nall)
{
    int bad = 0, dup = 0, unsorted = 0;
    for (int e = 0; e < nall; e++) {
        const struct command_spec *s = all[e].s, *parent = all[e].parent;
        const char *n = all[e].name;
        (void)parent;
        if (!name_ok(s->name)) {
            tap_diag("bad name: \"%s\"", n);
            bad++;
        }
    }
    for (const struct command_spec *a = command_specs; a->name; a++) {
        for (const struct command_spec *b = a + 1; b->name; b++)
            if (strcmp(a->name, b->name) == 0) {
                tap_diag("duplicate command: %s", a->name);
                dup++;
            }
        for (const struct command_spec *x = a->subcommands; x && x->name; x++) {
            for (const struct command_spec *y = x + 1; y->name; y++)
                if (strcmp(x->name, y->name) == 0) {
                    tap_diag("duplicate subcommand: %s|%s", a->name, x->name);
                    dup++;
                }
            /* the generator sorts them; COMMAND INFO output depends on it */
            if (x != a->subcommands && strcmp(x[-1].name, x->name) >= 0) {
                tap_diag("subcommands of %s not sorted at %s", a->name, x->name);
                unsorted++;
            }
        }
    }
    ok(bad == 0, "every name is lower case, non-empty and has no '|' or space");
    ok(dup == 0, "command names are unique, and subcommand names within their container");
    ok(unsorted == 0, "subcommands are sorted by name");
}

/* ---- arity, flags, containers ----------------------------------------- */

static void test_flags_and_arity(const struct entry *all, int nall)
{
    int zero = 0, both = 0, unknown = 0, badsub = 0, nested = 0, tips = 0;
    const uint64_t known_cmd = (CMD_ALLOW_BUSY << 1) - 1;
    const uint64_t known_acl = (ACL_SCRIPTING << 1) - 1;
    for (int e = 0; e < nall; e++) {
        const struct command_spec *s = all[e].s, *parent = all[e].parent;
        const char *n = all[e].name;
        (void)parent;
        if (s->arity == 0) {
            tap_diag("%s: arity 0", n);
            zero++;
        }
        if ((s->flags & CMD_WRITE) && (s->flags & CMD_READONLY)) {
            tap_diag("%s: both write and readonly", n);
            both++;
        }
        if ((s->flags & ~known_cmd) || (s->acl & ~known_acl) || s->acl == 0) {
            tap_diag("%s: unknown flag bits or no ACL category", n);
            unknown++;
        }
        if (parent && s->subcommands) {
            tap_diag("%s: subcommands nest", n);
            nested++;
        }
        for (const char *const *t = s->tips; t && *t; t++)
            if (!**t) {
                tap_diag("%s: empty tip", n);
                tips++;
            }
        if (s->tips && !s->tips[0]) {
            tap_diag("%s: empty tips array should be NULL", n);
            tips++;
        }
    }
    for (const struct command_spec *s = command_specs; s->name; s++) {
        if (!s->subcommands)
            continue;
        /* -2: the subcommand name is mandatory.  COMMAND is the one
         * container that also runs bare (it lists every command), so Redis
         * gives it -1. */
        int want = strcmp(s->name, "command") == 0 ? -1 : -2;
        if (s->arity != want || !s->subcommands[0].name || s->key_specs_count || s->first_key) {
            tap_diag("container %s: arity %d, keys %d", s->name, s->arity, s->key_specs_count);
            badsub++;
        }
    }
    ok(zero == 0, "no arity is 0");
    ok(both == 0, "no command is both write and readonly");
    ok(unknown == 0, "only known CMD_*/ACL_* bits, and every command has a category");
    ok(badsub == 0, "every container has arity -2 (COMMAND: -1), no keys and a subcommand");
    ok(nested == 0, "subcommands have no subcommands");
    ok(tips == 0, "tips are NULL or a non-empty NULL-terminated list of strings");
}

/* ---- key specs -------------------------------------------------------- */

static int key_spec_ok(const struct command_spec *s, const struct key_spec *ks, const char *n, int i)
{
    int good = 1;
    /* a positive arity is the exact argc, so every position must be below */
    int maxpos = s->arity > 0 ? s->arity - 1 : INT_MAX;
    uint64_t access = ks->flags & (KS_RO | KS_RW | KS_OW | KS_RM);
    if (access == 0 || (access & (access - 1))) {
        tap_diag("%s spec %d: not exactly one of RO/RW/OW/RM", n, i);
        good = 0;
    }
    if (ks->flags & ~((KS_VARIABLE_FLAGS << 1) - 1)) {
        tap_diag("%s spec %d: unknown flag bits", n, i);
        good = 0;
    }
    switch (ks->begin) {
    case KS_BEGIN_INDEX:
        if (ks->index < 1 || ks->index > maxpos) {
            tap_diag("%s spec %d: index %d out of range", n, i, ks->index);
            good = 0;
        }
        break;
    case KS_BEGIN_KEYWORD:
        if (!ks->keyword || !*ks->keyword || ks->startfrom == 0 ||
            (ks->startfrom > 0 && ks->startfrom > maxpos)) {
            tap_diag("%s spec %d: bad keyword search", n, i);
            good = 0;
        }
        break;
    case KS_BEGIN_UNKNOWN:
        break;
    default:
        tap_diag("%s spec %d: invalid begin_search", n, i);
        good = 0;
    }
    switch (ks->find) {
    case KS_FIND_RANGE:
        if (ks->keystep < 1 || ks->limit < 0 ||
            (ks->lastkey >= 0 && ks->begin == KS_BEGIN_INDEX && ks->index + ks->lastkey > maxpos)) {
            tap_diag("%s spec %d: bad range %d/%d/%d", n, i, ks->lastkey, ks->keystep, ks->limit);
            good = 0;
        }
        break;
    case KS_FIND_KEYNUM:
        if (ks->keynumidx < 0 || ks->firstkey < 1 || ks->keystep_n < 1 ||
            ks->firstkey <= ks->keynumidx) {
            tap_diag("%s spec %d: bad keynum %d/%d/%d", n, i, ks->keynumidx, ks->firstkey,
                     ks->keystep_n);
            good = 0;
        }
        break;
    case KS_FIND_UNKNOWN:
        break;
    default:
        tap_diag("%s spec %d: invalid find_keys", n, i);
        good = 0;
    }
    return good;
}

/* Redis 7.0's populateCommandLegacyRangeSpec: the (first, last, step) triple
 * COMMAND INFO shows is derived from the key specs.  Reimplemented here to
 * prove the stored triple and the stored specs agree; returns whether the
 * derivation alone already implies movablekeys. */
static int legacy_range(const struct command_spec *s, int *first, int *last, int *step)
{
    *first = *last = *step = 0;
    if (s->key_specs_count == 0)
        return 0;
    const struct key_spec *k = s->key_specs;
    if (s->key_specs_count == 1 && k->begin == KS_BEGIN_INDEX && k->find == KS_FIND_RANGE) {
        /* one plain range spec is taken as it is, even with keystep > 1 */
        *first = k->index;
        *last = k->lastkey >= 0 ? k->index + k->lastkey : k->lastkey;
        *step = k->keystep;
        return (k->flags & KS_INCOMPLETE) != 0;
    }
    int movable = 0, firstkey = INT_MAX;
    unsigned lastkey = 0, prev_lastkey = 0;
    for (int i = 0; i < s->key_specs_count; i++) {
        k = &s->key_specs[i];
        if (k->begin != KS_BEGIN_INDEX || k->find != KS_FIND_RANGE || k->keystep != 1 ||
            (prev_lastkey && prev_lastkey != (unsigned)k->index - 1)) {
            movable = 1;
            continue;
        }
        if (k->flags & KS_INCOMPLETE)
            movable = 1;
        if (k->index < firstkey)
            firstkey = k->index;
        int abs_last = k->lastkey >= 0 ? k->lastkey + k->index : k->lastkey;
        /* unsigned, as in Redis, so that a negative (open) end wins */
        if ((unsigned)abs_last > lastkey)
            lastkey = (unsigned)abs_last;
        prev_lastkey = lastkey;
    }
    if (firstkey == INT_MAX)
        return 1;
    *first = firstkey;
    *last = (int)lastkey;
    *step = 1;
    return movable;
}

static void test_key_specs(const struct entry *all, int nall)
{
    int bad = 0, ptr = 0, legacy = 0, movable = 0, simple = 0;
    for (int e = 0; e < nall; e++) {
        const struct command_spec *s = all[e].s, *parent = all[e].parent;
        const char *n = all[e].name;
        (void)parent;
        if ((s->key_specs == NULL) != (s->key_specs_count == 0) || s->key_specs_count < 0) {
            tap_diag("%s: key_specs / key_specs_count disagree", n);
            ptr++;
        }
        for (int i = 0; i < s->key_specs_count; i++)
            if (!key_spec_ok(s, &s->key_specs[i], n, i))
                bad++;
        int f, l, st;
        int derived_movable = legacy_range(s, &f, &l, &st);
        if (f != s->first_key || l != s->last_key || st != s->key_step) {
            tap_diag("%s: legacy %d/%d/%d, key specs give %d/%d/%d", n, s->first_key,
                     s->last_key, s->key_step, f, l, st);
            legacy++;
        }
        /* The derivation implies movablekeys; the converse does not hold
         * (Redis also sets it for commands with a getkeys proc). */
        if (derived_movable && !(s->flags & CMD_MOVABLE_KEYS)) {
            tap_diag("%s: key specs imply movablekeys but the flag is missing", n);
            movable++;
        }
        /* the simple case spelled out, as documented for COMMAND INFO */
        if (s->key_specs_count == 1 && s->key_specs[0].begin == KS_BEGIN_INDEX &&
            s->key_specs[0].find == KS_FIND_RANGE && s->first_key != s->key_specs[0].index) {
            tap_diag("%s: first key %d but key spec index %d", n, s->first_key,
                     s->key_specs[0].index);
            simple++;
        }
        if (s->key_specs_count == 0 && (s->first_key || s->last_key || s->key_step)) {
            tap_diag("%s: keys without key specs", n);
            simple++;
        }
    }
    ok(ptr == 0, "key_specs is NULL exactly when key_specs_count is 0");
    ok(bad == 0, "key spec flags, indexes and ranges are in range");
    ok(simple == 0, "legacy first key matches a single index/range key spec; no specs, no keys");
    ok(legacy == 0, "legacy first/last/step match Redis's derivation from the key specs");
    ok(movable == 0, "movablekeys is set wherever the key specs imply it");
}

/* ---- docs trees ------------------------------------------------------- */

static int doc_ok(const struct doc_node *d, int depth, const char *n)
{
    if (depth > 16) {
        tap_diag("%s: docs nest too deep", n);
        return 0;
    }
    switch (d->kind) {
    case DOC_BULK:
    case DOC_STATUS:
        if (!d->str) {
            tap_diag("%s: string node without a string", n);
            return 0;
        }
        return d->count == 0 && d->children == NULL;
    case DOC_INT:
        return d->str == NULL && d->count == 0 && d->children == NULL;
    case DOC_MAP:
    case DOC_ARRAY:
    case DOC_SET: {
        if (d->count < 0 || (d->count > 0) != (d->children != NULL)) {
            tap_diag("%s: count %d with children %p", n, d->count, (const void *)d->children);
            return 0;
        }
        int len = d->kind == DOC_MAP ? 2 * d->count : d->count;
        for (int i = 0; i < len; i++) {
            /* map keys are always bulk strings in COMMAND DOCS */
            if (d->kind == DOC_MAP && i % 2 == 0 && d->children[i].kind != DOC_BULK) {
                tap_diag("%s: map key %d is not a bulk string", n, i / 2);
                return 0;
            }
            if (!doc_ok(&d->children[i], depth + 1, n))
                return 0;
        }
        return 1;
    }
    }
    tap_diag("%s: invalid node kind %d", n, (int)d->kind);
    return 0;
}

static const struct doc_node *doc_field(const struct doc_node *map, const char *key)
{
    for (int i = 0; i < map->count; i++)
        if (strcmp(map->children[2 * i].str, key) == 0)
            return &map->children[2 * i + 1];
    return NULL;
}

static void test_docs(const struct entry *all, int nall)
{
    int bad = 0, group = 0, subs = 0, nodocs = 0;
    for (int e = 0; e < nall; e++) {
        const struct command_spec *s = all[e].s, *parent = all[e].parent;
        const char *n = all[e].name;
        (void)parent;
        if (!s->docs) {
            nodocs++;
            continue;
        }
        if (s->docs->kind != DOC_MAP || !doc_ok(s->docs, 0, n)) {
            tap_diag("%s: malformed docs tree", n);
            bad++;
            continue;
        }
        const struct doc_node *g = doc_field(s->docs, "group");
        if (!g || g->kind != DOC_BULK) {
            tap_diag("%s: docs without a group", n);
            group++;
        }
        /* A container's "subcommands" field must be its last, and list the
         * table's subcommands in the table's order with their own docs:
         * the renderer rebuilds it from spec->subcommands. */
        const struct doc_node *sd = doc_field(s->docs, "subcommands");
        if (!s->subcommands != !sd ||
            (sd && &s->docs->children[2 * s->docs->count - 1] != sd)) {
            tap_diag("%s: subcommands field missing, extra or not last", n);
            subs++;
            continue;
        }
        if (!sd)
            continue;
        int i = 0;
        for (const struct command_spec *x = s->subcommands; x->name; x++, i++) {
            char want[128];
            snprintf(want, sizeof(want), "%s|%s", s->name, x->name);
            if (i >= sd->count || strcmp(sd->children[2 * i].str, want) != 0 ||
                !x->docs || sd->children[2 * i + 1].children != x->docs->children ||
                sd->children[2 * i + 1].count != x->docs->count) {
                tap_diag("%s: docs subcommand %d is not %s", n, i, want);
                subs++;
                break;
            }
        }
        if (i != sd->count) {
            tap_diag("%s: %d subcommands in docs, %d in the table", n, sd->count, i);
            subs++;
        }
    }
    ok(bad == 0, "every docs tree is well formed (kinds, counts, map keys)");
    ok(group == 0, "every docs map has a group");
    ok(subs == 0, "container docs list exactly the table's subcommands, in order");
    ok(nodocs == 0, "every command has docs (Redis 7.0 documents them all)");
}

/* ---- known values ----------------------------------------------------- */

static void test_known_values(void)
{
    const struct command_spec *s;

    s = find("get");
    if (ok(s != NULL, "get exists")) {
        is_int(s->arity, 2, "get: arity 2");
        is_int(s->flags, CMD_READONLY | CMD_FAST, "get: flags readonly fast");
        is_int(s->acl, ACL_READ | ACL_STRING | ACL_FAST, "get: @read @string @fast");
        is_int(s->key_specs_count, 1, "get: one key spec");
        const struct key_spec *k = s->key_specs;
        ok(k && k->begin == KS_BEGIN_INDEX && k->index == 1 && k->find == KS_FIND_RANGE &&
               k->lastkey == 0 && k->keystep == 1 && k->limit == 0,
           "get: key spec index 1, range 0/1/0");
        is_int(k ? k->flags : 0, KS_RO | KS_ACCESS, "get: key spec RO access");
        ok(s->first_key == 1 && s->last_key == 1 && s->key_step == 1, "get: legacy 1/1/1");
        ok(s->tips == NULL && s->subcommands == NULL, "get: no tips, no subcommands");
    }

    s = find("set");
    if (ok(s != NULL, "set exists")) {
        is_int(s->arity, -3, "set: arity -3");
        is_int(s->flags, CMD_WRITE | CMD_DENYOOM, "set: flags write denyoom");
        ok(s->key_specs_count == 1 && s->key_specs[0].notes != NULL &&
               (s->key_specs[0].flags & KS_VARIABLE_FLAGS),
           "set: key spec has notes and variable_flags");
    }

    s = find("mset");
    ok(s && s->first_key == 1 && s->last_key == -1 && s->key_step == 2, "mset: legacy 1/-1/2");

    s = find("blpop");
    if (ok(s != NULL, "blpop exists")) {
        ok(s->flags & CMD_BLOCKING, "blpop: blocking");
        ok(s->acl & ACL_BLOCKING, "blpop: @blocking");
        ok(s->key_specs_count == 1 && s->key_specs[0].lastkey == -2, "blpop: keys up to argc-2");
    }

    s = find("xread");
    if (ok(s != NULL, "xread exists")) {
        const struct key_spec *k = s->key_specs;
        ok(s->key_specs_count == 1 && k->begin == KS_BEGIN_KEYWORD &&
               strcmp(k->keyword, "STREAMS") == 0 && k->startfrom == 1 &&
               k->find == KS_FIND_RANGE && k->lastkey == -1 && k->limit == 2,
           "xread: keyword STREAMS key spec, range -1/1/2");
        ok((s->flags & (CMD_MOVABLE_KEYS | CMD_BLOCKING)) == (CMD_MOVABLE_KEYS | CMD_BLOCKING),
           "xread: movablekeys blocking");
    }

    s = find("lmpop");
    if (ok(s != NULL, "lmpop exists")) {
        const struct key_spec *k = s->key_specs;
        ok(s->key_specs_count == 1 && k->find == KS_FIND_KEYNUM && k->keynumidx == 0 &&
               k->firstkey == 1 && k->keystep_n == 1,
           "lmpop: keynum key spec 0/1/1");
    }

    s = find("config|get");
    if (ok(s != NULL, "config|get exists")) {
        is_int(s->arity, -3, "config|get: arity -3");
        is_str(s->name, "get", "config|get: stored under its own name");
    }
    s = find("config|set");
    ok(s && s->tips && strcmp(s->tips[0], "request_policy:all_nodes") == 0 &&
           strcmp(s->tips[1], "response_policy:all_succeeded") == 0 && !s->tips[2],
       "config|set: tips");

    int n = 0;
    s = find("cluster");
    for (const struct command_spec *x = s ? s->subcommands : NULL; x && x->name; x++)
        n++;
    ok(n == 4 && find("cluster|keyslot") && find("cluster|countkeysinslot") &&
           find("cluster|getkeysinslot") && find("cluster|help"),
       "cluster: only keyslot, countkeysinslot, getkeysinslot, help");
    n = 0;
    s = find("memory");
    for (const struct command_spec *x = s ? s->subcommands : NULL; x && x->name; x++)
        n++;
    ok(n == 2 && find("memory|usage") && find("memory|help"), "memory: only usage and help");

    s = find("debug");
    ok(s && s->arity == -2 && !s->subcommands && s->docs, "debug: kept, not a container, has docs");
    s = find("slaveof");
    ok(s && s->docs && doc_field(s->docs, "deprecated_since") && doc_field(s->docs, "replaced_by"),
       "slaveof: docs carry deprecation");
    ok(find("lolwut") == NULL && find("cluster|nodes") == NULL, "nothing beyond the list");

    int nsubs, ncmds = count_specs(&nsubs);
    tap_diag("%d commands, %d subcommands", ncmds, nsubs);
    ok(ncmds > 100 && nsubs > 40, "the table is populated");
}

int main(void)
{
    struct entry all[MAX_ENTRIES];
    int nall = collect(all, MAX_ENTRIES);

    test_names(all, nall);
    test_flags_and_arity(all, nall);
    test_key_specs(all, nall);
    test_docs(all, nall);
    test_known_values();
    return tap_done();
}
