/* SPDX-License-Identifier: MIT */
/*
 * dhcp.c - DHCP messages (RFC 2131, options RFC 2132, classless routes
 * RFC 3442): the replies a server sends, read through a bounds-checked
 * walk (they are untrusted: anyone on the LAN can send one), whether a
 * lease can carry a root, and the lease as the running system reads it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "src/net/internal.h"

/* Option 121 (RFC 3442 section 3): width, the significant octets of the
 * destination, the router; appended to l's routes. 0 or -EBADMSG. */
static int parse_routes(const uint8_t *p, size_t len, struct dhcp_lease *l)
{
	struct net_route *r;
	size_t i = 0, octets;
	uint32_t dst;

	if (len < 5)
		return -EBADMSG;
	while (i < len) {
		if (p[i] > 32 || l->nroutes == NET_MAX_ROUTES)
			return -EBADMSG;
		octets = (p[i] + 7u) / 8;
		if (len - i < 1 + octets + 4)
			return -EBADMSG;
		r = &l->routes[l->nroutes++];
		r->len = p[i];
		dst = 0;
		memcpy(&dst, p + i + 1, octets);
		/* bits past the width are not the destination's */
		dst &= r->len ? htonl(0xffffffffu << (32 - r->len)) : 0;
		r->dst.s_addr = dst;
		memcpy(&r->gw, p + i + 1 + octets, 4);
		i += 1 + octets + 4;
	}
	l->has_routes = 1;
	return 0;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* One option of a reply into l. 0 or -EBADMSG. */
static int parse_option(uint8_t code, const uint8_t *v, uint8_t len,
			struct dhcp_lease *l)
{
	size_t i;

	switch (code) {
	case OPT_MSG_TYPE:
		if (len != 1)
			return -EBADMSG;
		l->type = v[0];
		break;
	case OPT_SUBNET:
	case OPT_SERVER_ID:
		if (len != 4)
			return -EBADMSG;
		memcpy(code == OPT_SUBNET ? &l->netmask : &l->server, v, 4);
		l->has_mask |= code == OPT_SUBNET;
		break;
	case OPT_ROUTER:
		if (len < 4 || len % 4)
			return -EBADMSG;
		memcpy(&l->router, v, 4); /* the first one */
		break;
	case OPT_DNS:
		if (len < 4 || len % 4)
			return -EBADMSG;
		memcpy(&l->dns[0], v, 4);
		if (len >= 8)
			memcpy(&l->dns[1], v + 4, 4);
		break;
	case OPT_LEASE:
	case OPT_T1:
	case OPT_T2:
		if (len != 4)
			return -EBADMSG;
		if (code == OPT_LEASE) {
			l->lease_s = get32(v);
			l->has_lease = 1;
		} else {
			*(code == OPT_T1 ? &l->t1_s : &l->t2_s) = get32(v);
		}
		break;
	case OPT_MESSAGE:
		/* for the log: printable ASCII only, cut to fit */
		for (i = 0; i < len && i < sizeof(l->message) - 1; i++)
			l->message[i] =
				v[i] >= 0x20 && v[i] < 0x7f ? (char)v[i] : '?';
		l->message[i] = '\0';
		break;
	case OPT_ROUTES:
		return parse_routes(v, len, l);
	}
	return 0;
}

int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid,
		     const uint8_t mac[6], struct dhcp_lease *l)
{
	size_t i;
	uint8_t code, len;
	int r;

	memset(l, 0, sizeof(*l));
	if (n < DHCP_FIXED + 4 || p[0] != BOOTREPLY || p[1] != 1 || p[2] != 6)
		return -EBADMSG;
	if (get32(p + 4) != xid || memcmp(p + 28, mac, 6))
		return -ESRCH; /* another client's answer */
	if (get32(p + DHCP_FIXED) != DHCP_MAGIC)
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
		r = parse_option(code, p + i, len, l);
		if (r)
			return r;
		i += len;
	}
	if (!l->type)
		return -EBADMSG; /* BOOTP, not DHCP */
	return 0;
}

static int in_subnet(struct in_addr a, struct in_addr b, struct in_addr mask)
{
	return !((a.s_addr ^ b.s_addr) & mask.s_addr);
}

/* Whether gw is reachable: on our subnet, or inside an on-link route. */
static int on_link(const struct dhcp_lease *l, struct in_addr gw)
{
	uint32_t mask;
	int i;

	if (in_subnet(gw, l->client, l->netmask))
		return 1;
	for (i = 0; i < l->nroutes; i++) {
		if (l->routes[i].gw.s_addr)
			continue;
		mask = l->routes[i].len
			       ? htonl(0xffffffffu << (32 - l->routes[i].len))
			       : 0;
		if (!((gw.s_addr ^ l->routes[i].dst.s_addr) & mask))
			return 1;
	}
	return 0;
}

/* The address class's mask (RFC 791), as the kernel's ipconfig does. */
static struct in_addr class_mask(struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);
	struct in_addr m;

	m.s_addr = htonl(h < 0x80000000u   ? 0xff000000u
			 : h < 0xc0000000u ? 0xffff0000u
					   : 0xffffff00u);
	return m;
}

int dhcp_lease_check(struct dhcp_lease *l, char *why, size_t whylen)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];
	uint32_t h = ntohl(l->client.s_addr), m;
	int i;

	inet_ntop(AF_INET, &l->client, a, sizeof(a));
	if (!h)
		return base_fail(why, whylen, "no address (yiaddr 0.0.0.0)");
	if (h >> 24 == 0 || h >> 24 == 127 || h >= 0xe0000000u)
		return base_fail(why, whylen,
				 "%s is not a host address (broadcast, "
				 "multicast or loopback)",
				 a);
	if (!l->server.s_addr)
		return base_fail(why, whylen,
				 "%s comes without a server identifier "
				 "(option 54)",
				 a);
	if (!l->has_lease)
		return base_fail(why, whylen,
				 "%s comes without a lease time (option 51)",
				 a);
	if (l->lease_s < DHCP_MIN_LEASE)
		return base_fail(why, whylen,
				 "a lease of %u s for %s (under %d s)",
				 l->lease_s, a, DHCP_MIN_LEASE);
	if (!l->has_mask) {
		l->netmask = class_mask(l->client);
		l->defaulted_mask = 1;
	}
	m = ntohl(l->netmask.s_addr);
	if (!m || (~m & (~m + 1)))
		return base_fail(why, whylen, "subnet mask %s for %s",
				 inet_ntop(AF_INET, &l->netmask, b, sizeof(b)),
				 a);
	/* the host part all ones or all zeros, on a subnet that has both */
	if (m < 0xfffffffeu && ((h & ~m) == ~m || !(h & ~m)))
		return base_fail(why, whylen,
				 "%s is its subnet's broadcast or network "
				 "address",
				 a);
	/* RFC 3442: with classless routes, the router option is ignored */
	if (!l->has_routes && l->router.s_addr &&
	    (!in_subnet(l->router, l->client, l->netmask) ||
	     l->router.s_addr == l->client.s_addr))
		return base_fail(
			why, whylen,
			"router %s is not on the subnet of %s/%d and no "
			"classless route (option 121) reaches it",
			inet_ntop(AF_INET, &l->router, b, sizeof(b)), a,
			__builtin_popcount(m));
	for (i = 0; i < l->nroutes; i++)
		if (l->routes[i].gw.s_addr && !on_link(l, l->routes[i].gw))
			return base_fail(
				why, whylen,
				"classless route via %s: not on the link of "
				"%s",
				inet_ntop(AF_INET, &l->routes[i].gw, b,
					  sizeof(b)),
				a);
	if (l->lease_s == DHCP_INFINITE) {
		l->t1_s = l->t2_s = DHCP_INFINITE;
	} else if (!l->t1_s || !l->t2_s || l->t1_s >= l->t2_s ||
		   l->t2_s >= l->lease_s) {
		/* RFC 2131 section 4.4.5's defaults */
		l->t1_s = l->lease_s / 2;
		l->t2_s = (uint32_t)((uint64_t)l->lease_s * 7 / 8);
	}
	return 0;
}

int dhcp_lease_format(char *buf, size_t len, const struct dhcp_lease *l,
		      const char *dev, const char *state, int64_t obtained)
{
	char a[5][INET_ADDRSTRLEN];
	const struct in_addr *addrs[5] = {&l->client, &l->netmask, &l->router,
					  &l->server, &l->dns[0]};
	int i, n;

	for (i = 0; i < 5; i++)
		inet_ntop(AF_INET, addrs[i], a[i], sizeof(a[i]));
	n = snprintf(buf, len,
		     "interface=%s\nstate=%s\naddress=%s\nmask=%s\n"
		     "prefix=%d\nrouter=%s\nserver=%s\ndns=%s",
		     dev, state, a[0], a[1],
		     __builtin_popcount(l->netmask.s_addr),
		     l->router.s_addr ? a[2] : "", a[3],
		     l->dns[0].s_addr ? a[4] : "");
	if (n >= 0 && (size_t)n < len && l->dns[1].s_addr)
		n += snprintf(
			buf + n, len - (size_t)n, " %s",
			inet_ntop(AF_INET, &l->dns[1], a[4], sizeof(a[4])));
	if (n >= 0 && (size_t)n < len)
		n += snprintf(buf + n, len - (size_t)n,
			      "\nlease=%u\nt1=%u\nt2=%u\nobtained=%lld\n"
			      "expires=%lld\n",
			      l->lease_s, l->t1_s, l->t2_s, (long long)obtained,
			      l->lease_s == DHCP_INFINITE
				      ? -1LL
				      : (long long)obtained + l->lease_s);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
