/* SPDX-License-Identifier: MIT */
/*
 * base.h - what every part of src/ uses: messages, whole-file I/O, error
 * text, JSON strings, the version. Exports: log_*, io_*, base_*.
 */
#ifndef S3ROOT_BASE_H
#define S3ROOT_BASE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "src/base/paths.h"
#include "util/util.h"

/* ---- messages (log.c) ---- */

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/*
 * Writes "s3root: [warning: ]TEXT" as one line to stderr (and /dev/kmsg
 * after log_to_kmsg(1)) when lvl is at or under the level set; control
 * characters in TEXT become \xHH. Safe from any thread: each message is
 * one write(2).
 */
void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
/* The level shown (LOG_WARN until set). Not thread-safe: set it first. */
void log_set_level(enum log_level lvl);
/*
 * Also writes every message to /dev/kmsg (as /init and the root daemon
 * do), at LOG_INFO at least. Not thread-safe: call before threads start.
 */
void log_to_kmsg(int on);

/* ---- files and text (io.c) ---- */

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated malloc'd
 * buffer the caller frees. Returns 0 or -errno (-EFBIG when larger than
 * max).
 */
int io_read_file(const char *path, size_t max, char **buf, size_t *len);
/* Writes s to an existing file (a /proc or /sys knob). 0 or -errno. */
int io_write_str(const char *path, const char *s);
/* Prints s as a JSON string with its quotes (RFC 8259 section 7). */
void io_json_str(FILE *f, const char *s);

/*
 * Formats a message into err (nothing when errlen is 0) and returns
 * -EINVAL: `return base_fail(err, errlen, "bad %s", x);`.
 */
int base_fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- the build (version.c) ---- */

/* "git describe" of the build. */
extern const char base_version[];
/* The commit's time (Unix seconds): a lower bound for the clock. */
extern const long long base_build_time;

/*
 * main()'s argv, set once by main() before any thread starts: the root
 * daemon marks argv[0][0] with '@' for systemd. NULL in tests.
 */
extern char **base_argv;

#endif
