/* prime.c - seed section 2.2: a primed coroutine (the @coroutine decorator,
 * here coro_start) is GEN_SUSPENDED as soon as it exists and takes send at
 * once. */
#include <stdio.h>

#include "coro.h"

enum { VALUE_ERROR = CRAWL_EUSER };

/* The same generator as in section 2.1. */
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
			return 0;
		else if (rc < 0)
			return rc;
		i = value;
	}
}

int main(void)
{
	coro_t *g = NULL;
	void *y = NULL;
	int rc = coro_start(&g, generator, NULL, NULL, NULL); /* g = generator() */
	if (rc) {
		fprintf(stderr, "prime: coro_start: %s\n", crawl_strerror(rc));
		return 1;
	}
	printf("state: GEN_%s\n", coro_state_name(coro_state(g)));
	rc = coro_send(g, "Hello Shiyanlou", &y);
	if (rc) {
		fprintf(stderr, "prime: send: %s\n", crawl_strerror(rc));
		coro_free(g);
		return 1;
	}
	printf("send('Hello Shiyanlou') -> %s\n", (const char *)y);
	coro_free(g);
	return 0;
}
