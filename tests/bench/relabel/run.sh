#!/bin/sh
# Relabel benchmark (issue 4): in one run, on the same trees with a warm
# cache, mcs-chcon against what a user would run instead: chcon -R -h,
# setfiles -F, go-selinux's Chcon (what Podman/Docker run for :z/:Z), and
# the syscall floor (one lsetxattr per inode on precomputed paths, 1 and 2
# threads).  Trees of 100k and 1M inodes ("changed": every inode carries
# another label; "already": every inode carries the target).
#   run.sh full|quick      (quick: 100k only)
# Trees live in $MCSKIT_BENCH_DIR (default /var/tmp/mcskit-bench, ext4)
# and are removed at the end.
set -eu
O=${O:-build}
mode=${1:-full}
B=$O/bench
C=$O/bin/mcs-chcon
dir=${MCSKIT_BENCH_DIR:-/var/tmp/mcskit-bench}
TGT=system_u:object_r:svirt_sandbox_file_t:s0
OLD=system_u:object_r:user_home_t:s0
sizes="100000 1000000"
[ "$mode" = quick ] && sizes=100000
rm -rf "$dir"
mkdir -p "$dir"
trap 'rm -rf "$dir"' EXIT INT TERM
fs=$(stat -f -c %T "$dir")
res="$dir/results"
: >"$res"

now() { date +%s.%N; }
# reset TREE LABEL: every inode to LABEL (not timed)
reset() { "$C" --no-remember --threads 2 -R -h "$2" "$1" 2>/dev/null; }
# verify TREE: a sample of inodes carries the target
verify() {
	for f in "$1" "$1/a00" "$1/a00/d000/f0" "$1/a00/d000/f98" "$1/a00/d001/f500"; do
		v=$(getfattr -h --only-values -n security.selinux "$f" 2>/dev/null | tr -d '\0')
		[ "$v" = "$TGT" ] || { echo "WRONG:$f:$v"; return; }
	done
	echo ok
}
# run NAME SIZE KIND CMD...: time CMD on the tree, record inodes/s
run() {
	name=$1 size=$2 kind=$3
	shift 3
	t0=$(now)
	"$@" >/dev/null 2>"$dir/err" || { echo "  $name failed: $(tail -1 "$dir/err")"; }
	t1=$(now)
	v=$(verify "$tree")
	secs=$(echo "$t1 - $t0" | bc -l)
	rate=$(echo "$inodes / $secs" | bc)
	printf '%s %s %s %s %s %s\n' "$name" "$size" "$kind" "$secs" "$rate" "$v" >>"$res"
	printf '  %-34s %-8s %-8s %8.3f s %10s inodes/s  %s\n' "$name" "$size" "$kind" "$secs" "$rate" "$v"
}

echo "== relabel bench ($mode): $(nproc) cores, trees in $dir ($fs), warm cache, same conditions for every tool"
echo "   note: Debian's go-selinux 1.10 Chcon FOLLOWS symlinks (setxattr, not lsetxattr) and rewrites labels that are already right"
for size in $sizes; do
	tree="$dir/t$size"
	t0=$(now)
	inodes=$("$B/mktree" "$tree" "$size" "$OLD")
	echo "-- tree of $inodes inodes built in $(echo "$(now) - $t0" | bc -l | cut -c1-5) s"
	echo "$tree(/.*)?  $TGT" >"$dir/fc"
	for kind in changed already; do
		lbl=$OLD
		[ $kind = already ] && lbl=$TGT
		if [ $kind = changed ]; then
			reset "$tree" "$lbl"
			out=$("$B/floor" "$tree" "$TGT" 1)
			echo "floor-1 $size changed $(echo "$out" | awk '{print $2, int($1/$2)}') ok" >>"$res"
			printf '  %-34s %-8s %-8s %8.3f s %10s inodes/s\n' "syscall floor, 1 thread" $size changed $(echo "$out" | awk '{print $2, int($1/$2)}')
			reset "$tree" "$lbl"
			out=$("$B/floor" "$tree" "$TGT" 2)
			echo "floor-2 $size changed $(echo "$out" | awk '{print $2, int($1/$2)}') ok" >>"$res"
			printf '  %-34s %-8s %-8s %8.3f s %10s inodes/s\n' "syscall floor, 2 threads" $size changed $(echo "$out" | awk '{print $2, int($1/$2)}')
		fi
		reset "$tree" "$lbl"
		run mcs-chcon-2t-fast $size $kind "$C" --no-remember --threads 2 --shared "$tree"
		reset "$tree" "$lbl"; rm -rf "$dir/state"
		run mcs-chcon-2t-journal $size $kind "$C" --state-dir "$dir/state" --threads 2 --shared "$tree"
		reset "$tree" "$lbl"
		run mcs-chcon-1t-fast $size $kind "$C" --no-remember --threads 1 --shared "$tree"
		reset "$tree" "$lbl"
		run chcon-R-h $size $kind chcon -R -h "$TGT" "$tree"
		reset "$tree" "$lbl"
		run setfiles-F $size $kind setfiles -F "$dir/fc" "$tree"
		reset "$tree" "$lbl"
		run go-selinux-Chcon $size $kind "$B/gochcon" "$tree" "$TGT"
	done
	rm -rf "$tree" "$dir/state"
done

echo
echo "== ratios (inodes/s of mcs-chcon fast, 2 threads, over the other tool; > 1: mcs-chcon faster)"
awk '
{ rate[$1" "$2" "$3] = $5; secs[$1" "$2" "$3] = $4; sizes[$2] = 1; kinds[$3] = 1; names[$1] = 1 }
END {
	for (s in sizes) for (k in kinds) {
		m = rate["mcs-chcon-2t-fast " s " " k]
		for (n in names) if (n != "mcs-chcon-2t-fast" && rate[n" "s" "k] > 0)
			printf "  %-8s %-8s vs %-24s %6.2fx\n", s, k, n, m / rate[n" "s" "k]
	}
}' "$res" | sort

echo
echo "== targets (issue 4)"
g() { awk -v k="$1 $2 $3" '$1" "$2" "$3 == k {print $5}' "$res"; }
verdict() { if [ "$(echo "$1" | bc -l)" = 1 ]; then echo PASS; else echo MISS; fi; }
for size in $sizes; do
	f2=$(g floor-2 $size changed)
	for m in mcs-chcon-2t-fast mcs-chcon-2t-journal; do
		c=$(g $m $size changed) a=$(g $m $size already) go=$(g go-selinux-Chcon $size already)
		printf '  %-8s %-22s changed %9s/s = %.2f of the 2-thread floor (target >= 0.9): %s\n' $size $m "$c" "$(echo "$c / $f2" | bc -l)" "$(verdict "$c >= 0.9 * $f2")"
		printf '  %-8s %-22s already %9s/s (target >= 550000): %s; %.2fx go-selinux (target >= 2): %s\n' $size $m "$a" "$(verdict "$a >= 550000")" "$(echo "$a / $go" | bc -l)" "$(verdict "$a >= 2 * $go")"
	done
	c1=$(g mcs-chcon-1t-fast $size changed)
	printf '  %-8s %-22s changed %9s/s (target >= 200000): %s\n' $size mcs-chcon-1t-fast "$c1" "$(verdict "$c1 >= 200000")"
done
if [ "$mode" = full ]; then
	s1=$(awk '$1=="mcs-chcon-2t-fast" && $2==100000 && $3=="changed" {print $4}' "$res")
	s2=$(awk '$1=="mcs-chcon-2t-fast" && $2==1000000 && $3=="changed" {print $4}' "$res")
	printf '  linearity: 100k -> 1M changed took %.2fx the time for 10x the inodes (target ~10x, <= 12x): %s\n' \
		"$(echo "$s2 / $s1" | bc -l)" "$(verdict "$s2 / $s1 <= 12")"
fi
grep -q WRONG "$res" && { echo "some tool left a wrong label:"; grep WRONG "$res"; exit 1; }
exit 0
