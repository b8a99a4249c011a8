#!/bin/sh
# mcsd on PostgreSQL with the database down: it fails closed (Lookup,
# Status and Allocate answer StorageError naming the database, nothing
# from memory), stays up, and serves again once the database is back,
# with what was committed before.  Prints TAP; runs under pg-harness.sh.
set -u
[ -n "${MCS_PG_CONNINFO:-}" ] ||
	exec sh "${PG_HARNESS:-tests/integration/pg/pg-harness.sh}" run sh "$0"
MCSD=${MCSD:-build/bin/mcsd} MCSCTL=${MCSCTL:-build/bin/mcsctl}
. tests/integration/tap.sh
d=$(mktemp -d)
sh "$MCS_PG_HARNESS" psql -d postgres -c "CREATE DATABASE down" >/dev/null
"$MCSD" --socket "$d/s" --registry "pg:$MCS_PG_CONNINFO dbname=down" \
	--range c0.c9 --host-id h 2>"$d/log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$d"' EXIT
ctl() { "$MCSCTL" --socket "$d/s" "$@"; }
i=0
until ctl status >/dev/null 2>&1 || [ $i -ge 200 ]; do i=$((i + 1)); sleep 0.05; done
la=$(ctl allocate --owner a --persistent | sed -n 's/^level: *//p')
sh "$MCS_PG_HARNESS" stop
for verb in "lookup a" "status" "allocate --owner b"; do
	ctl $verb >"$d/out" 2>"$d/err"
	rc=$?
	check "database down: $verb fails closed (StorageError, database named)" \
		'[ $rc -eq 1 ] && grep -q "StorageError: registry database" "$d/err" && [ ! -s "$d/out" ]'
done
check "the daemon is still running" 'kill -0 $pid'
sh "$MCS_PG_HARNESS" start
i=0
until ctl lookup a >"$d/out" 2>/dev/null || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.1; done
check "database back: Lookup finds what was committed before" \
	'grep -q "^level: *$la" "$d/out"'
check "database back: Allocate works" 'ctl allocate --owner b >/dev/null'
echo "1..$n"
exit $fail
