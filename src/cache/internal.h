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
 * take demand runs before a replay's runs before readahead runs and merge
 * adjacent queued runs into one GET of at most MAX_RUN_BYTES (a replay's
 * runs, of at most REPLAY_RUN_BYTES, are not merged with each other). A chunk a
 * replay fetched is kept off the LRU (rp) until read or the replay ends,
 * in slots added beyond the budget (replay.c).
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
#define WARM_BYTES (512 * 1024)	    /* the warm start: the boot reads it all */
#define RA_SHORT_BYTES (256 * 1024) /* readahead window of a young stream */
#define RA_LONG_BYTES (4 * 1024 * 1024) /* a stream this long: deeper */
#define IDLE_MS 1000   /* the background pull waits this long after a read */
#define SYNC_MS 10000  /* the cache file's map is saved this often */
#define FILE_HEAD 8192 /* holds the longest name, ETag and version */
#define LAT_BUCKETS 100
#define CACHE_IDLE_MS 5000 /* the source's idle() is called this often */
#define REPLAY_AHEAD (32 * 1024 * 1024) /* s3.replay_ahead's default */
#define REPLAY_IDLE_MS 10000		/* a replay ends after this quiet */
#define REPLAY_RUN_BYTES (128 * 1024)	/* one replay GET at most */

enum { S_FETCHING = 1, S_READY, S_FAILED };
/* the fetch queues, taken in the order demand, replay, readahead */
enum { Q_DEMAND, Q_AHEAD, Q_REPLAY, NQUEUES };
/* who claims a slot (cache_claim_locked) */
enum { CLAIM_READ, CLAIM_AHEAD, CLAIM_REPLAY };

struct slot {
	uint64_t idx;
	struct slot *hnext;	   /* hash chain */
	struct slot *prev, *next;  /* LRU (ready and failed), free list */
	struct slot *qnext;	   /* fetch queue */
	char *data;		   /* chunk bytes, allocated on first use */
	uint32_t refs;		   /* readers holding it */
	uint32_t run;		   /* queued: chunks in this run */
	uint8_t state, ra, on_lru; /* ra: prefetched, not read yet */
	uint8_t rp;	   /* replayed, not read yet: kept off the LRU */
	uint8_t rf, rtail; /* fetching for a replay; its run's last */
	int err;	   /* S_FAILED: -errno */
};

/* One run of a replay's plan: chunks [first, first + n) at trace byte pos. */
struct replay_run {
	uint64_t first, pos;
	uint32_t n;
};

/* Extra slots a replay added beyond the budget (kept till cache_free). */
struct slot_block {
	struct slot_block *next;
	size_t n;
	struct slot s[];
};

enum { RP_NONE, RP_RUNNING, RP_DONE, RP_ENDED };

/* A replay (replay.c), under c->lock. */
struct replay {
	int state;
	int all;		   /* every run was fetched (RP_DONE once) */
	struct replay_run *runs;   /* in the trace's order */
	struct replay_run *sorted; /* the same, by first chunk */
	size_t nruns, next;	   /* next: the run to claim next... */
	uint32_t next_k;	   /* ...from this chunk of it */
	uint64_t ranges, bytes, ahead, progress, idle_ms;
	uint64_t cap, kept; /* chunks it may keep, keeps (rp) */
	uint64_t fetched, used, wasted;
	unsigned out, max_out;	   /* runs queued or in flight; limit */
	unsigned max_busy;	   /* the limit while a client's read waits */
	int64_t start_ms, last_ms; /* started; last replay fetch ended */
};

struct stream {
	uint64_t next;	 /* where the next sequential read starts */
	uint64_t ra_end; /* prefetched up to here */
	uint64_t window; /* bytes kept fetched ahead of next; 0: new */
	uint64_t used;	 /* tick of its last read: the oldest goes */
	uint64_t bytes;	 /* read in sequence so far */
	unsigned seq;	 /* reads that continued it */
};

/*
 * LOCKING
 *
 * c->lock, a mutex, protects the slot hash (hash and hmask, which a
 * replay's start rebuilds larger), the LRU and free lists, in_use, the
 * added slots (extra, nextra), every slot's fields but data, the fetch
 * queues, the streams and readahead state, the replay (rp), the read hook
 * (hook, hook_arg; hook is also read atomically without it, to skip the
 * lock when there is none), the figures, stopping, and the cache file's
 * map (bits, file_chunks, bits_dirty, synced_ms). It is held for bookkeeping
 * only: never across the source's calls, file I/O or a malloc of a bounce
 * buffer. Helpers named *_locked are called with it held and never drop
 * it; the others that touch the state above take it themselves and are
 * called without it.
 *
 * c->sync_lock serializes cache_sync (a snapshot of the map, fdatasync,
 * the map's write). Order: sync_lock, then lock; never sync_lock while
 * holding lock.
 *
 * Fixed from cache_new to cache_free, read without a lock: src, info, cfg,
 * size, chunk, nchunks, max_run, nslots, the slots array, fd, data_off,
 * bits_len, ra_cap, max_fetchers, bg, bg_started. threads and nthreads
 * grow under the lock (a demand run queued with every fetcher busy starts
 * another, up to max_fetchers; none stops before cache_free).
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
 * - READY and kept by a replay (rp): as READY, but off the LRU, so never
 *   evicted, until a read or the replay's end clears rp and puts it on.
 *   Data may be freed (cache_shrink_locked) only for a slot taken off the
 *   LRU and the hash, unpinned, onto the free list.
 * - FAILED: data means nothing; err is for the readers that waited. The
 *   next read of the chunk sets it FETCHING again and queues it (a failure
 *   is not remembered); an unpinned FAILED slot may be evicted.
 *
 * Condition variables, all with c->lock and CLOCK_MONOTONIC: ready (a
 * fetch ended; readers wait on it with their deadline), work (a run was
 * queued, or stopping; fetchers, which wait with the replay's next
 * tick as deadline), wake (the background thread; see
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
	struct slot *queue[NQUEUES], **qtail[NQUEUES]; /* runs, by Q_* */
	pthread_t *threads; /* room for max_fetchers */
	unsigned nthreads, max_fetchers;
	unsigned fetcher_ids; /* handed out as fetchers start */
	unsigned busy;	      /* fetchers fetching a run */
	unsigned nqueued;     /* demand runs queued */
	pthread_t bg;
	int bg_started, stopping;
	int bg_waits_idle; /* for the reads to end and the queue to empty */
	struct stream streams[STREAMS];
	uint64_t tick, ra_max, ra_cap;
	int64_t last_read_ms;

	uint64_t hits, misses, readahead, ra_used, ra_wasted, gets, file_reads;
	uint64_t cached, lat[LAT_BUCKETS];
	unsigned nbd_inflight, get_inflight;
	unsigned nbd_waiting;	  /* reads waiting for a fetch */
	size_t in_use, nextra;	  /* slots off the free list; added */
	struct slot_block *extra; /* slots a replay added */
	struct replay rp;
	void (*hook)(void *arg, uint64_t off, uint32_t len); /* read hook */
	void *hook_arg;

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
/* To the old end: the first to go. */
void cache_lru_push_old_locked(struct cache *c, struct slot *s);
/* how: CLAIM_*; free_only: no eviction (and no growth past the budget) */
struct slot *cache_claim_locked(struct cache *c, uint64_t idx, int how,
				int free_only);
/* Evicts unpinned LRU slots while more are in use than the budget and
 * the replay's kept chunks need, looking at most at `look` of them. */
void cache_shrink_locked(struct cache *c, size_t look);

/* queue.c: the fetch queues and the fetchers they need */
/*
 * How many fetchers to start, with threads running (busy of them in a
 * fetch) and queued demand runs waiting: enough for every queued run to
 * have one, within max. A pure function.
 */
unsigned cache_fetchers_wanted(unsigned threads, unsigned busy, unsigned queued,
			       unsigned max);
void cache_enqueue_locked(struct cache *c, struct slot *first, uint32_t run,
			  int q);
struct slot *cache_dequeue_locked(struct cache *c);
/* Anything queued at all? */
int cache_queued_locked(const struct cache *c);
/* Moves the queued replay run holding chunk idx to the demand queue. */
void cache_promote_locked(struct cache *c, uint64_t idx);

/* replay.c: the replay of a trace */
/* A client's read touches chunk idx (slot s, or NULL); after pinning. */
void cache_replay_touch_locked(struct cache *c, uint64_t idx, struct slot *s);
/* Claims and queues what the replay may fetch now. */
void cache_replay_pump_locked(struct cache *c);
/* A fetch of replay slot s ended (err: -errno or 0), before it is done. */
void cache_replay_slot_done_locked(struct cache *c, struct slot *s, int err);
/* Ends the replay when its time came; returns when to look again (ms of
 * util_mono_us() / 1000), 0 for never. */
int64_t cache_replay_tick_locked(struct cache *c);
/* A fetcher with nothing queued waits on c->work, and ticks the replay. */
void cache_replay_wait_locked(struct cache *c);

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
