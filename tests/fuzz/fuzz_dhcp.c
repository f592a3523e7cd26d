/* SPDX-License-Identifier: MIT */
/* fuzz_dhcp.c - DHCP replies as a server (or anyone on the LAN) sends. */
#include <stdint.h>
#include <string.h>
#include "src/net/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
	struct dhcp_lease l;
	uint32_t xid = 0;

	if (size >= 8)
		memcpy(&xid, data + 4, 4);
	dhcp_parse_reply(data, size, __builtin_bswap32(xid), mac, &l);
	return 0;
}
