#!/usr/bin/env bash
# Plain http:// sources (no signing) against a server that ignores Range
# and answers 200 with the whole file (Python's http.server): the bytes
# asked for are taken from the full body, never the wrong ones. Without an
# ETag the object is pinned by Last-Modified.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"

mkdir "$T/www"
head -c 3000000 /dev/urandom >"$T/www/img"
port=$("$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY3" -m http.server --bind 127.0.0.1 --directory "$T/www" "$port" \
	>"$T/http.log" 2>&1 &
pid=$!
at_exit "kill $pid"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/img" ||
	fail "http.server did not start"
export S3ROOT_CONFIG=/dev/null
url=http://127.0.0.1:$port/img

"$S3ROOT" stat "$url" | grep -qx 'size: 3000000' || fail "stat"
"$S3ROOT" get "$url" --output "$T/out"
cmp "$T/out" "$T/www/img" || fail "whole get"
# ranges: each request is answered 200 with all 3 MB
"$S3ROOT" get "$url" --range 1234567:700000 -o s3.chunk=4K >"$T/part"
cmp "$T/part" <(tail -c +1234568 "$T/www/img" | head -c 700000) ||
	fail "range from a 200 answer"
grep -q '"GET /img HTTP/1.1" 200' "$T/http.log" || fail "no 200 answers seen"
expect_fail "404" "$S3ROOT" get "http://127.0.0.1:$port/none"
echo "plain http source: ok"

# Weak pinning (tests/servers/weakhttp.py: no ETag, Range ignored): the
# Last-Modified and the size are checked on every answer, an answer of
# unknown length is counted to its end before a byte is used, and a
# server with nothing to pin by is refused unless s3root.unpinned.
head -c 3000000 /dev/urandom >"$T/other"
head -c 3001000 /dev/urandom >"$T/longer"
weak_pid=
weak_start() {
	rm -f "$T/weak.port"
	"$PY3" "$TOP/tests/servers/weakhttp.py" --dir "$T/www" \
		--port-file "$T/weak.port" "$@" >/dev/null 2>"$T/weak.log" &
	weak_pid=$!
	at_exit "kill $weak_pid 2>/dev/null"
	wait_for 10 test -s "$T/weak.port" || fail "weakhttp.py did not start"
	weak=http://127.0.0.1:$(cat "$T/weak.port")/img
}
weak_stop() { kill "$weak_pid" && wait "$weak_pid" 2>/dev/null || true; }

weak_start --no-last-modified
expect_fail "neither a strong ETag nor Last-Modified.*s3root.unpinned" \
	"$S3ROOT" get "$weak" --output "$T/never"
[ ! -e "$T/never" ] || fail "unpinned: a file was written"
"$S3ROOT" get "$weak" -o s3root.unpinned,s3.chunk=256K --output "$T/out" \
	2>"$T/unpinned.err" || fail "s3root.unpinned: $(cat "$T/unpinned.err")"
cmp "$T/out" "$T/www/img" || fail "s3root.unpinned: bytes"
[ "$(grep -c 'NOT PINNED' "$T/unpinned.err")" -eq 1 ] ||
	fail "s3root.unpinned: not said once: $(cat "$T/unpinned.err")"
weak_stop

# replaced between the HEAD and the GET: another Last-Modified
weak_start --swap "$T/other" --lm-shift 1
expect_fail "200 answered with Last-Modified .*, not the pinned .*: the object was replaced" \
	"$S3ROOT" get "$weak" --output "$T/never"
[ ! -e "$T/never" ] || fail "Last-Modified changed: a file was written"
weak_stop

# a 200 without Content-Length: the right one used, another size refused
weak_start --unsized
"$S3ROOT" get "$weak" --range 1234567:700000 -o s3.chunk=64K >"$T/part" ||
	fail "unsized 200"
cmp "$T/part" <(tail -c +1234568 "$T/www/img" | head -c 700000) ||
	fail "unsized 200: bytes"
weak_stop
weak_start --unsized --swap "$T/longer"
expect_fail "200 without Content-Length had 3001000 bytes, not the pinned 3000000: the object was replaced" \
	"$S3ROOT" get "$weak" --range 1234567:700000 -o s3.chunk=64K
[ ! -s "$T/out" ] || fail "unsized 200 of another size: bytes were written"
weak_stop
echo "weak pinning: ok"
