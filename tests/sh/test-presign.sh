#!/usr/bin/env bash
# Presigned URLs as sources against a real Ceph RGW, which checks their
# signatures: URLs made by botocore (generate_presigned_url) and by
# `s3root presign` (path and virtual-host style, with a session token),
# read by `get` (bytes exact) and `serve` + nbdcopy; such a URL allows GET
# only (HEAD is refused), an expired one says when it expired (and
# s3.prefetch=all keeps serving past it), and its
# signature appears in no message, output or export name. Any URL whose
# HEAD is refused (403, 405) opens with a GET of byte 0 instead.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd curl nbdinfo nbdcopy
requires_py botocore
. "$TOP/tests/servers/rgw.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null

export S3ROOT_CONFIG=/dev/null
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
head -c $((3 * 1024 * 1024 + 777)) /dev/urandom >"$T/img"
s3ctl mb bkt >/dev/null
s3ctl put bkt 'dir/root img+1.erofs' "$T/img" >/dev/null

# sig_of URL: its signature (or session token), which must show nowhere
sig_of() {
	sed -n 's/.*X-Amz-Signature=\([0-9a-f]*\).*/\1/p' <<<"$1"
}
# nowhere SECRET FILE...: SECRET in none of the files
nowhere() {
	local s=$1 f
	shift
	[ -n "$s" ] || fail "no secret to look for"
	for f in "$@"; do
		! grep -qF -- "$s" "$f" || fail "the URL's secret is in $f"
	done
}

# a URL by botocore (path style), one by s3root (vhost), one with a
# session token (the STS server)
url_boto=$(s3ctl presign bkt 'dir/root img+1.erofs' --expires 600)
url_mine=$(AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
	"$S3ROOT" presign 's3://bkt/dir/root img+1.erofs' --expires 600 \
	-o "s3.endpoint=http://$RGW_HOST:$RGW_PORT,s3.urlstyle=vhost")
rgw_assume_role 900
url_tok=$(AWS_ACCESS_KEY_ID=$RGW_STS_ACCESS \
	AWS_SECRET_ACCESS_KEY=$RGW_STS_SECRET AWS_SESSION_TOKEN=$RGW_STS_TOKEN \
	"$S3ROOT" presign 's3://bkt/dir/root img+1.erofs' --expires 600 \
	-o "s3.endpoint=$RGW_STS_ENDPOINT")
grep -q 'X-Amz-Security-Token=' <<<"$url_tok" || fail "no token in $url_tok"
case $url_mine in
"http://bkt.$RGW_HOST:$RGW_PORT/dir/root%20img%2B1.erofs?X-Amz-Algorithm="*) ;;
*) fail "presign's URL: $url_mine" ;;
esac
# no credentials of ours anywhere from now on: the URL is all there is
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
resolve=s3.resolve=bkt.$RGW_HOST:127.0.0.1

# a presigned GET URL refuses HEAD: s3root must not need it
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$url_boto")
[ "$code" = 403 ] || fail "RGW answered HEAD on a GET URL with $code"

for url in "$url_boto" "$url_mine" "$url_tok"; do
	"$S3ROOT" get "$url" --output "$T/out" -o "$resolve" 2>"$T/get.err"
	cmp "$T/out" "$T/img" || fail "get: wrong bytes from $url"
	"$S3ROOT" get "$url" --range 1000000:65536 -o "$resolve" >"$T/part"
	cmp "$T/part" <(tail -c +1000001 "$T/img" | head -c 65536) ||
		fail "get --range: wrong bytes"
	"$S3ROOT" stat "$url" --json -o "$resolve" >"$T/stat"
	grep -q "\"size\": $((3 * 1024 * 1024 + 777))," "$T/stat" ||
		fail "stat: $(cat "$T/stat")"
	grep -q '?<presigned>"' "$T/stat" || fail "stat's name: $(cat "$T/stat")"
	nowhere "$(sig_of "$url")" "$T/stat" "$T/get.err"
done
nowhere "${RGW_STS_TOKEN:0:40}" "$T/stat"
echo "get and stat: botocore's, s3root's (vhost) and a session token's URL"

# serve: nbdcopy reads the bytes; the export list shows no secret
serve_start "$url_boto"
nbdcopy "nbd+unix:///?socket=$T/s.sock" "$T/copy"
cmp <(head -c $((3 * 1024 * 1024 + 777)) "$T/copy") "$T/img" ||
	fail "serve: wrong bytes"
nbdinfo --list "nbd+unix:///?socket=$T/s.sock" >"$T/list"
grep -q 'export="root%20img%2B1.erofs"' "$T/list" || fail "export name: $(cat "$T/list")"
ps -o args= -p "$serve_pid" >"$T/ps"
serve_stop
nowhere "$(sig_of "$url_boto")" "$T/list" "$T/serve.log" "$T/ps"
nowhere "X-Amz-Credential" "$T/list" "$T/serve.log" "$T/ps"
echo "serve: nbdcopy byte-exact, no secret in the export list, log or ps"

# expired: made two hours ago for one minute
past=$(date -u -d '-2 hours' +%Y%m%dT%H%M%SZ)
ends=$(date -u -d "$(date -u -d '-2 hours' '+%F %T') UTC + 60 seconds" \
	+%Y-%m-%dT%H:%M:%SZ)
url_old=$(AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
	"$S3ROOT" presign 's3://bkt/dir/root img+1.erofs' --expires 60 \
	--time "$past" -o "s3.endpoint=$RGW_ENDPOINT")
expect_fail "403 .*the presigned URL expired at $ends" \
	"$S3ROOT" get "$url_old" --output "$T/never"
[ ! -e "$T/never" ] || fail "a failed get left a file"
cat "$T/err"
nowhere "$(sig_of "$url_old")" "$T/err"
# a URL signed for another key is refused, and says so
bad=${url_boto/root%20img/other%20img}
expect_fail "403 .*presigned URL was refused" "$S3ROOT" get "$bad"
cat "$T/err"
nowhere "$(sig_of "$bad")" "$T/err"
# a bad URL is named without its query
expect_fail "bad URL .*<presigned>" "$S3ROOT" stat "${url_boto/http:/http:\/\/x y}"
nowhere "$(sig_of "$url_boto")" "$T/err"
# and so for other failing commands that name it
expect_fail "one SOURCE only .*<presigned>" "$S3ROOT" stat "$url_boto" "$url_boto"
nowhere "$(sig_of "$url_boto")" "$T/err"
expect_fail "<presigned>' is not /dev/nbdN" "$S3ROOT" detach "$url_boto"
nowhere "$(sig_of "$url_boto")" "$T/err"
expect_fail "s3root.verity_object=.*[?]<presig" "$S3ROOT" stat s3://bkt/x \
	-o "s3root.verity_object=${url_boto/http:/http:\/\/x y}"
nowhere "$(sig_of "$url_boto")" "$T/err"
echo "expired and refused URLs: clear messages, no secret"

# a root that outlives its URL (the README's advice): s3.prefetch=all
# pulls the whole image into the cache while the URL is valid; after it
# has expired, every read is answered from memory
url_short=$(AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
	"$S3ROOT" presign 's3://bkt/dir/root img+1.erofs' --expires 12 \
	-o "s3.endpoint=$RGW_ENDPOINT")
ends=$(($(date +%s) + 12))
serve_start "$url_short" s3.prefetch=all,s3.prefetch_rate=0,s3.cache=16M
wait_for 10 grep -q ' chunks are local (s3.prefetch=all)' \
	"$T/serve.log" || fail "prefetch: not pulled: $(cat "$T/serve.log")"
while [ "$(date +%s)" -le $((ends + 1)) ]; do sleep 1; done
expect_fail "the presigned URL expired at" "$S3ROOT" get "$url_short"
nbdcopy "nbd+unix:///?socket=$T/s.sock" "$T/copy"
cmp <(head -c $((3 * 1024 * 1024 + 777)) "$T/copy") "$T/img" ||
	fail "prefetch: wrong bytes after the URL expired"
serve_stop
echo "s3.prefetch=all: read byte-exact after the URL expired"

# any URL whose HEAD is refused (403 or 405) opens with a GET of byte 0
port=$("$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY3" - "$T" "$port" >"$T/http.log" 2>&1 <<'PY' &
import http.server, sys
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=sys.argv[1], **kw)
    def do_HEAD(self):
        self.send_error(405 if self.path == "/img" else 403)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
PY
srv=$!
at_exit "kill $srv"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/img" ||
	fail "the HEAD-refusing server did not start"
cp "$T/img" "$T/img2"
for f in img img2; do
	"$S3ROOT" get "http://127.0.0.1:$port/$f" --output "$T/out"
	cmp "$T/out" "$T/img" || fail "HEAD refused: wrong bytes for $f"
done
grep -q '"HEAD /img HTTP/1.1" 405' "$T/http.log" || fail "no 405 seen"
grep -q '"HEAD /img2 HTTP/1.1" 403' "$T/http.log" || fail "no 403 seen"
echo "HEAD refused with 405 or 403: opened with a GET"
echo "presigned URLs: ok"
