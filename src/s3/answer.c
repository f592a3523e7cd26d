/* SPDX-License-Identifier: MIT */
/*
 * s3resp.c - reading S3's answers: XML error bodies (<Error><Code>NoSuchKey
 * </Code><Message>...</Message><Region>...</Region></Error>: only the
 * simple text elements we report are read, lengths bounded, control
 * characters replaced), Content-Range, and the clock offset from Date.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/sigv2.h"
#include "src/s3/s3.h"

/* One XML entity at p (after '&'); its character, or 0 if unknown. */
static char entity(const char *p, const char *end, size_t *len)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = {{"amp;", '&'},
		    {"lt;", '<'},
		    {"gt;", '>'},
		    {"quot;", '"'},
		    {"apos;", '\''}};
	size_t i, n;

	for (i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
		n = strlen(ents[i].name);
		if ((size_t)(end - p) >= n && !memcmp(p, ents[i].name, n)) {
			*len = n;
			return ents[i].c;
		}
	}
	return 0;
}

/* The text of the first <tag>...</tag> inside [p, end) into out. */
static void element(const char *p, const char *end, const char *tag, char *out,
		    size_t outlen)
{
	char open[32], close[32];
	const char *s, *e;
	size_t o = 0, n;
	char c;

	out[0] = '\0';
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	s = memmem(p, (size_t)(end - p), open, strlen(open));
	if (!s)
		return;
	s += strlen(open);
	e = memmem(s, (size_t)(end - s), close, strlen(close));
	if (!e)
		return;
	while (s < e && o + 1 < outlen) {
		c = *s++;
		if (c == '&') {
			c = entity(s, e, &n);
			if (c)
				s += n;
			else
				c = '&';
		}
		out[o++] = (unsigned char)c < 0x20 || c == 0x7f ? '?' : c;
	}
	out[o] = '\0';
}

int s3_error_parse(const char *body, size_t len, struct s3_error *e)
{
	const char *end = body + len, *p;

	memset(e, 0, sizeof(*e));
	p = memmem(body, len, "<Error>", 7);
	if (!p)
		return -EINVAL;
	element(p, end, "Code", e->code, sizeof(e->code));
	element(p, end, "Message", e->message, sizeof(e->message));
	element(p, end, "Region", e->region, sizeof(e->region));
	element(p, end, "Endpoint", e->endpoint, sizeof(e->endpoint));
	return e->code[0] ? 0 : -EINVAL;
}

int s3_parse_content_range(const char *s, uint64_t *start, uint64_t *end,
			   uint64_t *total)
{
	char *e;

	/* "bytes START-END/TOTAL" (RFC 9110 14.4); digits only, no spaces */
	if (!s || strncmp(s, "bytes ", 6))
		return -EINVAL;
	s += 6;
	if (*s < '0' || *s > '9' || strlen(s) > 64)
		return -EINVAL;
	errno = 0;
	*start = strtoull(s, &e, 10);
	if (*e != '-' || e[1] < '0' || e[1] > '9')
		return -EINVAL;
	*end = strtoull(e + 1, &e, 10);
	if (*e != '/' || e[1] < '0' || e[1] > '9')
		return -EINVAL;
	*total = strtoull(e + 1, &e, 10);
	if (*e || errno || *start > *end || *end >= *total)
		return -EINVAL;
	return 0;
}

int s3_clock_offset(const char *date, int64_t sent_at, int64_t *offset)
{
	int64_t server, off;

	if (!date || sig_parse_http_date(date, &server))
		return 0;
	off = server - sent_at;
	if (off - *offset < S3_SKEW_LIMIT && *offset - off < S3_SKEW_LIMIT)
		return 0;
	*offset = off;
	return 1;
}
