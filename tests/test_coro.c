/* test_coro.c - every rule of lib/coro.h, run once with dedicated stacks and
 * once in shared-stack mode (two cmocka groups, same tests).
 *
 * cmocka's failed assert longjmps, which must never happen on a coroutine's
 * stack: bodies only record what they see into a struct on the test's own
 * stack (or the heap), and the test asserts once control is back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <fenv.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coro.h"
#include "tmodes.h"

#define P(i) ((void *)(intptr_t)(i))
#define I(p) ((intptr_t)(p))

#if defined(__SANITIZE_ADDRESS__)
#define TEST_ASAN 1
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

/* Program-defined "exception types" (codes <= CRAWL_EUSER). */
enum { E_VALUE = CRAWL_EUSER, E_OTHER = CRAWL_EUSER - 1, E_CLOSING = CRAWL_EUSER - 2 };

static const char GREETING[] = "激活生成器";
static const char HELLO[] = "Hello Shiyanlou";

/* ---- states ---------------------------------------------------------- */

struct state_rec {
	coro_t *self;
	int ran;
	enum coro_state inside;
	int current_is_self;
};

static int body_state(void *arg, void **result)
{
	struct state_rec *r = arg;
	r->ran++;
	r->inside = coro_state(r->self);
	r->current_is_self = coro_current() == r->self;
	coro_yield(NULL, NULL);
	*result = P(42);
	return 0;
}

static void test_states(void **state)
{
	(void)state;
	struct state_rec r = {0};
	void *y = P(-1);
	assert_int_equal(coro_new(&r.self, body_state, &r, NULL), 0);
	assert_int_equal(coro_state(r.self), CORO_CREATED);
	assert_null(coro_current());
	assert_int_equal(r.ran, 0);

	assert_int_equal(coro_send(r.self, NULL, &y), 0);
	assert_null(y);
	assert_int_equal(r.ran, 1);
	assert_int_equal(r.inside, CORO_RUNNING);
	assert_true(r.current_is_self);
	assert_int_equal(coro_state(r.self), CORO_SUSPENDED);
	assert_null(coro_current());

	assert_int_equal(coro_send(r.self, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), 42);
	assert_int_equal(coro_state(r.self), CORO_CLOSED);
	assert_int_equal(coro_free(r.self), 0);
}

static void test_state_names_and_data(void **state)
{
	(void)state;
	assert_string_equal(coro_state_name(CORO_CREATED), "CREATED");
	assert_string_equal(coro_state_name(CORO_RUNNING), "RUNNING");
	assert_string_equal(coro_state_name(CORO_SUSPENDED), "SUSPENDED");
	assert_string_equal(coro_state_name(CORO_CLOSED), "CLOSED");
	assert_string_equal(coro_state_name((enum coro_state)99), "UNKNOWN");

	struct state_rec r = {0};
	int tag = 0;
	assert_int_equal(coro_new(&r.self, body_state, &r, NULL), 0);
	assert_null(coro_get_data(r.self));
	coro_set_data(r.self, &tag);
	assert_ptr_equal(coro_get_data(r.self), &tag);
	assert_int_equal(coro_free(r.self), 0);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	coro_t *c = NULL;
	assert_int_equal(coro_new(NULL, body_state, NULL, NULL), CRAWL_EINVAL);
	assert_int_equal(coro_new(&c, NULL, NULL, NULL), CRAWL_EINVAL);
	assert_int_equal(coro_send(NULL, NULL, NULL), CRAWL_EINVAL);
	assert_int_equal(coro_throw(NULL, E_VALUE, NULL), CRAWL_EINVAL);
	assert_int_equal(coro_close(NULL), CRAWL_EINVAL);
	assert_int_equal(coro_free(NULL), 0);

	struct state_rec r = {0};
	assert_int_equal(coro_new(&r.self, body_state, &r, NULL), 0);
	assert_int_equal(coro_throw(r.self, 0, NULL), CRAWL_EINVAL);
	assert_int_equal(coro_throw(r.self, 5, NULL), CRAWL_EINVAL);
	assert_int_equal(coro_state(r.self), CORO_CREATED);
	assert_int_equal(r.ran, 0);
	assert_int_equal(coro_free(r.self), 0);
}

/* ---- the seed's generator (section 2.1) ------------------------------ */

struct seed_rec {
	int over;    /* times "OVER" would have been printed */
	int last_rc; /* the code the body finished on */
};

/* def generator(): i = '激活生成器'; while True: try: value = yield i
 * except ValueError: print('OVER'); i = value */
static int body_seed(void *arg, void **result)
{
	struct seed_rec *r = arg;
	void *i = (void *)GREETING;
	void *value = NULL;
	(void)result;
	for (;;) {
		int rc = coro_yield(i, &value);
		if (rc == E_VALUE) {
			r->over++;
		} else if (rc < 0) {
			r->last_rc = rc;
			return rc == CRAWL_EEXIT ? 0 : rc;
		}
		i = value;
	}
}

static void test_seed_session(void **state)
{
	(void)state;
	struct seed_rec r = {0};
	coro_t *g = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&g, body_seed, &r, NULL), 0);
	assert_int_equal(coro_state(g), CORO_CREATED);
	assert_int_equal(coro_send(g, NULL, &y), 0);
	assert_string_equal(y, GREETING);
	assert_int_equal(coro_state(g), CORO_SUSPENDED);
	assert_int_equal(coro_send(g, (void *)HELLO, &y), 0);
	assert_string_equal(y, HELLO);
	y = NULL;
	assert_int_equal(coro_throw(g, E_VALUE, &y), 0);
	assert_int_equal(r.over, 1);
	assert_string_equal(y, HELLO);
	assert_int_equal(coro_state(g), CORO_SUSPENDED);
	assert_int_equal(coro_close(g), 0);
	assert_int_equal(r.last_rc, CRAWL_EEXIT);
	assert_int_equal(coro_state(g), CORO_CLOSED);
	assert_int_equal(coro_free(g), 0);
}

/* Echo: yields the value it was sent, starting with arg. */
static int body_echo(void *arg, void **result)
{
	void *v = arg;
	for (;;) {
		int rc = coro_yield(v, &v);
		if (rc == CRAWL_EEXIT)
			return 0;
		if (rc < 0)
			return rc;
		if (v == NULL) {
			*result = P(-7);
			return 0;
		}
	}
}

static void test_send_returns_next_value(void **state)
{
	(void)state;
	coro_t *c = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&c, body_echo, P(1), NULL), 0);
	assert_int_equal(coro_send(c, NULL, &y), 0);
	assert_int_equal(I(y), 1);
	for (intptr_t k = 2; k < 50; k++) {
		assert_int_equal(coro_send(c, P(k * 3), &y), 0);
		assert_int_equal(I(y), k * 3);
	}
	/* yielded may be NULL: the value is simply not reported */
	assert_int_equal(coro_send(c, P(9), NULL), 0);
	assert_int_equal(coro_send(c, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), -7);
	assert_int_equal(I(coro_result(c)), -7);
	assert_int_equal(coro_error(c), 0);
	assert_int_equal(coro_free(c), 0);
}

static void test_send_nonnull_to_created(void **state)
{
	(void)state;
	struct state_rec r = {0};
	void *y = P(-1);
	assert_int_equal(coro_new(&r.self, body_state, &r, NULL), 0);
	assert_int_equal(coro_send(r.self, P(5), &y), CRAWL_ENOTSTARTED);
	assert_int_equal(coro_state(r.self), CORO_CREATED);
	assert_int_equal(r.ran, 0);
	assert_int_equal(I(y), -1);
	assert_int_equal(coro_send(r.self, NULL, &y), 0);
	assert_int_equal(r.ran, 1);
	assert_int_equal(coro_free(r.self), 0);
}

static void test_send_to_closed(void **state)
{
	(void)state;
	coro_t *c = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&c, body_echo, P(1), NULL), 0);
	assert_int_equal(coro_send(c, NULL, &y), 0);
	assert_int_equal(coro_send(c, NULL, &y), CORO_RETURNED);
	assert_int_equal(coro_send(c, NULL, &y), CRAWL_ECLOSED);
	assert_int_equal(coro_send(c, P(3), &y), CRAWL_ECLOSED);
	/* as in Python, throwing into a finished coroutine raises the error */
	assert_int_equal(coro_throw(c, E_OTHER, &y), E_OTHER);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(coro_state(c), CORO_CLOSED);
	assert_int_equal(I(coro_result(c)), -7);
	assert_int_equal(coro_free(c), 0);

	/* closed before it ever ran */
	assert_int_equal(coro_new(&c, body_echo, P(1), NULL), 0);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(coro_send(c, NULL, &y), CRAWL_ECLOSED);
	assert_int_equal(coro_free(c), 0);
}

/* ---- resuming a running coroutine ------------------------------------ */

struct self_rec {
	coro_t *self;
	int send_rc, throw_rc, close_rc, free_rc;
	enum coro_state after;
};

static int body_self(void *arg, void **result)
{
	struct self_rec *r = arg;
	(void)result;
	r->send_rc = coro_send(r->self, NULL, NULL);
	r->throw_rc = coro_throw(r->self, E_OTHER, NULL);
	r->close_rc = coro_close(r->self);
	r->free_rc = coro_free(r->self);
	r->after = coro_state(r->self);
	return coro_yield(P(11), NULL);
}

static void test_send_to_self(void **state)
{
	(void)state;
	struct self_rec r = {0};
	void *y = NULL;
	assert_int_equal(coro_new(&r.self, body_self, &r, NULL), 0);
	assert_int_equal(coro_send(r.self, NULL, &y), 0);
	assert_int_equal(I(y), 11);
	assert_int_equal(r.send_rc, CRAWL_ERUNNING);
	assert_int_equal(r.throw_rc, CRAWL_ERUNNING);
	assert_int_equal(r.close_rc, CRAWL_ERUNNING);
	assert_int_equal(r.free_rc, CRAWL_ERUNNING);
	assert_int_equal(r.after, CORO_RUNNING);
	assert_int_equal(coro_send(r.self, NULL, &y), CORO_RETURNED);
	assert_int_equal(coro_free(r.self), 0);
}

enum { PATTERN_LEN = 512 };

static void fill_pattern(volatile unsigned char *buf, unsigned seed)
{
	for (unsigned i = 0; i < PATTERN_LEN; i++)
		buf[i] = (unsigned char)(seed * 31 + i * 7);
}

static int check_pattern(const volatile unsigned char *buf, unsigned seed)
{
	for (unsigned i = 0; i < PATTERN_LEN; i++)
		if (buf[i] != (unsigned char)(seed * 31 + i * 7))
			return 0;
	return 1;
}

struct ab_rec {
	coro_t *a, *b;
	int b_to_a_rc;
	int a_send_rc1, a_send_rc2;
	void *a_got1, *a_got2;
	int a_intact, b_intact;
};

static int body_b(void *arg, void **result)
{
	struct ab_rec *r = arg;
	volatile unsigned char buf[PATTERN_LEN];
	fill_pattern(buf, 2);
	r->b_to_a_rc = coro_send(r->a, NULL, NULL);
	coro_yield(P(7), NULL);
	r->b_intact = check_pattern(buf, 2);
	*result = P(9);
	return 0;
}

static int body_a(void *arg, void **result)
{
	struct ab_rec *r = arg;
	volatile unsigned char buf[PATTERN_LEN];
	fill_pattern(buf, 1);
	r->a_send_rc1 = coro_send(r->b, NULL, &r->a_got1);
	coro_yield(P(1), NULL);
	r->a_send_rc2 = coro_send(r->b, NULL, &r->a_got2);
	r->a_intact = check_pattern(buf, 1);
	*result = P(2);
	return 0;
}

static void test_a_b_a_running(void **state)
{
	(void)state;
	struct ab_rec r = {0};
	void *y = NULL;
	assert_int_equal(coro_new(&r.a, body_a, &r, NULL), 0);
	assert_int_equal(coro_new(&r.b, body_b, &r, NULL), 0);
	assert_int_equal(coro_send(r.a, NULL, &y), 0);
	assert_int_equal(I(y), 1);
	assert_int_equal(r.b_to_a_rc, CRAWL_ERUNNING);
	assert_int_equal(r.a_send_rc1, 0);
	assert_int_equal(I(r.a_got1), 7);
	assert_int_equal(coro_state(r.b), CORO_SUSPENDED);
	assert_int_equal(coro_send(r.a, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), 2);
	assert_int_equal(r.a_send_rc2, CORO_RETURNED);
	assert_int_equal(I(r.a_got2), 9);
	assert_true(r.a_intact);
	assert_true(r.b_intact);
	assert_int_equal(coro_free(r.a), 0);
	assert_int_equal(coro_free(r.b), 0);
}

/* ---- throw ----------------------------------------------------------- */

static void test_throw_unhandled(void **state)
{
	(void)state;
	struct seed_rec r = {0};
	coro_t *g = NULL;
	void *y = P(-1);
	assert_int_equal(coro_new(&g, body_seed, &r, NULL), 0);
	assert_int_equal(coro_send(g, NULL, &y), 0);
	y = P(-1);
	assert_int_equal(coro_throw(g, E_OTHER, &y), E_OTHER);
	assert_int_equal(r.last_rc, E_OTHER);
	assert_int_equal(r.over, 0);
	assert_int_equal(coro_state(g), CORO_CLOSED);
	assert_int_equal(coro_error(g), E_OTHER);
	assert_null(coro_result(g));
	assert_int_equal(coro_send(g, NULL, &y), CRAWL_ECLOSED);
	assert_int_equal(coro_free(g), 0);
}

static void test_throw_into_created(void **state)
{
	(void)state;
	struct state_rec r = {0};
	assert_int_equal(coro_new(&r.self, body_state, &r, NULL), 0);
	assert_int_equal(coro_throw(r.self, E_OTHER, NULL), E_OTHER);
	assert_int_equal(coro_state(r.self), CORO_CLOSED);
	assert_int_equal(coro_error(r.self), E_OTHER);
	assert_int_equal(r.ran, 0);
	assert_int_equal(coro_send(r.self, NULL, NULL), CRAWL_ECLOSED);
	assert_int_equal(coro_free(r.self), 0);
}

/* ---- close ----------------------------------------------------------- */

struct close_rec {
	int mode; /* 0 obey, 1 ignore the first close, 2 raise E_CLOSING */
	int exits;
	int finished;
};

static int body_close(void *arg, void **result)
{
	struct close_rec *r = arg;
	(void)result;
	for (;;) {
		int rc = coro_yield(P(1), NULL);
		if (rc != CRAWL_EEXIT)
			continue;
		r->exits++;
		if (r->mode == 1 && r->exits == 1)
			continue; /* ignores GeneratorExit: yields again */
		r->finished = 1;
		return r->mode == 2 ? E_CLOSING : 0;
	}
}

static void test_close_suspended(void **state)
{
	(void)state;
	struct close_rec r = {0};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_close, &r, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), 0);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(r.exits, 1);
	assert_int_equal(r.finished, 1);
	assert_int_equal(coro_state(c), CORO_CLOSED);
	assert_int_equal(coro_close(c), 0); /* idempotent */
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(r.exits, 1);
	assert_int_equal(coro_free(c), 0);
}

static void test_close_ignored(void **state)
{
	(void)state;
	struct close_rec r = {.mode = 1};
	coro_t *c = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&c, body_close, &r, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), 0);
	assert_int_equal(coro_close(c), CRAWL_EIGNOREDEXIT);
	assert_int_equal(coro_state(c), CORO_SUSPENDED);
	assert_int_equal(r.exits, 1);
	/* still alive and usable */
	assert_int_equal(coro_send(c, NULL, &y), 0);
	assert_int_equal(I(y), 1);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(r.exits, 2);
	assert_int_equal(coro_state(c), CORO_CLOSED);
	assert_int_equal(coro_free(c), 0);
}

static void test_close_raises(void **state)
{
	(void)state;
	struct close_rec r = {.mode = 2};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_close, &r, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), 0);
	assert_int_equal(coro_close(c), E_CLOSING);
	assert_int_equal(coro_state(c), CORO_CLOSED);
	assert_int_equal(coro_error(c), E_CLOSING);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(coro_free(c), 0);
}

static void test_close_created_and_closed(void **state)
{
	(void)state;
	struct close_rec r = {0};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_close, &r, NULL), 0);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(coro_state(c), CORO_CLOSED);
	assert_int_equal(r.exits, 0);
	assert_int_equal(coro_close(c), 0);
	assert_int_equal(coro_error(c), 0);
	assert_int_equal(coro_free(c), 0);
}

static void test_free_suspended_closes(void **state)
{
	(void)state;
	struct close_rec r = {0};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_close, &r, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), 0);
	assert_int_equal(coro_free(c), 0);
	assert_int_equal(r.exits, 1);
	assert_int_equal(r.finished, 1);

	/* one that refuses to close is freed all the same */
	struct close_rec r2 = {.mode = 1};
	assert_int_equal(coro_new(&c, body_close, &r2, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), 0);
	assert_int_equal(coro_free(c), 0);
	assert_int_equal(r2.exits, 1);
	assert_int_equal(r2.finished, 0);
}

/* ---- return value, primed start, errors ------------------------------ */

static int body_return_now(void *arg, void **result)
{
	*result = arg;
	return 0;
}

static int body_fail_now(void *arg, void **result)
{
	(void)result;
	return (int)I(arg);
}

static void test_return_value_kept(void **state)
{
	(void)state;
	coro_t *c = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&c, body_echo, P(4), NULL), 0);
	assert_int_equal(coro_send(c, NULL, &y), 0);
	assert_null(coro_result(c));
	assert_int_equal(coro_send(c, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), -7);
	assert_int_equal(I(coro_result(c)), -7);
	assert_int_equal(coro_send(c, NULL, &y), CRAWL_ECLOSED);
	assert_int_equal(I(coro_result(c)), -7);
	assert_int_equal(coro_free(c), 0);

	assert_int_equal(coro_new(&c, body_return_now, P(77), NULL), 0);
	assert_int_equal(coro_send(c, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), 77);
	assert_int_equal(I(coro_result(c)), 77);
	assert_int_equal(coro_free(c), 0);

	assert_int_equal(coro_new(&c, body_fail_now, P(E_OTHER), NULL), 0);
	assert_int_equal(coro_send(c, NULL, &y), E_OTHER);
	assert_int_equal(coro_state(c), CORO_CLOSED);
	assert_int_equal(coro_error(c), E_OTHER);
	assert_null(coro_result(c));
	assert_int_equal(coro_free(c), 0);
}

static void test_primed_start(void **state)
{
	(void)state;
	struct seed_rec r = {0};
	coro_t *g = NULL;
	void *first = NULL, *y = NULL;
	assert_int_equal(coro_start(&g, body_seed, &r, NULL, &first), 0);
	assert_non_null(g);
	assert_int_equal(coro_state(g), CORO_SUSPENDED);
	assert_string_equal(first, GREETING);
	assert_int_equal(coro_send(g, (void *)HELLO, &y), 0);
	assert_string_equal(y, HELLO);
	assert_int_equal(coro_free(g), 0);
	assert_int_equal(r.last_rc, CRAWL_EEXIT);

	/* first may be NULL */
	assert_int_equal(coro_start(&g, body_seed, &r, NULL, NULL), 0);
	assert_int_equal(coro_state(g), CORO_SUSPENDED);
	assert_int_equal(coro_free(g), 0);
}

static void test_primed_start_finishes_at_once(void **state)
{
	(void)state;
	coro_t *g = P(1);
	void *first = NULL;
	assert_int_equal(coro_start(&g, body_return_now, P(5), NULL, &first), CORO_RETURNED);
	assert_null(g);
	assert_int_equal(I(first), 5);

	g = P(1);
	assert_int_equal(coro_start(&g, body_fail_now, P(E_OTHER), NULL, &first), E_OTHER);
	assert_null(g);

	assert_int_equal(coro_start(&g, NULL, NULL, NULL, &first), CRAWL_EINVAL);
}

static void test_yield_outside(void **state)
{
	(void)state;
	void *v = P(3);
	coro_t *c = NULL;
	void *r = P(3);
	assert_int_equal(coro_yield(P(1), &v), CRAWL_ENOTCORO);
	assert_int_equal(I(v), 3);
	assert_int_equal(coro_new(&c, body_echo, NULL, NULL), 0);
	assert_int_equal(coro_yield_from(c, &r), CRAWL_ENOTCORO);
	assert_int_equal(coro_state(c), CORO_CREATED);
	assert_int_equal(coro_yield_from_fn(body_echo, NULL, &r), CRAWL_ENOTCORO);
	assert_int_equal(I(r), 3);
	assert_int_equal(coro_free(c), 0);
}

/* ---- yield_from ------------------------------------------------------ */

/* The sub: first yields 100, then the running sum of what it is sent; sent
 * NULL it returns the sum; E_VALUE is handled (yields -1); EEXIT and other
 * errors end it. */
struct sub_rec {
	coro_t *deleg;
	enum coro_state deleg_state; /* the delegator, seen from the sub */
	int exits, handled, last_rc;
};

static int body_sub(void *arg, void **result)
{
	struct sub_rec *r = arg;
	intptr_t sum = 0;
	void *out = P(100);
	if (r->deleg)
		r->deleg_state = coro_state(r->deleg);
	for (;;) {
		void *in = NULL;
		int rc = coro_yield(out, &in);
		if (rc == E_VALUE) {
			r->handled++;
			out = P(-1);
			continue;
		}
		if (rc < 0) {
			r->last_rc = rc;
			r->exits += rc == CRAWL_EEXIT;
			return rc;
		}
		if (!in) {
			*result = P(sum);
			return 0;
		}
		sum += I(in);
		out = P(sum);
	}
}

struct deleg_rec {
	struct sub_rec sub;
	int yf_rc;
	void *yf_result;
	enum coro_state sub_state;
};

static int body_deleg(void *arg, void **result)
{
	struct deleg_rec *r = arg;
	coro_t *s = NULL;
	int rc = coro_new(&s, body_sub, &r->sub, NULL);
	if (rc)
		return rc;
	r->sub.deleg = coro_current();
	r->yf_rc = coro_yield_from(s, &r->yf_result);
	r->sub_state = coro_state(s);
	coro_free(s);
	if (r->yf_rc < 0)
		return r->yf_rc;
	*result = P(I(r->yf_result) * 10);
	return 0;
}

static void test_yield_from_values_and_sends(void **state)
{
	(void)state;
	struct deleg_rec r = {0};
	coro_t *d = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&d, body_deleg, &r, NULL), 0);
	assert_int_equal(coro_send(d, NULL, &y), 0);
	assert_int_equal(I(y), 100);
	assert_int_equal(r.sub.deleg_state, CORO_RUNNING);
	assert_int_equal(coro_state(d), CORO_SUSPENDED);
	assert_int_equal(coro_send(d, P(5), &y), 0);
	assert_int_equal(I(y), 5);
	assert_int_equal(coro_send(d, P(7), &y), 0);
	assert_int_equal(I(y), 12);
	assert_int_equal(coro_send(d, NULL, &y), CORO_RETURNED);
	assert_int_equal(r.yf_rc, 0);
	assert_int_equal(I(r.yf_result), 12);
	assert_int_equal(I(y), 120);
	assert_int_equal(r.sub_state, CORO_CLOSED);
	assert_int_equal(coro_free(d), 0);
}

static void test_yield_from_throw_handled(void **state)
{
	(void)state;
	struct deleg_rec r = {0};
	coro_t *d = NULL;
	void *y = NULL;
	assert_int_equal(coro_start(&d, body_deleg, &r, NULL, &y), 0);
	assert_int_equal(coro_send(d, P(3), &y), 0);
	assert_int_equal(coro_throw(d, E_VALUE, &y), 0);
	assert_int_equal(I(y), -1);
	assert_int_equal(r.sub.handled, 1);
	assert_int_equal(coro_state(d), CORO_SUSPENDED);
	assert_int_equal(coro_send(d, P(4), &y), 0);
	assert_int_equal(I(y), 7);
	assert_int_equal(coro_send(d, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), 70);
	assert_int_equal(coro_free(d), 0);
}

static void test_yield_from_throw_propagates(void **state)
{
	(void)state;
	struct deleg_rec r = {0};
	coro_t *d = NULL;
	void *y = NULL;
	assert_int_equal(coro_start(&d, body_deleg, &r, NULL, &y), 0);
	assert_int_equal(coro_throw(d, E_OTHER, &y), E_OTHER);
	assert_int_equal(r.sub.last_rc, E_OTHER);
	assert_int_equal(r.yf_rc, E_OTHER);
	assert_int_equal(r.sub_state, CORO_CLOSED);
	assert_int_equal(coro_state(d), CORO_CLOSED);
	assert_int_equal(coro_error(d), E_OTHER);
	assert_int_equal(coro_free(d), 0);
}

static void test_yield_from_close_closes_sub(void **state)
{
	(void)state;
	struct deleg_rec r = {0};
	coro_t *d = NULL;
	void *y = NULL;
	assert_int_equal(coro_start(&d, body_deleg, &r, NULL, &y), 0);
	assert_int_equal(coro_send(d, P(2), &y), 0);
	assert_int_equal(coro_close(d), 0);
	assert_int_equal(r.sub.exits, 1);
	assert_int_equal(r.sub.last_rc, CRAWL_EEXIT);
	assert_int_equal(r.yf_rc, CRAWL_EEXIT);
	assert_int_equal(r.sub_state, CORO_CLOSED);
	assert_int_equal(coro_state(d), CORO_CLOSED);
	assert_int_equal(coro_free(d), 0);

	/* freeing the delegator does the same */
	struct deleg_rec r2 = {0};
	assert_int_equal(coro_start(&d, body_deleg, &r2, NULL, &y), 0);
	assert_int_equal(coro_free(d), 0);
	assert_int_equal(r2.sub.exits, 1);
	assert_int_equal(r2.yf_rc, CRAWL_EEXIT);
}

/* A sub that ignores the first close: yield_from reports it. */
static int body_sub_stubborn(void *arg, void **result)
{
	int *exits = arg;
	(void)result;
	for (;;) {
		int rc = coro_yield(P(1), NULL);
		if (rc == CRAWL_EEXIT && ++*exits > 1)
			return 0;
	}
}

struct stubborn_rec {
	int exits;
	int yf_rc;
};

static int body_deleg_stubborn(void *arg, void **result)
{
	struct stubborn_rec *r = arg;
	(void)result;
	r->yf_rc = coro_yield_from_fn(body_sub_stubborn, &r->exits, NULL);
	return 0;
}

static void test_yield_from_close_ignored_by_sub(void **state)
{
	(void)state;
	struct stubborn_rec r = {0};
	coro_t *d = NULL;
	assert_int_equal(coro_start(&d, body_deleg_stubborn, &r, NULL, NULL), 0);
	/* the delegator finishes normally after yield_from reported the sub's
	 * refusal; the sub is then freed (closed again, it obeys) */
	assert_int_equal(coro_close(d), 0);
	assert_int_equal(r.yf_rc, CRAWL_EIGNOREDEXIT);
	assert_int_equal(r.exits, 2);
	assert_int_equal(coro_free(d), 0);
}

/* Two delegators driven in alternation: in shared mode their subs share
 * one stack level and evict each other at every send. */
static void test_yield_from_interleaved(void **state)
{
	(void)state;
	struct deleg_rec r1 = {0}, r2 = {0};
	coro_t *d1 = NULL, *d2 = NULL;
	void *y1 = NULL, *y2 = NULL;
	assert_int_equal(coro_start(&d1, body_deleg, &r1, NULL, &y1), 0);
	assert_int_equal(coro_start(&d2, body_deleg, &r2, NULL, &y2), 0);
	intptr_t sum1 = 0, sum2 = 0;
	for (intptr_t k = 1; k <= 50; k++) {
		sum1 += k;
		sum2 += 1000 * k;
		assert_int_equal(coro_send(d1, P(k), &y1), 0);
		assert_int_equal(coro_send(d2, P(1000 * k), &y2), 0);
		assert_int_equal(I(y1), sum1);
		assert_int_equal(I(y2), sum2);
	}
	assert_int_equal(coro_send(d2, NULL, &y2), CORO_RETURNED);
	assert_int_equal(coro_send(d1, NULL, &y1), CORO_RETURNED);
	assert_int_equal(I(y1), sum1 * 10);
	assert_int_equal(I(y2), sum2 * 10);
	assert_int_equal(coro_free(d1), 0);
	assert_int_equal(coro_free(d2), 0);
}

/* Subs that finish without yielding: result or error straight away. */
struct quick_rec {
	int rc_ret, rc_fail;
	void *res;
};

static int body_deleg_quick(void *arg, void **result)
{
	struct quick_rec *r = arg;
	(void)result;
	r->rc_ret = coro_yield_from_fn(body_return_now, P(55), &r->res);
	r->rc_fail = coro_yield_from_fn(body_fail_now, P(E_OTHER), NULL);
	return 0;
}

static void test_yield_from_sub_finishes_at_once(void **state)
{
	(void)state;
	struct quick_rec r = {0};
	coro_t *d = NULL;
	assert_int_equal(coro_new(&d, body_deleg_quick, &r, NULL), 0);
	assert_int_equal(coro_send(d, NULL, NULL), CORO_RETURNED);
	assert_int_equal(r.rc_ret, 0);
	assert_int_equal(I(r.res), 55);
	assert_int_equal(r.rc_fail, E_OTHER);
	assert_int_equal(coro_free(d), 0);
}

struct einval_rec {
	int rc_null, rc_suspended, rc_closed, rc_self;
	enum coro_state suspended_after;
};

static int body_deleg_einval(void *arg, void **result)
{
	struct einval_rec *r = arg;
	coro_t *s = NULL;
	(void)result;
	r->rc_null = coro_yield_from(NULL, NULL);
	r->rc_self = coro_yield_from(coro_current(), NULL);
	if (coro_new(&s, body_echo, P(1), NULL) != 0)
		return CRAWL_ENOMEM;
	coro_send(s, NULL, NULL);
	r->rc_suspended = coro_yield_from(s, NULL);
	r->suspended_after = coro_state(s);
	coro_close(s);
	r->rc_closed = coro_yield_from(s, NULL);
	coro_free(s);
	return 0;
}

static void test_yield_from_not_created(void **state)
{
	(void)state;
	struct einval_rec r = {0};
	coro_t *d = NULL;
	assert_int_equal(coro_new(&d, body_deleg_einval, &r, NULL), 0);
	assert_int_equal(coro_send(d, NULL, NULL), CORO_RETURNED);
	assert_int_equal(r.rc_null, CRAWL_EINVAL);
	assert_int_equal(r.rc_self, CRAWL_EINVAL);
	assert_int_equal(r.rc_suspended, CRAWL_EINVAL);
	assert_int_equal(r.suspended_after, CORO_SUSPENDED);
	assert_int_equal(r.rc_closed, CRAWL_EINVAL);
	assert_int_equal(coro_free(d), 0);
}

/* A chain of delegators depth levels deep; the innermost is body_sub.
 * Each level adds 1 to the result on the way out. */
struct chain_rec {
	int depth, level;
	int yf_exits; /* levels whose yield_from returned CRAWL_EEXIT */
	int yf_errors;
	struct sub_rec sub;
};

static int body_chain(void *arg, void **result)
{
	struct chain_rec *r = arg;
	if (++r->level == r->depth)
		return body_sub(&r->sub, result);
	void *res = NULL;
	int rc = coro_yield_from_fn(body_chain, r, &res);
	if (rc == CRAWL_EEXIT)
		r->yf_exits++;
	else if (rc < 0)
		r->yf_errors++;
	if (rc < 0)
		return rc;
	*result = P(I(res) + 1);
	return 0;
}

static void run_chain(int depth)
{
	struct chain_rec r = {.depth = depth};
	coro_t *top = NULL;
	void *y = NULL;
	assert_int_equal(coro_start(&top, body_chain, &r, NULL, &y), 0);
	assert_int_equal(r.level, depth);
	assert_int_equal(I(y), 100);
	assert_int_equal(coro_send(top, P(10), &y), 0);
	assert_int_equal(I(y), 10);
	assert_int_equal(coro_throw(top, E_VALUE, &y), 0);
	assert_int_equal(I(y), -1);
	assert_int_equal(r.sub.handled, 1);
	assert_int_equal(coro_send(top, P(20), &y), 0);
	assert_int_equal(I(y), 30);
	assert_int_equal(coro_send(top, NULL, &y), CORO_RETURNED);
	assert_int_equal(I(y), 30 + depth - 1);
	assert_int_equal(r.yf_errors, 0);
	assert_int_equal(coro_free(top), 0);

	/* close at the top reaches the innermost; throw unhandled climbs out */
	struct chain_rec c = {.depth = depth};
	assert_int_equal(coro_start(&top, body_chain, &c, NULL, &y), 0);
	assert_int_equal(coro_close(top), 0);
	assert_int_equal(c.sub.exits, 1);
	assert_int_equal(c.yf_exits, depth - 1);
	assert_int_equal(coro_free(top), 0);

	struct chain_rec t = {.depth = depth};
	assert_int_equal(coro_start(&top, body_chain, &t, NULL, &y), 0);
	assert_int_equal(coro_throw(top, E_OTHER, &y), E_OTHER);
	assert_int_equal(t.sub.last_rc, E_OTHER);
	assert_int_equal(t.yf_errors, depth - 1);
	assert_int_equal(coro_state(top), CORO_CLOSED);
	assert_int_equal(coro_free(top), 0);
}

static void test_yield_from_nested_3(void **state)
{
	(void)state;
	run_chain(3);
}

static void test_yield_from_nested_100(void **state)
{
	(void)state;
	run_chain(100);
}

/* ---- many coroutines -------------------------------------------------- */

enum { MANY = 10000, MANY_ROUNDS = 4 };

/* Yields id * 1000 + round + what it was last sent; returns id. */
static int body_many(void *arg, void **result)
{
	intptr_t id = I(arg);
	void *in = NULL;
	for (intptr_t round = 0; round < MANY_ROUNDS; round++) {
		int rc = coro_yield(P(id * 1000 + round + I(in)), &in);
		if (rc < 0)
			return rc;
	}
	*result = arg;
	return 0;
}

static void test_many_alive(void **state)
{
	(void)state;
	coro_t **cs = calloc(MANY, sizeof *cs);
	assert_non_null(cs);
	int bad = 0;
	void *y = NULL;
	for (intptr_t i = 0; i < MANY; i++) {
		bad += coro_new(&cs[i], body_many, P(i), NULL) != 0;
		bad += coro_send(cs[i], NULL, &y) != 0 || I(y) != i * 1000;
	}
	assert_int_equal(bad, 0);
	/* rounds visit the coroutines in a scattered order (7919 is prime) */
	for (intptr_t round = 1; round < MANY_ROUNDS; round++) {
		for (intptr_t k = 0; k < MANY; k++) {
			intptr_t i = (k * 7919 + round) % MANY;
			bad += coro_send(cs[i], P(round * 3), &y) != 0;
			bad += I(y) != i * 1000 + round + round * 3;
		}
	}
	assert_int_equal(bad, 0);
	for (intptr_t i = 0; i < MANY; i++) {
		bad += coro_send(cs[i], NULL, &y) != CORO_RETURNED || I(y) != i;
		bad += coro_free(cs[i]) != 0;
	}
	assert_int_equal(bad, 0);
	free(cs);
}

/* ---- stacks ----------------------------------------------------------- */

enum { FRAME_BYTES = 1024, DEEP_LEVELS = 110 };

struct deep_rec {
	unsigned seed;
	uintptr_t top_addr, bottom_addr;
	int mismatches;
	intptr_t sum;
};

static __attribute__((noinline)) intptr_t recurse(struct deep_rec *r, int depth)
{
	volatile unsigned char buf[FRAME_BYTES];
	for (int i = 0; i < FRAME_BYTES; i++)
		buf[i] = (unsigned char)(r->seed + (unsigned)depth * 13 + (unsigned)i);
	intptr_t s = 0;
	if (depth == DEEP_LEVELS)
		r->top_addr = (uintptr_t)buf;
	if (depth > 0) {
		s = recurse(r, depth - 1);
	} else {
		r->bottom_addr = (uintptr_t)buf;
		coro_yield(P(1), NULL); /* suspended with the whole depth live */
	}
	for (int i = 0; i < FRAME_BYTES; i++) {
		unsigned char want = (unsigned char)(r->seed + (unsigned)depth * 13 + (unsigned)i);
		r->mismatches += buf[i] != want;
		s += buf[i];
	}
	return s;
}

static int body_deep(void *arg, void **result)
{
	struct deep_rec *r = arg;
	r->sum = recurse(r, DEEP_LEVELS);
	*result = P(r->sum);
	return 0;
}

static void run_deep(const struct coro_opts *opts)
{
	struct deep_rec a = {.seed = 3}, b = {.seed = 200};
	coro_t *ca = NULL, *cb = NULL;
	assert_int_equal(coro_new(&ca, body_deep, &a, opts), 0);
	assert_int_equal(coro_new(&cb, body_deep, &b, opts), 0);
	/* both suspended deep down at once; in shared mode each resume swaps
	 * ~110 KiB of live stack out and back in */
	assert_int_equal(coro_send(ca, NULL, NULL), 0);
	assert_int_equal(coro_send(cb, NULL, NULL), 0);
	assert_true(a.top_addr - a.bottom_addr >= 100 * 1024);
	assert_true(b.top_addr - b.bottom_addr >= 100 * 1024);
	assert_int_equal(coro_send(ca, NULL, NULL), CORO_RETURNED);
	assert_int_equal(coro_send(cb, NULL, NULL), CORO_RETURNED);
	assert_int_equal(a.mismatches, 0);
	assert_int_equal(b.mismatches, 0);
	/* each frame holds every byte value four times */
	assert_int_equal(a.sum, (intptr_t)(DEEP_LEVELS + 1) * (FRAME_BYTES / 256) * 32640);
	assert_int_equal(b.sum, a.sum);
	assert_int_equal(coro_free(ca), 0);
	assert_int_equal(coro_free(cb), 0);
}

static void test_deep_recursion(void **state)
{
	(void)state;
	const struct coro_opts dedicated = {.shared = -1};
	run_deep(&dedicated);
	run_deep(NULL); /* this group's default mode */
}

/* Stack bytes of A and B alternate on one shared stack: each resume copies. */
static void test_shared_stack_saved_bytes(void **state)
{
	(void)state;
	const struct coro_opts shared = {.shared = 1}, dedicated = {.shared = -1};
	coro_t *a = NULL, *b = NULL, *d = NULL;
	void *y = NULL;
	assert_int_equal(coro_new(&a, body_echo, P(1), &shared), 0);
	assert_int_equal(coro_new(&b, body_echo, P(2), &shared), 0);
	assert_int_equal(coro_new(&d, body_echo, P(3), &dedicated), 0);
	assert_int_equal(coro_send(a, NULL, &y), 0);
	assert_int_equal(coro_send(b, NULL, &y), 0); /* evicts a */
	assert_int_equal(coro_send(d, NULL, &y), 0);
	assert_true(coro_saved_bytes(a) > 0);
	assert_true(coro_saved_bytes(a) < 64 * 1024);
	assert_int_equal(coro_saved_bytes(d), 0);
	for (intptr_t k = 1; k < 100; k++) {
		assert_int_equal(coro_send(a, P(k), &y), 0);
		assert_int_equal(I(y), k);
		assert_int_equal(coro_send(b, P(-k), &y), 0);
		assert_int_equal(I(y), -k);
	}
	assert_int_equal(coro_free(a), 0);
	assert_int_equal(coro_free(b), 0);
	assert_int_equal(coro_free(d), 0);
}

/* The documented restriction: a shared coroutine can't be resumed while
 * the coroutine that holds its stack is running. */
struct eshared_rec {
	coro_t *victim;
	int rc, rc_dedicated;
	void *got;
};

static int body_eshared(void *arg, void **result)
{
	struct eshared_rec *r = arg;
	(void)result;
	r->rc = coro_send(r->victim, P(8), &r->got);
	return coro_yield(P(1), NULL);
}

static int body_resume_from_dedicated(void *arg, void **result)
{
	struct eshared_rec *r = arg;
	(void)result;
	r->rc_dedicated = coro_send(r->victim, P(9), &r->got);
	return 0;
}

static void test_shared_restriction(void **state)
{
	(void)state;
	const struct coro_opts shared = {.shared = 1}, dedicated = {.shared = -1};
	struct eshared_rec r = {0};
	coro_t *a = NULL;
	void *y = NULL;
	/* victim and a are both first resumed from the thread's stack: same
	 * shared stack; a runs on it, so it can't resume the victim */
	assert_int_equal(coro_new(&r.victim, body_echo, P(5), &shared), 0);
	assert_int_equal(coro_send(r.victim, NULL, &y), 0);
	assert_int_equal(coro_new(&a, body_eshared, &r, &shared), 0);
	assert_int_equal(coro_send(a, NULL, &y), 0);
	assert_int_equal(r.rc, CRAWL_ESHARED);
	assert_int_equal(coro_state(r.victim), CORO_SUSPENDED);
	/* both carry on unharmed */
	assert_int_equal(coro_send(r.victim, P(6), &y), 0);
	assert_int_equal(I(y), 6);
	assert_int_equal(coro_send(a, NULL, &y), CORO_RETURNED);
	assert_int_equal(coro_free(a), 0);

	/* from a dedicated-stack coroutine the same resume works */
	assert_int_equal(coro_new(&a, body_resume_from_dedicated, &r, &dedicated), 0);
	assert_int_equal(coro_send(a, NULL, &y), CORO_RETURNED);
	assert_int_equal(r.rc_dedicated, 0);
	assert_int_equal(I(r.got), 9);
	assert_int_equal(coro_free(a), 0);
	assert_int_equal(coro_free(r.victim), 0);
}

/* A shared coroutine D first resumed inside X (so bound one level deeper
 * than the thread's stack) and later driven from the thread's own stack
 * runs at a shallower depth than its level. A sub it creates there must not
 * be bound to D's own stack: D is running on it. */
struct rebind_rec {
	coro_t *d;
	int sub_rc, sub_rc2;
	void *got, *got2;
};

static int body_rebind_d(void *arg, void **result)
{
	struct rebind_rec *r = arg;
	(void)result;
	coro_yield(NULL, NULL); /* first resumed by X */
	coro_t *s = NULL;
	if (coro_new(&s, body_echo, P(21), NULL) != 0)
		return CRAWL_ENOMEM;
	r->sub_rc = coro_send(s, NULL, &r->got);
	r->sub_rc2 = coro_send(s, P(22), &r->got2);
	coro_free(s);
	return 0;
}

static int body_rebind_x(void *arg, void **result)
{
	struct rebind_rec *r = arg;
	(void)result;
	return coro_send(r->d, NULL, NULL);
}

static void test_shared_sub_at_shallower_depth(void **state)
{
	(void)state;
	struct rebind_rec r = {0};
	coro_t *x = NULL;
	assert_int_equal(coro_new(&r.d, body_rebind_d, &r, NULL), 0);
	assert_int_equal(coro_new(&x, body_rebind_x, &r, NULL), 0);
	assert_int_equal(coro_send(x, NULL, NULL), CORO_RETURNED);
	assert_int_equal(coro_state(r.d), CORO_SUSPENDED);
	assert_int_equal(coro_send(r.d, NULL, NULL), CORO_RETURNED);
	assert_int_equal(r.sub_rc, 0);
	assert_int_equal(I(r.got), 21);
	assert_int_equal(r.sub_rc2, 0);
	assert_int_equal(I(r.got2), 22);
	assert_int_equal(coro_free(x), 0);
	assert_int_equal(coro_free(r.d), 0);
}

static void test_stack_alloc_failure(void **state)
{
	(void)state;
	const struct coro_opts huge = {.stack_size = SIZE_MAX, .shared = -1};
	const struct coro_opts large = {.stack_size = (size_t)1 << 60, .shared = -1};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_echo, P(1), &huge), 0);
	assert_int_equal(coro_send(c, NULL, NULL), CRAWL_ESTACK);
	assert_int_equal(coro_state(c), CORO_CREATED);
	assert_int_equal(coro_free(c), 0);
	assert_int_equal(coro_new(&c, body_echo, P(1), &large), 0);
	assert_int_equal(coro_send(c, NULL, NULL), CRAWL_ESTACK);
	assert_int_equal(coro_state(c), CORO_CREATED);
	assert_int_equal(coro_free(c), 0);
}

/* ---- floating point ---------------------------------------------------- */

static double fp_step(double x, int k)
{
	return x * 1.000123 + sqrt((double)k) / 3.0 - 1.0 / (k + 0.5);
}

struct fp_rec {
	double result;
	int round_kept, round_mode;
	double up_before, up_after;
};

static int body_fp(void *arg, void **result)
{
	struct fp_rec *r = arg;
	double x = 1.5;
	(void)result;
	for (int k = 0; k < 200; k++) {
		x = fp_step(x, k);
		coro_yield(NULL, NULL);
	}
	r->result = x;
	/* the rounding mode is part of each context */
	volatile double one = 1.0, three = 3.0;
	fesetround(FE_UPWARD);
	r->up_before = one / three;
	coro_yield(NULL, NULL);
	r->round_mode = fegetround();
	r->up_after = one / three;
	fesetround(FE_TONEAREST);
	return 0;
}

static void test_floating_point(void **state)
{
	(void)state;
	double want = 1.5, mine = -2.25, mine_want = -2.25;
	for (int k = 0; k < 200; k++)
		want = fp_step(want, k);
	struct fp_rec r = {0};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_fp, &r, NULL), 0);
	for (int k = 0; k < 200; k++) {
		assert_int_equal(coro_send(c, NULL, NULL), 0);
		mine = fp_step(mine, 1000 - k); /* different values between switches */
	}
	for (int k = 0; k < 200; k++)
		mine_want = fp_step(mine_want, 1000 - k);
	assert_int_equal(coro_send(c, NULL, NULL), 0); /* now FE_UPWARD inside */
	assert_int_equal(fegetround(), FE_TONEAREST);
	volatile double one = 1.0, three = 3.0;
	double nearest = one / three;
	assert_int_equal(coro_send(c, NULL, NULL), CORO_RETURNED);
	assert_true(r.result == want);
	assert_true(mine == mine_want);
	assert_int_equal(r.round_mode, FE_UPWARD);
	assert_true(r.up_before == r.up_after);
	/* valgrind computes SSE arithmetic in round-to-nearest whatever the mode */
	if (!RUNNING_ON_VALGRIND)
		assert_true(r.up_after > nearest);
	assert_int_equal(fegetround(), FE_TONEAREST);
	assert_int_equal(coro_free(c), 0);
}

/* ---- stack overflow hits the guard page -------------------------------- */

static __attribute__((noinline)) int recurse_forever(volatile int *sink, int depth)
{
	volatile char pad[512];
	pad[0] = (char)depth;
	pad[511] = (char)(depth >> 3);
	if (*sink < 0) /* never true: sink only grows; keeps the compiler quiet */
		return 0;
	int r = recurse_forever(sink, depth + 1);
	*sink += (pad[0] & 1) + (pad[511] & 1);
	return r + 1;
}

static int body_overflow(void *arg, void **result)
{
	(void)result;
	return recurse_forever(arg, 0);
}

static void overflow_child(void)
{
#ifndef TEST_ASAN
	signal(SIGSEGV, SIG_DFL); /* not cmocka's handler: die as the kernel says */
#endif
	int fd = open("/dev/null", O_WRONLY);
	if (fd >= 0)
		dup2(fd, 2);
	const struct coro_opts dedicated = {.shared = -1};
	volatile int sink = 0;
	coro_t *c = NULL;
	if (coro_new(&c, body_overflow, (void *)&sink, &dedicated) != 0)
		_exit(3);
	coro_send(c, NULL, NULL);
	_exit(0); /* not reached: the recursion has no end */
}

static int wait_child(pid_t pid, int *status)
{
	for (int i = 0; i < 1000; i++) { /* 10 s at most */
		pid_t w = waitpid(pid, status, WNOHANG);
		if (w == pid)
			return 0;
		if (w < 0)
			return -1;
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, status, 0);
	return -1;
}

static void test_stack_overflow_guard(void **state)
{
	(void)state;
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		overflow_child();
	int status = 0;
	assert_int_equal(wait_child(pid, &status), 0);
	int by_segv = WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV;
#ifdef TEST_ASAN
	/* ASan catches the overflow itself and exits non-zero */
	int by_asan = WIFEXITED(status) && WEXITSTATUS(status) != 0 && WEXITSTATUS(status) != 3;
	assert_true(by_segv || by_asan);
#else
	assert_true(by_segv);
#endif
}

/* ---- threads ----------------------------------------------------------- */

struct thread_rec {
	int shared;
	int bad;
	intptr_t last;
};

/* A coroutine belongs to its thread: each thread has its own current
 * coroutine, default mode and shared stacks. */
static void *thread_main(void *arg)
{
	struct thread_rec *t = arg;
	coro_default_shared(t->shared);
	coro_t *c = NULL;
	void *y = NULL;
	t->bad += coro_current() != NULL;
	t->bad += coro_new(&c, body_echo, P(1), NULL) != 0;
	t->bad += coro_send(c, NULL, &y) != 0;
	for (intptr_t k = 2; k < 20000; k++) {
		t->bad += coro_send(c, P(k), &y) != 0 || I(y) != k;
		t->last = I(y);
	}
	t->bad += coro_free(c) != 0;
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	struct thread_rec t[2] = {{.shared = 0}, {.shared = 1}};
	pthread_t th[2];
	coro_t *mine = NULL;
	void *y = NULL;
	assert_int_equal(coro_start(&mine, body_echo, P(5), NULL, &y), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, thread_main, &t[i]), 0);
	for (intptr_t k = 6; k < 20000; k++) {
		if (coro_send(mine, P(k), &y) != 0 || I(y) != k)
			break;
	}
	assert_int_equal(I(y), 19999);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(t[i].bad, 0);
		assert_int_equal(t[i].last, 19999);
	}
	assert_int_equal(coro_free(mine), 0);
}

/* ---- groups ------------------------------------------------------------ */

static int teardown_default(void **state)
{
	(void)state;
	coro_default_shared(0);
	return 0;
}

#define CORO_TESTS                                                  \
	cmocka_unit_test(test_states),                              \
	cmocka_unit_test(test_state_names_and_data),                \
	cmocka_unit_test(test_bad_arguments),                       \
	cmocka_unit_test(test_seed_session),                        \
	cmocka_unit_test(test_send_returns_next_value),             \
	cmocka_unit_test(test_send_nonnull_to_created),             \
	cmocka_unit_test(test_send_to_closed),                      \
	cmocka_unit_test(test_send_to_self),                        \
	cmocka_unit_test(test_a_b_a_running),                       \
	cmocka_unit_test(test_throw_unhandled),                     \
	cmocka_unit_test(test_throw_into_created),                  \
	cmocka_unit_test(test_close_suspended),                     \
	cmocka_unit_test(test_close_ignored),                       \
	cmocka_unit_test(test_close_raises),                        \
	cmocka_unit_test(test_close_created_and_closed),            \
	cmocka_unit_test(test_free_suspended_closes),               \
	cmocka_unit_test(test_return_value_kept),                   \
	cmocka_unit_test(test_primed_start),                        \
	cmocka_unit_test(test_primed_start_finishes_at_once),       \
	cmocka_unit_test(test_yield_outside),                       \
	cmocka_unit_test(test_yield_from_values_and_sends),         \
	cmocka_unit_test(test_yield_from_throw_handled),            \
	cmocka_unit_test(test_yield_from_throw_propagates),         \
	cmocka_unit_test(test_yield_from_close_closes_sub),         \
	cmocka_unit_test(test_yield_from_close_ignored_by_sub),     \
	cmocka_unit_test(test_yield_from_interleaved),              \
	cmocka_unit_test(test_yield_from_sub_finishes_at_once),     \
	cmocka_unit_test(test_yield_from_not_created),              \
	cmocka_unit_test(test_yield_from_nested_3),                 \
	cmocka_unit_test(test_yield_from_nested_100),               \
	cmocka_unit_test(test_many_alive),                          \
	cmocka_unit_test(test_deep_recursion),                      \
	cmocka_unit_test(test_shared_stack_saved_bytes),            \
	cmocka_unit_test(test_shared_restriction),                  \
	cmocka_unit_test(test_shared_sub_at_shallower_depth),       \
	cmocka_unit_test(test_stack_alloc_failure),                 \
	cmocka_unit_test(test_floating_point),                      \
	cmocka_unit_test(test_threads),                             \
	cmocka_unit_test(test_stack_overflow_guard)

int main(void)
{
	const struct CMUnitTest dedicated[] = {CORO_TESTS};
	const struct CMUnitTest shared[] = {CORO_TESTS};
	int failed = 0;
	failed += cmocka_run_group_tests_name("coro_dedicated", dedicated, tmodes_setup_dedicated,
					      teardown_default);
	failed += cmocka_run_group_tests_name("coro_shared", shared, tmodes_setup_shared,
					      teardown_default);
	return failed ? 1 : 0;
}
