/* fuzz_aof.c - fuzz target for the AOF command parser, the transaction
 * scanner the loader and the check tool share, and the manifest parser.
 *
 * Properties checked on every input (abort() on violation, so libFuzzer
 * and the smoke run both report it):
 *  - the scanner's valid prefix is within the input and OK means all of it;
 *  - every prefix of a complete command parses as NEED_MORE, never as an
 *    error: a write torn anywhere is a torn tail, never "corruption" (what
 *    aof-load-truncated and --fix rely on);
 *  - the valid prefix, re-encoded, scans as OK with the same commands;
 *  - a manifest that parses formats to text that parses to the same text.
 *
 * libFuzzer:  clang -g -O1 -fsanitize=fuzzer,address -Iserver -Ipersistence \
 *               tests/fuzz/fuzz_aof.c persistence/aof_parse.c \
 *               persistence/aof_manifest.c server/lib/resp.c server/lib/mem.c server/lib/sstr.c \
 *               server/lib/util.c -lm -o fuzz_aof
 * make check builds it with -DFUZZ_SMOKE_MAIN: a deterministic run over
 * generated AOF fragments and their mutations, printed as TAP.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aof_manifest.h"
#include "aof_parse.h"
#include "mem.h"

#define CHECK(cond)                                                                     \
    do {                                                                                \
        if (!(cond)) {                                                                  \
            fprintf(stderr, "fuzz_aof: property failed at line %d: %s\n", __LINE__, #cond); \
            abort();                                                                    \
        }                                                                               \
    } while (0)

static void check_prefixes(const char *buf, size_t len)
{
    struct aof_parser p;
    aof_parser_init(&p);
    size_t pos = 0;
    int steps = 0;
    while (pos < len && steps++ < 64) {
        size_t used = 0;
        enum aofp_result r = aof_parse_next(&p, buf + pos, len - pos, &used);
        if (r != AOFP_COMMAND && r != AOFP_ANNOTATION)
            break;
        CHECK(used > 0 && used <= len - pos);
        /* a few cuts inside the item: never an error */
        size_t cuts[4] = {0, used / 3, used / 2, used - 1};
        for (int k = 0; k < 4; k++) {
            size_t u2 = 0;
            enum aofp_result r2 = aof_parse_next(&p, buf + pos, cuts[k], &u2);
            CHECK(r2 == AOFP_NEED_MORE);
        }
        pos += used;
    }
    aof_parser_free(&p);
}

static void check_reencode(const char *buf, size_t len, const struct aof_scan_result *r)
{
    struct aof_parser p;
    aof_parser_init(&p);
    sstr out = sstr_empty(len + 16);
    size_t pos = 0;
    while (pos < r->valid_up_to) {
        size_t used = 0;
        enum aofp_result res = aof_parse_next(&p, buf + pos, r->valid_up_to - pos, &used);
        CHECK(res == AOFP_COMMAND || res == AOFP_ANNOTATION);
        if (res == AOFP_COMMAND)
            out = resp_cat_command(out, p.argc, p.argv);
        pos += used;
    }
    struct aof_scan_result r2;
    aof_scan(out, sstr_len(out), &r2);
    CHECK(r2.status == AOF_SCAN_OK);
    CHECK(r2.valid_up_to == sstr_len(out));
    CHECK(r2.commands == r->commands);
    sstr_free(out);
    aof_parser_free(&p);
}

static void check_manifest(const char *buf, size_t len)
{
    sstr err = sstr_empty(0);
    struct aof_manifest *am = aof_manifest_parse(buf, len, &err);
    if (am) {
        sstr text = aof_manifest_format(am);
        sstr err2 = sstr_empty(0);
        struct aof_manifest *am2 = aof_manifest_parse(text, sstr_len(text), &err2);
        /* a manifest with only history entries formats to text that
         * still parses; one with none at all formats to "" (rejected) */
        if (sstr_len(text)) {
            CHECK(am2 != NULL);
            sstr text2 = aof_manifest_format(am2);
            CHECK(sstr_len(text2) == sstr_len(text) && !memcmp(text, text2, sstr_len(text)));
            sstr_free(text2);
        }
        aof_manifest_free(am2);
        sstr_free(err2);
        sstr_free(text);
        aof_manifest_free(am);
    }
    sstr_free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    struct aof_scan_result r;
    aof_scan(buf, size, &r);
    CHECK(r.valid_up_to <= size);
    if (r.status == AOF_SCAN_OK)
        CHECK(r.valid_up_to == size);
    if (r.status == AOF_SCAN_FORMAT)
        CHECK(r.error_at <= size);
    check_prefixes(buf, size);
    check_reencode(buf, size, &r);
    if (size < 4096)
        check_manifest(buf, size);
    return 0;
}

#ifdef FUZZ_SMOKE_MAIN
/* ---- seeded smoke run for make check ----------------------------------------- */

static uint64_t rng = 0x5eed5eed12345678ULL;

static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

static sstr gen_aof(void)
{
    static const char *const words[] = {"SET", "RPUSH", "DEL", "SELECT", "MULTI", "EXEC", "PEXPIREAT", "x", "", "\r\n",
                                        "*1", "$3", "#TS:1"};
    sstr s = sstr_empty(256);
    int ncmd = (int)(next() % 8);
    for (int i = 0; i < ncmd; i++) {
        if (next() % 10 == 0) {
            s = sstr_cats(s, "#TS:1234\r\n");
            continue;
        }
        int argc = 1 + (int)(next() % 4);
        struct arg argv[4];
        char bin[4][8];
        for (int j = 0; j < argc; j++) {
            if (next() % 4 == 0) {
                int n = (int)(next() % 8);
                for (int k = 0; k < n; k++)
                    bin[j][k] = (char)next();
                argv[j] = (struct arg){bin[j], (size_t)n};
            } else {
                const char *w = words[next() % (sizeof(words) / sizeof(words[0]))];
                argv[j] = (struct arg){w, strlen(w)};
            }
        }
        s = resp_cat_command(s, argc, argv);
    }
    return s;
}

static void mutate(sstr *s)
{
    int n = (int)(next() % 4);
    for (int i = 0; i < n && sstr_len(*s); i++) {
        size_t at = next() % sstr_len(*s);
        switch (next() % 4) {
        case 0: (*s)[at] = (char)next(); break;
        case 1: (*s)[at] ^= (char)(1 << (next() % 8)); break;
        case 2: sstr_setlen(*s, at); break;
        default: *s = sstr_cat(*s, "*2\r\n$1", 7); break;
        }
    }
}

int main(int argc, char **argv)
{
    long iterations = argc > 1 ? atol(argv[1]) : 30000;
    static const char *const seeds[] = {
        "*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n",
        "*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n*1\r\n$4\r\nEXEC\r\n",
        "*1\r\n$5\r\nMULTI\r\n*2\r\n$3\r\nDEL\r\n$1\r\na\r\n",
        "*1\r\n$4\r\nEXEC\r\n",
        "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1",
        "*0\r\n",
        "*-1\r\n",
        "*1\r\n$99999999999999999999\r\n",
        "#TS:1\r\n*1\r\n$4\r\nPING\r\n",
        "file appendonly.aof.1.base.rdb seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i\n",
        "file \"a b\" seq 2 type h\n# comment\nfile x seq 3 type i\n",
        "file a seq 1 type i\nfile b seq 1 type i\n",
        "",
    };
    int nseeds = (int)(sizeof(seeds) / sizeof(seeds[0]));
    printf("1..2\n");
    for (int i = 0; i < nseeds; i++)
        LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], strlen(seeds[i]));
    printf("ok 1 - %d seed inputs keep every property\n", nseeds);
    for (long i = 0; i < iterations; i++) {
        sstr s = i % 3 == 0 ? sstr_from(seeds[next() % (unsigned)nseeds]) : gen_aof();
        if (i % 2)
            mutate(&s);
        LLVMFuzzerTestOneInput((const uint8_t *)s, sstr_len(s));
        sstr_free(s);
    }
    printf("ok 2 - %ld generated and mutated inputs keep every property\n", iterations);
    return 0;
}
#endif
