/* SPDX-License-Identifier: MIT */
/* test_creds.c - passwd files, token files, the environment. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/s3/s3.h"
#include "tests/unit/unit.h"

static void test_passwd(void)
{
	const char text[] = "# s3fs format\n"
			    "DEFAULTKEY:defaultsecret\r\n"
			    "other:OTHERKEY:othersecret\n"
			    "boot:BOOTKEY:boot/secret+x\n"
			    "\n";
	struct creds c = {0};
	char err[256];

	CHECK_INT(creds_parse_passwd(&c, text, sizeof(text) - 1, "boot", err,
				     sizeof(err)),
		  0);
	CHECK_STR(c.access_key, "BOOTKEY");
	CHECK_STR(c.secret_key, "boot/secret+x");
	creds_free(&c);
	CHECK_INT(creds_parse_passwd(&c, text, sizeof(text) - 1, "nobucket",
				     err, sizeof(err)),
		  0);
	CHECK_STR(c.access_key, "DEFAULTKEY");
	CHECK_STR(c.secret_key, "defaultsecret");
	creds_free(&c);
}

static void test_passwd_bad(void)
{
	static const struct {
		const char *text, *msg;
	} rows[] = {
		{"justonefield\n", "line 1: expected ACCESS:SECRET"},
		{"a:b:c:d\n", "line 1: expected ACCESS:SECRET"},
		{"acct:user:SK:x\n", "a key with ':' cannot be written here: "
				     "give it in AWS_ACCESS_KEY_ID or "
				     "~/.aws/credentials"},
		{"# only a comment\n", "no credentials"},
		{"x:AK:SK\n", "no credentials for bucket b"},
		{"AK:\n", "line 1: bad access key or secret"},
		{"A K:SK\n", "line 1: bad access key or secret"},
		{"\n\nAK:S\x01K\n", "line 3: bad access key or secret"},
	};
	struct creds c = {0};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		CHECK_INT(creds_parse_passwd(&c, rows[i].text,
					     strlen(rows[i].text), "b", err,
					     sizeof(err)),
			  -EINVAL);
		if (!CHECK(strstr(err, rows[i].msg) != NULL))
			fprintf(stderr, "    row %zu gave '%s'\n", i, err);
		creds_free(&c);
	}
	CHECK_INT(creds_parse_passwd(&c, "AK:S\0K", 6, "b", err, sizeof(err)),
		  -EINVAL);
}

static char *write_tmp(const char *text, mode_t mode)
{
	char *path = strdup("/tmp/s3root-unit-XXXXXX");
	int fd = mkstemp(path);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	fchmod(fd, mode);
	close(fd);
	return path;
}

static void test_load(void)
{
	char *pw = write_tmp("FILEKEY:filesecret\n", 0600);
	char *tok = write_tmp("FILETOKEN\n", 0600);
	char *env[] = {"AWS_ACCESS_KEY_ID=ENVKEY",
		       "AWS_SECRET_ACCESS_KEY=envsecret",
		       "AWS_SESSION_TOKEN=ENVTOKEN", NULL};
	char *noenv[] = {NULL};
	char *half[] = {"AWS_ACCESS_KEY_ID=ENVKEY", NULL};
	char list[256], err[256];
	struct opts o = {0};
	struct creds c;

	/* the environment, with its token */
	CHECK_INT(opts_parse_list(&o, "s3.passwd_file=/nonexistent",
				  OPT_SRC_CONFIG, err, sizeof(err)),
		  0);
	CHECK_INT(creds_load(&c, &o, env, "b", err, sizeof(err)), 0);
	CHECK_STR(c.access_key, "ENVKEY");
	CHECK_STR(c.session_token, "ENVTOKEN");
	creds_free(&c);
	opts_free(&o);

	/* -o s3.passwd_file ranks over the environment */
	snprintf(list, sizeof(list),
		 "s3.passwd_file=%s,"
		 "s3.session_token_file=%s",
		 pw, tok);
	CHECK_INT(opts_parse_list(&o, list, OPT_SRC_ARG, err, sizeof(err)), 0);
	CHECK_INT(creds_load(&c, &o, env, "b", err, sizeof(err)), 0);
	CHECK_STR(c.access_key, "FILEKEY");
	CHECK_STR(c.secret_key, "filesecret");
	CHECK_STR(c.session_token, "FILETOKEN");
	creds_free(&c);
	opts_free(&o);

	/* nothing at all: anonymous, not an error */
	CHECK_INT(opts_parse_list(&o, "s3.passwd_file=/nonexistent/x",
				  OPT_SRC_CONFIG, err, sizeof(err)),
		  0);
	o.v[OPT_PASSWD_FILE].src = OPT_SRC_NONE; /* as a default would be */
	CHECK_INT(creds_load(&c, &o, noenv, "b", err, sizeof(err)), 0);
	CHECK(c.access_key == NULL);
	creds_free(&c);
	/* half a key pair is an error */
	CHECK_INT(creds_load(&c, &o, half, "b", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "must be set together") != NULL);
	opts_free(&o);

	/* a named file that is missing is an error */
	CHECK_INT(opts_parse_list(&o, "s3.passwd_file=/nonexistent/x",
				  OPT_SRC_ARG, err, sizeof(err)),
		  0);
	CHECK_INT(creds_load(&c, &o, noenv, "b", err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "/nonexistent/x") != NULL);
	opts_free(&o);

	unlink(pw);
	unlink(tok);
	free(pw);
	free(tok);
}

static const struct unit_test tests[] = {
	{"creds_passwd", test_passwd},
	{"creds_passwd_bad", test_passwd_bad},
	{"creds_load", test_load},
};

UNIT_SUITE(creds, tests);
