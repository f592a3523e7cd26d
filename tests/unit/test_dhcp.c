/* SPDX-License-Identifier: MIT */
/* test_dhcp.c - DHCP replies (RFC 2131/2132), good and hostile. */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include "src/net/net.h"
#include "tests/unit/unit.h"

static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};

/* An ACK for xid 0x11223344: 10.0.2.15/24 via 10.0.2.2, DNS 10.0.2.3. */
static size_t ack(uint8_t *p)
{
	static const uint8_t opts[] = {
		53, 1,	5,   1,	 4, 255, 255, 255, 0, 3, 8, 10,	 0, 2,
		2,  1,	1,   1,	 1, 6,	 4,   10,  0, 2, 3, 51,	 4, 0,
		1,  81, 128, 54, 4, 10,	 0,   2,   2, 0, 0, 255,
	};

	memset(p, 0, 236);
	p[0] = 2, p[1] = 1, p[2] = 6;
	p[4] = 0x11, p[5] = 0x22, p[6] = 0x33, p[7] = 0x44;
	p[16] = 10, p[17] = 0, p[18] = 2, p[19] = 15;
	memcpy(p + 28, mac, 6);
	p[236] = 99, p[237] = 130, p[238] = 83, p[239] = 99;
	memcpy(p + 240, opts, sizeof(opts));
	return 240 + sizeof(opts);
}

static void test_ack(void)
{
	uint8_t p[600];
	size_t n = ack(p);
	struct dhcp_lease l;
	char a[16];

	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(l.type, 5);
	CHECK_STR(inet_ntop(AF_INET, &l.client, a, 16), "10.0.2.15");
	CHECK_STR(inet_ntop(AF_INET, &l.netmask, a, 16), "255.255.255.0");
	CHECK_STR(inet_ntop(AF_INET, &l.router, a, 16), "10.0.2.2");
	CHECK_STR(inet_ntop(AF_INET, &l.dns[0], a, 16), "10.0.2.3");
	CHECK_STR(inet_ntop(AF_INET, &l.server, a, 16), "10.0.2.2");
	CHECK_INT(l.lease_s, 86400);
}

static void test_hostile(void)
{
	uint8_t p[600];
	struct dhcp_lease l;
	size_t n = ack(p);

	CHECK_INT(dhcp_parse_reply(p, n, 0x11223345, mac, &l), -ESRCH);
	CHECK_INT(dhcp_parse_reply(p, 200, 0x11223344, mac, &l), -EBADMSG);
	/* an option running past the end */
	CHECK_INT(dhcp_parse_reply(p, 240 + 5, 0x11223344, mac, &l), -EBADMSG);
	n = ack(p);
	p[240 + 4] = 200; /* subnet option with a huge length */
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = ack(p);
	p[240 + 10] = 3; /* router list not a multiple of 4 */
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = ack(p);
	p[237] = 0; /* no magic cookie */
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = ack(p);
	p[0] = 1; /* a request, not a reply */
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = ack(p);
	p[240] = 0, p[241] = 0, p[242] = 0; /* no message type: BOOTP */
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
}

static const struct unit_test tests[] = {
	{"dhcp_ack", test_ack},
	{"dhcp_hostile", test_hostile},
};

UNIT_SUITE(dhcp, tests);
