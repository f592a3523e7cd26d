/* SPDX-License-Identifier: MIT */
/*
 * cmd_serve.c - `s3root serve SOURCE --listen ADDRESS`: the object as a
 * read-only NBD export (newstyle), for nbdinfo, nbdcopy, qemu, fio and
 * nbd-client. Several clients at once; one pool of workers reads for all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/cache/cache.h"
#include "src/cli/cli.h"
#include "src/trace/trace.h"

#define MAX_CLIENTS 64

enum { O_OPT = CLI_OPT, O_LISTEN, O_TRACE_OUT };

static const struct cli_opt serve_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"--listen", CLI_ONCE, O_LISTEN},
	{"--trace-out", CLI_ONCE, O_TRACE_OUT},
	{NULL, 0, 0},
};

static volatile sig_atomic_t stop_requested, figures_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	figures_requested = 1;
}

/* The cache's figures on stderr, on SIGUSR1 and at exit; the trace
 * recorder's state after them. */
static void print_figures(struct cache *cache, struct trace_rec *rec)
{
	struct trace_rec_state st;
	char buf[4096];

	if (cache_format_stats(cache, 0, buf, sizeof(buf)) > 0)
		fprintf(stderr, "%s", buf);
	if (!rec)
		return;
	trace_rec_state(rec, util_mono_ms(), &st);
	fprintf(stderr, "trace: %s, %zu reads, %" PRIu64 " bytes\n",
		trace_rec_mode_name(st.mode), st.n, st.bytes);
}

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: s3root serve SOURCE --listen unix:PATH|tcp:HOST:PORT"
		   "|tcp:[V6]:PORT [-o OPTS]\n"
		   "                    [--trace-out FILE]\n"
		   "Serves the object as a read-only NBD export (newstyle; the "
		   "default export name\nand the key's name), until SIGINT or "
		   "SIGTERM. SIGUSR1 and the exit print the cache's\n"
		   "figures on stderr. --trace-out records the reads the "
		   "clients make (as\n-o s3root.trace=record) and writes the "
		   "trace to FILE at the exit.\n\n");
	opts_print_help(f);
}

/* Removes path if it is a socket (never a file that only has its name). */
static void unlink_socket(const char *path)
{
	struct stat st;

	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
}

/* unix:PATH: a socket file nobody listens on is left from a crash and
 * goes; one that answers is another server's; anything else at PATH is
 * the user's, and stays. The fd, or -1 (logged). */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	int fd;

	if (!*path || strlen(path) >= sizeof(sa.sun_path)) {
		log_err("serve: bad socket path '%s'", path);
		return -1;
	}
	if (!lstat(path, &st) && !S_ISSOCK(st.st_mode)) {
		log_err("serve: %s exists and is not a socket (left as it is; "
			"choose another path)",
			path);
		return -1;
	}
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		log_err("serve: %s is in use by another server", sa.sun_path);
		close(fd);
		return -1;
	}
	unlink_socket(sa.sun_path);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 16)) {
		log_err("serve: listening on %s: %s", sa.sun_path,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* HOST:PORT or [V6]:PORT (spec is for messages). The fd, or -1. */
static int listen_tcp(const char *hostport, const char *spec)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res, *ai;
	char host[256], *port;
	int fd = -1, one = 1, g;

	if (strlen(hostport) >= sizeof(host)) {
		log_err("serve: --listen is unix:PATH, tcp:HOST:PORT or "
			"tcp:[V6]:PORT");
		return -1;
	}
	strcpy(host, hostport);
	port = strrchr(host, ':');
	if (!port || port == host) {
		log_err("serve: --listen tcp:HOST:PORT needs a port");
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	g = getaddrinfo(host, port, &hints, &res);
	if (g) {
		log_err("serve: %s: %s", spec, gai_strerror(g));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, 0);
		if (fd < 0)
			continue;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!bind(fd, ai->ai_addr, ai->ai_addrlen) && !listen(fd, 16))
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		log_err("serve: listening on %s: %s", spec, strerror(errno));
	return fd;
}

/* unix:PATH, tcp:HOST:PORT or tcp:[V6]:PORT into a listening socket; the
 * address as shown in shown. The fd, or -1 (logged). */
static int listen_on(const char *spec, char *shown, size_t shownlen)
{
	int fd;

	if (!strncmp(spec, "unix:", 5)) {
		fd = listen_unix(spec + 5);
	} else if (!strncmp(spec, "tcp:", 4)) {
		fd = listen_tcp(spec + 4, spec);
	} else {
		log_err("serve: --listen is unix:PATH, tcp:HOST:PORT or "
			"tcp:[V6]:PORT");
		return -1;
	}
	if (fd >= 0)
		snprintf(shown, shownlen, "%s", spec);
	return fd;
}

struct client {
	int fd;
	const struct nbd_export *ex;
	struct nbd_pool *pool;
	const struct opts *o;
};

/* A socket timeout of ms milliseconds (0: none). */
static void sock_timeout(int fd, int which, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000),
			     (suseconds_t)(ms % 1000) * 1000};

	setsockopt(fd, SOL_SOCKET, which, &tv, sizeof(tv));
}

static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static int nclients;

static void *client_thread(void *arg)
{
	struct client *cl = arg;
	uint64_t wto = opts_num(cl->o, OPT_SERVE_WRITE_TIMEOUT);
	int r;

	/* a client holds a thread: it must finish the handshake, read its
	 * replies and (if asked) keep asking, or go */
	sock_timeout(cl->fd, SO_RCVTIMEO,
		     opts_num(cl->o, OPT_SERVE_HANDSHAKE_TIMEOUT));
	sock_timeout(cl->fd, SO_SNDTIMEO,
		     opts_num(cl->o, OPT_SERVE_HANDSHAKE_TIMEOUT));
	r = nbd_handshake(cl->fd, cl->ex);
	if (r == -EAGAIN || r == -EWOULDBLOCK)
		log_info("serve: a client did not finish the handshake in "
			 "time: dropped");
	else if (r < 0)
		log_info("serve: handshake failed: %s", strerror(-r));
	if (r == 0) {
		sock_timeout(cl->fd, SO_RCVTIMEO,
			     opts_num(cl->o, OPT_SERVE_IDLE_TIMEOUT));
		sock_timeout(cl->fd, SO_SNDTIMEO, wto);
		r = nbd_serve(cl->fd, cl->ex, cl->pool);
		if (r == -ETIMEDOUT)
			log_info("serve: a client idle for "
				 "s3root.serve_idle_timeout: dropped");
		else if (r == -EAGAIN || r == -EWOULDBLOCK)
			log_info("serve: a client read none of its replies for "
				 "%" PRIu64 " ms (s3root.serve_write_timeout): "
				 "dropped",
				 wto);
		else if (r)
			log_info("serve: connection ended: %s", strerror(-r));
	}
	close(cl->fd);
	free(cl);
	pthread_mutex_lock(&clients_lock);
	nclients--;
	pthread_mutex_unlock(&clients_lock);
	return NULL;
}

/* What serve runs on. */
struct server {
	const char *cmd;
	const char *source, *listen;
	struct opts o;
	int lfd;
	char shown[300]; /* the address, for "listening on" */
	struct object *ob;
	struct cache *cache;
	struct nbd_pool *pool;
	struct source src; /* the export's name points into it */
	struct nbd_export ex;
	const char *trace_out; /* --trace-out FILE */
	struct trace_rec *rec; /* recording the clients' reads */
	sigset_t waiting;      /* the signal mask inside ppoll */
};

static int serve_arg(void *ctx, int id, const char *arg)
{
	struct server *s = ctx;
	int r = cli_object_arg(s->cmd, id, arg, &s->source, &s->o);

	if (r)
		return r < 0 ? -1 : 0;
	if (id == O_LISTEN)
		s->listen = arg;
	if (id == O_TRACE_OUT)
		s->trace_out = arg;
	return 0;
}

/* The export's name: the key, or the URL's last path segment without
 * the query (a presigned URL's is a secret). Cuts the query off in
 * src->shown, which the name points into. */
static const char *export_name(struct source *src)
{
	char *slash;

	if (!src->plain)
		return src->key;
	src->shown[strcspn(src->shown, "?")] = '\0';
	slash = strrchr(src->shown, '/');
	return slash ? slash + 1 : src->shown;
}

/*
 * SIGINT, SIGTERM and SIGUSR1 are for the main thread's wait for clients:
 * every thread started after this (fetchers, workers, clients) has them
 * blocked, and the main thread takes them only inside ppoll, so that none
 * is missed.
 */
static void block_signals(struct server *s)
{
	sigset_t sigs;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, &s->waiting);
	sigdelset(&s->waiting, SIGINT);
	sigdelset(&s->waiting, SIGTERM);
	sigdelset(&s->waiting, SIGUSR1);
}

/* s3root.trace=SOURCE: its reads replayed into the cache now (a trace
 * that cannot be had is a message, not a failure). */
static void serve_replay(struct server *s, const char *source, char **envp)
{
	struct cache_replay_range *rr;
	struct trace t;
	size_t i;
	int r;

	if (trace_fetch(&s->o, source, envp, object_info(s->ob),
			util_mono_ms() + 10000, &t))
		return;
	rr = malloc((t.n ? t.n : 1) * sizeof(*rr));
	r = rr ? 0 : -ENOMEM;
	for (i = 0; rr && i < t.n; i++)
		rr[i] = (struct cache_replay_range){t.r[i].off, t.r[i].len};
	if (!r && t.n)
		r = cache_replay_start(s->cache, rr, t.n);
	if (r)
		log_warn("serve: replaying the trace: %s",
			 r == -EOPNOTSUPP ? "it needs a RAM cache (s3.cache "
					    "of 4 chunks or more)"
					  : strerror(-r));
	free(rr);
	trace_free(&t);
}

/* The trace: replayed (s3root.trace=SOURCE) or recorded (=record or
 * --trace-out). 0, or -1 (logged). */
static int serve_trace(struct server *s, char **envp)
{
	const struct object_info *info = object_info(s->ob);
	const char *v = opts_str(&s->o, OPT_TRACE);
	int r;

	if (v && strcmp(v, "record")) {
		if (s->trace_out) {
			log_err("serve: --trace-out records a trace: not "
				"with s3root.trace=SOURCE");
			return -1;
		}
		serve_replay(s, v, envp);
		return 0;
	}
	if (!v && !s->trace_out)
		return 0;
	r = trace_rec_new(&s->rec, info->size, info->etag,
			  opts_num(&s->o, OPT_TRACE_IDLE), util_mono_ms());
	if (r) {
		log_err("serve: cannot record a trace of %s: %s", info->name,
			r == -EINVAL ? "its ETag has spaces or is too long"
				     : strerror(-r));
		return -1;
	}
	cache_set_read_hook(s->cache, trace_rec_hook, s->rec);
	return 0;
}

/* --trace-out: the recording written at the exit (whole or not at all). */
static void serve_save_trace(struct server *s)
{
	char *text, tmp[4200];
	size_t len;
	int r, fd;

	if (!s->rec || !s->trace_out)
		return;
	r = trace_rec_save(s->rec, &text, &len);
	if (r) {
		log_err("serve: no trace for %s: %s", s->trace_out,
			r == -ENODATA ? "no client read anything"
				      : strerror(-r));
		return;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", s->trace_out);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	r = fd < 0 ? -errno : util_write_full(fd, text, len);
	if (fd >= 0 && close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, s->trace_out))
		r = -errno;
	if (r) {
		log_err("serve: writing the trace to %s: %s", s->trace_out,
			strerror(-r));
		unlink(tmp);
	}
	free(text);
}

/* The socket, the object, the cache and the workers. 0 or -1 (logged). */
static int serve_open(struct server *s, char **envp)
{
	struct cache_config cc;
	struct s3_target t;
	struct creds c;
	char msg[1024];
	int r;

	if (!s->listen) {
		log_err("serve: --listen ADDRESS is required");
		return -1;
	}
	if (s3_setup(&s->o, s->source, envp, &s->src, &t, &c))
		return -1;
	/* a bad address or one in use is known before any network I/O;
	 * clients that come early wait in the backlog */
	s->lfd = listen_on(s->listen, s->shown, sizeof(s->shown));
	if (s->lfd < 0) {
		creds_free(&c);
		return -1;
	}
	if (!opts_num(&s->o, OPT_DEBUG))
		log_set_level(LOG_INFO); /* a server says what it does */
	r = object_open(&s->ob, &s->o, &s->src, &t, &c, envp, msg, sizeof(msg));
	creds_free(&c);
	if (r) {
		log_err("%s", msg);
		return -1;
	}
	block_signals(s);
	cache_config_from(&s->o, &cc);
	if (cache_new(&s->cache, s->ob, &cc, msg, sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	cache_export(s->cache, export_name(&s->src), &s->ex);
	if (serve_trace(s, envp))
		return -1;
	object_keep_fresh(s->ob);
	r = nbd_pool_new(&s->pool, (unsigned)opts_num(&s->o, OPT_CONNECTIONS),
			 (unsigned)opts_num(&s->o, OPT_CONNECTIONS_MAX));
	if (r) {
		log_err("serve: starting workers: %s", strerror(-r));
		return -1;
	}
	return 0;
}

static void client_gone(void)
{
	pthread_mutex_lock(&clients_lock);
	nclients--;
	pthread_mutex_unlock(&clients_lock);
}

/* A thread for the client on fd, unless MAX_CLIENTS are connected. */
static void serve_client(struct server *s, int fd, pthread_attr_t *attr)
{
	struct client *cli = NULL;
	pthread_t th;
	int room;

	pthread_mutex_lock(&clients_lock);
	room = nclients < MAX_CLIENTS;
	nclients += room;
	pthread_mutex_unlock(&clients_lock);
	if (room)
		cli = malloc(sizeof(*cli));
	if (!cli) {
		log_warn("serve: refusing a client (%d connected)",
			 MAX_CLIENTS);
		if (room)
			client_gone();
		close(fd);
		return;
	}
	*cli = (struct client){fd, &s->ex, s->pool, &s->o};
	if (pthread_create(&th, attr, client_thread, cli)) {
		close(fd);
		free(cli);
		client_gone();
	}
}

/* Accepts clients until SIGINT or SIGTERM; figures on SIGUSR1. */
static void serve_loop(struct server *s)
{
	struct sigaction sa = {.sa_handler = on_stop};
	pthread_attr_t attr;
	int r, fd;

	signal(SIGPIPE, SIG_IGN);
	/* a client gone before accept must not block it: ppoll waits */
	fcntl(s->lfd, F_SETFL, O_NONBLOCK);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	fprintf(stderr, "listening on %s\n", s->shown);
	while (!stop_requested) {
		struct pollfd pfd = {s->lfd, POLLIN, 0};

		r = ppoll(&pfd, 1, NULL, &s->waiting);
		if (figures_requested) {
			figures_requested = 0;
			print_figures(s->cache, s->rec);
		}
		fd = r > 0 ? accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
		if (fd >= 0)
			serve_client(s, fd, &attr);
		else if (r > 0 && errno != EAGAIN && errno != ECONNABORTED)
			log_warn("serve: accept: %s", strerror(errno));
	}
	pthread_attr_destroy(&attr);
}

static const struct cli_spec serve_spec = {serve_opts, 0, serve_usage};

int cmd_serve(int argc, char **argv, char **envp)
{
	static struct server s; /* the client threads use it to the end */
	int r;

	s.cmd = argv[0];
	s.lfd = -1;
	r = cli_scan(argc, argv, &serve_spec, serve_arg, &s);
	if (!r)
		r = serve_open(&s, envp);
	if (r) {
		if (s.lfd >= 0) {
			close(s.lfd);
			if (!strncmp(s.listen, "unix:", 5))
				unlink_socket(s.listen + 5);
		}
		nbd_pool_free(s.pool);
		cache_free(s.cache);
		object_close(s.ob);
		opts_free(&s.o);
		return r > 0 ? 0 : 1;
	}
	serve_loop(&s);
	if (!strncmp(s.listen, "unix:", 5))
		unlink_socket(s.listen + 5);
	/* exiting ends the client threads with the process: the object and
	 * the pool stay valid until then; a GET may still be retrying, so
	 * the cache is not freed, only its file's map saved */
	cache_sync(s.cache);
	print_figures(s.cache, s.rec);
	serve_save_trace(&s);
	exit(0);
}
