/* gather.c - gather, wait, wait_for and as_completed over done callbacks.
 *
 * Nothing here lives on a task's coroutine stack while the task is
 * suspended: in shared-stack mode those bytes are copied away and the
 * address holds another coroutine's stack, so every state a callback or
 * timer touches is on the heap.
 */
#include "gather.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- gather ---- */

/* Per child i: children[i] (referenced until child i ends, then NULL) and
 * res->values[i], res->errors[i]. While child i is pending, values[i] holds
 * the gather itself and the child's done callback gets &values[i]: from it
 * the callback finds both the gather and i, so a child costs 20 bytes here
 * plus its first callback entry, which lives inline in the child. */
struct gather {
	struct future fut;         /* first: a gather is a future */
	struct gather_result *res; /* freed with fut once given to it */
	future_t **children;
	size_t n, remaining;
	uint8_t return_errors;
	uint8_t cancel_requested;
	uint8_t res_given; /* res now belongs to fut (its result) */
};

static void gather_child_done(future_t *child, void *arg);

static int gather_cancel(future_t *f)
{
	struct gather *g = (struct gather *)f;
	int any = 0;
	/* Children's callbacks never run inline, so the array holds still. */
	for (size_t i = 0; i < g->n; i++)
		if (g->children[i] && future_cancel(g->children[i]) == 0)
			any = 1;
	if (!any)
		return CRAWL_EDONE; /* every child is done: the gather ends anyway */
	g->cancel_requested = 1;
	return 0;
}

/* Detaches from the children still pending: nobody holds the gather any
 * more, so nobody can see it complete. (A pending child means res was not
 * given away.) */
static void gather_destroy(future_t *f)
{
	struct gather *g = (struct gather *)f;
	for (size_t i = 0; i < g->n; i++) {
		if (!g->children[i])
			continue;
		future_remove_done_callback(g->children[i], gather_child_done, &g->res->values[i]);
		future_unref(g->children[i]);
	}
	if (!g->res_given)
		free(g->res);
	free(g);
}

static const struct future_ops gather_ops = {"Gather", gather_cancel, gather_destroy};

static void gather_finish(struct gather *g)
{
	if (g->cancel_requested) {
		future__set_cancelled(&g->fut);
		return;
	}
	if (future_set_result_owned(&g->fut, g->res, free) == 0)
		g->res_given = 1;
}

static void gather_child_done(future_t *child, void *arg)
{
	void **slot = arg;
	struct gather *g = *slot;
	size_t i = (size_t)(slot - g->res->values);
	void *value = NULL;
	int err = future_result(child, &value);
	g->res->values[i] = err ? NULL : value;
	g->res->errors[i] = err;
	g->children[i] = NULL;
	g->remaining--;
	future_unref(child); /* its callback batch holds its own reference */
	if (future_done(&g->fut))
		return; /* failed earlier: only absorbing the rest */
	if (err && !g->return_errors) {
		if (g->cancel_requested)
			future__set_cancelled(&g->fut);
		else
			future_set_error(&g->fut, err);
		return;
	}
	if (g->remaining == 0)
		gather_finish(g);
}

static int gather_check(loop_t *l, future_t *const *futures, size_t n, int flags)
{
	if (!l || (n && !futures) || (flags & ~GATHER_RETURN_ERRORS))
		return CRAWL_EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!future_is(futures[i]) || future_loop(futures[i]) != l)
			return CRAWL_EINVAL;
	return 0;
}

static int gather_alloc(loop_t *l, size_t n, int flags, struct gather **out)
{
	if (n > (SIZE_MAX - sizeof(struct gather_result)) / (2 * sizeof(void *) + sizeof(int)))
		return CRAWL_ENOMEM;
	struct gather *g = malloc(sizeof *g + n * sizeof(future_t *));
	struct gather_result *res = malloc(sizeof *res + n * (sizeof(void *) + sizeof(int)));
	if (!g || !res)
		goto fail;
	future__init(&g->fut, l, &gather_ops);
	res->count = n;
	res->values = (void **)(res + 1);
	res->errors = (int *)(res->values + n);
	g->res = res;
	g->children = (future_t **)(g + 1);
	g->n = n;
	g->remaining = 0;
	g->return_errors = (flags & GATHER_RETURN_ERRORS) != 0;
	g->cancel_requested = 0;
	g->res_given = 0;
	*out = g;
	return 0;
fail:
	free(g);
	free(res);
	return CRAWL_ENOMEM;
}

int gather(loop_t *l, future_t *const *futures, size_t n, int flags, future_t **out)
{
	struct gather *g = NULL;
	int rc = out ? gather_check(l, futures, n, flags) : CRAWL_EINVAL;
	if (rc == 0)
		rc = gather_alloc(l, n, flags, &g);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		g->res->values[i] = g;
		g->res->errors[i] = 0;
		g->children[i] = NULL;
		rc = future_add_done_callback(futures[i], gather_child_done, &g->res->values[i]);
		if (rc)
			goto fail;
		future_ref(futures[i]);
		g->children[i] = futures[i];
		g->remaining++;
	}
	if (n == 0)
		gather_finish(g);
	*out = &g->fut;
	return 0;
fail:
	g->n = g->remaining; /* destroy detaches only those */
	future_unref(&g->fut);
	return rc;
}

/* ---- wait and wait_for ---- */

/* The task awaits wake; the children's callbacks or the timeout complete
 * it. */
struct waiter {
	future_t *wake;
	struct loop_timer timer;
	size_t pending; /* callbacks not yet run */
	enum wait_mode mode;
	uint8_t timed_out;
};

static void waiter_wake(struct waiter *w)
{
	if (!future_done(w->wake))
		future_set_result(w->wake, NULL);
}

static void waiter_timeout(void *arg)
{
	struct waiter *w = arg;
	w->timed_out = 1;
	waiter_wake(w);
}

/* asyncio's FIRST_EXCEPTION: a cancelled future is no error here. */
static int failed_not_cancelled(const future_t *f)
{
	return future_error(f) != 0 && !future_cancelled(f);
}

static void waiter_child_done(future_t *f, void *arg)
{
	struct waiter *w = arg;
	w->pending--;
	if (w->mode == WAIT_FIRST_COMPLETED || w->pending == 0 ||
	    (w->mode == WAIT_FIRST_ERROR && failed_not_cancelled(f)))
		waiter_wake(w);
}

static void waiter_free(struct waiter *w, loop_t *l, future_t *const *futures, size_t n)
{
	loop_timer_stop(l, &w->timer);
	for (size_t i = 0; i < n; i++)
		future_remove_done_callback(futures[i], waiter_child_done, w);
	future_unref(w->wake);
	free(w);
}

/* Registers on the children; *out is ready to be awaited. */
static int waiter_start(loop_t *l, future_t *const *futures, size_t n, enum wait_mode mode,
                        struct waiter **out)
{
	struct waiter *w = calloc(1, sizeof *w);
	if (!w)
		return CRAWL_ENOMEM;
	size_t i = 0;
	int rc = future_new(l, &w->wake);
	if (rc)
		goto fail;
	loop_timer_init(&w->timer, waiter_timeout, w);
	w->mode = mode;
	for (; i < n; i++) {
		rc = future_add_done_callback(futures[i], waiter_child_done, w);
		if (rc)
			goto fail;
		w->pending++;
	}
	*out = w;
	return 0;
fail:
	if (w->wake)
		waiter_free(w, l, futures, i);
	else
		free(w);
	return rc;
}

static int wait_check(future_t *const *futures, size_t n, double timeout, enum wait_mode mode,
                      struct wait_sets *sets)
{
	if (!sets || (n && !futures) || isnan(timeout) || (unsigned)mode > WAIT_FIRST_ERROR)
		return CRAWL_EINVAL;
	task_t *t = task_current();
	if (!t)
		return CRAWL_ENOTTASK;
	for (size_t i = 0; i < n; i++)
		if (!future_is(futures[i]) || future_loop(futures[i]) != task_loop(t))
			return CRAWL_EINVAL;
	return 0;
}

/* One block holds both sets: done at its start, pending right after. */
static int wait_sets_fill(future_t *const *futures, size_t n, struct wait_sets *sets)
{
	size_t ndone = 0;
	for (size_t i = 0; i < n; i++)
		ndone += future_done(futures[i]) != 0;
	future_t **block = n ? malloc(n * sizeof *block) : NULL;
	if (n && !block)
		return CRAWL_ENOMEM;
	sets->done = block;
	sets->pending = block ? block + ndone : NULL;
	sets->ndone = sets->npending = 0;
	for (size_t i = 0; i < n; i++) {
		if (future_done(futures[i]))
			sets->done[sets->ndone++] = futures[i];
		else
			sets->pending[sets->npending++] = futures[i];
	}
	return 0;
}

int task_wait(future_t *const *futures, size_t n, double timeout, enum wait_mode mode,
              struct wait_sets *sets)
{
	int rc = wait_check(futures, n, timeout, mode, sets);
	if (rc)
		return rc;
	memset(sets, 0, sizeof *sets);
	if (n == 0)
		return 0;
	loop_t *l = task_loop(task_current());
	struct waiter *w = NULL;
	rc = waiter_start(l, futures, n, mode, &w);
	if (rc)
		return rc;
	if (timeout >= 0)
		loop_timer_after(l, &w->timer, timeout);
	rc = task_await(w->wake, NULL);
	waiter_free(w, l, futures, n);
	return rc ? rc : wait_sets_fill(futures, n, sets);
}

void wait_sets_free(struct wait_sets *sets)
{
	if (!sets)
		return;
	free(sets->done);
	memset(sets, 0, sizeof *sets);
}

/* asyncio's _cancel_and_wait: the caller learns of the timeout only once
 * f has really ended (a task may clean up first). */
static void cancel_and_wait(future_t *f)
{
	if (future_done(f))
		return;
	future_cancel(f);
	if (!future_done(f))
		task_await(f, NULL); /* returns early only if we are cancelled again */
}

int task_wait_for(future_t *f, double timeout, void **result)
{
	task_t *t = task_current();
	if (!t)
		return CRAWL_ENOTTASK;
	if (!future_is(f) || future_loop(f) != task_loop(t) || isnan(timeout))
		return CRAWL_EINVAL;
	if (timeout < 0 || future_done(f))
		return task_await(f, result);
	loop_t *l = task_loop(t);
	struct waiter *w = NULL;
	int rc = waiter_start(l, &f, 1, WAIT_FIRST_COMPLETED, &w);
	if (rc)
		return rc;
	loop_timer_after(l, &w->timer, timeout);
	future_ref(f);
	rc = task_await(w->wake, NULL);
	waiter_free(w, l, &f, 1);
	if (rc == 0 && future_done(f)) {
		rc = future_result(f, result);
	} else if (rc == 0 || rc == CRAWL_ECANCELLED) {
		cancel_and_wait(f);
		rc = rc ? rc : CRAWL_ETIMEDOUT;
	} else {
		future_cancel(f); /* the loop is closing: nothing to wait on */
	}
	future_unref(f);
	return rc;
}

/* ---- as_completed ---- */

struct as_completed {
	loop_t *loop;
	future_t **futures; /* referenced until as_completed_free */
	future_t **order;   /* the done ones, in the order they finished */
	size_t n, ndone, nreturned;
	future_t *wake; /* while a task waits in as_completed_next */
	struct loop_timer timer;
	uint8_t timed_out;
};

static void ac_child_done(future_t *f, void *arg)
{
	as_completed_t *ac = arg;
	if (ac->timed_out)
		return; /* as asyncio: after the timeout only the timeout is told */
	ac->order[ac->ndone++] = f;
	if (ac->wake && !future_done(ac->wake))
		future_set_result(ac->wake, NULL);
}

static void ac_timeout(void *arg)
{
	as_completed_t *ac = arg;
	ac->timed_out = 1;
	if (ac->wake && !future_done(ac->wake))
		future_set_result(ac->wake, NULL);
}

int as_completed_new(loop_t *l, future_t *const *futures, size_t n, double timeout,
                     as_completed_t **out)
{
	if (!out || isnan(timeout) || n > SIZE_MAX / (2 * sizeof(future_t *)))
		return CRAWL_EINVAL;
	int rc = gather_check(l, futures, n, 0);
	if (rc)
		return rc;
	as_completed_t *ac = calloc(1, sizeof *ac + 2 * n * sizeof(future_t *));
	if (!ac)
		return CRAWL_ENOMEM;
	ac->loop = l;
	ac->futures = (future_t **)(ac + 1);
	ac->order = ac->futures + n;
	loop_timer_init(&ac->timer, ac_timeout, ac);
	for (; ac->n < n; ac->n++) {
		rc = future_add_done_callback(futures[ac->n], ac_child_done, ac);
		if (rc)
			goto fail;
		future_ref(futures[ac->n]);
		ac->futures[ac->n] = futures[ac->n];
	}
	if (timeout >= 0)
		loop_timer_after(l, &ac->timer, timeout);
	*out = ac;
	return 0;
fail:
	as_completed_free(ac);
	return rc;
}

/* Waits for one completion or the timeout. */
static int ac_wait(as_completed_t *ac)
{
	if (!task_current())
		return CRAWL_ENOTTASK;
	if (ac->wake)
		return CRAWL_EBUSY; /* another task is already waiting on it */
	int rc = future_new(ac->loop, &ac->wake);
	if (rc)
		return rc;
	rc = task_await(ac->wake, NULL);
	future_unref(ac->wake);
	ac->wake = NULL;
	return rc;
}

int as_completed_next(as_completed_t *ac, future_t **f)
{
	if (!ac || !f)
		return CRAWL_EINVAL;
	/* Twice at most: one wait brings a completion or the timeout. */
	for (int round = 0; round < 2; round++) {
		if (ac->nreturned == ac->n)
			return CRAWL_ENOTFOUND;
		if (ac->nreturned < ac->ndone) {
			*f = ac->order[ac->nreturned++];
			return 0;
		}
		if (ac->timed_out)
			return CRAWL_ETIMEDOUT;
		if (round == 0) {
			int rc = ac_wait(ac);
			if (rc)
				return rc;
		}
	}
	return CRAWL_EPENDING; /* not reached: woken with nothing to tell */
}

void as_completed_free(as_completed_t *ac)
{
	if (!ac)
		return;
	loop_timer_stop(ac->loop, &ac->timer);
	for (size_t i = 0; i < ac->n; i++) {
		future_remove_done_callback(ac->futures[i], ac_child_done, ac);
		future_unref(ac->futures[i]);
	}
	future_unref(ac->wake);
	free(ac);
}
