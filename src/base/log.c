/* SPDX-License-Identifier: MIT */
/* log.c - messages to stderr: "s3root: what failed, on what, what to do". */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "src/base/base.h"

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

/*
 * Control characters (from a command line, a file, a server) become \xHH:
 * a message stays one line, and cannot move a terminal's cursor.
 */
static void escape_controls(char *out, size_t outlen, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *s && n + 1 < outlen; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch >= 0x20 && ch != 0x7f) {
			out[n++] = (char)ch;
		} else if (n + 5 < outlen) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[ch >> 4];
			out[n++] = hex[ch & 15];
		} else {
			break;
		}
	}
	out[n] = '\0';
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const tags[] = {"", "warning: ", "", "debug: "};
	va_list ap;

	static const int prio[] = {3, 4, 6, 7}; /* syslog levels */
	char raw[1024], line[1024], rec[1100], *text;
	int n;

	if (lvl > log_level)
		return;
	va_start(ap, fmt);
	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	escape_controls(line, sizeof(line), raw);
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
