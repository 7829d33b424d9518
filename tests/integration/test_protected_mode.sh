#!/usr/bin/env bash
# test_protected_mode.sh - protected mode, seen from another host.
#
# Protected mode refuses clients that do not come from loopback (or a unix
# socket) while no password is set, with Redis's -DENIED text, and lets them
# in once protected-mode is no or a password is set.  "Another host" is a
# network namespace joined to this one by a veth pair, both made here and
# removed at exit; the server listens on loopback and on the veth address.
# (The -DENIED text is Redis 7.0.15's, its "Setup a an" included.)
# Needs root and iproute2; where a namespace can't be made, the test skips
# visibly (and fails instead when SLUICE_REQUIRE is all or names netns).
set -u
server=${SLUICE_SERVER:-server/sluice-server}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pm-XXXXXX")
pid=
. "$(dirname "$0")/netns.sh"

cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    netns_teardown
    rm -rf "$tmp"
}
trap cleanup EXIT
netns_setup pm 213

# one request over a fresh connection, from a namespace or from here; the
# reply's raw bytes, CR LF shown as |
ask() { # ask NS|- IP COMMAND...
    local where=$1 ip=$2
    shift 2
    local req
    req=$(printf '*%d\r\n' $#; for a in "$@"; do printf '$%d\r\n%s\r\n' ${#a} "$a"; done; printf x)
    req=${req%x} # $(...) would drop the final newline
    # the reply: what arrives until the server closes, or within 1 s
    local cmd="exec 3<>/dev/tcp/$ip/$port && printf '%s' \"\$REQ\" >&3 && timeout 1 cat <&3"
    if [ "$where" = - ]; then
        REQ=$req timeout 5 bash -c "$cmd" 2>/dev/null | tr '\r\n' '|' | sed 's/||*$//'
    else
        REQ=$req timeout 5 ip netns exec "$where" bash -c "$cmd" 2>/dev/null | tr '\r\n' '|' | sed 's/||*$//'
    fi
}

# what the server sends on its own when a client connects and says nothing
# (protected mode answers at once and closes; sending first could make the
# server's close a reset that loses the reply)
greet() { # greet NS|- IP
    local where=$1 ip=$2
    local cmd="exec 3<>/dev/tcp/$ip/$port && timeout 1 cat <&3"
    if [ "$where" = - ]; then
        timeout 5 bash -c "$cmd" 2>/dev/null | tr '\r\n' '|' | sed 's/||*$//'
    else
        timeout 5 ip netns exec "$where" bash -c "$cmd" 2>/dev/null | tr '\r\n' '|' | sed 's/||*$//'
    fi
}

for attempt in 1 2 3 4 5; do
    port=$((20000 + (RANDOM * 7 + $$ + attempt) % 40000))
    "$server" --port "$port" --bind "127.0.0.1 $host_ip" --save "" --dir "$tmp" \
        --logfile "$tmp/sluice.log" --protected-mode yes &
    pid=$!
    for _ in $(seq 100); do
        [ "$(ask - 127.0.0.1 PING 2>/dev/null | head -c 5)" = "+PONG" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -0 "$pid" 2>/dev/null && break
    wait "$pid" 2>/dev/null
    pid=
done
[ -n "$pid" ] || { echo "1..1"; echo "not ok 1 - the server starts"; exit 1; }

denied="-DENIED Sluice is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Sluice you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Sluice from the same host the server is running, however MAKE SURE Sluice is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Sluice configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside."

check "a client from another host is refused with -DENIED" "$denied" "$(greet "$ns" "$host_ip")"
check "a loopback client is served" "+PONG" "$(ask - 127.0.0.1 PING)"
check "the same address from this host is not loopback: refused too" "$denied" "$(greet - "$host_ip")"
check "CONFIG SET protected-mode no" "+OK" "$(ask - 127.0.0.1 CONFIG SET protected-mode no)"
check "then the other host is served" "+PONG" "$(ask "$ns" "$host_ip" PING)"
ask - 127.0.0.1 CONFIG SET protected-mode yes >/dev/null
check "protected mode on again: refused" "$denied" "$(greet "$ns" "$host_ip")"
check "CONFIG SET requirepass" "+OK" "$(ask - 127.0.0.1 CONFIG SET requirepass s3cret)"
check "with a password the other host may connect, and must authenticate" "-NOAUTH Authentication required." \
    "$(ask "$ns" "$host_ip" PING)"
echo "1..$n"
exit $failed
