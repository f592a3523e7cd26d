/* SPDX-License-Identifier: MIT */
/* fuzz_awsconf.c - the AWS CLI's shared files (~/.aws/credentials, config). */
#include <stdint.h>
#include "src/conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct awsconf a = {0};
	char err[256];

	awsconf_parse(&a, (const char *)data, size, "default", 0, "f", err,
		      sizeof(err));
	awsconf_parse(&a, (const char *)data, size, "prod", 1, "f", err,
		      sizeof(err));
	awsconf_free(&a);
	return 0;
}
