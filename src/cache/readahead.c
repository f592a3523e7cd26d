/* SPDX-License-Identifier: MIT */
/*
 * readahead.c - readahead for up to STREAMS sequential streams: a read
 * that continues one and still had to wait for the network doubles its
 * window, up to ra_max; prefetched chunks evicted unread halve ra_max
 * (slots.c), and each one read lets it grow back by a chunk (read.c).
 * A stream's window stays within RA_SHORT_BYTES until it has read
 * RA_LONG_BYTES: a boot reads files of a few hundred KiB, and deeper
 * windows fetched what it never read (bench/README.md, the boot workload).
 * Everything here runs under c->lock.
 */
#include "src/cache/internal.h"

/* Claims and queues the chunks of [a, b) not cached, runs of `per`. */
void cache_prefetch_locked(struct cache *c, uint64_t a, uint64_t b,
			   uint32_t per)
{
	uint64_t idx, end = (min_u64(b, c->size) + c->chunk - 1) / c->chunk;
	struct slot *first = NULL, *s;
	uint32_t run = 0;

	for (idx = a / c->chunk; idx < end; idx++) {
		if (cache_lookup_locked(c, idx)) {
			cache_enqueue_locked(c, first, run, Q_AHEAD);
			first = NULL;
			continue;
		}
		s = cache_claim_locked(c, idx, CLAIM_AHEAD, 0);
		if (!s)
			break; /* full of what is pinned or not read yet */
		c->readahead++;
		if (first && run < per) {
			run++;
			continue;
		}
		cache_enqueue_locked(c, first, run, Q_AHEAD);
		first = s;
		run = 1;
	}
	cache_enqueue_locked(c, first, run, Q_AHEAD);
}

/*
 * A read continues a stream when it starts where the stream's last read
 * ended, or one request further (the kernel's sockets reorder); one that
 * ends a little behind is a late part of it. Anything else starts a new
 * stream, in place of the oldest, with no readahead until it has been
 * continued three times.
 */
void cache_read_ahead_locked(struct cache *c, uint64_t off, uint64_t len,
			     int waited)
{
	uint64_t end = off + len, target, per, cap;
	struct stream *st = NULL, *old = &c->streams[0];
	unsigned i;

	c->tick++;
	for (i = 0; i < STREAMS && !st; i++)
		if (c->streams[i].used && off >= c->streams[i].next &&
		    off <= c->streams[i].next + len)
			st = &c->streams[i];
	for (i = 0; i < STREAMS && !st; i++) {
		struct stream *s = &c->streams[i];

		if (s->used && end <= s->next && end + 2 * len >= s->next)
			return; /* late: nothing new */
		if (s->used < old->used)
			old = s;
	}
	if (!st) {
		*old = (struct stream){end, end, 0, c->tick, len, 0};
		return;
	}
	st->used = c->tick;
	st->bytes += end - st->next;
	st->next = end;
	if (st->ra_end < end)
		st->ra_end = end;
	/* random reads in a small region continue some stream now and then;
	 * three times in a row they rarely do */
	if (++st->seq < 3)
		return;
	/* deeper only while the reader still waits for the network: a
	 * window it never catches up with is deep enough */
	if (!st->window)
		st->window = 4 * c->chunk;
	else if (waited)
		st->window *= 2;
	cap = st->bytes < RA_LONG_BYTES ? min_u64(c->ra_max, RA_SHORT_BYTES)
					: c->ra_max;
	st->window = min_u64(st->window, cap);
	target = min_u64(end + st->window, c->size);
	/* top up when half the window is used, in runs of a quarter */
	if (st->ra_end >= target || st->ra_end - end > st->window / 2)
		return;
	per = st->window / 4 / c->chunk;
	cache_prefetch_locked(c, st->ra_end, target,
			      (uint32_t)(per < 1	    ? 1
					 : per > c->max_run ? c->max_run
							    : per));
	st->ra_end = target;
}
