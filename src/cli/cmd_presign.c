/* SPDX-License-Identifier: MIT */
/*
 * cmd_presign.c - `s3root presign`: a SigV4 query-signed (presigned) URL
 * for an object, as botocore's generate_presigned_url makes it, for a
 * machine or a tool that is to read the object without credentials of
 * its own. It prints a bearer secret because that is its job.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "crypto/sigv4.h"
#include "src/cli/cli.h"
#include "src/s3/s3.h"

#define PRESIGN_DEFAULT_EXPIRES 3600 /* botocore's default */

enum {
	O_OPT = CLI_OPT,
	O_EXPIRES,
	O_METHOD,
	O_TIME,
};

static const struct cli_opt presign_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"--expires", CLI_ONCE, O_EXPIRES},
	{"--method", CLI_ONCE, O_METHOD},
	{"--time", CLI_ONCE, O_TIME},
	{NULL, 0, 0},
};

static void presign_usage(FILE *f)
{
	fprintf(f, "usage: s3root presign SOURCE [--expires SECS] "
		   "[--method GET|HEAD]\n"
		   "                      [--time YYYYMMDDTHHMMSSZ] [-o OPTS]\n"
		   "Prints a SigV4 presigned URL for SOURCE (an S3 object), "
		   "valid for SECS\n(1 to 604800, default 3600) from --time "
		   "(default now), for one method\n(default GET). Whoever "
		   "has the URL can read the object until it expires.\n\n");
	opts_print_help(f);
}

/* What presign was asked. */
struct presign_args {
	const char *source;
	struct opts o;
	const char *method;
	unsigned expires;
	int64_t time;
};

static int presign_expires(struct presign_args *a, const char *arg)
{
	char *e;
	unsigned long v;

	if (*arg < '0' || *arg > '9')
		goto bad;
	v = strtoul(arg, &e, 10);
	if (*e || v < 1 || v > SIGV4_MAX_EXPIRES)
		goto bad;
	a->expires = (unsigned)v;
	return 0;
bad:
	log_err("presign: --expires '%.40s' is not 1 to %d seconds (S3's "
		"limit is seven days)",
		arg, SIGV4_MAX_EXPIRES);
	return -1;
}

static int presign_arg(void *ctx, int id, const char *arg)
{
	struct presign_args *a = ctx;
	int r = cli_object_arg("presign", id, arg, &a->source, &a->o);

	if (r)
		return r < 0 ? -1 : 0;
	switch (id) {
	case O_EXPIRES:
		return presign_expires(a, arg);
	case O_METHOD:
		return cli_method_arg("presign", arg, &a->method);
	case O_TIME:
		return cli_time_arg("presign", arg, &a->time);
	}
	return 0;
}

/* The URL on stdout. 0 or -1 (logged). */
static int presign_print(struct presign_args *a, const struct s3_target *t,
			 const struct creds *c, const char *version_id)
{
	struct sigv4_signer signer = {0};
	struct sig_creds sc = {c->access_key, c->secret_key, c->session_token};
	struct sig_param vid = {"versionId", version_id};
	struct sigv4_request r = {
		.method = a->method,
		.host = t->host_header,
		.path = t->url.path,
		.params = *version_id ? &vid : NULL,
		.nparams = *version_id ? 1 : 0,
		.payload_hash = SIGV4_UNSIGNED_PAYLOAD,
		.region = opts_str(&a->o, OPT_REGION),
		.service = "s3",
		.time = a->time,
	};
	char *query = malloc(URL_MAX_PATH);
	int e, ret = -1;

	if (!query) {
		log_err("out of memory");
		return -1;
	}
	e = sigv4_presign(&signer, &r, &sc, a->expires, query, URL_MAX_PATH,
			  NULL, NULL);
	if (e) {
		log_err("presign: %s",
			e == -ENOSPC
				? "the URL would be too long"
				: "cannot sign (a bad access key or time)");
		goto out;
	}
	printf("%s://%s%s?%s\n", t->url.tls ? "https" : "http", t->host_header,
	       t->url.path, query);
	ret = fflush(stdout) ? -1 : 0;
	if (ret)
		log_err("presign: writing the output failed");
out:
	crypto_wipe(query, URL_MAX_PATH);
	free(query);
	sigv4_signer_wipe(&signer);
	return ret;
}

static const struct cli_spec presign_spec = {presign_opts, 0, presign_usage};

int cmd_presign(int argc, char **argv, char **envp)
{
	struct presign_args a = {
		.method = "GET",
		.expires = PRESIGN_DEFAULT_EXPIRES,
		.time = time(NULL),
	};
	struct source src;
	struct s3_target t;
	struct creds c = {0};
	struct s3_extra x = {0};
	char msg[512];
	int r;

	r = cli_scan(argc, argv, &presign_spec, presign_arg, &a);
	if (r > 0) {
		opts_free(&a.o);
		return 0;
	}
	if (!r && s3_setup(&a.o, a.source, envp, &src, &t, &c))
		r = -1;
	if (!r && src.plain) {
		log_err("presign: SOURCE is a URL already; presign takes "
			"s3://BUCKET/KEY or BUCKET/KEY");
		r = -1;
	}
	if (!r && !c.access_key) {
		log_err("presign: no credentials to sign with "
			"(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
			"s3.passwd_file)");
		r = -1;
	}
	if (!r && opts_num(&a.o, OPT_SIG) != SIG_V4) {
		log_err("presign: makes SigV4 URLs only (drop s3.sig=2)");
		r = -1;
	}
	if (!r && s3_extra_load(&x, &a.o, &src, &t, msg, sizeof(msg))) {
		log_err("%s", msg);
		r = -1;
	}
	/* a URL carries its query alone: headers its reader would have to
	 * send (and s3root, reading a URL, does not) cannot be part of it */
	if (!r && (x.request_payer || x.expected_owner[0] || x.ssec_key[0])) {
		log_err("presign: s3.request_payer, s3.expected_owner and "
			"s3.sse_c_key_file are headers a presigned URL cannot "
			"carry; only s3.version_id goes into it");
		r = -1;
	}
	if (!r)
		r = presign_print(&a, &t, &c, x.version_id);
	s3_extra_wipe(&x);
	creds_free(&c);
	opts_free(&a.o);
	return r < 0 ? 1 : 0;
}
