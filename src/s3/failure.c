/* SPDX-License-Identifier: MIT */
/*
 * failure.c - what a refused request means: retry (5xx, throttling), a
 * redirect to the bucket's region, a clock to correct from the server's
 * Date, a rotated session token, or a clear message with a hint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3/internal.h"

/* Reads what is left of a body, up to max bytes, into buf (NUL-ended). */
static long slurp(struct http_conn *c, struct http_response *r, char *buf,
		  size_t max)
{
	size_t len = 0;
	long n;

	while (len + 1 < max) {
		n = http_read_body(c, r, buf + len, max - 1 - len);
		if (n <= 0) {
			buf[len] = '\0';
			return n < 0 ? n : (long)len;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (long)len;
}

static void format_utc(int64_t t, char out[32])
{
	char amz[17];

	if (sig_amz_date(amz, t)) {
		snprintf(out, 32, "?");
		return;
	}
	/* 20261123T100000Z -> 2026-11-23T10:00:00Z */
	snprintf(out, 32, "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", amz, amz + 4,
		 amz + 6, amz + 9, amz + 11, amz + 13);
}

/* Learns the server's clock from Date (as the AWS SDKs do). */
static int learn_skew(struct object *ob, struct http_response *r,
		      int64_t sent_at)
{
	int64_t off;
	int changed;

	pthread_mutex_lock(&ob->lock);
	changed = s3_clock_offset(http_header(r, "date"), sent_at,
				  &ob->clock_offset);
	off = ob->clock_offset;
	pthread_mutex_unlock(&ob->lock);
	if (changed)
		log_warn("%s: clock is off by %+" PRId64
			 " s from the server's; "
			 "correcting",
			 ob->info.name, off);
	return changed;
}

/* A redirect or region error names the bucket's region: sign for it. */
static int follow_region(struct object *ob, struct http_response *r,
			 const struct s3_error *se, struct attempt *a)
{
	const char *region = http_header(r, "x-amz-bucket-region");
	char url[URL_MAX_HOST + 64], msg[256];
	struct s3_target nt;
	int aws;

	if (!region || !*region)
		region = se->region;
	if (!*region || strlen(region) >= sizeof(ob->region) ||
	    strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") !=
		    strlen(region)) {
		snprintf(
			a->why, sizeof(a->why),
			"%d redirect without a usable region (set s3.region or "
			"s3.endpoint)",
			r->status);
		return A_FATAL;
	}
	pthread_mutex_lock(&ob->lock);
	if (!strcmp(region, ob->region)) {
		pthread_mutex_unlock(&ob->lock);
		snprintf(a->why, sizeof(a->why),
			 "%d redirect to region %s, which is the one we sign "
			 "for (endpoint %s)",
			 r->status, region, se->endpoint);
		return A_FATAL;
	}
	/* AWS's own endpoint follows the region; another server keeps its
	 * endpoint and only the signing region changes */
	aws = !opts_isset(ob->o, OPT_ENDPOINT) ||
	      strstr(opts_str(ob->o, OPT_ENDPOINT), ".amazonaws.com");
	if (aws) {
		snprintf(url, sizeof(url), "https://s3.%s.amazonaws.com",
			 region);
		if (opts_set(ob->o, "s3.endpoint", url, OPT_SRC_ARG, msg,
			     sizeof(msg)) ||
		    s3_target_init(ob->o, &ob->src, &nt, msg, sizeof(msg))) {
			pthread_mutex_unlock(&ob->lock);
			snprintf(a->why, sizeof(a->why), "redirect: %s", msg);
			return A_FATAL;
		}
		ob->t = nt;
	}
	snprintf(ob->region, sizeof(ob->region), "%s", region);
	pthread_mutex_unlock(&ob->lock);
	log_info("%s: bucket is in %s; signing for it%s", ob->info.name, region,
		 aws ? " at its regional endpoint" : "");
	return A_AGAIN;
}

/*
 * A presigned URL refused: it cannot be signed again here, so the
 * question is whether it expired (by the server's clock when its Date
 * says, else ours) or was made for something else.
 */
static int presigned_refused(struct object *ob, struct http_response *r,
			     const struct s3_error *se, int64_t sent_at,
			     struct attempt *a)
{
	int64_t off = ob->clock_offset, now;
	char when[32];
	int expired;

	s3_clock_offset(http_header(r, "date"), sent_at, &off);
	now = time(NULL) + off;
	expired = (ob->src.expires && now >= ob->src.expires) ||
		  strstr(se->message, "xpired");
	if (expired && ob->src.expires) {
		format_utc(ob->src.expires, when);
		snprintf(a->why, sizeof(a->why),
			 "%d %s: the presigned URL expired at %s (make a new "
			 "one; s3.prefetch=all pulls a root into memory "
			 "before its URL ends)",
			 r->status, se->code[0] ? se->code : "error", when);
	} else if (expired) {
		snprintf(a->why, sizeof(a->why),
			 "%d %s: the presigned URL has expired (make a new "
			 "one)",
			 r->status, se->code[0] ? se->code : "error");
	} else {
		snprintf(a->why, sizeof(a->why),
			 "%d %s: the presigned URL was refused (%.150s; it is "
			 "signed for one method, host and key, and s3root "
			 "never signs it again)",
			 r->status, se->code[0] ? se->code : "error",
			 se->message[0] ? se->message : "no reason given");
	}
	return A_FATAL;
}

/* What an S3 error means and what to do about it. */
static const char *error_hint(struct object *ob, const struct s3_error *se,
			      int status, char *buf, size_t len)
{
	char clock[32];
	int anon = !ob->creds.access_key;

	format_utc(time(NULL) + ob->clock_offset, clock);
	if (!strcmp(se->code, "SignatureDoesNotMatch"))
		snprintf(buf, len, "check the secret key from %s; clock is %s",
			 ob->creds.origin ? ob->creds.origin : "?", clock);
	else if (!strcmp(se->code, "InvalidAccessKeyId"))
		snprintf(buf, len,
			 "the server does not know access key %.8s... "
			 "from %s",
			 ob->creds.access_key ? ob->creds.access_key : "",
			 ob->creds.origin ? ob->creds.origin : "?");
	else if (!strcmp(se->code, "NoSuchBucket"))
		snprintf(buf, len, "no bucket '%.63s' at %.120s",
			 ob->src.bucket, ob->t.host_header);
	else if (ob->extra.ssec_key[0] && status == 400)
		snprintf(buf, len,
			 "the SSE-C key from s3.sse_c_key_file is not the "
			 "object's%s%.150s",
			 se->message[0] ? ": " : "", se->message);
	else if (status == 400 && strcasestr(se->message, "encryption"))
		snprintf(buf, len,
			 "the object is encrypted with a customer key (SSE-C): "
			 "give it in s3.sse_c_key_file");
	else if (ob->extra.version_id[0] &&
		 (!strcmp(se->code, "NoSuchVersion") || status == 404))
		snprintf(buf, len,
			 "no version %.60s of %.150s (s3.version_id; 'aws "
			 "s3api list-object-versions' lists them)",
			 ob->extra.version_id, ob->info.name);
	else if (!strcmp(se->code, "NoSuchKey") || status == 404)
		snprintf(buf, len, "no object %.250s", ob->info.name);
	else if (!strcmp(se->code, "ExpiredToken") ||
		 !strcmp(se->code, "InvalidToken") ||
		 (status == 400 && ob->creds.session_token))
		snprintf(buf, len,
			 "the session token was refused: refresh it "
			 "(AWS_SESSION_TOKEN or s3.session_token_file)%s%.150s",
			 se->message[0] ? "; " : "", se->message);
	else if (status == 403 && anon)
		snprintf(buf, len,
			 "the request was anonymous: set credentials "
			 "(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or "
			 "s3.passwd_file)");
	else if (status == 403)
		snprintf(buf, len,
			 "check the credentials from %s%s and the "
			 "bucket policy%s",
			 ob->creds.origin ? ob->creds.origin : "?",
			 ob->creds.session_token ? " (and that the session "
						   "token has not expired)"
						 : "",
			 ob->extra.ssec_key[0] ? ", or whether the SSE-C key "
						 "is the object's"
					       : "");
	else
		snprintf(buf, len, "%s", se->message);
	return buf;
}

int object_on_error(struct object *ob, struct http_conn *c,
		    struct http_response *r, const char *method,
		    int64_t sent_at, struct fixes *fixed, struct attempt *a)
{
	struct s3_error se;
	char *body = NULL, hint[300];
	long n = 0;

	memset(&se, 0, sizeof(se));
	if (strcmp(method, "HEAD")) {
		body = malloc(ERRBODY_MAX);
		if (body)
			n = slurp(c, r, body, ERRBODY_MAX);
		if (body && n > 0)
			s3_error_parse(body, (size_t)n, &se);
		free(body);
	}
	if (r->status >= 500 || r->status == 408 || r->status == 429) {
		snprintf(a->why, sizeof(a->why), "%d %s", r->status,
			 se.code[0] ? se.code : "server error");
		return A_RETRY;
	}
	if (r->status == 412) {
		snprintf(a->why, sizeof(a->why),
			 "412: the object was replaced since it was opened "
			 "(ETag was %s); refusing to mix versions (enable "
			 "versioning on the bucket to keep serving the pinned "
			 "version)",
			 ob->info.etag);
		return A_FATAL;
	}
	/* a redirect, or (as S3 answers a HEAD signed for the wrong
	 * region) a 400 that names the bucket's region */
	if (r->status == 301 || r->status == 307 || r->status == 302 ||
	    r->status == 308 ||
	    !strcmp(se.code, "AuthorizationHeaderMalformed") ||
	    !strcmp(se.code, "PermanentRedirect") ||
	    (r->status == 400 && http_header(r, "x-amz-bucket-region"))) {
		if (++fixed->redirects > MAX_REDIRECTS) {
			snprintf(a->why, sizeof(a->why), "too many redirects");
			return A_FATAL;
		}
		return follow_region(ob, r, &se, a);
	}
	if (ob->src.presigned && (r->status == 403 || r->status == 400))
		return presigned_refused(ob, r, &se, sent_at, a);
	if (r->status == 403 && !fixed->clock &&
	    (!strcmp(se.code, "RequestTimeTooSkewed") ||
	     (!se.code[0] || !strcmp(se.code, "SignatureDoesNotMatch") ||
	      !strcmp(se.code, "AccessDenied"))) &&
	    learn_skew(ob, r, sent_at)) {
		fixed->clock = 1;
		return A_AGAIN;
	}
	if (r->status == 403 && !fixed->creds && ob->creds.session_token &&
	    (!strcmp(se.code, "ExpiredToken") ||
	     !strcmp(se.code, "InvalidToken") ||
	     !strcmp(se.code, "AccessDenied"))) {
		/* a rotated token may be waiting in its file */
		fixed->creds = 1;
		pthread_mutex_lock(&ob->lock);
		object_creds_refresh(ob, 1);
		pthread_mutex_unlock(&ob->lock);
		return A_AGAIN;
	}
	snprintf(a->why, sizeof(a->why), "%d %s (%s)", r->status,
		 se.code[0] ? se.code : "error",
		 error_hint(ob, &se, r->status, hint, sizeof(hint)));
	return A_FATAL;
}
