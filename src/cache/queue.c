/* SPDX-License-Identifier: MIT */
/*
 * queue.c - the fetch queues (internal.h): runs of claimed chunks waiting
 * for a fetcher, demand first, then a replay's, then readahead, and the
 * merging of adjacent runs into one GET. Everything here runs under
 * c->lock.
 */
#include "src/cache/internal.h"

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
