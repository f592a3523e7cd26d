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

int sigv4_sign(struct sigv4_signer *s, const struct sigv4_request *r,
	       const struct sig_creds *c, char amz_date[17], char *auth,
	       size_t authlen, struct sig_trace *canon, struct sig_trace *sts)
{
	struct sig_header all[SIG_MAX_HEADERS + 4];
	size_t idx[SIG_MAX_HEADERS + 4], n = 0, i;
	struct sha256_ctx hash;
	struct sig_sink k = {sigv4_sha256_update, &hash, canon, 0};
	struct hmac_sha256_ctx mac;
	uint8_t digest[SHA256_LEN];
	char hex[2 * SHA256_LEN + 1], date[9];
	struct sig_trace out = {auth, authlen, 0};
	int err;

	if (r->nheaders > SIG_MAX_HEADERS || !c->access_key || !c->secret_key ||
	    strlen(c->secret_key) > 256 || !*c->access_key ||
	    strpbrk(c->access_key, "/, \t\r\n") ||
	    !sigv4_scope_part_ok(r->region, sizeof(s->region)) ||
	    !sigv4_scope_part_ok(r->service, sizeof(s->service)) ||
	    sig_amz_date(amz_date, r->time))
		return -EINVAL;
	for (i = 0; i < r->nheaders; i++) {
		if (!r->headers[i].name || sigv4_reserved(r->headers[i].name))
			return -EINVAL;
		all[n++] = r->headers[i];
	}
	all[n++] = (struct sig_header){"host", r->host};
	all[n++] = (struct sig_header){"x-amz-content-sha256", r->payload_hash};
	all[n++] = (struct sig_header){"x-amz-date", amz_date};
	if (c->session_token && *c->session_token)
		all[n++] = (struct sig_header){"x-amz-security-token",
					       c->session_token};
	err = sig_header_order(all, n, idx);
	if (err)
		return err;
	memcpy(date, amz_date, 8);
	date[8] = '\0';

	/* the canonical request, hashed as it is written */
	sha256_init(&hash);
	sig_trace_reset(canon);
	sig_puts(&k, r->method);
	sig_put(&k, "\n", 1);
	sig_puts(&k, *r->path ? r->path : "/");
	sig_put(&k, "\n", 1);
	err = sigv4_put_query(&k, r->params, r->nparams);
	if (err)
		return err;
	sig_put(&k, "\n", 1);
	sig_put_header_lines(&k, all, idx, n, 0, 1);
	sig_put(&k, "\n", 1);
	sigv4_put_names(&k, all, idx, n);
	sig_put(&k, "\n", 1);
	sig_puts(&k, r->payload_hash);
	if (k.err)
		return k.err;
	sha256_out(&hash, digest);
	hex_encode(hex, digest, sizeof(digest));

	/* the string to sign, MACed as it is written */
	sigv4_derive(s, r, date, c->secret_key);
	hmac_sha256_init(&mac, s->key, SHA256_LEN);
	k = (struct sig_sink){sigv4_hmac_update, &mac, sts, 0};
	sig_trace_reset(sts);
	sig_puts(&k, SIGV4_ALGO "\n");
	sig_puts(&k, amz_date);
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
	if (k.err)
		return k.err;

	/* Authorization: the credential scope, signed headers and signature */
	k = (struct sig_sink){NULL, NULL, &out, 0};
	sig_trace_reset(&out);
	sig_puts(&k, SIGV4_ALGO " Credential=");
	sig_puts(&k, c->access_key);
	sig_put(&k, "/", 1);
	sig_puts(&k, date);
	sig_put(&k, "/", 1);
	sig_puts(&k, r->region);
	sig_put(&k, "/", 1);
	sig_puts(&k, r->service);
	sig_puts(&k, "/aws4_request, SignedHeaders=");
	sigv4_put_names(&k, all, idx, n);
	sig_puts(&k, ", Signature=");
	hex_encode(hex, digest, sizeof(digest));
	sig_puts(&k, hex);
	return k.err;
}
