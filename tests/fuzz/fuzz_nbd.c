/* SPDX-License-Identifier: MIT */
/*
 * fuzz_nbd.c - the server's handshake and transmission phase on arbitrary
 * client bytes: the input is written into one end of a socketpair (then
 * closed for writing), the server runs on the other end with a 64 KiB
 * export, and a thread drains whatever it answers.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include "nbd/nbd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fill(void *arg, void *buf, uint64_t off, uint32_t len)
{
	(void)arg;
	memset(buf, (int)(off & 0xff), len);
	return off & 4096 ? -5 : 0; /* some reads fail, as S3 reads can */
}

static void *drain(void *arg)
{
	int fd = *(int *)arg;
	char buf[65536];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbd_export ex = {.name = "key",
				.size = 65536,
				.flags = NBD_FLAG_READ_ONLY,
				.read = fill};
	int sv[2];
	pthread_t th;

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		return 0;
	if (write(sv[1], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	shutdown(sv[1], SHUT_WR);
	pthread_create(&th, NULL, drain, &sv[1]);
	if (nbd_handshake(sv[0], &ex) == 0)
		nbd_serve(sv[0], &ex, NULL);
	close(sv[0]);
	pthread_join(th, NULL);
	close(sv[1]);
	return 0;
}
