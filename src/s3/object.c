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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/s3/internal.h"

#define BACKOFF_BASE_MS 100
#define BACKOFF_CAP_MS 10000
#define CREDS_RECHECK 2 /* seconds between looks at credential files */
/*
 * Connections beyond s3.connections close after this long idle: long
 * enough to carry a boot's bursts of reads (a second or two of the
 * guest's own work between them), short enough to hand back the memory
 * and the server's sockets soon after.
 */
#define TRIM_MS 10000

void object_stat_add(struct object *ob, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&ob->lock);
	*field += n;
	pthread_mutex_unlock(&ob->lock);
}

int object_mtime_of(const char *path, struct timespec *ts)
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

static void utc(time_t t, char out[24])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(out, 24, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(out, 24, "?");
}

/* When to try again after n failures in a row: 1 s doubling to a minute. */
static time_t creds_backoff(unsigned n)
{
	time_t w = (time_t)1 << (n < 7 ? (n ? n - 1 : 0) : 6);

	return w < 60 ? w : 60;
}

/* Schedules the next replacement of temporary credentials. */
static void creds_schedule(struct object *ob, time_t now)
{
	time_t at = (time_t)creds_refresh_at(&ob->creds, now);

	ob->creds_next = at > now ? at : now + creds_backoff(ob->creds_fails);
	ob->stats.creds_expires = ob->creds.expires;
}

/*
 * Replaces temporary credentials (the instance's) before they expire: on
 * failure the old ones stay (they may still be good) and the next try
 * backs off. Called with ob->lock held, which it lets go while it asks
 * (requests go on with the old ones; one asks at a time).
 */
static void creds_replace(struct object *ob, time_t now)
{
	char msg[512], a[24], b[24];
	struct creds fresh;
	int r;

	if (ob->creds_busy)
		return;
	ob->creds_busy = 1;
	ob->creds_checked = now;
	pthread_mutex_unlock(&ob->lock);
	r = creds_load(&fresh, ob->o, ob->envp, ob->src.bucket, msg,
		       sizeof(msg));
	pthread_mutex_lock(&ob->lock);
	ob->creds_busy = 0;
	now = time(NULL);
	if (!r && !fresh.access_key)
		snprintf(msg, sizeof(msg), "none found");
	if (r || !fresh.access_key) {
		creds_free(&fresh);
		ob->stats.creds_failures++;
		ob->creds_next = now + creds_backoff(++ob->creds_fails);
		utc((time_t)ob->creds.expires, a);
		log_warn("refreshing credentials: %s (keeping the old ones, "
			 "%s %s; trying again in %d s)",
			 msg,
			 ob->creds.expires > now ? "valid until" : "expired at",
			 a, (int)(ob->creds_next - now));
		return;
	}
	creds_free(&ob->creds);
	ob->creds = fresh;
	ob->creds_fails = 0;
	ob->stats.creds_refreshes++;
	creds_schedule(ob, now);
	utc((time_t)fresh.expires, a);
	utc(ob->creds_next, b);
	log_info("credentials refreshed from %s%s%s (key %.8s..., valid until "
		 "%s; next refresh at %s)",
		 fresh.origin ? fresh.origin : "nowhere",
		 fresh.role[0] ? ", role " : "", fresh.role, fresh.access_key,
		 fresh.expires ? a : "-", fresh.expires ? b : "-");
}

int object_creds_refresh(struct object *ob, int force)
{
	struct timespec pw = {0}, tok = {0};
	struct creds fresh;
	char msg[256];
	time_t now = time(NULL);

	if (ob->src.plain)
		return 0;
	if (ob->creds.expires) {
		/* another thread asks already: its answer is worth waiting
		 * for when these were refused */
		if (ob->creds_busy)
			return force ? -EBUSY : 0;
		/* due, or refused (at most once a second) */
		if (now >= ob->creds_next || (force && now > ob->creds_checked))
			creds_replace(ob, now);
		return 0;
	}
	if (!force && now - ob->creds_checked < CREDS_RECHECK)
		return 0;
	ob->creds_checked = now;
	/* a file that vanished (the initramfs, deleted at switch_root) is
	 * no news: only a file that changed is */
	if (object_mtime_of(opts_str(ob->o, OPT_PASSWD_FILE), &pw))
		pw = ob->pw_mtime;
	if (object_mtime_of(opts_str(ob->o, OPT_SESSION_TOKEN_FILE), &tok))
		tok = ob->tok_mtime;
	if (!force && ts_eq(&pw, &ob->pw_mtime) && ts_eq(&tok, &ob->tok_mtime))
		return 0;
	ob->pw_mtime = pw;
	ob->tok_mtime = tok;
	if (creds_load(&fresh, ob->o, ob->envp, ob->src.bucket, msg,
		       sizeof(msg))) {
		log_warn("reloading credentials: %s (keeping the old ones)",
			 msg);
		return 0;
	}
	if (ob->creds.access_key && !fresh.access_key) {
		/* never fall back to anonymous behind the user's back */
		log_warn("reloading credentials: none found (keeping the old "
			 "ones)");
		creds_free(&fresh);
		return 0;
	}
	creds_free(&ob->creds);
	ob->creds = fresh;
	log_info("credentials reloaded from %s",
		 fresh.origin ? fresh.origin : "nowhere (anonymous)");
	return 0;
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
	int64_t start = util_mono_ms(), wait, spent;
	int64_t deadline = f ? f->deadline : ob->open_by;
	struct fixes fixed = {0};
	int st, by_deadline = 0;
	unsigned again = 0, retries = 0;
	struct attempt a;

	if (deadline && (!limit || deadline - start < limit)) {
		limit = deadline > start ? deadline - start : 1;
		by_deadline = 1;
	}

	for (;;) {
		memset(&a, 0, sizeof(a));
		st = object_attempt(ob, method, f, &fixed, &a);
		if (st == A_DONE)
			return 0;
		if (st == A_FATAL) {
			snprintf(err, errlen, "%s %s: %s", method,
				 ob->info.name, a.why);
			if (status)
				*status = a.status;
			return a.stale || a.status == 412 ? -ESTALE
			       : a.status == 404	  ? -ENOENT
			       : a.status == 403	  ? -EACCES
							  : -EIO;
		}
		/* fixed a region, clock or credentials, or met a stale
		 * pooled connection: again at once (within reason) */
		if (st == A_AGAIN && ++again < 64)
			continue;
		object_stat_add(ob, &ob->stats.retries, 1);
		wait = backoff_ms(ob, retries++);
		spent = util_mono_ms() - start;
		if (limit && spent >= limit) {
			snprintf(err, errlen,
				 "%s %s: %s (gave up after %u attempts in "
				 "%" PRId64 " s; %s)",
				 method, ob->info.name, a.why, retries,
				 spent / 1000,
				 by_deadline ? "the deadline"
					     : "s3.io_timeout");
			return -EIO;
		}
		if (limit && spent + wait > limit)
			wait = limit - spent; /* one last try at the deadline */
		if (retries == 1 || retries % 10 == 0)
			log_warn("%s %s: %s; retrying", method, ob->info.name,
				 a.why);
		usleep((useconds_t)wait * 1000);
	}
}

/* s3.hedge: -1 auto, 0 off, or the lateness in ms (checked by conf). */
static int64_t hedge_option(const struct opts *o)
{
	const char *v = opts_str(o, OPT_HEDGE);
	uint64_t ms = 0;

	if (!v || !strcmp(v, "auto"))
		return -1;
	if (!strcmp(v, "off") || opts_duration(v, &ms))
		return 0;
	return (int64_t)ms;
}

/* The HTTP client's word on names that stop (and start again) resolving:
 * once each, for the log of a server that keeps going on them. */
static void note_names(void *arg, const char *msg)
{
	(void)arg;
	log_warn("%s", msg);
}

/* The HTTP client's settings from the options; with a deadline (not 0),
 * no wait beyond it. */
static void client_config(struct http_client_config *hc, struct opts *o,
			  char *const *envp, int64_t deadline)
{
	int64_t left = deadline - util_mono_ms();

	*hc = (struct http_client_config){
		.connect_timeout_ms = (int)opts_num(o, OPT_CONNECT_TIMEOUT),
		.io_timeout_ms = (int)opts_num(o, OPT_REQUEST_TIMEOUT),
		.resolve = opts_str(o, OPT_RESOLVE),
		.ca_file = opts_str(o, OPT_CA),
		.insecure = (int)opts_num(o, OPT_INSECURE),
		.min_time = base_build_time,
		.max_idle = (unsigned)opts_num(o, OPT_CONNECTIONS_MAX),
		.idle_timeout_ms = 20000,
		.keep_idle = (unsigned)opts_num(o, OPT_CONNECTIONS),
		.trim_ms = TRIM_MS,
		.note = note_names,
	};
	if (hc->max_idle < hc->keep_idle)
		hc->max_idle = hc->keep_idle;
	if (!hc->ca_file)
		hc->ca_file = opts_env_get(envp, "SSL_CERT_FILE");
	if (!deadline)
		return;
	if (left < 1)
		left = 1;
	if (hc->connect_timeout_ms > left)
		hc->connect_timeout_ms = (int)left;
	if (hc->io_timeout_ms > left)
		hc->io_timeout_ms = (int)left;
}

/* Where temporary credentials came from, when they end, what is next. */
static void creds_told(struct object *ob)
{
	const struct creds *c = &ob->creds;
	char a[24], b[24];

	utc((time_t)c->expires, a);
	utc(ob->creds_next, b);
	log_info("credentials from %s%s%s (key %.8s..., valid until %s; next "
		 "refresh at %s)%s%s%s",
		 c->origin, c->role[0] ? ", role " : "", c->role, c->access_key,
		 a, b, c->region[0] ? "; region " : "", c->region,
		 c->region[0] ? " (the instance's)" : "");
}

/*
 * The open without a HEAD: a GET of byte 0, whose Content-Range total is
 * the size and whose ETag is pinned. A presigned URL is signed for GET
 * alone; other servers may refuse HEAD (403, 405) and serve GET.
 */
static int open_probe(struct object *ob, int64_t deadline_ms, int *status,
		      char *err, size_t errlen)
{
	struct fetch f = {0, 1, NULL, NULL, 0, 0, deadline_ms};

	f.probe = 1;
	return run(ob, "GET", &f, status, err, errlen);
}

/* Learns and pins the object: HEAD, or the GET of open_probe. */
static int open_head(struct object *ob, int64_t deadline_ms, char *err,
		     size_t errlen)
{
	int r, status = 0, dstatus = 0;

	if (ob->src.presigned)
		return open_probe(ob, deadline_ms, &status, err, errlen);
	r = run(ob, "HEAD", NULL, &status, err, errlen);
	if (r && ob->src.plain && (status == 403 || status == 405)) {
		log_info("%s: HEAD refused with %d; opening with a GET of "
			 "byte 0",
			 ob->info.name, status);
		return open_probe(ob, deadline_ms, &status, err, errlen);
	}
	if (r && status >= 400 && status < 500 && status != 412) {
		/* a HEAD answer has no body to say why: ask again with a GET
		 * of one byte, whose error body names the cause */
		struct fetch f = {0, 1, NULL, NULL, 1, 0, deadline_ms};
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
	return r;
}

int object_open(struct object **obp, struct opts *o, const struct source *src,
		const struct s3_target *t, struct creds *c, char *const *envp,
		char *err, size_t errlen)
{
	return object_open_by(obp, o, src, t, c, envp, 0, err, errlen);
}

int object_open_by(struct object **obp, struct opts *o,
		   const struct source *src, const struct s3_target *t,
		   struct creds *c, char *const *envp, int64_t deadline_ms,
		   char *err, size_t errlen)
{
	return object_open_pinned(obp, o, src, t, c, envp, deadline_ms, NULL,
				  err, errlen);
}

/* The HEAD of a pinned open: the very object the pin describes, or
 * -ESTALE with what differs. */
static int pin_check(const struct object *ob, const struct object_info *pin,
		     char *err, size_t errlen)
{
	const struct object_info *i = &ob->info;
	const char *what = NULL;

	if (i->size != pin->size)
		what = "size";
	else if (pin->etag[0] && strcmp(i->etag, pin->etag))
		what = "ETag";
	else if (strcmp(i->version_id, pin->version_id))
		what = "version id";
	else if (pin->last_modified[0] &&
		 strcmp(i->last_modified, pin->last_modified))
		what = "Last-Modified";
	if (!what)
		return 0;
	snprintf(err, errlen,
		 "%s was replaced: its %s differs from the pinned one (size "
		 "%" PRIu64 ", ETag %.80s, version %.80s, Last-Modified %.40s; "
		 "now %" PRIu64 ", %.80s, %.80s, %.40s)",
		 i->name, what, pin->size, pin->etag[0] ? pin->etag : "none",
		 pin->version_id[0] ? pin->version_id : "none",
		 pin->last_modified[0] ? pin->last_modified : "none", i->size,
		 i->etag[0] ? i->etag : "none",
		 i->version_id[0] ? i->version_id : "none",
		 i->last_modified[0] ? i->last_modified : "none");
	return -ESTALE;
}

/* The HEAD asks for the pinned version (?versionId=) on its condition
 * (If-Match, or If-Unmodified-Since without a strong ETag). */
static void pin_request(struct object *ob, const struct object_info *pin)
{
	memcpy(ob->info.etag, pin->etag, sizeof(ob->info.etag));
	memcpy(ob->info.version_id, pin->version_id,
	       sizeof(ob->info.version_id));
	memcpy(ob->info.last_modified, pin->last_modified,
	       sizeof(ob->info.last_modified));
	ob->info.etag[sizeof(ob->info.etag) - 1] = '\0';
	ob->info.version_id[sizeof(ob->info.version_id) - 1] = '\0';
	ob->info.last_modified[sizeof(ob->info.last_modified) - 1] = '\0';
	ob->weak_etag = !strncmp(ob->info.etag, "W/", 2);
}

int object_open_pinned(struct object **obp, struct opts *o,
		       const struct source *src, const struct s3_target *t,
		       struct creds *c, char *const *envp, int64_t deadline_ms,
		       const struct object_info *pin, char *err, size_t errlen)
{
	struct http_client_config hc;
	struct object *ob = calloc(1, sizeof(*ob));
	int r;

	if (!ob)
		return -ENOMEM;
	client_config(&hc, o, envp, deadline_ms);
	if (hc.insecure)
		log_warn("s3.insecure: TLS certificates are NOT verified; "
			 "anyone "
			 "on the path can serve a different image");
	ob->o = o;
	ob->envp = envp;
	ob->open_by = deadline_ms;
	ob->src = *src;
	ob->t = *t;
	ob->creds = *c;
	memset(c, 0, sizeof(*c)); /* ours now */
	snprintf(ob->region, sizeof(ob->region), "%s", opts_str(o, OPT_REGION));
	snprintf(ob->info.name, sizeof(ob->info.name), "%s", src->shown);
	ob->rand = (uint64_t)util_mono_ms() * 0x9E3779B97F4A7C15ULL ^
		   (uint64_t)getpid();
	ob->creds_checked = time(NULL);
	ob->hedge = hedge_option(o);
	creds_schedule(ob, ob->creds_checked);
	object_mtime_of(opts_str(o, OPT_PASSWD_FILE), &ob->pw_mtime);
	object_mtime_of(opts_str(o, OPT_SESSION_TOKEN_FILE), &ob->tok_mtime);
	pthread_mutex_init(&ob->lock, NULL);
	pthread_cond_init(&ob->keeper_cond, NULL);
	r = s3_extra_load(&ob->extra, o, src, t, err, errlen);
	if (r)
		goto err_free;
	/* s3.version_id pins that version from the HEAD on */
	snprintf(ob->info.version_id, sizeof(ob->info.version_id), "%s",
		 ob->extra.version_id);
	r = http_client_new(&ob->http, &hc, err, errlen);
	if (r)
		goto err_free;
	if (pin)
		pin_request(ob, pin);
	r = open_head(ob, deadline_ms, err, errlen);
	if (r == -EIO && deadline_ms && util_mono_ms() >= deadline_ms)
		r = -ETIMEDOUT;
	if (!r && pin)
		r = pin_check(ob, pin, err, errlen);
	if (r)
		goto err_free;
	if (deadline_ms) {
		/* the waits of the open were cut to its deadline: from now
		 * on, the options' own */
		http_client_free(ob->http);
		ob->http = NULL;
		ob->open_by = 0;
		client_config(&hc, o, envp, 0);
		r = http_client_new(&ob->http, &hc, err, errlen);
		if (r)
			goto err_free;
	}
	ob->opened = 1;
	snprintf(ob->info.region, sizeof(ob->info.region), "%s", ob->region);
	if (ob->creds.expires)
		creds_told(ob);
	*obp = ob;
	return 0;
err_free:
	object_close(ob);
	return r;
}

void object_idle(struct object *ob)
{
	http_client_trim(ob->http);
}

/* object_keep_fresh's thread: wakes when the credentials are due. */
static void *keeper(void *arg)
{
	struct object *ob = arg;
	struct timespec ts = {0, 0};
	time_t now;

	pthread_mutex_lock(&ob->lock);
	while (!ob->keeper_stop) {
		now = time(NULL);
		if (now >= ob->creds_next)
			creds_replace(ob, now);
		ts.tv_sec = ob->creds_next > now ? ob->creds_next : now + 1;
		pthread_cond_timedwait(&ob->keeper_cond, &ob->lock, &ts);
	}
	pthread_mutex_unlock(&ob->lock);
	return NULL;
}

int object_keep_fresh(struct object *ob)
{
	int r;

	if (!ob->creds.expires || ob->keeper_pid == getpid())
		return 0;
	ob->keeper_stop = 0;
	r = -pthread_create(&ob->keeper, NULL, keeper, ob);
	if (!r)
		ob->keeper_pid = getpid();
	else
		log_warn("credentials: no thread to refresh them: %s "
			 "(refreshed as reads need them)",
			 strerror(-r));
	return r;
}

void object_close(struct object *ob)
{
	if (!ob)
		return;
	if (ob->keeper_pid == getpid()) {
		pthread_mutex_lock(&ob->lock);
		ob->keeper_stop = 1;
		pthread_cond_signal(&ob->keeper_cond);
		pthread_mutex_unlock(&ob->lock);
		pthread_join(ob->keeper, NULL);
	}
	http_client_free(ob->http);
	creds_free(&ob->creds);
	s3_extra_wipe(&ob->extra);
	sigv4_signer_wipe(&ob->signer);
	pthread_cond_destroy(&ob->keeper_cond);
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
	http_client_stats(ob->http, &st->names);
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
	struct fetch f = {off, len, sink, arg, 0, 0, 0};

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
	struct fetch f = {off, len, to_memory, &m, 0, 0, deadline_ms};

	return fetch_until(ob, &f, err, errlen);
}
