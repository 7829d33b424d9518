/* test_server.c - integration tests of the foundation: process lifecycle,
 * configuration, connection limits, authentication, protocol handling,
 * pipelining, large values, expiry, transactions with WATCH, and the Redis
 * tools (redis-cli --pipe, redis-benchmark) talking to Sluice.
 *
 * What a single-connection command script can check lives in the
 * differential tests (tests/diff); this file covers what needs several
 * connections, time, signals or process exit codes.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "tap.h"

#define CHECK_CMD(c, want, ...)                                 \
    do {                                                        \
        char *got_ = harness_cmd((c), __VA_ARGS__);             \
        is_str(got_, (want), "%s -> %s", #__VA_ARGS__, (want)); \
        free(got_);                                             \
    } while (0)

static void test_cli_flags(void)
{
    char out[4096];
    const char *version[] = {"--version", NULL};
    int st = harness_run_expect_exit(version, 5000, out, sizeof(out));
    is_int(st, 0, "--version exits 0");
    ok(strstr(out, "Sluice server v=") != NULL, "--version prints the version line");
    const char *help[] = {"--help", NULL};
    st = harness_run_expect_exit(help, 5000, out, sizeof(out));
    is_int(st, 1, "--help exits 1 as redis-server does");
    ok(strstr(out, "Usage: ./sluice-server [/path/to/redis.conf] [options]") != NULL, "--help prints usage");
}

static void test_bad_config(void)
{
    char path[] = "/tmp/sluice-conf-XXXXXX";
    int fd = mkstemp(path);
    const char *text = "port 0\n# a comment\n\nfoo bar\n";
    ok(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "wrote config file");
    close(fd);
    char out[4096];
    const char *args[] = {path, NULL};
    int st = harness_run_expect_exit(args, 5000, out, sizeof(out));
    is_int(st, 1, "unknown directive stops startup with status 1");
    ok(strstr(out, "at line 4") != NULL, "error names the line number");
    ok(strstr(out, ">>> 'foo bar'") != NULL, "error quotes the line");
    ok(strstr(out, "Bad directive or wrong number of arguments") != NULL, "error says why");

    const char *badval[] = {"--port", "abc", NULL};
    st = harness_run_expect_exit(badval, 5000, out, sizeof(out));
    is_int(st, 1, "a bad value on the command line stops startup");
    ok(strstr(out, "FATAL CONFIG FILE ERROR") != NULL, "command-line errors use the config error format");
    unlink(path);
}

static void test_config_file_and_shutdown(void)
{
    char dir[] = "/tmp/sluice-cfg-XXXXXX";
    ok(mkdtemp(dir) != NULL, "temp dir");
    char path[300];
    snprintf(path, sizeof(path), "%s/sluice.conf", dir);
    FILE *fp = fopen(path, "w");
    fprintf(fp, "# test config\nmaxmemory 10mb\nhz 20\ndatabases 4\nsave \"\"\n");
    fclose(fp);
    struct test_server s;
    /* the harness adds --port/--dir; the file comes first, as redis-server wants */
    const char *extra[] = {NULL};
    (void)extra;
    pid_t pid;
    int port = harness_free_port();
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    pid = fork();
    if (pid == 0) {
        execl(harness_server_path(), harness_server_path(), path, "--port", portbuf, "--dir", dir, "--logfile",
              "server.log", (char *)NULL);
        _exit(127);
    }
    memset(&s, 0, sizeof(s));
    s.pid = pid;
    s.port = port;
    redisContext *c = NULL;
    for (int i = 0; i < 200; i++) {
        c = harness_connect(&s);
        if (c && !c->err)
            break;
        if (c)
            redisFree(c);
        c = NULL;
        harness_sleep_ms(25);
    }
    ok(c != NULL, "server started from a config file");
    if (c) {
        CHECK_CMD(c, "maxmemory,10485760", "CONFIG GET maxmemory");
        CHECK_CMD(c, "hz,20", "CONFIG GET hz");
        CHECK_CMD(c, "databases,4", "CONFIG GET databases");
        CHECK_CMD(c, "ERR DB index is out of range", "SELECT 4");
        CHECK_CMD(c, "OK", "SELECT 3");
        char want[400];
        snprintf(want, sizeof(want), "config_file:%s", path);
        char *info = harness_cmd(c, "INFO server");
        ok(strstr(info, want) != NULL, "INFO server shows config_file");
        ok(strstr(info, "redis_version:7.0.15") != NULL, "INFO reports the Redis version it matches");
        free(info);
        redisFree(c);
    }
    int st = harness_stop_status(&s);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "SIGTERM shuts down cleanly with status 0");
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", dir);
}

static void test_shutdown_command(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    redisContext *c = harness_connect(&s);
    redisReply *r = redisCommand(c, "SHUTDOWN NOSAVE");
    ok(r == NULL, "SHUTDOWN closes the connection without a reply");
    if (r)
        freeReplyObject(r);
    redisFree(c);
    int status = -1;
    for (int i = 0; i < 200; i++) {
        if (waitpid(s.pid, &status, WNOHANG) == s.pid) {
            s.pid = 0;
            break;
        }
        harness_sleep_ms(10);
    }
    ok(s.pid == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "server exited with status 0");
    harness_stop(&s);
}

static void test_maxclients(void)
{
    struct test_server s;
    const char *args[] = {"--maxclients", "3", NULL};
    ok(harness_start(&s, args) == 0, "server with maxclients 3 starts");
    redisContext *cs[3];
    for (int i = 0; i < 3; i++) {
        cs[i] = harness_connect(&s);
        char *r = harness_cmd(cs[i], "PING");
        is_str(r, "PONG", "client %d of 3 accepted", i + 1);
        free(r);
    }
    int fd = harness_raw_connect(s.port);
    char buf[256];
    int closed;
    ssize_t n = harness_raw_exchange(fd, "PING\r\n", 6, buf, sizeof(buf) - 1, sizeof(buf) - 1, 2000, &closed);
    buf[n > 0 ? n : 0] = '\0';
    is_str(buf, "-ERR max number of clients reached\r\n", "4th client refused with Redis's error");
    ok(closed, "and disconnected");
    close(fd);
    redisFree(cs[0]);
    harness_sleep_ms(100);
    redisContext *again = harness_connect(&s);
    CHECK_CMD(again, "PONG", "PING");
    redisFree(again);
    redisFree(cs[1]);
    redisFree(cs[2]);
    char *info = NULL;
    redisContext *c = harness_connect(&s);
    info = harness_cmd(c, "INFO stats");
    ok(strstr(info, "rejected_connections:1") != NULL, "INFO counts the rejected connection");
    free(info);
    redisFree(c);
    harness_stop(&s);
}

static void test_idle_timeout(void)
{
    struct test_server s;
    const char *args[] = {"--timeout", "1", NULL};
    ok(harness_start(&s, args) == 0, "server with timeout 1 starts");
    int fd = harness_raw_connect(s.port);
    char buf[64];
    int closed;
    harness_raw_exchange(fd, "PING\r\n", 6, buf, sizeof(buf), 7, 1000, &closed);
    long long t0 = harness_now_ms();
    ssize_t n = harness_raw_exchange(fd, "", 0, buf, sizeof(buf), 1, 5000, &closed);
    long long waited = harness_now_ms() - t0;
    ok(n == 0 && closed, "idle client disconnected");
    ok(waited >= 900 && waited <= 3500, "after about the timeout (%lld ms)", waited);
    close(fd);
    harness_stop(&s);
}

/* The keepalive timer of the server's end of a loopback connection, from
 * /proc/net/tcp: the remaining time in USER_HZ ticks when the socket's
 * timer is the keepalive one (timer 2), 0 when no timer runs, -1 when the
 * connection is not found. */
static long server_keepalive_ticks(int server_port, int client_fd)
{
    struct sockaddr_in me;
    socklen_t len = sizeof(me);
    if (getsockname(client_fd, (struct sockaddr *)&me, &len) != 0)
        return -1;
    int client_port = ntohs(me.sin_port);
    FILE *fp = fopen("/proc/net/tcp", "r");
    if (!fp)
        return -1;
    char line[512];
    long found = -1;
    while (fgets(line, sizeof(line), fp)) {
        unsigned lport, rport, st, timer;
        unsigned long when;
        if (sscanf(line, " %*d: %*x:%x %*x:%x %x %*x:%*x %x:%lx", &lport, &rport, &st, &timer, &when) != 5)
            continue;
        if ((int)lport == server_port && (int)rport == client_port && st == 1 /* ESTABLISHED */) {
            found = timer == 2 ? (long)when : 0;
            break;
        }
    }
    fclose(fp);
    return found;
}

/* tcp-keepalive N: accepted sockets probe after N idle seconds (Redis's
 * anetKeepAlive); 0 turns it off; CONFIG SET applies to new connections. */
static void test_tcp_keepalive(void)
{
    struct test_server s;
    const char *args[] = {"--tcp-keepalive", "123", NULL};
    if (!ok(harness_start(&s, args) == 0, "server with tcp-keepalive 123 starts"))
        return;
    long hz = sysconf(_SC_CLK_TCK);
    redisContext *c = harness_connect(&s);
    char *r = harness_cmd(c, "PING");
    free(r);
    long ticks = server_keepalive_ticks(s.port, c->fd);
    ok(ticks > 118 * hz && ticks <= 123 * hz, "the server's socket has a 123 s keepalive timer (%ld ticks of 1/%ld s)",
       ticks, hz);
    r = harness_cmd(c, "CONFIG SET tcp-keepalive 0");
    is_str(r, "OK", "CONFIG SET tcp-keepalive 0");
    free(r);
    redisContext *c2 = harness_connect(&s);
    r = harness_cmd(c2, "PING");
    free(r);
    is_int(server_keepalive_ticks(s.port, c2->fd), 0, "a connection accepted after tcp-keepalive 0 has no keepalive timer");
    redisFree(c2);
    redisFree(c);
    harness_stop(&s);
}

/* What an idle client costs: Redis 7.0 takes about 38 KB (a 16 KiB query
 * buffer and a 16 KiB reply buffer, in 20 KiB allocations, plus the
 * client).  Growing the first query buffer by doubling cost 61 KB. */
static void test_client_memory(void)
{
    struct test_server s;
    if (!ok(harness_start(&s, NULL) == 0, "server starts"))
        return;
    redisContext *c = harness_connect(&s);
    char *info = harness_cmd(c, "INFO memory");
    long long before = atoll(strstr(info, "used_memory:") + 12);
    free(info);
    redisContext *clients[50];
    for (int i = 0; i < 50; i++) {
        clients[i] = harness_connect(&s);
        char *r = harness_cmd(clients[i], "PING");
        free(r);
    }
    info = harness_cmd(c, "INFO memory");
    long long after = atoll(strstr(info, "used_memory:") + 12);
    free(info);
    long long per_client = (after - before) / 50;
    ok(per_client > 0 && per_client <= 42 * 1000, "an idle client takes %lld bytes (Redis 7.0: ~38 KB)", per_client);
    for (int i = 0; i < 50; i++)
        redisFree(clients[i]);
    redisFree(c);
    harness_stop(&s);
}

static void test_auth(void)
{
    struct test_server s;
    const char *args[] = {"--requirepass", "s3cret", NULL};
    ok(harness_start(&s, args) == 0, "server with requirepass starts");
    redisContext *c = harness_connect(&s);
    CHECK_CMD(c, "NOAUTH Authentication required.", "GET k");
    CHECK_CMD(c, "WRONGPASS invalid username-password pair or user is disabled.", "AUTH nope");
    CHECK_CMD(c, "WRONGPASS invalid username-password pair or user is disabled.", "AUTH someone s3cret");
    CHECK_CMD(c, "OK", "AUTH s3cret");
    CHECK_CMD(c, "OK", "SET k v");
    CHECK_CMD(c, "RESET", "RESET");
    CHECK_CMD(c, "NOAUTH Authentication required.", "GET k");
    CHECK_CMD(c, "OK", "AUTH default s3cret");
    CHECK_CMD(c, "v", "GET k");
    redisFree(c);
    /* HELLO can authenticate and switch protocol at once; an unauthenticated
     * client may not send big requests */
    int fd = harness_raw_connect(s.port);
    char buf[1024];
    int closed;
    const char *hello = "HELLO 3 AUTH default s3cret\r\n";
    ssize_t n = harness_raw_exchange(fd, hello, strlen(hello), buf, sizeof(buf) - 1, 20, 2000, &closed);
    buf[n > 0 ? n : 0] = '\0';
    ok(strncmp(buf, "%7\r\n", 4) == 0, "HELLO 3 AUTH replies with a RESP3 map");
    close(fd);
    fd = harness_raw_connect(s.port);
    const char *big = "*11\r\n";
    n = harness_raw_exchange(fd, big, strlen(big), buf, sizeof(buf) - 1, sizeof(buf) - 1, 2000, &closed);
    buf[n > 0 ? n : 0] = '\0';
    is_str(buf, "-ERR Protocol error: unauthenticated multibulk length\r\n",
           "unauthenticated client can't announce > 10 arguments");
    ok(closed, "connection closed after the protocol error");
    close(fd);
    harness_stop(&s);
}

static void test_protocol_errors_close(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    struct {
        const char *send, *want;
    } cases[] = {
        {"PING\r\n*abc\r\nPING\r\n", "+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"},
        {"*1\r\nx\r\n", "-ERR Protocol error: expected '$', got 'x'\r\n"},
        {"*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n"},
        {"SET k \"unbalanced\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int fd = harness_raw_connect(s.port);
        char buf[512];
        int closed;
        ssize_t n = harness_raw_exchange(fd, cases[i].send, strlen(cases[i].send), buf, sizeof(buf) - 1,
                                         sizeof(buf) - 1, 2000, &closed);
        buf[n > 0 ? n : 0] = '\0';
        is_str(buf, cases[i].want, "protocol error case %zu: reply", i);
        ok(closed, "protocol error case %zu: connection closed, nothing after the error ran", i);
        close(fd);
    }
    redisContext *c = harness_connect(&s);
    CHECK_CMD(c, "OK", "CONFIG SET proto-max-bulk-len 1048576");
    redisFree(c);
    int fd = harness_raw_connect(s.port);
    char buf[256];
    int closed;
    const char *toolong = "*2\r\n$4\r\nECHO\r\n$2000000\r\n";
    ssize_t n = harness_raw_exchange(fd, toolong, strlen(toolong), buf, sizeof(buf) - 1, sizeof(buf) - 1, 2000, &closed);
    buf[n > 0 ? n : 0] = '\0';
    is_str(buf, "-ERR Protocol error: invalid bulk length\r\n", "bulk over proto-max-bulk-len refused");
    close(fd);
    c = harness_connect(&s);
    CHECK_CMD(c, "OK", "CONFIG SET proto-max-bulk-len 536870912");
    CHECK_CMD(c, "OK", "CONFIG SET client-query-buffer-limit 1048576");
    redisFree(c);
    fd = harness_raw_connect(s.port);
    /* a 4 MB argument still arriving: the query buffer passes the 1 MB
     * limit before the command is complete, so the client is dropped
     * without a reply */
    const char *hdr = "*2\r\n$4\r\nECHO\r\n$4000000\r\n";
    size_t total = 3000000;
    char *payload = malloc(total);
    memset(payload, 'x', total);
    memcpy(payload, hdr, strlen(hdr));
    n = harness_raw_exchange(fd, payload, total, buf, sizeof(buf) - 1, sizeof(buf) - 1, 3000, &closed);
    ok(closed && n == 0, "client over client-query-buffer-limit is disconnected without a reply");
    free(payload);
    close(fd);
    c = harness_connect(&s);
    CHECK_CMD(c, "PONG", "PING");
    redisFree(c);
    harness_stop(&s);
}

static void test_pipelining_and_big_values(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    redisContext *c = harness_connect(&s);
    const int N = 20000;
    for (int i = 0; i < N; i++)
        redisAppendCommand(c, "INCR counter");
    int good = 1;
    for (int i = 0; i < N; i++) {
        redisReply *r;
        if (redisGetReply(c, (void **)&r) != REDIS_OK || r->type != REDIS_REPLY_INTEGER || r->integer != i + 1)
            good = 0;
        if (r)
            freeReplyObject(r);
    }
    ok(good, "%d pipelined INCRs answered in order", N);
    size_t big = 20 * 1024 * 1024;
    char *val = malloc(big);
    for (size_t i = 0; i < big; i++)
        val[i] = (char)(i * 31 + 7);
    redisReply *r = redisCommand(c, "SET big %b", val, big);
    ok(r && r->type == REDIS_REPLY_STATUS, "SET of a 20 MiB binary value");
    freeReplyObject(r);
    r = redisCommand(c, "GET big");
    ok(r && r->type == REDIS_REPLY_STRING && r->len == big && memcmp(r->str, val, big) == 0,
       "GET returns the same 20 MiB");
    freeReplyObject(r);
    free(val);
    /* inline commands, as telnet sends them */
    int fd = harness_raw_connect(s.port);
    char buf[256];
    int closed;
    const char *inl = "SET greeting \"hello world\"\r\nGET greeting\nPING\r\n";
    ssize_t n = harness_raw_exchange(fd, inl, strlen(inl), buf, sizeof(buf) - 1, 31, 2000, &closed);
    buf[n > 0 ? n : 0] = '\0';
    is_str(buf, "+OK\r\n$11\r\nhello world\r\n+PONG\r\n", "inline commands with quotes");
    close(fd);
    redisFree(c);
    harness_stop(&s);
}

static void test_cluster_slots(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    redisContext *c = harness_connect(&s);
    CHECK_CMD(c, "12182", "CLUSTER KEYSLOT foo");
    CHECK_CMD(c, "3443", "CLUSTER KEYSLOT {user1000}.following"); /* from redis-server --cluster-enabled yes */
    CHECK_CMD(c, "3443", "CLUSTER KEYSLOT {user1000}.followers");
    CHECK_CMD(c, "OK", "MSET {t}a 1 {t}b 2 {t}c 3 other 4");
    char *slot = harness_cmd(c, "CLUSTER KEYSLOT {t}");
    char *count = harness_cmd(c, "CLUSTER COUNTKEYSINSLOT %s", slot);
    is_str(count, "3", "COUNTKEYSINSLOT counts the keys of a hash tag's slot");
    char *keys = harness_cmd(c, "CLUSTER GETKEYSINSLOT %s 2", slot);
    /* three keys in the slot, two asked: exactly two of them, no more */
    ok((!strcmp(keys, "{t}a,{t}b") || !strcmp(keys, "{t}a,{t}c") || !strcmp(keys, "{t}b,{t}a") ||
        !strcmp(keys, "{t}b,{t}c") || !strcmp(keys, "{t}c,{t}a") || !strcmp(keys, "{t}c,{t}b")),
       "GETKEYSINSLOT returns at most the asked count: 2 of the slot's 3 keys (%s)", keys);
    char *all = harness_cmd(c, "CLUSTER GETKEYSINSLOT %s 10", slot);
    ok(strlen(all) == strlen("{t}a,{t}b,{t}c") && strstr(all, "{t}a") && strstr(all, "{t}b") && strstr(all, "{t}c"),
       "GETKEYSINSLOT with a count above the slot's keys returns all 3 (%s)", all);
    free(all);
    free(slot);
    free(count);
    free(keys);
    redisFree(c);
    harness_stop(&s);
}

static void test_active_expiry(void)
{
    struct test_server s;
    const char *args[] = {"--hz", "50", NULL};
    ok(harness_start(&s, args) == 0, "server starts");
    redisContext *c = harness_connect(&s);
    for (int i = 0; i < 5000; i++)
        redisAppendCommand(c, "SET vol:%d x PX 100", i);
    for (int i = 0; i < 5000; i++) {
        redisReply *r;
        redisGetReply(c, (void **)&r);
        freeReplyObject(r);
    }
    CHECK_CMD(c, "OK", "SET keeper y");
    CHECK_CMD(c, "5001", "DBSIZE");
    long long deadline = harness_now_ms() + 5000;
    char *n = NULL;
    while (harness_now_ms() < deadline) {
        free(n);
        n = harness_cmd(c, "DBSIZE");
        if (!strcmp(n, "1"))
            break;
        harness_sleep_ms(50);
    }
    is_str(n, "1", "active expiry removed 5000 volatile keys nobody read");
    free(n);
    char *info = harness_cmd(c, "INFO stats");
    ok(strstr(info, "expired_keys:5000") != NULL, "INFO counts expired_keys");
    free(info);
    /* WATCH is broken by a key expiring between WATCH and EXEC */
    CHECK_CMD(c, "OK", "SET w 1 PX 200");
    CHECK_CMD(c, "OK", "WATCH w");
    harness_sleep_ms(400);
    CHECK_CMD(c, "OK", "MULTI");
    CHECK_CMD(c, "QUEUED", "SET other 1");
    CHECK_CMD(c, "(nil)", "EXEC");
    redisFree(c);
    harness_stop(&s);
}

static void test_watch_across_clients(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    redisContext *a = harness_connect(&s), *b = harness_connect(&s);
    CHECK_CMD(a, "OK", "SET balance 10");
    CHECK_CMD(a, "OK", "WATCH balance");
    CHECK_CMD(b, "11", "INCR balance");
    CHECK_CMD(a, "OK", "MULTI");
    CHECK_CMD(a, "QUEUED", "DECRBY balance 5");
    CHECK_CMD(a, "(nil)", "EXEC");
    CHECK_CMD(a, "OK", "WATCH balance");
    CHECK_CMD(b, "OK", "FLUSHALL");
    CHECK_CMD(a, "OK", "MULTI");
    CHECK_CMD(a, "QUEUED", "SET balance 1");
    CHECK_CMD(a, "(nil)", "EXEC");
    CHECK_CMD(a, "OK", "WATCH balance");
    CHECK_CMD(b, "OK", "SET unrelated 1");
    CHECK_CMD(a, "OK", "MULTI");
    CHECK_CMD(a, "QUEUED", "SET balance 2");
    CHECK_CMD(a, "OK", "EXEC");
    redisFree(a);
    redisFree(b);
    harness_stop(&s);
}

static void test_monitor_and_client_kill(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    redisContext *mon = harness_connect(&s), *c = harness_connect(&s);
    CHECK_CMD(mon, "OK", "MONITOR");
    CHECK_CMD(c, "OK", "SET %s val", "some key");
    redisReply *r = NULL;
    redisGetReply(mon, (void **)&r);
    ok(r && r->type == REDIS_REPLY_STATUS && strstr(r->str, "\"SET\" \"some key\" \"val\"") != NULL,
       "MONITOR shows the command: %s", r ? r->str : "(none)");
    if (r)
        freeReplyObject(r);
    redisFree(mon);
    CHECK_CMD(c, "OK", "CLIENT SETNAME victim");
    redisContext *killer = harness_connect(&s);
    char *list = harness_cmd(killer, "CLIENT LIST");
    ok(strstr(list, "name=victim") != NULL, "CLIENT LIST shows the client name");
    free(list);
    char *id = harness_cmd(c, "CLIENT ID");
    char *killed = harness_cmd(killer, "CLIENT KILL ID %s", id);
    is_str(killed, "1", "CLIENT KILL ID kills one client");
    free(id);
    free(killed);
    redisReply *after = redisCommand(c, "PING");
    ok(after == NULL, "the killed client's connection is closed");
    if (after)
        freeReplyObject(after);
    redisFree(c);
    redisFree(killer);
    harness_stop(&s);
}

static void test_redis_tools(void)
{
    struct test_server s;
    ok(harness_start(&s, NULL) == 0, "server starts");
    char cmd[1024];
    /* redis-cli --pipe: bulk load 200k SETs in RESP */
    snprintf(cmd, sizeof(cmd),
             "awk 'BEGIN{for(i=0;i<200000;i++){k=\"key:\" i; printf \"*3\\r\\n$3\\r\\nSET\\r\\n$%%d\\r\\n%%s\\r\\n$%%d\\r\\n%%d\\r\\n\", length(k), k, length(i \"\"), i}}' "
             "| redis-cli -p %d --pipe 2>&1 | tail -1",
             s.port);
    FILE *p = popen(cmd, "r");
    char line[512] = "";
    if (p) {
        if (!fgets(line, sizeof(line), p))
            line[0] = '\0';
        pclose(p);
    }
    ok(strstr(line, "errors: 0, replies: 200000") != NULL, "redis-cli --pipe loads 200000 SETs: %s", line);
    redisContext *c = harness_connect(&s);
    CHECK_CMD(c, "200000", "DBSIZE");
    CHECK_CMD(c, "199999", "GET key:199999");
    redisFree(c);
    snprintf(cmd, sizeof(cmd), "redis-benchmark -p %d -q -n 20000 -t ping,set,get,incr,mset 2>&1", s.port);
    p = popen(cmd, "r");
    /* -q output mixes carriage-return progress with the result lines:
     * read it all and look for each test's result */
    char out[8192] = "";
    size_t got = 0, rd;
    while (p && got < sizeof(out) - 1 && (rd = fread(out + got, 1, sizeof(out) - 1 - got, p)) > 0)
        got += rd;
    out[got] = '\0';
    if (p)
        pclose(p);
    const char *names[] = {"PING_INLINE: ", "PING_MBULK: ", "SET: ", "GET: ", "INCR: ", "MSET (10 keys): "};
    int rows = 0, errors = strstr(out, "ERR") || strstr(out, "rror") ? 1 : 0;
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *at = strstr(out, names[i]);
        const char *nl = at ? strchr(at, '\n') : NULL;
        const char *rps = at ? strstr(at, "requests per second") : NULL;
        if (rps && (!nl || rps < nl))
            rows++;
    }
    ok(rows == 6, "redis-benchmark -q ran its PING/SET/GET/INCR/MSET tests (%d of 6 results)", rows);
    is_int(errors, 0, "without errors");
    snprintf(cmd, sizeof(cmd), "redis-cli -p %d -3 HELLO 2>&1", s.port);
    p = popen(cmd, "r");
    char all[2048] = "";
    size_t used = 0;
    while (p && used < sizeof(all) - 1 && fgets(all + used, (int)(sizeof(all) - used), p))
        used = strlen(all);
    if (p)
        pclose(p);
    ok(strstr(all, "proto 3") != NULL, "redis-cli -3 speaks RESP3 with Sluice");
    harness_stop(&s);
}

int main(void)
{
    test_cli_flags();
    test_bad_config();
    test_config_file_and_shutdown();
    test_shutdown_command();
    test_maxclients();
    test_idle_timeout();
    test_tcp_keepalive();
    test_client_memory();
    test_auth();
    test_protocol_errors_close();
    test_pipelining_and_big_values();
    test_cluster_slots();
    test_active_expiry();
    test_watch_across_clients();
    test_monitor_and_client_kill();
    test_redis_tools();
    return tap_done();
}
