/* The real crawld driven by the real crawlctl, as a user would: submit, list, status, wait,
 * results in every order and the JSON-lines file against the test server; cancel, pause and
 * resume on a slow simulated web; crawlctl's usage errors, the daemon's errors and an absent
 * daemon; SIGHUP reloads and --check-config. Each test runs its own crawld on a scratch
 * state folder and socket (tests/dharness.h) and ends by stopping it with SIGTERM: it must
 * exit 0 with no sanitizer report. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dharness.h"
#include "tfiles.h"

#define WAIT_MS 20000 /* bound of every wait for a job; the crawls take well under a second */

static int setup(void **state)
{
	*state = calloc(1, sizeof(struct dh_daemon));
	return *state ? 0 : -1;
}

static int teardown(void **state)
{
	dh_destroy(*state);
	free(*state);
	return 0;
}

static void start(struct dh_daemon *d, const char *const *extra)
{
	assert_int_equal(dh_init(d, extra), 0);
	assert_int_equal(dh_start(d), 0);
}

static void start_web(struct dh_daemon *d, const char *pages)
{
	const char *args[] = {"--pages", pages, NULL};
	assert_int_equal(tsupport_server_start(&d->web, args), 0);
}

/* ---- ordering of results ---- */

static const char *item_url(json_t *a, size_t i)
{
	return json_string_value(json_object_get(json_array_get(a, i), "url"));
}

/* The sort key of a result for KEY (status, time, size), as a number. */
static double item_key(json_t *item, const char *key)
{
	const char *field = strcmp(key, "status") == 0 ? "status"
	                    : strcmp(key, "time") == 0 ? "fetch_ms"
	                                               : "bytes";
	return json_number_value(json_object_get(item, field));
}

/* -1 if a is in KEY order (ascending, ties by url), else the first index out of order. */
static long first_out_of_order(json_t *a, const char *key)
{
	for (size_t i = 1; i < json_array_size(a); i++) {
		int by_url = strcmp(item_url(a, i - 1), item_url(a, i));
		if (strcmp(key, "url") != 0) {
			double k0 = item_key(json_array_get(a, i - 1), key);
			double k1 = item_key(json_array_get(a, i), key);
			if (k0 != k1) {
				if (k0 > k1)
					return (long)i;
				continue;
			}
		}
		if (by_url >= 0)
			return (long)i;
	}
	return -1;
}

/* The table's rows (after the header) name the URLs of want, in want's order. */
static void assert_table_matches(const char *table, json_t *want)
{
	const char *p = strchr(table, '\n');
	size_t i = 0;
	assert_non_null(p);
	assert_true(strncmp(table, "STATUS", 6) == 0);
	for (p++; *p; i++) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		const char *sp = nl;
		while (sp > p && sp[-1] != ' ')
			sp--;
		assert_true(i < json_array_size(want));
		const char *url = item_url(want, i);
		assert_int_equal((size_t)(nl - sp), strlen(url));
		assert_memory_equal(sp, url, strlen(url));
		p = nl + 1;
	}
	assert_int_equal(i, json_array_size(want));
}

/* Every URL of the 200-page site, plus the two fault seeds, exactly once. */
static void assert_site_urls(json_t *a, const char *base)
{
	char url[128];
	assert_int_equal(json_array_size(a), 202);
	for (int k = 0; k < 202; k++) {
		if (k == 0)
			snprintf(url, sizeof url, "%s/", base);
		else if (k < 200)
			snprintf(url, sizeof url, "%s/page/%d", base, k);
		else
			snprintf(url, sizeof url, "%s/status/%s", base, k == 200 ? "404" : "500");
		int seen = 0;
		for (size_t i = 0; i < json_array_size(a); i++)
			seen += strcmp(item_url(a, i), url) == 0;
		if (seen != 1)
			fail_msg("%s appears %d times", url, seen);
	}
}

/* Lines of text, each starting with prefix; returns the last one (inside text). */
static const char *check_wait_lines(const char *text, const char *prefix)
{
	const char *last = NULL;
	assert_null(strchr(text, '\033')); /* no colours or progress bar into a pipe */
	assert_null(strchr(text, '\r'));
	for (const char *p = text; *p;) {
		assert_true(strncmp(p, prefix, strlen(prefix)) == 0);
		last = p;
		p = strchr(p, '\n');
		assert_non_null(p);
		p++;
	}
	assert_non_null(last);
	return last;
}

/* status (of the daemon) and stats carry the fields docs/protocol.md lists, with one job
 * done of 200 pages. */
static void assert_daemon_counters(struct dh_daemon *d)
{
	char *out = NULL;
	assert_int_equal(dh_ctl(d, 0, &out, "--json", "status", NULL), 0);
	json_t *st = json_loads(out, 0, NULL);
	free(out);
	assert_string_equal(json_string_value(json_object_get(st, "version")), "0.1.0");
	assert_true(json_is_number(json_object_get(st, "uptime")));
	assert_int_equal(json_integer_value(json_object_get(st, "running")), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "queued")), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "jobs")), 1);
	assert_true(json_integer_value(json_object_get(st, "clients")) >= 1);
	json_decref(st);
	assert_int_equal(dh_ctl(d, 0, &out, "--json", "stats", NULL), 0);
	st = json_loads(out, 0, NULL);
	free(out);
	assert_int_equal(json_integer_value(json_object_get(st, "pages_total")), 200);
	assert_true(json_is_number(json_object_get(st, "pages_per_s")));
	json_t *jobs = json_object_get(st, "jobs");
	assert_int_equal(json_integer_value(json_object_get(jobs, "done")), 1);
	assert_int_equal(json_integer_value(json_object_get(jobs, "running")), 0);
	assert_true(json_integer_value(json_object_get(st, "rss_bytes")) > 1000000);
	assert_true(json_integer_value(json_object_get(st, "clients")) >= 1);
	assert_true(json_is_number(json_object_get(st, "uptime")));
	json_decref(st);
}

/* crawlctl logs with filters: the job's notices end with its totals; its warnings are
 * exactly the two failed seeds. */
static void assert_job_logs(struct dh_daemon *d, const char *base)
{
	char *out = NULL;
	assert_int_equal(
	    dh_ctl(d, 0, &out, "logs", "--job", "1", "--level", "notice", "--json", NULL), 0);
	json_t *a = dh_json_lines(out), *r;
	size_t i;
	free(out);
	assert_true(json_array_size(a) >= 2);
	json_array_foreach(a, i, r)
	{
		const char *lv = json_string_value(json_object_get(r, "level"));
		assert_int_equal(json_integer_value(json_object_get(r, "job")), 1);
		assert_true(strcmp(lv, "notice") == 0 || strcmp(lv, "warning") == 0 ||
		            strcmp(lv, "error") == 0);
	}
	r = json_array_get(a, json_array_size(a) - 1);
	assert_true(strncmp(json_string_value(json_object_get(r, "message")),
	                    "job done: 200 pages, 2 errors,", 30) == 0);
	json_decref(a);
	assert_int_equal(dh_ctl(d, 0, &out, "logs", "--level", "warning", "--json", NULL), 0);
	a = dh_json_lines(out);
	free(out);
	assert_int_equal(json_array_size(a), 2);
	char url[2][96];
	snprintf(url[0], sizeof url[0], "%s/status/404", base);
	snprintf(url[1], sizeof url[1], "%s/status/500", base);
	json_array_foreach(a, i, r)
	{
		const char *u = json_string_value(json_object_get(r, "url"));
		assert_non_null(u);
		assert_true(strcmp(u, url[0]) == 0 || strcmp(u, url[1]) == 0);
	}
	json_decref(a);
	assert_int_equal(dh_ctl(d, 0, &out, "logs", "--grep", "status 404", "--json", NULL), 0);
	a = dh_json_lines(out);
	free(out);
	assert_int_equal(json_array_size(a), 1);
	json_decref(a);
}

static void test_submit_wait_results(void **state)
{
	struct dh_daemon *d = *state;
	char seed[3][96], *out = NULL;
	start(d, NULL);
	start_web(d, "200");
	snprintf(seed[0], sizeof seed[0], "%s/", d->web.base);
	snprintf(seed[1], sizeof seed[1], "%s/status/404", d->web.base);
	snprintf(seed[2], sizeof seed[2], "%s/status/500", d->web.base);
	int64_t id = dh_submit(d, seed[0], seed[1], seed[2], "--depth", "10", "--retries", "0",
	                       "--allow-private", NULL);
	assert_int_equal(id, 1);

	assert_int_equal(dh_ctl(d, 0, &out, "list", NULL), 0);
	assert_true(strncmp(out, "ID  STATE", 9) == 0);
	assert_non_null(strstr(out, seed[0]));
	free(out);

	assert_int_equal(dh_ctl(d, 0, &out, "wait", "1", NULL), 0);
	const char *last = check_wait_lines(out, "job 1: ");
	assert_true(strncmp(last, "job 1: done, 200 pages, 2 errors,", 33) == 0);
	free(out);

	assert_int_equal(dh_ctl(d, 0, &out, "status", "1", NULL), 0);
	assert_non_null(strstr(out, "state:     done\n"));
	assert_non_null(strstr(out, "pages:     200\n"));
	assert_non_null(strstr(out, "errors:    2\n"));
	free(out);
	json_t *st = dh_job_status(d, 1);
	assert_int_equal(json_integer_value(json_object_get(st, "queued")), 0);
	assert_int_equal(json_integer_value(json_object_get(st, "in_flight")), 0);
	json_decref(st);

	assert_daemon_counters(d);

	static const char *const sorts[] = {"url", "status", "time", "size"};
	for (size_t s = 0; s < 4; s++) {
		json_t *a = dh_results(d, 1, sorts[s]);
		assert_non_null(a);
		assert_site_urls(a, d->web.base);
		assert_int_equal(first_out_of_order(a, sorts[s]), -1);
		assert_int_equal(dh_ctl(d, 0, &out, "results", "1", "--sort-by", sorts[s], NULL),
		                 0);
		assert_table_matches(out, a);
		free(out);
		json_decref(a);
	}
	/* The status order puts the 200s first, then 404, then 500. */
	json_t *a = dh_results(d, 1, "status");
	assert_int_equal(item_key(json_array_get(a, 200), "status"), 404);
	assert_int_equal(item_key(json_array_get(a, 201), "status"), 500);
	json_decref(a);

	json_t *file = dh_results_file(d, 1);
	assert_non_null(file);
	assert_site_urls(file, d->web.base);
	json_decref(file);
	assert_job_logs(d, d->web.base);
	assert_true(dh_stop_clean(d));
}

/* results without --sort-by lists a job's results in the order it was submitted with. */
static void test_results_default_order(void **state)
{
	struct dh_daemon *d = *state;
	char seed[96], *out = NULL;
	start(d, NULL);
	start_web(d, "60");
	snprintf(seed, sizeof seed, "%s/", d->web.base);
	int64_t id =
	    dh_submit(d, seed, "--depth", "10", "--sort-by", "size", "--allow-private", NULL);
	assert_true(id > 0);
	assert_true(dh_wait_state(d, id, "done", WAIT_MS));
	json_t *a = dh_results(d, id, NULL);
	assert_non_null(a);
	assert_int_equal(json_array_size(a), 60);
	assert_int_equal(first_out_of_order(a, "size"), -1);
	assert_int_equal(dh_ctl(d, 0, &out, "results", "1", NULL), 0);
	assert_table_matches(out, a);
	free(out);
	json_decref(a);
	assert_true(dh_stop_clean(d));
}

/* ---- cancel, pause, resume ---- */

#define SLOW_SIM "pages=100000,latency=fixed:50,offsite=0,broken=0"

static void test_cancel(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "limits.max_jobs_running=1", NULL};
	char *out = NULL;
	start(d, extra);
	int64_t run = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, "--depth", "20",
	                        "--concurrency", "8", "--max-pages", "0", NULL);
	int64_t queued = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, NULL);
	assert_int_equal(run, 1);
	assert_int_equal(queued, 2);
	assert_true(dh_wait_int(d, run, "pages", 10, WAIT_MS));
	assert_true(dh_wait_state(d, queued, "queued", 10));

	/* A queued job is cancelled at once; the running one goes on. */
	assert_int_equal(dh_ctl(d, 0, &out, "cancel", "2", NULL), 0);
	free(out);
	assert_true(dh_wait_state(d, queued, "cancelled", 10));
	int64_t before = dh_job_int(d, run, "pages");
	assert_true(dh_wait_int(d, run, "pages", before + 5, WAIT_MS));

	assert_int_equal(dh_ctl(d, 0, &out, "cancel", "1", NULL), 0);
	free(out);
	assert_true(dh_wait_state(d, run, "cancelled", WAIT_MS));
	assert_int_equal(dh_ctl(d, 0, &out, "wait", "1", NULL), 1);
	assert_non_null(strstr(out, "cancelled"));
	free(out);
	assert_true(dh_wait_int(d, run, "in_flight", 0, WAIT_MS));
	int64_t pages = dh_job_int(d, run, "pages");
	assert_true(pages >= 10 && pages < 100000);

	/* Cancelling or resuming a cancelled job is the daemon's bad_state. */
	assert_int_equal(dh_ctl(d, 1, &out, "cancel", "1", NULL), 1);
	assert_non_null(strstr(out, "bad_state"));
	free(out);
	assert_int_equal(dh_ctl(d, 1, &out, "resume", "2", NULL), 1);
	assert_non_null(strstr(out, "bad_state"));
	free(out);
	/* Its results stay, one line each in the file too. */
	json_t *a = dh_results(d, run, NULL), *file = dh_results_file(d, run);
	assert_non_null(a);
	assert_non_null(file);
	assert_int_equal(json_array_size(a), (size_t)pages);
	assert_int_equal(json_array_size(file), (size_t)pages);
	json_decref(a);
	json_decref(file);
	assert_int_equal(dh_job_int(d, run, "pages"), pages);
	assert_true(dh_stop_clean(d));
}

static void test_pause_resume(void **state)
{
	struct dh_daemon *d = *state;
	char *out = NULL;
	start(d, NULL);
	int64_t id =
	    dh_submit(d, "sim://h0.sim/", "--sim", "pages=1000,latency=fixed:10,offsite=0,broken=0",
	              "--depth", "20", "--concurrency", "8", NULL);
	assert_int_equal(id, 1);
	assert_true(dh_wait_int(d, id, "pages", 20, WAIT_MS));
	assert_int_equal(dh_ctl(d, 0, &out, "pause", "1", NULL), 0);
	free(out);
	assert_true(dh_wait_state(d, id, "paused", 10));
	/* Fetches under way finish; after that the count must not move. */
	for (long long end = dh_now_ms() + WAIT_MS; dh_now_ms() < end; dh_sleep_ms(5))
		if (dh_job_int(d, id, "in_flight") == 0)
			break;
	assert_int_equal(dh_job_int(d, id, "in_flight"), 0);
	int64_t paused = dh_job_int(d, id, "pages");
	assert_true(paused >= 20 && paused < 1000);
	for (int i = 0; i < 6; i++) {
		dh_sleep_ms(60);
		assert_int_equal(dh_job_int(d, id, "pages"), paused);
	}
	assert_int_equal(dh_ctl(d, 0, &out, "list", NULL), 0);
	assert_non_null(strstr(out, "paused"));
	free(out);
	assert_int_equal(dh_ctl(d, 1, &out, "pause", "1", NULL), 1);
	assert_non_null(strstr(out, "bad_state"));
	free(out);

	assert_int_equal(dh_ctl(d, 0, &out, "resume", "1", NULL), 0);
	free(out);
	assert_int_equal(dh_ctl(d, 0, &out, "wait", "1", NULL), 0);
	free(out);
	assert_int_equal(dh_job_int(d, id, "pages"), 1000);
	json_t *a = dh_results(d, id, NULL), *file = dh_results_file(d, id);
	assert_int_equal(json_array_size(a), 1000);
	assert_int_equal(json_array_size(file), 1000);
	assert_int_equal(first_out_of_order(a, "url"), -1); /* no duplicate either */
	json_decref(a);
	json_decref(file);
	assert_int_equal(dh_ctl(d, 1, &out, "resume", "1", NULL), 1);
	assert_non_null(strstr(out, "bad_state"));
	free(out);
	assert_true(dh_stop_clean(d));
}

/* One job at a time: the next to start is the highest priority, then the oldest. */
static void test_priority(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "limits.max_jobs_running=1", NULL};
	char *out = NULL;
	start(d, extra);
	int64_t a = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, NULL);
	assert_true(dh_wait_state(d, a, "running", WAIT_MS));
	int64_t b = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, NULL);
	int64_t c = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, "--priority", "5", NULL);
	int64_t e = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, "--priority", "5", NULL);
	int64_t f = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, "--priority", "-3", NULL);
	const int64_t order[] = {a, c, e, b, f};
	for (int i = 0; i < 5; i++) {
		char id[32];
		assert_true(dh_wait_state(d, order[i], "running", WAIT_MS));
		for (int k = i + 1; k < 5; k++)
			assert_true(dh_wait_state(d, order[k], "queued", 1));
		snprintf(id, sizeof id, "%lld", (long long)order[i]);
		assert_int_equal(dh_ctl(d, 0, &out, "cancel", id, NULL), 0);
		free(out);
		assert_true(dh_wait_state(d, order[i], "cancelled", WAIT_MS));
	}
	assert_true(dh_stop_clean(d));
}

/* ---- crawlctl's errors ---- */

static void ctl_expect(struct dh_daemon *d, int code, const char *text, const char *a0,
                       const char *a1, const char *a2, const char *a3)
{
	char *out = NULL;
	int rc = dh_ctl(d, 1, &out, a0, a1, a2, a3, NULL);
	if (rc != code || !out || !strstr(out, text))
		fail_msg("crawlctl %s %s: exit %d (want %d), output '%s' (want '%s')", a0,
		         a1 ? a1 : "", rc, code, out ? out : "", text);
	free(out);
}

static void test_ctl_errors(void **state)
{
	struct dh_daemon *d = *state;
	char *out = NULL;
	start(d, NULL);
	/* Usage errors: exit 2, and nothing reaches the daemon. */
	ctl_expect(d, 2, "expected a command", NULL, NULL, NULL, NULL);
	ctl_expect(d, 2, "unknown command 'frobnicate'", "frobnicate", NULL, NULL, NULL);
	ctl_expect(d, 2, "expected at least one URL", "submit", NULL, NULL, NULL);
	ctl_expect(d, 2, "--depth", "submit", "http://127.0.0.1/", "--depth", "abc");
	ctl_expect(d, 2, "unsupported URL scheme", "submit", "ftp://x/", NULL, NULL);
	ctl_expect(d, 2, "expected a job id", "status", "x", NULL, NULL);
	ctl_expect(d, 2, "--sort-by", "results", "1", "--sort-by", "color");
	ctl_expect(d, 2, "unknown option '--bogus'", "status", "--bogus", NULL, NULL);
	/* The daemon's errors: exit 1 with its code and message. */
	ctl_expect(d, 1, "not_found: no job 999", "status", "999", NULL, NULL);
	ctl_expect(d, 1, "not_found: no job 999", "wait", "999", NULL, NULL);
	ctl_expect(d, 1, "not_found: no job 7", "cancel", "7", NULL, NULL);
	ctl_expect(d, 1, "bad_field: args.seeds[0]: a sim:// seed needs args.sim", "submit",
	           "sim://h0.sim/", NULL, NULL);
	ctl_expect(d, 1, "bad_field: args.sim: pages", "submit", "sim://h0.sim/", "--sim",
	           "pages=abc");
	assert_int_equal(dh_ctl(d, 0, &out, "list", NULL), 0);
	assert_null(strchr(strchr(out, '\n') + 1, '\n')); /* only the header: nothing stored */
	free(out);
	/* A failed results request prints no table. */
	assert_int_equal(dh_ctl(d, 1, &out, "results", "999", NULL), 1);
	assert_string_equal(out, "crawlctl: not_found: no job 999\n");
	free(out);

	assert_true(dh_stop_clean(d));
	/* No daemon: exit 69, naming the socket. */
	ctl_expect(d, 69, d->sock, "status", NULL, NULL, NULL);
	const char *argv[] = {"crawlctl", "--socket", "/nonexistent/crawld.sock", "list", NULL};
	assert_int_equal(dh_run(argv, 1, &out), 69);
	assert_non_null(strstr(out, "/nonexistent/crawld.sock"));
	free(out);
}

/* ---- configuration ---- */

static void write_config(const char *path, const char *limits)
{
	char text[512];
	snprintf(text, sizeof text, "[daemon]\nlog_level = info\n\n[limits]\n%s\n", limits);
	assert_int_equal(tfiles_write(path, text, 0644), 0);
}

/* How many log records hold text (crawlctl logs --grep). */
static int log_count(struct dh_daemon *d, const char *text)
{
	char *out = NULL;
	int n = 0;
	if (dh_ctl(d, 0, &out, "logs", "--grep", text, NULL) == 0)
		for (const char *p = out; (p = strstr(p, text)); p++)
			n++;
	free(out);
	return n;
}

static int wait_log(struct dh_daemon *d, const char *text, int n)
{
	for (long long end = dh_now_ms() + WAIT_MS; dh_now_ms() < end; dh_sleep_ms(10))
		if (log_count(d, text) >= n)
			return 1;
	return 0;
}

static void test_sighup_reload(void **state)
{
	struct dh_daemon *d = *state;
	char conf[DH_PATH_MAX + 16];
	assert_int_equal(dh_init(d, NULL), 0);
	snprintf(conf, sizeof conf, "%s/crawld.conf", d->dir);
	const char *extra[] = {"-c", conf, NULL};
	assert_int_equal(dh_add_args(d, extra), 0);
	write_config(conf, "max_jobs_running = 16");
	assert_int_equal(dh_start(d), 0);

	/* One job at a time from now on: a second job waits queued. */
	write_config(conf, "max_jobs_running = 1");
	assert_int_equal(kill(d->pid, SIGHUP), 0);
	assert_true(wait_log(d, "configuration reloaded", 1));
	int64_t a = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, NULL);
	int64_t b = dh_submit(d, "sim://h0.sim/", "--sim", SLOW_SIM, NULL);
	assert_true(dh_wait_state(d, a, "running", WAIT_MS));
	assert_true(dh_wait_state(d, b, "queued", 10));

	/* A configuration with errors is refused; the old one stays. */
	write_config(conf, "max_jobs_running = lots");
	assert_int_equal(kill(d->pid, SIGHUP), 0);
	assert_true(wait_log(d, "has errors; the running configuration is kept", 1));
	assert_true(dh_wait_state(d, b, "queued", 10));

	/* Back to 16: the queued job starts. */
	write_config(conf, "max_jobs_running = 16");
	assert_int_equal(kill(d->pid, SIGHUP), 0);
	assert_true(wait_log(d, "configuration reloaded", 2));
	assert_true(dh_wait_state(d, b, "running", WAIT_MS));
	assert_true(dh_stop_clean(d));
}

static void test_check_config(void **state)
{
	struct dh_daemon *d = *state;
	char good[DH_PATH_MAX + 16], bad[DH_PATH_MAX + 16], *out = NULL, *crawld;
	assert_int_equal(dh_init(d, NULL), 0);
	snprintf(good, sizeof good, "%s/good.conf", d->dir);
	snprintf(bad, sizeof bad, "%s/bad.conf", d->dir);
	assert_int_equal(
	    tfiles_write(good, "[daemon]\nlog_level = debug\n[crawl]\ndepth = 5\n", 0644), 0);
	assert_int_equal(tfiles_write(bad,
	                              "[daemon]\nlog_level = loud\n[limits]\n"
	                              "max_jobs_running = 0\n[crawl]\nfrobnicate = 1\n",
	                              0644),
	                 0);
	assert_non_null(crawld = tsupport_build_path("crawld"));
	const char *ok_argv[] = {crawld, "--check-config", "-c", good, NULL};
	assert_int_equal(dh_run(ok_argv, 1, &out), 0);
	assert_string_equal(out, "configuration OK\n");
	free(out);
	const char *bad_argv[] = {crawld, "--check-config", "-c", bad, NULL};
	assert_int_equal(dh_run(bad_argv, 1, &out), 1);
	char where[DH_PATH_MAX + 32];
	static const int lines[] = {2, 4, 6};
	for (size_t i = 0; i < 3; i++) {
		snprintf(where, sizeof where, "%s:%d:", bad, lines[i]);
		if (!strstr(out, where))
			fail_msg("no error at %s in:\n%s", where, out);
	}
	assert_null(strstr(out, "configuration OK"));
	free(out);
	free(crawld);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_submit_wait_results, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_results_default_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pause_resume, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_priority, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ctl_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sighup_reload, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_check_config, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
