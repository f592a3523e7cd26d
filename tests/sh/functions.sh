# shellcheck shell=bash
# Shared helpers for tests/sh/test-*.sh (sourced; the tests run with set -eu).
#
# A test that lacks something it needs exits 77 (skip), always through skip.
# Under CI (CI=true) every skip is a failure: what a test needs is what
# `make deps` installs, `make` builds or CI provides (root), and CI must never
# turn green by skipping.

TOP=$(cd "$(dirname "$0")/../.." && pwd)
S3ROOT=${S3ROOT:-$TOP/build/s3root}
# Debian's python3 (botocore lives in its dist-packages), not a pyenv shim.
PY3=/usr/bin/python3
# No test asks the machine's own instance metadata service (a cloud CI
# runner's role would turn anonymous requests into signed ones);
# tests/sh/test-imds.sh runs its own.
export AWS_EC2_METADATA_DISABLED=true

# Each test works in its own directory, removed on exit.
T=$(mktemp -d "${TMPDIR:-/tmp}/s3root-test.XXXXXX")
_cleanups=""

# at_exit CMD: run CMD (in reverse order of registration) when the test ends.
at_exit() {
	_cleanups="$1
$_cleanups"
}

_run_cleanups() {
	local rc=$?
	set +e
	printf '%s\n' "$_cleanups" | while IFS= read -r c; do
		[ -n "$c" ] && eval "$c"
	done
	rm -rf "$T"
	exit $rc
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# skip WHY: the test cannot run here (exit 77); under CI=true, a failure.
skip() {
	[ "${CI:-}" != true ] || fail "$* (CI=true: a skip is a failure)"
	echo "SKIP: $*" >&2
	exit 77
}

# requires CMD...: commands that `make deps` installs.
requires() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 ||
			skip "missing $c (make deps installs it)"
	done
}

# requires_py MODULE...: modules for Debian's python3.
requires_py() {
	local m
	for m in "$@"; do
		"$PY3" -c "import $m" 2>/dev/null ||
			skip "missing python module $m (make deps installs it)"
	done
}

# requires_root WHAT: WHAT (debootstrap, chroot, ...) needs root.
requires_root() {
	[ "$(id -u)" = 0 ] || skip "$* must run as root"
}

# expect_fail WANT_PATTERN CMD...: CMD must exit non-zero with one stderr line
# matching WANT_PATTERN (grep -E).
expect_fail() {
	local want=$1 rc=0
	shift
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" -ne 0 ] || fail "expected failure: $*"
	grep -Eq -- "$want" "$T/err" ||
		fail "stderr of '$*' lacks /$want/: $(cat "$T/err")"
}

# wait_for SECONDS CMD...: poll CMD until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] || return 1
		sleep 0.1
	done
}

# serve_start SOURCE [OPTIONS]: `s3root serve SOURCE` on the unix socket
# $T/s.sock (options: one -o list), stderr in $T/serve.log; waits until it
# listens. Sets serve_pid.
serve_pid=
serve_start() {
	# the log of the last serve goes first: the shell truncates it only
	# in the child, and its "listening" line must not be taken for ours
	rm -f "$T/s.sock" "$T/serve.log"
	"$S3ROOT" serve "$1" --listen "unix:$T/s.sock" ${2:+-o "$2"} \
		2>"$T/serve.log" &
	serve_pid=$!
	at_exit "kill $serve_pid 2>/dev/null"
	wait_for 50 grep -q "^listening on unix:$T/s.sock" "$T/serve.log" ||
		fail "serve did not start: $(cat "$T/serve.log")"
}

# serve_stop: SIGTERM; serve must exit 0 and remove its socket.
serve_stop() {
	kill "$serve_pid"
	wait "$serve_pid" || fail "serve exited with $? on SIGTERM"
	[ ! -e "$T/s.sock" ] || fail "socket left behind"
}
