/* SPDX-License-Identifier: MIT */
/* test_verity.c - dm-verity tree geometry and superblocks. */
#include <errno.h>
#include <string.h>
#include "crypto/crypto.h"
#include "src/verity/verity.h"
#include "tests/unit/unit.h"

static void test_geometry(void)
{
	static const struct {
		uint64_t data_blocks;
		int levels;
		uint64_t blocks[3], total;
	} cases[] = {
		{2, 1, {1}, 1},
		{128, 1, {1}, 1},
		{129, 2, {2, 1}, 3},
		{733, 2, {6, 1}, 7}, /* veritysetup dump: 7 hash blocks */
		{16384, 2, {128, 1}, 129},
		{16385, 3, {129, 2, 1}, 132},
	};
	struct verity_geom g;
	size_t i;
	int l;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(verity_geometry(cases[i].data_blocks, &g), 0);
		CHECK_INT(g.levels, cases[i].levels);
		for (l = 0; l < g.levels && l < 3; l++)
			CHECK_INT(g.blocks[l], cases[i].blocks[l]);
		CHECK_INT(g.total, cases[i].total);
	}
	CHECK_INT(verity_geometry(0, &g), -EINVAL);
	CHECK_INT(verity_geometry(1, &g), -EINVAL);
	CHECK_INT(verity_geometry(UINT64_MAX, &g), -EINVAL);
}

/*
 * A block of zeros with salt 00112233 (Python's hashlib), and the root
 * hash `veritysetup format --salt 00112233` gives two such blocks: the
 * hash of the one tree block holding their two hashes.
 */
static void test_hash_block(void)
{
	struct verity_sb sb = {.data_blocks = 2,
			       .salt_size = 4,
			       .salt = {0, 0x11, 0x22, 0x33}};
	static const uint8_t zero[VERITY_BLOCK];
	static uint8_t top[VERITY_BLOCK];
	uint8_t got[VERITY_HASH], want[VERITY_HASH];

	verity_hash_block(&sb, zero, got);
	unit_unhex(want, sizeof(want),
		   "7ec8dda1b53ca958f13d08bcb7f8320234bed38c694eaebd9bd43bbfbf"
		   "4d742f");
	CHECK_MEM(got, VERITY_HASH, want, VERITY_HASH);
	memcpy(top, got, VERITY_HASH);
	memcpy(top + VERITY_HASH, got, VERITY_HASH);
	verity_hash_block(&sb, top, got);
	unit_unhex(want, sizeof(want),
		   "816577a59c2afee79f589f2da71764d6d55bb77d6c299046978f111dd8"
		   "a11a95");
	CHECK_MEM(got, VERITY_HASH, want, VERITY_HASH);
}

static void test_superblock(void)
{
	struct verity_sb sb = {0}, back;
	uint8_t b[VERITY_BLOCK];
	char err[256];

	sb.data_blocks = 733;
	sb.salt_size = 32;
	memset(sb.salt, 0xab, 32);
	memset(sb.uuid, 0x42, 16);
	verity_sb_write(&sb, b);
	CHECK_MEM(b, 8, "verity\0\0", 8);
	CHECK_MEM(b + 32, 7, "sha256\0", 7);
	CHECK_INT(b[72] | b[73] << 8, 733);
	CHECK_INT(verity_sb_parse(b, sizeof(b), &back, err, sizeof(err)), 0);
	CHECK_MEM(&back, sizeof(back), &sb, sizeof(sb));
	/* what the object may hold instead */
	CHECK_INT(verity_sb_parse(b, 511, &back, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "a verity superblock is 512 bytes, only 511 there");
	b[8] = 2;
	CHECK_INT(verity_sb_parse(b, sizeof(b), &back, err, sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "verity superblock version 2, hash type 1 (only 1 and "
		       "1 are supported)");
	b[8] = 1;
	memcpy(b + 32, "sha1\0\0\0", 7);
	CHECK_INT(verity_sb_parse(b, sizeof(b), &back, err, sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "the hash tree is not SHA-256 (only sha256 is "
		       "supported)");
	memcpy(b + 32, "sha256\0", 7);
	b[65] = 2; /* 512-byte data blocks */
	b[64] = 0;
	CHECK_INT(verity_sb_parse(b, sizeof(b), &back, err, sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "verity block sizes 512/4096 (only 4096/4096 are "
		       "supported)");
	b[65] = 0x10;
	b[80] = 1;
	b[81] = 1; /* a salt of 257 bytes */
	CHECK_INT(verity_sb_parse(b, sizeof(b), &back, err, sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "verity salt of 257 bytes (at most 256)");
	memset(b, 0, 8);
	CHECK_INT(verity_sb_parse(b, sizeof(b), &back, err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "no verity superblock there") != NULL);
}

static void test_unhex(void)
{
	uint8_t out[2];

	CHECK_INT(hex_decode(out, "0aFf", 2), 0);
	CHECK_MEM(out, 2, "\x0a\xff", 2);
	CHECK_INT(hex_decode(out, "0aF", 2), -EINVAL);
	CHECK_INT(hex_decode(out, "0aFg", 2), -EINVAL);
}

static const struct unit_test tests[] = {
	{"verity_geometry", test_geometry},
	{"verity_hash_block", test_hash_block},
	{"verity_superblock", test_superblock},
	{"hex_decode", test_unhex},
};

UNIT_SUITE(verity, tests);
