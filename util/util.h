/* SPDX-License-Identifier: MIT */
/*
 * util.h - the small system helpers every module shares (crypto/ excepted):
 * whole reads and writes on descriptors, the monotonic clock, a netlink
 * request builder. Like the
 * other libraries, it never prints and never exits. Exports: util_*.
 */
#ifndef S3ROOT_UTIL_H
#define S3ROOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads exactly len bytes from fd, retrying after EINTR and short reads.
 * Returns 0, -EPIPE when the file or stream ends first (what was read is
 * in buf), or -errno.
 */
int util_read_full(int fd, void *buf, size_t len);
/* Writes exactly len bytes (EINTR and short writes retried): 0 or -errno. */
int util_write_full(int fd, const void *buf, size_t len);
/* The same at a file offset (pread(2), pwrite(2)): 0, -ENODATA when the
 * file ends first, or -errno. */
int util_pread_full(int fd, void *buf, size_t len, uint64_t off);
int util_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* CLOCK_MONOTONIC in microseconds and in milliseconds. */
int64_t util_mono_us(void);
int64_t util_mono_ms(void);

/* ---- netlink requests (netlink.c) ---- */

/* A request being built in a caller's buffer; err sticks once set. */
struct util_nlb {
	uint8_t *buf;
	size_t cap, len;
	int err;
};

/*
 * Starts a request of type with flags (NLM_F_REQUEST, NLM_F_ACK...) and
 * seq, followed by the famlen bytes of its family header (genlmsghdr,
 * ifaddrmsg...), padded to 4. The buffer must outlive the builder.
 */
void util_nlb_init(struct util_nlb *b, uint8_t *buf, size_t cap, uint16_t type,
		   uint16_t flags, uint32_t seq, const void *fam,
		   size_t famlen);
/* Appends an attribute (zero-padded); returns its offset. */
size_t util_nlb_put(struct util_nlb *b, uint16_t type, const void *data,
		    size_t n);
void util_nlb_u32(struct util_nlb *b, uint16_t type, uint32_t v);
void util_nlb_u64(struct util_nlb *b, uint16_t type, uint64_t v);
/* A nested attribute: util_nlb_nest, its attributes, util_nlb_nest_end
 * with the offset nest returned. */
size_t util_nlb_nest(struct util_nlb *b, uint16_t type);
void util_nlb_nest_end(struct util_nlb *b, size_t at);
/* Sets the length: the request's length, or -EMSGSIZE if it did not fit. */
int util_nlb_end(struct util_nlb *b);

#endif
