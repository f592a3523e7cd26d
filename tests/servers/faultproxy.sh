# shellcheck shell=bash
# tests/servers/faultproxy.sh - faultproxy.py in front of the suite's RGW,
# for tests (sourced after tests/sh/functions.sh and rgw.sh).
#
#   proxy_start NAME RULE...  a fresh proxy with these rules (and the
#                             options in the array proxy_opts, e.g. --port
#                             or --tls); sets proxy_port, proxy_pid, plog
#                             (its log) and ep (the s3.endpoint option)
#   proxy_stop                SIGTERM; the proxy must exit 0
#   requests ERE              how many requests have a line matching ERE
#                             in $plog

proxy_opts=()

# proxy_kill PID: stop a proxy of this test left running (cleanup path).
proxy_kill() {
	grep -qaF "$T/" "/proc/$1/cmdline" 2>/dev/null && kill "$1"
}

proxy_start() {
	local name=$1 r args=()
	shift
	for r; do args+=(--fault "$r"); done
	rm -f "$T/$name.port"
	"$PY3" "$TOP/tests/servers/faultproxy.py" --upstream "$RGW_ENDPOINT" \
		--port-file "$T/$name.port" --log "$T/$name.log" \
		--seed "${SEED:-1}" ${proxy_opts[@]+"${proxy_opts[@]}"} \
		${args[@]+"${args[@]}"} >/dev/null 2>"$T/$name.proxy-err" &
	proxy_pid=$!
	at_exit "proxy_kill $proxy_pid"
	wait_for 10 test -s "$T/$name.port" ||
		fail "$name: no proxy: $(cat "$T/$name.proxy-err")"
	proxy_port=$(cat "$T/$name.port")
	# shellcheck disable=SC2034 # for the test that sources this
	ep="s3.endpoint=http://127.0.0.1:$proxy_port"
	plog=$T/$name.log
}

# proxy_stop: SIGTERM must stop it cleanly, even with a handler asleep.
proxy_stop() {
	local rc=0
	kill "$proxy_pid"
	wait "$proxy_pid" || rc=$?
	[ $rc -eq 0 ] || fail "the proxy exited with $rc on SIGTERM"
}

requests() {
	grep -E "^#[0-9]+ .*($1)" "$plog" | grep -o '^#[0-9]*' | sort -u | wc -l
}
