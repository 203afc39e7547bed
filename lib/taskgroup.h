/* taskgroup.h - structured concurrency (asyncio.TaskGroup, libdill bundles).
 *
 * A parent task starts children in a group and awaits the group. The first
 * child that fails cancels the others, and the group's error says which
 * child failed. Nothing started in a group outlives it: taskgroup_wait
 * returns only when every child has ended; if the parent is cancelled while
 * waiting, the children are cancelled and still waited for.
 */
#ifndef CRAWL_TASKGROUP_H
#define CRAWL_TASKGROUP_H

#include "task.h"

typedef struct taskgroup taskgroup_t;

/* A new, empty group on loop l (kept). Errors: CRAWL_ENOMEM, CRAWL_EINVAL. */
int taskgroup_new(loop_t *l, taskgroup_t **out);
/* Starts a child running fn(arg) (kept, as task_create), in the thread's
 * default coroutine mode. *out (may be NULL) gets a borrowed pointer valid
 * until taskgroup_free (the group holds the reference). Errors:
 * CRAWL_ENOMEM, CRAWL_EINVAL (NULL fn), CRAWL_ELOOPCLOSED, CRAWL_EBUSY (the
 * group has failed or is closed: no new child starts). */
int taskgroup_spawn(taskgroup_t *g, coro_fn fn, void *arg, task_t **out);
/* Inside the parent task: waits for every child. Returns 0 if all finished,
 * else the first failing child's error (CRAWL_ECANCELLED if the parent was
 * cancelled). A child cancelled by someone else is no failure (as
 * asyncio). After it returns the group is closed. CRAWL_ENOTTASK outside a
 * task; CRAWL_ENOMEM or the loop closing (CRAWL_EEXIT) end the wait early
 * with the children cancelled. */
int taskgroup_wait(taskgroup_t *g);
/* The first child that failed, and its index in spawn order (-1 if none). */
task_t *taskgroup_failed(const taskgroup_t *g, long *index);
size_t taskgroup_size(const taskgroup_t *g);
task_t *taskgroup_child(const taskgroup_t *g, size_t i);
/* Frees the group; children still running are cancelled and left to the
 * loop (only for error paths: normally wait first). */
void taskgroup_free(taskgroup_t *g);

#endif
