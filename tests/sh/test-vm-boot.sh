#!/usr/bin/env bash
# Boot from S3: Debian's stock kernel (qemu TCG) with the standalone
# initramfs of initramfs/mkinitramfs-s3root and root=s3:bucket/key; the root
# image (busybox) lives in the suite's RGW. Its init checks the sha256 of
# its files, writes to the tmpfs overlay, checks what /init left behind
# (/run/s3root, the root server still serving), and powers off.
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

# the root: busybox, a few files with known sums, an init that checks
r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,data}
cp /bin/busybox "$r/bin/busybox"
for a in sh mount cat echo sha256sum grep ls poweroff sleep sync dd touch tr \
	pidof ps head; do
	ln -s busybox "$r/bin/$a"
done
head -c 3000000 /dev/urandom >"$r/data/blob"
cp -r "$TOP/crypto" "$r/data/src"
(cd "$r" && find data -type f | sort | xargs sha256sum) >"$r/etc/sums"
cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
ok() { echo "CHECK ok: $*"; }
bad() { echo "CHECK FAILED: $*"; }
echo "ROOT: init running from S3"
cd / && sha256sum -c -s /etc/sums && ok "files" || bad "files"
grep -q ' / overlay ' /proc/mounts && ok "overlay root" || bad "overlay root"
echo written > /data/new && [ "$(cat /data/new)" = written ] && ok "write" || bad "write"
[ -x /run/s3root/s3root ] && ok "/run/s3root" || bad "/run/s3root"
ls /run/s3root/nbd*.state >/dev/null 2>&1 && ok "state" || bad "state"
pid=$(cat /run/s3root/nbd0.pid 2>/dev/null)
[ -n "$pid" ] && [ -d /proc/$pid ] && ok "root server alive" || bad "root server"
head -c 1 /proc/$pid/cmdline | grep -q '@' && grep -q '^VmLck:[[:space:]]*[1-9]' /proc/$pid/status &&
	ok "server marked @, memory locked" || bad "server marker or lock"
echo 3 > /proc/sys/vm/drop_caches
cat /data/blob > /dev/null && ok "reads after switch_root" || bad "reads"
[ ! -e /init ] && ok "initramfs gone" || bad "initramfs left"
echo "RESULT: DONE"
sync
poweroff -f
INIT
chmod 755 "$r/sbin/init"
mkfs.erofs -zlz4hc "$T/root.erofs" "$r" >/dev/null
s3ctl mb bootb >/dev/null
s3ctl put bootb root.erofs "$T/root.erofs" >/dev/null

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$T/conf"
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" ||
	fail "mkinitramfs-s3root"

start=$(date +%s)
vm_run "$T/initrd" "$T/console" ${VM_SECS:-180} \
	root=s3:bootb/root.erofs \
	ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off ||
	{ grep -a "s3root" "$T/console" | head -n 30; fail "the VM did not finish"; }
echo "VM ran for $(($(date +%s) - start)) s"
grep -a 's3root\|CHECK\|RESULT\|ROOT' "$T/console" | tr -d '\033' | head -40
grep -aq "RESULT: DONE" "$T/console" || fail "the root's init did not finish"
! grep -aq "CHECK FAILED" "$T/console" || fail "checks failed in the guest"
[ "$(grep -ac 'CHECK ok' "$T/console")" -eq 9 ] || fail "checks missing"

# the same root with ip=dhcp (qemu's user network has a DHCP server)
vm_run "$T/initrd" "$T/console2" ${VM_SECS:-180} \
	root=s3:bootb/root.erofs ip=dhcp ||
	{ grep -a "s3root" "$T/console2" | head -n 30; fail "DHCP boot did not finish"; }
grep -a 's3root: DHCP' "$T/console2" | tr -d '\033' | head -n 1
grep -aq "s3root: DHCP: 10.0.2.15" "$T/console2" || fail "no DHCP lease"
grep -aq "RESULT: DONE" "$T/console2" || fail "DHCP boot: the root's init did not finish"
! grep -aq "CHECK FAILED" "$T/console2" || fail "DHCP boot: checks failed"
