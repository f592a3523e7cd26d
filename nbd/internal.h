/* SPDX-License-Identifier: MIT */
/* internal.h - what the files of nbd/ share: wire helpers (whole reads
 * and writes are util.h's). */
#ifndef S3ROOT_NBD_INTERNAL_H
#define S3ROOT_NBD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "nbd/nbd.h"
#include "util/util.h"

/* Reads and drops len bytes: 0 or -errno. */
int nbd_discard(int fd, uint64_t len);

/* Big-endian stores, for building replies. */
void nbd_put16(uint8_t *p, uint16_t v);
void nbd_put32(uint8_t *p, uint32_t v);
void nbd_put64(uint8_t *p, uint64_t v);

/*
 * A bounds-checked cursor over received bytes: every get fails (and keeps
 * failing) once the data runs out, so a parser checks ok once at the end.
 */
struct nbd_cur {
	const uint8_t *p;
	size_t len;
	int ok;
};

uint16_t nbd_get16(struct nbd_cur *c);
uint32_t nbd_get32(struct nbd_cur *c);
uint64_t nbd_get64(struct nbd_cur *c);
/* Points at the next n bytes and skips them; NULL when short. */
const uint8_t *nbd_getbytes(struct nbd_cur *c, size_t n);

#endif
