/* SPDX-License-Identifier: MIT */
/* s3req.c - request heads for an object, signed as the options say. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "crypto/sigv2.h"
#include "src/s3/s3.h"

static int s3_req_add(struct s3_req *q, const char *name, const char *value)
{
	if (q->n == S3REQ_MAX_HEADERS)
		return -ENOSPC;
	q->names[q->n] = name;
	q->values[q->n++] = value;
	return 0;
}

/* The request target: the path, then the query encoded as signed. */
static int s3_req_target(struct s3_req *q, const struct s3_req_in *in)
{
	size_t len = strlen(in->target->url.path), i;
	char *t = q->target;
	long n;

	if (len >= sizeof(q->target))
		return -ENOSPC;
	memcpy(t, in->target->url.path, len + 1);
	for (i = 0; i < in->nparams; i++) {
		const struct sig_param *p = &in->params[i];

		if (len + 2 >= sizeof(q->target))
			return -ENOSPC;
		t[len++] = i ? '&' : '?';
		n = sig_uri_encode(t + len, sizeof(q->target) - len, p->name,
				   strlen(p->name), 0);
		if (n < 0)
			return (int)n;
		len += (size_t)n;
		if (!p->value)
			continue;
		if (len + 2 >= sizeof(q->target))
			return -ENOSPC;
		t[len++] = '=';
		n = sig_uri_encode(t + len, sizeof(q->target) - len, p->value,
				   strlen(p->value), 0);
		if (n < 0)
			return (int)n;
		len += (size_t)n;
	}
	return 0;
}

static int sign_v4(struct s3_req *q, const struct s3_req_in *in,
		   const struct sig_creds *sc, struct sigv4_signer *signer,
		   struct sig_trace *canon, struct sig_trace *sts)
{
	struct sig_header h[SIG_MAX_HEADERS];
	struct sigv4_request r = {
		.method = in->method,
		.host = in->target->host_header,
		.path = in->target->url.path,
		.params = in->params,
		.nparams = in->nparams,
		.headers = h,
		.nheaders = in->nheaders,
		.payload_hash = in->payload,
		.region = in->region,
		.service = "s3",
		.time = in->time,
	};
	size_t i;
	int e;

	if (in->nheaders > SIG_MAX_HEADERS)
		return -ENOSPC;
	for (i = 0; i < in->nheaders; i++)
		h[i] = (struct sig_header){in->names[i], in->values[i]};
	e = sigv4_sign(signer, &r, sc, q->amz_date, q->auth, sizeof(q->auth),
		       canon, sts);
	if (!e)
		e = s3_req_add(q, "x-amz-content-sha256", in->payload);
	if (!e)
		e = s3_req_add(q, "x-amz-date", q->amz_date);
	if (!e && sc->session_token)
		e = s3_req_add(q, "x-amz-security-token", sc->session_token);
	return e;
}

static int sign_v2(struct s3_req *q, const struct s3_req_in *in,
		   const struct sig_creds *sc, struct sig_trace *sts)
{
	struct sig_header h[SIG_MAX_HEADERS];
	struct sigv2_request r = {.method = in->method,
				  .resource = in->target->resource,
				  .params = in->params,
				  .nparams = in->nparams,
				  .headers = h};
	int have_date = 0, e;
	size_t i;

	for (i = 1; i < q->n; i++) {
		if (!strcasecmp(q->names[i], "date") ||
		    !strcasecmp(q->names[i], "x-amz-date"))
			have_date = 1;
	}
	if (!have_date) {
		if (sig_http_date(q->date, in->time))
			return -EINVAL;
		e = s3_req_add(q, "Date", q->date);
		if (e)
			return e;
	}
	if (q->n - 1 > SIG_MAX_HEADERS)
		return -ENOSPC;
	for (i = 1; i < q->n; i++)
		h[r.nheaders++] =
			(struct sig_header){q->names[i], q->values[i]};
	e = sigv2_sign(&r, sc, q->auth, sizeof(q->auth), sts);
	if (!e && sc->session_token)
		e = s3_req_add(q, "x-amz-security-token", sc->session_token);
	return e;
}

int s3_req_sign(struct s3_req *q, const struct s3_req_in *in,
		struct sigv4_signer *signer, struct sig_trace *canon,
		struct sig_trace *sts, char *err, size_t errlen)
{
	const struct creds *c = in->creds;
	struct sig_creds sc;
	size_t i;
	int e;

	memset(q, 0, sizeof(*q));
	q->method = in->method;
	e = s3_req_target(q, in);
	s3_req_add(q, "Host", in->target->host_header);
	for (i = 0; !e && i < in->nheaders; i++)
		e = s3_req_add(q, in->names[i], in->values[i]);
	if (e)
		goto fail;
	if (!c || !c->access_key)
		return 0; /* anonymous or a plain URL: unsigned */
	sc = (struct sig_creds){c->access_key, c->secret_key, c->session_token};
	if (in->sig == SIG_V4)
		e = sign_v4(q, in, &sc, signer, canon, sts);
	else
		e = sign_v2(q, in, &sc, sts);
	if (!e)
		e = s3_req_add(q, "Authorization", q->auth);
	if (!e)
		return 0;
fail:
	snprintf(err, errlen, "%s",
		 e == -ENOSPC
			 ? "request too large to sign"
			 : "request cannot be signed (bad header or time)");
	return e;
}

long s3_req_format(const struct s3_req *q, char *out, size_t outlen)
{
	size_t len = 0, i;
	int n;

	n = snprintf(out, outlen, "%s %s HTTP/1.1\r\n", q->method, q->target);
	for (i = 0; n >= 0 && (size_t)n < outlen - len && i < q->n; i++) {
		len += (size_t)n;
		n = snprintf(out + len, outlen - len, "%s: %s\r\n", q->names[i],
			     q->values[i]);
	}
	if (n >= 0 && (size_t)n < outlen - len) {
		len += (size_t)n;
		n = snprintf(out + len, outlen - len,
			     "User-Agent: s3root/%s\r\n\r\n", base_version);
	}
	if (n < 0 || (size_t)n >= outlen - len)
		return -ENOSPC;
	return (long)(len + (size_t)n);
}
