/* digest.c - see digest.h.  SHA1 here follows FIPS 180-1 directly (the
 * same function as Redis's sha1.c; only the digest bytes matter). */
#include "digest.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "introspection.h"
#include "qlog.h"
#include "server.h"
#include "stream.h"
#include "util.h"

/* ---- SHA1 ----------------------------------------------------------------- */

struct sha1_ctx {
    uint32_t h[5];
    uint64_t bytes;
    unsigned char block[64];
    size_t fill;
};

static inline uint32_t rol(uint32_t v, int n) { return (v << n) | (v >> (32 - n)); }

static void sha1_block(uint32_t h[5], const unsigned char *p)
{
    uint32_t w[80];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
    for (int i = 16; i < 80; i++)
        w[i] = rol(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    for (int i = 0; i < 80; i++) {
        uint32_t f, k;
        if (i < 20) {
            f = (b & c) | (~b & d);
            k = 0x5A827999;
        } else if (i < 40) {
            f = b ^ c ^ d;
            k = 0x6ED9EBA1;
        } else if (i < 60) {
            f = (b & c) | (b & d) | (c & d);
            k = 0x8F1BBCDC;
        } else {
            f = b ^ c ^ d;
            k = 0xCA62C1D6;
        }
        uint32_t t = rol(a, 5) + f + e + k + w[i];
        e = d;
        d = c;
        c = rol(b, 30);
        b = a;
        a = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

static void sha1_init(struct sha1_ctx *c)
{
    static const uint32_t init[5] = {0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0};
    memcpy(c->h, init, sizeof(init));
    c->bytes = 0;
    c->fill = 0;
}

static void sha1_update(struct sha1_ctx *c, const void *data, size_t len)
{
    const unsigned char *p = data;
    c->bytes += len;
    while (len) {
        size_t n = 64 - c->fill < len ? 64 - c->fill : len;
        memcpy(c->block + c->fill, p, n);
        c->fill += n;
        p += n;
        len -= n;
        if (c->fill == 64) {
            sha1_block(c->h, c->block);
            c->fill = 0;
        }
    }
}

static void sha1_final(struct sha1_ctx *c, unsigned char out[20])
{
    uint64_t bits = c->bytes * 8;
    unsigned char pad = 0x80;
    sha1_update(c, &pad, 1);
    pad = 0;
    while (c->fill != 56)
        sha1_update(c, &pad, 1);
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(bits >> (56 - 8 * i));
    sha1_update(c, len, 8);
    for (int i = 0; i < 5; i++) {
        out[4 * i] = (unsigned char)(c->h[i] >> 24);
        out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
        out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
        out[4 * i + 3] = (unsigned char)c->h[i];
    }
}

void sha1(unsigned char out[20], const void *data, size_t len)
{
    struct sha1_ctx c;
    sha1_init(&c);
    sha1_update(&c, data, len);
    sha1_final(&c, out);
}

/* ---- Redis's digest ------------------------------------------------------- */

void digest_xor(unsigned char digest[20], const void *p, size_t len)
{
    unsigned char hash[20];
    sha1(hash, p, len);
    for (int j = 0; j < 20; j++)
        digest[j] ^= hash[j];
}

void digest_mix(unsigned char digest[20], const void *p, size_t len)
{
    digest_xor(digest, p, len);
    unsigned char copy[20];
    memcpy(copy, digest, 20);
    sha1(digest, copy, 20);
}

static digest_value_fn *type_fns[16];

void digest_register_type(int value_type, digest_value_fn *fn)
{
    if (value_type >= 0 && value_type < 16)
        type_fns[value_type] = fn;
}

static void list_digest(unsigned char digest[20], const struct value *v)
{
    qlog_iter it;
    qlog_value e;
    char buf[QLOG_INT_BUFSIZE];
    qlog_iter_init(&it, v->u.ptr, 0, QLOG_FORWARD);
    while (qlog_iter_next(&it, &e)) {
        size_t len;
        const char *p = qlog_value_bytes(&e, buf, &len);
        digest_mix(digest, p, len);
    }
}

/* Redis 7.0: each entry's "<ms>.<seq>", then its fields and values
 * (groups are not part of the digest). */
static void stream_digest(unsigned char digest[20], const struct value *v)
{
    stream_iter si;
    streamID id;
    uint64_t nf;
    stream_iter_start(&si, stream_of(v), NULL, NULL, 0);
    while (stream_iter_next(&si, &id, &nf)) {
        char buf[48];
        int n = snprintf(buf, sizeof(buf), "%llu.%llu", (unsigned long long)id.ms, (unsigned long long)id.seq);
        digest_mix(digest, buf, (size_t)n);
        while (nf--) {
            const char *f, *val;
            size_t flen, vlen;
            stream_iter_field(&si, &f, &flen, &val, &vlen);
            digest_mix(digest, f, flen);
            digest_mix(digest, val, vlen);
        }
    }
}

/* Redis's xorObjectDigest. */
static void object_digest(struct db *db, const char *key, size_t klen, unsigned char digest[20],
                          const struct value *v)
{
    uint32_t aux = htonl(v->type);
    digest_mix(digest, &aux, sizeof(aux));
    if (v->type == OBJ_STRING) {
        char buf[32];
        size_t len;
        const char *p = value_string_bytes(v, buf, &len);
        digest_mix(digest, p, len);
    } else if (v->type == OBJ_LIST) {
        list_digest(digest, v);
    } else if (v->type == OBJ_STREAM) {
        stream_digest(digest, v);
    } else if (type_fns[v->type]) {
        type_fns[v->type](digest, v);
    }
    if (db_get_expire(db, key, klen) != -1)
        digest_xor(digest, "!!expire!!", 10);
}

struct ds_ctx {
    struct db *db;
    unsigned char *final;
};

static void key_digest(void *priv, const char *key, size_t len, struct value *v)
{
    struct ds_ctx *x = priv;
    unsigned char digest[20] = {0};
    digest_mix(digest, key, len);
    object_digest(x->db, key, len, digest, v);
    /* as Redis: the key's digest enters the total through xorDigest,
     * i.e. hashed once more */
    digest_xor(x->final, digest, 20);
}

void debug_digest(unsigned char out[20])
{
    memset(out, 0, 20);
    for (int j = 0; j < srv.dbnum; j++) {
        struct db *db = srv.dbs[j];
        if (db_size(db) == 0)
            continue;
        uint32_t aux = htonl((uint32_t)j);
        digest_mix(out, &aux, sizeof(aux));
        struct ds_ctx x = {db, out};
        db_foreach(db, key_digest, &x);
    }
}

static void hex(char out[41], const unsigned char d[20])
{
    for (int i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void debug_digest_command(struct client *c)
{
    unsigned char d[20];
    char h[41];
    debug_digest(d);
    hex(h, d);
    reply_status(c, h);
}

static void debug_digest_value_command(struct client *c)
{
    reply_array_len(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        unsigned char d[20] = {0};
        char h[41];
        struct value *v = db_peek(c->db, c->argv[j].ptr, c->argv[j].len);
        if (v)
            object_digest(c->db, c->argv[j].ptr, c->argv[j].len, d, v);
        hex(h, d);
        reply_status(c, h);
    }
}

void digest_register_debug(void)
{
    static const char *const help_digest[] = {
        "DIGEST",
        "    Output a hex signature representing the current DB content.",
        NULL,
    };
    static const char *const help_value[] = {
        "DIGEST-VALUE <key> [<key> ...]",
        "    Output a hex signature of the values of all the specified keys.",
        NULL,
    };
    debug_register_subcommand("digest", 2, 2, debug_digest_command, help_digest);
    debug_register_subcommand("digest-value", 2, -1, debug_digest_value_command, help_value);
}
