/* task.c - tasks: futures that step a coroutine from the loop. */
#include "task.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct task {
	struct future fut; /* first: a task is a future */
	coro_t *coro;
	future_t *waiting;       /* awaited future (referenced), or NULL */
	struct loop_timer step;  /* next step; doubles as the sleep timer */
	struct loop__task_link link;
	void *send_value;
	int throw_err;
	uint8_t must_cancel;
	uint8_t fair;            /* done-future awaits since the last suspend */
};

/* Markers a task coroutine yields instead of a future. */
static char sleep_marker, yield_marker;

static _Thread_local task_t *current;

static int task_ops_cancel(future_t *f);
static void task_ops_destroy(future_t *f);
static const struct future_ops task_ops = {"Task", task_ops_cancel, task_ops_destroy};

static void task_step(void *arg);
static void task_wakeup(future_t *f, void *arg);

task_t *task_current(void)
{
	return current;
}

future_t *task_future(task_t *t)
{
	return &t->fut;
}

task_t *task_from_future(future_t *f)
{
	return f && future_is(f) && f->ops == &task_ops ? (task_t *)f : NULL;
}

void task_unref(task_t *t)
{
	if (t)
		future_unref(&t->fut);
}

enum future_state task_state(const task_t *t)
{
	return future_state(&t->fut);
}

int task_result(const task_t *t, void **result)
{
	return future_result(&t->fut, result);
}

loop_t *task_loop(const task_t *t)
{
	return t->fut.loop;
}

static void task_ops_destroy(future_t *f)
{
	task_t *t = (task_t *)f;
	coro_fini(t->coro);
	free(t);
}

/* The task and its coroutine are one allocation. */
static size_t task_coro_offset(void)
{
	return (sizeof(task_t) + 15) & ~(size_t)15;
}

/* Loop closed with the task pending: close its coroutine, drop it. */
static void task_destroy_pending(struct loop__task_link *link)
{
	task_t *t = (task_t *)((char *)link - offsetof(task_t, link));
	loop_t *l = t->fut.loop;
	task_t *prev = current;
	if (t->waiting) {
		future_remove_done_callback(t->waiting, task_wakeup, t);
		future_unref(t->waiting);
		t->waiting = NULL;
	}
	current = t;
	coro_fini(t->coro);
	current = prev;
	t->coro = NULL;
	/* After the close: a coroutine that slept while closing re-armed it. */
	loop_timer_stop(l, &t->step);
	t->fut.state = FUTURE_CANCELLED;
	t->fut.error = CRAWL_EDESTROYED;
	future_unref(&t->fut);
}

int task_create(loop_t *l, coro_fn fn, void *arg, const struct coro_opts *opts, task_t **out)
{
	if (loop_is_closed(l))
		return CRAWL_ELOOPCLOSED;
	task_t *t = malloc(task_coro_offset() + coro_size());
	if (!t)
		return CRAWL_ENOMEM;
	memset(t, 0, sizeof *t);
	t->coro = (coro_t *)((char *)t + task_coro_offset());
	int rc = coro_init(t->coro, fn, arg, opts);
	if (rc)
		goto fail;
	future__init(&t->fut, l, &task_ops);
	t->fut.refs = 2; /* the caller's and the loop's (until it ends) */
	loop_timer_init(&t->step, task_step, t);
	t->link.destroy = task_destroy_pending;
	loop__task_add(l, &t->link);
	loop_timer_soon(l, &t->step);
	*out = t;
	return 0;
fail:
	free(t);
	return rc;
}

static void task_finish(task_t *t, int rc, void *value)
{
	loop__task_remove(t->fut.loop, &t->link);
	coro_fini(t->coro);
	t->coro = NULL;
	if (rc == CORO_RETURNED)
		future_set_result(&t->fut, value);
	else if (rc == CRAWL_ECANCELLED)
		future__set_cancelled(&t->fut);
	else
		future_set_error(&t->fut, rc);
	future_unref(&t->fut); /* the loop's reference */
}

static void task_wakeup(future_t *f, void *arg)
{
	task_t *t = arg;
	t->waiting = NULL;
	future_unref(f);
	task_step(t);
}

static void task_throw_soon(task_t *t, int err)
{
	t->throw_err = err;
	loop_timer_soon(t->fut.loop, &t->step);
}

static void task_suspended(task_t *t, void *y)
{
	if (t->must_cancel && (y == &sleep_marker || y == &yield_marker))
		goto soon; /* cancelled from inside: deliver at once */
	if (y == &sleep_marker)
		return;
	if (y == &yield_marker)
		goto soon;
	if (!future_is(y) || y == &t->fut) {
		task_throw_soon(t, y == &t->fut ? CRAWL_EINVAL : CRAWL_EBADYIELD);
		return;
	}
	future_t *f = y;
	if (future_done(f))
		goto soon;
	if (future_add_done_callback(f, task_wakeup, t) != 0) {
		task_throw_soon(t, CRAWL_ENOMEM);
		return;
	}
	future_ref(f);
	t->waiting = f;
	if (t->must_cancel && future_cancel(f) == 0)
		t->must_cancel = 0;
	return;
soon:
	loop_timer_soon(t->fut.loop, &t->step);
}

static void task_step(void *arg)
{
	task_t *t = arg;
	int err = t->throw_err;
	void *v = t->send_value, *y = NULL;
	t->throw_err = 0;
	t->send_value = NULL;
	if (t->must_cancel) {
		t->must_cancel = 0;
		err = CRAWL_ECANCELLED;
	}
	task_t *prev = current;
	current = t;
	int rc = err ? coro_throw(t->coro, err, &y) : coro_send(t->coro, v, &y);
	current = prev;
	if (rc == 0)
		task_suspended(t, y);
	else
		task_finish(t, rc, y);
}

static int task_ops_cancel(future_t *f)
{
	task_t *t = (task_t *)f;
	if (t->waiting && future_cancel(t->waiting) == 0)
		return 0; /* its wakeup delivers the cancellation */
	t->must_cancel = 1;
	if (loop_timer_armed(&t->step) && t != current)
		loop_timer_soon(t->fut.loop, &t->step); /* cut a sleep short */
	return 0;
}

int task_cancel(task_t *t)
{
	return future_cancel(&t->fut);
}

int task_await(future_t *f, void **result)
{
	task_t *t = current;
	if (!t)
		return CRAWL_ENOTTASK;
	if (!future_is(f))
		return CRAWL_EINVAL;
	if (future_done(f) && t->fair < TASK_FAIR_BUDGET && !t->must_cancel) {
		t->fair++;
		return future_result(f, result);
	}
	int rc = coro_yield(f, NULL);
	t->fair = 0;
	if (rc)
		return rc;
	return future_result(f, result);
}

int task_sleep(double seconds)
{
	task_t *t = current;
	if (!t)
		return CRAWL_ENOTTASK;
	if (!(seconds >= 0) || isinf(seconds))
		return CRAWL_EINVAL;
	loop_timer_after(t->fut.loop, &t->step, seconds);
	int rc = coro_yield(&sleep_marker, NULL);
	t->fair = 0;
	return rc;
}

int task_yield(void)
{
	if (!current)
		return CRAWL_ENOTTASK;
	int rc = coro_yield(&yield_marker, NULL);
	current->fair = 0;
	return rc;
}

/* ---- sleep_future ---- */

struct sleep_fut {
	struct future f;
	struct loop_timer timer; /* holds a reference while armed */
	void *result;
};

static void sleep_fire(void *arg)
{
	struct sleep_fut *s = arg;
	future_set_result(&s->f, s->result);
	future_unref(&s->f);
}

static void sleep_drop(void *arg)
{
	future_unref(arg);
}

static int sleep_cancel(future_t *f)
{
	struct sleep_fut *s = (struct sleep_fut *)f;
	int rc = future__set_cancelled(f);
	if (loop_timer_armed(&s->timer)) {
		loop_timer_stop(f->loop, &s->timer);
		future_unref(f);
	}
	return rc;
}

static void sleep_destroy(future_t *f)
{
	free(f);
}

static const struct future_ops sleep_ops = {"Sleep", sleep_cancel, sleep_destroy};

int sleep_future(loop_t *l, double seconds, void *result, future_t **out)
{
	if (!(seconds >= 0) || isinf(seconds))
		return CRAWL_EINVAL;
	if (loop_is_closed(l))
		return CRAWL_ELOOPCLOSED;
	struct sleep_fut *s = malloc(sizeof *s);
	if (!s)
		return CRAWL_ENOMEM;
	future__init(&s->f, l, &sleep_ops);
	s->f.refs = 2;
	s->result = result;
	loop_timer_init(&s->timer, sleep_fire, s);
	s->timer.drop = sleep_drop;
	loop_timer_after(l, &s->timer, seconds);
	*out = &s->f;
	return 0;
}
