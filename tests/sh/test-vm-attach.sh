#!/usr/bin/env bash
# The kernel path in a VM: Debian's stock kernel (qemu TCG) boots a busybox
# initramfs with s3root, which attaches an EROFS image from the suite's RGW
# (host loopback = 10.0.2.2) as /dev/nbdN by netlink (its queue set by
# s3root.read_ahead_kb and max_sectors_kb), mounts it, checks the files'
# sha256, lists it, survives a killed server with attach --reattach,
# detaches; then the same over the ioctl interface, and `s3root mount`.
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
requires radosgw ceph-mon ceph-osd qemu-system-x86_64 busybox cpio \
	mkfs.erofs dpkg-deb
requires_py botocore
. "$TOP/tests/servers/rgw.sh"
. "$TOP/tests/vm/vm.sh"

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null

# the image: a tree of files whose sha256 the guest checks
mkdir -p "$T/tree/etc" "$T/tree/data/deep"
cp -r "$TOP/crypto" "$T/tree/src"
head -c 2000000 /dev/urandom >"$T/tree/data/deep/blob"
printf 'hello from s3\n' >"$T/tree/etc/motd"
(cd "$T/tree" && find . -type f | sort | xargs sha256sum) >"$T/sums"
mkfs.erofs -zlz4hc "$T/root.erofs" "$T/tree" >/dev/null
s3ctl mb vmb >/dev/null
s3ctl put vmb root.erofs "$T/root.erofs" >/dev/null
head -c 100000 /dev/urandom >"$T/notfs"
s3ctl put vmb notfs "$T/notfs" >/dev/null

cat >"$T/init" <<EOF
#!/bin/sh
$(vm_guest_prelude)
export AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY='$RGW_SECRET'
export S3ROOT_CONFIG=/dev/null
O=s3.endpoint=http://10.0.2.2:$RGW_PORT
ok() { echo "CHECK ok: \$*"; }
bad() { echo "CHECK FAILED: \$*"; }
sums() { (cd \$1 && sha256sum -c -s /sums) && ok "\$2" || bad "\$2"; }

dev=\$(s3root attach s3://vmb/root.erofs -o \$O) || bad "attach"
echo "attached \$dev"
mount -t erofs -o ro \$dev /mnt && sums /mnt "netlink: files" || bad "mount \$dev"
q=/sys/block/\${dev#/dev/}/queue
[ "\$(cat \$q/read_ahead_kb) \$(cat \$q/max_sectors_kb)" = "1024 1024" ] && ok "queue limits" || bad "queue limits: \$(cat \$q/read_ahead_kb) \$(cat \$q/max_sectors_kb)"
s3root list | grep -q "^\$dev  s3://vmb/root.erofs  pid" && ok "list" || bad "list"
s3root list --json | grep -q '"server": "running"' && ok "list --json" || bad "list --json"
s3root list -v | tee /tmp/figures
grep -Eq '^    fetched: [1-9][0-9]* bytes of' /tmp/figures && grep -q '^    GET latency: p50' /tmp/figures && grep -Eq '^    connections: [1-9][0-9]* open' /tmp/figures && grep -q '^    hedged GETs: ' /tmp/figures && ok "list -v" || bad "list -v"
s3root list -v --json | grep -q '"figures": {"size": ' && ok "list -v --json" || bad "list -v --json"
pid=\$(cat /run/s3root/\${dev#/dev/}.pid)
kill -9 \$pid
# until it has exited (gone, or a zombie): 10 s at most
n=0
while [ -d /proc/\$pid ] && ! grep -q '^State:.*Z' /proc/\$pid/status 2>/dev/null; do
	[ \$n -lt 100 ] || { bad "killed server \$pid still runs"; break; }
	sleep 0.1
	n=\$((n + 1))
done
s3root attach --reattach \$dev && ok "reattach" || bad "reattach"
echo 3 > /proc/sys/vm/drop_caches
sums /mnt "after reattach: files"
old=\$(sed -n 's/^pid = //p' /run/s3root/\${dev#/dev/}.state)
s3root attach --reattach \$dev || bad "reattach over a live server"
new=\$(sed -n 's/^pid = //p' /run/s3root/\${dev#/dev/}.state)
echo 3 > /proc/sys/vm/drop_caches
[ "\$old" != "\$new" ] && ! kill -0 \$old 2>/dev/null && sums /mnt "upgrade: files" || bad "upgrade"
umount /mnt
s3root detach \$dev && ok "detach" || bad "detach"
[ ! -e /run/s3root/\${dev#/dev/}.state ] && [ ! -e /run/s3root/\${dev#/dev/}.pid ] && ok "state removed" || bad "state left"
s3root attach s3://vmb/notfs -o \$O 2>/tmp/err && bad "attached a non-EROFS image"
grep -q "is not an EROFS image" /tmp/err && ok "EROFS magic checked" || bad "magic message: \$(cat /tmp/err)"
s3root attach s3://vmb/missing -o \$O,s3.io_timeout=5 2>/tmp/err && bad "attached a missing key"
grep -q "NoSuchKey" /tmp/err && ok "missing key refused" || bad "missing key: \$(cat /tmp/err)"

dev=\$(s3root attach s3://vmb/root.erofs --device /dev/nbd3 -o \$O,s3root.nbd=ioctl) || bad "ioctl attach"
[ "\$dev" = /dev/nbd3 ] && ok "ioctl on the device asked for" || bad "ioctl device \$dev"
mount -t erofs -o ro \$dev /mnt && sums /mnt "ioctl: files" || bad "ioctl mount"
umount /mnt
s3root detach \$dev && ok "ioctl detach" || bad "ioctl detach"

mkdir -p /mnt2
s3root mount s3://vmb/root.erofs /mnt2 -o \$O && sums /mnt2 "s3root mount: files" || bad "s3root mount"
cat /mnt2/etc/motd
umount /mnt2
echo "RESULT: DONE"
poweroff -f
EOF

vm_initramfs "$T/initrd" "$T/init" "$T/sums=sums" ||
	fail "initramfs"
start=$(date +%s)
vm_run "$T/initrd" "$T/console" 180 quiet ||
	{ tail -n 40 "$T/console"; fail "the VM did not finish"; }
echo "VM ran for $(($(date +%s) - start)) s"
grep -a 'CHECK\|RESULT\|attached\|^    ' "$T/console"
grep -aq "RESULT: DONE" "$T/console" || fail "the guest did not finish"
! grep -aq "CHECK FAILED" "$T/console" || fail "checks failed in the guest"
[ "$(grep -ac 'CHECK ok' "$T/console")" -eq 17 ] || fail "checks missing"
