#!/bin/bash
# dracut module 90s3root: root=s3:BUCKET/KEY (or an http(s) URL) through
# s3root, on dracut's network stack. Installed by `make install-dracut`;
# `dracut -f` builds it in (/etc/dracut.conf.d/s3root.conf adds it).
# shellcheck disable=SC2154 # initdir and moddir are dracut's

# called by dracut
check() {
	# the path `make install-dracut` installed the binary to
	[ -x "@SBINDIR@/s3root" ] || require_binaries s3root || return 1
	return 0
}

# called by dracut
depends() {
	echo network
}

# called by dracut
installkernel() {
	# hostonly (the default on Fedora, RHEL, openSUSE) would drop what the
	# build host has not loaded: nbd and erofs usually
	hostonly="" instmods nbd erofs overlay dm-verity
}

# called by dracut
install() {
	local bin=@SBINDIR@/s3root f
	[ -x "$bin" ] || bin=$(command -v s3root)
	# static: nothing else to copy
	inst_simple "$bin" /usr/sbin/s3root
	# the config file, credentials and CA bundle: the same paths inside
	for f in s3root.conf ca.pem passwd session_token; do
		[ -e "/etc/s3root/$f" ] || continue
		inst_simple "/etc/s3root/$f" "/etc/s3root/$f"
		case $f in
		passwd | session_token) chmod 0600 "$initdir/etc/s3root/$f" ;;
		esac
	done
	inst_hook cmdline 90 "$moddir/parse-s3root.sh"
	inst_hook mount 90 "$moddir/mount-s3root.sh"
	dracut_need_initqueue
}
