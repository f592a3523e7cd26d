/* SPDX-License-Identifier: MIT */
/*
 * source.c - what an image is called (s3://bucket/key, bucket/key, an
 * http(s) URL) and where requests for it go (endpoint, URL style).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "crypto/sigv4.h"
#include "src/s3root.h"

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
			return fail(err, errlen,
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
		return fail(err, errlen,
			    "source '%.200s' is not s3://BUCKET/KEY, "
			    "BUCKET/KEY or an http(s) URL",
			    given);
	blen = (size_t)(slash - s);
	klen = strlen(slash + 1);
	if (!bucket_ok(s, blen))
		return fail(err, errlen,
			    "bad bucket name '%.*s' (1 to 255 letters, digits, "
			    "'.', '-' or '_')",
			    (int)(blen > 64 ? 64 : blen), s);
	if (klen > S3_MAX_KEY)
		return fail(err, errlen, "key longer than %d bytes",
			    S3_MAX_KEY);
	/* S3 takes any byte in a key, but the source goes into line-based
	 * files (the state of /run/s3root): no line breaks */
	if (strpbrk(slash + 1, "\r\n"))
		return fail(err, errlen,
			    "key has a line break (s3root keeps sources in "
			    "line-based files)");
	memcpy(src->bucket, s, blen);
	memcpy(src->key, slash + 1, klen + 1);
	return 0;
}

/*
 * Virtual-host style puts the bucket into a DNS label: it must be a valid
 * one (lower case, no '_'; no '.' under TLS, where a wildcard certificate
 * covers one label only). Otherwise, like the AWS SDKs, use path style.
 */
static int bucket_dns_ok(const char *b, int tls)
{
	size_t n = strlen(b);

	if (n < 3 || n > 63 || b[0] == '-' || b[n - 1] == '-')
		return 0;
	if (strspn(b, "abcdefghijklmnopqrstuvwxyz0123456789-.") != n)
		return 0;
	return !(tls && strchr(b, '.'));
}

int s3_target_init(const struct opts *o, const struct source *src,
		   struct s3_target *t, char *err, size_t errlen)
{
	char *path = t->url.path;
	size_t plen;
	long n;

	memset(t, 0, sizeof(*t));
	if (src->plain) {
		url_parse(src->url, &t->url);
		url_host_header(&t->url, t->host_header,
				sizeof(t->host_header));
		return 0;
	}
	if (url_parse(opts_str(o, OPT_ENDPOINT), &t->url))
		return fail(err, errlen, "bad s3.endpoint");
	if (strchr(t->url.path, '?'))
		return fail(err, errlen, "s3.endpoint may not have a query");
	t->vhost = opts_num(o, OPT_URLSTYLE) == URLSTYLE_VHOST;
	if (t->vhost && t->url.host_is_ip) {
		if (opts_isset(o, OPT_URLSTYLE))
			return fail(err, errlen,
				    "s3.urlstyle=vhost needs an endpoint "
				    "host name, not an address");
		t->vhost = 0;
	}
	if (t->vhost && !bucket_dns_ok(src->bucket, t->url.tls))
		t->vhost = 0;

	/* an endpoint path ("https://gw/s3") prefixes every request */
	plen = strlen(path);
	if (plen && path[plen - 1] == '/')
		path[--plen] = '\0';
	if (!t->vhost) {
		path[plen++] = '/';
		n = sig_uri_encode(path + plen, sizeof(t->url.path) - plen,
				   src->bucket, strlen(src->bucket), 1);
		if (n < 0)
			return fail(err, errlen, "URL too long");
		plen += (size_t)n;
	}
	path[plen++] = '/';
	n = sig_uri_encode(path + plen, sizeof(t->url.path) - plen, src->key,
			   strlen(src->key), 1);
	if (n < 0)
		return fail(err, errlen, "URL too long");

	/* SigV2 signs /bucket/key whatever the style */
	t->resource[0] = '/';
	n = sig_uri_encode(t->resource + 1, sizeof(t->resource) - 1,
			   src->bucket, strlen(src->bucket), 1);
	if (n >= 0) {
		t->resource[n + 1] = '/';
		n = sig_uri_encode(t->resource + n + 2,
				   sizeof(t->resource) - (size_t)n - 2,
				   src->key, strlen(src->key), 1);
	}
	if (n < 0)
		return fail(err, errlen, "URL too long");

	if (t->vhost) {
		struct url vh = t->url;

		if (snprintf(vh.host, sizeof(vh.host), "%s.%s", src->bucket,
			     t->url.host) >= (int)sizeof(vh.host))
			return fail(err, errlen, "host name too long");
		t->url = vh;
	}
	if (url_host_header(&t->url, t->host_header, sizeof(t->host_header)) <
	    0)
		return fail(err, errlen, "host name too long");
	return 0;
}
