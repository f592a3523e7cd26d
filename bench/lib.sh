# shellcheck shell=bash
# bench/lib.sh: what bench/run.sh and bench/boot.sh share. Messages
# prefixed by $BENCH_NAME, and a run directory $T whose processes are
# started by spawn, recorded in $T/pids and stopped by those PIDs only
# (tests/servers/rgw.sh's _srv_kill checks that each names $T), with the
# RGW under $T/rgw; all of it goes at exit.

say() { echo "${BENCH_NAME:-bench}: $*" >&2; }
fail() {
	say "$*"
	exit 1
}
skip() { fail "$*"; } # vm.sh's vm_requires

# bench_tmp NAME SUBDIR...: makes $T (s3root-NAME.XXXXXX) with pids/,
# log/ and each SUBDIR, and the exit trap that cleans it up.
bench_tmp() {
	local d
	T=$(mktemp -d "${TMPDIR:-/tmp}/s3root-$1.XXXXXX")
	shift
	mkdir -p "$T/pids" "$T/log"
	for d in "$@"; do
		mkdir -p "$T/$d"
	done
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
}

bench_cleanup() {
	local f
	set +e
	for f in "$T"/pids/*.pid; do
		[ -e "$f" ] && _srv_kill "$f" "$T"
	done
	rgw_stop "$T/rgw" >/dev/null 2>&1
	rm -rf "$T"
}

# spawn NAME CMD...: start CMD in the background, its PID in pids/NAME.pid.
spawn() {
	local name=$1
	shift
	"$@" </dev/null >"$T/log/$name.out" 2>&1 &
	echo $! >"$T/pids/$name.pid"
	disown $!
}

# stop NAME: stop what spawn NAME started.
stop() { _srv_kill "$T/pids/$1.pid" "$T"; }
pid_of() { cat "$T/pids/$1.pid"; }
