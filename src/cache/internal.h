/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the files of the block cache (src/cache/) share: the
 * cache's state, its slots and streams, and the helpers one file gives
 * another. Not for callers: they see src/cache/cache.h.
 *
 * The object is cut into chunks of s3.chunk bytes. A chunk is in one slot
 * of RAM at most, found by a hash of its index; a slot is FETCHING
 * (claimed by the reader or readahead that missed, queued for a fetcher),
 * READY (on the LRU list) or FAILED (the error stays for those who
 * waited). Readers pin the slots they need (refs) and copy out without
 * the lock; the lock is never held across network or file I/O. Fetchers
 * take demand runs before readahead runs and merge adjacent queued runs
 * into one GET of at most MAX_RUN_BYTES.
 */
#ifndef S3ROOT_CACHE_INTERNAL_H
#define S3ROOT_CACHE_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "src/cache/cache.h"
#include "util/util.h"

#define MAX_RUN_BYTES (512 * 1024) /* one GET: larger reads go parallel */
#define MAX_RUN (MAX_RUN_BYTES / 4096)
#define STREAMS 8
#define WARM_BYTES (1024 * 1024)
#define IDLE_MS 1000   /* the background pull waits this long after a read */
#define SYNC_MS 10000  /* the cache file's map is saved this often */
#define FILE_HEAD 8192 /* holds the longest name, ETag and version */
#define LAT_BUCKETS 100

enum { S_FETCHING = 1, S_READY, S_FAILED };

struct slot {
	uint64_t idx;
	struct slot *hnext;	   /* hash chain */
	struct slot *prev, *next;  /* LRU (ready and failed), free list */
	struct slot *qnext;	   /* fetch queue */
	char *data;		   /* chunk bytes, allocated on first use */
	uint32_t refs;		   /* readers holding it */
	uint32_t run;		   /* queued: chunks in this run */
	uint8_t state, ra, on_lru; /* ra: prefetched, not read yet */
	int err;		   /* S_FAILED: -errno */
};

struct stream {
	uint64_t next;	 /* where the next sequential read starts */
	uint64_t ra_end; /* prefetched up to here */
	uint64_t window; /* bytes kept fetched ahead of next; 0: new */
	uint64_t used;	 /* tick of its last read: the oldest goes */
	unsigned seq;	 /* reads that continued it */
};

/*
 * LOCKING
 *
 * c->lock, a mutex, protects the slot hash, the LRU and free lists, every
 * slot's fields but data, the fetch queues, the streams and readahead
 * state, the figures, stopping, and the cache file's map (bits,
 * file_chunks, bits_dirty, synced_ms). It is held for bookkeeping only:
 * never across the source's calls, file I/O or a malloc of a bounce
 * buffer. Helpers named *_locked are called with it held and never drop
 * it; the others that touch the state above take it themselves and are
 * called without it.
 *
 * c->sync_lock serializes cache_sync (a snapshot of the map, fdatasync,
 * the map's write). Order: sync_lock, then lock; never sync_lock while
 * holding lock.
 *
 * Fixed from cache_new to cache_free, read without a lock: src, info, cfg,
 * size, chunk, nchunks, max_run, nslots, the slots array, hash, hmask, fd,
 * data_off, bits_len, ra_cap, threads, nthreads, bg, bg_started.
 *
 * A slot's data:
 * - FETCHING: claimed and off the LRU, so never evicted. Its data belongs
 *   to the one fetch that fills it (the fetcher that dequeued its run, or
 *   the background pull that claimed it), which writes it without the
 *   lock; no one else touches data until slot_done sets READY (or
 *   FAILED) under the lock, the mutex ordering the bytes before the state.
 *   Readers that pinned it wait on c->ready and look at state only.
 * - READY: data holds the chunk and is never written again while the
 *   slot holds this chunk: only eviction (slot_take) reuses a slot, and it
 *   skips slots with refs. So a reader that pinned a READY slot (refs++
 *   under the lock) reads data without the lock until cache_release drops
 *   refs under the lock.
 * - FAILED: data means nothing; err is for the readers that waited. The
 *   next read of the chunk sets it FETCHING again and queues it (a failure
 *   is not remembered); an unpinned FAILED slot may be evicted.
 *
 * Condition variables, all with c->lock: ready (a fetch ended; readers
 * wait on it with their deadline, CLOCK_MONOTONIC), work (a run was
 * queued, or stopping; fetchers), wake (the background thread; see
 * cache_background). Threads: the fetchers and the background thread run
 * from cache_new to cache_free, which sets stopping, broadcasts work and
 * wake, and joins them; a fetcher finishes the run it is fetching first.
 */
struct cache {
	struct cache_source src;	/* where the bytes come from */
	const struct object_info *info; /* src's, for the cache's life */
	struct cache_config cfg;
	uint64_t size, chunk, nchunks;
	unsigned max_run;

	pthread_mutex_t lock; /* everything below (see LOCKING) */
	pthread_cond_t ready; /* a fetch ended (chunks ready or failed) */
	pthread_cond_t work;  /* a run was queued, or stopping */
	pthread_cond_t wake;  /* the background thread: see bg_waits_idle */
	struct slot *slots;
	size_t nslots;
	struct slot **hash;
	size_t hmask;
	struct slot *free_list;
	struct slot lru; /* sentinel: lru.next is the oldest */
	struct slot *queue[2], **qtail[2]; /* demand runs, readahead runs */
	pthread_t *threads;
	unsigned nthreads;
	pthread_t bg;
	int bg_started, stopping;
	int bg_waits_idle; /* for the reads to end and the queue to empty */
	struct stream streams[STREAMS];
	uint64_t tick, ra_max, ra_cap;
	int64_t last_read_ms;

	uint64_t hits, misses, readahead, ra_used, ra_wasted, gets, file_reads;
	uint64_t cached, lat[LAT_BUCKETS];
	unsigned nbd_inflight, get_inflight;

	int fd; /* the cache file, or -1 */
	uint8_t *bits;
	/* the chunks written since the last good sync (in bits' allocation,
	 * after it): dropped from the map when a write or sync fails */
	uint8_t *fresh;
	uint64_t bits_len, data_off, file_chunks;
	int bits_dirty;
	int file_failed; /* a write failed since the last sync (under lock) */
	pthread_mutex_t sync_lock; /* one map writer at a time */
	int64_t synced_ms;	   /* under lock */
};

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The bytes of chunk idx: the object's last chunk may be short. */
static inline uint64_t chunk_len(const struct cache *c, uint64_t idx)
{
	return min_u64(c->chunk, c->size - idx * c->chunk);
}

/* slots.c: the slot hash, the LRU list, claiming and eviction */
struct slot *cache_lookup_locked(struct cache *c, uint64_t idx);
void cache_lru_unlink_locked(struct slot *s);
void cache_lru_push_locked(struct cache *c, struct slot *s);
struct slot *cache_claim_locked(struct cache *c, uint64_t idx, int ra,
				int free_only);

/* queue.c: the fetch queue */
void cache_enqueue_locked(struct cache *c, struct slot *first, uint32_t run,
			  int ra);
struct slot *cache_dequeue_locked(struct cache *c);

/* fetch.c: the fetcher threads */
/* Fills the claimed (FETCHING) chunks [first, first + n); no lock held. */
void cache_fetch_run(struct cache *c, uint64_t first, uint32_t n);
void *cache_fetcher(void *arg);

/* readahead.c */
void cache_prefetch_locked(struct cache *c, uint64_t a, uint64_t b,
			   uint32_t per);
void cache_read_ahead_locked(struct cache *c, uint64_t off, uint64_t len,
			     int waited);

/* file.c: the cache file */
/* Whether the file holds chunk idx (called with c->lock held). */
int cache_file_has_locked(const struct cache *c, uint64_t idx);
/* Writes chunk idx to the file and marks it (takes the lock). */
void cache_file_store(struct cache *c, uint64_t idx, const char *data);
/* At set-up, before the threads: opens, checks or resets the file. */
int cache_file_open(struct cache *c, char *err, size_t errlen);

/* pull.c: the background pull and map saver thread */
void *cache_background(void *arg);

/* stats.c: the GET latency histogram */
unsigned cache_lat_bucket(uint64_t us);

#endif
