/* SPDX-License-Identifier: MIT */
/*
 * util.h - the small system helpers every module shares (crypto/ excepted):
 * whole reads and writes on descriptors, the monotonic clock. Like the
 * other libraries, it never prints and never exits. Exports: util_*.
 */
#ifndef S3ROOT_UTIL_H
#define S3ROOT_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * Reads exactly len bytes from fd, retrying after EINTR and short reads.
 * Returns 0, -EPIPE when the file or stream ends first (what was read is
 * in buf), or -errno.
 */
int util_read_full(int fd, void *buf, size_t len);
/* Writes exactly len bytes (EINTR and short writes retried): 0 or -errno. */
int util_write_full(int fd, const void *buf, size_t len);
/* The same at a file offset (pread(2), pwrite(2)): 0, -EPIPE, -errno. */
int util_pread_full(int fd, void *buf, size_t len, uint64_t off);
int util_pwrite_full(int fd, const void *buf, size_t len, uint64_t off);

/* CLOCK_MONOTONIC in microseconds and in milliseconds. */
int64_t util_mono_us(void);
int64_t util_mono_ms(void);

#endif
