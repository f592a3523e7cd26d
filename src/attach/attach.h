/* SPDX-License-Identifier: MIT */
/*
 * attach.h - objects as /dev/nbdN on this machine: the kernel's NBD
 * devices, the daemon that serves one (through the cache), its state file
 * in /run/s3root and its live figures, the dm-verity device stacked over
 * it, and detaching. Exports: attach_*, detach_*, kernel_*.
 */
#ifndef S3ROOT_ATTACH_H
#define S3ROOT_ATTACH_H

#include <stddef.h>
#include <stdint.h>
#include "src/conf/conf.h"
#include "src/verity/verity.h"

/* ---- the kernel's NBD devices (kernel.c) ---- */

struct kdev_status {
	int index;
	int connected;
};

/*
 * How many sockets a device gets: s3root.nbd_sockets, but one with the
 * ioctls, and one when the kernel is to have no request timeout
 * (s3root.nbd_timeout=0, the default): Linux honours "none" only on a
 * device with one socket (README: "When S3 goes away"). Says so when it
 * caps, and warns when a kernel timeout will end reads that the server
 * would retry for ever (s3.io_timeout=0).
 */
unsigned kernel_sockets(const struct opts *o, int use_ioctl);

/*
 * Connects /dev/nbd<index> (index -1: any free one, returned in *got) to
 * the kernel ends of n sockets, for an export of size bytes, read-only,
 * by netlink; with use_ioctl by the old ioctls (one socket, NBD_DO_IT on
 * a thread of its own). Timeouts from the s3root.nbd_* options; then
 * the queue's read_ahead_kb and max_sectors_kb from s3root.*_kb (a
 * refusal is a warning).
 */
int kernel_connect(int use_ioctl, int index, const int *fds, unsigned n,
		   uint64_t size, const struct opts *o, int *got, char *err,
		   size_t errlen);
/* Gives an attached device new sockets (NBD_CMD_RECONFIGURE): 0 or
 * -errno with a message in err. */
int kernel_reconfigure(int index, const int *fds, unsigned n,
		       const struct opts *o, char *err, size_t errlen);
/* Disconnects /dev/nbd<index> (by ioctl when use_ioctl). 0 or -errno with
 * a message in err. */
int kernel_disconnect(int use_ioctl, int index, char *err, size_t errlen);
/* Every NBD device the kernel has (at most max), connected or not, in
 * devs[0..*n). 0 or -errno with a message in err. */
int kernel_status(struct kdev_status *devs, size_t max, size_t *n, char *err,
		  size_t errlen);

/* ---- attaching (attach.c, daemon.c) ---- */

#define ATTACH_MAX_LISTS 32

/* What to attach; borrowed strings, which must outlive attach_run. For a
 * reattach, attach_run points source and lists into the state file it
 * read: they are not valid after it returns. */
struct trace;
struct attach_req {
	const char *source;   /* SOURCE (not for a reattach) */
	const char *device;   /* /dev/nbdN to use, or NULL: any free one */
	const char *reattach; /* /dev/nbdN to give a new server, or NULL */
	const char *lists[ATTACH_MAX_LISTS]; /* -o lists (the state file) */
	int nlists;
	int root; /* the root filesystem's server (/init, mountroot) */
	/* Work that lives as long as the server (the root's DHCP lease):
	 * called once in the daemon, on its main thread, when the device is
	 * connected and served and the parent has its answer; it must return
	 * at once (start a thread). Its messages go where the daemon's do.
	 * NULL: none. */
	void (*daemon_start)(void *arg);
	void *daemon_arg;
	char dev[32]; /* out: what to mount, /dev/nbdN or /dev/dm-N */
	/* when to give up opening the object (util_mono_ms; 0: as
	 * s3.io_timeout says) */
	int64_t open_by;
	/* attach.c's own: the verity tree's object attached for a data
	 * device of tree_blocks blocks, and its checked superblock */
	int tree;
	uint64_t tree_blocks, hash_start;
	struct verity_sb vsb;
	/* the published trace to replay (s3root.trace=SOURCE), or NULL */
	const struct trace *replay;
};

/*
 * Opens the object, forks the daemon that serves it, connects the device
 * (or reconfigures it, for a reattach) and stacks dm-verity over it when
 * s3root.verity says so. With a->root, the daemon is the root
 * filesystem's server: marked '@' for systemd, memory locked, logging to
 * /dev/kmsg. Returns 0 with the device's index in *index and a->dev set,
 * or -1 after logging why.
 */
int attach_run(struct attach_req *a, char **envp, int *index);

/*
 * Lets go of /dev/nbd<index> as `s3root detach` does: the dm-verity device
 * over it first (-EBUSY while mounted), then the device, waiting for its
 * server to exit, then the device of its tree's own object. 0, or -errno
 * with a message in err.
 */
int detach_device(int index, char *err, size_t errlen);

/* "/dev/nbd3", "nbd3" or "3" -> 3; -1 if it is none of them. */
int attach_device_index(const char *dev);
/* The tree's device index from a dm device's uuid; -1 if none. */
int attach_tree_index(const char *uuid);

/* ---- what /run/s3root knows of a device (state.c) ---- */

/* nbdN.state: the source and -o lists (never secrets), the server's pid,
 * the object's pin (size, ETag, version id, Last-Modified: pinned is 0 in
 * a state file of an s3root that wrote none) and whether it is the root's
 * server. */
struct attach_state {
	char source[URL_MAX_PATH + 320];
	char options[ATTACH_MAX_LISTS][OPT_MAX_VALUE + 64];
	int noptions;
	int pid;
	int use_ioctl;
	int pinned;
	struct object_info pin; /* name unset: it is source */
	int root;
};

/*
 * Reads state file text (NUL-terminated, changed in place): unknown keys
 * are ignored; a value that does not fit, a bad pid or no source make it
 * -EINVAL (a truncated source or option must never be used).
 */
int attach_state_parse(char *buf, struct attach_state *st);
/* Reads /dev/nbd<index>'s state file: 0, -EINVAL or -errno. */
int attach_state_read(int index, struct attach_state *st);

/*
 * Asks /dev/nbd<index>'s server for its live figures (text lines, or one
 * JSON object) into buf (NUL-terminated): only a server run by root or
 * our own user (SO_PEERCRED), its answer cleaned (attach_figures_clean).
 * 0, or -1 if it is silent, not trusted or not valid.
 */
int attach_figures_fetch(int index, int json, char *buf, size_t len);
/*
 * What attach_figures_fetch does with an answer before anyone sees it:
 * text keeps printable ASCII and newlines (the rest become '?'); JSON
 * must be one object of printable text with its brackets and strings
 * closed. 0, or -1 if it is not to be shown.
 */
int attach_figures_clean(char *buf, int json);
/*
 * Asks /dev/nbd<index>'s server one of the figures socket's questions
 * (figures.c: 'S' stop the trace recording, 'T' stop it and send the
 * trace) and reads the whole answer, at most max bytes, into a malloc'd
 * NUL-terminated *out of *len bytes: only of a server run by root or our
 * own user (SO_PEERCRED). 0, -ECONNREFUSED (no server answers), -EPERM
 * (another user's process holds the socket), -EFBIG or -errno.
 */
int attach_figures_ask(int index, char what, size_t max, char **out,
		       size_t *len);

#endif
