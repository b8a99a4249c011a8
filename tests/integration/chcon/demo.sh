#!/bin/sh
# make demo-chcon: a sample volume under build/demo/chcon relabeled
# private (Z), then shared (z), then restored, showing the xattrs.
set -eu
O=${O:-build}
C="$O/bin/mcs-chcon"
d="$O/demo/chcon"
rm -rf "$d"
mkdir -p "$d/volume/www/img" "$d/state"
echo hello >"$d/volume/www/index.html"
echo png >"$d/volume/www/img/logo.png"
ln -s index.html "$d/volume/www/home.html"
find "$d/volume" -exec setfattr -h -n security.selinux -v system_u:object_r:user_home_t:s0 {} +
show() {
	echo "--- $1"
	getfattr -h -R -n security.selinux --absolute-names "$d/volume" 2>/dev/null |
		awk '/^# file:/ {f=$3} /^security.selinux=/ {sub(/^security.selinux=/, ""); printf "  %-44s %s\n", f, $0}'
}
show "a volume labeled as a home directory"
echo "\$ mcs-chcon --private s0:c1,c2 $d/volume"
"$C" --state-dir "$d/state" --private s0:c1,c2 "$d/volume"
show "private (Z): only a container at s0:c1,c2 may use it"
echo "\$ mcs-chcon --shared $d/volume"
"$C" --state-dir "$d/state" --shared "$d/volume"
show "shared (z): every container may use it"
echo "\$ mcs-chcon --shared $d/volume   # again: already right, nothing written"
"$C" --state-dir "$d/state" --shared "$d/volume"
echo "\$ mcs-chcon --restore $d/volume"
"$C" --state-dir "$d/state" --restore "$d/volume"
show "restored: the labels from before the first relabel"
echo "\$ mcs-chcon --dry-run --shared /usr"
"$C" --dry-run --shared /usr || true
