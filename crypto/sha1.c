/* SPDX-License-Identifier: MIT */
/*
 * sha1.c - SHA-1 (FIPS 180-4, sections 4.1.1, 5.1.1, 5.3.1 and 6.1), kept
 * only because SigV2 signs with HMAC-SHA1. Same shape as sha256.c.
 */
#include <string.h>
#include "crypto/crypto.h"

/* Section 4.2.1, one constant per group of 20 rounds. */
static const uint32_t sha1_k[4] = {
	0x5a827999,
	0x6ed9eba1,
	0x8f1bbcdc,
	0xca62c1d6,
};

/* Section 5.3.1. */
static const uint32_t sha1_iv[5] = {
	0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0,
};

/* ROTL^n (section 3.2); n is never 0 here. */
static uint32_t rol32(uint32_t x, unsigned int n)
{
	return x << n | x >> (32 - n);
}

/* Words are big-endian (section 3.1). */
static uint32_t load_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Section 6.1.2: the hash computation for one 512-bit block. */
static void sha1_block(uint32_t st[5], const uint8_t *p)
{
	uint32_t a = st[0], b = st[1], c = st[2], d = st[3], e = st[4];
	uint32_t w[16], f, t;
	int i;

	for (i = 0; i < 80; i++) {
		/* Step 1, as a ring of the last 16 words (see sha256.c). */
		if (i < 16) {
			w[i] = load_be32(p + 4 * i);
		} else {
			t = w[(i - 3) & 15] ^ w[(i - 8) & 15];
			t ^= w[(i - 14) & 15] ^ w[i & 15];
			w[i & 15] = rol32(t, 1);
		}
		/* Step 3; f_t (section 4.1.1) is Ch, Parity, Maj, Parity. */
		if (i < 20)
			f = (b & c) ^ (~b & d);
		else if (i >= 40 && i < 60)
			f = (b & c) ^ (b & d) ^ (c & d);
		else
			f = b ^ c ^ d;
		t = rol32(a, 5) + f + e + sha1_k[i / 20] + w[i & 15];
		e = d;
		d = c;
		c = rol32(b, 30);
		b = a;
		a = t;
	}
	/* Step 4. */
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
	st[4] += e;
	/* The schedule holds message words (for HMAC, the padded key). */
	crypto_wipe(w, sizeof(w));
}

void sha1_init(struct sha1_ctx *ctx)
{
	memcpy(ctx->h, sha1_iv, sizeof(ctx->h));
	ctx->count = 0;
}

void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = (size_t)(ctx->count % SHA1_BLOCK), n;

	ctx->count += len;
	while (len) {
		if (!used && len >= SHA1_BLOCK) {
			/* Whole blocks are hashed in place, not copied. */
			sha1_block(ctx->h, p);
			n = SHA1_BLOCK;
		} else {
			n = SHA1_BLOCK - used;
			if (n > len)
				n = len;
			memcpy(ctx->buf + used, p, n);
			used += n;
			if (used == SHA1_BLOCK) {
				sha1_block(ctx->h, ctx->buf);
				used = 0;
			}
		}
		p += n;
		len -= n;
	}
}

/* Section 5.1.1, exactly as for SHA-256 (see sha256_out). */
void sha1_out(struct sha1_ctx *ctx, uint8_t out[SHA1_LEN])
{
	static const uint8_t pad[SHA1_BLOCK] = {0x80};
	uint64_t bits = ctx->count << 3;
	size_t used = (size_t)(ctx->count % SHA1_BLOCK);
	uint8_t len[8];
	int i;

	store_be32(len, (uint32_t)(bits >> 32));
	store_be32(len + 4, (uint32_t)bits);
	sha1_update(ctx, pad, 1 + (SHA1_BLOCK + 55 - used) % SHA1_BLOCK);
	sha1_update(ctx, len, sizeof(len));
	for (i = 0; i < 5; i++)
		store_be32(out + 4 * i, ctx->h[i]);
}

void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN])
{
	struct sha1_ctx ctx;

	sha1_init(&ctx);
	sha1_update(&ctx, data, len);
	sha1_out(&ctx, out);
	crypto_wipe(&ctx, sizeof(ctx));
}
