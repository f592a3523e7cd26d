/* SPDX-License-Identifier: MIT */
/*
 * verity.c - dm-verity hash trees: the geometry, the superblock
 * veritysetup writes (cryptsetup's lib/verity/verity.c layout, format
 * version 1) and the check of an object against s3root.verity before the
 * kernel is given the table (Documentation/admin-guide/device-mapper/
 * verity.rst).
 */
#include <errno.h>
#include <string.h>
#include "crypto/crypto.h"
#include "src/verity/verity.h"

#define HASHES_PER_BLOCK (VERITY_BLOCK / VERITY_HASH)

/* Superblock fields (little-endian), 512 bytes used of the block. */
#define SB_SIGNATURE 0
#define SB_VERSION 8
#define SB_HASH_TYPE 12
#define SB_UUID 16
#define SB_ALGORITHM 32
#define SB_DATA_BLOCK_SIZE 64
#define SB_HASH_BLOCK_SIZE 68
#define SB_DATA_BLOCKS 72
#define SB_SALT_SIZE 80
#define SB_SALT 88
#define SB_USED 512

static const char sb_signature[8] = "verity\0";

int verity_geometry(uint64_t data_blocks, struct verity_geom *g)
{
	uint64_t n = data_blocks;

	memset(g, 0, sizeof(*g));
	/* one data block would make a tree of no levels: not an image */
	if (data_blocks < 2 || data_blocks > (UINT64_MAX >> 13))
		return -EINVAL;
	while (n > 1) {
		n = (n + HASHES_PER_BLOCK - 1) / HASHES_PER_BLOCK;
		g->blocks[g->levels++] = n;
		g->total += n;
	}
	return 0;
}

void verity_hash_block(const struct verity_sb *sb, const uint8_t *block,
		       uint8_t out[VERITY_HASH])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, sb->salt, sb->salt_size);
	sha256_update(&c, block, VERITY_BLOCK);
	sha256_out(&c, out);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

int verity_sb_parse(const uint8_t *p, size_t len, struct verity_sb *sb,
		    char *err, size_t errlen)
{
	uint64_t blocks = 0;
	int i;

	memset(sb, 0, sizeof(*sb));
	if (len < SB_USED)
		return base_fail(err, errlen,
				 "a verity superblock is %d bytes, "
				 "only %zu there",
				 SB_USED, len);
	if (memcmp(p + SB_SIGNATURE, sb_signature, 8))
		return base_fail(err, errlen,
				 "no verity superblock there (made by s3root "
				 "verity-format --appended or veritysetup "
				 "format --hash-offset?)");
	if (get32(p + SB_VERSION) != 1 || get32(p + SB_HASH_TYPE) != 1)
		return base_fail(err, errlen,
				 "verity superblock version %u, hash type %u "
				 "(only 1 and 1 are supported)",
				 get32(p + SB_VERSION),
				 get32(p + SB_HASH_TYPE));
	if (memcmp(p + SB_ALGORITHM, "sha256", 7))
		return base_fail(err, errlen,
				 "the hash tree is not SHA-256 "
				 "(only sha256 is supported)");
	if (get32(p + SB_DATA_BLOCK_SIZE) != VERITY_BLOCK ||
	    get32(p + SB_HASH_BLOCK_SIZE) != VERITY_BLOCK)
		return base_fail(err, errlen,
				 "verity block sizes %u/%u (only 4096/4096 are "
				 "supported)",
				 get32(p + SB_DATA_BLOCK_SIZE),
				 get32(p + SB_HASH_BLOCK_SIZE));
	for (i = 7; i >= 0; i--)
		blocks = blocks << 8 | p[SB_DATA_BLOCKS + i];
	sb->data_blocks = blocks;
	sb->salt_size = (uint16_t)(p[SB_SALT_SIZE] | p[SB_SALT_SIZE + 1] << 8);
	if (sb->salt_size > VERITY_MAX_SALT)
		return base_fail(err, errlen,
				 "verity salt of %u bytes (at most %d)",
				 sb->salt_size, VERITY_MAX_SALT);
	memcpy(sb->salt, p + SB_SALT, sb->salt_size);
	memcpy(sb->uuid, p + SB_UUID, 16);
	return 0;
}

void verity_sb_write(const struct verity_sb *sb, uint8_t out[VERITY_BLOCK])
{
	int i;

	memset(out, 0, VERITY_BLOCK);
	memcpy(out + SB_SIGNATURE, sb_signature, 8);
	put32(out + SB_VERSION, 1);
	put32(out + SB_HASH_TYPE, 1);
	memcpy(out + SB_UUID, sb->uuid, 16);
	memcpy(out + SB_ALGORITHM, "sha256", 6);
	put32(out + SB_DATA_BLOCK_SIZE, VERITY_BLOCK);
	put32(out + SB_HASH_BLOCK_SIZE, VERITY_BLOCK);
	for (i = 0; i < 8; i++)
		out[SB_DATA_BLOCKS + i] = (uint8_t)(sb->data_blocks >> (8 * i));
	out[SB_SALT_SIZE] = (uint8_t)sb->salt_size;
	out[SB_SALT_SIZE + 1] = (uint8_t)(sb->salt_size >> 8);
	memcpy(out + SB_SALT, sb->salt, sb->salt_size);
}

int verity_check_object(struct object *ob, const char *root_hex,
			uint64_t sb_off, uint64_t data_blocks,
			struct verity_sb *sb, uint64_t *hash_start, char *err,
			size_t errlen)
{
	uint8_t block[VERITY_BLOCK];
	const struct object_info *info = object_info(ob);
	uint8_t want[VERITY_HASH], got[VERITY_HASH];
	struct verity_geom g;
	char why[300], hex[2 * VERITY_HASH + 1];
	uint64_t end;

	if (hex_decode(want, root_hex, VERITY_HASH))
		return base_fail(err, errlen, "s3root.verity: not a root hash");
	if (__builtin_add_overflow(sb_off, 2 * VERITY_BLOCK, &end) ||
	    end > info->size)
		return base_fail(
			err, errlen,
			"%s: no room for a hash tree at offset %llu (the "
			"object has %llu bytes)",
			info->name, (unsigned long long)sb_off,
			(unsigned long long)info->size);
	if (object_read(ob, block, sb_off, VERITY_BLOCK, 0, why, sizeof(why)))
		return base_fail(err, errlen, "%s", why);
	if (verity_sb_parse(block, VERITY_BLOCK, sb, why, sizeof(why)))
		return base_fail(err, errlen, "%s at offset %llu: %s",
				 info->name, (unsigned long long)sb_off, why);
	/*
	 * The block count must be the data's: the root hash does not cover
	 * the superblock, and a smaller count could make the tree one level
	 * shorter, its hash blocks served as "verified" data. Appended, the
	 * data is everything before the tree (a trusted offset); with the
	 * tree in an object of its own it is the image object's size, only
	 * as trustworthy as the bucket (README, "Verified roots").
	 */
	if (sb->data_blocks != data_blocks)
		return base_fail(
			err, errlen,
			"%s: the verity superblock says %llu data blocks, "
			"not the image's %llu",
			info->name, (unsigned long long)sb->data_blocks,
			(unsigned long long)data_blocks);
	if (verity_geometry(sb->data_blocks, &g) ||
	    g.total > (info->size - sb_off) / VERITY_BLOCK - 1)
		return base_fail(
			err, errlen,
			"%s: the verity tree of %llu data blocks does not "
			"fit in the object",
			info->name, (unsigned long long)data_blocks);
	*hash_start = sb_off / VERITY_BLOCK + 1;
	/* the top level's one block comes first: its hash is the root */
	if (object_read(ob, block, (*hash_start) * VERITY_BLOCK, VERITY_BLOCK,
			0, why, sizeof(why)))
		return base_fail(err, errlen, "%s", why);
	verity_hash_block(sb, block, got);
	if (memcmp(got, want, VERITY_HASH)) {
		hex_encode(hex, got, VERITY_HASH);
		return base_fail(
			err, errlen,
			"%s: root hash mismatch: the image's hash tree has "
			"root hash %s, not the s3root.verity= given (a "
			"wrong hash, or the object is not the image it "
			"was made for); refusing it",
			info->name, hex);
	}
	return 0;
}
