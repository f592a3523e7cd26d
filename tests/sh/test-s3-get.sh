#!/usr/bin/env bash
# s3root stat/get against a real Ceph RGW (and nginx for TLS): every
# signature version and URL style, session tokens, anonymous access, the
# negative cases with their messages, replaced objects with and without
# versioning, and TLS verification. The mbedTLS suite runs only the TLS
# part.
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd nginx openssl curl
requires_py botocore
. "$TOP/tests/servers/nginx-tls.sh"

at_exit "rgw_stop $T/rgw"
at_exit "tls_stop $T/tls"
at_exit "tls_stop $T/tls-sts"
rgw_start "$T/rgw" >/dev/null
tls_start "$T/tls" >/dev/null
tls_start "$T/tls-sts" "$RGW_STS_PORT" >/dev/null

export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL

head -c $((6 * 1024 * 1024 + 12345)) /dev/urandom >"$T/big"
printf 'small object\n' >"$T/small"
want=$(sha256sum <"$T/big" | cut -d' ' -f1)
keys=("big" "with space" "plus+equals=tilde~" "ütf-8 ☃" "dir//double/slash")
s3ctl mb bkt >/dev/null
for k in "${keys[@]}"; do
	s3ctl put bkt "$k" "$T/big" >/dev/null
done

# get KEY OPTS... and compare with the file
check_get() {
	local key=$1
	shift
	"$S3ROOT" get "s3://bkt/$key" --output "$T/out" "$@" ||
		fail "get '$key' $*"
	[ "$(sha256sum <"$T/out" | cut -d' ' -f1)" = "$want" ] ||
		fail "get '$key' $*: wrong bytes"
}

ep="s3.endpoint=$RGW_ENDPOINT"
vh="s3.endpoint=http://$RGW_HOST:$RGW_PORT,s3.urlstyle=vhost"
vh="$vh,s3.resolve=bkt.$RGW_HOST:127.0.0.1"

# TLS: the right CA, another CA, a name mismatch, an expired certificate
tls="s3.endpoint=https://$TLS_HOST:$TLS_PORT,s3.resolve=bkt.$TLS_HOST:127.0.0.1"
check_get big -o "$tls,s3.ca=$TLS_CA,s3.chunk=16K"
# nginx closes a connection after 4 requests: the reconnections resumed
# the TLS session (either backend keeps it per host)
grep -q 'reused=r' "$TLS_DIR/log/nginx-access.log" ||
	fail "no TLS session was resumed"
check_get "ütf-8 ☃" -o "$tls,s3.ca=$TLS_CA,s3.sig=2"
AWS_CA_BUNDLE=$TLS_CA check_get big -o "$tls"
expect_fail "certificate of bkt.s3.test not trusted \(unknown CA" \
	"$S3ROOT" stat s3://bkt/big -o "$tls,s3.ca=$TLS_BAD_CA"
expect_fail "certificate name mismatch" "$S3ROOT" stat s3://bkt/big \
	-o "s3.endpoint=https://$TLS_HOST:$TLS_BADNAME_PORT,s3.resolve=$TLS_HOST:127.0.0.1,s3.urlstyle=path,s3.ca=$TLS_CA"
expect_fail "certificate of $TLS_HOST expired or not yet valid \(checked at 20" \
	"$S3ROOT" stat s3://bkt/big \
	-o "s3.endpoint=https://$TLS_HOST:$TLS_EXPIRED_PORT,s3.resolve=$TLS_HOST:127.0.0.1,s3.urlstyle=path,s3.ca=$TLS_CA"
expect_fail "TLS to the address 127.0.0.1 cannot be verified" \
	"$S3ROOT" stat s3://bkt/big -o "s3.endpoint=https://127.0.0.1:$TLS_PORT,s3.ca=$TLS_CA"
echo "TLS: ok"
# the mbedTLS suite (tests/run.sh's SUITE) stops here: the rest goes over
# plain HTTP, the same code in both builds (the BearSSL and SAN suites)
if [ "${SUITE:-bearssl}" = mbedtls ]; then
	exit 0
fi

for k in "${keys[@]}"; do
	for sig in 2 4; do
		check_get "$k" -o "$ep,s3.sig=$sig"
		check_get "$k" -o "$vh,s3.sig=$sig"
	done
done
echo "SigV2/SigV4, path/vhost: ${#keys[@]} keys byte-identical"

# stat, both forms
"$S3ROOT" stat s3://bkt/big -o "$ep" >"$T/stat"
grep -qx "size: $((6 * 1024 * 1024 + 12345))" "$T/stat" || fail "stat size"
grep -q '^etag: "' "$T/stat" || fail "stat etag"
"$S3ROOT" stat "s3://bkt/ütf-8 ☃" -o "$ep" --json >"$T/json"
"$PY3" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["size"] > 0 and d["name"].endswith("\u2603")' \
	"$T/json" || fail "stat --json"

# a range, to stdout
"$S3ROOT" get s3://bkt/big --range 1000:70000 -o "$ep" >"$T/part"
cmp "$T/part" <(tail -c +1001 "$T/big" | head -c 70000) || fail "range"
expect_fail "is not OFF:LEN" "$S3ROOT" get s3://bkt/big --range 1:99999999 -o "$ep"

# a credentials file instead of the environment
printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
chmod 600 "$T/passwd"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$S3ROOT" get s3://bkt/big \
	--output "$T/out" -o "$ep,s3.passwd_file=$T/passwd"
cmp "$T/out" "$T/big" || fail "passwd file"

# session tokens from STS, over plain HTTP and TLS
rgw_assume_role 900
AWS_ACCESS_KEY_ID=$RGW_STS_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_STS_SECRET \
	AWS_SESSION_TOKEN=$RGW_STS_TOKEN check_get big -o "s3.endpoint=$RGW_STS_ENDPOINT"
printf '%s\n' "$RGW_STS_TOKEN" >"$T/token"
chmod 600 "$T/token"
printf '%s:%s\n' "$RGW_STS_ACCESS" "$RGW_STS_SECRET" >"$T/passwd-sts"
chmod 600 "$T/passwd-sts"
check_get "with space" -o "s3.endpoint=$RGW_STS_ENDPOINT,s3.sig=2,s3.passwd_file=$T/passwd-sts,s3.session_token_file=$T/token"
echo "session tokens: ok"

# anonymous, on a public-read object only
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$S3ROOT" get s3://bkt/small -o "$ep" 2>"$T/err" >/dev/null &&
	fail "anonymous read of a private object"
grep -q "AccessDenied.*anonymous" "$T/err" || fail "anonymous message: $(cat "$T/err")"
s3ctl put bkt small "$T/small" >/dev/null
s3ctl acl bkt small public-read >/dev/null
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
	"$S3ROOT" get s3://bkt/small -o "$ep" >"$T/out"
cmp "$T/out" "$T/small" || fail "anonymous public-read"

# negative cases: non-zero exit and one line naming the cause
AWS_SECRET_ACCESS_KEY=wrong expect_fail \
	"403 SignatureDoesNotMatch \(check the secret key" \
	"$S3ROOT" stat s3://bkt/big -o "$ep"
AWS_ACCESS_KEY_ID=NOSUCHACCESSKEY expect_fail "403 InvalidAccessKeyId" \
	"$S3ROOT" get s3://bkt/big -o "$ep"
expect_fail "404 NoSuchKey \(no object s3://bkt/missing\)" \
	"$S3ROOT" get s3://bkt/missing -o "$ep"
expect_fail "404 NoSuchBucket \(no bucket 'nobucket'" \
	"$S3ROOT" get s3://nobucket/big -o "$ep"
[ "$(wc -l <"$T/err")" -eq 1 ] || fail "more than one line: $(cat "$T/err")"
AWS_ACCESS_KEY_ID=$RGW_STS_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_STS_SECRET \
	AWS_SESSION_TOKEN=not-a-token expect_fail "40[03] .*session token" \
	"$S3ROOT" get s3://bkt/big -o "s3.endpoint=$RGW_STS_ENDPOINT"
rgw_assume_role 2
wait_for 10 rgw_sts_expired || fail "the 2 s session token did not expire"
AWS_ACCESS_KEY_ID=$RGW_STS_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_STS_SECRET \
	AWS_SESSION_TOKEN=$RGW_STS_TOKEN expect_fail "403 .*session token has not expired" \
	"$S3ROOT" get s3://bkt/big -o "s3.endpoint=$RGW_STS_ENDPOINT"
expect_fail "NoSuchKey" "$S3ROOT" get s3://bkt/missing -o "$ep" --output "$T/never"
ls "$T"/never* >/dev/null 2>&1 && fail "a failed get left a file"
echo "negative cases: ok"

# An object replaced while it is read (a slow reader holds the get back
# between two ranged requests: the reader stops after 300000 bytes, which
# the get has fetched after opening the object, and goes on only once the
# object has been replaced).
replace_during_get() {
	local bucket=$1 pid rc
	rm -f "$T/held" "$T/replaced"
	(wait_for 30 test -e "$T/held" &&
		s3ctl put "$bucket" obj "$T/small" >/dev/null &&
		touch "$T/replaced") &
	pid=$!
	set +e
	"$S3ROOT" get "s3://$bucket/obj" -o "$ep,s3.chunk=4K" 2>"$T/err" |
		{
			head -c 300000 >"$T/got"
			touch "$T/held"
			wait_for 30 test -e "$T/replaced"
			cat >>"$T/got"
		}
	rc=${PIPESTATUS[0]}
	set -e
	wait $pid || fail "the object was not replaced during the get"
	return "$rc"
}
s3ctl mb plain >/dev/null
s3ctl put plain obj "$T/big" >/dev/null
replace_during_get plain && fail "a replaced object was read to the end"
grep -q "412: the object was replaced" "$T/err" || fail "412 message: $(cat "$T/err")"
cmp -n "$(stat -c %s "$T/got")" "$T/got" "$T/big" || fail "bytes before the 412 differ"
echo "replaced, unversioned: stopped with 412 after $(stat -c %s "$T/got") good bytes"

s3ctl mb versioned >/dev/null
s3ctl versioning versioned on >/dev/null
s3ctl put versioned obj "$T/big" >/dev/null
replace_during_get versioned || fail "versioned read failed: $(cat "$T/err")"
cmp "$T/got" "$T/big" || fail "versioned read mixed versions"
"$S3ROOT" stat s3://versioned/obj -o "$ep" | grep -q '^version-id: .' ||
	fail "no version id"
echo "replaced, versioned: the pinned version was served whole"
