/* SPDX-License-Identifier: MIT */
/*
 * pull.c - the background thread: saves the cache file's map every
 * SYNC_MS, and with s3.prefetch=all pulls the whole image into the cache
 * file (or the free slots of RAM) while no reads come.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <unistd.h>
#include "src/cache/internal.h"

/* Sleeps ms in steps, 0 when asked to stop. */
static int nap(struct cache *c, int64_t ms)
{
	int stop;

	do {
		if (ms > 0)
			usleep((useconds_t)(ms > 100 ? 100 : ms) * 1000);
		ms -= 100;
		pthread_mutex_lock(&c->lock);
		stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			return 0;
	} while (ms > 0);
	return 1;
}

/*
 * Pulls one run of missing chunks from *next on. Returns the bytes
 * fetched; *next is nchunks when there is nothing left to pull.
 */
static uint64_t pull_run(struct cache *c, uint64_t *next, char *buf)
{
	uint64_t idx = *next, n = 0, k, len;
	char msg[1024];
	int r;

	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0) {
		while (idx < c->nchunks && cache_file_has_locked(c, idx))
			idx++;
		while (idx + n < c->nchunks && n < c->max_run &&
		       !cache_file_has_locked(c, idx + n))
			n++;
	} else {
		while (idx < c->nchunks && cache_lookup_locked(c, idx))
			idx++;
		/* RAM: only into free slots, never evicting */
		while (idx + n < c->nchunks && n < c->max_run &&
		       !cache_lookup_locked(c, idx + n) &&
		       cache_claim_locked(c, idx + n, 0, 1))
			n++;
		if (!n)
			idx = c->nchunks; /* the budget is full: done */
	}
	if (n)
		c->get_inflight++;
	pthread_mutex_unlock(&c->lock);
	*next = idx + n;
	if (!n)
		return 0;
	len = min_u64(n * c->chunk, c->size - idx * c->chunk);
	if (c->fd < 0) {
		cache_fetch_run(c, idx, (uint32_t)n);
		r = 0;
	} else {
		r = c->src.ops->read(c->src.arg, buf, idx * c->chunk, len, 0,
				     msg, sizeof(msg));
		for (k = 0; !r && k < n; k++)
			cache_file_store(c, idx + k, buf + k * c->chunk);
	}
	pthread_mutex_lock(&c->lock);
	c->get_inflight--;
	pthread_mutex_unlock(&c->lock);
	if (r) {
		warn("background fetch: %s", msg);
		*next = idx; /* again later */
	}
	return len;
}

void *cache_background(void *arg)
{
	struct cache *c = arg;
	uint64_t next = 0, got;
	char *buf = c->fd >= 0 ? malloc((size_t)c->max_run * c->chunk) : NULL;
	int64_t now, quiet, rate = (int64_t)c->cfg.prefetch_rate;
	int pulling = c->cfg.prefetch_all && (c->fd < 0 || buf), sync;

	for (;;) {
		now = mono_us() / 1000;
		pthread_mutex_lock(&c->lock);
		quiet = !c->nbd_inflight && !c->queue[0] && !c->queue[1] &&
			now - c->last_read_ms >= IDLE_MS;
		sync = c->fd >= 0 && now - c->synced_ms >= SYNC_MS;
		pthread_mutex_unlock(&c->lock);
		if (sync)
			cache_sync(c);
		if (!pulling || !quiet) {
			if (!nap(c, 100))
				break;
			continue;
		}
		got = pull_run(c, &next, buf);
		if (next >= c->nchunks) {
			pulling = 0;
			pthread_mutex_lock(&c->lock);
			got = c->fd >= 0 ? c->file_chunks
					 : c->cached / c->chunk;
			pthread_mutex_unlock(&c->lock);
			info("%s: %" PRIu64 " of %" PRIu64
			     " chunks are local (s3.prefetch=all)",
			     c->info->name, got, c->nchunks);
			continue;
		}
		/* at most prefetch_rate bytes a second */
		if (!nap(c, got && rate ? (int64_t)got * 1000 / rate : 0))
			break;
	}
	free(buf);
	return NULL;
}
