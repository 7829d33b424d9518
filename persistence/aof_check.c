/* aof_check.c - utils/sluice-check-aof: validate (and repair a torn tail
 * of) an AOF, as redis-check-aof does for Redis.
 *
 *   sluice-check-aof [--fix] <appendonlydir/appendonly.aof.manifest>
 *   sluice-check-aof [--fix] <file.aof>
 *
 * With a manifest, every file it names is checked in loading order (base,
 * then incremental files); a single file is checked alone.  Each file is
 * parsed with the loader's own parser and transaction rules (aof_parse.c),
 * so "valid" here means "the server loads it whole".  A base or old-style
 * AOF that starts with an RDB preamble ("REDIS") is checked by the RDB
 * module in check mode (rdb_check: every key decoded, CRC-64 verified),
 * then the commands after it, if any.
 *
 * --fix is non-interactive (unlike redis-check-aof, it asks nothing): it
 * truncates the last file at the end of its last complete command when
 * the problem is a torn tail - an incomplete final command, or a final
 * MULTI whose EXEC never made it - which is exactly what a crash in the
 * middle of a write leaves, and what aof-load-truncated yes would cut at
 * startup.  Corruption before the end is reported with its offset and
 * never "fixed": truncating there would throw away valid data behind it.
 *
 * Exit status: 0 when everything is valid (or was fixed), 1 otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "aof_manifest.h"
#include "aof_parse.h"
#include "mem.h"
#include "rdb_format.h"
#include "rio.h"

enum verdict { V_OK, V_FIXED, V_BAD };

/* The RDB part at the start of a file (a base.rdb, or an old-style
 * preamble): parsed by the RDB module in check mode, every key decoded
 * and the CRC-64 verified.  Returns where it ends, 0 on error (printed). */
static size_t check_rdb(const unsigned char *buf, size_t len, const char *label)
{
    static int inited;
    if (!inited) {
        rdb_standalone_init();
        inited = 1;
    }
    struct timeval tv;
    gettimeofday(&tv, NULL);
    rio r;
    rio_init_mem(&r, buf, len);
    /* any DB id a server could be configured for; expired keys are kept
     * in an AOF base, as the loader keeps them */
    struct rdb_load_opts o = {label, 1 << 16, -2, 1, (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000, 1, 0};
    struct rdb_sink notify = {0};
    struct rdb_load_stats st;
    sstr err = NULL;
    size_t end = 0;
    if (rdb_check(&r, &o, &notify, &st, &err) == 0) {
        end = (size_t)rio_tell(&r);
        printf("RDB preamble is OK (%zu bytes, %lld keys, %s), proceeding with AOF tail...\n", end,
               st.keys_loaded + st.keys_expired,
               st.checksum_verified ? "CRC-64 verified" : "saved without checksum");
    } else {
        printf("RDB preamble of %s is not valid: %s (offset %llu)\n", label, err ? err : "error",
               (unsigned long long)st.error_offset);
    }
    sstr_free(err);
    rio_release(&r);
    return end;
}

static enum verdict check_file(const char *path, const char *label, int last, int fix)
{
    int fd = open(path, fix && last ? O_RDWR : O_RDONLY);
    if (fd == -1) {
        printf("Cannot open file %s: %s\n", path, strerror(errno));
        return V_BAD;
    }
    struct stat st;
    if (fstat(fd, &st) == -1) {
        printf("Cannot stat file %s: %s\n", path, strerror(errno));
        close(fd);
        return V_BAD;
    }
    size_t size = (size_t)st.st_size;
    static const unsigned char empty[1];
    const unsigned char *map = empty; /* an empty file maps nothing */
    if (size) {
        map = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) {
            printf("Cannot map file %s: %s\n", path, strerror(errno));
            close(fd);
            return V_BAD;
        }
    }
    size_t start = 0;
    if (size >= 5 && memcmp(map, "REDIS", 5) == 0) {
        start = check_rdb(map, size, label);
        if (!start) {
            printf("%s %s is not valid\n", label, path);
            munmap((void *)map, size);
            close(fd);
            return V_BAD;
        }
    }
    struct aof_scan_result r;
    aof_scan((const char *)map + start, size - start, &r);
    size_t ok_up_to = start + r.valid_up_to;
    printf("AOF analyzed: filename=%s, size=%zu, ok_up_to=%zu, ok_up_to_line=%lld, diff=%zu\n", path, size,
           ok_up_to, r.line, size - ok_up_to);
    enum verdict v = V_OK;
    if (r.status == AOF_SCAN_FORMAT) {
        printf("0x%16zx: %s\n", start + r.error_at, r.error);
        printf("%s %s is not valid: corrupt at offset %zu (%s). This is not a torn tail: --fix does not truncate "
               "there, as that would discard the valid commands after it.\n",
               label, path, start + r.error_at, r.error);
        v = V_BAD;
    } else if (r.status != AOF_SCAN_OK) {
        const char *what = r.status == AOF_SCAN_OPEN_MULTI ? "a MULTI without its EXEC" : "an incomplete command";
        if (!last) {
            printf("%s %s ends with %s but is not the last file: not fixable\n", label, path, what);
            v = V_BAD;
        } else if (!fix) {
            printf("%s %s has a torn tail (%s, %zu bytes from offset %zu). Use the --fix option to truncate it.\n",
                   label, path, what, size - ok_up_to, ok_up_to);
            v = V_BAD;
        } else if (ftruncate(fd, (off_t)ok_up_to) == -1 || fsync(fd) == -1) {
            printf("Failed to truncate AOF %s: %s\n", path, strerror(errno));
            v = V_BAD;
        } else {
            printf("Torn tail (%s): shrank AOF %s from %zu bytes to %zu bytes\n", what, path, size, ok_up_to);
            printf("Successfully truncated AOF %s\n", path);
            v = V_FIXED;
        }
    } else {
        printf("%s %s is valid\n", label, path);
    }
    if (size)
        munmap((void *)map, size);
    close(fd);
    return v;
}

static int is_manifest(const char *path)
{
    size_t n = strlen(path), s = strlen(AOF_MANIFEST_SUFFIX);
    if (n > s && !strcmp(path + n - s, AOF_MANIFEST_SUFFIX))
        return 1;
    FILE *fp = fopen(path, "r");
    char line[16] = {0};
    int yes = fp && fgets(line, sizeof(line), fp) && !strncmp(line, "file ", 5);
    if (fp)
        fclose(fp);
    return yes;
}

static int check_manifest(const char *path, int fix)
{
    printf("Start checking Multi Part AOF\n");
    sstr err = sstr_empty(0);
    int missing;
    struct aof_manifest *am = aof_manifest_load(path, &missing, &err);
    if (!am) {
        printf("Invalid AOF manifest %s: %s\n", path, missing ? "file not found" : err);
        sstr_free(err);
        return 1;
    }
    sstr_free(err);
    char *copy = strdup(path);
    const char *dir = dirname(copy);
    int total = (am->base ? 1 : 0) + am->nincr, num = 0, bad = 0, last_nonempty = 0;
    /* the loader's rule: the last file is the last non-empty one (a
     * rewrite may have just started an empty incremental file) */
    for (int i = -1; i < am->nincr; i++) {
        const char *name = i < 0 ? (am->base ? am->base->name : NULL) : am->incr[i].name;
        if (!name)
            continue;
        sstr p = aof_path(dir, name);
        struct stat st;
        num++;
        if (stat(p, &st) != 0 || st.st_size > 0)
            last_nonempty = num;
        sstr_free(p);
    }
    num = 0;
    if (total == 0) {
        printf("The manifest %s names no base and no incremental file\n", path);
        bad = 1;
    }
    if (am->base) {
        int rdb = strstr(am->base->name, AOF_RDB_FORMAT_SUFFIX) != NULL;
        printf("Start to check BASE AOF (%s format).\n", rdb ? "RDB" : "RESP");
        sstr p = aof_path(dir, am->base->name);
        if (check_file(p, "BASE AOF", ++num >= last_nonempty, fix) == V_BAD)
            bad = 1;
        sstr_free(p);
    }
    if (am->nincr)
        printf("Start to check INCR files.\n");
    for (int i = 0; i < am->nincr && !bad; i++) {
        sstr p = aof_path(dir, am->incr[i].name);
        if (check_file(p, "INCR AOF", ++num >= last_nonempty, fix) == V_BAD)
            bad = 1;
        sstr_free(p);
    }
    if (!bad)
        printf("All AOF files and manifest are valid\n");
    free(copy);
    aof_manifest_free(am);
    return bad;
}

static void usage(const char *argv0)
{
    fprintf(stderr,
            "Usage: %s [--fix] <file.manifest|file.aof>\n"
            "  --fix  truncate a torn tail (an incomplete last command, or a final MULTI\n"
            "         without EXEC) of the last file; asks nothing. Corruption before\n"
            "         the end is reported, never truncated.\n",
            argv0);
}

int main(int argc, char **argv)
{
    int fix = 0;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--fix"))
            fix = 1;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(argv[0]);
            return 0;
        } else if (!path && argv[i][0] != '-')
            path = argv[i];
        else {
            usage(argv[0]);
            return 1;
        }
    }
    if (!path) {
        usage(argv[0]);
        return 1;
    }
    if (is_manifest(path))
        return check_manifest(path, fix);
    printf("Start checking Old-Style AOF\n");
    enum verdict v = check_file(path, "AOF", 1, fix);
    return v == V_BAD ? 1 : 0;
}
