#!/bin/sh
# TAP: mcs-chcon --restore refuses every damaged journal, keeps it and
# changes no label: truncated into or right after its header, one bit
# flipped in each region (header lines, every frame's header and
# payload), the journal of another volume, an old format version, a fifo
# or a symlink in its place.  Each case: exit 1, a message naming the
# journal, the journal byte for byte as it was, every xattr on disk
# still the relabeled one.  The one damage restore accepts, a torn last
# frame (a run killed inside write()), restores every label.  Also
# --private LEVEL --owner ID against a real mcsd.
set -u
O=${O:-build}
C="$O/bin/mcs-chcon" MCSD="$O/bin/mcsd" MCSCTL="$O/bin/mcsctl"
SH=system_u:object_r:svirt_sandbox_file_t:s0
OLD=system_u:object_r:user_home_t:s0
. tests/integration/tap.sh
d=$(mktemp -d /var/tmp/mcs-chcon-journal.XXXXXX)
mcsd_pid=
cleanup() {
	[ -n "$mcsd_pid" ] && kill "$mcsd_pid" 2>/dev/null
	rm -rf "$d"
}
trap cleanup EXIT
: >"$d/err"
[ "$(stat -f -c %T "$d")" = tmpfs ] && { echo "1..0 # SKIP $d is tmpfs"; exit 0; }
S="--state-dir $d/state"

lbl() { getfattr -h --only-values -n security.selinux "$1" 2>/dev/null | tr -d '\0'; }
# Paths under $1 whose label is not $2 (empty: all equal).
wrong() { find "$1" | while read -r f; do [ "$(lbl "$f")" = "$2" ] || echo "$f"; done; }
mkvol() { # 2 dirs, 20 files, a file without a label
	rm -rf "$1"; mkdir -p "$1/a"
	for i in $(seq 10); do : >"$1/f$i"; : >"$1/a/g$i"; done
	find "$1" -exec setfattr -h -n security.selinux -v "$OLD" {} +
	: >"$1/nolabel"
}
jpath() { # the journal of $1: state/MAJ:MIN:INO.journal
	python3 -c 'import os,sys; s=os.stat(sys.argv[1]); print("%s/%d:%d:%d.journal" % (sys.argv[2], os.major(s.st_dev), os.minor(s.st_dev), s.st_ino))' "$1" "$d/state"
}
# Byte offsets of the journal's regions, one "name offset" per line.
regions() {
	python3 - "$1" <<'PY'
import sys
b = open(sys.argv[1], "rb").read()
lines = b.split(b"\n")
off = 0
for name, l in zip(["magic", "volume", "top", "crc"], lines[:4]):
    print(name, off + len(l) // 2)
    off += len(l) + 1
k = 0
while off < len(b):
    kind = chr(b[off]); plen = int(b[off + 2:off + 10], 16)
    print("%s%d-header %d" % (kind, k, off + 5))
    print("%s%d-checksum %d" % (kind, k, off + 24))
    print("%s%d-payload %d" % (kind, k, off + 29 + plen // 2))
    off += 29 + plen; k += 1
PY
}
flip() { # flip bit 2 of byte $2 of file $1
	python3 -c 'import sys; p,o=sys.argv[1],int(sys.argv[2]); b=bytearray(open(p,"rb").read()); b[o]^=4; open(p,"wb").write(b)' "$1" "$2"
}
# refused CASE: restore of $d/v fails, names the journal, keeps it as
# it is ($d/damaged), labels stay $SH.
refused() {
	why=$2
	"$C" $S --restore "$d/v" 2>"$d/err"; rc=$?
	check "$1: refused (exit 1, names the journal, says why), journal kept, labels unchanged" \
		'[ $rc -eq 1 ] && grep -q "journal $j" "$d/err" && grep -q "$why" "$d/err" && cmp -s "$j" "$d/damaged" && [ -z "$(wrong "$d/v" $SH)" ]'
}

mkvol "$d/v"
"$C" $S --shared "$d/v" 2>"$d/err"; rc=$?
j=$(jpath "$d/v")
check "--shared writes a journal" '[ $rc -eq 0 ] && [ -f "$j" ] && [ -z "$(wrong "$d/v" $SH)" ]'
cp "$j" "$d/good"

# truncated into and right after the header
hdr=$(grep -n -m1 '^crc ' "$d/good" | cut -d: -f1)
head -n "$hdr" "$d/good" >"$j"; cp "$j" "$d/damaged"
refused "truncated to its header" "no relabel run"
head -c 40 "$d/good" >"$j"; cp "$j" "$d/damaged"
refused "truncated inside its header" "damaged or truncated header"
: >"$j"; cp "$j" "$d/damaged"
refused "truncated to 0 bytes" "not a relabel journal"

# one bit flipped in each region
regions "$d/good" >"$d/regions"
check "the journal has header, run, batch and commit frames" \
	'grep -q "^R0-payload" "$d/regions" && grep -q "^B1-payload" "$d/regions" && grep -q "^C" "$d/regions"'
while read -r name off; do
	cp "$d/good" "$j"; flip "$j" "$off"; cp "$j" "$d/damaged"
	refused "bit flipped in $name (byte $off)" "damaged\|checksum\|malformed\|not a relabel journal"
done <"$d/regions"

# another volume's journal under this volume's name
mkvol "$d/w"
"$C" $S --shared "$d/w" 2>/dev/null
cp "$(jpath "$d/w")" "$j"; cp "$j" "$d/damaged"
refused "the journal of another volume" "belongs to another volume"
# the volume deleted and made again: same path, maybe the same inode
rm -rf "$d/w"; mkvol "$d/w"
"$C" $S --no-remember --shared "$d/w" 2>/dev/null
jw=$(jpath "$d/w")
if [ -f "$jw" ]; then
	cp "$jw" "$d/jw"
	"$C" $S --restore "$d/w" 2>"$d/err"; rc=$?
	check "a volume recreated on a reused inode: refused, kept, labels unchanged" \
		'[ $rc -eq 1 ] && grep -q "another volume" "$d/err" && cmp -s "$jw" "$d/jw" && [ -z "$(wrong "$d/w" $SH)" ]'
	rm -f "$jw"
else # the file system gave the new directory another inode this time
	ok "a volume recreated on a reused inode # SKIP the inode was not reused"
fi

# an old format version
printf 'mcskit-relabel-journal 1\ntop %s\n=%s\n%s\n' "$d/v" "$OLD" "$(stat -c %i "$d/v/f1")" >"$j"; cp "$j" "$d/damaged"
refused "a version 1 journal" "format version 1"

# special files in its place; the fifo would block a plain open forever
rm -f "$j"; mkfifo "$j"
timeout 20 "$C" $S --restore "$d/v" 2>"$d/err"; rc=$?
check "a fifo as journal: refused at once (exit 1, says fifo), still there, labels unchanged" \
	'[ $rc -eq 1 ] && grep -q "fifo" "$d/err" && [ -p "$j" ] && [ -z "$(wrong "$d/v" $SH)" ]'
timeout 20 "$C" $S --shared "$d/v" 2>"$d/err"; rc=$?
check "a fifo as journal: a relabel refuses it too" '[ $rc -eq 1 ] && grep -q "fifo" "$d/err" && [ -p "$j" ]'
rm -f "$j"; ln -s "$d/good" "$j"
"$C" $S --restore "$d/v" 2>"$d/err"; rc=$?
check "a symlink as journal: refused, kept, labels unchanged" \
	'[ $rc -eq 1 ] && grep -q "symlink" "$d/err" && [ -L "$j" ] && [ -z "$(wrong "$d/v" $SH)" ]'
rm -f "$j"

# a damaged journal is never appended to by a new relabel
cp "$d/good" "$j"; flip "$j" "$(grep '^B1-payload' "$d/regions" | cut -d' ' -f2)"; cp "$j" "$d/damaged"
"$C" $S --private s0:c1,c2 "$d/v" 2>"$d/err"; rc=$?
check "relabel with a damaged journal: refused, journal and labels unchanged" \
	'[ $rc -eq 1 ] && grep -q "damaged journal" "$d/err" && cmp -s "$j" "$d/damaged" && [ -z "$(wrong "$d/v" $SH)" ]'

# the torn last frame of a killed run: the one damage accepted
cp "$d/good" "$j"
printf 'B 00001000 0123abcd 4567' >>"$j"
"$C" $S --restore "$d/v" 2>"$d/err"; rc=$?
check "a torn last frame (killed run): restored, journal removed" \
	'[ $rc -eq 0 ] && [ ! -e "$j" ] && [ -z "$(wrong "$d/v/a" $OLD)" ] && [ "$(lbl "$d/v/f3")" = $OLD ] && [ -z "$(lbl "$d/v/nolabel")" ]'

# --private LEVEL --owner ID: LEVEL is the level, not a path
"$MCSD" --socket "$d/s" --db "$d/r.db" 2>"$d/mcsd.log" &
mcsd_pid=$!
i=0
until "$MCSCTL" --socket "$d/s" status >/dev/null 2>&1 || [ $i -ge 100 ]; do i=$((i + 1)); sleep 0.05; done
mkvol "$d/q"
"$C" $S --private s0:c8,c7 --owner vol-q --socket "$d/s" "$d/q" 2>"$d/err"; rc=$?
lvl=$("$MCSCTL" --socket "$d/s" --json lookup vol-q | python3 -c "import json,sys; print(json.load(sys.stdin)['level'])")
check "--private LEVEL --owner ID: mcsd holds LEVEL for ID ($lvl), every inode at it" \
	'[ $rc -eq 0 ] && [ "$lvl" = s0:c7,c8 ] && [ -z "$(wrong "$d/q" $SH:c7,c8)" ]'
mkvol "$d/q2"
"$C" $S --private s0:c7,c8 --owner vol-r --socket "$d/s" "$d/q2" 2>"$d/err"; rc=$?
check "--private LEVEL --owner ID: a LEVEL held by another owner: exit 1, nothing changed" \
	'[ $rc -eq 1 ] && [ -z "$(wrong "$d/q2/a" $OLD)" ]'

echo "1..$n"
exit $fail
