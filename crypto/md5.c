/* SPDX-License-Identifier: MIT */
/*
 * md5.c - MD5 (RFC 1321), only because S3's SSE-C headers carry the MD5 of
 * the customer's key (x-amz-server-side-encryption-customer-key-MD5). Not
 * for anything that needs a secure hash. Same shape as sha1.c.
 */
#include <string.h>
#include "crypto/crypto.h"

/* Section 3.4: T[i] = floor(2^32 * abs(sin(i + 1))). */
static const uint32_t md5_t[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Section 3.4: the shifts of each round, four per round. */
static const uint8_t md5_s[16] = {7, 12, 17, 22, 5, 9,	14, 20,
				  4, 11, 16, 23, 6, 10, 15, 21};

static uint32_t rol32(uint32_t x, unsigned int n)
{
	return x << n | x >> (32 - n);
}

/* Words are little-endian (section 2). */
static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[1] << 8 | p[0];
}

static void store_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* Section 3.4: one 16-word block, four rounds of 16 operations. */
static void md5_block(uint32_t st[4], const uint8_t *p)
{
	uint32_t a = st[0], b = st[1], c = st[2], d = st[3], x[16], f, t;
	unsigned int i, g;

	for (i = 0; i < 16; i++)
		x[i] = load_le32(p + 4 * i);
	for (i = 0; i < 64; i++) {
		if (i < 16) {
			f = (b & c) | (~b & d); /* F */
			g = i;
		} else if (i < 32) {
			f = (b & d) | (c & ~d); /* G */
			g = (5 * i + 1) & 15;
		} else if (i < 48) {
			f = b ^ c ^ d; /* H */
			g = (3 * i + 5) & 15;
		} else {
			f = c ^ (b | ~d); /* I */
			g = (7 * i) & 15;
		}
		t = d;
		d = c;
		c = b;
		b += rol32(a + f + md5_t[i] + x[g],
			   md5_s[(i / 16) * 4 + (i & 3)]);
		a = t;
	}
	st[0] += a;
	st[1] += b;
	st[2] += c;
	st[3] += d;
}

void md5_init(struct md5_ctx *ctx)
{
	/* section 3.3 */
	ctx->h[0] = 0x67452301;
	ctx->h[1] = 0xefcdab89;
	ctx->h[2] = 0x98badcfe;
	ctx->h[3] = 0x10325476;
	ctx->count = 0;
}

void md5_update(struct md5_ctx *ctx, const void *data, size_t len)
{
	const uint8_t *p = data;
	size_t have = (size_t)(ctx->count % MD5_BLOCK), n;

	ctx->count += len;
	if (have) {
		n = MD5_BLOCK - have < len ? MD5_BLOCK - have : len;
		memcpy(ctx->buf + have, p, n);
		p += n;
		len -= n;
		if (have + n < MD5_BLOCK)
			return;
		md5_block(ctx->h, ctx->buf);
	}
	for (; len >= MD5_BLOCK; p += MD5_BLOCK, len -= MD5_BLOCK)
		md5_block(ctx->h, p);
	if (len)
		memcpy(ctx->buf, p, len);
}

void md5_out(struct md5_ctx *ctx, uint8_t out[MD5_LEN])
{
	/* sections 3.1 and 3.2: 0x80, zeros to 56 mod 64, the bit count */
	uint64_t bits = ctx->count * 8;
	size_t have = (size_t)(ctx->count % MD5_BLOCK);
	int i;

	ctx->buf[have++] = 0x80;
	if (have > MD5_BLOCK - 8) {
		memset(ctx->buf + have, 0, MD5_BLOCK - have);
		md5_block(ctx->h, ctx->buf);
		have = 0;
	}
	memset(ctx->buf + have, 0, MD5_BLOCK - 8 - have);
	store_le32(ctx->buf + 56, (uint32_t)bits);
	store_le32(ctx->buf + 60, (uint32_t)(bits >> 32));
	md5_block(ctx->h, ctx->buf);
	for (i = 0; i < 4; i++)
		store_le32(out + 4 * i, ctx->h[i]);
}

void md5(const void *data, size_t len, uint8_t out[MD5_LEN])
{
	struct md5_ctx ctx;

	md5_init(&ctx);
	md5_update(&ctx, data, len);
	md5_out(&ctx, out);
	crypto_wipe(&ctx, sizeof(ctx));
}
