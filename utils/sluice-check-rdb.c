/* sluice-check-rdb - check an RDB file the way Sluice would load it.
 *
 * Runs the server's own RDB parser in check mode (rdb_check(): every key is
 * decoded into a scratch keyspace that is thrown away), and prints a report
 * in the shape of redis-check-rdb's:
 *
 *   [offset 0] Checking RDB file dump.rdb
 *   [offset 26] AUX FIELD redis-ver = '7.0.15'
 *   [offset 81] Selecting DB ID 0
 *   [offset 110] Checksum OK
 *   [offset 110] \o/ RDB looks OK! \o/
 *   [info] 2 keys read
 *
 * or "--- RDB ERROR DETECTED ---" and the error with its offset.  Exit
 * status 0 when the file would load, 1 otherwise.  Types Sluice can't hold
 * (sets, hashes...) are errors here too: the server would refuse them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "rdb_format.h"
#include "rio.h"

static void on_aux(void *priv, const char *k, size_t kl, const char *v, size_t vl, uint64_t off)
{
    (void)priv;
    printf("[offset %llu] AUX FIELD %.*s = '%.*s'\n", (unsigned long long)off, (int)kl, k, (int)vl, v);
}

static void on_select(void *priv, int dbid, uint64_t off)
{
    (void)priv;
    printf("[offset %llu] Selecting DB ID %d\n", (unsigned long long)off, dbid);
}

static long long now_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int main(int argc, char **argv)
{
    if (argc != 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "Usage: %s <rdb-file-name>\n", argv[0]);
        return 1;
    }
    const char *path = argv[1];
    rdb_standalone_init();
    printf("[offset 0] Checking RDB file %s\n", path);
    int fd = open(path, O_RDONLY);
    if (fd == -1) {
        printf("--- RDB ERROR DETECTED ---\n");
        printf("[offset 0] Cannot open RDB file %s: %s\n", path, strerror(errno));
        return 1;
    }
    rio r;
    rio_init_fd(&r, fd);
    /* the tool doesn't know the server's `databases`: accept any DB id a
     * server could be configured for */
    struct rdb_load_opts o = {path, 1 << 16, -2, 1, now_ms(), 0, 0};
    struct rdb_sink notify = {NULL, NULL, on_aux, on_select, NULL};
    struct rdb_load_stats st;
    sstr err = NULL;
    int rc = rdb_check(&r, &o, &notify, &st, &err);
    if (rc == 0) {
        if (st.checksum_verified)
            printf("[offset %llu] Checksum OK\n", (unsigned long long)rio_tell(&r));
        else if (st.checksum_absent)
            printf("[offset %llu] RDB file was saved with checksum disabled: no check performed.\n",
                   (unsigned long long)rio_tell(&r));
        long long extra = rio_remaining(&r);
        if (extra > 0)
            printf("[offset %llu] %lld bytes after the RDB data (an AOF tail?)\n", (unsigned long long)rio_tell(&r),
                   extra);
        printf("[offset %llu] \\o/ RDB looks OK! \\o/\n", (unsigned long long)rio_tell(&r));
    } else {
        printf("--- RDB ERROR DETECTED ---\n");
        printf("[offset %llu] %s\n", (unsigned long long)st.error_offset, err ? err : "error");
    }
    printf("[info] %lld keys read\n", st.keys_loaded + st.keys_expired);
    printf("[info] %lld expires\n", st.expires + st.keys_expired);
    printf("[info] %lld already expired\n", st.keys_expired);
    if (st.empty_skipped)
        printf("[info] %lld empty keys skipped\n", st.empty_skipped);
    if (rc != 0)
        printf("--- RDB ERROR DETECTED ---\n");
    sstr_free(err);
    rio_release(&r);
    close(fd);
    return rc == 0 ? 0 : 1;
}
