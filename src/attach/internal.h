/* SPDX-License-Identifier: MIT */
/* internal.h - what the files of attach/ share. */
#ifndef S3ROOT_ATTACH_INTERNAL_H
#define S3ROOT_ATTACH_INTERNAL_H

#include "src/attach/attach.h"
#include "src/cache/cache.h"
#include "src/trace/trace.h"

/* state.c: writes nbdN.state (and nbdN.pid) for the calling server, and
 * removes both. 0 or -errno. */
int attach_state_write(int index, const struct attach_req *a,
		       const struct object_info *pin, int use_ioctl);
void attach_state_remove(int index);

/* figures.c: answers attach_figures_fetch and attach_figures_ask for
 * index from a thread of its own (a warning when it cannot); rec is the
 * trace recorder, or NULL. */
void attach_figures_serve(int index, struct cache *cache,
			  struct trace_rec *rec);
/* figures.c: the pid of device index's server by its figures socket
 * (SO_PEERCRED), or -1 if no process answers there. */
int attach_figures_pid(int index);

/* daemon.c: the server of the device, in the forked child. It reports
 * "OK INDEX" or the error through fd, and returns only on failure (1). */
int attach_daemon_run(struct object *ob, const struct opts *o,
		      const struct attach_req *a, int index, int reattach,
		      int use_ioctl, int fd);
/* The root server's credentials follow their copies in /run/s3root/etc,
 * with the resolver's files. Then, set up, it moves into /run/s3root. */
void attach_follow_run_creds(struct opts *o);
void attach_enter_run_dir(void);

#endif
