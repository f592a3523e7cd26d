/* SPDX-License-Identifier: MIT */
/*
 * fuzz_verity.c - a dm-verity superblock as it comes from the object: what
 * parses must write back the same and have a sane geometry.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "src/verity/verity.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[VERITY_BLOCK];
	struct verity_sb sb, back;
	struct verity_geom g;
	char err[256];
	uint64_t sum = 0;
	int i;

	if (verity_sb_parse(data, size, &sb, err, sizeof(err)))
		return 0;
	if (sb.salt_size > VERITY_MAX_SALT)
		abort();
	verity_sb_write(&sb, out);
	if (verity_sb_parse(out, sizeof(out), &back, err, sizeof(err)) ||
	    memcmp(&sb, &back, sizeof(sb)))
		abort();
	if (!verity_geometry(sb.data_blocks, &g)) {
		if (g.levels < 1 || g.levels > VERITY_MAX_LEVELS ||
		    g.blocks[g.levels - 1] != 1)
			abort();
		for (i = 0; i < g.levels; i++)
			sum += g.blocks[i];
		if (sum != g.total)
			abort();
	}
	return 0;
}
