/* The systemd notify protocol for real: a Unix datagram socket stands in
 * for systemd, crawld is started with NOTIFY_SOCKET pointing at it, and the
 * test reads READY=1, STATUS=..., WATCHDOG=1, RELOADING=1 and READY=1 around
 * a SIGHUP, and, after SIGTERM, STOPPING=1. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "tsupport.h"

struct notify_env {
	char dir[64];
	char sock[96];
	int fd;
	pid_t pid;
};

static int bind_notify(struct notify_env *e)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(e->sock, sizeof e->sock, "%s/notify", e->dir);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", e->sock);
	e->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || bind(e->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
		return -1;
	return 0;
}

static pid_t start_crawld(struct notify_env *e)
{
	char *bin = tsupport_build_path("crawld");
	char state[160], sock[160], logd[160], env_sock[200];
	snprintf(state, sizeof state, "daemon.state_dir=%s/state", e->dir);
	snprintf(sock, sizeof sock, "daemon.socket=%s/crawld.sock", e->dir);
	snprintf(logd, sizeof logd, "daemon.log_dir=%s/log", e->dir);
	snprintf(env_sock, sizeof env_sock, "NOTIFY_SOCKET=%s", e->sock);
	pid_t pid = fork();
	if (pid == 0) {
		putenv(env_sock);
		putenv("WATCHDOG_USEC=200000");
		unsetenv("WATCHDOG_PID");
		unsetenv("JOURNAL_STREAM");
		execl(bin, bin, "--set", state, "--set", sock, "--set", logd, (char *)NULL);
		_exit(127);
	}
	free(bin);
	return pid;
}

/* The next datagram, or "" after timeout_ms. */
static void next_msg(int fd, char *buf, size_t len, int timeout_ms)
{
	struct pollfd p = {fd, POLLIN, 0};
	buf[0] = '\0';
	if (poll(&p, 1, timeout_ms) == 1) {
		ssize_t n = recv(fd, buf, len - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
	}
}

/* Reads messages until one starts with prefix (or 5 s pass); returns 1 if seen. */
static int wait_for(int fd, const char *prefix, char *seen, size_t len)
{
	for (int i = 0; i < 50; i++) {
		char buf[512];
		next_msg(fd, buf, sizeof buf, 100);
		if (buf[0] && strlen(seen) + strlen(buf) + 2 < len) {
			strcat(seen, buf);
			strcat(seen, "|");
		}
		if (strncmp(buf, prefix, strlen(prefix)) == 0)
			return 1;
	}
	return 0;
}

static void test_notify_sequence(void **state)
{
	(void)state;
	struct notify_env e = {.fd = -1};
	snprintf(e.dir, sizeof e.dir, "/tmp/crawld-notify-XXXXXX");
	assert_non_null(mkdtemp(e.dir));
	assert_int_equal(bind_notify(&e), 0);
	e.pid = start_crawld(&e);
	assert_true(e.pid > 0);
	char seen[4096] = "";
	int ready = wait_for(e.fd, "READY=1", seen, sizeof seen);
	int status = wait_for(e.fd, "STATUS=", seen, sizeof seen);
	int watchdog = wait_for(e.fd, "WATCHDOG=1", seen, sizeof seen);
	kill(e.pid, SIGHUP);
	int reloading = wait_for(e.fd, "RELOADING=1", seen, sizeof seen);
	int reloaded = wait_for(e.fd, "READY=1", seen, sizeof seen);
	kill(e.pid, SIGTERM);
	int stopping = wait_for(e.fd, "STOPPING=1", seen, sizeof seen);
	int ws = 0;
	waitpid(e.pid, &ws, 0);
	close(e.fd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", e.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", e.dir);
	fprintf(stderr, "notify messages: %s\n", seen);
	assert_true(ready);
	assert_true(status);
	assert_true(watchdog);
	assert_true(reloading);
	assert_true(reloaded);
	assert_true(stopping);
	/* in that order */
	const char *r = strstr(seen, "READY=1"), *s = strstr(r, "STATUS="), *w = strstr(s, "WATCHDOG=1"),
		   *rl = strstr(w, "RELOADING=1"), *rd = rl ? strstr(rl, "READY=1") : NULL,
		   *st = rd ? strstr(rd, "STOPPING=1") : NULL;
	assert_non_null(st);
	assert_true(WIFEXITED(ws));
	assert_int_equal(WEXITSTATUS(ws), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
