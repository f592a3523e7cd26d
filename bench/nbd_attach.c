/* SPDX-License-Identifier: MIT */
/*
 * nbd_attach.c - the kernel's NBD client on a TCP export, for the boot
 * bench (bench/boot.sh): its local floor and nbdkit's curl plugin boot a
 * guest whose /init runs
 *
 *   nbd_attach HOST PORT
 *
 * It connects to HOST:PORT, does the fixed newstyle handshake for the
 * default export (NBD_OPT_EXPORT_NAME ""), hands the socket to the kernel
 * through netlink (s3root's nbd/ library) and prints the device
 * (/dev/nbdN). The kernel then talks to the server itself: no process
 * stays in the data path, as with a disk. Static (musl), like s3root.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "nbd/nbd.h"

#define NBD_MAGIC 0x4e42444d41474943ULL /* "NBDMAGIC" */
#define NBD_IHAVEOPT 0x49484156454f5054ULL
#define NBD_FLAG_FIXED_NEWSTYLE (1 << 0)
#define NBD_FLAG_NO_ZEROES (1 << 1)
#define NBD_OPT_EXPORT_NAME 1

static uint64_t get_be(const uint8_t *p, int n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | *p++;
	return v;
}

static void put_be(uint8_t *p, uint64_t v, int n)
{
	while (n--) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* Reads exactly len bytes; 0 or -errno (-EPIPE: the server hung up). */
static int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t r;

	while (len) {
		r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -EPIPE;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t w;

	while (len) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return w ? -errno : -EPIPE;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* A TCP connection to host:port (an IPv4 address); fd or -errno. */
static int dial(const char *host, const char *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	int fd, one = 1;
	char *end;
	long p = strtol(port, &end, 10);

	if (*end || p < 1 || p > 65535 ||
	    inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -EINVAL;
	sa.sin_port = htons((uint16_t)p);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		one = -errno;
		close(fd);
		return one;
	}
	return fd;
}

/* The fixed newstyle handshake for the default export; sets the export's
 * size and transmission flags. 0, -EPROTO for a server that is not one,
 * or -errno. */
static int handshake(int fd, uint64_t *size, uint16_t *flags)
{
	uint8_t hello[18], opt[16], reply[134];
	uint16_t sflags;
	int err;

	err = read_all(fd, hello, sizeof(hello));
	if (err)
		return err;
	sflags = (uint16_t)get_be(hello + 16, 2);
	if (get_be(hello, 8) != NBD_MAGIC ||
	    get_be(hello + 8, 8) != NBD_IHAVEOPT ||
	    !(sflags & NBD_FLAG_FIXED_NEWSTYLE))
		return -EPROTO;
	put_be(opt, sflags & (NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES), 4);
	err = write_all(fd, opt, 4);
	if (err)
		return err;
	put_be(opt, NBD_IHAVEOPT, 8);
	put_be(opt + 8, NBD_OPT_EXPORT_NAME, 4);
	put_be(opt + 12, 0, 4); /* the name's length: the default export */
	err = write_all(fd, opt, sizeof(opt));
	if (err)
		return err;
	err = read_all(fd, reply,
		       sflags & NBD_FLAG_NO_ZEROES ? 10 : sizeof(reply));
	if (err)
		return err;
	*size = get_be(reply, 8);
	*flags = (uint16_t)get_be(reply + 8, 2);
	return 0;
}

int main(int argc, char **argv)
{
	struct nbd_nl nl;
	struct nbd_nl_config cfg = {.index = -1};
	uint16_t flags = 0;
	int fd, err, index;

	if (argc != 3) {
		fprintf(stderr, "usage: nbd_attach HOST PORT\n");
		return 2;
	}
	fd = dial(argv[1], argv[2]);
	if (fd < 0) {
		fprintf(stderr, "nbd_attach: %s:%s: %s\n", argv[1], argv[2],
			strerror(-fd));
		return 1;
	}
	err = handshake(fd, &cfg.size, &flags);
	if (err) {
		fprintf(stderr, "nbd_attach: handshake with %s:%s: %s\n",
			argv[1], argv[2], strerror(-err));
		goto out;
	}
	cfg.block_size = cfg.size % 4096 ? 512 : 4096;
	cfg.server_flags = flags & ~NBD_FLAG_CAN_MULTI_CONN;
	err = nbd_nl_open(&nl, 5000);
	if (err) {
		fprintf(stderr, "nbd_attach: netlink: %s\n",
			nbd_nl_strerror(NBD_NL_FAMILY, err));
		goto out;
	}
	index = nbd_nl_connect(&nl, &cfg, &fd, 1);
	nbd_nl_close(&nl);
	if (index < 0) {
		err = index;
		fprintf(stderr, "nbd_attach: connect: %s\n",
			nbd_nl_strerror(NBD_NL_CONNECT, err));
		goto out;
	}
	printf("/dev/nbd%d\n", index);
out:
	close(fd);
	return err ? 1 : 0;
}
