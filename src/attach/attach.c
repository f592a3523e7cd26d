/* SPDX-License-Identifier: MIT */
/*
 * attach.c - an object as /dev/nbdN: open it, check it is EROFS, fork the
 * daemon, wait for its report, and stack dm-verity over the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "src/attach/internal.h"

#define EROFS_MAGIC 0xE0F5E1E2u
#define EROFS_MAGIC_OFF 1024

static int check_erofs(struct object *ob)
{
	uint8_t m[4];
	char msg[1024];
	uint32_t magic;

	if (object_info(ob)->size < EROFS_MAGIC_OFF + 4) {
		log_err("%s is too small to be an EROFS image (-o "
			"s3root.any_image to attach it anyway)",
			object_info(ob)->name);
		return -1;
	}
	if (object_read(ob, m, EROFS_MAGIC_OFF, 4, 0, msg, sizeof(msg))) {
		log_err("%s", msg);
		return -1;
	}
	magic = (uint32_t)m[0] | (uint32_t)m[1] << 8 | (uint32_t)m[2] << 16 |
		(uint32_t)m[3] << 24;
	if (magic != EROFS_MAGIC) {
		log_err("%s is not an EROFS image (magic %08x at offset 1024, "
			"want "
			"%08x; -o s3root.any_image to attach it anyway)",
			object_info(ob)->name, magic, EROFS_MAGIC);
		return -1;
	}
	return 0;
}

/*
 * The dm-verity device over the attached /dev/nbd<index> (and the tree's
 * own /dev/nbd<tree>, or -1), named for it; a->dev becomes its node. On
 * failure both NBD devices are let go.
 */
static int verity_attach(struct attach_req *a, const struct opts *o,
			 const struct verity_sb *sb, uint64_t hash_start,
			 int index, int tree)
{
	char name[32], uuid[64], msg[512], path[32], hdev[32];

	dm_name_for(index, name, sizeof(name));
	snprintf(hdev, sizeof(hdev), "/dev/nbd%d", tree >= 0 ? tree : index);
	if (tree >= 0)
		snprintf(uuid, sizeof(uuid), "s3root-verity-nbd%d-tree-nbd%d",
			 index, tree);
	else
		snprintf(uuid, sizeof(uuid), "s3root-verity-nbd%d", index);
	if (dm_verity_create(name, uuid, a->dev, hdev, sb, hash_start,
			     opts_str(o, OPT_VERITY),
			     (int)opts_num(o, OPT_VERITY_ONERROR), path,
			     sizeof(path), msg, sizeof(msg))) {
		log_err("verity: %s", msg);
		if (kernel_disconnect(0, index, msg, sizeof(msg)))
			log_err("detach %s: %s", a->dev, msg);
		if (tree >= 0 && kernel_disconnect(0, tree, msg, sizeof(msg)))
			log_err("detach %s: %s", hdev, msg);
		return -1;
	}
	log_info("%s: dm-verity (%s) over %s, tree %s%s, root hash %.16s...",
		 path, name, a->dev, tree >= 0 ? "on " : "appended",
		 tree >= 0 ? hdev : "", opts_str(o, OPT_VERITY));
	snprintf(a->dev, sizeof(a->dev), "%s", path);
	return 0;
}

/*
 * The tree's own object (s3root.verity_object) as a device of its own,
 * served by a daemon of its own; its superblock checked for a data
 * device of data_blocks blocks. Its index, or -1 after printing why.
 */
static int attach_tree(const struct attach_req *a, const struct opts *o,
		       uint64_t data_blocks, char **envp, struct attach_req *t)
{
	int i, idx;

	memset(t, 0, sizeof(*t));
	t->source = opts_str(o, OPT_VERITY_OBJECT);
	t->root = a->root;
	t->tree = 1;
	t->tree_blocks = data_blocks;
	if (a->nlists >= ATTACH_MAX_LISTS) {
		log_err("verity: too many -o lists to attach the tree with");
		return -1;
	}
	for (i = 0; i < a->nlists; i++)
		t->lists[t->nlists++] = a->lists[i];
	/* not EROFS: and so for a --reattach from its state file too */
	t->lists[t->nlists++] = "s3root.any_image=1";
	return attach_run(t, envp, &idx) ? -1 : idx;
}

/* attach and mount: 0 with the device's index in *index, or -1. */
int attach_run(struct attach_req *a, char **envp, int *index)
{
	struct opts o = {0};
	struct attach_state st;
	struct object *ob = NULL;
	struct attach_req tree;
	uint64_t data_blocks = 0;
	struct source src;
	struct s3_target t;
	struct creds c;
	char msg[1200];
	int i, r, pfd[2], idx = -1, use_ioctl, reattach = !!a->reattach,
			  tidx = -1, verity;
	pid_t pid;
	ssize_t n;

	if (reattach) {
		idx = attach_device_index(a->reattach);
		r = idx < 0 ? -ENODEV : attach_state_read(idx, &st);
		if (r) {
			log_err("attach --reattach '%s': %s", a->reattach,
				r == -ENODEV ? "not /dev/nbdN"
				: r == -EINVAL
					? "a damaged state file "
					  "in " PATH_RUN_DIR
					: "no state in " PATH_RUN_DIR
					  " (was it attached by s3root?)");
			return -1;
		}
		a->source = st.source;
		for (i = 0; i < st.noptions; i++) {
			a->lists[a->nlists++] = st.options[i];
			if (opts_parse_list(&o, st.options[i], OPT_SRC_ARG, msg,
					    sizeof(msg))) {
				log_err("%s", msg);
				return -1;
			}
		}
		/* the old server, if alive, goes first: the kernel then
		 * takes the new sockets in place of the dead ones */
		if (st.pid > 0 && !kill(st.pid, SIGTERM))
			for (i = 0; i < 100 && !kill(st.pid, 0); i++)
				usleep(50000);
	} else {
		for (i = 0; i < a->nlists; i++) {
			/* each list becomes a line of the state file */
			if (strlen(a->lists[i]) >= sizeof(st.options[0])) {
				log_err("attach: -o list longer than %zu bytes "
					"(split it into several -o)",
					sizeof(st.options[0]) - 1);
				return -1;
			}
			if (opts_parse_list(&o, a->lists[i], OPT_SRC_ARG, msg,
					    sizeof(msg))) {
				log_err("%s", msg);
				return -1;
			}
		}
		if (a->device && (idx = attach_device_index(a->device)) < 0) {
			log_err("attach: --device '%s' is not /dev/nbdN",
				a->device);
			return -1;
		}
	}
	if (s3_setup(&o, a->source, envp, &src, &t, &c))
		goto err;
	r = object_open(&ob, &o, &src, &t, &c, envp, msg, sizeof(msg));
	creds_free(&c);
	if (r) {
		log_err("%s", msg);
		goto err;
	}
	if (!a->tree && !opts_num(&o, OPT_ANY_IMAGE) && check_erofs(ob))
		goto err;
	/* before the kernel sees the device: a wrong root hash or a bad
	 * superblock is refused with a clear message here, not as EIO from
	 * the mount (an attached device keeps its table: not again) */
	verity = opts_isset(&o, OPT_VERITY) && !reattach && !a->tree;
	if (a->tree && !reattach)
		r = verity_check_object(ob, opts_str(&o, OPT_VERITY), 0,
					a->tree_blocks, &a->vsb, &a->hash_start,
					msg, sizeof(msg));
	else if (verity && opts_isset(&o, OPT_VERITY_OFFSET))
		r = verity_check_object(
			ob, opts_str(&o, OPT_VERITY),
			opts_num(&o, OPT_VERITY_OFFSET),
			opts_num(&o, OPT_VERITY_OFFSET) / VERITY_BLOCK,
			&tree.vsb, &tree.hash_start, msg, sizeof(msg));
	else
		r = 0;
	if (r) {
		log_err("verity: %s", msg);
		goto err;
	}
	/* a tree of its own covers the whole image, zero-filled to a block */
	data_blocks = (object_info(ob)->size + VERITY_BLOCK - 1) / VERITY_BLOCK;
	use_ioctl = opts_num(&o, OPT_NBD) == NBDIF_IOCTL;
	if (pipe2(pfd, O_CLOEXEC)) {
		log_err("pipe: %s", strerror(errno));
		goto err;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		goto err;
	}
	if (!pid) {
		close(pfd[0]);
		setsid();
		if (a->root)
			attach_follow_run_creds(&o);
		else if (chdir("/") < 0)
			_exit(1);
		exit(attach_daemon_run(ob, &o, a, idx, reattach, use_ioctl,
				       pfd[1]));
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	msg[n > 0 ? n : 0] = '\0';
	if (strncmp(msg, "OK ", 3)) {
		log_err("attach %s: %s", object_info(ob)->name,
			n > 0 ? msg : "the server died while starting");
		waitpid(pid, NULL, 0);
		goto err;
	}
	*index = atoi(msg + 3);
	snprintf(a->dev, sizeof(a->dev), "/dev/nbd%d", *index);
	if (verity && opts_isset(&o, OPT_VERITY_OBJECT)) {
		tidx = attach_tree(a, &o, data_blocks, envp, &tree);
		if (tidx < 0) {
			if (kernel_disconnect(0, *index, msg, sizeof(msg)))
				log_err("detach %s: %s", a->dev, msg);
			goto err;
		}
	}
	if (verity &&
	    verity_attach(a, &o, &tree.vsb, tree.hash_start, *index, tidx))
		goto err;
	object_close(ob);
	opts_free(&o);
	return 0;
err:
	object_close(ob);
	opts_free(&o);
	return -1;
}

int attach_device(const char *source, const char *list, char **envp, int root,
		  int *index, char *dev, size_t devlen)
{
	struct attach_req a = {.source = source, .root = root};

	if (list && *list)
		a.lists[a.nlists++] = list;
	if (attach_run(&a, envp, index))
		return -1;
	snprintf(dev, devlen, "%s", a.dev);
	return 0;
}
