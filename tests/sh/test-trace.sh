#!/usr/bin/env bash
# Boot traces without a boot: `s3root serve --trace-out` records what an
# NBD client (fio) reads, the trace is checked (`trace show`) and published
# beside the image in the suite's RGW, and a second serve with
# s3root.trace=SOURCE replays it before the client asks, so that the same
# reads cost no GET; the bytes stay right. A trace for another object, a
# missing one and hostile ones are ignored with one message each, and the
# server serves regardless.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd nbdcopy fio
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET

size=$((32 << 20))
head -c $size /dev/urandom >"$T/image"
head -c $((1 << 20)) /dev/urandom >"$T/other"
s3ctl mb boot >/dev/null
s3ctl put boot image "$T/image" >/dev/null
s3ctl put boot other "$T/other" >/dev/null
uri="nbd+unix:///?socket=$T/s.sock"
base="s3.endpoint=$RGW_ENDPOINT,s3.cache=16M,s3.chunk=64K"

# start OPTIONS [ARGS...]: serve s3://boot/image with these options
start() {
	local opts=$1
	shift
	rm -f "$T/s.sock" "$T/serve.log"
	"$S3ROOT" serve s3://boot/image --listen "unix:$T/s.sock" \
		-o "$base${opts:+,$opts}" "$@" 2>"$T/serve.log" &
	serve_pid=$!
	at_exit "kill $serve_pid 2>/dev/null"
	wait_for 50 grep -q "^listening on" "$T/serve.log" ||
		fail "serve did not start: $(cat "$T/serve.log")"
}

# gets: the GETs the last figures serve printed count
gets() {
	sed -n 's/^GET latency:.*(\([0-9]*\) GETs)/\1/p' "$T/serve.log" | tail -n 1
}

ask_figures() {
	local n
	n=$(grep -c '^fetched:' "$T/serve.log" || true)
	kill -USR1 "$serve_pid"
	wait_for 50 sh -c "[ \$(grep -c '^fetched:' $T/serve.log) -gt $n ]" ||
		fail "no figures on SIGUSR1"
}

# the workload: 128 random 16 KiB reads in [8 MiB, 16 MiB), the same ones
# every time (fio's random sequence is seeded)
workload() {
	fio --name=boot --ioengine=nbd --uri="$uri" --rw=randread --bs=16k \
		--iodepth=1 --offset=8m --size=8m --io_size=2m \
		--randrepeat=1 --norandommap --output-format=terse \
		>"$T/fio" 2>&1 || fail "fio: $(cat "$T/fio")"
}

# 1. record: the reads of one client session, written at the exit
start "" --trace-out "$T/image.trace"
workload
ask_figures
grep -q '^trace: recording, 128 reads, 2097152 bytes' "$T/serve.log" ||
	fail "recording state: $(grep '^trace:' "$T/serve.log")"
cold=$(gets)
serve_stop
"$S3ROOT" trace show "$T/image.trace" >"$T/show" ||
	fail "trace show: $(cat "$T/show")"
etag=$("$S3ROOT" stat s3://boot/image -o "s3.endpoint=$RGW_ENDPOINT" | sed -n "s/^etag: //p")
grep -qx "size: $size" "$T/show" || fail "trace size: $(cat "$T/show")"
grep -qx "reads: 128" "$T/show" || fail "trace reads: $(cat "$T/show")"
grep -qx "bytes: 2097152" "$T/show" || fail "trace bytes: $(cat "$T/show")"
grep -qxF "etag: $etag" "$T/show" || fail "trace etag: $(cat "$T/show") (want $etag)"
# every read lies where the workload reads, 16 KiB each
awk 'NR > 3 && $1 != "end" && ($1 < 8388608 || $1 + $2 > 16777216 ||
	$2 != 16384 || $1 % 16384) { bad = 1 } END { exit bad }' \
	"$T/image.trace" || fail "a recorded read is not the workload's"
echo "record: 128 reads of 16 KiB recorded and saved ($cold GETs cold)"

# 2. replay: published beside the image, named by s3root.trace; fetched
# before the client asks, so that the same reads then cost no GET
s3ctl put boot image.trace "$T/image.trace" >/dev/null
start "s3root.trace=s3://boot/image.trace"
grep -q "trace s3://boot/image.trace: 128 reads, 2097152 bytes, to replay" \
	"$T/serve.log" || fail "the trace was not taken: $(cat "$T/serve.log")"
wait_for 60 sh -c "kill -USR1 $serve_pid; sleep 0.2;
	grep -q '^replay: every run fetched' $T/serve.log" ||
	fail "the replay did not finish: $(grep '^replay' "$T/serve.log")"
ask_figures
before=$(gets)
workload
ask_figures
after=$(gets)
[ "$after" = "$before" ] ||
	fail "the replayed reads took $((after - before)) GETs (cold: $cold)"
used=$(sed -n 's/^replay: .* chunks fetched, \([0-9]*\) used.*/\1/p' \
	"$T/serve.log" | tail -n 1)
[ "${used:-0}" -gt 0 ] || fail "no replayed chunk used: $(grep '^replay' "$T/serve.log")"
# the replayed chunks hold the image's bytes (and so does the rest)
nbdcopy "$uri" "$T/copy"
cmp -s "$T/copy" "$T/image" || fail "the bytes read after the replay differ"
serve_stop
echo "replay: $(grep '^replay: [0-9]' "$T/serve.log" | tail -n 1)"
echo "replay: the workload's reads took no GET ($before before, cold $cold)"

# without a RAM cache to replay into, a warning says what it needs
start "s3.cache=0,s3root.trace=s3://boot/image.trace"
serve_stop
grep -q "^s3root: warning: serve: replaying the trace: it needs a RAM cache" \
	"$T/serve.log" || fail "s3.cache=0: $(grep trace "$T/serve.log")"

# 3. what is not a trace for this image is ignored with one message, and
# the server serves regardless: another image's, a missing one, hostile
# ones (cut short, a read past the end, overlapping time, too large)
sed "3s/.*/etag \"0123456789abcdef0123456789abcdef\"/" "$T/image.trace" >"$T/wrong"
head -c 200 "$T/image.trace" >"$T/cut"
sed "4s/.*/33554000 16384 0/" "$T/image.trace" >"$T/past"
head -c $((9 << 20)) /dev/zero >"$T/huge"
for t in wrong cut past huge; do
	s3ctl put boot "$t.trace" "$T/$t" >/dev/null
done
check_ignored() {
	local name=$1 want=$2 n
	start "s3root.trace=s3://boot/$name.trace"
	"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/image" 50 3 ||
		fail "$name: reads after an ignored trace"
	serve_stop
	n=$(grep -c "trace s3://boot/$name.trace" "$T/serve.log" || true)
	[ "$n" = 1 ] || fail "$name: $n messages about the trace: $(cat "$T/serve.log")"
	grep -Eq "^s3root: $want" "$T/serve.log" ||
		fail "$name: want /$want/: $(grep trace "$T/serve.log")"
	echo "$name: $(grep "trace s3://boot/$name.trace" "$T/serve.log")"
}
check_ignored wrong "warning: trace s3://boot/wrong.trace is for another image .*: ignored"
check_ignored none "warning: trace s3://boot/none.trace: .*(going on without it)"
check_ignored cut "trace s3://boot/cut.trace: the trace is cut short .*: ignored"
check_ignored past "trace s3://boot/past.trace: line 4: read 33554000\+16384 is past the image's end .*: ignored"
check_ignored huge "trace s3://boot/huge.trace: 9437184 bytes \(a trace is 1 to 8388608\): ignored"

# `trace show` refuses the same files with a clear line
expect_fail "trace: $T/past: line 4: read 33554000\+16384 is past" \
	"$S3ROOT" trace show "$T/past"
expect_fail "trace: $T/huge: larger than a trace may be" \
	"$S3ROOT" trace show "$T/huge"
# a bad option value is refused before any request
expect_fail "s3root.trace" "$S3ROOT" serve s3://boot/image \
	--listen "unix:$T/x.sock" -o "s3root.trace=ftp://x"
expect_fail "not with s3root.trace=SOURCE" "$S3ROOT" serve s3://boot/image \
	--listen "unix:$T/x.sock" -o "$base,s3root.trace=s3://boot/x" \
	--trace-out "$T/x"
echo "hostile traces: refused with one clear line; the server serves"
