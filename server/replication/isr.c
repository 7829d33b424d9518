/* isr.c - the in-sync replica set (ISR) and `acks all`: the commit gate's
 * replica condition (Kafka's acks=all, min.insync.replicas,
 * replica.lag.time.max.ms).
 *
 * The map from commit positions to stream offsets.  The master's feed
 * calls repl_isr_note_stream(pos, end) after every record it appends: the
 * batch at commit position pos ends at stream offset end.  Entries live in
 * a ring, oldest first, coalesced per millisecond (and per batch), so a
 * second of writes is at most a thousand entries:
 *
 *     ring[i] = { pos, end, time_ms }   pos and end increase with i
 *
 * A replica that acknowledged offset A has every batch of the entries with
 * end <= A.  Entries before the ring's head were trimmed: every member of
 * the ISR had them and they are older than replica-lag-max-ms, so a
 * replica whose ACK is below the trimmed end lags by more than that.
 *
 * Membership.  A replica's lag is the age of the oldest write it has not
 * acknowledged (0 when it has everything).  It is in the ISR while its lag
 * is at most replica-lag-max-ms: it joins on an ACK that shows it so, and
 * leaves (cron, or an ACK) once its oldest missing write is older.  The
 * master itself always counts, so the ISR size is 1 + the members.
 *
 * The condition.  A write is committed once every ISR member has it, and
 * only while the ISR has min-insync-replicas servers; the high watermark
 * (hw) is the newest committed position and never goes back.  Writes of
 * clients at acks all are refused (-NOREPLICAS) while the ISR is smaller
 * than min-insync-replicas; a write that was applied and then waits past
 * ack-timeout-ms has its connection closed without a reply (its outcome
 * is unknown to the client, as a Kafka producer's after a timeout).
 *
 * While a client at acks all waits beyond hw, the master asks the
 * replicas for an ACK (REPLCONF GETACK *) once per new stream end, so a
 * write's reply leaves one round trip after it was applied, not at the
 * replicas' once-a-second ACK.
 */
#include <stdio.h>
#include <string.h>

#include "hooks.h"
#include "mem.h"
#include "repl_int.h"
#include "server.h"
#include "util.h"

struct entry {
    commit_pos pos;
    long long end;
    long long time_ms;
};

/* the ring: cap is a power of two; at most ISR_RING_MAX entries */
#define ISR_RING_MAX (1u << 20)
static struct entry *ring;
static unsigned ring_cap, ring_head, ring_len;
static long long trimmed_end;  /* stream end of the last entry trimmed */
static commit_pos trimmed_pos; /* its position */

struct member {
    uint64_t client_id;
    long long ack;
    int in_isr;
};
static struct member *members;
static int nmembers, members_cap;

static commit_pos hw; /* the high watermark: committed up to here */
static long long last_getack_end = -1;
static long long stat_joins, stat_leaves, stat_timeouts, stat_refused;

#define AT(i) ring[(ring_head + (i)) & (ring_cap - 1)]

static long long now_ms(void) { return srv.mstime_cached ? srv.mstime_cached : mstime(); }

/* ---- the ring ---- */

static void ring_drop_oldest(void)
{
    trimmed_end = AT(0).end;
    trimmed_pos = AT(0).pos;
    ring_head = (ring_head + 1) & (ring_cap - 1);
    ring_len--;
}

void repl_isr_note_stream(commit_pos pos, long long end)
{
    long long t = now_ms();
    if (ring_len) {
        struct entry *last = &AT(ring_len - 1);
        if (last->pos == pos || last->time_ms == t) {
            last->pos = pos;
            last->end = end;
            return;
        }
    } else if (!repl_master_replica_count()) {
        /* nobody to wait for: no history to keep */
        trimmed_end = end;
        trimmed_pos = pos;
        return;
    }
    if (ring_len == ring_cap) {
        if (ring_cap == ISR_RING_MAX) {
            ring_drop_oldest();
        } else {
            unsigned ncap = ring_cap ? ring_cap * 2 : 1024;
            struct entry *n = mem_alloc(sizeof(*n) * ncap);
            for (unsigned i = 0; i < ring_len; i++)
                n[i] = AT(i);
            mem_free(ring);
            ring = n;
            ring_cap = ncap;
            ring_head = 0;
        }
    }
    ring_len++;
    AT(ring_len - 1) = (struct entry){pos, end, t};
}

/* index of the first entry the ack does not cover (ring_len: all) */
static unsigned first_uncovered(long long ack)
{
    unsigned lo = 0, hi = ring_len;
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;
        if (AT(mid).end <= ack)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* the newest position every batch up to which the ack covers */
static commit_pos covered_pos(long long ack)
{
    if (ack < trimmed_end)
        return 0; /* (it lags; never a member) */
    unsigned k = first_uncovered(ack);
    if (k == ring_len)
        return commit_gate_position();
    return k ? AT(k - 1).pos : trimmed_pos;
}

/* the age of the oldest write the ack misses; -1: beyond what we keep */
static long long lag_ms(long long ack, long long now)
{
    if (ack < trimmed_end)
        return -1;
    unsigned k = first_uncovered(ack);
    return k == ring_len ? 0 : now - AT(k).time_ms;
}

static int lag_ok(long long ack, long long now)
{
    long long l = lag_ms(ack, now);
    return l >= 0 && l <= srv.replica_lag_max_ms;
}

/* drop what every member has and is older than replica-lag-max-ms */
static void ring_trim(long long now)
{
    long long min_ack = -1;
    for (int i = 0; i < nmembers; i++)
        if (members[i].in_isr && (min_ack < 0 || members[i].ack < min_ack))
            min_ack = members[i].ack;
    /* (a write not yet committed stays: ack-timeout-ms looks at its age) */
    while (ring_len && (min_ack < 0 || AT(0).end <= min_ack) && now - AT(0).time_ms > srv.replica_lag_max_ms &&
           AT(0).pos <= hw)
        ring_drop_oldest();
}

/* ---- membership ---- */

static struct member *member_find(uint64_t id)
{
    for (int i = 0; i < nmembers; i++)
        if (members[i].client_id == id)
            return &members[i];
    return NULL;
}

static int isr_size(void)
{
    int n = 1;
    for (int i = 0; i < nmembers; i++)
        n += members[i].in_isr;
    return n;
}

static void describe(uint64_t id, char *buf, size_t len)
{
    struct repl_replica_view v[64];
    int n = repl_master_replicas(v, 64);
    snprintf(buf, len, "id=%llu", (unsigned long long)id);
    for (int i = 0; i < n && i < 64; i++)
        if (v[i].client_id == id)
            snprintf(buf, len, "%s:%d", v[i].ip, v[i].port);
}

/* why: the reason to log for a leave, NULL to say it from the lag */
static void set_in_isr(struct member *m, int in, long long now, const char *why)
{
    if (m->in_isr == in)
        return;
    m->in_isr = in;
    repl_master_tell_isr(m->client_id, in);
    char who[96];
    describe(m->client_id, who, sizeof(who));
    if (in) {
        stat_joins++;
        server_log(LL_NOTICE, "Replica %s joined the in-sync replicas (ISR size %d)", who, isr_size());
    } else {
        stat_leaves++;
        long long l = lag_ms(m->ack, now);
        server_log(LL_WARNING, "Replica %s left the in-sync replicas: %s (ISR size %d)", who,
                   why ? why : l < 0 ? "too far behind" : "lag above replica-lag-max-ms", isr_size());
    }
}

static int isr_refusal(sstr *msg);

static void refresh_refusal(void)
{
    hooks_arm_write_refusal(isr_refusal, isr_size() < srv.min_insync_replicas);
}

void repl_isr_on_ack(uint64_t client_id, long long offset)
{
    long long now = mstime();
    struct member *m = member_find(client_id);
    if (!m) {
        if (nmembers == members_cap) {
            members_cap = members_cap ? members_cap * 2 : 4;
            members = mem_realloc(members, sizeof(*members) * (size_t)members_cap);
        }
        m = &members[nmembers++];
        memset(m, 0, sizeof(*m));
        m->client_id = client_id;
    }
    if (offset > m->ack)
        m->ack = offset;
    set_in_isr(m, lag_ok(m->ack, now), now, NULL);
    refresh_refusal();
    commit_gate_update();
}

void repl_isr_on_replica_gone(uint64_t client_id)
{
    struct member *m = member_find(client_id);
    if (!m)
        return;
    set_in_isr(m, 0, mstime(), "disconnected");
    *m = members[--nmembers];
    refresh_refusal();
    commit_gate_update();
}

/* ---- the commit condition ---- */

static commit_pos isr_durable(void)
{
    if (isr_size() < srv.min_insync_replicas)
        return hw; /* nothing more commits until the ISR is big enough */
    commit_pos d = commit_gate_position();
    for (int i = 0; i < nmembers; i++) {
        if (!members[i].in_isr)
            continue;
        commit_pos p = covered_pos(members[i].ack);
        if (p < d)
            d = p;
    }
    if (d > hw)
        hw = d;
    return isr_size() == 1 ? COMMIT_POS_MAX : hw;
}

static void isr_advance(void)
{
    refresh_refusal(); /* (min-insync-replicas may have just changed) */
    /* someone at acks all waits for a write the ISR may not have acked */
    if (repl_master_replica_count() && commit_gate_wanted(COMMIT_LEVEL_REPLICAS) > hw && ring_len &&
        AT(ring_len - 1).end > last_getack_end) {
        last_getack_end = AT(ring_len - 1).end;
        repl_master_send_getack();
    }
}

static const struct commit_condition isr_condition = {"isr", COMMIT_LEVEL_REPLICAS, isr_advance, isr_durable};

/* ---- refusal, timeouts, cron ---- */

static int client_wants_all(const struct client *c)
{
    return c && (c->acks >= 0 ? c->acks : srv.acks) == COMMIT_LEVEL_REPLICAS;
}

static int isr_refusal(sstr *msg)
{
    if (hooks_refusal_is_ping() || repl_is_replica() || !client_wants_all(srv.current_client) ||
        isr_size() >= srv.min_insync_replicas)
        return 0;
    if (msg) {
        stat_refused++;
        *msg = sstr_cats(*msg, "-NOREPLICAS Not enough good replicas to write.");
    }
    return 1;
}

static void close_timed_out(struct client *c)
{
    if (c->flags & CLIENT_CLOSE_ASAP)
        return;
    stat_timeouts++;
    server_log(LL_WARNING,
               "Closing client id=%llu addr=%s: its write was not acknowledged by the in-sync replicas "
               "within ack-timeout-ms (%lld ms)",
               (unsigned long long)c->id, c->addr, srv.ack_timeout_ms);
    client_close_async(c);
}

static void isr_cron(void)
{
    long long now = mstime();
    int changed = 0;
    for (int i = 0; i < nmembers; i++) {
        int ok = lag_ok(members[i].ack, now);
        if (members[i].in_isr && !ok) {
            set_in_isr(&members[i], 0, now, NULL);
            changed = 1;
        }
    }
    ring_trim(now);
    refresh_refusal();
    if (changed)
        commit_gate_update();
    /* writes applied more than ack-timeout-ms ago and still not committed */
    if (srv.ack_timeout_ms > 0 && ring_len) {
        commit_pos expired = 0;
        for (unsigned i = 0; i < ring_len && now - AT(i).time_ms > srv.ack_timeout_ms; i++)
            if (AT(i).pos > hw)
                expired = AT(i).pos;
        if (expired)
            commit_gate_for_each_held(COMMIT_LEVEL_REPLICAS, expired, close_timed_out);
    }
}

/* ---- INFO isr ---- */

static void info_isr(sstr *out)
{
    long long now = mstime();
    static const char *acks_names[] = {"0", "1", "all"};
    *out = sstr_catfmt(*out,
                       "acks:%s\r\n"
                       "min_insync_replicas:%d\r\n"
                       "replica_lag_max_ms:%lld\r\n"
                       "ack_timeout_ms:%lld\r\n"
                       "isr_size:%d\r\n"
                       "isr_high_watermark:%llu\r\n"
                       "commit_position:%llu\r\n"
                       "isr_joins:%lld\r\n"
                       "isr_leaves:%lld\r\n"
                       "acks_timeouts:%lld\r\n"
                       "acks_refused:%lld\r\n",
                       acks_names[srv.acks], srv.min_insync_replicas, srv.replica_lag_max_ms, srv.ack_timeout_ms,
                       isr_size(), (unsigned long long)(isr_size() == 1 && srv.min_insync_replicas <= 1 ? commit_gate_position() : hw),
                       (unsigned long long)commit_gate_position(), stat_joins, stat_leaves, stat_timeouts,
                       stat_refused);
    struct repl_replica_view v[64];
    int n = repl_master_replicas(v, 64);
    for (int i = 0; i < n && i < 64; i++) {
        struct member *m = member_find(v[i].client_id);
        long long l = m ? lag_ms(m->ack, now) : -1;
        *out = sstr_catfmt(*out, "replica%d:ip=%s,port=%d,isr=%d,ack_offset=%lld,lag_ms=%lld\r\n", i, v[i].ip,
                           v[i].port, m ? m->in_isr : 0, v[i].ack_offset, l);
    }
}

void repl_isr_register(void)
{
    commit_gate_register(&isr_condition);
    hooks_on_write_refusal(40, isr_refusal);
    hooks_on_cron(isr_cron);
    hooks_on_info("Isr", 10, info_isr);
}
