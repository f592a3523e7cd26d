/* SPDX-License-Identifier: MIT */
/* cli.c - scanning a subcommand's arguments; options anywhere. */
#include <string.h>
#include "src/s3root.h"

static const struct cli_opt *cli_find(const struct cli_opt *opts,
				      const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len &&
		    !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

int cli_next(struct cli *c, const struct cli_opt *opts, const char **arg)
{
	const struct cli_opt *o;
	const char *a, *eq, *attached = NULL;
	size_t len;

	if (c->i >= c->argc)
		return -1;
	a = c->argv[c->i++];
	c->name = NULL;
	if (c->only_args || a[0] != '-' || !a[1]) {
		*arg = a;
		return 0;
	}
	if (!strcmp(a, "--")) {
		c->only_args = 1;
		return cli_next(c, opts, arg);
	}
	eq = a[1] == '-' ? strchr(a, '=') : NULL;
	len = eq ? (size_t)(eq - a) : strlen(a);
	o = cli_find(opts, a, len);
	/* short options take their argument attached too: -os3.sig=2 */
	if (!o && a[1] != '-') {
		o = cli_find(opts, a, 2);
		if (o && !o->has_arg)
			o = NULL; /* "-vx" is not -v */
		attached = a + 2;
	}
	if (!o) {
		err("unknown option '%.100s' (see --help)", a);
		return -2;
	}
	c->name = o->name;
	if (o->has_arg == CLI_ONCE && (c->seen >> o->id & 1)) {
		err("option %s given twice (it takes one value)", o->name);
		return -2;
	}
	if (o->has_arg == CLI_ONCE)
		c->seen |= 1ULL << o->id;
	if (!o->has_arg) {
		if (eq) {
			err("option %s takes no value", o->name);
			return -2;
		}
		*arg = NULL;
		return o->id;
	}
	if (attached) {
		*arg = attached;
	} else if (eq) {
		*arg = eq + 1;
	} else if (c->i < c->argc) {
		*arg = c->argv[c->i++];
	} else {
		err("option %s needs a value", o->name);
		return -2;
	}
	return o->id;
}

int cli_common(const struct cli *c, int id, const char *arg,
	       const char **source, struct opts *o)
{
	char msg[512];

	if (id == 0) {
		if (*source) {
			err("%s: one SOURCE only ('%s')", c->argv[0], arg);
			return -1;
		}
		*source = arg;
		return 1;
	}
	if (id != CLI_OPT)
		return 0;
	if (opts_parse_list(o, arg, OPT_SRC_ARG, msg, sizeof(msg))) {
		err("%s", msg);
		return -1;
	}
	return 1;
}
