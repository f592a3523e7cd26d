/* SPDX-License-Identifier: MIT */
/*
 * conf.h - what a user configures: the option table (one name on the
 * command line, the kernel command line and the config file; see
 * shared/DESIGN.md) and the names of images (sources). Exports: opts_*,
 * source_*. Nothing here touches the network.
 */
#ifndef S3ROOT_CONF_H
#define S3ROOT_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "http/http.h"
#include "src/base/base.h"

/* ---- the option table (table.c) and its values (options.c) ---- */

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
	OPT_UNPINNED,
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
	OPT_DHCP,
	OPT_BOOT_TIMEOUT,
	OPT_SERVE_HANDSHAKE_TIMEOUT,
	OPT_SERVE_WRITE_TIMEOUT,
	OPT_SERVE_IDLE_TIMEOUT,
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
enum { DHCPMODE_RENEW, DHCPMODE_ONCE };

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
/*
 * Fills every unset option with its default (the endpoint and URL style
 * derived from the others), then checks what only the whole set can tell
 * (the s3root.verity options together). 0 or -EINVAL with a message.
 */
int opts_finish(struct opts *o, char *err, size_t errlen);
/*
 * The options set from src, as one -o list ("k=v,k2=v2", commas escaped),
 * to hand them on (the root server's state file). 0 or -ENOSPC.
 */
int opts_to_list(const struct opts *o, enum opt_src src, char *out, size_t len);
/* Frees the values; o is then empty, ready for reuse. */
void opts_free(struct opts *o);

/*
 * An option's value: the string as given (NULL when unset; valid until
 * the option is set again or freed), its number (booleans, numbers,
 * sizes in bytes, durations in ms, an enumerated choice's index; 0 when
 * unset), and whether anything but the defaults set it. No lock: a
 * caller that writes while others read (a region redirect) holds its own.
 */
const char *opts_str(const struct opts *o, enum opt_id id);
uint64_t opts_num(const struct opts *o, enum opt_id id);
int opts_isset(const struct opts *o, enum opt_id id);
/* Prints the table (key, kind, default, help) for --help. */
void opts_print_help(FILE *f);

/* Reads NAME=... from envp; NULL when unset. */
const char *opts_env_get(char *const *envp, const char *name);

/*
 * The config file: $S3ROOT_CONFIG (which must exist) or PATH_CONFIG (which
 * may be missing), at most OPTS_CONFIG_MAX bytes, into o at OPT_SRC_CONFIG.
 * 0, or -errno with a message in err.
 */
#define OPTS_CONFIG_MAX (256 * 1024)
int opts_load_config(struct opts *o, char *const *envp, char *err,
		     size_t errlen);

/* ---- sources (source.c) ---- */

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

#endif
