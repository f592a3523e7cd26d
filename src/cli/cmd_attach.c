/* SPDX-License-Identifier: MIT */
/*
 * cmd_attach.c - `s3root attach|mount|detach|list`: objects as /dev/nbdN
 * on a running system (the work is attach/'s).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include "src/attach/attach.h"
#include "src/cli/cli.h"

enum { O_OPT = CLI_OPT, O_DEVICE, O_REATTACH, O_VERBOSE, O_JSON };

/* attach's, mount's, detach's and list's: each refuses the others' */
static const struct cli_opt attach_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"--device", CLI_ONCE, O_DEVICE},
	{"--reattach", CLI_ONCE, O_REATTACH},
	{"-v", 0, O_VERBOSE},
	{"--json", 0, O_JSON},
	{NULL, 0, 0},
};

/* The arguments of attach, mount, detach and list (each table allows its
 * own options); the first positional argument is SOURCE or the device. */
struct attach_args {
	const char *cmd;
	int positional; /* how many it takes */
	int npos;
	struct attach_req req;
	const char *dir; /* mount */
	int json;
	int verbose; /* list -v: live figures */
};

static int attach_arg(void *ctx, int id, const char *arg)
{
	struct attach_args *a = ctx;
	char shown[128];

	switch (id) {
	case 0:
		if (a->npos == a->positional) {
			log_err("%s: unexpected argument '%.100s'", a->cmd,
				source_redact(arg, shown, sizeof(shown)));
			return -1;
		}
		if (a->npos++ == 0)
			a->req.source = arg;
		else
			a->dir = arg;
		return 0;
	case O_OPT:
		if (a->req.nlists == ATTACH_MAX_LISTS) {
			log_err("%s: more than %d -o (join them: -o "
				"KEY=VALUE,KEY=VALUE)",
				a->cmd, ATTACH_MAX_LISTS);
			return -1;
		}
		a->req.lists[a->req.nlists++] = arg;
		return 0;
	case O_DEVICE:
		a->req.device = arg;
		return 0;
	case O_REATTACH:
		a->req.reattach = arg;
		return 0;
	case O_JSON:
		a->json = 1;
		return 0;
	case O_VERBOSE:
		a->verbose = 1;
		return 0;
	}
	return 0;
}

/* 0 with a filled, or 1 (help) or -1 (logged): the caller's exit status is
 * then r > 0 ? 0 : 1. */
static int scan(int argc, char **argv, struct attach_args *a, int positional,
		uint64_t allowed, void (*usage)(FILE *f))
{
	struct cli_spec spec = {attach_opts, allowed, usage};

	memset(a, 0, sizeof(*a));
	a->cmd = argv[0];
	a->positional = positional;
	return cli_scan(argc, argv, &spec, attach_arg, a);
}

static void attach_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root attach SOURCE [--device /dev/nbdN] [-o OPTS]\n"
		"       s3root attach --reattach /dev/nbdN\n"
		"Attaches the object (an EROFS image) as a read-only "
		"/dev/nbdN served by a daemon,\nand prints the device. "
		"--reattach starts a new server for an attached device.\n"
		"With -o s3root.verity=ROOT_HASH,s3root.verity_offset=N it "
		"prints the dm-verity\ndevice over it (/dev/dm-N); detach "
		"/dev/nbdN removes both.\n\n");
	opts_print_help(f);
}

int cmd_attach(int argc, char **argv, char **envp)
{
	struct attach_args a;
	int r = scan(argc, argv, &a, 1,
		     CLI_BIT(O_OPT) | CLI_BIT(O_DEVICE) | CLI_BIT(O_REATTACH),
		     attach_usage),
	    index;

	if (r)
		return r > 0 ? 0 : 1;
	if (!a.req.reattach && !a.req.source) {
		log_err("attach: SOURCE or --reattach /dev/nbdN is required");
		return 1;
	}
	if (a.req.reattach && (a.req.source || a.req.device || a.req.nlists)) {
		log_err("attach: --reattach takes no SOURCE, --device or -o "
			"(the state file has them)");
		return 1;
	}
	if (attach_run(&a.req, envp, &index))
		return 1;
	printf("%s\n", a.req.dev);
	return fflush(stdout) ? 1 : 0;
}

static void mount_usage(FILE *f)
{
	fprintf(f, "usage: s3root mount SOURCE DIR [-o OPTS]\n"
		   "Attaches the object and mounts it read-only as EROFS on "
		   "DIR (from the\ndm-verity device over it with -o "
		   "s3root.verity=...).\n\n");
	opts_print_help(f);
}

int cmd_mount(int argc, char **argv, char **envp)
{
	struct attach_args a;
	char msg[768];
	int r = scan(argc, argv, &a, 2, CLI_BIT(O_OPT), mount_usage), index;

	if (r)
		return r > 0 ? 0 : 1;
	if (!a.req.source || !a.dir) {
		log_err("mount: SOURCE and DIR are required");
		return 1;
	}
	if (attach_run(&a.req, envp, &index))
		return 1;
	if (mount(a.req.dev, a.dir, "erofs", MS_RDONLY, NULL)) {
		r = errno;
		log_err("mount %s on %s: %s", a.req.dev, a.dir, strerror(r));
		if (detach_device(index, msg, sizeof(msg)))
			log_err("%s", msg);
		return 1;
	}
	printf("%s on %s\n", a.req.dev, a.dir);
	return 0;
}

static void detach_usage(FILE *f)
{
	fprintf(f, "usage: s3root detach /dev/nbdN\n"
		   "Disconnects the device; its server exits.\n");
}

int cmd_detach(int argc, char **argv, char **envp)
{
	struct attach_args a;
	char msg[768];
	int r = scan(argc, argv, &a, 1, CLI_BIT(0), detach_usage), index;

	(void)envp;
	if (r)
		return r > 0 ? 0 : 1;
	index = a.req.source ? attach_device_index(a.req.source) : -1;
	if (index < 0) {
		if (a.req.source)
			log_err("detach: '%.100s' is not /dev/nbdN",
				source_redact(a.req.source, msg, sizeof(msg)));
		else
			log_err("detach: /dev/nbdN is required");
		return 1;
	}
	if (detach_device(index, msg, sizeof(msg))) {
		log_err("%s", msg);
		return 1;
	}
	return 0;
}

static void list_usage(FILE *f)
{
	fprintf(f, "usage: s3root list [-v] [--json]\n"
		   "Lists the NBD devices the kernel has connected, with the "
		   "object each serves;\n"
		   "-v adds each server's live figures (cache, fetches, "
		   "latency, retries).\n");
}

/* What list shows of one connected device. */
struct list_item {
	int index;
	int known; /* it has a state file */
	struct attach_state st;
	int alive;	  /* its server runs */
	int verity, tree; /* a dm-verity device over it; its tree's index */
	char dm[32], name[32];
	int live;	    /* figures came */
	char figures[4096]; /* text lines, or a JSON object */
};

static void list_gather(struct list_item *it, int index, int verbose, int json)
{
	char uuid[160];

	memset(it, 0, sizeof(*it));
	it->index = index;
	it->known = !attach_state_read(index, &it->st);
	it->alive = it->known && it->st.pid > 0 && !kill(it->st.pid, 0);
	dm_name_for(index, it->name, sizeof(it->name));
	it->verity =
		!dm_find(it->name, it->dm, sizeof(it->dm), uuid, sizeof(uuid));
	it->tree = it->verity ? attach_tree_index(uuid) : -1;
	it->live = verbose && it->alive &&
		   !attach_figures_fetch(index, json, it->figures,
					 sizeof(it->figures));
}

static void list_json(const struct list_item *it, int first)
{
	printf("%s{\"device\": \"/dev/nbd%d\", \"source\": ", first ? "" : ", ",
	       it->index);
	io_json_str(stdout, it->known ? it->st.source : "");
	printf(", \"pid\": %d, \"server\": \"%s\"", it->known ? it->st.pid : 0,
	       it->alive ? "running" : "gone");
	if (it->verity)
		printf(", \"verity\": \"%s\"", it->dm);
	if (it->verity && it->tree >= 0)
		printf(", \"verity_tree\": \"/dev/nbd%d\"", it->tree);
	if (it->live)
		printf(", \"figures\": %s", it->figures);
	printf("}");
}

/* A string from a file or a socket, for the terminal: no control
 * characters or escapes. */
static void put_clean(const char *s)
{
	for (; *s; s++)
		putchar((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f
				? '?'
				: *s);
}

static void list_text(const struct list_item *it)
{
	const char *line, *next;

	printf("/dev/nbd%d  ", it->index);
	put_clean(it->known ? it->st.source : "(not attached by s3root)");
	printf("  pid %d%s\n", it->known ? it->st.pid : 0,
	       it->alive ? "" : " (server gone)");
	if (it->verity && it->tree >= 0)
		printf("    verity: %s (%s), tree on /dev/nbd%d\n", it->dm,
		       it->name, it->tree);
	else if (it->verity)
		printf("    verity: %s (%s)\n", it->dm, it->name);
	for (line = it->live ? it->figures : NULL; line && *line; line = next) {
		next = strchr(line, '\n');
		printf("    %.*s\n",
		       (int)(next ? next - line : (ptrdiff_t)strlen(line)),
		       line);
		next = next ? next + 1 : NULL;
	}
}

int cmd_list(int argc, char **argv, char **envp)
{
	static struct list_item it; /* large: not on the stack */
	struct kdev_status devs[256];
	struct attach_args a;
	size_t n = 0, i;
	char msg[512];
	int r = scan(argc, argv, &a, 0, CLI_BIT(O_VERBOSE) | CLI_BIT(O_JSON),
		     list_usage),
	    first = 1;

	(void)envp;
	if (r)
		return r > 0 ? 0 : 1;
	if (kernel_status(devs, 256, &n, msg, sizeof(msg))) {
		log_err("list: %s", msg);
		return 1;
	}
	if (a.json)
		printf("[");
	for (i = 0; i < n; i++) {
		if (!devs[i].connected)
			continue;
		list_gather(&it, devs[i].index, a.verbose, a.json);
		if (a.json)
			list_json(&it, first);
		else
			list_text(&it);
		first = 0;
	}
	if (a.json)
		printf("]\n");
	return fflush(stdout) ? 1 : 0;
}
