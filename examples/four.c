/* four.c - the seed's multi-task example (section 2.5, "多任务协程").
 *
 * Two tasks sleep 3 s and 1 s with task_sleep (asyncio.sleep: only the
 * task waits), gathered; the run takes as long as the longest sleep.
 *
 *   [corowork] Start coroutine ONE
 *   [corowork] Start coroutine TWO
 *   [corowork] Stop coroutine TWO
 *   [corowork] Stop coroutine ONE
 *   [task1]  Coroutine ONE OK
 *   [task2]  Coroutine TWO OK
 *   运行耗时：3.0070
 *
 * Options:
 *   --scale X        multiply every sleep by X (the tests use 0.05)
 *   --gather-result  print the gather's result list instead of each task's
 *                    result: ['Coroutine ONE OK', 'Coroutine TWO OK']
 *   --blocking       sleep with nanosleep (time.sleep) instead: the whole
 *                    thread blocks, the tasks run one after the other and
 *                    the run takes the sum of the sleeps
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "gather.h"

#include "seed_time.h"

struct opts {
	double scale;
	int gather_result;
	int blocking;
};

struct work {
	const char *name;
	double seconds;
	int blocking;
	char result[32];
};

static int corowork(void *arg, void **result)
{
	struct work *w = arg;
	printf("[corowork] Start coroutine %s\n", w->name);
	if (w->blocking) {
		blocking_sleep(w->seconds);
	} else {
		int rc = task_sleep(w->seconds);
		if (rc)
			return rc;
	}
	printf("[corowork] Stop coroutine %s\n", w->name);
	snprintf(w->result, sizeof w->result, "Coroutine %s OK", w->name);
	*result = w->result;
	return 0;
}

static void usage(FILE *to, const char *prog)
{
	fprintf(to, "usage: %s [--scale X] [--gather-result] [--blocking]\n", prog);
}

/* 0 to run, 1 to exit 0 (--help), 2 on a bad option. */
static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {{"scale", required_argument, NULL, 's'},
	                                         {"gather-result", no_argument, NULL, 'g'},
	                                         {"blocking", no_argument, NULL, 'b'},
	                                         {"help", no_argument, NULL, 'h'},
	                                         {NULL, 0, NULL, 0}};
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o->scale = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(o->scale) || o->scale < 0 ||
			    o->scale > 1000) {
				fprintf(stderr,
				        "four: --scale wants a number from 0 to 1000, got '%s'\n",
				        optarg);
				return 2;
			}
			break;
		case 'g':
			o->gather_result = 1;
			break;
		case 'b':
			o->blocking = 1;
			break;
		case 'h':
			usage(stdout, argv[0]);
			return 1;
		default:
			usage(stderr, argv[0]);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "four: unexpected argument '%s'\n", argv[optind]);
		usage(stderr, argv[0]);
		return 2;
	}
	return 0;
}

static void print_results(const struct opts *o, struct work *w, void *gathered)
{
	if (o->gather_result) {
		const struct gather_result *r = gathered;
		printf("['%s', '%s']\n", (const char *)r->values[0], (const char *)r->values[1]);
		return;
	}
	printf("[task1]  %s\n", w[0].result);
	printf("[task2]  %s\n", w[1].result);
}

static int run(const struct opts *o)
{
	struct work w[2] = {{"ONE", 3 * o->scale, o->blocking, ""},
	                    {"TWO", 1 * o->scale, o->blocking, ""}};
	loop_t *loop = NULL;
	task_t *t[2] = {NULL, NULL};
	future_t *g = NULL;
	void *gathered = NULL;
	int rc = loop_new(&loop);
	for (int i = 0; i < 2 && rc == 0; i++)
		rc = task_create(loop, corowork, &w[i], NULL, &t[i]);
	if (rc == 0) {
		future_t *futs[2] = {task_future(t[0]), task_future(t[1])};
		rc = gather(loop, futs, 2, 0, &g);
	}
	if (rc == 0)
		rc = loop_run_until_complete(loop, g, &gathered);
	if (rc == 0)
		print_results(o, w, gathered);
	future_unref(g);
	task_unref(t[0]);
	task_unref(t[1]);
	loop_free(loop);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {1.0, 0, 0};
	int prc = parse_opts(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : 2;
	double start = now();
	int rc = run(&o);
	if (rc) {
		fprintf(stderr, "four: %s\n", crawl_strerror(rc));
		return 1;
	}
	printf("运行耗时：%.4f\n", now() - start);
	return 0;
}
