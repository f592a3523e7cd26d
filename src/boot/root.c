/* SPDX-License-Identifier: MIT */
/*
 * root.c - the root filesystem: mounted (EROFS under a tmpfs overlay),
 * switched to the way toybox's switch_root does it (preconditions first),
 * and what to do when a boot fails.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "src/boot/internal.h"

#define RAMFS_MAGIC 0x858458f6
#define TMPFS_MAGIC 0x01021994

/* With a root hash, the root must be the dm-verity device: never nbd. */
int boot_unverified(const struct opts *o, const char *dev)
{
	if (!opts_isset(o, OPT_VERITY) || !strncmp(dev, "/dev/dm-", 8))
		return 0;
	log_err("s3root.verity is set but the root came up as %s, not a "
		"dm-verity device: refusing it",
		dev);
	return 1;
}

/* The device on dir: EROFS, read-only, under a tmpfs overlay unless
 * overlay is 0 (both layers live in /run/s3root, which moves along). */
int boot_mount_root(const char *dev, int overlay, const char *dir)
{
	char opts[128];

	mkdir(dir, 0755);
	if (!overlay) {
		if (mount(dev, dir, "erofs", MS_RDONLY, NULL)) {
			log_err("mount %s (erofs) on %s: %s", dev, dir,
				strerror(errno));
			return -1;
		}
		return 0;
	}
	mkdir(PATH_RUN_DIR, 0700);
	mkdir(PATH_LOWER, 0755);
	mkdir(PATH_OVERLAY, 0755);
	if (mount(dev, PATH_LOWER, "erofs", MS_RDONLY, NULL)) {
		log_err("mount %s (erofs): %s", dev, strerror(errno));
		return -1;
	}
	if (mount("tmpfs", PATH_OVERLAY, "tmpfs", 0, "mode=0755") ||
	    mkdir(PATH_OVERLAY "/upper", 0755) ||
	    mkdir(PATH_OVERLAY "/work", 0755)) {
		log_err("overlay tmpfs: %s", strerror(errno));
		umount2(PATH_OVERLAY, MNT_DETACH);
		umount2(PATH_LOWER, MNT_DETACH);
		return -1;
	}
	snprintf(opts, sizeof(opts),
		 "lowerdir=" PATH_LOWER ",upperdir=" PATH_OVERLAY
		 "/upper,workdir=" PATH_OVERLAY "/work");
	if (mount("overlay", dir, "overlay", 0, opts)) {
		log_err("mount overlay on %s: %s (is the overlay module "
			"loaded?)",
			dir, strerror(errno));
		umount2(PATH_OVERLAY, MNT_DETACH);
		umount2(PATH_LOWER, MNT_DETACH);
		return -1;
	}
	return 0;
}

/* Deletes the initramfs (on the root's device only), as switch_root does. */
static void delete_tree(int dirfd, dev_t rootdev)
{
	struct dirent *d;
	struct stat st;
	DIR *dir = fdopendir(dirfd);
	int fd;

	if (!dir)
		return;
	while ((d = readdir(dir))) {
		if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, ".."))
			continue;
		if (fstatat(dirfd, d->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    st.st_dev != rootdev)
			continue; /* a mount point: not ours to empty */
		if (S_ISDIR(st.st_mode)) {
			fd = openat(dirfd, d->d_name, O_RDONLY | O_DIRECTORY);
			if (fd >= 0)
				delete_tree(fd, rootdev);
			unlinkat(dirfd, d->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd, d->d_name, 0);
		}
	}
	closedir(dir);
}

/*
 * Whether init is an executable in the new root, looked up from inside it:
 * on a merged-/usr system /sbin/init is a symlink to an absolute path
 * (/lib/systemd/systemd) that only the new root resolves.
 */
static int init_in_newroot(const char *init)
{
	pid_t pid;
	int st;

	pid = fork();
	if (pid < 0)
		return 0;
	if (!pid)
		_exit(chroot(PATH_NEWROOT) || chdir("/") || access(init, X_OK));
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

int boot_switch_root(const char *init)
{
	static const char *const moved[] = {"/dev", "/proc", "/sys", "/run"};
	char path[300];
	struct statfs sfs;
	struct stat st;
	size_t i;
	int fd;

	/* preconditions before anything is destroyed */
	if (getpid() != 1 || statfs("/", &sfs) ||
	    (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC) ||
	    stat(PATH_NEWROOT, &st) || !init_in_newroot(init)) {
		log_err("switch_root: not PID 1 on a ramfs, or %s is not an "
			"executable in the image",
			init);
		return -1;
	}
	for (i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		snprintf(path, sizeof(path), PATH_NEWROOT "%s", moved[i]);
		if (mount(moved[i], path, NULL, MS_MOVE, NULL))
			log_warn("moving %s: %s", moved[i], strerror(errno));
	}
	if (chdir(PATH_NEWROOT)) {
		log_err("chdir " PATH_NEWROOT ": %s", strerror(errno));
		return -1;
	}
	stat("/", &st);
	fd = open("/", O_RDONLY | O_DIRECTORY);
	if (fd >= 0)
		delete_tree(fd, st.st_dev);
	if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/")) {
		log_err("switch_root: %s", strerror(errno));
		return -1;
	}
	execl(init, init, (char *)NULL);
	log_err("exec %s: %s", init, strerror(errno));
	return -1;
}

/* What to do when booting fails (s3root.onfail; default retry). */
void boot_on_failure(int how)
{
	if (how == ONFAIL_REBOOT) {
		log_err("rebooting in 10 s (s3root.onfail=reboot)");
		sleep(10);
		sync();
		reboot(RB_AUTOBOOT);
	}
	if (how == ONFAIL_SHELL && access("/bin/sh", X_OK)) {
		log_err("no shell in this initramfs (build it --with-shell for "
			"s3root.onfail=shell)");
	} else if (how == ONFAIL_SHELL) {
		pid_t pid;

		/* a child, so that leaving the shell tries the boot again
		 * instead of ending PID 1 (a kernel panic) */
		log_err("starting a shell (s3root.onfail=shell); exit it to "
			"try "
			"again");
		pid = fork();
		if (pid == 0) {
			setsid();
			ioctl(0, TIOCSCTTY, 1); /* ^C reaches the shell */
			execl("/bin/sh", "sh", (char *)NULL);
			_exit(127);
		}
		while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return;
	}
	log_err("trying again in 10 s (s3root.onfail=retry)");
	sleep(10);
}
