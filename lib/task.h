/* task.h - asyncio's Task: a future that drives a coroutine on the loop.
 *
 * create_task returns a PENDING task; its coroutine starts on the next loop
 * turn. Inside, task_await(f) suspends the task (not the thread) until f is
 * done: the coroutine yields f up to the task, through any number of
 * coro_yield_from levels, and the task resumes it when f's done callback
 * fires. The coroutine's return value becomes the task's result; an error it
 * returns becomes the task's error.
 *
 * Cancellation (task_cancel): the pending await returns CRAWL_ECANCELLED.
 * The coroutine may clean up, even await again, and then finish; if it
 * finishes with CRAWL_ECANCELLED the task ends CANCELLED, if it returns a
 * value anyway the task ends FINISHED (as asyncio, the cancel was
 * swallowed).
 *
 * Fairness: awaiting a future that is already done returns at once, but
 * after TASK_FAIR_BUDGET such returns in a row the task yields to the loop
 * so others run. A task that never awaits is never preempted.
 *
 * Task coroutines use the thread's default coroutine mode unless opts says
 * otherwise; shared-stack mode keeps a sleeping shallow task to a few
 * hundred bytes.
 */
#ifndef CRAWL_TASK_H
#define CRAWL_TASK_H

#include "coro.h"
#include "future.h"

enum { TASK_FAIR_BUDGET = 64 };

typedef struct task task_t;

/* Creates a task running fn(arg) (a coro_fn: return 0 and set *result, or
 * return a negative error). The returned task holds one reference for the
 * caller (future_unref(task_future(t)) or task_unref when done with it);
 * the loop keeps its own until the task ends. opts may be NULL.
 * Errors: CRAWL_ENOMEM, CRAWL_ELOOPCLOSED. */
int task_create(loop_t *l, coro_fn fn, void *arg, const struct coro_opts *opts, task_t **out);

future_t *task_future(task_t *t);
task_t *task_from_future(future_t *f); /* NULL if f is not a task */
void task_unref(task_t *t);
enum future_state task_state(const task_t *t);
/* Same as future_result on the task. */
int task_result(const task_t *t, void **result);

/* The task whose coroutine is running (also from inside yield_from
 * sub-coroutines), or NULL. */
task_t *task_current(void);
loop_t *task_loop(const task_t *t);

/* Inside a task: waits for f. Returns 0 and *result (may be NULL), or f's
 * error, or CRAWL_ECANCELLED (f was cancelled, or this task was), or
 * CRAWL_ENOTTASK outside a task. f is not consumed: the caller keeps its
 * reference. */
int task_await(future_t *f, void **result);

/* Inside a task: suspends this task only, for seconds (asyncio.sleep).
 * 0, CRAWL_ECANCELLED, CRAWL_ENOTTASK or CRAWL_EINVAL (negative/NaN). */
int task_sleep(double seconds);
/* Inside a task: lets the other ready tasks run once (asyncio.sleep(0)). */
int task_yield(void);

/* A future that finishes with result after seconds (for gather/wait).
 * Errors: CRAWL_ENOMEM, CRAWL_EINVAL. */
int sleep_future(loop_t *l, double seconds, void *result, future_t **out);

/* Requests cancellation. Returns 0, or CRAWL_EDONE if the task is already
 * done (nothing happens). Same as future_cancel(task_future(t)). */
int task_cancel(task_t *t);

#endif
