/* SPDX-License-Identifier: MIT */
/*
 * cache.c - the block cache (cache.h). The object is cut into chunks of
 * s3.chunk bytes. A chunk is in one slot of RAM at most, found by a hash
 * of its index; a slot is FETCHING (claimed by the reader or readahead
 * that missed, queued for a fetcher), READY (on the LRU list) or FAILED
 * (the error stays for those who waited). Readers pin the slots they need
 * (refs) and copy out without the lock; the lock is never held across
 * network or file I/O. Fetchers take demand runs before readahead runs and
 * merge adjacent queued runs into one GET of at most MAX_RUN_BYTES.
 *
 * Readahead follows up to STREAMS sequential streams: a read that
 * continues one and still had to wait for the network doubles its window,
 * up to ra_max; prefetched chunks evicted unread (misses) halve ra_max,
 * and each one read lets it grow back by a chunk.
 *
 * The cache file (s3.cache_file) is a second tier: a header naming the
 * object, a bitmap of the chunks it holds, then the chunks at their
 * offsets. A bit is saved only after its data was synced, so a crash can
 * lose chunks but never claim one it does not hold.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/cache.h"

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

struct cache {
	struct object *ob;
	struct cache_config cfg;
	uint64_t size, chunk, nchunks;
	unsigned max_run;

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t ready; /* a fetch ended (chunks ready or failed) */
	pthread_cond_t work;  /* a run was queued, or stopping */
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
	struct stream streams[STREAMS];
	uint64_t tick, ra_max, ra_cap;
	int64_t last_read_ms;

	uint64_t hits, misses, readahead, ra_used, ra_wasted, gets, file_reads;
	uint64_t cached, lat[LAT_BUCKETS];
	unsigned nbd_inflight, get_inflight;

	int fd; /* the cache file, or -1 */
	uint8_t *bits;
	uint64_t bits_len, data_off, file_chunks;
	int bits_dirty;
	pthread_mutex_t sync_lock; /* one map writer at a time */
	int64_t synced_ms;
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

static uint64_t chunk_len(const struct cache *c, uint64_t idx)
{
	return min_u64(c->chunk, c->size - idx * c->chunk);
}

/* ---- latency histogram: four buckets per power of two of µs ---- */

static unsigned lat_bucket(uint64_t us)
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

/* ---- slots: hash, LRU, free list (all under the lock) ---- */

static struct slot **hash_ref(struct cache *c, uint64_t idx)
{
	struct slot **p =
		&c->hash[(idx * 0x9E3779B97F4A7C15ULL >> 32) & c->hmask];

	while (*p && (*p)->idx != idx)
		p = &(*p)->hnext;
	return p;
}

static struct slot *lookup(struct cache *c, uint64_t idx)
{
	return *hash_ref(c, idx);
}

static void lru_unlink(struct slot *s)
{
	if (!s->on_lru)
		return;
	s->prev->next = s->next;
	s->next->prev = s->prev;
	s->on_lru = 0;
}

/* To the young end. */
static void lru_push(struct cache *c, struct slot *s)
{
	lru_unlink(s);
	s->prev = c->lru.prev;
	s->next = &c->lru;
	c->lru.prev->next = s;
	c->lru.prev = s;
	s->on_lru = 1;
}

/*
 * A slot for a new chunk: a free one, else the oldest unpinned one on the
 * LRU. Readahead (ra) looks at the 8 oldest only and never evicts other
 * prefetched chunks; free_only takes free slots only. NULL when none.
 */
static struct slot *slot_take(struct cache *c, int ra, int free_only)
{
	struct slot *s = c->free_list;
	unsigned looked = 0;

	if (s) {
		c->free_list = s->next;
	} else if (!free_only) {
		for (s = c->lru.next; s != &c->lru; s = s->next) {
			if (ra && ++looked > 8)
				return NULL;
			if (!s->refs && !(ra && s->ra))
				break;
		}
		if (s == &c->lru)
			return NULL;
		lru_unlink(s);
		*hash_ref(c, s->idx) = s->hnext;
		if (s->state == S_READY)
			c->cached -= chunk_len(c, s->idx);
		if (s->ra) {
			/* fetched ahead for nothing: read ahead less */
			c->ra_wasted++;
			c->ra_max = c->ra_max / 2 > 2 * c->chunk ? c->ra_max / 2
								 : 2 * c->chunk;
		}
	} else {
		return NULL;
	}
	if (!s->data)
		s->data = malloc(c->chunk);
	if (!s->data) {
		s->next = c->free_list;
		c->free_list = s;
		return NULL;
	}
	return s;
}

/* Claims chunk idx (not in the cache) for a fetch. NULL: no room. */
static struct slot *claim(struct cache *c, uint64_t idx, int ra, int free_only)
{
	struct slot *s = slot_take(c, ra, free_only);
	struct slot **p;

	if (!s)
		return NULL;
	s->idx = idx;
	s->state = S_FETCHING;
	s->ra = (uint8_t)ra;
	s->refs = 0;
	s->err = 0;
	p = hash_ref(c, idx);
	s->hnext = *p;
	*p = s;
	return s;
}

/* ---- the fetch queue ---- */

static void enqueue(struct cache *c, struct slot *first, uint32_t run, int ra)
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
static struct slot *dequeue(struct cache *c)
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
	return first;
}

/* ---- the cache file ---- */

static int file_has(const struct cache *c, uint64_t idx)
{
	return c->fd >= 0 && (c->bits[idx / 8] >> (idx % 8) & 1);
}

static int pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pread(fd, (char *)buf + done, len - done,
			  (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

static int pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = pwrite(fd, (const char *)buf + done, len - done,
			   (off_t)(off + done));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		done += (size_t)n;
	}
	return 0;
}

/* Stores a fetched chunk in the file (no lock held) and marks it. */
static void file_store(struct cache *c, uint64_t idx, const char *data)
{
	int r;

	if (c->fd < 0 || file_has(c, idx))
		return;
	r = pwrite_full(c->fd, data, chunk_len(c, idx),
			c->data_off + idx * c->chunk);
	if (r) {
		log_warn("cache file %s: %s", c->cfg.file, strerror(-r));
		return;
	}
	pthread_mutex_lock(&c->lock);
	if (!file_has(c, idx)) {
		c->bits[idx / 8] |= (uint8_t)(1u << (idx % 8));
		c->file_chunks++;
		c->bits_dirty = 1;
	}
	pthread_mutex_unlock(&c->lock);
}

void cache_sync(struct cache *c)
{
	uint8_t *snap;
	int r;

	if (!c || c->fd < 0)
		return;
	pthread_mutex_lock(&c->sync_lock);
	snap = malloc(c->bits_len);
	pthread_mutex_lock(&c->lock);
	if (!snap || !c->bits_dirty) {
		pthread_mutex_unlock(&c->lock);
		goto out;
	}
	/* every chunk marked here was written before the sync below */
	memcpy(snap, c->bits, c->bits_len);
	c->bits_dirty = 0;
	pthread_mutex_unlock(&c->lock);
	r = fdatasync(c->fd) ? -errno : 0;
	if (!r)
		r = pwrite_full(c->fd, snap, c->bits_len, FILE_HEAD);
	if (!r)
		r = fdatasync(c->fd) ? -errno : 0;
	if (r)
		log_warn("cache file %s: saving its map: %s", c->cfg.file,
			 strerror(-r));
out:
	pthread_mutex_lock(&c->lock);
	c->synced_ms = mono_us() / 1000;
	pthread_mutex_unlock(&c->lock);
	pthread_mutex_unlock(&c->sync_lock);
	free(snap);
}

/* What the header says: the object and the geometry, NUL padded. */
static void file_header(const struct cache *c, char head[FILE_HEAD])
{
	const struct object_info *in = object_info(c->ob);

	memset(head, 0, FILE_HEAD);
	snprintf(head, FILE_HEAD,
		 "s3root cache 1\nchunk %" PRIu64 "\nsize %" PRIu64
		 "\nname %s\netag %s\nversion %s\nmodified %s\n",
		 c->chunk, c->size, in->name, in->etag, in->version_id,
		 in->last_modified);
}

static int file_open(struct cache *c, char *err, size_t errlen)
{
	const char *path = c->cfg.file;
	char *head = NULL, *want = NULL;
	uint64_t need, have, i;
	struct stat st;
	int r;

	c->bits_len = ((c->nchunks + 7) / 8 + 4095) / 4096 * 4096;
	c->data_off = FILE_HEAD + c->bits_len;
	need = c->data_off + c->size;
	c->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (c->fd < 0 || fstat(c->fd, &st)) {
		r = -errno;
		snprintf(err, errlen, "cache file %s: %s", path, strerror(-r));
		return r;
	}
	if (S_ISREG(st.st_mode)) {
		have = (uint64_t)st.st_size;
		if (have < need && ftruncate(c->fd, (off_t)need)) {
			r = -errno;
			snprintf(err, errlen,
				 "cache file %s: growing it to %" PRIu64
				 " bytes: %s",
				 path, need, strerror(-r));
			return r;
		}
	} else if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(c->fd, 0, SEEK_END); /* a device's size */

		have = end > 0 ? (uint64_t)end : 0;
		if (have < need) {
			snprintf(err, errlen,
				 "cache file %s: the device holds %" PRIu64
				 " bytes, the cache needs %" PRIu64,
				 path, have, need);
			return -ENOSPC;
		}
	} else {
		snprintf(err, errlen,
			 "cache file %s: not a regular file or block device",
			 path);
		return -EINVAL;
	}
	c->bits = calloc(1, c->bits_len);
	head = malloc(FILE_HEAD);
	want = malloc(FILE_HEAD);
	if (!c->bits || !head || !want) {
		r = -ENOMEM;
		snprintf(err, errlen, "cache file %s: out of memory", path);
		goto out;
	}
	file_header(c, want);
	r = pread_full(c->fd, head, FILE_HEAD, 0);
	if (!r && !memcmp(head, want, FILE_HEAD) &&
	    !pread_full(c->fd, c->bits, c->bits_len, FILE_HEAD)) {
		for (i = 0; i < c->nchunks; i++)
			c->file_chunks += c->bits[i / 8] >> (i % 8) & 1;
		/* bits past the last chunk are not ours to trust */
		for (i = c->nchunks; i < c->bits_len * 8; i++)
			c->bits[i / 8] &= (uint8_t) ~(1u << (i % 8));
		log_info("cache file %s holds %" PRIu64 " of %" PRIu64
			 " chunks",
			 path, c->file_chunks, c->nchunks);
		r = 0;
		goto out;
	}
	log_info("cache file %s: starting empty for %s", path,
		 object_info(c->ob)->name);
	/* another object or a new file: the empty map goes to disk before
	 * the header that makes it believed */
	memset(c->bits, 0, c->bits_len);
	r = pwrite_full(c->fd, c->bits, c->bits_len, FILE_HEAD);
	if (!r)
		r = fdatasync(c->fd) ? -errno : 0;
	if (!r)
		r = pwrite_full(c->fd, want, FILE_HEAD, 0);
	if (!r)
		r = fdatasync(c->fd) ? -errno : 0;
	if (r)
		snprintf(err, errlen, "cache file %s: %s", path, strerror(-r));
out:
	free(head);
	free(want);
	return r;
}

/* ---- fetching ---- */

/* Marks a slot done (ready, or failed with err) and wakes the waiters. */
static void slot_done(struct cache *c, struct slot *s, int err)
{
	pthread_mutex_lock(&c->lock);
	s->state = err ? S_FAILED : S_READY;
	s->err = err;
	if (!err)
		c->cached += chunk_len(c, s->idx);
	lru_push(c, s);
	pthread_cond_broadcast(&c->ready);
	pthread_mutex_unlock(&c->lock);
}

struct run_sink {
	struct cache *c;
	struct slot **s;
	uint32_t n, k; /* chunks in the run; the one being filled */
	uint64_t pos;  /* bytes of it filled */
};

/* Fills the run's chunks in order; each is ready as soon as it is full. */
static int run_sink(void *arg, const char *buf, size_t len)
{
	struct run_sink *rs = arg;
	struct cache *c = rs->c;

	while (len) {
		struct slot *s;
		uint64_t want, take;

		if (rs->k >= rs->n)
			return -EIO; /* more than asked: cannot happen */
		s = rs->s[rs->k];
		want = chunk_len(c, s->idx) - rs->pos;
		take = min_u64(want, len);
		memcpy(s->data + rs->pos, buf, take);
		rs->pos += take;
		buf += take;
		len -= take;
		if (take == want) {
			file_store(c, s->idx, s->data);
			slot_done(c, s, 0);
			rs->k++;
			rs->pos = 0;
		}
	}
	return 0;
}

/* Fetches the claimed chunks [first, first + n): from the file, or GET. */
static void fetch_run(struct cache *c, uint64_t first, uint32_t n)
{
	struct slot *s[MAX_RUN];
	struct run_sink rs = {c, s, n, 0, 0};
	uint64_t off = first * c->chunk,
		 len = min_u64((uint64_t)n * c->chunk, c->size - off);
	int64_t t0;
	uint32_t k;
	int r, local = c->fd >= 0;
	char msg[1024];

	pthread_mutex_lock(&c->lock);
	for (k = 0; k < n; k++) {
		s[k] = lookup(c, first + k); /* FETCHING: not evicted */
		local = local && file_has(c, first + k);
	}
	pthread_mutex_unlock(&c->lock);
	if (local) {
		for (k = 0; k < n; k++) {
			r = pread_full(c->fd, s[k]->data,
				       chunk_len(c, first + k),
				       c->data_off + (first + k) * c->chunk);
			if (r)
				break;
		}
		if (k == n) {
			pthread_mutex_lock(&c->lock);
			c->file_reads += n;
			pthread_mutex_unlock(&c->lock);
			for (k = 0; k < n; k++)
				slot_done(c, s[k], 0);
			return;
		}
		log_warn("cache file %s: %s; reading from the network",
			 c->cfg.file, strerror(-r));
	}
	t0 = mono_us();
	r = object_fetch(c->ob, off, len, run_sink, &rs, msg, sizeof(msg));
	pthread_mutex_lock(&c->lock);
	c->gets++;
	c->lat[lat_bucket((uint64_t)(mono_us() - t0))]++;
	pthread_mutex_unlock(&c->lock);
	if (r) {
		log_err("%s", msg);
		for (k = rs.k; k < n; k++)
			slot_done(c, s[k], r);
	}
}

static void *fetcher(void *arg)
{
	struct cache *c = arg;
	struct slot *run;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!c->stopping && !c->queue[0] && !c->queue[1])
			pthread_cond_wait(&c->work, &c->lock);
		if (c->stopping)
			break;
		run = dequeue(c);
		c->get_inflight++;
		pthread_mutex_unlock(&c->lock);
		fetch_run(c, run->idx, run->run);
		pthread_mutex_lock(&c->lock);
		c->get_inflight--;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ---- readahead (under the lock) ---- */

/* Claims and queues the chunks of [a, b) not cached, runs of `per`. */
static void prefetch(struct cache *c, uint64_t a, uint64_t b, uint32_t per)
{
	uint64_t idx, end = (min_u64(b, c->size) + c->chunk - 1) / c->chunk;
	struct slot *first = NULL, *s;
	uint32_t run = 0;

	for (idx = a / c->chunk; idx < end; idx++) {
		if (lookup(c, idx)) {
			enqueue(c, first, run, 1);
			first = NULL;
			continue;
		}
		s = claim(c, idx, 1, 0);
		if (!s)
			break; /* full of what is pinned or not read yet */
		c->readahead++;
		if (first && run < per) {
			run++;
			continue;
		}
		enqueue(c, first, run, 1);
		first = s;
		run = 1;
	}
	enqueue(c, first, run, 1);
}

/*
 * A read continues a stream when it starts where the stream's last read
 * ended, or one request further (the kernel's sockets reorder); one that
 * ends a little behind is a late part of it. Anything else starts a new
 * stream, in place of the oldest, with no readahead until it has been
 * continued three times.
 */
static void read_ahead(struct cache *c, uint64_t off, uint64_t len, int waited)
{
	uint64_t end = off + len, target, per;
	struct stream *st = NULL, *old = &c->streams[0];
	unsigned i;

	c->tick++;
	for (i = 0; i < STREAMS && !st; i++)
		if (c->streams[i].used && off >= c->streams[i].next &&
		    off <= c->streams[i].next + len)
			st = &c->streams[i];
	for (i = 0; i < STREAMS && !st; i++) {
		struct stream *s = &c->streams[i];

		if (s->used && end <= s->next && end + 2 * len >= s->next)
			return; /* late: nothing new */
		if (s->used < old->used)
			old = s;
	}
	if (!st) {
		*old = (struct stream){end, end, 0, c->tick, 0};
		return;
	}
	st->used = c->tick;
	st->next = end;
	if (st->ra_end < end)
		st->ra_end = end;
	/* random reads in a small region continue some stream now and then;
	 * three times in a row they rarely do */
	if (++st->seq < 3)
		return;
	/* deeper only while the reader still waits for the network: a
	 * window it never catches up with is deep enough */
	if (!st->window)
		st->window = 4 * c->chunk;
	else if (waited)
		st->window *= 2;
	st->window = min_u64(st->window, c->ra_max);
	target = min_u64(end + st->window, c->size);
	/* top up when half the window is used, in runs of a quarter */
	if (st->ra_end >= target || st->ra_end - end > st->window / 2)
		return;
	per = st->window / 4 / c->chunk;
	prefetch(c, st->ra_end, target,
		 (uint32_t)(per < 1	       ? 1
			    : per > c->max_run ? c->max_run
					       : per));
	st->ra_end = target;
}

/* ---- reads ---- */

/*
 * Reads around the RAM cache (no room in it): the file, or the object,
 * giving up at the deadline (mono_us; 0: none).
 */
static int read_direct(struct cache *c, void *buf, uint64_t off, size_t len,
		       int64_t deadline)
{
	uint64_t idx, last = (off + len - 1) / c->chunk;
	int local = c->fd >= 0, r;
	char msg[1024];

	pthread_mutex_lock(&c->lock);
	for (idx = off / c->chunk; local && idx <= last; idx++)
		local = file_has(c, idx);
	pthread_mutex_unlock(&c->lock);
	if (local && !pread_full(c->fd, buf, len, c->data_off + off))
		return 0;
	r = object_read(c->ob, buf, off, len, deadline / 1000, msg,
			sizeof(msg));
	if (r)
		log_err("%s", msg);
	return r;
}

/* What a reply holds until it is sent: pinned chunks, a bounce buffer. */
struct hold {
	char *bounce; /* bytes read around the cache, or NULL */
	uint64_t cnt;
	struct slot *pin[]; /* NULL: not pinned */
};

static const char zeros[NBD_BLOCK]; /* the device's tail past the object */

void cache_release(void *arg, void *hold)
{
	struct cache *c = arg;
	struct hold *h = hold;
	uint64_t k;

	pthread_mutex_lock(&c->lock);
	for (k = 0; k < h->cnt; k++)
		if (h->pin[k])
			h->pin[k]->refs--;
	pthread_mutex_unlock(&c->lock);
	free(h->bounce);
	free(h);
}

/* Has the deadline (mono_us; 0: none) passed? */
static int past(int64_t deadline)
{
	return deadline && mono_us() >= deadline;
}

/* Waits for a fetch to end, until the deadline if there is one. */
static void wait_ready(struct cache *c, int64_t deadline)
{
	struct timespec ts;

	if (!deadline) {
		pthread_cond_wait(&c->ready, &c->lock);
		return;
	}
	ts.tv_sec = deadline / 1000000;
	ts.tv_nsec = deadline % 1000000 * 1000;
	pthread_cond_timedwait(&c->ready, &c->lock, &ts);
}

/*
 * Pins the chunks of [off, off + n) (n > 0) as iov pieces, claiming and
 * queueing the misses in runs and waiting for them; what finds no room is
 * read around the cache into h->bounce. Past the deadline (mono_us; 0:
 * none) it waits no more: -ETIMEDOUT. Returns the number of pieces, or
 * -errno; either way h holds what was pinned (cache_release drops it).
 */
static long pin_range(struct cache *c, uint64_t off, uint64_t n,
		      int64_t deadline, struct hold *h, struct iovec *iov)
{
	uint64_t idx0 = off / c->chunk, k, a, b;
	struct slot *s, *first = NULL, **pin = h->pin;
	uint32_t run = 0;
	long niov = 0;
	int r = 0, e, waited = 0;

	pthread_mutex_lock(&c->lock);
	c->nbd_inflight++;
	c->last_read_ms = mono_us() / 1000;
	/* pin what is cached or coming; claim the rest, in runs */
	for (k = 0; k < h->cnt; k++) {
		s = lookup(c, idx0 + k);
		if (s && s->state != S_FAILED) {
			c->hits++;
			waited |= s->state == S_FETCHING;
			if (s->ra) {
				s->ra = 0;
				c->ra_used++;
				if (c->ra_max < c->ra_cap)
					c->ra_max += c->chunk;
			}
			s->refs++;
			pin[k] = s;
			continue;
		}
		c->misses++;
		waited = 1;
		if (s) { /* failed before: again */
			lru_unlink(s);
			s->state = S_FETCHING;
		} else {
			s = claim(c, idx0 + k, 0, 0);
		}
		pin[k] = s;
		if (!s)
			continue; /* no room: read around the cache */
		s->refs++;
		if (first && run < c->max_run && first->idx + run == s->idx) {
			run++;
			continue;
		}
		enqueue(c, first, run, 0);
		first = s;
		run = 1;
	}
	enqueue(c, first, run, 0);
	read_ahead(c, off, n, waited);
	/* the pieces in order, waiting where needed */
	for (k = 0; k < h->cnt; k++) {
		a = (idx0 + k) * c->chunk;
		b = min_u64(a + c->chunk, off + n);
		if (a < off)
			a = off;
		s = pin[k];
		if (!s) {
			/* the run of chunks with no room, in one read */
			while (k + 1 < h->cnt && !pin[k + 1])
				b = min_u64((idx0 + ++k + 1) * c->chunk,
					    off + n);
			pthread_mutex_unlock(&c->lock);
			if (!h->bounce)
				h->bounce = malloc(n);
			if (!h->bounce)
				e = -ENOMEM;
			else if (past(deadline))
				e = -ETIMEDOUT;
			else
				e = read_direct(c, h->bounce + (a - off), a,
						b - a, deadline);
			pthread_mutex_lock(&c->lock);
			if (e && !r)
				r = e;
			iov[niov++] =
				(struct iovec){h->bounce + (a - off), b - a};
			continue;
		}
		while (s->state == S_FETCHING && !past(deadline))
			wait_ready(c, deadline);
		if (s->state == S_READY) {
			lru_push(c, s);
			iov[niov++] = (struct iovec){
				s->data + (a - s->idx * c->chunk), b - a};
		} else if (!r) {
			r = s->state == S_FETCHING ? -ETIMEDOUT : s->err;
		}
	}
	c->nbd_inflight--;
	pthread_mutex_unlock(&c->lock);
	return r ? r : niov;
}

int cache_read_iov(void *arg, uint64_t off, uint32_t len, uint64_t queued_us,
		   struct iovec **iovp, unsigned *niov, void **hold)
{
	struct cache *c = arg;
	uint64_t n = 0, cnt = 0;
	struct iovec *iov;
	struct hold *h;
	int64_t deadline = 0;
	long got = 0;
	int r;

	if (c->cfg.io_timeout_ms) /* from the request's arrival */
		deadline = mono_us() - (int64_t)queued_us +
			   (int64_t)c->cfg.io_timeout_ms * 1000;
	if (off < c->size)
		n = min_u64(c->size - off, len);
	if (n)
		cnt = c->nslots ? (off + n - 1) / c->chunk - off / c->chunk + 1
				: 1;
	h = calloc(1, sizeof(*h) + cnt * sizeof(h->pin[0]));
	iov = malloc((cnt + 1) * sizeof(*iov));
	if (!h || !iov) {
		r = -ENOMEM;
		goto err;
	}
	if (n && c->nslots) {
		h->cnt = cnt;
		got = pin_range(c, off, n, deadline, h, iov);
	} else if (n) {
		h->bounce = malloc(n);
		got = !h->bounce ? -ENOMEM
		      : past(deadline)
			      ? -ETIMEDOUT
			      : read_direct(c, h->bounce, off, n, deadline);
		iov[0] = (struct iovec){h->bounce, n};
		got = got ? got : 1;
	}
	if (got == -ETIMEDOUT) {
		log_err("read of %" PRIu64 "+%" PRIu32 ": no answer within "
			"s3.io_timeout (%" PRIu64 " ms)",
			off, len, c->cfg.io_timeout_ms);
		got = -EIO;
	}
	if (got < 0) {
		r = (int)got;
		goto err;
	}
	if (len > n) /* within the device, so less than a block */
		iov[got++] = (struct iovec){(void *)zeros, len - n};
	*iovp = iov;
	*niov = (unsigned)got;
	*hold = h;
	return 0;
err:
	if (h)
		cache_release(c, h);
	free(iov);
	return r;
}

/* ---- the background pull (s3.prefetch=all) and the map saver ---- */

/* Sleeps ms in steps, 0 when asked to stop. */
static int nap(struct cache *c, int64_t ms)
{
	int stop;

	do {
		if (ms > 0)
			usleep((useconds_t)(ms > 100 ? 100 : ms) * 1000);
		ms -= 100;
		pthread_mutex_lock(&c->lock);
		stop = c->stopping;
		pthread_mutex_unlock(&c->lock);
		if (stop)
			return 0;
	} while (ms > 0);
	return 1;
}

/*
 * Pulls one run of missing chunks from *next on. Returns the bytes
 * fetched; *next is nchunks when there is nothing left to pull.
 */
static uint64_t pull_run(struct cache *c, uint64_t *next, char *buf)
{
	uint64_t idx = *next, n = 0, k, len;
	char msg[1024];
	int r;

	pthread_mutex_lock(&c->lock);
	if (c->fd >= 0) {
		while (idx < c->nchunks && file_has(c, idx))
			idx++;
		while (idx + n < c->nchunks && n < c->max_run &&
		       !file_has(c, idx + n))
			n++;
	} else {
		while (idx < c->nchunks && lookup(c, idx))
			idx++;
		/* RAM: only into free slots, never evicting */
		while (idx + n < c->nchunks && n < c->max_run &&
		       !lookup(c, idx + n) && claim(c, idx + n, 0, 1))
			n++;
		if (!n)
			idx = c->nchunks; /* the budget is full: done */
	}
	if (n)
		c->get_inflight++;
	pthread_mutex_unlock(&c->lock);
	*next = idx + n;
	if (!n)
		return 0;
	len = min_u64(n * c->chunk, c->size - idx * c->chunk);
	if (c->fd < 0) {
		fetch_run(c, idx, (uint32_t)n);
		r = 0;
	} else {
		r = object_read(c->ob, buf, idx * c->chunk, len, 0, msg,
				sizeof(msg));
		for (k = 0; !r && k < n; k++)
			file_store(c, idx + k, buf + k * c->chunk);
	}
	pthread_mutex_lock(&c->lock);
	c->get_inflight--;
	pthread_mutex_unlock(&c->lock);
	if (r) {
		log_warn("background fetch: %s", msg);
		*next = idx; /* again later */
	}
	return len;
}

static void *background(void *arg)
{
	struct cache *c = arg;
	uint64_t next = 0, got;
	char *buf = c->fd >= 0 ? malloc((size_t)c->max_run * c->chunk) : NULL;
	int64_t now, quiet, rate = (int64_t)c->cfg.prefetch_rate;
	int pulling = c->cfg.prefetch_all && (c->fd < 0 || buf), sync;

	for (;;) {
		now = mono_us() / 1000;
		pthread_mutex_lock(&c->lock);
		quiet = !c->nbd_inflight && !c->queue[0] && !c->queue[1] &&
			now - c->last_read_ms >= IDLE_MS;
		sync = c->fd >= 0 && now - c->synced_ms >= SYNC_MS;
		pthread_mutex_unlock(&c->lock);
		if (sync)
			cache_sync(c);
		if (!pulling || !quiet) {
			if (!nap(c, 100))
				break;
			continue;
		}
		got = pull_run(c, &next, buf);
		if (next >= c->nchunks) {
			pulling = 0;
			pthread_mutex_lock(&c->lock);
			got = c->fd >= 0 ? c->file_chunks
					 : c->cached / c->chunk;
			pthread_mutex_unlock(&c->lock);
			log_info("%s: %" PRIu64 " of %" PRIu64
				 " chunks are local (s3.prefetch=all)",
				 object_info(c->ob)->name, got, c->nchunks);
			continue;
		}
		/* at most prefetch_rate bytes a second */
		if (!nap(c, got && rate ? (int64_t)got * 1000 / rate : 0))
			break;
	}
	free(buf);
	return NULL;
}

/* ---- set-up, figures ---- */

void cache_config_from(const struct opts *o, struct cache_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->chunk = opts_num(o, OPT_CHUNK);
	cfg->budget = opts_num(o, OPT_CACHE);
	cfg->fetchers = (unsigned)opts_num(o, OPT_CONNECTIONS);
	cfg->prefetch_all = !strcmp(opts_str(o, OPT_PREFETCH), "all");
	cfg->prefetch_rate = opts_num(o, OPT_PREFETCH_RATE);
	cfg->file = opts_str(o, OPT_CACHE_FILE);
	cfg->io_timeout_ms = opts_num(o, OPT_IO_TIMEOUT);
}

int cache_new(struct cache **cp, struct object *ob,
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
	c->ob = ob;
	c->cfg = *cfg;
	c->fd = -1;
	c->size = object_info(ob)->size;
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
	c->qtail[0] = &c->queue[0];
	c->qtail[1] = &c->queue[1];
	pthread_mutex_init(&c->lock, NULL);
	pthread_mutex_init(&c->sync_lock, NULL);
	pthread_condattr_init(&ca); /* readers' deadlines: monotonic */
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->ready, &ca);
	pthread_condattr_destroy(&ca);
	pthread_cond_init(&c->work, NULL);
	*cp = c;
	if (!c->nslots)
		return 0; /* every read goes to the object */
	while (h < 2 * c->nslots)
		h <<= 1;
	c->hmask = h - 1;
	c->hash = calloc(h, sizeof(*c->hash));
	c->slots = calloc(c->nslots, sizeof(*c->slots));
	c->threads =
		calloc(cfg->fetchers ? cfg->fetchers : 1, sizeof(*c->threads));
	if (!c->hash || !c->slots || !c->threads) {
		snprintf(err, errlen, "cache: out of memory");
		goto err_free;
	}
	for (i = c->nslots; i-- > 0;) {
		c->slots[i].next = c->free_list;
		c->free_list = &c->slots[i];
	}
	if (cfg->file) {
		r = file_open(c, err, errlen);
		if (r)
			goto err_free;
	}
	while (c->nthreads < (cfg->fetchers ? cfg->fetchers : 1)) {
		r = -pthread_create(&c->threads[c->nthreads], NULL, fetcher, c);
		if (r) {
			snprintf(err, errlen, "cache: starting fetchers: %s",
				 strerror(-r));
			goto err_free;
		}
		c->nthreads++;
	}
	/* warm start: the superblock and the metadata after it, before
	 * the kernel asks */
	pthread_mutex_lock(&c->lock);
	prefetch(c, 0, min_u64(WARM_BYTES, c->ra_cap / 2), c->max_run);
	pthread_mutex_unlock(&c->lock);
	if (cfg->file || cfg->prefetch_all) {
		r = -pthread_create(&c->bg, NULL, background, c);
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
	size_t i;

	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	c->stopping = 1;
	pthread_cond_broadcast(&c->work);
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
	free(c->hash);
	free(c->threads);
	free(c->bits);
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
	st->gets = c->gets;
	st->p50_us = lat_percentile(c->lat, 50);
	st->p99_us = lat_percentile(c->lat, 99);
	pthread_mutex_unlock(&c->lock);
	object_stats(c->ob, &st->object);
}

int cache_format_stats(struct cache *c, int json, char *buf, size_t len)
{
	struct cache_stats s;
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
			", \"file_reads\": %" PRIu64 "}",
			s.size, s.cached, (uint64_t)c->nslots * c->chunk,
			s.hits, s.misses, s.readahead, s.ra_used, s.ra_wasted,
			s.object.bytes, s.object.requests, s.object.retries,
			s.gets, s.nbd_inflight, s.get_inflight, s.p50_us,
			s.p99_us, s.file_bytes, s.file_reads);
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
	if (n >= 0 && !json && c->fd >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "cache file: %s, %" PRIu64 " of %" PRIu64
			      " bytes, %" PRIu64 " chunks read from it\n",
			      c->cfg.file, s.file_bytes, s.size, s.file_reads);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
