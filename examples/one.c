/* one.c - the seed's first asyncio example (section 2.4, "coroutine 协程举例").
 *
 * A coroutine run by the loop's run_until_complete. Its body blocks the
 * whole thread with nanosleep, as the seed's time.sleep(0.1) does, so the
 * run takes the 0.1 s of that sleep.
 *
 *   Start coroutine
 *   This is a coroutine
 *   运行耗时：0.1062
 */
#include <stdio.h>
#include <time.h>

#include "task.h"

#include "seed_time.h"

static int do_some_work(void *arg, void **result)
{
	(void)arg;
	(void)result;
	printf("Start coroutine\n");
	blocking_sleep(0.1);
	printf("This is a coroutine\n");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		fprintf(stderr, "usage: %s (takes no options; got '%s')\n", argv[0], argv[1]);
		return 2;
	}
	double start = now();
	loop_t *loop = NULL;
	task_t *task = NULL;
	int rc = loop_new(&loop);
	if (rc == 0)
		rc = task_create(loop, do_some_work, NULL, NULL, &task);
	if (rc == 0)
		rc = loop_run_until_complete(loop, task_future(task), NULL);
	task_unref(task);
	loop_free(loop);
	if (rc) {
		fprintf(stderr, "one: %s\n", crawl_strerror(rc));
		return 1;
	}
	printf("运行耗时：%.4f\n", now() - start);
	return 0;
}
