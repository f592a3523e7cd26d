/* SPDX-License-Identifier: MIT */
/*
 * stats.c - the cache's figures: the GET latency histogram, cache_stats
 * and cache_format_stats.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include "src/cache/internal.h"

/* The latency histogram: four buckets per power of two of µs. */

unsigned cache_lat_bucket(uint64_t us)
{
	unsigned l, b;

	if (us < 16)
		return 0;
	l = 63u - (unsigned)__builtin_clzll(us); /* >= 4 */
	b = (l - 4) * 4 + (unsigned)((us >> (l - 2)) & 3) + 1;
	return b < LAT_BUCKETS ? b : LAT_BUCKETS - 1;
}

/* The largest value bucket b holds. */
static uint64_t lat_bound(unsigned b)
{
	unsigned l = (b - 1) / 4 + 4, sub = (b - 1) % 4;

	return b ? ((uint64_t)(4 + sub + 1) << (l - 2)) - 1 : 15;
}

static uint64_t lat_percentile(const uint64_t *lat, unsigned pct)
{
	uint64_t total = 0, seen = 0;
	unsigned b;

	for (b = 0; b < LAT_BUCKETS; b++)
		total += lat[b];
	if (!total)
		return 0;
	for (b = 0; b < LAT_BUCKETS; b++) {
		seen += lat[b];
		if (seen * 100 >= total * pct)
			break;
	}
	return lat_bound(b < LAT_BUCKETS ? b : LAT_BUCKETS - 1);
}

void cache_stats(struct cache *c, struct cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&c->lock);
	st->size = c->size;
	st->hits = c->hits;
	st->misses = c->misses;
	st->readahead = c->readahead;
	st->ra_used = c->ra_used;
	st->ra_wasted = c->ra_wasted;
	st->cached = c->cached;
	st->file_bytes = min_u64(c->file_chunks * c->chunk, c->size);
	st->file_reads = c->file_reads;
	st->nbd_inflight = c->nbd_inflight;
	st->get_inflight = c->get_inflight;
	st->fetchers = c->nthreads;
	st->gets = c->gets;
	st->p50_us = lat_percentile(c->lat, 50);
	st->p99_us = lat_percentile(c->lat, 99);
	cache_replay_tick_locked(c); /* a replay idle long enough ends */
	st->replay_ranges = c->rp.ranges;
	st->replay_runs = c->rp.nruns;
	st->replay_bytes = c->rp.bytes;
	st->replay_fetched = c->rp.fetched;
	st->replay_used = c->rp.used;
	st->replay_wasted = c->rp.wasted;
	st->replay_inflight = c->rp.out;
	st->replay_done = c->rp.all;
	st->replay_ended = c->rp.state == RP_ENDED;
	if (st->replay_done)
		st->replay_ms = (uint64_t)(c->rp.last_ms - c->rp.start_ms);
	pthread_mutex_unlock(&c->lock);
	if (c->src.ops->stats)
		c->src.ops->stats(c->src.arg, &st->object);
}

int cache_format_stats(struct cache *c, int json, char *buf, size_t len)
{
	struct cache_stats s;
	const struct http_client_stats *nm = &s.object.names;
	int n;

	cache_stats(c, &s);
	if (json)
		n = snprintf(
			buf, len,
			"{\"size\": %" PRIu64 ", \"cache_bytes\": %" PRIu64
			", \"cache_budget\": %" PRIu64 ", \"hits\": %" PRIu64
			", \"misses\": %" PRIu64 ", \"readahead\": %" PRIu64
			", \"readahead_used\": %" PRIu64
			", \"readahead_wasted\": %" PRIu64
			", \"fetched_bytes\": %" PRIu64
			", \"requests\": %" PRIu64 ", \"retries\": %" PRIu64
			", \"gets\": %" PRIu64 ", \"reads_in_flight\": %u"
			", \"gets_in_flight\": %u, \"get_p50_us\": %" PRIu64
			", \"get_p99_us\": %" PRIu64
			", \"file_bytes\": %" PRIu64
			", \"file_reads\": %" PRIu64
			", \"name_lookups\": %" PRIu64
			", \"name_lookup_failures\": %" PRIu64
			", \"last_good_connects\": %" PRIu64
			", \"unresolved\": \"%s\", \"last_good\": \"%s\""
			", \"replay_ranges\": %" PRIu64
			", \"replay_runs\": %" PRIu64
			", \"replay_bytes\": %" PRIu64
			", \"replay_fetched\": %" PRIu64
			", \"replay_used\": %" PRIu64
			", \"replay_wasted\": %" PRIu64
			", \"replay_in_flight\": %u, \"replay_done\": %s"
			", \"replay_ended\": %s, \"replay_ms\": %" PRIu64
			", \"fetchers\": %u, \"connections_open\": %u"
			", \"connections_idle\": %u"
			", \"connections_made\": %" PRIu64
			", \"hedges\": %" PRIu64 ", \"hedges_won\": %" PRIu64
			", \"hedge_after_ms\": %" PRIu64 "}",
			s.size, s.cached, (uint64_t)c->nslots * c->chunk,
			s.hits, s.misses, s.readahead, s.ra_used, s.ra_wasted,
			s.object.bytes, s.object.requests, s.object.retries,
			s.gets, s.nbd_inflight, s.get_inflight, s.p50_us,
			s.p99_us, s.file_bytes, s.file_reads, nm->lookups,
			nm->lookup_failures, nm->last_good_connects,
			nm->unresolved, nm->last_good, s.replay_ranges,
			s.replay_runs, s.replay_bytes, s.replay_fetched,
			s.replay_used, s.replay_wasted, s.replay_inflight,
			s.replay_done ? "true" : "false",
			s.replay_ended ? "true" : "false", s.replay_ms,
			s.fetchers, nm->open, nm->idle, nm->opened,
			s.object.hedges, s.object.hedges_won,
			s.object.hedge_ms);
	else
		n = snprintf(buf, len,
			     "cache: %" PRIu64 " of %" PRIu64 " KiB, %" PRIu64
			     " hits, %" PRIu64 " misses\n"
			     "readahead: %" PRIu64 " chunks, %" PRIu64
			     " used, %" PRIu64 " evicted unread\n"
			     "fetched: %" PRIu64 " bytes of %" PRIu64
			     " in %" PRIu64 " requests, %" PRIu64 " retries\n"
			     "in flight: %u reads, %u GETs\n"
			     "GET latency: p50 %.1f ms, p99 %.1f ms (%" PRIu64
			     " GETs)\n",
			     s.cached / 1024,
			     (uint64_t)c->nslots * c->chunk / 1024, s.hits,
			     s.misses, s.readahead, s.ra_used, s.ra_wasted,
			     s.object.bytes, s.size, s.object.requests,
			     s.object.retries, s.nbd_inflight, s.get_inflight,
			     (double)s.p50_us / 1000, (double)s.p99_us / 1000,
			     s.gets);
	if (n >= 0 && !json && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "connections: %u open, %u idle, %" PRIu64
			      " made; %u fetchers (s3.connections %u to %u)\n"
			      "hedged GETs: %" PRIu64 " sent, %" PRIu64
			      " won; one goes after %" PRIu64 " ms\n",
			      nm->open, nm->idle, nm->opened, s.fetchers,
			      c->cfg.fetchers, c->max_fetchers, s.object.hedges,
			      s.object.hedges_won, s.object.hedge_ms);
	if (n >= 0 && !json && c->fd >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "cache file: %s, %" PRIu64 " of %" PRIu64
			      " bytes, %" PRIu64 " chunks read from it\n",
			      c->cfg.file, s.file_bytes, s.size, s.file_reads);
	if (n >= 0 && !json && s.replay_ranges && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "replay: %" PRIu64 " ranges in %" PRIu64
			      " runs, %" PRIu64 " bytes; %" PRIu64
			      " chunks fetched, %" PRIu64 " used, %" PRIu64
			      " wasted, %u runs in flight; %s\n",
			      s.replay_ranges, s.replay_runs, s.replay_bytes,
			      s.replay_fetched, s.replay_used, s.replay_wasted,
			      s.replay_inflight,
			      s.replay_ended ? "ended" : "running");
	if (n >= 0 && !json && s.replay_done && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "replay: every run fetched in %" PRIu64 " ms\n",
			      s.replay_ms);
	/* host names (none for an address or s3.resolve): a name that does
	 * not resolve now is said until it does */
	if (n >= 0 && !json && (nm->lookups || nm->last_good_connects) &&
	    (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "names: %" PRIu64 " lookups, %" PRIu64
			      " failed, %" PRIu64
			      " connections to last good addresses\n",
			      nm->lookups, nm->lookup_failures,
			      nm->last_good_connects);
	if (n >= 0 && !json && nm->unresolved[0] && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "names: %s does not resolve: connecting to its "
			      "last good addresses (%s)\n",
			      nm->unresolved, nm->last_good);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
