/* SPDX-License-Identifier: MIT */
/*
 * cmd_boot.c - `s3root init` (the initramfs's /init) and `s3root
 * mountroot DIR` (for initramfs-tools and dracut); boot/ does the work.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/boot/boot.h"
#include "src/cli/cli.h"

int cmd_init(int argc, char **argv, char **envp)
{
	/* what follows mounts over /dev and /run and ends in switch_root:
	 * never on a running system */
	if (getpid() != 1) {
		if (argc > 1 &&
		    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			printf("usage: s3root init (as PID 1 only)\n"
			       "The initramfs's /init: attaches root=s3:BUCKET/"
			       "KEY from the kernel command line\nand switches "
			       "to it. It runs by itself as PID 1.\n\n");
			opts_print_help(stdout);
			return 0;
		}
		log_err("init: not PID 1: it runs only as an initramfs's "
			"/init");
		return 1;
	}
	return boot_init(argv[0], envp);
}

enum { M_OPT = CLI_OPT, M_NETWORK };

static const struct cli_opt mountroot_opts[] = {
	{"-o", CLI_MANY, M_OPT},
	{"--network", 0, M_NETWORK},
	{NULL, 0, 0},
};

static void mountroot_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root mountroot DIR [SOURCE] [-o OPTS] [--network]\n"
		"For a distribution's initramfs (initramfs-tools, dracut): "
		"attaches SOURCE, or\nroot=s3:BUCKET/KEY of the kernel command "
		"line, as the root filesystem's server\n(marked '@' for "
		"systemd, memory locked, oom_score_adj -1000), copies itself\n"
		"and /etc/s3root to /run/s3root, and mounts the image on DIR "
		"under a tmpfs\noverlay (s3root.overlay=none: read-only). "
		"Options come from the config file,\nthe kernel command line "
		"and -o, in rising order. --network brings the\nnetwork up "
		"first from the kernel command line's ip= (dhcp without one).\n"
		"The initramfs's init must move /run into the new root.\n\n");
	opts_print_help(f);
}

static int mountroot_arg(void *ctx, int id, const char *arg)
{
	struct boot_mount_req *r = ctx;
	char shown[128];

	switch (id) {
	case 0:
		if (r->dir && r->source) {
			log_err("mountroot: unexpected argument '%.100s'",
				source_redact(arg, shown, sizeof(shown)));
			return -1;
		}
		if (!r->dir)
			r->dir = arg;
		else
			r->source = arg;
		return 0;
	case M_OPT:
		if (r->nlists == ATTACH_MAX_LISTS) {
			log_err("mountroot: more than %d -o (join them: -o "
				"KEY=VALUE,KEY=VALUE)",
				ATTACH_MAX_LISTS);
			return -1;
		}
		r->lists[r->nlists++] = arg;
		return 0;
	case M_NETWORK:
		r->network = 1;
		return 0;
	}
	return 0;
}

static const struct cli_spec mountroot_spec = {mountroot_opts, 0,
					       mountroot_usage};

int cmd_mountroot(int argc, char **argv, char **envp)
{
	struct boot_mount_req r = {0};
	struct stat st;
	int s = cli_scan(argc, argv, &mountroot_spec, mountroot_arg, &r);

	if (s)
		return s > 0 ? 0 : 1;
	if (!r.dir) {
		log_err("mountroot: DIR is required (where the root is "
			"mounted)");
		return 1;
	}
	if (stat(r.dir, &st)) {
		log_err("mountroot: %s: %s", r.dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_err("mountroot: %s: not a directory", r.dir);
		return 1;
	}
	return boot_mountroot(&r, envp);
}
