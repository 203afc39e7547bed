/* bench_crawl.c - one whole crawl, measured: pages/s, CPU seconds, peak RSS.
 *
 *   bench_crawl crawl URL [options]   crawl a real site with libcrawl (this process)
 *   bench_crawl sim SPEC [options]    crawl the simulated web SPEC from sim://h0.sim/
 *   bench_crawl exec NAME [options] -- CMD ARG...
 *                                     run another crawler and measure it (wait4); its
 *                                     stdout must hold a line "pages N", unless
 *                                     --count-dir DIR: then N is the number of *.html
 *                                     files under DIR after it exits
 * options:
 *   --concurrency N   fetches in flight (default 64; crawl and sim)
 *   --name NAME       the name on the output lines (default crawld)
 *   --expect N        the page count the crawl must find; another count fails (exit 1)
 *   --batch N         results per sorted batch (default 1000; crawl and sim)
 *   --timeout S       give up after S seconds (default 600)
 *
 * Output: comment lines "# ..." and value lines "METRIC NAME VALUE" (pages, wall_s,
 * pages_per_s, cpu_s, cpu_us_per_page, peak_rss_mib, count), one metric per line, for
 * scripts/bench_crawl.sh to compare. The crawl modes count a page only when its result
 * has status 200; every other result is counted apart (errors) and printed.
 */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crawl.h"
#include "fetch.h"
#include "simweb.h"
#include "task.h"
#include "workers.h"

struct opts {
	const char *name;
	long concurrency, expect, batch;
	long parse_threads; /* -1: online CPUs minus one, at least one */
	double timeout;
	const char *count_dir;
	char **cmd; /* exec: the command after "--" */
};

struct tally {
	unsigned long long ok, other;
	unsigned long long shown; /* non-200 results printed */
	struct crawl *crawl;
	int timed_out;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_crawl crawl URL | sim SPEC [--concurrency N] [--name NAME]\n"
	                "         [--expect N] [--batch N] [--timeout S] [--parse-threads N]\n"
	                "       bench_crawl exec NAME [--expect N] [--count-dir DIR] [--timeout S]"
	                " -- CMD ARG...\n");
	exit(2);
}

static long num_arg(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi) {
		fprintf(stderr, "bench_crawl: '%s' is not a number in %ld..%ld\n", s, lo, hi);
		exit(2);
	}
	return v;
}

static void parse_opts(int argc, char **argv, int i, struct opts *o)
{
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			o->cmd = argv + i + 1;
			return;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(a, "--concurrency") == 0)
			o->concurrency = num_arg(argv[++i], 1, 100000);
		else if (strcmp(a, "--expect") == 0)
			o->expect = num_arg(argv[++i], 0, 100000000);
		else if (strcmp(a, "--batch") == 0)
			o->batch = num_arg(argv[++i], 0, 10000000);
		else if (strcmp(a, "--parse-threads") == 0)
			o->parse_threads = num_arg(argv[++i], 0, WORKERS_MAX_THREADS);
		else if (strcmp(a, "--timeout") == 0)
			o->timeout = (double)num_arg(argv[++i], 1, 86400);
		else if (strcmp(a, "--name") == 0)
			o->name = argv[++i];
		else if (strcmp(a, "--count-dir") == 0)
			o->count_dir = argv[++i];
		else
			usage();
	}
}

/* The value lines; returns the exit status (1 if the count is not the expected one). */
static int report(const struct opts *o, unsigned long long pages, double wall, double cpu,
                  long maxrss_kib)
{
	const char *n = o->name;
	printf("pages %s %llu\n", n, pages);
	printf("wall_s %s %.3f\n", n, wall);
	printf("pages_per_s %s %.0f\n", n, wall > 0 ? (double)pages / wall : 0.0);
	printf("cpu_s %s %.3f\n", n, cpu);
	printf("cpu_us_per_page %s %.1f\n", n, pages ? cpu * 1e6 / (double)pages : 0.0);
	printf("peak_rss_mib %s %.1f\n", n, (double)maxrss_kib / 1024.0);
	int ok = o->expect < 0 || (unsigned long long)o->expect == pages;
	if (o->expect >= 0)
		printf("count %s %s\n", n, ok ? "ok" : "WRONG");
	if (!ok)
		printf("# %s: found %llu pages, expected %ld\n", n, pages, o->expect);
	fflush(stdout);
	return ok ? 0 : 1;
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

/* ---- crawl and sim: libcrawl in this process ---- */

static void on_page(void *arg, const struct crawl_result *r)
{
	struct tally *t = arg;
	if (r->status == 200 && !r->error) {
		t->ok++;
		return;
	}
	t->other++;
	if (t->shown++ < 10)
		printf("# not a page: %s status %d %s\n", r->url, r->status,
		       r->error ? r->error_msg : "");
}

static void on_timeout(void *arg)
{
	struct tally *t = arg;
	t->timed_out = 1;
	crawl_cancel(t->crawl);
}

/* As the daemon: the loop thread fetches, the other cores parse. */
static int parse_threads(const struct opts *o)
{
	if (o->parse_threads >= 0)
		return (int)o->parse_threads;
	long n = sysconf(_SC_NPROCESSORS_ONLN) - 1;
	return n < 1 ? 1 : n > WORKERS_MAX_THREADS ? WORKERS_MAX_THREADS : (int)n;
}

static int run_libcrawl(const struct opts *o, const char *seed, const char *simspec)
{
	loop_t *l = NULL;
	struct fetcher *fr = NULL;
	struct simweb *web = NULL;
	struct workers *pool = NULL;
	struct tally t = {0};
	char err[256] = "";
	int rc = loop_new(&l);
	struct fetcher_limits lim;
	fetcher_limits_init(&lim);
	lim.max_total_connections = o->concurrency;
	lim.max_host_connections = o->concurrency;
	if (rc == 0)
		rc = fetcher_new(l, &lim, &fr);
	if (rc == 0)
		rc = workers_new(l, parse_threads(o), &pool);
	if (rc == 0 && simspec && (rc = simweb_new(&web, simspec, err, sizeof err)) == 0)
		fetcher_set_simweb(fr, web);
	if (rc) {
		fprintf(stderr, "bench_crawl: setup: %s %s\n", crawl_strerror(rc), err);
		goto out;
	}
	struct crawl_spec s;
	crawl_spec_init(&s);
	s.seeds = &seed;
	s.nseeds = 1;
	s.max_depth = 1000;
	s.max_pages = 0;
	s.concurrency = (int)o->concurrency;
	s.per_host = (int)o->concurrency;
	s.allow_private = 1; /* the benchmark's site is on loopback */
	s.batch_size = (size_t)o->batch;
	s.workers = pool;
	struct crawl_callbacks cb = {.page = on_page, .arg = &t};
	rc = crawl_new(&t.crawl, l, fr, &s, &cb, err, sizeof err);
	if (rc) {
		fprintf(stderr, "bench_crawl: crawl_new: %s\n", err);
		goto out;
	}
	loop_handle_t *h = NULL;
	double t0 = now_s();
	rc = crawl_start(t.crawl);
	if (rc == 0)
		rc = loop_call_later(l, o->timeout, on_timeout, &t, &h);
	if (rc == 0)
		rc = loop_run_until_complete(l, crawl_future(t.crawl), NULL);
	double wall = now_s() - t0;
	loop_handle_cancel(h);
	if (rc == 0 && t.timed_out)
		rc = CRAWL_ETIMEDOUT;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	printf("# %s: %s, concurrency %ld, %d parse threads: %llu pages, %llu other results in "
	       "%.3f s\n", o->name, seed, o->concurrency, parse_threads(o), t.ok, t.other, wall);
	if (rc)
		fprintf(stderr, "bench_crawl: crawl: %s\n", crawl_strerror(rc));
	int st = report(o, t.ok, wall, tv_s(ru.ru_utime) + tv_s(ru.ru_stime), ru.ru_maxrss);
	if (rc == 0)
		rc = st;
out:
	crawl_free(t.crawl);
	fetcher_free(fr);
	workers_free(pool); /* before the loop: its event is on the loop */
	loop_free(l);
	simweb_free(web);
	return rc ? 1 : 0;
}

/* ---- exec: another crawler as a child ---- */

static unsigned long long html_files;

static int count_html(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)ftw;
	size_t n = strlen(path);
	if (flag == FTW_F && n > 5 && strcmp(path + n - 5, ".html") == 0)
		html_files++;
	return 0;
}

/* Reads the child's stdout: echoes it as comments, keeps the "pages N" line. */
static long long read_child(FILE *in)
{
	char line[4096];
	long long pages = -1;
	while (fgets(line, sizeof line, in)) {
		long long v;
		if (sscanf(line, "pages %lld", &v) == 1)
			pages = v;
		printf("# | %s%s", line, strchr(line, '\n') ? "" : "\n");
	}
	return pages;
}

static volatile sig_atomic_t alarm_fired;

static void on_alarm(int sig)
{
	(void)sig;
	alarm_fired = 1;
}

static int run_exec(const struct opts *o)
{
	int fd[2];
	if (!o->cmd || !o->cmd[0])
		usage();
	if (pipe(fd) != 0)
		return perror("bench_crawl: pipe"), 1;
	double t0 = now_s();
	pid_t pid = fork();
	if (pid < 0)
		return perror("bench_crawl: fork"), 1;
	if (pid == 0) {
		dup2(fd[1], 1);
		close(fd[0]);
		close(fd[1]);
		execvp(o->cmd[0], o->cmd);
		fprintf(stderr, "bench_crawl: exec %s: %s\n", o->cmd[0], strerror(errno));
		_exit(127);
	}
	close(fd[1]);
	struct sigaction sa = {.sa_handler = on_alarm};
	sigaction(SIGALRM, &sa, NULL);
	alarm((unsigned)o->timeout);
	FILE *in = fdopen(fd[0], "r");
	long long pages = in ? read_child(in) : -1;
	if (in)
		fclose(in);
	int status = 0;
	struct rusage ru;
	while (wait4(pid, &status, 0, &ru) < 0) {
		if (errno != EINTR)
			return perror("bench_crawl: wait4"), 1;
		if (alarm_fired)
			kill(pid, SIGKILL); /* our own child, by its PID */
	}
	alarm(0);
	double wall = now_s() - t0;
	if (alarm_fired)
		printf("# %s: killed after %.0f s\n", o->name, o->timeout);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		printf("# %s: exit status %d\n", o->name,
		       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	if (o->count_dir) {
		html_files = 0;
		nftw(o->count_dir, count_html, 32, FTW_PHYS);
		pages = (long long)html_files;
	}
	if (pages < 0) {
		printf("# %s: printed no 'pages N' line\n", o->name);
		pages = 0;
	}
	return report(o, (unsigned long long)pages, wall, tv_s(ru.ru_utime) + tv_s(ru.ru_stime),
	              ru.ru_maxrss);
}

int main(int argc, char **argv)
{
	struct opts o = {
	    .name = "crawld", .concurrency = 64, .expect = -1, .batch = 1000, .timeout = 600,
	    .parse_threads = -1};
	if (argc < 3)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(argv[1], "exec") == 0) {
		o.name = argv[2];
		parse_opts(argc, argv, 3, &o);
		return run_exec(&o);
	}
	parse_opts(argc, argv, 3, &o);
	if (o.cmd)
		usage();
	coro_default_shared(1); /* a million tasks do not fit dedicated stacks */
	if (strcmp(argv[1], "crawl") == 0)
		return run_libcrawl(&o, argv[2], NULL);
	if (strcmp(argv[1], "sim") == 0)
		return run_libcrawl(&o, "sim://h0.sim/", argv[2]);
	usage();
	return 2;
}
