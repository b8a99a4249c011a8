#!/bin/sh
# mcsctl against a real mcsd: each verb's output (text and --json, parsed
# back with python3's json), the generated owner, exit status 1 with one
# error line on stderr, exit status 2 on usage errors.  Prints TAP.
set -u
MCSD=${MCSD:-build/bin/mcsd} MCSCTL=${MCSCTL:-build/bin/mcsctl}
. tests/integration/tap.sh
d=$(mktemp -d)
"$MCSD" --socket "$d/s" --db "$d/r.db" --range c0.c9 2>"$d/log" &
pid=$!
i=0
until "$MCSCTL" --socket "$d/s" status >/dev/null 2>&1 || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
ctl() { "$MCSCTL" --socket "$d/s" "$@"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

out=$(ctl --json allocate --owner a1 --group pod --type container_t)
check "allocate --json: level and labels" \
	'[ "$(echo "$out" | json "d[\"process_label\"] == \"system_u:system_r:container_t:\" + d[\"level\"] and d[\"group\"] == \"pod\"")" = True ]'
gen=$(ctl allocate | sed -n 's/^owner: *//p')
check "allocate without --owner generates mcsctl-<32 hex> ($gen)" \
	'echo "$gen" | grep -Eq "^mcsctl-[0-9a-f]{32}$"'
check "lookup of the generated owner" 'ctl lookup "$gen" | grep -q "^level: *s0:c"'
check "list --json has both entries" \
	'[ "$(ctl --json list | json "len(d)")" = 2 ]'
check "status --json counts" \
	'[ "$(ctl --json status | json "(d[\"total\"], d[\"used\"])")" = "(45, 2)" ]'
check "release --json" '[ "$(ctl --json release "$gen" | json "d[\"released\"]")" = True ]'
ctl lookup "$gen" >"$d/out" 2>"$d/err"; rc=$?
check "lookup of a released owner: exit 1, one line on stderr, nothing on stdout" \
	'[ $rc -eq 1 ] && [ "$(wc -l <"$d/err")" -eq 1 ] && grep -q NotFound "$d/err" && [ ! -s "$d/out" ]'
ctl allocate --owner x --level s0:c3 2>"$d/err"; rc=$?
check "bad level: exit 1, InvalidLevel" '[ $rc -eq 1 ] && grep -q InvalidLevel "$d/err"'
ctl allocate --pid abc 2>/dev/null; rc=$?
check "bad --pid: usage error 2" '[ $rc -eq 2 ]'
ctl frobnicate 2>/dev/null; rc=$?
check "unknown verb: usage error 2" '[ $rc -eq 2 ]'
"$MCSCTL" --socket "$d/nope" status 2>"$d/err"; rc=$?
check "no daemon: exit 1 naming the socket" '[ $rc -eq 1 ] && grep -q "$d/nope" "$d/err"'
kill -TERM $pid; wait $pid
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$d"
exit $fail
