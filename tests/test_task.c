/* test_task.c - futures and tasks: results, done callbacks, await,
 * cancellation, sleep, fairness, bad yields. Every group runs twice: with
 * dedicated coroutine stacks and in shared-stack mode.
 *
 * Nothing asserts inside a coroutine or a callback (a failed cmocka assert
 * longjmps out of it): they record into structs, the test asserts after
 * loop_run_until_complete returns. Records live in the test function's
 * frame (the thread's own stack), never on a coroutine's stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "task.h"
#include "tmodes.h"

static loop_t *new_loop(void)
{
	loop_t *l = NULL;
	assert_int_equal(loop_new(&l), 0);
	return l;
}

/* Runs fn(arg) as a task to its end; returns the run's code. */
static int run_task(loop_t *l, coro_fn fn, void *arg, void **result)
{
	task_t *t = NULL;
	assert_int_equal(task_create(l, fn, arg, NULL, &t), 0);
	int rc = loop_run_until_complete(l, task_future(t), result);
	task_unref(t);
	return rc;
}

/* Lets the loop turn for a little while (loop clock). */
static void run_for(loop_t *l, double seconds)
{
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, seconds, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	future_unref(f);
}

/* ---- futures ---- */

static void test_future_states_and_errors(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *f = NULL, *g = NULL, *h = NULL;
	static int token;
	void *res = &token;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(future_state(f), FUTURE_PENDING);
	assert_string_equal(future_state_name(future_state(f)), "PENDING");
	assert_int_equal(future_result(f, &res), CRAWL_EPENDING);
	assert_ptr_equal(res, &token); /* untouched */
	assert_int_equal(future_error(f), 0);
	assert_false(future_done(f));
	assert_ptr_equal(future_loop(f), l);
	assert_true(future_is(f));
	assert_int_equal(future_set_result(f, &token), 0);
	assert_int_equal(future_set_result(f, NULL), CRAWL_EDONE);
	assert_int_equal(future_set_error(f, CRAWL_EUSER), CRAWL_EDONE);
	assert_int_equal(future_cancel(f), CRAWL_EDONE);
	res = NULL;
	assert_int_equal(future_result(f, &res), 0);
	assert_ptr_equal(res, &token);
	assert_string_equal(future_state_name(future_state(f)), "FINISHED");

	assert_int_equal(future_new(l, &g), 0);
	assert_int_equal(future_set_error(g, 5), CRAWL_EINVAL);
	assert_int_equal(future_set_error(g, 0), CRAWL_EINVAL);
	assert_false(future_done(g));
	assert_int_equal(future_set_error(g, CRAWL_EUSER - 1), 0);
	assert_int_equal(future_result(g, NULL), CRAWL_EUSER - 1);
	assert_int_equal(future_error(g), CRAWL_EUSER - 1);
	assert_int_equal(future_state(g), FUTURE_FINISHED);

	assert_int_equal(future_new(l, &h), 0);
	assert_int_equal(future_cancel(h), 0);
	assert_true(future_cancelled(h));
	assert_int_equal(future_cancel(h), CRAWL_EDONE);
	assert_int_equal(future_result(h, NULL), CRAWL_ECANCELLED);
	assert_string_equal(future_state_name(future_state(h)), "CANCELLED");
	assert_string_equal(future_state_name((enum future_state)9), "UNKNOWN");

	uint64_t not_a_future[8] = {0};
	assert_false(future_is(not_a_future));
	assert_false(future_is(NULL));
	future_unref(f);
	future_unref(g);
	future_unref(h);
	future_unref(NULL);
	loop_free(l);
}

struct cb_log {
	int seq[16];
	future_t *seen[16];
	int n;
};

struct cb_arg {
	struct cb_log *log;
	int id;
};

static void log_cb(future_t *f, void *arg)
{
	struct cb_arg *a = arg;
	if (a->log->n < 16) {
		a->log->seen[a->log->n] = f;
		a->log->seq[a->log->n++] = a->id;
	}
}

static void test_done_callbacks_order_and_arg(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct cb_log log = {0};
	struct cb_arg args[6];
	future_t *f = NULL;
	assert_int_equal(future_new(l, &f), 0);
	for (int i = 0; i < 5; i++) {
		args[i] = (struct cb_arg){&log, i};
		assert_int_equal(future_add_done_callback(f, log_cb, &args[i]), 0);
	}
	assert_int_equal(future_add_done_callback(f, NULL, NULL), CRAWL_EINVAL);
	assert_int_equal(future_set_result(f, NULL), 0);
	assert_int_equal(log.n, 0); /* never inline */
	run_for(l, 0);
	assert_int_equal(log.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(log.seq[i], i);
		assert_ptr_equal(log.seen[i], f);
	}
	/* Added after done: still from the loop, not inline. */
	args[5] = (struct cb_arg){&log, 5};
	assert_int_equal(future_add_done_callback(f, log_cb, &args[5]), 0);
	assert_int_equal(log.n, 5);
	run_for(l, 0);
	assert_int_equal(log.n, 6);
	assert_int_equal(log.seq[5], 5);
	future_unref(f);
	loop_free(l);
}

static void test_remove_done_callback(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct cb_log log = {0};
	struct cb_arg a = {&log, 1}, b = {&log, 2}, c = {&log, 3};
	future_t *f = NULL, *g = NULL;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(future_add_done_callback(f, log_cb, &a), 0);
	assert_int_equal(future_add_done_callback(f, log_cb, &b), 0);
	assert_int_equal(future_add_done_callback(f, log_cb, &a), 0);
	assert_int_equal(future_add_done_callback(f, log_cb, &c), 0);
	assert_int_equal(future_remove_done_callback(f, log_cb, &a), 2);
	assert_int_equal(future_remove_done_callback(f, log_cb, &a), 0);
	assert_int_equal(future_set_result(f, NULL), 0);
	/* Done and scheduled, not yet run: removal still holds. */
	assert_int_equal(future_remove_done_callback(f, log_cb, &c), 1);
	run_for(l, 0);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.seq[0], 2);
	/* Every callback removed after scheduling: nothing runs, no crash. */
	assert_int_equal(future_new(l, &g), 0);
	assert_int_equal(future_add_done_callback(g, log_cb, &a), 0);
	assert_int_equal(future_cancel(g), 0);
	assert_int_equal(future_remove_done_callback(g, log_cb, &a), 1);
	run_for(l, 0);
	assert_int_equal(log.n, 1);
	future_unref(f);
	future_unref(g);
	loop_free(l);
}

/* A callback removes one queued behind it in the same batch and frees its
 * argument: the removed one must not run (ASan would see it). */
struct remover {
	future_t *f;
	struct cb_arg *victim;
	int ran;
};

static void remover_cb(future_t *f, void *arg)
{
	struct remover *r = arg;
	r->ran = future_remove_done_callback(f, log_cb, r->victim);
	free(r->victim);
	r->victim = NULL;
}

static void test_remove_inside_batch(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct cb_log log = {0};
	struct remover r = {0};
	struct cb_arg first = {&log, 1};
	r.victim = malloc(sizeof *r.victim);
	assert_non_null(r.victim);
	*r.victim = (struct cb_arg){&log, 2};
	assert_int_equal(future_new(l, &r.f), 0);
	assert_int_equal(future_add_done_callback(r.f, log_cb, &first), 0);
	assert_int_equal(future_add_done_callback(r.f, remover_cb, &r), 0);
	assert_int_equal(future_add_done_callback(r.f, log_cb, r.victim), 0);
	assert_int_equal(future_set_result(r.f, NULL), 0);
	run_for(l, 0);
	assert_int_equal(r.ran, 1);
	assert_int_equal(log.n, 1);
	assert_int_equal(log.seq[0], 1);
	future_unref(r.f);
	loop_free(l);
}

static int freed_count;

static void count_free(void *p)
{
	freed_count++;
	free(p);
}

static void test_owned_result_freed_with_future(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *f = NULL;
	void *res = NULL;
	char *s = strdup("owned");
	assert_non_null(s);
	freed_count = 0;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(future_set_result_owned(f, s, count_free), 0);
	assert_int_equal(future_set_result_owned(f, s, count_free), CRAWL_EDONE);
	future_ref(f);
	future_unref(f);
	assert_int_equal(freed_count, 0);
	assert_int_equal(future_result(f, &res), 0);
	assert_string_equal(res, "owned");
	future_unref(f);
	assert_int_equal(freed_count, 1);
	loop_free(l);
}

/* ---- tasks: start, result, error ---- */

struct start_rec {
	int ran;
	task_t *self;
	task_t *seen_current;
	loop_t *seen_loop;
};

static int start_body(void *arg, void **result)
{
	struct start_rec *r = arg;
	r->ran++;
	r->seen_current = task_current();
	r->seen_loop = task_loop(task_current());
	*result = r;
	return 0;
}

static void test_task_pending_then_runs_next_turn(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct start_rec r = {0};
	task_t *t = NULL;
	void *res = NULL;
	assert_int_equal(task_create(l, start_body, &r, NULL, &t), 0);
	assert_int_equal(task_state(t), FUTURE_PENDING);
	assert_int_equal(r.ran, 0); /* not inline */
	assert_ptr_equal(task_from_future(task_future(t)), t);
	assert_null(task_current());
	assert_int_equal(task_result(t, NULL), CRAWL_EPENDING);
	assert_int_equal(loop_run_until_complete(l, task_future(t), &res), 0);
	assert_int_equal(r.ran, 1);
	assert_ptr_equal(r.seen_current, t);
	assert_ptr_equal(r.seen_loop, l);
	assert_ptr_equal(res, &r);
	assert_int_equal(task_state(t), FUTURE_FINISHED);
	res = NULL;
	assert_int_equal(task_result(t, &res), 0);
	assert_ptr_equal(res, &r);
	assert_ptr_equal(task_loop(t), l);
	future_t *plain = NULL;
	assert_int_equal(future_new(l, &plain), 0);
	assert_null(task_from_future(plain));
	assert_null(task_from_future(NULL));
	future_unref(plain);
	task_unref(t);
	task_unref(NULL);
	loop_free(l);
}

static int fail_body(void *arg, void **result)
{
	(void)result;
	int err = (int)(intptr_t)arg;
	if (task_sleep(0.001) != 0)
		return CRAWL_EINVAL;
	return err;
}

struct awaiter_rec {
	future_t *target;
	int rc;
	void *value;
	int after;
};

static int await_body(void *arg, void **result)
{
	struct awaiter_rec *a = arg;
	a->rc = task_await(a->target, &a->value);
	a->after = 1;
	*result = a->value;
	return a->rc;
}

static void test_task_error_reaches_awaiter(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	task_t *failing = NULL;
	assert_int_equal(
	    task_create(l, fail_body, (void *)(intptr_t)(CRAWL_EUSER - 9), NULL, &failing), 0);
	struct awaiter_rec a = {task_future(failing), 0, NULL, 0};
	assert_int_equal(run_task(l, await_body, &a, NULL), CRAWL_EUSER - 9);
	assert_int_equal(a.rc, CRAWL_EUSER - 9);
	assert_int_equal(a.after, 1);
	assert_int_equal(task_state(failing), FUTURE_FINISHED);
	assert_int_equal(task_result(failing, NULL), CRAWL_EUSER - 9);
	task_unref(failing);
	loop_free(l);
}

/* A chain: each task awaits the next one and adds 1 to its result. */
struct chain_rec {
	loop_t *l;
	int depth;
	int create_rc;
};

static int chain_body(void *arg, void **result)
{
	struct chain_rec *c = arg;
	int depth = c->depth--;
	if (depth == 0) {
		*result = (void *)(intptr_t)100;
		return task_sleep(0.001);
	}
	task_t *next = NULL;
	c->create_rc = task_create(c->l, chain_body, c, NULL, &next);
	if (c->create_rc)
		return c->create_rc;
	void *v = NULL;
	int rc = task_await(task_future(next), &v);
	task_unref(next);
	*result = (void *)((intptr_t)v + 1);
	return rc;
}

static void test_tasks_awaiting_tasks(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct chain_rec c = {l, 3, 0};
	void *res = NULL;
	assert_int_equal(run_task(l, chain_body, &c, &res), 0);
	assert_int_equal(c.create_rc, 0);
	assert_int_equal((intptr_t)res, 103);
	loop_free(l);
}

/* Await three coro_yield_from levels down inside a task. */
struct deep_rec {
	loop_t *l;
	task_t *outer_task, *inner_task;
	int sleep_rc, await_rc;
	void *awaited;
};

static int level3(void *arg, void **result)
{
	struct deep_rec *d = arg;
	static int token;
	future_t *f = NULL;
	d->inner_task = task_current();
	d->sleep_rc = task_sleep(0.002);
	if (sleep_future(d->l, 0.001, &token, &f) != 0)
		return CRAWL_ENOMEM;
	d->await_rc = task_await(f, &d->awaited);
	future_unref(f);
	*result = (void *)(intptr_t)3;
	return 0;
}

static int level2(void *arg, void **result)
{
	void *r = NULL;
	int rc = coro_yield_from_fn(level3, arg, &r);
	*result = (void *)((intptr_t)r * 10);
	return rc;
}

static int level1(void *arg, void **result)
{
	struct deep_rec *d = arg;
	void *r = NULL;
	d->outer_task = task_current();
	int rc = coro_yield_from_fn(level2, arg, &r);
	*result = (void *)((intptr_t)r + 1);
	return rc;
}

static void test_await_three_yield_from_levels(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct deep_rec d = {.l = l};
	void *res = NULL;
	assert_int_equal(run_task(l, level1, &d, &res), 0);
	assert_int_equal((intptr_t)res, 31);
	assert_int_equal(d.sleep_rc, 0);
	assert_int_equal(d.await_rc, 0);
	assert_non_null(d.awaited);
	assert_non_null(d.outer_task);
	assert_ptr_equal(d.outer_task, d.inner_task);
	loop_free(l);
}

/* ---- cancellation ---- */

struct cancel_rec {
	loop_t *l;
	future_t *blocker;
	int await_rc, cleanup_rc, steps;
	int swallow;
};

static int cancellable_body(void *arg, void **result)
{
	struct cancel_rec *c = arg;
	c->steps++;
	c->await_rc = task_await(c->blocker, NULL);
	c->steps++;
	c->cleanup_rc = task_sleep(0.001); /* awaits again while cleaning up */
	c->steps++;
	if (c->swallow) {
		*result = c;
		return 0;
	}
	return c->await_rc;
}

static void cancel_cb(void *arg)
{
	task_cancel(arg);
}

static void test_cancel_during_await(void **state)
{
	(void)state;
	for (int swallow = 0; swallow <= 1; swallow++) {
		loop_t *l = new_loop();
		struct cancel_rec c = {.l = l, .swallow = swallow};
		task_t *t = NULL;
		void *res = NULL;
		assert_int_equal(future_new(l, &c.blocker), 0);
		assert_int_equal(task_create(l, cancellable_body, &c, NULL, &t), 0);
		assert_int_equal(loop_call_later(l, 0.002, cancel_cb, t, NULL), 0);
		int rc = loop_run_until_complete(l, task_future(t), &res);
		assert_int_equal(c.await_rc, CRAWL_ECANCELLED);
		assert_int_equal(c.cleanup_rc, 0);
		assert_int_equal(c.steps, 3);
		assert_true(future_cancelled(c.blocker)); /* the awaited one too */
		if (swallow) {
			assert_int_equal(rc, 0); /* as asyncio: the cancel was swallowed */
			assert_ptr_equal(res, &c);
			assert_int_equal(task_state(t), FUTURE_FINISHED);
		} else {
			assert_int_equal(rc, CRAWL_ECANCELLED);
			assert_int_equal(task_state(t), FUTURE_CANCELLED);
		}
		assert_int_equal(task_cancel(t), CRAWL_EDONE); /* finished task */
		task_unref(t);
		future_unref(c.blocker);
		loop_free(l);
	}
}

static int must_not_run(void *arg, void **result)
{
	(void)result;
	(*(int *)arg)++;
	return 0;
}

static void test_cancel_before_start(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int ran = 0;
	task_t *t = NULL;
	assert_int_equal(task_create(l, must_not_run, &ran, NULL, &t), 0);
	assert_int_equal(task_cancel(t), 0);
	assert_int_equal(task_state(t), FUTURE_PENDING); /* asked, not yet done */
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), CRAWL_ECANCELLED);
	assert_int_equal(ran, 0);
	assert_int_equal(task_state(t), FUTURE_CANCELLED);
	assert_int_equal(task_cancel(t), CRAWL_EDONE);
	task_unref(t);
	loop_free(l);
}

static int long_sleeper(void *arg, void **result)
{
	(void)result;
	int *rc = arg;
	*rc = task_sleep(30);
	return *rc;
}

/* A cancel cuts a sleep short: the loop clock shows it did not wait. */
static void test_cancel_sleeping_task(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int sleep_rc = 1;
	task_t *t = NULL;
	double start = loop_time(l);
	assert_int_equal(task_create(l, long_sleeper, &sleep_rc, NULL, &t), 0);
	assert_int_equal(loop_call_later(l, 0.002, cancel_cb, t, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), CRAWL_ECANCELLED);
	assert_int_equal(sleep_rc, CRAWL_ECANCELLED);
	assert_true(loop_time(l) - start < 30);
	task_unref(t);
	loop_free(l);
}

struct self_cancel {
	int cancel_rc, yield_rc;
};

static int self_cancel_body(void *arg, void **result)
{
	struct self_cancel *s = arg;
	(void)result;
	s->cancel_rc = task_cancel(task_current());
	s->yield_rc = task_yield();
	return s->yield_rc;
}

static void test_cancel_self(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct self_cancel s = {1, 1};
	assert_int_equal(run_task(l, self_cancel_body, &s, NULL), CRAWL_ECANCELLED);
	assert_int_equal(s.cancel_rc, 0);
	assert_int_equal(s.yield_rc, CRAWL_ECANCELLED);
	loop_free(l);
}

/* ---- sleep and fairness ---- */

struct progress {
	loop_t *l;
	double start, woke_at;
	double step_at[8];
	int steps, sleep_rc;
};

static int slow_sleeper(void *arg, void **result)
{
	struct progress *p = arg;
	(void)result;
	p->sleep_rc = task_sleep(0.020);
	p->woke_at = loop_time(p->l);
	return p->sleep_rc;
}

static int busy_stepper(void *arg, void **result)
{
	struct progress *p = arg;
	(void)result;
	for (int i = 0; i < 8; i++) {
		p->step_at[p->steps++] = loop_time(p->l);
		int rc = task_yield();
		if (rc)
			return rc;
	}
	return 0;
}

static void test_sleep_blocks_only_its_task(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct progress p = {.l = l, .start = loop_time(l)};
	task_t *a = NULL, *b = NULL;
	assert_int_equal(task_create(l, slow_sleeper, &p, NULL, &a), 0);
	assert_int_equal(task_create(l, busy_stepper, &p, NULL, &b), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(a), NULL), 0);
	assert_int_equal(task_state(b), FUTURE_FINISHED);
	assert_int_equal(p.steps, 8);
	assert_true(p.woke_at - p.start >= 0.020 - 1e-9);
	for (int i = 0; i < 8; i++)
		assert_true(p.step_at[i] < p.woke_at); /* B ran while A slept */
	task_unref(a);
	task_unref(b);
	loop_free(l);
}

struct fair_rec {
	future_t *done;
	long a_count;
	int a_running;
	long b_runs_during_a;
	long max_gap;
	long last_seen;
	int a_rc;
};

static int greedy_body(void *arg, void **result)
{
	struct fair_rec *r = arg;
	(void)result;
	r->a_running = 1;
	for (int i = 0; i < 2000; i++) {
		r->a_rc = task_await(r->done, NULL);
		if (r->a_rc)
			break;
		r->a_count++;
	}
	r->a_running = 0;
	return r->a_rc;
}

static int watcher_body(void *arg, void **result)
{
	struct fair_rec *r = arg;
	(void)result;
	for (int i = 0; i < 10000 && (r->a_running || r->a_count == 0); i++) {
		if (r->a_running) {
			r->b_runs_during_a++;
			if (r->a_count - r->last_seen > r->max_gap)
				r->max_gap = r->a_count - r->last_seen;
		}
		r->last_seen = r->a_count;
		int rc = task_yield();
		if (rc)
			return rc;
	}
	return 0;
}

static void test_fairness_budget(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct fair_rec r = {0};
	task_t *a = NULL, *b = NULL;
	assert_int_equal(future_new(l, &r.done), 0);
	assert_int_equal(future_set_result(r.done, NULL), 0);
	assert_int_equal(task_create(l, greedy_body, &r, NULL, &a), 0);
	assert_int_equal(task_create(l, watcher_body, &r, NULL, &b), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(a), NULL), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(b), NULL), 0);
	assert_int_equal(r.a_count, 2000);
	/* At most TASK_FAIR_BUDGET quick returns plus the resumed await. */
	assert_true(r.max_gap <= TASK_FAIR_BUDGET + 1);
	assert_true(r.b_runs_during_a >= 2000 / (TASK_FAIR_BUDGET + 1));
	task_unref(a);
	task_unref(b);
	future_unref(r.done);
	loop_free(l);
}

struct pingpong {
	char log[32];
	int n;
};

struct yielder_arg {
	struct pingpong *p;
	char name;
};

static int yield_body(void *arg, void **result)
{
	struct yielder_arg *y = arg;
	(void)result;
	for (int i = 0; i < 3; i++) {
		if (y->p->n < 31)
			y->p->log[y->p->n++] = y->name;
		int rc = task_yield();
		if (rc)
			return rc;
	}
	return 0;
}

static void test_task_yield_alternates(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct pingpong p = {{0}, 0};
	struct yielder_arg a = {&p, 'A'}, b = {&p, 'B'};
	task_t *ta = NULL, *tb = NULL;
	assert_int_equal(task_create(l, yield_body, &a, NULL, &ta), 0);
	assert_int_equal(task_create(l, yield_body, &b, NULL, &tb), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(tb), NULL), 0);
	assert_string_equal(p.log, "ABABAB");
	task_unref(ta);
	task_unref(tb);
	loop_free(l);
}

/* ---- misuse ---- */

struct misuse {
	int bad_yield_rc, self_await_rc, await_nonfuture_rc, sleep_neg_rc, sleep_nan_rc;
};

static int misuse_body(void *arg, void **result)
{
	struct misuse *m = arg;
	static int not_a_future;
	(void)result;
	m->bad_yield_rc = coro_yield(&not_a_future, NULL);
	m->self_await_rc = task_await(task_future(task_current()), NULL);
	m->await_nonfuture_rc = task_await((future_t *)(void *)&not_a_future, NULL);
	m->sleep_neg_rc = task_sleep(-1);
	m->sleep_nan_rc = task_sleep(NAN);
	return 0;
}

static void test_misuse_errors(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct misuse m = {0};
	future_t *f = NULL;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(task_await(f, NULL), CRAWL_ENOTTASK);
	assert_int_equal(task_sleep(0.001), CRAWL_ENOTTASK);
	assert_int_equal(task_yield(), CRAWL_ENOTTASK);
	assert_int_equal(run_task(l, misuse_body, &m, NULL), 0);
	assert_int_equal(m.bad_yield_rc, CRAWL_EBADYIELD);
	assert_int_equal(m.self_await_rc, CRAWL_EINVAL);
	assert_int_equal(m.await_nonfuture_rc, CRAWL_EINVAL);
	assert_int_equal(m.sleep_neg_rc, CRAWL_EINVAL);
	assert_int_equal(m.sleep_nan_rc, CRAWL_EINVAL);
	future_unref(f);
	loop_free(l);
}

static void test_sleep_future(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	static int token;
	future_t *f = NULL, *g = NULL;
	void *res = NULL;
	double start = loop_time(l);
	assert_int_equal(sleep_future(l, -1, NULL, &f), CRAWL_EINVAL);
	assert_int_equal(sleep_future(l, NAN, NULL, &f), CRAWL_EINVAL);
	assert_int_equal(sleep_future(l, 0.003, &token, &f), 0);
	assert_int_equal(sleep_future(l, 0.001, NULL, &g), 0);
	assert_int_equal(future_cancel(g), 0);
	assert_int_equal(loop_run_until_complete(l, f, &res), 0);
	assert_ptr_equal(res, &token);
	assert_true(loop_time(l) - start >= 0.003 - 1e-9);
	assert_true(future_cancelled(g));
	future_unref(f);
	future_unref(g);
	loop_free(l);
}

#define TASK_TESTS(X)                                                                              \
	X(test_future_states_and_errors)                                                           \
	X(test_done_callbacks_order_and_arg)                                                       \
	X(test_remove_done_callback)                                                               \
	X(test_remove_inside_batch)                                                                \
	X(test_owned_result_freed_with_future)                                                     \
	X(test_task_pending_then_runs_next_turn)                                                   \
	X(test_task_error_reaches_awaiter)                                                         \
	X(test_tasks_awaiting_tasks)                                                               \
	X(test_await_three_yield_from_levels)                                                      \
	X(test_cancel_during_await)                                                                \
	X(test_cancel_before_start)                                                                \
	X(test_cancel_sleeping_task)                                                               \
	X(test_cancel_self)                                                                        \
	X(test_sleep_blocks_only_its_task)                                                         \
	X(test_fairness_budget)                                                                    \
	X(test_task_yield_alternates)                                                              \
	X(test_misuse_errors)                                                                      \
	X(test_sleep_future)

#define AS_TEST(name) cmocka_unit_test(name),

int main(void)
{
	const struct CMUnitTest tests[] = {TASK_TESTS(AS_TEST)};
	int failed = cmocka_run_group_tests_name("task/dedicated", tests, tmodes_setup_dedicated, NULL);
	failed += cmocka_run_group_tests_name("task/shared", tests, tmodes_setup_shared, NULL);
	return failed ? 1 : 0;
}
