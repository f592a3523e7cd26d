/* SPDX-License-Identifier: MIT */
/*
 * system.c - the initramfs's own system: the kernel's filesystems, the
 * modules the builder listed, the clock, and what must outlive
 * switch_root in /run/s3root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>
#include "src/boot/internal.h"

void boot_mount_basics(void)
{
	static const struct {
		const char *src, *dir, *type, *data;
	} m[] = {
		{"proc", "/proc", "proc", NULL},
		{"sysfs", "/sys", "sysfs", NULL},
		{"devtmpfs", "/dev", "devtmpfs", NULL},
		{"tmpfs", "/run", "tmpfs", "mode=0755"},
	};
	size_t i;
	int fd;

	for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		mkdir(m[i].dir, 0755);
		if (mount(m[i].src, m[i].dir, m[i].type,
			  MS_NOSUID | MS_NOEXEC * (i < 2), m[i].data) &&
		    errno != EBUSY)
			log_warn("mount %s: %s", m[i].dir, strerror(errno));
	}
	/* without a /dev/console in the initramfs we start with no stdio */
	if (fcntl(2, F_GETFD) < 0) {
		fd = open("/dev/console", O_RDWR | O_NOCTTY);
		if (fd >= 0) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
			if (fd > 2)
				close(fd);
		}
	}
}

/* The modules the builder listed (in list), in dependency order. */
void boot_load_modules(const char *list)
{
	char *buf, *line, *next;
	size_t len;
	int fd;

	if (io_read_file(list, 1 << 20, &buf, &len))
		return;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line || *line == '#')
			continue;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			log_warn("module %s: %s", line, strerror(errno));
			continue;
		}
		/* EEXIST: built in or loaded; ENODEV: no such hardware (an
		 * accelerated crc32c on a CPU without it, say) */
		if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST) {
			if (errno == ENODEV)
				log_debug("%s: no hardware for it", line);
			else
				log_warn("loading %s: %s", line,
					 strerror(errno));
		}
		close(fd);
	}
	free(buf);
}

/* A board without a clock boots in 1970: start from the build time. */
void boot_fix_clock(void)
{
	struct timeval tv = {(time_t)base_build_time, 0};

	if (time(NULL) < base_build_time && !settimeofday(&tv, NULL))
		log_info("clock was before the build time: set to it");
}

/* Copies a file with its modification time (a credential file's copy is
 * not news to the server that watches it). */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	struct stat st;
	char *buf;
	size_t len;
	int fd, r;

	r = io_read_file(from, 64 << 20, &buf, &len);
	if (r)
		return r;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	r = fd < 0 ? -errno : util_write_full(fd, buf, len);
	if (!r && !stat(from, &st))
		futimens(fd, (struct timespec[2]){st.st_atim, st.st_mtim});
	if (fd >= 0)
		close(fd);
	free(buf);
	return r;
}

/*
 * The binary and its files go to /run/s3root (0700), which moves into the
 * new root: list, detach and --reattach work there, and a crashed root
 * server can be restarted while the root is unreachable. initramfs-tools
 * and dracut mount /run noexec: then the binary goes to a small tmpfs of
 * its own, /run/s3root/bin, and /run/s3root/s3root links to it. The state
 * files stay on /run itself, which outlives everything at shutdown (a
 * mount of ours might be unmounted by systemd).
 */
int boot_keep_tools(const char *self)
{
	static const char *const files[] = {"s3root.conf", "passwd",
					    "session_token", "ca.pem"};
	const char *bin = PATH_RUN_BIN;
	char from[64], to[64];
	struct statvfs sv;
	size_t i;
	int r = 0, e;

	mkdir(PATH_RUN_DIR, 0700);
	mkdir(PATH_RUN_ETC, 0700);
	if (!statvfs(PATH_RUN_DIR, &sv) && (sv.f_flag & ST_NOEXEC)) {
		mkdir("/run/s3root/bin", 0700);
		/* a retry finds its tmpfs there already: not another one */
		if ((statvfs("/run/s3root/bin", &sv) ||
		     (sv.f_flag & ST_NOEXEC)) &&
		    mount("tmpfs", "/run/s3root/bin", "tmpfs",
			  MS_NOSUID | MS_NODEV, "mode=0700,size=16m")) {
			log_warn("/run is noexec, and a tmpfs on "
				 "/run/s3root/bin: "
				 "%s",
				 strerror(errno));
			r = -1;
		}
		bin = "/run/s3root/bin/s3root";
		unlink(PATH_RUN_BIN);
		if (symlink("bin/s3root", PATH_RUN_BIN)) {
			log_warn("symlink /run/s3root/s3root: %s",
				 strerror(errno));
			r = -1;
		}
	}
	e = copy_file(self, bin, 0700);
	if (e) {
		log_warn("copying %s to %s: %s", self, bin, strerror(-e));
		r = -1;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(from, sizeof(from), PATH_CONF_DIR "/%s", files[i]);
		snprintf(to, sizeof(to), PATH_RUN_ETC "/%s", files[i]);
		if (!access(from, F_OK) && (e = copy_file(from, to, 0600))) {
			log_warn("copying %s to /run/s3root: %s", from,
				 strerror(-e));
			r = -1;
		}
	}
	return r;
}
