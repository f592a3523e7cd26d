/* SPDX-License-Identifier: MIT */
/*
 * compat.c - glibc's _FORTIFY_SOURCE entry points, for Debian's static
 * libbearssl.a (built against glibc) linked into a musl binary. Each checks
 * the destination size as glibc's does and aborts on overflow.
 */
#if !defined(__GLIBC__)
#include <stdlib.h>
#include <string.h>

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen);
void *__memset_chk(void *dst, int c, size_t n, size_t dstlen);

void *__memcpy_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		abort();
	return memcpy(dst, src, n);
}

void *__memmove_chk(void *dst, const void *src, size_t n, size_t dstlen)
{
	if (n > dstlen)
		abort();
	return memmove(dst, src, n);
}

void *__memset_chk(void *dst, int c, size_t n, size_t dstlen)
{
	if (n > dstlen)
		abort();
	return memset(dst, c, n);
}
#else
/* glibc provides them; keep the translation unit non-empty (ISO C). */
typedef int compat_unused;
#endif
