/* ctl_parse.c - crawlctl's checks of its own input (see ctl_parse.h). */
#include "ctl_parse.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"

/* 2^53 - 1: the largest integer every JSON reader holds exactly. */
#define JOB_ID_MAX 9007199254740991LL
/* 9999-12-31T23:59:59Z: later "Unix times" are typos, not dates. */
#define UNIX_TIME_MAX 253402300799.0
#define RELATIVE_MAX (100LL * 366 * 86400)

int ctl_parse_int(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	if (!s || !(isdigit((unsigned char)s[0]) ||
		    ((s[0] == '-' || s[0] == '+') && isdigit((unsigned char)s[1]))))
		return CRAWL_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return CRAWL_EINVAL;
	*out = v;
	return 0;
}

int ctl_parse_job(const char *s, long long *out)
{
	if (s && s[0] == '+')
		return CRAWL_EINVAL;
	return ctl_parse_int(s, 1, JOB_ID_MAX, out);
}

static bool all_digits(const char *s, size_t n)
{
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "1764000000" or "1764000000.25". */
static int parse_unix(const char *s, double *out)
{
	const char *dot = strchr(s, '.');
	size_t ilen = dot ? (size_t)(dot - s) : strlen(s);
	double v;

	if (!all_digits(s, ilen) || (dot && !all_digits(dot + 1, strlen(dot + 1))))
		return CRAWL_EINVAL;
	v = strtod(s, NULL);
	if (v > UNIX_TIME_MAX)
		return CRAWL_EINVAL;
	*out = v;
	return 0;
}

/* "10m": digits and one unit letter. */
static int parse_relative(const char *s, time_t now, double *out)
{
	static const struct {
		char unit;
		long long seconds;
	} units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 604800 } };
	size_t n = strlen(s);
	long long count;

	if (n < 2 || n > 12 || !all_digits(s, n - 1))
		return CRAWL_EINVAL;
	count = strtoll(s, NULL, 10);
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (units[i].unit != s[n - 1])
			continue;
		if (count < 1 || count > RELATIVE_MAX / units[i].seconds)
			return CRAWL_EINVAL;
		*out = (double)now - (double)(count * units[i].seconds);
		return 0;
	}
	return CRAWL_EINVAL;
}

/* The ISO forms; strptime does the fields, the rest must be "" or "Z". */
static int parse_iso(const char *s, double *out)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M",
		"%Y-%m-%d %H:%M", "%Y-%m-%d",
	};

	if (!isdigit((unsigned char)s[0]))
		return CRAWL_EINVAL;
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
		struct tm tm = { 0 };
		const char *rest = strptime(s, formats[i], &tm);
		time_t t;

		if (!rest || (strcmp(rest, "") != 0 && strcmp(rest, "Z") != 0))
			continue;
		tm.tm_isdst = -1;
		t = rest[0] == 'Z' ? timegm(&tm) : mktime(&tm);
		if (t == (time_t)-1)
			return CRAWL_EINVAL;
		*out = (double)t;
		return 0;
	}
	return CRAWL_EINVAL;
}

int ctl_parse_since(const char *s, time_t now, double *out)
{
	if (!s || !s[0] || strlen(s) > 64)
		return CRAWL_EINVAL;
	if (parse_unix(s, out) == 0 || parse_relative(s, now, out) == 0)
		return 0;
	return parse_iso(s, out);
}

/* Trims blanks at both ends of s in place; returns the first non-blank. */
static char *trim(char *s)
{
	size_t n;

	while (*s == ' ' || *s == '\t')
		s++;
	n = strlen(s);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' ||
			 s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

/* One line already trimmed: skip it, append it, or refuse it. */
static int add_line(json_t *seeds, const char *line, const char *name, long lineno,
		    char *err, size_t errlen)
{
	if (line[0] == '\0' || line[0] == '#')
		return 0;
	if (strpbrk(line, " \t")) {
		snprintf(err, errlen, "%s: line %ld: expected one URL per line", name, lineno);
		return CRAWL_EINVAL;
	}
	if (json_array_size(seeds) >= CTL_SEEDS_MAX) {
		snprintf(err, errlen, "%s: line %ld: more than %d URLs", name, lineno,
			 CTL_SEEDS_MAX);
		return CRAWL_EINVAL;
	}
	if (json_array_append_new(seeds, json_string(line)) != 0) {
		snprintf(err, errlen, "%s: out of memory", name);
		return CRAWL_ENOMEM;
	}
	return 0;
}

int ctl_parse_url_lines(FILE *fp, const char *name, json_t *seeds, char *err,
			size_t errlen)
{
	char buf[URL_MAX_LEN + 3]; /* the URL, blanks around it, "\r\n", NUL */
	long lineno = 0;
	int rc;

	while (fgets(buf, sizeof buf, fp)) {
		size_t n = strlen(buf);

		lineno++;
		if (n == sizeof buf - 1 && buf[n - 1] != '\n' && !feof(fp)) {
			snprintf(err, errlen, "%s: line %ld: longer than %d bytes", name,
				 lineno, URL_MAX_LEN);
			return CRAWL_EINVAL;
		}
		if ((rc = add_line(seeds, trim(buf), name, lineno, err, errlen)) != 0)
			return rc;
	}
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error: %s", name, strerror(errno));
		return CRAWL_ESYS;
	}
	return 0;
}
