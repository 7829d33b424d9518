/* repl.c - the replication module's registration, and what shows both
 * sides at once: INFO replication and ROLE.
 */
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "repl.h"
#include "repl_int.h"
#include "reply.h"
#include "server.h"
#include "util.h"

#define MAX_VIEWS 64

/* slaveN lines and connected_slaves, as Redis 7.0 prints them */
static void info_replicas(sstr *out)
{
    struct repl_replica_view v[MAX_VIEWS];
    int n = repl_master_replicas(v, MAX_VIEWS);
    int shown = n < MAX_VIEWS ? n : MAX_VIEWS;
    *out = sstr_catfmt(*out, "connected_slaves:%d\r\n", n);
    long long now = mstime();
    for (int i = 0; i < shown; i++) {
        long long lag = v[i].ack_time_ms ? (now - v[i].ack_time_ms) / 1000 : now / 1000;
        *out = sstr_catfmt(*out, "slave%d:ip=%s,port=%d,state=%s,offset=%lld,lag=%lld\r\n", i, v[i].ip, v[i].port,
                           v[i].state, v[i].ack_offset, lag);
    }
}

static void info_replication(sstr *out)
{
    if (repl_is_replica()) {
        struct repl_link_view l;
        repl_replica_link(&l);
        *out = sstr_catfmt(*out,
                           "role:slave\r\n"
                           "master_host:%s\r\n"
                           "master_port:%d\r\n"
                           "master_link_status:%s\r\n"
                           "master_last_io_seconds_ago:%lld\r\n"
                           "master_sync_in_progress:%d\r\n"
                           "slave_read_repl_offset:%lld\r\n"
                           "slave_repl_offset:%lld\r\n",
                           l.host, l.port, l.link_status, l.last_io_seconds_ago, l.sync_in_progress,
                           l.read_repl_offset, l.repl_offset);
        if (l.sync_in_progress) {
            long long total = l.sync_total_bytes, read = l.sync_read_bytes;
            long long left = total >= 0 ? total - read : -1;
            double perc = total > 0 ? (double)read * 100 / (double)total : 0;
            *out = sstr_catfmt(*out,
                               "master_sync_total_bytes:%lld\r\n"
                               "master_sync_read_bytes:%lld\r\n"
                               "master_sync_left_bytes:%lld\r\n"
                               "master_sync_perc:%.2f\r\n"
                               "master_sync_last_io_seconds_ago:%lld\r\n",
                               total, read, left, perc, l.last_io_seconds_ago);
        }
        if (!l.link_up)
            *out = sstr_catfmt(*out, "master_link_down_since_seconds:%lld\r\n", l.link_down_since_seconds);
        *out = sstr_catfmt(*out,
                           "slave_priority:%lld\r\n"
                           "slave_read_only:%d\r\n"
                           "replica_announced:%d\r\n",
                           repl_replica_priority(), srv.replica_read_only, srv.replica_announced);
    } else {
        *out = sstr_cats(*out, "role:master\r\n");
    }
    info_replicas(out);
    *out = sstr_catfmt(*out,
                       "master_failover_state:%s\r\n"
                       "master_replid:%s\r\n"
                       "master_replid2:%s\r\n"
                       "master_repl_offset:%lld\r\n"
                       "second_repl_offset:%lld\r\n"
                       "repl_backlog_active:%d\r\n"
                       "repl_backlog_size:%lld\r\n"
                       "repl_backlog_first_byte_offset:%lld\r\n"
                       "repl_backlog_histlen:%lld\r\n",
                       repl_failover_state_name(), repl_replid(), repl.replid2, repl.master_repl_offset, repl.second_repl_offset,
                       repl_backlog_exists(), srv.repl_backlog_size, repl_backlog_first_byte_offset(),
                       repl_backlog_histlen());
}

static void info_stats(sstr *out)
{
    *out = sstr_catfmt(*out, "sync_full:%lld\r\nsync_partial_ok:%lld\r\nsync_partial_err:%lld\r\n", repl_stat_sync_full,
                       repl_stat_sync_partial_ok, repl_stat_sync_partial_err);
}

void repl_register_hooks(void)
{
    hooks_on_info("Stats", 10, info_stats);
    hooks_on_info("Replication", 10, info_replication);
    repl_master_register();
    repl_replica_register();
    repl_failover_register();
    repl_isr_register();
}

void repl_startup(void) { repl_replica_startup(); }

/* ROLE */
static void role_command(struct client *c)
{
    if (repl_is_replica()) {
        struct repl_link_view l;
        repl_replica_link(&l);
        const char *state = l.sync_in_progress ? "sync" : strcmp(l.link_status, "up") ? "connect" : "connected";
        reply_array_len(c, 5);
        reply_bulk_cstr(c, "slave");
        reply_bulk_cstr(c, l.host);
        reply_int(c, l.port);
        reply_bulk_cstr(c, state);
        reply_int(c, l.repl_offset);
        return;
    }
    struct repl_replica_view v[MAX_VIEWS];
    int n = repl_master_replicas(v, MAX_VIEWS);
    int online = 0;
    for (int i = 0; i < n && i < MAX_VIEWS; i++)
        online += v[i].online;
    reply_array_len(c, 3);
    reply_bulk_cstr(c, "master");
    reply_int(c, repl.master_repl_offset);
    reply_array_len(c, online);
    for (int i = 0; i < n && i < MAX_VIEWS; i++) {
        if (!v[i].online)
            continue;
        char port[16];
        snprintf(port, sizeof(port), "%d", v[i].port);
        reply_array_len(c, 3);
        reply_bulk_cstr(c, v[i].ip);
        reply_bulk_cstr(c, port);
        char off[32];
        snprintf(off, sizeof(off), "%lld", v[i].ack_offset);
        reply_bulk_cstr(c, off);
    }
}

const struct command_impl replication_commands[] = {
    {"role", role_command},
    {NULL, NULL},
};
