#!/bin/bash
# vm-check.sh - the `make vm-check` driver: build or reuse the cached image
# with our policy modules preloaded, boot it once with our build outputs and
# the mcskit_* tests attached, run them under the enforcing kernel, print the
# TAP summary, the boot time and the total time.  Fails when anything fails.
#   vm-check.sh BUILD_DIR RESULTS_DIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
HOOKS=$(dirname "$HERE")
BUILD=$(readlink -f "${1:-build}")
RES=${2:-$BUILD/vm-check}
T0=$(date +%s.%N)
el() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

mods=()
for f in "$BUILD"/policy/*.pp "$HOOKS"/policy/*.cil; do [ -f "$f" ] && mods+=("$f"); done
# glue for the mcskit container types only when their modules were built
ls "$BUILD"/policy/*.pp >/dev/null 2>&1 && mods+=("$HOOKS"/policy-mcskit/*.cil)
# MCSKIT_VM_EXTRA_MODULES: more modules to preload (trying a module by hand)
for f in ${MCSKIT_VM_EXTRA_MODULES:-}; do mods+=("$f"); done
# the packages of `make deb` go into the image (tests/mcskit_pkg)
debs=$(ls "$BUILD"/deb/libmcs0_*.deb "$BUILD"/deb/mcskit_*.deb 2>/dev/null | tr '\n' ' ' || true)
t=$(date +%s.%N)
IMG=$(MCSKIT_VM_DEBS="$debs" "$HERE/image.sh" "${mods[@]}" | tail -1)
img_time=$(el "$t")

P=$(mktemp -d /tmp/mcskit-payload.XXXXXX)
trap 'rm -rf "$P"' EXIT
mkdir -p "$P/hooks" "$P/build"
cp -a "$HOOKS/mcskit-testsuite" "$HOOKS/policy" "$HOOKS/policy-mcskit" "$HOOKS/tests" "$P/hooks/"
for d in "$P"/hooks/tests/mcskit_*/; do
	if [ -f "$d/Makefile" ]; then make -s -C "$d"; fi
done
for d in bin lib policy; do [ -d "$BUILD/$d" ] && cp -a "$BUILD/$d" "$P/build/"; done
# MCSKIT_TESTS="mcskit_net mcskit_policy": run only these tests in the VM
if [ -n "${MCSKIT_TESTS:-}" ]; then
	printf 'export MCSKIT_TESTS="%s"\n' "$MCSKIT_TESTS" >"$P/tests.env"
fi
cat >"$P/run.sh" <<'EOS'
# in the VM, as root in unconfined_t, cwd = the unpacked payload
export MCSKIT_BUILD=$PWD/build PATH=$PWD/build/bin:$PATH LD_LIBRARY_PATH=$PWD/build/lib
[ -f ./tests.env ] && . ./tests.env
./hooks/mcskit-testsuite run >"$MCSKIT_OUT/tap.txt" 2>&1
rc=$?
cat "$MCSKIT_OUT/tap.txt"
exit $rc
EOS

# A guest that reported no test at all (TCG emulation has hung the guest
# kernel in a soft lockup before any test ran) is booted once more; a run
# with any test result counts as it is.
tap=$RES/out/tap.txt
for attempt in 1 2; do
	rm -rf "$RES"; mkdir -p "$RES"
	rc=0
	"$HERE/run.sh" -i "$IMG" -o "$RES" -t "${MCSKIT_VM_TIMEOUT:-900}" "$P" || rc=$?
	[ "$rc" != 0 ] && ! grep -qE '^ *(not )?ok ' "$tap" 2>/dev/null || break
	echo "vm-check: attempt $attempt: no test reported (rc=$rc), booting again"
	tail -5 "$RES/run.log" 2>/dev/null | sed 's/^/  | /' || true
done
pass=$(grep -cE '^ *ok ' "$tap" 2>/dev/null || true)
fail=$(grep -E '^ *not ok ' "$tap" 2>/dev/null | grep -vc '# TODO' || true)
todo=$(grep -E '^ *not ok .*# TODO' "$tap" 2>/dev/null | grep -c . || true)
skip=$(grep -ciE '^ *ok .*# skip|skipped:' "$tap" 2>/dev/null || true)
echo "vm-check: TAP: ${pass:-0} ok (${skip:-0} of them skips), ${fail:-0} not ok, ${todo:-0} known failures (TODO); $(grep -E '^(Result|Files=)' "$tap" 2>/dev/null | tr '\n' ' ')"
[ "$rc" = 0 ] || { echo "vm-check: payload rc=$rc; log:"; sed 's/^/  | /' "$RES/run.log"; }
echo "vm-check: image ${img_time}s ($(basename "$IMG")), $(cat "$RES/boot.txt" 2>/dev/null), $(grep -c . "$RES/avc.log" 2>/dev/null || echo 0) AVC denials (avc.log), total $(el "$T0")s; results in $RES"
exit "$rc"
