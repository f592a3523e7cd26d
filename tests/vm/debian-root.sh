# shellcheck shell=bash
# tests/vm/debian-root.sh - a Debian bookworm minbase + systemd root as an
# EROFS image, for the VM tests (sourced after tests/vm/vm.sh). Both steps
# are cached under $VM_CACHE/debian-root/, keyed by what goes into them:
#
#   debian_tree                debootstrap (needs root and the Debian
#                              archive; minutes, once): sets DEBIAN_TREE
#   debian_image PREPARE       a copy of the tree, prepared by the script
#                              PREPARE (run as `bash PREPARE ROOTDIR`), made
#                              into an EROFS image: sets DEBIAN_IMAGE
#   debian_builder NAME PKGS   another minbase tree with the packages PKGS
#                              (comma-separated), to build initramfs images
#                              in with a distribution's tools: sets
#                              DEBIAN_BUILDER
#
# A change of suite or package list makes a new tree, a change of PREPARE
# or of the mkfs options a new image; the ones they replace are removed.
# The archive is this machine's apt source for the suite (so a local
# mirror is used when there is one), or $DEBIAN_MIRROR.

DEBIAN_SUITE=bookworm
# udev: without it no .device unit ever appears and the serial getty
# waits 90 s for its tty; dbus: systemd-logind (multi-user) needs it
DEBIAN_PACKAGES=systemd,systemd-sysv,udev,dbus
# lz4hc: Debian's erofs-utils 1.5 and its 6.1 kernel both have it
DEBIAN_MKFS="-zlz4hc"
DEBIAN_CACHE=$VM_CACHE/debian-root
# where debian_builder's trees go (their own place may be asked for)
DEBIAN_BUILDER_CACHE=${DEBIAN_BUILDER_CACHE:-$DEBIAN_CACHE}

# debian_mirror: the archive apt uses for the suite's main component.
debian_mirror() {
	local m
	# shellcheck disable=SC2016 # apt's $(FIELD) placeholders
	m=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
		'Identifier: Packages' 2>/dev/null |
		awk -v s="$DEBIAN_SUITE" '$2 == s && $3 == "main" { print $1; exit }')
	echo "${DEBIAN_MIRROR:-${m:-http://deb.debian.org/debian/}}"
}

_debian_key() {
	printf '%s\n' "$@" | sha256sum | head -c 16
}

# _debian_locked CMD...: CMD under the cache's lock (two tests may build
# the same tree at once); $DEBIAN_LOCK: another lock file.
_debian_locked() {
	local lock=${DEBIAN_LOCK:-$DEBIAN_CACHE/lock}
	mkdir -p "${lock%/*}" && (flock 9 && "$@") 9>"$lock"
}

# _debian_rm DIR: rm -rf that never crosses into a filesystem mounted
# inside (a failed debootstrap may leave its /proc and /sys mounted)
_debian_rm() {
	rm -rf --one-file-system "$1"
}

# _debian_tree_build DEST PACKAGES: debootstrap into DEST-KEY's place;
# the trees of other package lists under the same name go
_debian_tree_build() {
	local dest=$1 pkgs=$2 name=${1##*/}
	local dir=${1%/*} tmp log mirror old
	tmp=$dir/building-${name%-*} log=$dir/debootstrap-${name%-*}.log
	[ -d "$dest" ] && return 0
	mirror=$(debian_mirror)
	echo "debian-root: debootstrap $DEBIAN_SUITE ($pkgs)" \
		"from $mirror, once" >&2
	_debian_rm "$tmp"
	debootstrap --variant=minbase --include="$pkgs" \
		"$DEBIAN_SUITE" "$tmp" "$mirror" >"$log" 2>&1 ||
		{ tail -n 20 "$log" >&2; _debian_rm "$tmp"; return 1; }
	# what debootstrap leaves behind: the downloaded packages
	rm -f "$tmp"/var/cache/apt/archives/*.deb
	# the trees of older package lists
	for old in "$dir/${name%-*}"-*; do
		[ ! -d "$old" ] || _debian_rm "$old"
	done
	mv "$tmp" "$dest"
}

debian_tree() {
	DEBIAN_TREE=$DEBIAN_CACHE/tree-$(_debian_key "$DEBIAN_SUITE" \
		"$DEBIAN_PACKAGES")
	_debian_locked _debian_tree_build "$DEBIAN_TREE" "$DEBIAN_PACKAGES"
}

# debian_builder NAME PACKAGES
debian_builder() {
	DEBIAN_BUILDER=$DEBIAN_BUILDER_CACHE/$1-$(_debian_key "$DEBIAN_SUITE" \
		"$2")
	DEBIAN_LOCK=$DEBIAN_BUILDER_CACHE/lock-$1 \
		_debian_locked _debian_tree_build "$DEBIAN_BUILDER" "$2"
}

_debian_image_build() {
	local prep=$1 root=$DEBIAN_CACHE/building-root
	local img=$DEBIAN_CACHE/building.erofs
	[ -f "$DEBIAN_IMAGE" ] && return 0
	_debian_rm "$root"
	cp -a "$DEBIAN_TREE" "$root" && bash "$prep" "$root" &&
		mkfs.erofs $DEBIAN_MKFS "$img" "$root" >/dev/null ||
		{ _debian_rm "$root"; rm -f "$img"; return 1; }
	_debian_rm "$root"
	rm -f "$DEBIAN_CACHE"/image-*.erofs
	mv "$img" "$DEBIAN_IMAGE"
}

# debian_image PREPARE
debian_image() {
	debian_tree || return 1
	DEBIAN_IMAGE=$DEBIAN_CACHE/image-$(_debian_key "${DEBIAN_TREE##*/}" \
		"$DEBIAN_MKFS" "$(cat "$1")").erofs
	_debian_locked _debian_image_build "$1"
}
