/* aof_manifest.c - see aof_manifest.h.
 *
 * Parsing follows Redis 7.0's aofLoadManifestFromFile to its messages, so
 * an operator sees the same text whichever server refuses a manifest, and
 * formatting follows aofInfoFormat byte for byte, so either server can
 * continue the other's directory.
 */
#include "aof_manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mem.h"
#include "resp.h"

#define MANIFEST_LINE_MAX 1024

struct aof_manifest *aof_manifest_new(void) { return mem_calloc(sizeof(struct aof_manifest)); }

static void info_free(struct aof_info *ai) { sstr_free(ai->name); }

void aof_manifest_free(struct aof_manifest *am)
{
    if (!am)
        return;
    if (am->base) {
        info_free(am->base);
        mem_free(am->base);
    }
    for (int i = 0; i < am->nincr; i++)
        info_free(&am->incr[i]);
    for (int i = 0; i < am->nhist; i++)
        info_free(&am->hist[i]);
    mem_free(am->incr);
    mem_free(am->hist);
    mem_free(am);
}

static void push(struct aof_info **arr, int *n, const char *name, long long seq, char type)
{
    *arr = mem_realloc(*arr, sizeof(struct aof_info) * (size_t)(*n + 1));
    (*arr)[*n] = (struct aof_info){sstr_from(name), seq, type};
    (*n)++;
}

struct aof_manifest *aof_manifest_dup(const struct aof_manifest *am)
{
    struct aof_manifest *d = aof_manifest_new();
    if (am->base) {
        d->base = mem_alloc(sizeof(*d->base));
        *d->base = (struct aof_info){sstr_dup(am->base->name), am->base->seq, am->base->type};
    }
    for (int i = 0; i < am->nincr; i++)
        push(&d->incr, &d->nincr, am->incr[i].name, am->incr[i].seq, am->incr[i].type);
    for (int i = 0; i < am->nhist; i++)
        push(&d->hist, &d->nhist, am->hist[i].name, am->hist[i].seq, am->hist[i].type);
    d->curr_base_seq = am->curr_base_seq;
    d->curr_incr_seq = am->curr_incr_seq;
    return d;
}

/* Redis's pathIsBaseName: no '/' and not "." or "..". */
static int is_base_name(const char *s) { return !strchr(s, '/') && strcmp(s, ".") && strcmp(s, ".."); }

struct aof_manifest *aof_manifest_parse(const char *text, size_t len, sstr *err)
{
    struct aof_manifest *am = aof_manifest_new();
    const char *msg = NULL;
    long long maxseq = 0;
    int lines = 0;
    sstr scratch = sstr_empty(64);
    struct split_args sa = {0};
    size_t pos = 0;
    while (pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t linelen = nl ? (size_t)(nl - (text + pos)) : len - pos;
        const char *line = text + pos;
        lines++;
        pos += linelen + (nl ? 1 : 0);
        if (line[0] == '#')
            continue;
        if (!nl || linelen + 1 > MANIFEST_LINE_MAX) {
            msg = "The AOF manifest file contains too long line";
            goto fail;
        }
        /* trim " \t\r\n" as sdstrim does */
        while (linelen && strchr(" \t\r", line[linelen - 1]))
            linelen--;
        while (linelen && strchr(" \t\r", line[0])) {
            line++;
            linelen--;
        }
        if (!linelen) {
            msg = "Invalid AOF manifest file format";
            goto fail;
        }
        sstr_clear(scratch);
        int argc = resp_split_args(line, linelen, &scratch, &sa);
        /* at least file/seq/type, in pairs: unknown pairs are for later versions */
        if (argc < 6 || argc % 2) {
            msg = "Invalid AOF manifest file format";
            goto fail;
        }
        const char *fname = NULL;
        long long seq = 0;
        char type = 0;
        for (int i = 0; i < argc; i += 2) {
            const char *k = scratch + sa.off[i], *v = scratch + sa.off[i + 1];
            if (!strcasecmp(k, "file")) {
                fname = v;
                if (!is_base_name(fname)) {
                    msg = "File can't be a path, just a filename";
                    goto fail;
                }
            } else if (!strcasecmp(k, "seq")) {
                seq = atoll(v);
            } else if (!strcasecmp(k, "type")) {
                type = v[0];
            }
        }
        if (!fname || !seq || !type) {
            msg = "Invalid AOF manifest file format";
            goto fail;
        }
        if (type == AOF_FILE_BASE) {
            if (am->base) {
                msg = "Found duplicate base file information";
                goto fail;
            }
            am->base = mem_alloc(sizeof(*am->base));
            *am->base = (struct aof_info){sstr_from(fname), seq, type};
            am->curr_base_seq = seq;
        } else if (type == AOF_FILE_HIST) {
            push(&am->hist, &am->nhist, fname, seq, type);
        } else if (type == AOF_FILE_INCR) {
            if (seq <= maxseq) {
                msg = "Found a non-monotonic sequence number";
                goto fail;
            }
            push(&am->incr, &am->nincr, fname, seq, type);
            am->curr_incr_seq = seq;
            maxseq = seq;
        } else {
            msg = "Unknown AOF file type";
            goto fail;
        }
    }
    if (lines == 0) {
        msg = "Found an empty AOF manifest";
        goto fail;
    }
    sstr_free(scratch);
    split_args_free(&sa);
    return am;
fail:
    *err = sstr_cats(*err, msg);
    sstr_free(scratch);
    split_args_free(&sa);
    aof_manifest_free(am);
    return NULL;
}

struct aof_manifest *aof_manifest_load(const char *path, int *missing, sstr *err)
{
    *missing = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        if (errno == ENOENT) {
            *missing = 1;
            return NULL;
        }
        *err = sstr_catfmt(*err, "Can't open the AOF manifest %s for reading: %s", path, strerror(errno));
        return NULL;
    }
    sstr text = sstr_empty(4096);
    for (;;) {
        text = sstr_reserve(text, 4096);
        ssize_t n = read(fd, text + sstr_len(text), 4096);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            *err = sstr_catfmt(*err, "Read AOF manifest failed: %s", strerror(errno));
            close(fd);
            sstr_free(text);
            return NULL;
        }
        if (n == 0)
            break;
        sstr_setlen(text, sstr_len(text) + (size_t)n);
    }
    close(fd);
    struct aof_manifest *am = aof_manifest_parse(text, sstr_len(text), err);
    sstr_free(text);
    return am;
}

/* A name needs quoting when sdssplitargs would not give it back as is. */
static int needs_repr(const char *s)
{
    if (!*s)
        return 1;
    for (; *s; s++)
        if (*s == '\\' || *s == '"' || *s == '\'' || *s <= ' ' || *s >= 127)
            return 1;
    return 0;
}

static sstr format_info(sstr buf, const struct aof_info *ai)
{
    buf = sstr_cats(buf, "file ");
    if (needs_repr(ai->name))
        buf = sstr_catrepr(buf, ai->name, sstr_len(ai->name));
    else
        buf = sstr_cat(buf, ai->name, sstr_len(ai->name));
    return sstr_catfmt(buf, " seq %lld type %c\n", ai->seq, ai->type);
}

sstr aof_manifest_format(const struct aof_manifest *am)
{
    sstr buf = sstr_empty(256);
    if (am->base)
        buf = format_info(buf, am->base);
    for (int i = 0; i < am->nhist; i++)
        buf = format_info(buf, &am->hist[i]);
    for (int i = 0; i < am->nincr; i++)
        buf = format_info(buf, &am->incr[i]);
    return buf;
}

sstr aof_path(const char *dir, const char *file) { return sstr_catfmt(sstr_empty(64), "%s/%s", dir, file); }

sstr aof_manifest_filename(const char *name) { return sstr_catfmt(sstr_empty(64), "%s%s", name, AOF_MANIFEST_SUFFIX); }

sstr aof_temp_incr_filename(const char *name)
{
    return sstr_catfmt(sstr_empty(64), "%s%s%s", AOF_TEMP_PREFIX, name, AOF_INCR_SUFFIX);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

int aof_manifest_persist(const struct aof_manifest *am, const char *dir, const char *name, sstr *err)
{
    sstr mname = aof_manifest_filename(name);
    sstr path = aof_path(dir, mname);
    sstr tmpname = sstr_catfmt(sstr_empty(64), "%s%s", AOF_TEMP_PREFIX, mname);
    sstr tmp = aof_path(dir, tmpname);
    sstr text = aof_manifest_format(am);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        *err = sstr_catfmt(*err, "Can't open the AOF manifest file %s: %s", tmpname, strerror(errno));
        goto done;
    }
    size_t off = 0;
    while (off < sstr_len(text)) {
        ssize_t n = write(fd, text + off, sstr_len(text) - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = sstr_catfmt(*err, "Can't persist the AOF manifest file %s: %s", tmpname, strerror(errno));
            close(fd);
            goto done;
        }
        off += (size_t)n;
    }
    /* the content must be on disk before the name points at it */
    if (fdatasync(fd) == -1) {
        *err = sstr_catfmt(*err, "Fail to fsync the temp AOF file %s: %s", tmpname, strerror(errno));
        close(fd);
        goto done;
    }
    close(fd);
    if (rename(tmp, path) == -1) {
        *err = sstr_catfmt(*err, "Error trying to rename the temporary AOF manifest file %s into %s: %s", tmpname,
                           mname, strerror(errno));
        goto done;
    }
    /* and the rename itself must survive a power loss */
    if (fsync_dir(dir) == -1) {
        *err = sstr_catfmt(*err, "Fail to fsync AOF directory %s: %s", dir, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (rc != 0)
        unlink(tmp);
    sstr_free(mname);
    sstr_free(path);
    sstr_free(tmpname);
    sstr_free(tmp);
    sstr_free(text);
    return rc;
}

const char *aof_manifest_new_base(struct aof_manifest *am, const char *name, int rdb_format)
{
    if (am->base) {
        push(&am->hist, &am->nhist, am->base->name, am->base->seq, AOF_FILE_HIST);
        info_free(am->base);
    } else {
        am->base = mem_alloc(sizeof(*am->base));
    }
    am->curr_base_seq++;
    sstr fname = sstr_catfmt(sstr_empty(64), "%s.%lld%s%s", name, am->curr_base_seq, AOF_BASE_SUFFIX,
                             rdb_format ? AOF_RDB_FORMAT_SUFFIX : AOF_AOF_FORMAT_SUFFIX);
    *am->base = (struct aof_info){fname, am->curr_base_seq, AOF_FILE_BASE};
    return fname;
}

const char *aof_manifest_new_incr(struct aof_manifest *am, const char *name)
{
    am->curr_incr_seq++;
    sstr fname =
        sstr_catfmt(sstr_empty(64), "%s.%lld%s%s", name, am->curr_incr_seq, AOF_INCR_SUFFIX, AOF_AOF_FORMAT_SUFFIX);
    push(&am->incr, &am->nincr, fname, am->curr_incr_seq, AOF_FILE_INCR);
    sstr_free(fname);
    return am->incr[am->nincr - 1].name;
}

void aof_manifest_add_incr(struct aof_manifest *am, const char *as, long long seq)
{
    push(&am->incr, &am->nincr, as, seq, AOF_FILE_INCR);
    if (seq > am->curr_incr_seq)
        am->curr_incr_seq = seq;
}

void aof_manifest_incr_to_history(struct aof_manifest *am, int all)
{
    int keep = all || am->nincr == 0 ? 0 : 1;
    int moving = am->nincr - keep;
    for (int i = 0; i < moving; i++) {
        push(&am->hist, &am->nhist, am->incr[i].name, am->incr[i].seq, AOF_FILE_HIST);
        info_free(&am->incr[i]);
    }
    if (keep)
        am->incr[0] = am->incr[am->nincr - 1];
    am->nincr = keep;
}

void aof_manifest_clear_history(struct aof_manifest *am)
{
    for (int i = 0; i < am->nhist; i++)
        info_free(&am->hist[i]);
    am->nhist = 0;
}
