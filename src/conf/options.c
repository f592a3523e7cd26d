/* SPDX-License-Identifier: MIT */
/*
 * options.c - values for the option table (table.c), read from -o lists,
 * the kernel command line, the config file and the environment, with
 * their precedence (shared/DESIGN.md, "One option table, three places").
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "src/conf/internal.h"

/* Decimal digits into *v; the rest of s is left in *end. */
static int parse_u64(const char *s, uint64_t *v, const char **end)
{
	uint64_t n = 0;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++)
		if (__builtin_mul_overflow(n, 10, &n) ||
		    __builtin_add_overflow(n, (uint64_t)(*s - '0'), &n))
			return -ERANGE;
	*v = n;
	*end = s;
	return 0;
}

static int parse_bool(const char *s, uint64_t *v)
{
	static const char *const yes[] = {"1", "true", "yes", "on"};
	static const char *const no[] = {"0", "false", "no", "off"};
	size_t i;

	for (i = 0; i < 4; i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*v = !strcmp(s, yes[i]);
			return 0;
		}
	}
	return -EINVAL;
}

/* "vhost|path": the index of s among the choices. */
static int parse_enum(const char *choices, const char *s, uint64_t *v)
{
	size_t len = strlen(s), i = 0;
	const char *c = choices, *bar;

	for (;; i++) {
		bar = strchr(c, '|');
		if ((bar ? (size_t)(bar - c) : strlen(c)) == len &&
		    !strncmp(c, s, len) && len) {
			*v = i;
			return 0;
		}
		if (!bar)
			return -EINVAL;
		c = bar + 1;
	}
}

int opts_duration(const char *s, uint64_t *ms)
{
	const char *end;
	uint64_t n, mul = 1000;

	if (parse_u64(s, &n, &end))
		return -EINVAL;
	if (!strcmp(end, "ms"))
		mul = 1, end += 2;
	else if (*end == 's')
		end++;
	if (*end || __builtin_mul_overflow(n, mul, &n) || !n || n > HOUR_MS)
		return -EINVAL;
	*ms = n;
	return 0;
}

/* A bound as the option's kind is written: "64M", "3600s", "1500ms". */
static void format_bound(char *out, size_t len, enum opt_kind kind, uint64_t v)
{
	static const char units[] = "GMK";
	int i;

	for (i = 0; kind == KIND_SIZE && v && i < 3; i++) {
		if (v % (GIB >> (10 * i)) == 0) {
			snprintf(out, len, "%llu%c",
				 (unsigned long long)(v / (GIB >> (10 * i))),
				 units[i]);
			return;
		}
	}
	if (kind == KIND_MSEC && v % 1000 == 0)
		snprintf(out, len, "%llus", (unsigned long long)(v / 1000));
	else
		snprintf(out, len, "%llu%s", (unsigned long long)v,
			 kind == KIND_MSEC ? "ms" : "");
}

/* Converts value by the option's kind into *num; 0 or a message. */
static int opt_convert(const struct opt_def *d, const char *value,
		       uint64_t *num, char *err, size_t errlen)
{
	const char *end = value;
	uint64_t n = 0, mul = 1;
	char lo[24], hi[24];
	int r;

	switch (d->kind) {
	case KIND_STR:
		if (!*value)
			return base_fail(
				err, errlen,
				"an empty value (leave the option out for "
				"its default)");
		return d->check ? d->check(value, err, errlen) : 0;
	case KIND_BOOL:
		if (parse_bool(value, num))
			return base_fail(err, errlen,
					 "expected 1/0, true/false, yes/no or "
					 "on/off");
		return 0;
	case KIND_ENUM:
		if (parse_enum(d->choices, value, num))
			return base_fail(err, errlen, "expected one of %s",
					 d->choices);
		return 0;
	case KIND_UINT:
	case KIND_SIZE:
	case KIND_MSEC:
		break;
	}
	r = parse_u64(value, &n, &end);
	if (r == -ERANGE)
		goto out_of_range;
	if (r)
		return base_fail(err, errlen, "expected a number");
	if (d->kind == KIND_SIZE) {
		if (*end == 'K' || *end == 'k')
			mul = KIB, end++;
		else if (*end == 'M' || *end == 'm')
			mul = MIB, end++;
		else if (*end == 'G' || *end == 'g')
			mul = GIB, end++;
	} else if (d->kind == KIND_MSEC) {
		mul = 1000;
		if (!strcmp(end, "ms"))
			mul = 1, end += 2;
		else if (*end == 's')
			end++;
	}
	if (*end)
		return base_fail(
			err, errlen, "%s",
			d->kind == KIND_SIZE
				? "expected a size (bytes, or with K, M or G)"
			: d->kind == KIND_MSEC ? "expected a duration "
						 "(seconds, or with s or ms)"
					       : "expected a number");
	if (__builtin_mul_overflow(n, mul, &n) || n < d->min || n > d->max)
		goto out_of_range;
	*num = n;
	return 0;
out_of_range:
	format_bound(lo, sizeof(lo), d->kind, d->min);
	format_bound(hi, sizeof(hi), d->kind, d->max);
	return base_fail(err, errlen, "out of range (%s to %s)", lo, hi);
}

int opts_set(struct opts *o, const char *key, const char *value,
	     enum opt_src src, char *err, size_t errlen)
{
	const struct opt_def *d;
	struct opt_val *v;
	enum opt_id id;
	uint64_t num = 0;
	char why[160], shown[80];
	const char *p;
	char *copy;

	if (!*key)
		return base_fail(
			err, errlen,
			"an option name is missing (expected KEY=VALUE)");
	d = opts_def_find(key, &id);
	if (!d)
		return base_fail(err, errlen, "unknown option '%.64s'", key);
	if (!value) {
		if (d->kind != KIND_BOOL)
			return base_fail(err, errlen,
					 "%s needs a value (%s=...)", key, key);
		value = "1";
	}
	if (strlen(value) > OPT_MAX_VALUE)
		return base_fail(err, errlen, "%s: value longer than %d bytes",
				 key, OPT_MAX_VALUE);
	for (p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return base_fail(
				err, errlen,
				"%s: a control character (\\x%02x) in the "
				"value",
				key, (unsigned char)*p);
	if (opt_convert(d, value, &num, why, sizeof(why)))
		return base_fail(err, errlen, "%s=%.64s%s: %s", key,
				 source_redact(value, shown, sizeof(shown)),
				 strlen(value) > 64 ? "..." : "", why);
	v = &o->v[id];
	if (src < v->src)
		return 0; /* a higher-ranked source set it already */
	copy = strdup(value);
	if (!copy)
		return base_fail(err, errlen, "out of memory");
	free(v->str);
	v->str = copy;
	v->num = num;
	v->src = src;
	return 0;
}

/* Applies one "key=value" or bare "key" item. */
static int opts_set_item(struct opts *o, char *item, enum opt_src src,
			 char *err, size_t errlen)
{
	char *eq = strchr(item, '=');

	if (eq)
		*eq = '\0';
	return opts_set(o, item, eq ? eq + 1 : NULL, src, err, errlen);
}

int opts_parse_list(struct opts *o, const char *list, enum opt_src src,
		    char *err, size_t errlen)
{
	char *item = malloc(strlen(list) + 1);
	size_t n = 0;
	int r = 0;

	if (!item)
		return base_fail(err, errlen, "out of memory");
	for (;; list++) {
		if (*list == '\\' && (list[1] == ',' || list[1] == '\\')) {
			item[n++] = *++list;
			continue;
		}
		if (*list && *list != ',') {
			item[n++] = *list;
			continue;
		}
		item[n] = '\0';
		if (n) {
			r = opts_set_item(o, item, src, err, errlen);
			if (r)
				break;
		}
		n = 0;
		if (!*list)
			break;
	}
	free(item);
	return r;
}

static char *trim(char *s, char *end)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s &&
	       (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		end--;
	*end = '\0';
	return s;
}

static int is_ours(const char *word)
{
	return !strncmp(word, "s3.", 3) || !strncmp(word, "s3root.", 7);
}

int opts_parse_file(struct opts *o, const char *text, size_t len,
		    const char *name, char *err, size_t errlen)
{
	char *buf, *line, *next, *eq, *key, *val;
	char why[OPT_MAX_VALUE / 16];
	int lineno = 0, r = 0;

	if (memchr(text, '\0', len))
		return base_fail(err, errlen,
				 "%s: contains a NUL byte (it is not a "
				 "text file)",
				 name);
	buf = malloc(len + 1);
	if (!buf)
		return base_fail(err, errlen, "out of memory");
	memcpy(buf, text, len);
	buf[len] = '\0';
	for (line = buf; line && *line; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line = trim(line, line + strlen(line));
		if (!*line || *line == '#')
			continue;
		eq = strchr(line, '=');
		if (!eq && !is_ours(line)) {
			r = base_fail(err, errlen,
				      "%s:%d: expected 'key = value'", name,
				      lineno);
			break;
		}
		/* a bare option name, as in -o: a switch turned on */
		key = eq ? trim(line, eq) : line;
		val = eq ? trim(eq + 1, eq + 1 + strlen(eq + 1)) : NULL;
		if (opts_set(o, key, val, OPT_SRC_CONFIG, why, sizeof(why))) {
			r = base_fail(err, errlen, "%s:%d: %s", name, lineno,
				      why);
			break;
		}
	}
	free(buf);
	return r;
}

int opts_parse_kcmdline(struct opts *o, const char *line,
			void (*other_fn)(void *arg, const char *word),
			void (*warn_fn)(void *arg, const char *msg), void *arg)
{
	char *word = malloc(strlen(line) + 1), msg[256];
	int quoted = 0;
	size_t n = 0;

	if (!word)
		return -ENOMEM;
	for (;; line++) {
		/* the kernel's next_arg(): quotes group and are dropped */
		if (*line == '"') {
			quoted = !quoted;
			continue;
		}
		if (*line && (quoted || !strchr(" \t\n", *line))) {
			word[n++] = *line;
			continue;
		}
		word[n] = '\0';
		if (n && is_ours(word)) {
			if (opts_set_item(o, word, OPT_SRC_KCMDLINE, msg,
					  sizeof(msg)) &&
			    warn_fn)
				warn_fn(arg, msg);
		} else if (n && other_fn) {
			other_fn(arg, word);
		}
		n = 0;
		if (!*line)
			break;
	}
	free(word);
	if (quoted && warn_fn)
		warn_fn(arg, "a quote is never closed: it runs to the end");
	return quoted ? -EINVAL : 0;
}

const char *opts_env_get(char *const *envp, const char *name)
{
	size_t n = strlen(name);

	for (; envp && *envp; envp++)
		if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
			return *envp + n + 1;
	return NULL;
}

int opts_load_env(struct opts *o, char *const *envp, char *err, size_t errlen)
{
	static const struct {
		const char *var;
		const char *key;
	} map[] = {
		{"AWS_DEFAULT_REGION", "s3.region"},
		{"AWS_REGION", "s3.region"}, /* set later: wins over DEFAULT */
		{"AWS_ENDPOINT_URL", "s3.endpoint"},
		{"AWS_CA_BUNDLE", "s3.ca"},
	};
	char why[200];
	const char *v;
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		v = opts_env_get(envp, map[i].var);
		if (!v || !*v)
			continue;
		if (opts_set(o, map[i].key, v, OPT_SRC_ENV, why, sizeof(why)))
			return base_fail(err, errlen, "environment %s: %s",
					 map[i].var, why);
	}
	return 0;
}

int opts_load_config(struct opts *o, char *const *envp, char *err,
		     size_t errlen)
{
	const char *path = opts_env_get(envp, "S3ROOT_CONFIG");
	int must = path != NULL;
	size_t len;
	char *buf;
	int r;

	if (!path)
		path = PATH_CONFIG;
	r = io_read_file(path, OPTS_CONFIG_MAX, &buf, &len);
	if (r == -ENOENT && !must)
		return 0;
	if (r)
		return base_fail(err, errlen, "config file %s: %s", path,
				 strerror(-r));
	r = opts_parse_file(o, buf, len, path, err, errlen);
	free(buf);
	return r;
}

int opts_finish(struct opts *o, char *err, size_t errlen)
{
	char buf[128];
	struct url u;
	int i;

	for (i = 0; i < OPT__COUNT; i++) {
		if (o->v[i].str || !opts_defs[i].dflt)
			continue;
		if (opts_set(o, opts_defs[i].key, opts_defs[i].dflt,
			     OPT_SRC_NONE, err, errlen))
			return -EINVAL;
	}
	if (!o->v[OPT_ENDPOINT].str) {
		snprintf(buf, sizeof(buf), "https://s3.%s.amazonaws.com",
			 opts_str(o, OPT_REGION));
		if (opts_set(o, "s3.endpoint", buf, OPT_SRC_NONE, err, errlen))
			return -EINVAL;
	}
	/* the tree's place must be known, one way; a place alone would
	 * verify nothing */
	if (o->v[OPT_VERITY_OFFSET].str && !o->v[OPT_VERITY].str)
		return base_fail(
			err, errlen,
			"s3root.verity_offset without s3root.verity (the "
			"root hash) verifies nothing");
	if (o->v[OPT_VERITY_OBJECT].str && !o->v[OPT_VERITY].str)
		return base_fail(
			err, errlen,
			"s3root.verity_object without s3root.verity (the "
			"root hash) verifies nothing");
	if (o->v[OPT_VERITY_OFFSET].str && o->v[OPT_VERITY_OBJECT].str)
		return base_fail(
			err, errlen,
			"s3root.verity_offset (a tree appended to the "
			"image) and s3root.verity_object (a tree of its "
			"own) conflict: give one");
	if (o->v[OPT_VERITY].str && !o->v[OPT_VERITY_OFFSET].str &&
	    !o->v[OPT_VERITY_OBJECT].str)
		return base_fail(
			err, errlen,
			"s3root.verity needs s3root.verity_offset (the "
			"hash offset verity-format printed) or "
			"s3root.verity_object (the tree's object)");
	/* the tree's object gets the image's options: a version of the
	 * image is no version of the tree */
	if (o->v[OPT_VERSION_ID].str && o->v[OPT_VERITY_OBJECT].str)
		return base_fail(
			err, errlen,
			"s3.version_id names a version of the image, not of "
			"s3root.verity_object: append the tree to the image "
			"(s3root.verity_offset) to boot an old version");
	if (o->v[OPT_VERITY_OFFSET].str && o->v[OPT_VERITY_OFFSET].num % 4096)
		return base_fail(
			err, errlen,
			"s3root.verity_offset=%s: not a multiple of 4096 "
			"(the hash block size)",
			o->v[OPT_VERITY_OFFSET].str);
	if (!o->v[OPT_URLSTYLE].str) {
		url_parse(opts_str(o, OPT_ENDPOINT), &u);
		if (opts_set(o, "s3.urlstyle", u.host_is_ip ? "path" : "vhost",
			     OPT_SRC_NONE, err, errlen))
			return -EINVAL;
	}
	return 0;
}

int opts_to_list(const struct opts *o, enum opt_src src, char *out, size_t len)
{
	size_t n = 0;
	const char *v;
	int i;

	if (!len)
		return -ENOSPC;
	out[0] = '\0';
	for (i = 0; i < OPT__COUNT; i++) {
		if (o->v[i].src != src)
			continue;
		/* "key=value", commas and backslashes escaped as -o wants */
		if (n && n + 1 < len)
			out[n++] = ',';
		for (v = opts_defs[i].key; *v && n + 1 < len; v++)
			out[n++] = *v;
		if (n + 1 < len)
			out[n++] = '=';
		for (v = o->v[i].str; *v && n + 2 < len; v++) {
			if (*v == ',' || *v == '\\')
				out[n++] = '\\';
			out[n++] = *v;
		}
		if (n + 2 >= len)
			return -ENOSPC;
	}
	out[n] = '\0';
	return 0;
}

void opts_free(struct opts *o)
{
	int i;

	for (i = 0; i < OPT__COUNT; i++)
		free(o->v[i].str);
	memset(o, 0, sizeof(*o));
}

const char *opts_str(const struct opts *o, enum opt_id id)
{
	return o->v[id].str;
}

uint64_t opts_num(const struct opts *o, enum opt_id id)
{
	return o->v[id].num;
}

int opts_isset(const struct opts *o, enum opt_id id)
{
	return o->v[id].src != OPT_SRC_NONE;
}
