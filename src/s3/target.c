/* SPDX-License-Identifier: MIT */
/*
 * target.c - where requests for an object go and what they are signed as:
 * the endpoint, virtual-host or path style, the SigV2 resource.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "crypto/sigv4.h"
#include "src/s3/s3.h"

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
		return base_fail(err, errlen, "bad s3.endpoint");
	if (strchr(t->url.path, '?'))
		return base_fail(err, errlen,
				 "s3.endpoint may not have a query");
	t->vhost = opts_num(o, OPT_URLSTYLE) == URLSTYLE_VHOST;
	if (t->vhost && t->url.host_is_ip) {
		if (opts_isset(o, OPT_URLSTYLE))
			return base_fail(err, errlen,
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
			return base_fail(err, errlen, "URL too long");
		plen += (size_t)n;
	}
	path[plen++] = '/';
	n = sig_uri_encode(path + plen, sizeof(t->url.path) - plen, src->key,
			   strlen(src->key), 1);
	if (n < 0)
		return base_fail(err, errlen, "URL too long");

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
		return base_fail(err, errlen, "URL too long");

	if (t->vhost) {
		struct url vh = t->url;

		if (snprintf(vh.host, sizeof(vh.host), "%s.%s", src->bucket,
			     t->url.host) >= (int)sizeof(vh.host))
			return base_fail(err, errlen, "host name too long");
		t->url = vh;
	}
	if (url_host_header(&t->url, t->host_header, sizeof(t->host_header)) <
	    0)
		return base_fail(err, errlen, "host name too long");
	return 0;
}
