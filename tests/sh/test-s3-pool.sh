#!/usr/bin/env bash
# The connection pool and hedged GETs, through s3root serve in front of
# tests/servers/faultproxy.py in front of the suite's RGW:
# - grows with demand: fio's random 4 KiB reads, 64 in flight, each GET
#   held 50 ms by the proxy, with s3.connections=4 and
#   s3.connections_max=24: the figures show 24 fetchers and more than 4
#   connections, and fio reads at least 2.5x faster than with
#   s3.connections_max=4 (no growth);
# - shrinks when idle: the connections beyond s3.connections close about
#   10 s after the load ends (serve's figures, on SIGUSR1);
# - hedges: GETs 60 to 62 stall for 5 s; with s3.hedge=auto each is sent
#   again after 200 ms and the hedge answers: every byte right (libnbd, 32
#   in flight), no read slower than 4 s (a busy proxy makes some slow), the figures count the hedges sent
#   and won, and no connection is left over. With s3.hedge=off the same
#   stalls show (the slowest read waits them out).
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd fio
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/servers/faultproxy.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null

export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL

size=$((32 << 20))
head -c $size /dev/urandom >"$T/img"
s3ctl mb bkt >/dev/null
s3ctl put bkt img "$T/img" >/dev/null
uri="nbd+unix:///?socket=$T/s.sock"
# 4 KiB chunks, no readahead to speak of: one GET per read
base="s3.chunk=4K,s3.cache=1M"

# figures: serve's figures now (SIGUSR1), after those printed before
blocks() { grep -c '^connections: ' "$T/serve.log" || true; }
more_than() { [ "$(blocks)" -gt "$1" ]; }
figures() {
	local n
	n=$(blocks)
	kill -USR1 "$serve_pid"
	wait_for 5 more_than "$n" ||
		fail "no figures on SIGUSR1: $(cat "$T/serve.log")"
}
# last N: the last value of field N of serve's "connections:" line
# ("connections: O open, I idle, M made; F fetchers ...")
last() {
	grep '^connections: ' "$T/serve.log" | tail -n 1 | tr -d ',;' |
		awk -v f="$1" '{ print $f }'
}

# load MAX: fio's random 4 KiB reads, 64 in flight, for 4 s; sets iops
load() {
	fio --name=pool --ioengine=nbd --uri="$uri" --rw=randread --bs=4k \
		--iodepth=64 --time_based --runtime=4 --randseed=7 \
		--output-format=terse >"$T/fio.$1" 2>&1 ||
		fail "fio: $(cat "$T/fio.$1")"
	# terse v3: field 8 is the read IOPS
	iops=$(awk -F';' '$1 == 3 { print $8 }' "$T/fio.$1")
	[ -n "$iops" ] || fail "fio: no IOPS in $(cat "$T/fio.$1")"
}

proxy_start slow stall:0.05:all
serve_start s3://bkt/img "$ep,$base,s3.connections=4,s3.connections_max=4"
load 4
serve_stop
fixed=$iops
echo "s3.connections=4 (no growth): $fixed IOPS"

serve_start s3://bkt/img "$ep,$base,s3.connections=4,s3.connections_max=24,s3.hedge=off"
load 24
figures
echo "s3.connections_max=24: $iops IOPS; $(grep '^connections: ' "$T/serve.log" | tail -n 1)"
[ "$(last 8)" -eq 24 ] || fail "the fetchers did not grow to 24: $(tail -n 8 "$T/serve.log")"
[ "$(last 2)" -gt 4 ] && [ "$(last 2)" -le 24 ] ||
	fail "open connections not in 5..24: $(tail -n 8 "$T/serve.log")"
[ $((iops * 10)) -ge $((fixed * 25)) ] ||
	fail "growth did not pay: $iops IOPS against $fixed with 4 connections"
t0=$SECONDS
for _ in $(seq 30); do
	sleep 1
	figures
	[ "$(last 2)" -gt 4 ] || break
done
[ "$(last 2)" -le 4 ] ||
	fail "connections did not shrink back: $(tail -n 8 "$T/serve.log")"
echo "idle: back to $(last 2) open connections in $((SECONDS - t0)) s"
serve_stop
proxy_stop

# hedging: three GETs stall for 5 s, well after the first byte times are
# learnt (the HEAD is request 1)
check() {
	"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" 300 1 \
		>"$T/$1.check" 2>&1 ||
		fail "$1: $(cat "$T/$1.check"; tail -n 20 "$T/serve.log")"
	slowest=$(sed -n 's/.*(slowest \([0-9.]*\) s).*/\1/p' "$T/$1.check")
}
hb="s3.chunk=64K,s3.cache=16M,s3.request_timeout=20s"
proxy_start hedge stall:5:60-62
serve_start s3://bkt/img "$ep,$hb,s3.hedge=auto"
check hedge
figures
serve_stop
proxy_stop
[ "$(requests 'stalling 5s')" -eq 3 ] || fail "hedge: the stalls did not strike"
hedges=$(sed -n 's/^hedged GETs: \([0-9]*\) sent, \([0-9]*\) won.*/\1 \2/p' \
	"$T/serve.log" | tail -n 1)
echo "hedge: $(tail -n 1 "$T/hedge.check"); hedges sent, won: $hedges"
read -r sent won <<<"$hedges"
[ "$sent" -ge 3 ] && [ "$won" -ge 3 ] ||
	fail "hedge: the stalled GETs were not hedged: $(cat "$T/serve.log")"
[ "${slowest%.*}" -lt 4 ] ||
	fail "hedge: a read took $slowest s: $(grep stalling "$plog")"
# every connection open is idle: the losers were closed, none leaked
[ "$(last 2)" -eq "$(last 4)" ] ||
	fail "hedge: connections in use after the reads: $(tail -n 8 "$T/serve.log")"
grep -q 'retrying' "$T/serve.log" &&
	fail "hedge: a stall was retried, not hedged: $(cat "$T/serve.log")"

proxy_start nohedge stall:5:60-62
serve_start s3://bkt/img "$ep,$hb,s3.hedge=off"
check nohedge
serve_stop
proxy_stop
echo "no hedge: $(tail -n 1 "$T/nohedge.check")"
[ "${slowest%.*}" -ge 4 ] ||
	fail "nohedge: the stalls did not show (slowest read $slowest s)"
echo "PASS"
