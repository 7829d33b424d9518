/* object.h - values stored in the keyspace.
 *
 * A value is 16 bytes: type and encoding (numbered as Redis numbers them,
 * since TYPE, OBJECT ENCODING and the RDB format expose them), a 24-bit LRU
 * clock for OBJECT IDLETIME, and the payload.  Strings keep Redis's three
 * encodings observable: "int" (the payload is the number), "embstr" (short
 * string) and "raw"; the bytes of both string encodings live in an sstr.
 */
#ifndef SLUICE_OBJECT_H
#define SLUICE_OBJECT_H

#include <stddef.h>

#include "sstr.h"

enum value_type {
    OBJ_STRING = 0,
    OBJ_LIST = 1,
    OBJ_SET = 2,
    OBJ_ZSET = 3,
    OBJ_HASH = 4,
    OBJ_STREAM = 6,
};

enum value_encoding {
    ENC_RAW = 0,
    ENC_INT = 1,
    ENC_HT = 2,
    ENC_LINKEDLIST = 4,
    ENC_ZIPLIST = 5,
    ENC_INTSET = 6,
    ENC_SKIPLIST = 7,
    ENC_EMBSTR = 8,
    ENC_QUICKLIST = 9,
    ENC_STREAM = 10,
    ENC_LISTPACK = 11,
};

#define EMBSTR_SIZE_LIMIT 44
#define LRU_BITS 24
#define LRU_CLOCK_MAX ((1 << LRU_BITS) - 1)

struct value {
    unsigned type : 4;
    unsigned enc : 4;
    unsigned lru : LRU_BITS;
    union {
        long long ival; /* ENC_INT */
        sstr str;       /* ENC_RAW, ENC_EMBSTR */
        void *ptr;      /* other types */
    } u;
};

/* Per-type operations, so the keyspace can free, copy and measure values
 * without knowing every type. */
struct value_ops {
    void (*free)(void *payload);
    void *(*dup)(const void *payload);
    size_t (*mem_usage)(const void *payload);
    const char *(*encoding_name)(const struct value *v);
    /* Optional: the value left its key without being freed (RENAME, MOVE,
     * SWAPDB).  Streams tell the XREADGROUP clients waiting on them. */
    void (*unlinked)(void *payload);
};
void value_register_type(enum value_type type, const struct value_ops *ops);

/* Strings.  value_string_new() picks the encoding as Redis's
 * tryObjectEncoding does: int when the bytes are a canonical long long of
 * at most 20 chars, embstr up to 44 bytes, raw above. */
struct value *value_string_new(const char *p, size_t len);
struct value *value_string_raw(const char *p, size_t len); /* always raw */
struct value *value_string_from_ll(long long v);           /* int */
/* The string's bytes; an int is formatted into buf (>= 32 bytes). */
const char *value_string_bytes(const struct value *v, char *buf, size_t *len);
size_t value_string_len(const struct value *v);
/* Turn into a raw sstr that can be modified in place (APPEND, SETRANGE). */
sstr value_string_make_raw(struct value *v);

struct value *value_new(enum value_type type, enum value_encoding enc, void *payload);
void value_free(struct value *v);
/* The value was taken out of its key and lives on elsewhere (see
 * value_ops.unlinked). */
void value_unlinked(struct value *v);
struct value *value_dup(const struct value *v);
const char *value_type_name(const struct value *v);
const char *value_encoding_name(const struct value *v);
size_t value_mem_usage(const struct value *v);

/* Access tracking, in the value's 24 lru bits as Redis keeps them: an LRU
 * clock (seconds, 24 bits) by default; under an LFU maxmemory policy the
 * last decrement time (minutes, 16 bits) and a logarithmic access counter
 * (8 bits, new keys start at LFU_INIT_VAL).  value_tracking_set() switches
 * (values keep what they had, as in Redis) and sets lfu-log-factor and
 * lfu-decay-time. */
#define LFU_INIT_VAL 5
void value_tracking_set(int lfu, int lfu_log_factor, int lfu_decay_time);
unsigned lru_clock(void);
void lru_clock_update(long long now_ms);
long long value_idle_ms(const struct value *v);
/* An access: refresh the LRU clock, or count it (LFU). */
void value_touch(struct value *v);
/* LFU: the counter after decay for the time since its last decrement. */
unsigned value_lfu_freq(const struct value *v);
/* LFU: set the counter (RESTORE FREQ, an RDB FREQ opcode). */
void value_set_lfu_freq(struct value *v, unsigned freq);

#endif
