/* sstr.c - binary-safe dynamic strings; see sstr.h for the layout. */
#include "sstr.h"

#include <stdio.h>
#include <string.h>
#include <ctype.h>

#include "mem.h"

#define SSTR_PREALLOC_MAX (1024 * 1024)

static sstr alloc_with_cap(size_t cap)
{
    struct sstr_hdr *h = mem_alloc(sizeof(*h) + cap + 1);
    h->len = 0;
    /* hand the allocator's rounding to the string: it is free capacity */
    h->cap = mem_usable(h) - sizeof(*h) - 1;
    char *s = (char *)(h + 1);
    s[0] = '\0';
    return s;
}

sstr sstr_new(const void *p, size_t len)
{
    sstr s = alloc_with_cap(len);
    if (len)
        memcpy(s, p, len);
    s[len] = '\0';
    SSTR_HDR(s)->len = len;
    return s;
}

sstr sstr_from(const char *cstr) { return sstr_new(cstr, strlen(cstr)); }
sstr sstr_empty(size_t reserve) { return alloc_with_cap(reserve); }
sstr sstr_dup(const sstr s) { return sstr_new(s, sstr_len(s)); }

void sstr_free(sstr s)
{
    if (s)
        mem_free(SSTR_HDR(s));
}

sstr sstr_reserve(sstr s, size_t extra)
{
    struct sstr_hdr *h = SSTR_HDR(s);
    if (h->cap - h->len >= extra)
        return s;
    size_t want = h->len + extra;
    /* geometric growth for appends, linear above 1 MiB as Redis does */
    if (want < SSTR_PREALLOC_MAX)
        want *= 2;
    else
        want += SSTR_PREALLOC_MAX;
    h = mem_realloc(h, sizeof(*h) + want + 1);
    h->cap = mem_usable(h) - sizeof(*h) - 1;
    return (char *)(h + 1);
}

sstr sstr_reserve_exact(sstr s, size_t extra)
{
    struct sstr_hdr *h = SSTR_HDR(s);
    if (h->cap - h->len >= extra)
        return s;
    h = mem_realloc(h, sizeof(*h) + h->len + extra + 1);
    h->cap = mem_usable(h) - sizeof(*h) - 1;
    return (char *)(h + 1);
}

sstr sstr_cat(sstr s, const void *p, size_t len)
{
    s = sstr_reserve(s, len);
    memcpy(s + sstr_len(s), p, len);
    SSTR_HDR(s)->len += len;
    s[SSTR_HDR(s)->len] = '\0';
    return s;
}

sstr sstr_cats(sstr s, const char *cstr) { return sstr_cat(s, cstr, strlen(cstr)); }

sstr sstr_catvfmt(sstr s, const char *fmt, va_list ap)
{
    char stackbuf[256];
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(stackbuf, sizeof(stackbuf), fmt, cp);
    va_end(cp);
    if (n < 0)
        return s;
    if ((size_t)n < sizeof(stackbuf))
        return sstr_cat(s, stackbuf, (size_t)n);
    s = sstr_reserve(s, (size_t)n + 1);
    vsnprintf(s + sstr_len(s), (size_t)n + 1, fmt, ap);
    SSTR_HDR(s)->len += (size_t)n;
    return s;
}

sstr sstr_catfmt(sstr s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    s = sstr_catvfmt(s, fmt, ap);
    va_end(ap);
    return s;
}

sstr sstr_catrepr(sstr s, const char *p, size_t len)
{
    s = sstr_cat(s, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '\\': s = sstr_cat(s, "\\\\", 2); break;
        case '"': s = sstr_cat(s, "\\\"", 2); break;
        case '\n': s = sstr_cat(s, "\\n", 2); break;
        case '\r': s = sstr_cat(s, "\\r", 2); break;
        case '\t': s = sstr_cat(s, "\\t", 2); break;
        case '\a': s = sstr_cat(s, "\\a", 2); break;
        case '\b': s = sstr_cat(s, "\\b", 2); break;
        default:
            if (isprint(c))
                s = sstr_cat(s, &p[i], 1);
            else
                s = sstr_catfmt(s, "\\x%02x", c);
        }
    }
    return sstr_cat(s, "\"", 1);
}

void sstr_setlen(sstr s, size_t len)
{
    SSTR_HDR(s)->len = len;
    s[len] = '\0';
}

void sstr_clear(sstr s) { sstr_setlen(s, 0); }

void sstr_consume(sstr s, size_t n)
{
    size_t len = sstr_len(s);
    if (n >= len) {
        sstr_setlen(s, 0);
        return;
    }
    memmove(s, s + n, len - n);
    sstr_setlen(s, len - n);
}

sstr sstr_grow_zero(sstr s, size_t len)
{
    size_t cur = sstr_len(s);
    if (len <= cur)
        return s;
    s = sstr_reserve(s, len - cur);
    memset(s + cur, 0, len - cur);
    sstr_setlen(s, len);
    return s;
}

sstr sstr_shrink(sstr s)
{
    struct sstr_hdr *h = SSTR_HDR(s);
    if (h->cap == h->len)
        return s;
    h = mem_realloc(h, sizeof(*h) + h->len + 1);
    h->cap = mem_usable(h) - sizeof(*h) - 1;
    return (char *)(h + 1);
}

size_t sstr_alloc_size(const sstr s) { return mem_usable(SSTR_HDR(s)); }

void sstr_tolower(sstr s)
{
    size_t len = sstr_len(s);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)tolower((unsigned char)s[i]);
}
