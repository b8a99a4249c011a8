#!/bin/sh
# install suite (TAP): `make install-files DESTDIR=...` with the default
# paths puts exactly manifest.txt (mode, type, path; the multiarch triplet
# written @MULTIARCH@), the units point at the installed daemon and group,
# a client builds against the installed tree with `pkg-config --cflags
# --libs mcs` and runs, and `make uninstall` leaves no file of ours and
# keeps a file that is not ours.  --manifest prints the list instead.
set -u
O=${O:-build}
MAKE=${MAKE:-make}
here=$(dirname "$0")
D=$(mktemp -d /tmp/mcskit-install.XXXXXX)
trap 'rm -rf "$D"' EXIT
triplet=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || cc -print-multiarch)
PREFIX=/usr/local
LIBDIR=$PREFIX/lib/$triplet

listing() {
	(cd "$D" && find . -mindepth 1 \( -type f -o -type l \) -printf '%m %y %P\n') |
		grep -v ' usr/local/share/man/man1/not-ours.1$' |
		sed "s|/$triplet/|/@MULTIARCH@/|; s|/$triplet\$|/@MULTIARCH@|" | LC_ALL=C sort -k3
}

# A file that is not ours, in a directory we install into.
mkdir -p "$D$PREFIX/share/man/man1"
echo keep >"$D$PREFIX/share/man/man1/not-ours.1"

if ! $MAKE --no-print-directory -s O="$O" DESTDIR="$D" PREFIX=$PREFIX \
	install-files >"$D.log" 2>&1; then
	cat "$D.log" >&2
	rm -f "$D.log"
	echo "not ok 1 make install-files"
	exit 1
fi
rm -f "$D.log"
if [ "${1:-}" = --manifest ]; then
	listing
	exit 0
fi

echo 1..8
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }

if listing | diff -u "$here/manifest.txt" - >&2; then
	ok "install: $(wc -l <"$here/manifest.txt") files, as in manifest.txt"
else
	nok "install differs from manifest.txt (make install-manifest)"
fi

unit=$D$PREFIX/lib/systemd/system
if grep -qx "ExecStart=$PREFIX/sbin/mcsd --foreground --group mcskit" "$unit/mcsd.service" &&
	[ -x "$D$PREFIX/sbin/mcsd" ] &&
	grep -qx 'SocketGroup=mcskit' "$unit/mcsd.socket" &&
	grep -qx 'g mcskit -' "$D$PREFIX/lib/sysusers.d/mcskit.conf" &&
	grep -qx 'd /var/lib/mcsd 0700 root root -' "$D$PREFIX/lib/tmpfiles.d/mcskit.conf"; then
	ok "units run $PREFIX/sbin/mcsd --group mcskit; sysusers.d creates mcskit"
else
	nok "units, sysusers.d or tmpfiles.d do not match the installed paths"
fi

export PKG_CONFIG_SYSROOT_DIR="$D" PKG_CONFIG_LIBDIR="$D$LIBDIR/pkgconfig"
flags=$(pkg-config --cflags --libs mcs 2>&1)
ver=$(pkg-config --modversion mcs 2>&1)
case $flags in
*"-I$D$PREFIX/include"*"-L$D$LIBDIR -lmcs"* | *"-L$D$LIBDIR -lmcs"*"-I$D$PREFIX/include"*)
	ok "pkg-config mcs $ver: $flags" ;;
*) nok "pkg-config --cflags --libs mcs: $flags" ;;
esac

# Only the installed tree: no -I into the source, no build/ library.
if cc -o "$D/client" "$here/client.c" $flags 2>&1 >&2; then
	ok "a client compiles and links against the installed tree"
else
	nok "client does not build with pkg-config's flags"
fi
out=$(LD_LIBRARY_PATH="$D$LIBDIR" "$D/client" 's0:c3,c1,c2' 2>&1)
if [ "$out" = 's0:c1.c3' ] &&
	LD_LIBRARY_PATH="$D$LIBDIR" ldd "$D/client" | grep -q "$D$LIBDIR/libmcs.so.0"; then
	ok "the client runs on the installed libmcs.so.0: $out"
else
	nok "client output '$out'"
fi
rm -f "$D/client"

if LD_LIBRARY_PATH="$D$LIBDIR" "$D$PREFIX/sbin/mcsd" --help >/dev/null 2>&1 &&
	LD_LIBRARY_PATH="$D$LIBDIR" "$D$PREFIX/bin/mcsctl" --help >/dev/null 2>&1; then
	ok "installed mcsd and mcsctl run"
else
	nok "installed mcsd or mcsctl do not run"
fi

$MAKE --no-print-directory -s O="$O" DESTDIR="$D" PREFIX=$PREFIX uninstall >/dev/null 2>&1
left=$(listing)
if [ -z "$left" ]; then
	ok "uninstall removes every installed file"
else
	nok "uninstall left: $left"
fi
if [ -f "$D$PREFIX/share/man/man1/not-ours.1" ]; then
	ok "uninstall keeps a file it did not install"
else
	nok "uninstall removed a file that is not ours"
fi
