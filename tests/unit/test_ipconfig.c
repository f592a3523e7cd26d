/* SPDX-License-Identifier: MIT */
/* test_ipconfig.c - the kernel's ip= syntax. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "src/net/net.h"
#include "tests/unit/unit.h"

static const char *addr(struct in_addr a)
{
	static char buf[4][16];
	static int n;

	return inet_ntop(AF_INET, &a, buf[n++ % 4], 16);
}

static void test_good(void)
{
	struct ipconfig ip;
	char err[256];

	CHECK_INT(ipconfig_parse("10.0.2.15::10.0.2.2:255.255.255.0:vm:eth0:"
				 "off:10.0.2.3:1.1.1.1",
				 &ip, err, sizeof(err)),
		  0);
	CHECK_INT(ip.dhcp, 0);
	CHECK_STR(addr(ip.client), "10.0.2.15");
	CHECK_STR(addr(ip.gateway), "10.0.2.2");
	CHECK_STR(addr(ip.netmask), "255.255.255.0");
	CHECK_STR(addr(ip.dns[0]), "10.0.2.3");
	CHECK_STR(addr(ip.dns[1]), "1.1.1.1");
	CHECK_STR(ip.hostname, "vm");
	CHECK_STR(ip.dev, "eth0");
	/* the class's netmask when none is given */
	CHECK_INT(
		ipconfig_parse("172.16.1.2::172.16.0.1", &ip, err, sizeof(err)),
		0);
	CHECK_STR(addr(ip.netmask), "255.255.0.0");
	CHECK_INT(ipconfig_parse("dhcp", &ip, err, sizeof(err)), 0);
	CHECK(ip.dhcp);
	CHECK_INT(ipconfig_parse(":::::eth1:dhcp", &ip, err, sizeof(err)), 0);
	CHECK(ip.dhcp);
	CHECK_STR(ip.dev, "eth1");
	CHECK_INT(ipconfig_parse("::::::", &ip, err, sizeof(err)), 0);
	CHECK(ip.dhcp);
	CHECK_INT(ipconfig_parse("off", &ip, err, sizeof(err)), 0);
	CHECK(ip.off);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"10.0.2.300::10.0.2.2:255.255.255.0::eth0:off",
		"10.0.2.15::gateway",
		"10.0.2.15::10.0.2.2:255.255.255.0::eth0:rarp",
		"::10.0.2.2:255.255.255.0::eth0:off",
		"10.0.2.15:::::averyveryverylongdevicename:off",
		"10.0.2.15:::::eth/0:off",
		"1:2:3:4:5:6:7:8:9:10:11",
	};
	struct ipconfig ip;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(ipconfig_parse(bad[i], &ip, err, sizeof(err)),
			       -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
}

/* nameserver= and the resolver's file: addresses only, no other text */
static void test_nameservers(void)
{
	const char extra[3][64] = {"2001:db8::53", "9.9.9.9\noptions ndots:15",
				   "dns.example"};
	struct in_addr dns[2] = {{0}, {0}};
	char dir[] = "/tmp/s3root-unit-XXXXXX", path[64], *text = NULL;
	size_t len;

	CHECK(net_is_address("10.0.2.3"));
	CHECK(net_is_address("::1"));
	CHECK(!net_is_address("10.0.2.3 "));
	CHECK(!net_is_address("10.0.2"));
	CHECK(!net_is_address(""));
	CHECK(!net_is_address("1.1.1.1\nsearch evil"));
	if (!CHECK(mkdtemp(dir)))
		return;
	snprintf(path, sizeof(path), "%s/resolv.conf", dir);
	inet_pton(AF_INET, "10.0.2.3", &dns[0]);
	CHECK_INT(net_resolv_write(path, dns, 2, extra, 3), 0);
	if (CHECK_INT(io_read_file(path, 4096, &text, &len), 0))
		CHECK_STR(text,
			  "nameserver 10.0.2.3\nnameserver 2001:db8::53\n");
	free(text);
	unlink(path);
	rmdir(dir);
}

static const struct unit_test tests[] = {
	{"ipconfig_nameservers", test_nameservers},
	{"ipconfig_good", test_good},
	{"ipconfig_bad", test_bad},
};

UNIT_SUITE(ipconfig, tests);
