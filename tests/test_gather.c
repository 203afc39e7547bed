/* test_gather.c - gather, wait, wait_for, as_completed and task groups.
 * Every group runs twice: with dedicated coroutine stacks and in
 * shared-stack mode.
 *
 * Nothing asserts inside a coroutine or a callback (a failed cmocka assert
 * longjmps out of it): they record into structs that live in the test
 * function's frame, and the test asserts after the loop returns. Timing is
 * checked only as order or "elapsed >= x" on the loop clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gather.h"
#include "taskgroup.h"
#include "tmodes.h"

enum { MAXJ = 4 };
#define EPS 1e-9

static loop_t *new_loop(void)
{
	loop_t *l = NULL;
	assert_int_equal(loop_new(&l), 0);
	return l;
}

static void run_for(loop_t *l, double seconds)
{
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, seconds, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	future_unref(f);
}

/* ---- a child job: sleeps, then returns value or err ---- */

struct job {
	loop_t *l;
	double delay;
	intptr_t value;
	int err;        /* returned after the sleep; 0 = success */
	double cleanup; /* after a cancel: sleeps this long before ending */
	int sleep_rc, cleanup_rc, ended;
	double ended_at;
	task_t *task;
};

static int job_body(void *arg, void **result)
{
	struct job *j = arg;
	j->sleep_rc = task_sleep(j->delay);
	if (j->sleep_rc == CRAWL_ECANCELLED && j->cleanup > 0)
		j->cleanup_rc = task_sleep(j->cleanup);
	j->ended = 1;
	j->ended_at = loop_time(j->l);
	if (j->sleep_rc)
		return j->sleep_rc;
	*result = (void *)j->value;
	return j->err;
}

static void job_init(struct job *j, loop_t *l, double delay, intptr_t value, int err)
{
	memset(j, 0, sizeof *j);
	j->l = l;
	j->delay = delay;
	j->value = value;
	j->err = err;
}

static void jobs_start(struct job *jobs, size_t n, future_t **futs)
{
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(task_create(jobs[i].l, job_body, &jobs[i], NULL, &jobs[i].task),
		                 0);
		futs[i] = task_future(jobs[i].task);
	}
}

/* Lets every job end. */
static void jobs_wait(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		loop_run_until_complete(jobs[i].l, task_future(jobs[i].task), NULL);
}

static void jobs_release(struct job *jobs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		task_unref(jobs[i].task);
}

static void jobs_finish(struct job *jobs, size_t n)
{
	jobs_wait(jobs, n);
	jobs_release(jobs, n);
}

static void cancel_task_cb(void *arg)
{
	task_cancel(arg);
}

static void cancel_future_cb(void *arg)
{
	future_cancel(arg);
}

/* ---- gather ---- */

static void test_gather_results_in_argument_order(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3], *g = NULL;
	void *res = NULL;
	job_init(&jobs[0], l, 0.030, 1, 0);
	job_init(&jobs[1], l, 0.010, 2, 0);
	job_init(&jobs[2], l, 0.020, 3, 0);
	double start = loop_time(l);
	jobs_start(jobs, 3, futs);
	assert_int_equal(gather(l, futs, 3, 0, &g), 0);
	assert_false(future_done(g));
	assert_int_equal(loop_run_until_complete(l, g, &res), 0);
	const struct gather_result *r = res;
	assert_int_equal(r->count, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal((intptr_t)r->values[i], i + 1);
		assert_int_equal(r->errors[i], 0);
	}
	assert_true(jobs[1].ended_at <= jobs[2].ended_at);
	assert_true(jobs[2].ended_at <= jobs[0].ended_at);
	assert_true(loop_time(l) - start >= 0.030 - EPS);
	jobs_finish(jobs, 3);
	future_unref(g);
	loop_free(l);
}

static void test_gather_empty(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *g = NULL;
	void *res = NULL;
	assert_int_equal(gather(l, NULL, 0, 0, &g), 0);
	assert_true(future_done(g)); /* at once */
	assert_int_equal(future_result(g, &res), 0);
	assert_int_equal(((struct gather_result *)res)->count, 0);
	assert_int_equal(future_cancel(g), CRAWL_EDONE);
	future_unref(g);
	loop_free(l);
}

static void test_gather_first_error_does_not_cancel(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3], *g = NULL;
	job_init(&jobs[0], l, 0.050, 1, 0);
	job_init(&jobs[1], l, 0.005, 0, CRAWL_EUSER - 5);
	job_init(&jobs[2], l, 0.020, 3, 0);
	jobs_start(jobs, 3, futs);
	assert_int_equal(gather(l, futs, 3, 0, &g), 0);
	assert_int_equal(loop_run_until_complete(l, g, NULL), CRAWL_EUSER - 5);
	assert_int_equal(future_state(g), FUTURE_FINISHED);
	assert_int_equal(future_error(g), CRAWL_EUSER - 5);
	assert_false(jobs[0].ended); /* the error came first */
	jobs_wait(jobs, 3);
	/* The others were not cancelled: they finished with their values. */
	void *v = NULL;
	assert_int_equal(task_result(jobs[0].task, &v), 0);
	assert_int_equal((intptr_t)v, 1);
	assert_int_equal(task_result(jobs[2].task, &v), 0);
	assert_int_equal((intptr_t)v, 3);
	jobs_release(jobs, 3);
	future_unref(g);
	loop_free(l);
}

static void test_gather_return_errors(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[2];
	future_t *futs[3], *g = NULL, *plain = NULL;
	void *res = NULL;
	job_init(&jobs[0], l, 0.010, 7, 0);
	job_init(&jobs[1], l, 0.002, 0, CRAWL_EUSER - 5);
	jobs_start(jobs, 2, futs);
	assert_int_equal(future_new(l, &plain), 0);
	futs[2] = plain;
	assert_int_equal(loop_call_later(l, 0.004, cancel_future_cb, plain, NULL), 0);
	assert_int_equal(gather(l, futs, 3, GATHER_RETURN_ERRORS, &g), 0);
	assert_int_equal(loop_run_until_complete(l, g, &res), 0);
	const struct gather_result *r = res;
	assert_int_equal(r->count, 3);
	assert_int_equal((intptr_t)r->values[0], 7);
	assert_int_equal(r->errors[0], 0);
	assert_null(r->values[1]);
	assert_int_equal(r->errors[1], CRAWL_EUSER - 5);
	assert_null(r->values[2]);
	assert_int_equal(r->errors[2], CRAWL_ECANCELLED); /* a cancelled child */
	jobs_finish(jobs, 2);
	future_unref(plain);
	future_unref(g);
	loop_free(l);
}

/* Without GATHER_RETURN_ERRORS a cancelled child is an ECANCELLED error. */
static void test_gather_cancelled_child_is_error(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *futs[2], *g = NULL;
	assert_int_equal(sleep_future(l, 0.010, NULL, &futs[0]), 0);
	assert_int_equal(future_new(l, &futs[1]), 0);
	assert_int_equal(gather(l, futs, 2, 0, &g), 0);
	assert_int_equal(future_cancel(futs[1]), 0);
	assert_int_equal(loop_run_until_complete(l, g, NULL), CRAWL_ECANCELLED);
	assert_false(future_cancelled(g)); /* failed, not cancelled itself */
	assert_int_equal(future_error(g), CRAWL_ECANCELLED);
	assert_false(future_cancelled(futs[0]));
	run_for(l, 0.011);
	assert_int_equal(future_state(futs[0]), FUTURE_FINISHED);
	future_unref(futs[0]);
	future_unref(futs[1]);
	future_unref(g);
	loop_free(l);
}

static void test_gather_cancel_cancels_children(void **state)
{
	(void)state;
	for (int flags = 0; flags <= GATHER_RETURN_ERRORS; flags++) {
		loop_t *l = new_loop();
		struct job jobs[3];
		future_t *futs[3], *g = NULL;
		for (int i = 0; i < 3; i++) {
			job_init(&jobs[i], l, 5, i, 0);
			jobs[i].cleanup = 0.002 * i;
		}
		jobs_start(jobs, 3, futs);
		assert_int_equal(gather(l, futs, 3, flags, &g), 0);
		assert_int_equal(loop_call_later(l, 0.002, cancel_future_cb, g, NULL), 0);
		assert_int_equal(loop_run_until_complete(l, g, NULL), CRAWL_ECANCELLED);
		assert_true(future_cancelled(g));
		if (flags) /* with return-errors it waits for every child */
			for (int i = 0; i < 3; i++)
				assert_true(jobs[i].ended);
		jobs_wait(jobs, 3);
		for (int i = 0; i < 3; i++) {
			assert_int_equal(jobs[i].sleep_rc, CRAWL_ECANCELLED);
			assert_int_equal(task_state(jobs[i].task), FUTURE_CANCELLED);
		}
		assert_int_equal(future_cancel(g), CRAWL_EDONE);
		jobs_release(jobs, 3);
		future_unref(g);
		loop_free(l);
	}
}

struct gather_parent {
	loop_t *l;
	future_t *g;
	int await_rc;
};

static int gather_parent_body(void *arg, void **result)
{
	struct gather_parent *p = arg;
	p->await_rc = task_await(p->g, result);
	return p->await_rc;
}

static void test_cancel_task_awaiting_gather(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	struct gather_parent p = {l, NULL, 1};
	task_t *parent = NULL;
	for (int i = 0; i < 3; i++)
		job_init(&jobs[i], l, 5, i, 0);
	jobs_start(jobs, 3, futs);
	assert_int_equal(gather(l, futs, 3, 0, &p.g), 0);
	assert_int_equal(task_create(l, gather_parent_body, &p, NULL, &parent), 0);
	assert_int_equal(loop_call_later(l, 0.002, cancel_task_cb, parent, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(parent), NULL), CRAWL_ECANCELLED);
	assert_int_equal(p.await_rc, CRAWL_ECANCELLED);
	assert_int_equal(task_state(parent), FUTURE_CANCELLED);
	assert_true(future_cancelled(p.g));
	jobs_wait(jobs, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(task_state(jobs[i].task), FUTURE_CANCELLED);
	jobs_release(jobs, 3);
	task_unref(parent);
	future_unref(p.g);
	loop_free(l);
}

static void test_gather_bad_arguments(void **state)
{
	(void)state;
	loop_t *l = new_loop(), *other = new_loop();
	future_t *f = NULL, *foreign = NULL, *g = NULL;
	uint64_t junk[16] = {0};
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(future_new(other, &foreign), 0);
	future_t *bad[2] = {f, (future_t *)(void *)junk};
	future_t *mixed[2] = {f, foreign};
	future_t *withnull[2] = {f, NULL};
	assert_int_equal(gather(l, NULL, 2, 0, &g), CRAWL_EINVAL);
	assert_int_equal(gather(l, bad, 2, 0, &g), CRAWL_EINVAL);
	assert_int_equal(gather(l, mixed, 2, 0, &g), CRAWL_EINVAL);
	assert_int_equal(gather(l, withnull, 2, 0, &g), CRAWL_EINVAL);
	assert_int_equal(gather(l, &f, 1, 0x10, &g), CRAWL_EINVAL);
	assert_int_equal(gather(l, &f, 1, 0, NULL), CRAWL_EINVAL);
	assert_int_equal(gather(NULL, &f, 1, 0, &g), CRAWL_EINVAL);
	assert_null(g);
	future_unref(f);
	future_unref(foreign);
	loop_free(l);
	loop_free(other);
}

/* Released before its children end: it detaches, nothing dangles. */
static void test_gather_released_early(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *futs[3], *g = NULL, *g2 = NULL;
	assert_int_equal(sleep_future(l, 0.002, NULL, &futs[0]), 0);
	assert_int_equal(sleep_future(l, 0.004, NULL, &futs[1]), 0);
	futs[2] = futs[0]; /* the same child twice is fine */
	assert_int_equal(gather(l, futs, 3, 0, &g), 0);
	assert_int_equal(gather(l, futs, 2, 0, &g2), 0);
	future_unref(g);
	run_for(l, 0.003);
	future_unref(g2); /* one child done, one pending */
	run_for(l, 0.003);
	assert_true(future_done(futs[1]));
	future_unref(futs[0]);
	future_unref(futs[1]);
	loop_free(l);
}

static void test_gather_same_child_twice(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	static int token;
	future_t *f = NULL, *g = NULL;
	void *res = NULL;
	assert_int_equal(sleep_future(l, 0.001, &token, &f), 0);
	future_t *futs[2] = {f, f};
	assert_int_equal(gather(l, futs, 2, 0, &g), 0);
	assert_int_equal(loop_run_until_complete(l, g, &res), 0);
	const struct gather_result *r = res;
	assert_ptr_equal(r->values[0], &token);
	assert_ptr_equal(r->values[1], &token);
	future_unref(f);
	future_unref(g);
	loop_free(l);
}

/* ---- wait ---- */

struct wait_case {
	loop_t *l;
	future_t **futs;
	size_t n;
	double timeout;
	enum wait_mode mode;
	int rc;
	size_t ndone, npending;
	future_t *done[MAXJ], *pending[MAXJ];
	double start, end;
	struct job *watch; /* its ended flag, seen when wait returns */
	int watch_ended;
};

static int wait_body(void *arg, void **result)
{
	struct wait_case *w = arg;
	struct wait_sets sets;
	(void)result;
	w->start = loop_time(w->l);
	w->rc = task_wait(w->futs, w->n, w->timeout, w->mode, &sets);
	w->end = loop_time(w->l);
	if (w->watch)
		w->watch_ended = w->watch->ended;
	if (w->rc)
		return w->rc;
	w->ndone = sets.ndone;
	w->npending = sets.npending;
	for (size_t i = 0; i < sets.ndone && i < MAXJ; i++)
		w->done[i] = sets.done[i];
	for (size_t i = 0; i < sets.npending && i < MAXJ; i++)
		w->pending[i] = sets.pending[i];
	wait_sets_free(&sets);
	return 0;
}

static void run_wait(loop_t *l, struct wait_case *w)
{
	task_t *t = NULL;
	assert_int_equal(task_create(l, wait_body, w, NULL, &t), 0);
	loop_run_until_complete(l, task_future(t), NULL);
	task_unref(t);
}

static void test_wait_all_completed(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	job_init(&jobs[0], l, 0.010, 0, 0);
	job_init(&jobs[1], l, 0.030, 0, CRAWL_EUSER - 1);
	job_init(&jobs[2], l, 0.020, 0, 0);
	jobs_start(jobs, 3, futs);
	struct wait_case w = {
	    .l = l, .futs = futs, .n = 3, .timeout = -1, .mode = WAIT_ALL_COMPLETED};
	run_wait(l, &w);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.ndone, 3);
	assert_int_equal(w.npending, 0);
	for (int i = 0; i < 3; i++)
		assert_ptr_equal(w.done[i], futs[i]); /* the caller's order */
	assert_true(w.end - w.start >= 0.030 - EPS);
	jobs_finish(jobs, 3);
	loop_free(l);
}

static void test_wait_first_completed(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	job_init(&jobs[0], l, 0.050, 0, 0);
	job_init(&jobs[1], l, 0.005, 0, 0);
	job_init(&jobs[2], l, 0.045, 0, 0);
	jobs_start(jobs, 3, futs);
	struct wait_case w = {.l = l,
	                      .futs = futs,
	                      .n = 3,
	                      .timeout = -1,
	                      .mode = WAIT_FIRST_COMPLETED,
	                      .watch = &jobs[2]};
	run_wait(l, &w);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.ndone, 1);
	assert_ptr_equal(w.done[0], futs[1]);
	assert_int_equal(w.npending, 2);
	assert_ptr_equal(w.pending[0], futs[0]);
	assert_ptr_equal(w.pending[1], futs[2]);
	assert_false(w.watch_ended);
	assert_true(w.end - w.start >= 0.005 - EPS);
	jobs_finish(jobs, 3);
	/* Nothing was cancelled. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(jobs[i].sleep_rc, 0);
	loop_free(l);
}

static void test_wait_first_error(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	job_init(&jobs[0], l, 0.002, 0, 0);
	job_init(&jobs[1], l, 0.005, 0, CRAWL_EUSER - 2);
	job_init(&jobs[2], l, 0.050, 0, 0);
	jobs_start(jobs, 3, futs);
	struct wait_case w = {.l = l,
	                      .futs = futs,
	                      .n = 3,
	                      .timeout = -1,
	                      .mode = WAIT_FIRST_ERROR,
	                      .watch = &jobs[2]};
	run_wait(l, &w);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.ndone, 2);
	assert_ptr_equal(w.done[0], futs[0]);
	assert_ptr_equal(w.done[1], futs[1]);
	assert_int_equal(w.npending, 1);
	assert_ptr_equal(w.pending[0], futs[2]);
	assert_false(w.watch_ended);
	jobs_finish(jobs, 3);

	/* No error at all: it waits for every one. */
	job_init(&jobs[0], l, 0.002, 0, 0);
	job_init(&jobs[1], l, 0.004, 0, 0);
	jobs_start(jobs, 2, futs);
	struct wait_case w2 = {
	    .l = l, .futs = futs, .n = 2, .timeout = -1, .mode = WAIT_FIRST_ERROR};
	run_wait(l, &w2);
	assert_int_equal(w2.rc, 0);
	assert_int_equal(w2.ndone, 2);
	assert_int_equal(w2.npending, 0);
	jobs_finish(jobs, 2);
	loop_free(l);
}

static void test_wait_timeout(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	job_init(&jobs[0], l, 0.002, 0, 0);
	job_init(&jobs[1], l, 0.050, 0, 0);
	job_init(&jobs[2], l, 0.050, 0, 0);
	jobs_start(jobs, 3, futs);
	struct wait_case w = {.l = l,
	                      .futs = futs,
	                      .n = 3,
	                      .timeout = 0.010,
	                      .mode = WAIT_ALL_COMPLETED,
	                      .watch = &jobs[1]};
	run_wait(l, &w);
	assert_int_equal(w.rc, 0);
	assert_int_equal(w.ndone, 1);
	assert_ptr_equal(w.done[0], futs[0]);
	assert_int_equal(w.npending, 2);
	assert_false(w.watch_ended);
	assert_true(w.end - w.start >= 0.010 - EPS);
	jobs_wait(jobs, 3);
	for (int i = 0; i < 3; i++) /* the timeout cancelled nothing */
		assert_int_equal(task_state(jobs[i].task), FUTURE_FINISHED);
	jobs_release(jobs, 3);

	/* Timeout 0 on futures already done: all done, no wait. */
	assert_int_equal(future_new(l, &futs[0]), 0);
	assert_int_equal(future_set_result(futs[0], NULL), 0);
	struct wait_case w0 = {
	    .l = l, .futs = futs, .n = 1, .timeout = 0, .mode = WAIT_ALL_COMPLETED};
	run_wait(l, &w0);
	assert_int_equal(w0.rc, 0);
	assert_int_equal(w0.ndone, 1);
	future_unref(futs[0]);
	loop_free(l);
}

static void test_wait_cancelled_and_misuse(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[2];
	future_t *futs[2];
	struct wait_sets sets;
	job_init(&jobs[0], l, 0.050, 0, 0);
	job_init(&jobs[1], l, 0.050, 0, 0);
	jobs_start(jobs, 2, futs);
	assert_int_equal(task_wait(futs, 2, -1, WAIT_ALL_COMPLETED, &sets), CRAWL_ENOTTASK);
	struct wait_case w = {
	    .l = l, .futs = futs, .n = 2, .timeout = -1, .mode = WAIT_ALL_COMPLETED};
	task_t *t = NULL;
	assert_int_equal(task_create(l, wait_body, &w, NULL, &t), 0);
	assert_int_equal(loop_call_later(l, 0.002, cancel_task_cb, t, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), CRAWL_ECANCELLED);
	assert_int_equal(w.rc, CRAWL_ECANCELLED);
	task_unref(t);
	jobs_finish(jobs, 2);
	for (int i = 0; i < 2; i++) /* wait never cancels the futures */
		assert_int_equal(jobs[i].sleep_rc, 0);

	struct wait_case bad = {
	    .l = l, .futs = futs, .n = 2, .timeout = -1, .mode = (enum wait_mode)7};
	run_wait(l, &bad);
	assert_int_equal(bad.rc, CRAWL_EINVAL);
	struct wait_case nan = {
	    .l = l, .futs = futs, .n = 2, .timeout = NAN, .mode = WAIT_ALL_COMPLETED};
	run_wait(l, &nan);
	assert_int_equal(nan.rc, CRAWL_EINVAL);
	struct wait_case none = {
	    .l = l, .futs = NULL, .n = 0, .timeout = -1, .mode = WAIT_ALL_COMPLETED};
	run_wait(l, &none);
	assert_int_equal(none.rc, 0);
	assert_int_equal(none.ndone + none.npending, 0);
	wait_sets_free(NULL);
	/* Another loop's future. */
	loop_t *other = new_loop();
	future_t *foreign = NULL;
	assert_int_equal(future_new(other, &foreign), 0);
	struct wait_case wf = {
	    .l = l, .futs = &foreign, .n = 1, .timeout = -1, .mode = WAIT_ALL_COMPLETED};
	run_wait(l, &wf);
	assert_int_equal(wf.rc, CRAWL_EINVAL);
	future_unref(foreign);
	loop_free(other);
	loop_free(l);
}

/* ---- wait_for ---- */

struct wait_for_case {
	loop_t *l;
	future_t *inner;
	double timeout;
	int rc;
	void *value;
	struct job *watch;
	int watch_ended;
	double start, end;
};

static int wait_for_body(void *arg, void **result)
{
	struct wait_for_case *w = arg;
	w->start = loop_time(w->l);
	w->rc = task_wait_for(w->inner, w->timeout, &w->value);
	w->end = loop_time(w->l);
	if (w->watch)
		w->watch_ended = w->watch->ended;
	*result = w->value;
	return w->rc;
}

static int run_wait_for(loop_t *l, struct wait_for_case *w, double cancel_after)
{
	task_t *t = NULL;
	assert_int_equal(task_create(l, wait_for_body, w, NULL, &t), 0);
	if (cancel_after >= 0)
		assert_int_equal(loop_call_later(l, cancel_after, cancel_task_cb, t, NULL), 0);
	int rc = loop_run_until_complete(l, task_future(t), NULL);
	task_unref(t);
	return rc;
}

static void test_wait_for_in_time_and_errors(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job j;
	future_t *f = NULL;
	job_init(&j, l, 0.003, 42, 0);
	jobs_start(&j, 1, &f);
	struct wait_for_case w = {.l = l, .inner = f, .timeout = 1};
	assert_int_equal(run_wait_for(l, &w, -1), 0);
	assert_int_equal(w.rc, 0);
	assert_int_equal((intptr_t)w.value, 42);
	/* Already done: at once. */
	struct wait_for_case again = {.l = l, .inner = f, .timeout = 0};
	assert_int_equal(run_wait_for(l, &again, -1), 0);
	assert_int_equal((intptr_t)again.value, 42);
	jobs_finish(&j, 1);

	job_init(&j, l, 0.002, 0, CRAWL_EUSER - 4);
	jobs_start(&j, 1, &f);
	struct wait_for_case werr = {.l = l, .inner = f, .timeout = 1};
	assert_int_equal(run_wait_for(l, &werr, -1), CRAWL_EUSER - 4);
	jobs_finish(&j, 1);

	job_init(&j, l, 0.002, 5, 0);
	jobs_start(&j, 1, &f);
	struct wait_for_case nolimit = {.l = l, .inner = f, .timeout = -1};
	assert_int_equal(run_wait_for(l, &nolimit, -1), 0);
	assert_int_equal((intptr_t)nolimit.value, 5);
	struct wait_for_case nan = {.l = l, .inner = f, .timeout = NAN};
	assert_int_equal(run_wait_for(l, &nan, -1), CRAWL_EINVAL);
	assert_int_equal(task_wait_for(f, 1, NULL), CRAWL_ENOTTASK);
	jobs_finish(&j, 1);
	loop_t *other = new_loop();
	future_t *foreign = NULL;
	assert_int_equal(future_new(other, &foreign), 0);
	struct wait_for_case wf = {.l = l, .inner = foreign, .timeout = 1};
	assert_int_equal(run_wait_for(l, &wf, -1), CRAWL_EINVAL);
	future_unref(foreign);
	loop_free(other);
	loop_free(l);
}

static void test_wait_for_timeout_cancels_inner(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job j;
	future_t *f = NULL;
	job_init(&j, l, 5, 0, 0);
	j.cleanup = 0.003;
	jobs_start(&j, 1, &f);
	struct wait_for_case w = {.l = l, .inner = f, .timeout = 0.005, .watch = &j};
	assert_int_equal(run_wait_for(l, &w, -1), CRAWL_ETIMEDOUT);
	assert_int_equal(j.sleep_rc, CRAWL_ECANCELLED);
	assert_true(w.watch_ended); /* it had really ended (cleanup included) */
	assert_int_equal(j.cleanup_rc, 0);
	assert_int_equal(task_state(j.task), FUTURE_CANCELLED);
	assert_true(w.end - w.start >= 0.005 + 0.003 - EPS);
	jobs_finish(&j, 1);

	/* A plain future that never completes. */
	future_t *plain = NULL;
	assert_int_equal(future_new(l, &plain), 0);
	struct wait_for_case wp = {.l = l, .inner = plain, .timeout = 0.002};
	assert_int_equal(run_wait_for(l, &wp, -1), CRAWL_ETIMEDOUT);
	assert_true(future_cancelled(plain));
	future_unref(plain);
	loop_free(l);
}

static void test_wait_for_outer_cancelled(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job j;
	future_t *f = NULL;
	job_init(&j, l, 5, 0, 0);
	jobs_start(&j, 1, &f);
	struct wait_for_case w = {.l = l, .inner = f, .timeout = 10, .watch = &j};
	assert_int_equal(run_wait_for(l, &w, 0.002), CRAWL_ECANCELLED);
	assert_int_equal(w.rc, CRAWL_ECANCELLED);
	assert_true(w.watch_ended);
	assert_int_equal(task_state(j.task), FUTURE_CANCELLED);
	jobs_finish(&j, 1);
	loop_free(l);
}

/* ---- as_completed ---- */

struct ac_case {
	as_completed_t *ac;
	future_t *got[MAXJ + 1];
	int rcs[MAXJ + 2];
	int calls;
};

static int ac_body(void *arg, void **result)
{
	struct ac_case *c = arg;
	(void)result;
	for (c->calls = 0; c->calls < MAXJ + 2; c->calls++) {
		future_t *f = NULL;
		int rc = as_completed_next(c->ac, &f);
		c->rcs[c->calls] = rc;
		if (rc == CRAWL_ECANCELLED)
			return rc;
		if (rc == 0 && c->calls <= MAXJ)
			c->got[c->calls] = f;
	}
	return 0;
}

static void test_as_completed_order(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	struct ac_case c = {0};
	job_init(&jobs[0], l, 0.030, 0, 0);
	job_init(&jobs[1], l, 0.005, 0, 0);
	job_init(&jobs[2], l, 0.015, 0, CRAWL_EUSER - 1);
	jobs_start(jobs, 3, futs);
	assert_int_equal(as_completed_new(l, futs, 3, -1, &c.ac), 0);
	task_t *t = NULL;
	assert_int_equal(task_create(l, ac_body, &c, NULL, &t), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), 0);
	assert_ptr_equal(c.got[0], futs[1]);
	assert_ptr_equal(c.got[1], futs[2]);
	assert_ptr_equal(c.got[2], futs[0]);
	assert_int_equal(c.rcs[0], 0);
	assert_int_equal(c.rcs[2], 0);
	assert_int_equal(c.rcs[3], CRAWL_ENOTFOUND);
	assert_int_equal(c.rcs[4], CRAWL_ENOTFOUND);
	task_unref(t);
	as_completed_free(c.ac);
	jobs_finish(jobs, 3);
	loop_free(l);
}

static void test_as_completed_timeout(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	future_t *futs[3];
	struct ac_case c = {0};
	job_init(&jobs[0], l, 0.050, 0, 0);
	job_init(&jobs[1], l, 0.004, 0, 0);
	job_init(&jobs[2], l, 0.050, 0, 0);
	jobs_start(jobs, 3, futs);
	assert_int_equal(as_completed_new(l, futs, 3, 0.010, &c.ac), 0);
	task_t *t = NULL;
	assert_int_equal(task_create(l, ac_body, &c, NULL, &t), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), 0);
	assert_int_equal(c.rcs[0], 0);
	assert_ptr_equal(c.got[0], futs[1]);
	assert_int_equal(c.rcs[1], CRAWL_ETIMEDOUT);
	assert_int_equal(c.rcs[2], CRAWL_ETIMEDOUT);
	task_unref(t);
	as_completed_free(c.ac); /* still attached to two pending jobs */
	jobs_finish(jobs, 3);
	loop_free(l);
}

static void test_as_completed_cancel_and_misuse(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *futs[2], *got = NULL;
	as_completed_t *ac = NULL;
	struct ac_case c = {0};
	uint64_t junk[16] = {0};
	assert_int_equal(future_new(l, &futs[0]), 0);
	assert_int_equal(future_new(l, &futs[1]), 0);
	assert_int_equal(as_completed_new(l, futs, 2, -1, NULL), CRAWL_EINVAL);
	assert_int_equal(as_completed_new(l, futs, 2, NAN, &ac), CRAWL_EINVAL);
	future_t *bad[2] = {futs[0], (future_t *)(void *)junk};
	assert_int_equal(as_completed_new(l, bad, 2, -1, &ac), CRAWL_EINVAL);
	assert_int_equal(as_completed_new(l, futs, 2, -1, &c.ac), 0);
	assert_int_equal(as_completed_next(c.ac, &got), CRAWL_ENOTTASK);
	assert_int_equal(as_completed_next(NULL, &got), CRAWL_EINVAL);
	task_t *t = NULL;
	assert_int_equal(task_create(l, ac_body, &c, NULL, &t), 0);
	assert_int_equal(loop_call_later(l, 0.002, cancel_task_cb, t, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), CRAWL_ECANCELLED);
	assert_int_equal(c.rcs[0], CRAWL_ECANCELLED);
	assert_false(future_cancelled(futs[0])); /* the futures are left alone */
	/* Done before next is called: returned without waiting. */
	assert_int_equal(future_set_result(futs[1], NULL), 0);
	run_for(l, 0);
	assert_int_equal(as_completed_next(c.ac, &got), 0);
	assert_ptr_equal(got, futs[1]);
	task_unref(t);
	as_completed_free(c.ac);
	as_completed_free(NULL);
	future_unref(futs[0]);
	future_unref(futs[1]);
	loop_free(l);
}

/* ---- taskgroup ---- */

struct tg_case {
	loop_t *l;
	taskgroup_t *g;
	struct job *jobs;
	int njobs;
	int spawn_rc[MAXJ];
	task_t *spawned[MAXJ];
	int wait_rc, spawn_after_rc;
	int ended_at_return[MAXJ];
};

static int tg_parent(void *arg, void **result)
{
	struct tg_case *c = arg;
	(void)result;
	for (int i = 0; i < c->njobs; i++)
		c->spawn_rc[i] = taskgroup_spawn(c->g, job_body, &c->jobs[i], &c->spawned[i]);
	c->wait_rc = taskgroup_wait(c->g);
	for (int i = 0; i < c->njobs; i++)
		c->ended_at_return[i] = c->jobs[i].ended;
	c->spawn_after_rc = taskgroup_spawn(c->g, job_body, &c->jobs[0], NULL);
	return c->wait_rc;
}

static int run_group(loop_t *l, struct tg_case *c, double cancel_after)
{
	task_t *t = NULL;
	assert_int_equal(taskgroup_new(l, &c->g), 0);
	assert_int_equal(task_create(l, tg_parent, c, NULL, &t), 0);
	if (cancel_after >= 0)
		assert_int_equal(loop_call_later(l, cancel_after, cancel_task_cb, t, NULL), 0);
	int rc = loop_run_until_complete(l, task_future(t), NULL);
	if (cancel_after >= 0)
		assert_int_equal(task_state(t), FUTURE_CANCELLED);
	task_unref(t);
	return rc;
}

static void test_taskgroup_all_succeed(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	for (int i = 0; i < 3; i++)
		job_init(&jobs[i], l, 0.002 * (3 - i), 10 + i, 0);
	struct tg_case c = {.l = l, .jobs = jobs, .njobs = 3};
	assert_int_equal(run_group(l, &c, -1), 0);
	assert_int_equal(c.wait_rc, 0);
	assert_int_equal(c.spawn_after_rc, CRAWL_EBUSY);
	assert_int_equal(taskgroup_size(c.g), 3);
	long index = 7;
	assert_null(taskgroup_failed(c.g, &index));
	assert_int_equal(index, -1);
	for (int i = 0; i < 3; i++) {
		void *v = NULL;
		assert_int_equal(c.spawn_rc[i], 0);
		assert_true(c.ended_at_return[i]);
		assert_ptr_equal(taskgroup_child(c.g, (size_t)i), c.spawned[i]);
		assert_int_equal(task_result(c.spawned[i], &v), 0);
		assert_int_equal((intptr_t)v, 10 + i);
	}
	assert_null(taskgroup_child(c.g, 3));
	taskgroup_free(c.g);
	loop_free(l);
}

static void test_taskgroup_failure_cancels_others(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[3];
	job_init(&jobs[0], l, 5, 0, 0);
	job_init(&jobs[1], l, 0.004, 0, CRAWL_EUSER - 7);
	job_init(&jobs[2], l, 5, 0, 0);
	jobs[0].cleanup = 0.003;
	jobs[2].cleanup = 0.001;
	struct tg_case c = {.l = l, .jobs = jobs, .njobs = 3};
	assert_int_equal(run_group(l, &c, -1), CRAWL_EUSER - 7);
	assert_int_equal(c.wait_rc, CRAWL_EUSER - 7);
	long index = -1;
	assert_ptr_equal(taskgroup_failed(c.g, &index), c.spawned[1]);
	assert_int_equal(index, 1);
	for (int i = 0; i < 3; i++)
		assert_true(c.ended_at_return[i]); /* every child waited for */
	assert_int_equal(jobs[0].sleep_rc, CRAWL_ECANCELLED);
	assert_int_equal(jobs[2].sleep_rc, CRAWL_ECANCELLED);
	assert_int_equal(task_state(c.spawned[0]), FUTURE_CANCELLED);
	assert_int_equal(task_state(c.spawned[2]), FUTURE_CANCELLED);
	assert_int_equal(c.spawn_after_rc, CRAWL_EBUSY);
	taskgroup_free(c.g);
	loop_free(l);
}

static void test_taskgroup_parent_cancelled(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[2];
	for (int i = 0; i < 2; i++) {
		job_init(&jobs[i], l, 5, 0, 0);
		jobs[i].cleanup = 0.002;
	}
	struct tg_case c = {.l = l, .jobs = jobs, .njobs = 2};
	assert_int_equal(run_group(l, &c, 0.002), CRAWL_ECANCELLED);
	assert_int_equal(c.wait_rc, CRAWL_ECANCELLED);
	for (int i = 0; i < 2; i++) {
		assert_true(c.ended_at_return[i]); /* still waited for */
		assert_int_equal(jobs[i].cleanup_rc, 0);
		assert_int_equal(task_state(c.spawned[i]), FUTURE_CANCELLED);
	}
	assert_null(taskgroup_failed(c.g, NULL));
	taskgroup_free(c.g);
	loop_free(l);
}

/* A child cancelled from outside is not a failure (as asyncio). */
static void test_taskgroup_child_cancelled_is_no_failure(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct job jobs[2];
	job_init(&jobs[0], l, 5, 0, 0);
	job_init(&jobs[1], l, 0.006, 3, 0);
	struct tg_case c = {.l = l, .jobs = jobs, .njobs = 2};
	assert_int_equal(taskgroup_new(l, &c.g), 0);
	task_t *parent = NULL;
	assert_int_equal(task_create(l, tg_parent, &c, NULL, &parent), 0);
	run_for(l, 0.001); /* the parent has spawned */
	assert_int_equal(c.spawn_rc[0], 0);
	assert_int_equal(task_cancel(c.spawned[0]), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(parent), NULL), 0);
	assert_int_equal(c.wait_rc, 0);
	assert_null(taskgroup_failed(c.g, NULL));
	task_unref(parent);
	taskgroup_free(c.g);
	loop_free(l);
}

static void test_taskgroup_misuse_and_early_free(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	taskgroup_t *g = NULL;
	struct job jobs[2];
	task_t *t = NULL;
	assert_int_equal(taskgroup_new(NULL, &g), CRAWL_EINVAL);
	assert_int_equal(taskgroup_new(l, &g), 0);
	assert_int_equal(taskgroup_wait(g), CRAWL_ENOTTASK);
	assert_int_equal(taskgroup_spawn(g, NULL, NULL, NULL), CRAWL_EINVAL);
	job_init(&jobs[0], l, 5, 0, 0);
	job_init(&jobs[1], l, 5, 0, 0);
	assert_int_equal(taskgroup_spawn(g, job_body, &jobs[0], &t), 0);
	assert_int_equal(taskgroup_spawn(g, job_body, &jobs[1], NULL), 0);
	run_for(l, 0.001);
	/* Freed with running children: cancelled and left to the loop. */
	taskgroup_free(g);
	taskgroup_free(NULL);
	run_for(l, 0.002);
	assert_int_equal(jobs[0].sleep_rc, CRAWL_ECANCELLED);
	assert_int_equal(jobs[1].sleep_rc, CRAWL_ECANCELLED);
	assert_int_equal(loop_close(l), 0); /* nothing left pending */
	loop_free(l);
}

#define GATHER_TESTS(X)                                                                            \
	X(test_gather_results_in_argument_order)                                                   \
	X(test_gather_empty)                                                                       \
	X(test_gather_first_error_does_not_cancel)                                                 \
	X(test_gather_return_errors)                                                               \
	X(test_gather_cancelled_child_is_error)                                                    \
	X(test_gather_cancel_cancels_children)                                                     \
	X(test_cancel_task_awaiting_gather)                                                        \
	X(test_gather_bad_arguments)                                                               \
	X(test_gather_released_early)                                                              \
	X(test_gather_same_child_twice)                                                            \
	X(test_wait_all_completed)                                                                 \
	X(test_wait_first_completed)                                                               \
	X(test_wait_first_error)                                                                   \
	X(test_wait_timeout)                                                                       \
	X(test_wait_cancelled_and_misuse)                                                          \
	X(test_wait_for_in_time_and_errors)                                                        \
	X(test_wait_for_timeout_cancels_inner)                                                     \
	X(test_wait_for_outer_cancelled)                                                           \
	X(test_as_completed_order)                                                                 \
	X(test_as_completed_timeout)                                                               \
	X(test_as_completed_cancel_and_misuse)                                                     \
	X(test_taskgroup_all_succeed)                                                              \
	X(test_taskgroup_failure_cancels_others)                                                   \
	X(test_taskgroup_parent_cancelled)                                                         \
	X(test_taskgroup_child_cancelled_is_no_failure)                                            \
	X(test_taskgroup_misuse_and_early_free)

#define AS_TEST(name) cmocka_unit_test(name),

int main(void)
{
	const struct CMUnitTest tests[] = {GATHER_TESTS(AS_TEST)};
	int failed = cmocka_run_group_tests_name("gather/dedicated", tests, tmodes_setup_dedicated, NULL);
	failed += cmocka_run_group_tests_name("gather/shared", tests, tmodes_setup_shared, NULL);
	return failed ? 1 : 0;
}
