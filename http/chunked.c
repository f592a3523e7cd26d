/* SPDX-License-Identifier: MIT */
/*
 * chunked.c - the chunked transfer coding (RFC 9112 section 7.1), decoded
 * byte by byte for the framing and by blocks for the data:
 *
 *   chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   last-chunk = 1*("0") [ chunk-ext ] CRLF, then trailer fields, CRLF
 */
#include <errno.h>
#include <string.h>
#include "crypto/crypto.h"
#include "http/http.h"

#define CHUNK_MAX_LINE 4096    /* a size line with its extensions */
#define CHUNK_MAX_TRAILER 8192 /* all trailer fields */

enum {
	S_SIZE,
	S_EXT,
	S_SIZE_LF,
	S_DATA,
	S_DATA_CR,
	S_DATA_LF,
	S_TRAILER,
	S_TRAILER_LINE,
	S_TRAILER_LF,
	S_END_LF,
};

/* One framing byte; 0 or -EBADMSG. */
static int chunk_byte(struct http_chunked *c, char b)
{
	int h;

	switch (c->state) {
	case S_SIZE:
		h = hex_digit(b);
		if (h >= 0) {
			/* 16 hex digits fill 64 bits: no more */
			if (++c->ndig > 16)
				return -EBADMSG;
			c->left = c->left << 4 | (uint64_t)h;
			return 0;
		}
		if (!c->ndig)
			return -EBADMSG;
		if (b == '\r') {
			c->state = S_SIZE_LF;
			return 0;
		}
		if (b != ';' && b != ' ' && b != '\t')
			return -EBADMSG;
		c->state = S_EXT;
		c->line = c->ndig + 1;
		return 0;
	case S_EXT: /* extensions are ignored (RFC 9112 7.1.1) */
		if (b == '\r') {
			c->state = S_SIZE_LF;
			return 0;
		}
		if (b == '\n' || ++c->line > CHUNK_MAX_LINE)
			return -EBADMSG;
		return 0;
	case S_SIZE_LF:
		if (b != '\n')
			return -EBADMSG;
		c->state = c->left ? S_DATA : S_TRAILER;
		c->line = 0;
		return 0;
	case S_DATA_CR:
		if (b != '\r')
			return -EBADMSG;
		c->state = S_DATA_LF;
		return 0;
	case S_DATA_LF:
		if (b != '\n')
			return -EBADMSG;
		c->state = S_SIZE;
		c->ndig = 0;
		c->left = 0;
		return 0;
	case S_TRAILER:
		/* an empty line ends the trailer section */
		if (b == '\r') {
			c->state = S_END_LF;
			return 0;
		}
		c->state = S_TRAILER_LINE;
		__attribute__((fallthrough));
	case S_TRAILER_LINE:
		if (++c->line > CHUNK_MAX_TRAILER || b == '\n')
			return -EBADMSG;
		if (b == '\r')
			c->state = S_TRAILER_LF;
		return 0;
	case S_TRAILER_LF:
		if (b != '\n')
			return -EBADMSG;
		c->state = S_TRAILER;
		return 0;
	case S_END_LF:
		if (b != '\n')
			return -EBADMSG;
		c->done = 1;
		return 0;
	}
	return -EBADMSG;
}

long http_chunked_decode(struct http_chunked *c, const char *in, size_t len,
			 size_t *used, char *out, size_t outlen)
{
	size_t i = 0, o = 0, n;

	while (i < len && !c->done) {
		if (c->state == S_DATA) {
			if (o == outlen)
				break;
			n = len - i;
			if (n > outlen - o)
				n = outlen - o;
			if (n > c->left)
				n = (size_t)c->left;
			memcpy(out + o, in + i, n);
			i += n;
			o += n;
			c->left -= n;
			if (!c->left)
				c->state = S_DATA_CR;
			continue;
		}
		if (chunk_byte(c, in[i++]))
			return -EBADMSG;
	}
	*used = i;
	return (long)o;
}
