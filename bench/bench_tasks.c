/* bench_tasks.c - a million concurrent sleeping tasks, task throughput and
 * the await/wake-up round trip, in shared-stack mode.
 *
 *   bench_tasks [--tasks N] [--seed S] [--throughput M] [--roundtrips R]
 *
 * million: N tasks, each sleeping uniform(0, 1) s (seeded), all created
 * first, then gathered; wall time, peak RSS (ru_maxrss) and RSS per task
 * ((peak - baseline) / N). breakdown: where the bytes go, measured on a
 * small untimed run afterwards (mallinfo2 walks the heap: too slow to
 * call inside the timed run).
 * throughput: M trivial tasks created, run and completed, in batches of
 * 10,000 gathered at a time; tasks per second.
 * roundtrip: one task awaits R fresh futures, each completed by a call_soon
 * callback (asyncio: fut = loop.create_future(); loop.call_soon(
 * fut.set_result, None); await fut); ns per await.
 * Output is one "key=value" per line for scripts/bench_tasks.sh.
 */
#include <getopt.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include "gather.h"

enum { BATCH = 10000 };
#define MAX_COUNT 100000000L

struct cfg {
	long tasks, throughput, roundtrips;
	uint64_t seed;
};

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long peak_rss_kib(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : -1;
}

static size_t heap_in_use(void)
{
	struct mallinfo2 mi = mallinfo2();
	return mi.uordblks + mi.hblkhd;
}

static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

static double uniform01(uint64_t *s)
{
	return (double)(splitmix64(s) >> 11) * 0x1.0p-53;
}

/* ---- million ---- */

static coro_t *probe_coro; /* a sleeper that outlives the others */

/* The sleep, in ns, travels in the argument pointer: no per-task array. */
static int sleeper(void *arg, void **result)
{
	(void)result;
	return task_sleep((double)(uintptr_t)arg / 1e9);
}

static int probe(void *arg, void **result)
{
	(void)result;
	probe_coro = coro_current();
	return task_sleep(*(const double *)arg);
}

static int create_sleepers(loop_t *l, long n, uint64_t seed, future_t **futs)
{
	uint64_t s = seed;
	for (long i = 0; i < n; i++) {
		task_t *t = NULL;
		uintptr_t ns = (uintptr_t)(uniform01(&s) * 1e9);
		int rc = task_create(l, sleeper, (void *)ns, NULL, &t);
		if (rc)
			return rc;
		futs[i] = task_future(t);
	}
	return 0;
}

/* Creates n sleepers and gathers them; the futures array is gone before
 * the run (the gather holds its own references). */
static int create_gathered(loop_t *l, long n, uint64_t seed, future_t **g)
{
	future_t **futs = calloc((size_t)n, sizeof *futs);
	int rc = futs ? create_sleepers(l, n, seed, futs) : CRAWL_ENOMEM;
	if (rc == 0)
		rc = gather(l, futs, (size_t)n, 0, g);
	for (long i = 0; futs && i < n && futs[i]; i++)
		future_unref(futs[i]);
	free(futs);
	return rc;
}

/* Runs exactly the first step of every task (they are queued before the
 * zero sleep's callbacks), so all of them are asleep when it returns. */
static int run_first_steps(loop_t *l)
{
	future_t *z = NULL;
	int rc = sleep_future(l, 0, NULL, &z);
	if (rc == 0)
		rc = loop_run_until_complete(l, z, NULL);
	future_unref(z);
	return rc;
}

static int bench_million(const struct cfg *c)
{
	loop_t *l = NULL;
	future_t *g = NULL;
	int rc = loop_new(&l);
	if (rc)
		return rc;
	long base_kib = peak_rss_kib();
	double t0 = wall();
	rc = create_gathered(l, c->tasks, c->seed, &g);
	if (rc == 0)
		rc = loop_run_until_complete(l, g, NULL);
	double secs = wall() - t0;
	long peak = peak_rss_kib();
	future_unref(g);
	loop_free(l);
	if (rc)
		return rc;
	printf("million.tasks=%ld\n", c->tasks);
	printf("million.wall_s=%.4f\n", secs);
	printf("million.baseline_rss_kib=%ld\n", base_kib);
	printf("million.peak_rss_kib=%ld\n", peak);
	printf("million.bytes_per_task=%.1f\n",
	       (double)(peak - base_kib) * 1024.0 / (double)c->tasks);
	return 0;
}

/* Where the bytes go, on a small untimed run after the timed one: heap in
 * use per task once created and once asleep, the stack bytes a sleeping
 * task keeps, and the fixed per-child costs of gather and the timers. */
static int bench_breakdown(const struct cfg *c)
{
	long n = c->tasks < 10000 ? c->tasks : 10000;
	double probe_sleep = 0.01;
	loop_t *l = NULL;
	task_t *p = NULL;
	future_t *g = NULL;
	int rc = loop_new(&l);
	if (rc)
		return rc;
	size_t heap0 = heap_in_use();
	rc = create_gathered(l, n, c->seed, &g);
	size_t created = heap_in_use();
	if (rc == 0)
		rc = task_create(l, probe, &probe_sleep, NULL, &p);
	if (rc == 0)
		rc = run_first_steps(l);
	size_t asleep = heap_in_use();
	size_t saved = probe_coro ? coro_saved_bytes(probe_coro) : 0;
	if (rc == 0)
		rc = loop_run_until_complete(l, task_future(p), NULL);
	task_unref(p);
	future_unref(g);
	loop_free(l); /* the sleepers still pending are destroyed with it */
	if (rc)
		return rc;
	printf("breakdown.tasks=%ld\n", n);
	printf("breakdown.heap_bytes_per_task_created=%.1f\n",
	       (double)(created - heap0) / (double)n);
	printf("breakdown.heap_bytes_per_task_asleep=%.1f\n", (double)(asleep - heap0) / (double)n);
	printf("breakdown.saved_stack_bytes=%zu\n", saved);
	printf("breakdown.gather_bytes_per_child=%zu\n", 2 * sizeof(void *) + sizeof(int));
	printf("breakdown.timer_struct_bytes=%zu\n", sizeof(struct loop_timer));
	printf("breakdown.future_struct_bytes=%zu\n", sizeof(struct future));
	return 0;
}

/* ---- throughput ---- */

static int nothing(void *arg, void **result)
{
	*result = arg;
	return 0;
}

static int run_batch(loop_t *l, long n, future_t **futs)
{
	future_t *g = NULL;
	long made = 0;
	int rc = 0;
	for (; made < n && rc == 0; made++) {
		task_t *t = NULL;
		rc = task_create(l, nothing, NULL, NULL, &t);
		futs[made] = rc ? NULL : task_future(t);
	}
	if (rc == 0)
		rc = gather(l, futs, (size_t)n, 0, &g);
	if (rc == 0)
		rc = loop_run_until_complete(l, g, NULL);
	for (long i = 0; i < made; i++)
		future_unref(futs[i]);
	future_unref(g);
	return rc;
}

static int bench_throughput(const struct cfg *c)
{
	loop_t *l = NULL;
	future_t *futs[BATCH];
	int rc = loop_new(&l);
	if (rc)
		return rc;
	double t0 = wall();
	for (long done = 0; done < c->throughput && rc == 0; done += BATCH) {
		long n = c->throughput - done < BATCH ? c->throughput - done : BATCH;
		rc = run_batch(l, n, futs);
	}
	double secs = wall() - t0;
	loop_free(l);
	if (rc == 0) {
		printf("throughput.tasks=%ld\n", c->throughput);
		printf("throughput.tasks_per_s=%.0f\n", (double)c->throughput / secs);
	}
	return rc;
}

/* ---- await / wake-up round trip ---- */

static void complete_cb(void *arg)
{
	future_set_result(arg, NULL);
}

static int pinger(void *arg, void **result)
{
	long rounds = *(const long *)arg;
	loop_t *l = task_loop(task_current());
	(void)result;
	for (long i = 0; i < rounds; i++) {
		future_t *f = NULL;
		int rc = future_new(l, &f);
		if (rc == 0)
			rc = loop_call_soon(l, complete_cb, f, NULL);
		if (rc == 0)
			rc = task_await(f, NULL);
		future_unref(f);
		if (rc)
			return rc;
	}
	return 0;
}

static int bench_roundtrip(const struct cfg *c)
{
	loop_t *l = NULL;
	task_t *t = NULL;
	int rc = loop_new(&l);
	if (rc)
		return rc;
	double t0 = wall();
	rc = task_create(l, pinger, (void *)&c->roundtrips, NULL, &t);
	if (rc == 0)
		rc = loop_run_until_complete(l, task_future(t), NULL);
	double secs = wall() - t0;
	task_unref(t);
	loop_free(l);
	if (rc == 0) {
		printf("roundtrip.rounds=%ld\n", c->roundtrips);
		printf("roundtrip.ns=%.1f\n", secs * 1e9 / (double)c->roundtrips);
	}
	return rc;
}

/* ---- options ---- */

static int parse_count(const char *s, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 1 || v > MAX_COUNT)
		return -1;
	*out = v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct cfg *c)
{
	static const struct option longopts[] = {{"tasks", required_argument, NULL, 'n'},
	                                         {"seed", required_argument, NULL, 's'},
	                                         {"throughput", required_argument, NULL, 't'},
	                                         {"roundtrips", required_argument, NULL, 'r'},
	                                         {NULL, 0, NULL, 0}};
	int o;
	long seed = 0;
	while ((o = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int bad = o == 'n'   ? parse_count(optarg, &c->tasks)
		          : o == 't' ? parse_count(optarg, &c->throughput)
		          : o == 'r' ? parse_count(optarg, &c->roundtrips)
		          : o == 's' ? parse_count(optarg, &seed)
		                     : -1;
		if (bad) {
			fprintf(stderr,
			        "usage: %s [--tasks N] [--seed S] [--throughput M] "
			        "[--roundtrips R] (counts 1..%ld)\n",
			        argv[0], MAX_COUNT);
			return -1;
		}
		if (o == 's')
			c->seed = (uint64_t)seed;
	}
	return optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct cfg c = {1000000, 1000000, 1000000, 1};
	if (parse_opts(argc, argv, &c) != 0)
		return 2;
	coro_default_shared(1);
	printf("bench_tasks: mode=shared-stack seed=%llu\n", (unsigned long long)c.seed);
	int rc = bench_million(&c);
	if (rc == 0)
		rc = bench_breakdown(&c);
	if (rc == 0)
		rc = bench_throughput(&c);
	if (rc == 0)
		rc = bench_roundtrip(&c);
	if (rc) {
		fprintf(stderr, "bench_tasks: %s\n", crawl_strerror(rc));
		return 1;
	}
	return 0;
}
