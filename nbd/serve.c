/* SPDX-License-Identifier: MIT */
/*
 * serve.c - the transmission phase (NBD proto.md, "Transmission"): one
 * reader per socket validates each request before acting on it (magic,
 * command, flags, offset + length within the export, a length cap), READs
 * go to a shared pool of workers and are answered as they complete (out of
 * order, matched by cookie) under the socket's writer lock; every request
 * gets exactly one reply, errors as positive NBD_E* values.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include "nbd/internal.h"

#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u

#define NBD_CMD_FLAG_FUA (1 << 0)

/* One socket's state, shared by its reader and the workers. */
struct conn {
	int fd;
	const struct nbd_export *ex;
	pthread_mutex_t lock; /* inflight, dead; and the writer lock */
	pthread_mutex_t wlock;
	pthread_cond_t idle;
	unsigned inflight;
	int dead; /* a reply could not be sent: stop reading */
};

struct job {
	struct job *next;
	struct conn *conn;
	uint64_t cookie, off;
	uint32_t len;
	int64_t arrived; /* CLOCK_MONOTONIC, microseconds */
};

struct nbd_pool {
	pthread_mutex_t lock;
	pthread_cond_t more;
	struct job *head, **tail;
	int stopping;
	unsigned queued;  /* jobs in the list */
	unsigned waiting; /* workers waiting for one */
	unsigned nthreads, max;
	pthread_t threads[];
};

/*
 * Sends a simple reply and, for a successful READ, its data from n pieces
 * (writev at most IOV_MAX at a time; short writes and EINTR resumed).
 */
static int send_reply(struct conn *c, uint64_t cookie, uint32_t error,
		      struct iovec *data, unsigned n)
{
	uint8_t h[16];
	struct iovec few[16], *iov = few;
	unsigned left = 1, batch, i;
	int r = 0, in_data = 0;
	ssize_t w;

	nbd_put32(h, NBD_SIMPLE_REPLY_MAGIC);
	nbd_put32(h + 4, error);
	nbd_put64(h + 8, cookie);
	if (error)
		n = 0;
	few[0] = (struct iovec){h, sizeof(h)};
	if (n < 16) { /* the usual case: head and data in one writev */
		for (i = 0; i < n; i++)
			few[1 + i] = data[i];
		left += n;
		in_data = 1;
	}
	pthread_mutex_lock(&c->wlock);
	for (;;) {
		while (left && !iov->iov_len) {
			iov++;
			left--;
		}
		if (!left) {
			if (in_data || !n)
				break;
			iov = data; /* the head is out: now the data */
			left = n;
			in_data = 1;
			continue;
		}
		batch = left < IOV_MAX ? left : IOV_MAX;
		w = writev(c->fd, iov, (int)batch);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			r = -errno;
			break;
		}
		while (w > 0 && (size_t)w >= iov->iov_len) {
			w -= (ssize_t)iov->iov_len;
			iov->iov_len = 0;
			iov++;
			left--;
		}
		if (w > 0) {
			iov->iov_base = (uint8_t *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
	pthread_mutex_unlock(&c->wlock);
	if (r) {
		pthread_mutex_lock(&c->lock);
		c->dead = 1;
		pthread_mutex_unlock(&c->lock);
	}
	return r;
}

static void run_read(struct job *j)
{
	struct conn *c = j->conn;
	const struct nbd_export *ex = c->ex;
	struct iovec one, *iov = NULL;
	unsigned n = 0;
	void *hold = NULL, *buf = NULL;
	int r;

	if (ex->read_iov) {
		r = ex->read_iov(ex->arg, j->off, j->len,
				 (uint64_t)(util_mono_us() - j->arrived), &iov,
				 &n, &hold);
	} else {
		buf = malloc(j->len);
		r = buf ? ex->read(ex->arg, buf, j->off, j->len) : -ENOMEM;
		one = (struct iovec){buf, j->len};
		iov = &one;
		n = 1;
	}
	send_reply(c, j->cookie, nbd_errno_to_wire(r), iov, r ? 0 : n);
	if (ex->read_iov && !r) {
		ex->release(ex->arg, hold);
		free(iov);
	}
	free(buf);
	pthread_mutex_lock(&c->lock);
	/* wakes the reader waiting for room, or for the last reply */
	if (--c->inflight == 0 || c->inflight == NBD_MAX_INFLIGHT - 1)
		pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
	free(j);
}

static void *worker(void *arg)
{
	struct nbd_pool *p = arg;
	struct job *j;

	for (;;) {
		pthread_mutex_lock(&p->lock);
		while (!p->head && !p->stopping) {
			p->waiting++;
			pthread_cond_wait(&p->more, &p->lock);
			p->waiting--;
		}
		j = p->head;
		if (j) {
			p->head = j->next;
			if (!p->head)
				p->tail = &p->head;
			p->queued--;
		}
		pthread_mutex_unlock(&p->lock);
		if (!j)
			return NULL;
		run_read(j);
	}
}

int nbd_pool_new(struct nbd_pool **pp, unsigned threads, unsigned max)
{
	struct nbd_pool *p;
	unsigned i;

	if (!threads)
		return -EINVAL;
	if (max < threads)
		max = threads;
	p = calloc(1, sizeof(*p) + max * sizeof(pthread_t));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->more, NULL);
	p->tail = &p->head;
	p->max = max;
	for (i = 0; i < threads; i++) {
		if (pthread_create(&p->threads[i], NULL, worker, p))
			break;
		p->nthreads++;
	}
	if (!p->nthreads) {
		nbd_pool_free(p);
		return -EAGAIN;
	}
	*pp = p;
	return 0;
}

void nbd_pool_free(struct nbd_pool *p)
{
	unsigned i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->more);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	pthread_cond_destroy(&p->more);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void submit(struct nbd_pool *p, struct job *j)
{
	if (!p) {
		run_read(j);
		return;
	}
	j->next = NULL;
	pthread_mutex_lock(&p->lock);
	*p->tail = j;
	p->tail = &j->next;
	p->queued++;
	pthread_cond_signal(&p->more);
	/* every worker is taken: one more, if the pool may grow (a failure
	 * just leaves the job to the workers there are) */
	if (p->queued > p->waiting && p->nthreads < p->max &&
	    !pthread_create(&p->threads[p->nthreads], NULL, worker, p))
		p->nthreads++;
	pthread_mutex_unlock(&p->lock);
}

/*
 * Checks a request against proto.md before anything is done: returns 0 to
 * go ahead or the NBD error to answer with.
 */
static uint32_t check_request(const struct nbd_export *ex, uint16_t flags,
			      uint16_t type, uint64_t off, uint32_t len)
{
	switch (type) {
	case NBD_CMD_READ:
		if (flags)
			return NBD_EINVAL;
		if (!len || len > NBD_MAX_REQUEST)
			return len ? NBD_EOVERFLOW : NBD_EINVAL;
		break;
	case NBD_CMD_FLUSH:
		return flags || off || len ? NBD_EINVAL : 0;
	case NBD_CMD_WRITE:
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		/* a read-only export: refused, whatever the range */
		return flags & ~NBD_CMD_FLAG_FUA ? NBD_EINVAL : NBD_EPERM;
	default: /* CACHE and BLOCK_STATUS were not offered */
		return NBD_EINVAL;
	}
	if (off > ex->size || len > ex->size - off)
		return NBD_EINVAL;
	return 0;
}

static void wait_idle(struct conn *c)
{
	pthread_mutex_lock(&c->lock);
	while (c->inflight)
		pthread_cond_wait(&c->idle, &c->lock);
	pthread_mutex_unlock(&c->lock);
}

int nbd_serve(int fd, const struct nbd_export *ex, struct nbd_pool *pool)
{
	struct conn c = {.fd = fd, .ex = ex};
	uint8_t h[28];
	struct nbd_cur cur;
	uint16_t flags, type;
	uint64_t cookie, off;
	uint32_t len, e;
	struct job *j;
	int r, dead;

	pthread_mutex_init(&c.lock, NULL);
	pthread_mutex_init(&c.wlock, NULL);
	pthread_cond_init(&c.idle, NULL);
	for (;;) {
		r = util_read_full(fd, h, sizeof(h));
		if (r) {
			r = r == -EPIPE ? 0 : r; /* closed without DISC */
			break;
		}
		cur = (struct nbd_cur){h, sizeof(h), 1};
		if (nbd_get32(&cur) != NBD_REQUEST_MAGIC) {
			r = -EBADMSG; /* out of sync: nothing can be trusted */
			break;
		}
		flags = nbd_get16(&cur);
		type = nbd_get16(&cur);
		cookie = nbd_get64(&cur);
		off = nbd_get64(&cur);
		len = nbd_get32(&cur);
		if (type == NBD_CMD_DISC)
			break;
		if (type == NBD_CMD_WRITE) {
			/* the payload follows whatever we answer: drain it,
			 * or hang up when it is beyond any sane size */
			if (len > NBD_MAX_REQUEST) {
				r = -E2BIG;
				break;
			}
			r = nbd_discard(fd, len);
			if (r)
				break;
		}
		e = check_request(ex, flags, type, off, len);
		if (e || type != NBD_CMD_READ) {
			if (send_reply(&c, cookie, e, NULL, 0))
				break;
			continue;
		}
		j = malloc(sizeof(*j));
		if (!j) {
			if (send_reply(&c, cookie, NBD_ENOMEM, NULL, 0))
				break;
			continue;
		}
		*j = (struct job){NULL, &c, cookie, off, len, util_mono_us()};
		pthread_mutex_lock(&c.lock);
		while (c.inflight >= NBD_MAX_INFLIGHT)
			pthread_cond_wait(&c.idle, &c.lock);
		c.inflight++;
		dead = c.dead;
		pthread_mutex_unlock(&c.lock);
		submit(pool, j);
		if (dead) {
			r = -EPIPE;
			break;
		}
	}
	/* every request in flight still gets its reply */
	wait_idle(&c);
	if (!r && c.dead)
		r = -EPIPE;
	pthread_cond_destroy(&c.idle);
	pthread_mutex_destroy(&c.wlock);
	pthread_mutex_destroy(&c.lock);
	return r;
}
