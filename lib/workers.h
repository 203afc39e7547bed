/* workers.h - a small thread pool whose results come back to one loop.
 *
 * CPU-bound work (HTML parsing) would stall the single loop thread; a pool
 * runs it on other cores. fn(arg) runs on a worker thread; its future
 * completes on the loop thread afterwards, so every future, task and loop
 * structure is touched by the loop thread only. Completions cross threads
 * through a mutex-protected done-queue and one eventfd, registered as a
 * persistent libevent read event on loop_event_base(): a worker writes the
 * eventfd only when the done-queue goes from empty to non-empty, and the
 * loop drains every finished job per wake-up.
 *
 * A pool with 0 threads runs fn inline at submit time (the future is
 * returned already done), so the same code works on one core.
 *
 * Worker threads block every signal: signals stay with the loop thread.
 */
#ifndef CRAWL_WORKERS_H
#define CRAWL_WORKERS_H

#include "future.h"
#include "loop.h"

/* Threads in one pool at most. */
#define WORKERS_MAX_THREADS 64
/* Jobs waiting for a thread (not yet started) at most, per pool. */
#define WORKERS_MAX_QUEUE 4096

struct workers;

/* Creates a pool of nthreads threads (0 to WORKERS_MAX_THREADS) bound to
 * loop l (borrowed: it must outlive the pool and stay open until
 * workers_free). The caller owns *out (workers_free). Call from l's thread.
 * Errors: CRAWL_EINVAL (l or out NULL, nthreads out of range),
 * CRAWL_ENOMEM, CRAWL_ESYS (eventfd, libevent, mutex or pthread_create
 * failed; nothing is left behind). On error *out is NULL. */
int workers_new(loop_t *l, int nthreads, struct workers **out);

/* Runs fn(arg) on a worker thread. fn must not touch the loop, futures or
 * anything else of the loop thread; arg is borrowed and must stay valid
 * until the future is done (once it is done, fn has returned or will never
 * run). *out is a new future owned by the caller (one reference: drop it
 * with future_unref); it completes on the loop thread, FINISHED with a
 * NULL result after fn returned.
 * Cancelling the future before fn started removes the job (CANCELLED at
 * once, fn never runs); after it started, the future stays PENDING until
 * fn returns and then ends CANCELLED. With 0 threads fn runs inside this
 * call and *out is already FINISHED. Call from the loop thread.
 * Errors: CRAWL_EINVAL (w, fn or out NULL), CRAWL_EBUSY
 * (WORKERS_MAX_QUEUE jobs already wait: run fn yourself or later),
 * CRAWL_ENOMEM. On error *out is NULL and fn does not run. */
int workers_submit(struct workers *w, void (*fn)(void *arg), void *arg, future_t **out);

/* Threads in the pool (0: inline). */
int workers_threads(const struct workers *w);

/* Stops the threads after their current job and joins them; jobs still
 * waiting are cancelled (their futures end CANCELLED, fn never runs), jobs
 * that had finished complete as usual. Callers' future references stay
 * valid. Call from the loop thread, before loop_close/loop_free (the
 * loop's event_base still holds the pool's event). NULL is fine. */
void workers_free(struct workers *w);

#endif
