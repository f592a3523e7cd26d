/* SPDX-License-Identifier: MIT */
/* s3root.h - what the files of src/ share: options, sources, credentials. */
#ifndef S3ROOT_S3ROOT_H
#define S3ROOT_S3ROOT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "http/http.h"

/* ---- logging (log.c) ---- */

enum log_level { LOG_ERR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_msg(enum log_level lvl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
void log_set_level(enum log_level lvl);
/* Also writes every message to /dev/kmsg (as /init and the root daemon). */
void log_to_kmsg(int on);

/* ---- the option table (options.c) ---- */

enum opt_id {
	OPT_ENDPOINT,
	OPT_PASSWD_FILE,
	OPT_SESSION_TOKEN_FILE,
	OPT_REGION,
	OPT_SIG,
	OPT_URLSTYLE,
	OPT_CA,
	OPT_INSECURE,
	OPT_RESOLVE,
	OPT_CONNECTIONS,
	OPT_CACHE,
	OPT_CHUNK,
	OPT_PREFETCH,
	OPT_PREFETCH_RATE,
	OPT_CACHE_FILE,
	OPT_CONNECT_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_IO_TIMEOUT,
	OPT_OVERLAY,
	OPT_NBD,
	OPT_ANY_IMAGE,
	OPT_INIT,
	OPT_ONFAIL,
	OPT_NBD_SOCKETS,
	OPT_NBD_TIMEOUT,
	OPT_NBD_DEAD_TIMEOUT,
	OPT_VERITY,
	OPT_VERITY_OFFSET,
	OPT_VERITY_OBJECT,
	OPT_VERITY_ONERROR,
	OPT_DEBUG,
	OPT__COUNT
};

/* Where a value came from; a later set wins unless its source ranks lower. */
enum opt_src {
	OPT_SRC_NONE,
	OPT_SRC_CONFIG,	  /* /etc/s3root/s3root.conf */
	OPT_SRC_ENV,	  /* AWS_REGION ... */
	OPT_SRC_KCMDLINE, /* the kernel command line */
	OPT_SRC_ARG,	  /* -o on the command line */
};

/* Values of the enumerated options, in the order of their choices. */
enum { SIG_V2, SIG_V4 };
enum { URLSTYLE_VHOST, URLSTYLE_PATH };
enum { OVERLAY_TMPFS, OVERLAY_NONE };
enum { NBDIF_NETLINK, NBDIF_IOCTL };
enum { ONFAIL_RETRY, ONFAIL_SHELL, ONFAIL_REBOOT };
enum { VERITY_EIO, VERITY_PANIC, VERITY_RESTART };

struct opt_val {
	char *str;    /* the value as given (malloc'd), for every kind */
	uint64_t num; /* booleans, numbers, sizes (bytes), durations (ms) and
			 the index of an enumerated choice */
	enum opt_src src;
};

struct opts {
	struct opt_val v[OPT__COUNT];
};

#define OPT_MAX_VALUE 4096

/*
 * Setting and parsing. Errors are written to err (one line, no newline) and
 * returned as -EINVAL.
 */
int opts_set(struct opts *o, const char *key, const char *value,
	     enum opt_src src, char *err, size_t errlen);
/* "k=v,k2=v2" as given to -o; "\," is a comma inside a value. */
int opts_parse_list(struct opts *o, const char *list, enum opt_src src,
		    char *err, size_t errlen);
/*
 * Config file text: "key = value" lines, '#' comments. name is used in
 * messages ("FILE:LINE: ...").
 */
int opts_parse_file(struct opts *o, const char *text, size_t len,
		    const char *name, char *err, size_t errlen);
/*
 * Kernel command line: words split on spaces, double quotes group. Words
 * starting "s3." or "s3root." are ours: unknown or bad ones are reported
 * through warn_fn and skipped. Every other word goes to other_fn (may be
 * NULL). Returns 0, or -EINVAL if the line is malformed (an open quote).
 */
int opts_parse_kcmdline(struct opts *o, const char *line,
			void (*other_fn)(void *arg, const char *word),
			void (*warn_fn)(void *arg, const char *msg), void *arg);
/*
 * The environment's part (AWS_REGION, AWS_DEFAULT_REGION, AWS_ENDPOINT_URL,
 * AWS_CA_BUNDLE). envp is the environment to read.
 */
int opts_load_env(struct opts *o, char *const *envp, char *err, size_t errlen);
/* Fills every unset option with its default. */
int opts_finish(struct opts *o, char *err, size_t errlen);
/*
 * The options set from src, as one -o list ("k=v,k2=v2", commas escaped),
 * to hand them on (the root server's state file). 0 or -ENOSPC.
 */
int opts_to_list(const struct opts *o, enum opt_src src, char *out, size_t len);
void opts_free(struct opts *o);

const char *opts_str(const struct opts *o, enum opt_id id);
uint64_t opts_num(const struct opts *o, enum opt_id id);
int opts_isset(const struct opts *o, enum opt_id id);
/* Prints the table (key, kind, default, help) for --help. */
void opts_print_help(FILE *f);

/* Reads NAME=... from envp; NULL when unset. */
const char *env_get(char *const *envp, const char *name);

/* ---- sources and S3 addressing (source.c) ---- */

#define S3_MAX_BUCKET 255
#define S3_MAX_KEY 1024

struct source {
	int plain; /* an http(s) URL: no S3, no signing */
	char bucket[S3_MAX_BUCKET + 1];
	char key[S3_MAX_KEY + 1];     /* raw bytes, not encoded */
	char url[URL_MAX_PATH + 300]; /* the plain URL */
};

/*
 * Parses s3://bucket/key, s3:bucket/key, bucket/key or http(s)://URL.
 * Returns 0 or -EINVAL with a message in err.
 */
int source_parse(const char *s, struct source *src, char *err, size_t errlen);

/* Where a request for the object goes and what it is signed as. */
struct s3_target {
	struct url url; /* scheme, connect host, port, path */
	char host_header[URL_MAX_HOST + S3_MAX_BUCKET + 10];
	char resource[3 * (S3_MAX_BUCKET + S3_MAX_KEY) + 4]; /* SigV2 */
	int vhost;
};

int s3_target_init(const struct opts *o, const struct source *src,
		   struct s3_target *t, char *err, size_t errlen);

/* ---- signed request heads (s3req.c) ---- */

struct sigv4_signer;
struct sig_param;
struct sig_trace;
struct creds;

#define S3REQ_MAX_HEADERS 40

/* What to sign: borrowed pointers, they must outlive the s3_req. */
struct s3_req_in {
	const char *method;
	const struct s3_target *target;
	int sig;		   /* SIG_V2 or SIG_V4 */
	const char *region;	   /* SigV4 scope */
	const struct creds *creds; /* NULL or no key: unsigned */
	const char *const *names;  /* extra headers, sent and signed */
	const char *const *values;
	size_t nheaders;
	const struct sig_param *params; /* query parameters (decoded) */
	size_t nparams;
	int64_t time;
	const char *payload; /* SIGV4_UNSIGNED_PAYLOAD or SIGV4_EMPTY_SHA256 */
};

/* A request head ready to send: Host first, then the rest, in order. */
struct s3_req {
	const char *method;
	char target[URL_MAX_PATH + 1]; /* path and query for the request line */
	const char *names[S3REQ_MAX_HEADERS];
	const char *values[S3REQ_MAX_HEADERS];
	size_t n;
	char amz_date[17];
	char date[30];
	char auth[2048];
};

/*
 * Builds and signs a request. canon and sts (may be NULL) receive the
 * signed text for `sign -v`. Returns 0, or -errno with a message in err.
 */
int s3_req_sign(struct s3_req *q, const struct s3_req_in *in,
		struct sigv4_signer *signer, struct sig_trace *canon,
		struct sig_trace *sts, char *err, size_t errlen);

/* Writes the head as sent on the wire (CRLF line ends, a User-Agent, the
 * final empty line). Returns the length or -ENOSPC. */
long s3_req_format(const struct s3_req *q, char *out, size_t outlen);

/* ---- S3 answers (s3resp.c) ---- */

struct s3_error {
	char code[64];
	char message[256];
	char region[64];
	char endpoint[256];
};

/* Reads an <Error> body (len bytes, not NUL-terminated). 0 or -EINVAL. */
int s3_error_parse(const char *body, size_t len, struct s3_error *e);

/* "bytes START-END/TOTAL", checked for order. 0 or -EINVAL. */
int s3_parse_content_range(const char *s, uint64_t *start, uint64_t *end,
			   uint64_t *total);

/*
 * The server's clock against ours, from a Date header: when the offset
 * (server time - our time at sending) differs from *offset by five
 * minutes or more (S3 allows 15), stores it and returns 1; else 0.
 */
#define S3_SKEW_LIMIT 300
int s3_clock_offset(const char *date, int64_t sent_at, int64_t *offset);

/* ---- credentials (creds.c) ---- */

struct creds {
	char *access_key;
	char *secret_key;
	char *session_token;
	const char *origin; /* "environment", a file name: for messages */
};

/*
 * Loads credentials for bucket from the option's files or the environment
 * (whichever ranks higher: -o over the environment over the config file).
 * No credentials at all is not an error: requests are then anonymous.
 */
int creds_load(struct creds *c, const struct opts *o, char *const *envp,
	       const char *bucket, char *err, size_t errlen);
/*
 * Parses s3fs passwd text ("ACCESS:SECRET" or "BUCKET:ACCESS:SECRET"
 * lines, '#' comments). A bucket's own line wins over the default one.
 */
int creds_parse_passwd(struct creds *c, const char *text, size_t len,
		       const char *bucket, char *err, size_t errlen);
void creds_free(struct creds *c);

/* ---- files (util.c) ---- */

/*
 * Reads a whole file (at most max bytes) into a NUL-terminated malloc'd
 * buffer. Returns 0 or -errno (-EFBIG when larger than max).
 */
int read_file(const char *path, size_t max, char **buf, size_t *len);

/* Formats a message into err (when errlen > 0); returns -EINVAL. */
int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Writes s to an existing file (a /proc or /sys knob). 0 or -errno. */
int write_file_str(const char *path, const char *s);

/* Prints s as a JSON string (RFC 8259 7). */
void json_print_str(FILE *f, const char *s);

/* ---- network configuration (ipconfig.c) ---- */

#include <netinet/in.h>

struct ipconfig {
	int dhcp; /* ask a DHCP server (the default without an address) */
	int off;  /* no network setup */
	struct in_addr client, netmask, gateway, dns[2];
	char hostname[65];
	char dev[16];	  /* "" = the first interface that is not loopback */
	uint32_t lease_s; /* from DHCP */
};

/* What a DHCP server answered (dhcp.c). */
struct dhcp_lease {
	int type; /* DHCPOFFER 2, DHCPACK 5, DHCPNAK 6 */
	struct in_addr client, netmask, router, server, dns[2];
	uint32_t lease_s;
};

/*
 * Reads a DHCP reply (RFC 2131 section 2, options RFC 2132) for our
 * transaction xid and hardware address. 0, -ESRCH (not ours), -EBADMSG.
 */
int dhcp_parse_reply(const uint8_t *p, size_t n, uint32_t xid,
		     const uint8_t mac[6], struct dhcp_lease *l);
/* Brings ip->dev up and leases an address for it into ip. 0 or -errno. */
int dhcp_configure(struct ipconfig *ip, char *err, size_t errlen);

/* Parses the value of ip= (the kernel's syntax). 0 or -EINVAL. */
int ipconfig_parse(const char *s, struct ipconfig *ip, char *err,
		   size_t errlen);

/* ---- the kernel's NBD devices (kernel.c) ---- */

struct kdev_status {
	int index;
	int connected;
};

/*
 * Connects /dev/nbd<index> (index -1: any free one, returned in *got) to
 * the kernel ends of n sockets, for an export of size bytes, read-only,
 * by netlink; with use_ioctl by the old ioctls (one socket, NBD_DO_IT on
 * a thread of its own). Timeouts from the s3root.nbd_* options.
 */
int kernel_connect(int use_ioctl, int index, const int *fds, unsigned n,
		   uint64_t size, const struct opts *o, int *got, char *err,
		   size_t errlen);
/* Gives an attached device new sockets (NBD_CMD_RECONFIGURE). */
int kernel_reconfigure(int index, const int *fds, unsigned n,
		       const struct opts *o, char *err, size_t errlen);
int kernel_disconnect(int index, int use_ioctl, char *err, size_t errlen);
/* Every NBD device the kernel has, connected or not. */
int kernel_status(struct kdev_status *devs, size_t max, size_t *n, char *err,
		  size_t errlen);

/*
 * Attaches source (with the -o list, which may be NULL) as /dev/nbdN,
 * served by a daemon, as `s3root attach` does; with root set, the daemon
 * is the root filesystem's server (marked '@' for systemd, memory
 * locked, logging to /dev/kmsg). 0 with *index and, in dev, what to
 * mount (/dev/nbdN, or the dm-verity device over it with s3root.verity),
 * or -1 after printing why.
 */
int attach_device(const char *source, const char *list, char **envp, int root,
		  int *index, char *dev, size_t devlen);

/*
 * Lets go of /dev/nbd<index> as `s3root detach` does: the dm-verity device
 * over it first, the device of its tree's own object after it. 0, or -1
 * with a message in err.
 */
int detach_device(int index, char *err, size_t errlen);

/* main()'s argv: the root daemon marks argv[0] for systemd. */
extern char **s3root_argv;

/* Brings up ip->dev with ip's address and default route. 0 or -EIO. */
int rtnl_configure(const struct ipconfig *ip, char *err, size_t errlen);

/* ---- dm-verity hash trees (verity.c) ---- */

/*
 * The on-disk format veritysetup (cryptsetup) writes and the kernel's
 * dm-verity reads (Documentation/admin-guide/device-mapper/verity.rst):
 * format version 1, SHA-256, 4096-byte data and hash blocks. A block's
 * hash is SHA-256(salt || block); hashes of one level fill hash blocks
 * (128 to a block, zero-padded) whose hashes make the level above, up to
 * a level of one block, whose hash is the root hash. The levels are
 * stored top first, after a 4096-byte superblock.
 */
#define VERITY_BLOCK 4096
#define VERITY_HASH 32
#define VERITY_MAX_SALT 256
#define VERITY_MAX_LEVELS 12

struct verity_sb {
	uint64_t data_blocks;
	uint16_t salt_size;
	uint8_t salt[VERITY_MAX_SALT];
	uint8_t uuid[16];
};

/* The levels of a tree for data_blocks: blocks[0] is the leaf level. */
struct verity_geom {
	int levels;
	uint64_t blocks[VERITY_MAX_LEVELS];
	uint64_t total; /* hash blocks in all levels */
};

/* 0, or -EINVAL when data_blocks is below 2 (or absurdly large). */
int verity_geometry(uint64_t data_blocks, struct verity_geom *g);
/* SHA-256(salt || block), block VERITY_BLOCK bytes. */
void verity_hash_block(const struct verity_sb *sb, const uint8_t *block,
		       uint8_t out[VERITY_HASH]);
/*
 * Reads a superblock (untrusted: len bytes from the object) into sb.
 * 0, or -EINVAL with what is wrong in err.
 */
int verity_sb_parse(const uint8_t *p, size_t len, struct verity_sb *sb,
		    char *err, size_t errlen);
/* The superblock's VERITY_BLOCK bytes. */
void verity_sb_write(const struct verity_sb *sb, uint8_t out[VERITY_BLOCK]);
/* Parses 2*n hex digits into out. 0 or -EINVAL. */

/*
 * Checks the object that holds a tree against the root hash root_hex: the
 * superblock at sb_off (s3root.verity_offset in the image, or 0 in an
 * object of its own), that it counts data_blocks blocks (what the data
 * is), that the tree fits, and the hash of its top block. On success *sb
 * and *hash_start (the tree's first block, in blocks) describe the table.
 * 0, or -EINVAL with a message in err.
 */
struct object;
int verity_check_object(struct object *ob, const char *root_hex,
			uint64_t sb_off, uint64_t data_blocks,
			struct verity_sb *sb, uint64_t *hash_start, char *err,
			size_t errlen);

/* ---- device mapper (dm.c): our own ioctls on /dev/mapper/control ---- */

/*
 * Creates the read-only dm-verity device name over the data device dev
 * and the hash device hdev (the same device for an appended tree), the
 * tree at hash_start, and resumes it; its node (/dev/dm-N) in path.
 * onerror is VERITY_EIO, _PANIC or _RESTART; uuid is recorded with it
 * (dm_find gives it back). 0, or -errno with a message in err.
 */
int dm_verity_create(const char *name, const char *uuid, const char *dev,
		     const char *hdev, const struct verity_sb *sb,
		     uint64_t hash_start, const char *root_hex, int onerror,
		     char *path, size_t pathlen, char *err, size_t errlen);
/* Removes a dm device by name. 0, -ENXIO (none) or -errno. */
int dm_remove(const char *name, char *err, size_t errlen);
/* The node (/dev/dm-N) and uuid (DM_UUID_LEN) of the dm device name.
 * 0 or -errno. */
int dm_find(const char *name, char *path, size_t pathlen, char *uuid,
	    size_t uuidlen);
/* The name s3root gives the device over /dev/nbd<index>. */
void dm_name_for(int index, char *name, size_t len);

/* ---- version.c ---- */

extern const char s3root_version[];
extern const long long s3root_build_time;

/* ---- command-line scanning (cli.c) ---- */

#define CLI_ONCE 1 /* has_arg: takes a value, given at most once */
#define CLI_MANY 2 /* has_arg: takes a value, may repeat (-o, -H) */

struct cli_opt {
	const char *name; /* "-H", "--method" */
	int has_arg;	  /* 0 (a flag), CLI_ONCE or CLI_MANY */
	int id;		  /* 1 to 63 */
};

struct cli {
	int argc;
	char **argv;
	int i;
	int only_args;	  /* after "--" */
	const char *name; /* the last option's name, for messages */
	uint64_t seen;	  /* bit id: a CLI_ONCE option was given */
};

/*
 * Returns the next option's id with its argument in *arg, 0 for a
 * positional argument (in *arg), -1 at the end, or -2 after printing an
 * error (unknown option, missing argument, a CLI_ONCE option given
 * twice). Options and positional arguments may come in any order;
 * "--name=value" works for long options.
 */
int cli_next(struct cli *c, const struct cli_opt *opts, const char **arg);

/*
 * What every object command takes: SOURCE (id 0, once) and -o (id
 * CLI_OPT, applied to o). Returns 1 when it took the argument, 0 when it
 * is the caller's, -1 after printing an error.
 */
#define CLI_OPT 1
int cli_common(const struct cli *c, int id, const char *arg,
	       const char **source, struct opts *o);

/*
 * The common setup of commands that read an object: parses SOURCE, reads
 * the config file ($S3ROOT_CONFIG or /etc/s3root/s3root.conf) and the
 * environment, fills defaults, derives the target and loads credentials.
 * -o lists must be in o already. Prints the error and returns -1.
 */
struct source;
int setup_object(struct opts *o, const char *source, char **envp,
		 struct source *src, struct s3_target *t, struct creds *c);

/* ---- commands ---- */

int cmd_sign(int argc, char **argv, char **envp);
int cmd_stat(int argc, char **argv, char **envp);
int cmd_get(int argc, char **argv, char **envp);
int cmd_serve(int argc, char **argv, char **envp);
int cmd_attach(int argc, char **argv, char **envp);
int cmd_detach(int argc, char **argv, char **envp);
int cmd_mount(int argc, char **argv, char **envp);
int cmd_list(int argc, char **argv, char **envp);
int cmd_init(int argc, char **argv, char **envp);
int cmd_verity_format(int argc, char **argv, char **envp);
int cmd_mountroot(int argc, char **argv, char **envp);

#endif
