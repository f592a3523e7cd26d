/* SPDX-License-Identifier: MIT */
/* network.c - the network of a boot, from ip= (static or DHCP). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "src/boot/internal.h"
#include "src/net/net.h"

/* How long /init asks for a lease before s3root.onfail. */
#define DHCP_BOOT_TIMEOUT_MS 60000

/* The first network device that is not loopback, waiting for it. */
static int find_device(char *dev, size_t len)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int i;

	for (i = 0; i < 100; i++) {
		if (*dev) {
			snprintf(path, sizeof(path), "/sys/class/net/%s", dev);
			if (!access(path, F_OK))
				return 0;
		} else if ((dir = opendir("/sys/class/net"))) {
			while ((d = readdir(dir)))
				if (d->d_name[0] != '.' &&
				    strcmp(d->d_name, "lo")) {
					snprintf(dev, len, "%.15s", d->d_name);
					break;
				}
			closedir(dir);
			if (*dev)
				return 0;
		}
		usleep(100000);
	}
	return -1;
}

/* ip=dhcp: a lease (refusing unusable ones) into ip, kept for the root
 * server. 0, or -1 after logging why. */
static int network_dhcp(struct boot *b, struct ipconfig *ip)
{
	static struct dhcp_client c; /* large; /init has one */
	int static_dns = ip->dns[0].s_addr != 0, fd;
	char msg[300], a[INET_ADDRSTRLEN], m[INET_ADDRSTRLEN];
	char srv[INET_ADDRSTRLEN];

	if (dhcp_configure(ip, &c, DHCP_BOOT_TIMEOUT_MS, &fd, msg,
			   sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	inet_ntop(AF_INET, &ip->client, a, sizeof(a));
	inet_ntop(AF_INET, &ip->netmask, m, sizeof(m));
	inet_ntop(AF_INET, &c.lease.server, srv, sizeof(srv));
	log_info("DHCP: %s/%d from %s, lease %u s (renewal at %u s, "
		 "rebinding at %u s)",
		 a, __builtin_popcount(ip->netmask.s_addr), srv, ip->lease_s,
		 c.lease.t1_s, c.lease.t2_s);
	if (c.lease.defaulted_mask)
		log_warn("DHCP: no subnet mask in the lease: %s, the class "
			 "default for %s",
			 m, a);
	return boot_lease_keep(b, ip, &c, fd, static_dns);
}

int boot_network(struct boot *b)
{
	struct ipconfig ip;
	char msg[300];
	int r;

	if (!b->ip[0]) {
		log_info("no ip= on the kernel command line: no network setup");
		return 0;
	}
	if (ipconfig_parse(b->ip, &ip, msg, sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	if (ip.off)
		return 0;
	if (find_device(ip.dev, sizeof(ip.dev))) {
		log_err("no network device %s appeared in 10 s (missing driver "
			"module?)",
			ip.dev[0] ? ip.dev : "(any)");
		return -1;
	}
	if (ip.dhcp && network_dhcp(b, &ip))
		return -1;
	if (rtnl_configure(&ip, msg, sizeof(msg))) {
		log_err("network: %s", msg);
		return -1;
	}
	log_info("network: %s up", ip.dev);
	/* where the root server reads it for the life of the system; our
	 * own lookups until then read the same file */
	mkdir(PATH_RUN_DIR, 0700);
	mkdir(PATH_RUN_ETC, 0700);
	r = net_resolv_write(PATH_RUN_RESOLV, ip.dns, 2, b->nameservers,
			     b->nns);
	if (r)
		log_warn("writing " PATH_RUN_RESOLV ": %s", strerror(-r));
	mkdir("/etc", 0755);
	unlink("/etc/resolv.conf");
	if (!r && symlink(PATH_RUN_RESOLV, "/etc/resolv.conf"))
		log_warn("linking /etc/resolv.conf to " PATH_RUN_RESOLV ": %s",
			 strerror(errno));
	return 0;
}
