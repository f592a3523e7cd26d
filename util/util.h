/* SPDX-License-Identifier: MIT */
/*
 * util.h - the small system helpers every module shares (crypto/ excepted):
 * whole reads and writes on descriptors, the monotonic clock, a netlink
 * request builder, a strict reader of small JSON objects. Like the
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

/* ---- small JSON objects (json.c) ---- */

/*
 * A member wanted from a JSON object: its string value is decoded into out
 * (NUL-terminated; a value that does not fit is an error), found set.
 */
struct util_json_field {
	const char *name;
	char *out;
	size_t outlen;
	int found;
};

#define UTIL_JSON_MAX (64 * 1024) /* a document's bytes */
#define UTIL_JSON_MAX_MEMBERS 64

/*
 * Reads one JSON object (RFC 8259) of at most UTIL_JSON_MAX bytes whose
 * members are strings, numbers, true, false or null (no nesting), at most
 * UTIL_JSON_MAX_MEMBERS of them, and fills the wanted fields. Strings must
 * be valid UTF-8; escapes are decoded (\u0000 and lone surrogates are
 * refused). A wanted member given twice, or with another type than a
 * string, is an error; unknown members are checked and skipped. Returns 0,
 * or -EINVAL with "at byte N: what" in err.
 */
int util_json_fields(const char *text, size_t len, struct util_json_field *f,
		     size_t nf, char *err, size_t errlen);

#endif
