/* aof_parse.h - the AOF command format, parsed from memory.
 *
 * An AOF (or the command part of a base file, or the tail after an RDB
 * preamble) is a sequence of RESP multibulk commands, exactly as a client
 * sends them ("*<argc>\r\n" then "$<len>\r\n<bytes>\r\n" per argument),
 * plus annotation lines starting with '#' (Redis writes "#TS:..." there).
 *
 * This module knows nothing of files, clients or the keyspace, so the same
 * code validates files in utils/sluice-check-aof, feeds the loader and runs
 * under the fuzzer.  It is stricter than Redis's loader in one respect: the
 * CRLF after each argument and the digits of every length are checked, so
 * a corrupt file is refused instead of being loaded as different data.
 *
 * The scanner on top (aof_scan) applies the loader's transaction rules:
 * a MULTI without its EXEC at the end is an incomplete transaction (cut
 * like a torn tail), a nested MULTI or an EXEC without MULTI is corruption.
 */
#ifndef SLUICE_AOF_PARSE_H
#define SLUICE_AOF_PARSE_H

#include <stddef.h>

#include "resp.h"

enum aofp_result {
    AOFP_COMMAND,    /* argv/argc hold a whole command */
    AOFP_ANNOTATION, /* a '#' line, consumed: nothing to run */
    AOFP_NEED_MORE,  /* the buffer ends inside a command (a torn tail at EOF) */
    AOFP_ERROR,      /* not the AOF format: error/error_at say what and where */
};

/* Arguments longer than this are refused as corruption (Redis's
 * proto-max-bulk-len can be raised to any size; 1 TiB keeps sizes safe
 * from overflow while accepting every real file). */
#define AOFP_MAX_BULK (1LL << 40)

struct aof_parser {
    int argc, cap;
    struct arg *argv;   /* slices of the buffer passed to aof_parse_next */
    size_t error_at;    /* offset in that buffer of the bad byte */
    char error[96];
};

void aof_parser_init(struct aof_parser *p);
void aof_parser_free(struct aof_parser *p);

/* Parse the next item at buf[0..len).  *consumed gets its size on
 * AOFP_COMMAND and AOFP_ANNOTATION.  On AOFP_NEED_MORE call again from the
 * same start once more bytes are there. */
enum aofp_result aof_parse_next(struct aof_parser *p, const char *buf, size_t len, size_t *consumed);

/* Whole-buffer validation with the loader's transaction rules. */
enum aof_scan_status {
    AOF_SCAN_OK,          /* every byte is part of a complete command */
    AOF_SCAN_TRUNCATED,   /* torn tail: valid_up_to is where it starts */
    AOF_SCAN_OPEN_MULTI,  /* ends inside MULTI: valid_up_to is the MULTI */
    AOF_SCAN_FORMAT,      /* corruption at error_at (valid_up_to: last good command end) */
};

struct aof_scan_result {
    enum aof_scan_status status;
    size_t valid_up_to;       /* bytes that load as whole commands/transactions */
    size_t error_at;          /* AOF_SCAN_FORMAT: offset of the problem */
    long long commands;       /* commands in the valid part */
    long long line;           /* 1-based line of valid_up_to, as redis-check-aof counts */
    char error[96];
};

void aof_scan(const char *buf, size_t len, struct aof_scan_result *r);

#endif
