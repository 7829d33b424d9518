/* idtree.c - the B+tree of idtree.h; the layout is described there.
 *
 * Insertion and deletion walk down from the root recording the path (the
 * tree has no parent pointers: a path is at most a dozen levels), then fix
 * the nodes on the way back up: a full node splits in two halves and hands
 * a separator to its parent; an empty node leaves its parent; a node under
 * a quarter full joins a neighbour when both fit in three quarters of one.
 */
#include "idtree.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "mem.h"

#define MAX_HEIGHT 40
#define SMALL_LEAF 4               /* a new tree's first leaf */
#define UNDERFULL (IDTREE_FANOUT / 4)
#define MERGE_MAX (IDTREE_FANOUT * 3 / 4)

struct slot {
    struct idkey key;
    void *ptr; /* value (leaf) or child node (inner) */
};

struct node {
    uint16_t n, cap;
    uint8_t leaf;
    struct node *prev, *next; /* leaves: neighbours in key order */
    struct slot s[];
};

struct idtree {
    struct node *root;
    size_t size;
    int height; /* 0: empty; 1: the root is a leaf */
};

static struct node *node_new(int leaf, int cap)
{
    struct node *n = mem_alloc(sizeof(*n) + sizeof(struct slot) * (size_t)cap);
    n->n = 0;
    n->cap = (uint16_t)cap;
    n->leaf = (uint8_t)leaf;
    n->prev = n->next = NULL;
    return n;
}

idtree *idtree_new(void)
{
    idtree *t = mem_alloc(sizeof(*t));
    t->root = NULL;
    t->size = 0;
    t->height = 0;
    return t;
}

static void free_node(struct node *n, void (*free_value)(void *))
{
    for (int i = 0; i < n->n; i++) {
        if (!n->leaf)
            free_node(n->s[i].ptr, free_value);
        else if (free_value)
            free_value(n->s[i].ptr);
    }
    mem_free(n);
}

void idtree_free(idtree *t, void (*free_value)(void *))
{
    if (!t)
        return;
    if (t->root)
        free_node(t->root, free_value);
    mem_free(t);
}

size_t idtree_size(const idtree *t) { return t->size; }

static size_t node_mem(const struct node *n)
{
    size_t m = mem_usable(n);
    if (!n->leaf)
        for (int i = 0; i < n->n; i++)
            m += node_mem(n->s[i].ptr);
    return m;
}

size_t idtree_mem_usage(const idtree *t)
{
    return mem_usable(t) + (t->root ? node_mem(t->root) : 0);
}

/* Inner node: the child whose range holds key (the last slot whose key is
 * <= key; slot 0 when key is below them all). */
static int child_index(const struct node *n, const struct idkey *key)
{
    int lo = 1, hi = n->n; /* first slot >= 1 whose key is > key */
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (idkey_cmp(&n->s[mid].key, key) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo - 1;
}

/* Leaf: the first slot whose key is >= key. */
static int lower_bound(const struct node *n, const struct idkey *key)
{
    int lo = 0, hi = n->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (idkey_cmp(&n->s[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

struct path {
    struct node *node[MAX_HEIGHT];
    int idx[MAX_HEIGHT]; /* child taken at each inner level */
    int depth;           /* index of the leaf in node[] */
};

static struct node *descend(const idtree *t, const struct idkey *key, struct path *p)
{
    struct node *n = t->root;
    int d = 0;
    while (!n->leaf) {
        int i = child_index(n, key);
        if (p) {
            p->node[d] = n;
            p->idx[d] = i;
        }
        d++;
        n = n->s[i].ptr;
    }
    if (p) {
        p->node[d] = n;
        p->depth = d;
    }
    return n;
}

void *idtree_find(const idtree *t, const struct idkey *key)
{
    if (!t->root)
        return NULL;
    const struct node *leaf = descend(t, key, NULL);
    int i = lower_bound(leaf, key);
    return i < leaf->n && idkey_cmp(&leaf->s[i].key, key) == 0 ? leaf->s[i].ptr : NULL;
}

static void insert_slot(struct node *n, int pos, const struct idkey *key, void *ptr)
{
    assert(n->n < n->cap);
    memmove(&n->s[pos + 1], &n->s[pos], sizeof(struct slot) * (size_t)(n->n - pos));
    n->s[pos].key = *key;
    n->s[pos].ptr = ptr;
    n->n++;
}

static void remove_slot(struct node *n, int pos)
{
    memmove(&n->s[pos], &n->s[pos + 1], sizeof(struct slot) * (size_t)(n->n - pos - 1));
    n->n--;
}

/* Splits the full node at path level d and inserts (key, ptr) at pos in
 * whichever half it belongs to; then gives the parent its new child. */
static void split_insert(idtree *t, struct path *p, int d, int pos, const struct idkey *key, void *ptr)
{
    struct node *l = p->node[d];
    struct node *r = node_new(l->leaf, IDTREE_FANOUT);
    int half = l->n / 2;
    memcpy(r->s, &l->s[half], sizeof(struct slot) * (size_t)(l->n - half));
    r->n = (uint16_t)(l->n - half);
    l->n = (uint16_t)half;
    if (l->leaf) {
        r->next = l->next;
        r->prev = l;
        if (l->next)
            l->next->prev = r;
        l->next = r;
    }
    if (pos <= half)
        insert_slot(l, pos, key, ptr);
    else
        insert_slot(r, pos - half, key, ptr);
    /* r's first key bounds everything under it from below */
    struct idkey sep = r->s[0].key;
    if (d == 0) {
        struct node *root = node_new(0, IDTREE_FANOUT);
        root->s[0].key = l->s[0].key;
        root->s[0].ptr = l;
        root->s[1].key = sep;
        root->s[1].ptr = r;
        root->n = 2;
        t->root = root;
        t->height++;
        return;
    }
    struct node *parent = p->node[d - 1];
    int at = p->idx[d - 1] + 1;
    if (parent->n < parent->cap)
        insert_slot(parent, at, &sep, r);
    else
        split_insert(t, p, d - 1, at, &sep, r);
}

int idtree_insert(idtree *t, const struct idkey *key, void *value)
{
    assert(value != NULL);
    if (!t->root) {
        t->root = node_new(1, SMALL_LEAF);
        t->height = 1;
    }
    struct path p;
    struct node *leaf = descend(t, key, &p);
    int pos = lower_bound(leaf, key);
    if (pos < leaf->n && idkey_cmp(&leaf->s[pos].key, key) == 0)
        return 0;
    if (leaf->n < leaf->cap) {
        insert_slot(leaf, pos, key, value);
    } else if (leaf->cap < IDTREE_FANOUT) {
        /* only a lone root leaf is small: no parent or neighbour to fix */
        assert(leaf == t->root);
        int cap = leaf->cap * 2 > IDTREE_FANOUT ? IDTREE_FANOUT : leaf->cap * 2;
        leaf = mem_realloc(leaf, sizeof(*leaf) + sizeof(struct slot) * (size_t)cap);
        leaf->cap = (uint16_t)cap;
        t->root = leaf;
        insert_slot(leaf, pos, key, value);
    } else {
        split_insert(t, &p, p.depth, pos, key, value);
    }
    t->size++;
    return 1;
}

/* Appends r's slots to l (its left neighbour under the same parent) and
 * frees r; sep is the parent's key for r, a valid bound for r's slot 0. */
static void merge_into(struct node *l, struct node *r, const struct idkey *sep)
{
    assert(l->n + r->n <= l->cap);
    if (!r->leaf)
        r->s[0].key = *sep;
    memcpy(&l->s[l->n], r->s, sizeof(struct slot) * (size_t)r->n);
    l->n = (uint16_t)(l->n + r->n);
    if (l->leaf) {
        l->next = r->next;
        if (r->next)
            r->next->prev = l;
    }
    mem_free(r);
}

/* The node at level d lost a slot: restore the invariants upwards. */
static void fix_underflow(idtree *t, struct path *p, int d)
{
    struct node *n = p->node[d];
    if (d == 0) {
        if (n->leaf && n->n == 0) {
            mem_free(n);
            t->root = NULL;
            t->height = 0;
        } else if (!n->leaf && n->n == 1) {
            t->root = n->s[0].ptr;
            t->height--;
            mem_free(n);
        }
        return;
    }
    struct node *parent = p->node[d - 1];
    int idx = p->idx[d - 1];
    if (n->n == 0) {
        if (n->leaf) {
            if (n->prev)
                n->prev->next = n->next;
            if (n->next)
                n->next->prev = n->prev;
        }
        mem_free(n);
        remove_slot(parent, idx);
        fix_underflow(t, p, d - 1);
        return;
    }
    if (n->n >= UNDERFULL)
        return;
    if (idx > 0) {
        struct node *l = parent->s[idx - 1].ptr;
        if (l->n + n->n <= MERGE_MAX) {
            merge_into(l, n, &parent->s[idx].key);
            remove_slot(parent, idx);
            fix_underflow(t, p, d - 1);
            return;
        }
    }
    if (idx + 1 < parent->n) {
        struct node *r = parent->s[idx + 1].ptr;
        if (n->n + r->n <= MERGE_MAX) {
            merge_into(n, r, &parent->s[idx + 1].key);
            remove_slot(parent, idx + 1);
            fix_underflow(t, p, d - 1);
        }
    }
}

void *idtree_remove(idtree *t, const struct idkey *key)
{
    if (!t->root)
        return NULL;
    struct path p;
    struct node *leaf = descend(t, key, &p);
    int pos = lower_bound(leaf, key);
    if (pos >= leaf->n || idkey_cmp(&leaf->s[pos].key, key) != 0)
        return NULL;
    void *value = leaf->s[pos].ptr;
    remove_slot(leaf, pos);
    t->size--;
    fix_underflow(t, &p, p.depth);
    return value;
}

static const struct node *edge_leaf(const idtree *t, int last)
{
    const struct node *n = t->root;
    if (!n)
        return NULL;
    while (!n->leaf)
        n = n->s[last ? n->n - 1 : 0].ptr;
    return n;
}

int idtree_first(const idtree *t, struct idkey *key, void **value)
{
    const struct node *n = edge_leaf(t, 0);
    if (!n || !n->n)
        return 0;
    if (key)
        *key = n->s[0].key;
    if (value)
        *value = n->s[0].ptr;
    return 1;
}

int idtree_last(const idtree *t, struct idkey *key, void **value)
{
    const struct node *n = edge_leaf(t, 1);
    if (!n || !n->n)
        return 0;
    if (key)
        *key = n->s[n->n - 1].key;
    if (value)
        *value = n->s[n->n - 1].ptr;
    return 1;
}

void idtree_rewind(idtree_iter *it, const idtree *t)
{
    it->node = edge_leaf(t, 0);
    it->idx = 0;
}

void idtree_seek(idtree_iter *it, const idtree *t, const struct idkey *key)
{
    if (!t->root) {
        it->node = NULL;
        return;
    }
    const struct node *leaf = descend(t, key, NULL);
    it->node = leaf;
    it->idx = lower_bound(leaf, key);
}

int idtree_next(idtree_iter *it, struct idkey *key, void **value)
{
    const struct node *n = it->node;
    while (n && it->idx >= n->n) {
        n = n->next;
        it->idx = 0;
    }
    it->node = n;
    if (!n)
        return 0;
    if (key)
        *key = n->s[it->idx].key;
    if (value)
        *value = n->s[it->idx].ptr;
    it->idx++;
    return 1;
}

/* ---- verification ---------------------------------------------------------- */

#define VCHECK(cond)                                                                     \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            fprintf(stderr, "idtree check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
            return -1;                                                                   \
        }                                                                                \
    } while (0)

/* Checks the subtree: keys within [lo, hi) (NULL = unbounded), all leaves at
 * the same depth; counts the entries and collects the leaves in order. */
static int verify_node(const struct node *n, const struct idkey *lo, const struct idkey *hi, int depth,
                       int height, size_t *count, const struct node **prev_leaf, int is_root)
{
    VCHECK(n->n <= n->cap && n->cap <= IDTREE_FANOUT);
    VCHECK(is_root || n->n > 0);
    if (n->leaf) {
        VCHECK(depth == height);
        VCHECK(n->prev == *prev_leaf);
        if (*prev_leaf)
            VCHECK((*prev_leaf)->next == n);
        *prev_leaf = n;
        for (int i = 0; i < n->n; i++) {
            if (i)
                VCHECK(idkey_cmp(&n->s[i - 1].key, &n->s[i].key) < 0);
            if (lo)
                VCHECK(idkey_cmp(lo, &n->s[i].key) <= 0);
            if (hi)
                VCHECK(idkey_cmp(&n->s[i].key, hi) < 0);
        }
        *count += n->n;
        return 0;
    }
    VCHECK(is_root ? n->n >= 2 : n->n >= 1);
    for (int i = 0; i < n->n; i++) {
        const struct idkey *clo = i == 0 ? lo : &n->s[i].key;
        const struct idkey *chi = i + 1 < n->n ? &n->s[i + 1].key : hi;
        if (i >= 1)
            VCHECK(idkey_cmp(&n->s[i - 1].key, &n->s[i].key) < 0 || i == 1);
        if (verify_node(n->s[i].ptr, clo, chi, depth + 1, height, count, prev_leaf, 0) < 0)
            return -1;
    }
    return 0;
}

int idtree_verify(const idtree *t)
{
    if (!t->root) {
        VCHECK(t->size == 0 && t->height == 0);
        return 0;
    }
    size_t count = 0;
    const struct node *prev = NULL;
    if (verify_node(t->root, NULL, NULL, 1, t->height, &count, &prev, 1) < 0)
        return -1;
    VCHECK(prev->next == NULL);
    VCHECK(count == t->size);
    return 0;
}
