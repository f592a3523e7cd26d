/* SPDX-License-Identifier: MIT */
/* test_dhcp.c - DHCP replies (RFC 2131/2132), good and hostile. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
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

/* A reply of type to xid 0x11223344 for yiaddr, with opts (without the
 * message type and the end) appended. */
static size_t reply(uint8_t *p, int type, const char *yiaddr,
		    const uint8_t *opts, size_t olen)
{
	size_t n = ack(p);

	inet_pton(AF_INET, yiaddr, p + 16);
	p[240 + 2] = (uint8_t)type;
	n = 243;
	memcpy(p + n, opts, olen);
	n += olen;
	p[n++] = 255;
	return n;
}

static void test_options(void)
{
	static const uint8_t o[] = {58, 4, 0, 0, 0, 100, 59, 4, 0, 0, 0, 200,
				    56, 5, 'n', 'o', 0x07, '!', '!', 121, 12,
				    /* 10.1/16 via 10.0.2.9; 0/0 on the link */
				    16, 10, 1, 10, 0, 2, 9, 0, 0, 0, 0, 0};
	uint8_t p[600];
	struct dhcp_lease l;
	char a[16];
	size_t n = reply(p, 6, "0.0.0.0", o, sizeof(o));

	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(l.type, 6);
	CHECK_INT(l.t1_s, 100);
	CHECK_INT(l.t2_s, 200);
	CHECK_STR(l.message, "no?!!");
	CHECK_INT(l.nroutes, 2);
	CHECK_INT(l.has_routes, 1);
	CHECK_STR(inet_ntop(AF_INET, &l.routes[0].dst, a, 16), "10.1.0.0");
	CHECK_INT(l.routes[0].len, 16);
	CHECK_STR(inet_ntop(AF_INET, &l.routes[0].gw, a, 16), "10.0.2.9");
	CHECK_INT(l.routes[1].len, 0);
	CHECK_INT(l.routes[1].gw.s_addr, 0);
}

static void test_routes_hostile(void)
{
	static const uint8_t width33[] = {121, 9, 33, 1, 2, 3, 4, 5, 6, 7, 8};
	static const uint8_t cut[] = {121, 6, 24, 10, 0, 2, 1, 1};
	static const uint8_t empty[] = {121, 0};
	/* the destination's bits past its width are dropped: 10.0.255/20 */
	static const uint8_t wide[] = {121, 8, 20, 10, 0, 255, 0, 0, 0, 0};
	uint8_t p[600], many[2 + 9 * 9];
	struct dhcp_lease l;
	char a[16];
	size_t n, i;

	n = reply(p, 5, "10.0.2.15", width33, sizeof(width33));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = reply(p, 5, "10.0.2.15", cut, sizeof(cut));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = reply(p, 5, "10.0.2.15", empty, sizeof(empty));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
	n = reply(p, 5, "10.0.2.15", wide, sizeof(wide));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_STR(inet_ntop(AF_INET, &l.routes[0].dst, a, 16), "10.0.240.0");
	/* nine /32 routes: more than NET_MAX_ROUTES */
	many[0] = 121;
	many[1] = 9 * 9;
	for (i = 0; i < 9; i++) {
		uint8_t r[9] = {32, 10, 9, 9, (uint8_t)i, 10, 0, 2, 2};

		memcpy(many + 2 + 9 * i, r, 9);
	}
	n = reply(p, 5, "10.0.2.15", many, 2 + 9 * 9);
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), -EBADMSG);
}

/* One lease_check case: yiaddr, mask ("" = none), router ("" = none),
 * the lease, whether option 121 routes come (10.9/16 via gw121), and
 * what is wanted: NULL = usable, else a word of the refusal. */
struct check_case {
	const char *yiaddr, *mask, *router;
	uint32_t lease;
	const char *gw121, *want;
};

static const struct check_case check_cases[] = {
	{"10.0.2.15", "255.255.255.0", "10.0.2.2", 60, NULL, NULL},
	{"0.0.0.0", "255.255.255.0", "10.0.2.2", 60, NULL, "0.0.0.0"},
	{"255.255.255.255", "", "", 60, NULL, "not a host address"},
	{"224.0.0.1", "", "", 60, NULL, "not a host address"},
	{"127.0.0.5", "", "", 60, NULL, "not a host address"},
	{"10.0.2.255", "255.255.255.0", "", 60, NULL, "broadcast"},
	{"10.0.2.0", "255.255.255.0", "", 60, NULL, "broadcast or network"},
	{"10.0.2.15", "255.0.255.0", "", 60, NULL, "subnet mask"},
	{"10.0.2.15", "255.255.255.0", "", 9, NULL, "under 10 s"},
	{"10.0.2.15", "255.255.255.0", "", 10, NULL, NULL},
	{"10.0.2.15", "255.255.255.0", "10.0.3.1", 60, NULL, "option 121"},
	{"10.0.2.15", "255.255.255.0", "10.0.2.15", 60, NULL, "router"},
	/* with classless routes the router option is ignored (RFC 3442) */
	{"10.0.2.15", "255.255.255.0", "10.0.3.1", 60, "10.0.2.1", NULL},
	{"10.0.2.15", "255.255.255.0", "", 60, "10.0.3.1", "not on the link"},
	/* /32 (clouds): the gateway is reached by an on-link route only */
	{"10.0.2.15", "255.255.255.255", "10.0.2.1", 60, NULL, "option 121"},
	{"10.0.2.15", "255.255.255.255", "", 60, "10.0.2.1", "not on the"},
	{"10.0.2.15", "", "10.0.2.2", 60, NULL, NULL},
};

static void test_check(void)
{
	uint8_t p[600], o[64];
	struct dhcp_lease l;
	char why[200];
	size_t i, n, k;
	uint32_t v;
	int r;

	for (i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		const struct check_case *c = &check_cases[i];

		k = 0;
		o[k++] = 54, o[k++] = 4;
		o[k++] = 10, o[k++] = 0, o[k++] = 2, o[k++] = 2;
		o[k++] = 51, o[k++] = 4;
		v = htonl(c->lease);
		memcpy(o + k, &v, 4), k += 4;
		if (*c->mask) {
			o[k++] = 1, o[k++] = 4;
			inet_pton(AF_INET, c->mask, o + k), k += 4;
		}
		if (*c->router) {
			o[k++] = 3, o[k++] = 4;
			inet_pton(AF_INET, c->router, o + k), k += 4;
		}
		if (c->gw121) {
			o[k++] = 121, o[k++] = 7, o[k++] = 16;
			o[k++] = 10, o[k++] = 9;
			inet_pton(AF_INET, c->gw121, o + k), k += 4;
		}
		n = reply(p, 5, c->yiaddr, o, k);
		CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
		why[0] = '\0';
		r = dhcp_lease_check(&l, why, sizeof(why));
		if (!CHECK_INT(r, c->want ? -EINVAL : 0) ||
		    (c->want && !CHECK(strstr(why, c->want))))
			fprintf(stderr, "  case %zu (%s): %s\n", i, c->yiaddr,
				why);
	}
}

static void test_check_defaults(void)
{
	static const uint8_t base[] = {54, 4, 10, 0, 2, 2, 51, 4, 0, 0, 0, 80};
	static const uint8_t bad_t[] = {54, 4,	10, 0,	2,  2, 51, 4,
					0,  0,	0,  80, 58, 4, 0,  0,
					0,  70, 59, 4,	0,  0, 0,  60};
	static const uint8_t no_lease[] = {54, 4, 10, 0, 2, 2};
	static const uint8_t no_server[] = {51, 4, 0, 0, 0, 80};
	static const struct {
		const char *addr, *mask;
	} classes[] = {{"10.1.2.3", "255.0.0.0"},
		       {"172.16.5.4", "255.255.0.0"},
		       {"192.168.7.9", "255.255.255.0"}};
	uint8_t p[600];
	struct dhcp_lease l;
	char why[200], a[16];
	size_t i, n;

	for (i = 0; i < 3; i++) {
		n = reply(p, 5, classes[i].addr, base, sizeof(base));
		CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
		CHECK_INT(dhcp_lease_check(&l, why, sizeof(why)), 0);
		CHECK_INT(l.defaulted_mask, 1);
		CHECK_STR(inet_ntop(AF_INET, &l.netmask, a, 16),
			  classes[i].mask);
		/* RFC 2131 section 4.4.5: 0.5 and 0.875 of the lease */
		CHECK_INT(l.t1_s, 40);
		CHECK_INT(l.t2_s, 70);
	}
	/* T1 after T2: the defaults */
	n = reply(p, 5, "10.0.2.15", bad_t, sizeof(bad_t));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(dhcp_lease_check(&l, why, sizeof(why)), 0);
	CHECK_INT(l.t1_s, 40);
	CHECK_INT(l.t2_s, 70);
	n = reply(p, 5, "10.0.2.15", no_lease, sizeof(no_lease));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(dhcp_lease_check(&l, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "option 51"));
	n = reply(p, 5, "10.0.2.15", no_server, sizeof(no_server));
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(dhcp_lease_check(&l, why, sizeof(why)), -EINVAL);
	CHECK(strstr(why, "option 54"));
	/* the ACK of test_ack: a day, given T1/T2 defaults */
	n = ack(p);
	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(dhcp_lease_check(&l, why, sizeof(why)), 0);
	CHECK_INT(l.t1_s, 43200);
	CHECK_INT(l.t2_s, 75600);
}

static void test_lease_format(void)
{
	uint8_t p[600];
	struct dhcp_lease l;
	char buf[600], why[200];
	size_t n = ack(p);
	int r;

	CHECK_INT(dhcp_parse_reply(p, n, 0x11223344, mac, &l), 0);
	CHECK_INT(dhcp_lease_check(&l, why, sizeof(why)), 0);
	r = dhcp_lease_format(buf, sizeof(buf), &l, "eth0", "bound",
			      1700000000);
	CHECK_INT(r, (long long)strlen(buf));
	CHECK_STR(buf, "interface=eth0\nstate=bound\naddress=10.0.2.15\n"
		       "mask=255.255.255.0\nprefix=24\nrouter=10.0.2.2\n"
		       "server=10.0.2.2\ndns=10.0.2.3\nlease=86400\n"
		       "t1=43200\nt2=75600\nobtained=1700000000\n"
		       "expires=1700086400\n");
	CHECK_INT(dhcp_lease_format(buf, 40, &l, "eth0", "bound", 0), -ENOSPC);
}

static const struct unit_test tests[] = {
	{"dhcp_ack", test_ack},
	{"dhcp_hostile", test_hostile},
	{"dhcp_options", test_options},
	{"dhcp_routes_hostile", test_routes_hostile},
	{"dhcp_check", test_check},
	{"dhcp_check_defaults", test_check_defaults},
	{"dhcp_lease_format", test_lease_format},
};

UNIT_SUITE(dhcp, tests);
