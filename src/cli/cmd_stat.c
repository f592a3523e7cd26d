/* SPDX-License-Identifier: MIT */
/* cmd_stat.c - `s3root stat`: what the object is (size, ETag, version). */
#include <inttypes.h>
#include <stdio.h>
#include "src/cli/cli.h"
#include "src/s3/s3.h"

static void stat_usage(FILE *f)
{
	fprintf(f, "usage: s3root stat SOURCE [--json] [-o OPTS]\n"
		   "Prints the object's size, ETag, version id, last "
		   "modification and region.\n\n");
	opts_print_help(f);
}

static const struct cli_spec stat_spec = {
	cli_object_opts, CLI_BIT(CLI_OPT) | CLI_BIT(CLI_OBJ_JSON), stat_usage};

static int stat_arg(void *ctx, int id, const char *arg)
{
	(void)arg;
	if (id == CLI_OBJ_JSON)
		*(int *)ctx = 1;
	return 0;
}

int cmd_stat(int argc, char **argv, char **envp)
{
	struct cli_object co;
	const struct object_info *in;
	static const char *const keys[] = {"name",	   "etag",
					   "version-id",   "last-modified",
					   "content-type", "region"};
	const char *vals[6];
	int r, i, json = 0;

	r = cli_open_object(argc, argv, envp, &stat_spec, stat_arg, &json, &co);
	if (r)
		return r > 0 ? 0 : 1;
	in = object_info(co.ob);
	vals[0] = in->name;
	vals[1] = in->etag;
	vals[2] = in->version_id;
	vals[3] = in->last_modified;
	vals[4] = in->content_type;
	vals[5] = in->region;
	if (json) {
		printf("{\"size\": %" PRIu64, in->size);
		for (i = 0; i < 6; i++) {
			printf(", ");
			io_json_str(stdout, keys[i]);
			printf(": ");
			io_json_str(stdout, vals[i]);
		}
		printf("}\n");
	} else {
		printf("size: %" PRIu64 "\n", in->size);
		for (i = 0; i < 6; i++)
			printf("%s: %s\n", keys[i], vals[i]);
	}
	cli_close_object(&co);
	return fflush(stdout) ? 1 : 0;
}
