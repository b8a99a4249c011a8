#!/bin/sh
# pg-harness.sh - a throw-away PostgreSQL 15 for tests and benches: initdb
# and pg_ctl in a temporary directory, run as the unprivileged `postgres`
# user (or the caller when not root), listening only on a Unix socket in
# that directory (listen_addresses = ''), fsync and synchronous_commit on,
# stopped and removed at the end even when the command fails or is killed.
#
#   sh pg-harness.sh run CMD [ARG...]
#	start, run CMD with the variables below set, stop, remove; exits
#	with CMD's status.  When PostgreSQL is missing and cannot be
#	installed (mk/deps.sh check, as root), prints a TAP "ok 1 # SKIP"
#	line and exits 0; a test run as CMD must therefore check
#	MCS_PG_CONNINFO (the C tests re-exec themselves through `run`
#	without it, which then prints the SKIP line for each).
#   sh pg-harness.sh restart [PG_CTL-RESTART-OPTIONS]   (inside `run`)
#	restart the server, e.g. `restart -m immediate` (a crash: no
#	checkpoint, recovery from the WAL at start).
#   sh pg-harness.sh stop / start     (inside `run`) stop -m immediate / start
#
# Variables seen by CMD:
#   MCS_PG_CONNINFO  libpq conninfo of the database `mcs`
#   MCS_PG_URI       the same as a postgresql:// URI
#   MCS_PG_DIR       the temporary directory (socket, data/, log)
#   MCS_PG_HARNESS   this script (for restart)
set -u
here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
bindir=${MCS_PG_BINDIR:-/usr/lib/postgresql/15/bin}
PORT=5432

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

pg_available() {
	[ -x "$bindir/initdb" ] && [ -x "$bindir/pg_ctl" ] &&
		{ [ "$(id -u)" != 0 ] || id postgres >/dev/null 2>&1; }
}

pg_ctl_start() {
	as_pg "$bindir/pg_ctl" -D "$MCS_PG_DIR/data" -l "$MCS_PG_DIR/log" \
		-w -t 60 -s start >/dev/null
}

case "${1:-}" in
run)
	shift
	if ! pg_available && [ "$(id -u)" = 0 ]; then
		sh "$here/../../../mk/deps.sh" check >&2 || true
	fi
	if ! pg_available; then
		# A suite runner as CMD still runs: each test it starts finds
		# no MCS_PG_CONNINFO, comes back here and reports the SKIP.
		if [ -z "${MCS_PG_SKIP:-}" ] && [ $# -gt 0 ]; then
			MCS_PG_SKIP=1 exec "$@"
		fi
		echo "ok 1 # SKIP PostgreSQL 15 is not installed and cannot be" \
			"installed here (need postgresql-15: $bindir/initdb)"
		exit 0
	fi
	MCS_PG_DIR=$(mktemp -d /tmp/mcs-pg.XXXXXX) || exit 1
	export MCS_PG_DIR
	cleanup() {
		as_pg "$bindir/pg_ctl" -D "$MCS_PG_DIR/data" -s -m immediate \
			stop >/dev/null 2>&1
		rm -rf "$MCS_PG_DIR"
	}
	trap cleanup EXIT
	trap 'exit 130' INT TERM HUP
	[ "$(id -u)" = 0 ] && chown postgres: "$MCS_PG_DIR"
	chmod 0755 "$MCS_PG_DIR"
	# -N: the cluster is thrown away; the server itself runs with
	# fsync on, as in production.
	if ! as_pg "$bindir/initdb" -D "$MCS_PG_DIR/data" -U postgres \
		--auth=trust -E UTF8 --locale=C -N >"$MCS_PG_DIR/initdb.log" 2>&1; then
		echo "pg-harness: initdb failed:" >&2
		cat "$MCS_PG_DIR/initdb.log" >&2
		exit 1
	fi
	cat >>"$MCS_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$MCS_PG_DIR'
port = $PORT
fsync = on
synchronous_commit = on
max_connections = 300
shared_buffers = 64MB
log_min_messages = warning
CONF
	if ! pg_ctl_start; then
		echo "pg-harness: PostgreSQL did not start:" >&2
		cat "$MCS_PG_DIR/log" >&2
		exit 1
	fi
	as_pg "$bindir/psql" -h "$MCS_PG_DIR" -p $PORT -U postgres -d postgres \
		-q -c "CREATE DATABASE mcs" >/dev/null || exit 1
	MCS_PG_CONNINFO="host=$MCS_PG_DIR port=$PORT user=postgres dbname=mcs"
	MCS_PG_URI="postgresql://postgres@/mcs?host=$MCS_PG_DIR&port=$PORT"
	MCS_PG_HARNESS=$self
	export MCS_PG_CONNINFO MCS_PG_URI MCS_PG_HARNESS
	"$@"
	exit $?
	;;
restart)
	shift
	: "${MCS_PG_DIR:?restart: not inside pg-harness.sh run}"
	as_pg "$bindir/pg_ctl" -D "$MCS_PG_DIR/data" -l "$MCS_PG_DIR/log" \
		-w -t 60 -s restart "$@" >/dev/null
	;;
stop)
	: "${MCS_PG_DIR:?stop: not inside pg-harness.sh run}"
	as_pg "$bindir/pg_ctl" -D "$MCS_PG_DIR/data" -s -m immediate stop \
		>/dev/null
	;;
start)
	: "${MCS_PG_DIR:?start: not inside pg-harness.sh run}"
	pg_ctl_start
	;;
psql)
	shift
	: "${MCS_PG_DIR:?psql: not inside pg-harness.sh run}"
	as_pg "$bindir/psql" -h "$MCS_PG_DIR" -p $PORT -U postgres -d mcs \
		-X -q -v ON_ERROR_STOP=1 "$@"
	;;
*)
	echo "usage: pg-harness.sh run CMD [ARG...] | restart [OPT...] |" \
		"stop | start | psql [ARG...]" >&2
	exit 2
	;;
esac
