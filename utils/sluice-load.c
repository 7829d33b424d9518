/*
 * sluice-load - producer/consumer load generator and delivery checker.
 *
 * Producers push messages (LPUSH or XADD) onto Q keys round-robin, consumers
 * pop them (BRPOP or XREADGROUP+XACK).  Every message carries a run nonce, a
 * unique sequence number and its CLOCK_MONOTONIC send time, so the tool can
 * prove exactly-once delivery (one bit per sequence number) and measure
 * end-to-end latency.  Each producer/consumer is a thread with its own
 * blocking hiredis connection; all timestamps come from one process, so they
 * are directly comparable.
 *
 * The last line of output is machine readable (parsed by utils/bench):
 *   RESULT mode=list msgs=... delivered=... secs=... rate=... p50_us=... ...
 * Exit status: 0 = every message delivered exactly once, 1 = missing,
 * duplicate, foreign or leftover messages, 2 = usage or connection errors.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#define HDR_LEN 43           /* "R%08x" "S%016x" "T%016x", see encode_msg() */
#define MAX_MESSAGES 200000000ULL
#define MAX_THREADS 1024
#define MAX_QUEUES 1024
#define MAX_PIPELINE 100000
#define STREAM_COUNT 100     /* XREADGROUP COUNT */
#define POP_TIMEOUT_S 1      /* BRPOP timeout / XREADGROUP BLOCK, seconds */
#define IO_TIMEOUT_S 10      /* socket timeout: must exceed POP_TIMEOUT_S */
#define GROUP "g"

enum mode { MODE_LIST, MODE_STREAM };

/* Command-line configuration, read-only once threads start. */
static struct {
    const char *host;
    int port;
    enum mode mode;
    int producers, consumers, queues, pipeline;
    uint64_t messages;
    size_t size;
    double timeout_s;
    double rate;                 /* total producer msgs/s, 0 = unlimited */
    const char *prefix;
    int keep;
    int wait_replicas;           /* > 0: WAIT n 0 after each batch (Redis's write-then-WAIT) */
} cfg = {
    .host = "127.0.0.1", .port = 6379, .mode = MODE_LIST,
    .producers = 1, .consumers = 1, .queues = 1, .pipeline = 1,
    .messages = 100000, .size = 64, .timeout_s = 60, .prefix = "sluice-load",
};

/* Shared run state.  Bits/latencies are indexed by sequence number; a
 * latency slot is written only by the consumer that first set its bit. */
static struct {
    uint32_t nonce;
    char **keys;                 /* cfg.queues key names */
    _Atomic uint64_t *seen;      /* delivery bitmap */
    uint64_t *latency_ns;        /* per sequence number, first delivery */
    atomic_uint_fast64_t delivered;  /* distinct messages received */
    atomic_uint_fast64_t dups;
    atomic_uint_fast64_t foreign;    /* malformed / other run / bad seq */
    atomic_uint_fast64_t errors;     /* failed commands or connections */
    atomic_int stop;             /* all delivered, deadline or fatal error */
    uint64_t deadline_ns;
    pthread_barrier_t start;     /* everyone connected before first send */
} run;

/* Per-thread results, merged by main() after join. */
struct worker {
    pthread_t tid;
    int id;
    uint64_t first_send_ns, last_recv_ns;
    uint64_t last_ack_ns;        /* a producer: when its last reply (or WAIT) came */
    uint64_t sent, received;
};

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("sluice-load: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* Record a fatal problem in a worker: counted, reported, and stops the run
 * so that a broken server cannot make us spin until the timeout. */
static void worker_error(int id, const char *what, redisContext *c, redisReply *r) {
    const char *why = r && r->type == REDIS_REPLY_ERROR ? r->str
                    : c && c->err ? c->errstr : "unexpected reply";
    fail("thread %d: %s: %s", id, what, why);
    atomic_fetch_add(&run.errors, 1);
    atomic_store(&run.stop, 1);
}

static redisContext *connect_server(void) {
    struct timeval tv = { IO_TIMEOUT_S, 0 };
    redisContext *c = redisConnectWithTimeout(cfg.host, cfg.port, tv);
    if (!c || c->err) {
        fail("connect %s:%d: %s", cfg.host, cfg.port, c ? c->errstr : "out of memory");
        if (c) redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

/* ---- message format ---------------------------------------------------- */

/* "R<nonce 8 hex>S<seq 16 hex>T<send ns 16 hex>" then '.' padding. */
static void encode_msg(char *buf, uint64_t seq, uint64_t ts) {
    char hdr[HDR_LEN + 1];
    snprintf(hdr, sizeof hdr, "R%08" PRIx32 "S%016" PRIx64 "T%016" PRIx64,
             run.nonce, seq, ts);
    memcpy(buf, hdr, HDR_LEN);
}

static int parse_hex(const char *s, int n, uint64_t *out) {
    uint64_t v = 0;
    for (int i = 0; i < n; i++) {
        char ch = s[i];
        int d = ch >= '0' && ch <= '9' ? ch - '0'
              : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
        if (d < 0) return -1;
        v = v << 4 | (uint64_t)d;
    }
    *out = v;
    return 0;
}

static int decode_msg(const char *p, size_t len, uint64_t *seq, uint64_t *ts) {
    uint64_t nonce;
    if (len != cfg.size || p[0] != 'R' || p[9] != 'S' || p[26] != 'T') return -1;
    if (parse_hex(p + 1, 8, &nonce) || parse_hex(p + 10, 16, seq) ||
        parse_hex(p + 27, 16, ts))
        return -1;
    if (nonce != run.nonce || *seq >= cfg.messages) return -1;
    return 0;
}

/* Account one received payload: exactly-once bookkeeping and latency. */
static void deliver(const char *p, size_t len, uint64_t recv_ns) {
    uint64_t seq, ts;
    if (decode_msg(p, len, &seq, &ts)) {
        atomic_fetch_add(&run.foreign, 1);
        return;
    }
    uint64_t bit = 1ULL << (seq & 63);
    uint64_t old = atomic_fetch_or_explicit(&run.seen[seq >> 6], bit, memory_order_relaxed);
    if (old & bit) {
        atomic_fetch_add(&run.dups, 1);
        return;
    }
    run.latency_ns[seq] = recv_ns > ts ? recv_ns - ts : 0;
    if (atomic_fetch_add(&run.delivered, 1) + 1 == cfg.messages)
        atomic_store(&run.stop, 1);
}

/* ---- producers --------------------------------------------------------- */

/* Queue one push command for sequence number seq. */
static int append_push(redisContext *c, char *buf, uint64_t seq) {
    const char *key = run.keys[seq % (uint64_t)cfg.queues];
    encode_msg(buf, seq, now_ns());
    if (cfg.mode == MODE_LIST) {
        const char *argv[] = { "LPUSH", key, buf };
        size_t lens[] = { 5, strlen(key), cfg.size };
        return redisAppendCommandArgv(c, 3, argv, lens);
    }
    const char *argv[] = { "XADD", key, "*", "d", buf };
    size_t lens[] = { 4, strlen(key), 1, 1, cfg.size };
    return redisAppendCommandArgv(c, 5, argv, lens);
}

static int push_reply_ok(const redisReply *r) {
    return cfg.mode == MODE_LIST ? r->type == REDIS_REPLY_INTEGER
                                 : r->type == REDIS_REPLY_STRING;
}

/* With --rate, sleep until message number k of this producer is due, so
 * latency is measured at a fixed offered load instead of against a backlog
 * that an unthrottled producer builds up. */
static void pace(uint64_t start_ns, uint64_t k) {
    if (cfg.rate <= 0) return;
    double interval_ns = 1e9 * cfg.producers / cfg.rate;
    uint64_t due = start_ns + (uint64_t)((double)k * interval_ns);
    struct timespec ts = { (time_t)(due / 1000000000ULL), (long)(due % 1000000000ULL) };
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

/* Producer i sends the contiguous sequence range [lo, hi), cfg.pipeline
 * commands per round trip. */
static void *producer_main(void *arg) {
    struct worker *w = arg;
    uint64_t lo = cfg.messages * (uint64_t)w->id / (uint64_t)cfg.producers;
    uint64_t hi = cfg.messages * (uint64_t)(w->id + 1) / (uint64_t)cfg.producers;
    redisContext *c = connect_server();
    char *buf = malloc(cfg.size);
    if (!c || !buf) {
        atomic_fetch_add(&run.errors, 1);
        atomic_store(&run.stop, 1);
    } else {
        memset(buf, '.', cfg.size);
    }
    pthread_barrier_wait(&run.start);
    w->first_send_ns = now_ns();
    for (uint64_t seq = lo; seq < hi && c && buf && !atomic_load(&run.stop);) {
        if (now_ns() > run.deadline_ns) break;
        int batch = 0;
        for (; batch < cfg.pipeline && seq < hi; batch++, seq++) {
            pace(w->first_send_ns, seq - lo);
            if (append_push(c, buf, seq) != REDIS_OK) {
                worker_error(w->id, "append", c, NULL);
                goto out;
            }
        }
        for (int i = 0; i < batch; i++) {
            redisReply *r = NULL;
            if (redisGetReply(c, (void **)&r) != REDIS_OK || !push_reply_ok(r)) {
                worker_error(w->id, "push", c, r);
                if (r) freeReplyObject(r);
                goto out;  /* connection state is unknown: stop this producer */
            }
            freeReplyObject(r);
            w->sent++;
        }
        if (cfg.wait_replicas) {
            /* the batch counts as sent once its replies came; WAIT then
             * holds the producer until the replicas acknowledged it */
            char n[16];
            snprintf(n, sizeof n, "%d", cfg.wait_replicas);
            const char *argv[] = {"WAIT", n, "0"};
            redisReply *r = redisCommandArgv(c, 3, argv, NULL);
            if (!r || r->type != REDIS_REPLY_INTEGER || r->integer < cfg.wait_replicas) {
                worker_error(w->id, "wait", c, r);
                if (r) freeReplyObject(r);
                goto out;
            }
            freeReplyObject(r);
        }
    }
out:
    w->last_ack_ns = now_ns();
    free(buf);
    if (c) redisFree(c);
    return NULL;
}

/* ---- consumers --------------------------------------------------------- */

/* One BRPOP over all queues; returns -1 on error. */
static int list_pop_once(struct worker *w, redisContext *c) {
    int argc = cfg.queues + 2;
    const char *argv[MAX_QUEUES + 2];
    argv[0] = "BRPOP";
    for (int i = 0; i < cfg.queues; i++) argv[i + 1] = run.keys[i];
    char timeout[16];
    snprintf(timeout, sizeof timeout, "%d", POP_TIMEOUT_S);
    argv[argc - 1] = timeout;
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    uint64_t t = now_ns();
    int rc = 0;
    if (r && r->type == REDIS_REPLY_NIL) {
        /* timed out: nothing there */
    } else if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
               r->element[1]->type == REDIS_REPLY_STRING) {
        deliver(r->element[1]->str, r->element[1]->len, t);
        w->received++;
        w->last_recv_ns = t;
    } else {
        worker_error(w->id, "BRPOP", c, r);
        rc = -1;
    }
    if (r) freeReplyObject(r);
    return rc;
}

/* Extract the payload of field "d" from one stream entry [id, [f, v, ...]]. */
static const redisReply *entry_payload(const redisReply *e) {
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 ||
        e->element[0]->type != REDIS_REPLY_STRING ||
        e->element[1]->type != REDIS_REPLY_ARRAY)
        return NULL;
    const redisReply *fv = e->element[1];
    for (size_t i = 0; i + 1 < fv->elements; i += 2)
        if (fv->element[i]->type == REDIS_REPLY_STRING &&
            fv->element[i]->len == 1 && fv->element[i]->str[0] == 'd' &&
            fv->element[i + 1]->type == REDIS_REPLY_STRING)
            return fv->element[i + 1];
    return NULL;
}

/* Deliver every entry of one stream's batch, then XACK all their IDs.
 * Reports its own errors; returns -1 on error. */
static int stream_handle_batch(struct worker *w, redisContext *c,
                               const redisReply *sr, uint64_t t) {
    if (sr->type != REDIS_REPLY_ARRAY || sr->elements != 2 ||
        sr->element[0]->type != REDIS_REPLY_STRING ||
        sr->element[1]->type != REDIS_REPLY_ARRAY) {
        worker_error(w->id, "XREADGROUP reply shape", c, NULL);
        return -1;
    }
    const redisReply *entries = sr->element[1];
    size_t n = entries->elements;
    if (n == 0) return 0;
    const char **argv = malloc((n + 3) * sizeof *argv);
    size_t *lens = malloc((n + 3) * sizeof *lens);
    if (!argv || !lens) {
        free(argv);
        free(lens);
        worker_error(w->id, "out of memory", NULL, NULL);
        return -1;
    }
    argv[0] = "XACK"; lens[0] = 4;
    argv[1] = sr->element[0]->str; lens[1] = sr->element[0]->len;
    argv[2] = GROUP; lens[2] = strlen(GROUP);
    for (size_t i = 0; i < n; i++) {
        const redisReply *e = entries->element[i];
        const redisReply *payload = entry_payload(e);
        if (payload) deliver(payload->str, payload->len, t);
        else atomic_fetch_add(&run.foreign, 1);
        argv[i + 3] = e->type == REDIS_REPLY_ARRAY && e->elements > 0 ? e->element[0]->str : "";
        lens[i + 3] = e->type == REDIS_REPLY_ARRAY && e->elements > 0 ? e->element[0]->len : 0;
    }
    w->received += n;
    w->last_recv_ns = t;
    redisReply *ack = redisCommandArgv(c, (int)(n + 3), argv, lens);
    int rc = ack && ack->type == REDIS_REPLY_INTEGER && (size_t)ack->integer == n ? 0 : -1;
    if (rc) worker_error(w->id, "XACK", c, ack);
    if (ack) freeReplyObject(ack);
    free(argv);
    free(lens);
    return rc;
}

/* One XREADGROUP over all streams (+ XACKs); returns -1 on error. */
static int stream_read_once(struct worker *w, redisContext *c, const char *consumer) {
    char count[16], block[16];
    snprintf(count, sizeof count, "%d", STREAM_COUNT);
    snprintf(block, sizeof block, "%d", POP_TIMEOUT_S * 1000);
    const char *head[] = { "XREADGROUP", "GROUP", GROUP, consumer, "COUNT", count,
                           "BLOCK", block, "STREAMS" };
    const char *argv[sizeof head / sizeof *head + 2 * MAX_QUEUES];
    int argc = 0;
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) argv[argc++] = head[i];
    for (int i = 0; i < cfg.queues; i++) argv[argc++] = run.keys[i];
    for (int i = 0; i < cfg.queues; i++) argv[argc++] = ">";
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    uint64_t t = now_ns();
    int rc = 0;
    if (r && r->type == REDIS_REPLY_NIL) {
        /* BLOCK timed out */
    } else if (r && r->type == REDIS_REPLY_ARRAY) {
        for (size_t i = 0; i < r->elements && rc == 0; i++)
            rc = stream_handle_batch(w, c, r->element[i], t);
    } else {
        worker_error(w->id, "XREADGROUP", c, r);
        rc = -1;
    }
    if (r) freeReplyObject(r);
    return rc;
}

static void *consumer_main(void *arg) {
    struct worker *w = arg;
    char name[32];
    snprintf(name, sizeof name, "c%d", w->id);
    redisContext *c = connect_server();
    if (!c) {
        atomic_fetch_add(&run.errors, 1);
        atomic_store(&run.stop, 1);
    }
    pthread_barrier_wait(&run.start);
    /* Each iteration blocks at most POP_TIMEOUT_S, so the deadline bounds
     * the loop; stop is set once every message has been seen. */
    while (c && !atomic_load(&run.stop) && now_ns() <= run.deadline_ns) {
        int rc = cfg.mode == MODE_LIST ? list_pop_once(w, c)
                                       : stream_read_once(w, c, name);
        if (rc) break;
    }
    if (c) redisFree(c);
    return NULL;
}

/* ---- setup / verification on a control connection ---------------------- */

/* Run one command; returns the reply or NULL (and reports) on error. */
static redisReply *control_cmd(redisContext *c, int argc, const char **argv) {
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        fail("%s: %s", argv[0], r ? r->str : c->errstr);
        if (r) freeReplyObject(r);
        return NULL;
    }
    return r;
}

static int delete_keys(redisContext *c) {
    for (int i = 0; i < cfg.queues; i++) {
        const char *argv[] = { "DEL", run.keys[i] };
        redisReply *r = control_cmd(c, 2, argv);
        if (!r) return -1;
        freeReplyObject(r);
    }
    return 0;
}

static int prepare_keys(redisContext *c) {
    if (delete_keys(c)) return -1;
    for (int i = 0; cfg.mode == MODE_STREAM && i < cfg.queues; i++) {
        const char *argv[] = { "XGROUP", "CREATE", run.keys[i], GROUP, "$", "MKSTREAM" };
        redisReply *r = control_cmd(c, 6, argv);
        if (!r) return -1;
        freeReplyObject(r);
    }
    return 0;
}

/* Messages still queued after the run: in list mode LLEN must be zero, in
 * stream mode nothing may be pending (unacked) for the group.  Returns the
 * count, or -1 if the server could not tell us. */
static long long leftover_messages(redisContext *c) {
    long long total = 0;
    for (int i = 0; i < cfg.queues; i++) {
        const char *llen[] = { "LLEN", run.keys[i] };
        const char *xpend[] = { "XPENDING", run.keys[i], GROUP };
        redisReply *r = cfg.mode == MODE_LIST ? control_cmd(c, 2, llen)
                                              : control_cmd(c, 3, xpend);
        if (!r) return -1;
        if (r->type == REDIS_REPLY_INTEGER) total += r->integer;
        else if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
                 r->element[0]->type == REDIS_REPLY_INTEGER)
            total += r->element[0]->integer;
        else { freeReplyObject(r); return -1; }
        freeReplyObject(r);
    }
    return total;
}

/* ---- reporting --------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in microseconds. */
static double pct_us(const uint64_t *v, size_t n, double p) {
    if (n == 0) return 0;
    double x = p / 100.0 * (double)n;
    size_t rank = (size_t)x;
    if ((double)rank < x) rank++;
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return (double)v[rank - 1] / 1000.0;
}

/* Compact the latencies of delivered messages, in place, into a sorted
 * prefix of run.latency_ns (all threads have been joined). */
static size_t collect_latencies(uint64_t **out) {
    uint64_t *lat = run.latency_ns;
    size_t n = 0;
    for (uint64_t s = 0; s < cfg.messages; s++)
        if (atomic_load_explicit(&run.seen[s >> 6], memory_order_relaxed) & (1ULL << (s & 63)))
            lat[n++] = run.latency_ns[s];
    qsort(lat, n, sizeof *lat, cmp_u64);
    *out = lat;
    return n;
}

/* ---- command line ------------------------------------------------------- */

static void usage(FILE *f) {
    fprintf(f,
        "usage: sluice-load [-h HOST] [-p PORT] [--mode list|stream]\n"
        "                   [--producers N] [--consumers M] [--messages K]\n"
        "                   [--size BYTES] [--queues Q] [--pipeline P]\n"
        "                   [--timeout SEC] [--rate MSGS_PER_SEC] [--prefix KEYPREFIX]\n"
        "                   [--keep] [--wait N]\n"
        "  list:   producers LPUSH, consumers BRPOP (1s timeout) from all queues\n"
        "  stream: producers XADD key * d <msg>, consumers XREADGROUP GROUP g cN\n"
        "          COUNT %d BLOCK 1000 STREAMS ... > and XACK each batch\n"
        "  --size is the payload size (>= %d bytes of header), default 64.\n"
        "  --rate caps the total send rate (split evenly over producers); without\n"
        "  it producers run flat out and latency includes the queue backlog.\n"
        "  --wait N: each producer sends WAIT N 0 after each batch, as a Redis\n"
        "  user does to know N replicas have the writes.\n"
        "  Keys <prefix>:0..Q-1 are deleted before the run and after it\n"
        "  (unless --keep).  Exits 1 on missing/duplicate/foreign/leftover\n"
        "  messages, 2 on usage or connection errors.\n",
        STREAM_COUNT, HDR_LEN);
}

static int parse_int(const char *s, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_args(int argc, char **argv) {
    static const struct option opts[] = {
        { "host", required_argument, 0, 'h' }, { "port", required_argument, 0, 'p' },
        { "mode", required_argument, 0, 'm' }, { "producers", required_argument, 0, 'P' },
        { "consumers", required_argument, 0, 'C' }, { "messages", required_argument, 0, 'n' },
        { "size", required_argument, 0, 'd' }, { "queues", required_argument, 0, 'q' },
        { "pipeline", required_argument, 0, 'l' }, { "timeout", required_argument, 0, 't' },
        { "rate", required_argument, 0, 'r' }, { "prefix", required_argument, 0, 'k' }, { "keep", no_argument, 0, 'K' },
        { "wait", required_argument, 0, 'W' },
        { "help", no_argument, 0, 'H' }, { 0, 0, 0, 0 },
    };
    int ch;
    long long v;
    while ((ch = getopt_long(argc, argv, "h:p:", opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'h': cfg.host = optarg; break;
        case 'p': bad = parse_int(optarg, 1, 65535, &v); cfg.port = (int)v; break;
        case 'm':
            if (!strcmp(optarg, "list")) cfg.mode = MODE_LIST;
            else if (!strcmp(optarg, "stream")) cfg.mode = MODE_STREAM;
            else bad = 1;
            break;
        case 'P': bad = parse_int(optarg, 1, MAX_THREADS, &v); cfg.producers = (int)v; break;
        case 'C': bad = parse_int(optarg, 1, MAX_THREADS, &v); cfg.consumers = (int)v; break;
        case 'n': bad = parse_int(optarg, 1, (long long)MAX_MESSAGES, &v); cfg.messages = (uint64_t)v; break;
        case 'd': bad = parse_int(optarg, HDR_LEN, 512 << 20, &v); cfg.size = (size_t)v; break;
        case 'q': bad = parse_int(optarg, 1, MAX_QUEUES, &v); cfg.queues = (int)v; break;
        case 'l': bad = parse_int(optarg, 1, MAX_PIPELINE, &v); cfg.pipeline = (int)v; break;
        case 't': bad = parse_int(optarg, 1, 86400, &v); cfg.timeout_s = (double)v; break;
        case 'r': bad = parse_int(optarg, 0, 100000000, &v); cfg.rate = (double)v; break;
        case 'k': cfg.prefix = optarg; break;
        case 'K': cfg.keep = 1; break;
        case 'W': bad = parse_int(optarg, 0, 1000, &v); cfg.wait_replicas = (int)v; break;
        case 'H': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (bad) {
            fail("invalid value for option: %s", optarg);
            return -1;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return -1;
    }
    return 0;
}

static int init_run(void) {
    run.nonce = (uint32_t)(now_ns() ^ ((uint64_t)getpid() << 16));
    run.keys = calloc((size_t)cfg.queues, sizeof *run.keys);
    run.seen = calloc((size_t)(cfg.messages / 64 + 1), sizeof *run.seen);
    run.latency_ns = malloc((size_t)cfg.messages * sizeof *run.latency_ns);
    if (!run.keys || !run.seen || !run.latency_ns) return -1;
    for (int i = 0; i < cfg.queues; i++) {
        size_t len = strlen(cfg.prefix) + 16;
        if (!(run.keys[i] = malloc(len))) return -1;
        snprintf(run.keys[i], len, "%s:%d", cfg.prefix, i);
    }
    return pthread_barrier_init(&run.start, NULL, (unsigned)(cfg.producers + cfg.consumers));
}

/* Start all threads, wait for them; returns wall-clock span first send to
 * last receive in ns (0 if nothing was received). */
static uint64_t run_workers(struct worker *prod, struct worker *cons) {
    run.deadline_ns = now_ns() + (uint64_t)(cfg.timeout_s * 1e9);
    for (int i = 0; i < cfg.consumers + cfg.producers; i++) {
        int is_cons = i < cfg.consumers;
        struct worker *w = is_cons ? &cons[i] : &prod[i - cfg.consumers];
        w->id = is_cons ? i : i - cfg.consumers;
        /* The start barrier counts every thread: a missing one would hang. */
        if (pthread_create(&w->tid, NULL, is_cons ? consumer_main : producer_main, w)) {
            fail("pthread_create failed");
            exit(2);
        }
    }
    uint64_t first = UINT64_MAX, last = 0;
    for (int i = 0; i < cfg.producers; i++) {
        pthread_join(prod[i].tid, NULL);
        if (prod[i].first_send_ns && prod[i].first_send_ns < first) first = prod[i].first_send_ns;
    }
    for (int i = 0; i < cfg.consumers; i++) {
        pthread_join(cons[i].tid, NULL);
        if (cons[i].last_recv_ns > last) last = cons[i].last_recv_ns;
    }
    return last > first ? last - first : 0;
}

int main(int argc, char **argv) {
    if (parse_args(argc, argv)) return 2;
    if (init_run()) { fail("out of memory"); return 2; }
    redisContext *ctl = connect_server();
    if (!ctl || prepare_keys(ctl)) return 2;

    struct worker *prod = calloc((size_t)cfg.producers, sizeof *prod);
    struct worker *cons = calloc((size_t)cfg.consumers, sizeof *cons);
    if (!prod || !cons) { fail("out of memory"); return 2; }
    const char *mode = cfg.mode == MODE_LIST ? "list" : "stream";
    printf("sluice-load: %s:%d mode=%s producers=%d consumers=%d messages=%" PRIu64
           " size=%zu queues=%d pipeline=%d rate=%.0f timeout=%.0fs\n", cfg.host, cfg.port,
           mode, cfg.producers, cfg.consumers, cfg.messages, cfg.size, cfg.queues,
           cfg.pipeline, cfg.rate, cfg.timeout_s);
    fflush(stdout);

    uint64_t span = run_workers(prod, cons);
    uint64_t sent = 0, first_send = UINT64_MAX, last_ack = 0;
    for (int i = 0; i < cfg.producers; i++) {
        sent += prod[i].sent;
        if (prod[i].first_send_ns && prod[i].first_send_ns < first_send) first_send = prod[i].first_send_ns;
        if (prod[i].last_ack_ns > last_ack) last_ack = prod[i].last_ack_ns;
    }
    /* the producers' own rate: writes acknowledged per second, whatever
     * the consumers do (the write path alone, as redis-benchmark sees it) */
    double send_secs = last_ack > first_send ? (double)(last_ack - first_send) / 1e9 : 0;
    double send_rate = send_secs > 0 ? (double)sent / send_secs : 0;
    uint64_t delivered = atomic_load(&run.delivered);
    uint64_t missing = cfg.messages - delivered;
    long long leftover = leftover_messages(ctl);
    if (leftover < 0) fail("warning: could not check for leftover messages");
    if (!cfg.keep) delete_keys(ctl);
    redisFree(ctl);

    uint64_t *lat = NULL;
    size_t n = collect_latencies(&lat);
    double secs = (double)span / 1e9;
    double rate = secs > 0 ? (double)delivered / secs : 0;
    uint64_t dups = atomic_load(&run.dups), foreign = atomic_load(&run.foreign);
    uint64_t errors = atomic_load(&run.errors);
    printf("sent %" PRIu64 ", delivered %" PRIu64 " in %.3fs = %.0f msg/s\n",
           sent, delivered, secs, rate);
    printf("latency us: p50 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
           pct_us(lat, n, 50), pct_us(lat, n, 99), pct_us(lat, n, 99.9), pct_us(lat, n, 100));
    if (missing || dups || foreign || leftover > 0 || errors)
        printf("DELIVERY FAILED: missing=%" PRIu64 " dup=%" PRIu64 " foreign=%" PRIu64
               " leftover=%lld errors=%" PRIu64 "\n", missing, dups, foreign, leftover, errors);
    printf("RESULT mode=%s msgs=%" PRIu64 " delivered=%" PRIu64 " secs=%.6f rate=%.1f send_rate=%.1f"
           " p50_us=%.1f p99_us=%.1f p999_us=%.1f max_us=%.1f dup=%" PRIu64
           " missing=%" PRIu64 " foreign=%" PRIu64 " leftover=%lld errors=%" PRIu64 "\n",
           mode, cfg.messages, delivered, secs, rate, send_rate, pct_us(lat, n, 50), pct_us(lat, n, 99),
           pct_us(lat, n, 99.9), pct_us(lat, n, 100), dups, missing, foreign, leftover, errors);
    for (int i = 0; i < cfg.queues; i++) free(run.keys[i]);
    free(run.keys);
    free((void *)run.seen);
    free(run.latency_ns);
    free(prod);
    free(cons);
    pthread_barrier_destroy(&run.start);
    if (errors) return 2;
    return missing || dups || foreign || leftover > 0 ? 1 : 0;
}
