/* SPDX-License-Identifier: MIT */
/*
 * attempt.c - one request for the object: the signed head, the answer's
 * checks (the pinned version, 206 and Content-Range, a 200 for the whole
 * object), the body streamed to the caller.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/s3/internal.h"

/*
 * Without a strong ETag the object is pinned by its Last-Modified and
 * size; with neither, nothing would notice a replaced object: refused
 * unless s3root.unpinned, and then said loudly (once: at the open).
 */
static int pin_or_refuse(struct object *ob, struct attempt *a)
{
	if ((ob->info.etag[0] && !ob->weak_etag) || ob->info.last_modified[0])
		return A_DONE;
	if (!opts_num(ob->o, OPT_UNPINNED)) {
		snprintf(a->why, sizeof(a->why),
			 "the server sends neither a strong ETag nor "
			 "Last-Modified: a replaced object could not be "
			 "noticed (-o s3root.unpinned to serve it anyway)");
		return A_FATAL;
	}
	log_warn("%s: s3root.unpinned: NOT PINNED (no strong ETag, no "
		 "Last-Modified); if the object changes, readers get a mix "
		 "of old and new bytes",
		 ob->info.name);
	return A_DONE;
}

/* The size from a HEAD (or a 200 for the whole object): Content-Length. */
static int take_length(struct object *ob, struct http_response *r,
		       struct attempt *a)
{
	const char *cl = http_header(r, "content-length");
	char *e;

	if (!cl || *cl < '0' || *cl > '9') {
		snprintf(a->why, sizeof(a->why),
			 "%d answer without a Content-Length", r->status);
		return A_FATAL;
	}
	errno = 0;
	ob->info.size = strtoull(cl, &e, 10);
	if (*e || errno) {
		snprintf(a->why, sizeof(a->why), "bad Content-Length '%.40s'",
			 cl);
		return A_FATAL;
	}
	return A_DONE;
}

/* Copies what pins the object (ETag, Last-Modified, version id) and its
 * type from a HEAD answer (or open_probe's) into its description. */
static int take_meta(struct object *ob, struct http_response *r,
		     struct attempt *a)
{
	const char *v;

	v = http_header(r, "etag");
	snprintf(ob->info.etag, sizeof(ob->info.etag), "%s", v ? v : "");
	ob->weak_etag = !strncmp(ob->info.etag, "W/", 2);
	v = http_header(r, "last-modified");
	snprintf(ob->info.last_modified, sizeof(ob->info.last_modified), "%s",
		 v ? v : "");
	v = http_header(r, "x-amz-version-id");
	if (ob->extra.version_id[0]) {
		/* s3.version_id: the one asked for, "null" included */
		if (v && strcmp(v, ob->extra.version_id)) {
			snprintf(a->why, sizeof(a->why),
				 "asked for version %.80s, the answer is "
				 "version %.80s",
				 ob->extra.version_id, v);
			return A_FATAL;
		}
		v = ob->extra.version_id;
	} else if (v && !strcmp(v, "null")) {
		/* the version of an object written before versioning */
		v = NULL;
	}
	/* at most what fits: one too long is refused below */
	snprintf(ob->info.version_id, sizeof(ob->info.version_id), "%.*s",
		 (int)sizeof(ob->info.version_id) - 1, v ? v : "");
	v = http_header(r, "content-type");
	snprintf(ob->info.content_type, sizeof(ob->info.content_type), "%s",
		 v ? v : "");
	if (strlen(ob->info.etag) >= sizeof(ob->info.etag) - 1 ||
	    strlen(ob->info.version_id) >= sizeof(ob->info.version_id) - 1 ||
	    strlen(ob->info.last_modified) >=
		    sizeof(ob->info.last_modified) - 1) {
		snprintf(a->why, sizeof(a->why),
			 "ETag, version id or Last-Modified too long");
		return A_FATAL;
	}
	return pin_or_refuse(ob, a);
}

/* Copies the HEAD answer into the object's description. */
static int take_head(struct object *ob, struct http_response *r,
		     struct attempt *a)
{
	int st = take_length(ob, r, a);

	return st == A_DONE ? take_meta(ob, r, a) : st;
}

/*
 * The answer must be the pinned version. If-Match should see to that, but
 * a server or cache on the path that ignores it must not slip another
 * version's bytes in: an answer naming another ETag or version is refused.
 */
static int check_version(struct object *ob, struct http_response *r,
			 struct attempt *a)
{
	const char *etag = http_header(r, "etag");
	const char *vid = http_header(r, "x-amz-version-id");
	const char *lm = http_header(r, "last-modified");

	if (etag && ob->info.etag[0] && !ob->weak_etag &&
	    strcmp(etag, ob->info.etag)) {
		snprintf(a->why, sizeof(a->why),
			 "%d answered with ETag %.80s, not the pinned %.80s: "
			 "the object was replaced; refusing to mix versions",
			 r->status, etag, ob->info.etag);
		a->stale = 1;
		return A_FATAL;
	}
	if ((!ob->info.etag[0] || ob->weak_etag) && ob->info.last_modified[0] &&
	    (!lm || strcmp(lm, ob->info.last_modified))) {
		snprintf(a->why, sizeof(a->why),
			 "%d answered with Last-Modified %.40s, not the pinned "
			 "%.40s: the object was replaced; refusing to mix "
			 "versions",
			 r->status, lm ? lm : "(none)", ob->info.last_modified);
		a->stale = 1;
		return A_FATAL;
	}
	if (vid && ob->info.version_id[0] && strcmp(vid, ob->info.version_id)) {
		snprintf(a->why, sizeof(a->why),
			 "%d answered with version %.80s, not the pinned "
			 "%.80s; refusing to mix versions",
			 r->status, vid, ob->info.version_id);
		a->stale = 1;
		return A_FATAL;
	}
	return A_DONE;
}

/* Reads len body bytes into buf, or with buf NULL skips them (len
 * UINT64_MAX: to the body's end). The count, or -1 with a->why set. */
static int64_t body_read(struct http_conn *c, struct http_response *r,
			 char *buf, uint64_t len, struct attempt *a)
{
	char scratch[16384];
	uint64_t got = 0;
	size_t ask;
	long n;

	while (got < len) {
		ask = buf ? OBJECT_IO_BUF : sizeof(scratch);
		if (ask > len - got)
			ask = (size_t)(len - got);
		n = http_read_body(c, r, buf ? buf + got : scratch, ask);
		if (!n && len == UINT64_MAX)
			break;
		if (n <= 0) {
			snprintf(a->why, sizeof(a->why), "body: %s",
				 n ? (*http_conn_error(c) ? http_conn_error(c)
							  : strerror((int)-n))
				   : "ended early");
			return -1;
		}
		got += (uint64_t)n;
	}
	return (int64_t)got;
}

/*
 * A 200 without Content-Length (chunked, or to the close): its size is
 * known only at its end, and bytes of an object of another size must
 * never reach the sink. Our part is held until the whole body was
 * counted and matched the pinned size.
 */
#define UNSIZED_MAX (64u << 20)
static int take_unsized_200(struct object *ob, struct http_conn *c,
			    struct http_response *r, struct fetch *f,
			    struct attempt *a)
{
	char *buf;
	int64_t rest;
	int st = A_RETRY, e;

	if (f->len > UNSIZED_MAX) {
		snprintf(a->why, sizeof(a->why),
			 "200 without Content-Length for %" PRIu64
			 " bytes: too large to check against the size",
			 f->len);
		return A_FATAL;
	}
	buf = malloc(f->len ? (size_t)f->len : 1);
	if (!buf) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return A_FATAL;
	}
	if (body_read(c, r, NULL, f->off, a) < 0 ||
	    body_read(c, r, buf, f->len, a) < 0)
		goto out;
	rest = body_read(c, r, NULL, UINT64_MAX, a);
	if (rest < 0)
		goto out;
	st = A_FATAL;
	if (f->off + f->len + (uint64_t)rest != ob->info.size) {
		snprintf(a->why, sizeof(a->why),
			 "200 without Content-Length had %" PRIu64
			 " bytes, not the pinned %" PRIu64
			 ": the object was replaced; refusing to mix versions",
			 f->off + f->len + (uint64_t)rest, ob->info.size);
		a->stale = 1;
		goto out;
	}
	e = f->sink(f->arg, buf, (size_t)f->len);
	if (e) {
		snprintf(a->why, sizeof(a->why), "output: %s", strerror(-e));
		goto out;
	}
	object_stat_add(ob, &ob->stats.bytes, f->len);
	f->off += f->len;
	f->len = 0;
	st = A_DONE;
out:
	free(buf);
	return st;
}

/* Streams the body of a 206 (or a 200 whole object) into the sink. */
static int take_body(struct object *ob, struct http_conn *c,
		     struct http_response *r, struct fetch *f,
		     struct attempt *a)
{
	uint64_t start, end, total, skip = 0, want = f->len;
	char *buf;
	long n;
	int st = A_DONE, e;

	if (r->status == 206) {
		if (!s3_parse_content_range(http_header(r, "content-range"),
					    &start, &end, &total) &&
		    total != ob->info.size) {
			/* another size is another object: never its bytes,
			 * and no retry will bring the pinned one back */
			snprintf(a->why, sizeof(a->why),
				 "206 says the object has %" PRIu64
				 " bytes, not the pinned %" PRIu64
				 ": the object was replaced; refusing to mix "
				 "versions",
				 total, ob->info.size);
			a->stale = 1;
			return A_FATAL;
		}
		if (s3_parse_content_range(http_header(r, "content-range"),
					   &start, &end, &total) ||
		    start != f->off || end != f->off + f->len - 1 ||
		    (r->body == HTTP_BODY_LENGTH && r->length != f->len)) {
			snprintf(a->why, sizeof(a->why),
				 "206 with Content-Range '%.80s' for bytes "
				 "%" PRIu64 "-%" PRIu64 " of %" PRIu64,
				 http_header(r, "content-range") ?: "(none)",
				 f->off, f->off + f->len - 1, ob->info.size);
			return A_RETRY;
		}
	} else {
		/* 200: the whole object, Range ignored. Take our part. */
		if (r->body != HTTP_BODY_LENGTH)
			return take_unsized_200(ob, c, r, f, a);
		if (r->body == HTTP_BODY_LENGTH && r->length != ob->info.size) {
			snprintf(a->why, sizeof(a->why),
				 "200 with %" PRIu64 " bytes for an object of "
				 "%" PRIu64,
				 r->length, ob->info.size);
			return A_RETRY;
		}
		skip = f->off;
	}
	buf = malloc(OBJECT_IO_BUF);
	if (!buf) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		return A_FATAL;
	}
	while (want) {
		size_t ask = OBJECT_IO_BUF;

		if (!skip && ask > want)
			ask = (size_t)want;
		if (skip && ask > skip)
			ask = (size_t)skip;
		n = http_read_body(c, r, buf, ask);
		if (n <= 0) {
			snprintf(a->why, sizeof(a->why), "body: %s",
				 n ? (*http_conn_error(c) ? http_conn_error(c)
							  : strerror((int)-n))
				   : "ended early");
			st = A_RETRY;
			break;
		}
		if (skip) {
			skip -= (uint64_t)n;
			continue;
		}
		e = f->sink(f->arg, buf, (size_t)n);
		if (e) {
			snprintf(a->why, sizeof(a->why), "output: %s",
				 strerror(-e));
			st = A_FATAL;
			break;
		}
		f->off += (uint64_t)n;
		f->len -= (uint64_t)n;
		want -= (uint64_t)n;
		object_stat_add(ob, &ob->stats.bytes, (uint64_t)n);
	}
	free(buf);
	return st;
}

/*
 * The answer to open_probe's GET of byte 0: a 206 whose Content-Range
 * total is the size (its one byte read, so the connection is reused), or
 * a 200 for the whole object (Range ignored: Content-Length, the body
 * left unread). The rest as from a HEAD.
 */
static int take_probe(struct object *ob, struct http_conn *c,
		      struct http_response *r, struct attempt *a)
{
	uint64_t start, end, total;
	char byte[16];
	long n;
	int st;

	if (r->status == 200)
		return take_head(ob, r, a);
	if (s3_parse_content_range(http_header(r, "content-range"), &start,
				   &end, &total) ||
	    start || end) {
		snprintf(a->why, sizeof(a->why),
			 "206 with Content-Range '%.80s' for bytes 0-0",
			 http_header(r, "content-range") ?: "(none)");
		return A_RETRY;
	}
	ob->info.size = total;
	st = take_meta(ob, r, a);
	if (st != A_DONE)
		return st;
	while ((n = http_read_body(c, r, byte, sizeof(byte))) > 0)
		;
	if (n < 0) {
		snprintf(a->why, sizeof(a->why), "body: %s",
			 *http_conn_error(c) ? http_conn_error(c)
					     : strerror((int)-n));
		return A_RETRY;
	}
	return A_DONE;
}

/* Builds the wire head of a request for the object. Takes the lock. */
static int build_head(struct object *ob, const char *method,
		      const struct range *rg, char *out, size_t outlen,
		      struct url *url, char *err, size_t errlen)
{
	const char *names[3 + S3_EXTRA_MAX_HEADERS];
	const char *values[3 + S3_EXTRA_MAX_HEADERS];
	char range[64];
	struct sig_param vid = {"versionId", ob->info.version_id};
	struct s3_req_in in = {.method = method};
	struct s3_req q;
	size_t n = 0;
	long len;
	int r;

	if (rg->len) {
		snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64,
			 rg->off, rg->off + rg->len - 1);
		names[n] = "Range";
		values[n++] = range;
	}
	if (ob->info.etag[0] && !ob->weak_etag) {
		names[n] = "If-Match";
		values[n++] = ob->info.etag;
	} else if (ob->info.last_modified[0]) {
		names[n] = "If-Unmodified-Since";
		values[n++] = ob->info.last_modified;
	}
	n += s3_extra_headers(&ob->extra, names + n, values + n);
	pthread_mutex_lock(&ob->lock);
	object_creds_refresh(ob, 0);
	in.target = &ob->t;
	in.sig = (int)opts_num(ob->o, OPT_SIG);
	in.region = ob->region;
	in.creds = ob->src.plain ? NULL : &ob->creds;
	in.names = names;
	in.values = values;
	in.nheaders = n;
	in.params = ob->info.version_id[0] ? &vid : NULL;
	in.nparams = ob->info.version_id[0] ? 1 : 0;
	in.time = time(NULL) + ob->clock_offset;
	in.payload = SIGV4_UNSIGNED_PAYLOAD;
	r = s3_req_sign(&q, &in, &ob->signer, NULL, NULL, err, errlen);
	if (!r) {
		len = s3_req_format(&q, out, outlen);
		r = len < 0 ? (int)len : 0;
		if (r)
			snprintf(err, errlen, "request head too large");
		*url = ob->t.url;
	}
	pthread_mutex_unlock(&ob->lock);
	return r;
}

int object_attempt(struct object *ob, const char *method, struct fetch *f,
		   struct fixes *fixed, struct attempt *a)
{
	struct range rg = {f ? f->off : 0, f ? f->len : 0};
	struct http_response *r = malloc(sizeof(*r));
	char *head = malloc(8192), err[512];
	struct http_conn *c = NULL;
	struct url url;
	int64_t sent_at;
	int e, st, reuse = 0;

	if (!r || !head) {
		snprintf(a->why, sizeof(a->why), "out of memory");
		st = A_FATAL;
		goto out;
	}
	e = build_head(ob, method, &rg, head, 8192, &url, err, sizeof(err));
	if (e) {
		snprintf(a->why, sizeof(a->why), "%s", err);
		st = A_FATAL;
		goto out;
	}
	e = http_conn_get(ob->http, &url, &c, err, sizeof(err));
	if (e) {
		snprintf(a->why, sizeof(a->why), "%s", err);
		/* a certificate or configuration problem will not go away;
		 * once the object was opened over TLS, a wrong certificate is
		 * someone on the path (a portal, an attack): refuse it and
		 * try again, as for an outage */
		st = e == -EINVAL ? A_FATAL : A_RETRY;
		if (e == -EPROTO && strstr(err, "certificate") && !ob->opened)
			st = A_FATAL;
		goto out;
	}
	object_stat_add(ob, &ob->stats.requests, 1);
	sent_at = time(NULL);
	e = http_send(c, head, strlen(head));
	if (!e && f && !f->diagnose)
		e = object_await_first(ob, &c, &url, head);
	if (!e)
		e = http_read_head(c, r, !strcmp(method, "HEAD"));
	if (e) {
		snprintf(a->why, sizeof(a->why), "%.120s: %.300s",
			 ob->t.host_header,
			 *http_conn_error(c) ? http_conn_error(c)
					     : strerror(-e));
		/* a pooled connection the server had closed meanwhile fails
		 * at once: just reconnect. A timeout is a real failure. */
		st = http_conn_reused(c) && (e == -ECONNRESET || e == -EPIPE)
			     ? A_AGAIN
			     : A_RETRY;
		goto out;
	}
	a->status = r->status;
	if (!strcmp(method, "HEAD") && r->status == 200) {
		st = take_head(ob, r, a);
		reuse = 1;
	} else if (f && f->probe && (r->status == 206 || r->status == 200)) {
		st = take_probe(ob, c, r, a);
		reuse = st == A_DONE && r->status == 206;
	} else if (f && f->diagnose && r->status / 100 == 2) {
		st = A_DONE;
	} else if (f && (r->status == 206 || r->status == 200)) {
		st = check_version(ob, r, a);
		if (st == A_DONE)
			st = take_body(ob, c, r, f, a);
		reuse = st == A_DONE && r->status == 206;
	} else {
		st = object_on_error(ob, c, r, method, sent_at, fixed, a);
	}
out:
	http_conn_put(ob->http, c, reuse);
	free(r);
	free(head);
	return st;
}
