/* SPDX-License-Identifier: MIT */
/* internal.h - what the files of boot/ share. */
#ifndef S3ROOT_BOOT_INTERNAL_H
#define S3ROOT_BOOT_INTERNAL_H

#include <sys/types.h>
#include "src/boot/boot.h"

/* A boot's settings: the option table's, and the kernel command line's
 * other words. */
struct boot {
	struct opts o;
	char root[URL_MAX_PATH + 8];  /* root= */
	const char *source;	      /* what to attach: root=, or SOURCE */
	char shown[URL_MAX_PATH + 8]; /* source for messages: no secret */
	char ip[300];
	char nameservers[2][64];
	int nns;
	char list[8192];  /* our options for the root server, as one -o list */
	int bad_verity;	  /* an s3root.verity word that was refused */
	unsigned secrets; /* AWS_* secrets seen on the kernel command line */
	struct boot_lease *lease; /* a DHCP lease the root server renews */
};

/*
 * The one way a boot reads its options, for /init and mountroot alike:
 * the initramfs's config file (PATH_CONFIG, lowest), the kernel command
 * line, then the -o lists; defaults; the list handed on to the root
 * server; then the checks that stop a boot: a config file or kernel
 * command line that cannot be read, options that do not fit the list, a
 * refused s3root.verity (booting on would mount the root unverified), no
 * root=s3:... (unless source is given). b->source is then what to
 * attach. Returns 0, or -1 after logging why. b->o is to be freed with
 * opts_free either way.
 */
int boot_options(struct boot *b, const char *const *lists, int nlists,
		 const char *source);

/* The kernel command line's words into b (boot_options' part): ours,
 * root=, ip=, nameserver=, and AWS_* secrets, which are ignored with a
 * warning that says where they belong. 0, or -1 (an open quote). */
int boot_parse_cmdline(struct boot *b, const char *cmdline);
/* Drops from envp (in place) the AWS_* secrets that the kernel command
 * line set (the kernel puts its NAME=VALUE words there); how many. */
size_t boot_env_scrub(const struct boot *b, char **envp);

/* system.c: /proc, /sys, /dev and /run, and a console for stdio. */
void boot_mount_basics(void);
/* The modules listed in the file list, in its order (dependencies first). */
void boot_load_modules(const char *list);
/* A board without a clock starts from the build time. */
void boot_fix_clock(void);
/* The binary (self) and /etc/s3root's files into /run/s3root. 0, or -1
 * after a warning. */
int boot_keep_tools(const char *self);

/* network.c: ip= (none: no setup). 0, or -1 after logging why. */
int boot_network(struct boot *b);

struct ipconfig;
struct dhcp_client;
/*
 * lease.c: the lease of c (BOUND, on ip->dev, leased over fd, which this
 * takes) into PATH_RUN_LEASE; with s3root.dhcp=renew, kept in b->lease
 * for the root server to renew (static_dns: ip= named the DNS servers, a
 * renewal leaves them). 0, or -1 after logging why.
 */
int boot_lease_keep(struct boot *b, const struct ipconfig *ip,
		    const struct dhcp_client *c, int fd, int static_dns);
/* The root's attach: b->source with b->list, opened by open_by
 * (util_mono_ms; 0: as s3.io_timeout says), its server renewing b->lease.
 * 0 with the device's index and node, or -1 after logging why. */
int boot_attach(struct boot *b, char **envp, int64_t open_by, int *index,
		char *dev, size_t devlen);

/* root.c: with s3root.verity, a root that is not /dev/dm-N is refused
 * (1 after logging it), else 0. */
int boot_unverified(const struct opts *o, const char *dev);
/* dev (EROFS) on dir, under a tmpfs overlay when overlay. 0 or -1. */
int boot_mount_root(const char *dev, int overlay, const char *dir);
/* switch_root to PATH_NEWROOT and exec init; returns -1 if it could not
 * (before anything was destroyed, when its preconditions fail). */
int boot_switch_root(const char *init);
/* s3root.onfail: retry after 10 s, a shell, or reboot. */
void boot_on_failure(int how);

#endif
