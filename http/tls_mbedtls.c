/* SPDX-License-Identifier: MIT */
/*
 * tls_mbedtls.c - the TLS backend on mbedTLS 2.28 (make TLS=mbedtls): the
 * same trust anchors, SNI and host name verification, validation at
 * max(now, build time) and session resumption per host as tls_bearssl.c.
 *
 * mbedTLS 2.28, the version Debian 12 ships, speaks TLS 1.2 only (its TLS
 * 1.3 is an incomplete prototype); so does BearSSL. The library is built
 * with http/mbedtls_config.h.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <mbedtls/aesni.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pem.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include "http/internal.h"

#if !defined(MBEDTLS_X509_TRUSTED_CERTIFICATE_CALLBACK) ||                     \
	!defined(MBEDTLS_THREADING_C) || !defined(MBEDTLS_SSL_PROTO_TLS1_2)
#error "build mbedTLS with http/mbedtls_config.h (make TLS=mbedtls does)"
#endif

#define SESSION_SLOTS 8
#define SUITES_MAX 256

/*
 * The library's defaults put secp521r1 and AES-256 first, and servers that
 * follow the client's order (nginx does) pick them: a full handshake then
 * took 11 ms instead of 7 here. Prefer x25519 and P-256, and AES-128-GCM where
 * the CPU has AES instructions (mbedTLS 2.28 uses them on x86-64 only;
 * measured here, 1.6 times ChaCha20's throughput), else ChaCha20 (its
 * software AES is slower, and not constant-time).
 */
static const mbedtls_ecp_group_id curves[] = {
	MBEDTLS_ECP_DP_CURVE25519, MBEDTLS_ECP_DP_SECP256R1,
	MBEDTLS_ECP_DP_SECP384R1,  MBEDTLS_ECP_DP_SECP521R1,
	MBEDTLS_ECP_DP_NONE,
};
static const int aes_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};
static const int chacha_suites[] = {
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
};

struct tls_ctx {
	/* parsed once, then only read: ca_candidates() gives each
	 * verification copies of its own */
	mbedtls_x509_crt tas;
	size_t ntas;
	mbedtls_ssl_config conf; /* shared by every connection, read-only */
	int suites[SUITES_MAX + 1];
	int insecure;
	int64_t min_time;
	char ca_error[200]; /* why there are no anchors, for open() */
	pthread_mutex_t lock;
	struct {
		char host[URL_MAX_HOST + 1];
		int valid;
		mbedtls_ssl_session sess;
	} sess[SESSION_SLOTS];
	unsigned next_slot;
};

struct tls_conn {
	mbedtls_ssl_context ssl;
	struct http_io *io;
	struct tls_ctx *ctx;
	char host[URL_MAX_HOST + 1];
	char error[URL_MAX_HOST + 160];
};

/* ---- trust anchors from PEM ---- */

static int is_cert_name(const char *name, size_t len)
{
	static const char *const names[] = {
		"CERTIFICATE",
		"X509 CERTIFICATE",
		"TRUSTED CERTIFICATE",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i]) == len && !memcmp(names[i], name, len))
			return 1;
	return 0;
}

/*
 * Every certificate of a PEM bundle (a tls_bundle_parse_fn: buf is
 * NUL-terminated, which strstr() relies on); other objects are skipped,
 * and so are certificates mbedTLS cannot parse, as BearSSL's backend skips
 * those its decoder refuses.
 */
static int load_pem(void *ctx, const char *path, const char *buf, size_t len,
		    char *err, size_t errlen)
{
	struct tls_ctx *c = ctx;
	static const char begin[] = "-----BEGIN ";
	mbedtls_pem_context pem;
	char header[64], footer[64];
	const char *p = buf, *name, *dash, *q;
	size_t used, nlen;
	int r = 0, e, found = 0, line;

	(void)len;
	while ((p = strstr(p, begin))) {
		name = p + sizeof(begin) - 1;
		dash = strstr(name, "-----");
		nlen = dash ? (size_t)(dash - name) : 0;
		/* messages name the line after the BEGIN line, where the
		 * object's text starts (BearSSL's backend says the same) */
		for (line = 2, q = buf; q < p; q++)
			line += *q == '\n';
		if (!dash || nlen > 40 || memchr(name, '\n', nlen)) {
			snprintf(err, errlen,
				 "CA bundle %s: malformed PEM at line %d", path,
				 line - 1);
			return -EINVAL;
		}
		if (!is_cert_name(name, nlen)) {
			p = dash;
			continue;
		}
		snprintf(header, sizeof(header), "-----BEGIN %.*s-----",
			 (int)nlen, name);
		snprintf(footer, sizeof(footer), "-----END %.*s-----",
			 (int)nlen, name);
		mbedtls_pem_init(&pem);
		e = mbedtls_pem_read_buffer(&pem, header, footer,
					    (const unsigned char *)p, NULL, 0,
					    &used);
		if (e) {
			mbedtls_pem_free(&pem);
			snprintf(err, errlen,
				 "CA bundle %s: malformed PEM at line %d", path,
				 line);
			return -EINVAL;
		}
		found++;
		e = mbedtls_x509_crt_parse_der(&c->tas, pem.buf, pem.buflen);
		mbedtls_pem_free(&pem);
		if (e == MBEDTLS_ERR_X509_ALLOC_FAILED)
			return -ENOMEM;
		if (!e)
			c->ntas++;
		p += used;
	}
	if (!c->ntas)
		r = tls_bundle_empty(path, found, err, errlen);
	return r;
}

/*
 * The trusted-certificate callback: fresh copies of the anchors whose
 * subject is child's issuer (x509_crt.h, mbedtls_x509_crt_ca_cb_t). The
 * library frees them after this verification.
 */
static int ca_candidates(void *ctx, const mbedtls_x509_crt *child,
			 mbedtls_x509_crt **out)
{
	struct tls_ctx *c = ctx;
	const mbedtls_x509_crt *ta;
	mbedtls_x509_crt *list = NULL;

	for (ta = &c->tas; ta && c->ntas; ta = ta->next) {
		if (!ta->raw.p ||
		    ta->subject_raw.len != child->issuer_raw.len ||
		    memcmp(ta->subject_raw.p, child->issuer_raw.p,
			   child->issuer_raw.len))
			continue;
		if (!list) {
			list = calloc(1, sizeof(*list));
			if (!list)
				return MBEDTLS_ERR_X509_ALLOC_FAILED;
			mbedtls_x509_crt_init(list);
		}
		if (mbedtls_x509_crt_parse_der(list, ta->raw.p, ta->raw.len) ==
		    MBEDTLS_ERR_X509_ALLOC_FAILED) {
			mbedtls_x509_crt_free(list);
			free(list);
			return MBEDTLS_ERR_X509_ALLOC_FAILED;
		}
	}
	*out = list;
	return 0;
}

/* ---- validity at max(now, build time) ---- */

static int64_t check_time(const struct tls_ctx *c)
{
	int64_t now = time(NULL);

	/* a board without a clock boots in 1970: never check before the
	 * build time */
	return now < c->min_time ? c->min_time : now;
}

static int x509_time_cmp(const mbedtls_x509_time *a, const struct tm *b)
{
	int av[6] = {a->year, a->mon, a->day, a->hour, a->min, a->sec};
	int bv[6] = {b->tm_year + 1900, b->tm_mon + 1, b->tm_mday,
		     b->tm_hour,	b->tm_min,     b->tm_sec};
	int i;

	for (i = 0; i < 6; i++)
		if (av[i] != bv[i])
			return av[i] < bv[i] ? -1 : 1;
	return 0;
}

/*
 * Called for each certificate of the chain once the library has checked
 * it against the system clock: the validity period is checked again at
 * max(now, build time) and the library's verdict on it replaced.
 */
static int verify_time(void *ctx, mbedtls_x509_crt *crt, int depth,
		       uint32_t *flags)
{
	time_t at = (time_t)check_time(ctx);
	struct tm tm;

	(void)depth;
	gmtime_r(&at, &tm);
	*flags &= ~(uint32_t)(MBEDTLS_X509_BADCERT_EXPIRED |
			      MBEDTLS_X509_BADCERT_FUTURE);
	if (x509_time_cmp(&crt->valid_to, &tm) < 0)
		*flags |= MBEDTLS_X509_BADCERT_EXPIRED;
	if (x509_time_cmp(&crt->valid_from, &tm) > 0)
		*flags |= MBEDTLS_X509_BADCERT_FUTURE;
	return 0;
}

/* Randomness straight from getrandom(2): no DRBG state to share between
 * threads, and no /dev/urandom, which a root server no longer sees after
 * switch_root. */
static int random_bytes(void *ctx, unsigned char *buf, size_t len)
{
	ssize_t n;

	(void)ctx;
	while (len) {
		n = getrandom(buf, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int have_aes_instructions(void)
{
#if defined(MBEDTLS_AESNI_C) && defined(MBEDTLS_HAVE_X86_64)
	return mbedtls_aesni_has_support(MBEDTLS_AESNI_AES);
#else
	return 0;
#endif
}

/* Our preferred suites, then the rest of the library's list in its order. */
static void order_suites(struct tls_ctx *c)
{
	const int *first = have_aes_instructions() ? aes_suites : chacha_suites;
	const size_t nfirst = sizeof(aes_suites) / sizeof(aes_suites[0]);
	const int *all = mbedtls_ssl_list_ciphersuites();
	size_t n = 0, i;

	for (i = 0; i < nfirst; i++)
		if (mbedtls_ssl_ciphersuite_from_id(first[i]))
			c->suites[n++] = first[i];
	for (; *all && n < SUITES_MAX; all++) {
		for (i = 0; i < nfirst && first[i] != *all; i++)
			;
		if (i == nfirst)
			c->suites[n++] = *all;
	}
	c->suites[n] = 0;
	mbedtls_ssl_conf_ciphersuites(&c->conf, c->suites);
}

static void free_sessions(struct tls_ctx *c)
{
	unsigned i;

	for (i = 0; i < SESSION_SLOTS; i++)
		mbedtls_ssl_session_free(&c->sess[i].sess);
}

static void free_ctx(struct tls_ctx *c)
{
	free_sessions(c);
	mbedtls_ssl_config_free(&c->conf);
	mbedtls_x509_crt_free(&c->tas);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static int mb_ctx_new(struct tls_ctx **cp, const struct http_client_config *cfg,
		      char *err, size_t errlen)
{
	struct tls_ctx *c = calloc(1, sizeof(*c));
	size_t i;
	int r = 0;

	if (!c)
		return -ENOMEM;
	c->insecure = cfg->insecure;
	c->min_time = cfg->min_time;
	pthread_mutex_init(&c->lock, NULL);
	mbedtls_x509_crt_init(&c->tas);
	mbedtls_ssl_config_init(&c->conf);
	for (i = 0; i < SESSION_SLOTS; i++)
		mbedtls_ssl_session_init(&c->sess[i].sess);
	r = tls_bundle_load(cfg->ca_file, load_pem, c, err, errlen, c->ca_error,
			    sizeof(c->ca_error));
	if (r)
		goto err_free;
	if (mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT,
					MBEDTLS_SSL_TRANSPORT_STREAM,
					MBEDTLS_SSL_PRESET_DEFAULT)) {
		snprintf(err, errlen, "mbedTLS: cannot set up a configuration");
		r = -ENOMEM;
		goto err_free;
	}
	mbedtls_ssl_conf_min_version(&c->conf, MBEDTLS_SSL_MAJOR_VERSION_3,
				     MBEDTLS_SSL_MINOR_VERSION_3);
	mbedtls_ssl_conf_rng(&c->conf, random_bytes, NULL);
	mbedtls_ssl_conf_curves(&c->conf, curves);
	order_suites(c);
	/* s3.insecure: no verification at all (the caller warns) */
	mbedtls_ssl_conf_authmode(&c->conf,
				  c->insecure ? MBEDTLS_SSL_VERIFY_NONE
					      : MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_cb(&c->conf, ca_candidates, c);
	mbedtls_ssl_conf_verify(&c->conf, verify_time, c);
	*cp = c;
	return 0;
err_free:
	free_ctx(c);
	return r;
}

static void mb_ctx_free(struct tls_ctx *c)
{
	if (c)
		free_ctx(c);
}

/*
 * mbedTLS's socket callbacks (ssl.h, mbedtls_ssl_set_bio): a count, 0 at
 * the end of the stream (the library reports MBEDTLS_ERR_SSL_CONN_EOF),
 * or the library's error with the cause in io->err for describe().
 */
static int sock_read(void *ctx, unsigned char *buf, size_t len)
{
	long n = http_io_read(ctx, buf, len);

	return n >= 0 ? (int)n : MBEDTLS_ERR_NET_RECV_FAILED;
}

static int sock_write(void *ctx, const unsigned char *buf, size_t len)
{
	long n = http_io_send(ctx, buf, len);

	return n >= 0 ? (int)n : MBEDTLS_ERR_NET_SEND_FAILED;
}

/* Describes a failed certificate check from the verification flags. */
static void describe_cert(struct tls_conn *t, uint32_t flags)
{
	time_t at = (time_t)check_time(t->ctx);
	char info[160];
	struct tm tm;

	if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED) {
		snprintf(t->error, sizeof(t->error),
			 "certificate of %s not trusted (unknown CA: check "
			 "s3.ca)",
			 t->host);
	} else if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
		snprintf(t->error, sizeof(t->error),
			 "certificate name mismatch: it is not for %s",
			 t->host);
	} else if (flags & (MBEDTLS_X509_BADCERT_EXPIRED |
			    MBEDTLS_X509_BADCERT_FUTURE)) {
		gmtime_r(&at, &tm);
		snprintf(t->error, sizeof(t->error),
			 "certificate of %s expired or not yet valid (checked "
			 "at %04d-%02d-%02dT%02d:%02d:%02dZ)",
			 t->host, tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	} else {
		/* "The certificate ...\n" per flag: the first one */
		if (mbedtls_x509_crt_verify_info(info, sizeof(info), "",
						 flags) <= 0)
			snprintf(info, sizeof(info), "flags 0x%x",
				 (unsigned)flags);
		info[strcspn(info, "\n")] = '\0';
		snprintf(t->error, sizeof(t->error),
			 "certificate of %s rejected (mbedTLS: %.100s)",
			 t->host, info);
	}
}

/* Describes the library's error e; returns the errno to report. */
static int describe(struct tls_conn *t, int e)
{
	char msg[100];

	if (t->io->err && (e == MBEDTLS_ERR_NET_RECV_FAILED ||
			   e == MBEDTLS_ERR_NET_SEND_FAILED ||
			   e == MBEDTLS_ERR_SSL_CONN_EOF || e == 0)) {
		snprintf(t->error, sizeof(t->error), "%s",
			 strerror(t->io->err));
		return -t->io->err;
	}
	switch (e) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		describe_cert(t, mbedtls_ssl_get_verify_result(&t->ssl));
		break;
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		/* the alert's description byte (RFC 5246 7.2) */
		snprintf(t->error, sizeof(t->error), "TLS alert %d from %s",
			 t->ssl.in_msg ? t->ssl.in_msg[1] : -1, t->host);
		break;
	case MBEDTLS_ERR_SSL_ALLOC_FAILED:
		snprintf(t->error, sizeof(t->error), "out of memory");
		return -ENOMEM;
	default:
		mbedtls_strerror(e, msg, sizeof(msg));
		snprintf(t->error, sizeof(t->error),
			 "TLS error -0x%04x with %s (%s)", (unsigned)-e,
			 t->host, msg);
	}
	return -EPROTO;
}

/* RFC 6066 3: a literal address is never a server name. */
static int is_address(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 ||
	       inet_pton(AF_INET6, host, a) == 1;
}

static void conn_free(struct tls_conn *t)
{
	mbedtls_ssl_free(&t->ssl);
	explicit_bzero(t, sizeof(*t));
	free(t);
}

static int mb_open(struct tls_ctx *c, struct tls_conn **tp, struct http_io *io,
		   const char *host, char *err, size_t errlen)
{
	struct tls_conn *t;
	unsigned i;
	int r;

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
	mbedtls_ssl_init(&t->ssl);
	r = mbedtls_ssl_setup(&t->ssl, &c->conf);
	/* SNI and the name the certificate must carry */
	if (!r && !is_address(host))
		r = mbedtls_ssl_set_hostname(&t->ssl, host);
	if (r) {
		r = describe(t, r);
		snprintf(err, errlen, "TLS with %s: %s", host, t->error);
		goto err_free;
	}
	mbedtls_ssl_set_bio(&t->ssl, io, sock_write, sock_read, NULL);
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < SESSION_SLOTS; i++) {
		if (c->sess[i].valid && !strcasecmp(c->sess[i].host, host)) {
			/* a copy: a failure only means a full handshake */
			mbedtls_ssl_set_session(&t->ssl, &c->sess[i].sess);
			break;
		}
	}
	pthread_mutex_unlock(&c->lock);
	do
		r = mbedtls_ssl_handshake(&t->ssl);
	while (r == MBEDTLS_ERR_SSL_WANT_READ ||
	       r == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (r) {
		r = describe(t, r);
		snprintf(err, errlen, "TLS handshake with %s: %s", host,
			 t->error);
		goto err_free;
	}
	pthread_mutex_lock(&c->lock);
	for (i = 0; i < SESSION_SLOTS; i++)
		if (c->sess[i].valid && !strcasecmp(c->sess[i].host, host))
			break;
	if (i == SESSION_SLOTS)
		i = c->next_slot++ % SESSION_SLOTS;
	mbedtls_ssl_session_free(&c->sess[i].sess);
	mbedtls_ssl_session_init(&c->sess[i].sess);
	c->sess[i].valid = !mbedtls_ssl_get_session(&t->ssl, &c->sess[i].sess);
	snprintf(c->sess[i].host, sizeof(c->sess[i].host), "%s", host);
	pthread_mutex_unlock(&c->lock);
	*tp = t;
	return 0;
err_free:
	conn_free(t);
	return r;
}

static long mb_read(struct tls_conn *t, void *buf, size_t len)
{
	int n;

	do
		n = mbedtls_ssl_read(&t->ssl, buf,
				     len > 1 << 30 ? 1 << 30 : len);
	while (n == MBEDTLS_ERR_SSL_WANT_READ ||
	       n == MBEDTLS_ERR_SSL_WANT_WRITE);
	if (n > 0)
		return n;
	/* a close_notify from the server is a clean end; the socket's end
	 * without one (n == 0) is not */
	if (n == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY)
		return 0;
	return describe(t, n);
}

static long mb_write(struct tls_conn *t, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	size_t left = len;
	int n;

	while (left) {
		/* one record at most per call (RFC 5246 6.2.1) */
		n = mbedtls_ssl_write(&t->ssl, p, left);
		if (n == MBEDTLS_ERR_SSL_WANT_READ ||
		    n == MBEDTLS_ERR_SSL_WANT_WRITE)
			continue;
		if (n < 0)
			return describe(t, n);
		p += n;
		left -= (size_t)n;
	}
	return (long)len;
}

static const char *mb_error(struct tls_conn *t)
{
	return t->error;
}

static void mb_close(struct tls_conn *t)
{
	/* no close_notify: the socket closes right after, and waiting for
	 * the peer could block a reader on a dead link */
	conn_free(t);
}

const struct tls_ops tls_backend = {
	"mbedtls", mb_ctx_new, mb_ctx_free, mb_open,
	mb_read,   mb_write,   mb_error,    mb_close,
};
