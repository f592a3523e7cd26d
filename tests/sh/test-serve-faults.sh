#!/usr/bin/env bash
# The fault matrix: s3root serve in front of tests/servers/faultproxy.py in
# front of the suite's RGW, read by libnbd with 32 reads in flight, every
# byte checked against the object (tests/sh/nbd_check.py). Each fault must
# either be ridden out (right bytes, and serve's exit figures show the
# retries) or end in a clear error with no wrong byte: 5xx bursts, resets
# before and inside an answer, stalls, short bodies, a wrong Content-Range, a
# 200 for a range, a skewed server clock, a wrong TLS certificate, another
# version's bytes, a real replacement of the object (unversioned: EIO;
# versioned: the pinned version goes on), a client that reads none of its
# replies, a cache file shared by two servers, a sync error under the cache
# file, a 30 s outage in hard mode and an outage past s3.io_timeout (EIO,
# then the device recovers). At the default chunk size over an object six
# times the cache (8 MiB), each case makes random reads and a whole
# copy, and each fault kind strikes at least 100 times (a 200 for a range
# costs the whole object and a skewed clock is learnt once: those fewer). The recovery
# times come from the proxy's log: from the start of each struck request to
# the end of the request that delivered the same bytes.
# Where it runs (tests/run.sh's SUITE): the BearSSL suite runs all of it
# as said. The mbedTLS suite runs only the TLS cases (wrong-cert): every
# other case goes over plain HTTP, the same code in both builds. The SAN
# suite (ASan + UBSan: what it checks is that each path is taken, not how
# often) runs every case over an object three times the cache with 400
# reads a case: each fault kind strikes at least 25 times, and the
# hard-mode outage lasts 10 s.
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd nginx openssl nbdcopy losetup
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/servers/nginx-tls.sh"
. "$TOP/tests/servers/faultproxy.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
at_exit "tls_stop $T/tls"
tls_start "$T/tls" >/dev/null # its certificates, for the TLS proxy

export S3ROOT_CONFIG=/dev/null
# the proxy re-signs with the secret for full-200 and skew
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL

# six times the cache: at the default chunk (32 KiB) and a cache of 8 MiB
# (a quarter of the default 32 MiB, so that eviction goes on under every
# fault) the reads and copies make over a thousand GETs a case (SAN: three
# times the cache, 400 reads); each fault kind strikes at least $least
# times, the outage lasts $outage s
case ${SUITE:-bearssl} in
san) size=$((24 << 20)) reads=${FAULT_READS:-400} least=25 outage=10 ;;
*) size=$((48 << 20)) reads=${FAULT_READS:-1000} least=100 outage=30 ;;
esac
head -c $size /dev/urandom >"$T/img"
head -c $size /dev/urandom >"$T/img2"
s3ctl mb bkt >/dev/null
s3ctl put bkt img "$T/img" >/dev/null
uri="nbd+unix:///?socket=$T/s.sock"
# the default chunk, the cache 8 MiB
base="s3.request_timeout=2s,s3.cache=8M"

now_ms() { echo $((${EPOCHREALTIME/./} / 1000)); }

# figure NAME: from the figures serve printed at exit (serve_stop)
#   retries, requests (attempts, the HEAD included)
figure() {
	case $1 in
	retries) sed -n 's/^fetched: .* requests, \([0-9]*\) retries$/\1/p' ;;
	requests) sed -n 's/^fetched: .* in \([0-9]*\) requests, .*/\1/p' ;;
	esac <"$T/serve.log" | tail -n 1
}

# recovery: "median/max ms" from the start of each struck request in $plog
# (refused versions and whole-object 200s, which are used, aside) to the end of the first later one that delivered
# the same bytes (a range ending at the same byte: a retry asks only for
# what is missing)
recovery() {
	"$PY3" - "$plog" <<'EOF'
import re, statistics, sys
line = re.compile(r"^#(\d+) \+([\d.]+)s conn=\d+ (\w+) \S+ range=(\S+) "
                  r"fault=(.*) status=(\S+) start=\+([\d.]+)s$")
stall = re.compile(r"^#(\d+) \+([\d.]+)s conn=\d+ (\w+) \S+ range=(\S+): "
                   r"stalling")
struck, done = {}, []
for text in open(sys.argv[1]):
    m = line.match(text)
    if m:
        seq, end, method, rng, fault, status, start = m.groups()
        if status in ("200", "206") and fault.startswith(
                ("pass", "full-200", "skew-resigned")):
            done.append((method, rng.rpartition("-")[2], float(start),
                         float(end)))
        if not fault.startswith(("pass", "skew-resigned", "etag-change",
                                 "full-200")):  # used as they are
            struck[seq] = (method, rng.rpartition("-")[2], float(start))
        continue
    m = stall.match(text)  # logged as it begins: the end may never be
    if m:
        seq, start, method, rng = m.groups()
        struck[seq] = (method, rng.rpartition("-")[2], float(start))
times = []
for method, last, start in struck.values():
    ends = [e for m2, l2, s2, e in done
            if m2 == method and l2 == last and s2 > start]
    if ends:
        times.append((min(ends) - start) * 1000)
print("%d/%d ms" % (statistics.median(times), max(times)) if times else "-")
EOF
}

# check NAME OPTS MAX_FAILED: nbd_check.py's random reads against serve,
# and (when none may fail) a whole copy; sets ms
check() {
	local t0
	t0=$(now_ms)
	"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" "$reads" \
		"${SEED:-1}" "$3" >"$T/$1.check" 2>&1 ||
		fail "$1 ($2): $(cat "$T/$1.check"; tail -n 20 "$T/serve.log")"
	if [ "$3" = 0 ]; then
		nbdcopy "$uri" "$T/copy" && cmp -s "$T/copy" "$T/img" ||
			fail "$1 ($2): the whole copy differs"
	fi
	ms=$(($(now_ms) - t0))
}

# strikes KIND: how many requests the proxy struck with KIND
strikes() {
	case $1 in
	stall | stall-body) grep -c ": stalling " "$plog" ;;
	*) grep -c " fault=$1[ .]" "$plog" ;;
	esac
}

# hundred KIND...: each kind struck at least 100 times ($least)
hundred() {
	local k n
	for k in "$@"; do
		n=$(strikes "$k")
		[ "$n" -ge "$least" ] || fail "$k struck $n times, not $least"
	done
}

# row NAME WHAT: one line of the matrix (attempts: serve's HTTP requests,
# the HEAD and reads around a full cache included; struck: by the proxy)
row() {
	printf '%-12s %6d ms %4d attempts %3d struck %3d retries  %-11s %s\n' \
		"$1" "$ms" "$(figure requests)" \
		"$(($(requests 'stalling|fault=(stall|skew-403|[^ps])') +
			$(grep -c '^#- .*fault=wrong-cert' "$plog")))" \
		"$(figure retries)" \
		"$(recovery)" "$2"
}

# ride NAME OPTS LOGPAT SERVEPAT RULE...: serve through a proxy with RULEs;
# all reads right, the proxy's log matches LOGPAT (the fault struck: a line
# may say "fault=KIND (then BrokenPipeError)" when the client left before
# the proxy had written all of a refused or partly used answer) and
# serve's log SERVEPAT ("retries": its figures count retries; "" neither)
ride() {
	local name=$1 opts=$2 logpat=$3 servepat=$4
	shift 4
	proxy_start "$name" "$@"
	serve_start s3://bkt/img "$ep,$base$opts"
	check "$name" "$*" 0
	serve_stop
	proxy_stop
	grep -Eq -- "$logpat" "$plog" ||
		fail "$name: no /$logpat/ in the proxy's log"
	case $servepat in
	"") ;;
	retries) [ "$(figure retries)" -gt 0 ] ||
		fail "$name: no retries in the figures: $(cat "$T/serve.log")" ;;
	*) grep -Eq -- "$servepat" "$T/serve.log" ||
		fail "$name: serve's log lacks /$servepat/: $(cat "$T/serve.log")" ;;
	esac
	row "$name" "$*"
}

echo "case            time   attempts    struck     retries  recovery    faults"
# TLS: handshakes 3 to 6 (while 16 connections open) meet a certificate for
# another name: refused, and tried again; as the first handshake, at start,
# it is a clear error
tls="$base,s3.resolve=$TLS_HOST:127.0.0.1,s3.ca=$TLS_CA,s3.urlstyle=path"
proxy_opts=(--tls "$TLS_DIR/server.pem:$TLS_DIR/server.key"
	--bad-cert "$TLS_DIR/badname.pem:$TLS_DIR/badname.key")
proxy_start wrong-cert wrong-cert:3-6
serve_start s3://bkt/img "s3.endpoint=https://$TLS_HOST:$proxy_port,$tls"
check wrong-cert "" 0
serve_stop
proxy_stop
[ "$(grep -c 'TLS fault=wrong-cert' "$plog")" -eq 4 ] ||
	fail "wrong-cert: $(grep TLS "$plog")"
grep -q 'certificate name mismatch.*; retrying' "$T/serve.log" ||
	fail "wrong-cert: no retry warning: $(cat "$T/serve.log")"
row wrong-cert "wrong-cert:3-6 (handshakes)"
proxy_start wrong-cert-1 wrong-cert:1
expect_fail "certificate name mismatch" "$S3ROOT" serve s3://bkt/img \
	--listen "unix:$T/never.sock" \
	-o "s3.endpoint=https://$TLS_HOST:$proxy_port,$tls"
proxy_stop
proxy_opts=()
echo "wrong-cert:1 at start: $(grep -o 'certificate name mismatch.*' "$T/err")"

if [ "${SUITE:-bearssl}" = mbedtls ]; then
	echo "-- the cases over plain HTTP: in the BearSSL and SAN suites"
	exit 0
fi
ride pass "" 'fault=pass status=206' ""
[ "$(figure retries)" -eq 0 ] || fail "pass: retries without faults"
ride 503 "" 'fault=503 status=503' retries 503:12%
hundred 503
ride 5xx "" 'fault=500 .*|fault=502 .*|fault=504 ' retries \
	500:12% 502:12% 504:12%
hundred 500 502 504
# a reset on a kept connection is taken for one the server closed while
# idle: a new connection at once, not a retry; the attempts show it
ride reset "" 'fault=reset status=reset' "" reset:12%
hundred reset
[ "$(figure requests)" -gt "$(requests 'status=20')" ] ||
	fail "reset: no request was made again"
ride reset-body "" 'fault=reset-body' retries reset-body:12%
hundred reset-body
ride truncate "" 'fault=truncate' retries truncate:12%
hundred truncate
# (a 1 s request timeout: a hundred stalls in less time; without
# hedging, which would hide the stalls: test-s3-pool.sh)
ride stall ",s3.request_timeout=1s,s3.hedge=off" 'stalling 2s' retries \
	stall:2:10%
hundred stall
ride stall-body ",s3.request_timeout=1s" 'stalling 2s' retries \
	stall-body:2:10%
hundred stall-body
ride bad-range "" 'fault=bad-range.* status=206' retries bad-range:12%
hundred bad-range
# a 200 with the whole object is used as it is
ride full-200 "" 'fault=full-200.* status=200' "" full-200:3%
ride skew "" 'fault=skew-403' "clock is off by \+3600 s" skew:3600:all
[ "$(requests 'fault=skew-403')" -le 2 ] ||
	fail "skew: refused again after the clock was learnt"
ride random "" 'fault=(503|reset-body|truncate|bad-range|stall)' retries \
	503:5% 500:2% reset:3% reset-body:3% truncate:3% stall:3:1% \
	stall-body:3:1% bad-range:3% full-200:1%

# another version's bytes (a server ignoring If-Match): refused, EIO
# (without hedging: a hedge answered by the right version would hide a
# struck request from the reads, as it should)
proxy_start etag-change etag-change:20-21
serve_start s3://bkt/img "$ep,$base,s3.hedge=off"
check etag-change "" "$reads"
serve_stop
proxy_stop
grep -q 'answered with ETag "0123456789abcdef.*not the pinned' \
	"$T/serve.log" || fail "etag-change: $(cat "$T/serve.log")"
failed=$(grep -o '[0-9]* failed$' "$T/etag-change.check" | cut -d' ' -f1)
[ "$failed" -ge 1 ] || fail "etag-change: no read failed"
row etag-change "etag-change:20-21: $failed reads EIO, 0 wrong"

# the object really replaced under a running server: unversioned, each read
# that needs the network fails with the 412 (never the new bytes); versioned,
# the pinned version goes on
serve_start s3://bkt/img "s3.endpoint=$RGW_ENDPOINT,$base"
"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" 50 2 >/dev/null ||
	fail "replaced: before"
s3ctl put bkt img "$T/img2" >/dev/null
ms=0 plog=/dev/null
check replaced "" "$reads"
serve_stop
grep -q '412: the object was replaced since it was opened' "$T/serve.log" ||
	fail "replaced: no 412: $(tail -n 5 "$T/serve.log")"
failed=$(grep -o '[0-9]* failed$' "$T/replaced.check" | cut -d' ' -f1)
[ "$failed" -ge 1 ] || fail "replaced: no read failed"
row replaced "unversioned, replaced: $failed reads EIO, 0 wrong"
s3ctl mb vbkt >/dev/null
s3ctl versioning vbkt on >/dev/null
s3ctl put vbkt img "$T/img" >/dev/null
serve_start s3://vbkt/img "s3.endpoint=$RGW_ENDPOINT,$base"
s3ctl put vbkt img "$T/img2" >/dev/null
check versioned "" 0
serve_stop
row versioned "versioned, replaced: the pinned version, 0 failed"
s3ctl put bkt img "$T/img" >/dev/null # the object the cases below read

# a client that reads none of its replies beside the reader: the reads
# go on, and it is dropped after s3root.serve_write_timeout
ms=0 plog=/dev/null
serve_start s3://bkt/img "s3.endpoint=$RGW_ENDPOINT,$base,s3root.serve_write_timeout=3s"
"$PY3" "$TOP/tests/sh/nbd_stall.py" unix "$T/s.sock" stall 256 131072 \
	"$size" >"$T/stalled" &
stalled=$!
at_exit "kill $stalled 2>/dev/null"
wait_for 10 grep -q "^sent 256" "$T/stalled" || fail "stalled client"
check stalled-client "" 0
wait_for 10 grep -q "read none of its replies .*: dropped" "$T/serve.log" ||
	fail "stalled client: not dropped: $(tail -n 5 "$T/serve.log")"
kill "$stalled"
serve_stop
row stalled-client "a client reading nothing beside: dropped, all right"

# one cache file, two servers (another object): the second goes without
# it; both serve their own bytes
serve_start s3://bkt/img "s3.endpoint=$RGW_ENDPOINT,$base,s3.cache_file=$T/shared"
"$S3ROOT" serve s3://vbkt/img --listen "unix:$T/b.sock" \
	-o "s3.endpoint=$RGW_ENDPOINT,$base,s3.cache_file=$T/shared" \
	2>"$T/b.log" &
b_pid=$!
at_exit "kill $b_pid 2>/dev/null"
wait_for 50 grep -q "^listening on" "$T/b.log" || fail "second server"
grep -q "in use by another s3root server" "$T/b.log" ||
	fail "shared cache file: $(cat "$T/b.log")"
nbdcopy "nbd+unix:///?socket=$T/b.sock" "$T/copy" &&
	cmp -s "$T/copy" "$T/img2" || fail "shared cache file: second server"
check shared-file "" 0
kill "$b_pid"
wait "$b_pid" || fail "second server: exit $?"
serve_stop
row shared-file "a second server on the cache file: without it, all right"

# a sync error under the cache file (a loop device over a full tmpfs):
# every read right, the chunks of the failed sync dropped from its map
mkdir "$T/small"
mount -t tmpfs -o size=64m tmpfs "$T/small" || fail "mount tmpfs"
at_exit "umount -l $T/small"
truncate -s 56m "$T/small/back"
head -c $((62 << 20)) /dev/zero >"$T/small/filler"
loopdev=$(losetup -f --show "$T/small/back") || fail "losetup"
at_exit "losetup -d $loopdev"
serve_start s3://bkt/img "s3.endpoint=$RGW_ENDPOINT,$base,s3.cache_file=$loopdev"
check sync-error "" 0
serve_stop
grep -q "cache file $loopdev: sync: .*error: [1-9][0-9]* chunks written since its last good sync are dropped" \
	"$T/serve.log" || fail "sync error: $(tail -n 5 "$T/serve.log")"
row sync-error "writeback failed under the cache file: chunks dropped, all right"

# a 30 s outage (SAN: 10 s; the proxy stopped, then started again on its
# port): hard mode waits, and every read completes with the right bytes
proxy_start outage
serve_start s3://bkt/img "$ep,$base"
port=$proxy_port
proxy_stop
t0=$(now_ms)
"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" "$reads" 3 \
	>"$T/outage.check" 2>&1 &
reader=$!
sleep "$outage"
proxy_opts=(--port "$port")
proxy_start outage-after
proxy_opts=()
back=$(now_ms)
wait $reader || fail "outage: $(cat "$T/outage.check")"
ms=$(($(now_ms) - t0))
serve_stop
proxy_stop
[ "$(figure retries)" -gt 0 ] || fail "outage: no retries"
grep -q "$reads random reads.* 0 wrong, 0 failed" "$T/outage.check" ||
	fail "outage: $(cat "$T/outage.check")"
[ $ms -ge $((outage * 1000)) ] || fail "outage: the reads did not wait ($ms ms)"
row "outage-${outage}s" "hard mode: reads done $(($(now_ms) - back)) ms after the server came back"

# s3.io_timeout=3s: an outage fails the reads with EIO after 3 s; when the
# server is back the same device reads right again
proxy_start soft
serve_start s3://bkt/img "$ep,$base,s3.io_timeout=3s"
port=$proxy_port
proxy_stop
t0=$(now_ms)
"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" 64 4 64 \
	>"$T/soft.check" 2>&1 || fail "soft: $(cat "$T/soft.check")"
ms=$(($(now_ms) - t0))
failed=$(grep -o '[0-9]* failed$' "$T/soft.check" | cut -d' ' -f1)
[ "$failed" -ge 1 ] || fail "soft: no read failed: $(cat "$T/soft.check")"
# a read fails s3.io_timeout after it arrived (its wait for a worker
# included)
slowest=$(sed -n 's/.*(slowest \([0-9.]*\) s).*/\1/p' "$T/soft.check")
awk -v s="$slowest" 'BEGIN { exit !(s >= 2.9 && s < 5) }' ||
	fail "soft: the slowest read took $slowest s: $(cat "$T/soft.check")"
grep -q 'gave up after .*s3.io_timeout' "$T/serve.log" ||
	fail "soft: $(tail -n 5 "$T/serve.log")"
proxy_opts=(--port "$port")
proxy_start soft-after
proxy_opts=()
check soft-after "" 0
serve_stop
proxy_stop
row io_timeout "outage: $failed of 64 reads EIO, each within $slowest s; then all right"
