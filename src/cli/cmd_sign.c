/* SPDX-License-Identifier: MIT */
/*
 * cmd_sign.c - `s3root sign`: print the request head s3root would send,
 * Authorization included, for debugging SignatureDoesNotMatch and for the
 * signer tests. It prints signatures, tokens and an SSE-C key because that
 * is its job (what it prints is what would be sent).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "crypto/sigv4.h"
#include "src/cli/cli.h"
#include "src/s3/s3.h"

#define TRACE_MAX (64 * 1024)
#define SIGN_MAX_HEADER 8192 /* what servers take in one field line */

enum {
	O_OPT = CLI_OPT,
	O_HEADER,
	O_METHOD,
	O_TIME,
	O_PAYLOAD,
	O_VERBOSE,
};

static const struct cli_opt sign_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"-H", CLI_MANY, O_HEADER},
	{"--method", CLI_ONCE, O_METHOD},
	{"--time", CLI_ONCE, O_TIME},
	{"--payload", CLI_ONCE, O_PAYLOAD},
	{"-v", 0, O_VERBOSE},
	{"--verbose", 0, O_VERBOSE},
	{NULL, 0, 0},
};

static void sign_usage(FILE *f)
{
	fprintf(f, "usage: s3root sign SOURCE [--method GET|HEAD] "
		   "[-H 'Name: value']...\n"
		   "                   [--time YYYYMMDDTHHMMSSZ] "
		   "[--payload unsigned|empty] [-v] [-o OPTS]\n"
		   "Prints the request head s3root would send for SOURCE: the "
		   "request line, one\n'Name: value' line per header "
		   "(Authorization included), an empty line.\n"
		   "With -v, the canonical request and the string to sign "
		   "follow (SigV2: the\nstring to sign only).\n\n");
	opts_print_help(f);
}

/*
 * "Name: value" into the two halves; the value's outer spaces dropped. The
 * name is a token, the value has no control characters but tabs (RFC 9110
 * 5.1, 5.5).
 */
static int split_header(char *h, const char **name, const char **value)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~0123456789"
				    "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "abcdefghijklmnopqrstuvwxyz";
	char *colon = strchr(h, ':'), *v, *end, *p;

	if (!colon || colon == h)
		return -1;
	*colon = '\0';
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	end = v + strlen(v);
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	if (strspn(h, tchar) != strlen(h))
		return -1;
	for (p = v; *p; p++)
		if (((unsigned char)*p < ' ' && *p != '\t') || *p == 0x7f)
			return -1;
	*name = h;
	*value = v;
	return 0;
}

/* What sign was asked. */
struct sign_args {
	const char *source;
	struct opts o;
	const char *method;
	const char *payload;
	int64_t time;
	const char *names[SIG_MAX_HEADERS], *values[SIG_MAX_HEADERS];
	char *hcopy[SIG_MAX_HEADERS]; /* -H values, split in place */
	size_t nh;
	int verbose;
};

static int sign_header(struct sign_args *a, const char *arg)
{
	size_t nh = a->nh;

	if (strlen(arg) > SIGN_MAX_HEADER) {
		log_err("sign: header '%.100s...' longer than %d bytes", arg,
			SIGN_MAX_HEADER);
		return -1;
	}
	if (nh == SIG_MAX_HEADERS) {
		log_err("sign: at most %d headers", SIG_MAX_HEADERS);
		return -1;
	}
	a->hcopy[nh] = strdup(arg);
	if (!a->hcopy[nh] ||
	    split_header(a->hcopy[nh], &a->names[nh], &a->values[nh])) {
		log_err("sign: bad header '%.100s' (expected 'Name: value': a "
			"token, then no control characters)",
			arg);
		return -1;
	}
	a->nh++;
	return 0;
}

static int sign_arg(void *ctx, int id, const char *arg)
{
	struct sign_args *a = ctx;
	int r = cli_object_arg("sign", id, arg, &a->source, &a->o);

	if (r)
		return r < 0 ? -1 : 0;
	switch (id) {
	case O_HEADER:
		return sign_header(a, arg);
	case O_METHOD:
		return cli_method_arg("sign", arg, &a->method);
	case O_TIME:
		return cli_time_arg("sign", arg, &a->time);
	case O_PAYLOAD:
		if (!strcmp(arg, "unsigned")) {
			a->payload = SIGV4_UNSIGNED_PAYLOAD;
		} else if (!strcmp(arg, "empty")) {
			a->payload = SIGV4_EMPTY_SHA256;
		} else {
			log_err("sign: --payload is unsigned or empty");
			return -1;
		}
		return 0;
	case O_VERBOSE:
		a->verbose = 1;
		return 0;
	}
	return 0;
}

/* The signed head, and with -v the signed texts. 0 or -1 (logged). */
static int sign_print(struct sign_args *a, const struct s3_target *t,
		      const struct creds *c, const struct s3_extra *x)
{
	const char *names[SIG_MAX_HEADERS + S3_EXTRA_MAX_HEADERS];
	const char *values[SIG_MAX_HEADERS + S3_EXTRA_MAX_HEADERS];
	struct sig_param vid = {"versionId", x->version_id};
	struct sigv4_signer signer = {0};
	struct sig_trace canon = {0}, sts = {0};
	struct s3_req_in in = {
		.method = a->method,
		.target = t,
		.sig = (int)opts_num(&a->o, OPT_SIG),
		.region = opts_str(&a->o, OPT_REGION),
		.creds = c,
		.names = names,
		.values = values,
		.nheaders = a->nh,
		.params = x->version_id[0] ? &vid : NULL,
		.nparams = x->version_id[0] ? 1 : 0,
		.time = a->time,
		.payload = a->payload,
	};
	struct s3_req q;
	char msg[512];
	size_t i;
	int r = -1;

	memcpy(names, a->names, a->nh * sizeof(names[0]));
	memcpy(values, a->values, a->nh * sizeof(values[0]));
	in.nheaders += s3_extra_headers(x, names + a->nh, values + a->nh);
	if (a->verbose) {
		canon.buf = malloc(TRACE_MAX);
		sts.buf = malloc(TRACE_MAX);
		if (!canon.buf || !sts.buf) {
			log_err("out of memory");
			goto out;
		}
		canon.size = sts.size = TRACE_MAX;
		canon.buf[0] = sts.buf[0] = '\0';
	}
	if (s3_req_sign(&q, &in, &signer, &canon, &sts, msg, sizeof(msg))) {
		log_err("sign: %s", msg);
		goto out;
	}
	printf("%s %s HTTP/1.1\n", q.method, q.target);
	for (i = 0; i < q.n; i++)
		printf("%s: %s\n", q.names[i], q.values[i]);
	printf("\n");
	if (a->verbose && c->access_key) {
		if (in.sig == SIG_V4)
			printf("--- canonical request\n%s\n", canon.buf);
		printf("--- string to sign\n%s\n", sts.buf);
	}
	r = fflush(stdout) ? -1 : 0;
	if (r)
		log_err("sign: writing the output failed");
out:
	free(canon.buf);
	free(sts.buf);
	sigv4_signer_wipe(&signer);
	return r;
}

static const struct cli_spec sign_spec = {sign_opts, 0, sign_usage};

int cmd_sign(int argc, char **argv, char **envp)
{
	struct sign_args a = {
		.method = "GET",
		.payload = SIGV4_UNSIGNED_PAYLOAD,
		.time = time(NULL),
	};
	struct source src;
	struct s3_target t;
	struct creds c = {0};
	struct s3_extra x = {0};
	char msg[512];
	size_t i;
	int r;

	r = cli_scan(argc, argv, &sign_spec, sign_arg, &a);
	if (!r && s3_setup(&a.o, a.source, envp, &src, &t, &c))
		r = -1;
	if (!r && s3_extra_load(&x, &a.o, &src, &t, msg, sizeof(msg))) {
		log_err("%s", msg);
		r = -1;
	}
	if (!r) {
		if (!src.plain && !c.access_key)
			log_warn("no credentials: the request is anonymous "
				 "(unsigned)");
		r = sign_print(&a, &t, &c, &x);
	}
	s3_extra_wipe(&x);
	for (i = 0; i < SIG_MAX_HEADERS; i++)
		free(a.hcopy[i]);
	creds_free(&c);
	opts_free(&a.o);
	return r < 0 ? 1 : 0;
}
