/* cmd_persistence.c - SAVE, BGSAVE, LASTSAVE, DUMP and RESTORE, with
 * Redis 7.0's replies and error texts.
 *
 * DUMP payloads are Redis's: <RDB type byte> <value as in an RDB file>
 * <RDB version, u16 LE = 10> <CRC-64 of all that, LE>, so a payload made
 * by Sluice restores in Redis 7.0 and the other way round (for the types
 * Sluice has: a payload of a hash or set is "Bad data format" here).
 * RESTORE records itself with an absolute TTL (ABSTTL) for the AOF and
 * replicas, as Redis does, and as a DEL when its TTL is already past and
 * it replaced a key.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "db.h"
#include "keyspace.h"
#include "mem.h"
#include "propagate.h"
#include "rdb.h"
#include "rdb_format.h"
#include "server.h"

static void save_command(struct client *c)
{
    if (rdb_child_active()) {
        reply_error(c, "Background save already in progress");
        return;
    }
    if (rdb_save(srv.dbfilename, NULL) == 0)
        reply_ok(c);
    else
        reply_error(c, "-ERR");
}

/* BGSAVE [SCHEDULE] */
static void bgsave_command(struct client *c)
{
    int schedule = 0;
    if (c->argc > 1) {
        if (c->argc == 2 && ks_opt_is(&c->argv[1], "schedule")) {
            schedule = 1;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    int in_exec = (c->flags & CLIENT_EXECUTING_MULTI) != 0;
    if (rdb_child_active()) {
        reply_error(c, "Background save already in progress");
    } else if (in_exec || rdb_any_child_active()) {
        /* inside EXEC a fork would snapshot a half-applied transaction */
        if (schedule || in_exec) {
            rdb_schedule_bgsave();
            reply_status(c, "Background saving scheduled");
        } else {
            reply_error(c, "Another child process is active (AOF?): can't BGSAVE right now. "
                           "Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
        }
    } else if (rdb_bgsave(NULL) == 0) {
        reply_status(c, "Background saving started");
    } else {
        reply_error(c, "-ERR");
    }
}

static void lastsave_command(struct client *c) { reply_int(c, rdb_last_save_time()); }

static void dump_command(struct client *c)
{
    struct value *v = db_lookup_read(c->db, c->argv[1].ptr, c->argv[1].len);
    if (!v) {
        reply_null(c);
        return;
    }
    struct rdb_save_opts o;
    rdb_server_save_opts(&o);
    sstr payload = rdb_dump_payload(v, &o);
    if (!payload) {
        reply_error(c, "-ERR");
        return;
    }
    reply_bulk(c, payload, sstr_len(payload));
    sstr_free(payload);
}

/* RESTORE key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] */
static void restore_command(struct client *c)
{
    long long ttl, lfu_freq = -1, lru_idle = -1;
    int replace = 0, absttl = 0;
    for (int j = 4; j < c->argc; j++) {
        int additional = c->argc - j - 1;
        if (ks_opt_is(&c->argv[j], "replace")) {
            replace = 1;
        } else if (ks_opt_is(&c->argv[j], "absttl")) {
            absttl = 1;
        } else if (ks_opt_is(&c->argv[j], "idletime") && additional >= 1 && lfu_freq == -1) {
            if (arg_ll(c, &c->argv[j + 1], &lru_idle, NULL) != 0)
                return;
            if (lru_idle < 0) {
                reply_error(c, "Invalid IDLETIME value, must be >= 0");
                return;
            }
            j++;
        } else if (ks_opt_is(&c->argv[j], "freq") && additional >= 1 && lru_idle == -1) {
            if (arg_ll(c, &c->argv[j + 1], &lfu_freq, NULL) != 0)
                return;
            if (lfu_freq < 0 || lfu_freq > 255) {
                reply_error(c, "Invalid FREQ value, must be >= 0 and <= 255");
                return;
            }
            j++;
        } else {
            reply_error(c, ERR_SYNTAX);
            return;
        }
    }
    const struct arg *key = &c->argv[1];
    if (!replace && db_lookup_write(c->db, key->ptr, key->len)) {
        reply_error(c, "-BUSYKEY Target key name already exists.");
        return;
    }
    if (arg_ll(c, &c->argv[2], &ttl, NULL) != 0)
        return;
    if (ttl < 0) {
        reply_error(c, "Invalid TTL value, must be >= 0");
        return;
    }
    const struct arg *payload = &c->argv[3];
    if (rdb_verify_payload(payload->ptr, payload->len) != 0) {
        reply_error(c, "DUMP payload version or checksum are wrong");
        return;
    }
    struct rdb_load_opts o = {"DUMP payload", srv.dbnum, srv.list_max_listpack_size, 1, 0, 1, 0};
    sstr err = NULL;
    struct value *v = rdb_load_payload(payload->ptr, payload->len, &o, &err);
    if (!v) {
        server_log(LL_VERBOSE, "RESTORE of a bad payload: %s", err ? err : "?");
        sstr_free(err);
        reply_error(c, "Bad data format");
        return;
    }
    int deleted = replace ? db_delete(c->db, key->ptr, key->len) : 0;
    if (ttl && !absttl)
        ttl += ks_now_ms();
    if (ttl && ks_already_expired(ttl)) {
        if (deleted) {
            struct arg del[2] = {{"DEL", 3}, *key};
            propagate_rewrite(c, 2, del);
            db_signal_modified(c->db, key->ptr, key->len);
            srv.dirty++;
        }
        value_free(v);
        reply_ok(c);
        return;
    }
    db_add(c->db, key->ptr, key->len, v);
    if (ttl) {
        db_set_expire(c->db, key->ptr, key->len, ttl);
        if (!absttl) {
            /* recorded with the absolute time, so a replay gets the same TTL */
            char buf[32];
            int n = snprintf(buf, sizeof(buf), "%lld", ttl);
            struct arg *a = mem_alloc(sizeof(*a) * (size_t)(c->argc + 1));
            memcpy(a, c->argv, sizeof(*a) * (size_t)c->argc);
            a[2].ptr = buf;
            a[2].len = (size_t)n;
            a[c->argc].ptr = "ABSTTL";
            a[c->argc].len = 6;
            propagate_rewrite(c, c->argc + 1, a);
            mem_free(a);
        }
    }
    if (srv.maxmemory_policy & MAXMEMORY_FLAG_LFU) {
        if (lfu_freq >= 0)
            value_set_lfu_freq(v, (unsigned)lfu_freq);
    } else if (lru_idle >= 0) {
        rdb_set_idle(v, lru_idle);
    }
    db_signal_modified(c->db, key->ptr, key->len);
    reply_ok(c);
    srv.dirty++;
}

const struct command_impl persistence_commands[] = {
    {"save", save_command},       {"bgsave", bgsave_command},   {"lastsave", lastsave_command},
    {"dump", dump_command},       {"restore", restore_command}, {NULL, NULL},
};
