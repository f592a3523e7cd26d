#!/usr/bin/env bash
# bench/run.sh (make bench): s3root against its peers, reading one EROFS
# image from a local Ceph RGW through bench/shaper, which adds a fixed
# latency before each response (BENCH_DELAYS) and, for the sequential
# workload and the curl limit, caps each connection at BENCH_RATE.
#
# Servers, each exporting the object over NBD on a unix socket: s3root serve
# (plain URL, and the signed s3:// form), nbdkit curl, and nbdkit curl with
# its readahead and cache filters. The limit: curl downloading the object
# over one connection. Workloads (fio --ioengine=nbd): 4 KiB random reads 1,
# 32 and 128 deep (beside the queue-depth limit: depth / added latency),
# 1 MiB sequential reads, and the replayed read trace of a
# kernel mounting the image and reading every file (recorded once in a VM,
# cached in build/bench/). Prints a table and ratios and writes them, with
# a chart, to bench/results/. Knobs: bench/README.md.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
BUILD=${BUILD:-build}
S3ROOT=${S3ROOT:-$TOP/$BUILD/s3root}
S3ROOT_OPTS=${S3ROOT_OPTS:-}
SHAPER=$TOP/$BUILD/bench/shaper
CACHE=$TOP/$BUILD/bench
RESULTS=${BENCH_RESULTS:-$TOP/bench/results}
PY3=/usr/bin/python3

BENCH_QUICK=${BENCH_QUICK:-0}
if [ "$BENCH_QUICK" = 1 ]; then
	BENCH_DELAYS=${BENCH_DELAYS:-0 30}
	BENCH_TIME=${BENCH_TIME:-3}
	BENCH_IMAGE_MB=${BENCH_IMAGE_MB:-48}
	BENCH_TRACE_READS=${BENCH_TRACE_READS:-300}
else
	BENCH_DELAYS=${BENCH_DELAYS:-0 10 30}
	BENCH_TIME=${BENCH_TIME:-10}
	BENCH_IMAGE_MB=${BENCH_IMAGE_MB:-272}
	BENCH_TRACE_READS=${BENCH_TRACE_READS:-2000}
fi
BENCH_RATE=${BENCH_RATE:-50M}
BENCH_SERVERS=${BENCH_SERVERS:-s3root s3root-s3 nbdkit nbdkit-ra nbdkit-cache nbdkit-ra-cache}
BENCH_WORKLOADS=${BENCH_WORKLOADS:-rand4k-qd1 rand4k-qd32 rand4k-qd128 seq1m trace}
BENCH_TRACE_DEPTH=${BENCH_TRACE_DEPTH:-2}
BUCKET=bench
KEY=image.erofs

BENCH_NAME=bench
. "$TOP/bench/lib.sh"

for c in radosgw ceph-mon ceph-osd fio nbdkit gnuplot curl mkfs.erofs; do
	command -v "$c" >/dev/null 2>&1 || fail "missing $c (make deps)"
done
[ -x "$S3ROOT" ] || fail "no $S3ROOT (make)"
[ -x "$SHAPER" ] || fail "no $SHAPER (make $BUILD/bench/shaper)"

bench_tmp bench fio
mkdir -p "$CACHE" "$RESULTS"
. "$TOP/tests/servers/rgw.sh"

# cpu_ticks PID: user + system time of PID and all its threads, in ticks.
cpu_ticks() {
	local line
	read -r line <"/proc/$1/stat"
	# shellcheck disable=SC2086 # the fields after "(comm) ", split
	set -- ${line##*) }
	echo $((${12} + ${13}))
}
TICKS=$(getconf CLK_TCK)

# peak_rss_kib PID: the high-water mark of PID's resident memory.
peak_rss_kib() {
	sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status"
}

# shaper NAME DELAY RATE [--log FILE]: start a shaper in front of RGW;
# sets SHAPER_PORT.
shaper() {
	local name=$1 delay=$2 rate=$3 n=100
	shift 3
	rm -f "$T/$name.port"
	spawn "$name" "$SHAPER" --listen 0 --upstream "$RGW_PORT" \
		--delay-ms "$delay" --rate "$rate" --port-file "$T/$name.port" "$@"
	until [ -s "$T/$name.port" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] && _srv_alive "$(pid_of "$name")" ||
			fail "shaper did not start: $(cat "$T/log/$name.out")"
		sleep 0.05
	done
	SHAPER_PORT=$(cat "$T/$name.port")
}

# ---------------------------------------------------------------- the image
# A root-like tree (bench/mktree.py, seeded) as a compressed EROFS image,
# built once per generator, size and erofs-utils version.
mkfs_ver=$(dpkg-query -W -f '${Version}' erofs-utils 2>/dev/null || echo ?)
ikey=$(cat bench/mktree.py - <<<"$BENCH_IMAGE_MB $mkfs_ver" |
	sha256sum | cut -c1-12)
IMAGE=$CACHE/image-$ikey.erofs
if [ ! -s "$IMAGE" ]; then
	say "building the image ($BENCH_IMAGE_MB MiB of files, lz4hc; once)"
	"$PY3" bench/mktree.py "$T/tree" "$BENCH_IMAGE_MB" >&2
	# fixed time stamps, owner and UUID: the same image, the same trace
	mkfs.erofs -zlz4hc -T0 --all-root \
		-U 5b3e1c2a-5e4b-4c00-8000-00000000be9c --quiet \
		"$T/image.tmp" "$T/tree" || fail "mkfs.erofs failed"
	mv "$T/image.tmp" "$IMAGE"
	rm -rf "$T/tree"
fi
IMAGE_SIZE=$(stat -c %s "$IMAGE")
IMAGE_SHA=$(sha256sum "$IMAGE" | cut -c1-12)

say "starting RGW"
rgw_start "$T/rgw" 2>"$T/log/rgw-start.out" ||
	fail "RGW did not start: $(cat "$T/log/rgw-start.out")"
s3ctl mb "$BUCKET" >/dev/null
s3ctl put "$BUCKET" "$KEY" "$IMAGE" >/dev/null
s3ctl acl "$BUCKET" "$KEY" public-read
say "s3://$BUCKET/$KEY: $IMAGE_SIZE bytes ($IMAGE)"

# ---------------------------------------------------------------- the trace
# What a kernel reads mounting the image and reading every file: in a VM,
# s3root mount with no cache (one ranged GET per NBD read) through a
# logging shaper; its Range headers become a fio iolog (version 2).
TRACE=$CACHE/trace-$IMAGE_SHA.iolog
record_trace() {
	local t0
	. "$TOP/tests/vm/vm.sh"
	for c in qemu-system-x86_64 busybox cpio; do
		command -v "$c" >/dev/null 2>&1 || return 1
	done
	vm_requires
	vm_kernel || return 1
	shaper trace 0 0 --log "$T/trace.log"
	cat >"$T/init" <<EOF
#!/bin/sh
$(vm_guest_prelude)
/bin/busybox --install -s /bin 2>/dev/null
export S3ROOT_CONFIG=/dev/null
mkdir -p /mnt
if s3root mount http://10.0.2.2:$SHAPER_PORT/$BUCKET/$KEY /mnt -o s3.cache=0
then
	find /mnt -type f | xargs cat >/dev/null && echo "TRACE: READ"
	umount /mnt
fi
echo "TRACE: DONE"
poweroff -f
EOF
	vm_initramfs "$T/initrd" "$T/init" || return 1
	t0=$(date +%s)
	vm_run "$T/initrd" "$T/console" 1800 quiet || return 1
	stop trace
	grep -aq "TRACE: READ" "$T/console" || {
		tail -n 20 "$T/console" >&2
		return 1
	}
	say "trace recorded in $(($(date +%s) - t0)) s"
	cp "$T/trace.log" "$CACHE/trace-$IMAGE_SHA.log"
	awk '
	BEGIN { print "fio version 2 iolog"; print "nbd add"; print "nbd open" }
	$3 == "GET" && $NF ~ /^range=bytes=[0-9]+-[0-9]+$/ {
		split(substr($NF, 13), r, "-")
		printf "nbd read %d %d\n", r[1], r[2] - r[1] + 1
	}
	END { print "nbd close" }' "$T/trace.log" >"$TRACE.tmp"
	mv "$TRACE.tmp" "$TRACE"
}
case " $BENCH_WORKLOADS " in
*" trace "*)
	if [ ! -s "$TRACE" ]; then
		say "recording the read trace in a VM (once per image)"
		record_trace || {
			say "no trace (VM failed: see above); skipping that workload"
			BENCH_WORKLOADS=${BENCH_WORKLOADS/trace/}
		}
	fi
	;;
esac
# Every server replays the same first BENCH_TRACE_READS reads (the mount,
# the directory walk, the first files): the whole trace would take the
# slowest peers minutes, and rates from replays cut at different points
# would compare different mixes of request sizes.
if [ -s "$TRACE" ]; then
	awk -v n="$BENCH_TRACE_READS" '$2 != "read" || n-- > 0' "$TRACE" \
		>"$T/trace.iolog"
	TRACE_INFO=$(awk '$2 == "read" { n++; b += $4 }
		END { printf "%d reads, %.1f MiB", n, b / 1048576 }' "$TRACE")
	TRACE_INFO="$TRACE_INFO; the first $(awk '$2 == "read" {
		n++; b += $4 } END { printf "%d reads (%.1f MiB)", n,
		b / 1048576 }' "$T/trace.iolog")"
	say "trace: $TRACE_INFO"
fi

# ---------------------------------------------------------------- the runs
# start_server NAME PORT SOCK: NAME exporting the object behind the
# shaper on PORT at the unix socket SOCK; waits until it listens.
start_server() {
	local name=$1 url=http://127.0.0.1:$2/$BUCKET/$KEY sock=$3 n=300
	local -a s3o=()
	[ -z "$S3ROOT_OPTS" ] || s3o=(-o "$S3ROOT_OPTS")
	rm -f "$sock"
	case $name in
	s3root)
		S3ROOT_CONFIG=/dev/null spawn srv "$S3ROOT" serve "$url" \
			--listen "unix:$sock" "${s3o[@]}"
		;;
	s3root-s3)
		S3ROOT_CONFIG=/dev/null AWS_ACCESS_KEY_ID=$RGW_ACCESS \
			AWS_SECRET_ACCESS_KEY=$RGW_SECRET spawn srv "$S3ROOT" \
			serve "s3://$BUCKET/$KEY" --listen "unix:$sock" \
			-o "s3.endpoint=http://127.0.0.1:$2" "${s3o[@]}"
		;;
	nbdkit)
		spawn srv nbdkit -f -r -U "$sock" curl "url=$url"
		;;
	nbdkit-ra)
		spawn srv nbdkit -f -r -U "$sock" --filter=readahead \
			curl "url=$url"
		;;
	nbdkit-cache)
		TMPDIR=$T spawn srv nbdkit -f -r -U "$sock" --filter=cache \
			curl "url=$url" cache-on-read=true
		;;
	nbdkit-ra-cache)
		TMPDIR=$T spawn srv nbdkit -f -r -U "$sock" \
			--filter=readahead --filter=cache curl "url=$url" \
			cache-on-read=true
		;;
	*) fail "unknown server $name" ;;
	esac
	until [ -S "$sock" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] && _srv_alive "$(pid_of srv)" ||
			fail "$name did not start: $(tail -n 5 "$T/log/srv.out")"
		sleep 0.1
	done
}

# fio_args WORKLOAD: the fio options of a workload (sequential and trace
# runs read a fixed amount; a time limit only guards against a hang).
fio_args() {
	case $1 in
	rand4k-qd1) echo --rw=randread --bs=4k --iodepth=1 --time_based \
		--runtime="$BENCH_TIME" ;;
	rand4k-qd32) echo --rw=randread --bs=4k --iodepth=32 --time_based \
		--runtime="$BENCH_TIME" ;;
	rand4k-qd128) echo --rw=randread --bs=4k --iodepth=128 --time_based \
		--runtime="$BENCH_TIME" ;;
	seq1m) echo --rw=read --bs=1m --iodepth=8 \
		--runtime=$((BENCH_TIME * 20)) ;;
	trace) echo --read_iolog="$T/trace.iolog" \
		--iodepth="$BENCH_TRACE_DEPTH" --runtime=$((BENCH_TIME * 20)) ;;
	esac
}

# run SERVER WORKLOAD DELAY PORT: one measurement, one line in results.tsv.
run() {
	local server=$1 wl=$2 delay=$3 port=$4 sock=$T/nbd.sock pid c0 c1
	local rss json=$T/fio/$1-$2-$3.json fields
	start_server "$server" "$port" "$sock"
	pid=$(pid_of srv)
	c0=$(cpu_ticks "$pid")
	# shellcheck disable=SC2046 # fio_args is a word list
	fio --name="$wl" --ioengine=nbd --uri="nbd+unix:///?socket=$sock" \
		$(fio_args "$wl") --output-format=json --output="$json" \
		>"$T/log/fio.out" 2>&1 ||
		say "fio failed for $server $wl: $(tail -n 3 "$T/log/fio.out")"
	c1=$(cpu_ticks "$pid")
	rss=$(peak_rss_kib "$pid")
	stop srv
	fields=$("$PY3" - "$json" <<'EOF' 2>/dev/null || echo "- - - - 0"
import json, sys
r = json.load(open(sys.argv[1]))["jobs"][0]["read"]
p = r["clat_ns"].get("percentile", {})
ms = lambda k: "%.3f" % (p[k] / 1e6) if k in p else "-"
print("%.1f %.2f %s %s %d" % (r["iops"], r["bw_bytes"] / 1e6,
      ms("50.000000"), ms("99.000000"), r["io_bytes"]))
EOF
	)
	# shellcheck disable=SC2086 # five figures, split
	set -- $fields
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$server" "$wl" \
		"$delay" "$1" "$2" "$3" "$4" "$rss" \
		"$(((c1 - c0) * 1000 / TICKS))" "$5" >>"$T/results.tsv"
	printf '  %-16s %-12s %3s ms: %8s IOPS %8s MB/s p99 %s ms%s\n' \
		"$server" "$wl" "$delay" "$1" "$2" "$4" \
		"$(depth_limit "$wl" "$delay")" >&2
}

# depth_limit WORKLOAD DELAY: ", limit N IOPS" for a random workload with
# an added latency: its depth / the latency, what no server can beat.
depth_limit() {
	case $1 in
	rand4k-qd*) [ "$2" -gt 0 ] &&
		echo ", limit $((${1#rand4k-qd} * 1000 / $2)) IOPS (depth / RTT)" ;;
	esac
}

# curl_limit DELAY PORT: one connection downloading the whole object; its
# CPU time from getrusage (precise, unlike /proc's clock ticks).
curl_limit() {
	"$PY3" - "$1" "http://127.0.0.1:$2/$BUCKET/$KEY" <<'EOF' \
		>>"$T/results.tsv" || say "curl failed"
import resource, subprocess, sys, time
d, url = sys.argv[1:]
t0 = time.monotonic()
r = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w",
                    "%{size_download}", url], capture_output=True, text=True)
wall = time.monotonic() - t0
if r.returncode:
    sys.exit(r.stderr.strip())
u, size = resource.getrusage(resource.RUSAGE_CHILDREN), int(r.stdout)
print("curl\tlimit\t%s\t-\t%.2f\t-\t-\t%d\t%.1f\t%d" % (d,
      size / wall / 1e6, u.ru_maxrss, (u.ru_utime + u.ru_stime) * 1000, size))
EOF
	tail -n 1 "$T/results.tsv" | awk -F '\t' \
		'{ printf "  %-16s %-12s %3s ms: %8s MB/s\n", $1, $2, $3, $5 }' >&2
}

: >"$T/results.tsv"
start=$(date +%s)
for d in $BENCH_DELAYS; do
	say "added latency $d ms"
	shaper plain "$d" 0
	plain=$SHAPER_PORT
	shaper capped "$d" "$BENCH_RATE"
	capped=$SHAPER_PORT
	curl_limit "$d" "$capped"
	for s in $BENCH_SERVERS; do
		for w in $BENCH_WORKLOADS; do
			case $w in
			seq1m) run "$s" "$w" "$d" "$capped" ;;
			*) run "$s" "$w" "$d" "$plain" ;;
			esac
		done
	done
	stop plain
	stop capped
done
say "measured in $(($(date +%s) - start)) s"

# ---------------------------------------------------------------- the report
stamp=$(date +%Y-%m-%d-%H%M)
BENCH_STAMP=$stamp \
	BENCH_IMAGE="$IMAGE_SIZE bytes, $BENCH_IMAGE_MB MiB of files (bench/mktree.py), EROFS lz4hc" \
	BENCH_TRACE_INFO=${TRACE_INFO:-none} \
	BENCH_S3ROOT="$("$S3ROOT" --version 2>&1 | head -n 1)" \
	BENCH_COMMIT="$(git describe --always --dirty 2>/dev/null || echo ?)" \
	BENCH_NBDKIT="$(nbdkit --version 2>&1 | head -n 1)" \
	BENCH_CURL="$(curl --version | head -n 1 | cut -d' ' -f1-2)" \
	BENCH_FIO="$(fio --version)" BENCH_DELAYS=$BENCH_DELAYS \
	BENCH_TIME=$BENCH_TIME BENCH_RATE=$BENCH_RATE \
	BENCH_TRACE_DEPTH=$BENCH_TRACE_DEPTH S3ROOT_OPTS=$S3ROOT_OPTS \
	"$PY3" bench/report.py "$T/results.tsv" "$RESULTS/RESULTS-$stamp" ||
	fail "report failed"
cp "$RESULTS/RESULTS-$stamp.md" "$RESULTS/latest.md"
sed -i "s/RESULTS-$stamp.png/latest.png/" "$RESULTS/latest.md"
cp "$RESULTS/RESULTS-$stamp.png" "$RESULTS/latest.png"
cp "$T/results.tsv" "$RESULTS/RESULTS-$stamp.tsv"
cat "$RESULTS/RESULTS-$stamp.md"
say "wrote $RESULTS/RESULTS-$stamp.md (.png, .tsv) and latest.md"
