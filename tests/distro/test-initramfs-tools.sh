#!/usr/bin/env bash
# Debian's initramfs-tools with s3root's hook (make install-initramfs-tools):
# a debootstrapped root with initramfs-tools and busybox (cached), the hook
# installed there with DESTDIR, the real mkinitramfs run in it for Debian's
# kernel; the image boots the systemd root of test-vm-systemd from S3 with
# root=s3:boot/debian.erofs, twice: with ip=dhcp (initramfs-tools' own
# network, klibc's ipconfig) and without ip= (s3root's DHCP). Each boot
# must reach multi-user with the root server alive through systemd's
# shutdown (tests/vm/debian-check.sh).
set -eu
. "$(dirname "$0")/../sh/functions.sh"
. "$TOP/tests/distro/distro.sh"
start=$(date +%s)

distro_setup
debian_builder itools initramfs-tools,busybox ||
	fail "cannot debootstrap the initramfs-tools root"
root=$T/itools
# the hook and scripts, as a user installs them, into the builder's copy
distro_chroot "$DEBIAN_BUILDER" "$root" true
mkdir -p "$root.upper/etc/s3root"
install -m 0644 "$DISTRO_CONF" "$root.upper/etc/s3root/s3root.conf"
install -m 0600 "$DISTRO_PASSWD" "$root.upper/etc/s3root/passwd"
make -C "$TOP" --no-print-directory -s install-initramfs-tools \
	DESTDIR="$root.upper" BUILD="$(realpath --relative-to="$TOP" \
	"$(dirname "$VM_S3ROOT")")" >/dev/null ||
	fail "make install-initramfs-tools DESTDIR=..."
t0=$(date +%s)
distro_chroot "$DEBIAN_BUILDER" "$root" \
	mkinitramfs -o /initrd.img "$VM_KVER" >"$T/mkinitramfs.log" 2>&1 ||
	{ cat "$T/mkinitramfs.log"; fail "mkinitramfs"; }
echo "mkinitramfs: $(($(date +%s) - t0)) s," \
	"$(stat -c %s "$root.upper/initrd.img") bytes," \
	"mode $(stat -c %a "$root.upper/initrd.img")"
[ "$(stat -c %a "$root.upper/initrd.img")" = 600 ] ||
	fail "an initramfs with credentials must be readable by root only"
distro_chroot "$DEBIAN_BUILDER" "$root" lsinitramfs /initrd.img >"$T/list"
for f in usr/sbin/s3root etc/s3root/s3root.conf etc/s3root/passwd \
	scripts/s3root scripts/init-top/s3root; do
	grep -qx "$f" "$T/list" || fail "$f is not in the initramfs"
done
for m in nbd erofs overlay virtio_net; do
	grep -q "/$m\.ko" "$T/list" || fail "module $m is not in the initramfs"
done

distro_boot "$root.upper/initrd.img" initramfs-tools-ip ip=dhcp
distro_boot "$root.upper/initrd.img" initramfs-tools-own
grep -aq "s3root: DHCP: " "$T/initramfs-tools-own.console" ||
	fail "without ip=, s3root's DHCP should have set up the network"
! grep -aq "s3root: DHCP: " "$T/initramfs-tools-ip.console" ||
	fail "with ip=, initramfs-tools' network should have been used"
echo "whole test $(($(date +%s) - start)) s"
