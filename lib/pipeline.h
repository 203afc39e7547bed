/* pipeline.h - the seed's yield-from example (section 2.3) as a reusable part.
 *
 * A pipeline is a delegating coroutine that loops forever. Each round it
 * creates a sorting sub-coroutine and runs it with coro_yield_from: every
 * value sent to the pipeline passes through the delegator into the sorter
 * (which never learns who sent it), and the end marker makes the sorter
 * return its values sorted. The delegator then hands that batch to the emit
 * callback and starts the next round.
 *
 *   Python (seed 2.3)                       C
 *   c = dele_coro()          (primed)       pipeline_new(&p, cmp, ctx, emit, arg)
 *   c.send(country)                         pipeline_send(p, country)
 *   c.send('CLOSE')                         pipeline_end_batch(p)
 *   l = yield from sub_coro(); print(l)     emit(arg, batch)
 *
 * Values are void pointers that the pipeline only stores and compares; it
 * never frees them. The sort is a stable merge sort: values that compare
 * equal keep the order they were sent in. Sorting n values costs O(n log n)
 * comparisons and 2 * n pointers of memory, all allocated while the values
 * arrive, so the end of a batch allocates nothing.
 *
 * Bound: a batch holds at most max_batch values (default
 * PIPELINE_DEFAULT_MAX_BATCH). The value that fills it ends the batch as the
 * end marker would: the full batch is emitted during that pipeline_send, and
 * the next value starts a new batch.
 *
 * Threads: a pipeline belongs to the thread that created it (it is a
 * coroutine). pipeline_new runs its coroutines in the thread's default stack
 * mode; in shared-stack mode feed it from where it was created (the thread's
 * stack, or the coroutine that created it): a coroutine running on the
 * shared stack the delegator is bound to gets CRAWL_ESHARED (see coro.h).
 * A pipeline fed from many tasks (the crawler's) is made with
 * pipeline_new_opts and dedicated stacks ({.shared = -1}).
 */
#ifndef CRAWL_PIPELINE_H
#define CRAWL_PIPELINE_H

#include <stddef.h>

#include "coro.h"

#include "error.h"

/* The end marker (the seed's 'CLOSE'): a pointer no caller's value equals. */
extern char pipeline__end;
#define PIPELINE_END ((void *)&pipeline__end)

#define PIPELINE_DEFAULT_MAX_BATCH ((size_t)1000000)
#define PIPELINE_MAX_BATCH_LIMIT ((size_t)1 << 28)

/* A sorted batch: items[0..count) in comparator order. One allocation that
 * the receiver owns; free it only with pipeline_batch_free (not items). */
struct pipeline_batch {
	void **items;
	size_t count;
};

/* Orders two values as they were sent (not pointers to them): negative, 0
 * or positive like strcmp. ctx is the cmp_ctx given to pipeline_new. */
typedef int (*pipeline_cmp)(const void *a, const void *b, void *ctx);

/* Receives each sorted batch and owns it from then on (may be empty: count
 * 0). Called on the pipeline's coroutine stack (256 KiB), from inside
 * pipeline_send / pipeline_end_batch / pipeline_finish; it must not call
 * those on the same pipeline (they return CRAWL_ERUNNING) nor free it. */
typedef void (*pipeline_emit)(void *arg, struct pipeline_batch *batch);

struct pipeline;

/* Creates a pipeline and primes its delegator (a primed start), so values
 * can be sent at once. cmp, cmp_ctx, emit and emit_arg are kept until
 * pipeline_free. Errors: CRAWL_EINVAL (out, cmp or emit NULL), CRAWL_ENOMEM,
 * CRAWL_ESTACK. */
int pipeline_new(struct pipeline **out, pipeline_cmp cmp, void *cmp_ctx, pipeline_emit emit,
		 void *emit_arg);
/* The same, with the coroutine options for the delegator and every sorter
 * (copied; NULL = the defaults). */
int pipeline_new_opts(struct pipeline **out, pipeline_cmp cmp, void *cmp_ctx, pipeline_emit emit,
		      void *emit_arg, const struct coro_opts *opts);

/* Sets the batch bound, from the next value on. Errors: CRAWL_EINVAL (0 or
 * above PIPELINE_MAX_BATCH_LIMIT). */
int pipeline_set_max_batch(struct pipeline *p, size_t max_batch);

/* Sends one value into the current batch; the pointer is kept until its
 * batch is emitted. Returns 0 when stored (and emitted, if it filled the
 * batch). Errors: CRAWL_EINVAL (value is PIPELINE_END: use
 * pipeline_end_batch), CRAWL_ENOMEM (not stored; the batch so far is kept),
 * CRAWL_ERUNNING (called from emit), CRAWL_ESHARED (see coro.h), or the error
 * that ended the pipeline (CRAWL_ECLOSED after pipeline_finish; CRAWL_ENOMEM
 * or CRAWL_ESTACK if the next round's sorter could not be created: the
 * pipeline is then unusable and only pipeline_free remains). */
int pipeline_send(struct pipeline *p, void *value);

/* Sends the end marker: the values sent since the last batch are emitted as
 * one sorted batch, possibly empty, before this returns 0. Errors as
 * pipeline_send (without CRAWL_EINVAL and CRAWL_ENOMEM). */
int pipeline_end_batch(struct pipeline *p);

/* Values sent since the last emitted batch. */
size_t pipeline_pending(const struct pipeline *p);

/* Batches emitted so far. */
size_t pipeline_batches(const struct pipeline *p);

/* Emits the pending values as a final batch (only if there are any), then
 * closes the delegator; later sends return CRAWL_ECLOSED. Returns 0 (again
 * on a second call), CRAWL_ERUNNING / CRAWL_ESHARED (nothing done), or the
 * error that had already ended the pipeline. */
int pipeline_finish(struct pipeline *p);

/* Closes the delegator (which closes the sorter) and frees p. Values sent
 * after the last emitted batch are dropped without being emitted (call
 * pipeline_finish first to get them). NULL is fine. */
void pipeline_free(struct pipeline *p);

/* Frees a batch received by emit. NULL is fine. */
void pipeline_batch_free(struct pipeline_batch *batch);

#endif
