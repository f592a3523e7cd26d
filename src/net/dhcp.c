/* SPDX-License-Identifier: MIT */
/*
 * dhcp.c - a small DHCP client for /init (RFC 2131, options RFC 2132):
 * DISCOVER, OFFER, REQUEST, ACK with retries and timeouts, over a UDP
 * socket bound to the interface (broadcast flag set, so the answers come
 * broadcast before we have an address). Replies are untrusted: every
 * option is read through a bounds-checked walk.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include "src/net/net.h"

#define DHCP_FIXED 236 /* op .. file */
#define DHCP_MAGIC 0x63825363u
#define BOOTREQUEST 1
#define BOOTREPLY 2

enum {
	OPT_PAD = 0,
	OPT_SUBNET = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE = 51,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_END = 255,
};

enum {
	DHCPDISCOVER = 1,
	DHCPOFFER,
	DHCPREQUEST,
	DHCPDECLINE,
	DHCPACK,
	DHCPNAK
};

int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid,
		     const uint8_t mac[6], struct dhcp_lease *l)
{
	size_t i;
	uint32_t magic, x;
	uint8_t code, len;

	memset(l, 0, sizeof(*l));
	if (n < DHCP_FIXED + 4 || p[0] != BOOTREPLY || p[1] != 1 || p[2] != 6)
		return -EBADMSG;
	memcpy(&x, p + 4, 4);
	if (ntohl(x) != xid || memcmp(p + 28, mac, 6))
		return -ESRCH; /* another client's answer */
	memcpy(&magic, p + DHCP_FIXED, 4);
	if (ntohl(magic) != DHCP_MAGIC)
		return -EBADMSG;
	memcpy(&l->client, p + 16, 4); /* yiaddr */
	for (i = DHCP_FIXED + 4; i < n;) {
		code = p[i++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		if (i >= n)
			return -EBADMSG;
		len = p[i++];
		if (len > n - i)
			return -EBADMSG;
		switch (code) {
		case OPT_MSG_TYPE:
			if (len != 1)
				return -EBADMSG;
			l->type = p[i];
			break;
		case OPT_SUBNET:
		case OPT_SERVER_ID:
			if (len != 4)
				return -EBADMSG;
			memcpy(code == OPT_SUBNET ? &l->netmask : &l->server,
			       p + i, 4);
			break;
		case OPT_ROUTER:
			if (len < 4 || len % 4)
				return -EBADMSG;
			memcpy(&l->router, p + i, 4); /* the first one */
			break;
		case OPT_DNS:
			if (len < 4 || len % 4)
				return -EBADMSG;
			memcpy(&l->dns[0], p + i, 4);
			if (len >= 8)
				memcpy(&l->dns[1], p + i + 4, 4);
			break;
		case OPT_LEASE:
			if (len != 4)
				return -EBADMSG;
			memcpy(&x, p + i, 4);
			l->lease_s = ntohl(x);
			break;
		}
		i += len;
	}
	if (!l->type)
		return -EBADMSG; /* BOOTP, not DHCP */
	return 0;
}

/* A DISCOVER, or a REQUEST for what an offer gave. Returns the length. */
static size_t build(uint8_t *p, int type, uint32_t xid, uint16_t secs,
		    const uint8_t mac[6], const struct dhcp_lease *offer)
{
	static const uint8_t params[] = {OPT_SUBNET, OPT_ROUTER, OPT_DNS,
					 OPT_LEASE, OPT_SERVER_ID};
	uint32_t v;
	size_t i = DHCP_FIXED;

	memset(p, 0, 548);
	p[0] = BOOTREQUEST;
	p[1] = 1; /* Ethernet */
	p[2] = 6;
	v = htonl(xid);
	memcpy(p + 4, &v, 4);
	p[8] = (uint8_t)(secs >> 8);
	p[9] = (uint8_t)secs;
	p[10] = 0x80; /* broadcast: we cannot take unicast yet */
	memcpy(p + 28, mac, 6);
	v = htonl(DHCP_MAGIC);
	memcpy(p + i, &v, 4);
	i += 4;
	p[i++] = OPT_MSG_TYPE;
	p[i++] = 1;
	p[i++] = (uint8_t)type;
	if (type == DHCPREQUEST) {
		p[i++] = OPT_REQUESTED_IP;
		p[i++] = 4;
		memcpy(p + i, &offer->client, 4);
		i += 4;
		p[i++] = OPT_SERVER_ID;
		p[i++] = 4;
		memcpy(p + i, &offer->server, 4);
		i += 4;
	}
	p[i++] = OPT_PARAMS;
	p[i++] = sizeof(params);
	memcpy(p + i, params, sizeof(params));
	i += sizeof(params);
	p[i++] = OPT_END;
	return i < 300 ? 300 : i; /* some servers want BOOTP's minimum */
}

/* Sends and waits for a reply of a wanted type, with retries. */
static int exchange(int fd, int type, uint32_t xid, const uint8_t mac[6],
		    const struct dhcp_lease *offer, int want,
		    struct dhcp_lease *got, int64_t start)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(67),
				 .sin_addr.s_addr = INADDR_BROADCAST};
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	uint8_t out[548], in[1500];
	int64_t deadline;
	size_t len;
	ssize_t n;
	int tries, wait_ms = 1000;

	for (tries = 0; tries < 6; tries++, wait_ms *= 2) {
		len = build(out, type, xid,
			    (uint16_t)((util_mono_ms() - start) / 1000), mac,
			    offer);
		if (sendto(fd, out, len, 0, (struct sockaddr *)&to,
			   sizeof(to)) < 0)
			return -errno;
		deadline = util_mono_ms() + (wait_ms > 8000 ? 8000 : wait_ms);
		while (util_mono_ms() < deadline) {
			if (poll(&pf, 1, (int)(deadline - util_mono_ms())) <= 0)
				continue;
			n = recv(fd, in, sizeof(in), 0);
			if (n <= 0 ||
			    dhcp_parse_reply(in, (size_t)n, xid, mac, got))
				continue;
			if (got->type == want || got->type == DHCPNAK)
				return got->type == DHCPNAK ? -ECONNREFUSED : 0;
		}
	}
	return -ETIMEDOUT;
}

int dhcp_configure(struct ipconfig *ip, char *err, size_t errlen)
{
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons(68)};
	struct dhcp_lease offer, ack;
	struct ipconfig up = *ip;
	struct ifreq ifr;
	uint8_t mac[6];
	uint32_t xid;
	int fd, one = 1, r, round;
	int64_t start = util_mono_ms();

	/* the link must be up for anything to be sent */
	up.client.s_addr = 0;
	r = rtnl_configure(&up, err, errlen);
	if (r)
		return r;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return base_fail(err, errlen, "DHCP socket: %s",
				 strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ip->dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ip->dev,
		       (socklen_t)strlen(ip->dev)) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me))) {
		r = base_fail(err, errlen, "DHCP on %s: %s", ip->dev,
			      strerror(errno));
		goto out;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	memcpy(&xid, mac + 2, 4);
	xid ^= (uint32_t)start * 2654435761u;
	for (round = 0; round < 3; round++, xid++) {
		r = exchange(fd, DHCPDISCOVER, xid, mac, NULL, DHCPOFFER,
			     &offer, start);
		if (!r)
			r = exchange(fd, DHCPREQUEST, xid, mac, &offer, DHCPACK,
				     &ack, start);
		if (r != -ECONNREFUSED) /* a NAK: start over */
			break;
	}
	if (r) {
		r = base_fail(err, errlen, "DHCP on %s: %s", ip->dev,
			      r == -ETIMEDOUT ? "no answer from a server"
					      : strerror(-r));
		goto out;
	}
	ip->client = ack.client;
	ip->netmask = ack.netmask.s_addr ? ack.netmask : offer.netmask;
	ip->gateway = ack.router.s_addr ? ack.router : offer.router;
	if (!ip->dns[0].s_addr) {
		ip->dns[0] = ack.dns[0];
		ip->dns[1] = ack.dns[1];
	}
	ip->lease_s = ack.lease_s;
	ip->dhcp = 0;
	r = 0;
out:
	close(fd);
	return r;
}
