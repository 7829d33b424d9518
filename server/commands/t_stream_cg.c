/* t_stream_cg.c - consumer groups, consumers and pending-entries lists.
 *
 * DATA LAYOUT
 *
 * A stream keeps its groups in an array sorted by name, and a group its
 * consumers likewise: lookups are binary searches, and XINFO/XPENDING list
 * them in the byte order Redis's radix trees give.  (Adding a group or a
 * consumer moves pointers, O(n); both are rare next to reads.)
 *
 * A group's PEL is an idtree (idtree.h): entry ID -> struct stream_nack
 * {delivery time, delivery count, owner}.  Each consumer has its own
 * idtree over the same nacks, so a consumer's history (XREADGROUP with an
 * ID, XPENDING ... consumer) is an ordered walk of its own PEL, and XACK
 * finds the owner through the nack.  The group's tree owns the nacks.
 *
 * entries-read and lag follow Redis 7.0 (streamEstimateDistanceFromFirst-
 * EverEntry and friends): the counter is exact while the stream has no
 * tombstone after the group's position, and otherwise estimated only
 * where that is possible.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "mem.h"
#include "t_stream_int.h"

static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c)
        return c;
    return alen < blen ? -1 : alen > blen;
}

/* ---- groups ------------------------------------------------------------------ */

/* Binary search over an array of pointers to structs kept sorted by an
 * sstr name at name_off: the index of the name, or of where it would go
 * (*found says which).  Groups and consumers are both kept this way. */
static size_t name_slot(void *const *items, size_t n, size_t name_off, const char *name, size_t len, int *found)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        const sstr item_name = *(const sstr *)((const char *)items[mid] + name_off);
        int c = name_cmp(item_name, sstr_len(item_name), name, len);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = 0;
    return lo;
}

static size_t group_slot(const stream *s, const char *name, size_t len, int *found)
{
    return name_slot((void *const *)s->groups, s->ngroups, offsetof(stream_cg, name), name, len, found);
}

size_t stream_group_count(const stream *s) { return s->ngroups; }
stream_cg *stream_group_at(const stream *s, size_t i) { return i < s->ngroups ? s->groups[i] : NULL; }

stream_cg *stream_group_lookup(const stream *s, const char *name, size_t len)
{
    int found;
    size_t i = group_slot(s, name, len, &found);
    return found ? s->groups[i] : NULL;
}

stream_cg *stream_group_create(stream *s, const char *name, size_t len, const streamID *last_id,
                               long long entries_read)
{
    int found;
    size_t i = group_slot(s, name, len, &found);
    if (found)
        return NULL;
    struct stream_cg *g = mem_calloc(sizeof(*g));
    g->name = sstr_new(name, len);
    g->last_id = *last_id;
    g->entries_read = entries_read;
    g->pel = idtree_new();
    if (s->ngroups == s->capgroups) {
        s->capgroups = s->capgroups ? s->capgroups * 2 : 2;
        s->groups = mem_realloc(s->groups, sizeof(*s->groups) * s->capgroups);
    }
    memmove(s->groups + i + 1, s->groups + i, sizeof(*s->groups) * (s->ngroups - i));
    s->groups[i] = g;
    s->ngroups++;
    return g;
}

int stream_group_destroy(stream *s, const char *name, size_t len)
{
    int found;
    size_t i = group_slot(s, name, len, &found);
    if (!found)
        return 0;
    stream_cg_free(s->groups[i]);
    memmove(s->groups + i, s->groups + i + 1, sizeof(*s->groups) * (s->ngroups - i - 1));
    s->ngroups--;
    return 1;
}

const char *stream_group_name(const stream_cg *g, size_t *len)
{
    *len = sstr_len(g->name);
    return g->name;
}

void stream_group_state(const stream_cg *g, streamID *last_id, long long *entries_read)
{
    if (last_id)
        *last_id = g->last_id;
    if (entries_read)
        *entries_read = g->entries_read;
}

static void free_nack(void *p) { mem_free(p); }

static void consumer_free(struct stream_consumer *c)
{
    idtree_free(c->pel, NULL); /* the group's PEL owns the nacks */
    sstr_free(c->name);
    mem_free(c);
}

void stream_cg_free(struct stream_cg *g)
{
    for (size_t i = 0; i < g->nconsumers; i++)
        consumer_free(g->consumers[i]);
    mem_free(g->consumers);
    idtree_free(g->pel, free_nack);
    sstr_free(g->name);
    mem_free(g);
}

struct stream_cg *stream_cg_dup(const struct stream_cg *g)
{
    struct stream_cg *d = mem_calloc(sizeof(*d));
    d->name = sstr_dup(g->name);
    d->last_id = g->last_id;
    d->entries_read = g->entries_read;
    d->pel = idtree_new();
    if (g->nconsumers) {
        d->consumers = mem_alloc(sizeof(*d->consumers) * g->nconsumers);
        d->capconsumers = d->nconsumers = g->nconsumers;
    }
    for (size_t i = 0; i < g->nconsumers; i++) {
        const struct stream_consumer *c = g->consumers[i];
        struct stream_consumer *dc = mem_alloc(sizeof(*dc));
        dc->name = sstr_dup(c->name);
        dc->seen_time = c->seen_time;
        dc->pel = idtree_new();
        d->consumers[i] = dc;
        idtree_iter it;
        struct idkey id;
        void *v;
        idtree_rewind(&it, c->pel);
        while (idtree_next(&it, &id, &v)) {
            const struct stream_nack *n = v;
            struct stream_nack *dn = mem_alloc(sizeof(*dn));
            *dn = *n;
            dn->consumer = dc;
            idtree_insert(d->pel, &id, dn);
            idtree_insert(dc->pel, &id, dn);
        }
    }
    return d;
}

size_t stream_cg_mem_usage(const struct stream_cg *g)
{
    size_t n = mem_usable(g) + sstr_alloc_size(g->name) + idtree_mem_usage(g->pel);
    n += idtree_size(g->pel) * sizeof(struct stream_nack);
    if (g->consumers)
        n += mem_usable(g->consumers);
    for (size_t i = 0; i < g->nconsumers; i++) {
        const struct stream_consumer *c = g->consumers[i];
        n += mem_usable(c) + sstr_alloc_size(c->name) + idtree_mem_usage(c->pel);
    }
    return n;
}

/* ---- consumers ------------------------------------------------------------------ */

static size_t consumer_slot(const stream_cg *g, const char *name, size_t len, int *found)
{
    return name_slot((void *const *)g->consumers, g->nconsumers, offsetof(stream_consumer, name), name, len, found);
}

size_t stream_consumer_count(const stream_cg *g) { return g->nconsumers; }
stream_consumer *stream_consumer_at(const stream_cg *g, size_t i) { return i < g->nconsumers ? g->consumers[i] : NULL; }

stream_consumer *stream_consumer_lookup(const stream_cg *g, const char *name, size_t len)
{
    int found;
    size_t i = consumer_slot(g, name, len, &found);
    return found ? g->consumers[i] : NULL;
}

stream_consumer *stream_consumer_get(stream_cg *g, const char *name, size_t len, long long seen_ms)
{
    int found;
    size_t i = consumer_slot(g, name, len, &found);
    if (found)
        return g->consumers[i];
    struct stream_consumer *c = mem_alloc(sizeof(*c));
    c->name = sstr_new(name, len);
    c->seen_time = seen_ms;
    c->pel = idtree_new();
    if (g->nconsumers == g->capconsumers) {
        g->capconsumers = g->capconsumers ? g->capconsumers * 2 : 4;
        g->consumers = mem_realloc(g->consumers, sizeof(*g->consumers) * g->capconsumers);
    }
    memmove(g->consumers + i + 1, g->consumers + i, sizeof(*g->consumers) * (g->nconsumers - i));
    g->consumers[i] = c;
    g->nconsumers++;
    return c;
}

const char *stream_consumer_name(const stream_consumer *c, size_t *len)
{
    *len = sstr_len(c->name);
    return c->name;
}

long long stream_consumer_seen_time(const stream_consumer *c) { return c->seen_time; }
void stream_consumer_set_seen_time(stream_consumer *c, long long ms) { c->seen_time = ms; }

size_t stream_consumer_delete(struct stream_cg *g, struct stream_consumer *c)
{
    size_t pending = idtree_size(c->pel);
    idtree_iter it;
    struct idkey id;
    void *v;
    idtree_rewind(&it, c->pel);
    while (idtree_next(&it, &id, &v)) {
        idtree_remove(g->pel, &id);
        mem_free(v);
    }
    int found;
    size_t i = consumer_slot(g, c->name, sstr_len(c->name), &found);
    assert(found && g->consumers[i] == c);
    memmove(g->consumers + i, g->consumers + i + 1, sizeof(*g->consumers) * (g->nconsumers - i - 1));
    g->nconsumers--;
    consumer_free(c);
    return pending;
}

/* ---- pending entries --------------------------------------------------------------- */

struct stream_nack *stream_nack_new(struct stream_consumer *c, long long now)
{
    struct stream_nack *n = mem_alloc(sizeof(*n));
    n->delivery_time = now;
    n->delivery_count = 1;
    n->consumer = c;
    return n;
}

void stream_pel_remove(struct stream_cg *g, const streamID *id, struct stream_nack *n)
{
    idtree_remove(g->pel, id);
    if (n->consumer)
        idtree_remove(n->consumer->pel, id);
    mem_free(n);
}

size_t stream_pel_count(const stream_cg *g, const stream_consumer *c) { return idtree_size(c ? c->pel : g->pel); }

void stream_pel_rewind(stream_pel_iter *pi, const stream_cg *g, const stream_consumer *c)
{
    idtree_rewind(&pi->it, c ? c->pel : g->pel);
}

int stream_pel_next(stream_pel_iter *pi, streamID *id, long long *delivery_time, uint64_t *delivery_count,
                    stream_consumer **owner)
{
    void *v;
    if (!idtree_next(&pi->it, id, &v))
        return 0;
    const struct stream_nack *n = v;
    if (delivery_time)
        *delivery_time = n->delivery_time;
    if (delivery_count)
        *delivery_count = n->delivery_count;
    if (owner)
        *owner = n->consumer;
    return 1;
}

int stream_pel_add(stream_cg *g, stream_consumer *c, const streamID *id, long long delivery_time,
                   uint64_t delivery_count)
{
    struct stream_nack *n = stream_nack_new(c, delivery_time);
    n->delivery_count = delivery_count;
    if (!idtree_insert(g->pel, id, n)) {
        mem_free(n);
        return -1;
    }
    idtree_insert(c->pel, id, n);
    return 0;
}

/* ---- entries-read and lag (Redis 7.0's rules) ------------------------------------------ */

int stream_range_has_tombstones(const stream *s, const streamID *start, const streamID *end)
{
    if (!s->length || sid_is_zero(&s->max_deleted_id))
        return 0;
    if (sid_cmp(&s->first_id, &s->max_deleted_id) > 0)
        return 0; /* the latest tombstone is before the first entry */
    streamID lo = {0, 0}, hi = {UINT64_MAX, UINT64_MAX};
    if (start)
        lo = *start;
    if (end)
        hi = *end;
    return sid_cmp(&lo, &s->max_deleted_id) <= 0 && sid_cmp(&s->max_deleted_id, &hi) <= 0;
}

/* The number of entries from the first ever added up to id, where it can be
 * known (see streamEstimateDistanceFromFirstEverEntry). */
long long stream_estimate_entries_read(const stream *s, const streamID *id)
{
    if (!s->entries_added)
        return 0;
    if (!s->length && sid_cmp(id, &s->last_id) < 1)
        return (long long)s->entries_added;
    int cmp_last = sid_cmp(id, &s->last_id);
    if (cmp_last == 0)
        return (long long)s->entries_added;
    if (cmp_last > 0)
        return STREAM_ENTRIES_READ_INVALID;
    int cmp_id_first = sid_cmp(id, &s->first_id);
    int cmp_xdel_first = sid_cmp(&s->max_deleted_id, &s->first_id);
    if (sid_is_zero(&s->max_deleted_id) || cmp_xdel_first < 0) {
        if (cmp_id_first < 0)
            return (long long)(s->entries_added - s->length);
        if (cmp_id_first == 0)
            return (long long)(s->entries_added - s->length + 1);
    }
    return STREAM_ENTRIES_READ_INVALID;
}

int stream_cg_lag(const stream *s, const struct stream_cg *g, long long *lag)
{
    if (!s->entries_added) {
        *lag = 0;
        return 1;
    }
    if (g->entries_read != STREAM_ENTRIES_READ_INVALID && !stream_range_has_tombstones(s, &g->last_id, NULL)) {
        *lag = (long long)s->entries_added - g->entries_read;
        return 1;
    }
    long long er = stream_estimate_entries_read(s, &g->last_id);
    if (er == STREAM_ENTRIES_READ_INVALID)
        return 0;
    *lag = (long long)s->entries_added - er;
    return 1;
}
