/* SPDX-License-Identifier: MIT */
/*
 * init.c - what s3root does as PID 1 in an initramfs: mount the kernel's
 * filesystems, read the options, load the modules the builder listed,
 * bring the network up, attach root=s3:... as /dev/nbdN, mount it (under
 * a tmpfs overlay by default) and switch_root into it. `mountroot` is the
 * middle of that flow for a distribution's initramfs.
 */
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include "src/boot/internal.h"
#include "util/util.h"

/*
 * When the image must be open by (util_mono_ms; 0: no limit), from
 * s3root.boot_timeout: counted from the kernel's start for the first try
 * (CLOCK_BOOTTIME: the time the kernel and the network took counts), from
 * now for a try after s3root.onfail's action. The root server itself stays
 * hard: the deadline bounds only the opening (shared/DESIGN.md).
 */
static int64_t open_deadline(const struct opts *o, int first)
{
	int64_t left = (int64_t)opts_num(o, OPT_BOOT_TIMEOUT);
	struct timespec up;

	if (!left)
		return 0;
	if (first && !clock_gettime(CLOCK_BOOTTIME, &up))
		left -= (int64_t)up.tv_sec * 1000 + up.tv_nsec / 1000000;
	return util_mono_ms() + (left > 0 ? left : 1);
}

/* After a failed attach: says so when it was the deadline that ended it
 * (the cause that kept failing is in the line before). */
static void say_deadline(const struct boot *b, int64_t by)
{
	if (by && util_mono_ms() >= by)
		log_err("root=%s: not opened within s3root.boot_timeout=%s "
			"(the cause is above)",
			b->shown, opts_str(&b->o, OPT_BOOT_TIMEOUT));
}

/* Attaches and mounts b->source on dir until it works; the attached
 * device in dev. Each failure runs s3root.onfail. */
static void attach_root(struct boot *b, char **envp, const char *dir, char *dev,
			size_t devlen)
{
	int onfail = (int)opts_num(&b->o, OPT_ONFAIL),
	    overlay = opts_num(&b->o, OPT_OVERLAY) == OVERLAY_TMPFS, index;
	int64_t by = open_deadline(&b->o, 1);
	char msg[768];

	for (;;) {
		if (boot_attach(b, envp, by, &index, dev, devlen)) {
			say_deadline(b, by);
			boot_on_failure(onfail);
			by = open_deadline(&b->o, 0);
			continue;
		}
		if (!boot_unverified(&b->o, dev) &&
		    !boot_mount_root(dev, overlay, dir))
			return;
		/* give the device back before trying again */
		umount2(PATH_LOWER, MNT_DETACH);
		if (detach_device(index, msg, sizeof(msg)))
			log_warn("%s", msg);
		boot_on_failure(onfail);
		by = open_deadline(&b->o, 0);
	}
}

int boot_init(const char *self, char **envp)
{
	struct boot b = {0};
	char dev[32];
	const char *init;
	int onfail;

	boot_mount_basics();
	log_to_kmsg(1);
	log_info("s3root %s starting as /init", base_version);
	while (boot_options(&b, NULL, 0, NULL)) {
		/* the options come from the initramfs and the kernel: what
		 * refused them will refuse them again; onfail decides */
		onfail = (int)opts_num(&b.o, OPT_ONFAIL);
		opts_free(&b.o);
		memset(&b, 0, sizeof(b));
		boot_on_failure(onfail);
	}
	onfail = (int)opts_num(&b.o, OPT_ONFAIL);
	boot_env_scrub(&b, envp);
	boot_load_modules(PATH_MODULES);
	if (opts_isset(&b.o, OPT_VERITY))
		boot_load_modules(PATH_MODULES_VERITY);
	boot_fix_clock();
	while (boot_network(&b))
		boot_on_failure(onfail);
	/* first: the root server follows its credentials there */
	boot_keep_tools(self[0] == '/' ? self : "/init");
	attach_root(&b, envp, PATH_NEWROOT, dev, sizeof(dev));
	init = opts_str(&b.o, OPT_INIT);
	log_info("root=%s on %s; starting %s", b.shown, dev, init);
	for (;;) {
		boot_switch_root(init);
		boot_on_failure(onfail);
	}
}

int boot_mountroot(const struct boot_mount_req *r, char **envp)
{
	struct boot b = {0};
	char msg[768], dev[32];
	int index, ret = 1;
	int64_t by;

	if (boot_options(&b, r->lists, r->nlists, r->source))
		goto out;
	boot_env_scrub(&b, envp);
	/* from here on, what happens belongs in the boot's log */
	log_to_kmsg(1);
	if (r->network) {
		if (!b.ip[0])
			snprintf(b.ip, sizeof(b.ip), "dhcp");
		if (boot_network(&b))
			goto out;
	}
	boot_fix_clock();
	/* first: the root server follows its credentials there */
	if (boot_keep_tools("/proc/self/exe"))
		log_warn("mountroot: " PATH_RUN_DIR " is incomplete: list, "
			 "detach and --reattach may not work on the running "
			 "system");
	by = open_deadline(&b.o, 1);
	if (boot_attach(&b, envp, by, &index, dev, sizeof(dev))) {
		say_deadline(&b, by);
		goto out;
	}
	if (boot_unverified(&b.o, dev) ||
	    boot_mount_root(dev, opts_num(&b.o, OPT_OVERLAY) == OVERLAY_TMPFS,
			    r->dir)) {
		if (detach_device(index, msg, sizeof(msg)))
			log_warn("%s", msg);
		goto out;
	}
	log_info("root=%s on %s, mounted on %s", b.shown, dev, r->dir);
	printf("%s on %s\n", dev, r->dir);
	ret = fflush(stdout) ? 1 : 0;
out:
	opts_free(&b.o);
	return ret;
}
