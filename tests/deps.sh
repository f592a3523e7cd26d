#!/usr/bin/env bash
# tests/deps.sh check|install: the Debian packages the build and the tests
# need. `check` exits 1 when one is missing; `install` installs only what is
# missing (apt-get, non-interactive).
set -eu

pkgs=(
	# build
	make gcc musl-tools libbearssl-dev file git
	# format check, sanitizer and fuzz builds
	clang clang-format libclang-rt-14-dev
	# reference signer
	python3 python3-botocore
	# test servers (tests/servers/): Ceph RGW, nginx TLS front, curl
	ceph-mon ceph-osd ceph-common radosgw nginx-light openssl curl
	# NBD clients and an EROFS image builder
	libnbd-bin python3-libnbd fio erofs-utils
	# the VM tests: qemu (TCG), a busybox initramfs, Debian's kernel (fetched
	# with apt-get download into build/vm-cache)
	qemu-system-x86 busybox-static cpio kmod
	# the systemd boot test: a Debian root made once with debootstrap
	# (cached in build/vm-cache/debian-root)
	debootstrap debian-archive-keyring
	# make bench (bench/): the peers (nbdkit's curl plugin and filters are
	# in nbdkit itself) and the chart
	nbdkit gnuplot-nox
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

case ${1:-check} in
check)
	[ ${#missing[@]} -eq 0 ] && exit 0
	echo "missing packages: ${missing[*]}" >&2
	exit 1
	;;
install)
	[ ${#missing[@]} -eq 0 ] && exit 0
	if [ "$(id -u)" -ne 0 ]; then
		sudo=sudo
	else
		sudo=
	fi
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
	;;
*)
	echo "usage: $0 check|install" >&2
	exit 2
	;;
esac
