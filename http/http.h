/* SPDX-License-Identifier: MIT */
/*
 * http.h - the HTTP/1.1 client's public interface: URLs, connections,
 * requests and responses.
 *
 * Nothing here prints or exits; functions return 0 or a count on success
 * and -errno on failure.
 */
#ifndef S3ROOT_HTTP_H
#define S3ROOT_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define URL_MAX_HOST 255 /* RFC 1035 2.3.4: a name is at most 255 octets */
#define URL_MAX_PATH 4096

/* An http or https URL, split. */
struct url {
	int tls;		     /* https */
	char host[URL_MAX_HOST + 1]; /* a name or an address, without [] */
	int host_is_ip;		     /* an IPv4 or IPv6 literal */
	int ipv6;		     /* written as [addr] */
	uint16_t port;		     /* explicit or the scheme's default */
	int port_given;		     /* the URL named a port */
	char path[URL_MAX_PATH + 1]; /* "/..." and the query, as given */
};

/*
 * Parses an absolute http:// or https:// URL (RFC 3986 3; userinfo,
 * fragments, and paths with spaces, controls or 8-bit bytes are refused).
 * The path keeps its encoding; an empty path is "/". Returns 0 or -EINVAL.
 */
int url_parse(const char *s, struct url *u);

/*
 * Writes the Host header value for u: the host, bracketed for IPv6, and
 * ":port" unless it is the scheme's default. Returns the length, or
 * -ENOSPC.
 */
int url_host_header(const struct url *u, char *out, size_t outlen);

/* ---- clients, connections and their pool (conn.c; TLS: tls_*.c) ---- */

struct addrinfo;
/* getaddrinfo(3) and freeaddrinfo(3), or a test's stand-ins */
typedef int http_lookup_fn(const char *host, const char *port,
			   const struct addrinfo *hints, struct addrinfo **res);
typedef void http_lookup_free_fn(struct addrinfo *res);

struct http_client_config {
	int connect_timeout_ms; /* TCP connect and TLS handshake */
	int io_timeout_ms;	/* each read, and each send as a whole */
	const char *resolve;	/* "HOST:ADDR": connect to ADDR for HOST */
	const char *ca_file;	/* PEM bundle; NULL: the system's */
	int insecure;		/* skip certificate verification */
	int64_t min_time;	/* certificates are checked at max(now, this) */
	unsigned max_idle;	/* idle connections kept (at most 256) */
	int idle_timeout_ms;	/* an idle connection older is not reused */
	/*
	 * Beyond keep_idle idle connections (0: no limit but max_idle), one
	 * idle for trim_ms is closed, the longest idle first: a pool grown
	 * for a burst shrinks back once the burst is over.
	 */
	unsigned keep_idle;
	int trim_ms;
	/*
	 * Told (once each) when a host's name stops resolving and its last
	 * good addresses are used instead, and when it resolves again: msg
	 * is one line without a newline. Called from the connecting
	 * thread, no lock held; NULL: not told.
	 */
	void (*note)(void *arg, const char *msg);
	void *note_arg;
	/* While a name fails, it is looked up again at most once per this
	 * (0: 5000 ms): with no DNS server answering a lookup takes seconds */
	int relookup_ms;
	/* Name lookups: NULL for getaddrinfo(3) and freeaddrinfo(3). */
	http_lookup_fn *lookup;
	http_lookup_free_fn *lookup_free;
};

struct http_client;
struct http_conn;

/*
 * A client holds a copy of the configuration (its strings are not kept),
 * the TLS trust anchors (loaded once) and the pool of idle keep-alive
 * connections. It is safe to use from several threads. Returns 0, or
 * -errno with the cause in err (a bad resolve; a ca_file that cannot be
 * read or holds no usable certificate). Without ca_file, a missing or bad
 * system CA bundle is an error only when a TLS connection is opened.
 */
int http_client_new(struct http_client **c,
		    const struct http_client_config *cfg, char *err,
		    size_t errlen);
void http_client_free(struct http_client *c);

/*
 * Name resolution. Every new connection looks its host's name up again
 * (addresses move: S3 answers with many and rotates them), except a host
 * given an address by resolve. When a lookup fails, the addresses of the
 * host's last lookup that led to a connection are tried instead (the one
 * that connected first), and the name is looked up again for a later
 * connection, at most once per relookup_ms while it keeps failing.
 */
struct http_client_stats {
	uint64_t lookups;	     /* name lookups for new connections */
	uint64_t lookup_failures;    /* of those, failed */
	uint64_t last_good_connects; /* connections to last good addresses */
	/* a host whose name does not resolve now, and the first of its
	 * last good addresses, in use instead ("" and "" when none) */
	char unresolved[URL_MAX_HOST + 1];
	char last_good[48];
	unsigned open, idle; /* connections open now; of those, idle */
	uint64_t opened;     /* connections opened so far */
};

/* The client's figures so far (a consistent copy; any thread). */
void http_client_stats(struct http_client *c, struct http_client_stats *st);

/*
 * Closes the idle connections beyond keep_idle that were idle for
 * trim_ms, and those past idle_timeout_ms (the pool does it when a
 * connection is given back too; this is for a client with no traffic).
 * Any thread.
 */
void http_client_trim(struct http_client *c);

/*
 * Whether a connection has bytes to read (buffered, or on its socket: the
 * first byte of an answer): waits up to timeout_ms for the first of the n
 * conns (NULL entries skipped) that has some. Returns its index, or
 * -ETIMEDOUT, or -errno from poll(2). A connection that was closed or
 * reset counts as readable (its read says so).
 */
int http_conns_wait(struct http_conn *const *conns, unsigned n, int timeout_ms);

/*
 * A connection to u's host and port (TLS for https): an idle one from the
 * pool when there is one, else a new one. Returns 0, or -errno with the
 * cause in err: -ENOENT (DNS), -ECONNREFUSED, -ETIMEDOUT, -EHOSTUNREACH,
 * -EPROTO (TLS: an alert, a refused certificate), -EINVAL (no CA bundle;
 * TLS to an address, unless insecure: name the host and give the address
 * with resolve).
 */
int http_conn_get(struct http_client *c, const struct url *u,
		  struct http_conn **conn, char *err, size_t errlen);
/* Whether the connection came from the pool (it may have gone stale). */
int http_conn_reused(const struct http_conn *conn);
/*
 * Gives a connection back (NULL is ignored): kept for reuse when reuse is
 * set, the last response was read to its end, the server keeps it open and
 * the pool has room; else closed.
 */
void http_conn_put(struct http_client *c, struct http_conn *conn, int reuse);

/* Sends all of buf. 0 or -errno (-ETIMEDOUT, -EPIPE, -EPROTO ...). */
int http_send(struct http_conn *conn, const char *buf, size_t len);

/*
 * Reads a response head, skipping 1xx interim responses. 0 or -errno
 * (-EBADMSG malformed, -ECONNRESET closed before a response).
 */
struct http_response;
int http_read_head(struct http_conn *conn, struct http_response *r,
		   int is_head);

/*
 * Reads body bytes of the response into buf; returns the count, 0 at the
 * end of the body, or -errno (-EBADMSG, -ECONNRESET on a short body).
 */
long http_read_body(struct http_conn *conn, struct http_response *r, void *buf,
		    size_t len);

/*
 * Why the last send or read on conn failed (a TLS alert, a malformed
 * response), or "". A failure to connect is described by http_conn_get.
 */
const char *http_conn_error(const struct http_conn *conn);

/* ---- responses (response.c, chunked.c) ---- */

#define HTTP_MAX_HEAD 16384 /* status line and headers, CRLFs included */
#define HTTP_MAX_HEADERS 64

enum http_body {
	HTTP_BODY_NONE,	   /* HEAD, 1xx, 204, 304 */
	HTTP_BODY_LENGTH,  /* Content-Length bytes */
	HTTP_BODY_CHUNKED, /* Transfer-Encoding: chunked */
	HTTP_BODY_CLOSE,   /* until the server closes */
};

struct http_header {
	const char *name; /* NUL-terminated, inside the response's head */
	const char *value;
};

struct http_response {
	int status;
	int minor; /* HTTP/1.minor */
	int close; /* the server will close after this response */
	enum http_body body;
	uint64_t length; /* HTTP_BODY_LENGTH */
	struct http_header headers[HTTP_MAX_HEADERS];
	size_t nheaders;
	char head[HTTP_MAX_HEAD + 1]; /* the parsed head, fields split */
};

/*
 * Parses a response head (RFC 9112 sections 2-6) from buf. Returns the
 * number of bytes it took (the body follows), 0 when the head is not
 * complete yet, or -EBADMSG when it is malformed or over the caps. For a
 * response to HEAD pass is_head, so that no body is expected.
 */
long http_parse_head(const char *buf, size_t len, int is_head,
		     struct http_response *r);

/* The first header called name (ASCII case-insensitive), or NULL. */
const char *http_header(const struct http_response *r, const char *name);

/*
 * Chunked transfer coding (RFC 9112 section 7.1), decoded incrementally.
 * Zero-initialise. Each call decodes from in (consumed bytes reported in
 * *used) into out; returns the bytes written, or -EBADMSG. done is set
 * once the last chunk and the trailer section have been read.
 */
struct http_chunked {
	int state;
	int done;
	uint64_t left; /* bytes left in this chunk */
	unsigned line; /* length of the current size or trailer line */
	unsigned ndig; /* hex digits seen */
};

long http_chunked_decode(struct http_chunked *c, const char *in, size_t len,
			 size_t *used, char *out, size_t outlen);

#endif
