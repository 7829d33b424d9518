/* test_config.c - configuration loading, validation messages, defaults,
 * memory units, CONFIG GET/SET/REWRITE semantics, and that Debian's stock
 * /etc/redis/redis.conf loads.  Expected texts come from redis-server
 * 7.0.15. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "mem.h"
#include "resp.h"
#include "server.h"
#include "tap.h"

extern sstr stub_reply;
extern int stub_listen_fail, stub_listen_calls, stub_reset_stats_calls;

static char tmpdir[] = "/tmp/sluice-test-config-XXXXXX";

static int load(const char *text) { return config_load_string(text, strlen(text)); }

/* Load text expected to fail; returns the reason. */
static const char *load_err(const char *text)
{
    int rc = load(text);
    return rc == -1 ? config_last_error() : "(loaded)";
}

static sstr get(const char *name)
{
    static sstr last;
    sstr_free(last);
    last = config_get_value(name);
    return last;
}

/* Run "CONFIG <sub> args..." (split like redis-cli) and return what the
 * handler replied, as recorded by the stubs. */
static const char *run_as(struct client *c, const char *line)
{
    static sstr buf;
    static struct split_args sa;
    struct arg argv[64];
    if (!buf)
        buf = sstr_empty(64);
    sstr_clear(buf);
    int argc = resp_split_args(line, strlen(line), &buf, &sa);
    for (int i = 0; i < argc; i++)
        argv[i] = (struct arg){buf + sa.off[i], sa.len[i]};
    c->argc = argc;
    c->argv = argv;
    if (stub_reply)
        sstr_clear(stub_reply);
    char name[64];
    snprintf(name, sizeof(name), "config|%.*s", (int)argv[1].len, argv[1].ptr);
    for (const struct command_impl *ci = config_commands; ci->fullname; ci++)
        if (!strcasecmp(ci->fullname, name))
            ci->proc(c);
    if (stub_reply && sstr_len(stub_reply))
        stub_reply[sstr_len(stub_reply) - 1] = '\0'; /* drop the last newline */
    return stub_reply ? stub_reply : "";
}

static const char *run(const char *line)
{
    static struct client c;
    return run_as(&c, line);
}

static void test_defaults(void)
{
    config_init_defaults();
    is_int(srv.port, 6379, "default port");
    is_int(srv.maxclients, 10000, "default maxclients");
    is_int(srv.tcpkeepalive, 300, "default tcp-keepalive");
    is_int(srv.hz, 10, "default hz");
    is_int(srv.dbnum, 16, "default databases");
    is_int(srv.tcp_backlog, 511, "default tcp-backlog");
    is_int(srv.proto_max_bulk_len, 512LL * 1024 * 1024, "default proto-max-bulk-len");
    is_int(srv.client_max_querybuf_len, 1024LL * 1024 * 1024, "default client-query-buffer-limit");
    is_int(srv.slowlog_log_slower_than, 10000, "default slowlog-log-slower-than");
    is_int(srv.slowlog_max_len, 128, "default slowlog-max-len");
    is_int(srv.list_max_listpack_size, -2, "default list-max-listpack-size");
    is_int(srv.stream_node_max_bytes, 4096, "default stream-node-max-bytes");
    is_int(srv.busy_reply_threshold, 5000, "default busy-reply-threshold");
    is_int(srv.enable_debug_command, PROTECTED_ACTION_ALLOWED_NO, "default enable-debug-command");
    is_int(srv.maxmemory_policy, MAXMEMORY_NO_EVICTION, "default maxmemory-policy");
    is_int(srv.appendfsync, AOF_FSYNC_EVERYSEC, "default appendfsync");
    is_int(srv.verbosity, LL_NOTICE, "default loglevel");
    is_str(srv.dbfilename, "dump.rdb", "default dbfilename");
    ok(srv.requirepass == NULL && srv.unixsocket == NULL, "requirepass/unixsocket unset");
    ok(srv.dir && srv.dir[0] == '/', "dir is absolute");
    is_str(get("save"), "3600 1 300 100 60 10000", "CONFIG GET save");
    is_str(get("bind"), "127.0.0.1 -::1", "CONFIG GET bind (Sluice: loopback by default)");
    is_str(get("client-output-buffer-limit"),
           "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", "CONFIG GET client-output-buffer-limit");
    is_str(get("maxmemory-policy"), "noeviction", "enum shown by name");
    is_str(get("protected-mode"), "yes", "bool shown as yes/no");
    is_str(get("proto-max-bulk-len"), "536870912", "memory shown in bytes");
    is_str(get("unixsocketperm"), "0", "octal 0");
    is_str(get("LUA-TIME-LIMIT"), "5000", "alias, any case");
    is_str(get("activerehashing"), "yes", "stored-only directive has Redis's default");
    is_str(get("latency-tracking-info-percentiles"), "50 99 99.9", "latency-tracking-info-percentiles");
    is_str(get("oom-score-adj-values"), "0 200 800", "oom-score-adj-values");
    is_str(get("notify-keyspace-events"), "", "notify-keyspace-events");
    is_str(get("shutdown-on-sigterm"), "default", "flags enum default");
    ok(get("no-such-thing") == NULL, "unknown name -> NULL");
}

static void test_memory_units(void)
{
    static const struct {
        const char *in;
        long long out;
    } cases[] = {{"1k", 1000},       {"1kb", 1024},          {"1K", 1000},        {"1KB", 1024},
                 {"1Kb", 1024},      {"2m", 2000000},        {"2mb", 2097152},    {"1g", 1000000000},
                 {"1gb", 1073741824}, {"3GB", 3221225472LL}, {"5b", 5},           {"5B", 5},
                 {"007", 7},         {"\"\"", 0}};
    char line[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(line, sizeof(line), "maxmemory %s", cases[i].in);
        is_int(load(line), 0, "maxmemory %s loads", cases[i].in);
        is_int(srv.maxmemory, cases[i].out, "maxmemory %s = %lld", cases[i].in, cases[i].out);
    }
    is_int(load("maxmemory 99999999999999999999"), 0, "overflowing memory value wraps like Redis");
    is_str(get("maxmemory"), "18446744073709551615", "maxmemory shown unsigned");
    is_str(load_err("maxmemory 1x"), "argument must be a memory value", "maxmemory 1x");
    is_str(load_err("maxmemory -1"), "argument must be a memory value", "maxmemory -1");
    is_str(load_err("maxmemory +5"), "argument must be a memory value", "maxmemory +5");
    is_str(load_err("proto-max-bulk-len 1000"), "argument must be between 1048576 and 9223372036854775807 inclusive",
           "proto-max-bulk-len minimum 1mb");
    is_int(load("maxmemory-clients 10%"), 0, "percent value");
    is_str(get("maxmemory-clients"), "10%", "percent shown with %");
    is_str(load_err("maxmemory-clients 101%"), "percentage argument must be less or equal to 100", "percent > 100");
    is_str(load_err("maxmemory-clients x"), "argument must be a memory or percent value", "bad percent");
    load("maxmemory 0\nmaxmemory-clients 0");
}

static void test_errors(void)
{
    is_str(load_err("port 1\nfoo bar\n"), "Bad directive or wrong number of arguments", "unknown directive");
    is_str(load_err("port abc"), "argument couldn't be parsed into an integer", "port abc");
    is_str(load_err("port 70000"), "argument must be between 0 and 65535 inclusive", "port out of range");
    is_str(load_err("port 1 2"), "wrong number of arguments", "port 1 2");
    is_str(load_err("port"), "wrong number of arguments", "port without value");
    is_str(load_err("hz +5"), "argument couldn't be parsed into an integer", "strict integers: +5");
    is_str(load_err("hz 007"), "argument couldn't be parsed into an integer", "strict integers: 007");
    is_str(load_err("appendfsync sometimes"), "argument(s) must be one of the following: everysec, always, no",
           "appendfsync sometimes");
    is_str(load_err("loglevel notice warning"), "wrong number of arguments", "enum with two values");
    is_str(load_err("save 60"), "Invalid save parameters", "save 60");
    is_str(load_err("save 0 1"), "Invalid save parameters", "save 0 1");
    is_str(load_err("protected-mode maybe"), "argument must be 'yes' or 'no'", "protected-mode maybe");
    is_str(load_err("port \"abc"), "Unbalanced quotes in configuration line", "unbalanced quotes");
    is_str(load_err("dbfilename a/b"), "dbfilename can't be a path, just a filename", "dbfilename path");
    is_str(load_err("appendfilename \"\""), "appendfilename can't be empty", "empty appendfilename");
    is_str(load_err("unixsocketperm 800"), "argument couldn't be parsed as an octal number", "octal 800");
    is_str(load_err("unixsocketperm 1000"), "argument must be between 0 and 777 inclusive", "octal range");
    is_str(load_err("client-output-buffer-limit master 1 2 3"),
           "Invalid client class specified in buffer limit configuration.", "obuf master class");
    is_str(load_err("client-output-buffer-limit normal 1 2"), "Wrong number of arguments in buffer limit configuration.",
           "obuf argc");
    is_str(load_err("dir /nonexistent-sluice-dir"), "No such file or directory", "dir that does not exist");
    is_str(load_err("shutdown-on-sigterm save nosave"), "shutdown options SAVE and NOSAVE can't be used simultaneously",
           "shutdown flags");
    is_str(load_err("activedefrag yes"),
           "Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc "
           "like the one shipped by default with the Redis source distribution",
           "activedefrag refused");
    is_str(load_err("proc-title-template \"{nope}\""), "template format is invalid or contains unknown variables",
           "proc-title-template");
    is_str(load_err("rename-command FLUSHALL \"\""), "Directive not supported by Sluice", "rename-command");
    is_str(load_err("port 6379"), "(loaded)", "valid line loads");
    ok(config_last_error() == NULL, "config_last_error() NULL after success");
}

static void test_loading(void)
{
    config_init_defaults();
    is_int(load("# comment\n\n  port 7000  \r\nPORT 7001\nsave 900 1\nsave 300 10\n"
                "slave-read-only no\nlist-max-ziplist-size 5\nrequirepass \"p w\\x41\"\n"
                "bind 127.0.0.1 -::1\nlist-max-ziplist-entries 3\nhz 1000\nloglevel WARNING\n"
                "client-output-buffer-limit replica 1mb 2kb 3 pubsub 1 2 3\nshutdown-on-sigint nosave now\n"),
           0, "a valid config loads");
    is_int(srv.port, 7001, "last value wins, names case-insensitive");
    is_str(get("save"), "900 1 300 10", "save lines of a file replace the default and add up");
    is_int(srv.replica_read_only, 0, "alias slave-read-only");
    is_int(srv.list_max_listpack_size, 5, "alias list-max-ziplist-size");
    is_str(srv.requirepass, "p wA", "quoted string with escape");
    is_str(get("bind"), "127.0.0.1 -::1", "bind list");
    is_int(srv.hz, 500, "hz clamped to 500");
    is_int(srv.verbosity, LL_WARNING, "enum values are case-insensitive");
    is_str(get("client-output-buffer-limit"), "normal 0 0 0 slave 1048576 2048 3 pubsub 1 2 3", "obuf classes");
    is_str(get("shutdown-on-sigint"), "nosave now", "flags enum");
    is_int(load("save \"\""), 0, "save \"\"");
    is_int(srv.save_params_count, 0, "save \"\" clears");
    is_int(load("hz 0"), 0, "hz 0");
    is_int(srv.hz, 1, "hz clamped to 1");
    is_int(load("requirepass \"\""), 0, "empty requirepass");
    ok(srv.requirepass == NULL, "empty requirepass is unset");
    is_int(load("notify-keyspace-events KEA"), 0, "notify-keyspace-events");
    is_str(get("notify-keyspace-events"), "AKE", "notify-keyspace-events canonical order");
    is_int(load("notify-keyspace-events Kgm$n"), 0, "notify-keyspace-events without A");
    is_str(get("notify-keyspace-events"), "g$nKm", "classes in Redis's order");
    is_int(load("notify-keyspace-events KEAn"), 0, "notify-keyspace-events An");
    is_str(get("notify-keyspace-events"), "AKE", "like Redis, A hides n");
    is_int(load("latency-tracking-info-percentiles 50.5 99.990 0"), 0, "percentiles");
    is_str(get("latency-tracking-info-percentiles"), "50.5 99.99 0", "percentiles trimmed");
    is_int(load("replicaof 10.0.0.1 6380"), 0, "replicaof");
    is_str(get("slaveof"), "10.0.0.1 6380", "replicaof stored");
    is_str(load_err("replicaof a b"), "Invalid master port", "replicaof bad port");
    is_int(load("replicaof no one"), 0, "replicaof no one");
    is_int(load("unixsocketperm 755"), 0, "octal");
    is_int(srv.unixsocketperm, 0755, "octal value");
    is_str(get("unixsocketperm"), "755", "octal shown in octal");

    /* includes */
    char path[256], inc[700];
    snprintf(path, sizeof(path), "%s/inc.conf", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("maxmemory-samples 7\n", fp);
    fclose(fp);
    snprintf(inc, sizeof(inc), "include %s\ninclude %s/nothing*.conf\n", path, tmpdir);
    is_int(load(inc), 0, "include (and a glob matching nothing)");
    is_int(srv.maxmemory_samples, 7, "included value");
    snprintf(inc, sizeof(inc), "include %s/missing.conf\n", tmpdir);
    is_int(load(inc), -1, "include of a missing file fails");
}

static void test_argv(void)
{
    config_init_defaults();
    char *a1[] = {"sluice-server", "--port", "7000", "--save", "--maxmemory", "1mb", "--bind", "1.2.3.4", "5.6.7.8",
                  "--save", "60", "1000", "--requirepass", "--x"};
    is_int(config_load_from_argv(14, a1), 0, "command-line options load");
    is_int(srv.port, 7000, "--port 7000");
    is_int(srv.maxmemory, 1048576, "--maxmemory 1mb");
    is_str(get("bind"), "1.2.3.4 5.6.7.8", "--bind with two values");
    is_str(get("save"), "60 1000", "--save \"\" then --save 60 1000");
    is_str(srv.requirepass, "--x", "a value may start with --");
    ok(srv.configfile == NULL, "no config file");

    char path[256];
    snprintf(path, sizeof(path), "%s/argv.conf", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("port 7100\nmaxmemory 2mb\n", fp);
    fclose(fp);
    config_init_defaults();
    char *a2[] = {"sluice-server", path, "--maxmemory", "3mb", "--slave-read-only no"};
    is_int(config_load_from_argv(5, a2), 0, "file plus options");
    is_int(srv.port, 7100, "value from the file");
    is_int(srv.maxmemory, 3 * 1048576, "options override the file");
    is_int(srv.replica_read_only, 0, "\"--name value\" in one word");
    is_str(srv.configfile, path, "configfile recorded");
    char *a3[] = {"sluice-server", "--port", "abc"};
    is_int(config_load_from_argv(3, a3), -1, "--port abc fails");
    is_str(config_last_error(), "argument couldn't be parsed into an integer", "--port abc reason");
    char *a4[] = {"sluice-server", "/nonexistent/sluice.conf"};
    is_int(config_load_from_argv(2, a4), -1, "missing config file fails");
    mem_free(srv.configfile);
    srv.configfile = NULL;
}

/* CONFIG GET * lists exactly the directive names Redis 7.0 lists (a
 * fixture taken from Debian's redis-server 7.0.15, TLS aside), plus
 * Sluice's own delivery directives, each named here. */
static const char *const sluice_own_names[] = {
    "acks", "min-insync-replicas", "replica-lag-max-ms", "ack-timeout-ms", "read-committed", NULL};

static void same_names_as_redis(const char *reply)
{
    const char *srcdir = getenv("SLUICE_SRCDIR");
    char path[512];
    snprintf(path, sizeof(path), "%s/tests/unit/redis70-config-names.txt", srcdir && *srcdir ? srcdir : "..");
    FILE *fp = fopen(path, "r");
    if (!ok(fp != NULL, "fixture %s readable", path))
        return;
    char line[256], needle[300];
    int names = 0, missing = 0;
    while (fgets(line, sizeof(line), fp)) {
        line[strcspn(line, "\n")] = '\0';
        if (!line[0] || line[0] == '#')
            continue;
        names++;
        snprintf(needle, sizeof(needle), "\n$%s\n", line);
        if (!strstr(reply, needle)) {
            missing++;
            tap_diag("Redis 7.0 lists %s, Sluice does not", line);
        }
    }
    fclose(fp);
    is_int(missing, 0, "CONFIG GET * has every one of Redis 7.0's %d names", names);
    int own = 0;
    for (const char *const *n = sluice_own_names; *n; n++, own++) {
        snprintf(needle, sizeof(needle), "\n$%s\n", *n);
        ok(strstr(reply, needle) != NULL, "CONFIG GET * lists Sluice's own %s", *n);
    }
    /* "%N" pairs: Redis's names and the ones above, no other */
    is_int(atoi(reply + 1), names + own, "... and no other");
}

static void test_config_get_set(void)
{
    config_init_defaults();
    is_str(run("CONFIG GET port"), "%1\n$port\n$6379", "CONFIG GET port");
    is_str(run("CONFIG GET PORT port p?rt"), "%1\n$PORT\n$6379", "a name is replied as typed, once");
    is_str(run("CONFIG GET maxmemory-p*"), "%1\n$maxmemory-policy\n$noeviction", "glob");
    is_str(run("CONFIG GET slave-read-*"), "%1\n$slave-read-only\n$yes", "glob over aliases");
    is_str(run("CONFIG GET nothing"), "%0", "no match");
    run("CONFIG GET *");
    ok(strstr(stub_reply, "$lua-time-limit\n") && strstr(stub_reply, "$busy-reply-threshold\n"),
       "CONFIG GET * lists aliases too");
    ok(!strstr(stub_reply, "$tls-"), "no TLS directives");
    same_names_as_redis(stub_reply);

    is_str(run("CONFIG SET maxmemory 10mb"), "+OK", "CONFIG SET maxmemory");
    is_int(srv.maxmemory, 10485760, "maxmemory set");
    is_str(run("CONFIG SET databases 2"),
           "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config", "immutable");
    is_str(run("CONFIG SET dir /tmp"),
           "-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config", "protected");
    is_str(run("CONFIG SET foo 1"), "-ERR Unknown option or number of arguments for CONFIG SET - 'foo'", "unknown");
    is_str(run("CONFIG SET databases 2 foo 1"),
           "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config",
           "first error wins");
    is_str(run("CONFIG SET port abc"),
           "-ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer",
           "bad value");
    is_str(run("CONFIG SET PORT abc"),
           "-ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer",
           "value errors name the directive in lower case");
    is_str(run("CONFIG SET maxmemory 1 maxmemory 2"),
           "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - duplicate parameter", "duplicate");
    is_str(run("CONFIG SET busy-reply-threshold 1 lua-time-limit 2"), "+OK", "name and alias are not duplicates");
    is_str(run("CONFIG SET a b c"), "-ERR syntax error", "odd arguments");
    is_str(run("CONFIG SET maxmemory 5mb port abc"),
           "-ERR CONFIG SET failed (possibly related to argument 'port') - argument couldn't be parsed into an integer",
           "atomic set fails");
    is_int(srv.maxmemory, 10485760, "earlier value rolled back");
    is_str(run("CONFIG SET save \"60 5 120 10\" appendfsync ALWAYS"), "+OK", "multi-value and enum");
    is_str(get("save"), "60 5 120 10", "save via CONFIG SET");
    is_str(run("CONFIG SET save \"60  5\""),
           "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters",
           "CONFIG SET splits on single spaces like Redis");
    is_str(run("CONFIG SET save \"\""), "+OK", "save \"\"");
    is_int(srv.save_params_count, 0, "save cleared");
    is_str(run("CONFIG SET hz 1000"), "+OK", "hz 1000");
    is_str(run("CONFIG GET hz"), "%1\n$hz\n$500", "hz clamped");

    /* apply hooks and rollback */
    stub_listen_calls = 0;
    is_str(run("CONFIG SET port 6379"), "+OK", "same port");
    is_int(stub_listen_calls, 0, "unchanged port does not re-listen");
    is_str(run("CONFIG SET port 7002"), "+OK", "new port");
    is_int(stub_listen_calls, 1, "changed port re-listens");
    stub_listen_fail = 1;
    is_str(run("CONFIG SET maxmemory 1mb port 7003"),
           "-ERR CONFIG SET failed (possibly related to argument 'port') - stub: cannot listen", "listen failure");
    is_int(srv.port, 7002, "port rolled back");
    is_int(srv.maxmemory, 10485760, "other values rolled back");
    stub_listen_fail = 0;

    /* protected configs allowed for local clients with "local" */
    struct client local;
    memset(&local, 0, sizeof(local));
    strcpy(local.addr, "127.0.0.1:5555");
    srv.enable_protected_configs = PROTECTED_ACTION_ALLOWED_LOCAL;
    is_str(run_as(&local, "CONFIG SET dbfilename x.rdb"), "+OK", "protected config from a local client");
    strcpy(local.addr, "10.1.1.1:5555");
    ok(strstr(run_as(&local, "CONFIG SET dbfilename y.rdb"), "can't set protected config") != NULL,
       "protected config from a remote client");
    srv.enable_protected_configs = PROTECTED_ACTION_ALLOWED_NO;
    srv.loading = 1;
    is_str(run("CONFIG SET appendonly yes"), "-LOADING Sluice is loading the dataset in memory", "deny while loading");
    srv.loading = 0;

    stub_reset_stats_calls = 0;
    is_str(run("CONFIG RESETSTAT"), "+OK", "CONFIG RESETSTAT");
    is_int(stub_reset_stats_calls, 1, "server_reset_stats called");
    ok(strstr(run("CONFIG HELP"), "+GET <pattern>\n") != NULL, "CONFIG HELP");
    is_str(run("CONFIG REWRITE"), "-ERR The server is running without a config file", "REWRITE without a file");
}

static char *slurp(const char *path)
{
    static char buf[65536];
    FILE *fp = fopen(path, "r");
    size_t n = fp ? fread(buf, 1, sizeof(buf) - 1, fp) : 0;
    if (fp)
        fclose(fp);
    buf[n] = '\0';
    return buf;
}

static void test_rewrite(void)
{
    char path[256];
    snprintf(path, sizeof(path), "%s/rw.conf", tmpdir);
    FILE *fp = fopen(path, "w");
    fputs("# top comment\nport 7000\nsave 900 1\nsave 300 10\n\n\n# another\nmaxmemory 100mb\n"
          "lua-time-limit 100\nslave-read-only yes\nlist-max-ziplist-entries 5\nhz 10\nhz 11\n",
          fp);
    fclose(fp);
    config_init_defaults();
    char *argv[] = {"sluice-server", path};
    is_int(config_load_from_argv(2, argv), 0, "rewrite test file loads");
    is_str(run("CONFIG SET maxmemory 2gb busy-reply-threshold 200 replica-read-only no appendfsync always "
               "requirepass \"a b\\\"c\" timeout 5 bind \"10.0.0.1 -::1\" save \"60 5\" maxmemory-clients 10%"),
           "+OK", "CONFIG SET of several values");
    is_str(run("CONFIG REWRITE"), "+OK", "CONFIG REWRITE");
    char expect[1024];
    char cwd[512];
    ok(getcwd(cwd, sizeof(cwd)) != NULL, "getcwd");
    snprintf(expect, sizeof(expect),
             "# top comment\nport 7000\nsave 60 5\n\n# another\nmaxmemory 2gb\nbusy-reply-threshold 200\n"
             "replica-read-only no\n# ??? list-max-ziplist-entries 5\nhz 11\n\n# Generated by CONFIG REWRITE\n"
             "requirepass \"a b\\\"c\"\nappendfsync always\ntimeout 5\nmaxmemory-clients 10%%\n"
             "dir \"%s\"\nbind 10.0.0.1 -::1\nlatency-tracking-info-percentiles 50 99 99.9\n",
             cwd);
    is_str(slurp(path), expect, "rewritten file keeps comments, rewrites in place, appends the rest");
    config_init_defaults();
    is_int(config_load_from_argv(2, argv), 0, "rewritten file loads");
    is_int(srv.maxmemory, 2LL << 30, "round trip: maxmemory");
    is_str(srv.requirepass, "a b\"c", "round trip: quoted string");
    is_int(srv.maxidletime, 5, "round trip: timeout");
    is_str(run("CONFIG REWRITE"), "+OK", "second rewrite");
    strcat(expect, "\n"); /* as Redis: the last line break of the old file adds a blank line */
    is_str(slurp(path), expect, "a second rewrite only adds the trailing blank line");
    is_str(run("CONFIG SET bind \"127.0.0.1 -::1\""), "+OK", "bind back to Sluice's default");
    is_str(run("CONFIG REWRITE"), "+OK", "third rewrite");
    ok(strstr(slurp(path), "\nbind 127.0.0.1 -::1\n") != NULL,
       "a bind line at the default is kept (without it Redis would bind every interface)");
    unlink(path);
    mem_free(srv.configfile);
    srv.configfile = NULL;
}

/* Debian's stock redis.conf must load.  Its dir and logfile point at
 * system paths, so those two lines are redirected to a scratch directory
 * (loading would chdir there and create the log file). */
static void test_debian_conf(void)
{
    const char *path = "/etc/redis/redis.conf";
    FILE *fp = fopen(path, "r");
    if (!fp) {
        tap_skip_dep("redis", "%s not present (the redis-server package installs it)", path);
        return;
    }
    sstr text = sstr_empty(65536);
    char line[4096];
    int directives = 0;
    while (fgets(line, sizeof(line), fp)) {
        if (!strncmp(line, "dir ", 4))
            text = sstr_catfmt(text, "dir %s\n", tmpdir);
        else if (!strncmp(line, "logfile ", 8))
            text = sstr_catfmt(text, "logfile %s/redis.log\n", tmpdir);
        else
            text = sstr_cats(text, line);
        directives += line[0] != '#' && line[0] != '\n' && line[0] != ' ';
    }
    fclose(fp);
    config_init_defaults();
    is_int(config_load_string(text, sstr_len(text)), 0, "Debian's %s loads (%d directives)", path, directives);
    if (config_last_error())
        tap_diag("error: %s", config_last_error());
    is_str(get("bind"), "127.0.0.1 -::1", "Debian bind");
    is_int(srv.daemonize, 1, "Debian daemonize yes");
    is_str(srv.pidfile, "/run/redis/redis-server.pid", "Debian pidfile");
    is_str(get("client-output-buffer-limit"),
           "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", "Debian obuf limits");
    is_str(get("proc-title-template"), "{title} {listen-addr} {server-mode}", "Debian proc-title-template");
    sstr_free(text);
}

int main(void)
{
    char cwd[512];
    if (!mkdtemp(tmpdir) || !getcwd(cwd, sizeof(cwd)))
        tap_bail("cannot create a scratch directory");
    test_defaults();
    test_memory_units();
    test_errors();
    test_loading();
    test_argv();
    test_config_get_set();
    if (chdir(tmpdir) == 0) { /* the rewrite writes dir = cwd */
        test_rewrite();
        if (chdir(cwd) != 0)
            tap_bail("chdir back");
    }
    test_debian_conf();
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove %s", tmpdir);
    return tap_done();
}
