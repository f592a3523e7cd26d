/* SPDX-License-Identifier: MIT */
/*
 * source.c - what an image is called: s3://bucket/key, s3:bucket/key,
 * bucket/key or an http(s) URL.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "crypto/sigv4.h"
#include "src/conf/conf.h"

/* Query parameters that carry a signature or a credential (AWS
 * "Authenticating Requests: Using Query Parameters", SigV4 and SigV2). */
static const char *const secret_params[] = {
	"X-Amz-Signature", "X-Amz-Credential", "X-Amz-Security-Token",
	"Signature",	   "AWSAccessKeyId",
};

int source_query_secret(const char *q, size_t len)
{
	const char *end = q + len, *amp, *eq;
	size_t i, n;

	for (; q < end; q = amp + 1) {
		amp = memchr(q, '&', (size_t)(end - q));
		if (!amp)
			amp = end;
		eq = memchr(q, '=', (size_t)(amp - q));
		n = (size_t)((eq ? eq : amp) - q);
		for (i = 0; i < sizeof(secret_params) / sizeof(*secret_params);
		     i++)
			if (strlen(secret_params[i]) == n &&
			    !strncasecmp(q, secret_params[i], n))
				return 1;
	}
	return 0;
}

/* Where a URL in text ends: a space, a comma (option lists) or a quote. */
static size_t url_span(const char *s)
{
	return strcspn(s, " \t\r\n,\"'");
}

char *source_redact(const char *text, char *out, size_t len)
{
	size_t o = 0, q;
	int in_url = 0;

	if (!len)
		return out;
	for (; *text && o + 1 < len; text++) {
		/* any '?' after a URL's start may begin its query: a URL
		 * cut by a space is still redacted */
		if (!strncasecmp(text, "http://", 7) ||
		    !strncasecmp(text, "https://", 8))
			in_url = 1;
		if (in_url && *text == '?') {
			q = url_span(text + 1);
			if (source_query_secret(text + 1, q)) {
				o += (size_t)snprintf(out + o, len - o,
						      "?<presigned>");
				if (o >= len)
					o = len - 1;
				text += q;
				continue;
			}
		}
		out[o++] = *text;
	}
	out[o] = '\0';
	return out;
}

/* The value of query parameter name (exact case) in q, or NULL; its
 * length in *n. */
static const char *query_value(const char *q, const char *name, size_t *n)
{
	size_t l = strlen(name), len;

	while (*q) {
		len = strcspn(q, "&");
		if (len > l && !strncmp(q, name, l) && q[l] == '=') {
			*n = len - l - 1;
			return q + l + 1;
		}
		q += len + !!q[len];
	}
	return NULL;
}

/* A whole decimal number of at most 12 digits; -1 otherwise. */
static int64_t query_number(const char *v, size_t n)
{
	int64_t x = 0;
	size_t i;

	if (!v || !n || n > 12)
		return -1;
	for (i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

/*
 * When a presigned URL stops working: X-Amz-Date + X-Amz-Expires (SigV4),
 * or Expires (SigV2, seconds since the epoch). 0 when the query does not
 * say.
 */
static int64_t presigned_expiry(const char *q)
{
	const char *v;
	char date[17];
	int64_t t, secs;
	size_t n;

	v = query_value(q, "X-Amz-Date", &n);
	if (v && n == 16) {
		memcpy(date, v, 16);
		date[16] = '\0';
		v = query_value(q, "X-Amz-Expires", &n);
		secs = query_number(v, n);
		if (!sig_parse_amz_date(date, &t) && secs >= 0)
			return t + secs;
		return 0;
	}
	v = query_value(q, "Expires", &n);
	t = query_number(v, n);
	return t > 0 ? t : 0;
}

/*
 * Bucket names: S3's rules for new buckets are 3-63 of [a-z0-9.-], but
 * older us-east-1 buckets and other servers allow upper case and '_'.
 */
static int bucket_ok(const char *b, size_t n)
{
	size_t i;

	if (!n || n > S3_MAX_BUCKET)
		return 0;
	for (i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_",
			    b[i]))
			return 0;
	return 1;
}

int source_parse(const char *s, struct source *src, char *err, size_t errlen)
{
	const char *slash, *given = s;
	struct url u;
	size_t blen, klen;

	const char *q;
	char shown[256];

	memset(src, 0, sizeof(*src));
	if (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8)) {
		if (url_parse(s, &u) || strlen(s) >= sizeof(src->url))
			return base_fail(
				err, errlen,
				"bad URL '%.200s' (http(s)://HOST[:PORT]"
				"/PATH; no user@, spaces or controls)",
				source_redact(s, shown, sizeof(shown)));
		if (strstr(s, "?<presigned>"))
			return base_fail(
				err, errlen,
				"'%.200s': a presigned URL's query is never "
				"kept (it is a secret); give the whole URL "
				"again (detach, then attach it)",
				s);
		src->plain = 1;
		strcpy(src->url, s);
		source_redact(s, src->shown, sizeof(src->shown));
		q = strchr(s, '?');
		if (q && source_query_secret(q + 1, strlen(q + 1))) {
			/* the whole query goes, whatever is in it */
			src->presigned = 1;
			src->expires = presigned_expiry(q + 1);
			snprintf(src->shown, sizeof(src->shown),
				 "%.*s?<presigned>", (int)(q - s), s);
		}
		return 0;
	}
	if (!strncmp(s, "s3://", 5))
		s += 5;
	else if (!strncmp(s, "s3:", 3))
		s += 3;
	slash = strchr(s, '/');
	/* "ftp://h/k" is another scheme, not a bucket named "ftp:" */
	if (!slash || !slash[1] || (slash > s && slash[-1] == ':'))
		return base_fail(err, errlen,
				 "source '%.200s' is not s3://BUCKET/KEY, "
				 "BUCKET/KEY or an http(s) URL",
				 source_redact(given, shown, sizeof(shown)));
	blen = (size_t)(slash - s);
	klen = strlen(slash + 1);
	if (!bucket_ok(s, blen))
		return base_fail(
			err, errlen,
			"bad bucket name '%.*s' (1 to 255 letters, digits, "
			"'.', '-' or '_')",
			(int)(blen > 64 ? 64 : blen), s);
	if (klen > S3_MAX_KEY)
		return base_fail(err, errlen, "key longer than %d bytes",
				 S3_MAX_KEY);
	/* S3 takes any byte in a key, but the source goes into line-based
	 * files (the state of /run/s3root): no line breaks */
	if (strpbrk(slash + 1, "\r\n"))
		return base_fail(
			err, errlen,
			"key has a line break (s3root keeps sources in "
			"line-based files)");
	memcpy(src->bucket, s, blen);
	memcpy(src->key, slash + 1, klen + 1);
	snprintf(src->shown, sizeof(src->shown), "s3://%s/%s", src->bucket,
		 src->key);
	return 0;
}
