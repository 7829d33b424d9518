/* test_waitaof.c - WAITAOF numlocal numreplicas timeout (Redis 7.2):
 *
 *  - errors in Redis 7.2's words and order: numlocal out of 0..1,
 *    negative numreplicas, a bad timeout, numlocal with appendonly no;
 *  - local, per appendfsync: always answers [1,0] at once after a write;
 *    everysec answers [1,0] once the background fsync covered the write
 *    (blocked meanwhile); a stalled disk (DEBUG AOF-FSYNC-STALL) makes it
 *    time out with [0,0]; `no` never fsyncs, so it times out;
 *  - per connection: a connection that wrote nothing is answered at once;
 *  - a blocked WAITAOF whose AOF is turned off gets the appendonly error;
 *  - inside MULTI it does not block;
 *  - replicas: a Sluice replica with appendonly yes acknowledges with
 *    REPLCONF ACK ... FACK and counts; one without an AOF, and a
 *    redis-server 7.0 replica (no FACK), do not;
 *  - on a replica: Redis 7.2's error.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"


/* The reply as text: "[a,b]" for an array of integers, else the string. */
static void reply_text(redisContext *c, char *out, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    snprintf(out, len, "(null)");
    if (!r)
        return;
    if (r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
        r->element[1]->type == REDIS_REPLY_INTEGER)
        snprintf(out, len, "[%lld,%lld]", r->element[0]->integer, r->element[1]->integer);
    else if (r->str)
        snprintf(out, len, "%s", r->str);
    else if (r->type == REDIS_REPLY_INTEGER)
        snprintf(out, len, "%lld", r->integer);
    freeReplyObject(r);
}

#define IS(c, want, desc, ...)                                                                                         \
    do {                                                                                                               \
        char got_[256];                                                                                                \
        reply_text(c, got_, sizeof(got_), __VA_ARGS__);                                                                \
        is_str(got_, want, desc);                                                                                      \
    } while (0)

static void errors_and_local(void)
{
    char dir[400];
    proc_make_dir(dir, sizeof(dir), "local");
    const char *args[] = {"--appendonly", "yes", "--appendfsync", "always", NULL};
    struct proc m;
    if (proc_start_sluice(&m, dir, args) != 0) {
        ok(0, "local: server starts");
        return;
    }
    redisContext *c = proc_conn(&m);
    IS(c, "ERR value is out of range, value must between 0 and 1", "numlocal 2: Redis 7.2's range error", "WAITAOF 2 0 0");
    IS(c, "ERR value is not an integer or out of range", "numlocal not a number", "WAITAOF x 0 0");
    IS(c, "ERR value is out of range, must be positive", "numreplicas -1", "WAITAOF 1 -1 0");
    IS(c, "ERR timeout is negative", "timeout -1", "WAITAOF 1 0 -1");
    IS(c, "ERR wrong number of arguments for 'waitaof' command", "arity", "WAITAOF 1 0");

    harness_run(c, "SET k 1");
    IS(c, "[1,0]", "always: [1,0] right after a write", "WAITAOF 1 0 0");

    harness_run(c, "CONFIG SET appendfsync everysec");
    harness_run(c, "SET k 2");
    long long t0 = harness_now_ms();
    IS(c, "[1,0]", "everysec: [1,0] once the background fsync covered the write", "WAITAOF 1 0 5000");
    tap_diag("everysec WAITAOF took %lld ms", harness_now_ms() - t0);

    harness_run(c, "DEBUG AOF-FSYNC-STALL 3000");
    harness_sleep_ms(1100); /* the next background fsync picks the stall */
    harness_run(c, "SET k 3");
    IS(c, "[0,0]", "everysec, a stalled disk: [0,0] after the timeout", "WAITAOF 1 0 300");
    IS(c, "[1,0]", "... and [1,0] once the stalled fsync finished", "WAITAOF 1 0 10000");

    redisContext *other = proc_conn(&m);
    harness_run(c, "CONFIG SET appendfsync no");
    harness_run(c, "SET k 4");
    IS(c, "[0,0]", "appendfsync no: never fsynced by Sluice, [0,0] after the timeout", "WAITAOF 1 0 200");
    IS(other, "[1,0]", "a connection that wrote nothing: answered at once", "WAITAOF 1 0 0");
    harness_run(c, "MULTI");
    harness_run(c, "WAITAOF 1 0 0");
    redisReply *ex = redisCommand(c, "EXEC");
    ok(ex && ex->type == REDIS_REPLY_ARRAY && ex->elements == 1 && ex->element[0]->type == REDIS_REPLY_ARRAY &&
           ex->element[0]->element[0]->integer == 0,
       "inside MULTI: no blocking, the count as it is ([0,0])");
    if (ex)
        freeReplyObject(ex);

    /* a blocked WAITAOF whose AOF goes away */
    redisAppendCommand(c, "WAITAOF 1 0 0");
    int done = 0;
    while (!done && redisBufferWrite(c, &done) == REDIS_OK) {
    }
    harness_wait_info_field(other, "clients", "blocked_clients", 1, 5000);
    harness_run(other, "CONFIG SET appendonly no");
    redisReply *r = NULL;
    redisGetReply(c, (void **)&r);
    is_str(r && r->str ? r->str : "(null)",
           "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.",
           "a blocked WAITAOF gets the appendonly error when the AOF is turned off");
    if (r)
        freeReplyObject(r);
    IS(c, "ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.",
       "numlocal 1 with appendonly no", "WAITAOF 1 0 0");
    IS(c, "[0,0]", "numlocal 0 with appendonly no: [0,0]", "WAITAOF 0 0 0");
    redisFree(other);
    redisFree(c);
    proc_stop(&m);
}

static int start_replica(struct proc *r, const char *bin, const char *name, int port, const char *aof)
{
    char dir[400], mport[16];
    proc_make_dir(dir, sizeof(dir), name);
    snprintf(mport, sizeof(mport), "%d", port);
    const char *args[] = {"--replicaof", "127.0.0.1", mport, "--appendonly", aof, NULL};
    return proc_start(r, bin, dir, args, 20000);
}

static void replicas(const char *rs)
{
    char dir[400];
    proc_make_dir(dir, sizeof(dir), "master");
    const char *args[] = {"--appendonly", "yes", NULL};
    struct proc m, a, b, x;
    if (proc_start_sluice(&m, dir, args) != 0) {
        ok(0, "replicas: master starts");
        return;
    }
    redisContext *c = proc_conn(&m);
    if (start_replica(&a, harness_server_path(), "aof-replica", m.port, "yes") != 0 ||
        start_replica(&b, harness_server_path(), "plain-replica", m.port, "no") != 0 ||
        start_replica(&x, rs, "redis-replica", m.port, "yes") != 0) {
        ok(0, "replicas start");
        proc_stop(&m);
        return;
    }
    ok(harness_wait_info_field(c, "replication", "connected_slaves", 3, 20000), "three replicas attached");
    /* wait until all three are online (a full sync each) */
    long long deadline = harness_now_ms() + 20000;
    int online = 0;
    while (online < 3 && harness_now_ms() < deadline) {
        char *info = harness_cmd(c, "INFO replication");
        online = 0;
        for (char *p = info; (p = strstr(p, "state=online")); p++)
            online++;
        free(info);
        if (online < 3)
            harness_sleep_ms(50);
    }
    ok(online == 3, "all three replicas online");
    harness_run(c, "SET k v");
    IS(c, "3", "WAIT 3: every replica received the write", "WAIT 3 10000");
    IS(c, "[1,1]", "WAITAOF 1 1: the Sluice replica with an AOF fsynced it (REPLCONF ACK ... FACK)",
       "WAITAOF 1 1 10000");
    IS(c, "[1,1]", "WAITAOF 0 2 300: only one replica fsyncs (no AOF; redis-server 7.0 sends no FACK)",
       "WAITAOF 0 2 300");
    redisContext *rc = proc_conn(&a);
    IS(rc,
       "ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and "
       "are not propagated.",
       "on a replica: Redis 7.2's error", "WAITAOF 0 0 0");
    redisFree(rc);
    redisFree(c);
    proc_stop(&x);
    proc_stop(&b);
    proc_stop(&a);
    proc_stop(&m);
}

int main(void)
{
    proc_init("waitaof");
    errors_and_local();
    const char *rs = proc_redis_path();
    if (!rs)
        tap_skip_dep("redis", "redis-server not installed: no 7.0 replica");
    else
        replicas(rs);
    return tap_done();
}
