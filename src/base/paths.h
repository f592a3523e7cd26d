/* SPDX-License-Identifier: MIT */
/*
 * paths.h - where s3root keeps its files, the same in an initramfs and on
 * a running system (shared/DESIGN.md, "Files").
 */
#ifndef S3ROOT_BASE_PATHS_H
#define S3ROOT_BASE_PATHS_H

/* Configuration, credentials and the CA bundle. */
#define PATH_CONF_DIR "/etc/s3root"
#define PATH_CONFIG PATH_CONF_DIR "/s3root.conf"
#define PATH_PASSWD PATH_CONF_DIR "/passwd"
#define PATH_SESSION_TOKEN PATH_CONF_DIR "/session_token"
#define PATH_CA PATH_CONF_DIR "/ca.pem"
/* The kernel modules /init loads, one name a line (mkinitramfs-s3root). */
#define PATH_MODULES PATH_CONF_DIR "/modules"
#define PATH_MODULES_VERITY PATH_CONF_DIR "/modules.verity"

/*
 * What outlives switch_root: a 0700 tmpfs directory that moves into the new
 * root with /run. The binary, a copy of /etc/s3root (etc/), the state
 * files of attached devices and the overlay's layers.
 */
#define PATH_RUN_DIR "/run/s3root"
#define PATH_RUN_BIN PATH_RUN_DIR "/s3root"
#define PATH_RUN_ETC PATH_RUN_DIR "/etc"
/*
 * The root server's resolver files: getaddrinfo reads them at every lookup.
 * The root server's own root is PATH_RUN_DIR (attach_follow_run_creds), so
 * they are its /etc/resolv.conf and /etc/hosts, and every PATH_RUN_* path
 * names the same file inside it (run/s3root is a link to it there). Write
 * PATH_RUN_RESOLV with net_resolv_write (atomic) when the DNS servers
 * change; /init's /etc/resolv.conf is a link to it.
 */
#define PATH_RUN_RESOLV PATH_RUN_ETC "/resolv.conf"
#define PATH_RUN_HOSTS PATH_RUN_ETC "/hosts"
#define PATH_LOWER PATH_RUN_DIR "/lower"
#define PATH_OVERLAY PATH_RUN_DIR "/overlay"
/* The DHCP lease, for the running system: key=value lines. */
#define PATH_RUN_LEASE PATH_RUN_DIR "/lease"

/* Where /init mounts the root before it switches to it. */
#define PATH_NEWROOT "/sysroot"

#endif
