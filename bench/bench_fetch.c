/* bench_fetch.c - fetch throughput, real and simulated.
 *
 *   bench_fetch real URL [-c INFLIGHT] [-d SECONDS]
 *       INFLIGHT tasks (default 64) fetch URL over and over for SECONDS
 *       (default 5): fetches per second and CPU time per fetch (getrusage).
 *       Loopback is allowed; every fetch must give 200.
 *   bench_fetch sim [-n FETCHES] [-w WINDOW]
 *       FETCHES simulated fetches (default 1,000,000) kept WINDOW in flight
 *       (default 10,000) by done callbacks, with zero latency and with
 *       uniform 1-100 ms latency; then the same through tasks. Each scenario
 *       runs in a child process, so its peak RSS is its own.
 *
 * Output: "# " comment lines, then "name value unit" lines that scripts read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"
#include "simweb.h"
#include "task.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static double self_cpu(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return cpu_s(&ru);
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_fetch: %s: %s\n", what, rc ? crawl_strerror(rc) : strerror(errno));
	exit(1);
}

/* ---- real ---- */

struct real {
	struct fetcher *fr;
	const char *url;
	struct fetch_opts opts;
	double deadline;
	unsigned long fetches, errors, bytes;
	char first_error[256];
};

static int real_worker(void *arg, void **result)
{
	struct real *r = arg;
	(void)result;
	while (now_s() < r->deadline) {
		future_t *f;
		void *res;
		if (fetch(r->fr, r->url, &r->opts, &f) != 0)
			return CRAWL_ENOMEM;
		int rc = task_await(f, &res);
		const struct fetch_response *resp = fetch_response_of(f);
		if (rc == 0 && resp->status == 200) {
			r->fetches++;
			r->bytes += resp->body_len;
		} else {
			if (!r->errors && resp)
				snprintf(r->first_error, sizeof r->first_error, "%s (status %ld)",
					 resp->message ? resp->message : crawl_errname(rc), resp->status);
			r->errors++;
		}
		future_unref(f);
	}
	return 0;
}

static int bench_real(const char *url, int inflight, double seconds)
{
	loop_t *l;
	struct real r = {.url = url};
	task_t **ts = calloc((size_t)inflight, sizeof *ts);
	int rc;
	if (!ts)
		die("calloc", CRAWL_ENOMEM);
	struct fetcher_limits lim;
	fetcher_limits_init(&lim);
	lim.max_host_connections = inflight; /* as wrk: one connection per fetch in flight */
	if ((rc = loop_new(&l)) != 0 || (rc = fetcher_new(l, &lim, &r.fr)) != 0)
		die("setup", rc);
	fetch_opts_init(&r.opts);
	r.opts.allow_private = 1;
	r.opts.timeout = 10;
	double c0 = self_cpu(), t0 = now_s();
	r.deadline = t0 + seconds;
	for (int i = 0; i < inflight; i++)
		if ((rc = task_create(l, real_worker, &r, NULL, &ts[i])) != 0)
			die("task_create", rc);
	for (int i = 0; i < inflight; i++) {
		if ((rc = loop_run_until_complete(l, task_future(ts[i]), NULL)) != 0)
			die("worker", rc);
		task_unref(ts[i]);
	}
	double wall = now_s() - t0, cpu = self_cpu() - c0;
	printf("# real: %lu fetches of %s, %d in flight, %.2f s, %lu errors%s%s\n", r.fetches,
	       url, inflight, wall, r.errors, r.errors ? ": " : "", r.first_error);
	printf("real_fetches_per_s %.0f\n", (double)r.fetches / wall);
	printf("real_cpu_us_per_fetch %.2f\n", r.fetches ? cpu * 1e6 / (double)r.fetches : 0.0);
	printf("real_body_bytes_per_fetch %.0f\n",
	       r.fetches ? (double)r.bytes / (double)r.fetches : 0.0);
	printf("real_errors %lu\n", r.errors);
	fetcher_free(r.fr);
	loop_free(l);
	free(ts);
	return r.errors ? 1 : 0;
}

/* ---- sim, by callbacks ---- */

struct sim {
	loop_t *loop;
	struct fetcher *fr;
	future_t *all_done;
	struct loop_timer ramp;
	unsigned long total, started, done, errors, window;
};

#define SIM_PAGES 100000ul
#define RAMP_STEP 1000ul

static void sim_start_one(struct sim *s);

static void sim_done(future_t *f, void *arg)
{
	struct sim *s = arg;
	const struct fetch_response *r = fetch_response_of(f);
	if (future_error(f) != 0 || r->status != 200 || r->body_len == 0)
		s->errors++;
	future_unref(f);
	s->done++;
	if (s->started < s->total)
		sim_start_one(s);
	else if (s->done == s->total)
		future_set_result(s->all_done, NULL);
}

static void sim_start_one(struct sim *s)
{
	char url[48];
	future_t *f;
	snprintf(url, sizeof url, "sim://h0.sim/p/%lu", s->started % (SIM_PAGES - 1) + 1);
	s->started++;
	int rc = fetch(s->fr, url, NULL, &f);
	if (rc == 0)
		rc = future_add_done_callback(f, sim_done, s);
	if (rc)
		die("fetch", rc);
}

/* Fills the window RAMP_STEP fetches per loop turn: the loop clock is read
 * once per turn, so a window started in one go would share one start time
 * and finish in one burst, all bodies alive at once. */
static void sim_ramp(void *arg)
{
	struct sim *s = arg;
	for (unsigned long i = 0; i < RAMP_STEP && s->started < s->window && s->started < s->total; i++)
		sim_start_one(s);
	if (s->started < s->window && s->started < s->total)
		loop_timer_soon(s->loop, &s->ramp);
}

static struct simweb *sim_web(const char *spec)
{
	struct simweb *w;
	char err[256];
	int rc = simweb_new(&w, spec, err, sizeof err);
	if (rc) {
		fprintf(stderr, "bench_fetch: simweb '%s': %s\n", spec, err);
		exit(1);
	}
	return w;
}

static int sim_callbacks(const char *spec, unsigned long n, unsigned long window)
{
	struct sim s = {.total = n, .window = window};
	struct simweb *w = sim_web(spec);
	int rc;
	if ((rc = loop_new(&s.loop)) != 0 || (rc = fetcher_new(s.loop, NULL, &s.fr)) != 0 ||
	    (rc = future_new(s.loop, &s.all_done)) != 0)
		die("setup", rc);
	fetcher_set_simweb(s.fr, w);
	double t0 = now_s();
	loop_timer_init(&s.ramp, sim_ramp, &s);
	loop_timer_soon(s.loop, &s.ramp);
	if ((rc = loop_run_until_complete(s.loop, s.all_done, NULL)) != 0)
		die("run", rc);
	double wall = now_s() - t0;
	printf("# sim callbacks [%s]: %lu fetches, %lu in flight, %.3f s, %lu errors\n", spec,
	       s.done, window, wall, s.errors);
	future_unref(s.all_done);
	fetcher_free(s.fr);
	loop_free(s.loop);
	simweb_free(w);
	printf("fetches_per_s %.0f\n", (double)s.done / wall);
	return s.errors ? 1 : 0;
}

/* ---- sim, by tasks: each fetches in sequence ---- */

struct simtask {
	struct fetcher *fr;
	unsigned long per_task, id, errors;
};

static int sim_task_body(void *arg, void **result)
{
	struct simtask *t = arg;
	char url[48];
	(void)result;
	for (unsigned long i = 0; i < t->per_task; i++) {
		future_t *f;
		void *r;
		snprintf(url, sizeof url, "sim://h0.sim/p/%lu", (t->id * 7919 + i) % (SIM_PAGES - 1) + 1);
		if (fetch(t->fr, url, NULL, &f) != 0)
			return CRAWL_ENOMEM;
		if (task_await(f, &r) != 0 || ((struct fetch_response *)r)->status != 200)
			t->errors++;
		future_unref(f);
	}
	return 0;
}

static int sim_tasks(const char *spec, unsigned long n, unsigned long ntasks)
{
	loop_t *l;
	struct fetcher *fr;
	struct simweb *w = sim_web(spec);
	struct simtask *ts = calloc(ntasks, sizeof *ts);
	task_t **tt = calloc(ntasks, sizeof *tt);
	unsigned long errors = 0;
	int rc;
	if (!ts || !tt)
		die("calloc", CRAWL_ENOMEM);
	coro_default_shared(1); /* thousands of tasks: a few hundred bytes each */
	if ((rc = loop_new(&l)) != 0 || (rc = fetcher_new(l, NULL, &fr)) != 0)
		die("setup", rc);
	fetcher_set_simweb(fr, w);
	double t0 = now_s();
	for (unsigned long i = 0; i < ntasks; i++) {
		ts[i] = (struct simtask){.fr = fr, .per_task = n / ntasks, .id = i};
		if ((rc = task_create(l, sim_task_body, &ts[i], NULL, &tt[i])) != 0)
			die("task_create", rc);
	}
	for (unsigned long i = 0; i < ntasks; i++) {
		if ((rc = loop_run_until_complete(l, task_future(tt[i]), NULL)) != 0)
			die("task", rc);
		task_unref(tt[i]);
		errors += ts[i].errors;
	}
	double wall = now_s() - t0;
	unsigned long done = n / ntasks * ntasks;
	printf("# sim tasks [%s]: %lu fetches by %lu tasks, %.3f s, %lu errors\n", spec, done,
	       ntasks, wall, errors);
	printf("fetches_per_s %.0f\n", (double)done / wall);
	fetcher_free(fr);
	loop_free(l);
	simweb_free(w);
	free(ts);
	free(tt);
	return errors ? 1 : 0;
}

/* Runs one scenario in a child; prints "NAME_fetches_per_s" and
 * "NAME_peak_rss_kib" from its output and rusage. */
static int scenario(const char *name, int tasks, const char *spec, unsigned long n,
		    unsigned long window)
{
	int fds[2], status;
	struct rusage ru;
	char buf[4096];
	if (pipe(fds) != 0)
		die("pipe", 0);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork", 0);
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(1);
		int rc = tasks ? sim_tasks(spec, n, window) : sim_callbacks(spec, n, window);
		fflush(stdout);
		_exit(rc);
	}
	close(fds[1]);
	size_t len = 0;
	ssize_t got;
	while (len + 1 < sizeof buf && (got = read(fds[0], buf + len, sizeof buf - 1 - len)) > 0)
		len += (size_t)got;
	buf[len] = '\0';
	close(fds[0]);
	if (wait4(pid, &status, 0, &ru) != pid)
		die("wait4", 0);
	double rate = 0;
	for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
		if (line[0] == '#')
			printf("%s\n", line);
		else
			sscanf(line, "fetches_per_s %lf", &rate);
	}
	printf("%s_fetches_per_s %.0f\n", name, rate);
	printf("%s_peak_rss_kib %ld\n", name, ru.ru_maxrss);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

static int bench_sim(unsigned long n, unsigned long window)
{
	int bad = 0;
	bad |= scenario("sim_zero", 0, "pages=100000,latency=fixed:0", n, window);
	bad |= scenario("sim_uniform", 0, "pages=100000,latency=uniform:1:100", n, window);
	bad |= scenario("sim_uniform_100k", 0, "pages=100000,latency=uniform:1:100", n,
			window * 10);
	bad |= scenario("sim_zero_tasks", 1, "pages=100000,latency=fixed:0", n, 1000);
	return bad;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench_fetch real URL [-c INFLIGHT] [-d SECONDS]\n"
			"       bench_fetch sim [-n FETCHES] [-w WINDOW]\n");
	exit(2);
}

static long arg_long(const char *s, long lo, long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	long inflight = 64, seconds = 5, n = 1000000, window = 10000;
	if (argc < 2)
		usage();
	int real = strcmp(argv[1], "real") == 0;
	if (!real && strcmp(argv[1], "sim") != 0)
		usage();
	int i = real ? 3 : 2;
	if (real && argc < 3)
		usage();
	for (; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "-c") == 0)
			inflight = arg_long(argv[i + 1], 1, 100000);
		else if (strcmp(argv[i], "-d") == 0)
			seconds = arg_long(argv[i + 1], 1, 3600);
		else if (strcmp(argv[i], "-n") == 0)
			n = arg_long(argv[i + 1], 1, 100000000);
		else if (strcmp(argv[i], "-w") == 0)
			window = arg_long(argv[i + 1], 1, 10000000);
		else
			usage();
	}
	if (i != argc)
		usage();
	if (real)
		return bench_real(argv[2], (int)inflight, (double)seconds);
	return bench_sim((unsigned long)n, (unsigned long)window);
}
