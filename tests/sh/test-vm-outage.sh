#!/usr/bin/env bash
# An S3 outage longer than every kernel timeout, under a running Debian/
# systemd root (the image of test-vm-systemd.sh, booted the same way but
# through a pass-through fault proxy). Once the system is up, the host
# makes the endpoint a black hole (the proxy accepts connections and
# answers nothing) for S3ROOT_OUTAGE_SECS while the guest reads files no
# boot read (tests/vm/debian-check.prepare: s3root-outage), then brings it
# back; then the same with the endpoint refusing connections (the proxy
# stopped). The reads must block for the outage, the kernel must keep the
# device (no "timed out", "Dead connection" or I/O error in dmesg nor on
# the console), and every read must end with the right bytes once the
# endpoint is back. Prints, per outage: how long the reads blocked, the
# requests in flight on the device's one socket, and the time from the
# endpoint's return to the last read's end.
#
# S3ROOT_OUTAGE_SECS: each outage's length (default 300: beyond the 30 s
# request timeout Linux applies to each of several sockets plus the 120 s
# s3root.nbd_dead_timeout, the longest kernel timeout in play). make
# check runs it at OUTAGE_SECS (300; CI: 0, not there), make check-outage
# at 600. VM_SECS: the seconds the boot may take.
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
outage=${S3ROOT_OUTAGE_SECS:-300}
case $outage in
'' | *[!0-9]* | 0*) fail "S3ROOT_OUTAGE_SECS=$outage: seconds, at least 1" ;;
esac
requires radosgw ceph-mon ceph-osd qemu-system-x86_64 cpio mkfs.erofs \
	depmod debootstrap flock curl
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"
. "$TOP/tests/vm/debian-root.sh"
. "$TOP/tests/vm/debian-check.sh"
requires_root debootstrap
start=$(date +%s)

debian_check_image

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
s3ctl mb boot >/dev/null
s3ctl put boot debian.erofs "$DEBIAN_IMAGE" >/dev/null
: >"$T/empty"

# the endpoint: a pass-through proxy on a port of its own, which the test
# turns into a black hole (SIGUSR1/SIGUSR2), stops and starts again
pport=$("$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
plog=$T/proxy.log
proxy_up() {
	"$PY3" "$TOP/tests/servers/faultproxy.py" --upstream "$RGW_ENDPOINT" \
		--port "$pport" --log "$plog" >/dev/null 2>>"$T/proxy.err" &
	proxy_pid=$!
	at_exit "kill $proxy_pid 2>/dev/null"
	wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$pport/" ||
		fail "the proxy did not start: $(cat "$T/proxy.err")"
}
proxy_up

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$pport" >"$T/conf"
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" >/dev/null ||
	fail "mkinitramfs-s3root"

con=$T/outage.console
# a failure shows what the kernel and the guest said
shown() {
	[ -e "$T/passed" ] || tr -d '\r\033' <"$con" |
		grep -a 'nbd\|I/O error\|OUTAGE\|CHECK\|s3root:' | tail -n 60
}
at_exit shown
up_secs=${VM_SECS:-240}
vm_run "$T/initrd" "$con" $((up_secs + 2 * outage + 300)) \
	root=s3:boot/debian.erofs ip=dhcp "s3test_outage=10.0.2.2:$RGW_PORT" &
vm=$!

# said NAME: the guest's console has the line "OUTAGE: NAME"
said() { grep -aq "^OUTAGE: $1" "$con"; }
# outage KIND BEGIN END: BEGIN makes the endpoint unreachable, the guest
# reads, END brings it back after S3ROOT_OUTAGE_SECS; sets back (the
# time the endpoint was back) and recover (seconds from then to the
# guest's last read)
outage() {
	local kind=$1 t
	wait_for "$up_secs" said "ready $kind" ||
		{ tr -d '\033' <"$con" | tail -n 30
		  fail "$kind: the guest did not get ready"; }
	$2
	s3ctl put boot "$kind-begun" "$T/empty" >/dev/null
	echo "== $kind: endpoint unreachable for $outage s"
	sleep "$outage"
	said "done $kind" && fail "$kind: the reads ended during the outage"
	$3
	back=$(date +%s)
	wait_for 300 said "done $kind" ||
		{ tr -d '\033' <"$con" | tail -n 30
		  fail "$kind: the reads did not end after the outage"; }
	t=$(date +%s)
	recover=$((t - back))
	echo "$kind: endpoint back; the reads ended $recover s later"
}
hole_on() { kill -USR1 "$proxy_pid"; }
hole_off() { kill -USR2 "$proxy_pid"; }
refuse() {
	kill "$proxy_pid"
	wait "$proxy_pid" 2>/dev/null || true
	! curl -s -o /dev/null "http://127.0.0.1:$pport/" ||
		fail "refused: something still listens on port $pport"
}
outage hole hole_on hole_off
grep -q "faultproxy: black hole off, [1-9][0-9]* requests dropped" "$plog" ||
	fail "hole: the root server sent nothing into the black hole"
outage refused refuse proxy_up

wait "$vm" || { tr -d '\033' <"$con" | tail -n 40; fail "the VM did not power off"; }
tr -d '\r' <"$con" | grep -a 'S3ROOT-TEST\|CHECK\|OUTAGE\|s3root:' |
	grep -v '^\[' | tr -d '\033'
grep -a 's3root: one NBD socket' "$con" | tr -d '\r\033' | head -n 1 | grep . ||
	fail "no line saying the device has one socket"
echo "== figures"
tr -d '\r\033' <"$con" | sed -n 's/^OUTAGE: done //p'
# each outage: the reads blocked for most of it, with several requests
# in flight on the one socket
for kind in hole refused; do
	read -r secs k <<<"$(tr -d '\r' <"$con" | sed -n "s/^OUTAGE: done $kind after \([0-9]*\) s; in flight at most: \([0-9]*\) kernel.*/\1 \2/p")"
	[ "${secs:-0}" -ge $((outage * 3 / 4)) ] ||
		fail "$kind: the reads took ${secs:-?} s: they did not wait for S3"
	[ "${k:-0}" -ge 2 ] ||
		fail "$kind: at most ${k:-?} requests in flight on the device"
done
tr -d '\r\033' <"$con" | grep -a '^OUTAGE: dmesg:' ||
	fail "no dmesg counts from the guest"
grep -aq '^OUTAGE: dmesg: io_error=0 dead_connection=0 timed_out=0 ' "$con" ||
	fail "the kernel timed the device out or failed reads (dmesg above)"
# the console: the outage reads' checks, systemd's, a clean power-off
debian_check_console "$con" 8
echo "whole test $(($(date +%s) - start)) s (two outages of $outage s)"
: >"$T/passed"
