/* SPDX-License-Identifier: MIT */
/*
 * fuzz_sigv4.c - both signers, and SigV4's query signing (presigned URLs),
 * on arbitrary header names, values, paths and query parameters
 * (NUL-separated fields), into small and large buffers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/sigv2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sig_header h[SIG_MAX_HEADERS + 2];
	struct sig_param p[SIG_MAX_PARAMS + 2];
	const char *f[2 * (SIG_MAX_HEADERS + SIG_MAX_PARAMS) + 8];
	size_t nf = 0, nh = 0, np = 0, i;
	struct sigv4_signer s = {0};
	const struct sig_creds c = {"AK", "SK", size & 1 ? "TOKEN" : NULL};
	char *buf = malloc(size + 1), date[17], auth[512], tb[256];
	struct sig_trace tr = {tb, sizeof(tb), 0};

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* fields split at NUL bytes: path, then header and param pairs */
	for (i = 0; i <= size && nf < sizeof(f) / sizeof(f[0]); i++)
		if (i == 0 || buf[i - 1] == '\0')
			f[nf++] = buf + i;
	for (i = 1; i + 1 < nf && nh < SIG_MAX_HEADERS + 2; i += 2)
		h[nh++] = (struct sig_header){f[i], f[i + 1]};
	for (i = 1; i + 1 < nf && np < SIG_MAX_PARAMS + 2; i += 2)
		p[np++] = (struct sig_param){f[i + 1], size & 2 ? f[i] : NULL};
	{
		struct sigv4_request r = {"GET",
					  "h",
					  f[0],
					  p,
					  np,
					  h,
					  nh,
					  SIGV4_UNSIGNED_PAYLOAD,
					  "us-east-1",
					  "s3",
					  (int64_t)size * 86400};
		struct sigv2_request r2 = {"GET", f[0], p, np, h, nh};

		sigv4_sign(&s, &r, &c, date, auth, sizeof(auth), &tr, NULL);
		sigv4_sign(&s, &r, &c, date, auth, 20, NULL, &tr);
		sigv2_sign(&r2, &c, auth, sizeof(auth), &tr);
		sigv4_presign(&s, &r, &c, (unsigned)size * 1000, auth,
			      sizeof(auth), &tr, &tr);
		sigv4_presign(&s, &r, &c, 1, auth, 30, NULL, NULL);
	}
	sigv4_signer_wipe(&s);
	free(buf);
	return 0;
}
