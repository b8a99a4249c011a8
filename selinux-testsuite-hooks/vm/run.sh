#!/bin/bash
# run.sh - boot the mcskit test VM once: attach PAYLOAD_DIR (must hold run.sh),
# run it as root in unconfined_t inside an enforcing SELinux kernel, bring back
# its output, the AVC denials and $MCSKIT_OUT, power off.  Hard timeout.
#
#   run.sh -i IMGDIR -o OUTDIR [-t SECONDS] [-p] [-c CONTEXT] PAYLOAD_DIR
#     IMGDIR   an image layer from image.sh (root.img, vmlinux, initrd.gz)
#     OUTDIR   gets console.log, serial.log, run.log, avc.log, out/, boot.txt
#     -p       boot permissive (enforcing=0)
# Exit status: the payload's, or 125 when the VM gave no end marker (timeout,
# crash).  The root image is attached snapshot=on, so the cache never changes.
set -euo pipefail
IMG="" OUT="" TIMEOUT=420 ENF=1 CTX="" MEM=${MCSKIT_VM_MEM:-1536}
while getopts "i:o:t:pc:" o; do
	case $o in
	i) IMG=$OPTARG ;; o) OUT=$OPTARG ;; t) TIMEOUT=$OPTARG ;; p) ENF=0 ;; c) CTX=$OPTARG ;;
	*) sed -n '2,12p' "$0" >&2; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
PAYLOAD=${1:?usage: run.sh -i IMGDIR -o OUTDIR PAYLOAD_DIR}
[ -f "$IMG/root.img" ] && [ -n "$OUT" ] || { echo "run.sh: need -i IMGDIR and -o OUTDIR" >&2; exit 2; }
# KVM only with real hardware virtualization; /dev/kvm alone is not enough here
if [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
	ACCEL=(-accel kvm -cpu host)
else
	ACCEL=(-accel tcg,thread=multi -cpu max)
fi
SMP=$(($(nproc) < 2 ? $(nproc) : 2))
mkdir -p "$OUT"; OUT=$(cd "$OUT" && pwd)
TMP=$(mktemp -d /tmp/mcskit-vm.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
tar -cf "$TMP/payload.tar" -C "$PAYLOAD" .
truncate -s 256M "$TMP/out.img"
KCMD="console=ttyS0 root=/dev/vda rw security=selinux enforcing=$ENF panic=-1 mitigations=off quiet loglevel=4 ${CTX:+mcskit.ctx=$CTX}"
t0=$(date +%s.%N)
rc=0
timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${ACCEL[@]}" -m "$MEM" -smp "$SMP" \
	-display none -monitor none -no-reboot -nodefaults \
	-kernel "$IMG/vmlinux" -initrd "$IMG/initrd.gz" -append "$KCMD" \
	-drive file="$IMG/root.img",format=raw,if=virtio,snapshot=on \
	-drive file="$TMP/payload.tar",format=raw,if=virtio,readonly=on \
	-drive file="$TMP/out.img",format=raw,if=virtio \
	-serial file:"$OUT/console.log" -serial file:"$OUT/serial.log" </dev/null || rc=$?
wall=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
tr -d '\r' <"$OUT/serial.log" >"$TMP/s" && mv "$TMP/s" "$OUT/serial.log"
sed -n '/^===MCSKIT-BEGIN===$/,/^===MCSKIT-END/{/^===MCSKIT-/d;p}' "$OUT/serial.log" >"$OUT/run.log"
sed -n '/^===MCSKIT-AVC===$/,${/^===MCSKIT-AVC===$/d;p}' "$OUT/serial.log" >"$OUT/avc.log"
rm -rf "$OUT/out"; mkdir -p "$OUT/out"
tar -xf "$TMP/out.img" -C "$OUT/out" 2>/dev/null || true
# boot time: qemu start -> test start, as the guest's uptime when the payload began
boot=$(tr -d '\r' <"$OUT/console.log" | sed -n 's/^guest-init: test start at \([0-9.]*\)s.*/\1/p' | head -1)
echo "accel=${ACCEL[1]} boot_to_test=${boot:-?}s wall=${wall}s" >"$OUT/boot.txt"
end=$(grep -a '^===MCSKIT-END' "$OUT/serial.log" | tail -1 || true)
if [ -z "$end" ]; then
	echo "run.sh: no end marker after ${wall}s (qemu rc=$rc, 124 = timeout ${TIMEOUT}s); console tail:" >&2
	tr -d '\r' <"$OUT/console.log" | tail -n 30 >&2
	exit 125
fi
prc=$(sed -n 's/.*rc=\([0-9]*\).*/\1/p' <<<"$end")
echo "run.sh: ${ACCEL[1]} guest boot-to-test ${boot:-?}s, VM wall ${wall}s, payload rc=$prc, $(grep -c . "$OUT/avc.log" || true) AVC denials" >&2
exit "$prc"
