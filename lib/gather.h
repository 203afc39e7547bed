/* gather.h - asyncio.gather, wait, wait_for and as_completed.
 *
 * gather(futures) is one future whose result is a struct gather_result
 * (owned by the gather future) holding each child's result in argument
 * order. The first child error fails the gather without cancelling the
 * others (as asyncio); with GATHER_RETURN_ERRORS the errors are kept as
 * results instead (return_exceptions=True). A cancelled child counts as
 * the error CRAWL_ECANCELLED. Cancelling the gather cancels every child
 * still pending and the gather ends CANCELLED (future_cancel returns
 * CRAWL_EDONE if no child could be cancelled: they are all done and the
 * gather is about to end). The gather holds a reference to each child until
 * that child ends; freeing the gather early detaches it from the children.
 */
#ifndef CRAWL_GATHER_H
#define CRAWL_GATHER_H

#include "task.h"

enum { GATHER_RETURN_ERRORS = 1 };

struct gather_result {
	size_t count;
	void **values; /* values[i]: child i's result (NULL if it failed) */
	int *errors;   /* errors[i]: child i's error, or 0 */
};

/* futures[i] are not consumed (the gather takes its own references) and
 * must belong to loop l. *out holds the caller's reference.
 * Errors: CRAWL_ENOMEM, CRAWL_EINVAL (a NULL, a non-future or another
 * loop's future; n == 0 is fine: finishes at once with an empty result). */
int gather(loop_t *l, future_t *const *futures, size_t n, int flags, future_t **out);

enum wait_mode { WAIT_ALL_COMPLETED, WAIT_FIRST_COMPLETED, WAIT_FIRST_ERROR };

/* The two sets of wait(): pointers into the caller's array order. */
struct wait_sets {
	future_t **done;
	size_t ndone;
	future_t **pending;
	size_t npending;
};

/* Inside a task: waits until mode is satisfied or timeout seconds pass
 * (timeout < 0: none). WAIT_FIRST_ERROR, as asyncio's FIRST_EXCEPTION,
 * does not count a cancelled future as an error. Fills *sets (free with
 * wait_sets_free; the futures are borrowed from the caller's array); no
 * future is cancelled; n == 0 returns at once with empty sets. Returns 0,
 * CRAWL_ECANCELLED, CRAWL_ENOTTASK, CRAWL_ENOMEM, CRAWL_EINVAL (NULL,
 * non-future or another loop's future, NaN timeout, unknown mode). */
int task_wait(future_t *const *futures, size_t n, double timeout, enum wait_mode mode,
	      struct wait_sets *sets);
void wait_sets_free(struct wait_sets *sets);

/* Inside a task: awaits f for at most timeout seconds (< 0: no limit); on
 * timeout f is cancelled, waited for until it has really ended, and
 * CRAWL_ETIMEDOUT returned. If this task is cancelled meanwhile, f is
 * cancelled and waited for too, and CRAWL_ECANCELLED returned. Otherwise
 * as task_await (CRAWL_EINVAL for a non-future, another loop's future or
 * a NaN timeout). */
int task_wait_for(future_t *f, double timeout, void **result);

/* as_completed: yields the futures in the order they finish. The iterator
 * takes a reference to each future; timeout (seconds from creation, < 0:
 * none) bounds the whole iteration. Errors: CRAWL_ENOMEM, CRAWL_EINVAL. */
typedef struct as_completed as_completed_t;
int as_completed_new(loop_t *l, future_t *const *futures, size_t n, double timeout,
		     as_completed_t **out);
/* Inside a task: the next finished future in *f (a reference held by the
 * iterator, valid until as_completed_free). Returns 0, CRAWL_ETIMEDOUT
 * (futures finished before the timeout are still returned first),
 * CRAWL_ENOTFOUND when every future has been returned, CRAWL_ECANCELLED,
 * CRAWL_ENOTTASK, CRAWL_EBUSY (another task is waiting on this iterator). */
int as_completed_next(as_completed_t *ac, future_t **f);
/* Drops the references and detaches from the futures. NULL is fine. */
void as_completed_free(as_completed_t *ac);

#endif
