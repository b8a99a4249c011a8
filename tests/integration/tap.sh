# tap.sh - the TAP helpers the shell suites source (from the top of the
# tree: `. tests/integration/tap.sh`).  They count in $n, set $fail on a
# failure, and the suite ends with `echo "1..$n"; exit $fail`.
#   ok DESC / notok DESC       one result
#   check DESC CONDITION       eval CONDITION; on failure also show the
#                              suite's $d/err when it keeps one
#   t DESC RC REGEX CMD...     run CMD: its exit status must be RC and its
#                              output (stdout and stderr) match REGEX
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; }
check() {
	if eval "$2"; then
		ok "$1"
	else
		notok "$1"
		[ -n "${d:-}" ] && [ -s "$d/err" ] && sed 's/^/#   /' "$d/err"
	fi
	return 0
}
t() {
	_desc=$1 _want=$2 _re=$3
	shift 3
	_out=$("$@" 2>&1)
	_got=$?
	if [ "$_got" -eq "$_want" ] && printf '%s\n' "$_out" | grep -Eq -- "$_re"; then
		ok "$_desc"
	else
		notok "$_desc (rc $_got, want $_want)"
		printf '%s\n' "$_out" | sed 's/^/#   /'
	fi
	return 0
}
