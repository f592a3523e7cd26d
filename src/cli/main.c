/* SPDX-License-Identifier: MIT */
/*
 * main.c - s3root: boot Linux from an EROFS image in S3. Subcommands are a
 * table of {name, function, help}, as in wireguard-tools' wg.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "src/cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, char **envp);
	const char *help;
} commands[] = {
	{"stat", cmd_stat, "size, ETag, version and region of an object"},
	{"get", cmd_get, "download an object or a range of it"},
	{"serve", cmd_serve, "serve an object as a read-only NBD export"},
	{"attach", cmd_attach, "attach an object as /dev/nbdN"},
	{"detach", cmd_detach, "detach /dev/nbdN"},
	{"mount", cmd_mount, "attach an object and mount it (EROFS)"},
	{"list", cmd_list, "list attached devices"},
	{"init", cmd_init, "the initramfs /init flow (automatic as PID 1)"},
	{"mountroot", cmd_mountroot,
	 "mount root=s3:... on a directory (initramfs-tools, dracut)"},
	{"sign", cmd_sign, "print the signed request head for an object"},
	{"presign", cmd_presign, "print a presigned URL for an object"},
	{"trace", cmd_trace, "stop, save or check a boot trace"},
	{"verity-format", cmd_verity_format,
	 "write the dm-verity hash tree of an image"},
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: s3root COMMAND [ARGS] (COMMAND --help for more)\n"
		   "Boots Linux from an EROFS image in S3 (root=s3:BUCKET/KEY)."
		   "\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n  --version  print the version\n");
}

/*
 * A presigned URL's query is a bearer secret, and /proc/PID/cmdline is
 * readable by every user: each argument that holds one is copied for
 * ours, and the query is blanked where ps and others read it.
 */
static void hide_presigned(int argc, char **argv)
{
	char shown[512], *copy, *q;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strstr(argv[i], "://") ||
		    !strcmp(source_redact(argv[i], shown, sizeof(shown)),
			    argv[i]))
			continue;
		copy = strdup(argv[i]);
		if (!copy)
			continue;
		for (q = strchr(argv[i], '?'); q && *q; q++)
			*q = *q == ',' ? ',' : 'x';
		argv[i] = copy;
	}
}

int main(int argc, char **argv, char **envp)
{
	size_t i;

	hide_presigned(argc, argv);
	base_argv = argv;
	/* the kernel starts us as /init in an initramfs */
	if (getpid() == 1)
		return cmd_init(argc, argv, envp);
	if (argc < 2) {
		log_err("no command given (s3root --help lists them)");
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	/* not listed: what the manual page's option list is made from */
	if (!strcmp(argv[1], "help-options")) {
		if (argc > 2 && !strcmp(argv[2], "--man"))
			opts_print_man(stdout);
		else
			opts_print_help(stdout);
		return fflush(stdout) ? 1 : 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("s3root %s\n", base_version);
		return 0;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1, envp);
	log_err("unknown command '%s' (see s3root --help)", argv[1]);
	return 2;
}
