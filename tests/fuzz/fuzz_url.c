/* SPDX-License-Identifier: MIT */
/*
 * fuzz_url.c - URLs and sources: url_parse, source_parse (s3://b/k,
 * s3:b/k as root= gives it, b/k, http(s) URLs) and the request target
 * built from them, whose encoded path must stay in bounds. An input with a
 * newline is "ENDPOINT\nSOURCE", its length choosing s3.urlstyle (unset,
 * vhost or path); one without is both. A presigned URL's query must never
 * be in what is shown, and source_redact must stay within any buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const styles[] = {NULL, "vhost", "path"};
	struct opts o = {0};
	struct source src;
	struct s3_target t;
	struct url u;
	char err[256], hh[300], *s = malloc(size + 1), *source, *nl, *q;
	char small[64];

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	source = s;
	nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		source = nl + 1;
		if (styles[size % 3])
			opts_set(&o, "s3.urlstyle", styles[size % 3],
				 OPT_SRC_ARG, err, sizeof(err));
	}
	if (!url_parse(s, &u)) {
		url_host_header(&u, hh, sizeof(hh));
		opts_set(&o, "s3.endpoint", s, OPT_SRC_ARG, err, sizeof(err));
	}
	opts_finish(&o, err, sizeof(err));
	source_redact(s, small, size % sizeof(small) + 1);
	if (!source_parse(source, &src, err, sizeof(err)) && src.presigned) {
		q = strchr(src.shown, '?');
		if (!q || strcmp(q, "?<presigned>"))
			abort();
	}
	if (!source_parse(source, &src, err, sizeof(err)) &&
	    !s3_target_init(&o, &src, &t, err, sizeof(err)) &&
	    (t.url.path[0] != '/' || !t.host_header[0] ||
	     !memchr(t.url.path, 0, sizeof(t.url.path)) ||
	     !memchr(t.resource, 0, sizeof(t.resource))))
		abort();
	opts_free(&o);
	free(s);
	return 0;
}
