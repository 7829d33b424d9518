/* fuzz_rdb.c - libFuzzer target for the RDB loader (persistence/rdb_*.c).
 *
 * Each input is read three ways, through the code the server uses:
 *  1. as a whole RDB file in check mode (rdb_check(): parse into a scratch
 *     keyspace, free it), checksum verification off so that garbage reaches
 *     every value decoder instead of failing at the trailing CRC;
 *  2. the same with verification on (the CRC path and its messages);
 *  3. as a DUMP payload (what RESTORE decodes), without the CRC check.
 * It aborts when a failure comes without an error naming the input, and
 * when anything allocated during a run is still allocated after it (the
 * allocation counter of mem.h must come back to its value before the run).
 * Build and run: tests/fuzz/README.md.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "rdb_format.h"
#include "rio.h"

static void check_file(const uint8_t *data, size_t size, int verify)
{
    rio r;
    struct rdb_load_opts o = {"fuzz.rdb", 16, -2, verify, 1000, 0, 0};
    struct rdb_load_stats st;
    sstr err = NULL;
    rio_init_mem(&r, data, size);
    int rc = rdb_check(&r, &o, NULL, &st, &err);
    if (rc != 0 && (!err || !strstr(err, "fuzz.rdb")))
        abort();
    sstr_free(err);
    rio_release(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        rdb_standalone_init();
        init = 1;
    }
    size_t before = mem_used();
    check_file(data, size, 0);
    check_file(data, size, 1);
    if (size >= 10) {
        struct rdb_load_opts o = {"DUMP payload", 16, -2, 0, 0, 1, 0};
        sstr err = NULL;
        struct value *v = rdb_load_payload(data, size, &o, &err);
        if (!v && !err)
            abort();
        value_free(v);
        sstr_free(err);
    }
    if (mem_used() != before)
        abort(); /* something outlived the load */
    return 0;
}
