/* SPDX-License-Identifier: MIT */
/*
 * conf.h - what a user configures: the option table (one name on the
 * command line, the kernel command line and the config file; see
 * shared/DESIGN.md), the names of images (sources) and the AWS CLI's
 * shared files. Exports: opts_*, source_*, awsconf_*. Nothing here touches the
 * network.
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
	OPT_CONNECTIONS_MAX,
	OPT_CACHE,
	OPT_CHUNK,
	OPT_PREFETCH,
	OPT_PREFETCH_RATE,
	OPT_REPLAY_AHEAD,
	OPT_CACHE_FILE,
	OPT_CONNECT_TIMEOUT,
	OPT_REQUEST_TIMEOUT,
	OPT_IO_TIMEOUT,
	OPT_HEDGE,
	OPT_VERSION_ID,
	OPT_REQUEST_PAYER,
	OPT_EXPECTED_OWNER,
	OPT_SSE_C_KEY_FILE,
	OPT_OVERLAY,
	OPT_NBD,
	OPT_ANY_IMAGE,
	OPT_UNPINNED,
	OPT_INIT,
	OPT_ONFAIL,
	OPT_NBD_SOCKETS,
	OPT_NBD_TIMEOUT,
	OPT_NBD_DEAD_TIMEOUT,
	OPT_READ_AHEAD_KB,
	OPT_MAX_SECTORS_KB,
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
	OPT_TRACE,
	OPT_TRACE_IDLE,
	OPT_IMDS,
	OPT_IMDS_ENDPOINT,
	OPT__COUNT
};

/* Where a value came from; a later set wins unless its source ranks lower. */
enum opt_src {
	OPT_SRC_NONE,
	OPT_SRC_PROFILE,  /* the AWS CLI's profile (~/.aws/config) */
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
enum { IMDS_AUTO, IMDS_ON, IMDS_OFF };

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
/*
 * A duration as options write it ("250ms", "2s", "2": seconds), from 1 ms
 * to an hour, into *ms. 0 or -EINVAL.
 */
int opts_duration(const char *s, uint64_t *ms);
/* Prints the table (key, kind, default, help) for --help. */
void opts_print_help(FILE *f);
/* The same table as roff .TP paragraphs, the OPTIONS list of s3root(8). */
void opts_print_man(FILE *f);

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
	/* a presigned URL (SigV4 X-Amz-Signature or SigV2 Signature in the
	 * query): signed for one method, its query a bearer secret */
	int presigned;
	int64_t expires; /* a presigned URL's end (UTC seconds), 0: unknown */
	char bucket[S3_MAX_BUCKET + 1];
	char key[S3_MAX_KEY + 1];     /* raw bytes, not encoded */
	char url[URL_MAX_PATH + 300]; /* the plain URL, query byte-exact */
	/* what messages, files and exports may show: s3://bucket/key, or
	 * the URL with a presigned query as "?<presigned>" */
	char shown[URL_MAX_PATH + 300];
};

/*
 * Parses s3://bucket/key, s3:bucket/key, bucket/key or http(s)://URL.
 * Returns 0 or -EINVAL with a message in err (which never holds a
 * presigned query).
 */
int source_parse(const char *s, struct source *src, char *err, size_t errlen);

/*
 * Whether a URL query (len bytes, without the '?') carries a signature or
 * a credential (X-Amz-Signature, X-Amz-Credential, X-Amz-Security-Token,
 * SigV2's Signature or AWSAccessKeyId): a secret never to be shown.
 */
int source_query_secret(const char *q, size_t len);

/*
 * Copies text to out (always NUL-terminated, cut at len - 1) with the
 * query of every http(s) URL in it that source_query_secret finds replaced
 * by "<presigned>" (a URL's query ends at a space, a comma or a quote).
 * For messages, state files and option lists. Returns out.
 */
char *source_redact(const char *text, char *out, size_t len);

/* ---- the AWS CLI's shared files (awsconf.c) ---- */

enum {
	AWSCONF_ACCESS_KEY,
	AWSCONF_SECRET_KEY,
	AWSCONF_SESSION_TOKEN,
	AWSCONF_REGION,
	AWSCONF_ENDPOINT_URL,
	AWSCONF__N
};

/* One profile's values (malloc'd, NULL when unset). */
struct awsconf {
	char *v[AWSCONF__N];
	char origin[4096];  /* the file the keys came from */
	int keys_in_config; /* ... which is the config file */
	char profile[128];
};

/*
 * Parses one file's text for profile: config 1 for ~/.aws/config
 * ("[profile NAME]", "[default]"), 0 for ~/.aws/credentials ("[NAME]").
 * The profile's keys are stored into a (a value already there is
 * replaced). name is for messages. Returns 1 if the profile's section is
 * there, 0 if not, -EINVAL (message in err) for a malformed file.
 */
int awsconf_parse(struct awsconf *a, const char *text, size_t len,
		  const char *profile, int config, const char *name, char *err,
		  size_t errlen);
/*
 * The profile ($AWS_PROFILE, $AWS_DEFAULT_PROFILE or "default") from
 * $AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials) and
 * $AWS_CONFIG_FILE (~/.aws/config), as the AWS CLI merges them: the keys
 * and token as one set from the credentials file if it has a key, else
 * from the config file; region and endpoint_url from the credentials
 * file over the config file. Missing files (or no $HOME) are empty; a
 * profile named in the environment must exist. Warns when the
 * credentials file with the keys is readable by others. 0 or -errno.
 */
int awsconf_load(struct awsconf *a, char *const *envp, char *err,
		 size_t errlen);
/* Sets s3.region and s3.endpoint from the profile at OPT_SRC_PROFILE. */
int awsconf_apply_opts(struct opts *o, char *const *envp, char *err,
		       size_t errlen);
/* Wipes and frees the values. */
void awsconf_free(struct awsconf *a);

#endif
