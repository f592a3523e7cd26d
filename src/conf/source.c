/* SPDX-License-Identifier: MIT */
/*
 * source.c - what an image is called: s3://bucket/key, s3:bucket/key,
 * bucket/key or an http(s) URL.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "src/conf/conf.h"

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

	memset(src, 0, sizeof(*src));
	if (!strncasecmp(s, "http://", 7) || !strncasecmp(s, "https://", 8)) {
		if (url_parse(s, &u) || strlen(s) >= sizeof(src->url))
			return base_fail(
				err, errlen,
				"bad URL '%.200s' (http(s)://HOST[:PORT]"
				"/PATH; no user@, spaces or controls)",
				s);
		src->plain = 1;
		strcpy(src->url, s);
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
				 given);
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
	return 0;
}
