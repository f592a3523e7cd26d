/* SPDX-License-Identifier: MIT */
/*
 * read.c - the read path: the NBD export's read_iov and release. A read
 * pins the chunks it needs (claiming and queueing the misses), waits for
 * them, and hands out pieces of them; what finds no room in RAM is read
 * around the cache.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "nbd/nbd.h"
#include "src/cache/internal.h"

/*
 * Reads around the RAM cache (no room in it): the file, or the object,
 * giving up at the deadline (util_mono_us; 0: none).
 */
static int read_direct(struct cache *c, void *buf, uint64_t off, size_t len,
		       int64_t deadline)
{
	uint64_t idx, last = (off + len - 1) / c->chunk;
	int local = c->fd >= 0, r;
	char msg[1024];

	pthread_mutex_lock(&c->lock);
	for (idx = off / c->chunk; local && idx <= last; idx++)
		local = cache_file_has_locked(c, idx);
	pthread_mutex_unlock(&c->lock);
	if (local && !util_pread_full(c->fd, buf, len, c->data_off + off))
		return 0;
	r = c->src.ops->read(c->src.arg, buf, off, len, deadline / 1000, msg,
			     sizeof(msg));
	if (r)
		log_err("%s", msg);
	return r;
}

/* What a reply holds until it is sent: pinned chunks, a bounce buffer. */
struct hold {
	char *bounce; /* bytes read around the cache, or NULL */
	uint64_t cnt;
	struct slot *pin[]; /* NULL: not pinned */
};

static const char zeros[NBD_BLOCK]; /* the device's tail past the object */

void cache_release(void *arg, void *hold)
{
	struct cache *c = arg;
	struct hold *h = hold;
	uint64_t k;

	pthread_mutex_lock(&c->lock);
	for (k = 0; k < h->cnt; k++)
		if (h->pin[k])
			h->pin[k]->refs--;
	if (c->in_use > c->nslots + c->rp.kept) /* after a replay */
		cache_shrink_locked(c, 16);
	pthread_mutex_unlock(&c->lock);
	free(h->bounce);
	free(h);
}

/* Has the deadline (util_mono_us; 0: none) passed? */
static int past(int64_t deadline)
{
	return deadline && util_mono_us() >= deadline;
}

/* Waits for a fetch to end, until the deadline if there is one. */
static void wait_ready(struct cache *c, int64_t deadline)
{
	struct timespec ts;

	if (!deadline) {
		pthread_cond_wait(&c->ready, &c->lock);
		return;
	}
	ts.tv_sec = deadline / 1000000;
	ts.tv_nsec = deadline % 1000000 * 1000;
	pthread_cond_timedwait(&c->ready, &c->lock, &ts);
}

/*
 * Pins the chunks of [off, off + n) (n > 0) as iov pieces, claiming and
 * queueing the misses in runs and waiting for them; what finds no room is
 * read around the cache into h->bounce. Past the deadline (util_mono_us; 0:
 * none) it waits no more: -ETIMEDOUT. Returns the number of pieces, or
 * -errno; either way h holds what was pinned (cache_release drops it).
 */
static long pin_range(struct cache *c, uint64_t off, uint64_t n,
		      int64_t deadline, struct hold *h, struct iovec *iov)
{
	uint64_t idx0 = off / c->chunk, k, a, b;
	struct slot *s, *first = NULL, **pin = h->pin;
	uint32_t run = 0;
	long niov = 0;
	int r = 0, e, waited = 0;

	pthread_mutex_lock(&c->lock);
	c->nbd_inflight++;
	c->last_read_ms = util_mono_us() / 1000;
	/* pin what is cached or coming; claim the rest, in runs */
	for (k = 0; k < h->cnt; k++) {
		s = cache_lookup_locked(c, idx0 + k);
		if (c->rp.state == RP_RUNNING || c->rp.state == RP_DONE)
			cache_replay_touch_locked(c, idx0 + k, s);
		if (s && s->state != S_FAILED) {
			c->hits++;
			waited |= s->state == S_FETCHING;
			if (s->ra) {
				s->ra = 0;
				c->ra_used++;
				if (c->ra_max < c->ra_cap)
					c->ra_max += c->chunk;
			}
			s->refs++;
			pin[k] = s;
			continue;
		}
		c->misses++;
		waited = 1;
		if (s) { /* failed before: again, for this read */
			cache_lru_unlink_locked(s);
			s->state = S_FETCHING;
			s->ra = 0;
		} else {
			s = cache_claim_locked(c, idx0 + k, CLAIM_READ, 0);
		}
		pin[k] = s;
		if (!s)
			continue; /* no room: read around the cache */
		s->refs++;
		if (first && run < c->max_run && first->idx + run == s->idx) {
			run++;
			continue;
		}
		cache_enqueue_locked(c, first, run, Q_DEMAND);
		first = s;
		run = 1;
	}
	cache_enqueue_locked(c, first, run, Q_DEMAND);
	cache_read_ahead_locked(c, off, n, waited);
	c->nbd_waiting += waited; /* the replay holds back (replay.c) */
	if (c->rp.state == RP_RUNNING || c->rp.state == RP_DONE) {
		cache_replay_pump_locked(c);
		cache_replay_tick_locked(c);
	}
	/* the pieces in order, waiting where needed */
	for (k = 0; k < h->cnt; k++) {
		a = (idx0 + k) * c->chunk;
		b = min_u64(a + c->chunk, off + n);
		if (a < off)
			a = off;
		s = pin[k];
		if (!s) {
			/* the run of chunks with no room, in one read */
			while (k + 1 < h->cnt && !pin[k + 1])
				b = min_u64((idx0 + ++k + 1) * c->chunk,
					    off + n);
			pthread_mutex_unlock(&c->lock);
			if (!h->bounce)
				h->bounce = malloc(n);
			if (!h->bounce)
				e = -ENOMEM;
			else if (past(deadline))
				e = -ETIMEDOUT;
			else
				e = read_direct(c, h->bounce + (a - off), a,
						b - a, deadline);
			pthread_mutex_lock(&c->lock);
			if (e && !r)
				r = e;
			iov[niov++] =
				(struct iovec){h->bounce + (a - off), b - a};
			continue;
		}
		while (s->state == S_FETCHING && !past(deadline))
			wait_ready(c, deadline);
		if (s->state == S_READY) {
			cache_lru_push_locked(c, s);
			iov[niov++] = (struct iovec){
				s->data + (a - s->idx * c->chunk), b - a};
		} else if (!r) {
			r = s->state == S_FETCHING ? -ETIMEDOUT : s->err;
		}
	}
	c->nbd_waiting -= waited;
	if (!c->nbd_waiting && c->rp.state == RP_RUNNING)
		cache_replay_pump_locked(c);
	if (!--c->nbd_inflight && c->bg_waits_idle)
		pthread_cond_signal(&c->wake);
	pthread_mutex_unlock(&c->lock);
	return r ? r : niov;
}

void cache_set_read_hook(struct cache *c,
			 void (*fn)(void *arg, uint64_t off, uint32_t len),
			 void *arg)
{
	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->hook, fn, __ATOMIC_RELAXED); /* see call_hook */
	c->hook_arg = arg;
	pthread_mutex_unlock(&c->lock);
}

/* Tells the read hook, if there is one, about a client's read. */
static void call_hook(struct cache *c, uint64_t off, uint32_t len)
{
	void (*fn)(void *arg, uint64_t off, uint32_t len);
	void *arg;

	if (!__atomic_load_n(&c->hook, __ATOMIC_RELAXED))
		return; /* the usual case: no lock taken */
	pthread_mutex_lock(&c->lock);
	fn = c->hook;
	arg = c->hook_arg;
	pthread_mutex_unlock(&c->lock);
	if (fn)
		fn(arg, off, len);
}

int cache_read_iov(void *arg, uint64_t off, uint32_t len, uint64_t queued_us,
		   struct iovec **iovp, unsigned *niov, void **hold)
{
	struct cache *c = arg;
	uint64_t n = 0, cnt = 0;
	struct iovec *iov;
	struct hold *h;
	int64_t deadline = 0;
	long got = 0;
	int r;

	call_hook(c, off, len);
	if (c->cfg.io_timeout_ms) /* from the request's arrival */
		deadline = util_mono_us() - (int64_t)queued_us +
			   (int64_t)c->cfg.io_timeout_ms * 1000;
	if (off < c->size)
		n = min_u64(c->size - off, len);
	if (n)
		cnt = c->nslots ? (off + n - 1) / c->chunk - off / c->chunk + 1
				: 1;
	h = calloc(1, sizeof(*h) + cnt * sizeof(h->pin[0]));
	iov = malloc((cnt + 1) * sizeof(*iov));
	if (!h || !iov) {
		r = -ENOMEM;
		goto err;
	}
	if (n && c->nslots) {
		h->cnt = cnt;
		got = pin_range(c, off, n, deadline, h, iov);
	} else if (n) {
		h->bounce = malloc(n);
		got = !h->bounce ? -ENOMEM
		      : past(deadline)
			      ? -ETIMEDOUT
			      : read_direct(c, h->bounce, off, n, deadline);
		iov[0] = (struct iovec){h->bounce, n};
		got = got ? got : 1;
	}
	if (got == -ETIMEDOUT) {
		log_err("read of %" PRIu64 "+%" PRIu32 ": no answer within "
			"s3.io_timeout (%" PRIu64 " ms)",
			off, len, c->cfg.io_timeout_ms);
		got = -EIO;
	}
	if (got < 0) {
		r = (int)got;
		goto err;
	}
	if (len > n) /* within the device, so less than a block */
		iov[got++] = (struct iovec){(void *)zeros, len - n};
	*iovp = iov;
	*niov = (unsigned)got;
	*hold = h;
	return 0;
err:
	if (h)
		cache_release(c, h);
	free(iov);
	return r;
}
