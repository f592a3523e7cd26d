/* SPDX-License-Identifier: MIT */
/*
 * tls_bearssl.c - the TLS backend on BearSSL: trust anchors from a PEM
 * bundle, SNI and host name verification, validation at max(now, build
 * time), and session resumption per host.
 */
#include <bearssl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include "http/internal.h"

#define SESSION_SLOTS 8

struct tls_ctx {
	br_x509_trust_anchor *tas;
	size_t ntas;
	int insecure;
	int64_t min_time;
	char ca_error[200]; /* why there are no anchors, for open() */
	pthread_mutex_t lock;
	struct {
		char host[URL_MAX_HOST + 1];
		br_ssl_session_parameters params;
	} sess[SESSION_SLOTS];
	unsigned next_slot;
};

/* A chain checker that reports success whatever the inner one found. */
struct insecure_x509 {
	const br_x509_class *vtable;
	br_x509_minimal_context *inner;
};

struct tls_conn {
	br_ssl_client_context cc;
	br_x509_minimal_context xc;
	struct insecure_x509 ix;
	br_sslio_context ioc;
	struct http_io *io;
	struct tls_ctx *ctx;
	char host[URL_MAX_HOST + 1];
	char error[URL_MAX_HOST + 160];
	unsigned char iobuf[BR_SSL_BUFSIZE_BIDI];
};

/* ---- trust anchors from PEM ---- */

struct vec {
	unsigned char *p;
	size_t len, cap;
	int oom;
};

static void vec_append(void *ctx, const void *data, size_t len)
{
	struct vec *v = ctx;
	unsigned char *np;
	size_t cap;

	if (v->oom)
		return;
	if (v->len + len > v->cap) {
		cap = v->cap ? v->cap * 2 : 1024;
		while (cap < v->len + len)
			cap *= 2;
		np = realloc(v->p, cap);
		if (!np) {
			v->oom = 1;
			return;
		}
		v->p = np;
		v->cap = cap;
	}
	memcpy(v->p + v->len, data, len);
	v->len += len;
}

static unsigned char *dup_bytes(const void *p, size_t n)
{
	unsigned char *d = malloc(n ? n : 1);

	if (d)
		memcpy(d, p, n);
	return d;
}

/* One DER certificate into a trust anchor; 0 or -errno. */
static int add_anchor(struct tls_ctx *c, const unsigned char *der, size_t len)
{
	br_x509_decoder_context dc;
	struct vec dn = {0};
	br_x509_trust_anchor *ta, *grown;
	const br_x509_pkey *pk;

	br_x509_decoder_init(&dc, vec_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (!pk || dn.oom) {
		free(dn.p);
		return dn.oom ? -ENOMEM : -EINVAL;
	}
	grown = realloc(c->tas, (c->ntas + 1) * sizeof(*c->tas));
	if (!grown) {
		free(dn.p);
		return -ENOMEM;
	}
	c->tas = grown;
	ta = &c->tas[c->ntas];
	memset(ta, 0, sizeof(*ta));
	ta->dn.data = dn.p;
	ta->dn.len = dn.len;
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	ta->pkey.key_type = pk->key_type;
	if (pk->key_type == BR_KEYTYPE_RSA) {
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (!ta->pkey.key.rsa.n || !ta->pkey.key.rsa.e)
			return -ENOMEM;
	} else {
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (!ta->pkey.key.ec.q)
			return -ENOMEM;
	}
	c->ntas++;
	return 0;
}

static int is_cert_name(const char *name)
{
	return !strcmp(name, "CERTIFICATE") ||
	       !strcmp(name, "X509 CERTIFICATE") ||
	       !strcmp(name, "TRUSTED CERTIFICATE");
}

/*
 * The length of the DER element that starts der, 0 if it is malformed: a
 * TRUSTED CERTIFICATE is the certificate followed by OpenSSL's trust
 * settings, which BearSSL's decoder would take for garbage (X.690 8.1.3).
 */
static size_t der_len(const unsigned char *der, size_t len)
{
	size_t n = 0, hdr = 2, i;

	if (len < 2 || der[0] != 0x30)
		return 0;
	if (der[1] < 0x80) {
		n = der[1];
	} else {
		hdr += der[1] & 0x7f;
		if (hdr == 2 || hdr > 6 || hdr > len)
			return 0;
		for (i = 2; i < hdr; i++)
			n = n << 8 | der[i];
	}
	return n > len - hdr ? 0 : hdr + n;
}

/* Every certificate of a PEM bundle (a tls_bundle_parse_fn); other objects
 * are skipped. */
static int load_pem(void *ctx, const char *path, const char *buf, size_t len,
		    char *err, size_t errlen)
{
	struct tls_ctx *c = ctx;
	br_pem_decoder_context pc;
	struct vec der = {0};
	int in_cert = 0, r = 0, found = 0, line;
	char *text, *p;
	size_t n, i;

	/* BearSSL ends lines at LF only ("CERTIFICATE-----\r" would be the
	 * name): CRLF becomes LF, and a last line gets the newline without
	 * which its object never ends */
	text = malloc(len + 1);
	if (!text)
		return -ENOMEM;
	for (i = n = 0; i < len; i++)
		if (buf[i] != '\r' || i + 1 == len || buf[i + 1] != '\n')
			text[n++] = buf[i];
	text[n++] = '\n';
	br_pem_decoder_init(&pc);
	for (p = text; n; p += i, n -= i) {
		i = br_pem_decoder_push(&pc, p, n);
		switch (br_pem_decoder_event(&pc)) {
		case BR_PEM_BEGIN_OBJ:
			in_cert = is_cert_name(br_pem_decoder_name(&pc));
			der.len = 0;
			br_pem_decoder_setdest(&pc, in_cert ? vec_append : NULL,
					       &der);
			break;
		case BR_PEM_END_OBJ:
			found += in_cert;
			if (in_cert &&
			    (der.oom ||
			     add_anchor(c, der.p, der_len(der.p, der.len)) ==
				     -ENOMEM)) {
				r = -ENOMEM;
				goto out;
			}
			in_cert = 0;
			break;
		case BR_PEM_ERROR:
			for (line = 1; p > text; p--)
				line += p[-1] == '\n';
			snprintf(err, errlen,
				 "CA bundle %s: malformed PEM at line %d", path,
				 line);
			r = -EINVAL;
			goto out;
		}
	}
	if (!c->ntas)
		r = tls_bundle_empty(path, found, err, errlen);
out:
	free(der.p);
	free(text);
	return r;
}

static void free_anchors(struct tls_ctx *c)
{
	size_t i;

	for (i = 0; i < c->ntas; i++) {
		br_x509_trust_anchor *ta = &c->tas[i];

		free(ta->dn.data);
		if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
			free(ta->pkey.key.rsa.n);
			free(ta->pkey.key.rsa.e);
		} else {
			free(ta->pkey.key.ec.q);
		}
	}
	free(c->tas);
}

static int bs_ctx_new(struct tls_ctx **cp, const struct http_client_config *cfg,
		      char *err, size_t errlen)
{
	struct tls_ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return -ENOMEM;
	c->insecure = cfg->insecure;
	c->min_time = cfg->min_time;
	pthread_mutex_init(&c->lock, NULL);
	r = tls_bundle_load(cfg->ca_file, load_pem, c, err, errlen, c->ca_error,
			    sizeof(c->ca_error));
	if (r) {
		free_anchors(c);
		free(c);
		return r;
	}
	*cp = c;
	return 0;
}

static void bs_ctx_free(struct tls_ctx *c)
{
	if (!c)
		return;
	free_anchors(c);
	explicit_bzero(c->sess, sizeof(c->sess));
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* ---- the insecure chain checker: the inner one, errors ignored ---- */

static struct insecure_x509 *ix_of(const br_x509_class **ctx)
{
	return (struct insecure_x509 *)(void *)ctx;
}

static void ix_start_chain(const br_x509_class **ctx, const char *name)
{
	br_x509_minimal_context *in = ix_of(ctx)->inner;

	(void)name; /* no name check either */
	in->vtable->start_chain(&in->vtable, NULL);
}

static void ix_start_cert(const br_x509_class **ctx, uint32_t len)
{
	br_x509_minimal_context *in = ix_of(ctx)->inner;

	in->vtable->start_cert(&in->vtable, len);
}

static void ix_append(const br_x509_class **ctx, const unsigned char *buf,
		      size_t len)
{
	br_x509_minimal_context *in = ix_of(ctx)->inner;

	in->vtable->append(&in->vtable, buf, len);
}

static void ix_end_cert(const br_x509_class **ctx)
{
	br_x509_minimal_context *in = ix_of(ctx)->inner;

	in->vtable->end_cert(&in->vtable);
}

static unsigned ix_end_chain(const br_x509_class **ctx)
{
	br_x509_minimal_context *in = ix_of(ctx)->inner;

	in->vtable->end_chain(&in->vtable);
	return 0;
}

static const br_x509_pkey *ix_get_pkey(const br_x509_class *const *ctx,
				       unsigned *usages)
{
	const struct insecure_x509 *ix = (const void *)ctx;

	return ix->inner->vtable->get_pkey(&ix->inner->vtable, usages);
}

static const br_x509_class insecure_vtable = {
	sizeof(struct insecure_x509),
	ix_start_chain,
	ix_start_cert,
	ix_append,
	ix_end_cert,
	ix_end_chain,
	ix_get_pkey,
};

/*
 * BearSSL's socket callbacks (bearssl_ssl.h, br_sslio_init): a count, or
 * -1 with the cause in io->err for describe().
 */
static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	long n = http_io_read(ctx, buf, len);

	return n > 0 ? (int)n : -1;
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	long n = http_io_send(ctx, buf, len);

	return n > 0 ? (int)n : -1;
}

/* Describes the engine's last error; returns the errno to report. */
static int describe(struct tls_conn *t)
{
	int e = br_ssl_engine_last_error(&t->cc.eng);
	time_t now = time(NULL);
	struct tm tm;

	if (t->io->err && (e == BR_ERR_OK || e == BR_ERR_IO)) {
		snprintf(t->error, sizeof(t->error), "%s",
			 strerror(t->io->err));
		return -t->io->err;
	}
	switch (e) {
	case BR_ERR_X509_NOT_TRUSTED:
		snprintf(t->error, sizeof(t->error),
			 "certificate of %s not trusted (unknown CA: check "
			 "s3.ca)",
			 t->host);
		break;
	case BR_ERR_X509_BAD_SERVER_NAME:
		snprintf(t->error, sizeof(t->error),
			 "certificate name mismatch: it is not for %s",
			 t->host);
		break;
	case BR_ERR_X509_EXPIRED:
		if (now < t->ctx->min_time)
			now = (time_t)t->ctx->min_time;
		gmtime_r(&now, &tm);
		snprintf(t->error, sizeof(t->error),
			 "certificate of %s expired or not yet valid (checked "
			 "at %04d-%02d-%02dT%02d:%02d:%02dZ)",
			 t->host, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
		break;
	default:
		if (e >= BR_ERR_SEND_FATAL_ALERT)
			snprintf(t->error, sizeof(t->error),
				 "TLS alert %d sent to %s", e & 255, t->host);
		else if (e >= BR_ERR_RECV_FATAL_ALERT)
			snprintf(t->error, sizeof(t->error),
				 "TLS alert %d from %s", e & 255, t->host);
		else if (e >= 32 && e < 64)
			snprintf(t->error, sizeof(t->error),
				 "certificate of %s rejected (BearSSL X.509 "
				 "error %d)",
				 t->host, e);
		else
			snprintf(t->error, sizeof(t->error),
				 "TLS error %d with %s", e, t->host);
	}
	return -EPROTO;
}

/*
 * The client s3root offers, set up piece by piece instead of with
 * br_ssl_client_init_full() (BearSSL's src/ssl/ssl_client_full.c), which
 * links every suite, hash and engine BearSSL has. TLS 1.2 only (RFC 5246;
 * 1.0 and 1.1 are deprecated, RFC 8996), and only the suites RFC 9325 4.2
 * recommends: ECDHE with ECDSA or RSA certificates, AES-GCM (RFC 5289) or
 * ChaCha20-Poly1305 (RFC 7905). Left out: RSA key transport and static
 * ECDH (no forward secrecy, RFC 9325 4.2), CBC suites (MAC-then-encrypt
 * and its padding oracles, Lucky Thirteen in RFC 7457), 3DES (64-bit
 * blocks, under RFC 9325 4.1's 128 bits) and AES-CCM (for small devices;
 * servers that have it have GCM). A server with none of these suites ends
 * the handshake with an alert, which open() reports.
 *
 * Fastest first for this CPU: BearSSL's order puts ChaCha20 first, right
 * for CPUs without AES instructions; with them (and the PCLMULQDQ that
 * GHASH uses) AES-GCM takes several times less CPU per byte, which is
 * what a root filesystem read over TLS spends.
 */
static const uint16_t aes_first[] = {
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};
static const uint16_t chacha_first[] = {
	BR_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	BR_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	BR_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

/*
 * Hashes for the handshake (the SHA-256 and SHA-384 PRFs, signatures of
 * the key exchange) and for certificate signatures. No MD5 or SHA-1:
 * TLS 1.2 needs neither, and a chain signed with SHA-1 (broken, RFC 9155;
 * gone from public CAs since 2016) is refused as unsupported. Roots are
 * anchors, never checked, so a root self-signed with SHA-1 still works.
 */
static const br_hash_class *const hashes[] = {
	&br_sha256_vtable,
	&br_sha384_vtable,
	&br_sha512_vtable,
};

static void client_init(struct tls_conn *t, const struct tls_ctx *c)
{
	br_ssl_engine_context *eng = &t->cc.eng;
	/* x25519, P-256, P-384 and P-521 (RFC 8422 5.1.1) in 31-bit limbs,
	 * init_full's choice on 64-bit CPUs; RSA in 31-bit limbs too, where
	 * init_full takes i62: only public-key operations happen here, a few
	 * microseconds apart, and i31 is 2 KiB less code */
	const br_ec_impl *ec = &br_ec_all_m31;
	br_rsa_pkcs1_vrfy rsa = &br_rsa_i31_pkcs1_vrfy;
	int use_aes = br_aes_x86ni_ctr_get_vtable() && br_ghash_pclmul_get();
	unsigned i, id;

	br_ssl_client_zero(&t->cc);
	br_ssl_engine_set_versions(eng, BR_TLS12, BR_TLS12);
	br_ssl_engine_set_suites(eng, use_aes ? aes_first : chacha_first,
				 sizeof(aes_first) / sizeof(aes_first[0]));
	/* SHA-256 hashes the names the chain is matched on */
	br_x509_minimal_init(&t->xc, &br_sha256_vtable, c->tas, c->ntas);
	br_ssl_engine_set_rsavrfy(eng, rsa);
	br_ssl_engine_set_ec(eng, ec);
	br_ssl_engine_set_ecdsa(eng, &br_ecdsa_i31_vrfy_asn1);
	br_x509_minimal_set_rsa(&t->xc, rsa);
	br_x509_minimal_set_ecdsa(&t->xc, ec, &br_ecdsa_i31_vrfy_asn1);
	for (i = 0; i < sizeof(hashes) / sizeof(hashes[0]); i++) {
		id = (hashes[i]->desc >> BR_HASHDESC_ID_OFF) &
		     BR_HASHDESC_ID_MASK;
		br_ssl_engine_set_hash(eng, (int)id, hashes[i]);
		br_x509_minimal_set_hash(&t->xc, (int)id, hashes[i]);
	}
	br_ssl_engine_set_x509(eng, &t->xc.vtable);
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	/* the fastest constant-time code this CPU runs */
	br_ssl_engine_set_default_aes_gcm(eng);
	br_ssl_engine_set_default_chapol(eng);
}

static int bs_open(struct tls_ctx *c, struct tls_conn **tp, struct http_io *io,
		   const char *host, char *err, size_t errlen)
{
	struct tls_conn *t;
	int64_t now = time(NULL);
	unsigned char seed[32];
	unsigned i;
	int resume = 0, r;

	if (!c->ntas && !c->insecure) {
		snprintf(err, errlen, "%s", c->ca_error);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->io = io;
	t->ctx = c;
	snprintf(t->host, sizeof(t->host), "%s", host);
	client_init(t, c);
	/* a board without a clock boots in 1970: never check before the
	 * build time */
	if (now < c->min_time)
		now = c->min_time;
	br_x509_minimal_set_time(&t->xc, (uint32_t)(now / 86400 + 719528),
				 (uint32_t)(now % 86400));
	if (c->insecure) {
		t->ix.vtable = &insecure_vtable;
		t->ix.inner = &t->xc;
		br_ssl_engine_set_x509(&t->cc.eng, &t->ix.vtable);
	}
	br_ssl_engine_set_buffer(&t->cc.eng, t->iobuf, sizeof(t->iobuf), 1);
	/* seed from getrandom(2): BearSSL's own seeder opens /dev/urandom,
	 * which a root server no longer sees after switch_root */
	if (getrandom(seed, sizeof(seed), 0) == (ssize_t)sizeof(seed))
		br_ssl_engine_inject_entropy(&t->cc.eng, seed, sizeof(seed));
	explicit_bzero(seed, sizeof(seed));
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < SESSION_SLOTS; i++) {
		if (!strcasecmp(c->sess[i].host, host)) {
			br_ssl_engine_set_session_parameters(
				&t->cc.eng, &c->sess[i].params);
			resume = 1;
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	if (!br_ssl_client_reset(&t->cc, host, resume)) {
		describe(t);
		snprintf(err, errlen, "%s", t->error);
		free(t);
		return -EPROTO;
	}
	br_sslio_init(&t->ioc, &t->cc.eng, sock_read, io, sock_write, io);
	/* flushing with nothing to send completes the handshake */
	if (br_sslio_flush(&t->ioc) < 0) {
		r = describe(t);
		snprintf(err, errlen, "TLS handshake with %s: %s", host,
			 t->error);
		free(t);
		return r;
	}
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < SESSION_SLOTS; i++)
		if (!strcasecmp(c->sess[i].host, host))
			break;
	if (i == SESSION_SLOTS)
		i = c->next_slot++ % SESSION_SLOTS;
	snprintf(c->sess[i].host, sizeof(c->sess[i].host), "%s", host);
	br_ssl_engine_get_session_parameters(&t->cc.eng, &c->sess[i].params);
	pthread_mutex_unlock(&c->lock);
	*tp = t;
	return 0;
}

static long bs_read(struct tls_conn *t, void *buf, size_t len)
{
	int n = br_sslio_read(&t->ioc, buf, len > 1 << 30 ? 1 << 30 : len);

	if (n >= 0)
		return n;
	/* a close_notify from the server is a clean end */
	if (br_ssl_engine_current_state(&t->cc.eng) == BR_SSL_CLOSED &&
	    br_ssl_engine_last_error(&t->cc.eng) == BR_ERR_OK && !t->io->err)
		return 0;
	return describe(t);
}

static long bs_write(struct tls_conn *t, const void *buf, size_t len)
{
	if (br_sslio_write_all(&t->ioc, buf, len) < 0 ||
	    br_sslio_flush(&t->ioc) < 0)
		return describe(t);
	return (long)len;
}

static const char *bs_error(struct tls_conn *t)
{
	return t->error;
}

static void bs_close(struct tls_conn *t)
{
	/* no close_notify: the socket closes right after, and waiting for
	 * the peer could block a reader on a dead link */
	explicit_bzero(t, sizeof(*t));
	free(t);
}

const struct tls_ops tls_backend = {
	"bearssl", bs_ctx_new, bs_ctx_free, bs_open,
	bs_read,   bs_write,   bs_error,    bs_close,
};
