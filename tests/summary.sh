#!/bin/sh
# Sum the per-suite results written by run-suite.sh and print the one
# closing line CI reads: "N passed, N failed, N skipped".
set -u
dir=$1
tp=0 tf=0 ts=0 n=0
for f in "$dir"/*.txt; do
	[ -f "$f" ] || continue
	read -r p fl s <"$f"
	tp=$((tp + p)) tf=$((tf + fl)) ts=$((ts + s)) n=$((n + 1))
done
if [ $n -eq 0 ]; then
	echo "no test suite reported results" >&2
	echo "0 passed, 1 failed"
	exit 1
fi
echo "total: $tp passed, $tf failed, $ts skipped"
[ $tf -eq 0 ] && [ $tp -gt 0 ]
