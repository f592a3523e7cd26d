/* SPDX-License-Identifier: MIT */
/*
 * sigv2.c - AWS Signature Version 2 for S3 (the RESTAuthentication page of
 * the S3 developer guide). Kept for older S3-compatible servers.
 */
#include <errno.h>
#include <string.h>
#include "crypto/internal.h"
#include "crypto/sigv2.h"

/*
 * Query parameters that are part of the canonicalized resource: S3's
 * subresources and the response-header overrides, as the guide and the
 * reference SDKs list them. Kept sorted for the reader.
 */
static const char *const sigv2_subresources[] = {
	"accelerate",
	"acl",
	"analytics",
	"cors",
	"defaultObjectAcl",
	"delete",
	"inventory",
	"lifecycle",
	"location",
	"logging",
	"metrics",
	"notification",
	"object-lock",
	"partNumber",
	"policy",
	"replication",
	"requestPayment",
	"response-cache-control",
	"response-content-disposition",
	"response-content-encoding",
	"response-content-language",
	"response-content-type",
	"response-expires",
	"restore",
	"select",
	"select-type",
	"storageClass",
	"tagging",
	"torrent",
	"uploadId",
	"uploads",
	"versionId",
	"versioning",
	"versions",
	"website",
};

static int sigv2_is_subresource(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(sigv2_subresources) / sizeof(char *); i++)
		if (!strcmp(name, sigv2_subresources[i]))
			return 1;
	return 0;
}

static void sigv2_hmac_update(void *ctx, const void *p, size_t n)
{
	hmac_sha1_update(ctx, p, n);
}

/* The value of the first header named name, or NULL. */
static const char *sigv2_find(const struct sig_header *h, size_t n,
			      const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!sig_name_cmp(h[i].name, name))
			return h[i].value;
	return NULL;
}

/* CanonicalizedResource: the path, then "?" and the sorted subresources. */
static int sigv2_put_resource(struct sig_sink *k, const char *resource,
			      const struct sig_param *p, size_t n)
{
	size_t idx[SIG_MAX_PARAMS], i, j, t, m = 0;

	if (n > SIG_MAX_PARAMS)
		return -EINVAL;
	sig_puts(k, resource);
	for (i = 0; i < n; i++) {
		if (!p[i].name || !sigv2_is_subresource(p[i].name))
			continue;
		for (j = m; j > 0 && strcmp(p[idx[j - 1]].name, p[i].name) > 0;
		     j--)
			;
		for (t = m; t > j; t--)
			idx[t] = idx[t - 1];
		idx[j] = i;
		m++;
	}
	for (i = 0; i < m; i++) {
		sig_put(k, i ? "&" : "?", 1);
		sig_puts(k, p[idx[i]].name);
		if (p[idx[i]].value) {
			sig_put(k, "=", 1);
			sig_puts(k, p[idx[i]].value);
		}
	}
	return 0;
}

int sigv2_sign(const struct sigv2_request *r, const struct sig_creds *c,
	       char *auth, size_t authlen, struct sig_trace *sts)
{
	struct sig_header all[SIG_MAX_HEADERS + 1];
	size_t idx[SIG_MAX_HEADERS + 1], n = 0, i;
	struct hmac_sha1_ctx mac;
	struct sig_sink k = {sigv2_hmac_update, &mac, sts, 0};
	struct sig_trace out = {auth, authlen, 0};
	uint8_t digest[SHA1_LEN];
	char b64[BASE64_LEN(SHA1_LEN) + 1];
	const char *v;
	int err;

	if (r->nheaders > SIG_MAX_HEADERS || !c->access_key || !c->secret_key ||
	    !*c->access_key || strpbrk(c->access_key, " \t\r\n"))
		return -EINVAL;
	for (i = 0; i < r->nheaders; i++) {
		if (!r->headers[i].name ||
		    !sig_name_cmp(r->headers[i].name, "authorization"))
			return -EINVAL;
		/* a session token is the signer's to add */
		if (c->session_token && *c->session_token &&
		    !sig_name_cmp(r->headers[i].name, "x-amz-security-token"))
			continue;
		all[n++] = r->headers[i];
	}
	if (c->session_token && *c->session_token)
		all[n++] = (struct sig_header){"x-amz-security-token",
					       c->session_token};
	err = sig_header_order(all, n, idx);
	if (err)
		return err;

	hmac_sha1_init(&mac, c->secret_key, strlen(c->secret_key));
	sig_trace_reset(sts);
	sig_puts(&k, r->method);
	sig_put(&k, "\n", 1);
	v = sigv2_find(all, n, "content-md5");
	sig_put_trimmed(&k, v ? v : "", 0);
	sig_put(&k, "\n", 1);
	v = sigv2_find(all, n, "content-type");
	sig_put_trimmed(&k, v ? v : "", 0);
	sig_put(&k, "\n", 1);
	/* with x-amz-date the Date line stays empty (it is signed below) */
	v = sigv2_find(all, n, "x-amz-date") ? NULL
					     : sigv2_find(all, n, "date");
	sig_put_trimmed(&k, v ? v : "", 0);
	sig_put(&k, "\n", 1);
	/* CanonicalizedAmzHeaders */
	sig_put_header_lines(&k, all, idx, n, 1, 0);
	err = sigv2_put_resource(&k, r->resource, r->params, r->nparams);
	hmac_sha1_out(&mac, digest);
	crypto_wipe(&mac, sizeof(mac));
	if (err || k.err)
		return err ? err : k.err;

	k = (struct sig_sink){NULL, NULL, &out, 0};
	sig_trace_reset(&out);
	sig_puts(&k, "AWS ");
	sig_puts(&k, c->access_key);
	sig_put(&k, ":", 1);
	base64_encode(b64, sizeof(b64), digest, sizeof(digest));
	sig_puts(&k, b64);
	return k.err;
}
