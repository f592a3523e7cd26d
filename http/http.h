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
 * Parses an absolute http:// or https:// URL (RFC 3986 3; userinfo and
 * fragments are refused). The path keeps its encoding; an empty path is
 * "/". Returns 0 or -EINVAL.
 */
int url_parse(const char *s, struct url *u);

/*
 * Writes the Host header value for u: the host, bracketed for IPv6, and
 * ":port" unless it is the scheme's default. Returns the length, or
 * -ENOSPC.
 */
int url_host_header(const struct url *u, char *out, size_t outlen);

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
