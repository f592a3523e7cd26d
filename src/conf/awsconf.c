/* SPDX-License-Identifier: MIT */
/*
 * awsconf.c - the AWS CLI's shared files, ~/.aws/credentials and
 * ~/.aws/config: one profile's keys, token, region and endpoint_url.
 *
 * The files are INI text as Python's configparser reads it for botocore:
 * "[section]" headers, "key = value" or "key: value" (split at the first
 * '=' or ':', names case-insensitive), whole-line comments starting with
 * '#' or ';' (no comments after a value), and lines indented deeper than
 * the option before them continue it. Such continuations hold the nested
 * settings ("s3 =" then "  addressing_style = path"): we read none of
 * them. In the config file a profile is "[profile NAME]", except
 * "[default]"; in the credentials file it is "[NAME]". A key set twice
 * keeps its last value. Text before the first header, a line that is no
 * header, option or comment, and files, lines or section counts above the
 * bounds below are errors, as they are for the AWS CLI.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "src/conf/conf.h"

#define AWSCONF_MAX_FILE (256 * 1024)
#define AWSCONF_MAX_LINE 4096
#define AWSCONF_MAX_SECTIONS 1024

static const char *const awsconf_keys[AWSCONF__N] = {
	[AWSCONF_ACCESS_KEY] = "aws_access_key_id",
	[AWSCONF_SECRET_KEY] = "aws_secret_access_key",
	[AWSCONF_SESSION_TOKEN] = "aws_session_token",
	[AWSCONF_REGION] = "region",
	[AWSCONF_ENDPOINT_URL] = "endpoint_url",
};

static void awsconf_set(struct awsconf *a, int k, char *v)
{
	if (a->v[k]) {
		memset(a->v[k], 0, strlen(a->v[k]));
		free(a->v[k]);
	}
	a->v[k] = v;
}

void awsconf_free(struct awsconf *a)
{
	int k;

	for (k = 0; k < AWSCONF__N; k++)
		awsconf_set(a, k, NULL);
	memset(a, 0, sizeof(*a));
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* [s, e) without the blanks at either end. */
static void trim(const char **s, const char **e)
{
	while (*s < *e && is_blank(**s))
		(*s)++;
	while (*e > *s && is_blank((*e)[-1]))
		(*e)--;
}

/* Is the header [s, e) the profile's section? */
static int header_is(const char *s, const char *e, const char *profile,
		     int config)
{
	size_t n = strlen(profile);

	trim(&s, &e);
	if (config && (size_t)(e - s) > 8 && !memcmp(s, "profile", 7) &&
	    is_blank(s[7])) {
		s += 8;
		trim(&s, &e);
	} else if (config && strcmp(profile, "default")) {
		return 0; /* "[NAME]" is no profile in the config file */
	} else if (config &&
		   ((size_t)(e - s) != 7 || memcmp(s, "default", 7))) {
		return 0;
	}
	return (size_t)(e - s) == n && !memcmp(s, profile, n);
}

/* An option line of the profile: keep the value if the key is ours. */
static int take_option(struct awsconf *a, const char *s, const char *e)
{
	const char *d = s, *vs, *ve = e;
	char key[32], *v;
	size_t n, i;
	int k;

	while (d < e && *d != '=' && *d != ':')
		d++;
	if (d == e)
		return -EINVAL;
	vs = d + 1;
	trim(&s, &d);
	trim(&vs, &ve);
	n = (size_t)(d - s);
	if (!n)
		return -EINVAL;
	if (n >= sizeof(key))
		return 0; /* none of ours */
	for (i = 0; i < n; i++)
		key[i] = (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] + 32 : s[i]);
	key[n] = '\0';
	for (k = 0; k < AWSCONF__N; k++) {
		if (strcmp(key, awsconf_keys[k]))
			continue;
		v = malloc((size_t)(ve - vs) + 1);
		if (!v)
			return -ENOMEM;
		memcpy(v, vs, (size_t)(ve - vs));
		v[ve - vs] = '\0';
		awsconf_set(a, k, v);
	}
	return 0;
}

int awsconf_parse(struct awsconf *a, const char *text, size_t len,
		  const char *profile, int config, const char *name, char *err,
		  size_t errlen)
{
	const char *line, *end = text + len, *eol, *s, *e;
	size_t lineno = 0, sections = 0, indent;
	long last_indent = -1; /* the option before, or none */
	int in = 0, found = 0, r;

	if (len > AWSCONF_MAX_FILE)
		return base_fail(err, errlen, "%s: larger than %d KiB", name,
				 AWSCONF_MAX_FILE / 1024);
	if (memchr(text, '\0', len))
		return base_fail(err, errlen,
				 "%s: contains a NUL byte (not a text file)",
				 name);
	for (line = text; line < end; line = eol + 1) {
		eol = memchr(line, '\n', (size_t)(end - line));
		if (!eol)
			eol = end;
		lineno++;
		if (eol - line > AWSCONF_MAX_LINE)
			return base_fail(err, errlen,
					 "%s:%zu: a line longer than %d bytes",
					 name, lineno, AWSCONF_MAX_LINE);
		s = line;
		e = eol;
		if (e > s && e[-1] == '\r')
			e--;
		for (indent = 0; s + indent < e && is_blank(s[indent]);)
			indent++;
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (last_indent >= 0 && (long)indent > last_indent)
			continue; /* a continuation: a nested setting */
		if (*s == '[' && memchr(s, ']', (size_t)(e - s))) {
			if (++sections > AWSCONF_MAX_SECTIONS)
				return base_fail(err, errlen,
						 "%s: more than %d sections",
						 name, AWSCONF_MAX_SECTIONS);
			while (e[-1] != ']')
				e--;
			in = header_is(s + 1, e - 1, profile, config);
			found |= in;
			last_indent = -1;
			continue;
		}
		if (!sections)
			return base_fail(err, errlen,
					 "%s:%zu: an option before the first "
					 "[section]",
					 name, lineno);
		r = in ? take_option(a, s, e) : 0;
		if (!in && !memchr(s, '=', (size_t)(e - s)) &&
		    !memchr(s, ':', (size_t)(e - s)))
			r = -EINVAL;
		if (r == -ENOMEM)
			return base_fail(err, errlen, "out of memory");
		if (r)
			return base_fail(err, errlen,
					 "%s:%zu: expected 'key = value', a "
					 "[section] or a comment",
					 name, lineno);
		last_indent = (long)indent;
	}
	return found;
}

/* FILE from env, or $HOME/.aws/DEFAULT; 0 when neither can be named. */
static int awsconf_path(char *out, size_t len, char *const *envp,
			const char *env, const char *dflt)
{
	const char *p = opts_env_get(envp, env), *home;

	if (p && *p)
		return snprintf(out, len, "%s", p) < (int)len ? 1
							      : -ENAMETOOLONG;
	home = opts_env_get(envp, "HOME");
	if (!home || !*home)
		return 0; /* an initramfs has no home */
	return snprintf(out, len, "%s/.aws/%s", home, dflt) < (int)len
		       ? 1
		       : -ENAMETOOLONG;
}

/* Reads and parses one file; a missing one is empty. 0/1 found, -errno. */
static int awsconf_file(struct awsconf *a, char *const *envp, const char *env,
			const char *dflt, const char *profile, int config,
			char *path, size_t pathlen, char *err, size_t errlen)
{
	size_t len;
	char *buf;
	int r = awsconf_path(path, pathlen, envp, env, dflt);

	if (r <= 0) {
		path[0] = '\0';
		return r ? base_fail(err, errlen, "%s: path too long", env) : 0;
	}
	r = io_read_file(path, AWSCONF_MAX_FILE, &buf, &len);
	if (r == -ENOENT || r == -ENOTDIR)
		return 0;
	if (r == -EFBIG)
		return base_fail(err, errlen, "%s: larger than %d KiB", path,
				 AWSCONF_MAX_FILE / 1024);
	if (r)
		return base_fail(err, errlen, "%s: %s", path, strerror(-r));
	r = awsconf_parse(a, buf, len, profile, config, path, err, errlen);
	memset(buf, 0, len);
	free(buf);
	return r;
}

/* Moves src's key k into dst unless dst has it. */
static void awsconf_take(struct awsconf *dst, struct awsconf *src, int k)
{
	if (dst->v[k] && *dst->v[k])
		return;
	awsconf_set(dst, k, src->v[k]);
	src->v[k] = NULL;
}

int awsconf_load(struct awsconf *a, char *const *envp, char *err, size_t errlen)
{
	const char *profile = opts_env_get(envp, "AWS_PROFILE");
	struct awsconf cfg = {0};
	char cfg_path[sizeof(a->origin)];
	struct stat st;
	int rc, rf, k, named;

	memset(a, 0, sizeof(*a));
	if (!profile || !*profile)
		profile = opts_env_get(envp, "AWS_DEFAULT_PROFILE");
	named = profile && *profile;
	if (!named)
		profile = "default";
	rc = awsconf_file(a, envp, "AWS_SHARED_CREDENTIALS_FILE", "credentials",
			  profile, 0, a->origin, sizeof(a->origin), err,
			  errlen);
	if (rc < 0)
		goto fail;
	rf = awsconf_file(&cfg, envp, "AWS_CONFIG_FILE", "config", profile, 1,
			  cfg_path, sizeof(cfg_path), err, errlen);
	if (rf < 0) {
		rc = rf;
		goto fail;
	}
	if (named && !rc && !rf) {
		rc = base_fail(err, errlen,
			       "the profile '%.64s' (AWS_PROFILE) is in "
			       "neither %s nor %s",
			       profile, *a->origin ? a->origin : "credentials",
			       *cfg_path ? cfg_path : "config");
		goto fail;
	}
	/* the keys come as a set, from the credentials file first */
	if (!a->v[AWSCONF_ACCESS_KEY] || !*a->v[AWSCONF_ACCESS_KEY]) {
		for (k = AWSCONF_ACCESS_KEY; k <= AWSCONF_SESSION_TOKEN; k++)
			awsconf_set(a, k, NULL);
		if (cfg.v[AWSCONF_ACCESS_KEY] && *cfg.v[AWSCONF_ACCESS_KEY]) {
			memcpy(a->origin, cfg_path, sizeof(a->origin));
			a->keys_in_config = 1;
		}
		for (k = AWSCONF_ACCESS_KEY; k <= AWSCONF_SESSION_TOKEN; k++)
			awsconf_take(a, &cfg, k);
	} else if (!stat(a->origin, &st) && (st.st_mode & 077)) {
		log_warn("%s is readable by others (mode %03o): chmod 600 it",
			 a->origin, (unsigned)(st.st_mode & 0777));
	}
	awsconf_take(a, &cfg, AWSCONF_REGION);
	awsconf_take(a, &cfg, AWSCONF_ENDPOINT_URL);
	snprintf(a->profile, sizeof(a->profile), "%s", profile);
	awsconf_free(&cfg);
	return 0;
fail:
	awsconf_free(&cfg);
	awsconf_free(a);
	return rc;
}

int awsconf_apply_opts(struct opts *o, char *const *envp, char *err,
		       size_t errlen)
{
	static const struct {
		int k;
		const char *key;
	} map[] = {{AWSCONF_REGION, "s3.region"},
		   {AWSCONF_ENDPOINT_URL, "s3.endpoint"}};
	struct awsconf a;
	char why[256];
	size_t i;
	int r = awsconf_load(&a, envp, err, errlen);

	for (i = 0; !r && i < sizeof(map) / sizeof(map[0]); i++) {
		const char *v = a.v[map[i].k];

		if (v && *v &&
		    opts_set(o, map[i].key, v, OPT_SRC_PROFILE, why,
			     sizeof(why)))
			r = base_fail(err, errlen, "profile %s: %s", a.profile,
				      why);
	}
	awsconf_free(&a);
	return r;
}
