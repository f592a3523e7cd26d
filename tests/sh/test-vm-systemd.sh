#!/usr/bin/env bash
# Boot a real distribution from S3: a Debian bookworm minbase + systemd root
# (tests/vm/debian-root.sh: debootstrap once, cached) as an EROFS image in
# the suite's RGW, Debian's stock kernel (qemu TCG), the standalone
# initramfs and root=s3:bucket/key ip=dhcp. A unit ordered after
# multi-user.target checks the running system (systemd's state, the root
# server, the overlay root) and powers off; a systemd-shutdown hook, run
# after systemd has killed every process it may and unmounted what it
# could, checks that the root server is still alive and still answers
# reads. The host then wants a clean power-off and no sign of a lost root.
# Prints the boot's figures: kernel start to systemd, to multi-user, and
# the bytes fetched from S3 against the image's size.
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd qemu-system-x86_64 cpio mkfs.erofs \
	depmod debootstrap flock
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"
. "$TOP/tests/vm/debian-root.sh"
[ "$(id -u)" = 0 ] || skip "debootstrap needs root"
start=$(date +%s)

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"

# What makes the debootstrapped tree a diskless machine that checks itself.
# Changing this file's heredoc rebuilds the image (not the tree).
cat >"$T/prepare.sh" <<'PREPARE'
set -eu
r=$1
# nothing to mount: / is s3root's overlay, the API filesystems are systemd's
: >"$r/etc/fstab"
echo s3root-test >"$r/etc/hostname"
# one image, many machines: each boot makes its own machine id (on the
# overlay); systemd-firstboot would then ask for a locale on the console
: >"$r/etc/machine-id"
ln -sf /etc/machine-id "$r/var/lib/dbus/machine-id"
ln -sf /dev/null "$r/etc/systemd/system/systemd-firstboot.service"
# the package lists are 49 MB nobody reads on a booted image
rm -rf "$r"/var/lib/apt/lists/* "$r"/var/cache/apt/*.bin

cat >"$r/etc/systemd/system/s3root-check.service" <<'UNIT'
[Unit]
Description=s3root test: check the booted system, then power off
After=multi-user.target

[Service]
# simple, not oneshot: `is-system-running --wait` waits for every start
# job, a oneshot's own included
Type=simple
ExecStart=/usr/local/sbin/s3root-check
StandardOutput=tty
StandardError=tty
TTYPath=/dev/console

[Install]
WantedBy=multi-user.target
UNIT
ln -s ../s3root-check.service \
	"$r/etc/systemd/system/multi-user.target.wants/s3root-check.service"

mkdir -p "$r/usr/local/sbin"
cat >"$r/usr/local/sbin/s3root-check" <<'CHECK'
#!/bin/sh
ok() { echo "CHECK ok: $*"; }
bad() { echo "CHECK FAILED: $*"; }
set -- $(cat /sys/block/nbd0/stat)
up=$(cut -d' ' -f1 /proc/uptime)
echo "S3ROOT-TEST: multi-user.target reached at $up s" \
	"after $1 reads of $(($3 * 512)) bytes from /dev/nbd0"
state=$(systemctl is-system-running --wait)
[ "$state" = running ] && ok "systemd: $state" || {
	bad "systemd: $state"
	systemctl --failed --no-legend --plain | sed 's/^/S3ROOT-TEST: failed: /'
}
echo "S3ROOT-TEST: $(systemd-analyze time | tr '\n' ' ')"
grep -q '^overlay / overlay ' /proc/mounts && ok "/ is the overlay" ||
	bad "/ is $(grep ' / ' /proc/mounts)"
grep -q '^/dev/nbd0 /run/s3root/lower erofs ro' /proc/mounts &&
	ok "its lower layer is /dev/nbd0" || bad "no /dev/nbd0 under the root"
list=$(/run/s3root/s3root list)
echo "S3ROOT-TEST: s3root list: $list"
case $list in
*"/dev/nbd0  s3://"*"  pid "*"server gone"*) bad "s3root list: server gone" ;;
*"/dev/nbd0  s3://"*"  pid "*) ok "s3root list" ;;
*) bad "s3root list" ;;
esac
pid=$(cat /run/s3root/nbd0.pid)
[ "$(head -c 1 /proc/$pid/cmdline)" = @ ] &&
	grep -q '^VmLck:[[:space:]]*[1-9]' /proc/$pid/status &&
	[ "$(cat /proc/$pid/oom_score_adj)" = -1000 ] &&
	ok "root server $pid: marked @, locked, oom -1000" ||
	bad "root server $pid: marker, lock or oom_score_adj"
# systemd moves what it finds running into its own init.scope, which is
# never stopped: stopping units at shutdown cannot reach the server
cg=$(cat /proc/$pid/cgroup)
case $cg in
0::/ | 0::/init.scope) ok "root server in $cg" ;;
*) bad "root server in a unit's cgroup: $cg" ;;
esac
echo "S3ROOT-TEST: powering off"
systemctl poweroff --no-block
CHECK
chmod 755 "$r/usr/local/sbin/s3root-check"

# systemd-shutdown runs these last, after its final kill and unmounts
mkdir -p "$r/usr/lib/systemd/system-shutdown"
cat >"$r/usr/lib/systemd/system-shutdown/s3root-check" <<'HOOK'
#!/bin/sh
exec >/dev/console 2>&1
pid=$(cat /run/s3root/nbd0.pid)
state=$(sed -n 's/^State:[[:space:]]*//p' /proc/$pid/status)
echo "S3ROOT-TEST: at $1: root server $pid: ${state:-gone}"
# O_DIRECT from the end of the device: it must come from the server
size=$(($(cat /sys/block/nbd0/size) / 8))
timeout 30 dd if=/dev/nbd0 of=/dev/null bs=4096 count=64 \
	skip=$((size - 64)) iflag=direct 2>/dev/null &&
	echo "S3ROOT-TEST: at $1: device read ok" ||
	echo "S3ROOT-TEST: at $1: device read FAILED"
HOOK
chmod 755 "$r/usr/lib/systemd/system-shutdown/s3root-check"
PREPARE
debian_image "$T/prepare.sh" ||
	fail "cannot build the Debian root (debootstrap from $(debian_mirror))"
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
vm_run "$T/initrd" "$con" "${VM_SECS:-180}" root=s3:boot/debian.erofs \
	ip=dhcp ${VM_BOOT_ARGS:-} ||
	{ tr -d '\033' <"$con" | tail -n 40; fail "the VM did not power off"; }
secs=$(($(date +%s) - boot0))
tr -d '\r' <"$con" | grep -a 'S3ROOT-TEST\|CHECK\|s3root:' | grep -v '^\[' |
	tr -d '\033'

grep -aq "S3ROOT-TEST: multi-user.target reached" "$con" ||
	fail "multi-user.target not reached"
! grep -aq "CHECK FAILED" "$con" || fail "checks failed in the guest"
[ "$(grep -ac 'CHECK ok' "$con")" -eq 6 ] || fail "6 checks expected"
grep -aq "S3ROOT-TEST: at poweroff: root server [0-9]*: [SR] (" "$con" ||
	fail "the root server did not outlive systemd's final kill"
grep -aq "S3ROOT-TEST: at poweroff: device read ok" "$con" ||
	fail "the root server did not answer at the end"
grep -aq "reboot: Power down" "$con" ||
	{ tr -d '\033' <"$con" | tail -n 20; fail "no clean power-off"; }
# what a lost root looks like: the kernel giving up on the device's
# sockets (a server killed, or stopped while it held them by ioctl), I/O
# errors, systemd failing to stop, unmount or remount something
lost='nbd0?: .*(shutting down sockets|timed out|Dead connection)'
lost="$lost|nbd0?: Receive control|I/O error|Kernel panic|[Ff]reezing"
lost="$lost|Watchdog|Failed to (start|stop|remount|unmount)"
lost="$lost|Failed (unmounting|remounting)"
! grep -aE "$lost" "$con" | tr -d '\033' | grep . ||
	fail "signs of a lost root in the console (above)"

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
