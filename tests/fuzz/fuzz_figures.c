/* SPDX-License-Identifier: MIT */
/*
 * fuzz_figures.c - what a server's figures socket says, as `list -v`
 * cleans it before showing it (attach_figures_clean): text keeps only
 * printable ASCII and newlines, accepted JSON has its brackets closed.
 */
#include <stdlib.h>
#include <string.h>
#include "src/attach/attach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 1);
	const unsigned char *p;
	int json, depth = 0, instr = 0;

	if (!buf || !size) {
		free(buf);
		return 0;
	}
	json = data[0] & 1;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (!attach_figures_clean(buf, json)) {
		for (p = (const unsigned char *)buf; *p; p++) {
			if ((*p < 0x20 && *p != '\n') || *p >= 0x7f)
				abort();
			if (!json)
				continue;
			if (instr && *p == '\\' && p[1])
				p++;
			else if (*p == '"')
				instr = !instr;
			else if (!instr && (*p == '{' || *p == '['))
				depth++;
			else if (!instr && (*p == '}' || *p == ']'))
				depth--;
			if (depth < 0)
				abort();
		}
		if (json && (depth || instr || buf[0] != '{'))
			abort();
	}
	free(buf);
	return 0;
}
