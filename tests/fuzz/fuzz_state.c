/* SPDX-License-Identifier: MIT */
/*
 * fuzz_state.c - the state files of /run/s3root (nbdN.state) that `list`,
 * `detach` and `attach --reattach` read back. The command's file is
 * compiled in, as wireguard-tools' fuzzers include the file they test, to
 * reach its static parser; the library's copy is then never linked.
 */
#include "src/cmd_attach.c"

char **s3root_argv; /* main.c's, which a fuzzer does not link */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state st; /* large: not on the stack */
	char *buf = malloc(size + 1);
	int i;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	/* what --reattach uses must be whole: strings, a pid to signal */
	if (!parse_state(buf, &st) &&
	    (!memchr(st.source, 0, sizeof(st.source)) || st.pid < 0 ||
	     st.pid == 1 || st.noptions > MAX_LISTS))
		abort();
	for (i = 0; i < st.noptions; i++)
		if (!memchr(st.options[i], 0, sizeof(st.options[i])))
			abort();
	free(buf);
	return 0;
}
