#!/usr/bin/env bash
# `s3root sign` against botocore (Debian python3-botocore), byte for byte,
# over a few hundred generated requests, and the AWS documentation example;
# `s3root presign` against botocore's generate_presigned_url over the same
# requests, and the documentation's presigned URL.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires_py botocore

export S3ROOT_CONFIG=/dev/null
"$PY3" "$TOP/tests/sh/sign_botocore.py" --s3root "$S3ROOT" --cases 400 \
	--seed "${SEED:-20261123}" --presign ||
	fail "signatures or presigned URLs differ from botocore"

# The documentation's GET Object example, through the command line.
out=$(AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
	AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
	"$S3ROOT" sign s3://examplebucket/test.txt \
	-o s3.endpoint=https://s3.amazonaws.com,s3.sig=4,s3.region=us-east-1,s3.urlstyle=vhost \
	-H 'Range: bytes=0-9' --time 20130524T000000Z --payload empty)
echo "$out"
grep -q 'SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, ' <<<"$out" ||
	fail "signed headers"
grep -q 'Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41$' \
	<<<"$out" || fail "documentation signature"

# The documentation's presigned URL (sigv4-query-string-auth).
out=$(AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE \
	AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY \
	"$S3ROOT" presign s3://examplebucket/test.txt --expires 86400 \
	-o s3.endpoint=https://s3.amazonaws.com --time 20130524T000000Z)
[ "$out" = "https://examplebucket.s3.amazonaws.com/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404" ] ||
	fail "documentation presigned URL: $out"
export AWS_ACCESS_KEY_ID=AK AWS_SECRET_ACCESS_KEY=SK
expect_fail "not 1 to 604800 seconds" "$S3ROOT" presign s3://b/k --expires 604801
expect_fail "not 1 to 604800 seconds" "$S3ROOT" presign s3://b/k --expires 0
expect_fail "is a URL already" "$S3ROOT" presign http://h/k
expect_fail "SigV4 URLs only" "$S3ROOT" presign s3://b/k -o s3.sig=2
if [ ! -e /etc/s3root/passwd ]; then
	expect_fail "no credentials" env -u AWS_ACCESS_KEY_ID \
		-u AWS_SECRET_ACCESS_KEY "$S3ROOT" presign s3://b/k
fi
