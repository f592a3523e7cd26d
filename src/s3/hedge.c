/* SPDX-License-Identifier: MIT */
/*
 * hedge.c - hedged GETs: a GET whose first byte is late (against the
 * recent times to the first byte) goes out again on another connection,
 * and the first answer wins; the other connection is closed unread, so
 * none of its bytes reach anyone. AWS's guidance for latency-sensitive
 * reads ("Performance guidelines for Amazon S3": retry requests that are
 * slow to start; the retry takes another path and mostly answers fast).
 *
 * The rule: 4 times the median of the last S3_HEDGE_WINDOW times to the
 * first byte, at least S3_HEDGE_FLOOR_MS, and no hedge before
 * S3_HEDGE_SAMPLES GETs have answered. 4x the median leaves the normal
 * spread alone (a p99 of 2-3x the median is usual for S3) and catches
 * the stalls (a lost packet costs a 200 ms+ retransmission; a slow
 * server seconds). At most HEDGES_AT_ONCE are out at a time: when every
 * GET is slow (the server, not bad luck), hedging would only double the
 * load.
 */
#include <errno.h>
#include <string.h>
#include "src/s3/internal.h"

#define HEDGES_AT_ONCE 4

uint32_t s3_hedge_after_ms(uint32_t *ms, unsigned n)
{
	unsigned i, j;
	uint32_t x, after;

	if (n < S3_HEDGE_SAMPLES)
		return 0;
	for (i = 1; i < n; i++) { /* insertion sort: n is at most 64 */
		x = ms[i];
		for (j = i; j > 0 && ms[j - 1] > x; j--)
			ms[j] = ms[j - 1];
		ms[j] = x;
	}
	after = ms[n / 2] > UINT32_MAX / 4 ? UINT32_MAX : 4 * ms[n / 2];
	return after < S3_HEDGE_FLOOR_MS ? S3_HEDGE_FLOOR_MS : after;
}

/* The lateness that sends a hedge now (ms), 0 for none. */
static int64_t hedge_after(struct object *ob)
{
	uint32_t ms[S3_HEDGE_WINDOW];
	int64_t after;

	pthread_mutex_lock(&ob->lock);
	after = ob->hedge;
	if (after < 0) {
		memcpy(ms, ob->ttfb, sizeof(ms));
		after = s3_hedge_after_ms(ms, ob->nttfb);
	}
	ob->stats.hedge_ms = (uint64_t)after;
	pthread_mutex_unlock(&ob->lock);
	return after;
}

/* One more time to the first byte for the median. */
static void learn(struct object *ob, int64_t ms)
{
	pthread_mutex_lock(&ob->lock);
	ob->ttfb[ob->ttfb_at] = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	ob->ttfb_at = (ob->ttfb_at + 1) % S3_HEDGE_WINDOW;
	if (ob->nttfb < S3_HEDGE_WINDOW)
		ob->nttfb++;
	pthread_mutex_unlock(&ob->lock);
}

/* Takes one of the HEDGES_AT_ONCE; 0 when all are out. */
static int hedge_take(struct object *ob)
{
	int ok;

	pthread_mutex_lock(&ob->lock);
	ok = ob->hedging < HEDGES_AT_ONCE;
	if (ok) {
		ob->hedging++;
		ob->stats.hedges++;
	}
	pthread_mutex_unlock(&ob->lock);
	return ok;
}

/* Sends head again on a connection of its own: NULL when that fails
 * (the first one may still answer). */
static struct http_conn *hedge_send(struct object *ob, const struct url *url,
				    const char *head)
{
	struct http_conn *h = NULL;
	char err[256];

	if (http_conn_get(ob->http, url, &h, err, sizeof(err)))
		return NULL;
	object_stat_add(ob, &ob->stats.requests, 1);
	if (http_send(h, head, strlen(head))) {
		http_conn_put(ob->http, h, 0);
		return NULL;
	}
	return h;
}

int object_await_first(struct object *ob, struct http_conn **c,
		       const struct url *url, const char *head)
{
	int64_t t0 = util_mono_ms(), after = hedge_after(ob), t1, waited, step;
	int64_t limit = (int64_t)opts_num(ob->o, OPT_REQUEST_TIMEOUT);
	struct http_conn *pair[2] = {*c, NULL};
	int r;

	if (!after || after >= limit) /* no hedge: just learn */
		after = limit;
	/* late by after: a hedge, when one of HEDGES_AT_ONCE is free (else
	 * wait as long again and ask again) */
	for (waited = 0; waited < limit; waited += step) {
		step = after < limit - waited ? after : limit - waited;
		r = http_conns_wait(pair, 1, (int)step);
		if (r != -ETIMEDOUT) {
			if (r >= 0)
				learn(ob, util_mono_ms() - t0);
			return r < 0 ? r : 0;
		}
		if (after < limit && waited + step < limit && hedge_take(ob))
			break;
	}
	if (waited >= limit)
		return -ETIMEDOUT;
	waited += step;
	pair[1] = hedge_send(ob, url, head);
	t1 = util_mono_ms();
	r = http_conns_wait(pair, 2, (int)(limit - waited));
	if (r == 1) {
		/* the hedge won: the late one is closed, never read */
		http_conn_put(ob->http, pair[0], 0);
		*c = pair[1];
		learn(ob, util_mono_ms() - t1);
		object_stat_add(ob, &ob->stats.hedges_won, 1);
	} else {
		http_conn_put(ob->http, pair[1], 0);
		if (!r)
			learn(ob, util_mono_ms() - t0);
	}
	pthread_mutex_lock(&ob->lock);
	ob->hedging--;
	pthread_mutex_unlock(&ob->lock);
	return r < 0 ? r : 0;
}
