/* SPDX-License-Identifier: MIT */
/*
 * fuzz_netlink.c - every netlink reply parser (family, connect, ack,
 * status, and the error and done messages they all share) on arbitrary
 * bytes. The first byte cuts the rest into two datagrams (0: one), so the
 * state kept across datagrams is exercised too. The expected seq is 1 and
 * the port id 0x1000 (the seeds in corpus/netlink use them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nbd/nbd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct nbd_nl fresh(void)
{
	struct nbd_nl nl;

	memset(&nl, 0, sizeof(nl));
	nl.fd = -1;
	nl.seq = 1;
	nl.pid = 0x1000;
	nl.family = 0x1b;
	return nl;
}

/* The kernel's text must stay a string, whatever came in. */
static void check(const struct nbd_nl *nl, int r)
{
	if (r > 1 || !memchr(nl->err, 0, sizeof(nl->err)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *b;
	size_t alen, blen;
	struct nbd_nl nl;
	struct nbd_nl_dev devs[4];
	unsigned n = 0;
	int index = -1, r;

	if (!size)
		return 0;
	alen = data[0] ? (size_t)data[0] * 4 : size - 1;
	if (alen > size - 1)
		alen = size - 1;
	data++;
	b = data + alen;
	blen = size - 1 - alen;

	nl = fresh();
	nl.family = 0;
	r = nbd_nl_parse_family_reply(&nl, data, alen);
	if (r == 1)
		r = nbd_nl_parse_family_reply(&nl, b, blen);
	check(&nl, r);
	if (!r && nl.family <= 0x10)
		abort();

	nl = fresh();
	r = nbd_nl_parse_connect_reply(&nl, data, alen, &index);
	if (r == 1)
		r = nbd_nl_parse_connect_reply(&nl, b, blen, &index);
	check(&nl, r);
	if (index < -1)
		abort();

	nl = fresh();
	r = nbd_nl_parse_ack(&nl, data, alen);
	if (r == 1)
		r = nbd_nl_parse_ack(&nl, b, blen);
	check(&nl, r);

	nl = fresh();
	r = nbd_nl_parse_status_reply(&nl, data, alen, devs, 4, &n);
	if (r == 1)
		r = nbd_nl_parse_status_reply(&nl, b, blen, devs, 4, &n);
	check(&nl, r);
	return 0;
}
