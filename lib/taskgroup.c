/* taskgroup.c - a parent waits for every child; the first failure cancels
 * the rest. State is on the heap (see gather.c: a suspended shared-stack
 * coroutine's stack is not addressable). */
#include "taskgroup.h"

#include <stdint.h>
#include <stdlib.h>

struct taskgroup {
	loop_t *loop;
	task_t **children; /* one reference each, until taskgroup_free */
	size_t n, cap;
	size_t running; /* children whose done callback has not run */
	task_t *failed; /* first child that failed (not cancelled) */
	long failed_index;
	future_t *wake; /* while the parent waits */
	uint8_t closed; /* wait has returned: no new child */
};

int taskgroup_new(loop_t *l, taskgroup_t **out)
{
	if (!l || !out)
		return CRAWL_EINVAL;
	taskgroup_t *g = calloc(1, sizeof *g);
	if (!g)
		return CRAWL_ENOMEM;
	g->loop = l;
	g->failed_index = -1;
	*out = g;
	return 0;
}

static void cancel_children(taskgroup_t *g)
{
	for (size_t i = 0; i < g->n; i++)
		task_cancel(g->children[i]); /* CRAWL_EDONE for the ended: fine */
}

static long child_index(const taskgroup_t *g, const future_t *f)
{
	for (size_t i = 0; i < g->n; i++)
		if (task_future(g->children[i]) == f)
			return (long)i;
	return -1;
}

static void child_done(future_t *f, void *arg)
{
	taskgroup_t *g = arg;
	g->running--;
	/* A child cancelled by us (or anyone) is no failure, as asyncio's. */
	if (future_error(f) && !future_cancelled(f) && !g->failed) {
		g->failed = task_from_future(f);
		g->failed_index = child_index(g, f);
		cancel_children(g);
	}
	if (g->running == 0 && g->wake && !future_done(g->wake))
		future_set_result(g->wake, NULL);
}

static int children_reserve(taskgroup_t *g)
{
	if (g->n < g->cap)
		return 0;
	size_t cap = g->cap ? g->cap * 2 : 8;
	if (cap > SIZE_MAX / sizeof *g->children)
		return CRAWL_ENOMEM;
	task_t **p = realloc(g->children, cap * sizeof *p);
	if (!p)
		return CRAWL_ENOMEM;
	g->children = p;
	g->cap = cap;
	return 0;
}

int taskgroup_spawn(taskgroup_t *g, coro_fn fn, void *arg, task_t **out)
{
	if (!g || !fn)
		return CRAWL_EINVAL;
	if (g->failed || g->closed)
		return CRAWL_EBUSY;
	task_t *t = NULL;
	int rc = children_reserve(g);
	if (rc == 0)
		rc = task_create(g->loop, fn, arg, NULL, &t);
	if (rc)
		return rc;
	rc = future_add_done_callback(task_future(t), child_done, g);
	if (rc)
		goto fail;
	g->children[g->n++] = t;
	g->running++;
	if (out)
		*out = t;
	return 0;
fail:
	task_cancel(t); /* not started yet: it ends at its first step */
	task_unref(t);
	return rc;
}

/* One await on a fresh wake future; 0 when it was completed. */
static int wait_once(taskgroup_t *g)
{
	int rc = future_new(g->loop, &g->wake);
	if (rc)
		return rc;
	rc = task_await(g->wake, NULL);
	future_unref(g->wake);
	g->wake = NULL;
	return rc;
}

int taskgroup_wait(taskgroup_t *g)
{
	if (!g)
		return CRAWL_EINVAL;
	if (!task_current())
		return CRAWL_ENOTTASK;
	int rc = 0, parent_cancelled = 0;
	/* Each round ends with children ending or with the parent cancelled. */
	while (g->running > 0) {
		rc = wait_once(g);
		if (rc == CRAWL_ECANCELLED) {
			parent_cancelled = 1;
			cancel_children(g);
			continue;
		}
		if (rc) {
			cancel_children(g); /* out of memory, or the loop closing */
			break;
		}
	}
	g->closed = 1;
	if (rc && rc != CRAWL_ECANCELLED)
		return rc;
	if (parent_cancelled)
		return CRAWL_ECANCELLED;
	return g->failed ? future_error(task_future(g->failed)) : 0;
}

task_t *taskgroup_failed(const taskgroup_t *g, long *index)
{
	if (index)
		*index = g ? g->failed_index : -1;
	return g ? g->failed : NULL;
}

size_t taskgroup_size(const taskgroup_t *g)
{
	return g ? g->n : 0;
}

task_t *taskgroup_child(const taskgroup_t *g, size_t i)
{
	return g && i < g->n ? g->children[i] : NULL;
}

void taskgroup_free(taskgroup_t *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->n; i++) {
		future_remove_done_callback(task_future(g->children[i]), child_done, g);
		task_cancel(g->children[i]);
		task_unref(g->children[i]);
	}
	future_unref(g->wake);
	free(g->children);
	free(g);
}
