/* SPDX-License-Identifier: MIT */
/* format.c - the trace file: its strict parser and its formatter
 * (trace.h has the format). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/trace/trace.h"

/* A cursor over the text: every byte read through it, bounds checked. */
struct cur {
	const char *p, *end;
	unsigned line;
};

/* The next line (without its LF) in *s, *n; -1 when the text ends or the
 * last line has no LF (a cut file). */
static int next_line(struct cur *c, const char **s, size_t *n)
{
	const char *lf;

	if (c->p >= c->end)
		return -1;
	lf = memchr(c->p, '\n', (size_t)(c->end - c->p));
	if (!lf)
		return -1;
	*s = c->p;
	*n = (size_t)(lf - c->p);
	c->p = lf + 1;
	c->line++;
	return 0;
}

/* A decimal number without sign or leading zeros at *s, at most max; it
 * moves *s past it. 0 or -1. */
static int take_num(const char **s, const char *end, uint64_t max, uint64_t *v)
{
	const char *p = *s;
	uint64_t x = 0;

	if (p >= end || *p < '0' || *p > '9' ||
	    (*p == '0' && p + 1 < end && p[1] >= '0' && p[1] <= '9'))
		return -1;
	for (; p < end && *p >= '0' && *p <= '9'; p++)
		if (__builtin_mul_overflow(x, 10, &x) ||
		    __builtin_add_overflow(x, (uint64_t)(*p - '0'), &x))
			return -1;
	if (x > max)
		return -1;
	*s = p;
	*v = x;
	return 0;
}

/* "WORD NUMBER" exactly, the number at most max. 0 or -1. */
static int word_num(const char *s, size_t n, const char *word, uint64_t max,
		    uint64_t *v)
{
	size_t w = strlen(word);
	const char *end = s + n;

	if (n <= w || memcmp(s, word, w) || s[w] != ' ')
		return -1;
	s += w + 1;
	return take_num(&s, end, max, v) || s != end ? -1 : 0;
}

/* An ETag the format can hold: printable, no spaces, 1..255 bytes. */
static int etag_ok(const char *s, size_t n)
{
	size_t i;

	if (!n || n > 255)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return 0;
	return 1;
}

/* The three header lines. 0, or -EINVAL with a message. */
static int parse_head(struct cur *c, struct trace *t, char *err, size_t errlen)
{
	const char *s;
	uint64_t v;
	size_t n;

	if (next_line(c, &s, &n) || word_num(s, n, TRACE_MAGIC, UINT32_MAX, &v))
		return base_fail(err, errlen,
				 "not an s3root trace (no '" TRACE_MAGIC
				 " %d' line)",
				 TRACE_VERSION);
	if (v != TRACE_VERSION)
		return base_fail(err, errlen,
				 "trace version %" PRIu64
				 " (this s3root reads version %d)",
				 v, TRACE_VERSION);
	if (next_line(c, &s, &n) || word_num(s, n, "size", UINT64_MAX, &v) ||
	    !v)
		return base_fail(err, errlen,
				 "line 2: expected 'size BYTES' (not 0)");
	t->size = v;
	if (next_line(c, &s, &n) || n < 5 || memcmp(s, "etag ", 5) ||
	    !etag_ok(s + 5, n - 5))
		return base_fail(err, errlen,
				 "line 3: expected 'etag ETAG' (1 to 255 "
				 "printable characters, no spaces)");
	memcpy(t->etag, s + 5, n - 5);
	t->etag[n - 5] = '\0';
	return 0;
}

/* One read line into *r, checked against the image and the previous
 * read's time. 0, or -EINVAL with a message. */
static int parse_range(const struct cur *c, const char *s, size_t n,
		       const struct trace *t, uint32_t prev_ms,
		       struct trace_range *r, char *err, size_t errlen)
{
	const char *end = s + n;
	uint64_t off, len, ms, last;

	if (take_num(&s, end, UINT64_MAX, &off) || s >= end || *s++ != ' ' ||
	    take_num(&s, end, UINT64_MAX, &len) || s >= end || *s++ != ' ' ||
	    take_num(&s, end, UINT64_MAX, &ms) || s != end)
		return base_fail(err, errlen,
				 "line %u: expected 'OFFSET LENGTH MS' or "
				 "'end COUNT'",
				 c->line);
	if (!len || len > TRACE_MAX_LEN)
		return base_fail(err, errlen,
				 "line %u: a read of %" PRIu64
				 " bytes (1 to %u)",
				 c->line, len, TRACE_MAX_LEN);
	if (__builtin_add_overflow(off, len, &last) || last > t->size)
		return base_fail(err, errlen,
				 "line %u: read %" PRIu64 "+%" PRIu64
				 " is past the image's end (%" PRIu64 ")",
				 c->line, off, len, t->size);
	if (ms > TRACE_MAX_MS || ms < prev_ms)
		return base_fail(err, errlen,
				 "line %u: time %" PRIu64
				 " ms is before the previous read's or "
				 "past a day",
				 c->line, ms);
	*r = (struct trace_range){off, (uint32_t)len, (uint32_t)ms};
	return 0;
}

/* The reads up to "end COUNT" and the end of the text. 0 or -errno. */
static int parse_body(struct cur *c, struct trace *t, char *err, size_t errlen)
{
	size_t cap = 0, n;
	struct trace_range *nr;
	const char *s;
	uint64_t count;
	int r;

	for (;;) {
		if (next_line(c, &s, &n))
			return base_fail(err, errlen,
					 "the trace is cut short after line "
					 "%u (no 'end COUNT' line)",
					 c->line);
		if (n >= 4 && !memcmp(s, "end ", 4))
			break;
		if (t->n == TRACE_MAX_RANGES)
			return base_fail(err, errlen,
					 "more than %u reads in the trace",
					 TRACE_MAX_RANGES);
		if (t->n == cap) {
			cap = cap ? cap * 2 : 256;
			nr = realloc(t->r, cap * sizeof(*nr));
			if (!nr)
				return -ENOMEM;
			t->r = nr;
		}
		r = parse_range(c, s, n, t, t->n ? t->r[t->n - 1].ms : 0,
				&t->r[t->n], err, errlen);
		if (r)
			return r;
		t->n++;
	}
	if (word_num(s, n, "end", TRACE_MAX_RANGES, &count) || count != t->n)
		return base_fail(err, errlen,
				 "line %u: 'end %zu' expected (the number of "
				 "reads)",
				 c->line, t->n);
	if (c->p != c->end)
		return base_fail(err, errlen,
				 "bytes after the 'end' line (line %u)",
				 c->line);
	return 0;
}

int trace_parse(const char *buf, size_t len, struct trace *t, char *err,
		size_t errlen)
{
	struct cur c = {buf, buf + len, 0};
	int r;

	memset(t, 0, sizeof(*t));
	if (len > TRACE_MAX_BYTES) {
		r = base_fail(err, errlen, "a trace of %zu bytes (at most %u)",
			      len, TRACE_MAX_BYTES);
		goto out;
	}
	r = parse_head(&c, t, err, errlen);
	if (!r)
		r = parse_body(&c, t, err, errlen);
out:
	if (r == -ENOMEM)
		base_fail(err, errlen, "out of memory reading a trace");
	if (r)
		trace_free(t);
	return r;
}

void trace_free(struct trace *t)
{
	free(t->r);
	t->r = NULL;
	t->n = 0;
}

uint64_t trace_bytes(const struct trace *t)
{
	uint64_t b = 0;
	size_t i;

	for (i = 0; i < t->n; i++)
		b += t->r[i].len;
	return b;
}

/* Whether the parser takes t: checked before writing a byte. */
static int trace_valid(const struct trace *t)
{
	uint32_t prev = 0;
	size_t i;

	if (!t->size || !etag_ok(t->etag, strlen(t->etag)) ||
	    t->n > TRACE_MAX_RANGES)
		return 0;
	for (i = 0; i < t->n; i++) {
		const struct trace_range *r = &t->r[i];

		if (!r->len || r->len > TRACE_MAX_LEN || r->off > t->size ||
		    r->len > t->size - r->off || r->ms < prev ||
		    r->ms > TRACE_MAX_MS)
			return 0;
		prev = r->ms;
	}
	return 1;
}

int trace_format(const struct trace *t, char **out, size_t *outlen)
{
	/* a line is at most 20 + 1 + 8 + 1 + 8 + 1 digits and spaces */
	size_t cap = 64 + 300 + 40 * t->n + 32, used;
	char *buf;
	size_t i;

	*out = NULL;
	*outlen = 0;
	if (!trace_valid(t))
		return -EINVAL;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	used = (size_t)snprintf(buf, cap, "%s %d\nsize %" PRIu64 "\netag %s\n",
				TRACE_MAGIC, TRACE_VERSION, t->size, t->etag);
	for (i = 0; i < t->n; i++)
		used += (size_t)snprintf(buf + used, cap - used,
					 "%" PRIu64 " %" PRIu32 " %" PRIu32
					 "\n",
					 t->r[i].off, t->r[i].len, t->r[i].ms);
	used += (size_t)snprintf(buf + used, cap - used, "end %zu\n", t->n);
	*out = buf;
	*outlen = used;
	return 0;
}
