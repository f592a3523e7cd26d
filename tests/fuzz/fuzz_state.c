/* SPDX-License-Identifier: MIT */
/*
 * fuzz_state.c - the state files of /run/s3root (nbdN.state) that `list`,
 * `detach` and `attach --reattach` read back (attach_state_parse).
 */
#include <stdlib.h>
#include <string.h>
#include "src/attach/attach.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct attach_state st; /* large: not on the stack */
	char *buf = malloc(size + 1);
	int i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* what --reattach uses must be whole: strings, a pid to signal */
	if (!attach_state_parse(buf, &st) &&
	    (!memchr(st.source, 0, sizeof(st.source)) || st.pid < 0 ||
	     st.pid == 1 || st.noptions > ATTACH_MAX_LISTS))
		abort();
	/* the pin a reattach keeps to: whole strings */
	if (!memchr(st.pin.etag, 0, sizeof(st.pin.etag)) ||
	    !memchr(st.pin.version_id, 0, sizeof(st.pin.version_id)) ||
	    !memchr(st.pin.last_modified, 0, sizeof(st.pin.last_modified)))
		abort();
	for (i = 0; i < st.noptions; i++)
		if (!memchr(st.options[i], 0, sizeof(st.options[i])))
			abort();
	free(buf);
	return 0;
}
