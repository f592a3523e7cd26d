/* SPDX-License-Identifier: MIT */
/*
 * cmd_get.c - `s3root stat` and `s3root get`: an object's description, and
 * its bytes (all or a range) to stdout or a file that appears only whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "src/object.h"

enum { O_OPT = CLI_OPT, O_JSON, O_RANGE, O_OUTPUT, O_HELP };

static const struct cli_opt obj_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"--json", 0, O_JSON},
	{"--range", CLI_ONCE, O_RANGE},
	{"--output", CLI_ONCE, O_OUTPUT},
	{"-h", 0, O_HELP},
	{"--help", 0, O_HELP},
	{NULL, 0, 0},
};

struct obj_args {
	const char *source;
	const char *range;
	const char *output;
	int json;
};

static int parse_range(const char *s, uint64_t *off, uint64_t *len);

/*
 * Scans a command's arguments (only the options in allowed), applies -o,
 * and opens the object. 0 with *ob open; 1 after --help; -1 on errors.
 */
static int open_from_args(int argc, char **argv, char **envp,
			  const char *allowed, void (*usage)(FILE *),
			  struct opts *o, struct obj_args *a,
			  struct object **ob)
{
	struct cli cl = {.argc = argc, .argv = argv, .i = 1};
	struct source src;
	struct s3_target t;
	struct creds c;
	const char *arg;
	char msg[1024];
	uint64_t off, len;
	int id, r;

	while ((id = cli_next(&cl, obj_opts, &arg)) != -1) {
		if (id > 0 && id != O_OPT && id != O_HELP &&
		    !strchr(allowed, '0' + id)) {
			err("%s: option %s is not for this command", argv[0],
			    cl.name);
			return -1;
		}
		r = cli_common(&cl, id, arg, &a->source, o);
		if (r < 0)
			return -1;
		if (r)
			continue;
		switch (id) {
		case -2:
			return -1;
		case O_JSON:
			a->json = 1;
			break;
		case O_RANGE:
			/* the syntax now, the object's size once it is open */
			if (parse_range(arg, &off, &len)) {
				err("%s: --range '%.100s' is not OFF:LEN "
				    "(decimal bytes)",
				    argv[0], arg);
				return -1;
			}
			a->range = arg;
			break;
		case O_OUTPUT:
			a->output = arg;
			break;
		case O_HELP:
			usage(stdout);
			return 1;
		}
	}
	/* a one-off command should not hang forever on a dead server */
	if (!opts_isset(o, OPT_IO_TIMEOUT) &&
	    opts_set(o, "s3.io_timeout", "120s", OPT_SRC_NONE, msg,
		     sizeof(msg)))
		return -1;
	if (setup_object(o, a->source, envp, &src, &t, &c))
		return -1;
	r = object_open(ob, o, &src, &t, &c, envp, msg, sizeof(msg));
	creds_free(&c);
	if (r) {
		err("%s", msg);
		return -1;
	}
	return 0;
}

static void stat_usage(FILE *f)
{
	fprintf(f, "usage: s3root stat SOURCE [--json] [-o OPTS]\n"
		   "Prints the object's size, ETag, version id, last "
		   "modification and region.\n\n");
	opts_print_help(f);
}

int cmd_stat(int argc, char **argv, char **envp)
{
	struct obj_args a = {0};
	struct opts o = {0};
	struct object *ob = NULL;
	const struct object_info *in;
	static const char *const keys[] = {"name",	   "etag",
					   "version-id",   "last-modified",
					   "content-type", "region"};
	const char *vals[6];
	int r, i;

	r = open_from_args(argc, argv, envp, "2", stat_usage, &o, &a, &ob);
	if (r) {
		opts_free(&o);
		return r > 0 ? 0 : 1;
	}
	in = object_info(ob);
	vals[0] = in->name;
	vals[1] = in->etag;
	vals[2] = in->version_id;
	vals[3] = in->last_modified;
	vals[4] = in->content_type;
	vals[5] = in->region;
	if (a.json) {
		printf("{\"size\": %" PRIu64, in->size);
		for (i = 0; i < 6; i++) {
			printf(", ");
			json_print_str(stdout, keys[i]);
			printf(": ");
			json_print_str(stdout, vals[i]);
		}
		printf("}\n");
	} else {
		printf("size: %" PRIu64 "\n", in->size);
		for (i = 0; i < 6; i++)
			printf("%s: %s\n", keys[i], vals[i]);
	}
	object_close(ob);
	opts_free(&o);
	return fflush(stdout) ? 1 : 0;
}

static void get_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root get SOURCE [--range OFF:LEN] [--output FILE]"
		" [-o OPTS]\n"
		"Writes the object (or LEN bytes from OFF) to stdout or "
		"FILE. FILE appears only\nwhen complete: a failed get leaves "
		"no partial file.\n\n");
	opts_print_help(f);
}

struct out {
	int fd;
	uint64_t done, total;
	int progress;
	int64_t start_ms, shown_ms;
};

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "12.3 MiB" */
static void human(char *buf, size_t len, double v)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void show_progress(struct out *o, int last)
{
	int64_t now = mono_ms();
	double secs = (double)(now - o->start_ms) / 1000, rate;
	char done[32], total[32], speed[32], eta[32] = "--:--";

	if (!last && now - o->shown_ms < 200)
		return;
	o->shown_ms = now;
	rate = secs > 0 ? (double)o->done / secs : 0;
	human(done, sizeof(done), (double)o->done);
	human(total, sizeof(total), (double)o->total);
	human(speed, sizeof(speed), rate);
	if (rate > 0) {
		long left = (long)((double)(o->total - o->done) / rate);

		snprintf(eta, sizeof(eta), "%ld:%02ld", left / 60, left % 60);
	}
	fprintf(stderr, "\r%3d%% %10s / %-10s %10s/s  ETA %s ",
		o->total ? (int)(o->done * 100 / o->total) : 100, done, total,
		speed, eta);
	if (last)
		fputc('\n', stderr);
}

static int write_out(void *arg, const char *buf, size_t len)
{
	struct out *o = arg;
	ssize_t n;

	o->done += len;
	while (len) {
		n = write(o->fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		buf += n;
		len -= (size_t)n;
	}
	if (o->progress)
		show_progress(o, 0);
	return 0;
}

/* "OFF:LEN", decimal. */
static int parse_range(const char *s, uint64_t *off, uint64_t *len)
{
	char *e;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*off = strtoull(s, &e, 10);
	if (*e != ':' || e[1] < '0' || e[1] > '9' || errno)
		return -1;
	*len = strtoull(e + 1, &e, 10);
	return *e || errno ? -1 : 0;
}

int cmd_get(int argc, char **argv, char **envp)
{
	struct obj_args a = {0};
	struct opts o = {0};
	struct object *ob = NULL;
	struct out out = {.fd = 1};
	char *tmp = NULL, msg[1024];
	uint64_t off = 0, len, n, step;
	mode_t mask;
	int r, ret = 1;

	r = open_from_args(argc, argv, envp, "34", get_usage, &o, &a, &ob);
	if (r) {
		opts_free(&o);
		return r > 0 ? 0 : 1;
	}
	len = object_info(ob)->size;
	if (a.range &&
	    (parse_range(a.range, &off, &len) || off > object_info(ob)->size ||
	     len > object_info(ob)->size - off)) {
		err("get: --range '%s' is not OFF:LEN within the object's "
		    "%" PRIu64 " bytes",
		    a.range, object_info(ob)->size);
		goto out;
	}
	if (a.output && strcmp(a.output, "-")) {
		/* a temporary beside FILE, renamed over it when complete */
		if (asprintf(&tmp, "%s.s3root-XXXXXX", a.output) < 0) {
			tmp = NULL;
			err("out of memory");
			goto out;
		}
		out.fd = mkstemp(tmp);
		if (out.fd < 0) {
			err("get: cannot create %s: %s", tmp, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
		/* mkstemp made it 0600: give it a new file's usual mode */
		mask = umask(0);
		umask(mask);
		fchmod(out.fd, 0666 & ~mask);
	}
	out.total = len;
	out.progress = isatty(2);
	out.start_ms = mono_ms();
	/* bounded requests: each one re-checks the pinned version, and a
	 * failure costs at most one step */
	step = opts_num(&o, OPT_CHUNK) * 64;
	for (r = 0; !r && len; off += n, len -= n) {
		n = len < step ? len : step;
		r = object_fetch(ob, off, n, write_out, &out, msg, sizeof(msg));
	}
	if (out.progress)
		show_progress(&out, 1);
	if (r) {
		err("%s", msg);
		goto out;
	}
	if (tmp && (fsync(out.fd) || close(out.fd) || rename(tmp, a.output))) {
		err("get: writing %s: %s", a.output, strerror(errno));
		out.fd = -1;
		goto out;
	}
	if (tmp) {
		out.fd = -1;
		free(tmp);
		tmp = NULL;
	}
	ret = 0;
out:
	if (tmp) {
		if (out.fd >= 0)
			close(out.fd);
		unlink(tmp);
		free(tmp);
	}
	object_close(ob);
	opts_free(&o);
	return ret;
}
