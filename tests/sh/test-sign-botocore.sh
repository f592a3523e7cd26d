#!/usr/bin/env bash
# `s3root sign` against botocore (Debian python3-botocore), byte for byte,
# over a few hundred generated requests, and the AWS documentation example.
set -eu
. "$(dirname "$0")/functions.sh"
requires_py botocore

export S3ROOT_CONFIG=/dev/null
"$PY3" "$TOP/tests/sh/sign_botocore.py" --s3root "$S3ROOT" --cases 400 \
	--seed "${SEED:-20261123}" || fail "signatures differ from botocore"

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
