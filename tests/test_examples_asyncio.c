/* test_examples_asyncio.c - runs the seed's asyncio examples (examples/one,
 * two, three, four from "$CRAWL_BUILD/examples/") and checks their lines,
 * their order, the task states they print and the elapsed time they
 * report. Each run is a fork/exec with pipes, bounded in time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { OUT_MAX = 8192, ERR_MAX = 4096, MAX_LINES = 16, RUN_LIMIT_MS = 20000 };

static const char elapsed_prefix[] = "运行耗时：";

struct run_out {
	char out[OUT_MAX];
	size_t nout;
	char err[ERR_MAX];
	size_t nerr;
	int exit_code; /* -1: killed or not exited */
	char *lines[MAX_LINES];
	int nlines;
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void child_exec(const char *path, char *const argv[], int out_fd, int err_fd)
{
	if (dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	execv(path, argv);
	_exit(127);
}

/* Reads one ready pipe into buf; returns 0 at EOF. */
static int drain(int fd, char *buf, size_t *n, size_t cap)
{
	char tmp[1024];
	ssize_t got = read(fd, tmp, sizeof tmp);
	if (got < 0)
		return errno == EINTR || errno == EAGAIN;
	size_t room = cap - 1 - *n;
	size_t take = (size_t)got < room ? (size_t)got : room;
	memcpy(buf + *n, tmp, take);
	*n += take;
	buf[*n] = '\0';
	return got > 0;
}

static void collect(pid_t pid, int out_fd, int err_fd, struct run_out *r)
{
	struct pollfd p[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	uint64_t deadline = now_ms() + RUN_LIMIT_MS;
	int open_fds = 2;
	while (open_fds > 0 && now_ms() < deadline) {
		int rc = poll(p, 2, (int)(deadline - now_ms()));
		if (rc <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			if (p[i].fd < 0 || !(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int more = i == 0 ? drain(p[i].fd, r->out, &r->nout, OUT_MAX)
			                  : drain(p[i].fd, r->err, &r->nerr, ERR_MAX);
			if (!more) {
				p[i].fd = -1;
				open_fds--;
			}
		}
	}
	if (open_fds > 0)
		kill(pid, SIGKILL); /* over its time: only the child we started */
	int status = 0;
	r->exit_code = -1;
	if (waitpid(pid, &status, 0) == pid && WIFEXITED(status))
		r->exit_code = WEXITSTATUS(status);
}

static void split_lines(struct run_out *r)
{
	char *save = NULL;
	r->nlines = 0;
	for (char *s = strtok_r(r->out, "\n", &save); s && r->nlines < MAX_LINES;
	     s = strtok_r(NULL, "\n", &save))
		r->lines[r->nlines++] = s;
}

/* argv[0] is the example's name; the path comes from $CRAWL_BUILD. */
static void run_example(char *const argv[], struct run_out *r)
{
	const char *build = getenv("CRAWL_BUILD");
	char path[512];
	int out[2], err[2];
	snprintf(path, sizeof path, "%s/examples/%s", build && *build ? build : "build", argv[0]);
	memset(r, 0, sizeof *r);
	assert_int_equal(access(path, X_OK), 0);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(out[0]);
		close(err[0]);
		child_exec(path, argv, out[1], err[1]);
	}
	close(out[1]);
	close(err[1]);
	collect(pid, out[0], err[0], r);
	close(out[0]);
	close(err[0]);
	split_lines(r);
}

/* "运行耗时：0.1062": exactly four decimals; returns the seconds. */
static double elapsed_of(const char *line)
{
	size_t plen = strlen(elapsed_prefix);
	assert_int_equal(strncmp(line, elapsed_prefix, plen), 0);
	const char *num = line + plen, *dot = strchr(num, '.');
	assert_non_null(dot);
	assert_int_equal(strlen(dot + 1), 4);
	for (const char *p = num; *p; p++)
		assert_true((*p >= '0' && *p <= '9') || p == dot);
	return strtod(num, NULL);
}

static void expect_lines(const struct run_out *r, const char *const *want, int n)
{
	assert_int_equal(r->exit_code, 0);
	assert_int_equal(r->nlines, n + 1); /* plus the elapsed line */
	for (int i = 0; i < n; i++)
		assert_string_equal(r->lines[i], want[i]);
}

static void test_one(void **state)
{
	(void)state;
	static const char *const want[] = {"Start coroutine", "This is a coroutine"};
	char *argv[] = {"one", NULL};
	struct run_out r;
	run_example(argv, &r);
	expect_lines(&r, want, 2);
	assert_true(elapsed_of(r.lines[2]) >= 0.1); /* the blocking sleep */
}

static void test_two_states(void **state)
{
	(void)state;
	static const char *const want[] = {"task 是不是 asyncio.Task 的实例？ True",
	                                   "Task state: PENDING", "Start coroutine",
	                                   "This is a coroutine", "Task state: FINISHED"};
	char *argv[] = {"two", NULL};
	struct run_out r;
	run_example(argv, &r);
	expect_lines(&r, want, 5);
	assert_true(elapsed_of(r.lines[5]) >= 0.1);
}

static void test_three_callback(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "[corowork] Start coroutine", "[corowork] This is a coroutine",
	    "[callback] Hello Shiyanlou", "[callback] coroutine state: FINISHED"};
	char *argv[] = {"three", NULL};
	struct run_out r;
	run_example(argv, &r);
	expect_lines(&r, want, 4);
	assert_true(elapsed_of(r.lines[4]) >= 0.1);
}

static const char *const four_concurrent[] = {
    "[corowork] Start coroutine ONE", "[corowork] Start coroutine TWO",
    "[corowork] Stop coroutine TWO", "[corowork] Stop coroutine ONE"};

/* Sleeps of 3 and 1 scaled by 0.05: the run takes the longest, not the sum. */
static void test_four_gathered(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "[corowork] Start coroutine ONE", "[corowork] Start coroutine TWO",
	    "[corowork] Stop coroutine TWO",  "[corowork] Stop coroutine ONE",
	    "[task1]  Coroutine ONE OK",      "[task2]  Coroutine TWO OK"};
	char *argv[] = {"four", "--scale", "0.05", NULL};
	struct run_out r;
	run_example(argv, &r);
	expect_lines(&r, want, 6);
	double e = elapsed_of(r.lines[6]);
	assert_true(e >= 0.15);
	assert_true(e < 0.20);
}

static void test_four_gather_result(void **state)
{
	(void)state;
	char *argv[] = {"four", "--scale", "0.05", "--gather-result", NULL};
	struct run_out r;
	run_example(argv, &r);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(r.nlines, 6);
	for (int i = 0; i < 4; i++)
		assert_string_equal(r.lines[i], four_concurrent[i]);
	assert_string_equal(r.lines[4], "['Coroutine ONE OK', 'Coroutine TWO OK']");
	assert_true(elapsed_of(r.lines[5]) >= 0.15);
}

/* nanosleep blocks the thread: one task after the other, the sum. */
static void test_four_blocking(void **state)
{
	(void)state;
	static const char *const want[] = {
	    "[corowork] Start coroutine ONE", "[corowork] Stop coroutine ONE",
	    "[corowork] Start coroutine TWO", "[corowork] Stop coroutine TWO",
	    "[task1]  Coroutine ONE OK",      "[task2]  Coroutine TWO OK"};
	char *argv[] = {"four", "--scale", "0.05", "--blocking", NULL};
	struct run_out r;
	run_example(argv, &r);
	expect_lines(&r, want, 6);
	assert_true(elapsed_of(r.lines[6]) >= 0.20);
}

static void expect_usage_error(char *const argv[])
{
	struct run_out r;
	run_example(argv, &r);
	assert_int_equal(r.exit_code, 2);
	assert_int_equal(r.nout, 0);
	assert_true(r.nerr > 0);
}

static void test_bad_options(void **state)
{
	(void)state;
	char *bad_scale[] = {"four", "--scale", "fast", NULL};
	char *neg_scale[] = {"four", "--scale", "-1", NULL};
	char *nan_scale[] = {"four", "--scale", "nan", NULL};
	char *no_scale[] = {"four", "--scale", NULL};
	char *unknown[] = {"four", "--bogus", NULL};
	char *extra[] = {"four", "stray", NULL};
	char *one_arg[] = {"one", "--scale", NULL};
	char *two_arg[] = {"two", "x", NULL};
	char *three_arg[] = {"three", "x", NULL};
	expect_usage_error(bad_scale);
	expect_usage_error(neg_scale);
	expect_usage_error(nan_scale);
	expect_usage_error(no_scale);
	expect_usage_error(unknown);
	expect_usage_error(extra);
	expect_usage_error(one_arg);
	expect_usage_error(two_arg);
	expect_usage_error(three_arg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_one),
	    cmocka_unit_test(test_two_states),
	    cmocka_unit_test(test_three_callback),
	    cmocka_unit_test(test_four_gathered),
	    cmocka_unit_test(test_four_gather_result),
	    cmocka_unit_test(test_four_blocking),
	    cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests_name("examples/asyncio", tests, NULL, NULL);
}
