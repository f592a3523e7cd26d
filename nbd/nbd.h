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
#include <sys/uio.h>

#define NBD_BLOCK 4096 /* device block size */
#define NBD_MAX_REQUEST                                                        \
	(32u << 20)	     /* longest READ served (and WRITE                 \
				payload drained) */
#define NBD_MAX_INFLIGHT 256 /* per socket */
/* the answers one socket may have in flight, in bytes (one READ of up to
 * NBD_MAX_REQUEST always may) */
#define NBD_MAX_CONN_BYTES (32u << 20)

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
	 * threads at once. Returns 0 or -errno (EIO, ENOMEM...). NULL when
	 * read_iov is given.
	 */
	int (*read)(void *arg, void *buf, uint64_t off, uint32_t len);
	/*
	 * Instead of read: the bytes of [off, off + len) as *niov pieces in
	 * a malloc'ed *iov, held (not to be changed or freed) until
	 * release(arg, *hold). Saves a copy and a buffer per request.
	 * queued_us: how long the request waited for a worker (time
	 * limits count from its arrival). Returns 0 or -errno (then
	 * nothing is held).
	 */
	int (*read_iov)(void *arg, uint64_t off, uint32_t len,
			uint64_t queued_us, struct iovec **iov, unsigned *niov,
			void **hold);
	void (*release)(void *arg, void *hold);
	void *arg;
};

/* A pool of worker threads that runs READs for every connection. */
struct nbd_pool;

/*
 * Starts threads workers; more start (up to max) while READs wait for
 * one, so that a client with many requests in flight has them all
 * answered at once. Workers stay until nbd_pool_free. 0 or -errno.
 */
int nbd_pool_new(struct nbd_pool **pool, unsigned threads, unsigned max);
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
 * (inline when pool is NULL) and their answers go out from a writer
 * thread of fd's own; writes of any kind are refused with EPERM, FLUSH
 * succeeds. Timeouts are fd's: a send that times out (SO_SNDTIMEO) drops
 * the client, and a receive timeout (SO_RCVTIMEO) with nothing in flight
 * ends an idle one (-ETIMEDOUT). Returns when every reply has been sent
 * or dropped: 0 after DISC or a clean close, -errno otherwise. fd is not
 * closed.
 */
int nbd_serve(int fd, const struct nbd_export *ex, struct nbd_pool *pool);

/*
 * ---- Attaching a device: generic netlink, ioctl fallback (netlink.c) ----
 *
 * The kernel side of NBD through the generic netlink family "nbd"
 * (linux/nbd-netlink.h), with the ioctl interface (linux/nbd.h) for kernels
 * without it. Message building and reply parsing are pure functions over
 * caller buffers (unit-tested, fuzzed); nbd_nl_connect() and the other
 * wrappers only add the socket I/O. Nothing here prints or exits.
 */

/* Client flags (linux/nbd.h); netlink.c says why s3root sets neither. */
#define NBD_CFLAG_DESTROY_ON_DISCONNECT (1 << 0)
#define NBD_CFLAG_DISCONNECT_ON_CLOSE (1 << 1)

#define NBD_NL_MAX_SOCKS 64 /* sockets in one CONNECT or RECONFIGURE */
#define NBD_NL_MSGSIZE 1024 /* holds any request built here */

/* A device's configuration. */
struct nbd_nl_config {
	int index;	       /* N of /dev/nbdN; -1: any free device */
	uint64_t size;	       /* bytes; nonzero, a block multiple */
	uint32_t block_size;   /* 0 (kernel default) or 512..65536, 2^n */
	uint64_t server_flags; /* NBD_FLAG_*; CAN_MULTI_CONN for > 1 fd */
	uint64_t client_flags; /* NBD_CFLAG_*; normally 0 */
	uint32_t timeout_s;    /* per request; 0: warn, never fail */
	uint32_t dead_conn_timeout_s; /* wait for a new socket; 0: fail */
};

/* One device of a status reply. */
struct nbd_nl_dev {
	uint32_t index;
	uint8_t connected; /* has a configuration (attached or being set up) */
};

/*
 * An open generic netlink socket with the "nbd" family resolved. The pure
 * functions below read family, seq and pid from it (a test fills them in
 * by hand) and the parsers write err.
 */
struct nbd_nl {
	int fd;
	uint32_t pid;	  /* our port id: replies must be addressed to it */
	uint32_t seq;	  /* of the request in progress */
	uint16_t family;  /* id of "nbd"; 0 until resolved */
	uint32_t version; /* of the family (CTRL_ATTR_VERSION) */
	char err[128];	  /* the kernel's extended-ack text, or "" */
};

/* What a request was, for nbd_nl_strerror(). */
enum nbd_nl_op {
	NBD_NL_FAMILY, /* resolving "nbd" (nbd_nl_open) */
	NBD_NL_CONNECT,
	NBD_NL_CONNECT_INDEX, /* CONNECT to a given index */
	NBD_NL_DISCONNECT,
	NBD_NL_RECONFIGURE,
	NBD_NL_STATUS,
	NBD_NL_IOCTL, /* nbd_ioctl_* */
};

/*
 * What -errno from op means for the user, in words ("the device is in use",
 * "the nbd module is not loaded"...), strerror() when nothing more is
 * known. Never NULL.
 */
const char *nbd_nl_strerror(enum nbd_nl_op op, int err);

/*
 * Builders: each writes one request (NLM_F_REQUEST | NLM_F_ACK, seq from
 * nl->seq, type nl->family or the controller) into buf and returns its
 * length, -EMSGSIZE when len is too small, -EINVAL (-EBADF for a negative
 * fd) for a configuration the kernel would refuse: size 0 or not a block
 * multiple, a bad block size, unknown client flags, no fds or more than
 * NBD_NL_MAX_SOCKS, more than one fd without NBD_FLAG_CAN_MULTI_CONN.
 *
 * CONNECT sends cfg->index when >= 0, the size, block size, timeouts,
 * server and client flags and the fds; RECONFIGURE needs cfg->index >= 0
 * and sends only the index, the two timeouts and the fds (0 fds: timeouts
 * only); STATUS asks for one device, or all with index -1.
 */
int nbd_nl_build_getfamily(const struct nbd_nl *nl, uint8_t *buf, size_t len);
int nbd_nl_build_connect(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			 const struct nbd_nl_config *cfg, const int *fds,
			 unsigned nfds);
int nbd_nl_build_reconfigure(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			     const struct nbd_nl_config *cfg, const int *fds,
			     unsigned nfds);
int nbd_nl_build_disconnect(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			    uint32_t index);
int nbd_nl_build_status(const struct nbd_nl *nl, uint8_t *buf, size_t len,
			int index);

/*
 * Parsers: each takes one received datagram (any number of messages) of
 * the exchange that nl->seq names and returns 1 when more must be read, 0
 * when the kernel's acknowledgement ended it, or -errno: the kernel's error
 * (its extended-ack text in nl->err), -EBADMSG for a malformed reply (a
 * length that runs past its container, an attribute of the wrong size, a
 * required attribute missing), -ESRCH for a message with another seq or
 * pid. Every length is checked before it is used.
 *
 * family: sets nl->family and nl->version (nl->family must start at 0).
 * connect: sets *index (start at -1) from the kernel's NBD_ATTR_INDEX.
 * ack: DISCONNECT and RECONFIGURE, which answer with the ack alone.
 * status: appends up to max devices to devs; *ndevs (start at 0) counts
 * every device, stored or not.
 */
int nbd_nl_parse_family_reply(struct nbd_nl *nl, const uint8_t *buf,
			      size_t len);
int nbd_nl_parse_connect_reply(struct nbd_nl *nl, const uint8_t *buf,
			       size_t len, int *index);
int nbd_nl_parse_ack(struct nbd_nl *nl, const uint8_t *buf, size_t len);
int nbd_nl_parse_status_reply(struct nbd_nl *nl, const uint8_t *buf, size_t len,
			      struct nbd_nl_dev *devs, unsigned max,
			      unsigned *ndevs);

/*
 * Opens a NETLINK_GENERIC socket (replies wait at most timeout_ms, for
 * ever when it is 0) and
 * resolves the family. 0 or -errno (-ENOENT: no nbd module); nl->err holds
 * the kernel's text, if any, on failure. After an error that is not the
 * kernel's (-ETIMEDOUT, -EBADMSG, -ESRCH) close the handle: a late reply
 * would confuse the next request.
 */
int nbd_nl_open(struct nbd_nl *nl, int timeout_ms);
void nbd_nl_close(struct nbd_nl *nl);

/*
 * The commands. connect returns the device index, the others 0; all
 * return -errno on failure. The kernel takes its own reference to each fd
 * (the caller closes its copies afterwards); the sockets must already be
 * in the transmission phase. status returns the number of devices (more
 * than max when devs was too small) and -ENOENT when the one index asked
 * for does not exist.
 */
int nbd_nl_connect(struct nbd_nl *nl, const struct nbd_nl_config *cfg,
		   const int *fds, unsigned nfds);
int nbd_nl_disconnect(struct nbd_nl *nl, uint32_t index);
int nbd_nl_reconfigure(struct nbd_nl *nl, const struct nbd_nl_config *cfg,
		       const int *fds, unsigned nfds);
int nbd_nl_status(struct nbd_nl *nl, int index, struct nbd_nl_dev *devs,
		  unsigned max);

/*
 * The ioctl interface, for kernels without netlink NBD. attach opens dev
 * and sets block size, size, flags, timeout and the socket fd (one: the
 * ioctl interface takes more only with CAN_MULTI_CONN, one call each); it
 * returns the device's fd for nbd_ioctl_do_it(), which serves until a
 * disconnect (it blocks: run it on its own thread) and then clears the
 * socket. detach asks the kernel to disconnect dev. 0 / fd or -errno.
 */
int nbd_ioctl_attach(const char *dev, int fd, const struct nbd_nl_config *cfg);
int nbd_ioctl_do_it(int devfd);
int nbd_ioctl_detach(const char *dev);

#endif
