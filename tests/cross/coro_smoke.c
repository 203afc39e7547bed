/* A dependency-free smoke test of lib/coro for other CPUs: built with a
 * cross compiler and run under qemu-user by scripts/cross-check.sh (the
 * cmocka suite needs the target's cmocka, which a cross setup lacks). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"

#define E_VALUE (CRAWL_EUSER - 1)

static int failures;
#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                              \
			failures++;                                                  \
		}                                                                    \
	} while (0)

/* The seed's generator: echoes what it is sent, prints OVER on E_VALUE. */
static int generator(void *arg, void **result)
{
	int *overs = arg;
	const char *i = "start";
	(void)result;
	for (;;) {
		void *v = NULL;
		int rc = coro_yield((void *)i, &v);
		if (rc == E_VALUE) {
			(*overs)++;
			continue;
		}
		if (rc)
			return rc;
		i = v;
	}
}

static int sub_sum(void *arg, void **result)
{
	(void)arg;
	long sum = 0;
	for (;;) {
		void *v = NULL;
		if (coro_yield(NULL, &v) != 0)
			return CRAWL_EEXIT;
		if (!v)
			break;
		sum += (long)(intptr_t)v;
	}
	*result = (void *)(intptr_t)sum;
	return 0;
}

static int delegator(void *arg, void **result)
{
	long *out = arg;
	void *r = NULL;
	(void)result;
	for (;;) {
		int rc = coro_yield_from_fn(sub_sum, NULL, &r);
		if (rc)
			return rc;
		*out = (long)(intptr_t)r;
	}
}

static int floats(void *arg, void **result)
{
	double *x = arg;
	(void)result;
	for (int i = 0; i < 100; i++) {
		*x = *x * 1.000001 + sqrt((double)i);
		if (coro_yield(NULL, NULL) != 0)
			return 0;
	}
	return 0;
}

static void test_generator(void)
{
	int overs = 0;
	coro_t *g;
	void *y = NULL;
	CHECK(coro_new(&g, generator, &overs, NULL) == 0);
	CHECK(coro_state(g) == CORO_CREATED);
	CHECK(coro_send(g, "x", &y) == CRAWL_ENOTSTARTED);
	CHECK(coro_send(g, NULL, &y) == 0 && strcmp(y, "start") == 0);
	CHECK(coro_send(g, "Hello", &y) == 0 && strcmp(y, "Hello") == 0);
	CHECK(coro_throw(g, E_VALUE, &y) == 0 && strcmp(y, "Hello") == 0 && overs == 1);
	CHECK(coro_close(g) == 0 && coro_state(g) == CORO_CLOSED);
	CHECK(coro_send(g, NULL, &y) == CRAWL_ECLOSED);
	coro_free(g);
}

static void test_yield_from(void)
{
	long out = 0;
	coro_t *d;
	CHECK(coro_start(&d, delegator, &out, NULL, NULL) == 0);
	for (int round = 1; round <= 3; round++) {
		for (long v = 1; v <= 10; v++)
			CHECK(coro_send(d, (void *)(intptr_t)(v * round), NULL) == 0);
		CHECK(coro_send(d, NULL, NULL) == 0);
		CHECK(out == 55 * round);
	}
	CHECK(coro_close(d) == 0);
	coro_free(d);
}

static void test_floats(void)
{
	double a = 1.0, b = 1.0, ref = 1.0;
	coro_t *ca, *cb;
	CHECK(coro_new(&ca, floats, &a, NULL) == 0 && coro_new(&cb, floats, &b, NULL) == 0);
	for (int i = 0; i < 100; i++) {
		ref = ref * 1.000001 + sqrt((double)i);
		coro_send(ca, NULL, NULL);
		coro_send(cb, NULL, NULL);
	}
	CHECK(a == ref && b == ref);
	coro_free(ca);
	coro_free(cb);
}

int main(void)
{
	for (int shared = 0; shared < 2; shared++) {
		coro_default_shared(shared);
		test_generator();
		test_yield_from();
		test_floats();
	}
	printf("coro smoke test: %s\n", failures ? "FAILED" : "ok");
	return failures ? 1 : 0;
}
