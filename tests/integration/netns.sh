# netns.sh - sourced by the shell tests that need "another host": a
# network namespace joined to this one by a veth pair, both made by
# netns_setup and removed by netns_teardown (call it from the test's EXIT
# trap).  Also the TAP helpers those tests share.
#
#   netns_setup TAG SUBNET   makes namespace sluice-TAG-$$ with
#                            peer_ip=10.SUBNET.x.2 inside and host_ip
#                            10.SUBNET.x.1 here; sets ns, host_if, peer_if,
#                            host_ip, peer_ip.  Where a namespace can't be
#                            made the test skips visibly, and fails instead
#                            when SLUICE_REQUIRE is all or names netns (CI
#                            sets SLUICE_REQUIRE=all: it must not skip).
#   check DESC EXPECTED ACTUAL   one TAP point; sets failed=1 on a mismatch.

ns= host_if= peer_if= host_ip= peer_ip=
n=0
failed=0

netns_required() {
    case ",${SLUICE_REQUIRE:-}," in
    *,all,* | *,netns,*) return 0 ;;
    esac
    return 1
}

skip() { # skip REASON: the whole test, as one TAP point
    echo "1..1"
    if netns_required; then
        echo "not ok 1 - $1 (required: SLUICE_REQUIRE names netns)"
        exit 1
    fi
    echo "ok 1 # SKIP $1"
    exit 0
}

netns_setup() { # netns_setup TAG SUBNET
    local net=10.$2.$(($$ % 250)).
    ns=sluice-$1-$$
    host_if=sl$1$$h
    peer_if=sl$1$$p
    host_ip=${net}1
    peer_ip=${net}2
    [ "$(id -u)" = 0 ] || skip "needs root for a network namespace"
    command -v ip >/dev/null || skip "needs iproute2 (ip)"
    ip netns add "$ns" 2>/dev/null || skip "cannot create a network namespace here"
    ip link add "$host_if" type veth peer name "$peer_if" 2>/dev/null || skip "cannot create a veth pair here"
    ip link set "$peer_if" netns "$ns" &&
        ip addr add "$host_ip/30" dev "$host_if" && ip link set "$host_if" up &&
        ip netns exec "$ns" ip addr add "$peer_ip/30" dev "$peer_if" &&
        ip netns exec "$ns" ip link set "$peer_if" up &&
        ip netns exec "$ns" ip link set lo up || skip "cannot configure the veth pair"
}

netns_teardown() {
    [ -n "$host_if" ] && ip link del "$host_if" 2>/dev/null
    [ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
}

check() { # check DESCRIPTION EXPECTED ACTUAL
    n=$((n + 1))
    if [ "$2" = "$3" ]; then
        echo "ok $n - $1"
    else
        echo "not ok $n - $1"
        printf '#   expected: %q\n#   got:      %q\n' "$2" "$3"
        failed=1
    fi
}
