/* SPDX-License-Identifier: MIT */
/*
 * state.c - what /run/s3root knows of an attached device: nbdN.state
 * (source, -o lists, interface, pid, the object's pin: never secrets), which
 * `list`, `detach` and `attach --reattach` read back, and nbdN.pid.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "src/attach/internal.h"

/* "/dev/nbd3" or "nbd3" or "3" -> 3; -1 if it is none of them. */
int attach_device_index(const char *dev)
{
	char *e;
	long n;

	if (!strncmp(dev, "/dev/", 5))
		dev += 5;
	if (!strncmp(dev, "nbd", 3))
		dev += 3;
	if (*dev < '0' || *dev > '9')
		return -1;
	n = strtol(dev, &e, 10);
	return *e || n > 65535 ? -1 : (int)n;
}

static void state_path(char *buf, size_t len, int index, const char *ext)
{
	snprintf(buf, len, PATH_RUN_DIR "/nbd%d.%s", index, ext);
}

/* Writes the state file: what `--reattach` needs to start a new server. */
int attach_state_write(int index, const struct attach_req *a,
		       const struct object_info *pin, int use_ioctl)
{
	char path[64], tmp[80], *shown;
	FILE *f;
	int i;

	mkdir(PATH_RUN_DIR, 0700);
	state_path(path, sizeof(path), index, "state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	shown = malloc(URL_MAX_PATH + 320);
	if (!shown)
		return -ENOMEM;
	f = fopen(tmp, "w");
	if (!f) {
		free(shown);
		return -errno;
	}
	/* a presigned URL's query is a secret: "?<presigned>" (a reattach
	 * then asks for the URL again) */
	fprintf(f, "source = %s\npid = %d\ninterface = %s\nstarted = %lld\n",
		source_redact(pin->name, shown, URL_MAX_PATH + 320),
		(int)getpid(), use_ioctl ? "ioctl" : "netlink",
		(long long)time(NULL));
	/* the pin: a reattach serves exactly this object or refuses */
	fprintf(f, "size = %" PRIu64 "\n", pin->size);
	if (pin->etag[0])
		fprintf(f, "etag = %s\n", pin->etag);
	if (pin->version_id[0])
		fprintf(f, "version_id = %s\n", pin->version_id);
	if (pin->last_modified[0])
		fprintf(f, "last_modified = %s\n", pin->last_modified);
	if (a->root)
		fprintf(f, "root = 1\n");
	for (i = 0; i < a->nlists; i++)
		fprintf(f, "option = %s\n",
			source_redact(a->lists[i], shown, URL_MAX_PATH + 320));
	free(shown);
	if (fclose(f) || rename(tmp, path))
		return -errno;
	/* and a plain pidfile, for service managers and scripts */
	state_path(path, sizeof(path), index, "pid");
	f = fopen(path, "w");
	if (!f)
		return -errno;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) ? -errno : 0;
}

/* A string value into dst (size len): 0, or -EINVAL if it does not fit. */
static int state_str(char *dst, size_t len, const char *v)
{
	return snprintf(dst, len, "%s", v) >= (int)len ? -EINVAL : 0;
}

/* The pin's lines (size, etag, version_id, last_modified, root): 1 if
 * key is one of them, 0 if not, -EINVAL for a bad value. */
static int state_pin(struct attach_state *st, const char *key, const char *v)
{
	struct object_info *p = &st->pin;
	char *end;

	if (!strcmp(key, "size")) {
		errno = 0;
		p->size = strtoull(v, &end, 10);
		if (*end || end == v || errno || *v < '0' || *v > '9')
			return -EINVAL;
		st->pinned = 1;
		return 1;
	}
	if (!strcmp(key, "etag"))
		return state_str(p->etag, sizeof(p->etag), v) ?: 1;
	if (!strcmp(key, "version_id"))
		return state_str(p->version_id, sizeof(p->version_id), v) ?: 1;
	if (!strcmp(key, "last_modified"))
		return state_str(p->last_modified, sizeof(p->last_modified), v)
			       ?: 1;
	if (!strcmp(key, "root")) {
		if (strcmp(v, "0") && strcmp(v, "1"))
			return -EINVAL;
		st->root = *v == '1';
		return 1;
	}
	return 0;
}

int attach_state_parse(char *buf, struct attach_state *st)
{
	char *line, *next, *eq, *end;
	long pid;
	int n;

	memset(st, 0, sizeof(*st));
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		eq = strstr(line, " = ");
		if (!eq)
			continue;
		*eq = '\0';
		eq += 3;
		n = state_pin(st, line, eq);
		if (n < 0)
			return n;
		if (n)
			continue;
		if (!strcmp(line, "source")) {
			n = snprintf(st->source, sizeof(st->source), "%s", eq);
			if (n >= (int)sizeof(st->source))
				return -EINVAL;
		} else if (!strcmp(line, "pid")) {
			errno = 0;
			pid = strtol(eq, &end, 10);
			if (*end || end == eq || errno || pid < 2 ||
			    pid > INT32_MAX)
				return -EINVAL;
			st->pid = (int)pid;
		} else if (!strcmp(line, "interface")) {
			if (strcmp(eq, "ioctl") && strcmp(eq, "netlink"))
				return -EINVAL;
			st->use_ioctl = !strcmp(eq, "ioctl");
		} else if (!strcmp(line, "option")) {
			if (st->noptions == ATTACH_MAX_LISTS)
				return -EINVAL;
			n = snprintf(st->options[st->noptions++],
				     sizeof(st->options[0]), "%s", eq);
			if (n >= (int)sizeof(st->options[0]))
				return -EINVAL;
		}
	}
	return st->source[0] ? 0 : -EINVAL;
}

int attach_state_read(int index, struct attach_state *st)
{
	char path[64], *buf;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	state_path(path, sizeof(path), index, "state");
	r = io_read_file(path, 256 * 1024, &buf, &len);
	if (r)
		return r;
	r = attach_state_parse(buf, st);
	free(buf);
	return r;
}

void attach_state_remove(int index)
{
	char path[64];

	state_path(path, sizeof(path), index, "state");
	unlink(path);
	state_path(path, sizeof(path), index, "pid");
	unlink(path);
}
