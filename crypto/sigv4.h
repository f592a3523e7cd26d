/* SPDX-License-Identifier: MIT */
/*
 * sigv4.h - AWS Signature Version 4 for S3 requests (header auth).
 *
 * Reference: AWS "Authenticating Requests: Using the Authorization Header"
 * (sig-v4-header-based-auth). S3 differs from other services in two ways
 * that matter here: the canonical URI is the request path encoded once (no
 * double encoding, no normalisation of "." or "//"), and the payload hash is
 * sent as x-amz-content-sha256 and signed.
 *
 * Nothing here allocates; inputs are borrowed for the duration of the call.
 */
#ifndef S3ROOT_SIGV4_H
#define S3ROOT_SIGV4_H

#include <stddef.h>
#include <stdint.h>
#include "crypto/crypto.h"

#define SIG_MAX_HEADERS 32
#define SIG_MAX_PARAMS 16

/* A request header: name as given (any case), value as sent. */
struct sig_header {
	const char *name;
	const char *value;
};

/* A query parameter, decoded; value NULL for a bare name ("?uploads"). */
struct sig_param {
	const char *name;
	const char *value;
};

struct sig_creds {
	const char *access_key;
	const char *secret_key;
	const char *session_token; /* NULL or "" without one */
};

/*
 * Where the signer copies the text it hashed, for `sign -v`. A NULL buf
 * skips the copy. Overflow is reported by the sign call as -ENOSPC.
 */
struct sig_trace {
	char *buf;
	size_t size;
	size_t len;
};

/* The payload hashes S3 accepts for a body-less request. */
#define SIGV4_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"
#define SIGV4_EMPTY_SHA256                                                     \
	"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_request {
	const char *method;
	const char *host; /* the Host header's value, port included if sent */
	const char *path; /* the request path as sent, already URI-encoded */
	const struct sig_param *params;
	size_t nparams;
	const struct sig_header *headers; /* more headers to sign (Range...) */
	size_t nheaders;
	const char *payload_hash; /* SIGV4_UNSIGNED_PAYLOAD or hex sha256 */
	const char *region;
	const char *service; /* "s3" */
	int64_t time;	     /* seconds since the epoch, UTC */
};

/*
 * The signing key for a date, region and service is derived once and kept
 * here (with a fingerprint of the secret, so a rotated secret derives a new
 * one). Zero-initialise; sigv4_signer_wipe() when done.
 */
struct sigv4_signer {
	char date[9];
	char region[64];
	char service[16];
	uint8_t secret_fp[SHA256_LEN];
	uint8_t key[SHA256_LEN];
	int have_key;
};

void sigv4_signer_wipe(struct sigv4_signer *s);

/*
 * Signs req. The signer adds to the canonical headers, and the caller must
 * send with these exact values: x-amz-content-sha256 (req->payload_hash),
 * x-amz-date (written to amz_date) and, with a session token,
 * x-amz-security-token. Writes the Authorization header's value to auth.
 * With canon/sts non-NULL, copies the canonical request and the string to
 * sign. Returns 0, -EINVAL for a request that cannot be signed (too many
 * headers, a header without a name, a time out of range), or -ENOSPC.
 */
int sigv4_sign(struct sigv4_signer *s, const struct sigv4_request *req,
	       const struct sig_creds *creds, char amz_date[17], char *auth,
	       size_t authlen, struct sig_trace *canon, struct sig_trace *sts);

/*
 * A presigned URL's query (SigV4 query auth, AWS "Authenticating Requests:
 * Using Query Parameters"): req's own parameters, then X-Amz-Algorithm,
 * X-Amz-Credential, X-Amz-Date, X-Amz-Expires (expires seconds, 1 to
 * SIGV4_MAX_EXPIRES), X-Amz-SignedHeaders (host and req's headers), with
 * a session token X-Amz-Security-Token, and X-Amz-Signature last, in
 * botocore's order; the canonical query is all but the signature, sorted.
 * req->payload_hash should be SIGV4_UNSIGNED_PAYLOAD. Writes the query
 * (without '?', NUL-terminated) to query. canon and sts as for
 * sigv4_sign. Returns 0, -EINVAL (as sigv4_sign, or expires out of range)
 * or -ENOSPC.
 */
#define SIGV4_MAX_EXPIRES 604800 /* seven days, S3's limit */
int sigv4_presign(struct sigv4_signer *s, const struct sigv4_request *req,
		  const struct sig_creds *creds, unsigned expires, char *query,
		  size_t qlen, struct sig_trace *canon, struct sig_trace *sts);

/*
 * URI encoding as S3 wants it: every byte outside A-Z a-z 0-9 - . _ ~ is
 * written as %XX (upper-case hex); '/' is kept when keep_slash. Writes a
 * NUL. Returns the length, or -ENOSPC.
 */
long sig_uri_encode(char *out, size_t outlen, const char *in, size_t len,
		    int keep_slash);

/* Formats t as YYYYMMDDTHHMMSSZ; -EINVAL if out of the years 0..9999. */
int sig_amz_date(char out[17], int64_t t);

/* Parses YYYYMMDDTHHMMSSZ; -EINVAL when malformed or not a valid date. */
int sig_parse_amz_date(const char *s, int64_t *t);

#endif
