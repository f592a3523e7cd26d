/* SPDX-License-Identifier: MIT */
/* cache.h - (moving) */
#include "src/cache.h"
