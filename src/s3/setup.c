/* SPDX-License-Identifier: MIT */
/* setup.c - options, source, target and credentials for a command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3/s3.h"

int s3_setup(struct opts *o, const char *source, char **envp,
	     struct source *src, struct s3_target *t, struct creds *c)
{
	char msg[512];

	memset(c, 0, sizeof(*c));
	if (!source) {
		log_err("no SOURCE given (s3://BUCKET/KEY, BUCKET/KEY or a "
			"URL)");
		return -1;
	}
	if (opts_load_config(o, envp, msg, sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	if (source_parse(source, src, msg, sizeof(msg)) ||
	    opts_load_env(o, envp, msg, sizeof(msg)) ||
	    (!src->plain && awsconf_apply_opts(o, envp, msg, sizeof(msg))) ||
	    opts_finish(o, msg, sizeof(msg)) ||
	    s3_target_init(o, src, t, msg, sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	if (opts_num(o, OPT_DEBUG))
		log_set_level(LOG_DEBUG);
	if (!src->plain &&
	    creds_load(c, o, envp, src->bucket, msg, sizeof(msg))) {
		log_err("credentials: %s", msg);
		return -1;
	}
	return 0;
}
