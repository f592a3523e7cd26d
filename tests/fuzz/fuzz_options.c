/* SPDX-License-Identifier: MIT */
/*
 * fuzz_options.c - the option table's three parsers on arbitrary bytes:
 * an -o list, a config file and a kernel command line. The first byte
 * chooses the parser.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3root.h"

static void ignore_word(void *arg, const char *w)
{
	(void)arg;
	(void)w;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct opts o = {0};
	char err[256], *s;

	if (size < 1)
		return 0;
	s = malloc(size);
	if (!s)
		return 0;
	memcpy(s, data + 1, size - 1);
	s[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		opts_parse_list(&o, s, OPT_SRC_ARG, err, sizeof(err));
		break;
	case 1:
		opts_parse_file(&o, (const char *)data + 1, size - 1, "fuzz",
				err, sizeof(err));
		break;
	case 2:
		opts_parse_kcmdline(&o, s, ignore_word, ignore_word, NULL);
		break;
	}
	opts_finish(&o, err, sizeof(err));
	opts_free(&o);
	free(s);
	return 0;
}
