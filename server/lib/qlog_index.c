/* qlog_index.c - the counted B+tree over the queue log's segments.
 *
 * Leaves hold segment pointers, internal nodes hold child pointers; every
 * slot also holds the number of entries beneath it and, in keyed logs, the
 * first key beneath it, so position and key lookups descend in O(log n).
 * Nodes know their parent and their neighbours on the same level; a child's
 * slot in its parent is found by a scan of at most QIDX_FANOUT pointers,
 * which is cheaper to keep right than stored slot numbers.
 *
 * The index never looks inside a segment.  qlog.c keeps the counts of the
 * two end segments lazily (see there), which is invisible here: sums are
 * always sums of what the slots say.
 */
#include "qlog_int.h"

#include "mem.h"

#include <stdio.h>

#define F QIDX_FANOUT

static qidx_node *node_new(qidx *ix, int leaf)
{
    size_t size = sizeof(qidx_node) + (ix->keyed ? F * sizeof(qlog_key) : 0);
    qidx_node *x = mem_calloc(size);
    x->leaf = (uint8_t)leaf;
    return x;
}

static int slot_of(const qidx_node *x)
{
    const qidx_node *p = x->parent;
    for (int i = 0; i < p->n; i++)
        if (p->child[i] == x)
            return i;
    assert(!"qidx: node missing from its parent");
    return -1;
}

static uint64_t node_sum(const qidx_node *x)
{
    uint64_t sum = 0;
    for (int i = 0; i < x->n; i++)
        sum += x->cnt[i];
    return sum;
}

/* Rewrites the slots that describe x in its ancestors. */
static void refresh_up(qidx *ix, qidx_node *x)
{
    while (x->parent) {
        qidx_node *p = x->parent;
        int s = slot_of(x);
        p->cnt[s] = node_sum(x);
        if (ix->keyed)
            p->key[s] = x->key[0];
        x = p;
    }
}

static void put_slot(qidx *ix, qidx_node *x, int i, void *child, uint64_t cnt,
                     const qlog_key *key)
{
    int tail = x->n - i;
    assert(x->n < F && i >= 0 && tail >= 0);
    memmove(&x->child[i + 1], &x->child[i], tail * sizeof(x->child[0]));
    memmove(&x->cnt[i + 1], &x->cnt[i], tail * sizeof(x->cnt[0]));
    x->child[i] = child;
    x->cnt[i] = cnt;
    if (ix->keyed) {
        memmove(&x->key[i + 1], &x->key[i], tail * sizeof(x->key[0]));
        x->key[i] = *key;
    }
    x->n++;
    if (!x->leaf)
        ((qidx_node *)child)->parent = x;
}

/* Appends n slots of src, from si on, to dst. */
static void move_slots(qidx *ix, qidx_node *dst, qidx_node *src, int si, int n)
{
    assert(dst->n + n <= F);
    memcpy(&dst->child[dst->n], &src->child[si], n * sizeof(dst->child[0]));
    memcpy(&dst->cnt[dst->n], &src->cnt[si], n * sizeof(dst->cnt[0]));
    if (ix->keyed)
        memcpy(&dst->key[dst->n], &src->key[si], n * sizeof(dst->key[0]));
    if (!dst->leaf)
        for (int i = 0; i < n; i++)
            ((qidx_node *)dst->child[dst->n + i])->parent = dst;
    dst->n += n;
    src->n -= n;
    assert(src->n == si);
}

static void unlink_node(qidx *ix, qidx_node *x)
{
    if (x->prev)
        x->prev->next = x->next;
    if (x->next)
        x->next->prev = x->prev;
    if (ix->first == x)
        ix->first = x->next;
    if (ix->last == x)
        ix->last = x->prev;
}

static void insert_at(qidx *ix, qidx_node *x, int i, void *child, uint64_t cnt,
                      const qlog_key *key, qidx_node **at, int *at_slot)
{
    if (x->n < F) {
        put_slot(ix, x, i, child, cnt, key);
        refresh_up(ix, x);
        if (at)
            *at = x, *at_slot = i;
        return;
    }

    /* Split.  At the edges of the tree the new slot goes alone into the new
     * node, so that logs built by pushes keep their nodes full. */
    int leftmost = !x->prev, rightmost = !x->next, m;
    if (i == x->n && rightmost)
        m = x->n;
    else if (i == 0 && leftmost)
        m = 0;
    else
        m = x->n / 2;

    qidx_node *y = node_new(ix, x->leaf);
    y->prev = x;
    y->next = x->next;
    if (x->next)
        x->next->prev = y;
    x->next = y;
    if (ix->last == x)
        ix->last = y;
    move_slots(ix, y, x, m, x->n - m);

    qidx_node *t = (i < m || (i == m && m < F)) ? x : y;
    int ti = t == x ? i : i - m;
    put_slot(ix, t, ti, child, cnt, key);
    if (at)
        *at = t, *at_slot = ti;

    if (!x->parent) {
        qidx_node *r = node_new(ix, 0);
        put_slot(ix, r, 0, x, 0, ix->keyed ? &x->key[0] : NULL);
        ix->root = r;
        ix->height++;
        assert(ix->height < QIDX_MAX_HEIGHT);
    }
    qidx_node *p = x->parent;
    int s = slot_of(x);
    p->cnt[s] = node_sum(x);
    if (ix->keyed)
        p->key[s] = x->key[0];
    insert_at(ix, p, s + 1, y, node_sum(y), ix->keyed ? &y->key[0] : NULL, NULL, NULL);
}

void qidx_init(qidx *ix, int keyed)
{
    memset(ix, 0, sizeof(*ix));
    ix->keyed = keyed;
}

static void destroy_node(qidx *ix, qidx_node *x)
{
    if (!x->leaf)
        for (int i = 0; i < x->n; i++)
            destroy_node(ix, x->child[i]);
    mem_free(x);
}

void qidx_destroy(qidx *ix)
{
    if (ix->height)
        destroy_node(ix, ix->root);
    qidx_init(ix, ix->keyed);
}

/* Gives the only segment a leaf, before a second one comes. */
void qidx_unsingle(qidx *ix, uint64_t cnt, const qlog_key *key)
{
    assert(ix->height == 0 && ix->nsegs == 1);
    qidx_node *x = node_new(ix, 1);
    put_slot(ix, x, 0, ix->root, cnt, key);
    ix->root = ix->first = ix->last = x;
    ix->height = 1;
}

/* Inserts seg before slot of leaf (slot == n appends).  An empty index
 * takes it as its only segment; an index of one segment must have been
 * given a leaf first (qidx_unsingle).  *at_leaf and *at_slot, when asked
 * for, say where it went. */
void qidx_insert(qidx *ix, qidx_node *leaf, int slot, void *seg, uint64_t cnt,
                 const qlog_key *key, qidx_node **at_leaf, int *at_slot)
{
    qidx_node *l = NULL;
    int s = 0;
    if (ix->nsegs == 0) {
        ix->root = seg;
    } else {
        assert(ix->height > 0 && leaf);
        insert_at(ix, leaf, slot, seg, cnt, key, &l, &s);
    }
    ix->nsegs++;
    if (at_leaf)
        *at_leaf = l, *at_slot = s;
}

static void remove_at(qidx *ix, qidx_node *x, int i)
{
    int tail = x->n - i - 1;
    memmove(&x->child[i], &x->child[i + 1], tail * sizeof(x->child[0]));
    memmove(&x->cnt[i], &x->cnt[i + 1], tail * sizeof(x->cnt[0]));
    if (ix->keyed)
        memmove(&x->key[i], &x->key[i + 1], tail * sizeof(x->key[0]));
    x->n--;

    if (!x->parent) {
        /* A root of one child gives way to it; a leaf of one segment to
         * the segment itself. */
        while (x->n == 1) {
            void *c = x->child[0];
            ix->root = c;
            ix->height--;
            if (x->leaf)
                ix->first = ix->last = NULL;
            else
                ((qidx_node *)c)->parent = NULL;
            mem_free(x);
            if (!ix->height)
                break;
            x = c;
        }
        return;
    }

    qidx_node *p = x->parent;
    if (x->n == 0) {
        int s = slot_of(x);
        unlink_node(ix, x);
        mem_free(x);
        remove_at(ix, p, s);
        return;
    }
    /* A thin node joins a neighbour under the same parent when both fit in
     * one; the third keeps a split and a merge from following each other. */
    if (x->n < F / 3) {
        int s = slot_of(x);
        qidx_node *l = NULL, *r = NULL;
        if (s + 1 < p->n && ((qidx_node *)p->child[s + 1])->n + x->n <= F)
            l = x, r = p->child[s + 1];
        else if (s > 0 && ((qidx_node *)p->child[s - 1])->n + x->n <= F)
            l = p->child[s - 1], r = x;
        if (l) {
            int rs = l == x ? s + 1 : s;
            move_slots(ix, l, r, 0, r->n);
            p->cnt[rs - 1] = node_sum(l);
            if (ix->keyed)
                p->key[rs - 1] = l->key[0];
            unlink_node(ix, r);
            mem_free(r);
            remove_at(ix, p, rs);
            return;
        }
    }
    refresh_up(ix, x);
}

void qidx_remove(qidx *ix, qidx_node *leaf, int slot)
{
    ix->nsegs--;
    if (!ix->height) {
        assert(!leaf && slot == 0 && ix->nsegs == 0);
        ix->root = NULL;
        return;
    }
    assert(leaf && leaf->leaf && slot < leaf->n);
    remove_at(ix, leaf, slot);
}

void qidx_add(qidx_node *leaf, int slot, int64_t delta)
{
    if (!leaf)
        return; /* the only segment: no count to keep */
    leaf->cnt[slot] += (uint64_t)delta;
    for (qidx_node *x = leaf; x->parent; x = x->parent)
        x->parent->cnt[slot_of(x)] += (uint64_t)delta;
}

int qidx_locate(const qidx *ix, uint64_t pos, qidx_node **leaf, int *slot, uint64_t *off)
{
    qidx_node *x = ix->root;
    if (!ix->height)
        return 0;
    for (;;) {
        int i;
        for (i = 0; i < x->n && pos >= x->cnt[i]; i++)
            pos -= x->cnt[i];
        if (i == x->n)
            return 0;
        if (x->leaf) {
            *leaf = x, *slot = i, *off = pos;
            return 1;
        }
        x = x->child[i];
    }
}

/* The last segment whose first key is <= key: 1; or, when every key is
 * greater, the first segment: 0. */
int qidx_locate_key(const qidx *ix, const qlog_key *key, qidx_node **leaf, int *slot)
{
    qidx_node *x = ix->root;
    int found = 1;
    assert(ix->keyed && ix->height);
    for (;;) {
        int i = x->n - 1;
        while (i > 0 && key_cmp(&x->key[i], key) > 0)
            i--;
        if (i == 0 && key_cmp(&x->key[0], key) > 0)
            found = 0;
        if (x->leaf) {
            *leaf = x, *slot = i;
            return found;
        }
        x = x->child[i];
    }
}

/* Number of entries (as the slots count them) before the segment. */
uint64_t qidx_pos(const qidx_node *leaf, int slot)
{
    uint64_t pos = 0;
    if (!leaf)
        return 0;
    for (int i = 0; i < slot; i++)
        pos += leaf->cnt[i];
    for (const qidx_node *x = leaf; x->parent; x = x->parent) {
        int s = slot_of(x);
        for (int i = 0; i < s; i++)
            pos += x->parent->cnt[i];
    }
    return pos;
}

static size_t node_mem(const qidx_node *x)
{
    size_t mem = mem_usable(x);
    if (!x->leaf)
        for (int i = 0; i < x->n; i++)
            mem += node_mem(x->child[i]);
    return mem;
}

/* Bytes the nodes take (not the segments). */
size_t qidx_mem(const qidx *ix)
{
    return ix->height ? node_mem(ix->root) : 0;
}

/* ---- verification ------------------------------------------------------------ */

#define VCHECK(cond)                                                             \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "qlog index check failed: %s (%s:%d)\n", #cond,      \
                    __FILE__, __LINE__);                                         \
            return -1;                                                           \
        }                                                                        \
    } while (0)

struct vstate {
    const qidx *ix;
    const qidx_node *level_last[QIDX_MAX_HEIGHT]; /* walk of each level */
    const qidx_node *first_leaf;
    size_t segs;
};

static int verify_node(struct vstate *st, const qidx_node *x, int depth)
{
    const qidx *ix = st->ix;
    VCHECK(depth < ix->height && depth < QIDX_MAX_HEIGHT);
    VCHECK(x->n >= 1 && x->n <= F);
    VCHECK(!!x->leaf == (depth == ix->height - 1));
    /* Levels, left to right, are the prev/next lists. */
    VCHECK(x->prev == st->level_last[depth]);
    if (x->prev)
        VCHECK(x->prev->next == x);
    st->level_last[depth] = x;
    if (x->leaf) {
        if (!st->first_leaf)
            st->first_leaf = x;
        st->segs += x->n;
        for (int i = 0; i < x->n; i++)
            VCHECK(x->child[i] != NULL);
        return 0;
    }
    for (int i = 0; i < x->n; i++) {
        const qidx_node *c = x->child[i];
        VCHECK(c->parent == x);
        VCHECK(x->cnt[i] == node_sum(c));
        if (ix->keyed)
            VCHECK(key_cmp(&x->key[i], &c->key[0]) == 0);
        if (verify_node(st, c, depth + 1) < 0)
            return -1;
    }
    return 0;
}

int qidx_verify(const qidx *ix)
{
    struct vstate st = {.ix = ix};
    if (!ix->height) {
        VCHECK(!ix->first && !ix->last && ix->nsegs == !!ix->root);
        return 0;
    }
    const qidx_node *root = ix->root;
    VCHECK(root->parent == NULL);
    /* Only a log of two segments or more has nodes. */
    VCHECK(root->n >= 2);
    if (verify_node(&st, root, 0) < 0)
        return -1;
    for (int d = 0; d < ix->height; d++)
        VCHECK(st.level_last[d] && st.level_last[d]->next == NULL);
    VCHECK(ix->last == st.level_last[ix->height - 1]);
    VCHECK(ix->first == st.first_leaf);
    VCHECK(st.segs == ix->nsegs);
    return 0;
}
