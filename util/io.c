/* SPDX-License-Identifier: MIT */
/*
 * io.c - whole reads and writes (util.h). A return of 0 from read(2) or
 * pread(2) is the end of the data and ends a whole read with -EPIPE (a
 * stream) or -ENODATA (a file); one from write(2) cannot happen for
 * len > 0 (POSIX), and is retried.
 */
#include <errno.h>
#include <unistd.h>
#include "util/util.h"

#define AT_CURRENT (-1) /* read(2)/write(2) instead of pread/pwrite */

static ssize_t one(int fd, char *p, size_t len, int64_t off, int out)
{
	if (off == AT_CURRENT)
		return out ? write(fd, p, len) : read(fd, p, len);
	return out ? pwrite(fd, p, len, (off_t)off)
		   : pread(fd, p, len, (off_t)off);
}

static int full(int fd, char *p, size_t len, int64_t off, int out)
{
	ssize_t n;

	while (len) {
		n = one(fd, p, len, off, out);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n && !out)
			return off == AT_CURRENT ? -EPIPE : -ENODATA;
		p += n;
		len -= (size_t)n;
		if (off != AT_CURRENT)
			off += n;
	}
	return 0;
}

int util_read_full(int fd, void *buf, size_t len)
{
	return full(fd, buf, len, AT_CURRENT, 0);
}

int util_write_full(int fd, const void *buf, size_t len)
{
	return full(fd, (char *)buf, len, AT_CURRENT, 1);
}

int util_pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	return off > INT64_MAX ? -EINVAL : full(fd, buf, len, (int64_t)off, 0);
}

int util_pwrite_full(int fd, const void *buf, size_t len, uint64_t off)
{
	return off > INT64_MAX ? -EINVAL
			       : full(fd, (char *)buf, len, (int64_t)off, 1);
}
