/* loop.h - the event loop: one per thread, around one libevent event_base.
 *
 * asyncio's loop in C. Each iteration: wait for I/O (epoll through libevent)
 * no longer than until the first timer; when callbacks are ready, poll
 * without waiting, and at most every 50 us (a poll is a system call, dearer
 * than most callbacks); then move due timers to the ready queue; then run the callbacks that
 * were ready when the phase began (ones they schedule wait for the next
 * iteration, so a callback that reschedules itself cannot starve I/O).
 *
 * Timers are keyed by absolute monotonic deadlines and live in the loop's
 * own structures: a timing wheel of about 1 ms ticks covering the next 4 s
 * (arming or stopping a timer there is O(1), no allocation), in front of a
 * binary heap holding the current tick's timers in exact deadline order,
 * and a second heap for timers beyond the wheel. libevent holds a single
 * timeout for the earliest wake-up. The clock is read once per iteration
 * (loop_now), never per timer.
 *
 * Other modules register their own I/O events on loop_event_base(); their
 * libevent callbacks run inside the loop's poll phase.
 */
#ifndef CRAWL_LOOP_H
#define CRAWL_LOOP_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct event_base;
typedef struct loop loop_t;
typedef struct future future_t;

typedef void (*loop_fn)(void *arg);

/* A callback slot that the caller embeds in its own struct (no allocation).
 * Fields are private; zero-initialise or use loop_timer_init. While armed,
 * the timer must stay valid and unmoved. */
struct loop_timer {
	loop_fn fn;
	void *arg;
	loop_fn drop;            /* public: called instead of fn when loop_close
				  * discards the armed timer (release what it holds) */
	uint64_t deadline;       /* ns on the loop clock */
	struct loop_timer *next, *prev; /* ready-queue or wheel-slot links */
	uint32_t heap_index;     /* 1-based slot in a timer heap */
	uint8_t where;           /* none, ready queue, a heap or the wheel */
};

/* A callback handle returned by loop_call_soon / loop_call_later. */
typedef struct loop_handle loop_handle_t;

/* Diagnostics that lib/ does not print (asyncio's "Task was destroyed but it
 * is pending!"): level is a syslog priority (3 err, 4 warning, 7 debug). */
typedef void (*loop_report_fn)(void *arg, int level, const char *msg);

/* Creates a loop. On Linux the libevent backend must be epoll; anything
 * else fails with CRAWL_ESYS. Errors: CRAWL_ENOMEM, CRAWL_ESYS. */
int loop_new(loop_t **out);

/* Sets the diagnostics hook (NULL: drop them). The loop reports its
 * backend ("event loop backend: epoll") at level 7 when the hook is set. */
void loop_set_report(loop_t *l, loop_report_fn fn, void *arg);
void loop__report(loop_t *l, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Runs until f is done. Returns 0 with *result = f's result, or f's error,
 * or CRAWL_ECANCELLED if f was cancelled. CRAWL_ELOOPCLOSED on a closed
 * loop, CRAWL_ELOOPRUNNING if called from inside the running loop. A loop
 * can be run again and again until it is closed. */
int loop_run_until_complete(loop_t *l, future_t *f, void **result);

/* Runs until loop_stop. Returns 0, CRAWL_ELOOPCLOSED or CRAWL_ELOOPRUNNING. */
int loop_run_forever(loop_t *l);

/* Makes run_forever / run_until_complete return after the current
 * iteration. */
void loop_stop(loop_t *l);

/* Closes the loop: every task still pending is reported (level 4, "Task
 * was destroyed but it is pending!") and destroyed, pending callbacks are
 * dropped, libevent is freed. Returns the number of pending tasks that were
 * destroyed, or CRAWL_ELOOPRUNNING. Idempotent. The loop object stays until
 * loop_free, so running it after close is a clean CRAWL_ELOOPCLOSED. */
int loop_close(loop_t *l);

/* Closes if needed and frees. NULL is fine. */
void loop_free(loop_t *l);

int loop_is_closed(const loop_t *l);
int loop_is_running(const loop_t *l);

/* Monotonic time in ns, read once per iteration (cached). */
uint64_t loop_now(const loop_t *l);
/* The same in seconds, as asyncio's loop.time(). */
double loop_time(const loop_t *l);
/* Reads the clock now and updates the cache. */
uint64_t loop_update_time(loop_t *l);

struct event_base *loop_event_base(loop_t *l);

/* Embedded timers and ready callbacks (no allocation). */
void loop_timer_init(struct loop_timer *t, loop_fn fn, void *arg);
/* Runs t->fn on a later iteration, after the callbacks already queued. */
void loop_timer_soon(loop_t *l, struct loop_timer *t);
/* Runs t->fn at deadline_ns (absolute, loop clock); re-arming moves it. */
void loop_timer_at(loop_t *l, struct loop_timer *t, uint64_t deadline_ns);
void loop_timer_after(loop_t *l, struct loop_timer *t, double seconds);
/* Disarms t wherever it is queued (unlinked at once: t may be freed
 * afterwards). Safe on a disarmed timer. */
void loop_timer_stop(loop_t *l, struct loop_timer *t);
int loop_timer_armed(const struct loop_timer *t);

/* asyncio's call_soon / call_later. The loop owns the handle until it has
 * run or been cancelled; with out non-NULL the caller also holds a reference
 * and must drop it with loop_handle_cancel or loop_handle_release (both fine
 * after the callback ran). Errors: CRAWL_ENOMEM, CRAWL_ELOOPCLOSED,
 * CRAWL_EINVAL (negative or NaN delay). */
int loop_call_soon(loop_t *l, loop_fn fn, void *arg, loop_handle_t **out);
int loop_call_later(loop_t *l, double delay, loop_fn fn, void *arg, loop_handle_t **out);
/* Cancels (if not yet run) and releases the caller's reference. Returns 0
 * if it was cancelled, CRAWL_EDONE if it had already run. */
int loop_handle_cancel(loop_handle_t *h);
void loop_handle_release(loop_handle_t *h);

/* Internal: runs iterations until *flag is set (0) or loop_stop
 * (CRAWL_EPENDING); the heart of run_until_complete, in future.c. */
int loop__run_until(loop_t *l, const uint8_t *flag);

/* Internal: pending tasks register so that close can report and destroy
 * them (destroy is called once, from loop_close). */
struct loop__task_link {
	struct loop__task_link *prev, *next;
	void (*destroy)(struct loop__task_link *link);
};
void loop__task_add(loop_t *l, struct loop__task_link *link);
void loop__task_remove(loop_t *l, struct loop__task_link *link);

#endif
