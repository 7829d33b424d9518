/* aof_load.c - replay of the AOF at startup (and DEBUG LOADAOF).
 *
 * Files are loaded in manifest order: the base (an RDB snapshot, through
 * the RDB module, or commands), then the incremental files.  Commands are
 * parsed from a read buffer (aof_parse.c) and executed with a fake client
 * (CLIENT_LOADING_CLIENT: no replies, never blocks) through the command
 * table: looked up by name, arity checked, run by the table's handler, as
 * if a client had sent them.
 *
 * Transactions are replayed whole or not at all: the commands between
 * MULTI and EXEC are collected (owned copies, as the read buffer moves)
 * and only run when EXEC is read.  What a crash can leave at the end of
 * the last file - a half-written command, or a MULTI whose EXEC never
 * made it - is cut off when aof-load-truncated is yes (the file is
 * truncated so new writes follow whole commands), and refused otherwise.
 * Anything wrong before the end is corruption: the server does not start,
 * and the message names the file, the offset and the check tool.
 *
 * While loading, clients are served every 100 ms or so and get -LOADING
 * (INFO shows the progress), as in Redis.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aof.h"
#include "aof_int.h"
#include "aof_parse.h"
#include "blocking.h"
#include "commands.h"
#include "db.h"
#include "introspection.h"
#include "mem.h"
#include "propagate.h"
#include "server.h"
#include "util.h"

#if __has_include("rdb.h") && !defined(SLUICE_NO_RDB)
#include "rdb.h"
#include "rio.h"
#define HAVE_RDB 1
#else
#define HAVE_RDB 0
#endif

#define READ_CHUNK (1024 * 1024)
#define EVENTS_EVERY_MS 100

struct queued {
    struct command *cmd;
    int argc;
    struct arg *argv; /* bytes follow in the same allocation */
};

struct loader {
    const char *name;      /* file name, for messages */
    int fd;
    sstr buf;              /* buf[0] is at file offset buf_off */
    long long buf_off;
    size_t pos;
    long long loaded_before; /* bytes of the files loaded before this one */
    struct client *fake;
    struct aof_parser p;
    /* transaction being collected */
    int in_multi;
    long long multi_off;
    struct queued *q;
    int nq, capq;
    long long last_events_ms;
    unsigned long ops;
};

static long long total_loaded; /* progress over all files */
/* Clients are served during the startup load only: DEBUG LOADAOF runs
 * inside a client's command, where the loop cannot be re-entered. */
static int serve_clients;

static void serve_clients_if_due(struct loader *L, long long file_off)
{
    if ((++L->ops & 1023) != 0 || !serve_clients)
        return;
    long long now = mstime();
    if (now - L->last_events_ms < EVENTS_EVERY_MS)
        return;
    L->last_events_ms = now;
    loading_progress(L->loaded_before + file_off);
    /* clients get -LOADING; INFO and the like answer */
    server_process_events_while_blocked();
}

static struct command *lookup(int argc, const struct arg *argv)
{
    struct command *cmd = command_lookup(argv[0].ptr, argv[0].len);
    if (cmd && cmd->subcommands) {
        if (argc < 2)
            return NULL;
        cmd = command_lookup_sub(cmd, argv[1].ptr, argv[1].len);
    }
    return cmd;
}

static void run(struct client *c, struct command *cmd, int argc, struct arg *argv)
{
    c->cmd = c->lastcmd = cmd;
    c->argc = argc;
    c->argv = argv;
    propagate_call_begin();
    cmd->proc(c);
    propagate_call_end(c, 0);
    if (c->flags & CLIENT_BLOCKED) /* cannot happen: loading clients never block */
        blocking_remove_client(c);
    client_free_owned_argv(c);
    c->argc = 0;
    c->argv = NULL;
    c->cmd = NULL;
}

static void queue_free(struct loader *L)
{
    for (int i = 0; i < L->nq; i++)
        mem_free(L->q[i].argv);
    L->nq = 0;
}

static void queue_add(struct loader *L, struct command *cmd, int argc, const struct arg *argv)
{
    if (L->nq == L->capq) {
        L->capq = L->capq ? L->capq * 2 : 16;
        L->q = mem_realloc(L->q, sizeof(*L->q) * (size_t)L->capq);
    }
    size_t bytes = sizeof(struct arg) * (size_t)argc;
    for (int i = 0; i < argc; i++)
        bytes += argv[i].len;
    struct arg *copy = mem_alloc(bytes ? bytes : 1);
    char *p = (char *)(copy + argc);
    for (int i = 0; i < argc; i++) {
        memcpy(p, argv[i].ptr, argv[i].len);
        copy[i] = (struct arg){p, argv[i].len};
        p += argv[i].len;
    }
    L->q[L->nq++] = (struct queued){cmd, argc, copy};
}

static int arity_ok(const struct command *cmd, int argc)
{
    return cmd->arity > 0 ? argc == cmd->arity : argc >= -cmd->arity;
}

/* Returns 0, or -1 after logging why the file cannot be loaded. */
static int execute(struct loader *L, long long off)
{
    struct aof_parser *p = &L->p;
    struct command *cmd = lookup(p->argc, p->argv);
    if (!cmd) {
        server_log(LL_WARNING, "Unknown command '%.*s' reading the append only file %s",
                   (int)(p->argv[0].len > 128 ? 128 : p->argv[0].len), p->argv[0].ptr, L->name);
        return -1;
    }
    if (!arity_ok(cmd, p->argc)) {
        server_log(LL_WARNING, "Wrong number of arguments for '%s' at offset %lld of the append only file %s",
                   cmd->fullname, off, L->name);
        return -1;
    }
    if (!strcmp(cmd->fullname, "multi")) {
        if (L->in_multi) {
            server_log(LL_WARNING, "Nested MULTI at offset %lld of the append only file %s", off, L->name);
            return -1;
        }
        L->in_multi = 1;
        L->multi_off = off;
        return 0;
    }
    if (!strcmp(cmd->fullname, "exec")) {
        if (!L->in_multi) {
            server_log(LL_WARNING, "EXEC without MULTI at offset %lld of the append only file %s", off, L->name);
            return -1;
        }
        for (int i = 0; i < L->nq; i++)
            run(L->fake, L->q[i].cmd, L->q[i].argc, L->q[i].argv);
        queue_free(L);
        L->in_multi = 0;
        return 0;
    }
    if (L->in_multi)
        queue_add(L, cmd, p->argc, p->argv);
    else
        run(L->fake, cmd, p->argc, p->argv);
    return 0;
}

/* Read more bytes at the end of the buffer (dropping what was consumed).
 * Returns bytes read, 0 at EOF, -1 on error. */
static ssize_t fill(struct loader *L)
{
    if (L->pos) {
        sstr_consume(L->buf, L->pos);
        L->buf_off += (long long)L->pos;
        L->pos = 0;
    }
    /* grow the read with the buffer, so a huge command is rescanned
     * O(log n) times, not once per chunk */
    size_t want = sstr_len(L->buf) > READ_CHUNK ? sstr_len(L->buf) : READ_CHUNK;
    L->buf = sstr_reserve(L->buf, want);
    for (;;) {
        ssize_t n = read(L->fd, L->buf + sstr_len(L->buf), want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0)
            sstr_setlen(L->buf, sstr_len(L->buf) + (size_t)n);
        return n;
    }
}

/* Redis's loadSingleAppendOnlyFile. */
static enum aof_load_result load_file(const char *name, int last_file, long long loaded_before)
{
    sstr path = aof_path(srv.appenddirname, name);
    enum aof_load_result ret = AOF_LOAD_FAILED;
    struct loader L = {0};
    L.name = name;
    L.loaded_before = loaded_before;
    L.fd = open(path, O_RDONLY);
    if (L.fd == -1) {
        int en = errno;
        struct stat st;
        if (stat(path, &st) == 0 || errno != ENOENT) {
            server_log(LL_WARNING, "Fatal error: can't open the append log file %s for reading: %s", name,
                       strerror(en));
            sstr_free(path);
            return AOF_LOAD_OPEN_ERR;
        }
        server_log(LL_WARNING, "The append log file %s doesn't exist: %s", name, strerror(en));
        sstr_free(path);
        return AOF_LOAD_NOT_EXIST;
    }
    struct stat st;
    if (fstat(L.fd, &st) == 0 && st.st_size == 0) {
        close(L.fd);
        sstr_free(path);
        return AOF_LOAD_EMPTY;
    }
    char sig[5];
    ssize_t n = pread(L.fd, sig, 5, 0);
    if (n == 5 && memcmp(sig, "REDIS", 5) == 0) {
        int old_style = !strcmp(name, srv.appendfilename);
        server_log(LL_NOTICE, old_style ? "Reading RDB preamble from AOF file..."
                                        : "Reading RDB base file on AOF loading...");
#if HAVE_RDB
        rio r;
        rio_init_fd(&r, L.fd);
        sstr err = sstr_empty(0);
        int rc = rdb_load_rio(&r, &err);
        rio_release(&r);
        /* the commands after it replay in loading mode too (no expiry) */
        srv.loading = 1;
        if (rc != 0) {
            server_log(LL_WARNING, old_style ? "Error reading the RDB preamble of the AOF file %s, AOF loading aborted: %s"
                                             : "Error reading the RDB base file %s, AOF loading aborted: %s",
                       name, err);
            sstr_free(err);
            goto cleanup;
        }
        sstr_free(err);
        if (old_style)
            server_log(LL_NOTICE, "Reading the remaining AOF tail...");
#else
        server_log(LL_WARNING, "The AOF file %s starts with an RDB snapshot, and this build has no RDB loader", name);
        goto cleanup;
#endif
    }
    L.buf_off = lseek(L.fd, 0, SEEK_CUR);
    L.buf = sstr_empty(0);
    aof_parser_init(&L.p);
    L.fake = client_create(-1, 0);
    L.fake->flags |= CLIENT_LOADING_CLIENT;
    L.last_events_ms = mstime();
    long long valid_up_to = L.buf_off;
    int eof = 0;
    for (;;) {
        size_t used = 0;
        enum aofp_result res = aof_parse_next(&L.p, L.buf + L.pos, sstr_len(L.buf) - L.pos, &used);
        long long off = L.buf_off + (long long)L.pos;
        if (res == AOFP_NEED_MORE) {
            if (eof)
                break;
            ssize_t got = fill(&L);
            if (got < 0) {
                server_log(LL_WARNING, "Unrecoverable error reading the append only file %s: %s", name,
                           strerror(errno));
                goto cleanup;
            }
            if (got == 0)
                eof = 1;
            continue;
        }
        if (res == AOFP_ERROR) {
            server_log(LL_WARNING,
                       "Bad file format reading the append only file %s at offset %lld: %s. Make a backup of your "
                       "AOF, then check it with: utils/sluice-check-aof %s/%s%s",
                       name, off + (long long)L.p.error_at, L.p.error, srv.appenddirname, srv.appendfilename,
                       ".manifest");
            goto cleanup;
        }
        if (res == AOFP_COMMAND && execute(&L, off) != 0)
            goto cleanup;
        if (res == AOFP_COMMAND && srv.key_load_delay)
            debug_delay(srv.key_load_delay);
        L.pos += used;
        if (!L.in_multi)
            valid_up_to = L.buf_off + (long long)L.pos;
        serve_clients_if_due(&L, L.buf_off + (long long)L.pos);
    }
    int torn = L.pos < sstr_len(L.buf);
    if (L.in_multi) {
        server_log(LL_WARNING, "Revert incomplete MULTI/EXEC transaction in AOF file %s", name);
        queue_free(&L);
        valid_up_to = L.multi_off;
        torn = 1;
    }
    if (!torn) {
        total_loaded += L.buf_off + (long long)L.pos;
        ret = AOF_LOAD_OK;
        goto cleanup;
    }
    /* Unexpected end of file: a crash in the middle of a write. */
    if (srv.aof_load_truncated && last_file) {
        server_log(LL_WARNING, "!!! Warning: short read while loading the AOF file %s!!!", name);
        server_log(LL_WARNING, "!!! Truncating the AOF %s at offset %llu !!!", name, (unsigned long long)valid_up_to);
        if (truncate(path, valid_up_to) == -1) {
            server_log(LL_WARNING, "Error truncating the AOF file %s: %s", name, strerror(errno));
        } else {
            server_log(LL_WARNING, "AOF %s loaded anyway because aof-load-truncated is enabled", name);
            total_loaded += valid_up_to;
            ret = AOF_LOAD_TRUNCATED;
            goto cleanup;
        }
    } else if (srv.aof_load_truncated) {
        server_log(LL_WARNING, "Fatal error: the truncated file %s is not the last file (offset %lld)", name,
                   valid_up_to);
        goto cleanup;
    }
    server_log(LL_WARNING,
               "Unexpected end of file reading the append only file %s (valid up to offset %lld). You can: 1) Make a "
               "backup of your AOF file, then use utils/sluice-check-aof --fix %s/%s.manifest. 2) Alternatively you "
               "can set the 'aof-load-truncated' configuration option to yes and restart the server.",
               name, valid_up_to, srv.appenddirname, srv.appendfilename);
cleanup:
    if (L.fake)
        client_free(L.fake);
    queue_free(&L);
    mem_free(L.q);
    aof_parser_free(&L.p);
    sstr_free(L.buf);
    close(L.fd);
    sstr_free(path);
    return ret;
}

enum aof_load_result aof_load_manifest(struct aof_manifest *am)
{
    if (!am->base && am->nincr == 0)
        return AOF_LOAD_NOT_EXIST;
    /* The last file for the torn-tail rule is the last non-empty one: a
     * crash can leave a torn tail in a file followed only by the empty
     * incremental file a rewrite had just started (Redis 7.0 refuses that
     * case; cutting the tail loses nothing the empty files could hold). */
    int num = 0, last_nonempty = 0;
    long long total_size = 0;
    for (int i = -1; i < am->nincr; i++) {
        const char *name = i < 0 ? (am->base ? am->base->name : NULL) : am->incr[i].name;
        if (!name)
            continue;
        sstr path = aof_path(srv.appenddirname, name);
        struct stat st;
        if (stat(path, &st) == -1) {
            server_log(LL_WARNING, "Unable to obtain the AOF file %s length. stat: %s", name, strerror(errno));
            sstr_free(path);
            return AOF_LOAD_FAILED;
        }
        total_size += st.st_size;
        num++;
        if (st.st_size > 0)
            last_nonempty = num;
        sstr_free(path);
    }
    if (total_size == 0)
        return AOF_LOAD_EMPTY;
    long long dirty_before = srv.dirty;
    loading_start(total_size);
    total_loaded = 0;
    enum aof_load_result ret = AOF_LOAD_OK;
    long long base_size = 0;
    num = 0;
    for (int i = -1; i < am->nincr; i++) {
        const char *name = i < 0 ? (am->base ? am->base->name : NULL) : am->incr[i].name;
        if (!name)
            continue;
        int last = ++num >= last_nonempty;
        long long start = ustime();
        long long before = total_loaded;
        ret = load_file(name, last, before);
        if (ret == AOF_LOAD_EMPTY || ret == AOF_LOAD_NOT_EXIST)
            ret = AOF_LOAD_OK;
        if (ret == AOF_LOAD_OK || ret == AOF_LOAD_TRUNCATED)
            server_log(LL_NOTICE, "DB loaded from %s file %s: %.3f seconds", i < 0 ? "base" : "incr", name,
                       (double)(ustime() - start) / 1e6);
        if (i < 0)
            base_size = aof_file_size(name);
        if (ret == AOF_LOAD_OPEN_ERR || ret == AOF_LOAD_FAILED)
            break;
    }
    loading_end();
    /* what was loaded is not a change since the last save */
    srv.dirty = dirty_before;
    if (ret == AOF_LOAD_OPEN_ERR || ret == AOF_LOAD_FAILED)
        return AOF_LOAD_FAILED;
    /* sizes after a possible truncation of the last file */
    aof.current_size = 0;
    for (int i = -1; i < am->nincr; i++) {
        const char *name = i < 0 ? (am->base ? am->base->name : NULL) : am->incr[i].name;
        if (name)
            aof.current_size += aof_file_size(name);
    }
    aof.base_size = base_size;
    aof.fsync_offset = aof.current_size;
    return AOF_LOAD_OK;
}

/* Redis 7's upgrade of an old single-file AOF ("appendonly.aof" in the
 * working directory): it becomes the base of a new manifest, and is moved
 * into the AOF directory.  The manifest is written first: a crash between
 * the two steps leaves a manifest naming a base that is still outside the
 * directory, which the same check here recognises and finishes. */
int aof_upgrade_if_needed(struct aof_manifest *am)
{
    struct stat st;
    if (stat(srv.appendfilename, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    int dir_exists = stat(srv.appenddirname, &st) == 0 && S_ISDIR(st.st_mode);
    sstr inside = aof_path(srv.appenddirname, srv.appendfilename);
    int inside_exists = stat(inside, &st) == 0;
    int upgrade = !dir_exists || (!am->base && am->nincr == 0) ||
                  (am->base && am->nincr == 0 && !strcmp(am->base->name, srv.appendfilename) && !inside_exists);
    if (!upgrade) {
        sstr_free(inside);
        return 0;
    }
    if (!dir_exists && mkdir(srv.appenddirname, 0755) == -1) {
        server_log(LL_WARNING, "Can't create AOF directory %s: %s", srv.appenddirname, strerror(errno));
        exit(1);
    }
    if (!am->base || strcmp(am->base->name, srv.appendfilename)) {
        aof_manifest_clear_history(am);
        if (am->base) {
            sstr_free(am->base->name);
            mem_free(am->base);
        }
        am->base = mem_alloc(sizeof(*am->base));
        *am->base = (struct aof_info){sstr_from(srv.appendfilename), 1, AOF_FILE_BASE};
        am->curr_base_seq = 1;
    }
    sstr err = sstr_empty(0);
    if (aof_manifest_persist(am, srv.appenddirname, srv.appendfilename, &err) != 0) {
        server_log(LL_WARNING, "%s", err);
        exit(1);
    }
    sstr_free(err);
    if (rename(srv.appendfilename, inside) == -1) {
        server_log(LL_WARNING, "Error trying to rename the old AOF file %s into dir %s: %s", srv.appendfilename,
                   srv.appenddirname, strerror(errno));
        exit(1);
    }
    sstr_free(inside);
    server_log(LL_NOTICE, "Successfully migrated an old-style AOF into the AOF directory %s.", srv.appenddirname);
    return 1;
}

/* DEBUG LOADAOF: write and fsync what is pending, empty the dataset and
 * load the AOF again (tests compare DEBUG DIGEST before and after). */
static void debug_loadaof(struct client *c)
{
    if (aof.state != AOF_ON) {
        reply_error(c, "AOF is not enabled or a rewrite enabling it is in progress");
        return;
    }
    aof_flush(1);
    if (aof.fd != -1)
        fdatasync(aof.fd);
    for (int i = 0; i < srv.dbnum; i++)
        db_empty(srv.dbs[i]);
    /* the files being appended to are read back as they are; the replay
     * changes nothing on disk, so this command must not be recorded (a
     * recorded DEBUG LOADAOF would reload forever at the next start) */
    long long dirty = srv.dirty;
    enum aof_load_result r = aof_load_manifest(aof.manifest);
    srv.dirty = dirty;
    propagate_prevent(c);
    if (r == AOF_LOAD_FAILED) {
        reply_error(c, "Error loading the AOF, check the server log");
        return;
    }
    server_log(LL_NOTICE, "Append Only File loaded by DEBUG LOADAOF");
    reply_ok(c);
}

void aof_load_serve_clients(int on) { serve_clients = on; }

void aof_register_debug(void)
{
    static const char *const help[] = {
        "LOADAOF",
        "    Flush the AOF buffers on disk and reload the AOF in memory.",
        NULL,
    };
    debug_register_subcommand("loadaof", 2, 2, debug_loadaof, help);
}
