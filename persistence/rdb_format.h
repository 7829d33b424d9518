/* rdb_format.h - Redis 7.0's RDB format (version 10): constants, the
 * encoder/decoder of single values, and the file parser.
 *
 * This layer knows the format and Sluice's values (object.h, qlog.h) but
 * nothing of the server: no srv, no clients, no keyspace.  The server
 * (rdb.c), DUMP/RESTORE (cmd_persistence.c), sluice-check-rdb and the
 * fuzz/smoke tests all use it, each giving the parser its own sink for the
 * keys it reads.  Format summary (all multi-byte numbers little-endian
 * unless said otherwise):
 *
 *   "REDIS0010"
 *   { AUX(250) <string key> <string value> }          redis-ver, ctime...
 *   { SELECTDB(254) <len dbid> RESIZEDB(251) <len keys> <len expires>
 *     { [EXPIRETIME_MS(252) <i64 ms>] [IDLE(248) <len s> | FREQ(249) <u8>]
 *       <type byte> <string key> <value> } }
 *   EOF(255) <u64 CRC-64 of everything before it; 0 = not computed>
 *
 * Lengths: 00xxxxxx (6 bits), 01xxxxxx xxxxxxxx (14 bits, big-endian),
 * 0x80 <u32 BE>, 0x81 <u64 BE>; 11xxxxxx introduces a special string
 * encoding: 0/1/2 = an 8/16/32-bit integer (LE) standing for its decimal
 * string, 3 = LZF: <len compressed> <len original> <bytes>.
 *
 * Values Sluice writes: strings (RDB_TYPE_STRING), lists as quicklists of
 * listpacks (RDB_TYPE_LIST_QUICKLIST_2: <len nodes> { <len container:
 * 1 plain, 2 packed> <string blob> }), streams (RDB_TYPE_STREAM_LISTPACKS_2,
 * rdb_stream.c).  Loaded as well: lists of types 1 (plain strings), 10 (one
 * ziplist) and 14 (quicklist of ziplists), streams of type 15.  Every other
 * type (sets, sorted sets, hashes, modules) is refused with an error naming
 * the key and the type: Sluice has no such values and never drops data
 * silently.
 */
#ifndef SLUICE_RDB_FORMAT_H
#define SLUICE_RDB_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "object.h"
#include "rio.h"
#include "sstr.h"

#define RDB_VERSION 10

/* Length prefixes. */
#define RDB_6BITLEN 0
#define RDB_14BITLEN 1
#define RDB_32BITLEN 0x80
#define RDB_64BITLEN 0x81
#define RDB_ENCVAL 3
#define RDB_ENC_INT8 0
#define RDB_ENC_INT16 1
#define RDB_ENC_INT32 2
#define RDB_ENC_LZF 3

/* Value types. */
#define RDB_TYPE_STRING 0
#define RDB_TYPE_LIST 1
#define RDB_TYPE_SET 2
#define RDB_TYPE_ZSET 3
#define RDB_TYPE_HASH 4
#define RDB_TYPE_ZSET_2 5
#define RDB_TYPE_MODULE 6
#define RDB_TYPE_MODULE_2 7
#define RDB_TYPE_HASH_ZIPMAP 9
#define RDB_TYPE_LIST_ZIPLIST 10
#define RDB_TYPE_SET_INTSET 11
#define RDB_TYPE_ZSET_ZIPLIST 12
#define RDB_TYPE_HASH_ZIPLIST 13
#define RDB_TYPE_LIST_QUICKLIST 14
#define RDB_TYPE_STREAM_LISTPACKS 15
#define RDB_TYPE_HASH_LISTPACK 16
#define RDB_TYPE_ZSET_LISTPACK 17
#define RDB_TYPE_LIST_QUICKLIST_2 18
#define RDB_TYPE_STREAM_LISTPACKS_2 19

/* Opcodes. */
#define RDB_OPCODE_FUNCTION2 245
#define RDB_OPCODE_FUNCTION_PRE_GA 246
#define RDB_OPCODE_MODULE_AUX 247
#define RDB_OPCODE_IDLE 248
#define RDB_OPCODE_FREQ 249
#define RDB_OPCODE_AUX 250
#define RDB_OPCODE_RESIZEDB 251
#define RDB_OPCODE_EXPIRETIME_MS 252
#define RDB_OPCODE_EXPIRETIME 253
#define RDB_OPCODE_SELECTDB 254
#define RDB_OPCODE_EOF 255

/* Quicklist node containers (RDB_TYPE_LIST_QUICKLIST_2). */
#define RDB_QUICKLIST_PLAIN 1
#define RDB_QUICKLIST_PACKED 2
/* Redis 7.0 keeps an element this big in a node of its own, stored as the
 * plain element (quicklist packed_threshold). */
#define RDB_QUICKLIST_PLAIN_THRESHOLD (1u << 30)

/* The name of a type byte, as redis-check-rdb names them ("string",
 * "list-quicklist"...), and the Redis data type it belongs to ("hash"). */
const char *rdb_type_name(int type);
const char *rdb_type_family(int type);

/* ---- writing ----------------------------------------------------------------
 * Every function returns 0, or -1 when the rio failed (see its flags). */

struct rdb_save_opts {
    int compress;  /* rdbcompression: LZF for strings longer than 20 bytes */
    int list_fill; /* list-max-listpack-size: how lists are cut into nodes */
    long long stream_node_max_bytes, stream_node_max_entries; /* how streams are */
};

int rdb_save_type(rio *r, int type);
int rdb_save_len(rio *r, uint64_t len);
int rdb_save_ms_time(rio *r, long long ms);
/* A string as Redis's rdbSaveRawString: integer encodings for canonical
 * numbers of up to 11 bytes that fit in 32 bits, LZF when compress is on
 * and the string is longer than 20 bytes and shrinks by 4 bytes or more,
 * else <len><bytes>. */
int rdb_save_raw_string(rio *r, const void *s, size_t len, int compress);
int rdb_save_ll_string(rio *r, long long v);
int rdb_save_aux(rio *r, const char *key, const char *val, size_t vallen);
int rdb_save_aux_ll(rio *r, const char *key, long long v);
/* The type byte of a value and the value itself. */
int rdb_value_type(const struct value *v);
int rdb_save_value(rio *r, const struct value *v, const struct rdb_save_opts *o);

/* ---- reading ---------------------------------------------------------------- */

/* Options of a load (values not taken from the server: this layer has no
 * access to it). */
struct rdb_load_opts {
    const char *name;      /* what is read, for messages: a file name, "DUMP payload" */
    int dbnum;             /* SELECTDB beyond this is an error */
    int list_fill;         /* qlog fill for loaded lists */
    int verify_checksum;   /* rdbchecksum */
    long long now_ms;      /* keys whose expire time is before this are skipped... */
    int keep_expired;      /* ...unless set (AOF preamble), as Redis */
    int lfu;               /* maxmemory-policy is LFU: IDLE is ignored, as Redis */
};

/* Decoder state while reading one file or payload. */
struct rdb_loader {
    rio *r;
    const struct rdb_load_opts *o;
    int rdbver;
    sstr err;              /* the first error; NULL while all is well */
    int empty;             /* the last value read was empty: skip it, as Redis */
};

void rdb_loader_init(struct rdb_loader *l, rio *r, const struct rdb_load_opts *o);
void rdb_loader_free(struct rdb_loader *l);
/* Record an error (the first one wins) with the offset; returns -1. */
int rdb_fail(struct rdb_loader *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record the rio's short read / I/O error; returns -1. */
int rdb_fail_io(struct rdb_loader *l, const char *what);

int rdb_load_type(struct rdb_loader *l, int *type);
int rdb_load_len(struct rdb_loader *l, uint64_t *len, int *isencoded);
/* The next length, which must not be an encoding. */
int rdb_load_plain_len(struct rdb_loader *l, uint64_t *len, const char *what);
int rdb_load_ms_time(struct rdb_loader *l, long long *ms);
/* A string of any encoding, decoded to its bytes; NULL on error. */
sstr rdb_load_string(struct rdb_loader *l, const char *what);
/* A value of the given type; NULL on error (l->err) or when the value is
 * empty (l->empty: Redis skips such keys). */
struct value *rdb_load_value(struct rdb_loader *l, int type);

/* Redis's objectSetLRUOrLFU for an idle time in seconds (IDLE opcode,
 * RESTORE IDLETIME): the access time that long ago on the LRU clock. */
void rdb_set_idle(struct value *v, long long idle_s);

/* A DUMP payload: <type> <value> <RDB version u16 LE> <CRC-64 LE>.
 * rdb_dump_payload() builds one; rdb_verify_payload() checks the footer
 * (version <= 10, and the CRC unless it is skipped) as Redis's
 * verifyDumpPayload; rdb_load_payload() decodes the value. */
sstr rdb_dump_payload(const struct value *v, const struct rdb_save_opts *o);
int rdb_verify_payload(const void *p, size_t len);
struct value *rdb_load_payload(const void *p, size_t len, const struct rdb_load_opts *o, sstr *err);

/* ---- the file parser ------------------------------------------------------- */

/* Where parsed keys go.  add() takes ownership of v (also on failure) and
 * returns 0, or -1 with *err set (a duplicate key...).  aux() and
 * select_db() are optional notifications, with the offset just after what
 * they report (as redis-check-rdb prints it). */
struct rdb_sink {
    int (*add)(void *priv, int dbid, const char *key, size_t keylen, struct value *v, long long expire_ms,
               sstr *err);
    /* A key added earlier (NULL when absent): where per-key AUX state
     * ("sluice-idmp") is attached. */
    struct value *(*lookup)(void *priv, int dbid, const char *key, size_t keylen);
    void (*aux)(void *priv, const char *key, size_t keylen, const char *val, size_t vallen, uint64_t offset);
    void (*select_db)(void *priv, int dbid, uint64_t offset);
    void *priv;
};

struct rdb_load_stats {
    int rdbver;
    int aof_base;               /* aux aof-base was 1 */
    long long keys_loaded, keys_expired, empty_skipped, expires;
    long long used_mem;         /* aux used-mem, 0 when absent */
    int checksum_verified;      /* 1 checked, 0 not present/disabled */
    int checksum_absent;        /* the file says "saved without checksum" (0) */
    uint64_t error_offset;      /* where the first error was found */
};

/* Parse a whole RDB stream from the rio's position up to and including the
 * checksum (the rio is left right after it).  Returns 0, or -1 with *err
 * set to "<what is wrong> (<name> at offset N)". */
int rdb_parse(rio *r, const struct rdb_load_opts *o, const struct rdb_sink *sink, struct rdb_load_stats *st,
              sstr *err);

/* Check mode: parse into a scratch keyspace that is thrown away (duplicate
 * keys are still detected).  For sluice-check-rdb and the fuzzers. */
int rdb_check(rio *r, const struct rdb_load_opts *o, const struct rdb_sink *notify, struct rdb_load_stats *st,
              sstr *err);

/* ---- Sluice-only stream state (rdb_stream.c) ----------------------------------
 * The idempotent-producer state of a stream travels in an AUX field named
 * RDB_AUX_IDMP written right after the key (see rdb_stream.c).  blob():
 * NULL when the value has none; target(): which key a blob is for;
 * apply(): restore it into the stream value. */
#define RDB_AUX_IDMP "sluice-idmp"
sstr rdb_stream_idmp_blob(int dbid, const char *key, size_t keylen, const struct value *v);
int rdb_stream_idmp_target(const char *blob, size_t len, int *dbid, sstr *key);
int rdb_stream_idmp_apply(struct value *v, const char *blob, size_t len, sstr *err);

/* Programs that use this layer without the server (sluice-check-rdb, the
 * fuzzer, unit tests) call this once to register the value types the
 * loader creates (lists, streams), which the server registers itself. */
void rdb_standalone_init(void);

#endif
