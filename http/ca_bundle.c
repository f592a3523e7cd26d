/* SPDX-License-Identifier: MIT */
/*
 * ca_bundle.c - what the TLS backends share about CA bundles: where the
 * system keeps one, reading it whole for the backend's parser, and what to
 * say when it gives no trust anchor.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "http/internal.h"

#define CA_MAX_FILE (4 << 20)

/* s3root's own bundle (as the initramfs builder installs it), then where
 * Debian, Fedora, Alpine and others keep the system bundle. */
static const char *const ca_paths[] = {
	"/etc/s3root/ca.pem",
	"/etc/ssl/certs/ca-certificates.crt",
	"/etc/pki/tls/certs/ca-bundle.crt",
	"/etc/ssl/cert.pem",
	"/etc/ssl/ca-bundle.pem",
};

/* The bundle at path read whole (at most 4 MiB), then parsed. */
static int load(const char *path, tls_bundle_parse_fn *parse, void *ctx,
		char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t len;
	int r;

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
		r = buf ? -EINVAL : -ENOMEM;
		goto out;
	}
	buf[len] = '\0';
	r = parse(ctx, path, buf, len, err, errlen);
out:
	free(buf);
	fclose(f);
	return r;
}

int tls_bundle_load(const char *ca_file, tls_bundle_parse_fn *parse, void *ctx,
		    char *err, size_t errlen, char *noca, size_t nocalen)
{
	size_t i;
	int r;

	if (ca_file)
		return load(ca_file, parse, ctx, err, errlen);
	snprintf(noca, nocalen, "no CA bundle found: set s3.ca");
	for (i = 0; i < sizeof(ca_paths) / sizeof(ca_paths[0]); i++) {
		if (access(ca_paths[i], R_OK))
			continue;
		r = load(ca_paths[i], parse, ctx, noca, nocalen);
		return r == -ENOMEM ? r : 0;
	}
	return 0;
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
