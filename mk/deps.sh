#!/bin/sh
# Install the Debian packages a group of targets needs, only when missing.
#   sh mk/deps.sh GROUP...    groups: build check bench fuzz vm deb
# Costs one dpkg-query when everything is present; never touches SELinux
# state on the host (selinux-policy-default only provides files to read).
set -eu
pkgs_build="gcc make pkg-config libselinux1-dev libsepol-dev libsemanage-dev
  libsqlite3-dev libjson-c-dev libsystemd-dev liburing-dev libpq-dev checkpolicy
  semodule-utils policycoreutils policycoreutils-dev selinux-policy-dev
  selinux-policy-default"
pkgs_check="libcmocka-dev attr sqlite3 setools selint clang-format python3
  selinux-utils postgresql-15"
pkgs_bench="golang-go golang-github-opencontainers-selinux-dev bc attr
  policycoreutils"
pkgs_fuzz="clang"
pkgs_deb="debhelper dpkg-dev lintian"
pkgs_vm="debootstrap qemu-system-x86 zstd e2fsprogs busybox-static xz-utils
  cpio file"
want=""
for g in "$@"; do
	eval "want=\"\$want \$pkgs_$g\""
done
missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing"
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages and not root; install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; refresh them once.
if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing
fi
