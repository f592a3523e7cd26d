/* SPDX-License-Identifier: MIT */
/*
 * sigv2.h - AWS Signature Version 2 for S3 (RESTAuthentication).
 *
 * StringToSign = Method \n Content-MD5 \n Content-Type \n Date \n
 *                CanonicalizedAmzHeaders CanonicalizedResource
 * Authorization = "AWS " AccessKey ":" base64(HMAC-SHA1(secret, sts))
 *
 * When an x-amz-date header is present, the Date line is empty. The
 * canonicalized resource is /bucket/key in both URL styles, followed by the
 * subresources S3 signs (versionId, acl, response-* overrides ...).
 */
#ifndef S3ROOT_SIGV2_H
#define S3ROOT_SIGV2_H

#include "crypto/sigv4.h"

struct sigv2_request {
	const char *method;
	/* "/bucket/key" URI-encoded as on the wire, whatever the URL style */
	const char *resource;
	const struct sig_param
		*params; /* the query; non-subresources ignored */
	size_t nparams;
	/* the request's headers: Date (or x-amz-date), Content-*, x-amz-* */
	const struct sig_header *headers;
	size_t nheaders;
};

/*
 * Signs req; with a session token, signs x-amz-security-token (which the
 * caller must send). Writes the Authorization value to auth and, with sts
 * non-NULL, the string to sign. Returns 0, -EINVAL or -ENOSPC.
 */
int sigv2_sign(const struct sigv2_request *req, const struct sig_creds *creds,
	       char *auth, size_t authlen, struct sig_trace *sts);

/* Formats t as an RFC 9110 IMF-fixdate ("Tue, 27 Mar 2007 19:36:42 GMT"). */
int sig_http_date(char out[30], int64_t t);

/*
 * Parses an IMF-fixdate, the form servers send in Date (used to learn the
 * clock offset). Returns 0 or -EINVAL.
 */
int sig_parse_http_date(const char *s, int64_t *t);

#endif
