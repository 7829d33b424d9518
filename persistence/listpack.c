/* listpack.c - listpack writer/reader and ziplist decoder; formats in
 * listpack.h.  Everything that reads takes the blob's size and checks each
 * step against it: blobs come from files and DUMP payloads. */
#include "listpack.h"

#include <string.h>

#include "mem.h"

/* ---- integers in strings ------------------------------------------------------- */

int lp_string_to_int64(const void *str, size_t slen, long long *value)
{
    const unsigned char *p = str;
    size_t plen = 0;
    int negative = 0;
    unsigned long long v;

    if (slen == 0 || slen >= 21)
        return 0;
    if (slen == 1 && p[0] == '0') {
        *value = 0;
        return 1;
    }
    if (p[0] == '-') {
        negative = 1;
        p++;
        plen++;
        if (plen == slen)
            return 0;
    }
    if (p[0] < '1' || p[0] > '9')
        return 0;
    v = (unsigned long long)(p[0] - '0');
    p++;
    plen++;
    while (plen < slen && p[0] >= '0' && p[0] <= '9') {
        if (v > UINT64_MAX / 10)
            return 0;
        v *= 10;
        if (v > UINT64_MAX - (unsigned long long)(p[0] - '0'))
            return 0;
        v += (unsigned long long)(p[0] - '0');
        p++;
        plen++;
    }
    if (plen < slen)
        return 0;
    if (negative) {
        if (v > (unsigned long long)INT64_MAX + 1)
            return 0;
        *value = v == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(long long)v;
    } else {
        if (v > INT64_MAX)
            return 0;
        *value = (long long)v;
    }
    return 1;
}

/* ---- encoding ------------------------------------------------------------------ */

/* Encode backlen l (the size of encoding+data) into buf; returns its size. */
static size_t encode_backlen(unsigned char *buf, uint64_t l)
{
    if (l <= 127) {
        buf[0] = (unsigned char)l;
        return 1;
    } else if (l < 16383) {
        buf[0] = (unsigned char)(l >> 7);
        buf[1] = (unsigned char)((l & 127) | 128);
        return 2;
    } else if (l < 2097151) {
        buf[0] = (unsigned char)(l >> 14);
        buf[1] = (unsigned char)(((l >> 7) & 127) | 128);
        buf[2] = (unsigned char)((l & 127) | 128);
        return 3;
    } else if (l < 268435455) {
        buf[0] = (unsigned char)(l >> 21);
        buf[1] = (unsigned char)(((l >> 14) & 127) | 128);
        buf[2] = (unsigned char)(((l >> 7) & 127) | 128);
        buf[3] = (unsigned char)((l & 127) | 128);
        return 4;
    } else {
        buf[0] = (unsigned char)(l >> 28);
        buf[1] = (unsigned char)(((l >> 21) & 127) | 128);
        buf[2] = (unsigned char)(((l >> 14) & 127) | 128);
        buf[3] = (unsigned char)(((l >> 7) & 127) | 128);
        buf[4] = (unsigned char)((l & 127) | 128);
        return 5;
    }
}

static size_t backlen_size(uint64_t l)
{
    return l <= 127 ? 1 : l < 16383 ? 2 : l < 2097151 ? 3 : l < 268435455 ? 4 : 5;
}

/* The integer encoding of v into buf (up to 9 bytes); returns its size. */
static size_t encode_int(unsigned char *buf, long long v)
{
    if (v >= 0 && v <= 127) {
        buf[0] = (unsigned char)v;
        return 1;
    } else if (v >= -4096 && v <= 4095) {
        unsigned long long u = v < 0 ? (1ULL << 13) + (unsigned long long)v : (unsigned long long)v;
        buf[0] = (unsigned char)((u >> 8) | 0xC0);
        buf[1] = (unsigned char)(u & 0xff);
        return 2;
    }
    unsigned long long u = (unsigned long long)v;
    size_t n;
    if (v >= -32768 && v <= 32767) {
        buf[0] = 0xF1;
        n = 2;
    } else if (v >= -8388608 && v <= 8388607) {
        buf[0] = 0xF2;
        n = 3;
    } else if (v >= -2147483648LL && v <= 2147483647LL) {
        buf[0] = 0xF3;
        n = 4;
    } else {
        buf[0] = 0xF4;
        n = 8;
    }
    for (size_t i = 0; i < n; i++)
        buf[1 + i] = (unsigned char)(u >> (8 * i));
    return 1 + n;
}

/* The header of a string encoding of length len; returns its size. */
static size_t encode_str_header(unsigned char *buf, size_t len)
{
    if (len < 64) {
        buf[0] = (unsigned char)(0x80 | len);
        return 1;
    } else if (len < 4096) {
        buf[0] = (unsigned char)((len >> 8) | 0xE0);
        buf[1] = (unsigned char)(len & 0xff);
        return 2;
    }
    buf[0] = 0xF0;
    buf[1] = (unsigned char)(len & 0xff);
    buf[2] = (unsigned char)((len >> 8) & 0xff);
    buf[3] = (unsigned char)((len >> 16) & 0xff);
    buf[4] = (unsigned char)((len >> 24) & 0xff);
    return 5;
}

size_t lp_entry_size_int(long long v)
{
    unsigned char buf[16];
    size_t n = encode_int(buf, v);
    return n + backlen_size(n);
}

size_t lp_entry_size(const void *s, size_t len)
{
    long long v;
    if (lp_string_to_int64(s, len, &v))
        return lp_entry_size_int(v);
    unsigned char buf[8];
    size_t n = encode_str_header(buf, len) + len;
    return n + backlen_size(n);
}

void lpw_init(lp_writer *w, size_t reserve)
{
    w->cap = reserve < 64 ? 64 : reserve;
    w->buf = mem_alloc(w->cap);
    w->len = LP_HDR_SIZE;
    w->count = 0;
}

void lpw_free(lp_writer *w)
{
    mem_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = w->count = 0;
}

void lpw_reset(lp_writer *w)
{
    w->len = LP_HDR_SIZE;
    w->count = 0;
}

static void lpw_room(lp_writer *w, size_t extra)
{
    if (w->len + extra + 1 > w->cap) {
        size_t cap = w->cap * 2;
        if (cap < w->len + extra + 1)
            cap = w->len + extra + 1;
        w->buf = mem_realloc(w->buf, cap);
        w->cap = cap;
    }
}

void lpw_append_int(lp_writer *w, long long v)
{
    unsigned char enc[16];
    size_t n = encode_int(enc, v);
    lpw_room(w, n + 5);
    memcpy(w->buf + w->len, enc, n);
    w->len += n;
    w->len += encode_backlen(w->buf + w->len, n);
    w->count++;
}

void lpw_append(lp_writer *w, const void *s, size_t len)
{
    long long v;
    if (lp_string_to_int64(s, len, &v)) {
        lpw_append_int(w, v);
        return;
    }
    unsigned char hdr[8];
    size_t h = encode_str_header(hdr, len);
    lpw_room(w, h + len + 5);
    memcpy(w->buf + w->len, hdr, h);
    if (len)
        memcpy(w->buf + w->len + h, s, len);
    w->len += h + len;
    w->len += encode_backlen(w->buf + w->len, h + len);
    w->count++;
}

const unsigned char *lpw_finish(lp_writer *w, size_t *size)
{
    lpw_room(w, 0);
    w->buf[w->len] = LP_EOF;
    size_t total = w->len + 1;
    uint32_t t = (uint32_t)total;
    uint16_t c = w->count < LP_HDR_NUMELE_UNKNOWN ? (uint16_t)w->count : LP_HDR_NUMELE_UNKNOWN;
    w->buf[0] = (unsigned char)(t & 0xff);
    w->buf[1] = (unsigned char)((t >> 8) & 0xff);
    w->buf[2] = (unsigned char)((t >> 16) & 0xff);
    w->buf[3] = (unsigned char)((t >> 24) & 0xff);
    w->buf[4] = (unsigned char)(c & 0xff);
    w->buf[5] = (unsigned char)(c >> 8);
    *size = total;
    return w->buf;
}

/* ---- decoding -------------------------------------------------------------------- */

static inline uint32_t rd_u32le(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

int lp_iter_init(lp_iter *it, const unsigned char *lp, size_t size)
{
    if (size < LP_HDR_SIZE + 1 || rd_u32le(lp) != size || lp[size - 1] != LP_EOF)
        return 0;
    it->lp = lp;
    it->p = lp + LP_HDR_SIZE;
    it->end = lp + size - 1;
    it->seen = 0;
    return 1;
}

/* Read the backlen whose last byte is `last` (scanning leftwards, not
 * below `floor`); UINT64_MAX when malformed. */
static uint64_t decode_backlen(const unsigned char *last, const unsigned char *floor)
{
    uint64_t val = 0, shift = 0;
    const unsigned char *p = last;
    for (;;) {
        if (p < floor)
            return UINT64_MAX;
        val |= (uint64_t)(p[0] & 127) << shift;
        if (!(p[0] & 128))
            break;
        shift += 7;
        p--;
        if (shift > 28)
            return UINT64_MAX;
    }
    return val;
}

int lp_iter_next(lp_iter *it, lp_entry *e)
{
    const unsigned char *p = it->p;
    if (p == it->end)
        return 0;
    size_t avail = (size_t)(it->end - p); /* bytes before the terminator */
    unsigned char b = p[0];
    if (b < 0xC0) {
        /* The common shapes, a 7-bit integer or a string of up to 63
         * bytes, have a one-byte back-length equal to the entry's size:
         * the same checks as below, without the general decoding. */
        size_t entrylen = b < 0x80 ? 1 : 1 + (size_t)(b & 0x3f);
        if (entrylen + 1 > avail || p[entrylen] != entrylen)
            return -1;
        if (b < 0x80) {
            e->str = NULL;
            e->len = 0;
            e->ival = b;
        } else {
            e->str = p + 1;
            e->len = entrylen - 1;
        }
        it->p = p + entrylen + 1;
        it->seen++;
        return 1;
    }
    size_t hdr, datalen = 0;
    e->str = NULL;
    e->len = 0;
    if (b < 0x80) {
        e->ival = b;
        hdr = 1;
    } else if ((b & 0xC0) == 0x80) {
        hdr = 1;
        datalen = b & 0x3f;
    } else if ((b & 0xE0) == 0xC0) {
        if (avail < 2)
            return -1;
        unsigned long u = ((unsigned long)(b & 0x1f) << 8) | p[1];
        e->ival = u >= (1u << 12) ? (long long)u - (1 << 13) : (long long)u;
        hdr = 2;
    } else if ((b & 0xF0) == 0xE0) {
        if (avail < 2)
            return -1;
        hdr = 2;
        datalen = ((size_t)(b & 0x0f) << 8) | p[1];
    } else if (b == 0xF0) {
        if (avail < 5)
            return -1;
        hdr = 5;
        datalen = rd_u32le(p + 1);
    } else if (b >= 0xF1 && b <= 0xF4) {
        size_t n = b == 0xF1 ? 2 : b == 0xF2 ? 3 : b == 0xF3 ? 4 : 8;
        if (avail < 1 + n)
            return -1;
        unsigned long long u = 0;
        for (size_t i = 0; i < n; i++)
            u |= (unsigned long long)p[1 + i] << (8 * i);
        if (n < 8) { /* sign-extend */
            unsigned long long sign = 1ULL << (8 * n - 1);
            e->ival = (long long)((u ^ sign) - sign);
        } else {
            e->ival = (long long)u;
        }
        hdr = 1 + n;
    } else {
        return -1; /* 0xF5..0xFE are not encodings; 0xFF can't be here */
    }
    if ((b & 0xC0) == 0x80 || (b & 0xF0) == 0xE0 || b == 0xF0) {
        if (datalen > avail - hdr)
            return -1;
        e->str = p + hdr;
        e->len = datalen;
    }
    size_t entrylen = hdr + datalen;
    size_t bl = backlen_size(entrylen);
    if (entrylen + bl > avail)
        return -1;
    if (decode_backlen(p + entrylen + bl - 1, p + entrylen) != entrylen)
        return -1;
    it->p = p + entrylen + bl;
    it->seen++;
    return 1;
}

int lp_count_matches(const unsigned char *lp, size_t seen)
{
    unsigned hdr_count = (unsigned)lp[4] | ((unsigned)lp[5] << 8);
    return hdr_count == LP_HDR_NUMELE_UNKNOWN || hdr_count == seen;
}

int lp_validate(const unsigned char *lp, size_t size, size_t *count)
{
    lp_iter it;
    lp_entry e;
    int rc;
    if (!lp_iter_init(&it, lp, size))
        return 0;
    while ((rc = lp_iter_next(&it, &e)) == 1) {
    }
    if (rc < 0)
        return 0;
    unsigned hdr_count = (unsigned)lp[4] | ((unsigned)lp[5] << 8);
    if (hdr_count != LP_HDR_NUMELE_UNKNOWN && hdr_count != it.seen)
        return 0;
    if (count)
        *count = it.seen;
    return 1;
}

/* ---- ziplists ------------------------------------------------------------------------ */

#define ZL_HDR_SIZE 10

int zl_validate_foreach(const unsigned char *zl, size_t size, zl_entry_fn *fn, void *priv)
{
    if (size < ZL_HDR_SIZE + 1 || rd_u32le(zl) != size || zl[size - 1] != 0xFF)
        return 0;
    uint32_t tail = rd_u32le(zl + 4);
    unsigned hdr_count = (unsigned)zl[8] | ((unsigned)zl[9] << 8);
    if (tail > size - 1)
        return 0;
    const unsigned char *p = zl + ZL_HDR_SIZE, *end = zl + size - 1, *prev = NULL;
    size_t prevsize = 0, count = 0;
    while (p < end) {
        size_t avail = (size_t)(end - p);
        size_t prevlensize, prevlen;
        if (p[0] < 254) {
            prevlensize = 1;
            prevlen = p[0];
        } else if (p[0] == 254) {
            if (avail < 5)
                return 0;
            prevlensize = 5;
            prevlen = rd_u32le(p + 1);
        } else {
            return 0;
        }
        if (prevlen != prevsize)
            return 0;
        if (avail < prevlensize + 1)
            return 0;
        const unsigned char *q = p + prevlensize;
        avail -= prevlensize;
        unsigned char enc = q[0];
        size_t lensize, datalen = 0;
        lp_entry e = {NULL, 0, 0};
        int is_str = 0;
        if (enc < 0xC0) {
            is_str = 1;
            switch (enc & 0xC0) {
            case 0x00:
                lensize = 1;
                datalen = enc & 0x3f;
                break;
            case 0x40:
                if (avail < 2)
                    return 0;
                lensize = 2;
                datalen = ((size_t)(enc & 0x3f) << 8) | q[1];
                break;
            default: /* 0x80: 32-bit big-endian length */
                if (avail < 5)
                    return 0;
                lensize = 5;
                datalen = ((size_t)q[1] << 24) | ((size_t)q[2] << 16) | ((size_t)q[3] << 8) | q[4];
                break;
            }
        } else {
            lensize = 1;
            switch (enc) {
            case 0xC0: datalen = 2; break;
            case 0xD0: datalen = 4; break;
            case 0xE0: datalen = 8; break;
            case 0xF0: datalen = 3; break;
            case 0xFE: datalen = 1; break;
            default:
                if (enc >= 0xF1 && enc <= 0xFD) {
                    datalen = 0;
                    e.ival = (enc & 0x0f) - 1;
                } else {
                    return 0;
                }
            }
        }
        if (lensize > avail || datalen > avail - lensize)
            return 0;
        const unsigned char *d = q + lensize;
        if (is_str) {
            e.str = d;
            e.len = datalen;
        } else if (enc == 0xC0) {
            e.ival = (int16_t)((uint16_t)d[0] | ((uint16_t)d[1] << 8));
        } else if (enc == 0xD0) {
            e.ival = (int32_t)rd_u32le(d);
        } else if (enc == 0xE0) {
            uint64_t u = (uint64_t)rd_u32le(d) | ((uint64_t)rd_u32le(d + 4) << 32);
            e.ival = (long long)u;
        } else if (enc == 0xF0) {
            uint32_t u = ((uint32_t)d[0] << 8) | ((uint32_t)d[1] << 16) | ((uint32_t)d[2] << 24);
            e.ival = (int32_t)u >> 8;
        } else if (enc == 0xFE) {
            e.ival = (int8_t)d[0];
        }
        if (fn && !fn(priv, &e))
            return 0;
        prevsize = prevlensize + lensize + datalen;
        prev = p;
        p += prevsize;
        count++;
    }
    if (p != end)
        return 0;
    /* zltail must point at the last entry */
    if (prev && prev != zl + tail)
        return 0;
    if (hdr_count != 65535 && hdr_count != count)
        return 0;
    return 1;
}
