/* SPDX-License-Identifier: MIT */
/*
 * daemon.c - the server of an attached device: serves the device's
 * sockets through the cache, connects (or reconfigures) the device, and
 * lives until the kernel lets go; as the root's server, marked for
 * systemd and memory locked.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/attach/internal.h"

struct sock_thread {
	pthread_t th;
	int fd;
	const struct nbd_export *ex;
	struct nbd_pool *pool;
	int ended;
};

static void *serve_sock(void *arg)
{
	struct sock_thread *s = arg;

	nbd_serve(s->fd, s->ex, s->pool);
	close(s->fd);
	__atomic_store_n(&s->ended, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Whether the kernel kept the other ends: none of ours ended at once. */
static int sockets_taken(const struct sock_thread *th, unsigned n)
{
	unsigned i;

	usleep(300000); /* a dropped socket ends its server at once */
	for (i = 0; i < n; i++)
		if (__atomic_load_n(&th[i].ended, __ATOMIC_ACQUIRE))
			return 0;
	return 1;
}

/* The daemon's side of the start-up report: "OK N" or the error. */
static void report(int fd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void report(int fd, const char *fmt, ...)
{
	char buf[1200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > 0 &&
	    write(fd, buf,
		  (size_t)n < sizeof(buf) ? (size_t)n : sizeof(buf) - 1) < 0)
		return; /* the parent is gone: nobody to tell */
}

/* The daemon's state: what it serves, and the sockets it serves on. */
struct daemon {
	const struct opts *o;
	const struct attach_req *a;
	int index, reattach, use_ioctl, report_fd;
	unsigned n; /* sockets */
	struct sock_thread th[16];
	struct nbd_export ex;
	struct nbd_pool *pool;
	struct cache *cache;
	struct trace_rec *rec; /* s3root.trace=record */
};

/* The published trace's reads, fetched ahead of the kernel's. */
static void daemon_replay(struct daemon *d)
{
	const struct trace *t = d->a->replay;
	struct cache_replay_range *r;
	size_t i;
	int e;

	if (!t || !t->n)
		return;
	r = malloc(t->n * sizeof(*r));
	if (!r) {
		log_warn("replaying the trace: out of memory");
		return;
	}
	for (i = 0; i < t->n; i++)
		r[i] = (struct cache_replay_range){t->r[i].off, t->r[i].len};
	e = cache_replay_start(d->cache, r, t->n);
	if (e)
		log_warn("replaying the trace: %s",
			 e == -EOPNOTSUPP ? "it needs a RAM cache (s3.cache "
					    "of 4 chunks or more)"
					  : strerror(-e));
	free(r);
}

/* s3root.trace=record: the recorder behind the cache's reads (not for a
 * reattach, which comes long after the boot, nor for a verity tree). */
static void daemon_record(struct daemon *d, struct object *ob)
{
	const struct object_info *info = object_info(ob);
	int r;

	if (d->reattach || d->a->tree ||
	    strcmp(opts_str(d->o, OPT_TRACE) ? opts_str(d->o, OPT_TRACE) : "",
		   "record"))
		return;
	r = trace_rec_new(&d->rec, info->size, info->etag,
			  opts_num(d->o, OPT_TRACE_IDLE), util_mono_ms());
	if (r) {
		log_warn("%s: cannot record a trace: %s", info->name,
			 r == -EINVAL ? "its ETag has spaces or is too long"
				      : strerror(-r));
		return;
	}
	cache_set_read_hook(d->cache, trace_rec_hook, d->rec);
}

/* Lets go of the caller's stdin and stdout at once (`dev=$(s3root attach
 * ...)` waits for its pipe to close), and, as the root's server, marks
 * itself for systemd, which spares processes whose argv[0] starts with
 * '@' when it kills everything at switch-root and shutdown ("root storage
 * daemons"), and locks its memory: paging in from the root would wait on
 * itself. A device that backs a filesystem must not be the OOM killer's
 * first choice, and its writeback must not wait on itself. */
static void daemon_settle(const struct attach_req *a)
{
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		close(devnull);
	}
	signal(SIGPIPE, SIG_IGN);
	if (a->root) {
		if (base_argv && base_argv[0] && base_argv[0][0])
			base_argv[0][0] = '@';
		if (mlockall(MCL_CURRENT | MCL_FUTURE))
			log_warn("mlockall: %s", strerror(errno));
		log_to_kmsg(1);
		/* restarted on a running system (--reattach), out of the
		 * caller's unit, whose stop would kill it: into systemd's own
		 * init.scope, where /init's server is (no cgroup2 there: no
		 * systemd, nothing to do) */
		if (!access("/sys/fs/cgroup/init.scope/cgroup.procs", W_OK))
			io_write_str("/sys/fs/cgroup/init.scope/cgroup.procs",
				     "0");
	}
	io_write_str("/proc/self/oom_score_adj", "-1000");
	prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0);
}

/* The cache and the workers (threads do not cross fork: they start
 * here). 0, or -1 after reporting why. */
static int daemon_start(struct daemon *d, struct object *ob)
{
	struct cache_config cc;
	char msg[1024];
	int r;

	cache_config_from(d->o, &cc);
	r = cache_new(&d->cache, ob, &cc, msg, sizeof(msg));
	if (r) {
		report(d->report_fd, "%s", msg);
		return -1;
	}
	cache_export(d->cache, object_info(ob)->name, &d->ex);
	daemon_record(d, ob);
	daemon_replay(d);
	object_keep_fresh(ob);
	r = nbd_pool_new(&d->pool, (unsigned)opts_num(d->o, OPT_CONNECTIONS),
			 (unsigned)opts_num(d->o, OPT_CONNECTIONS_MAX));
	if (r) {
		report(d->report_fd, "starting workers: %s", strerror(-r));
		return -1;
	}
	return 0;
}

/* One try: n socket pairs, served from our ends before the kernel gets
 * the others (it reads at once), then connect or reconfigure. 0, or -1
 * after reporting why. */
static int daemon_connect_once(struct daemon *d, int *got)
{
	int kfds[16], sv[2], r;
	char msg[1024];
	unsigned i;

	for (i = 0; i < d->n; i++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
			report(d->report_fd, "socketpair: %s", strerror(errno));
			return -1;
		}
		kfds[i] = sv[0];
		d->th[i] = (struct sock_thread){0, sv[1], &d->ex, d->pool, 0};
		pthread_create(&d->th[i].th, NULL, serve_sock, &d->th[i]);
	}
	if (d->reattach)
		r = kernel_reconfigure(d->index, kfds, d->n, d->o, msg,
				       sizeof(msg));
	else
		r = kernel_connect(d->use_ioctl, d->index, kfds, d->n,
				   d->ex.size, d->o, got, msg, sizeof(msg));
	if (!d->use_ioctl)
		for (i = 0; i < d->n; i++)
			close(kfds[i]); /* the kernel holds its own */
	if (r)
		report(d->report_fd, "%s", msg);
	return r ? -1 : 0;
}

/* Connects the device; a reattach again until the kernel takes the new
 * sockets: RECONFIGURE takes them only in place of ones it has seen die,
 * and silently drops the rest (our ends then hang up at once). The
 * device's index, or -1 after reporting why. */
static int daemon_connect(struct daemon *d)
{
	int got = d->index, tries;
	unsigned i;

	for (tries = 0;; tries++) {
		if (daemon_connect_once(d, &got))
			return -1;
		if (!d->reattach || sockets_taken(d->th, d->n))
			return got;
		for (i = 0; i < d->n; i++)
			pthread_join(d->th[i].th, NULL);
		if (tries == 50) {
			report(d->report_fd,
			       "the kernel did not take the new sockets (is "
			       "the old server still running?)");
			return -1;
		}
		usleep(200000);
	}
}

/*
 * The daemon: serves the device's sockets, connects (or reconfigures) the
 * device, reports to the parent through fd, and lives until the kernel
 * lets go of the sockets.
 */
int attach_daemon_run(struct object *ob, const struct opts *o,
		      const struct attach_req *a, int index, int reattach,
		      int use_ioctl, int fd)
{
	static struct daemon d; /* one per process; threads use it */
	int got, r, log_fd;
	unsigned i;

	d = (struct daemon){.o = o,
			    .a = a,
			    .index = index,
			    .reattach = reattach,
			    .use_ioctl = use_ioctl,
			    .report_fd = fd};
	daemon_settle(a);
	d.n = kernel_sockets(o, use_ioctl);
	if (daemon_start(&d, ob))
		return 1;
	got = daemon_connect(&d);
	if (got < 0)
		return 1;
	r = attach_state_write(got, a, object_info(ob), use_ioctl);
	if (r)
		log_warn("writing " PATH_RUN_DIR "/nbd%d.state: %s", got,
			 strerror(-r));
	attach_figures_serve(got, d.cache, d.rec);
	report(fd, "OK %d", got);
	close(fd);
	/* from now on, messages go to the kernel log (the root server's go
	 * there already, with their priorities: not twice) */
	log_fd = a->root ? -1 : open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (log_fd < 0)
		log_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (log_fd >= 0) {
		dup2(log_fd, 2);
		close(log_fd);
	}
	if (a->daemon_start)
		a->daemon_start(a->daemon_arg);
	if (a->root)
		attach_enter_run_dir();
	for (i = 0; i < d.n; i++)
		pthread_join(d.th[i].th, NULL);
	attach_state_remove(got);
	cache_sync(d.cache); /* not freed: a GET may still be retrying */
	exit(0);
}

/* Copies from to ./to unless ./to exists. */
static void copy_missing(const char *from, const char *to)
{
	char *buf;
	size_t len;
	int fd, r;

	if (!access(to, F_OK) || io_read_file(from, 1 << 20, &buf, &len))
		return;
	fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	r = fd < 0 ? -errno : util_write_full(fd, buf, len);
	if (fd >= 0)
		close(fd);
	if (r)
		log_warn("copying %s to " PATH_RUN_ETC ": %s", from,
			 strerror(-r));
	free(buf);
}

/* Whether the root server moves into PATH_RUN_DIR (attach_enter_run_dir). */
static int run_dir_ready;

/*
 * The root server's files, to rotate and follow on the running system:
 * /init copied the credentials to /run/s3root/etc, and that tmpfs moves
 * into the new root. The server's own root stays the deleted initramfs, so
 * it keeps its working directory there (which follows the move) and names
 * the copies relative to it. The resolver's files join them (/init wrote
 * resolv.conf there; a distribution's initramfs configured its own
 * /etc/resolv.conf and /etc/hosts: copied), and run/s3root links to ..
 * so that PATH_RUN_* paths name the same files once the server's root is
 * PATH_RUN_DIR.
 */
void attach_follow_run_creds(struct opts *o)
{
	static const struct {
		enum opt_id id;
		const char *initramfs, *copy;
	} files[] = {
		{OPT_PASSWD_FILE, "/etc/s3root/passwd",
		 "s3.passwd_file=./passwd"},
		{OPT_SESSION_TOKEN_FILE, "/etc/s3root/session_token",
		 "s3.session_token_file=./session_token"},
	};
	char msg[256];
	size_t i;

	if (chdir(PATH_RUN_ETC) < 0) {
		if (chdir("/") < 0)
			log_warn("chdir /: %s", strerror(errno));
		return;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		/* at the rank it had: a default stays one (the file may
		 * be missing: the instance's role, or anonymous) */
		if (!strcmp(opts_str(o, files[i].id), files[i].initramfs) &&
		    opts_parse_list(o, files[i].copy, o->v[files[i].id].src,
				    msg, sizeof(msg)))
			log_warn("%s", msg);
	copy_missing("/etc/resolv.conf", "resolv.conf");
	copy_missing("/etc/hosts", "hosts");
	mkdir("../run", 0700);
	if (symlink("..", "../run/s3root") && errno != EEXIST)
		log_warn("linking " PATH_RUN_DIR "/run/s3root: %s",
			 strerror(errno));
	else
		run_dir_ready = 1;
}

/*
 * The root server's root becomes PATH_RUN_DIR, whose etc/ is then its
 * /etc: getaddrinfo reads resolv.conf and hosts there at every lookup, for
 * the life of the system (the deleted initramfs has none after
 * switch_root). Relative to the working directory, PATH_RUN_ETC: it
 * follows /run's move into the new root, before or after this. Late, once
 * the server is set up: what it opens by path is open (/dev/kmsg, the
 * device, the cache file) or written (the state file); the credentials
 * are named relative to the working directory, the CA bundle is loaded,
 * the figures' socket is abstract. glibc's getaddrinfo loads its NSS
 * modules from the root, which this one lacks: a glibc build (SAN=1) stays
 * where it is.
 */
void attach_enter_run_dir(void)
{
#ifndef __GLIBC__
	if (run_dir_ready && chroot(".."))
		log_warn("chroot " PATH_RUN_DIR ": %s (its resolver files "
			 "are not followed)",
			 strerror(errno));
#endif
}
