/* fakecrawld.c - a fake crawld and a crawlctl runner for tests (see
 * fakecrawld.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pty.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fakecrawld.h"

#define LINE_MAX_FAKE (1 << 20)
#define RUN_LIMIT_MS 20000
#define OUT_MAX (4 << 20)
#define BIG_LEN ((16 << 20) + 1024)

extern char **environ;

struct fake {
	char dir[64];
	char sock[100];
	int lfd;
	int stop[2]; /* the test writes a byte to stop the thread */
	pthread_t thread;
	bool started;
	const char *const *replies;
	size_t nreplies;
	pthread_mutex_t mu;
	char *reqs[FAKE_REQS_MAX];
	json_t *parsed[FAKE_REQS_MAX];
	size_t nreqs, nconns;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct fake *fake_new(void)
{
	struct fake *f = calloc(1, sizeof *f);

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_crawlctl.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->sock, sizeof f->sock, "%s/crawld.sock", f->dir);
	f->lfd = -1;
	f->stop[0] = f->stop[1] = -1;
	pthread_mutex_init(&f->mu, NULL);
	return f;
}

const char *fake_socket(const struct fake *f)
{
	return f->sock;
}

const char *fake_dir(const struct fake *f)
{
	return f->dir;
}

static void send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* the client went away: nothing to do */
		p += w;
		n -= (size_t)w;
	}
}

static void send_big(int fd)
{
	char *big = malloc(BIG_LEN);

	if (!big)
		return;
	memset(big, 'x', BIG_LEN);
	memcpy(big, "{\"id\":1,\"item\":\"", 16);
	send_all(fd, big, BIG_LEN);
	free(big);
}

/* One template line with "$ID" replaced by id. */
static void send_line(int fd, const char *line, size_t n, const char *id)
{
	char out[8192];
	size_t used = 0;

	for (size_t i = 0; i < n && used + strlen(id) + 2 < sizeof out; i++) {
		if (strncmp(line + i, "$ID", 3) == 0 && i + 3 <= n) {
			used += (size_t)sprintf(out + used, "%s", id);
			i += 2;
		} else {
			out[used++] = line[i];
		}
	}
	out[used++] = '\n';
	send_all(fd, out, used);
}

enum after { GO_ON, CLOSE, HANG };

/* Answers one request with template tpl; says what the connection does next. */
static enum after answer(int fd, const char *tpl, const char *id)
{
	while (*tpl) {
		const char *nl = strchr(tpl, '\n');
		size_t n = nl ? (size_t)(nl - tpl) : strlen(tpl);

		if (n == 6 && strncmp(tpl, "@CLOSE", 6) == 0)
			return CLOSE;
		if (n == 5 && strncmp(tpl, "@HANG", 5) == 0)
			return HANG;
		if (n == 5 && strncmp(tpl, "@TORN", 5) == 0) {
			send_all(fd, "{\"id\":", 6);
			send_all(fd, id, strlen(id));
			send_all(fd, ",\"ok\":tr", 9);
			return CLOSE;
		}
		if (n == 4 && strncmp(tpl, "@BIG", 4) == 0)
			send_big(fd);
		else if (n > 0)
			send_line(fd, tpl, n, id);
		tpl += n + (nl ? 1 : 0);
	}
	return GO_ON;
}

/* Records a request line and picks its template. */
static const char *record(struct fake *f, const char *line, size_t n, char *id, size_t idlen)
{
	json_t *req = json_loadb(line, n, 0, NULL);
	char *text = json_dumps(json_object_get(req, "id"), JSON_ENCODE_ANY);
	const char *tpl;

	snprintf(id, idlen, "%s", text ? text : "null");
	free(text);
	json_decref(req);
	pthread_mutex_lock(&f->mu);
	tpl = f->replies[f->nreqs < f->nreplies ? f->nreqs : f->nreplies - 1];
	if (f->nreqs < FAKE_REQS_MAX)
		f->reqs[f->nreqs++] = strndup(line, n);
	pthread_mutex_unlock(&f->mu);
	return tpl;
}

/* Serves one connection until it closes, a template says so, or stop. */
static void serve(struct fake *f, int fd)
{
	char *buf = malloc(LINE_MAX_FAKE);
	size_t len = 0;
	enum after next = GO_ON;

	while (buf && next != CLOSE) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = f->stop[0], .events = POLLIN } };
		char *nl;
		ssize_t n;

		/* The client's end (or the test's stop) ends this; the limit
		 * only guards against a test that forgot both. */
		if (poll(p, 2, RUN_LIMIT_MS) <= 0 || (p[1].revents & POLLIN))
			break;
		n = read(fd, buf + len, LINE_MAX_FAKE - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		while (next != CLOSE && (nl = memchr(buf, '\n', len))) {
			char id[64];
			const char *tpl = record(f, buf, (size_t)(nl - buf), id, sizeof id);

			if (next != HANG)
				next = answer(fd, tpl, id);
			len -= (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, len);
		}
		if (len == LINE_MAX_FAKE)
			break;
	}
	free(buf);
	close(fd);
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		struct pollfd p[2] = { { .fd = f->lfd, .events = POLLIN },
				       { .fd = f->stop[0], .events = POLLIN } };
		int fd;

		if (poll(p, 2, 1000) < 0 || (p[1].revents & POLLIN))
			break;
		if (!(p[0].revents & POLLIN) || (fd = accept(f->lfd, NULL, NULL)) < 0)
			continue;
		pthread_mutex_lock(&f->mu);
		f->nconns++;
		pthread_mutex_unlock(&f->mu);
		serve(f, fd);
	}
	return NULL;
}

void fake_start(struct fake *f, const char *const *replies, size_t nreplies)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	assert_true(nreplies >= 1);
	f->replies = replies;
	f->nreplies = nreplies;
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", f->sock);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(pipe2(f->stop, O_CLOEXEC), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
	f->started = true;
}

void fake_free(struct fake *f)
{
	if (!f)
		return;
	if (f->started) {
		(void)!write(f->stop[1], "x", 1);
		pthread_join(f->thread, NULL);
	}
	if (f->lfd >= 0)
		close(f->lfd);
	if (f->stop[0] >= 0) {
		close(f->stop[0]);
		close(f->stop[1]);
	}
	for (size_t i = 0; i < f->nreqs; i++) {
		free(f->reqs[i]);
		json_decref(f->parsed[i]);
	}
	unlink(f->sock);
	rmdir(f->dir);
	pthread_mutex_destroy(&f->mu);
	free(f);
}

size_t fake_nreqs(struct fake *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->nreqs;
	pthread_mutex_unlock(&f->mu);
	return n;
}

size_t fake_nconns(struct fake *f)
{
	size_t n;

	pthread_mutex_lock(&f->mu);
	n = f->nconns;
	pthread_mutex_unlock(&f->mu);
	return n;
}

json_t *fake_req(struct fake *f, size_t i)
{
	json_error_t err;

	assert_true(i < fake_nreqs(f));
	pthread_mutex_lock(&f->mu);
	if (!f->parsed[i])
		f->parsed[i] = json_loads(f->reqs[i], 0, &err);
	pthread_mutex_unlock(&f->mu);
	if (!json_is_object(f->parsed[i]))
		fail_msg("request %zu is not a JSON object: %s", i, f->reqs[i]);
	return f->parsed[i];
}

/* ---- running crawlctl ---- */

/* Whether the entries of extra set the variable of entry ("NAME=..."). */
static bool env_has(const char *const *extra, const char *entry)
{
	size_t n = strcspn(entry, "=") + 1;

	for (size_t i = 0; extra && extra[i]; i++)
		if (strncmp(entry, extra[i], n) == 0)
			return true;
	return false;
}

static bool env_dropped(const char *entry, const char *const *extra)
{
	static const char *const drop[] = { "CRAWLD_SOCKET=", "NO_COLOR=", "TZ=" };

	for (size_t i = 0; i < sizeof drop / sizeof drop[0]; i++)
		if (strncmp(entry, drop[i], strlen(drop[i])) == 0)
			return true;
	return env_has(extra, entry);
}

/* The child's environment, built before the fork (malloc'd array of
 * borrowed strings). */
static char **make_env(const struct spawn *sp)
{
	size_t n = 0, k = 0;
	char **env;

	while (environ[n])
		n++;
	for (size_t i = 0; sp->env && sp->env[i]; i++)
		n++;
	env = calloc(n + 2, sizeof *env);
	assert_non_null(env);
	for (size_t i = 0; environ[i]; i++)
		if (!env_dropped(environ[i], sp->env))
			env[k++] = environ[i];
	for (size_t i = 0; sp->env && sp->env[i]; i++)
		env[k++] = (char *)sp->env[i];
	if (!env_has(sp->env, "TZ="))
		env[k++] = "TZ=UTC";
	return env;
}

static char **make_argv(const char *const *argv, char *prog)
{
	size_t n = 0;
	char **out;

	while (argv[n])
		n++;
	out = calloc(n + 2, sizeof *out);
	assert_non_null(out);
	out[0] = prog;
	for (size_t i = 0; i < n; i++)
		out[i + 1] = (char *)argv[i];
	return out;
}

struct sink {
	int fd;
	char *buf;
	size_t len;
};

/* Reads what fd has; closes it at end of file (or EIO, a pty's end). */
static void sink_read(struct sink *s)
{
	ssize_t n;

	if (s->len + 65536 > OUT_MAX) {
		fail_msg("crawlctl wrote more than %d bytes", OUT_MAX);
		return;
	}
	n = read(s->fd, s->buf + s->len, 65536);
	if (n > 0) {
		s->len += (size_t)n;
		s->buf[s->len] = '\0';
	} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
		close(s->fd);
		s->fd = -1;
	}
}

/* Sets up stdin, stdout (pipe or pty) and stderr of the child. */
static void plan_fds(const struct spawn *sp, posix_spawn_file_actions_t *fa, int *in,
		     int outp[2], int errp[2])
{
	if (sp->input) {
		char path[] = "/tmp/test_crawlctl_in.XXXXXX";
		int fd = mkostemp(path, O_CLOEXEC);

		assert_true(fd >= 0);
		assert_int_equal(write(fd, sp->input, strlen(sp->input)), (ssize_t)strlen(sp->input));
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		unlink(path);
		*in = fd;
	} else {
		*in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	assert_true(*in >= 0);
	if (sp->pty) {
		struct termios tio;

		assert_int_equal(openpty(&outp[0], &outp[1], NULL, NULL, NULL), 0);
		assert_int_equal(tcgetattr(outp[1], &tio), 0);
		cfmakeraw(&tio);
		assert_int_equal(tcsetattr(outp[1], TCSANOW, &tio), 0);
		fcntl(outp[0], F_SETFD, FD_CLOEXEC);
		fcntl(outp[1], F_SETFD, FD_CLOEXEC);
	} else {
		assert_int_equal(pipe2(outp, O_CLOEXEC), 0);
	}
	assert_int_equal(pipe2(errp, O_CLOEXEC), 0);
	posix_spawn_file_actions_adddup2(fa, *in, 0);
	posix_spawn_file_actions_adddup2(fa, outp[1], 1);
	posix_spawn_file_actions_adddup2(fa, errp[1], 2);
}

/* Collects the child's output until both streams end; SIGINT on cue. */
static void pump(const struct spawn *sp, pid_t pid, struct sink *out, struct sink *err)
{
	int64_t deadline = now_ms() + RUN_LIMIT_MS;
	bool sent = false;

	while (out->fd >= 0 || err->fd >= 0) {
		struct pollfd p[2] = { { .fd = out->fd, .events = POLLIN },
				       { .fd = err->fd, .events = POLLIN } };

		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fail_msg("crawlctl did not finish in %d ms; stdout: %s", RUN_LIMIT_MS,
				 out->buf);
		}
		if (poll(p, 2, 100) < 0 && errno != EINTR)
			fail_msg("poll: %s", strerror(errno));
		if (p[0].revents && out->fd >= 0)
			sink_read(out);
		if (p[1].revents && err->fd >= 0)
			sink_read(err);
		if (sp->sigint_on && !sent && strstr(out->buf, sp->sigint_on)) {
			kill(pid, SIGINT);
			sent = true;
		}
	}
}

void fake_run(const struct spawn *sp, struct run *r, const char *const *argv)
{
	static const struct spawn none;
	const char *build = getenv("CRAWL_BUILD");
	char prog[512];
	posix_spawn_file_actions_t fa;
	int in, outp[2], errp[2], st;
	struct sink out = { 0 }, err = { 0 };
	char **env, **args;
	pid_t pid;

	sp = sp ? sp : &none;
	snprintf(prog, sizeof prog, "%s/crawlctl", build && build[0] ? build : "build");
	env = make_env(sp);
	args = make_argv(argv, prog);
	out.buf = calloc(1, OUT_MAX + 1);
	err.buf = calloc(1, OUT_MAX + 1);
	assert_true(out.buf && err.buf);
	posix_spawn_file_actions_init(&fa);
	plan_fds(sp, &fa, &in, outp, errp);
	assert_int_equal(posix_spawn(&pid, prog, &fa, NULL, args, env), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(in);
	close(outp[1]);
	close(errp[1]);
	out.fd = outp[0];
	err.fd = errp[0];
	pump(sp, pid, &out, &err);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->out = out.buf;
	r->err = err.buf;
	free(env);
	free(args);
	/* In the SAN=1 build crawlctl itself is instrumented: a leak or an
	 * error report fails the test whatever exit status it led to. */
	if (strstr(r->err, "Sanitizer") || strstr(r->err, "runtime error:"))
		fail_msg("sanitizer report from crawlctl:\n%s", r->err);
}

void fake_run_clear(struct run *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
