/* SPDX-License-Identifier: MIT */
/*
 * lease.c - the DHCP lease of a boot for the life of the root server: the
 * lease file in /run/s3root for the running system, and (s3root.dhcp=
 * renew) a thread of the root server that renews it at T1, rebinds at T2
 * (RFC 2131 section 4.4.5) and never takes the address away: a NAK or an
 * expiry is logged loudly and the root keeps its network. The server's
 * root is the deleted initramfs after switch_root: it reaches its files
 * through a handle on /run/s3root opened by /init, and its socket is the
 * one /init leased with.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "src/boot/internal.h"
#include "src/net/net.h"

struct boot_lease {
	struct dhcp_client c;
	char dev[16];
	int fd;		/* the client's socket */
	int run_fd;	/* PATH_RUN_DIR */
	int static_dns; /* ip= named the DNS servers: DHCP's are not used */
	struct in_addr dns[2];
	char extra[2][64]; /* nameserver= */
	int nextra;
	char last_why[sizeof(((struct dhcp_client *)0)->why)];
};

/* path as the root server reaches it: under PATH_RUN_DIR, relative to
 * the handle on it (run_fd); else as it is. */
static const char *run_rel(const char *path)
{
	size_t n = strlen(PATH_RUN_DIR);

	return !strncmp(path, PATH_RUN_DIR "/", n + 1) ? path + n + 1 : path;
}

/* PATH_RUN_LEASE, atomically (a reader sees the old or the new one). */
static void lease_write(struct boot_lease *bl, const char *state)
{
	const char *name = run_rel(PATH_RUN_LEASE);
	int64_t obtained =
		(int64_t)time(NULL) - (util_mono_ms() - bl->c.bound_ms) / 1000;
	char buf[600], tmp[64];
	int fd, n, r = 0;

	n = dhcp_lease_format(buf, sizeof(buf), &bl->c.lease, bl->dev, state,
			      obtained);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	fd = openat(bl->run_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (n < 0 || fd < 0) {
		r = n < 0 ? n : -errno;
		goto out;
	}
	r = util_write_full(fd, buf, (size_t)n);
	if (close(fd) && !r)
		r = -errno;
	fd = -1;
	if (!r && renameat(bl->run_fd, tmp, bl->run_fd, name))
		r = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (r) {
		unlinkat(bl->run_fd, tmp, 0);
		log_warn("writing " PATH_RUN_LEASE ": %s", strerror(-r));
	}
}

/* The resolver's file follows the DNS servers of a renewed lease. */
static void lease_dns(struct boot_lease *bl)
{
	const struct dhcp_lease *l = &bl->c.lease;
	char a[2][INET_ADDRSTRLEN];
	int r;

	if (bl->static_dns || !memcmp(bl->dns, l->dns, sizeof(bl->dns)))
		return;
	memcpy(bl->dns, l->dns, sizeof(bl->dns));
	r = net_resolv_writeat(bl->run_fd, run_rel(PATH_RUN_RESOLV), bl->dns, 2,
			       bl->extra, bl->nextra);
	inet_ntop(AF_INET, &l->dns[0], a[0], sizeof(a[0]));
	inet_ntop(AF_INET, &l->dns[1], a[1], sizeof(a[1]));
	if (r)
		log_warn("DHCP: the DNS servers are now %s %s, but "
			 "rewriting " PATH_RUN_RESOLV " failed: %s",
			 a[0], a[1], strerror(-r));
	else
		log_info("DHCP: the DNS servers are now %s %s "
			 "(" PATH_RUN_RESOLV " rewritten)",
			 a[0], a[1]);
}

static void renew_event(void *arg, struct dhcp_client *c, enum dhcp_event ev)
{
	struct boot_lease *bl = arg;
	char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &c->lease.client, a, sizeof(a));
	inet_ntop(AF_INET, &c->lease.server, s, sizeof(s));
	switch (ev) {
	case DHCP_EV_RENEWED:
	case DHCP_EV_BOUND:
		if (ev == DHCP_EV_RENEWED)
			log_info("DHCP: lease of %s on %s renewed by %s for "
				 "%u s (next renewal in %u s)",
				 a, bl->dev, s, c->lease.lease_s,
				 c->lease.t1_s);
		else
			log_warn("DHCP: %s on %s is leased again, from %s for "
				 "%u s",
				 a, bl->dev, s, c->lease.lease_s);
		bl->last_why[0] = '\0';
		lease_write(bl, "bound");
		lease_dns(bl);
		break;
	case DHCP_EV_NAK:
	case DHCP_EV_EXPIRED:
		log_err("DHCP on %s: %s: KEEPING %s, which the root needs "
			"(another host may be given it), and asking again",
			bl->dev, c->why, a);
		lease_write(bl, ev == DHCP_EV_NAK ? "refused" : "expired");
		break;
	case DHCP_EV_REFUSED:
		/* once per reason: retries would repeat it every minute */
		if (strcmp(bl->last_why, c->why))
			log_warn("DHCP on %s: refusing %s", bl->dev, c->why);
		snprintf(bl->last_why, sizeof(bl->last_why), "%s", c->why);
		break;
	default:
		break;
	}
}

static void *renew_main(void *arg)
{
	struct boot_lease *bl = arg;

	dhcp_run(&bl->c, bl->fd, 0, -1, renew_event, bl);
	return NULL;
}

/* The attach hook: in the root server, once it serves. */
static void renew_start(void *arg)
{
	struct boot_lease *bl = arg;
	pthread_attr_t at;
	pthread_t th;
	int r;

	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &at, renew_main, bl);
	pthread_attr_destroy(&at);
	if (r)
		log_err("DHCP on %s: no renewal thread (%s): the lease will "
			"run out",
			bl->dev, strerror(r));
}

int boot_lease_keep(struct boot *b, const struct ipconfig *ip,
		    const struct dhcp_client *c, int fd, int static_dns)
{
	struct boot_lease *bl = calloc(1, sizeof(*bl));
	int i;

	if (b->lease) { /* a boot tried again: the new lease wins */
		close(b->lease->fd);
		if (b->lease->run_fd >= 0)
			close(b->lease->run_fd);
		free(b->lease);
		b->lease = NULL;
	}
	if (!bl) {
		close(fd);
		log_err("DHCP: out of memory");
		return -1;
	}
	bl->c = *c;
	bl->c.keep = c->lease.client; /* the root lives on this address */
	bl->fd = fd;
	snprintf(bl->dev, sizeof(bl->dev), "%s", ip->dev);
	bl->static_dns = static_dns;
	memcpy(bl->dns, ip->dns, sizeof(bl->dns));
	for (i = 0; i < b->nns && i < 2; i++)
		memcpy(bl->extra[i], b->nameservers[i], sizeof(bl->extra[i]));
	bl->nextra = i;
	mkdir(PATH_RUN_DIR, 0700);
	bl->run_fd = open(PATH_RUN_DIR, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (bl->run_fd < 0) {
		log_warn(PATH_RUN_DIR ": %s: no lease file", strerror(errno));
		bl->run_fd = AT_FDCWD;
	} else {
		lease_write(bl, "bound");
	}
	if (opts_num(&b->o, OPT_DHCP) == DHCPMODE_ONCE) {
		close(fd);
		if (bl->run_fd >= 0)
			close(bl->run_fd);
		free(bl);
		return 0;
	}
	b->lease = bl;
	return 0;
}

int boot_attach(struct boot *b, char **envp, int64_t open_by, int *index,
		char *dev, size_t devlen)
{
	struct attach_req a = {
		.source = b->source, .root = 1, .open_by = open_by};

	if (b->list[0])
		a.lists[a.nlists++] = b->list;
	if (b->lease) {
		a.daemon_start = renew_start;
		a.daemon_arg = b->lease;
	}
	if (attach_run(&a, envp, index))
		return -1;
	snprintf(dev, devlen, "%s", a.dev);
	return 0;
}
