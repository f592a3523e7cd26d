/* SPDX-License-Identifier: MIT */
/* wire.c - big-endian fields, a bounded cursor, discarding input. */
#include <errno.h>
#include <unistd.h>
#include "nbd/internal.h"

int nbd_discard(int fd, uint64_t len)
{
	uint8_t buf[4096];
	size_t n;
	int r;

	while (len) {
		n = len < sizeof(buf) ? (size_t)len : sizeof(buf);
		r = util_read_full(fd, buf, n);
		if (r)
			return r;
		len -= n;
	}
	return 0;
}

void nbd_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void nbd_put32(uint8_t *p, uint32_t v)
{
	nbd_put16(p, (uint16_t)(v >> 16));
	nbd_put16(p + 2, (uint16_t)v);
}

void nbd_put64(uint8_t *p, uint64_t v)
{
	nbd_put32(p, (uint32_t)(v >> 32));
	nbd_put32(p + 4, (uint32_t)v);
}

const uint8_t *nbd_getbytes(struct nbd_cur *c, size_t n)
{
	const uint8_t *p = c->p;

	if (!c->ok || c->len < n) {
		c->ok = 0;
		return NULL;
	}
	c->p += n;
	c->len -= n;
	return p;
}

uint16_t nbd_get16(struct nbd_cur *c)
{
	const uint8_t *p = nbd_getbytes(c, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t nbd_get32(struct nbd_cur *c)
{
	uint32_t hi = nbd_get16(c);

	return hi << 16 | nbd_get16(c);
}

uint64_t nbd_get64(struct nbd_cur *c)
{
	uint64_t hi = nbd_get32(c);

	return hi << 32 | nbd_get32(c);
}

uint32_t nbd_errno_to_wire(int err)
{
	switch (err < 0 ? -err : err) {
	case 0:
		return 0;
	case EPERM:
	case EROFS:
		return NBD_EPERM;
	case ENOMEM:
		return NBD_ENOMEM;
	case EINVAL:
		return NBD_EINVAL;
	case ENOSPC:
		return NBD_ENOSPC;
	case EOVERFLOW:
		return NBD_EOVERFLOW;
	case ENOTSUP:
		return NBD_ENOTSUP;
	case ESHUTDOWN:
		return NBD_ESHUTDOWN;
	default:
		return NBD_EIO;
	}
}
