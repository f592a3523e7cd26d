/* SPDX-License-Identifier: MIT */
/*
 * response.c - HTTP/1.1 response heads (RFC 9112 sections 4-6): the status
 * line, header fields, and how long the body is. Strict: what is not
 * understood is an error, never a guess.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "http/http.h"

/* RFC 9110 5.6.2: token characters. */
static int tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int ows(char c)
{
	return c == ' ' || c == '\t';
}

/* "HTTP/1.x SP 3DIGIT [SP reason]" (RFC 9112 4). */
static int parse_status(char *line, struct http_response *r)
{
	char *p;

	if (strncmp(line, "HTTP/1.", 7) || line[7] < '0' || line[7] > '9' ||
	    line[8] != ' ')
		return -EBADMSG;
	r->minor = line[7] - '0';
	p = line + 9;
	if (p[0] < '1' || p[0] > '5' || p[1] < '0' || p[1] > '9' ||
	    p[2] < '0' || p[2] > '9' || (p[3] && p[3] != ' '))
		return -EBADMSG;
	r->status = (p[0] - '0') * 100 + (p[1] - '0') * 10 + (p[2] - '0');
	for (p += 3; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return -EBADMSG;
	return 0;
}

/* A field line "name: value"; splits it in place (RFC 9112 5). */
static int parse_field(char *line, struct http_response *r)
{
	char *colon = line, *v, *end;

	while (tchar((unsigned char)*colon))
		colon++;
	/* no whitespace between name and colon (RFC 9112 5.1) */
	if (colon == line || *colon != ':')
		return -EBADMSG;
	*colon = '\0';
	v = colon + 1;
	while (ows(*v))
		v++;
	end = v + strlen(v);
	while (end > v && ows(end[-1]))
		end--;
	*end = '\0';
	for (end = v; *end; end++)
		if (((unsigned char)*end < 0x20 && *end != '\t') ||
		    *end == 0x7f)
			return -EBADMSG;
	if (r->nheaders == HTTP_MAX_HEADERS)
		return -EBADMSG;
	r->headers[r->nheaders].name = line;
	r->headers[r->nheaders++].value = v;
	return 0;
}

const char *http_header(const struct http_response *r, const char *name)
{
	size_t i;

	for (i = 0; i < r->nheaders; i++)
		if (!strcasecmp(r->headers[i].name, name))
			return r->headers[i].value;
	return NULL;
}

static int parse_length(const char *s, uint64_t *v)
{
	uint64_t n = 0;

	if (!*s)
		return -EBADMSG;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || __builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
			return -EBADMSG;
	}
	*v = n;
	return 0;
}

/* Does the comma-separated list hold token (case-insensitive)? */
static int has_token(const char *list, const char *token)
{
	size_t n = strlen(token), len;

	while (*list) {
		while (ows(*list) || *list == ',')
			list++;
		len = strcspn(list, ",");
		while (len && ows(list[len - 1]))
			len--;
		if (len == n && !strncasecmp(list, token, n))
			return 1;
		list += strcspn(list, ",");
	}
	return 0;
}

/* Message body length (RFC 9112 6.3). */
static int body_framing(struct http_response *r, int is_head)
{
	const char *te = NULL, *conn;
	int have_len = 0;
	uint64_t len;
	size_t i;

	for (i = 0; i < r->nheaders; i++) {
		const char *n = r->headers[i].name, *v = r->headers[i].value;

		if (!strcasecmp(n, "content-length")) {
			/* repeated lengths must agree (no list syntax) */
			if (parse_length(v, &len) ||
			    (have_len && len != r->length))
				return -EBADMSG;
			r->length = len;
			have_len = 1;
		} else if (!strcasecmp(n, "transfer-encoding")) {
			/* we ask for no codings: chunked alone, once */
			if (te || strcasecmp(v, "chunked"))
				return -EBADMSG;
			te = v;
		}
	}
	conn = http_header(r, "connection");
	r->close = r->minor == 0 ? !(conn && has_token(conn, "keep-alive"))
				 : (conn && has_token(conn, "close"));
	if (is_head || r->status < 200 || r->status == 204 ||
	    r->status == 304) {
		r->body = HTTP_BODY_NONE;
		return 0;
	}
	/* both framings at once is how requests get smuggled: refuse */
	if (te && (have_len || r->minor == 0))
		return -EBADMSG;
	if (te) {
		r->body = HTTP_BODY_CHUNKED;
	} else if (have_len) {
		r->body = HTTP_BODY_LENGTH;
	} else {
		r->body = HTTP_BODY_CLOSE;
		r->close = 1;
	}
	return 0;
}

long http_parse_head(const char *buf, size_t len, int is_head,
		     struct http_response *r)
{
	size_t scan = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD, hlen, i;
	const char *end = memmem(buf, scan, "\r\n\r\n", 4);
	char *line, *eol;
	int e;

	if (!end)
		return len >= HTTP_MAX_HEAD ? -EBADMSG : 0;
	hlen = (size_t)(end - buf) + 4;
	if (memchr(buf, '\0', hlen))
		return -EBADMSG;
	r->status = r->minor = r->close = 0;
	r->length = 0;
	r->nheaders = 0;
	memcpy(r->head, buf, hlen - 2);
	r->head[hlen - 2] = '\0'; /* every line now ends in CRLF */
	/* obs-fold: a line starting with SP or HT continues the previous
	 * field's value; replace the CRLF with spaces (RFC 9112 5.2) */
	eol = strstr(r->head, "\r\n");
	if (ows(eol[2]))
		return -EBADMSG; /* a fold right after the status line */
	for (i = (size_t)(eol - r->head) + 2; i + 2 < hlen - 2; i++)
		if (r->head[i] == '\r' && r->head[i + 1] == '\n' &&
		    ows(r->head[i + 2]))
			r->head[i] = r->head[i + 1] = ' ';
	for (line = r->head; *line; line = eol + 2) {
		eol = strstr(line, "\r\n");
		*eol = '\0';
		if (strchr(line, '\r') || strchr(line, '\n'))
			return -EBADMSG; /* a bare CR or LF */
		e = line == r->head ? parse_status(line, r)
				    : parse_field(line, r);
		if (e)
			return e;
	}
	e = body_framing(r, is_head);
	return e ? e : (long)hlen;
}
