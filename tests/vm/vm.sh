# shellcheck shell=bash
# tests/vm/vm.sh - boot Debian's stock kernel under qemu (TCG) with a test
# initramfs: busybox, s3root and the modules the tests need. Sourced by
# tests (after tests/sh/functions.sh). The guest reaches the host's
# loopback as 10.0.2.2 (user-mode networking). $VM_ARCH (amd64, arm64;
# this machine's by default) picks the kernel, busybox and qemu: arm64 is
# qemu-system-aarch64 -M virt.
#
#   vm_kernel                  sets VM_KVER, VM_VMLINUZ, VM_MODDIR (cached
#                              under build/vm-cache, fetched with apt-get)
#   vm_busybox                 sets VM_BUSYBOX: a static busybox for
#                              VM_ARCH (this machine's, or Debian's
#                              busybox-static for VM_ARCH, cached)
#   vm_initramfs OUT INIT [SRC=DEST]...
#                              a newc cpio (gzip) with INIT as /init
#   vm_run INITRD LOG SECS [KERNEL ARGS]
#                              boots; returns when the guest powers off or
#                              SECS pass (then the qemu process is killed)

VM_CACHE=${VM_CACHE:-$TOP/build/vm-cache}
VM_HOST_ARCH=$(dpkg --print-architecture)
VM_ARCH=${VM_ARCH:-$VM_HOST_ARCH}
# the guest has no libc of its own: always the static build (a SAN=1 run
# tests its glibc binary outside the VM and this one inside)
VM_S3ROOT=${VM_S3ROOT:-$TOP/build/s3root}
case $VM_ARCH in
amd64)
	# the first cache, from before other architectures: its top
	VM_KCACHE=$VM_CACHE
	VM_QEMU=qemu-system-x86_64
	VM_MACHINE="-machine pc"
	VM_CONSOLE=ttyS0
	VM_ELF="x86-64"
	# Debian 12's kernel: every driver we need is a module, loaded in
	# this order
	VM_MODULES="crc32c_generic nbd libcrc32c erofs overlay virtio_ring
virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover
net_failover virtio_net"
	;;
arm64)
	VM_KCACHE=$VM_CACHE/arm64
	VM_QEMU=qemu-system-aarch64
	# pauth-impdef: the same pointer authentication, a cheaper hash for
	# TCG to emulate
	VM_MACHINE="-machine virt -cpu max,pauth-impdef=on"
	VM_CONSOLE=ttyAMA0
	VM_ELF="ARM aarch64"
	# the virt board's PCI host and virtio's core are built in
	VM_MODULES="crc32c_generic nbd libcrc32c erofs overlay
virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover
net_failover virtio_net"
	;;
*)
	echo "vm: VM_ARCH=$VM_ARCH: amd64 or arm64" >&2
	return 1
	;;
esac

# vm_requires: skips a test whose static binary is missing (a failure under
# CI=true, as every skip), and fails one whose binary is for another
# architecture than VM_ARCH.
vm_requires() {
	file "$VM_S3ROOT" 2>/dev/null | grep -q 'statically linked' ||
		skip "the VM needs the static build $VM_S3ROOT (make)"
	file "$VM_S3ROOT" | grep -q "$VM_ELF" ||
		fail "$VM_S3ROOT is not a $VM_ARCH binary (VM_ARCH=$VM_ARCH)"
}

vm_kernel() {
	local deb pkg meta=linux-image-$VM_ARCH
	mkdir -p "$VM_KCACHE"
	if [ ! -f "$VM_KCACHE/kver" ]; then
		# one test at a time fetches it (CI starts check-outage beside
		# make check); the others wait, then find it there
		# shellcheck disable=SC2012 # apt's plain file names
		(
			flock 9 && cd "$VM_KCACHE" || exit 1
			[ -f kver ] && exit 0
			apt-get download "$meta:$VM_ARCH" >/dev/null 2>&1 &&
				pkg=$(dpkg-deb -f "$meta"_*.deb Depends |
					grep -o 'linux-image-[0-9][^ ,]*' | head -n 1) &&
				apt-get download "$pkg:$VM_ARCH" >/dev/null 2>&1 &&
				deb=$(ls linux-image-[0-9]*.deb | head -n 1) &&
				rm -rf root && dpkg -x "$deb" root &&
				ls root/lib/modules >kver.tmp &&
				depmod -b root "$(cat kver.tmp)" && mv kver.tmp kver
		) 9>"$VM_KCACHE/.lock" || return 1
	fi
	VM_KVER=$(cat "$VM_KCACHE/kver")
	VM_VMLINUZ=$VM_KCACHE/root/boot/vmlinuz-$VM_KVER
	VM_MODDIR=$VM_KCACHE/root/lib/modules/$VM_KVER
	[ -f "$VM_MODDIR/modules.dep" ] || depmod -b "$VM_KCACHE/root" "$VM_KVER"
	[ -r "$VM_VMLINUZ" ] && [ -f "$VM_MODDIR/modules.dep" ]
}

vm_busybox() {
	local deb
	if [ "$VM_ARCH" = "$VM_HOST_ARCH" ]; then
		VM_BUSYBOX=$(command -v busybox) || return 1
	else
		VM_BUSYBOX=$VM_KCACHE/busybox/bin/busybox
		# shellcheck disable=SC2012 # apt's plain file names
		[ -x "$VM_BUSYBOX" ] || (
			cd "$VM_KCACHE" &&
				apt-get download "busybox-static:$VM_ARCH" \
					>/dev/null 2>&1 &&
				deb=$(ls busybox-static_*.deb | head -n 1) &&
				rm -rf busybox && dpkg -x "$deb" busybox
		) || return 1
	fi
	file "$VM_BUSYBOX" | grep -q 'statically linked' &&
		file "$VM_BUSYBOX" | grep -q "$VM_ELF"
}

# vm_initramfs OUT INIT [SRC=DEST]...
vm_initramfs() {
	local out=$1 init=$2 root m f
	shift 2
	root=$(mktemp -d "$T/initrd.XXXXXX")
	mkdir -p "$root"/{bin,dev,proc,sys,run,tmp,mnt,etc,modules}
	vm_busybox || { echo "vm: no static busybox for $VM_ARCH" >&2; return 1; }
	cp "$VM_BUSYBOX" "$root/bin/busybox"
	for m in sh mount umount insmod ip sleep cat echo sha256sum ls grep \
		poweroff kill mkdir cmp head tail wc dd od sync pidof ps; do
		ln -s busybox "$root/bin/$m"
	done
	cp "$VM_S3ROOT" "$root/bin/s3root"
	cp "$init" "$root/init"
	chmod 755 "$root/init"
	for m in $VM_MODULES; do
		f=$(find "$VM_MODDIR/kernel" -name "$m.ko" | head -n 1)
		[ -n "$f" ] || { echo "vm: no module $m" >&2; return 1; }
		cp "$f" "$root/modules/"
	done
	echo "$VM_MODULES" >"$root/modules/order"
	for m in "$@"; do
		mkdir -p "$root/$(dirname "${m#*=}")"
		cp -r "${m%%=*}" "$root/${m#*=}"
	done
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
}

# vm_run INITRD LOG SECS [KERNEL ARGS...] ($VM_QEMU_ARGS: more for qemu;
# $VM_NETDEV: the guest's network, for -netdev (user-mode by default; its
# id must be n0);
# $VM_CONSOLE_IN: a file the console reads, typed in at boot; $VM_NETBOOT:
# a directory with boot.ipxe, which the network card's iPXE fetches by
# TFTP and runs: no INITRD nor KERNEL ARGS then)
vm_run() {
	local initrd=$1 log=$2 secs=$3 in=/dev/null out=$2.qemu con pid n
	local boot=(-kernel "$VM_VMLINUZ" -initrd "$initrd")
	local net=${VM_NETDEV:-user,id=n0}
	shift 3
	if [ -n "${VM_NETBOOT:-}" ]; then
		boot=(-boot n)
		net=$net,tftp=$VM_NETBOOT,bootfile=boot.ipxe
	else
		boot+=(-append "console=$VM_CONSOLE panic=-1 $*")
	fi
	con="file,id=con,path=$log"
	if [ -n "${VM_CONSOLE_IN:-}" ]; then
		# qemu 7.2's file backend has no input: stdio, which has
		con="stdio,id=con,signal=off"
		in=$VM_CONSOLE_IN out=$log
	fi
	# shellcheck disable=SC2086 # VM_MACHINE is options
	$VM_QEMU $VM_MACHINE -accel tcg -m 768 -smp 1 \
		-nographic -no-reboot -monitor none \
		-chardev "$con" -serial chardev:con \
		"${boot[@]}" -netdev "$net" -device virtio-net-pci,netdev=n0 \
		${VM_QEMU_ARGS:-} <"$in" >"$out" 2>>"$log.qemu" &
	pid=$!
	n=$((secs * 10))
	while kill -0 "$pid" 2>/dev/null && [ $n -gt 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid" 2>/dev/null
		echo "vm: no power-off after ${secs}s" >&2
		return 1
	fi
	wait "$pid" 2>/dev/null
	return 0
}

# The guest's common start: modules, network; sourced by init scripts.
vm_guest_prelude() {
	cat <<'EOF'
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs run /run
for m in $(cat /modules/order); do
	insmod /modules/$m.ko || echo "insmod $m failed"
done
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n+1)); done
ip link set lo up
ip link set eth0 up
ip addr add 10.0.2.15/24 dev eth0
ip route add default via 10.0.2.2
EOF
}

# vm_image_put ROOT BUCKET: the test's root tree ROOT (its /sbin/init the
# guest's script) as an lz4hc EROFS image in $T/root.erofs, uploaded as
# BUCKET/root.erofs into a new bucket (s3ctl: tests/servers/rgw.sh).
vm_image_put() {
	chmod 755 "$1/sbin/init"
	mkfs.erofs -zlz4hc "$T/root.erofs" "$1" >/dev/null
	s3ctl mb "$2" >/dev/null
	s3ctl put "$2" root.erofs "$T/root.erofs" >/dev/null
}
