#!/bin/sh
# TAP: mcs-policy's module store verbs (libsemanage) in a PRIVATE copy of
# the build's store ($(O)/policy/root): list, install (the module is in
# the rebuilt kernel policy: a denial turns into an allow), bool get/set
# (persistent), a module that does not compile, a locked store, remove
# (the allow is gone again), and the host's store untouched.
set -u
O=${O:-build}
P="$PWD/$O/bin/mcs-policy"
SRC="$O/policy/root"
tmp=$(mktemp -d)
lockpid=
trap '[ -n "$lockpid" ] && kill "$lockpid" 2>/dev/null; rm -rf "$tmp"' EXIT
R="$tmp/root"
cp -a "$SRC" "$R"
touch "$tmp/stamp"
KPOL="$R/etc/selinux/default/policy/policy.33"
N=system_u:system_r:lxc_nonet_t:s0:c1,c2
. tests/integration/tap.sh


echo "1..16"
t "list shows the build's module" 0 '^mcskit 400 pp$' "$P" --store-root "$R" list
t "before: lxc_nonet_t may not create a TCP socket" 1 '^denied-te' \
	"$P" check --policy "$KPOL" $N $N tcp_socket create
cat >"$tmp/mcskit_try.cil" <<'EOC'
(allow lxc_nonet_t self (tcp_socket (create)))
(boolean mcskit_try_udp false)
(booleanif mcskit_try_udp (true (allow lxc_nonet_t self (udp_socket (create)))))
EOC
echo "$N $N udp_socket create" >"$tmp/udp.acc"
t "install a CIL module" 0 '.*' "$P" --store-root "$R" install "$tmp/mcskit_try.cil"
t "list shows it" 0 '^mcskit_try 400 cil$' "$P" --store-root "$R" list
t "after install the rebuilt kernel policy allows it" 0 '^allowed$' \
	"$P" check --policy "$KPOL" $N $N tcp_socket create
t "why names the boolean that would allow it" 0 '^  boolean: \{ create \} allowed by a conditional rule, off: mcskit_try_udp=off \(on allows it\)$' \
	"$P" why --policy "$KPOL" "$tmp/udp.acc"
t "bool get" 0 '^mcskit_try_udp off$' "$P" bool get mcskit_try_udp --store-root "$R"
t "bool set on is persistent" 0 '^mcskit_try_udp on$' sh -c \
	'"$1" --store-root "$2" bool set mcskit_try_udp on && "$1" --store-root "$2" bool get mcskit_try_udp && grep -q "mcskit_try_udp=1" "$2"/var/lib/selinux/default/active/booleans.local' - "$P" "$R"
t "the rebuilt policy has it on: allowed" 0 '^  allowed in this policy' \
	"$P" why --policy "$KPOL" "$tmp/udp.acc"
t "unknown boolean exits 2" 2 'no boolean nosuch_bool' "$P" --store-root "$R" bool set nosuch_bool on
echo '(allow nosuch_t self (tcp_socket (create)))' >"$tmp/broken.cil"
t "a module that does not compile: exit 2, store unchanged" 2 'do not compile or link' \
	sh -c '"$1" --store-root "$2" install "$3"; rc=$?; "$1" --store-root "$2" list | grep -q "^broken " && exit 9; exit $rc' - "$P" "$R" "$tmp/broken.cil"
# one process holds the lock (exec): killing it releases the lock
sh -c 'exec 9<"$1"; flock -x 9; exec sleep 60' - "$R/var/lib/selinux/default/semanage.trans.LOCK" &
lockpid=$!
sleep 0.5
t "a locked store is refused at once" 2 'is locked by another process' \
	timeout 20 "$P" --store-root "$R" remove mcskit_try
kill "$lockpid" 2>/dev/null
wait "$lockpid" 2>/dev/null
lockpid=
t "remove" 0 '.*' "$P" --store-root "$R" remove mcskit_try
t "after remove the allow is gone" 1 '^denied-te' \
	"$P" check --policy "$KPOL" $N $N tcp_socket create
t "a directory without a store exits 2" 2 'no module store under' \
	"$P" --store-root "$tmp" list
t "the host's store is untouched" 0 '^$' \
	find /var/lib/selinux/default -newer "$tmp/stamp"
exit $fail
