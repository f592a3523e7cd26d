/* SPDX-License-Identifier: MIT */
/*
 * fuzz_s3resp.c - S3 error bodies, Content-Range values and Date headers
 * (the clock offset), all from the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct s3_error e;
	uint64_t a, b, c;
	int64_t off = 0;
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	s3_error_parse((const char *)data, size, &e);
	memcpy(s, data, size);
	s[size] = '\0';
	s3_parse_content_range(s, &a, &b, &c);
	s3_clock_offset(s, (int64_t)size * 1000003, &off);
	free(s);
	return 0;
}
