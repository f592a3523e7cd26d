/* SPDX-License-Identifier: MIT */
/* internal.h - what the files of http/ share: the TLS backend's table. */
#ifndef S3ROOT_HTTP_INTERNAL_H
#define S3ROOT_HTTP_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "http/http.h"
#include "util/util.h"

/*
 * Waits until fd is ready for events (POLLIN or POLLOUT) or the deadline
 * (monotonic ms) passes: 0, -ETIMEDOUT or -errno.
 */
int http_wait_fd(int fd, short events, int64_t deadline);

/* The socket a TLS connection runs over, and how long it may wait. */
struct tls_io {
	int fd;
	int64_t deadline;
};

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
 * io->fd, verifying host's certificate, and completes the handshake
 * (resuming the last session with that host when it can). read returns
 * the count, 0 on a clean close, or -errno; write sends everything. Errors
 * leave a description in err (open) or in the connection (tls_error).
 */
struct tls_ops {
	const char *name;
	int (*ctx_new)(struct tls_ctx **ctx,
		       const struct http_client_config *cfg, char *err,
		       size_t errlen);
	void (*ctx_free)(struct tls_ctx *ctx);
	int (*open)(struct tls_ctx *ctx, struct tls_conn **tc,
		    struct tls_io *io, const char *host, char *err,
		    size_t errlen);
	long (*read)(struct tls_conn *tc, void *buf, size_t len);
	long (*write)(struct tls_conn *tc, const void *buf, size_t len);
	const char *(*error)(struct tls_conn *tc);
	void (*close)(struct tls_conn *tc);
};

extern const struct tls_ops tls_backend;

#endif
