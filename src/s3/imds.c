/* SPDX-License-Identifier: MIT */
/*
 * imds.c - the instance role's credentials from the EC2 instance metadata
 * service, IMDSv2 only: a session token (PUT /latest/api/token), the role
 * (GET .../iam/security-credentials/) and its temporary credentials, and
 * the instance's region. The token is kept for the process and asked again
 * when it nears its end or the service answers 401.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "crypto/crypto.h"
#include "src/s3/s3.h"

#define IMDS_V4 "http://169.254.169.254"
#define IMDS_V6 "http://[fd00:ec2::254]"
#define TOKEN_TTL 21600	      /* seconds: the most the service grants */
#define TOKEN_MAX 4096	      /* bytes of a session token */
#define PROBE_CONNECT_MS 1000 /* s3.imds=auto: nobody there moves on */
#define IMDS_IO_MS 5000
#define ROLE_MAX 128
#define CREDS_PATH "/latest/meta-data/iam/security-credentials/"

/* The session token, shared by every object of the process. */
static struct {
	pthread_mutex_t lock;
	char token[TOKEN_MAX + 1];
	int64_t until; /* util_mono_ms; 0: none */
	int absent;    /* s3.imds=auto found nobody: not asked again */
	int ever;      /* it gave credentials once: it is there */
} tok = {PTHREAD_MUTEX_INITIALIZER, "", 0, 0, 0};

/* One conversation with the service. */
struct imds {
	struct http_client *http;
	struct url url;
	char prefix[URL_MAX_PATH + 1]; /* the endpoint's own path, no '/' */
	char host[URL_MAX_HOST + 10];
	char *body; /* UTIL_JSON_MAX + 1 bytes */
	size_t blen;
	int status;
	int probe;   /* auto: a service that is not there is no error */
	int tokened; /* a session token was at hand */
};

/* Printable ASCII without spaces. */
static int printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

static int digits_at(const char *s, int n, int *v)
{
	int k;

	*v = 0;
	for (k = 0; k < n; k++) {
		if (s[k] < '0' || s[k] > '9')
			return -EINVAL;
		*v = *v * 10 + (s[k] - '0');
	}
	return 0;
}

int imds_parse_time(const char *s, int64_t *t)
{
	static const int mdays[] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y, mo, d, h, mi, se, leap;
	int64_t days;

	/* YYYY-MM-DDTHH:MM:SSZ */
	if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' ||
	    s[13] != ':' || s[16] != ':' || s[19] != 'Z' ||
	    digits_at(s, 4, &y) || digits_at(s + 5, 2, &mo) ||
	    digits_at(s + 8, 2, &d) || digits_at(s + 11, 2, &h) ||
	    digits_at(s + 14, 2, &mi) || digits_at(s + 17, 2, &se))
		return -EINVAL;
	leap = (y % 4 == 0 && y % 100) || y % 400 == 0;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 59)
		return -EINVAL;
	/* days from the civil date (H. Hinnant's algorithm) */
	y -= mo <= 2;
	days = (int64_t)(y / 400) * 146097 +
	       (int64_t)(365 * (y % 400) + (y % 400) / 4 - (y % 400) / 100) +
	       (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1 - 719468;
	*t = days * 86400 + h * 3600 + mi * 60 + se;
	return 0;
}

int imds_parse_creds(const char *doc, size_t len, int64_t now, struct creds *c,
		     char *err, size_t errlen)
{
	char code[64], ak[257], sk[257], token[TOKEN_MAX * 2 + 1], exp[64];
	struct util_json_field f[] = {
		{"Code", code, sizeof(code), 0},
		{"AccessKeyId", ak, sizeof(ak), 0},
		{"SecretAccessKey", sk, sizeof(sk), 0},
		{"Token", token, sizeof(token), 0},
		{"Expiration", exp, sizeof(exp), 0},
	};
	char why[160];
	int64_t t = 0;
	size_t k;
	int r = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (util_json_fields(doc, len, f, 5, why, sizeof(why))) {
		base_fail(err, errlen, "not a credentials document (%s)", why);
		goto out;
	}
	for (k = 0; k < 5; k++)
		if (!f[k].found) {
			base_fail(err, errlen, "the document has no %s",
				  f[k].name);
			goto out;
		}
	if (strcmp(code, "Success")) {
		base_fail(err, errlen, "the service says Code \"%.60s\"", code);
		goto out;
	}
	if (!*ak || !*sk || !*token || !printable(ak) || !printable(sk) ||
	    !printable(token)) {
		base_fail(err, errlen,
			  "a malformed AccessKeyId, SecretAccessKey or Token");
		goto out;
	}
	if (imds_parse_time(exp, &t)) {
		base_fail(err, errlen,
			  "Expiration \"%.40s\" is not YYYY-MM-DDTHH:MM:SSZ",
			  exp);
		goto out;
	}
	if (t <= now) {
		base_fail(err, errlen,
			  "the credentials expired at %s (is the clock of "
			  "the service or of this machine wrong?)",
			  exp);
		goto out;
	}
	c->access_key = strdup(ak);
	c->secret_key = strdup(sk);
	c->session_token = strdup(token);
	c->expires = t;
	c->origin = CREDS_ORIGIN_IMDS;
	if (!c->access_key || !c->secret_key || !c->session_token) {
		creds_free(c);
		r = base_fail(err, errlen, "out of memory");
		goto out;
	}
	r = 0;
out:
	crypto_wipe(sk, sizeof(sk));
	crypto_wipe(token, sizeof(token));
	return r;
}

/* off, or the endpoint's URL and whether to probe (auto). 1: off. */
static int imds_where(const struct opts *o, char *const *envp, const char **url,
		      int *probe)
{
	const char *dis = opts_env_get(envp, "AWS_EC2_METADATA_DISABLED");
	const char *ep =
		opts_env_get(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode =
		opts_env_get(envp, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	uint64_t m = opts_num(o, OPT_IMDS);

	if (!opts_isset(o, OPT_IMDS) && dis && !strcasecmp(dis, "true"))
		return 1;
	if (m == IMDS_OFF)
		return 1;
	*probe = m == IMDS_AUTO;
	*url = opts_str(o, OPT_IMDS_ENDPOINT);
	if (!*url && ep && *ep)
		*url = ep;
	if (!*url)
		*url = mode && !strcasecmp(mode, "IPv6") ? IMDS_V6 : IMDS_V4;
	return 0;
}

static int imds_open(struct imds *m, const struct opts *o, const char *url,
		     char *err, size_t errlen)
{
	struct http_client_config hc = {
		.connect_timeout_ms = (int)opts_num(o, OPT_CONNECT_TIMEOUT),
		.io_timeout_ms = IMDS_IO_MS,
		.min_time = base_build_time,
		.max_idle = 1,
		.idle_timeout_ms = 5000,
	};
	size_t n;

	if (url_parse(url, &m->url) ||
	    url_host_header(&m->url, m->host, sizeof(m->host)) < 0)
		return base_fail(err, errlen,
				 "metadata service %s: not an http:// URL",
				 url);
	/* the bundle is S3's: a plain http:// service (the real one) needs
	 * none, and a broken one must be reported for S3, not here */
	if (m->url.tls)
		hc.ca_file = opts_str(o, OPT_CA);
	snprintf(m->prefix, sizeof(m->prefix), "%s", m->url.path);
	n = strlen(m->prefix);
	while (n && m->prefix[n - 1] == '/')
		m->prefix[--n] = '\0';
	if (m->probe || !hc.connect_timeout_ms ||
	    hc.connect_timeout_ms > PROBE_CONNECT_MS * 5)
		hc.connect_timeout_ms =
			m->probe ? PROBE_CONNECT_MS : PROBE_CONNECT_MS * 5;
	m->body = malloc(UTIL_JSON_MAX + 1);
	if (!m->body)
		return base_fail(err, errlen, "out of memory");
	return http_client_new(&m->http, &hc, err, errlen);
}

static void imds_close(struct imds *m)
{
	http_client_free(m->http);
	if (m->body)
		crypto_wipe(m->body, UTIL_JSON_MAX + 1);
	free(m->body);
}

/* Reads the body into m->body (NUL-terminated); over the cap: -EFBIG. */
static int read_body(struct imds *m, struct http_conn *c,
		     struct http_response *r)
{
	long n;

	m->blen = 0;
	for (;;) {
		n = http_read_body(c, r, m->body + m->blen,
				   UTIL_JSON_MAX + 1 - m->blen);
		if (n < 0)
			return (int)n;
		if (!n)
			break;
		m->blen += (size_t)n;
		if (m->blen > UTIL_JSON_MAX)
			return -EFBIG;
	}
	m->body[m->blen] = '\0';
	return 0;
}

/*
 * One request: method on path with one header (name: value). The status
 * is in m->status, the body in m->body. -errno with the cause in err:
 * -ECONNREFUSED and the like when nobody answers.
 */
static int imds_ask(struct imds *m, const char *method, const char *path,
		    const char *name, const char *value, char *err,
		    size_t errlen)
{
	struct http_response *r = malloc(sizeof(*r));
	struct http_conn *c = NULL;
	char head[TOKEN_MAX + 1024], why[300];
	int e, reuse = 0;

	if (!r)
		return base_fail(err, errlen, "out of memory");
	snprintf(head, sizeof(head),
		 "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: s3root\r\n"
		 "Accept: */*\r\n%s: %s\r\n%s\r\n",
		 method, m->prefix, path, m->host, name, value,
		 strcmp(method, "PUT") ? "" : "Content-Length: 0\r\n");
	e = http_conn_get(m->http, &m->url, &c, why, sizeof(why));
	if (e) {
		snprintf(err, errlen, "%s %s: %s", method, path, why);
		goto out;
	}
	e = http_send(c, head, strlen(head));
	if (!e)
		e = http_read_head(c, r, 0);
	if (!e) {
		m->status = r->status;
		e = read_body(m, c, r);
		reuse = !e;
	}
	if (e == -EFBIG)
		snprintf(err, errlen,
			 "%s %s: the answer is over %d bytes (not a metadata "
			 "service?)",
			 method, path, UTIL_JSON_MAX);
	else if (e)
		snprintf(err, errlen, "%s %s: %s", method, path,
			 *http_conn_error(c) ? http_conn_error(c)
					     : strerror(-e));
out:
	crypto_wipe(head, sizeof(head));
	http_conn_put(m->http, c, reuse);
	free(r);
	return e;
}

/* A fresh session token into the cache (caller holds tok.lock). */
static int token_put(struct imds *m, char *err, size_t errlen)
{
	char ttl[16], why[300];
	size_t n;
	int e;

	snprintf(ttl, sizeof(ttl), "%d", TOKEN_TTL);
	tok.until = 0;
	e = imds_ask(m, "PUT", "/latest/api/token",
		     "X-aws-ec2-metadata-token-ttl-seconds", ttl, why,
		     sizeof(why));
	if (e) {
		snprintf(err, errlen, "%s", why);
		return e;
	}
	if (m->status != 200) {
		snprintf(err, errlen,
			 "PUT /latest/api/token: HTTP %d (an IMDSv2 session "
			 "token was refused)",
			 m->status);
		return -EPROTO;
	}
	n = m->blen;
	while (n && (m->body[n - 1] == '\n' || m->body[n - 1] == '\r'))
		m->body[--n] = '\0';
	if (!n || n > TOKEN_MAX || strlen(m->body) != n ||
	    !printable(m->body)) {
		snprintf(err, errlen,
			 "PUT /latest/api/token: not a session "
			 "token");
		return -EPROTO;
	}
	memcpy(tok.token, m->body, n + 1);
	/* a minute early: the service must not see it expire in flight */
	tok.until = util_mono_ms() + (TOKEN_TTL - 60) * 1000LL;
	return 0;
}

/* GET path with the session token; a 401 asks for a new token once. */
static int imds_get(struct imds *m, const char *path, char *err, size_t errlen)
{
	int e, tries;

	pthread_mutex_lock(&tok.lock);
	for (tries = 0; tries < 2; tries++) {
		if (!tok.until || util_mono_ms() >= tok.until) {
			e = token_put(m, err, errlen);
			if (e)
				break;
		}
		m->tokened = 1;
		e = imds_ask(m, "GET", path, "X-aws-ec2-metadata-token",
			     tok.token, err, errlen);
		if (e || m->status != 401)
			break;
		tok.until = 0; /* expired or the service restarted */
		log_info("metadata service: the session token was refused "
			 "(401): asking for a new one");
	}
	pthread_mutex_unlock(&tok.lock);
	if (!e && m->status == 401)
		e = base_fail(err, errlen,
			      "GET %s: 401 with a fresh session token", path);
	return e;
}

/* The first line of the role listing. */
static int take_role(struct imds *m, char *role, char *err, size_t errlen)
{
	size_t n = strcspn(m->body, "\r\n");
	size_t k;

	if (!n)
		return base_fail(err, errlen,
				 "no IAM role is attached to this instance "
				 "(the role listing is empty)");
	if (n > ROLE_MAX)
		return base_fail(err, errlen, "the role's name is too long");
	for (k = 0; k < n; k++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVW"
			    "XYZ0123456789+=,.@_-",
			    m->body[k]) ||
		    !m->body[k])
			return base_fail(err, errlen,
					 "the role listing is not a role "
					 "name");
	memcpy(role, m->body, n);
	role[n] = '\0';
	return 0;
}

static int region_of(struct imds *m, char *region, size_t len, char *err,
		     size_t errlen)
{
	size_t n;
	int e = imds_get(m, "/latest/meta-data/placement/region", err, errlen);

	if (e)
		return e;
	if (m->status != 200)
		return base_fail(err, errlen,
				 "GET /latest/meta-data/placement/region: "
				 "HTTP %d",
				 m->status);
	n = strcspn(m->body, "\r\n");
	m->body[n] = '\0';
	if (!n || n >= len ||
	    strspn(m->body, "abcdefghijklmnopqrstuvwxyz0123456789-") != n)
		return base_fail(err, errlen,
				 "placement/region: not a region name");
	memcpy(region, m->body, n + 1);
	return 0;
}

/* The role's credentials; 1 when probing and no role is attached. */
static int creds_of(struct imds *m, struct creds *c, char *role, char *err,
		    size_t errlen)
{
	char path[sizeof(CREDS_PATH) + ROLE_MAX], why[300];
	int e = imds_get(m, CREDS_PATH, err, errlen);

	if (e)
		return e;
	if (m->status == 404 && m->probe)
		return 1;
	if (m->status != 200)
		return base_fail(err, errlen, "GET " CREDS_PATH ": HTTP %d%s",
				 m->status,
				 m->status == 404 ? " (no IAM role is "
						    "attached to this "
						    "instance)"
						  : "");
	if (take_role(m, role, err, errlen))
		return -EINVAL;
	snprintf(path, sizeof(path), CREDS_PATH "%s", role);
	e = imds_get(m, path, err, errlen);
	if (e)
		return e;
	if (m->status != 200)
		return base_fail(err, errlen,
				 "GET %s: HTTP %d (the role's credentials "
				 "are not there)",
				 path, m->status);
	if (imds_parse_creds(m->body, m->blen, time(NULL), c, why, sizeof(why)))
		return base_fail(err, errlen, "role %s: %s", role, why);
	return 0;
}

int imds_load(struct creds *c, const struct opts *o, char *const *envp,
	      int want_region, char *err, size_t errlen)
{
	struct imds m = {0};
	char why[400], role[ROLE_MAX + 1] = "";
	const char *url = NULL;
	int r;

	memset(c, 0, sizeof(*c));
	if (imds_where(o, envp, &url, &m.probe) || (m.probe && tok.absent))
		return 1;
	r = imds_open(&m, o, url, why, sizeof(why));
	if (r)
		goto out;
	r = creds_of(&m, c, role, why, sizeof(why));
	if (r < 0 && m.probe && !m.tokened && !tok.ever) {
		/* auto: nobody answered, or something that is no IMDSv2
		 * service (no session token) */
		log_debug("no metadata service at %s (%s): no instance "
			  "credentials",
			  url, why);
		tok.absent = 1;
		r = 1;
	} else if (r == 1) {
		log_debug("metadata service %s: no IAM role attached", url);
	}
	if (!r && want_region &&
	    region_of(&m, c->region, sizeof(c->region), why, sizeof(why))) {
		log_warn("metadata service %s: %s (the region stays unset)",
			 url, why);
		c->region[0] = '\0';
	}
	if (!r) {
		snprintf(c->role, sizeof(c->role), "%s", role);
		tok.ever = 1;
	}
out:
	if (r < 0)
		base_fail(err, errlen, "instance metadata service %s: %s", url,
			  why);
	imds_close(&m);
	return r;
}

int64_t creds_refresh_at(const struct creds *c, int64_t obtained)
{
	int64_t life = c->expires - obtained, margin;

	if (!c->expires)
		return 0;
	margin =
		life / 4 < CREDS_REFRESH_AHEAD ? life / 4 : CREDS_REFRESH_AHEAD;
	return c->expires - (margin > 0 ? margin : 0);
}
