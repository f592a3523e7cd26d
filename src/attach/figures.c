/* SPDX-License-Identifier: MIT */
/* figures.c - the live figures of a device's server, for `list -v`. */
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "src/attach/internal.h"

/*
 * Live figures for `list -v`: the daemon answers on an abstract unix
 * socket named for the device (no file, so it works from the root daemon,
 * whose own root is the deleted initramfs). A client sends 't' (text) or
 * 'j' (JSON) and reads the answer to the end.
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
};

static void *stats_thread(void *arg)
{
	struct stats_server *ss = arg;
	struct timeval tv = {2, 0};
	char buf[2048], how;
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
		if (peer_trusted(fd) && read(fd, &how, 1) == 1) {
			n = cache_format_stats(ss->cache, how == 'j', buf,
					       sizeof(buf));
			if (n > 0 && write(fd, buf, (size_t)n) < 0)
				n = 0; /* the client left: nothing to do */
		}
		close(fd);
	}
}

void attach_figures_serve(int index, struct cache *cache)
{
	static struct stats_server ss;
	struct sockaddr_un sa;
	socklen_t len;
	pthread_t th;

	stats_name(index, &sa, &len);
	ss.cache = cache;
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
