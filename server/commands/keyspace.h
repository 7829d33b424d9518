/* keyspace.h - helpers shared by the keyspace command modules (expire.c,
 * t_string.c, cmd_keyspace.c).  Implemented in expire.c unless inline.
 *
 * These reproduce small pieces of Redis 7.0's server core that several
 * commands depend on for byte-exact replies:
 *  - option words are compared as C strings (Redis compares argv->ptr with
 *    strcasecmp, so an argument is only read up to its first NUL byte);
 *  - "invalid expire time in '<cmd>' command" names the command's full name;
 *  - SET/SETEX/PSETEX/GETEX turn their EX/PX/EXAT/PXAT argument into an
 *    absolute time with Redis's validation order and overflow checks;
 *  - lookups "without touching" (EXISTS, TYPE, TTL, OBJECT) still expire the
 *    key and count keyspace hits/misses, but leave the LRU clock alone.
 */
#ifndef SLUICE_KEYSPACE_H
#define SLUICE_KEYSPACE_H

#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "resp.h"

struct client;
struct db;
struct value;

/* Case-insensitive match of an option word, reading the argument as Redis
 * does: as a C string, i.e. only up to its first NUL byte. */
static inline int ks_opt_is(const struct arg *a, const char *word)
{
    const char *nul = memchr(a->ptr, '\0', a->len);
    size_t len = nul ? (size_t)(nul - a->ptr) : a->len;
    return strlen(word) == len && strncasecmp(a->ptr, word, len) == 0;
}

/* The running command's full name ("set", "object|encoding"), as Redis's
 * c->cmd->fullname; error messages quote it. */
const char *ks_command_name(struct client *c);

/* "-ERR invalid expire time in '<cmd>' command" */
void ks_reply_invalid_expire(struct client *c);

/* Redis's getExpireMillisecondsOrReply(): parse the EX/PX/EXAT/PXAT value
 * of SET/SETEX/PSETEX/GETEX.  `unit_seconds` for EX/EXAT, `relative` for
 * EX/PX (the current time is added).  Non-positive values and overflows are
 * "invalid expire time".  Returns 0 with *when_ms set, or -1 after replying
 * with the error. */
int ks_parse_set_expire(struct client *c, const struct arg *a, int unit_seconds, int relative, long long *when_ms);

/* Whether an absolute expire time is already in the past (so setting it
 * deletes the key instead), as Redis's checkAlreadyExpired(). */
int ks_already_expired(long long when_ms);

/* The time commands use as "now" for expiry arithmetic (ms). */
long long ks_now_ms(void);

/* Redis's lookupKeyReadWithFlags(LOOKUP_NOTOUCH): deletes the key if it
 * has expired, counts a keyspace hit or miss, does not update the LRU. */
struct value *ks_lookup_read_notouch(struct db *db, const char *key, size_t len);

#endif
