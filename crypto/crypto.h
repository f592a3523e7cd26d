/* SPDX-License-Identifier: MIT */
/*
 * crypto.h - hashes, HMAC, encodings and helpers for the request signers.
 *
 * Contexts are allocated by the caller; nothing here allocates, prints or
 * exits. Every function is safe to call with a zero length (the pointer may
 * then be NULL).
 */
#ifndef S3ROOT_CRYPTO_H
#define S3ROOT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA256_BLOCK 64
#define SHA1_LEN 20
#define SHA1_BLOCK 64
#define MD5_LEN 16
#define MD5_BLOCK 64

/* SHA-256 (FIPS 180-4, section 6.2). */
struct sha256_ctx {
	uint32_t h[8];
	uint64_t count; /* bytes hashed so far */
	uint8_t buf[SHA256_BLOCK];
};

void sha256_init(struct sha256_ctx *ctx);
void sha256_update(struct sha256_ctx *ctx, const void *data, size_t len);
/* Writes the digest; the context must be initialised again before reuse. */
void sha256_out(struct sha256_ctx *ctx, uint8_t out[SHA256_LEN]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* SHA-1 (FIPS 180-4, section 6.1), for SigV2 only. */
struct sha1_ctx {
	uint32_t h[5];
	uint64_t count;
	uint8_t buf[SHA1_BLOCK];
};

void sha1_init(struct sha1_ctx *ctx);
void sha1_update(struct sha1_ctx *ctx, const void *data, size_t len);
void sha1_out(struct sha1_ctx *ctx, uint8_t out[SHA1_LEN]);
void sha1(const void *data, size_t len, uint8_t out[SHA1_LEN]);

/* MD5 (RFC 1321), for S3's SSE-C key digest only. */
struct md5_ctx {
	uint32_t h[4];
	uint64_t count;
	uint8_t buf[MD5_BLOCK];
};

void md5_init(struct md5_ctx *ctx);
void md5_update(struct md5_ctx *ctx, const void *data, size_t len);
void md5_out(struct md5_ctx *ctx, uint8_t out[MD5_LEN]);
void md5(const void *data, size_t len, uint8_t out[MD5_LEN]);

/*
 * HMAC (RFC 2104) over SHA-256 and SHA-1. The context holds the key's inner
 * and outer states; wipe it with crypto_wipe() when done (the one-shot
 * functions wipe theirs). The digest is written last, so out may overlap
 * the key or the data: hmac_sha256(k, SHA256_LEN, msg, n, k) is fine.
 */
struct hmac_sha256_ctx {
	struct sha256_ctx inner, outer;
};

void hmac_sha256_init(struct hmac_sha256_ctx *ctx, const void *key,
		      size_t keylen);
void hmac_sha256_update(struct hmac_sha256_ctx *ctx, const void *data,
			size_t len);
void hmac_sha256_out(struct hmac_sha256_ctx *ctx, uint8_t out[SHA256_LEN]);
void hmac_sha256(const void *key, size_t keylen, const void *data, size_t len,
		 uint8_t out[SHA256_LEN]);

struct hmac_sha1_ctx {
	struct sha1_ctx inner, outer;
};

void hmac_sha1_init(struct hmac_sha1_ctx *ctx, const void *key, size_t keylen);
void hmac_sha1_update(struct hmac_sha1_ctx *ctx, const void *data, size_t len);
void hmac_sha1_out(struct hmac_sha1_ctx *ctx, uint8_t out[SHA1_LEN]);
void hmac_sha1(const void *key, size_t keylen, const void *data, size_t len,
	       uint8_t out[SHA1_LEN]);

/*
 * Lower-case hex. Writes 2 * len characters and a NUL: out must hold
 * 2 * len + 1 bytes. Returns the number of characters written.
 */
size_t hex_encode(char *out, const void *in, size_t len);
/* A hex digit's value (either case), or -1. */
int hex_digit(char c);
/* Exactly 2 * len hex digits into len bytes: 0, or -EINVAL. */
int hex_decode(void *out, const char *hex, size_t len);

/*
 * Base64 (RFC 4648, section 4, with padding). Writes the encoding and a NUL
 * when it fits in outlen bytes. Returns the encoded length, or -ENOSPC.
 */
#define BASE64_LEN(n) (((n) + 2) / 3 * 4)
long base64_encode(char *out, size_t outlen, const void *in, size_t len);

/*
 * Base64 decoding; padding is required, whitespace is not accepted, and the
 * unused bits of a final partial group must be zero (RFC 4648, 3.5). Returns
 * the decoded length, -EINVAL on malformed input (whatever outlen is), or
 * -ENOSPC if out is short. On failure out may hold part of the result, but
 * nothing past outlen is written.
 */
long base64_decode(void *out, size_t outlen, const char *in, size_t len);

/* Compares len bytes in time that depends only on len: 0 when equal, 1 not. */
int crypto_memcmp_ct(const void *a, const void *b, size_t len);

/* Zeroes memory in a way the compiler may not remove. */
void crypto_wipe(void *p, size_t len);

#endif
