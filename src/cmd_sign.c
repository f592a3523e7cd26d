/* SPDX-License-Identifier: MIT */
/*
 * cmd_sign.c - `s3root sign`: print the request head s3root would send,
 * Authorization included, for debugging SignatureDoesNotMatch and for the
 * signer tests. It prints signatures and tokens because that is its job.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "crypto/sigv4.h"
#include "src/s3root.h"

#define TRACE_MAX (64 * 1024)
#define SIGN_MAX_HEADER 8192 /* what servers take in one field line */

enum {
	O_OPT = CLI_OPT,
	O_HEADER,
	O_METHOD,
	O_TIME,
	O_PAYLOAD,
	O_VERBOSE,
	O_HELP
};

static const struct cli_opt sign_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"-H", CLI_MANY, O_HEADER},
	{"--method", CLI_ONCE, O_METHOD},
	{"--time", CLI_ONCE, O_TIME},
	{"--payload", CLI_ONCE, O_PAYLOAD},
	{"-v", 0, O_VERBOSE},
	{"--verbose", 0, O_VERBOSE},
	{"-h", 0, O_HELP},
	{"--help", 0, O_HELP},
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

int cmd_sign(int argc, char **argv, char **envp)
{
	struct cli cl = {.argc = argc, .argv = argv, .i = 1};
	const char *names[SIG_MAX_HEADERS], *values[SIG_MAX_HEADERS];
	const char *arg, *source = NULL, *method = "GET";
	const char *payload = SIGV4_UNSIGNED_PAYLOAD;
	char *hcopy[SIG_MAX_HEADERS] = {0}, msg[512];
	struct sigv4_signer signer = {0};
	struct sig_trace canon = {0}, sts = {0};
	struct opts o = {0};
	struct source src;
	struct s3_target t;
	struct creds c = {0};
	struct s3_req_in in;
	struct s3_req q;
	size_t nh = 0, i;
	int64_t now = time(NULL);
	int id, verbose = 0, ret = 1, r;

	while ((id = cli_next(&cl, sign_opts, &arg)) != -1) {
		r = cli_common(&cl, id, arg, &source, &o);
		if (r < 0)
			goto out;
		if (r)
			continue;
		switch (id) {
		case -2:
			goto out;
		case O_HEADER:
			if (strlen(arg) > SIGN_MAX_HEADER) {
				err("sign: header '%.100s...' longer than %d "
				    "bytes",
				    arg, SIGN_MAX_HEADER);
				goto out;
			}
			if (nh == SIG_MAX_HEADERS) {
				err("sign: at most %d headers",
				    SIG_MAX_HEADERS);
				goto out;
			}
			hcopy[nh] = strdup(arg);
			if (!hcopy[nh] ||
			    split_header(hcopy[nh], &names[nh], &values[nh])) {
				err("sign: bad header '%.100s' (expected "
				    "'Name: value': a token, then no control "
				    "characters)",
				    arg);
				goto out;
			}
			nh++;
			break;
		case O_METHOD:
			if (strcmp(arg, "GET") && strcmp(arg, "HEAD")) {
				err("sign: --method is GET or HEAD");
				goto out;
			}
			method = arg;
			break;
		case O_TIME:
			if (sig_parse_amz_date(arg, &now)) {
				err("sign: --time '%s' is not "
				    "YYYYMMDDTHHMMSSZ",
				    arg);
				goto out;
			}
			break;
		case O_PAYLOAD:
			if (!strcmp(arg, "unsigned")) {
				payload = SIGV4_UNSIGNED_PAYLOAD;
			} else if (!strcmp(arg, "empty")) {
				payload = SIGV4_EMPTY_SHA256;
			} else {
				err("sign: --payload is unsigned or empty");
				goto out;
			}
			break;
		case O_VERBOSE:
			verbose = 1;
			break;
		case O_HELP:
			sign_usage(stdout);
			ret = 0;
			goto out;
		}
	}
	if (setup_object(&o, source, envp, &src, &t, &c))
		goto out;
	if (!src.plain && !c.access_key)
		warn("no credentials: the request is anonymous (unsigned)");
	if (verbose) {
		canon.buf = malloc(TRACE_MAX);
		sts.buf = malloc(TRACE_MAX);
		if (!canon.buf || !sts.buf) {
			err("out of memory");
			goto out;
		}
		canon.size = sts.size = TRACE_MAX;
		canon.buf[0] = sts.buf[0] = '\0';
	}
	in = (struct s3_req_in){
		.method = method,
		.target = &t,
		.sig = (int)opts_num(&o, OPT_SIG),
		.region = opts_str(&o, OPT_REGION),
		.creds = &c,
		.names = names,
		.values = values,
		.nheaders = nh,
		.time = now,
		.payload = payload,
	};
	if (s3_req_sign(&q, &in, &signer, &canon, &sts, msg, sizeof(msg))) {
		err("sign: %s", msg);
		goto out;
	}
	printf("%s %s HTTP/1.1\n", q.method, q.target);
	for (i = 0; i < q.n; i++)
		printf("%s: %s\n", q.names[i], q.values[i]);
	printf("\n");
	if (verbose && c.access_key) {
		if (opts_num(&o, OPT_SIG) == SIG_V4)
			printf("--- canonical request\n%s\n", canon.buf);
		printf("--- string to sign\n%s\n", sts.buf);
	}
	ret = fflush(stdout) ? 1 : 0;
	if (ret)
		err("sign: writing the output failed");
out:
	for (i = 0; i < SIG_MAX_HEADERS; i++)
		free(hcopy[i]);
	free(canon.buf);
	free(sts.buf);
	sigv4_signer_wipe(&signer);
	creds_free(&c);
	opts_free(&o);
	return ret;
}
