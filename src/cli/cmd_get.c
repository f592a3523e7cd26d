/* SPDX-License-Identifier: MIT */
/*
 * cmd_get.c - `s3root get`: an object's bytes (all or a range) to stdout
 * or to a file that appears only whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/cli/cli.h"

static int parse_range(const char *s, uint64_t *off, uint64_t *len);

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
	int64_t now = util_mono_ms();
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
	int r = util_write_full(o->fd, buf, len);

	if (r)
		return r;
	o->done += len;
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

static const struct cli_spec get_spec = {
	cli_object_opts,
	CLI_BIT(CLI_OPT) | CLI_BIT(CLI_OBJ_RANGE) | CLI_BIT(CLI_OBJ_OUTPUT),
	get_usage};

struct get_args {
	const char *cmd;
	const char *range;
	const char *output; /* NULL or "-": stdout */
};

static int get_arg(void *ctx, int id, const char *arg)
{
	struct get_args *a = ctx;
	uint64_t off, len;

	if (id == CLI_OBJ_RANGE) {
		/* the syntax now, the object's size once it is open */
		if (parse_range(arg, &off, &len)) {
			log_err("%s: --range '%.100s' is not OFF:LEN (decimal "
				"bytes)",
				a->cmd, arg);
			return -1;
		}
		a->range = arg;
	} else if (id == CLI_OBJ_OUTPUT) {
		a->output = arg;
	}
	return 0;
}

/* A temporary file beside a->output, renamed over it when complete
 * (get_finish); *tmp stays NULL for stdout. 0 or -1 (logged). */
static int get_open_output(const struct get_args *a, struct out *out,
			   char **tmp)
{
	mode_t mask;

	*tmp = NULL;
	out->fd = 1;
	if (!a->output || !strcmp(a->output, "-"))
		return 0;
	if (asprintf(tmp, "%s.s3root-XXXXXX", a->output) < 0) {
		*tmp = NULL;
		log_err("out of memory");
		return -1;
	}
	out->fd = mkstemp(*tmp);
	if (out->fd < 0) {
		log_err("get: cannot create %s: %s", *tmp, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -1;
	}
	/* mkstemp made it 0600: give it a new file's usual mode */
	mask = umask(0);
	umask(mask);
	fchmod(out->fd, 0666 & ~mask);
	return 0;
}

/* The bytes [off, off + len) to out, in bounded requests: each one
 * re-checks the pinned version, and a failure costs at most one step. */
static int get_copy(struct cli_object *co, uint64_t off, uint64_t len,
		    struct out *out)
{
	uint64_t step = opts_num(&co->o, OPT_CHUNK) * 64, n;
	char msg[1024];
	int r = 0;

	out->total = len;
	out->progress = isatty(2);
	out->start_ms = util_mono_ms();
	for (; !r && len; off += n, len -= n) {
		n = len < step ? len : step;
		r = object_fetch(co->ob, off, n, write_out, out, msg,
				 sizeof(msg));
	}
	if (out->progress)
		show_progress(out, 1);
	if (r)
		log_err("%s", msg);
	return r ? -1 : 0;
}

/* Makes the temporary file the output (ok) or removes it. 0 or -1. */
static int get_finish(const struct get_args *a, struct out *out, char *tmp,
		      int ok)
{
	int r = ok ? 0 : -1;

	if (!tmp)
		return r;
	if (!r && fsync(out->fd))
		r = -errno;
	if (close(out->fd) && !r)
		r = -errno;
	if (!r && rename(tmp, a->output))
		r = -errno;
	if (r && ok)
		log_err("get: writing %s: %s", a->output, strerror(-r));
	if (r)
		unlink(tmp);
	free(tmp);
	return r ? -1 : 0;
}

int cmd_get(int argc, char **argv, char **envp)
{
	struct get_args a = {.cmd = argv[0]};
	struct cli_object co;
	struct out out = {.fd = 1};
	uint64_t off = 0, len, size;
	char *tmp = NULL;
	int r;

	r = cli_open_object(argc, argv, envp, &get_spec, get_arg, &a, &co);
	if (r)
		return r > 0 ? 0 : 1;
	size = len = object_info(co.ob)->size;
	if (a.range && (parse_range(a.range, &off, &len) || off > size ||
			len > size - off)) {
		log_err("get: --range '%s' is not OFF:LEN within the object's "
			"%" PRIu64 " bytes",
			a.range, size);
		r = -1;
	} else if (get_open_output(&a, &out, &tmp)) {
		r = -1;
	} else {
		r = get_finish(&a, &out, tmp, !get_copy(&co, off, len, &out));
	}
	cli_close_object(&co);
	return r ? 1 : 0;
}
