/* idtree.h - an ordered map from 128-bit IDs to pointers (a B+tree).
 *
 * Streams need small ordered sets keyed by entry ID: the pending-entries
 * list (PEL) of a consumer group and of each consumer, ordered by ID, with
 * O(log n) lookup, insertion and deletion, and iteration from any ID on
 * (XPENDING ranges, XAUTOCLAIM cursors, XINFO STREAM FULL).  Redis uses a
 * radix tree for these; a B+tree of fixed-size 16-byte keys is smaller and
 * keeps the keys of a leaf contiguous.
 *
 * Layout: every node holds up to IDTREE_FANOUT (key, pointer) slots.  In a
 * leaf the pointer is the caller's value; in an inner node it is a child,
 * and slot i's key is a lower bound of every key under child i (slot 0's key
 * is not used for searching).  Leaves are linked both ways for iteration.
 * A tree that is a single leaf allocates that leaf small and grows it up to
 * the fanout, so an empty PEL costs the 40-byte header only and a PEL of a
 * few entries a few hundred bytes.  Deletion frees empty nodes and merges a
 * node that falls under a quarter of the fanout into a neighbour when the
 * two fit in three quarters of one, so the height stays O(log n).
 *
 * Iterators point into the tree and are invalidated by any modification.
 * Memory comes from mem.h; the tree depends on nothing else.
 */
#ifndef SLUICE_IDTREE_H
#define SLUICE_IDTREE_H

#include <stddef.h>
#include <stdint.h>

/* A 128-bit key compared as (ms, seq): the layout of a stream ID. */
struct idkey {
    uint64_t ms, seq;
};

static inline int idkey_cmp(const struct idkey *a, const struct idkey *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}

#define IDTREE_FANOUT 32

typedef struct idtree idtree;

typedef struct idtree_iter {
    const void *node; /* current leaf; NULL once exhausted */
    int idx;
} idtree_iter;

idtree *idtree_new(void);
/* Frees the tree; free_value (optional) is called on every value. */
void idtree_free(idtree *t, void (*free_value)(void *));
size_t idtree_size(const idtree *t);
size_t idtree_mem_usage(const idtree *t);

/* Adds key -> value.  Returns 1, or 0 (and changes nothing) when the key is
 * already present. */
int idtree_insert(idtree *t, const struct idkey *key, void *value);
/* The value of key, or NULL when absent (values may not be NULL). */
void *idtree_find(const idtree *t, const struct idkey *key);
/* Removes key; returns its value, or NULL when absent. */
void *idtree_remove(idtree *t, const struct idkey *key);

/* Smallest / largest key: 0 when empty. */
int idtree_first(const idtree *t, struct idkey *key, void **value);
int idtree_last(const idtree *t, struct idkey *key, void **value);

/* Forward iteration from the first key >= key (or from the start). */
void idtree_seek(idtree_iter *it, const idtree *t, const struct idkey *key);
void idtree_rewind(idtree_iter *it, const idtree *t);
int idtree_next(idtree_iter *it, struct idkey *key, void **value);

/* Checks the invariants (order, separators, links, counts): 0 or -1. */
int idtree_verify(const idtree *t);

#endif
