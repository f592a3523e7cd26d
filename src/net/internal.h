/* SPDX-License-Identifier: MIT */
/* internal.h - what the files of net/ share: DHCP's numbers. */
#ifndef S3ROOT_NET_INTERNAL_H
#define S3ROOT_NET_INTERNAL_H

#include "src/net/net.h"

#define DHCP_FIXED 236 /* op .. file (RFC 2131 section 2) */
#define DHCP_MAGIC 0x63825363u
#define BOOTREQUEST 1
#define BOOTREPLY 2
#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

/* RFC 2132 option codes; 121 is RFC 3442's */
enum {
	OPT_PAD = 0,
	OPT_SUBNET = 1,
	OPT_ROUTER = 3,
	OPT_DNS = 6,
	OPT_REQUESTED_IP = 50,
	OPT_LEASE = 51,
	OPT_MSG_TYPE = 53,
	OPT_SERVER_ID = 54,
	OPT_PARAMS = 55,
	OPT_MESSAGE = 56,
	OPT_T1 = 58,
	OPT_T2 = 59,
	OPT_ROUTES = 121,
	OPT_END = 255,
};

/* option 53's values (RFC 2132 section 9.6) */
enum {
	DHCPDISCOVER = 1,
	DHCPOFFER,
	DHCPREQUEST,
	DHCPDECLINE,
	DHCPACK,
	DHCPNAK
};

#endif
