/* SPDX-License-Identifier: MIT */
/* test_sigv2.c - SigV2 against the S3 RESTAuthentication examples. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "crypto/sigv2.h"
#include "tests/unit/unit.h"

#define AK "AKIAIOSFODNN7EXAMPLE"
#define SK "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

struct v2_case {
	const char *name;
	const char *method, *resource;
	struct sig_param params[3];
	size_t nparams;
	struct sig_header headers[12];
	size_t nheaders;
	const char *sts;
	const char *auth;
};

static const struct v2_case cases[] = {
	{"object GET",
	 "GET",
	 "/johnsmith/photos/puppy.jpg",
	 {{0}},
	 0,
	 {{"Date", "Tue, 27 Mar 2007 19:36:42 +0000"}},
	 1,
	 "GET\n\n\nTue, 27 Mar 2007 19:36:42 +0000\n"
	 "/johnsmith/photos/puppy.jpg",
	 "AWS " AK ":bWq2s1WEIj+Ydj0vQ697zp+IXMU="},
	{"object PUT",
	 "PUT",
	 "/johnsmith/photos/puppy.jpg",
	 {{0}},
	 0,
	 {{"Content-Type", "image/jpeg"},
	  {"Content-Length", "94328"},
	  {"Date", "Tue, 27 Mar 2007 21:15:45 +0000"}},
	 3,
	 "PUT\n\nimage/jpeg\nTue, 27 Mar 2007 21:15:45 +0000\n"
	 "/johnsmith/photos/puppy.jpg",
	 "AWS " AK ":MyyxeRY7whkBe+bq8fHCL/2kKUg="},
	{"list",
	 "GET",
	 "/johnsmith/",
	 {{"prefix", "photos"}, {"max-keys", "50"}, {"marker", "puppy"}},
	 3,
	 {{"User-Agent", "Mozilla/5.0"},
	  {"Date", "Tue, 27 Mar 2007 19:42:41 +0000"}},
	 2,
	 "GET\n\n\nTue, 27 Mar 2007 19:42:41 +0000\n/johnsmith/",
	 "AWS " AK ":htDYFYduRNen8P9ZfE/s9SuKy0U="},
	{"fetch acl",
	 "GET",
	 "/johnsmith/",
	 {{"acl", NULL}},
	 1,
	 {{"Date", "Tue, 27 Mar 2007 19:44:46 +0000"}},
	 1,
	 "GET\n\n\nTue, 27 Mar 2007 19:44:46 +0000\n/johnsmith/?acl",
	 "AWS " AK ":c2WLPFtWHVgbEmeEG93a4cG37dM="},
	/* The guide states that with x-amz-date the Date line is empty and
	 * x-amz-date is signed among the amz headers; its own DELETE example
	 * (lx3byBScXR6KzyMaifNkardMwNk=) puts the x-amz-date value on the
	 * Date line instead. We follow the rule, as RGW and botocore check
	 * it; the signature below is HMAC-SHA1 of the string shown. */
	{"delete with x-amz-date",
	 "DELETE",
	 "/johnsmith/photos/puppy.jpg",
	 {{0}},
	 0,
	 {{"User-Agent", "dotnet"},
	  {"Date", "Tue, 27 Mar 2007 21:20:27 +0000"},
	  {"x-amz-date", "Tue, 27 Mar 2007 21:20:26 +0000"}},
	 3,
	 "DELETE\n\n\n\nx-amz-date:Tue, 27 Mar 2007 21:20:26 +0000\n"
	 "/johnsmith/photos/puppy.jpg",
	 "AWS " AK ":R4dJ53KECjStyBO5iTBJZ4XVOaI="},
	{"upload with x-amz-meta",
	 "PUT",
	 "/static.johnsmith.net/db-backup.dat.gz",
	 {{0}},
	 0,
	 {{"User-Agent", "curl/7.15.5"},
	  {"Date", "Tue, 27 Mar 2007 21:06:08 +0000"},
	  {"x-amz-acl", "public-read"},
	  {"content-type", "application/x-download"},
	  {"Content-MD5", "4gJE4saaMU4BqNR0kLY+lw=="},
	  {"X-Amz-Meta-ReviewedBy", "joe@johnsmith.net"},
	  {"X-Amz-Meta-ReviewedBy", "jane@johnsmith.net"},
	  {"X-Amz-Meta-FileChecksum", "0x02661779"},
	  {"X-Amz-Meta-ChecksumAlgorithm", "crc32"},
	  {"Content-Disposition", "attachment; filename=database.dat"},
	  {"Content-Encoding", "gzip"},
	  {"Content-Length", "5913339"}},
	 12,
	 "PUT\n4gJE4saaMU4BqNR0kLY+lw==\napplication/x-download\n"
	 "Tue, 27 Mar 2007 21:06:08 +0000\n"
	 "x-amz-acl:public-read\n"
	 "x-amz-meta-checksumalgorithm:crc32\n"
	 "x-amz-meta-filechecksum:0x02661779\n"
	 "x-amz-meta-reviewedby:joe@johnsmith.net,jane@johnsmith.net\n"
	 "/static.johnsmith.net/db-backup.dat.gz",
	 "AWS " AK ":ilyl83RwaSoYIEdixDQcA4OnAnc="},
};

static void test_doc_examples(void)
{
	const struct sig_creds c = {AK, SK, NULL};
	char auth[256], sbuf[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct v2_case *v = &cases[i];
		struct sigv2_request r = {v->method,  v->resource, v->params,
					  v->nparams, v->headers,  v->nheaders};
		struct sig_trace sts = {sbuf, sizeof(sbuf), 0};
		int ok;

		ok = CHECK_INT(sigv2_sign(&r, &c, auth, sizeof(auth), &sts), 0);
		ok &= CHECK_STR(sbuf, v->sts);
		ok &= CHECK_STR(auth, v->auth);
		if (!ok)
			fprintf(stderr, "    case: %s\n", v->name);
	}
}

static void test_subresources_and_token(void)
{
	/* subresources sorted, values kept decoded; other params dropped;
	 * a session token is signed as x-amz-security-token */
	struct sig_param p[] = {{"versionId", "v+1"},
				{"response-content-type", "text/plain"},
				{"max-keys", "2"}};
	struct sig_header h[] = {{"Date", "Thu, 01 Jan 1970 00:00:00 GMT"},
				 {"x-amz-security-token", "stale"}};
	struct sigv2_request r = {"GET", "/b/k%20x", p, 3, h, 2};
	const struct sig_creds c = {AK, SK, "TOKEN"};
	char auth[256], sbuf[1024];
	struct sig_trace sts = {sbuf, sizeof(sbuf), 0};

	CHECK_INT(sigv2_sign(&r, &c, auth, sizeof(auth), &sts), 0);
	CHECK_STR(sbuf, "GET\n\n\nThu, 01 Jan 1970 00:00:00 GMT\n"
			"x-amz-security-token:TOKEN\n"
			"/b/k%20x?response-content-type=text/plain&"
			"versionId=v+1");
	CHECK(!strncmp(auth, "AWS " AK ":", strlen(AK) + 5));
	CHECK_INT(sigv2_sign(&r, &c, auth, 10, NULL), -ENOSPC);
}

static void test_refusals(void)
{
	struct sig_header h[] = {{"Authorization", "x"}};
	struct sig_header crlf[] = {{"x-amz-meta-a", "a\nb"}};
	struct sigv2_request r = {"GET", "/b/k", NULL, 0, h, 1};
	const struct sig_creds c = {AK, SK, NULL};
	const struct sig_creds space = {"AK X", SK, NULL};
	const struct sig_creds lf = {"AK\nX", SK, NULL};
	char auth[256];

	CHECK_INT(sigv2_sign(&r, &c, auth, sizeof(auth), NULL), -EINVAL);
	r.headers = crlf;
	CHECK_INT(sigv2_sign(&r, &c, auth, sizeof(auth), NULL), -EINVAL);
	r.nheaders = 0;
	CHECK_INT(sigv2_sign(&r, &space, auth, sizeof(auth), NULL), -EINVAL);
	CHECK_INT(sigv2_sign(&r, &lf, auth, sizeof(auth), NULL), -EINVAL);
}

/* Swift's s3api keys are "account:user": the receiver splits the header
 * at its last colon (botocore's HmacV1Auth writes it the same way). */
static void test_colon_key(void)
{
	struct sig_header h[] = {{"Date", "Thu, 01 Jan 1970 00:00:00 GMT"}};
	struct sigv2_request r = {"GET", "/b/k", NULL, 0, h, 1};
	const struct sig_creds c = {"acct:user", SK, NULL};
	const struct sig_creds plain = {"acctuser", SK, NULL};
	char auth[256], auth2[256];

	CHECK_INT(sigv2_sign(&r, &c, auth, sizeof(auth), NULL), 0);
	CHECK(!strncmp(auth, "AWS acct:user:", 14));
	CHECK(!strchr(auth + 14, ':'));
	/* the key is not signed: the same signature as any key */
	CHECK_INT(sigv2_sign(&r, &plain, auth2, sizeof(auth2), NULL), 0);
	CHECK_STR(auth + 14, auth2 + 13);
}

static const struct unit_test tests[] = {
	{"sigv2_doc_examples", test_doc_examples},
	{"sigv2_subresources_token", test_subresources_and_token},
	{"sigv2_refusals", test_refusals},
	{"sigv2_colon_key", test_colon_key},
};

UNIT_SUITE(sigv2, tests);
