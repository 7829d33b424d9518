#!/usr/bin/env bash
# test_repl_netns.sh - a network partition between a master and its
# replica on two "hosts": the replica runs in a network namespace joined to
# this one by a veth pair (both made here and removed at exit).  The
# partition takes the namespace's end of the link down: packets are dropped
# both ways and TCP keeps retrying, as on a cut network.
#
#   - at acks all (the master's directive), writes are acknowledged while
#     the replica is in the ISR, and it has them;
#   - partitioned, the replica leaves the ISR after replica-lag-max-ms and
#     writes are acknowledged by the rest of the ISR (the master alone);
#   - with min-insync-replicas 2 they are refused with -NOREPLICAS and not
#     applied;
#   - healed, the replica catches up on the same link (no full sync) and
#     rejoins the ISR, and writes pass again.
# Needs root, iproute2 and redis-cli; where a namespace can't be made the
# test skips visibly (and fails instead when SLUICE_REQUIRE is all or
# names netns).
set -u
server=${SLUICE_SERVER:-server/sluice-server}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-rn-XXXXXX")
mpid= rpid=
. "$(dirname "$0")/netns.sh"

cleanup() {
    [ -n "$mpid" ] && kill -9 "$mpid" 2>/dev/null && wait "$mpid" 2>/dev/null
    [ -n "$rpid" ] && kill -9 "$rpid" 2>/dev/null && wait "$rpid" 2>/dev/null
    netns_teardown
    rm -rf "$tmp"
}
trap cleanup EXIT
command -v redis-cli >/dev/null || skip "needs redis-cli"
netns_setup rn 214

free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 12000))
        (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
    done
    echo 23456
}

mport=$(free_port)
rport=$(free_port)
m() { timeout 30 redis-cli -h "$host_ip" -p "$mport" "$@" 2>&1; }
r() { timeout 30 ip netns exec "$ns" redis-cli -h "$peer_ip" -p "$rport" "$@" 2>&1; }
field() { # field m|r SECTION NAME
    "$1" INFO "$2" | tr -d '\r' | sed -n "s/^$3://p"
}
wait_field() { # wait_field m|r SECTION NAME VALUE SECONDS
    local deadline=$(($(date +%s) + $5))
    while [ "$(date +%s)" -le "$deadline" ]; do
        [ "$(field "$1" "$2" "$3")" = "$4" ] && return 0
        sleep 0.1
    done
    return 1
}

mkdir -p "$tmp/m" "$tmp/r"
"$server" --port "$mport" --bind "127.0.0.1 $host_ip" --protected-mode no --dir "$tmp/m" \
    --logfile "$tmp/m/sluice.log" --save "" --acks all --replica-lag-max-ms 1000 \
    --repl-diskless-sync-delay 0 </dev/null >/dev/null 2>&1 &
mpid=$!
ip netns exec "$ns" "$server" --port "$rport" --bind "127.0.0.1 $peer_ip" --protected-mode no --dir "$tmp/r" \
    --logfile "$tmp/r/sluice.log" --save "" --replicaof "$host_ip" "$mport" </dev/null >/dev/null 2>&1 &
rpid=$!

wait_field m isr isr_size 2 30 && up=yes || up=no
check "the replica in the namespace joins the master's ISR" yes "$up"
check "a write at acks all is acknowledged" OK "$(m SET before 1)"
check "... and is on the replica" 1 "$(r GET before)"

# the partition: the namespace's end of the link goes down
ip netns exec "$ns" ip link set "$peer_if" down
check "partitioned: a write is acknowledged once the replica left the ISR" OK "$(m SET during 2)"
check "partitioned: the ISR is the master alone" 1 "$(field m isr isr_size)"
m CONFIG SET min-insync-replicas 2 >/dev/null
check "min-insync-replicas 2: the write is refused" "NOREPLICAS Not enough good replicas to write." "$(m SET refused 3)"
check "... and not applied" "" "$(m GET refused)"
syncs=$(field m stats sync_full)

# healed
ip netns exec "$ns" ip link set "$peer_if" up
wait_field m isr isr_size 2 60 && back=yes || back=no
check "healed: the replica rejoins the ISR" yes "$back"
check "healed: it caught up (the write made during the partition is there)" 2 "$(r GET during)"
check "healed: no full sync was needed" "$syncs" "$(field m stats sync_full)"
check "healed: writes pass again with min-insync-replicas 2" OK "$(m SET after 4)"
check "... and are on the replica" 4 "$(r GET after)"

echo "1..$n"
exit $failed
