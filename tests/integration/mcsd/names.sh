#!/bin/sh
# The table of names (tests/names.tsv) fed to mcsctl against a real mcsd:
# a name the table calls ok is allocated (exit 0), a bad one is refused
# with exit 1 and one line saying "invalid <kind>".  test_names.c feeds
# the same table to the validator, the registry and the protocol.
# Prints TAP.
set -u
MCSD=${MCSD:-build/bin/mcsd} MCSCTL=${MCSCTL:-build/bin/mcsctl}
table=${MCS_NAMES_TABLE:-tests/names.tsv}
. tests/integration/tap.sh
d=$(mktemp -d)
"$MCSD" --socket "$d/s" --db "$d/r.db" --range c0.c1023 2>"$d/log" &
pid=$!
i=0
until "$MCSCTL" --socket "$d/s" status >/dev/null 2>&1 || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done

# awk expands the names and joins the fields with a non-blank separator:
# read would fold the empty name between two tabs away.
us=$(printf '\037')
row=0
awk -F '\t' -v OFS="$us" '!/^#/ && NF >= 4 {
	full = ""; for (i = 0; i < $3 + 0; i++) full = full $2
	print NR, $1, full, $4 }' "$table" >"$d/rows"
while IFS=$us read -r line kind full verdict; do
	row=$((row + 1))
	case $kind in
	owner) set -- --owner "$full" ;;
	group) set -- --owner "g$row" --group "$full" ;;
	type) set -- --owner "t$row" --type "$full" ;;
	esac
	"$MCSCTL" --socket "$d/s" allocate --persistent "$@" >"$d/out" 2>"$d/err" </dev/null
	rc=$?
	short=$(printf '%.24s' "$full")
	if [ "$verdict" = ok ]; then
		[ $rc -eq 0 ] && ok "names.tsv:$line $kind \"$short\" allocated" ||
			notok "names.tsv:$line $kind \"$short\": rc=$rc $(cat "$d/err")"
	else
		[ $rc -eq 1 ] && [ "$(wc -l <"$d/err")" -eq 1 ] &&
			grep -q "invalid $kind" "$d/err" &&
			ok "names.tsv:$line $kind \"$short\" refused" ||
			notok "names.tsv:$line $kind \"$short\": rc=$rc $(cat "$d/err")"
	fi
done <"$d/rows"
[ $row -gt 0 ] || notok "no rows read from $table"
kill -TERM $pid
wait $pid
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$d"
exit $fail
