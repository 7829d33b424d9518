/* test_slot.c - unit tests for server/lib/slot.c (CRC16/XMODEM and Redis
 * Cluster hash slots).
 *
 * Expected slots in `redis_table` were obtained from the real Redis 7.0.15
 * (Debian 12's /usr/bin/redis-server, started with --cluster-enabled yes on
 * a random free port) with `redis-cli -p PORT CLUSTER KEYSLOT <key>`; the
 * keys with NUL or high bytes were sent as raw RESP through nc.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "slot.h"
#include "tap.h"

/* Bit-at-a-time CRC16/XMODEM straight from the definition (poly 0x1021,
 * init 0, no reflection, no final xor), to check the table-driven one. */
static uint16_t crc16_ref(const unsigned char *p, size_t len)
{
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++) {
        crc ^= (uint16_t)(p[i] << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
    }
    return crc;
}

/* The hash-tag rule as the Redis Cluster spec words it, written with
 * memchr rather than index loops. */
static unsigned slot_ref(const char *key, size_t len)
{
    const char *open = memchr(key, '{', len);
    if (open) {
        size_t after = (size_t)(open - key) + 1;
        const char *close = memchr(open + 1, '}', len - after);
        if (close && close > open + 1)
            return crc16_ref((const unsigned char *)open + 1, (size_t)(close - open - 1)) % 16384;
    }
    return crc16_ref((const unsigned char *)key, len) % 16384;
}

#define SLOT(s) key_hash_slot((s), sizeof(s) - 1)

static const struct {
    const char *key;
    size_t len;
    unsigned slot;
} redis_table[] = {
#define K(s, n) {s, sizeof(s) - 1, n}
    K("foo", 12182),
    K("bar", 5061),
    K("{user1000}.following", 3443),
    K("{user1000}.followers", 3443),
    K("{user1000}", 3443),
    K("foo{}{bar}", 8363),
    K("foo{{bar}}zap", 4015),
    K("foo{bar}{zap}", 5061),
    K("", 0),
    K("a", 15495),
    K("key:1", 6657),
    K("user:1000", 1649),
    K("{}", 15257),
    K("{", 4092),
    K("}", 12090),
    K("{a}", 15495),
    K("a{b}c", 3300),
    K("x{}y{z}", 15453),
    K("{{}}", 4092),
    K("{}}", 14790),
    K("bar{}", 16328),
    K("{abc", 444),
    K("a{b", 13340),
    K("123456789", 12739),
    K("hello world", 15332),
    K("mykey", 14687),
    K("somekey", 11058),
    K("{tag}A", 8338),
    K("tag", 8338),
    K("user{42}:profile", 8000),
    K("\xc3\xbf", 5427),             /* "ÿ" in UTF-8 */
    K("caf\xc3\xa9", 5735),          /* "café" */
    K("caf\\xc3\\xa9", 15024),       /* the same, backslashes literal */
    K("a\0b", 8383),                 /* sent as raw RESP */
    K("{\0}xy", 0),                  /* tag is a single NUL byte: crc16("\0") == 0 */
    K("\xff\xfe\x80\x01", 14409),
    K("caf\xc3", 9974),
    K("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 14188),
#undef K
};

int main(void)
{
    /* CRC16/XMODEM check value from the CRC catalogue */
    is_int(crc16_xmodem("123456789", 9), 0x31C3, "crc16(\"123456789\") == 0x31C3");
    is_int(crc16_xmodem("", 0), 0, "crc16 of nothing is 0");
    is_int(crc16_xmodem("\0", 1), 0, "crc16 of one NUL byte is 0 (init 0)");
    is_int(crc16_xmodem("A", 1), 0x58e5, "crc16(\"A\") == 0x58E5");
    is_int(crc16_xmodem("123456789", 0), 0, "length 0 reads nothing");
    is_int(crc16_xmodem("1234567890", 9), 0x31C3, "crc16 stops at the given length");

    /* table-driven vs bitwise, for every single byte and random buffers */
    int bad = 0;
    for (int c = 0; c < 256; c++) {
        unsigned char b = (unsigned char)c;
        if (crc16_xmodem((const char *)&b, 1) != crc16_ref(&b, 1))
            bad++;
    }
    is_int(bad, 0, "crc16 of every single byte matches the bitwise definition");
    uint32_t x = 2463534242u;
    unsigned char buf[300];
    bad = 0;
    for (int t = 0; t < 2000; t++) {
        size_t len = (size_t)(t % 300);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            buf[i] = (unsigned char)x;
        }
        if (crc16_xmodem((const char *)buf, len) != crc16_ref(buf, len))
            bad++;
    }
    is_int(bad, 0, "crc16 matches the bitwise definition on 2000 random buffers");

    /* The examples of the Redis Cluster specification. */
    is_int(SLOT("foo"), 12182, "slot(foo) == 12182");
    is_int(SLOT("bar"), 5061, "slot(bar) == 5061");
    is_int(SLOT("{user1000}.following"), SLOT("{user1000}.followers"),
           "{user1000}.following and {user1000}.followers share a slot");
    is_int(SLOT("{user1000}.following"), SLOT("user1000"), "... the slot of user1000");
    is_int(SLOT("foo{}{bar}"), crc16_xmodem("foo{}{bar}", 10) % 16384, "foo{}{bar}: empty tag, whole key hashed");
    is_int(SLOT("foo{{bar}}zap"), crc16_xmodem("{bar", 4) % 16384, "foo{{bar}}zap hashes \"{bar\"");
    is_int(SLOT("foo{bar}{zap}"), crc16_xmodem("bar", 3) % 16384, "foo{bar}{zap} hashes \"bar\" (first tag)");
    is_int(SLOT("foo{bar}{zap}"), SLOT("bar"), "foo{bar}{zap} is in bar's slot");
    is_int(key_hash_slot("", 0), 0, "the empty key is in slot 0");
    is_int(SLOT("{}"), crc16_xmodem("{}", 2) % 16384, "{} alone: whole key");
    is_int(SLOT("foo{bar"), crc16_xmodem("foo{bar", 7) % 16384, "unclosed {: whole key");
    is_int(SLOT("foo}bar{"), crc16_xmodem("foo}bar{", 8) % 16384, "} before {: whole key");
    is_int(key_hash_slot("x{ab}yz", 5), crc16_xmodem("ab", 2) % 16384, "tag closed within the length");
    is_int(key_hash_slot("x{ab}yz", 4), crc16_xmodem("x{ab", 4) % 16384, "a } past the length does not count");
    is_int(key_hash_slot("a\0{b}", 5), SLOT("b"), "a NUL before the tag does not end the key");
    is_int(key_hash_slot("{a\0b}", 5), crc16_xmodem("a\0b", 3) % 16384, "tags may contain NUL bytes");

    /* Table obtained from redis-server 7.0.15 CLUSTER KEYSLOT. */
    int nt = (int)(sizeof(redis_table) / sizeof(redis_table[0]));
    for (int i = 0; i < nt; i++) {
        char name[64];
        size_t j, o = 0;
        for (j = 0; j < redis_table[i].len && o < 40; j++) {
            unsigned char c = (unsigned char)redis_table[i].key[j];
            o += (size_t)snprintf(name + o, sizeof(name) - o, c >= 32 && c < 127 ? "%c" : "\\x%02x", c);
        }
        if (j < redis_table[i].len)
            snprintf(name + o, sizeof(name) - o, "...");
        is_int(key_hash_slot(redis_table[i].key, redis_table[i].len), redis_table[i].slot,
               "CLUSTER KEYSLOT \"%s\" == %u (redis-server)", name, redis_table[i].slot);
    }

    /* Random keys over an alphabet rich in braces, against the rule as
     * the spec words it; every slot < 16384. */
    static const char alpha[] = "{}{}ab\0";
    char key[24];
    bad = 0;
    int range_bad = 0, tagged = 0;
    for (int t = 0; t < 200000; t++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        size_t len = x % 12;
        uint32_t y = x;
        for (size_t i = 0; i < len; i++) {
            y = y * 1103515245u + 12345u;
            key[i] = alpha[(y >> 16) % 7];
        }
        unsigned s = key_hash_slot(key, len);
        if (s != slot_ref(key, len))
            bad++;
        if (s >= SLOT_COUNT)
            range_bad++;
        const char *o = memchr(key, '{', len);
        if (o && memchr(o, '}', len - (size_t)(o - key)))
            tagged++;
    }
    is_int(bad, 0, "200000 random brace-heavy keys agree with the spec's rule (%d had {...})", tagged);
    is_int(range_bad, 0, "every slot is below 16384");
    return tap_done();
}
