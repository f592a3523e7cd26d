/* SPDX-License-Identifier: MIT */
/* test_imds.c - the flat JSON reader, the instance's credentials document,
 * its times and when to replace what it gave. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3/s3.h"
#include "tests/unit/unit.h"

static int json1(const char *text, const char *name, char *out, size_t outlen,
		 char *err, size_t errlen)
{
	struct util_json_field f = {name, out, outlen, 0};
	int r = util_json_fields(text, strlen(text), &f, 1, err, errlen);

	return r ? r : f.found ? 0 : -ENOENT;
}

static void test_json_good(void)
{
	char out[64], err[128];

	CHECK_INT(json1(" {\"a\" : \"x\\\"y\\\\z\\/\", \"n\": -1.5e+3, "
			"\"t\": true, \"f\": false, \"z\": null} \r\n",
			"a", out, sizeof(out), err, sizeof(err)),
		  0);
	CHECK_STR(out, "x\"y\\z/");
	CHECK_INT(json1("{\"a\":\"\\u00e9\\u20ac\\ud83d\\ude00\\n\\t\"}", "a",
			out, sizeof(out), err, sizeof(err)),
		  0);
	CHECK_STR(out, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\n\t");
	CHECK_INT(json1("{\"a\":\"\xc3\xa9\xf0\x9f\x98\x80\"}", "a", out,
			sizeof(out), err, sizeof(err)),
		  0);
	CHECK_STR(out, "\xc3\xa9\xf0\x9f\x98\x80");
	CHECK_INT(json1("{}", "a", out, sizeof(out), err, sizeof(err)),
		  -ENOENT);
	/* exactly fits: 3 bytes and the NUL in 4 */
	CHECK_INT(json1("{\"a\":\"abc\"}", "a", out, 4, err, sizeof(err)), 0);
	CHECK_STR(out, "abc");
}

static void test_json_bad(void)
{
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{"", "expected an object"},
		{"[]", "expected an object"},
		{"{\"a\":\"x\"", "expected ',' or '}'"},
		{"{\"a\":\"x\",}", "expected a string"},
		{"{\"a\":\"x\"} x", "text after the object"},
		{"{\"a\":\"x\",\"a\":\"y\"}", "given twice"},
		{"{\"a\":1}", "not a string"},
		{"{\"b\":{}}", "nested"},
		{"{\"b\":[1]}", "nested"},
		{"{\"b\":01}", "at byte 6: expected ',' or '}'"},
		{"{\"b\":1.}", "a bad number"},
		{"{\"b\":-}", "a bad number"},
		{"{\"b\":tru}", "expected a value"},
		{"{\"a\":\"\\u0000\"}", "\\u0000"},
		{"{\"a\":\"\\ud800\"}", "lone high surrogate"},
		{"{\"a\":\"\\udc00\"}", "lone low surrogate"},
		{"{\"a\":\"\\ud800\\u0041\"}", "without its pair"},
		{"{\"a\":\"\\x\"}", "unknown escape"},
		{"{\"a\":\"\\u12g4\"}", "bad \\u escape"},
		{"{\"a\":\"\\u12", "short \\u escape"},
		{"{\"a\":\"\x01\"}", "control character"},
		{"{\"a\":\"\xc0\xaf\"}", "invalid UTF-8"},
		{"{\"a\":\"\xed\xa0\x80\"}", "invalid UTF-8"},
		{"{\"a\":\"\xf4\x90\x80\x80\"}", "invalid UTF-8"},
		{"{\"a\":\"\xe2\x82\"}", "invalid UTF-8"},
		{"{\"a\":\"abcd\"}", "longer than 3 bytes"},
		{"\xef\xbb\xbf{}", "expected an object"},
		{"{\"a\":\"x", "unterminated"},
	};
	char out[4], err[128];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_INT(json1(bad[i].text, "a", out, sizeof(out), err,
				sizeof(err)),
			  -EINVAL);
		if (!CHECK(strstr(err, bad[i].msg) != NULL))
			fprintf(stderr, "  %zu: got '%s', want '%s'\n", i, err,
				bad[i].msg);
	}
}

static void test_json_bounds(void)
{
	size_t n = UTIL_JSON_MAX + 1, k, at;
	char *big = malloc(n + 1), out[8], err[128];

	if (!CHECK(big))
		return;
	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	CHECK_INT(json1(big, "a", out, sizeof(out), err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "over 65536 bytes") != NULL);
	/* 65 members */
	at = (size_t)sprintf(big, "{");
	for (k = 0; k < UTIL_JSON_MAX_MEMBERS + 1; k++)
		at += (size_t)sprintf(big + at, "%s\"m%zu\":0", k ? "," : "",
				      k);
	sprintf(big + at, "}");
	CHECK_INT(json1(big, "a", out, sizeof(out), err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "over 64 members") != NULL);
	free(big);
}

static void test_imds_time(void)
{
	int64_t t;

	CHECK_INT(imds_parse_time("1970-01-01T00:00:00Z", &t), 0);
	CHECK_INT(t, 0);
	CHECK_INT(imds_parse_time("2026-12-03T14:05:58Z", &t), 0);
	CHECK_INT(t, 1796306758);
	CHECK_INT(imds_parse_time("2024-02-29T23:59:59Z", &t), 0);
	CHECK_INT(t, 1709251199);
	CHECK_INT(imds_parse_time("2023-02-29T00:00:00Z", &t), -EINVAL);
	CHECK_INT(imds_parse_time("2026-12-03T14:05:58", &t), -EINVAL);
	CHECK_INT(imds_parse_time("2026-12-03 14:05:58Z", &t), -EINVAL);
	CHECK_INT(imds_parse_time("2026-13-03T14:05:58Z", &t), -EINVAL);
	CHECK_INT(imds_parse_time("2026-12-03T24:00:00Z", &t), -EINVAL);
	CHECK_INT(imds_parse_time("2026-12-03T14:05:58.000Z", &t), -EINVAL);
	CHECK_INT(imds_parse_time("+026-12-03T14:05:58Z", &t), -EINVAL);
}

#define DOC_HEAD                                                               \
	"{\"Code\":\"Success\",\"LastUpdated\":\"2026-12-03T14:00:00Z\","      \
	"\"Type\":\"AWS-HMAC\","

static void test_imds_doc(void)
{
	const char good[] = DOC_HEAD "\"AccessKeyId\":\"ASIAEXAMPLE\","
				     "\"SecretAccessKey\":\"se/cr+et\","
				     "\"Token\":\"tok==\","
				     "\"Expiration\":\"2026-12-03T20:00:00Z\"}";
	struct creds c;
	char err[256];
	int64_t now = 1796306758; /* 2026-12-03T14:05:58Z */

	CHECK_INT(imds_parse_creds(good, sizeof(good) - 1, now, &c, err,
				   sizeof(err)),
		  0);
	CHECK_STR(c.access_key, "ASIAEXAMPLE");
	CHECK_STR(c.secret_key, "se/cr+et");
	CHECK_STR(c.session_token, "tok==");
	CHECK_INT(c.expires, 1796328000);
	CHECK_STR(c.origin, CREDS_ORIGIN_IMDS);
	creds_free(&c);
	CHECK_INT(imds_parse_creds(good, sizeof(good) - 1, 1796328000, &c, err,
				   sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "expired at 2026-12-03T20:00:00Z") != NULL);
	CHECK(!c.access_key);
}

static void test_imds_doc_bad(void)
{
	static const struct {
		const char *doc, *msg;
	} bad[] = {
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
		 "\"Token\":\"t\",\"Expiration\":\"2030-01-01T00:00:00Z\"}",
		 "the document has no SecretAccessKey"},
		{"{\"Code\":\"Failure\",\"AccessKeyId\":\"A\","
		 "\"SecretAccessKey\":\"s\",\"Token\":\"t\","
		 "\"Expiration\":\"2030-01-01T00:00:00Z\"}",
		 "Code \"Failure\""},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A B\","
		 "\"SecretAccessKey\":\"s\",\"Token\":\"t\","
		 "\"Expiration\":\"2030-01-01T00:00:00Z\"}",
		 "malformed"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\","
		 "\"SecretAccessKey\":\"s\",\"Token\":\"t\","
		 "\"Expiration\":\"soon\"}",
		 "not YYYY-MM-DDTHH:MM:SSZ"},
		{"{\"Code\":\"Success\",\"AccessKeyId\":\"A\" "
		 "\"SecretAccessKey\":\"s\"}",
		 "not a credentials document (at byte 36: expected ','"},
	};
	struct creds c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		CHECK_INT(imds_parse_creds(bad[i].doc, strlen(bad[i].doc),
					   1796306758, &c, err, sizeof(err)),
			  -EINVAL);
		if (!CHECK(strstr(err, bad[i].msg) != NULL))
			fprintf(stderr, "  %zu: got '%s'\n", i, err);
	}
}

static void test_refresh_at(void)
{
	struct creds c = {0};

	CHECK_INT(creds_refresh_at(&c, 1000), 0);
	c.expires = 1000 + 6 * 3600; /* AWS: 5 minutes ahead */
	CHECK_INT(creds_refresh_at(&c, 1000), c.expires - 300);
	c.expires = 1000 + 80; /* a test's: a quarter ahead */
	CHECK_INT(creds_refresh_at(&c, 1000), 1060);
	c.expires = 1000 + 1200; /* 20 min: 5 minutes ahead */
	CHECK_INT(creds_refresh_at(&c, 1000), 1900);
}

static const struct unit_test tests[] = {
	{"json_good", test_json_good},	   {"json_bad", test_json_bad},
	{"json_bounds", test_json_bounds}, {"imds_time", test_imds_time},
	{"imds_doc", test_imds_doc},	   {"imds_doc_bad", test_imds_doc_bad},
	{"refresh_at", test_refresh_at},
};

UNIT_SUITE(imds, tests);
