/* SPDX-License-Identifier: MIT */
/*
 * conn.c - connections: DNS, non-blocking connect with a timeout, TLS,
 * sending requests and reading responses (RFC 9112), and the keep-alive
 * pool.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "http/internal.h"

#define CONN_BUF (HTTP_MAX_HEAD + 4096)
#define POOL_MAX 256

struct http_conn {
	int fd;
	int tls;
	uint16_t port;
	char host[URL_MAX_HOST + 1];
	struct tls_conn *tc;
	struct http_io io;
	int io_timeout_ms;
	int reused;
	int body_done;	  /* the last response's body was read to its end */
	int server_close; /* the server said it closes */
	int64_t idle_since;
	uint64_t body_left;
	struct http_chunked chunk;
	char error[URL_MAX_HOST + 160];
	size_t off, len; /* unread bytes in buf */
	char buf[CONN_BUF];
};

struct http_client {
	struct http_client_config cfg;
	char resolve_host[URL_MAX_HOST + 1];
	char resolve_addr[64];
	struct tls_ctx *tls;
	struct http_names names;
	pthread_mutex_t lock;
	struct http_conn *idle[POOL_MAX]; /* the longest idle first */
	size_t nidle;
	unsigned open;	 /* connections open, idle or in use */
	uint64_t opened; /* connections made */
};

int http_wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = {.fd = fd, .events = events};
	int64_t left;
	int n;

	for (;;) {
		left = deadline - util_mono_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return 0; /* errors and hang-ups show in the I/O call */
		if (n < 0 && errno != EINTR)
			return -errno;
	}
}

long http_io_read(struct http_io *io, void *buf, size_t len)
{
	ssize_t n;
	int r;

	for (;;) {
		n = read(io->fd, buf, len);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		r = errno == EAGAIN ? http_wait_fd(io->fd, POLLIN, io->deadline)
				    : -errno;
		if (r) {
			io->err = -r;
			return r;
		}
	}
	if (!n)
		io->err = ECONNRESET;
	return n;
}

long http_io_send(struct http_io *io, const void *buf, size_t len)
{
	ssize_t n;
	int r;

	for (;;) {
		/* MSG_NOSIGNAL: a closed peer is -EPIPE, not SIGPIPE */
		n = send(io->fd, buf, len, MSG_NOSIGNAL);
		if (n >= 0)
			return n;
		if (errno == EINTR)
			continue;
		r = errno == EAGAIN
			    ? http_wait_fd(io->fd, POLLOUT, io->deadline)
			    : -errno;
		if (r) {
			io->err = -r;
			return r;
		}
	}
}

static void set_error(struct http_conn *c, const char *msg)
{
	snprintf(c->error, sizeof(c->error), "%s", msg);
}

const char *http_conn_error(const struct http_conn *c)
{
	return c->error;
}

int http_client_new(struct http_client **cp,
		    const struct http_client_config *cfg, char *err,
		    size_t errlen)
{
	struct http_client *c = calloc(1, sizeof(*c));
	const char *colon;
	size_t n;
	int r;

	if (!c)
		return -ENOMEM;
	c->cfg = *cfg;
	c->cfg.resolve = c->cfg.ca_file = NULL;
	if (c->cfg.max_idle > POOL_MAX)
		c->cfg.max_idle = POOL_MAX;
	if (cfg->resolve) {
		/* HOST:ADDR, ADDR possibly bracketed (checked by options) */
		colon = strchr(cfg->resolve, ':');
		n = colon ? (size_t)(colon - cfg->resolve) : 0;
		if (!n || n > URL_MAX_HOST || strlen(colon + 1) >= 64) {
			snprintf(err, errlen, "bad s3.resolve");
			free(c);
			return -EINVAL;
		}
		memcpy(c->resolve_host, cfg->resolve, n);
		snprintf(c->resolve_addr, sizeof(c->resolve_addr), "%.*s",
			 (int)strcspn(colon[1] == '[' ? colon + 2 : colon + 1,
				      "]"),
			 colon[1] == '[' ? colon + 2 : colon + 1);
	}
	r = tls_backend.ctx_new(&c->tls, cfg, err, errlen);
	if (r) {
		free(c);
		return r;
	}
	pthread_mutex_init(&c->lock, NULL);
	http_names_init(&c->names, cfg);
	*cp = c;
	return 0;
}

void http_client_stats(struct http_client *c, struct http_client_stats *st)
{
	http_names_stats(&c->names, st);
	pthread_mutex_lock(&c->lock);
	st->open = c->open;
	st->idle = (unsigned)c->nidle;
	st->opened = c->opened;
	pthread_mutex_unlock(&c->lock);
}

static void conn_free(struct http_conn *c)
{
	if (c->tc)
		tls_backend.close(c->tc);
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

/* Closes a connection that was counted open in cl. */
static void conn_close(struct http_client *cl, struct http_conn *c)
{
	pthread_mutex_lock(&cl->lock);
	cl->open--;
	pthread_mutex_unlock(&cl->lock);
	conn_free(c);
}

void http_client_free(struct http_client *c)
{
	size_t i;

	if (!c)
		return;
	for (i = 0; i < c->nidle; i++)
		conn_free(c->idle[i]);
	tls_backend.ctx_free(c->tls);
	http_names_destroy(&c->names);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* One address: 0 with c->fd connected, or -errno. */
static int connect_addr(struct http_conn *c, const struct sockaddr_storage *sa,
			socklen_t len, int64_t deadline)
{
	int fd, r, one = 1, so = 0;
	socklen_t sl = sizeof(so);

	fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (const struct sockaddr *)sa, len) &&
	    errno != EINPROGRESS) {
		r = -errno;
		goto err_close;
	}
	r = http_wait_fd(fd, POLLOUT, deadline);
	if (r)
		goto err_close;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl) || so) {
		r = so ? -so : -errno;
		goto err_close;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->fd = fd;
	return 0;
err_close:
	close(fd);
	return r;
}

/* The host's addresses (resolve's, a lookup's or its last good ones),
 * tried in order until one connects. */
static int connect_host(struct http_client *cl, struct http_conn *c, char *err,
			size_t errlen)
{
	struct http_addrs *a;
	int64_t deadline;
	const char *name = c->host;
	char addr[INET6_ADDRSTRLEN] = "?";
	int r, numeric = 0, last_good;
	unsigned i;

	a = malloc(sizeof(*a)); /* 2 KiB: not on a fetcher's stack */
	if (!a)
		return -ENOMEM;
	if (cl->resolve_host[0] && !strcasecmp(c->host, cl->resolve_host)) {
		name = cl->resolve_addr;
		numeric = 1;
	}
	r = http_names_get(&cl->names, name, c->port, numeric, a, &last_good,
			   err, errlen);
	if (r)
		goto out;
	/* the lookup's time is not the connection's */
	deadline = util_mono_ms() + cl->cfg.connect_timeout_ms;
	r = -EHOSTUNREACH;
	for (i = 0; i < a->n; i++) {
		r = connect_addr(c, &a->sa[i], a->len[i], deadline);
		if (!r)
			break;
		/* remember the last failure and try the next address */
		http_addr_str(&a->sa[i], addr, sizeof(addr));
	}
	if (r)
		snprintf(err, errlen, "connect to %s port %u (%s%s): %s",
			 c->host, c->port, addr,
			 last_good ? ", its last good address: the name does "
				     "not resolve"
				   : "",
			 strerror(-r));
	else if (!numeric)
		http_names_worked(&cl->names, c->host, a, i, last_good);
out:
	free(a);
	return r;
}

/* Removes idle[i], keeping the others in the order they went idle. */
static struct http_conn *idle_remove(struct http_client *cl, size_t i)
{
	struct http_conn *c = cl->idle[i];

	memmove(&cl->idle[i], &cl->idle[i + 1],
		(cl->nidle - i - 1) * sizeof(cl->idle[0]));
	cl->nidle--;
	return c;
}

/*
 * Moves the idle connections to close into out (room for POOL_MAX):
 * those idle longer than idle_timeout_ms, then, while more than keep_idle
 * are idle, those idle for trim_ms, longest idle first. Under cl->lock.
 */
static size_t idle_expired_locked(struct http_client *cl, int64_t now,
				  struct http_conn **out)
{
	size_t i, n = 0;

	for (i = 0; i < cl->nidle;) {
		int64_t idle = now - cl->idle[i]->idle_since;
		int extra = cl->cfg.keep_idle && cl->cfg.trim_ms &&
			    cl->nidle > cl->cfg.keep_idle &&
			    idle >= cl->cfg.trim_ms;

		if (idle > cl->cfg.idle_timeout_ms || extra)
			out[n++] = idle_remove(cl, i);
		else
			i++;
	}
	cl->open -= (unsigned)n;
	return n;
}

void http_client_trim(struct http_client *cl)
{
	struct http_conn *old[POOL_MAX];
	size_t i, n;

	pthread_mutex_lock(&cl->lock);
	n = idle_expired_locked(cl, util_mono_ms(), old);
	pthread_mutex_unlock(&cl->lock);
	for (i = 0; i < n; i++)
		conn_free(old[i]);
}

/* Takes an idle connection to the same place (the most recently used,
 * whose server is the least likely to have closed it), dropping stale
 * ones. */
static struct http_conn *pool_take(struct http_client *cl, const struct url *u)
{
	struct http_conn *c = NULL, **stale;
	struct pollfd p;
	size_t i, nstale;

	stale = malloc(POOL_MAX * sizeof(*stale)); /* not on the stack */
	if (!stale)
		return NULL;
	pthread_mutex_lock(&cl->lock);
	nstale = idle_expired_locked(cl, util_mono_ms(), stale);
	for (i = cl->nidle; i-- > 0;) {
		struct http_conn *x = cl->idle[i];

		if (x->port == u->port && x->tls == u->tls &&
		    !strcasecmp(x->host, u->host)) {
			c = idle_remove(cl, i);
			break;
		}
	}
	pthread_mutex_unlock(&cl->lock);
	for (i = 0; i < nstale; i++)
		conn_free(stale[i]);
	free(stale);
	if (!c)
		return NULL;
	/* an idle connection with something to read was closed (or sent
	 * garbage): either way it cannot carry a request */
	p = (struct pollfd){.fd = c->fd, .events = POLLIN};
	if (poll(&p, 1, 0) != 0) {
		conn_close(cl, c);
		return pool_take(cl, u);
	}
	c->reused = 1;
	return c;
}

int http_conn_get(struct http_client *cl, const struct url *u,
		  struct http_conn **cp, char *err, size_t errlen)
{
	struct http_conn *c = pool_take(cl, u);
	int r;

	if (c)
		goto out;
	if (u->tls && u->host_is_ip && !cl->cfg.insecure) {
		snprintf(err, errlen,
			 "TLS to the address %s cannot be verified: use a "
			 "host name with s3.resolve=NAME:%s",
			 u->host, u->host);
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = -1;
	c->tls = u->tls;
	c->port = u->port;
	memcpy(c->host, u->host, sizeof(c->host));
	r = connect_host(cl, c, err, errlen);
	if (r)
		goto err_free;
	c->io.fd = c->fd;
	if (c->tls) {
		c->io.deadline = util_mono_ms() + cl->cfg.connect_timeout_ms;
		r = tls_backend.open(cl->tls, &c->tc, &c->io, c->host, err,
				     errlen);
		if (r)
			goto err_free;
	}
	pthread_mutex_lock(&cl->lock);
	cl->open++;
	cl->opened++;
	pthread_mutex_unlock(&cl->lock);
out:
	c->io_timeout_ms = cl->cfg.io_timeout_ms;
	c->body_done = 0;
	c->error[0] = '\0';
	*cp = c;
	return 0;
err_free:
	conn_free(c);
	return r;
}

int http_conn_reused(const struct http_conn *c)
{
	return c->reused;
}

void http_conn_put(struct http_client *cl, struct http_conn *c, int reuse)
{
	if (!c)
		return;
	if (reuse && c->body_done && !c->server_close && c->off == c->len) {
		c->idle_since = util_mono_ms();
		pthread_mutex_lock(&cl->lock);
		if (cl->nidle < cl->cfg.max_idle) {
			cl->idle[cl->nidle++] = c;
			c = NULL;
		}
		pthread_mutex_unlock(&cl->lock);
	}
	if (c)
		conn_close(cl, c);
	http_client_trim(cl);
}

int http_conns_wait(struct http_conn *const *conns, unsigned n, int timeout_ms)
{
	struct pollfd p[8];
	unsigned i, k = 0, at[8];
	int r;

	for (i = 0; i < n && k < 8; i++) {
		if (!conns[i])
			continue;
		if (conns[i]->off < conns[i]->len)
			return (int)i; /* buffered already */
		p[k] = (struct pollfd){.fd = conns[i]->fd, .events = POLLIN};
		at[k++] = i;
	}
	for (;;) {
		r = poll(p, k, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue; /* close enough: the wait restarts */
		if (r < 0)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
		for (i = 0; i < k; i++)
			if (p[i].revents)
				return (int)at[i];
	}
}

/* Raw socket or TLS I/O with the connection's deadline. */
static long conn_read(struct http_conn *c, void *buf, size_t len)
{
	long n;

	c->io.deadline = util_mono_ms() + c->io_timeout_ms;
	if (!c->tc)
		return http_io_read(&c->io, buf, len);
	n = tls_backend.read(c->tc, buf, len);
	if (n < 0)
		set_error(c, tls_backend.error(c->tc));
	return n;
}

int http_send(struct http_conn *c, const char *buf, size_t len)
{
	long n;

	c->io.deadline = util_mono_ms() + c->io_timeout_ms;
	c->body_done = 0;
	if (c->tc) {
		n = tls_backend.write(c->tc, buf, len);
		if (n < 0)
			set_error(c, tls_backend.error(c->tc));
		return n < 0 ? (int)n : 0;
	}
	while (len) {
		n = http_io_send(&c->io, buf, len);
		if (n < 0)
			return (int)n;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int http_read_head(struct http_conn *c, struct http_response *r, int is_head)
{
	long n, used;

	for (;;) {
		used = http_parse_head(c->buf + c->off, c->len - c->off,
				       is_head, r);
		if (used < 0) {
			set_error(c, "malformed response head");
			return (int)used;
		}
		if (used > 0) {
			c->off += (size_t)used;
			if (r->status >= 200)
				break;
			if (r->status == 101) {
				set_error(c, "unexpected 101 response");
				return -EBADMSG;
			}
			continue; /* 1xx interim response: the next one */
		}
		if (c->off) { /* keep the partial head at the start */
			memmove(c->buf, c->buf + c->off, c->len - c->off);
			c->len -= c->off;
			c->off = 0;
		}
		n = conn_read(c, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0) {
			if (!n)
				set_error(c, "connection closed before a "
					     "response");
			return n ? (int)n : -ECONNRESET;
		}
		c->len += (size_t)n;
	}
	c->server_close = r->close;
	c->body_left = r->length;
	memset(&c->chunk, 0, sizeof(c->chunk));
	c->body_done = r->body == HTTP_BODY_NONE ||
		       (r->body == HTTP_BODY_LENGTH && !r->length);
	return 0;
}

/* Fills buf from what is buffered, then from the socket. */
static long conn_take(struct http_conn *c, char *buf, size_t len)
{
	size_t n = c->len - c->off;

	if (n) {
		if (n > len)
			n = len;
		memcpy(buf, c->buf + c->off, n);
		c->off += n;
		if (c->off == c->len)
			c->off = c->len = 0;
		return (long)n;
	}
	return conn_read(c, buf, len);
}

static long read_chunked(struct http_conn *c, char *buf, size_t len)
{
	size_t used;
	long n, got;

	for (;;) {
		if (c->off == c->len) {
			c->off = c->len = 0;
			n = conn_read(c, c->buf, sizeof(c->buf));
			if (n <= 0)
				return n ? n : -ECONNRESET;
			c->len = (size_t)n;
		}
		got = http_chunked_decode(&c->chunk, c->buf + c->off,
					  c->len - c->off, &used, buf, len);
		if (got < 0) {
			set_error(c, "malformed chunked body");
			return got;
		}
		c->off += used;
		if (c->chunk.done)
			c->body_done = 1;
		if (got || c->chunk.done)
			return got;
	}
}

long http_read_body(struct http_conn *c, struct http_response *r, void *buf,
		    size_t len)
{
	long n;

	if (c->body_done || !len)
		return 0;
	switch (r->body) {
	case HTTP_BODY_NONE:
		return 0;
	case HTTP_BODY_CHUNKED:
		return read_chunked(c, buf, len);
	case HTTP_BODY_LENGTH:
		if (len > c->body_left)
			len = (size_t)c->body_left;
		n = conn_take(c, buf, len);
		if (n == 0) {
			set_error(c, "connection closed inside the body");
			return -ECONNRESET;
		}
		if (n > 0) {
			c->body_left -= (uint64_t)n;
			c->body_done = !c->body_left;
		}
		return n;
	case HTTP_BODY_CLOSE:
		n = conn_take(c, buf, len);
		if (!n)
			c->body_done = 1;
		return n;
	}
	return -EINVAL;
}
