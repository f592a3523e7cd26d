/* SPDX-License-Identifier: MIT */
/* log.c - messages to stderr: "s3root: what failed, on what, what to do". */
#include <stdarg.h>
#include <stdio.h>
#include "src/s3root.h"

static enum log_level log_level = LOG_WARN;

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tags[] = {"", "warning: ", "", "debug: "};
	va_list ap;

	if (lvl > log_level)
		return;
	fprintf(stderr, "s3root: %s", tags[lvl]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
