#!/bin/sh
# dracut cmdline hook (sourced): claims root=s3:BUCKET/KEY (or an http(s)
# URL) for mount-s3root.sh and asks dracut for its network (rd.neednet=1:
# ip= as given, or DHCP), which the initqueue waits for before the mount
# hooks run.

[ -z "$root" ] && root=$(getarg root=)
case $root in
s3:* | http://* | https://*) ;;
*) return 0 ;;
esac

# shellcheck disable=SC2034
rootok=1
if ! getargbool 0 rd.neednet; then
	echo "rd.neednet=1" >/etc/cmdline.d/90s3root.conf
fi
modprobe -q nbd
modprobe -q erofs
modprobe -q overlay
# for s3root.verity (cheap when unused; no grep needed)
modprobe -q dm-verity
