/* slot.h - Redis Cluster hash slots.
 *
 * The keyspace is partitioned exactly as Redis Cluster does it: the slot of
 * a key is CRC16-CCITT (XMODEM) of the key, or of the first non-empty
 * `{hash tag}` inside it, modulo 16384.  Partitions are the unit that will
 * move between nodes, so every module finds a key's partition through here.
 */
#ifndef SLUICE_SLOT_H
#define SLUICE_SLOT_H

#include <stddef.h>
#include <stdint.h>

#define SLOT_COUNT 16384

uint16_t crc16_xmodem(const char *buf, size_t len);
unsigned int key_hash_slot(const char *key, size_t len);

#endif
