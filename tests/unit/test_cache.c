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
	unsigned delay_ms;	   /* each fetch takes this long more */
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

static void nap_ms(long ms);

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
	if (f->delay_ms) /* set before the cache starts fetching */
		nap_ms(f->delay_ms);
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

static struct cache *start_cfg(struct fake *f, const struct cache_config *cfg)
{
	struct cache_source src = {&fake_ops, f};
	struct cache *c = NULL;
	char err[256];
	int r;

	r = cache_new_source(&c, &src, cfg, err, sizeof(err));
	if (!CHECK_INT(r, 0))
		fprintf(stderr, "    %s\n", err);
	return c;
}

static struct cache *start(struct fake *f, uint64_t chunk, uint64_t budget,
			   unsigned fetchers, const char *file,
			   uint64_t io_timeout_ms)
{
	struct cache_config cfg = {
		.chunk = chunk,
		.budget = budget,
		.fetchers = fetchers,
		.file = file,
		.io_timeout_ms = io_timeout_ms,
	};

	return start_cfg(f, &cfg);
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
	r = !cache_queued_locked(c) && !c->get_inflight;
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
		/* demand, then a replay's, then readahead */
		{3,
		 {{10, 1, Q_AHEAD}, {20, 1, Q_REPLAY}, {30, 1, Q_DEMAND}},
		 3,
		 {{30, 1}, {20, 1}, {10, 1}}},
		/* a replay's run joins a demand run next to it */
		{2, {{6, 1, Q_REPLAY}, {5, 1, Q_DEMAND}}, 1, {{5, 2}}},
		/* a replay's runs stay apart: its GETs are short */
		{2, {{6, 1, Q_REPLAY}, {7, 1, Q_REPLAY}}, 2, {{6, 1}, {7, 1}}},
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
		for (k = 0; k < NQUEUES; k++)
			c.qtail[k] = &c.queue[k];
		for (k = 0; k < cases[i].nq; k++) {
			struct slot *s = &slots[cases[i].q[k].idx];

			s->idx = cases[i].q[k].idx;
			cache_enqueue_locked(&c, s, cases[i].q[k].run,
					     cases[i].q[k].ra);
		}
		for (k = 0; k < cases[i].nout; k++) {
			struct slot *s;

			if (!CHECK(cache_queued_locked(&c)))
				break;
			s = cache_dequeue_locked(&c);
			if (!CHECK_INT(s->idx, cases[i].out[k].idx) ||
			    !CHECK_INT(s->run, cases[i].out[k].run))
				fprintf(stderr, "    case %zu, GET %u\n", i, k);
		}
		CHECK(!cache_queued_locked(&c));
		for (k = 0; k < NQUEUES; k++)
			CHECK(c.qtail[k] == &c.queue[k]);
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

/*
 * A young stream's window stays within RA_SHORT_BYTES (a boot reads short
 * files); once it has read RA_LONG_BYTES it may grow to what the budget
 * allows.
 */
static void test_readahead_young(void)
{
	const uint64_t size = 32 << 20, rd = 32 * CHUNK;
	struct fake *f = fake_new(size, 8, "\"e\"");
	struct cache *c = start(f, CHUNK, 16 << 20, 2, NULL, 0);
	uint64_t w = 0, k;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	f->delay_ms = 2; /* every read waits: the window grows */
	for (k = 0; (k + 1) * rd < RA_LONG_BYTES; k++) {
		CHECK_INT(read_check(c, size, (1 << 20) + k * rd, (uint32_t)rd,
				     0, NULL),
			  0);
		if (widest_window(c) > w)
			w = widest_window(c);
	}
	if (!CHECK(w <= RA_SHORT_BYTES) || !CHECK(w >= RA_SHORT_BYTES / 2))
		fprintf(stderr, "    window %llu\n", (unsigned long long)w);
	for (; k < 3 * RA_LONG_BYTES / rd; k++)
		CHECK_INT(read_check(c, size, (1 << 20) + k * rd, (uint32_t)rd,
				     0, NULL),
			  0);
	CHECK(widest_window(c) > RA_SHORT_BYTES);
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
	attach_figures_serve(4241, c, NULL);
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

/* ---- the replay of a trace ---- */

#define RP_SIZE (2048 * CHUNK) /* the replay tests' object */

/* A cache over f for replays: budget in chunks, ahead in chunks, idle. */
static struct cache *start_replay(struct fake *f, uint64_t budget,
				  unsigned fetchers, uint64_t ahead,
				  uint64_t idle_ms)
{
	struct cache_config cfg = {
		.chunk = CHUNK,
		.budget = budget * CHUNK,
		.fetchers = fetchers,
		.replay_ahead = ahead * CHUNK,
		.replay_idle_ms = idle_ms,
	};
	struct cache *c = start_cfg(f, &cfg);

	if (c) {
		WAIT_UNTIL(idle(c)); /* the warm start */
		fake_reset(f);
	}
	return c;
}

/* A trace of whole chunks idx[0..n), in that order. */
static int replay_chunks(struct cache *c, const uint64_t *idx, size_t n)
{
	struct cache_replay_range r[64];
	size_t i;

	for (i = 0; i < n; i++)
		r[i] = (struct cache_replay_range){idx[i] * CHUNK, CHUNK};
	return cache_replay_start(c, r, n);
}

static struct cache_stats stats_of(struct cache *c)
{
	struct cache_stats st;

	cache_stats(c, &st);
	return st;
}

static int replay_ended(struct cache *c)
{
	return stats_of(c).replay_ended;
}

static size_t in_use(struct cache *c)
{
	size_t n;

	pthread_mutex_lock(&c->lock);
	n = c->in_use;
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Whether the fake's log holds a fetch of exactly chunk idx. */
static unsigned fetched_chunk(struct fake *f, uint64_t idx)
{
	unsigned i, n = 0;

	pthread_mutex_lock(&f->lock);
	for (i = 0; i < f->fetches && i < LOG_MAX; i++)
		n += f->log[i].off <= idx * CHUNK &&
		     f->log[i].off + f->log[i].len > idx * CHUNK;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* The plan: chunk-aligned runs, each chunk once, in the trace's order. */
static void test_replay_plan(void)
{
	/* chunks of 8 KiB: runs of at most REPLAY_RUN_BYTES / 8 KiB = 16 */
	const uint64_t ck = 2 * CHUNK, size = 1000 * ck + 100;
	static const struct cache_replay_range r[] = {
		{50 * ck + 10, 100},  /* chunk 50 */
		{10 * ck, 2 * ck},    /* 10, 11 */
		{11 * ck + 5, ck},    /* 11 again, 12: joins 10-11 */
		{50 * ck, 1},	      /* 50 again: nothing */
		{200 * ck - 1, 2},    /* 199, 200 */
		{300 * ck, 100 * ck}, /* 300-399: 6 x 16 + 4 */
		{1000 * ck, 4096},    /* the object's tail, the device's */
		{9 * ck, 4 * ck},     /* 9 only */
		{0, 0},		      /* nothing */
	};
	static const struct replay_run want[] = {
		{50, 0, 1},
		{10, ck, 3},
		{199, 4 * ck, 2},
		{300, 6 * ck, 16}, /* REPLAY_RUN_BYTES / 8 KiB */
		{316, 22 * ck, 16},
		{332, 38 * ck, 16},
		{348, 54 * ck, 16},
		{364, 70 * ck, 16},
		{380, 86 * ck, 16},
		{396, 102 * ck, 4},
		{1000, 106 * ck, 1},
		{9, 106 * ck + 100, 1},
	};
	struct fake *f = fake_new(size, 21, "\"e\"");
	struct cache_config cfg = {
		.chunk = ck, .budget = 64 * ck, .fetchers = 1};
	struct cache *c = start_cfg(f, &cfg);
	struct cache_replay_range bad;
	size_t i;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c));
	/* ranges outside the object (rounded up to NBD blocks): -EINVAL */
	bad = (struct cache_replay_range){1000 * ck + 4096, 1};
	CHECK_INT(cache_replay_start(c, &bad, 1), -EINVAL);
	bad = (struct cache_replay_range){1000 * ck, 4097};
	CHECK_INT(cache_replay_start(c, &bad, 1), -EINVAL);
	bad = (struct cache_replay_range){UINT64_MAX - 10, 100};
	CHECK_INT(cache_replay_start(c, &bad, 1), -EINVAL);
	CHECK_INT(stats_of(c).replay_ranges, 0);
	fake_gate(f, 1); /* the plan stays as it is built */
	CHECK_INT(cache_replay_start(c, r, sizeof(r) / sizeof(r[0])), 0);
	CHECK_INT(cache_replay_start(c, r, 1), -EBUSY);
	pthread_mutex_lock(&c->lock);
	CHECK_INT(c->rp.nruns, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < c->rp.nruns && i < sizeof(want) / sizeof(want[0]); i++)
		if (!CHECK_INT(c->rp.runs[i].first, want[i].first) ||
		    !CHECK_INT(c->rp.runs[i].n, want[i].n) ||
		    !CHECK_INT(c->rp.runs[i].pos, want[i].pos))
			fprintf(stderr, "    run %zu\n", i);
	CHECK_INT(c->rp.bytes, 106 * ck + 100 + ck);
	pthread_mutex_unlock(&c->lock);
	fake_gate(f, 0);
out:
	cache_free(c);
	fake_free(f);
}

/* The runs are fetched in the trace's order. */
static void test_replay_order(void)
{
	static const uint64_t idx[] = {500, 100, 300, 700, 200, 901, 150};
	struct fake *f = fake_new(RP_SIZE, 22, "\"e\"");
	struct cache *c = start_replay(f, 64, 1, 1024, 0);
	size_t i;

	if (!c)
		goto out;
	/* a chunk cached already is not fetched again */
	CHECK_INT(read_check(c, RP_SIZE, idx[2] * CHUNK, CHUNK, 0, NULL), 0);
	fake_reset(f);
	CHECK_INT(replay_chunks(c, idx, 7), 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(f->fetches, 6);
	for (i = 0; i < 6; i++)
		if (!CHECK_INT(f->log[i].off, idx[i + (i >= 2)] * CHUNK) ||
		    !CHECK_INT(f->log[i].len, CHUNK))
			fprintf(stderr, "    fetch %zu\n", i);
	CHECK_INT(stats_of(c).replay_fetched, 6);
out:
	cache_free(c);
	fake_free(f);
}

/* A client's read goes before replay runs queued earlier. */
static void test_replay_priority(void)
{
	static const uint64_t idx[] = {100, 200, 300, 400};
	struct fake *f = fake_new(RP_SIZE, 23, "\"e\"");
	struct cache *c = start_replay(f, 64, 1, 1024, 0);
	struct reader rd;

	if (!c)
		goto out;
	fake_gate(f, 1);
	CHECK_INT(replay_chunks(c, idx, 4), 0);
	/* 100 at the gate, 200 queued (two runs out with one fetcher) */
	WAIT_UNTIL(fake_count(f, &f->waiting) == 1);
	reader_start(&rd, c, RP_SIZE, 900 * CHUNK, CHUNK);
	WAIT_UNTIL(misses(c) == 1);
	fake_gate(f, 0);
	pthread_join(rd.th, NULL);
	CHECK_INT(rd.r, 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(f->fetches, 5);
	CHECK_INT(f->log[0].off, 100 * CHUNK);
	CHECK_INT(f->log[1].off, 900 * CHUNK);
	CHECK_INT(f->log[2].off, 200 * CHUNK);
	CHECK_INT(f->log[3].off, 300 * CHUNK);
	CHECK_INT(f->log[4].off, 400 * CHUNK);
out:
	cache_free(c);
	fake_free(f);
}

/*
 * A replay of n runs with fetchers connections (up to fetchers_max) keeps
 * out of them at once; a client's read still finds one free at once.
 */
static void replay_spread(unsigned fetchers, unsigned fetchers_max, unsigned n,
			  unsigned out, unsigned seed)
{
	struct fake *f = fake_new(RP_SIZE, seed, "\"e\"");
	struct cache_config cfg = {
		.chunk = CHUNK,
		.budget = 64 * CHUNK,
		.fetchers = fetchers,
		.fetchers_max = fetchers_max,
		.replay_ahead = 1024 * CHUNK,
	};
	struct cache *c = start_cfg(f, &cfg);
	struct reader rd;
	uint64_t idx[64];
	unsigned i;

	if (!c)
		goto out;
	WAIT_UNTIL(idle(c)); /* the warm start */
	fake_reset(f);
	for (i = 0; i < n; i++)
		idx[i] = 100 + 10 * i;
	fake_gate(f, 1);
	CHECK_INT(replay_chunks(c, idx, n), 0);
	WAIT_UNTIL(fake_count(f, &f->waiting) == out);
	nap_ms(50);
	CHECK_INT(fake_count(f, &f->waiting), out);
	reader_start(&rd, c, RP_SIZE, 900 * CHUNK, CHUNK);
	WAIT_UNTIL(fake_count(f, &f->waiting) == out + 1); /* at once */
	fake_gate(f, 0);
	pthread_join(rd.th, NULL);
	CHECK_INT(rd.r, 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(f->fetches, n + 1);
out:
	cache_free(c);
	fake_free(f);
}

/* A replay uses 3/4 of the connections: a client's read finds one free. */
static void test_replay_spread(void)
{
	replay_spread(4, 0, 8, 3, 32);
}

/*
 * A replay grows the connections to 3/4 of s3.connections_max, so that
 * its bytes arrive as fast as a boot reads them whatever the round trip.
 */
static void test_replay_grows(void)
{
	replay_spread(4, 16, 16, 12, 34);
}

/* While a client's read waits, the replay keeps a quarter of them. */
static void test_replay_yield(void)
{
	static const uint64_t idx[] = {100, 110, 120, 130, 140, 150, 160, 170};
	struct fake *f = fake_new(RP_SIZE, 33, "\"e\"");
	struct cache *c = start_replay(f, 64, 4, 1024, 0);
	struct reader rd;

	if (!c)
		goto out;
	fake_gate(f, 1);
	reader_start(&rd, c, RP_SIZE, 900 * CHUNK, CHUNK);
	WAIT_UNTIL(fake_count(f, &f->waiting) == 1);
	CHECK_INT(replay_chunks(c, idx, 8), 0);
	WAIT_UNTIL(fake_count(f, &f->waiting) == 2);
	nap_ms(50);
	CHECK_INT(fake_count(f, &f->waiting), 2); /* 1 of 4, not 3 */
	fake_gate(f, 0);
	pthread_join(rd.th, NULL);
	CHECK_INT(rd.r, 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(f->fetches, 9);
out:
	cache_free(c);
	fake_free(f);
}

/*
 * A queued replay chunk a client asks for moves up to the demand queue,
 * fetched once. (The replay is started first: once a client's read waits,
 * it queues no more than max_busy runs.)
 */
static void test_replay_promote(void)
{
	static const uint64_t idx[] = {100, 200, 300};
	struct fake *f = fake_new(RP_SIZE, 24, "\"e\"");
	struct cache *c = start_replay(f, 64, 1, 1024, 0);
	struct reader rd[2];
	struct cache_stats st;
	int moved;

	if (!c)
		goto out;
	fake_gate(f, 1);
	/* the one fetcher busy with 100, 200 queued, then a client's read */
	CHECK_INT(replay_chunks(c, idx, 3), 0);
	WAIT_UNTIL(fake_count(f, &f->waiting) == 1);
	reader_start(&rd[0], c, RP_SIZE, 900 * CHUNK, CHUNK);
	WAIT_UNTIL(stats_of(c).misses >= 1);
	reader_start(&rd[1], c, RP_SIZE, 200 * CHUNK, CHUNK);
	WAIT_UNTIL(stats_of(c).hits >= 1);
	pthread_mutex_lock(&c->lock);
	moved = c->queue[Q_DEMAND] && c->queue[Q_DEMAND]->qnext &&
		c->queue[Q_DEMAND]->qnext->idx == 200 && !c->queue[Q_REPLAY];
	pthread_mutex_unlock(&c->lock);
	CHECK(moved);
	fake_gate(f, 0);
	pthread_join(rd[0].th, NULL);
	pthread_join(rd[1].th, NULL);
	CHECK_INT(rd[0].r, 0);
	CHECK_INT(rd[1].r, 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(f->fetches, 4);
	CHECK_INT(f->log[0].off, 100 * CHUNK);
	CHECK_INT(f->log[1].off, 900 * CHUNK);
	CHECK_INT(f->log[2].off, 200 * CHUNK);
	CHECK_INT(f->log[3].off, 300 * CHUNK);
	CHECK_INT(fetched_chunk(f, 200), 1);
	st = stats_of(c);
	CHECK_INT(st.misses, 1);
	CHECK_INT(st.replay_used, 1);
	CHECK_INT(st.replay_fetched, 3);
out:
	cache_free(c);
	fake_free(f);
}

/* The replay runs at most s3.replay_ahead past the clients' progress. */
static void test_replay_lead(void)
{
	uint64_t idx[40];
	struct fake *f = fake_new(RP_SIZE, 25, "\"e\"");
	struct cache *c = start_replay(f, 64, 4, 8, 0);
	size_t i;

	if (!c)
		goto out;
	for (i = 0; i < 40; i++)
		idx[i] = 1000 - 2 * i; /* apart, not one stream */
	CHECK_INT(replay_chunks(c, idx, 40), 0);
	WAIT_UNTIL(stats_of(c).replay_fetched == 8);
	nap_ms(50);
	WAIT_UNTIL(idle(c));
	CHECK_INT(f->fetches, 8);
	for (i = 0; i < 9; i++)
		CHECK_INT(fetched_chunk(f, idx[i]), i < 8);
	/* a client at the trace's fourth chunk: up to the twelfth */
	CHECK_INT(read_check(c, RP_SIZE, idx[3] * CHUNK, CHUNK, 0, NULL), 0);
	WAIT_UNTIL(stats_of(c).replay_fetched == 12);
	nap_ms(50);
	WAIT_UNTIL(idle(c));
	CHECK_INT(f->fetches, 12);
	CHECK_INT(fetched_chunk(f, idx[11]), 1);
	CHECK_INT(fetched_chunk(f, idx[12]), 0);
	CHECK_INT(stats_of(c).replay_done, 0);
out:
	cache_free(c);
	fake_free(f);
}

/* Replayed chunks stay until read, past a small s3.cache, then go. */
static void test_replay_kept(void)
{
	uint64_t idx[64];
	struct fake *f = fake_new(RP_SIZE, 26, "\"e\"");
	struct cache *c = start_replay(f, 4, 2, 1024, 0);
	struct cache_stats st;
	size_t i;

	if (!c)
		goto out;
	for (i = 0; i < 64; i++)
		idx[i] = 100 + 3 * ((i * 37) % 64);
	CHECK_INT(replay_chunks(c, idx, 64), 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(f->fetches, 64);
	CHECK(stats_of(c).cached >= 64 * CHUNK); /* past the 4 chunks */
	/* reads elsewhere cannot evict them */
	for (i = 0; i < 16; i++)
		CHECK_INT(read_check(c, RP_SIZE, (1500 + i * 2) * CHUNK, CHUNK,
				     0, NULL),
			  0);
	fake_reset(f);
	for (i = 0; i < 64; i++)
		CHECK_INT(
			read_check(c, RP_SIZE, idx[i] * CHUNK, CHUNK, 0, NULL),
			0);
	CHECK_INT(f->fetches, 0);
	st = stats_of(c);
	CHECK_INT(st.replay_used, 64);
	CHECK_INT(st.replay_wasted, 0);
	CHECK(st.replay_ended); /* all used */
	CHECK(in_use(c) <= 4);
	CHECK(st.cached <= 4 * CHUNK);
out:
	cache_free(c);
	fake_free(f);
}

/* Chunks unread when the replay goes idle are wasted, and go. */
static void test_replay_wasted(void)
{
	static const uint64_t idx[] = {100, 110, 120, 130, 140,
				       150, 160, 170, 180, 190};
	struct fake *f = fake_new(RP_SIZE, 27, "\"e\"");
	struct cache *c = start_replay(f, 4, 2, 1024, 1000);
	struct cache_stats st;
	size_t i;

	if (!c)
		goto out;
	CHECK_INT(replay_chunks(c, idx, 10), 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	for (i = 0; i < 6; i++)
		CHECK_INT(
			read_check(c, RP_SIZE, idx[i] * CHUNK, CHUNK, 0, NULL),
			0);
	st = stats_of(c);
	CHECK_INT(st.replay_ended, 0); /* not yet idle */
	CHECK_INT(st.replay_wasted, 0);
	WAIT_UNTIL(replay_ended(c));
	st = stats_of(c);
	CHECK_INT(st.replay_used, 6);
	CHECK_INT(st.replay_wasted, 4);
	CHECK(in_use(c) <= 4);
	CHECK(st.cached <= 4 * CHUNK);
	/* a read after the end is no use: counted nowhere */
	CHECK_INT(read_check(c, RP_SIZE, idx[9] * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(stats_of(c).replay_used, 6);
	/* another replay may start now */
	CHECK_INT(replay_chunks(c, idx, 2), 0);
out:
	cache_free(c);
	fake_free(f);
}

/* A replay held back by its lead ends when the clients go quiet. */
static void test_replay_stalled(void)
{
	static const uint64_t idx[] = {100, 110, 120, 130, 140,
				       150, 160, 170, 180, 190};
	struct fake *f = fake_new(RP_SIZE, 31, "\"e\"");
	struct cache *c = start_replay(f, 4, 2, 4, 300);
	struct cache_stats st;

	if (!c)
		goto out;
	CHECK_INT(replay_chunks(c, idx, 10), 0);
	WAIT_UNTIL(replay_ended(c));
	st = stats_of(c);
	CHECK_INT(st.replay_fetched, 4);
	CHECK_INT(st.replay_wasted, 4);
	CHECK_INT(st.replay_done, 0);
	CHECK(in_use(c) <= 4);
	CHECK_INT(f->fetches, 4);
out:
	cache_free(c);
	fake_free(f);
}

/* A failed replay fetch is no one's error: the client's read fetches. */
static void test_replay_failure(void)
{
	static const uint64_t idx[] = {100, 200};
	struct fake *f = fake_new(RP_SIZE, 28, "\"e\"");
	struct cache *c = start_replay(f, 64, 1, 1024, 0);
	struct cache_stats st;

	if (!c)
		goto out;
	fake_fail(f, 200 * CHUNK, CHUNK, 1, -EIO);
	CHECK_INT(replay_chunks(c, idx, 2), 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(read_check(c, RP_SIZE, 200 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(read_check(c, RP_SIZE, 100 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK_INT(f->fetches, 3);
	st = stats_of(c);
	CHECK_INT(st.replay_fetched, 1);
	CHECK_INT(st.replay_used, 1);
	CHECK(st.replay_ended);
out:
	cache_free(c);
	fake_free(f);
}

struct hook_log {
	pthread_mutex_t lock;
	unsigned n;
	struct range r[16];
};

static void hook_fn(void *arg, uint64_t off, uint32_t len)
{
	struct hook_log *h = arg;

	pthread_mutex_lock(&h->lock);
	if (h->n < 16)
		h->r[h->n] = (struct range){off, len};
	h->n++;
	pthread_mutex_unlock(&h->lock);
}

/* The read hook sees every client read, exactly, in order. */
static void test_read_hook(void)
{
	static const struct range want[] = {
		{5, 100},
		{3 * CHUNK + 7, 5000},
		{RP_SIZE - 10, 4096 - 10 + 10}, /* into the device's tail */
		{0, 1},
		{3 * CHUNK + 7, 5000},
	};
	struct hook_log h = {PTHREAD_MUTEX_INITIALIZER, 0, {{0, 0}}};
	const uint64_t size = RP_SIZE - 10;
	struct fake *f = fake_new(size, 29, "\"e\"");
	struct cache *c = start_replay(f, 64, 2, 1024, 0);
	size_t i;

	if (!c)
		goto out;
	CHECK_INT(read_check(c, size, 9, 9, 0, NULL), 0); /* no hook yet */
	cache_set_read_hook(c, hook_fn, &h);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		CHECK_INT(read_check(c, size, want[i].off,
				     (uint32_t)want[i].len, 0, NULL),
			  0);
	cache_set_read_hook(c, NULL, NULL);
	CHECK_INT(read_check(c, size, 9, 9, 0, NULL), 0);
	CHECK_INT(h.n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < h.n && i < sizeof(want) / sizeof(want[0]); i++)
		if (!CHECK_INT(h.r[i].off, want[i].off) ||
		    !CHECK_INT(h.r[i].len, want[i].len))
			fprintf(stderr, "    read %zu\n", i);
	/* with no RAM cache: the hook still, but no replay */
	cache_free(c);
	c = start(f, CHUNK, 0, 1, NULL, 0);
	if (!c)
		goto out;
	h.n = 0;
	cache_set_read_hook(c, hook_fn, &h);
	CHECK_INT(read_check(c, size, 7, 70, 0, NULL), 0);
	CHECK_INT(h.n, 1);
	CHECK_INT(h.r[0].off, 7);
	CHECK_INT(h.r[0].len, 70);
	CHECK_INT(
		cache_replay_start(c, (struct cache_replay_range[]){{0, 1}}, 1),
		-EOPNOTSUPP);
out:
	cache_free(c);
	fake_free(f);
}

/* The replay's figures, as text and JSON. */
static void test_replay_stats(void)
{
	static const uint64_t idx[] = {100, 101, 300};
	struct fake *f = fake_new(RP_SIZE, 30, "\"e\"");
	struct cache *c = start_replay(f, 64, 1, 1024, 0);
	char buf[4096];

	if (!c)
		goto out;
	CHECK(cache_format_stats(c, 0, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "replay") == NULL); /* none yet */
	CHECK_INT(replay_chunks(c, idx, 3), 0);
	WAIT_UNTIL(stats_of(c).replay_done);
	CHECK_INT(read_check(c, RP_SIZE, 300 * CHUNK, CHUNK, 0, NULL), 0);
	CHECK(cache_format_stats(c, 0, buf, sizeof(buf)) > 0);
	if (!CHECK(strstr(buf, "replay: 3 ranges in 2 runs, 12288 bytes; "
			       "3 chunks fetched, 1 used, 0 wasted, 0 runs "
			       "in flight; running\n") != NULL))
		fprintf(stderr, "%s", buf);
	CHECK(strstr(buf, "replay: every run fetched in ") != NULL);
	CHECK(cache_format_stats(c, 1, buf, sizeof(buf)) > 0);
	CHECK(strstr(buf, "\"replay_ranges\": 3, \"replay_runs\": 2, "
			  "\"replay_bytes\": 12288, \"replay_fetched\": 3, "
			  "\"replay_used\": 1, \"replay_wasted\": 0, "
			  "\"replay_in_flight\": 0, \"replay_done\": true, "
			  "\"replay_ended\": false, \"replay_ms\": ") != NULL);
out:
	cache_free(c);
	fake_free(f);
}

/* How many fetchers to start: the pure rule. */
static void test_fetchers_wanted(void)
{
	static const struct {
		unsigned threads, busy, queued, max, want;
	} t[] = {
		{16, 0, 1, 64, 0},  /* idle fetchers take it */
		{16, 15, 1, 64, 0}, /* one is free */
		{16, 16, 1, 64, 1}, /* all busy: one more */
		{16, 16, 10, 64, 10}, {16, 16, 100, 64, 48}, /* up to max */
		{64, 64, 5, 64, 0},			     /* at max */
		{16, 10, 10, 64, 4},  {4, 0, 0, 16, 0},
		{16, 16, 8, 8, 0}, /* max under s3.connections: none */
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (!CHECK_INT(cache_fetchers_wanted(t[i].threads, t[i].busy,
						     t[i].queued, t[i].max),
			       t[i].want))
			fprintf(stderr, "    case %zu\n", i);
}

static unsigned fetchers(struct cache *c)
{
	struct cache_stats st;

	cache_stats(c, &st);
	return st.fetchers;
}

/*
 * The fetchers grow while demand runs wait for one, up to
 * fetchers_max, and the reads all complete with the right bytes.
 */
static void test_fetchers_grow(void)
{
	const uint64_t size = 400 * CHUNK;
	struct fake *f = fake_new(size, 23, "\"g\"");
	struct cache_config cfg = {.chunk = CHUNK,
				   .budget = 64 * CHUNK,
				   .fetchers = 2,
				   .fetchers_max = 6};
	struct cache_source src = {&fake_ops, f};
	struct cache *c = NULL;
	struct reader rd[10];
	char err[256];
	unsigned i;

	if (!CHECK_INT(cache_new_source(&c, &src, &cfg, err, sizeof(err)), 0))
		goto out;
	WAIT_UNTIL(idle(c));
	CHECK_INT(fetchers(c), 2);
	fake_gate(f, 1);
	/* chunks far apart: ten runs, never merged into one GET */
	for (i = 0; i < 10; i++)
		reader_start(&rd[i], c, size, (100 + 20 * i) * CHUNK, CHUNK);
	WAIT_UNTIL(fake_count(f, &f->waiting) == 6);
	nap_ms(20);
	CHECK_INT(fake_count(f, &f->waiting), 6); /* no more than max */
	CHECK_INT(fetchers(c), 6);
	fake_gate(f, 0);
	for (i = 0; i < 10; i++) {
		pthread_join(rd[i].th, NULL);
		CHECK_INT(rd[i].r, 0);
	}
	CHECK_INT(fetchers(c), 6); /* they stay (connections shrink) */
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
	{"cache_readahead_young", test_readahead_young},
	{"cache_evict_pins", test_evict_pins},
	{"cache_file_map", test_file_map},
	{"cache_failure", test_failure},
	{"cache_short_fetch", test_short_fetch},
	{"cache_failed_readahead", test_failed_readahead},
	{"cache_io_timeout", test_io_timeout},
	{"cache_stats", test_stats},
	{"cache_fetchers_wanted", test_fetchers_wanted},
	{"cache_fetchers_grow", test_fetchers_grow},
	{"cache_replay_plan", test_replay_plan},
	{"cache_replay_order", test_replay_order},
	{"cache_replay_priority", test_replay_priority},
	{"cache_replay_spread", test_replay_spread},
	{"cache_replay_yield", test_replay_yield},
	{"cache_replay_grows", test_replay_grows},
	{"cache_replay_promote", test_replay_promote},
	{"cache_replay_lead", test_replay_lead},
	{"cache_replay_kept", test_replay_kept},
	{"cache_replay_wasted", test_replay_wasted},
	{"cache_replay_stalled", test_replay_stalled},
	{"cache_replay_failure", test_replay_failure},
	{"cache_read_hook", test_read_hook},
	{"cache_replay_stats", test_replay_stats},
};

UNIT_SUITE(cache, tests);
