/* SPDX-License-Identifier: MIT */
/* internal.h - the object's state and steps, shared by object.c,
 * attempt.c and answer_errors.c. */
#ifndef S3ROOT_S3_INTERNAL_H
#define S3ROOT_S3_INTERNAL_H

#include <pthread.h>
#include <time.h>
#include "crypto/sigv4.h"
#include "src/s3/s3.h"

#define ERRBODY_MAX (64 * 1024)
#define MAX_REDIRECTS 4

struct object {
	struct opts *o;
	char *const *envp;
	struct source src;
	struct http_client *http;
	struct object_info info;
	int weak_etag; /* pin by Last-Modified instead */
	int opened;    /* the HEAD went through: the configuration is sound */
	/* object_open_by's deadline (util_mono_ms), or 0 */
	int64_t open_by;
	struct s3_extra extra; /* s3.version_id, SSE-C ...: fixed at open */

	pthread_mutex_t lock; /* everything below */
	struct s3_target t;
	char region[64];
	struct sigv4_signer signer;
	struct creds creds;
	int64_t clock_offset; /* server time - our time, seconds */
	time_t creds_checked;
	time_t creds_next;    /* temporary credentials: when to replace them */
	unsigned creds_fails; /* failed attempts in a row */
	int creds_busy;	      /* a replacement is being asked for */
	/* object_keep_fresh's thread, in the process that started it */
	pthread_t keeper;
	pthread_cond_t keeper_cond;
	pid_t keeper_pid; /* 0: none */
	int keeper_stop;
	struct timespec pw_mtime, tok_mtime;
	uint64_t rand;
	struct object_stats stats;
	/* hedging: s3.hedge (-1 auto, 0 off, or ms), the recent times to
	 * the first byte (a ring), hedges in flight now */
	int64_t hedge;
	uint32_t ttfb[S3_HEDGE_WINDOW];
	unsigned nttfb, ttfb_at, hedging;
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
	int stale; /* the answer shows another object: as for a 412 */
	char why[512];
};

/* What one call has fixed already, so that each fix happens a bounded
 * number of times: redirects followed, the clock, a credential reload. */
struct fixes {
	int redirects;
	int clock;
	int creds;
};

struct range {
	uint64_t off, len; /* len 0: HEAD */
};

struct fetch {
	uint64_t off, len; /* still to deliver */
	object_sink sink;
	void *arg;
	int diagnose; /* only to learn why a HEAD failed: any 2xx will do */
	int probe; /* the open without HEAD: a GET of byte 0 learns the size */
	int64_t deadline; /* util_mono_ms() at which to give up, 0: io_timeout
			   */
};

/* object.c: adds n to a figure (under the lock). */
void object_stat_add(struct object *ob, uint64_t *field, uint64_t n);
/* object.c: reloads credentials when forced or a credential file changed,
 * replaces temporary ones when due; called with ob->lock held. 0, or
 * -EBUSY when forced while another thread asks for new ones. */
int object_creds_refresh(struct object *ob, int force);
/* object.c: a file's modification time; -1 if it has none. */
int object_mtime_of(const char *path, struct timespec *ts);

/* hedge.c: after a GET was sent on *c, waits for its first byte and,
 * when late, sends head again on another connection: *c is then the one
 * that answered first (the other is closed). 0 or -errno (-ETIMEDOUT:
 * neither answered within s3.request_timeout). */
int object_await_first(struct object *ob, struct http_conn **c,
		       const struct url *url, const char *head);

/* attempt.c: one attempt at a request (a HEAD when f is NULL): A_*. */
int object_attempt(struct object *ob, const char *method, struct fetch *f,
		   struct fixes *fixed, struct attempt *a);
/* failure.c: a non-2xx answer, what it means and what to do: A_*. */
int object_on_error(struct object *ob, struct http_conn *c,
		    struct http_response *r, const char *method,
		    int64_t sent_at, struct fixes *fixed, struct attempt *a);

#endif
