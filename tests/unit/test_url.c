/* SPDX-License-Identifier: MIT */
/* test_url.c - URL parsing and Host headers. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "http/http.h"
#include "tests/unit/unit.h"

static void test_good(void)
{
	static const struct {
		const char *in, *host, *path, *hosthdr;
		int port, tls, ip;
	} rows[] = {
		{"http://a.b", "a.b", "/", "a.b", 80, 0, 0},
		{"HTTPS://A.b:443/x/y?z=1", "A.b", "/x/y?z=1", "A.b", 443, 1,
		 0},
		{"http://127.0.0.1:7480", "127.0.0.1", "/", "127.0.0.1:7480",
		 7480, 0, 1},
		{"https://[::1]:8443/p", "::1", "/p", "[::1]:8443", 8443, 1, 1},
		{"http://[fe80::1]", "fe80::1", "/", "[fe80::1]", 80, 0, 1},
		{"http://h?q", "h", "/?q", "h", 80, 0, 0},
		{"https://h:80", "h", "/", "h:80", 80, 1, 0},
	};
	struct url u;
	char hh[300];
	size_t i;

	for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int ok = CHECK_INT(url_parse(rows[i].in, &u), 0);

		ok &= CHECK_STR(u.host, rows[i].host);
		ok &= CHECK_STR(u.path, rows[i].path);
		ok &= CHECK_INT(u.port, rows[i].port);
		ok &= CHECK_INT(u.tls, rows[i].tls);
		ok &= CHECK_INT(u.host_is_ip, rows[i].ip);
		ok &= CHECK(url_host_header(&u, hh, sizeof(hh)) > 0);
		ok &= CHECK_STR(hh, rows[i].hosthdr);
		if (!ok)
			fprintf(stderr, "    url: %s\n", rows[i].in);
	}
	CHECK_INT(url_parse("http://h", &u), 0);
	CHECK_INT(url_host_header(&u, hh, 1), -ENOSPC);
}

static void test_bad(void)
{
	static const char *const bad[] = {
		"",
		"ftp://h/",
		"http://",
		"http:///p",
		"http://u:p@h/",
		"http://h:/",
		"http://h:0/",
		"http://h:65536/",
		"http://h:123456/",
		"http://h:8x/",
		"http://[::1/",
		"http://[::1]x/",
		"http://[nothex]/",
		"http://h/a b",
		"http://h/a#frag",
		"http://h/\x01",
		"http://h\x80/",
		"http://h_%/",
		"http://h/\xc3\xa9",
	};
	struct url u;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (!CHECK_INT(url_parse(bad[i], &u), -EINVAL))
			fprintf(stderr, "    accepted '%s'\n", bad[i]);
}

static const struct unit_test tests[] = {
	{"url_good", test_good},
	{"url_bad", test_bad},
};

UNIT_SUITE(url, tests);
