/* config.c - crawld's configuration: one table of keys drives the defaults,
 * the checks, the INI loader (inih), the overrides, the formatter and the
 * reload diff, so a key is described in exactly one place. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <ini.h>

/* Longest value text accepted (after inih's own line limit, this only bounds
 * config_set). Paths are bounded again by their key's range. */
#define VALUE_MAX 4096

enum key_type { K_INT, K_I64, K_BOOL, K_MODE, K_LEVEL, K_STATUSES, K_STR };

/* What a string key must look like. */
enum str_kind { S_NAME, S_PATH, S_PATH_OPT, S_SOCK, S_TEXT, S_SORT };

struct key_def {
	const char *section;
	const char *key;
	enum key_type type;
	enum str_kind kind;   /* K_STR only */
	size_t off;           /* of the field in struct crawld_config */
	long long min, max;   /* integer range, or string length range */
	bool restart;         /* a change needs a restart to take effect */
	const char *def;      /* the default, as the file would spell it */
};

/* One line per key: section and key name the field too (c->section.key). */
#define KEY(s, k, type, kind, lo, hi, restart, def) \
	{ #s, #k, type, kind, offsetof(struct crawld_config, s.k), lo, hi, restart, def }
#define INT(s, k, lo, hi, def) KEY(s, k, K_INT, 0, lo, hi, false, def)
#define I64(s, k, lo, hi, def) KEY(s, k, K_I64, 0, lo, hi, false, def)
#define BOOL(s, k, restart, def) KEY(s, k, K_BOOL, 0, 0, 1, restart, def)
#define STR(s, k, kind, lo, hi, restart, def) KEY(s, k, K_STR, kind, lo, hi, restart, def)

static const struct key_def keys[] = {
	STR(daemon, user, S_NAME, 1, 32, true, "crawld"),
	STR(daemon, group, S_NAME, 1, 32, true, "crawld"),
	STR(daemon, state_dir, S_PATH, 1, 4095, true, "/var/lib/crawld"),
	STR(daemon, socket, S_SOCK, 1, 107, true, "/run/crawld/crawld.sock"),
	KEY(daemon, socket_mode, K_MODE, 0, 0, 0777, true, "0660"),
	STR(daemon, log_dir, S_PATH, 1, 4095, true, "/var/log/crawld"),
	KEY(daemon, log_level, K_LEVEL, 0, LOG_ERR, LOG_DEBUG, false, "info"),
	I64(daemon, log_max_bytes, 4096, 1073741824, "10485760"),
	INT(daemon, log_keep, 0, 100, "5"),
	STR(daemon, pid_file, S_PATH_OPT, 0, 4095, true, ""),
	INT(daemon, max_clients, 1, 65536, "256"),
	INT(daemon, max_line, 1024, 16777216, "65536"),
	INT(daemon, checkpoint_interval_ms, 100, 3600000, "2000"),
	INT(daemon, shutdown_timeout_ms, 0, 600000, "10000"),
	BOOL(daemon, watchdog, true, "true"),

	INT(limits, max_connections, 1, 100000, "256"),
	INT(limits, max_per_host, 1, 1000, "8"),
	INT(limits, max_jobs_running, 1, 10000, "16"),
	I64(limits, max_body_bytes, 1024, 1073741824, "10485760"),
	INT(limits, connect_timeout_ms, 1, 600000, "10000"),
	INT(limits, timeout_ms, 1, 3600000, "30000"),
	I64(limits, low_speed_bytes, 0, 1073741824, "1"),
	INT(limits, low_speed_ms, 0, 3600000, "30000"),
	INT(limits, max_redirects, 0, 100, "10"),

	STR(crawl, user_agent, S_TEXT, 1, 256, false,
	    "crawld/0.1 (+https://example.invalid/crawld)"),
	INT(crawl, depth, 0, 1000, "3"),
	INT(crawl, max_pages, 1, 1000000000, "10000"),
	INT(crawl, concurrency, 1, 100000, "64"),
	INT(crawl, per_host, 1, 1000, "4"),
	INT(crawl, delay_ms, 0, 3600000, "0"),
	BOOL(crawl, obey_robots, false, "true"),
	INT(crawl, retries, 0, 100, "2"),
	INT(crawl, retry_backoff_ms, 0, 600000, "500"),
	KEY(crawl, retry_statuses, K_STATUSES, 0, 100, 599, false,
	    "429,500,502,503,504"),
	STR(crawl, sort_by, S_SORT, 1, 16, false, "url"),
	BOOL(crawl, allow_private, false, "false"),
};

#define N_KEYS (sizeof keys / sizeof keys[0])

static const char *const sections[] = { "daemon", "limits", "crawl" };

static const struct {
	const char *name;
	int level;
} levels[] = {
	{ "debug", LOG_DEBUG },     { "info", LOG_INFO },
	{ "notice", LOG_NOTICE },   { "warning", LOG_WARNING },
	{ "error", LOG_ERR },
};

static const char *const sort_keys[] = { "url", "status", "time", "size" };

/* A parsed value, before it is stored. */
struct value {
	long long i;
	int statuses[CONFIG_MAX_STATUSES];
	int n;
	const char *s;
};

static void *field(const struct crawld_config *c, const struct key_def *d)
{
	return (char *)c + d->off;
}

static bool section_known(const char *name)
{
	for (size_t i = 0; i < sizeof sections / sizeof sections[0]; i++)
		if (strcmp(sections[i], name) == 0)
			return true;
	return false;
}

static const struct key_def *key_find(const char *section, const char *key)
{
	for (size_t i = 0; i < N_KEYS; i++)
		if (!strcmp(keys[i].section, section) && !strcmp(keys[i].key, key))
			return &keys[i];
	return NULL;
}

/* A copy of s fit for a message: at most 60 bytes, control bytes as '?'.
 * buf[n], n >= 8. */
static const char *show(char *buf, size_t n, const char *s)
{
	size_t i = 0;

	for (; s[i] && i + 4 < n && i < 60; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	if (s[i])
		memcpy(buf + i, "...", 3), i += 3;
	buf[i] = '\0';
	return buf;
}

/* ---- parsing one value -------------------------------------------------- */

static bool parse_ll(const char *s, long long *out)
{
	char *end;

	if (!isdigit((unsigned char)*s) && *s != '-')
		return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno == 0 && end != s && *end == '\0';
}

static bool parse_bool(const char *s, long long *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return *out = 1, true;
		if (strcasecmp(s, no[i]) == 0)
			return *out = 0, true;
	}
	return false;
}

static bool parse_mode(const char *s, long long *out)
{
	size_t n = strlen(s);

	if (n < 3 || n > 4 || strspn(s, "01234567") != n)
		return false;
	*out = strtoll(s, NULL, 8);
	return *out <= 0777;
}

static bool parse_level(const char *s, long long *out)
{
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcasecmp(s, levels[i].name) == 0)
			return *out = levels[i].level, true;
	return false;
}

static int cmp_int(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* "429, 500,502" -> sorted, de-duplicated statuses; "" is an empty list. */
static bool parse_statuses(const char *s, struct value *v)
{
	int k = 0;

	v->n = 0;
	while (*s) {
		char *end;
		long st;

		if (!isdigit((unsigned char)*s) || v->n == CONFIG_MAX_STATUSES)
			return false;
		errno = 0;
		st = strtol(s, &end, 10);
		if (errno || st < 100 || st > 599)
			return false;
		v->statuses[v->n++] = (int)st;
		s = end + strspn(end, " \t");
		if (*s == '\0')
			break;
		if (*s != ',')
			return false;
		s += 1 + strspn(s + 1, " \t");
		if (*s == '\0')
			return false; /* a trailing comma */
	}
	qsort(v->statuses, (size_t)v->n, sizeof v->statuses[0], cmp_int);
	for (int i = 0; i < v->n; i++)
		if (k == 0 || v->statuses[i] != v->statuses[k - 1])
			v->statuses[k++] = v->statuses[i];
	v->n = k;
	return true;
}

static bool all_printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static bool check_string(const struct key_def *d, const char *s)
{
	size_t n = strlen(s);

	if ((long long)n < d->min || (long long)n > d->max || !all_printable(s))
		return false;
	switch (d->kind) {
	case S_NAME:
		return s[0] != '-' && strspn(s, "abcdefghijklmnopqrstuvwxyz"
					   "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789_.-") == n;
	case S_PATH_OPT:
		return n == 0 || s[0] == '/';
	case S_PATH:
	case S_SOCK:
		return s[0] == '/';
	case S_SORT:
		for (size_t i = 0; i < 4; i++)
			if (strcmp(s, sort_keys[i]) == 0)
				return true;
		return false;
	case S_TEXT:
		return true;
	}
	return false;
}

/* What a string key expects, for "bad value" messages. */
static void expect_string(const struct key_def *d, char *buf, size_t n)
{
	switch (d->kind) {
	case S_NAME:
		snprintf(buf, n, "a user or group name of %lld to %lld letters, "
			 "digits, '_', '.' or '-'", d->min, d->max);
		break;
	case S_PATH:
	case S_PATH_OPT:
	case S_SOCK:
		snprintf(buf, n, "an absolute path of at most %lld bytes%s",
			 d->max, d->kind == S_PATH_OPT ? ", or nothing" :
			 d->kind == S_SOCK ? " (a socket address)" : "");
		break;
	case S_TEXT:
		snprintf(buf, n, "%lld to %lld printable characters", d->min,
			 d->max);
		break;
	case S_SORT:
		snprintf(buf, n, "one of url, status, time, size");
		break;
	}
}

/* What a key expects, for "bad value" messages. */
static void expect_text(const struct key_def *d, char *buf, size_t n)
{
	switch (d->type) {
	case K_INT:
	case K_I64:
		snprintf(buf, n, "an integer from %lld to %lld", d->min, d->max);
		break;
	case K_BOOL:
		snprintf(buf, n, "true/false, yes/no, on/off or 1/0");
		break;
	case K_MODE:
		snprintf(buf, n, "an octal mode from 0000 to 0777");
		break;
	case K_LEVEL:
		snprintf(buf, n, "one of debug, info, notice, warning, error");
		break;
	case K_STATUSES:
		snprintf(buf, n, "a comma-separated list of at most %d HTTP "
			 "statuses from 100 to 599", CONFIG_MAX_STATUSES);
		break;
	case K_STR:
		expect_string(d, buf, n);
		break;
	}
}

static bool parse_value(const struct key_def *d, const char *s, struct value *v)
{
	v->s = s;
	switch (d->type) {
	case K_INT:
	case K_I64:
		return parse_ll(s, &v->i) && v->i >= d->min && v->i <= d->max;
	case K_BOOL:
		return parse_bool(s, &v->i);
	case K_MODE:
		return parse_mode(s, &v->i);
	case K_LEVEL:
		return parse_level(s, &v->i);
	case K_STATUSES:
		return parse_statuses(s, v);
	case K_STR:
		return check_string(d, s);
	}
	return false;
}

static int store_value(struct crawld_config *c, const struct key_def *d,
		       const struct value *v)
{
	void *f = field(c, d);
	char *copy;

	switch (d->type) {
	case K_INT:
	case K_MODE:
	case K_LEVEL:
		*(int *)f = (int)v->i;
		break;
	case K_I64:
		*(int64_t *)f = v->i;
		break;
	case K_BOOL:
		*(bool *)f = v->i != 0;
		break;
	case K_STATUSES:
		memcpy(c->crawl.retry_statuses, v->statuses, sizeof v->statuses);
		c->crawl.n_retry_statuses = v->n;
		break;
	case K_STR:
		if (!(copy = strdup(v->s)))
			return CRAWL_ENOMEM;
		free(*(char **)f);
		*(char **)f = copy;
		break;
	}
	return 0;
}

/* Trims blanks, then drops one pair of surrounding double quotes. */
static char *normalize(char *s)
{
	size_t n;

	s += strspn(s, " \t\r\n");
	n = strlen(s);
	while (n && strchr(" \t\r\n", s[n - 1]))
		s[--n] = '\0';
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		s[n - 1] = '\0';
		s++;
	}
	return s;
}

/* Checks and stores one value. CRAWL_ECONFIG with a message in err. */
static int apply_text(struct crawld_config *c, const struct key_def *d,
		      const char *text, char *err, size_t errlen)
{
	char buf[VALUE_MAX + 1], shown[72], expect[160];
	struct value v;
	char *s;

	if (strlen(text) > VALUE_MAX) {
		snprintf(err, errlen, "value for %s.%s too long (at most %d "
			 "bytes)", d->section, d->key, VALUE_MAX);
		return CRAWL_ECONFIG;
	}
	s = normalize(strcpy(buf, text));
	if (parse_value(d, s, &v))
		return store_value(c, d, &v);
	expect_text(d, expect, sizeof expect);
	snprintf(err, errlen, "bad value '%s' for %s.%s: expected %s",
		 show(shown, sizeof shown, s), d->section, d->key, expect);
	return CRAWL_ECONFIG;
}

/* ---- whole configs ------------------------------------------------------ */

int config_defaults(struct crawld_config *c)
{
	char err[256];
	int rc;

	memset(c, 0, sizeof *c);
	for (size_t i = 0; i < N_KEYS; i++) {
		if ((rc = apply_text(c, &keys[i], keys[i].def, err, sizeof err))) {
			config_free(c);
			return rc;
		}
	}
	return 0;
}

void config_free(struct crawld_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < N_KEYS; i++) {
		if (keys[i].type == K_STR) {
			char **s = field(c, &keys[i]);

			free(*s);
			*s = NULL;
		}
	}
}

int config_copy(struct crawld_config *dst, const struct crawld_config *src)
{
	*dst = *src;
	for (size_t i = 0; i < N_KEYS; i++)
		if (keys[i].type == K_STR)
			*(char **)field(dst, &keys[i]) = NULL;
	for (size_t i = 0; i < N_KEYS; i++) {
		const char *s;

		if (keys[i].type != K_STR)
			continue;
		s = *(char *const *)field(src, &keys[i]);
		if (s && !(*(char **)field(dst, &keys[i]) = strdup(s))) {
			config_free(dst);
			return CRAWL_ENOMEM;
		}
	}
	return 0;
}

void config_errors_free(struct config_errors *errs)
{
	if (!errs)
		return;
	for (int i = 0; i < errs->count; i++)
		free(errs->msg[i]);
	memset(errs, 0, sizeof *errs);
}

int config_set(struct crawld_config *c, const char *section, const char *key,
	       const char *value, char *err, size_t errlen)
{
	const struct key_def *d;
	char a[72], b[72], dummy[1];

	if (!section || !key || !value)
		return CRAWL_EINVAL;
	if (!err)
		err = dummy, errlen = sizeof dummy;
	if (!section_known(section)) {
		snprintf(err, errlen, "unknown section [%s] (expected daemon, "
			 "limits or crawl)", show(a, sizeof a, section));
		return CRAWL_ECONFIG;
	}
	if (!(d = key_find(section, key))) {
		snprintf(err, errlen, "unknown key '%s' in section [%s]",
			 show(a, sizeof a, key), show(b, sizeof b, section));
		return CRAWL_ECONFIG;
	}
	return apply_text(c, d, value, err, errlen);
}

int config_set_arg(struct crawld_config *c, const char *arg, char *err,
		   size_t errlen)
{
	const char *dot = strchr(arg, '.'), *eq = strchr(arg, '=');
	char section[32], key[64], shown[72], dummy[1];

	if (!err)
		err = dummy, errlen = sizeof dummy;
	if (!dot || !eq || dot > eq || (size_t)(dot - arg) >= sizeof section ||
	    (size_t)(eq - dot - 1) >= sizeof key) {
		snprintf(err, errlen, "bad override '%s': expected "
			 "section.key=value", show(shown, sizeof shown, arg));
		return CRAWL_ECONFIG;
	}
	memcpy(section, arg, (size_t)(dot - arg));
	section[dot - arg] = '\0';
	memcpy(key, dot + 1, (size_t)(eq - dot - 1));
	key[eq - dot - 1] = '\0';
	return config_set(c, section, key, eq + 1, err, errlen);
}

/* Appends to buf[len] at *pos; false (and the piece left out, *pos = len)
 * once the text no longer fits. */
static bool appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static bool appendf(char *buf, size_t len, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*pos >= len)
		return false;
	va_start(ap, fmt);
	n = vsnprintf(buf + *pos, len - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len - *pos) {
		buf[*pos] = '\0'; /* no half-written piece */
		*pos = len;
		return false;
	}
	*pos += (size_t)n;
	return true;
}

static const char *level_name(int level)
{
	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (levels[i].level == level)
			return levels[i].name;
	return "?";
}

/* buf[len], len > 0: the value as the file would spell it. */
static int format_value(const struct crawld_config *c, const struct key_def *d,
			char *buf, size_t len)
{
	const void *f = field(c, d);
	const char *s;
	size_t pos = 0;
	bool ok = true;

	buf[0] = '\0';
	switch (d->type) {
	case K_INT:
		ok = appendf(buf, len, &pos, "%d", *(const int *)f);
		break;
	case K_I64:
		ok = appendf(buf, len, &pos, "%" PRId64, *(const int64_t *)f);
		break;
	case K_BOOL:
		ok = appendf(buf, len, &pos, "%s", *(const bool *)f ? "true" : "false");
		break;
	case K_MODE:
		ok = appendf(buf, len, &pos, "%04o", (unsigned)*(const int *)f);
		break;
	case K_LEVEL:
		ok = appendf(buf, len, &pos, "%s", level_name(*(const int *)f));
		break;
	case K_STATUSES:
		for (int i = 0; ok && i < c->crawl.n_retry_statuses; i++)
			ok = appendf(buf, len, &pos, "%s%d", i ? "," : "",
				     c->crawl.retry_statuses[i]);
		break;
	case K_STR:
		s = *(char *const *)f;
		ok = appendf(buf, len, &pos, "%s", s ? s : "");
		break;
	}
	return ok ? 0 : CRAWL_EINVAL;
}

int config_get(const struct crawld_config *c, const char *section,
	       const char *key, char *buf, size_t len)
{
	const struct key_def *d = key_find(section, key);

	if (len)
		buf[0] = '\0';
	if (!d)
		return CRAWL_ENOTFOUND;
	if (!len)
		return CRAWL_EINVAL;
	return format_value(c, d, buf, len);
}

int config_format(const struct crawld_config *c, char *buf, size_t len)
{
	char value[VALUE_MAX + 1];
	const char *section = "";
	size_t pos = 0;
	bool ok = len > 0;

	for (size_t i = 0; ok && i < N_KEYS; i++) {
		const struct key_def *d = &keys[i];
		const char *q = d->type == K_STR ? "\"" : "";

		if (strcmp(section, d->section) != 0)
			ok = appendf(buf, len, &pos, "%s[%s]\n", pos ? "\n" : "",
				     d->section);
		section = d->section;
		ok = ok && format_value(c, d, value, sizeof value) == 0 &&
		     appendf(buf, len, &pos, "%s = %s%s%s\n", d->key, q, value, q);
	}
	return ok ? (int)pos : CRAWL_EINVAL;
}

/* ---- loading a file ----------------------------------------------------- */

/* inih reports syntax errors only as "the line of the first one" and calls
 * the handler only for good "key = value" lines, so the reader below looks
 * at each line before inih does and reports what inih would skip: a header
 * without ']', an unknown section, a line without '=', a line too long for
 * inih's fixed buffer. inih still does the real parsing. */
struct load_ctx {
	struct crawld_config *c;
	struct config_errors *errs;
	const char *path;
	FILE *file;
	int lineno;
	size_t bytes;
	bool stop;            /* the file is too large: read no further */
	int read_errno;       /* errno of a failed read, 0 if none */
	int rc;               /* CRAWL_ENOMEM once an allocation failed */
	bool had_error;
	int set_line[N_KEYS]; /* line that set each key, 0 = not yet */
};

static void load_error(struct load_ctx *lc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void load_error(struct load_ctx *lc, const char *fmt, ...)
{
	struct config_errors *e = lc->errs;
	char text[512];
	va_list ap;

	lc->had_error = true;
	if (!e)
		return;
	if (e->count == CONFIG_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	if (asprintf(&e->msg[e->count], "%s:%d: %s", lc->path, lc->lineno,
		     text) < 0) {
		e->msg[e->count] = NULL;
		lc->rc = CRAWL_ENOMEM;
		return;
	}
	e->count++;
}

/* inih's rule: the first of chars, unless a ';' after a blank comes first. */
static const char *find_before_comment(const char *s, const char *chars)
{
	bool was_space = false;

	for (; *s && !strchr(chars, *s); s++) {
		if (was_space && *s == ';')
			return NULL;
		was_space = isspace((unsigned char)*s);
	}
	return *s ? s : NULL;
}

static void lint_section(struct load_ctx *lc, const char *s)
{
	const char *end = find_before_comment(s + 1, "]");
	char name[72], shown[72];
	size_t n;

	if (!end) {
		load_error(lc, "missing ']' in section header '%s'",
			   show(shown, sizeof shown, s));
		return;
	}
	n = (size_t)(end - s - 1) < sizeof name - 1 ? (size_t)(end - s - 1)
						     : sizeof name - 1;
	memcpy(name, s + 1, n);
	name[n] = '\0';
	if (!section_known(name))
		load_error(lc, "unknown section [%s] (expected [daemon], [limits] "
			   "or [crawl])", show(shown, sizeof shown, name));
	end += 1 + strspn(end + 1, " \t");
	if (*end && *end != ';' && *end != '#')
		load_error(lc, "unexpected text '%s' after section header",
			   show(shown, sizeof shown, end));
}

/* s: one line without its leading blanks and its line end. */
static void lint_line(struct load_ctx *lc, const char *s)
{
	char shown[72];

	if (*s == '\0' || *s == ';' || *s == '#')
		return;
	if (*s == '[') {
		lint_section(lc, s);
		return;
	}
	if (!find_before_comment(s, "=:"))
		load_error(lc, "missing '=' in '%s' (expected key = value)",
			   show(shown, sizeof shown, s));
}

/* After a line that filled inih's buffer: true (and the rest skipped) if it
 * really was longer, false if its end had just not been read yet. */
static bool skip_long_line(struct load_ctx *lc)
{
	int ch = getc(lc->file);

	if (ch == EOF || ch == '\n')
		return false;
	while (ch != EOF && ch != '\n' && lc->bytes <= CONFIG_MAX_FILE_BYTES) {
		lc->bytes++;
		ch = getc(lc->file);
	}
	return true;
}

/* inih's fgets-like reader: one call, one line of the file. */
static char *load_reader(char *str, int num, void *stream)
{
	struct load_ctx *lc = stream;
	size_t len;

	if (lc->stop || lc->rc || !fgets(str, num, lc->file)) {
		if (!lc->stop && ferror(lc->file))
			lc->read_errno = errno ? errno : EIO;
		return NULL;
	}
	lc->lineno++;
	len = strlen(str);
	lc->bytes += len;
	if (len == (size_t)num - 1 && str[len - 1] != '\n' && skip_long_line(lc)) {
		load_error(lc, "line too long (at most %d bytes)", num - 1);
		strcpy(str, "\n");
	}
	if (lc->lineno > CONFIG_MAX_LINES || lc->bytes > CONFIG_MAX_FILE_BYTES) {
		load_error(lc, "file too large (at most %d lines of at most %d "
			   "bytes in all)", CONFIG_MAX_LINES, CONFIG_MAX_FILE_BYTES);
		lc->stop = true;
		return NULL;
	}
	if (lc->lineno == 1 && !strncmp(str, "\xEF\xBB\xBF", 3))
		memmove(str, str + 3, strlen(str + 3) + 1);
	/* Blanks are dropped so that inih never takes an indented line as
	 * the continuation of the previous value; the line end is dropped
	 * for the messages (inih needs neither). */
	len = strspn(str, " \t");
	memmove(str, str + len, strlen(str + len) + 1);
	str[strcspn(str, "\r\n")] = '\0';
	lint_line(lc, str);
	return str;
}

static int load_handler(void *user, const char *section, const char *name,
			const char *value)
{
	struct load_ctx *lc = user;
	const struct key_def *d;
	char a[72], b[72], msg[400];
	int rc;

	if (lc->rc)
		return 1;
	if (!section_known(section)) {
		if (section[0] == '\0') /* unknown ones were reported at [..] */
			load_error(lc, "key '%s' outside of any section (expected "
				   "[daemon], [limits] or [crawl] first)",
				   show(a, sizeof a, name));
		return 1;
	}
	if (!(d = key_find(section, name))) {
		load_error(lc, name[0] ? "unknown key '%s' in section [%s]"
				       : "missing key%s before '=' in section [%s]",
			   show(a, sizeof a, name), show(b, sizeof b, section));
		return 1;
	}
	if (lc->set_line[d - keys]) {
		load_error(lc, "%s.%s is set twice (first on line %d)", d->section,
			   d->key, lc->set_line[d - keys]);
		return 1;
	}
	lc->set_line[d - keys] = lc->lineno;
	rc = apply_text(lc->c, d, value, msg, sizeof msg);
	if (rc == CRAWL_ECONFIG)
		load_error(lc, "%s", msg);
	else if (rc < 0)
		lc->rc = rc;
	return 1;
}

/* An error about the file itself (no line): "PATH: text: strerror". */
static int file_error(struct config_errors *errs, const char *path,
		      const char *what, int err)
{
	if (errs && errs->count < CONFIG_MAX_ERRORS) {
		if (asprintf(&errs->msg[errs->count], "%s: %s: %s", path, what,
			     strerror(err)) < 0)
			return CRAWL_ENOMEM;
		errs->count++;
	} else if (errs) {
		errs->dropped++;
	}
	return CRAWL_ESYS;
}

int config_load(struct crawld_config *c, const char *path,
		struct config_errors *errs)
{
	struct load_ctx ctx = { .c = c, .errs = errs, .path = path };
	struct load_ctx *lc = &ctx;
	int rc;

	if (!(lc->file = fopen(path, "r"))) {
		rc = file_error(errs, path, "cannot open the configuration file",
				errno);
		goto out;
	}
	rc = ini_parse_stream(load_reader, lc, load_handler, lc);
	if (lc->rc) {
		rc = lc->rc;
	} else if (lc->read_errno) {
		rc = file_error(errs, path, "cannot read the configuration file",
				lc->read_errno);
	} else if (rc < 0) {
		rc = CRAWL_ENOMEM; /* inih's only other failure */
	} else {
		if (rc > 0 && !lc->had_error) { /* one our lint did not see */
			lc->lineno = rc;
			load_error(lc, "syntax error");
		}
		rc = lc->rc ? lc->rc : lc->had_error ? CRAWL_ECONFIG : 0;
	}
out:
	if (lc->file)
		fclose(lc->file);
	return rc;
}

/* ---- reload ------------------------------------------------------------- */

int config_diff_live(const struct crawld_config *old,
		     const struct crawld_config *next, char *report, size_t len)
{
	char a[VALUE_MAX + 1], b[VALUE_MAX + 1];
	size_t pos = 0, room = len > 4 ? len - 4 : 0;
	int restart = 0, changed = 0;
	bool fits = true;

	if (len)
		report[0] = '\0';
	for (size_t i = 0; i < N_KEYS; i++) {
		const struct key_def *d = &keys[i];

		format_value(old, d, a, sizeof a);
		format_value(next, d, b, sizeof b);
		if (strcmp(a, b) == 0)
			continue;
		changed++;
		restart += d->restart;
		fits = fits && appendf(report, room, &pos, "%s.%s: %s -> %s (%s)\n",
				       d->section, d->key, a, b,
				       d->restart ? "needs a restart" : "applied live");
	}
	if (!changed && len)
		snprintf(report, len, "no changes\n");
	else if (!fits && len > 4)
		memcpy(report + strlen(report), "...\n", 5);
	return restart;
}
