/* SPDX-License-Identifier: MIT */
/*
 * object.c - the S3 object source: HEAD to learn and pin the object, then
 * ranged GETs that never return wrong bytes (shared/DESIGN.md, "Correctness
 * rules"): If-Match on the pinned ETag and ?versionId= when versioned,
 * 206 and Content-Range checked, a 200 whole-object answer handled, a 412
 * fatal. Retries re-sign with a fresh date, back off with full jitter, and
 * survive outages (forever when io_timeout is 0). Redirects re-sign for the
 * bucket's region; a refused clock is corrected from the server's Date.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "crypto/sigv2.h"
#include "src/object.h"

#define ERRBODY_MAX (64 * 1024)
#define MAX_REDIRECTS 4
#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 10000
#define CREDS_RECHECK 2 /* seconds between looks at credential files */

struct object {
	struct opts *o;
	char *const *envp;
	struct source src;
	struct http_client *http;
	struct object_info info;
	int weak_etag; /* pin by Last-Modified instead */
	int opened;    /* the HEAD went through: the configuration is sound */

	pthread_mutex_t lock; /* everything below */
	struct s3_target t;
	char region[64];
	struct sigv4_signer signer;
	struct creds creds;
	int64_t clock_offset; /* server time - our time, seconds */
	time_t creds_checked;
	struct timespec pw_mtime, tok_mtime;
	uint64_t rand;
	struct object_stats stats;
};

/* How an attempt ended. */
enum {
	A_DONE,
	A_RETRY, /* a transient failure: back off and try again */
	A_AGAIN, /* fixed something (region, clock, credentials): at once */
	A_FATAL,
};

/* One request's outcome and what to say about it. */
struct attempt {
	int status;
	char why[512];
};

static void stat_add(struct object *ob, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&ob->lock);
	*field += n;
	pthread_mutex_unlock(&ob->lock);
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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

/* ---- credentials that rotate under a long-running root ---- */

static int mtime_of(const char *path, struct timespec *ts)
{
	struct stat st;

	if (!path || stat(path, &st))
		return -1;
	*ts = st.st_mtim;
	return 0;
}

static int ts_eq(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* Reloads credentials when forced or a credential file changed. Locked. */
static void creds_refresh(struct object *ob, int force)
{
	struct timespec pw = {0}, tok = {0};
	struct creds fresh;
	char msg[256];
	time_t now = time(NULL);

	if (ob->src.plain ||
	    (!force && now - ob->creds_checked < CREDS_RECHECK))
		return;
	ob->creds_checked = now;
	/* a file that vanished (the initramfs, deleted at switch_root) is
	 * no news: only a file that changed is */
	if (mtime_of(opts_str(ob->o, OPT_PASSWD_FILE), &pw))
		pw = ob->pw_mtime;
	if (mtime_of(opts_str(ob->o, OPT_SESSION_TOKEN_FILE), &tok))
		tok = ob->tok_mtime;
	if (!force && ts_eq(&pw, &ob->pw_mtime) && ts_eq(&tok, &ob->tok_mtime))
		return;
	ob->pw_mtime = pw;
	ob->tok_mtime = tok;
	if (creds_load(&fresh, ob->o, ob->envp, ob->src.bucket, msg,
		       sizeof(msg))) {
		warn("reloading credentials: %s (keeping the old ones)", msg);
		return;
	}
	if (ob->creds.access_key && !fresh.access_key) {
		/* never fall back to anonymous behind the user's back */
		warn("reloading credentials: none found (keeping the old "
		     "ones)");
		creds_free(&fresh);
		return;
	}
	creds_free(&ob->creds);
	ob->creds = fresh;
	info("credentials reloaded from %s",
	     fresh.origin ? fresh.origin : "nowhere (anonymous)");
}

/* ---- one request ---- */

struct range {
	uint64_t off, len; /* len 0: HEAD */
};

/* Builds the wire head of a request for the object. Takes the lock. */
static int build_head(struct object *ob, const char *method,
		      const struct range *rg, char *out, size_t outlen,
		      struct url *url, char *err, size_t errlen)
{
	const char *names[3], *values[3];
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
	pthread_mutex_lock(&ob->lock);
	creds_refresh(ob, 0);
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
		warn("%s: clock is off by %+" PRId64 " s from the server's; "
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
	info("%s: bucket is in %s; signing for it%s", ob->info.name, region,
	     aws ? " at its regional endpoint" : "");
	return A_AGAIN;
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
			 "bucket policy",
			 ob->creds.origin ? ob->creds.origin : "?",
			 ob->creds.session_token ? " (and that the session "
						   "token has not expired)"
						 : "");
	else
		snprintf(buf, len, "%s", se->message);
	return buf;
}

/* A non-2xx answer: decide what it means. */
static int on_error_status(struct object *ob, struct http_conn *c,
			   struct http_response *r, const char *method,
			   int64_t sent_at, int *fixed, struct attempt *a)
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
		if (++fixed[0] > MAX_REDIRECTS) {
			snprintf(a->why, sizeof(a->why), "too many redirects");
			return A_FATAL;
		}
		return follow_region(ob, r, &se, a);
	}
	if (r->status == 403 && !fixed[1] &&
	    (!strcmp(se.code, "RequestTimeTooSkewed") ||
	     (!se.code[0] || !strcmp(se.code, "SignatureDoesNotMatch") ||
	      !strcmp(se.code, "AccessDenied"))) &&
	    learn_skew(ob, r, sent_at)) {
		fixed[1] = 1;
		return A_AGAIN;
	}
	if (r->status == 403 && !fixed[2] && ob->creds.session_token &&
	    (!strcmp(se.code, "ExpiredToken") ||
	     !strcmp(se.code, "InvalidToken") ||
	     !strcmp(se.code, "AccessDenied"))) {
		/* a rotated token may be waiting in its file */
		fixed[2] = 1;
		pthread_mutex_lock(&ob->lock);
		creds_refresh(ob, 1);
		pthread_mutex_unlock(&ob->lock);
		return A_AGAIN;
	}
	snprintf(a->why, sizeof(a->why), "%d %s (%s)", r->status,
		 se.code[0] ? se.code : "error",
		 error_hint(ob, &se, r->status, hint, sizeof(hint)));
	return A_FATAL;
}

/* Copies the HEAD answer into the object's description. */
static int take_head(struct object *ob, struct http_response *r,
		     struct attempt *a)
{
	const char *cl = http_header(r, "content-length");
	const char *v;
	char *e;

	if (!cl || *cl < '0' || *cl > '9') {
		snprintf(a->why, sizeof(a->why),
			 "HEAD answer without a Content-Length");
		return A_FATAL;
	}
	errno = 0;
	ob->info.size = strtoull(cl, &e, 10);
	if (*e || errno) {
		snprintf(a->why, sizeof(a->why), "bad Content-Length '%.40s'",
			 cl);
		return A_FATAL;
	}
	v = http_header(r, "etag");
	snprintf(ob->info.etag, sizeof(ob->info.etag), "%s", v ? v : "");
	ob->weak_etag = !strncmp(ob->info.etag, "W/", 2);
	v = http_header(r, "last-modified");
	snprintf(ob->info.last_modified, sizeof(ob->info.last_modified), "%s",
		 v ? v : "");
	v = http_header(r, "x-amz-version-id");
	/* "null" is the version of an object written before versioning */
	snprintf(ob->info.version_id, sizeof(ob->info.version_id), "%s",
		 v && strcmp(v, "null") ? v : "");
	v = http_header(r, "content-type");
	snprintf(ob->info.content_type, sizeof(ob->info.content_type), "%s",
		 v ? v : "");
	if (strlen(ob->info.etag) >= sizeof(ob->info.etag) - 1 ||
	    strlen(ob->info.version_id) >= sizeof(ob->info.version_id) - 1) {
		snprintf(a->why, sizeof(a->why), "ETag or version id too long");
		return A_FATAL;
	}
	return A_DONE;
}

struct fetch {
	uint64_t off, len; /* still to deliver */
	object_sink sink;
	void *arg;
	int diagnose;	  /* only to learn why a HEAD failed: any 2xx will do */
	int64_t deadline; /* now_ms() at which to give up, 0: io_timeout */
};

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

	if (etag && ob->info.etag[0] && !ob->weak_etag &&
	    strcmp(etag, ob->info.etag)) {
		snprintf(a->why, sizeof(a->why),
			 "%d answered with ETag %.80s, not the pinned %.80s: "
			 "the object was replaced; refusing to mix versions",
			 r->status, etag, ob->info.etag);
		return A_FATAL;
	}
	if (vid && ob->info.version_id[0] && strcmp(vid, ob->info.version_id)) {
		snprintf(a->why, sizeof(a->why),
			 "%d answered with version %.80s, not the pinned "
			 "%.80s; refusing to mix versions",
			 r->status, vid, ob->info.version_id);
		return A_FATAL;
	}
	return A_DONE;
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
		if (s3_parse_content_range(http_header(r, "content-range"),
					   &start, &end, &total) ||
		    start != f->off || total != ob->info.size ||
		    end != f->off + f->len - 1 ||
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
		stat_add(ob, &ob->stats.bytes, (uint64_t)n);
	}
	free(buf);
	return st;
}

/*
 * One attempt at a request. fixed[] counts redirects followed, the clock
 * fix and the credential reload, so each happens a bounded number of times
 * per call.
 */
static int attempt(struct object *ob, const char *method, struct fetch *f,
		   int *fixed, struct attempt *a)
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
	stat_add(ob, &ob->stats.requests, 1);
	sent_at = time(NULL);
	e = http_send(c, head, strlen(head));
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
	} else if (f && f->diagnose && r->status / 100 == 2) {
		st = A_DONE;
	} else if (f && (r->status == 206 || r->status == 200)) {
		st = check_version(ob, r, a);
		if (st == A_DONE)
			st = take_body(ob, c, r, f, a);
		reuse = st == A_DONE && r->status == 206;
	} else {
		st = on_error_status(ob, c, r, method, sent_at, fixed, a);
	}
out:
	http_conn_put(ob->http, c, reuse);
	free(r);
	free(head);
	return st;
}

/* Full jitter: a random wait below min(cap, base * 2^n) (the AWS SDKs'). */
static int backoff_ms(struct object *ob, unsigned n)
{
	uint64_t x, cap = BACKOFF_BASE_MS << (n < 7 ? n : 7);

	if (cap > BACKOFF_CAP_MS)
		cap = BACKOFF_CAP_MS;
	pthread_mutex_lock(&ob->lock);
	x = ob->rand; /* xorshift64: jitter, not secrets */
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	ob->rand = x;
	pthread_mutex_unlock(&ob->lock);
	return (int)(x % cap) + 1;
}

/* Runs a request until it succeeds, fails for good, or io_timeout passes. */
static int run(struct object *ob, const char *method, struct fetch *f,
	       int *status, char *err, size_t errlen)
{
	int64_t limit = (int64_t)opts_num(ob->o, OPT_IO_TIMEOUT);
	int64_t start = now_ms(), wait, spent;
	int fixed[3] = {0, 0, 0}, st;
	unsigned again = 0, retries = 0;
	struct attempt a;

	if (f && f->deadline && (!limit || f->deadline - start < limit))
		limit = f->deadline > start ? f->deadline - start : 1;

	for (;;) {
		memset(&a, 0, sizeof(a));
		st = attempt(ob, method, f, fixed, &a);
		if (st == A_DONE)
			return 0;
		if (st == A_FATAL) {
			snprintf(err, errlen, "%s %s: %s", method,
				 ob->info.name, a.why);
			if (status)
				*status = a.status;
			return a.status == 404	 ? -ENOENT
			       : a.status == 403 ? -EACCES
			       : a.status == 412 ? -ESTALE
						 : -EIO;
		}
		/* fixed a region, clock or credentials, or met a stale
		 * pooled connection: again at once (within reason) */
		if (st == A_AGAIN && ++again < 64)
			continue;
		stat_add(ob, &ob->stats.retries, 1);
		wait = backoff_ms(ob, retries++);
		spent = now_ms() - start;
		if (limit && spent >= limit) {
			snprintf(err, errlen,
				 "%s %s: %s (gave up after %u attempts in "
				 "%" PRId64 " s; s3.io_timeout)",
				 method, ob->info.name, a.why, retries,
				 spent / 1000);
			return -EIO;
		}
		if (limit && spent + wait > limit)
			wait = limit - spent; /* one last try at the deadline */
		if (retries == 1 || retries % 10 == 0)
			warn("%s %s: %s; retrying", method, ob->info.name,
			     a.why);
		usleep((useconds_t)wait * 1000);
	}
}

int object_open(struct object **obp, struct opts *o, const struct source *src,
		const struct s3_target *t, struct creds *c, char *const *envp,
		char *err, size_t errlen)
{
	struct http_client_config hc = {
		.connect_timeout_ms = (int)opts_num(o, OPT_CONNECT_TIMEOUT),
		.io_timeout_ms = (int)opts_num(o, OPT_REQUEST_TIMEOUT),
		.resolve = opts_str(o, OPT_RESOLVE),
		.ca_file = opts_str(o, OPT_CA),
		.insecure = (int)opts_num(o, OPT_INSECURE),
		.min_time = s3root_build_time,
		.max_idle = (unsigned)opts_num(o, OPT_CONNECTIONS),
		.idle_timeout_ms = 20000,
	};
	struct object *ob = calloc(1, sizeof(*ob));
	int r, status = 0, dstatus = 0;

	if (!ob)
		return -ENOMEM;
	if (!hc.ca_file)
		hc.ca_file = env_get(envp, "SSL_CERT_FILE");
	if (hc.insecure)
		warn("s3.insecure: TLS certificates are NOT verified; anyone "
		     "on the path can serve a different image");
	ob->o = o;
	ob->envp = envp;
	ob->src = *src;
	ob->t = *t;
	ob->creds = *c;
	memset(c, 0, sizeof(*c)); /* ours now */
	snprintf(ob->region, sizeof(ob->region), "%s", opts_str(o, OPT_REGION));
	if (src->plain)
		snprintf(ob->info.name, sizeof(ob->info.name), "%s", src->url);
	else
		snprintf(ob->info.name, sizeof(ob->info.name), "s3://%s/%s",
			 src->bucket, src->key);
	ob->rand =
		(uint64_t)now_ms() * 0x9E3779B97F4A7C15ULL ^ (uint64_t)getpid();
	ob->creds_checked = time(NULL);
	mtime_of(opts_str(o, OPT_PASSWD_FILE), &ob->pw_mtime);
	mtime_of(opts_str(o, OPT_SESSION_TOKEN_FILE), &ob->tok_mtime);
	pthread_mutex_init(&ob->lock, NULL);
	r = http_client_new(&ob->http, &hc, err, errlen);
	if (r)
		goto err_free;
	r = run(ob, "HEAD", NULL, &status, err, errlen);
	if (r && status >= 400 && status < 500 && status != 412) {
		/* a HEAD answer has no body to say why: ask again with a GET
		 * of one byte, whose error body names the cause */
		struct fetch f = {0, 1, NULL, NULL, 1, 0};
		char why[1024];
		int d = run(ob, "GET", &f, &dstatus, why, sizeof(why));

		if (d && dstatus == status) {
			snprintf(err, errlen, "%s", why);
			r = d;
		} else if (!d) {
			/* the GET got through (it fixed the region, say):
			 * the HEAD will too */
			r = run(ob, "HEAD", NULL, &status, err, errlen);
		}
	}
	if (r)
		goto err_free;
	ob->opened = 1;
	snprintf(ob->info.region, sizeof(ob->info.region), "%s", ob->region);
	*obp = ob;
	return 0;
err_free:
	object_close(ob);
	return r;
}

void object_close(struct object *ob)
{
	if (!ob)
		return;
	http_client_free(ob->http);
	creds_free(&ob->creds);
	sigv4_signer_wipe(&ob->signer);
	pthread_mutex_destroy(&ob->lock);
	free(ob);
}

const struct object_info *object_info(const struct object *ob)
{
	return &ob->info;
}

void object_stats(struct object *ob, struct object_stats *st)
{
	pthread_mutex_lock(&ob->lock);
	*st = ob->stats;
	pthread_mutex_unlock(&ob->lock);
}

/* A GET of f's range, checked against the object's size. */
static int fetch_until(struct object *ob, struct fetch *f, char *err,
		       size_t errlen)
{
	uint64_t off = f->off, len = f->len;

	if (off > ob->info.size || len > ob->info.size - off) {
		snprintf(err, errlen,
			 "range %" PRIu64 "+%" PRIu64 " outside %s (%" PRIu64
			 " bytes)",
			 off, len, ob->info.name, ob->info.size);
		return -EINVAL;
	}
	if (!len)
		return 0;
	return run(ob, "GET", f, NULL, err, errlen);
}

int object_fetch(struct object *ob, uint64_t off, uint64_t len,
		 object_sink sink, void *arg, char *err, size_t errlen)
{
	struct fetch f = {off, len, sink, arg, 0, 0};

	return fetch_until(ob, &f, err, errlen);
}

struct membuf {
	char *p;
};

static int to_memory(void *arg, const char *buf, size_t len)
{
	struct membuf *m = arg;

	memcpy(m->p, buf, len);
	m->p += len;
	return 0;
}

int object_read(struct object *ob, void *buf, uint64_t off, size_t len,
		int64_t deadline_ms, char *err, size_t errlen)
{
	struct membuf m = {buf};
	struct fetch f = {off, len, to_memory, &m, 0, deadline_ms};

	return fetch_until(ob, &f, err, errlen);
}
