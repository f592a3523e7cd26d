#!/usr/bin/env bash
# Boot from S3 with the instance role's credentials and none in the
# initramfs: the guest reaches tests/servers/imds.py (real temporary
# credentials of the suite's RGW STS, LIFE seconds long) through
# s3.imds_endpoint=http://10.0.2.2:PORT on the kernel command line, the
# root comes up, and the root server (chrooted into /run/s3root, the
# initramfs gone) refreshes its credentials while the system idles; a
# cold read after the first credentials expired succeeds and `list -v`
# counts the refreshes. One boot.
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
. "$TOP/tests/vm/vm.sh"
requires radosgw ceph-mon ceph-osd "$VM_QEMU" busybox cpio mkfs.erofs \
	depmod
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/servers/imds.sh"

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
vm_busybox || fail "no static busybox for $VM_ARCH (apt-get download)"
secs=${VM_SECS:-$([ "$VM_ARCH" = "$VM_HOST_ARCH" ] && echo 300 || echo 600)}
LIFE=60
at_exit "rgw_stop $T/rgw"
at_exit "imds_stop $T/imds"
rgw_start "$T/rgw" >/dev/null
imds_start "$T/imds" --duration $LIFE --region eu-test-1

# the root: busybox, an init that waits for a refresh, then for the first
# credentials to expire, and reads what it never read
r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,late}
cp "$VM_BUSYBOX" "$r/bin/busybox"
for a in sh mount cat echo sha256sum grep ls poweroff sleep sync head \
	dmesg sed; do
	ln -s busybox "$r/bin/$a"
done
head -c $((4 << 20)) /dev/urandom >"$r/late/blob"
(cd "$r" && sha256sum late/blob) >"$r/etc/sums-late"
cat >"$r/sbin/init" <<INIT
#!/bin/sh
ok() { echo "CHECK ok: \$*"; }
bad() { echo "CHECK FAILED: \$*"; }
mount -t proc proc /proc 2>/dev/null
echo "ROOT: init running from S3"
pid=\$(cat /run/s3root/nbd0.pid 2>/dev/null)
[ -n "\$pid" ] && [ -d /proc/\$pid ] && ok "root server alive" || bad "root server"
[ ! -e /init ] && ok "initramfs gone" || bad "initramfs left"
dmesg | grep -q "credentials from the instance metadata service, role s3root-instance" &&
	ok "the instance's credentials" || bad "credentials: \$(dmesg | grep -a credentials)"
# the root server refreshes on its own, the system idle ($LIFE s credentials,
# replaced $((LIFE / 4)) s ahead: the first are gone $((LIFE / 4 + 3)) s after)
n=0
until dmesg | grep -q "credentials refreshed from the instance metadata service"; do
	[ \$n -lt $((2 * LIFE)) ] || { bad "no refresh in $((2 * LIFE)) s"; break; }
	sleep 1
	n=\$((n + 1))
done
echo "REFRESHED after \$n s"
sleep $((LIFE / 4 + 3))
echo 3 > /proc/sys/vm/drop_caches
cd / && sha256sum -c -s /etc/sums-late &&
	ok "a cold read with the refreshed credentials" || bad "cold read"
/run/s3root/s3root list -v > /tmp/figures &&
	grep -q '^ *credentials: [1-9][0-9]* refreshes, 0 failed, valid until ' /tmp/figures &&
	ok "list -v counts the refreshes" || bad "list -v: \$(cat /tmp/figures)"
sed 's/^ */FIGURES: /' /tmp/figures
echo "RESULT: DONE"
sync
poweroff -f
INIT
vm_image_put "$r" bootb

# no credentials, no configuration: everything on the command line
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" || fail "mkinitramfs-s3root"
static=ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off
start=$(date +%s)
vm_run "$T/initrd" "$T/console" "$secs" root=s3:bootb/root.erofs $static \
	"s3.endpoint=http://10.0.2.2:$RGW_STS_PORT" \
	"s3.imds_endpoint=http://10.0.2.2:$IMDS_PORT" ||
	{ tr -d '\033' <"$T/console" | tail -n 30; fail "the VM did not finish"; }
echo "== VM ran for $(($(date +%s) - start)) s"
grep -a 's3root:\|CHECK\|FIGURES\|REFRESHED' "$T/console" | grep -v '^\[' |
	tr -d '\033\r' | head -n 40
# the root server's own lines (kernel log, after switch_root)
tr -d '\033\r' <"$T/console" | grep -a '^\[.*s3root:.*credentials' | tail -n 6
grep -aq "RESULT: DONE" "$T/console" || fail "the root's init did not finish"
! grep -aq "CHECK FAILED" "$T/console" || fail "checks failed in the guest"
[ "$(grep -ac 'CHECK ok' "$T/console")" -eq 5 ] || fail "5 checks expected"
grep -aq "region eu-test-1 (the instance's)" "$T/console" || fail "the region"
[ "$(imds_count "^# issued credentials")" -ge 2 ] || fail "$(cat "$IMDS_LOG")"
while IFS= read -r s; do
	grep -aqF -- "$s" "$T/console" && fail "a secret on the console"
done <"$T/imds/secrets"
echo "boot with the instance's credentials: ok"
