# shellcheck shell=bash
# tests/servers/imds.sh - imds.py, an instance metadata service handing out
# the suite's RGW STS credentials (sourced after tests/sh/functions.sh and
# rgw.sh, once rgw_start ran).
#
#   imds_start DIR [ARGS...]  starts imds.py (ARGS: --duration SECS,
#                             --region R, --bind ADDR); sets IMDS_PORT,
#                             IMDS_ENDPOINT (http://127.0.0.1:PORT),
#                             IMDS_LOG, IMDS_PID (also in DIR/pid); the
#                             secrets it hands out go to DIR/secrets
#   imds_mode MODE            the answers from now on (normal, badjson,
#                             huge, missing, past, norole, noroles, forget,
#                             down)
#   imds_stop DIR             SIGTERM to the recorded PID
#   imds_count ERE            log lines matching ERE

imds_start() {
	local dir=$1
	shift
	mkdir -p "$dir"
	rm -f "$dir/port"
	: >"$dir/mode"
	"$PY3" "$TOP/tests/servers/imds.py" --sts-endpoint "$RGW_STS_ENDPOINT" \
		--role-arn "$RGW_ROLE_ARN" --port-file "$dir/port" \
		--log "$dir/log" --mode-file "$dir/mode" \
		--secrets "$dir/secrets" "$@" \
		>/dev/null 2>"$dir/err" &
	IMDS_PID=$!
	echo "$IMDS_PID" >"$dir/pid"
	wait_for 10 test -s "$dir/port" ||
		fail "imds.py did not start: $(cat "$dir/err")"
	IMDS_PORT=$(cat "$dir/port")
	IMDS_ENDPOINT=http://127.0.0.1:$IMDS_PORT
	IMDS_LOG=$dir/log
	IMDS_DIR=$dir
	export IMDS_PORT IMDS_ENDPOINT IMDS_LOG IMDS_PID IMDS_DIR
}

imds_mode() {
	echo "$1" >"$IMDS_DIR/mode"
}

# imds_stop DIR: the server recorded in DIR/pid, if it is ours still.
imds_stop() {
	local pid
	pid=$(cat "$1/pid" 2>/dev/null) || return 0
	grep -qaF "imds.py" "/proc/$pid/cmdline" 2>/dev/null || return 0
	kill "$pid" 2>/dev/null
	rm -f "$1/pid"
}

imds_count() {
	grep -cE -- "$1" "$IMDS_LOG" || true
}
