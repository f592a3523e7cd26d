/* SPDX-License-Identifier: MIT */
/* internal.h - what the files of http/ share: the TLS backend's table. */
#ifndef S3ROOT_HTTP_INTERNAL_H
#define S3ROOT_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "http/http.h"

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t http_now_ms(void);

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
 * A CA bundle file read whole (at most 4 MiB) into a malloc'ed,
 * NUL-terminated *buf: 0, or -errno with "CA bundle PATH: why" in err.
 */
int tls_bundle_read(const char *path, char **buf, size_t *len, char *err,
		    size_t errlen);
/*
 * The message for a bundle that gave no trust anchor, with found
 * certificate blocks that could not be decoded (or none). Returns -EINVAL.
 */
int tls_bundle_empty(const char *path, int found, char *err, size_t errlen);

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
