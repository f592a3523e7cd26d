/* SPDX-License-Identifier: MIT */
/* resolv.c - the resolver's configuration file (resolv.conf(5)). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include "src/net/net.h"

int net_is_address(const char *s)
{
	struct in6_addr a6;
	struct in_addr a4;

	return inet_pton(AF_INET, s, &a4) == 1 ||
	       inet_pton(AF_INET6, s, &a6) == 1;
}

int net_resolv_write(const char *path, const struct in_addr *dns, int ndns,
		     const char (*extra)[64], int nextra)
{
	return net_resolv_writeat(AT_FDCWD, path, dns, ndns, extra, nextra);
}

int net_resolv_writeat(int dirfd, const char *path, const struct in_addr *dns,
		       int ndns, const char (*extra)[64], int nextra)
{
	char tmp[300], addr[INET_ADDRSTRLEN];
	FILE *f;
	int fd, i, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		r = -errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	for (i = 0; i < ndns; i++)
		if (dns[i].s_addr &&
		    inet_ntop(AF_INET, &dns[i], addr, sizeof(addr)))
			fprintf(f, "nameserver %s\n", addr);
	for (i = 0; i < nextra; i++)
		if (net_is_address(extra[i]))
			fprintf(f, "nameserver %s\n", extra[i]);
	if (fclose(f))
		r = -errno;
	/* readers (every lookup reads it) see the old file or the new one */
	if (!r && renameat(dirfd, tmp, dirfd, path))
		r = -errno;
	if (r)
		unlinkat(dirfd, tmp, 0);
	return r;
}
