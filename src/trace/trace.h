/* SPDX-License-Identifier: MIT */
/*
 * trace.h - boot traces: the reads a device answered, in order, recorded
 * once and replayed ahead of the kernel on later attaches (README, "Boot
 * traces"). The file format, its strict parser and its formatter; a
 * thread-safe recorder; fetching a published trace beside its image.
 * Exports: trace_*.
 *
 * The format is text, one item per line, LF line ends, ASCII:
 *
 *	s3root-trace 1			magic and version
 *	size 97517568			the image's size in bytes
 *	etag "9b2cf535f27731c974343645a3985328"   its ETag, as S3 gives it
 *	4096 131072 15			a read: offset, length, ms since attach
 *	...
 *	end 522				the number of reads: a cut file fails
 *
 * Numbers are decimal, no sign, no leading zeros; fields are separated by
 * one space. A read must be within the image (offset + length <= size),
 * 1 byte to TRACE_MAX_LEN long, and its time not before the previous
 * read's; reads may repeat and overlap (the kernel reads a block again
 * after evicting it). The ETag is 1 to 255 printable characters without
 * spaces ("-": the server gave none). A file is at most TRACE_MAX_BYTES
 * with at most TRACE_MAX_RANGES reads; anything else is refused whole.
 */
#ifndef S3ROOT_TRACE_H
#define S3ROOT_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include "src/s3/s3.h"

#define TRACE_MAGIC "s3root-trace"
#define TRACE_VERSION 1
#define TRACE_MAX_RANGES 131072
#define TRACE_MAX_BYTES (8u << 20)	   /* holds TRACE_MAX_RANGES reads */
#define TRACE_MAX_LEN (32u << 20)	   /* the NBD protocol's usual cap */
#define TRACE_MAX_MS (24ull * 3600 * 1000) /* a day after attach */

struct trace_range {
	uint64_t off;
	uint32_t len;
	uint32_t ms; /* since the device was attached */
};

/* A trace in memory: r[0..n) malloc'd (trace_free). */
struct trace {
	uint64_t size;
	char etag[256]; /* "-": none */
	struct trace_range *r;
	size_t n;
};

/* ---- the file (format.c) ---- */

/*
 * Parses len bytes of trace text into *t (which it owns on success:
 * trace_free). Returns 0, or -EINVAL (-ENOMEM) with a one-line message in
 * err naming the line at fault; *t is then empty.
 */
int trace_parse(const char *buf, size_t len, struct trace *t, char *err,
		size_t errlen);
/*
 * Writes t as trace text into a malloc'd *out of *outlen bytes (not NUL
 * terminated; the caller frees it). 0, -EINVAL for a trace the parser
 * would refuse (no bytes then), or -ENOMEM.
 */
int trace_format(const struct trace *t, char **out, size_t *outlen);
/* Frees t's reads; t is then empty. */
void trace_free(struct trace *t);
/* Totals for messages: the reads' bytes, and the last read's time. */
uint64_t trace_bytes(const struct trace *t);

/* ---- the recorder (record.c) ---- */

struct trace_rec;

/* What a recorder is doing. */
enum trace_rec_mode {
	TRACE_RECORDING, /* taking reads */
	TRACE_IDLE,	 /* stopped: no read for the idle time */
	TRACE_STOPPED,	 /* stopped by trace_rec_stop */
	TRACE_FULL,	 /* stopped at TRACE_MAX_RANGES */
};

struct trace_rec_state {
	enum trace_rec_mode mode;
	size_t n;	/* reads recorded */
	uint64_t bytes; /* their lengths' sum */
	uint32_t last_ms;
};

/*
 * A recorder for an image of size bytes with etag (copied; NULL or empty:
 * "-"), whose clock starts at now_ms (util_mono_ms). It stops by itself
 * when no read came for idle_ms after the first one (0: never). 0 or
 * -ENOMEM, -EINVAL (an ETag the format cannot hold).
 */
int trace_rec_new(struct trace_rec **rec, uint64_t size, const char *etag,
		  uint64_t idle_ms, int64_t now_ms);
/* Frees it (NULL: nothing). Nothing may be using it. */
void trace_rec_free(struct trace_rec *rec);
/*
 * Records a read at now_ms, clipped to the image (a read wholly past its
 * end is not recorded); nothing once stopped. Any thread.
 */
void trace_rec_add(struct trace_rec *rec, uint64_t off, uint32_t len,
		   int64_t now_ms);
/* The same at util_mono_ms(): the cache's read hook (arg is rec). */
void trace_rec_hook(void *arg, uint64_t off, uint32_t len);
/* Stops recording (already stopped: nothing). Any thread. */
void trace_rec_stop(struct trace_rec *rec);
/* Its state at now_ms (which applies the idle rule). Any thread. */
void trace_rec_state(struct trace_rec *rec, int64_t now_ms,
		     struct trace_rec_state *st);
/* "recording", "idle", "stopped" or "full". */
const char *trace_rec_mode_name(enum trace_rec_mode m);
/*
 * Stops the recorder and writes what it recorded as trace text (as
 * trace_format): 0, -ENODATA when it recorded nothing, or -ENOMEM.
 */
int trace_rec_save(struct trace_rec *rec, char **out, size_t *outlen);

/* ---- a published trace (fetch.c) ---- */

/*
 * Fetches the trace object source (same endpoint, credentials and TLS
 * options as the image, in o, which opts_finish has completed) by
 * deadline_ms (util_mono_ms), and checks it against the image im. Never
 * fatal for a boot: a missing, unreachable, hostile or mismatched trace
 * is one logged warning or error and -errno (-ENOENT missing, -ESTALE
 * for another ETag or size, -EINVAL hostile, -EIO other). 0 with *t
 * filled (trace_free) and logged.
 */
int trace_fetch(struct opts *o, const char *source, char **envp,
		const struct object_info *im, int64_t deadline_ms,
		struct trace *t);
/*
 * trace_fetch in two steps, so that the trace can be fetched while the
 * image is being opened: trace_load fetches and parses (o is only read:
 * another thread may read it too), trace_match checks the result against
 * the image once it is open (freeing t when it does not match). Same
 * messages and returns as trace_fetch.
 */
int trace_load(struct opts *o, const char *source, char **envp,
	       int64_t deadline_ms, struct trace *t);
int trace_match(struct trace *t, const char *source,
		const struct object_info *im);

#endif
