/* SPDX-License-Identifier: MIT */
/* util.c - constant-time comparison and wiping of secrets. */
#ifndef _DEFAULT_SOURCE
#define _DEFAULT_SOURCE /* explicit_bzero in glibc and musl */
#endif
#include <string.h>
#include "crypto/crypto.h"

/*
 * No early exit: every byte is read and the differences are ORed together,
 * so the time depends on len only (a MAC check must not tell an attacker
 * how many leading bytes they guessed right).
 */
int crypto_memcmp_ct(const void *a, const void *b, size_t len)
{
	const uint8_t *x = a, *y = b;
	unsigned int d = 0;
	size_t i;

	for (i = 0; i < len; i++)
		d |= x[i] ^ y[i];
	/* d is 0..255: d - 1 borrows into bit 8 exactly when d is 0. */
	return (int)(((d - 1) >> 8 & 1) ^ 1);
}

/* explicit_bzero is a store the optimiser must keep, unlike a memset. */
void crypto_wipe(void *p, size_t len)
{
	if (len)
		explicit_bzero(p, len);
}
