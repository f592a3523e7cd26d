/* SPDX-License-Identifier: MIT */
/*
 * cmd_attach.c - `s3root attach|detach|list|mount`: the object as
 * /dev/nbdN on a running system. A daemon serves the device; its pid and
 * a state file (source and options, never secrets) live in /run/s3root/,
 * so `list`, `detach` and `attach --reattach` find it again.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/cache.h"

#define RUN_DIR "/run/s3root"
#define EROFS_MAGIC 0xE0F5E1E2u
#define EROFS_MAGIC_OFF 1024
#define MAX_LISTS 32

enum { O_OPT = 1, O_DEVICE, O_REATTACH, O_VERBOSE, O_JSON, O_HELP };

static const struct cli_opt attach_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"--device", CLI_ONCE, O_DEVICE},
	{"--reattach", CLI_ONCE, O_REATTACH},
	{"-v", 0, O_VERBOSE},
	{"--json", 0, O_JSON},
	{"-h", 0, O_HELP},
	{"--help", 0, O_HELP},
	{NULL, 0, 0},
};

struct attach_args {
	const char *source;
	const char *device;
	const char *reattach;
	const char *dir;	      /* mount */
	const char *lists[MAX_LISTS]; /* the -o lists, for the state file */
	int nlists;
	int json;
	int verbose;  /* list -v: live figures */
	int root;     /* the root filesystem's server (started by /init) */
	char dev[32]; /* what to mount: /dev/nbdN, or the dm-verity device */
	/* the hash tree's own object (s3root.verity_object), attached for a
	 * data device of tree_blocks blocks; its checked superblock */
	int tree;
	uint64_t tree_blocks, hash_start;
	struct verity_sb vsb;
};

/* "/dev/nbd3" or "nbd3" or "3" -> 3; -1 if it is none of them. */
static int device_index(const char *dev)
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
	snprintf(buf, len, RUN_DIR "/nbd%d.%s", index, ext);
}

/* Writes the state file: what `--reattach` needs to start a new server. */
static int write_state(int index, const struct attach_args *a,
		       const char *source, int use_ioctl)
{
	char path[64], tmp[80];
	FILE *f;
	int i;

	mkdir(RUN_DIR, 0700);
	state_path(path, sizeof(path), index, "state");
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	fprintf(f, "source = %s\npid = %d\ninterface = %s\nstarted = %lld\n",
		source, (int)getpid(), use_ioctl ? "ioctl" : "netlink",
		(long long)time(NULL));
	for (i = 0; i < a->nlists; i++)
		fprintf(f, "option = %s\n", a->lists[i]);
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

struct state {
	char source[URL_MAX_PATH + 320];
	char options[MAX_LISTS][OPT_MAX_VALUE + 64];
	int noptions;
	int pid;
	int use_ioctl;
};

/*
 * Reads state file text (NUL-terminated, changed in place): unknown keys
 * are ignored, a value that does not fit or a bad pid makes it -EINVAL
 * (a truncated source or option must never be used).
 */
static int parse_state(char *buf, struct state *st)
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
			if (st->noptions == MAX_LISTS)
				return -EINVAL;
			n = snprintf(st->options[st->noptions++],
				     sizeof(st->options[0]), "%s", eq);
			if (n >= (int)sizeof(st->options[0]))
				return -EINVAL;
		}
	}
	return st->source[0] ? 0 : -EINVAL;
}

/* Reads the state file of /dev/nbd<index> back. */
static int read_state(int index, struct state *st)
{
	char path[64], *buf;
	size_t len;
	int r;

	memset(st, 0, sizeof(*st));
	state_path(path, sizeof(path), index, "state");
	r = read_file(path, 256 * 1024, &buf, &len);
	if (r)
		return r;
	r = parse_state(buf, st);
	free(buf);
	return r;
}

static void remove_state(int index)
{
	char path[64];

	state_path(path, sizeof(path), index, "state");
	unlink(path);
	state_path(path, sizeof(path), index, "pid");
	unlink(path);
}

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

static int check_erofs(struct object *ob)
{
	uint8_t m[4];
	char msg[1024];
	uint32_t magic;

	if (object_info(ob)->size < EROFS_MAGIC_OFF + 4) {
		err("%s is too small to be an EROFS image (-o "
		    "s3root.any_image to attach it anyway)",
		    object_info(ob)->name);
		return -1;
	}
	if (object_read(ob, m, EROFS_MAGIC_OFF, 4, 0, msg, sizeof(msg))) {
		err("%s", msg);
		return -1;
	}
	magic = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
		(uint32_t)m[3] << 24;
	if (magic != EROFS_MAGIC) {
		err("%s is not an EROFS image (magic %08x at offset 1024, want "
		    "%08x; -o s3root.any_image to attach it anyway)",
		    object_info(ob)->name, magic, EROFS_MAGIC);
		return -1;
	}
	return 0;
}

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
		if (read(fd, &how, 1) == 1) {
			n = cache_format_stats(ss->cache, how == 'j', buf,
					       sizeof(buf));
			if (n > 0 && write(fd, buf, (size_t)n) < 0)
				n = 0; /* the client left: nothing to do */
		}
		close(fd);
	}
}

static void stats_serve(int index, struct cache *cache)
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
		warn("nbd%d: no live figures for list -v: %s", index,
		     strerror(errno));
		if (ss.fd >= 0)
			close(ss.fd);
		return;
	}
	pthread_detach(th);
}

/* Asks device index's server for its figures; 0, or -1 if it is silent. */
static int stats_fetch(int index, int json, char *buf, size_t len)
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
	if (connect(fd, (struct sockaddr *)&sa, salen) ||
	    write(fd, json ? "j" : "t", 1) != 1)
		goto out;
	while (got + 1 < len && (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	r = got ? 0 : -1;
out:
	close(fd);
	return r;
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

/*
 * The daemon: serves the device's sockets, connects (or reconfigures) the
 * device, reports to the parent through fd, and lives until the kernel
 * lets go of the sockets.
 */
static int run_daemon(struct object *ob, const struct opts *o,
		      const struct attach_args *a, int index, int reattach,
		      int use_ioctl, int fd)
{
	unsigned n = (unsigned)opts_num(o, OPT_NBD_SOCKETS), i;
	struct sock_thread th[16];
	int kfds[16], sv[2], r, got = index, devnull, tries;
	struct nbd_export ex = {0};
	struct nbd_pool *pool = NULL;
	struct cache *cache = NULL;
	struct cache_config cc;
	char msg[1024];

	/* let go of the caller's stdin and stdout at once: `dev=$(s3root
	 * attach ...)` waits for its pipe to close */
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 0);
		dup2(devnull, 1);
		close(devnull);
	}
	if (use_ioctl)
		n = 1; /* one socket per NBD_DO_IT */
	signal(SIGPIPE, SIG_IGN);
	if (a->root) {
		/* systemd spares processes whose argv[0] starts with '@' when
		 * it kills everything at switch-root and shutdown (its "root
		 * storage daemons"); memory locked: paging in from the root
		 * would wait on ourselves */
		if (s3root_argv && s3root_argv[0] && s3root_argv[0][0])
			s3root_argv[0][0] = '@';
		if (mlockall(MCL_CURRENT | MCL_FUTURE))
			warn("mlockall: %s", strerror(errno));
		log_to_kmsg(1);
	}
	/* the device backs a filesystem: its server must not be the OOM
	 * killer's first choice, and its writeback must not wait on itself */
	write_file_str("/proc/self/oom_score_adj", "-1000");
	prctl(PR_SET_IO_FLUSHER, 1, 0, 0, 0);
	/* threads do not cross fork: the cache starts here */
	cache_config_from(o, &cc);
	r = cache_new(&cache, ob, &cc, msg, sizeof(msg));
	if (r) {
		report(fd, "%s", msg);
		return 1;
	}
	cache_export(cache, object_info(ob)->name, &ex);
	r = nbd_pool_new(&pool, (unsigned)opts_num(o, OPT_CONNECTIONS));
	if (r) {
		report(fd, "starting workers: %s", strerror(-r));
		return 1;
	}
	for (tries = 0;; tries++) {
		/* serving starts before the kernel connects: it reads at once
		 */
		for (i = 0; i < n; i++) {
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				       sv)) {
				report(fd, "socketpair: %s", strerror(errno));
				return 1;
			}
			kfds[i] = sv[0];
			th[i] = (struct sock_thread){0, sv[1], &ex, pool, 0};
			pthread_create(&th[i].th, NULL, serve_sock, &th[i]);
		}
		if (reattach)
			r = kernel_reconfigure(index, kfds, n, o, msg,
					       sizeof(msg));
		else
			r = kernel_connect(use_ioctl, index, kfds, n, ex.size,
					   o, &got, msg, sizeof(msg));
		if (!use_ioctl)
			for (i = 0; i < n; i++)
				close(kfds[i]); /* the kernel holds its own */
		if (r) {
			report(fd, "%s", msg);
			return 1;
		}
		/* RECONFIGURE takes sockets only in place of ones the kernel
		 * has seen die, and silently drops the rest: then our ends
		 * hang up at once. Wait for the old ones to die, and again. */
		if (!reattach || sockets_taken(th, n))
			break;
		for (i = 0; i < n; i++)
			pthread_join(th[i].th, NULL);
		if (tries == 50) {
			report(fd, "the kernel did not take the new sockets "
				   "(is the old server still running?)");
			return 1;
		}
		usleep(200000);
	}
	r = write_state(got, a, object_info(ob)->name, use_ioctl);
	if (r)
		warn("writing " RUN_DIR "/nbd%d.state: %s", got, strerror(-r));
	stats_serve(got, cache);
	report(fd, "OK %d", got);
	close(fd);
	/* from now on, messages go to the kernel log (the root server's go
	 * there already, with their priorities: not twice) */
	devnull = a->root ? -1 : open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (devnull < 0)
		devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (devnull >= 0) {
		dup2(devnull, 2);
		close(devnull);
	}
	for (i = 0; i < n; i++)
		pthread_join(th[i].th, NULL);
	remove_state(got);
	cache_sync(cache); /* not freed: a GET may still be retrying */
	exit(0);
}

/*
 * The root server's credentials, to rotate on the running system: /init
 * copied them to /run/s3root/etc, and that tmpfs moves into the new root.
 * The server's own root stays the deleted initramfs, so it keeps its
 * working directory there (which follows the move) and names the copies
 * relative to it.
 */
static void follow_run_creds(struct opts *o)
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

	if (chdir(RUN_DIR "/etc") < 0) {
		if (chdir("/") < 0)
			warn("chdir /: %s", strerror(errno));
		return;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(opts_str(o, files[i].id), files[i].initramfs) &&
		    opts_parse_list(o, files[i].copy, OPT_SRC_ARG, msg,
				    sizeof(msg)))
			warn("%s", msg);
}

/* The tree device's index from the dm device's uuid; -1 if none. */
static int tree_index(const char *uuid)
{
	const char *t = strstr(uuid, "-tree-nbd");

	return t ? device_index(t + 9) : -1;
}

/*
 * Disconnects /dev/nbd<index> and waits for its server; first the
 * dm-verity device over it (busy: still mounted) and after it the device
 * of its tree's own object. 0, or -1 with a message in err.
 */
/* The first device stacked on /dev/nbd<index> (dm-N), if any. */
static int holder_of(int index, char *name, size_t len)
{
	char dir[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/sys/block/nbd%d/holders", index);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(name, len, "%s", e->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

static int detach_index(int index, char *err, size_t errlen)
{
	char name[32], path[32], uuid[160], msg[512];
	int r, tree = -1, i;
	struct state st;

	dm_name_for(index, name, sizeof(name));
	if (!dm_find(name, path, sizeof(path), uuid, sizeof(uuid)))
		tree = tree_index(uuid);
	r = dm_remove(name, msg, sizeof(msg));
	if (r && r != -ENXIO && r != -ENOENT)
		return fail(err, errlen, "detach /dev/nbd%d: %s%s", index, msg,
			    r == -EBUSY ? " (unmount it first)" : "");
	/* a verity tree's device under another device's dm target, say */
	if (holder_of(index, msg, sizeof(msg)))
		return fail(err, errlen,
			    "detach /dev/nbd%d: in use by /dev/%s (detach or "
			    "remove that first)",
			    index, msg);
	r = read_state(index, &st);
	if (kernel_disconnect(index, !r && st.use_ioctl, msg, sizeof(msg)))
		return fail(err, errlen, "detach /dev/nbd%d: %s", index, msg);
	/* the server sees its sockets close and exits */
	for (i = 0; !r && st.pid > 0 && i < 100 && !kill(st.pid, 0); i++)
		usleep(50000);
	if (!r && st.pid > 0 && !kill(st.pid, 0))
		warn("the server of /dev/nbd%d (pid %d) is still running",
		     index, st.pid);
	remove_state(index);
	return tree >= 0 && tree != index ? detach_index(tree, err, errlen) : 0;
}

int detach_device(int index, char *err, size_t errlen)
{
	return detach_index(index, err, errlen);
}

/*
 * The dm-verity device over the attached /dev/nbd<index> (and the tree's
 * own /dev/nbd<tree>, or -1), named for it; a->dev becomes its node. On
 * failure both NBD devices are let go.
 */
static int verity_attach(struct attach_args *a, const struct opts *o,
			 const struct verity_sb *sb, uint64_t hash_start,
			 int index, int tree)
{
	char name[32], uuid[64], msg[512], path[32], hdev[32];

	dm_name_for(index, name, sizeof(name));
	snprintf(hdev, sizeof(hdev), "/dev/nbd%d", tree >= 0 ? tree : index);
	if (tree >= 0)
		snprintf(uuid, sizeof(uuid), "s3root-verity-nbd%d-tree-nbd%d",
			 index, tree);
	else
		snprintf(uuid, sizeof(uuid), "s3root-verity-nbd%d", index);
	if (dm_verity_create(name, uuid, a->dev, hdev, sb, hash_start,
			     opts_str(o, OPT_VERITY),
			     (int)opts_num(o, OPT_VERITY_ONERROR), path,
			     sizeof(path), msg, sizeof(msg))) {
		err("verity: %s", msg);
		if (kernel_disconnect(index, 0, msg, sizeof(msg)))
			err("detach %s: %s", a->dev, msg);
		if (tree >= 0 && kernel_disconnect(tree, 0, msg, sizeof(msg)))
			err("detach %s: %s", hdev, msg);
		return -1;
	}
	info("%s: dm-verity (%s) over %s, tree %s%s, root hash %.16s...", path,
	     name, a->dev, tree >= 0 ? "on " : "appended",
	     tree >= 0 ? hdev : "", opts_str(o, OPT_VERITY));
	snprintf(a->dev, sizeof(a->dev), "%s", path);
	return 0;
}

/*
 * The tree's own object (s3root.verity_object) as a device of its own,
 * served by a daemon of its own; its superblock checked for a data
 * device of data_blocks blocks. Its index, or -1 after printing why.
 */
static int do_attach(struct attach_args *a, char **envp, int *index);

static int attach_tree(const struct attach_args *a, const struct opts *o,
		       uint64_t data_blocks, char **envp, struct attach_args *t)
{
	int i, idx;

	memset(t, 0, sizeof(*t));
	t->source = opts_str(o, OPT_VERITY_OBJECT);
	t->root = a->root;
	t->tree = 1;
	t->tree_blocks = data_blocks;
	if (a->nlists >= MAX_LISTS) {
		err("verity: too many -o lists to attach the tree with");
		return -1;
	}
	for (i = 0; i < a->nlists; i++)
		t->lists[t->nlists++] = a->lists[i];
	/* not EROFS: and so for a --reattach from its state file too */
	t->lists[t->nlists++] = "s3root.any_image=1";
	return do_attach(t, envp, &idx) ? -1 : idx;
}

/* attach and mount: 0 with the device's index in *index, or -1. */
static int do_attach(struct attach_args *a, char **envp, int *index)
{
	struct opts o = {0};
	struct state st;
	struct object *ob = NULL;
	struct attach_args tree;
	uint64_t data_blocks = 0;
	struct source src;
	struct s3_target t;
	struct creds c;
	char msg[1200];
	int i, r, pfd[2], idx = -1, use_ioctl, reattach = !!a->reattach,
			  tidx = -1, verity;
	pid_t pid;
	ssize_t n;

	if (reattach) {
		idx = device_index(a->reattach);
		r = idx < 0 ? -ENODEV : read_state(idx, &st);
		if (r) {
			err("attach --reattach '%s': %s", a->reattach,
			    r == -ENODEV   ? "not /dev/nbdN"
			    : r == -EINVAL ? "a damaged state file in " RUN_DIR
					   : "no state in " RUN_DIR
					     " (was it attached by s3root?)");
			return -1;
		}
		a->source = st.source;
		for (i = 0; i < st.noptions; i++) {
			a->lists[a->nlists++] = st.options[i];
			if (opts_parse_list(&o, st.options[i], OPT_SRC_ARG, msg,
					    sizeof(msg))) {
				err("%s", msg);
				return -1;
			}
		}
		/* the old server, if alive, goes first: the kernel then
		 * takes the new sockets in place of the dead ones */
		if (st.pid > 0 && !kill(st.pid, SIGTERM))
			for (i = 0; i < 100 && !kill(st.pid, 0); i++)
				usleep(50000);
	} else {
		for (i = 0; i < a->nlists; i++) {
			/* each list becomes a line of the state file */
			if (strlen(a->lists[i]) >= sizeof(st.options[0])) {
				err("attach: -o list longer than %zu bytes "
				    "(split it into several -o)",
				    sizeof(st.options[0]) - 1);
				return -1;
			}
			if (opts_parse_list(&o, a->lists[i], OPT_SRC_ARG, msg,
					    sizeof(msg))) {
				err("%s", msg);
				return -1;
			}
		}
		if (a->device && (idx = device_index(a->device)) < 0) {
			err("attach: --device '%s' is not /dev/nbdN",
			    a->device);
			return -1;
		}
	}
	if (setup_object(&o, a->source, envp, &src, &t, &c))
		goto err;
	r = object_open(&ob, &o, &src, &t, &c, envp, msg, sizeof(msg));
	creds_free(&c);
	if (r) {
		err("%s", msg);
		goto err;
	}
	if (!a->tree && !opts_num(&o, OPT_ANY_IMAGE) && check_erofs(ob))
		goto err;
	/* before the kernel sees the device: a wrong root hash or a bad
	 * superblock is refused with a clear message here, not as EIO from
	 * the mount (an attached device keeps its table: not again) */
	verity = opts_isset(&o, OPT_VERITY) && !reattach && !a->tree;
	if (a->tree && !reattach)
		r = verity_check_object(ob, opts_str(&o, OPT_VERITY), 0,
					a->tree_blocks, &a->vsb, &a->hash_start,
					msg, sizeof(msg));
	else if (verity && opts_isset(&o, OPT_VERITY_OFFSET))
		r = verity_check_object(
			ob, opts_str(&o, OPT_VERITY),
			opts_num(&o, OPT_VERITY_OFFSET),
			opts_num(&o, OPT_VERITY_OFFSET) / VERITY_BLOCK,
			&tree.vsb, &tree.hash_start, msg, sizeof(msg));
	else
		r = 0;
	if (r) {
		err("verity: %s", msg);
		goto err;
	}
	/* a tree of its own covers the whole image, zero-filled to a block */
	data_blocks = (object_info(ob)->size + VERITY_BLOCK - 1) / VERITY_BLOCK;
	use_ioctl = opts_num(&o, OPT_NBD) == NBDIF_IOCTL;
	if (pipe2(pfd, O_CLOEXEC)) {
		err("pipe: %s", strerror(errno));
		goto err;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		err("fork: %s", strerror(errno));
		goto err;
	}
	if (!pid) {
		close(pfd[0]);
		setsid();
		if (a->root)
			follow_run_creds(&o);
		else if (chdir("/") < 0)
			_exit(1);
		exit(run_daemon(ob, &o, a, idx, reattach, use_ioctl, pfd[1]));
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	msg[n > 0 ? n : 0] = '\0';
	if (strncmp(msg, "OK ", 3)) {
		err("attach %s: %s", object_info(ob)->name,
		    n > 0 ? msg : "the server died while starting");
		waitpid(pid, NULL, 0);
		goto err;
	}
	*index = atoi(msg + 3);
	snprintf(a->dev, sizeof(a->dev), "/dev/nbd%d", *index);
	if (verity && opts_isset(&o, OPT_VERITY_OBJECT)) {
		tidx = attach_tree(a, &o, data_blocks, envp, &tree);
		if (tidx < 0) {
			if (kernel_disconnect(*index, 0, msg, sizeof(msg)))
				err("detach %s: %s", a->dev, msg);
			goto err;
		}
	}
	if (verity &&
	    verity_attach(a, &o, &tree.vsb, tree.hash_start, *index, tidx))
		goto err;
	object_close(ob);
	opts_free(&o);
	return 0;
err:
	object_close(ob);
	opts_free(&o);
	return -1;
}

static void attach_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root attach SOURCE [--device /dev/nbdN] [-o OPTS]\n"
		"       s3root attach --reattach /dev/nbdN\n"
		"Attaches the object (an EROFS image) as a read-only "
		"/dev/nbdN served by a daemon,\nand prints the device. "
		"--reattach starts a new server for an attached device.\n"
		"With -o s3root.verity=ROOT_HASH,s3root.verity_offset=N it "
		"prints the dm-verity\ndevice over it (/dev/dm-N); detach "
		"/dev/nbdN removes both.\n\n");
	opts_print_help(f);
}

/* The arguments of attach, mount, detach or list: allowed lists the ids of
 * the options the command takes ("12": -o and --device), --help aside. */
static int scan(int argc, char **argv, struct attach_args *a, int positional,
		const char *allowed, void (*usage)(FILE *))
{
	struct cli cl = {.argc = argc, .argv = argv, .i = 1};
	const char *arg;
	int id, npos = 0;

	while ((id = cli_next(&cl, attach_opts, &arg)) != -1) {
		if (id > 0 && id != O_HELP && !strchr(allowed, '0' + id)) {
			err("%s: option %s is not for this command", argv[0],
			    cl.name);
			return -1;
		}
		switch (id) {
		case -2:
			return -1;
		case 0:
			if (npos == positional) {
				err("%s: unexpected argument '%.100s'", argv[0],
				    arg);
				return -1;
			}
			if (npos++ == 0)
				a->source = arg;
			else
				a->dir = arg;
			break;
		case O_OPT:
			if (a->nlists == MAX_LISTS) {
				err("%s: more than %d -o (join them: -o "
				    "KEY=VALUE,KEY=VALUE)",
				    argv[0], MAX_LISTS);
				return -1;
			}
			a->lists[a->nlists++] = arg;
			break;
		case O_DEVICE:
			a->device = arg;
			break;
		case O_REATTACH:
			a->reattach = arg;
			break;
		case O_JSON:
			a->json = 1;
			break;
		case O_VERBOSE:
			a->verbose = 1;
			break;
		case O_HELP:
			usage(stdout);
			return 1;
		}
	}
	return 0;
}

int attach_device(const char *source, const char *list, char **envp, int root,
		  int *index, char *dev, size_t devlen)
{
	struct attach_args a = {.source = source, .root = root};

	if (list && *list)
		a.lists[a.nlists++] = list;
	if (do_attach(&a, envp, index))
		return -1;
	snprintf(dev, devlen, "%s", a.dev);
	return 0;
}

int cmd_attach(int argc, char **argv, char **envp)
{
	struct attach_args a = {0};
	int r = scan(argc, argv, &a, 1, "123", attach_usage), index;

	if (r)
		return r > 0 ? 0 : 1;
	if (!a.reattach && !a.source) {
		err("attach: SOURCE or --reattach /dev/nbdN is required");
		return 1;
	}
	if (a.reattach && (a.source || a.device || a.nlists)) {
		err("attach: --reattach takes no SOURCE, --device or -o (the "
		    "state file has them)");
		return 1;
	}
	if (do_attach(&a, envp, &index))
		return 1;
	printf("%s\n", a.dev);
	return fflush(stdout) ? 1 : 0;
}

static void mount_usage(FILE *f)
{
	fprintf(f, "usage: s3root mount SOURCE DIR [-o OPTS]\n"
		   "Attaches the object and mounts it read-only as EROFS on "
		   "DIR (from the\ndm-verity device over it with -o "
		   "s3root.verity=...).\n\n");
	opts_print_help(f);
}

int cmd_mount(int argc, char **argv, char **envp)
{
	struct attach_args a = {0};
	char msg[768];
	int r = scan(argc, argv, &a, 2, "1", mount_usage), index;

	if (r)
		return r > 0 ? 0 : 1;
	if (!a.source || !a.dir) {
		err("mount: SOURCE and DIR are required");
		return 1;
	}
	if (do_attach(&a, envp, &index))
		return 1;
	if (mount(a.dev, a.dir, "erofs", MS_RDONLY, NULL)) {
		r = errno;
		err("mount %s on %s: %s", a.dev, a.dir, strerror(r));
		if (detach_index(index, msg, sizeof(msg)))
			err("%s", msg);
		return 1;
	}
	printf("%s on %s\n", a.dev, a.dir);
	return 0;
}

static void detach_usage(FILE *f)
{
	fprintf(f, "usage: s3root detach /dev/nbdN\n"
		   "Disconnects the device; its server exits.\n");
}

int cmd_detach(int argc, char **argv, char **envp)
{
	struct attach_args a = {0};
	char msg[768];
	int r = scan(argc, argv, &a, 1, "", detach_usage), index;

	(void)envp;
	if (r)
		return r > 0 ? 0 : 1;
	if (!a.source || (index = device_index(a.source)) < 0) {
		if (a.source)
			err("detach: '%.100s' is not /dev/nbdN", a.source);
		else
			err("detach: /dev/nbdN is required");
		return 1;
	}
	if (detach_index(index, msg, sizeof(msg))) {
		err("%s", msg);
		return 1;
	}
	return 0;
}

static void list_usage(FILE *f)
{
	fprintf(f, "usage: s3root list [-v] [--json]\n"
		   "Lists the NBD devices the kernel has connected, with the "
		   "object each serves;\n"
		   "-v adds each server's live figures (cache, fetches, "
		   "latency, retries).\n");
}

int cmd_list(int argc, char **argv, char **envp)
{
	struct attach_args a = {0};
	struct kdev_status devs[256];
	struct state st;
	size_t n = 0, i;
	char msg[512], figures[2048], *line, *next, name[32], dm[32], uuid[160];
	int r = scan(argc, argv, &a, 0, "45", list_usage), first = 1, alive,
	    live, verity;

	(void)envp;
	if (r)
		return r > 0 ? 0 : 1;
	if (kernel_status(devs, 256, &n, msg, sizeof(msg))) {
		err("list: %s", msg);
		return 1;
	}
	if (a.json)
		printf("[");
	for (i = 0; i < n; i++) {
		if (!devs[i].connected)
			continue;
		r = read_state(devs[i].index, &st);
		alive = !r && st.pid > 0 && !kill(st.pid, 0);
		dm_name_for(devs[i].index, name, sizeof(name));
		verity = !dm_find(name, dm, sizeof(dm), uuid, sizeof(uuid));
		live = a.verbose && alive &&
		       !stats_fetch(devs[i].index, a.json, figures,
				    sizeof(figures));
		if (a.json) {
			printf("%s{\"device\": \"/dev/nbd%d\", \"source\": ",
			       first ? "" : ", ", devs[i].index);
			json_print_str(stdout, r ? "" : st.source);
			printf(", \"pid\": %d, \"server\": \"%s\"",
			       r ? 0 : st.pid, alive ? "running" : "gone");
			if (verity)
				printf(", \"verity\": \"%s\"", dm);
			if (verity && tree_index(uuid) >= 0)
				printf(", \"verity_tree\": \"/dev/nbd%d\"",
				       tree_index(uuid));
			if (live)
				printf(", \"figures\": %s", figures);
			printf("}");
		} else {
			printf("/dev/nbd%d  %s  pid %d%s\n", devs[i].index,
			       r ? "(not attached by s3root)" : st.source,
			       r ? 0 : st.pid, alive ? "" : " (server gone)");
			if (verity && tree_index(uuid) >= 0)
				printf("    verity: %s (%s), tree on "
				       "/dev/nbd%d\n",
				       dm, name, tree_index(uuid));
			else if (verity)
				printf("    verity: %s (%s)\n", dm, name);
			for (line = live ? figures : NULL; line && *line;
			     line = next) {
				next = strchr(line, '\n');
				printf("    %.*s\n",
				       (int)(next ? next - line
						  : (ptrdiff_t)strlen(line)),
				       line);
				next = next ? next + 1 : NULL;
			}
		}
		first = 0;
	}
	if (a.json)
		printf("]\n");
	return fflush(stdout) ? 1 : 0;
}
