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

/* A route a DHCP server gave (classless static routes, RFC 3442):
 * dst/len via gw, or on the link when gw is 0.0.0.0. */
struct net_route {
	struct in_addr dst, gw;
	uint8_t len;
};

#define NET_MAX_ROUTES 8

struct ipconfig {
	int dhcp; /* ask a DHCP server (the default without an address) */
	int off;  /* no network setup */
	struct in_addr client, netmask, gateway, dns[2];
	char hostname[65];
	char dev[16];	  /* "" = the first interface that is not loopback */
	uint32_t lease_s; /* from DHCP */
	struct net_route routes[NET_MAX_ROUTES]; /* from DHCP (option 121) */
	int nroutes;
};

/* ---- DHCP messages (dhcp.c) ---- */

/* What a DHCP server answered. Times in seconds; 0 when not sent. */
struct dhcp_lease {
	int type; /* DHCPOFFER 2, DHCPACK 5, DHCPNAK 6 */
	struct in_addr client, netmask, router, server, dns[2];
	uint32_t lease_s, t1_s, t2_s;
	int has_lease, has_mask, defaulted_mask;
	struct net_route routes[NET_MAX_ROUTES]; /* option 121 */
	int nroutes, has_routes;
	char message[64]; /* option 56 (a NAK's reason), printable only */
};

#define DHCP_MIN_LEASE 10 /* seconds: shorter leases are refused */
#define DHCP_INFINITE 0xffffffffu

/*
 * Reads a DHCP reply (RFC 2131 section 2, options RFC 2132, classless
 * routes RFC 3442) for our transaction xid and hardware address; keeps at
 * most NET_MAX_ROUTES routes (more is -EBADMSG). 0, -ESRCH (not ours),
 * -EBADMSG.
 */
int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid,
		     const uint8_t mac[6], struct dhcp_lease *l);
/*
 * Whether an offer or an acknowledgement can carry a root for months, and
 * its missing parts filled in: no subnet mask gets the address class's
 * (as the kernel's ipconfig does, defaulted_mask set), no T1/T2 (or ones
 * out of order) get 0.5 and 0.875 of the lease (RFC 2131 section 4.4.5).
 * Refused, -EINVAL with why: no address, a broadcast, network, multicast
 * or loopback address, no server identifier, no lease or one under
 * DHCP_MIN_LEASE s, a bad mask, a router outside the subnet without
 * classless routes (option 121), a route whose gateway is not on the link.
 */
int dhcp_lease_check(struct dhcp_lease *l, char *why, size_t whylen);
/*
 * The lease as /run/s3root/lease's key=value lines (address, mask, router,
 * dns, server, lease, t1, t2, obtained, expires, state, interface) into
 * buf. obtained is a wall clock time (seconds since the epoch). The length
 * or -ENOSPC.
 */
int dhcp_lease_format(char *buf, size_t len, const struct dhcp_lease *l,
		      const char *dev, const char *state, int64_t obtained);

/* ---- the DHCP client (dhcp_client.c): RFC 2131 section 4.4 ---- */

enum dhcp_state {
	DHCP_INIT,
	DHCP_SELECTING,
	DHCP_REQUESTING,
	DHCP_BOUND,
	DHCP_RENEWING,
	DHCP_REBINDING,
};

/* What a step of the client asks of its caller. */
enum dhcp_event {
	DHCP_EV_NONE,
	DHCP_EV_SEND,	 /* send out[0..out_len) to out_to, port 67 */
	DHCP_EV_BOUND,	 /* a lease from INIT (the first, or after a loss) */
	DHCP_EV_RENEWED, /* the lease extended, from RENEWING or REBINDING */
	DHCP_EV_REFUSED, /* an answer refused (unusable, another address):
			    why says why; the client carries on */
	DHCP_EV_NAK,	 /* the server said no (DHCPNAK): back to INIT */
	DHCP_EV_EXPIRED, /* the lease ran out with no answer: back to INIT */
};

#define DHCP_MSG_MAX 548

/*
 * The client's whole state. There is no I/O and no clock inside: the
 * caller passes the time (monotonic milliseconds) and the datagrams that
 * arrive, and sends what the client asks it to. The retransmissions of
 * RFC 2131 section 4.1 (4 s, doubled up to 64 s, each +-1 s at random)
 * in SELECTING and REQUESTING (a request unanswered for 60 s: INIT); in
 * RENEWING and REBINDING half the time left to T2 or to the expiry, at least 60
 * s (section 4.4.5).
 */
struct dhcp_client {
	enum dhcp_state state;
	uint8_t mac[6];
	uint32_t rand;	     /* xorshift32 state, from the caller's seed */
	struct in_addr keep; /* with keep set, an offer of another address is
				refused (the root runs on keep) */
	uint32_t xid;
	int64_t start_ms; /* when this exchange began ('secs') */
	int64_t sent_ms;  /* when the pending request was first sent */
	int64_t next_ms;  /* when dhcp_client_tick has work */
	int64_t rto_ms;	  /* the retransmission delay before randomizing */
	int tries;	  /* requests sent in REQUESTING */
	int64_t bound_ms; /* the lease counts from here (the request's) */
	int64_t t1_ms, t2_ms, expire_ms;
	struct dhcp_lease offer, lease;
	uint8_t out[DHCP_MSG_MAX];
	size_t out_len;
	struct in_addr out_to; /* 255.255.255.255 or the server */
	char why[200];
};

/* A client in INIT for the interface with hardware address mac; seed
 * varies its transaction ids and delays. Its first tick (at now) sends. */
void dhcp_client_init(struct dhcp_client *c, const uint8_t mac[6],
		      uint32_t seed, int64_t now);
/* The timers at now: DHCP_EV_SEND, DHCP_EV_EXPIRED or DHCP_EV_NONE. */
enum dhcp_event dhcp_client_tick(struct dhcp_client *c, int64_t now);
/* A datagram that arrived at now: DHCP_EV_NONE (not for us, or nothing
 * changes), DHCP_EV_BOUND, DHCP_EV_RENEWED, DHCP_EV_REFUSED or
 * DHCP_EV_NAK. After it, dhcp_client_tick may have work at once. */
enum dhcp_event dhcp_client_input(struct dhcp_client *c, int64_t now,
				  const uint8_t *p, size_t n);
/* "BOUND", "RENEWING", ... */
const char *dhcp_state_name(enum dhcp_state s);

/* ---- the client on a real interface (dhcp_run.c) ---- */

/*
 * A UDP socket on port 68 of dev (bound to the device, broadcasts
 * allowed) and dev's hardware address in mac. The fd or -errno.
 */
int dhcp_socket(const char *dev, uint8_t mac[6]);
/*
 * Runs c on fd with the monotonic clock until an event whose bit
 * (1 << DHCP_EV_*) is in stop, or until the monotonic time until (-1:
 * never). Every event but DHCP_EV_SEND goes to on_event first (may be
 * NULL). Returns the event that stopped it, or -ETIMEDOUT.
 */
int dhcp_run(struct dhcp_client *c, int fd, unsigned stop, int64_t until,
	     void (*on_event)(void *arg, struct dhcp_client *c,
			      enum dhcp_event ev),
	     void *arg);
/*
 * Brings ip->dev up and leases an address for it into ip (DISCOVER to
 * ACK, refusing unusable leases, within timeout_ms); the client, BOUND,
 * in c for a renewer, and with fdp its socket in *fdp (the caller's to
 * close; bound to the device's index, it outlives a rename). 0 or -errno
 * with the reason in err.
 */
int dhcp_configure(struct ipconfig *ip, struct dhcp_client *c,
		   int64_t timeout_ms, int *fdp, char *err, size_t errlen);

/* Parses the value of ip= (the kernel's syntax). 0 or -EINVAL. */
int ipconfig_parse(const char *s, struct ipconfig *ip, char *err,
		   size_t errlen);

/*
 * Brings up lo and ip->dev, then (when ip->client is set) gives ip->dev
 * ip's address and prefix, ip's routes (on-link ones first) and, with
 * ip->gateway, the default route.
 * Returns 0, -EINVAL (no such device, no rtnetlink socket) or -EIO (the
 * kernel refused a step), with what failed in err.
 */
int rtnl_configure(const struct ipconfig *ip, char *err, size_t errlen);

/* Whether s is an IPv4 (dotted quad) or IPv6 address, and nothing else. */
int net_is_address(const char *s);
/*
 * Writes a resolv.conf naming the DNS servers dns[0..ndns) (0.0.0.0
 * skipped) then extra[0..nextra) (addresses as text; what is not an
 * address is left out), through
 * a temporary file renamed over path: a reader sees the old file or the
 * new one. 0 or -errno.
 */
int net_resolv_write(const char *path, const struct in_addr *dns, int ndns,
		     const char (*extra)[64], int nextra);
/* The same, path relative to the directory dirfd (AT_FDCWD: the cwd). */
int net_resolv_writeat(int dirfd, const char *path, const struct in_addr *dns,
		       int ndns, const char (*extra)[64], int nextra);

#endif
