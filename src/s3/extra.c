/* SPDX-License-Identifier: MIT */
/*
 * extra.c - what every request for the object carries besides its range
 * and pin: the version asked for, Requester Pays, the expected bucket owner
 * and an SSE-C key (the S3 user guide, "Using server-side encryption with
 * customer-provided keys": the algorithm, the key and its MD5, base64).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "crypto/crypto.h"
#include "src/s3/s3.h"

#define SSEC_KEY_LEN 32
#define SSEC_FILE_MAX 1024

/* Reads the key file: ours alone (0600), base64 of exactly 32 bytes. */
static int ssec_read(struct s3_extra *x, const char *path, char *err,
		     size_t errlen)
{
	char text[SSEC_FILE_MAX + 1];
	uint8_t key[SSEC_KEY_LEN + 3 * SSEC_FILE_MAX / 4], digest[MD5_LEN];
	struct stat st;
	ssize_t n;
	long k;
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return base_fail(err, errlen, "s3.sse_c_key_file %s: %s", path,
				 strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		r = base_fail(err, errlen,
			      "s3.sse_c_key_file %s: not a regular file", path);
		goto out_close;
	}
	if (st.st_mode & 077) {
		r = base_fail(err, errlen,
			      "s3.sse_c_key_file %s is readable by others "
			      "(mode %03o): chmod 600 it",
			      path, (unsigned)(st.st_mode & 0777));
		goto out_close;
	}
	n = read(fd, text, sizeof(text));
	if (n < 0 || n > SSEC_FILE_MAX) {
		r = base_fail(err, errlen, "s3.sse_c_key_file %s: %s", path,
			      n < 0 ? strerror(errno) : "too large for a key");
		goto out_wipe;
	}
	while (n && strchr(" \t\r\n", text[n - 1]))
		n--;
	k = base64_decode(key, sizeof(key), text, (size_t)n);
	if (k != SSEC_KEY_LEN) {
		r = base_fail(err, errlen,
			      "s3.sse_c_key_file %s: not the base64 of a "
			      "256-bit key (%s); make one with "
			      "'openssl rand -base64 32'",
			      path, k < 0 ? "bad base64" : "not 32 bytes");
		goto out_wipe;
	}
	md5(key, SSEC_KEY_LEN, digest);
	base64_encode(x->ssec_key, sizeof(x->ssec_key), key, SSEC_KEY_LEN);
	base64_encode(x->ssec_md5, sizeof(x->ssec_md5), digest, MD5_LEN);
out_wipe:
	crypto_wipe(text, sizeof(text));
	crypto_wipe(key, sizeof(key));
out_close:
	close(fd);
	return r;
}

int s3_extra_load(struct s3_extra *x, const struct opts *o,
		  const struct source *src, const struct s3_target *t,
		  char *err, size_t errlen)
{
	const char *v;

	memset(x, 0, sizeof(*x));
	v = opts_str(o, OPT_VERSION_ID);
	if (v && src->plain)
		return base_fail(err, errlen,
				 "s3.version_id is for S3 sources (s3://"
				 "BUCKET/KEY): put ?versionId= into a URL");
	if (v)
		snprintf(x->version_id, sizeof(x->version_id), "%s", v);
	x->request_payer = (int)opts_num(o, OPT_REQUEST_PAYER);
	v = opts_str(o, OPT_EXPECTED_OWNER);
	if (v)
		snprintf(x->expected_owner, sizeof(x->expected_owner), "%s", v);
	v = opts_str(o, OPT_SSE_C_KEY_FILE);
	if (!v)
		return 0;
	if (!t->url.tls)
		return base_fail(err, errlen,
				 "s3.sse_c_key_file: an SSE-C key goes only "
				 "over https (the endpoint is http://%s)",
				 t->url.host);
	return ssec_read(x, v, err, errlen);
}

size_t s3_extra_headers(const struct s3_extra *x, const char **names,
			const char **values)
{
	size_t n = 0;

	if (x->request_payer) {
		names[n] = "x-amz-request-payer";
		values[n++] = "requester";
	}
	if (x->expected_owner[0]) {
		names[n] = "x-amz-expected-bucket-owner";
		values[n++] = x->expected_owner;
	}
	if (x->ssec_key[0]) {
		names[n] = "x-amz-server-side-encryption-customer-algorithm";
		values[n++] = "AES256";
		names[n] = "x-amz-server-side-encryption-customer-key";
		values[n++] = x->ssec_key;
		names[n] = "x-amz-server-side-encryption-customer-key-MD5";
		values[n++] = x->ssec_md5;
	}
	return n;
}

void s3_extra_wipe(struct s3_extra *x)
{
	crypto_wipe(x, sizeof(*x));
}
