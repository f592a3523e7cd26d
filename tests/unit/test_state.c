/* SPDX-License-Identifier: MIT */
/* test_state.c - nbdN.state files: the pin a reattach must keep to, and
 * the state files of an s3root that wrote none. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include "src/attach/attach.h"
#include "tests/unit/unit.h"

static struct attach_state st; /* large: not on the stack */

static int parse(const char *text)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "%s", text);
	return attach_state_parse(buf, &st);
}

static void test_pinned(void)
{
	CHECK_INT(parse("source = s3://b/k\npid = 42\ninterface = netlink\n"
			"started = 1\nsize = 123456789\n"
			"etag = \"0123abcd\"\nversion_id = v.1-x\n"
			"last_modified = Tue, 01 Dec 2026 10:00:00 GMT\n"
			"root = 1\noption = s3.endpoint=http://a\n"),
		  0);
	CHECK_STR(st.source, "s3://b/k");
	CHECK_INT(st.pid, 42);
	CHECK_INT(st.pinned, 1);
	CHECK_INT(st.pin.size, 123456789);
	CHECK_STR(st.pin.etag, "\"0123abcd\"");
	CHECK_STR(st.pin.version_id, "v.1-x");
	CHECK_STR(st.pin.last_modified, "Tue, 01 Dec 2026 10:00:00 GMT");
	CHECK_INT(st.root, 1);
	CHECK_INT(st.noptions, 1);
}

static void test_old(void)
{
	/* an older s3root's file: no pin, still read */
	CHECK_INT(parse("source = s3://b/k\npid = 42\ninterface = ioctl\n"
			"started = 1\n"),
		  0);
	CHECK_INT(st.pinned, 0);
	CHECK_INT(st.root, 0);
	CHECK_INT(st.use_ioctl, 1);
	CHECK_STR(st.pin.etag, "");
}

static void test_bad(void)
{
	static char big[2048];

	CHECK_INT(parse("source = s3://b/k\nsize = -1\n"), -EINVAL);
	CHECK_INT(parse("source = s3://b/k\nsize = 12x\n"), -EINVAL);
	CHECK_INT(parse("source = s3://b/k\nsize = \n"), -EINVAL);
	CHECK_INT(parse("source = s3://b/k\nsize = 99999999999999999999\n"),
		  -EINVAL);
	CHECK_INT(parse("source = s3://b/k\nroot = 2\n"), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	{
		static char text[4096];

		/* a truncated ETag must never be used */
		snprintf(text, sizeof(text), "source = s3://b/k\netag = %s\n",
			 big);
		CHECK_INT(parse(text), -EINVAL);
	}
}

static const struct unit_test tests[] = {
	{"state_pinned", test_pinned},
	{"state_old", test_old},
	{"state_bad", test_bad},
};

UNIT_SUITE(state, tests);
