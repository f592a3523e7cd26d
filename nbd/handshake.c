/* SPDX-License-Identifier: MIT */
/*
 * handshake.c - the server side of the fixed newstyle negotiation (NBD
 * proto.md, "Newstyle negotiation" and "Option types"). Every option's
 * data goes through a bounds-checked cursor and must be consumed exactly.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nbd/internal.h"

#define NBD_MAGIC 0x4e42444d41474943ULL	   /* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454f5054ULL /* "IHAVEOPT" */
#define NBD_REP_MAGIC 0x0003e889045565a9ULL

#define NBD_FLAG_FIXED_NEWSTYLE 1
#define NBD_FLAG_NO_ZEROES 2

enum {
	NBD_OPT_EXPORT_NAME = 1,
	NBD_OPT_ABORT = 2,
	NBD_OPT_LIST = 3,
	NBD_OPT_INFO = 6,
	NBD_OPT_GO = 7,
};

#define NBD_REP_ACK 1u
#define NBD_REP_SERVER 2u
#define NBD_REP_INFO 3u
#define NBD_REP_ERR(n) (0x80000000u | (n))
#define NBD_REP_ERR_UNSUP NBD_REP_ERR(1)
#define NBD_REP_ERR_INVALID NBD_REP_ERR(3)
#define NBD_REP_ERR_UNKNOWN NBD_REP_ERR(6)
#define NBD_REP_ERR_TOO_BIG NBD_REP_ERR(9)

enum {
	NBD_INFO_EXPORT = 0,
	NBD_INFO_NAME = 1,
	NBD_INFO_DESCRIPTION = 2,
	NBD_INFO_BLOCK_SIZE = 3,
};

#define OPT_MAX_DATA 8192	 /* an export name is at most 4096 bytes */
#define OPT_MAX_DRAIN (1u << 20) /* beyond this, close instead */
#define NAME_MAX_LEN 4096

static int send_reply(int fd, uint32_t opt, uint32_t type, const void *data,
		      uint32_t len)
{
	uint8_t h[20];
	int r;

	nbd_put64(h, NBD_REP_MAGIC);
	nbd_put32(h + 8, opt);
	nbd_put32(h + 12, type);
	nbd_put32(h + 16, len);
	r = util_write_full(fd, h, sizeof(h));
	if (!r && len)
		r = util_write_full(fd, data, len);
	return r;
}

static int send_error(int fd, uint32_t opt, uint32_t type, const char *msg)
{
	return send_reply(fd, opt, type, msg, (uint32_t)strlen(msg));
}

/* The empty name is the default export; the export's own name works too. */
static int name_matches(const struct nbd_export *ex, const uint8_t *name,
			size_t len)
{
	return !len ||
	       (strlen(ex->name) == len && !memcmp(ex->name, name, len));
}

static uint16_t tx_flags(const struct nbd_export *ex)
{
	return (uint16_t)(ex->flags | NBD_FLAG_HAS_FLAGS);
}

/* NBD_OPT_INFO and NBD_OPT_GO: 0 to go on, 1 when GO succeeded. */
static int opt_info(int fd, uint32_t opt, const struct nbd_export *ex,
		    const uint8_t *data, uint32_t len)
{
	struct nbd_cur c = {data, len, 1};
	const uint8_t *name, *reqs;
	uint32_t nlen = nbd_get32(&c);
	uint16_t nreq, i, req;
	uint8_t info[2 + 8 + 2 + 4];
	int r, want_bs = 0, want_name = 0, want_desc = 0;

	name = nlen <= NAME_MAX_LEN ? nbd_getbytes(&c, nlen) : NULL;
	nreq = nbd_get16(&c);
	reqs = nbd_getbytes(&c, 2u * nreq);
	if (!name || !reqs || !c.ok || c.len)
		return send_error(fd, opt, NBD_REP_ERR_INVALID,
				  "malformed option data");
	for (i = 0; i < nreq; i++) {
		req = (uint16_t)(reqs[2 * i] << 8 | reqs[2 * i + 1]);
		want_bs |= req == NBD_INFO_BLOCK_SIZE;
		want_name |= req == NBD_INFO_NAME;
		want_desc |= req == NBD_INFO_DESCRIPTION;
	}
	if (!name_matches(ex, name, nlen))
		return send_error(fd, opt, NBD_REP_ERR_UNKNOWN,
				  "no such export");
	nbd_put16(info, NBD_INFO_EXPORT);
	nbd_put64(info + 2, ex->size);
	nbd_put16(info + 10, tx_flags(ex));
	r = send_reply(fd, opt, NBD_REP_INFO, info, 12);
	if (!r && want_bs) {
		/* any byte granularity works; 4 KiB is best; 32 MiB at most */
		nbd_put16(info, NBD_INFO_BLOCK_SIZE);
		nbd_put32(info + 2, 1);
		nbd_put32(info + 6, NBD_BLOCK);
		nbd_put32(info + 10, NBD_MAX_REQUEST);
		r = send_reply(fd, opt, NBD_REP_INFO, info, 14);
	}
	if (!r && (want_name || (want_desc && ex->description))) {
		const char *s = want_name ? ex->name : ex->description;
		size_t n = strlen(s);
		uint8_t *buf = malloc(2 + n);

		if (!buf)
			return -ENOMEM;
		nbd_put16(buf,
			  want_name ? NBD_INFO_NAME : NBD_INFO_DESCRIPTION);
		memcpy(buf + 2, s, n);
		r = send_reply(fd, opt, NBD_REP_INFO, buf, (uint32_t)(2 + n));
		free(buf);
	}
	if (!r)
		r = send_reply(fd, opt, NBD_REP_ACK, NULL, 0);
	return r ? r : opt == NBD_OPT_GO;
}

static int opt_list(int fd, uint32_t opt, const struct nbd_export *ex,
		    uint32_t len)
{
	size_t n = strlen(ex->name);
	uint8_t *buf;
	int r;

	if (len)
		return send_error(fd, opt, NBD_REP_ERR_INVALID,
				  "LIST takes no data");
	buf = malloc(4 + n);
	if (!buf)
		return -ENOMEM;
	nbd_put32(buf, (uint32_t)n);
	memcpy(buf + 4, ex->name, n);
	r = send_reply(fd, opt, NBD_REP_SERVER, buf, (uint32_t)(4 + n));
	free(buf);
	return r ? r : send_reply(fd, opt, NBD_REP_ACK, NULL, 0);
}

/* NBD_OPT_EXPORT_NAME: no reply on failure, the session just ends. */
static int opt_export_name(int fd, const struct nbd_export *ex,
			   const uint8_t *name, uint32_t len, int no_zeroes)
{
	uint8_t buf[8 + 2 + 124] = {0};

	if (!name_matches(ex, name, len))
		return 1;
	nbd_put64(buf, ex->size);
	nbd_put16(buf + 8, tx_flags(ex));
	return util_write_full(fd, buf, no_zeroes ? 10 : sizeof(buf));
}

int nbd_handshake(int fd, const struct nbd_export *ex)
{
	uint8_t hello[18], h[16], cflags[4], *data = NULL;
	struct nbd_cur c;
	uint32_t opt, len, client;
	int r;

	nbd_put64(hello, NBD_MAGIC);
	nbd_put64(hello + 8, NBD_IHAVEOPT);
	nbd_put16(hello + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	r = util_write_full(fd, hello, sizeof(hello));
	if (!r)
		r = util_read_full(fd, cflags, sizeof(cflags));
	if (r)
		return r;
	c = (struct nbd_cur){cflags, 4, 1};
	client = nbd_get32(&c);
	/* unknown client flags, or a client without fixed newstyle (which
	 * could not take our error replies): end here */
	if (client &
		    ~(uint32_t)(NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES) ||
	    !(client & NBD_FLAG_FIXED_NEWSTYLE))
		return -EPROTO;
	for (;;) {
		r = util_read_full(fd, h, sizeof(h));
		if (r)
			goto out;
		c = (struct nbd_cur){h, sizeof(h), 1};
		if (nbd_get64(&c) != NBD_IHAVEOPT) {
			r = -EBADMSG;
			goto out;
		}
		opt = nbd_get32(&c);
		len = nbd_get32(&c);
		if (len > OPT_MAX_DATA) {
			if (opt == NBD_OPT_EXPORT_NAME || len > OPT_MAX_DRAIN) {
				r = -E2BIG;
				goto out;
			}
			r = nbd_discard(fd, len);
			if (!r)
				r = send_error(fd, opt, NBD_REP_ERR_TOO_BIG,
					       "option data too large");
			if (r)
				goto out;
			continue;
		}
		free(data);
		data = malloc(len ? len : 1);
		if (!data) {
			r = -ENOMEM;
			goto out;
		}
		r = util_read_full(fd, data, len);
		if (r)
			break;
		switch (opt) {
		case NBD_OPT_EXPORT_NAME:
			r = opt_export_name(fd, ex, data, len,
					    client & NBD_FLAG_NO_ZEROES);
			goto out;
		case NBD_OPT_ABORT:
			send_reply(fd, opt, NBD_REP_ACK, NULL, 0);
			r = 1;
			goto out;
		case NBD_OPT_LIST:
			r = opt_list(fd, opt, ex, len);
			break;
		case NBD_OPT_INFO:
		case NBD_OPT_GO:
			r = opt_info(fd, opt, ex, data, len);
			if (r == 1)
				r = 0;
			else if (!r)
				continue;
			goto out;
		default: /* STARTTLS, STRUCTURED_REPLY, META_CONTEXT ... */
			r = send_error(fd, opt, NBD_REP_ERR_UNSUP,
				       "option not supported");
			break;
		}
		if (r)
			break;
	}
out:
	free(data);
	return r;
}
