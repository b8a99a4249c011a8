#!/bin/sh
# Run each libFuzzer target for SECONDS from its seed corpus; one line per
# target with its executions; exit 1 when any target found something.
#   sh tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...
set -u
o=$1 secs=$2
shift 2
fail=0
mkdir -p "$o/fuzz/crashes"
# Scratch for targets that need files (the protocol target's registry),
# removed even when a target crashed.
base=/tmp
[ -w /dev/shm ] && base=/dev/shm # tmpfs: the registry's fsyncs are free
tmp=$(mktemp -d "$base/mcs-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export MCS_FUZZ_TMPDIR="$tmp"
for t in "$@"; do
	bin="$o/fuzz/fuzz_$t" seeds="tests/fuzz/corpus/$t" work="$o/fuzz/corpus-$t"
	mkdir -p "$work"
	log="$o/fuzz/$t.log"
	# The seeds are read, never written: new inputs go to $work.
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1} \
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$o/fuzz/crashes/$t-" \
		"$work" "$seeds" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "fuzz $t: ${execs:-?} executions in ${secs} s, no crash"
	else
		fail=1
		echo "fuzz $t: FAILED (exit $rc) after ${execs:-?} executions; $log:"
		grep -E "ERROR|SUMMARY|Test unit written|runtime error" "$log" | head -8 | sed 's/^/    /'
	fi
done
exit $fail
