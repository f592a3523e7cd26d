/* SPDX-License-Identifier: MIT */
/* self.c - what this program is: its version, its build time (see the
 * Makefile) and its argv. */
#include "version.h"
#include "src/base/base.h"

const char base_version[] = S3ROOT_VERSION;
const long long base_build_time = S3ROOT_BUILD_TIME;
char **base_argv;
