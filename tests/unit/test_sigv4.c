/* SPDX-License-Identifier: MIT */
/* test_sigv4.c - SigV4 against the AWS S3 documentation's examples. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "crypto/sigv2.h"
#include "tests/unit/unit.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
#define T20130524 1369353600 /* 2013-05-24T00:00:00Z */

static const struct sig_creds doc_creds = {AK, SK, NULL};

/* The signature part of an Authorization value. */
static const char *sig_of(const char *auth)
{
	const char *p = strstr(auth, "Signature=");

	return p ? p + 10 : "";
}

/* "Example: GET Object" of sig-v4-header-based-auth, with its texts. */
static void test_doc_get_object(void)
{
	struct sig_header h[] = {{"Range", "bytes=0-9"}};
	struct sigv4_request r = {
		.method = "GET",
		.host = "examplebucket.s3.amazonaws.com",
		.path = "/test.txt",
		.headers = h,
		.nheaders = 1,
		.payload_hash = SIGV4_EMPTY_SHA256,
		.region = "us-east-1",
		.service = "s3",
		.time = T20130524,
	};
	struct sigv4_signer s = {0};
	char date[17], auth[512], cbuf[1024], sbuf[512];
	struct sig_trace canon = {cbuf, sizeof(cbuf), 0};
	struct sig_trace sts = {sbuf, sizeof(sbuf), 0};

	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth),
			     &canon, &sts),
		  0);
	CHECK_STR(date, "20130524T000000Z");
	CHECK_STR(cbuf, "GET\n/test.txt\n\n"
			"host:examplebucket.s3.amazonaws.com\n"
			"range:bytes=0-9\n"
			"x-amz-content-sha256:" SIGV4_EMPTY_SHA256 "\n"
			"x-amz-date:20130524T000000Z\n\n"
			"host;range;x-amz-content-sha256;x-amz-"
			"date\n" SIGV4_EMPTY_SHA256);
	CHECK_STR(sbuf, "AWS4-HMAC-SHA256\n20130524T000000Z\n"
			"20130524/us-east-1/s3/aws4_request\n"
			"7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc4"
			"3964946972");
	CHECK_STR(
		auth,
		"AWS4-HMAC-SHA256 Credential=" AK "/20130524/us-east-1/s3/"
		"aws4_request, SignedHeaders=host;range;x-amz-content-sha256;"
		"x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0"
		"170aba48dd91039c6036bdb41");
	/* signed again with the cached key: the same answer */
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  0);
	CHECK_STR(sig_of(auth), "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba"
				"48dd91039c6036bdb41");
	sigv4_signer_wipe(&s);
}

struct doc_case {
	const char *name;
	const char *method, *path;
	struct sig_param params[3];
	size_t nparams;
	struct sig_header headers[3];
	size_t nheaders;
	const char *payload;
	const char *signature;
};

/* The other examples of the same page. */
static const struct doc_case doc_cases[] = {
	{"put object",
	 "PUT",
	 "/test%24file.text",
	 {{0}},
	 0,
	 {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
	  {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
	 2,
	 "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
	 "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"},
	{"get bucket lifecycle",
	 "GET",
	 "/",
	 {{"lifecycle", NULL}},
	 1,
	 {{0}},
	 0,
	 SIGV4_EMPTY_SHA256,
	 "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"},
	{"list objects",
	 "GET",
	 "/",
	 {{"max-keys", "2"}, {"prefix", "J"}},
	 2,
	 {{0}},
	 0,
	 SIGV4_EMPTY_SHA256,
	 "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"},
};

static void test_doc_examples(void)
{
	struct sigv4_signer s = {0};
	char date[17], auth[512];
	size_t i;

	for (i = 0; i < sizeof(doc_cases) / sizeof(doc_cases[0]); i++) {
		const struct doc_case *c = &doc_cases[i];
		struct sigv4_request r = {
			.method = c->method,
			.host = "examplebucket.s3.amazonaws.com",
			.path = c->path,
			.params = c->params,
			.nparams = c->nparams,
			.headers = c->headers,
			.nheaders = c->nheaders,
			.payload_hash = c->payload,
			.region = "us-east-1",
			.service = "s3",
			.time = T20130524,
		};

		if (!CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth,
					  sizeof(auth), NULL, NULL),
			       0))
			continue;
		if (!CHECK_STR(sig_of(auth), c->signature))
			fprintf(stderr, "    case: %s\n", c->name);
	}
	sigv4_signer_wipe(&s);
}

static void test_canonical_details(void)
{
	/* spaces trimmed and collapsed, repeated names joined, query sorted
	 * by its encoded form, a session token signed */
	struct sig_header h[] = {{"X-Amz-Meta-A", "  one   two  "},
				 {"x-amz-meta-a", "three"},
				 {"If-Match", "\"abc\""}};
	struct sig_param p[] = {{"versionId", "a+b/c"}, {"[x]", "1"}};
	struct sigv4_request r = {
		.method = "GET",
		.host = "b.example:8080",
		.path = "/a%20b",
		.params = p,
		.nparams = 2,
		.headers = h,
		.nheaders = 3,
		.payload_hash = SIGV4_UNSIGNED_PAYLOAD,
		.region = "eu-west-1",
		.service = "s3",
		.time = T20130524,
	};
	const struct sig_creds tc = {AK, SK, "TOKEN/+="};
	struct sigv4_signer s = {0};
	char date[17], auth[512], cbuf[1024];
	struct sig_trace canon = {cbuf, sizeof(cbuf), 0};

	CHECK_INT(
		sigv4_sign(&s, &r, &tc, date, auth, sizeof(auth), &canon, NULL),
		0);
	CHECK_STR(cbuf, "GET\n/a%20b\n%5Bx%5D=1&versionId=a%2Bb%2Fc\n"
			"host:b.example:8080\n"
			"if-match:\"abc\"\n"
			"x-amz-content-sha256:UNSIGNED-PAYLOAD\n"
			"x-amz-date:20130524T000000Z\n"
			"x-amz-meta-a:one two,three\n"
			"x-amz-security-token:TOKEN/+=\n\n"
			"host;if-match;x-amz-content-sha256;x-amz-date;"
			"x-amz-meta-a;x-amz-security-token\n"
			"UNSIGNED-PAYLOAD");
	CHECK(strstr(auth, "/20130524/eu-west-1/s3/aws4_request,") != NULL);
	sigv4_signer_wipe(&s);
}

static void test_key_cache_follows_secret(void)
{
	struct sigv4_request r = {
		.method = "GET",
		.host = "h",
		.path = "/k",
		.payload_hash = SIGV4_EMPTY_SHA256,
		.region = "us-east-1",
		.service = "s3",
		.time = T20130524,
	};
	const struct sig_creds other = {AK, "another-secret", NULL};
	struct sigv4_signer s = {0}, fresh = {0};
	char date[17], a1[512], a2[512], a3[512];

	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, a1, sizeof(a1), NULL,
			     NULL),
		  0);
	CHECK_INT(sigv4_sign(&s, &r, &other, date, a2, sizeof(a2), NULL, NULL),
		  0);
	CHECK_INT(sigv4_sign(&fresh, &r, &other, date, a3, sizeof(a3), NULL,
			     NULL),
		  0);
	CHECK(strcmp(a1, a2) != 0);
	CHECK_STR(a2, a3);
	/* a new day derives a new key */
	r.time += 86400;
	CHECK_INT(sigv4_sign(&s, &r, &other, date, a2, sizeof(a2), NULL, NULL),
		  0);
	CHECK(strcmp(a2, a3) != 0);
	CHECK(strstr(a2, "/20130525/") != NULL);
}

static void test_refusals(void)
{
	struct sig_header bad[] = {{"Bad Name", "x"}};
	struct sig_header crlf[] = {{"X-Ok", "a\r\nInjected: 1"}};
	struct sig_header own[] = {{"X-Amz-Date", "20130524T000000Z"}};
	struct sig_header many[SIG_MAX_HEADERS + 1];
	struct sigv4_request r = {
		.method = "GET",
		.host = "h",
		.path = "/k",
		.payload_hash = SIGV4_EMPTY_SHA256,
		.region = "us-east-1",
		.service = "s3",
		.time = T20130524,
	};
	struct sigv4_signer s = {0};
	char date[17], auth[512];
	size_t i;

	r.headers = bad, r.nheaders = 1;
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  -EINVAL);
	r.headers = crlf;
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  -EINVAL);
	r.headers = own;
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  -EINVAL);
	for (i = 0; i < SIG_MAX_HEADERS + 1; i++)
		many[i] = (struct sig_header){"X-A", "1"};
	r.headers = many, r.nheaders = SIG_MAX_HEADERS + 1;
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  -EINVAL);
	r.nheaders = 0;
	r.region = "Bad_Region";
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  -EINVAL);
	r.region = "us-east-1";
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, 40, NULL, NULL),
		  -ENOSPC);
	r.time = 253402300800LL; /* year 10000 */
	CHECK_INT(sigv4_sign(&s, &r, &doc_creds, date, auth, sizeof(auth), NULL,
			     NULL),
		  -EINVAL);
}

static void test_uri_encode(void)
{
	char out[128];

	CHECK_INT(
		sig_uri_encode(out, sizeof(out), "a b+c=d~e/\xc3\xa9%", 13, 1),
		25);
	CHECK_STR(out, "a%20b%2Bc%3Dd~e/%C3%A9%25");
	CHECK_INT(sig_uri_encode(out, sizeof(out), "x/y", 3, 0), 5);
	CHECK_STR(out, "x%2Fy");
	CHECK_INT(sig_uri_encode(out, 4, "abcd", 4, 1), -ENOSPC);
	CHECK_INT(sig_uri_encode(out, 5, " ", 1, 1), 3);
	CHECK_INT(sig_uri_encode(out, 3, " ", 1, 1), -ENOSPC);
}

static void test_dates(void)
{
	static const struct {
		int64_t t;
		const char *amz;
		const char *http;
	} rows[] = {
		{0, "19700101T000000Z", "Thu, 01 Jan 1970 00:00:00 GMT"},
		{1175024202, "20070327T193642Z",
		 "Tue, 27 Mar 2007 19:36:42 GMT"},
		{951782400, "20000229T000000Z",
		 "Tue, 29 Feb 2000 00:00:00 GMT"},
		{-1, "19691231T235959Z", "Wed, 31 Dec 1969 23:59:59 GMT"},
		{253402300799LL, "99991231T235959Z",
		 "Fri, 31 Dec 9999 23:59:59 GMT"},
	};
	static const char *const bad[] = {
		"20130230T000000Z", "20131301T000000Z",
		"20130524T240000Z", "20130524T000060Z",
		"20130524 000000Z", "20130524T000000",
		"2013052T000000Z",  "20130524T00000aZ",
		"21000229T000000Z", "",
	};
	static const char *const bad_http[] = {
		"Tue, 27 Mar 2007 19:36:42 UTC",
		"Tue, 27 Mar 2007 19:36:42",
		"Tue 27 Mar 2007 19:36:42 GMT",
		"Tue, 27 Foo 2007 19:36:42 GMT",
		"Xyz, 27 Mar 2007 19:36:42 GMT",
		"Tue, 30 Feb 2007 19:36:42 GMT",
		"Tue, 27 Mar 2007 24:36:42 GMT",
		"Tue, 27 Mar 20x7 19:36:42 GMT",
		"Tuesday, 27-Mar-07 19:36:42 GMT",
		"ueT, 27 Mar 2007 19:36:42 GMT",
	};
	char amz[17], http[30];
	int64_t t;
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_INT(sig_amz_date(amz, rows[i].t), 0);
		CHECK_STR(amz, rows[i].amz);
		CHECK_INT(sig_parse_amz_date(rows[i].amz, &t), 0);
		CHECK_INT(t, rows[i].t);
		CHECK_INT(sig_http_date(http, rows[i].t), 0);
		CHECK_STR(http, rows[i].http);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(sig_parse_amz_date(bad[i], &t), -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
	CHECK_INT(sig_parse_amz_date("20000229T120000Z", &t), 0);
	/* server Date headers, parsed back */
	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		CHECK_INT(sig_parse_http_date(rows[i].http, &t), 0);
		CHECK_INT(t, rows[i].t);
	}
	for (i = 0; i < sizeof(bad_http) / sizeof(bad_http[0]); i++)
		if (!CHECK_INT(sig_parse_http_date(bad_http[i], &t), -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad_http[i]);
	CHECK_INT(sig_amz_date(amz, 253402300800LL), -EINVAL);
}

/* "Example: A presigned URL" of sigv4-query-string-auth: GET test.txt
 * for 86400 s. */
static void test_doc_presign(void)
{
	struct sigv4_request r = {
		.method = "GET",
		.host = "examplebucket.s3.amazonaws.com",
		.path = "/test.txt",
		.payload_hash = SIGV4_UNSIGNED_PAYLOAD,
		.region = "us-east-1",
		.service = "s3",
		.time = T20130524,
	};
	struct sig_creds tok = {AK, SK, "tok/en+="};
	struct sigv4_signer s = {0};
	char q[1024], cbuf[1024];
	struct sig_trace canon = {cbuf, sizeof(cbuf), 0};

	CHECK_INT(sigv4_presign(&s, &r, &doc_creds, 86400, q, sizeof(q), &canon,
				NULL),
		  0);
	CHECK_STR(q, "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=" AK
		     "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
		     "20130524T000000Z&X-Amz-Expires=86400&X-Amz-"
		     "SignedHeaders=host&X-Amz-Signature="
		     "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751"
		     "f604d404");
	CHECK_STR(cbuf, "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&"
			"X-Amz-Credential=" AK "%2F20130524%2Fus-east-1%2Fs3%2F"
			"aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-"
			"Expires=86400&X-Amz-SignedHeaders=host\n"
			"host:examplebucket.s3.amazonaws.com\n\nhost\n"
			"UNSIGNED-PAYLOAD");
	/* a session token is signed, and comes before the signature */
	CHECK_INT(sigv4_presign(&s, &r, &tok, 60, q, sizeof(q), NULL, NULL), 0);
	CHECK(strstr(q, "&X-Amz-Security-Token=tok%2Fen%2B%3D&X-Amz-"
			"Signature=") != NULL);
	/* S3 takes one second to seven days */
	CHECK_INT(
		sigv4_presign(&s, &r, &doc_creds, 0, q, sizeof(q), NULL, NULL),
		-EINVAL);
	CHECK_INT(sigv4_presign(&s, &r, &doc_creds, 604801, q, sizeof(q), NULL,
				NULL),
		  -EINVAL);
	CHECK_INT(sigv4_presign(&s, &r, &doc_creds, 604800, q, 100, NULL, NULL),
		  -ENOSPC);
	sigv4_signer_wipe(&s);
}

static const struct unit_test tests[] = {
	{"sigv4_doc_get_object", test_doc_get_object},
	{"sigv4_doc_presign", test_doc_presign},
	{"sigv4_doc_examples", test_doc_examples},
	{"sigv4_canonical_details", test_canonical_details},
	{"sigv4_key_cache", test_key_cache_follows_secret},
	{"sigv4_refusals", test_refusals},
	{"sig_uri_encode", test_uri_encode},
	{"sig_dates", test_dates},
};

UNIT_SUITE(sigv4, tests);
