/* SPDX-License-Identifier: MIT */
/*
 * shaper.c - a TCP proxy on loopback that makes a local S3 server look far
 * away, for bench/run.sh:
 *
 *   shaper --listen PORT --upstream PORT [--delay-ms N] [--rate BYTES/S]
 *          [--log FILE] [--port-file FILE]
 *
 * Each connection accepted on 127.0.0.1:PORT is forwarded to
 * 127.0.0.1:UPSTREAM. The first bytes of each response are held until
 * DELAY ms after the request that caused them was forwarded (a fixed time
 * to first byte, as a distant server has: the rule is "upstream bytes that
 * follow client bytes wait until DELAY after those were sent", exact for
 * clients that do not pipeline, as ours do not), and each connection's
 * downstream is capped at RATE bytes/s by a token bucket (a per-connection
 * throughput limit, as S3 has). --log writes one line per request: its
 * time, connection, request line and Range header, which is the read trace
 * of an NBD server that makes one ranged GET per read. On exit it prints
 * its totals to stderr: connections, requests, bytes each way (headers
 * included), the same count for every client.
 *
 * One thread per connection; SIGTERM or SIGINT ends the process (exit 0).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BUF_SIZE (64 * 1024)
#define HEAD_MAX 8192
/* Writes smaller than this wait for tokens, so a slow rate is not a
 * trickle of tiny segments. */
#define MIN_WRITE 16384
#define NS 1000000000LL

struct config {
	uint16_t listen_port;
	uint16_t upstream_port;
	int64_t delay_ns;
	uint64_t rate; /* bytes/s, 0: unlimited */
	int log_fd;    /* -1: no log */
	int64_t t0;
};

/* One direction of a connection: bytes read from `from` wait in buf for
 * `to`. */
struct pipe_dir {
	int from, to;
	char *buf;
	size_t len, off;
	int eof;     /* read side saw EOF */
	int shut;    /* write side shut down (after EOF, buffer drained) */
	int blocked; /* the last write met EAGAIN: wait for POLLOUT */
};

/* The client's request stream, parsed only to log each request. */
enum { REQ_HEAD, REQ_BODY, REQ_LOST };

struct conn {
	const struct config *cf;
	unsigned id;
	int cfd, ufd;
	struct pipe_dir up, down;
	/* delay: client bytes went upstream at sent_ns and no response byte
	 * has been held for them yet */
	int armed;
	int64_t sent_ns, hold_until;
	/* token bucket for the downstream */
	double tokens;
	int64_t refill_ns;
	/* request log */
	int req_state;
	char head[HEAD_MAX];
	size_t head_len;
	uint64_t body_left;
};

/* The totals printed on exit (every thread adds to them). */
static struct {
	uint64_t conns, requests, up, down;
} totals;

static void count(uint64_t *total, uint64_t n)
{
	__atomic_fetch_add(total, n, __ATOMIC_RELAXED);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS + ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fputs("shaper: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* "50M" -> 50000000: decimal multiples, as rates in MB/s are. */
static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'K':
	case 'k':
		mul = 1000;
		end++;
		break;
	case 'M':
	case 'm':
		mul = 1000000;
		end++;
		break;
	case 'G':
	case 'g':
		mul = 1000000000;
		end++;
		break;
	}
	if (*end || __builtin_mul_overflow(v, mul, out) || *out > max)
		return -1;
	return 0;
}

/* One line per request: "SECS conn=N REQUEST-LINE range=VALUE|-". One
 * write(2) on an O_APPEND file, so lines of different threads never mix. */
static void log_line(struct conn *c, const char *line, size_t line_len,
		     const char *range, size_t range_len)
{
	char out[HEAD_MAX + 128];
	int64_t t = now_ns() - c->cf->t0;
	int n;

	if (c->cf->log_fd < 0)
		return;
	n = snprintf(out, sizeof(out), "%lld.%06lld conn=%u %.*s range=%.*s\n",
		     (long long)(t / NS), (long long)(t % NS / 1000), c->id,
		     (int)line_len, line, (int)range_len, range);
	if (n > 0 && (size_t)n < sizeof(out) &&
	    write(c->cf->log_fd, out, (size_t)n) != n)
		perror("shaper: writing the log");
}

static void log_note(struct conn *c, const char *note)
{
	log_line(c, note, strlen(note), "-", 1);
}

/* Logs a complete request head (it ends with an empty line). */
static void log_request(struct conn *c, const char *head, size_t len)
{
	const char *line_end = memmem(head, len, "\r\n", 2);
	const char *p, *e, *range = "-";
	size_t range_len = 1;

	for (p = line_end + 2; p < head + len; p = e + 2) {
		e = memmem(p, (size_t)(head + len - p), "\r\n", 2);
		if (!e || e == p)
			break;
		if (e - p > 6 && !strncasecmp(p, "range:", 6)) {
			range = p + 6;
			while (range < e && (*range == ' ' || *range == '\t'))
				range++;
			range_len = (size_t)(e - range);
		}
	}
	log_line(c, head, (size_t)(line_end - head), range, range_len);
}

/* The length of a request's body from its head: Content-Length, or -1 for
 * what this parser does not follow (a chunked request body). */
static int64_t request_body_length(const char *head, size_t len)
{
	const char *p = memmem(head, len, "\r\n", 2), *e;
	unsigned long long v;

	for (p = p ? p + 2 : head + len; p < head + len; p = e + 2) {
		e = memmem(p, (size_t)(head + len - p), "\r\n", 2);
		if (!e || e == p)
			break;
		if (e - p > 18 && !strncasecmp(p, "transfer-encoding:", 18))
			return -1;
		if (e - p > 15 && !strncasecmp(p, "content-length:", 15)) {
			v = strtoull(p + 15, NULL, 10);
			return v > INT64_MAX ? -1 : (int64_t)v;
		}
	}
	return 0;
}

/* Adds client bytes to the request head being gathered; once it is whole,
 * logs it and sets what follows (body or next head). Returns the bytes of
 * p taken. */
static size_t take_head(struct conn *c, const char *p, size_t n)
{
	size_t old = c->head_len, k = HEAD_MAX - old, from, len;
	char *end;
	int64_t body;

	if (k > n)
		k = n;
	memcpy(c->head + old, p, k);
	c->head_len += k;
	from = old > 3 ? old - 3 : 0;
	end = memmem(c->head + from, c->head_len - from, "\r\n\r\n", 4);
	if (!end) {
		if (c->head_len == HEAD_MAX) {
			log_note(c, "(request head too long: log ends)");
			c->req_state = REQ_LOST;
		}
		return k;
	}
	/* the terminator was not complete before this call: len > old */
	len = (size_t)(end + 4 - c->head);
	body = request_body_length(c->head, len);
	count(&totals.requests, 1);
	log_request(c, c->head, len);
	c->head_len = 0;
	if (body < 0) {
		log_note(c, "(chunked request body: log ends)");
		c->req_state = REQ_LOST;
	} else if (body > 0) {
		c->body_left = (uint64_t)body;
		c->req_state = REQ_BODY;
	}
	return len - old;
}

/* Follows the client's bytes through request heads and bodies (RFC 9112
 * section 6) to log each head. A stream it cannot follow is noted once and
 * then forwarded unlogged. */
static void track_requests(struct conn *c, const char *p, size_t n)
{
	size_t k;

	while (n && c->req_state != REQ_LOST) {
		if (c->req_state == REQ_BODY) {
			k = n < c->body_left ? n : (size_t)c->body_left;
			c->body_left -= k;
			if (!c->body_left)
				c->req_state = REQ_HEAD;
		} else {
			k = take_head(c, p, n);
		}
		p += k;
		n -= k;
	}
}

/* Reads what `d->from` has into the free end of d->buf. Returns bytes read
 * (they end the buffer), 0 for nothing now (or EOF: d->eof is set), -1 on
 * an error. */
static ssize_t fill(struct pipe_dir *d)
{
	ssize_t r;

	if (d->eof || d->len - d->off == BUF_SIZE)
		return 0;
	if (d->len == BUF_SIZE) {
		memmove(d->buf, d->buf + d->off, d->len - d->off);
		d->len -= d->off;
		d->off = 0;
	}
	r = read(d->from, d->buf + d->len, BUF_SIZE - d->len);
	if (r > 0) {
		d->len += (size_t)r;
		return r;
	}
	if (r == 0) {
		d->eof = 1;
		return 0;
	}
	return errno == EAGAIN || errno == EINTR ? 0 : -1;
}

/* Writes up to max pending bytes of d, until the socket takes no more.
 * Returns bytes written (less than asked: the socket is full and d->blocked
 * is set), -1 on an error. */
static ssize_t drain(struct pipe_dir *d, size_t max)
{
	size_t n = d->len - d->off, done = 0;
	ssize_t w;

	if (n > max)
		n = max;
	while (done < n) {
		w = send(d->to, d->buf + d->off, n - done, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -1;
			d->blocked = 1;
			break;
		}
		d->off += (size_t)w;
		done += (size_t)w;
	}
	if (d->off == d->len)
		d->off = d->len = 0;
	return (ssize_t)done;
}

/* After EOF from one side and everything forwarded: pass the half-close on
 * (RFC 9293 section 3.6), so a client that shuts its sending side still
 * gets the whole answer. */
static int pass_eof(struct pipe_dir *d)
{
	if (d->eof && !d->shut && d->off == d->len) {
		d->shut = 1;
		if (shutdown(d->to, SHUT_WR) && errno != ENOTCONN)
			return -1;
	}
	return 0;
}

static void refill(struct conn *c, int64_t now)
{
	double burst = (double)c->cf->rate / 100;

	if (burst < BUF_SIZE)
		burst = BUF_SIZE;
	c->tokens += (double)(now - c->refill_ns) * (double)c->cf->rate / NS;
	if (c->tokens > burst)
		c->tokens = burst;
	c->refill_ns = now;
}

/* The downstream bytes that may go now; *wait_ns says when more may. */
static size_t down_allowance(struct conn *c, int64_t now, int64_t *wait_ns)
{
	size_t pending = c->down.len - c->down.off, want;

	*wait_ns = -1;
	if (!pending)
		return 0;
	if (now < c->hold_until) {
		*wait_ns = c->hold_until - now;
		return 0;
	}
	if (!c->cf->rate)
		return pending;
	refill(c, now);
	want = pending < MIN_WRITE ? pending : MIN_WRITE;
	if (c->tokens >= (double)want)
		return c->tokens < (double)pending ? (size_t)c->tokens
						   : pending;
	*wait_ns = (int64_t)(((double)want - c->tokens) * NS /
			     (double)c->cf->rate) +
		   1;
	return 0;
}

/* Moves bytes both ways until both sides have closed or one fails. */
static void relay(struct conn *c)
{
	struct pollfd pf[2];
	int64_t now, wait_ns;
	ssize_t r;
	size_t allow;
	int timeout;

	pf[0].fd = c->cfd;
	pf[1].fd = c->ufd;
	pf[0].revents = POLLIN;
	pf[1].revents = POLLIN;
	for (;;) {
		now = now_ns();
		/* client -> upstream */
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = fill(&c->up);
			if (r < 0)
				return;
			if (r > 0)
				track_requests(c, c->up.buf + c->up.len - r,
					       (size_t)r);
		}
		if (pf[1].revents & (POLLOUT | POLLERR))
			c->up.blocked = 0;
		if (!c->up.blocked && c->up.len > c->up.off) {
			r = drain(&c->up, SIZE_MAX);
			if (r < 0)
				return;
			count(&totals.up, (uint64_t)r);
			if (r > 0) {
				c->armed = 1;
				c->sent_ns = now;
			}
		}
		if (pass_eof(&c->up))
			return;
		/* upstream -> client: the first bytes after a request are
		 * held until DELAY after it was sent */
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			r = fill(&c->down);
			if (r < 0)
				return;
			if (r > 0 && c->armed) {
				c->armed = 0;
				c->hold_until = c->sent_ns + c->cf->delay_ns;
			}
		}
		if (pf[0].revents & (POLLOUT | POLLERR))
			c->down.blocked = 0;
		/* until the socket is full or the hold or the bucket says
		 * wait (then wait_ns says how long) */
		for (;;) {
			allow = down_allowance(c, now_ns(), &wait_ns);
			if (!allow || c->down.blocked)
				break;
			r = drain(&c->down, allow);
			if (r < 0)
				return;
			count(&totals.down, (uint64_t)r);
			if (c->cf->rate)
				c->tokens -= (double)r;
		}
		if (pass_eof(&c->down))
			return;
		if (c->up.shut && c->down.shut)
			return;

		pf[0].events = pf[1].events = 0;
		if (!c->up.eof && c->up.len - c->up.off < BUF_SIZE)
			pf[0].events |= POLLIN;
		if (!c->down.eof && c->down.len - c->down.off < BUF_SIZE)
			pf[1].events |= POLLIN;
		if (c->up.blocked)
			pf[1].events |= POLLOUT;
		if (c->down.blocked && allow)
			pf[0].events |= POLLOUT;
		/* a socket we want nothing from is left out: its POLLHUP
		 * would wake us in a loop */
		pf[0].fd = pf[0].events ? c->cfd : -1;
		pf[1].fd = pf[1].events ? c->ufd : -1;
		timeout = -1;
		if (wait_ns >= 0)
			timeout = (int)((wait_ns + 999999) / 1000000);
		if (poll(pf, 2, timeout) < 0) {
			if (errno != EINTR)
				return;
			pf[0].revents = pf[1].revents = 0;
		}
	}
}

static int connect_upstream(uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Small requests and answers must not wait for Nagle's algorithm (it would
 * add up to 40 ms, more than the delays we add), and the relay loop never
 * blocks in a read or write. */
static void tune_socket(int fd)
{
	int one = 1;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static void *conn_thread(void *arg)
{
	struct conn *c = arg;

	c->ufd = connect_upstream(c->cf->upstream_port);
	if (c->ufd < 0) {
		fprintf(stderr, "shaper: conn %u: upstream 127.0.0.1:%u: %s\n",
			c->id, c->cf->upstream_port, strerror(errno));
		goto out_close_client;
	}
	c->up.buf = malloc(BUF_SIZE);
	c->down.buf = malloc(BUF_SIZE);
	if (!c->up.buf || !c->down.buf)
		goto out_free;
	tune_socket(c->cfd);
	tune_socket(c->ufd);
	c->up.from = c->down.to = c->cfd;
	c->up.to = c->down.from = c->ufd;
	/* a new connection starts with a full bucket (refill caps it) */
	c->tokens = 1e18;
	c->refill_ns = now_ns();
	relay(c);
out_free:
	free(c->up.buf);
	free(c->down.buf);
	close(c->ufd);
out_close_client:
	close(c->cfd);
	free(c);
	return NULL;
}

static int listen_on(uint16_t port, uint16_t *bound)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(fd, 512) ||
	    getsockname(fd, (struct sockaddr *)&sa, &len)) {
		close(fd);
		return -1;
	}
	*bound = ntohs(sa.sin_port);
	return fd;
}

/* The port, written whole (a temporary file renamed) so that a script
 * polling for the file never reads half of it. */
static void write_port_file(const char *path, uint16_t port)
{
	char tmp[4096];
	FILE *f;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		die("--port-file: path too long");
	f = fopen(tmp, "w");
	if (!f || fprintf(f, "%u\n", port) < 0 || fclose(f) ||
	    rename(tmp, path))
		die("writing %s: %s", path, strerror(errno));
}

static void usage(FILE *f)
{
	fputs("usage: shaper --listen PORT --upstream PORT [--delay-ms N] "
	      "[--rate BYTES/S]\n"
	      "              [--log FILE] [--port-file FILE]\n"
	      "A TCP proxy from 127.0.0.1:PORT (0: any free port) to "
	      "127.0.0.1:UPSTREAM that\nholds each response's first byte "
	      "until DELAY ms after its request and caps\neach connection's "
	      "downstream at RATE bytes/s (K, M, G: 10^3, 10^6, 10^9;\n"
	      "0: unlimited). --log: one line per request (request line, "
	      "Range).\n",
	      f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'},
		{"upstream", required_argument, NULL, 'u'},
		{"delay-ms", required_argument, NULL, 'd'},
		{"rate", required_argument, NULL, 'r'},
		{"log", required_argument, NULL, 'L'},
		{"port-file", required_argument, NULL, 'p'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	static struct config cf = {.log_fd = -1};
	const char *port_file = NULL;
	int have_listen = 0, have_upstream = 0, opt, lfd, sfd;
	uint64_t v;
	unsigned next_id = 0;
	pthread_attr_t attr;
	sigset_t stop;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'l':
		case 'u':
			if (parse_count(optarg, 65535, &v) ||
			    (opt == 'u' && !v))
				die("bad port '%s'", optarg);
			if (opt == 'l') {
				cf.listen_port = (uint16_t)v;
				have_listen = 1;
			} else {
				cf.upstream_port = (uint16_t)v;
				have_upstream = 1;
			}
			break;
		case 'd':
			if (parse_count(optarg, 3600000, &v))
				die("bad --delay-ms '%s'", optarg);
			cf.delay_ns = (int64_t)v * 1000000;
			break;
		case 'r':
			if (parse_count(optarg, 1ULL << 40, &cf.rate))
				die("bad --rate '%s' (bytes/s, e.g. 50M)",
				    optarg);
			break;
		case 'L':
			cf.log_fd =
				open(optarg,
				     O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
				     0644);
			if (cf.log_fd < 0)
				die("%s: %s", optarg, strerror(errno));
			break;
		case 'p':
			port_file = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !have_listen || !have_upstream) {
		usage(stderr);
		return 2;
	}

	/* Threads inherit the mask: only the signalfd sees SIGTERM/SIGINT;
	 * a peer that went away must not kill us with SIGPIPE. */
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	if (sfd < 0)
		die("signalfd: %s", strerror(errno));

	lfd = listen_on(cf.listen_port, &cf.listen_port);
	if (lfd < 0)
		die("listening on 127.0.0.1:%u: %s", cf.listen_port,
		    strerror(errno));
	cf.t0 = now_ns();
	if (port_file)
		write_port_file(port_file, cf.listen_port);
	fprintf(stderr, "shaper: listening on 127.0.0.1:%u\n", cf.listen_port);

	/* Buffers are on the heap: a small stack lets hundreds of
	 * connections run. */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 128 * 1024);
	for (;;) {
		struct pollfd pf[2] = {{.fd = lfd, .events = POLLIN},
				       {.fd = sfd, .events = POLLIN}};
		struct conn *c;
		pthread_t th;
		int fd, e;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll: %s", strerror(errno));
		}
		if (pf[1].revents)
			break;
		if (!(pf[0].revents & POLLIN))
			continue;
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			/* out of descriptors or an aborted handshake: the
			 * listener itself is fine */
			if (errno != EINTR && errno != ECONNABORTED)
				perror("shaper: accept");
			if (errno == EMFILE || errno == ENFILE)
				usleep(10000);
			continue;
		}
		c = calloc(1, sizeof(*c));
		if (!c) {
			close(fd);
			continue;
		}
		c->cf = &cf;
		c->id = ++next_id;
		count(&totals.conns, 1);
		c->cfd = fd;
		e = pthread_create(&th, &attr, conn_thread, c);
		if (e) {
			fprintf(stderr, "shaper: thread: %s\n", strerror(e));
			close(fd);
			free(c);
		}
	}
	/* Connections still open are cut when the process exits; the log
	 * needs no flush (each line was one write). */
	fprintf(stderr,
		"shaper: stopping: %llu connections, %llu requests, %llu bytes "
		"up, %llu bytes down\n",
		(unsigned long long)__atomic_load_n(&totals.conns,
						    __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&totals.requests,
						    __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&totals.up,
						    __ATOMIC_RELAXED),
		(unsigned long long)__atomic_load_n(&totals.down,
						    __ATOMIC_RELAXED));
	close(lfd);
	return 0;
}
