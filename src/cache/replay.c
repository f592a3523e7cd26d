/* SPDX-License-Identifier: MIT */
/*
 * replay.c - the replay of a trace (cache_replay_start): the plan (the
 * trace's ranges as chunk-aligned runs, each chunk once, in the trace's
 * order, in runs of at most REPLAY_RUN_BYTES), and its scheduler: runs
 * claimed and queued (Q_REPLAY, after the clients' reads, before
 * readahead) while fewer than max_out are out (max_busy while a client's
 * read waits for a fetch: the replay must not slow the reads it is for) and
 * while they start less than `ahead` bytes of the plan past the furthest
 * point a client has read (progress). Replayed chunks are kept off the LRU
 * (slot->rp) until a client reads them or the replay ends; slots beyond
 * the budget are added for them, and given back (cache_shrink_locked) once
 * they are read or the replay ends. Everything but the plan's building runs
 * under c->lock.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nbd/nbd.h"
#include "src/cache/internal.h"

/* ---- the plan ---- */

/* Chunks [a, b) of the object, first read by range ord of the trace. */
struct span {
	uint64_t a, b;
	size_t ord;
};

static int span_by_start(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	return p->a < q->a ? -1 : p->a > q->a;
}

static int span_by_order(const void *x, const void *y)
{
	const struct span *p = x, *q = y;

	if (p->ord != q->ord)
		return p->ord < q->ord ? -1 : 1;
	return p->a < q->a ? -1 : p->a > q->a;
}

static int u64_cmp(const void *x, const void *y)
{
	uint64_t p = *(const uint64_t *)x, q = *(const uint64_t *)y;

	return p < q ? -1 : p > q;
}

static int run_by_first(const void *x, const void *y)
{
	const struct replay_run *p = x, *q = y;

	return p->first < q->first ? -1 : p->first > q->first;
}

/* A min-heap of spans (indexes into sp) by ord. */
static void heap_push(size_t *h, size_t *n, const struct span *sp, size_t v)
{
	size_t i = (*n)++;

	while (i && sp[h[(i - 1) / 2]].ord > sp[v].ord) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = v;
}

static void heap_pop(size_t *h, size_t *n, const struct span *sp)
{
	size_t i = 0, k, v = h[--*n];

	while ((k = 2 * i + 1) < *n) {
		if (k + 1 < *n && sp[h[k + 1]].ord < sp[h[k]].ord)
			k++;
		if (sp[h[k]].ord >= sp[v].ord)
			break;
		h[i] = h[k];
		i = k;
	}
	if (*n)
		h[i] = v;
}

/*
 * The ranges' chunk spans, checked against the object's NBD-rounded size
 * and clipped to the object. Returns their number or -EINVAL.
 */
static long plan_spans(const struct cache *c,
		       const struct cache_replay_range *r, size_t n,
		       struct span *sp)
{
	uint64_t dev = (c->size + NBD_BLOCK - 1) / NBD_BLOCK * NBD_BLOCK, end;
	size_t i, m = 0;

	for (i = 0; i < n; i++) {
		if (r[i].off > dev || r[i].len > dev - r[i].off)
			return -EINVAL;
		end = min_u64(r[i].off + r[i].len, c->size);
		if (r[i].off >= end)
			continue; /* empty, or all past the object's end */
		sp[m++] = (struct span){r[i].off / c->chunk,
					(end - 1) / c->chunk + 1, i};
	}
	return (long)m;
}

/*
 * Each chunk to the first range that reads it: a sweep over the span
 * ends, with the spans that cover the point in a heap by order. Leaves
 * the pieces in out (at most 2 m), in the trace's order; returns their
 * number, or -ENOMEM.
 */
static long plan_pieces(struct span *sp, size_t m, struct span *out)
{
	uint64_t *pt = malloc(2 * m * sizeof(*pt) + 1);
	size_t *heap = malloc(m * sizeof(*heap) + 1);
	size_t np = 0, nh = 0, j = 0, k, no = 0;
	long r = -ENOMEM;

	if (!pt || !heap)
		goto out;
	qsort(sp, m, sizeof(*sp), span_by_start);
	for (k = 0; k < m; k++) {
		pt[np++] = sp[k].a;
		pt[np++] = sp[k].b;
	}
	qsort(pt, np, sizeof(*pt), u64_cmp);
	for (k = 0; k + 1 < np; k++) {
		if (pt[k] == pt[k + 1])
			continue;
		while (j < m && sp[j].a <= pt[k])
			heap_push(heap, &nh, sp, j++);
		while (nh && sp[heap[0]].b <= pt[k])
			heap_pop(heap, &nh, sp);
		if (!nh)
			continue;
		if (no && out[no - 1].ord == sp[heap[0]].ord &&
		    out[no - 1].b == pt[k])
			out[no - 1].b = pt[k + 1];
		else
			out[no++] = (struct span){pt[k], pt[k + 1],
						  sp[heap[0]].ord};
	}
	qsort(out, no, sizeof(*out), span_by_order);
	r = (long)no;
out:
	free(pt);
	free(heap);
	return r;
}

/* A replay run's chunks at most: short GETs leave room for the clients'. */
static uint64_t replay_max_run(const struct cache *c)
{
	uint64_t n = REPLAY_RUN_BYTES / c->chunk;

	return n < 1 ? 1 : n > c->max_run ? c->max_run : n;
}

/* The pieces as runs of at most replay_max_run, adjacent ones joined. */
static size_t plan_runs(const struct cache *c, const struct span *pc, size_t np,
			struct replay_run *runs, uint64_t *bytes)
{
	struct replay_run *last = NULL;
	uint64_t max_run = replay_max_run(c), x, add;
	size_t i, nr = 0;

	*bytes = 0;
	for (i = 0; i < np; i++) {
		for (x = pc[i].a; x < pc[i].b; x += add) {
			if (!last || last->first + last->n != x ||
			    last->n >= max_run) {
				last = &runs[nr++];
				*last = (struct replay_run){x, *bytes, 0};
			}
			add = min_u64(pc[i].b - x, max_run - last->n);
			last->n += (uint32_t)add;
			*bytes += min_u64((x + add) * c->chunk, c->size) -
				  x * c->chunk;
		}
	}
	return nr;
}

/*
 * The plan of ranges r: rp->runs, rp->sorted, rp->nruns, rp->bytes.
 * Returns 0, -EINVAL or -ENOMEM.
 */
static int plan_build(const struct cache *c, const struct cache_replay_range *r,
		      size_t n, struct replay *rp)
{
	struct span *sp = malloc(n * sizeof(*sp) + 1),
		    *pc = malloc(2 * n * sizeof(*pc) + 1);
	uint64_t chunks = 0;
	long m, np = -ENOMEM;
	size_t i;

	if (!sp || !pc)
		goto out;
	m = plan_spans(c, r, n, sp);
	np = m < 0 ? m : plan_pieces(sp, (size_t)m, pc);
	if (np < 0)
		goto out;
	for (i = 0; i < (size_t)np; i++)
		chunks += pc[i].b - pc[i].a;
	/* a piece makes at most one run more than its max_run parts */
	rp->runs = malloc(
		(size_t)min_u64(chunks,
				(uint64_t)np + chunks / replay_max_run(c)) *
			sizeof(*rp->runs) +
		1);
	if (!rp->runs) {
		np = -ENOMEM;
		goto out;
	}
	rp->nruns = plan_runs(c, pc, (size_t)np, rp->runs, &rp->bytes);
	rp->sorted = malloc(rp->nruns * sizeof(*rp->sorted) + 1);
	if (!rp->sorted) {
		free(rp->runs);
		np = -ENOMEM;
		goto out;
	}
	memcpy(rp->sorted, rp->runs, rp->nruns * sizeof(*rp->sorted));
	qsort(rp->sorted, rp->nruns, sizeof(*rp->sorted), run_by_first);
	np = 0;
out:
	free(sp);
	free(pc);
	return (int)np;
}

/* ---- the scheduler, under c->lock ---- */

/* The run of the plan that holds chunk idx, or NULL. */
static const struct replay_run *plan_find(const struct replay *rp, uint64_t idx)
{
	size_t lo = 0, hi = rp->nruns, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (rp->sorted[mid].first + rp->sorted[mid].n <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < rp->nruns && rp->sorted[lo].first <= idx)
		return &rp->sorted[lo];
	return NULL;
}

void cache_replay_touch_locked(struct cache *c, uint64_t idx, struct slot *s)
{
	struct replay *rp = &c->rp;
	const struct replay_run *run;
	uint64_t end;

	if (s && s->rp) {
		s->rp = 0;
		rp->kept--;
		rp->used++;
	}
	if (s && s->rf && s->state == S_FETCHING)
		cache_promote_locked(c, idx); /* if still queued */
	run = plan_find(rp, idx);
	if (!run)
		return;
	end = run->pos + (idx - run->first + 1) * c->chunk;
	if (end > rp->progress)
		rp->progress = end;
}

/* Queues the claimed chunks [first, first + n) as one replay run. */
static void replay_queue(struct cache *c, struct slot *first, struct slot *last,
			 uint32_t n)
{
	if (!first)
		return;
	last->rtail = 1;
	c->rp.out++;
	cache_enqueue_locked(c, first, n, Q_REPLAY);
}

/*
 * Claims what it can of the next run, from rp->next_k on. Returns 1 when
 * the run is all claimed (or was there), 0 when a slot was wanting.
 */
static int replay_claim_run(struct cache *c, const struct replay_run *run)
{
	struct replay *rp = &c->rp;
	struct slot *first = NULL, *last = NULL, *s;
	uint32_t n = 0;
	uint64_t idx;

	for (; rp->next_k < run->n; rp->next_k++) {
		idx = run->first + rp->next_k;
		if (cache_lookup_locked(c, idx)) { /* cached or coming */
			replay_queue(c, first, last, n);
			first = NULL;
			continue;
		}
		s = rp->kept < rp->cap
			    ? cache_claim_locked(c, idx, CLAIM_REPLAY, 0)
			    : NULL;
		if (!s)
			break;
		s->rp = s->rf = 1;
		rp->kept++;
		if (first && first->idx + n == idx) {
			n++;
		} else {
			replay_queue(c, first, last, n);
			first = s;
			n = 1;
		}
		last = s;
	}
	replay_queue(c, first, last, n);
	return rp->next_k == run->n;
}

void cache_replay_pump_locked(struct cache *c)
{
	struct replay *rp = &c->rp;
	unsigned max = c->nbd_waiting ? rp->max_busy : rp->max_out;
	const struct replay_run *run;

	while (rp->state == RP_RUNNING && rp->next < rp->nruns &&
	       rp->out < max) {
		run = &rp->runs[rp->next];
		if (run->pos + rp->next_k * c->chunk >=
		    rp->progress + rp->ahead)
			break; /* far enough ahead of the clients */
		if (!replay_claim_run(c, run))
			break; /* no room: again when a chunk is read */
		rp->next++;
		rp->next_k = 0;
	}
	if (rp->state == RP_RUNNING && rp->next == rp->nruns && !rp->out) {
		rp->state = RP_DONE;
		rp->all = 1;
	}
}

void cache_replay_slot_done_locked(struct cache *c, struct slot *s, int err)
{
	struct replay *rp = &c->rp;

	s->rf = 0;
	if (!err) {
		rp->fetched++;
	} else if (s->rp) { /* not an error for anyone: no longer kept */
		s->rp = 0;
		rp->kept--;
	}
	if (s->rtail) {
		s->rtail = 0;
		rp->out--;
		rp->last_ms = util_mono_us() / 1000;
		cache_replay_pump_locked(c);
	}
}

/* A chunk kept and never read: wasted, and the first to go. */
static void unkeep(struct cache *c, struct slot *s)
{
	if (!s->rp)
		return;
	s->rp = 0;
	c->rp.wasted++;
	if (s->state == S_READY) /* else its fetch is ending: slot_done */
		cache_lru_push_old_locked(c, s);
}

/* Every chunk still kept is wasted; the cache shrinks to its budget. */
static void replay_end(struct cache *c)
{
	struct replay *rp = &c->rp;
	struct slot_block *b;
	size_t i;

	for (i = 0; i < c->nslots; i++)
		unkeep(c, &c->slots[i]);
	for (b = c->extra; b; b = b->next)
		for (i = 0; i < b->n; i++)
			unkeep(c, &b->s[i]);
	rp->kept = 0;
	rp->state = RP_ENDED;
	cache_shrink_locked(c, (size_t)-1);
}

int64_t cache_replay_tick_locked(struct cache *c)
{
	struct replay *rp = &c->rp;
	int64_t quiet, now;

	if ((rp->state != RP_RUNNING && rp->state != RP_DONE) || rp->out)
		return 0; /* the fetch's end looks again */
	if (rp->state == RP_DONE && !rp->kept) {
		replay_end(c); /* all used */
		return 0;
	}
	quiet = c->last_read_ms > rp->last_ms ? c->last_read_ms : rp->last_ms;
	if (quiet < rp->start_ms)
		quiet = rp->start_ms;
	now = util_mono_us() / 1000;
	if (now < quiet + (int64_t)rp->idle_ms)
		return quiet + (int64_t)rp->idle_ms;
	replay_end(c);
	return 0;
}

void cache_replay_wait_locked(struct cache *c)
{
	int64_t due = cache_replay_tick_locked(c);
	struct timespec ts;

	if (!due) {
		pthread_cond_wait(&c->work, &c->lock);
		return;
	}
	ts.tv_sec = due / 1000;
	ts.tv_nsec = due % 1000 * 1000000;
	pthread_cond_timedwait(&c->work, &c->lock, &ts);
}

/* ---- starting ---- */

/* /proc/meminfo's MemAvailable in bytes, or 0. */
static uint64_t mem_available(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	uint64_t kb = 0;
	char line[128];

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* The chunks a replay of bytes may keep: all, within a quarter of RAM. */
static uint64_t replay_cap(const struct cache *c, const struct replay *rp)
{
	uint64_t bytes = rp->bytes;
	uint64_t avail = mem_available(), cap;

	cap = min_u64(bytes, avail ? avail / 4 : 2 * rp->ahead);
	cap = (cap + c->chunk - 1) / c->chunk;
	return cap < 4 ? 4 : cap;
}

/* The hash, at least twice as many heads as slots, rebuilt into h. */
static void rehash_locked(struct cache *c, struct slot **h, size_t heads)
{
	size_t i;
	struct slot *s, *n, **p;

	for (i = 0; i <= c->hmask; i++) {
		for (s = c->hash[i]; s; s = n) {
			n = s->hnext;
			p = &h[(s->idx * 0x9E3779B97F4A7C15ULL >> 32) &
			       (heads - 1)];
			s->hnext = *p;
			*p = s;
		}
	}
	free(c->hash);
	c->hash = h;
	c->hmask = heads - 1;
}

int cache_replay_start(struct cache *c, const struct cache_replay_range *r,
		       size_t n)
{
	struct replay plan = {0};
	struct slot_block *b = NULL;
	struct slot **h = NULL;
	uint64_t cap, add = 0;
	size_t heads = 1, i;
	int ret;

	if (!c->nslots)
		return -EOPNOTSUPP;
	if (n > SIZE_MAX / 4 / sizeof(struct span))
		return -ENOMEM;
	ret = plan_build(c, r, n, &plan);
	if (ret)
		return ret;
	plan.ahead = c->cfg.replay_ahead ? c->cfg.replay_ahead : REPLAY_AHEAD;
	cap = replay_cap(c, &plan);
	pthread_mutex_lock(&c->lock);
	if (cap > c->nextra)
		add = cap - c->nextra;
	pthread_mutex_unlock(&c->lock);
	ret = -ENOMEM;
	if (add) {
		while (heads < 2 * (c->nslots + c->nextra + add))
			heads <<= 1;
		b = calloc(1, sizeof(*b) + add * sizeof(b->s[0]));
		h = calloc(heads, sizeof(*h));
		if (!b || !h)
			goto err;
		b->n = (size_t)add;
	}
	pthread_mutex_lock(&c->lock);
	if (c->rp.state == RP_RUNNING || c->rp.state == RP_DONE) {
		pthread_mutex_unlock(&c->lock);
		ret = -EBUSY;
		goto err;
	}
	if (b) {
		for (i = b->n; i-- > 0;) {
			b->s[i].next = c->free_list;
			c->free_list = &b->s[i];
		}
		b->next = c->extra;
		c->extra = b;
		c->nextra += b->n;
		rehash_locked(c, h, heads);
	}
	free(c->rp.runs);
	free(c->rp.sorted);
	plan.state = RP_RUNNING;
	plan.ranges = n;
	plan.idle_ms =
		c->cfg.replay_idle_ms ? c->cfg.replay_idle_ms : REPLAY_IDLE_MS;
	plan.cap = cap;
	plan.max_out =
		c->max_fetchers * 3 / 4 > 2 ? c->max_fetchers * 3 / 4 : 2;
	plan.max_busy = c->max_fetchers / 4 > 1 ? c->max_fetchers / 4 : 1;
	plan.start_ms = plan.last_ms = util_mono_us() / 1000;
	c->rp = plan;
	cache_replay_pump_locked(c);
	pthread_cond_broadcast(&c->work); /* the fetchers' tick */
	pthread_mutex_unlock(&c->lock);
	log_info("%s: replaying %zu reads: %zu runs, %" PRIu64 " bytes",
		 c->info->name, n, plan.nruns, plan.bytes);
	return 0;
err:
	free(b);
	free(h);
	free(plan.runs);
	free(plan.sorted);
	return ret;
}
