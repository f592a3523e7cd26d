/* SPDX-License-Identifier: MIT */
/* log.c - messages to stderr: "s3root: what failed, on what, what to do". */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "src/s3root.h"

static enum log_level log_level = LOG_WARN;
static int kmsg_fd = -1;

void log_to_kmsg(int on)
{
	if (on && kmsg_fd < 0)
		kmsg_fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (on)
		log_level = log_level < LOG_INFO ? LOG_INFO : log_level;
}

void log_set_level(enum log_level lvl)
{
	log_level = lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tags[] = {"", "warning: ", "", "debug: "};
	va_list ap;

	static const int prio[] = {3, 4, 6, 7}; /* syslog levels */
	char line[1024], rec[1100], *text;
	int n;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* one write, one record: musl's unbuffered stderr writes a long line
	 * in pieces, and when stderr is /dev/kmsg (a daemon's) each piece
	 * becomes a record of its own */
	n = snprintf(rec, sizeof(rec), "<%d>s3root: %s%s\n", prio[lvl],
		     tags[lvl], line);
	if (n >= (int)sizeof(rec)) {
		n = sizeof(rec) - 1;
		rec[n - 1] = '\n';
	}
	if (n <= 0)
		return;
	/* stderr gets it without the "<prio>" */
	text = strchr(rec, '>') + 1;
	if (write(2, text, (size_t)(rec + n - text)) < 0 && kmsg_fd < 0)
		return; /* nowhere left to say it */
	if (kmsg_fd >= 0 && write(kmsg_fd, rec, (size_t)n) < 0)
		return;
}
