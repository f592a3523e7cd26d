#!/usr/bin/env bash
# A root on short DHCP leases from a real DHCP server: dnsmasq on a tap
# device in a network namespace this test makes (RGW, and a proxy to it on
# the tap's address, run there too; nothing is reachable from outside).
# The guest boots root=s3:... with ip=dhcp; dnsmasq's lease is 2 minutes
# (its minimum) with T1 20 s and T2 35 s (options 58, 59), so the root
# server renews every 20 s while the busybox root reads cold parts of a
# blob. After two renewals dnsmasq restarts authoritative for another
# range: the next renewal gets a DHCPNAK, which the guest logs loudly while
# it keeps its address and its root (cold reads still work). Checks: the
# console's renewal and NAK lines, dnsmasq's log (its DHCPREQUEST/DHCPACK
# and DHCPNAK lines), /run/s3root/lease, the address unchanged.
# VM_SECS: the seconds the guest may take (default 240).
# suites: bearssl
set -eu
. "$(dirname "$0")/functions.sh"
. "$TOP/tests/vm/vm.sh"
requires_root "network namespaces and tap devices"
requires ip dnsmasq radosgw ceph-mon ceph-osd "$VM_QEMU" busybox cpio \
	mkfs.erofs depmod
requires_py botocore
[ -c /dev/net/tun ] || skip "no /dev/net/tun"
. "$TOP/tests/servers/rgw.sh"

# Everything runs inside a namespace of our own: this script again, in it.
if [ "${S3ROOT_DHCP_NETNS:-}" = "" ]; then
	ns=s3root-dhcp-$$
	ip netns add "$ns" || skip "cannot create a network namespace"
	at_exit "ip netns del $ns"
	S3ROOT_DHCP_NETNS=$ns ip netns exec "$ns" "$0" "$@"
	exit $?
fi

vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
vm_busybox || fail "no static busybox for $VM_ARCH (apt-get download)"
secs=${VM_SECS:-240}
net=10.77.0
ip link set lo up
ip tuntap add dev tap0 mode tap
ip addr add "$net.1/24" dev tap0
ip link set tap0 up

at_exit "rgw_stop $T/rgw"
rgw_start "$T/rgw" >/dev/null
# the guest reaches RGW through a proxy on the tap's address
"$PY3" "$TOP/tests/servers/faultproxy.py" --upstream "$RGW_ENDPOINT" \
	--listen "$net.1" --port-file "$T/proxy.port" --log "$T/proxy.log" \
	>/dev/null 2>"$T/proxy.err" &
proxy_pid=$!
at_exit "kill $proxy_pid 2>/dev/null"
wait_for 10 test -s "$T/proxy.port" || fail "no proxy: $(cat "$T/proxy.err")"
port=$(cat "$T/proxy.port")

# dnsmasq_start NAME RANGE [OPTIONS...]: a DHCP server on tap0 (no DNS),
# its log in $T/NAME.log; sets dnsmasq_pid
dnsmasq_start() {
	local name=$1 range=$2
	shift 2
	dnsmasq --keep-in-foreground --port=0 --user=root --group=root \
		--interface=tap0 --bind-interfaces --dhcp-range="$range" \
		--dhcp-option=option:router,$net.1 \
		--dhcp-option=option:dns-server,$net.1 \
		--dhcp-leasefile="$T/$name.leases" --log-dhcp \
		--log-facility="$T/$name.log" --pid-file="$T/$name.pid" "$@" \
		2>"$T/$name.err" &
	dnsmasq_pid=$!
	at_exit "kill $dnsmasq_pid 2>/dev/null"
	wait_for 10 grep -q "DHCP, IP range" "$T/$name.log" ||
		fail "dnsmasq $name did not start: $(cat "$T/$name.err")"
}
dnsmasq_start renew "$net.50,$net.59,255.255.255.0,2m" \
	--dhcp-option=option:T1,20 --dhcp-option=option:T2,35

# the root: busybox and a blob whose MiBs the init reads one at a time,
# each cold (never read before, page cache dropped), every 4 s
r=$T/rootfs
mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,run,tmp,data}
cp "$VM_BUSYBOX" "$r/bin/busybox"
for a in sh mount cat echo sha256sum grep ls poweroff sleep sync dd sed \
	head ip date; do
	ln -s busybox "$r/bin/$a"
done
head -c $((48 << 20)) /dev/urandom >"$r/data/blob"
for i in $(seq 0 47); do
	dd if="$r/data/blob" bs=1M skip="$i" count=1 2>/dev/null |
		sha256sum | head -c 64
	echo
done >"$r/etc/sums"
cat >"$r/sbin/init" <<'INIT'
#!/bin/sh
ok() { echo "CHECK ok: $*"; }
bad() { echo "CHECK FAILED: $*"; }
echo "ROOT: init running from S3"
lease() { sed -n "s/^$1=//p" /run/s3root/lease; }
addr=$(lease address)
[ -n "$addr" ] && [ "$(lease server)" = 10.77.0.1 ] && ok "lease file: $addr" ||
	bad "lease file: $(cat /run/s3root/lease)"
# cold N: MiB N of the blob, read from S3 (page cache dropped first)
cold() {
	echo 3 > /proc/sys/vm/drop_caches
	s=$(dd if=/data/blob bs=1M skip=$1 count=1 2>/dev/null | sha256sum | head -c 64)
	[ "$s" = "$(sed -n "$(($1 + 1))p" /etc/sums)" ]
}
i=0 after=0 failed=0
while [ $i -lt 48 ]; do
	cold $i || { failed=$((failed + 1)); bad "cold read $i"; }
	ip -4 addr show dev eth0 | grep -q "inet $addr/" || bad "address $addr gone at read $i"
	echo "READ $i ok at $(cut -d' ' -f1 /proc/uptime) s, lease state $(lease state)"
	i=$((i + 1))
	if [ "$(lease state)" = refused ]; then
		after=$((after + 1))
		[ $after -lt 3 ] || break
	fi
	sleep 4
done
[ $after -ge 3 ] && ok "three cold reads after the NAK" || bad "no NAK seen ($i reads)"
[ $failed = 0 ] && ok "every cold read ($i)" || bad "$failed cold reads failed"
ip -4 addr show dev eth0 | grep -q "inet $addr/" && ok "address $addr kept" ||
	bad "address: $(ip -4 addr show dev eth0)"
echo "RESULT: DONE"
sync
poweroff -f
INIT
vm_image_put "$r" bootd

printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
printf 's3.endpoint = http://%s:%s\n' "$net.1" "$port" >"$T/conf"
S3ROOT=$VM_S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd" \
	-m "$VM_MODDIR" --config "$T/conf" --passwd "$T/passwd" ||
	fail "mkinitramfs-s3root"

start=$(date +%s)
VM_NETDEV=tap,id=n0,ifname=tap0,script=no,downscript=no \
	vm_run "$T/initrd" "$T/console" "$secs" root=s3:bootd/root.erofs \
	ip=dhcp &
vm_pid=$!
at_exit "kill $vm_pid 2>/dev/null"
con() { tr -d '\r\033' <"$T/console" 2>/dev/null; }
# acks NAME: the DHCPACKs in dnsmasq NAME's log (the boot's one, then one
# a renewal)
acks() { grep -c 'DHCPACK(tap0)' "$T/$1.log" || true; }
# the boot's lease and two renewals, then a server that refuses
n=0
while [ "$(acks renew)" -lt 3 ] && kill -0 $vm_pid 2>/dev/null; do
	sleep 1
done
[ "$(acks renew)" -ge 3 ] ||
	{ con | tail -n 30; fail "fewer than 2 renewals before the VM ended"; }
echo "== two renewals $(($(date +%s) - start)) s after the VM started"
kill "$dnsmasq_pid"
wait "$dnsmasq_pid" 2>/dev/null || true
dnsmasq_start nak "$net.100,$net.109,255.255.255.0,2m" --dhcp-authoritative
wait $vm_pid || { con | tail -n 30; fail "the VM did not finish"; }
echo "== VM ran for $(($(date +%s) - start)) s"
# the root server's lines come through the kernel log (timestamped)
con | grep -a 'DHCP\|CHECK\|READ' | head -n 80
echo "== dnsmasq (renewals)"
grep -a 'DHCPREQUEST\|DHCPACK\|DHCPNAK' "$T/renew.log"
echo "== dnsmasq (refusing)"
grep -a 'DHCPREQUEST\|DHCPACK\|DHCPNAK\|DHCPOFFER\|DHCPDISCOVER' "$T/nak.log" | head -n 10
con | grep -aq "RESULT: DONE" || fail "the root's init did not finish"
! con | grep -aq "CHECK FAILED" || fail "checks failed in the guest"
[ "$(con | grep -ac 'CHECK ok')" -eq 4 ] || fail "4 checks expected"
con | grep -aq "s3root: DHCP: $net\.5[0-9]/24 from $net.1, lease 120 s (renewal at 20 s" ||
	fail "no boot lease on the console"
[ "$(con | grep -ac "s3root: DHCP: lease of $net\.5[0-9] on eth0 renewed by $net.1 for 120 s")" -ge 2 ] ||
	fail "fewer than 2 renewals on the console"
con | grep -aq "s3root: DHCP on eth0: DHCPNAK from $net.1 for $net\.5[0-9].*KEEPING" ||
	fail "no DHCPNAK on the console"
grep -aq "DHCPNAK(tap0) $net\.5[0-9]" "$T/nak.log" || fail "dnsmasq sent no NAK"
echo "ok"
