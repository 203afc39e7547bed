/* bench_coro.c - what a coroutine switch and a coroutine's life cost.
 *
 * Prints machine-readable lines "NAME BACKEND VALUE" (BACKEND: asm or
 * ucontext, as built) and "#" comment lines with the raw counts:
 *   switch_ns              one-way switch: (send + yield round trip) / 2
 *   create_run_destroy_ns  coro_new + run to the end + coro_free, the stack
 *                          coming from the stack cache
 *   shared_switch_ns       one-way switch in shared-stack mode, two
 *                          coroutines alternating so every resume copies
 *                          their live stack out and in
 *   shared_live_bytes      the live stack bytes each of those copies
 * Each measurement runs until its iteration target or its time budget,
 * whichever comes first, reading the clock once per chunk.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "coro.h"

#ifdef CORO_UCONTEXT
static const char BACKEND[] = "ucontext";
#else
static const char BACKEND[] = "asm";
#endif

enum { SWITCH_TARGET = 10000000, LIFE_TARGET = 2000000, LIVE_BYTES = 256 };
static const double BUDGET_S = 2.5;

typedef int (*chunk_fn)(void *ctx, uint64_t n);

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Runs fn in growing chunks until target iterations or the budget; returns
 * the seconds spent, *done the iterations, or a negative error. */
static double run_bounded(chunk_fn fn, void *ctx, uint64_t target, uint64_t *done)
{
	uint64_t n = 0, chunk = 1000;
	double start = now_s(), secs = 0;
	while (n < target) {
		uint64_t k = chunk < target - n ? chunk : target - n;
		if (fn(ctx, k) != 0)
			return -1;
		n += k;
		secs = now_s() - start;
		if (secs >= BUDGET_S)
			break;
		if (chunk < 1000000)
			chunk *= 2;
	}
	*done = n;
	return secs;
}

/* Yields forever until closed. */
static int body_loop(void *arg, void **result)
{
	(void)arg;
	(void)result;
	for (;;)
		if (coro_yield(NULL, NULL) != 0)
			return 0;
}

static int chunk_switch(void *ctx, uint64_t n)
{
	coro_t *c = ctx;
	for (uint64_t i = 0; i < n; i++)
		if (coro_send(c, NULL, NULL) != 0)
			return -1;
	return 0;
}

static int bench_switch(void)
{
	const struct coro_opts dedicated = {.shared = -1};
	coro_t *c = NULL;
	uint64_t sends = 0;
	if (coro_start(&c, body_loop, NULL, &dedicated, NULL) != 0)
		return -1;
	chunk_switch(c, 10000); /* warm up */
	double secs = run_bounded(chunk_switch, c, SWITCH_TARGET / 2, &sends);
	coro_free(c);
	if (secs < 0)
		return -1;
	printf("# %s: %llu switches in %.3f s\n", BACKEND, (unsigned long long)sends * 2, secs);
	printf("switch_ns %s %.1f\n", BACKEND, secs * 1e9 / (double)(sends * 2));
	return 0;
}

static int body_return(void *arg, void **result)
{
	*result = arg;
	return 0;
}

static int chunk_life(void *ctx, uint64_t n)
{
	const struct coro_opts *opts = ctx;
	for (uint64_t i = 0; i < n; i++) {
		coro_t *c = NULL;
		if (coro_new(&c, body_return, NULL, opts) != 0)
			return -1;
		int rc = coro_send(c, NULL, NULL);
		coro_free(c);
		if (rc != CORO_RETURNED)
			return -1;
	}
	return 0;
}

static int bench_life(void)
{
	struct coro_opts dedicated = {.shared = -1};
	uint64_t lives = 0;
	chunk_life(&dedicated, 1000); /* fills the stack cache */
	double secs = run_bounded(chunk_life, &dedicated, LIFE_TARGET, &lives);
	if (secs < 0)
		return -1;
	printf("# %s: %llu coroutines created, run and freed in %.3f s\n", BACKEND,
	       (unsigned long long)lives, secs);
	printf("create_run_destroy_ns %s %.1f\n", BACKEND, secs * 1e9 / (double)lives);
	return 0;
}

/* body_loop with a frame padded so that about LIVE_BYTES are live while
 * suspended (the frames below add the rest; the real figure is printed). */
static int body_padded(void *arg, void **result)
{
	volatile char pad[LIVE_BYTES - 160];
	(void)result;
	memset((char *)pad, 0, sizeof pad);
	for (;;)
		if (coro_yield(arg, NULL) != 0)
			return pad[0];
}

struct pair {
	coro_t *a, *b;
};

static int chunk_shared(void *ctx, uint64_t n)
{
	struct pair *p = ctx;
	for (uint64_t i = 0; i < n; i++)
		if (coro_send(p->a, NULL, NULL) != 0 || coro_send(p->b, NULL, NULL) != 0)
			return -1;
	return 0;
}

static int bench_shared(void)
{
	const struct coro_opts shared = {.shared = 1};
	struct pair p = {0};
	uint64_t rounds = 0;
	int rc = -1;
	if (coro_start(&p.a, body_padded, NULL, &shared, NULL) != 0 ||
	    coro_start(&p.b, body_padded, NULL, &shared, NULL) != 0)
		goto out;
	chunk_shared(&p, 10000);
	size_t live = coro_saved_bytes(p.a);
	double secs = run_bounded(chunk_shared, &p, SWITCH_TARGET / 4, &rounds);
	if (secs < 0)
		goto out;
	printf("# %s: %llu shared-stack switches in %.3f s\n", BACKEND,
	       (unsigned long long)rounds * 4, secs);
	printf("shared_switch_ns %s %.1f\n", BACKEND, secs * 1e9 / (double)(rounds * 4));
	printf("shared_live_bytes %s %zu\n", BACKEND, live);
	rc = 0;
out:
	coro_free(p.a);
	coro_free(p.b);
	return rc;
}

int main(void)
{
	if (bench_switch() != 0 || bench_life() != 0 || bench_shared() != 0) {
		fprintf(stderr, "bench_coro: a coroutine call failed\n");
		return 1;
	}
	return 0;
}
