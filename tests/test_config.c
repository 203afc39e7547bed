/* test_config.c - daemon/config: defaults, the shipped file, every kind of
 * error with its file:line, overrides, formatting, reload diff. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"

struct fixture {
	char dir[64];
	char path[128];
	struct crawld_config c;
	struct config_errors errs;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_config.XXXXXX");
	if (!mkdtemp(f->dir) || config_defaults(&f->c) != 0) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/crawld.conf", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	config_free(&f->c);
	config_errors_free(&f->errs);
	free(f);
	return 0;
}

static void write_conf(struct fixture *f, const char *text)
{
	FILE *fp = fopen(f->path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

/* Loads text; returns config_load's code. */
static int load_text(struct fixture *f, const char *text)
{
	write_conf(f, text);
	config_errors_free(&f->errs);
	return config_load(&f->c, f->path, &f->errs);
}

/* Asserts that message i is "<path>:<line>: <text>". */
static void assert_msg(struct fixture *f, int i, int line, const char *text)
{
	char want[600];

	snprintf(want, sizeof want, "%s:%d: %s", f->path, line, text);
	assert_true(i < f->errs.count);
	assert_string_equal(f->errs.msg[i], want);
}

static void test_defaults(void **state)
{
	struct fixture *f = *state;
	const struct crawld_config *c = &f->c;
	static const int statuses[] = { 429, 500, 502, 503, 504 };

	assert_string_equal(c->daemon.user, "crawld");
	assert_string_equal(c->daemon.group, "crawld");
	assert_string_equal(c->daemon.state_dir, "/var/lib/crawld");
	assert_string_equal(c->daemon.socket, "/run/crawld/crawld.sock");
	assert_int_equal(c->daemon.socket_mode, 0660);
	assert_string_equal(c->daemon.log_dir, "/var/log/crawld");
	assert_int_equal(c->daemon.log_level, LOG_INFO);
	assert_int_equal(c->daemon.log_max_bytes, 10485760);
	assert_int_equal(c->daemon.log_keep, 5);
	assert_string_equal(c->daemon.pid_file, "");
	assert_int_equal(c->daemon.max_clients, 256);
	assert_int_equal(c->daemon.max_line, 65536);
	assert_int_equal(c->daemon.checkpoint_interval_ms, 2000);
	assert_int_equal(c->daemon.shutdown_timeout_ms, 10000);
	assert_true(c->daemon.watchdog);
	assert_int_equal(c->limits.max_connections, 256);
	assert_int_equal(c->limits.max_per_host, 8);
	assert_int_equal(c->limits.max_jobs_running, 16);
	assert_int_equal(c->limits.max_body_bytes, 10485760);
	assert_int_equal(c->limits.connect_timeout_ms, 10000);
	assert_int_equal(c->limits.timeout_ms, 30000);
	assert_int_equal(c->limits.low_speed_bytes, 1);
	assert_int_equal(c->limits.low_speed_ms, 30000);
	assert_int_equal(c->limits.max_redirects, 10);
	assert_string_equal(c->crawl.user_agent,
			    "crawld/0.1 (+https://example.invalid/crawld)");
	assert_int_equal(c->crawl.depth, 3);
	assert_int_equal(c->crawl.max_pages, 10000);
	assert_int_equal(c->crawl.concurrency, 64);
	assert_int_equal(c->crawl.per_host, 4);
	assert_int_equal(c->crawl.delay_ms, 0);
	assert_true(c->crawl.obey_robots);
	assert_int_equal(c->crawl.retries, 2);
	assert_int_equal(c->crawl.retry_backoff_ms, 500);
	assert_int_equal(c->crawl.n_retry_statuses, 5);
	assert_memory_equal(c->crawl.retry_statuses, statuses, sizeof statuses);
	assert_string_equal(c->crawl.sort_by, "url");
	assert_false(c->crawl.allow_private);
}

/* The file as shipped: zero errors, and it states exactly the defaults. */
static void test_shipped_file(void **state)
{
	struct fixture *f = *state;
	static char before[8192], after[8192];

	assert_true(config_format(&f->c, before, sizeof before) > 0);
	assert_int_equal(config_load(&f->c, "config/crawld.conf", &f->errs), 0);
	assert_int_equal(f->errs.count, 0);
	assert_true(config_format(&f->c, after, sizeof after) > 0);
	assert_string_equal(before, after);
}

static void test_unknown_key_and_bad_int(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load_text(f, "[daemon]\nfoo = 1\n\n[limits]\n"
				      "max_connections = abc\n"),
			 CRAWL_ECONFIG);
	assert_int_equal(f->errs.count, 2);
	assert_msg(f, 0, 2, "unknown key 'foo' in section [daemon]");
	assert_msg(f, 1, 5, "bad value 'abc' for limits.max_connections: "
			    "expected an integer from 1 to 100000");
	assert_int_equal(f->c.limits.max_connections, 256);
}

/* One file with one error of every kind: all reported, in line order. */
static void test_every_error_kind(void **state)
{
	struct fixture *f = *state;
	char text[2048], longline[300];

	memset(longline, 'x', sizeof longline - 1);
	longline[sizeof longline - 1] = '\0';
	snprintf(text, sizeof text,
		 "depth = 3\n"                       /* 1 outside any section */
		 "[daemon\n"                         /* 2 no ']' */
		 "[nope]\n"                          /* 3 unknown section */
		 "user = x\n"                        /* 4 skipped: in [nope] */
		 "[limits]\n"                        /* 5 */
		 "max_per_host 3\n"                  /* 6 no '=' */
		 "max_per_host = 0\n"                /* 7 out of range */
		 "timeout_ms = 12ms\n"               /* 8 not an integer */
		 "[daemon]\n"                        /* 9 */
		 "watchdog = maybe\n"                /* 10 bad boolean */
		 "socket_mode = 0668\n"              /* 11 bad octal */
		 "log_level = loud\n"                /* 12 bad enum */
		 "state_dir = var/lib\n"             /* 13 relative path */
		 "comment = %s\n"                    /* 14 too long */
		 "log_keep = 1\n"                    /* 15 */
		 "log_keep = 2\n"                    /* 16 set twice */
		 "[crawl] junk\n"                    /* 17 text after ] */
		 "retry_statuses = 429,99\n"         /* 18 bad list */
		 "sort_by = random\n"                /* 19 bad enum */
		 " = 4\n",                           /* 20 no key */
		 longline);
	assert_int_equal(load_text(f, text), CRAWL_ECONFIG);
	assert_int_equal(f->errs.count, 16);
	assert_int_equal(f->errs.dropped, 0);
	assert_msg(f, 0, 1, "key 'depth' outside of any section (expected "
			    "[daemon], [limits] or [crawl] first)");
	assert_msg(f, 1, 2, "missing ']' in section header '[daemon'");
	assert_msg(f, 2, 3, "unknown section [nope] (expected [daemon], "
			    "[limits] or [crawl])");
	assert_msg(f, 3, 6, "missing '=' in 'max_per_host 3' (expected key = value)");
	assert_msg(f, 4, 7, "bad value '0' for limits.max_per_host: expected an "
			    "integer from 1 to 1000");
	assert_msg(f, 5, 8, "bad value '12ms' for limits.timeout_ms: expected "
			    "an integer from 1 to 3600000");
	assert_msg(f, 6, 10, "bad value 'maybe' for daemon.watchdog: expected "
			     "true/false, yes/no, on/off or 1/0");
	assert_msg(f, 7, 11, "bad value '0668' for daemon.socket_mode: expected "
			     "an octal mode from 0000 to 0777");
	assert_msg(f, 8, 12, "bad value 'loud' for daemon.log_level: expected "
			     "one of debug, info, notice, warning, error");
	assert_msg(f, 9, 13, "bad value 'var/lib' for daemon.state_dir: expected "
			     "an absolute path of at most 4095 bytes");
	assert_msg(f, 10, 14, "line too long (at most 199 bytes)");
	assert_msg(f, 11, 16, "daemon.log_keep is set twice (first on line 15)");
	assert_msg(f, 12, 17, "unexpected text 'junk' after section header");
	assert_msg(f, 13, 18, "bad value '429,99' for crawl.retry_statuses: "
			      "expected a comma-separated list of at most 32 "
			      "HTTP statuses from 100 to 599");
	assert_msg(f, 14, 19, "bad value 'random' for crawl.sort_by: expected "
			      "one of url, status, time, size");
	assert_msg(f, 15, 20, "missing key before '=' in section [crawl]");
	/* The good line still applied; the bad ones left the defaults. */
	assert_int_equal(f->c.daemon.log_keep, 1);
	assert_true(f->c.daemon.watchdog);
	assert_string_equal(f->c.daemon.user, "crawld");
}

static void test_good_values(void **state)
{
	struct fixture *f = *state;
	static const int statuses[] = { 429, 503 };

	assert_int_equal(load_text(f, "\xEF\xBB\xBF[daemon]\r\n"
				      "  watchdog = off ; inline comment\r\n"
				      "socket_mode = 755\r\n"
				      "log_level = DEBUG\r\n"
				      "pid_file = /run/crawld.pid\r\n"
				      "[crawl]\n"
				      "obey_robots: no\n"
				      "allow_private = 1\n"
				      "retry_statuses = 503, 429 ,503\n"
				      "user_agent = \"  spaced agent \"\n"
				      "# comment\n; comment\n"
				      "[limits]\nmax_body_bytes = 1073741824\n"),
			 0);
	assert_int_equal(f->errs.count, 0);
	assert_false(f->c.daemon.watchdog);
	assert_int_equal(f->c.daemon.socket_mode, 0755);
	assert_int_equal(f->c.daemon.log_level, LOG_DEBUG);
	assert_string_equal(f->c.daemon.pid_file, "/run/crawld.pid");
	assert_false(f->c.crawl.obey_robots);
	assert_true(f->c.crawl.allow_private);
	assert_int_equal(f->c.crawl.n_retry_statuses, 2);
	assert_memory_equal(f->c.crawl.retry_statuses, statuses, sizeof statuses);
	assert_string_equal(f->c.crawl.user_agent, "  spaced agent ");
	assert_int_equal(f->c.limits.max_body_bytes, 1073741824);
	/* An empty list is allowed: nothing is retried on status. */
	assert_int_equal(load_text(f, "[crawl]\nretry_statuses =\n"), 0);
	assert_int_equal(f->c.crawl.n_retry_statuses, 0);
}

static void test_errors_are_bounded(void **state)
{
	struct fixture *f = *state;
	char text[4096];
	size_t pos = (size_t)snprintf(text, sizeof text, "[limits]\n");

	for (int i = 0; i < 100; i++)
		pos += (size_t)snprintf(text + pos, sizeof text - pos,
					"bad%d = 1\n", i);
	assert_int_equal(load_text(f, text), CRAWL_ECONFIG);
	assert_int_equal(f->errs.count, CONFIG_MAX_ERRORS);
	assert_int_equal(f->errs.dropped, 100 - CONFIG_MAX_ERRORS);
	assert_msg(f, 63, 65, "unknown key 'bad63' in section [limits]");
}

static void test_file_errors(void **state)
{
	struct fixture *f = *state;
	char want[256];

	assert_int_equal(config_load(&f->c, "/nonexistent/crawld.conf", &f->errs),
			 CRAWL_ESYS);
	assert_int_equal(f->errs.count, 1);
	assert_string_equal(f->errs.msg[0], "/nonexistent/crawld.conf: cannot "
			    "open the configuration file: No such file or directory");
	config_errors_free(&f->errs);
	assert_int_equal(config_load(&f->c, f->dir, &f->errs), CRAWL_ESYS);
	snprintf(want, sizeof want, "%s: cannot read the configuration file: "
		 "Is a directory", f->dir);
	assert_int_equal(f->errs.count, 1);
	assert_string_equal(f->errs.msg[0], want);
	/* errs may be NULL: the code alone. */
	assert_int_equal(config_load(&f->c, "/nonexistent", NULL), CRAWL_ESYS);
}

/* An endless input stops at the size bound instead of reading forever. */
static void test_endless_file(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(config_load(&f->c, "/dev/zero", &f->errs), CRAWL_ECONFIG);
	assert_int_equal(f->errs.count, 1);
	assert_string_equal(f->errs.msg[0], "/dev/zero:65537: file too large "
			    "(at most 65536 lines of at most 1048576 bytes in all)");
}

static void test_set(void **state)
{
	struct fixture *f = *state;
	char err[256];

	assert_int_equal(config_set(&f->c, "limits", "max_connections", " 32 ",
				    err, sizeof err), 0);
	assert_int_equal(f->c.limits.max_connections, 32);
	assert_int_equal(config_set(&f->c, "limits", "max_connections", "100001",
				    err, sizeof err), CRAWL_ECONFIG);
	assert_string_equal(err, "bad value '100001' for limits.max_connections: "
			    "expected an integer from 1 to 100000");
	assert_int_equal(f->c.limits.max_connections, 32);
	assert_int_equal(config_set(&f->c, "daemon", "foo", "1", err, sizeof err),
			 CRAWL_ECONFIG);
	assert_string_equal(err, "unknown key 'foo' in section [daemon]");
	assert_int_equal(config_set(&f->c, "deamon", "user", "x", err, sizeof err),
			 CRAWL_ECONFIG);
	assert_string_equal(err, "unknown section [deamon] (expected daemon, "
			    "limits or crawl)");
	assert_int_equal(config_set(&f->c, "daemon", "socket", "/x/"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
				    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				    err, sizeof err), CRAWL_ECONFIG);
	assert_non_null(strstr(err, "expected an absolute path of at most 107 "
				    "bytes (a socket address)"));
	assert_int_equal(config_set(&f->c, "crawl", "user_agent", "a\r\nX: y",
				    err, sizeof err), CRAWL_ECONFIG);
	assert_string_equal(err, "bad value 'a??X: y' for crawl.user_agent: "
			    "expected 1 to 256 printable characters");
	assert_int_equal(config_set(&f->c, "daemon", "user", "-root", NULL, 0),
			 CRAWL_ECONFIG);
	assert_int_equal(config_set_arg(&f->c, "crawl.sort_by=size", err,
					sizeof err), 0);
	assert_string_equal(f->c.crawl.sort_by, "size");
	assert_int_equal(config_set_arg(&f->c, "crawl.sort_by", err, sizeof err),
			 CRAWL_ECONFIG);
	assert_string_equal(err, "bad override 'crawl.sort_by': expected "
			    "section.key=value");
	assert_int_equal(config_set_arg(&f->c, "depth=3", err, sizeof err),
			 CRAWL_ECONFIG);
	assert_int_equal(config_set_arg(&f->c, "crawl.depth=x.y", err, sizeof err),
			 CRAWL_ECONFIG);
	assert_string_equal(err, "bad value 'x.y' for crawl.depth: expected an "
			    "integer from 0 to 1000");
}

static void test_get_and_format(void **state)
{
	struct fixture *f = *state;
	struct crawld_config again;
	char buf[64], text[8192], text2[8192];
	int n;

	assert_int_equal(config_get(&f->c, "daemon", "socket_mode", buf,
				    sizeof buf), 0);
	assert_string_equal(buf, "0660");
	assert_int_equal(config_get(&f->c, "crawl", "retry_statuses", buf,
				    sizeof buf), 0);
	assert_string_equal(buf, "429,500,502,503,504");
	assert_int_equal(config_get(&f->c, "daemon", "log_level", buf, sizeof buf), 0);
	assert_string_equal(buf, "info");
	assert_int_equal(config_get(&f->c, "crawl", "nope", buf, sizeof buf),
			 CRAWL_ENOTFOUND);
	assert_int_equal(config_get(&f->c, "crawl", "user_agent", buf, 8),
			 CRAWL_EINVAL);
	assert_string_equal(buf, "");
	/* Formatting a changed config and loading it gives the same config. */
	assert_int_equal(config_set_arg(&f->c, "crawl.user_agent= a b ", NULL, 0), 0);
	assert_int_equal(config_set_arg(&f->c, "daemon.log_level=warning", NULL, 0), 0);
	assert_int_equal(config_set_arg(&f->c, "crawl.retry_statuses=503", NULL, 0), 0);
	n = config_format(&f->c, text, sizeof text);
	assert_true(n > 0 && (size_t)n == strlen(text));
	assert_non_null(strstr(text, "[daemon]\nuser = \"crawld\"\n"));
	assert_non_null(strstr(text, "\n\n[limits]\n"));
	assert_int_equal(config_format(&f->c, text2, 100), CRAWL_EINVAL);
	write_conf(f, text);
	assert_int_equal(config_defaults(&again), 0);
	assert_int_equal(config_load(&again, f->path, &f->errs), 0);
	assert_int_equal(config_format(&again, text2, sizeof text2), n);
	assert_string_equal(text, text2);
	assert_string_equal(again.crawl.user_agent, "a b");
	config_free(&again);
}

static void test_copy(void **state)
{
	struct fixture *f = *state;
	struct crawld_config copy;

	assert_int_equal(config_copy(&copy, &f->c), 0);
	assert_ptr_not_equal(copy.daemon.user, f->c.daemon.user);
	assert_int_equal(config_set(&copy, "daemon", "user", "other", NULL, 0), 0);
	assert_string_equal(f->c.daemon.user, "crawld");
	assert_string_equal(copy.daemon.user, "other");
	config_free(&copy);
	assert_null(copy.daemon.user);
	config_free(NULL);
	config_errors_free(NULL);
}

static void test_diff_live(void **state)
{
	struct fixture *f = *state;
	struct crawld_config next;
	char report[512];

	assert_int_equal(config_copy(&next, &f->c), 0);
	assert_int_equal(config_diff_live(&f->c, &next, report, sizeof report), 0);
	assert_string_equal(report, "no changes\n");
	assert_int_equal(config_set_arg(&next, "daemon.socket=/run/x.sock", NULL, 0), 0);
	assert_int_equal(config_set_arg(&next, "limits.max_connections=32", NULL, 0), 0);
	assert_int_equal(config_set_arg(&next, "daemon.log_level=debug", NULL, 0), 0);
	assert_int_equal(config_set_arg(&next, "daemon.user=bob", NULL, 0), 0);
	assert_int_equal(config_diff_live(&f->c, &next, report, sizeof report), 2);
	assert_string_equal(report,
			    "daemon.user: crawld -> bob (needs a restart)\n"
			    "daemon.socket: /run/crawld/crawld.sock -> /run/x.sock "
			    "(needs a restart)\n"
			    "daemon.log_level: info -> debug (applied live)\n"
			    "limits.max_connections: 256 -> 32 (applied live)\n");
	/* A short buffer: whole lines only, then the cut mark. */
	assert_int_equal(config_diff_live(&f->c, &next, report, 60), 2);
	assert_string_equal(report, "daemon.user: crawld -> bob (needs a restart)\n"
			    "...\n");
	assert_int_equal(config_diff_live(&f->c, &next, NULL, 0), 2);
	config_free(&next);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_defaults),
		T(test_shipped_file),
		T(test_unknown_key_and_bad_int),
		T(test_every_error_kind),
		T(test_good_values),
		T(test_errors_are_bounded),
		T(test_file_errors),
		T(test_endless_file),
		T(test_set),
		T(test_get_and_format),
		T(test_copy),
		T(test_diff_live),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
