/* SPDX-License-Identifier: MIT */
/*
 * table.c - the one option table: every key with its kind, bounds,
 * default, check and help (shared/DESIGN.md, "One option table, three
 * places"), and --help's rendering of it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "src/conf/internal.h"

static int check_url(const char *v, char *err, size_t errlen);
static int check_hedge(const char *v, char *err, size_t errlen);
static int check_region(const char *v, char *err, size_t errlen);
static int check_resolve(const char *v, char *err, size_t errlen);
static int check_roothash(const char *v, char *err, size_t errlen);
static int check_source(const char *v, char *err, size_t errlen);
static int check_token(const char *v, char *err, size_t errlen);
static int check_trace(const char *v, char *err, size_t errlen);

const struct opt_def opts_defs[OPT__COUNT] = {
	[OPT_ENDPOINT] = {.key = "s3.endpoint",
			  .kind = KIND_STR,
			  .check = check_url,
			  .help = "S3 endpoint URL (default https://s3.REGION."
				  "amazonaws.com)"},
	[OPT_PASSWD_FILE] =
		{.key = "s3.passwd_file",
		 .kind = KIND_STR,
		 .dflt = PATH_PASSWD,
		 .help = "credentials, s3fs format ACCESS:SECRET (0600)"},
	[OPT_SESSION_TOKEN_FILE] =
		{.key = "s3.session_token_file",
		 .kind = KIND_STR,
		 .dflt = PATH_SESSION_TOKEN,
		 .help = "session token for temporary credentials"},
	[OPT_REGION] = {.key = "s3.region",
			.kind = KIND_STR,
			.dflt = "us-east-1",
			.check = check_region,
			.help = "region signed into requests"},
	[OPT_SIG] = {.key = "s3.sig",
		     .kind = KIND_ENUM,
		     .choices = "2|4",
		     .dflt = "4",
		     .help = "signature version"},
	[OPT_URLSTYLE] =
		{.key = "s3.urlstyle",
		 .kind = KIND_ENUM,
		 .choices = "vhost|path",
		 .help = "bucket in the host name or the path (default vhost,"
			 " path for an IP endpoint)"},
	[OPT_CA] = {.key = "s3.ca",
		    .kind = KIND_STR,
		    .help = "PEM bundle of trusted CAs (default "
			    "/etc/s3root/ca.pem, "
			    "then the system's)"},
	[OPT_INSECURE] = {.key = "s3.insecure",
			  .kind = KIND_BOOL,
			  .max = 1,
			  .dflt = "0",
			  .help = "do not verify TLS certificates (dangerous)"},
	[OPT_RESOLVE] = {.key = "s3.resolve",
			 .kind = KIND_STR,
			 .check = check_resolve,
			 .help = "HOST:ADDR, connect to ADDR for HOST"},
	[OPT_CONNECTIONS] = {.key = "s3.connections",
			     .kind = KIND_UINT,
			     .min = 1,
			     .max = 256,
			     .dflt = "16",
			     .help = "HTTP connections kept open (GETs at once "
				     "when the kernel asks for few)"},
	[OPT_CONNECTIONS_MAX] =
		{.key = "s3.connections_max",
		 .kind = KIND_UINT,
		 .min = 1,
		 .max = 256,
		 .dflt = "64",
		 .help = "more connections while reads queue for one, "
			 "closed again when idle"},
	[OPT_CACHE] = {.key = "s3.cache",
		       .kind = KIND_SIZE,
		       .max = 64 * GIB,
		       .dflt = "32M",
		       .help = "block cache memory budget"},
	[OPT_CHUNK] = {.key = "s3.chunk",
		       .kind = KIND_SIZE,
		       .min = 4 * KIB,
		       .max = 64 * MIB,
		       .dflt = "32K",
		       .help = "cache chunk: the unit of fetching and caching"},
	[OPT_PREFETCH] =
		{.key = "s3.prefetch",
		 .kind = KIND_ENUM,
		 .choices = "none|all",
		 .dflt = "none",
		 .help = "all: pull the whole image when idle, into RAM "
			 "(within s3.cache) or s3.cache_file"},
	[OPT_PREFETCH_RATE] =
		{.key = "s3.prefetch_rate",
		 .kind = KIND_SIZE,
		 .max = 64 * GIB,
		 .dflt = "4M",
		 .help = "bytes per second for s3.prefetch=all (0: no "
			 "limit)"},
	[OPT_REPLAY_AHEAD] =
		{.key = "s3.replay_ahead",
		 .kind = KIND_SIZE,
		 .min = 4 * KIB,
		 .max = 64 * GIB,
		 .dflt = "32M",
		 .help = "how far a trace's replay may run ahead of the reads"},
	[OPT_CACHE_FILE] =
		{.key = "s3.cache_file",
		 .kind = KIND_STR,
		 .help = "a file or partition that keeps fetched chunks "
			 "(across restarts)"},
	[OPT_CONNECT_TIMEOUT] = {.key = "s3.connect_timeout",
				 .kind = KIND_MSEC,
				 .min = 1,
				 .max = HOUR_MS,
				 .dflt = "10s",
				 .help = "TCP and TLS connect"},
	[OPT_REQUEST_TIMEOUT] = {.key = "s3.request_timeout",
				 .kind = KIND_MSEC,
				 .min = 1,
				 .max = HOUR_MS,
				 .dflt = "30s",
				 .help = "one request attempt"},
	[OPT_IO_TIMEOUT] =
		{.key = "s3.io_timeout",
		 .kind = KIND_MSEC,
		 .max = 1000 * HOUR_MS,
		 .help = "fail a read after this long (0 = retry forever;"
			 " default 0, 120s for stat/get)"},
	[OPT_HEDGE] = {.key = "s3.hedge",
		       .kind = KIND_STR,
		       .dflt = "auto",
		       .check = check_hedge,
		       .help = "send a GET again on another connection when "
			       "its first byte is this late (auto: 4x the "
			       "recent median, at least 200ms; off; or a "
			       "duration)"},
	[OPT_VERSION_ID] =
		{.key = "s3.version_id",
		 .kind = KIND_STR,
		 .check = check_token,
		 .help = "this version of the object (a versioned bucket), "
			 "not the latest"},
	[OPT_REQUEST_PAYER] =
		{.key = "s3.request_payer",
		 .kind = KIND_BOOL,
		 .max = 1,
		 .dflt = "0",
		 .help = "x-amz-request-payer: requester (a Requester Pays "
			 "bucket: we pay)"},
	[OPT_EXPECTED_OWNER] =
		{.key = "s3.expected_owner",
		 .kind = KIND_STR,
		 .check = check_token,
		 .help = "the bucket owner's account (x-amz-expected-bucket-"
			 "owner): refused if another owns it"},
	[OPT_SSE_C_KEY_FILE] =
		{.key = "s3.sse_c_key_file",
		 .kind = KIND_STR,
		 .help = "SSE-C: a 0600 file with the object's 256-bit key "
			 "in base64 (https only)"},
	[OPT_OVERLAY] = {.key = "s3root.overlay",
			 .kind = KIND_ENUM,
			 .choices = "tmpfs|none",
			 .dflt = "tmpfs",
			 .help = "writable layer over the root"},
	[OPT_NBD] = {.key = "s3root.nbd",
		     .kind = KIND_ENUM,
		     .choices = "netlink|ioctl",
		     .dflt = "netlink",
		     .help = "kernel NBD interface"},
	[OPT_ANY_IMAGE] = {.key = "s3root.any_image",
			   .kind = KIND_BOOL,
			   .max = 1,
			   .dflt = "0",
			   .help = "attach images that are not EROFS"},
	[OPT_UNPINNED] =
		{.key = "s3root.unpinned",
		 .kind = KIND_BOOL,
		 .max = 1,
		 .dflt = "0",
		 .help = "serve a plain URL whose server sends neither "
			 "ETag nor Last-Modified (nothing notices if "
			 "it is replaced: wrong bytes)"},
	[OPT_INIT] = {.key = "s3root.init",
		      .kind = KIND_STR,
		      .dflt = "/sbin/init",
		      .help = "the real system's init (boot)"},
	[OPT_ONFAIL] = {.key = "s3root.onfail",
			.kind = KIND_ENUM,
			.choices = "retry|shell|reboot",
			.dflt = "retry",
			.help = "when booting fails (shell needs a "
				"--with-shell initramfs)"},
	[OPT_NBD_SOCKETS] =
		{.key = "s3root.nbd_sockets",
		 .kind = KIND_UINT,
		 .min = 1,
		 .max = 16,
		 .dflt = "4",
		 .help = "kernel NBD sockets, with an s3root.nbd_timeout "
			 "(without: one)"},
	[OPT_NBD_TIMEOUT] =
		{.key = "s3root.nbd_timeout",
		 .kind = KIND_MSEC,
		 .max = 1000 * HOUR_MS,
		 .dflt = "0",
		 .help = "kernel request timeout (0: none; retries here)"},
	[OPT_NBD_DEAD_TIMEOUT] =
		{.key = "s3root.nbd_dead_timeout",
		 .kind = KIND_MSEC,
		 .max = 1000 * HOUR_MS,
		 .dflt = "120s",
		 .help = "kernel wait for a restarted server (attach "
			 "--reattach) before failing reads"},
	[OPT_READ_AHEAD_KB] = {.key = "s3root.read_ahead_kb",
			       .kind = KIND_UINT,
			       .max = 65536,
			       .dflt = "1024",
			       .help = "the NBD device's read_ahead_kb at "
				       "attach (0: the kernel's, 128)"},
	[OPT_MAX_SECTORS_KB] = {.key = "s3root.max_sectors_kb",
				.kind = KIND_UINT,
				.max = 65536,
				.dflt = "1024",
				.help = "the NBD device's max_sectors_kb at "
					"attach (0: the kernel's)"},
	[OPT_VERITY] =
		{.key = "s3root.verity",
		 .kind = KIND_STR,
		 .check = check_roothash,
		 .help = "dm-verity root hash (64 hex digits): every block "
			 "read is verified"},
	[OPT_VERITY_OFFSET] =
		{.key = "s3root.verity_offset",
		 .kind = KIND_SIZE,
		 .min = 4 * KIB,
		 .max = (1ULL << 50),
		 .help = "where the hash tree's superblock is in the "
			 "object (verity-format --appended)"},
	[OPT_VERITY_OBJECT] = {.key = "s3root.verity_object",
			       .kind = KIND_STR,
			       .check = check_source,
			       .help = "the hash tree in an object of its own "
				       "(verity-format --output; a SOURCE)"},
	[OPT_VERITY_ONERROR] =
		{.key = "s3root.verity_onerror",
		 .kind = KIND_ENUM,
		 .choices = "eio|panic|restart",
		 .dflt = "eio",
		 .help = "a block that fails verification: a read "
			 "error, a kernel panic or a reboot"},
	[OPT_DEBUG] = {.key = "s3root.debug",
		       .kind = KIND_BOOL,
		       .max = 1,
		       .dflt = "0",
		       .help = "verbose logging"},
	[OPT_DHCP] = {.key = "s3root.dhcp",
		      .kind = KIND_ENUM,
		      .choices = "renew|once",
		      .dflt = "renew",
		      .help = "a DHCP lease of ip=dhcp: renewed by the root "
			      "server, or taken once (the system's own "
			      "client takes over)"},
	[OPT_BOOT_TIMEOUT] =
		{.key = "s3root.boot_timeout",
		 .kind = KIND_MSEC,
		 .max =
			 1000 * HOUR_MS,
		 .dflt = "300s",
		 .help = "a boot that cannot open the image by then (from "
			 "the kernel's start) runs s3root.onfail (0: never)"},
	[OPT_SERVE_HANDSHAKE_TIMEOUT] =
		{
			.key = "s3root.serve_handshake_timeout",
			.kind = KIND_MSEC,
			.min = 1,
			.max = HOUR_MS,
			.dflt = "10s",
			.help = "serve: a client that has not finished the NBD "
				"handshake by then is dropped"},
	[OPT_SERVE_WRITE_TIMEOUT] =
		{.key = "s3root.serve_write_timeout",
		 .kind = KIND_MSEC,
		 .min =
			 1,
		 .max =
			 HOUR_MS,
		 .dflt = "30s",
		 .help = "serve: a client that reads none of its replies for "
			 "this long is dropped"},
	[OPT_SERVE_IDLE_TIMEOUT] =
		{.key = "s3root.serve_idle_timeout",
		 .kind = KIND_MSEC,
		 .max =
			 7 * 24 * HOUR_MS,
		 .dflt = "0",
		 .help = "serve: a client that sends no request for this long "
			 "(none in flight) is dropped; 0: never (a kernel "
			 "nbd-client may be idle for days)"},
	[OPT_TRACE] = {.key = "s3root.trace",
		       .kind = KIND_STR,
		       .check = check_trace,
		       .help = "record: record the reads (s3root trace save); "
			       "a SOURCE: replay that trace at attach"},
	[OPT_TRACE_IDLE] = {.key = "s3root.trace_idle",
			    .kind = KIND_MSEC,
			    .max = 1000 * HOUR_MS,
			    .dflt = "10s",
			    .help = "a recording stops after no read for this "
				    "long (0: only when told)"},
	[OPT_IMDS] = {.key = "s3.imds",
		      .kind = KIND_ENUM,
		      .choices = "auto|on|off",
		      .help = "the instance role's credentials from the "
			      "instance metadata service (IMDSv2) when no "
			      "others are set (default auto: one short probe; "
			      "off when AWS_EC2_METADATA_DISABLED=true)"},
	[OPT_IMDS_ENDPOINT] = {.key = "s3.imds_endpoint",
			       .kind = KIND_STR,
			       .check = check_url,
			       .help = "the metadata service's URL (default "
				       "http://169.254.169.254, or "
				       "AWS_EC2_METADATA_SERVICE_ENDPOINT)"},
};

static int check_hedge(const char *v, char *err, size_t errlen)
{
	uint64_t ms;

	if (!strcmp(v, "auto") || !strcmp(v, "off") || !opts_duration(v, &ms))
		return 0;
	return base_fail(err, errlen,
			 "expected auto, off or a duration (1 ms to 1 hour)");
}

static int check_url(const char *v, char *err, size_t errlen)
{
	struct url u;

	if (url_parse(v, &u))
		return base_fail(err, errlen, "not an http:// or https:// URL");
	return 0;
}

static int check_region(const char *v, char *err, size_t errlen)
{
	size_t n = strspn(v, "abcdefghijklmnopqrstuvwxyz0123456789-");

	if (!*v || v[n] || n > 63)
		return base_fail(
			err, errlen,
			"a region is lower-case letters, digits and '-'");
	return 0;
}

/* HOST:ADDR; an IPv6 ADDR may be bracketed ("s3.lab:[fd00::1]"). */
static int check_resolve(const char *v, char *err, size_t errlen)
{
	const char *colon = strchr(v, ':');
	char addr[64];
	unsigned char bin[16];
	size_t n;

	if (!colon || colon == v)
		return base_fail(err, errlen, "expected HOST:ADDR");
	colon++;
	n = strlen(colon);
	if (n >= 2 && colon[0] == '[' && colon[n - 1] == ']') {
		colon++;
		n -= 2;
	}
	if (n >= sizeof(addr))
		return base_fail(err, errlen, "expected HOST:ADDR");
	memcpy(addr, colon, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, bin) != 1 &&
	    inet_pton(AF_INET6, addr, bin) != 1)
		return base_fail(err, errlen, "'%s' is not an IP address",
				 addr);
	return 0;
}

/* A SHA-256 root hash: 64 hex digits (veritysetup prints lower case). */
static int check_roothash(const char *v, char *err, size_t errlen)
{
	size_t n = strspn(v, "0123456789abcdefABCDEF");

	if (v[n])
		return base_fail(
			err, errlen,
			"'%c' is not a hex digit (a root hash is 64 of "
			"them)",
			v[n]);
	if (n != 64)
		return base_fail(err, errlen,
				 "%zu hex digits (a SHA-256 root hash has 64)",
				 n);
	return 0;
}

static int check_source(const char *v, char *err, size_t errlen)
{
	struct source src;
	char why[200];

	if (source_parse(v, &src, why, sizeof(why)))
		return base_fail(
			err, errlen,
			"not s3://BUCKET/KEY, BUCKET/KEY or an http(s) "
			"URL");
	return 0;
}

/* A version id or an account: printable ASCII, no spaces, at most 1024. */
static int check_token(const char *v, char *err, size_t errlen)
{
	size_t n;

	for (n = 0; v[n]; n++)
		if ((unsigned char)v[n] <= ' ' || (unsigned char)v[n] >= 0x7f)
			return base_fail(err, errlen,
					 "spaces or non-ASCII characters are "
					 "not allowed");
	if (n > 1024)
		return base_fail(err, errlen, "longer than 1024 characters");
	return 0;
}

/* record, or a trace's SOURCE */
static int check_trace(const char *v, char *err, size_t errlen)
{
	struct source src;
	char why[200];

	if (strcmp(v, "record") && source_parse(v, &src, why, sizeof(why)))
		return base_fail(err, errlen,
				 "'record' or a trace's s3://BUCKET/KEY, "
				 "BUCKET/KEY or http(s) URL");
	return 0;
}

const struct opt_def *opts_def_find(const char *key, enum opt_id *id)
{
	int i;

	for (i = 0; i < OPT__COUNT; i++) {
		if (!strcmp(opts_defs[i].key, key)) {
			*id = (enum opt_id)i;
			return &opts_defs[i];
		}
	}
	return NULL;
}

void opts_print_help(FILE *f)
{
	static const char *const kinds[] = {"TEXT", "[BOOL]",	"N",
					    "SIZE", "DURATION", NULL};
	char arg[48];
	int i;

	fprintf(f, "Options (-o KEY=VALUE[,KEY=VALUE]..., also on the kernel "
		   "command line and in\n/etc/s3root/s3root.conf):\n");
	for (i = 0; i < OPT__COUNT; i++) {
		const struct opt_def *d = &opts_defs[i];

		snprintf(arg, sizeof(arg), "%s=%s", d->key,
			 d->kind == KIND_ENUM ? d->choices : kinds[d->kind]);
		fprintf(f, "  %-30s %s", arg, d->help);
		if (d->dflt && d->kind != KIND_BOOL)
			fprintf(f, " [%s]", d->dflt);
		fputc('\n', f);
	}
}

/* Text for a roff line: '\\' as "\\e", and no control character at its
 * start ('.' or '\'' would be a request). */
static void man_text(FILE *f, const char *s)
{
	if (*s == '.' || *s == '\'')
		fputs("\\&", f);
	for (; *s; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else
			fputc(*s, f);
	}
}

void opts_print_man(FILE *f)
{
	static const char *const kinds[] = {"TEXT", "BOOL",	"N",
					    "SIZE", "DURATION", NULL};
	int i;

	fputs(".\\\" generated by `s3root help-options --man` from "
	      "src/conf/table.c\n",
	      f);
	for (i = 0; i < OPT__COUNT; i++) {
		const struct opt_def *d = &opts_defs[i];

		fputs(".TP\n\\fB", f);
		man_text(f, d->key);
		fputs("\\fR=\\fI", f);
		man_text(f, d->kind == KIND_ENUM ? d->choices : kinds[d->kind]);
		fputs("\\fR\n", f);
		man_text(f, d->help);
		if (d->kind == KIND_BOOL)
			fputs("; a flag (bare means 1)", f);
		if (d->dflt) {
			fputs("; default \\fB", f);
			man_text(f, d->dflt);
			fputs("\\fR", f);
		}
		fputs(".\n", f);
	}
}
