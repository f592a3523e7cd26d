/* SPDX-License-Identifier: MIT */
/*
 * test_crypto.c - SHA-256, SHA-1, HMAC and the encodings against FIPS 180-4,
 * RFC 4231, RFC 2202 and RFC 4648, plus every message length 0..200 from
 * tests/vectors/sha*-lengths.txt (generated once with python3 hashlib).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/crypto.h"
#include "tests/unit/unit.h"

#define HEX_MAX (2 * SHA256_LEN + 1)

/* Either hash behind one interface, so every table row runs on both. */
enum { ALG_SHA256, ALG_SHA1 };

struct hasher {
	int alg;
	union {
		struct sha256_ctx s256;
		struct sha1_ctx s1;
	} u;
};

static void hasher_init(struct hasher *h, int alg)
{
	h->alg = alg;
	if (alg == ALG_SHA1)
		sha1_init(&h->u.s1);
	else
		sha256_init(&h->u.s256);
}

static void hasher_update(struct hasher *h, const void *p, size_t n)
{
	if (h->alg == ALG_SHA1)
		sha1_update(&h->u.s1, p, n);
	else
		sha256_update(&h->u.s256, p, n);
}

/* The digest in hex. */
static void hasher_hex(struct hasher *h, char hex[HEX_MAX])
{
	uint8_t d[SHA256_LEN];

	if (h->alg == ALG_SHA1) {
		sha1_out(&h->u.s1, d);
		hex_encode(hex, d, SHA1_LEN);
	} else {
		sha256_out(&h->u.s256, d);
		hex_encode(hex, d, SHA256_LEN);
	}
}

/* The one-shot function's digest in hex. */
static void oneshot_hex(int alg, const void *p, size_t n, char hex[HEX_MAX])
{
	uint8_t d[SHA256_LEN];

	if (alg == ALG_SHA1) {
		sha1(p, n, d);
		hex_encode(hex, d, SHA1_LEN);
	} else {
		sha256(p, n, d);
		hex_encode(hex, d, SHA256_LEN);
	}
}

/* FIPS 180-4 examples (NIST "Examples with Intermediate Values"). */
static const struct {
	const char *msg;
	const char *sha1, *sha256;
} fips_cases[] = {
	{"", "da39a3ee5e6b4b0d3255bfef95601890afd80709",
	 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
	{"abc", "a9993e364706816aba3e25717850c26c9cd0d89d",
	 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
	/* 448 bits: the padding no longer fits in the first block. */
	{"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	 "84983e441c3bd26ebaae4aa1f95129e5e54670f1",
	 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
	/* 896 bits, the two-block example of SHA-384 and SHA-512. */
	{"abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
	 "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	 "a49b2446a02c645bf419f995b67091253a04a259",
	 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1"},
};

static void test_sha_fips(void)
{
	struct hasher h;
	char hex[HEX_MAX];
	size_t i, n;
	int alg;

	for (i = 0; i < sizeof(fips_cases) / sizeof(fips_cases[0]); i++) {
		n = strlen(fips_cases[i].msg);
		for (alg = ALG_SHA256; alg <= ALG_SHA1; alg++) {
			const char *want = alg == ALG_SHA1
						   ? fips_cases[i].sha1
						   : fips_cases[i].sha256;

			oneshot_hex(alg, fips_cases[i].msg, n, hex);
			CHECK_STR(hex, want);
			hasher_init(&h, alg);
			hasher_update(&h, NULL, 0);
			hasher_update(&h, fips_cases[i].msg, n);
			hasher_update(&h, NULL, 0);
			hasher_hex(&h, hex);
			CHECK_STR(hex, want);
		}
	}
	oneshot_hex(ALG_SHA256, NULL, 0, hex);
	CHECK_STR(hex, fips_cases[0].sha256);
	oneshot_hex(ALG_SHA1, NULL, 0, hex);
	CHECK_STR(hex, fips_cases[0].sha1);
}

/* One million 'a' (FIPS 180-2, appendices A.3 and B.3), in uneven pieces. */
static void test_sha_million_a(void)
{
	static const size_t chunks[] = {1, 7, 64, 1000, 63, 129};
	static const char *const want[2] = {
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112c"
		"d0",
		"34aa973cd4c4daa4f61eeb2bdbad27316534016f",
	};
	char a[1000], hex[HEX_MAX];
	struct hasher h;
	size_t left, n, i;
	int alg;

	memset(a, 'a', sizeof(a));
	for (alg = ALG_SHA256; alg <= ALG_SHA1; alg++) {
		hasher_init(&h, alg);
		for (left = 1000000, i = 0; left; left -= n, i++) {
			n = chunks[i % (sizeof(chunks) / sizeof(chunks[0]))];
			if (n > left)
				n = left;
			hasher_update(&h, a, n);
		}
		hasher_hex(&h, hex);
		CHECK_STR(hex, want[alg]);
	}
}

/*
 * Each line of the vector file is "LEN HEX", the digest of the bytes
 * i % 251 for i < LEN; every LEN 0..200 must be there, in order. Each is
 * hashed in one call, byte by byte, and in a 63 + rest split.
 */
static void check_lengths(int alg, const char *file)
{
	uint8_t msg[200];
	char *buf = unit_read_vector(file, NULL), *line, *next, *end;
	char hex[HEX_MAX];
	struct hasher h;
	size_t want_len = 0, len, i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i % 251);
	for (line = buf; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (*line == '#' || !*line)
			continue;
		len = strtoul(line, &end, 10);
		if (!CHECK(*end == ' ' && len == want_len &&
			   len <= sizeof(msg)))
			break;
		want_len++;
		end++;
		oneshot_hex(alg, msg, len, hex);
		CHECK_STR(hex, end);
		hasher_init(&h, alg);
		for (i = 0; i < len; i++)
			hasher_update(&h, msg + i, 1);
		hasher_hex(&h, hex);
		CHECK_STR(hex, end);
		i = len < 63 ? len : 63;
		hasher_init(&h, alg);
		hasher_update(&h, msg, i);
		hasher_update(&h, msg + i, len - i);
		hasher_hex(&h, hex);
		CHECK_STR(hex, end);
	}
	CHECK_INT(want_len, 201);
	free(buf);
}

static void test_sha256_lengths(void)
{
	check_lengths(ALG_SHA256, "sha256-lengths.txt");
}

static void test_sha1_lengths(void)
{
	check_lengths(ALG_SHA1, "sha1-lengths.txt");
}

/*
 * An HMAC case: the key is hex, or keylen bytes of keyfill; the data is
 * text, or 50 bytes of datafill. mac may be truncated (RFC 4231 case 5).
 */
struct hmac_case {
	const char *key;
	size_t keylen;
	uint8_t keyfill;
	const char *data;
	uint8_t datafill;
	const char *mac;
};

#define LONG_KEY_DATA                                                          \
	"This is a test using a larger than block-size key and a larger "      \
	"than block-size data. The key needs to be hashed before being "       \
	"used by the HMAC algorithm."

/* RFC 4231, section 4, test cases 1-7. */
static const struct hmac_case rfc4231[] = {
	{NULL, 20, 0x0b, "Hi There", 0,
	 "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
	{"4a656665", 0, 0, "what do ya want for nothing?", 0,
	 "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{NULL, 20, 0xaa, NULL, 0xdd,
	 "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
	{"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd,
	 "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
	{NULL, 20, 0x0c, "Test With Truncation", 0,
	 "a3b6167473100ee06e0c796c2955552b"},
	{NULL, 131, 0xaa,
	 "Test Using Larger Than Block-Size Key - Hash Key First", 0,
	 "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
	{NULL, 131, 0xaa, LONG_KEY_DATA, 0,
	 "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
	/* Not in the RFC: the empty key and message (python3 hmac). */
	{NULL, 0, 0, "", 0,
	 "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
};

/* RFC 2202, section 3, test cases 1-7. */
static const struct hmac_case rfc2202[] = {
	{NULL, 20, 0x0b, "Hi There", 0,
	 "b617318655057264e28bc0b6fb378c8ef146be00"},
	{"4a656665", 0, 0, "what do ya want for nothing?", 0,
	 "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	{NULL, 20, 0xaa, NULL, 0xdd,
	 "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
	{"0102030405060708090a0b0c0d0e0f10111213141516171819", 0, 0, NULL, 0xcd,
	 "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
	{NULL, 20, 0x0c, "Test With Truncation", 0,
	 "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
	{NULL, 80, 0xaa,
	 "Test Using Larger Than Block-Size Key - Hash Key First", 0,
	 "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
	{NULL, 80, 0xaa,
	 "Test Using Larger Than Block-Size Key and Larger Than One "
	 "Block-Size Data",
	 0, "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
	{NULL, 0, 0, "", 0, "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"},
};

/* Runs one case one-shot and streamed (the data split in two). */
static void check_hmac(int alg, const struct hmac_case *c)
{
	uint8_t key[131], data[200], mac[SHA256_LEN];
	size_t keylen = c->keylen, len = 50, half, maclen;
	char hex[HEX_MAX];
	long n;

	if (c->key) {
		n = unit_unhex(key, sizeof(key), c->key);
		if (!CHECK(n >= 0))
			return;
		keylen = (size_t)n;
	} else {
		memset(key, c->keyfill, keylen);
	}
	if (c->data) {
		len = strlen(c->data);
		memcpy(data, c->data, len);
	} else {
		memset(data, c->datafill, len);
	}
	maclen = alg == ALG_SHA1 ? SHA1_LEN : SHA256_LEN;
	CHECK(strlen(c->mac) <= 2 * maclen);
	if (alg == ALG_SHA1)
		hmac_sha1(keylen ? key : NULL, keylen, data, len, mac);
	else
		hmac_sha256(keylen ? key : NULL, keylen, data, len, mac);
	hex_encode(hex, mac, maclen);
	CHECK_MEM(hex, strlen(c->mac), c->mac, strlen(c->mac));

	half = len / 2;
	memset(mac, 0, sizeof(mac));
	if (alg == ALG_SHA1) {
		struct hmac_sha1_ctx ctx;

		hmac_sha1_init(&ctx, key, keylen);
		hmac_sha1_update(&ctx, data, half);
		hmac_sha1_update(&ctx, data + half, len - half);
		hmac_sha1_out(&ctx, mac);
		crypto_wipe(&ctx, sizeof(ctx));
	} else {
		struct hmac_sha256_ctx ctx;

		hmac_sha256_init(&ctx, key, keylen);
		hmac_sha256_update(&ctx, data, half);
		hmac_sha256_update(&ctx, data + half, len - half);
		hmac_sha256_out(&ctx, mac);
		crypto_wipe(&ctx, sizeof(ctx));
	}
	hex_encode(hex, mac, maclen);
	CHECK_MEM(hex, strlen(c->mac), c->mac, strlen(c->mac));
}

static void test_hmac_sha256_rfc4231(void)
{
	size_t i;

	for (i = 0; i < sizeof(rfc4231) / sizeof(rfc4231[0]); i++)
		check_hmac(ALG_SHA256, &rfc4231[i]);
}

static void test_hmac_sha1_rfc2202(void)
{
	size_t i;

	for (i = 0; i < sizeof(rfc2202) / sizeof(rfc2202[0]); i++)
		check_hmac(ALG_SHA1, &rfc2202[i]);
}

/* The output may overwrite the key or the data: sigv4.c relies on it. */
static void test_hmac_alias(void)
{
	uint8_t key[SHA256_LEN], buf[SHA256_LEN], want[SHA256_LEN];
	size_t i;

	for (i = 0; i < sizeof(key); i++)
		key[i] = (uint8_t)i;
	hmac_sha256(key, sizeof(key), "aws4_request", 12, want);
	CHECK(memcmp(want, key, sizeof(key)) != 0);
	hmac_sha256(key, sizeof(key), "aws4_request", 12, key);
	CHECK_MEM(key, sizeof(key), want, sizeof(want));

	memcpy(buf, "0123456789abcdef0123456789abcdef", sizeof(buf));
	hmac_sha256("k", 1, buf, sizeof(buf), want);
	hmac_sha256("k", 1, buf, sizeof(buf), buf);
	CHECK_MEM(buf, sizeof(buf), want, sizeof(want));
	memcpy(buf, "0123456789abcdef0123", SHA1_LEN);
	hmac_sha1(buf, SHA1_LEN, "data", 4, want);
	hmac_sha1(buf, SHA1_LEN, "data", 4, buf);
	CHECK_MEM(buf, SHA1_LEN, want, SHA1_LEN);
}

/* RFC 4648, section 10, and one with the last two characters of table 1. */
static const struct {
	const char *plain;
	size_t len;
	const char *enc;
} b64_cases[] = {
	{"", 0, ""},
	{"f", 1, "Zg=="},
	{"fo", 2, "Zm8="},
	{"foo", 3, "Zm9v"},
	{"foob", 4, "Zm9vYg=="},
	{"fooba", 5, "Zm9vYmE="},
	{"foobar", 6, "Zm9vYmFy"},
	{"\xfb\xff\xbf", 3, "+/+/"},
	{"\0\0", 2, "AAA="},
};

#define B64_CASES (sizeof(b64_cases) / sizeof(b64_cases[0]))

static void test_base64_rfc4648(void)
{
	char enc[16];
	uint8_t dec[16];
	size_t i, elen;

	for (i = 0; i < B64_CASES; i++) {
		elen = strlen(b64_cases[i].enc);
		CHECK_INT(BASE64_LEN(b64_cases[i].len), elen);
		CHECK_INT(base64_encode(enc, sizeof(enc), b64_cases[i].plain,
					b64_cases[i].len),
			  elen);
		CHECK_STR(enc, b64_cases[i].enc);
		CHECK_INT(
			base64_decode(dec, sizeof(dec), b64_cases[i].enc, elen),
			b64_cases[i].len);
		CHECK_MEM(dec, b64_cases[i].len, b64_cases[i].plain,
			  b64_cases[i].len);
		/* Exactly enough room. */
		CHECK_INT(base64_encode(enc, elen + 1, b64_cases[i].plain,
					b64_cases[i].len),
			  elen);
		CHECK_INT(base64_decode(dec, b64_cases[i].len, b64_cases[i].enc,
					elen),
			  b64_cases[i].len);
	}
	CHECK_INT(base64_encode(enc, 1, NULL, 0), 0);
	CHECK_STR(enc, "");
	CHECK_INT(base64_decode(NULL, 0, NULL, 0), 0);
}

/* Short buffers: -ENOSPC, and nothing written past outlen. */
static void test_base64_enospc(void)
{
	char enc[16];
	uint8_t dec[16];
	size_t i, elen, len;

	for (i = 0; i < B64_CASES; i++) {
		elen = strlen(b64_cases[i].enc);
		len = b64_cases[i].len;
		memset(enc, '#', sizeof(enc));
		CHECK_INT(base64_encode(enc, elen, b64_cases[i].plain, len),
			  -ENOSPC);
		CHECK(enc[elen] == '#');
		CHECK_INT(base64_encode(NULL, 0, b64_cases[i].plain, len),
			  -ENOSPC);
		if (!len)
			continue;
		memset(dec, 0xee, sizeof(dec));
		CHECK_INT(base64_decode(dec, len - 1, b64_cases[i].enc, elen),
			  -ENOSPC);
		CHECK(dec[len - 1] == 0xee);
		CHECK_INT(base64_decode(NULL, 0, b64_cases[i].enc, elen),
			  -ENOSPC);
	}
	/* Malformed input is reported as such even with no room. */
	CHECK_INT(base64_decode(NULL, 0, "Zm9=", 4), -EINVAL);
}

/* Each must be rejected with -EINVAL (RFC 4648, sections 3.2, 3.3, 3.5). */
static const struct {
	const char *enc;
	size_t len;
	const char *why;
} b64_bad[] = {
	{"Zm9vYg", 6, "padding missing"},
	{"Zg", 2, "padding missing, short"},
	{"Zm9vY", 5, "length not a multiple of 4"},
	{"Zm9vYg=", 7, "padding short"},
	{"Zm9=", 4, "\"fo\" with a non-zero pad bit"},
	{"Zh==", 4, "\"f\" with non-zero pad bits"},
	{"Zm9vYh==", 8, "non-zero pad bits after a full group"},
	{"Z===", 4, "three pads"},
	{"====", 4, "padding only"},
	{"Zg=a", 4, "data after padding"},
	{"Zg=A", 4, "data after padding, zero bits"},
	{"Zm8=Zm8=", 8, "padding before the last group"},
	{"Zg==Zm9v", 8, "padding before the last group"},
	{"Zm9v====", 8, "a group of padding"},
	{"Zm9v\n", 5, "trailing line break"},
	{"Zg==\r\n", 6, "trailing CRLF"},
	{"Zm9\nYmFy", 8, "inner line break"},
	{"Zm 9", 4, "space"},
	{"Zm9-", 4, "base64url alphabet (section 5)"},
	{"Zm9_", 4, "base64url alphabet (section 5)"},
	{"Zm9v!A==", 8, "punctuation"},
	{"Zm9\x80", 4, "non-ASCII"},
	{"Zm\0v", 4, "NUL inside len"},
};

static void test_base64_reject(void)
{
	uint8_t dec[16];
	size_t i;

	for (i = 0; i < sizeof(b64_bad) / sizeof(b64_bad[0]); i++)
		unit_check_long(base64_decode(dec, sizeof(dec), b64_bad[i].enc,
					      b64_bad[i].len),
				-EINVAL, b64_bad[i].why, __FILE__, __LINE__);
}

/* Every length 0..200 of bytes i % 251 survives a round trip. */
static void test_base64_roundtrip(void)
{
	uint8_t msg[200], dec[200];
	char enc[BASE64_LEN(200) + 1];
	size_t len, i;

	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i % 251 * 97);
	for (len = 0; len <= sizeof(msg); len++) {
		CHECK_INT(base64_encode(enc, sizeof(enc), msg, len),
			  BASE64_LEN(len));
		CHECK_INT(strlen(enc), BASE64_LEN(len));
		CHECK_INT(base64_decode(dec, sizeof(dec), enc, strlen(enc)),
			  len);
		CHECK_MEM(dec, len, msg, len);
	}
}

static void test_hex_encode(void)
{
	static const struct {
		const char *in;
		size_t len;
		const char *hex;
	} cases[] = {
		{"", 0, ""},
		{"\0", 1, "00"},
		{"\xff\x00\x7f\x80", 4, "ff007f80"},
		{"\x01\x23\x45\x67\x89\xab\xcd\xef", 8, "0123456789abcdef"},
		{"abc", 3, "616263"},
	};
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, '#', sizeof(out));
		CHECK_INT(hex_encode(out, cases[i].in, cases[i].len),
			  2 * cases[i].len);
		CHECK_STR(out, cases[i].hex);
	}
	CHECK_INT(hex_encode(out, NULL, 0), 0);
	CHECK_STR(out, "");
}

static void test_memcmp_ct(void)
{
	uint8_t a[64], b[64];
	size_t i;

	for (i = 0; i < sizeof(a); i++)
		a[i] = b[i] = (uint8_t)(i * 7);
	CHECK_INT(crypto_memcmp_ct(a, b, sizeof(a)), 0);
	CHECK_INT(crypto_memcmp_ct(NULL, NULL, 0), 0);
	/* A difference anywhere, of any bit, gives exactly 1. */
	for (i = 0; i < sizeof(a); i += 9) {
		b[i] ^= 0x80;
		CHECK_INT(crypto_memcmp_ct(a, b, sizeof(a)), 1);
		b[i] ^= 0x81;
		CHECK_INT(crypto_memcmp_ct(a, b, sizeof(a)), 1);
		b[i] ^= 0x01;
	}
	b[63] ^= 0x01;
	CHECK_INT(crypto_memcmp_ct(a, b, sizeof(a)), 1);
	CHECK_INT(crypto_memcmp_ct(a, b, sizeof(a) - 1), 0);
	CHECK_INT(crypto_memcmp_ct("\x00", "\xff", 1), 1);
}

static void test_wipe(void)
{
	uint8_t buf[48];
	size_t i;

	memset(buf, 0xa5, sizeof(buf));
	crypto_wipe(buf + 8, 32);
	for (i = 0; i < sizeof(buf); i++)
		CHECK(buf[i] == (i < 8 || i >= 40 ? 0xa5 : 0));
	crypto_wipe(NULL, 0);
	crypto_wipe(buf, sizeof(buf));
	for (i = 0; i < sizeof(buf); i++)
		CHECK(buf[i] == 0);
}

/* RFC 1321 appendix A.5, whole and in uneven pieces. */
static void test_md5_rfc1321(void)
{
	static const struct {
		const char *msg, *md5;
	} cases[] = {
		{"", "d41d8cd98f00b204e9800998ecf8427e"},
		{"a", "0cc175b9c0f1b6a831c399e269772661"},
		{"abc", "900150983cd24fb0d6963f7d28e17f72"},
		{"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
		{"abcdefghijklmnopqrstuvwxyz",
		 "c3fcd3d76192e4007dfb496cca67e13b"},
		{"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz012345678"
		 "9",
		 "d174ab98d277d9f5a5611c2c9f419d9f"},
		{"1234567890123456789012345678901234567890123456789012345678901"
		 "2345678901234567890",
		 "57edf4a22be3c955ac49da2e2107b67a"},
	};
	uint8_t d[MD5_LEN], d2[MD5_LEN], buf[200];
	char hex[2 * MD5_LEN + 1];
	struct md5_ctx ctx;
	size_t i, n, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = strlen(cases[i].msg);
		md5(cases[i].msg, n, d);
		hex_encode(hex, d, MD5_LEN);
		CHECK_STR(hex, cases[i].md5);
		md5_init(&ctx);
		for (k = 0; k < n; k += 3)
			md5_update(&ctx, cases[i].msg + k,
				   n - k < 3 ? n - k : 3);
		md5_out(&ctx, d);
		hex_encode(hex, d, MD5_LEN);
		CHECK_STR(hex, cases[i].md5);
	}
	/* every padding case (55, 56, 63, 64 ... bytes) one way and another */
	for (n = 0; n < sizeof(buf); n++) {
		buf[n] = (uint8_t)(n * 7);
		md5(buf, n, d);
		md5_init(&ctx);
		md5_update(&ctx, buf, n / 2);
		md5_update(&ctx, buf + n / 2, n - n / 2);
		md5_out(&ctx, d2);
		CHECK(!memcmp(d, d2, MD5_LEN));
	}
}

static const struct unit_test tests[] = {
	{"md5_rfc1321", test_md5_rfc1321},
	{"sha_fips", test_sha_fips},
	{"sha_million_a", test_sha_million_a},
	{"sha256_lengths", test_sha256_lengths},
	{"sha1_lengths", test_sha1_lengths},
	{"hmac_sha256_rfc4231", test_hmac_sha256_rfc4231},
	{"hmac_sha1_rfc2202", test_hmac_sha1_rfc2202},
	{"hmac_alias", test_hmac_alias},
	{"base64_rfc4648", test_base64_rfc4648},
	{"base64_enospc", test_base64_enospc},
	{"base64_reject", test_base64_reject},
	{"base64_roundtrip", test_base64_roundtrip},
	{"hex_encode", test_hex_encode},
	{"memcmp_ct", test_memcmp_ct},
	{"wipe", test_wipe},
};

UNIT_SUITE(crypto, tests);
