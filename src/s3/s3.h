/* SPDX-License-Identifier: MIT */
/*
 * s3.h - talking to S3 (or a plain HTTP server) about one object: where
 * requests go, signed request heads, S3's answers, credentials, and the
 * object opened for reading. Exports: s3_*, creds_*, object_*.
 */
#ifndef S3ROOT_S3_H
#define S3ROOT_S3_H

#include <stddef.h>
#include <stdint.h>
#include "http/http.h"
#include "src/conf/conf.h"

/* ---- where requests go (target.c) ---- */

/* Where a request for the object goes and what it is signed as. */
struct s3_target {
	struct url url; /* scheme, connect host, port, path */
	char host_header[URL_MAX_HOST + S3_MAX_BUCKET + 10];
	char resource[3 * (S3_MAX_BUCKET + S3_MAX_KEY) + 4]; /* SigV2 */
	int vhost;
};

/*
 * Fills t for src from the options (s3.endpoint, s3.urlstyle): path style
 * for an address or a bucket that is no DNS label. 0 or -EINVAL with a
 * message in err.
 */
int s3_target_init(const struct opts *o, const struct source *src,
		   struct s3_target *t, char *err, size_t errlen);

/* ---- what every request carries (extra.c) ---- */

#define S3_EXTRA_MAX_HEADERS 5

/* s3.version_id, s3.request_payer, s3.expected_owner, s3.sse_c_key_file. */
struct s3_extra {
	char version_id[1025]; /* "" for the latest */
	int request_payer;
	char expected_owner[1025];
	char ssec_key[48]; /* the SSE-C key (base64), "" for none: a secret */
	char ssec_md5[32]; /* its MD5 (base64) */
};

/*
 * Fills x from the options; reads the SSE-C key file (it must be 0600 and
 * hold the base64 of 32 bytes; only over https). 0 or -errno with a
 * message in err. Wipe x with s3_extra_wipe.
 */
int s3_extra_load(struct s3_extra *x, const struct opts *o,
		  const struct source *src, const struct s3_target *t,
		  char *err, size_t errlen);
/*
 * Points names/values (room for S3_EXTRA_MAX_HEADERS) at the headers x
 * asks for; they borrow from x. Returns the count.
 */
size_t s3_extra_headers(const struct s3_extra *x, const char **names,
			const char **values);
/* Wipes x (it holds the SSE-C key). */
void s3_extra_wipe(struct s3_extra *x);

/* ---- signed request heads (request.c) ---- */

struct sigv4_signer;
struct sig_param;
struct sig_trace;
struct creds;

#define S3REQ_MAX_HEADERS 40

/* What to sign: borrowed pointers, they must outlive the s3_req. */
struct s3_req_in {
	const char *method;
	const struct s3_target *target;
	int sig;		   /* SIG_V2 or SIG_V4 */
	const char *region;	   /* SigV4 scope */
	const struct creds *creds; /* NULL or no key: unsigned */
	const char *const *names;  /* extra headers, sent and signed */
	const char *const *values;
	size_t nheaders;
	const struct sig_param *params; /* query parameters (decoded) */
	size_t nparams;
	int64_t time;
	const char *payload; /* SIGV4_UNSIGNED_PAYLOAD or SIGV4_EMPTY_SHA256 */
};

/* A request head ready to send: Host first, then the rest, in order. */
struct s3_req {
	const char *method;
	char target[URL_MAX_PATH + 1]; /* path and query for the request line */
	const char *names[S3REQ_MAX_HEADERS];
	const char *values[S3REQ_MAX_HEADERS];
	size_t n;
	char amz_date[17];
	char date[30];
	char auth[2048];
};

/*
 * Builds and signs a request. canon and sts (may be NULL) receive the
 * signed text for `sign -v`. Returns 0, or -errno with a message in err.
 */
int s3_req_sign(struct s3_req *q, const struct s3_req_in *in,
		struct sigv4_signer *signer, struct sig_trace *canon,
		struct sig_trace *sts, char *err, size_t errlen);

/* Writes the head as sent on the wire (CRLF line ends, a User-Agent, the
 * final empty line). Returns the length or -ENOSPC. */
long s3_req_format(const struct s3_req *q, char *out, size_t outlen);

/* ---- S3 answers (answer.c) ---- */

struct s3_error {
	char code[64];
	char message[256];
	char region[64];
	char endpoint[256];
};

/* Reads an <Error> body (len bytes, not NUL-terminated). 0 or -EINVAL. */
int s3_error_parse(const char *body, size_t len, struct s3_error *e);

/* "bytes START-END/TOTAL", checked for order. 0 or -EINVAL. */
int s3_parse_content_range(const char *s, uint64_t *start, uint64_t *end,
			   uint64_t *total);

/*
 * The server's clock against ours, from a Date header: when the offset
 * (server time - our time at sending) differs from *offset by five
 * minutes or more (S3 allows 15), stores it and returns 1; else 0.
 */
#define S3_SKEW_LIMIT 300
int s3_clock_offset(const char *date, int64_t sent_at, int64_t *offset);

/* ---- credentials (creds.c) ---- */

struct creds {
	char *access_key;
	char *secret_key;
	char *session_token;
	const char *origin; /* "environment", a file name: for messages */
	int64_t expires;    /* temporary ones (the instance's): epoch s */
	char role[129];	    /* the instance's role */
	char region[64];    /* the instance's region ("": not asked) */
};

/*
 * Loads credentials for bucket from the option's files or the environment
 * (whichever ranks higher: -o over the environment over the config file),
 * else from the AWS CLI's shared files (awsconf_load), else from the
 * instance's role (imds_load). No credentials at all is not an error:
 * requests are then anonymous.
 */
int creds_load(struct creds *c, const struct opts *o, char *const *envp,
	       const char *bucket, char *err, size_t errlen);
/*
 * Parses s3fs passwd text ("ACCESS:SECRET" or "BUCKET:ACCESS:SECRET"
 * lines, '#' comments). A bucket's own line wins over the default one.
 */
int creds_parse_passwd(struct creds *c, const char *text, size_t len,
		       const char *bucket, char *err, size_t errlen);
/* Wipes and frees the strings; c is then empty (anonymous). */
void creds_free(struct creds *c);

/* ---- the instance's credentials (imds.c) ---- */

#define CREDS_ORIGIN_IMDS "the instance metadata service"
#define CREDS_REFRESH_AHEAD 300 /* s: AWS has new ones 5 minutes ahead */

/*
 * The instance role's credentials from the EC2 instance metadata service
 * (IMDSv2; shared/DESIGN.md): s3.imds, s3.imds_endpoint and the SDKs'
 * AWS_EC2_METADATA_* variables say where and whether. With want_region,
 * c->region is the instance's (empty when the service does not say).
 * Returns 0, 1 when there are none (off; auto and nobody answers or no
 * role attached), or -errno with the cause in err.
 */
int imds_load(struct creds *c, const struct opts *o, char *const *envp,
	      int want_region, char *err, size_t errlen);
/*
 * A credentials document (JSON: Code "Success", AccessKeyId,
 * SecretAccessKey, Token, Expiration after now). 0 or -EINVAL with err.
 */
int imds_parse_creds(const char *doc, size_t len, int64_t now, struct creds *c,
		     char *err, size_t errlen);
/* "YYYY-MM-DDTHH:MM:SSZ" as epoch seconds. 0 or -EINVAL. */
int imds_parse_time(const char *s, int64_t *t);
/*
 * When to replace temporary credentials obtained at obtained (epoch s):
 * ahead of their expiry by the smaller of CREDS_REFRESH_AHEAD and a
 * quarter of their lifetime (6-hour ones 5 minutes ahead, 80 s ones at
 * 60 s). 0 for credentials that do not expire.
 */
int64_t creds_refresh_at(const struct creds *c, int64_t obtained);

/* ---- a command's setup (setup.c) ---- */

/*
 * What every command that reads an object does first: parses source,
 * reads the config file ($S3ROOT_CONFIG or PATH_CONFIG) and the
 * environment under the -o lists already in o, fills defaults, derives
 * the target and loads credentials (none for a plain URL). Returns 0, or
 * -1 after logging why.
 */
int s3_setup(struct opts *o, const char *source, char **envp,
	     struct source *src, struct s3_target *t, struct creds *c);

/* ---- the object (object.c) ---- */

#define OBJECT_IO_BUF (64 * 1024)

struct object;

struct object_info {
	char name[URL_MAX_PATH + 320]; /* s3://bucket/key or the URL */
	uint64_t size;
	char etag[256];
	char version_id[1024]; /* empty unless the bucket is versioned */
	char last_modified[64];
	char content_type[128];
	char region[64];
};

struct object_stats {
	uint64_t requests;   /* HTTP requests sent */
	uint64_t retries;    /* attempts that failed and were retried */
	uint64_t bytes;	     /* body bytes delivered */
	uint64_t hedges;     /* GETs sent again: the first byte was late */
	uint64_t hedges_won; /* of those, the second answered first */
	uint64_t hedge_ms;   /* the lateness that sends one now (0: none) */
	uint64_t creds_refreshes; /* temporary credentials replaced */
	uint64_t creds_failures;  /* attempts to replace them that failed */
	int64_t creds_expires;	  /* when the ones in use expire (epoch s) */
	struct http_client_stats names; /* lookups; a name that fails now */
};

/*
 * Opens the object with a HEAD (retried per s3.io_timeout). Takes over
 * *c (zeroed on return). Safe to use from several threads once open. o must
 * outlive the object: a region redirect updates its endpoint. Returns 0, or
 * -errno with the message in err
 * (-ENOENT no such key or bucket, -EACCES refused, -EIO other).
 */
int object_open(struct object **ob, struct opts *o, const struct source *src,
		const struct s3_target *t, struct creds *c, char *const *envp,
		char *err, size_t errlen);
/*
 * object_open that gives up by deadline_ms (util_mono_ms; 0: as
 * object_open) whatever s3.io_timeout says: each attempt's waits are
 * bounded by what is left, and the last attempt's cause is in err with
 * -ETIMEDOUT. The open object then retries as s3.io_timeout says.
 */
int object_open_by(struct object **ob, struct opts *o, const struct source *src,
		   const struct s3_target *t, struct creds *c,
		   char *const *envp, int64_t deadline_ms, char *err,
		   size_t errlen);
/*
 * For a server: a thread that replaces temporary credentials (the
 * instance's) ahead of their expiry even while no request comes (requests
 * replace them too, when due). Call it in the process that serves:
 * threads do not cross fork. Nothing to do (0) for credentials that do
 * not expire; else 0 or -errno (logged: requests still refresh them).
 */
int object_keep_fresh(struct object *ob);
/*
 * object_open_by for exactly the object pin describes (a reattach's: its
 * size, ETag, version id, Last-Modified): the HEAD asks for that version
 * on that condition, and an object that differs in any of them is
 * -ESTALE with what differs in err. pin NULL: object_open_by.
 */
int object_open_pinned(struct object **ob, struct opts *o,
		       const struct source *src, const struct s3_target *t,
		       struct creds *c, char *const *envp, int64_t deadline_ms,
		       const struct object_info *pin, char *err, size_t errlen);
/* Closes the connections and wipes the keys; NULL is fine. */
void object_close(struct object *ob);
/*
 * Closes the connections opened for a burst that have been idle for a
 * while (beyond s3.connections). For an idle caller, now and then.
 */
void object_idle(struct object *ob);

/*
 * Hedged GETs (s3.hedge): when a GET's first byte is later than this, the
 * same request goes out again on another connection and the first answer
 * wins. From the times to the first byte of the last n GETs (ms, any
 * order; sorted in place): 4 times their median, at least
 * S3_HEDGE_FLOOR_MS; 0 (no hedging yet) with fewer than S3_HEDGE_SAMPLES.
 */
#define S3_HEDGE_SAMPLES 8
#define S3_HEDGE_WINDOW 64 /* the last GETs it learns from */
#define S3_HEDGE_FLOOR_MS 200
uint32_t s3_hedge_after_ms(uint32_t *ms, unsigned n);
/* What the HEAD pinned; valid while the object is open, never changes. */
const struct object_info *object_info(const struct object *ob);
/* The figures so far (a consistent copy; any thread). */
void object_stats(struct object *ob, struct object_stats *st);

/*
 * Streams bytes [off, off + len) of the pinned object to sink, in order,
 * each byte once, resuming where it stopped after a failure. A sink error
 * (-errno) ends the fetch. Returns 0 or -errno (-ESTALE: the object was
 * replaced) with the message in err.
 */
typedef int (*object_sink)(void *arg, const char *buf, size_t len);
int object_fetch(struct object *ob, uint64_t off, uint64_t len,
		 object_sink sink, void *arg, char *err, size_t errlen);
/*
 * The same into a buffer, giving up (-EIO) at deadline_ms on the
 * CLOCK_MONOTONIC clock if that comes before s3.io_timeout (0: none).
 */
int object_read(struct object *ob, void *buf, uint64_t off, size_t len,
		int64_t deadline_ms, char *err, size_t errlen);

#endif
