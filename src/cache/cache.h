/* SPDX-License-Identifier: MIT */
/*
 * cache.h - the block cache between the NBD loop and the object: chunks
 * aligned to the object, LRU under a memory budget, one fetch however many
 * readers wait for a chunk, a pool of fetchers (one keep-alive connection
 * each) that merge adjacent misses into one ranged GET, readahead for
 * sequential streams, a warm start, and an optional background pull of the
 * whole image into RAM or a cache file.
 */
#ifndef S3ROOT_CACHE_H
#define S3ROOT_CACHE_H

#include <sys/uio.h>
#include "src/object.h"

struct cache;

struct cache_config {
	uint64_t chunk;		/* bytes, a multiple of 4096 */
	uint64_t budget;	/* RAM for chunks; under 4 chunks: no cache */
	unsigned fetchers;	/* GETs at once (s3.connections) */
	int prefetch_all;	/* pull the whole image when idle */
	uint64_t prefetch_rate; /* bytes per second for that */
	const char *file;	/* cache file or partition, or NULL */
	uint64_t io_timeout_ms; /* a read fails (EIO) after this; 0: never */
};

struct cache_stats {
	uint64_t size;		     /* the object's */
	uint64_t hits, misses;	     /* chunk lookups by reads */
	uint64_t readahead, ra_used; /* chunks prefetched; read later */
	uint64_t ra_wasted;	     /* evicted unread */
	uint64_t cached;	     /* bytes in RAM */
	uint64_t file_bytes;	     /* bytes held by the cache file */
	uint64_t file_reads;	     /* chunks read from it */
	unsigned nbd_inflight;	     /* reads being served */
	unsigned get_inflight;	     /* ranged GETs under way */
	uint64_t gets;		     /* ranged GETs completed */
	uint64_t p50_us, p99_us;     /* their latency (bucket bounds) */
	struct object_stats object;  /* requests, retries, bytes */
};

/* The configuration from the option table (s3.chunk, s3.cache...). */
void cache_config_from(const struct opts *o, struct cache_config *cfg);

/*
 * Starts the cache over ob (which must outlive it) and its threads, and
 * the warm start. Returns 0, or -errno with the message in err.
 */
int cache_new(struct cache **c, struct object *ob,
	      const struct cache_config *cfg, char *err, size_t errlen);
/* Saves the cache file's map (cache_free does too). */
void cache_sync(struct cache *c);
void cache_free(struct cache *c);

/*
 * The NBD export's read (struct nbd_export's read_iov and release): the
 * object's bytes through the cache, zeros past its end, as pieces of the
 * pinned chunks that stay valid until release. Safe from many threads.
 * Returns 0 or -errno (logged).
 */
int cache_read_iov(void *arg, uint64_t off, uint32_t len, uint64_t queued_us,
		   struct iovec **iov, unsigned *niov, void **hold);
void cache_release(void *arg, void *hold);

/* The object through the cache as a read-only NBD export named name. */
struct nbd_export;
void cache_export(struct cache *c, const char *name, struct nbd_export *ex);

void cache_stats(struct cache *c, struct cache_stats *st);
/* The figures as "name: value" lines, or one JSON object. */
int cache_format_stats(struct cache *c, int json, char *buf, size_t len);

#endif
