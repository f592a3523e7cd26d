/* SPDX-License-Identifier: MIT */
/*
 * queue.c - the fetch queue (internal.h): runs of claimed chunks waiting
 * for a fetcher, demand before readahead, the merging of adjacent runs
 * into one GET, and more fetchers when demand runs wait for one.
 * Everything here runs under c->lock.
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
 * A demand run was queued: when the fetchers that are not busy cannot
 * take every queued demand run at once, starts more (up to max_fetchers).
 * The kernel's reads then wait for a round trip, not for a connection:
 * with d reads in flight and a round trip of RTT, d / RTT reads a second.
 * Creating a thread under the lock takes tens of microseconds, and at
 * most max_fetchers - fetchers times in the cache's life.
 */
static void grow_locked(struct cache *c)
{
	unsigned n = cache_fetchers_wanted(c->nthreads, c->busy, c->nqueued,
					   c->max_fetchers);
	int r;

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

void cache_enqueue_locked(struct cache *c, struct slot *first, uint32_t run,
			  int ra)
{
	if (!first)
		return;
	first->run = run;
	first->qnext = NULL;
	*c->qtail[ra] = first;
	c->qtail[ra] = &first->qnext;
	pthread_cond_signal(&c->work);
	if (!ra) {
		c->nqueued++;
		grow_locked(c);
	}
}

static void queue_remove(struct cache *c, int q, struct slot **p)
{
	struct slot *s = *p;

	*p = s->qnext;
	if (c->qtail[q] == &s->qnext)
		c->qtail[q] = p;
	if (!q)
		c->nqueued--;
}

/*
 * The next run, demand first, grown by queued runs that touch it (before
 * or after) up to max_run chunks: adjacent misses become one GET.
 */
struct slot *cache_dequeue_locked(struct cache *c)
{
	int q = c->queue[0] ? 0 : 1, i, merged;
	struct slot *first = c->queue[q], **p;
	uint32_t run;

	queue_remove(c, q, &c->queue[q]);
	run = first->run;
	do {
		merged = 0;
		for (i = 0; i < 2; i++) {
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
	if (!c->queue[0] && !c->queue[1] && c->bg_waits_idle)
		pthread_cond_signal(&c->wake);
	return first;
}
