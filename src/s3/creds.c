/* SPDX-License-Identifier: MIT */
/*
 * creds.c - access keys, secrets and session tokens: from s3fs-style passwd
 * files, token files and the standard AWS environment variables.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "crypto/crypto.h"
#include "src/s3/s3.h"

#define CREDS_MAX_FILE (64 * 1024)
#define CREDS_MAX_TOKEN 8192

static void wipe_free(char *s)
{
	if (s) {
		crypto_wipe(s, strlen(s));
		free(s);
	}
}

void creds_free(struct creds *c)
{
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	wipe_free(c->session_token);
	memset(c, 0, sizeof(*c));
}

static char *dup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* Printable ASCII without spaces, 1 to max bytes. */
static int printable_ok(const char *s, size_t n, size_t max)
{
	size_t i;

	if (!n || n > max)
		return 0;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return 1;
}

/* Keys and secrets (a passwd line's fields cannot hold ':'). */
static int cred_field_ok(const char *s, size_t n)
{
	return printable_ok(s, n, 256);
}

static int creds_set(struct creds *c, const char *ak, size_t akn,
		     const char *sk, size_t skn)
{
	wipe_free(c->access_key);
	wipe_free(c->secret_key);
	c->access_key = dup_n(ak, akn);
	c->secret_key = dup_n(sk, skn);
	return c->access_key && c->secret_key ? 0 : -ENOMEM;
}

/* Splits line on ':' into at most 3 fields; returns the count, 4 if more. */
static int split_fields(const char *p, size_t n, const char *f[3], size_t fn[3])
{
	const char *stop = p + n, *q;
	int k;

	for (k = 0; k < 3; k++) {
		q = memchr(p, ':', (size_t)(stop - p));
		f[k] = p;
		fn[k] = (size_t)((q ? q : stop) - p);
		if (!q)
			return k + 1;
		p = q + 1;
	}
	return 4;
}

int creds_parse_passwd(struct creds *c, const char *text, size_t len,
		       const char *bucket, char *err, size_t errlen)
{
	const char *line, *end = text + len, *eol, *f[3];
	size_t fn[3], n, lineno = 0;
	int have = 0, k; /* have: 1 a default line, 2 the bucket's own */

	if (memchr(text, '\0', len))
		return base_fail(err, errlen, "contains a NUL byte");
	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		lineno++;
		n = (size_t)(eol - line);
		if (n && line[n - 1] == '\r')
			n--;
		if (!n || line[0] == '#')
			continue;
		k = split_fields(line, n, f, fn);
		if (k < 2 || k > 3)
			return base_fail(err, errlen,
					 "line %zu: expected ACCESS:SECRET or "
					 "BUCKET:ACCESS:SECRET (a key with "
					 "':' cannot be written here: give it "
					 "in AWS_ACCESS_KEY_ID or "
					 "~/.aws/credentials)",
					 lineno);
		if (k == 3) {
			if (!bucket || fn[0] != strlen(bucket) ||
			    memcmp(f[0], bucket, fn[0]))
				continue; /* another bucket's line */
			f[0] = f[1], fn[0] = fn[1];
			f[1] = f[2], fn[1] = fn[2];
		} else if (have == 2) {
			continue;
		}
		if (!cred_field_ok(f[0], fn[0]) || !cred_field_ok(f[1], fn[1]))
			return base_fail(err, errlen,
					 "line %zu: bad access key or secret",
					 lineno);
		if (creds_set(c, f[0], fn[0], f[1], fn[1]))
			return base_fail(err, errlen, "out of memory");
		have = k == 3 ? 2 : 1;
	}
	if (!have)
		return base_fail(err, errlen, "no credentials%s%s",
				 bucket ? " for bucket " : "",
				 bucket ? bucket : "");
	return 0;
}

/* Reads a credential file; warns (as s3fs does) when others may read it. */
static int read_secret_file(const char *path, char **buf, size_t *len,
			    char *err, size_t errlen)
{
	struct stat st;
	int r = io_read_file(path, CREDS_MAX_FILE, buf, len);

	if (r)
		return base_fail(err, errlen, "%s: %s", path, strerror(-r));
	if (!stat(path, &st) && (st.st_mode & 077))
		log_warn("%s is readable by others (mode %03o): chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));
	return 0;
}

static int load_token_file(struct creds *c, const char *path, char *err,
			   size_t errlen)
{
	char *buf;
	size_t len;
	int r = read_secret_file(path, &buf, &len, err, errlen);

	if (r)
		return r;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r' ||
		       buf[len - 1] == ' '))
		buf[--len] = '\0';
	if (!printable_ok(buf, len, CREDS_MAX_TOKEN) || strlen(buf) != len) {
		crypto_wipe(buf, len);
		free(buf);
		return base_fail(err, errlen, "%s: not a session token", path);
	}
	wipe_free(c->session_token);
	c->session_token = buf;
	return 0;
}

/* The AWS CLI's profile (src/conf/awsconf.c); none is no error. */
static int creds_from_profile(struct creds *c, char *const *envp, char *err,
			      size_t errlen)
{
	struct awsconf a;
	const char *ak, *sk, *tok;
	int r = awsconf_load(&a, envp, err, errlen);

	if (r)
		return r;
	ak = a.v[AWSCONF_ACCESS_KEY];
	sk = a.v[AWSCONF_SECRET_KEY];
	tok = a.v[AWSCONF_SESSION_TOKEN];
	if ((ak && *ak) != (sk && *sk)) {
		r = base_fail(err, errlen,
			      "%s, profile %s: aws_access_key_id and "
			      "aws_secret_access_key go together",
			      a.origin, a.profile);
	} else if (ak && *ak &&
		   (!cred_field_ok(ak, strlen(ak)) ||
		    !cred_field_ok(sk, strlen(sk)) ||
		    (tok && *tok &&
		     !printable_ok(tok, strlen(tok), CREDS_MAX_TOKEN)))) {
		r = base_fail(err, errlen,
			      "%s, profile %s: a malformed key, secret or "
			      "session token",
			      a.origin, a.profile);
	} else if (ak && *ak) {
		c->origin = a.keys_in_config
				    ? "~/.aws/config (or $AWS_CONFIG_FILE)"
				    : "~/.aws/credentials (or "
				      "$AWS_SHARED_CREDENTIALS_FILE)";
		c->access_key = a.v[AWSCONF_ACCESS_KEY];
		c->secret_key = a.v[AWSCONF_SECRET_KEY];
		c->session_token =
			tok && *tok ? a.v[AWSCONF_SESSION_TOKEN] : NULL;
		a.v[AWSCONF_ACCESS_KEY] = a.v[AWSCONF_SECRET_KEY] = NULL;
		if (c->session_token)
			a.v[AWSCONF_SESSION_TOKEN] = NULL;
	}
	awsconf_free(&a);
	return r;
}

static int file_exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

int creds_load(struct creds *c, const struct opts *o, char *const *envp,
	       const char *bucket, char *err, size_t errlen)
{
	const char *ak = opts_env_get(envp, "AWS_ACCESS_KEY_ID");
	const char *sk = opts_env_get(envp, "AWS_SECRET_ACCESS_KEY");
	const char *tok = opts_env_get(envp, "AWS_SESSION_TOKEN");
	const char *pw = opts_str(o, OPT_PASSWD_FILE);
	const char *tf = opts_str(o, OPT_SESSION_TOKEN_FILE);
	int env = ak && *ak && sk && *sk;
	enum opt_src pw_src = o->v[OPT_PASSWD_FILE].src;
	char *buf, why[200];
	size_t len;
	int r;

	memset(c, 0, sizeof(*c));
	/* -o over the environment over the config file; the default file
	 * only when it exists */
	if (env ? pw_src > OPT_SRC_ENV
		: pw_src != OPT_SRC_NONE || (pw && file_exists(pw))) {
		r = read_secret_file(pw, &buf, &len, err, errlen);
		if (r)
			return r;
		r = creds_parse_passwd(c, buf, len, bucket, why, sizeof(why));
		crypto_wipe(buf, len);
		free(buf);
		if (r) {
			base_fail(err, errlen, "%s: %s", pw, why);
			goto fail_free;
		}
		c->origin = pw;
		if (tf && (opts_isset(o, OPT_SESSION_TOKEN_FILE) ||
			   file_exists(tf))) {
			r = load_token_file(c, tf, err, errlen);
			if (r)
				goto fail_free;
		}
		return 0;
	}
	if (!env) {
		if ((ak && *ak) != (sk && *sk))
			return base_fail(err, errlen,
					 "AWS_ACCESS_KEY_ID and "
					 "AWS_SECRET_ACCESS_KEY must be set "
					 "together");
		if (opts_isset(o, OPT_SESSION_TOKEN_FILE))
			return base_fail(
				err, errlen,
				"s3.session_token_file: a session token "
				"goes with its keys (AWS_ACCESS_KEY_ID "
				"and AWS_SECRET_ACCESS_KEY, or "
				"s3.passwd_file)");
		return creds_from_profile(c, envp, err, errlen);
	}
	if (!cred_field_ok(ak, strlen(ak)) || !cred_field_ok(sk, strlen(sk)))
		return base_fail(err, errlen,
				 "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY "
				 "is malformed");
	if (creds_set(c, ak, strlen(ak), sk, strlen(sk)))
		goto nomem;
	c->origin = "environment";
	if (tok && *tok) {
		if (!printable_ok(tok, strlen(tok), CREDS_MAX_TOKEN)) {
			r = base_fail(err, errlen,
				      "AWS_SESSION_TOKEN is malformed");
			goto fail_free;
		}
		c->session_token = strdup(tok);
		if (!c->session_token)
			goto nomem;
	} else if (tf && opts_isset(o, OPT_SESSION_TOKEN_FILE)) {
		r = load_token_file(c, tf, err, errlen);
		if (r)
			goto fail_free;
	}
	return 0;
nomem:
	r = base_fail(err, errlen, "out of memory");
fail_free:
	creds_free(c);
	return r;
}
