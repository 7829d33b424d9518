/* test_idtree.c - unit tests for server/lib/idtree.c.
 *
 * Covers the contract in idtree.h: insert (and refusal of duplicates),
 * find, remove, first/last, seek and ordered iteration, growth of the lone
 * root leaf, splits and merges (checked with idtree_verify after every
 * operation of the randomized part), and a model test against a sorted
 * array.  The random seed is printed; SLUICE_TEST_SEED replays another.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idtree.h"
#include "mem.h"
#include "splitmix.h"
#include "tap.h"

static struct idkey K(uint64_t ms, uint64_t seq)
{
    struct idkey k = {ms, seq};
    return k;
}

/* Values are never NULL: encode the key's low bits + 1. */
static void *V(uint64_t x) { return (void *)(uintptr_t)(x + 1); }

static void test_empty(void)
{
    idtree *t = idtree_new();
    struct idkey k = K(1, 2);
    ok(idtree_size(t) == 0, "empty tree has size 0");
    ok(idtree_find(t, &k) == NULL, "find in empty tree");
    ok(idtree_remove(t, &k) == NULL, "remove from empty tree");
    ok(!idtree_first(t, NULL, NULL) && !idtree_last(t, NULL, NULL), "no first/last when empty");
    idtree_iter it;
    idtree_seek(&it, t, &k);
    ok(!idtree_next(&it, NULL, NULL), "seek in empty tree yields nothing");
    ok(idtree_verify(t) == 0, "empty tree verifies");
    idtree_free(t, NULL);
}

static void test_basic(void)
{
    idtree *t = idtree_new();
    struct idkey a = K(5, 0), b = K(5, 1), c = K(4, UINT64_MAX), d = K(UINT64_MAX, UINT64_MAX);
    ok(idtree_insert(t, &a, V(1)) == 1, "insert a");
    ok(idtree_insert(t, &b, V(2)) == 1, "insert b");
    ok(idtree_insert(t, &a, V(9)) == 0, "duplicate insert refused");
    ok(idtree_find(t, &a) == V(1), "duplicate insert kept the old value");
    ok(idtree_insert(t, &c, V(3)) == 1 && idtree_insert(t, &d, V(4)) == 1, "insert c, d");
    ok(idtree_size(t) == 4, "size 4");
    struct idkey k;
    void *v;
    ok(idtree_first(t, &k, &v) && idkey_cmp(&k, &c) == 0 && v == V(3), "first is the smallest (seq compared after ms)");
    ok(idtree_last(t, &k, &v) && idkey_cmp(&k, &d) == 0 && v == V(4), "last is the largest");
    idtree_iter it;
    struct idkey probe = K(5, 0);
    idtree_seek(&it, t, &probe);
    ok(idtree_next(&it, &k, NULL) && idkey_cmp(&k, &a) == 0, "seek lands on an equal key");
    probe = K(4, 7);
    idtree_seek(&it, t, &probe);
    ok(idtree_next(&it, &k, NULL) && idkey_cmp(&k, &c) == 0, "seek lands on the next greater key");
    ok(idtree_remove(t, &b) == V(2), "remove b returns its value");
    ok(idtree_remove(t, &b) == NULL, "second remove finds nothing");
    ok(idtree_size(t) == 3 && idtree_verify(t) == 0, "size 3 and verifies");
    idtree_free(t, NULL);
}

static int freed_values;
static void count_free(void *v)
{
    (void)v;
    freed_values++;
}

static void test_sequential(void)
{
    idtree *t = idtree_new();
    const uint64_t n = 20000;
    int okins = 1;
    for (uint64_t i = 0; i < n; i++) {
        struct idkey k = K(1000 + i / 7, i % 7);
        okins &= idtree_insert(t, &k, V(i));
    }
    ok(okins && idtree_size(t) == n, "20000 ascending inserts");
    ok(idtree_verify(t) == 0, "tree verifies after ascending inserts");
    idtree_iter it;
    idtree_rewind(&it, t);
    struct idkey k, prev = K(0, 0);
    uint64_t seen = 0;
    int ordered = 1;
    while (idtree_next(&it, &k, NULL)) {
        if (seen && idkey_cmp(&prev, &k) >= 0)
            ordered = 0;
        prev = k;
        seen++;
    }
    ok(ordered && seen == n, "full iteration is ordered and complete");
    /* remove every other key, then the rest from the end */
    int okrm = 1;
    for (uint64_t i = 0; i < n; i += 2) {
        struct idkey rk = K(1000 + i / 7, i % 7);
        okrm &= idtree_remove(t, &rk) == V(i);
    }
    ok(okrm && idtree_size(t) == n / 2 && idtree_verify(t) == 0, "removing every other key (merges) verifies");
    size_t mem_half = idtree_mem_usage(t);
    for (uint64_t i = n - 1; i < n; i -= 2) {
        struct idkey rk = K(1000 + i / 7, i % 7);
        okrm &= idtree_remove(t, &rk) == V(i);
        if (i < 2)
            break;
    }
    ok(okrm && idtree_size(t) == 0 && idtree_verify(t) == 0, "removing the rest empties the tree");
    ok(idtree_mem_usage(t) < mem_half, "memory shrinks as the tree empties");
    for (uint64_t i = 0; i < 100; i++) {
        struct idkey ik = K(i, 0);
        idtree_insert(t, &ik, V(i));
    }
    freed_values = 0;
    idtree_free(t, count_free);
    ok(freed_values == 100, "free calls the value destructor on every value");
}

/* Randomized model test: a sorted array of keys is the reference. */
static int cmp_key(const void *a, const void *b) { return idkey_cmp(a, b); }

static void test_model(void)
{
    idtree *t = idtree_new();
    size_t cap = 6000, n = 0;
    struct idkey *model = malloc(sizeof(*model) * cap);
    int agree = 1, verified = 1;
    for (int step = 0; step < 60000; step++) {
        struct idkey k = K(rnd() % 300, rnd() % 20);
        struct idkey *found = n ? bsearch(&k, model, n, sizeof(*model), cmp_key) : NULL;
        unsigned op = (unsigned)(rnd() % 10);
        if (op < 5 && n < cap) {
            int r = idtree_insert(t, &k, V(k.ms * 100 + k.seq));
            if (r != (found == NULL))
                agree = 0;
            if (!found) {
                model[n++] = k;
                qsort(model, n, sizeof(*model), cmp_key);
            }
        } else if (op < 9) {
            void *v = idtree_remove(t, &k);
            if ((v != NULL) != (found != NULL) || (v && v != V(k.ms * 100 + k.seq)))
                agree = 0;
            if (found) {
                size_t i = (size_t)(found - model);
                memmove(model + i, model + i + 1, sizeof(*model) * (n - i - 1));
                n--;
            }
        } else {
            /* seek and compare the next few keys with the model */
            idtree_iter it;
            idtree_seek(&it, t, &k);
            size_t i = 0;
            while (i < n && idkey_cmp(&model[i], &k) < 0)
                i++;
            for (int j = 0; j < 5; j++, i++) {
                struct idkey got;
                int more = idtree_next(&it, &got, NULL);
                if (more != (i < n) || (more && idkey_cmp(&got, &model[i]) != 0))
                    agree = 0;
                if (!more)
                    break;
            }
        }
        if (idtree_size(t) != n)
            agree = 0;
        if (step % 97 == 0 && idtree_verify(t) != 0)
            verified = 0;
    }
    ok(agree, "60000 random operations agree with the model");
    ok(verified && idtree_verify(t) == 0, "the tree verifies throughout");
    struct idkey first, last;
    ok(n == 0 || (idtree_first(t, &first, NULL) && idtree_last(t, &last, NULL) &&
                  idkey_cmp(&first, &model[0]) == 0 && idkey_cmp(&last, &model[n - 1]) == 0),
       "first and last match the model");
    free(model);
    idtree_free(t, NULL);
}

int main(void)
{
    const char *seed = getenv("SLUICE_TEST_SEED");
    rng_state = seed ? strtoull(seed, NULL, 10) : 20241121;
    tap_diag("seed %llu", (unsigned long long)rng_state);
    test_empty();
    test_basic();
    test_sequential();
    test_model();
    return tap_done();
}
