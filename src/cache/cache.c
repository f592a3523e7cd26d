/* SPDX-License-Identifier: MIT */
/*
 * cache.c - the block cache's life (cache.h): the configuration, starting
 * the fetchers, the warm start and the background thread, stopping them,
 * and the NBD export.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/cache/internal.h"

void cache_config_from(const struct opts *o, struct cache_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->chunk = opts_num(o, OPT_CHUNK);
	cfg->budget = opts_num(o, OPT_CACHE);
	cfg->fetchers = (unsigned)opts_num(o, OPT_CONNECTIONS);
	cfg->fetchers_max = (unsigned)opts_num(o, OPT_CONNECTIONS_MAX);
	cfg->prefetch_all = !strcmp(opts_str(o, OPT_PREFETCH), "all");
	cfg->prefetch_rate = opts_num(o, OPT_PREFETCH_RATE);
	cfg->file = opts_str(o, OPT_CACHE_FILE);
	cfg->io_timeout_ms = opts_num(o, OPT_IO_TIMEOUT);
	cfg->replay_ahead = opts_num(o, OPT_REPLAY_AHEAD);
}

/* The S3 object as the cache's source. */
static const struct object_info *ob_describe(void *arg)
{
	return object_info(arg);
}

static int ob_fetch(void *arg, uint64_t off, uint64_t len, object_sink sink,
		    void *sinkarg, char *err, size_t errlen)
{
	return object_fetch(arg, off, len, sink, sinkarg, err, errlen);
}

static int ob_read(void *arg, void *buf, uint64_t off, size_t len,
		   int64_t deadline_ms, char *err, size_t errlen)
{
	return object_read(arg, buf, off, len, deadline_ms, err, errlen);
}

static void ob_stats(void *arg, struct object_stats *st)
{
	object_stats(arg, st);
}

static void ob_idle(void *arg)
{
	object_idle(arg);
}

static const struct cache_source_ops object_ops = {
	.describe = ob_describe,
	.fetch = ob_fetch,
	.read = ob_read,
	.stats = ob_stats,
	.idle = ob_idle,
};

int cache_new(struct cache **cp, struct object *ob,
	      const struct cache_config *cfg, char *err, size_t errlen)
{
	struct cache_source src = {&object_ops, ob};

	return cache_new_source(cp, &src, cfg, err, errlen);
}

int cache_new_source(struct cache **cp, const struct cache_source *src,
		     const struct cache_config *cfg, char *err, size_t errlen)
{
	struct cache *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;
	size_t i, h = 1;
	int r = -ENOMEM;

	*cp = NULL;
	if (!c) {
		snprintf(err, errlen, "cache: out of memory");
		return r;
	}
	c->src = *src;
	c->info = src->ops->describe(src->arg);
	c->cfg = *cfg;
	c->fd = -1;
	c->size = c->info->size;
	c->chunk = cfg->chunk / NBD_BLOCK * NBD_BLOCK;
	if (!c->chunk)
		c->chunk = NBD_BLOCK;
	c->nchunks = (c->size + c->chunk - 1) / c->chunk;
	c->max_run = (unsigned)(MAX_RUN_BYTES / c->chunk);
	if (c->max_run < 1)
		c->max_run = 1;
	c->nslots = (size_t)(cfg->budget / c->chunk);
	if (c->nslots < 4) /* too small to be worth it: none */
		c->nslots = cfg->file || cfg->prefetch_all ? 4 : 0;
	if (c->nslots > c->nchunks)
		c->nslots = (size_t)c->nchunks;
	c->ra_cap = (uint64_t)c->nslots * c->chunk / 2;
	c->ra_max = c->ra_cap;
	c->lru.next = c->lru.prev = &c->lru;
	for (i = 0; i < NQUEUES; i++)
		c->qtail[i] = &c->queue[i];
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->sync_lock, NULL);
	pthread_condattr_init(&ca); /* readers' deadlines: monotonic */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->ready, &ca);
	pthread_cond_init(&c->wake, &ca);
	pthread_cond_init(&c->work, &ca); /* the replay's tick */
	pthread_condattr_destroy(&ca);
	*cp = c;
	if (!c->nslots)
		return 0; /* every read goes to the object */
	while (h < 2 * c->nslots)
		h <<= 1;
	c->hmask = h - 1;
	c->hash = calloc(h, sizeof(*c->hash));
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	c->max_fetchers = cfg->fetchers ? cfg->fetchers : 1;
	if (cfg->fetchers_max > c->max_fetchers)
		c->max_fetchers = cfg->fetchers_max;
	c->threads = calloc(c->max_fetchers, sizeof(*c->threads));
	if (!c->hash || !c->slots || !c->threads) {
		snprintf(err, errlen, "cache: out of memory");
		goto err_free;
	}
	for (i = c->nslots; i-- > 0;) {
		c->slots[i].next = c->free_list;
		c->free_list = &c->slots[i];
	}
	if (cfg->file) {
		r = cache_file_open(c, err, errlen);
		if (r)
			goto err_free;
	}
	r = 0;
	pthread_mutex_lock(&c->lock); /* fetchers start under it */
	while (!r && c->nthreads < (cfg->fetchers ? cfg->fetchers : 1)) {
		r = -pthread_create(&c->threads[c->nthreads], NULL,
				    cache_fetcher, c);
		if (!r)
			c->nthreads++;
	}
	pthread_mutex_unlock(&c->lock);
	if (r) {
		snprintf(err, errlen, "cache: starting fetchers: %s",
			 strerror(-r));
		goto err_free;
	}
	/* warm start: the superblock and the metadata after it, before
	 * the kernel asks */
	pthread_mutex_lock(&c->lock);
	cache_prefetch_locked(c, 0,
			      min_u64(WARM_BYTES, c->nslots * c->chunk / 4),
			      c->max_run);
	pthread_mutex_unlock(&c->lock);
	if (cfg->file || cfg->prefetch_all) {
		r = -pthread_create(&c->bg, NULL, cache_background, c);
		if (r) {
			snprintf(err, errlen,
				 "cache: starting the "
				 "background fetch: %s",
				 strerror(-r));
			goto err_free;
		}
		c->bg_started = 1;
	}
	return 0;
err_free:
	cache_free(c);
	*cp = NULL;
	return r;
}

void cache_free(struct cache *c)
{
	struct slot_block *b;
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_broadcast(&c->work);
	pthread_cond_broadcast(&c->wake);
	pthread_mutex_unlock(&c->lock);
	for (i = 0; i < c->nthreads; i++)
		pthread_join(c->threads[i], NULL);
	if (c->bg_started)
		pthread_join(c->bg, NULL);
	cache_sync(c);
	if (c->fd >= 0)
		close(c->fd);
	for (i = 0; c->slots && i < c->nslots; i++)
		free(c->slots[i].data);
	free(c->slots);
	while ((b = c->extra) != NULL) {
		c->extra = b->next;
		for (i = 0; i < b->n; i++)
			free(b->s[i].data);
		free(b);
	}
	free(c->rp.runs);
	free(c->rp.sorted);
	free(c->hash);
	free(c->threads);
	free(c->bits);
	pthread_cond_destroy(&c->wake);
	pthread_cond_destroy(&c->work);
	pthread_cond_destroy(&c->ready);
	pthread_mutex_destroy(&c->sync_lock);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

void cache_export(struct cache *c, const char *name, struct nbd_export *ex)
{
	memset(ex, 0, sizeof(*ex));
	ex->name = name;
	ex->size = (c->size + NBD_BLOCK - 1) / NBD_BLOCK * NBD_BLOCK;
	ex->flags = NBD_FLAG_READ_ONLY | NBD_FLAG_SEND_FLUSH |
		    NBD_FLAG_CAN_MULTI_CONN;
	ex->read_iov = cache_read_iov;
	ex->release = cache_release;
	ex->arg = c;
}
