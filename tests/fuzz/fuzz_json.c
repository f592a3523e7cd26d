/* SPDX-License-Identifier: MIT */
/* fuzz_json.c - the flat JSON reader, asked for members as the credentials
 * document's reader asks, into buffers of several sizes. */
#include <stdint.h>
#include <string.h>
#include "util/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char a[2], b[16], c[300], err[160];
	struct util_json_field f[] = {
		{"a", a, sizeof(a), 0},
		{"Token", b, sizeof(b), 0},
		{"AccessKeyId", c, sizeof(c), 0},
	};

	if (!util_json_fields((const char *)data, size, f, 3, err, sizeof(err)))
		for (size_t k = 0; k < 3; k++)
			if (f[k].found && strlen(f[k].out) >= f[k].outlen)
				__builtin_trap();
	return 0;
}
