/* SPDX-License-Identifier: MIT */
/* version.c - the version string and the build time (see the Makefile). */
#include "version.h"
#include "src/s3root.h"

const char s3root_version[] = S3ROOT_VERSION;
const long long s3root_build_time = S3ROOT_BUILD_TIME;
