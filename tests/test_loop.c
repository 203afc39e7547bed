/* test_loop.c - the event loop: backend, run/stop/close, call_soon and
 * call_later, handles, embedded timers. Every group runs twice: with
 * dedicated coroutine stacks and in shared-stack mode.
 *
 * Nothing asserts inside a coroutine or a loop callback (a failed cmocka
 * assert longjmps out of it): they record into structs, the test asserts
 * after the loop returns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "task.h"
#include "tmodes.h"

static loop_t *new_loop(void)
{
	loop_t *l = NULL;
	assert_int_equal(loop_new(&l), 0);
	assert_non_null(l);
	return l;
}

/* Lets the loop turn for a little while (loop clock). */
static void run_for(loop_t *l, double seconds)
{
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, seconds, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	future_unref(f);
}

/* ---- report hook ---- */

struct reports {
	int total, destroyed, backend_epoll, debug;
	int last_level;
	char last[128];
};

static void on_report(void *arg, int level, const char *msg)
{
	struct reports *r = arg;
	r->total++;
	r->last_level = level;
	snprintf(r->last, sizeof r->last, "%s", msg);
	if (strcmp(msg, "Task was destroyed but it is pending!") == 0 && level == 4)
		r->destroyed++;
	if (strcmp(msg, "event loop backend: epoll") == 0)
		r->backend_epoll++;
	if (level == 7)
		r->debug++;
}

static void test_backend_is_epoll(void **state)
{
	(void)state;
	struct reports r = {0};
	loop_t *l = new_loop();
	loop_set_report(l, on_report, &r);
	assert_int_equal(r.backend_epoll, 1);
	assert_int_equal(r.debug, 1);
	assert_int_equal(r.last_level, 7);
	assert_non_null(loop_event_base(l));
	loop_set_report(l, NULL, NULL); /* dropped from now on */
	loop__report(l, 3, "not seen %d", 1);
	assert_int_equal(r.total, 1);
	loop_free(l);
	loop_free(NULL);
}

/* ---- run_until_complete ---- */

struct setter {
	future_t *f;
	int mode; /* 0 result, 1 error, 2 cancel */
	void *value;
	int err;
};

static void set_later(void *arg)
{
	struct setter *s = arg;
	if (s->mode == 0)
		future_set_result(s->f, s->value);
	else if (s->mode == 1)
		future_set_error(s->f, s->err);
	else
		future_cancel(s->f);
}

static int run_with_setter(loop_t *l, int mode, void **result)
{
	static int token;
	future_t *f = NULL;
	assert_int_equal(future_new(l, &f), 0);
	struct setter s = {f, mode, &token, CRAWL_EUSER - 3};
	assert_int_equal(loop_call_later(l, 0.001, set_later, &s, NULL), 0);
	int rc = loop_run_until_complete(l, f, result);
	if (mode == 0)
		assert_ptr_equal(*result, &token);
	future_unref(f);
	return rc;
}

static void test_run_until_complete_outcomes(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	void *result = NULL;
	assert_int_equal(run_with_setter(l, 0, &result), 0);
	result = NULL;
	assert_int_equal(run_with_setter(l, 1, &result), CRAWL_EUSER - 3);
	assert_null(result);
	assert_int_equal(run_with_setter(l, 2, &result), CRAWL_ECANCELLED);
	assert_false(loop_is_running(l));
	loop_free(l);
}

static int return_arg(void *arg, void **result)
{
	*result = arg;
	return 0;
}

/* The loop runs again and again; its clock never goes back. */
static void test_run_again_and_again(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	double last = loop_time(l);
	for (intptr_t i = 1; i <= 5; i++) {
		task_t *t = NULL;
		void *res = NULL;
		assert_int_equal(task_create(l, return_arg, (void *)i, NULL, &t), 0);
		assert_int_equal(loop_run_until_complete(l, task_future(t), &res), 0);
		assert_int_equal((intptr_t)res, i);
		assert_true(loop_time(l) >= last);
		last = loop_time(l);
		task_unref(t);
	}
	assert_int_equal(loop_close(l), 0);
	loop_free(l);
}

/* A future already done: run_until_complete returns after its callbacks. */
static void test_run_done_future(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *f = NULL;
	static int token;
	void *res = NULL;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(future_set_result(f, &token), 0);
	assert_int_equal(loop_run_until_complete(l, f, &res), 0);
	assert_ptr_equal(res, &token);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	future_unref(f);
	loop_free(l);
}

static void never_called(void *arg)
{
	(*(int *)arg)++;
}

static void test_closed_loop_refuses(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *f = NULL;
	task_t *t = NULL;
	loop_handle_t *h = NULL;
	int calls = 0;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(loop_close(l), 0);
	assert_true(loop_is_closed(l));
	assert_int_equal(loop_close(l), 0); /* idempotent */
	assert_int_equal(loop_run_until_complete(l, f, NULL), CRAWL_ELOOPCLOSED);
	assert_int_equal(loop_run_forever(l), CRAWL_ELOOPCLOSED);
	assert_int_equal(loop_call_soon(l, never_called, &calls, &h), CRAWL_ELOOPCLOSED);
	assert_int_equal(loop_call_later(l, 0.01, never_called, &calls, NULL), CRAWL_ELOOPCLOSED);
	assert_int_equal(task_create(l, return_arg, NULL, NULL, &t), CRAWL_ELOOPCLOSED);
	assert_int_equal(sleep_future(l, 0.01, NULL, &f), CRAWL_ELOOPCLOSED);
	assert_null(t);
	assert_int_equal(calls, 0);
	future_unref(f);
	loop_free(l);
}

/* ---- close with pending tasks ---- */

struct closing {
	int sleep_rc, await_rc, cleaned;
	future_t *never;
};

static int sleeper_body(void *arg, void **result)
{
	struct closing *c = arg;
	(void)result;
	c->sleep_rc = task_sleep(10);
	c->cleaned++;
	return c->sleep_rc;
}

static int awaiter_body(void *arg, void **result)
{
	struct closing *c = arg;
	c->await_rc = task_await(c->never, result);
	c->cleaned++;
	return c->await_rc;
}

static int never_started_body(void *arg, void **result)
{
	struct closing *c = arg;
	(void)result;
	c->cleaned += 100; /* must not run */
	return 0;
}

static void test_close_reports_pending_tasks(void **state)
{
	(void)state;
	struct reports r = {0};
	struct closing c = {0};
	loop_t *l = new_loop();
	loop_set_report(l, on_report, &r);
	task_t *kept = NULL, *t = NULL, *done = NULL;
	future_t *tick = NULL;
	assert_int_equal(future_new(l, &c.never), 0);
	assert_int_equal(task_create(l, sleeper_body, &c, NULL, &kept), 0);
	assert_int_equal(task_create(l, awaiter_body, &c, NULL, &t), 0);
	task_unref(t); /* the loop's reference is the last one */
	assert_int_equal(task_create(l, return_arg, NULL, NULL, &done), 0);
	assert_int_equal(sleep_future(l, 0.001, NULL, &tick), 0);
	assert_int_equal(loop_run_until_complete(l, tick, NULL), 0);
	assert_int_equal(task_state(done), FUTURE_FINISHED);
	/* Started, then one more never started (its step is queued). */
	assert_int_equal(task_create(l, never_started_body, &c, NULL, &t), 0);
	task_unref(t);
	assert_int_equal(loop_close(l), 3);
	assert_int_equal(r.destroyed, 3);
	assert_int_equal(c.sleep_rc, CRAWL_EEXIT);
	assert_int_equal(c.await_rc, CRAWL_EEXIT);
	assert_int_equal(c.cleaned, 2);
	assert_int_equal(task_state(kept), FUTURE_CANCELLED);
	assert_int_equal(future_error(task_future(kept)), CRAWL_EDESTROYED);
	assert_int_equal(task_result(kept, NULL), CRAWL_ECANCELLED);
	assert_int_equal(loop_close(l), 0);
	task_unref(kept);
	task_unref(done);
	future_unref(tick);
	future_unref(c.never);
	loop_free(l);
}

/* ---- nesting ---- */

struct nested {
	loop_t *l;
	future_t *f;
	int run_rc, forever_rc, close_rc, calls;
};

static void nested_cb(void *arg)
{
	struct nested *n = arg;
	n->calls++;
	n->run_rc = loop_run_until_complete(n->l, n->f, NULL);
	n->forever_rc = loop_run_forever(n->l);
	n->close_rc = loop_close(n->l);
	future_set_result(n->f, NULL);
}

static int nested_body(void *arg, void **result)
{
	struct nested *n = arg;
	(void)result;
	n->calls++;
	n->run_rc = loop_run_until_complete(n->l, n->f, NULL);
	n->forever_rc = loop_run_forever(n->l);
	n->close_rc = loop_close(n->l);
	return 0;
}

static void test_nested_run_refused(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct nested n = {l, NULL, 0, 0, 0, 0};
	assert_int_equal(future_new(l, &n.f), 0);
	assert_int_equal(loop_call_soon(l, nested_cb, &n, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, n.f, NULL), 0);
	assert_int_equal(n.calls, 1);
	assert_int_equal(n.run_rc, CRAWL_ELOOPRUNNING);
	assert_int_equal(n.forever_rc, CRAWL_ELOOPRUNNING);
	assert_int_equal(n.close_rc, CRAWL_ELOOPRUNNING);
	future_unref(n.f);
	n = (struct nested){l, NULL, 0, 0, 0, 0};
	task_t *t = NULL;
	assert_int_equal(future_new(l, &n.f), 0);
	assert_int_equal(task_create(l, nested_body, &n, NULL, &t), 0);
	assert_int_equal(loop_run_until_complete(l, task_future(t), NULL), 0);
	assert_int_equal(n.calls, 1);
	assert_int_equal(n.run_rc, CRAWL_ELOOPRUNNING);
	assert_int_equal(n.forever_rc, CRAWL_ELOOPRUNNING);
	assert_int_equal(n.close_rc, CRAWL_ELOOPRUNNING);
	assert_false(loop_is_closed(l));
	task_unref(t);
	future_unref(n.f);
	loop_free(l);
}

/* ---- run_forever / stop ---- */

struct ticker {
	loop_t *l;
	int count, stop_at, running_seen;
};

static void tick_cb(void *arg)
{
	struct ticker *k = arg;
	k->count++;
	k->running_seen += loop_is_running(k->l);
	if (k->count == k->stop_at)
		loop_stop(k->l);
	else
		loop_call_soon(k->l, tick_cb, k, NULL);
}

static void test_run_forever_and_stop(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct ticker k = {l, 0, 5, 0};
	assert_int_equal(loop_call_soon(l, tick_cb, &k, NULL), 0);
	assert_int_equal(loop_run_forever(l), 0);
	assert_int_equal(k.count, 5);
	assert_int_equal(k.running_seen, 5);
	assert_false(loop_is_running(l));
	/* Again, after a stop. */
	k.stop_at = 8;
	assert_int_equal(loop_call_soon(l, tick_cb, &k, NULL), 0);
	assert_int_equal(loop_run_forever(l), 0);
	assert_int_equal(k.count, 8);
	loop_free(l);
}

static void stop_cb(void *arg)
{
	loop_stop(arg);
}

/* asyncio: "Event loop stopped before Future completed." */
static void test_stop_before_future_done(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	future_t *f = NULL;
	assert_int_equal(future_new(l, &f), 0);
	assert_int_equal(loop_call_soon(l, stop_cb, l, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), CRAWL_EPENDING);
	assert_false(future_done(f));
	/* The loop is usable afterwards and the future's callbacks are clean. */
	assert_int_equal(future_set_result(f, NULL), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	future_unref(f);
	loop_free(l);
}

/* ---- call_soon / call_later ---- */

struct order {
	loop_t *l;
	int seq[32];
	double at[32];
	int n;
};

struct order_item {
	struct order *o;
	int id;
};

static void record_cb(void *arg)
{
	struct order_item *it = arg;
	struct order *o = it->o;
	if (o->n < 32) {
		o->at[o->n] = loop_time(o->l);
		o->seq[o->n++] = it->id;
	}
}

static void test_call_soon_fifo(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct order o = {.l = l};
	struct order_item items[10];
	for (int i = 0; i < 10; i++) {
		items[i] = (struct order_item){&o, i};
		assert_int_equal(loop_call_soon(l, record_cb, &items[i], NULL), 0);
	}
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_int_equal(o.n, 10);
	for (int i = 0; i < 10; i++)
		assert_int_equal(o.seq[i], i);
	future_unref(f);
	loop_free(l);
}

struct chain {
	struct order_item first, second, late;
};

static void schedule_late_cb(void *arg)
{
	struct chain *c = arg;
	record_cb(&c->first);
	loop_call_soon(c->first.o->l, record_cb, &c->late, NULL);
}

/* A callback scheduled by a callback runs after the ones already queued. */
static void test_call_soon_from_callback_runs_later(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct order o = {.l = l};
	struct chain c = {{&o, 1}, {&o, 2}, {&o, 3}};
	assert_int_equal(loop_call_soon(l, schedule_late_cb, &c, NULL), 0);
	assert_int_equal(loop_call_soon(l, record_cb, &c.second, NULL), 0);
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0.002, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_int_equal(o.n, 3);
	assert_int_equal(o.seq[0], 1);
	assert_int_equal(o.seq[1], 2);
	assert_int_equal(o.seq[2], 3);
	future_unref(f);
	loop_free(l);
}

static void test_call_later_order(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct order o = {.l = l};
	static const double delays[] = {0.030, 0.010, 0.040, 0, 0.020};
	static const int expect[] = {3, 1, 4, 0, 2};
	struct order_item items[5];
	double start = loop_time(l);
	for (int i = 0; i < 5; i++) {
		items[i] = (struct order_item){&o, i};
		assert_int_equal(loop_call_later(l, delays[i], record_cb, &items[i], NULL), 0);
	}
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0.045, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_int_equal(o.n, 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(o.seq[i], expect[i]);
		/* On the loop clock, never early. */
		assert_true(o.at[i] - start >= delays[o.seq[i]] - 1e-9);
		if (i)
			assert_true(o.at[i] >= o.at[i - 1]);
	}
	future_unref(f);
	loop_free(l);
}

static void test_call_later_bad_delay(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int calls = 0;
	loop_handle_t *h = NULL;
	assert_int_equal(loop_call_later(l, -0.5, never_called, &calls, &h), CRAWL_EINVAL);
	assert_int_equal(loop_call_later(l, NAN, never_called, &calls, &h), CRAWL_EINVAL);
	assert_int_equal(loop_call_later(l, INFINITY, never_called, &calls, &h), CRAWL_EINVAL);
	assert_int_equal(loop_call_soon(l, NULL, &calls, &h), CRAWL_EINVAL);
	assert_null(h);
	/* Huge but finite: "never", not an overflow. */
	assert_int_equal(loop_call_later(l, 1e30, never_called, &calls, &h), 0);
	run_for(l, 0.001);
	assert_int_equal(calls, 0);
	assert_int_equal(loop_handle_cancel(h), 0);
	loop_free(l);
}

static void count_cb(void *arg)
{
	(*(int *)arg)++;
}

static void test_handle_cancel(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int soon_calls = 0, later_calls = 0, ran_calls = 0, kept_calls = 0;
	loop_handle_t *soon = NULL, *later = NULL, *ran = NULL, *kept = NULL;
	assert_int_equal(loop_call_soon(l, count_cb, &soon_calls, &soon), 0);
	assert_int_equal(loop_call_later(l, 0.005, count_cb, &later_calls, &later), 0);
	assert_int_equal(loop_call_soon(l, count_cb, &ran_calls, &ran), 0);
	assert_int_equal(loop_call_later(l, 0.001, count_cb, &kept_calls, &kept), 0);
	assert_int_equal(loop_handle_cancel(soon), 0);  /* before it ran */
	assert_int_equal(loop_handle_cancel(later), 0); /* from the timer heap */
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0.010, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_int_equal(soon_calls, 0);
	assert_int_equal(later_calls, 0);
	assert_int_equal(ran_calls, 1);
	assert_int_equal(kept_calls, 1);
	assert_int_equal(loop_handle_cancel(ran), CRAWL_EDONE); /* after it ran */
	loop_handle_release(kept);
	future_unref(f);
	loop_free(l);
}

/* Handles still pending at close are dropped: never run, freed (LSan). */
static void test_close_drops_pending_handles(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int calls = 0;
	loop_handle_t *held = NULL;
	assert_int_equal(loop_call_soon(l, count_cb, &calls, NULL), 0);
	assert_int_equal(loop_call_later(l, 5, count_cb, &calls, NULL), 0);
	assert_int_equal(loop_call_later(l, 5, count_cb, &calls, &held), 0);
	assert_int_equal(loop_close(l), 0);
	assert_int_equal(calls, 0);
	assert_int_equal(loop_handle_cancel(held), 0);
	loop_free(l);
}

/* ---- embedded timers ---- */

struct victim {
	struct loop_timer t;
	int *calls;
};

struct killer {
	struct loop_timer t;
	loop_t *l;
	struct victim *v;
	int ran;
};

static void victim_cb(void *arg)
{
	struct victim *v = arg;
	(*v->calls)++;
}

/* Stops a timer queued behind it in the same batch and frees its owner. */
static void killer_cb(void *arg)
{
	struct killer *k = arg;
	k->ran++;
	loop_timer_stop(k->l, &k->v->t);
	free(k->v);
	k->v = NULL;
}

static void test_timer_stop_then_free(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int calls = 0;
	struct killer k = {.l = l};
	k.v = malloc(sizeof *k.v);
	assert_non_null(k.v);
	k.v->calls = &calls;
	loop_timer_init(&k.t, killer_cb, &k);
	loop_timer_init(&k.v->t, victim_cb, k.v);
	assert_false(loop_timer_armed(&k.t));
	loop_timer_soon(l, &k.t);
	loop_timer_soon(l, &k.v->t);
	loop_timer_soon(l, &k.t); /* already queued: keeps its place */
	assert_true(loop_timer_armed(&k.v->t));
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0.002, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_int_equal(k.ran, 1);
	assert_int_equal(calls, 0);
	assert_false(loop_timer_armed(&k.t));
	future_unref(f);
	loop_free(l);
}

static void test_timer_at_after_stop(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct order o = {.l = l};
	struct order_item a = {&o, 1}, b = {&o, 2}, c = {&o, 3};
	struct loop_timer ta, tb, tc;
	loop_timer_init(&ta, record_cb, &a);
	loop_timer_init(&tb, record_cb, &b);
	loop_timer_init(&tc, record_cb, &c);
	double start = loop_time(l);
	loop_timer_after(l, &ta, 0.020);
	loop_timer_at(l, &tb, loop_now(l) + 5000000); /* 5 ms */
	loop_timer_after(l, &tc, 0.010);
	loop_timer_after(l, &ta, 0.001); /* re-arming moves it */
	loop_timer_stop(l, &tc);
	loop_timer_stop(l, &tc); /* safe twice */
	assert_true(loop_timer_armed(&ta));
	assert_false(loop_timer_armed(&tc));
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0.025, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_int_equal(o.n, 2);
	assert_int_equal(o.seq[0], 1);
	assert_int_equal(o.seq[1], 2);
	assert_true(o.at[1] - start >= 0.005 - 1e-9);
	future_unref(f);
	loop_free(l);
}

static void test_loop_clock(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	uint64_t a = loop_now(l);
	assert_true(loop_now(l) == a); /* cached between iterations */
	uint64_t b = loop_update_time(l);
	assert_true(b >= a);
	assert_true(loop_now(l) == b);
	assert_true(fabs(loop_time(l) - (double)b / 1e9) < 1e-6);
	future_t *f = NULL;
	assert_int_equal(sleep_future(l, 0.003, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(l, f, NULL), 0);
	assert_true(loop_now(l) - b >= 3000000);
	future_unref(f);
	loop_free(l);
}

/* ---- many timers: order, exactly once, never early ---- */

enum { NSTRESS = 20000 };

struct stress_timer {
	struct loop_timer t;
	struct stress *s;
	uint64_t deadline;
	int fired, stopped;
};

struct stress {
	loop_t *l;
	uint64_t last_deadline;
	long fired, out_of_order, early;
};

static void stress_cb(void *arg)
{
	struct stress_timer *st = arg;
	struct stress *s = st->s;
	st->fired++;
	s->fired++;
	if (st->deadline < s->last_deadline)
		s->out_of_order++;
	if (loop_now(s->l) < st->deadline)
		s->early++;
	s->last_deadline = st->deadline;
}

static uint64_t lcg(uint64_t *x)
{
	*x = *x * 6364136223846793005u + 1442695040888963407u;
	return *x >> 33;
}

/* Deadlines spread over 30 ms (dozens of wheel ticks, several per tick),
 * some re-armed elsewhere, some stopped: the ones left fire once each, in
 * deadline order, none before its deadline. */
static void test_many_timers_in_deadline_order(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct stress s = {.l = l};
	struct stress_timer *ts = calloc(NSTRESS, sizeof *ts);
	uint64_t x = 42, base = loop_now(l);
	assert_non_null(ts);
	for (int i = 0; i < NSTRESS; i++) {
		ts[i].s = &s;
		loop_timer_init(&ts[i].t, stress_cb, &ts[i]);
		ts[i].deadline = base + lcg(&x) % 30000000u;
		loop_timer_at(l, &ts[i].t, ts[i].deadline);
	}
	for (int i = 0; i < NSTRESS; i += 7) { /* re-armed: moves between slots */
		ts[i].deadline = base + lcg(&x) % 30000000u;
		loop_timer_at(l, &ts[i].t, ts[i].deadline);
	}
	for (int i = 3; i < NSTRESS; i += 5) {
		loop_timer_stop(l, &ts[i].t);
		ts[i].stopped = 1;
	}
	run_for(l, 0.032);
	long expect = 0;
	for (int i = 0; i < NSTRESS; i++) {
		assert_int_equal(ts[i].fired, ts[i].stopped ? 0 : 1);
		expect += !ts[i].stopped;
		assert_false(loop_timer_armed(&ts[i].t));
	}
	assert_int_equal(s.fired, expect);
	assert_int_equal(s.out_of_order, 0);
	assert_int_equal(s.early, 0);
	free(ts);
	loop_free(l);
}

/* Within one millisecond tick the order is still exact; a deadline in
 * the past runs on the next turn. */
static void test_timers_within_one_tick(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	struct order o = {.l = l};
	struct order_item items[4] = {{&o, 0}, {&o, 1}, {&o, 2}, {&o, 3}};
	struct loop_timer ts[4];
	uint64_t base = loop_now(l) + 2000000;
	static const uint64_t offs[3] = {300000, 100000, 200000}; /* ns */
	for (int i = 0; i < 3; i++) {
		loop_timer_init(&ts[i], record_cb, &items[i]);
		loop_timer_at(l, &ts[i], base + offs[i]);
	}
	loop_timer_init(&ts[3], record_cb, &items[3]);
	loop_timer_at(l, &ts[3], loop_now(l) - 1000000); /* already past */
	run_for(l, 0.003);
	assert_int_equal(o.n, 4);
	assert_int_equal(o.seq[0], 3);
	assert_int_equal(o.seq[1], 1);
	assert_int_equal(o.seq[2], 2);
	assert_int_equal(o.seq[3], 0);
	loop_free(l);
}

static int drops;

static void count_drop(void *arg)
{
	(void)arg;
	drops++;
}

/* Timers far beyond the wheel (minutes) can be stopped, re-armed near,
 * and are dropped at close with their drop hook. */
static void test_far_timers(void **state)
{
	(void)state;
	loop_t *l = new_loop();
	int calls = 0;
	struct loop_timer far1, far2, near;
	loop_timer_init(&far1, count_cb, &calls);
	loop_timer_init(&far2, count_cb, &calls);
	loop_timer_init(&near, count_cb, &calls);
	far1.drop = far2.drop = near.drop = count_drop;
	drops = 0;
	loop_timer_after(l, &far1, 600);
	loop_timer_after(l, &far2, 300);
	loop_timer_after(l, &near, 60);
	assert_true(loop_timer_armed(&far1));
	loop_timer_after(l, &far2, 0.001); /* from the far heap to the wheel */
	run_for(l, 0.002);
	assert_int_equal(calls, 1);
	assert_false(loop_timer_armed(&far2));
	loop_timer_stop(l, &near);
	assert_false(loop_timer_armed(&near));
	assert_int_equal(loop_close(l), 0);
	assert_int_equal(drops, 1); /* far1 */
	assert_false(loop_timer_armed(&far1));
	assert_int_equal(calls, 1);
	loop_free(l);
}

#define LOOP_TESTS(X)                                                                              \
	X(test_backend_is_epoll)                                                                   \
	X(test_run_until_complete_outcomes)                                                        \
	X(test_run_again_and_again)                                                                \
	X(test_run_done_future)                                                                    \
	X(test_closed_loop_refuses)                                                                \
	X(test_close_reports_pending_tasks)                                                        \
	X(test_nested_run_refused)                                                                 \
	X(test_run_forever_and_stop)                                                               \
	X(test_stop_before_future_done)                                                            \
	X(test_call_soon_fifo)                                                                     \
	X(test_call_soon_from_callback_runs_later)                                                 \
	X(test_call_later_order)                                                                   \
	X(test_call_later_bad_delay)                                                               \
	X(test_handle_cancel)                                                                      \
	X(test_close_drops_pending_handles)                                                        \
	X(test_timer_stop_then_free)                                                               \
	X(test_timer_at_after_stop)                                                                \
	X(test_loop_clock)                                                                         \
	X(test_many_timers_in_deadline_order)                                                      \
	X(test_timers_within_one_tick)                                                             \
	X(test_far_timers)

#define AS_TEST(name) cmocka_unit_test(name),

int main(void)
{
	const struct CMUnitTest tests[] = {LOOP_TESTS(AS_TEST)};
	int failed = cmocka_run_group_tests_name("loop/dedicated", tests, tmodes_setup_dedicated, NULL);
	failed += cmocka_run_group_tests_name("loop/shared", tests, tmodes_setup_shared, NULL);
	return failed ? 1 : 0;
}
