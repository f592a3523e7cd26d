#!/usr/bin/env bash
# s3root serve against the suite's RGW, read by real NBD clients: nbdinfo
# (size, read-only), nbdcopy (the object's sha256, then zeros to the block
# boundary), fio --ioengine=nbd random reads at 32 in flight, libnbd random
# reads checked block by block, and hostile traffic (tests/sh/nbd_raw.py);
# for an EROFS image and for a random 64 MiB object.
# (no TLS here: the mbedTLS build would show nothing new)
# suites: bearssl san
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd nbdinfo nbdcopy fio mkfs.erofs
requires_py botocore nbd
. "$TOP/tests/servers/rgw.sh"

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
export S3ROOT_CONFIG=/dev/null
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET

# an EROFS image of some files (its size is not a multiple of 4 KiB after
# we add an odd tail), and 64 MiB of random bytes
mkdir -p "$T/tree/sub"
cp -r "$TOP/src" "$TOP/crypto" "$T/tree/"
head -c 300000 /dev/urandom >"$T/tree/sub/blob"
mkfs.erofs -zlz4hc "$T/root.erofs" "$T/tree" >/dev/null
printf 'odd tail' >>"$T/root.erofs"
head -c $((64 << 20)) /dev/urandom >"$T/random64"
s3ctl mb nbd >/dev/null
s3ctl put nbd root.erofs "$T/root.erofs" >/dev/null
s3ctl put nbd random64 "$T/random64" >/dev/null

uri="nbd+unix:///?socket=$T/s.sock"
for key in root.erofs random64; do
	file=$T/$key
	size=$(stat -c %s "$file")
	dev=$(((size + 4095) / 4096 * 4096))
	serve_start "s3://nbd/$key" "s3.endpoint=$RGW_ENDPOINT"

	nbdinfo --json "$uri" >"$T/info"
	"$PY3" - "$T/info" "$dev" <<'PY' || fail "nbdinfo"
import json, sys
e = json.load(open(sys.argv[1]))["exports"][0]
assert e["export-size"] == int(sys.argv[2]), e["export-size"]
assert e["is_read_only"] and e["can_multi_conn"] and e["can_flush"]
PY
	nbdcopy "$uri" "$T/copy"
	[ "$(head -c "$size" "$T/copy" | sha256sum)" = "$(sha256sum <"$file")" ] ||
		fail "$key: nbdcopy sha256 differs"
	[ "$(stat -c %s "$T/copy")" = "$dev" ] || fail "$key: device size"
	tail -c +$((size + 1)) "$T/copy" | cmp -s - <(head -c $((dev - size)) /dev/zero) ||
		fail "$key: tail is not zeros"
	[ "$key" != root.erofs ] ||
		[ "$(od -An -tx4 -j1024 -N4 "$T/copy" | tr -d ' ')" = e0f5e1e2 ] ||
		fail "no EROFS magic"

	fio --name=rand --ioengine=nbd --uri="$uri" --rw=randread --bs=4k \
		--iodepth=32 --size="$dev" --io_size=8m --numjobs=1 \
		--output-format=terse >"$T/fio" 2>&1 || fail "fio: $(cat "$T/fio")"
	"$PY3" "$TOP/tests/sh/nbd_check.py" "$uri" "$file" 400 "${SEED:-7}" ||
		fail "$key: random reads"
	"$PY3" "$TOP/tests/sh/nbd_raw.py" "$T/s.sock" "$dev" ||
		fail "$key: hostile traffic"
	serve_stop
	echo "$key: $size bytes served as $dev, all checks passed"
done

expect_fail "is required" "$S3ROOT" serve s3://nbd/random64
expect_fail "NoSuchKey" "$S3ROOT" serve s3://nbd/missing --listen "unix:$T/x.sock" \
	-o "s3.endpoint=$RGW_ENDPOINT,s3.io_timeout=5"
