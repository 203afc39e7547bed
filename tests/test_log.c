/* daemon/log: records at or above the level reach the JSON-lines file
 * (rotated by size), the store and live subscribers; lower ones reach none. */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"
#include "store.h"
#include "tfiles.h"

struct seen_recs {
	int n;
	char last[256];
	int64_t last_job;
};

static void on_record(void *arg, const struct dlog_record *r)
{
	struct seen_recs *s = arg;
	s->n++;
	snprintf(s->last, sizeof s->last, "%s", r->message);
	s->last_job = r->job;
}

static int count_lines(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	if (tfiles_read(path, &text, &len) != 0)
		return -1;
	int n = 0;
	for (size_t i = 0; i < len; i++)
		n += text[i] == '\n';
	free(text);
	return n;
}

static void open_log(struct dlog **l, const char *dir, int level, int64_t max_bytes)
{
	struct dlog_opts o = {dir, level, max_bytes, 2, 0};
	char err[256];
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(dlog_open(l, &o, err, sizeof err), 0);
}

static void test_file_json_lines(void **state)
{
	(void)state;
	char dir[128], path[256];
	struct dlog *l;
	assert_int_equal(tfiles_mkdtemp(dir, sizeof dir, "log"), 0);
	open_log(&l, dir, LOG_INFO, 0);
	dlog(l, LOG_INFO, 42, "http://a/x", 0, "fetched %d", 200);
	dlog(l, LOG_WARNING, 42, NULL, CRAWL_ETIMEDOUT, "failed");
	dlog(l, LOG_DEBUG, 42, NULL, 0, "below the level");
	dlog_close(l);
	snprintf(path, sizeof path, "%s/crawld.log", dir);
	assert_int_equal(count_lines(path), 2);
	char *text = NULL;
	size_t len;
	assert_int_equal(tfiles_read(path, &text, &len), 0);
	char *nl = strchr(text, '\n');
	*nl = '\0';
	json_error_t jerr;
	json_t *first = json_loads(text, 0, &jerr), *second = json_loads(nl + 1, 0, &jerr);
	assert_non_null(first);
	assert_non_null(second);
	assert_string_equal(json_string_value(json_object_get(first, "level")), "info");
	assert_int_equal(json_integer_value(json_object_get(first, "job")), 42);
	assert_string_equal(json_string_value(json_object_get(first, "url")), "http://a/x");
	assert_string_equal(json_string_value(json_object_get(first, "message")), "fetched 200");
	assert_true(json_number_value(json_object_get(first, "time")) > 1.7e9);
	assert_string_equal(json_string_value(json_object_get(second, "code")), "ETIMEDOUT");
	assert_string_equal(json_string_value(json_object_get(second, "level")), "warning");
	json_decref(first);
	json_decref(second);
	free(text);
	tfiles_rm_tree(dir);
}

static void test_rotation(void **state)
{
	(void)state;
	char dir[128], path[256];
	struct dlog *l;
	struct stat sb;
	assert_int_equal(tfiles_mkdtemp(dir, sizeof dir, "logrot"), 0);
	open_log(&l, dir, LOG_DEBUG, 1000);
	for (int i = 0; i < 100; i++)
		dlog(l, LOG_INFO, 1, NULL, 0, "record number %d with some padding text", i);
	dlog_close(l);
	snprintf(path, sizeof path, "%s/crawld.log", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size < 1000);
	snprintf(path, sizeof path, "%s/crawld.log.1", dir);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size >= 1000);
	snprintf(path, sizeof path, "%s/crawld.log.2", dir);
	assert_int_equal(stat(path, &sb), 0);
	/* keep = 2: no third generation */
	snprintf(path, sizeof path, "%s/crawld.log.3", dir);
	assert_int_not_equal(stat(path, &sb), 0);
	tfiles_rm_tree(dir);
}

static int count_log(void *arg, const struct store_log *r)
{
	int *n = arg;
	(*n)++;
	(void)r;
	return 0;
}

static void test_store_and_subscribers(void **state)
{
	(void)state;
	char dir[128], db[256], err[256];
	struct dlog *l;
	struct store *st;
	struct seen_recs s = {0};
	assert_int_equal(tfiles_mkdtemp(dir, sizeof dir, "logstore"), 0);
	snprintf(db, sizeof db, "%s/crawld.db", dir);
	assert_int_equal(store_open(&st, db, err, sizeof err), 0);
	open_log(&l, NULL, LOG_INFO, 0);
	dlog_set_store(l, st);
	assert_int_equal(dlog_subscribe(l, on_record, &s), 0);
	dlog(l, LOG_NOTICE, 7, NULL, 0, "job started");
	dlog(l, LOG_DEBUG, 7, NULL, 0, "not kept");
	dlog_set_level(l, LOG_DEBUG);
	dlog(l, LOG_DEBUG, 8, NULL, 0, "kept now");
	dlog_unsubscribe(l, on_record, &s);
	dlog(l, LOG_ERR, 9, NULL, 0, "after unsubscribe");
	assert_int_equal(s.n, 2);
	assert_string_equal(s.last, "kept now");
	assert_int_equal(s.last_job, 8);
	struct store_log_filter f = {0};
	int n = 0;
	assert_int_equal(store_logs_iter(st, &f, count_log, &n), 0);
	assert_int_equal(n, 3);
	f.job = 7;
	n = 0;
	assert_int_equal(store_logs_iter(st, &f, count_log, &n), 0);
	assert_int_equal(n, 1);
	dlog_close(l);
	store_close(st);
	tfiles_rm_tree(dir);
}

static void test_levels_and_errors(void **state)
{
	(void)state;
	struct dlog *l;
	char err[256];
	struct dlog_opts o = {"/nonexistent/dir/for/crawld", LOG_INFO, 0, 1, 0};
	unsetenv("JOURNAL_STREAM");
	assert_int_equal(dlog_open(&l, &o, err, sizeof err), CRAWL_ESYS);
	assert_non_null(strstr(err, "/nonexistent/dir/for/crawld/crawld.log"));
	assert_int_equal(dlog_level_parse("warning"), LOG_WARNING);
	assert_int_equal(dlog_level_parse("error"), LOG_ERR);
	assert_int_equal(dlog_level_parse("debug"), LOG_DEBUG);
	assert_int_equal(dlog_level_parse("loud"), -1);
	assert_string_equal(dlog_level_name(LOG_NOTICE), "notice");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_json_lines),
		cmocka_unit_test(test_rotation),
		cmocka_unit_test(test_store_and_subscribers),
		cmocka_unit_test(test_levels_and_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
