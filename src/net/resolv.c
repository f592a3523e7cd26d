/* SPDX-License-Identifier: MIT */
/* resolv.c - the resolver's configuration file (resolv.conf(5)). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <unistd.h>
#include "src/net/net.h"

int net_resolv_write(const char *path, const struct in_addr *dns, int ndns,
		     const char (*extra)[64], int nextra)
{
	char tmp[300], addr[INET_ADDRSTRLEN];
	FILE *f;
	int i, r = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	f = fopen(tmp, "w");
	if (!f)
		return -errno;
	for (i = 0; i < ndns; i++)
		if (dns[i].s_addr &&
		    inet_ntop(AF_INET, &dns[i], addr, sizeof(addr)))
			fprintf(f, "nameserver %s\n", addr);
	for (i = 0; i < nextra; i++)
		fprintf(f, "nameserver %s\n", extra[i]);
	if (fclose(f))
		r = -errno;
	/* readers (every lookup reads it) see the old file or the new one */
	if (!r && rename(tmp, path))
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}
