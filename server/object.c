/* object.c - value construction, encodings and per-type dispatch. */
#include "object.h"

#include <assert.h>
#include <string.h>

#include "mem.h"
#include "util.h"

static const struct value_ops *type_ops[16];
static unsigned cached_lru_clock;

void value_register_type(enum value_type type, const struct value_ops *ops)
{
    assert((unsigned)type < 16);
    type_ops[type] = ops;
}

void lru_clock_update(long long now_ms)
{
    cached_lru_clock = (unsigned)((now_ms / 1000) & LRU_CLOCK_MAX);
}

unsigned lru_clock(void) { return cached_lru_clock; }

long long value_idle_ms(const struct value *v)
{
    unsigned now = lru_clock();
    unsigned long long idle = now >= v->lru ? now - v->lru : (LRU_CLOCK_MAX - v->lru) + now;
    return (long long)idle * 1000;
}

struct value *value_new(enum value_type type, enum value_encoding enc, void *payload)
{
    struct value *v = mem_alloc(sizeof(*v));
    v->type = type;
    v->enc = enc;
    v->lru = lru_clock();
    v->u.ptr = payload;
    return v;
}

struct value *value_string_from_ll(long long n)
{
    struct value *v = value_new(OBJ_STRING, ENC_INT, NULL);
    v->u.ival = n;
    return v;
}

struct value *value_string_raw(const char *p, size_t len)
{
    return value_new(OBJ_STRING, ENC_RAW, sstr_new(p, len));
}

struct value *value_string_new(const char *p, size_t len)
{
    long long n;
    if (len <= 20 && string2ll(p, len, &n))
        return value_string_from_ll(n);
    return value_new(OBJ_STRING, len <= EMBSTR_SIZE_LIMIT ? ENC_EMBSTR : ENC_RAW, sstr_new(p, len));
}

const char *value_string_bytes(const struct value *v, char *buf, size_t *len)
{
    assert(v->type == OBJ_STRING);
    if (v->enc == ENC_INT) {
        *len = (size_t)ll2string(buf, 32, v->u.ival);
        return buf;
    }
    *len = sstr_len(v->u.str);
    return v->u.str;
}

size_t value_string_len(const struct value *v)
{
    char buf[32];
    size_t len;
    value_string_bytes(v, buf, &len);
    return len;
}

sstr value_string_make_raw(struct value *v)
{
    assert(v->type == OBJ_STRING);
    if (v->enc == ENC_INT) {
        char buf[32];
        int n = ll2string(buf, sizeof(buf), v->u.ival);
        v->u.str = sstr_new(buf, (size_t)n);
    }
    v->enc = ENC_RAW;
    return v->u.str;
}

void value_free(struct value *v)
{
    if (!v)
        return;
    if (v->type == OBJ_STRING) {
        if (v->enc != ENC_INT)
            sstr_free(v->u.str);
    } else {
        const struct value_ops *ops = type_ops[v->type];
        assert(ops && ops->free);
        ops->free(v->u.ptr);
    }
    mem_free(v);
}

void value_unlinked(struct value *v)
{
    if (v && v->type != OBJ_STRING && type_ops[v->type] && type_ops[v->type]->unlinked)
        type_ops[v->type]->unlinked(v->u.ptr);
}

struct value *value_dup(const struct value *v)
{
    struct value *copy = mem_alloc(sizeof(*copy));
    *copy = *v;
    if (v->type == OBJ_STRING) {
        if (v->enc != ENC_INT)
            copy->u.str = sstr_dup(v->u.str);
    } else {
        const struct value_ops *ops = type_ops[v->type];
        assert(ops && ops->dup);
        copy->u.ptr = ops->dup(v->u.ptr);
    }
    return copy;
}

const char *value_type_name(const struct value *v)
{
    switch (v->type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    case OBJ_STREAM: return "stream";
    default: return "unknown";
    }
}

const char *value_encoding_name(const struct value *v)
{
    if (v->type != OBJ_STRING && type_ops[v->type] && type_ops[v->type]->encoding_name)
        return type_ops[v->type]->encoding_name(v);
    switch (v->enc) {
    case ENC_RAW: return "raw";
    case ENC_INT: return "int";
    case ENC_HT: return "hashtable";
    case ENC_QUICKLIST: return "quicklist";
    case ENC_LISTPACK: return "listpack";
    case ENC_INTSET: return "intset";
    case ENC_SKIPLIST: return "skiplist";
    case ENC_EMBSTR: return "embstr";
    case ENC_STREAM: return "stream";
    default: return "unknown";
    }
}

size_t value_mem_usage(const struct value *v)
{
    size_t n = mem_usable(v);
    if (v->type == OBJ_STRING) {
        if (v->enc != ENC_INT)
            n += sstr_alloc_size(v->u.str);
    } else if (type_ops[v->type] && type_ops[v->type]->mem_usage) {
        n += type_ops[v->type]->mem_usage(v->u.ptr);
    }
    return n;
}
