#!/usr/bin/env bash
# Boot from S3 by host name: the endpoint is s3.test (the suite's
# rgw_dns_name, and a name of nginx's certificate), answered by a real DNS
# server, dnsmasq, that this test runs on the host's loopback port 53 (the
# guest's 10.0.2.2), given to the guest by nameserver= or by ip='s DNS
# field; no s3.resolve. The busybox root's init idles longer than the
# connection pool's idle life (20 s), then reads files the boot did not
# read: new connections, whose lookups the DNS server must see (the root
# server reads its resolver file from /run/s3root after switch_root). Then
# the host stops the DNS server, the guest idles again and reads more cold
# files: they arrive from the last good addresses, and the log and
# `list -v` say that the name does not resolve. Over plain HTTP with
# virtual-host style (bootb.s3.test), then over TLS with path style.
# The BearSSL suite (make check) boots both; the mbedTLS suite
# (SUITE=mbedtls) boots only the one over TLS: the plain HTTP boot takes
# the same code path in both builds, which differ only in the TLS backend.
# suites: bearssl mbedtls
set -eu
. "$(dirname "$0")/functions.sh"
. "$TOP/tests/vm/vm.sh"
requires radosgw ceph-mon ceph-osd "$VM_QEMU" busybox cpio \
	mkfs.erofs depmod nginx openssl dnsmasq ss
requires_py botocore
. "$TOP/tests/servers/nginx-tls.sh"
[ "$(id -u)" = 0 ] || skip "dnsmasq on port 53 needs root"

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
vm_busybox || fail "no static busybox for $VM_ARCH (apt-get download)"
secs=${VM_SECS:-$([ "$VM_ARCH" = "$VM_HOST_ARCH" ] && echo 300 || echo 600)}
at_exit "rgw_stop $T/rgw"
at_exit "tls_stop $T/tls"
rgw_start "$T/rgw" >/dev/null
tls_start "$T/tls" "$RGW_STS_PORT" >/dev/null
[ "$RGW_HOST" = s3.test ] && [ "$TLS_HOST" = s3.test ] ||
	fail "the servers' names changed: RGW $RGW_HOST, TLS $TLS_HOST"

# dns_start NAME: dnsmasq answering s3.test and its subdomains with the
# host as the guest sees it, every query logged to $T/NAME.dns.log. The
# domain is local: without upstream servers dnsmasq would refuse the AAAA
# queries, and musl fails a lookup when either of its queries is refused.
dns_pid=
dns_start() {
	[ -z "$(ss -Hlnu 'sport = :53')" ] ||
		fail "port 53 is taken on this machine: $(ss -Hlnup 'sport = :53')"
	dnsmasq --keep-in-foreground --conf-file=/dev/null --port=53 \
		--listen-address=127.0.0.1 --bind-interfaces --no-resolv \
		--no-hosts --address=/s3.test/10.0.2.2 --local=/s3.test/ \
		--log-queries \
		--log-facility=- --pid-file= --user=root \
		2>"$T/$1.dns.log" &
	dns_pid=$!
	at_exit "kill $dns_pid 2>/dev/null"
	wait_for 10 grep -q 'started' "$T/$1.dns.log" ||
		fail "dnsmasq did not start: $(cat "$T/$1.dns.log")"
}
# dns_stop: stops dnsmasq; its port stays bound by a socket that never
# answers (a DNS server down, not a refusing host: with the port closed,
# qemu 7.2's user network once left the guest spinning in virtio-net's
# transmit path on its DNS queries, under load)
hole_pid=
dns_stop() {
	kill "$dns_pid"
	wait "$dns_pid" 2>/dev/null || true
	"$PY3" -c 'import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("bound", flush=True)
time.sleep(3600)' >"$T/hole.out" 2>&1 &
	hole_pid=$!
	at_exit "kill $hole_pid 2>/dev/null"
	wait_for 10 grep -q bound "$T/hole.out" ||
		fail "cannot hold port 53: $(cat "$T/hole.out")"
}
hole_stop() {
	kill "$hole_pid"
	wait "$hole_pid" 2>/dev/null || true
}

# the root: busybox, files with known sums, two sets read only late
r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,data,late}
cp "$VM_BUSYBOX" "$r/bin/busybox"
for a in sh mount cat echo sha256sum grep ls poweroff sleep sync dd tr \
	head sed dmesg date; do
	ln -s busybox "$r/bin/$a"
done
head -c 2000000 /dev/urandom >"$r/data/blob"
# each late file is six times the cache (s3.cache=1M below): readahead
# while reading one cannot hold the other, which is fetched when it is read
head -c $((6 << 20)) /dev/urandom >"$r/late/a"
head -c $((6 << 20)) /dev/urandom >"$r/late/b"
(cd "$r" && sha256sum data/blob late/a late/b) >"$r/etc/sums"
cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
ok() { echo "CHECK ok: $*"; }
bad() { echo "CHECK FAILED: $*"; }
sums() { cd / && grep " $1\$" /etc/sums | sha256sum -c -s; }
# lookups: the root server's count of name lookups
lookups() {
	/run/s3root/s3root list -v | sed -n 's/.*names: \([0-9]*\) lookups.*/\1/p'
}
echo "ROOT: init running from S3"
sums data/blob && ok "files" || bad "files"
n0=$(lookups)
echo "IDLE: 25 s"
sleep 25
echo "LATE: reading late/a"
sums late/a && ok "late reads after idle" || bad "late reads after idle"
/run/s3root/s3root list -v > /tmp/figures
n1=$(lookups)
[ "${n1:-0}" -gt "${n0:-0}" ] && grep -q ' 0 failed' /tmp/figures &&
	ok "the root server resolved its endpoint again ($n0, then $n1 lookups)" ||
	bad "no lookups after the idle time: $(cat /tmp/figures)"
# the host stops the DNS server, then puts dns-stopped into RGW, asked
# for by address
echo "DNS: stop it"
rgw=$(sed -n 's/.*s3test_rgw=\([^ ]*\).*/\1/p' /proc/cmdline)
n=0
until S3ROOT_CONFIG=/dev/null /run/s3root/s3root stat s3://bootb/dns-stopped \
	-o s3.endpoint=http://$rgw,s3.passwd_file=/run/s3root/etc/passwd \
	>/dev/null 2>&1; do
	[ $n -lt 120 ] || { bad "the host did not stop the DNS server"; break; }
	sleep 0.5
	n=$((n + 1))
done
echo "IDLE: 25 s without DNS"
sleep 25
echo "LATE: reading late/b"
sums late/b && ok "late reads without DNS" || bad "late reads without DNS"
/run/s3root/s3root list -v > /tmp/figures
grep -q 'names: .* does not resolve: connecting to its last good addresses' \
	/tmp/figures && ok "list -v: last good addresses" ||
	bad "list -v: $(cat /tmp/figures)"
[ "$(dmesg | grep -c 'cannot resolve .*; connecting to its last good')" = 1 ] &&
	ok "said once in the log" || bad "log: $(dmesg | grep -a resolv)"
dmesg | grep -a 'resolv' | sed 's/^/DMESG: /'
sed 's/^ */FIGURES: /' /tmp/figures
echo "RESULT: DONE"
sync
poweroff -f
INIT
vm_image_put "$r" bootb
: >"$T/empty"

# boot NAME INITRD QNAME KERNEL-ARGS...: boots with the DNS server up,
# stops it when the guest asks, and wants 6 "CHECK ok" lines, none failed,
# and QNAME asked of the DNS server
boot() {
	local name=$1 initrd=$2 qname=$3 vm start
	shift 3
	s3ctl rm bootb dns-stopped >/dev/null 2>&1 || true
	dns_start "$name"
	start=$(date +%s)
	vm_run "$initrd" "$T/$name.console" "$secs" "$@" s3.cache=1M \
		"s3test_rgw=10.0.2.2:$RGW_PORT" &
	vm=$!
	wait_for "$secs" grep -aq "DNS: stop it" "$T/$name.console" ||
		{ tr -d '\033' <"$T/$name.console" | tail -n 30
		  fail "$name: the guest did not get to its late reads"; }
	dns_stop
	s3ctl put bootb dns-stopped "$T/empty" >/dev/null
	wait "$vm" || { tr -d '\033' <"$T/$name.console" | tail -n 30
		fail "$name: the VM did not finish"; }
	hole_stop
	echo "== $name: VM ran for $(($(date +%s) - start)) s"
	grep -a 's3root:\|CHECK\|FIGURES\|DMESG\|IDLE\|LATE\|DNS:' \
		"$T/$name.console" | grep -v '^\[' | tr -d '\033\r'
	echo "-- $name: the DNS server's log"
	grep 'query\[' "$T/$name.dns.log" | sed 's/^/DNS LOG: /'
	grep -aq "RESULT: DONE" "$T/$name.console" ||
		fail "$name: the root's init did not finish"
	! grep -aq "CHECK FAILED" "$T/$name.console" ||
		fail "$name: checks failed in the guest"
	[ "$(grep -ac 'CHECK ok' "$T/$name.console")" -eq 6 ] ||
		fail "$name: 6 checks expected"
	grep -q "query\[A\] $qname from" "$T/$name.dns.log" ||
		fail "$name: the DNS server was not asked for $qname"
}

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
# plain HTTP, virtual-host style (bootb.s3.test), nameserver=
if [ "${SUITE:-bearssl}" = mbedtls ]; then
	echo "-- http: not booted here (the mbedTLS suite boots only tls)"
else
	printf 's3.endpoint = http://%s:%s\n' "$RGW_HOST" "$RGW_PORT" >"$T/conf"
	S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
		-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" ||
		fail "mkinitramfs-s3root"
	boot http "$T/initrd" bootb.s3.test root=s3:bootb/root.erofs \
		ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off nameserver=10.0.2.2
fi

# TLS by the certificate's name, path style (s3.test), ip='s DNS field
cat >"$T/conf-tls" <<CONF
s3.endpoint = https://$TLS_HOST:$TLS_PORT
s3.urlstyle = path
CONF
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd-tls" \
	-m "$VM_MODDIR" --config "$T/conf-tls" --passwd "$T/passwd" \
	--ca "$TLS_CA" || fail "mkinitramfs (TLS)"
boot tls "$T/initrd-tls" s3.test root=s3:bootb/root.erofs \
	ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off:10.0.2.2
