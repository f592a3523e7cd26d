/* SPDX-License-Identifier: MIT */
/* fuzz_passwd.c - s3fs passwd files. */
#include <stdint.h>
#include "src/s3/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct creds c = {0};
	char err[256];

	creds_parse_passwd(&c, (const char *)data, size, "boot", err,
			   sizeof(err));
	creds_free(&c);
	return 0;
}
