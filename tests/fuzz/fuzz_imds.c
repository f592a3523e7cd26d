/* SPDX-License-Identifier: MIT */
/* fuzz_imds.c - the instance metadata service's credentials document. */
#include <stdint.h>
#include "src/s3/s3.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct creds c;
	char err[256];

	if (!imds_parse_creds((const char *)data, size, 1796306758, &c, err,
			      sizeof(err)) &&
	    (!c.access_key || !c.secret_key || !c.session_token ||
	     c.expires <= 1796306758))
		__builtin_trap();
	creds_free(&c);
	return 0;
}
