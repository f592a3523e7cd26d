/* SPDX-License-Identifier: MIT */
/*
 * sha256.c - SHA-256 (FIPS 180-4, sections 4.1.2, 5.1.1, 5.3.3 and 6.2).
 *
 * One round per loop iteration and a 16-word rolling message schedule: the
 * binary stays small and the code reads like the standard.
 */
#include <string.h>
#include "crypto/crypto.h"

/*
 * Section 4.2.2: the first 32 bits of the fractional parts of the cube
 * roots of the first 64 primes.
 */
static const uint32_t sha256_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1,
	0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3,
	0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
	0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
	0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
	0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
	0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
	0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

/* Section 5.3.3: the square roots of the first 8 primes, likewise. */
static const uint32_t sha256_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* ROTR^n (section 3.2); n is never 0 here. */
static uint32_t ror32(uint32_t x, unsigned int n)
{
	return x >> n | x << (32 - n);
}

/* Section 4.1.2, functions (4.2) to (4.7). */
static uint32_t ch(uint32_t x, uint32_t y, uint32_t z)
{
	return (x & y) ^ (~x & z);
}

static uint32_t maj(uint32_t x, uint32_t y, uint32_t z)
{
	return (x & y) ^ (x & z) ^ (y & z);
}

static uint32_t big_sigma0(uint32_t x)
{
	return ror32(x, 2) ^ ror32(x, 13) ^ ror32(x, 22);
}

static uint32_t big_sigma1(uint32_t x)
{
	return ror32(x, 6) ^ ror32(x, 11) ^ ror32(x, 25);
}

static uint32_t sigma0(uint32_t x)
{
	return ror32(x, 7) ^ ror32(x, 18) ^ x >> 3;
}

static uint32_t sigma1(uint32_t x)
{
	return ror32(x, 17) ^ ror32(x, 19) ^ x >> 10;
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

/* Section 6.2.2: the hash computation for one 512-bit block. */
static void sha256_block(uint32_t st[8], const uint8_t *p)
{
	uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
	uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
	uint32_t w[16], t1, t2;
	int i;

	for (i = 0; i < 64; i++) {
		/*
		 * Step 1, the message schedule, kept as a ring of the last 16
		 * words: W[t-16] is the slot that W[t] replaces.
		 */
		if (i < 16) {
			w[i] = load_be32(p + 4 * i);
		} else {
			w[i & 15] += sigma0(w[(i - 15) & 15]) + w[(i - 7) & 15];
			w[i & 15] += sigma1(w[(i - 2) & 15]);
		}
		/* Step 3. */
		t1 = h + big_sigma1(e) + ch(e, f, g) + sha256_k[i] + w[i & 15];
		t2 = big_sigma0(a) + maj(a, b, c);
		h = g;
		g = f;
		f = e;
		e = d + t1;
		d = c;
		c = b;
		b = a;
		a = t1 + t2;
	}
	/* Step 4. */
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
	st[4] += e;
	st[5] += f;
	st[6] += g;
	st[7] += h;
	/* The schedule holds message words (for HMAC, the padded key). */
	crypto_wipe(w, sizeof(w));
}

void sha256_init(struct sha256_ctx *ctx)
{
	memcpy(ctx->h, sha256_iv, sizeof(ctx->h));
	ctx->count = 0;
}

void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t used = (size_t)(ctx->count % SHA256_BLOCK), n;

	ctx->count += len;
	while (len) {
		if (!used && len >= SHA256_BLOCK) {
			/* Whole blocks are hashed in place, not copied. */
			sha256_block(ctx->h, p);
			n = SHA256_BLOCK;
		} else {
			n = SHA256_BLOCK - used;
			if (n > len)
				n = len;
			memcpy(ctx->buf + used, p, n);
			used += n;
			if (used == SHA256_BLOCK) {
				sha256_block(ctx->h, ctx->buf);
				used = 0;
			}
		}
		p += n;
		len -= n;
	}
}

/*
 * Section 5.1.1: append a 1 bit, then zeros up to 56 bytes modulo 64, then
 * the message length in bits as a 64-bit big-endian number. Messages of
 * 2^61 bytes or more are outside the standard.
 */
void sha256_out(struct sha256_ctx *ctx, uint8_t out[SHA256_LEN])
{
	static const uint8_t pad[SHA256_BLOCK] = {0x80};
	uint64_t bits = ctx->count << 3;
	size_t used = (size_t)(ctx->count % SHA256_BLOCK);
	uint8_t len[8];
	int i;

	store_be32(len, (uint32_t)(bits >> 32));
	store_be32(len + 4, (uint32_t)bits);
	sha256_update(ctx, pad, 1 + (SHA256_BLOCK + 55 - used) % SHA256_BLOCK);
	sha256_update(ctx, len, sizeof(len));
	for (i = 0; i < 8; i++)
		store_be32(out + 4 * i, ctx->h[i]);
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	struct sha256_ctx ctx;

	sha256_init(&ctx);
	sha256_update(&ctx, data, len);
	sha256_out(&ctx, out);
	/* The data may be a secret (sigv4.c fingerprints the secret key). */
	crypto_wipe(&ctx, sizeof(ctx));
}
