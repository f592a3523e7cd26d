#!/usr/bin/env bash
# test-hostile-input.sh - every row of tests/hostile-input.tsv against
# s3root: the row's exit status, nothing on stdout, and exactly one line on
# stderr, "s3root: MESSAGE" as the row says. No server is needed: the rows
# fail before any request, and a base config file points at 127.0.0.1:1
# with 1 s timeouts, so that a row accepted by mistake fails fast (with a
# message that is not the row's).
set -eu
. "$(dirname "$0")/functions.sh"
set -f # the rows' $(many ...) words are split, never globbed

[ -x "$S3ROOT" ] || skip "no $S3ROOT (run make)"
TABLE=$TOP/tests/hostile-input.tsv
ENDPOINT=s3.endpoint=http://127.0.0.1:1,s3.io_timeout=1s
ENDPOINT=$ENDPOINT,s3.connect_timeout=1s
# what config and env rows run
OBJ=(stat s3://boot/root.erofs -o "$ENDPOINT")
printf '%s\n' "${ENDPOINT//,/$'\n'}" >"$T/base.conf"

# `s3root init` outside PID 1 must refuse; one that does not mounts over
# /proc and /run. As root, every row runs in a mount namespace of its own,
# so such a binary cannot do that to this machine (without root the mounts
# fail).
ISOLATE=() isolated=1
if [ "$(id -u)" = 0 ]; then
	if unshare --mount --propagation private true 2>/dev/null; then
		ISOLATE=(unshare --mount --propagation private)
	else
		isolated=0
	fi
fi

# rep N TEXT: TEXT N times (doubling: fast for large N).
rep() {
	local n=$1 s=$2 out=
	while [ "$n" -gt 0 ]; do
		[ $((n & 1)) -eq 0 ] || out+=$s
		s+=$s
		n=$((n >> 1))
	done
	printf '%s' "$out"
}

# many N WORD...: the words N times, to be split into that many arguments.
many() {
	local i
	for ((i = 0; i < $1; i++)); do
		printf '%s ' "${@:2}"
	done
}

rows=0 failures=0 lineno=0
while IFS= read -r line || [ -n "$line" ]; do
	lineno=$((lineno + 1))
	case $line in '' | '#'*) continue ;; esac
	tabs=${line//[!$'\t']/}
	[ ${#tabs} -eq 3 ] ||
		fail "hostile-input.tsv:$lineno: needs 4 tab-separated columns"
	where=${line%%$'\t'*} rest=${line#*$'\t'}
	input=${rest%%$'\t'*} rest=${rest#*$'\t'}
	status=${rest%%$'\t'*} want=${rest#*$'\t'}
	eval "words=($input)"
	if [ "${words[0]:-}" = init ] && [ $isolated = 0 ]; then
		echo "hostile-input.tsv:$lineno: skipped (no mount namespace)"
		continue
	fi
	conf=base.conf envs=() cmd=("${OBJ[@]}")
	case $where in
	arg) cmd=(${words[@]+"${words[@]}"}) ;;
	config)
		printf '%b\n' ${words[@]+"${words[@]}"} >"$T/s3root.conf"
		conf=s3root.conf
		;;
	env) envs=(${words[@]+"${words[@]}"}) ;;
	*) fail "hostile-input.tsv:$lineno: unknown where '$where'" ;;
	esac
	rc=0
	(cd "$T" && exec ${ISOLATE[@]+"${ISOLATE[@]}"} timeout 20 env -i \
		PATH="$PATH" S3ROOT_CONFIG=$conf ${envs[@]+"${envs[@]}"} \
		"$S3ROOT" ${cmd[@]+"${cmd[@]}"}) >"$T/out" 2>"$T/err" || rc=$?
	rows=$((rows + 1))
	got=$(head -c 2000 "$T/err")
	why=
	if [ "$rc" != "$status" ]; then
		why="exit status $rc, not $status"
	elif [ -s "$T/out" ]; then
		why="wrote to stdout: $(head -c 200 "$T/out")"
	elif [ "$(wc -l <"$T/err")" != 1 ] || [ "$(tail -c 1 "$T/err")" != "" ]; then
		why="stderr is not one line"
	elif [ "${want#\~ }" != "$want" ]; then
		re="^s3root: (${want#\~ })\$"
		[[ $got =~ $re ]] || why="stderr does not match /$re/"
	elif [ "$got" != "s3root: $want" ]; then
		why="stderr is not 's3root: $want'"
	fi
	if [ -n "$why" ]; then
		failures=$((failures + 1))
		echo "hostile-input.tsv:$lineno: $where $input: $why"
		printf '    stderr: %s\n' "${got:0:500}"
	fi
done <"$TABLE"

[ $rows -ge 100 ] || fail "only $rows rows read from $TABLE"
[ $failures -eq 0 ] || fail "$failures of $rows rows failed"
echo "$rows rows: each failed as expected"
