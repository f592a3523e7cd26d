/* SPDX-License-Identifier: MIT */
/*
 * sig_common.c - text building blocks of the S3 request signers: bounded
 * sinks, S3's URI encoding, header ordering and the date formats.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include "crypto/internal.h"
#include "crypto/sigv2.h"

static const char hexdig[] = "0123456789ABCDEF";

void sig_trace_reset(struct sig_trace *t)
{
	if (!t || !t->buf || !t->size)
		return;
	t->len = 0;
	t->buf[0] = '\0';
}

void sig_put(struct sig_sink *k, const char *s, size_t len)
{
	struct sig_trace *t = k->copy;

	if (k->update && len)
		k->update(k->ctx, s, len);
	if (!t || !t->buf)
		return;
	if (len >= t->size - t->len) {
		k->err = -ENOSPC;
		return;
	}
	memcpy(t->buf + t->len, s, len);
	t->len += len;
	t->buf[t->len] = '\0';
}

void sig_puts(struct sig_sink *k, const char *s)
{
	sig_put(k, s, strlen(s));
}

/* AWS: unreserved characters are A-Z a-z 0-9 - . _ ~ (as RFC 3986). */
static int sig_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	       c == '~';
}

/* Writes the encoding of c (1 or 3 characters) to e; returns its length. */
static size_t sig_encode_byte(char e[3], unsigned char c, int keep_slash)
{
	if (sig_unreserved(c) || (keep_slash && c == '/')) {
		e[0] = (char)c;
		return 1;
	}
	e[0] = '%';
	e[1] = hexdig[c >> 4];
	e[2] = hexdig[c & 15];
	return 3;
}

void sig_put_uri(struct sig_sink *k, const char *s, int keep_slash)
{
	char e[3];

	for (; *s; s++)
		sig_put(k, e,
			sig_encode_byte(e, (unsigned char)*s, keep_slash));
}

long sig_uri_encode(char *out, size_t outlen, const char *in, size_t len,
		    int keep_slash)
{
	size_t o = 0, i, n;
	char e[3];

	for (i = 0; i < len; i++) {
		n = sig_encode_byte(e, (unsigned char)in[i], keep_slash);
		if (n >= outlen - o)
			return -ENOSPC;
		memcpy(out + o, e, n);
		o += n;
	}
	if (o >= outlen)
		return -ENOSPC;
	out[o] = '\0';
	return (long)o;
}

static char sig_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
}

void sig_put_lower(struct sig_sink *k, const char *s)
{
	char c;

	for (; *s; s++) {
		c = sig_lower(*s);
		sig_put(k, &c, 1);
	}
}

static int sig_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * SigV4 canonical header values: "trim leading and trailing spaces and
 * convert sequential spaces to a single space". SigV2 only trims.
 */
void sig_put_trimmed(struct sig_sink *k, const char *v, int collapse)
{
	const char *end = v + strlen(v), *run;

	while (sig_space(*v))
		v++;
	while (end > v && sig_space(end[-1]))
		end--;
	while (v < end) {
		run = v;
		while (v < end && !sig_space(*v))
			v++;
		sig_put(k, run, (size_t)(v - run));
		if (v == end)
			break;
		run = v;
		while (sig_space(*v))
			v++;
		if (collapse)
			sig_put(k, " ", 1);
		else
			sig_put(k, run, (size_t)(v - run));
	}
}

void sig_put_header_lines(struct sig_sink *k, const struct sig_header *h,
			  const size_t *idx, size_t n, int amz_only,
			  int collapse)
{
	const char *prev = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		const struct sig_header *cur = &h[idx[i]];

		if (amz_only && strncasecmp(cur->name, "x-amz-", 6))
			continue;
		if (prev && !sig_name_cmp(prev, cur->name)) {
			sig_put(k, ",", 1); /* a repeated name: one line */
		} else {
			if (prev)
				sig_put(k, "\n", 1);
			sig_put_lower(k, cur->name);
			sig_put(k, ":", 1);
		}
		sig_put_trimmed(k, cur->value, collapse);
		prev = cur->name;
	}
	if (prev)
		sig_put(k, "\n", 1);
}

int sig_name_cmp(const char *a, const char *b)
{
	while (*a && sig_lower(*a) == sig_lower(*b)) {
		a++;
		b++;
	}
	return (unsigned char)sig_lower(*a) - (unsigned char)sig_lower(*b);
}

/* RFC 9110 5.6.2: token characters. */
static int sig_tchar(unsigned char c)
{
	return sig_unreserved(c) || (c && strchr("!#$%&'*+^`|", c));
}

static int sig_header_valid(const struct sig_header *h)
{
	const char *p;

	if (!h->name || !h->value || !*h->name)
		return 0;
	for (p = h->name; *p; p++)
		if (!sig_tchar((unsigned char)*p))
			return 0;
	return !strpbrk(h->value, "\r\n");
}

int sig_header_order(const struct sig_header *h, size_t n, size_t *idx)
{
	size_t i, j, t;

	if (n > SIG_MAX_HEADERS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!sig_header_valid(&h[i]))
			return -EINVAL;
		/* insertion sort: n is small and equal names keep their order
		 */
		for (j = i;
		     j > 0 && sig_name_cmp(h[idx[j - 1]].name, h[i].name) > 0;
		     j--)
			;
		for (t = i; t > j; t--)
			idx[t] = idx[t - 1];
		idx[j] = i;
	}
	return 0;
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian calendar). */
static void sig_civil(int64_t days, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	days += 719468;
	era = (days >= 0 ? days : days - 146096) / 146097;
	doe = days - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static int64_t sig_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static const char wdays[] = "SunMonTueWedThuFriSat";
static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

struct sig_tm {
	int year, mon, day, hour, min, sec, wday;
};

static int sig_split_time(int64_t t, struct sig_tm *tm)
{
	int64_t days, secs;

	/* 0000-01-01 .. 9999-12-31: the formats have four year digits */
	if (t < -62167219200LL || t > 253402300799LL)
		return -EINVAL;
	days = t / 86400;
	secs = t % 86400;
	if (secs < 0) {
		secs += 86400;
		days--;
	}
	sig_civil(days, &tm->year, &tm->mon, &tm->day);
	tm->hour = (int)(secs / 3600);
	tm->min = (int)(secs / 60 % 60);
	tm->sec = (int)(secs % 60);
	tm->wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
	return 0;
}

static void sig_digits(char *out, int v, int n)
{
	while (n--) {
		out[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

int sig_amz_date(char out[17], int64_t t)
{
	struct sig_tm tm;

	if (sig_split_time(t, &tm))
		return -EINVAL;
	sig_digits(out, tm.year, 4);
	sig_digits(out + 4, tm.mon, 2);
	sig_digits(out + 6, tm.day, 2);
	out[8] = 'T';
	sig_digits(out + 9, tm.hour, 2);
	sig_digits(out + 11, tm.min, 2);
	sig_digits(out + 13, tm.sec, 2);
	out[15] = 'Z';
	out[16] = '\0';
	return 0;
}

static int sig_number(const char *s, int n, int *v)
{
	*v = 0;
	while (n--) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		*v = *v * 10 + (*s++ - '0');
	}
	return 0;
}

/* Checks a broken-down UTC time and converts it to seconds. */
static int sig_join_time(const struct sig_tm *tm, int64_t *t)
{
	static const char mdays[] = {31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31};
	int y = tm->year, leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	if (tm->mon < 1 || tm->mon > 12 || tm->day < 1 ||
	    tm->day > mdays[tm->mon - 1] ||
	    (tm->mon == 2 && tm->day == 29 && !leap) || tm->hour > 23 ||
	    tm->min > 59 || tm->sec > 59)
		return -EINVAL;
	*t = sig_days(y, tm->mon, tm->day) * 86400 + tm->hour * 3600 +
	     tm->min * 60 + tm->sec;
	return 0;
}

int sig_parse_amz_date(const char *s, int64_t *t)
{
	struct sig_tm tm;

	if (strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z' ||
	    sig_number(s, 4, &tm.year) || sig_number(s + 4, 2, &tm.mon) ||
	    sig_number(s + 6, 2, &tm.day) || sig_number(s + 9, 2, &tm.hour) ||
	    sig_number(s + 11, 2, &tm.min) || sig_number(s + 13, 2, &tm.sec))
		return -EINVAL;
	return sig_join_time(&tm, t);
}

/* The index of the 3 letters at s in a table of 3-letter names, or -1. */
static int sig_name3(const char *table, const char *s)
{
	int i;

	for (i = 0; table[3 * i]; i++)
		if (!strncmp(table + 3 * i, s, 3))
			return i;
	return -1;
}

int sig_parse_http_date(const char *s, int64_t *t)
{
	struct sig_tm tm;

	/* "Sun, 06 Nov 1994 08:49:37 GMT": fixed places (RFC 9110 5.6.7) */
	if (strlen(s) != 29 || strncmp(s + 3, ", ", 2) || s[7] != ' ' ||
	    s[11] != ' ' || s[16] != ' ' || s[19] != ':' || s[22] != ':' ||
	    strcmp(s + 25, " GMT") || sig_name3(wdays, s) < 0 ||
	    (tm.mon = sig_name3(months, s + 8) + 1) < 1 ||
	    sig_number(s + 5, 2, &tm.day) || sig_number(s + 12, 4, &tm.year) ||
	    sig_number(s + 17, 2, &tm.hour) || sig_number(s + 20, 2, &tm.min) ||
	    sig_number(s + 23, 2, &tm.sec))
		return -EINVAL;
	return sig_join_time(&tm, t);
}

int sig_http_date(char out[30], int64_t t)
{
	struct sig_tm tm;

	if (sig_split_time(t, &tm))
		return -EINVAL;
	/* "Tue, 27 Mar 2007 19:36:42 GMT": RFC 9110 5.6.7 IMF-fixdate */
	memcpy(out, wdays + 3 * tm.wday, 3);
	memcpy(out + 3, ", ", 2);
	sig_digits(out + 5, tm.day, 2);
	out[7] = ' ';
	memcpy(out + 8, months + 3 * (tm.mon - 1), 3);
	out[11] = ' ';
	sig_digits(out + 12, tm.year, 4);
	out[16] = ' ';
	sig_digits(out + 17, tm.hour, 2);
	out[19] = ':';
	sig_digits(out + 20, tm.min, 2);
	out[22] = ':';
	sig_digits(out + 23, tm.sec, 2);
	memcpy(out + 25, " GMT", 5);
	return 0;
}
