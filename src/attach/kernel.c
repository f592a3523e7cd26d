/* SPDX-License-Identifier: MIT */
/*
 * kernel.c - /dev/nbdN through the kernel's NBD interfaces: generic
 * netlink (the kernel owns the sockets: a stopped or restarted server is
 * survivable, which a root device needs), or the old ioctls for kernels
 * without it (shared/DESIGN.md says why a root should not use them).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/attach/attach.h"

#define NL_TIMEOUT_MS 10000

static void config_of(struct nbd_nl_config *cfg, const struct opts *o,
		      int index, uint64_t size, unsigned n)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->index = index;
	cfg->size = size;
	cfg->block_size = NBD_BLOCK;
	cfg->server_flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_READ_ONLY |
			    NBD_FLAG_SEND_FLUSH |
			    (n > 1 ? NBD_FLAG_CAN_MULTI_CONN : 0);
	cfg->timeout_s = (uint32_t)(opts_num(o, OPT_NBD_TIMEOUT) / 1000);
	cfg->dead_conn_timeout_s =
		(uint32_t)(opts_num(o, OPT_NBD_DEAD_TIMEOUT) / 1000);
}

/*
 * Linux's nbd (drivers/block/nbd.c, nbd_xmit_timeout and
 * nbd_set_cmd_timeout; measured on 6.1) keeps a configured timeout of 0
 * only as "no timeout" for one socket: the queue still gets the block
 * layer's 30 s, and at each expiry a device with several sockets marks
 * the request's socket dead and requeues the request, until no socket is
 * left and, dead_conn_timeout later, every request fails with EIO. With
 * one socket and no timeout the driver only logs "Possible stuck request"
 * and re-arms the timer: a read waits for as long as the server does. One
 * socket carries many requests at once (the server answers them out of
 * order, by handle), so little is lost.
 */
unsigned kernel_sockets(const struct opts *o, int use_ioctl)
{
	unsigned n = (unsigned)opts_num(o, OPT_NBD_SOCKETS);
	uint64_t timeout = opts_num(o, OPT_NBD_TIMEOUT);

	if (timeout && !opts_num(o, OPT_IO_TIMEOUT))
		log_warn("s3root.nbd_timeout=%s: the kernel fails reads that "
			 "wait longer (and s3root.nbd_dead_timeout more), "
			 "although s3.io_timeout=0 would wait for S3 for ever",
			 opts_str(o, OPT_NBD_TIMEOUT));
	if (use_ioctl)
		return 1;
	if (!timeout && n > 1) {
		log_info("one NBD socket, not s3root.nbd_sockets=%u: with "
			 "several, Linux times requests out after 30 s even "
			 "with s3root.nbd_timeout=0, and drops the device in "
			 "an outage",
			 n);
		n = 1;
	}
	return n;
}

/* Says what failed, in the kernel's words when it gave some. */
static int nl_fail(struct nbd_nl *nl, enum nbd_nl_op op, int r, char *err,
		   size_t errlen)
{
	snprintf(err, errlen, "%s%s%s", nbd_nl_strerror(op, r),
		 nl->err[0] ? ": " : "", nl->err);
	nbd_nl_close(nl);
	return r;
}

static int nl_open(struct nbd_nl *nl, char *err, size_t errlen)
{
	int r;

	memset(nl, 0, sizeof(*nl));
	r = nbd_nl_open(nl, NL_TIMEOUT_MS);
	if (r) {
		snprintf(err, errlen, "netlink: %s%s%s",
			 nbd_nl_strerror(NBD_NL_FAMILY, r),
			 nl->err[0] ? ": " : "", nl->err);
		return r;
	}
	return 0;
}

/* The ioctl interface's server loop: NBD_DO_IT blocks until detach. */
static void *do_it(void *arg)
{
	int fd = (int)(intptr_t)arg;

	nbd_ioctl_do_it(fd);
	close(fd);
	return NULL;
}

/* The first /dev/nbdN without a server (no /sys/block/nbdN/pid). */
static int free_index(void)
{
	char path[64];
	struct stat st;
	int i;

	for (i = 0; i < 1024; i++) {
		snprintf(path, sizeof(path), "/sys/block/nbd%d", i);
		if (stat(path, &st))
			return -1;
		snprintf(path, sizeof(path), "/sys/block/nbd%d/pid", i);
		if (stat(path, &st))
			return i;
	}
	return -1;
}

static int connect_ioctl(int index, int fd, const struct nbd_nl_config *cfg,
			 int *got, char *err, size_t errlen)
{
	char dev[32];
	pthread_t th;
	int devfd, tries;

	if (index < 0)
		index = free_index();
	if (index < 0) {
		snprintf(err, errlen, "no free /dev/nbdN (is nbd loaded?)");
		return -ENODEV;
	}
	snprintf(dev, sizeof(dev), "/dev/nbd%d", index);
	devfd = nbd_ioctl_attach(dev, fd, cfg);
	if (devfd < 0) {
		snprintf(err, errlen, "%s: %s", dev,
			 nbd_nl_strerror(NBD_NL_IOCTL, devfd));
		return devfd;
	}
	if (pthread_create(&th, NULL, do_it, (void *)(intptr_t)devfd)) {
		snprintf(err, errlen, "%s: cannot start its thread", dev);
		nbd_ioctl_detach(dev);
		close(devfd);
		return -EAGAIN;
	}
	pthread_detach(th);
	/* the device runs once NBD_DO_IT has started it: the kernel then
	 * shows the server's pid in sysfs */
	snprintf(dev, sizeof(dev), "/sys/block/nbd%d/pid", index);
	for (tries = 0; access(dev, F_OK) && tries < 100; tries++)
		usleep(50000);
	if (tries == 100) {
		snprintf(err, errlen, "/dev/nbd%d did not start", index);
		return -ETIMEDOUT;
	}
	*got = index;
	return 0;
}

/*
 * The block layer's side of the queue (Documentation/ABI/stable/
 * sysfs-block): read_ahead_kb, how far the page cache reads ahead of a
 * sequential reader (each of its reads is one request to us), and
 * max_sectors_kb, the largest request the kernel sends. 0 leaves the
 * kernel's (128 KiB each). A value the kernel refuses (max_sectors_kb
 * over max_hw_sectors_kb) is a warning: the device works without it.
 */
static void tune_queue(int index, const struct opts *o)
{
	static const struct {
		const char *file;
		enum opt_id opt;
	} knobs[] = {
		{"read_ahead_kb", OPT_READ_AHEAD_KB},
		{"max_sectors_kb", OPT_MAX_SECTORS_KB},
	};
	char path[64], val[24], was[24];
	uint64_t kb;
	ssize_t n;
	size_t i;
	int r, fd;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		kb = opts_num(o, knobs[i].opt);
		if (!kb)
			continue;
		snprintf(path, sizeof(path), "/sys/block/nbd%d/queue/%s", index,
			 knobs[i].file);
		snprintf(val, sizeof(val), "%llu\n", (unsigned long long)kb);
		fd = open(path, O_RDWR | O_CLOEXEC);
		r = fd < 0 ? -errno : 0;
		n = r ? -1 : pread(fd, was, sizeof(was) - 1, 0);
		was[n > 0 ? n - 1 : 0] = '\0'; /* without its newline */
		if (!r)
			r = util_write_full(fd, val, strlen(val));
		if (fd >= 0)
			close(fd);
		if (!r)
			log_debug("/dev/nbd%d: %s %s -> %llu", index,
				  knobs[i].file, was, (unsigned long long)kb);
		else
			log_warn("%s: cannot write %llu (%s); keeping the "
				 "kernel's value",
				 path, (unsigned long long)kb, strerror(-r));
	}
}

/* kernel_connect without the queue's settings. */
static int connect_any(int use_ioctl, int index, const int *fds, unsigned n,
		       uint64_t size, const struct opts *o, int *got, char *err,
		       size_t errlen)
{
	struct nbd_nl_config cfg;
	struct nbd_nl nl;
	int r;

	config_of(&cfg, o, index, size, n);
	if (use_ioctl)
		return connect_ioctl(index, fds[0], &cfg, got, err, errlen);
	r = nl_open(&nl, err, errlen);
	/* NBD devices but no "nbd" family: a kernel older than 4.12 */
	if (r == -ENOENT && !access("/sys/block/nbd0", F_OK)) {
		log_warn("the kernel has no netlink NBD: using the ioctl "
			 "interface (one socket; a root device should not)");
		config_of(&cfg, o, index, size, 1);
		return connect_ioctl(index, fds[0], &cfg, got, err, errlen);
	}
	if (r)
		return r;
	r = nbd_nl_connect(&nl, &cfg, fds, n);
	if (r < 0)
		return nl_fail(
			&nl, index < 0 ? NBD_NL_CONNECT : NBD_NL_CONNECT_INDEX,
			r, err, errlen);
	*got = r;
	nbd_nl_close(&nl);
	return 0;
}

int kernel_connect(int use_ioctl, int index, const int *fds, unsigned n,
		   uint64_t size, const struct opts *o, int *got, char *err,
		   size_t errlen)
{
	int r = connect_any(use_ioctl, index, fds, n, size, o, got, err,
			    errlen);

	if (!r)
		tune_queue(*got, o);
	return r;
}

int kernel_reconfigure(int index, const int *fds, unsigned n,
		       const struct opts *o, char *err, size_t errlen)
{
	struct nbd_nl_config cfg;
	struct nbd_nl nl;
	int r;

	config_of(&cfg, o, index, NBD_BLOCK, n);
	r = nl_open(&nl, err, errlen);
	if (r)
		return r;
	/* success does not say the sockets were taken: the kernel drops
	 * them when none of its own has died yet (the caller checks) */
	r = nbd_nl_reconfigure(&nl, &cfg, fds, n);
	if (r)
		return nl_fail(&nl, NBD_NL_RECONFIGURE, r, err, errlen);
	nbd_nl_close(&nl);
	return 0;
}

int kernel_disconnect(int use_ioctl, int index, char *err, size_t errlen)
{
	struct nbd_nl nl;
	char dev[32];
	int r;

	if (use_ioctl) {
		snprintf(dev, sizeof(dev), "/dev/nbd%d", index);
		r = nbd_ioctl_detach(dev);
		if (r)
			snprintf(err, errlen, "%s",
				 nbd_nl_strerror(NBD_NL_IOCTL, r));
		return r;
	}
	r = nl_open(&nl, err, errlen);
	if (r)
		return r;
	r = nbd_nl_disconnect(&nl, (uint32_t)index);
	if (r)
		return nl_fail(&nl, NBD_NL_DISCONNECT, r, err, errlen);
	nbd_nl_close(&nl);
	return 0;
}

int kernel_status(struct kdev_status *devs, size_t max, size_t *n, char *err,
		  size_t errlen)
{
	struct nbd_nl_dev d[256];
	struct nbd_nl nl;
	int r, i;

	r = nl_open(&nl, err, errlen);
	if (r)
		return r;
	r = nbd_nl_status(&nl, -1, d, 256);
	if (r < 0)
		return nl_fail(&nl, NBD_NL_STATUS, r, err, errlen);
	nbd_nl_close(&nl);
	*n = 0;
	for (i = 0; i < r && i < 256 && *n < max; i++) {
		devs[*n].index = (int)d[i].index;
		devs[(*n)++].connected = d[i].connected;
	}
	return 0;
}
