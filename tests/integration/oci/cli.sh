#!/bin/sh
# TAP: mcs-oci between a stub runtime (stub-runtime: records the argv and
# the config.json it got) and a real mcsd started here.  Pass-through of
# argv, output and exit status; adopt (registration read back with
# mcsctl, the config untouched); collisions refused naming the holder;
# pods share a group; labels that register nothing; assign (the config
# the runtime saw, the bind-mount source's xattr on disk); delete and its
# failure cases; mcsd down (fail closed, on_unavailable = pass); gc and
# the creation lock; configuration errors.
set -u
O=${O:-build}
OCI="$PWD/$O/bin/mcs-oci" MCSD="$O/bin/mcsd" MCSCTL="$O/bin/mcsctl"
STUB="$PWD/tests/integration/oci/stub-runtime"
. tests/integration/tap.sh
d=$(mktemp -d /var/tmp/mcs-oci-test.XXXXXX)
mcsd_pid=
cleanup() {
	[ -n "$mcsd_pid" ] && kill "$mcsd_pid" 2>/dev/null && wait "$mcsd_pid"
	rm -rf "$d"
}
trap cleanup EXIT
: >"$d/err"

start_mcsd() {
	"$MCSD" --socket "$d/s" --db "$d/r.db" --range c0.c99 2>>"$d/mcsd.log" &
	mcsd_pid=$!
	i=0
	until "$MCSCTL" --socket "$d/s" status >/dev/null 2>&1 || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
}
start_mcsd
ctl() { "$MCSCTL" --socket "$d/s" "$@"; }
mkdir -p "$d/stub"
export STUB_DIR="$d/stub" MCS_OCI_RUNTIME="$STUB" MCSD_SOCKET="$d/s" MCS_OCI_CONFIG="$d/oci.conf"
printf 'state_roots = %s\nlock_dir = %s\n' "$d/stub/state" "$d/locks" >"$d/oci.conf"
oci() { "$OCI" "$@" >"$d/out" 2>"$d/err"; }
argv() { tr '\n' ' ' <"$d/stub/argv" | sed 's/ $//'; }
level_of() { ctl lookup "oci:$1" 2>/dev/null | sed -n 's/^level: *//p'; }
group_of() { ctl lookup "oci:$1" 2>/dev/null | sed -n 's/^group: *//p'; }
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }

# bundle NAME LABEL [ANNOTATIONS-JSON] [MOUNTS-JSON]
bundle() {
	mkdir -p "$d/$1/rootfs"
	python3 - "$d/$1/config.json" "$2" "${3:-{\}}" "${4:-[]}" <<'PY'
import json, sys
path, label, ann, mounts = sys.argv[1:]
c = {"ociVersion": "1.0.2", "root": {"path": "rootfs"},
     "process": {"args": ["sh"], "cwd": "/"},
     "linux": {"namespaces": [{"type": "pid"}]},
     "annotations": json.loads(ann), "mounts": json.loads(mounts)}
if label:
    c["process"]["selinuxLabel"] = label
    c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:" + label.split(":", 3)[3]
json.dump(c, open(path, "w"), indent=1)
PY
}

# --- pass-through --------------------------------------------------------
oci --root "$d/r" --log "$d/log" --log-format=json --systemd-cgroup kill c0 9
check "global options and command reach the runtime unchanged" \
	'[ "$(argv)" = "--root $d/r --log $d/log --log-format=json --systemd-cgroup kill c0 9" ]'
STUB_RC=3 "$OCI" --debug pause c0 2>"$d/err"; rc=$?
check "exit status is the runtime's (3)" '[ $rc -eq 3 ]'
oci --version
check "output is the runtime's (--version)" 'grep -qx "stub-runtime version 1" "$d/out"'
for c in start state list ps resume update features spec checkpoint restore exec; do
	oci "$c" --some-flag c0
	[ "$(argv)" = "$c --some-flag c0" ] || break
done
check "every other command passes through ($c)" '[ "$(argv)" = "$c --some-flag c0" ]'

# --- adopt ----------------------------------------------------------------
bundle plain ""
cp "$d/plain/config.json" "$d/plain.orig"
oci create --bundle "$d/plain" --pid-file "$d/pid" p0
check "no label: passed through, nothing registered" \
	'[ "$(argv)" = "create --bundle $d/plain --pid-file $d/pid p0" ] && [ -z "$(level_of p0)" ] && cmp -s "$d/stub/config.json" "$d/plain.orig"'

bundle a system_u:system_r:container_t:s0:c7,c3 '{"io.kubernetes.cri-o.SandboxID": "sb1"}'
cp "$d/a/config.json" "$d/a.orig"
oci --root "$d/r" create --bundle "$d/a" --pid-file "$d/pid" --console-socket "$d/cs" a1
check "adopt (podman's argv): level registered for oci:a1, group pod:sb1" \
	'[ "$(level_of a1)" = s0:c3,c7 ] && [ "$(group_of a1)" = pod:sb1 ]'
check "adopt: the runtime got the argv and the config unchanged" \
	'[ "$(argv)" = "--root $d/r create --bundle $d/a --pid-file $d/pid --console-socket $d/cs a1" ] && cmp -s "$d/stub/config.json" "$d/a.orig"'
oci create --bundle "$d/a" a2
check "a second container of the same pod at the same level shares the group" \
	'[ "$(level_of a2)" = s0:c3,c7 ] && [ "$(group_of a2)" = pod:sb1 ]'
bundle a3 system_u:system_r:container_t:s0:c8,c9 '{"io.kubernetes.cri-o.SandboxID": "sb1"}'
oci create --bundle "$d/a3" a3
check "a pod member at a level of its own (a pod without infra) registers alone" \
	'[ "$(level_of a3)" = s0:c8,c9 ] && [ -z "$(group_of a3)" ]'
(cd "$d/a" && "$OCI" create -bundle=. a1 2>"$d/err")
check "create again (restart) is idempotent; runc's -bundle=X form" \
	'[ "$(level_of a1)" = s0:c3,c7 ] && [ "$(ctl list | grep -c "s0:c3,c7")" = 2 ]'

bundle b system_u:system_r:container_t:s0:c3,c7
rm -f "$d/stub/argv"
oci create --bundle "$d/b" b1; rc=$?
check "collision refused: exit 1, the level and its holders named, runtime not run, no lock left" \
	'[ $rc -eq 1 ] && grep -q "s0:c3,c7" "$d/err" && grep -q "oci:a1 (group pod:sb1)" "$d/err" && [ ! -e "$d/stub/argv" ] && [ -z "$(level_of b1)" ] && [ ! -e "$d/locks/b1" ]'
ctl allocate --owner reserved --level s0:c11,c12 >/dev/null
bundle r system_u:system_r:container_t:s0:c11,c12
oci run -d --bundle "$d/r" r1; rc=$?
check "a level reserved with mcsctl is refused to run, naming the reservation" \
	'[ $rc -eq 1 ] && grep -q "held by reserved" "$d/err" && [ -z "$(level_of r1)" ]'

for l in "system_u:system_r:container_t:s0" "system_u:system_r:spc_t:s0" \
	"system_u:system_r:container_t:s0-s0:c0.c1023" "system_u:system_r:container_t:s0:c5"; do
	bundle n "$l"
	oci create --bundle "$d/n" n1 || break
	[ -z "$(level_of n1)" ] || break
	l=
done
check "s0, spc_t, a range, one category: nothing registered (${l:-all})" '[ -z "$l" ]'

# --- assign ---------------------------------------------------------------
mkdir -p "$d/vol/sub" "$d/shared"
echo x >"$d/vol/sub/f"
bundle as system_u:system_r:container_t:s0 '{"io.mcskit.level": "auto", "io.kubernetes.cri-o.SandboxID": "sb2"}' \
	"[{\"destination\": \"/v\", \"type\": \"bind\", \"source\": \"$d/vol\", \"options\": [\"rbind\", \"Z\"]},
	  {\"destination\": \"/s\", \"type\": \"bind\", \"source\": \"$d/shared\", \"options\": [\"z\", \"ro\"]}]"
oci create --bundle "$d/as" as1
lv=$(level_of as1)
check "assign: mcsd chose a level for oci:as1 in pod:sb2 ($lv)" \
	'echo "$lv" | grep -Eq "^s0:c[0-9]+,c[0-9]+$" && [ "$(group_of as1)" = pod:sb2 ]'
check "assign: the runtime saw process.selinuxLabel and linux.mountLabel at that level" \
	'[ "$(json "$d/stub/config.json" "d[\"process\"][\"selinuxLabel\"]")" = "system_u:system_r:container_t:$lv" ] &&
	 [ "$(json "$d/stub/config.json" "d[\"linux\"][\"mountLabel\"]")" = "system_u:object_r:container_file_t:$lv" ]'
check "assign: z/Z dropped from the mount options, the rest kept" \
	'[ "$(json "$d/stub/config.json" "[m[\"options\"] for m in d[\"mounts\"]]")" = "[['"'"'rbind'"'"'], ['"'"'ro'"'"']]" ]'
lbl() { getfattr -h --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0'; }
check "assign: the Z source is relabeled to the mount label, all the tree (xattrs on disk)" \
	'[ "$(lbl "$d/vol")" = "system_u:object_r:container_file_t:$lv" ] && [ "$(lbl "$d/vol/sub/f")" = "system_u:object_r:container_file_t:$lv" ]'
check "assign: the z source is shared (s0)" \
	'[ "$(lbl "$d/shared")" = system_u:object_r:svirt_sandbox_file_t:s0 ]'
bundle bad system_u:system_r:container_t:s0 '{"io.mcskit.level": "s0:c1,c2"}'
oci create --bundle "$d/bad" bad1; rc=$?
check "an unknown io.mcskit.level value is refused" '[ $rc -eq 1 ] && grep -q "only \"auto\"" "$d/err"'

# --- delete ---------------------------------------------------------------
oci delete --force a2
check "delete releases (group member a2 leaves, a1 keeps the level)" \
	'[ -z "$(level_of a2)" ] && [ "$(level_of a1)" = s0:c3,c7 ] && [ "$(argv)" = "delete --force a2" ]'
STUB_RC=1 "$OCI" delete a1 2>"$d/err"; rc=$?
check "a delete the runtime refuses (container still there) keeps the registration" \
	'[ $rc -eq 1 ] && [ "$(level_of a1)" = s0:c3,c7 ]'
rmdir "$d/stub/state/a1"
oci delete a1; rc=$?
check "a container the runtime says is gone is released; the runtime's status stays (1)" \
	'[ $rc -eq 1 ] && [ -z "$(level_of a1)" ] && grep -q "does not exist" "$d/err"'

# --- gc -------------------------------------------------------------------
rmdir "$d/stub/state/as1"
"$OCI" gc >"$d/out" 2>"$d/err"; rc=$?
check "gc releases the registration of a container no state root knows" \
	'[ $rc -eq 0 ] && grep -q "released oci:as1 $lv" "$d/out" && [ -z "$(level_of as1)" ]'
check "gc keeps other owners (mcsctl's reservation) and live containers" \
	'ctl lookup reserved >/dev/null && [ "$(grep -c released "$d/out")" = 1 ]'
"$OCI" gc >"$d/out" 2>"$d/err"; rc=$?
check "gc again: nothing to do" '[ $rc -eq 0 ] && [ ! -s "$d/out" ]'
check "gc dropped the released container's lock file, delete its own" \
	'[ ! -e "$d/locks/as1" ] && [ ! -e "$d/locks/a2" ] && [ -e "$d/locks/a3" ]'
# a runtime that takes 3 s before its state exists: the container holds
# its creation lock meanwhile, and gc leaves it alone however long that is
bundle slow system_u:system_r:container_t:s0:c5,c6
STUB_SLEEP=3 "$OCI" create --bundle "$d/slow" slow1 >/dev/null 2>"$d/slow.err" &
slow=$!
i=0
until [ -n "$(level_of slow1)" ] || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
"$OCI" gc >"$d/out" 2>"$d/err"; rc=$?
check "gc while the runtime has no state yet: the creating container keeps its level" \
	'[ $rc -eq 0 ] && [ "$(level_of slow1)" = s0:c5,c6 ] && ! grep -q slow1 "$d/out"'
wait $slow; rc=$?
check "and the slow create then succeeds with its state" '[ $rc -eq 0 ] && [ -d "$d/stub/state/slow1" ]'
bundle fail system_u:system_r:container_t:s0:c10,c11
STUB_RC=1 "$OCI" create --bundle "$d/fail" failed1 2>/dev/null
check "(a create whose runtime failed leaves its registration)" '[ "$(level_of failed1)" = s0:c10,c11 ]'
"$OCI" gc >"$d/out" 2>"$d/err"; rc=$?
check "a create whose runtime failed (no state, lock free) is released by gc" \
	'[ $rc -eq 0 ] && grep -q "released oci:failed1" "$d/out" && [ -z "$(level_of failed1)" ]'
ctl allocate --owner oci:ghost --persistent >/dev/null
"$OCI" gc --dry-run >"$d/out" 2>"$d/err"
check "gc --dry-run names a registration with no lock file and makes none" \
	'grep -q "would release oci:ghost" "$d/out" && [ -n "$(level_of ghost)" ] && [ ! -e "$d/locks/ghost" ]'
"$OCI" gc >"$d/out" 2>"$d/err"
check "gc releases it under a lock file of its own, then removes that file" \
	'grep -q "released oci:ghost" "$d/out" && [ -z "$(level_of ghost)" ] && [ ! -e "$d/locks/ghost" ]'
chmod 0777 "$d/locks"
oci create --bundle "$d/b" lk1; rc=$?
check "a lock directory others may write: refused, nothing registered" \
	'[ $rc -eq 1 ] && grep -q "creation lock in $d/locks" "$d/err" && [ -z "$(level_of lk1)" ]'
chmod 0700 "$d/locks"

# --- mcsd unreachable -----------------------------------------------------
kill "$mcsd_pid"; wait "$mcsd_pid"; mcsd_pid=
rm -f "$d/stub/argv"
oci create --bundle "$d/b" down1; rc=$?
check "mcsd down: fail closed, exit 1 naming the socket, runtime not run" \
	'[ $rc -eq 1 ] && grep -q "$d/s" "$d/err" && grep -q "refusing to start down1" "$d/err" && [ ! -e "$d/stub/argv" ]'
oci create --bundle "$d/plain" down0
check "mcsd down: a bundle with nothing to register still starts" '[ -e "$d/stub/argv" ]'
printf 'state_roots = %s\nlock_dir = %s\non_unavailable = pass\n' "$d/stub/state" "$d/locks" >"$d/oci.conf"
oci create --bundle "$d/b" down2; rc=$?
check "mcsd down, on_unavailable = pass: the runtime runs, with a warning" \
	'[ $rc -eq 0 ] && [ "$(argv)" = "create --bundle $d/b down2" ] && grep -q "WARNING.*UNREGISTERED" "$d/err"'
start_mcsd
oci delete down2; rc=$?
check "mcsd back: delete of an unregistered container succeeds" '[ $rc -eq 0 ] && [ ! -d "$d/stub/state/down2" ]'

# --- configuration --------------------------------------------------------
printf 'socket = %s\nfrobnicate = 1\n' "$d/s" >"$d/oci.conf"
oci --version; rc=$?
check "unknown key: exit 1 naming file and line" '[ $rc -eq 1 ] && grep -q "oci.conf:2: unknown key" "$d/err"'
MCS_OCI_CONFIG="$d/nope.conf" "$OCI" --version 2>"$d/err"; rc=$?
check "a missing \$MCS_OCI_CONFIG file is an error" '[ $rc -eq 1 ] && grep -q nope.conf "$d/err"'
printf 'runtime = %s\nsocket = %s\nlock_dir = %s\n' "$STUB" "$d/s" "$d/locks" >"$d/oci.conf"
env -u MCS_OCI_RUNTIME -u MCSD_SOCKET "$OCI" create --bundle "$d/r" f1 2>"$d/err"; rc=$?
check "runtime = and socket = from the file (collision seen through that socket)" \
	'[ $rc -eq 1 ] && grep -q "held by reserved" "$d/err"'
MCS_OCI_RUNTIME="$OCI" "$OCI" --version 2>"$d/err"; rc=$?
check "a runtime that is mcs-oci itself is refused" '[ $rc -eq 1 ] && grep -q "mcs-oci itself" "$d/err"'

echo "1..$n"
exit $fail
