#!/bin/sh
# TAP: mcs-policy's contract (verdicts, exit codes 0/1/2, clear errors,
# port names), a table that must fail, selint and setfiles -c on the
# module, and the host's policy store left untouched.
set -u
O=${O:-build}
P="$O/bin/mcs-policy"
POL="$O/policy/policy.33"
A=system_u:system_r:lxc_nonet_t:s0:c1,c2
. tests/integration/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT


echo "1..23"
t "allowed exits 0" 0 '^allowed$' \
	"$P" check --policy "$POL" $A system_u:object_r:usr_t:s0 file read open
t "denied by TE exits 1 with the permission" 1 '^denied-te: no allow rule for \{ create \}$' \
	"$P" check --policy "$POL" $A $A tcp_socket create
t "denied by constraint names the expression" 1 '^denied-constraint: .*mlsconstrain file .*h1 dom h2 -Fail-' \
	"$P" --policy "$POL" check $A system_u:object_r:svirt_sandbox_file_t:s0:c3,c4 file write
t "only constraints covering the requested permission are named" 0 '^1 constraint: mlsconstrain file \{[^}]* write [^}]*\} .*h1 dom h2' \
	sh -c '"$1" check --policy "$2" "$3" "$4" file write | sed -n "s/^denied-constraint: constraint denies { write }; \(mlsconstrain.*\)/\1/p" | awk "{print gsub(/Constraint DENIED/, \"&\") \" constraint: \" \$0}"' \
	- "$P" "$POL" $A system_u:object_r:svirt_sandbox_file_t:s0:c3,c4
t "unknown class exits 2" 2 'unknown class "tcp_sock"' \
	"$P" check --policy "$POL" $A $A tcp_sock create
t "unknown permission exits 2" 2 'class file has no permission "fly"' \
	"$P" check --policy "$POL" $A $A file read fly
t "context unknown to the policy exits 2" 2 'source context system_u:system_r:nosuch_t:s0 is not valid' \
	"$P" check --policy "$POL" system_u:system_r:nosuch_t:s0 $A file read
t "malformed context exits 2" 2 'target context' \
	"$P" check --policy "$POL" $A 'system_u:object_r:usr_t:s0:c01' file read
t "missing policy file exits 2" 2 "open $tmp/none: No such file" \
	"$P" check --policy "$tmp/none" $A $A file read
t "port tcp 80 is http_port_t" 0 '^http_port_t$' "$P" port --policy "$POL" tcp 80
t "port tcp 8080 is http_cache_port_t" 0 '^http_cache_port_t$' "$P" port --policy "$POL" tcp 8080
t "port udp 53 is dns_port_t" 0 '^dns_port_t$' "$P" port --policy "$POL" udp 53
t "port tcp 40000 is unreserved_port_t" 0 '^unreserved_port_t$' "$P" port --policy "$POL" tcp 40000
t "bad port exits 2" 2 'bad port "70000"' "$P" port --policy "$POL" tcp 70000
t "port with a leading blank exits 2" 2 'bad port " 80"' "$P" port --policy "$POL" tcp " 80"
t "test on /dev/zero is refused at once" 2 '/dev/zero: not a regular file' timeout 10 "$P" test --policy "$POL" /dev/zero
mkfifo "$tmp/fifo"
t "a fifo as policy is refused, not waited on" 2 'not a regular file \(fifo\)' timeout 10 "$P" check --policy "$tmp/fifo" $A $A file read
t "categories in any order are accepted (the kernel does)" 0 '^allowed$' \
	"$P" check --policy "$POL" system_u:system_r:lxc_nonet_t:s0:c2,c1 system_u:object_r:usr_t:s0 file read
t "an empty context has a separated error" 2 '^mcs-policy: source context: ' \
	"$P" check --policy "$POL" "" $A file read
t "bad protocol exits 2" 2 'unknown protocol "icmp"' "$P" port --policy "$POL" icmp 1

# A table row that is wrong must fail: the verdicts are real.
{
	echo "$A $A tcp_socket create allowed # wrong on purpose"
	echo "$A system_u:object_r:svirt_sandbox_file_t:s0:c3,c4 file read allowed # wrong on purpose"
} >"$tmp/wrong.tsv"
t "wrong expectations fail the table (exit 1, 2 not ok)" 1 '^not ok 2 ' \
	"$P" test --policy "$POL" "$tmp/wrong.tsv"

t "selint clean (S-001/W-011: see docs/policy.md)" 0 '.*' sh -c \
	'out=$(selint -s -d S-001 -d W-011 policy/*.te policy/*.if policy/*.fc 2>&1 | grep -v "^Note:\|^Warning: Failed"); [ -z "$out" ] || { echo "$out"; exit 1; }'
t "setfiles -c accepts the module's file contexts" 0 '.*' sh -c \
	"set -e; cd $tmp; for pp in \"$PWD/$O\"/policy/*.pp; do semodule_unpackage \"\$pp\" m.mod m.fc; setfiles -c \"$PWD/$POL\" m.fc; grep -q svirt_sandbox_file_t m.fc; done"
exit $fail
