/* SPDX-License-Identifier: MIT */
/*
 * cache.h - the block cache between the NBD loop and the object: chunks
 * aligned to the object, LRU under a memory budget, one fetch however many
 * readers wait for a chunk, a pool of fetchers (one keep-alive connection
 * each) that merge adjacent misses into one ranged GET, readahead for
 * sequential streams, a warm start, and an optional background pull of the
 * whole image into RAM or a cache file.
 *
 * The cache reads its object only through a struct cache_source: an S3
 * object (cache_new) or anything else that can deliver ranges of bytes
 * (cache_new_source; the unit tests give it a fake).
 */
#ifndef S3ROOT_CACHE_H
#define S3ROOT_CACHE_H

#include <sys/uio.h>
#include "src/s3/s3.h"

struct cache;

struct cache_config {
	uint64_t chunk;		 /* bytes, a multiple of 4096 */
	uint64_t budget;	 /* RAM for chunks; under 4 chunks: no cache */
	unsigned fetchers;	 /* GETs at once (s3.connections) */
	int prefetch_all;	 /* pull the whole image when idle */
	uint64_t prefetch_rate;	 /* bytes per second for that */
	const char *file;	 /* cache file or partition, or NULL */
	uint64_t io_timeout_ms;	 /* a read fails (EIO) after this; 0: never */
	uint64_t replay_ahead;	 /* bytes a replay may lead (0: default) */
	uint64_t replay_idle_ms; /* a replay ends after this quiet (0: 10 s) */
	unsigned fetchers_max;	 /* more while demand queues (_max) */
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
	unsigned fetchers;	     /* fetcher threads started so far */
	uint64_t gets;		     /* ranged GETs completed */
	uint64_t p50_us, p99_us;     /* their latency (bucket bounds) */
	struct object_stats object;  /* requests, retries, bytes */
	/* the replay of a trace (cache_replay_start); zeros when none */
	uint64_t replay_ranges;	  /* ranges given */
	uint64_t replay_runs;	  /* chunk-aligned runs they became */
	uint64_t replay_bytes;	  /* bytes of those runs (chunks once) */
	uint64_t replay_fetched;  /* chunks the replay fetched */
	uint64_t replay_used;	  /* of those, read by a client */
	uint64_t replay_wasted;	  /* of those, unread at the replay's end */
	unsigned replay_inflight; /* replay runs queued or being fetched */
	int replay_done;	  /* 1: every run fetched or skipped */
	int replay_ended;	  /* 1: ended; unread chunks counted wasted */
	uint64_t replay_ms;	  /* from the start to the last fetch done */
};

/*
 * Where the cache's bytes come from. Every function is called with arg,
 * from several threads at once (the fetchers, readers going around the
 * cache, the background pull), never with the cache's lock held.
 */
struct cache_source_ops {
	/*
	 * The object's size and identity (name, ETag, version, modification
	 * time: the cache file's header, which must change when the object
	 * does). Called at start; the result must stay valid and unchanged
	 * for the cache's life.
	 */
	const struct object_info *(*describe)(void *arg);
	/*
	 * Streams bytes [off, off + len) (within the size) to sink, in
	 * order, each byte once, in pieces of any size; a sink error ends
	 * it. Returns 0 once all len bytes were given to sink, or -errno
	 * with a message in err (as object_fetch).
	 */
	int (*fetch)(void *arg, uint64_t off, uint64_t len, object_sink sink,
		     void *sinkarg, char *err, size_t errlen);
	/*
	 * Reads [off, off + len) into buf, giving up at deadline_ms on the
	 * CLOCK_MONOTONIC clock (0: none). Returns 0 or -errno with a
	 * message in err (as object_read).
	 */
	int (*read)(void *arg, void *buf, uint64_t off, size_t len,
		    int64_t deadline_ms, char *err, size_t errlen);
	/* The source's own figures (NULL: none, reported as zeros). */
	void (*stats)(void *arg, struct object_stats *st);
	/*
	 * Called every CACHE_IDLE_MS while no fetch is queued, for the
	 * source to close what it no longer needs open (NULL: nothing).
	 */
	void (*idle)(void *arg);
};

struct cache_source {
	const struct cache_source_ops *ops;
	void *arg;
};

/* The configuration from the option table (s3.chunk, s3.cache...). */
void cache_config_from(const struct opts *o, struct cache_config *cfg);

/*
 * Starts the cache over ob (which must outlive it), its fetcher threads,
 * the warm start (a fetch of the image's first chunks) and, with a cache
 * file or s3.prefetch=all, the background thread. cfg is copied; the
 * string cfg->file is not and must outlive the cache. On success *c is
 * the cache, to be freed with cache_free. Returns 0, or -errno with the
 * message in err (*c is then NULL).
 */
int cache_new(struct cache **c, struct object *ob,
	      const struct cache_config *cfg, char *err, size_t errlen);
/*
 * The same over any source: *src is copied, src->arg (and what its ops
 * use) must outlive the cache.
 */
int cache_new_source(struct cache **c, const struct cache_source *src,
		     const struct cache_config *cfg, char *err, size_t errlen);

/*
 * Saves the cache file's map: the chunks written so far are synced to the
 * file, then the bitmap that claims them. Nothing without a cache file.
 * Safe from any thread, alongside reads; blocks for the file's I/O.
 */
void cache_sync(struct cache *c);

/*
 * Stops the cache and frees it (NULL: nothing). No read may be running or
 * hold a piece (every cache_read_iov released) and none may start. It
 * wakes and joins the threads: each fetcher first finishes the GET it is
 * in, and the background thread the run it is pulling. A GET ends when
 * its range is delivered or the source gives up; an S3 object gives up
 * only after s3.io_timeout, and never when that is 0 (it retries while
 * the server is unreachable): then cache_free waits as long. A process
 * that must end regardless (attach's daemon) calls cache_sync and exits
 * instead. Then it saves the cache file's map and closes the file.
 */
void cache_free(struct cache *c);

/*
 * The NBD export's read (struct nbd_export's read_iov and release; arg is
 * the cache): the object's bytes [off, off + len) through the cache,
 * zeros past its end, as *niov pieces in *iov (malloc'd, the caller
 * frees it) that point into the pinned chunks or a buffer in *hold. The
 * pieces stay valid and unchanged until cache_release(arg, *hold), which
 * must be called exactly once for every success. queued_us is how long
 * the request waited before this call: with s3.io_timeout the read gives
 * up (-EIO) that long after the request arrived. Safe from many threads
 * at once. Returns 0 or -errno (logged; nothing to release).
 */
int cache_read_iov(void *arg, uint64_t off, uint32_t len, uint64_t queued_us,
		   struct iovec **iov, unsigned *niov, void **hold);
void cache_release(void *arg, void *hold);

/*
 * Fills *ex: the object through the cache as a read-only NBD export named
 * name (not copied), its size rounded up to NBD blocks.
 */
struct nbd_export;
void cache_export(struct cache *c, const char *name, struct nbd_export *ex);

/*
 * Calls fn(arg, off, len) for every read the cache answers for a client
 * (cache_read_iov), with the client's exact offset and length, before the
 * read is served, in the order the reads reach the cache. fn is called
 * from the readers' threads without the cache's lock, so it must be cheap
 * and thread-safe, and must not call back into the cache. NULL removes
 * it; a read already past the hook's call may still call the old one.
 */
void cache_set_read_hook(struct cache *c,
			 void (*fn)(void *arg, uint64_t off, uint32_t len),
			 void *arg);

/* One read of a trace: bytes [off, off + len) of the object. */
struct cache_replay_range {
	uint64_t off;
	uint32_t len;
};

/*
 * Replays a trace: fetches the chunks the n ranges r touch, in their
 * order, each chunk once, as chunk-aligned runs of adjacent chunks (at
 * most one GET's worth each), on up to 3/4 of the connections, after the
 * clients' own reads and before readahead. A replay runs at most
 * cfg.replay_ahead bytes (of the runs, in the trace's order) ahead of the
 * furthest run a client has read from. Replayed chunks are kept, beyond
 * cfg.budget if needed (up to the trace's bytes and a quarter of
 * MemAvailable), until a client reads them ("used") or the replay ends:
 * when every chunk was used, or when no client read came for
 * cfg.replay_idle_ms after the last replay fetch; the chunks unread then
 * are "wasted" and the cache shrinks back to its budget. A failed replay
 * fetch is nobody's error: a client's read of the chunk fetches it again.
 * r is copied. A range may reach into the last NBD block past the
 * object's end (clients read whole blocks); the bytes past it are not
 * fetched. Returns 0; -EINVAL when a range lies outside the object's
 * NBD-block-rounded size, -EBUSY while an earlier replay has not ended,
 * -EOPNOTSUPP without a RAM cache (s3.cache under 4 chunks), -ENOMEM.
 */
int cache_replay_start(struct cache *c, const struct cache_replay_range *r,
		       size_t n);

/* The figures, consistent with one another. Safe from any thread. */
void cache_stats(struct cache *c, struct cache_stats *st);
/*
 * The figures as "name: value" lines, or one JSON object, into buf (NUL
 * terminated). Returns the length, or -ENOSPC when len is too small.
 */
int cache_format_stats(struct cache *c, int json, char *buf, size_t len);

#endif
