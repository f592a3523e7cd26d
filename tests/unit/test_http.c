/* SPDX-License-Identifier: MIT */
/*
 * test_http.c - response heads, the chunked decoder, CA bundles, the
 * last good addresses of a name that stops resolving, and the pool: the
 * first of several connections to answer, idle connections trimmed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "http/http.h"
#include "util/util.h"
#include "tests/unit/unit.h"

static struct http_response resp; /* large: not on the stack */

static long parse(const char *s, int is_head)
{
	return http_parse_head(s, strlen(s), is_head, &resp);
}

static void test_head_good(void)
{
	const char *s = "HTTP/1.1 206 Partial Content\r\n"
			"Content-Range: bytes 0-9/100\r\n"
			"content-length:  10 \r\n"
			"ETag: \"abc\"\r\n"
			"X-Folded: a\r\n  b\r\n"
			"\r\nBODY";

	CHECK_INT(parse(s, 0), (long)(strstr(s, "BODY") - s));
	CHECK_INT(resp.status, 206);
	CHECK_INT(resp.minor, 1);
	CHECK_INT(resp.body, HTTP_BODY_LENGTH);
	CHECK_INT(resp.length, 10);
	CHECK_INT(resp.close, 0);
	CHECK_STR(http_header(&resp, "CONTENT-RANGE"), "bytes 0-9/100");
	CHECK_STR(http_header(&resp, "etag"), "\"abc\"");
	CHECK_STR(http_header(&resp, "x-folded"), "a    b");
	CHECK(http_header(&resp, "missing") == NULL);

	CHECK(parse("HTTP/1.1 200 OK\r\nTransfer-Encoding: Chunked\r\n"
		    "Connection: keep-alive, Close\r\n\r\n",
		    0) > 0);
	CHECK_INT(resp.body, HTTP_BODY_CHUNKED);
	CHECK_INT(resp.close, 1);
	CHECK(parse("HTTP/1.0 200 OK\r\n\r\n", 0) > 0);
	CHECK_INT(resp.body, HTTP_BODY_CLOSE);
	CHECK_INT(resp.close, 1);
	CHECK(parse("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
		    "Content-Length: 0\r\n\r\n",
		    0) > 0);
	CHECK_INT(resp.close, 0);
	/* HEAD, 1xx, 204 and 304 have no body whatever they say */
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", 1) > 0);
	CHECK_INT(resp.body, HTTP_BODY_NONE);
	CHECK_INT(resp.length, 5);
	CHECK(parse("HTTP/1.1 100 Continue\r\n\r\n", 0) > 0);
	CHECK_INT(resp.body, HTTP_BODY_NONE);
	CHECK(parse("HTTP/1.1 304\r\n\r\n", 0) > 0);
	CHECK_INT(resp.status, 304);
	/* repeated equal lengths are one length */
	CHECK(parse("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n"
		    "Content-Length: 7\r\n\r\n",
		    0) > 0);
}

static void test_head_incomplete(void)
{
	CHECK_INT(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n", 0), 0);
	CHECK_INT(parse("", 0), 0);
	CHECK_INT(parse("HTTP/1.1 200 OK\r\n\r", 0), 0);
}

static const char *const bad_heads[] = {
	"HTTP/2 200 OK\r\n\r\n",
	"HTTP/1.1 20 OK\r\n\r\n",
	"HTTP/1.1 2000 OK\r\n\r\n",
	"HTTP/1.1 600 Nope\r\n\r\n",
	"HTTP/1.1  200 OK\r\n\r\n",
	"ICY 200 OK\r\n\r\n",
	"HTTP/1.1 200 OK\r\n folded-first: x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nName : v\r\n\r\n",
	"HTTP/1.1 200 OK\r\n: v\r\n\r\n",
	"HTTP/1.1 200 OK\r\nNo-Colon\r\n\r\n",
	"HTTP/1.1 200 OK\r\nBad\x01Name: v\r\n\r\n",
	"HTTP/1.1 200 OK\r\nA: v\x01w\r\n\r\n",
	"HTTP/1.1 200 OK\r\nA: bare\nlf\r\n\r\n",
	"HTTP/1.1 200 OK\r\nA: bare\rcr\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	"Content-Length: 3\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	"Transfer-Encoding: chunked\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
};

static void test_head_bad(void)
{
	char *big;
	size_t i;

	for (i = 0; i < sizeof(bad_heads) / sizeof(bad_heads[0]); i++)
		if (!CHECK_INT(parse(bad_heads[i], 0), -EBADMSG))
			fprintf(stderr, "    accepted: %s\n", bad_heads[i]);
	/* a NUL inside the head */
	CHECK_INT(http_parse_head("HTTP/1.1 200 OK\r\nA: \0\r\n\r\n", 25, 0,
				  &resp),
		  -EBADMSG);
	/* over the caps: head size and header count */
	big = malloc(HTTP_MAX_HEAD + 64);
	memset(big, 'a', HTTP_MAX_HEAD + 63);
	memcpy(big, "HTTP/1.1 200 OK\r\nX: ", 20);
	big[HTTP_MAX_HEAD + 63] = '\0';
	CHECK_INT(parse(big, 0), -EBADMSG);
	strcpy(big, "HTTP/1.1 200 OK\r\n");
	for (i = 0; i <= HTTP_MAX_HEADERS; i++)
		strcat(big, "A: b\r\n");
	strcat(big, "\r\n");
	CHECK_INT(parse(big, 0), -EBADMSG);
	free(big);
}

/* Decodes all of in, fed in pieces of step bytes, into out. */
static long decode_all(const char *in, size_t len, size_t step, char *out,
		       size_t outlen, int *done)
{
	struct http_chunked c = {0};
	size_t off = 0, used, o = 0;
	long n;

	while (off < len && !c.done) {
		size_t piece = len - off < step ? len - off : step;

		n = http_chunked_decode(&c, in + off, piece, &used, out + o,
					outlen - o);
		if (n < 0)
			return n;
		o += (size_t)n;
		off += used;
		if (!used && !n)
			break; /* out is full */
	}
	*done = c.done;
	return (long)o;
}

static void test_chunked(void)
{
	const char *in = "4\r\nWiki\r\n5;ext=1\r\npedia\r\nE\r\n in\r\n\r\n"
			 "chunks.\r\n000\r\nTrailer: x\r\n\r\n";
	const char *want = "Wikipedia in\r\n\r\nchunks.";
	char out[64];
	size_t step;
	int done;

	for (step = 1; step <= strlen(in); step++) {
		long n = decode_all(in, strlen(in), step, out, sizeof(out),
				    &done);

		if (!CHECK_INT(n, (long)strlen(want)) || !CHECK(done) ||
		    !CHECK_MEM(out, (size_t)n, want, strlen(want)))
			fprintf(stderr, "    step %zu\n", step);
	}
	/* a small output buffer: decoding stops and resumes */
	{
		struct http_chunked c = {0};
		size_t used;

		CHECK_INT(
			http_chunked_decode(&c, in, strlen(in), &used, out, 3),
			3);
		CHECK_INT(used, 6);
		CHECK_MEM(out, 3, "Wik", 3);
	}
	CHECK_INT(decode_all("0\r\n\r\n", 5, 5, out, sizeof(out), &done), 0);
	CHECK(done);
}

static const char *const bad_chunks[] = {
	"\r\n",
	"x\r\n",
	"4\nWiki\r\n0\r\n\r\n",
	"4\r\nWikiX\r\n0\r\n\r\n",
	"4\r\nWiki\rX",
	"11111111111111111\r\n",
	"-1\r\n",
	"0\r\nTrailer\nx\r\n\r\n",
	"0\r\n\rX",
	"4;a\nb\r\n",
};

static void test_chunked_bad(void)
{
	char out[64], *line;
	size_t i;
	int done;

	for (i = 0; i < sizeof(bad_chunks) / sizeof(bad_chunks[0]); i++)
		if (!CHECK_INT(decode_all(bad_chunks[i], strlen(bad_chunks[i]),
					  1, out, sizeof(out), &done),
			       -EBADMSG))
			fprintf(stderr, "    accepted chunk %zu\n", i);
	/* an endless extension or trailer is cut off */
	line = malloc(20000);
	memset(line, 'a', 19999);
	line[19999] = '\0';
	memcpy(line, "1;", 2);
	CHECK_INT(decode_all(line, strlen(line), 4096, out, sizeof(out), &done),
		  -EBADMSG);
	memcpy(line, "0\r\nX: ", 6);
	CHECK_INT(decode_all(line, strlen(line), 4096, out, sizeof(out), &done),
		  -EBADMSG);
	free(line);
}

/* CA bundles as they come: each loads, or fails with its message. */
static void test_ca_bundles(void)
{
	static const struct {
		const char *file;
		const char *msg; /* NULL: it loads */
	} cases[] = {
		{"ca-bundle.pem", NULL},     /* two, with comments between */
		{"ca-crlf.pem", NULL},	     /* edited on Windows */
		{"ca-no-newline.pem", NULL}, /* the last line unterminated */
		{"ca-trusted.pem", NULL},    /* OpenSSL's TRUSTED CERTIFICATE */
		{"ca-none.pem", "no certificates (expected PEM \"BEGIN "
				"CERTIFICATE\" blocks)"},
		{"ca-undecodable.pem", "none of its 1 certificates could be "
				       "decoded"},
		{"ca-malformed.pem", "malformed PEM at line 2"},
	};
	struct http_client_config cfg = {.connect_timeout_ms = 1000};
	struct http_client *c;
	char path[512], err[600], want[700];
	size_t i;
	int r;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", unit_vectors_dir,
			 cases[i].file);
		cfg.ca_file = path;
		err[0] = '\0';
		r = http_client_new(&c, &cfg, err, sizeof(err));
		if (!cases[i].msg) {
			if (!CHECK_INT(r, 0))
				fprintf(stderr, "    %s: %s\n", path, err);
			else
				http_client_free(c);
			continue;
		}
		snprintf(want, sizeof(want), "CA bundle %s: %s", path,
			 cases[i].msg);
		CHECK_INT(r, -EINVAL);
		CHECK_STR(err, want);
	}
}

/*
 * A stand-in for getaddrinfo: the addresses in fake_addrs (none: the
 * lookup fails with EAI_AGAIN, as with no DNS server answering), each
 * with the asked port; numeric hosts as they are. It counts its calls.
 */
static const char *fake_addrs[4];
static unsigned fake_calls;
static struct addrinfo fake_ai[4];
static struct sockaddr_in fake_sa[4];

static int fake_lookup(const char *host, const char *port,
		       const struct addrinfo *hints, struct addrinfo **res)
{
	const char *one[2] = {host, NULL};
	const char *const *list = fake_addrs;
	unsigned i;

	if (hints->ai_flags & AI_NUMERICHOST)
		list = one;
	else
		fake_calls++;
	for (i = 0; i < 4 && list[i]; i++) {
		memset(&fake_sa[i], 0, sizeof(fake_sa[i]));
		fake_sa[i].sin_family = AF_INET;
		fake_sa[i].sin_port = htons((uint16_t)atoi(port));
		if (inet_pton(AF_INET, list[i], &fake_sa[i].sin_addr) != 1)
			return EAI_NONAME;
		fake_ai[i] = (struct addrinfo){
			.ai_family = AF_INET,
			.ai_socktype = SOCK_STREAM,
			.ai_addrlen = sizeof(fake_sa[i]),
			.ai_addr = (struct sockaddr *)&fake_sa[i],
			.ai_next =
				i < 3 && list[i + 1] ? &fake_ai[i + 1] : NULL,
		};
	}
	if (!i)
		return EAI_AGAIN;
	*res = fake_ai;
	return 0;
}

static void fake_free(struct addrinfo *res)
{
	(void)res;
}

static char notes[4][400];
static unsigned nnotes;

static void note(void *arg, const char *msg)
{
	(void)arg;
	if (nnotes < 4)
		snprintf(notes[nnotes], sizeof(notes[0]), "%s", msg);
	nnotes++;
}

/* A connection to url (closed at once): 0 or -errno, the cause in err. */
static int connect_once(struct http_client *c, const char *url, char *err,
			size_t errlen)
{
	struct http_conn *conn;
	struct url u;
	int r;

	if (url_parse(url, &u))
		return -EINVAL;
	err[0] = '\0';
	r = http_conn_get(c, &u, &conn, err, errlen);
	if (!r)
		http_conn_put(c, conn, 0);
	return r;
}

/*
 * Every new connection looks the name up; when the lookup fails, the
 * addresses of the last lookup that connected are used (said once), the
 * name is looked up again at most once per relookup_ms, and it is said
 * when it resolves again. A real listener on 127.0.0.1; nothing listens
 * on 127.0.0.2.
 */
static void test_last_good(void)
{
	struct http_client_config cfg = {
		.connect_timeout_ms = 2000,
		.io_timeout_ms = 2000,
		.note = note,
		.relookup_ms = 400,
		.lookup = fake_lookup,
		.lookup_free = fake_free,
		.resolve = "pinned.test:127.0.0.1",
	};
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct http_client_stats st;
	struct http_client *c;
	char url[64], other[64], pinned[64], err[600], want[400];
	struct timespec wait = {0, 500 * 1000000};
	int64_t t0;
	int lfd;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!CHECK(lfd >= 0 && !bind(lfd, (struct sockaddr *)&sa, sl) &&
		   !listen(lfd, 64) &&
		   !getsockname(lfd, (struct sockaddr *)&sa, &sl)))
		return;
	snprintf(url, sizeof(url), "http://s3.test:%u/",
		 (unsigned)ntohs(sa.sin_port));
	snprintf(other, sizeof(other), "http://other.test:%u/",
		 (unsigned)ntohs(sa.sin_port));
	snprintf(pinned, sizeof(pinned), "http://pinned.test:%u/",
		 (unsigned)ntohs(sa.sin_port));
	if (!CHECK_INT(http_client_new(&c, &cfg, err, sizeof(err)), 0))
		goto out_close;
	nnotes = fake_calls = 0;

	/* it resolves: each new connection looks it up */
	fake_addrs[0] = "127.0.0.1";
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	CHECK_INT(fake_calls, 2);
	/* a name that never resolved has no last good addresses */
	fake_addrs[0] = NULL;
	CHECK_INT(connect_once(c, other, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "cannot resolve other.test: %s",
		 gai_strerror(EAI_AGAIN));
	CHECK_STR(err, want);
	/* s3.resolve's host is not looked up */
	CHECK_INT(connect_once(c, pinned, err, sizeof(err)), 0);
	CHECK_INT(fake_calls, 3);

	/* it stops resolving: its last good address, said once */
	t0 = util_mono_ms();
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	/* looked up once, unless the second came after relookup_ms */
	if (util_mono_ms() - t0 < cfg.relookup_ms)
		CHECK_INT(fake_calls, 4);
	CHECK_INT(nnotes, 1);
	snprintf(want, sizeof(want),
		 "cannot resolve s3.test: %s; connecting to its last good "
		 "addresses (127.0.0.1) until it resolves again",
		 gai_strerror(EAI_AGAIN));
	CHECK_STR(notes[0], want);
	http_client_stats(c, &st);
	CHECK_INT(st.last_good_connects, 2);
	CHECK_STR(st.unresolved, "s3.test");
	CHECK_STR(st.last_good, "127.0.0.1");
	/* looked up again after relookup_ms: still failing, not said again */
	nanosleep(&wait, NULL);
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	CHECK(fake_calls >= 5);
	CHECK_INT(nnotes, 1);

	/* it resolves again, to a dead address and the live one: said; the
	 * one that connected becomes the first last good address */
	nanosleep(&wait, NULL);
	fake_addrs[0] = "127.0.0.2";
	fake_addrs[1] = "127.0.0.1";
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	CHECK_INT(nnotes, 2);
	CHECK_STR(notes[1], "s3.test resolves again (127.0.0.2 and 1 more)");
	http_client_stats(c, &st);
	CHECK_STR(st.unresolved, "");
	/* a lookup whose addresses do not connect is not a good one */
	fake_addrs[1] = NULL;
	CHECK_INT(connect_once(c, url, err, sizeof(err)), -ECONNREFUSED);
	fake_addrs[0] = NULL;
	CHECK_INT(connect_once(c, url, err, sizeof(err)), 0);
	http_client_stats(c, &st);
	CHECK_STR(st.unresolved, "s3.test");
	CHECK_STR(st.last_good, "127.0.0.1");
	CHECK_INT(nnotes, 3);
	snprintf(want, sizeof(want),
		 "cannot resolve s3.test: %s; connecting to its last good "
		 "addresses (127.0.0.1 and 1 more) until it resolves again",
		 gai_strerror(EAI_AGAIN));
	CHECK_STR(notes[2], want);
	/* the last good addresses that fail too: both causes said */
	close(lfd);
	lfd = -1;
	CHECK_INT(connect_once(c, url, err, sizeof(err)), -ECONNREFUSED);
	CHECK(strstr(err, "its last good address: the name does not resolve"));
	http_client_stats(c, &st);
	CHECK(st.lookup_failures >= 4);
	http_client_free(c);
out_close:
	if (lfd >= 0)
		close(lfd);
	memset(fake_addrs, 0, sizeof(fake_addrs));
}

/* A server for test_pool: accepts three connections, then answers each
 * one request, in the order 2nd, 1st, 3rd, 100 ms apart. */
struct tiny {
	int lfd, fd[3];
};

static void *tiny_serve(void *arg)
{
	static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
	static const int order[3] = {1, 0, 2};
	struct timespec gap = {0, 100 * 1000000};
	struct tiny *t = arg;
	char buf[512];
	int i;

	for (i = 0; i < 3; i++)
		t->fd[i] = accept(t->lfd, NULL, NULL);
	for (i = 0; i < 3; i++) {
		int fd = t->fd[order[i]];

		if (fd < 0 || read(fd, buf, sizeof(buf)) <= 0 ||
		    write(fd, ok, sizeof(ok) - 1) < 0)
			break;
		nanosleep(&gap, NULL);
	}
	return NULL;
}

/*
 * http_conns_wait names the first connection with an answer; idle
 * connections beyond keep_idle close once idle for trim_ms (the longest
 * idle first), and the figures count them.
 */
static void test_pool(void)
{
	struct http_client_config cfg = {
		.connect_timeout_ms = 2000,
		.io_timeout_ms = 2000,
		.max_idle = 8,
		.idle_timeout_ms = 10000,
		.keep_idle = 1,
		.trim_ms = 100,
	};
	static const char req[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	struct timespec nap = {0, 150 * 1000000};
	struct http_client_stats st;
	struct http_client *c = NULL;
	struct http_conn *conn[3] = {NULL, NULL, NULL};
	struct tiny t = {-1, {-1, -1, -1}};
	pthread_t th;
	char url[64], err[300];
	struct url u;
	int i, started = 0;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	t.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!CHECK(t.lfd >= 0 && !bind(t.lfd, (struct sockaddr *)&sa, sl) &&
		   !listen(t.lfd, 8) &&
		   !getsockname(t.lfd, (struct sockaddr *)&sa, &sl)))
		goto out;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/",
		 (unsigned)ntohs(sa.sin_port));
	if (!CHECK_INT(url_parse(url, &u), 0) ||
	    !CHECK_INT(http_client_new(&c, &cfg, err, sizeof(err)), 0))
		goto out;
	for (i = 0; i < 3; i++)
		if (!CHECK_INT(http_conn_get(c, &u, &conn[i], err, sizeof(err)),
			       0))
			goto out;
	started = !pthread_create(&th, NULL, tiny_serve, &t);
	if (!CHECK(started))
		goto out;
	for (i = 0; i < 3; i++)
		CHECK_INT(http_send(conn[i], req, sizeof(req) - 1), 0);
	/* the second answers first; the third not within 10 ms */
	CHECK_INT(http_conns_wait(conn, 2, 2000), 1);
	CHECK_INT(http_conns_wait(&conn[2], 1, 10), -ETIMEDOUT);
	for (i = 0; i < 3; i++) {
		CHECK_INT(http_read_head(conn[i], &resp, 0), 0);
		CHECK_INT(resp.status, 200);
	}
	http_client_stats(c, &st);
	CHECK_INT(st.open, 3);
	CHECK_INT(st.idle, 0);
	CHECK_INT(st.opened, 3);
	for (i = 0; i < 3; i++) {
		http_conn_put(c, conn[i], 1);
		conn[i] = NULL;
	}
	http_client_stats(c, &st);
	CHECK_INT(st.open, 3);
	CHECK_INT(st.idle, 3);
	/* idle for trim_ms: back to keep_idle */
	nanosleep(&nap, NULL);
	http_client_trim(c);
	http_client_stats(c, &st);
	CHECK_INT(st.open, 1);
	CHECK_INT(st.idle, 1);
out:
	for (i = 0; i < 3; i++)
		if (conn[i])
			http_conn_put(c, conn[i], 0);
	if (started)
		pthread_join(th, NULL);
	http_client_free(c);
	for (i = 0; i < 3; i++)
		if (t.fd[i] >= 0)
			close(t.fd[i]);
	if (t.lfd >= 0)
		close(t.lfd);
}

static const struct unit_test tests[] = {
	{"http_head_good", test_head_good},
	{"http_head_incomplete", test_head_incomplete},
	{"http_head_bad", test_head_bad},
	{"http_chunked", test_chunked},
	{"http_chunked_bad", test_chunked_bad},
	{"http_pool", test_pool},
	{"http_ca_bundles", test_ca_bundles},
	{"http_last_good", test_last_good},
};

UNIT_SUITE(http, tests);
