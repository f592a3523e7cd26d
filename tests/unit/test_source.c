/* SPDX-License-Identifier: MIT */
/* test_source.c - source names and where their requests go. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "src/s3/s3.h"
#include "tests/unit/unit.h"

static void test_parse(void)
{
	static const struct {
		const char *in, *bucket, *key;
	} good[] = {
		{"s3://boot/root.erofs", "boot", "root.erofs"},
		{"s3:boot/a/b//c", "boot", "a/b//c"},
		{"boot/k with space+=~", "boot", "k with space+=~"},
		{"Legacy_Bucket/x", "Legacy_Bucket", "x"},
		{"s3://b/\xc3\xa9t\xc3\xa9", "b", "\xc3\xa9t\xc3\xa9"},
	};
	static const char *const bad[] = {
		"s3://bucket",	 "s3://bucket/",  "/key",
		"s3:///key",	 "bu cket/key",	  "http://",
		"https://h:0/x", "b\xc3\xa9/key", "",
	};
	struct source s;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_INT(source_parse(good[i].in, &s, err, sizeof(err)), 0);
		CHECK_STR(s.bucket, good[i].bucket);
		CHECK_STR(s.key, good[i].key);
		CHECK_INT(s.plain, 0);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(source_parse(bad[i], &s, err, sizeof(err)),
			       -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
	CHECK_INT(source_parse("https://files.example/img/root.erofs", &s, err,
			       sizeof(err)),
		  0);
	CHECK_INT(s.plain, 1);
}

struct target_case {
	const char *opts, *source;
	const char *host, *path, *resource;
	int port, tls;
};

static const struct target_case cases[] = {
	{"", "s3://boot/root.erofs", "boot.s3.us-east-1.amazonaws.com",
	 "/root.erofs", "/boot/root.erofs", 443, 1},
	{"s3.urlstyle=path", "boot/a b/c+d", "s3.us-east-1.amazonaws.com",
	 "/boot/a%20b/c%2Bd", "/boot/a%20b/c%2Bd", 443, 1},
	{"s3.endpoint=http://127.0.0.1:7480", "b1/k", "127.0.0.1:7480", "/b1/k",
	 "/b1/k", 7480, 0},
	{"s3.endpoint=http://[::1]:8000/", "b1/k", "[::1]:8000", "/b1/k",
	 "/b1/k", 8000, 0},
	{"s3.endpoint=http://s3.test:7480", "bk1/k", "bk1.s3.test:7480", "/k",
	 "/bk1/k", 7480, 0},
	/* too short for a DNS-style bucket name: path style */
	{"s3.endpoint=http://s3.test:7480", "b1/k", "s3.test:7480", "/b1/k",
	 "/b1/k", 7480, 0},
	/* not a DNS label under TLS: path style, like the SDKs */
	{"s3.endpoint=https://s3.test", "my.bucket/k", "s3.test",
	 "/my.bucket/k", "/my.bucket/k", 443, 1},
	{"s3.endpoint=http://gw.lab/s3/,s3.urlstyle=path", "b1/k", "gw.lab",
	 "/s3/b1/k", "/b1/k", 80, 0},
	{"", "https://files.example:8443/img/r%20.erofs?x=1",
	 "files.example:8443", "/img/r%20.erofs?x=1", "", 8443, 1},
};

static void test_targets(void)
{
	struct opts o;
	struct source s;
	struct s3_target t;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct target_case *c = &cases[i];
		int ok = 1;

		memset(&o, 0, sizeof(o));
		ok &= CHECK_INT(opts_parse_list(&o, c->opts, OPT_SRC_ARG, err,
						sizeof(err)),
				0);
		ok &= CHECK_INT(opts_finish(&o, err, sizeof(err)), 0);
		ok &= CHECK_INT(source_parse(c->source, &s, err, sizeof(err)),
				0);
		ok &= CHECK_INT(s3_target_init(&o, &s, &t, err, sizeof(err)),
				0);
		ok &= CHECK_STR(t.host_header, c->host);
		ok &= CHECK_STR(t.url.path, c->path);
		ok &= CHECK_STR(t.resource, c->resource);
		ok &= CHECK_INT(t.url.port, c->port);
		ok &= CHECK_INT(t.url.tls, c->tls);
		if (!ok)
			fprintf(stderr, "    case %zu: %s %s (%s)\n", i,
				c->opts, c->source, err);
		opts_free(&o);
	}

	/* vhost forced on an address cannot work */
	memset(&o, 0, sizeof(o));
	CHECK_INT(opts_parse_list(
			  &o, "s3.endpoint=http://10.0.2.2,s3.urlstyle=vhost",
			  OPT_SRC_ARG, err, sizeof(err)),
		  0);
	CHECK_INT(opts_finish(&o, err, sizeof(err)), 0);
	CHECK_INT(source_parse("b/k", &s, err, sizeof(err)), 0);
	CHECK_INT(s3_target_init(&o, &s, &t, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "needs an endpoint host name") != NULL);
	opts_free(&o);
}

/* Presigned URLs: found by their query, the query byte-exact for the
 * request, never in what is shown; their end from the query. */
static void test_presigned(void)
{
	static const char v4[] =
		"https://b.s3.test/k%20y?X-Amz-Algorithm=AWS4-HMAC-SHA256&"
		"X-Amz-Credential=AK%2F20261203%2Fus-east-1%2Fs3%2Faws4_"
		"request&X-Amz-Date=20261203T140000Z&X-Amz-Expires=3600&X-Amz-"
		"SignedHeaders=host&X-Amz-Signature=0123abcd";
	struct source s;
	char err[256], out[512];

	CHECK_INT(source_parse(v4, &s, err, sizeof(err)), 0);
	CHECK_INT(s.plain, 1);
	CHECK_INT(s.presigned, 1);
	CHECK_STR(s.url, v4);
	CHECK_STR(s.shown, "https://b.s3.test/k%20y?<presigned>");
	CHECK(s.expires == 1796306400 + 3600); /* 2026-12-03T14:00:00Z */
	CHECK_INT(source_parse("http://h/k?AWSAccessKeyId=AK&Expires="
			       "1796310000&Signature=x%2B",
			       &s, err, sizeof(err)),
		  0);
	CHECK_INT(s.presigned, 1);
	CHECK(s.expires == 1796310000);
	CHECK_INT(source_parse("http://h/k?x-amz-security-token=t", &s, err,
			       sizeof(err)),
		  0);
	CHECK_INT(s.presigned, 1);
	CHECK(s.expires == 0);
	/* an ordinary query is kept and shown */
	CHECK_INT(source_parse("http://h/k?v=2&Signer=x", &s, err, sizeof(err)),
		  0);
	CHECK_INT(s.presigned, 0);
	CHECK_STR(s.shown, "http://h/k?v=2&Signer=x");
	/* a state file's redacted URL is refused, not requested */
	CHECK_INT(source_parse("http://h/k?<presigned>", &s, err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "never kept") != NULL);
	/* bad URLs are named without their query */
	CHECK_INT(source_parse("http://h/k y?Signature=SECRET", &s, err,
			       sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "SECRET") == NULL);
	/* any text: option lists, messages */
	CHECK_STR(source_redact("a=1,s3root.verity_object=http://h/t?X-Amz-"
				"Signature=S&b=2,c=3 https://x/y?q=1",
				out, sizeof(out)),
		  "a=1,s3root.verity_object=http://h/t?<presigned>,c=3 "
		  "https://x/y?q=1");
	CHECK_STR(source_redact("http://h/k?Signature=SECRET", out, 12),
		  "http://h/k?");
	CHECK_STR(source_redact("http://h/k?Signature=SECRET", out, 16),
		  "http://h/k?<pre");
}

static const struct unit_test tests[] = {
	{"source_parse", test_parse},
	{"source_targets", test_targets},
	{"source_presigned", test_presigned},
};

UNIT_SUITE(source, tests);
