/* SPDX-License-Identifier: MIT */
/*
 * main.c - the unit test runner: `unit [NAME]...` runs the tests whose
 * suite or test name is given (all without arguments) and ends with the
 * line "N passed, N failed". A name that is neither a suite nor a test is
 * an error (exit 2, nothing run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "crypto/crypto.h"
#include "tests/unit/unit.h"

extern const struct unit_suite unit_suite_crypto, unit_suite_sigv4,
	unit_suite_sigv2, unit_suite_options, unit_suite_source,
	unit_suite_creds, unit_suite_awsconf, unit_suite_url, unit_suite_http,
	unit_suite_s3resp, unit_suite_netlink, unit_suite_ipconfig,
	unit_suite_dhcp, unit_suite_dhcp_client, unit_suite_verity,
	unit_suite_cache, unit_suite_trace, unit_suite_imds, unit_suite_state;

static const struct unit_suite *const suites[] = {
	&unit_suite_crypto,  &unit_suite_sigv4,	      &unit_suite_sigv2,
	&unit_suite_options, &unit_suite_source,      &unit_suite_creds,
	&unit_suite_awsconf, &unit_suite_url,	      &unit_suite_http,
	&unit_suite_s3resp,  &unit_suite_netlink,     &unit_suite_ipconfig,
	&unit_suite_dhcp,    &unit_suite_dhcp_client, &unit_suite_verity,
	&unit_suite_cache,   &unit_suite_trace,	      &unit_suite_imds,
	&unit_suite_state,
};

const char *unit_vectors_dir = "tests/vectors";
static int failures; /* in the running test */

int unit_check(int ok, const char *what, const char *file, int line)
{
	if (!ok) {
		fprintf(stderr, "  %s:%d: check failed: %s\n", file, line,
			what);
		failures++;
	}
	return ok;
}

int unit_check_str(const char *got, const char *want, const char *what,
		   const char *file, int line)
{
	int ok = got && want ? !strcmp(got, want) : got == want;

	if (!ok) {
		fprintf(stderr,
			"  %s:%d: %s\n    got:  \"%s\"\n    want: \"%s\"\n",
			file, line, what, got ? got : "(null)",
			want ? want : "(null)");
		failures++;
	}
	return ok;
}

int unit_check_mem(const void *got, size_t gotlen, const void *want,
		   size_t wantlen, const char *what, const char *file, int line)
{
	int ok = gotlen == wantlen && !memcmp(got, want, gotlen);

	if (!ok) {
		fprintf(stderr, "  %s:%d: %s: bytes differ (%zu vs %zu)\n",
			file, line, what, gotlen, wantlen);
		failures++;
	}
	return ok;
}

int unit_check_long(long long got, long long want, const char *what,
		    const char *file, int line)
{
	if (got != want) {
		fprintf(stderr, "  %s:%d: %s: got %lld, want %lld\n", file,
			line, what, got, want);
		failures++;
	}
	return got == want;
}

char *unit_read_vector(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", unit_vectors_dir, name);
	f = fopen(path, "rb");
	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "cannot read vector file %s\n", path);
		abort();
	}
	buf = malloc((size_t)n + 1);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		abort();
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = (size_t)n;
	return buf;
}

long unit_unhex(void *out, size_t outlen, const char *hex)
{
	size_t n = strlen(hex), i;
	unsigned char *o = out;
	int hi, lo;

	if (n % 2 || n / 2 > outlen)
		return -1;
	for (i = 0; i < n / 2; i++) {
		hi = hex_digit(hex[2 * i]);
		lo = hex_digit(hex[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -1;
		o[i] = (unsigned char)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

static int selected(int argc, char **argv, const char *suite, const char *test)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], suite) || !strcmp(argv[i], test))
			return 1;
	return 0;
}

/*
 * known: whether name is a suite or a test; a name that matches nothing
 * would otherwise run nothing and pass.
 */
static int known(const char *name)
{
	size_t s, t;

	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		if (!strcmp(name, suites[s]->name))
			return 1;
		for (t = 0; t < suites[s]->count; t++)
			if (!strcmp(name, suites[s]->tests[t].name))
				return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = getenv("UNIT_VECTORS");
	int passed = 0, failed = 0, unknown = 0, i;
	size_t s, t;

	for (i = 1; i < argc; i++) {
		if (known(argv[i]))
			continue;
		fprintf(stderr, "unit: no suite or test is named '%s'\n",
			argv[i]);
		unknown++;
	}
	if (unknown) {
		fprintf(stderr, "unit: suites:");
		for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++)
			fprintf(stderr, " %s", suites[s]->name);
		fprintf(stderr, "\n");
		return 2;
	}
	if (dir)
		unit_vectors_dir = dir;
	for (s = 0; s < sizeof(suites) / sizeof(suites[0]); s++) {
		for (t = 0; t < suites[s]->count; t++) {
			const struct unit_test *ut = &suites[s]->tests[t];

			if (!selected(argc, argv, suites[s]->name, ut->name))
				continue;
			failures = 0;
			ut->fn();
			if (failures) {
				fprintf(stderr, "FAIL %s.%s\n", suites[s]->name,
					ut->name);
				failed++;
			} else {
				passed++;
			}
		}
	}
	fflush(stderr);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
