/* SPDX-License-Identifier: MIT */
/* setup.c - options, source, target and credentials for a command. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3root.h"

#define CONFIG_PATH "/etc/s3root/s3root.conf"
#define CONFIG_MAX (256 * 1024)

/* The config file ranks lowest; $S3ROOT_CONFIG names another one. */
static int load_config(struct opts *o, char **envp)
{
	const char *path = env_get(envp, "S3ROOT_CONFIG");
	int must = path != NULL;
	char *buf, msg[512];
	size_t len;
	int r;

	if (!path)
		path = CONFIG_PATH;
	r = read_file(path, CONFIG_MAX, &buf, &len);
	if (r == -ENOENT && !must)
		return 0;
	if (r) {
		err("config file %s: %s", path, strerror(-r));
		return -1;
	}
	r = opts_parse_file(o, buf, len, path, msg, sizeof(msg));
	free(buf);
	if (r) {
		err("%s", msg);
		return -1;
	}
	return 0;
}

int setup_object(struct opts *o, const char *source, char **envp,
		 struct source *src, struct s3_target *t, struct creds *c)
{
	char msg[512];

	memset(c, 0, sizeof(*c));
	if (!source) {
		err("no SOURCE given (s3://BUCKET/KEY, BUCKET/KEY or a URL)");
		return -1;
	}
	if (load_config(o, envp))
		return -1;
	if (source_parse(source, src, msg, sizeof(msg)) ||
	    opts_load_env(o, envp, msg, sizeof(msg)) ||
	    opts_finish(o, msg, sizeof(msg)) ||
	    s3_target_init(o, src, t, msg, sizeof(msg))) {
		err("%s", msg);
		return -1;
	}
	if (opts_num(o, OPT_DEBUG))
		log_set_level(LOG_DEBUG);
	if (!src->plain &&
	    creds_load(c, o, envp, src->bucket, msg, sizeof(msg))) {
		err("credentials: %s", msg);
		return -1;
	}
	return 0;
}
