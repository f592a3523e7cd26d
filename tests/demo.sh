#!/usr/bin/env bash
# make demo: a local S3 server (Ceph RGW on loopback), a demo root image
# uploaded to it, and a VM (Debian's kernel, qemu) that boots from it with
# root=s3:demo/root.erofs, its console on this terminal. The system shows
# that it runs from S3, then powers off; DEMO_SHELL=1 leaves a shell
# instead (exit it, or Ctrl-A X, to stop the VM).
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
S3ROOT=$TOP/build/s3root
T=$(mktemp -d "${TMPDIR:-/tmp}/s3root-demo.XXXXXX")
skip() { echo "demo: $*" >&2; exit 1; }
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"
trap 'rgw_stop "$T/rgw" >/dev/null 2>&1; rm -rf "$T"' EXIT

echo "== starting a local S3 server (Ceph RGW on 127.0.0.1)"
rgw_start "$T/rgw"
echo "== fetching Debian's kernel (cached in build/vm-cache)"
vm_kernel || skip "cannot fetch Debian's kernel"

echo "== building the demo root image (busybox, EROFS)"
r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,root}
cp /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do
	[ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
done
printf 'Hello from a root filesystem that lives in S3.\n' >"$r/etc/motd"
cat >"$r/sbin/init" <<INIT
#!/bin/sh
export PATH=/bin
echo
cat /etc/motd
echo "--- mount | grep ' / '"; mount | grep ' / '
echo "--- mount | grep nbd"; mount | grep nbd
echo "--- df -h /"; df -h /
echo "--- s3root list -v (the root server: what the boot fetched)"
/run/s3root/s3root list -v
echo "--- dmesg | grep s3root"; dmesg | grep s3root | tail -n 6
if [ "${DEMO_SHELL:-0}" = 1 ]; then
	echo "--- a shell on the S3 root (exit to power off)"
	setsid cttyhack sh
fi
echo "--- powering off"
sync
poweroff -f
INIT
chmod 755 "$r/sbin/init"
mkfs.erofs -zlz4hc "$T/root.erofs" "$r" >/dev/null
s3ctl mb demo >/dev/null
s3ctl put demo root.erofs "$T/root.erofs" >/dev/null
echo "   s3://demo/root.erofs: $(stat -c %s "$T/root.erofs") bytes"

echo "== building the initramfs (initramfs/mkinitramfs-s3root)"
printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$T/conf"
S3ROOT=$S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd"

echo "== booting: root=s3:demo/root.erofs ip=dhcp"
qemu-system-x86_64 -machine pc -accel tcg -m 768 -smp 1 -nographic \
	-no-reboot -kernel "$VM_VMLINUZ" -initrd "$T/initrd" \
	-append "console=ttyS0 panic=-1 quiet root=s3:demo/root.erofs ip=dhcp" \
	-netdev user,id=n0 -device virtio-net-pci,netdev=n0
echo "== done: the VM powered off; stopping the S3 server"
