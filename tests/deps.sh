#!/usr/bin/env bash
# tests/deps.sh check|install [ARCH]: the Debian packages the build and the
# tests need (make check builds for arm64 too), and with ARCH (armhf, arm64,
# riscv64) those of `make ARCH=...`. `check` exits 1 when one is missing;
# `install` installs only what is missing (apt-get, non-interactive), adding
# the foreign architectures to dpkg first.
# tests/deps.sh mbedtls-source DIR: Debian's mbedtls source package (the
# upstream tarball, unpacked into DIR/src) for `make TLS=mbedtls`, fetched
# with apt-get from the deb-src twins of this machine's deb sources, in a
# private apt state under DIR: the system's apt configuration is not touched.
set -eu

pkgs=(
	# build (TLS=mbedtls needs nothing more: its source comes from
	# Debian's source package, see mbedtls-source below)
	make gcc musl-tools libbearssl-dev file git
	# format check, shell lint (make lint-sh), sanitizer and fuzz builds
	clang clang-format shellcheck libclang-rt-14-dev
	# the manual pages' checks (groff -ww, man -l)
	groff-base man-db
	# reference signer
	python3 python3-botocore
	# test servers (tests/servers/): Ceph RGW, nginx TLS front, curl
	ceph-mon ceph-osd ceph-common radosgw nginx-light openssl curl
	# NBD clients and an EROFS image builder
	libnbd-bin python3-libnbd fio erofs-utils
	# dm-verity: veritysetup, to check verity-format's trees against
	cryptsetup-bin
	# a cache file on a loop device over a full tmpfs (test-cache.sh: a
	# real writeback error): losetup, blockdev, mount
	util-linux mount
	# the VM tests: qemu (TCG), a busybox initramfs, Debian's kernel (fetched
	# with apt-get download into build/vm-cache)
	qemu-system-x86 busybox-static cpio kmod
	# a real DHCP and DNS server for the VM tests (test-vm-dhcp.sh,
	# test-vm-dns.sh); the binary only, no system service
	dnsmasq-base
	# the systemd boot test: a Debian root made once with debootstrap
	# (cached in build/vm-cache/debian-root)
	debootstrap debian-archive-keyring
	# make bench (bench/): the peers (nbdkit's curl plugin and filters are
	# in nbdkit itself) and the chart
	nbdkit gnuplot-nox
	# make valgrind (tests/sh/soak.sh --valgrind)
	valgrind
	# the cross builds' unit tests under qemu-user, and make check-cross's
	# arm64 VM (its kernel and busybox are fetched with apt-get download)
	qemu-user-static qemu-system-arm
)
# cross ARCH: what `make ARCH=ARCH` needs: Debian's musl for ARCH (which
# brings Debian's cross gcc) and BearSSL for ARCH. Debian 12 has neither
# for riscv64: the board's toolchain and BEARSSL_DIR (see the README).
cross() {
	case $1 in
	arm64 | armhf) echo "musl-dev:$1 libbearssl-dev:$1" ;;
	riscv64) ;;
	*)
		echo "tests/deps.sh: ARCH=$1 is not known: arm64, armhf or riscv64" >&2
		exit 2
		;;
	esac
}

arches=(arm64)
case ${1:-check} in
check | install)
	[ $# -le 2 ] || { echo "usage: $0 check|install [ARCH]" >&2; exit 2; }
	[ -z "${2:-}" ] || [ "$2" = arm64 ] || arches+=("$2")
	;;
esac
for a in "${arches[@]}"; do
	c=$(cross "$a") || exit 2
	# shellcheck disable=SC2206 # a list of names
	pkgs+=($c)
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing+=("$p")
done

# mbedtls_source DIR: see above.
mbedtls_source() {
	local dir f opts tgz
	mkdir -p "$1" && dir=$(cd "$1" && pwd) || exit 1
	mkdir -p "$dir/apt/etc/sources.list.d" "$dir/apt/lists/partial" \
		"$dir/apt/cache/archives/partial" "$dir/get"
	: >"$dir/apt/etc/sources.list"
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		sed -n 's/^[[:space:]]*deb[[:space:]]/deb-src /p' "$f" \
			>>"$dir/apt/etc/sources.list"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		sed 's/^Types:.*/Types: deb-src/' "$f" \
			>"$dir/apt/etc/sources.list.d/${f##*/}"
	done
	opts=(-qq -o "Dir::Etc::SourceList=$dir/apt/etc/sources.list"
		-o "Dir::Etc::SourceParts=$dir/apt/etc/sources.list.d"
		-o "Dir::State::Lists=$dir/apt/lists"
		-o "Dir::Cache=$dir/apt/cache")
	# root's apt drops to _apt for downloads, which cannot write here
	[ "$(id -u)" -ne 0 ] || opts+=(-o APT::Sandbox::User=root)
	rm -f "$dir"/get/*
	if ! apt-get "${opts[@]}" update ||
		! (cd "$dir/get" &&
			apt-get "${opts[@]}" source --download-only mbedtls); then
		echo "cannot fetch Debian's mbedtls source package; name an" \
			"mbedTLS 2.28 source tree with MBEDTLS_DIR=" >&2
		exit 1
	fi
	tgz=$(ls "$dir"/get/mbedtls_*.orig.tar.*)
	rm -rf "$dir/src.tmp" "$dir/src"
	mkdir -p "$dir/src.tmp"
	tar xf "$tgz" -C "$dir/src.tmp" --strip-components=1
	[ -f "$dir/src.tmp/include/mbedtls/ssl.h" ] || {
		echo "$tgz: not an mbedTLS source tree" >&2
		exit 1
	}
	mv "$dir/src.tmp" "$dir/src"
}

case ${1:-check} in
mbedtls-source)
	[ $# -eq 2 ] || { echo "usage: $0 mbedtls-source DIR" >&2; exit 2; }
	mbedtls_source "$2"
	;;
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
	for p in "${missing[@]}"; do
		case $p in
		*:*)
			dpkg --print-foreign-architectures | grep -qx "${p#*:}" ||
				$sudo dpkg --add-architecture "${p#*:}"
			;;
		esac
	done
	# a mirror in mid-sync fails one index (often a foreign one): what
	# was fetched is used, and a package still missing fails below
	$sudo apt-get update -qq ||
		echo "tests/deps.sh: apt-get update had errors; going on" >&2
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
	;;
*)
	echo "usage: $0 check|install [ARCH] | mbedtls-source DIR" >&2
	exit 2
	;;
esac
