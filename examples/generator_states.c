/* generator_states.c - seed section 2.1: a generator's four states, next,
 * send, a ValueError thrown in and handled, close.
 *
 *   def generator():
 *       i = '激活生成器'
 *       while True:
 *           try:
 *               value = yield i
 *           except ValueError:
 *               print('OVER')
 *           i = value
 */
#include <stdio.h>

#include "coro.h"

/* The program's own "exception type" for Python's ValueError. */
enum { VALUE_ERROR = CRAWL_EUSER };

static int generator(void *arg, void **result)
{
	void *i = "激活生成器";
	void *value = NULL;
	(void)arg;
	(void)result;
	for (;;) {
		int rc = coro_yield(i, &value);
		if (rc == VALUE_ERROR)
			printf("OVER\n");
		else if (rc == CRAWL_EEXIT)
			return 0; /* GeneratorExit: not caught, the generator ends */
		else if (rc < 0)
			return rc;
		i = value;
	}
}

static void print_state(const coro_t *g)
{
	printf("state: GEN_%s\n", coro_state_name(coro_state(g)));
}

int main(void)
{
	coro_t *g = NULL;
	void *y = NULL;
	const char *step = "coro_new";
	int rc = coro_new(&g, generator, NULL, NULL); /* g = generator() */
	if (rc)
		goto fail;
	print_state(g);
	step = "next";
	if ((rc = coro_send(g, NULL, &y)) != 0) /* next(g) */
		goto fail;
	printf("next(g) -> %s\n", (const char *)y);
	print_state(g);
	step = "send";
	if ((rc = coro_send(g, "Hello Shiyanlou", &y)) != 0)
		goto fail;
	printf("send('Hello Shiyanlou') -> %s\n", (const char *)y);
	step = "throw";
	if ((rc = coro_throw(g, VALUE_ERROR, &y)) != 0)
		goto fail;
	printf("throw(ValueError) -> %s\n", (const char *)y);
	step = "close";
	if ((rc = coro_close(g)) != 0)
		goto fail;
	printf("close()\n");
	print_state(g);
	coro_free(g);
	return 0;
fail:
	fprintf(stderr, "generator_states: %s: %s\n", step, crawl_strerror(rc));
	coro_free(g);
	return 1;
}
