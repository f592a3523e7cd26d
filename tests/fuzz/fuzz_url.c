/* SPDX-License-Identifier: MIT */
/*
 * fuzz_url.c - URLs and sources: url_parse, source_parse and the request
 * target built from them, whose encoded path must stay in bounds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3root.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opts o = {0};
	struct source src;
	struct s3_target t;
	struct url u;
	char err[256], hh[300], *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (!url_parse(s, &u)) {
		url_host_header(&u, hh, sizeof(hh));
		opts_set(&o, "s3.endpoint", s, OPT_SRC_ARG, err, sizeof(err));
	}
	opts_finish(&o, err, sizeof(err));
	if (!source_parse(s, &src, err, sizeof(err)))
		s3_target_init(&o, &src, &t, err, sizeof(err));
	opts_free(&o);
	free(s);
	return 0;
}
