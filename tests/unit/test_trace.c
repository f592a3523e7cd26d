/* SPDX-License-Identifier: MIT */
/* test_trace.c - the trace file's parser and formatter, and the recorder. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/trace/trace.h"
#include "tests/unit/unit.h"

#define HEAD "s3root-trace 1\nsize 1000000\netag \"abc\"\n"

static int parse(const char *text, struct trace *t, char *err, size_t n)
{
	return trace_parse(text, strlen(text), t, err, n);
}

static void test_trace_parse_good(void)
{
	struct trace t;
	char err[300];

	CHECK_INT(parse(HEAD "0 4096 0\n4096 131072 15\n0 4096 15\n"
			     "999999 1 20\nend 4\n",
			&t, err, sizeof(err)),
		  0);
	CHECK_INT(t.size, 1000000);
	CHECK_STR(t.etag, "\"abc\"");
	CHECK_INT(t.n, 4);
	CHECK_INT(t.r[1].off, 4096);
	CHECK_INT(t.r[1].len, 131072);
	CHECK_INT(t.r[1].ms, 15);
	CHECK_INT(t.r[3].off, 999999);
	CHECK_INT(trace_bytes(&t), 4096 + 131072 + 4096 + 1);
	trace_free(&t);
	CHECK_INT(parse(HEAD "end 0\n", &t, err, sizeof(err)), 0);
	CHECK_INT(t.n, 0);
	trace_free(&t);
}

/* Each must be refused with a message that contains want. */
static void check_bad(const char *text, const char *want)
{
	struct trace t;
	char err[300] = "";

	if (!CHECK_INT(parse(text, &t, err, sizeof(err)), -EINVAL) ||
	    !CHECK(strstr(err, want) != NULL))
		fprintf(stderr, "  input: %s\n  error: %s\n", text, err);
	CHECK(t.r == NULL && t.n == 0);
}

static void test_trace_parse_bad(void)
{
	check_bad("", "not an s3root trace");
	check_bad("s3root-trace 2\nsize 1\netag x\nend 0\n", "version 2");
	check_bad("s3root-trace 01\nsize 1\netag x\nend 0\n", "not an s3root");
	check_bad("s3root-trace 1\nsize 0\netag x\nend 0\n", "line 2");
	check_bad("s3root-trace 1\nsize 99999999999999999999\netag x\nend 0\n",
		  "line 2");
	check_bad("s3root-trace 1\nsize 1\netag \nend 0\n", "line 3");
	check_bad("s3root-trace 1\nsize 1\netag a b\nend 0\n", "line 3");
	/* cut short: no end line, or no LF on the last one */
	check_bad(HEAD "0 4096 0\n", "cut short");
	check_bad(HEAD "0 4096 0\nend 1", "cut short");
	check_bad(HEAD "0 4096 0\n4096 40", "cut short");
	/* the count must match, and nothing may follow */
	check_bad(HEAD "0 4096 0\nend 2\n", "'end 1' expected");
	check_bad(HEAD "0 4096 0\nend 1\n\n", "after the 'end'");
	/* zero-length, huge, past the end, overflowing, time going back */
	check_bad(HEAD "0 0 0\nend 1\n", "a read of 0 bytes");
	check_bad(HEAD "0 33554433 0\nend 1\n", "a read of 33554433");
	check_bad(HEAD "999999 2 0\nend 1\n", "past the image's end");
	check_bad(HEAD "18446744073709551615 4096 0\nend 1\n",
		  "past the image's end");
	check_bad(HEAD "18446744073709551616 1 0\nend 1\n", "line 4");
	check_bad(HEAD "0 4096 10\n0 4096 9\nend 2\n", "before the previous");
	check_bad(HEAD "0 4096 86400001\nend 1\n", "past a day");
	/* the syntax: signs, leading zeros, CR, extra spaces, words */
	check_bad(HEAD "+1 4096 0\nend 1\n", "line 4");
	check_bad(HEAD "01 4096 0\nend 1\n", "line 4");
	check_bad(HEAD "0 4096 0\r\nend 1\n", "line 4");
	check_bad(HEAD "0  4096 0\nend 1\n", "line 4");
	check_bad(HEAD "0 4096\nend 1\n", "line 4");
	check_bad(HEAD "0 4096 0 7\nend 1\n", "line 4");
	check_bad(HEAD "end -1\n", "'end 0' expected");
}

/* A file over the byte cap, and one with a read too many. */
static void test_trace_parse_caps(void)
{
	size_t cap = TRACE_MAX_BYTES + 64, n = 0, i;
	char *big = malloc(cap), err[300] = "";
	struct trace t;

	n += (size_t)snprintf(big, cap, HEAD);
	for (i = 0; i <= TRACE_MAX_RANGES; i++)
		n += (size_t)snprintf(big + n, cap - n, "0 1 0\n");
	n += (size_t)snprintf(big + n, cap - n, "end %u\n",
			      TRACE_MAX_RANGES + 1);
	CHECK_INT(trace_parse(big, n, &t, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "more than 131072 reads") != NULL);
	memset(big, 'x', cap);
	CHECK_INT(trace_parse(big, TRACE_MAX_BYTES + 1, &t, err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "at most") != NULL);
	free(big);
}

/* What the formatter writes, the parser reads back the same. */
static void test_trace_format_roundtrip(void)
{
	struct trace_range r[] = {{0, 4096, 0}, {8192, 65536, 3}, {0, 1, 3}};
	struct trace t = {.size = 73728, .r = r, .n = 3}, u;
	char *out, err[300];
	size_t len;

	strcpy(t.etag, "\"e-1\"");
	CHECK_INT(trace_format(&t, &out, &len), 0);
	CHECK_MEM(out, len,
		  "s3root-trace 1\nsize 73728\netag \"e-1\"\n0 4096 0\n"
		  "8192 65536 3\n0 1 3\nend 3\n",
		  strlen("s3root-trace 1\nsize 73728\netag \"e-1\"\n0 4096 0\n"
			 "8192 65536 3\n0 1 3\nend 3\n"));
	CHECK_INT(trace_parse(out, len, &u, err, sizeof(err)), 0);
	CHECK_INT(u.n, 3);
	CHECK(!memcmp(u.r, r, sizeof(r)));
	trace_free(&u);
	free(out);
	/* one the parser would refuse is not written */
	r[1].ms = 7;
	CHECK_INT(trace_format(&t, &out, &len), -EINVAL);
	CHECK(out == NULL);
}

static void test_trace_rec(void)
{
	struct trace_rec *rec;
	struct trace_rec_state st;
	struct trace t;
	char *out, err[300];
	size_t len;

	CHECK_INT(trace_rec_new(&rec, 10000, "\"x y\"", 0, 0), -EINVAL);
	CHECK_INT(trace_rec_new(&rec, 10000, "\"e\"", 5000, 1000), 0);
	CHECK_INT(trace_rec_save(rec, &out, &len), -ENODATA);
	trace_rec_free(rec);
	CHECK_INT(trace_rec_new(&rec, 10000, "\"e\"", 5000, 1000), 0);
	/* no idle rule before the first read */
	trace_rec_state(rec, 100000, &st);
	CHECK_INT(st.mode, TRACE_RECORDING);
	trace_rec_add(rec, 0, 4096, 101000);
	trace_rec_add(rec, 4096, 4096, 101010);
	trace_rec_add(rec, 9000, 4096, 101020);	 /* clipped to 1000 */
	trace_rec_add(rec, 10000, 4096, 101030); /* past the end: skipped */
	trace_rec_state(rec, 104000, &st);
	CHECK_INT(st.mode, TRACE_RECORDING);
	CHECK_INT(st.n, 3);
	CHECK_INT(st.bytes, 4096 + 4096 + 1000);
	CHECK_INT(st.last_ms, 100020);
	/* 5 s without a read stops it; later reads are not taken */
	trace_rec_add(rec, 0, 512, 106020);
	trace_rec_state(rec, 106020, &st);
	CHECK_INT(st.mode, TRACE_IDLE);
	CHECK_INT(st.n, 3);
	CHECK_STR(trace_rec_mode_name(st.mode), "idle");
	CHECK_INT(trace_rec_save(rec, &out, &len), 0);
	CHECK_INT(trace_parse(out, len, &t, err, sizeof(err)), 0);
	CHECK_INT(t.n, 3);
	CHECK_INT(t.r[2].off, 9000);
	CHECK_INT(t.r[2].len, 1000);
	CHECK_INT(t.r[2].ms, 100020);
	CHECK_STR(t.etag, "\"e\"");
	trace_free(&t);
	free(out);
	trace_rec_free(rec);
}

/* An explicit stop; no ETag (a plain server's) becomes "-". */
static void test_trace_rec_stop(void)
{
	struct trace_rec *rec;
	struct trace_rec_state st;
	char *out;
	size_t len;

	CHECK_INT(trace_rec_new(&rec, 4096, "", 0, 0), 0);
	trace_rec_add(rec, 0, 4096, 10);
	trace_rec_stop(rec);
	trace_rec_add(rec, 0, 4096, 20);
	trace_rec_state(rec, 999999999, &st);
	CHECK_INT(st.mode, TRACE_STOPPED);
	CHECK_INT(st.n, 1);
	CHECK_INT(trace_rec_save(rec, &out, &len), 0);
	CHECK_MEM(out, len,
		  "s3root-trace 1\nsize 4096\netag -\n0 4096 10\nend 1\n",
		  strlen("s3root-trace 1\nsize 4096\netag -\n0 4096 10\nend "
			 "1\n"));
	free(out);
	trace_rec_free(rec);
}

static const struct unit_test tests[] = {
	{"trace_parse_good", test_trace_parse_good},
	{"trace_parse_bad", test_trace_parse_bad},
	{"trace_parse_caps", test_trace_parse_caps},
	{"trace_format_roundtrip", test_trace_format_roundtrip},
	{"trace_rec", test_trace_rec},
	{"trace_rec_stop", test_trace_rec_stop},
};
UNIT_SUITE(trace, tests);
