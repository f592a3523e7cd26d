/* SPDX-License-Identifier: MIT */
/*
 * queue.c - the fetch queues (internal.h): runs of claimed chunks waiting
 * for a fetcher, demand first, then a replay's, then readahead, the
 * merging of adjacent runs into one GET, and more fetchers when demand
 * runs wait for one. Everything here runs under c->lock.
 */
#include <string.h>
#include "src/cache/internal.h"

unsigned cache_fetchers_wanted(unsigned threads, unsigned busy, unsigned queued,
			       unsigned max)
{
	uint64_t need = (uint64_t)busy + queued;

	if (need > max)
		need = max;
	return need > threads ? (unsigned)(need - threads) : 0;
}

/*
 * A demand or replay run was queued: when the fetchers that are not busy
 * cannot take every queued demand run at once (and every replay run out,
 * with one more for a demand run to come), starts more (up to
 * max_fetchers). The kernel's reads then wait for a round trip, not for a
 * connection: with d reads in flight and a round trip of RTT, d / RTT
 * reads a second; a replay keeps its share of max_fetchers busy, so that
 * it delivers a boot's bytes as fast as the boot reads them at any RTT.
 * Creating a thread under the lock takes tens of microseconds, and at
 * most max_fetchers - fetchers times in the cache's life.
 */
static void grow_locked(struct cache *c)
{
	unsigned n = cache_fetchers_wanted(c->nthreads, c->busy, c->nqueued,
					   c->max_fetchers);
	unsigned want = c->rp.out + c->nqueued + 1;
	int r;

	if (c->rp.out && want > c->nthreads &&
	    want - c->nthreads > n) /* a replay's runs, out or queued */
		n = cache_fetchers_wanted(c->nthreads, want, 0,
					  c->max_fetchers);

	while (n-- && !c->stopping) {
		r = pthread_create(&c->threads[c->nthreads], NULL,
				   cache_fetcher, c);
		if (r) {
			log_warn("cache: starting fetcher %u: %s",
				 c->nthreads + 1, strerror(r));
			c->max_fetchers = c->nthreads; /* no more tries */
			return;
		}
		c->nthreads++;
	}
}

/* The order the queues are served in. */
static const int q_order[NQUEUES] = {Q_DEMAND, Q_REPLAY, Q_AHEAD};

void cache_enqueue_locked(struct cache *c, struct slot *first, uint32_t run,
			  int q)
{
	if (!first)
		return;
	first->run = run;
	first->qnext = NULL;
	*c->qtail[q] = first;
	c->qtail[q] = &first->qnext;
	pthread_cond_signal(&c->work);
	if (q == Q_DEMAND)
		c->nqueued++;
	if (q != Q_AHEAD)
		grow_locked(c);
}

int cache_queued_locked(const struct cache *c)
{
	int i;

	for (i = 0; i < NQUEUES; i++)
		if (c->queue[i])
			return 1;
	return 0;
}

static void queue_remove(struct cache *c, int q, struct slot **p)
{
	struct slot *s = *p;

	*p = s->qnext;
	if (c->qtail[q] == &s->qnext)
		c->qtail[q] = p;
	if (q == Q_DEMAND)
		c->nqueued--;
}

void cache_promote_locked(struct cache *c, uint64_t idx)
{
	struct slot **p, *s;

	for (p = &c->queue[Q_REPLAY]; *p; p = &(*p)->qnext) {
		s = *p;
		if (idx < s->idx || idx >= s->idx + s->run)
			continue;
		queue_remove(c, Q_REPLAY, p);
		cache_enqueue_locked(c, s, s->run, Q_DEMAND);
		return;
	}
}

/*
 * The next run, by q_order, grown by queued runs that touch it (before
 * or after) up to max_run chunks: adjacent misses become one GET.
 */
struct slot *cache_dequeue_locked(struct cache *c)
{
	struct slot *first = NULL, **p;
	int q = 0, i, merged;
	uint32_t run;

	for (i = 0; i < NQUEUES && !first; i++) {
		q = q_order[i];
		first = c->queue[q];
	}
	queue_remove(c, q, &c->queue[q]);
	run = first->run;
	do {
		merged = 0;
		for (i = 0; i < NQUEUES; i++) {
			if (q == Q_REPLAY && i == Q_REPLAY)
				continue; /* a replay's GETs stay short */
			for (p = &c->queue[i]; *p;) {
				struct slot *s = *p;

				if (run + s->run > c->max_run ||
				    (s->idx != first->idx + run &&
				     s->idx + s->run != first->idx)) {
					p = &s->qnext;
					continue;
				}
				queue_remove(c, i, p);
				if (s->idx + s->run == first->idx)
					first = s;
				run += s->run;
				merged = 1;
			}
		}
	} while (merged);
	first->run = run;
	if (!cache_queued_locked(c) && c->bg_waits_idle)
		pthread_cond_signal(&c->wake);
	return first;
}
