#!/bin/sh
# PostgreSQL registry bench (issue 18), run by `make bench` (bench-pg):
# the real mcsd on sqlite and on PostgreSQL 15 (pg-harness.sh, fsync and
# synchronous_commit on, same ext4 file system) in the same run, driven
# by loadgen (the public client API, one connection per client thread,
# closed loop):
#  - allocations/s and p50/p99 with 1, 8 and 64 clients, sqlite next to
#    PostgreSQL, from an empty c0.c1023 registry;
#  - three mcsd "hosts" (--host-id, own sockets) on one database, 8
#    clients each at once: the sum of their allocations/s;
#  - fill a c0.c127 registry (8,128 pairs) to exhaustion with 64 clients,
#    the Exhausted answer, then alloc+release cycles at 99.9% full next to
#    an empty registry (flatness);
#  - the floor: the same server alone, pgbench sessions each committing
#    one upserted row per transaction (the least one durable call costs
#    the database), with 1, 8 and 64 sessions.  mcsd speaks to the
#    database over one connection, so its ceiling is the 1-session floor.
# Run inside pg-harness.sh (the make target does); prints one table.
set -eu
O=${O:-build}
L=$O/tests/bench/mcsd/loadgen
: "${MCS_PG_CONNINFO:?run me under tests/integration/pg/pg-harness.sh run}"
dir=$(mktemp -d /var/tmp/mcs-pgbench.XXXXXX)
pids=""
cleanup() {
	for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

field() { echo "$1" | awk -v k="$2" '{for (i = 1; i < NF; i++) if ($i == k) print $(i + 1)}'; }
fmt() { echo "$(field "$1" rate)/s $(field "$1" p50_us)/$(field "$1" p99_us) us"; }
line() { printf '%-46s %-26s %s\n' "$1" "$2" "$3"; }
newdb() {
	sh "$MCS_PG_HARNESS" psql -d postgres -c "CREATE DATABASE $1" >/dev/null
	echo "pg:$MCS_PG_CONNINFO dbname=$1"
}
# start NAME REGISTRY RANGE [HOST_ID]: an mcsd on $dir/NAME.s
start() {
	"$O/bin/mcsd" --socket "$dir/$1.s" --registry "$2" --range "$3" \
		${4:+--host-id "$4"} 2>>"$dir/mcsd.log" &
	pids="$pids $!"
	i=0
	until "$O/bin/mcsctl" --socket "$dir/$1.s" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 1200 ] || { echo "bench-pg: mcsd $1 did not start" >&2; cat "$dir/mcsd.log" >&2; exit 1; }
		sleep 0.05
	done
}

echo "== mcsd registry bench: sqlite vs PostgreSQL 15 ($(nproc) cores, both on $(stat -f -c %T "$dir"), fsync on)"
line figure sqlite postgresql
main=$(newdb b_main)
t0=$(date +%s%N)
start pg "$main" c0.c1023 bench-0
t1=$(date +%s%N)
start sq "sqlite:$dir/r.db" c0.c1023
line "first start on an empty c0.c1023 registry" "-" "$(( (t1 - t0) / 1000000 )) ms (523,776 rows)"
for n in 1 8 64; do
	per=$((2048 / n))
	[ $n = 1 ] && per=1000
	s=$("$L" "$dir/sq.s" alloc $n $per "s$n")
	p=$("$L" "$dir/pg.s" alloc $n $per "p$n")
	line "empty, $n client(s): allocs/s, p50/p99" "$(fmt "$s")" "$(fmt "$p")"
done
s=$("$L" "$dir/sq.s" cycle 8 100 sc)
p=$("$L" "$dir/pg.s" cycle 8 100 pc)
line "8 clients alloc+release cycles" "$(fmt "$s")" "$(fmt "$p")"

# the floor: PostgreSQL alone, one durable 1-row transaction at a time per
# session (pgbench, same server, same file system)
newdb b_floor >/dev/null
sh "$MCS_PG_HARNESS" psql -d b_floor -c "CREATE TABLE f (k bigint PRIMARY KEY, v int)"
printf '%s\n' '\set k random(1, 1000000)' \
	'INSERT INTO f VALUES (:k, 1) ON CONFLICT (k) DO UPDATE SET v = f.v + 1;' >"$dir/floor.sql"
pgbench=$(ls /usr/lib/postgresql/*/bin/pgbench 2>/dev/null | tail -1)
for n in 1 8 64; do
	[ -x "$pgbench" ] || break
	j=$n
	[ $j -gt 2 ] && j=2
	out=$("$pgbench" -n -f "$dir/floor.sql" -c $n -j $j -T 3 "$MCS_PG_CONNINFO dbname=b_floor" 2>&1)
	tps=$(echo "$out" | sed -n 's/^tps = \([0-9]*\).*/\1/p' | head -1)
	lat=$(echo "$out" | sed -n 's/^latency average = \([0-9.]*\) ms/\1/p')
	line "floor: PostgreSQL alone, $n session(s), commits/s" "-" "${tps:-?}/s, latency avg ${lat:-?} ms"
done

# three hosts on one database, 8 clients each at once
start h1 "$main" c0.c1023 bench-1
start h2 "$main" c0.c1023 bench-2
lg=""
for h in pg h1 h2; do
	"$L" "$dir/$h.s" alloc 8 128 "three-$h" >"$dir/three-$h.out" &
	lg="$lg $!"
done
for j in $lg; do wait "$j"; done
sum=0 worst=0
for h in pg h1 h2; do
	out=$(cat "$dir/three-$h.out")
	sum=$((sum + $(field "$out" rate)))
	p99=$(field "$out" p99_us)
	[ "$p99" -gt "$worst" ] && worst=$p99
done
line "3 hosts x 8 clients on one database" "-" "$sum/s total, worst p99 $worst us"
dup=$(sh "$MCS_PG_HARNESS" psql -d b_main -tA -c "SELECT count(*) FROM (SELECT pair FROM mcs_owners GROUP BY pair HAVING count(DISTINCT holder) > 1) t")
line "  pairs with two holders afterwards" "-" "$dup"

# fill to exhaustion (c0.c127: 8,128 pairs), then 99.9% full vs empty
small=$(newdb b_small)
start pf "$small" c0.c127 bench-0
start sf "sqlite:$dir/small.db" c0.c127
fs=$("$L" "$dir/sf.s" fill 64 0 fill)
fp=$("$L" "$dir/pf.s" fill 64 0 fill)
line "fill c0.c127 with 64 clients: secs (allocs)" "$(field "$fs" secs) s ($(field "$fs" ops))" "$(field "$fp" secs) s ($(field "$fp" ops))"
ex() { "$O/bin/mcsctl" --socket "$dir/$1.s" allocate --owner one-more 2>&1 | head -1 | cut -c1-60; }
line "then one more Allocate" "$(ex sf)" "$(ex pf)"
"$L" "$dir/sf.s" release 1 128 fill >/dev/null
"$L" "$dir/pf.s" release 1 128 fill >/dev/null
start pe "$(newdb b_empty)" c0.c127 bench-0
start se "sqlite:$dir/empty.db" c0.c127
for r in 1 2; do
	a=$("$L" "$dir/se.s" cycle 8 100 "se$r")
	b=$("$L" "$dir/sf.s" cycle 8 100 "sf$r")
	c=$("$L" "$dir/pe.s" cycle 8 100 "pe$r")
	d=$("$L" "$dir/pf.s" cycle 8 100 "pf$r")
	line "round $r, 8 clients cycles: empty" "$(fmt "$a")" "$(fmt "$c")"
	line "round $r, 8 clients cycles: 99.9% full" "$(fmt "$b")" "$(fmt "$d")"
done
