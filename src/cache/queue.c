/* SPDX-License-Identifier: MIT */
/*
 * queue.c - the fetch queue (internal.h): runs of claimed chunks waiting
 * for a fetcher, demand before readahead, and the merging of adjacent
 * runs into one GET. Everything here runs under c->lock.
 */
#include "src/cache/internal.h"

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
}

static void queue_remove(struct cache *c, int q, struct slot **p)
{
	struct slot *s = *p;

	*p = s->qnext;
	if (c->qtail[q] == &s->qnext)
		c->qtail[q] = p;
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
