/* SPDX-License-Identifier: MIT */
/* detach.c - letting go of a device, and what is stacked on it. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "src/attach/internal.h"

/* The tree device's index from the dm device's uuid; -1 if none. */
int attach_tree_index(const char *uuid)
{
	const char *t = strstr(uuid, "-tree-nbd");

	return t ? attach_device_index(t + 9) : -1;
}

/* The first device stacked on /dev/nbd<index> (dm-N), if any. */
static int holder_of(int index, char *name, size_t len)
{
	char dir[64];
	struct dirent *e;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof(dir), "/sys/block/nbd%d/holders", index);
	d = opendir(dir);
	if (!d)
		return 0;
	while (!found && (e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(name, len, "%s", e->d_name);
			found = 1;
		}
	closedir(d);
	return found;
}

int detach_device(int index, char *err, size_t errlen)
{
	char name[32], path[32], uuid[160], msg[512];
	int r, tree = -1, i;
	struct attach_state st;

	dm_name_for(index, name, sizeof(name));
	if (!dm_find(name, path, sizeof(path), uuid, sizeof(uuid)))
		tree = attach_tree_index(uuid);
	r = dm_remove(name, msg, sizeof(msg));
	if (r && r != -ENXIO && r != -ENOENT)
		return base_fail(err, errlen, "detach /dev/nbd%d: %s%s", index,
				 msg, r == -EBUSY ? " (unmount it first)" : "");
	/* a verity tree's device under another device's dm target, say */
	if (holder_of(index, msg, sizeof(msg)))
		return base_fail(
			err, errlen,
			"detach /dev/nbd%d: in use by /dev/%s (detach or "
			"remove that first)",
			index, msg);
	r = attach_state_read(index, &st);
	if (kernel_disconnect(!r && st.use_ioctl, index, msg, sizeof(msg)))
		return base_fail(err, errlen, "detach /dev/nbd%d: %s", index,
				 msg);
	/* the server sees its sockets close and exits */
	for (i = 0; !r && st.pid > 0 && i < 100 && !kill(st.pid, 0); i++)
		usleep(50000);
	if (!r && st.pid > 0 && !kill(st.pid, 0))
		log_warn("the server of /dev/nbd%d (pid %d) is still running",
			 index, st.pid);
	attach_state_remove(index);
	return tree >= 0 && tree != index ? detach_device(tree, err, errlen)
					  : 0;
}
