/* coro.h - stackful coroutines with Python generator semantics.
 *
 * A coroutine runs a function on its own stack. Like a Python generator it is
 * driven from outside by send / throw / close, and inside it suspends with
 * coro_yield. Values are void pointers; NULL plays Python's None. Errors are
 * negative ints (lib/error.h); codes <= CRAWL_EUSER are the program's own
 * "exception types".
 *
 *   Python                          C
 *   g = gen(arg)                    coro_new(&g, gen, arg, NULL)
 *   inspect.getgeneratorstate(g)    coro_state(g)
 *   v = next(g) / g.send(x)         coro_send(g, NULL / x, &v)
 *   g.throw(E)                      coro_throw(g, E, &v)
 *   g.close()                       coro_close(g)
 *   StopIteration.value             coro_result(g)
 *   x = yield v                     rc = coro_yield(v, &x)   (rc < 0: thrown)
 *   r = yield from sub              rc = coro_yield_from(sub, &r)
 *   @coroutine (priming)            coro_start(&g, gen, arg, NULL, &first)
 *
 * Send, throw and close return:
 *   0                  the coroutine yielded; *yielded holds the value.
 *   CORO_RETURNED (1)  the coroutine finished; *yielded (if given) holds its
 *                      return value, which coro_result keeps. State CLOSED.
 *   < 0                either a usage error that left the coroutine as it
 *                      was (CRAWL_ECLOSED, CRAWL_ERUNNING, CRAWL_ENOTSTARTED,
 *                      CRAWL_ESHARED, CRAWL_ESTACK, CRAWL_EINVAL), or the error
 *                      the coroutine finished with (it is then CLOSED and
 *                      coro_error tells the same code).
 *
 * yield_from, in C terms of PEP 380. Inside coroutine P, coro_yield_from(S, &r):
 *   1. primes S (a send of NULL); S must be CREATED (else CRAWL_EINVAL).
 *   2. every value S yields is yielded out of P to P's resumer, unchanged;
 *   3. a value sent into P is sent into S;
 *   4. an error thrown into P is thrown into S;
 *   5. a close of P closes S first; if S closes cleanly, yield_from returns
 *      CRAWL_EEXIT (P should then finish); if S ignores it, the error of
 *      S's close is returned instead;
 *   6. when S returns, yield_from returns 0 and *r = S's return value;
 *   7. when S finishes with an error, yield_from returns that error.
 * S stays owned by the caller (free it with coro_free); coro_yield_from_fn
 * creates, runs and frees the sub in one call. Nesting depth is unbounded.
 *
 * Threads: a coroutine belongs to the thread that created it.
 */
#ifndef CRAWL_CORO_H
#define CRAWL_CORO_H

#include <stddef.h>

#include "error.h"

enum coro_state { CORO_CREATED, CORO_RUNNING, CORO_SUSPENDED, CORO_CLOSED };

enum { CORO_RETURNED = 1 };

typedef struct coro coro_t;

/* The body. Return 0 and set *result to finish normally (NULL if unset), or
 * return a negative error to finish by raising it. */
typedef int (*coro_fn)(void *arg, void **result);

struct coro_opts {
	size_t stack_size; /* dedicated stack bytes; 0 = default (256 KiB) */
	int shared;        /* 1: run on the thread's shared stacks (a suspended
			    * coroutine keeps only a copy of the bytes it
			    * uses); -1: a dedicated stack; 0: the thread's
			    * default (coro_default_shared). */
};

/* Creates a CREATED coroutine. opts may be NULL (the thread's default mode,
 * default stack size). fn and arg are kept. The stack is taken at the first
 * resume, where it can fail with CRAWL_ESTACK. Shared-stack coroutines are
 * bound to the stack of the nesting depth of their first resume (the next
 * deeper one if a running coroutine holds that stack); resuming
 * one while the coroutine that owns that stack is running returns
 * CRAWL_ESHARED (loop -> task -> yield_from subs never hit this).
 * Errors: CRAWL_ENOMEM, CRAWL_EINVAL. */
int coro_new(coro_t **out, coro_fn fn, void *arg, const struct coro_opts *opts);

/* Sets this thread's default for coroutines created with opts == NULL or
 * opts->shared == 0: 1 = shared-stack mode, 0 = dedicated stacks (the
 * initial default). The test suite runs the same tests in both modes. */
void coro_default_shared(int on);

/* Primed start: coro_new, then run to the first yield. *first (may be NULL)
 * gets the first yielded value. If fn finishes or fails before yielding, the
 * coroutine is freed, *out is NULL, and the return is CORO_RETURNED or the
 * error. */
int coro_start(coro_t **out, coro_fn fn, void *arg, const struct coro_opts *opts,
	       void **first);

/* Embedding, for objects that own one coroutine each (tasks): the caller
 * puts the coroutine in its own allocation, coro_size() bytes aligned for
 * any type. coro_init fills it as coro_new would (same errors); coro_fini
 * does what coro_free does except freeing the block. */
size_t coro_size(void);
int coro_init(coro_t *c, coro_fn fn, void *arg, const struct coro_opts *opts);
int coro_fini(coro_t *c);

/* Frees c. A SUSPENDED coroutine is closed first (as Python's finaliser
 * does); freeing a RUNNING one is refused (returns CRAWL_ERUNNING). NULL ok. */
int coro_free(coro_t *c);

enum coro_state coro_state(const coro_t *c);
/* "CREATED", "RUNNING", "SUSPENDED" or "CLOSED"; static storage. */
const char *coro_state_name(enum coro_state s);

int coro_send(coro_t *c, void *value, void **yielded);
/* err must be negative. Into a CREATED coroutine: closes it, returns err. */
int coro_throw(coro_t *c, int err, void **yielded);
/* Returns 0 when c is (now) CLOSED; CRAWL_EIGNOREDEXIT if c yielded after the
 * close request (c stays SUSPENDED); another error if c raised one while
 * closing (c is CLOSED); CRAWL_ERUNNING if c is running. */
int coro_close(coro_t *c);

void *coro_result(const coro_t *c); /* return value once finished, else NULL */
int coro_error(const coro_t *c);    /* error it finished with, else 0 */

/* The running coroutine, or NULL on a thread's own stack. */
coro_t *coro_current(void);
/* User data slot, not used by coro itself. */
void coro_set_data(coro_t *c, void *data);
void *coro_get_data(const coro_t *c);

/* Inside a coroutine: suspends with value. Returns 0 and *received (may be
 * NULL) gets the sent value; or returns the thrown error; or CRAWL_EEXIT when
 * the coroutine is being closed (it should return). CRAWL_ENOTCORO outside a
 * coroutine. */
int coro_yield(void *value, void **received);

int coro_yield_from(coro_t *sub, void **result);
int coro_yield_from_fn(coro_fn fn, void *arg, void **result);

/* Bytes a suspended shared-stack coroutine keeps (0 for others); for tests
 * and benchmarks. */
size_t coro_saved_bytes(const coro_t *c);

#endif
