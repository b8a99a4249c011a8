#!/bin/sh
# TAP: `mcs-policy why`, `try` and `rank` on the built policy with known
# answers: real AVC lines from the enforcing VM (tests/policy/avc/) and
# written ones; the refpolicy interface named for a missing rule; only the
# constraint covering the permission; "allowed in this policy"; dontaudit;
# JSON that parses; damaged lines skipped and counted.
set -u
O=${O:-build}
P="$O/bin/mcs-policy"
POL="$O/policy/policy.33"
F=tests/policy/avc
. tests/integration/tap.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the explanation block of input line L
block() { "$P" why --policy "$POL" "$1" | awk -v l="line $2:" '$1" "$2 == l {p=1; print; next} /^line |^# / {p=0} p'; }

echo "1..16"
t "VM: missing TE rule, the allow rule" 0 'no allow rule for \{ search \}: allow lxc_nonet_t user_home_dir_t:dir \{ search \};' block $F/vm-avc.log 1
t "VM: the narrowest refpolicy interface" 0 'refpolicy interface: userdom_search_user_home_dirs\(lxc_nonet_t\)' block $F/vm-avc.log 1
t "VM: self rule" 0 'allow lxc_nonet_t self:tcp_socket \{ create \};' block $F/vm-avc.log 2
t "VM: lxc_apache_t may not bind unreserved ports" 0 'allow lxc_apache_t unreserved_port_t:tcp_socket \{ name_bind \};' block $F/vm-avc.log 3
t "VM: MCS constraint on the pipe, only the one covering write" 0 '^  constraint denies \{ write \}: mlsconstrain fifo_file \{[^}]* write [^}]*\} \(\(h1 dom h2 -Fail-\)[^C]*Constraint DENIED$' block $F/vm-avc.log 4
t "VM: cross-level search is the dir constraint" 0 'constraint denies \{ search \}: mlsconstrain dir \{ add_name remove_name search rmdir \}' block $F/vm-avc.log 5
t "VM: the svirt_t test glue is not in the build policy: exit 1" 1 'line 6: cannot explain: source context .*svirt_t' "$P" why --policy "$POL" $F/vm-avc.log
t "allowed in this policy (audit.log format, SYSCALL line skipped)" 0 '^  allowed in this policy' block $F/known.log 1
t "dontaudit noted, permissive shown" 0 'dontaudit: \{ write \} is silenced' block $F/known.log 3
t "journal format, categories out of order judged canonical" 0 'line 4: denied \{ write \} system_u:system_r:lxc_nonet_t:s0:c1,c2 -> .*constraint denies \{ write \}' sh -c "\"$P\" why --policy \"$POL\" $F/known.log | tr '\n' ' '"
t "why --json parses and says constraint" 0 '^constraint te$' sh -c \
	"\"$P\" why --json --policy \"$POL\" $F/vm-avc.log | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[3][\"kind\"], d[0][\"kind\"])'"
{
	cat $F/known.log
	printf 'type=AVC msg=audit(1:2): avc:  denied  { read } for pid=1 scontext=system_u:system_r:lxc_nonet_t:s0 tcont\n'
	printf 'type=AVC msg=audit(1:2): avc:  denied  { read } for name="x\0y" scontext=a:b:c tcontext=a:b:c tclass=file\n'
	head -c 70000 /dev/zero | tr '\0' 'a' | sed 's/^/avc:  denied  { read } for name=/'; echo
	head -c 3000 /dev/urandom; echo
} >"$tmp/hostile.log"
t "damaged lines are skipped and counted" 0 '3 damaged AVC lines skipped' sh -c "\"$P\" why --policy \"$POL\" $tmp/hostile.log 2>&1"

cat >"$tmp/web.acc" <<'EOA'
# a web container's accesses, recorded under svirt_lxc_net_t
system_u:system_r:svirt_lxc_net_t:s0:c1,c2 system_u:object_r:usr_t:s0 file read,open
system_u:system_r:svirt_lxc_net_t:s0:c1,c2 system_u:system_r:svirt_lxc_net_t:s0:c1,c2 tcp_socket create,bind,listen
system_u:system_r:svirt_lxc_net_t:s0:c1,c2 system_u:object_r:http_port_t:s0 tcp_socket name_bind
system_u:system_r:svirt_lxc_net_t:s0:c1,c2 system_u:object_r:http_port_t:s0 tcp_socket name_bind
EOA
t "try lxc_nonet_t: 2 of 3 distinct accesses denied, exit 1" 1 '^lxc_nonet_t \(breadth [0-9]+\): 2 of 3 accesses denied' \
	"$P" try --type lxc_nonet_t --policy "$POL" "$tmp/web.acc"
t "try lxc_apache_t: nothing denied, exit 0" 0 '^lxc_apache_t \(breadth [0-9]+\): 0 of 3 accesses denied' \
	"$P" try --type lxc_apache_t --policy "$POL" "$tmp/web.acc"
t "rank: narrowest first, picks lxc_apache_t" 0 ' 1 +lxc_nonet_t .*2 +lxc_apache_t .*3 +svirt_lxc_net_t .*narrowest type that denies nothing: lxc_apache_t' \
	sh -c "\"$P\" rank --policy \"$POL\" $tmp/web.acc | tr '\n' ' '"
t "rank --json: breadth grows along the ranking" 0 '^lxc_apache_t True$' sh -c \
	"\"$P\" rank --json --policy \"$POL\" $tmp/web.acc | python3 -c 'import json,sys; d=json.load(sys.stdin); b=[t[\"breadth\"] for t in d[\"types\"]]; print(d[\"narrowest\"], b==sorted(b) and b[0]<b[-1])'"
exit $fail
