/* test_qlog_model.c - the queue log (server/lib/qlog.h) against a model.
 *
 * A randomized driver runs the log against a plain array of strings under
 * several fill settings (and keyed logs against a model of their segments),
 * checking every entry, position and invariant as it goes.  The edge cases
 * of each API function are test_qlog.c.
 * QLOG_SEED=n in the environment replays another random run.
 */
#include "mem.h"
#include "qlog.h"
#include "tap.h"

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static size_t rnd_below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

typedef struct rstr {
    size_t len;
    char s[];
} rstr;

typedef struct model {
    rstr **a;
    size_t n, cap;
} model;

static rstr *rstr_new(const char *s, size_t len)
{
    rstr *r = malloc(sizeof(*r) + len + 1);
    r->len = len;
    memcpy(r->s, s, len);
    r->s[len] = '\0';
    return r;
}

static void m_insert(model *m, size_t i, const char *s, size_t len)
{
    if (m->n == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->a = realloc(m->a, m->cap * sizeof(*m->a));
    }
    memmove(&m->a[i + 1], &m->a[i], (m->n - i) * sizeof(*m->a));
    m->a[i] = rstr_new(s, len);
    m->n++;
}

static void m_delete(model *m, size_t i, size_t n)
{
    for (size_t j = i; j < i + n; j++)
        free(m->a[j]);
    memmove(&m->a[i], &m->a[i + n], (m->n - i - n) * sizeof(*m->a));
    m->n -= n;
}

static int same(const qlog_value *v, const rstr *r)
{
    size_t len;
    char tmp[QLOG_INT_BUFSIZE];
    const char *p = qlog_value_bytes(v, tmp, &len);
    return len == r->len && memcmp(p, r->s, len) == 0;
}

static char *big_pool;
#define BIG_POOL 70000

/* Values that exercise every encoding, and repeat often enough for
 * equality scans to find some. */
static size_t gen_value(char *buf)
{
    static const long long edges[] = {0, 127, 128, -1, 2047, -2048, 2048, -2049, 32767,
                                      -32768, 32768, 8388607, -8388608, 8388608,
                                      2147483647, -2147483648LL, 2147483648LL, INT64_MAX,
                                      INT64_MIN};
    static const char *const odd[] = {"007", "-0", "+1", " 1", "1 ", "", "00", "-",
                                      "9223372036854775808", "1.0"};
    unsigned r = (unsigned)rnd_below(1000);
    if (r < 300)
        return (size_t)sprintf(buf, "%d", (int)rnd_below(200));
    if (r < 400) { /* an edge, one below or one above (wrapping at INT64 ends) */
        unsigned long long e = (unsigned long long)edges[rnd_below(sizeof(edges) / sizeof(edges[0]))];
        return (size_t)sprintf(buf, "%lld", (long long)(e + rnd_below(3) - 1));
    }
    if (r < 450) {
        const char *s = odd[rnd_below(sizeof(odd) / sizeof(odd[0]))];
        return (size_t)sprintf(buf, "%s", s);
    }
    size_t len;
    if (r < 850)
        len = rnd_below(121);
    else if (r < 995)
        len = 100 + rnd_below(1900);
    else
        len = 5000 + rnd_below(60000);
    /* Small alphabet: duplicates happen. */
    char c = (char)('a' + rnd_below(3));
    if (len > 2000)
        memcpy(buf, big_pool, len);
    else
        memset(buf, c, len);
    if (len)
        buf[0] = c;
    return len;
}

struct run {
    qlog *log;
    model m;
    char *buf;
    long long ops;
    int failed;
};

#define FAIL(r, ...)                                                                   \
    do {                                                                               \
        tap_diag("op %lld: " __VA_ARGS__);                                             \
        (r)->failed = 1;                                                               \
    } while (0)

static void full_check(struct run *r)
{
    qlog_iter it;
    qlog_value v;
    size_t i = 0;
    if (qlog_length(r->log) != r->m.n) {
        FAIL(r, "length %zu, model %zu", qlog_length(r->log), r->m.n);
        return;
    }
    qlog_iter_init(&it, r->log, 0, QLOG_FORWARD);
    while (qlog_iter_next(&it, &v)) {
        if (i >= r->m.n || !same(&v, r->m.a[i])) {
            FAIL(r, "entry %zu differs in a full scan", i);
            return;
        }
        i++;
    }
    if (i != r->m.n)
        FAIL(r, "full scan saw %zu of %zu", i, r->m.n);
}

static void random_op(struct run *r, int grow)
{
    qlog *log = r->log;
    model *m = &r->m;
    qlog_value v;
    char small[32];
    size_t n = m->n, len;
    unsigned op = (unsigned)rnd_below(100);

    if (op < 30) { /* push */
        len = gen_value(r->buf);
        int tail = (int)rnd_below(2);
        if (!grow && rnd_below(2))
            goto pop;
        if (tail)
            qlog_push_tail(log, r->buf, len);
        else
            qlog_push_head(log, r->buf, len);
        m_insert(m, tail ? n : 0, r->buf, len);
    } else if (op < 45) { /* pop */
    pop:
        if (grow && rnd_below(3))
            return;
        int tail = (int)rnd_below(2);
        int got = tail ? qlog_pop_tail(log, &v, small, sizeof(small))
                       : qlog_pop_head(log, &v, small, sizeof(small));
        if (got != (n > 0)) {
            FAIL(r, "pop returned %d with %zu entries", got, n);
            return;
        }
        if (got) {
            size_t i = tail ? n - 1 : 0;
            if (!same(&v, m->a[i]))
                FAIL(r, "popped %s differs", tail ? "tail" : "head");
            qlog_value_release(&v);
            m_delete(m, i, 1);
        }
    } else if (op < 55) { /* index */
        long long idx = (long long)rnd_below(n + 2) - (rnd_below(2) ? (long long)n + 1 : 0);
        int got = qlog_index(log, idx, &v);
        long long norm = idx < 0 ? idx + (long long)n : idx;
        int want = norm >= 0 && norm < (long long)n;
        if (got != want)
            FAIL(r, "index %lld found %d of %zu", idx, got, n);
        else if (got && !same(&v, m->a[norm]))
            FAIL(r, "index %lld differs", idx);
    } else if (op < 62) { /* replace */
        if (!n)
            return;
        size_t i = rnd_below(n);
        len = gen_value(r->buf);
        if (!qlog_replace(log, rnd_below(2) ? (long long)i : (long long)i - (long long)n, r->buf,
                          len))
            FAIL(r, "replace %zu failed", i);
        free(m->a[i]);
        m->a[i] = rstr_new(r->buf, len);
    } else if (op < 72) { /* insert */
        if (!n || (!grow && rnd_below(2)))
            return;
        size_t i = rnd_below(n);
        int where = (int)rnd_below(2);
        len = gen_value(r->buf);
        if (!qlog_insert(log, (long long)i, where, r->buf, len))
            FAIL(r, "insert at %zu failed", i);
        m_insert(m, i + (where == QLOG_AFTER), r->buf, len);
    } else if (op < 77) { /* delete range */
        if (grow && rnd_below(2))
            return;
        size_t start = rnd_below(n + 1), cnt = rnd_below(8);
        if (!rnd_below(4)) /* LTRIM-sized, but not while growing */
            cnt = grow ? rnd_below(64) : rnd_below(n + 1);
        long long s = rnd_below(2) ? (long long)start : (long long)start - (long long)n;
        size_t want = start < n ? (cnt < n - start ? cnt : n - start) : 0;
        if (start == n)
            s = (long long)n; /* -0 is the head: keep it out of range */
        size_t got = qlog_delete_range(log, s, cnt);
        if (got != want)
            FAIL(r, "delete_range(%lld, %zu) deleted %zu, want %zu", s, cnt, got, want);
        else if (want)
            m_delete(m, start, want);
    } else if (op < 87) { /* iterate a range */
        if (!n)
            return;
        int dir = (int)rnd_below(2);
        size_t start = rnd_below(n), steps = rnd_below(60);
        qlog_iter it;
        qlog_iter_init(&it, log, (long long)start, dir);
        for (size_t k = 0; k < steps; k++) {
            size_t i = dir == QLOG_FORWARD ? start + k : start - k;
            int got = qlog_iter_next(&it, &v);
            if (got != (i < n)) {
                FAIL(r, "iteration from %zu dir %d ended wrongly at step %zu", start, dir, k);
                return;
            }
            if (!got)
                break;
            if (!same(&v, m->a[i]) || qlog_iter_pos(&it) != i) {
                FAIL(r, "iteration from %zu dir %d differs at %zu", start, dir, i);
                return;
            }
        }
    } else if (op < 93) { /* LREM-like: delete matches through an iterator */
        if (!n)
            return;
        int dir = (int)rnd_below(2);
        const rstr *src = m->a[rnd_below(n)];
        rstr *pat = rstr_new(src->s, src->len);
        size_t limit = rnd_below(2) ? n : 1 + rnd_below(5), removed = 0;
        size_t start = dir == QLOG_FORWARD ? rnd_below(n) : n - 1 - rnd_below(n);
        qlog_iter it;
        qlog_iter_init(&it, log, (long long)start, dir);
        size_t i = start;
        while (removed < limit && qlog_iter_next(&it, &v)) {
            if (i >= m->n || !same(&v, m->a[i]) || qlog_iter_pos(&it) != i) {
                FAIL(r, "LREM scan differs at %zu", i);
                break;
            }
            if (qlog_value_eq(&v, pat->s, pat->len)) {
                qlog_iter_delete(&it);
                m_delete(m, i, 1);
                removed++;
                if (dir == QLOG_FORWARD)
                    continue;
            } else if (dir == QLOG_FORWARD) {
                i++;
                continue;
            }
            if (i == 0)
                break;
            i--;
        }
        free(pat);
    } else if (op < 94) { /* dup */
        if (rnd_below(20))
            return;
        qlog *d = qlog_dup(log);
        qlog *orig = r->log;
        r->log = d;
        full_check(r);
        if (qlog_verify(d) < 0)
            FAIL(r, "dup does not verify");
        r->log = orig;
        qlog_free(d);
    } else if (op < 95) { /* a fill change now and then */
        if (rnd_below(50))
            return;
        static const int fills[] = {1, 2, 3, 128, -1, -2, -5};
        int keep = qlog_get_fill(log);
        qlog_set_fill(log, fills[rnd_below(7)]);
        if (qlog_verify(log) < 0)
            FAIL(r, "verify after set_fill(%d)", qlog_get_fill(log));
        qlog_set_fill(log, keep);
        if (qlog_verify(log) < 0)
            FAIL(r, "verify after set_fill back to %d", keep);
    } else { /* length and bytes */
        if (qlog_length(log) != n)
            FAIL(r, "length %zu, model %zu", qlog_length(log), n);
    }
}

static void random_run(int fill, long long ops, size_t max_len)
{
    struct run r = {0};
    r.log = qlog_create(fill);
    r.buf = malloc(BIG_POOL);
    int grow = 1;
    size_t target = max_len;
    long long verifies = 0;
    size_t max_segs = 0;
    clock_t t0 = clock();

    for (r.ops = 0; r.ops < ops && !r.failed; r.ops++) {
        /* Grow to a random size, shrink to a random one, and so on. */
        if (grow && r.m.n >= target) {
            grow = 0;
            target = rnd_below(target / 2 + 1);
        } else if (!grow && r.m.n <= target) {
            grow = 1;
            target = 1 + rnd_below(max_len);
        }
        random_op(&r, grow);
        if (r.failed)
            break;
        if (r.ops < 3000 || r.ops % 500 == 0) {
            verifies++;
            if (qlog_verify(r.log) < 0)
                FAIL(&r, "verify failed");
        }
        if (r.ops % 1000 == 0)
            full_check(&r);
        if (qlog_segments(r.log) > max_segs)
            max_segs = qlog_segments(r.log);
        if (getenv("QLOG_TRACE") && r.ops % 20000 == 0)
            tap_diag("  ops %lld: %zu entries, %zu bytes, %zu segments, mem %zu", r.ops,
                     qlog_length(r.log), qlog_bytes(r.log), qlog_segments(r.log),
                     qlog_mem_usage(r.log));
    }
    if (!r.failed) {
        full_check(&r);
        if (qlog_verify(r.log) < 0)
            FAIL(&r, "final verify failed");
    }
    ok(!r.failed, "random, fill %d: %lld ops match the model (%lld verifies, up to %zu segments)",
       fill, r.ops, verifies, max_segs);
    tap_diag("fill %d: %.2f s", fill, (double)(clock() - t0) / CLOCKS_PER_SEC);
    qlog_free(r.log);
    m_delete(&r.m, 0, r.m.n);
    free(r.m.a);
    free(r.buf);
}

static void test_random_keyed(long long ops);

static void test_random(void)
{
    uint64_t seed = 0x5eed2024ULL;
    const char *env = getenv("QLOG_SEED");
    if (env)
        seed = strtoull(env, NULL, 0);
    rng_state = seed ? seed : 1;
    tap_diag("random seed: %" PRIu64 " (QLOG_SEED=n replays another)", seed);

    big_pool = malloc(BIG_POOL);
    for (size_t i = 0; i < BIG_POOL; i++)
        big_pool[i] = (char)('a' + i % 23);
    static const struct {
        int fill;
        long long ops;
        size_t max_len;
    } runs[] = {
        {1, 150000, 3000},   {2, 150000, 4000},   {3, 150000, 4000}, {128, 200000, 5000},
        {-1, 250000, 4000},  {-2, 300000, 5000},  {-5, 250000, 8000},
    };
    for (size_t i = 0; i < sizeof(runs) / sizeof(runs[0]); i++)
        random_run(runs[i].fill, runs[i].ops, runs[i].max_len);
    test_random_keyed(150000);
    free(big_pool);
}

/* Keyed logs (streams) against a model that knows the segments too. */
typedef struct kseg {
    qlog_key key;
    char aux[24];
    size_t auxlen, count;
} kseg;

typedef struct kmodel {
    kseg *segs;   /* non-empty segments, in order */
    size_t nsegs;
    size_t *segof; /* segment index of each entry */
    model m;
} kmodel;

/* Entry i's segment, and the position of that segment's first entry. */
static size_t k_first_of(const kmodel *k, size_t seg)
{
    size_t pos = 0;
    for (size_t j = 0; j < seg; j++)
        pos += k->segs[j].count;
    return pos;
}

static void k_delete(kmodel *k, size_t i)
{
    size_t seg = k->segof[i];
    m_delete(&k->m, i, 1);
    memmove(&k->segof[i], &k->segof[i + 1], (k->m.n - i) * sizeof(size_t));
    if (--k->segs[seg].count == 0) {
        memmove(&k->segs[seg], &k->segs[seg + 1], (k->nsegs - seg - 1) * sizeof(kseg));
        k->nsegs--;
        for (size_t j = 0; j < k->m.n; j++)
            if (k->segof[j] > seg)
                k->segof[j]--;
    }
}

static int k_seginfo_ok(const kmodel *k, const qlog_iter *it, size_t i)
{
    qlog_seginfo si;
    qlog_iter_seginfo(it, &si);
    const kseg *ks = &k->segs[k->segof[i]];
    return si.key.ms == ks->key.ms && si.key.seq == ks->key.seq && si.count == ks->count &&
           si.auxlen == ks->auxlen && memcmp(si.aux, ks->aux, si.auxlen) == 0;
}

static void test_random_keyed(long long ops)
{
    kmodel k = {0};
    qlog *log = qlog_create_keyed(QLOG_FILL_DEFAULT);
    char *buf = malloc(BIG_POOL);
    uint64_t next_ms = 1;
    int failed = 0;
    long long op;
    size_t cap = 0;

#define KFAIL(...)                                                                     \
    do {                                                                               \
        tap_diag("keyed op %lld: " __VA_ARGS__);                                       \
        failed = 1;                                                                    \
    } while (0)

    for (op = 0; op < ops && !failed; op++) {
        size_t n = k.m.n, len;
        unsigned r = (unsigned)rnd_below(100);
        qlog_iter it;
        qlog_value v;
        if (n + 1 > cap) {
            cap = cap ? cap * 2 : 256;
            k.segof = realloc(k.segof, cap * sizeof(size_t));
            k.segs = realloc(k.segs, cap * sizeof(kseg));
        }
        if (r < 50 && n < 3000) { /* XADD */
            len = gen_value(buf);
            if (!n || !qlog_tail_has_room(log, buf, len) || !rnd_below(30)) {
                kseg *ks = &k.segs[k.nsegs];
                ks->key.ms = next_ms += 1 + rnd_below(3);
                ks->key.seq = rnd_below(3);
                ks->auxlen = rnd_below(sizeof(ks->aux));
                memset(ks->aux, (int)('A' + ks->key.ms % 26), ks->auxlen);
                ks->count = 0;
                qlog_push_tail_keyed(log, ks->key, ks->aux, ks->auxlen, buf, len);
                k.nsegs++;
            } else {
                qlog_push_tail(log, buf, len);
            }
            k.segs[k.nsegs - 1].count++;
            k.segof[n] = k.nsegs - 1;
            m_insert(&k.m, n, buf, len);
        } else if (r < 58 && n) { /* pops */
            int tail = (int)rnd_below(2);
            size_t i = tail ? n - 1 : 0;
            char small[8];
            int got = tail ? qlog_pop_tail(log, &v, small, sizeof(small))
                           : qlog_pop_head(log, &v, small, sizeof(small));
            if (!got || !same(&v, k.m.a[i]))
                KFAIL("pop %s", tail ? "tail" : "head");
            qlog_value_release(&v);
            k_delete(&k, i);
        } else if (r < 62 && n) { /* XTRIM by count */
            size_t cnt = rnd_below(n / 4 + 2);
            size_t want = cnt < n ? cnt : n;
            if (qlog_delete_range(log, 0, cnt) != want)
                KFAIL("trim %zu", cnt);
            for (size_t j = 0; j < want; j++)
                k_delete(&k, 0);
        } else if (r < 80 && n) { /* XDEL: seek by the segment's key, walk, delete */
            size_t i = rnd_below(n), seg = k.segof[i], first = k_first_of(&k, seg);
            qlog_iter_init_key(&it, log, k.segs[seg].key, QLOG_FORWARD);
            for (size_t j = first; j <= i; j++) {
                if (!qlog_iter_next(&it, &v) || qlog_iter_pos(&it) != j || !same(&v, k.m.a[j]) ||
                    !k_seginfo_ok(&k, &it, j)) {
                    KFAIL("seek to segment %zu and walk to %zu, at %zu", seg, i, j);
                    break;
                }
            }
            if (failed)
                break;
            qlog_iter_delete(&it);
            k_delete(&k, i);
            /* and the iteration goes on */
            if (i < k.m.n && (!qlog_iter_next(&it, &v) || !same(&v, k.m.a[i])))
                KFAIL("next after delete at %zu", i);
        } else if (r < 92) { /* seeks, forward and backward, between and on keys */
            qlog_key key = {rnd_below(next_ms + 3), rnd_below(4)};
            int dir = (int)rnd_below(2);
            size_t seg = SIZE_MAX;
            for (size_t j = 0; j < k.nsegs; j++)
                if (k.segs[j].key.ms < key.ms ||
                    (k.segs[j].key.ms == key.ms && k.segs[j].key.seq <= key.seq))
                    seg = j;
            qlog_iter_init_key(&it, log, key, dir);
            int got = qlog_iter_next(&it, &v);
            if (!n || (seg == SIZE_MAX && dir == QLOG_BACKWARD)) {
                if (got)
                    KFAIL("seek found an entry in vain");
            } else {
                if (seg == SIZE_MAX)
                    seg = 0;
                size_t want = k_first_of(&k, seg) + (dir == QLOG_BACKWARD ? k.segs[seg].count - 1 : 0);
                if (!got || qlog_iter_pos(&it) != want || !same(&v, k.m.a[want]) ||
                    !k_seginfo_ok(&k, &it, want))
                    KFAIL("seek %" PRIu64 "-%" PRIu64 " dir %d", key.ms, key.seq, dir);
            }
        } else if (r < 95 && n) { /* a new aux */
            size_t i = rnd_below(n);
            kseg *ks = &k.segs[k.segof[i]];
            qlog_iter_init(&it, log, (long long)i, QLOG_FORWARD);
            qlog_iter_next(&it, &v);
            ks->auxlen = rnd_below(sizeof(ks->aux));
            memset(ks->aux, (int)('a' + rnd_below(26)), ks->auxlen);
            qlog_iter_set_aux(&it, ks->aux, ks->auxlen);
            if (i + 1 < n && (!qlog_iter_next(&it, &v) || !same(&v, k.m.a[i + 1])))
                KFAIL("next after set_aux");
        } else if (n) { /* replace in place */
            size_t i = rnd_below(n);
            len = gen_value(buf);
            qlog_replace(log, (long long)i, buf, len);
            free(k.m.a[i]);
            k.m.a[i] = rstr_new(buf, len);
        }
        if ((op < 3000 || op % 500 == 0) && qlog_verify(log) < 0)
            KFAIL("verify");
        if (op % 1000 == 0 && !failed) { /* full scan, with each entry's segment */
            size_t i = 0;
            qlog_iter_init(&it, log, 0, QLOG_FORWARD);
            while (qlog_iter_next(&it, &v)) {
                if (i >= k.m.n || !same(&v, k.m.a[i]) || !k_seginfo_ok(&k, &it, i)) {
                    KFAIL("full scan at %zu", i);
                    break;
                }
                i++;
            }
            if (i != k.m.n || qlog_segments(log) != k.nsegs)
                KFAIL("full scan: %zu entries, %zu segments", i, qlog_segments(log));
        }
    }
    ok(!failed, "random, keyed: %lld ops match the model", op);
    qlog_free(log);
    m_delete(&k.m, 0, k.m.n);
    free(k.m.a);
    free(k.segof);
    free(k.segs);
    free(buf);
}

int main(void)
{
    tap_diag("qlog: randomized run against a model");
    size_t start_mem = mem_used();
    test_random();
    is_int(mem_used(), start_mem, "no memory leaked");
    return tap_done();
}
