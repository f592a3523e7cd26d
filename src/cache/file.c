/* SPDX-License-Identifier: MIT */
/*
 * file.c - the cache file (s3.cache_file), a second tier below RAM: a
 * header naming the object, a bitmap of the chunks it holds, then the
 * chunks at their offsets. A bit is saved only after its data was synced,
 * so a crash can lose chunks but never claim one it does not hold; after
 * a failed write or sync, the chunks written since the last good sync are
 * dropped from the map. The file is locked (flock): one server at a time.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/cache/internal.h"

int cache_file_has_locked(const struct cache *c, uint64_t idx)
{
	return c->fd >= 0 && (c->bits[idx / 8] >> (idx % 8) & 1);
}

/* Stores a fetched chunk in the file (no lock held) and marks it. */
void cache_file_store(struct cache *c, uint64_t idx, const char *data)
{
	int r, have;

	if (c->fd < 0)
		return;
	pthread_mutex_lock(&c->lock);
	have = cache_file_has_locked(c, idx);
	pthread_mutex_unlock(&c->lock);
	if (have)
		return;
	r = util_pwrite_full(c->fd, data, chunk_len(c, idx),
			     c->data_off + idx * c->chunk);
	pthread_mutex_lock(&c->lock);
	if (r && !c->file_failed)
		log_warn("cache file %s: writing chunk %" PRIu64 ": %s (the "
			 "chunks written since its last sync are dropped from "
			 "its map)",
			 c->cfg.file, idx, strerror(-r));
	if (r)
		c->file_failed = 1;
	else if (!cache_file_has_locked(c, idx)) {
		c->bits[idx / 8] |= (uint8_t)(1u << (idx % 8));
		c->fresh[idx / 8] |= (uint8_t)(1u << (idx % 8));
		c->file_chunks++;
		c->bits_dirty = 1;
	}
	pthread_mutex_unlock(&c->lock);
}

/*
 * A write or a sync failed: the data of the chunks written since the last
 * good sync may never reach the disk (Linux reports a writeback error to
 * one fdatasync only: a later one succeeds). Their bits go, in memory (they
 * are fetched again when read) and in every map saved from now on; snap,
 * the map about to be saved, loses them too. Called with c->lock held.
 */
static uint64_t drop_fresh_locked(struct cache *c, uint8_t *snap,
				  const uint8_t *was_fresh)
{
	uint64_t i, n = 0;
	uint8_t gone;

	for (i = 0; i < c->bits_len; i++) {
		gone = (uint8_t)((c->fresh[i] | was_fresh[i]) & c->bits[i]);
		n += (uint64_t)__builtin_popcount(gone);
		c->bits[i] &= (uint8_t)~gone;
		snap[i] &= (uint8_t) ~(c->fresh[i] | was_fresh[i]);
	}
	memset(c->fresh, 0, c->bits_len);
	c->file_chunks -= n;
	c->file_failed = 0;
	return n;
}

void cache_sync(struct cache *c)
{
	uint8_t *snap, *was_fresh;
	uint64_t lost;
	int r, failed;

	if (!c || c->fd < 0)
		return;
	pthread_mutex_lock(&c->sync_lock);
	snap = malloc(2 * c->bits_len);
	was_fresh = snap ? snap + c->bits_len : NULL;
	pthread_mutex_lock(&c->lock);
	if (!snap || (!c->bits_dirty && !c->file_failed)) {
		pthread_mutex_unlock(&c->lock);
		goto out;
	}
	/* every chunk marked here was written before the sync below */
	memcpy(snap, c->bits, c->bits_len);
	memcpy(was_fresh, c->fresh, c->bits_len);
	memset(c->fresh, 0, c->bits_len);
	c->bits_dirty = 0;
	pthread_mutex_unlock(&c->lock);
	r = fdatasync(c->fd) ? -errno : 0;
	pthread_mutex_lock(&c->lock);
	failed = r || c->file_failed;
	lost = failed ? drop_fresh_locked(c, snap, was_fresh) : 0;
	pthread_mutex_unlock(&c->lock);
	if (failed)
		log_warn("cache file %s: %s%s: %" PRIu64
			 " chunks written since its last good sync are dropped "
			 "from its map (fetched again when read)",
			 c->cfg.file, r ? "sync: " : "a write failed",
			 r ? strerror(-r) : "", lost);
	r = util_pwrite_full(c->fd, snap, c->bits_len, FILE_HEAD);
	if (!r)
		r = fdatasync(c->fd) ? -errno : 0;
	if (r)
		log_warn("cache file %s: saving its map: %s", c->cfg.file,
			 strerror(-r));
out:
	pthread_mutex_lock(&c->lock);
	c->synced_ms = util_mono_us() / 1000;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->sync_lock);
	free(snap);
}

/* What the header says: the object and the geometry, NUL padded. */
static void file_header(const struct cache *c, char head[FILE_HEAD])
{
	const struct object_info *in = c->info;

	memset(head, 0, FILE_HEAD);
	snprintf(head, FILE_HEAD,
		 "s3root cache 1\nchunk %" PRIu64 "\nsize %" PRIu64
		 "\nname %s\netag %s\nversion %s\nmodified %s\n",
		 c->chunk, c->size, in->name, in->etag, in->version_id,
		 in->last_modified);
}

int cache_file_open(struct cache *c, char *err, size_t errlen)
{
	const char *path = c->cfg.file;
	char *head = NULL, *want = NULL;
	uint64_t need, have, i;
	struct stat st;
	int r;

	c->bits_len = ((c->nchunks + 7) / 8 + 4095) / 4096 * 4096;
	c->data_off = FILE_HEAD + c->bits_len;
	need = c->data_off + c->size;
	c->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd < 0 || fstat(c->fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "cache file %s: %s", path, strerror(-r));
		return r;
	}
	/* two servers on one file would serve each other's bytes: the
	 * second goes without it (the lock goes with the process) */
	if (flock(c->fd, LOCK_EX | LOCK_NB)) {
		r = -errno;
		log_err("cache file %s: %s; serving without a cache file", path,
			r == -EWOULDBLOCK ? "in use by another s3root server "
					    "(locked): give each its own"
					  : strerror(-r));
		close(c->fd);
		c->fd = -1;
		return 0;
	}
	if (S_ISREG(st.st_mode)) {
		have = (uint64_t)st.st_size;
		if (have < need && ftruncate(c->fd, (off_t)need)) {
			r = -errno;
			snprintf(err, errlen,
				 "cache file %s: growing it to %" PRIu64
				 " bytes: %s",
				 path, need, strerror(-r));
			return r;
		}
	} else if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(c->fd, 0, SEEK_END); /* a device's size */

		have = end > 0 ? (uint64_t)end : 0;
		if (have < need) {
			snprintf(err, errlen,
				 "cache file %s: the device holds %" PRIu64
				 " bytes, the cache needs %" PRIu64,
				 path, have, need);
			return -ENOSPC;
		}
	} else {
		snprintf(err, errlen,
			 "cache file %s: not a regular file or block device",
			 path);
		return -EINVAL;
	}
	c->bits = calloc(2, c->bits_len);
	c->fresh = c->bits ? c->bits + c->bits_len : NULL;
	head = malloc(FILE_HEAD);
	want = malloc(FILE_HEAD);
	if (!c->bits || !head || !want) {
		r = -ENOMEM;
		snprintf(err, errlen, "cache file %s: out of memory", path);
		goto out;
	}
	file_header(c, want);
	r = util_pread_full(c->fd, head, FILE_HEAD, 0);
	if (!r && !memcmp(head, want, FILE_HEAD) &&
	    !util_pread_full(c->fd, c->bits, c->bits_len, FILE_HEAD)) {
		for (i = 0; i < c->nchunks; i++)
			c->file_chunks += c->bits[i / 8] >> (i % 8) & 1;
		/* bits past the last chunk are not ours to trust */
		for (i = c->nchunks; i < c->bits_len * 8; i++)
			c->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
		log_info("cache file %s holds %" PRIu64 " of %" PRIu64
			 " chunks",
			 path, c->file_chunks, c->nchunks);
		r = 0;
		goto out;
	}
	log_info("cache file %s: starting empty for %s", path, c->info->name);
	/* another object or a new file: the empty map goes to disk before
	 * the header that makes it believed */
	memset(c->bits, 0, c->bits_len);
	r = util_pwrite_full(c->fd, c->bits, c->bits_len, FILE_HEAD);
	if (!r)
		r = fdatasync(c->fd) ? -errno : 0;
	if (!r)
		r = util_pwrite_full(c->fd, want, FILE_HEAD, 0);
	if (!r)
		r = fdatasync(c->fd) ? -errno : 0;
	if (r)
		snprintf(err, errlen, "cache file %s: %s", path, strerror(-r));
out:
	free(head);
	free(want);
	return r;
}
