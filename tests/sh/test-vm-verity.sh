#!/usr/bin/env bash
# A verified root: dm-verity over the S3 device, in Debian's stock kernel
# (qemu TCG) with the standalone initramfs, the image (busybox, as in
# test-vm-boot.sh) in the suite's RGW with its hash tree appended by
# `s3root verity-format --appended`. Boots:
#   plain     the image without verity (the figures to compare with)
#   verified  s3root.verity= the right root hash: the root is /dev/dm-0
#             over /dev/nbd0, every file reads back; on the running system
#             `s3root mount -o s3root.verity=...` mounts a second verified
#             image, `list` shows the dm device, `detach` removes both;
#             then the tampered copy below, mounted the same way
#   object    the tree in an object of its own (verity-format --output,
#             s3root.verity_object=): a second device under the dm device,
#             the same checks, and a second image so mounted
#   (tampered) one byte flipped in a data block of the object (a
#             tampered copy uploaded to RGW), mounted in the verified
#             boot: the mount works, the read of that block fails, the
#             kernel names the block and the system goes on (restart and
#             panic below boot it as the root)
#   wrong     a wrong root hash: the boot stops with s3root's message, and
#             s3root.onfail=reboot reboots (qemu exits); so does a
#             malformed one, and a superblock whose block count was cut
#             (the root hash does not cover it: the offset must agree)
#   restart   the tampered object with s3root.verity_onerror=restart: the
#             read of the bad block reboots the machine; with =panic the
#             kernel panics (panic=-1: it reboots too)
# The figures (boot time, bytes fetched) of plain and verified are printed.
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd qemu-system-x86_64 busybox cpio \
	mkfs.erofs depmod
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null

r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,data,mnt2}
cp /bin/busybox "$r/bin/busybox"
for a in sh mount umount cat echo sha256sum grep ls poweroff sleep sync \
	head mkdir dmesg sed cut; do
	ln -s busybox "$r/bin/$a"
done
head -c 3000000 /dev/urandom >"$r/data/blob"
cp -r "$TOP/crypto" "$r/data/src"
# a file of its own blocks whose place in the image is found by its text
yes 'VERITY CANARY 0123456789abcdef' | head -c 65536 >"$r/data/canary"
(cd "$r" && find data -type f | sort | xargs sha256sum) >"$r/etc/sums"
cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
ok() { echo "CHECK ok: $*"; }
bad() { echo "CHECK FAILED: $*"; }
# dead PID: waits (10 s at most) until PID has exited (gone, or a zombie)
dead() {
	local i=0
	while [ -d /proc/$1 ] && ! grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; do
		[ $i -lt 100 ] || { echo "process $1 still runs"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}
echo "ROOT: init running from S3 at $(cut -d' ' -f1 /proc/uptime) s"
s3root=/run/s3root/s3root
# what reaching the root's init cost, before the checks read every file
$s3root list -v | grep fetched | sed 's/^ */START: /'
if grep -q s3test_tampered /proc/cmdline; then
	# the canary's blocks: one of them was changed in the object
	if cat /data/canary >/dev/null 2>/tmp/err; then
		bad "the tampered canary read back"
	else
		ok "the tampered block is refused: $(cat /tmp/err)"
	fi
	dmesg | grep -a 'verity.*corrupted' | head -n 3 | sed 's/^/KERNEL: /'
	echo "RESULT: DONE"
	poweroff -f
fi
cd / && sha256sum -c -s /etc/sums && ok "files" || bad "files"
if grep -q 's3root.verity=' /proc/cmdline; then
	grep -q '^/dev/dm-0 /run/s3root/lower erofs' /proc/mounts &&
		grep -q ' / overlay ' /proc/mounts &&
		ok "the root is an overlay over /dev/dm-0" || bad "lower: $(grep lower /proc/mounts)"
	pid=$(cat /run/s3root/nbd0.pid)
	head -c 1 /proc/$pid/cmdline | grep -q '@' &&
		grep -q '^VmLck:[[:space:]]*[1-9]' /proc/$pid/status &&
		ok "root server marked @, memory locked" || bad "root server"
	$s3root list >/tmp/list.root && grep -q '^/dev/nbd0 ' /tmp/list.root &&
		grep -q 'verity: /dev/dm-0 (s3root-nbd0)' /tmp/list.root &&
		{ ! grep -q s3test_object /proc/cmdline ||
		  grep -q 'verity: /dev/dm-0 (s3root-nbd0), tree on /dev/nbd1' /tmp/list.root; } &&
		ok "list shows the dm device" || bad "list: $(cat /tmp/list.root)"
	# a second verified image on the running system, its tree appended
	# (s3test_second=HASH:OFFSET) or in an object of its own
	# (s3test_second=HASH:object)
	h=$(sed -n 's/.*s3test_second=\([0-9a-f]*\):\([0-9a-z]*\).*/\1/p' /proc/cmdline)
	o=$(sed -n 's/.*s3test_second=\([0-9a-f]*\):\([0-9a-z]*\).*/\2/p' /proc/cmdline)
	key=second.erofs where=s3root.verity_offset=$o
	[ "$o" = object ] && key=second-plain.erofs &&
		where=s3root.verity_object=s3://bootb/second-plain.erofs.verity
	export S3ROOT_CONFIG=/run/s3root/etc/s3root.conf
	p=s3.passwd_file=/run/s3root/etc/passwd
	$s3root mount s3://bootb/$key /mnt2 -o $p \
		-o s3root.verity=$h,$where >/tmp/m 2>&1 &&
		grep -q '^/dev/dm-1 on /mnt2' /tmp/m && [ "$(cat /mnt2/hello)" = second ] &&
		ok "mount -o s3root.verity= on the running system" || bad "mount: $(cat /tmp/m)"
	$s3root list >/tmp/list
	n=$(grep -B 1 'verity: /dev/dm-1 ' /tmp/list | head -n 1 | cut -d' ' -f1)
	n=${n#/dev/}
	# a new server for it under the mounted dm device: reads go on
	pid=$(cat /run/s3root/$n.pid)
	kill -9 $pid && dead $pid &&
		$s3root attach --reattach /dev/$n >/dev/null &&
		echo 3 > /proc/sys/vm/drop_caches &&
		[ "$(cat /mnt2/hello)" = second ] && cat /mnt2/more >/dev/null &&
		ok "reattached under the dm device" || bad "reattach"
	if $s3root detach /dev/$n >/tmp/d 2>&1; then
		bad "detach of a mounted verity device"
	else
		grep -q 'unmount it first' /tmp/d && ok "detach refused while mounted" ||
			bad "detach: $(cat /tmp/d)"
	fi
	umount /mnt2 && $s3root detach /dev/$n && [ ! -e /dev/dm-1 ] &&
		[ "$($s3root list | grep -c '^/dev/nbd')" = "$(grep -c '^/dev/nbd' /tmp/list.root)" ] &&
		ok "second detached, dm device (and tree device) removed" ||
		bad "second detach: $($s3root list)"
fi
if grep -q s3test_mount_tampered /proc/cmdline; then
	# the tampered copy of the root's image, with the root's hash: the
	# mount works (the tree is intact), the read of the block fails
	vh=$(sed -n 's/.*s3root.verity=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
	vo=$(sed -n 's/.*s3root.verity_offset=\([0-9]*\).*/\1/p' /proc/cmdline)
	mkdir -p /mnt3
	$s3root mount s3://bootb/tampered.erofs /mnt3 -o $p \
		-o s3root.verity=$vh,s3root.verity_offset=$vo >/tmp/m3 2>&1 ||
		bad "tampered mount: $(cat /tmp/m3)"
	if cat /mnt3/data/canary >/dev/null 2>/tmp/err; then
		bad "the tampered canary read back"
	else
		ok "the tampered block is refused: $(cat /tmp/err)"
	fi
	dmesg | grep -a 'verity.*corrupted' | head -n 3 | sed 's/^/KERNEL: /'
	d3=$(sed -n 's/^\(\/dev\/dm-[0-9]*\) on \/mnt3.*/\1/p' /tmp/m3)
	n3=$($s3root list | grep -B 1 "verity: $d3 " | head -n 1 | cut -d' ' -f1)
	umount /mnt3 && $s3root detach $n3 && [ ! -e $d3 ] ||
		bad "tampered detach: $($s3root list)"
fi
$s3root list -v > /tmp/figures && grep -q '^    fetched: [1-9]' /tmp/figures &&
	ok "list -v" || bad "list -v"
sed 's/^ */FIGURES: /' /tmp/figures
echo "RESULT: DONE"
sync
poweroff -f
INIT
chmod 755 "$r/sbin/init"
# uncompressed: the canary's bytes are in the image as they are in the file
mkfs.erofs "$T/plain.erofs" "$r" >/dev/null
cp "$T/plain.erofs" "$T/root.erofs"
"$S3ROOT" verity-format "$T/root.erofs" --appended >"$T/format.out" ||
	fail "verity-format"
cat "$T/format.out"
hash=$(sed -n 's/^root hash: //p' "$T/format.out")
off=$(sed -n 's/^hash offset: //p' "$T/format.out")
[ ${#hash} = 64 ] && [ "$off" = "$(stat -c %s "$T/plain.erofs")" ] ||
	fail "verity-format printed no root hash or a wrong offset"

# the tampered copy: one byte of the canary's third block flipped
canary=$(grep -abo 'VERITY CANARY' "$T/root.erofs" | head -n 1 | cut -d: -f1)
[ -n "$canary" ] || fail "the canary is not in the image"
flip=$((canary + 2 * 4096 + 100))
block=$((flip / 4096))
cp "$T/root.erofs" "$T/tampered.erofs"
printf 'X' | dd of="$T/tampered.erofs" bs=1 seek=$flip conv=notrunc 2>/dev/null
cmp -s "$T/root.erofs" "$T/tampered.erofs" && fail "the copy was not changed"
echo "tampered: byte $flip, data block $block"

# the superblock says 100 data blocks (a tree of one level less)
cp "$T/root.erofs" "$T/shortsb.erofs"
printf '\144\0\0\0\0\0\0\0' |
	dd of="$T/shortsb.erofs" bs=1 seek=$((off + 72)) conv=notrunc 2>/dev/null

mkdir -p "$T/second"
echo second >"$T/second/hello"
head -c 20000 /dev/urandom >"$T/second/more"
mkfs.erofs "$T/second.erofs" "$T/second" >/dev/null
"$S3ROOT" verity-format "$T/second.erofs" --appended >"$T/format2.out" ||
	fail "verity-format (second)"
hash2=$(sed -n 's/^root hash: //p' "$T/format2.out")
off2=$(sed -n 's/^hash offset: //p' "$T/format2.out")
# the other layout: the trees in objects of their own (KEY.verity)
mkfs.erofs "$T/second-plain.erofs" "$T/second" >/dev/null
"$S3ROOT" verity-format "$T/second-plain.erofs" \
	--output "$T/second-plain.erofs.verity" >"$T/format3.out" ||
	fail "verity-format --output (second)"
hash3=$(sed -n 's/^root hash: //p' "$T/format3.out")
"$S3ROOT" verity-format "$T/plain.erofs" --output "$T/plain.erofs.verity" \
	>"$T/format4.out" || fail "verity-format --output"
hash4=$(sed -n 's/^root hash: //p' "$T/format4.out")

s3ctl mb bootb >/dev/null
s3ctl put bootb plain.erofs "$T/plain.erofs" >/dev/null
s3ctl put bootb root.erofs "$T/root.erofs" >/dev/null
s3ctl put bootb tampered.erofs "$T/tampered.erofs" >/dev/null
s3ctl put bootb second.erofs "$T/second.erofs" >/dev/null
s3ctl put bootb shortsb.erofs "$T/shortsb.erofs" >/dev/null
for k in second-plain.erofs second-plain.erofs.verity plain.erofs.verity; do
	s3ctl put bootb $k "$T/$k" >/dev/null
done

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$T/conf"
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" ||
	fail "mkinitramfs-s3root"
static=ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off

# boot NAME CHECKS KERNEL-ARGS...: as test-vm-boot.sh's
boot() {
	local name=$1 want=$2 start
	shift 2
	start=$(date +%s)
	vm_run "$T/initrd" "$T/$name.console" "${VM_SECS:-240}" "$@" ||
		{ tr -d '\033' <"$T/$name.console" | tail -n 30
		  fail "$name: the VM did not finish"; }
	echo "== $name: VM ran for $(($(date +%s) - start)) s"
	grep -a 's3root:\|CHECK\|FIGURES\|KERNEL\|^ROOT\|^START' "$T/$name.console" |
		grep -v '^\[' | tr -d '\033' | head -n 40
	grep -aq "RESULT: DONE" "$T/$name.console" ||
		fail "$name: the root's init did not finish"
	! grep -aq "CHECK FAILED" "$T/$name.console" ||
		fail "$name: checks failed in the guest"
	[ "$(grep -ac 'CHECK ok' "$T/$name.console")" -eq "$want" ] ||
		fail "$name: $want checks expected"
}

boot plain 2 root=s3:bootb/plain.erofs $static
boot verified 10 root=s3:bootb/root.erofs $static "s3root.verity=$hash" \
	"s3root.verity_offset=$off" "s3test_second=$hash2:$off2" \
	s3test_mount_tampered
grep -aq "s3root: /dev/dm-0: dm-verity (s3root-nbd0) over /dev/nbd0" \
	"$T/verified.console" || fail "verified: no dm-verity device"
grep -aq "root=s3:bootb/root.erofs on /dev/dm-0" "$T/verified.console" ||
	fail "verified: the root is not on /dev/dm-0"

# the tree in its own object: a second device, the same checks
boot object 9 root=s3:bootb/plain.erofs $static "s3root.verity=$hash4" \
	s3root.verity_object=s3:bootb/plain.erofs.verity s3test_object \
	"s3test_second=$hash3:object"
grep -aq "s3root: /dev/dm-0: dm-verity (s3root-nbd0) over /dev/nbd0, tree on /dev/nbd1" \
	"$T/object.console" || fail "object: no dm-verity device over two"

grep -aq "device-mapper: verity: [0-9]*:[0-9]*: data block $block is corrupted" \
	"$T/verified.console" ||
	fail "tampered: the kernel did not name data block $block"

# a wrong root hash (the right one with its first digit changed)
wrong=$(printf '%x' $(((0x${hash:0:1} + 1) % 16)))${hash:1}
vm_run "$T/initrd" "$T/wrong.console" 120 root=s3:bootb/root.erofs $static \
	"s3root.verity=$wrong" "s3root.verity_offset=$off" s3root.onfail=reboot ||
	fail "wrong: no reboot"
grep -a 's3root:' "$T/wrong.console" | grep -v '^\[' | tr -d '\033'
grep -aq "s3root: verity: s3://bootb/root.erofs: root hash mismatch: the image's hash tree has root hash $hash, not the s3root.verity= given" \
	"$T/wrong.console" || fail "wrong: no root hash message"
grep -aq "rebooting in 10 s (s3root.onfail=reboot)" "$T/wrong.console" ||
	fail "wrong: onfail=reboot not honoured"
! grep -aq "ROOT: init running" "$T/wrong.console" ||
	fail "wrong: the root was booted"

# a malformed root hash on the kernel command line stops the boot too
vm_run "$T/initrd" "$T/badhex.console" 120 root=s3:bootb/root.erofs $static \
	"s3root.verity=${hash:0:63}g" "s3root.verity_offset=$off" \
	s3root.onfail=reboot || fail "badhex: no reboot"
grep -aq "refusing to boot an unverified root" "$T/badhex.console" ||
	fail "badhex: no refusal"
! grep -aq "ROOT: init running" "$T/badhex.console" ||
	fail "badhex: the root was booted"

vm_run "$T/initrd" "$T/shortsb.console" 120 root=s3:bootb/shortsb.erofs \
	$static "s3root.verity=$hash" "s3root.verity_offset=$off" \
	s3root.onfail=reboot || fail "shortsb: no reboot"
grep -aq "s3://bootb/shortsb.erofs: the verity superblock says 100 data blocks, not the image's $((off / 4096))" \
	"$T/shortsb.console" || fail "shortsb: no message"
! grep -aq "ROOT: init running" "$T/shortsb.console" ||
	fail "shortsb: the root was booted"

# verity_onerror=restart: the bad block reboots the machine (qemu exits)
vm_run "$T/initrd" "$T/restart.console" 240 root=s3:bootb/tampered.erofs \
	$static "s3root.verity=$hash" "s3root.verity_offset=$off" \
	s3root.verity_onerror=restart s3test_tampered ||
	fail "restart: no reboot"
grep -aq "data block $block is corrupted" "$T/restart.console" ||
	fail "restart: no corruption reported"
! grep -aq "RESULT: DONE" "$T/restart.console" ||
	fail "restart: the machine did not restart"

vm_run "$T/initrd" "$T/panic.console" 240 root=s3:bootb/tampered.erofs \
	$static "s3root.verity=$hash" "s3root.verity_offset=$off" \
	s3root.verity_onerror=panic s3test_tampered ||
	fail "panic: no reboot"
grep -aq "Kernel panic - not syncing: dm-verity device corrupted" \
	"$T/panic.console" || fail "panic: the kernel did not panic"
! grep -aq "RESULT: DONE" "$T/panic.console" || fail "panic: no panic"

# the cost: time to the root's init and what the boot fetched by then,
# and after reading every file
for n in plain verified; do
	printf '%-9s root init at %s s (guest uptime); by then %s; after all files %s\n' "$n" \
		"$(sed -n 's/.*init running from S3 at \([0-9.]*\) s.*/\1/p' "$T/$n.console" | tr -d '\r')" \
		"$(grep -a '^START: fetched' "$T/$n.console" | sed 's/START: //' | tr -d '\r')" \
		"$(grep -a 'FIGURES: fetched' "$T/$n.console" | sed 's/FIGURES: //' | tr -d '\r')"
done
