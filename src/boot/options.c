/* SPDX-License-Identifier: MIT */
/*
 * options.c - a boot's options, read one way for /init and mountroot:
 * config file, kernel command line, -o (shared/DESIGN.md: the kernel
 * command line ranks over the initramfs config file).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/boot/internal.h"
#include "src/net/net.h"

#define CMDLINE_MAX (64 * 1024)

/* What the kernel would hand to /init's environment from its command
 * line, which any local user can read (/proc/cmdline): never used. */
static const char *const secret_names[] = {
	"AWS_ACCESS_KEY_ID",
	"AWS_SECRET_ACCESS_KEY",
	"AWS_SESSION_TOKEN",
};
#define NSECRETS (sizeof(secret_names) / sizeof(secret_names[0]))

/* The secret that env entry or word "NAME=..." names: its bit, or 0. */
static unsigned secret_bit(const char *w)
{
	size_t i, l;

	for (i = 0; i < NSECRETS; i++) {
		l = strlen(secret_names[i]);
		if (!strncmp(w, secret_names[i], l) && w[l] == '=')
			return 1u << i;
	}
	return 0;
}

/* nameserver=ADDR: an IPv4 or IPv6 address, nothing else, goes to the
 * resolver's configuration (a line of text there could say anything). */
static void boot_nameserver(struct boot *b, const char *addr)
{
	if (!net_is_address(addr)) {
		log_warn("kernel command line: nameserver=%.64s%s is not an "
			 "IPv4 "
			 "or IPv6 address (ignored)",
			 addr, strlen(addr) > 64 ? "..." : "");
		return;
	}
	if (b->nns < 2)
		snprintf(b->nameservers[b->nns++], 64, "%s", addr);
}

static void boot_word(void *arg, const char *w)
{
	struct boot *b = arg;

	if (secret_bit(w))
		b->secrets |= secret_bit(w);
	else if (!strncmp(w, "root=", 5))
		snprintf(b->root, sizeof(b->root), "%s", w + 5);
	else if (!strncmp(w, "ip=", 3))
		snprintf(b->ip, sizeof(b->ip), "%s", w + 3);
	else if (!strncmp(w, "nameserver=", 11))
		boot_nameserver(b, w + 11);
}

static void boot_warn(void *arg, const char *msg)
{
	struct boot *b = arg;

	/* ignoring a bad root hash would boot unverified: never */
	if (strstr(msg, "s3root.verity")) {
		log_err("kernel command line: %s", msg);
		b->bad_verity = 1;
		return;
	}
	log_warn("kernel command line: %s (ignored)", msg);
}

/* Appends the -o lists to the kernel command line's list for the root
 * server, in rising precedence. 0, or -1 if they do not fit. */
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

static int is_root_source(const char *s)
{
	return !strncmp(s, "s3:", 3) || !strncmp(s, "http://", 7) ||
	       !strncmp(s, "https://", 8);
}

/* The config file and the kernel command line, into b: both are read
 * even when one is refused (s3root.onfail must be known). 0 or -1. */
static int read_sources(struct boot *b)
{
	char msg[768], *cmdline = NULL;
	size_t len;
	int r, bad = 0;

	/* /init's environment is the kernel's: no S3ROOT_CONFIG there */
	r = opts_load_config(&b->o, NULL, msg, sizeof(msg));
	if (r) {
		log_err("%s", msg);
		bad = -1;
	}
	r = io_read_file("/proc/cmdline", CMDLINE_MAX, &cmdline, &len);
	if (r) {
		log_err("/proc/cmdline: %s", strerror(-r));
		return -1;
	}
	r = boot_parse_cmdline(b, cmdline);
	free(cmdline);
	return r ? -1 : bad;
}

int boot_parse_cmdline(struct boot *b, const char *cmdline)
{
	size_t i;
	int r = opts_parse_kcmdline(&b->o, cmdline, boot_word, boot_warn, b);

	if (r)
		log_err("the kernel command line has an open quote");
	for (i = 0; i < NSECRETS; i++)
		if (b->secrets & 1u << i)
			log_warn("kernel command line: %s is ignored: anyone "
				 "on this machine can read it in /proc/cmdline "
				 "(credentials belong in /etc/s3root/passwd "
				 "and session_token, 0600, inside the "
				 "initramfs: mkinitramfs-s3root --passwd)",
				 secret_names[i]);
	return r ? -1 : 0;
}

size_t boot_env_scrub(const struct boot *b, char **envp)
{
	size_t i, n = 0;

	for (i = 0; envp && envp[i]; i++)
		if (!(secret_bit(envp[i]) & b->secrets))
			envp[n++] = envp[i];
	if (envp)
		envp[n] = NULL;
	return envp ? i - n : 0;
}

/* The -o lists over the rest, and the list for the root server. */
static int add_lists(struct boot *b, const char *const *lists, int nlists)
{
	char msg[768];
	int i;

	/* a cut list would drop options (the verity ones come last) */
	if (opts_to_list(&b->o, OPT_SRC_KCMDLINE, b->list, sizeof(b->list)) ||
	    join_lists(b->list, sizeof(b->list), lists, nlists)) {
		log_err("too many s3 options to hand on to the root server");
		return -1;
	}
	for (i = 0; i < nlists; i++)
		if (opts_parse_list(&b->o, lists[i], OPT_SRC_ARG, msg,
				    sizeof(msg))) {
			log_err("%s", msg);
			return -1;
		}
	return 0;
}

int boot_options(struct boot *b, const char *const *lists, int nlists,
		 const char *source)
{
	char msg[768];
	int bad;

	bad = read_sources(b);
	if (!bad)
		bad = add_lists(b, lists, nlists);
	/* whatever failed: the defaults, s3root.onfail's among them */
	if (opts_finish(&b->o, msg, sizeof(msg))) {
		log_err("%s", msg);
		bad = -1;
	}
	if (opts_num(&b->o, OPT_DEBUG))
		log_set_level(LOG_DEBUG);
	if (b->bad_verity) {
		log_err("s3root.verity is set but not valid (see above): "
			"refusing to boot an unverified root");
		bad = -1;
	}
	b->source = source ? source : b->root;
	source_redact(b->source, b->shown, sizeof(b->shown));
	if (!source && !is_root_source(b->root)) {
		log_err("root=%s is not root=s3:BUCKET/KEY (or an http(s) URL)",
			b->root[0] ? b->shown : "(none)");
		bad = -1;
	}
	return bad;
}
