/* SPDX-License-Identifier: MIT */
/*
 * attach.c - an object as /dev/nbdN: open it, check it is EROFS, fork the
 * daemon, wait for its report, and stack dm-verity over the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "nbd/nbd.h"
#include "src/attach/internal.h"

#define EROFS_MAGIC 0xE0F5E1E2u
#define EROFS_MAGIC_OFF 1024

static int check_erofs(struct object *ob, int64_t deadline)
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
	if (object_read(ob, m, EROFS_MAGIC_OFF, 4, deadline, msg,
			sizeof(msg))) {
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
	t->open_by = a->open_by;
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

/* One attach under way. */
struct job {
	struct attach_req *a;
	struct opts o;
	struct attach_state st; /* a reattach's: a's strings point here */
	struct source src;	/* its source, checked */
	struct object *ob;
	int idx; /* the device asked for (--device, --reattach), or -1 */
	int reattach, use_ioctl;
	int verity;		/* stack dm-verity over the device */
	struct attach_req tree; /* its appended tree's superblock */
	uint64_t data_blocks;	/* the image's, for a tree of its own */
	struct trace replay;	/* s3root.trace=SOURCE's */
	const char *trace_src;	/* its fetch, under way (job_trace_start) */
	char **trace_envp;
	int64_t trace_by;
	pthread_t trace_th;
	int trace_on, trace_r; /* the thread runs; what it returned */
};

/*
 * The old server goes first, if alive; but a pid from a state file may
 * be another process's by now (after a crash): only the process that
 * answers on the device's figures socket is signalled. 0 or -1 (logged:
 * it would not go).
 */
static int old_server_stop(int idx, int pid)
{
	int i;

	if (kill(pid, 0))
		return 0; /* gone */
	if (attach_figures_pid(idx) != pid) {
		log_warn("attach --reattach /dev/nbd%d: pid %d is not its "
			 "server (the server's socket does not answer for it): "
			 "not signalled",
			 idx, pid);
		return 0;
	}
	if (kill(pid, SIGTERM))
		return 0;
	for (i = 0; i < 100 && !kill(pid, 0); i++)
		usleep(50000);
	if (!kill(pid, 0)) {
		log_err("attach --reattach /dev/nbd%d: its server (pid %d) "
			"did not exit on SIGTERM in 5 s",
			idx, pid);
		return -1;
	}
	return 0;
}

/* How long a published trace may take to arrive: it must not cost a
 * boot more than a few seconds when its server is slow or gone. */
#define TRACE_FETCH_MS 10000

static void *trace_thread(void *arg)
{
	struct job *j = arg;

	j->trace_r = trace_load(&j->o, j->trace_src, j->trace_envp, j->trace_by,
				&j->replay);
	return NULL;
}

/*
 * s3root.trace=SOURCE: the trace to replay, fetched by a thread while the
 * image is opened and checked (the two cost a boot their round trips
 * once, not one after the other); at worst, or without a thread, after it.
 * Whatever goes wrong is a message, never a failed attach. After
 * s3_setup, which completes j->o: both threads only read it until
 * job_trace_end.
 */
static void job_trace_start(struct job *j, char **envp)
{
	const char *src = opts_str(&j->o, OPT_TRACE);

	if (!src || !strcmp(src, "record") || j->reattach || j->a->tree)
		return;
	j->trace_src = src;
	j->trace_envp = envp;
	j->trace_by = util_mono_ms() + TRACE_FETCH_MS;
	if (j->a->open_by && j->a->open_by < j->trace_by)
		j->trace_by = j->a->open_by;
	j->trace_on = !pthread_create(&j->trace_th, NULL, trace_thread, j);
}

/* The fetch's end; the trace, for the daemon (a->replay), if it matches
 * the image (ob: open, or NULL when the attach fails). */
static void job_trace_end(struct job *j, struct object *ob)
{
	if (!j->trace_src)
		return;
	if (j->trace_on)
		pthread_join(j->trace_th, NULL);
	else if (ob)
		j->trace_r = trace_load(&j->o, j->trace_src, j->trace_envp,
					j->trace_by, &j->replay);
	j->trace_src = NULL;
	if (!ob || j->trace_r)
		return; /* a loaded trace is freed with the job */
	if (!trace_match(&j->replay, opts_str(&j->o, OPT_TRACE),
			 object_info(ob)))
		j->a->replay = &j->replay;
}

/* --reattach: the state file's source and options; the old server, if
 * alive, goes first (the kernel then takes the new sockets in place of
 * the dead ones). 0 or -1 (logged). */
static int job_from_state(struct job *j)
{
	struct attach_req *a = j->a;
	char msg[1200];
	int i, r;

	j->idx = attach_device_index(a->reattach);
	r = j->idx < 0 ? -ENODEV : attach_state_read(j->idx, &j->st);
	if (r) {
		log_err("attach --reattach '%s': %s", a->reattach,
			r == -ENODEV   ? "not /dev/nbdN"
			: r == -EINVAL ? "a damaged state file in " PATH_RUN_DIR
				       : "no state in " PATH_RUN_DIR
					 " (was it attached by s3root?)");
		return -1;
	}
	a->source = j->st.source;
	/* before the old server goes: a source that cannot be opened again
	 * (a presigned URL, whose query is never kept) must not cost the
	 * device its server */
	if (source_parse(a->source, &j->src, msg, sizeof(msg))) {
		log_err("attach --reattach '%s': %s", a->reattach, msg);
		return -1;
	}
	for (i = 0; i < j->st.noptions; i++) {
		a->lists[a->nlists++] = j->st.options[i];
		if (opts_parse_list(&j->o, j->st.options[i], OPT_SRC_ARG, msg,
				    sizeof(msg))) {
			log_err("%s", msg);
			return -1;
		}
	}
	if (j->st.pid > 0 && old_server_stop(j->idx, j->st.pid))
		return -1;
	return 0;
}

/* A new attach: the -o lists (each becomes a line of the state file) and
 * --device. 0 or -1 (logged). */
static int job_from_args(struct job *j)
{
	struct attach_req *a = j->a;
	char msg[1200];
	int i;

	for (i = 0; i < a->nlists; i++) {
		if (strlen(a->lists[i]) >= sizeof(j->st.options[0])) {
			log_err("attach: -o list longer than %zu bytes (split "
				"it into several -o)",
				sizeof(j->st.options[0]) - 1);
			return -1;
		}
		if (opts_parse_list(&j->o, a->lists[i], OPT_SRC_ARG, msg,
				    sizeof(msg))) {
			log_err("%s", msg);
			return -1;
		}
	}
	if (a->device && (j->idx = attach_device_index(a->device)) < 0) {
		log_err("attach: --device '%s' is not /dev/nbdN", a->device);
		return -1;
	}
	return 0;
}

/*
 * The root's server, restarted (--reattach of a state file that says
 * root): a root server again ('@', memory locked, attach_follow_run_creds),
 * with what /init kept in PATH_RUN_ETC, not the running root's files: the
 * initramfs's config file, and its credentials and CA unless the state's
 * options name others. The environment to open with (static), or NULL
 * (logged).
 */
static char **root_reattach_env(struct job *j, char **envp)
{
	static const struct {
		enum opt_id id;
		const char *set;
	} files[] = {
		{OPT_PASSWD_FILE, "s3.passwd_file=" PATH_RUN_ETC "/passwd"},
		{OPT_SESSION_TOKEN_FILE,
		 "s3.session_token_file=" PATH_RUN_ETC "/session_token"},
		{OPT_CA, "s3.ca=" PATH_RUN_ETC "/ca.pem"},
	};
	static char *env[256];
	static char conf[] = "S3ROOT_CONFIG=" PATH_RUN_ETC "/s3root.conf",
		    none[] = "S3ROOT_CONFIG=/dev/null";
	char msg[256];
	size_t i, n = 0;

	j->a->root = 1;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!opts_isset(&j->o, files[i].id) &&
		    !access(strchr(files[i].set, '=') + 1, R_OK) &&
		    opts_parse_list(&j->o, files[i].set, OPT_SRC_ARG, msg,
				    sizeof(msg))) {
			log_err("%s", msg);
			return NULL;
		}
	env[n++] = access(conf + 14, R_OK) ? none : conf;
	for (i = 0; envp && envp[i] && n < 255; i++)
		if (strncmp(envp[i], "S3ROOT_CONFIG=", 14))
			env[n++] = envp[i];
	env[n] = NULL;
	log_info("attach --reattach %s: the root's server, with " PATH_RUN_ETC
		 "'s files",
		 j->a->reattach);
	return env;
}

/* A reattach from a state file without a pin (an older s3root's): the
 * device's size must at least be the object's. 0 or -1 (logged). */
static int reattach_size_check(struct job *j)
{
	char path[64], *buf;
	uint64_t size = object_info(j->ob)->size, sectors;
	size_t len;

	if (j->st.pinned)
		return 0;
	log_warn("attach --reattach %s: the state file has no pin (an older "
		 "s3root's): only the size is checked",
		 j->a->reattach);
	snprintf(path, sizeof(path), "/sys/block/nbd%d/size", j->idx);
	if (io_read_file(path, 64, &buf, &len))
		return 0;
	sectors = strtoull(buf, NULL, 10);
	free(buf);
	if (sectors * 512 == (size + NBD_BLOCK - 1) / NBD_BLOCK * NBD_BLOCK)
		return 0;
	log_err("attach --reattach %s: %s has %" PRIu64
		" bytes, the device %" PRIu64
		": the object was replaced (unmount and detach it, then attach "
		"again)",
		j->a->reattach, object_info(j->ob)->name, size, sectors * 512);
	return -1;
}

/* The opened object, checked: EROFS unless s3root.any_image, and before
 * the kernel sees the device, a wrong root hash or a bad superblock
 * refused with a clear message (not as EIO from the mount; an attached
 * device keeps its table: not again on a reattach). 0 or -1 (logged). */
static int job_check(struct job *j)
{
	struct attach_req *a = j->a;
	char msg[1200];
	int r = 0;

	if (j->reattach && reattach_size_check(j))
		return -1;
	if (!a->tree && !opts_num(&j->o, OPT_ANY_IMAGE) &&
	    check_erofs(j->ob, a->open_by))
		return -1;
	j->verity = opts_isset(&j->o, OPT_VERITY) && !j->reattach && !a->tree;
	if (a->tree && !j->reattach)
		r = verity_check_object(j->ob, opts_str(&j->o, OPT_VERITY), 0,
					a->tree_blocks, &a->vsb, &a->hash_start,
					msg, sizeof(msg));
	else if (j->verity && opts_isset(&j->o, OPT_VERITY_OFFSET))
		r = verity_check_object(
			j->ob, opts_str(&j->o, OPT_VERITY),
			opts_num(&j->o, OPT_VERITY_OFFSET),
			opts_num(&j->o, OPT_VERITY_OFFSET) / VERITY_BLOCK,
			&j->tree.vsb, &j->tree.hash_start, msg, sizeof(msg));
	if (r) {
		log_err("verity: %s", msg);
		return -1;
	}
	/* a tree of its own covers the whole image, zero-filled to a block */
	j->data_blocks =
		(object_info(j->ob)->size + VERITY_BLOCK - 1) / VERITY_BLOCK;
	j->use_ioctl = opts_num(&j->o, OPT_NBD) == NBDIF_IOCTL;
	return 0;
}

/* The object, opened (job_check), its trace fetched meanwhile. 0 or -1
 * (logged). */
static int job_open(struct job *j, char **envp)
{
	struct attach_req *a = j->a;
	struct source src;
	struct s3_target t;
	struct creds c;
	char msg[1200];
	int r;

	if (j->reattach && j->st.root) {
		envp = root_reattach_env(j, envp);
		if (!envp)
			return -1;
	}
	if (s3_setup(&j->o, a->source, envp, &src, &t, &c))
		return -1;
	job_trace_start(j, envp);
	r = object_open_pinned(&j->ob, &j->o, &src, &t, &c, envp, a->open_by,
			       j->reattach && j->st.pinned ? &j->st.pin : NULL,
			       msg, sizeof(msg));
	creds_free(&c);
	if (r == -ESTALE && j->reattach)
		log_err("attach --reattach %s: %s; refusing to serve another "
			"object under what was read from the old one (unmount "
			"and detach it, then attach again)",
			a->reattach, msg);
	else if (r)
		log_err("%s", msg);
	r = r ? -1 : job_check(j);
	job_trace_end(j, r ? NULL : j->ob);
	return r;
}

/* Forks the daemon and waits for its report ("OK INDEX" or why not):
 * the device's index, or -1 (logged). */
static int job_spawn(struct job *j)
{
	char msg[1200];
	int pfd[2];
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC)) {
		log_err("pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		log_err("fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (!pid) {
		close(pfd[0]);
		setsid();
		if (j->a->root)
			attach_follow_run_creds(&j->o);
		else if (chdir("/") < 0)
			_exit(1);
		exit(attach_daemon_run(j->ob, &j->o, j->a, j->idx, j->reattach,
				       j->use_ioctl, pfd[1]));
	}
	close(pfd[1]);
	n = read(pfd[0], msg, sizeof(msg) - 1);
	close(pfd[0]);
	msg[n > 0 ? n : 0] = '\0';
	if (strncmp(msg, "OK ", 3)) {
		log_err("attach %s: %s", object_info(j->ob)->name,
			n > 0 ? msg : "the server died while starting");
		waitpid(pid, NULL, 0);
		return -1;
	}
	return atoi(msg + 3);
}

/* dm-verity over the device at index (and the tree's own device). */
static int job_verity(struct job *j, char **envp, int index)
{
	char msg[512];
	int tidx = -1;

	if (opts_isset(&j->o, OPT_VERITY_OBJECT)) {
		tidx = attach_tree(j->a, &j->o, j->data_blocks, envp, &j->tree);
		if (tidx < 0) {
			if (kernel_disconnect(0, index, msg, sizeof(msg)))
				log_err("detach %s: %s", j->a->dev, msg);
			return -1;
		}
	}
	return verity_attach(j->a, &j->o, &j->tree.vsb, j->tree.hash_start,
			     index, tidx);
}

int attach_run(struct attach_req *a, char **envp, int *index)
{
	struct job *j = calloc(1, sizeof(*j)); /* large: not on the stack */
	int r = -1;

	if (!j) {
		log_err("attach: out of memory");
		return -1;
	}
	j->a = a;
	j->idx = -1;
	j->reattach = !!a->reattach;
	if (j->reattach ? job_from_state(j) : job_from_args(j))
		goto out;
	if (job_open(j, envp))
		goto out;
	*index = job_spawn(j);
	if (*index < 0)
		goto out;
	snprintf(a->dev, sizeof(a->dev), "/dev/nbd%d", *index);
	r = j->verity ? job_verity(j, envp, *index) : 0;
out:
	a->replay = NULL;
	trace_free(&j->replay);
	object_close(j->ob);
	opts_free(&j->o);
	free(j);
	return r;
}
