#!/usr/bin/env bash
# tests/fuzz/run.sh BUILD_DIR SECONDS [fuzz_NAME]: runs each fuzz target (or
# the one named) for SECONDS on a
# copy of its corpus (tests/fuzz/corpus/NAME), after replaying the crash
# regressions (tests/fuzz/regress/NAME/*). A crash fails the run and leaves
# the input in tests/fuzz/crash-NAME-*.
set -u
cd "$(dirname "$0")/../.." || exit 2
dir=$1 secs=$2 only=${3:-fuzz_*} failed=0
for bin in "$dir"/$only; do
	name=${bin##*/fuzz_}
	work=$(mktemp -d)
	cp -r "tests/fuzz/corpus/$name/." "$work/" 2>/dev/null
	if [ -d "tests/fuzz/regress/$name" ] &&
		ls "tests/fuzz/regress/$name/"* >/dev/null 2>&1; then
		"$bin" "tests/fuzz/regress/$name/"* >"$work.log" 2>&1 || {
			echo "fuzz $name: a regression input crashes"
			tail -n 20 "$work.log"
			failed=1
		}
	fi
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="tests/fuzz/crash-$name-" "$work" \
		>"$work.log" 2>&1
	rc=$?
	runs=$(grep -o 'Done [0-9]* runs' "$work.log" | tail -n 1)
	if [ $rc -ne 0 ]; then
		echo "fuzz $name: FAILED (exit $rc)"
		grep -A 15 'ERROR\|runtime error' "$work.log" | head -n 30
		failed=1
	else
		echo "fuzz $name: ok (${runs:-no count}, ${secs}s)"
	fi
	rm -rf "$work" "$work.log"
done
exit $failed
