/* SPDX-License-Identifier: MIT */
/* internal.h - the option table's rows, shared by the files of conf/. */
#ifndef S3ROOT_CONF_INTERNAL_H
#define S3ROOT_CONF_INTERNAL_H

#include "src/conf/conf.h"

enum opt_kind {
	KIND_STR,
	KIND_BOOL,
	KIND_UINT,
	KIND_SIZE,
	KIND_MSEC,
	KIND_ENUM
};

struct opt_def {
	const char *key;
	enum opt_kind kind;
	const char *choices; /* KIND_ENUM: "a|b" */
	uint64_t min, max;   /* numbers, sizes (bytes), durations (ms) */
	const char *dflt;    /* NULL: none, or computed by opts_finish() */
	int (*check)(const char *value, char *err, size_t errlen);
	const char *help;
};

#define KIB 1024ULL
#define MIB (1024ULL * KIB)
#define GIB (1024ULL * MIB)
#define HOUR_MS (3600ULL * 1000)

/* The table (table.c), indexed by enum opt_id. */
extern const struct opt_def opts_defs[OPT__COUNT];
/* The row of key, with its id in *id; NULL for an unknown key. */
const struct opt_def *opts_def_find(const char *key, enum opt_id *id);

#endif
