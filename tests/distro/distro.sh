# shellcheck shell=bash
# tests/distro/distro.sh - what the distribution initramfs tests share
# (sourced after tests/sh/functions.sh): the RGW with the systemd image of
# test-vm-systemd, a debootstrapped builder root in which the
# distribution's own tool makes the initramfs with s3root's hook or
# module, and the boot of that initramfs with root=s3:boot/debian.erofs.
#
#   distro_setup                  RGW, image, kernel: DISTRO_CONF and
#                                 DISTRO_PASSWD are s3root's files for it
#   distro_chroot BUILDER ROOT CMD...
#                                 runs CMD in ROOT: an overlay of the cached
#                                 BUILDER tree (which stays as it is), with
#                                 the kernel's modules, /proc, /sys and
#                                 /dev, in a mount namespace of its own
#   distro_boot INITRD NAME ARGS...
#                                 boots, checks the console as
#                                 test-vm-systemd does, prints the figures

requires radosgw ceph-mon ceph-osd qemu-system-x86_64 cpio mkfs.erofs \
	depmod debootstrap flock unshare
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"
. "$TOP/tests/vm/debian-root.sh"
. "$TOP/tests/vm/debian-check.sh"
requires_root debootstrap and chroot

distro_setup() {
	vm_requires
	vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
	debian_image "$TOP/tests/vm/debian-check.prepare" ||
		fail "cannot build the Debian root (debootstrap)"
	at_exit "rgw_stop $T/rgw"
	rgw_start "$T/rgw" >/dev/null
	s3ctl mb boot >/dev/null
	s3ctl put boot debian.erofs "$DEBIAN_IMAGE" >/dev/null
	DISTRO_PASSWD=$T/passwd DISTRO_CONF=$T/conf
	printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$DISTRO_PASSWD"
	chmod 600 "$DISTRO_PASSWD"
	printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$DISTRO_CONF"
}

# _distro_ns BUILDER ROOT CMD...: the mount namespace's side
_distro_ns() {
	local builder=$1 root=$2 up=$2.upper work=$2.work
	shift 2
	mkdir -p "$root" "$up" "$work" &&
		mount -t overlay overlay \
			-o "lowerdir=$builder,upperdir=$up,workdir=$work" "$root" &&
		mkdir -p "$root/lib/modules/$VM_KVER" "$root/boot" &&
		mount --bind -o ro "$VM_MODDIR" "$root/lib/modules/$VM_KVER" &&
		cp "$VM_CACHE/root/boot/config-$VM_KVER" \
			"$VM_CACHE/root/boot/System.map-$VM_KVER" "$root/boot/" &&
		mount -t proc proc "$root/proc" &&
		mount -t sysfs sys "$root/sys" &&
		mount --rbind /dev "$root/dev" &&
		chroot "$root" "$@"
}

distro_chroot() {
	# the namespace ends with its mounts: nothing to undo, never a
	# mount left under $T for the cleanup's rm -rf to cross
	unshare -m --propagation private bash -c \
		"$(declare -f _distro_ns); VM_KVER=$VM_KVER VM_MODDIR=$VM_MODDIR \
		VM_CACHE=$VM_CACHE _distro_ns \"\$@\"" _distro_ns "$@"
}

distro_boot() {
	local initrd=$1 name=$2 con=$T/$2.console boot0 secs size gets bytes
	shift 2
	boot0=$(date +%s)
	# shellcheck disable=SC2086 # VM_BOOT_ARGS is kernel arguments
	vm_run "$initrd" "$con" "${VM_SECS:-300}" root=s3:boot/debian.erofs \
		"$@" ${VM_BOOT_ARGS:-} ||
		{
			cp "$con" "${TMPDIR:-/tmp}/s3root-$name.console"
			tr -d '\033' <"$con" | tail -n 40
			fail "$name: the VM did not power off"
		}
	secs=$(($(date +%s) - boot0))
	# kept, as tests/run.sh keeps each test's output
	cp "$con" "${TMPDIR:-/tmp}/s3root-$name.console"
	tr -d '\r' <"$con" | grep -a 'S3ROOT-TEST\|CHECK\|s3root' |
		grep -v '^\[' | tr -d '\033'
	debian_check_console "$con"
	size=$(stat -c %s "$DEBIAN_IMAGE")
	read -r gets bytes <<<"$(sed -n \
		's|.*"GET /boot/debian.erofs[^"]*" 20[06] \([0-9]*\) .*|\1|p' \
		"$RGW_DIR/log/client.rgw.log" |
		awk '{ s += $1 } END { print NR, s + 0 }')"
	echo "== $name figures"
	grep -a "S3ROOT-TEST: Startup finished" "$con" |
		sed 's/.*S3ROOT-TEST: //' | tr -d '\r\033'
	grep -a "S3ROOT-TEST: multi-user.target reached" "$con" |
		sed 's/.*S3ROOT-TEST: //' | tr -d '\r\033'
	echo "S3 so far: $gets GETs, $bytes bytes of the $size-byte image"
	echo "VM $secs s"
}
