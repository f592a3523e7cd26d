/* SPDX-License-Identifier: MIT */
/* url.c - http(s) URL parsing (RFC 3986 section 3). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/http.h"

/* RFC 3986 3.2.2 reg-name, restricted to what DNS names use. */
static int url_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

static int url_parse_port(const char *s, size_t len, uint16_t *port)
{
	unsigned v = 0;
	size_t i;

	if (!len || len > 5)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (!v || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int url_parse_authority(const char *s, size_t len, struct url *u)
{
	const char *colon = NULL;
	size_t hlen = len, i;
	unsigned char addr[16];

	if (memchr(s, '@', len)) /* userinfo: never send credentials so */
		return -EINVAL;
	if (len && s[0] == '[') {
		const char *end = memchr(s, ']', len);

		if (!end)
			return -EINVAL;
		hlen = (size_t)(end - s) - 1;
		if (hlen > URL_MAX_HOST)
			return -EINVAL;
		memcpy(u->host, s + 1, hlen);
		u->host[hlen] = '\0';
		if (inet_pton(AF_INET6, u->host, addr) != 1)
			return -EINVAL;
		u->ipv6 = u->host_is_ip = 1;
		s = end + 1;
		len -= hlen + 2;
		if (len && s[0] != ':')
			return -EINVAL;
		colon = len ? s : NULL;
	} else {
		colon = memchr(s, ':', len);
		hlen = colon ? (size_t)(colon - s) : len;
		if (!hlen || hlen > URL_MAX_HOST)
			return -EINVAL;
		for (i = 0; i < hlen; i++)
			if (!url_host_char(s[i]))
				return -EINVAL;
		memcpy(u->host, s, hlen);
		u->host[hlen] = '\0';
		u->host_is_ip = inet_pton(AF_INET, u->host, addr) == 1;
	}
	if (!colon)
		return 0;
	u->port_given = 1;
	return url_parse_port(colon + 1, (size_t)(s + len - colon - 1),
			      &u->port);
}

int url_parse(const char *s, struct url *u)
{
	const char *auth, *p;
	size_t n;

	memset(u, 0, sizeof(*u));
	if (!strncasecmp(s, "https://", 8)) {
		u->tls = 1;
		u->port = 443;
		auth = s + 8;
	} else if (!strncasecmp(s, "http://", 7)) {
		u->port = 80;
		auth = s + 7;
	} else {
		return -EINVAL;
	}
	n = strcspn(auth, "/?#");
	if (url_parse_authority(auth, n, u))
		return -EINVAL;
	p = auth + n;
	if (*p == '#' || strlen(p) > URL_MAX_PATH - 1)
		return -EINVAL;
	/* the path goes into a request line: no spaces, controls or 8-bit */
	for (n = 0; p[n]; n++)
		if ((unsigned char)p[n] <= ' ' || (unsigned char)p[n] >= 0x7f ||
		    p[n] == '#')
			return -EINVAL;
	snprintf(u->path, sizeof(u->path), "%s%s", *p == '/' ? "" : "/", p);
	return 0;
}

int url_host_header(const struct url *u, char *out, size_t outlen)
{
	int dflt = u->port == (u->tls ? 443 : 80);
	int n;

	if (dflt)
		n = snprintf(out, outlen, u->ipv6 ? "[%s]" : "%s", u->host);
	else
		n = snprintf(out, outlen, u->ipv6 ? "[%s]:%u" : "%s:%u",
			     u->host, u->port);
	if (n < 0 || (size_t)n >= outlen)
		return -ENOSPC;
	return n;
}
