/* SPDX-License-Identifier: MIT */
/* clock.c - the monotonic clock (util.h): timeouts and figures. */
#include <time.h>
#include "util/util.h"

int64_t util_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t util_mono_ms(void)
{
	return util_mono_us() / 1000;
}
