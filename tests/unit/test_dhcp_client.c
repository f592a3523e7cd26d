/* SPDX-License-Identifier: MIT */
/*
 * test_dhcp_client.c - the DHCP client's state machine (RFC 2131 section
 * 4.4) on a fake clock: the caller's time and crafted server replies.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <string.h>
#include "src/net/net.h"
#include "tests/unit/unit.h"

static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
#define S 1000 /* ms */

static uint32_t out_xid(const struct dhcp_client *c)
{
	uint32_t v;

	memcpy(&v, c->out + 4, 4);
	return ntohl(v);
}

/* The value of option code in the client's message, or NULL. */
static const uint8_t *out_opt(const struct dhcp_client *c, uint8_t code)
{
	size_t i = 240;

	while (i + 1 < c->out_len && c->out[i] != 255) {
		if (c->out[i] == code)
			return c->out + i + 2;
		i += c->out[i] ? 2u + c->out[i + 1] : 1u;
	}
	return NULL;
}

static int out_type(const struct dhcp_client *c)
{
	const uint8_t *t = out_opt(c, 53);

	return t ? *t : -1;
}

static uint32_t addr(const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	return a.s_addr;
}

/* A reply of type for the client's current xid: yiaddr, server
 * 10.0.2.2, /24, router 10.0.2.2, DNS dns, lease s. */
static size_t reply(uint8_t *p, const struct dhcp_client *c, int type,
		    const char *yiaddr, uint32_t lease, const char *dns)
{
	uint32_t v, x = htonl(out_xid(c)), y = addr(yiaddr), d = addr(dns);
	size_t i = 240;

	memset(p, 0, 600);
	p[0] = 2, p[1] = 1, p[2] = 6;
	memcpy(p + 4, &x, 4);
	memcpy(p + 16, &y, 4);
	memcpy(p + 28, mac, 6);
	p[236] = 99, p[237] = 130, p[238] = 83, p[239] = 99;
	p[i++] = 53, p[i++] = 1, p[i++] = (uint8_t)type;
	p[i++] = 54, p[i++] = 4;
	p[i++] = 10, p[i++] = 0, p[i++] = 2, p[i++] = 2;
	if (type != 6) {
		p[i++] = 51, p[i++] = 4;
		v = htonl(lease);
		memcpy(p + i, &v, 4), i += 4;
		p[i++] = 1, p[i++] = 4;
		p[i++] = 255, p[i++] = 255, p[i++] = 255, p[i++] = 0;
		p[i++] = 3, p[i++] = 4;
		p[i++] = 10, p[i++] = 0, p[i++] = 2, p[i++] = 2;
		p[i++] = 6, p[i++] = 4;
		memcpy(p + i, &d, 4), i += 4;
	} else {
		memcpy(p + i, "\070\004gone", 6), i += 6;
	}
	p[i++] = 255;
	return i;
}

/* INIT to BOUND at time t (ms) with a lease of lease s for yiaddr; the
 * time after it in *t. */
static void to_bound(struct dhcp_client *c, int64_t *t, uint32_t lease)
{
	uint8_t p[600];
	size_t n;

	dhcp_client_init(c, mac, 7, *t);
	CHECK_INT(dhcp_client_tick(c, *t), DHCP_EV_SEND);
	CHECK_INT(out_type(c), 1);
	n = reply(p, c, 2, "10.0.2.15", lease, "10.0.2.3");
	*t += 100;
	CHECK_INT(dhcp_client_input(c, *t, p, n), DHCP_EV_NONE);
	CHECK_INT(c->state, DHCP_REQUESTING);
	CHECK_INT(dhcp_client_tick(c, *t), DHCP_EV_SEND);
	CHECK_INT(out_type(c), 3);
	n = reply(p, c, 5, "10.0.2.15", lease, "10.0.2.3");
	*t += 100;
	CHECK_INT(dhcp_client_input(c, *t, p, n), DHCP_EV_BOUND);
	CHECK_INT(c->state, DHCP_BOUND);
}

/* INIT -> SELECTING -> REQUESTING -> BOUND: the messages of table 5. */
static void test_acquire(void)
{
	struct dhcp_client c;
	const uint8_t *o;
	uint8_t p[600];
	uint32_t xid;
	size_t n;

	dhcp_client_init(&c, mac, 7, 1000);
	CHECK_INT(c.state, DHCP_INIT);
	CHECK_INT(dhcp_client_tick(&c, 999), DHCP_EV_NONE);
	CHECK_INT(dhcp_client_tick(&c, 1000), DHCP_EV_SEND);
	CHECK_INT(c.state, DHCP_SELECTING);
	CHECK_INT(out_type(&c), 1);
	CHECK_INT(c.out_to.s_addr, INADDR_BROADCAST);
	CHECK_INT(c.out[10], 0x80); /* broadcast flag: no address yet */
	CHECK_MEM(c.out + 28, 6, mac, 6);
	CHECK(!out_opt(&c, 50));
	CHECK(c.out_len >= 300);
	xid = out_xid(&c);
	/* another client's offer, then an unusable one, then ours */
	n = reply(p, &c, 2, "10.0.2.15", 60, "10.0.2.3");
	p[7] ^= 1;
	CHECK_INT(dhcp_client_input(&c, 1100, p, n), DHCP_EV_NONE);
	n = reply(p, &c, 2, "0.0.0.0", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, 1100, p, n), DHCP_EV_REFUSED);
	CHECK(strstr(c.why, "0.0.0.0"));
	CHECK_INT(c.state, DHCP_SELECTING);
	n = reply(p, &c, 2, "10.0.2.15", 5, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, 1100, p, n), DHCP_EV_REFUSED);
	CHECK(strstr(c.why, "under 10 s"));
	/* an ACK while selecting is not an answer to anything */
	n = reply(p, &c, 5, "10.0.2.15", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, 1100, p, n), DHCP_EV_NONE);
	n = reply(p, &c, 2, "10.0.2.15", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, 1200, p, n), DHCP_EV_NONE);
	CHECK_INT(c.state, DHCP_REQUESTING);
	CHECK_INT(dhcp_client_tick(&c, 1200), DHCP_EV_SEND);
	CHECK_INT(out_type(&c), 3);
	CHECK_INT(out_xid(&c), xid); /* the offer's transaction */
	o = out_opt(&c, 50);
	CHECK(o && !memcmp(o, "\012\000\002\017", 4));
	o = out_opt(&c, 54);
	CHECK(o && !memcmp(o, "\012\000\002\002", 4));
	CHECK_INT(c.out_to.s_addr, INADDR_BROADCAST);
	n = reply(p, &c, 5, "10.0.2.15", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, 1500, p, n), DHCP_EV_BOUND);
	CHECK_INT(c.state, DHCP_BOUND);
	/* the lease counts from the request (1200), T1/T2 0.5/0.875 */
	CHECK_INT(c.bound_ms, 1200);
	CHECK_INT(c.t1_ms, 1200 + 30 * S);
	CHECK_INT(c.t2_ms, 1200 + 52 * S);
	CHECK_INT(c.expire_ms, 1200 + 60 * S);
	CHECK_INT(c.next_ms, c.t1_ms);
	CHECK_INT(c.lease.client.s_addr, addr("10.0.2.15"));
	/* nothing until T1 */
	CHECK_INT(dhcp_client_tick(&c, c.t1_ms - 1), DHCP_EV_NONE);
}

/* Section 4.1: 4 s, 8, 16, 32, 64, 64, each +-1 s; the same xid. */
static void test_backoff(void)
{
	static const int64_t want[] = {4, 8, 16, 32, 64, 64, 64};
	struct dhcp_client c;
	int64_t t = 0, last = 0;
	uint32_t xid;
	size_t i = 0;
	int ev, spread = 0;

	dhcp_client_init(&c, mac, 12345, 0);
	CHECK_INT(dhcp_client_tick(&c, 0), DHCP_EV_SEND);
	xid = out_xid(&c);
	for (t = 10; i < sizeof(want) / sizeof(want[0]); t += 10) {
		ev = dhcp_client_tick(&c, t);
		if (ev == DHCP_EV_NONE)
			continue;
		CHECK_INT(ev, DHCP_EV_SEND);
		if (!CHECK(t - last >= want[i] * S - S &&
			   t - last <= want[i] * S + S + 10))
			return;
		spread |= (t - last) % S != 0; /* randomized */
		CHECK_INT(out_xid(&c), xid);
		/* 'secs': since the exchange began */
		CHECK_INT((c.out[8] << 8) | c.out[9], t / S);
		last = t;
		i++;
	}
	CHECK(spread);
}

/* REQUESTING: three retransmissions, 60 s, then DISCOVER again; a NAK or an
 * ACK of another address: INIT after a pause. */
static void test_requesting(void)
{
	struct dhcp_client c;
	uint8_t p[600];
	int64_t t = 0;
	int sends = 0;
	size_t n;

	dhcp_client_init(&c, mac, 3, 0);
	dhcp_client_tick(&c, 0);
	n = reply(p, &c, 2, "10.0.2.15", 60, "10.0.2.3");
	dhcp_client_input(&c, 0, p, n);
	for (t = 0; c.state == DHCP_REQUESTING && t < 200 * S; t += 100)
		if (dhcp_client_tick(&c, t) == DHCP_EV_SEND &&
		    out_type(&c) == 3)
			sends++;
	CHECK_INT(sends, 4);
	CHECK_INT(c.state, DHCP_SELECTING);
	CHECK_INT(out_type(&c), 1);
	CHECK(strstr(c.why, "no answer to the request for 10.0.2.15"));
	CHECK(t > 50 * S && t < 70 * S); /* 4+8+16+32, give or take */
	/* a NAK */
	n = reply(p, &c, 2, "10.0.2.15", 60, "10.0.2.3");
	dhcp_client_input(&c, t, p, n);
	dhcp_client_tick(&c, t);
	n = reply(p, &c, 6, "0.0.0.0", 0, "0.0.0.0");
	CHECK_INT(dhcp_client_input(&c, t, p, n), DHCP_EV_NAK);
	CHECK(strstr(c.why, "DHCPNAK from 10.0.2.2 for 10.0.2.15 (\"gone\")"));
	CHECK_INT(c.state, DHCP_INIT);
	CHECK_INT(dhcp_client_tick(&c, t + 3 * S), DHCP_EV_NONE);
	CHECK_INT(dhcp_client_tick(&c, t + 4 * S), DHCP_EV_SEND);
	/* an ACK for another address than requested */
	t += 4 * S;
	n = reply(p, &c, 2, "10.0.2.15", 60, "10.0.2.3");
	dhcp_client_input(&c, t, p, n);
	dhcp_client_tick(&c, t);
	n = reply(p, &c, 5, "10.0.2.16", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, t, p, n), DHCP_EV_REFUSED);
	CHECK(strstr(c.why, "acknowledged 10.0.2.16, not 10.0.2.15"));
	CHECK_INT(c.state, DHCP_INIT);
}

/* BOUND -> RENEWING (unicast, ciaddr) -> BOUND: the lease from the
 * renewal's request. */
static void test_renew(void)
{
	struct dhcp_client c;
	const uint32_t server = addr("10.0.2.2");
	uint8_t p[600];
	int64_t t = 0, t1;
	uint32_t xid;
	size_t n;

	to_bound(&c, &t, 3600);
	t1 = c.t1_ms;
	CHECK_INT(dhcp_client_tick(&c, t1), DHCP_EV_SEND);
	CHECK_INT(c.state, DHCP_RENEWING);
	CHECK_INT(out_type(&c), 3);
	CHECK_INT(c.out_to.s_addr, server); /* unicast to the server */
	CHECK_INT(c.out[10], 0);	    /* no broadcast flag */
	CHECK_MEM(c.out + 12, 4, "\012\000\002\017", 4); /* ciaddr */
	CHECK(!out_opt(&c, 50)); /* table 5: MUST NOT in RENEWING */
	CHECK(!out_opt(&c, 54));
	xid = out_xid(&c);
	/* half the time to T2 (1575 s / 2), then T2 itself */
	CHECK_INT(c.next_ms, t1 + (c.t2_ms - t1) / 2);
	CHECK_INT(dhcp_client_tick(&c, c.next_ms), DHCP_EV_SEND);
	CHECK_INT(out_xid(&c), xid);
	/* an ACK of another xid is discarded; ours renews */
	n = reply(p, &c, 5, "10.0.2.15", 3600, "10.0.2.3");
	p[4] ^= 1;
	CHECK_INT(dhcp_client_input(&c, t1 + 2 * S, p, n), DHCP_EV_NONE);
	n = reply(p, &c, 5, "10.0.2.15", 3600, "10.0.2.9");
	CHECK_INT(dhcp_client_input(&c, t1 + 2 * S, p, n), DHCP_EV_RENEWED);
	CHECK_INT(c.state, DHCP_BOUND);
	CHECK_INT(c.bound_ms, t1);
	CHECK_INT(c.expire_ms, t1 + 3600LL * S);
	CHECK_INT(c.next_ms, t1 + 1800LL * S);
	CHECK_INT(c.lease.dns[0].s_addr, addr("10.0.2.9"));
}

/* A short lease (60 s, as the VM test's): RENEWING's retransmission waits
 * at least 60 s, so T2 comes first; REBINDING broadcasts with a new xid;
 * the expiry ends it (INIT), and the next DISCOVER asks for the address
 * the client keeps. */
static void test_rebind_expire(void)
{
	struct dhcp_client c;
	uint8_t p[600];
	const uint8_t *o;
	int64_t t = 0;
	uint32_t xid;
	size_t n;

	to_bound(&c, &t, 60);
	c.keep = c.lease.client;
	CHECK_INT(dhcp_client_tick(&c, c.t1_ms), DHCP_EV_SEND);
	CHECK_INT(c.next_ms, c.t2_ms);
	xid = out_xid(&c);
	CHECK_INT(dhcp_client_tick(&c, c.t2_ms - 1), DHCP_EV_NONE);
	CHECK_INT(dhcp_client_tick(&c, c.t2_ms), DHCP_EV_SEND);
	CHECK_INT(c.state, DHCP_REBINDING);
	CHECK_INT(c.out_to.s_addr, INADDR_BROADCAST);
	CHECK_MEM(c.out + 12, 4, "\012\000\002\017", 4);
	CHECK(out_xid(&c) != xid);
	CHECK_INT(c.next_ms, c.expire_ms);
	/* a refused ACK (too short) changes nothing */
	n = reply(p, &c, 5, "10.0.2.15", 3, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, c.t2_ms + 1, p, n), DHCP_EV_REFUSED);
	CHECK_INT(c.state, DHCP_REBINDING);
	t = c.expire_ms;
	CHECK_INT(dhcp_client_tick(&c, t), DHCP_EV_EXPIRED);
	CHECK(strstr(c.why, "lease of 10.0.2.15 ran out"));
	CHECK_INT(c.state, DHCP_INIT);
	CHECK_INT(dhcp_client_tick(&c, t), DHCP_EV_SEND);
	CHECK_INT(out_type(&c), 1);
	o = out_opt(&c, 50);
	CHECK(o && !memcmp(o, "\012\000\002\017", 4));
	/* another address is refused: the root runs on the kept one */
	n = reply(p, &c, 2, "10.0.2.77", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, t, p, n), DHCP_EV_REFUSED);
	CHECK(strstr(c.why, "offered 10.0.2.77, not 10.0.2.15"));
	n = reply(p, &c, 2, "10.0.2.15", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, t, p, n), DHCP_EV_NONE);
	CHECK_INT(dhcp_client_tick(&c, t), DHCP_EV_SEND);
	n = reply(p, &c, 5, "10.0.2.15", 60, "10.0.2.3");
	CHECK_INT(dhcp_client_input(&c, t + 10, p, n), DHCP_EV_BOUND);
}

/* A NAK while renewing: INIT after a pause, the lease remembered. */
static void test_renew_nak(void)
{
	struct dhcp_client c;
	uint8_t p[600];
	int64_t t = 0;
	size_t n;

	to_bound(&c, &t, 60);
	t = c.t1_ms;
	dhcp_client_tick(&c, t);
	n = reply(p, &c, 6, "0.0.0.0", 0, "0.0.0.0");
	CHECK_INT(dhcp_client_input(&c, t, p, n), DHCP_EV_NAK);
	CHECK_INT(c.state, DHCP_INIT);
	CHECK(strstr(c.why, "DHCPNAK from 10.0.2.2 for 10.0.2.15"));
	CHECK_INT(c.lease.client.s_addr, addr("10.0.2.15"));
	CHECK_INT(dhcp_client_tick(&c, t + 1), DHCP_EV_NONE);
	CHECK_INT(dhcp_client_tick(&c, t + 4 * S), DHCP_EV_SEND);
	CHECK_INT(c.state, DHCP_SELECTING);
}

static void test_infinite(void)
{
	struct dhcp_client c;
	int64_t t = 0;

	to_bound(&c, &t, 0xffffffffu);
	CHECK_INT(c.next_ms, INT64_MAX);
	CHECK_INT(dhcp_client_tick(&c, 400LL * 86400 * S), DHCP_EV_NONE);
	CHECK_STR(dhcp_state_name(c.state), "BOUND");
}

static const struct unit_test tests[] = {
	{"client_acquire", test_acquire},
	{"client_backoff", test_backoff},
	{"client_requesting", test_requesting},
	{"client_renew", test_renew},
	{"client_rebind_expire", test_rebind_expire},
	{"client_renew_nak", test_renew_nak},
	{"client_infinite", test_infinite},
};

UNIT_SUITE(dhcp_client, tests);
