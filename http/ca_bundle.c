/* SPDX-License-Identifier: MIT */
/*
 * ca_bundle.c - what the TLS backends share about a CA bundle file: reading
 * it whole, and what to say when it gives no trust anchor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http/internal.h"

#define CA_MAX_FILE (4 << 20)

int tls_bundle_read(const char *path, char **bufp, size_t *lenp, char *err,
		    size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	int r = 0;

	if (!f) {
		r = -errno;
		snprintf(err, errlen, "CA bundle %s: %s", path, strerror(-r));
		return r;
	}
	buf = malloc(CA_MAX_FILE + 1);
	len = buf ? fread(buf, 1, CA_MAX_FILE, f) : 0;
	if (!buf || ferror(f) || len == CA_MAX_FILE) {
		snprintf(err, errlen, "CA bundle %s: %s", path,
			 !buf	     ? "out of memory"
			 : ferror(f) ? strerror(errno)
				     : "larger than 4 MiB");
		free(buf);
		r = -EINVAL;
	} else {
		buf[len] = '\0';
		*bufp = buf;
		*lenp = len;
	}
	fclose(f);
	return r;
}

int tls_bundle_empty(const char *path, int found, char *err, size_t errlen)
{
	if (found)
		snprintf(err, errlen,
			 "CA bundle %s: none of its %d certificates could be "
			 "decoded",
			 path, found);
	else
		snprintf(err, errlen,
			 "CA bundle %s: no certificates (expected PEM \"BEGIN "
			 "CERTIFICATE\" blocks)",
			 path);
	return -EINVAL;
}
