/* SPDX-License-Identifier: MIT */
/*
 * serve.c - the transmission phase (NBD proto.md, "Transmission"): one
 * reader per socket validates each request before acting on it (magic,
 * command, flags, offset + length within the export, a length cap), READs
 * go to a shared pool of workers and are answered as they complete (out of
 * order, matched by cookie) by the socket's own writer thread, so that a
 * client that stops reading stalls only itself; every request gets exactly
 * one reply, errors as positive NBD_E* values.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include "nbd/internal.h"

#define NBD_REQUEST_MAGIC 0x25609513u
#define NBD_SIMPLE_REPLY_MAGIC 0x67446698u

#define NBD_CMD_FLAG_FUA (1 << 0)

/* A READ's answer, waiting for the socket's writer. */
struct reply {
	struct reply *next;
	uint64_t cookie;
	uint32_t error, len;
	struct iovec *iov, one;
	unsigned n;
	void *hold, *buf; /* what to give back once sent */
	int release;	  /* read_iov succeeded: release hold, free iov */
};

/*
 * One socket's state, shared by its reader, the workers and its writer.
 * Workers never write to the socket: they queue the answer for the
 * socket's own writer thread, so a client that does not read its replies
 * holds up only itself (and at most NBD_MAX_INFLIGHT requests or
 * NBD_MAX_CONN_BYTES of answers), never the shared pool.
 */
struct conn {
	int fd;
	const struct nbd_export *ex;
	pthread_mutex_t lock; /* everything below; wlock: one writer */
	pthread_mutex_t wlock;
	pthread_cond_t idle, more;
	unsigned inflight;
	uint64_t bytes; /* of the READs in flight */
	struct reply *head, **tail;
	int stopping; /* the writer ends when the queue is empty */
	int dead;     /* a reply could not be sent: stop reading */
	int err;      /* why (-errno) */
	pthread_t writer;
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
		if (!c->dead)
			c->err = r;
		c->dead = 1;
		pthread_mutex_unlock(&c->lock);
	}
	return r;
}

/* Gives back what an answer holds, and its place in flight. */
static void reply_done(struct conn *c, struct reply *q)
{
	const struct nbd_export *ex = c->ex;

	if (q->release) {
		ex->release(ex->arg, q->hold);
		free(q->iov);
	}
	free(q->buf);
	pthread_mutex_lock(&c->lock);
	c->bytes -= q->len;
	c->inflight--;
	/* wakes the reader waiting for room, or for the last reply */
	pthread_cond_broadcast(&c->idle);
	pthread_mutex_unlock(&c->lock);
	free(q);
}

/* The socket's writer: sends the queued answers in turn. After a failed
 * send (the client left, or did not read for the write timeout) the rest
 * are dropped and the socket is shut, which ends its reader too. */
static void *writer(void *arg)
{
	struct conn *c = arg;
	struct reply *q;
	int dead;

	for (;;) {
		pthread_mutex_lock(&c->lock);
		while (!c->head && !c->stopping)
			pthread_cond_wait(&c->more, &c->lock);
		q = c->head;
		if (q) {
			c->head = q->next;
			if (!c->head)
				c->tail = &c->head;
		}
		dead = c->dead;
		pthread_mutex_unlock(&c->lock);
		if (!q)
			return NULL;
		if (!dead && send_reply(c, q->cookie, q->error, q->iov,
					q->error ? 0 : q->n))
			shutdown(c->fd, SHUT_RDWR);
		reply_done(c, q);
	}
}

static void run_read(struct job *j)
{
	struct conn *c = j->conn;
	const struct nbd_export *ex = c->ex;
	struct reply *q = calloc(1, sizeof(*q));
	int r;

	if (!q) {
		/* no room to queue: answered here, as before */
		send_reply(c, j->cookie, NBD_ENOMEM, NULL, 0);
		pthread_mutex_lock(&c->lock);
		c->bytes -= j->len;
		c->inflight--;
		pthread_cond_broadcast(&c->idle);
		pthread_mutex_unlock(&c->lock);
		free(j);
		return;
	}
	q->cookie = j->cookie;
	q->len = j->len;
	if (ex->read_iov) {
		r = ex->read_iov(ex->arg, j->off, j->len,
				 (uint64_t)(util_mono_us() - j->arrived),
				 &q->iov, &q->n, &q->hold);
	} else {
		q->buf = malloc(j->len);
		r = q->buf ? ex->read(ex->arg, q->buf, j->off, j->len)
			   : -ENOMEM;
		q->one = (struct iovec){q->buf, j->len};
		q->iov = &q->one;
		q->n = 1;
	}
	q->error = nbd_errno_to_wire(r);
	q->release = ex->read_iov && !r;
	pthread_mutex_lock(&c->lock);
	*c->tail = q;
	c->tail = &q->next;
	pthread_cond_signal(&c->more);
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
	c->stopping = 1;
	pthread_cond_signal(&c->more);
	pthread_mutex_unlock(&c->lock);
}

/*
 * Reads a request's header. A receive timeout on fd (SO_RCVTIMEO, the
 * caller's idle timeout) ends the connection when it strikes with nothing
 * in flight and nothing of a request read; a client waiting for its
 * answers is not idle. 0, -EPIPE at the end, -ETIMEDOUT or -errno.
 */
static int read_request(struct conn *c, uint8_t *h, size_t len)
{
	size_t got = 0;
	ssize_t n;
	int busy;

	while (got < len) {
		n = read(c->fd, h + got, len - got);
		if (n > 0) {
			got += (size_t)n;
			continue;
		}
		if (!n)
			return -EPIPE;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -errno;
		pthread_mutex_lock(&c->lock);
		busy = c->inflight && !c->dead;
		pthread_mutex_unlock(&c->lock);
		if (!busy && !got)
			return -ETIMEDOUT;
	}
	return 0;
}

/* Waits for room for a READ of len (NBD_MAX_INFLIGHT requests and
 * NBD_MAX_CONN_BYTES, or alone) and takes it; whether the socket died. */
static int take_room(struct conn *c, uint32_t len)
{
	int dead;

	pthread_mutex_lock(&c->lock);
	while (c->inflight >= NBD_MAX_INFLIGHT ||
	       (c->inflight && c->bytes + len > NBD_MAX_CONN_BYTES))
		pthread_cond_wait(&c->idle, &c->lock);
	c->inflight++;
	c->bytes += len;
	dead = c->dead;
	pthread_mutex_unlock(&c->lock);
	return dead;
}

/* The loop of nbd_serve: reads, checks and hands out requests. */
static int serve_requests(struct conn *c, struct nbd_pool *pool)
{
	const struct nbd_export *ex = c->ex;
	uint8_t h[28];
	struct nbd_cur cur;
	uint16_t flags, type;
	uint64_t cookie, off;
	uint32_t len, e;
	struct job *j;
	int r;

	for (;;) {
		r = read_request(c, h, sizeof(h));
		if (r)
			return r == -EPIPE ? 0 : r; /* closed without DISC */
		cur = (struct nbd_cur){h, sizeof(h), 1};
		if (nbd_get32(&cur) != NBD_REQUEST_MAGIC)
			return -EBADMSG; /* out of sync: nothing to trust */
		flags = nbd_get16(&cur);
		type = nbd_get16(&cur);
		cookie = nbd_get64(&cur);
		off = nbd_get64(&cur);
		len = nbd_get32(&cur);
		if (type == NBD_CMD_DISC)
			return 0;
		if (type == NBD_CMD_WRITE) {
			/* the payload follows whatever we answer: drain it,
			 * or hang up when it is beyond any sane size */
			if (len > NBD_MAX_REQUEST)
				return -E2BIG;
			r = nbd_discard(c->fd, len);
			if (r)
				return r;
		}
		e = check_request(ex, flags, type, off, len);
		if (e || type != NBD_CMD_READ) {
			if (send_reply(c, cookie, e, NULL, 0))
				return -EPIPE;
			continue;
		}
		j = malloc(sizeof(*j));
		if (!j) {
			if (send_reply(c, cookie, NBD_ENOMEM, NULL, 0))
				return -EPIPE;
			continue;
		}
		*j = (struct job){NULL, c, cookie, off, len, util_mono_us()};
		if (take_room(c, len)) {
			/* counted in flight: the writer drops its answer */
			submit(pool, j);
			return -EPIPE;
		}
		submit(pool, j);
	}
}

int nbd_serve(int fd, const struct nbd_export *ex, struct nbd_pool *pool)
{
	struct conn c = {.fd = fd, .ex = ex};
	int r;

	c.tail = &c.head;
	pthread_mutex_init(&c.lock, NULL);
	pthread_mutex_init(&c.wlock, NULL);
	pthread_cond_init(&c.idle, NULL);
	pthread_cond_init(&c.more, NULL);
	r = -pthread_create(&c.writer, NULL, writer, &c);
	if (!r) {
		r = serve_requests(&c, pool);
		/* every request in flight still gets its reply (or is dropped
		 * with the socket) */
		wait_idle(&c);
		pthread_join(c.writer, NULL);
		if (!r && c.dead)
			r = c.err ? c.err : -EPIPE;
	}
	pthread_cond_destroy(&c.more);
	pthread_cond_destroy(&c.idle);
	pthread_mutex_destroy(&c.wlock);
	pthread_mutex_destroy(&c.lock);
	return r;
}
