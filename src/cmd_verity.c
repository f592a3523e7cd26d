/* SPDX-License-Identifier: MIT */
/*
 * cmd_verity.c - `s3root verity-format IMAGE`: the dm-verity hash tree of
 * an image, in the format `veritysetup format` writes (see verity.c),
 * appended to the image (the layout s3root.verity_offset boots) or in a
 * file of its own; prints the root hash.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crypto/crypto.h"
#include "src/s3root.h"

enum { V_APPENDED = 1, V_OUTPUT, V_SALT, V_HELP };

static const struct cli_opt verity_opts[] = {
	{"--appended", 0, V_APPENDED}, {"--output", CLI_ONCE, V_OUTPUT},
	{"--salt", CLI_ONCE, V_SALT},  {"-h", 0, V_HELP},
	{"--help", 0, V_HELP},	       {NULL, 0, 0},
};

static void verity_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root verity-format IMAGE (--appended | --output "
		"FILE) [--salt HEX|-]\n"
		"Writes the dm-verity hash tree of IMAGE (SHA-256, 4096-byte "
		"blocks, the format\nof veritysetup format) and prints the "
		"root hash. --appended pads IMAGE to\n4096 bytes and appends "
		"the tree (its superblock at the printed hash offset):\nboot "
		"it with s3root.verity=ROOT_HASH s3root.verity_offset=OFFSET. "
		"--output\nwrites the tree to FILE instead (offset 0). The "
		"salt is 32 random bytes\nunless given ('-': none).\n");
}

static int full_pread(int fd, uint8_t *buf, size_t len, uint64_t off)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	memset(buf + got, 0, len - got); /* the last block, zero-filled */
	return 0;
}

static int full_pwrite(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, buf + done, len - done, (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		done += (size_t)n;
	}
	return 0;
}

/*
 * The tree of the image's data_blocks blocks (in fd), top level first, in
 * a malloc'd buffer of g->total blocks; the root hash in root.
 */
static int build_tree(int fd, const struct verity_sb *sb,
		      const struct verity_geom *g, uint8_t **out,
		      uint8_t root[VERITY_HASH])
{
	uint8_t block[VERITY_BLOCK], *tree, *level, *below;
	uint64_t start[VERITY_MAX_LEVELS], pos = 0, i;
	int l, r;

	tree = calloc(g->total, VERITY_BLOCK);
	if (!tree)
		return -ENOMEM;
	/* level l starts after the levels above it */
	for (l = g->levels - 1; l >= 0; l--) {
		start[l] = pos;
		pos += g->blocks[l];
	}
	level = tree + start[0] * VERITY_BLOCK;
	for (i = 0; i < sb->data_blocks; i++) {
		r = full_pread(fd, block, VERITY_BLOCK, i * VERITY_BLOCK);
		if (r) {
			free(tree);
			return r;
		}
		verity_hash_block(sb, block, level + i * VERITY_HASH);
	}
	for (l = 1; l < g->levels; l++) {
		below = tree + start[l - 1] * VERITY_BLOCK;
		level = tree + start[l] * VERITY_BLOCK;
		for (i = 0; i < g->blocks[l - 1]; i++)
			verity_hash_block(sb, below + i * VERITY_BLOCK,
					  level + i * VERITY_HASH);
	}
	verity_hash_block(sb, tree, root); /* the top level's one block */
	*out = tree;
	return 0;
}

static void print_hex(const char *label, const uint8_t *p, size_t n)
{
	size_t i;

	printf("%s", label);
	for (i = 0; i < n; i++)
		printf("%02x", p[i]);
	if (!n)
		printf("-");
	printf("\n");
}

int cmd_verity_format(int argc, char **argv, char **envp)
{
	struct cli cl = {.argc = argc, .argv = argv, .i = 1};
	const char *image = NULL, *output = NULL, *salt = NULL, *arg;
	uint8_t sbb[VERITY_BLOCK], root[VERITY_HASH], *tree = NULL;
	struct verity_sb sb = {0};
	struct verity_geom g;
	uint64_t hash_off = 0;
	struct stat st;
	int id, appended = 0, fd, ofd = -1, r, ret = 1;

	(void)envp;
	while ((id = cli_next(&cl, verity_opts, &arg)) != -1) {
		switch (id) {
		case -2:
			return 1;
		case 0:
			if (image) {
				err("verity-format: unexpected argument "
				    "'%.100s'",
				    arg);
				return 1;
			}
			image = arg;
			break;
		case V_APPENDED:
			appended = 1;
			break;
		case V_OUTPUT:
			output = arg;
			break;
		case V_SALT:
			salt = arg;
			break;
		case V_HELP:
			verity_usage(stdout);
			return 0;
		}
	}
	if (!image || appended == !!output) {
		err("verity-format: IMAGE and one of --appended or --output "
		    "FILE are required");
		return 1;
	}
	if (salt && strcmp(salt, "-") &&
	    (strlen(salt) > 2 * VERITY_MAX_SALT || strlen(salt) % 2 ||
	     hex_decode(sb.salt, salt, strlen(salt) / 2))) {
		err("verity-format: --salt '%.100s' is not hex digits (an even "
		    "number, at most %d)",
		    salt, 2 * VERITY_MAX_SALT);
		return 1;
	}
	if (salt)
		sb.salt_size =
			(uint16_t)(strcmp(salt, "-") ? strlen(salt) / 2 : 0);
	else if (getrandom(sb.salt, 32, 0) == 32)
		sb.salt_size = 32;
	else {
		err("verity-format: getrandom: %s", strerror(errno));
		return 1;
	}
	if (getrandom(sb.uuid, sizeof(sb.uuid), 0) != sizeof(sb.uuid))
		memset(sb.uuid, 0, sizeof(sb.uuid));
	sb.uuid[6] = (uint8_t)((sb.uuid[6] & 0x0f) | 0x40); /* RFC 4122 v4 */
	sb.uuid[8] = (uint8_t)((sb.uuid[8] & 0x3f) | 0x80);
	fd = open(image, (appended ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		err("verity-format: %s: %s", image, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		err("verity-format: %s is not a regular file", image);
		goto out;
	}
	sb.data_blocks =
		((uint64_t)st.st_size + VERITY_BLOCK - 1) / VERITY_BLOCK;
	if (verity_geometry(sb.data_blocks, &g)) {
		err("verity-format: %s: %lld bytes is too small for a hash "
		    "tree (two blocks at least)",
		    image, (long long)st.st_size);
		goto out;
	}
	r = build_tree(fd, &sb, &g, &tree, root);
	if (r) {
		err("verity-format: reading %s: %s", image, strerror(-r));
		goto out;
	}
	verity_sb_write(&sb, sbb);
	if (appended) {
		/* the image padded to the block size, then superblock and
		 * tree: the data stays where it was */
		hash_off = sb.data_blocks * VERITY_BLOCK;
		ofd = fd;
	} else {
		ofd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			   0644);
		if (ofd < 0) {
			err("verity-format: %s: %s", output, strerror(errno));
			goto out;
		}
	}
	if (appended && ftruncate(fd, (off_t)hash_off)) {
		r = -errno;
	} else {
		r = full_pwrite(ofd, sbb, VERITY_BLOCK, hash_off);
		if (!r)
			r = full_pwrite(ofd, tree, g.total * VERITY_BLOCK,
					hash_off + VERITY_BLOCK);
		if (!r && fsync(ofd))
			r = -errno;
	}
	if (r) {
		err("verity-format: writing %s: %s", appended ? image : output,
		    strerror(-r));
		goto out;
	}
	print_hex("root hash: ", root, VERITY_HASH);
	printf("hash offset: %llu\n", (unsigned long long)hash_off);
	print_hex("salt: ", sb.salt, sb.salt_size);
	printf("data blocks: %llu\nhash blocks: %llu\n",
	       (unsigned long long)sb.data_blocks, (unsigned long long)g.total);
	ret = fflush(stdout) ? 1 : 0;
out:
	free(tree);
	if (ofd >= 0 && ofd != fd)
		close(ofd);
	if (fd >= 0)
		close(fd);
	return ret;
}
