/* test_workers.c - the thread pool: jobs run on worker threads, their
 * futures complete on the loop thread; cancel before and during a run,
 * queue bound, free with jobs pending, the inline pool.
 *
 * Worker functions and done callbacks only record (a failed cmocka assert
 * longjmps, which must not happen on another thread or inside the loop);
 * the test asserts after the loop returns. Every wait is bounded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "future.h"
#include "loop.h"
#include "workers.h"

#define WAIT_S 5 /* bound on any wait for a worker; never reached when all is well */

/* One job's record. */
struct rec {
	pthread_t fn_thread, cb_thread;
	atomic_int ran;
	int cb_calls;
	int cb_state;
	int order;       /* completion order, from 1 */
	unsigned value;  /* fn's output */
	sem_t *wait_for; /* fn blocks on it first (if set) */
	sem_t *started;  /* fn posts it first (if set) */
	atomic_int *flag_wait; /* fn waits until *flag_wait is set (bounded) */
	atomic_int *flag_set;  /* fn sets it last */
};

/* The test's run: done count and the future that ends the loop. */
struct run {
	int done, want, next_order;
	future_t *all;
};

static struct run g_run;

static int sem_wait_bounded(sem_t *s)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += WAIT_S;
	int rc;
	while ((rc = sem_timedwait(s, &ts)) != 0 && errno == EINTR)
		;
	return rc;
}

static void job_fn(void *arg)
{
	struct rec *r = arg;
	r->fn_thread = pthread_self();
	if (r->started)
		sem_post(r->started);
	if (r->wait_for)
		sem_wait_bounded(r->wait_for);
	for (int i = 0; r->flag_wait && !atomic_load(r->flag_wait) && i < WAIT_S * 1000; i++)
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	unsigned v = 1;
	for (unsigned i = 0; i < 1000; i++)
		v = v * 31u + i;
	r->value = v;
	atomic_store(&r->ran, 1);
	if (r->flag_set)
		atomic_store(r->flag_set, 1);
}

static void done_cb(future_t *f, void *arg)
{
	struct rec *r = arg;
	r->cb_thread = pthread_self();
	r->cb_calls++;
	r->cb_state = future_state(f);
	r->order = ++g_run.next_order;
	if (++g_run.done == g_run.want && g_run.all)
		future_set_result(g_run.all, NULL);
}

static unsigned expected_value(void)
{
	unsigned v = 1;
	for (unsigned i = 0; i < 1000; i++)
		v = v * 31u + i;
	return v;
}

static void run_init(loop_t *l, int want)
{
	memset(&g_run, 0, sizeof g_run);
	g_run.want = want;
	assert_int_equal(future_new(l, &g_run.all), 0);
}

/* Runs the loop until want done callbacks ran (a watchdog bounds it). */
static void stop_cb(void *arg)
{
	loop_stop(arg);
}

static void run_loop(loop_t *l)
{
	loop_handle_t *wd = NULL;
	assert_int_equal(loop_call_later(l, WAIT_S, stop_cb, l, &wd), 0);
	if (g_run.done < g_run.want)
		assert_int_equal(loop_run_until_complete(l, g_run.all, NULL), 0);
	loop_handle_cancel(wd);
	assert_int_equal(g_run.done, g_run.want);
	future_unref(g_run.all);
	g_run.all = NULL;
}

static future_t *submit(struct workers *w, struct rec *r)
{
	future_t *f = NULL;
	assert_int_equal(workers_submit(w, job_fn, r, &f), 0);
	assert_non_null(f);
	assert_int_equal(future_add_done_callback(f, done_cb, r), 0);
	return f;
}

static void test_bad_args(void **state)
{
	(void)state;
	loop_t *l = NULL;
	struct workers *w = (struct workers *)&l;
	future_t *f = (future_t *)&l;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(NULL, 1, &w), CRAWL_EINVAL);
	assert_null(w);
	assert_int_equal(workers_new(l, -1, &w), CRAWL_EINVAL);
	assert_int_equal(workers_new(l, WORKERS_MAX_THREADS + 1, &w), CRAWL_EINVAL);
	assert_int_equal(workers_new(l, 1, NULL), CRAWL_EINVAL);
	assert_int_equal(workers_new(l, 1, &w), 0);
	assert_int_equal(workers_threads(w), 1);
	assert_int_equal(workers_submit(NULL, job_fn, NULL, &f), CRAWL_EINVAL);
	assert_null(f);
	assert_int_equal(workers_submit(w, NULL, NULL, &f), CRAWL_EINVAL);
	assert_int_equal(workers_submit(w, job_fn, NULL, NULL), CRAWL_EINVAL);
	workers_free(w);
	workers_free(NULL);
	loop_free(l);
}

/* Many jobs on two threads: fn on a worker, the callback on the loop
 * thread, each job once, with the right value. */
static void test_many_jobs(void **state)
{
	(void)state;
	enum { N = 2000 };
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec *r = calloc(N, sizeof *r);
	future_t **f = calloc(N, sizeof *f);
	assert_non_null(r);
	assert_non_null(f);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 2, &w), 0);
	run_init(l, N);
	for (int i = 0; i < N; i++)
		f[i] = submit(w, &r[i]);
	run_loop(l);
	pthread_t self = pthread_self();
	for (int i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&r[i].ran), 1);
		assert_int_equal(r[i].cb_calls, 1);
		assert_int_equal(r[i].cb_state, FUTURE_FINISHED);
		assert_false(pthread_equal(r[i].fn_thread, self));
		assert_true(pthread_equal(r[i].cb_thread, self));
		assert_int_equal(r[i].value, expected_value());
		void *res = (void *)1;
		assert_int_equal(future_result(f[i], &res), 0);
		assert_null(res);
		future_unref(f[i]);
	}
	workers_free(w);
	loop_free(l);
	free(r);
	free(f);
}

/* Job 0 cannot finish before job 1 has: completion follows the work, not
 * the submit order. */
static void test_completion_order(void **state)
{
	(void)state;
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec r[2] = {0};
	atomic_int one_done = 0;
	r[0].flag_wait = &one_done;
	r[1].flag_set = &one_done;
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 2, &w), 0);
	run_init(l, 2);
	future_t *f0 = submit(w, &r[0]), *f1 = submit(w, &r[1]);
	run_loop(l);
	assert_int_equal(r[1].order, 1);
	assert_int_equal(r[0].order, 2);
	assert_false(pthread_equal(r[0].fn_thread, r[1].fn_thread));
	future_unref(f0);
	future_unref(f1);
	workers_free(w);
	loop_free(l);
}

/* A pool of one thread kept busy by a job blocked on *go (started posted). */
static future_t *block_pool(struct workers *w, struct rec *b, sem_t *go, sem_t *started)
{
	memset(b, 0, sizeof *b);
	b->wait_for = go;
	b->started = started;
	future_t *f = submit(w, b);
	assert_int_equal(sem_wait_bounded(started), 0);
	return f;
}

static void test_cancel_before_start(void **state)
{
	(void)state;
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec b, r = {0};
	sem_t go, started;
	sem_init(&go, 0, 0);
	sem_init(&started, 0, 0);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 1, &w), 0);
	run_init(l, 2);
	future_t *fb = block_pool(w, &b, &go, &started);
	future_t *f = submit(w, &r);
	assert_int_equal(future_cancel(f), 0);
	assert_int_equal(future_state(f), FUTURE_CANCELLED); /* at once */
	assert_int_equal(future_cancel(f), CRAWL_EDONE);
	sem_post(&go);
	run_loop(l);
	assert_int_equal(atomic_load(&r.ran), 0);
	assert_int_equal(r.cb_state, FUTURE_CANCELLED);
	assert_int_equal(b.cb_state, FUTURE_FINISHED);
	assert_int_equal(future_result(f, NULL), CRAWL_ECANCELLED);
	future_unref(f);
	future_unref(fb);
	workers_free(w);
	loop_free(l);
	sem_destroy(&go);
	sem_destroy(&started);
}

static void test_cancel_while_running(void **state)
{
	(void)state;
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec b;
	sem_t go, started;
	sem_init(&go, 0, 0);
	sem_init(&started, 0, 0);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 1, &w), 0);
	run_init(l, 1);
	future_t *fb = block_pool(w, &b, &go, &started);
	assert_int_equal(future_cancel(fb), 0);
	assert_int_equal(future_state(fb), FUTURE_PENDING); /* fn still runs */
	sem_post(&go);
	run_loop(l);
	assert_int_equal(atomic_load(&b.ran), 1);
	assert_int_equal(b.cb_calls, 1);
	assert_int_equal(b.cb_state, FUTURE_CANCELLED);
	future_unref(fb);
	workers_free(w);
	loop_free(l);
	sem_destroy(&go);
	sem_destroy(&started);
}

static void test_queue_full(void **state)
{
	(void)state;
	enum { N = WORKERS_MAX_QUEUE };
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec b, *r = calloc(N + 1, sizeof *r);
	future_t **f = calloc(N, sizeof *f);
	sem_t go, started;
	assert_non_null(r);
	assert_non_null(f);
	sem_init(&go, 0, 0);
	sem_init(&started, 0, 0);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 1, &w), 0);
	run_init(l, N + 1);
	future_t *fb = block_pool(w, &b, &go, &started);
	for (int i = 0; i < N; i++)
		f[i] = submit(w, &r[i]);
	future_t *extra = (future_t *)&b;
	assert_int_equal(workers_submit(w, job_fn, &r[N], &extra), CRAWL_EBUSY);
	assert_null(extra);
	sem_post(&go);
	run_loop(l);
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].cb_state, FUTURE_FINISHED);
		future_unref(f[i]);
	}
	assert_int_equal(atomic_load(&r[N].ran), 0);
	/* Room again once the queue has drained. */
	run_init(l, 1);
	future_t *again = submit(w, &r[N]);
	run_loop(l);
	assert_int_equal(r[N].cb_state, FUTURE_FINISHED);
	future_unref(again);
	future_unref(fb);
	workers_free(w);
	loop_free(l);
	free(r);
	free(f);
	sem_destroy(&go);
	sem_destroy(&started);
}

/* Free while jobs wait: the running one finishes, each other one either
 * ran (FINISHED) or never did (CANCELLED); every future ends, none leaks. */
static void test_free_pending(void **state)
{
	(void)state;
	enum { N = 50 };
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec b, r[N];
	future_t *f[N];
	sem_t go, started;
	memset(r, 0, sizeof r);
	sem_init(&go, 0, 0);
	sem_init(&started, 0, 0);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 1, &w), 0);
	run_init(l, N + 1);
	future_t *fb = block_pool(w, &b, &go, &started);
	for (int i = 0; i < N; i++)
		f[i] = submit(w, &r[i]);
	sem_post(&go);
	workers_free(w);
	assert_int_equal(future_state(fb), FUTURE_FINISHED);
	for (int i = 0; i < N; i++) {
		assert_true(future_done(f[i]));
		int ran = atomic_load(&r[i].ran);
		assert_int_equal(future_state(f[i]), ran ? FUTURE_FINISHED : FUTURE_CANCELLED);
	}
	run_loop(l); /* the done callbacks still run, on the loop */
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].cb_calls, 1);
		future_unref(f[i]);
	}
	future_unref(fb);
	loop_free(l);
	sem_destroy(&go);
	sem_destroy(&started);
}

/* Free with a cancelled-while-running job and references dropped early:
 * the pool's own reference keeps the job until it is delivered. */
static void test_unref_early(void **state)
{
	(void)state;
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec r[8];
	memset(r, 0, sizeof r);
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 2, &w), 0);
	run_init(l, 8);
	for (int i = 0; i < 8; i++)
		future_unref(submit(w, &r[i]));
	run_loop(l);
	for (int i = 0; i < 8; i++)
		assert_int_equal(r[i].cb_state, FUTURE_FINISHED);
	workers_free(w);
	loop_free(l);
}

static void test_inline(void **state)
{
	(void)state;
	loop_t *l = NULL;
	struct workers *w = NULL;
	struct rec r = {0};
	assert_int_equal(loop_new(&l), 0);
	assert_int_equal(workers_new(l, 0, &w), 0);
	assert_int_equal(workers_threads(w), 0);
	run_init(l, 1);
	future_t *f = submit(w, &r);
	assert_int_equal(atomic_load(&r.ran), 1); /* ran inside submit */
	assert_true(pthread_equal(r.fn_thread, pthread_self()));
	assert_int_equal(future_state(f), FUTURE_FINISHED);
	assert_int_equal(future_cancel(f), CRAWL_EDONE);
	assert_int_equal(r.cb_calls, 0); /* callbacks never run inline */
	run_loop(l);
	assert_int_equal(r.cb_calls, 1);
	assert_int_equal(r.cb_state, FUTURE_FINISHED);
	future_unref(f);
	workers_free(w);
	loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_bad_args),
	    cmocka_unit_test(test_many_jobs),
	    cmocka_unit_test(test_completion_order),
	    cmocka_unit_test(test_cancel_before_start),
	    cmocka_unit_test(test_cancel_while_running),
	    cmocka_unit_test(test_queue_full),
	    cmocka_unit_test(test_free_pending),
	    cmocka_unit_test(test_unref_early),
	    cmocka_unit_test(test_inline),
	};
	return cmocka_run_group_tests_name("workers", tests, NULL, NULL);
}
