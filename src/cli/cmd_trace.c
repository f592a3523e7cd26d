/* SPDX-License-Identifier: MIT */
/*
 * cmd_trace.c - `s3root trace stop|save|show`: boot traces (trace.h has
 * the format). stop and save ask a device's server over its figures
 * socket (attach_figures_ask); show reads a file.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "src/attach/attach.h"
#include "src/cli/cli.h"
#include "src/trace/trace.h"

static void trace_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root trace stop /dev/nbdN\n"
		"       s3root trace save /dev/nbdN FILE\n"
		"       s3root trace show FILE\n"
		"A device attached with -o s3root.trace=record (or booted with "
		"it on the kernel\ncommand line) records the reads it answers "
		"until no read came for\ns3root.trace_idle, or until `trace "
		"stop`. `trace save` stops the recording and\nwrites it to "
		"FILE (- for stdout), to publish beside the image and name "
		"with\n-o s3root.trace=SOURCE. `trace show` checks a trace "
		"file and sums it up.\n(serve records with --trace-out FILE, "
		"written when it exits.)\n");
}

struct trace_args {
	const char *pos[3];
	int npos;
};

static int trace_arg(void *ctx, int id, const char *arg)
{
	struct trace_args *a = ctx;

	(void)id;
	if (a->npos == 3) {
		log_err("trace: unexpected argument '%.100s'", arg);
		return -1;
	}
	a->pos[a->npos++] = arg;
	return 0;
}

/* The device's index, or -1 (logged). */
static int trace_device(const char *dev)
{
	int index = attach_device_index(dev);

	if (index < 0)
		log_err("trace: '%.100s' is not /dev/nbdN", dev);
	return index;
}

/* Asks the server of dev; 0 with the answer (not an error line), or -1
 * (logged). */
static int trace_ask(const char *dev, char what, char **out, size_t *len)
{
	int index = trace_device(dev), r;

	if (index < 0)
		return -1;
	r = attach_figures_ask(index, what, TRACE_MAX_BYTES, out, len);
	if (r) {
		log_err("trace: %s: %s", dev,
			r == -ECONNREFUSED ? "no s3root server answers for it"
			: r == -EPERM ? "its socket is another user's (not "
					"a server of root or yours): not asked"
				      : strerror(-r));
		return -1;
	}
	if (!strncmp(*out, "error: ", 7)) {
		(*out)[strcspn(*out, "\n")] = '\0';
		log_err("trace: %s: %s", dev, *out + 7);
		free(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

/* Writes len bytes to path (- is stdout) whole or not at all. 0 or -1. */
static int write_whole(const char *path, const char *buf, size_t len)
{
	char tmp[4200];
	int fd, r;

	if (!strcmp(path, "-"))
		return util_write_full(1, buf, len) ? -1 : 0;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		log_err("trace: '%.100s...' is too long a file name", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	r = fd < 0 ? -errno : util_write_full(fd, buf, len);
	if (fd >= 0 && close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		log_err("trace: writing %s: %s", path, strerror(-r));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static int trace_save(const char *dev, const char *file)
{
	struct trace t;
	char *text, msg[300];
	size_t len;
	int r;

	if (trace_ask(dev, 'T', &text, &len))
		return 1;
	/* what the server sent must be a trace the parser takes */
	r = trace_parse(text, len, &t, msg, sizeof(msg));
	if (r)
		log_err("trace: %s sent a bad trace: %s", dev, msg);
	else
		r = write_whole(file, text, len);
	if (!r)
		fprintf(stderr, "%s: %zu reads, %" PRIu64 " bytes\n", file, t.n,
			trace_bytes(&t));
	trace_free(&t);
	free(text);
	return r ? 1 : 0;
}

static int trace_stop(const char *dev)
{
	char *text;
	size_t len;

	if (trace_ask(dev, 'S', &text, &len))
		return 1;
	printf("%s: %s", dev, text);
	free(text);
	return fflush(stdout) ? 1 : 0;
}

static int trace_show(const char *file)
{
	struct trace t;
	char *buf, msg[300];
	size_t len;
	int r = io_read_file(file, TRACE_MAX_BYTES, &buf, &len);

	if (r) {
		log_err("trace: %s: %s", file,
			r == -EFBIG ? "larger than a trace may be"
				    : strerror(-r));
		return 1;
	}
	r = trace_parse(buf, len, &t, msg, sizeof(msg));
	free(buf);
	if (r) {
		log_err("trace: %s: %s", file, msg);
		return 1;
	}
	printf("size: %" PRIu64 "\netag: %s\nreads: %zu\nbytes: %" PRIu64
	       "\nlast_ms: %" PRIu32 "\n",
	       t.size, t.etag, t.n, trace_bytes(&t), t.n ? t.r[t.n - 1].ms : 0);
	trace_free(&t);
	return fflush(stdout) ? 1 : 0;
}

static const struct cli_opt trace_opts[] = {{NULL, 0, 0}};
static const struct cli_spec trace_spec = {trace_opts, 0, trace_usage};

int cmd_trace(int argc, char **argv, char **envp)
{
	struct trace_args a = {{NULL}, 0};
	int r = cli_scan(argc, argv, &trace_spec, trace_arg, &a);

	(void)envp;
	if (r)
		return r > 0 ? 0 : 1;
	if (a.npos == 2 && !strcmp(a.pos[0], "stop"))
		return trace_stop(a.pos[1]);
	if (a.npos == 3 && !strcmp(a.pos[0], "save"))
		return trace_save(a.pos[1], a.pos[2]);
	if (a.npos == 2 && !strcmp(a.pos[0], "show"))
		return trace_show(a.pos[1]);
	log_err("trace: expected stop /dev/nbdN, save /dev/nbdN FILE or show "
		"FILE (s3root trace --help)");
	return 1;
}
