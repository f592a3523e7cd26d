/* SPDX-License-Identifier: MIT */
/*
 * record.c - the recorder: the reads a device answers, in arrival order,
 * until it is told to stop, has been idle for a while or is full. The idle
 * rule is applied when a read or a question comes, so no thread watches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "src/trace/trace.h"

struct trace_rec {
	pthread_mutex_t lock;
	struct trace t; /* size, etag, the reads so far */
	size_t cap;
	uint64_t bytes;
	uint64_t idle_ms;
	int64_t start_ms, last_ms; /* last_ms: the last read's, or -1 */
	enum trace_rec_mode mode;
};

int trace_rec_new(struct trace_rec **rec, uint64_t size, const char *etag,
		  uint64_t idle_ms, int64_t now_ms)
{
	struct trace_rec *tr;
	size_t n = etag ? strlen(etag) : 0, i;

	*rec = NULL;
	if (n >= sizeof(tr->t.etag) || !size)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (etag[i] <= ' ' || etag[i] > '~')
			return -EINVAL; /* the format's rule (trace.h) */
	tr = calloc(1, sizeof(*tr));
	if (!tr)
		return -ENOMEM;
	pthread_mutex_init(&tr->lock, NULL);
	tr->t.size = size;
	memcpy(tr->t.etag, n ? etag : "-", n ? n + 1 : 2);
	tr->idle_ms = idle_ms;
	tr->start_ms = now_ms;
	tr->last_ms = -1;
	tr->mode = TRACE_RECORDING;
	*rec = tr;
	return 0;
}

void trace_rec_free(struct trace_rec *rec)
{
	if (!rec)
		return;
	trace_free(&rec->t);
	pthread_mutex_destroy(&rec->lock);
	free(rec);
}

/* Under the lock: the idle rule at now_ms. */
static void apply_idle(struct trace_rec *rec, int64_t now_ms)
{
	if (rec->mode == TRACE_RECORDING && rec->idle_ms && rec->last_ms >= 0 &&
	    now_ms - rec->last_ms >= (int64_t)rec->idle_ms)
		rec->mode = TRACE_IDLE;
}

/* Under the lock: room for one more read. 0, or -1 (now full). */
static int make_room(struct trace_rec *rec)
{
	struct trace_range *nr;
	size_t cap;

	if (rec->t.n < rec->cap)
		return 0;
	if (rec->t.n >= TRACE_MAX_RANGES) {
		rec->mode = TRACE_FULL;
		return -1;
	}
	cap = rec->cap ? rec->cap * 2 : 1024;
	if (cap > TRACE_MAX_RANGES)
		cap = TRACE_MAX_RANGES;
	nr = realloc(rec->t.r, cap * sizeof(*nr));
	if (!nr) {
		rec->mode = TRACE_FULL; /* what we have stays good */
		return -1;
	}
	rec->t.r = nr;
	rec->cap = cap;
	return 0;
}

void trace_rec_add(struct trace_rec *rec, uint64_t off, uint32_t len,
		   int64_t now_ms)
{
	int64_t ms;

	if (off >= rec->t.size || !len)
		return;
	if (len > rec->t.size - off)
		len = (uint32_t)(rec->t.size - off);
	if (len > TRACE_MAX_LEN)
		len = TRACE_MAX_LEN;
	pthread_mutex_lock(&rec->lock);
	apply_idle(rec, now_ms);
	ms = now_ms - rec->start_ms;
	if (ms < 0)
		ms = 0;
	/* times never go back, though two threads may race here */
	if (rec->t.n && ms < rec->t.r[rec->t.n - 1].ms)
		ms = rec->t.r[rec->t.n - 1].ms;
	if (ms > (int64_t)TRACE_MAX_MS)
		rec->mode = TRACE_FULL;
	if (rec->mode == TRACE_RECORDING && !make_room(rec)) {
		rec->t.r[rec->t.n++] =
			(struct trace_range){off, len, (uint32_t)ms};
		rec->bytes += len;
		rec->last_ms = now_ms;
	}
	pthread_mutex_unlock(&rec->lock);
}

void trace_rec_hook(void *arg, uint64_t off, uint32_t len)
{
	trace_rec_add(arg, off, len, util_mono_ms());
}

void trace_rec_stop(struct trace_rec *rec)
{
	pthread_mutex_lock(&rec->lock);
	if (rec->mode == TRACE_RECORDING)
		rec->mode = TRACE_STOPPED;
	pthread_mutex_unlock(&rec->lock);
}

void trace_rec_state(struct trace_rec *rec, int64_t now_ms,
		     struct trace_rec_state *st)
{
	pthread_mutex_lock(&rec->lock);
	apply_idle(rec, now_ms);
	st->mode = rec->mode;
	st->n = rec->t.n;
	st->bytes = rec->bytes;
	st->last_ms = rec->t.n ? rec->t.r[rec->t.n - 1].ms : 0;
	pthread_mutex_unlock(&rec->lock);
}

const char *trace_rec_mode_name(enum trace_rec_mode m)
{
	static const char *const names[] = {"recording", "idle", "stopped",
					    "full"};

	return (unsigned)m < 4 ? names[m] : "?";
}

int trace_rec_save(struct trace_rec *rec, char **out, size_t *outlen)
{
	int r;

	*out = NULL;
	*outlen = 0;
	pthread_mutex_lock(&rec->lock);
	if (rec->mode == TRACE_RECORDING)
		rec->mode = TRACE_STOPPED;
	r = rec->t.n ? trace_format(&rec->t, out, outlen) : -ENODATA;
	pthread_mutex_unlock(&rec->lock);
	return r == -EINVAL ? -ENOMEM : r; /* recorded reads are valid */
}
