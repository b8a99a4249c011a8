#!/bin/sh
# demo-mcsd: start mcsd on a socket and database under $O/demo/, allocate
# labels for a few containers and a pod, show list and status, stop mcsd.
set -eu
O=${O:-build}
d=$O/demo/mcsd
rm -f "$d/mcsd.sock" "$d/registry.db" "$d/registry.db-wal" "$d/registry.db-shm"
mkdir -p "$d"
sock=$d/mcsd.sock
"$O/bin/mcsd" --socket "$sock" --db "$d/registry.db" --foreground 2>"$d/mcsd.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
i=0
until [ -S "$sock" ] && "$O/bin/mcsctl" --socket "$sock" status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 200 ] || { echo "mcsd did not start"; cat "$d/mcsd.log"; exit 1; }
	sleep 0.05
done
ctl() { echo "\$ mcsctl $*"; "$O/bin/mcsctl" --socket "$sock" "$@"; }
echo "== mcsd demo: socket $sock, registry $d/registry.db"
ctl allocate --owner web-1
ctl allocate --owner db-1 --type container_t
ctl allocate --owner vol-data --level s0:c200,c100 --persistent
ctl allocate --owner pod1-app --group pod1
ctl allocate --owner pod1-sidecar --group pod1
echo "\$ mcsctl allocate --owner other --level s0:c100,c200   (held by vol-data)"
"$O/bin/mcsctl" --socket "$sock" allocate --owner other --level s0:c100,c200 || true
ctl release db-1
ctl list
ctl status
ctl --json status
kill -TERM $pid
wait $pid
trap - EXIT
echo "== mcsd stopped cleanly"
