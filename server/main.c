/* main.c - the composition root: the one place that knows every module.
 *
 * It parses the command line and the configuration, has each module
 * register with the core (command handlers with the command table; the
 * persistence modules' hooks, commit-gate condition and INFO sections),
 * loads the dataset and runs the loop.  Nothing else names a module above
 * the core: utils/check-layers allows this file, and only this file, to
 * include from every layer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aof.h"
#include "commands.h"
#include "config.h"
#include "dict.h"
#include "evict.h"
#include "mem.h"
#include "rdb.h"
#include "repl.h"
#include "server.h"
#include "util.h"

/* The command modules' handler tables (server/commands/, persistence/). */
extern const struct command_impl conn_commands[], string_commands[], keyspace_commands[], expire_commands[],
    multi_commands[], server_commands[], client_commands[], info_commands[], config_commands[], list_commands[],
    sort_commands[], stream_commands[], aof_commands[], persistence_commands[];
/* The value types' registration with the keyspace (object.h). */
void list_type_init(void);
void stream_type_init(void);

static void usage(void)
{
    fprintf(stderr,
            "Usage: ./sluice-server [/path/to/redis.conf] [options] [-]\n"
            "       ./sluice-server - (read config from stdin)\n"
            "       ./sluice-server -v or --version\n"
            "       ./sluice-server -h or --help\n\n"
            "Examples:\n"
            "       ./sluice-server (run the server with default conf)\n"
            "       ./sluice-server /etc/redis/6379.conf\n"
            "       ./sluice-server --port 7777\n"
            "       ./sluice-server /etc/myredis.conf --loglevel verbose -\n"
            "       ./sluice-server /etc/myredis.conf --loglevel verbose\n\n"
            "Sluice reads redis.conf syntax and Redis's directive names.\n");
    exit(1);
}

static void version(void)
{
    printf("Sluice server v=%s redis_compat=%s malloc=%s bits=%d\n", SLUICE_VERSION, REDIS_COMPAT_VERSION,
           mem_allocator_name(), (int)(sizeof(long) * 8));
    exit(0);
}

static void register_modules(void)
{
    list_type_init();
    stream_type_init();
    /* persistence_commands first: its LASTSAVE (the real last save time)
     * takes precedence over cmd_server.c's placeholder */
    const struct command_impl *const tables[] = {
        persistence_commands, conn_commands,   string_commands, keyspace_commands, expire_commands,
        multi_commands,       server_commands, client_commands, info_commands,     config_commands,
        list_commands,        sort_commands,   aof_commands,    stream_commands,
        replication_commands,
        repl_master_commands, repl_replica_commands, repl_failover_commands,
    };
    for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
        commands_register_module(tables[i]);
    command_table_init();
    /* the order matters where hooks of both run: the AOF's cron and
     * shutdown work come before the RDB's, as they always did */
    aof_register_hooks();
    rdb_register_hooks();
    repl_register_hooks();
}

int main(int argc, char **argv)
{
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version"))
            version();
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
            usage();
    }
    /* the hash seed first: a dict filled before the seed changes could
     * never find its keys again */
    uint8_t seed[16];
    char hex[32];
    random_hex(hex, sizeof(hex));
    for (int i = 0; i < 16; i++)
        seed[i] = (uint8_t)((hex[2 * i] << 4) ^ hex[2 * i + 1] ^ (ustime() >> i));
    dict_set_seed(seed);
    if (readlink("/proc/self/exe", srv.executable, sizeof(srv.executable) - 1) < 0)
        snprintf(srv.executable, sizeof(srv.executable), "%s", argv[0]);
    config_init_defaults();
    if (config_load_from_argv(argc, argv) < 0)
        exit(1);
    evict_apply_config();

    server_init();
    register_modules();
    server_log(LL_NOTICE, "oO0OoO0OoO0Oo Sluice is starting oO0OoO0OoO0Oo");
    server_log(LL_NOTICE, "Sluice version=%s, Redis compatibility=%s, bits=%d, pid=%d, just started",
               SLUICE_VERSION, REDIS_COMPAT_VERSION, (int)(sizeof(long) * 8), (int)srv.pid);
    if (!srv.configfile)
        server_log(LL_WARNING, "Warning: no config file specified, using the default config. In order to specify "
                               "a config file use %s /path/to/redis.conf",
                   argv[0]);
    server_start();
    aof_startup(); /* appendonly yes: load the AOF, then append to it */
    rdb_startup(); /* appendonly no: load dir/dbfilename (-LOADING meanwhile) */
    repl_startup(); /* replicaof: connect to the master */
    server_log(LL_NOTICE, "Ready to accept connections tcp on port %d", srv.port);
    server_run();
    return 0;
}
