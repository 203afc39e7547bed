/* test_crawlctl_units.c - crawlctl's modules one by one: ctl_parse
 * (numbers, --since, URL lists), ctl_output (tables, key: value lines,
 * progress bar, colours), ctl_conn (the protocol against the fake crawld of
 * tests/fakecrawld.c) and ctl_signal. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ctl_conn.h"
#include "ctl_output.h"
#include "ctl_parse.h"
#include "ctl_signal.h"
#include "fakecrawld.h"
#include "url.h"

/* ---- ctl_parse ---- */

static void test_parse_int(void **state)
{
	long long v = 7;

	(void)state;
	assert_int_equal(ctl_parse_int("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ctl_parse_int("-100", -100, 100, &v), 0);
	assert_int_equal(v, -100);
	assert_int_equal(ctl_parse_int("+5", 0, 10, &v), 0);
	assert_int_equal(v, 5);
	assert_int_equal(ctl_parse_int("100", 0, 100, &v), 0);
	v = 7;
	assert_int_equal(ctl_parse_int("101", 0, 100, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("-1", 0, 100, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("", 0, 100, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int(" 4", 0, 100, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("4 ", 0, 100, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("0x10", 0, 100, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("1e3", 0, 10000, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("-", -10, 10, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int("99999999999999999999", 0, 1LL << 62, &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_int(NULL, 0, 1, &v), CRAWL_EINVAL);
	assert_int_equal(v, 7); /* untouched by every failure */
}

static void test_parse_job(void **state)
{
	long long v = 0;

	(void)state;
	assert_int_equal(ctl_parse_job("1", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(ctl_parse_job("9007199254740991", &v), 0);
	assert_int_equal(v, 9007199254740991LL);
	assert_int_equal(ctl_parse_job("9007199254740992", &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_job("0", &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_job("-3", &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_job("+3", &v), CRAWL_EINVAL);
	assert_int_equal(ctl_parse_job("3a", &v), CRAWL_EINVAL);
}

static void since_ok(const char *text, time_t now, double want)
{
	double got = -1;

	if (ctl_parse_since(text, now, &got) != 0)
		fail_msg("'%s' refused", text);
	if (got != want)
		fail_msg("'%s': got %.3f, want %.3f", text, got, want);
}

static void test_parse_since(void **state)
{
	const time_t now = 1800000000;
	static const char *const bad[] = {
		"", "abc", "0m", "10y", "10m ago", "-10m", "m", "1.5h",
		"2026-11-25T10:00:00+01:00", "2026-11-25T", "2026-13-01", "25/11/2026",
		"1764000000.", ".5", "999999999999999", "2026-11-25T10:00:00ZZ",
	};
	double v = 5;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	since_ok("1764000000", now, 1764000000.0);
	since_ok("1764000000.25", now, 1764000000.25);
	since_ok("0", now, 0);
	since_ok("30s", now, now - 30.0);
	since_ok("10m", now, now - 600.0);
	since_ok("2h", now, now - 7200.0);
	since_ok("1d", now, now - 86400.0);
	since_ok("1w", now, now - 604800.0);
	since_ok("2026-11-25T10:00:00", now, 1795600800.0);
	since_ok("2026-11-25 10:00:00", now, 1795600800.0);
	since_ok("2026-11-25T10:00", now, 1795600800.0);
	since_ok("2026-11-25T10:00:00Z", now, 1795600800.0);
	since_ok("2026-11-25", now, 1795564800.0);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (ctl_parse_since(bad[i], now, &v) != CRAWL_EINVAL)
			fail_msg("'%s' accepted (%.3f)", bad[i], v);
	assert_int_equal(ctl_parse_since(NULL, now, &v), CRAWL_EINVAL);
	assert_true(v == 5);
	/* local time: Berlin is UTC+1 in November; Z still means UTC */
	setenv("TZ", "Europe/Berlin", 1);
	tzset();
	since_ok("2026-11-25T10:00:00", now, 1795597200.0);
	since_ok("2026-11-25T10:00:00Z", now, 1795600800.0);
	setenv("TZ", "UTC", 1);
	tzset();
}

/* Parses text as a URL list into a fresh array; returns the code. */
static int url_lines(const char *text, json_t **seeds, char *err, size_t errlen)
{
	FILE *fp = fmemopen((void *)text, strlen(text), "r");
	int rc;

	assert_non_null(fp);
	*seeds = json_array();
	assert_non_null(*seeds);
	rc = ctl_parse_url_lines(fp, "seeds.txt", *seeds, err, errlen);
	fclose(fp);
	return rc;
}

static void test_parse_url_lines(void **state)
{
	char err[256] = "";
	json_t *seeds, *want;
	char *longline;
	size_t n;

	(void)state;
	assert_int_equal(url_lines("# list\n\n  http://a/ \t\nhttp://b/\r\n\t#x\nhttp://c/",
				   &seeds, err, sizeof err),
			 0);
	want = json_pack("[sss]", "http://a/", "http://b/", "http://c/");
	assert_true(json_equal(seeds, want));
	json_decref(want);
	json_decref(seeds);

	assert_int_equal(url_lines("http://a/\nhttp://b/ http://c/\n", &seeds, err, sizeof err),
			 CRAWL_EINVAL);
	assert_string_equal(err, "seeds.txt: line 2: expected one URL per line");
	json_decref(seeds);

	/* the longest URL passes, one byte more does not */
	n = URL_MAX_LEN + 64;
	assert_non_null(longline = malloc(2 * n + 8));
	memset(longline, 'a', URL_MAX_LEN);
	memcpy(longline + URL_MAX_LEN, "\n", 2);
	assert_int_equal(url_lines(longline, &seeds, err, sizeof err), 0);
	assert_int_equal(json_array_size(seeds), 1);
	json_decref(seeds);
	memset(longline, 'a', URL_MAX_LEN + 8);
	memcpy(longline + URL_MAX_LEN + 8, "\nhttp://x/\n", 12);
	assert_int_equal(url_lines(longline, &seeds, err, sizeof err), CRAWL_EINVAL);
	assert_string_equal(err, "seeds.txt: line 1: longer than 8192 bytes");
	json_decref(seeds);
	free(longline);
}

static void test_parse_url_lines_limit(void **state)
{
	char err[256] = "";
	json_t *seeds = json_array();
	FILE *fp;

	(void)state;
	assert_non_null(seeds);
	for (int i = 0; i < CTL_SEEDS_MAX - 1; i++)
		assert_int_equal(json_array_append_new(seeds, json_string("http://a/")), 0);
	assert_non_null(fp = fmemopen((void *)"http://b/\nhttp://c/\n", 20, "r"));
	assert_int_equal(ctl_parse_url_lines(fp, "stdin", seeds, err, sizeof err), CRAWL_EINVAL);
	fclose(fp);
	assert_string_equal(err, "stdin: line 2: more than 100000 URLs");
	assert_int_equal(json_array_size(seeds), CTL_SEEDS_MAX);
	json_decref(seeds);
}

/* ---- ctl_output ---- */

/* Runs fn's output into a string (freed by the caller). */
#define CAPTURE(buf, stmt)                                                                   \
	do {                                                                                 \
		size_t len_;                                                                 \
		FILE *fp = open_memstream(&(buf), &len_);                                    \
		assert_non_null(fp);                                                         \
		stmt;                                                                        \
		assert_int_equal(fclose(fp), 0);                                             \
	} while (0)

static void test_progress_format(void **state)
{
	char buf[256];

	(void)state;
	assert_int_equal(ctl_progress_format(buf, sizeof buf, 10, 3, 7, 12.34, 1), 52);
	assert_string_equal(buf, "[###.......] 3 done, 7 queued, 12.3 pages/s, 1 error");
	ctl_progress_format(buf, sizeof buf, 10, 0, 0, 0, 0);
	assert_string_equal(buf, "[..........] 0 done, 0 queued, 0.0 pages/s, 0 errors");
	ctl_progress_format(buf, sizeof buf, 4, 123, 0, 1e9, 2);
	assert_string_equal(buf, "[####] 123 done, 0 queued, 1000000000.0 pages/s, 2 errors");
	/* 2 of 3 is 66.7 %: rounded down to 6 of 10 */
	ctl_progress_format(buf, sizeof buf, 10, 2, 1, -5, 0);
	assert_string_equal(buf, "[######....] 2 done, 1 queued, 0.0 pages/s, 0 errors");
	ctl_progress_format(buf, sizeof buf, 0, -4, -1, 0.0 / 0.0, 0);
	assert_string_equal(buf, "[.] 0 done, 0 queued, 0.0 pages/s, 0 errors");
	/* a short buffer: cut, terminated, the full length returned */
	assert_int_equal(ctl_progress_format(buf, 8, 3, 1, 2, 0, 0), 45);
	assert_string_equal(buf, "[#..] 1");
}

static void test_table(void **state)
{
	static const char *const headers[] = { "ID", "NAME", "URL" };
	struct ctl_table *t = NULL;
	char *out = NULL;

	(void)state;
	assert_int_equal(ctl_table_new(&t, 3, headers, "rl"), CRAWL_EINVAL);
	assert_null(t);
	assert_int_equal(ctl_table_new(&t, 3, headers, "rlx"), CRAWL_EINVAL);
	assert_int_equal(ctl_table_new(&t, 0, headers, ""), CRAWL_EINVAL);
	assert_int_equal(ctl_table_new(&t, 3, headers, "rll"), 0);
	assert_int_equal(ctl_table_add(t, (const char *[]){ "1", "héllo", "http://a/" }), 0);
	assert_int_equal(ctl_table_add(t, (const char *[]){ "100", NULL, "x\033[2Jy" }), 0);
	CAPTURE(out, assert_int_equal(ctl_table_print(t, fp), 0));
	/* widths in characters (é is one), the last column never padded */
	assert_string_equal(out, " ID  NAME   URL\n"
				 "  1  héllo  http://a/\n"
				 "100  -      x?[2Jy\n");
	free(out);
	ctl_table_free(t);
	ctl_table_free(NULL);
}

static void test_value_text(void **state)
{
	char buf[64];
	json_t *v;

	(void)state;
#define VT(json, want)                                                                       \
	do {                                                                                 \
		v = json_loads(json, JSON_DECODE_ANY, NULL);                                 \
		assert_non_null(v);                                                          \
		assert_string_equal(ctl_value_text(v, buf, sizeof buf), want);               \
		json_decref(v);                                                              \
	} while (0)
	VT("\"text\"", "text");
	VT("-42", "-42");
	VT("2.0", "2");
	VT("0.125", "0.125");
	VT("12.25", "12.25");
	VT("1e-9", "0");
	VT("-0.0001", "0");
	VT("true", "true");
	VT("false", "false");
	VT("null", "-");
	VT("[\"a\", 1, 2.5]", "a, 1, 2.5");
	VT("[]", "");
	VT("{\"a\": [1]}", "{\"a\":[1]}");
#undef VT
	v = json_string("0123456789");
	assert_string_equal(ctl_value_text(v, buf, 5), "0123");
	json_decref(v);
}

static void test_kv_print(void **state)
{
	static const char *const order[] = { "state", "job", "absent", NULL };
	json_t *obj = json_loads("{\"job\": 4, \"extra\": [\"a\", \"b\"], \"state\": "
				 "\"running\", \"by\": {\"x\": 1, \"long_name\": 2}, "
				 "\"msg\": \"bell\\u0007\"}",
				 0, NULL);
	char *out = NULL;

	(void)state;
	assert_non_null(obj);
	CAPTURE(out, assert_int_equal(ctl_kv_print(fp, obj, order), 0));
	assert_string_equal(out, "state:        running\n"
				 "job:          4\n"
				 "extra:        a, b\n"
				 "by.x:         1\n"
				 "by.long_name: 2\n"
				 "msg:          bell?\n");
	free(out);
	out = NULL;
	CAPTURE(out, assert_int_equal(ctl_kv_print(fp, json_object_get(obj, "by"), NULL), 0));
	assert_string_equal(out, "x:         1\nlong_name: 2\n");
	free(out);
	json_decref(obj);
}

static void test_text_and_colours(void **state)
{
	char *out = NULL;
	int m, s;

	(void)state;
	CAPTURE(out, ctl_text_put(fp, "a\033[31mb\x7f\tc\n"));
	assert_string_equal(out, "a?[31mb??c?");
	free(out);
	out = NULL;
	CAPTURE(out, ctl_text_pad(fp, "é", 3));
	assert_string_equal(out, "é  ");
	free(out);
	assert_int_equal(ctl_text_width("aé€😀"), 4);
	assert_string_equal(ctl_color_level("error"), CTL_COLOR_RED);
	assert_string_equal(ctl_color_level("warning"), CTL_COLOR_YELLOW);
	assert_string_equal(ctl_color_level("debug"), CTL_COLOR_DIM);
	assert_string_equal(ctl_color_level("info"), "");
	assert_string_equal(ctl_color_level("notice"), "");
	assert_string_equal(ctl_color_level(NULL), "");
	/* a terminal gets colours unless NO_COLOR is set and not empty */
	assert_int_equal(openpty(&m, &s, NULL, NULL, NULL), 0);
	unsetenv("NO_COLOR");
	assert_true(ctl_color_enabled(s));
	setenv("NO_COLOR", "", 1);
	assert_true(ctl_color_enabled(s));
	setenv("NO_COLOR", "1", 1);
	assert_false(ctl_color_enabled(s));
	unsetenv("NO_COLOR");
	close(m);
	close(s);
	assert_false(ctl_color_enabled(-1));
}

/* ---- ctl_conn, against the fake crawld ---- */

static void test_conn_stream(void **state)
{
	static const char *const replies[] = {
		"{\"id\":7,\"item\":{\"n\":0}}\n{\"id\":$ID,\"item\":{\"n\":1}}\n"
		"{\"id\":$ID,\"item\":{\"n\":2}}\n{\"id\":$ID,\"ok\":true,\"result\":{\"count\":2}}",
		"{\"id\":$ID,\"ok\":false,\"error\":{\"code\":\"not_found\",\"message\":\"no job 9\"}}",
		"{\"id\":$ID,\"ok\":false}",
		"{\"id\":$ID,\"ok\":true}",
	};
	struct fake *f = fake_new();
	struct ctl_conn *c = NULL;
	struct ctl_reply r = { 0 };
	json_t *args = json_pack("{s:i}", "job", 9);
	char err[128];

	(void)state;
	fake_start(f, replies, sizeof replies / sizeof replies[0]);
	assert_int_equal(ctl_conn_open(&c, fake_socket(f), err, sizeof err), 0);
	assert_int_equal(ctl_conn_send(c, "results", args, 1000), 0);
	for (int i = 1; i <= 2; i++) {
		assert_int_equal(ctl_conn_next(c, 5000, &r), 0);
		assert_int_equal(r.kind, CTL_REPLY_ITEM);
		assert_int_equal(json_integer_value(json_object_get(r.value, "n")), i);
		ctl_reply_clear(&r);
	}
	assert_int_equal(ctl_conn_next(c, 5000, &r), 0);
	assert_int_equal(r.kind, CTL_REPLY_OK);
	assert_int_equal(json_integer_value(json_object_get(r.value, "count")), 2);
	ctl_reply_clear(&r);
	/* the second request on the same connection has id 2 */
	assert_int_equal(ctl_conn_send(c, "status", args, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), 0);
	assert_int_equal(r.kind, CTL_REPLY_ERROR);
	assert_string_equal(r.code, "not_found");
	assert_string_equal(r.message, "no job 9");
	ctl_reply_clear(&r);
	/* an error without details, a result-less ok */
	assert_int_equal(ctl_conn_send(c, "status", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), 0);
	assert_string_equal(r.code, "unknown");
	assert_string_equal(r.message, "");
	ctl_reply_clear(&r);
	assert_int_equal(ctl_conn_send(c, "status", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), 0);
	assert_int_equal(r.kind, CTL_REPLY_OK);
	assert_true(json_is_null(r.value));
	ctl_reply_clear(&r);
	ctl_reply_clear(&r);
	ctl_conn_free(c);
	assert_int_equal(fake_nreqs(f), 4);
	assert_string_equal(json_string_value(json_object_get(fake_req(f, 0), "cmd")), "results");
	assert_int_equal(json_integer_value(json_object_get(fake_req(f, 1), "id")), 2);
	assert_null(json_object_get(fake_req(f, 2), "args"));
	json_decref(args);
	fake_free(f);
}

static void test_conn_failures(void **state)
{
	static const char *const replies[] = { "@HANG", "@CLOSE", "@TORN", "{\"id\":$ID,\"it",
					       "{\"id\":$ID,\"ok\":true}\n@HANG" };
	struct fake *f = fake_new();
	struct ctl_conn *c = NULL;
	struct ctl_reply r = { 0 };
	char err[128] = "";
	char longpath[200];

	(void)state;
	memset(longpath, 'a', sizeof longpath - 1);
	longpath[sizeof longpath - 1] = '\0';
	assert_int_equal(ctl_conn_open(&c, longpath, err, sizeof err), CRAWL_EINVAL);
	assert_int_equal(ctl_conn_open(&c, "", err, sizeof err), CRAWL_EINVAL);
	assert_int_equal(ctl_conn_open(&c, fake_socket(f), err, sizeof err), CRAWL_ECONNECT);
	assert_string_equal(err, "No such file or directory");
	assert_null(c);
	fake_start(f, replies, sizeof replies / sizeof replies[0]);
	/* no answer: the timeout */
	assert_int_equal(ctl_conn_open(&c, fake_socket(f), err, sizeof err), 0);
	assert_int_equal(ctl_conn_send(c, "stats", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 50, &r), CRAWL_ETIMEDOUT);
	assert_string_equal(ctl_conn_errmsg(c), "timed out waiting for crawld's reply");
	assert_null(r.line);
	ctl_conn_free(c);
	/* closed before any reply, then in the middle of a line */
	assert_int_equal(ctl_conn_open(&c, fake_socket(f), err, sizeof err), 0);
	assert_int_equal(ctl_conn_send(c, "stats", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), CRAWL_ERESET);
	ctl_conn_free(c);
	assert_int_equal(ctl_conn_open(&c, fake_socket(f), err, sizeof err), 0);
	assert_int_equal(ctl_conn_send(c, "stats", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), CRAWL_ERESET);
	assert_string_equal(ctl_conn_errmsg(c),
			    "connection closed by crawld in the middle of a reply line");
	ctl_conn_free(c);
	/* a line that is not JSON; the connection stays usable after it */
	assert_int_equal(ctl_conn_open(&c, fake_socket(f), err, sizeof err), 0);
	assert_int_equal(ctl_conn_send(c, "stats", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), CRAWL_EPROTO);
	assert_true(strncmp(ctl_conn_errmsg(c), "bad reply from crawld: ", 23) == 0);
	assert_int_equal(ctl_conn_send(c, "stats", NULL, 1000), 0);
	assert_int_equal(ctl_conn_next(c, 5000, &r), 0);
	assert_int_equal(r.kind, CTL_REPLY_OK);
	ctl_reply_clear(&r);
	ctl_conn_free(c);
	fake_free(f);
}

/* ---- ctl_signal ---- */

static void test_signal(void **state)
{
	pid_t pid;
	int st;

	(void)state;
	assert_int_equal(ctl_signal_sleep(1), 0);
	assert_false(ctl_signal_interrupted());
	/* in a child: the handler stays installed and SIGINT blocked */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int ok = ctl_signal_init() == 0 && ctl_signal_init() == 0;

		ok = ok && raise(SIGINT) == 0;         /* blocked: pending, not lost */
		ok = ok && !ctl_signal_interrupted();
		ok = ok && ctl_signal_sleep(60000) == CRAWL_ECANCELLED;
		ok = ok && ctl_signal_interrupted();
		ok = ok && ctl_signal_poll(NULL, 0, -1) == CRAWL_ECANCELLED;
		_exit(ok ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_int),
		cmocka_unit_test(test_parse_job),
		cmocka_unit_test(test_parse_since),
		cmocka_unit_test(test_parse_url_lines),
		cmocka_unit_test(test_parse_url_lines_limit),
		cmocka_unit_test(test_progress_format),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_value_text),
		cmocka_unit_test(test_kv_print),
		cmocka_unit_test(test_text_and_colours),
		cmocka_unit_test(test_conn_stream),
		cmocka_unit_test(test_conn_failures),
		cmocka_unit_test(test_signal),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
