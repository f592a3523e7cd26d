/* SPDX-License-Identifier: MIT */
/*
 * fetch.c - the fetcher threads: each takes a run off the queue and fills
 * its chunks from the cache file or with one ranged GET, marking each
 * chunk ready as soon as its bytes are in, or failed with the GET.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "src/cache/internal.h"

/* Marks a slot done (ready, or failed with err) and wakes the waiters. */
static void slot_done(struct cache *c, struct slot *s, int err)
{
	pthread_mutex_lock(&c->lock);
	if (s->rf)
		cache_replay_slot_done_locked(c, s, err);
	s->state = err ? S_FAILED : S_READY;
	s->err = err;
	if (!err)
		c->cached += chunk_len(c, s->idx);
	cache_lru_push_locked(c, s);
	pthread_cond_broadcast(&c->ready);
	pthread_mutex_unlock(&c->lock);
}

struct run_sink {
	struct cache *c;
	struct slot **s;
	uint32_t n, k; /* chunks in the run; the one being filled */
	uint64_t pos;  /* bytes of it filled */
};

/* Fills the run's chunks in order; each is ready as soon as it is full. */
static int run_sink(void *arg, const char *buf, size_t len)
{
	struct run_sink *rs = arg;
	struct cache *c = rs->c;

	while (len) {
		struct slot *s;
		uint64_t want, take;

		if (rs->k >= rs->n)
			return -EIO; /* more than asked: cannot happen */
		s = rs->s[rs->k];
		want = chunk_len(c, s->idx) - rs->pos;
		take = min_u64(want, len);
		memcpy(s->data + rs->pos, buf, take);
		rs->pos += take;
		buf += take;
		len -= take;
		if (take == want) {
			cache_file_store(c, s->idx, s->data);
			slot_done(c, s, 0);
			rs->k++;
			rs->pos = 0;
		}
	}
	return 0;
}

/* Fetches the claimed chunks [first, first + n): from the file, or GET. */
void cache_fetch_run(struct cache *c, uint64_t first, uint32_t n)
{
	struct slot *s[MAX_RUN];
	struct run_sink rs = {c, s, n, 0, 0};
	uint64_t off = first * c->chunk,
		 len = min_u64((uint64_t)n * c->chunk, c->size - off);
	int64_t t0;
	uint32_t k;
	int r, local = c->fd >= 0;
	char msg[1024];

	pthread_mutex_lock(&c->lock);
	for (k = 0; k < n; k++) {
		s[k] = cache_lookup_locked(
			c, first + k); /* FETCHING: not evicted */
		local = local && cache_file_has_locked(c, first + k);
	}
	pthread_mutex_unlock(&c->lock);
	if (local) {
		for (k = 0; k < n; k++) {
			r = util_pread_full(
				c->fd, s[k]->data, chunk_len(c, first + k),
				c->data_off + (first + k) * c->chunk);
			if (r)
				break;
		}
		if (k == n) {
			pthread_mutex_lock(&c->lock);
			c->file_reads += n;
			pthread_mutex_unlock(&c->lock);
			for (k = 0; k < n; k++)
				slot_done(c, s[k], 0);
			return;
		}
		log_warn("cache file %s: %s; reading from the network",
			 c->cfg.file, strerror(-r));
	}
	t0 = util_mono_us();
	r = c->src.ops->fetch(c->src.arg, off, len, run_sink, &rs, msg,
			      sizeof(msg));
	pthread_mutex_lock(&c->lock);
	c->gets++;
	c->lat[cache_lat_bucket((uint64_t)(util_mono_us() - t0))]++;
	pthread_mutex_unlock(&c->lock);
	if (!r && rs.k < n) {
		/* the source broke its contract: fail the chunks it left
		 * unfilled, or their readers would wait for ever */
		r = -EIO;
		snprintf(msg, sizeof(msg),
			 "%.300s: a fetch of %" PRIu64 "+%" PRIu64
			 " ended before its last bytes",
			 c->info->name, off, len);
	}
	if (r) {
		log_err("%s", msg);
		for (k = rs.k; k < n; k++)
			slot_done(c, s[k], r);
	}
}

/*
 * Waits for work (and ticks the replay). The first fetcher also lets the
 * source close what it no longer needs (connections opened for a burst of
 * reads) every CACHE_IDLE_MS, at *idle_at (util_mono_us() / 1000).
 */
static void wait_work_locked(struct cache *c, unsigned me, int64_t *idle_at)
{
	struct timespec ts;
	int64_t now, due;

	if (me || !c->src.ops->idle) {
		cache_replay_wait_locked(c);
		return;
	}
	now = util_mono_us() / 1000;
	if (now >= *idle_at) {
		*idle_at = now + CACHE_IDLE_MS;
		pthread_mutex_unlock(&c->lock);
		c->src.ops->idle(c->src.arg);
		pthread_mutex_lock(&c->lock);
		return;
	}
	due = cache_replay_tick_locked(c);
	if (!due || due > *idle_at)
		due = *idle_at;
	ts.tv_sec = due / 1000;
	ts.tv_nsec = due % 1000 * 1000000;
	pthread_cond_timedwait(&c->work, &c->lock, &ts);
}

void *cache_fetcher(void *arg)
{
	struct cache *c = arg;
	struct slot *run;
	int64_t idle_at = util_mono_us() / 1000 + CACHE_IDLE_MS;
	unsigned me;

	pthread_mutex_lock(&c->lock);
	me = c->fetcher_ids++;
	for (;;) {
		while (!c->stopping && !cache_queued_locked(c))
			wait_work_locked(c, me, &idle_at);
		if (c->stopping)
			break;
		run = cache_dequeue_locked(c);
		c->get_inflight++;
		c->busy++;
		pthread_mutex_unlock(&c->lock);
		cache_fetch_run(c, run->idx, run->run);
		pthread_mutex_lock(&c->lock);
		c->get_inflight--;
		c->busy--;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}
