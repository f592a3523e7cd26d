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

int boot_network(struct boot *b)
{
	struct ipconfig ip;
	char msg[300], dns[32];
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
	if (ip.dhcp) {
		if (dhcp_configure(&ip, msg, sizeof(msg))) {
			log_err("%s", msg);
			return -1;
		}
		log_info("DHCP: %s, lease %u s",
			 inet_ntop(AF_INET, &ip.client, dns, sizeof(dns)),
			 ip.lease_s);
	}
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
