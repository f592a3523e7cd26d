#!/usr/bin/env bash
# tests/sh/soak.sh [--valgrind]: s3root serve under load with faults on, for
# leaks and growth (make soak, make valgrind; not part of make check).
#
# The suite's RGW holds a 64 MiB random object; tests/servers/faultproxy.py
# in front of it throws 5xx, resets, short bodies, stalls and wrong ranges
# at a few percent of the requests. s3root serve (default cache) answers
# fio's random reads (4 KiB to 1 MiB, 32 deep) for SOAK_TIME seconds (600),
# and every minute tests/sh/nbd_check.py checks 200 reads byte by byte.
# serve's RSS is sampled every SOAK_STEP seconds (10): the curve is printed
# and kept in $SOAK_OUT/rss.tsv; it must stay flat once the cache is full
# (the median of the last minute no more than SOAK_GROWTH KiB, 1024, above
# that of the third minute).
#
# --valgrind: the same for VG_TIME seconds (90) with serve (a dynamic glibc
# build: make valgrind builds build-glibc/s3root) under valgrind
# --leak-check=full; any error or any definitely, indirectly or possibly
# lost block fails the run (tests/sh/valgrind.supp: only the TLS vectors
# of the threads still running when serve exits); then s3root get of the
# whole object through the same faults, which must end with no block in use
# at all.
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd fio
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/servers/faultproxy.sh"

vg=0
[ "${1:-}" = --valgrind ] && vg=1
if [ $vg = 1 ]; then
	requires valgrind
	secs=${VG_TIME:-90}
	file "$S3ROOT" | grep -q 'dynamically linked' ||
		fail "valgrind needs a dynamic glibc build (make valgrind), not $S3ROOT"
else
	secs=${SOAK_TIME:-600}
fi
step=${SOAK_STEP:-10}
out=${SOAK_OUT:-$TOP/build/soak}
mkdir -p "$out"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET
unset AWS_SESSION_TOKEN AWS_REGION AWS_DEFAULT_REGION AWS_ENDPOINT_URL

size=$((64 << 20))
head -c $size /dev/urandom >"$T/img"
s3ctl mb soak >/dev/null
s3ctl put soak img "$T/img" >/dev/null
uri="nbd+unix:///?socket=$T/s.sock"

proxy_start soak 503:2% 500:1% reset:1% reset-body:1% truncate:1% \
	stall:3:0.2% stall-body:3:0.2% bad-range:1%
opts="$ep,s3.request_timeout=2s"
if [ $vg = 1 ]; then
	rm -f "$T/s.sock" "$T/serve.log"
	valgrind --leak-check=full --show-leak-kinds=definite,indirect,possible \
		--errors-for-leak-kinds=definite,indirect,possible \
		--error-exitcode=99 --log-file="$out/valgrind.log" \
		--suppressions="$TOP/tests/sh/valgrind.supp" \
		"$S3ROOT" serve s3://soak/img --listen "unix:$T/s.sock" \
		-o "$opts" 2>"$T/serve.log" &
	serve_pid=$!
	at_exit "kill $serve_pid 2>/dev/null"
	wait_for 600 grep -q "^listening on unix:$T/s.sock" "$T/serve.log" ||
		fail "serve did not start: $(cat "$T/serve.log")"
else
	serve_start s3://soak/img "$opts"
fi

# the RSS of serve (valgrind's own under valgrind: not meaningful there)
rss_kib() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$serve_pid/status"; }

fio --name=soak --ioengine=nbd --uri="$uri" --rw=randread \
	--bsrange=4k-1m --iodepth=32 --size=$size --time_based \
	--runtime="$secs" --output-format=terse >"$T/fio" 2>&1 &
fio_pid=$!
at_exit "kill $fio_pid 2>/dev/null"

printf 'seconds\trss_kib\n' >"$out/rss.tsv"
t=0 checks=0 next_check=60
while kill -0 $fio_pid 2>/dev/null; do
	sleep "$step"
	t=$((t + step))
	printf '%d\t%d\n' $t "$(rss_kib)" >>"$out/rss.tsv"
	if [ $t -ge $next_check ] && [ $t -lt "$secs" ]; then
		"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" 200 $t \
			>"$T/check" 2>&1 ||
			fail "reads at ${t}s: $(cat "$T/check")"
		checks=$((checks + 1))
		next_check=$((next_check + 60))
	fi
done
wait $fio_pid || fail "fio: $(cat "$T/fio")"
"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/img" 400 1 >"$T/check" 2>&1 ||
	fail "reads at the end: $(cat "$T/check")"
checks=$((checks + 1))

if [ $vg = 1 ]; then
	kill "$serve_pid"
	rc=0
	wait "$serve_pid" || rc=$?
	[ $rc = 0 ] || [ $rc = 99 ] || fail "serve exited with $rc"
else
	serve_stop
fi
grep -E '^(cache|readahead|fetched|in flight|GET latency):' "$T/serve.log" |
	tail -n 5
# fio's terse v3: field 6 read KiB, 7 bandwidth KiB/s, 8 IOPS
awk -F';' '$1 == 3 { printf "fio: %d MiB read, %d IOPS, %.1f MiB/s\n", $6 / 1024, $8, $7 / 1024 }' "$T/fio"
echo "byte checks: $checks x nbd_check.py, 0 wrong"
echo "faults struck: $(requests 'stalling|fault=[^p]') of $(requests '') requests"

if [ $vg = 1 ]; then
	# and get, which frees all it took, through the same faults
	valgrind --leak-check=full --show-leak-kinds=all \
		--errors-for-leak-kinds=all --error-exitcode=99 \
		--log-file="$out/valgrind-get.log" \
		"$S3ROOT" get s3://soak/img -o "$opts" --output "$T/got" \
		2>"$T/get.err" || fail "get under valgrind: $(cat "$T/get.err")"
	cmp -s "$T/got" "$T/img" || fail "get under valgrind: wrong bytes"
	grep -E 'ERROR SUMMARY|in use at exit' "$out/valgrind-get.log" |
		sed 's/^==[0-9]*== */valgrind (get): /'
	grep -E 'ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|All heap blocks' \
		"$out/valgrind.log" | sed 's/^==[0-9]*== */valgrind: /'
	grep -q 'ERROR SUMMARY: 0 errors' "$out/valgrind.log" ||
		fail "valgrind found errors: see $out/valgrind.log"
	echo "valgrind: clean ($out/valgrind.log)"
	exit 0
fi

# the curve, and its growth once the cache is full: the median of the
# samples of the last minute against that of the third minute (a single
# sample jumps with the large reads in flight)
awk -F'\t' 'NR > 1 { printf "%5ds %7.1f MiB %s\n", $1, $2 / 1024, substr("##################################################", 1, $2 / 1024) }' \
	"$out/rss.tsv"
awk -F'\t' -v limit="${SOAK_GROWTH:-1024}" -v secs="$secs" '
	function median(a, n,   i, j, t) {
		for (i = 1; i <= n; i++)
			for (j = i + 1; j <= n; j++)
				if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	NR > 1 && $1 >= 120 && $1 < 180 { early[++ne] = $2 }
	NR > 1 && $1 > secs - 60 { late[++nl] = $2 }
	NR > 1 && $2 > max { max = $2 }
	END {
		if (!ne || secs < 240) {
			print "run shorter than 240 s: no verdict"
			exit 0
		}
		b = median(early, ne); e = median(late, nl)
		printf "RSS: median %.1f MiB in the third minute, %.1f MiB in the last, peak %.1f MiB\n",
			b / 1024, e / 1024, max / 1024
		if (e - b > limit) {
			printf "RSS grew by %d KiB after the cache filled\n", e - b
			exit 1
		}
	}' "$out/rss.tsv" || fail "RSS is not flat: see $out/rss.tsv"
echo "soak: ${secs}s, RSS flat"
