/* SPDX-License-Identifier: MIT */
/*
 * fuzz_trace.c - the boot trace file (trace_parse): a published trace is
 * fetched from S3 at every attach that names one. What the parser takes
 * must obey the format's rules, and format back to the same bytes.
 */
#include <stdlib.h>
#include <string.h>
#include "src/trace/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace t;
	char err[300], *out;
	size_t i, len;

	if (trace_parse((const char *)data, size, &t, err, sizeof(err))) {
		if (!memchr(err, 0, sizeof(err)) || t.r || t.n)
			abort();
		return 0;
	}
	for (i = 0; i < t.n; i++)
		if (!t.r[i].len || t.r[i].len > TRACE_MAX_LEN ||
		    t.r[i].off + t.r[i].len > t.size ||
		    (i && t.r[i].ms < t.r[i - 1].ms))
			abort();
	/* the syntax has one spelling: formatting gives the input back */
	if (trace_format(&t, &out, &len) || len != size ||
	    memcmp(out, data, size))
		abort();
	free(out);
	trace_free(&t);
	return 0;
}
