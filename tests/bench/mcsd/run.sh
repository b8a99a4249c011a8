#!/bin/sh
# mcsd bench driver (issue 3): measures the machine's single-stream
# fdatasync rate on the ext4 root fs (/var/tmp, not tmpfs) and the anchor's
# random-retry allocator at 0/50/99/99.9/100% fill, then prints one table
# with the issue's targets.  Daemon figures (allocations/s, p50/p99 at
# 1/8/64 clients, fill time, RSS) need $O/bin/mcsd and a load generator on
# the public client API; until they exist those rows print "n/a".
# Usage: run.sh full|quick
set -eu
O=${O:-build}
mode=${1:-full}
B=$O/tests/bench/mcsd
dir=$(mktemp -d /var/tmp/mcsd-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM

secs=2
[ "$mode" = quick ] && secs=0.5
fs=$("$B/fsync_rate" "$dir" "$secs" | awk '{print $2}')
"$B/anchor_pick" >"$dir/anchor"

echo "== mcsd bench ($mode): $(nproc) cores, db dir $dir ($(stat -f -c %T "$dir"))"
printf '%-44s %-22s %-14s %s\n' figure measured target verdict
printf '%-44s %-22s %-14s %s\n' "single-stream fdatasync rate" "$fs/s" "-" "-"
while read -r _ fill rest; do
	case $fill in
	100.0%) printf '%-44s %-22s %-14s %s\n' "anchor pick at 100% full" \
		"never ends (capped)" "clear error" MISS ;;
	*) set -- $rest
	   printf '%-44s %-22s %-14s %s\n' "anchor pick at $fill full: mean/p99 us" \
		"$4/$6 ($8 tries)" "flat" "-" ;;
	esac
done <"$dir/anchor"
if [ ! -x "$O/bin/mcsd" ]; then
	for f in "allocations/s + p50/p99, 1/8/64 clients" "time to fill 523,776 pairs" \
		"mcsd RSS when full"; do
		printf '%-44s %-22s %-14s %s\n' "$f" "n/a (no $O/bin/mcsd)" "-" "NOT RUN"
	done
	printf '%-44s %-22s %-14s %s\n' "durable throughput >= 5x fdatasync" \
		"n/a" ">= $((${fs%.*} * 5))/s" "NOT RUN"
fi
