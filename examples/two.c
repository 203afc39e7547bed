/* two.c - the seed's task-state example (section 2.4, "协程任务状态").
 *
 * The coroutine is wrapped in a task by create_task; the task is PENDING
 * until the loop has run it, FINISHED afterwards.
 *
 *   task 是不是 asyncio.Task 的实例？ True
 *   Task state: PENDING
 *   Start coroutine
 *   This is a coroutine
 *   Task state: FINISHED
 *   运行耗时：0.1052
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
	if (rc == 0) {
		printf("task 是不是 asyncio.Task 的实例？ %s\n",
		       task_from_future(task_future(task)) != NULL ? "True" : "False");
		printf("Task state: %s\n", future_state_name(task_state(task)));
		rc = loop_run_until_complete(loop, task_future(task), NULL);
	}
	if (rc == 0)
		printf("Task state: %s\n", future_state_name(task_state(task)));
	task_unref(task);
	loop_free(loop);
	if (rc) {
		fprintf(stderr, "two: %s\n", crawl_strerror(rc));
		return 1;
	}
	printf("运行耗时：%.4f\n", now() - start);
	return 0;
}
