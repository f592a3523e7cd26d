#!/usr/bin/env bash
# The block cache behind s3root serve, against the suite's RGW, read by real
# NBD clients, with the figures serve prints (SIGUSR1, exit) as the witness:
# a warm start before any read; 32 readers of a few chunks cause one fetch
# per chunk; random reads stay right under heavy eviction and odd chunk
# sizes; a sequential reader is served by readahead; s3.prefetch=all pulls
# the whole image into RAM, or into a cache file that a restarted server
# reads instead of the network, that another object does not trust, that a
# second server leaves alone (locked), and whose map loses the chunks of a
# failed sync (a loop device over a full tmpfs).
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd nbdcopy fio losetup blockdev
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET

size=$((64 << 20))
head -c $size /dev/urandom >"$T/random64"
head -c $((5 << 20)) /dev/urandom >"$T/other"
s3ctl mb cache >/dev/null
s3ctl put cache random64 "$T/random64" >/dev/null
s3ctl put cache other "$T/other" >/dev/null
uri="nbd+unix:///?socket=$T/s.sock"

# start_serve KEY OPTIONS: the object cache/KEY with these options
start_serve() { serve_start "s3://cache/$1" "s3.endpoint=$RGW_ENDPOINT,$2"; }

# figures NAME: a number from the last figures serve printed
#   fetched (bytes), gets, hits, misses, readahead, ra_used
figures() {
	local f
	f=$(grep -E '^(cache|readahead|fetched|GET latency):' "$T/serve.log" | tail -n 5)
	case $1 in
	fetched) sed -n 's/^fetched: \([0-9]*\) bytes.*/\1/p' <<<"$f" | tail -n 1 ;;
	gets) sed -n 's/^GET latency:.*(\([0-9]*\) GETs)/\1/p' <<<"$f" | tail -n 1 ;;
	hits) sed -n 's/^cache: .* KiB, \([0-9]*\) hits.*/\1/p' <<<"$f" | tail -n 1 ;;
	misses) sed -n 's/^cache: .* hits, \([0-9]*\) misses/\1/p' <<<"$f" | tail -n 1 ;;
	readahead) sed -n 's/^readahead: \([0-9]*\) chunks.*/\1/p' <<<"$f" | tail -n 1 ;;
	ra_used) sed -n 's/^readahead: [0-9]* chunks, \([0-9]*\) used.*/\1/p' <<<"$f" | tail -n 1 ;;
	esac
}

# more_figures N: serve has printed more than N sets of figures
more_figures() { [ "$(grep -c '^fetched:' "$T/serve.log")" -gt "$1" ]; }

ask_figures() {
	local n
	n=$(grep -c '^fetched:' "$T/serve.log" || true)
	kill -USR1 "$serve_pid"
	wait_for 50 more_figures "$n" || fail "no figures on SIGUSR1"
}

same_object() {
	nbdcopy "$uri" "$T/copy"
	cmp -s "$T/copy" "$1" || fail "$2: the bytes read differ"
}

# warm start: the first 512 KiB is fetched before anyone asks
start_serve random64 "s3.cache=8M,s3.chunk=128K"
wait_for 50 sh -c "kill -USR1 $serve_pid; sleep 0.1; grep -q '^fetched: 524288 bytes' $T/serve.log" ||
	fail "no warm start: $(tail -n 5 "$T/serve.log")"
echo "warm start: 512 KiB before the first read"

# 32 readers on 8 chunks (at 16 MiB): each chunk is fetched once
fio --name=hot --ioengine=nbd --uri="$uri" --rw=randread --bs=4k \
	--iodepth=32 --offset=16m --size=1m --io_size=16m \
	--output-format=terse >"$T/fio" 2>&1 || fail "fio: $(cat "$T/fio")"
ask_figures
fetched=$(figures fetched)
ahead=$(figures readahead)
[ "$fetched" -le $(((8 + ahead) << 17)) ] ||
	fail "16 MiB of reads in 8 chunks fetched $fetched bytes (want at most 8 chunks once and $ahead read ahead)"
[ "$(figures misses)" -le 8 ] || fail "misses: $(figures misses)"
echo "one fetch per chunk: 4096 reads of 8 chunks fetched $fetched bytes, $ahead chunks of them read ahead"
serve_stop

# random reads checked byte by byte while the cache evicts all the time,
# and with a chunk that is not a power of two
for opts in "s3.cache=64K,s3.chunk=4K" "s3.cache=1M,s3.chunk=12K" \
	"s3.cache=0"; do
	start_serve random64 "$opts"
	"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/random64" 400 "${SEED:-7}" ||
		fail "$opts: random reads"
	same_object "$T/random64" "$opts"
	serve_stop
	echo "$opts: random reads and a full copy are right"
done

# a sequential reader, one 64 KiB request at a time: readahead serves it
start_serve random64 "s3.cache=8M,s3.chunk=128K"
nbdcopy --connections=1 --requests=1 --request-size=65536 "$uri" "$T/copy"
cmp -s "$T/copy" "$T/random64" || fail "sequential copy differs"
serve_stop
reads=$((size / 65536))
gets=$(figures gets)
[ "$(figures ra_used)" -ge 400 ] || fail "readahead used: $(figures ra_used)"
[ "$gets" -le $((reads / 4)) ] || fail "$reads reads took $gets GETs"
[ "$(figures fetched)" -le $((size + (8 << 20))) ] ||
	fail "fetched $(figures fetched) bytes for $size"
echo "sequential: $reads reads in $gets GETs, $(figures ra_used) chunks read ahead and used"

# s3.prefetch=all into RAM: once idle, the whole image, then no network
start_serve random64 "s3.cache=72M,s3.chunk=128K,s3.prefetch=all,s3.prefetch_rate=0"
wait_for 300 grep -q "512 of 512 chunks are local" "$T/serve.log" ||
	fail "prefetch=all did not finish: $(tail -n 3 "$T/serve.log")"
ask_figures
before=$(figures fetched)
[ "$before" = "$size" ] || fail "prefetch=all fetched $before bytes"
same_object "$T/random64" "prefetch=all"
serve_stop
[ "$(figures fetched)" = "$size" ] || fail "reads after prefetch=all fetched more"
echo "prefetch=all (RAM): the whole object once, then reads without GETs"

# s3.prefetch=all into a cache file, which a restarted server trusts
start_serve random64 "s3.cache=256K,s3.chunk=128K,s3.cache_file=$T/cache,s3.prefetch=all,s3.prefetch_rate=0"
wait_for 300 grep -q "512 of 512 chunks are local" "$T/serve.log" ||
	fail "prefetch=all to a file did not finish: $(tail -n 3 "$T/serve.log")"
serve_stop
start_serve random64 "s3.cache=256K,s3.chunk=128K,s3.cache_file=$T/cache"
grep -q "cache file $T/cache holds 512 of 512 chunks" "$T/serve.log" ||
	fail "restart: $(cat "$T/serve.log")"
same_object "$T/random64" "from the cache file"
"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$T/random64" 200 3 ||
	fail "random reads from the cache file"
serve_stop
[ "$(figures fetched)" = 0 ] || fail "with a full cache file, fetched $(figures fetched)"
echo "cache file: filled in the background, then served a restart with no GETs"

# the same file for another object starts empty, and is right
start_serve other "s3.cache=256K,s3.chunk=128K,s3.cache_file=$T/cache"
grep -q "cache file $T/cache: starting empty for s3://cache/other" "$T/serve.log" ||
	fail "another object trusted the cache file: $(cat "$T/serve.log")"
same_object "$T/other" "another object"
serve_stop
# a cache file that cannot be made is a clear error
expect_fail "cache file /proc/nope" "$S3ROOT" serve s3://cache/other \
	--listen "unix:$T/x.sock" -o "s3.endpoint=$RGW_ENDPOINT,s3.cache_file=/proc/nope"
echo "cache file: another object starts it over; a bad path is an error"

# one cache file, two servers: the second goes without it (it would write
# its object's chunks under the first one's map), the first keeps its bytes
start_serve random64 "s3.cache=256K,s3.chunk=128K,s3.cache_file=$T/shared,s3.prefetch=all,s3.prefetch_rate=0"
wait_for 300 grep -q "512 of 512 chunks are local" "$T/serve.log" ||
	fail "prefetch=all to a file did not finish: $(tail -n 3 "$T/serve.log")"
"$S3ROOT" serve s3://cache/other --listen "unix:$T/b.sock" \
	-o "s3.endpoint=$RGW_ENDPOINT,s3.cache=256K,s3.cache_file=$T/shared" \
	2>"$T/b.log" &
b_pid=$!
at_exit "kill $b_pid 2>/dev/null"
wait_for 50 grep -q "^listening on" "$T/b.log" ||
	fail "second server: $(cat "$T/b.log")"
grep -q "cache file $T/shared: in use by another s3root server" "$T/b.log" ||
	fail "a shared cache file was not refused: $(cat "$T/b.log")"
nbdcopy "nbd+unix:///?socket=$T/b.sock" "$T/copy" &&
	cmp -s "$T/copy" "$T/other" || fail "second server: wrong bytes"
same_object "$T/random64" "the first server after the second one's reads"
kill "$b_pid"
wait "$b_pid" || fail "second server: exit $?"
serve_stop
echo "cache file: a second server goes without it; the first keeps its bytes"

# a failed fdatasync (a real writeback error: the cache file is a loop
# device over a file on a tmpfs that is full, until the filler goes): the
# chunks written since the last good sync leave the map, so that the next
# (good) sync does not save them, and a restart never trusts them
mkdir "$T/small"
mount -t tmpfs -o size=80m tmpfs "$T/small" || fail "mount tmpfs"
at_exit "umount -l $T/small"
truncate -s 70m "$T/small/back"
head -c $((76 << 20)) /dev/zero >"$T/small/filler"
loopdev=$(losetup -f --show "$T/small/back") || fail "losetup"
at_exit "losetup -d $loopdev"
# read_range FROM TO: bytes [FROM, TO) through the server, checked
read_range() {
	"$PY3" - "$uri" "$T/random64" "$1" "$2" <<'PY' || fail "read $1-$2"
import sys, nbd
h = nbd.NBD()
h.connect_uri(sys.argv[1])
want = open(sys.argv[2], "rb")
off, end = int(sys.argv[3]), int(sys.argv[4])
while off < end:
    n = min(1 << 20, end - off)
    want.seek(off)
    assert h.pread(n, off) == want.read(n), "wrong bytes at %d" % off
    off += n
PY
}
start_serve random64 "s3.cache=256K,s3.chunk=128K,s3.cache_file=$loopdev"
read_range 0 $((32 << 20))
wait_for 30 grep -q "cache file $loopdev: .*sync\|saving its map" "$T/serve.log" ||
	fail "no failed sync: $(cat "$T/serve.log")"
grep -q "cache file $loopdev: sync: [A-Za-z/ ]*error: [1-9][0-9]* chunks written since its last good sync are dropped" "$T/serve.log" ||
	fail "the failed sync was not said: $(cat "$T/serve.log")"
rm "$T/small/filler"
read_range $((32 << 20)) $size
serve_stop
blockdev --flushbufs "$loopdev"
echo 3 >/proc/sys/vm/drop_caches
start_serve random64 "s3.cache=256K,s3.chunk=128K,s3.cache_file=$loopdev"
held=$(sed -n "s|.*cache file $loopdev holds \([0-9]*\) of 512 chunks.*|\1|p" "$T/serve.log")
[ -n "$held" ] && [ "$held" -lt 512 ] ||
	fail "after a failed sync: $(cat "$T/serve.log")"
same_object "$T/random64" "after a failed sync"
serve_stop
echo "cache file: a failed sync dropped its chunks; the restart held $held of 512, all right"
