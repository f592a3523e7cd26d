/* SPDX-License-Identifier: MIT */
/* internal.h - helpers shared by the SigV4 and SigV2 signers. */
#ifndef S3ROOT_CRYPTO_INTERNAL_H
#define S3ROOT_CRYPTO_INTERNAL_H

#include <stddef.h>
#include "crypto/sigv4.h"

/*
 * A sink feeds the text being signed to a hash (update may be NULL) and,
 * when copy is set, appends it to a bounded buffer. The first overflow is
 * remembered in err (-ENOSPC), so callers check once at the end.
 */
struct sig_sink {
	void (*update)(void *ctx, const void *data, size_t len);
	void *ctx;
	struct sig_trace *copy;
	int err;
};

/* Empties t (a NULL t or buffer is fine). */
void sig_trace_reset(struct sig_trace *t);
void sig_put(struct sig_sink *k, const char *s, size_t len);
void sig_puts(struct sig_sink *k, const char *s);
/* Appends s URI-encoded as S3 wants it (see sig_uri_encode). */
void sig_put_uri(struct sig_sink *k, const char *s, int keep_slash);
void sig_put_lower(struct sig_sink *k, const char *s);
/* Appends value with outer whitespace trimmed (and inner runs collapsed). */
void sig_put_trimmed(struct sig_sink *k, const char *value, int collapse);

/*
 * Canonical header lines, "name:value\n" with lower-case names, in idx
 * order (see sig_header_order); the values of a repeated name are joined
 * by ','. amz_only keeps x-amz-* headers (SigV2); collapse squeezes inner
 * whitespace (SigV4).
 */
void sig_put_header_lines(struct sig_sink *k, const struct sig_header *h,
			  const size_t *idx, size_t n, int amz_only,
			  int collapse);

/* ASCII case-insensitive comparison, for header names. */
int sig_name_cmp(const char *a, const char *b);

/*
 * Validates the headers (a token name, a value without CR, LF or NUL) and
 * writes into idx the order of their lower-cased names (stable, so equal
 * names keep the given order). Returns 0 or -EINVAL.
 */
int sig_header_order(const struct sig_header *h, size_t n, size_t *idx);

#endif
