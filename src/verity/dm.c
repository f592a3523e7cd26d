/* SPDX-License-Identifier: MIT */
/*
 * dm.c - the few device-mapper ioctls s3root needs, on /dev/mapper/control,
 * without libdevmapper: create a device, load a "verity" table, resume
 * it; find and remove it. The structures are the kernel's ABI
 * (linux/dm-ioctl.h, interface version 4); the table line is
 * Documentation/admin-guide/device-mapper/verity.rst's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "crypto/crypto.h"
#include "src/verity/verity.h"

#define DM_CONTROL "/dev/mapper/control"
#define DM_NAME_LEN 128
#define DM_UUID_LEN 129
#define DM_MAX_TYPE_NAME 16
#define DM_READONLY_FLAG (1u << 0)

struct dm_ioctl {
	uint32_t version[3];
	uint32_t data_size;  /* the whole buffer, this header included */
	uint32_t data_start; /* where the payload starts */
	uint32_t target_count;
	int32_t open_count;
	uint32_t flags;
	uint32_t event_nr;
	uint32_t padding;
	uint64_t dev;
	char name[DM_NAME_LEN];
	char uuid[DM_UUID_LEN];
	char data[7];
};

struct dm_target_spec {
	uint64_t sector_start;
	uint64_t length; /* 512-byte sectors */
	int32_t status;
	uint32_t next;
	char target_type[DM_MAX_TYPE_NAME];
};

_Static_assert(sizeof(struct dm_ioctl) == 312, "dm_ioctl ABI");
_Static_assert(sizeof(struct dm_target_spec) == 40, "dm_target_spec ABI");

#define DM_IOCTL 0xfd
enum {
	DM_DEV_CREATE_CMD = 3,
	DM_DEV_REMOVE_CMD = 4,
	DM_DEV_SUSPEND_CMD = 6,
	DM_DEV_STATUS_CMD = 7,
	DM_TABLE_LOAD_CMD = 9,
};
#define DM_REQ(cmd) _IOWR(DM_IOCTL, cmd, struct dm_ioctl)

/* A request with room for one target and its parameters. */
struct dm_req {
	struct dm_ioctl io;
	struct dm_target_spec spec;
	char params[1024];
};

static void dm_init(struct dm_req *r, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->io.version[0] = 4; /* the kernel takes any 4.x at or below its own */
	r->io.data_size = sizeof(*r);
	r->io.data_start = sizeof(r->io);
	snprintf(r->io.name, sizeof(r->io.name), "%s", name);
}

static int dm_call(unsigned long req, struct dm_req *r)
{
	int fd = open(DM_CONTROL, O_RDWR | O_CLOEXEC), e;

	if (fd < 0)
		return -errno;
	e = ioctl(fd, req, r) ? -errno : 0;
	close(fd);
	return e;
}

void dm_name_for(int index, char *name, size_t len)
{
	snprintf(name, len, "s3root-nbd%d", index);
}

/* Waits (5 s at most) for devtmpfs to make the node of dev. */
static int dm_node(uint64_t dev, char *path, size_t pathlen)
{
	/* the kernel's huge_encode_dev(): minor's low 8 bits, major, the
	 * rest of the minor above */
	unsigned minor = (unsigned)((dev & 0xff) | ((dev >> 12) & ~0xffULL));
	struct stat st;
	int i;

	snprintf(path, pathlen, "/dev/dm-%u", minor);
	for (i = 0; i < 50; i++) {
		if (!stat(path, &st) && S_ISBLK(st.st_mode))
			return 0;
		usleep(100000);
	}
	return -ENOENT;
}

int dm_verity_create(const char *name, const char *uuid, const char *dev,
		     const char *hdev, const struct verity_sb *sb,
		     uint64_t hash_start, const char *root_hex, int onerror,
		     char *path, size_t pathlen, char *err, size_t errlen)
{
	static const char *const onerr[] = {"", " 1 panic_on_corruption",
					    " 1 restart_on_corruption"};
	char salt[2 * VERITY_MAX_SALT + 1] = "-", msg[64];
	struct dm_req r;
	size_t len;
	int e;

	if (sb->salt_size)
		hex_encode(salt, sb->salt, sb->salt_size);
	dm_init(&r, name);
	snprintf(r.io.uuid, sizeof(r.io.uuid), "%s", uuid);
	e = dm_call(DM_REQ(DM_DEV_CREATE_CMD), &r);
	if (e) {
		base_fail(err, errlen, "device-mapper: creating %s: %s%s", name,
			  strerror(-e),
			  e == -ENOENT ? " (no " DM_CONTROL
					 ": is dm-mod loaded?)"
				       : "");
		return e;
	}
	/* "verity VERSION DATA HASH DATA_BS HASH_BS DATA_BLOCKS HASH_START
	 * ALG ROOT SALT [N OPTIONAL...]" */
	dm_init(&r, name);
	r.io.flags = DM_READONLY_FLAG;
	r.io.target_count = 1;
	r.spec.length = sb->data_blocks * (VERITY_BLOCK / 512);
	snprintf(r.spec.target_type, sizeof(r.spec.target_type), "verity");
	len = (size_t)snprintf(r.params, sizeof(r.params),
			       "1 %s %s %d %d %llu %llu sha256 %s %s%s", dev,
			       hdev, VERITY_BLOCK, VERITY_BLOCK,
			       (unsigned long long)sb->data_blocks,
			       (unsigned long long)hash_start, root_hex, salt,
			       onerr[onerror < 3 && onerror > 0 ? onerror : 0]);
	r.spec.next = (uint32_t)(sizeof(r.spec) + ((len + 8) & ~7u));
	e = dm_call(DM_REQ(DM_TABLE_LOAD_CMD), &r);
	if (e) {
		base_fail(err, errlen,
			  "device-mapper: loading the verity table of %s: %s%s",
			  name, strerror(-e),
			  e == -EINVAL
				  ? " (is dm-verity loaded? the kernel log "
				    "says more)"
				  : "");
		goto err_remove;
	}
	/* DM_DEV_SUSPEND without DM_SUSPEND_FLAG resumes: the table goes
	 * live */
	dm_init(&r, name);
	e = dm_call(DM_REQ(DM_DEV_SUSPEND_CMD), &r);
	if (e) {
		base_fail(err, errlen, "device-mapper: resuming %s: %s", name,
			  strerror(-e));
		goto err_remove;
	}
	e = dm_node(r.io.dev, path, pathlen);
	if (e) {
		base_fail(err, errlen, "device-mapper: %s: no %s appeared",
			  name, path);
		goto err_remove;
	}
	return 0;
err_remove:
	dm_remove(name, msg, sizeof(msg));
	return e;
}

int dm_remove(const char *name, char *err, size_t errlen)
{
	struct dm_req r;
	int e, i;

	for (i = 0;; i++) {
		dm_init(&r, name);
		e = dm_call(DM_REQ(DM_DEV_REMOVE_CMD), &r);
		/* a udev or blkid probe may hold it for a moment */
		if (e != -EBUSY || i == 20)
			break;
		usleep(100000);
	}
	if (e && e != -ENXIO)
		base_fail(err, errlen, "device-mapper: removing %s: %s", name,
			  strerror(-e));
	return e;
}

int dm_find(const char *name, char *path, size_t pathlen, char *uuid,
	    size_t uuidlen)
{
	struct dm_req r;
	unsigned minor;
	int e;

	dm_init(&r, name);
	e = dm_call(DM_REQ(DM_DEV_STATUS_CMD), &r);
	if (e)
		return e;
	minor = (unsigned)((r.io.dev & 0xff) | ((r.io.dev >> 12) & ~0xffULL));
	snprintf(path, pathlen, "/dev/dm-%u", minor);
	snprintf(uuid, uuidlen, "%.*s", DM_UUID_LEN - 1, r.io.uuid);
	return 0;
}
