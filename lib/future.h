/* future.h - asyncio's Future: a result that is not there yet.
 *
 * A future is PENDING, then FINISHED (with a result or an error) or
 * CANCELLED. Done callbacks take a bound argument (the seed's
 * functools.partial): they run from the loop, never inline, in the order
 * they were added, also when added after the future is done.
 *
 * Lifetime: reference counted. The creator holds one reference; the loop,
 * an awaiting task, gather and wait take their own while they need the
 * future. A future is freed when the last reference goes; result values are
 * not owned (see future_set_result_owned for one that is).
 */
#ifndef CRAWL_FUTURE_H
#define CRAWL_FUTURE_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

enum future_state { FUTURE_PENDING, FUTURE_FINISHED, FUTURE_CANCELLED };

typedef void (*future_cb)(future_t *f, void *arg);

struct future_cbent {
	future_cb fn;
	void *arg;
};

/* What kind of future (cancel and free dispatch on it). Internal. */
struct future_ops {
	const char *name;
	int (*cancel)(future_t *f);  /* NULL: plain cancel */
	void (*destroy)(future_t *f); /* frees the containing object */
};

/* The struct is public so that tasks and other futures can embed it as
 * their first member; its fields are private to lib/. */
struct future {
	uint32_t magic;
	uint8_t state;
	uint8_t cb_scheduled;
	uint8_t retrieved;
	uint8_t cb_running;          /* a batch of callbacks is running */
	uint32_t refs;
	int error;
	void *result;
	void (*result_free)(void *);
	loop_t *loop;
	const struct future_ops *ops;
	struct future_cbent cb0;     /* the first callback lives inline */
	struct future_cbent *cbs;    /* the rest */
	uint32_t ncb, capcb;
	struct loop_timer cb_timer;  /* schedules the callbacks */
};

/* A new PENDING future bound to loop l. Errors: CRAWL_ENOMEM. */
int future_new(loop_t *l, future_t **out);

void future_ref(future_t *f);
/* Drops a reference; frees at zero. NULL is fine. */
void future_unref(future_t *f);

enum future_state future_state(const future_t *f);
/* "PENDING", "FINISHED" or "CANCELLED" (the seed prints task._state). */
const char *future_state_name(enum future_state s);
int future_done(const future_t *f);
int future_cancelled(const future_t *f);
/* 1 if f is a future (checks a magic number; for values of unknown kind). */
int future_is(const void *p);

/* Completes f. Errors: CRAWL_EDONE if f is already done (nothing changes). */
int future_set_result(future_t *f, void *result);
/* Same, and f owns result: free_fn(result) runs when f is freed. */
int future_set_result_owned(future_t *f, void *result, void (*free_fn)(void *));
/* err must be negative. */
int future_set_error(future_t *f, int err);

/* 0 and *result (may be NULL) if FINISHED with a result; the error if
 * FINISHED with one; CRAWL_ECANCELLED if cancelled; CRAWL_EPENDING if not
 * done yet. */
int future_result(const future_t *f, void **result);
/* The error of a done future (0 if it has a result). */
int future_error(const future_t *f);

/* Cancels: a pending future becomes CANCELLED (a task is asked to stop:
 * see task_cancel). Returns 0, or CRAWL_EDONE if it was already done and
 * nothing happened. */
int future_cancel(future_t *f);

/* Adds fn(f, arg). Errors: CRAWL_ENOMEM. */
int future_add_done_callback(future_t *f, future_cb fn, void *arg);
/* Removes every (fn, arg) entry not yet run; returns how many. */
int future_remove_done_callback(future_t *f, future_cb fn, void *arg);

loop_t *future_loop(const future_t *f);

/* Internal: embedders initialise the struct and finish it. */
void future__init(future_t *f, loop_t *l, const struct future_ops *ops);
void future__fini(future_t *f);
/* Marks f CANCELLED and schedules its callbacks (no ops dispatch). */
int future__set_cancelled(future_t *f);

#endif
