/* dharness.c - the real crawld and crawlctl for the integration tests (see dharness.h). */
#include "dharness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "tfiles.h"

#define START_MS 20000
#define RUN_MS 30000
#define RUN_ARGS_MAX 40
#define LINE_MAX_BYTES (16u << 20)
#define CALL_MS 10000
#define POLL_MS 5

long long dh_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void dh_sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* ---- the daemon ---- */

int dh_add_args(struct dh_daemon *d, const char *const *more)
{
	int n = 0;
	while (d->args[n])
		n++;
	for (; more && *more; more++, n++) {
		if (n == DH_ARGS_MAX)
			return CRAWL_EINVAL;
		if (!(d->args[n] = strdup(*more)))
			return CRAWL_ENOMEM;
	}
	return 0;
}

int dh_init(struct dh_daemon *d, const char *const *extra)
{
	memset(d, 0, sizeof *d);
	if (tfiles_mkdtemp(d->dir, sizeof d->dir, "crawld-it") != 0)
		return CRAWL_ESYS;
	/* Reachable by other users: the forbidden-peer test connects as nobody. */
	if (chmod(d->dir, 0755) != 0)
		return CRAWL_ESYS;
	snprintf(d->sock, sizeof d->sock, "%s/crawld.sock", d->dir);
	snprintf(d->state, sizeof d->state, "%s/state", d->dir);
	snprintf(d->errlog, sizeof d->errlog, "%s/crawld.out", d->dir);
	return dh_add_args(d, extra);
}

/* The child: stdout and stderr to the log, a clean environment for systemd's variables. */
static void exec_crawld(const struct dh_daemon *d, const char *bin)
{
	char state[DH_PATH_MAX + 32], sock[DH_PATH_MAX + 32], logd[DH_PATH_MAX + 32];
	const char *argv[DH_ARGS_MAX + 16];
	int n = 0;
	int null = open("/dev/null", O_RDONLY);
	int log = open(d->errlog, O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (null < 0 || log < 0 || dup2(null, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_PID");
	unsetenv("JOURNAL_STREAM");
	snprintf(state, sizeof state, "daemon.state_dir=%s", d->state);
	snprintf(sock, sizeof sock, "daemon.socket=%s", d->sock);
	snprintf(logd, sizeof logd, "daemon.log_dir=%s/log", d->dir);
	argv[n++] = bin;
	argv[n++] = "--set";
	argv[n++] = state;
	argv[n++] = "--set";
	argv[n++] = sock;
	argv[n++] = "--set";
	argv[n++] = logd;
	argv[n++] = "--set";
	argv[n++] = "crawl.allow_private=true";
	for (int i = 0; d->args[i]; i++)
		argv[n++] = d->args[i];
	argv[n] = NULL;
	execv(bin, (char *const *)argv);
	_exit(127);
}

static int can_connect(const char *path)
{
	struct dh_conn *c = NULL;
	if (dh_conn_open(&c, path) != 0)
		return 0;
	dh_conn_close(c);
	return 1;
}

int dh_start(struct dh_daemon *d)
{
	char *bin = tsupport_build_path("crawld");
	int status;
	if (!bin)
		return CRAWL_ENOMEM;
	if (d->pid > 0) {
		free(bin);
		return CRAWL_EBUSY;
	}
	d->pid = fork();
	if (d->pid == 0)
		exec_crawld(d, bin);
	free(bin);
	if (d->pid < 0) {
		d->pid = 0;
		return CRAWL_ESYS;
	}
	for (long long end = dh_now_ms() + START_MS; dh_now_ms() < end; dh_sleep_ms(POLL_MS)) {
		if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
			d->pid = 0;
			return CRAWL_ESYS;
		}
		if (can_connect(d->sock))
			return 0;
	}
	dh_stop(d, SIGKILL, 10000);
	return CRAWL_ETIMEDOUT;
}

int dh_stop(struct dh_daemon *d, int sig, int timeout_ms)
{
	int status;
	if (d->pid <= 0)
		return -1;
	kill(d->pid, sig);
	for (long long end = dh_now_ms() + timeout_ms;; dh_sleep_ms(2)) {
		pid_t r = waitpid(d->pid, &status, WNOHANG);
		if (r == d->pid) {
			d->pid = 0;
			return status;
		}
		if ((r < 0 && errno != EINTR) || dh_now_ms() >= end)
			return -1;
	}
}

void dh_destroy(struct dh_daemon *d)
{
	if (d->pid > 0 && dh_stop(d, SIGKILL, 10000) < 0)
		fprintf(stderr, "dharness: crawld %d did not die\n", (int)d->pid);
	tsupport_server_stop(&d->web);
	if (d->dir[0] && tfiles_rm_tree(d->dir) != 0)
		fprintf(stderr, "dharness: could not remove %s\n", d->dir);
	d->dir[0] = '\0';
	for (int i = 0; i < DH_ARGS_MAX && d->args[i]; i++) {
		free(d->args[i]);
		d->args[i] = NULL;
	}
}

int dh_errlog_has(const struct dh_daemon *d, const char *text)
{
	char *log = NULL;
	if (tfiles_read(d->errlog, &log, NULL) != 0)
		return 0;
	int has = strstr(log, text) != NULL;
	free(log);
	return has;
}

int dh_sanitizer_clean(const struct dh_daemon *d)
{
	static const char *const marks[] = {"ERROR: AddressSanitizer",
	                                    "runtime error:", "LeakSanitizer"};
	char *log = NULL;
	int clean = 1;
	if (tfiles_read(d->errlog, &log, NULL) != 0)
		return 1; /* crawld never wrote a byte */
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
		clean &= strstr(log, marks[i]) == NULL;
	if (!clean)
		fprintf(stderr, "---- crawld's output (%s) ----\n%s\n----\n", d->errlog, log);
	free(log);
	return clean;
}

int dh_stop_clean(struct dh_daemon *d)
{
	int st = dh_stop(d, SIGTERM, 20000);
	int ok = st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0;
	if (!ok)
		fprintf(stderr, "dharness: crawld ended with status %#x (%s)\n", st,
		        st == -1          ? "still running"
		        : WIFSIGNALED(st) ? "signalled"
		                          : "exited");
	return dh_sanitizer_clean(d) && ok;
}

/* ---- programs ---- */

int dh_run(const char *const *argv, int merged, char **out)
{
	const char *av[RUN_ARGS_MAX + 1];
	char *ctl = NULL;
	int status = -1, n = 0, rc;
	if (out)
		*out = NULL;
	for (; argv[n]; n++)
		if (n == RUN_ARGS_MAX)
			return -1;
	memcpy(av, argv, (size_t)(n + 1) * sizeof *av);
	if (strcmp(av[0], "crawlctl") == 0 && !(ctl = tsupport_build_path("crawlctl")))
		return -1;
	if (ctl)
		av[0] = ctl;
	rc = merged ? tfiles_run_merged(av, RUN_MS, out, &status)
	            : tsupport_run_timeout(av, RUN_MS, out, &status);
	free(ctl);
	if (rc != 0 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

int dh_ctl(const struct dh_daemon *d, int merged, char **out, const char *arg, ...)
{
	const char *argv[RUN_ARGS_MAX + 1] = {"crawlctl", "--socket", d->sock};
	int n = 3;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < RUN_ARGS_MAX; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	return dh_run(argv, merged, out);
}

/* ---- raw connections ---- */

struct dh_conn {
	int fd;
	char *buf; /* bytes read, not yet returned as lines */
	size_t len, cap;
	int eof;
};

int dh_conn_open(struct dh_conn **out, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct dh_conn *c = calloc(1, sizeof *c);
	*out = NULL;
	if (!c)
		return CRAWL_ENOMEM;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		dh_conn_close(c);
		return CRAWL_ESYS;
	}
	*out = c;
	return 0;
}

int dh_conn_fd(const struct dh_conn *c)
{
	return c->fd;
}

void dh_conn_close(struct dh_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	free(c);
}

int dh_conn_write(struct dh_conn *c, const char *bytes, size_t len)
{
	long long end = dh_now_ms() + 5000;
	while (len) {
		struct pollfd p = {c->fd, POLLOUT, 0};
		if (poll(&p, 1, 100) < 0 && errno != EINTR)
			return CRAWL_ESYS;
		if (dh_now_ms() > end)
			return CRAWL_ETIMEDOUT;
		if (!(p.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		ssize_t w = send(c->fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w < 0)
			return CRAWL_ESYS;
		bytes += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Reads what is there into c->buf (waiting at most ms): 1 data, 0 nothing, -1 EOF/error. */
static int fill(struct dh_conn *c, int ms)
{
	struct pollfd p = {c->fd, POLLIN, 0};
	if (c->eof)
		return -1;
	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *b = cap <= LINE_MAX_BYTES * 2u ? realloc(c->buf, cap) : NULL;
		if (!b)
			return -1;
		c->buf = b;
		c->cap = cap;
	}
	ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	if (n <= 0) {
		c->eof = n == 0 || (errno != EINTR && errno != EAGAIN);
		return c->eof ? -1 : 0;
	}
	c->len += (size_t)n;
	return 1;
}

json_t *dh_conn_read(struct dh_conn *c, int timeout_ms, int *raw_bad)
{
	long long end = dh_now_ms() + timeout_ms;
	for (;;) {
		char *nl = c->buf ? memchr(c->buf, '\n', c->len) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			json_t *j = json_loadb(c->buf, n, 0, NULL);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			if (!j && raw_bad)
				*raw_bad = 1;
			return j;
		}
		long long left = end - dh_now_ms();
		if (left <= 0 || fill(c, (int)(left < 100 ? left : 100)) < 0)
			return NULL;
	}
}

json_t *dh_conn_call(struct dh_conn *c, const char *line, int *items)
{
	long long end = dh_now_ms() + CALL_MS;
	if (items)
		*items = 0;
	if (dh_conn_write(c, line, strlen(line)) != 0 || dh_conn_write(c, "\n", 1) != 0)
		return NULL;
	while (dh_now_ms() < end) {
		json_t *j = dh_conn_read(c, (int)(end - dh_now_ms()), NULL);
		if (!j)
			return NULL;
		if (json_object_get(j, "ok"))
			return j;
		if (items && json_object_get(j, "item"))
			(*items)++;
		json_decref(j);
	}
	return NULL;
}

int dh_conn_wait_eof(struct dh_conn *c, int timeout_ms)
{
	long long end = dh_now_ms() + timeout_ms;
	while (dh_now_ms() < end) {
		if (fill(c, 50) < 0)
			return 1;
		c->len = 0;
	}
	return 0;
}

json_t *dh_call(const struct dh_daemon *d, const char *line)
{
	struct dh_conn *c = NULL;
	if (dh_conn_open(&c, d->sock) != 0)
		return NULL;
	json_t *r = dh_conn_call(c, line, NULL);
	dh_conn_close(c);
	return r;
}

/* ---- jobs ---- */

json_t *dh_job_status(const struct dh_daemon *d, int64_t job)
{
	char line[128];
	snprintf(line, sizeof line, "{\"id\":1,\"cmd\":\"status\",\"args\":{\"job\":%lld}}",
	         (long long)job);
	json_t *r = dh_call(d, line);
	json_t *res = json_incref(json_object_get(r, "result"));
	json_decref(r);
	return res;
}

int64_t dh_job_int(const struct dh_daemon *d, int64_t job, const char *key)
{
	json_t *st = dh_job_status(d, job);
	json_t *v = json_object_get(st, key);
	int64_t n = json_is_integer(v) ? json_integer_value(v) : -1;
	json_decref(st);
	return n;
}

static int job_state_is(const struct dh_daemon *d, int64_t job, const char *state)
{
	json_t *st = dh_job_status(d, job);
	const char *s = json_string_value(json_object_get(st, "state"));
	int yes = s && strcmp(s, state) == 0;
	json_decref(st);
	return yes;
}

int dh_wait_state(const struct dh_daemon *d, int64_t job, const char *state, int timeout_ms)
{
	for (long long end = dh_now_ms() + timeout_ms; dh_now_ms() < end; dh_sleep_ms(POLL_MS))
		if (job_state_is(d, job, state))
			return 1;
	return job_state_is(d, job, state);
}

int dh_wait_int(const struct dh_daemon *d, int64_t job, const char *key, int64_t min,
                int timeout_ms)
{
	for (long long end = dh_now_ms() + timeout_ms; dh_now_ms() < end; dh_sleep_ms(POLL_MS))
		if (dh_job_int(d, job, key) >= min)
			return 1;
	return dh_job_int(d, job, key) >= min;
}

int64_t dh_submit(const struct dh_daemon *d, const char *arg, ...)
{
	const char *argv[RUN_ARGS_MAX + 1] = {"crawlctl", "--socket", d->sock, "submit"};
	int n = 4;
	char *out = NULL, *end = NULL;
	va_list ap;
	va_start(ap, arg);
	for (const char *a = arg; a && n < RUN_ARGS_MAX; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	int rc = dh_run(argv, 0, &out);
	long long id = out ? strtoll(out, &end, 10) : -1;
	if (rc != 0 || !out || end == out || (*end != '\n' && *end != '\0'))
		id = -1;
	free(out);
	return id;
}

json_t *dh_json_lines(const char *text)
{
	json_t *a = json_array();
	for (const char *p = text; a && p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		json_t *j = json_loadb(p, n, 0, NULL);
		if (!j || json_array_append_new(a, j) != 0) {
			json_decref(a);
			return NULL;
		}
		p = nl ? nl + 1 : p + n;
	}
	return a;
}

json_t *dh_results(const struct dh_daemon *d, int64_t job, const char *sort)
{
	char id[32], *out = NULL;
	snprintf(id, sizeof id, "%lld", (long long)job);
	int rc = sort ? dh_ctl(d, 0, &out, "results", id, "--json", "--sort-by", sort, NULL)
	              : dh_ctl(d, 0, &out, "results", id, "--json", NULL);
	json_t *a = rc == 0 && out ? dh_json_lines(out) : NULL;
	free(out);
	return a;
}

json_t *dh_results_file(const struct dh_daemon *d, int64_t job)
{
	char path[DH_PATH_MAX + 32], *text = NULL;
	snprintf(path, sizeof path, "%s/job-%lld.jsonl", d->state, (long long)job);
	if (tfiles_read(path, &text, NULL) != 0)
		return NULL;
	json_t *a = dh_json_lines(text);
	free(text);
	return a;
}
