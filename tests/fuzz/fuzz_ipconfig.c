/* SPDX-License-Identifier: MIT */
/* fuzz_ipconfig.c - the kernel's ip= syntax. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipconfig ip;
	char err[256], *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	ipconfig_parse(s, &ip, err, sizeof(err));
	free(s);
	return 0;
}
