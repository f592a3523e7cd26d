/* SPDX-License-Identifier: MIT */
/*
 * test_cache.c - the block cache over a fake source (cache_new_source):
 * the fake delivers in random pieces (seeded), fails on request, can hold
 * its fetches at a gate, and logs each fetch's range. White-box where a
 * rule is about the cache's state (src/cache/internal.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include "nbd/nbd.h"
#include "src/attach/internal.h"
#include "src/cache/internal.h"
#include "tests/unit/unit.h"

#define CHUNK 4096
#define LOG_MAX 1024

struct range {
	uint64_t off, len;
};

struct fake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct object_info info;
	uint64_t size;
	uint32_t seed;		   /* of the piece sizes */
	unsigned fetches;	   /* fetch calls */
	unsigned reads;		   /* read calls (around the cache) */
	struct range log[LOG_MAX]; /* each fetch's range */
	struct range fail;	   /* fetches touching it fail... */
	int fail_times;		   /* ...this many times... */
	int fail_err;		   /* ...with this, after the bytes before it */
	uint64_t short_by;	   /* the next fetch ends this short, with 0 */
	int gate;		   /* fetches wait while it is closed (1) */
	unsigned waiting;	   /* fetches at the gate */
};

/* The object's byte at off: differs across every chunk boundary. */
static uint8_t pattern(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 12) * 13 + (off >> 8));
}

static struct fake *fake_new(uint64_t size, uint32_t seed, const char *etag)
{
	struct fake *f = calloc(1, sizeof(*f));

	if (!f)
		abort();
	pthread_mutex_init(&f->lock, NULL);
	pthread_cond_init(&f->cond, NULL);
	f->size = size;
	f->seed = seed;
	f->info.size = size;
	snprintf(f->info.name, sizeof(f->info.name), "fake://object");
	snprintf(f->info.etag, sizeof(f->info.etag), "%s", etag);
	return f;
}

static void fake_free(struct fake *f)
{
	pthread_cond_destroy(&f->cond);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

static void fake_gate(struct fake *f, int closed)
{
	pthread_mutex_lock(&f->lock);
	f->gate = closed;
	pthread_cond_broadcast(&f->cond);
	pthread_mutex_unlock(&f->lock);
}

static void fake_fail(struct fake *f, uint64_t off, uint64_t len, int times,
		      int err)
{
	pthread_mutex_lock(&f->lock);
	f->fail = (struct range){off, len};
	f->fail_times = times;
	f->fail_err = err;
	pthread_mutex_unlock(&f->lock);
}

static void fake_reset(struct fake *f)
{
	pthread_mutex_lock(&f->lock);
	f->fetches = f->reads = 0;
	pthread_mutex_unlock(&f->lock);
}

static unsigned fake_count(struct fake *f, unsigned *what)
{
	unsigned n;

	pthread_mutex_lock(&f->lock);
	n = *what;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static uint32_t xorshift(uint32_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 17;
	*x ^= *x << 5;
	return *x;
}

/* Under f->lock: where [off, off + len) must stop failing, or len. */
static uint64_t fake_fail_at(struct fake *f, uint64_t off, uint64_t len,
			     int *err)
{
	if (!f->fail_times || f->fail.off >= off + len ||
	    f->fail.off + f->fail.len <= off)
		return len;
	f->fail_times--;
	*err = f->fail_err;
	return f->fail.off > off ? f->fail.off - off : 0;
}

static const struct object_info *fake_describe(void *arg)
{
	return &((struct fake *)arg)->info;
}

static int fake_fetch(void *arg, uint64_t off, uint64_t len, object_sink sink,
		      void *sinkarg, char *err, size_t errlen)
{
	struct fake *f = arg;
	uint32_t rng = f->seed ^ (uint32_t)(off * 2654435761u) ^ 0x9e3779b9u;
	uint64_t done = 0, upto;
	char buf[9000];
	int r = 0;

	pthread_mutex_lock(&f->lock);
	if (f->fetches < LOG_MAX)
		f->log[f->fetches] = (struct range){off, len};
	f->fetches++;
	f->waiting++;
	while (f->gate)
		pthread_cond_wait(&f->cond, &f->lock);
	f->waiting--;
	upto = fake_fail_at(f, off, len, &r);
	if (f->short_by && !r) {
		upto = len > f->short_by ? len - f->short_by : 0;
		f->short_by = 0;
	}
	pthread_mutex_unlock(&f->lock);
	if (off + len > f->size) {
		snprintf(err, errlen, "fetch past the end");
		return -EINVAL;
	}
	/* pieces of 1 to 16 bytes now and then, else up to sizeof(buf) */
	while (done < upto) {
		uint64_t n = xorshift(&rng) % 4 ? xorshift(&rng) % sizeof(buf)
						: xorshift(&rng) % 16;
		uint64_t k;

		n = min_u64(n + 1, upto - done);
		for (k = 0; k < n; k++)
			buf[k] = (char)pattern(off + done + k);
		if (sink(sinkarg, buf, n))
			return -EIO;
		done += n;
	}
	if (r)
		snprintf(err, errlen, "fake fetch of %llu+%llu fails",
			 (unsigned long long)off, (unsigned long long)len);
	return r;
}

static int fake_read(void *arg, void *buf, uint64_t off, size_t len,
		     int64_t deadline_ms, char *err, size_t errlen)
{
	struct fake *f = arg;
	uint64_t k;
	int r = 0;

	(void)deadline_ms;
	pthread_mutex_lock(&f->lock);
	f->reads++;
	if (fake_fail_at(f, off, len, &r) < len)
		snprintf(err, errlen, "fake read fails");
	pthread_mutex_unlock(&f->lock);
	if (r)
		return r;
	for (k = 0; k < len; k++)
		((uint8_t *)buf)[k] = pattern(off + k);
	return 0;
}

static void fake_stats(void *arg, struct object_stats *st)
{
	struct fake *f = arg;

	pthread_mutex_lock(&f->lock);
	st->requests = f->fetches + f->reads;
	pthread_mutex_unlock(&f->lock);
}

static const struct cache_source_ops fake_ops = {
	.describe = fake_describe,
	.fetch = fake_fetch,
	.read = fake_read,
	.stats = fake_stats,
};

static struct cache *start(struct fake *f, uint64_t chunk, uint64_t budget,
			   unsigned fetchers, const char *file,
			   uint64_t io_timeout_ms)
{
	struct cache_config cfg = {chunk, budget, fetchers,	0,
				   0,	  file,	  io_timeout_ms};
	struct cache_source src = {&fake_ops, f};
	struct cache *c = NULL;
	char err[256];
	int r;

	r = cache_new_source(&c, &src, &cfg, err, sizeof(err));
	if (!CHECK_INT(r, 0))
		fprintf(stderr, "    %s\n", err);
	return c;
}

static int64_t now_ms(void)
{
	return util_mono_us() / 1000;
}

static void nap_ms(long ms)
{
	struct timespec ts = {ms / 1000, ms % 1000 * 1000000};

	nanosleep(&ts, NULL);
}

/* Polls cond (an expression) for up to 3 s; the result is CHECKed. */
#define WAIT_UNTIL(cond)                                                       \
	do {                                                                   \
		int64_t until_ = now_ms() + 3000;                              \
		while (!(cond) && now_ms() < until_)                           \
			nap_ms(1);                                             \
		CHECK(cond);                                                   \
	} while (0)

/* Nothing queued, no fetch under way. */
static int idle(struct cache *c)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = !c->queue[0] && !c->queue[1] && !c->get_inflight;
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int slot_state(struct cache *c, uint64_t idx)
{
	struct slot *s;
	int st;

	pthread_mutex_lock(&c->lock);
	s = cache_lookup_locked(c, idx);
	st = s ? s->state : 0;
	pthread_mutex_unlock(&c->lock);
	return st;
}

/*
 * Reads [off, off + len) and checks every byte (the pattern, zeros past
 * the object). Keeps the pieces pinned when hold is not NULL. Returns
 * the read's result.
 */
static int read_check(struct cache *c, uint64_t size, uint64_t off,
		      uint32_t len, uint64_t queued_us, void **hold)
{
	struct iovec *iov = NULL;
	unsigned niov = 0, i;
	uint64_t pos = off, k, bad = 0;
	void *h = NULL;
	int r;

	r = cache_read_iov(c, off, len, queued_us, &iov, &niov, &h);
	if (r)
		return r;
	for (i = 0; i < niov; i++) {
		const uint8_t *p = iov[i].iov_base;

		for (k = 0; k < iov[i].iov_len; k++, pos++)
			bad += p[k] != (pos < size ? pattern(pos) : 0);
	}
	if (!CHECK_INT(pos, off + len) || !CHECK_INT(bad, 0))
		fprintf(stderr, "    read %llu+%u\n", (unsigned long long)off,
			len);
	free(iov);
	if (hold)
		*hold = h;
	else
		cache_release(c, h);
	return 0;
}

struct reader {
	struct cache *c;
	uint64_t size, off;
	uint32_t len;
	int r, done;
	pthread_t th;
};

static void *reader_run(void *arg)
{
	struct reader *rd = arg;

	rd->r = read_check(rd->c, rd->size, rd->off, rd->len, 0, NULL);
	__atomic_store_n(&rd->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void reader_start(struct reader *rd, struct cache *c, uint64_t size,
			 uint64_t off, uint32_t len)
{
	*rd = (struct reader){c, size, off, len, 0, 0, 0};
	if (pthread_create(&rd->th, NULL, reader_run, rd))
		abort();
}

static unsigned slot_refs(struct cache *c, uint64_t idx)
{
	struct slot *s;
	unsigned n;

	pthread_mutex_lock(&c->lock);
	s = cache_lookup_locked(c, idx);
	n = s ? s->refs : 0;
	pthread_mutex_unlock(&c->lock);
	return n;
}

static int synced(struct cache *c)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = c->synced_ms != 0;
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int reader_done(struct reader *rd)
{
	return __atomic_load_n(&rd->done, __ATOMIC_ACQUIRE);
}

static uint64_t misses(struct cache *c)
{
	struct cache_stats st;

	cache_stats(c, &st);
	return st.misses;
}

/* The queue on its own: which queued runs become one GET. */
static void test_queue_merge(void)
{
	static const struct {
		unsigned nq;
		struct {
			uint64_t idx;
			uint32_t run;
			int ra;
		} q[4];
		unsigned nout;
		struct {
			uint64_t idx;
			uint32_t run;
		} out[4];
	} cases[] = {
		/* adjacent misses: one GET */
		{2, {{0, 1, 0}, {1, 1, 0}}, 1, {{0, 2}}},
		/* a run that ends where the first starts joins before it */
		{2, {{5, 1, 0}, {3, 2, 1}}, 1, {{3, 3}}},
		/* a gap: two GETs */
		{2, {{0, 1, 0}, {2, 1, 0}}, 2, {{0, 1}, {2, 1}}},
		/* no more than max_run (4) chunks in one GET */
		{2, {{0, 3, 0}, {3, 2, 0}}, 2, {{0, 3}, {3, 2}}},
		/* demand before readahead */
		{2, {{10, 1, 1}, {20, 1, 0}}, 2, {{20, 1}, {10, 1}}},
		/* a chain found in either queue, in any order */
		{4, {{2, 1, 0}, {0, 1, 1}, {3, 1, 0}, {1, 1, 1}}, 1, {{0, 4}}},
		/* exactly max_run, then the rest */
		{3, {{0, 2, 0}, {2, 2, 1}, {4, 1, 0}}, 2, {{0, 4}, {4, 1}}},
	};
	struct slot slots[64];
	struct cache c;
	size_t i;
	unsigned k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&c, 0, sizeof(c));
		memset(slots, 0, sizeof(slots));
		pthread_cond_init(&c.work, NULL);
		pthread_cond_init(&c.wake, NULL);
		c.max_run = 4;
		c.qtail[0] = &c.queue[0];
		c.qtail[1] = &c.queue[1];
		for (k = 0; k < cases[i].nq; k++) {
			struct slot *s = &slots[cases[i].q[k].idx];

			s->idx = cases[i].q[k].idx;
			cache_enqueue_locked(&c, s, cases[i].q[k].run,
					     cases[i].q[k].ra);
		}
		for (k = 0; k < cases[i].nout; k++) {
			struct slot *s;

			if (!CHECK(c.queue[0] || c.queue[1]))
				break;
			s = cache_dequeue_locked(&c);
			if (!CHECK_INT(s->idx, cases[i].out[k].idx) ||
			    !CHECK_INT(s->run, cases[i].out[k].run))
				fprintf(stderr, "    case %zu, GET %u\n", i, k);
		}
		CHECK(!c.queue[0] && !c.queue[1]);
		CHECK(c.qtail[0] == &c.queue[0] && c.qtail[1] == &c.queue[1]);
		pthread_cond_destroy(&c.work);
		pthread_cond_destroy(&c.wake);
	}
}

static int range_cmp(const void *a, const void *b)
{
	const struct range *x = a, *y = b;

	return x->off < y->off ? -1 : x->off > y->off;
}

/* Reads through the fetchers: what GETs the misses become. */
static void test_merge_gets(void)
{
	const uint64_t size = 8 << 20;
	struct fake *f = fake_new(size, 1, "\"e1\"");
	struct cache *c = start(f, CHUNK, 4 << 20, 1, NULL, 0);
	struct reader rd[4];
	struct range got[4];
	unsigned n, i;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c)); /* the warm start */
	fake_reset(f);
	/* one read of 8 missing chunks: one GET */
	CHECK_INT(read_check(c, size, 1000 * CHUNK, 8 * CHUNK, 0, NULL), 0);
	CHECK_INT(f->fetches, 1);
	CHECK_INT(f->log[0].off, 1000 * CHUNK);
	CHECK_INT(f->log[0].len, 8 * CHUNK);
	/* 1 MiB from an unaligned start: GETs of at most MAX_RUN_BYTES */
	fake_reset(f);
	CHECK_INT(read_check(c, size, 1100 * CHUNK + 100, 1 << 20, 0, NULL), 0);
	n = f->fetches;
	CHECK_INT(n, 3);
	for (i = 0; i < n; i++)
		CHECK(f->log[i].len <= MAX_RUN_BYTES);
	CHECK_INT(f->log[0].off, 1100 * CHUNK);
	CHECK_INT(f->log[0].len, MAX_RUN_BYTES);
	/* reads that wait in the queue together: adjacent ones merge, the
	 * one after a gap does not */
	fake_reset(f);
	fake_gate(f, 1);
	reader_start(&rd[0], c, size, 1500 * CHUNK, CHUNK);
	WAIT_UNTIL(fake_count(f, &f->waiting) == 1);
	reader_start(&rd[1], c, size, 1600 * CHUNK, CHUNK);
	reader_start(&rd[2], c, size, 1601 * CHUNK, CHUNK);
	reader_start(&rd[3], c, size, 1603 * CHUNK, CHUNK);
	WAIT_UNTIL(misses(c) >= 8 + 257 + 4);
	fake_gate(f, 0);
	for (i = 0; i < 4; i++) {
		pthread_join(rd[i].th, NULL);
		CHECK_INT(rd[i].r, 0);
	}
	CHECK_INT(f->fetches, 3);
	memcpy(got, f->log, 3 * sizeof(got[0]));
	qsort(got, 3, sizeof(got[0]), range_cmp);
	CHECK_INT(got[0].off, 1500 * CHUNK);
	CHECK_INT(got[1].off, 1600 * CHUNK);
	CHECK_INT(got[1].len, 2 * CHUNK);
	CHECK_INT(got[2].off, 1603 * CHUNK);
	CHECK_INT(got[2].len, CHUNK);
out:
	cache_free(c);
	fake_free(f);
}

/*
 * Merged GETs delivered in random pieces come back as the right chunks:
 * every chunk boundary, the object's short tail chunk, zeros past it.
 */
static void test_split_pieces(void)
{
	static const struct {
		uint32_t seed;
		uint64_t size, chunk, budget;
		unsigned fetchers;
	} cases[] = {
		{1, 3 * 65536 + 1000, 4096, 64 * 4096, 1},
		{2, 3 * 65536 + 1000, 8192, 16 * 8192, 2},
		{3, 200 * 4096 + 4095, 4096, 4 * 4096, 3},
		{4, 100 * 16384 + 1, 16384, 8 * 16384, 2},
		{5, 4096 * 5, 4096, 64 * 4096, 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint64_t size = cases[i].size, chunk = cases[i].chunk, k;
		uint64_t end = (size + NBD_BLOCK - 1) / NBD_BLOCK * NBD_BLOCK;
		struct fake *f = fake_new(size, cases[i].seed, "\"e\"");
		struct cache *c = start(f, chunk, cases[i].budget,
					cases[i].fetchers, NULL, 0);
		uint32_t rng = cases[i].seed;

		if (!c) {
			fake_free(f);
			continue;
		}
		/* the bytes on both sides of every chunk boundary */
		for (k = chunk; k < size; k += chunk)
			CHECK_INT(read_check(c, size, k - 2, 4, 0, NULL), 0);
		/* whole reads across several chunks */
		for (k = 0; k < size; k += 3 * chunk)
			CHECK_INT(read_check(
					  c, size, k,
					  (uint32_t)min_u64(3 * chunk, end - k),
					  0, NULL),
				  0);
		/* random ones, up to the device's end */
		for (k = 0; k < 50; k++) {
			uint64_t off = xorshift(&rng) % end;
			uint32_t len = 1 + xorshift(&rng) % (4 * chunk);

			if (off + len > end)
				len = (uint32_t)(end - off);
			CHECK_INT(read_check(c, size, off, len, 0, NULL), 0);
		}
		/* the tail: the short chunk, then zeros to the block */
		CHECK_INT(read_check(c, size, size - 1,
				     (uint32_t)(end - size + 1), 0, NULL),
			  0);
		if (end > size)
			CHECK_INT(read_check(c, size, size,
					     (uint32_t)(end - size), 0, NULL),
				  0);
		cache_free(c);
		fake_free(f);
	}
}

static uint64_t widest_window(struct cache *c)
{
	uint64_t w = 0;
	unsigned i;

	pthread_mutex_lock(&c->lock);
	for (i = 0; i < STREAMS; i++)
		if (c->streams[i].window > w)
			w = c->streams[i].window;
	pthread_mutex_unlock(&c->lock);
	return w;
}

/* Sequential reads grow a readahead window; random ones do not. */
static void test_readahead(void)
{
	const uint64_t size = 32 << 20;
	struct fake *f = fake_new(size, 7, "\"e\"");
	struct cache *c = start(f, CHUNK, 4 << 20, 2, NULL, 0);
	struct cache_stats st, st0;
	uint32_t rng = 99;
	unsigned k, reads;
	uint64_t off;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	cache_stats(c, &st0);
	CHECK(st0.readahead > 0); /* the warm start counts as readahead */
	/* random 4 KiB reads far apart: no stream, no readahead */
	for (k = 0; k < 64; k++) {
		off = (4 << 20) + (uint64_t)(xorshift(&rng) % 1024) * 8 * CHUNK;
		CHECK_INT(read_check(c, size, off, CHUNK, 0, NULL), 0);
	}
	WAIT_UNTIL(idle(c));
	cache_stats(c, &st);
	CHECK_INT(st.readahead, st0.readahead);
	CHECK_INT(widest_window(c), 0);
	st0 = st;
	/* 128 KiB sequential reads: readahead starts at the fourth, the
	 * window grows past its first 4 chunks, and more than half the chunks
	 * are claimed by readahead before a read asks for them (not misses) */
	fake_reset(f);
	reads = 64;
	for (k = 0; k < reads; k++)
		CHECK_INT(read_check(c, size, (1 << 20) + k * 32 * CHUNK,
				     32 * CHUNK, 0, NULL),
			  0);
	WAIT_UNTIL(idle(c));
	cache_stats(c, &st);
	CHECK(st.readahead > st0.readahead + 32);
	CHECK(st.ra_used > st0.ra_used + 32);
	CHECK(widest_window(c) > 4 * CHUNK);
	if (!CHECK(st.misses - st0.misses < reads * 32 / 2))
		fprintf(stderr, "    %llu misses\n",
			(unsigned long long)(st.misses - st0.misses));
	/* evicting the chunks prefetched ahead of the stream, unread,
	 * counts them as wasted (reads 3 chunks apart: no stream) */
	for (k = 0; k < 1100; k++)
		CHECK_INT(read_check(c, size,
				     (16 << 20) + (uint64_t)k * 3 * CHUNK,
				     CHUNK, 0, NULL),
			  0);
	cache_stats(c, &st0);
	CHECK(st0.ra_wasted > st.ra_wasted);
	CHECK_INT(st0.readahead, st.readahead);
out:
	cache_free(c);
	fake_free(f);
}

/* A pinned chunk stays; with every slot pinned reads go around. */
static void test_evict_pins(void)
{
	const uint64_t size = 1 << 20;
	struct fake *f = fake_new(size, 3, "\"e\"");
	struct cache *c = start(f, CHUNK, 4 * CHUNK, 1, NULL, 0);
	struct cache_stats st;
	void *pin[4];
	uint64_t k;

	if (!c)
		goto out;
	CHECK_INT(c->nslots, 4);
	WAIT_UNTIL(idle(c));
	CHECK_INT(read_check(c, size, 10 * CHUNK, CHUNK, 0, &pin[0]), 0);
	for (k = 20; k < 60; k++) {
		CHECK_INT(read_check(c, size, k * CHUNK, CHUNK, 0, NULL), 0);
		CHECK_INT(slot_state(c, 10), S_READY);
		cache_stats(c, &st);
		CHECK(st.cached <= 4 * CHUNK);
	}
	/* the evicted are gone, the pinned one is a hit */
	CHECK_INT(slot_state(c, 20), 0);
	WAIT_UNTIL(idle(c));
	fake_reset(f);
	CHECK_INT(read_check(c, size, 10 * CHUNK + 5, 100, 0, NULL), 0);
	CHECK_INT(f->fetches, 0);
	/* all four pinned: a read of another chunk goes around the cache */
	for (k = 1; k < 4; k++)
		CHECK_INT(read_check(c, size, (70 + k) * CHUNK, CHUNK, 0,
				     &pin[k]),
			  0);
	fake_reset(f);
	CHECK_INT(read_check(c, size, 100 * CHUNK - 10, 2 * CHUNK, 0, NULL), 0);
	CHECK_INT(f->fetches, 0);
	CHECK_INT(f->reads, 1);
	CHECK_INT(slot_state(c, 99), 0);
	/* and a failure there is the read's */
	fake_fail(f, 100 * CHUNK, 1, 1, -EIO);
	CHECK_INT(read_check(c, size, 100 * CHUNK, CHUNK, 0, NULL), -EIO);
	for (k = 0; k < 4; k++)
		cache_release(c, pin[k]);
	/* released: the next miss takes a slot again */
	fake_reset(f);
	CHECK_INT(read_check(c, size, 100 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(f->fetches, 1);
	CHECK_INT(f->reads, 0);
out:
	cache_free(c);
	fake_free(f);
}

static int file_has(struct cache *c, uint64_t idx)
{
	int r;

	pthread_mutex_lock(&c->lock);
	r = cache_file_has_locked(c, idx);
	pthread_mutex_unlock(&c->lock);
	return r;
}

/* Whether the map saved in the file at path claims chunk idx. */
static int map_has(const char *path, uint64_t idx)
{
	uint8_t byte = 0;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return -1;
	if (pread(fd, &byte, 1, FILE_HEAD + (off_t)(idx / 8)) != 1)
		byte = 0;
	close(fd);
	return byte >> (idx % 8) & 1;
}

/*
 * The cache file: a chunk is believed after a reopen only once the map
 * was saved; a file of another object (ETag) starts empty; a file in
 * use by another cache is not used.
 */
static void test_file_map(void)
{
	const uint64_t size = 64 * CHUNK + 123;
	struct fake *f = fake_new(size, 5, "\"v1\""),
		    *g = fake_new(size, 5, "\"v2\"");
	char dir[] = "/tmp/s3root-unit-XXXXXX", path[64];
	struct cache *a = NULL, *b = NULL;
	uint8_t byte;
	int fd;

	if (!CHECK(mkdtemp(dir)))
		goto out;
	snprintf(path, sizeof(path), "%s/cache", dir);
	a = start(f, CHUNK, 4 * CHUNK, 1, path, 0);
	if (!a)
		goto out;
	/* the background thread saves the map once at start */
	WAIT_UNTIL(idle(a));
	WAIT_UNTIL(synced(a));
	CHECK_INT(read_check(a, size, 5 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(read_check(a, size, 64 * CHUNK, 123, 0, NULL), 0);
	CHECK(file_has(a, 5));
	CHECK(file_has(a, 64));
	/* written, not yet claimed by the saved map */
	CHECK(!map_has(path, 5));
	cache_sync(a);
	CHECK(map_has(path, 5));
	CHECK(map_has(path, 64));
	/* one server per file (locked): a second goes without it */
	b = start(f, CHUNK, 4 * CHUNK, 1, path, 0);
	if (!b)
		goto out;
	WAIT_UNTIL(idle(b));
	CHECK(!file_has(b, 5));
	CHECK_INT(b->fd, -1);
	cache_free(b);
	cache_free(a);
	a = NULL;
	b = start(f, CHUNK, 4 * CHUNK, 1, path, 0);
	if (!b)
		goto out;
	WAIT_UNTIL(idle(b));
	CHECK(file_has(b, 5));
	CHECK(file_has(b, 64));
	fake_reset(f);
	CHECK_INT(read_check(b, size, 5 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(read_check(b, size, 64 * CHUNK, 4096, 0, NULL), 0);
	CHECK_INT(f->fetches, 0);
	cache_free(b);
	cache_free(a);
	a = b = NULL;
	/* the chunk's bytes at its place in the file */
	fd = open(path, O_RDONLY);
	if (CHECK(fd >= 0)) {
		CHECK_INT(
			pread(fd, &byte, 1, FILE_HEAD + 4096 + 5 * CHUNK + 17),
			1);
		CHECK_INT(byte, pattern(5 * CHUNK + 17));
		close(fd);
	}
	/* another ETag: the map is reset, nothing is believed */
	b = start(g, CHUNK, 4 * CHUNK, 1, path, 0);
	if (!b)
		goto out;
	WAIT_UNTIL(idle(b));
	CHECK(!file_has(b, 5));
	fake_reset(g);
	CHECK_INT(read_check(b, size, 5 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(g->fetches, 1);
	cache_free(b);
	/* and back: the first object's chunks are gone too */
	b = start(f, CHUNK, 4 * CHUNK, 1, path, 0);
	if (b) {
		WAIT_UNTIL(idle(b));
		CHECK(!file_has(b, 5));
	}
out:
	cache_free(b);
	cache_free(a);
	unlink(path);
	rmdir(dir);
	fake_free(f);
	fake_free(g);
}

/*
 * A failed GET: the chunks it delivered are ready, the rest fail for
 * every reader waiting on them, with the source's error; the next read
 * fetches them again.
 */
static void test_failure(void)
{
	static const int errs[] = {-EIO, -ESTALE};
	const uint64_t size = 1 << 20;
	size_t i;

	for (i = 0; i < sizeof(errs) / sizeof(errs[0]); i++) {
		struct fake *f = fake_new(size, 11, "\"e\"");
		struct cache *c = start(f, CHUNK, 64 * CHUNK, 1, NULL, 0);
		struct reader rd[2];

		if (!c) {
			fake_free(f);
			continue;
		}
		WAIT_UNTIL(idle(c));
		fake_fail(f, 50 * CHUNK + 1, 1, 1, errs[i]);
		fake_reset(f);
		CHECK_INT(read_check(c, size, 48 * CHUNK, 4 * CHUNK, 0, NULL),
			  errs[i]);
		CHECK_INT(f->fetches, 1);
		CHECK_INT(slot_state(c, 48), S_READY);
		CHECK_INT(slot_state(c, 49), S_READY);
		CHECK_INT(slot_state(c, 50), S_FAILED);
		CHECK_INT(slot_state(c, 51), S_FAILED);
		/* not remembered: fetched again, and right */
		CHECK_INT(read_check(c, size, 48 * CHUNK, 4 * CHUNK, 0, NULL),
			  0);
		CHECK_INT(f->fetches, 2);
		CHECK_INT(f->log[1].off, 50 * CHUNK);
		CHECK_INT(f->log[1].len, 2 * CHUNK);
		/* two readers waiting on one failing GET both get the error */
		fake_reset(f);
		fake_gate(f, 1);
		reader_start(&rd[0], c, size, 30 * CHUNK, 2 * CHUNK);
		WAIT_UNTIL(fake_count(f, &f->waiting) == 1);
		reader_start(&rd[1], c, size, 31 * CHUNK, CHUNK);
		WAIT_UNTIL(slot_refs(c, 31) == 2);
		fake_fail(f, 30 * CHUNK, 1, 1, errs[i]);
		fake_gate(f, 0);
		pthread_join(rd[0].th, NULL);
		pthread_join(rd[1].th, NULL);
		CHECK_INT(rd[0].r, errs[i]);
		CHECK_INT(rd[1].r, errs[i]);
		CHECK_INT(f->fetches, 1);
		CHECK_INT(read_check(c, size, 30 * CHUNK, 2 * CHUNK, 0, NULL),
			  0);
		CHECK_INT(f->fetches, 2);
		cache_free(c);
		fake_free(f);
	}
}

/*
 * A source that ends a fetch without all its bytes (and no error): the
 * chunks it did not fill fail at once, rather than wait for ever.
 */
static void test_short_fetch(void)
{
	const uint64_t size = 1 << 20;
	struct fake *f = fake_new(size, 19, "\"e\"");
	struct cache *c = start(f, CHUNK, 64 * CHUNK, 1, NULL, 2000);
	struct reader rd;
	int64_t t0;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	pthread_mutex_lock(&f->lock);
	f->short_by = 1;
	pthread_mutex_unlock(&f->lock);
	t0 = now_ms();
	reader_start(&rd, c, size, 20 * CHUNK, 2 * CHUNK);
	pthread_join(rd.th, NULL);
	CHECK_INT(rd.r, -EIO);
	CHECK(now_ms() - t0 < 1000);
	CHECK_INT(slot_state(c, 20), S_READY);
	CHECK_INT(slot_state(c, 21), S_FAILED);
	CHECK_INT(read_check(c, size, 20 * CHUNK, 2 * CHUNK, 0, NULL), 0);
out:
	cache_free(c);
	fake_free(f);
}

/*
 * A prefetched chunk whose fetch failed and that a read then fetched is
 * the read's: not counted as readahead used.
 */
static void test_failed_readahead(void)
{
	const uint64_t size = 1 << 20;
	struct fake *f = fake_new(size, 23, "\"e\"");
	struct cache *c;
	struct cache_stats st;

	fake_fail(f, 0, 1, 1, -EIO); /* the warm start's GET */
	c = start(f, CHUNK, 64 * CHUNK, 1, NULL, 0);
	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	CHECK_INT(slot_state(c, 0), S_FAILED);
	CHECK_INT(read_check(c, size, 0, CHUNK, 0, NULL), 0);
	CHECK_INT(read_check(c, size, 0, CHUNK, 0, NULL), 0);
	cache_stats(c, &st);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.hits, 1);
	CHECK_INT(st.ra_used, 0);
out:
	cache_free(c);
	fake_free(f);
}

/* s3.io_timeout: a read gives up (-EIO); the fetch goes on for later. */
static void test_io_timeout(void)
{
	const uint64_t size = 1 << 20;
	struct fake *f = fake_new(size, 13, "\"e\"");
	struct cache *c = start(f, CHUNK, 64 * CHUNK, 1, NULL, 100);
	struct reader rd;
	int64_t t0, took;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	fake_reset(f);
	fake_gate(f, 1);
	/* in a thread: a read that never gives up fails the check, and
	 * the gate opened below ends it */
	t0 = now_ms();
	reader_start(&rd, c, size, 40 * CHUNK, CHUNK);
	WAIT_UNTIL(reader_done(&rd));
	took = now_ms() - t0;
	if (!reader_done(&rd))
		fake_gate(f, 0);
	pthread_join(rd.th, NULL);
	CHECK_INT(rd.r, -EIO);
	CHECK(took >= 90 && took < 1000);
	/* a request that waited its whole timeout in the queue: at once */
	t0 = now_ms();
	CHECK_INT(read_check(c, size, 40 * CHUNK, CHUNK, 150000, NULL), -EIO);
	CHECK(now_ms() - t0 < 50);
	fake_gate(f, 0);
	WAIT_UNTIL(slot_state(c, 40) == S_READY);
	CHECK_INT(read_check(c, size, 40 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(f->fetches, 1);
out:
	cache_free(c);
	fake_free(f);
}

/* The latency buckets and the formatted figures. */
static void test_stats(void)
{
	static const struct {
		uint64_t us;
		unsigned bucket;
	} lat[] = {
		{0, 0},	 {15, 0},    {16, 1},
		{19, 1}, {20, 2},    {31, 4},
		{32, 5}, {1000, 24}, {~0ull, LAT_BUCKETS - 1},
	};
	const uint64_t size = 100 * CHUNK;
	struct fake *f = fake_new(size, 17, "\"e\"");
	struct cache *c = start(f, CHUNK, 8 * CHUNK, 1, NULL, 0);
	char buf[2048];
	size_t i;

	for (i = 0; i < sizeof(lat) / sizeof(lat[0]); i++)
		if (!CHECK_INT(cache_lat_bucket(lat[i].us), lat[i].bucket))
			fprintf(stderr, "    %llu us\n",
				(unsigned long long)lat[i].us);
	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	CHECK_INT(read_check(c, size, 50 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK(cache_format_stats(c, 0, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "1 misses") != NULL);
	CHECK(cache_format_stats(c, 1, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"cache_budget\": 32768") != NULL);
	CHECK_INT(cache_format_stats(c, 1, buf, 20), -ENOSPC);
out:
	cache_free(c);
	fake_free(f);
}

/* A child as another user (nobody): connects to the abstract socket
 * @s3root/nbdINDEX and reads what it is told after 't'; its exit status
 * is how many bytes (capped), 255 if it could not connect. */
static pid_t as_nobody_ask(int index)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	char buf[256];
	ssize_t n, got = 0;
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	if (setgid(65534) || setuid(65534))
		_exit(254);
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "s3root/nbd%d",
		 index);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 ||
	    connect(fd, (struct sockaddr *)&sa,
		    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				strlen(sa.sun_path + 1))))
		_exit(255);
	/* the server may have shut it already: no SIGPIPE */
	if (send(fd, "t", 1, MSG_NOSIGNAL) != 1)
		_exit(0);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		got += n;
	_exit(got > 200 ? 200 : (int)got);
}

/* A server as nobody on @s3root/nbdINDEX: answers every client with
 * terminal escapes, until killed. */
static pid_t as_nobody_serve(int index)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	pid_t pid = fork();
	int fd, c;

	if (pid)
		return pid;
	if (setgid(65534) || setuid(65534))
		_exit(254);
	snprintf(sa.sun_path + 1, sizeof(sa.sun_path) - 1, "s3root/nbd%d",
		 index);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 ||
	    bind(fd, (struct sockaddr *)&sa,
		 (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			     strlen(sa.sun_path + 1))) ||
	    listen(fd, 8))
		_exit(1);
	for (;;) {
		c = accept(fd, NULL, NULL);
		if (c >= 0 && write(c, "evil\033[2J\n", 9) < 0)
			_exit(1);
		close(c);
	}
}

/* Whether the kernel lists a unix socket named name. */
static int listed(const char *name)
{
	char *text = NULL;
	size_t len;
	int r;

	if (io_read_file("/proc/net/unix", 1 << 20, &text, &len))
		return 0;
	r = strstr(text, name) != NULL;
	free(text);
	return r;
}

/*
 * The figures socket (list -v) trusts root and its own user only: a server
 * does not answer another user, and a client does not believe a socket
 * that another user bound first (SO_PEERCRED); what it shows is cleaned.
 */
static void test_figures_peers(void)
{
	struct fake *f = fake_new(64 * CHUNK, 5, "\"v1\"");
	struct cache *c = NULL;
	char buf[2048] = "", text[] = "a\033[31mb\x7f\n";
	int status = -1, i, r = -1;
	pid_t pid;

	CHECK_INT(attach_figures_clean(text, 0), 0);
	CHECK_STR(text, "a?[31mb?\n");
	snprintf(buf, sizeof(buf), "{\"a\": [1, {\"b\": \"}\"}]}\n");
	CHECK_INT(attach_figures_clean(buf, 1), 0);
	snprintf(buf, sizeof(buf), "{\"a\": 1}}");
	CHECK_INT(attach_figures_clean(buf, 1), -1);
	snprintf(buf, sizeof(buf), "{\"a\": \"\033[2J\"}");
	CHECK_INT(attach_figures_clean(buf, 1), -1);
	snprintf(buf, sizeof(buf), "\"a\"");
	CHECK_INT(attach_figures_clean(buf, 1), -1);
	if (geteuid()) {
		fprintf(stderr,
			"    (not root: the SO_PEERCRED part skipped)\n");
		goto out;
	}
	c = start(f, CHUNK, 4 * CHUNK, 1, NULL, 0);
	if (!c)
		goto out;
	attach_figures_serve(4241, c);
	CHECK_INT(attach_figures_fetch(4241, 0, buf, sizeof(buf)), 0);
	CHECK(strstr(buf, "cache:") != NULL);
	pid = as_nobody_ask(4241);
	CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
	CHECK(WIFEXITED(status));
	CHECK_INT(WEXITSTATUS(status), 0); /* connected, told nothing */
	pid = as_nobody_serve(4242);
	/* until it listens (the abstract name is in /proc/net/unix) */
	for (i = 0; i < 100 && r; i++) {
		usleep(20000);
		r = listed("@s3root/nbd4242") ? 0 : -1;
	}
	CHECK_INT(r, 0);
	CHECK_INT(attach_figures_fetch(4242, 0, buf, sizeof(buf)), -1);
	CHECK_INT(attach_figures_pid(4242), -1);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
out:
	cache_free(c);
	fake_free(f);
}

static const struct unit_test tests[] = {
	{"cache_figures_peers", test_figures_peers},
	{"cache_queue_merge", test_queue_merge},
	{"cache_merge_gets", test_merge_gets},
	{"cache_split_pieces", test_split_pieces},
	{"cache_readahead", test_readahead},
	{"cache_evict_pins", test_evict_pins},
	{"cache_file_map", test_file_map},
	{"cache_failure", test_failure},
	{"cache_short_fetch", test_short_fetch},
	{"cache_failed_readahead", test_failed_readahead},
	{"cache_io_timeout", test_io_timeout},
	{"cache_stats", test_stats},
};

UNIT_SUITE(cache, tests);
