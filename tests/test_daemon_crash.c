/* Stopping and crashing the real crawld in the middle of a crawl: SIGTERM drains the
 * fetches under way, leaves the job "running" in the store and exits 0; a restart continues
 * it to the end. kill -9 at several moments, each followed by a restart: the job's final
 * results (crawlctl results --json and the JSON-lines file) are exactly those of an
 * uninterrupted crawl of the same simulated web, with no duplicate and no gap, and its
 * counters agree with them. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "dharness.h"
#include "store.h"

#define WAIT_MS 30000

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

/* The job's row in the store, read while crawld is stopped. */
static void stored_job(const struct dh_daemon *d, int64_t id, struct store_job *job,
                       int64_t *results)
{
	char path[DH_PATH_MAX + 16], err[256];
	struct store *st = NULL;
	snprintf(path, sizeof path, "%s/crawld.db", d->state);
	assert_int_equal(store_open(&st, path, err, sizeof err), 0);
	assert_int_equal(store_job_get(st, id, job), 0);
	assert_int_equal(store_result_count(st, id, results), 0);
	store_close(st);
}

/* url -> status of every result in a, checking that no url comes twice. */
static json_t *url_map(json_t *a)
{
	json_t *m = json_object();
	size_t i;
	json_t *r;
	assert_non_null(a);
	json_array_foreach(a, i, r)
	{
		const char *url = json_string_value(json_object_get(r, "url"));
		assert_non_null(url);
		if (json_object_get(m, url))
			fail_msg("%s is there twice", url);
		json_object_set(m, url, json_object_get(r, "status"));
	}
	return m;
}

/* The job's results through crawlctl and in its file both equal want (url -> status), and
 * its counters count them: pages the 2xx, errors the others. */
static void assert_results_equal(struct dh_daemon *d, int64_t id, json_t *want)
{
	json_t *got[2] = {dh_results(d, id, NULL), dh_results_file(d, id)};
	for (int k = 0; k < 2; k++) {
		json_t *m = url_map(got[k]);
		const char *url;
		json_t *v;
		json_object_foreach(want, url, v)
		{
			if (!json_equal(json_object_get(m, url), v))
				fail_msg("%s: %s has status %lld, want %lld",
				         k ? "file" : "results", url,
				         (long long)json_integer_value(json_object_get(m, url)),
				         (long long)json_integer_value(v));
		}
		assert_int_equal(json_object_size(m), json_object_size(want));
		json_decref(m);
	}
	int64_t ok = 0;
	for (size_t i = 0; i < json_array_size(got[0]); i++) {
		json_int_t s =
		    json_integer_value(json_object_get(json_array_get(got[0], i), "status"));
		ok += s >= 200 && s < 400;
	}
	assert_int_equal(dh_job_int(d, id, "pages"), ok);
	assert_int_equal(dh_job_int(d, id, "errors"), (int64_t)json_array_size(got[0]) - ok);
	json_decref(got[0]);
	json_decref(got[1]);
}

static void test_sigterm_drain(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.shutdown_timeout_ms=5000", NULL};
	assert_int_equal(dh_init(d, extra), 0);
	assert_int_equal(dh_start(d), 0);
	int64_t id =
	    dh_submit(d, "sim://h0.sim/", "--sim", "pages=600,latency=fixed:20,offsite=0,broken=0",
	              "--depth", "20", "--concurrency", "16", "--per-host", "16", NULL);
	assert_int_equal(id, 1);
	assert_true(dh_wait_int(d, id, "pages", 100, WAIT_MS));
	assert_true(dh_job_int(d, id, "in_flight") > 0);

	long long t0 = dh_now_ms();
	int st = dh_stop(d, SIGTERM, 5000 + 2000);
	long long took = dh_now_ms() - t0;
	assert_true(st != -1 && WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(took < 5000);
	assert_true(dh_sanitizer_clean(d));

	/* Every fetch under way finished and was checkpointed: the counters match. */
	struct store_job job = {0};
	int64_t results = 0;
	stored_job(d, id, &job, &results);
	assert_string_equal(job.state, "running");
	assert_true(job.pages >= 100 && job.pages < 600);
	assert_int_equal(job.pages + job.errors, results);
	store_job_clear(&job);

	assert_int_equal(dh_start(d), 0);
	assert_true(dh_wait_state(d, id, "done", WAIT_MS));
	json_t *want = json_object();
	json_object_set_new(want, "sim://h0.sim/", json_integer(200));
	for (int k = 1; k < 600; k++) {
		char url[64];
		snprintf(url, sizeof url, "sim://h0.sim/p/%d", k);
		json_object_set_new(want, url, json_integer(200));
	}
	assert_results_equal(d, id, want);
	json_decref(want);
	char *out = NULL;
	assert_int_equal(dh_ctl(d, 0, &out, "logs", "--job", "1", "--grep", "resumes", NULL), 0);
	assert_non_null(strstr(out, "job resumes from its checkpoint"));
	free(out);
	assert_true(dh_stop_clean(d));
}

/* Fetches that outlast the shutdown timeout are cut short and crawled again after a
 * restart. */
static void test_sigterm_timeout(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.shutdown_timeout_ms=200", NULL};
	char *out = NULL;
	assert_int_equal(dh_init(d, extra), 0);
	assert_int_equal(dh_start(d), 0);
	int64_t id =
	    dh_submit(d, "sim://h0.sim/", "--sim", "pages=40,latency=fixed:300,offsite=0,broken=0",
	              "--depth", "20", "--concurrency", "50", "--per-host", "50", NULL);
	assert_true(dh_wait_int(d, id, "pages", 1, WAIT_MS));
	assert_true(dh_wait_int(d, id, "in_flight", 1, WAIT_MS));
	int st = dh_stop(d, SIGTERM, 10000);
	assert_true(st != -1 && WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_true(dh_sanitizer_clean(d));
	assert_int_equal(dh_start(d), 0);
	assert_int_equal(dh_ctl(d, 0, &out, "logs", "--grep", "shutdown timeout", NULL), 0);
	assert_non_null(strstr(out, "in-flight fetches re-queued"));
	free(out);
	assert_true(dh_wait_state(d, id, "done", WAIT_MS));
	assert_int_equal(dh_job_int(d, id, "pages"), 40);
	json_t *a = dh_results(d, id, NULL), *m = url_map(a);
	assert_int_equal(json_object_size(m), 40);
	json_decref(m);
	json_decref(a);
	assert_true(dh_stop_clean(d));
}

/* A paused job stays paused across a restart, with its results, and then finishes. */
static void test_paused_restart(void **state)
{
	struct dh_daemon *d = *state;
	char *out = NULL;
	assert_int_equal(dh_init(d, NULL), 0);
	assert_int_equal(dh_start(d), 0);
	int64_t id =
	    dh_submit(d, "sim://h0.sim/", "--sim", "pages=300,latency=fixed:10,offsite=0,broken=0",
	              "--depth", "20", "--concurrency", "4", NULL);
	assert_true(dh_wait_int(d, id, "pages", 30, WAIT_MS));
	assert_int_equal(dh_ctl(d, 0, &out, "pause", "1", NULL), 0);
	free(out);
	for (long long end = dh_now_ms() + WAIT_MS; dh_now_ms() < end; dh_sleep_ms(5))
		if (dh_job_int(d, id, "in_flight") == 0)
			break;
	int64_t pages = dh_job_int(d, id, "pages");
	assert_true(dh_stop_clean(d));
	assert_int_equal(dh_start(d), 0);
	assert_true(dh_wait_state(d, id, "paused", 10));
	assert_int_equal(dh_job_int(d, id, "pages"), pages);
	json_t *a = dh_results(d, id, NULL);
	assert_int_equal(json_array_size(a), (size_t)pages);
	json_decref(a);
	assert_int_equal(dh_ctl(d, 0, &out, "resume", "1", NULL), 0);
	free(out);
	assert_true(dh_wait_state(d, id, "done", WAIT_MS));
	assert_int_equal(dh_job_int(d, id, "pages"), 300);
	a = dh_results_file(d, id);
	json_t *m = url_map(a);
	assert_int_equal(json_object_size(m), 300);
	json_decref(m);
	json_decref(a);
	assert_true(dh_stop_clean(d));
}

#define SITE "pages=2000,latency=uniform:1:4,offsite=0,broken=0,e404=0.03,seed=7"

static int64_t submit_site(struct dh_daemon *d)
{
	return dh_submit(d, "sim://h0.sim/", "--sim", SITE, "--depth", "30", "--concurrency", "8",
	                 "--per-host", "8", "--retries", "0", NULL);
}

/* Kills crawld (-9) once the job has at least pages pages, then starts it again. */
static void crash_at(struct dh_daemon *d, int64_t id, int64_t pages)
{
	assert_true(dh_wait_int(d, id, "pages", pages, WAIT_MS));
	int st = dh_stop(d, SIGKILL, 10000);
	assert_true(st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
	assert_int_equal(dh_start(d), 0);
}

static void test_kill9_recovery(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.checkpoint_interval_ms=100", NULL};
	assert_int_equal(dh_init(d, extra), 0);
	assert_int_equal(dh_start(d), 0);

	/* The same site crawled without interruption. */
	int64_t ref = submit_site(d);
	assert_true(dh_wait_state(d, ref, "done", WAIT_MS));
	json_t *ref_results = dh_results(d, ref, NULL), *want = url_map(ref_results);
	json_decref(ref_results);
	assert_true(json_object_size(want) > 1000);

	int64_t id = submit_site(d);
	crash_at(d, id, 200);
	/* What results reported before a crash is never lost or doubled. */
	assert_true(dh_wait_int(d, id, "pages", 500, WAIT_MS));
	json_t *reported = dh_results(d, id, NULL);
	assert_non_null(reported);
	crash_at(d, id, 600);
	crash_at(d, id, 1100);
	crash_at(d, id, 1500);
	assert_true(dh_wait_state(d, id, "done", WAIT_MS));
	assert_results_equal(d, id, want);
	json_t *m = url_map(reported);
	const char *url;
	json_t *v;
	json_object_foreach(m, url, v) assert_true(json_equal(json_object_get(want, url), v));
	json_decref(m);
	json_decref(reported);
	char *out = NULL;
	assert_int_equal(dh_ctl(d, 0, &out, "logs", "--job", "2", "--grep", "resumes", NULL), 0);
	int resumed = 0;
	for (const char *p = out; (p = strstr(p, "job resumes from its checkpoint")); p++)
		resumed++;
	assert_int_equal(resumed, 4);
	free(out);
	/* The closing record counts the whole job, not only what its last run fetched. */
	char done[64];
	snprintf(done, sizeof done, "job done: %lld pages, %lld errors,",
	         (long long)dh_job_int(d, id, "pages"), (long long)dh_job_int(d, id, "errors"));
	assert_int_equal(dh_ctl(d, 0, &out, "logs", "--job", "2", "--grep", "job done", NULL), 0);
	if (!strstr(out, done))
		fail_msg("want '%s' in:\n%s", done, out);
	free(out);
	/* The uninterrupted job was not disturbed by the crashes. */
	assert_results_equal(d, ref, want);
	json_decref(want);
	assert_true(dh_stop_clean(d));
}

/* Results committed between two checkpoints (a submit commits the open transaction) are
 * counted after a crash as well: the job's counters still match its results. */
static void test_kill9_after_submit(void **state)
{
	struct dh_daemon *d = *state;
	const char *extra[] = {"--set", "daemon.checkpoint_interval_ms=600000", NULL};
	assert_int_equal(dh_init(d, extra), 0);
	assert_int_equal(dh_start(d), 0);
	int64_t ref = submit_site(d);
	assert_true(dh_wait_state(d, ref, "done", WAIT_MS));
	json_t *ref_results = dh_results(d, ref, NULL), *want = url_map(ref_results);
	json_decref(ref_results);
	int64_t id = submit_site(d);
	assert_true(dh_wait_int(d, id, "pages", 300, WAIT_MS));
	assert_true(dh_submit(d, "sim://h0.sim/", "--sim", "pages=5", NULL) > 0);
	crash_at(d, id, 0);
	assert_true(dh_wait_state(d, id, "done", WAIT_MS));
	assert_results_equal(d, id, want);
	json_decref(want);
	assert_true(dh_stop_clean(d));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_sigterm_drain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_sigterm_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_paused_restart, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill9_recovery, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_kill9_after_submit, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
