/* SPDX-License-Identifier: MIT */
/*
 * verity.h - verified roots: dm-verity hash trees (the format veritysetup
 * writes) and the device-mapper ioctls that stack a verity device over an
 * NBD device. Exports: verity_*, dm_*.
 */
#ifndef S3ROOT_VERITY_H
#define S3ROOT_VERITY_H

#include <stddef.h>
#include <stdint.h>
#include "src/s3/s3.h"

/* ---- dm-verity hash trees (verity.c) ---- */

/*
 * The on-disk format veritysetup (cryptsetup) writes and the kernel's
 * dm-verity reads (Documentation/admin-guide/device-mapper/verity.rst):
 * format version 1, SHA-256, 4096-byte data and hash blocks. A block's
 * hash is SHA-256(salt || block); hashes of one level fill hash blocks
 * (128 to a block, zero-padded) whose hashes make the level above, up to
 * a level of one block, whose hash is the root hash. The levels are
 * stored top first, after a 4096-byte superblock.
 */
#define VERITY_BLOCK 4096
#define VERITY_HASH 32
#define VERITY_MAX_SALT 256
#define VERITY_MAX_LEVELS 12

struct verity_sb {
	uint64_t data_blocks;
	uint16_t salt_size;
	uint8_t salt[VERITY_MAX_SALT];
	uint8_t uuid[16];
};

/* The levels of a tree for data_blocks: blocks[0] is the leaf level. */
struct verity_geom {
	int levels;
	uint64_t blocks[VERITY_MAX_LEVELS];
	uint64_t total; /* hash blocks in all levels */
};

/* 0, or -EINVAL when data_blocks is below 2 (or absurdly large). */
int verity_geometry(uint64_t data_blocks, struct verity_geom *g);
/* SHA-256(salt || block), block VERITY_BLOCK bytes. */
void verity_hash_block(const struct verity_sb *sb, const uint8_t *block,
		       uint8_t out[VERITY_HASH]);
/*
 * Reads a superblock (untrusted: len bytes from the object) into sb.
 * 0, or -EINVAL with what is wrong in err.
 */
int verity_sb_parse(const uint8_t *p, size_t len, struct verity_sb *sb,
		    char *err, size_t errlen);
/* The superblock's VERITY_BLOCK bytes. */
void verity_sb_write(const struct verity_sb *sb, uint8_t out[VERITY_BLOCK]);

/*
 * Checks the object that holds a tree against the root hash root_hex: the
 * superblock at sb_off (s3root.verity_offset in the image, or 0 in an
 * object of its own), that it counts data_blocks blocks (what the data
 * is), that the tree fits, and the hash of its top block. On success *sb
 * and *hash_start (the tree's first block, in blocks) describe the table.
 * 0, or -EINVAL with a message in err.
 */
int verity_check_object(struct object *ob, const char *root_hex,
			uint64_t sb_off, uint64_t data_blocks,
			struct verity_sb *sb, uint64_t *hash_start, char *err,
			size_t errlen);

/* ---- device mapper (dm.c): our own ioctls on /dev/mapper/control ---- */

/*
 * Creates the read-only dm-verity device name over the data device dev
 * and the hash device hdev (the same device for an appended tree), the
 * tree at hash_start, and resumes it; its node (/dev/dm-N) in path.
 * onerror is VERITY_EIO, _PANIC or _RESTART; uuid is recorded with it
 * (dm_find gives it back). 0, or -errno with a message in err.
 */
int dm_verity_create(const char *name, const char *uuid, const char *dev,
		     const char *hdev, const struct verity_sb *sb,
		     uint64_t hash_start, const char *root_hex, int onerror,
		     char *path, size_t pathlen, char *err, size_t errlen);
/* Removes a dm device by name. 0, -ENXIO (none) or -errno. */
int dm_remove(const char *name, char *err, size_t errlen);
/* The node (/dev/dm-N) and uuid (DM_UUID_LEN) of the dm device name.
 * 0 or -errno. */
int dm_find(const char *name, char *path, size_t pathlen, char *uuid,
	    size_t uuidlen);
/* The name s3root gives the device over /dev/nbd<index>. */
void dm_name_for(int index, char *name, size_t len);
#endif
