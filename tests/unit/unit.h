/* SPDX-License-Identifier: MIT */
/*
 * unit.h - the unit test runner's interface.
 *
 * A suite is a table of named tests; a test fails when any CHECK in it
 * fails. Checks are always on (no NDEBUG). Vector files are read relative to
 * unit_vectors_dir (tests/vectors, or $UNIT_VECTORS).
 */
#ifndef S3ROOT_UNIT_H
#define S3ROOT_UNIT_H

#include <stddef.h>
#include <string.h>

struct unit_test {
	const char *name;
	void (*fn)(void);
};

struct unit_suite {
	const char *name;
	const struct unit_test *tests;
	size_t count;
};

#define UNIT_SUITE(sname, table)                                               \
	const struct unit_suite unit_suite_##sname = {                         \
		#sname, table, sizeof(table) / sizeof((table)[0])}

extern const char *unit_vectors_dir;

/* Records a failure (with its location) when ok is false; returns ok. */
int unit_check(int ok, const char *what, const char *file, int line);
int unit_check_str(const char *got, const char *want, const char *what,
		   const char *file, int line);
int unit_check_mem(const void *got, size_t gotlen, const void *want,
		   size_t wantlen, const char *what, const char *file,
		   int line);
int unit_check_long(long long got, long long want, const char *what,
		    const char *file, int line);

/* Reads tests/vectors/NAME into a NUL-terminated malloc'd buffer or aborts. */
char *unit_read_vector(const char *name, size_t *len);

/* Decodes hex into out; returns the byte count or -1. */
long unit_unhex(void *out, size_t outlen, const char *hex);

#define CHECK(c) unit_check(!!(c), #c, __FILE__, __LINE__)
#define CHECK_STR(got, want)                                                   \
	unit_check_str((got), (want), #got, __FILE__, __LINE__)
#define CHECK_MEM(got, glen, want, wlen)                                       \
	unit_check_mem((got), (glen), (want), (wlen), #got, __FILE__, __LINE__)
#define CHECK_INT(got, want)                                                   \
	unit_check_long((long long)(got), (long long)(want), #got, __FILE__,   \
			__LINE__)

#endif
