#!/usr/bin/env bash
# Boot from S3: Debian's stock kernel (qemu TCG) with the standalone
# initramfs of initramfs/mkinitramfs-s3root and root=s3:bucket/key; the root
# image (busybox) lives in the suite's RGW. Its init checks the sha256 of
# its files, writes to the tmpfs overlay, checks what /init left behind
# (/run/s3root, the root server marked and locked), and powers off. Boots:
# static ip=; DHCP with a second device attached, reattached and detached
# on the running system; TLS through nginx with an STS session token and
# the guest clock in 2001, rotated to a second token on the running system;
# the ioctl interface; a presigned URL as root= from an initramfs without
# credentials (its secret in no state file, list or log line of s3root,
# a reattach refused with the server left alive); the README's iPXE script (amd64), the kernel and
# the initramfs over HTTP; a missing object with s3root.onfail=reboot, an
# endpoint that never answers and one that refuses with
# s3root.boot_timeout=20s and s3root.onfail=reboot, and
# with s3root.onfail=shell (a --with-shell initramfs; commands typed in). Each
# boot shows the time from the kernel's start to /init starting the root's
# init. VM_ARCH=arm64 (make check-cross) boots the arm64 build the same way
# in qemu-system-aarch64 -M virt: kernel, modules and busybox are Debian's
# for arm64. VM_SECS: the seconds a boot may take.
# Which boots run where (boots(), below): the BearSSL suite (make check)
# boots all of them. The mbedTLS suite (SUITE=mbedtls) boots only
# tls-clock, the one boot over TLS: the others take the same code path in
# both builds, which differ only in the TLS backend. check-cross
# (VM_ARCH=arm64) boots what depends on the architecture: static (the
# static binary starting as /init, netlink, the NBD netlink interface),
# dhcp (raw sockets, the lease, attach/reattach/detach on the running
# system), ioctl (the NBD ioctl interface), tls-clock (BearSSL's
# arithmetic, settimeofday) and refused (s3root.boot_timeout against the
# kernel's clock, and s3root.onfail=reboot); not presigned (URL parsing
# and redaction), missing (an S3 error message; onfail=reboot is in
# refused), hole (the same deadline as refused, only a slower cause),
# shell (onfail=shell: fork and exec) or outage (s3root's retries): their
# code is the same on every architecture and amd64 boots them. iPXE
# boots amd64 only (qemu's network ROMs are iPXE for a PC BIOS).
# suites: bearssl mbedtls
set -eu
. "$(dirname "$0")/functions.sh"
. "$TOP/tests/vm/vm.sh"
requires radosgw ceph-mon ceph-osd "$VM_QEMU" busybox cpio \
	mkfs.erofs depmod nginx openssl
requires_py botocore
. "$TOP/tests/servers/nginx-tls.sh"
. "$TOP/tests/servers/faultproxy.sh"

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
vm_busybox || fail "no static busybox for $VM_ARCH (apt-get download)"
# seconds a boot may take (the other waits are in proportion): another
# architecture's guest is slower to emulate
secs=${VM_SECS:-$([ "$VM_ARCH" = "$VM_HOST_ARCH" ] && echo 180 || echo 360)}
at_exit "rgw_stop $T/rgw"
at_exit "tls_stop $T/tls"
rgw_start "$T/rgw" >/dev/null
tls_start "$T/tls" "$RGW_STS_PORT" >/dev/null

# the root: busybox, a few files with known sums, an init that checks
r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,data}
cp "$VM_BUSYBOX" "$r/bin/busybox"
for a in sh mount umount cat echo sha256sum grep ls poweroff sleep sync dd \
	touch tr pidof ps head mkdir kill date sed cp mv dmesg; do
	ln -s busybox "$r/bin/$a"
done
head -c 3000000 /dev/urandom >"$r/data/blob"
cp -r "$TOP/crypto" "$r/data/src"
(cd "$r" && find data -type f | sort | xargs sha256sum) >"$r/etc/sums"
# read only during the outage: never cached before it
# read only in the outage boot: twice its cache (s3.cache=8M), so that neither
# readahead nor the cache can have all of it when S3 goes away
mkdir -p "$r/late"
head -c $((16 << 20)) /dev/urandom >"$r/late/blob"
(cd "$r" && sha256sum late/blob) >"$r/etc/sums-late"
# a second set of STS credentials, for the root server to rotate to, and
# the sum of a part of the late blob to read with them
rgw_assume_role 3600
mkdir -p "$r/etc/creds-b"
printf '%s:%s\n' "$RGW_STS_ACCESS" "$RGW_STS_SECRET" >"$r/etc/creds-b/passwd"
printf '%s\n' "$RGW_STS_TOKEN" >"$r/etc/creds-b/session_token"
dd if="$r/late/blob" bs=1M skip=12 count=4 2>/dev/null | sha256sum >"$r/etc/sums-rotate"
cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
ok() { echo "CHECK ok: $*"; }
bad() { echo "CHECK FAILED: $*"; }
# dead PID: waits (10 s at most) until PID has exited (gone, or a zombie)
dead() {
	local i=0
	while [ -d /proc/$1 ] && ! grep -q '^State:.*Z' /proc/$1/status 2>/dev/null; do
		[ $i -lt 100 ] || { bad "process $1 still runs"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
}
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
if grep -q s3test_second /proc/cmdline; then
	export S3ROOT_CONFIG=/run/s3root/etc/s3root.conf
	o=s3.passwd_file=/run/s3root/etc/passwd
	d=$(/run/s3root/s3root attach s3://bootb/second.erofs -o $o) &&
		mkdir -p /mnt2 && mount -t erofs -o ro $d /mnt2 &&
		[ "$(cat /mnt2/hello)" = second ] && ok "second device" || bad "second device"
	p2=$(cat /run/s3root/${d#/dev/}.pid)
	kill -9 $p2
	dead $p2
	/run/s3root/s3root attach --reattach $d && echo 3 > /proc/sys/vm/drop_caches &&
		[ "$(cat /mnt2/hello)" = second ] && ok "second reattached" || bad "second reattach"
	umount /mnt2 && /run/s3root/s3root detach $d && ok "second detached" || bad "second detach"
fi
grep -q s3root.nbd=ioctl /proc/cmdline &&
	grep -q "interface = ioctl" /run/s3root/nbd0.state && ok "ioctl root"
[ "$(date +%Y)" -ge 2026 ] && ok "clock not in 2001" || bad "clock $(date)"
if grep -q s3test_rotate /proc/cmdline; then
	# new credentials where the root server looks (the old ones stay
	# valid: the reload is seen in the log, and reads work after it)
	cp /etc/creds-b/session_token /run/s3root/etc/session_token.new &&
		mv /run/s3root/etc/session_token.new /run/s3root/etc/session_token
	cp /etc/creds-b/passwd /run/s3root/etc/passwd.new &&
		mv /run/s3root/etc/passwd.new /run/s3root/etc/passwd
	sleep 3
	echo 3 > /proc/sys/vm/drop_caches
	dd if=/late/blob bs=1M skip=12 count=4 2>/dev/null | sha256sum > /tmp/sum
	grep -q "$(head -c 64 /tmp/sum)" /etc/sums-rotate &&
		dmesg | grep -q "credentials reloaded from ./passwd" &&
		ok "credentials rotated under the root server" || bad "rotation: $(dmesg | grep -a credentials)"
fi
if grep -q s3test_outage /proc/cmdline; then
	# the host stops the S3 server the root server uses (for 20 s), then
	# puts the object outage-begun straight into RGW, where s3test_outage=
	# points
	echo "OUTAGE: ready"
	rgw=$(sed -n 's/.*s3test_outage=\([^ ]*\).*/\1/p' /proc/cmdline)
	n=0
	until S3ROOT_CONFIG=/dev/null /run/s3root/s3root stat s3://bootb/outage-begun \
		-o s3.endpoint=http://$rgw,s3.passwd_file=/run/s3root/etc/passwd \
		>/dev/null 2>&1; do
		[ $n -lt 60 ] || { bad "outage: the host did not begin it"; break; }
		sleep 0.5
		n=$((n + 1))
	done
	t0=$(date +%s)
	sha256sum /late/blob > /tmp/sum
	t1=$(date +%s)
	grep -q "$(head -c 64 /tmp/sum)" /etc/sums-late && [ $((t1 - t0)) -ge 10 ] &&
		ok "read through the outage ($((t1 - t0)) s)" || bad "outage read ($((t1 - t0)) s, $(cat /tmp/sum))"
fi
if grep -q s3test_presigned /proc/cmdline; then
	sig=$(sed -n 's/.*X-Amz-Signature=\([0-9a-f]*\).*/\1/p' /proc/cmdline)
	/run/s3root/s3root list --json > /tmp/list
	dmesg | grep 's3root:' > /tmp/log
	[ -n "$sig" ] && grep -q '?<presigned>' /tmp/list &&
		! grep -q "$sig" /tmp/list /tmp/log /run/s3root/nbd0.state &&
		ok "presigned: no secret in list, state or log" || bad "presigned: secret shown"
	if /run/s3root/s3root attach --reattach /dev/nbd0 2>/tmp/re; then
		bad "presigned: reattached"
	else
		grep -q "never kept" /tmp/re && [ -d /proc/$pid ] &&
			ok "presigned: reattach refused, server alive" ||
			bad "presigned: reattach $(cat /tmp/re)"
	fi
fi
# what the boot cost: the root server's live figures
/run/s3root/s3root list -v > /tmp/figures && grep -q '^    fetched: [1-9]' /tmp/figures &&
	ok "list -v" || bad "list -v"
sed 's/^ */FIGURES: /' /tmp/figures
echo "RESULT: DONE"
sync
poweroff -f
INIT
vm_image_put "$r" bootb

mkdir -p "$T/second"
echo second >"$T/second/hello"
mkfs.erofs "$T/second.erofs" "$T/second" >/dev/null
s3ctl put bootb second.erofs "$T/second.erofs" >/dev/null

# boots NAME: whether this run boots NAME (see the header); says so when
# it does not
boots() {
	case ${SUITE:-bearssl}:$VM_ARCH:$1 in
	mbedtls:*:tls-clock) return 0 ;;
	mbedtls:*) ;;
	*:"$VM_HOST_ARCH":*) return 0 ;;
	*:static | *:dhcp | *:ioctl | *:tls-clock | *:refused) return 0 ;;
	esac
	echo "-- $1: not booted here (${SUITE:-bearssl} suite, $VM_ARCH)"
	return 1
}

# handover CONSOLE: the kernel's timestamp of /init's last line, where it
# starts the root's init
handover() {
	tr -d '\r' <"$1" | sed -n 's/^\[ *\([0-9.]*\)\] s3root: root=.*; starting .*/\1/p' |
		head -n 1 | grep . || echo "?"
}

# boot NAME INITRD CHECKS KERNEL-ARGS...: boots, shows what s3root said,
# and wants CHECKS "CHECK ok" lines and none failed
boot() {
	local name=$1 initrd=$2 want=$3 start
	shift 3
	start=$(date +%s)
	vm_run "$initrd" "$T/$name.console" "$secs" "$@" ||
		{ tr -d '\033' <"$T/$name.console" | tail -n 30
		  fail "$name: the VM did not finish"; }
	echo "== $name: VM ran for $(($(date +%s) - start)) s;" \
		"kernel start to the root's init: $(handover "$T/$name.console") s"
	grep -a -m 1 -o 'Linux version [^ ]*' "$T/$name.console" ||
		fail "$name: no kernel started"
	grep -a 's3root:\|CHECK\|FIGURES' "$T/$name.console" | grep -v '^\[' |
		tr -d '\033' | head -n 30
	grep -aq "RESULT: DONE" "$T/$name.console" ||
		fail "$name: the root's init did not finish"
	! grep -aq "CHECK FAILED" "$T/$name.console" ||
		fail "$name: checks failed in the guest"
	[ "$(grep -ac 'CHECK ok' "$T/$name.console")" -eq "$want" ] ||
		fail "$name: $want checks expected"
}

# plain HTTP, credentials in the initramfs
printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://10.0.2.2:%s\n' "$RGW_PORT" >"$T/conf"
(umask 022 && S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" \
	-o "$T/initrd" -m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd") ||
	fail "mkinitramfs-s3root"
# it holds the secrets: 0600 whatever the umask, the passwd 0600 inside
[ "$(stat -c %a "$T/initrd")" = 600 ] ||
	fail "the initramfs is mode $(stat -c %a "$T/initrd"), not 600"
zcat "$T/initrd" | cpio -tv --quiet 2>/dev/null |
	grep -q '^-rw------- .* etc/s3root/passwd$' ||
	fail "etc/s3root/passwd is not 0600 in the initramfs"
static=ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off
! boots static || boot static "$T/initrd" 11 root=s3:bootb/root.erofs $static
if boots dhcp; then
	boot dhcp "$T/initrd" 14 root=s3:bootb/root.erofs ip=dhcp s3test_second
	grep -aq "s3root: DHCP: 10.0.2.15" "$T/dhcp.console" || fail "no DHCP lease"
fi
! boots ioctl ||
	boot ioctl "$T/initrd" 12 root=s3:bootb/root.erofs $static s3root.nbd=ioctl

# a presigned URL as root=, from an initramfs with no credentials or
# configuration at all
if boots presigned; then
	url=$(AWS_ACCESS_KEY_ID=$RGW_ACCESS AWS_SECRET_ACCESS_KEY=$RGW_SECRET \
		S3ROOT_CONFIG=/dev/null "$S3ROOT" presign s3://bootb/root.erofs \
		--expires 1800 -o "s3.endpoint=http://10.0.2.2:$RGW_PORT")
	S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd-bare" \
		-m "$VM_MODDIR" || fail "mkinitramfs-s3root (no credentials)"
	boot presigned "$T/initrd-bare" 13 "root=$url" $static s3test_presigned
	grep -aq 's3root: root=http://10.0.2.2:[0-9]*/bootb/root.erofs?<presigned> on /dev/nbd0' \
		"$T/presigned.console" || fail "presigned: no redacted root= line"
fi

# the README's iPXE script (amd64: qemu's network ROMs are iPXE for a PC
# BIOS), over HTTP: the kernel and this initramfs from an HTTP server
if [ "$VM_ARCH" = amd64 ] && boots ipxe; then
	mkdir -p "$T/www" "$T/tftp"
	cp "$VM_VMLINUZ" "$T/www/vmlinuz"
	cp "$T/initrd" "$T/www/initrd.img"
	wport=$("$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	"$PY3" -m http.server --bind 127.0.0.1 --directory "$T/www" "$wport" \
		>"$T/www.log" 2>&1 &
	at_exit "kill $!"
	wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$wport/vmlinuz" ||
		fail "ipxe: http.server did not start"
	sed -n '/^#!ipxe$/,/^```$/p' "$TOP/README.md" | sed '/^```$/q' | sed '$d' |
		sed "s|^set base .*|set base http://10.0.2.2:$wport|
			s|root=s3:[^ ]*|root=s3:bootb/root.erofs|
			s|console=ttyAMA0|console=ttyS0|" >"$T/tftp/boot.ipxe"
	grep -q '^kernel .*root=s3:bootb/root.erofs' "$T/tftp/boot.ipxe" ||
		fail "ipxe: no script in README.md"
	VM_NETBOOT=$T/tftp boot ipxe - 11
	grep -q 'GET /initrd.img' "$T/www.log" || fail "ipxe: initrd not fetched"
fi

# TLS by name (s3.resolve), an STS session token, a clock in 2001
rgw_assume_role 3600
printf '%s:%s\n' "$RGW_STS_ACCESS" "$RGW_STS_SECRET" >"$T/passwd-sts"
printf '%s\n' "$RGW_STS_TOKEN" >"$T/token"
cat >"$T/conf-tls" <<CONF
s3.endpoint = https://$TLS_HOST:$TLS_PORT
s3.resolve = $TLS_HOST:10.0.2.2
s3.urlstyle = path
CONF
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd-tls" \
	-m "$VM_MODDIR" --config "$T/conf-tls" --passwd "$T/passwd-sts" \
	--session-token "$T/token" --ca "$TLS_CA" || fail "mkinitramfs (TLS)"
VM_QEMU_ARGS="-rtc base=2001-01-01" boot tls-clock "$T/initrd-tls" 12 \
	root=s3:bootb/root.erofs ip=dhcp s3test_rotate
grep -aq "clock was before the build time" "$T/tls-clock.console" ||
	fail "tls-clock: the clock was not set"

# a missing object: one clear line, then s3root.onfail=reboot (qemu exits)
if boots missing; then
	vm_run "$T/initrd" "$T/missing.console" $((secs / 3)) root=s3:bootb/missing \
		$static s3root.onfail=reboot || fail "missing: no reboot"
	grep -a 's3root:' "$T/missing.console" | grep -v '^\[' | tr -d '\033'
	grep -aq "404 NoSuchKey (no object s3://bootb/missing)" "$T/missing.console" ||
		fail "missing: no NoSuchKey message"
	grep -aq "rebooting in 10 s (s3root.onfail=reboot)" "$T/missing.console" ||
		fail "missing: onfail=reboot not honoured"
fi

# an endpoint that never answers (the fault proxy as a black hole), then
# one that refuses connections: each attempt fails or hangs, and at
# s3root.boot_timeout (20 s from the kernel's start) the console names the
# cause that kept failing and s3root.onfail=reboot reboots (qemu exits)
free_port() {
	"$PY3" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
deadlines=()
if boots hole; then
	proxy_start deadline
	hport=$proxy_port hole_pid=$proxy_pid
	kill -USR1 "$hole_pid"
	wait_for 10 grep -q "black hole on" "$T/deadline.log" ||
		fail "deadline: the proxy did not become a black hole"
	deadlines+=("hole $hport Operation timed out")
fi
! boots refused ||
	deadlines+=("refused $(free_port) Connection refused") # nothing listens
for d in ${deadlines[@]+"${deadlines[@]}"}; do
	read -r kind port cause <<<"$d"
	vm_run "$T/initrd" "$T/deadline-$kind.console" $((secs / 2)) \
		root=s3:bootb/root.erofs $static "s3.endpoint=http://10.0.2.2:$port" \
		s3root.boot_timeout=20s s3root.onfail=reboot ||
		{ tr -d '\033' <"$T/deadline-$kind.console" | tail -n 20
		  fail "deadline ($kind): no reboot"; }
	tr -d '\r\033' <"$T/deadline-$kind.console" | grep -a '^s3root: ' |
		grep -v 'warning:' | tail -n 3
	grep -aq "HEAD s3://bootb/root.erofs: .*$cause (gave up after [0-9]* attempts in [0-9]* s; the deadline)" \
		"$T/deadline-$kind.console" || fail "deadline ($kind): no cause"
	# the kernel's clock when the boot gave up: the deadline, give or
	# take an attempt's end, the console and the clocks (the kernel's
	# log stamps are not CLOCK_BOOTTIME: 19.95 s was seen)
	at=$(tr -d '\r' <"$T/deadline-$kind.console" | sed -n \
		's/^\[ *\([0-9]*\)\.[0-9]*\] s3root: root=s3:bootb\/root.erofs: not opened within s3root.boot_timeout=20s (the cause is above)$/\1/p')
	[ -n "$at" ] && [ "$at" -ge 19 ] && [ "$at" -le 30 ] ||
		fail "deadline ($kind): gave up at ${at:-no} s, not at 20 s"
	grep -aq "rebooting in 10 s (s3root.onfail=reboot)" \
		"$T/deadline-$kind.console" || fail "deadline ($kind): no reboot line"
done
if [ -n "${hole_pid:-}" ]; then
	grep -q ": black hole$" "$T/deadline.log" ||
		fail "deadline: nothing reached the black hole"
	kill "$hole_pid"
fi

# the same with s3root.onfail=shell and a --with-shell initramfs: a shell
# on the console, typed into through a FIFO once it is up; leaving it tries
# the boot again, and the second shell powers off
if boots shell; then
	S3ROOT=$VM_S3ROOT BUSYBOX=$VM_BUSYBOX \
		"$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd-sh" \
		-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" --with-shell ||
		fail "mkinitramfs-s3root --with-shell"
	mkfifo "$T/typed"
	exec 3<>"$T/typed"
	shells() { # shells N: at least N have started
		[ "$(grep -ac 'starting a shell (s3root.onfail=shell); exit it to try again' \
			"$T/shell.console")" -ge "$1" ]
	}
	# type LINE: blanks first (what comes before the shell reads is lost)
	type() { sleep 1; printf '%64s\n%s\n' '' "$1" >&3; }
	VM_CONSOLE_IN=$T/typed vm_run "$T/initrd-sh" "$T/shell.console" $((secs * 2 / 3)) \
		root=s3:bootb/missing $static s3root.onfail=shell &
	vm=$!
	wait_for $((secs / 3)) shells 1 || fail "shell: none started"
	# shellcheck disable=SC2016 # typed into the guest's shell, which expands
	type 'echo "SHELL: $((6 * 7)) from $(cat /proc/1/comm)"; exit'
	wait_for $((secs / 3)) shells 2 || fail "shell: leaving it did not try again"
	type 'echo "SHELL: again"; poweroff -f'
	wait "$vm" || { tr -d '\033' <"$T/shell.console" | tail -n 20; fail "shell: no power-off"; }
	exec 3>&-
	grep -a 's3root:\|^SHELL' "$T/shell.console" | grep -v '^\[' | tr -d '\033'
	grep -aq "^SHELL: 42 from init" "$T/shell.console" || fail "shell: it did not run"
	grep -aq "^SHELL: again" "$T/shell.console" || fail "shell: the second did not run"
fi

# S3 unreachable for 20 s after switch_root: reads wait, then carry on.
# The guest goes through a pass-through proxy that is stopped by its PID.
if boots outage; then
	pport=$(free_port)
	proxy_opts=(--port "$pport") # the same port after the outage
	proxy_start outage
	vm_run "$T/initrd" "$T/outage.console" "$secs" root=s3:bootb/root.erofs $static \
		"s3.endpoint=http://10.0.2.2:$pport" s3.cache=8M \
		"s3test_outage=10.0.2.2:$RGW_PORT" &
	vm=$!
	wait_for $((secs * 2 / 3)) grep -aq "OUTAGE: ready" "$T/outage.console" ||
		fail "outage: the root did not come up"
	kill "$proxy_pid"
	wait "$proxy_pid" 2>/dev/null || true
	: >"$T/empty"
	s3ctl put bootb outage-begun "$T/empty" >/dev/null # the guest reads now
	sleep 20 # the outage
	proxy_start outage
	wait "$vm" || fail "outage: the VM did not finish"
	grep -a 'CHECK.*outage\|s3root: warning' "$T/outage.console" | grep -v '^\[' |
		tr -d '\033' | head -n 5
	grep -aq "CHECK ok: read through the outage" "$T/outage.console" ||
		fail "outage: the read did not come through"
	! grep -aq "CHECK FAILED" "$T/outage.console" || fail "outage: checks failed"
fi
