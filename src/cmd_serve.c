/* SPDX-License-Identifier: MIT */
/*
 * cmd_serve.c - `s3root serve SOURCE --listen ADDRESS`: the object as a
 * read-only NBD export (newstyle), for nbdinfo, nbdcopy, qemu, fio and
 * nbd-client. Several clients at once; one pool of workers reads for all.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/cache.h"

#define MAX_CLIENTS 64

enum { O_OPT = CLI_OPT, O_LISTEN, O_HELP };

static const struct cli_opt serve_opts[] = {
	{"-o", CLI_MANY, O_OPT},
	{"--listen", CLI_ONCE, O_LISTEN},
	{"-h", 0, O_HELP},
	{"--help", 0, O_HELP},
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

/* The cache's figures on stderr, on SIGUSR1 and at exit. */
static void print_figures(struct cache *cache)
{
	char buf[2048];

	if (cache_format_stats(cache, 0, buf, sizeof(buf)) > 0)
		fprintf(stderr, "%s", buf);
}

static void serve_usage(FILE *f)
{
	fprintf(f, "usage: s3root serve SOURCE --listen unix:PATH|tcp:HOST:PORT"
		   "|tcp:[V6]:PORT [-o OPTS]\n"
		   "Serves the object as a read-only NBD export (newstyle; the "
		   "default export name\nand the key's name), until SIGINT or "
		   "SIGTERM. SIGUSR1 and the exit print the cache's\n"
		   "figures on stderr.\n\n");
	opts_print_help(f);
}

/* unix:PATH, tcp:HOST:PORT or tcp:[V6]:PORT into a listening socket. */
static int listen_on(const char *spec, char *shown, size_t shownlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE};
	struct addrinfo *res, *ai;
	char host[256], *port;
	int fd = -1, one = 1, g;

	if (!strncmp(spec, "unix:", 5)) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};

		if (!spec[5] || strlen(spec + 5) >= sizeof(sa.sun_path)) {
			err("serve: bad socket path '%s'", spec + 5);
			return -1;
		}
		strcpy(sa.sun_path, spec + 5);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		/* a socket file nobody listens on is left from a crash */
		if (fd >= 0 &&
		    !connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			err("serve: %s is in use by another server",
			    sa.sun_path);
			close(fd);
			return -1;
		}
		unlink(sa.sun_path);
		if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
		    listen(fd, 16)) {
			err("serve: listening on %s: %s", sa.sun_path,
			    strerror(errno));
			if (fd >= 0)
				close(fd);
			return -1;
		}
		snprintf(shown, shownlen, "%s", spec);
		return fd;
	}
	if (strncmp(spec, "tcp:", 4) || strlen(spec + 4) >= sizeof(host)) {
		err("serve: --listen is unix:PATH, tcp:HOST:PORT or "
		    "tcp:[V6]:PORT");
		return -1;
	}
	strcpy(host, spec + 4);
	port = strrchr(host, ':');
	if (!port || port == host) {
		err("serve: --listen tcp:HOST:PORT needs a port");
		return -1;
	}
	*port++ = '\0';
	if (host[0] == '[' && port[-2] == ']') {
		port[-2] = '\0';
		memmove(host, host + 1, strlen(host));
	}
	g = getaddrinfo(host, port, &hints, &res);
	if (g) {
		err("serve: %s: %s", spec, gai_strerror(g));
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
	if (fd < 0) {
		err("serve: listening on %s: %s", spec, strerror(errno));
		return -1;
	}
	snprintf(shown, shownlen, "%s", spec);
	return fd;
}

struct client {
	int fd;
	const struct nbd_export *ex;
	struct nbd_pool *pool;
};

static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static int nclients;

static void *client_thread(void *arg)
{
	struct client *cl = arg;
	int r = nbd_handshake(cl->fd, cl->ex);

	if (r < 0)
		info("serve: handshake failed: %s", strerror(-r));
	else if (r == 0) {
		r = nbd_serve(cl->fd, cl->ex, cl->pool);
		if (r)
			info("serve: connection ended: %s", strerror(-r));
	}
	close(cl->fd);
	free(cl);
	pthread_mutex_lock(&clients_lock);
	nclients--;
	pthread_mutex_unlock(&clients_lock);
	return NULL;
}

int cmd_serve(int argc, char **argv, char **envp)
{
	struct cli cl = {.argc = argc, .argv = argv, .i = 1};
	const char *arg, *source = NULL, *listen_spec = NULL;
	struct sigaction sa = {.sa_handler = on_stop};
	sigset_t sigs, waiting;
	struct opts o = {0};
	struct object *ob = NULL;
	struct cache *cache = NULL;
	struct cache_config cc;
	struct nbd_pool *pool = NULL;
	struct nbd_export ex = {0};
	struct source src;
	struct s3_target t;
	struct creds c;
	char msg[1024], shown[300];
	const char *slash;
	int id, lfd = -1, fd, ret = 1, r;
	pthread_attr_t attr;
	pthread_t th;

	while ((id = cli_next(&cl, serve_opts, &arg)) != -1) {
		r = cli_common(&cl, id, arg, &source, &o);
		if (r < 0)
			goto out;
		if (r)
			continue;
		switch (id) {
		case -2:
			goto out;
		case O_LISTEN:
			listen_spec = arg;
			break;
		case O_HELP:
			serve_usage(stdout);
			ret = 0;
			goto out;
		}
	}
	if (!listen_spec) {
		err("serve: --listen ADDRESS is required");
		goto out;
	}
	if (setup_object(&o, source, envp, &src, &t, &c))
		goto out;
	/* a bad address or one in use is known before any network I/O;
	 * clients that come early wait in the backlog */
	lfd = listen_on(listen_spec, shown, sizeof(shown));
	if (lfd < 0) {
		creds_free(&c);
		goto out;
	}
	if (!opts_num(&o, OPT_DEBUG))
		log_set_level(LOG_INFO); /* a server says what it does */
	r = object_open(&ob, &o, &src, &t, &c, envp, msg, sizeof(msg));
	creds_free(&c);
	if (r) {
		err("%s", msg);
		goto out;
	}
	/* SIGINT, SIGTERM and SIGUSR1 are for the main thread's wait for
	 * clients: every thread started from here on (fetchers, workers,
	 * clients) has them blocked, and the main thread takes them only
	 * inside ppoll, so that none is missed */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sigs, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	sigdelset(&waiting, SIGUSR1);
	cache_config_from(&o, &cc);
	r = cache_new(&cache, ob, &cc, msg, sizeof(msg));
	if (r) {
		err("%s", msg);
		goto out;
	}
	slash = strrchr(src.plain ? src.url : src.key, '/');
	cache_export(cache, src.plain ? (slash ? slash + 1 : src.url) : src.key,
		     &ex);
	r = nbd_pool_new(&pool, (unsigned)opts_num(&o, OPT_CONNECTIONS));
	if (r) {
		err("serve: starting workers: %s", strerror(-r));
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	/* a client gone before accept must not block it: ppoll waits */
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	fprintf(stderr, "listening on %s\n", shown);
	while (!stop_requested) {
		struct pollfd pfd = {lfd, POLLIN, 0};
		struct client *cli;

		r = ppoll(&pfd, 1, NULL, &waiting);
		if (figures_requested) {
			figures_requested = 0;
			print_figures(cache);
		}
		fd = r > 0 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC) : -1;
		if (fd < 0) {
			if (r > 0 && errno != EAGAIN && errno != ECONNABORTED)
				warn("serve: accept: %s", strerror(errno));
			continue;
		}
		pthread_mutex_lock(&clients_lock);
		r = nclients < MAX_CLIENTS;
		nclients += r;
		pthread_mutex_unlock(&clients_lock);
		cli = r ? malloc(sizeof(*cli)) : NULL;
		if (!cli) {
			warn("serve: refusing a client (%d connected)",
			     MAX_CLIENTS);
			if (r) {
				pthread_mutex_lock(&clients_lock);
				nclients--;
				pthread_mutex_unlock(&clients_lock);
			}
			close(fd);
			continue;
		}
		*cli = (struct client){fd, &ex, pool};
		if (pthread_create(&th, &attr, client_thread, cli)) {
			close(fd);
			free(cli);
			pthread_mutex_lock(&clients_lock);
			nclients--;
			pthread_mutex_unlock(&clients_lock);
		}
	}
	pthread_attr_destroy(&attr);
	if (!strncmp(listen_spec, "unix:", 5))
		unlink(listen_spec + 5);
	ret = 0;
	/* exiting ends the client threads with the process: the object and
	 * the pool stay valid until then; a GET may still be retrying, so
	 * the cache is not freed, only its file's map saved */
	cache_sync(cache);
	print_figures(cache);
	exit(ret);
out:
	if (lfd >= 0) {
		close(lfd);
		if (!strncmp(listen_spec, "unix:", 5))
			unlink(listen_spec + 5);
	}
	nbd_pool_free(pool);
	cache_free(cache);
	object_close(ob);
	opts_free(&o);
	return ret;
}
