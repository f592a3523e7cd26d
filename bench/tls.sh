#!/usr/bin/env bash
# bench/tls.sh: the BearSSL build (build/) and the mbedTLS build
# (build-mbedtls/) side by side, both static: binary size, TLS handshake
# time (a new client each time: full; one client: resumed) and the
# throughput of `s3root get` over TLS, against the test suite's nginx
# (tests/servers/nginx-tls.sh) on loopback in front of a plain nginx that
# serves a file (no S3 server: only TLS and the client are measured).
#
#   bench/tls.sh            (make bench-tls)
#   BENCH_MB=200 BENCH_N=200 BENCH_RUNS=3 bench/tls.sh
#
# Not a test: it prints figures and ratios, mbedTLS over BearSSL.
set -eu
cd "$(dirname "$0")/.."
MB=${BENCH_MB:-200}
N=${BENCH_N:-200}
RUNS=${BENCH_RUNS:-3}
. tests/servers/nginx-tls.sh

make --no-print-directory -j2 all build/tls_handshake >&2
make --no-print-directory -j2 TLS=mbedtls all build-mbedtls/tls_handshake >&2

T=$(mktemp -d "${TMPDIR:-/tmp}/s3root-bench-tls.XXXXXX")
up_stop() {
	local pidf=$T/up/nginx.pid kids
	[ -f "$pidf" ] || return 0
	kids=$(_srv_children "$(cat "$pidf")")
	_srv_kill "$pidf" "$T/up/nginx.conf" TERM || true
	for k in $kids; do
		_srv_alive "$k" && kill -KILL "$k" 2>/dev/null || true
	done
}
cleanup() {
	tls_stop "$T/tls" || true
	up_stop
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# the upstream: nginx serving files over plain HTTP
mkdir -p "$T/up/www" "$T/up/tmp"
head -c $((MB * 1024 * 1024)) /dev/urandom >"$T/up/www/big"
read -r UP <<<"$(_srv_free_ports 1)"
user=
[ "$(id -u)" = 0 ] && user="user root;"
cat >"$T/up/nginx.conf" <<EOF
$user
daemon off;
worker_processes 1;
pid $T/up/nginx-own.pid;
error_log $T/up/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $T/up/tmp;
	proxy_temp_path $T/up/tmp;
	fastcgi_temp_path $T/up/tmp;
	uwsgi_temp_path $T/up/tmp;
	scgi_temp_path $T/up/tmp;
	server {
		listen 127.0.0.1:$UP;
		root $T/up/www;
	}
}
EOF
nginx -p "$T/up/" -c "$T/up/nginx.conf" -e "$T/up/error.log" \
	</dev/null >"$T/up/nginx.out" 2>&1 &
echo $! >"$T/up/nginx.pid"
wait_up() {
	local n=100
	until curl -s -o /dev/null "http://127.0.0.1:$UP/"; do
		n=$((n - 1))
		[ $n -gt 0 ] || { echo "upstream nginx did not start" >&2; exit 1; }
		sleep 0.1
	done
}
wait_up
tls_start "$T/tls" "$UP" 2>/dev/null

url=https://$TLS_HOST:$TLS_PORT/big
opts=s3.ca=$TLS_CA,s3.resolve=$TLS_HOST:127.0.0.1

# get_rate BIN URL [OPTS]: one `get` of the object, in MB/s
get_rate() {
	local bin=$1 u=$2 o=${3:-} s e
	s=$(date +%s%N)
	S3ROOT_CONFIG=/dev/null "$bin" get "$u" ${o:+-o "$o"} >/dev/null
	e=$(date +%s%N)
	awk -v mb="$MB" -v ns=$((e - s)) 'BEGIN { printf "%.0f", mb / (ns / 1e9) }'
}
# ca_load_ms BIN: what loading the system CA bundle adds to a start (a
# refused plain-HTTP connection), over 20 runs against one with one CA
ca_load_ms() {
	local bin=$1 s m='' o
	for o in "" "s3.ca=$TLS_CA,"; do
		s=$(date +%s%N)
		for _ in $(seq 20); do
			S3ROOT_CONFIG=/dev/null "$bin" stat http://127.0.0.1:1/x \
				-o "${o}s3.io_timeout=1ms" >/dev/null 2>&1 || true
		done
		m="$m $(($(date +%s%N) - s))"
	done
	awk -v m="$m" 'BEGIN { split(m, v); printf "%.1f", (v[1] - v[2]) / 20e6 }'
}
# cpu_gb CMD...: the CPU seconds (user + system) CMD spends per GB of the
# object, from getrusage (precise, unlike clock ticks)
cpu_gb() {
	S3ROOT_CONFIG=/dev/null /usr/bin/python3 - "$MB" "$@" <<'PY'
import resource, subprocess, sys
mb, cmd = int(sys.argv[1]), sys.argv[2:]
subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f" % ((u.ru_utime + u.ru_stime) / (mb * 1048576 / 1e9)))
PY
}
max() { awk -v a="$1" -v b="${2:-0}" 'BEGIN { print (a > b ? a : b) }'; }

declare -A val dir=([bearssl]=build [mbedtls]=build-mbedtls)
for b in bearssl mbedtls; do
	d=${dir[$b]}
	val[$b.size]=$(stat -c %s "$d/s3root")
	"$d/tls_handshake" "$url" "$TLS_CA" "$TLS_HOST:127.0.0.1" "$N" \
		>"$T/hs.$b"
	val[$b.full]=$(awk '$1 == "full" { print $3 }' "$T/hs.$b")
	val[$b.resumed]=$(awk '$1 == "resumed" { print $3 }' "$T/hs.$b")
	val[$b.ca]=$(ca_load_ms "$d/s3root")
done
# the two builds take turns, so that a busy moment hits both
for _ in $(seq "$RUNS"); do
	for b in bearssl mbedtls; do
		d=${dir[$b]}
		val[$b.get]=$(max "$(get_rate "$d/s3root" "$url" "$opts")" \
			"${val[$b.get]:-}")
		val[$b.plain]=$(max "$(get_rate "$d/s3root" \
			"http://127.0.0.1:$UP/big")" "${val[$b.plain]:-}")
	done
done
# CPU per GB over TLS: each build's get against curl on one connection
min() { awk -v a="$1" -v b="${2:-1e9}" 'BEGIN { print (a < b ? a : b) }'; }
for _ in $(seq "$RUNS"); do
	for b in bearssl mbedtls; do
		val[$b.cpu]=$(min "$(cpu_gb "${dir[$b]}/s3root" get "$url" \
			-o "$opts")" "${val[$b.cpu]:-}")
	done
	curl_cpu=$(min "$(cpu_gb curl -sS -o /dev/null --cacert "$TLS_CA" \
		--resolve "$TLS_HOST:$TLS_PORT:127.0.0.1" "$url")" "${curl_cpu:-}")
done
# `get` reconnects every 4 requests (keepalive_requests 4): those resume
reused=$(grep -c 'reused=r' "$TLS_DIR/log/nginx-access.log" || true)

row() {
	local name=$1 key=$2 unit=$3
	awk -v n="$name ($unit)" -v a="${val[bearssl.$key]}" \
		-v b="${val[mbedtls.$key]}" \
		'BEGIN { printf "%-46s %10s %10s %8.2f\n", n, a, b, b / a }'
}
echo
echo "TLS backends on loopback: nginx $(nginx -v 2>&1 | sed 's/.*nginx\///'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-46s %10s %10s %8s\n' "" BearSSL mbedTLS ratio
row "static binary size" size bytes
row "full handshake, median of $N" full ms
row "resumed handshake, median of $N" resumed ms
row "load the system CA bundle" ca ms
row "get $MB MB over TLS" get MB/s
row "get $MB MB over plain HTTP (same code)" plain MB/s
row "CPU per GB, get over TLS" cpu s
awk -v c="$curl_cpu" -v a="${val[bearssl.cpu]}" -v b="${val[mbedtls.cpu]}" \
	'BEGIN { printf "%-46s %10s %10s\n%-46s %10.2f %10.2f\n",
		"curl over TLS, one connection (s/GB)", c, c,
		"s3root / curl, CPU per GB", a / c, b / c }'
echo "handshake: TCP connect + handshake, no request; get: sequential 8 MiB"
echo "ranged GETs, best of $RUNS, $reused resumed TLS reconnections in all;"
echo "CPU per GB: user + system time per 10^9 bytes, the least of $RUNS runs"
