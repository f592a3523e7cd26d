# shellcheck shell=bash
# tests/servers/rgw.sh: a throwaway Ceph cluster (1 mon, 1 memstore OSD, no
# cephx) with two radosgw daemons on 127.0.0.1, everything under one DIR.
#
# Sourced (bash; works under set -eu):
#   . tests/servers/rgw.sh
#   rgw_start DIR               # exports RGW_* (see README.md)
#   rgw_assume_role [SECS]      # exports RGW_STS_ACCESS/_SECRET/_TOKEN/_EXPIRATION
#   rgw_sts_expired             # true once that token has expired
#   s3ctl mb bucket             # tests/servers/s3ctl.py with the RGW_* credentials
#   rgw_admin user info --uid=s3root
#   rgw_stop DIR
# As a command (DIR/env holds the same assignments):
#   eval "$(tests/servers/rgw.sh start DIR)"; tests/servers/rgw.sh stop DIR
#
# Processes are started here and stopped only by the PIDs recorded in
# DIR/pids, after checking that /proc/PID/cmdline names DIR/ceph.conf. A stale
# DIR from an earlier run is cleaned the same way before it is reused.

_RGW_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
_RGW_PY=/usr/bin/python3

# Fixed test identities. The secrets have '/' and '+' as AWS's often do.
RGW_USER=s3root
RGW_ACCESS=S3ROOTTESTACCESSKEY1
RGW_SECRET=s3root/test+secret/key1/ABCDEFGHIJKLMNOP
RGW_USER2=other
RGW_ACCESS2=S3ROOTTESTACCESSKEY2
RGW_SECRET2=s3root/test+secret/key2/ABCDEFGHIJKLMNOP
RGW_ROLE=s3root-role
RGW_ROLE_ARN=arn:aws:iam:::role/$RGW_ROLE
RGW_HOST=s3.test
RGW_REGION=us-east-1
_RGW_VARS="RGW_DIR RGW_CONF RGW_PORT RGW_ENDPOINT RGW_STS_PORT
RGW_STS_ENDPOINT RGW_HOST RGW_REGION RGW_USER RGW_ACCESS RGW_SECRET RGW_USER2
RGW_ACCESS2 RGW_SECRET2 RGW_ROLE RGW_ROLE_ARN"

_rgw_log() { echo "rgw.sh: $*" >&2; }

# _srv_free_ports N: print N distinct TCP ports that are free on 127.0.0.1,
# picked at random below the ephemeral range (32768-) so that outgoing
# connections do not take them meanwhile.
_srv_free_ports() {
	"$_RGW_PY" -c '
import random, socket, sys
want, got = int(sys.argv[1]), []
for _ in range(1000):
    if len(got) == want:
        break
    p = random.randrange(20000, 32000)
    s = socket.socket()
    try:
        if p not in got:
            s.bind(("127.0.0.1", p))
            got.append(p)
    except OSError:
        pass
    finally:
        s.close()
else:
    sys.exit("no free ports")
print(" ".join(map(str, got)))
' "$1"
}

# _srv_alive PID: true while PID runs (a zombie counts as gone).
_srv_alive() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "${st:0:1}" != Z ]
}

# _srv_children PID: the PIDs of PID's children (from /proc, no procps).
_srv_children() {
	local f line
	for f in /proc/[0-9]*/stat; do
		{ read -r line <"$f"; } 2>/dev/null || continue # gone meanwhile
		line=${line##*) }
		line=${line#* }
		[ "${line%% *}" = "$1" ] || continue
		f=${f#/proc/}
		echo "${f%/stat}"
	done
}

# _srv_kill PIDFILE MARK [SIG]: if the process in PIDFILE is alive and its
# command line contains MARK, send SIG (default TERM, KILL after 5 s) and
# wait until it is gone; then remove PIDFILE.
_srv_kill() {
	local pidf=$1 mark=$2 sig=${3:-TERM} pid n=100
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	case $pid in '' | *[!0-9]*) rm -f "$pidf"; return 0 ;; esac
	if _srv_alive "$pid" &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$mark"; then
		kill "-$sig" "$pid" 2>/dev/null || true
		while _srv_alive "$pid" && [ $n -gt 0 ]; do
			if [ $n = 50 ]; then kill -KILL "$pid" 2>/dev/null || true; fi
			sleep 0.1
			n=$((n - 1))
		done
		wait "$pid" 2>/dev/null || true # reap it if it is our child
		if _srv_alive "$pid"; then
			echo "pid $pid ($pidf) did not exit" >&2
			return 1
		fi
	fi
	rm -f "$pidf"
}

# rgw_stop DIR: stop what rgw_start DIR started (idempotent, never fails on
# a missing or stale DIR).
rgw_stop() {
	local dir rc=0 d
	dir=$(cd "$1" 2>/dev/null && pwd) || return 0
	# SIGKILL: nothing needs to survive, and memstore would write all
	# objects to osd_data on a clean shutdown.
	for d in rgw rgw-sts osd mon; do
		_srv_kill "$dir/pids/$d.pid" "$dir/ceph.conf" KILL || rc=1
	done
	return $rc
}

# rgw_admin ARGS...: radosgw-admin on the cluster of the last rgw_start.
rgw_admin() {
	timeout 60 radosgw-admin -c "$RGW_CONF" "$@"
}

# s3ctl ARGS...: tests/servers/s3ctl.py (Debian's python3 and botocore).
s3ctl() {
	"$_RGW_PY" "$_RGW_HERE/s3ctl.py" "$@"
}

# rgw_assume_role [SECS [ARN]]: AssumeRole as RGW_USER (default 3600 s, at
# least 2); exports RGW_STS_ACCESS, RGW_STS_SECRET, RGW_STS_TOKEN and
# RGW_STS_EXPIRATION (epoch seconds). Use them on RGW_STS_ENDPOINT.
rgw_assume_role() {
	local out
	out=$(s3ctl --endpoint "$RGW_STS_ENDPOINT" assume-role \
		--duration "${1:-3600}" --role-arn "${2:-$RGW_ROLE_ARN}") || return 1
	eval "$out"
	export RGW_STS_ACCESS RGW_STS_SECRET RGW_STS_TOKEN RGW_STS_EXPIRATION
}

# rgw_sts_expired: whether the clock is past RGW_STS_EXPIRATION (a whole
# second past: the expiration was truncated to seconds), so that RGW
# refuses the session token.
rgw_sts_expired() {
	[ "$(date +%s)" -gt "$RGW_STS_EXPIRATION" ]
}

# _rgw_spawn NAME CMD...: start CMD in the background, record its PID.
_rgw_spawn() {
	local name=$1
	shift
	"$@" </dev/null >>"$_rgw_dir/log/$name.out" 2>&1 &
	echo $! >"$_rgw_dir/pids/$name.pid"
	disown $! # no "Killed" message from bash when rgw_stop kills it
}

# _rgw_dead NAME: true (after printing its logs' tails) if NAME died.
_rgw_dead() {
	_srv_alive "$(cat "$_rgw_dir/pids/$1.pid" 2>/dev/null)" && return 1
	_rgw_log "$1 died; its logs end with:"
	tail -n 20 "$_rgw_dir/log/$1.out" "$_rgw_dir/log/$2.log" >&2 2>/dev/null
	return 0
}

# _rgw_fail MESSAGE: log, stop everything started so far, return 1.
_rgw_fail() {
	_rgw_log "$*"
	rgw_stop "$_rgw_dir"
	return 1
}

# _rgw_wait_http URL NAME LOGNAME: wait up to 60 s for URL to answer 200.
_rgw_wait_http() {
	local n=600
	until curl -fs -o /dev/null --max-time 2 "$1"; do
		! _rgw_dead "$2" "$3" || return 1
		n=$((n - 1))
		[ $n -gt 0 ] || { _rgw_log "$2 not answering after 60 s"; return 1; }
		sleep 0.1
	done
}

# rgw_start DIR: create and start the cluster and the two radosgw; export
# the RGW_* variables and write them to DIR/env.
rgw_start() {
	local dir monport port stsport fsid osduuid stskey id v
	local t0=${EPOCHREALTIME//[.,]/}
	mkdir -p "$1" && dir=$(cd "$1" && pwd) || return 1
	_rgw_dir=$dir
	rgw_stop "$dir" || return 1
	# Remove only what rgw_start creates.
	rm -rf "$dir/ceph.conf" "$dir/monmap" "$dir/mon" "$dir/osd" "$dir/run" \
		"$dir/log" "$dir/pids" "$dir/crash" "$dir/rgw" "$dir/env" \
		"$dir/zonegroup.json"
	mkdir -p "$dir/mon" "$dir/osd" "$dir/run" "$dir/log" "$dir/pids" \
		"$dir/crash" "$dir/rgw" || return 1

	read -r monport port stsport <<<"$(_srv_free_ports 3)" || true
	[ -n "$stsport" ] || { _rgw_log "no free ports"; return 1; }
	read -r fsid osduuid stskey <<<"$("$_RGW_PY" -c '
import secrets, uuid
print(uuid.uuid4(), uuid.uuid4(), secrets.token_hex(8))')" || true
	[ ${#stskey} = 16 ] || { _rgw_log "no uuids"; return 1; }

	cat >"$dir/ceph.conf" <<EOF
[global]
fsid = $fsid
mon_host = [v2:127.0.0.1:$monport]
public_addr = 127.0.0.1
cluster_addr = 127.0.0.1
ms_bind_ipv6 = false
ms_bind_msgr1 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
; without crc (the defaults include "secure") radosgw loops on error -13
ms_cluster_mode = crc
ms_service_mode = crc
ms_client_mode = crc
ms_mon_cluster_mode = crc
ms_mon_service_mode = crc
ms_mon_client_mode = crc
run_dir = $dir/run
crash_dir = $dir/crash
log_file = $dir/log/\$name.log
mon_cluster_log_file = $dir/log/cluster.log
keyring = $dir/keyring
osd_pool_default_size = 1
osd_pool_default_min_size = 1
mon_allow_pool_size_one = true
mon_warn_on_pool_no_redundancy = false
osd_pool_default_pg_num = 8
osd_pool_default_pgp_num = 8
osd_pool_default_pg_autoscale_mode = off
mon_max_pg_per_osd = 1000
osd_crush_chooseleaf_type = 0
mon_data_avail_crit = 1
mon_data_avail_warn = 2
; each osdmap change (pool create, ...) would otherwise take 1 s
paxos_propose_interval = 0.05
[mon]
mon_data = $dir/mon
[osd]
osd_data = $dir/osd
osd_journal = $dir/osd/journal
osd_objectstore = memstore
memstore_device_bytes = 8589934592
[client]
rgw_data = $dir/rgw
rgw_dns_name = $RGW_HOST
rgw_sts_key = $stskey
rgw_sts_min_session_duration = 1
; nginx-tls.sh says X-Forwarded-Proto: https (SSE-C needs TLS)
rgw_trust_forwarded_https = true
rgw_thread_pool_size = 64
debug_rgw = 1
[client.rgw]
rgw_frontends = beast endpoint=127.0.0.1:$port tcp_nodelay=1
[client.rgw.sts]
; With STS in the S3 auth chain every failed authentication (bad signature,
; unknown key) answers AccessDenied, so session tokens get their own daemon.
rgw_frontends = beast endpoint=127.0.0.1:$stsport tcp_nodelay=1
rgw_s3_auth_use_sts = true
EOF

	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$monport]" \
		"$dir/monmap" >"$dir/log/mkfs.out" 2>&1 ||
		_rgw_fail "monmaptool failed, see $dir/log/mkfs.out" || return 1
	ceph-mon -c "$dir/ceph.conf" -i a --mkfs --monmap "$dir/monmap" \
		>>"$dir/log/mkfs.out" 2>&1 ||
		_rgw_fail "ceph-mon --mkfs failed, see $dir/log/mkfs.out" || return 1
	_rgw_spawn mon ceph-mon -c "$dir/ceph.conf" -i a -f
	id=$(timeout 30 ceph -c "$dir/ceph.conf" --connect-timeout 25 \
		osd new "$osduuid" 2>>"$dir/log/mkfs.out") ||
		{ _rgw_dead mon mon.a; _rgw_fail "ceph osd new failed"; } || return 1
	[ "$id" = 0 ] || _rgw_fail "ceph osd new: id '$id'" || return 1
	ceph-osd -c "$dir/ceph.conf" -i 0 --mkfs --osd-uuid "$osduuid" \
		>>"$dir/log/mkfs.out" 2>&1 ||
		_rgw_fail "ceph-osd --mkfs failed, see $dir/log/mkfs.out" || return 1
	_rgw_spawn osd ceph-osd -c "$dir/ceph.conf" -i 0 -f

	export RGW_DIR=$dir RGW_CONF=$dir/ceph.conf
	export RGW_PORT=$port RGW_ENDPOINT=http://127.0.0.1:$port
	export RGW_STS_PORT=$stsport RGW_STS_ENDPOINT=http://127.0.0.1:$stsport
	export RGW_HOST RGW_REGION RGW_USER RGW_ACCESS RGW_SECRET RGW_USER2 \
		RGW_ACCESS2 RGW_SECRET2 RGW_ROLE RGW_ROLE_ARN

	# The first radosgw-admin creates the default zone and its pools (and
	# so waits for the OSD); the daemons start after it so they don't race.
	rgw_admin user create --uid="$RGW_USER" --display-name="$RGW_USER" \
		--access-key="$RGW_ACCESS" --secret-key="$RGW_SECRET" \
		>"$dir/log/admin.out" 2>&1 ||
		{ _rgw_dead osd osd.0; _rgw_fail "radosgw-admin user create failed, see $dir/log/admin.out"; } ||
		return 1
	# Host names for path and virtual-host style: rgw_dns_name alone
	# would make "localhost" a bucket name (any Host that is neither an
	# IP nor a known name or a subdomain of one names a bucket).
	rgw_admin zonegroup get 2>>"$dir/log/admin.out" | "$_RGW_PY" -c '
import json, sys
z = json.load(sys.stdin)
z["hostnames"] = sys.argv[1:]
json.dump(z, sys.stdout)' "$RGW_HOST" localhost >"$dir/zonegroup.json" &&
		rgw_admin zonegroup set --infile "$dir/zonegroup.json" \
			>>"$dir/log/admin.out" 2>&1 ||
		_rgw_fail "zonegroup set failed, see $dir/log/admin.out" || return 1
	_rgw_spawn rgw radosgw -c "$dir/ceph.conf" -n client.rgw -f
	_rgw_spawn rgw-sts radosgw -c "$dir/ceph.conf" -n client.rgw.sts -f
	{
		rgw_admin user create --uid="$RGW_USER2" --display-name="$RGW_USER2" \
			--access-key="$RGW_ACCESS2" --secret-key="$RGW_SECRET2" &&
			rgw_admin role create --role-name="$RGW_ROLE" \
				--assume-role-policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam:::user/'"$RGW_USER"'"]},"Action":["sts:AssumeRole"]}]}' &&
			rgw_admin role-policy put --role-name="$RGW_ROLE" \
				--policy-name=all \
				--policy-doc='{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*"],"Resource":"arn:aws:s3:::*"}]}'
	} >>"$dir/log/admin.out" 2>&1 ||
		_rgw_fail "radosgw-admin failed, see $dir/log/admin.out" || return 1

	_rgw_wait_http "$RGW_ENDPOINT/" rgw client.rgw &&
		_rgw_wait_http "$RGW_STS_ENDPOINT/" rgw-sts client.rgw.sts ||
		_rgw_fail "radosgw did not start" || return 1

	for v in $_RGW_VARS; do
		printf 'export %s=%q\n' "$v" "${!v}"
	done >"$dir/env"
	t0=$((${EPOCHREALTIME//[.,]/} - t0))
	_rgw_log "radosgw on $RGW_ENDPOINT (STS: $RGW_STS_ENDPOINT), up in" \
		"$((t0 / 1000000)).$(printf %03d $((t0 / 1000 % 1000))) s"
}

# Command mode: tests/servers/rgw.sh start|stop DIR
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	case ${1:-}:$# in
	start:2)
		rgw_start "$2" || exit 1
		cat "$RGW_DIR/env"
		;;
	stop:2)
		rgw_stop "$2"
		;;
	*)
		echo "usage: $0 start|stop DIR" >&2
		exit 2
		;;
	esac
fi
