/* SPDX-License-Identifier: MIT */
/*
 * boot.h - booting from an object: s3root as an initramfs's /init, and
 * `mountroot` for a distribution's initramfs (initramfs-tools, dracut),
 * whose own init does the rest. Exports: boot_*.
 */
#ifndef S3ROOT_BOOT_H
#define S3ROOT_BOOT_H

#include "src/attach/attach.h"

/*
 * The /init flow, as PID 1 only: the kernel's filesystems, the options
 * (boot_options), modules, the network, the root server, the root mounted
 * under an overlay, switch_root to s3root.init. self is argv[0] (the
 * binary to keep in /run/s3root). Failures go to s3root.onfail (retry,
 * shell or reboot); returns only when the switch itself cannot be made
 * again and again, never on success.
 */
int boot_init(const char *self, char **envp);

/* What mountroot was asked (its command line, scanned by cli/). */
struct boot_mount_req {
	const char *dir;    /* where the root goes, an existing directory */
	const char *source; /* or NULL: root= of the kernel command line */
	const char *lists[ATTACH_MAX_LISTS]; /* -o lists, rising precedence */
	int nlists;
	int network; /* bring the network up from ip= first */
};

/*
 * The middle of /init for another initramfs: the same options, the root
 * server (kept in /run/s3root), the root mounted on r->dir. Prints
 * "DEV on DIR". Returns 0, or 1 after logging why.
 */
int boot_mountroot(const struct boot_mount_req *r, char **envp);

#endif
