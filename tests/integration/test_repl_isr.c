/* test_repl_isr.c - acks and the in-sync replicas, proven by stopping and
 * killing things:
 *
 *  - acks 0 / 1 on the local condition: under appendfsync always with the
 *    AOF's writes deferred (DEBUG AOF-WRITE-DEFER), a write at acks 1 gets
 *    its reply only once its record is in the file, one at acks 0 before;
 *  - CLIENT ACKS and the acks directive (default 1, errors as CONFIG SET's);
 *  - with redis-server 7.0 as the replica and acks all: the replica joins
 *    the ISR (INFO isr); every acknowledged write is already on the replica
 *    when its reply arrives;
 *  - the replica stopped (SIGSTOP): a write at acks all is held until the
 *    replica leaves the ISR (replica-lag-max-ms), a write at acks 1 is not;
 *    PING and CLIENT never wait;
 *  - min-insync-replicas 2 with the replica out: acks all writes refused
 *    with -NOREPLICAS before they are applied, acks 1 writes and reads
 *    served; the replica resumes and rejoins; a write applied while the
 *    ISR was full and then left alone waits ack-timeout-ms and its
 *    connection is closed without a reply; read-committed no lets a read
 *    through while that write waits;
 *  - kill -9 of the master under a pipelined acks all load: every write
 *    acknowledged is on the replica, in order;
 *  - Sluice replicas are told whether they are in the ISR: slave_priority
 *    0 while out (also once the master died), the configured priority in;
 *    the notices do not move the stream's offset;
 *  - CLIENT PAUSE on a replica holds its master's stream: an acks all
 *    write waits, the replica and its own replica lack it, its offset
 *    does not count it; after UNPAUSE all agree.
 */
#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"

static int check(redisContext *c, const char *want, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    const char *got = !r ? "(io error)" : r->str ? r->str : r->type == REDIS_REPLY_NIL ? "(nil)" : "(other)";
    char num[32];
    if (r && r->type == REDIS_REPLY_INTEGER) {
        snprintf(num, sizeof(num), "%lld", r->integer);
        got = num;
    }
    int eq = strcmp(got, want) == 0;
    if (!eq)
        tap_diag("got '%s', want '%s'", got, want);
    if (r)
        freeReplyObject(r);
    return eq;
}

/* Send a command without reading its reply. */
static void send_only(redisContext *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisvAppendCommand(c, fmt, ap);
    va_end(ap);
    int done = 0;
    while (!done && redisBufferWrite(c, &done) == REDIS_OK) {
    }
}

/* Whether bytes (or EOF) arrive on c within ms. */
static int readable_within(redisContext *c, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    return poll(&p, 1, ms) > 0;
}

/* CONFIG SET min-insync-replicas 2 on w, then an acks all SET refused with
 * -NOREPLICAS (what) and not applied, as GET on r shows (not_applied). */
static void expect_noreplicas(redisContext *w, redisContext *r, const char *what, const char *not_applied)
{
    ok(check(w, "OK", "CONFIG SET min-insync-replicas 2"), "CONFIG SET min-insync-replicas 2");
    char *v = harness_cmd(w, "SET refused v");
    is_str(v, "NOREPLICAS Not enough good replicas to write.", "%s", what);
    free(v);
    ok(check(r, "(nil)", "GET refused"), "%s", not_applied);
}

/* ---- acks 0 and 1 against the AOF ---- */

static void test_local_levels(void)
{
    char dir[400], incr[600];
    proc_make_dir(dir, sizeof(dir), "local");
    snprintf(incr, sizeof(incr), "%s/appendonlydir/appendonly.aof.1.incr.aof", dir);
    const char *args[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    struct proc s;
    if (proc_start_sluice(&s, dir, args) != 0) {
        ok(0, "local: server starts");
        return;
    }
    redisContext *c = proc_conn(&s);
    ok(check(c, "1", "CLIENT ACKS"), "CLIENT ACKS: the directive's level (1) by default");
    char *v = harness_cmd(c, "CONFIG GET acks");
    is_str(v, "acks,1", "CONFIG GET acks: 1 by default");
    free(v);
    v = harness_cmd(c, "CONFIG SET acks two");
    ok(strstr(v, "argument(s) must be one of the following") != NULL, "CONFIG SET acks two: refused (%s)", v);
    free(v);
    v = harness_cmd(c, "CLIENT ACKS two");
    ok(strstr(v, "ERR") == v, "CLIENT ACKS two: an error (%s)", v);
    free(v);
    v = harness_cmd(c, "CLIENT ACKS 1 2");
    ok(strstr(v, "ERR") == v, "CLIENT ACKS with two levels: an error (%s)", v);
    free(v);

    /* acks 1: the reply waits for the record to be in the file */
    ok(check(c, "OK", "DEBUG AOF-WRITE-DEFER 2000"), "DEBUG AOF-WRITE-DEFER 2000");
    send_only(c, "SET at-one v");
    ok(!readable_within(c, 500), "acks 1: no reply while the AOF write is deferred");
    redisReply *r = NULL;
    redisGetReply(c, (void **)&r);
    ok(r && r->type == REDIS_REPLY_STATUS && harness_file_contains(incr, "at-one"),
       "acks 1: the reply came once the record was in the file");
    if (r)
        freeReplyObject(r);

    /* acks 0: the reply leaves at once, the record comes later */
    ok(check(c, "OK", "CLIENT ACKS 0"), "CLIENT ACKS 0");
    ok(check(c, "0", "CLIENT ACKS"), "CLIENT ACKS shows 0");
    ok(check(c, "OK", "DEBUG AOF-WRITE-DEFER 2000"), "DEBUG AOF-WRITE-DEFER 2000 again");
    ok(check(c, "OK", "SET at-zero v"), "acks 0: SET answered");
    ok(!harness_file_contains(incr, "at-zero"), "acks 0: answered before its record reached the file");
    long long deadline = harness_now_ms() + 10000;
    while (!harness_file_contains(incr, "at-zero") && harness_now_ms() < deadline)
        harness_sleep_ms(50);
    ok(harness_file_contains(incr, "at-zero"), "acks 0: the record reaches the file afterwards");
    ok(check(c, "OK", "CLIENT ACKS default"), "CLIENT ACKS default");
    ok(check(c, "1", "CLIENT ACKS"), "... back to the directive's level");
    ok(check(c, "OK", "CONFIG SET acks all") && check(c, "all", "CLIENT ACKS"),
       "CONFIG SET acks all: a connection at the default follows it");
    ok(check(c, "OK", "CLIENT ACKS 0") && check(c, "RESET", "RESET") && check(c, "all", "CLIENT ACKS"),
       "RESET forgets the connection's own level");
    /* no replica: the ISR is the master alone, which is enough by default */
    ok(check(c, "OK", "SET alone v"), "acks all without replicas: the master alone is the ISR");
    ok(harness_info_field(c, "isr", "isr_size") == 1, "INFO isr: isr_size:1");
    expect_noreplicas(c, c, "acks all, ISR of 1 < 2: -NOREPLICAS", "... and the write was not applied");
    ok(check(c, "PONG", "PING"), "PING still answered");
    ok(check(c, "v", "GET alone"), "reads still answered");
    ok(harness_info_field(c, "isr", "acks_refused") == 1, "INFO isr: acks_refused:1");
    ok(check(c, "OK", "CLIENT ACKS 1") && check(c, "OK", "SET accepted v"), "acks 1 writes are not refused");
    redisFree(c);
    proc_stop(&s);
}

/* ---- with a replica ---- */

static void test_with_replica(const char *rs)
{
    char mdir[400], rdir[400], mlog[600];
    proc_make_dir(mdir, sizeof(mdir), "master");
    proc_make_dir(rdir, sizeof(rdir), "replica");
    snprintf(mlog, sizeof(mlog), "%s/sluice.log", mdir);
    struct proc m, r;
    const char *margs[] = {"--replica-lag-max-ms", "1500", "--ack-timeout-ms", "3000", NULL};
    if (proc_start_sluice(&m, mdir, margs) != 0) {
        ok(0, "sluice starts");
        return;
    }
    char mport[16];
    snprintf(mport, sizeof(mport), "%d", m.port);
    const char *rargs[] = {"--replicaof", "127.0.0.1", mport, NULL};
    if (proc_start(&r, rs, rdir, rargs, 20000) != 0) {
        ok(0, "redis-server starts as a replica");
        proc_stop(&m);
        return;
    }
    redisContext *mc = proc_conn(&m), *rc = proc_conn(&r);
    ok(harness_wait_info_field(mc, "isr", "isr_size", 2, 10000), "the replica joins the ISR (isr_size:2)");
    ok(harness_file_contains(mlog, "joined the in-sync replicas"), "the join is logged");
    char *v = harness_cmd(mc, "INFO isr");
    ok(strstr(v, "replica0:ip=127.0.0.1,port=") && strstr(v, ",isr=1,"), "INFO isr: replica0 ... isr=1");
    free(v);

    /* every acknowledged write is on the replica when its reply arrives */
    ok(check(mc, "OK", "CLIENT ACKS all"), "CLIENT ACKS all");
    int on_replica = 0;
    for (int i = 0; i < 200; i++) {
        char want[16];
        snprintf(want, sizeof(want), "%d", i + 1);
        if (check(mc, want, "RPUSH acked %d", i) && check(rc, want, "LLEN acked"))
            on_replica++;
    }
    is_int(on_replica, 200, "acks all: each of 200 writes is on the replica when its reply arrives");

    /* the replica stops: the write waits until the replica leaves the ISR */
    kill(r.pid, SIGSTOP);
    redisContext *one = proc_conn(&m);
    long long t0 = harness_now_ms();
    send_only(mc, "SET held v");
    ok(!readable_within(mc, 600), "replica stopped: an acks all write is held");
    ok(check(one, "PONG", "PING") && check(one, "OK", "CLIENT ACKS all") && check(one, "all", "CLIENT ACKS"),
       "PING and CLIENT at acks all are not held");
    ok(check(one, "OK", "CLIENT ACKS 1") && check(one, "OK", "SET quick v"), "an acks 1 write is not held");
    redisReply *rep = NULL;
    redisGetReply(mc, (void **)&rep);
    long long held_ms = harness_now_ms() - t0;
    ok(rep && rep->type == REDIS_REPLY_STATUS, "the held write is answered once the replica left the ISR");
    if (rep)
        freeReplyObject(rep);
    ok(held_ms >= 1000, "... not before replica-lag-max-ms (held %lld ms)", held_ms);
    ok(harness_info_field(mc, "isr", "isr_size") == 1 && harness_info_field(mc, "isr", "isr_leaves") == 1,
       "INFO isr: isr_size:1, isr_leaves:1");
    ok(harness_file_contains(mlog, "left the in-sync replicas"), "the leave is logged");

    /* min-insync-replicas 2: refused before being applied */
    expect_noreplicas(mc, one, "ISR too small: acks all write refused", "... and not applied");
    ok(check(mc, "v", "GET quick"), "acks all reads are served");

    /* the replica resumes and rejoins */
    kill(r.pid, SIGCONT);
    ok(harness_wait_info_field(mc, "isr", "isr_size", 2, 10000), "the replica resumes and rejoins");
    ok(harness_info_field(mc, "isr", "isr_joins") == 2, "INFO isr: isr_joins:2");
    ok(check(mc, "OK", "SET after-rejoin v") && check(rc, "v", "GET after-rejoin"),
       "acks all with min-insync-replicas 2: a write acknowledged is on the replica");

    /* applied while the ISR was full, then left alone: ack-timeout-ms */
    kill(r.pid, SIGSTOP);
    t0 = harness_now_ms();
    send_only(mc, "SET orphan v");
    harness_sleep_ms(100);
    redisContext *rd = proc_conn(&m);
    ok(check(rd, "OK", "CLIENT ACKS all") && check(rd, "OK", "CONFIG SET read-committed no") &&
           check(rd, "v", "GET orphan"),
       "read-committed no: a read sees the write still waiting");
    ok(check(rd, "OK", "CONFIG SET read-committed yes"), "read-committed yes again");
    send_only(rd, "GET orphan");
    ok(!readable_within(rd, 300), "read-committed yes: the read waits for the write it could see");
    rep = NULL;
    int got = redisGetReply(mc, (void **)&rep);
    long long timeout_ms = harness_now_ms() - t0;
    ok(got != REDIS_OK && !rep, "ack-timeout-ms: the write's connection is closed without a reply");
    ok(timeout_ms >= 2500, "... after ack-timeout-ms (%lld ms)", timeout_ms);
    ok(harness_info_field(one, "isr", "acks_timeouts") >= 1, "INFO isr: acks_timeouts counted");
    ok(harness_file_contains(mlog, "not acknowledged by the in-sync replicas within ack-timeout-ms"), "and logged");
    kill(r.pid, SIGCONT);
    redisFree(mc);
    redisFree(rd);
    redisFree(one);

    /* kill -9 of the master under a pipelined load at acks all */
    mc = proc_conn(&m);
    ok(check(mc, "OK", "CONFIG SET min-insync-replicas 1") && harness_wait_info_field(mc, "isr", "isr_size", 2, 10000),
       "kill -9: the replica is in the ISR again");
    ok(check(mc, "OK", "CLIENT ACKS all"), "kill -9: CLIENT ACKS all");
    int sent = 0, acked = 0, in_order = 1;
    for (; sent < 5000; sent++)
        redisAppendCommand(mc, "RPUSH load %d", sent);
    int done = 0;
    while (!done && redisBufferWrite(mc, &done) == REDIS_OK) {
    }
    while (acked < 1500) {
        redisReply *x = NULL;
        if (redisGetReply(mc, (void **)&x) != REDIS_OK || !x)
            break;
        in_order &= x->type == REDIS_REPLY_INTEGER && x->integer == acked + 1;
        freeReplyObject(x);
        acked++;
    }
    proc_kill9(&m);
    while (1) { /* replies already in our socket buffer count as acknowledged */
        redisReply *x = NULL;
        if (redisGetReply(mc, (void **)&x) != REDIS_OK || !x)
            break;
        in_order &= x->type == REDIS_REPLY_INTEGER && x->integer == acked + 1;
        freeReplyObject(x);
        acked++;
    }
    ok(in_order, "kill -9: replies came in order (%d acknowledged of %d sent)", acked, sent);
    redisReply *len = redisCommand(rc, "LLEN load");
    long long on = len && len->type == REDIS_REPLY_INTEGER ? len->integer : -1;
    if (len)
        freeReplyObject(len);
    ok(on >= acked, "kill -9: the replica has every acknowledged write (%lld >= %d)", on, acked);
    redisReply *last = redisCommand(rc, "LINDEX load %d", acked - 1);
    char want[16];
    snprintf(want, sizeof(want), "%d", acked - 1);
    ok(last && last->str && !strcmp(last->str, want), "kill -9: ... in order (element %d is %s)", acked - 1, want);
    if (last)
        freeReplyObject(last);
    redisFree(mc);
    redisFree(rc);
    proc_stop(&r);
}

/* Sluice replicas are told whether they are in the ISR (REPLCONF ISR, out
 * of the stream): outside it INFO shows slave_priority:0, so a failover
 * manager never promotes one that may lack acknowledged writes; the last
 * word of a master that died stays. */
static void test_replicas_told(void)
{
    char mdir[400], adir[400], bdir[400], alog[600], blog[600];
    proc_make_dir(mdir, sizeof(mdir), "told-master");
    proc_make_dir(adir, sizeof(adir), "told-a");
    proc_make_dir(bdir, sizeof(bdir), "told-b");
    snprintf(alog, sizeof(alog), "%s/sluice.log", adir);
    snprintf(blog, sizeof(blog), "%s/sluice.log", bdir);
    struct proc m, a, b;
    /* above the replicas' once-a-second ACK, so the running one never lags out */
    const char *margs[] = {"--replica-lag-max-ms", "2500", NULL};
    if (proc_start_sluice(&m, mdir, margs) != 0) {
        ok(0, "told: master starts");
        return;
    }
    char mport[16];
    snprintf(mport, sizeof(mport), "%d", m.port);
    const char *aargs[] = {"--replicaof", "127.0.0.1", mport, "--replica-priority", "50", NULL};
    const char *bargs[] = {"--replicaof", "127.0.0.1", mport, NULL};
    if (proc_start_sluice(&a, adir, aargs) != 0 || proc_start_sluice(&b, bdir, bargs) != 0) {
        ok(0, "told: replicas start");
        proc_stop(&m);
        return;
    }
    redisContext *mc = proc_conn(&m), *ac = proc_conn(&a), *bc = proc_conn(&b);
    ok(harness_wait_info_field(mc, "isr", "isr_size", 3, 10000), "told: both Sluice replicas join the ISR");
    ok(harness_wait_info_field(ac, "replication", "slave_priority", 50, 5000) &&
           harness_wait_info_field(bc, "replication", "slave_priority", 100, 5000),
       "told: in the ISR, INFO shows the configured replica-priority (50, 100)");
    ok(harness_file_contains(alog, "The master counts this replica in its in-sync replicas"),
       "told: the replica logs what the master said");

    /* B stops and falls out; the master dies before B hears it is back */
    kill(b.pid, SIGSTOP);
    for (int i = 0; i < 5; i++)
        check(mc, "OK", "SET k%d v", i);
    ok(harness_wait_info_field(mc, "isr", "isr_size", 2, 10000), "told: the stopped replica left the ISR");
    long long master_off = harness_info_field(mc, "replication", "master_repl_offset");
    proc_kill9(&m);
    kill(b.pid, SIGCONT);
    ok(harness_wait_info_field(bc, "replication", "slave_priority", 0, 10000),
       "told: the replica that was out shows slave_priority:0 (not electable), also after its master died");
    ok(harness_file_contains(blog, "out of its in-sync replicas"), "told: ... and logs it");
    is_int(harness_info_field(ac, "replication", "slave_priority"), 50, "told: the one in the ISR stays electable (50)");
    long long deadline = harness_now_ms() + 5000;
    while (harness_info_field(bc, "replication", "slave_repl_offset") < master_off && harness_now_ms() < deadline)
        harness_sleep_ms(20);
    /* (a PING may have followed the offset read: equal to each other, and
     * at least the master's) */
    long long aoff = harness_info_field(ac, "replication", "slave_repl_offset");
    long long boff = harness_info_field(bc, "replication", "slave_repl_offset");
    ok(aoff == boff && aoff >= master_off,
       "told: the notices are out of the stream: both replicas at the same offset (%lld, %lld; master %lld)", aoff,
       boff, master_off);

    /* the electable one is promoted; the other follows it */
    ok(check(ac, "OK", "REPLICAOF NO ONE"), "told: REPLICAOF NO ONE on the in-sync replica");
    is_int(harness_info_field(ac, "replication", "slave_priority"), -1,
           "told: a master prints no slave_priority");
    char aport[16];
    snprintf(aport, sizeof(aport), "%d", a.port);
    ok(check(bc, "OK", "REPLICAOF 127.0.0.1 %s", aport), "told: the other replica follows the new master");
    ok(harness_wait_info_field(bc, "replication", "slave_priority", 100, 10000),
       "told: in the new master's ISR, its priority is back (100)");
    redisFree(bc);
    redisFree(ac);
    redisFree(mc);
    proc_stop(&b);
    proc_stop(&a);
}

/* CLIENT PAUSE on a replica holds its master's stream too (as in Redis):
 * what it has not applied it neither acknowledges nor relays, so an acks
 * all write waits for it. */
static void test_paused_replica(void)
{
    char mdir[400], rdir[400], r2dir[400];
    proc_make_dir(mdir, sizeof(mdir), "pause-master");
    proc_make_dir(rdir, sizeof(rdir), "pause-replica");
    proc_make_dir(r2dir, sizeof(r2dir), "pause-chained");
    struct proc m, r, r2;
    if (proc_start_sluice(&m, mdir, NULL) != 0) {
        ok(0, "pause: master starts");
        return;
    }
    char port[16];
    snprintf(port, sizeof(port), "%d", m.port);
    const char *rargs[] = {"--replicaof", "127.0.0.1", port, NULL};
    if (proc_start_sluice(&r, rdir, rargs) != 0) {
        ok(0, "pause: replica starts");
        proc_stop(&m);
        return;
    }
    char rport[16];
    snprintf(rport, sizeof(rport), "%d", r.port);
    const char *r2args[] = {"--replicaof", "127.0.0.1", rport, NULL};
    if (proc_start_sluice(&r2, r2dir, r2args) != 0) {
        ok(0, "pause: chained replica starts");
        proc_stop(&r);
        proc_stop(&m);
        return;
    }
    redisContext *mc = proc_conn(&m), *rc = proc_conn(&r), *r2c = proc_conn(&r2), *w = proc_conn(&m);
    ok(harness_wait_info_field(mc, "isr", "isr_size", 2, 10000), "pause: the replica is in the ISR");
    long long want = harness_info_field(mc, "replication", "master_repl_offset");
    long long until = harness_now_ms() + 10000;
    while (harness_info_field(r2c, "replication", "slave_repl_offset") < want && harness_now_ms() < until)
        harness_sleep_ms(20);
    ok(harness_info_field(r2c, "replication", "slave_repl_offset") >= want, "pause: the chained replica caught up");
    ok(check(rc, "OK", "CLIENT PAUSE 20000 WRITE"), "pause: CLIENT PAUSE WRITE on the replica");
    ok(check(w, "OK", "CLIENT ACKS all"), "pause: a writer at acks all");
    send_only(w, "SET paused-write v");
    ok(!readable_within(w, 500), "pause: the acks all write is not acknowledged while the replica is paused");
    ok(check(rc, "(nil)", "GET paused-write") && check(r2c, "(nil)", "GET paused-write"),
       "pause: neither the paused replica nor its own replica has it");
    ok(harness_info_field(rc, "replication", "slave_repl_offset") <
           harness_info_field(mc, "replication", "master_repl_offset"),
       "pause: the paused replica's offset does not count the held command");
    ok(check(rc, "OK", "CLIENT UNPAUSE"), "pause: CLIENT UNPAUSE");
    redisReply *rep = NULL;
    ok(redisGetReply(w, (void **)&rep) == REDIS_OK && rep && rep->type == REDIS_REPLY_STATUS && !strcmp(rep->str, "OK"),
       "pause: the write's reply (+OK) arrives once the replica resumed");
    if (rep)
        freeReplyObject(rep);
    long long deadline = harness_now_ms() + 10000;
    while (harness_now_ms() < deadline && !check(r2c, "v", "GET paused-write"))
        harness_sleep_ms(20);
    ok(check(rc, "v", "GET paused-write") && check(r2c, "v", "GET paused-write"),
       "pause: once it ran, both replicas have it");
    ok(harness_info_field(rc, "replication", "slave_repl_offset") ==
           harness_info_field(mc, "replication", "master_repl_offset"),
       "pause: the offsets agree again");
    redisFree(w);
    redisFree(r2c);
    redisFree(rc);
    redisFree(mc);
    proc_stop(&r2);
    proc_stop(&r);
    proc_stop(&m);
}

int main(void)
{
    proc_init("replisr");
    test_local_levels();
    const char *rs = proc_redis_path();
    if (!rs) {
        tap_skip_dep("redis", "redis-server not installed: no replica");
        return tap_done();
    }
    test_with_replica(rs);
    test_replicas_told();
    test_paused_replica();
    return tap_done();
}
