/* SPDX-License-Identifier: MIT */
/*
 * names.c - host names to addresses for new connections: a lookup for each
 * one, and the last addresses that worked for each host, tried while its
 * name does not resolve (a DNS server down must not end a long-lived
 * client whose server is still there).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "http/internal.h"

void http_names_init(struct http_names *nm,
		     const struct http_client_config *cfg)
{
	memset(nm, 0, sizeof(*nm));
	pthread_mutex_init(&nm->lock, NULL);
	nm->lookup = cfg->lookup ? cfg->lookup : getaddrinfo;
	nm->lookup_free = cfg->lookup_free ? cfg->lookup_free : freeaddrinfo;
	nm->note = cfg->note;
	nm->note_arg = cfg->note_arg;
	nm->relookup_ms = cfg->relookup_ms > 0 ? cfg->relookup_ms : 5000;
}

void http_names_destroy(struct http_names *nm)
{
	pthread_mutex_destroy(&nm->lock);
}

void http_addr_str(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	const void *a = NULL;

	if (sa->ss_family == AF_INET)
		a = &((const struct sockaddr_in *)sa)->sin_addr;
	else if (sa->ss_family == AF_INET6)
		a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
	if (!a || !inet_ntop(sa->ss_family, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

static void set_port(struct sockaddr_storage *sa, uint16_t port)
{
	if (sa->ss_family == AF_INET)
		((struct sockaddr_in *)sa)->sin_port = htons(port);
	else if (sa->ss_family == AF_INET6)
		((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
}

/* One lookup into a: 0, or the getaddrinfo error (EAI_*) with errno. */
static int lookup(struct http_names *nm, const char *host, uint16_t port,
		  int flags, struct http_addrs *a)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC,
				 .ai_socktype = SOCK_STREAM,
				 .ai_flags = flags};
	struct addrinfo *res, *ai;
	char p[8];
	int g;

	snprintf(p, sizeof(p), "%u", port);
	g = nm->lookup(host, p, &hints, &res);
	if (g)
		return g;
	a->n = 0;
	for (ai = res; ai && a->n < HTTP_MAX_ADDRS; ai = ai->ai_next) {
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    ai->ai_addrlen > sizeof(a->sa[0]))
			continue;
		memset(&a->sa[a->n], 0, sizeof(a->sa[0]));
		memcpy(&a->sa[a->n], ai->ai_addr, ai->ai_addrlen);
		a->len[a->n++] = ai->ai_addrlen;
	}
	nm->lookup_free(res);
	return a->n ? 0 : EAI_NONAME;
}

/* The host's entry (lock held), or NULL. */
static struct http_name *find(struct http_names *nm, const char *host)
{
	unsigned i;

	for (i = 0; i < HTTP_NAMES; i++)
		if (nm->e[i].host[0] && !strcasecmp(nm->e[i].host, host))
			return &nm->e[i];
	return NULL;
}

/* "ADDR" or "ADDR and N more" for the first of a's addresses. */
static void addrs_str(const struct http_addrs *a, char *buf, size_t len)
{
	char s[INET6_ADDRSTRLEN];

	http_addr_str(&a->sa[0], s, sizeof(s));
	if (a->n > 1)
		snprintf(buf, len, "%s and %u more", s, a->n - 1);
	else
		snprintf(buf, len, "%s", s);
}

int http_names_get(struct http_names *nm, const char *host, uint16_t port,
		   int numeric, struct http_addrs *a, int *last_good, char *err,
		   size_t errlen)
{
	struct http_name *e;
	char why[128], addrs[80], note[URL_MAX_HOST + 300] = "";
	int64_t now = util_mono_ms();
	int g, e_errno, skip = 0;
	unsigned i;

	*last_good = 0;
	if (numeric) {
		g = lookup(nm, host, port, AI_NUMERICHOST, a);
		if (g)
			snprintf(err, errlen, "bad address %s", host);
		return g ? -EINVAL : 0;
	}
	/* a name that keeps failing is not waited for at every connection:
	 * a lookup with no DNS server answering takes seconds */
	pthread_mutex_lock(&nm->lock);
	e = find(nm, host);
	if (e && e->unresolved && now - e->tried < nm->relookup_ms)
		skip = 1;
	else if (e)
		e->tried = now;
	if (!skip)
		nm->lookups++;
	pthread_mutex_unlock(&nm->lock);
	g = skip ? EAI_AGAIN : lookup(nm, host, port, 0, a);
	e_errno = errno;
	if (g == EAI_SYSTEM)
		snprintf(why, sizeof(why), "%s", strerror(e_errno));
	else
		snprintf(why, sizeof(why), "%s", gai_strerror(g));
	pthread_mutex_lock(&nm->lock);
	if (!skip && g)
		nm->failures++;
	e = find(nm, host);
	if (e && !skip && g) /* the pace counts from the failure */
		e->tried = util_mono_ms();
	if (!g && e && e->unresolved) {
		e->unresolved = 0;
		addrs_str(a, addrs, sizeof(addrs));
		snprintf(note, sizeof(note), "%s resolves again (%s)", host,
			 addrs);
	} else if (g && e && e->good.n) {
		*a = e->good;
		for (i = 0; i < a->n; i++)
			set_port(&a->sa[i], port);
		*last_good = 1;
		e->used = now;
		if (!e->unresolved) {
			e->unresolved = 1;
			addrs_str(a, addrs, sizeof(addrs));
			snprintf(note, sizeof(note),
				 "cannot resolve %s: %s; connecting to its "
				 "last good addresses (%s) until it resolves "
				 "again",
				 host, why, addrs);
		}
	}
	pthread_mutex_unlock(&nm->lock);
	if (note[0] && nm->note)
		nm->note(nm->note_arg, note);
	if (g && !*last_good) {
		snprintf(err, errlen, "cannot resolve %s: %s", host, why);
		return -ENOENT;
	}
	return 0;
}

void http_names_worked(struct http_names *nm, const char *host,
		       const struct http_addrs *a, unsigned i, int last_good)
{
	struct http_name *e;
	unsigned k;

	pthread_mutex_lock(&nm->lock);
	if (last_good) {
		nm->last_good_connects++;
		goto out;
	}
	e = find(nm, host);
	if (!e) { /* a new host takes the place of the least used */
		e = &nm->e[0];
		for (k = 1; k < HTTP_NAMES; k++)
			if (nm->e[k].used < e->used)
				e = &nm->e[k];
		memset(e, 0, sizeof(*e));
		snprintf(e->host, sizeof(e->host), "%s", host);
	}
	e->good = *a;
	if (i) { /* the one that worked goes first */
		e->good.sa[0] = a->sa[i];
		e->good.len[0] = a->len[i];
		e->good.sa[i] = a->sa[0];
		e->good.len[i] = a->len[0];
	}
	e->used = util_mono_ms();
out:
	pthread_mutex_unlock(&nm->lock);
}

void http_names_stats(struct http_names *nm, struct http_client_stats *st)
{
	unsigned i;

	memset(st, 0, sizeof(*st));
	pthread_mutex_lock(&nm->lock);
	st->lookups = nm->lookups;
	st->lookup_failures = nm->failures;
	st->last_good_connects = nm->last_good_connects;
	for (i = 0; i < HTTP_NAMES; i++)
		if (nm->e[i].unresolved) {
			snprintf(st->unresolved, sizeof(st->unresolved), "%s",
				 nm->e[i].host);
			http_addr_str(&nm->e[i].good.sa[0], st->last_good,
				      sizeof(st->last_good));
			break;
		}
	pthread_mutex_unlock(&nm->lock);
}
