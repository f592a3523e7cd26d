/* SPDX-License-Identifier: MIT */
/* s3req.c - request heads for an object, signed as the options say. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "crypto/sigv2.h"
#include "src/s3root.h"

static int s3_req_add(struct s3_req *q, const char *name, const char *value)
{
	if (q->n == S3REQ_MAX_HEADERS)
		return -ENOSPC;
	q->names[q->n] = name;
	q->values[q->n++] = value;
	return 0;
}

static const char *sign_error(int r)
{
	return r == -ENOSPC ? "request too large to sign"
			    : "request cannot be signed (bad header or time)";
}

static int sign_v4(struct s3_req *q, const struct s3_target *t,
		   const struct opts *o, const struct sig_creds *sc,
		   struct sigv4_signer *signer, size_t nextra, int64_t now,
		   const char *payload, struct sig_trace *canon,
		   struct sig_trace *sts)
{
	struct sig_header h[SIG_MAX_HEADERS];
	struct sigv4_request r = {
		.method = q->method,
		.host = t->host_header,
		.path = q->path,
		.headers = h,
		.nheaders = nextra,
		.payload_hash = payload,
		.region = opts_str(o, OPT_REGION),
		.service = "s3",
		.time = now,
	};
	size_t i;
	int e;

	if (nextra > SIG_MAX_HEADERS)
		return -ENOSPC;
	for (i = 0; i < nextra; i++)
		h[i] = (struct sig_header){q->names[1 + i], q->values[1 + i]};
	e = sigv4_sign(signer, &r, sc, q->amz_date, q->auth, sizeof(q->auth),
		       canon, sts);
	if (!e)
		e = s3_req_add(q, "x-amz-content-sha256", payload);
	if (!e)
		e = s3_req_add(q, "x-amz-date", q->amz_date);
	if (!e && sc->session_token)
		e = s3_req_add(q, "x-amz-security-token", sc->session_token);
	return e;
}

static int sign_v2(struct s3_req *q, const struct s3_target *t,
		   const struct sig_creds *sc, int64_t now,
		   struct sig_trace *sts)
{
	struct sig_header h[SIG_MAX_HEADERS];
	struct sigv2_request r = {
		.method = q->method, .resource = t->resource, .headers = h};
	int have_date = 0, e;
	size_t i;

	for (i = 1; i < q->n; i++) {
		if (!strcasecmp(q->names[i], "date") ||
		    !strcasecmp(q->names[i], "x-amz-date"))
			have_date = 1;
	}
	if (!have_date) {
		if (sig_http_date(q->date, now))
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

int s3_req_sign(struct s3_req *q, const char *method, const struct s3_target *t,
		const struct opts *o, const struct creds *c,
		struct sigv4_signer *signer, const char *const *extra_names,
		const char *const *extra_values, size_t nextra, int64_t now,
		const char *payload, struct sig_trace *canon,
		struct sig_trace *sts, char *err, size_t errlen)
{
	struct sig_creds sc;
	size_t i;
	int e;

	memset(q, 0, sizeof(*q));
	q->method = method;
	q->path = t->url.path;
	s3_req_add(q, "Host", t->host_header);
	for (i = 0; i < nextra; i++) {
		e = s3_req_add(q, extra_names[i], extra_values[i]);
		if (e)
			goto fail;
	}
	if (!c || !c->access_key)
		return 0; /* anonymous or a plain URL: unsigned */
	sc = (struct sig_creds){c->access_key, c->secret_key, c->session_token};
	if (opts_num(o, OPT_SIG) == SIG_V4)
		e = sign_v4(q, t, o, &sc, signer, nextra, now, payload, canon,
			    sts);
	else
		e = sign_v2(q, t, &sc, now, sts);
	if (!e)
		e = s3_req_add(q, "Authorization", q->auth);
	if (!e)
		return 0;
fail:
	snprintf(err, errlen, "%s", sign_error(e));
	return e;
}
