/* SPDX-License-Identifier: MIT */
/* cache.h - moved to src/cache/cache.h; this forwards until callers move. */
#include "src/cache/cache.h"
