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
