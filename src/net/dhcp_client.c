/* SPDX-License-Identifier: MIT */
/*
 * dhcp_client.c - the DHCP client's state machine (RFC 2131 section 4.4,
 * figure 5): INIT, SELECTING, REQUESTING, BOUND, RENEWING, REBINDING.
 * No sockets and no clock: the caller passes the time and the datagrams
 * and sends what it is asked to (dhcp_run.c does it on an interface),
 * so every transition is a unit test with a fake clock.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "src/net/internal.h"

#define RTO_FIRST_MS 4000 /* section 4.1: 4 s, doubled, up to 64 s */
#define RTO_MAX_MS 64000
#define JITTER_MS 1000	   /* each delay +- 1 s, uniformly */
#define REQUEST_TRIES 4	   /* then INIT: 4+8+16+32 = 60 s (section 3.1, 5.) */
#define RENEW_MIN_MS 60000 /* section 4.4.5: at least 60 s apart */
#define RESTART_PAUSE_MS 4000 /* after a NAK or a refused ACK */

static uint32_t rnd(struct dhcp_client *c)
{
	uint32_t x = c->rand; /* xorshift32 */

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	c->rand = x;
	return x;
}

static int64_t jitter(struct dhcp_client *c)
{
	return (int64_t)(rnd(c) % (2 * JITTER_MS + 1)) - JITTER_MS;
}

static void put_opt(uint8_t *p, size_t *i, uint8_t code, const void *v,
		    uint8_t len)
{
	p[(*i)++] = code;
	p[(*i)++] = len;
	memcpy(p + *i, v, len);
	*i += len;
}

/* The message for the state we are in (RFC 2131 table 5) into c->out. */
static void build(struct dhcp_client *c, uint8_t type, int64_t now)
{
	static const uint8_t params[] = {OPT_SUBNET, OPT_ROUTER,    OPT_DNS,
					 OPT_LEASE,  OPT_SERVER_ID, OPT_T1,
					 OPT_T2,     OPT_ROUTES};
	int have_addr = c->state == DHCP_RENEWING || c->state == DHCP_REBINDING;
	int64_t secs = (now - c->start_ms) / 1000;
	uint8_t *p = c->out;
	size_t i = DHCP_FIXED;
	uint32_t v;

	if (secs < 0)
		secs = 0;
	if (secs > 0xffff)
		secs = 0xffff;
	memset(p, 0, sizeof(c->out));
	p[0] = BOOTREQUEST;
	p[1] = 1; /* Ethernet */
	p[2] = 6;
	v = htonl(c->xid);
	memcpy(p + 4, &v, 4);
	p[8] = (uint8_t)(secs >> 8);
	p[9] = (uint8_t)secs;
	if (have_addr)
		memcpy(p + 12, &c->lease.client, 4); /* ciaddr */
	else
		p[10] = 0x80; /* broadcast: no address to take unicast at */
	memcpy(p + 28, c->mac, 6);
	v = htonl(DHCP_MAGIC);
	memcpy(p + i, &v, 4);
	i += 4;
	put_opt(p, &i, OPT_MSG_TYPE, &type, 1);
	if (c->state == DHCP_REQUESTING) {
		put_opt(p, &i, OPT_REQUESTED_IP, &c->offer.client, 4);
		put_opt(p, &i, OPT_SERVER_ID, &c->offer.server, 4);
	} else if (type == DHCPDISCOVER && c->keep.s_addr) {
		put_opt(p, &i, OPT_REQUESTED_IP, &c->keep, 4);
	}
	put_opt(p, &i, OPT_PARAMS, params, sizeof(params));
	p[i++] = OPT_END;
	c->out_len = i < 300 ? 300 : i; /* BOOTP's minimum, for old relays */
	c->out_to.s_addr = c->state == DHCP_RENEWING ? c->lease.server.s_addr
						     : INADDR_BROADCAST;
}

static enum dhcp_event send_discover(struct dhcp_client *c, int64_t now)
{
	c->xid = rnd(c);
	c->start_ms = now;
	c->rto_ms = RTO_FIRST_MS;
	c->state = DHCP_SELECTING;
	build(c, DHCPDISCOVER, now);
	c->next_ms = now + c->rto_ms + jitter(c);
	return DHCP_EV_SEND;
}

/* The next retransmission in SELECTING or REQUESTING (section 4.1). */
static void backoff(struct dhcp_client *c, int64_t now)
{
	c->rto_ms = c->rto_ms * 2 > RTO_MAX_MS ? RTO_MAX_MS : c->rto_ms * 2;
	c->next_ms = now + c->rto_ms + jitter(c);
}

/* RENEWING and REBINDING: half the time left to T2 (or to the expiry),
 * at least 60 s, never past it (section 4.4.5). */
static void renew_next(struct dhcp_client *c, int64_t now)
{
	int64_t end = c->state == DHCP_RENEWING ? c->t2_ms : c->expire_ms;
	int64_t wait = (end - now) / 2;

	if (wait < RENEW_MIN_MS)
		wait = RENEW_MIN_MS;
	c->next_ms = end - now < wait ? end : now + wait;
}

/* A new request of the RENEWING or REBINDING state, entered at now. */
static enum dhcp_event start_renew(struct dhcp_client *c, int64_t now,
				   enum dhcp_state s)
{
	c->state = s;
	c->xid = rnd(c);
	c->start_ms = c->sent_ms = now;
	build(c, DHCPREQUEST, now);
	renew_next(c, now);
	return DHCP_EV_SEND;
}

static int64_t at(int64_t base, uint32_t s)
{
	return s == DHCP_INFINITE ? INT64_MAX : base + (int64_t)s * 1000;
}

/* The lease in l counts from when its request was sent: BOUND. */
static void bind_lease(struct dhcp_client *c, const struct dhcp_lease *l)
{
	c->lease = *l;
	c->bound_ms = c->sent_ms;
	c->t1_ms = at(c->bound_ms, l->t1_s);
	c->t2_ms = at(c->bound_ms, l->t2_s);
	c->expire_ms = at(c->bound_ms, l->lease_s);
	c->state = DHCP_BOUND;
	c->next_ms = c->t1_ms;
}

/* Back to INIT after a pause (a NAK, a refused ACK, an expiry). */
static void restart(struct dhcp_client *c, int64_t at_ms)
{
	c->state = DHCP_INIT;
	c->next_ms = at_ms;
}

void dhcp_client_init(struct dhcp_client *c, const uint8_t mac[6],
		      uint32_t seed, int64_t now)
{
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, mac, 6);
	c->rand = seed ? seed : 0x9e3779b9u; /* xorshift must not start at 0 */
	c->state = DHCP_INIT;
	c->next_ms = now;
}

enum dhcp_event dhcp_client_tick(struct dhcp_client *c, int64_t now)
{
	char a[INET_ADDRSTRLEN];

	if (now < c->next_ms)
		return DHCP_EV_NONE;
	switch (c->state) {
	case DHCP_INIT:
		return send_discover(c, now);
	case DHCP_SELECTING:
		build(c, DHCPDISCOVER, now);
		backoff(c, now);
		return DHCP_EV_SEND;
	case DHCP_REQUESTING:
		if (c->tries == REQUEST_TRIES) {
			snprintf(c->why, sizeof(c->why),
				 "no answer to the request for %s: starting "
				 "over",
				 inet_ntop(AF_INET, &c->offer.client, a,
					   sizeof(a)));
			return send_discover(c, now);
		}
		if (!c->tries++) {
			c->sent_ms = now;
			c->rto_ms = RTO_FIRST_MS;
			c->next_ms = now + c->rto_ms + jitter(c);
		} else {
			backoff(c, now);
		}
		build(c, DHCPREQUEST, now);
		return DHCP_EV_SEND;
	case DHCP_BOUND:
		return start_renew(c, now, DHCP_RENEWING);
	case DHCP_RENEWING:
		if (now >= c->t2_ms)
			return start_renew(c, now, DHCP_REBINDING);
		build(c, DHCPREQUEST, now);
		renew_next(c, now);
		return DHCP_EV_SEND;
	case DHCP_REBINDING:
		if (now >= c->expire_ms) {
			snprintf(c->why, sizeof(c->why),
				 "the lease of %s ran out with no answer "
				 "from a server",
				 inet_ntop(AF_INET, &c->lease.client, a,
					   sizeof(a)));
			restart(c, now);
			return DHCP_EV_EXPIRED;
		}
		build(c, DHCPREQUEST, now);
		renew_next(c, now);
		return DHCP_EV_SEND;
	}
	return DHCP_EV_NONE;
}

/* A DHCPNAK: why, and INIT after a pause. */
static enum dhcp_event nak(struct dhcp_client *c, int64_t now,
			   const struct dhcp_lease *l, struct in_addr asked)
{
	char a[INET_ADDRSTRLEN], s[INET_ADDRSTRLEN];

	snprintf(c->why, sizeof(c->why), "DHCPNAK from %s for %s%s%s%s",
		 inet_ntop(AF_INET, &l->server, s, sizeof(s)),
		 inet_ntop(AF_INET, &asked, a, sizeof(a)),
		 l->message[0] ? " (\"" : "", l->message,
		 l->message[0] ? "\")" : "");
	restart(c, now + RESTART_PAUSE_MS);
	return DHCP_EV_NAK;
}

/* An ACK that is not for the address we asked for. */
static int other_addr(struct dhcp_client *c, const struct dhcp_lease *l,
		      struct in_addr want, const char *verb)
{
	char a[INET_ADDRSTRLEN], b[INET_ADDRSTRLEN];

	if (l->client.s_addr == want.s_addr)
		return 0;
	snprintf(c->why, sizeof(c->why), "%s %s, not %s", verb,
		 inet_ntop(AF_INET, &l->client, a, sizeof(a)),
		 inet_ntop(AF_INET, &want, b, sizeof(b)));
	return 1;
}

enum dhcp_event dhcp_client_input(struct dhcp_client *c, int64_t now,
				  const uint8_t *p, size_t n)
{
	struct dhcp_lease l;

	if (c->state == DHCP_INIT || c->state == DHCP_BOUND ||
	    dhcp_parse_reply(p, n, c->xid, c->mac, &l))
		return DHCP_EV_NONE;
	if (c->state == DHCP_SELECTING) {
		if (l.type != DHCPOFFER)
			return DHCP_EV_NONE;
		if (dhcp_lease_check(&l, c->why, sizeof(c->why)))
			return DHCP_EV_REFUSED; /* another server may offer */
		if (c->keep.s_addr && other_addr(c, &l, c->keep, "offered"))
			return DHCP_EV_REFUSED;
		c->offer = l;
		c->state = DHCP_REQUESTING;
		c->tries = 0;
		c->next_ms = now; /* the request goes out at once */
		return DHCP_EV_NONE;
	}
	if (c->state == DHCP_REQUESTING) {
		if (l.type == DHCPNAK)
			return nak(c, now, &l, c->offer.client);
		if (l.type != DHCPACK)
			return DHCP_EV_NONE;
		if (other_addr(c, &l, c->offer.client, "acknowledged") ||
		    dhcp_lease_check(&l, c->why, sizeof(c->why))) {
			restart(c, now + RESTART_PAUSE_MS);
			return DHCP_EV_REFUSED;
		}
		bind_lease(c, &l);
		return DHCP_EV_BOUND;
	}
	/* RENEWING, REBINDING */
	if (l.type == DHCPNAK)
		return nak(c, now, &l, c->lease.client);
	if (l.type != DHCPACK)
		return DHCP_EV_NONE;
	if (other_addr(c, &l, c->lease.client, "acknowledged") ||
	    dhcp_lease_check(&l, c->why, sizeof(c->why)))
		return DHCP_EV_REFUSED; /* retransmissions go on */
	bind_lease(c, &l);
	return DHCP_EV_RENEWED;
}

const char *dhcp_state_name(enum dhcp_state s)
{
	static const char *const names[] = {"INIT",  "SELECTING", "REQUESTING",
					    "BOUND", "RENEWING",  "REBINDING"};

	return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}
