/* crc64.c - CRC-64/Jones (reflected), see crc64.h.
 *
 * Slice-by-8: eight 256-entry tables let the inner loop fold eight input
 * bytes per step, which matters because every byte of a snapshot goes
 * through here (Redis uses the same technique through crcspeed).  The
 * tables are built on first use from the reflected polynomial; the
 * byte-at-a-time loop handles the unaligned head and the tail.
 */
#include "crc64.h"

#include <string.h>

#define POLY_REFLECTED 0x95ac9329ac4bc9b5ULL /* bit reversal of 0xad93d23594c935a9 */

static uint64_t table[8][256];
static int table_ready;

static void build_tables(void)
{
    for (int n = 0; n < 256; n++) {
        uint64_t crc = (uint64_t)n;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ POLY_REFLECTED : crc >> 1;
        table[0][n] = crc;
    }
    for (int n = 0; n < 256; n++) {
        uint64_t crc = table[0][n];
        for (int k = 1; k < 8; k++) {
            crc = table[0][crc & 0xff] ^ (crc >> 8);
            table[k][n] = crc;
        }
    }
    table_ready = 1;
}

uint64_t crc64(uint64_t crc, const void *p, size_t len)
{
    const unsigned char *s = p;
    if (!table_ready)
        build_tables();
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (len && ((uintptr_t)s & 7)) {
        crc = table[0][(crc ^ *s++) & 0xff] ^ (crc >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        crc ^= w;
        crc = table[7][crc & 0xff] ^ table[6][(crc >> 8) & 0xff] ^ table[5][(crc >> 16) & 0xff] ^
              table[4][(crc >> 24) & 0xff] ^ table[3][(crc >> 32) & 0xff] ^ table[2][(crc >> 40) & 0xff] ^
              table[1][(crc >> 48) & 0xff] ^ table[0][crc >> 56];
        s += 8;
        len -= 8;
    }
#endif
    /* the head and tail (and everything on big-endian machines, where the
     * word-folding tables would need byte-swapped variants) */
    while (len--)
        crc = table[0][(crc ^ *s++) & 0xff] ^ (crc >> 8);
    return crc;
}
