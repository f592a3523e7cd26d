/* SPDX-License-Identifier: MIT */
/*
 * sigv4.c - AWS Signature Version 4, header auth, as S3 checks it.
 *
 * CanonicalRequest = Method \n CanonicalURI \n CanonicalQueryString \n
 *                    CanonicalHeaders \n SignedHeaders \n HashedPayload
 * StringToSign = "AWS4-HMAC-SHA256" \n Timestamp \n Scope \n
 *                hex(SHA256(CanonicalRequest))
 * SigningKey = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service),
 *                   "aws4_request")
 * The canonical request is hashed as it is written; nothing is buffered
 * unless the caller asks for a copy.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "crypto/internal.h"

#define SIGV4_ALGO "AWS4-HMAC-SHA256"

void sigv4_signer_wipe(struct sigv4_signer *s)
{
	crypto_wipe(s, sizeof(*s));
}

static void sigv4_sha256_update(void *ctx, const void *p, size_t n)
{
	sha256_update(ctx, p, n);
}

static void sigv4_hmac_update(void *ctx, const void *p, size_t n)
{
	hmac_sha256_update(ctx, p, n);
}

/* The next byte of s's URI encoding, kept in e; 0 at the end. */
struct sigv4_enc {
	const unsigned char *s;
	char e[4];
	int pos, len;
};

static int sigv4_enc_next(struct sigv4_enc *it)
{
	static const char hexdig[] = "0123456789ABCDEF";
	unsigned char c;

	if (it->pos < it->len)
		return (unsigned char)it->e[it->pos++];
	c = *it->s;
	if (!c)
		return 0;
	it->s++;
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~')
		return c;
	it->e[0] = hexdig[c >> 4];
	it->e[1] = hexdig[c & 15];
	it->pos = 0;
	it->len = 2;
	return '%';
}

/* Compares the URI encodings of a and b without writing them out. */
static int sigv4_enc_cmp(const char *a, const char *b)
{
	struct sigv4_enc x = {(const unsigned char *)a, {0}, 0, 0};
	struct sigv4_enc y = {(const unsigned char *)b, {0}, 0, 0};
	int ca, cb;

	do {
		ca = sigv4_enc_next(&x);
		cb = sigv4_enc_next(&y);
	} while (ca && ca == cb);
	return ca - cb;
}

static int sigv4_param_cmp(const struct sig_param *a, const struct sig_param *b)
{
	int r = sigv4_enc_cmp(a->name, b->name);

	if (r)
		return r;
	return sigv4_enc_cmp(a->value ? a->value : "",
			     b->value ? b->value : "");
}

/* Canonical query: encoded names and values, sorted, "name=value" by '&'. */
static int sigv4_put_query(struct sig_sink *k, const struct sig_param *p,
			   size_t n)
{
	size_t idx[SIG_MAX_PARAMS], i, j, t;

	if (n > SIG_MAX_PARAMS)
		return -EINVAL;
	for (i = 0; i < n; i++) {
		if (!p[i].name || !*p[i].name)
			return -EINVAL;
		for (j = i; j > 0 && sigv4_param_cmp(&p[idx[j - 1]], &p[i]) > 0;
		     j--)
			;
		for (t = i; t > j; t--)
			idx[t] = idx[t - 1];
		idx[j] = i;
	}
	for (i = 0; i < n; i++) {
		if (i)
			sig_put(k, "&", 1);
		sig_put_uri(k, p[idx[i]].name, 0);
		sig_put(k, "=", 1);
		sig_put_uri(k, p[idx[i]].value ? p[idx[i]].value : "", 0);
	}
	return 0;
}

/* Headers the signer owns; a caller may not pass them in. */
static int sigv4_reserved(const char *name)
{
	static const char *const own[] = {
		"host", "x-amz-date", "x-amz-content-sha256",
		"x-amz-security-token", "authorization"};
	size_t i;

	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if (!sig_name_cmp(name, own[i]))
			return 1;
	return 0;
}

/* The signed-headers list: lower-case names, each once, by ';'. */
static void sigv4_put_names(struct sig_sink *k, const struct sig_header *h,
			    const size_t *idx, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i && !sig_name_cmp(h[idx[i - 1]].name, h[idx[i]].name))
			continue;
		if (i)
			sig_put(k, ";", 1);
		sig_put_lower(k, h[idx[i]].name);
	}
}

static int sigv4_scope_part_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	if (!n || n >= max)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      *s == '-'))
			return 0;
	return 1;
}

static void sigv4_derive(struct sigv4_signer *s, const struct sigv4_request *r,
			 const char *date, const char *secret)
{
	uint8_t fp[SHA256_LEN];
	size_t klen = strlen(secret) + 4;
	char kbuf[4 + 256];

	sha256(secret, strlen(secret), fp);
	if (s->have_key && !strcmp(s->date, date) &&
	    !strcmp(s->region, r->region) && !strcmp(s->service, r->service) &&
	    !crypto_memcmp_ct(fp, s->secret_fp, sizeof(fp)))
		goto out;
	memcpy(kbuf, "AWS4", 4);
	memcpy(kbuf + 4, secret, klen - 4);
	hmac_sha256(kbuf, klen, date, 8, s->key);
	hmac_sha256(s->key, SHA256_LEN, r->region, strlen(r->region), s->key);
	hmac_sha256(s->key, SHA256_LEN, r->service, strlen(r->service), s->key);
	hmac_sha256(s->key, SHA256_LEN, "aws4_request", 12, s->key);
	memcpy(s->date, date, 9);
	strcpy(s->region, r->region);
	strcpy(s->service, r->service);
	memcpy(s->secret_fp, fp, sizeof(fp));
	s->have_key = 1;
	crypto_wipe(kbuf, sizeof(kbuf));
out:
	crypto_wipe(fp, sizeof(fp));
}

/* What both kinds of signing check first; -EINVAL for what cannot be
 * signed. */
static int sigv4_check(const struct sigv4_signer *s,
		       const struct sigv4_request *r, const struct sig_creds *c,
		       char amz_date[17])
{
	size_t i;

	if (r->nheaders > SIG_MAX_HEADERS || !c->access_key || !c->secret_key ||
	    strlen(c->secret_key) > 256 || !*c->access_key ||
	    strpbrk(c->access_key, "/, \t\r\n") ||
	    !sigv4_scope_part_ok(r->region, sizeof(s->region)) ||
	    !sigv4_scope_part_ok(r->service, sizeof(s->service)) ||
	    sig_amz_date(amz_date, r->time))
		return -EINVAL;
	for (i = 0; i < r->nheaders; i++)
		if (!r->headers[i].name || sigv4_reserved(r->headers[i].name))
			return -EINVAL;
	return 0;
}

/* What is signed, and how: the query parameters and headers in the
 * canonical request, the time. */
struct sigv4_what {
	const struct sig_param *params;
	size_t nparams;
	const struct sig_header *headers; /* all of them, host included */
	const size_t *idx;		  /* their sig_header_order */
	size_t nheaders;
	const char *amz_date;
};

/*
 * The canonical request (hashed as it is written), the string to sign
 * (MACed as it is written) and the signature in digest. 0 or -errno.
 */
static int sigv4_digest(struct sigv4_signer *s, const struct sigv4_request *r,
			const struct sigv4_what *w, const char *secret,
			uint8_t digest[SHA256_LEN], struct sig_trace *canon,
			struct sig_trace *sts)
{
	struct sha256_ctx hash;
	struct sig_sink k = {sigv4_sha256_update, &hash, canon, 0};
	struct hmac_sha256_ctx mac;
	char hex[2 * SHA256_LEN + 1], date[9];
	int err;

	memcpy(date, w->amz_date, 8);
	date[8] = '\0';
	sha256_init(&hash);
	sig_trace_reset(canon);
	sig_puts(&k, r->method);
	sig_put(&k, "\n", 1);
	sig_puts(&k, *r->path ? r->path : "/");
	sig_put(&k, "\n", 1);
	err = sigv4_put_query(&k, w->params, w->nparams);
	if (err)
		return err;
	sig_put(&k, "\n", 1);
	sig_put_header_lines(&k, w->headers, w->idx, w->nheaders, 0, 1);
	sig_put(&k, "\n", 1);
	sigv4_put_names(&k, w->headers, w->idx, w->nheaders);
	sig_put(&k, "\n", 1);
	sig_puts(&k, r->payload_hash);
	if (k.err)
		return k.err;
	sha256_out(&hash, digest);
	hex_encode(hex, digest, SHA256_LEN);

	sigv4_derive(s, r, date, secret);
	hmac_sha256_init(&mac, s->key, SHA256_LEN);
	k = (struct sig_sink){sigv4_hmac_update, &mac, sts, 0};
	sig_trace_reset(sts);
	sig_puts(&k, SIGV4_ALGO "\n");
	sig_puts(&k, w->amz_date);
	sig_put(&k, "\n", 1);
	sig_puts(&k, date);
	sig_put(&k, "/", 1);
	sig_puts(&k, r->region);
	sig_put(&k, "/", 1);
	sig_puts(&k, r->service);
	sig_puts(&k, "/aws4_request\n");
	sig_puts(&k, hex);
	hmac_sha256_out(&mac, digest);
	crypto_wipe(&mac, sizeof(mac));
	return k.err;
}

/* "ACCESS/DATE/REGION/SERVICE/aws4_request" */
static void sigv4_put_scope(struct sig_sink *k, const struct sigv4_request *r,
			    const char *access_key, const char *amz_date)
{
	sig_puts(k, access_key);
	sig_put(k, "/", 1);
	sig_put(k, amz_date, 8);
	sig_put(k, "/", 1);
	sig_puts(k, r->region);
	sig_put(k, "/", 1);
	sig_puts(k, r->service);
	sig_puts(k, "/aws4_request");
}

int sigv4_sign(struct sigv4_signer *s, const struct sigv4_request *r,
	       const struct sig_creds *c, char amz_date[17], char *auth,
	       size_t authlen, struct sig_trace *canon, struct sig_trace *sts)
{
	struct sig_header all[SIG_MAX_HEADERS + 4];
	size_t idx[SIG_MAX_HEADERS + 4], n = 0, i;
	uint8_t digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1];
	struct sig_trace out = {auth, authlen, 0};
	struct sig_sink k = {NULL, NULL, &out, 0};
	struct sigv4_what w = {r->params, r->nparams, all, idx, 0, amz_date};
	int err;

	err = sigv4_check(s, r, c, amz_date);
	if (err)
		return err;
	for (i = 0; i < r->nheaders; i++)
		all[n++] = r->headers[i];
	all[n++] = (struct sig_header){"host", r->host};
	all[n++] = (struct sig_header){"x-amz-content-sha256", r->payload_hash};
	all[n++] = (struct sig_header){"x-amz-date", amz_date};
	if (c->session_token && *c->session_token)
		all[n++] = (struct sig_header){"x-amz-security-token",
					       c->session_token};
	err = sig_header_order(all, n, idx);
	if (err)
		return err;
	w.nheaders = n;
	err = sigv4_digest(s, r, &w, c->secret_key, digest, canon, sts);
	if (err)
		return err;

	/* Authorization: the credential scope, signed headers and signature */
	sig_trace_reset(&out);
	sig_puts(&k, SIGV4_ALGO " Credential=");
	sigv4_put_scope(&k, r, c->access_key, amz_date);
	sig_puts(&k, ", SignedHeaders=");
	sigv4_put_names(&k, all, idx, n);
	sig_puts(&k, ", Signature=");
	hex_encode(hex, digest, sizeof(digest));
	sig_puts(&k, hex);
	return k.err;
}

/* Writes "name=value" pairs, URI-encoded, each after a '&' but the
 * first when first is set. */
static void sigv4_put_pairs(struct sig_sink *k, const struct sig_param *p,
			    size_t n, int first)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i || !first)
			sig_put(k, "&", 1);
		sig_put_uri(k, p[i].name, 0);
		if (!p[i].value)
			continue;
		sig_put(k, "=", 1);
		sig_put_uri(k, p[i].value, 0);
	}
}

int sigv4_presign(struct sigv4_signer *s, const struct sigv4_request *r,
		  const struct sig_creds *c, unsigned expires, char *query,
		  size_t qlen, struct sig_trace *canon, struct sig_trace *sts)
{
	struct sig_header all[SIG_MAX_HEADERS + 1];
	size_t idx[SIG_MAX_HEADERS + 1], n = 0, i, np = 0;
	struct sig_param p[SIG_MAX_PARAMS];
	char amz_date[17], scope[400], names[600], secs[12];
	char hex[2 * SHA256_LEN + 1];
	uint8_t digest[SHA256_LEN];
	struct sig_trace t = {scope, sizeof(scope), 0};
	struct sig_sink k = {NULL, NULL, &t, 0};
	struct sigv4_what w = {p, 0, all, idx, 0, amz_date};
	int err;

	err = sigv4_check(s, r, c, amz_date);
	if (err || !expires || expires > SIGV4_MAX_EXPIRES ||
	    r->nparams + 6 > SIG_MAX_PARAMS)
		return err ? err : -EINVAL;
	for (i = 0; i < r->nheaders; i++)
		all[n++] = r->headers[i];
	all[n++] = (struct sig_header){"host", r->host};
	err = sig_header_order(all, n, idx);
	if (err)
		return err;
	w.nheaders = n;
	sigv4_put_scope(&k, r, c->access_key, amz_date);
	t = (struct sig_trace){names, sizeof(names), 0};
	sigv4_put_names(&k, all, idx, n);
	if (k.err)
		return k.err;
	snprintf(secs, sizeof(secs), "%u", expires);
	for (i = 0; i < r->nparams; i++)
		p[np++] = r->params[i];
	/* botocore's order: the operation's parameters, then these */
	p[np++] = (struct sig_param){"X-Amz-Algorithm", SIGV4_ALGO};
	p[np++] = (struct sig_param){"X-Amz-Credential", scope};
	p[np++] = (struct sig_param){"X-Amz-Date", amz_date};
	p[np++] = (struct sig_param){"X-Amz-Expires", secs};
	p[np++] = (struct sig_param){"X-Amz-SignedHeaders", names};
	if (c->session_token && *c->session_token)
		p[np++] = (struct sig_param){"X-Amz-Security-Token",
					     c->session_token};
	w.nparams = np;
	err = sigv4_digest(s, r, &w, c->secret_key, digest, canon, sts);
	if (err)
		return err;

	t = (struct sig_trace){query, qlen, 0};
	sig_trace_reset(&t);
	sigv4_put_pairs(&k, p, np, 1);
	sig_puts(&k, "&X-Amz-Signature=");
	hex_encode(hex, digest, sizeof(digest));
	sig_puts(&k, hex);
	return k.err;
}
