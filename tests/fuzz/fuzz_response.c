/* SPDX-License-Identifier: MIT */
/*
 * fuzz_response.c - response heads, then the rest of the input through the
 * chunked decoder with a small output buffer (as a body read would).
 */
#include <stdint.h>
#include <stdlib.h>
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct http_response r;
	struct http_chunked c = {0};
	const char *p = (const char *)data;
	char out[7];
	size_t used;
	long n;

	if (!size)
		return 0;
	n = http_parse_head(p + 1, size - 1, data[0] & 1, &r);
	if (n > 0)
		http_header(&r, "content-range");
	/* the whole input as a chunked body, 7 bytes out at a time */
	while (size && !c.done) {
		n = http_chunked_decode(&c, p, size, &used, out, sizeof(out));
		if (n < 0 || (!n && !used))
			break;
		p += used;
		size -= used;
	}
	return 0;
}
