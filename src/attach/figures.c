/* SPDX-License-Identifier: MIT */
/* figures.c - the live figures of a device's server, for `list -v`. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "src/attach/internal.h"

/*
 * Live figures for `list -v`: the daemon answers on an abstract unix
 * socket named for the device (no file, so it works from the root daemon,
 * whose own root is the deleted initramfs). A client sends one byte and
 * reads the answer to the end: 't' the figures as text, 'j' as JSON,
 * 'S' stops the trace recording ("stopped: N reads"), 'T' stops it and
 * answers the trace file's text. An answer that is not what was asked
 * for is one line "error: WHY". Both ends check that the other is root
 * or the same user (peer_trusted): the name is abstract, anyone may
 * connect to it or bind it first.
 */
static void stats_name(int index, struct sockaddr_un *sa, socklen_t *len)
{
	int n;

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "s3root/nbd%d",
		     index);
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   (size_t)n);
}

/* The other end of a unix socket is root or our own user (SO_PEERCRED):
 * no other local user reads a server's figures, or stands in for one. */
static int peer_trusted(int fd)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len))
		return 0;
	return uc.uid == 0 || uc.uid == geteuid();
}

struct stats_server {
	int fd;
	struct cache *cache;
	struct trace_rec *rec; /* NULL: not recording */
};

/* The recorder's state after the cache's figures (n bytes of buf): a
 * line of text, or a "trace" member at the end of the JSON object. The
 * new length; n unchanged when it does not fit. */
static int add_trace_state(struct trace_rec *rec, int json, char *buf, int n,
			   size_t len)
{
	struct trace_rec_state st;
	char add[200];
	int m, at = n;

	if (!rec || n <= 0)
		return n;
	trace_rec_state(rec, util_mono_ms(), &st);
	if (json) {
		while (at > 0 && buf[at - 1] != '}')
			at--;
		if (!at--)
			return n;
		m = snprintf(add, sizeof(add),
			     ", \"trace\": {\"state\": \"%s\", \"reads\": %zu, "
			     "\"bytes\": %" PRIu64 ", \"last_ms\": %" PRIu32
			     "}}\n",
			     trace_rec_mode_name(st.mode), st.n, st.bytes,
			     st.last_ms);
	} else {
		m = snprintf(add, sizeof(add),
			     "trace: %s, %zu reads, %" PRIu64
			     " bytes, last at %" PRIu32 " ms\n",
			     trace_rec_mode_name(st.mode), st.n, st.bytes,
			     st.last_ms);
	}
	if (m <= 0 || (size_t)m >= sizeof(add) || (size_t)(at + m) >= len)
		return n;
	memcpy(buf + at, add, (size_t)m + 1);
	return at + m;
}

/* 'S' and 'T': stop the recording, and for 'T' answer its text. */
static void answer_trace(int fd, struct trace_rec *rec, char how)
{
	struct trace_rec_state st;
	char line[128], *text = NULL;
	size_t len = 0;
	int r = 0;

	if (!peer_trusted(fd)) {
		snprintf(line, sizeof(line),
			 "error: only root or the server's user may do that\n");
	} else if (!rec) {
		snprintf(line, sizeof(line),
			 "error: not recording (attach with -o "
			 "s3root.trace=record)\n");
	} else if (how == 'S') {
		trace_rec_stop(rec);
		trace_rec_state(rec, util_mono_ms(), &st);
		snprintf(line, sizeof(line), "stopped: %zu reads\n", st.n);
	} else {
		r = trace_rec_save(rec, &text, &len);
		snprintf(line, sizeof(line), "error: %s\n",
			 r == -ENODATA ? "no reads recorded yet"
				       : strerror(-r));
	}
	if (text)
		r = util_write_full(fd, text, len);
	else
		r = util_write_full(fd, line, strlen(line));
	(void)r; /* the client left: nothing to do */
	free(text);
}

static void *stats_thread(void *arg)
{
	struct stats_server *ss = arg;
	struct timeval tv = {2, 0};
	char buf[4096], how = 0;
	int fd, n;

	for (;;) {
		fd = accept4(ss->fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		how = 0;
		if (read(fd, &how, 1) == 1 && (how == 'S' || how == 'T')) {
			answer_trace(fd, ss->rec, how);
		} else if ((how == 't' || how == 'j') && peer_trusted(fd)) {
			n = cache_format_stats(ss->cache, how == 'j', buf,
					       sizeof(buf));
			n = add_trace_state(ss->rec, how == 'j', buf, n,
					    sizeof(buf));
			if (n > 0 && write(fd, buf, (size_t)n) < 0)
				n = 0; /* the client left: nothing to do */
		}
		close(fd);
	}
}

void attach_figures_serve(int index, struct cache *cache, struct trace_rec *rec)
{
	static struct stats_server ss;
	struct sockaddr_un sa;
	socklen_t len;
	pthread_t th;

	stats_name(index, &sa, &len);
	ss.cache = cache;
	ss.rec = rec;
	ss.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (ss.fd < 0 || bind(ss.fd, (struct sockaddr *)&sa, len) ||
	    listen(ss.fd, 8) || pthread_create(&th, NULL, stats_thread, &ss)) {
		log_warn("nbd%d: no live figures for list -v: %s", index,
			 strerror(errno));
		if (ss.fd >= 0)
			close(ss.fd);
		return;
	}
	pthread_detach(th);
}

/* Asks device index's server for its figures; 0, or -1 if it is silent. */
int attach_figures_fetch(int index, int json, char *buf, size_t len)
{
	struct timeval tv = {2, 0};
	struct sockaddr_un sa;
	socklen_t salen;
	size_t got = 0;
	ssize_t n;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = -1;

	stats_name(index, &sa, &salen);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, salen) || !peer_trusted(fd) ||
	    write(fd, json ? "j" : "t", 1) != 1)
		goto out;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	r = got ? attach_figures_clean(buf, json) : -1;
out:
	close(fd);
	return r;
}

/* The pid of the process that serves device index's figures socket (as
 * the kernel saw it bind and listen: SO_PEERCRED), or -1 if none does. */
int attach_figures_pid(int index)
{
	struct sockaddr_un sa;
	struct ucred uc;
	socklen_t salen, uclen = sizeof(uc);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), pid = -1;

	if (fd < 0)
		return -1;
	stats_name(index, &sa, &salen);
	if (!connect(fd, (struct sockaddr *)&sa, salen) &&
	    !getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &uclen) &&
	    (uc.uid == 0 || uc.uid == geteuid()))
		pid = (int)uc.pid;
	close(fd);
	return pid;
}

/* Skips a JSON string at s (at its '"'); past its end, or NULL. */
static const char *json_string_end(const char *s)
{
	for (s++; *s && *s != '"'; s++)
		if (*s == '\\' && !*++s)
			return NULL;
	return *s ? s + 1 : NULL;
}

int attach_figures_clean(char *buf, int json)
{
	char stack[16], *p;
	size_t depth = 0;
	const char *q;

	for (p = buf; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if ((ch < 0x20 && ch != '\n') || ch >= 0x7f)
			*p = json ? 0 : '?';
	}
	if (!json)
		return 0;
	/* a figures object: one JSON object of printable text, nested
	 * sanely; anything else is not shown */
	if (strlen(buf) == 0 || buf[0] != '{')
		return -1;
	for (q = buf; *q; q++) {
		if (*q == '"') {
			q = json_string_end(q);
			if (!q)
				return -1;
			q--;
		} else if (*q == '{' || *q == '[') {
			if (depth == sizeof(stack))
				return -1;
			stack[depth++] = *q == '{' ? '}' : ']';
		} else if (*q == '}' || *q == ']') {
			if (!depth || stack[--depth] != *q)
				return -1;
			if (!depth && q[1] &&
			    strspn(q + 1, "\n ") != strlen(q + 1))
				return -1;
		}
	}
	return depth ? -1 : 0;
}

int attach_figures_ask(int index, char what, size_t max, char **out,
		       size_t *len)
{
	struct timeval tv = {10, 0};
	struct sockaddr_un sa;
	socklen_t salen;
	size_t got = 0, cap = 0;
	char *buf = NULL, *nb;
	ssize_t n = 0;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r = -ENOMEM;

	*out = NULL;
	*len = 0;
	stats_name(index, &sa, &salen);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, salen)) {
		r = -ECONNREFUSED;
		goto out;
	}
	if (!peer_trusted(fd)) {
		r = -EPERM; /* another user's process holds the name */
		goto out;
	}
	if (write(fd, &what, 1) != 1) {
		r = -ECONNREFUSED;
		goto out;
	}
	for (;;) {
		if (got == cap) {
			cap = cap ? cap * 2 : 65536;
			nb = cap <= max + 1 ? realloc(buf, cap + 1) : NULL;
			if (!nb) {
				r = cap > max + 1 ? -EFBIG : -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = read(fd, buf + got, cap - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	r = n < 0 ? -errno : 0;
	if (!r) {
		buf[got] = '\0';
		*out = buf;
		*len = got;
		buf = NULL;
	}
out:
	free(buf);
	close(fd);
	return r;
}
