/* diff_resp.c - RESP framing, normalizing and the legitimate-difference table (see diff.h). */
#define _GNU_SOURCE
#include "diff.h"

static const legit_diff legit_diffs[] = {
    {"HELLO", NULL, MASK_KEY_VALUE, "id",
     "client ids are allocated independently by each server"},
    {"CLIENT", "ID", MASK_WHOLE, NULL,
     "client ids are allocated independently by each server"},
};
#define N_LEGIT_DIFFS ((int)(sizeof(legit_diffs) / sizeof(legit_diffs[0])))

/* ====================================================================== */
/* RESP framing: find where one reply ends (RESP2 and RESP3)              */

/* Strict signed decimal, as servers emit it. */
int parse_ll(const char *p, size_t n, long long *out)
{
    if (n == 0 || n > 20) return 0;
    char tmp[24];
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (*end || errno || isspace((unsigned char)tmp[0]) || tmp[0] == '+') return 0;
    *out = v;
    return 1;
}

/* Length of the line starting at p including CRLF, 0 if incomplete. */
static size_t line_len(const char *p, size_t n)
{
    const char *cr = n >= 2 ? memmem(p, n, "\r\n", 2) : NULL;
    return cr ? (size_t)(cr - p) + 2 : 0;
}

/* Returns the length of the complete reply at p, 0 if more bytes are
 * needed, -1 if the bytes are not valid RESP. */
long resp_frame(const char *p, size_t n, int depth)
{
    if (depth > RESP_MAX_DEPTH) return -1;
    if (n == 0) return 0;
    size_t hl = line_len(p, n);
    if (hl == 0) return 0;
    const char *body = p + 1;
    size_t bl = hl - 3;
    int streamed = (bl == 1 && body[0] == '?');
    long long cnt;

    switch (p[0]) {
    case '+': case '-': case ':': case ',': case '(': case '#': case '_':
        return (long)hl;
    case '$': case '!': case '=':
        if (streamed && p[0] == '$') {
            /* ;len\r\n<data>\r\n ... ;0\r\n */
            size_t off = hl;
            for (;;) {
                size_t cl = line_len(p + off, n - off);
                if (cl == 0) return 0;
                if (p[off] != ';' || !parse_ll(p + off + 1, cl - 3, &cnt) || cnt < 0)
                    return -1;
                off += cl;
                if (cnt == 0) return (long)off;
                if (n - off < (size_t)cnt + 2) return 0;
                if (p[off + cnt] != '\r' || p[off + cnt + 1] != '\n') return -1;
                off += (size_t)cnt + 2;
            }
        }
        if (!parse_ll(body, bl, &cnt)) return -1;
        if (cnt < 0) return cnt == -1 ? (long)hl : -1;
        if (n - hl < (size_t)cnt + 2) return 0;
        if (p[hl + cnt] != '\r' || p[hl + cnt + 1] != '\n') return -1;
        return (long)(hl + (size_t)cnt + 2);
    case '*': case '~': case '>': case '%': case '|': {
        size_t off = hl;
        if (streamed) {
            /* elements until ".\r\n" */
            for (;;) {
                if (n - off < 1) return 0;
                if (p[off] == '.') {
                    size_t el = line_len(p + off, n - off);
                    if (el == 0) return 0;
                    return el == 3 ? (long)(off + 3) : -1;
                }
                long r = resp_frame(p + off, n - off, depth + 1);
                if (r <= 0) return r;
                off += (size_t)r;
            }
        }
        if (!parse_ll(body, bl, &cnt)) return -1;
        if (cnt < 0) return (cnt == -1 && p[0] != '|') ? (long)hl : -1;
        if (p[0] == '%' || p[0] == '|') cnt *= 2;
        for (long long i = 0; i < cnt; i++) {
            long r = resp_frame(p + off, n - off, depth + 1);
            if (r <= 0) return r;
            off += (size_t)r;
        }
        if (p[0] == '|') { /* an attribute is followed by the value it describes */
            long r = resp_frame(p + off, n - off, depth + 1);
            if (r <= 0) return r;
            off += (size_t)r;
        }
        return (long)off;
    }
    default:
        return -1;
    }
}



int resp_split_top(const char *p, size_t n, resp_split *s)
{
    size_t off = 0;
    memset(s, 0, sizeof(*s));
    if (n && p[0] == '|') { /* skip a top-level attribute */
        size_t hl = line_len(p, n);
        long long cnt;
        if (!hl || !parse_ll(p + 1, hl - 3, &cnt) || cnt < 0) return -1;
        off = hl;
        for (long long i = 0; i < cnt * 2; i++) {
            long r = resp_frame(p + off, n - off, 1);
            if (r <= 0) return -1;
            off += (size_t)r;
        }
    }
    if (off >= n) return -1;
    s->type = p[off];
    if (!strchr("*~>%", s->type)) return -1;
    size_t hl = line_len(p + off, n - off);
    long long cnt;
    if (!hl || !parse_ll(p + off + 1, hl - 3, &cnt) || cnt < 0) return -1;
    off += hl;
    s->prefix = off;
    s->is_map = (s->type == '%');
    if (s->is_map) cnt *= 2;
    s->el = xrealloc(NULL, sizeof(span_t) * (size_t)(cnt ? cnt : 1));
    for (long long i = 0; i < cnt; i++) {
        long r = resp_frame(p + off, n - off, 1);
        if (r <= 0) {
            free(s->el);
            s->el = NULL;
            return -1;
        }
        s->el[i].off = off;
        s->el[i].len = (size_t)r;
        off += (size_t)r;
        s->n++;
    }
    return 0;
}

/* Type byte of a reply, skipping a leading attribute. */
char resp_type(const char *p, size_t n)
{
    if (n && p[0] == '|') {
        resp_split s;
        if (resp_split_top(p, n, &s) == 0) {
            free(s.el);
            return s.type;
        }
        return '|';
    }
    return n ? p[0] : 0;
}

/* If the element is a simple/bulk string, return its content. */
int resp_string(const char *p, size_t n, const char **s, size_t *len)
{
    size_t hl = line_len(p, n);
    if (!hl) return 0;
    if (p[0] == '+') {
        *s = p + 1;
        *len = hl - 3;
        return 1;
    }
    if (p[0] == '$' && n > hl + 2) {
        *s = p + hl;
        *len = n - hl - 2;
        return 1;
    }
    return 0;
}


static int unit_cmp(const void *a, const void *b)
{
    const unit_t *x = a, *y = b;
    size_t m = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, m);
    if (c) return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

static const char MASKED[] = "<masked>\r\n";

/* Build the form of a reply that gets compared: the raw bytes, with the
 * legitimate-difference rule `rule` (may be NULL) applied and, if `sort`,
 * the top-level elements sorted (sort == 2: sorted as consecutive pairs,
 * for RESP2 flat key/value arrays; RESP3 maps are always sorted by pair).
 * Returns 1 if it differs from raw. */
int normalize(const char *p, size_t n, const legit_diff *rule, int sort, buf_t *out)
{
    buf_clear(out);
    char type = resp_type(p, n);
    if (type == '-' || type == '!') rule = NULL; /* errors always compared */
    if (rule && rule->kind == MASK_WHOLE) {
        buf_addc(out, type);
        buf_adds(out, MASKED);
        return 1;
    }
    resp_split s;
    if ((!rule && !sort) || resp_split_top(p, n, &s) != 0) {
        buf_add(out, p, n);
        return 0;
    }
    int pairs = s.is_map || ((sort == 2 || (rule && rule->kind == MASK_KEY_VALUE)) && s.n % 2 == 0);
    int nunits = pairs ? s.n / 2 : s.n;
    unit_t *u = xrealloc(NULL, sizeof(unit_t) * (size_t)(nunits ? nunits : 1));
    buf_t masked = {0};
    /* Units point into p, or into `masked` for masked pairs; build all
     * masked pairs first so that the buffer does not move afterwards. */
    size_t *moff = xrealloc(NULL, sizeof(size_t) * (size_t)(nunits ? nunits : 1));
    for (int i = 0; i < nunits; i++) {
        moff[i] = SIZE_MAX;
        if (pairs && rule && rule->kind == MASK_KEY_VALUE) {
            const span_t *k = &s.el[2 * i];
            const char *ks;
            size_t kl;
            if (resp_string(p + k->off, k->len, &ks, &kl) && kl == strlen(rule->key) &&
                strncasecmp(ks, rule->key, kl) == 0) {
                moff[i] = masked.len;
                buf_add(&masked, p + k->off, k->len);
                buf_adds(&masked, MASKED);
            }
        }
    }
    for (int i = 0; i < nunits; i++) {
        if (moff[i] != SIZE_MAX) {
            u[i].p = masked.p + moff[i];
            u[i].n = s.el[2 * i].len + strlen(MASKED);
        } else if (pairs) {
            u[i].p = p + s.el[2 * i].off;
            u[i].n = s.el[2 * i].len + s.el[2 * i + 1].len;
        } else {
            u[i].p = p + s.el[i].off;
            u[i].n = s.el[i].len;
        }
    }
    if (sort) qsort(u, (size_t)nunits, sizeof(unit_t), unit_cmp);
    buf_add(out, p, s.prefix);
    for (int i = 0; i < nunits; i++) buf_add(out, u[i].p, u[i].n);
    free(u);
    free(moff);
    free(s.el);
    buf_free(&masked);
    return out->len != n || memcmp(out->p, p, n) != 0;
}

const legit_diff *find_rule(const args_t *a)
{
    if (a->n < 1) return NULL;
    for (int i = 0; i < N_LEGIT_DIFFS; i++) {
        const legit_diff *r = &legit_diffs[i];
        if (strcasecmp(a->v[0], r->cmd) != 0) continue;
        if (r->sub && (a->n < 2 || strcasecmp(a->v[1], r->sub) != 0)) continue;
        return r;
    }
    return NULL;
}
