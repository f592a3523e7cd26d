/* SPDX-License-Identifier: MIT */
/*
 * object.h - an S3 object (or plain URL) opened for reading: pinned at
 * open, read by ranges, safe to use from several threads.
 */
#ifndef S3ROOT_OBJECT_H
#define S3ROOT_OBJECT_H

#include "src/s3root.h"

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
	uint64_t requests; /* HTTP requests sent */
	uint64_t retries;  /* attempts that failed and were retried */
	uint64_t bytes;	   /* body bytes delivered */
};

/*
 * Opens the object with a HEAD (retried per s3.io_timeout). Takes over
 * *c (zeroed on return). o must outlive the object: a region redirect
 * updates its endpoint. Returns 0, or -errno with the message in err
 * (-ENOENT no such key or bucket, -EACCES refused, -EIO other).
 */
int object_open(struct object **ob, struct opts *o, const struct source *src,
		const struct s3_target *t, struct creds *c, char *const *envp,
		char *err, size_t errlen);
void object_close(struct object *ob);
const struct object_info *object_info(const struct object *ob);
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
