/* slot.c - CRC16 (XMODEM: poly 0x1021, init 0, no reflection) and the
 * hash-tag rule of Redis Cluster's key_hash_slot(). */
#include "slot.h"

static uint16_t crc16_table[256];
static int crc16_ready;

static void crc16_init(void)
{
    for (int i = 0; i < 256; i++) {
        uint16_t crc = (uint16_t)(i << 8);
        for (int b = 0; b < 8; b++)
            crc = (crc & 0x8000) ? (uint16_t)((crc << 1) ^ 0x1021) : (uint16_t)(crc << 1);
        crc16_table[i] = crc;
    }
    crc16_ready = 1;
}

uint16_t crc16_xmodem(const char *buf, size_t len)
{
    if (!crc16_ready)
        crc16_init();
    uint16_t crc = 0;
    for (size_t i = 0; i < len; i++)
        crc = (uint16_t)((crc << 8) ^ crc16_table[((crc >> 8) ^ (unsigned char)buf[i]) & 0xff]);
    return crc;
}

unsigned int key_hash_slot(const char *key, size_t len)
{
    size_t s, e;
    for (s = 0; s < len; s++)
        if (key[s] == '{')
            break;
    if (s == len)
        return crc16_xmodem(key, len) & (SLOT_COUNT - 1);
    for (e = s + 1; e < len; e++)
        if (key[e] == '}')
            break;
    /* no closing brace, or "{}": hash the whole key */
    if (e == len || e == s + 1)
        return crc16_xmodem(key, len) & (SLOT_COUNT - 1);
    return crc16_xmodem(key + s + 1, e - s - 1) & (SLOT_COUNT - 1);
}
