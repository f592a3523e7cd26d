/* SPDX-License-Identifier: MIT */
/*
 * netlink.c - building netlink requests (netlink(7), linux/netlink.h):
 * a header, a family header (genlmsghdr, ifaddrmsg, rtmsg...) and
 * attributes, through a cursor that fails once and stays failed, so a
 * builder checks for an error once, at util_nlb_end.
 */
#include <errno.h>
#include <string.h>
#include "util/util.h"

#define NLMSG_HDRLEN 16
#define NLA_HDRLEN 4
#define NL_ALIGN(n) (((n) + 3) & ~(size_t)3)

/* Netlink is in host byte order; memcpy keeps unaligned stores defined. */
static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, sizeof(v));
}

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

void util_nlb_init(struct util_nlb *b, uint8_t *buf, size_t cap, uint16_t type,
		   uint16_t flags, uint32_t seq, const void *fam, size_t famlen)
{
	b->buf = buf;
	b->cap = cap;
	b->len = NLMSG_HDRLEN + NL_ALIGN(famlen);
	b->err = 0;
	if (cap < b->len) {
		b->err = -EMSGSIZE;
		return;
	}
	memset(buf, 0, b->len);
	wr16(buf + 4, type);
	wr16(buf + 6, flags);
	wr32(buf + 8, seq);
	/* nlmsg_pid 0: the kernel knows the sender from the socket */
	if (famlen)
		memcpy(buf + NLMSG_HDRLEN, fam, famlen);
}

size_t util_nlb_put(struct util_nlb *b, uint16_t type, const void *data,
		    size_t n)
{
	size_t at = b->len, total = NL_ALIGN(NLA_HDRLEN + n);

	if (b->err || n > 0xffff - NLA_HDRLEN || total > b->cap - b->len) {
		b->err = -EMSGSIZE;
		return at;
	}
	wr16(b->buf + at, (uint16_t)(NLA_HDRLEN + n));
	wr16(b->buf + at + 2, type);
	memset(b->buf + at + NLA_HDRLEN, 0, total - NLA_HDRLEN);
	if (n)
		memcpy(b->buf + at + NLA_HDRLEN, data, n);
	b->len += total;
	return at;
}

void util_nlb_u32(struct util_nlb *b, uint16_t type, uint32_t v)
{
	util_nlb_put(b, type, &v, sizeof(v));
}

void util_nlb_u64(struct util_nlb *b, uint16_t type, uint64_t v)
{
	util_nlb_put(b, type, &v, sizeof(v));
}

/*
 * Nests are written as the kernel's nla_nest_start_noflag() does, without
 * NLA_F_NESTED: nbd's policy is legacy (GENL_DONT_VALIDATE_STRICT), and
 * the older kernels that validate it strictly do not know the flag.
 */
size_t util_nlb_nest(struct util_nlb *b, uint16_t type)
{
	return util_nlb_put(b, type, NULL, 0);
}

void util_nlb_nest_end(struct util_nlb *b, size_t at)
{
	if (!b->err && b->len - at > 0xffff)
		b->err = -EMSGSIZE;
	if (!b->err)
		wr16(b->buf + at, (uint16_t)(b->len - at));
}

int util_nlb_end(struct util_nlb *b)
{
	if (b->err)
		return b->err;
	wr32(b->buf, (uint32_t)b->len);
	return (int)b->len;
}
