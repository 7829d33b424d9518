/* test_rdb_format.c - unit tests of the RDB format layer (no server):
 * CRC-64, rio, listpack encoding byte by byte, ziplist decoding, the RDB
 * primitives (lengths, integer/LZF string encodings), value round trips,
 * DUMP payloads and whole-file parsing, including the errors a bad file
 * must produce.  Byte sequences written here are those Redis 7.0 writes
 * (checked against redis-server's DUMP output where noted).
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "crc64.h"
#include "listpack.h"
#include "mem.h"
#include "qlog.h"
#include "rdb_format.h"
#include "rio.h"
#include "stream.h"
#include "tap.h"

/* ---- helpers -------------------------------------------------------------------- */

static struct rdb_load_opts opts(void)
{
    struct rdb_load_opts o = {"test", 16, -2, 1, 0, 0, 0};
    return o;
}

static const struct rdb_save_opts save_opts = {1, -2, 4096, 100};

static sstr hex(const void *p, size_t len)
{
    sstr s = sstr_empty(len * 2);
    for (size_t i = 0; i < len; i++)
        s = sstr_catfmt(s, "%02x", ((const unsigned char *)p)[i]);
    return s;
}

static void is_hex(const void *p, size_t len, const char *want, const char *name)
{
    sstr h = hex(p, len);
    is_str(h, want, "%s", name);
    sstr_free(h);
}

/* The list as "a,b,c". */
static sstr list_str(struct value *v)
{
    sstr s = sstr_empty(64);
    qlog_iter it;
    qlog_value e;
    char buf[QLOG_INT_BUFSIZE];
    qlog_iter_init(&it, v->u.ptr, 0, QLOG_FORWARD);
    int first = 1;
    while (qlog_iter_next(&it, &e)) {
        size_t len;
        const char *p = qlog_value_bytes(&e, buf, &len);
        if (!first)
            s = sstr_cat(s, ",", 1);
        s = sstr_cat(s, p, len);
        first = 0;
    }
    return s;
}

/* ---- CRC-64 ----------------------------------------------------------------------- */

static void test_crc64(void)
{
    is_int((long long)(crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9caULL), 1, "crc64 test vector");
    const char *s = "The quick brown fox jumps over the lazy dog, several times over, to cross words";
    size_t n = strlen(s);
    uint64_t whole = crc64(0, s, n);
    int chained_ok = 1;
    for (size_t cut = 0; cut <= n; cut++)
        chained_ok &= crc64(crc64(0, s, cut), s + cut, n - cut) == whole;
    ok(chained_ok, "crc64 chains across any split (unaligned heads and tails)");
    is_int((long long)crc64(0, "", 0), 0, "crc64 of nothing is 0");
}

/* ---- rio ------------------------------------------------------------------------------ */

static void test_rio(void)
{
    rio w;
    rio_init_buffer(&w);
    rio_checksum_start(&w);
    ok(rio_write(&w, "1234", 4) && rio_write(&w, "56789", 5), "buffer writes");
    is_int((long long)rio_tell(&w), 9, "processed bytes counted");
    ok(w.cksum == 0xe9c6d914c4b8d9caULL, "running checksum over writes");
    is_mem(rio_buffer_data(&w), rio_buffer_len(&w), "123456789", 9, "buffer content");
    rio_release(&w);

    rio r;
    char buf[16];
    rio_init_mem(&r, "abcdef", 6);
    is_int(rio_remaining(&r), 6, "mem remaining");
    ok(rio_read(&r, buf, 4) && !memcmp(buf, "abcd", 4), "mem read");
    ok(!rio_read(&r, buf, 3), "short read fails");
    ok(r.flags & RIO_EOF, "...with the EOF flag");
    ok(!rio_read(&r, buf, 1), "and stays failed");
    rio_release(&r);

    /* fd: write through the buffer, read back, seek-back on release */
    char path[] = "/tmp/sluice-rio-XXXXXX";
    int fd = mkstemp(path);
    rio_init_fd(&w, fd);
    int okw = 1;
    for (int i = 0; i < 100000; i++)
        okw &= rio_write(&w, "0123456789", 10);
    char big[200000];
    memset(big, 'x', sizeof(big));
    okw &= rio_write(&w, big, sizeof(big));
    ok(okw && rio_fsync(&w), "fd writes and fsync");
    rio_release(&w);
    is_int((long long)lseek(fd, 0, SEEK_END), 1200000, "fd file size");
    lseek(fd, 0, SEEK_SET);
    rio_init_fd(&r, fd);
    is_int(rio_remaining(&r), 1200000, "fd remaining from the file size");
    char got[10];
    ok(rio_read(&r, got, 10) && !memcmp(got, "0123456789", 10), "fd read");
    rio_release(&r);
    is_int((long long)lseek(fd, 0, SEEK_CUR), 10, "release seeks back to the bytes consumed");
    close(fd);
    unlink(path);

    rio_init_null(&w);
    rio_write(&w, big, 1000);
    is_int((long long)rio_tell(&w), 1000, "null rio counts");
    rio_release(&w);
}

/* ---- listpack -------------------------------------------------------------------------- */

static void lp_one_int(long long v, const char *want)
{
    lp_writer w;
    size_t size;
    lpw_init(&w, 0);
    lpw_append_int(&w, v);
    const unsigned char *lp = lpw_finish(&w, &size);
    sstr h = hex(lp + LP_HDR_SIZE, size - LP_HDR_SIZE - 1);
    is_str(h, want, "listpack int %lld", v);
    sstr_free(h);
    lp_iter it;
    lp_entry e;
    ok(lp_iter_init(&it, lp, size) && lp_iter_next(&it, &e) == 1 && !e.str && e.ival == v, "reads back %lld", v);
    lpw_free(&w);
}

static void test_listpack(void)
{
    /* entry encodings, as Redis's lpEncodeIntegerGetType / lpEncodeString */
    lp_one_int(0, "0001");
    lp_one_int(127, "7f01");
    lp_one_int(128, "c08002");
    lp_one_int(-1, "dfff02");
    lp_one_int(-4096, "d00002");
    lp_one_int(4095, "cfff02");
    lp_one_int(4096, "f1001003");
    lp_one_int(-32768, "f1008003");
    lp_one_int(32768, "f200800004");
    lp_one_int(-8388608, "f200008004");
    lp_one_int(8388608, "f30000800005");
    lp_one_int(-2147483648LL, "f30000008005");
    lp_one_int(2147483648LL, "f4000000800000000009");
    lp_one_int(-9223372036854775807LL - 1, "f4000000000000008009");

    lp_writer w;
    size_t size;
    lpw_init(&w, 0);
    lpw_append(&w, "hello", 5);
    lpw_append(&w, "", 0);
    lpw_append(&w, "42", 2);  /* a number string becomes an integer */
    lpw_append(&w, "042", 3); /* not canonical: stays a string */
    const unsigned char *lp = lpw_finish(&w, &size);
    is_hex(lp, size, "170000000400" "8568656c6c6f06" "8001" "2a01" "8330343204" "ff",
           "listpack header, strings, terminator");
    size_t count;
    ok(lp_validate(lp, size, &count) && count == 4, "validates, 4 entries");
    lpw_free(&w);

    /* 12-bit and 32-bit string lengths, multi-byte backlens */
    char s100[100], s5000[5000];
    memset(s100, 'a', sizeof(s100));
    memset(s5000, 'b', sizeof(s5000));
    lpw_init(&w, 0);
    lpw_append(&w, s100, 100);
    lpw_append(&w, s5000, 5000);
    lp = lpw_finish(&w, &size);
    ok(lp[LP_HDR_SIZE] == 0xE0 && lp[LP_HDR_SIZE + 1] == 100, "12-bit string header");
    ok(lp[LP_HDR_SIZE + 2 + 100] == 102 && lp[LP_HDR_SIZE + 2 + 100 + 1] == 0xF0, "backlen 102, then 32-bit string");
    size_t e2 = 5 + 5000; /* encoding + data */
    const unsigned char *bl = lp + LP_HDR_SIZE + 103 + e2;
    ok(bl[0] == (e2 >> 7) && bl[1] == ((e2 & 127) | 128), "two-byte backlen");
    lp_iter it;
    lp_entry e;
    int ok_all = lp_iter_init(&it, lp, size) && lp_iter_next(&it, &e) == 1 && e.len == 100 &&
                 lp_iter_next(&it, &e) == 1 && e.len == 5000 && e.str[4999] == 'b' && lp_iter_next(&it, &e) == 0;
    ok(ok_all, "long strings read back");

    /* corruption is detected, never read past */
    unsigned char *bad = mem_alloc(size);
    memcpy(bad, lp, size);
    bad[LP_HDR_SIZE + 2 + 100] = 7; /* wrong backlen */
    ok(!lp_validate(bad, size, NULL), "wrong backlen rejected");
    memcpy(bad, lp, size);
    bad[size - 1] = 0;
    ok(!lp_validate(bad, size, NULL), "missing terminator rejected");
    memcpy(bad, lp, size);
    ok(!lp_validate(bad, size - 1, NULL), "total-bytes mismatch rejected");
    memcpy(bad, lp, size);
    bad[4] = 3;
    ok(!lp_validate(bad, size, NULL), "wrong element count rejected");
    memcpy(bad, lp, size);
    bad[LP_HDR_SIZE] = 0xF7;
    ok(!lp_validate(bad, size, NULL), "unused encoding 0xF7 rejected");
    memcpy(bad, lp, size);
    bad[LP_HDR_SIZE + 2 + 100 + 1 + 2] = 0x7f; /* 32-bit length now huge */
    ok(!lp_validate(bad, size, NULL), "string length past the end rejected");
    mem_free(bad);
    lpw_free(&w);

    long long v;
    ok(lp_string_to_int64("-9223372036854775808", 20, &v) && v == (-9223372036854775807LL - 1), "int64 min parses");
    ok(!lp_string_to_int64("9223372036854775808", 19, &v), "int64 overflow is a string");
    ok(!lp_string_to_int64("-0", 2, &v) && !lp_string_to_int64("+1", 2, &v) && !lp_string_to_int64(" 1", 2, &v),
       "non-canonical numbers are strings");
}

/* ---- ziplist ------------------------------------------------------------------------------ */

static int zl_collect(void *priv, const lp_entry *e)
{
    sstr *s = priv;
    if (sstr_len(*s))
        *s = sstr_cat(*s, ",", 1);
    if (e->str)
        *s = sstr_cat(*s, e->str, e->len);
    else
        *s = sstr_catfmt(*s, "%lld", e->ival);
    return 1;
}

/* The ziplist of test_ziplist(), for the old list encodings. */
static const unsigned char old_zl[] = {35,   0,    0,    0,    24,   0,    0,    0,    5,    0,    0x00, 0x01,
                                       'a',  0x03, 0xf6, 0x02, 0xc0, 0x2c, 0x01, 0x04, 0xf0, 0x90, 0xee, 0xfe,
                                       0x05, 0xe0, 0x35, 0x1c, 0xdc, 0xdf, 0x02, 0x00, 0x00, 0x00, 0xff};

/* Load an old-encoding list payload (type byte + body, footer added). */
static sstr load_old_list(int type, const unsigned char *body, size_t len)
{
    sstr p = sstr_empty(64);
    char t = (char)type;
    p = sstr_cat(p, &t, 1);
    p = sstr_cat(p, body, len);
    p = sstr_cat(p, "\x09\x00" "crc64!!!", 10);
    struct rdb_load_opts o = opts();
    sstr err = NULL;
    struct value *v = rdb_load_payload(p, sstr_len(p), &o, &err);
    sstr out = v ? list_str(v) : sstr_catfmt(sstr_empty(32), "error: %s", err ? err : "?");
    value_free(v);
    sstr_free(err);
    sstr_free(p);
    return out;
}

static void test_old_lists(void)
{
    /* type 10: the ziplist as one string */
    unsigned char body[64];
    body[0] = sizeof(old_zl);
    memcpy(body + 1, old_zl, sizeof(old_zl));
    sstr got = load_old_list(RDB_TYPE_LIST_ZIPLIST, body, 1 + sizeof(old_zl));
    is_str(got, "a,5,300,-70000,12345678901", "RDB_TYPE_LIST_ZIPLIST (10) loads");
    sstr_free(got);
    /* type 14: quicklist of ziplists, two nodes */
    unsigned char body14[128];
    size_t n = 0;
    body14[n++] = 2;
    for (int i = 0; i < 2; i++) {
        body14[n++] = sizeof(old_zl);
        memcpy(body14 + n, old_zl, sizeof(old_zl));
        n += sizeof(old_zl);
    }
    got = load_old_list(RDB_TYPE_LIST_QUICKLIST, body14, n);
    is_str(got, "a,5,300,-70000,12345678901,a,5,300,-70000,12345678901", "RDB_TYPE_LIST_QUICKLIST (14) loads");
    sstr_free(got);
    /* type 1: plain strings, integer-encoded ones too */
    static const unsigned char body1[] = {3, 1, 'x', 0xc0, 0x05, 0xc1, 0x2c, 0x01};
    got = load_old_list(RDB_TYPE_LIST, body1, sizeof(body1));
    is_str(got, "x,5,300", "RDB_TYPE_LIST (1) loads");
    sstr_free(got);
    /* a bad ziplist inside a quicklist node */
    body14[1 + 1 + 13] = 0x07;
    got = load_old_list(RDB_TYPE_LIST_QUICKLIST, body14, n);
    ok(strstr(got, "Ziplist integrity check failed") != NULL, "a corrupt ziplist node is refused");
    sstr_free(got);
    /* quicklist 2 with a PLAIN node (what Redis writes for elements >= 1 GB) */
    static const unsigned char plain[] = {2, RDB_QUICKLIST_PLAIN, 3, 'b', 'i', 'g', RDB_QUICKLIST_PACKED, 9,
                                          9, 0, 0, 0, 1, 0, 0x81, 's', 2, 0xff};
    unsigned char fixed[sizeof(plain)];
    memcpy(fixed, plain, sizeof(plain));
    fixed[7] = 10; /* the listpack is 10 bytes: header 6 + entry 3 + terminator */
    fixed[8] = 10;
    got = load_old_list(RDB_TYPE_LIST_QUICKLIST_2, fixed, sizeof(fixed) - 1 + 1);
    is_str(got, "big,s", "a PLAIN quicklist node loads as one element");
    sstr_free(got);
}

static void test_ziplist(void)
{
    /* a ziplist as Redis 6 writes RPUSH l a 5 300 -70000 12345678901: "a" is a
     * 6-bit string, 5 an immediate (0xf6), 300 int16, -70000 int24,
     * 12345678901 int64; each entry starts with the previous one's size */
    static const unsigned char zl[] = {
        35, 0, 0, 0,                                                /* zlbytes */
        24, 0, 0, 0,                                                /* zltail: the last entry */
        5, 0,                                                       /* zllen */
        0x00, 0x01, 'a',                                            /* @10 "a" */
        0x03, 0xf6,                                                 /* @13 5 */
        0x02, 0xc0, 0x2c, 0x01,                                     /* @15 300 */
        0x04, 0xf0, 0x90, 0xee, 0xfe,                               /* @19 -70000 */
        0x05, 0xe0, 0x35, 0x1c, 0xdc, 0xdf, 0x02, 0x00, 0x00, 0x00, /* @24 12345678901 */
        0xff};
    unsigned char buf[sizeof(zl)];
    memcpy(buf, zl, sizeof(zl));
    sstr out = sstr_empty(0);
    ok(zl_validate_foreach(buf, 35, zl_collect, &out), "ziplist decodes");
    is_str(out, "a,5,300,-70000,12345678901", "ziplist entries of every small encoding");
    sstr_free(out);
    buf[13] = 0x04; /* wrong prevlen */
    ok(!zl_validate_foreach(buf, 35, NULL, NULL), "wrong prevlen rejected");
    buf[13] = 0x03;
    buf[4] = 19;
    ok(!zl_validate_foreach(buf, 35, NULL, NULL), "zltail not at the last entry rejected");
    buf[4] = 24;
    buf[8] = 4;
    ok(!zl_validate_foreach(buf, 35, NULL, NULL), "wrong zllen rejected");
    buf[8] = 5;
    ok(!zl_validate_foreach(buf, 34, NULL, NULL), "truncated ziplist rejected");
}

/* ---- RDB primitives ---------------------------------------------------------------------- */

static sstr enc_string(const char *s, size_t len, int compress)
{
    rio w;
    rio_init_buffer(&w);
    rdb_save_raw_string(&w, s, len, compress);
    sstr out = rio_buffer_take(&w);
    rio_release(&w);
    return out;
}

static sstr dec_string(const sstr blob, sstr *err)
{
    rio r;
    struct rdb_load_opts o = opts();
    struct rdb_loader l;
    rio_init_mem(&r, blob, sstr_len(blob));
    rdb_loader_init(&l, &r, &o);
    sstr s = rdb_load_string(&l, "a test string");
    if (!s && err)
        *err = sstr_dup(l.err);
    rdb_loader_free(&l);
    rio_release(&r);
    return s;
}

static void test_primitives(void)
{
    static const unsigned long long lens[] = {0, 63, 64, 16383, 16384, 4294967295ULL, 4294967296ULL};
    static const char *const want[] = {"00", "3f", "4040", "7fff", "8000004000", "80ffffffff", "810000000100000000"};
    for (int i = 0; i < 7; i++) {
        rio w;
        rio_init_buffer(&w);
        rdb_save_len(&w, lens[i]);
        sstr h = hex(rio_buffer_data(&w), rio_buffer_len(&w));
        is_str(h, want[i], "length %llu", lens[i]);
        rio r;
        struct rdb_load_opts o = opts();
        struct rdb_loader l;
        uint64_t back = 1;
        rio_init_mem(&r, rio_buffer_data(&w), rio_buffer_len(&w));
        rdb_loader_init(&l, &r, &o);
        ok(rdb_load_len(&l, &back, NULL) == 0 && back == lens[i], "length %llu reads back", lens[i]);
        rdb_loader_free(&l);
        sstr_free(h);
        rio_release(&w);
    }
    /* integer encodings of strings, as Redis's rdbTryIntegerEncoding */
    static const char *const nums[] = {"12", "-128", "300", "-32768", "70000", "-2147483648", "2147483648", "007"};
    static const char *const nenc[] = {"c00c", "c080", "c12c01", "c10080", "c270110100", "c200000080",
                                       "0a32313437343833363438", "03303037"};
    for (int i = 0; i < 8; i++) {
        sstr b = enc_string(nums[i], strlen(nums[i]), 1);
        sstr h = hex(b, sstr_len(b));
        is_str(h, nenc[i], "string \"%s\" encoding", nums[i]);
        sstr back = dec_string(b, NULL);
        is_str(back, nums[i], "string \"%s\" decodes", nums[i]);
        sstr_free(back);
        sstr_free(h);
        sstr_free(b);
    }
    /* LZF above 20 bytes when it helps */
    char rep[1000];
    memset(rep, 'z', sizeof(rep));
    sstr b = enc_string(rep, sizeof(rep), 1);
    ok(sstr_len(b) < 40 && (unsigned char)b[0] == 0xC3, "compressible string is LZF-encoded");
    sstr back = dec_string(b, NULL);
    ok(back && sstr_len(back) == 1000 && !memcmp(back, rep, 1000), "LZF string decodes");
    sstr_free(back);
    sstr_free(b);
    b = enc_string(rep, sizeof(rep), 0);
    ok(sstr_len(b) == 1002 && (unsigned char)b[0] == 0x43, "rdbcompression no: stored verbatim");
    sstr_free(b);
    b = enc_string("aaaaaaaaaaaaaaaaaaaa", 20, 1);
    ok(sstr_len(b) == 21, "20 bytes: never compressed");
    sstr_free(b);

    /* decoding errors */
    sstr err = NULL;
    sstr bad = sstr_new("\xc3\x02\x80\x10\x00\x00\x00" "ab", 9); /* 2 bytes said to make 256 MB */
    ok(!dec_string(bad, &err) && err && strstr(err, "LZF"), "LZF expansion bound: %s", err ? err : "");
    sstr_free(err);
    sstr_free(bad);
    err = NULL;
    bad = sstr_new("\xc3\x03\x0a\x00\x00\x00", 6); /* LZF that doesn't decompress to 10 bytes */
    ok(!dec_string(bad, &err) && err && strstr(err, "Invalid LZF"), "bad LZF data rejected");
    sstr_free(err);
    sstr_free(bad);
    err = NULL;
    bad = sstr_new("\x80\x7f\xff\xff\xff" "abc", 8); /* 2 GB announced */
    ok(!dec_string(bad, &err) && err && strstr(err, "Unexpected EOF"), "length past the end: %s", err ? err : "");
    sstr_free(err);
    sstr_free(bad);
    err = NULL;
    bad = sstr_new("\xc4", 1);
    ok(!dec_string(bad, &err) && err && strstr(err, "Unknown RDB string encoding"), "unknown string encoding");
    sstr_free(err);
    sstr_free(bad);
}

/* ---- values and payloads ----------------------------------------------------------------------- */

static struct value *roundtrip(struct value *v, sstr *err)
{
    struct rdb_save_opts so = save_opts;
    sstr p = rdb_dump_payload(v, &so);
    struct rdb_load_opts o = opts();
    struct value *back = NULL;
    if (p && rdb_verify_payload(p, sstr_len(p)) == 0)
        back = rdb_load_payload(p, sstr_len(p), &o, err);
    sstr_free(p);
    return back;
}

static struct value *make_list(int fill)
{
    return value_new(OBJ_LIST, ENC_QUICKLIST, qlog_create(fill));
}

static void test_values(void)
{
    /* strings of each encoding: DUMP of SET k 12 / foo in Redis 7.0 */
    struct rdb_save_opts so = save_opts;
    struct value *v = value_string_new("12", 2);
    sstr p = rdb_dump_payload(v, &so);
    is_hex(p, sstr_len(p), "00c00c0a00" "3c2af8515c04bcd5", "DUMP of the int 12 matches Redis 7.0's bytes");
    sstr_free(p);
    value_free(v);
    v = value_string_new("foo", 3);
    p = rdb_dump_payload(v, &so);
    is_hex(p, sstr_len(p), "0003666f6f0a00" "734939db4dc1ba97", "DUMP of \"foo\" matches Redis 7.0's bytes");
    sstr_free(p);
    value_free(v);

    const char *samples[] = {"", "x", "12345678901234567890", "-5", "3.14", "a string that is long enough to be raw",
                             "embstr of exactly forty-four characters ...."};
    for (int i = 0; i < 7; i++) {
        v = value_string_new(samples[i], strlen(samples[i]));
        sstr err = NULL;
        struct value *b = roundtrip(v, &err);
        char buf1[32], buf2[32];
        size_t l1, l2;
        const char *p1 = value_string_bytes(v, buf1, &l1);
        const char *p2 = b ? value_string_bytes(b, buf2, &l2) : NULL;
        ok(b && b->enc == v->enc && l1 == l2 && !memcmp(p1, p2, l1), "string \"%s\" round trip (encoding %d)",
           samples[i], v->enc);
        value_free(v);
        value_free(b);
        sstr_free(err);
    }

    /* lists: small, with ints, binary, large (many nodes), a 100 KB element */
    v = make_list(-2);
    qlog_push_tail(v->u.ptr, "a", 1);
    qlog_push_tail(v->u.ptr, "123", 3);
    qlog_push_tail(v->u.ptr, "-4000000000", 11);
    p = rdb_dump_payload(v, &so);
    is_hex(p, sstr_len(p), "120102161600000003008161027b01f400d89411ffffffff09ff0a00" "38a12291a2e172e9",
           "DUMP of RPUSH l a 123 -4000000000 matches Redis 7.0's bytes");
    sstr_free(p);
    qlog_push_tail(v->u.ptr, "b\0c", 3);
    p = rdb_dump_payload(v, &so);
    ok(p && (unsigned char)p[0] == RDB_TYPE_LIST_QUICKLIST_2 && p[1] == 1 && p[2] == RDB_QUICKLIST_PACKED,
       "list: type 18, one node, packed container");
    sstr_free(p);
    sstr err = NULL;
    struct value *b = roundtrip(v, &err);
    sstr s1 = list_str(v), s2 = b ? list_str(b) : sstr_empty(0);
    ok(b && qlog_length(b->u.ptr) == 4 && sstr_len(s1) == sstr_len(s2) && !memcmp(s1, s2, sstr_len(s1)),
       "small list round trip");
    sstr_free(s1);
    sstr_free(s2);
    value_free(b);
    value_free(v);

    v = make_list(-2);
    char big[100000];
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (char)(i * 7);
    for (int i = 0; i < 20000; i++) {
        char buf[32];
        int n = snprintf(buf, sizeof(buf), i % 3 ? "elem-%d" : "%d", i);
        qlog_push_tail(v->u.ptr, buf, (size_t)n);
    }
    qlog_push_tail(v->u.ptr, big, sizeof(big));
    p = rdb_dump_payload(v, &so);
    ok(p && (unsigned char)p[1] < 64 && p[1] > 20, "large list: many nodes (%d)", p ? p[1] : 0);
    sstr_free(p);
    b = roundtrip(v, &err);
    qlog_value last;
    ok(b && qlog_length(b->u.ptr) == 20001 && qlog_index(b->u.ptr, -1, &last) && last.len == sizeof(big) &&
           !memcmp(last.str, big, sizeof(big)),
       "large list round trip");
    int same = b != NULL;
    for (long long i = 0; same && i < 20000; i += 997) {
        qlog_value x, y;
        char bx[QLOG_INT_BUFSIZE], by[QLOG_INT_BUFSIZE];
        size_t lx, ly;
        qlog_index(v->u.ptr, i, &x);
        qlog_index(b->u.ptr, i, &y);
        const char *px = qlog_value_bytes(&x, bx, &lx), *py = qlog_value_bytes(&y, by, &ly);
        same = lx == ly && !memcmp(px, py, lx);
    }
    ok(same, "large list elements identical");
    value_free(b);
    value_free(v);

    /* positive fill: nodes of at most that many entries */
    v = make_list(5);
    for (int i = 0; i < 12; i++)
        qlog_push_tail(v->u.ptr, "x", 1);
    struct rdb_save_opts so5 = {1, 5, 4096, 100};
    p = rdb_dump_payload(v, &so5);
    ok(p && p[1] == 3, "fill 5: 12 elements in 3 nodes");
    sstr_free(p);
    value_free(v);

    /* payload checks */
    v = value_string_new("foo", 3);
    p = rdb_dump_payload(v, &so);
    ok(rdb_verify_payload(p, sstr_len(p)) == 0, "payload verifies");
    p[1] ^= 1;
    ok(rdb_verify_payload(p, sstr_len(p)) != 0, "flipped byte: checksum error");
    p[1] ^= 1;
    p[sstr_len(p) - 10] = 11;
    ok(rdb_verify_payload(p, sstr_len(p)) != 0, "RDB version 11 refused");
    ok(rdb_verify_payload(p, 9) != 0, "too short refused");
    sstr_free(p);
    value_free(v);
    /* a hash payload (Redis 7.0: HSET h f v) is not Sluice's */
    static const unsigned char hashp[] = {0x10, 0x0d, 0x0d, 0, 0, 0, 2, 0, 0x81, 'f', 2,    0x81, 'v', 2, 0xff,
                                          0x0a, 0,    0x20, 0xf1, 0x3d, 0x44, 0x23, 0x54, 0x08, 0x9d};
    struct rdb_load_opts o = opts();
    err = NULL;
    ok(rdb_verify_payload(hashp, sizeof(hashp)) == 0, "Redis 7.0's DUMP of a hash verifies");
    b = rdb_load_payload(hashp, sizeof(hashp), &o, &err);
    ok(!b && err && strstr(err, "hash"), "hash payload refused: %s", err ? err : "");
    sstr_free(err);
    /* an empty list payload is "Bad data format" in Redis */
    static const unsigned char emptyl[] = {0x12, 0x00, 0x0a, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    err = NULL;
    b = rdb_load_payload(emptyl, sizeof(emptyl), &o, &err);
    ok(!b && err, "empty list payload refused");
    sstr_free(err);
}

/* ---- streams ----------------------------------------------------------------------------------- */

static void xadd(stream *s, uint64_t ms, uint64_t seq, int n, ...)
{
    const char *fv[16];
    size_t len[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < 2 * n; i++) {
        fv[i] = va_arg(ap, const char *);
        len[i] = strlen(fv[i]);
    }
    va_end(ap);
    streamID id = {ms, seq};
    stream_append(s, &id, (uint64_t)n, fv, len);
}

struct idmp_text {
    sstr s;
};

static void idmp_line(void *priv, const char *pid, size_t pl, const char *iid, size_t il, const streamID *id,
                      long long at)
{
    struct idmp_text *t = priv;
    t->s = sstr_catfmt(t->s, "%.*s/%.*s=%llu-%llu@%lld ", (int)pl, pid, (int)il, iid, (unsigned long long)id->ms,
                       (unsigned long long)id->seq, at);
}

/* Everything a stream holds, as text. */
static sstr stream_text(struct value *v)
{
    stream *s = stream_of(v);
    sstr t = sstr_empty(1024);
    stream_iter si;
    streamID id;
    uint64_t nf;
    stream_iter_start(&si, s, NULL, NULL, 0);
    while (stream_iter_next(&si, &id, &nf)) {
        t = sstr_catfmt(t, "%llu-%llu:", (unsigned long long)id.ms, (unsigned long long)id.seq);
        for (uint64_t i = 0; i < nf; i++) {
            const char *f, *val;
            size_t fl, vl;
            stream_iter_field(&si, &f, &fl, &val, &vl);
            t = sstr_catfmt(t, " %.*s=%.*s", (int)fl, f, (int)vl, val);
        }
        t = sstr_cat(t, "\n", 1);
    }
    struct stream_meta m;
    stream_get_meta(s, &m);
    t = sstr_catfmt(t, "len=%llu last=%llu-%llu first=%llu-%llu maxdel=%llu-%llu added=%llu\n",
                    (unsigned long long)m.length, (unsigned long long)m.last_id.ms, (unsigned long long)m.last_id.seq,
                    (unsigned long long)m.first_id.ms, (unsigned long long)m.first_id.seq,
                    (unsigned long long)m.max_deleted_id.ms, (unsigned long long)m.max_deleted_id.seq,
                    (unsigned long long)m.entries_added);
    for (size_t g = 0; g < stream_group_count(s); g++) {
        stream_cg *cg = stream_group_at(s, g);
        size_t nl;
        const char *name = stream_group_name(cg, &nl);
        streamID last;
        long long er;
        stream_group_state(cg, &last, &er);
        t = sstr_catfmt(t, "group %.*s last=%llu-%llu read=%lld pel:", (int)nl, name, (unsigned long long)last.ms,
                        (unsigned long long)last.seq, er);
        stream_pel_iter pi;
        streamID pid;
        long long dt;
        uint64_t dc;
        stream_consumer *owner;
        stream_pel_rewind(&pi, cg, NULL);
        while (stream_pel_next(&pi, &pid, &dt, &dc, &owner)) {
            size_t ol;
            const char *on = stream_consumer_name(owner, &ol);
            t = sstr_catfmt(t, " %llu-%llu/%lld/%llu/%.*s", (unsigned long long)pid.ms, (unsigned long long)pid.seq, dt,
                            (unsigned long long)dc, (int)ol, on);
        }
        for (size_t ci = 0; ci < stream_consumer_count(cg); ci++) {
            stream_consumer *c = stream_consumer_at(cg, ci);
            size_t cl;
            const char *cn = stream_consumer_name(c, &cl);
            t = sstr_catfmt(t, "\n  consumer %.*s seen=%lld pending=%zu", (int)cl, cn, stream_consumer_seen_time(c),
                            stream_pel_count(cg, c));
        }
        t = sstr_cat(t, "\n", 1);
    }
    struct stream_idmp_info info;
    stream_idmp_get_info(s, &info);
    t = sstr_catfmt(t, "idmp enabled=%d dur=%lld max=%lld added=%llu dups=%llu pids=%llu iids=%llu: ", info.enabled,
                    info.duration, info.maxsize, (unsigned long long)info.iids_added,
                    (unsigned long long)info.iids_duplicates, (unsigned long long)info.pids_tracked,
                    (unsigned long long)info.iids_tracked);
    struct idmp_text it = {t};
    stream_idmp_foreach(s, idmp_line, &it);
    return it.s;
}

static void test_streams(void)
{
    struct rdb_save_opts so = save_opts;
    /* byte for byte what Redis 7.0 dumps for XADD s 1-1 f v, 1-2 f w,
     * 2-0 g 1 h 2 (master entry, SAMEFIELDS, a negative seq diff) */
    struct value *v = stream_value_new();
    xadd(stream_of(v), 1, 1, 1, "f", "v");
    xadd(stream_of(v), 1, 2, 1, "f", "w");
    xadd(stream_of(v), 2, 0, 2, "g", "1", "h", "2");
    sstr p = rdb_dump_payload(v, &so);
    is_hex(p, sstr_len(p),
           "130110000000000000000100000000000000013d3d00000018000301000101018166020001020100010001817602040102010001"
           "0101817702040100010101dfff020201816702010181680202010801ff0302000101000003000a002af79bb0a4f35af7",
           "DUMP of a 3-entry stream matches Redis 7.0's bytes");
    sstr_free(p);
    value_free(v);

    /* a stream with everything: many nodes, groups, consumers, PELs,
     * unknown entries-read, idempotency state */
    v = stream_value_new();
    stream *s = stream_of(v);
    for (int i = 1; i <= 700; i++) {
        char a[16], b[16];
        snprintf(a, sizeof(a), "%d", i);
        snprintf(b, sizeof(b), "val-%d", i * 7);
        if (i % 9 == 0)
            xadd(s, 1000 + (uint64_t)i / 10, (uint64_t)i % 10, 3, "x", a, "y", b, "z", "");
        else
            xadd(s, 1000 + (uint64_t)i / 10, (uint64_t)i % 10, 2, "f1", a, "f2", b);
    }
    struct stream_meta m;
    stream_get_meta(s, &m);
    m.last_id.ms = 5000;
    m.last_id.seq = 0;
    m.max_deleted_id.ms = 1000;
    m.max_deleted_id.seq = 0;
    m.entries_added = m.length + 3;
    stream_set_meta(s, &m);
    streamID last = {1005, 0};
    stream_cg *g1 = stream_group_create(s, "g1", 2, &last, 55);
    stream_cg *g2 = stream_group_create(s, "g2", 2, &last, STREAM_ENTRIES_READ_INVALID);
    stream_consumer *alice = stream_consumer_get(g1, "alice", 5, 1234);
    stream_consumer *bob = stream_consumer_get(g1, "bob", 3, 99);
    stream_consumer_get(g2, "idle", 4, 7);
    streamID p1 = {1000, 1}, p2 = {1000, 2}, p3 = {1001, 1};
    stream_pel_add(g1, alice, &p1, 111, 1);
    stream_pel_add(g1, alice, &p2, 222, 2);
    stream_pel_add(g1, bob, &p3, 333, 3);
    struct stream_idmp_info info = {1, 60, 50, 0, 0, 9, 2};
    stream_idmp_set_info(s, &info);
    stream_idmp_restore(s, "p1", 2, "i1", 2, &p1, 500);
    stream_idmp_restore(s, "p1", 2, "i2", 2, &p2, 600);
    stream_idmp_restore(s, "p2", 2, "i1", 2, &p3, 700);
    stream_idmp_set_info(s, &info);

    sstr err = NULL;
    struct value *b = roundtrip(v, &err);
    ok(b != NULL, "stream round trip loads (%s)", err ? err : "ok");
    if (b) {
        /* nothing is re-applied by hand: the DUMP payload alone must carry
         * the idempotency state (stream_text() prints it) */
        sstr t1 = stream_text(v), t2 = stream_text(b);
        is_str(t2, t1, "stream identical after DUMP/RESTORE alone: entries, metadata, groups, PELs, idempotency");
        struct stream_idmp_info bi;
        stream_idmp_get_info(stream_of(b), &bi);
        ok(bi.enabled && bi.duration == 60 && bi.maxsize == 50 && bi.iids_added == 9 && bi.iids_duplicates == 2,
           "restored stream has the idempotency configuration and counters (%d %lld %lld %llu %llu)", bi.enabled,
           bi.duration, bi.maxsize, (unsigned long long)bi.iids_added, (unsigned long long)bi.iids_duplicates);
        sstr_free(t1);
        sstr_free(t2);
        value_free(b);
    }
    sstr_free(err);
    {
        /* the sluice-idmp blob in an RDB file still names its db and key */
        sstr blob = rdb_stream_idmp_blob(3, "key", 3, v);
        int dbid = -1;
        sstr key = NULL;
        ok(blob && rdb_stream_idmp_target(blob, sstr_len(blob), &dbid, &key) == 0 && dbid == 3 && key &&
               !strcmp(key, "key"),
           "sluice-idmp blob names its db and key");
        sstr_free(key);
        sstr_free(blob);
    }
    {
        /* a payload whose idempotency extension is cut short, or whose tag
         * is unknown, is refused, not restored without its state
         * (rdb_load_payload() skips the footer; RESTORE checks the CRC) */
        sstr full = rdb_dump_payload(v, &so);
        struct rdb_load_opts o = opts();
        size_t n = full ? sstr_len(full) : 0;
        int cut_refused = 0, tag_refused = 0;
        if (full && n > 20) {
            sstr cut = sstr_new(full, n - 10 - 3); /* drop the blob's last 3 bytes */
            cut = sstr_cat(cut, "\x0a\x00" "crc64!!!", 10);
            sstr e = NULL;
            struct value *x = rdb_load_payload(cut, sstr_len(cut), &o, &e);
            cut_refused = x == NULL && e != NULL;
            value_free(x);
            sstr_free(e);
            sstr_free(cut);
            size_t tl = strlen(RDB_AUX_IDMP), at = n; /* the tag's last occurrence */
            for (size_t i = 0; i + tl <= n; i++)
                if (memcmp(full + i, RDB_AUX_IDMP, tl) == 0)
                    at = i;
            if (at < n) {
                sstr bad = sstr_new(full, n - 10);
                bad[at] = 'X';
                bad = sstr_cat(bad, "\x0a\x00" "crc64!!!", 10);
                e = NULL;
                x = rdb_load_payload(bad, sstr_len(bad), &o, &e);
                tag_refused = x == NULL && e != NULL;
                value_free(x);
                sstr_free(e);
                sstr_free(bad);
            }
        }
        ok(cut_refused, "payload with a truncated idempotency extension is refused");
        ok(tag_refused, "payload with an unknown extension after a stream is refused");
        sstr_free(full);
    }
    p = rdb_dump_payload(v, &so);
    ok(p && p[1] > 5, "700 entries: %d nodes of <= 100 entries", p ? p[1] : 0);
    sstr_free(p);

    /* a stream without idempotency state has no blob; v1 streams load */
    value_free(v);
    v = stream_value_new();
    ok(rdb_stream_idmp_blob(0, "k", 1, v) == NULL, "no idmp state: no AUX field");
    xadd(stream_of(v), 7, 7, 1, "a", "b");
    p = rdb_dump_payload(v, &so);
    /* turn it into a type-15 payload: drop the v2 fields (first ID, max
     * deleted ID, entries-added: 5 one-byte lengths before the group count) */
    size_t n = sstr_len(p);
    sstr v1 = sstr_new(p, n - 10 - 6);
    v1[0] = RDB_TYPE_STREAM_LISTPACKS;
    v1 = sstr_cat(v1, p + n - 11, 1); /* groups: 0 */
    v1 = sstr_cat(v1, "\x0a\x00", 2);
    uint64_t crc = crc64(0, v1, sstr_len(v1));
    for (int i = 0; i < 8; i++) {
        char c = (char)(crc >> (8 * i));
        v1 = sstr_cat(v1, &c, 1);
    }
    struct rdb_load_opts o = opts();
    err = NULL;
    b = rdb_verify_payload(v1, sstr_len(v1)) == 0 ? rdb_load_payload(v1, sstr_len(v1), &o, &err) : NULL;
    sstr t = b ? stream_text(b) : NULL;
    ok(t && strstr(t, "len=1 last=7-7 first=7-7 maxdel=0-0 added=1"), "type 15 stream: v2 fields derived");
    sstr_free(t);
    sstr_free(err);
    value_free(b);
    sstr_free(v1);
    sstr_free(p);
    value_free(v);
}

/* ---- whole files ------------------------------------------------------------------------------ */

struct counter {
    int keys;
    long long last_expire;
};

static int count_add(void *priv, int dbid, const char *key, size_t len, struct value *v, long long exp, sstr *err)
{
    struct counter *c = priv;
    (void)dbid, (void)key, (void)len, (void)err;
    c->keys++;
    c->last_expire = exp;
    value_free(v);
    return 0;
}

/* Build a small file: header, aux, db 0 with k1 (expiring at `exp`) and
 * k2, EOF, checksum (or 0). */
static sstr build_file(long long exp, int checksum, int type_of_k2)
{
    rio w;
    rio_init_buffer(&w);
    rio_checksum_start(&w);
    rio_write(&w, "REDIS0010", 9);
    rdb_save_aux(&w, "redis-ver", "7.0.15", 6);
    rdb_save_type(&w, RDB_OPCODE_SELECTDB);
    rdb_save_len(&w, 0);
    rdb_save_type(&w, RDB_OPCODE_RESIZEDB);
    rdb_save_len(&w, 2);
    rdb_save_len(&w, 1);
    rdb_save_type(&w, RDB_OPCODE_EXPIRETIME_MS);
    rdb_save_ms_time(&w, exp);
    rdb_save_type(&w, RDB_TYPE_STRING);
    rdb_save_raw_string(&w, "k1", 2, 0);
    rdb_save_raw_string(&w, "v1", 2, 0);
    rdb_save_type(&w, RDB_OPCODE_IDLE);
    rdb_save_len(&w, 100);
    rdb_save_type(&w, type_of_k2);
    rdb_save_raw_string(&w, "k2", 2, 0);
    rdb_save_raw_string(&w, "v2", 2, 0);
    rdb_save_type(&w, RDB_OPCODE_EOF);
    uint64_t crc = checksum ? w.cksum : 0;
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(crc >> (8 * i));
    rio_write(&w, b, 8);
    sstr s = rio_buffer_take(&w);
    rio_release(&w);
    return s;
}

static int parse(const sstr f, long long now, struct counter *c, sstr *err, struct rdb_load_stats *st)
{
    rio r;
    struct rdb_load_opts o = opts();
    o.now_ms = now;
    struct rdb_sink sink = {count_add, NULL, NULL, NULL, c};
    rio_init_mem(&r, f, sstr_len(f));
    int rc = rdb_parse(&r, &o, &sink, st, err);
    rio_release(&r);
    return rc;
}

static void test_files(void)
{
    struct counter c = {0, 0};
    struct rdb_load_stats st;
    sstr err = NULL;
    sstr f = build_file(5000, 1, RDB_TYPE_STRING);
    ok(parse(f, 1000, &c, &err, &st) == 0 && c.keys == 2, "file parses, 2 keys");
    ok(st.checksum_verified, "checksum verified");
    c.keys = 0;
    ok(parse(f, 6000, &c, &err, &st) == 0 && c.keys == 1 && st.keys_expired == 1, "a key past its TTL is skipped");
    f[sstr_len(f) - 1] ^= 0x55;
    c.keys = 0;
    ok(parse(f, 0, &c, &err, &st) != 0 && err && strstr(err, "Wrong RDB checksum") && strstr(err, "test, offset"),
       "bad checksum: %s", err ? err : "");
    sstr_free(err);
    err = NULL;
    sstr_free(f);
    f = build_file(5000, 0, RDB_TYPE_STRING);
    ok(parse(f, 0, &c, &err, &st) == 0 && st.checksum_absent && !st.checksum_verified,
       "checksum 0 is accepted as \"no checksum\"");
    sstr_free(f);

    f = build_file(5000, 1, RDB_TYPE_HASH);
    ok(parse(f, 0, &c, &err, &st) != 0 && err &&
           strstr(err, "Sluice can't load key 'k2' of RDB type 'hash' (type 4): the type is not supported"),
       "hash key refused by name: %s", err ? err : "");
    sstr_free(err);
    err = NULL;
    sstr_free(f);

    /* every truncation is a clean error, none is a success */
    f = build_file(5000, 1, RDB_TYPE_STRING);
    int all_err = 1;
    for (size_t cut = 0; cut < sstr_len(f); cut++) {
        sstr t = sstr_new(f, cut);
        sstr e = NULL;
        struct counter cc = {0, 0};
        all_err &= parse(t, 0, &cc, &e, &st) != 0 && e != NULL;
        sstr_free(e);
        sstr_free(t);
    }
    ok(all_err, "every truncated prefix fails with an error");
    sstr_free(f);

    sstr t = sstr_new("REDIS0011", 9);
    ok(parse(t, 0, &c, &err, &st) != 0 && strstr(err, "Can't handle RDB format version 11"), "RDB 11 refused");
    sstr_free(err);
    err = NULL;
    sstr_free(t);
    t = sstr_new("HELLO0010", 9);
    ok(parse(t, 0, &c, &err, &st) != 0 && strstr(err, "Wrong signature"), "not an RDB file");
    sstr_free(err);
    err = NULL;
    sstr_free(t);
    t = sstr_new("REDIS0009\xfe\x20", 11);
    ok(parse(t, 0, &c, &err, &st) != 0 && strstr(err, "more than 16 databases"), "SELECTDB past databases");
    sstr_free(err);
    err = NULL;
    sstr_free(t);
    t = sstr_new("REDIS0010\xf5\x00", 11);
    ok(parse(t, 0, &c, &err, &st) != 0 && strstr(err, "Functions"), "functions refused");
    sstr_free(err);
    err = NULL;
    sstr_free(t);

    /* duplicate keys in check mode */
    rio w;
    rio_init_buffer(&w);
    rio_write(&w, "REDIS0010", 9);
    for (int i = 0; i < 2; i++) {
        rdb_save_type(&w, RDB_TYPE_STRING);
        rdb_save_raw_string(&w, "dup", 3, 0);
        rdb_save_raw_string(&w, "v", 1, 0);
    }
    rdb_save_type(&w, RDB_OPCODE_EOF);
    rio_write(&w, "\0\0\0\0\0\0\0\0", 8);
    rio r;
    rio_init_mem(&r, rio_buffer_data(&w), rio_buffer_len(&w));
    struct rdb_load_opts o = opts();
    ok(rdb_check(&r, &o, NULL, &st, &err) != 0 && err && strstr(err, "Duplicated key 'dup'"), "duplicate key: %s",
       err ? err : "");
    sstr_free(err);
    rio_release(&r);
    rio_release(&w);
}

/* Every file of the fuzz corpus (real files, and inputs that once broke the
 * loader) loads in check mode or fails with a message; a sanitizer build
 * turns any undefined behaviour on the way into a failure. */
static void test_corpus(void)
{
    const char *srcdir = getenv("SLUICE_SRCDIR");
    char dirpath[512];
    snprintf(dirpath, sizeof(dirpath), "%s/tests/fuzz/corpus_rdb", srcdir && *srcdir ? srcdir : "..");
    DIR *d = opendir(dirpath);
    if (!ok(d != NULL, "the fuzz corpus %s is readable", dirpath))
        return;
    struct dirent *de;
    int files = 0, clean = 1;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[1024];
        snprintf(path, sizeof(path), "%s/%s", dirpath, de->d_name);
        FILE *fp = fopen(path, "rb");
        if (!fp)
            continue;
        char buf[1 << 16];
        size_t n = fread(buf, 1, sizeof(buf), fp);
        fclose(fp);
        for (int verify = 0; verify < 2; verify++) {
            rio r;
            struct rdb_load_opts o = opts();
            o.verify_checksum = verify;
            struct rdb_load_stats st;
            sstr err = NULL;
            rio_init_mem(&r, buf, n);
            int rc = rdb_check(&r, &o, NULL, &st, &err);
            if (rc != 0 && !err) {
                clean = 0;
                tap_diag("%s: failed without a message", de->d_name);
            }
            sstr_free(err);
            rio_release(&r);
        }
        files++;
    }
    closedir(d);
    ok(files >= 6 && clean, "%d corpus files load or fail cleanly (regressions included)", files);
}

int main(void)
{
    rdb_standalone_init();
    /* mem_used() counts every malloc of the thread (jemalloc's counters),
     * stdout's buffer too: print before taking the baseline */
    tap_diag("RDB format layer");
    size_t base = mem_used();
    test_crc64();
    test_rio();
    test_listpack();
    test_ziplist();
    test_primitives();
    test_old_lists();
    test_values();
    test_streams();
    test_files();
    test_corpus();
    is_int((long long)mem_used(), (long long)base, "no memory leaked");
    return tap_done();
}
