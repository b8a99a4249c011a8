#!/bin/sh
# ABI check for libmcs.so, printed as TAP:
#  1. every exported function is named mcs_* and carries the MCS_0 version;
#  2. every exported function is declared MCS_EXPORT in lib/include/mcs/;
#  3. every MCS_EXPORT declaration is really exported (not hidden by accident);
#  4. the library has no undefined symbols of its own and links with -z now;
#  5. neither libmcs.so nor any program but mcsd needs sqlite3 or libsystemd
#     (the daemon's storage and service manager stay with the daemon), and
#     none but mcs-policy libsemanage (its module store stays with it).
#   check-abi.sh LIBMCS_SO HEADER_DIR
set -u
so=${1:-${O:-build}/lib/libmcs.so} hdr=${2:-lib/include/mcs}
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }

exported=$(nm -D --defined-only "$so" | awk '$2 == "T" {print $3}' | sort)
declared=$(cat "$hdr"/*.h | tr '\n' ' ' | sed 's/;/;\n/g' |
	grep 'MCS_EXPORT' | grep -o 'mcs_[a-z0-9_]*[ ]*(' | tr -d ' (' | sort -u)

bad=$(printf '%s\n' "$exported" | grep -v '^mcs_[a-z0-9_]*@@MCS_0$' || true)
[ -z "$bad" ] && ok "exported symbols are mcs_* in version MCS_0" ||
	notok "unexpected exports: $(echo $bad)"

names=$(printf '%s\n' "$exported" | sed 's/@@.*//')
undeclared=$(printf '%s\n' "$names" | while read -r s; do
	printf '%s\n' "$declared" | grep -qx "$s" || echo "$s"; done)
[ -z "$undeclared" ] && ok "every export is declared MCS_EXPORT in a public header" ||
	notok "exported but not declared MCS_EXPORT: $(echo $undeclared)"

hidden=$(printf '%s\n' "$declared" | while read -r s; do
	printf '%s\n' "$names" | grep -qx "$s" || echo "$s"; done)
[ -z "$hidden" ] && ok "every MCS_EXPORT declaration is exported" ||
	notok "declared MCS_EXPORT but not exported: $(echo $hidden)"

readelf -d "$so" | grep -q 'BIND_NOW\|FLAGS.*NOW' && ok "full RELRO (BIND_NOW)" ||
	notok "libmcs.so is not linked with -z now"
needed=$(readelf -d "$so" | grep NEEDED | grep -o 'lib[a-z0-9_]*' || true)
daemon_libs=$(printf '%s\n' "$needed" | grep -E 'libsqlite3|libsystemd|libsemanage' || true)
[ -z "$daemon_libs" ] && ok "libmcs.so needs none of sqlite3, libsystemd, libsemanage" ||
	notok "libmcs.so needs $(echo $daemon_libs)"

bindir=$(dirname "$so")/../bin
for prog in "$bindir"/*; do
	[ -x "$prog" ] && [ "$(basename "$prog")" != mcsd ] || continue
	loaded=$(ldd "$prog" | grep -E 'libsqlite3|libsystemd' | awk '{print $1}')
	[ "$(basename "$prog")" = mcs-policy ] ||
		loaded="$loaded $(ldd "$prog" | grep -E 'libsemanage' | awk '{print $1}')"
	loaded=$(echo $loaded)
	[ -z "$loaded" ] && ok "$(basename "$prog") loads neither sqlite3 nor libsystemd$(
		[ "$(basename "$prog")" = mcs-policy ] || echo ' nor libsemanage')" ||
		notok "$(basename "$prog") loads $loaded"
done
echo "1..$n"
exit $fail
