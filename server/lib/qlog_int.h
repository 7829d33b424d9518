/* qlog_int.h - internals shared by qlog.c, qlog_segment.c and qlog_index.c.
 * Nothing outside those three files includes it.  The data layout is
 * described at the top of qlog.c.
 */
#ifndef SLUICE_QLOG_INT_H
#define SLUICE_QLOG_INT_H

#include "qlog.h"

#include <assert.h>
#include <stdint.h>
#include <string.h>

/* ---- entry encoding (first byte of an entry) ---------------------------- */
#define ENC_UINT7_MAX   0x7f /* 0xxxxxxx: the integer itself, no trailer */
#define ENC_STR         0x80 /* 0x80 + len, len 0..STR_INLINE_MAX */
#define STR_INLINE_MAX  104
#define ENC_INT12       0xe9 /* 0xe9..0xf8: 4 high bits + 1 byte, biased */
#define ENC_INT16       0xf9
#define ENC_INT24       0xfa
#define ENC_INT32       0xfb
#define ENC_INT64       0xfc
#define ENC_STR8        0xfd /* length - STR8_BASE in 1 byte */
#define ENC_STR16       0xfe
#define ENC_STR32       0xff
#define STR8_BASE       (STR_INLINE_MAX + 1)
#define INT12_BIAS      2048

/* An entry ready to be written: header, payload, trailer. */
typedef struct qenc {
    unsigned char head[9]; /* code, then the integer or the string length */
    unsigned char tail[5]; /* string length, then code; empty for uint7 */
    uint8_t hlen, tlen;
    const char *str; /* string payload; NULL for an integer */
    size_t slen;
    size_t size;     /* hlen + slen + tlen */
} qenc;

int qlog_string2ll(const char *s, size_t len, long long *v);
void enc_int(qenc *e, long long v);
void enc_long_str(qenc *e, const void *s, size_t len);

/* Integers, as canonical decimal, are at most 20 characters and begin with
 * a digit or '-': anything else is a string without trying. */
static inline void enc_prepare(qenc *e, const void *s, size_t len)
{
    const unsigned char *p = s;
    long long v;
    if (len && len <= 20 && ((unsigned)(p[0] - '0') <= 9u || p[0] == '-') &&
        qlog_string2ll(s, len, &v)) {
        enc_int(e, v);
        return;
    }
    if (len > STR_INLINE_MAX) {
        enc_long_str(e, s, len);
        return;
    }
    e->str = s;
    e->slen = len;
    e->head[0] = e->tail[0] = (unsigned char)(ENC_STR + len);
    e->hlen = e->tlen = 1;
    e->size = len + 2;
}

static inline void enc_write(unsigned char *p, const qenc *e)
{
    if (e->hlen == 1) { /* a small integer or a short string */
        p[0] = e->head[0];
        if (e->tlen) {
            memcpy(p + 1, e->str, e->slen);
            p[1 + e->slen] = e->head[0];
        }
        return;
    }
    memcpy(p, e->head, e->hlen);
    if (e->slen)
        memcpy(p + e->hlen, e->str, e->slen);
    memcpy(p + e->hlen + e->slen, e->tail, e->tlen);
}

static inline uint64_t load_le(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

/* Size of the string length field that follows an extended code. */
static inline size_t ext_len_bytes(unsigned c)
{
    return c == ENC_STR8 ? 1 : c == ENC_STR16 ? 2 : 4;
}

static inline size_t ext_str_len(unsigned c, const unsigned char *lenp)
{
    size_t n = ext_len_bytes(c);
    return (size_t)load_le(lenp, (int)n) + (c == ENC_STR8 ? STR8_BASE : 0);
}

/* Size of a fixed-size entry (everything but extended strings) from its
 * code, which is both its first and its last byte. */
static inline size_t fixed_size(unsigned c)
{
    if (c <= ENC_UINT7_MAX)
        return 1;
    if (c < ENC_INT12)
        return c - ENC_STR + 2;
    if (c < ENC_INT16)
        return 3;
    switch (c) {
    case ENC_INT16: return 4;
    case ENC_INT24: return 5;
    case ENC_INT32: return 6;
    default:        return 10; /* ENC_INT64 */
    }
}

/* Size of the entry starting at p. */
static inline size_t ent_size(const unsigned char *p)
{
    unsigned c = p[0];
    if (c < ENC_STR8)
        return fixed_size(c);
    size_t n = ext_len_bytes(c);
    return 2 + 2 * n + ext_str_len(c, p + 1);
}

/* Size of the entry ending just before end. */
static inline size_t ent_size_back(const unsigned char *end)
{
    unsigned c = end[-1];
    if (c < ENC_STR8)
        return fixed_size(c);
    size_t n = ext_len_bytes(c);
    return 2 + 2 * n + ext_str_len(c, end - 1 - n);
}

static inline int64_t sign_extend(uint64_t v, int bits)
{
    uint64_t m = 1ULL << (bits - 1);
    return (int64_t)((v ^ m) - m);
}

/* Decodes the entry at p into *v; returns its size. */
static inline size_t ent_decode(const unsigned char *p, qlog_value *v)
{
    unsigned c = p[0];
    v->heap = NULL;
    if (c <= ENC_UINT7_MAX) {
        v->str = NULL, v->len = 0, v->is_int = 1, v->ival = c;
        return 1;
    }
    if (c < ENC_INT12) {
        v->str = (const char *)p + 1, v->len = c - ENC_STR, v->is_int = 0;
        v->ival = 0;
        return v->len + 2;
    }
    if (c >= ENC_STR8) {
        size_t n = ext_len_bytes(c);
        v->len = ext_str_len(c, p + 1);
        v->str = (const char *)p + 1 + n, v->is_int = 0, v->ival = 0;
        return v->len + 2 + 2 * n;
    }
    v->str = NULL, v->len = 0, v->is_int = 1;
    switch (c) {
    case ENC_INT16: v->ival = sign_extend(load_le(p + 1, 2), 16); return 4;
    case ENC_INT24: v->ival = sign_extend(load_le(p + 1, 3), 24); return 5;
    case ENC_INT32: v->ival = sign_extend(load_le(p + 1, 4), 32); return 6;
    case ENC_INT64: v->ival = (int64_t)load_le(p + 1, 8); return 10;
    default:
        v->ival = (long long)(((c - ENC_INT12) << 8) | p[1]) - INT12_BIAS;
        return 3;
    }
}

/* ---- segments ------------------------------------------------------------ */
typedef struct qseg {
    uint32_t count; /* entries */
    uint32_t bytes; /* encoded entries, at data[start] */
    uint32_t start; /* >= the prefix (key and aux of keyed segments) */
    uint32_t cap;   /* usable size of data[] */
    unsigned char data[];
} qseg;

#define SEG_HDR ((size_t)sizeof(qseg))
/* Keyed prefix: ms (8), seq (8), aux length (4), aux. */
#define KEYED_PREFIX 20
/* Pops give memory back once more than this is spare beyond twice the
 * payload: geometric, so amortized O(1), and bounded. */
#define SEG_SPARE_MIN 64

/* ---- index ------------------------------------------------------------- */
#define QIDX_FANOUT 30
#define QIDX_MAX_HEIGHT 24

typedef struct qidx_node {
    struct qidx_node *parent;
    struct qidx_node *prev, *next; /* neighbours on the same level */
    uint16_t n;                    /* slots in use */
    uint8_t leaf;
    uint64_t cnt[QIDX_FANOUT]; /* entries under each slot */
    void *child[QIDX_FANOUT];  /* nodes, or segments in a leaf */
    qlog_key key[];            /* keyed logs: first key under each slot */
} qidx_node;

/* A log of one segment has no node at all: root is then that segment,
 * height 0 and first/last NULL, and a NULL leaf stands for its slot. */
typedef struct qidx {
    void *root;              /* top node, or the only segment */
    qidx_node *first, *last; /* leaves at the two ends */
    uint32_t nsegs;
    uint8_t height;
    uint8_t keyed;
} qidx;

void qidx_init(qidx *ix, int keyed);
void qidx_destroy(qidx *ix);
void qidx_unsingle(qidx *ix, uint64_t cnt, const qlog_key *key);
void qidx_insert(qidx *ix, qidx_node *leaf, int slot, void *seg, uint64_t cnt,
                 const qlog_key *key, qidx_node **at_leaf, int *at_slot);
void qidx_remove(qidx *ix, qidx_node *leaf, int slot);
void qidx_add(qidx_node *leaf, int slot, int64_t delta);
int qidx_locate(const qidx *ix, uint64_t pos, qidx_node **leaf, int *slot, uint64_t *off);
int qidx_locate_key(const qidx *ix, const qlog_key *key, qidx_node **leaf, int *slot);
uint64_t qidx_pos(const qidx_node *leaf, int slot);
size_t qidx_mem(const qidx *ix);
int qidx_verify(const qidx *ix);

static inline int key_cmp(const qlog_key *a, const qlog_key *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

static inline int qidx_next(qidx_node **leaf, int *slot)
{
    if (!*leaf)
        return 0;
    if (*slot + 1 < (*leaf)->n) {
        ++*slot;
        return 1;
    }
    if (!(*leaf)->next)
        return 0;
    *leaf = (*leaf)->next;
    *slot = 0;
    return 1;
}

static inline int qidx_prev(qidx_node **leaf, int *slot)
{
    if (!*leaf)
        return 0;
    if (*slot > 0) {
        --*slot;
        return 1;
    }
    if (!(*leaf)->prev)
        return 0;
    *leaf = (*leaf)->prev;
    *slot = (*leaf)->n - 1;
    return 1;
}

/* ---- the log ------------------------------------------------------------- */
struct qlog {
    qseg *head, *tail;  /* cached ends of the index; NULL when empty */
    size_t count;       /* entries */
    uint32_t max_count; /* fill cap: entries per segment */
    uint32_t max_bytes; /* fill cap: prefix + entry bytes per segment */
    qidx idx;
};

static inline size_t seg_prefix(const qlog *log, const qseg *s)
{
    if (!log->idx.keyed)
        return 0;
    uint32_t auxlen;
    memcpy(&auxlen, s->data + 16, 4);
    return KEYED_PREFIX + auxlen;
}

static inline int seg_fits(const qlog *log, const qseg *s, size_t size)
{
    return s->count < log->max_count &&
           seg_prefix(log, s) + s->bytes + size <= log->max_bytes;
}

qseg *seg_new(qlog *log, const qlog_key *key, const void *aux, size_t auxlen, size_t room);
qseg *seg_reserve(qlog *log, qseg *s, size_t need, int front, int end_segment);
qseg *seg_shrink(qlog *log, qseg *s);
qseg *seg_tidy(qlog *log, qseg *s, int end_segment);
qseg *seg_insert(qlog *log, qseg *s, size_t off, const qenc *e, int end_segment);
qseg *seg_delete(qlog *log, qseg *s, size_t off, size_t len, uint32_t n, int end_segment,
                 size_t *next_off);
qseg *seg_replace(qlog *log, qseg *s, size_t off, size_t oldsize, const qenc *e,
                  int end_segment);
qseg *seg_split(qlog *log, qseg **sp, size_t off, uint32_t k);
qseg *seg_append(qlog *log, qseg *dst, const qseg *src, int end_segment);
qseg *seg_copy(const qlog *from, const qseg *s);
qseg *seg_set_aux(qlog *log, qseg *s, const void *aux, size_t auxlen);
size_t seg_seek(const qseg *s, uint32_t k);
size_t seg_skip(const qseg *s, size_t off, uint32_t n);
void seg_key(const qseg *s, qlog_key *key);
int seg_verify(const qlog *log, const qseg *s);

#endif
