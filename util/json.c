/* SPDX-License-Identifier: MIT */
/*
 * json.c - a strict reader of one flat JSON object (RFC 8259), enough for
 * the instance metadata service's documents and nothing more: no nesting,
 * bounded size, member count and string lengths, UTF-8 checked.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "util/util.h"

#define NAME_MAX_LEN 256

struct cur {
	const unsigned char *p;
	size_t n, i;
	char *err;
	size_t errlen;
};

static int fail(struct cur *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int fail(struct cur *c, const char *fmt, ...)
{
	va_list ap;
	int k;

	if (c->errlen) {
		k = snprintf(c->err, c->errlen, "at byte %zu: ", c->i);
		if (k > 0 && (size_t)k < c->errlen) {
			va_start(ap, fmt);
			vsnprintf(c->err + k, c->errlen - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

static void skip_ws(struct cur *c)
{
	while (c->i < c->n && (c->p[c->i] == ' ' || c->p[c->i] == '\t' ||
			       c->p[c->i] == '\n' || c->p[c->i] == '\r'))
		c->i++;
}

static int peek(const struct cur *c)
{
	return c->i < c->n ? c->p[c->i] : -1;
}

static int expect(struct cur *c, int ch, const char *what)
{
	skip_ws(c);
	if (peek(c) != ch)
		return fail(c, "expected %s", what);
	c->i++;
	return 0;
}

/* Appends code point cp as UTF-8 to out (NULL: only counted). */
static int put_cp(struct cur *c, char *out, size_t outlen, size_t *o,
		  uint32_t cp)
{
	unsigned char b[4];
	size_t k, n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp, n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | cp >> 6), n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | cp >> 12), n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | cp >> 18), n = 4;
	}
	for (k = 1; k < n; k++)
		b[k] = (unsigned char)(0x80 |
				       ((cp >> (6 * (n - 1 - k))) & 0x3f));
	if (out && outlen - *o <= n)
		return fail(c, "a string longer than %zu bytes", outlen - 1);
	if (out)
		memcpy(out + *o, b, n);
	*o += n;
	return 0;
}

static int hex4(struct cur *c, uint32_t *v)
{
	size_t k;
	int h;

	*v = 0;
	if (c->n - c->i < 4)
		return fail(c, "a short \\u escape");
	for (k = 0; k < 4; k++) {
		h = c->p[c->i + k];
		if (h >= '0' && h <= '9')
			h -= '0';
		else if ((h | 0x20) >= 'a' && (h | 0x20) <= 'f')
			h = (h | 0x20) - 'a' + 10;
		else
			return fail(c, "a bad \\u escape");
		*v = *v << 4 | (uint32_t)h;
	}
	c->i += 4;
	return 0;
}

/* After "\u": one code point, a surrogate pair joined. */
static int unicode_escape(struct cur *c, uint32_t *cp)
{
	uint32_t lo;

	if (hex4(c, cp))
		return -EINVAL;
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return fail(c, "a lone low surrogate");
	if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (c->n - c->i < 2 || c->p[c->i] != '\\' ||
		    c->p[c->i + 1] != 'u')
			return fail(c, "a lone high surrogate");
		c->i += 2;
		if (hex4(c, &lo))
			return -EINVAL;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(c, "a high surrogate without its pair");
		*cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	if (!*cp)
		return fail(c, "\\u0000 in a string");
	return 0;
}

static int escape(struct cur *c, uint32_t *cp)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *q;
	int ch = peek(c);

	if (ch == 'u') {
		c->i++;
		return unicode_escape(c, cp);
	}
	q = ch > 0 ? strchr(from, ch) : NULL;
	if (!q)
		return fail(c, "an unknown escape");
	*cp = (unsigned char)to[q - from];
	c->i++;
	return 0;
}

/* One raw UTF-8 sequence (RFC 3629: no overlongs, no surrogates). */
static int utf8(struct cur *c, uint32_t *cp)
{
	unsigned b = c->p[c->i];
	size_t k, n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2;
	static const uint32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};

	if (b < 0xc2 || b > 0xf4 || c->n - c->i < n)
		return fail(c, "invalid UTF-8");
	*cp = b & (0x7f >> n);
	for (k = 1; k < n; k++) {
		if ((c->p[c->i + k] & 0xc0) != 0x80)
			return fail(c, "invalid UTF-8");
		*cp = *cp << 6 | (c->p[c->i + k] & 0x3f);
	}
	if (*cp < min[n] || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return fail(c, "invalid UTF-8");
	c->i += n;
	return 0;
}

/* A string at the cursor, decoded into out (NULL: checked, skipped). */
static int string(struct cur *c, char *out, size_t outlen)
{
	size_t o = 0;
	uint32_t cp;
	int ch, r;

	if (expect(c, '"', "a string"))
		return -EINVAL;
	for (;;) {
		ch = peek(c);
		if (ch < 0)
			return fail(c, "an unterminated string");
		if (ch == '"')
			break;
		if (ch < 0x20)
			return fail(c, "a control character in a string");
		if (ch == '\\') {
			c->i++;
			r = escape(c, &cp);
		} else if (ch >= 0x80) {
			r = utf8(c, &cp);
		} else {
			cp = (uint32_t)ch;
			c->i++;
			r = 0;
		}
		if (r || put_cp(c, out, outlen, &o, cp))
			return -EINVAL;
	}
	c->i++;
	if (out)
		out[o] = '\0';
	return 0;
}

static void digits(struct cur *c)
{
	while (peek(c) >= '0' && peek(c) <= '9')
		c->i++;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct cur *c)
{
	size_t at;

	if (peek(c) == '-')
		c->i++;
	if (peek(c) == '0')
		c->i++;
	else if (peek(c) >= '1' && peek(c) <= '9')
		digits(c);
	else
		return fail(c, "a bad number");
	if (peek(c) == '.') {
		at = ++c->i;
		digits(c);
		if (c->i == at)
			return fail(c, "a bad number");
	}
	if (peek(c) == 'e' || peek(c) == 'E') {
		c->i++;
		if (peek(c) == '+' || peek(c) == '-')
			c->i++;
		at = c->i;
		digits(c);
		if (c->i == at)
			return fail(c, "a bad number");
	}
	return 0;
}

static int word(struct cur *c, const char *w)
{
	size_t n = strlen(w);

	if (c->n - c->i < n || memcmp(c->p + c->i, w, n))
		return fail(c, "expected a value");
	c->i += n;
	return 0;
}

/* A value that is not wanted: checked and skipped. */
static int scalar(struct cur *c)
{
	int ch;

	skip_ws(c);
	ch = peek(c);
	if (ch == '"')
		return string(c, NULL, 0);
	if (ch == '{' || ch == '[')
		return fail(c, "a nested object or array (not supported)");
	if (ch == 't')
		return word(c, "true");
	if (ch == 'f')
		return word(c, "false");
	if (ch == 'n')
		return word(c, "null");
	return number(c);
}

static struct util_json_field *wanted(struct util_json_field *f, size_t nf,
				      const char *name)
{
	size_t k;

	for (k = 0; k < nf; k++)
		if (!strcmp(f[k].name, name))
			return &f[k];
	return NULL;
}

/* One "name": value member. */
static int member(struct cur *c, struct util_json_field *f, size_t nf)
{
	char name[NAME_MAX_LEN + 1];
	struct util_json_field *w;
	size_t at;

	skip_ws(c);
	at = c->i;
	if (string(c, name, sizeof(name)) || expect(c, ':', "':'"))
		return -EINVAL;
	w = wanted(f, nf, name);
	if (!w)
		return scalar(c);
	if (w->found) {
		c->i = at;
		return fail(c, "member \"%s\" given twice", w->name);
	}
	skip_ws(c);
	if (peek(c) != '"')
		return fail(c, "member \"%s\" is not a string", w->name);
	if (string(c, w->out, w->outlen))
		return -EINVAL;
	w->found = 1;
	return 0;
}

int util_json_fields(const char *text, size_t len, struct util_json_field *f,
		     size_t nf, char *err, size_t errlen)
{
	struct cur c = {(const unsigned char *)text, len, 0, err, errlen};
	size_t k, members = 0;

	for (k = 0; k < nf; k++)
		f[k].found = 0;
	if (len > UTIL_JSON_MAX)
		return fail(&c, "the document is over %d bytes", UTIL_JSON_MAX);
	if (expect(&c, '{', "an object"))
		return -EINVAL;
	skip_ws(&c);
	if (peek(&c) == '}') {
		c.i++;
	} else {
		for (;;) {
			if (++members > UTIL_JSON_MAX_MEMBERS)
				return fail(&c, "over %d members",
					    UTIL_JSON_MAX_MEMBERS);
			if (member(&c, f, nf))
				return -EINVAL;
			skip_ws(&c);
			if (peek(&c) == '}') {
				c.i++;
				break;
			}
			if (expect(&c, ',', "',' or '}'"))
				return -EINVAL;
		}
	}
	skip_ws(&c);
	if (c.i != c.n)
		return fail(&c, "text after the object");
	return 0;
}
