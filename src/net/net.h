/* SPDX-License-Identifier: MIT */
/*
 * net.h - the network of /init: the kernel's ip= syntax, a DHCP client
 * (RFC 2131, options RFC 2132) and the rtnetlink calls that configure a
 * link, the resolver's file. Exports: ipconfig_*, dhcp_*, rtnl_*, net_*.
 */
#ifndef S3ROOT_NET_H
#define S3ROOT_NET_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include "src/base/base.h"

struct ipconfig {
	int dhcp; /* ask a DHCP server (the default without an address) */
	int off;  /* no network setup */
	struct in_addr client, netmask, gateway, dns[2];
	char hostname[65];
	char dev[16];	  /* "" = the first interface that is not loopback */
	uint32_t lease_s; /* from DHCP */
};

/* What a DHCP server answered (dhcp.c). */
struct dhcp_lease {
	int type; /* DHCPOFFER 2, DHCPACK 5, DHCPNAK 6 */
	struct in_addr client, netmask, router, server, dns[2];
	uint32_t lease_s;
};

/*
 * Reads a DHCP reply (RFC 2131 section 2, options RFC 2132) for our
 * transaction xid and hardware address. 0, -ESRCH (not ours), -EBADMSG.
 */
int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid,
		     const uint8_t mac[6], struct dhcp_lease *l);
/* Brings ip->dev up and leases an address for it into ip. 0 or -errno. */
int dhcp_configure(struct ipconfig *ip, char *err, size_t errlen);

/* Parses the value of ip= (the kernel's syntax). 0 or -EINVAL. */
int ipconfig_parse(const char *s, struct ipconfig *ip, char *err,
		   size_t errlen);

/*
 * Brings up lo and ip->dev, then (when ip->client is set) gives ip->dev
 * ip's address and prefix and, with ip->gateway, the default route.
 * Returns 0, -EINVAL (no such device, no rtnetlink socket) or -EIO (the
 * kernel refused a step), with what failed in err.
 */
int rtnl_configure(const struct ipconfig *ip, char *err, size_t errlen);

/*
 * Writes a resolv.conf naming the DNS servers dns[0..ndns) (0.0.0.0
 * skipped) then extra[0..nextra) (addresses as text, as given), through
 * a temporary file renamed over path: a reader sees the old file or the
 * new one. 0 or -errno.
 */
int net_resolv_write(const char *path, const struct in_addr *dns, int ndns,
		     const char (*extra)[64], int nextra);

#endif
