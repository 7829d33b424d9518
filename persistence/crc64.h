/* crc64.h - CRC-64 as Redis computes it for RDB files and DUMP payloads.
 *
 * The "Jones" polynomial 0xad93d23594c935a9, reflected input and output,
 * initial value 0 and no final xor (Redis's crc64.c, itself from the
 * crcspeed project).  crc64(0, "123456789", 9) == 0xe9c6d914c4b8d9ca.
 * The value is chained: crc64(crc64(0, a), b) == crc64(0, a || b), which
 * is how rio keeps a running checksum over everything it reads or writes.
 */
#ifndef SLUICE_CRC64_H
#define SLUICE_CRC64_H

#include <stddef.h>
#include <stdint.h>

uint64_t crc64(uint64_t crc, const void *p, size_t len);

#endif
