/* SPDX-License-Identifier: MIT */
/*
 * fuzz_options.c - the option table's three parsers on arbitrary bytes:
 * an -o list, a config file and a kernel command line. The first byte
 * chooses the parser. What was set is then handed on as an -o list (as
 * /init hands the kernel command line's options to the root server, and
 * the state file keeps them for --reattach) and must read back the same.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/conf/conf.h"

static void ignore_word(void *arg, const char *w)
{
	(void)arg;
	(void)w;
}

/* The values set from src, through opts_to_list and back, unchanged. */
static void round_trip(const struct opts *o, enum opt_src src)
{
	static char list[OPT__COUNT * (2 * OPT_MAX_VALUE + 64)];
	struct opts back = {0};
	char err[256];
	int i;

	if (opts_to_list(o, src, list, sizeof(list)) ||
	    opts_parse_list(&back, list, OPT_SRC_ARG, err, sizeof(err)))
		abort();
	for (i = 0; i < OPT__COUNT; i++)
		if ((o->v[i].src == src) != (back.v[i].str != NULL) ||
		    (back.v[i].str && strcmp(back.v[i].str, o->v[i].str)))
			abort();
	opts_free(&back);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum opt_src srcs[] = {OPT_SRC_ARG, OPT_SRC_CONFIG,
					    OPT_SRC_KCMDLINE};
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
	round_trip(&o, srcs[data[0] % 3]);
	opts_finish(&o, err, sizeof(err));
	opts_free(&o);
	free(s);
	return 0;
}
