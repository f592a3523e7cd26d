#!/usr/bin/env bash
# Boot traces on a real boot, two boots of the systemd root of
# test-vm-systemd.sh (tests/vm/debian-check.prepare, with s3test_trace):
#  1. s3root.trace=record: at multi-user the guest saves the trace
#     (`s3root trace stop`, then `trace save /dev/nbd0`, which another user
#     may not) and prints it base64 on the console;
#     the host checks it (`trace show`: this image's size and ETag, as many
#     reads as the kernel made) and publishes it beside the image;
#  2. s3root.trace=s3:boot/debian.erofs.trace: the root server replays it
#     before the kernel asks (`list -v` in the guest: the replay ran and its
#     chunks were used); in the same boot the guest attaches the image again
#     with a trace of another ETag, which is ignored with a warning while
#     the device works, and `trace save` says the root is not recording.
# Each boot must pass the systemd test's own checks. Prints both boots'
# times to multi-user and the GETs each made.
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd qemu-system-x86_64 cpio mkfs.erofs \
	depmod debootstrap flock
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"
. "$TOP/tests/vm/debian-root.sh"
. "$TOP/tests/vm/debian-check.sh"
requires_root debootstrap

debian_check_image
size=$(stat -c %s "$DEBIAN_IMAGE")

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
s3ctl mb boot >/dev/null
s3ctl put boot debian.erofs "$DEBIAN_IMAGE" >/dev/null
etag=$(S3ROOT_CONFIG=/dev/null AWS_ACCESS_KEY_ID=$RGW_ACCESS \
	AWS_SECRET_ACCESS_KEY=$RGW_SECRET "$S3ROOT" stat s3://boot/debian.erofs \
	-o "s3.endpoint=$RGW_ENDPOINT" | sed -n 's/^etag: //p')
[ -n "$etag" ] || fail "no ETag for the image"

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$T/conf"
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" >/dev/null ||
	fail "mkinitramfs-s3root"

# boot NAME ARGS...: one boot with these kernel arguments, which must pass
# the systemd test's checks; the console in $T/NAME.console
boot() {
	local name=$1 con=$T/$1.console
	shift
	vm_run "$T/initrd" "$con" "${VM_SECS:-240}" root=s3:boot/debian.erofs \
		ip=dhcp "s3test_trace=10.0.2.2:$RGW_PORT" "$@" ||
		{ tr -d '\033' <"$con" | tail -n 40; fail "$name: the VM did not power off"; }
	tr -d '\r' <"$con" | grep -a 'S3ROOT-TEST\|CHECK\|S3ROOT-TRACE-[LSWF]\|s3root:' |
		grep -v '^\[' | tr -d '\033' | sed "s/^/$name: /"
	debian_check_console "$con"
}

# gets_since LINE: the GETs of the image in RGW's log after line LINE
gets_since() {
	tail -n +"$(($1 + 1))" "$RGW_DIR/log/client.rgw.log" |
		sed -n 's|.*"GET /boot/debian.erofs[^"]*" 20[06] \([0-9]*\) .*|\1|p' |
		awk '{ s += $1 } END { print NR, s + 0 }'
}
# multi_user CONSOLE: seconds from kernel start to multi-user
multi_user() {
	grep -a "S3ROOT-TEST: multi-user.target reached at" "$1" |
		sed 's/.*reached at \([0-9.]*\) s.*/\1/' | tr -d '\r'
}

# replay_check CONSOLE READS: list -v in the guest shows that the root
# server replayed the trace's READS reads, and that the boot used most of
# what the replay fetched
replay_check() {
	local line fetched used
	line=$(tr -d '\r' <"$1" | sed -n 's/^S3ROOT-TRACE-LIST: *replay: \([0-9]\)/\1/p' | head -n 1)
	case $line in
	"$2 ranges in "*) ;;
	*) fail "list -v: no replay of $2 ranges: $(grep -a 'TRACE-LIST' "$1")" ;;
	esac
	grep -aq "S3ROOT-TRACE-LIST: *replay: every run fetched in" "$1" ||
		fail "list -v: the replay did not fetch every run: $(grep -a 'TRACE-LIST' "$1")"
	fetched=$(sed -n 's/.* \([0-9]*\) chunks fetched.*/\1/p' <<<"$line")
	used=$(sed -n 's/.* chunks fetched, \([0-9]*\) used.*/\1/p' <<<"$line")
	[ "${used:-0}" -gt 0 ] && [ $((used * 2)) -ge "${fetched:-0}" ] ||
		fail "the boot used $used of the $fetched chunks replayed: $line"
	echo "replay: $line"
}

# 1. record
log0=$(wc -l <"$RGW_DIR/log/client.rgw.log")
boot record s3root.trace=record
read -r gets1 bytes1 <<<"$(gets_since "$log0")"
con=$T/record.console
tr -d '\r' <"$con" | sed -n '/^S3ROOT-TRACE-BEGIN$/,/^S3ROOT-TRACE-END$/p' |
	sed '1d;$d' | base64 -d >"$T/trace" 2>/dev/null ||
	fail "no trace on the console: $(grep -a 'S3ROOT-TRACE' "$con" | head -n 3)"
sum=$(tr -d '\r' <"$con" | sed -n 's/^S3ROOT-TRACE-SUM: //p')
[ "$(sha256sum <"$T/trace" | cut -c1-64)" = "$sum" ] ||
	fail "the trace came out damaged ($(stat -c %s "$T/trace") bytes)"
"$S3ROOT" trace show "$T/trace" >"$T/show" || fail "trace show"
grep -qx "size: $size" "$T/show" || fail "trace size: $(cat "$T/show")"
grep -qxF "etag: $etag" "$T/show" || fail "trace etag: $(cat "$T/show")"
reads=$(sed -n 's/^reads: //p' "$T/show")
kreads=$(grep -a "S3ROOT-TEST: multi-user.target reached" "$con" |
	sed 's/.* after \([0-9]*\) reads.*/\1/')
# the kernel's count is of requests at multi-user; the trace's of reads
# until the save (a few more): not fewer than half of the kernel's
[ "$reads" -ge 100 ] && [ $((reads * 2)) -ge "$kreads" ] ||
	fail "the trace has $reads reads for the kernel's $kreads"
grep -aq "S3ROOT-TRACE-STOP: /dev/nbd0: stopped: $reads reads" "$con" ||
	fail "trace stop: $(grep -a 'TRACE-STOP' "$con") (the trace has $reads reads)"
grep -aq "S3ROOT-TRACE-USER: s3root: trace: /dev/nbd0: only root or the server's user may do that" "$con" ||
	fail "another user's trace save: $(grep -a 'TRACE-USER' "$con")"
grep -aq "S3ROOT-TRACE-LIST: .*trace: stopped, $reads reads" "$con" ||
	fail "list -v: no stopped recording of $reads reads: $(grep -a 'TRACE-LIST' "$con")"
echo "record: $reads reads ($(sed -n 's/^bytes: //p' "$T/show") bytes) for" \
	"the kernel's $kreads, $(stat -c %s "$T/trace")-byte trace"
s3ctl put boot debian.erofs.trace "$T/trace" >/dev/null
sed '3s/.*/etag "0123456789abcdef0123456789abcdef"/' "$T/trace" >"$T/wrong"
s3ctl put boot wrong.trace "$T/wrong" >/dev/null

# 2. replay, and another image's trace ignored
log0=$(wc -l <"$RGW_DIR/log/client.rgw.log")
boot replay s3root.trace=s3:boot/debian.erofs.trace
read -r gets2 bytes2 <<<"$(gets_since "$log0")"
con=$T/replay.console
grep -aq "s3root: trace s3:boot/debian.erofs.trace: $reads reads, .* to replay" "$con" ||
	fail "the root server did not take the trace: $(grep -a 'trace' "$con" | head -n 5)"
grep -aq "S3ROOT-TRACE-WRONG: s3root: warning: trace s3://boot/wrong.trace is for another image" "$con" ||
	fail "another image's trace: $(grep -a 'TRACE-WRONG' "$con")"
grep -aq "S3ROOT-TRACE-WRONG: attached /dev/nbd[0-9]* and read it" "$con" ||
	fail "attach with another image's trace failed"
grep -aq "S3ROOT-TRACE-NOREC: s3root: trace: /dev/nbd0: not recording" "$con" ||
	fail "trace save without a recording: $(grep -a 'TRACE-NOREC' "$con")"
replay_check "$con" "$reads"
echo "boot to multi-user: $(multi_user "$T/record.console") s recording," \
	"$(multi_user "$con") s replaying"
echo "S3, boot to power-off: $gets1 GETs, $bytes1 bytes recording;" \
	"$gets2 GETs, $bytes2 bytes replaying (image $size bytes)"
