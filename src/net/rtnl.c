/* SPDX-License-Identifier: MIT */
/*
 * rtnl.c - the network of /init through rtnetlink (rtnetlink(7)): link
 * up, an IPv4 address, a default route. Each request asks for an
 * acknowledgement, and the kernel's error comes back as -errno.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include "src/net/net.h"

/* linux/netlink.h, linux/rtnetlink.h, linux/if_addr.h (musl has none) */
#ifndef AF_NETLINK
#define AF_NETLINK 16
#endif
#define NETLINK_ROUTE 0
#define NLM_F_REQUEST 0x01
#define NLM_F_ACK 0x04
#define NLM_F_REPLACE 0x100
#define NLM_F_CREATE 0x400
#define NLMSG_ERROR 0x2
#define RTM_NEWLINK 16
#define RTM_NEWADDR 20
#define RTM_NEWROUTE 24
#define IFA_ADDRESS 1
#define IFA_LOCAL 2
#define RTA_DST 1
#define RTA_GATEWAY 5
#define RTA_OIF 4
#define RT_TABLE_MAIN 254
#define RTPROT_BOOT 3
#define RT_SCOPE_UNIVERSE 0
#define RT_SCOPE_LINK 253
#define RTN_UNICAST 1

struct rtnl_msg {
	struct util_nlb b;
	uint8_t buf[256];
};

/* Starts a request (acknowledged) with its family header. */
static void start(struct rtnl_msg *m, uint16_t type, uint16_t flags,
		  uint32_t seq, const void *hdr, size_t hlen)
{
	util_nlb_init(&m->b, m->buf, sizeof(m->buf), type,
		      flags | NLM_F_REQUEST | NLM_F_ACK, seq, hdr, hlen);
}

/* Sends m (sequence number seq) and waits for the kernel's
 * acknowledgement: 0 or -errno. */
static int transact(int fd, struct rtnl_msg *m, uint32_t seq)
{
	int len = util_nlb_end(&m->b);
	uint8_t reply[512];
	uint32_t got_seq;
	int32_t error;
	uint16_t type;
	ssize_t n;

	if (len < 0)
		return len;
	if (send(fd, m->buf, (size_t)len, 0) < 0)
		return -errno;
	for (;;) {
		n = recv(fd, reply, sizeof(reply), 0);
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		/* nlmsghdr, then nlmsgerr's error: all we need */
		if (n < 20)
			return -EBADMSG;
		memcpy(&type, reply + 4, 2);
		memcpy(&got_seq, reply + 8, 4);
		if (got_seq != seq || type != NLMSG_ERROR)
			continue;
		memcpy(&error, reply + 16, 4);
		return error;
	}
}

static int link_up(int fd, int index, uint32_t seq)
{
	struct rtnl_msg m;
	uint8_t ifi[16] = {0}; /* family, pad, type, index, flags, change */
	uint32_t up = IFF_UP;

	memcpy(ifi + 4, &index, 4);
	memcpy(ifi + 8, &up, 4);
	memcpy(ifi + 12, &up, 4);
	start(&m, RTM_NEWLINK, 0, seq, ifi, sizeof(ifi));
	return transact(fd, &m, seq);
}

/* dst/len via gw on the device index (on the link when gw is 0.0.0.0). */
static int add_route(int fd, int index, struct in_addr dst, uint8_t len,
		     struct in_addr gw, uint32_t seq)
{
	uint8_t rtm[12] = {
		AF_INET,	   len,	       0, 0, RT_TABLE_MAIN, RTPROT_BOOT,
		RT_SCOPE_UNIVERSE, RTN_UNICAST};
	struct rtnl_msg m;

	if (!gw.s_addr)
		rtm[6] = RT_SCOPE_LINK;
	start(&m, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, seq, rtm,
	      sizeof(rtm));
	if (len)
		util_nlb_put(&m.b, RTA_DST, &dst, 4);
	if (gw.s_addr)
		util_nlb_put(&m.b, RTA_GATEWAY, &gw, 4);
	util_nlb_put(&m.b, RTA_OIF, &index, 4);
	return transact(fd, &m, seq);
}

static int prefix_len(struct in_addr mask)
{
	return __builtin_popcount(mask.s_addr);
}

int rtnl_configure(const struct ipconfig *ip, char *err, size_t errlen)
{
	struct timeval tv = {5, 0};
	const struct net_route *rt;
	struct rtnl_msg m;
	uint8_t ifa[8] = {AF_INET, 0, 0, RT_SCOPE_UNIVERSE};
	int fd, index, lo, r, pass, i;

	index = (int)if_nametoindex(ip->dev);
	lo = (int)if_nametoindex("lo");
	if (!index)
		return base_fail(err, errlen, "no network device %s", ip->dev);
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return base_fail(err, errlen, "rtnetlink: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	r = lo ? link_up(fd, lo, 1) : 0;
	if (!r)
		r = link_up(fd, index, 2);
	if (r) {
		base_fail(err, errlen, "bringing %s up: %s", ip->dev,
			  strerror(-r));
		goto out;
	}
	if (!ip->client.s_addr)
		goto out; /* the link alone (before DHCP) */
	ifa[1] = (uint8_t)prefix_len(ip->netmask);
	memcpy(ifa + 4, &index, 4);
	start(&m, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, 3, ifa,
	      sizeof(ifa));
	util_nlb_put(&m.b, IFA_LOCAL, &ip->client, 4);
	util_nlb_put(&m.b, IFA_ADDRESS, &ip->client, 4);
	r = transact(fd, &m, 3);
	if (r) {
		base_fail(err, errlen, "address on %s: %s", ip->dev,
			  strerror(-r));
		goto out;
	}
	/* on-link routes first: the others' gateways may need them */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; !r && i < ip->nroutes; i++) {
			rt = &ip->routes[i];
			if (!rt->gw.s_addr != !pass)
				continue;
			r = add_route(
				fd, index, rt->dst, rt->len, rt->gw,
				(uint32_t)(5 + i + pass * NET_MAX_ROUTES));
			if (r)
				base_fail(err, errlen, "route %s/%u: %s",
					  inet_ntoa(rt->dst), rt->len,
					  strerror(-r));
		}
	if (!r && ip->gateway.s_addr) {
		r = add_route(fd, index, (struct in_addr){0}, 0, ip->gateway,
			      4);
		if (r)
			base_fail(err, errlen, "default route via %s: %s",
				  inet_ntoa(ip->gateway), strerror(-r));
	}
out:
	close(fd);
	return r ? -EIO : 0;
}
