/* rdb_codec.c - encoding and decoding of RDB primitives (lengths, strings
 * with their integer and LZF encodings, times), of string and list values,
 * and of DUMP payloads; formats in rdb_format.h.
 *
 * Lists.  Sluice keeps a list in a qlog, whose segments are its own
 * format, so saving re-packs the elements into listpack nodes the way
 * Redis 7.0's quicklist would cut them (list-max-listpack-size: negative =
 * a byte budget of 4..64 KiB per node, positive = an element count with an
 * 8 KiB safety cap), an element of 1 GiB or more going alone in a PLAIN
 * node.  The node count comes first in the format, so the list is walked
 * twice: once to count nodes, once to write them.  Loading accepts every
 * list encoding Redis 7.0 loads and pushes the elements into a new qlog.
 *
 * Decoding never trusts a length: a string longer than what is left of a
 * file or payload is a truncation (reported without allocating), LZF data
 * must decompress to exactly the announced size, and listpacks/ziplists
 * are validated entry by entry before use.
 */
#include "rdb_format.h"

#include <lzf.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "crc64.h"
#include "listpack.h"
#include "mem.h"
#include "qlog.h"

/* rdb_stream.c */
int rdb_save_stream(rio *r, const struct value *v, const struct rdb_save_opts *o);
struct value *rdb_load_stream(struct rdb_loader *l, int type);

/* ---- names -------------------------------------------------------------------- */

const char *rdb_type_name(int type)
{
    switch (type) {
    case RDB_TYPE_STRING: return "string";
    case RDB_TYPE_LIST: return "list-linked";
    case RDB_TYPE_SET: return "set-hashtable";
    case RDB_TYPE_ZSET: return "zset-v1";
    case RDB_TYPE_HASH: return "hash-hashtable";
    case RDB_TYPE_ZSET_2: return "zset-v2";
    case RDB_TYPE_MODULE: return "module-pre-release";
    case RDB_TYPE_MODULE_2: return "module-value";
    case RDB_TYPE_HASH_ZIPMAP: return "hash-zipmap";
    case RDB_TYPE_LIST_ZIPLIST: return "list-ziplist";
    case RDB_TYPE_SET_INTSET: return "set-intset";
    case RDB_TYPE_ZSET_ZIPLIST: return "zset-ziplist";
    case RDB_TYPE_HASH_ZIPLIST: return "hash-ziplist";
    case RDB_TYPE_LIST_QUICKLIST: return "quicklist";
    case RDB_TYPE_STREAM_LISTPACKS: return "stream";
    case RDB_TYPE_HASH_LISTPACK: return "hash-listpack";
    case RDB_TYPE_ZSET_LISTPACK: return "zset-listpack";
    case RDB_TYPE_LIST_QUICKLIST_2: return "quicklist-v2";
    case RDB_TYPE_STREAM_LISTPACKS_2: return "stream-v2";
    default: return "unknown";
    }
}

const char *rdb_type_family(int type)
{
    switch (type) {
    case RDB_TYPE_STRING: return "string";
    case RDB_TYPE_LIST:
    case RDB_TYPE_LIST_ZIPLIST:
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2: return "list";
    case RDB_TYPE_SET:
    case RDB_TYPE_SET_INTSET: return "set";
    case RDB_TYPE_ZSET:
    case RDB_TYPE_ZSET_2:
    case RDB_TYPE_ZSET_ZIPLIST:
    case RDB_TYPE_ZSET_LISTPACK: return "zset";
    case RDB_TYPE_HASH:
    case RDB_TYPE_HASH_ZIPMAP:
    case RDB_TYPE_HASH_ZIPLIST:
    case RDB_TYPE_HASH_LISTPACK: return "hash";
    case RDB_TYPE_MODULE:
    case RDB_TYPE_MODULE_2: return "module";
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2: return "stream";
    default: return "unknown";
    }
}

/* ---- writing primitives --------------------------------------------------------- */

static int wr(rio *r, const void *p, size_t len) { return rio_write(r, p, len) ? 0 : -1; }

int rdb_save_type(rio *r, int type)
{
    unsigned char b = (unsigned char)type;
    return wr(r, &b, 1);
}

int rdb_save_len(rio *r, uint64_t len)
{
    unsigned char buf[9];
    if (len < (1 << 6)) {
        buf[0] = (unsigned char)((len & 0xFF) | (RDB_6BITLEN << 6));
        return wr(r, buf, 1);
    } else if (len < (1 << 14)) {
        buf[0] = (unsigned char)(((len >> 8) & 0xFF) | (RDB_14BITLEN << 6));
        buf[1] = (unsigned char)(len & 0xFF);
        return wr(r, buf, 2);
    } else if (len <= UINT32_MAX) {
        buf[0] = RDB_32BITLEN;
        for (int i = 0; i < 4; i++)
            buf[1 + i] = (unsigned char)(len >> (24 - 8 * i));
        return wr(r, buf, 5);
    }
    buf[0] = RDB_64BITLEN;
    for (int i = 0; i < 8; i++)
        buf[1 + i] = (unsigned char)(len >> (56 - 8 * i));
    return wr(r, buf, 9);
}

int rdb_save_ms_time(rio *r, long long ms)
{
    unsigned char buf[8];
    unsigned long long u = (unsigned long long)ms;
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)(u >> (8 * i));
    return wr(r, buf, 8);
}

/* Redis's rdbEncodeInteger: the 8/16/32-bit encodings; 0 when v needs more. */
static size_t encode_integer(long long v, unsigned char *enc)
{
    if (v >= -(1 << 7) && v <= (1 << 7) - 1) {
        enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT8;
        enc[1] = (unsigned char)(v & 0xFF);
        return 2;
    } else if (v >= -(1 << 15) && v <= (1 << 15) - 1) {
        enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
        enc[1] = (unsigned char)(v & 0xFF);
        enc[2] = (unsigned char)((v >> 8) & 0xFF);
        return 3;
    } else if (v >= -((long long)1 << 31) && v <= ((long long)1 << 31) - 1) {
        enc[0] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
        enc[1] = (unsigned char)(v & 0xFF);
        enc[2] = (unsigned char)((v >> 8) & 0xFF);
        enc[3] = (unsigned char)((v >> 16) & 0xFF);
        enc[4] = (unsigned char)((v >> 24) & 0xFF);
        return 5;
    }
    return 0;
}

/* LZF as Redis's rdbSaveLzfStringObject: 1 written, 0 not worth it, -1 error. */
static int save_lzf(rio *r, const void *s, size_t len)
{
    if (len <= 4 || len > UINT32_MAX)
        return 0;
    size_t outlen = len - 4;
    unsigned char *out = mem_alloc(outlen + 1);
    unsigned int comprlen = lzf_compress(s, (unsigned int)len, out, (unsigned int)outlen);
    if (comprlen == 0) {
        mem_free(out);
        return 0;
    }
    int rc = rdb_save_type(r, (RDB_ENCVAL << 6) | RDB_ENC_LZF) == 0 && rdb_save_len(r, comprlen) == 0 &&
                     rdb_save_len(r, len) == 0 && wr(r, out, comprlen) == 0
                 ? 1
                 : -1;
    mem_free(out);
    return rc;
}

int rdb_save_raw_string(rio *r, const void *s, size_t len, int compress)
{
    if (len <= 11) {
        long long v;
        unsigned char enc[5];
        size_t n;
        if (lp_string_to_int64(s, len, &v) && (n = encode_integer(v, enc)) > 0)
            return wr(r, enc, n);
    }
    /* under 20 bytes LZF can't even compress "aaaaaaaaaaaaaaaaaa" */
    if (compress && len > 20) {
        int rc = save_lzf(r, s, len);
        if (rc != 0)
            return rc < 0 ? -1 : 0;
    }
    if (rdb_save_len(r, len) != 0)
        return -1;
    return len ? wr(r, s, len) : 0;
}

int rdb_save_ll_string(rio *r, long long v)
{
    unsigned char enc[32];
    size_t n = encode_integer(v, enc);
    if (n)
        return wr(r, enc, n);
    int len = snprintf((char *)enc, sizeof(enc), "%lld", v);
    if (rdb_save_len(r, (uint64_t)len) != 0)
        return -1;
    return wr(r, enc, (size_t)len);
}

int rdb_save_aux(rio *r, const char *key, const char *val, size_t vallen)
{
    if (rdb_save_type(r, RDB_OPCODE_AUX) != 0 || rdb_save_raw_string(r, key, strlen(key), 0) != 0)
        return -1;
    /* aux values go through the same string writer as Redis's (with its
     * integer encoding); Redis compresses them too when enabled, but they
     * are all short */
    return rdb_save_raw_string(r, val, vallen, 0);
}

int rdb_save_aux_ll(rio *r, const char *key, long long v)
{
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%lld", v);
    return rdb_save_aux(r, key, buf, (size_t)n);
}

/* ---- values: writing ---------------------------------------------------------------- */

int rdb_value_type(const struct value *v)
{
    switch (v->type) {
    case OBJ_STRING: return RDB_TYPE_STRING;
    case OBJ_LIST: return RDB_TYPE_LIST_QUICKLIST_2;
    case OBJ_STREAM: return RDB_TYPE_STREAM_LISTPACKS_2;
    default: return -1;
    }
}

static int save_string_value(rio *r, const struct value *v, int compress)
{
    if (v->enc == ENC_INT)
        return rdb_save_ll_string(r, v->u.ival);
    return rdb_save_raw_string(r, v->u.str, sstr_len(v->u.str), compress);
}

/* Redis 7.0's quicklist node size rule (_quicklistNodeAllowInsert with
 * exact listpack sizes): may an entry of entry_size bytes join a node that
 * is node_bytes big with node_count entries? */
static const size_t optimization_level[] = {4096, 8192, 16384, 32768, 65536};
#define SIZE_SAFETY_LIMIT 8192

static int node_allows(size_t node_bytes, size_t node_count, size_t entry_size, int fill)
{
    size_t new_sz = node_bytes + entry_size;
    if (fill < 0) {
        size_t offset = (size_t)(-fill) - 1;
        if (offset < sizeof(optimization_level) / sizeof(*optimization_level))
            return new_sz <= optimization_level[offset];
        return new_sz <= SIZE_SAFETY_LIMIT;
    }
    if (new_sz > SIZE_SAFETY_LIMIT)
        return 0;
    return (long long)node_count < fill;
}

static size_t elem_size(const qlog_value *e, size_t *raw_len)
{
    if (e->is_int) {
        char buf[QLOG_INT_BUFSIZE];
        *raw_len = (size_t)snprintf(buf, sizeof(buf), "%lld", e->ival);
        return lp_entry_size_int(e->ival);
    }
    *raw_len = e->len;
    return lp_entry_size(e->str, e->len);
}

/* Walk the list deciding node boundaries; with w == NULL only counts the
 * nodes, else writes each node as it is completed. */
static int pack_list(rio *r, qlog *log, int fill, int compress, lp_writer *w, uint64_t *nodes)
{
    qlog_iter it;
    qlog_value e;
    size_t bytes = LP_HDR_SIZE + 1, count = 0;
    uint64_t n = 0;
    qlog_iter_init(&it, log, 0, QLOG_FORWARD);
    while (qlog_iter_next(&it, &e)) {
        size_t raw;
        size_t sz = elem_size(&e, &raw);
        if (raw >= RDB_QUICKLIST_PLAIN_THRESHOLD) {
            /* a node of its own holding the bare element */
            if (count) {
                n++;
                if (w) {
                    size_t lpsz;
                    const unsigned char *lp = lpw_finish(w, &lpsz);
                    if (rdb_save_len(r, RDB_QUICKLIST_PACKED) || rdb_save_raw_string(r, lp, lpsz, compress))
                        return -1;
                    lpw_reset(w);
                }
            }
            n++;
            if (w) {
                char buf[QLOG_INT_BUFSIZE];
                size_t len;
                const char *p = qlog_value_bytes(&e, buf, &len);
                if (rdb_save_len(r, RDB_QUICKLIST_PLAIN) || rdb_save_raw_string(r, p, len, compress))
                    return -1;
            }
            bytes = LP_HDR_SIZE + 1;
            count = 0;
            continue;
        }
        if (count && !node_allows(bytes, count, sz, fill)) {
            n++;
            if (w) {
                size_t lpsz;
                const unsigned char *lp = lpw_finish(w, &lpsz);
                if (rdb_save_len(r, RDB_QUICKLIST_PACKED) || rdb_save_raw_string(r, lp, lpsz, compress))
                    return -1;
                lpw_reset(w);
            }
            bytes = LP_HDR_SIZE + 1;
            count = 0;
        }
        if (w) {
            if (e.is_int)
                lpw_append_int(w, e.ival);
            else
                lpw_append(w, e.str, e.len);
        }
        bytes += sz;
        count++;
    }
    if (count) {
        n++;
        if (w) {
            size_t lpsz;
            const unsigned char *lp = lpw_finish(w, &lpsz);
            if (rdb_save_len(r, RDB_QUICKLIST_PACKED) || rdb_save_raw_string(r, lp, lpsz, compress))
                return -1;
        }
    }
    *nodes = n;
    return 0;
}

static int save_list_value(rio *r, const struct value *v, const struct rdb_save_opts *o)
{
    qlog *log = v->u.ptr;
    uint64_t nodes = 0, written = 0;
    int fill = o->list_fill ? o->list_fill : QLOG_FILL_DEFAULT;
    pack_list(NULL, log, fill, 0, NULL, &nodes);
    if (rdb_save_len(r, nodes) != 0)
        return -1;
    lp_writer w;
    lpw_init(&w, 8192);
    int rc = pack_list(r, log, fill, o->compress, &w, &written);
    lpw_free(&w);
    return rc;
}

int rdb_save_value(rio *r, const struct value *v, const struct rdb_save_opts *o)
{
    switch (v->type) {
    case OBJ_STRING: return save_string_value(r, v, o->compress);
    case OBJ_LIST: return save_list_value(r, v, o);
    case OBJ_STREAM: return rdb_save_stream(r, v, o);
    default: return -1;
    }
}

/* ---- reading primitives --------------------------------------------------------------- */

void rdb_loader_init(struct rdb_loader *l, rio *r, const struct rdb_load_opts *o)
{
    memset(l, 0, sizeof(*l));
    l->r = r;
    l->o = o;
    l->rdbver = RDB_VERSION;
}

void rdb_loader_free(struct rdb_loader *l)
{
    if (l->err)
        sstr_free(l->err);
    l->err = NULL;
}

int rdb_fail(struct rdb_loader *l, const char *fmt, ...)
{
    if (l->err)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    l->err = sstr_catvfmt(sstr_empty(128), fmt, ap);
    va_end(ap);
    return -1;
}

int rdb_fail_io(struct rdb_loader *l, const char *what)
{
    if (l->r->flags & RIO_EOF)
        return rdb_fail(l, "Unexpected EOF reading %s", what);
    return rdb_fail(l, "Read error reading %s: %s", what, rio_error_string(l->r));
}

static int rd(struct rdb_loader *l, void *p, size_t len, const char *what)
{
    if (rio_read(l->r, p, len))
        return 0;
    return rdb_fail_io(l, what);
}

int rdb_load_type(struct rdb_loader *l, int *type)
{
    unsigned char b;
    if (rd(l, &b, 1, "a type byte") != 0)
        return -1;
    *type = b;
    return 0;
}

int rdb_load_len(struct rdb_loader *l, uint64_t *len, int *isencoded)
{
    unsigned char buf[8];
    if (isencoded)
        *isencoded = 0;
    if (rd(l, buf, 1, "a length") != 0)
        return -1;
    int type = (buf[0] & 0xC0) >> 6;
    if (type == RDB_ENCVAL) {
        if (!isencoded)
            return rdb_fail(l, "Unexpected string encoding 0x%02x where a length was expected", buf[0]);
        *isencoded = 1;
        *len = buf[0] & 0x3F;
    } else if (type == RDB_6BITLEN) {
        *len = buf[0] & 0x3F;
    } else if (type == RDB_14BITLEN) {
        unsigned char b0 = buf[0];
        if (rd(l, buf, 1, "a length") != 0)
            return -1;
        *len = ((uint64_t)(b0 & 0x3F) << 8) | buf[0];
    } else if (buf[0] == RDB_32BITLEN) {
        if (rd(l, buf, 4, "a length") != 0)
            return -1;
        *len = ((uint64_t)buf[0] << 24) | ((uint64_t)buf[1] << 16) | ((uint64_t)buf[2] << 8) | buf[3];
    } else if (buf[0] == RDB_64BITLEN) {
        if (rd(l, buf, 8, "a length") != 0)
            return -1;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
            v = (v << 8) | buf[i];
        *len = v;
    } else {
        return rdb_fail(l, "Unknown length encoding 0x%02x", buf[0]);
    }
    return 0;
}

int rdb_load_plain_len(struct rdb_loader *l, uint64_t *len, const char *what)
{
    if (rdb_load_len(l, len, NULL) != 0) {
        if (l->err && strncmp(l->err, "Unexpected EOF", 14) == 0) {
            sstr_free(l->err);
            l->err = NULL;
            return rdb_fail_io(l, what);
        }
        return -1;
    }
    return 0;
}

int rdb_load_ms_time(struct rdb_loader *l, long long *ms)
{
    unsigned char buf[8];
    if (rd(l, buf, 8, "a millisecond time") != 0)
        return -1;
    unsigned long long u = 0;
    for (int i = 7; i >= 0; i--)
        u = (u << 8) | buf[i];
    *ms = (long long)u;
    return 0;
}

/* A length that must fit in what is left to read (when that is known). */
static int check_fits(struct rdb_loader *l, uint64_t len, const char *what)
{
    long long left = rio_remaining(l->r);
    if (left >= 0 && len > (uint64_t)left)
        return rdb_fail(l, "Unexpected EOF reading %s: %llu bytes announced, %lld left", what,
                        (unsigned long long)len, left);
    if (len > SIZE_MAX / 2)
        return rdb_fail(l, "Length of %s is too large (%llu)", what, (unsigned long long)len);
    return 0;
}

sstr rdb_load_string(struct rdb_loader *l, const char *what)
{
    uint64_t len;
    int enc;
    if (rdb_load_len(l, &len, &enc) != 0)
        return NULL;
    if (enc) {
        unsigned char b[4];
        long long v;
        switch (len) {
        case RDB_ENC_INT8:
            if (rd(l, b, 1, what) != 0)
                return NULL;
            v = (signed char)b[0];
            break;
        case RDB_ENC_INT16:
            if (rd(l, b, 2, what) != 0)
                return NULL;
            v = (int16_t)((uint16_t)b[0] | ((uint16_t)b[1] << 8));
            break;
        case RDB_ENC_INT32:
            if (rd(l, b, 4, what) != 0)
                return NULL;
            v = (int32_t)((uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24));
            break;
        case RDB_ENC_LZF: {
            uint64_t clen, ulen;
            if (rdb_load_plain_len(l, &clen, what) != 0 || rdb_load_plain_len(l, &ulen, what) != 0)
                return NULL;
            if (check_fits(l, clen, what) != 0)
                return NULL;
            /* LZF expands at most 264 bytes out of a 3-byte back reference */
            if (ulen > clen * 88 + 8 || ulen > UINT32_MAX || clen > UINT32_MAX) {
                rdb_fail(l, "Invalid LZF compressed string (%llu bytes from %llu)", (unsigned long long)ulen,
                         (unsigned long long)clen);
                return NULL;
            }
            unsigned char *c = mem_alloc(clen ? clen : 1);
            if (rd(l, c, clen, what) != 0) {
                mem_free(c);
                return NULL;
            }
            sstr s = sstr_empty(ulen);
            unsigned int got = ulen ? lzf_decompress(c, (unsigned int)clen, s, (unsigned int)ulen) : 0;
            mem_free(c);
            if (got != ulen) {
                sstr_free(s);
                rdb_fail(l, "Invalid LZF compressed string");
                return NULL;
            }
            sstr_setlen(s, ulen);
            return s;
        }
        default:
            rdb_fail(l, "Unknown RDB string encoding type %llu", (unsigned long long)len);
            return NULL;
        }
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%lld", v);
        return sstr_new(buf, (size_t)n);
    }
    if (check_fits(l, len, what) != 0)
        return NULL;
    sstr s = sstr_empty(len);
    if (len && rd(l, s, len, what) != 0) {
        sstr_free(s);
        return NULL;
    }
    sstr_setlen(s, len);
    return s;
}

/* ---- values: reading ---------------------------------------------------------------- */

static struct value *load_string_value(struct rdb_loader *l)
{
    sstr s = rdb_load_string(l, "a string value");
    if (!s)
        return NULL;
    size_t len = sstr_len(s);
    if (len <= EMBSTR_SIZE_LIMIT) {
        /* int or embstr, as Redis's tryObjectEncoding */
        struct value *v = value_string_new(s, len);
        sstr_free(s);
        return v;
    }
    return value_new(OBJ_STRING, ENC_RAW, s);
}

static qlog *new_list(struct rdb_loader *l) { return qlog_create(l->o->list_fill ? l->o->list_fill : QLOG_FILL_DEFAULT); }

static inline void entry_value(qlog_value *v, const lp_entry *e)
{
    v->str = (const char *)e->str;
    v->len = e->len;
    v->ival = e->ival;
    v->is_int = e->str == NULL;
    v->heap = NULL;
}

static void push_entry(qlog *log, const lp_entry *e)
{
    qlog_value v;
    entry_value(&v, e);
    qlog_push_tail_many(log, &v, 1);
}

/* Appends a quicklist node's listpack to the list, checking every entry as
 * it goes (one pass: a bad entry drops the whole list, so there is no
 * separate validation walk).  The common entry shapes are transcoded by
 * the log in bulk; listpack.c decodes and checks the others.  more: bytes
 * expected after this node, for sizing.  0, or -1 when corrupt. */
static int push_listpack(qlog *log, const unsigned char *lp, size_t len, size_t more)
{
    lp_iter it;
    lp_entry e;
    int rc;
    if (!lp_iter_init(&it, lp, len))
        return -1;
    for (;;) {
        size_t n, used = qlog_push_tail_listpack(log, it.p, (size_t)(it.end - it.p), more, &n);
        lp_iter_advance(&it, used, n);
        if ((rc = lp_iter_next(&it, &e)) != 1)
            break;
        push_entry(log, &e);
    }
    return rc == 0 && lp_count_matches(lp, it.seen) ? 0 : -1;
}

static int zl_push_cb(void *priv, const lp_entry *e)
{
    push_entry(priv, e);
    return 1;
}

/* RDB_TYPE_LIST: <len> { <string> } */
static struct value *load_linked_list(struct rdb_loader *l)
{
    uint64_t len;
    if (rdb_load_plain_len(l, &len, "a list length") != 0)
        return NULL;
    if (len == 0) {
        l->empty = 1;
        return NULL;
    }
    qlog *log = new_list(l);
    while (len--) {
        sstr s = rdb_load_string(l, "a list element");
        if (!s) {
            qlog_free(log);
            return NULL;
        }
        qlog_push_tail(log, s, sstr_len(s));
        sstr_free(s);
    }
    return value_new(OBJ_LIST, ENC_QUICKLIST, log);
}

/* RDB_TYPE_LIST_ZIPLIST: one ziplist blob. */
static struct value *load_ziplist_list(struct rdb_loader *l)
{
    sstr blob = rdb_load_string(l, "a list ziplist");
    if (!blob)
        return NULL;
    qlog *log = new_list(l);
    int ok = zl_validate_foreach((const unsigned char *)blob, sstr_len(blob), zl_push_cb, log);
    sstr_free(blob);
    if (!ok) {
        qlog_free(log);
        rdb_fail(l, "List ziplist integrity check failed");
        return NULL;
    }
    if (qlog_length(log) == 0) {
        qlog_free(log);
        l->empty = 1;
        return NULL;
    }
    return value_new(OBJ_LIST, ENC_QUICKLIST, log);
}

/* RDB_TYPE_LIST_QUICKLIST (ziplist nodes) and _2 (containers + listpacks). */
static struct value *load_quicklist(struct rdb_loader *l, int type)
{
    uint64_t nodes;
    if (rdb_load_plain_len(l, &nodes, "a quicklist node count") != 0)
        return NULL;
    if (nodes == 0) {
        l->empty = 1;
        return NULL;
    }
    qlog *log = new_list(l);
    while (nodes--) {
        uint64_t container = RDB_QUICKLIST_PACKED;
        if (type == RDB_TYPE_LIST_QUICKLIST_2) {
            if (rdb_load_plain_len(l, &container, "a quicklist node container") != 0)
                goto err;
            if (container != RDB_QUICKLIST_PACKED && container != RDB_QUICKLIST_PLAIN) {
                rdb_fail(l, "Quicklist integrity check failed: node container %llu", (unsigned long long)container);
                goto err;
            }
        }
        sstr blob = rdb_load_string(l, "a quicklist node");
        if (!blob)
            goto err;
        size_t len = sstr_len(blob);
        if (len == 0) {
            sstr_free(blob);
            rdb_fail(l, "Quicklist integrity check failed: empty node");
            goto err;
        }
        if (container == RDB_QUICKLIST_PLAIN) {
            qlog_push_tail(log, blob, len);
            sstr_free(blob);
            continue;
        }
        if (type == RDB_TYPE_LIST_QUICKLIST_2) {
            int rc = push_listpack(log, (const unsigned char *)blob, len, len * nodes);
            sstr_free(blob);
            if (rc != 0) {
                rdb_fail(l, "Listpack integrity check failed");
                goto err;
            }
        } else {
            /* on failure the whole list is dropped: no need to validate first */
            int ok = zl_validate_foreach((const unsigned char *)blob, len, zl_push_cb, log);
            sstr_free(blob);
            if (!ok) {
                rdb_fail(l, "Ziplist integrity check failed");
                goto err;
            }
        }
    }
    if (qlog_length(log) == 0) {
        /* Redis skips empty nodes and then the empty key */
        qlog_free(log);
        l->empty = 1;
        return NULL;
    }
    return value_new(OBJ_LIST, ENC_QUICKLIST, log);
err:
    qlog_free(log);
    return NULL;
}

struct value *rdb_load_value(struct rdb_loader *l, int type)
{
    l->empty = 0;
    switch (type) {
    case RDB_TYPE_STRING: return load_string_value(l);
    case RDB_TYPE_LIST: return load_linked_list(l);
    case RDB_TYPE_LIST_ZIPLIST: return load_ziplist_list(l);
    case RDB_TYPE_LIST_QUICKLIST:
    case RDB_TYPE_LIST_QUICKLIST_2: return load_quicklist(l, type);
    case RDB_TYPE_STREAM_LISTPACKS:
    case RDB_TYPE_STREAM_LISTPACKS_2: return rdb_load_stream(l, type);
    default:
        if (strcmp(rdb_type_family(type), "unknown") != 0)
            rdb_fail(l, "RDB type '%s' (type %d) is not supported", rdb_type_family(type), type);
        else
            rdb_fail(l, "Unknown RDB value type %d", type);
        return NULL;
    }
}

/* ---- DUMP payloads ------------------------------------------------------------------- */

sstr rdb_dump_payload(const struct value *v, const struct rdb_save_opts *o)
{
    rio r;
    rio_init_buffer(&r);
    if (rdb_save_type(&r, rdb_value_type(v)) != 0 || rdb_save_value(&r, v, o) != 0) {
        rio_release(&r);
        return NULL;
    }
    /* A stream's idempotency state rides after the value as an extension
     * (see rdb_stream.c): the tag RDB_AUX_IDMP, then the blob.  Redis 7.0's
     * RESTORE reads the value and ignores what follows it, so it accepts
     * the payload (without the state); a stream without the state gets no
     * extension and stays byte-identical to Redis 7.0's DUMP. */
    sstr idmp = v->type == OBJ_STREAM ? rdb_stream_idmp_blob(0, "", 0, v) : NULL;
    if (idmp) {
        int rc = rdb_save_raw_string(&r, RDB_AUX_IDMP, strlen(RDB_AUX_IDMP), 0) ||
                 rdb_save_raw_string(&r, idmp, sstr_len(idmp), 0);
        sstr_free(idmp);
        if (rc) {
            rio_release(&r);
            return NULL;
        }
    }
    unsigned char footer[10];
    footer[0] = RDB_VERSION & 0xff;
    footer[1] = (RDB_VERSION >> 8) & 0xff;
    rio_write(&r, footer, 2);
    uint64_t crc = crc64(0, rio_buffer_data(&r), rio_buffer_len(&r));
    for (int i = 0; i < 8; i++)
        footer[2 + i] = (unsigned char)(crc >> (8 * i));
    rio_write(&r, footer + 2, 8);
    sstr s = rio_buffer_take(&r);
    rio_release(&r);
    return s;
}

int rdb_verify_payload(const void *p, size_t len)
{
    const unsigned char *b = p;
    if (len < 10)
        return -1;
    const unsigned char *footer = b + len - 10;
    unsigned ver = (unsigned)footer[0] | ((unsigned)footer[1] << 8);
    if (ver > RDB_VERSION)
        return -1;
    uint64_t crc = crc64(0, b, len - 8), stored = 0;
    for (int i = 7; i >= 0; i--)
        stored = (stored << 8) | footer[2 + i];
    return crc == stored ? 0 : -1;
}

/* The idempotency extension after a stream in a DUMP payload: exactly
 * the tag and one blob, else the payload is refused (a Sluice payload whose
 * state can't be read must not restore a stream that forgets it). */
static int load_idmp_extension(struct rdb_loader *l, rio *r, struct value *v)
{
    sstr tag = rdb_load_string(l, "the idempotency extension tag");
    if (!tag)
        return -1;
    int known = sstr_len(tag) == strlen(RDB_AUX_IDMP) && memcmp(tag, RDB_AUX_IDMP, sstr_len(tag)) == 0;
    sstr_free(tag);
    if (!known)
        return rdb_fail(l, "unknown data after the stream value"), -1;
    sstr blob = rdb_load_string(l, "the idempotency state");
    if (!blob)
        return -1;
    sstr err = NULL;
    int rc = rdb_stream_idmp_apply(v, blob, sstr_len(blob), &err);
    sstr_free(blob);
    if (rc == 0 && rio_remaining(r) != 0)
        rc = -1, err = sstr_from("trailing bytes after the idempotency state");
    if (rc != 0)
        rdb_fail(l, "%s", err ? err : "bad idempotency state");
    sstr_free(err);
    return rc;
}

struct value *rdb_load_payload(const void *p, size_t len, const struct rdb_load_opts *o, sstr *err)
{
    rio r;
    struct rdb_loader l;
    int type;
    struct value *v = NULL;
    if (len < 10) {
        if (err)
            *err = sstr_from("payload too short");
        return NULL;
    }
    const unsigned char *footer = (const unsigned char *)p + len - 10;
    rio_init_mem(&r, p, len - 10);
    rdb_loader_init(&l, &r, o);
    l.rdbver = (int)((unsigned)footer[0] | ((unsigned)footer[1] << 8));
    if (rdb_load_type(&l, &type) == 0) {
        v = rdb_load_value(&l, type);
        if (!v && !l.err)
            rdb_fail(&l, "empty value");
        if (v && v->type == OBJ_STREAM && rio_remaining(&r) > 0 && load_idmp_extension(&l, &r, v) != 0) {
            value_free(v);
            v = NULL;
        }
    }
    if (!v && err)
        *err = sstr_dup(l.err ? l.err : "bad payload");
    rdb_loader_free(&l);
    rio_release(&r);
    return v;
}
