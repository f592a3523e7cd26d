#!/usr/bin/env bash
# S3's conventions against a real Ceph RGW (and nginx for TLS): the AWS
# CLI's shared files (~/.aws/credentials and config, AWS_PROFILE) and where
# they rank, s3.version_id on a versioned bucket (get, stat, serve),
# s3.request_payer and s3.expected_owner on the wire, and SSE-C objects
# read with the right key, a wrong one and none.
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd nginx openssl curl nbdcopy
requires_py botocore
. "$TOP/tests/servers/nginx-tls.sh"

at_exit "rgw_stop $T/rgw"
at_exit "tls_stop $T/tls"
rgw_start "$T/rgw" >/dev/null
tls_start "$T/tls" >/dev/null

export S3ROOT_CONFIG=/dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_REGION \
	AWS_DEFAULT_REGION AWS_ENDPOINT_URL AWS_PROFILE AWS_DEFAULT_PROFILE \
	AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_CA_BUNDLE
# s3root's own default passwd file would rank over the shared files
[ ! -e /etc/s3root/passwd ] ||
	skip "/etc/s3root/passwd exists (it ranks over ~/.aws/credentials)"
nopw="s3root.debug=0"
export HOME=$T/home
mkdir -p "$HOME/.aws"

head -c $((300 * 1024 + 7)) /dev/urandom >"$T/old"
head -c $((200 * 1024 + 3)) /dev/urandom >"$T/new"
s3ctl mb bkt >/dev/null
s3ctl put bkt obj "$T/old" >/dev/null

# get ARGS... -> $T/out must equal FILE
get_is() {
	local want=$1
	shift
	rm -f "$T/out"
	"$S3ROOT" get "$@" --output "$T/out" || fail "get $*"
	cmp -s "$T/out" "$want" || fail "get $*: wrong bytes"
}

# ---- the shared files ----
cat >"$HOME/.aws/credentials" <<EOF
# as the AWS CLI writes it
[default]
aws_access_key_id = $RGW_ACCESS
aws_secret_access_key = $RGW_SECRET

[wrong]
AWS_ACCESS_KEY_ID=$RGW_ACCESS
aws_secret_access_key: not-the-secret
EOF
chmod 600 "$HOME/.aws/credentials"
cat >"$HOME/.aws/config" <<EOF
[default]
region = eu-central-1
endpoint_url = $RGW_ENDPOINT
s3 =
    addressing_style = virtual
    endpoint_url = http://nested.invalid

[profile inconfig]
region = ap-south-1
endpoint_url = $RGW_ENDPOINT
aws_access_key_id = $RGW_ACCESS
aws_secret_access_key = $RGW_SECRET
EOF
# keys, endpoint and region all from the profile
get_is "$T/old" s3://bkt/obj -o "$nopw"
"$S3ROOT" sign s3://bkt/obj -o "$nopw" >"$T/sign"
grep -q "Credential=$RGW_ACCESS/[0-9]*/eu-central-1/s3/" "$T/sign" ||
	fail "the profile's region is not signed: $(cat "$T/sign")"
grep -qx "Host: 127.0.0.1:$RGW_PORT" "$T/sign" || fail "the profile's endpoint"
# AWS_REGION over the profile's region, -o over both
AWS_REGION=us-west-2 "$S3ROOT" sign s3://bkt/obj -o "$nopw" | grep -q \
	"/us-west-2/s3/" || fail "AWS_REGION does not rank over the profile"
AWS_REGION=us-west-2 "$S3ROOT" sign s3://bkt/obj -o "$nopw,s3.region=sa-east-1" |
	grep -q "/sa-east-1/s3/" || fail "-o does not rank over AWS_REGION"
# a profile of the config file with its own keys
AWS_PROFILE=inconfig get_is "$T/old" s3://bkt/obj -o "$nopw"
# a profile with the wrong secret: refused, and the message names the file
AWS_PROFILE=wrong expect_fail "SignatureDoesNotMatch.*\.aws/credentials" \
	"$S3ROOT" stat s3://bkt/obj -o "$nopw,s3.endpoint=$RGW_ENDPOINT"
# the environment ranks over the profile, s3root's passwd file too
AWS_PROFILE=wrong AWS_ACCESS_KEY_ID=$RGW_ACCESS \
	AWS_SECRET_ACCESS_KEY=$RGW_SECRET get_is "$T/old" s3://bkt/obj \
	-o "$nopw,s3.endpoint=$RGW_ENDPOINT"
printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
chmod 600 "$T/passwd"
AWS_PROFILE=wrong get_is "$T/old" s3://bkt/obj \
	-o "s3.passwd_file=$T/passwd,s3.endpoint=$RGW_ENDPOINT"
# AWS_SHARED_CREDENTIALS_FILE and AWS_CONFIG_FILE move the files
mv "$HOME/.aws" "$T/aws"
AWS_SHARED_CREDENTIALS_FILE=$T/aws/credentials AWS_CONFIG_FILE=$T/aws/config \
	get_is "$T/old" s3://bkt/obj -o "$nopw"
expect_fail "403 AccessDenied \(the request was anonymous" \
	"$S3ROOT" stat s3://bkt/obj -o "$nopw,s3.endpoint=$RGW_ENDPOINT"
mv "$T/aws" "$HOME/.aws"
# mistakes get one clear line
AWS_PROFILE=nosuch expect_fail "s3root: the profile 'nosuch' \(AWS_PROFILE\) is in neither" \
	"$S3ROOT" stat s3://bkt/obj -o "$nopw"
printf 'region = x\n' >"$T/badconf"
AWS_CONFIG_FILE=$T/badconf expect_fail \
	"$T/badconf:1: an option before the first \[section\]" \
	"$S3ROOT" stat s3://bkt/obj -o "$nopw"
chmod 644 "$HOME/.aws/credentials"
"$S3ROOT" stat s3://bkt/obj -o "$nopw" 2>"$T/err" >/dev/null ||
	fail "stat with a 0644 credentials file: $(cat "$T/err")"
grep -q "credentials is readable by others (mode 644): chmod 600 it" \
	"$T/err" || fail "no warning for a 0644 credentials file"
chmod 600 "$HOME/.aws/credentials"
echo "shared files: keys, region and endpoint from the profile, ranked below -o, the environment and s3.passwd_file"

# from here on, the keys come from the environment
rm -rf "$HOME/.aws"
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
ep="$nopw,s3.endpoint=$RGW_ENDPOINT"

# ---- versions ----
s3ctl mb ver >/dev/null
s3ctl versioning ver on >/dev/null
v1=$(s3ctl put ver obj "$T/old")
v2=$(s3ctl put ver obj "$T/new")
[ "$v1" != "$v2" ] && [ "$v1" != null ] || fail "no versions: $v1 $v2"
get_is "$T/new" s3://ver/obj -o "$ep"
for sig in 2 4; do
	get_is "$T/old" s3://ver/obj -o "$ep,s3.sig=$sig,s3.version_id=$v1"
done
"$S3ROOT" stat s3://ver/obj -o "$ep,s3.version_id=$v1" >"$T/stat"
grep -qx "version-id: $v1" "$T/stat" || fail "stat: $(cat "$T/stat")"
grep -qx "size: $((300 * 1024 + 7))" "$T/stat" || fail "stat size"
serve_start s3://ver/obj "$ep,s3.version_id=$v1"
nbdcopy "nbd+unix:///?socket=$T/s.sock" "$T/served"
serve_stop
cmp -n "$((300 * 1024 + 7))" "$T/served" "$T/old" ||
	fail "serve of version $v1: wrong bytes"
expect_fail "no version 3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY of s3://ver/obj" \
	"$S3ROOT" get s3://ver/obj -o "$ep,s3.version_id=3sL4kqtJlcpXroDTDmJ-rmSpXd3dIbrHY" \
	--output "$T/x"
[ ! -e "$T/x" ] || fail "a failed get left a file"
echo "versions: get (SigV2, SigV4), stat and serve of the old version by id; a missing one refused"

# ---- requester pays, expected owner ----
# RGW checks the signature over both headers: a wrong one would be refused
for sig in 2 4; do
	get_is "$T/old" s3://bkt/obj \
		-o "$ep,s3.sig=$sig,s3.request_payer,s3.expected_owner=123456789012"
done
for sig in 2 4; do
	"$S3ROOT" sign s3://bkt/obj --time 20261203T000000Z \
		-o "$ep,s3.sig=$sig,s3.request_payer,s3.expected_owner=123456789012" \
		>"$T/sign"
	grep -qx "x-amz-request-payer: requester" "$T/sign" &&
		grep -qx "x-amz-expected-bucket-owner: 123456789012" "$T/sign" ||
		fail "sign (SigV$sig) lacks the headers: $(cat "$T/sign")"
done
grep -q "SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-expected-bucket-owner;x-amz-request-payer," \
	<("$S3ROOT" sign s3://bkt/obj -o "$ep,s3.request_payer,s3.expected_owner=123456789012") ||
	fail "the headers are not signed"
# RGW (16.2) does not check the owner: a wrong one is still served. Said
# here so that a release that starts checking shows up.
if "$S3ROOT" stat s3://bkt/obj -o "$ep,s3.expected_owner=999999999999" \
	>/dev/null 2>"$T/err"; then
	echo "note: RGW ignores x-amz-expected-bucket-owner (a wrong owner is served)"
else
	grep -q "403" "$T/err" || fail "wrong owner: $(cat "$T/err")"
fi
echo "request payer, expected owner: sent, signed (SigV2, SigV4) and accepted"

# ---- SSE-C (RGW takes customer keys over TLS only) ----
openssl rand -base64 32 >"$T/key"
openssl rand -base64 32 >"$T/key2"
chmod 600 "$T/key" "$T/key2"
AWS_CA_BUNDLE=$TLS_CA s3ctl --endpoint "https://localhost:$TLS_PORT" \
	put bkt secret "$T/old" --sse-c-key "$T/key" >/dev/null
tls="$nopw,s3.endpoint=https://$TLS_HOST:$TLS_PORT,s3.resolve=$TLS_HOST:127.0.0.1"
tls="$tls,s3.urlstyle=path,s3.ca=$TLS_CA"
for sig in 2 4; do
	get_is "$T/old" s3://bkt/secret \
		-o "$tls,s3.sig=$sig,s3.sse_c_key_file=$T/key,s3.chunk=64K"
done
serve_start s3://bkt/secret "$tls,s3.sse_c_key_file=$T/key"
nbdcopy "nbd+unix:///?socket=$T/s.sock" "$T/served"
serve_stop
cmp -n "$((300 * 1024 + 7))" "$T/served" "$T/old" || fail "serve of SSE-C"
! grep -q "$(cat "$T/key")" "$T/serve.log" || fail "the key is in the log"
expect_fail "s3://bkt/secret: 400 InvalidArgument \(the SSE-C key from s3.sse_c_key_file is not the object's" \
	"$S3ROOT" get s3://bkt/secret -o "$tls,s3.sse_c_key_file=$T/key2" \
	--output "$T/x"
expect_fail "s3://bkt/secret: 400 InvalidArgument \(the object is encrypted with a customer key \(SSE-C\): give it in s3.sse_c_key_file" \
	"$S3ROOT" get s3://bkt/secret -o "$tls" --output "$T/x"
expect_fail "s3.sse_c_key_file: an SSE-C key goes only over https" \
	"$S3ROOT" get s3://bkt/secret -o "$ep,s3.sse_c_key_file=$T/key" \
	--output "$T/x"
chmod 640 "$T/key"
expect_fail "s3.sse_c_key_file $T/key is readable by others \(mode 640\): chmod 600 it" \
	"$S3ROOT" get s3://bkt/secret -o "$tls,s3.sse_c_key_file=$T/key" \
	--output "$T/x"
head -c 16 /dev/urandom | base64 >"$T/short"
chmod 600 "$T/short"
expect_fail "s3.sse_c_key_file $T/short: not the base64 of a 256-bit key" \
	"$S3ROOT" get s3://bkt/secret -o "$tls,s3.sse_c_key_file=$T/short" \
	--output "$T/x"
[ ! -e "$T/x" ] || fail "a failed get left a file"
echo "SSE-C: the right key reads the bytes (get, serve), a wrong key, none, http, a 0640 file and a short key are refused"
