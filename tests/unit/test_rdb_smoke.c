/* test_rdb_smoke.c - seeded random and mutation testing of the RDB loader.
 *
 * Random valid files (strings of every encoding, lists of every size, TTLs,
 * several databases, with and without compression and checksums) must
 * load with exactly their keys.  Then each is mutated (bit flips, byte
 * overwrites, truncation, insertion, deletion, splicing with another file)
 * and fed to the loader in check mode, with and without checksum
 * verification (without it, garbage reaches the value decoders instead of
 * being caught at the end), together with plain random bytes and mutated
 * DUMP payloads.  The loader must never crash and must free everything it
 * allocated: mem_used() returns to its starting value after every run, and
 * under ASan the leak checker runs at exit.  A mutated file may still be
 * valid (a flipped bit inside a string); otherwise the error must name the
 * input.
 *
 * RDB_SMOKE_SEED=n replays a run; RDB_SMOKE_ITERS=n changes its length.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"
#include "qlog.h"
#include "rdb_format.h"
#include "rio.h"
#include "stream.h"
#include "tap.h"

static unsigned long long rng_state;

static unsigned long long rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t rnd_n(size_t n) { return n ? (size_t)(rnd() % n) : 0; }

/* A random string: numbers, short text, long compressible runs, binary. */
static sstr rnd_string(void)
{
    char buf[64];
    switch (rnd_n(6)) {
    case 0:
        return sstr_catfmt(sstr_empty(24), "%lld", (long long)(rnd() >> rnd_n(64)) * (rnd_n(2) ? 1 : -1));
    case 1: {
        size_t n = rnd_n(20);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)('a' + rnd_n(26));
        return sstr_new(buf, n);
    }
    case 2: {
        size_t n = 20 + rnd_n(3000);
        sstr s = sstr_empty(n);
        for (size_t i = 0; i < n; i++)
            s = sstr_cat(s, i % 7 ? "x" : "y", 1);
        return s;
    }
    case 3: {
        size_t n = rnd_n(300);
        sstr s = sstr_empty(n);
        for (size_t i = 0; i < n; i++) {
            char c = (char)rnd();
            s = sstr_cat(s, &c, 1);
        }
        return s;
    }
    case 4:
        return sstr_from("");
    default:
        return sstr_catfmt(sstr_empty(32), "key:%llu", rnd() % 100000);
    }
}

/* A stream with entries of varying fields, metadata past its entries,
 * groups, consumers and pending entries, sometimes idempotency state. */
static struct value *rnd_stream(void)
{
    struct value *v = stream_value_new();
    stream *s = stream_of(v);
    size_t n = rnd_n(rnd_n(3) ? 30 : 400);
    streamID id = {1 + rnd_n(1000), 0};
    streamID ids[400];
    for (size_t i = 0; i < n; i++) {
        id.seq += 1 + rnd_n(3);
        if (rnd_n(4) == 0) {
            id.ms += 1 + rnd_n(100);
            id.seq = rnd_n(5);
        }
        ids[i] = id;
        int nf = 1 + (int)rnd_n(3);
        sstr parts[6];
        const char *fv[6];
        size_t len[6];
        for (int j = 0; j < 2 * nf; j++) {
            parts[j] = (j & 1) || rnd_n(4) == 0 ? rnd_string() : sstr_catfmt(sstr_empty(8), "f%d", j / 2);
            fv[j] = parts[j];
            len[j] = sstr_len(parts[j]);
        }
        stream_append(s, &id, (uint64_t)nf, fv, len);
        for (int j = 0; j < 2 * nf; j++)
            sstr_free(parts[j]);
    }
    struct stream_meta m;
    stream_get_meta(s, &m);
    m.last_id.seq += rnd_n(3);
    m.entries_added = m.length + rnd_n(5);
    if (rnd_n(2))
        m.max_deleted_id = m.last_id;
    stream_set_meta(s, &m);
    int ngroups = (int)rnd_n(3);
    for (int g = 0; g < ngroups; g++) {
        char name[16];
        snprintf(name, sizeof(name), "g%d", g);
        streamID last = n ? ids[rnd_n(n)] : m.last_id;
        stream_cg *cg = stream_group_create(s, name, strlen(name), &last,
                                            rnd_n(3) ? (long long)rnd_n(100) : STREAM_ENTRIES_READ_INVALID);
        int nc = (int)rnd_n(4);
        for (int c = 0; c < nc; c++) {
            char cname[16];
            snprintf(cname, sizeof(cname), "c%d", c);
            stream_consumer *con = stream_consumer_get(cg, cname, strlen(cname), (long long)rnd_n(1000000));
            for (size_t p = 0; n && p < rnd_n(5); p++)
                stream_pel_add(cg, con, &ids[rnd_n(n)], (long long)rnd_n(1000000), 1 + rnd_n(3));
        }
    }
    if (rnd_n(3) == 0) {
        struct stream_idmp_info info = {1, 1 + (long long)rnd_n(100), 1 + (long long)rnd_n(10), 0, 0, rnd_n(50),
                                        rnd_n(5)};
        stream_idmp_set_info(s, &info);
        for (size_t p = 0; n && p < rnd_n(6); p++) {
            char pid[8], iid[8];
            snprintf(pid, sizeof(pid), "p%d", (int)rnd_n(2));
            snprintf(iid, sizeof(iid), "i%d", (int)p);
            stream_idmp_restore(s, pid, strlen(pid), iid, strlen(iid), &ids[rnd_n(n)], (long long)rnd_n(1000));
        }
    }
    return v;
}

static struct value *rnd_value(void)
{
    if (rnd_n(6) == 0)
        return rnd_stream();
    if (rnd_n(3)) {
        sstr s = rnd_string();
        struct value *v = value_string_new(s, sstr_len(s));
        sstr_free(s);
        return v;
    }
    static const int fills[] = {-1, -2, -5, 1, 3, 128};
    qlog *log = qlog_create(fills[rnd_n(6)]);
    size_t n = 1 + rnd_n(rnd_n(4) ? 20 : 2000);
    for (size_t i = 0; i < n; i++) {
        sstr s = rnd_string();
        qlog_push_tail(log, s, sstr_len(s));
        sstr_free(s);
    }
    return value_new(OBJ_LIST, ENC_QUICKLIST, log);
}

/* A valid file; *nkeys gets the number of keys that must load. */
static sstr rnd_file(int *nkeys, int *checksum)
{
    struct rdb_save_opts so = {(int)rnd_n(2), rnd_n(2) ? -2 : 4, rnd_n(2) ? 4096 : 300, rnd_n(2) ? 100 : 3};
    rio w;
    rio_init_buffer(&w);
    *checksum = (int)rnd_n(4) != 0;
    if (*checksum)
        rio_checksum_start(&w);
    rio_write(&w, "REDIS0010", 9);
    rdb_save_aux(&w, "redis-ver", "7.0.15", 6);
    rdb_save_aux_ll(&w, "ctime", 1700000000);
    *nkeys = 0;
    int ndb = 1 + (int)rnd_n(3);
    for (int d = 0; d < ndb; d++) {
        rdb_save_type(&w, RDB_OPCODE_SELECTDB);
        rdb_save_len(&w, (uint64_t)(d * 5));
        int n = (int)rnd_n(12);
        rdb_save_type(&w, RDB_OPCODE_RESIZEDB);
        rdb_save_len(&w, (uint64_t)n);
        rdb_save_len(&w, 0);
        for (int k = 0; k < n; k++) {
            if (rnd_n(3) == 0) {
                rdb_save_type(&w, RDB_OPCODE_EXPIRETIME_MS);
                rdb_save_ms_time(&w, 4000000000000LL + (long long)rnd_n(1000));
            }
            if (rnd_n(5) == 0) {
                rdb_save_type(&w, RDB_OPCODE_IDLE);
                rdb_save_len(&w, rnd_n(100000));
            }
            struct value *v = rnd_value();
            char key[32];
            int kl = snprintf(key, sizeof(key), "k%d:%d", d, k);
            rdb_save_type(&w, rdb_value_type(v));
            rdb_save_raw_string(&w, key, (size_t)kl, so.compress);
            rdb_save_value(&w, v, &so);
            sstr idmp = rdb_stream_idmp_blob(d * 5, key, (size_t)kl, v);
            if (idmp) {
                rdb_save_aux(&w, RDB_AUX_IDMP, idmp, sstr_len(idmp));
                sstr_free(idmp);
            }
            value_free(v);
            (*nkeys)++;
        }
    }
    rdb_save_type(&w, RDB_OPCODE_EOF);
    uint64_t crc = *checksum ? w.cksum : 0;
    unsigned char b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (unsigned char)(crc >> (8 * i));
    rio_write(&w, b, 8);
    sstr s = rio_buffer_take(&w);
    rio_release(&w);
    return s;
}

static sstr mutate(const sstr f, const sstr other)
{
    sstr m = sstr_new(f, sstr_len(f));
    size_t len = sstr_len(m);
    int rounds = 1 + (int)rnd_n(4);
    for (int r = 0; r < rounds && len; r++) {
        size_t at = rnd_n(len);
        switch (rnd_n(6)) {
        case 0: /* bit flip */
            m[at] ^= (char)(1 << rnd_n(8));
            break;
        case 1: /* interesting byte */ {
            static const unsigned char vals[] = {0x00, 0xff, 0x7f, 0x80, 0xc0, 0xc3, 0x40, 0xfe, 0x3f, 0x81};
            m[at] = (char)vals[rnd_n(sizeof(vals))];
            break;
        }
        case 2: /* truncate */
            sstr_setlen(m, at);
            len = at;
            break;
        case 3: /* delete a run */ {
            size_t n = 1 + rnd_n(16);
            if (at + n > len)
                n = len - at;
            memmove(m + at, m + at + n, len - at - n);
            len -= n;
            sstr_setlen(m, len);
            break;
        }
        case 4: /* insert random bytes */ {
            size_t n = 1 + rnd_n(16);
            sstr t = sstr_new(m, at);
            for (size_t i = 0; i < n; i++) {
                char c = (char)rnd();
                t = sstr_cat(t, &c, 1);
            }
            t = sstr_cat(t, m + at, len - at);
            sstr_free(m);
            m = t;
            len = sstr_len(m);
            break;
        }
        default: /* splice the tail of another file */ {
            size_t from = rnd_n(sstr_len(other));
            sstr t = sstr_new(m, at);
            t = sstr_cat(t, other + from, sstr_len(other) - from);
            sstr_free(m);
            m = t;
            len = sstr_len(m);
            break;
        }
        }
    }
    return m;
}

/* Check mode over a memory buffer; returns 0 when it loaded. */
static size_t base; /* mem_used() when the run started (its input already allocated) */
static int leaks;

/* After a run (and freeing its error message): anything still allocated
 * is a leak; report the first few with the input (saved for replay). */
static void leak_check(const char *what, const sstr input)
{
    if (mem_used() == base)
        return;
    if (leaks < 3) {
        tap_diag("%s leaked %zd bytes; input saved in /tmp/rdb-smoke-leak-%d", what, (ssize_t)(mem_used() - base),
                 leaks);
        char path[64];
        snprintf(path, sizeof(path), "/tmp/rdb-smoke-leak-%d", leaks);
        FILE *fp = fopen(path, "wb");
        if (fp) {
            fwrite(input, 1, sstr_len(input), fp);
            fclose(fp);
        }
    }
    leaks++;
}

static int check(const sstr f, int verify, int *keys, sstr *err)
{
    rio r;
    struct rdb_load_opts o = {"smoke.rdb", 16, -2, verify, 0, 0, 0};
    struct rdb_load_stats st;
    base = mem_used();
    rio_init_mem(&r, f, sstr_len(f));
    int rc = rdb_check(&r, &o, NULL, &st, err);
    rio_release(&r);
    if (keys)
        *keys = (int)st.keys_loaded;
    return rc;
}

int main(void)
{
    const char *seed_env = getenv("RDB_SMOKE_SEED"), *iters_env = getenv("RDB_SMOKE_ITERS");
    unsigned long long seed = seed_env ? strtoull(seed_env, NULL, 10) : 20240611ULL;
    int iters = iters_env ? atoi(iters_env) : 250;
    rng_state = seed ? seed : 1;
    tap_diag("seed %llu, %d files", seed, iters);
    rdb_standalone_init();

    int valid_ok = 1, mutated = 0, rejected = 0, msg_ok = 1;
    sstr prev = sstr_from("REDIS0010\xff\0\0\0\0\0\0\0\0");
    for (int i = 0; i < iters; i++) {
        int nkeys, keys = -1, checksum;
        sstr f = rnd_file(&nkeys, &checksum);
        sstr err = NULL;
        if (check(f, 1, &keys, &err) != 0 || keys != nkeys) {
            valid_ok = 0;
            tap_diag("valid file %d failed: %s (keys %d/%d)", i, err ? err : "", keys, nkeys);
        }
        sstr_free(err);
        leak_check("a valid file", f);
        for (int m = 0; m < 12; m++) {
            sstr g = mutate(f, prev);
            for (int verify = 0; verify <= 1; verify++) {
                err = NULL;
                int rc = check(g, verify, NULL, &err);
                mutated++;
                if (rc != 0) {
                    rejected++;
                    if (!err || !strstr(err, "smoke.rdb"))
                        msg_ok = 0;
                }
                sstr_free(err);
                leak_check("a mutated file", g);
            }
            sstr_free(g);
        }
        sstr_free(prev);
        prev = f;
    }
    sstr_free(prev);
    ok(valid_ok, "%d random valid files load with all their keys", iters);
    ok(rejected > mutated / 2, "mutated files rejected: %d of %d (the rest still valid)", rejected, mutated);
    ok(msg_ok, "every rejection names the input");

    /* random garbage behind a valid header, and no header at all */
    int garbage_ok = 1;
    for (int i = 0; i < iters * 4; i++) {
        size_t n = rnd_n(200);
        sstr g = rnd_n(2) ? sstr_from("REDIS0010") : sstr_empty(n);
        for (size_t j = 0; j < n; j++) {
            char c = (char)rnd();
            g = sstr_cat(g, &c, 1);
        }
        sstr err = NULL;
        int rc = check(g, (int)rnd_n(2), NULL, &err);
        if (rc == 0 && sstr_len(g) < 18)
            garbage_ok = 0; /* nothing that short can be a whole file */
        sstr_free(err);
        leak_check("random bytes", g);
        sstr_free(g);
    }
    ok(garbage_ok, "random garbage is rejected");

    /* mutated DUMP payloads through the RESTORE path */
    int payload_runs = 0;
    struct rdb_save_opts so = {1, -2, 4096, 100};
    struct rdb_load_opts lo = {"DUMP payload", 16, -2, 1, 0, 1, 0};
    for (int i = 0; i < iters * 2; i++) {
        struct value *v = rnd_value();
        sstr p = rdb_dump_payload(v, &so);
        value_free(v);
        sstr g = mutate(p, p);
        sstr err = NULL;
        base = mem_used();
        struct value *b = rdb_load_payload(g, sstr_len(g), &lo, &err);
        value_free(b);
        sstr_free(err);
        leak_check("a mutated payload", g);
        sstr_free(p);
        sstr_free(g);
        payload_runs++;
    }
    ok(payload_runs == iters * 2, "%d mutated DUMP payloads decoded or refused", payload_runs);
    is_int(leaks, 0, "no allocation outlives a load (mem_used back to its start every time)");
    return tap_done();
}
