/* SPDX-License-Identifier: MIT */
/*
 * internal.h - what the files of http/ share: the clock and socket I/O with
 * deadlines, the CA bundle loader and the TLS backend's table.
 */
#ifndef S3ROOT_HTTP_INTERNAL_H
#define S3ROOT_HTTP_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include "http/http.h"
#include "util/util.h"

/*
 * Waits until fd is ready for events (POLLIN or POLLOUT) or the deadline
 * (monotonic ms) passes: 0, -ETIMEDOUT or -errno.
 */
int http_wait_fd(int fd, short events, int64_t deadline);

/*
 * A connection's socket (non-blocking), how long a read or send may wait
 * for it, and why the last one failed: the errno, or ECONNRESET for the
 * end of the stream (a TLS backend's message names it; under TLS an end
 * before close_notify is a truncation).
 */
struct http_io {
	int fd;
	int64_t deadline;
	int err;
};

/*
 * One read(2) or send(2) of at most len bytes on io->fd, waiting until
 * io->deadline while the socket would block: plain connections and the
 * TLS backends' socket callbacks alike. Returns the count (0 from
 * http_io_read at the end of the stream), or -errno (-ETIMEDOUT), the
 * cause kept in io->err.
 */
long http_io_read(struct http_io *io, void *buf, size_t len);
long http_io_send(struct http_io *io, const void *buf, size_t len);

/*
 * Parses a CA bundle read whole (buf[len] is a NUL) into the backend's
 * trust anchors in ctx: 0, or -errno with "CA bundle PATH: why" in err.
 */
typedef int tls_bundle_parse_fn(void *ctx, const char *path, const char *buf,
				size_t len, char *err, size_t errlen);
/*
 * Loads the trust anchors with parse, from ca_file (at most 4 MiB) when it
 * is set: 0, or -errno with the message in err. Else from the first system
 * bundle that exists; its failure, or the lack of any bundle, is only
 * described in noca, for open() to report when TLS is used, and 0 is
 * returned (but -ENOMEM).
 */
int tls_bundle_load(const char *ca_file, tls_bundle_parse_fn *parse, void *ctx,
		    char *err, size_t errlen, char *noca, size_t nocalen);
/*
 * The message for a bundle that gave no trust anchor, with found
 * certificate blocks that could not be decoded (or none). Returns -EINVAL.
 */
int tls_bundle_empty(const char *path, int found, char *err, size_t errlen);

/* ---- names (names.c) ---- */

#define HTTP_MAX_ADDRS 16 /* addresses tried for one connection */
#define HTTP_NAMES 8	  /* hosts whose last good addresses are kept */

struct http_addrs {
	unsigned n;
	struct sockaddr_storage sa[HTTP_MAX_ADDRS];
	socklen_t len[HTTP_MAX_ADDRS];
};

/* A host and the addresses of its last lookup that led to a connection. */
struct http_name {
	char host[URL_MAX_HOST + 1];
	struct http_addrs good; /* the one that connected first */
	int unresolved;		/* its last lookup failed: good is in use */
	int64_t tried;		/* its last lookup's start, or failure (ms) */
	int64_t used;		/* when it was last asked for (ms) */
};

/* A client's lookups, its hosts' last good addresses and their figures. */
struct http_names {
	pthread_mutex_t lock;
	http_lookup_fn *lookup;
	http_lookup_free_fn *lookup_free;
	void (*note)(void *arg, const char *msg);
	void *note_arg;
	int relookup_ms;
	struct http_name e[HTTP_NAMES];
	uint64_t lookups, failures, last_good_connects;
};

void http_names_init(struct http_names *nm,
		     const struct http_client_config *cfg);
void http_names_destroy(struct http_names *nm);
/*
 * The addresses to try for host:port. A lookup (flags as getaddrinfo's
 * ai_flags: AI_NUMERICHOST for an address) when numeric is set or the
 * host resolves; else the host's last good addresses, with *last_good set
 * (and the host's lookups paced to one per relookup_ms). Returns 0,
 * or -ENOENT with "cannot resolve HOST: why" in err when there is nothing
 * to try.
 */
int http_names_get(struct http_names *nm, const char *host, uint16_t port,
		   int numeric, struct http_addrs *a, int *last_good, char *err,
		   size_t errlen);
/*
 * A connection to a->sa[i] worked: unless last_good (a came from the
 * host's last good addresses), a becomes them, a->sa[i] first.
 */
void http_names_worked(struct http_names *nm, const char *host,
		       const struct http_addrs *a, unsigned i, int last_good);
/* The figures of http_client_stats. */
void http_names_stats(struct http_names *nm, struct http_client_stats *st);
/* An address as text ("?" when it is not IPv4 or IPv6). */
void http_addr_str(const struct sockaddr_storage *sa, char *buf, size_t len);

struct tls_ctx;
struct tls_conn;

/*
 * A TLS backend (tls_bearssl.c or tls_mbedtls.c, chosen at build time).
 * ctx_new loads the trust anchors once; open connects a TLS session over
 * io (kept until close), verifying host's certificate, and completes the
 * handshake (resuming the last session with that host when it can). read
 * returns the count, 0 on a clean close, or -errno; write sends everything.
 * Errors leave a description in err (open) or in the connection (tls_error).
 */
struct tls_ops {
	const char *name;
	int (*ctx_new)(struct tls_ctx **ctx,
		       const struct http_client_config *cfg, char *err,
		       size_t errlen);
	void (*ctx_free)(struct tls_ctx *ctx);
	int (*open)(struct tls_ctx *ctx, struct tls_conn **tc,
		    struct http_io *io, const char *host, char *err,
		    size_t errlen);
	long (*read)(struct tls_conn *tc, void *buf, size_t len);
	long (*write)(struct tls_conn *tc, const void *buf, size_t len);
	const char *(*error)(struct tls_conn *tc);
	void (*close)(struct tls_conn *tc);
};

extern const struct tls_ops tls_backend;

#endif
