#!/bin/sh
# make demo: a few verdicts of the mcskit policy, computed offline.
set -u
O=${O:-build}
P="$O/bin/mcs-policy"
A=system_u:system_r
run() {
	printf '  $ mcs-policy %s\n    ' "$*"
	"$P" "$@" 2>&1 | cut -c1-200
}
echo "== policy: mcskit module verdicts from libsepol ($O/policy/policy.33)"
run check $A:svirt_lxc_net_t:s0:c1,c2 system_u:object_r:http_port_t:s0 tcp_socket name_connect
run check $A:lxc_nonet_t:s0:c1,c2 $A:lxc_nonet_t:s0:c1,c2 tcp_socket create
run check $A:lxc_apache_t:s0:c1,c2 system_u:object_r:http_port_t:s0 tcp_socket name_bind
run check $A:lxc_apache_t:s0:c1,c2 system_u:object_r:smtp_port_t:s0 tcp_socket name_connect
run check $A:svirt_lxc_net_t:s0:c1,c2 system_u:object_r:svirt_sandbox_file_t:s0:c3,c4 file read
run check $A:svirt_lxc_net_t:s0:c1,c2 system_u:object_r:svirt_sandbox_file_t:s0 file read
run port tcp 443
"$P" test tests/policy/mcskit.tsv | grep -c '^ok' | sed 's/^/  table: /; s/$/ rows as expected/'
