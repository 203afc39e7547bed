/* test_systemd.c - crawld's systemd files: `systemd-analyze verify` has nothing to say about
 * the units, `systemd-analyze security` rates the service at an exposure of 2.0 or less,
 * systemd-sysusers and systemd-tmpfiles create what the units expect, and the units, the
 * sysusers/tmpfiles snippets and the configuration defaults agree on names and paths.
 *
 * Why a copy of the units: verify insists that ExecStart's binary exists, and crawld may be
 * neither built nor installed here. So the template's @SBINDIR@ is replaced, as `make install`
 * replaces it, by a scratch directory holding a stand-in executable named crawld, and
 * Documentation='s man pages are found through MANPATH pointing at links to docs/. The
 * substitution that `make install` performs itself is checked by test_install.
 *
 * When systemd-analyze is missing, the group setup installs the systemd package through
 * scripts/deps.sh (apt-get, as root or with sudo, no terminal needed); only if that fails are
 * the tests that need it skipped, with the reason on stderr. Run from the top of the tree.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "error.h"
#include "tfiles.h"
#include "tsupport.h"

#define RUN_MS 30000      /* one systemd-analyze, sysusers or tmpfiles run */
#define INSTALL_MS 240000 /* apt-get update + install of the systemd package */
#define EXPOSURE_MAX 20   /* 2.0, in tenths */
#define VALUE_MAX 512

static struct {
	char repo[PATH_MAX]; /* absolute path of the tree (the working directory) */
	char dir[64];        /* scratch directory of the whole group */
	char units[128];     /* the filled-in copies of the units */
	char sbin[128];      /* holds the stand-in crawld */
	char man[128];       /* MANPATH: links to docs/ */
	char service[160], socket[160];
	const char *skip; /* why systemd-analyze cannot be used, or NULL */
} g;

/* ---- helpers ---------------------------------------------------------------------------- */

/* Occurrences of "@NAME@" (NAME: one or more of A-Z and '_') in text; "@system-service"
 * and the other system call groups do not count. */
static int count_placeholders(const char *text)
{
	static const char upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_";
	int n = 0;

	for (const char *at = strchr(text, '@'); at; at = strchr(at + 1, '@')) {
		size_t len = strspn(at + 1, upper);

		if (len > 0 && at[1 + len] == '@') {
			n++;
			at += 1 + len; /* the closing '@' opens nothing */
		}
	}
	return n;
}

/* The nth (from 0) value of key in [section] of a unit or INI text, trimmed, into buf[len].
 * 0, or CRAWL_ENOTFOUND. Lines are at most VALUE_MAX bytes (longer ones are not matched). */
static int unit_value(const char *text, const char *section, const char *key, int nth, char *buf,
                      size_t len)
{
	char line[VALUE_MAX], head[64];
	const char *p = text;
	bool in = false;
	size_t klen = strlen(key);

	snprintf(head, sizeof head, "[%s]", section);
	while (*p) { /* bounded: every pass consumes a line */
		size_t n = strcspn(p, "\n");
		char *s = line, *e;

		if (n < sizeof line) {
			memcpy(line, p, n);
			line[n] = '\0';
			s += strspn(s, " \t");
			e = s + strlen(s);
			while (e > s && strchr(" \t\r", e[-1]))
				*--e = '\0';
			if (*s == '[')
				in = strcmp(s, head) == 0;
			else if (in && !strncmp(s, key, klen) && s[klen] == '=' && nth-- == 0) {
				snprintf(buf, len, "%s",
				         s + klen + 1 + strspn(s + klen + 1, " \t"));
				return 0;
			}
		}
		p += n + (p[n] == '\n');
	}
	return CRAWL_ENOTFOUND;
}

/* Reads "Overall exposure level for UNIT: D.D ..." out of `systemd-analyze security` output
 * into tenths (1.2 -> 12). CRAWL_ENOTFOUND: no such line for unit; CRAWL_EINVAL: the number
 * is not D.D with 1 or 2 digits before the point. */
static int parse_exposure(const char *out, const char *unit, int *tenths)
{
	char head[128];
	const char *p;
	int whole = 0, digits = 0;

	snprintf(head, sizeof head, "Overall exposure level for %s: ", unit);
	if (!(p = strstr(out, head)))
		return CRAWL_ENOTFOUND;
	for (p += strlen(head); *p >= '0' && *p <= '9' && digits < 3; p++, digits++)
		whole = whole * 10 + (*p - '0');
	if (digits == 0 || digits > 2 || p[0] != '.' || p[1] < '0' || p[1] > '9' ||
	    (p[2] >= '0' && p[2] <= '9'))
		return CRAWL_EINVAL;
	*tenths = whole * 10 + (p[1] - '0');
	return 0;
}

/* Lines of out that mention one of names (NULL-terminated); each is copied to stderr, marked
 * with note. */
static int unit_lines(const char *out, const char *const names[], const char *note)
{
	const char *p = out;
	int count = 0;

	while (*p) {
		size_t n = strcspn(p, "\n");
		char line[VALUE_MAX];

		snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1),
		         p);
		for (int i = 0; names[i]; i++) {
			if (strstr(line, names[i])) {
				fprintf(stderr, "  systemd-analyze%s: %s\n", note, line);
				count++;
				break;
			}
		}
		p += n + (p[n] == '\n');
	}
	return count;
}

static char *read_repo_file(const char *rel)
{
	char *text = NULL;

	assert_int_equal(tfiles_read(rel, &text, NULL), 0);
	return text;
}

/* Writes the template filled with sbindir to dir/crawld.service, plus dir/crawld.socket. */
static void write_units(const char *dir, const char *sbindir)
{
	char path[256], *tmpl = read_repo_file("systemd/crawld.service");
	char *sock = read_repo_file("systemd/crawld.socket"),
	     *unit = tfiles_replace_all(tmpl, "@SBINDIR@", sbindir);

	assert_non_null(unit);
	assert_true(mkdir(dir, 0755) == 0 || access(dir, F_OK) == 0);
	snprintf(path, sizeof path, "%s/crawld.service", dir);
	assert_int_equal(tfiles_write(path, unit, 0644), 0);
	snprintf(path, sizeof path, "%s/crawld.socket", dir);
	assert_int_equal(tfiles_write(path, sock, 0644), 0);
	free(tmpl);
	free(sock);
	free(unit);
}

/* `[env MANPATH=man] systemd-analyze verify dir/crawld.service dir/crawld.socket`. */
static char *verify(const char *dir, const char *manpath, int *status)
{
	char manenv[200], service[256], sock[256], *out = NULL;
	const char *argv[] = {"env", manenv, "systemd-analyze", "verify", service, sock, NULL};

	snprintf(manenv, sizeof manenv, "MANPATH=%s", manpath);
	snprintf(service, sizeof service, "%s/crawld.service", dir);
	snprintf(sock, sizeof sock, "%s/crawld.socket", dir);
	assert_int_equal(tfiles_run_merged(argv, RUN_MS, &out, status), 0);
	return out;
}

static char *security(const char *service, int *status)
{
	const char *argv[] = {"systemd-analyze", "security", "--offline=true", service, NULL};
	char *out = NULL;

	assert_int_equal(tfiles_run_merged(argv, RUN_MS, &out, status), 0);
	return out;
}

static bool need_analyzer(void)
{
	if (g.skip)
		fprintf(stderr, "test_systemd: SKIP: %s\n", g.skip);
	return g.skip == NULL;
}

/* ---- group setup: systemd-analyze, the stand-in binary, the unit copies, MANPATH -------- */

static void ensure_analyzer(void)
{
	const char *argv[] = {"scripts/deps.sh", "systemd", NULL};
	int status = -1, rc;

	if (tfiles_have_program("systemd-analyze"))
		return;
	fprintf(stderr, "test_systemd: systemd-analyze is missing; installing the systemd "
	                "package (scripts/deps.sh systemd)\n");
	rc = tsupport_run_timeout(argv, INSTALL_MS, NULL, &status);
	if (rc != 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
	    !tfiles_have_program("systemd-analyze"))
		g.skip = "systemd-analyze is missing and `scripts/deps.sh systemd` could not "
		         "install it (it needs apt-get, and root or sudo)";
}

static int link_page(const char *section, const char *page)
{
	char dir[192], from[PATH_MAX + 32], to[256];

	snprintf(dir, sizeof dir, "%s/man%s", g.man, section);
	snprintf(from, sizeof from, "%s/docs/%s", g.repo, page);
	snprintf(to, sizeof to, "%s/%s", dir, page);
	if ((mkdir(dir, 0755) != 0 && access(dir, F_OK) != 0) || access(from, R_OK) != 0)
		return -1;
	return symlink(from, to);
}

static int group_setup(void **state)
{
	char crawld[192];

	(void)state;
	memset(&g, 0, sizeof g);
	if (!getcwd(g.repo, sizeof g.repo) || access("systemd/crawld.service", R_OK) != 0) {
		fprintf(stderr, "test_systemd: run from the top of the source tree\n");
		return -1;
	}
	ensure_analyzer();
	if (tfiles_mkdtemp(g.dir, sizeof g.dir, "test_systemd") != 0)
		return -1;
	snprintf(g.units, sizeof g.units, "%s/units", g.dir);
	snprintf(g.sbin, sizeof g.sbin, "%s/sbin", g.dir);
	snprintf(g.man, sizeof g.man, "%s/man", g.dir);
	snprintf(g.service, sizeof g.service, "%s/crawld.service", g.units);
	snprintf(g.socket, sizeof g.socket, "%s/crawld.socket", g.units);
	snprintf(crawld, sizeof crawld, "%s/crawld", g.sbin);
	if (mkdir(g.sbin, 0755) != 0 || mkdir(g.man, 0755) != 0 ||
	    tfiles_write(crawld, "#!/bin/sh\nexit 0\n", 0755) != 0 ||
	    link_page("8", "crawld.8") != 0 || link_page("5", "crawld.conf.5") != 0 ||
	    link_page("1", "crawlctl.1") != 0) {
		tfiles_rm_tree(g.dir);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	return g.dir[0] && tfiles_rm_tree(g.dir) != 0 ? -1 : 0;
}

/* ---- the template ----------------------------------------------------------------------- */

static void test_template_has_one_placeholder(void **state)
{
	char *text = read_repo_file("systemd/crawld.service"), value[VALUE_MAX];

	(void)state;
	/* @SBINDIR@ once, and no other @NAME@ that make install would leave in place */
	assert_int_equal(count_placeholders(text), 1);
	assert_non_null(strstr(text, "@SBINDIR@"));
	assert_int_equal(unit_value(text, "Service", "ExecStart", 0, value, sizeof value), 0);
	assert_string_equal(value, "@SBINDIR@/crawld -c /etc/crawld/crawld.conf --foreground");
	assert_int_equal(unit_value(text, "Service", "ExecStart", 1, value, sizeof value),
	                 CRAWL_ENOTFOUND);
	free(text);
}

static void test_replace_and_count(void **state)
{
	char *s;

	(void)state;
	s = tfiles_replace_all("a=@SBINDIR@/x @SBINDIR@\n@SBINDIR", "@SBINDIR@", "/usr/sbin");
	assert_non_null(s);
	assert_string_equal(s, "a=/usr/sbin/x /usr/sbin\n@SBINDIR");
	free(s);
	s = tfiles_replace_all("", "@SBINDIR@", "/x");
	assert_string_equal(s, "");
	free(s);
	s = tfiles_replace_all("aaa", "aa", "a");
	assert_string_equal(s, "aa");
	free(s);
	assert_null(tfiles_replace_all("x", "", "y"));
	assert_int_equal(count_placeholders("@A@ @system-service @B_C@@D@ @e@ @@"), 3);
}

/* ---- systemd-analyze verify --------------------------------------------------------------- */

static void test_verify_clean(void **state)
{
	const char *names[] = {"crawld.service", "crawld.socket", g.dir, NULL};
	int status = -1;
	char *out;

	(void)state;
	if (!need_analyzer())
		skip();
	write_units(g.units, g.sbin);
	out = verify(g.units, g.man, &status);
	assert_int_equal(unit_lines(out, names, ""), 0);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(out);
}

/* The check above is not blind: each of these faults gives a line about the unit. */
static void test_verify_reports_faults(void **state)
{
	const char *names[] = {"crawld.service", NULL};
	char dir[192], empty_man[192], path[256], missing[192];
	int status = -1;
	char *out;

	(void)state;
	if (!need_analyzer())
		skip();
	snprintf(dir, sizeof dir, "%s/faulty", g.dir);
	snprintf(missing, sizeof missing, "%s/no-such-dir", g.dir);
	snprintf(empty_man, sizeof empty_man, "%s/empty-man", g.dir);
	assert_true(mkdir(empty_man, 0755) == 0 || access(empty_man, F_OK) == 0);

	write_units(dir, missing); /* ExecStart's binary does not exist */
	out = verify(dir, g.man, &status);
	assert_true(unit_lines(out, names, " (a fault put there)") >= 1);
	assert_non_null(strstr(out, "is not executable"));
	assert_false(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(out);

	write_units(dir, g.sbin); /* a directive systemd does not know */
	snprintf(path, sizeof path, "%s/crawld.service", dir);
	assert_int_equal(tfiles_append(path, "ProtectEverything=yes\n"), 0);
	out = verify(dir, g.man, &status);
	assert_true(unit_lines(out, names, " (a fault put there)") >= 1);
	assert_non_null(strstr(out, "ProtectEverything"));
	free(out);

	write_units(dir, g.sbin); /* Documentation= names pages that cannot be found */
	out = verify(dir, empty_man, &status);
	assert_true(unit_lines(out, names, " (a fault put there)") >= 1);
	assert_non_null(strstr(out, "crawld(8)"));
	free(out);
}

/* ---- systemd-analyze security ------------------------------------------------------------- */

static void test_parse_exposure(void **state)
{
	int t = -1;

	(void)state;
	assert_int_equal(
	    parse_exposure("x\n\xe2\x86\x92 Overall exposure level for crawld.service: "
	                   "1.2 OK \xf0\x9f\x99\x82\n",
	                   "crawld.service", &t),
	    0);
	assert_int_equal(t, 12);
	assert_int_equal(parse_exposure("Overall exposure level for crawld.service: 10.0 UNSAFE",
	                                "crawld.service", &t),
	                 0);
	assert_int_equal(t, 100);
	assert_int_equal(
	    parse_exposure("Overall exposure level for crawld.service: 0.0", "crawld.service", &t),
	    0);
	assert_int_equal(t, 0);
	t = -1;
	assert_int_equal(parse_exposure("", "crawld.service", &t), CRAWL_ENOTFOUND);
	assert_int_equal(
	    parse_exposure("Overall exposure level for other.service: 1.0", "crawld.service", &t),
	    CRAWL_ENOTFOUND);
	assert_int_equal(
	    parse_exposure("Overall exposure level for crawld.service: x.y", "crawld.service", &t),
	    CRAWL_EINVAL);
	assert_int_equal(
	    parse_exposure("Overall exposure level for crawld.service: 1.", "crawld.service", &t),
	    CRAWL_EINVAL);
	assert_int_equal(
	    parse_exposure("Overall exposure level for crawld.service: 1.25", "crawld.service", &t),
	    CRAWL_EINVAL);
	assert_int_equal(parse_exposure("Overall exposure level for crawld.service: 123.0",
	                                "crawld.service", &t),
	                 CRAWL_EINVAL);
	assert_int_equal(t, -1);
}

static void test_security_exposure(void **state)
{
	int status = -1, tenths = -1;
	char *out;

	(void)state;
	if (!need_analyzer())
		skip();
	write_units(g.units, g.sbin);
	out = security(g.service, &status);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_int_equal(parse_exposure(out, "crawld.service", &tenths), 0);
	fprintf(stderr, "test_systemd: crawld.service exposure %d.%d (at most %d.%d)\n",
	        tenths / 10, tenths % 10, EXPOSURE_MAX / 10, EXPOSURE_MAX % 10);
	assert_in_range(tenths, 0, EXPOSURE_MAX);
	free(out);
}

/* The same measure on a unit with no sandbox is far above the limit. */
static void test_security_bare_unit_fails(void **state)
{
	char dir[192], path[256], unit[512];
	int status = -1, tenths = -1;
	char *out;

	(void)state;
	if (!need_analyzer())
		skip();
	snprintf(dir, sizeof dir, "%s/bare", g.dir);
	assert_true(mkdir(dir, 0755) == 0 || access(dir, F_OK) == 0);
	snprintf(path, sizeof path, "%s/crawld.service", dir);
	snprintf(unit, sizeof unit, "[Service]\nExecStart=%s/crawld\n", g.sbin);
	assert_int_equal(tfiles_write(path, unit, 0644), 0);
	out = security(path, &status);
	assert_int_equal(parse_exposure(out, "crawld.service", &tenths), 0);
	assert_true(tenths > EXPOSURE_MAX);
	free(out);
}

/* ---- the sandbox the brief asks for, directive by directive ------------------------------ */

/* [Service] directives the unit must set, with their exact values. */
static const char *const hardening[][2] = {
    {"Type", "notify"},
    {"ExecReload", "/bin/kill -HUP $MAINPID"},
    {"WatchdogSec", "30s"},
    {"Restart", "on-failure"},
    {"User", "crawld"},
    {"Group", "crawld"},
    {"StateDirectory", "crawld"},
    {"RuntimeDirectory", "crawld"},
    {"RuntimeDirectoryPreserve", "yes"},
    {"LogsDirectory", "crawld"},
    {"ConfigurationDirectory", "crawld"},
    {"NoNewPrivileges", "yes"},
    {"ProtectSystem", "strict"},
    {"ProtectHome", "yes"},
    {"PrivateTmp", "yes"},
    {"PrivateDevices", "yes"},
    {"ProtectKernelTunables", "yes"},
    {"ProtectKernelModules", "yes"},
    {"ProtectKernelLogs", "yes"},
    {"ProtectControlGroups", "yes"},
    {"ProtectClock", "yes"},
    {"ProtectHostname", "yes"},
    {"ProtectProc", "invisible"},
    {"ProcSubset", "pid"},
    {"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
    {"RestrictNamespaces", "yes"},
    {"RestrictRealtime", "yes"},
    {"RestrictSUIDSGID", "yes"},
    {"SystemCallArchitectures", "native"},
    {"CapabilityBoundingSet", ""},
    {"AmbientCapabilities", ""},
    {"MemoryDenyWriteExecute", "yes"},
    {"LockPersonality", "yes"},
    {"UMask", "0027"},
    {"RemoveIPC", "yes"},
    {"KeyringMode", "private"},
    {"LimitNOFILE", "65536"},
};

static void test_hardening_directives(void **state)
{
	char *text = read_repo_file("systemd/crawld.service"), v[VALUE_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof hardening / sizeof hardening[0]; i++) {
		const char *key = hardening[i][0], *want = hardening[i][1];

		if (unit_value(text, "Service", key, 0, v, sizeof v) != 0)
			fail_msg("crawld.service sets no %s=", key);
		if (strcmp(v, want) != 0)
			fail_msg("%s=%s, expected %s=%s", key, v, key, want);
	}
	assert_int_equal(unit_value(text, "Service", "SystemCallFilter", 0, v, sizeof v), 0);
	assert_string_equal(v, "@system-service");
	assert_int_equal(unit_value(text, "Service", "SystemCallFilter", 1, v, sizeof v), 0);
	assert_string_equal(v, "~@privileged @resources");
	/* it crawls the web, and group members must stay distinguishable on the socket */
	assert_int_equal(unit_value(text, "Service", "IPAddressDeny", 0, v, sizeof v),
	                 CRAWL_ENOTFOUND);
	assert_int_equal(unit_value(text, "Service", "PrivateNetwork", 0, v, sizeof v),
	                 CRAWL_ENOTFOUND);
	assert_int_equal(unit_value(text, "Service", "PrivateUsers", 0, v, sizeof v),
	                 CRAWL_ENOTFOUND);
	assert_int_equal(unit_value(text, "Service", "DynamicUser", 0, v, sizeof v),
	                 CRAWL_ENOTFOUND);
	assert_int_equal(unit_value(text, "Unit", "Documentation", 0, v, sizeof v), 0);
	assert_string_equal(v, "man:crawld(8) man:crawld.conf(5) man:crawlctl(1)");
	free(text);
}

/* ---- units, snippets and configuration defaults agree ------------------------------------ */

struct texts {
	char *service, *socket, *sysusers, *tmpfiles;
	struct crawld_config c;
};

static void texts_load(struct texts *t)
{
	t->service = read_repo_file("systemd/crawld.service");
	t->socket = read_repo_file("systemd/crawld.socket");
	t->sysusers = read_repo_file("systemd/crawld.sysusers");
	t->tmpfiles = read_repo_file("systemd/crawld.tmpfiles");
	assert_int_equal(config_defaults(&t->c), 0);
}

static void texts_free(struct texts *t)
{
	free(t->service);
	free(t->socket);
	free(t->sysusers);
	free(t->tmpfiles);
	config_free(&t->c);
}

/* Asserts that [section] key= of text is exactly want. */
static void expect_key(const char *text, const char *section, const char *key, const char *want)
{
	char v[VALUE_MAX];

	if (unit_value(text, section, key, 0, v, sizeof v) != 0)
		fail_msg("no %s= in [%s]", key, section);
	if (strcmp(v, want) != 0)
		fail_msg("[%s] %s=%s, expected %s", section, key, v, want);
}

static void test_socket_matches_service_and_config(void **state)
{
	struct texts t;
	char v[VALUE_MAX], mode[16], dir[VALUE_MAX + 16];

	(void)state;
	texts_load(&t);
	expect_key(t.socket, "Socket", "ListenStream", t.c.daemon.socket);
	assert_int_equal(config_get(&t.c, "daemon", "socket_mode", mode, sizeof mode), 0);
	expect_key(t.socket, "Socket", "SocketMode", mode);
	expect_key(t.socket, "Socket", "SocketUser", t.c.daemon.user);
	expect_key(t.socket, "Socket", "SocketGroup", t.c.daemon.group);
	expect_key(t.socket, "Socket", "Service", "crawld.service");
	expect_key(t.service, "Service", "User", t.c.daemon.user);
	expect_key(t.service, "Service", "Group", t.c.daemon.group);
	expect_key(t.service, "Unit", "Requires", "crawld.socket");
	/* the socket lives in the service's RuntimeDirectory, which must outlive the service */
	assert_int_equal(unit_value(t.service, "Service", "RuntimeDirectory", 0, v, sizeof v), 0);
	snprintf(dir, sizeof dir, "/run/%s/", v);
	assert_memory_equal(t.c.daemon.socket, dir, strlen(dir));
	assert_null(strchr(t.c.daemon.socket + strlen(dir), '/'));
	assert_int_equal(unit_value(t.service, "Service", "StateDirectory", 0, v, sizeof v), 0);
	snprintf(dir, sizeof dir, "/var/lib/%s", v);
	assert_string_equal(dir, t.c.daemon.state_dir);
	assert_int_equal(unit_value(t.service, "Service", "LogsDirectory", 0, v, sizeof v), 0);
	snprintf(dir, sizeof dir, "/var/log/%s", v);
	assert_string_equal(dir, t.c.daemon.log_dir);
	assert_true(t.c.daemon.watchdog); /* WatchdogSec= is only useful when crawld answers */
	texts_free(&t);
}

static void test_snippets_match_config(void **state)
{
	struct texts t;
	char line[VALUE_MAX], run[256];

	(void)state;
	texts_load(&t);
	snprintf(line, sizeof line, "\nu %s - \"crawld crawler daemon\" %s\n", t.c.daemon.user,
	         t.c.daemon.state_dir);
	assert_non_null(strstr(t.sysusers, line));
	snprintf(line, sizeof line, "\nd %s 0750 %s %s -\n", t.c.daemon.state_dir, t.c.daemon.user,
	         t.c.daemon.group);
	assert_non_null(strstr(t.tmpfiles, line));
	snprintf(line, sizeof line, "\nd %s 0750 %s %s -\n", t.c.daemon.log_dir, t.c.daemon.user,
	         t.c.daemon.group);
	assert_non_null(strstr(t.tmpfiles, line));
	snprintf(run, sizeof run, "%s", t.c.daemon.socket);
	*strrchr(run, '/') = '\0';
	snprintf(line, sizeof line, "\nd %s 0750 %s %s -\n", run, t.c.daemon.user,
	         t.c.daemon.group);
	assert_non_null(strstr(t.tmpfiles, line));
	texts_free(&t);
}

/* ---- systemd-sysusers and systemd-tmpfiles on a scratch root ------------------------------ */

/* The "name:x:uid:gid:..." line of name in an /etc/passwd or /etc/group text, or NULL. */
static const char *db_line(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *p = text;

	while (*p) { /* bounded: every pass consumes a line */
		if (!strncmp(p, name, n) && p[n] == ':')
			return p;
		p += strcspn(p, "\n");
		p += *p == '\n';
	}
	return NULL;
}

static void expect_dir(const char *root, const char *path, unsigned uid, unsigned gid)
{
	char full[512];
	struct stat st;

	snprintf(full, sizeof full, "%s%s", root, path);
	if (stat(full, &st) != 0)
		fail_msg("systemd-tmpfiles did not create %s", path);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, uid);
	assert_int_equal(st.st_gid, gid);
}

/* Runs a systemd tool with --root=root on conf (an absolute path) and asserts success. */
static void run_tool(const char *tool, const char *action, const char *root, const char *conf)
{
	char rootarg[256];
	const char *argv[] = {tool, rootarg, action ? action : conf, action ? conf : NULL, NULL};
	int status = -1;
	char *out = NULL;

	snprintf(rootarg, sizeof rootarg, "--root=%s", root);
	assert_int_equal(tfiles_run_merged(argv, RUN_MS, &out, &status), 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("%s failed (status 0x%x):\n%s", tool, (unsigned)status, out);
	free(out);
}

/* Asserts the account that crawld.sysusers made under root, and returns its ids. */
static void expect_account(const char *root, unsigned *uid, unsigned *gid)
{
	char path[256], *passwd = NULL, *group = NULL;
	const char *user_line, *group_line;
	unsigned gid2 = 0;

	snprintf(path, sizeof path, "%s/etc/passwd", root);
	assert_int_equal(tfiles_read(path, &passwd, NULL), 0);
	snprintf(path, sizeof path, "%s/etc/group", root);
	assert_int_equal(tfiles_read(path, &group, NULL), 0);
	user_line = db_line(passwd, "crawld");
	group_line = db_line(group, "crawld");
	assert_non_null(user_line);
	assert_non_null(group_line);
	assert_int_equal(sscanf(user_line, "crawld:x:%u:%u:", uid, gid), 2);
	assert_non_null(strstr(user_line, ":crawld crawler daemon:/var/lib/crawld:"));
	assert_in_range(*uid, 1, 999); /* a system account */
	assert_int_equal(sscanf(group_line, "crawld:x:%u:", &gid2), 1);
	assert_int_equal(*gid, gid2);
	free(passwd);
	free(group);
}

static void test_sysusers_and_tmpfiles(void **state)
{
	char root[192], etc[208], conf[PATH_MAX + 64];
	unsigned uid = 0, gid = 0;

	(void)state;
	if (geteuid() != 0 || !tfiles_have_program("systemd-sysusers") ||
	    !tfiles_have_program("systemd-tmpfiles")) {
		fprintf(stderr, "test_systemd: SKIP: needs root and systemd-sysusers/-tmpfiles\n");
		skip();
	}
	snprintf(root, sizeof root, "%s/root", g.dir);
	snprintf(etc, sizeof etc, "%s/etc", root);
	assert_int_equal(mkdir(root, 0755), 0);
	assert_int_equal(mkdir(etc, 0755), 0);
	snprintf(conf, sizeof conf, "%s/systemd/crawld.sysusers", g.repo);
	run_tool("systemd-sysusers", NULL, root, conf);
	expect_account(root, &uid, &gid);
	snprintf(conf, sizeof conf, "%s/systemd/crawld.tmpfiles", g.repo);
	run_tool("systemd-tmpfiles", "--create", root, conf);
	expect_dir(root, "/var/lib/crawld", uid, gid);
	expect_dir(root, "/var/log/crawld", uid, gid);
	expect_dir(root, "/run/crawld", uid, gid);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_template_has_one_placeholder),
	    cmocka_unit_test(test_replace_and_count),
	    cmocka_unit_test(test_verify_clean),
	    cmocka_unit_test(test_verify_reports_faults),
	    cmocka_unit_test(test_parse_exposure),
	    cmocka_unit_test(test_security_exposure),
	    cmocka_unit_test(test_security_bare_unit_fails),
	    cmocka_unit_test(test_hardening_directives),
	    cmocka_unit_test(test_socket_matches_service_and_config),
	    cmocka_unit_test(test_snippets_match_config),
	    cmocka_unit_test(test_sysusers_and_tmpfiles),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
