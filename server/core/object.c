/* object.c - value construction, encodings and per-type dispatch. */
#include "object.h"

#include <assert.h>
#include <string.h>

#include "mem.h"
#include "util.h"

static const struct value_ops *type_ops[16];
static unsigned cached_lru_clock;
static unsigned long cached_minutes; /* LFU time: unix minutes, 16 bits */

static struct {
    int lfu;
    int log_factor, decay_time;
} tracking = {0, 10, 1};

void value_register_type(enum value_type type, const struct value_ops *ops)
{
    assert((unsigned)type < 16);
    type_ops[type] = ops;
}

void lru_clock_update(long long now_ms)
{
    cached_lru_clock = (unsigned)((now_ms / 1000) & LRU_CLOCK_MAX);
    cached_minutes = (unsigned long)(now_ms / 60000) & 65535;
}

void value_tracking_set(int lfu, int lfu_log_factor, int lfu_decay_time)
{
    tracking.lfu = lfu;
    tracking.log_factor = lfu_log_factor;
    tracking.decay_time = lfu_decay_time;
}

static unsigned initial_tracking(void)
{
    return tracking.lfu ? (unsigned)((cached_minutes << 8) | LFU_INIT_VAL) : lru_clock();
}

/* Redis's LFUTimeElapsed: minutes since ldt, on the 16-bit wrapping clock. */
static unsigned long lfu_minutes_since(unsigned long ldt)
{
    return cached_minutes >= ldt ? cached_minutes - ldt : 65535 - ldt + cached_minutes;
}

unsigned value_lfu_freq(const struct value *v)
{
    unsigned long ldt = v->lru >> 8, counter = v->lru & 255;
    unsigned long periods = tracking.decay_time ? lfu_minutes_since(ldt) / (unsigned long)tracking.decay_time : 0;
    if (periods)
        counter = periods > counter ? 0 : counter - periods;
    return (unsigned)counter;
}

void value_set_lfu_freq(struct value *v, unsigned freq)
{
    v->lru = (unsigned)((cached_minutes << 8) | (freq & 255));
}

/* Redis's LFULogIncr: the more accesses counted, the less likely another
 * one is; lfu-log-factor sets how fast that falls. */
static unsigned lfu_log_incr(unsigned counter)
{
    if (counter == 255)
        return 255;
    double r = (double)(random_u64() >> 11) / (double)(1ULL << 53);
    double base = counter > LFU_INIT_VAL ? (double)(counter - LFU_INIT_VAL) : 0;
    double p = 1.0 / (base * tracking.log_factor + 1);
    return r < p ? counter + 1 : counter;
}

void value_touch(struct value *v)
{
    if (tracking.lfu)
        value_set_lfu_freq(v, lfu_log_incr(value_lfu_freq(v)));
    else
        v->lru = lru_clock();
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
    v->lru = initial_tracking();
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
    copy->lru = initial_tracking(); /* a new object, as Redis's dup*Object() */
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
