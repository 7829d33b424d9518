/* list.h - intrusive doubly linked lists (header only).
 *
 * A struct that lives on a list embeds a `struct list_node`; the list never
 * allocates.  Removal is O(1) and a node knows whether it is linked, which
 * is what the server needs for clients (all clients, pending writes,
 * blocked, watchers) that sit on several lists at once.
 */
#ifndef SLUICE_LIST_H
#define SLUICE_LIST_H

#include <stddef.h>

struct list_node {
    struct list_node *prev, *next;
};

struct list_head {
    struct list_node n; /* sentinel: n.next is the first, n.prev the last */
    size_t len;
};

#define list_entry(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

static inline void list_init(struct list_head *l)
{
    l->n.prev = l->n.next = &l->n;
    l->len = 0;
}

static inline void list_node_init(struct list_node *n) { n->prev = n->next = NULL; }
static inline int list_node_linked(const struct list_node *n) { return n->next != NULL; }
static inline int list_empty(const struct list_head *l) { return l->len == 0; }
static inline struct list_node *list_first(const struct list_head *l) { return l->len ? l->n.next : NULL; }
static inline struct list_node *list_last(const struct list_head *l) { return l->len ? l->n.prev : NULL; }
static inline struct list_node *list_next(const struct list_head *l, const struct list_node *n)
{
    return n->next == &l->n ? NULL : n->next;
}

static inline void list_add_tail(struct list_head *l, struct list_node *n)
{
    n->prev = l->n.prev;
    n->next = &l->n;
    l->n.prev->next = n;
    l->n.prev = n;
    l->len++;
}

static inline void list_add_head(struct list_head *l, struct list_node *n)
{
    n->next = l->n.next;
    n->prev = &l->n;
    l->n.next->prev = n;
    l->n.next = n;
    l->len++;
}

static inline void list_del(struct list_head *l, struct list_node *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
    l->len--;
}

#define list_for_each_safe(pos, tmp, head)                                  \
    for ((pos) = (head)->n.next, (tmp) = (pos)->next; (pos) != &(head)->n; \
         (pos) = (tmp), (tmp) = (pos)->next)

#endif
