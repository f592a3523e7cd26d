#!/bin/sh
# dracut mount hook (sourced, perhaps several times until $NEWROOT is
# mounted): `s3root mountroot` attaches the image, starts its server as a
# root storage daemon (argv[0] '@', memory locked; it and /etc/s3root are
# copied to /run/s3root) and mounts it on $NEWROOT under a tmpfs overlay.
# switch_root moves /run into the new root; the server keeps running, and
# systemd spares it at shutdown.

[ -z "$root" ] && root=$(getarg root=)
case $root in
s3:* | http://* | https://*) ;;
*) return 0 ;;
esac
ismounted "$NEWROOT" && return 0

info "s3root: mounting root=$root on $NEWROOT"
/usr/sbin/s3root mountroot "$NEWROOT" "$root" ||
	warn "s3root could not mount root=$root"
