/* test_install.c - `make install` and `make uninstall` into a scratch DESTDIR: every file
 * lands where it belongs with its mode and its exact bytes (the unit with ExecStart= filled
 * in), nothing else is installed, an existing configuration is never overwritten, and
 * uninstall removes everything but the configuration.
 *
 * make runs in the working directory (the top of the tree) with BUILD=$CRAWL_BUILD and the
 * SAN/SWITCH of this very build, so that the `all` that install depends on finds everything
 * up to date and never rebuilds a tree with other flags. The variables of the parent make
 * (MAKEFLAGS) and any install directories set in the environment are removed first.
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
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error.h"
#include "tfiles.h"
#include "tsupport.h"

#define MAKE_MS 120000 /* one make run: normally 0.1 s, more only if something is stale */
#define N_FILES 10

#if defined(__SANITIZE_ADDRESS__)
#define SAN_ARG "SAN=1"
#else
#define SAN_ARG "SAN=0"
#endif
#if defined(CORO_UCONTEXT)
#define SWITCH_ARG "SWITCH=ucontext"
#else
#define SWITCH_ARG "SWITCH=asm"
#endif

#define LOCAL_CHANGE "\n# changed by the administrator (test_install)\n"

struct fixture {
	char dest[64]; /* the DESTDIR */
};

/* Where one installed file comes from. */
struct want {
	bool in_prefix;     /* rel is under PREFIX (else under the root: SYSCONFDIR=/etc) */
	const char *rel;    /* path below PREFIX or /, "%s" standing for the sbin directory */
	const char *source; /* in the tree; "$BUILD/" for a built program */
	unsigned mode;
};

static const struct want wants[N_FILES] = {
    {true, "%s/crawld", "$BUILD/crawld", 0755},
    {true, "/bin/crawlctl", "$BUILD/crawlctl", 0755},
    {false, "/etc/crawld/crawld.conf", "config/crawld.conf", 0644},
    {true, "/lib/systemd/system/crawld.service", "systemd/crawld.service", 0644},
    {true, "/lib/systemd/system/crawld.socket", "systemd/crawld.socket", 0644},
    {true, "/lib/sysusers.d/crawld.conf", "systemd/crawld.sysusers", 0644},
    {true, "/lib/tmpfiles.d/crawld.conf", "systemd/crawld.tmpfiles", 0644},
    {true, "/share/man/man1/crawlctl.1", "docs/crawlctl.1", 0644},
    {true, "/share/man/man5/crawld.conf.5", "docs/crawld.conf.5", 0644},
    {true, "/share/man/man8/crawld.8", "docs/crawld.8", 0644},
};

/* An installation layout: PREFIX and the directory crawld goes to. */
struct layout {
	const char *prefix;  /* "/usr", "/usr/local" ... */
	const char *sbindir; /* absolute */
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f || access("Makefile", R_OK) != 0 ||
	    tfiles_mkdtemp(f->dest, sizeof f->dest, "test_install") != 0) {
		fprintf(stderr, "test_install: run from the top of the source tree\n");
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	int rc = tfiles_rm_tree(f->dest);

	free(f);
	return rc == 0 ? 0 : -1;
}

static const char *build_dir(void)
{
	const char *b = getenv("CRAWL_BUILD");

	return b && *b ? b : "build";
}

/* Variables of a parent make, and install directories someone may have exported, which would
 * otherwise change what the make below does. */
static const char *const unset_vars[] = {
    "MAKEFLAGS", "MFLAGS", "MAKELEVEL",  "MAKEOVERRIDES", "PREFIX",      "BINDIR",
    "SBINDIR",   "MANDIR", "SYSCONFDIR", "UNITDIR",       "SYSUSERSDIR", "TMPFILESDIR",
};

/* `make TARGET DESTDIR=dest BUILD=... SAN=... SWITCH=... [extra...]` in a clean environment;
 * its output (stdout and stderr) is returned, owned by the caller, and *status is set. */
static char *run_make(const char *target, const char *dest, const char *const extra[], int *status)
{
	const size_t n_unset = sizeof unset_vars / sizeof unset_vars[0];
	char destarg[128], buildarg[128], *out = NULL;
	const char *argv[48];
	size_t n = 0;

	snprintf(destarg, sizeof destarg, "DESTDIR=%s", dest);
	snprintf(buildarg, sizeof buildarg, "BUILD=%s", build_dir());
	argv[n++] = "env";
	for (size_t i = 0; i < n_unset; i++) {
		argv[n++] = "-u";
		argv[n++] = unset_vars[i];
	}
	argv[n++] = "make";
	argv[n++] = "--no-print-directory";
	argv[n++] = target;
	argv[n++] = destarg;
	argv[n++] = buildarg;
	argv[n++] = SAN_ARG;
	argv[n++] = SWITCH_ARG;
	for (size_t i = 0; extra && extra[i]; i++) {
		assert_true(n + 1 < sizeof argv / sizeof argv[0]);
		argv[n++] = extra[i];
	}
	argv[n] = NULL;
	assert_int_equal(tfiles_run_merged(argv, MAKE_MS, &out, status), 0);
	return out;
}

/* Runs make and asserts that it succeeded (its output is shown if not). */
static void make_ok(const char *target, const char *dest, const char *const extra[])
{
	int status = -1;
	char *out = run_make(target, dest, extra, &status);

	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("make %s failed (status 0x%x):\n%s", target, (unsigned)status, out);
	free(out);
}

static void install_path(char *buf, size_t len, const char *dest, const struct layout *l,
                         const struct want *w)
{
	char rel[256];

	if (strstr(w->rel, "%s")) /* only the crawld entry: the sbin directory, absolute */
		snprintf(rel, sizeof rel, "%s/crawld", l->sbindir);
	else
		snprintf(rel, sizeof rel, "%s%s", w->in_prefix ? l->prefix : "", w->rel);
	snprintf(buf, len, "%s%s", dest, rel);
}

/* The bytes an installed file must hold: the source, or the unit with ExecStart filled in. */
static char *expected_bytes(const struct want *w, const struct layout *l, size_t *len)
{
	char path[256], *text = NULL, *filled;

	if (!strncmp(w->source, "$BUILD/", 7))
		snprintf(path, sizeof path, "%s/%s", build_dir(), w->source + 7);
	else
		snprintf(path, sizeof path, "%s", w->source);
	if (tfiles_read(path, &text, len) != 0)
		fail_msg("cannot read %s", path);
	if (strcmp(w->source, "systemd/crawld.service") != 0)
		return text;
	filled = tfiles_replace_all(text, "@SBINDIR@", l->sbindir);
	assert_non_null(filled);
	free(text);
	*len = strlen(filled);
	return filled;
}

/* Asserts one installed file: a regular file with the mode and the bytes wanted. */
static void check_file(const char *dest, const struct layout *l, const struct want *w)
{
	char path[512], *got = NULL, *want;
	size_t got_len = 0, want_len = 0;
	struct stat st;

	install_path(path, sizeof path, dest, l, w);
	if (lstat(path, &st) != 0)
		fail_msg("%s was not installed", path);
	assert_true(S_ISREG(st.st_mode));
	if ((st.st_mode & 07777) != w->mode)
		fail_msg("%s has mode %04o, expected %04o", path, st.st_mode & 07777, w->mode);
	want = expected_bytes(w, l, &want_len);
	assert_int_equal(tfiles_read(path, &got, &got_len), 0);
	if (got_len != want_len || memcmp(got, want, want_len) != 0)
		fail_msg("%s differs from %s", path, w->source);
	free(got);
	free(want);
}

struct census {
	const struct layout *l;
	int files;       /* everything that is not a directory */
	char stray[256]; /* the first file that nobody asked for */
};

static int count_entry(void *arg, const char *rel, mode_t mode)
{
	struct census *c = arg;
	char path[512];

	if (S_ISDIR(mode))
		return 0;
	c->files++;
	for (size_t i = 0; i < N_FILES; i++) {
		install_path(path, sizeof path, "", c->l, &wants[i]);
		if (!strcmp(path + 1, rel))
			return 0;
	}
	if (!c->stray[0])
		snprintf(c->stray, sizeof c->stray, "%s", rel);
	return 0;
}

/* Asserts the whole tree: every wanted file (the configuration only if check_conf), and
 * nothing else but directories. */
static void check_tree(const char *dest, const struct layout *l, bool check_conf)
{
	struct census c = {.l = l};

	for (size_t i = 0; i < N_FILES; i++)
		if (check_conf || strcmp(wants[i].source, "config/crawld.conf") != 0)
			check_file(dest, l, &wants[i]);
	assert_int_equal(tfiles_walk(dest, count_entry, &c), 0);
	if (c.stray[0])
		fail_msg("make install put %s there too", c.stray);
	assert_int_equal(c.files, N_FILES);
}

static char *conf_path(char *buf, size_t len, const char *dest)
{
	snprintf(buf, len, "%s/etc/crawld/crawld.conf", dest);
	return buf;
}

/* ---- the tests ---------------------------------------------------------------------------- */

static const struct layout usr = {"/usr", "/usr/sbin"};

static void test_install_tree(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"PREFIX=/usr", NULL};
	char path[256], *unit;

	make_ok("install", f->dest, extra);
	check_tree(f->dest, &usr, true);
	snprintf(path, sizeof path, "%s/usr/lib/systemd/system/crawld.service", f->dest);
	assert_int_equal(tfiles_read(path, &unit, NULL), 0);
	assert_non_null(strstr(unit, "\nExecStart=/usr/sbin/crawld -c /etc/crawld/crawld.conf "
	                             "--foreground\n"));
	assert_null(strstr(unit, "@SBINDIR@"));
	free(unit);
}

static void test_install_keeps_config(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"PREFIX=/usr", NULL};
	char conf[256], *text, *orig;

	make_ok("install", f->dest, extra);
	conf_path(conf, sizeof conf, f->dest);
	assert_int_equal(tfiles_append(conf, LOCAL_CHANGE), 0);
	make_ok("install", f->dest, extra);
	check_tree(f->dest, &usr, false);
	assert_int_equal(tfiles_read(conf, &text, NULL), 0);
	assert_int_equal(tfiles_read("config/crawld.conf", &orig, NULL), 0);
	assert_int_equal(strlen(text), strlen(orig) + strlen(LOCAL_CHANGE));
	assert_memory_equal(text, orig, strlen(orig));
	assert_string_equal(text + strlen(orig), LOCAL_CHANGE);
	free(text);
	free(orig);
}

static void test_uninstall_keeps_config(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"PREFIX=/usr", NULL};
	struct census c = {.l = &usr};
	char conf[256], *text, *out;
	int status = -1;

	make_ok("install", f->dest, extra);
	conf_path(conf, sizeof conf, f->dest);
	assert_int_equal(tfiles_append(conf, LOCAL_CHANGE), 0);
	out = run_make("uninstall", f->dest, extra, &status);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_non_null(strstr(out, "/etc/crawld/crawld.conf in place"));
	free(out);
	assert_int_equal(tfiles_walk(f->dest, count_entry, &c), 0);
	assert_int_equal(c.files, 1); /* the configuration, nothing else */
	assert_int_equal(tfiles_read(conf, &text, NULL), 0);
	assert_non_null(strstr(text, LOCAL_CHANGE));
	free(text);
}

static void test_uninstall_when_nothing_installed(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"PREFIX=/usr", NULL};
	struct census c = {.l = &usr};

	make_ok("uninstall", f->dest, extra);
	make_ok("uninstall", f->dest, extra);
	assert_int_equal(tfiles_walk(f->dest, count_entry, &c), 0);
	assert_int_equal(c.files, 0);
}

static void test_install_default_prefix(void **state)
{
	static const struct layout local = {"/usr/local", "/usr/local/sbin"};
	struct fixture *f = *state;

	make_ok("install", f->dest, NULL);
	check_tree(f->dest, &local, true);
}

static void test_install_other_prefix_and_sbindir(void **state)
{
	static const struct layout opt = {"/opt/crawld", "/opt/crawld/sbin"};
	static const struct layout libexec = {"/usr", "/usr/libexec/crawld"};
	const char *const extra_opt[] = {"PREFIX=/opt/crawld", NULL};
	const char *const extra_libexec[] = {"PREFIX=/usr", "SBINDIR=/usr/libexec/crawld", NULL};
	struct fixture *f = *state;
	char other[96];

	make_ok("install", f->dest, extra_opt);
	check_tree(f->dest, &opt, true);
	snprintf(other, sizeof other, "%s/libexec", f->dest);
	assert_int_equal(mkdir(other, 0755), 0);
	make_ok("install", other, extra_libexec);
	check_tree(other, &libexec, true);
}

/* A DESTDIR that cannot hold directories: make install must fail, not claim success. */
static void test_install_fails_on_unusable_destdir(void **state)
{
	struct fixture *f = *state;
	const char *const extra[] = {"PREFIX=/usr", NULL};
	char file[96], *out, *text;
	int status = -1;

	snprintf(file, sizeof file, "%s/not-a-dir", f->dest);
	assert_int_equal(tfiles_write(file, "x\n", 0644), 0);
	out = run_make("install", file, extra, &status);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 0);
	free(out);
	assert_int_equal(tfiles_read(file, &text, NULL), 0);
	assert_string_equal(text, "x\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_install_tree, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_keeps_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uninstall_keeps_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_uninstall_when_nothing_installed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_default_prefix, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_other_prefix_and_sbindir, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_install_fails_on_unusable_destdir, setup,
	                                    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
