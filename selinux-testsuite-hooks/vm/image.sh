#!/bin/bash
# image.sh - build (or reuse) the SELinux-enforcing test VM image for mcskit.
#
# Owns the on-disk cache (outside the repository):
#   $MCSKIT_VM_CACHE (default /var/cache/mcskit-vm)
#     base/rootfs      debootstrap'd Debian tree + base/kernel (linux-image-amd64, busybox)
#                      rebuilt when base/KEY changes (suite, mirror, package list,
#                      candidate versions of kernel/policy/podman)
#     img-<key>/       root.img (labeled ext4, our policy modules preloaded), vmlinux,
#                      initrd.gz; <key> hashes the base key, the guest scripts and every
#                      preloaded module, so a policy change rebuilds only this layer
#                      (~20 s) and never redoes debootstrap.
# Usage: image.sh [MODULE.pp|MODULE.cil ...]   prints the img-<key> directory last.
# MCSKIT_VM_DEBS="a.deb b.deb": packages installed in the image with apt, as
# an admin would (their postinst cannot load the module in the chroot: no
# SELinux there; the same mcskit.pp is preloaded above).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
CACHE=${MCSKIT_VM_CACHE:-/var/cache/mcskit-vm}
SUITE=${SUITE:-bookworm}
PKGS="selinux-policy-default,policycoreutils,selinux-utils,procps,kmod,perl,podman,crun,conmon,netavark,libselinux1,libsepol2,libsqlite3-0,libjson-c5,libsystemd0,liburing2,iproute2,busybox-static,netcat-openbsd"
INITRD_MODS="virtio_pci virtio_blk crc32c_generic ext4"
log() { echo "image: $*" >&2; }
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -1)
	[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
fi
MODS=(); for m in "$@"; do MODS+=("$(readlink -f "$m")"); done
DEBS=(); for d in ${MCSKIT_VM_DEBS:-}; do DEBS+=("$(readlink -f "$d")"); done

B=$CACHE/base; ROOTFS=$B/rootfs
mkdir -p "$B"
exec 9>"$CACHE/.lock"; flock 9   # one builder at a time
cleanup() { mountpoint -q "$ROOTFS/proc" 2>/dev/null && umount "$ROOTFS/proc" || true; }
trap cleanup EXIT

BASEKEY=$({ echo "$SUITE $MIRROR $PKGS"
	apt-cache policy linux-image-amd64 selinux-policy-default podman busybox-static 2>/dev/null | grep -E '^[a-z]|Candidate'
} | sha256sum | cut -c1-16)

# ------------------------------------------------------------ base layer
if [ "$(cat "$B/KEY" 2>/dev/null)" != "$BASEKEY" ]; then
	log "building base layer $BASEKEY (debootstrap $SUITE from $MIRROR)"
	rm -rf "$ROOTFS" "$B/rootfs.tmp" "$B/kernel" "$B/busybox" "$B/dl" "$B/KEY"
	mkdir -p "$B/dl" "$B/kernel" "$B/busybox"
	debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$B/rootfs.tmp" "$MIRROR" >"$B/debootstrap.log" 2>&1 ||
		{ tail -30 "$B/debootstrap.log" >&2; exit 1; }
	mv "$B/rootfs.tmp" "$ROOTFS"
	tar -C "$ROOTFS" -cf "$B/selinux-pristine.tar" var/lib/selinux etc/selinux
	rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/usr/share/doc "$ROOTFS"/usr/share/man "$ROOTFS"/usr/share/locale
	KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/{print $2; exit}')
	(cd "$B/dl" && apt-get download -q "$KPKG" busybox-static >/dev/null 2>&1)
	dpkg-deb -x "$B"/dl/linux-image-*.deb "$B/kernel"
	dpkg-deb -x "$B"/dl/busybox-static_*.deb "$B/busybox"
	echo "${KPKG#linux-image-}" >"$B/kernel-version"
	echo "$BASEKEY" >"$B/KEY"
fi
KVER=$(cat "$B/kernel-version")
grep -q '^CONFIG_SECURITY_SELINUX=y' "$B/kernel/boot/config-$KVER" || { log "kernel $KVER lacks SELinux"; exit 1; }

# ------------------------------------------------------------ image layer
IMGKEY=$({ echo "$BASEKEY"; cat "$0" "$HERE/guest-init" "$HERE/guest-run" "$HERE/initramfs-init"
	for m in "${MODS[@]}" "${DEBS[@]}"; do basename "$m"; sha256sum <"$m"; done } | sha256sum | cut -c1-16)
IMG=$CACHE/img-$IMGKEY
if [ ! -f "$IMG/done" ]; then
	log "building image layer $IMGKEY (${#MODS[@]} preloaded modules)"
	rm -rf "$IMG"; mkdir -p "$IMG"
	rm -rf "$ROOTFS/var/lib/selinux" "$ROOTFS/etc/selinux"
	tar -C "$ROOTFS" -xf "$B/selinux-pristine.tar"   # policy store as shipped, every time
	sed -i 's/^SELINUX=.*/SELINUX=enforcing/' "$ROOTFS/etc/selinux/config"
	install -m 0755 "$HERE/guest-init" "$ROOTFS/usr/sbin/init"
	install -m 0755 "$HERE/guest-run" "$ROOTFS/usr/local/sbin/mcskit-guest-run"
	echo mcskit-vm >"$ROOTFS/etc/hostname"
	mount -t proc proc "$ROOTFS/proc"
	if [ ${#MODS[@]} -gt 0 ]; then
		rm -rf "$ROOTFS/tmp/mods"; mkdir -p "$ROOTFS/tmp/mods"
		cp "${MODS[@]}" "$ROOTFS/tmp/mods/"
		args=(); for m in "${MODS[@]}"; do args+=(-i "/tmp/mods/$(basename "$m")"); done
		chroot "$ROOTFS" semodule "${args[@]}" # the image's own store, never the host's
		rm -rf "$ROOTFS/tmp/mods"
		log "preloaded: $(for m in "${MODS[@]}"; do basename "$m"; done | tr '\n' ' ')"
	fi
	# the base tree is shared by every layer: no package of ours stays in it
	unpkg() { chroot "$ROOTFS" dpkg --purge mcskit libmcs-dev libmcs0 >/dev/null 2>&1 || true
		chroot "$ROOTFS" groupdel mcskit >/dev/null 2>&1 || true; }
	unpkg
	if [ ${#DEBS[@]} -gt 0 ]; then
		rm -rf "$ROOTFS/tmp/debs"; mkdir -p "$ROOTFS/tmp/debs"
		cp "${DEBS[@]}" "$ROOTFS/tmp/debs/"
		args=(); for d in "${DEBS[@]}"; do args+=("/tmp/debs/$(basename "$d")"); done
		chroot "$ROOTFS" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${args[@]}" >&2
		rm -rf "$ROOTFS/tmp/debs"
		log "installed: $(for d in "${DEBS[@]}"; do basename "$d"; done | tr '\n' ' ')"
	fi
	chroot "$ROOTFS" setfiles -F -e /proc -e /sys /etc/selinux/default/contexts/files/file_contexts /
	umount "$ROOTFS/proc"
	mkfs.ext4 -q -F -L vmroot -d "$ROOTFS" "$IMG/root.img" 1536M
	mount -t proc proc "$ROOTFS/proc"; unpkg; umount "$ROOTFS/proc"
	debugfs -R "ea_get /usr/sbin/init security.selinux" "$IMG/root.img" 2>/dev/null | grep -q init_exec_t ||
		{ log "security.selinux xattrs missing in root.img"; exit 1; }
	# initramfs: busybox + the few modules needed to mount an ext4 virtio disk
	MD=$B/kernel/lib/modules/$KVER
	[ -f "$MD/modules.dep" ] || "$ROOTFS/lib64/ld-linux-x86-64.so.2" --library-path "$ROOTFS/lib/x86_64-linux-gnu:$ROOTFS/usr/lib/x86_64-linux-gnu" \
		--argv0 depmod "$ROOTFS/usr/bin/kmod" -b "$B/kernel" "$KVER"
	IR=$(mktemp -d); mkdir -p "$IR"/{bin,dev,proc,sys,newroot,lib/modules}
	cp "$B/busybox/bin/busybox" "$IR/bin/"; install -m 0755 "$HERE/initramfs-init" "$IR/init"
	: >"$IR/modules.order"
	add() { local d; grep -qx "$(basename "$1")" "$IR/modules.order" && return 0
		for d in $(awk -v m="$1:" '$1==m {for(i=2;i<=NF;i++) print $i}' "$MD/modules.dep"); do add "$d"; done
		cp "$MD/$1" "$IR/lib/modules/"; basename "$1" >>"$IR/modules.order"; }
	for n in $INITRD_MODS; do add "$(cut -d: -f1 "$MD/modules.dep" | grep -m1 "/$n\.ko")"; done
	(cd "$IR" && find . | "$B/busybox/bin/busybox" cpio -o -H newc 2>/dev/null | gzip -1 >"$IMG/initrd.gz")
	rm -rf "$IR"
	# uncompressed vmlinux boots through PVH: skips decompression (~3 s under TCG)
	K=$B/kernel/boot/vmlinuz-$KVER
	off=$(LC_ALL=C grep -obUaP '\xfd7zXZ\x00' "$K" | head -1 | cut -d: -f1)
	tail -c +$((off + 1)) "$K" | xz -dcq >"$IMG/vmlinux" 2>/dev/null || true
	file "$IMG/vmlinux" | grep -q 'ELF 64-bit' || cp "$K" "$IMG/vmlinux"
	touch "$IMG/done"
	# keep the three newest image layers
	ls -dt "$CACHE"/img-* | tail -n +4 | xargs -r rm -rf
fi
echo "$IMG"
