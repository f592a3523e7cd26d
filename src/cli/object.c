/* SPDX-License-Identifier: MIT */
/*
 * object.c - the arguments of a command that reads one object (SOURCE,
 * -o and the command's own), and the object opened from them.
 */
#include <string.h>
#include "src/cli/cli.h"

const struct cli_opt cli_object_opts[] = {
	{"-o", CLI_MANY, CLI_OPT},
	{"--json", 0, CLI_OBJ_JSON},
	{"--range", CLI_ONCE, CLI_OBJ_RANGE},
	{"--output", CLI_ONCE, CLI_OBJ_OUTPUT},
	{NULL, 0, 0},
};

struct object_scan {
	const char *cmd;
	struct cli_object *co;
	cli_arg_fn fn;
	void *ctx;
};

static int object_arg(void *ctx, int id, const char *arg)
{
	struct object_scan *s = ctx;
	int r = cli_object_arg(s->cmd, id, arg, &s->co->source, &s->co->o);

	if (r)
		return r < 0 ? -1 : 0;
	return s->fn ? s->fn(s->ctx, id, arg) : 0;
}

int cli_open_object(int argc, char **argv, char **envp,
		    const struct cli_spec *spec, cli_arg_fn fn, void *ctx,
		    struct cli_object *co)
{
	struct object_scan s = {argv[0], co, fn, ctx};
	struct source src;
	struct s3_target t;
	struct creds c;
	char msg[1024];
	int r;

	memset(co, 0, sizeof(*co));
	r = cli_scan(argc, argv, spec, object_arg, &s);
	if (r)
		goto out;
	r = -1;
	/* a one-off command should not hang forever on a dead server */
	if (!opts_isset(&co->o, OPT_IO_TIMEOUT) &&
	    opts_set(&co->o, "s3.io_timeout", "120s", OPT_SRC_NONE, msg,
		     sizeof(msg)))
		goto out;
	if (s3_setup(&co->o, co->source, envp, &src, &t, &c))
		goto out;
	r = object_open(&co->ob, &co->o, &src, &t, &c, envp, msg, sizeof(msg));
	creds_free(&c);
	if (r) {
		log_err("%s", msg);
		r = -1;
	}
out:
	if (r)
		cli_close_object(co);
	return r;
}

void cli_close_object(struct cli_object *co)
{
	object_close(co->ob);
	co->ob = NULL;
	opts_free(&co->o);
}
