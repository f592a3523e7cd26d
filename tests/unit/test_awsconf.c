/* SPDX-License-Identifier: MIT */
/* test_awsconf.c - the AWS CLI's shared files and where they rank. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/s3/s3.h"
#include "tests/unit/unit.h"

static void test_parse(void)
{
	const char text[] = "# a comment\n"
			    "; another\n"
			    "[default]\r\n"
			    "aws_access_key_id = DEFAULTKEY\n"
			    "[other]\n"
			    "\tregion = eu-west-1\n"
			    "\taws_access_key_id=OTHERKEY\n"
			    "AWS_Secret_Access_Key :  other/secret \n"
			    "aws_session_token = TOK=EN\n"
			    "  region = continued\n"
			    "s3 =\n"
			    "    endpoint_url = http://nested.invalid\n"
			    "    region = nested-1\n"
			    "\n"
			    "    addressing_style = path\n"
			    "endpoint_url = http://top:8000\n"
			    "[profile other]\n"
			    "region = not-this\n";
	struct awsconf a = {0};
	char err[256];

	CHECK_INT(awsconf_parse(&a, text, sizeof(text) - 1, "other", 0, "f",
				err, sizeof(err)),
		  1);
	CHECK_STR(a.v[AWSCONF_ACCESS_KEY], "OTHERKEY");
	CHECK_STR(a.v[AWSCONF_SECRET_KEY], "other/secret");
	CHECK_STR(a.v[AWSCONF_SESSION_TOKEN], "TOK=EN");
	/* an indented first option is an option; a line indented deeper
	 * than the option before it continues that one (configparser) */
	CHECK_STR(a.v[AWSCONF_REGION], "eu-west-1");
	CHECK_STR(a.v[AWSCONF_ENDPOINT_URL], "http://top:8000");
	awsconf_free(&a);

	/* the config file: [profile NAME], and [default] */
	CHECK_INT(awsconf_parse(&a, text, sizeof(text) - 1, "other", 1, "f",
				err, sizeof(err)),
		  1);
	CHECK_STR(a.v[AWSCONF_REGION], "not-this");
	CHECK(a.v[AWSCONF_ACCESS_KEY] == NULL);
	awsconf_free(&a);
	CHECK_INT(awsconf_parse(&a, text, sizeof(text) - 1, "default", 1, "f",
				err, sizeof(err)),
		  1);
	CHECK_STR(a.v[AWSCONF_ACCESS_KEY], "DEFAULTKEY");
	awsconf_free(&a);
	CHECK_INT(awsconf_parse(&a, text, sizeof(text) - 1, "none", 0, "f", err,
				sizeof(err)),
		  0);
	awsconf_free(&a);
}

static void test_parse_bad(void)
{
	static const struct {
		const char *text, *msg;
	} rows[] = {
		{"region = x\n", "f:1: an option before the first [section]"},
		{"[default]\njust words\n", "f:2: expected 'key = value'"},
		{"[default]\n= value\n", "f:2: expected 'key = value'"},
		{"[other]\n\nnothing here\n", "f:3: expected 'key = value'"},
	};
	struct awsconf a = {0};
	char err[256], *big;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		CHECK_INT(awsconf_parse(&a, rows[i].text, strlen(rows[i].text),
					"default", 0, "f", err, sizeof(err)),
			  -EINVAL);
		if (!CHECK(strstr(err, rows[i].msg) != NULL))
			fprintf(stderr, "    row %zu gave '%s'\n", i, err);
		awsconf_free(&a);
	}
	CHECK_INT(awsconf_parse(&a, "[a]\0", 4, "a", 0, "f", err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "NUL") != NULL);
	big = malloc(300 * 1024);
	memset(big, '#', 300 * 1024);
	big[5000] = '\n';
	CHECK_INT(awsconf_parse(&a, big, 6000, "a", 0, "f", err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "f:1: a line longer than 4096") != NULL);
	CHECK_INT(awsconf_parse(&a, big, 300 * 1024, "a", 0, "f", err,
				sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "larger than 256 KiB") != NULL);
	for (i = 0; i + 4 <= 300 * 1024; i += 4)
		memcpy(big + i, "[a]\n", 4);
	CHECK_INT(
		awsconf_parse(&a, big, 5000 * 4, "a", 0, "f", err, sizeof(err)),
		-EINVAL);
	CHECK(strstr(err, "more than 1024 sections") != NULL);
	free(big);
	awsconf_free(&a);
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
	char *cred = write_tmp("[default]\n"
			       "aws_access_key_id = CREDKEY\n"
			       "aws_secret_access_key = credsecret\n"
			       "[prof]\n"
			       "region = ap-south-2\n",
			       0600);
	char *conf = write_tmp("[default]\n"
			       "aws_access_key_id = CONFKEY\n"
			       "aws_secret_access_key = confsecret\n"
			       "aws_session_token = CONFTOKEN\n"
			       "region = eu-north-1\n"
			       "endpoint_url = http://127.0.0.1:7480\n"
			       "[profile prof]\n"
			       "aws_access_key_id = PROFKEY\n"
			       "aws_secret_access_key = profsecret\n"
			       "region = eu-central-2\n",
			       0600);
	char ce[300], cc[300], *env[6] = {ce, cc, NULL};
	char err[256];
	struct awsconf a;
	struct opts o = {0};
	struct creds c;

	snprintf(ce, sizeof(ce), "AWS_SHARED_CREDENTIALS_FILE=%s", cred);
	snprintf(cc, sizeof(cc), "AWS_CONFIG_FILE=%s", conf);
	/* the keys as a set from the credentials file: no config token */
	CHECK_INT(awsconf_load(&a, env, err, sizeof(err)), 0);
	CHECK_STR(a.v[AWSCONF_ACCESS_KEY], "CREDKEY");
	CHECK_STR(a.v[AWSCONF_SECRET_KEY], "credsecret");
	CHECK(a.v[AWSCONF_SESSION_TOKEN] == NULL);
	CHECK_STR(a.v[AWSCONF_REGION], "eu-north-1");
	CHECK_STR(a.v[AWSCONF_ENDPOINT_URL], "http://127.0.0.1:7480");
	awsconf_free(&a);

	/* AWS_PROFILE: keys from the config file, the region from the
	 * credentials file (which wins) */
	env[2] = "AWS_PROFILE=prof";
	CHECK_INT(awsconf_load(&a, env, err, sizeof(err)), 0);
	CHECK_STR(a.v[AWSCONF_ACCESS_KEY], "PROFKEY");
	CHECK_STR(a.v[AWSCONF_REGION], "ap-south-2");
	CHECK(a.keys_in_config);
	awsconf_free(&a);
	/* a named profile that is nowhere is an error */
	env[2] = "AWS_PROFILE=nosuch";
	CHECK_INT(awsconf_load(&a, env, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "'nosuch' (AWS_PROFILE) is in neither") != NULL);
	/* missing files (and no HOME) are nothing */
	env[2] = "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/c";
	env[3] = "AWS_CONFIG_FILE=/nonexistent/d";
	CHECK_INT(awsconf_load(&a, env + 2, err, sizeof(err)), 0);
	CHECK(a.v[AWSCONF_ACCESS_KEY] == NULL);
	awsconf_free(&a);

	/* the chain: below the environment and the passwd file */
	env[2] = NULL;
	CHECK_INT(opts_parse_list(&o, "s3.passwd_file=/nonexistent/x",
				  OPT_SRC_CONFIG, err, sizeof(err)),
		  0);
	o.v[OPT_PASSWD_FILE].src = OPT_SRC_NONE; /* as a default would be */
	CHECK_INT(creds_load(&c, &o, env, "b", err, sizeof(err)), 0);
	CHECK_STR(c.access_key, "CREDKEY");
	CHECK(strstr(c.origin, ".aws/credentials") != NULL);
	creds_free(&c);
	env[2] = "AWS_ACCESS_KEY_ID=ENVKEY";
	env[3] = "AWS_SECRET_ACCESS_KEY=envsecret";
	CHECK_INT(creds_load(&c, &o, env, "b", err, sizeof(err)), 0);
	CHECK_STR(c.access_key, "ENVKEY");
	creds_free(&c);
	opts_free(&o);

	/* region and endpoint: below the environment and s3root.conf */
	env[2] = env[3] = NULL;
	CHECK_INT(awsconf_apply_opts(&o, env, err, sizeof(err)), 0);
	CHECK_STR(opts_str(&o, OPT_REGION), "eu-north-1");
	CHECK_STR(opts_str(&o, OPT_ENDPOINT), "http://127.0.0.1:7480");
	opts_free(&o);
	env[2] = "AWS_REGION=us-west-2";
	CHECK_INT(opts_parse_list(&o, "s3.endpoint=http://conf:1",
				  OPT_SRC_CONFIG, err, sizeof(err)),
		  0);
	CHECK_INT(opts_load_env(&o, env, err, sizeof(err)), 0);
	CHECK_INT(awsconf_apply_opts(&o, env, err, sizeof(err)), 0);
	CHECK_STR(opts_str(&o, OPT_REGION), "us-west-2");
	CHECK_STR(opts_str(&o, OPT_ENDPOINT), "http://conf:1");
	opts_free(&o);

	unlink(cred);
	unlink(conf);
	free(cred);
	free(conf);
}

static const struct unit_test tests[] = {
	{"awsconf_parse", test_parse},
	{"awsconf_parse_bad", test_parse_bad},
	{"awsconf_load", test_load},
};

UNIT_SUITE(awsconf, tests);
