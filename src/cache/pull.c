/* SPDX-License-Identifier: MIT */
/*
 * pull.c - the background thread: saves the cache file's map every
 * SYNC_MS, and with s3.prefetch=all pulls the whole image into the cache
 * file (or the free slots of RAM) while no reads come.
 */
#include <inttypes.h>
#include <stdlib.h>
#include "src/cache/internal.h"

/*
 * Waits on c->wake until until_ms (util_mono_us() / 1000; 0: no limit), a
 * wake-up or cache_free. Under the lock. Returns 0 when stopping.
 */
static int bg_wait_locked(struct cache *c, int64_t until_ms)
{
	struct timespec ts;

	if (c->stopping)
		return 0;
	if (!until_ms) {
		pthread_cond_wait(&c->wake, &c->lock);
	} else {
		ts.tv_sec = until_ms / 1000;
		ts.tv_nsec = until_ms % 1000 * 1000000;
		pthread_cond_timedwait(&c->wake, &c->lock, &ts);
	}
	return !c->stopping;
}

static int64_t later(int64_t a, int64_t b)
{
	return a > b ? a : b;
}

/* The earlier of two times, 0 meaning never. */
static int64_t sooner(int64_t a, int64_t b)
{
	return !a ? b : !b ? a : a < b ? a : b;
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
		       cache_claim_locked(c, idx + n, CLAIM_READ, 1))
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
		log_warn("background fetch: %s", msg);
		*next = idx; /* again later */
	}
	return len;
}

/*
 * The background thread, until cache_free: saves the map every SYNC_MS
 * and, while pulling, fetches a run whenever reads have left the cache
 * alone for IDLE_MS (no read in flight, nothing queued) and the pace of
 * s3.prefetch_rate allows. In between it sleeps on c->wake until the next
 * of those times; a read that ends, or a queue that empties, while it
 * waits for quiet (bg_waits_idle) wakes it, and so does cache_free.
 */
void *cache_background(void *arg)
{
	struct cache *c = arg;
	uint64_t next = 0, got;
	char *buf = c->fd >= 0 ? malloc((size_t)c->max_run * c->chunk) : NULL;
	int64_t now, due, sync_at, pace_at = 0,
				   rate = (int64_t)c->cfg.prefetch_rate;
	int pulling = c->cfg.prefetch_all && (c->fd < 0 || buf), busy;

	pthread_mutex_lock(&c->lock);
	while (!c->stopping) {
		now = util_mono_us() / 1000;
		sync_at = c->fd >= 0 ? c->synced_ms + SYNC_MS : 0;
		if (sync_at && now >= sync_at) {
			pthread_mutex_unlock(&c->lock);
			cache_sync(c);
			pthread_mutex_lock(&c->lock);
			continue;
		}
		busy = c->nbd_inflight || cache_queued_locked(c);
		due = pulling && !busy
			      ? later(c->last_read_ms + IDLE_MS, pace_at)
			      : 0;
		if (due && now >= due) {
			pthread_mutex_unlock(&c->lock);
			got = pull_run(c, &next, buf);
			/* at most prefetch_rate bytes a second */
			pace_at =
				util_mono_us() / 1000 +
				(got && rate ? (int64_t)got * 1000 / rate : 0);
			if (next >= c->nchunks) {
				pulling = 0;
				pthread_mutex_lock(&c->lock);
				got = c->fd >= 0 ? c->file_chunks
						 : c->cached / c->chunk;
				pthread_mutex_unlock(&c->lock);
				log_info("%s: %" PRIu64 " of %" PRIu64
					 " chunks are local (s3.prefetch=all)",
					 c->info->name, got, c->nchunks);
			}
			pthread_mutex_lock(&c->lock);
			continue;
		}
		c->bg_waits_idle = pulling && busy;
		bg_wait_locked(c, sooner(sync_at, due));
		c->bg_waits_idle = 0;
	}
	pthread_mutex_unlock(&c->lock);
	free(buf);
	return NULL;
}
