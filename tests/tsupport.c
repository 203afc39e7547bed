/* tsupport.c - child processes for the test suites: the test HTTP server and bounded runs. */
#include "tsupport.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"

#define WAIT_MS 10000 /* bound of every wait on a child */
#define MAX_EXTRA_ARGS 32
#define OUT_MAX (16u << 20) /* stdout kept by tsupport_run */

struct outbuf {
	char *data;
	size_t len, cap;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

char *tsupport_build_path(const char *name)
{
	const char *dir = getenv("CRAWL_BUILD");
	char *path;

	if (name == NULL)
		return NULL;
	if (dir == NULL || *dir == '\0')
		dir = "build";
	if (asprintf(&path, "%s/%s", dir, name) < 0)
		return NULL;
	return path;
}

/* Polls pid for at most ms: 1 once reaped (*status filled), 0 if still running, -1 if
 * waitpid failed (not our child). */
static int wait_bounded(pid_t pid, long ms, int *status)
{
	long long deadline = now_ms() + ms;

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return -1;
		if (now_ms() >= deadline)
			return 0;
		sleep_ms(2);
	}
}

/* Reaps pid, giving it grace_ms to exit before SIGKILL; the waitpid status or -1. */
static int reap(pid_t pid, long grace_ms)
{
	int status = -1;
	int r = wait_bounded(pid, grace_ms, &status);

	if (r == 0) {
		kill(pid, SIGKILL);
		if (wait_bounded(pid, WAIT_MS, &status) != 1)
			status = -1;
	}
	return r < 0 ? -1 : status;
}

/* fork + exec with stdin (and stdout when out_fd < 0) on /dev/null. -1 if fork failed;
 * a failed exec makes the child exit 127. */
static pid_t spawn(const char *const argv[], int out_fd)
{
	pid_t pid = fork();
	int null;

	if (pid != 0)
		return pid;
	/* the child: only async-signal-safe calls until exec */
	null = open("/dev/null", O_RDWR);
	if (null < 0 || dup2(null, STDIN_FILENO) < 0 ||
	    dup2(out_fd >= 0 ? out_fd : null, STDOUT_FILENO) < 0)
		_exit(127);
	close_range(3, ~0U, 0); /* the test's own sockets and files stay the test's */
	execvp(argv[0], (char *const *)argv);
	_exit(127);
}

static void remove_dir(struct tsupport_server *s)
{
	char path[sizeof(s->dir) + 16];

	if (s->dir[0] == '\0')
		return;
	snprintf(path, sizeof(path), "%s/port", s->dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/port.tmp", s->dir);
	unlink(path);
	rmdir(s->dir);
	s->dir[0] = '\0';
}

/* The port in the file, or 0 while it is not there (the server renames it into place). */
static int read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	int port = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &port) != 1 || port <= 0 || port > 65535)
		port = 0;
	fclose(f);
	return port;
}

static int wait_port(struct tsupport_server *s, const char *port_file)
{
	long long deadline = now_ms() + WAIT_MS;
	int status;

	while ((s->port = read_port(port_file)) == 0) {
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->exit_status = status;
			s->pid = 0;
			return CRAWL_ESYS;
		}
		if (now_ms() >= deadline)
			return CRAWL_ETIMEDOUT;
		sleep_ms(2);
	}
	return 0;
}

int tsupport_server_start(struct tsupport_server *s, const char *const *extra_args)
{
	const char *argv[MAX_EXTRA_ARGS + 6];
	char port_file[sizeof(s->dir) + 8];
	char *prog = NULL;
	size_t n = 0;
	int rc;

	if (s == NULL)
		return CRAWL_EINVAL;
	memset(s, 0, sizeof(*s));
	s->exit_status = -1;
	for (; extra_args != NULL && extra_args[n] != NULL; n++)
		if (n == MAX_EXTRA_ARGS)
			return CRAWL_EINVAL;
	if ((prog = tsupport_build_path("testserver")) == NULL)
		return CRAWL_ENOMEM;
	snprintf(s->dir, sizeof(s->dir), "/tmp/tsupport.XXXXXX");
	if (mkdtemp(s->dir) == NULL) {
		s->dir[0] = '\0';
		rc = CRAWL_ESYS;
		goto fail;
	}
	snprintf(port_file, sizeof(port_file), "%s/port", s->dir);
	argv[0] = prog;
	argv[1] = "--port-file";
	argv[2] = port_file;
	argv[3] = "--max-seconds"; /* a server whose test crashed dies soon; extra args may */
	argv[4] = "120";           /* override it (getopt: the last one wins) */
	if (n > 0)
		memcpy(argv + 5, extra_args, n * sizeof(*argv));
	argv[5 + n] = NULL;
	if ((s->pid = spawn(argv, -1)) < 0) {
		s->pid = 0;
		rc = CRAWL_ESYS;
		goto fail;
	}
	if ((rc = wait_port(s, port_file)) != 0)
		goto fail;
	snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%d", s->port);
	free(prog);
	return 0;
fail:
	if (s->pid > 0) {
		kill(s->pid, SIGKILL);
		s->exit_status = reap(s->pid, WAIT_MS);
		s->pid = 0;
	}
	remove_dir(s);
	s->port = 0;
	free(prog);
	return rc;
}

void tsupport_server_stop(struct tsupport_server *s)
{
	if (s == NULL)
		return;
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		s->exit_status = reap(s->pid, WAIT_MS);
		s->pid = 0;
	}
	remove_dir(s);
}

static int outbuf_add(struct outbuf *b, const char *data, size_t n)
{
	if (b->len + n > OUT_MAX)
		n = OUT_MAX - b->len; /* keep the head, drop the rest */
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *p;

		while (cap < b->len + n + 1)
			cap *= 2;
		if ((p = realloc(b->data, cap)) == NULL)
			return CRAWL_ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	memcpy(b->data + b->len, data, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Reads fd into b until EOF or the deadline. */
static int capture(int fd, long long deadline, struct outbuf *b)
{
	char chunk[4096];

	for (;;) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		long long left = deadline - now_ms();
		int r = left > 0 ? poll(&pfd, 1, (int)left) : 0;
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r == 0 ? CRAWL_ETIMEDOUT : CRAWL_ESYS;
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? 0 : CRAWL_ESYS;
		if (outbuf_add(b, chunk, (size_t)n) != 0)
			return CRAWL_ENOMEM;
	}
}

int tsupport_run_timeout(const char *const argv[], int timeout_ms, char **out, int *status)
{
	long long deadline = now_ms() + timeout_ms;
	struct outbuf b = {0};
	int fds[2] = {-1, -1};
	int rc = 0, wst = -1, done;
	pid_t pid;

	if (out != NULL)
		*out = NULL;
	if (argv == NULL || argv[0] == NULL || timeout_ms <= 0)
		return CRAWL_EINVAL;
	if (out != NULL && outbuf_add(&b, "", 0) != 0)
		return CRAWL_ENOMEM;
	if (out != NULL && pipe2(fds, O_CLOEXEC) != 0) {
		rc = CRAWL_ESYS;
		goto out;
	}
	if ((pid = spawn(argv, fds[1])) < 0) {
		rc = CRAWL_ESYS;
		goto out;
	}
	if (fds[1] >= 0) {
		close(fds[1]);
		fds[1] = -1;
		rc = capture(fds[0], deadline, &b);
	}
	done = rc == 0 ? wait_bounded(pid, deadline - now_ms(), &wst) : 0;
	if (done != 1) {
		kill(pid, SIGKILL);
		wst = reap(pid, 0);
		rc = rc != 0 ? rc : done == 0 ? CRAWL_ETIMEDOUT : CRAWL_ESYS;
	}
	if (status != NULL)
		*status = wst;
out:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (rc == 0 && out != NULL)
		*out = b.data;
	else
		free(b.data);
	return rc;
}

int tsupport_run(const char *const argv[], char **out, int *status)
{
	return tsupport_run_timeout(argv, WAIT_MS, out, status);
}
