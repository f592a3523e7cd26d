/* SPDX-License-Identifier: MIT */
/*
 * ipconfig.c - the kernel's ip= syntax (Documentation/admin-guide/nfs/
 * nfsroot.rst): ip=CLIENT:SERVER:GATEWAY:NETMASK:HOSTNAME:DEVICE:AUTOCONF:
 * DNS0:DNS1:NTP0, or ip=dhcp (also on, any, both, bootp), or ip=off;
 * fields may be empty (no netmask: the address class's). Bounded and
 * strict: what is not understood is an error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "src/net/net.h"

/* An IPv4 dotted quad, or the empty field. 0, 1 when empty, -EINVAL. */
static int parse_addr(const char *s, size_t n, struct in_addr *a)
{
	char buf[16];

	if (!n)
		return 1;
	if (n >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return inet_pton(AF_INET, buf, a) == 1 ? 0 : -EINVAL;
}

static int autoconf_is_dhcp(const char *s, size_t n)
{
	static const char *const dhcp[] = {"dhcp", "on", "any", "both",
					   "bootp"};
	size_t i;

	for (i = 0; i < sizeof(dhcp) / sizeof(dhcp[0]); i++)
		if (strlen(dhcp[i]) == n && !strncmp(s, dhcp[i], n))
			return 1;
	return 0;
}

int ipconfig_parse(const char *s, struct ipconfig *ip, char *err, size_t errlen)
{
	const char *f[10], *p = s, *colon;
	size_t fn[10], i, nf = 0;
	struct in_addr dummy;
	int r = 0;

	memset(ip, 0, sizeof(*ip));
	if (strlen(s) > 256)
		return base_fail(err, errlen, "ip=: too long");
	if (autoconf_is_dhcp(s, strlen(s))) {
		ip->dhcp = 1;
		return 0;
	}
	if (!strcmp(s, "off") || !strcmp(s, "none")) {
		ip->off = 1;
		return 0;
	}
	for (;;) {
		colon = strchr(p, ':');
		if (nf == 10)
			return base_fail(err, errlen,
					 "ip=: more than 10 fields");
		f[nf] = p;
		fn[nf++] = colon ? (size_t)(colon - p) : strlen(p);
		if (!colon)
			break;
		p = colon + 1;
	}
	for (i = nf; i < 10; i++) {
		f[i] = "";
		fn[i] = 0;
	}
	if (parse_addr(f[0], fn[0], &ip->client) < 0 ||
	    parse_addr(f[1], fn[1], &dummy) < 0 ||
	    parse_addr(f[2], fn[2], &ip->gateway) < 0 ||
	    parse_addr(f[3], fn[3], &ip->netmask) < 0 ||
	    parse_addr(f[7], fn[7], &ip->dns[0]) < 0 ||
	    parse_addr(f[8], fn[8], &ip->dns[1]) < 0 ||
	    parse_addr(f[9], fn[9], &dummy) < 0)
		return base_fail(err, errlen, "ip=%.64s: a bad address", s);
	if (fn[4] >= sizeof(ip->hostname) || fn[5] >= sizeof(ip->dev))
		return base_fail(err, errlen,
				 "ip=%.64s: hostname or device too "
				 "long",
				 s);
	memcpy(ip->hostname, f[4], fn[4]);
	memcpy(ip->dev, f[5], fn[5]);
	if (strpbrk(ip->dev, "/ ") || strpbrk(ip->hostname, "/ "))
		return base_fail(err, errlen,
				 "ip=%.64s: bad device or hostname", s);
	if (autoconf_is_dhcp(f[6], fn[6]) || (!fn[0] && !fn[6])) {
		ip->dhcp = 1;
	} else if (fn[6] && !(fn[6] == 3 && !strncmp(f[6], "off", 3)) &&
		   !(fn[6] == 4 && !strncmp(f[6], "none", 4))) {
		r = base_fail(err, errlen, "ip=: unknown autoconf '%.*s'",
			      (int)fn[6], f[6]);
	} else if (!fn[0]) {
		r = base_fail(err, errlen,
			      "ip=: a static setup needs an address");
	}
	if (!r && !ip->dhcp && !fn[3]) {
		/* the class default, as the kernel does: /8, /16 or /24 */
		uint32_t a = ntohl(ip->client.s_addr);

		ip->netmask.s_addr = htonl(a < 0x80000000u   ? 0xff000000u
					   : a < 0xc0000000u ? 0xffff0000u
							     : 0xffffff00u);
	}
	return r;
}
