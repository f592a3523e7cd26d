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
#include "src/cli/cli.h"
#include "src/verity/verity.h"

enum { V_APPENDED = 1, V_OUTPUT, V_SALT };

static const struct cli_opt verity_opts[] = {
	{"--appended", 0, V_APPENDED},
	{"--output", CLI_ONCE, V_OUTPUT},
	{"--salt", CLI_ONCE, V_SALT},
	{NULL, 0, 0},
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

/* Block i of the image (size bytes), the last one zero-filled. */
static int read_block(int fd, uint8_t *buf, uint64_t i, uint64_t size)
{
	uint64_t off = i * VERITY_BLOCK;
	size_t len =
		size - off < VERITY_BLOCK ? (size_t)(size - off) : VERITY_BLOCK;

	memset(buf + len, 0, VERITY_BLOCK - len);
	return util_pread_full(fd, buf, len, off);
}

/*
 * The tree of the image's data_blocks blocks (in fd), top level first, in
 * a malloc'd buffer of g->total blocks; the root hash in root.
 */
static int build_tree(int fd, uint64_t size, const struct verity_sb *sb,
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
		r = read_block(fd, block, i, size);
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

/* What verity-format was asked, and what it works on. */
struct vf {
	const char *image, *output, *salt;
	int appended;
	struct verity_sb sb;
	struct verity_geom g;
	int fd, ofd;	   /* the image; where the tree goes */
	uint64_t size;	   /* the image's bytes */
	uint64_t hash_off; /* the superblock's offset in ofd */
	uint8_t *tree, root[VERITY_HASH];
};

static int vf_arg(void *ctx, int id, const char *arg)
{
	struct vf *v = ctx;

	switch (id) {
	case 0:
		if (v->image) {
			log_err("verity-format: unexpected argument '%.100s'",
				arg);
			return -1;
		}
		v->image = arg;
		return 0;
	case V_APPENDED:
		v->appended = 1;
		return 0;
	case V_OUTPUT:
		v->output = arg;
		return 0;
	case V_SALT:
		v->salt = arg;
		return 0;
	}
	return 0;
}

/* The salt (given, none with "-", or 32 random bytes) and a v4 uuid. */
static int vf_superblock(struct vf *v)
{
	struct verity_sb *sb = &v->sb;
	const char *salt = v->salt;

	if (salt && strcmp(salt, "-") &&
	    (strlen(salt) > 2 * VERITY_MAX_SALT || strlen(salt) % 2 ||
	     hex_decode(sb->salt, salt, strlen(salt) / 2))) {
		log_err("verity-format: --salt '%.100s' is not hex digits (an "
			"even number, at most %d)",
			salt, 2 * VERITY_MAX_SALT);
		return -1;
	}
	if (salt) {
		sb->salt_size =
			(uint16_t)(strcmp(salt, "-") ? strlen(salt) / 2 : 0);
	} else if (getrandom(sb->salt, 32, 0) == 32) {
		sb->salt_size = 32;
	} else {
		log_err("verity-format: getrandom: %s", strerror(errno));
		return -1;
	}
	if (getrandom(sb->uuid, sizeof(sb->uuid), 0) != sizeof(sb->uuid))
		memset(sb->uuid, 0, sizeof(sb->uuid));
	sb->uuid[6] = (uint8_t)((sb->uuid[6] & 0x0f) | 0x40); /* RFC 4122 */
	sb->uuid[8] = (uint8_t)((sb->uuid[8] & 0x3f) | 0x80);
	return 0;
}

/* The image, its size in blocks and the tree's geometry. 0 or -1. */
static int vf_open_image(struct vf *v)
{
	struct stat st;

	v->fd = open(v->image, (v->appended ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (v->fd < 0 || fstat(v->fd, &st)) {
		log_err("verity-format: %s: %s", v->image, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		log_err("verity-format: %s is not a regular file", v->image);
		return -1;
	}
	v->size = (uint64_t)st.st_size;
	v->sb.data_blocks = (v->size + VERITY_BLOCK - 1) / VERITY_BLOCK;
	if (verity_geometry(v->sb.data_blocks, &v->g)) {
		log_err("verity-format: %s: %lld bytes is too small for a hash "
			"tree (two blocks at least)",
			v->image, (long long)st.st_size);
		return -1;
	}
	return 0;
}

/* The superblock and the tree: after the image padded to a block (the
 * data stays where it was), or at the start of the output file. */
static int vf_write(struct vf *v)
{
	uint8_t sbb[VERITY_BLOCK];
	int r;

	verity_sb_write(&v->sb, sbb);
	if (v->appended) {
		v->hash_off = v->sb.data_blocks * VERITY_BLOCK;
		v->ofd = v->fd;
	} else {
		v->ofd = open(v->output,
			      O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (v->ofd < 0) {
			log_err("verity-format: %s: %s", v->output,
				strerror(errno));
			return -1;
		}
	}
	if (v->appended && ftruncate(v->fd, (off_t)v->hash_off))
		r = -errno;
	else
		r = util_pwrite_full(v->ofd, sbb, VERITY_BLOCK, v->hash_off);
	if (!r)
		r = util_pwrite_full(v->ofd, v->tree, v->g.total * VERITY_BLOCK,
				     v->hash_off + VERITY_BLOCK);
	if (!r && fsync(v->ofd))
		r = -errno;
	if (r)
		log_err("verity-format: writing %s: %s",
			v->appended ? v->image : v->output, strerror(-r));
	return r ? -1 : 0;
}

static int vf_run(struct vf *v)
{
	int r;

	if (!v->image || v->appended == !!v->output) {
		log_err("verity-format: IMAGE and one of --appended or "
			"--output FILE are required");
		return -1;
	}
	if (vf_superblock(v) || vf_open_image(v))
		return -1;
	r = build_tree(v->fd, v->size, &v->sb, &v->g, &v->tree, v->root);
	if (r) {
		log_err("verity-format: reading %s: %s", v->image,
			strerror(-r));
		return -1;
	}
	if (vf_write(v))
		return -1;
	print_hex("root hash: ", v->root, VERITY_HASH);
	printf("hash offset: %llu\n", (unsigned long long)v->hash_off);
	print_hex("salt: ", v->sb.salt, v->sb.salt_size);
	printf("data blocks: %llu\nhash blocks: %llu\n",
	       (unsigned long long)v->sb.data_blocks,
	       (unsigned long long)v->g.total);
	return fflush(stdout) ? -1 : 0;
}

static const struct cli_spec verity_spec = {verity_opts, 0, verity_usage};

int cmd_verity_format(int argc, char **argv, char **envp)
{
	struct vf v = {.fd = -1, .ofd = -1};
	int r;

	(void)envp;
	r = cli_scan(argc, argv, &verity_spec, vf_arg, &v);
	if (!r)
		r = vf_run(&v);
	free(v.tree);
	if (v.ofd >= 0 && v.ofd != v.fd)
		close(v.ofd);
	if (v.fd >= 0)
		close(v.fd);
	return r < 0 ? 1 : 0;
}
