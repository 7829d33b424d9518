/* sluice-diff.c - differential test harness: Sluice vs. Redis, byte for byte.
 *
 * Usage: sluice-diff SCRIPT.redis [SCRIPT.redis ...]
 *
 * For every script file, sluice-diff starts a fresh sluice-server and a fresh
 * redis-server (each on its own free loopback port, in its own temp dir,
 * with `--port N --bind 127.0.0.1 --save "" --appendonly no --dir DIR` plus
 * any `:server-args`), runs the script against both, compares the raw reply
 * bytes and prints TAP: one test point per compared reply, plan ("1..N") at
 * the end.  Both servers are stopped (SIGTERM, SIGKILL after 5 s) when the
 * file is done, so no state leaks from one file to the next.  The exit
 * status is non-zero if any test point failed.
 *
 * Environment:
 *   SLUICE_SERVER         server under test   (default: server/sluice-server)
 *   REDIS_SERVER          reference server    (default: /usr/bin/redis-server)
 *   SLUICE_REQUIRE_REDIS  if "1" (or SLUICE_REQUIRE is all or names redis), a
 *                         missing redis-server is an error; otherwise
 *                         it prints "1..0 # SKIP redis-server not found"
 *   SLUICE_DIFF_TIMEOUT   per-reply timeout in ms (default 5000; see :timeout)
 *   SLUICE_DIFF_RAW_WAIT  quiet time in ms that ends a :raw read (default 150)
 *   SLUICE_DIFF_VERBOSE   if "1", print every reply as a TAP diagnostic
 *   SLUICE_DIFF_KEEP      if "1", keep the servers' temp dirs (and logs)
 *
 * Script format
 * -------------
 * One command per line.  Arguments are split the way redis-cli splits them:
 * separated by white space; "double quotes" understand \n \r \t \b \a \xHH
 * and a backslash before any other character stands for that character
 * (\" \\); 'single quotes' only understand \'.  A closing quote must be
 * followed by white space or the end of the line.  Blank lines and lines
 * whose first non-blank character is '#' are ignored.  Commands are sent as
 * RESP multibulk requests.  `""` alone is a command with one empty argument.
 *
 * Lines starting with ':' are directives.  Modifiers apply to the NEXT
 * command (or :read / :raw / :resp2 / :resp3) only:
 *   :sort          sort the elements of the top-level array/set (pairs of a
 *                  map) of both replies before comparing (KEYS, SMEMBERS...)
 *   :sort-pairs    like :sort, but a top-level array is sorted as consecutive
 *                  key/value pairs (RESP2 CONFIG GET a b, HGETALL...)
 *   :ignore        read the reply but do not compare it (TIME, INFO...)
 *   :match REGEX   both replies must match this POSIX extended regex,
 *                  applied to the raw reply bytes (CR LF included).  REGEX is
 *                  the rest of the line; in "double quotes" only \r \n \t \"
 *                  and \xHH are translated, other backslashes (\* \$ \.) stay
 *                  for the regex: :match "^:[0-9]+\r\n$"
 *   :noreply       send the command but do not read its reply now
 * Other directives:
 *   :read          read the next pending reply (of a :noreply command) on the
 *                  current connection from both servers and compare it
 *   :resp3 / :resp2  send HELLO 3 / HELLO 2 on the current connection and
 *                  compare the replies (see the legitimate-difference table)
 *   :client NAME   switch to the named connection, creating it if needed
 *                  (one connection to each server per name; default "main")
 *   :reconnect     close the current connection (both servers) and open a
 *                  fresh one on next use
 *   :raw "BYTES"   send these bytes as they are (tokens are concatenated
 *                  without separators), then read whatever comes back until
 *                  the connection closes or no more bytes arrive for the raw
 *                  wait time; compares all bytes received AND whether the
 *                  connection got closed.  A closed connection is reopened
 *                  automatically on next use.
 *   :flushall      send FLUSHALL to both without comparing (must be +OK)
 *   :sleep MS      pause
 *   :timeout MS    per-reply timeout for the rest of the file (default 5000)
 *   :raw-wait MS   quiet time that ends a :raw read (default 150)
 *   :server-args ARGS...  extra arguments for both servers; only allowed
 *                  before the first command of the file
 *
 * Replies are read in order per connection; a command sent on a connection
 * that still has unread :noreply replies is a script error.  Script errors
 * (bad directive, unbalanced quotes...) are failed test points.
 *
 * Replies are framed with a RESP2/RESP3 parser (+ - : $ * _ # , ( ! = % ~ |
 * >, attributes, nested aggregates, nulls, streamed strings/aggregates) only
 * to find where a reply ends; the raw bytes are what gets compared.  A reply
 * that does not arrive within the timeout is a failure, not a hang (the
 * connection is then reopened to resynchronise).  A connection that both
 * servers close without a reply counts as identical behaviour.
 *
 * Legitimate differences are listed in ONE table, legit_diffs[] in diff_resp.c; any
 * other byte that differs is a failure.
 */
#define _GNU_SOURCE
#include "diff.h"

/* ====================================================================== */
/* Connections                                                            */

typedef struct {
    int fd;
    buf_t in;
} sconn_t;

typedef struct {
    char *desc;
    const legit_diff *rule;
} pending_t;

typedef struct client {
    char *name;
    sconn_t s[NSIDES];
    int broken;        /* reopen both connections before next use */
    pending_t *pend;
    int npend, pend_head;
    struct client *next;
} client_t;

enum { RS_OK, RS_EOF, RS_TIMEOUT, RS_BAD };

static const char *status_name(int st)
{
    switch (st) {
    case RS_OK: return "reply";
    case RS_EOF: return "connection closed";
    case RS_TIMEOUT: return "timeout";
    default: return "invalid RESP";
    }
}

/* Read until one complete reply is buffered.  On RS_OK *flen is its length. */
static int read_frame(sconn_t *c, long timeout_ms, size_t *flen)
{
    int64_t deadline = now_ms() + timeout_ms;
    char tmp[65536];
    for (;;) {
        if (c->in.len) {
            long r = resp_frame(c->in.p, c->in.len, 0);
            if (r > 0) {
                *flen = (size_t)r;
                return RS_OK;
            }
            if (r < 0) return RS_BAD;
        }
        if (c->fd < 0) return RS_EOF;
        int64_t left = deadline - now_ms();
        if (left <= 0) return RS_TIMEOUT;
        struct pollfd pf = {c->fd, POLLIN, 0};
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno != EINTR) return RS_EOF;
        if (pr <= 0) continue;
        ssize_t n = recv(c->fd, tmp, sizeof(tmp), 0);
        if (n > 0) buf_add(&c->in, tmp, (size_t)n);
        else if (n == 0) return RS_EOF;
        else if (errno != EINTR && errno != EAGAIN) return RS_EOF;
    }
}

/* ====================================================================== */
/* Script execution                                                       */

typedef struct {
    int sort, ignore, noreply;
    int have_re;
    regex_t re;
    char *re_src;
} mods_t;

typedef struct {
    const char *path;
    const char *base;
    int line;
    int started, aborted, any_command;
    args_t server_args;
    long timeout_ms, raw_wait_ms;
    client_t *clients, *cur;
    mods_t mods;
    int failures_at_start;
} ctx_t;

typedef struct {
    int st;
    buf_t raw;    /* complete reply (RS_OK) or whatever partial bytes arrived */
    int closed;   /* :raw only */
} outcome_t;

static void mods_clear(mods_t *m)
{
    if (m->have_re) regfree(&m->re);
    free(m->re_src);
    memset(m, 0, sizeof(*m));
}

static int mods_any(const mods_t *m) { return m->sort || m->ignore || m->noreply || m->have_re; }

static void script_error(ctx_t *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void script_error(ctx_t *x, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    buf_t d = {0};
    buf_addf(&d, "%s:%d script error: %s", x->base, x->line, msg);
    for (size_t i = 0; i < d.len; i++)
        if (d.p[i] == '#') d.p[i] = '%';
    tap_point(0, d.p);
    buf_free(&d);
    mods_clear(&x->mods);
}

/* A test name: "file:line CMD args", printable and without '#'. */
static void make_desc(ctx_t *x, buf_t *d, const char *prefix, const args_t *a)
{
    buf_addf(d, "%s:%d ", x->base, x->line);
    size_t start = d->len;
    if (prefix) buf_adds(d, prefix);
    for (int i = 0; a && i < a->n; i++) {
        if (d->len > start) buf_addc(d, ' ');
        int plain = a->l[i] > 0;
        for (size_t j = 0; j < a->l[i]; j++) {
            unsigned char c = (unsigned char)a->v[i][j];
            if (c <= 32 || c >= 127 || c == '"' || c == '\'' || c == '\\' || c == '#') plain = 0;
        }
        if (plain) buf_add(d, a->v[i], a->l[i]);
        else escape_bytes(d, a->v[i], a->l[i], DESC_MAX);
        if (d->len - start > DESC_MAX) break;
    }
    if (d->len - start > DESC_MAX) {
        d->len = start + DESC_MAX;
        d->p[d->len] = '\0';
        buf_adds(d, "...");
    }
    for (size_t i = start; i < d->len; i++)
        if (d->p[i] == '#') d->p[i] = '%';
}

static void client_close(client_t *c)
{
    for (int i = 0; i < NSIDES; i++) {
        if (c->s[i].fd >= 0) close(c->s[i].fd);
        c->s[i].fd = -1;
        buf_clear(&c->s[i].in);
    }
    for (int i = c->pend_head; i < c->npend; i++) free(c->pend[i].desc);
    c->npend = c->pend_head = 0;
    c->broken = 0;
}

static client_t *client_find(ctx_t *x, const char *name)
{
    for (client_t *c = x->clients; c; c = c->next)
        if (strcmp(c->name, name) == 0) return c;
    client_t *c = xrealloc(NULL, sizeof(*c));
    memset(c, 0, sizeof(*c));
    c->name = xstrdup(name);
    for (int i = 0; i < NSIDES; i++) c->s[i].fd = -1;
    c->next = x->clients;
    x->clients = c;
    return c;
}

static void clients_free(ctx_t *x)
{
    client_t *c = x->clients;
    while (c) {
        client_t *next = c->next;
        client_close(c);
        for (int i = 0; i < NSIDES; i++) buf_free(&c->s[i].in);
        free(c->pend);
        free(c->name);
        free(c);
        c = next;
    }
    x->clients = x->cur = NULL;
}

/* Report servers that died; aborts the rest of the file.  Returns 1 if so. */
static int check_servers(ctx_t *x)
{
    int dead = 0;
    for (int i = 0; i < NSIDES; i++) {
        if (!x->started || !server_dead(&srv[i])) continue;
        char st[128], d[256];
        describe_status(&srv[i], st, sizeof(st));
        snprintf(d, sizeof(d), "%s:%d %s is alive", x->base, x->line, srv[i].label);
        tap_point(0, d);
        diag("%s (%s) exited unexpectedly: %s; skipping the rest of %s", srv[i].label,
             srv[i].path, st, x->base);
        log_tail(&srv[i]);
        srv[i].pid = 0;
        dead = 1;
    }
    if (dead) x->aborted = 1;
    return dead;
}

static int start_servers(ctx_t *x)
{
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !*tmpdir) tmpdir = "/tmp";
    for (int i = 0; i < NSIDES; i++) {
        snprintf(srv[i].dir, sizeof(srv[i].dir), "%s/sluice-diff-%s.XXXXXX", tmpdir, srv[i].label);
        if (!mkdtemp(srv[i].dir)) {
            buf_t d = {0};
            buf_addf(&d, "%s: start servers", x->base);
            tap_point(0, d.p);
            buf_free(&d);
            diag("mkdtemp(%s): %s", srv[i].dir, strerror(errno));
            srv[i].dir[0] = '\0';
            return -1;
        }
        sig_dirs[i][0] = '\0';
        snprintf(sig_logs[i], sizeof(sig_logs[i]), "%s/server.log", srv[i].dir);
        memcpy(sig_dirs[i], srv[i].dir, sizeof(sig_dirs[i]));
    }
    for (int attempt = 0; attempt < 3; attempt++) {
        int ok = 1;
        for (int i = 0; i < NSIDES; i++) {
            if (srv[i].pid > 0 && !server_dead(&srv[i])) continue;
            if (spawn_server(&srv[i], i, &x->server_args, i ? srv[0].port : -1) != 0) ok = 0;
        }
        int64_t deadline = now_ms() + START_TIMEOUT_MS;
        for (int i = 0; i < NSIDES && ok; i++)
            if (wait_ready(&srv[i], deadline) != 0) ok = 0;
        if (ok) {
            x->started = 1;
            return 0;
        }
        /* Retry only if a server exited (e.g. lost a race for its port). */
        int retry = 0;
        for (int i = 0; i < NSIDES; i++)
            if (srv[i].pid > 0 && server_dead(&srv[i])) retry = 1;
        if (!retry || attempt == 2) break;
    }
    buf_t d = {0};
    buf_addf(&d, "%s: start servers", x->base);
    tap_point(0, d.p);
    buf_free(&d);
    for (int i = 0; i < NSIDES; i++) {
        char st[128] = "still running but not answering PING";
        if (server_dead(&srv[i])) describe_status(&srv[i], st, sizeof(st));
        diag("%s (%s, port %d): %s", srv[i].label, srv[i].path, srv[i].port, st);
        log_tail(&srv[i]);
    }
    return -1;
}

static int need_servers(ctx_t *x)
{
    x->any_command = 1;
    if (x->aborted) return -1;
    if (x->started) return 0;
    if (start_servers(x) != 0) {
        x->aborted = 1;
        return -1;
    }
    return 0;
}

/* Make sure the current client is connected on both sides. */
static int client_ready(ctx_t *x, client_t *c)
{
    if (c->broken) {
        client_close(c);
        if (getenv("SLUICE_DIFF_VERBOSE")) diag("reopening connection '%s'", c->name);
    }
    for (int i = 0; i < NSIDES; i++) {
        if (c->s[i].fd >= 0) continue;
        c->s[i].fd = connect_port(srv[i].port);
        if (c->s[i].fd < 0) {
            buf_t d = {0};
            buf_addf(&d, "%s:%d connect '%s' to %s", x->base, x->line, c->name, srv[i].label);
            tap_point(0, d.p);
            buf_free(&d);
            diag("connect to 127.0.0.1:%d: %s", srv[i].port, strerror(errno));
            client_close(c);
            check_servers(x);
            return -1;
        }
    }
    return 0;
}

static void show_reply(const char *label, const outcome_t *o, const char *suffix)
{
    buf_t e = {0};
    if (o->st == RS_OK || o->raw.len) escape_bytes(&e, o->raw.p, o->raw.len, DIAG_MAX_BYTES);
    if (o->st != RS_OK) {
        if (e.len) buf_adds(&e, " ");
        buf_addf(&e, "[%s]", status_name(o->st));
    }
    diag("%-8s%s %s", label, suffix, buf_str(&e));
    buf_free(&e);
}

static int regex_matches(regex_t *re, const char *p, size_t n)
{
#ifdef REG_STARTEND
    regmatch_t m[1];
    m[0].rm_so = 0;
    m[0].rm_eo = (regoff_t)n;
    return regexec(re, p ? p : "", 1, m, REG_STARTEND) == 0;
#else
    (void)n;
    return regexec(re, p ? p : "", 0, NULL, 0) == 0;
#endif
}

/* Compare the two outcomes of one request and emit the test point. */
static void judge(ctx_t *x, client_t *c, const char *desc, outcome_t *o,
                  const legit_diff *rule, mods_t *m)
{
    int verbose = env_true("SLUICE_DIFF_VERBOSE");
    int transport_ok = 1, same_eof = 0;
    for (int i = 0; i < NSIDES; i++)
        if (o[i].st != RS_OK) transport_ok = 0;
    if (!transport_ok) {
        c->broken = 1; /* resynchronise: replies may still be in flight */
        same_eof = o[0].st == RS_EOF && o[1].st == RS_EOF && o[0].raw.len == 0 &&
                   o[1].raw.len == 0;
        if (!same_eof || m->have_re) {
            tap_point(0, desc);
            diag("%s:%d: no complete reply from %s", x->base, x->line,
                 o[0].st != RS_OK ? (o[1].st != RS_OK ? "either server" : srv[0].label)
                                 : srv[1].label);
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
            check_servers(x);
            return;
        }
        if (m->ignore) return;
        tap_point(1, desc);
        if (verbose) diag("both servers closed the connection without a reply");
        return;
    }
    if (m->ignore) {
        if (verbose)
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], " (ignored)");
        return;
    }
    buf_t norm[NSIDES] = {{0}};
    int changed = 0;
    /* :match sees the raw bytes (sorted if asked), never masked ones */
    for (int i = 0; i < NSIDES; i++)
        changed |= normalize(o[i].raw.p, o[i].raw.len, m->have_re ? NULL : rule, m->sort,
                             &norm[i]);
    int ok;
    if (m->have_re) {
        int mt[NSIDES];
        ok = 1;
        for (int i = 0; i < NSIDES; i++) {
            mt[i] = regex_matches(&m->re, norm[i].p, norm[i].len);
            ok &= mt[i];
        }
        tap_point(ok, desc);
        if (!ok) {
            diag("%s:%d: reply does not match /%s/ on %s", x->base, x->line, m->re_src,
                 mt[0] ? srv[1].label : mt[1] ? srv[0].label : "either server");
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
        }
    } else {
        ok = norm[0].len == norm[1].len && memcmp(norm[0].p, norm[1].p, norm[0].len) == 0;
        tap_point(ok, desc);
        if (!ok) {
            size_t k = 0;
            while (k < norm[0].len && k < norm[1].len && norm[0].p[k] == norm[1].p[k]) k++;
            diag("%s:%d: replies differ (first difference at byte %zu%s)", x->base, x->line, k,
                 changed ? " of the normalized replies" : "");
            for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
            if (changed)
                for (int i = 0; i < NSIDES; i++) {
                    outcome_t t = {RS_OK, norm[i], 0};
                    show_reply(srv[i].label, &t, " (normalized)");
                }
        }
    }
    if (ok && verbose) show_reply("reply", &o[1], "");
    for (int i = 0; i < NSIDES; i++) buf_free(&norm[i]);
}

static void outcomes_free(outcome_t *o)
{
    for (int i = 0; i < NSIDES; i++) buf_free(&o[i].raw);
}

/* Read one reply from both sides of c (the first may already be buffered). */
static void read_both(ctx_t *x, client_t *c, outcome_t *o)
{
    for (int i = 0; i < NSIDES; i++) {
        size_t fl = 0;
        memset(&o[i], 0, sizeof(o[i]));
        o[i].st = read_frame(&c->s[i], x->timeout_ms, &fl);
        if (o[i].st == RS_OK) {
            buf_add(&o[i].raw, c->s[i].in.p, fl);
            buf_consume(&c->s[i].in, fl);
        } else {
            buf_add(&o[i].raw, c->s[i].in.p, c->s[i].in.len);
            buf_clear(&c->s[i].in);
        }
    }
}

static void encode_command(const args_t *a, buf_t *out)
{
    buf_addf(out, "*%d\r\n", a->n);
    for (int i = 0; i < a->n; i++) {
        buf_addf(out, "$%zu\r\n", a->l[i]);
        buf_add(out, a->v[i], a->l[i]);
        buf_adds(out, "\r\n");
    }
}

/* Send `req` on both sides; a failed send is recorded as RS_EOF in o. */
static void send_both(client_t *c, const buf_t *req, outcome_t *o)
{
    for (int i = 0; i < NSIDES; i++) {
        memset(&o[i], 0, sizeof(o[i]));
        if (send_all(c->s[i].fd, req->p, req->len) != 0) o[i].st = RS_EOF;
    }
}

/* Run one command (or a directive that behaves like one, e.g. :resp3). */
static void run_command(ctx_t *x, const args_t *a, const char *prefix)
{
    mods_t m = x->mods;
    memset(&x->mods, 0, sizeof(x->mods));
    if (need_servers(x) != 0) goto out;
    client_t *c = x->cur;
    if (client_ready(x, c) != 0) goto out;
    buf_t desc = {0};
    make_desc(x, &desc, prefix, a);
    if (c->npend > c->pend_head && !m.noreply) {
        x->mods = m;
        script_error(x, "'%s' has unread replies of :noreply commands; :read them first",
                     c->name);
        memset(&m, 0, sizeof(m));
        buf_free(&desc);
        goto out;
    }
    const legit_diff *rule = find_rule(a);
    buf_t req = {0};
    encode_command(a, &req);
    outcome_t o[NSIDES];
    send_both(c, &req, o);
    buf_free(&req);
    if (m.noreply && o[0].st == RS_OK && o[1].st == RS_OK) {
        c->pend = xrealloc(c->pend, sizeof(pending_t) * (size_t)(c->npend + 1));
        c->pend[c->npend].desc = xstrdup(desc.p);
        c->pend[c->npend].rule = rule;
        c->npend++;
        buf_free(&desc);
        goto out;
    }
    if (o[0].st == RS_OK && o[1].st == RS_OK) read_both(x, c, o);
    judge(x, c, desc.p, o, rule, &m);
    outcomes_free(o);
    buf_free(&desc);
out:
    mods_clear(&m);
}

static void run_read(ctx_t *x)
{
    mods_t m = x->mods;
    memset(&x->mods, 0, sizeof(x->mods));
    if (need_servers(x) != 0) goto out;
    client_t *c = x->cur;
    if (c->npend <= c->pend_head) {
        x->mods = m;
        memset(&m, 0, sizeof(m));
        script_error(x, ":read without a pending :noreply command on '%s'", c->name);
        goto out;
    }
    pending_t p = c->pend[c->pend_head++];
    if (c->pend_head == c->npend) c->pend_head = c->npend = 0;
    buf_t desc = {0};
    make_desc(x, &desc, ":read", NULL);
    buf_adds(&desc, " of ");
    buf_adds(&desc, p.desc); /* "file:line CMD" of the :noreply command */
    outcome_t o[NSIDES];
    read_both(x, c, o);
    judge(x, c, desc.p, o, p.rule, &m);
    outcomes_free(o);
    buf_free(&desc);
    free(p.desc);
out:
    mods_clear(&m);
}

/* Done with a side of a :raw read? */
typedef struct {
    int done;
    int64_t last; /* time of last activity */
} rawstate_t;

static int raw_complete(const buf_t *b)
{
    size_t off = 0;
    while (off < b->len) {
        long r = resp_frame(b->p + off, b->len - off, 0);
        if (r == 0) return 0;
        if (r < 0) return 1; /* garbage: nothing better will come */
        off += (size_t)r;
    }
    return 1;
}

static void run_raw(ctx_t *x, const args_t *a)
{
    mods_t m = x->mods;
    memset(&x->mods, 0, sizeof(x->mods));
    if (m.sort || m.noreply) {
        x->mods = m;
        memset(&m, 0, sizeof(m));
        script_error(x, ":sort and :noreply do not apply to :raw");
        goto out;
    }
    if (need_servers(x) != 0) goto out;
    client_t *c = x->cur;
    if (client_ready(x, c) != 0) goto out;
    if (c->npend > c->pend_head) {
        x->mods = m;
        memset(&m, 0, sizeof(m));
        script_error(x, "'%s' has unread replies of :noreply commands", c->name);
        goto out;
    }
    buf_t req = {0};
    for (int i = 0; i < a->n; i++) buf_add(&req, a->v[i], a->l[i]);
    buf_t desc = {0};
    args_t one = {0};
    args_push(&one, req.p ? req.p : "", req.len);
    make_desc(x, &desc, ":raw", &one);
    args_free(&one);
    outcome_t o[NSIDES];
    send_both(c, &req, o);
    buf_free(&req);
    /* Collect from both sides at once until each one closed, went quiet
     * after complete replies (or after nothing), or timed out mid-reply. */
    rawstate_t rs[NSIDES];
    int64_t start = now_ms();
    for (int i = 0; i < NSIDES; i++) {
        rs[i].done = 0;
        rs[i].last = start;
        o[i].st = RS_OK; /* a failed send still leaves what the peer said */
        buf_add(&o[i].raw, c->s[i].in.p, c->s[i].in.len);
        buf_clear(&c->s[i].in);
    }
    char tmp[65536];
    for (;;) {
        struct pollfd pf[NSIDES];
        int np = 0, idx[NSIDES];
        int64_t now = now_ms(), wake = INT64_MAX;
        for (int i = 0; i < NSIDES; i++) {
            if (rs[i].done) continue;
            int64_t dl = raw_complete(&o[i].raw) ? rs[i].last + x->raw_wait_ms
                                                 : start + x->timeout_ms;
            if (now >= dl) {
                rs[i].done = 1;
                if (!raw_complete(&o[i].raw)) o[i].st = RS_TIMEOUT;
                continue;
            }
            if (dl < wake) wake = dl;
            pf[np].fd = c->s[i].fd;
            pf[np].events = POLLIN;
            pf[np].revents = 0;
            idx[np++] = i;
        }
        if (np == 0) break;
        int pr = poll(pf, (nfds_t)np, (int)(wake - now));
        if (pr <= 0) continue;
        for (int k = 0; k < np; k++) {
            if (!pf[k].revents) continue;
            int i = idx[k];
            ssize_t n = recv(c->s[i].fd, tmp, sizeof(tmp), 0);
            if (n > 0) {
                buf_add(&o[i].raw, tmp, (size_t)n);
                rs[i].last = now_ms();
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                o[i].closed = 1;
                rs[i].done = 1;
            }
        }
    }
    /* Compare bytes + connection state. */
    for (int i = 0; i < NSIDES; i++) {
        if (o[i].closed) c->broken = 1;
        if (o[i].st == RS_EOF) o[i].st = RS_OK; /* closure is part of the outcome */
    }
    int ok = 1;
    if (o[0].st != RS_OK || o[1].st != RS_OK) ok = 0;
    if (ok && !m.ignore) {
        if (m.have_re) {
            for (int i = 0; i < NSIDES; i++)
                ok &= regex_matches(&m.re, o[i].raw.p, o[i].raw.len);
            ok &= o[0].closed == o[1].closed;
        } else {
            ok = o[0].closed == o[1].closed && o[0].raw.len == o[1].raw.len &&
                 memcmp(buf_str(&o[0].raw), buf_str(&o[1].raw), o[0].raw.len) == 0;
        }
    }
    if (!m.ignore || !ok) {
        tap_point(ok, desc.p);
        if (!ok) {
            diag("%s:%d: raw exchange differs%s%s", x->base, x->line,
                 m.have_re ? " or does not match " : "", m.have_re ? m.re_src : "");
            for (int i = 0; i < NSIDES; i++)
                show_reply(srv[i].label, &o[i], o[i].closed ? " [closed]" : " [open]");
            check_servers(x);
        } else if (env_true("SLUICE_DIFF_VERBOSE")) {
            show_reply("reply", &o[1], o[1].closed ? " [closed]" : " [open]");
        }
    }
    if (!ok) c->broken = 1;
    outcomes_free(o);
    buf_free(&desc);
out:
    mods_clear(&m);
}

static void run_flushall(ctx_t *x)
{
    if (mods_any(&x->mods)) {
        script_error(x, "modifiers do not apply to :flushall");
        return;
    }
    if (need_servers(x) != 0) return;
    client_t *c = x->cur;
    if (client_ready(x, c) != 0) return;
    if (c->npend > c->pend_head) {
        script_error(x, "'%s' has unread replies of :noreply commands", c->name);
        return;
    }
    static const char req_s[] = "*1\r\n$8\r\nFLUSHALL\r\n";
    buf_t req = {0};
    buf_adds(&req, req_s);
    outcome_t o[NSIDES];
    send_both(c, &req, o);
    buf_free(&req);
    if (o[0].st == RS_OK && o[1].st == RS_OK) read_both(x, c, o);
    int ok = 1;
    for (int i = 0; i < NSIDES; i++)
        if (o[i].st != RS_OK || o[i].raw.len != 5 || memcmp(o[i].raw.p, "+OK\r\n", 5) != 0) ok = 0;
    if (!ok) {
        buf_t d = {0};
        buf_addf(&d, "%s:%d :flushall", x->base, x->line);
        tap_point(0, d.p);
        buf_free(&d);
        diag("FLUSHALL did not answer +OK on both servers");
        for (int i = 0; i < NSIDES; i++) show_reply(srv[i].label, &o[i], "");
        c->broken = 1;
        check_servers(x);
    }
    outcomes_free(o);
}

/* The argument of ":match": the rest of the line, trimmed.  If it is in
 * double quotes, the quotes are removed and only \r \n \t \" and \xHH are
 * translated; every other backslash sequence (\* \$ \. \\ ...) is kept for
 * the regex.  Returns -1 if empty or if a quote is unbalanced. */
static int regex_arg(const char *line, buf_t *out)
{
    const char *p = line + 1;
    while (*p && !isspace((unsigned char)*p)) p++; /* skip "match" */
    while (*p && isspace((unsigned char)*p)) p++;
    size_t n = strlen(p);
    while (n && isspace((unsigned char)p[n - 1])) n--;
    if (n == 0) return -1;
    if (p[0] != '"') {
        buf_add(out, p, n);
        return 0;
    }
    size_t i = 1;
    for (; i < n && p[i] != '"'; i++) {
        if (p[i] != '\\' || i + 1 >= n) {
            buf_addc(out, p[i]);
            continue;
        }
        char c = p[++i];
        if (c == 'r') buf_addc(out, '\r');
        else if (c == 'n') buf_addc(out, '\n');
        else if (c == 't') buf_addc(out, '\t');
        else if (c == '"') buf_addc(out, '"');
        else if (c == 'x' && i + 2 < n && hexval((unsigned char)p[i + 1]) >= 0 &&
                 hexval((unsigned char)p[i + 2]) >= 0) {
            buf_addc(out, (char)(hexval((unsigned char)p[i + 1]) * 16 +
                                 hexval((unsigned char)p[i + 2])));
            i += 2;
        } else {
            buf_addc(out, '\\');
            buf_addc(out, c);
        }
    }
    if (i != n - 1) return -1; /* no closing quote, or text after it */
    return out->len ? 0 : -1;
}

static void run_directive(ctx_t *x, const char *line)
{
    args_t a = {0};
    if (split_args(line + 1, &a) != 0) {
        script_error(x, "unbalanced quotes in directive");
        return;
    }
    if (a.n == 0) {
        script_error(x, "empty directive");
        goto out;
    }
    const char *d = a.v[0];
    long ms;
    if (!strcmp(d, "sort") || !strcmp(d, "sort-pairs") || !strcmp(d, "ignore") ||
        !strcmp(d, "noreply")) {
        if (a.n != 1) {
            script_error(x, ":%s takes no arguments", d);
            goto out;
        }
        if (d[0] == 's') x->mods.sort = d[4] ? 2 : 1;
        else if (d[0] == 'i') x->mods.ignore = 1;
        else x->mods.noreply = 1;
    } else if (!strcmp(d, "match")) {
        if (x->mods.have_re) {
            script_error(x, "two :match for one command");
            goto out;
        }
        buf_t re = {0};
        if (regex_arg(line, &re) != 0) {
            buf_free(&re);
            script_error(x, ":match takes one regex (optionally in double quotes)");
            goto out;
        }
        int rc = regcomp(&x->mods.re, buf_str(&re), REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char err[256];
            regerror(rc, &x->mods.re, err, sizeof(err));
            buf_free(&re);
            script_error(x, "bad regex: %s", err);
            goto out;
        }
        x->mods.have_re = 1;
        buf_t src = {0};
        escape_bytes(&src, re.p, re.len, 512);
        x->mods.re_src = src.p;
        buf_free(&re);
    } else if (!strcmp(d, "read")) {
        if (a.n != 1) script_error(x, ":read takes no arguments");
        else run_read(x);
    } else if (!strcmp(d, "resp2") || !strcmp(d, "resp3")) {
        if (a.n != 1) {
            script_error(x, ":%s takes no arguments", d);
            goto out;
        }
        args_t h = {0};
        args_push(&h, "HELLO", 5);
        args_push(&h, d[4] == '3' ? "3" : "2", 1);
        run_command(x, &h, d[4] == '3' ? ":resp3" : ":resp2");
        args_free(&h);
    } else if (!strcmp(d, "client")) {
        if (a.n != 2) script_error(x, ":client takes a connection name");
        else if (mods_any(&x->mods)) script_error(x, "modifiers must directly precede a command");
        else x->cur = client_find(x, a.v[1]);
    } else if (!strcmp(d, "reconnect")) {
        if (a.n != 1) script_error(x, ":reconnect takes no arguments");
        else if (mods_any(&x->mods)) script_error(x, "modifiers must directly precede a command");
        else client_close(x->cur);
    } else if (!strcmp(d, "raw")) {
        if (a.n < 2) {
            script_error(x, ":raw needs the bytes to send");
            goto out;
        }
        args_t bytes = {0};
        for (int i = 1; i < a.n; i++) args_push(&bytes, a.v[i], a.l[i]);
        run_raw(x, &bytes);
        args_free(&bytes);
    } else if (!strcmp(d, "flushall")) {
        if (a.n != 1) script_error(x, ":flushall takes no arguments");
        else run_flushall(x);
    } else if (!strcmp(d, "sleep") || !strcmp(d, "timeout") || !strcmp(d, "raw-wait")) {
        if (a.n != 2 || parse_ms(a.v[1], &ms) != 0) {
            script_error(x, ":%s takes a number of milliseconds", d);
            goto out;
        }
        if (d[0] == 's') sleep_ms(ms);
        else if (d[0] == 't') x->timeout_ms = ms;
        else x->raw_wait_ms = ms;
    } else if (!strcmp(d, "server-args")) {
        if (x->any_command || x->started) {
            script_error(x, ":server-args must come before the first command");
            goto out;
        }
        for (int i = 1; i < a.n; i++) args_push(&x->server_args, a.v[i], a.l[i]);
    } else {
        script_error(x, "unknown directive ':%s'", d);
    }
out:
    args_free(&a);
}

static void run_file(const char *path)
{
    ctx_t x;
    memset(&x, 0, sizeof(x));
    x.path = path;
    const char *slash = strrchr(path, '/');
    x.base = slash ? slash + 1 : path;
    x.timeout_ms = env_long("SLUICE_DIFF_TIMEOUT", 5000);
    x.raw_wait_ms = env_long("SLUICE_DIFF_RAW_WAIT", 150);
    x.cur = client_find(&x, "main");
    x.failures_at_start = tap_failures;

    printf("# %s\n", path);
    FILE *f = fopen(path, "r");
    if (!f) {
        buf_t d = {0};
        buf_addf(&d, "%s: open script", x.base);
        tap_point(0, d.p);
        buf_free(&d);
        diag("%s: %s", path, strerror(errno));
        clients_free(&x);
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (!x.aborted && (len = getline(&line, &cap, f)) >= 0) {
        x.line++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if ((size_t)len != strlen(line)) {
            script_error(&x, "NUL byte in script line");
            continue;
        }
        const char *s = line;
        while (*s && isspace((unsigned char)*s)) s++;
        if (!*s || *s == '#') continue;
        if (*s == ':') {
            run_directive(&x, s);
            continue;
        }
        args_t a = {0};
        if (split_args(s, &a) != 0) {
            script_error(&x, "unbalanced quotes");
            continue;
        }
        run_command(&x, &a, NULL);
        args_free(&a);
    }
    free(line);
    fclose(f);
    if (!x.aborted && mods_any(&x.mods)) script_error(&x, "modifier at end of file without a command");
    mods_clear(&x.mods);
    for (client_t *c = x.clients; c; c = c->next)
        if (c->npend > c->pend_head)
            diag("%s: %d unread :noreply replies on '%s'", x.base, c->npend - c->pend_head,
                 c->name);
    if (x.started && !x.aborted) check_servers(&x);
    clients_free(&x);
    /* Stop both; a crash or a non-zero exit on SIGTERM is a failure. */
    for (int i = 0; i < NSIDES; i++) {
        if (srv[i].pid <= 0) continue;
        int was_dead = srv[i].reaped;
        stop_server(&srv[i]);
        if (!was_dead && srv[i].reaped &&
            !(WIFEXITED(srv[i].status) && WEXITSTATUS(srv[i].status) == 0)) {
            char st[128], d[256];
            describe_status(&srv[i], st, sizeof(st));
            snprintf(d, sizeof(d), "%s: %s shuts down cleanly on SIGTERM", x.base, srv[i].label);
            tap_point(0, d);
            diag("%s: %s", srv[i].label, st);
            log_tail(&srv[i]);
        }
        srv[i].pid = 0;
    }
    if (tap_failures > x.failures_at_start)
        for (int i = 0; i < NSIDES; i++)
            if (srv[i].dir[0] && keep_dirs) diag("%s log: %s/server.log", srv[i].label, srv[i].dir);
    for (int i = 0; i < NSIDES; i++) cleanup_dir(&srv[i]);
    args_free(&x.server_args);
}

/* Whether the environment requires redis-server (then a missing one is a
 * failure, not a skip): SLUICE_REQUIRE_REDIS=1, or SLUICE_REQUIRE "all" or
 * a comma-separated list naming "redis", as tests/tap.h reads it. */
static int redis_required(void)
{
    if (env_true("SLUICE_REQUIRE_REDIS")) return 1;
    const char *req = getenv("SLUICE_REQUIRE");
    if (!req) return 0;
    for (const char *p = req; *p;) {
        size_t len = strcspn(p, ",");
        if ((len == 3 && !strncmp(p, "all", 3)) || (len == 5 && !strncmp(p, "redis", 5))) return 1;
        p += len;
        if (*p) p++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT.redis [SCRIPT.redis ...]\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    srv[0].label = "sluice";
    srv[0].path = getenv("SLUICE_SERVER");
    if (!srv[0].path || !*srv[0].path) srv[0].path = "server/sluice-server";
    srv[1].label = "redis";
    srv[1].path = getenv("REDIS_SERVER");
    if (!srv[1].path || !*srv[1].path) srv[1].path = "/usr/bin/redis-server";
    keep_dirs = env_true("SLUICE_DIFF_KEEP");

    if (access(srv[1].path, X_OK) != 0) {
        if (redis_required()) {
            printf("Bail out! redis-server not found at %s (required: SLUICE_REQUIRE names redis)\n",
                   srv[1].path);
            return 1;
        }
        printf("1..0 # SKIP redis-server not found\n");
        return 0;
    }
    if (access(srv[0].path, X_OK) != 0) {
        printf("Bail out! sluice-server not found at %s (set SLUICE_SERVER)\n", srv[0].path);
        return 1;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGQUIT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    atexit(stop_all_atexit);

    for (int i = 1; i < argc; i++) run_file(argv[i]);

    printf("1..%d\n", tap_count);
    if (tap_failures) printf("# %d of %d failed\n", tap_failures, tap_count);
    fflush(stdout);
    return tap_failures ? 1 : 0;
}
