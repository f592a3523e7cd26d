/* SPDX-License-Identifier: MIT */
/* test_options.c - the option table: sources, precedence, kinds, errors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/boot/internal.h"
#include "src/conf/conf.h"
#include "tests/unit/unit.h"

/* 63 of a root hash's 64 hex digits */
#define HASH63 "67a8c49b3cf249ddcdd870c798cc0cb86e35178235c7ae4cfffe6fce3d26a63"

static void test_list_and_kinds(void)
{
	struct opts o = {0};
	char err[256] = "";

	CHECK_INT(
		opts_parse_list(&o,
				"s3.region=eu-west-1,s3.insecure,s3.cache=16M,"
				"s3.chunk=64k,s3.request_timeout=1500ms,"
				"s3.connect_timeout=3,s3.io_timeout=2s,"
				"s3.sig=2,s3.urlstyle=path,s3.connections=4",
				OPT_SRC_ARG, err, sizeof(err)),
		0);
	CHECK_STR(opts_str(&o, OPT_REGION), "eu-west-1");
	CHECK_INT(opts_num(&o, OPT_INSECURE), 1);
	CHECK_INT(opts_num(&o, OPT_CACHE), 16 << 20);
	CHECK_INT(opts_num(&o, OPT_CHUNK), 64 << 10);
	CHECK_INT(opts_num(&o, OPT_REQUEST_TIMEOUT), 1500);
	CHECK_INT(opts_num(&o, OPT_CONNECT_TIMEOUT), 3000);
	CHECK_INT(opts_num(&o, OPT_IO_TIMEOUT), 2000);
	CHECK_INT(opts_num(&o, OPT_SIG), SIG_V2);
	CHECK_INT(opts_num(&o, OPT_URLSTYLE), URLSTYLE_PATH);
	CHECK_INT(opts_num(&o, OPT_CONNECTIONS), 4);
	opts_free(&o);
}

static void test_escaped_comma(void)
{
	struct opts o = {0};
	char err[256] = "";

	/* "\," is a comma inside a value, "\\" a backslash */
	CHECK_INT(opts_parse_list(&o, "s3.ca=/a\\,b\\\\c,,s3.passwd_file=/p\\x",
				  OPT_SRC_ARG, err, sizeof(err)),
		  0);
	CHECK_STR(opts_str(&o, OPT_CA), "/a,b\\c");
	CHECK_STR(opts_str(&o, OPT_PASSWD_FILE), "/p\\x");
	opts_free(&o);
}

static void test_precedence(void)
{
	char *env[] = {"AWS_REGION=env-region", "AWS_DEFAULT_REGION=dflt",
		       "AWS_CA_BUNDLE=/env.pem", NULL};
	const char conf[] = "# comment\n s3.region = conf-region \n"
			    "s3.ca=/conf.pem\ns3.sig = 2\r\n\n";
	struct opts o = {0};
	char err[256] = "";

	/* -o over the environment over the config file, in any order */
	CHECK_INT(opts_parse_list(&o, "s3.region=arg-region", OPT_SRC_ARG, err,
				  sizeof(err)),
		  0);
	CHECK_INT(opts_parse_file(&o, conf, sizeof(conf) - 1, "conf", err,
				  sizeof(err)),
		  0);
	CHECK_INT(opts_load_env(&o, env, err, sizeof(err)), 0);
	CHECK_STR(opts_str(&o, OPT_REGION), "arg-region");
	CHECK_STR(opts_str(&o, OPT_CA), "/env.pem");
	CHECK_INT(opts_num(&o, OPT_SIG), SIG_V2);
	opts_free(&o);

	/* AWS_REGION wins over AWS_DEFAULT_REGION */
	CHECK_INT(opts_load_env(&o, env, err, sizeof(err)), 0);
	CHECK_STR(opts_str(&o, OPT_REGION), "env-region");
	opts_free(&o);
}

static void test_defaults(void)
{
	struct opts o = {0};
	char err[256] = "";

	CHECK_INT(opts_finish(&o, err, sizeof(err)), 0);
	CHECK_STR(opts_str(&o, OPT_REGION), "us-east-1");
	CHECK_STR(opts_str(&o, OPT_ENDPOINT),
		  "https://s3.us-east-1.amazonaws.com");
	CHECK_INT(opts_num(&o, OPT_URLSTYLE), URLSTYLE_VHOST);
	CHECK_INT(opts_num(&o, OPT_SIG), SIG_V4);
	CHECK_INT(opts_num(&o, OPT_CONNECTIONS), 16);
	CHECK(!opts_isset(&o, OPT_REGION));
	/* a boot gives up opening its image after five minutes */
	CHECK_INT(opts_num(&o, OPT_BOOT_TIMEOUT), 300000);
	CHECK(!opts_isset(&o, OPT_BOOT_TIMEOUT));
	opts_free(&o);

	/* an IP endpoint defaults to path style; region feeds the endpoint */
	CHECK_INT(opts_parse_list(&o, "s3.endpoint=http://127.0.0.1:7480",
				  OPT_SRC_ARG, err, sizeof(err)),
		  0);
	CHECK_INT(opts_finish(&o, err, sizeof(err)), 0);
	CHECK_INT(opts_num(&o, OPT_URLSTYLE), URLSTYLE_PATH);
	opts_free(&o);
	CHECK_INT(opts_parse_list(&o, "s3.region=ap-south-1", OPT_SRC_ARG, err,
				  sizeof(err)),
		  0);
	CHECK_INT(opts_finish(&o, err, sizeof(err)), 0);
	CHECK_STR(opts_str(&o, OPT_ENDPOINT),
		  "https://s3.ap-south-1.amazonaws.com");
	opts_free(&o);
}

/* Hostile and wrong input: each with the message it must produce. */
static const struct {
	const char *list;
	const char *msg;
} bad_lists[] = {
	{"s3.nope=1", "unknown option 's3.nope'"},
	{"region=x", "unknown option 'region'"},
	{"s3.region", "s3.region needs a value"},
	{"s3.region=EU_WEST", "a region is lower-case"},
	{"s3.sig=3", "expected one of 2|4"},
	{"s3.urlstyle=", "expected one of vhost|path"},
	{"s3.insecure=maybe", "expected 1/0"},
	{"s3.cache=12X", "expected a size"},
	{"s3.cache=-1", "expected a number"},
	{"s3.cache=99999999999999999999999", "out of range (0 to 64G)"},
	{"s3.cache=100G", "out of range"},
	{"s3.cache=17179869184G", "out of range"},
	{"s3.chunk=1K", "out of range (4K to 64M)"},
	{"s3.connections=0", "out of range"},
	{"s3.connections=1000", "out of range"},
	{"s3.connections_max=257", "out of range (1 to 256)"},
	{"s3.hedge=fast", "expected auto, off or a duration"},
	{"s3.hedge=0", "expected auto, off or a duration"},
	{"s3.hedge=2h", "expected auto, off or a duration"},
	{"s3.hedge=7200s", "expected auto, off or a duration"},
	{"s3root.read_ahead_kb=65537", "out of range"},
	{"s3.request_timeout=5min", "expected a duration"},
	{"s3.request_timeout=0", "out of range (1ms to 3600s)"},
	{"s3.endpoint=ftp://x", "not an http:// or https:// URL"},
	{"s3.endpoint=http://user@host/", "not an http:// or https:// URL"},
	{"s3.endpoint=http://h:99999/", "not an http:// or https:// URL"},
	{"s3.resolve=host", "expected HOST:ADDR"},
	{"s3.resolve=host:notanip", "is not an IP address"},
	{"s3.ca=/a\tb", "control character"},
};

static void test_bad_values(void)
{
	struct opts o = {0};
	char err[256], big[OPT_MAX_VALUE + 32];
	size_t i;

	for (i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		err[0] = '\0';
		CHECK_INT(opts_parse_list(&o, bad_lists[i].list, OPT_SRC_ARG,
					  err, sizeof(err)),
			  -EINVAL);
		if (!CHECK(strstr(err, bad_lists[i].msg) != NULL))
			fprintf(stderr, "    '%s' gave '%s'\n",
				bad_lists[i].list, err);
	}
	/* overlong values are refused, not truncated */
	memcpy(big, "s3.ca=", 6);
	memset(big + 6, 'a', OPT_MAX_VALUE + 1);
	big[OPT_MAX_VALUE + 7] = '\0';
	CHECK_INT(opts_parse_list(&o, big, OPT_SRC_ARG, err, sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "longer than") != NULL);
	CHECK(opts_str(&o, OPT_CA) == NULL);
	opts_free(&o);
}

static void test_config_errors(void)
{
	struct opts o = {0};
	char err[256] = "";

	CHECK_INT(opts_parse_file(&o, "s3.region=a\nnonsense\n", 21, "f.conf",
				  err, sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "f.conf:2: expected 'key = value'");
	/* a bare switch, as in -o */
	CHECK_INT(opts_parse_file(&o, "# x\n  s3.insecure \n", 19, "f.conf",
				  err, sizeof(err)),
		  0);
	CHECK_INT((int)opts_num(&o, OPT_INSECURE), 1);
	CHECK_INT(opts_parse_file(&o, "\n\ns3.bogus = 1\n", 15, "f.conf", err,
				  sizeof(err)),
		  -EINVAL);
	CHECK_STR(err, "f.conf:3: unknown option 's3.bogus'");
	CHECK_INT(opts_parse_file(&o, "s3.region=a\0b\n", 14, "f.conf", err,
				  sizeof(err)),
		  -EINVAL);
	CHECK(strstr(err, "NUL byte") != NULL);
	opts_free(&o);
}

struct kc_seen {
	char other[512];
	char warnings[512];
};

static void kc_other(void *arg, const char *word)
{
	struct kc_seen *s = arg;

	strcat(s->other, word);
	strcat(s->other, "|");
}

static void kc_warn(void *arg, const char *msg)
{
	struct kc_seen *s = arg;

	strcat(s->warnings, msg);
	strcat(s->warnings, "|");
}

static void test_kernel_cmdline(void)
{
	struct kc_seen seen = {"", ""};
	struct opts o = {0};

	CHECK_INT(opts_parse_kcmdline(&o,
				      "BOOT_IMAGE=/vmlinuz root=s3:b/k "
				      "s3.region=eu-west-2 \"s3.ca=/x y.pem\" "
				      "s3.bogus=1 s3root.overlay=none "
				      "s3.sig=9 quiet s3root.debug\n",
				      kc_other, kc_warn, &seen),
		  0);
	CHECK_STR(seen.other, "BOOT_IMAGE=/vmlinuz|root=s3:b/k|quiet|");
	CHECK_STR(opts_str(&o, OPT_REGION), "eu-west-2");
	CHECK_STR(opts_str(&o, OPT_CA), "/x y.pem");
	CHECK_INT(opts_num(&o, OPT_OVERLAY), OVERLAY_NONE);
	CHECK_INT(opts_num(&o, OPT_DEBUG), 1);
	CHECK(strstr(seen.warnings, "unknown option 's3.bogus'") != NULL);
	CHECK(strstr(seen.warnings, "s3.sig=9") != NULL);
	CHECK(!opts_isset(&o, OPT_SIG));
	/* the kernel command line ranks above the initramfs config file */
	CHECK_INT(opts_parse_file(&o, "s3.region=conf\n", 15, "c", NULL, 0), 0);
	CHECK_STR(opts_str(&o, OPT_REGION), "eu-west-2");
	CHECK_INT(opts_parse_kcmdline(&o, "s3.region=\"open", NULL, NULL, NULL),
		  -EINVAL);
	opts_free(&o);
}

/*
 * Hostile kernel command lines (the rows tests/hostile-input.tsv cannot
 * give s3root outside an initramfs): each of our words that is wrong is
 * skipped with exactly this warning, every other word is the caller's.
 * /proc/cmdline is a C string: it cannot hold a NUL byte.
 */
static const struct {
	const char *line;
	const char *warnings; /* each followed by '|' */
	int ret;
} hostile_kcmdline[] = {
	{"s3.bogus=1", "unknown option 's3.bogus'|", 0},
	{"s3root.bogus", "unknown option 's3root.bogus'|", 0},
	{"s3.", "unknown option 's3.'|", 0},
	{"s3.region", "s3.region needs a value (s3.region=...)|", 0},
	{"s3.region=",
	 "s3.region=: an empty value (leave the option out for "
	 "its default)|",
	 0},
	{"s3.ca=\"\"",
	 "s3.ca=: an empty value (leave the option out for "
	 "its default)|",
	 0},
	{"s3.sig=9", "s3.sig=9: expected one of 2|4|", 0},
	{"s3.sig=2,s3.region=x", "s3.sig=2,s3.region=x: expected one of 2|4|",
	 0},
	{"s3.connections=0", "s3.connections=0: out of range (1 to 256)|", 0},
	{"s3.cache=1T",
	 "s3.cache=1T: expected a size (bytes, or with K, M or "
	 "G)|",
	 0},
	{"s3.io_timeout=forever", "s3.io_timeout=forever: expected a number|",
	 0},
	{"s3.request_timeout=2h",
	 "s3.request_timeout=2h: expected a duration "
	 "(seconds, or with s or ms)|",
	 0},
	{"s3.insecure=maybe",
	 "s3.insecure=maybe: expected 1/0, true/false, "
	 "yes/no or on/off|",
	 0},
	{"s3root.overlay=btrfs",
	 "s3root.overlay=btrfs: expected one of "
	 "tmpfs|none|",
	 0},
	{"s3.endpoint=ftp://h",
	 "s3.endpoint=ftp://h: not an http:// or "
	 "https:// URL|",
	 0},
	{"s3.region=\xc3\xbc",
	 "s3.region=\xc3\xbc: a region is lower-case "
	 "letters, digits and '-'|",
	 0},
	{"\"s3.ca=/a\tb\"", "s3.ca: a control character (\\x09) in the value|",
	 0},
	{"\"s3.ca=/a\nb\"", "s3.ca: a control character (\\x0a) in the value|",
	 0},
	{"\"s3.region=eu\x1b[2J\"",
	 "s3.region: a control character (\\x1b) "
	 "in the value|",
	 0},
	{"s3.region=\"eu-west-1",
	 "a quote is never closed: it runs to the "
	 "end|",
	 -EINVAL},
	{"s3.bogus s3.sig=5 quiet s3root.nbd=nl",
	 "unknown option 's3.bogus'|s3.sig=5: expected one of 2|4|"
	 "s3root.nbd=nl: expected one of netlink|ioctl|",
	 0},
	{"s3root.verity=00ff",
	 "s3root.verity=00ff: 4 hex digits (a SHA-256 root hash has 64)|", 0},
	{"s3root.verity=" HASH63 "g",
	 "s3root.verity=" HASH63 "g: 'g' is not a hex digit (a root hash is 64 "
	 "of them)|",
	 0},
	{"s3root.verity_offset=4K+1",
	 "s3root.verity_offset=4K+1: expected a size (bytes, or with K, M or "
	 "G)|",
	 0},
	{"s3root.boot_timeout=5min",
	 "s3root.boot_timeout=5min: expected a duration (seconds, or with s "
	 "or ms)|",
	 0},
	{"s3root.boot_timeout=-1", "s3root.boot_timeout=-1: expected a number|",
	 0},
	{"s3root.boot_timeout=3600001s",
	 "s3root.boot_timeout=3600001s: out of range (0s to 3600000s)|", 0},
	{"s3root.verity_onerror=ignore",
	 "s3root.verity_onerror=ignore: expected one of eio|panic|restart|", 0},
	{"S3.REGION=x =s3.region s3region=x \"\" \t\n", "", 0},
};

/* s3root.boot_timeout: a duration, from the kernel command line too; 0 is
 * "for ever" and stays 0 after the defaults */
static void test_boot_timeout(void)
{
	struct kc_seen seen = {"", ""};
	struct opts o = {0};
	char err[256] = "";

	CHECK_INT(opts_parse_list(&o, "s3root.boot_timeout=20s", OPT_SRC_ARG,
				  err, sizeof(err)),
		  0);
	CHECK_INT(opts_num(&o, OPT_BOOT_TIMEOUT), 20000);
	CHECK_STR(opts_str(&o, OPT_BOOT_TIMEOUT), "20s");
	opts_free(&o);
	CHECK_INT(opts_parse_kcmdline(&o, "s3root.boot_timeout=0 quiet",
				      kc_other, kc_warn, &seen),
		  0);
	CHECK_STR(seen.warnings, "");
	CHECK_INT(opts_finish(&o, err, sizeof(err)), 0);
	CHECK(opts_isset(&o, OPT_BOOT_TIMEOUT));
	CHECK_INT(opts_num(&o, OPT_BOOT_TIMEOUT), 0);
	opts_free(&o);
	CHECK_INT(opts_parse_list(&o, "s3root.boot_timeout=1500ms", OPT_SRC_ARG,
				  err, sizeof(err)),
		  0);
	CHECK_INT(opts_num(&o, OPT_BOOT_TIMEOUT), 1500);
	opts_free(&o);
}

/* the verity options: alone they are fine, together they must agree */
static void test_verity_options(void)
{
	static const struct {
		const char *list, *err;
	} cases[] = {
		{"s3root.verity=" HASH63 "a,s3root.verity_offset=8K", ""},
		{"s3root.verity=" HASH63 "a",
		 "s3root.verity needs s3root.verity_offset (the hash offset "
		 "verity-format printed) or s3root.verity_object (the tree's "
		 "object)"},
		{"s3root.verity=" HASH63 "a,s3root.verity_object=s3://b/k.v",
		 ""},
		{"s3root.verity_object=s3://b/k.v",
		 "s3root.verity_object without s3root.verity (the root hash) "
		 "verifies nothing"},
		{"s3root.verity=" HASH63 "a,s3root.verity_object=b/k.v,"
		 "s3root.verity_offset=4K",
		 "s3root.verity_offset (a tree appended to the image) and "
		 "s3root.verity_object (a tree of its own) conflict: give one"},
		{"s3root.verity_offset=8K",
		 "s3root.verity_offset without s3root.verity (the root hash) "
		 "verifies nothing"},
		{"s3root.verity=" HASH63 "a,s3root.verity_offset=5000",
		 "s3root.verity_offset=5000: not a multiple of 4096 (the hash "
		 "block size)"},
	};
	struct opts o = {0};
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = '\0';
		CHECK_INT(opts_parse_list(&o, cases[i].list, OPT_SRC_ARG, err,
					  sizeof(err)),
			  0);
		CHECK_INT(opts_finish(&o, err, sizeof(err)),
			  cases[i].err[0] ? -EINVAL : 0);
		CHECK_STR(err, cases[i].err);
		opts_free(&o);
	}
	CHECK_INT(opts_parse_list(&o, "s3root.verity_onerror=restart",
				  OPT_SRC_ARG, err, sizeof(err)),
		  0);
	CHECK_INT(opts_num(&o, OPT_VERITY_ONERROR), VERITY_RESTART);
	opts_free(&o);
}

static void test_hostile_kcmdline(void)
{
	struct kc_seen seen;
	struct opts o = {0};
	char *line = malloc(OPT_MAX_VALUE + 200);
	size_t i;

	for (i = 0; i < sizeof(hostile_kcmdline) / sizeof(hostile_kcmdline[0]);
	     i++) {
		memset(&seen, 0, sizeof(seen));
		CHECK_INT(opts_parse_kcmdline(&o, hostile_kcmdline[i].line,
					      NULL, kc_warn, &seen),
			  hostile_kcmdline[i].ret);
		if (!CHECK_STR(seen.warnings, hostile_kcmdline[i].warnings))
			fprintf(stderr, "    from '%s'\n",
				hostile_kcmdline[i].line);
		/* a word that warned set nothing */
		CHECK(!opts_isset(&o, OPT_SIG) && !opts_isset(&o, OPT_CA) &&
		      !opts_isset(&o, OPT_CONNECTIONS));
		opts_free(&o);
	}
	/* an overlong value, and an overlong unknown name, are cut short */
	if (!CHECK(line != NULL))
		return;
	memset(&seen, 0, sizeof(seen));
	strcpy(line, "s3.ca=");
	memset(line + 6, 'a', OPT_MAX_VALUE + 1);
	strcpy(line + 6 + OPT_MAX_VALUE + 1, " s3.");
	memset(line + OPT_MAX_VALUE + 11, 'x', 100);
	line[OPT_MAX_VALUE + 111] = '\0';
	CHECK_INT(opts_parse_kcmdline(&o, line, NULL, kc_warn, &seen), 0);
	CHECK_STR(seen.warnings,
		  "s3.ca: value longer than 4096 bytes|unknown option 's3."
		  "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		  "xxx'|");
	CHECK(!opts_isset(&o, OPT_CA));
	opts_free(&o);
	free(line);
}

static void test_to_list(void)
{
	struct opts o = {0}, back = {0};
	char list[256], err[256];

	/* what the kernel command line set, handed on as an -o list */
	CHECK_INT(opts_parse_kcmdline(&o,
				      "s3.region=eu-west-2 \"s3.ca=/a,b\\c d\" "
				      "s3root.debug quiet",
				      NULL, NULL, NULL),
		  0);
	CHECK_INT(opts_parse_file(&o, "s3.sig=2\n", 9, "c", NULL, 0), 0);
	CHECK_INT(opts_to_list(&o, OPT_SRC_KCMDLINE, list, sizeof(list)), 0);
	CHECK_STR(list, "s3.region=eu-west-2,s3.ca=/a\\,b\\\\c d,"
			"s3root.debug=1");
	CHECK_INT(opts_parse_list(&back, list, OPT_SRC_ARG, err, sizeof(err)),
		  0);
	CHECK_STR(opts_str(&back, OPT_CA), "/a,b\\c d");
	CHECK(!opts_isset(&back, OPT_SIG));
	CHECK_INT(opts_to_list(&o, OPT_SRC_KCMDLINE, list, 20), -ENOSPC);
	opts_free(&o);
	opts_free(&back);
}

/* AWS_* secrets on the kernel command line (the kernel puts its NAME=VALUE
 * words in /init's environment): ignored, and gone from the environment
 * the root server is started with; other variables stay. */
static void test_cmdline_secrets(void)
{
	static struct boot b;
	char *env[] = {"PATH=/bin",
		       "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI",
		       "AWS_REGION=eu-west-1",
		       "AWS_ACCESS_KEY_ID=AKIAEXAMPLE",
		       "AWS_SECRET_ACCESS_KEYS=not-a-secret-name",
		       "AWS_SESSION_TOKEN=from-a-script",
		       NULL};

	memset(&b, 0, sizeof(b));
	CHECK_INT(boot_parse_cmdline(&b, "root=s3:b/k quiet "
					 "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI "
					 "AWS_ACCESS_KEY_ID=AKIAEXAMPLE "
					 "s3.region=eu-west-1"),
		  0);
	CHECK_STR(b.root, "s3:b/k");
	CHECK_INT(boot_env_scrub(&b, env), 2);
	CHECK_STR(env[0], "PATH=/bin");
	CHECK_STR(env[1], "AWS_REGION=eu-west-1");
	CHECK_STR(env[2], "AWS_SECRET_ACCESS_KEYS=not-a-secret-name");
	/* not on the command line: not the kernel's */
	CHECK_STR(env[3], "AWS_SESSION_TOKEN=from-a-script");
	CHECK(env[4] == NULL);
	opts_free(&b.o);
	/* none on the command line: nothing goes */
	memset(&b, 0, sizeof(b));
	CHECK_INT(boot_parse_cmdline(&b, "root=s3:b/k"), 0);
	CHECK_INT(boot_env_scrub(&b, env), 0);
	opts_free(&b.o);
}

/* nameserver= on the kernel command line: addresses only */
static void test_cmdline_nameservers(void)
{
	static struct boot b;

	/* a quoted word may hold anything */
	memset(&b, 0, sizeof(b));
	CHECK_INT(boot_parse_cmdline(&b, "nameserver=\"9.9.9.9 options x\" "
					 "nameserver=dns.example "
					 "nameserver=2001:db8::1 "
					 "nameserver=10.0.2.3"),
		  0);
	CHECK_INT(b.nns, 2);
	CHECK_STR(b.nameservers[0], "2001:db8::1");
	CHECK_STR(b.nameservers[1], "10.0.2.3");
	opts_free(&b.o);
}

static const struct unit_test tests[] = {
	{"options_cmdline_secrets", test_cmdline_secrets},
	{"options_cmdline_nameservers", test_cmdline_nameservers},
	{"options_list_kinds", test_list_and_kinds},
	{"options_escaped_comma", test_escaped_comma},
	{"options_precedence", test_precedence},
	{"options_defaults", test_defaults},
	{"options_bad_values", test_bad_values},
	{"options_config_errors", test_config_errors},
	{"options_kernel_cmdline", test_kernel_cmdline},
	{"options_to_list", test_to_list},
	{"options_hostile_kcmdline", test_hostile_kcmdline},
	{"options_verity", test_verity_options},
	{"options_boot_timeout", test_boot_timeout},
};

UNIT_SUITE(options, tests);
