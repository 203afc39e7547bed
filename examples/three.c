/* three.c - the seed's done-callback example (section 2.5, "回调函数").
 *
 * The callback gets a bound argument, the name, as functools.partial gives
 * it in the seed, and the task as its other argument.
 *
 *   [corowork] Start coroutine
 *   [corowork] This is a coroutine
 *   [callback] Hello Shiyanlou
 *   [callback] coroutine state: FINISHED
 *   运行耗时：0.1051
 */
#include <stdio.h>
#include <time.h>

#include "task.h"

#include "seed_time.h"

static int corowork(void *arg, void **result)
{
	(void)arg;
	(void)result;
	printf("[corowork] Start coroutine\n");
	blocking_sleep(0.1);
	printf("[corowork] This is a coroutine\n");
	return 0;
}

/* callback(name, task): name is bound when the callback is added. */
static void callback(future_t *task, void *name)
{
	printf("[callback] Hello %s\n", (const char *)name);
	printf("[callback] coroutine state: %s\n", future_state_name(future_state(task)));
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: %s (takes no options; got '%s')\n", argv[0], argv[1]);
		return 2;
	}
	static char name[] = "Shiyanlou";
	double start = now();
	loop_t *loop = NULL;
	task_t *task = NULL;
	int rc = loop_new(&loop);
	if (rc == 0)
		rc = task_create(loop, corowork, NULL, NULL, &task);
	if (rc == 0)
		rc = future_add_done_callback(task_future(task), callback, name);
	if (rc == 0)
		rc = loop_run_until_complete(loop, task_future(task), NULL);
	task_unref(task);
	loop_free(loop);
	if (rc) {
		fprintf(stderr, "three: %s\n", crawl_strerror(rc));
		return 1;
	}
	printf("运行耗时：%.4f\n", now() - start);
	return 0;
}
