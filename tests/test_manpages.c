/* test_manpages.c - crawld(8) and crawld.conf(5): both render without a warning, crawld(8)
 * has its sections and documents every option and signal, and crawld.conf(5) documents
 * exactly the keys of config/crawld.conf, each in its section, with the default that both the
 * file and the code (daemon/config.c) use, and with the range the code enforces.
 * Run from the top of the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "config.h"
#include "error.h"
#include "tfiles.h"
#include "tsupport.h"

#define RUN_MS 20000
#define MAX_KEYS 128
#define TEXT_MAX 256

/* ---- rendering -------------------------------------------------------------------------- */

/* Each prints the formatter's complaints about page $1, and nothing else. */
#define MAN_SCRIPT "LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l -Tutf8 \"$1\" 2>&1 >/dev/null"
#define GROFF_SCRIPT "LC_ALL=C.UTF-8 groff -man -ww -z -Tutf8 \"$1\" 2>&1"

/* Renders page with man (or groff when man-db is missing) and returns what the formatter said
 * (malloc'd; "" when clean). */
static char *render_warnings(const char *page, int *status)
{
	const char *script = tfiles_have_program("man") ? MAN_SCRIPT : GROFF_SCRIPT;
	const char *argv[] = {"/bin/sh", "-c", script, "sh", page, NULL};
	char *out = NULL;

	assert_int_equal(tsupport_run_timeout(argv, RUN_MS, &out, status), 0);
	return out;
}

static void test_pages_render_cleanly(void **state)
{
	static const char *const pages[] = {"docs/crawld.8", "docs/crawld.conf.5"};
	int status = -1;

	(void)state;
	if (!tfiles_have_program("man") && !tfiles_have_program("groff")) {
		fprintf(stderr,
		        "test_manpages: SKIP: neither man (man-db) nor groff is installed\n");
		skip();
	}
	for (size_t i = 0; i < sizeof pages / sizeof pages[0]; i++) {
		char *out = render_warnings(pages[i], &status);

		if (*out)
			fail_msg("%s renders with warnings:\n%s", pages[i], out);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		free(out);
	}
}

/* ---- crawld(8) ---------------------------------------------------------------------------- */

/* The whole file into *out (the caller's variable, so that no pointer to a local of this
 * function can escape). */
static void read_text(const char *path, char **out)
{
	if (tfiles_read(path, out, NULL) != 0)
		fail_msg("cannot read %s", path);
}

static void test_crawld8_sections_options_signals(void **state)
{
	static const char *const need[] = {
	    "\n.SH NAME\ncrawld \\- ",
	    "\n.SH SYNOPSIS\n",
	    "\n.SH DESCRIPTION\n",
	    "\n.SH OPTIONS\n",
	    "\n.SH SIGNALS\n",
	    "\n.SH \"SYSTEMD INTEGRATION\"\n",
	    "\n.SH FILES\n",
	    "\n.SH \"EXIT STATUS\"\n",
	    "\n.SH \"SEE ALSO\"\n",
	    /* each option and signal is an item of its own */
	    "\n.TP\n.BI \\-c \" file\"\n",
	    "\n.TP\n.B \\-\\-foreground\n",
	    "\n.TP\n.B \\-\\-check\\-config\n",
	    "\n.TP\n.BI \\-\\-set \" section\" . key = value\n",
	    "\n.TP\n.B \\-\\-version\n",
	    "\n.TP\n.B \\-\\-help\n",
	    "\n.TP\n.B SIGHUP\n",
	    "\n.TP\n.B SIGTERM\n",
	    /* the facts the units rely on */
	    "\n.B configuration OK\n",
	    "/run/crawld/crawld.sock",
	    "/var/lib/crawld",
	    "/etc/crawld/crawld.conf",
	    ".BR crawlctl (1),\n",
	    ".BR crawld.conf (5),\n",
	};
	char *text;

	(void)state;
	read_text("docs/crawld.8", &text);
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!strstr(text, need[i]))
			fail_msg("docs/crawld.8 lacks \"%s\"", need[i]);
	free(text);
}

/* ---- crawld.conf(5) against config/crawld.conf and daemon/config.c ----------------------- */

struct conf_key {
	char section[16];
	char key[48];
	char value[TEXT_MAX];
};

struct conf_keys {
	struct conf_key k[MAX_KEYS];
	int n;
};

static void trim(char *s)
{
	size_t n = strlen(s), lead = strspn(s, " \t");

	while (n > lead && strchr(" \t\r", s[n - 1]))
		s[--n] = '\0';
	memmove(s, s + lead, n - lead + 1);
}

/* Copies src into dst[len]; a src that does not fit fails the test. */
static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		fail_msg("\"%s\" is longer than %zu bytes", src, len - 1);
	memcpy(dst, src, n + 1);
}

/* The "key = value" lines of an INI text, with their sections (comments skipped). */
static void ini_keys(const char *text, struct conf_keys *out)
{
	char section[16] = "", line[TEXT_MAX + 64];
	const char *p = text;

	out->n = 0;
	while (*p) { /* bounded: every pass consumes a line */
		size_t n = strcspn(p, "\n");
		char *eq;

		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1),
		         p);
		p += n + (p[n] == '\n');
		trim(line);
		if (line[0] == '[' && strchr(line, ']')) {
			snprintf(section, sizeof section, "%.*s",
			         (int)(strchr(line, ']') - line - 1), line + 1);
		} else if (line[0] && line[0] != '#' && line[0] != ';' &&
		           (eq = strchr(line, '='))) {
			struct conf_key *k = &out->k[out->n++];

			assert_true(out->n <= MAX_KEYS);
			*eq = '\0';
			trim(line);
			trim(eq + 1);
			copy_text(k->section, sizeof k->section, section);
			copy_text(k->key, sizeof k->key, line);
			copy_text(k->value, sizeof k->value, eq + 1);
		}
	}
}

/* A man page entry: the lines after ".TP\n.B key\n" up to the next .TP or .SH. */
struct entry {
	char deflt[TEXT_MAX]; /* the text after "Default: ", without the final "." */
	bool has_default;
	bool has_range;
	long long lo, hi;
};

/* The part of the page for [section]: from its .SH to the next .SH (a malloc'd copy). */
static char *section_text(const char *page, const char *section)
{
	const char *found, *end;
	char head[64], *copy;
	size_t off;

	snprintf(head, sizeof head, "\n.SH \"[%s] SECTION\"\n", section);
	found = strstr(page, head);
	if (!found)
		fail_msg("crawld.conf.5 has no section %s", head + 1);
	off = (size_t)(found - page) + strlen(head);
	end = strstr(page + off, "\n.SH ");
	copy = strndup(page + off, end ? (size_t)(end - page) + 1 - off : strlen(page + off));
	assert_non_null(copy);
	return copy;
}

/* Removes roff's "\-" escapes (the only ones used in values) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++)
		if (!(s[0] == '\\' && s[1] == '-'))
			*o++ = *s;
	*o = '\0';
}

/* Fills e from the entry of key in text (a section's part); false if there is none. */
static bool find_entry(const char *text, const char *key, struct entry *e)
{
	char head[80], line[TEXT_MAX + 16];
	const char *p, *end;

	memset(e, 0, sizeof *e);
	snprintf(head, sizeof head, ".TP\n.B %s\n", key);
	if (!(p = strstr(text, head)) || (p != text && p[-1] != '\n'))
		return false;
	p += strlen(head);
	end = strstr(p, ".TP\n");
	end = end ? end : p + strlen(p);
	while (p < end) { /* bounded: every pass consumes a line */
		size_t n = strcspn(p, "\n");

		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1),
		         p);
		p += n + (p[n] == '\n');
		if (!strncmp(line, "Default: ", 9)) {
			if (line[strlen(line) - 1] == '.')
				line[strlen(line) - 1] = '\0';
			unescape(line + 9);
			copy_text(e->deflt, sizeof e->deflt, line + 9);
			e->has_default = true;
		} else if (sscanf(line, "Range: %lld to %lld.", &e->lo, &e->hi) == 2) {
			e->has_range = true;
		}
	}
	return true;
}

/* Entries (".TP" then ".B name") in a section's part. */
static int count_entries(const char *text)
{
	int n = 0;

	for (const char *p = text; (p = strstr(p, ".TP\n.B ")) != NULL; p += 7)
		if (p == text || p[-1] == '\n')
			n++;
	return n;
}

/* A decimal integer as the file spells one ("0", "250"; "0660" is octal, not one). */
static bool is_decimal(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && strspn(s, "0123456789") == n && (n == 1 || s[0] != '0');
}

/* Whether a page's "Default: " text says value: the same, or value and then a remark in
 * parentheses ("10485760 (10 MiB)"); an empty value is spelt "empty". */
static bool default_matches(const char *text, const char *value)
{
	size_t n = strlen(value);

	if (!*value)
		return strcmp(text, "empty") == 0;
	return !strncmp(text, value, n) &&
	       (text[n] == '\0' || (!strncmp(text + n, " (", 2) && text[strlen(text) - 1] == ')'));
}

/* config_set of key to v, in a fresh default config: 0 or the error. */
static int try_set(const struct conf_key *k, long long v)
{
	struct crawld_config c;
	char text[32];
	int rc;

	assert_int_equal(config_defaults(&c), 0);
	snprintf(text, sizeof text, "%lld", v);
	rc = config_set(&c, k->section, k->key, text, NULL, 0);
	config_free(&c);
	return rc;
}

static void check_key(const char *part, const struct conf_key *k, const struct crawld_config *c)
{
	char code[TEXT_MAX];
	struct entry e;

	if (!find_entry(part, k->key, &e))
		fail_msg("crawld.conf.5 does not document %s.%s", k->section, k->key);
	if (!e.has_default)
		fail_msg("crawld.conf.5: %s.%s has no \"Default:\" line", k->section, k->key);
	if (!default_matches(e.deflt, k->value))
		fail_msg("%s.%s: crawld.conf.5 says default \"%s\", config/crawld.conf \"%s\"",
		         k->section, k->key, e.deflt, k->value);
	assert_int_equal(config_get(c, k->section, k->key, code, sizeof code), 0);
	if (strcmp(code, k->value) != 0)
		fail_msg("%s.%s: the code's default is \"%s\", config/crawld.conf says \"%s\"",
		         k->section, k->key, code, k->value);
	if (is_decimal(k->value) && !e.has_range)
		fail_msg("crawld.conf.5: %s.%s has no \"Range:\" line", k->section, k->key);
	if (!e.has_range)
		return;
	if (try_set(k, e.lo) != 0 || try_set(k, e.hi) != 0 ||
	    try_set(k, e.lo - 1) != CRAWL_ECONFIG || try_set(k, e.hi + 1) != CRAWL_ECONFIG)
		fail_msg("%s.%s: the code does not take exactly %lld to %lld", k->section, k->key,
		         e.lo, e.hi);
}

static void expect_same_keys(const struct conf_keys *a, const struct conf_keys *b)
{
	assert_int_equal(a->n, b->n);
	for (int i = 0; i < a->n; i++) {
		assert_string_equal(a->k[i].section, b->k[i].section);
		assert_string_equal(a->k[i].key, b->k[i].key);
	}
}

static void test_conf5_matches_file_and_code(void **state)
{
	static const char *const sections[] = {"daemon", "limits", "crawl"};
	struct conf_keys *file = calloc(1, sizeof *file), *code = calloc(1, sizeof *code);
	char *formatted = malloc(1 << 16), *page, *conf;
	struct crawld_config c;

	(void)state;
	read_text("docs/crawld.conf.5", &page);
	read_text("config/crawld.conf", &conf);
	assert_true(file && code && formatted);
	assert_int_equal(config_defaults(&c), 0);
	ini_keys(conf, file);
	/* the shipped file names every key the code knows, in the code's order */
	assert_true(config_format(&c, formatted, 1 << 16) > 0);
	ini_keys(formatted, code);
	expect_same_keys(file, code);
	for (size_t s = 0; s < sizeof sections / sizeof sections[0]; s++) {
		char *part = section_text(page, sections[s]);
		int in_section = 0;

		for (int i = 0; i < file->n; i++) {
			if (strcmp(file->k[i].section, sections[s]) != 0)
				continue;
			in_section++;
			check_key(part, &file->k[i], &c);
		}
		if (count_entries(part) != in_section)
			fail_msg("crawld.conf.5 [%s] has %d entries, config/crawld.conf %d keys",
			         sections[s], count_entries(part), in_section);
		free(part);
	}
	config_free(&c);
	free(formatted);
	free(page);
	free(conf);
	free(file);
	free(code);
}

/* The checker itself: a page whose default or range is off is caught. */
static void test_entry_parser(void **state)
{
	const char *part = ".TP\n.B depth\nLinks.\n.br\nRange: 0 to 1000.\n.br\nDefault: 3.\n"
	                   ".TP\n.B max_body_bytes\nX.\n.br\nDefault: 10485760 (10 MiB).\n"
	                   ".TP\n.B pid_file\nY.\n.br\nDefault: empty.\n"
	                   ".TP\n.B user_agent\n.br\nDefault: a\\-b/0.1 (+https://x.invalid/).\n";
	struct conf_key depth = {"crawl", "depth", "3"};
	struct crawld_config c;
	struct entry e;

	(void)state;
	assert_true(find_entry(part, "depth", &e));
	assert_true(e.has_range && e.has_default);
	assert_int_equal(e.lo, 0);
	assert_int_equal(e.hi, 1000);
	assert_string_equal(e.deflt, "3");
	assert_true(find_entry(part, "max_body_bytes", &e));
	assert_false(e.has_range);
	assert_string_equal(e.deflt, "10485760 (10 MiB)");
	assert_true(default_matches(e.deflt, "10485760"));
	assert_false(default_matches(e.deflt, "1048576"));
	assert_false(default_matches("10485760 (10 MiB", "10485760"));
	assert_true(find_entry(part, "pid_file", &e));
	assert_string_equal(e.deflt, "empty");
	assert_true(default_matches(e.deflt, ""));
	assert_false(default_matches("", ""));
	assert_true(find_entry(part, "user_agent", &e));
	assert_string_equal(e.deflt, "a-b/0.1 (+https://x.invalid/)");
	assert_true(default_matches(e.deflt, "a-b/0.1 (+https://x.invalid/)"));
	assert_false(find_entry(part, "dept", &e));
	assert_false(find_entry(part, "max_pages", &e));
	assert_int_equal(count_entries(part), 4);
	assert_true(is_decimal("0") && is_decimal("250") && !is_decimal("0660") &&
	            !is_decimal("") && !is_decimal("1,2"));
	assert_int_equal(try_set(&depth, 1000), 0);
	assert_int_equal(try_set(&depth, 1001), CRAWL_ECONFIG);
	assert_int_equal(config_defaults(&c), 0);
	check_key(part, &depth, &c);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_pages_render_cleanly),
	    cmocka_unit_test(test_crawld8_sections_options_signals),
	    cmocka_unit_test(test_entry_parser),
	    cmocka_unit_test(test_conf5_matches_file_and_code),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
