#!/bin/sh
# TAP: every expectation table in tests/policy/ against $O/policy/policy.33.
set -u
O=${O:-build}
rc=0
for t in tests/policy/*.tsv; do
	echo "# $t"
	"$O/bin/mcs-policy" --policy "$O/policy/policy.33" test "$t" || rc=1
done
exit $rc
