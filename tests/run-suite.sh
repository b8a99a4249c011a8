#!/bin/sh
# Run test programs of one suite, each in turn, and record the totals.
#   run-suite.sh SUITE RESULTS_DIR PROGRAM...
# A program is a cmocka binary (its "[  PASSED  ] N" / "[  FAILED  ] N"
# lines are counted) or a script that prints TAP ("ok N" / "not ok N"; a
# "not ok N ... # TODO ..." is a known defect, listed but not a failure).
# A program that exits non-zero without reporting a failure counts as one.
# Writes RESULTS_DIR/SUITE.txt as "passed failed skipped"; exits 1 on failure.
set -u
suite=$1 results=$2
shift 2
mkdir -p "$results/$suite"
tp=0 tf=0 ts=0
for prog in "$@"; do
	# per suite: two suites may each have a cli.sh
	log="$results/$suite/$(basename "$prog").log"
	"$prog" >"$log" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
	if [ "$p$f" = 00 ]; then # TAP
		p=$(grep -E '^ok [0-9]+' "$log" | grep -Evic '# *skip')
		s=$(grep -Eci '^ok [0-9]+.*# *skip' "$log")
		f=$(grep -E '^not ok [0-9]+' "$log" | grep -Evic '# *TODO')
		t=$(grep -E '^not ok [0-9]+.*# *TODO' "$log" | grep -c .)
	else
		t=0
	fi
	if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
	fi
	if [ "$f" -ne 0 ]; then
		echo "FAIL $suite/$(basename "$prog") (rc=$rc, $p passed, $f failed): $log"
		grep -E '^\[  (FAILED|ERROR) +\]|^not ok|error|Error|FAIL' "$log" | head -20 | sed 's/^/    /'
	else
		echo "PASS $suite/$(basename "$prog") ($p passed${s:+, $s skipped}$([ "$t" -gt 0 ] && echo ", $t known defects (TODO)"))"
	fi
	tp=$((tp + p)) tf=$((tf + f)) ts=$((ts + s))
done
echo "$tp $tf $ts" >"$results/$suite.txt"
echo "$suite: $tp passed, $tf failed, $ts skipped"
[ $tf -eq 0 ]
