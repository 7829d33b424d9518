/* digest.h - DEBUG DIGEST and DEBUG DIGEST-VALUE, computed exactly as
 * Redis 7.0's debug.c computes them, so the same dataset gives the same
 * 40 hex digits on sluice-server and redis-server: tests compare a
 * server before a crash with itself after the restart, and Sluice with a
 * redis-server that loaded the same AOF.
 *
 * The dataset digest is the XOR over every key of SHA1 mixes of (key,
 * type, value, "has an expire"), per database with the database number
 * mixed in; so it does not depend on iteration order.  Strings, lists and
 * streams (entries only, as Redis: not the groups) are built in; a value
 * type added later registers its mixer with digest_register_type().
 */
#ifndef SLUICE_DIGEST_H
#define SLUICE_DIGEST_H

#include <stddef.h>

struct value;

/* SHA1 (FIPS 180-1). */
void sha1(unsigned char out[20], const void *data, size_t len);

/* Redis's mixDigest: digest = SHA1(digest XOR SHA1(data)). */
void digest_mix(unsigned char digest[20], const void *p, size_t len);
/* Redis's xorDigest: digest ^= SHA1(data). */
void digest_xor(unsigned char digest[20], const void *p, size_t len);

/* The whole dataset (DEBUG DIGEST); all zeros when empty. */
void debug_digest(unsigned char out[20]);

/* A value type's contribution, as Redis's xorObjectDigest does for it
 * (after the type and before the expire mark, which this module adds). */
typedef void digest_value_fn(unsigned char digest[20], const struct value *v);
void digest_register_type(int value_type, digest_value_fn *fn);

/* Registers DIGEST and DIGEST-VALUE with the DEBUG command. */
void digest_register_debug(void);

#endif
