/* SPDX-License-Identifier: MIT */
/*
 * hmac.c - HMAC (RFC 2104, section 2) over SHA-256 and SHA-1:
 *
 *	H(K XOR opad, H(K XOR ipad, text))
 *
 * The context keeps the two hash states after their first block, so the
 * padded key itself is not kept. Outputs are written last: out may alias
 * the key or the data (sigv4.c derives its signing key in place).
 */
#include <string.h>
#include "crypto/crypto.h"

/* Both hashes have B = 64; the shared key pad relies on it. */
#define HMAC_BLOCK 64
_Static_assert(SHA256_BLOCK == HMAC_BLOCK && SHA1_BLOCK == HMAC_BLOCK,
	       "HMAC block size");

#define HMAC_IPAD 0x36
#define HMAC_OPAD 0x5c

/*
 * RFC 2104, section 2 (and section 3 on long keys): keys longer than B
 * bytes are hashed first; the key is then padded with zeros to B bytes and
 * XORed with ipad, ready for the inner hash.
 */
static void hmac_key_ipad(uint8_t k[HMAC_BLOCK], const void *key, size_t keylen,
			  void (*hash)(const void *, size_t, uint8_t *))
{
	size_t i;

	memset(k, 0, HMAC_BLOCK);
	if (keylen > HMAC_BLOCK)
		hash(key, keylen, k);
	else if (keylen)
		memcpy(k, key, keylen);
	for (i = 0; i < HMAC_BLOCK; i++)
		k[i] ^= HMAC_IPAD;
}

/* Turns K XOR ipad into K XOR opad. */
static void hmac_ipad_to_opad(uint8_t k[HMAC_BLOCK])
{
	size_t i;

	for (i = 0; i < HMAC_BLOCK; i++)
		k[i] ^= HMAC_IPAD ^ HMAC_OPAD;
}

void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key,
		      size_t keylen)
{
	uint8_t k[HMAC_BLOCK];

	hmac_key_ipad(k, key, keylen, sha256);
	sha256_init(&ctx->inner);
	sha256_update(&ctx->inner, k, sizeof(k));
	hmac_ipad_to_opad(k);
	sha256_init(&ctx->outer);
	sha256_update(&ctx->outer, k, sizeof(k));
	crypto_wipe(k, sizeof(k));
}

void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data,
			size_t len)
{
	sha256_update(&ctx->inner, data, len);
}

void hmac_sha256_out(struct hmac_sha256_ctx *ctx, uint8_t out[SHA256_LEN])
{
	uint8_t d[SHA256_LEN];

	sha256_out(&ctx->inner, d);
	sha256_update(&ctx->outer, d, sizeof(d));
	sha256_out(&ctx->outer, out);
	crypto_wipe(d, sizeof(d));
}

void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t out[SHA256_LEN])
{
	struct hmac_sha256_ctx ctx;

	hmac_sha256_init(&ctx, key, keylen);
	hmac_sha256_update(&ctx, data, len);
	hmac_sha256_out(&ctx, out);
	crypto_wipe(&ctx, sizeof(ctx));
}

void hmac_sha1_init(struct hmac_sha1_ctx *ctx, const void *key, size_t keylen)
{
	uint8_t k[HMAC_BLOCK];

	hmac_key_ipad(k, key, keylen, sha1);
	sha1_init(&ctx->inner);
	sha1_update(&ctx->inner, k, sizeof(k));
	hmac_ipad_to_opad(k);
	sha1_init(&ctx->outer);
	sha1_update(&ctx->outer, k, sizeof(k));
	crypto_wipe(k, sizeof(k));
}

void hmac_sha1_update(struct hmac_sha1_ctx *ctx, const void *data, size_t len)
{
	sha1_update(&ctx->inner, data, len);
}

void hmac_sha1_out(struct hmac_sha1_ctx *ctx, uint8_t out[SHA1_LEN])
{
	uint8_t d[SHA1_LEN];

	sha1_out(&ctx->inner, d);
	sha1_update(&ctx->outer, d, sizeof(d));
	sha1_out(&ctx->outer, out);
	crypto_wipe(d, sizeof(d));
}

void hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
	       uint8_t out[SHA1_LEN])
{
	struct hmac_sha1_ctx ctx;

	hmac_sha1_init(&ctx, key, keylen);
	hmac_sha1_update(&ctx, data, len);
	hmac_sha1_out(&ctx, out);
	crypto_wipe(&ctx, sizeof(ctx));
}
