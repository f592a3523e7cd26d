/* SPDX-License-Identifier: MIT */
/*
 * test_s3resp.c - S3 error bodies, Content-Range and the clock offset, on
 * a response recorded from Ceph RGW (tests/vectors/rgw-403-skewed.http: a
 * GET signed for 2020-01-01 sent to a server in 2026).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/sigv2.h"
#include "src/s3/s3.h"
#include "tests/unit/unit.h"

static struct http_response resp;

static void test_recorded_skew(void)
{
	size_t len;
	char *raw = unit_read_vector("rgw-403-skewed.http", &len);
	long head = http_parse_head(raw, len, 0, &resp);
	struct s3_error e;
	int64_t sent = 1577836800, off = 0, server; /* 2020-01-01 */

	CHECK(head > 0);
	CHECK_INT(resp.status, 403);
	CHECK_INT(resp.body, HTTP_BODY_LENGTH);
	CHECK_INT(resp.length, len - (size_t)head);
	CHECK_INT(s3_error_parse(raw + head, len - (size_t)head, &e), 0);
	CHECK_STR(e.code, "RequestTimeTooSkewed");
	CHECK_INT(s3_clock_offset(http_header(&resp, "date"), sent, &off), 1);
	CHECK_INT(sig_parse_http_date(http_header(&resp, "date"), &server), 0);
	CHECK_INT(off, server - sent);
	CHECK(off > 5LL * 365 * 86400);
	/* once corrected, the same answer changes nothing */
	CHECK_INT(s3_clock_offset(http_header(&resp, "date"), sent, &off), 0);
	/* nor does a difference under five minutes */
	off = 0;
	CHECK_INT(
		s3_clock_offset(http_header(&resp, "date"), server - 299, &off),
		0);
	CHECK_INT(off, 0);
	CHECK_INT(
		s3_clock_offset(http_header(&resp, "date"), server + 301, &off),
		1);
	CHECK_INT(off, -301);
	CHECK_INT(s3_clock_offset(NULL, sent, &off), 0);
	CHECK_INT(s3_clock_offset("yesterday", sent, &off), 0);
	free(raw);
}

static void test_error_bodies(void)
{
	static const char aws[] =
		"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>"
		"PermanentRedirect</Code><Message>The bucket you are "
		"attempting "
		"to access must be addressed using the specified endpoint "
		"&amp; "
		"&lt;so on&gt;.</Message><Endpoint>b.s3.eu-west-1.amazonaws.com"
		"</Endpoint><Bucket>b</Bucket><Region>eu-west-1</Region>"
		"</Error>";
	struct s3_error e;
	char big[1000];

	CHECK_INT(s3_error_parse(aws, sizeof(aws) - 1, &e), 0);
	CHECK_STR(e.code, "PermanentRedirect");
	CHECK_STR(e.region, "eu-west-1");
	CHECK_STR(e.endpoint, "b.s3.eu-west-1.amazonaws.com");
	CHECK(strstr(e.message, "endpoint & <so on>.") != NULL);
	CHECK_INT(s3_error_parse("<Error><Message>x</Message></Error>", 35, &e),
		  -EINVAL);
	CHECK_INT(s3_error_parse("<html>502</html>", 16, &e), -EINVAL);
	/* not NUL-terminated: the length rules */
	CHECK_INT(s3_error_parse("<Error><Code>AccessDenied</Code>", 27, &e),
		  -EINVAL);
	CHECK_INT(s3_error_parse("<Error><Code>A\x01\nB</Code>", 25, &e), 0);
	CHECK_STR(e.code, "A??B");
	/* an overlong code is cut, not overflowed */
	strcpy(big, "<Error><Code>");
	memset(big + 13, 'C', 900);
	strcpy(big + 913, "</Code></Error>");
	CHECK_INT(s3_error_parse(big, strlen(big), &e), 0);
	CHECK_INT(strlen(e.code), sizeof(e.code) - 1);
}

static void test_content_range(void)
{
	static const char *const bad[] = {
		NULL,
		"",
		"bytes */100",
		"bytes 5-4/100",
		"bytes 0-100/100",
		"bytes 0-9/",
		"bytes 0-9/100x",
		"bytes -1-9/100",
		"bytes 0 -9/100",
		"items 0-9/100",
		"bytes 0-99999999999999999999999/1",
	};
	uint64_t s, e, t;
	size_t i;

	CHECK_INT(s3_parse_content_range("bytes 0-9/100", &s, &e, &t), 0);
	CHECK_INT(s, 0);
	CHECK_INT(e, 9);
	CHECK_INT(t, 100);
	CHECK_INT(s3_parse_content_range("bytes 99-99/100", &s, &e, &t), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(s3_parse_content_range(bad[i], &s, &e, &t),
			       -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
}

/* The hedging rule: 4x the median of recent first-byte times, >= 200 ms. */
static void test_hedge_after(void)
{
	uint32_t few[7] = {30, 30, 30, 30, 30, 30, 30};
	uint32_t fast[8] = {31, 29, 30, 35, 28, 30, 400, 32};
	uint32_t slow[9] = {120, 90, 100, 5000, 110, 95, 105, 100, 98};
	uint32_t huge[8], ring[S3_HEDGE_WINDOW];
	unsigned i;

	CHECK_INT(s3_hedge_after_ms(few, 7), 0); /* too few to learn */
	/* 4 x 30 = 120 is under the floor; one slow GET moves nothing */
	CHECK_INT(s3_hedge_after_ms(fast, 8), S3_HEDGE_FLOOR_MS);
	CHECK_INT(s3_hedge_after_ms(slow, 9), 400); /* 4 x the median 100 */
	for (i = 0; i < 8; i++)
		huge[i] = UINT32_MAX - i;
	CHECK_INT(s3_hedge_after_ms(huge, 8), UINT32_MAX); /* no overflow */
	for (i = 0; i < S3_HEDGE_WINDOW; i++) /* 10..640 ms, shuffled */
		ring[i] = ((i * 37) % S3_HEDGE_WINDOW + 1) * 10;
	CHECK_INT(s3_hedge_after_ms(ring, S3_HEDGE_WINDOW), 4 * 330);
}

static const struct unit_test tests[] = {
	{"s3resp_recorded_skew", test_recorded_skew},
	{"s3resp_error_bodies", test_error_bodies},
	{"s3resp_content_range", test_content_range},
	{"s3resp_hedge_after", test_hedge_after},
};

UNIT_SUITE(s3resp, tests);
