/* SPDX-License-Identifier: MIT */
/*
 * fetch.c - a published trace (s3root.trace=SOURCE): fetched beside its
 * image with the same options, and checked against it. Nothing here may
 * fail a boot: every outcome is one message and a return code.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include "src/trace/trace.h"

/* The trace object's bytes into a malloc'd *buf. 0 or -errno (logged). */
static int fetch_bytes(struct opts *o, const char *source, char **envp,
		       int64_t deadline_ms, char **buf, size_t *len)
{
	struct object *ob = NULL;
	struct s3_target t;
	struct source *src = malloc(sizeof(*src));
	struct creds c = {0};
	char msg[1200];
	uint64_t size;
	int r = -ENOMEM;

	*buf = NULL;
	if (!src)
		goto out;
	r = source_parse(source, src, msg, sizeof(msg));
	if (!r)
		r = s3_target_init(o, src, &t, msg, sizeof(msg));
	if (!r && !src->plain)
		r = creds_load(&c, o, envp, src->bucket, msg, sizeof(msg));
	if (!r)
		r = object_open_by(&ob, o, src, &t, &c, envp, deadline_ms, msg,
				   sizeof(msg));
	creds_free(&c);
	if (r) {
		log_warn("trace %s: %s (going on without it)", source, msg);
		goto out;
	}
	size = object_info(ob)->size;
	if (size > TRACE_MAX_BYTES || !size) {
		log_err("trace %s: %" PRIu64 " bytes (a trace is 1 to %u): "
			"ignored",
			source, size, TRACE_MAX_BYTES);
		r = -EINVAL;
		goto out;
	}
	r = -ENOMEM;
	*buf = malloc((size_t)size);
	if (*buf)
		r = object_read(ob, *buf, 0, (size_t)size, deadline_ms, msg,
				sizeof(msg));
	if (r == -ENOMEM)
		log_warn("trace %s: out of memory (going on without it)",
			 source);
	else if (r)
		log_warn("trace %s: %s (going on without it)", source, msg);
	*len = (size_t)size;
out:
	if (r) {
		free(*buf);
		*buf = NULL;
	}
	object_close(ob);
	free(src);
	return r;
}

int trace_load(struct opts *o, const char *source, char **envp,
	       int64_t deadline_ms, struct trace *t)
{
	char msg[300], *buf;
	size_t len;
	int r;

	memset(t, 0, sizeof(*t));
	r = fetch_bytes(o, source, envp, deadline_ms, &buf, &len);
	if (r)
		return r;
	r = trace_parse(buf, len, t, msg, sizeof(msg));
	free(buf);
	if (r)
		log_err("trace %s: %s: ignored (record it again)", source, msg);
	return r;
}

int trace_match(struct trace *t, const char *source,
		const struct object_info *im)
{
	const char *etag = im->etag[0] ? im->etag : "-";

	if (t->size != im->size || strcmp(t->etag, etag)) {
		log_warn("trace %s is for another image (size %" PRIu64
			 ", ETag %s; %s is %" PRIu64 " bytes, ETag %s): "
			 "ignored (record it again)",
			 source, t->size, t->etag, im->name, im->size, etag);
		trace_free(t);
		return -ESTALE;
	}
	log_info("trace %s: %zu reads, %" PRIu64 " bytes, to replay", source,
		 t->n, trace_bytes(t));
	return 0;
}

int trace_fetch(struct opts *o, const char *source, char **envp,
		const struct object_info *im, int64_t deadline_ms,
		struct trace *t)
{
	int r = trace_load(o, source, envp, deadline_ms, t);

	return r ? r : trace_match(t, source, im);
}
