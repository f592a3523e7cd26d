#!/usr/bin/env bash
# bench/boot.sh (make bench, make bench-boot): the boot workload. The test
# suite's Debian/systemd root (tests/vm/debian-root.sh, with
# bench/boot.prepare's marker unit) boots in a VM (qemu TCG) to
# multi-user, from a local Ceph RGW through bench/shaper at each of
# BENCH_BOOT_DELAYS, served by:
#
#   local      the floor: nbdkit's file plugin on the host, the kernel's
#              NBD client on it (bench/nbd_attach in a busybox /init);
#              no shaper, no added latency
#   s3root     the s3root initramfs, root=s3:bucket/key (signed)
#   trace      the same with s3root.trace=s3:bucket/key.trace, a trace
#              recorded by an earlier boot (s3root.trace=record); "n/a"
#              when the binary has no `trace` command
#   nbdkit     nbdkit curl with its readahead and cache filters (the
#              combination its manual recommends), TCP, the nbd_attach init
#   download   curl fetching the whole image through the shaper, then the
#              local boot of the file: download + boot
#   s3root@OPTS  s3root with -o OPTS (comma-separated) on the kernel
#              command line, e.g. s3root@s3.chunk=32K
#
# The time is the kernel's: from its "Run /init" line to the marker the
# unit writes to /dev/kmsg after multi-user.target (the same clock; qemu's
# own start and the kernel's decompression are left out). The guest runs
# with qemu's -icount (BENCH_BOOT_ICOUNT): its clock counts the
# instructions it executes while it runs and real time while it waits, so
# its CPU's speed is the same in every boot whatever the host does, and
# what it waits for (the network, the servers) counts as it happens. Bytes fetched
# are counted by the shaper (responses, headers included), the same way
# for every server. Medians of BENCH_BOOT_REPS, the configurations
# interleaved within each repetition. Knobs: bench/README.md.
set -eu
cd "$(dirname "$0")/.."
TOP=$PWD
BUILD=${BUILD:-build}
S3ROOT=${S3ROOT:-$TOP/$BUILD/s3root}
SHAPER=$TOP/$BUILD/bench/shaper
NBD_ATTACH=$TOP/$BUILD/nbd_attach
CACHE=$TOP/$BUILD/bench
RESULTS=${BENCH_RESULTS:-$TOP/bench/results}
PY3=/usr/bin/python3

BENCH_QUICK=${BENCH_QUICK:-0}
if [ "$BENCH_QUICK" = 1 ]; then
	BENCH_BOOT_DELAYS=${BENCH_BOOT_DELAYS:-0 30}
	BENCH_BOOT_REPS=${BENCH_BOOT_REPS:-1}
else
	BENCH_BOOT_DELAYS=${BENCH_BOOT_DELAYS:-0 30 100}
	BENCH_BOOT_REPS=${BENCH_BOOT_REPS:-3}
fi
BENCH_BOOT_CONFIGS=${BENCH_BOOT_CONFIGS:-local s3root trace nbdkit download}
BENCH_BOOT_SECS=${BENCH_BOOT_SECS:-400}
# ahead of whatever else the host runs (root only; 0 leaves it alone): the
# servers' answers and, with BENCH_BOOT_ICOUNT=off, the guest's clock run
# on while qemu waits for a CPU
BENCH_BOOT_NICE=${BENCH_BOOT_NICE:--10}
S3ROOT_OPTS=${S3ROOT_OPTS:-}
# qemu's -icount: a guest of 2 ns per instruction; "off": TCG's own pace
BENCH_BOOT_ICOUNT=${BENCH_BOOT_ICOUNT:-shift=1,sleep=on}
[ "$BENCH_BOOT_ICOUNT" != off ] || BENCH_BOOT_ICOUNT=
# more kernel arguments for every boot (systemd.log_target=kmsg puts
# systemd's messages on the console with time stamps)
BENCH_BOOT_APPEND=${BENCH_BOOT_APPEND:-}
BUCKET=bench
KEY=debian.erofs

BENCH_NAME=bench-boot
. "$TOP/bench/lib.sh"

for c in radosgw ceph-mon ceph-osd nbdkit curl mkfs.erofs qemu-system-x86_64 \
	cpio busybox debootstrap; do
	command -v "$c" >/dev/null 2>&1 || fail "missing $c (make deps)"
done
[ -x "$S3ROOT" ] || fail "no $S3ROOT (make)"
[ -x "$SHAPER" ] || fail "no $SHAPER (make $BUILD/bench/shaper)"
[ -x "$NBD_ATTACH" ] || fail "no $NBD_ATTACH (make $BUILD/nbd_attach)"

bench_tmp bench-boot con
mkdir -p "$CACHE" "$RESULTS"
. "$TOP/tests/servers/rgw.sh"
VM_S3ROOT=$S3ROOT
. "$TOP/tests/vm/vm.sh"
. "$TOP/tests/vm/debian-root.sh"

# free_port: a TCP port nobody listens on now (the guest reaches the
# host's 127.0.0.1:PORT as 10.0.2.2:PORT).
free_port() {
	"$PY3" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# shaper DELAY: a shaper in front of RGW, logging each request; sets
# SHAPER_PORT.
shaper() {
	local n=100
	rm -f "$T/shaper.port" "$T/shaper.log"
	spawn shaper "$SHAPER" --listen 0 --upstream "$RGW_PORT" \
		--delay-ms "$1" --rate 0 --port-file "$T/shaper.port" \
		--log "$T/shaper.log"
	until [ -s "$T/shaper.port" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] && _srv_alive "$(pid_of shaper)" ||
			fail "shaper did not start: $(cat "$T/log/shaper.out")"
		sleep 0.05
	done
	SHAPER_PORT=$(cat "$T/shaper.port")
}

# shaper_stop: stops it; sets FETCHED (bytes down) and GETS (requests).
shaper_stop() {
	stop shaper
	read -r GETS FETCHED <<<"$(sed -n 's/.*stopping: [0-9]* connections, \([0-9]*\) requests, [0-9]* bytes up, \([0-9]*\) bytes down.*/\1 \2/p' \
		"$T/log/shaper.out")"
	GETS=${GETS:--} FETCHED=${FETCHED:--}
}

# nbd_server PORT ARGS...: nbdkit serving on 127.0.0.1:PORT (TCP); its
# pidfile names $T, which _srv_kill wants in its command line.
nbd_server() {
	local port=$1 n=300
	shift
	TMPDIR=$T spawn nbd nbdkit -f -r -P "$T/nbd.pidfile" -i 127.0.0.1 \
		-p "$port" "$@"
	until nbdinfo --size "nbd://127.0.0.1:$port" >/dev/null 2>&1; do
		n=$((n - 1))
		[ $n -gt 0 ] && _srv_alive "$(pid_of nbd)" ||
			fail "nbdkit did not start: $(tail -n 5 "$T/log/nbd.out")"
		sleep 0.1
	done
}

# ---------------------------------------------------------------- the image
# The test suite's systemd root (debian-check.prepare) with the bench's
# marker unit in place of the test's checks, built once per tree and
# preparation in build/bench/.
vm_requires
vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
debian_tree || fail "cannot build the Debian root (debootstrap)"
ikey=$(cat tests/vm/debian-check.prepare bench/boot.prepare - \
	<<<"${DEBIAN_TREE##*/} $DEBIAN_MKFS" | sha256sum | cut -c1-12)
IMAGE=$CACHE/boot-$ikey.erofs
if [ ! -s "$IMAGE" ]; then
	say "building the image (the test suite's root + bench/boot.prepare; once)"
	cp -a "$DEBIAN_TREE" "$T/root"
	# shellcheck disable=SC2086 # DEBIAN_MKFS is options
	bash tests/vm/debian-check.prepare "$T/root" &&
		bash bench/boot.prepare "$T/root" &&
		mkfs.erofs $DEBIAN_MKFS "$T/image.tmp" "$T/root" >/dev/null ||
		fail "building the image failed"
	rm -rf --one-file-system "$T/root"
	rm -f "$CACHE"/boot-*.erofs
	mv "$T/image.tmp" "$IMAGE"
fi
IMAGE_SIZE=$(stat -c %s "$IMAGE")

say "starting RGW"
rgw_start "$T/rgw" 2>"$T/log/rgw-start.out" ||
	fail "RGW did not start: $(cat "$T/log/rgw-start.out")"
s3ctl mb "$BUCKET" >/dev/null
s3ctl put "$BUCKET" "$KEY" "$IMAGE" >/dev/null
s3ctl acl "$BUCKET" "$KEY" public-read
say "s3://$BUCKET/$KEY: $IMAGE_SIZE bytes ($IMAGE)"

# ------------------------------------------------------------ the initramfs
# s3root's (credentials inside; the endpoint, a new shaper each boot, on
# the kernel command line) and the NBD one: busybox, nbd_attach, the
# modules; it attaches 10.0.2.2:PORT (kernel argument bench.nbd=PORT),
# mounts it as s3root does (EROFS under a tmpfs overlay in /run) and
# switches to systemd.
printf '%s:%s\n' "$RGW_ACCESS" "$RGW_SECRET" >"$T/passwd"
S3ROOT=$S3ROOT "$TOP/initramfs/mkinitramfs-s3root" -o "$T/initrd-s3root" \
	-m "$VM_MODDIR" --passwd "$T/passwd" >/dev/null ||
	fail "mkinitramfs-s3root"
cat >"$T/init-nbd" <<EOF
#!/bin/sh
$(vm_guest_prelude)
port=\$(sed -n 's/.*bench\.nbd=\([0-9]*\).*/\1/p' /proc/cmdline)
dev=\$(/bin/nbd_attach 10.0.2.2 "\$port") || {
	echo "BENCH-INIT: no device"
	poweroff -f
}
mkdir -p /run/bench/lower /run/bench/upper /run/bench/work /newroot
mount -t erofs -o ro "\$dev" /run/bench/lower &&
	mount -t overlay overlay -o lowerdir=/run/bench/lower,upperdir=/run/bench/upper,workdir=/run/bench/work /newroot || {
	echo "BENCH-INIT: cannot mount \$dev"
	poweroff -f
}
for d in dev proc sys run; do
	mount -o move /\$d /newroot/\$d
done
exec /bin/busybox switch_root /newroot /sbin/init
EOF
vm_initramfs "$T/initrd-nbd" "$T/init-nbd" "$NBD_ATTACH=bin/nbd_attach" ||
	fail "the NBD initramfs"

# ---------------------------------------------------------------- a boot
# boot_vm INITRD NAME KERNEL-ARGS...: boots until the unit says it is done
# (then qemu is stopped: the power-off is not measured) or
# BENCH_BOOT_SECS; the console in $T/con/NAME. Sets BOOT_S (Run /init to
# the marker, kernel time), WALL_S (qemu start to the marker on the
# console, host time), NBD_READS, NBD_BYTES (the device's reads by then).
boot_vm() {
	local initrd=$1 name=$2 con=$T/con/$2 t0 tm='' n
	shift 2
	: >"$con"
	t0=$(date +%s.%N)
	# shellcheck disable=SC2086 # VM_MACHINE is options
	spawn qemu nice -n "$BENCH_BOOT_NICE" $VM_QEMU $VM_MACHINE -accel tcg \
		${BENCH_BOOT_ICOUNT:+-icount "$BENCH_BOOT_ICOUNT"} -m 768 -smp 1 \
		-nographic -no-reboot -monitor none \
		-chardev "file,id=con,path=$con" -serial chardev:con \
		-kernel "$VM_VMLINUZ" -initrd "$initrd" \
		-append "console=$VM_CONSOLE panic=-1 $BENCH_BOOT_APPEND $*" \
		-netdev user,id=n0 -device virtio-net-pci,netdev=n0
	n=$((BENCH_BOOT_SECS * 10))
	while _srv_alive "$(pid_of qemu)" && [ $n -gt 0 ]; do
		if [ -z "$tm" ] && grep -aq 'S3ROOT-BENCH: multi-user' "$con"; then
			tm=$(date +%s.%N)
		fi
		grep -aq 'S3ROOT-BENCH: done' "$con" && break
		sleep 0.1
		n=$((n - 1))
	done
	stop qemu
	read -r BOOT_S NBD_READS NBD_BYTES <<<"$(tr -d '\r' <"$con" | awk '
	/^\[ *[0-9.]+\] Run \/init as init process/ && !i {
		i = substr($0, 2) + 0 }
	/^\[ *[0-9.]+\] S3ROOT-BENCH: multi-user / && !m {
		m = substr($0, 2) + 0
		split($0, f, "reads="); r = f[2] + 0
		split($0, f, "bytes="); b = f[2] + 0 }
	END { if (i && m) printf "%.2f %d %d\n", m - i, r, b
	      else print "- - -" }')"
	WALL_S=-
	[ -z "$tm" ] || WALL_S=$(awk -v a="$t0" -v b="$tm" \
		'BEGIN { printf "%.2f", b - a }')
	if [ "$BOOT_S" = - ]; then
		say "$name: no multi-user marker; the console's end:"
		tr -d '\033' <"$con" | tail -n 15 >&2
	fi
}

# s3root_args EXTRA...: the kernel arguments of an s3root boot through the
# shaper on SHAPER_PORT.
s3root_args() {
	local o
	echo "root=s3:$BUCKET/$KEY ip=dhcp s3.endpoint=http://10.0.2.2:$SHAPER_PORT"
	for o in ${S3ROOT_OPTS//,/ } "$@"; do
		echo "$o"
	done
}

# s3root's own figures from the guest's `s3root list -v`: "fetched: F
# bytes of S in N requests"; sets S3_FETCHED (or -).
s3root_figures() {
	S3_FETCHED=$(tr -d '\r' <"$1" | sed -n \
		's/^S3ROOT-BENCH-LIST: *fetched: \([0-9]*\) bytes.*/\1/p' | head -n 1)
	S3_FETCHED=${S3_FETCHED:--}
}

# record CONFIG DELAY REP DL_S: one line of results.tsv; the boot's
# console and request log go to build/bench/boot-logs/$name.*
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" \
		"$BOOT_S" "$4" "$WALL_S" "$FETCHED" "$GETS" "$NBD_READS" \
		"$NBD_BYTES" "${S3_FETCHED:--}" >>"$T/results.tsv"
	say "  $1 ${2}ms #$3: boot ${BOOT_S}s${4:+ (download ${4}s)}," \
		"fetched $FETCHED bytes in $GETS requests; the boot read" \
		"$NBD_BYTES bytes in $NBD_READS reads"
	mkdir -p "$CACHE/boot-logs"
	cp "$T/con/$name" "$CACHE/boot-logs/$name.console" 2>/dev/null || :
	cp "$T/shaper.log" "$CACHE/boot-logs/$name.shaper" 2>/dev/null || :
	rm -f "$T/shaper.log"
}

# run CONFIG DELAY REP: one boot of CONFIG at DELAY ms.
run() {
	local cfg=$1 d=$2 rep=$3 port dl='' t0 opts=''
	# qemu's -chardev path=... ends at a comma
	name=$(echo "$1-$2-$3" | tr ',' '+')
	S3_FETCHED=-
	FETCHED=- GETS=-
	case $cfg in
	local)
		port=$(free_port)
		nbd_server "$port" file "$IMAGE"
		boot_vm "$T/initrd-nbd" "$name" "bench.nbd=$port"
		stop nbd
		;;
	download)
		shaper "$d"
		t0=$(date +%s.%N)
		curl -sS -o "$T/dl.img" \
			"http://127.0.0.1:$SHAPER_PORT/$BUCKET/$KEY" ||
			fail "the download failed"
		dl=$(awk -v a="$t0" -v b="$(date +%s.%N)" \
			'BEGIN { printf "%.2f", b - a }')
		shaper_stop
		port=$(free_port)
		nbd_server "$port" file "$T/dl.img"
		boot_vm "$T/initrd-nbd" "$name" "bench.nbd=$port"
		stop nbd
		rm -f "$T/dl.img"
		;;
	nbdkit)
		shaper "$d"
		port=$(free_port)
		nbd_server "$port" --filter=readahead --filter=cache curl \
			"url=http://127.0.0.1:$SHAPER_PORT/$BUCKET/$KEY" \
			cache-on-read=true
		boot_vm "$T/initrd-nbd" "$name" "bench.nbd=$port"
		stop nbd
		shaper_stop
		;;
	trace)
		shaper "$d"
		# shellcheck disable=SC2046 # one word per argument
		boot_vm "$T/initrd-s3root" "$name" $(s3root_args \
			"s3root.trace=s3:$BUCKET/$KEY.trace")
		shaper_stop
		s3root_figures "$T/con/$name"
		;;
	s3root | s3root@*)
		[ "$cfg" = s3root ] || opts=${cfg#s3root@}
		shaper "$d"
		# shellcheck disable=SC2046,SC2086 # one word per argument
		boot_vm "$T/initrd-s3root" "$name" $(s3root_args ${opts//,/ })
		shaper_stop
		s3root_figures "$T/con/$name"
		;;
	*) fail "unknown configuration $cfg" ;;
	esac
	record "$cfg" "$d" "$rep" "$dl"
}

# record_trace: one s3root boot with s3root.trace=record (no added
# latency); the guest prints the saved trace base64 on the console; it goes
# next to the image as KEY.trace. 0, or 1 with TRACE_NA saying why.
record_trace() {
	local con=$T/con/record sum
	shaper 0
	# shellcheck disable=SC2046 # one word per argument
	boot_vm "$T/initrd-s3root" record $(s3root_args s3root.trace=record)
	shaper_stop
	tr -d '\r' <"$con" | sed -n '/^S3ROOT-TRACE-BEGIN$/,/^S3ROOT-TRACE-END$/p' |
		sed '1d;$d' | base64 -d >"$T/trace" 2>/dev/null || :
	sum=$(tr -d '\r' <"$con" | sed -n 's/^S3ROOT-TRACE-SUM: //p')
	if [ ! -s "$T/trace" ] || [ "$(sha256sum <"$T/trace" | cut -c1-64)" != "$sum" ]; then
		TRACE_NA="the recording boot printed no intact trace"
		grep -a 'S3ROOT-TRACE-FAILED\|s3root:.*trace' "$con" | tail -n 5 >&2
		return 1
	fi
	cp "$T/trace" "$CACHE/boot-$ikey.trace"
	s3ctl put "$BUCKET" "$KEY.trace" "$T/trace" >/dev/null
	say "trace: $(stat -c %s "$T/trace") bytes, recorded in ${BOOT_S}s"
}

configs=$BENCH_BOOT_CONFIGS
TRACE_NA=''
case " $configs " in
*" trace "*)
	if ! "$S3ROOT" trace --help >/dev/null 2>&1; then
		TRACE_NA="$S3ROOT has no trace command"
	else
		say "recording a trace (one boot, s3root.trace=record)"
		record_trace || :
	fi
	if [ -n "$TRACE_NA" ]; then
		say "trace: n/a ($TRACE_NA)"
		configs=$(echo " $configs " | sed 's/ trace / /')
	fi
	;;
esac

: >"$T/results.tsv"
start=$(date +%s)
for rep in $(seq 1 "$BENCH_BOOT_REPS"); do
	for d in $BENCH_BOOT_DELAYS; do
		for c in $configs; do
			# the floor has no latency to add: once a repetition
			if [ "$c" = local ] && [ "$d" != "${BENCH_BOOT_DELAYS%% *}" ]; then
				continue
			fi
			run "$c" "$d" "$rep"
		done
	done
done
elapsed=$(($(date +%s) - start))
say "measured in $elapsed s"

# ---------------------------------------------------------------- the report
stamp=$(date +%Y-%m-%d-%H%M)
BENCH_STAMP=$stamp BENCH_BOOT_DELAYS=$BENCH_BOOT_DELAYS \
	BENCH_BOOT_REPS=$BENCH_BOOT_REPS BENCH_BOOT_CONFIGS=$BENCH_BOOT_CONFIGS \
	BENCH_TRACE_NA=$TRACE_NA BENCH_ELAPSED=$elapsed \
	BENCH_IMAGE="$IMAGE_SIZE bytes (the test suite's Debian bookworm + systemd root, EROFS ${DEBIAN_MKFS#-z})" \
	BENCH_S3ROOT="$("$S3ROOT" --version 2>&1 | head -n 1)" \
	BENCH_COMMIT="$(git describe --always --dirty 2>/dev/null || echo ?)" \
	BENCH_NBDKIT="$(nbdkit --version 2>&1 | head -n 1)" \
	BENCH_KERNEL=$VM_KVER S3ROOT_OPTS=$S3ROOT_OPTS \
	BENCH_BOOT_ICOUNT=$BENCH_BOOT_ICOUNT BENCH_BOOT_APPEND=$BENCH_BOOT_APPEND \
	"$PY3" bench/boot_report.py "$T/results.tsv" \
	"$RESULTS/RESULTS-boot-$stamp" || fail "report failed"
cp "$RESULTS/RESULTS-boot-$stamp.md" "$RESULTS/latest-boot.md"
cp "$T/results.tsv" "$RESULTS/RESULTS-boot-$stamp.tsv"
cat "$RESULTS/RESULTS-boot-$stamp.md"
say "wrote $RESULTS/RESULTS-boot-$stamp.md (.tsv) and latest-boot.md"
