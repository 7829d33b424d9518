/* test_repl_trace.c - the syscall-trace proof of acks all: a Sluice
 * master runs under strace (read, write, writev, with the data), a Sluice
 * replica is attached, and a client at acks all writes one SET at a time.
 * Before each SET another connection reads the master's offset, so the
 * offset where the SET ends in the stream is known.  In the trace, between
 * the read of each SET from the client's socket and the write of its +OK,
 * the master must have read from the replica's socket a REPLCONF ACK whose
 * offset covers the SET: no acknowledged reply leaves before the replica
 * has the write.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "proc.h"
#include "tap.h"

#define SETS 40

/* The value of "ACK\r\n$N\r\n<offset>" in an strace line (escaped as
 * \r\n), the largest if several; -1 when none. */
static long long ack_offset_in(const char *line)
{
    long long best = -1;
    for (const char *p = line; (p = strstr(p, "ACK\\r\\n$")); p++) {
        const char *q = strstr(p + 8, "\\r\\n");
        if (!q)
            break;
        long long v = atoll(q + 4);
        if (v > best)
            best = v;
    }
    return best;
}

static int line_fd(const char *line, const char *call)
{
    const char *p = strstr(line, call);
    return p ? atoi(p + strlen(call)) : -1;
}

int main(void)
{
    proc_init("repltrace");
    if (system("command -v strace >/dev/null 2>&1") != 0) {
        tap_skip_dep("strace", "strace not installed: the reply/ACK order under strace");
        return tap_done();
    }
    char mdir[400], rdir[400], trace[460], log[460];
    proc_make_dir(mdir, sizeof(mdir), "master");
    proc_make_dir(rdir, sizeof(rdir), "replica");
    snprintf(trace, sizeof(trace), "%s/trace.txt", mdir);
    snprintf(log, sizeof(log), "%s/sluice.log", mdir);
    int port = harness_free_port();
    char portbuf[16];
    snprintf(portbuf, sizeof(portbuf), "%d", port);
    const char *base[] = {"strace", "-f", "-s", "256", "-e", "trace=read,write,writev", "-o", trace,
                          harness_server_path(), "--port", portbuf, "--bind", "127.0.0.1", "--dir", mdir,
                          "--logfile", log, "--save", "", NULL};
    pid_t strace_pid = harness_spawn(base, NULL, HARNESS_QUIET_STDIN | HARNESS_QUIET_STDOUT | HARNESS_QUIET_STDERR);
    proc_track(strace_pid);
    struct proc m = {.pid = strace_pid, .port = port};
    snprintf(m.dir, sizeof(m.dir), "%s", mdir);
    redisContext *mc = NULL;
    for (int i = 0; i < 500 && !mc; i++) {
        harness_sleep_ms(20);
        mc = proc_conn(&m);
        if (mc && mc->err) {
            redisFree(mc);
            mc = NULL;
        }
    }
    if (!mc) {
        tap_skip_dep("strace", "the server does not start under strace (ptrace not permitted?)");
        proc_kill9(&m);
        return tap_done();
    }
    pid_t server_pid = (pid_t)harness_info_field(mc, "server", "process_id");
    proc_track(server_pid);
    const char *rargs[] = {"--replicaof", "127.0.0.1", portbuf, NULL};
    struct proc r;
    if (proc_start_sluice(&r, rdir, rargs) != 0) {
        ok(0, "the replica starts");
        kill(server_pid, SIGKILL);
        return tap_done();
    }
    ok(harness_wait_info_field(mc, "isr", "isr_size", 2, 30000), "the replica is in the ISR");
    redisContext *w = proc_conn(&m);
    redisReply *rep = redisCommand(w, "CLIENT ACKS all");
    if (rep)
        freeReplyObject(rep);
    /* a first write, so that later ones need no SELECT in the stream */
    rep = redisCommand(w, "SET trace:warmup v");
    if (rep)
        freeReplyObject(rep);
    long long target[SETS];
    int replies_ok = 1;
    for (int i = 0; i < SETS; i++) {
        long long before = harness_info_field(mc, "replication", "master_repl_offset");
        char key[32];
        snprintf(key, sizeof(key), "trace:%02d", i);
        /* as the stream carries it: *3 $3 SET $8 trace:NN $1 v */
        char prop[96];
        int len = snprintf(prop, sizeof(prop), "*3\r\n$3\r\nSET\r\n$%zu\r\n%s\r\n$1\r\nv\r\n", strlen(key), key);
        target[i] = before + len;
        rep = redisCommand(w, "SET %s v", key);
        replies_ok &= rep && rep->type == REDIS_REPLY_STATUS;
        if (rep)
            freeReplyObject(rep);
    }
    ok(replies_ok, "%d SETs at acks all acknowledged", SETS);
    redisFree(w);
    redisFree(mc);
    proc_stop(&r);
    kill(server_pid, SIGTERM);
    proc_untrack(server_pid);
    long long deadline = harness_now_ms() + 20000;
    while (harness_now_ms() < deadline && waitpid(strace_pid, NULL, WNOHANG) != strace_pid)
        harness_sleep_ms(10);
    proc_untrack(strace_pid);

    /* the main thread's calls: lines "<pid> read(fd, ..." */
    FILE *fp = fopen(trace, "r");
    if (!ok(fp != NULL, "strace wrote a trace"))
        return tap_done();
    char *line = NULL;
    size_t cap = 0;
    int set_no = -1, client_fd = -1, in_set = 0, checked = 0, bad = 0;
    long long best_ack = -1;
    while (getline(&line, &cap, fp) > 0) {
        /* "<pid> <call>": strace pads the pid to a width, so skip spaces */
        char *call;
        if (strtol(line, &call, 10) != (long)server_pid)
            continue;
        while (*call == ' ')
            call++;
        if (!strncmp(call, "read(", 5)) {
            if (strstr(call, "SET\\r\\n$8\\r\\ntrace:") && !strstr(call, "warmup")) {
                set_no++;
                client_fd = line_fd(call, "read(");
                in_set = 1;
                best_ack = -1;
            } else if (in_set) {
                long long a = ack_offset_in(call);
                if (a > best_ack)
                    best_ack = a;
            }
        } else if (in_set && (!strncmp(call, "write(", 6) || !strncmp(call, "writev(", 7)) &&
                   line_fd(call, !strncmp(call, "write(", 6) ? "write(" : "writev(") == client_fd &&
                   strstr(call, "+OK")) {
            in_set = 0;
            if (set_no >= 0 && set_no < SETS) {
                checked++;
                if (best_ack < target[set_no]) {
                    if (bad < 3)
                        tap_diag("SET %d: +OK written after ACKs up to %lld, the write ends at %lld", set_no, best_ack,
                                 target[set_no]);
                    bad++;
                }
            }
        }
    }
    free(line);
    fclose(fp);
    is_int(checked, SETS, "every SET's read and +OK found in the trace");
    is_int(bad, 0, "no +OK left before the master read a REPLCONF ACK covering its write");
    return tap_done();
}
