#!/bin/sh
# TAP: mcs-chcon's contract on real trees under /var/tmp (ext4), every
# result read back with getfattr: volume modes, chcon modes, symlinks,
# protected paths in every spelling (dry runs only: a bug here must never
# relabel the host), --owner against a real mcsd, --restore, --dry-run,
# --json, exit status 0/1/2, ctimes of files already right.
set -u
O=${O:-build}
C="$O/bin/mcs-chcon" MCSD="$O/bin/mcsd" MCSCTL="$O/bin/mcsctl"
SH=system_u:object_r:svirt_sandbox_file_t:s0
OLD=system_u:object_r:user_home_t:s0
. tests/integration/tap.sh
d=$(mktemp -d /var/tmp/mcs-chcon-test.XXXXXX)
mcsd_pid=
cleanup() {
	[ -n "$mcsd_pid" ] && kill "$mcsd_pid" 2>/dev/null
	chattr -R -i "$d" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
: >"$d/err"
[ "$(stat -f -c %T "$d")" = tmpfs ] && { echo "1..0 # SKIP $d is tmpfs"; exit 0; }
S="--state-dir $d/state"

lbl() { getfattr -h --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0'; }
# Labels of every inode under $1 that differ from $2 (empty: all equal).
wrong() { find "$1" | while read -r f; do [ "$(lbl "$f")" = "$2" ] || echo "$f"; done; }
mkvol() { # mkvol DIR: 3 dirs, 30 files, a fifo, links in and out
	rm -rf "$1"; mkdir -p "$1/a/b"
	for i in $(seq 10); do : >"$1/f$i"; : >"$1/a/g$i"; : >"$1/a/b/h$i"; done
	mkfifo "$1/a/fifo"; ln -s f1 "$1/inlink"; ln -s "$d/out/secret" "$1/outlink"
	find "$1" -exec setfattr -h -n security.selinux -v "$OLD" {} +
}
mkdir -p "$d/out"; : >"$d/out/secret"
setfattr -n security.selinux -v system_u:object_r:etc_t:s0 "$d/out/secret"

mkvol "$d/v"
"$C" $S --shared "$d/v" 2>"$d/err"; rc=$?
check "--shared: exit 0, every inode svirt_sandbox_file_t:s0" \
	'[ $rc -eq 0 ] && [ -z "$(wrong "$d/v" $SH)" ]'
check "--shared: the summary line" \
	'grep -q "^mcs-chcon: examined 36, changed 36, already right 0, errors 0, skipped 0$" "$d/err"'
check "symlinks relabeled themselves, the outside target untouched" \
	'[ "$(lbl "$d/v/outlink")" = $SH ] && [ "$(lbl "$d/out/secret")" = system_u:object_r:etc_t:s0 ]'
"$C" $S --private s0:c10,c5 "$d/v" 2>"$d/err"; rc=$?
check "--private LEVEL: canonical level on every inode" \
	'[ $rc -eq 0 ] && [ -z "$(wrong "$d/v" ${SH}:c5,c10)" ]'
"$C" $S --private s0:c1,c2 -t container_file_t "$d/v" 2>"$d/err"; rc=$?
check "--private -t TYPE overrides the file type" \
	'[ $rc -eq 0 ] && [ -z "$(wrong "$d/v" system_u:object_r:container_file_t:s0:c1,c2)" ]'

f="$d/v/a/b/h3"
python3 -c "import os,sys; print(os.lstat(sys.argv[1]).st_ctime_ns)" "$f" >"$d/c1"
sleep 0.05
"$C" $S --private s0:c1,c2 -t container_file_t "$d/v" 2>"$d/err"; rc=$?
python3 -c "import os,sys; print(os.lstat(sys.argv[1]).st_ctime_ns)" "$f" >"$d/c2"
check "re-run: nothing changed, ctime kept to the nanosecond" \
	'[ $rc -eq 0 ] && grep -q "changed 0, already right 36" "$d/err" && cmp -s "$d/c1" "$d/c2"'

"$C" $S --restore "$d/v" 2>"$d/err"; rc=$?
check "--restore puts back the original labels" '[ $rc -eq 0 ] && [ -z "$(wrong "$d/v" $OLD)" ]'
"$C" $S --restore "$d/v" 2>"$d/err"; rc=$?
check "--restore again: exit 1, no journal" '[ $rc -eq 1 ] && grep -q "no relabel journal" "$d/err"'

"$C" $S --dry-run --shared "$d/v" 2>"$d/err"; rc=$?
check "--dry-run: counts, changes nothing, keeps no journal" \
	'[ $rc -eq 0 ] && grep -q "changed 36" "$d/err" && [ -z "$(wrong "$d/v" $OLD)" ] && [ -z "$(ls "$d/state" 2>/dev/null)" ]'
out=$("$C" $S --json --no-remember --shared "$d/v" 2>"$d/err"); rc=$?
check "--json: one object with the counts" \
	'[ $rc -eq 0 ] && [ "$(echo "$out" | python3 -c "import json,sys; o=json.load(sys.stdin); print(o[\"examined\"], o[\"changed\"], o[\"errors\"], o[\"target\"], o[\"ok\"])")" = "36 36 0 $SH True" ]'

mkvol "$d/c"
"$C" -R system_u:object_r:tmp_t:s0:c3 "$d/c" 2>"$d/err"; rc=$?
check "-R CONTEXT relabels the tree" '[ $rc -eq 0 ] && [ -z "$(wrong "$d/c" system_u:object_r:tmp_t:s0:c3)" ]'
setfattr -h -n security.selinux -v staff_u:object_r:var_t:s0 "$d/c/f2"
"$C" -t etc_t "$d/c/f2" 2>"$d/err"; rc=$?
check "-t TYPE keeps user, role and range" '[ $rc -eq 0 ] && [ "$(lbl "$d/c/f2")" = staff_u:object_r:etc_t:s0 ]'
"$C" -u user_u -l s0:c7,c8 "$d/c/f2" 2>"$d/err"; rc=$?
check "-u and -l" '[ $rc -eq 0 ] && [ "$(lbl "$d/c/f2")" = user_u:object_r:etc_t:s0:c7,c8 ]'
"$C" --reference="$d/c/f2" "$d/c/f3" 2>"$d/err"; rc=$?
check "--reference copies RFILE's label" '[ $rc -eq 0 ] && [ "$(lbl "$d/c/f3")" = user_u:object_r:etc_t:s0:c7,c8 ]'
"$C" system_u:object_r:bin_t:s0 "$d/c/inlink" 2>"$d/err"; rc=$?
check "a symlink argument: its target by default" \
	'[ $rc -eq 0 ] && [ "$(lbl "$d/c/f1")" = system_u:object_r:bin_t:s0 ] && [ "$(lbl "$d/c/inlink")" = system_u:object_r:tmp_t:s0:c3 ]'
"$C" -h system_u:object_r:lib_t:s0 "$d/c/inlink" 2>"$d/err"; rc=$?
check "-h: the symlink itself" \
	'[ $rc -eq 0 ] && [ "$(lbl "$d/c/inlink")" = system_u:object_r:lib_t:s0 ] && [ "$(lbl "$d/c/f1")" = system_u:object_r:bin_t:s0 ]'
"$C" "system_u:object_r:bad type:s0" "$d/c/f4" 2>"$d/err"; rc=$?
check "bad context: exit 1, names it, nothing changed" \
	'[ $rc -eq 1 ] && grep -q "bad type" "$d/err" && [ "$(lbl "$d/c/f4")" = system_u:object_r:tmp_t:s0:c3 ]'
"$C" --private s0:c1024 "$d/c" 2>"$d/err"; rc=$?
check "bad level: exit 1, names it" '[ $rc -eq 1 ] && grep -q "s0:c1024" "$d/err" && [ "$(lbl "$d/c")" = system_u:object_r:tmp_t:s0:c3 ]'
"$C" --frob "$d/c" 2>/dev/null; rc=$?
check "unknown option: exit 2" '[ $rc -eq 2 ]'
chattr +i "$d/c/a/g5"
"$C" $S --shared "$d/c" 2>"$d/err"; rc=$?
chattr -i "$d/c/a/g5"
check "an immutable file: exit 1, named, the rest relabeled" \
	'[ $rc -eq 1 ] && grep -q "a/g5" "$d/err" && grep -q "errors 1" "$d/err" && [ "$(lbl "$d/c/a/g6")" = $SH ] && [ "$(lbl "$d/c")" = $SH ]'

# kill -9 in the middle of a relabel: every label it changed was
# journaled first, so --restore brings the whole tree back.
mkdir -p "$d/k"
python3 - "$d/k" "$OLD" <<'PY'
import os, sys
root, lbl = sys.argv[1], sys.argv[2].encode() + b"\0"
for i in range(100):
    dd = os.path.join(root, "d%d" % i); os.mkdir(dd)
    for j in range(250):
        p = os.path.join(dd, "f%d" % j); os.close(os.open(p, os.O_CREAT | os.O_WRONLY))
        os.setxattr(p, "security.selinux", lbl)
    os.setxattr(dd, "security.selinux", lbl)
os.setxattr(root, "security.selinux", lbl)
PY
"$C" $S --threads 1 --shared "$d/k" 2>/dev/null &
kp=$!
i=0
until [ "$(getfattr -h --only-values -n security.selinux "$d/k/d0/f0" 2>/dev/null | tr -d '\0')" = $SH ] || [ $i -ge 400 ]; do i=$((i + 1)); sleep 0.005; done
kill -9 $kp 2>/dev/null; wait $kp 2>/dev/null
# count the inodes under $1 labeled $2 (fast: one python3)
count_lbl() {
	python3 - "$1" "$2" <<'PY'
import os, sys
root, want, n = sys.argv[1], sys.argv[2], 0
for dp, dns, fns in os.walk(root):
    for x in [dp] + [os.path.join(dp, f) for f in fns]:
        try:
            v = os.getxattr(x, "security.selinux", follow_symlinks=False).rstrip(b"\0").decode()
        except OSError:
            v = ""
        n += v == want
print(n)
PY
}
changed=$(count_lbl "$d/k" $SH)
"$C" $S --restore "$d/k" 2>"$d/err"; rc=$?
check "kill -9 mid-run ($changed of 25101 relabeled, top $( [ "$(lbl "$d/k")" = $SH ] && echo changed || echo untouched)): --restore brings every label back" \
	'[ $rc -eq 0 ] && [ "$changed" -gt 0 ] && [ "$(count_lbl "$d/k" $OLD)" -eq 25101 ]'
rm -rf "$d/k"

# Protected paths: always --dry-run.
ln -s /usr "$d/usrlink"
home=$(getent passwd | awk -F: '$6 ~ /^\/./ && $6 != "/root" {print $6}' | while read -r h; do [ -d "$h" ] && echo "$h"; done | grep -v -x -e /bin -e /usr/sbin -e /var -e /var/lib -e /run -e /dev -e /nonexistent | head -1)
for p in /usr //usr /./usr /var/../usr /usr/ "$d/usrlink" /etc /var/lib / "$HOME" ${home:+"$home"}; do
	"$C" $S --dry-run --shared "$p" 2>"$d/err"; rc=$?
	check "protected: --shared $p refused (exit 1, names the protected path)" \
		'[ $rc -eq 1 ] && grep -q "refusing to relabel .*protected" "$d/err"'
done
"$C" --dry-run -R system_u:object_r:tmp_t:s0 /usr/ 2>"$d/err"; rc=$?
check "protected: chcon mode -R /usr/ refused too" '[ $rc -eq 1 ] && grep -q protected "$d/err"'
mkdir -p "$d/bind"
unshare -m sh -c "mount --make-rprivate / && mount --bind /etc '$d/bind' && '$C' $S --dry-run --shared '$d/bind'" 2>"$d/err"; rc=$?
check "protected: a bind mount of /etc refused" '[ $rc -eq 1 ] && grep -q "it is /etc" "$d/err"'
"$C" $S --dry-run --shared /usr/share/doc 2>"$d/err"; rc=$?
check "a subdirectory of a protected path is allowed (dry run)" '[ $rc -eq 0 ]'

# --private --owner with a real mcsd: a persistent reservation.
"$MCSD" --socket "$d/s" --db "$d/r.db" 2>"$d/mcsd.log" &
mcsd_pid=$!
i=0
until "$MCSCTL" --socket "$d/s" status >/dev/null 2>&1 || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
mkvol "$d/o"
"$C" $S --private --owner vol-o --socket "$d/s" "$d/o" 2>"$d/err"; rc=$?
lvl=$("$MCSCTL" --socket "$d/s" --json lookup vol-o | python3 -c "import json,sys; o=json.load(sys.stdin); print(o['level'] if o['persistent'] else 'not-persistent')")
check "--private --owner: mcsd's level ($lvl), a persistent reservation, on every inode" \
	'[ $rc -eq 0 ] && echo "$lvl" | grep -q "^s0:c" && [ -z "$(wrong "$d/o" $SH:${lvl#s0:})" ]'
"$C" $S --private --owner vol-o --socket "$d/s" "$d/o" 2>"$d/err"; rc=$?
check "--owner again: the same level, nothing changed" '[ $rc -eq 0 ] && grep -q "changed 0" "$d/err"'
"$C" $S --private --owner vol-p --socket "$d/nosock" "$d/o" 2>"$d/err"; rc=$?
check "--owner without mcsd: exit 1 naming the socket, nothing changed" \
	'[ $rc -eq 1 ] && grep -q "$d/nosock" "$d/err" && [ -z "$(wrong "$d/o" $SH:${lvl#s0:})" ]'

echo "1..$n"
exit $fail
