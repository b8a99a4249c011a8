#!/bin/sh
# TAP: the template interface works for a policy author: the example
# alternate type (policy/examples/lxc_pgclient.te) compiles against
# mcskit.if, links with Debian's policy + mcskit in a private store copy,
# and gets the verdicts docs/policy.md promises.  ~6 s.
set -u
O=${O:-build}
P="$PWD/$O/bin/mcs-policy"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
C=system_u:system_r:lxc_pgclient_t:s0:c1,c2
echo "1..5"
cp policy/mcskit.te policy/mcskit.if policy/mcskit.fc policy/examples/lxc_pgclient.te "$tmp"/
if (cd "$tmp" && make -s -f /usr/share/selinux/devel/Makefile lxc_pgclient.pp) >"$tmp/build.log" 2>&1 &&
	cp -a "$O/policy/root" "$tmp/root" &&
	semodule -p "$tmp/root" -s default -n -i "$tmp/lxc_pgclient.pp" >>"$tmp/build.log" 2>&1; then
	echo "ok 1 - example module compiles and links (private store)"
else
	echo "not ok 1 - example module compiles and links"
	sed 's/^/#   /' "$tmp/build.log"
	exit 1
fi
POL="$tmp/root/etc/selinux/default/policy/policy.33"
n=1 fail=0
v() { # v EXPECTED TCONTEXT CLASS PERM
	n=$((n + 1))
	got=$("$P" check --policy "$POL" "$C" "$2" "$3" "$4" 2>&1 | cut -d: -f1)
	if [ "$got" = "$1" ]; then
		echo "ok $n - lxc_pgclient_t $3 $4 on $2: $1"
	else
		echo "not ok $n - lxc_pgclient_t $3 $4 on $2: got $got, want $1"
		fail=1
	fi
}
v allowed system_u:object_r:postgresql_port_t:s0 tcp_socket name_connect
v denied-te system_u:object_r:http_port_t:s0 tcp_socket name_connect
v allowed system_u:object_r:svirt_sandbox_file_t:s0:c1,c2 file write
v denied-constraint system_u:object_r:svirt_sandbox_file_t:s0:c3,c4 file read
exit $fail
