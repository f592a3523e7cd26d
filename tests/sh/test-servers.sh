#!/usr/bin/env bash
# Smoke test of tests/servers/: a real radosgw that checks signatures and
# nginx TLS in front of it, exercised with curl --aws-sigv4 and botocore only.
# It runs no s3root: the mbedTLS and SAN suites would test the same servers
# again.
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
requires curl openssl nginx sha256sum ceph ceph-mon ceph-osd monmaptool \
	radosgw radosgw-admin
requires_py botocore
. "$TOP/tests/servers/nginx-tls.sh"

t0=$(date +%s)
at_exit "rgw_stop $T/rgw"
at_exit "tls_stop $T/tls"
rgw_start "$T/rgw" || fail "rgw_start"
tls_start "$T/tls" || fail "tls_start"

sha() { sha256sum "$1" | cut -d' ' -f1; }

# get URL OUT [CURL_ARGS...]: signed GET (main user unless -u is given
# again); prints the HTTP status.
get() {
	local url=$1 out=$2
	shift 2
	curl -sS -o "$out" -w '%{http_code}' --aws-sigv4 "aws:amz:$RGW_REGION:s3" \
		-u "$RGW_ACCESS:$RGW_SECRET" \
		-H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@" "$url"
}

# expect_get WANT_STATUS WANT_SHA_OR_CODE URL [CURL_ARGS...]
expect_get() {
	local want=$1 what=$2 url=$3 code
	shift 3
	rm -f "$T/got"
	code=$(get "$url" "$T/got" "$@") || fail "curl failed: $url"
	[ "$code" = "$want" ] || fail "$url: HTTP $code, want $want: $(head -c 300 "$T/got")"
	case $what in
	[0-9a-f]*[0-9a-f]) [ "$(sha "$T/got")" = "$what" ] || fail "$url: wrong data" ;;
	*) grep -q "<Code>$what</Code>" "$T/got" ||
		fail "$url: want $what: $(head -c 300 "$T/got")" ;;
	esac
}

s3ctl mb bkt || fail "mb"
head -c $((3 << 20)) /dev/urandom >"$T/obj"
want=$(sha "$T/obj")
key='dir/obj 3M+=~ü'
ukey='dir/obj%203M%2B%3D~%C3%BC'
s3ctl put bkt obj "$T/obj" >/dev/null || fail "put obj"
s3ctl put bkt "$key" "$T/obj" >/dev/null || fail "put $key"
[ "$(s3ctl ls bkt | cut -f1 | sort | tr '\n' '|')" = "$key|obj|" ] ||
	fail "ls: $(s3ctl ls bkt)"
s3ctl get bkt "$key" "$T/back" && cmp -s "$T/obj" "$T/back" || fail "get $key"

# Plain HTTP: path style, virtual-host style (port in Host), localhost.
vh=(--resolve "bkt.$RGW_HOST:$RGW_PORT:127.0.0.1")
expect_get 200 "$want" "$RGW_ENDPOINT/bkt/obj"
expect_get 200 "$want" "$RGW_ENDPOINT/bkt/$ukey"
expect_get 200 "$want" "http://bkt.$RGW_HOST:$RGW_PORT/obj" "${vh[@]}"
expect_get 200 "$want" "http://bkt.$RGW_HOST:$RGW_PORT/$ukey" "${vh[@]}"
expect_get 200 "$want" "http://localhost:$RGW_PORT/bkt/obj"
expect_get 206 "$(head -c 4096 "$T/obj" | sha256sum | cut -d' ' -f1)" \
	"$RGW_ENDPOINT/bkt/obj" -r 0-4095

# RGW checks signatures (and keys, and anonymous access).
expect_get 403 SignatureDoesNotMatch "$RGW_ENDPOINT/bkt/obj" \
	-u "$RGW_ACCESS:x$RGW_SECRET"
expect_get 403 SignatureDoesNotMatch "http://bkt.$RGW_HOST:$RGW_PORT/obj" \
	"${vh[@]}" -u "$RGW_ACCESS2:$RGW_SECRET"
expect_get 403 InvalidAccessKeyId "$RGW_ENDPOINT/bkt/obj" \
	-u "NOSUCHKEY:$RGW_SECRET"
expect_get 403 AccessDenied "$RGW_ENDPOINT/bkt/obj" \
	-u "$RGW_ACCESS2:$RGW_SECRET2"
code=$(curl -s -o "$T/got" -w '%{http_code}' "$RGW_ENDPOINT/bkt/obj")
[ "$code" = 403 ] || fail "anonymous GET of a private object: HTTP $code"
s3ctl acl bkt obj public-read || fail "acl"
code=$(curl -s -o "$T/got" -w '%{http_code}' "$RGW_ENDPOINT/bkt/obj")
[ "$code" = 200 ] && [ "$(sha "$T/got")" = "$want" ] ||
	fail "anonymous GET of a public-read object: HTTP $code"

# TLS through nginx: the right CA and names work, the others do not.
tls=(--cacert "$TLS_CA" --resolve "$TLS_HOST:$TLS_PORT:127.0.0.1"
	--resolve "bkt.$TLS_HOST:$TLS_PORT:127.0.0.1")
expect_get 200 "$want" "https://$TLS_HOST:$TLS_PORT/bkt/obj" "${tls[@]}"
expect_get 200 "$want" "https://bkt.$TLS_HOST:$TLS_PORT/$ukey" "${tls[@]}"
expect_get 200 "$want" "https://localhost:$TLS_PORT/bkt/$ukey" --cacert "$TLS_CA"
expect_get 200 "$want" "$TLS_ENDPOINT/bkt/obj" "${tls[@]}" --tls-max 1.2
expect_get 403 SignatureDoesNotMatch "$TLS_ENDPOINT/bkt/obj" "${tls[@]}" \
	-u "$RGW_ACCESS:x$RGW_SECRET"
for bad in "--cacert $TLS_BAD_CA --resolve $TLS_HOST:$TLS_PORT:127.0.0.1 https://$TLS_HOST:$TLS_PORT/" \
	"--cacert $TLS_CA --resolve $TLS_HOST:$TLS_BADNAME_PORT:127.0.0.1 https://$TLS_HOST:$TLS_BADNAME_PORT/" \
	"--cacert $TLS_CA --resolve $TLS_HOST:$TLS_EXPIRED_PORT:127.0.0.1 https://$TLS_HOST:$TLS_EXPIRED_PORT/"; do
	rc=0
	# shellcheck disable=SC2086
	curl -s -o /dev/null $bad || rc=$?
	[ $rc = 60 ] || fail "curl $bad: exit $rc, want 60 (certificate rejected)"
done

# STS: a real session token, accepted only with its token and until it
# expires.
rgw_assume_role 900 || fail "assume-role"
sts=(-u "$RGW_STS_ACCESS:$RGW_STS_SECRET")
expect_get 200 "$want" "$RGW_STS_ENDPOINT/bkt/obj" "${sts[@]}" \
	-H "x-amz-security-token: $RGW_STS_TOKEN"
expect_get 403 AccessDenied "$RGW_STS_ENDPOINT/bkt/obj" "${sts[@]}"
RGW_ENDPOINT=$RGW_STS_ENDPOINT RGW_ACCESS=$RGW_STS_ACCESS \
	RGW_SECRET=$RGW_STS_SECRET RGW_TOKEN=$RGW_STS_TOKEN \
	s3ctl get bkt "$key" "$T/back" && cmp -s "$T/obj" "$T/back" ||
	fail "s3ctl get with a session token"
rgw_assume_role 2 || fail "assume-role for 2 s"
expect_get 200 "$want" "$RGW_STS_ENDPOINT/bkt/obj" "${sts[@]}" \
	-u "$RGW_STS_ACCESS:$RGW_STS_SECRET" -H "x-amz-security-token: $RGW_STS_TOKEN"
wait_for 10 rgw_sts_expired || fail "the 2 s session token did not expire"
expect_get 403 AccessDenied "$RGW_STS_ENDPOINT/bkt/obj" \
	-u "$RGW_STS_ACCESS:$RGW_STS_SECRET" -H "x-amz-security-token: $RGW_STS_TOKEN"

# Stop everything; nothing that was started may be left.
pids=$(cat "$T"/rgw/pids/*.pid "$T/tls/pids/nginx.pid")
pids="$pids $(_srv_children "$(cat "$T/tls/pids/nginx.pid")")"
[ "$(echo "$pids" | wc -w)" -ge 6 ] || fail "expected 6+ processes: $pids"
tls_stop "$T/tls" || fail "tls_stop"
rgw_stop "$T/rgw" || fail "rgw_stop"
for p in $pids; do
	! _srv_alive "$p" || fail "process $p still runs: $(tr '\0' ' ' </proc/"$p"/cmdline)"
done
echo "ok ($(($(date +%s) - t0)) s)"
