#!/usr/bin/env bash
# Runs the unit tests (the binary given as $1, under $UNIT_RUNNER if set: a
# qemu-user for a cross build), those of $CROSS_UNIT (a command: another
# architecture's unit tests under its qemu-user), every tests/sh/test-*.sh
# (or those named in $TESTS; TESTS= runs none) and, with $FUZZ_BUILD set, a
# short run of each fuzz target (SMOKE_TIME seconds, FUZZ_JOBS at a time:
# the machine's cores); then prints "N passed, N failed, N skipped".
set -u
cd "$(dirname "$0")/.." || exit 2
unit=$1
passed=0 failed=0 skipped=0 failures=""

# unit_run NAME CMD...: one unit test binary; its counts join the total
unit_run() {
	local name=$1 out rc line
	shift
	out=$("$@" 2>&1)
	rc=$?
	printf '%s\n' "$out"
	line=$(printf '%s\n' "$out" | tail -n 1)
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		BASH_REMATCH=()
	fi
	if [ $rc -ne 0 ] && [ "${BASH_REMATCH[2]:-0}" = 0 ]; then
		failed=$((failed + 1))
		failures="$failures $name"
	fi
}

# shellcheck disable=SC2086 # a runner may have options
unit_run unit ${UNIT_RUNNER:-} "$unit"
# a name the runner does not know fails it (exit 2, one line naming it)
# instead of running nothing and passing
# shellcheck disable=SC2086 # a runner may have options
out=$(${UNIT_RUNNER:-} "$unit" no-such-test 2>&1)
rc=$?
if [ $rc = 2 ] &&
	printf '%s\n' "$out" | grep -qx "unit: no suite or test is named 'no-such-test'"; then
	passed=$((passed + 1))
	echo "PASS unit-unknown-name"
else
	failed=$((failed + 1)); failures="$failures unit-unknown-name"
	echo "FAIL unit-unknown-name: exit $rc, want 2 and the name:"
	printf '%s\n' "$out" | tail -n 5 | sed 's/^/    /'
fi
if [ -n "${CROSS_UNIT:-}" ]; then
	echo "unit tests: $CROSS_UNIT"
	# shellcheck disable=SC2086
	unit_run cross-unit $CROSS_UNIT
fi

# in_suite TEST: whether TEST runs in this suite (SUITE: bearssl, the
# default, mbedtls or san). A test names the suites it is for in a line
# "# suites: bearssl mbedtls"; without one, it runs in all. A VM boots
# the static binary: under SAN it would boot the BearSSL suite's again,
# and a VM test without TLS gains nothing from the mbedTLS build.
in_suite() {
	local want
	want=$(sed -n 's/^# suites: //p' "$1" | head -n 1)
	[ -z "$want" ] && return 0
	case " $want " in *" ${SUITE:-bearssl} "*) return 0 ;; esac
	return 1
}

for t in ${TESTS-tests/sh/test-*.sh}; do
	name=$(basename "$t" .sh)
	if ! in_suite "$t"; then
		echo "ELSEWHERE $name (runs in: $(sed -n 's/^# suites: //p' "$t"))"
		continue
	fi
	start=$(date +%s)
	bash "$t" >"/tmp/s3root-$name.log" 2>&1
	rc=$?
	secs=$(($(date +%s) - start))
	case $rc in
	0) passed=$((passed + 1)); echo "PASS $name (${secs}s)" ;;
	77) skipped=$((skipped + 1))
	    echo "SKIP $name: $(grep '^SKIP' "/tmp/s3root-$name.log" | tail -n 1)" ;;
	*) failed=$((failed + 1)); failures="$failures $name"
	   echo "FAIL $name (${secs}s), last lines of /tmp/s3root-$name.log:"
	   tail -n 30 "/tmp/s3root-$name.log" | sed 's/^/    /' ;;
	esac
done

# the fuzz targets, FUZZ_JOBS (the machine's cores) at a time: each is one
# process fuzzing for SMOKE_TIME seconds on a copy of its own corpus
if [ -n "${FUZZ_BUILD:-}" ]; then
	bins=("$FUZZ_BUILD"/fuzz_*)
	step=${FUZZ_JOBS:-$(nproc)}
	for ((i = 0; i < ${#bins[@]}; i += step)); do
		pids=()
		for bin in "${bins[@]:i:step}"; do
			name=$(basename "$bin")
			tests/fuzz/run.sh "$FUZZ_BUILD" "${SMOKE_TIME:-10}" "$name" \
				>"/tmp/s3root-$name.log" 2>&1 &
			pids+=($!)
		done
		j=0
		for bin in "${bins[@]:i:step}"; do
			name=$(basename "$bin")
			if wait "${pids[j]}"; then
				passed=$((passed + 1))
				echo "PASS $(cat "/tmp/s3root-$name.log")"
			else
				failed=$((failed + 1)); failures="$failures $name"
				echo "FAIL $name:"
				sed 's/^/    /' "/tmp/s3root-$name.log"
			fi
			j=$((j + 1))
		done
	done
fi

[ -z "$failures" ] || echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
