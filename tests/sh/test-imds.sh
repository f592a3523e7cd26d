#!/usr/bin/env bash
# The instance role's credentials (IMDSv2) against tests/servers/imds.py,
# which hands out real temporary credentials of the suite's RGW STS: the
# server's own rules (tokens, TTLs), the chain's precedence and switches,
# the region from placement, a clear error for each hostile answer, and a
# `serve` reading every second across three credential expiries, an IMDS
# outage at a refresh and forgotten session tokens included. No TLS here:
# the BearSSL build and the sanitizers'.
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd curl
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/servers/imds.sh"

LIFE=24 # seconds the instance's credentials live
at_exit "rgw_stop $T/rgw"
at_exit "imds_stop $T/imds"
rgw_start "$T/rgw" >/dev/null
imds_start "$T/imds" --duration $LIFE --region eu-test-1

export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL
unset AWS_EC2_METADATA_SERVICE_ENDPOINT AWS_EC2_METADATA_DISABLED
unset AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE
head -c $((32 * 1024 * 1024)) /dev/urandom >"$T/img"
s3ctl mb bkt >/dev/null
s3ctl put bkt img "$T/img" >/dev/null
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

sts="s3.endpoint=$RGW_STS_ENDPOINT"
im="$sts,s3.imds_endpoint=$IMDS_ENDPOINT"

# ---- the server behaves as the real one ----
tok() { # TTL [curl args]: a session token
	local ttl=$1
	shift
	curl -sf -X PUT "$@" -H "X-aws-ec2-metadata-token-ttl-seconds: $ttl" \
		"$IMDS_ENDPOINT/latest/api/token"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
rpath=/latest/meta-data/iam/security-credentials/
roles=$IMDS_ENDPOINT$rpath
[ "$(code -X PUT "$IMDS_ENDPOINT/latest/api/token")" = 400 ] ||
	fail "imds: a token without a TTL"
for ttl in 0 21601 -1 x; do
	[ "$(code -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: $ttl" \
		"$IMDS_ENDPOINT/latest/api/token")" = 400 ] ||
		fail "imds: TTL $ttl accepted"
done
[ "$(code -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
	-H "X-Forwarded-For: 1.2.3.4" "$IMDS_ENDPOINT/latest/api/token")" = 403 ] ||
	fail "imds: a forwarded token request"
[ "$(code "$roles")" = 401 ] || fail "imds: no token"
[ "$(code -H "X-aws-ec2-metadata-token: bad" "$roles")" = 401 ] ||
	fail "imds: a bad token"
t1=$(tok 1) && t6=$(tok 21600) || fail "imds: no token"
[ "$(curl -sf -H "X-aws-ec2-metadata-token: $t6" "$roles")" = s3root-instance ] ||
	fail "imds: the role listing"
[ "$(curl -sf -H "X-aws-ec2-metadata-token: $t6" \
	"$IMDS_ENDPOINT/latest/meta-data/placement/region")" = eu-test-1 ] ||
	fail "imds: the region"
sleep 1.2
[ "$(code -H "X-aws-ec2-metadata-token: $t1" "$roles")" = 401 ] ||
	fail "imds: a token past its TTL"
echo "imds server: ok"

# ---- the chain: the instance when nothing else is set ----
"$S3ROOT" stat s3://bkt/img -o "$im" >"$T/out" 2>"$T/err" ||
	fail "stat with the instance's credentials: $(cat "$T/err")"
grep -q "^region: eu-test-1$" "$T/out" || fail "region: $(cat "$T/out")"
grep -q "PUT /latest/api/token 200 ttl=21600" "$IMDS_LOG" ||
	fail "the token's TTL: $(cat "$IMDS_LOG")"
AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS_ENDPOINT "$S3ROOT" get s3://bkt/img \
	-o "$sts" --output "$T/got" || fail "AWS_EC2_METADATA_SERVICE_ENDPOINT"
cmp "$T/got" "$T/img" || fail "get: wrong bytes"
# s3.region wins over the placement
"$S3ROOT" stat s3://bkt/img -o "$im,s3.region=us-east-1" >"$T/out" 2>&1
grep -q "^region: us-east-1$" "$T/out" || fail "s3.region: $(cat "$T/out")"
# the environment's keys win: the service is not asked
n=$(imds_count "^GET $rpath ")
[ "$n" -ge 2 ] || fail "the role listing was not asked: $(cat "$IMDS_LOG")"
AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
	"$S3ROOT" stat s3://bkt/img -o "$im" >/dev/null || fail "env keys"
[ "$(imds_count "^GET $rpath ")" = "$n" ] || fail "asked the IMDS despite keys"
# switched off: anonymous
AWS_EC2_METADATA_DISABLED=true AWS_EC2_METADATA_SERVICE_ENDPOINT=$IMDS_ENDPOINT \
	expect_fail "the request was anonymous" "$S3ROOT" stat s3://bkt/img -o "$sts"
expect_fail "the request was anonymous" \
	"$S3ROOT" stat s3://bkt/img -o "$im,s3.imds=off"
# auto with nobody there moves on at once; on says why
dead=http://127.0.0.1:9 # nobody listens (discard)
start=$(date +%s%N)
expect_fail "the request was anonymous" \
	"$S3ROOT" stat s3://bkt/img -o "$sts,s3.imds_endpoint=$dead"
[ $((($(date +%s%N) - start) / 1000000)) -lt 3000 ] || fail "auto waited"
expect_fail "instance metadata service $dead: PUT /latest/api/token: .*refused" \
	"$S3ROOT" stat s3://bkt/img -o "$sts,s3.imds_endpoint=$dead,s3.imds=on"
echo "credential chain: ok"

# ---- hostile answers: one clear line each ----
hostile() { # MODE PATTERN [OPTIONS]
	imds_mode "$1"
	expect_fail "credentials: instance metadata service .*$2" \
		"$S3ROOT" stat s3://bkt/img -o "$im${3:+,$3}"
	[ "$(wc -l <"$T/err")" = 1 ] || fail "$1: $(cat "$T/err")"
}
hostile badjson "role s3root-instance: not a credentials document \(at byte [0-9]+: expected ':'\)"
hostile huge "the answer is over 65536 bytes"
hostile missing "role s3root-instance: the document has no SecretAccessKey"
hostile past "role s3root-instance: the credentials expired at 20[0-9-]+T"
hostile norole "GET /latest/meta-data/iam/security-credentials/s3root-instance: HTTP 404"
hostile noroles "HTTP 404 \(no IAM role is attached to this instance\)" s3.imds=on
hostile down "PUT /latest/api/token: HTTP 503" s3.imds=on
imds_mode normal
echo "hostile answers: ok"

# ---- serve across three expiries, a read every second ----
imds_mode forget # each refresh meets a 401 and asks a new token
: >"$IMDS_LOG"
serve_start s3://bkt/img "$im,s3.chunk=64K,s3.cache=1M"
secs=$((3 * LIFE + 6))
"$PY3" - "nbd+unix:///?socket=$T/s.sock" "$T/img" $secs >"$T/reads" 2>&1 <<'EOF' &
import sys, time, nbd
uri, path, secs = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(path, "rb").read()
h = nbd.NBD()
h.connect_uri(uri)
n = bad = 0
end = time.monotonic() + secs
while time.monotonic() < end:
    off = (n * 1048576 + n * 69632) % (len(data) - 4096) // 512 * 512
    try:
        if h.pread(4096, off) != data[off:off + 4096]:
            bad += 1
    except nbd.Error as e:
        bad += 1
        print("read %d failed: %s" % (off, e))
    n += 1
    time.sleep(1)
print("reads %d bad %d" % (n, bad))
EOF
reader=$!
# an outage of the service across the second refresh: the old
# credentials serve on, the refresh backs off and gets through
grep -q "region eu-test-1 (the instance's)" "$T/serve.log" ||
	fail "the region: $(cat "$T/serve.log")"
refreshed() { [ "$(grep -c "credentials refreshed" "$T/serve.log")" -ge "$1" ]; }
wait_for $((2 * LIFE)) refreshed 1 ||
	fail "no first refresh: $(cat "$T/serve.log")"
next=$(grep "credentials refreshed" "$T/serve.log" | tail -n 1 |
	sed -n 's/.*next refresh at \([0-9T:Z-]*\)).*/\1/p')
at=$(date -d "$next" +%s) || fail "no next refresh time: $(cat "$T/serve.log")"
while [ "$(date +%s%N)" -lt $((at * 1000000000 - 500000000)) ]; do sleep 0.1; done
imds_mode down
sleep 2.5
imds_mode forget
wait "$reader" || fail "the reader: $(cat "$T/reads")"
grep -q "^reads [0-9]* bad 0$" "$T/reads" || fail "failed reads: $(cat "$T/reads")"
kill -USR1 "$serve_pid"
wait_for 5 grep -q "^credentials: " "$T/serve.log" || fail "no figures"
serve_stop
refreshes=$(grep -c "credentials refreshed from the instance metadata service, role s3root-instance" "$T/serve.log")
[ "$refreshes" -ge 3 ] || fail "$refreshes refreshes: $(cat "$T/serve.log")"
grep -q "refreshing credentials: .*HTTP 503.* (keeping the old ones, valid until" "$T/serve.log" ||
	fail "the outage: $(cat "$T/serve.log")"
grep -Eq "^credentials: [3-9][0-9]* refreshes, [1-9][0-9]* failed, valid until " "$T/serve.log" ||
	fail "figures: $(grep credentials: "$T/serve.log")"
reqs=$(sed -n 's/^fetched: .* in \([0-9]*\) requests.*/\1/p' "$T/serve.log" | tail -n 1)
[ "${reqs:-0}" -ge $((3 * LIFE)) ] || fail "the reads were not cold: $reqs requests"
[ "$(imds_count "^# issued credentials")" -ge 4 ] || fail "$(cat "$IMDS_LOG")"
[ "$(imds_count "^GET /latest/meta-data/[^ ]* 401")" -ge 3 ] &&
	[ "$(grep -A1 "^GET /latest/meta-data/[^ ]* 401" "$IMDS_LOG" |
		grep -c "^PUT /latest/api/token 200")" -ge 3 ] ||
	fail "no forgotten token met and replaced: $(cat "$IMDS_LOG")"
while IFS= read -r s; do
	grep -qF -- "$s" "$T/serve.log" && fail "a secret in the log"
done <"$T/imds/secrets"
grep -E "warn|refresh" "$T/serve.log" | grep -v "^credentials:" | head -n 12
echo "serve across $refreshes refreshes ($(cat "$T/reads")): ok"
