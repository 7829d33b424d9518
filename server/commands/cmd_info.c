/* cmd_info.c - INFO, and the statistics only INFO reads.
 *
 * INFO's text is Redis 7.0's, section by section and field by field, in the
 * same order and number formats, because monitoring tools and client
 * libraries parse it by field name and some by position.  Values are
 * Sluice's own: a field for a subsystem Sluice does not have (replication,
 * Lua, defragmentation, forks) shows what Redis shows when that subsystem
 * is idle, which is the truth for a server that never uses it.
 *
 * Section selection follows Redis 7.0's genInfoSectionDict: no argument or
 * "default" selects the default sections, "all" every built-in section,
 * "everything" also module sections (Sluice's one: "isr", the in-sync
 * replicas, printed by the replication module), any other word the
 * section of that name; an unknown name selects nothing, so INFO replies
 * an empty string.  Several words may be given; sections always come out
 * in Redis's order, separated by an empty line.  In RESP3 the reply is a
 * verbatim string of format "txt", as Redis sends it.
 *
 * Also here: the error counters (stats_count_error, INFO errorstats), the
 * instantaneous-metrics sampler and peak-memory tracker the cron calls, and
 * CONFIG RESETSTAT's reset (server_reset_stats).
 */
#include <ctype.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#ifdef SLUICE_USE_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

#include "blocking.h"
#include "config.h"
#include "db.h"
#include "hooks.h"
#include "introspection.h"
#include "mem.h"
#include "server.h"
#include "util.h"

/* Provided by commands.c (not yet declared in commands.h). */
void command_foreach(void (*fn)(struct command *cmd, void *priv), void *priv);

#define INST_SAMPLES 16             /* Redis's STATS_METRIC_SAMPLES */
#define INST_SAMPLE_PERIOD_MS 100   /* Redis samples every 100 ms whatever hz is */

static size_t startup_memory;       /* used_memory_startup */
static char master_replid[41];

/* ---- small helpers ----------------------------------------------------- */

/* Redis's bytesToHuman(): "919.19K", "1.23M", "0B"; beyond petabytes it
 * falls back to bytes. */
static void bytes_to_human(char *s, size_t size, unsigned long long n)
{
    static const char units[] = "KMGTP";
    double d = (double)n;
    if (n < 1024) {
        snprintf(s, size, "%lluB", n);
        return;
    }
    for (int i = 0; i < 5; i++) {
        d /= 1024;
        if (d < 1024) {
            snprintf(s, size, "%.2f%c", d, units[i]);
            return;
        }
    }
    snprintf(s, size, "%lluB", n);
}

static const char *human(char *buf, size_t size, unsigned long long n)
{
    bytes_to_human(buf, size, n);
    return buf;
}

const char *info_master_replid(void)
{
    if (!master_replid[0]) {
        random_hex(master_replid, 40);
        master_replid[40] = '\0';
    }
    return master_replid;
}

void info_set_replid(const char *id)
{
    memcpy(master_replid, id, 40);
    master_replid[40] = '\0';
}

void info_change_replid(void)
{
    master_replid[0] = '\0';
    info_master_replid();
}

static void info_module_fork(sstr *out);

void stats_init(void)
{
    startup_memory = mem_used();
    info_master_replid();
    hooks_on_info("Persistence", 30, info_module_fork);
}

/* Redis lower-cases the section words; a NUL inside one ends it (Redis
 * copies argv as a C string). */
static sstr section_word(const struct arg *a)
{
    size_t len = strnlen(a->ptr, a->len);
    sstr s = sstr_new(a->ptr, len);
    sstr_tolower(s);
    return s;
}

/* ---- error statistics ---------------------------------------------------- */

/* Count an error reply: the total, and the count of its code (the first
 * word after '-', "ERR" when the reply had none).  Redis 7.0 keeps every
 * distinct code it has seen (the cap on distinct codes came in 7.2), and
 * treats a first word too long to have a space within the first 32 bytes of
 * the reply as no code at all. */
void stats_count_error(const char *code, size_t len)
{
    srv.stat_total_error_replies++;
    if (len == 0 || len > 30) {
        code = "ERR";
        len = 3;
    }
    if (!srv.errors)
        srv.errors = dict_create(NULL, 0);
    dict_entry *e = dict_find(srv.errors, code, len);
    if (!e) {
        e = dict_add(srv.errors, code, len, NULL);
        e->v.i64 = 0;
    }
    e->v.i64++;
}

/* ---- sampling from the cron ------------------------------------------- */

static void reset_instantaneous(void)
{
    srv.inst_last_sample_ms = mstime();
    srv.inst_last_cmds = srv.stat_numcommands;
    srv.inst_last_in = srv.stat_net_input_bytes;
    srv.inst_last_out = srv.stat_net_output_bytes;
    memset(srv.inst_ops_samples, 0, sizeof(srv.inst_ops_samples));
    memset(srv.inst_in_samples, 0, sizeof(srv.inst_in_samples));
    memset(srv.inst_out_samples, 0, sizeof(srv.inst_out_samples));
    srv.inst_idx = 0;
}

/* One sample of each rate (per second over the time since the previous
 * sample) into a ring of 16; INFO shows the ring's mean, as Redis's
 * trackInstantaneousMetric/getInstantaneousMetric. */
void stats_sample_instantaneous(void)
{
    long long now = mstime();
    if (srv.inst_last_sample_ms == 0) {
        reset_instantaneous();
        return;
    }
    long long t = now - srv.inst_last_sample_ms;
    if (t < INST_SAMPLE_PERIOD_MS)
        return;
    int i = srv.inst_idx;
    srv.inst_ops_samples[i] = (srv.stat_numcommands - srv.inst_last_cmds) * 1000 / t;
    srv.inst_in_samples[i] = (srv.stat_net_input_bytes - srv.inst_last_in) * 1000 / t;
    srv.inst_out_samples[i] = (srv.stat_net_output_bytes - srv.inst_last_out) * 1000 / t;
    srv.inst_idx = (i + 1) % INST_SAMPLES;
    srv.inst_last_sample_ms = now;
    srv.inst_last_cmds = srv.stat_numcommands;
    srv.inst_last_in = srv.stat_net_input_bytes;
    srv.inst_last_out = srv.stat_net_output_bytes;
}

static long long inst_mean(const long long *samples)
{
    long long sum = 0;
    for (int i = 0; i < INST_SAMPLES; i++)
        sum += samples[i];
    return sum / INST_SAMPLES;
}

void stats_update_peak_memory(void)
{
    size_t used = mem_used();
    if (!startup_memory)
        startup_memory = used; /* stats_init() was not called: first cron is close enough */
    if (used > srv.stat_peak_memory)
        srv.stat_peak_memory = used;
}

/* ---- latency histograms (INFO latencystats) ------------------------------ */

/* Per-command latency distribution, with the resolution of the HDR
 * histogram Redis uses (values in ns from 1 ns to 1 s, 2 significant
 * digits): values below 256 have their own bucket, larger ones fall in
 * buckets of 128 per power of two.  A percentile reports the highest value
 * equivalent to its bucket, as hdr_value_at_percentile() does, so the
 * numbers INFO prints have Redis's granularity. */
#define LAT_MIN_NS 1LL
#define LAT_MAX_NS 1000000000LL
#define LAT_SUB_BUCKETS 128
#define LAT_BUCKETS (2 * LAT_SUB_BUCKETS + (30 - 8) * LAT_SUB_BUCKETS) /* up to 2^30 > 1 s */

struct latency_hist {
    long long total;
    long long counts[LAT_BUCKETS];
};

static dict *latency_hists; /* command pointer (as bytes) -> struct latency_hist */

static int lat_index(long long v)
{
    if (v < 2 * LAT_SUB_BUCKETS)
        return (int)v;
    int msb = 63 - __builtin_clzll((unsigned long long)v);
    int shift = msb - 7;
    return 2 * LAT_SUB_BUCKETS + (msb - 8) * LAT_SUB_BUCKETS + (int)((v >> shift) - LAT_SUB_BUCKETS);
}

/* The highest value that falls in bucket idx. */
static long long lat_highest(int idx)
{
    if (idx < 2 * LAT_SUB_BUCKETS)
        return idx;
    int rel = idx - 2 * LAT_SUB_BUCKETS;
    int msb = 8 + rel / LAT_SUB_BUCKETS;
    int shift = msb - 7;
    long long lowest = (long long)(LAT_SUB_BUCKETS + rel % LAT_SUB_BUCKETS) << shift;
    return lowest + (1LL << shift) - 1;
}

static long long lat_percentile(const struct latency_hist *h, double p)
{
    long long want = (long long)((p < 100.0 ? p : 100.0) / 100 * (double)h->total + 0.5);
    if (want < 1)
        want = 1;
    long long seen = 0;
    for (int i = 0; i < LAT_BUCKETS; i++) {
        seen += h->counts[i];
        if (seen >= want)
            return lat_highest(i);
    }
    return 0;
}

/* Record one execution of cmd that took usec microseconds (call_command,
 * and the completion of a blocked command). */
void stats_record_latency(struct command *cmd, long long usec)
{
    if (!srv.latency_tracking || !cmd)
        return;
    if (!latency_hists)
        latency_hists = dict_create(mem_free, 0);
    dict_entry *e = dict_find(latency_hists, &cmd, sizeof(cmd));
    if (!e) {
        e = dict_add(latency_hists, &cmd, sizeof(cmd), NULL);
        e->v.ptr = mem_calloc(sizeof(struct latency_hist));
    }
    struct latency_hist *h = e->v.ptr;
    long long ns = usec * 1000;
    if (ns < LAT_MIN_NS)
        ns = LAT_MIN_NS;
    if (ns > LAT_MAX_NS)
        ns = LAT_MAX_NS;
    h->counts[lat_index(ns)]++;
    h->total++;
}

struct latency_ctx {
    sstr s;
    double pct[16];
    int npct;
};

static void latency_one(struct command *cmd, void *priv)
{
    struct latency_ctx *x = priv;
    dict_entry *e = latency_hists ? dict_find(latency_hists, &cmd, sizeof(cmd)) : NULL;
    if (e) {
        const struct latency_hist *h = e->v.ptr;
        x->s = sstr_catfmt(x->s, "latency_percentiles_usec_%s:", cmd->fullname);
        for (int j = 0; j < x->npct; j++) {
            char pbuf[64];
            snprintf(pbuf, sizeof(pbuf), "%f", x->pct[j]);
            /* "%f" without the trailing zeros (and dot), as Redis prints it */
            char *end = pbuf + strlen(pbuf) - 1;
            while (end > pbuf && *end == '0')
                *end-- = '\0';
            if (*end == '.')
                *end = '\0';
            x->s = sstr_catfmt(x->s, "%sp%s=%.3f", j ? "," : "", pbuf,
                               (double)lat_percentile(h, x->pct[j]) / 1000.0);
        }
        x->s = sstr_cat(x->s, "\r\n", 2);
    }
    if (cmd->subcommands) {
        dict_iter it;
        dict_entry *se;
        dict_iter_init(&it, cmd->subcommands);
        while ((se = dict_iter_next(&it)) != NULL)
            latency_one(se->v.ptr, priv);
        dict_iter_release(&it);
    }
}

static sstr info_latencystats(sstr s)
{
    s = sstr_cats(s, "# Latencystats\r\n");
    if (!srv.latency_tracking)
        return s;
    struct latency_ctx x = {s, {0}, 0};
    /* the percentiles to show are a configuration value ("50 99 99.9") */
    sstr conf = config_get_value("latency-tracking-info-percentiles");
    const char *p = conf ? conf : "";
    while (*p && x.npct < (int)(sizeof(x.pct) / sizeof(x.pct[0]))) {
        char *end;
        double d = strtod(p, &end);
        if (end == p)
            break;
        x.pct[x.npct++] = d;
        p = end;
    }
    if (conf)
        sstr_free(conf);
    command_foreach(latency_one, &x);
    return x.s;
}

/* ---- CONFIG RESETSTAT -------------------------------------------------- */

static void reset_command_stats(struct command *cmd, void *priv)
{
    (void)priv;
    cmd->calls = cmd->usec = cmd->rejected_calls = cmd->failed_calls = 0;
    if (cmd->subcommands) {
        dict_iter it;
        dict_entry *e;
        dict_iter_init(&it, cmd->subcommands);
        while ((e = dict_iter_next(&it)) != NULL)
            reset_command_stats(e->v.ptr, NULL);
        dict_iter_release(&it);
    }
}

/* What Redis 7.0's CONFIG RESETSTAT resets: the server counters, every
 * command's counters and the error counts.  Not the peak memory, not the
 * slow log (SLOWLOG RESET does that), not the keyspace. */
void server_reset_stats(void)
{
    srv.stat_numcommands = 0;
    srv.stat_numconnections = 0;
    srv.stat_expiredkeys = 0;
    srv.stat_expired_stale_perc_x100 = 0;
    srv.stat_expired_time_cap_reached_count = 0;
    srv.stat_evictedkeys = 0;
    srv.stat_keyspace_hits = 0;
    srv.stat_keyspace_misses = 0;
    srv.stat_rejected_conn = 0;
    srv.stat_net_input_bytes = 0;
    srv.stat_net_output_bytes = 0;
    srv.stat_unexpected_error_replies = 0;
    srv.stat_total_error_replies = 0;
    srv.stat_total_reads_processed = 0;
    srv.stat_total_writes_processed = 0;
    srv.stat_io_reads = 0;
    srv.stat_io_writes = 0;
    srv.stat_client_qbuf_limit_disconnections = 0;
    srv.stat_client_outbuf_limit_disconnections = 0;
    reset_instantaneous();
    command_foreach(reset_command_stats, NULL);
    if (latency_hists)
        dict_clear(latency_hists);
    if (srv.errors)
        dict_clear(srv.errors);
}

/* ---- sections ---------------------------------------------------------- */

static sstr info_server(sstr s)
{
    struct utsname name;
    if (uname(&name) != 0)
        memset(&name, 0, sizeof(name));
    long long now_us = ustime();
    long long uptime = (now_us - srv.start_us) / 1000000;
    /* a stable identifier of this build, as Redis's redis_build_id */
    static const char build[] = SLUICE_VERSION " " __DATE__ " " __TIME__;
    unsigned long long build_id = (unsigned long long)dict_hash_bytes(build, sizeof(build) - 1);
    s = sstr_catfmt(s,
                    "# Server\r\n"
                    "redis_version:%s\r\n"
                    "sluice_version:%s\r\n"
                    "redis_git_sha1:00000000\r\n"
                    "redis_git_dirty:0\r\n"
                    "redis_build_id:%llx\r\n"
                    "redis_mode:standalone\r\n"
                    "os:%s %s %s\r\n"
                    "arch_bits:%d\r\n"
                    "monotonic_clock:POSIX clock_gettime\r\n"
                    "multiplexing_api:%s\r\n"
                    "atomicvar_api:c11-builtin\r\n"
                    "gcc_version:%d.%d.%d\r\n"
                    "process_id:%lld\r\n"
                    "process_supervised:no\r\n"
                    "run_id:%s\r\n"
                    "tcp_port:%d\r\n"
                    "server_time_usec:%lld\r\n"
                    "uptime_in_seconds:%lld\r\n"
                    "uptime_in_days:%lld\r\n"
                    "hz:%d\r\n"
                    "configured_hz:%d\r\n"
                    "lru_clock:%u\r\n"
                    "executable:%s\r\n"
                    "config_file:%s\r\n"
                    "io_threads_active:0\r\n",
                    REDIS_COMPAT_VERSION, SLUICE_VERSION, build_id, name.sysname, name.release, name.machine,
                    (int)(sizeof(long) * 8), srv.base ? event_base_get_method(srv.base) : "",
#ifdef __GNUC__
                    __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
                    0, 0, 0,
#endif
                    (long long)srv.pid, srv.runid, srv.port, now_us, uptime, uptime / 86400, srv.hz, srv.hz,
                    lru_clock(), srv.executable, srv.configfile ? srv.configfile : "");
    return s;
}

static sstr info_clients(sstr s)
{
    size_t max_in = 0, max_out = 0;
    long long in_timeout_table = 0;
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.clients)
    {
        struct client *c = list_entry(n, struct client, node);
        size_t in = c->querybuf ? sstr_alloc_size(c->querybuf) : 0;
        if (in > max_in)
            max_in = in;
        if (c->reply_bytes > max_out)
            max_out = c->reply_bytes;
        if ((c->flags & CLIENT_BLOCKED) && c->bstate.timeout_ms)
            in_timeout_table++;
    }
    return sstr_catfmt(s,
                       "# Clients\r\n"
                       "connected_clients:%zu\r\n"
                       "cluster_connections:0\r\n"
                       "maxclients:%d\r\n"
                       "client_recent_max_input_buffer:%zu\r\n"
                       "client_recent_max_output_buffer:%zu\r\n"
                       "blocked_clients:%lld\r\n"
                       "tracking_clients:0\r\n"
                       "clients_in_timeout_table:%lld\r\n",
                       srv.clients.len, srv.maxclients, max_in, max_out, blocking_clients_count(),
                       in_timeout_table);
}

/* Redis's maxmemory-policy names (srv.maxmemory_policy uses Redis's
 * encoding, see config.h). */
static const char *maxmemory_policy_name(int policy)
{
    switch (policy) {
    case MAXMEMORY_VOLATILE_LRU: return "volatile-lru";
    case MAXMEMORY_VOLATILE_LFU: return "volatile-lfu";
    case MAXMEMORY_VOLATILE_TTL: return "volatile-ttl";
    case MAXMEMORY_VOLATILE_RANDOM: return "volatile-random";
    case MAXMEMORY_ALLKEYS_LRU: return "allkeys-lru";
    case MAXMEMORY_ALLKEYS_LFU: return "allkeys-lfu";
    case MAXMEMORY_ALLKEYS_RANDOM: return "allkeys-random";
    default: return "noeviction";
    }
}

struct allocator_stats {
    size_t allocated, active, resident;
};

static void allocator_stats(struct allocator_stats *st, size_t used, size_t rss)
{
    memset(st, 0, sizeof(*st));
#ifdef SLUICE_USE_JEMALLOC
    uint64_t epoch = 1;
    size_t sz = sizeof(epoch);
    mallctl("epoch", &epoch, &sz, &epoch, sz); /* refresh jemalloc's cached statistics */
    sz = sizeof(size_t);
    mallctl("stats.allocated", &st->allocated, &sz, NULL, 0);
    sz = sizeof(size_t);
    mallctl("stats.active", &st->active, &sz, NULL, 0);
    sz = sizeof(size_t);
    mallctl("stats.resident", &st->resident, &sz, NULL, 0);
#endif
    /* without allocator statistics Redis falls back the same way */
    if (!st->resident)
        st->resident = rss;
    if (!st->active)
        st->active = st->resident;
    if (!st->allocated)
        st->allocated = used;
}

static sstr info_memory(sstr s)
{
    char h1[32], h2[32], h3[32], h4[32], h5[32];
    size_t used = mem_used();
    size_t rss = mem_rss();
    if (used > srv.stat_peak_memory)
        srv.stat_peak_memory = used;
    size_t peak = srv.stat_peak_memory;

    /* overhead: what the server needs whatever the data: startup memory,
     * clients' buffers, and the keyspace's own tables */
    size_t clients_normal = 0, clients_replicas = 0;
    struct list_node *n, *tmp;
    list_for_each_safe(n, tmp, &srv.clients)
    {
        struct client *c = list_entry(n, struct client, node);
        if (c->flags & CLIENT_MONITOR)
            clients_replicas += client_memory_usage(c, NULL);
        else
            clients_normal += client_memory_usage(c, NULL);
    }
    size_t overhead = startup_memory + clients_normal + clients_replicas;
    for (int i = 0; i < srv.dbnum; i++)
        overhead += db_overhead_bytes(srv.dbs[i]);
    size_t dataset = used > overhead ? used - overhead : 0;
    size_t net = used > startup_memory ? used - startup_memory : 1;
    long pages = sysconf(_SC_PHYS_PAGES), pagesize = sysconf(_SC_PAGESIZE);
    unsigned long long system_mem = pages > 0 && pagesize > 0 ? (unsigned long long)pages * (unsigned long long)pagesize : 0;
    struct allocator_stats st;
    allocator_stats(&st, used, rss);

    s = sstr_catfmt(s,
                    "# Memory\r\n"
                    "used_memory:%zu\r\n"
                    "used_memory_human:%s\r\n"
                    "used_memory_rss:%zu\r\n"
                    "used_memory_rss_human:%s\r\n"
                    "used_memory_peak:%zu\r\n"
                    "used_memory_peak_human:%s\r\n"
                    "used_memory_peak_perc:%.2f%%\r\n"
                    "used_memory_overhead:%zu\r\n"
                    "used_memory_startup:%zu\r\n"
                    "used_memory_dataset:%zu\r\n"
                    "used_memory_dataset_perc:%.2f%%\r\n"
                    "allocator_allocated:%zu\r\n"
                    "allocator_active:%zu\r\n"
                    "allocator_resident:%zu\r\n"
                    "total_system_memory:%llu\r\n"
                    "total_system_memory_human:%s\r\n",
                    used, human(h1, sizeof(h1), used), rss, human(h2, sizeof(h2), rss), peak,
                    human(h3, sizeof(h3), peak), peak ? (float)used * 100 / (float)peak : 0.0, overhead,
                    startup_memory, dataset, (float)dataset * 100 / (float)net, st.allocated, st.active, st.resident,
                    system_mem, human(h4, sizeof(h4), system_mem));
    /* no scripting engine: no VM memory, no cached scripts */
    s = sstr_cats(s, "used_memory_lua:0\r\n"
                     "used_memory_vm_eval:0\r\n"
                     "used_memory_lua_human:0B\r\n"
                     "used_memory_scripts_eval:0\r\n"
                     "number_of_cached_scripts:0\r\n"
                     "number_of_functions:0\r\n"
                     "number_of_libraries:0\r\n"
                     "used_memory_vm_functions:0\r\n"
                     "used_memory_vm_total:0\r\n"
                     "used_memory_vm_total_human:0B\r\n"
                     "used_memory_functions:0\r\n"
                     "used_memory_scripts:0\r\n"
                     "used_memory_scripts_human:0B\r\n");
    s = sstr_catfmt(s,
                    "maxmemory:%lld\r\n"
                    "maxmemory_human:%s\r\n"
                    "maxmemory_policy:%s\r\n"
                    "allocator_frag_ratio:%.2f\r\n"
                    "allocator_frag_bytes:%zu\r\n"
                    "allocator_rss_ratio:%.2f\r\n"
                    "allocator_rss_bytes:%zd\r\n"
                    "rss_overhead_ratio:%.2f\r\n"
                    "rss_overhead_bytes:%zd\r\n"
                    "mem_fragmentation_ratio:%.2f\r\n"
                    "mem_fragmentation_bytes:%zd\r\n"
                    "mem_not_counted_for_evict:0\r\n"
                    "mem_replication_backlog:0\r\n"
                    "mem_total_replication_buffers:0\r\n"
                    "mem_clients_slaves:%zu\r\n"
                    "mem_clients_normal:%zu\r\n"
                    "mem_cluster_links:0\r\n"
                    "mem_aof_buffer:0\r\n"
                    "mem_allocator:%s\r\n"
                    "active_defrag_running:0\r\n"
                    "lazyfree_pending_objects:0\r\n"
                    "lazyfreed_objects:0\r\n",
                    srv.maxmemory, human(h5, sizeof(h5), (unsigned long long)srv.maxmemory),
                    maxmemory_policy_name(srv.maxmemory_policy),
                    st.allocated ? (float)st.active / (float)st.allocated : 0.0, st.active - st.allocated,
                    st.active ? (float)st.resident / (float)st.active : 0.0, (ssize_t)(st.resident - st.active),
                    st.resident ? (float)rss / (float)st.resident : 0.0, (ssize_t)(rss - st.resident),
                    used ? (float)rss / (float)used : 0.0, (ssize_t)(rss - used), clients_replicas, clients_normal,
                    mem_allocator_name());
    return s;
}

/* The persistence modules own their lines (hooks.h), in Redis 7.0's
 * order: RDB (loading, fork and bgsave fields) at 10, AOF at 20, then the
 * module-fork pair Redis prints between them (the core's, at 30), then
 * the AOF/loading tail at 40. */
static void info_module_fork(sstr *out)
{
    *out = sstr_cats(*out, "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n");
}

static sstr info_persistence(sstr s)
{
    s = sstr_cat(s, "# Persistence\r\n", 15);
    hooks_run_info("Persistence", &s);
    return s;
}

static sstr info_stats(sstr s)
{
    s = sstr_catfmt(
        s,
        "# Stats\r\n"
        "total_connections_received:%lld\r\n"
        "total_commands_processed:%lld\r\n"
        "instantaneous_ops_per_sec:%lld\r\n"
        "total_net_input_bytes:%lld\r\n"
        "total_net_output_bytes:%lld\r\n"
        "total_net_repl_input_bytes:0\r\n"
        "total_net_repl_output_bytes:0\r\n"
        "instantaneous_input_kbps:%.2f\r\n"
        "instantaneous_output_kbps:%.2f\r\n"
        "instantaneous_input_repl_kbps:0.00\r\n"
        "instantaneous_output_repl_kbps:0.00\r\n"
        "rejected_connections:%lld\r\n",
        srv.stat_numconnections, srv.stat_numcommands, inst_mean(srv.inst_ops_samples), srv.stat_net_input_bytes,
        srv.stat_net_output_bytes, (double)inst_mean(srv.inst_in_samples) / 1024,
        (double)inst_mean(srv.inst_out_samples) / 1024, srv.stat_rejected_conn);
    /* sync_full, sync_partial_ok, sync_partial_err: the replication module */
    hooks_run_info("Stats", &s);
    return sstr_catfmt(
        s,
        "expired_keys:%lld\r\n"
        "expired_stale_perc:%.2f\r\n"
        "expired_time_cap_reached_count:%lld\r\n"
        "expire_cycle_cpu_milliseconds:0\r\n"
        "evicted_keys:%lld\r\n"
        "evicted_clients:0\r\n"
        "total_eviction_exceeded_time:0\r\n"
        "current_eviction_exceeded_time:0\r\n"
        "keyspace_hits:%lld\r\n"
        "keyspace_misses:%lld\r\n"
        "pubsub_channels:0\r\n"
        "pubsub_patterns:0\r\n"
        "pubsubshard_channels:0\r\n"
        "latest_fork_usec:0\r\n"
        "total_forks:0\r\n"
        "migrate_cached_sockets:0\r\n"
        "slave_expires_tracked_keys:0\r\n"
        "active_defrag_hits:0\r\n"
        "active_defrag_misses:0\r\n"
        "active_defrag_key_hits:0\r\n"
        "active_defrag_key_misses:0\r\n"
        "total_active_defrag_time:0\r\n"
        "current_active_defrag_time:0\r\n"
        "tracking_total_keys:0\r\n"
        "tracking_total_items:0\r\n"
        "tracking_total_prefixes:0\r\n"
        "unexpected_error_replies:%lld\r\n"
        "total_error_replies:%lld\r\n"
        "dump_payload_sanitizations:0\r\n"
        "total_reads_processed:%lld\r\n"
        "total_writes_processed:%lld\r\n"
        "io_threaded_reads_processed:0\r\n"
        "io_threaded_writes_processed:0\r\n"
        "reply_buffer_shrinks:0\r\n"
        "reply_buffer_expands:0\r\n",
        srv.stat_expiredkeys,
        (double)srv.stat_expired_stale_perc_x100 / 100, srv.stat_expired_time_cap_reached_count,
        srv.stat_evictedkeys, srv.stat_keyspace_hits, srv.stat_keyspace_misses, srv.stat_unexpected_error_replies,
        srv.stat_total_error_replies, srv.stat_total_reads_processed, srv.stat_total_writes_processed);
}

/* The replication module prints the section (hooks.h). */
static sstr info_replication(sstr s)
{
    s = sstr_cat(s, "# Replication\r\n", 15);
    hooks_run_info("Replication", &s);
    return s;
}

static sstr info_cpu(sstr s)
{
    struct rusage self, children, thread;
    memset(&self, 0, sizeof(self));
    memset(&children, 0, sizeof(children));
    memset(&thread, 0, sizeof(thread));
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
#ifdef RUSAGE_THREAD
    getrusage(RUSAGE_THREAD, &thread); /* INFO runs on the main thread */
#else
    thread = self;
#endif
    return sstr_catfmt(s,
                       "# CPU\r\n"
                       "used_cpu_sys:%ld.%06ld\r\n"
                       "used_cpu_user:%ld.%06ld\r\n"
                       "used_cpu_sys_children:%ld.%06ld\r\n"
                       "used_cpu_user_children:%ld.%06ld\r\n"
                       "used_cpu_sys_main_thread:%ld.%06ld\r\n"
                       "used_cpu_user_main_thread:%ld.%06ld\r\n",
                       (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
                       (long)self.ru_utime.tv_usec, (long)children.ru_stime.tv_sec, (long)children.ru_stime.tv_usec,
                       (long)children.ru_utime.tv_sec, (long)children.ru_utime.tv_usec, (long)thread.ru_stime.tv_sec,
                       (long)thread.ru_stime.tv_usec, (long)thread.ru_utime.tv_sec, (long)thread.ru_utime.tv_usec);
}

static void cmdstat_one(struct command *cmd, void *priv)
{
    sstr *s = priv;
    if (cmd->calls || cmd->failed_calls || cmd->rejected_calls)
        *s = sstr_catfmt(*s, "cmdstat_%s:calls=%lld,usec=%lld,usec_per_call=%.2f,rejected_calls=%lld,failed_calls=%lld\r\n",
                         cmd->fullname, cmd->calls, cmd->usec,
                         cmd->calls ? (float)cmd->usec / (float)cmd->calls : 0.0f, cmd->rejected_calls,
                         cmd->failed_calls);
    /* subcommands follow their container, as Redis walks them */
    if (cmd->subcommands) {
        dict_iter it;
        dict_entry *e;
        dict_iter_init(&it, cmd->subcommands);
        while ((e = dict_iter_next(&it)) != NULL)
            cmdstat_one(e->v.ptr, priv);
        dict_iter_release(&it);
    }
}

static sstr info_commandstats(sstr s)
{
    s = sstr_cats(s, "# Commandstats\r\n");
    command_foreach(cmdstat_one, &s);
    return s;
}

static int cmp_entries(const void *a, const void *b)
{
    const dict_entry *x = *(const dict_entry *const *)a, *y = *(const dict_entry *const *)b;
    size_t n = x->keylen < y->keylen ? x->keylen : y->keylen;
    int r = memcmp(x->key, y->key, n);
    if (r)
        return r;
    return x->keylen < y->keylen ? -1 : x->keylen > y->keylen;
}

/* Error codes come out in byte order, as Redis's radix tree yields them.
 * Characters that would break the "field:value" format become '_'. */
static sstr info_errorstats(sstr s)
{
    s = sstr_cats(s, "# Errorstats\r\n");
    size_t count = srv.errors ? dict_size(srv.errors) : 0;
    if (!count)
        return s;
    dict_entry **v = mem_alloc(sizeof(*v) * count);
    size_t k = 0;
    dict_iter it;
    dict_entry *e;
    dict_iter_init(&it, srv.errors);
    while ((e = dict_iter_next(&it)) != NULL && k < count)
        v[k++] = e;
    dict_iter_release(&it);
    qsort(v, k, sizeof(*v), cmp_entries);
    for (size_t i = 0; i < k; i++) {
        s = sstr_cats(s, "errorstat_");
        size_t at = sstr_len(s);
        s = sstr_cat(s, v[i]->key, v[i]->keylen);
        for (size_t j = at; j < sstr_len(s); j++)
            if (s[j] == ':' || s[j] == '#' || s[j] == '\r' || s[j] == '\n')
                s[j] = '_';
        s = sstr_catfmt(s, ":count=%lld\r\n", (long long)v[i]->v.i64);
    }
    mem_free(v);
    return s;
}

static sstr info_keyspace(sstr s)
{
    s = sstr_cats(s, "# Keyspace\r\n");
    for (int i = 0; i < srv.dbnum; i++) {
        struct db *db = srv.dbs[i];
        long long keys = (long long)db_size(db), vkeys = (long long)db->volatile_keys;
        if (keys || vkeys)
            s = sstr_catfmt(s, "db%d:keys=%lld,expires=%lld,avg_ttl=%lld\r\n", i, keys, vkeys, db->avg_ttl);
    }
    return s;
}

/* ---- selection ------------------------------------------------------------ */

enum {
    SEC_SERVER,
    SEC_CLIENTS,
    SEC_MEMORY,
    SEC_PERSISTENCE,
    SEC_STATS,
    SEC_REPLICATION,
    SEC_CPU,
    SEC_MODULES,
    SEC_COMMANDSTATS,
    SEC_ERRORSTATS,
    SEC_LATENCYSTATS,
    SEC_CLUSTER,
    SEC_KEYSPACE,
    SEC_ISR, /* Sluice's own: by name or "everything", as Redis's module sections */
    SEC_COUNT
};

static const struct {
    const char *name;
    int is_default;
} sections[SEC_COUNT] = {
    [SEC_SERVER] = {"server", 1},           [SEC_CLIENTS] = {"clients", 1},
    [SEC_MEMORY] = {"memory", 1},           [SEC_PERSISTENCE] = {"persistence", 1},
    [SEC_STATS] = {"stats", 1},             [SEC_REPLICATION] = {"replication", 1},
    [SEC_CPU] = {"cpu", 1},                 [SEC_MODULES] = {"module_list", 1},
    [SEC_COMMANDSTATS] = {"commandstats", 0}, [SEC_ERRORSTATS] = {"errorstats", 1},
    [SEC_LATENCYSTATS] = {"latencystats", 0}, [SEC_CLUSTER] = {"cluster", 1},
    [SEC_KEYSPACE] = {"keyspace", 1},       [SEC_ISR] = {"isr", 0},
};

/* The replication module prints the in-sync replicas (hooks.h). */
static sstr info_isr(sstr s)
{
    s = sstr_cats(s, "# Isr\r\n");
    hooks_run_info("Isr", &s);
    return s;
}

sstr info_generate(const struct arg *argv, int argc)
{
    int want[SEC_COUNT] = {0};
    int all = 0, everything = 0;
    if (argc == 0) {
        for (int i = 0; i < SEC_COUNT; i++)
            want[i] = sections[i].is_default;
    }
    for (int a = 0; a < argc; a++) {
        sstr w = section_word(&argv[a]);
        if (!strcmp(w, "default")) {
            for (int i = 0; i < SEC_COUNT; i++)
                want[i] |= sections[i].is_default;
        } else if (!strcmp(w, "all") || !strcmp(w, "everything")) {
            all = 1;
            everything |= !strcmp(w, "everything");
        } else if (!strcmp(w, "modules")) {
            want[SEC_MODULES] = 1; /* "modules" also names the module list */
        } else {
            for (int i = 0; i < SEC_COUNT; i++)
                if (!strcmp(w, sections[i].name))
                    want[i] = 1;
        }
        sstr_free(w);
    }

    sstr s = sstr_empty(4096);
    int emitted = 0;
    for (int i = 0; i < SEC_COUNT; i++) {
        if (!want[i] && (!all || (i == SEC_ISR && !everything)))
            continue;
        if (emitted++)
            s = sstr_cat(s, "\r\n", 2);
        switch (i) {
        case SEC_SERVER: s = info_server(s); break;
        case SEC_CLIENTS: s = info_clients(s); break;
        case SEC_MEMORY: s = info_memory(s); break;
        case SEC_PERSISTENCE: s = info_persistence(s); break;
        case SEC_STATS: s = info_stats(s); break;
        case SEC_REPLICATION: s = info_replication(s); break;
        case SEC_CPU: s = info_cpu(s); break;
        case SEC_MODULES: s = sstr_cats(s, "# Modules\r\n"); break;
        case SEC_COMMANDSTATS: s = info_commandstats(s); break;
        case SEC_ERRORSTATS: s = info_errorstats(s); break;
        case SEC_LATENCYSTATS: s = info_latencystats(s); break;
        case SEC_CLUSTER: s = sstr_cats(s, "# Cluster\r\ncluster_enabled:0\r\n"); break;
        case SEC_KEYSPACE: s = info_keyspace(s); break;
        case SEC_ISR: s = info_isr(s); break;
        }
    }
    return s;
}

/* INFO [section ...] */
static void info_command(struct client *c)
{
    sstr s = info_generate(c->argv + 1, c->argc - 1);
    reply_verbatim(c, s, sstr_len(s), "txt");
    sstr_free(s);
}

const struct command_impl info_commands[] = {
    {"info", info_command},
    {NULL, NULL},
};
