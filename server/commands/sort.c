/* sort.c - SORT and SORT_RO over lists (the only sortable type Sluice has).
 *
 * Semantics follow Redis 7.0's sortCommandGeneric: options parsed left to
 * right (the first bad one decides the error), LIMIT clamped the way Redis
 * clamps it, numeric sort by strtod with a lexicographic tie-break (so the
 * result is deterministic), ALPHA by strcoll (C locale here: strcmp up to
 * the first NUL) or, when storing, by binary comparison, BY/GET patterns
 * with the first '*' substituted ("#" = the element itself; "->field"
 * dereferences hashes, which Sluice doesn't have, so they read as
 * missing), and STORE writing a list (or deleting the destination when the
 * result is empty).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "mem.h"
#include "qlog.h"
#include "server.h"
#include "util.h"

struct sort_item {
    sstr elem;      /* the element's bytes */
    double score;   /* numeric sort */
    sstr cmp;       /* ALPHA with BY: the value sorted by (NULL if missing) */
};

struct sort_ctx {
    int desc, alpha, bypattern, store;
};

static struct sort_ctx sort_ctx; /* qsort has no context argument */

static int binary_cmp(const sstr a, const sstr b)
{
    size_t la = sstr_len(a), lb = sstr_len(b);
    int r = memcmp(a, b, la < lb ? la : lb);
    if (r)
        return r;
    return la < lb ? -1 : la > lb ? 1 : 0;
}

static int sort_compare(const void *pa, const void *pb)
{
    const struct sort_item *a = pa, *b = pb;
    int cmp;
    if (!sort_ctx.alpha) {
        if (a->score > b->score)
            cmp = 1;
        else if (a->score < b->score)
            cmp = -1;
        else
            cmp = binary_cmp(a->elem, b->elem);
    } else if (sort_ctx.bypattern) {
        if (!a->cmp || !b->cmp)
            cmp = a->cmp == b->cmp ? 0 : (!a->cmp ? -1 : 1);
        else
            cmp = sort_ctx.store ? binary_cmp(a->cmp, b->cmp) : strcoll(a->cmp, b->cmp);
    } else {
        cmp = sort_ctx.store ? binary_cmp(a->elem, b->elem) : strcoll(a->elem, b->elem);
    }
    return sort_ctx.desc ? -cmp : cmp;
}

/* The string value a BY/GET pattern points to for this element, or NULL. */
static sstr lookup_by_pattern(struct db *db, const struct arg *pat, const sstr subst)
{
    if (pat->len == 1 && pat->ptr[0] == '#')
        return sstr_dup(subst);
    const char *star = memchr(pat->ptr, '*', strnlen(pat->ptr, pat->len));
    if (!star)
        return NULL;
    size_t prefix = (size_t)(star - pat->ptr);
    size_t fieldlen = 0;
    const char *end = pat->ptr + pat->len;
    for (const char *f = star + 1; f + 2 < end; f++) {
        if (f[0] == '-' && f[1] == '>') {
            fieldlen = (size_t)(end - f - 2);
            break;
        }
    }
    size_t postfix = pat->len - prefix - 1 - (fieldlen ? fieldlen + 2 : 0);
    sstr key = sstr_new(pat->ptr, prefix);
    key = sstr_cat(key, subst, sstr_len(subst));
    key = sstr_cat(key, star + 1, postfix);
    struct value *v = db_lookup_read(db, key, sstr_len(key));
    sstr_free(key);
    /* a hash field dereference needs a hash; Sluice has none */
    if (!v || fieldlen || v->type != OBJ_STRING)
        return NULL;
    char buf[32];
    size_t len;
    const char *p = value_string_bytes(v, buf, &len);
    return sstr_new(p, len);
}

static void sort_generic(struct client *c, int readonly)
{
    int desc = 0, alpha = 0, dontsort = 0;
    long long limit_start = 0, limit_count = -1;
    const struct arg *sortby = NULL, *storekey = NULL;
    int getops = 0;
    const struct arg **gets = mem_alloc(sizeof(*gets) * (size_t)c->argc);

    for (int j = 2; j < c->argc; j++) {
        int left = c->argc - j - 1;
        const struct arg *a = &c->argv[j];
        if (arg_is(a, "asc")) {
            desc = 0;
        } else if (arg_is(a, "desc")) {
            desc = 1;
        } else if (arg_is(a, "alpha")) {
            alpha = 1;
        } else if (arg_is(a, "limit") && left >= 2) {
            if (arg_ll(c, &c->argv[j + 1], &limit_start, NULL) < 0 ||
                arg_ll(c, &c->argv[j + 2], &limit_count, NULL) < 0)
                goto out;
            j += 2;
        } else if (!readonly && arg_is(a, "store") && left >= 1) {
            storekey = &c->argv[++j];
        } else if (arg_is(a, "by") && left >= 1) {
            sortby = &c->argv[++j];
            if (!memchr(sortby->ptr, '*', strnlen(sortby->ptr, sortby->len)))
                dontsort = 1;
        } else if (arg_is(a, "get") && left >= 1) {
            gets[getops++] = &c->argv[++j];
        } else {
            reply_error(c, ERR_SYNTAX);
            goto out;
        }
    }

    struct value *sv = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (sv && sv->type != OBJ_LIST) {
        reply_error(c, ERR_WRONGTYPE);
        goto out;
    }
    long long vectorlen = sv ? (long long)qlog_length(sv->u.ptr) : 0;
    long long start = limit_start < 0 ? 0 : limit_start;
    /* Redis computes start + count - 1 in wrapping arithmetic: keep its
     * results for huge LIMITs without signed overflow */
    long long end = limit_count < 0 ? vectorlen - 1
                                    : (long long)((unsigned long long)start + (unsigned long long)limit_count - 1ULL);
    if (start >= vectorlen) {
        start = vectorlen - 1;
        end = vectorlen - 2;
    }
    if (end >= vectorlen)
        end = vectorlen - 1;
    if (dontsort && (start != 0 || end != vectorlen - 1))
        vectorlen = end - start + 1;
    if (vectorlen < 0)
        vectorlen = 0;

    struct sort_item *vec = mem_calloc(sizeof(*vec) * (size_t)(vectorlen ? vectorlen : 1));
    long long n = 0;
    if (sv && dontsort) {
        if (end >= start) {
            qlog_iter it;
            long long from = desc ? (long long)qlog_length(sv->u.ptr) - start - 1 : start;
            qlog_iter_init(&it, sv->u.ptr, from, desc ? QLOG_BACKWARD : QLOG_FORWARD);
            qlog_value e;
            char ib[QLOG_INT_BUFSIZE];
            while (n < vectorlen && qlog_iter_next(&it, &e)) {
                size_t len;
                const char *p = qlog_value_bytes(&e, ib, &len);
                vec[n++].elem = sstr_new(p, len);
            }
            end -= start;
            start = 0;
        }
    } else if (sv) {
        qlog_iter it;
        qlog_iter_init(&it, sv->u.ptr, 0, QLOG_FORWARD);
        qlog_value e;
        char ib[QLOG_INT_BUFSIZE];
        while (qlog_iter_next(&it, &e)) {
            size_t len;
            const char *p = qlog_value_bytes(&e, ib, &len);
            vec[n++].elem = sstr_new(p, len);
        }
    }
    vectorlen = n;

    int conversion_error = 0;
    if (!dontsort) {
        for (long long j = 0; j < vectorlen; j++) {
            sstr byval;
            if (sortby) {
                byval = lookup_by_pattern(c->db, sortby, vec[j].elem);
                if (!byval)
                    continue;
            } else {
                byval = vec[j].elem;
            }
            if (alpha) {
                if (sortby)
                    vec[j].cmp = byval;
            } else {
                char *eptr;
                errno = 0;
                vec[j].score = strtod(byval, &eptr);
                if (eptr[0] != '\0' || errno == ERANGE || isnan(vec[j].score))
                    conversion_error = 1;
                if (sortby)
                    sstr_free(byval);
            }
        }
        sort_ctx.desc = desc;
        sort_ctx.alpha = alpha;
        sort_ctx.bypattern = sortby != NULL;
        sort_ctx.store = storekey != NULL;
        qsort(vec, (size_t)vectorlen, sizeof(*vec), sort_compare);
    }

    long long outputlen = end >= start ? (getops ? getops : 1) * (end - start + 1) : 0;
    if (conversion_error) {
        reply_error(c, "One or more scores can't be converted into double");
    } else if (!storekey) {
        reply_array_len(c, outputlen);
        for (long long j = start; j <= end; j++) {
            if (!getops)
                reply_bulk_sstr(c, vec[j].elem);
            for (int g = 0; g < getops; g++) {
                sstr val = lookup_by_pattern(c->db, gets[g], vec[j].elem);
                if (val) {
                    reply_bulk_sstr(c, val);
                    sstr_free(val);
                } else {
                    reply_null(c);
                }
            }
        }
    } else {
        qlog *out = qlog_create(srv.list_max_listpack_size);
        for (long long j = start; j <= end; j++) {
            if (!getops)
                qlog_push_tail(out, vec[j].elem, sstr_len(vec[j].elem));
            for (int g = 0; g < getops; g++) {
                sstr val = lookup_by_pattern(c->db, gets[g], vec[j].elem);
                qlog_push_tail(out, val ? val : "", val ? sstr_len(val) : 0);
                sstr_free(val);
            }
        }
        if (outputlen) {
            db_set(c->db, storekey->ptr, storekey->len, value_new(OBJ_LIST, ENC_QUICKLIST, out), 0);
            db_signal_key_ready(c->db, storekey->ptr, storekey->len);
            db_signal_modified(c->db, storekey->ptr, storekey->len);
            srv.dirty += outputlen;
        } else {
            qlog_free(out);
            if (db_delete(c->db, storekey->ptr, storekey->len)) {
                db_signal_modified(c->db, storekey->ptr, storekey->len);
                srv.dirty++;
            }
        }
        reply_int(c, outputlen);
    }
    for (long long j = 0; j < vectorlen; j++) {
        sstr_free(vec[j].elem);
        sstr_free(vec[j].cmp);
    }
    mem_free(vec);
out:
    mem_free(gets);
}

static void sort_command(struct client *c) { sort_generic(c, 0); }
static void sort_ro_command(struct client *c) { sort_generic(c, 1); }

const struct command_impl sort_commands[] = {
    {"sort", sort_command},
    {"sort_ro", sort_ro_command},
    {NULL, NULL},
};
