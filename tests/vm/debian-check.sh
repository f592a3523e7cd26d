# shellcheck shell=bash
# tests/vm/debian-check.sh - what the host checks in the console of a boot
# of the image tests/vm/debian-check.prepare makes (sourced by the tests
# after tests/sh/functions.sh): multi-user reached, the guest's checks
# passed, the root server outlived systemd's final kill and still
# answered, a clean power-off and no sign of a lost root.

# debian_check_image: the kernel and the image of
# tests/vm/debian-check.prepare (built once, into $DEBIAN_IMAGE), or the
# test fails saying which is missing.
debian_check_image() {
	vm_requires
	vm_kernel || fail "cannot fetch Debian's kernel (apt-get download)"
	debian_image "$TOP/tests/vm/debian-check.prepare" ||
		fail "cannot build the Debian root (debootstrap from $(debian_mirror))"
}

# debian_check_console CONSOLE_LOG [CHECKS [EXPECTED]]: fails the test if
# any of it is missing (CHECKS: the "CHECK ok" lines wanted, 6 by default;
# EXPECTED: an ERE of kernel lines the test caused on purpose, such as a
# killed root server's socket, not taken for a lost root)
debian_check_console() {
	local con=$1 want=${2:-6} expected=${3:-^$} lost
	grep -aq "S3ROOT-TEST: multi-user.target reached" "$con" ||
		fail "multi-user.target not reached"
	! grep -aq "CHECK FAILED" "$con" || fail "checks failed in the guest"
	[ "$(grep -ac 'CHECK ok' "$con")" -eq "$want" ] ||
		fail "$want checks expected"
	grep -aq "S3ROOT-TEST: at poweroff: root server [0-9]*: [SR] (" "$con" ||
		fail "the root server did not outlive systemd's final kill"
	grep -aq "S3ROOT-TEST: at poweroff: device read ok" "$con" ||
		fail "the root server did not answer at the end"
	grep -aq "reboot: Power down" "$con" ||
		{ tr -d '\033' <"$con" | tail -n 20; fail "no clean power-off"; }
	# what a lost root looks like: the kernel giving up on the device's
	# sockets (a server killed, or stopped while it held them by ioctl), I/O
	# errors, systemd failing to stop, unmount or remount something
	lost='nbd0?: .*(shutting down sockets|timed out|Dead connection)'
	lost="$lost|nbd0?: Receive control|I/O error|Kernel panic|[Ff]reezing"
	lost="$lost|Watchdog|Failed to (start|stop|remount|unmount)"
	lost="$lost|Failed (unmounting|remounting)"
	! grep -aE "$lost" "$con" | grep -avE "$expected" | tr -d '\033' |
		grep . ||
		fail "signs of a lost root in the console (above)"
}
