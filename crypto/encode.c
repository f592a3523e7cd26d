/* SPDX-License-Identifier: MIT */
/* encode.c - hex and base64 (RFC 4648) encodings. */
#include <errno.h>
#include <string.h>
#include "crypto/crypto.h"

size_t hex_encode(char *out, const void *in, size_t len)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = in;
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
	return 2 * len;
}

/* RFC 4648, section 4, table 1. */
static const char base64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/*
 * Section 4: each 24-bit group becomes four characters; a final group of
 * one or two bytes is zero-filled and completed with "==" or "=".
 */
long base64_encode(char *out, size_t outlen, const void *in, size_t len)
{
	const uint8_t *p = in;
	size_t groups = len / 3 + (len % 3 != 0), i, left;
	uint32_t v;

	/* 4 * groups characters and a NUL, without overflow. */
	if (!outlen || (outlen - 1) / 4 < groups)
		return -ENOSPC;
	for (i = 0; i < len; i += 3) {
		left = len - i;
		v = (uint32_t)p[i] << 16;
		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		*out++ = base64_alphabet[v >> 18];
		*out++ = base64_alphabet[v >> 12 & 63];
		*out++ = left > 1 ? base64_alphabet[v >> 6 & 63] : '=';
		*out++ = left > 2 ? base64_alphabet[v & 63] : '=';
	}
	*out = '\0';
	return (long)(4 * groups);
}

int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(void *out, const char *hex, size_t len)
{
	uint8_t *o = out;
	size_t i;
	int hi, lo;

	if (strlen(hex) != 2 * len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		hi = hex_digit(hex[2 * i]);
		lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		o[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* The value of a table 1 character, or -1. */
static int base64_value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Strict, as section 3 allows: no characters outside the alphabet (3.3),
 * padding required (3.2) and only at the end, and the pad bits of a final
 * partial group must be zero (3.5), so each byte string has exactly one
 * accepted encoding. Malformed input is reported before a short buffer;
 * nothing is written past outlen.
 */
long base64_decode(void *out, size_t outlen, const char *in, size_t len)
{
	uint8_t *o = out;
	size_t i, n = 0;
	uint32_t v;
	int j, c, pad = 0;

	if (len % 4)
		return -EINVAL;
	for (i = 0; i < len; i += 4) {
		v = 0;
		for (j = 0; j < 4; j++) {
			c = base64_value(in[i + j]);
			/*
			 * "=" only as the third or fourth character of a
			 * group, and nothing after it: pad is not reset, so
			 * this also confines padding to the last group.
			 */
			if (c < 0) {
				if (in[i + j] != '=' || j < 2)
					return -EINVAL;
				pad++;
				c = 0;
			} else if (pad) {
				return -EINVAL;
			}
			v = v << 6 | (uint32_t)c;
		}
		/* The bytes that padding drops must be zero (3.5). */
		if (v & ((1u << 8 * pad) - 1))
			return -EINVAL;
		for (j = 0; j < 3 - pad; j++, n++)
			if (n < outlen)
				o[n] = (uint8_t)(v >> (16 - 8 * j));
	}
	if (n > outlen)
		return -ENOSPC;
	return (long)n;
}
