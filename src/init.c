/* SPDX-License-Identifier: MIT */
/*
 * init.c - `s3root init`, and what s3root does as PID 1 in an initramfs:
 * mount the kernel's filesystems, read the kernel command line, load the
 * modules the builder listed, bring the network up, attach root=s3:... as
 * /dev/nbdN, mount it (under a tmpfs overlay by default), and switch_root
 * into it, the way toybox's switch_root does it: preconditions first.
 * `s3root mountroot DIR` is the middle of that flow for a distribution's
 * initramfs (initramfs-tools, dracut), whose own init does the rest.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <dirent.h>
#include <unistd.h>
#include "src/s3root.h"

#define CONF_DIR "/etc/s3root"
#define MODULES_LIST CONF_DIR "/modules"
#define MODULES_VERITY CONF_DIR "/modules.verity"
#define NEWROOT "/sysroot"
#define LOWER "/run/s3root/lower"
#define OVERLAY "/run/s3root/overlay"
#define RAMFS_MAGIC 0x858458f6
#define TMPFS_MAGIC 0x01021994

/* What the kernel command line says that is not in the option table. */
struct boot {
	char root[URL_MAX_PATH + 8];
	char ip[300];
	char nameservers[2][64];
	int nns;
	char list[8192]; /* our kernel command-line options, for attach */
	int bad_verity;	 /* an s3root.verity word that was refused */
};

static void boot_word(void *arg, const char *w)
{
	struct boot *b = arg;

	if (!strncmp(w, "root=", 5))
		snprintf(b->root, sizeof(b->root), "%s", w + 5);
	else if (!strncmp(w, "ip=", 3))
		snprintf(b->ip, sizeof(b->ip), "%s", w + 3);
	else if (!strncmp(w, "nameserver=", 11) && b->nns < 2)
		snprintf(b->nameservers[b->nns++], 64, "%s", w + 11);
}

static void boot_warn(void *arg, const char *msg)
{
	struct boot *b = arg;

	/* ignoring a bad root hash would boot unverified: never */
	if (strstr(msg, "s3root.verity")) {
		err("kernel command line: %s", msg);
		b->bad_verity = 1;
		return;
	}
	warn("kernel command line: %s (ignored)", msg);
}

static void mount_basics(void)
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
			warn("mount %s: %s", m[i].dir, strerror(errno));
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
static void load_modules(const char *list)
{
	char *buf, *line, *next;
	size_t len;
	int fd;

	if (read_file(list, 1 << 20, &buf, &len))
		return;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line || *line == '#')
			continue;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			warn("module %s: %s", line, strerror(errno));
			continue;
		}
		/* EEXIST: built in or loaded; ENODEV: no such hardware (an
		 * accelerated crc32c on a CPU without it, say) */
		if (syscall(SYS_finit_module, fd, "", 0) && errno != EEXIST) {
			if (errno == ENODEV)
				debug("%s: no hardware for it", line);
			else
				warn("loading %s: %s", line, strerror(errno));
		}
		close(fd);
	}
	free(buf);
}

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

static int network(struct boot *b)
{
	struct ipconfig ip;
	char msg[300], dns[32];
	FILE *f;
	int i;

	if (!b->ip[0]) {
		info("no ip= on the kernel command line: no network setup");
		return 0;
	}
	if (ipconfig_parse(b->ip, &ip, msg, sizeof(msg))) {
		err("%s", msg);
		return -1;
	}
	if (ip.off)
		return 0;
	if (find_device(ip.dev, sizeof(ip.dev))) {
		err("no network device %s appeared in 10 s (missing driver "
		    "module?)",
		    ip.dev[0] ? ip.dev : "(any)");
		return -1;
	}
	if (ip.dhcp) {
		if (dhcp_configure(&ip, msg, sizeof(msg))) {
			err("%s", msg);
			return -1;
		}
		info("DHCP: %s, lease %u s",
		     inet_ntop(AF_INET, &ip.client, dns, sizeof(dns)),
		     ip.lease_s);
	}
	if (rtnl_configure(&ip, msg, sizeof(msg))) {
		err("network: %s", msg);
		return -1;
	}
	info("network: %s up", ip.dev);
	mkdir("/etc", 0755);
	f = fopen("/etc/resolv.conf", "w");
	if (f) {
		for (i = 0; i < 2; i++)
			if (ip.dns[i].s_addr &&
			    inet_ntop(AF_INET, &ip.dns[i], dns, sizeof(dns)))
				fprintf(f, "nameserver %s\n", dns);
		for (i = 0; i < b->nns; i++)
			fprintf(f, "nameserver %s\n", b->nameservers[i]);
		fclose(f);
	}
	return 0;
}

/* A board without a clock boots in 1970: start from the build time. */
static void fix_clock(void)
{
	struct timeval tv = {(time_t)s3root_build_time, 0};

	if (time(NULL) < s3root_build_time && !settimeofday(&tv, NULL))
		info("clock was before the build time: set to it");
}

/* Copies a file with its modification time (a credential file's copy is
 * not news to the server that watches it). */
static int copy_file(const char *from, const char *to, mode_t mode)
{
	struct stat st;
	char *buf;
	size_t len;
	int fd, r;

	r = read_file(from, 64 << 20, &buf, &len);
	if (r)
		return r;
	fd = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0 || write(fd, buf, len) != (ssize_t)len)
		r = -errno;
	else if (!stat(from, &st))
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
static int keep_tools(const char *self)
{
	static const char *const files[] = {"s3root.conf", "passwd",
					    "session_token", "ca.pem"};
	const char *bin = "/run/s3root/s3root";
	char from[64], to[64];
	struct statvfs sv;
	size_t i;
	int r = 0, e;

	mkdir("/run/s3root", 0700);
	mkdir("/run/s3root/etc", 0700);
	if (!statvfs("/run/s3root", &sv) && (sv.f_flag & ST_NOEXEC)) {
		mkdir("/run/s3root/bin", 0700);
		/* a retry finds its tmpfs there already: not another one */
		if ((statvfs("/run/s3root/bin", &sv) ||
		     (sv.f_flag & ST_NOEXEC)) &&
		    mount("tmpfs", "/run/s3root/bin", "tmpfs",
			  MS_NOSUID | MS_NODEV, "mode=0700,size=16m")) {
			warn("/run is noexec, and a tmpfs on /run/s3root/bin: "
			     "%s",
			     strerror(errno));
			r = -1;
		}
		bin = "/run/s3root/bin/s3root";
		unlink("/run/s3root/s3root");
		if (symlink("bin/s3root", "/run/s3root/s3root")) {
			warn("symlink /run/s3root/s3root: %s", strerror(errno));
			r = -1;
		}
	}
	e = copy_file(self, bin, 0700);
	if (e) {
		warn("copying %s to %s: %s", self, bin, strerror(-e));
		r = -1;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(from, sizeof(from), CONF_DIR "/%s", files[i]);
		snprintf(to, sizeof(to), "/run/s3root/etc/%s", files[i]);
		if (!access(from, F_OK) && (e = copy_file(from, to, 0600))) {
			warn("copying %s to /run/s3root: %s", from,
			     strerror(-e));
			r = -1;
		}
	}
	return r;
}

/* The device on dir: EROFS, read-only, under a tmpfs overlay unless
 * overlay is 0 (both layers live in /run/s3root, which moves along). */
/* With a root hash, the root must be the dm-verity device: never nbd. */
static int unverified(const struct opts *o, const char *dev)
{
	if (!opts_isset(o, OPT_VERITY) || !strncmp(dev, "/dev/dm-", 8))
		return 0;
	err("s3root.verity is set but the root came up as %s, not a "
	    "dm-verity device: refusing it",
	    dev);
	return 1;
}

static int mount_root(const char *dev, int overlay, const char *dir)
{
	char opts[128];

	mkdir(dir, 0755);
	if (!overlay) {
		if (mount(dev, dir, "erofs", MS_RDONLY, NULL)) {
			err("mount %s (erofs) on %s: %s", dev, dir,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	mkdir("/run/s3root", 0700);
	mkdir(LOWER, 0755);
	mkdir(OVERLAY, 0755);
	if (mount(dev, LOWER, "erofs", MS_RDONLY, NULL)) {
		err("mount %s (erofs): %s", dev, strerror(errno));
		return -1;
	}
	if (mount("tmpfs", OVERLAY, "tmpfs", 0, "mode=0755") ||
	    mkdir(OVERLAY "/upper", 0755) || mkdir(OVERLAY "/work", 0755)) {
		err("overlay tmpfs: %s", strerror(errno));
		umount2(OVERLAY, MNT_DETACH);
		umount2(LOWER, MNT_DETACH);
		return -1;
	}
	snprintf(opts, sizeof(opts),
		 "lowerdir=" LOWER ",upperdir=" OVERLAY
		 "/upper,workdir=" OVERLAY "/work");
	if (mount("overlay", dir, "overlay", 0, opts)) {
		err("mount overlay on %s: %s (is the overlay module loaded?)",
		    dir, strerror(errno));
		umount2(OVERLAY, MNT_DETACH);
		umount2(LOWER, MNT_DETACH);
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
		_exit(chroot(NEWROOT) || chdir("/") || access(init, X_OK));
	return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st);
}

static int switch_root(const char *init)
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
	    stat(NEWROOT, &st) || !init_in_newroot(init)) {
		err("switch_root: not PID 1 on a ramfs, or %s is not an "
		    "executable in the image",
		    init);
		return -1;
	}
	for (i = 0; i < sizeof(moved) / sizeof(moved[0]); i++) {
		snprintf(path, sizeof(path), NEWROOT "%s", moved[i]);
		if (mount(moved[i], path, NULL, MS_MOVE, NULL))
			warn("moving %s: %s", moved[i], strerror(errno));
	}
	if (chdir(NEWROOT)) {
		err("chdir " NEWROOT ": %s", strerror(errno));
		return -1;
	}
	stat("/", &st);
	fd = open("/", O_RDONLY | O_DIRECTORY);
	if (fd >= 0)
		delete_tree(fd, st.st_dev);
	if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".") || chdir("/")) {
		err("switch_root: %s", strerror(errno));
		return -1;
	}
	execl(init, init, (char *)NULL);
	err("exec %s: %s", init, strerror(errno));
	return -1;
}

/* What to do when booting fails (s3root.onfail; default retry). */
static void on_failure(int how)
{
	if (how == ONFAIL_REBOOT) {
		err("rebooting in 10 s (s3root.onfail=reboot)");
		sleep(10);
		sync();
		reboot(RB_AUTOBOOT);
	}
	if (how == ONFAIL_SHELL && access("/bin/sh", X_OK)) {
		err("no shell in this initramfs (build it --with-shell for "
		    "s3root.onfail=shell)");
	} else if (how == ONFAIL_SHELL) {
		pid_t pid;

		/* a child, so that leaving the shell tries the boot again
		 * instead of ending PID 1 (a kernel panic) */
		err("starting a shell (s3root.onfail=shell); exit it to try "
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
	err("trying again in 10 s (s3root.onfail=retry)");
	sleep(10);
}

int cmd_init(int argc, char **argv, char **envp)
{
	struct boot b = {0};
	struct opts o = {0};
	char *cmdline = NULL, *conf, msg[768], dev[32];
	const char *init;
	size_t len;
	int index, onfail, overlay, bad_conf = 0, list_cut;

	/* what follows mounts over /dev and /run and ends in switch_root:
	 * never on a running system */
	if (getpid() != 1) {
		if (argc > 1 &&
		    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
			printf("usage: s3root init (as PID 1 only)\n"
			       "The initramfs's /init: attaches root=s3:BUCKET/"
			       "KEY from the kernel command line\nand switches "
			       "to it. It runs by itself as PID 1.\n\n");
			opts_print_help(stdout);
			return 0;
		}
		err("init: not PID 1: it runs only as an initramfs's /init");
		return 1;
	}
	mount_basics();
	log_to_kmsg(1);
	info("s3root %s starting as /init", s3root_version);
	if (!read_file(CONF_DIR "/s3root.conf", 256 * 1024, &conf, &len)) {
		if (opts_parse_file(&o, conf, len, CONF_DIR "/s3root.conf", msg,
				    sizeof(msg))) {
			err("%s", msg);
			bad_conf = strstr(conf, "s3root.verity") != NULL;
		}
		free(conf);
	}
	if (read_file("/proc/cmdline", 64 * 1024, &cmdline, &len))
		cmdline = strdup("");
	opts_parse_kcmdline(&o, cmdline, boot_word, boot_warn, &b);
	/* a cut list would drop options (the verity ones come last) */
	list_cut = opts_to_list(&o, OPT_SRC_KCMDLINE, b.list, sizeof(b.list));
	free(cmdline);
	opts_finish(&o, msg, sizeof(msg));
	if (opts_num(&o, OPT_DEBUG))
		log_set_level(LOG_DEBUG);
	onfail = (int)opts_num(&o, OPT_ONFAIL);
	if (list_cut) {
		err("kernel command line: too many s3 options to hand on to "
		    "the root server");
		for (;;)
			on_failure(onfail);
	}
	overlay = opts_num(&o, OPT_OVERLAY) == OVERLAY_TMPFS;
	init = opts_str(&o, OPT_INIT);
	if (strncmp(b.root, "s3:", 3) && strncmp(b.root, "http://", 7) &&
	    strncmp(b.root, "https://", 8)) {
		err("root=%s is not root=s3:BUCKET/KEY (or an http(s) URL)",
		    b.root[0] ? b.root : "(none)");
		for (;;)
			on_failure(onfail);
	}
	/* a root hash that was given and refused must stop the boot: going
	 * on would mount the root unverified */
	if (b.bad_verity || bad_conf) {
		err("s3root.verity is set but not valid (see above): refusing "
		    "to boot an unverified root");
		for (;;)
			on_failure(onfail);
	}
	load_modules(MODULES_LIST);
	if (opts_isset(&o, OPT_VERITY))
		load_modules(MODULES_VERITY);
	fix_clock();
	while (network(&b))
		on_failure(onfail);
	/* first: the root server follows its credentials there */
	keep_tools(argv[0][0] == '/' ? argv[0] : "/init");
	for (;;) {
		if (attach_device(b.root, b.list, envp, 1, &index, dev,
				  sizeof(dev))) {
			on_failure(onfail);
			continue;
		}
		if (!unverified(&o, dev) && !mount_root(dev, overlay, NEWROOT))
			break;
		/* give the device back before trying again */
		umount2(LOWER, MNT_DETACH);
		if (detach_device(index, msg, sizeof(msg)))
			warn("%s", msg);
		on_failure(onfail);
	}
	info("root=%s on %s; starting %s", b.root, dev, init);
	for (;;) {
		switch_root(init);
		on_failure(onfail);
	}
}

enum { M_OPT = 1, M_NETWORK, M_HELP };

static const struct cli_opt mountroot_opts[] = {
	{"-o", CLI_MANY, M_OPT},
	{"--network", 0, M_NETWORK},
	{"-h", 0, M_HELP},
	{"--help", 0, M_HELP},
	{NULL, 0, 0},
};

static void mountroot_usage(FILE *f)
{
	fprintf(f,
		"usage: s3root mountroot DIR [SOURCE] [-o OPTS] [--network]\n"
		"For a distribution's initramfs (initramfs-tools, dracut): "
		"attaches SOURCE, or\nroot=s3:BUCKET/KEY of the kernel command "
		"line, as the root filesystem's server\n(marked '@' for "
		"systemd, memory locked, oom_score_adj -1000), copies itself\n"
		"and /etc/s3root to /run/s3root, and mounts the image on DIR "
		"under a tmpfs\noverlay (s3root.overlay=none: read-only). "
		"Options come from the config file,\nthe kernel command line "
		"and -o, in rising order. --network brings the\nnetwork up "
		"first from the kernel command line's ip= (dhcp without one).\n"
		"The initramfs's init must move /run into the new root.\n\n");
	opts_print_help(f);
}

/* Joins the kernel command line's options and the -o lists into one list
 * for attach, in rising precedence. 0, or -1 if it does not fit. */
static int join_lists(char *out, size_t len, const char *const *lists, int n)
{
	size_t used = strlen(out), l;
	int i;

	for (i = 0; i < n; i++) {
		l = strlen(lists[i]);
		if (!l)
			continue;
		if (used + !!used + l + 1 > len)
			return -1;
		if (used)
			out[used++] = ',';
		memcpy(out + used, lists[i], l + 1);
		used += l;
	}
	return 0;
}

int cmd_mountroot(int argc, char **argv, char **envp)
{
	struct cli cl = {.argc = argc, .argv = argv, .i = 1};
	const char *arg, *dir = NULL, *source = NULL, *lists[32];
	struct boot b = {0};
	struct opts o = {0};
	char *cmdline = NULL, *conf, msg[768], dev[32];
	struct stat st;
	size_t len;
	int id, nlists = 0, net = 0, index, r = 1;

	while ((id = cli_next(&cl, mountroot_opts, &arg)) != -1) {
		switch (id) {
		case -2:
			return 1;
		case 0:
			if (!dir) {
				dir = arg;
			} else if (!source) {
				source = arg;
			} else {
				err("mountroot: unexpected argument '%.100s'",
				    arg);
				return 1;
			}
			break;
		case M_OPT:
			if (nlists == 32) {
				err("mountroot: more than 32 -o (join them: "
				    "-o KEY=VALUE,KEY=VALUE)");
				return 1;
			}
			lists[nlists++] = arg;
			break;
		case M_NETWORK:
			net = 1;
			break;
		case M_HELP:
			mountroot_usage(stdout);
			return 0;
		}
	}
	if (!dir) {
		err("mountroot: DIR is required (where the root is mounted)");
		return 1;
	}
	if (stat(dir, &st)) {
		err("mountroot: %s: %s", dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		err("mountroot: %s: not a directory", dir);
		return 1;
	}
	/* the options, to check them and to know the overlay: the config
	 * file (lowest), the kernel command line, -o */
	if (!read_file(CONF_DIR "/s3root.conf", 256 * 1024, &conf, &len)) {
		r = opts_parse_file(&o, conf, len, CONF_DIR "/s3root.conf", msg,
				    sizeof(msg));
		free(conf);
		if (r) {
			err("%s", msg);
			goto out;
		}
	}
	if (read_file("/proc/cmdline", 64 * 1024, &cmdline, &len))
		cmdline = strdup("");
	if (!cmdline) {
		err("mountroot: out of memory");
		goto out;
	}
	r = opts_parse_kcmdline(&o, cmdline, boot_word, boot_warn, &b);
	free(cmdline);
	if (r) {
		err("mountroot: the kernel command line has an open quote");
		goto out;
	}
	r = 1;
	if (opts_to_list(&o, OPT_SRC_KCMDLINE, b.list, sizeof(b.list)) ||
	    join_lists(b.list, sizeof(b.list), lists, nlists)) {
		err("mountroot: too many options to hand on to the server");
		goto out;
	}
	for (id = 0; id < nlists; id++)
		if (opts_parse_list(&o, lists[id], OPT_SRC_ARG, msg,
				    sizeof(msg))) {
			err("%s", msg);
			goto out;
		}
	if (opts_finish(&o, msg, sizeof(msg))) {
		err("%s", msg);
		goto out;
	}
	if (!source && strncmp(b.root, "s3:", 3) &&
	    strncmp(b.root, "http://", 7) && strncmp(b.root, "https://", 8)) {
		err("mountroot: no SOURCE given, and the kernel command line "
		    "has no root=s3:BUCKET/KEY");
		goto out;
	}
	/* a root hash that was given and refused must stop the boot: going
	 * on would mount the root unverified */
	if (b.bad_verity) {
		err("mountroot: s3root.verity is set but not valid (see "
		    "above): "
		    "refusing to mount an unverified root");
		goto out;
	}
	if (!source)
		source = b.root;
	/* from here on, what happens belongs in the boot's log */
	log_to_kmsg(1);
	if (opts_num(&o, OPT_DEBUG))
		log_set_level(LOG_DEBUG);
	if (net) {
		if (!b.ip[0])
			snprintf(b.ip, sizeof(b.ip), "dhcp");
		if (network(&b))
			goto out;
	}
	fix_clock();
	/* first: the root server follows its credentials there */
	if (keep_tools("/proc/self/exe"))
		warn("mountroot: /run/s3root is incomplete: list, detach and "
		     "--reattach may not work on the running system");
	if (attach_device(source, b.list, envp, 1, &index, dev, sizeof(dev)))
		goto out;
	if (unverified(&o, dev) ||
	    mount_root(dev, opts_num(&o, OPT_OVERLAY) == OVERLAY_TMPFS, dir)) {
		if (detach_device(index, msg, sizeof(msg)))
			warn("%s", msg);
		goto out;
	}
	info("root=%s on %s, mounted on %s", source, dev, dir);
	printf("%s on %s\n", dev, dir);
	r = fflush(stdout) ? 1 : 0;
out:
	opts_free(&o);
	return r ? 1 : 0;
}
