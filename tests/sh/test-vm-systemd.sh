#!/usr/bin/env bash
# Boot a real distribution from S3: a Debian bookworm minbase + systemd root
# (tests/vm/debian-root.sh: debootstrap once, cached) as an EROFS image in
# the suite's RGW, Debian's stock kernel (qemu TCG), the standalone
# initramfs and root=s3:bucket/key ip=dhcp. A unit ordered after
# multi-user.target checks the running system (systemd's state, the root
# server, the overlay root) and powers off; a systemd-shutdown hook, run
# after systemd has killed every process it may and unmounted what it
# could, checks that the root server is still alive and still answers
# reads. Before that, the root server is killed and restarted as the
# README says (/run/s3root/s3root attach --reattach /dev/nbd0): a root
# server again, which reads cold files and outlives the shutdown. The
# host then wants a clean power-off and no sign of a lost root.
# Prints the boot's figures: kernel start to systemd, to multi-user, and
# the bytes fetched from S3 against the image's size.
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
start=$(date +%s)

# What makes the debootstrapped tree a diskless machine that checks itself
# (tests/vm/debian-check.prepare; changing it rebuilds the image, not the
# tree).
debian_check_image
size=$(stat -c %s "$DEBIAN_IMAGE")

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
s3ctl mb boot >/dev/null
s3ctl put boot debian.erofs "$DEBIAN_IMAGE" >/dev/null

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$T/conf"
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" >/dev/null ||
	fail "mkinitramfs-s3root"

con=$T/systemd.console
boot0=$(date +%s)
# shellcheck disable=SC2086 # VM_BOOT_ARGS is kernel arguments
vm_run "$T/initrd" "$con" "${VM_SECS:-180}" root=s3:boot/debian.erofs \
	ip=dhcp s3test_reattach ${VM_BOOT_ARGS:-} ||
	{ tr -d '\033' <"$con" | tail -n 40; fail "the VM did not power off"; }
secs=$(($(date +%s) - boot0))
tr -d '\r' <"$con" | grep -a 'S3ROOT-TEST\|CHECK\|s3root:' | grep -v '^\[' |
	tr -d '\033'

# 6, and 3 of the root server's reattach (kill, the new server, cold
# files), whose kill the kernel notes (one socket, no timeout: it waits)
debian_check_console "$con" 9 \
	'nbd0: (Receive control failed \(result -32\)|Dead connection, failed to find a fallback)'

# The figures. systemd's "kernel" is kernel start to systemd's start, /init
# and the loading of systemd from S3 included; S3 counts every GET of the
# image, boot to power-off (RGW's access log).
init=$(grep -a '^\[ *[0-9.]*\] s3root: root=.* starting ' "$con" |
	sed 's/^\[ *\([0-9.]*\)\].*/\1/')
# RGW's access log: '"GET /boot/debian.erofs HTTP/1.1" 206 BYTES ...'
read -r gets bytes <<<"$(sed -n \
	's|.*"GET /boot/debian.erofs[^"]*" 20[06] \([0-9]*\) .*|\1|p' \
	"$RGW_DIR/log/client.rgw.log" | awk '{ s += $1 } END { print NR, s + 0 }')"
echo "== figures"
echo "/init hands over to systemd at $init s after kernel start"
grep -a "S3ROOT-TEST: Startup finished" "$con" | sed 's/.*S3ROOT-TEST: //' |
	tr -d '\r\033'
grep -a "S3ROOT-TEST: multi-user.target reached" "$con" |
	sed 's/.*S3ROOT-TEST: //' | tr -d '\r\033'
echo "S3, boot to power-off: $gets GETs, $bytes bytes of the $size-byte" \
	"image ($((bytes * 100 / size)) %)"
echo "VM $secs s, whole test $(($(date +%s) - start)) s"
