/* SPDX-License-Identifier: MIT */
/* args.c - scanning a command's arguments; options anywhere. */
#include <stdio.h>
#include <string.h>
#include "crypto/sigv4.h"
#include "src/cli/cli.h"

#define HELP 64 /* beyond every table's ids (1 to 63) */

/* -h and --help, which every command takes. */
static const struct cli_opt help_opts[] = {
	{"-h", 0, HELP},
	{"--help", 0, HELP},
	{NULL, 0, 0},
};

struct cli {
	int argc;
	char **argv;
	int i;
	int only_args; /* after "--" */
	uint64_t seen; /* bit id: a CLI_ONCE option was given */
};

static const struct cli_opt *cli_find(const struct cli_opt *opts,
				      const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len &&
		    !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

/* The option a names (a table's, or help), its value attached or after
 * '=' in *attached; NULL if there is none. */
static const struct cli_opt *cli_lookup(const struct cli_opt *opts,
					const char *a, const char **attached)
{
	const char *eq = a[1] == '-' ? strchr(a, '=') : NULL;
	size_t len = eq ? (size_t)(eq - a) : strlen(a);
	const struct cli_opt *o = cli_find(help_opts, a, len);

	*attached = eq ? eq + 1 : NULL;
	if (!o)
		o = cli_find(opts, a, len);
	/* short options take their argument attached too: -os3.sig=2 */
	if (!o && a[1] != '-') {
		o = cli_find(opts, a, 2);
		if (o && !o->has_arg)
			o = NULL; /* "-vx" is not -v */
		*attached = a + 2;
	}
	return o;
}

/*
 * The next option's id with its value in *arg, 0 for a positional argument
 * (in *arg), -1 at the end, or -2 after logging an error. *name is the
 * option's name.
 */
static int cli_next(struct cli *c, const struct cli_opt *opts, const char **arg,
		    const char **name)
{
	const struct cli_opt *o;
	const char *a, *attached;

	if (c->i >= c->argc)
		return -1;
	a = c->argv[c->i++];
	if (c->only_args || a[0] != '-' || !a[1]) {
		*arg = a;
		return 0;
	}
	if (!strcmp(a, "--")) {
		c->only_args = 1;
		return cli_next(c, opts, arg, name);
	}
	o = cli_lookup(opts, a, &attached);
	if (!o) {
		log_err("unknown option '%.100s' (see --help)", a);
		return -2;
	}
	*name = o->name;
	if (o->has_arg == CLI_ONCE && (c->seen >> o->id & 1)) {
		log_err("option %s given twice (it takes one value)", o->name);
		return -2;
	}
	if (o->has_arg == CLI_ONCE)
		c->seen |= 1ULL << o->id;
	if (!o->has_arg && attached) {
		log_err("option %s takes no value", o->name);
		return -2;
	}
	if (!o->has_arg)
		*arg = NULL;
	else if (attached)
		*arg = attached;
	else if (c->i < c->argc)
		*arg = c->argv[c->i++];
	else {
		log_err("option %s needs a value", o->name);
		return -2;
	}
	return o->id;
}

int cli_scan(int argc, char **argv, const struct cli_spec *spec, cli_arg_fn fn,
	     void *ctx)
{
	struct cli c = {.argc = argc, .argv = argv, .i = 1};
	const char *arg, *name = NULL;
	int id;

	while ((id = cli_next(&c, spec->opts, &arg, &name)) != -1) {
		if (id == -2)
			return -1;
		if (id == HELP) {
			spec->usage(stdout);
			return 1;
		}
		if (id && spec->allowed && !(spec->allowed >> id & 1)) {
			log_err("%s: option %s is not for this command",
				argv[0], name);
			return -1;
		}
		if (fn(ctx, id, arg))
			return -1;
	}
	return 0;
}

int cli_object_arg(const char *cmd, int id, const char *arg,
		   const char **source, struct opts *o)
{
	char msg[512];

	if (id == 0) {
		if (*source) {
			log_err("%s: one SOURCE only ('%s')", cmd,
				source_redact(arg, msg, sizeof(msg)));
			return -1;
		}
		*source = arg;
		return 1;
	}
	if (id != CLI_OPT)
		return 0;
	if (opts_parse_list(o, arg, OPT_SRC_ARG, msg, sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	return 1;
}

int cli_method_arg(const char *cmd, const char *arg, const char **method)
{
	if (strcmp(arg, "GET") && strcmp(arg, "HEAD")) {
		log_err("%s: --method is GET or HEAD", cmd);
		return -1;
	}
	*method = arg;
	return 0;
}

int cli_time_arg(const char *cmd, const char *arg, int64_t *t)
{
	if (sig_parse_amz_date(arg, t)) {
		log_err("%s: --time '%.40s' is not YYYYMMDDTHHMMSSZ", cmd, arg);
		return -1;
	}
	return 0;
}
