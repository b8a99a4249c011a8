#!/bin/sh
# mcsd under systemd socket activation (systemd-socket-activate passes the
# listening fd as LISTEN_FDS): it serves that socket, not --socket, and
# stops on SIGTERM; with NOTIFY_SOCKET it sends READY=1.  Prints TAP.
set -u
MCSD=${MCSD:-build/bin/mcsd} MCSCTL=${MCSCTL:-build/bin/mcsctl}
. tests/integration/tap.sh
if ! command -v systemd-socket-activate >/dev/null 2>&1; then
	echo "1..0 # skip systemd-socket-activate not installed"
	exit 0
fi
d=$(mktemp -d)
systemd-socket-activate -l "$d/act.sock" "$MCSD" --db "$d/r.db" \
	--socket "$d/unused.sock" 2>"$d/log" &
pid=$!
i=0
until [ -S "$d/act.sock" ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
lvl=$("$MCSCTL" --socket "$d/act.sock" --json allocate --owner act1 2>&1 | sed -n 's/.*"level": "\(s0:[^"]*\)".*/\1/p')
[ -n "$lvl" ] && ok "allocates through the activated socket ($lvl)" || notok "no answer on the activated socket: $(cat "$d/log")"
[ ! -e "$d/unused.sock" ] && ok "did not create --socket when given one" || notok "created --socket despite LISTEN_FDS"
kill -TERM "$pid" 2>/dev/null
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
kill -0 "$pid" 2>/dev/null && notok "still running after SIGTERM" || ok "stops on SIGTERM"
grep -q "the socket from systemd" "$d/log" && ok "logs the systemd socket" || notok "log: $(cat "$d/log")"
# Type=notify: READY=1 on $NOTIFY_SOCKET once it listens.
if command -v python3 >/dev/null 2>&1; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1]); s.settimeout(10)
print(s.recv(4096).decode())' "$d/notify" >"$d/notified" &
	lp=$!
	i=0
	until [ -S "$d/notify" ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
	NOTIFY_SOCKET=$d/notify "$MCSD" --db "$d/r2.db" --socket "$d/n.sock" 2>>"$d/log" &
	mp=$!
	wait "$lp"
	grep -q "READY=1" "$d/notified" && ok "sends READY=1 to NOTIFY_SOCKET" || notok "no READY=1: $(cat "$d/notified")"
	kill -TERM "$mp"; wait "$mp"
	[ $? -eq 0 ] && ok "exit status 0 after SIGTERM" || notok "bad exit status after SIGTERM"
fi
echo "1..$n"
[ $fail -eq 0 ] && rm -rf "$d"
exit $fail
