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
#include "src/boot/internal.h"

/* Attaches and mounts b->source on dir until it works; the attached
 * device in dev. Each failure runs s3root.onfail. */
static void attach_root(struct boot *b, char **envp, const char *dir, char *dev,
			size_t devlen)
{
	int onfail = (int)opts_num(&b->o, OPT_ONFAIL),
	    overlay = opts_num(&b->o, OPT_OVERLAY) == OVERLAY_TMPFS, index;
	char msg[768];

	for (;;) {
		if (boot_attach(b, envp, &index, dev, devlen)) {
			boot_on_failure(onfail);
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
	log_info("root=%s on %s; starting %s", b.source, dev, init);
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

	if (boot_options(&b, r->lists, r->nlists, r->source))
		goto out;
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
	if (boot_attach(&b, envp, &index, dev, sizeof(dev)))
		goto out;
	if (boot_unverified(&b.o, dev) ||
	    boot_mount_root(dev, opts_num(&b.o, OPT_OVERLAY) == OVERLAY_TMPFS,
			    r->dir)) {
		if (detach_device(index, msg, sizeof(msg)))
			log_warn("%s", msg);
		goto out;
	}
	log_info("root=%s on %s, mounted on %s", b.source, dev, r->dir);
	printf("%s on %s\n", dev, r->dir);
	ret = fflush(stdout) ? 1 : 0;
out:
	opts_free(&b.o);
	return ret;
}
