#!/usr/bin/env bash
# test_layers.sh - utils/check-layers passes on the tree and fails on an
# include that runs against the layer map (utils/layers.map).
#
# Each case copies server/, persistence/ and utils/ into a temporary tree,
# plants one include there and runs the checker on the copy: an upward
# include must fail naming file:line and the rule, a downward one must
# pass.  The source tree itself is never touched.
set -u
src=${SLUICE_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
checker="$src/utils/check-layers"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-layers-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }

out=$("$checker" "$src" 2>&1); rc=$?
ok $rc "the source tree keeps the layer map ($out)"

# plant FILE AFTER-LINE INCLUDE: a fresh copy with one include added
plant() {
    rm -rf "$tmp/t" && mkdir -p "$tmp/t" && cp -a "$src/server" "$src/persistence" "$src/utils" "$tmp/t/" || exit 1
    awk -v inc="$3" -v after="$2" '{ print } $0 ~ after && !done { print "#include \"" inc "\""; done = 1 }' \
        "$tmp/t/$1" >"$tmp/t/$1.new" && mv "$tmp/t/$1.new" "$tmp/t/$1"
}

# expect_fail FILE INCLUDE PATTERN WHAT
expect_fail() {
    plant "$1" '^#include' "$2"
    out=$("$checker" "$tmp/t" 2>&1); rc=$?
    line=$(grep -n "#include \"$2\"" "$tmp/t/$1" | head -1 | cut -d: -f1)
    [ "$rc" = 1 ] && printf '%s' "$out" | grep -q "^$1:$line: includes \"$2\" $3"
    ok $? "$4"
    [ "$rc" = 1 ] || echo "# checker output: $out"
}

expect_fail server/core/networking.c aof.h "(room persistence), but room core may include only:" \
    "core -> persistence (networking.c asking the AOF) fails at file:line"
expect_fail server/lib/dict.c server.h "(room core), but room lib may include only:" \
    "lib -> core (a data structure knowing the server) fails"
expect_fail server/commands/t_list.c rdb.h "(room persistence), but room commands may include only:" \
    "commands -> persistence fails"
expect_fail server/core/db.c stream.h "(room commands), but room core may include only:" \
    "core -> commands fails"
expect_fail persistence/aof.c main.c "(room main), but room persistence may include only:" \
    "persistence -> the composition root fails"

# downward includes are fine
plant persistence/aof.c '^#include' dict.h
"$checker" "$tmp/t" >/dev/null 2>&1
ok $? "persistence -> lib passes"
plant server/main.c '^#include' aof_int.h
"$checker" "$tmp/t" >/dev/null 2>&1
ok $? "main.c may include from every room"

# a header name held by two rooms is refused (the map couldn't tell them apart)
rm -rf "$tmp/t" && mkdir -p "$tmp/t" && cp -a "$src/server" "$src/persistence" "$src/utils" "$tmp/t/"
cp "$tmp/t/server/lib/util.h" "$tmp/t/persistence/util.h"
out=$("$checker" "$tmp/t" 2>&1); rc=$?
[ "$rc" = 1 ] && printf '%s' "$out" | grep -q 'which rooms .* both hold'
ok $? "a header name in two rooms is reported"

echo "1..$n"
[ "$failed" = 0 ]
