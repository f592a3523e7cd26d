/* SPDX-License-Identifier: MIT */
/*
 * fuzz_dhcp.c - DHCP replies as a server (or anyone on the LAN) sends:
 * the parser, the lease checks and the lease file, and the client's
 * state machine fed the reply in each state that reads one.
 */
#include <stdint.h>
#include <string.h>
#include "src/net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	static const enum dhcp_state states[] = {
		DHCP_SELECTING, DHCP_REQUESTING, DHCP_RENEWING, DHCP_REBINDING};
	static struct dhcp_client c;
	struct dhcp_lease l;
	char why[200], buf[600];
	uint32_t xid = 0;
	size_t i;

	if (size >= 8)
		memcpy(&xid, data + 4, 4);
	xid = __builtin_bswap32(xid);
	if (!dhcp_parse_reply(data, size, xid, mac, &l) &&
	    !dhcp_lease_check(&l, why, sizeof(why)))
		dhcp_lease_format(buf, sizeof(buf), &l, "eth0", "bound", 0);
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		dhcp_client_init(&c, mac, 1, 0);
		c.state = states[i];
		c.xid = xid;
		c.lease.client.s_addr = 0x0f02000a; /* 10.0.2.15 */
		c.offer.client = c.lease.client;
		c.keep = c.lease.client;
		dhcp_client_input(&c, 1000, data, size);
		dhcp_client_tick(&c, 2000);
	}
	return 0;
}
