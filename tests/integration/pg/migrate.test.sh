#!/bin/sh
# mcsctl migrate: a host's sqlite registry into PostgreSQL, all or
# nothing.  A conflict (the level held by another owner in the cluster)
# is reported and nothing moves; once resolved, every owner arrives with
# its level, group, kind and lease; a second run finds every owner there
# and moves nothing again.  Prints TAP; runs under pg-harness.sh.
set -u
[ -n "${MCS_PG_CONNINFO:-}" ] ||
	exec sh "${PG_HARNESS:-tests/integration/pg/pg-harness.sh}" run sh "$0"
MCSD=${MCSD:-build/bin/mcsd} MCSCTL=${MCSCTL:-build/bin/mcsctl}
. tests/integration/tap.sh
d=$(mktemp -d)
pids=""
trap 'for p in $pids; do kill $p 2>/dev/null; done; wait; rm -rf "$d"' EXIT
sql() { sh "$MCS_PG_HARNESS" psql -d mig -tA -c "$1"; }
daemon() { # daemon NAME REGISTRY
	"$MCSD" --socket "$d/$1.s" --registry "$2" --range c0.c9 2>>"$d/log" &
	pids="$pids $!"
	eval "pid_$1=$!"
	i=0
	until "$MCSCTL" --socket "$d/$1.s" status >/dev/null 2>&1 || [ $i -ge 200 ]; do
		i=$((i + 1)); sleep 0.05
	done
}
ctl() { s=$1; shift; "$MCSCTL" --socket "$d/$s.s" "$@"; }
level() { ctl "$1" lookup "$2" | sed -n 's/^level: *//p'; }

sh "$MCS_PG_HARNESS" psql -d postgres -c "CREATE DATABASE mig" >/dev/null
pg="pg:$MCS_PG_CONNINFO dbname=mig"

# the host's registry: a reservation, a pod of two, a lease of a process
daemon sq "sqlite:$d/r.db"
sleep 300 &
sleeper=$!
pids="$pids $sleeper"
ctl sq allocate --owner vol-a --persistent >/dev/null
ctl sq allocate --owner pod-1 --group pod --persistent >/dev/null
ctl sq allocate --owner pod-2 --group pod --persistent >/dev/null
ctl sq allocate --owner run-1 --pid $sleeper >/dev/null
la=$(level sq vol-a) lp=$(level sq pod-1) lr=$(level sq run-1)
kill $pid_sq; wait $pid_sq 2>/dev/null

# the cluster: someone else holds vol-a's level there
daemon pg "$pg"
ctl pg allocate --owner other --level "$la" --persistent >/dev/null
"$MCSCTL" migrate --from "sqlite:$d/r.db" --to "$pg" --range c0.c9 \
	--host-id host-m >"$d/out" 2>"$d/err"
rc=$?
check "conflict: exit 1, the conflict named with both sides" \
	'[ $rc -eq 1 ] && grep -q "vol-a: level $la is held in the target by other" "$d/err"'
check "conflict: nothing moved (only 'other' in the cluster)" \
	'[ "$(sql "SELECT count(*) FROM mcs_owners")" = 1 ]'

ctl pg release other >/dev/null
"$MCSCTL" migrate --from "sqlite:$d/r.db" --to "$pg" --range c0.c9 \
	--host-id host-m >"$d/out" 2>"$d/err"
rc=$?
check "resolved: exit 0, 4 owners migrated" \
	'[ $rc -eq 0 ] && grep -q "migrated 4 owner" "$d/out"'
check "same levels in the cluster (vol-a, the pod, the lease)" \
	'[ "$(level pg vol-a)" = "$la" ] && [ "$(level pg pod-2)" = "$lp" ] && [ "$(level pg run-1)" = "$lr" ]'
check "the pod is one group on one pair in the database" \
	'[ "$(sql "SELECT count(DISTINCT pair) || holder FROM mcs_owners WHERE group_name = '"'pod'"' GROUP BY holder")" = "1g:pod" ]'
check "the lease keeps its pid and is this host's" \
	'[ "$(sql "SELECT pid || host FROM mcs_owners WHERE owner = '"'run-1'"'")" = "${sleeper}host-m" ]'
"$MCSCTL" migrate --from "sqlite:$d/r.db" --to "$pg" --range c0.c9 \
	--host-id host-m >"$d/out" 2>"$d/err"
rc=$?
check "again: 4 conflicts, exit 1, still 4 owners" \
	'[ $rc -eq 1 ] && grep -q "^mcsd migrate: 4 conflict" "$d/err" && [ "$(sql "SELECT count(*) FROM mcs_owners")" = 4 ]'
"$MCSCTL" migrate --from "sqlite:$d/r.db" 2>/dev/null
rc=$?
check "usage error without --to: exit 2" '[ $rc -eq 2 ]'
echo "1..$n"
exit $fail
