#!/usr/bin/env bash
# The kernel path in a VM: Debian's stock kernel (qemu TCG) boots a busybox
# initramfs with s3root, which attaches an EROFS image from the suite's RGW
# (host loopback = 10.0.2.2) as /dev/nbdN by netlink (its queue set by
# s3root.read_ahead_kb and max_sectors_kb), mounts it, checks the files'
# sha256, lists it, survives a killed server with attach --reattach,
# which signals only its own server and keeps to the attached object (a
# replaced one refused, the attached version of a versioned one served),
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
# replaced while attached (the guest says when): other.erofs on a bucket
# without versioning, root.erofs on a versioned one
s3ctl put vmb other.erofs "$T/root.erofs" >/dev/null
s3ctl mb vbkt >/dev/null
s3ctl versioning vbkt on >/dev/null
s3ctl put vbkt root.erofs "$T/root.erofs" >/dev/null

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
st=/run/s3root/\${dev#/dev/}.state
grep -q '^etag = "' \$st && grep -q '^size = [1-9]' \$st && ok "pin in the state file" || bad "no pin: \$(cat \$st)"
# a dead server's pid now another process's: that one is not signalled
kill -9 \$new
while [ -d /proc/\$new ] && ! grep -q '^State:.*Z' /proc/\$new/status 2>/dev/null; do sleep 0.1; done
sleep 600 &
other=\$!
sed -i "s/^pid = .*/pid = \$other/" \$st
s3root attach --reattach \$dev 2>/tmp/err || bad "reattach after a crash: \$(cat /tmp/err)"
kill -0 \$other 2>/dev/null && grep -q "pid \$other is not its server" /tmp/err && ok "a foreign pid not signalled" || bad "foreign pid \$other signalled: \$(cat /tmp/err)"
kill \$other
echo 3 > /proc/sys/vm/drop_caches
sums /mnt "after the foreign pid: files"
# the object replaced while attached: refused (no versioning), or the
# attached version served (versioning)
d2=\$(s3root attach s3://vmb/other.erofs -o \$O) || bad "attach other"
d3=\$(s3root attach s3://vbkt/root.erofs -o \$O) || bad "attach versioned"
grep -q '^version_id = ' /run/s3root/\${d3#/dev/}.state && ok "version id in the state file" || bad "no version id"
echo "REPLACE-NOW"
n=0
until s3root stat s3://vmb/replaced -o \$O,s3.io_timeout=2 >/dev/null 2>&1; do
	[ \$n -lt 120 ] || { bad "the host did not replace the objects"; break; }
	sleep 1
	n=\$((n + 1))
done
for d in \$d2 \$d3; do
	p=\$(cat /run/s3root/\${d#/dev/}.pid)
	kill -9 \$p
	while [ -d /proc/\$p ] && ! grep -q '^State:.*Z' /proc/\$p/status 2>/dev/null; do sleep 0.1; done
done
s3root attach --reattach \$d2 2>/tmp/err && bad "reattached to a replaced object"
grep -q "was replaced" /tmp/err && ok "replaced object refused" || bad "replaced: \$(cat /tmp/err)"
s3root attach --reattach \$d3 2>/tmp/err && mkdir -p /mnt3 && mount -t erofs -o ro \$d3 /mnt3 && sums /mnt3 "versioned: the attached version" || bad "versioned reattach: \$(cat /tmp/err)"
umount /mnt3
s3root detach \$d3 || bad "detach \$d3"
s3root detach \$d2 || bad "detach \$d2"
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
# the guest says when its objects are to be replaced
(
	while ! grep -aq REPLACE-NOW "$T/console" 2>/dev/null; do
		sleep 0.5
		[ -e "$T/vm-done" ] && exit 0
	done
	s3ctl put vmb other.erofs "$T/notfs" >/dev/null
	s3ctl put vbkt root.erofs "$T/notfs" >/dev/null
	s3ctl put vmb replaced "$T/sums" >/dev/null
) &
replacer=$!
at_exit "kill $replacer 2>/dev/null"
vm_run "$T/initrd" "$T/console" 240 quiet ||
	{ tail -n 40 "$T/console"; fail "the VM did not finish"; }
echo "VM ran for $(($(date +%s) - start)) s"
touch "$T/vm-done"
grep -a 'CHECK\|RESULT\|attached\|^    ' "$T/console"
grep -aq "RESULT: DONE" "$T/console" || fail "the guest did not finish"
! grep -aq "CHECK FAILED" "$T/console" || fail "checks failed in the guest"
[ "$(grep -ac 'CHECK ok' "$T/console")" -eq 23 ] || fail "checks missing"
