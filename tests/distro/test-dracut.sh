#!/usr/bin/env bash
# dracut with s3root's module 90s3root (make install-dracut): Debian's
# dracut conflicts with initramfs-tools, so it lives in a debootstrapped
# root of its own (dracut, dracut-network, busybox and procps, whose
# pgrep network-legacy needs; cached), where the
# module is installed with DESTDIR and `dracut --no-hostonly` builds the
# image for Debian's kernel (no systemd in that root: dracut's shell init,
# network-legacy's dhclient). The image boots the systemd root of
# test-vm-systemd from S3 with root=s3:boot/debian.erofs, with
# `rd.neednet=1 ip=dhcp` and with neither (the module asks dracut for its
# network itself); each boot must reach multi-user with the root server
# alive through systemd's shutdown (tests/vm/debian-check.sh).
set -eu
. "$(dirname "$0")/../sh/functions.sh"
. "$TOP/tests/distro/distro.sh"
start=$(date +%s)

distro_setup
debian_builder dracut dracut,dracut-network,busybox,procps ||
	fail "cannot debootstrap the dracut root"
root=$T/dracut
distro_chroot "$DEBIAN_BUILDER" "$root" true
mkdir -p "$root.upper/etc/s3root"
install -m 0644 "$DISTRO_CONF" "$root.upper/etc/s3root/s3root.conf"
install -m 0600 "$DISTRO_PASSWD" "$root.upper/etc/s3root/passwd"
make -C "$TOP" --no-print-directory -s install-dracut \
	DESTDIR="$root.upper" BUILD="$(realpath --relative-to="$TOP" \
	"$(dirname "$VM_S3ROOT")")" >/dev/null ||
	fail "make install-dracut DESTDIR=..."
t0=$(date +%s)
# The test's root has no /lib/modules (its kernel is the host's file):
# dracut's image leaves binfmt_misc loaded, so systemd sets up its
# automount, which needs autofs4 from the root ("Failed to find module
# 'autofs4'", and a degraded system). A real root has its modules.
distro_chroot "$DEBIAN_BUILDER" "$root" dracut -f --no-hostonly \
	--force-drivers autofs4 \
	--kver "$VM_KVER" /initrd.img >"$T/dracut.log" 2>&1 ||
	{ tail -n 40 "$T/dracut.log"; fail "dracut"; }
echo "dracut: $(($(date +%s) - t0)) s," \
	"$(stat -c %s "$root.upper/initrd.img") bytes"
grep -q "Including module: s3root" "$T/dracut.log" ||
	fail "dracut did not include the s3root module"
distro_chroot "$DEBIAN_BUILDER" "$root" lsinitrd /initrd.img >"$T/list"
# (a merged /usr: lib/ is usr/lib/ in the image)
for f in usr/sbin/s3root etc/s3root/s3root.conf etc/s3root/passwd \
	lib/dracut/hooks/cmdline/90-parse-s3root.sh \
	lib/dracut/hooks/mount/90-mount-s3root.sh; do
	grep -Eq " (usr/)?$f\$" "$T/list" || {
		grep s3root "$T/list"
		fail "$f is not in the initramfs"
	}
done
grep -q -- '-rw------- .* etc/s3root/passwd$' "$T/list" ||
	fail "etc/s3root/passwd must be 0600 in the initramfs"
for m in nbd erofs overlay virtio_net; do
	grep -q "/$m\.ko" "$T/list" || fail "module $m is not in the initramfs"
done

distro_boot "$root.upper/initrd.img" dracut-neednet rd.neednet=1 ip=dhcp
distro_boot "$root.upper/initrd.img" dracut-plain
# the mount hook never asks s3root for the network (no --network): a
# boot that reached S3 without s3root's DHCP ran on dracut's network
for b in dracut-neednet dracut-plain; do
	! grep -aq "s3root: DHCP: " "$T/$b.console" ||
		fail "$b: s3root's DHCP ran, not dracut's network"
done
echo "whole test $(($(date +%s) - start)) s"
