#!/bin/sh
# The layering of docs/hacking.md, checked on the includes (TAP):
#  1. lib/ includes no header of mcsd/;
#  2. only mcsd/store_sqlite.c and mcsd/walvfs.c include sqlite3.h, and
#     nothing in lib/ or tools/ includes systemd's headers;
#  3. above the storage interface nothing includes store.h but the
#     registry's rules and the engines;
#  4. no two files of lib/ or mcsd/ include each other's header both ways
#     (a header that two modules share, like relabel_int.h, is not judged).
set -u
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
incl() { sed -n 's/^#include "\([^"]*\)".*/\1/p' "$1"; }

mcsd_h=$(cd mcsd && ls *.h)
bad=""
for f in lib/*.c lib/*.h lib/include/mcs/*.h; do
	for h in $(incl "$f"); do
		[ -e "lib/$h" ] && continue
		printf '%s\n' $mcsd_h | grep -qx "$h" && bad="$bad $f:$h"
	done
done
[ -z "$bad" ] && ok "lib/ includes no header of mcsd/" || notok "lib/ includes mcsd headers:$bad"

sq=$(grep -l '#include <sqlite3.h>' lib/*.c lib/*.h mcsd/*.c mcsd/*.h tools/*/*.c 2>/dev/null | tr '\n' ' ')
[ "$sq" = "mcsd/store_sqlite.c mcsd/walvfs.c " ] && ok "sqlite3.h only in store_sqlite.c and walvfs.c" ||
	notok "sqlite3.h included by: $sq"
sd=$(grep -l '#include <systemd/' lib/*.c lib/*.h tools/*/*.c 2>/dev/null | tr '\n' ' ')
[ -z "$sd" ] && ok "no systemd header in lib/ or tools/" || notok "systemd headers in: $sd"

st=$(grep -l '#include "store.h"' mcsd/*.c mcsd/*.h | grep -v -e registry.c -e 'store[_a-z]*\.[ch]$' | tr '\n' ' ')
[ -z "$st" ] && ok "store.h only below the rules" || notok "store.h included by: $st"

cyc=""
for f in lib/*.c mcsd/*.c; do
	d=$(dirname "$f") b=$(basename "$f" .c)
	for h in $(incl "$f"); do
		other="$d/${h%.h}.c"
		[ "$other" = "$f" ] || [ ! -e "$other" ] && continue
		incl "$other" | grep -qx "$b.h" && cyc="$cyc $f<->$other"
	done
done
[ -z "$cyc" ] && ok "no two modules include each other" || notok "include cycles:$cyc"
echo "1..$n"
exit $fail
