#!/usr/bin/env bash
# s3root get/stat through tests/servers/faultproxy.py in front of a real Ceph
# RGW: 5xx bursts, a region redirect, connections reset (before the answer or
# mid-body), stalled or cut short, a wrong Content-Range, a 200 for a ranged
# GET and a server clock an hour ahead must all end in the exact bytes (after
# a retry warning where one was needed); endless 503s, a replaced object and
# another version's bytes must fail with their message. Each case has its own proxy,
# whose log must show that the fault struck: no case can pass vacuously.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/servers/faultproxy.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null

export S3ROOT_CONFIG=/dev/null
# the proxy re-signs with the secret too (full-200 drops the signed Range)
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL

# At s3.chunk=64K a get asks for 64 chunks (4 MiB) at a time: request #1 is
# the HEAD, #2 and #3 the two GETs (when nothing fails).
size=$((6 * 1024 * 1024 + 12345))
head -c $size /dev/urandom >"$T/obj"
s3ctl mb bkt >/dev/null
s3ctl put bkt obj "$T/obj" >/dev/null

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# recover NAME OPTS LOGPAT WARNPAT RULE...: get through a proxy with RULEs
# and -o OPTS. The file must be the object, the proxy's log must match LOGPAT
# (the fault struck) and stderr WARNPAT; WARNPAT "" wants stderr empty (no
# retry was due), "?" does not look (see the case).
recover() {
	local name=$1 opts=$2 logpat=$3 warnpat=$4 t0 ms
	shift 4
	proxy_start "$name" "$@"
	rm -f "$T/got"
	t0=$(now_ms)
	"$S3ROOT" get s3://bkt/obj -o "$ep,s3.chunk=64K$opts" \
		--output "$T/got" 2>"$T/$name.err" ||
		fail "$name: get failed: $(cat "$T/$name.err" "$plog")"
	ms=$(($(now_ms) - t0))
	proxy_stop
	cmp -s "$T/got" "$T/obj" || fail "$name: wrong bytes"
	grep -Eq -- "$logpat" "$plog" ||
		fail "$name: no /$logpat/ in the proxy's log: $(cat "$plog")"
	case $warnpat in
	"?") ;;
	"") [ ! -s "$T/$name.err" ] ||
		fail "$name: unexpected stderr: $(cat "$T/$name.err")" ;;
	*) grep -Eq -- "$warnpat" "$T/$name.err" ||
		fail "$name: stderr lacks /$warnpat/: $(cat "$T/$name.err")" ;;
	esac
	printf '%-10s recovered in %4d ms: %2d requests, %2d struck (%s)\n' \
		"$name" "$ms" "$(requests '')" "$(requests 'stalling|fault=[^p]')" \
		"${*:-no fault}"
}

G='GET s3://bkt/obj'
recover pass "" '^#3 .* conn=1 GET .*-6303800 fault=pass status=206' ""
grep -q ' conn=2 ' "$plog" && fail "the client did not keep its connection"
recover 503 "" '^#4 .* GET .*=0-4194303 fault=503 status=503' \
	"$G: 503 SlowDown; retrying" 503:2-4
recover 500 "" '^#2 .* HEAD .*fault=500 status=500' \
	"HEAD s3://bkt/obj: 500 .*; retrying" 500:1-2
recover 502 "" '^#2 .* GET .*fault=502 status=502' \
	"$G: 502 .*; retrying" 502:2-2
recover 504 "" '^#4 .* GET .*=4194304-6303800 fault=504 status=504' \
	"$G: 504 GatewayTimeout; retrying" 504:3-4
# the region is learnt once: no request is signed for the old one afterwards
recover redirect "" '^#1 .* HEAD .*fault=redirect-301 status=301' "" \
	redirect:eu-west-1
grep -q 'fault=redirect-400' "$plog" && fail "signed for the old region again"
grep -q '^#4 .* GET .*fault=pass status=206' "$plog" || fail "redirect: GETs"
# S3 answers a HEAD signed for the wrong region with a bodiless 400 that
# names the region; a retry warning after the redirect is still shown
recover redirect-400 "" '^#1 .* HEAD .*fault=redirect-400 status=400' \
	"s3://bkt/obj: 503 .*; retrying" redirect:eu-west-1:400 503:2-3
# the second reset hits the retry, which asked only for the missing part
recover reset-body "" '^#3 .* GET .*-4194303 fault=reset-body' \
	"$G: body: .*; retrying" reset-body:2
recover bad-range "" '^#3 .* GET .*=0-4194303 fault=bad-range' \
	"$G: 206 with Content-Range 'bytes 1-4194304/6303801' for bytes 0-" \
	bad-range:2
# a 200 with the whole object is taken as it is, without a retry
recover full-200 "" '^#3 .* GET .*=4194304-6303800 fault=full-200.* status=200' \
	"" full-200:all
grep -q '^#4 ' "$plog" && fail "full-200: a request too many"

# stalls: 4 s of silence against a 2 s request timeout, before the head of
# the HEAD (a new connection), of the first GET (a kept one), and in the
# middle of a body; 1 s of silence must only be waited for
rt=,s3.request_timeout=2
recover stall-head "$rt" '^#1 .* HEAD /bkt/obj range=-: stalling 4s' \
	"HEAD s3://bkt/obj: .*timed out; retrying" stall:4:1
# a timeout on a kept connection is a failure like any other (not taken
# for a connection the server closed while it was idle)
recover stall-get "$rt" '^#2 .* GET /bkt/obj range=.*: stalling 4s' \
	"$G: .*timed out; retrying" stall:4:2-2
recover stall-body "$rt" '^#2 .* GET /bkt/obj range=.*: stalling 4s' \
	"$G: body: .*timed out; retrying" stall-body:4:1
recover stall-1s "$rt" '^#2 .* GET .*fault=stall status=206' "" stall:1:2-2
grep -q '^#4 ' "$plog" && fail "stall-1s: retried a request that was answered"

# a reset before any answer, on a new connection (a reset on a kept one is
# taken for a connection the server closed while idle: reconnect at once)
recover reset "" '^#1 .* HEAD .*fault=reset status=reset' \
	"HEAD s3://bkt/obj: .*; retrying" reset:1
# a body that ends early with a clean close
recover truncate "" '^#3 .* GET .*-4194303 fault=truncate' \
	"$G: body: connection closed inside the body; retrying" truncate:2
# a server clock an hour ahead: learnt from its Date, every request after
# signed for it (the proxy re-signs those for the real time)
recover skew "" '^#1 .* HEAD .*fault=skew-403 status=403' \
	"clock is off by \+3600 s from the server's" skew:3600:all
[ "$(requests 'fault=skew-403')" -eq 1 ] || fail "skew: learnt more than once"

# faults at random (25 GETs of 256 KiB)
recover random ",s3.chunk=4K" 'fault=(503|500|reset-body|bad-range)' \
	'; retrying' 503:10% 500:5% reset-body:10% bad-range:10% full-200:10%

# the region a redirect names, as stat reports it
proxy_start stat redirect:eu-west-1
"$S3ROOT" stat s3://bkt/obj -o "$ep" >"$T/stat" 2>"$T/stat.err" ||
	fail "stat: $(cat "$T/stat.err")"
proxy_stop
grep -qx 'region: eu-west-1' "$T/stat" || fail "stat region: $(cat "$T/stat")"
grep -q '^#1 .*fault=redirect-301' "$plog" || fail "stat: no redirect"
echo "stat after a redirect: region: eu-west-1"

# endless 503s: give up when s3.io_timeout has passed
proxy_start endless 503:2-
t0=$(now_ms)
expect_fail "GET s3://bkt/obj: 503 SlowDown \(gave up after [0-9]+ attempts" \
	"$S3ROOT" get s3://bkt/obj -o "$ep,s3.chunk=64K,s3.io_timeout=3" \
	--output "$T/never"
ms=$(($(now_ms) - t0))
proxy_stop
[ $ms -lt 10000 ] || fail "endless 503: gave up only after $ms ms"
[ "$(grep -c 'fault=503 status=503' "$plog")" -ge 3 ] ||
	fail "endless 503: too few attempts: $(cat "$plog")"
ls "$T"/never* >/dev/null 2>&1 && fail "endless 503: left a file"
echo "endless 503 failed in $ms ms: $(grep -o 'gave up.*' "$T/err")"

# another version's bytes from a server that ignored If-Match
proxy_start etag-change etag-change:1
expect_fail "GET s3://bkt/obj: 206 answered with ETag \"0123456789abcdef.*, not the pinned \"" \
	"$S3ROOT" get s3://bkt/obj -o "$ep,s3.chunk=64K" --output "$T/never"
# the proxy logs the request once its handler notices the client left
wait_for 10 grep -q '^#2 .* GET .*fault=etag-change.* status=206' "$plog" ||
	fail "etag-change: did not strike: $(cat "$plog")"
proxy_stop
ls "$T"/never* >/dev/null 2>&1 && fail "etag-change: left a file"
echo "another version refused: $(grep -o 'answered.*' "$T/err" | head -c 70)..."

# a 206 for an object of another size: replaced, as for a 412 (at once,
# not retried until s3.io_timeout)
proxy_start other-size other-size:1
t0=$(now_ms)
expect_fail "GET s3://bkt/obj: 206 says the object has 6303802 bytes, not the pinned 6303801: the object was replaced" \
	"$S3ROOT" get s3://bkt/obj -o "$ep,s3.chunk=64K,s3.io_timeout=30" \
	--output "$T/never"
ms=$(($(now_ms) - t0))
proxy_stop
grep -q '^#2 .* GET .*fault=other-size.* status=206' "$plog" ||
	fail "other-size: did not strike: $(cat "$plog")"
[ $ms -lt 10000 ] || fail "other-size: failed only after $ms ms"
ls "$T"/never* >/dev/null 2>&1 && fail "other-size: left a file"
echo "a 206 of another size failed in $ms ms"

# a 412 on a ranged GET: the object was replaced, never mix versions
proxy_start etag etag:1
expect_fail "GET s3://bkt/obj: 412: the object was replaced" \
	"$S3ROOT" get s3://bkt/obj -o "$ep,s3.chunk=64K" --output "$T/never"
proxy_stop
grep -q '^#2 .* GET .*fault=etag status=412' "$plog" || fail "etag: no 412"
grep -q '^#3 ' "$plog" && fail "etag: retried after a 412"
ls "$T"/never* >/dev/null 2>&1 && fail "etag: left a file"
echo "412 failed at once: $(head -c 60 "$T/err")..."
