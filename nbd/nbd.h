/* SPDX-License-Identifier: MIT */
/*
 * nbd.h - the NBD server side: the fixed newstyle handshake and the
 * transmission phase (NBD proto.md), read-only, with many requests in
 * flight per socket answered out of order by a pool of workers.
 *
 * Nothing here prints or exits; functions return 0 or -errno.
 */
#ifndef S3ROOT_NBD_H
#define S3ROOT_NBD_H

#include <stddef.h>
#include <stdint.h>

#define NBD_BLOCK 4096 /* device block size */
#define NBD_MAX_REQUEST                                                        \
	(32u << 20)	     /* longest READ served (and WRITE                 \
				payload drained) */
#define NBD_MAX_INFLIGHT 256 /* per socket */

/* Transmission flags (proto.md, "Transmission flags"). */
#define NBD_FLAG_HAS_FLAGS (1 << 0)
#define NBD_FLAG_READ_ONLY (1 << 1)
#define NBD_FLAG_SEND_FLUSH (1 << 2)
#define NBD_FLAG_SEND_FUA (1 << 3)
#define NBD_FLAG_SEND_TRIM (1 << 5)
#define NBD_FLAG_CAN_MULTI_CONN (1 << 8)

/* Commands. */
enum {
	NBD_CMD_READ = 0,
	NBD_CMD_WRITE = 1,
	NBD_CMD_DISC = 2,
	NBD_CMD_FLUSH = 3,
	NBD_CMD_TRIM = 4,
	NBD_CMD_CACHE = 5,
	NBD_CMD_WRITE_ZEROES = 6,
	NBD_CMD_BLOCK_STATUS = 7,
};

/* Error values on the wire: positive, from proto.md "Error values". */
enum {
	NBD_EPERM = 1,
	NBD_EIO = 5,
	NBD_ENOMEM = 12,
	NBD_EINVAL = 22,
	NBD_ENOSPC = 28,
	NBD_EOVERFLOW = 75,
	NBD_ENOTSUP = 95,
	NBD_ESHUTDOWN = 108,
};

/* Maps -errno from a read callback to the wire value. */
uint32_t nbd_errno_to_wire(int err);

/* What is served. */
struct nbd_export {
	const char *name;	 /* also answers the empty (default) name */
	const char *description; /* NULL for none */
	uint64_t size;		 /* a multiple of NBD_BLOCK */
	uint16_t flags;		 /* NBD_FLAG_* (HAS_FLAGS is added) */
	/*
	 * Reads [off, off + len) into buf, within size; may run on several
	 * threads at once. Returns 0 or -errno (EIO, ENOMEM...).
	 */
	int (*read)(void *arg, void *buf, uint64_t off, uint32_t len);
	void *arg;
};

/* A pool of worker threads that runs READs for every connection. */
struct nbd_pool;

int nbd_pool_new(struct nbd_pool **pool, unsigned threads);
/* Stops the workers after the queued jobs; the connections are done. */
void nbd_pool_free(struct nbd_pool *pool);

/*
 * The fixed newstyle handshake on fd (proto.md, "Newstyle negotiation"):
 * answers NBD_OPT_GO, INFO, EXPORT_NAME, LIST and ABORT, refuses the rest
 * (STRUCTURED_REPLY and STARTTLS included). Returns 0 when transmission
 * may start, 1 when the client ended the negotiation (ABORT, or asked for
 * an export we do not have), -errno on I/O or protocol errors.
 */
int nbd_handshake(int fd, const struct nbd_export *ex);

/*
 * Serves requests on fd until NBD_CMD_DISC, end of file or an error, with
 * exactly one reply per request (none for DISC). READs run on the pool
 * (inline when pool is NULL); writes of any kind are refused with EPERM,
 * FLUSH succeeds. Returns when every reply has been sent: 0 after DISC or
 * a clean close, -errno otherwise. fd is not closed.
 */
int nbd_serve(int fd, const struct nbd_export *ex, struct nbd_pool *pool);

#endif
