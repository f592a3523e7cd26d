/* SPDX-License-Identifier: MIT */
/*
 * dhcp_run.c - the DHCP client on an interface: a UDP socket on port 68
 * bound to the device, the monotonic clock, and the state machine of
 * dhcp_client.c driven by both; /init's lease (dhcp_configure).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include "src/net/internal.h"

int dhcp_socket(const char *dev, uint8_t mac[6])
{
	struct sockaddr_in me = {.sin_family = AF_INET,
				 .sin_port = htons(DHCP_CLIENT_PORT)};
	struct ifreq ifr;
	int fd, one = 1, r = 0;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", dev);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) ||
	    setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, dev,
		       (socklen_t)strlen(dev)) ||
	    bind(fd, (struct sockaddr *)&me, sizeof(me)))
		r = -errno;
	if (r) {
		close(fd);
		return r;
	}
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return fd;
}

int dhcp_run(struct dhcp_client *c, int fd, unsigned stop, int64_t until,
	     void (*on_event)(void *arg, struct dhcp_client *c,
			      enum dhcp_event ev),
	     void *arg)
{
	struct sockaddr_in to = {.sin_family = AF_INET,
				 .sin_port = htons(DHCP_SERVER_PORT)};
	struct pollfd pf = {.fd = fd, .events = POLLIN};
	enum dhcp_event ev;
	uint8_t in[1500];
	int64_t now, wait;
	ssize_t n;

	for (;;) {
		now = util_mono_ms();
		if (until >= 0 && now >= until)
			return -ETIMEDOUT;
		ev = dhcp_client_tick(c, now);
		if (ev == DHCP_EV_SEND) {
			to.sin_addr = c->out_to;
			/* a lost datagram is what retransmissions are for */
			sendto(fd, c->out, c->out_len, 0,
			       (struct sockaddr *)&to, sizeof(to));
		} else if (ev != DHCP_EV_NONE) {
			if (on_event)
				on_event(arg, c, ev);
			if (stop & (1u << ev))
				return ev;
			continue;
		}
		wait = c->next_ms - now;
		if (until >= 0 && until - now < wait)
			wait = until - now;
		if (wait > 60000)
			wait = 60000; /* the clock is read again at least */
		if (wait < 0)
			wait = 0;
		if (poll(&pf, 1, (int)wait) <= 0)
			continue;
		n = recv(fd, in, sizeof(in), 0);
		if (n <= 0)
			continue;
		ev = dhcp_client_input(c, util_mono_ms(), in, (size_t)n);
		if (ev == DHCP_EV_NONE)
			continue;
		if (on_event)
			on_event(arg, c, ev);
		if (stop & (1u << ev))
			return ev;
	}
}

/* /init's log of what the client refused on the way to a lease. */
static void boot_event(void *arg, struct dhcp_client *c, enum dhcp_event ev)
{
	const char *dev = arg;

	if (ev == DHCP_EV_REFUSED)
		log_warn("DHCP on %s: refusing %s; asking again", dev, c->why);
	else if (ev == DHCP_EV_NAK)
		log_warn("DHCP on %s: %s; starting over", dev, c->why);
}

int dhcp_configure(struct ipconfig *ip, struct dhcp_client *c,
		   int64_t timeout_ms, int *fdp, char *err, size_t errlen)
{
	int64_t start = util_mono_ms();
	struct ipconfig up = *ip;
	uint32_t seed;
	uint8_t mac[6];
	int fd, r, i;

	/* the link must be up for anything to be sent */
	up.client.s_addr = 0;
	r = rtnl_configure(&up, err, errlen);
	if (r)
		return r;
	fd = dhcp_socket(ip->dev, mac);
	if (fd < 0)
		return base_fail(err, errlen, "DHCP on %s: %s", ip->dev,
				 strerror(-fd));
	memcpy(&seed, mac + 2, 4);
	seed ^= (uint32_t)util_mono_us() * 2654435761u;
	dhcp_client_init(c, mac, seed, start);
	r = dhcp_run(c, fd, 1u << DHCP_EV_BOUND, start + timeout_ms, boot_event,
		     ip->dev);
	if (r < 0) {
		close(fd);
		return base_fail(err, errlen,
				 "DHCP on %s: no usable lease from a server "
				 "in %lld s",
				 ip->dev, (long long)(timeout_ms / 1000));
	}
	if (fdp)
		*fdp = fd;
	else
		close(fd);
	ip->client = c->lease.client;
	ip->netmask = c->lease.netmask;
	ip->gateway =
		c->lease.has_routes ? (struct in_addr){0} : c->lease.router;
	for (i = 0; i < c->lease.nroutes; i++)
		ip->routes[i] = c->lease.routes[i];
	ip->nroutes = c->lease.nroutes;
	if (!ip->dns[0].s_addr) {
		ip->dns[0] = c->lease.dns[0];
		ip->dns[1] = c->lease.dns[1];
	}
	ip->lease_s = c->lease.lease_s;
	ip->dhcp = 0;
	return 0;
}
