/* tsupport.h - helpers shared by the test suites: the local test HTTP server
 * (tests/testserver.c) as a child process, running a program with a time bound,
 * and paths into the build directory.
 *
 * The build directory is $CRAWL_BUILD (set by scripts/runtests.sh), "build" when unset.
 * Every wait here is bounded; children are only ever signalled by their own PID.
 */
#ifndef CRAWL_TSUPPORT_H
#define CRAWL_TSUPPORT_H

#include <sys/types.h>

/* A running testserver. The caller embeds it; every field is public and read-only for
 * the caller, filled by tsupport_server_start (and exit_status by tsupport_server_stop). */
struct tsupport_server {
	pid_t pid;       /* the server's PID, 0 when not running */
	int port;        /* the port it listens on, on 127.0.0.1 */
	char base[64];   /* "http://127.0.0.1:PORT", no trailing slash */
	char dir[64];    /* its private temporary directory (holds the port file) */
	int exit_status; /* waitpid status after tsupport_server_stop, -1 if unknown */
};

/* Starts "$CRAWL_BUILD/testserver --port-file DIR/port --max-seconds 120 [extra_args...]"
 * and waits (at most 10 s) until it has written its port. extra_args must not change
 * --addr (s->base assumes 127.0.0.1) and may override --max-seconds. extra_args is NULL or a
 * NULL-terminated list of at most 32 strings, copied (not kept). The server's stdout goes to
 * /dev/null, its stderr is the caller's. On success fills *s and returns 0; the caller must then
 * call tsupport_server_stop. On failure nothing is left running or on disk and *s has pid 0.
 * Errors: CRAWL_EINVAL (s NULL, too many extra args), CRAWL_ENOMEM, CRAWL_ESYS (mkdtemp,
 * fork or exec failed, or the server exited before listening, e.g. on a usage error),
 * CRAWL_ETIMEDOUT (no port within 10 s; the server was killed). */
int tsupport_server_start(struct tsupport_server *s, const char *const *extra_args);

/* Sends SIGTERM to s->pid, waits for it (at most 10 s, then SIGKILL), records the waitpid
 * status in s->exit_status, removes s->dir and sets s->pid to 0. Accepts a server that
 * was never started or is already stopped (then it does nothing). */
void tsupport_server_stop(struct tsupport_server *s);

/* Runs argv (argv[0] is a path, or a name looked up in PATH) with stdin from /dev/null and
 * stderr shared, and waits at most timeout_ms for it to exit. If out is not NULL, *out
 * receives its stdout as a malloc'd NUL-terminated string (owned by the caller; at most
 * 16 MiB is kept, the rest is read and dropped), or NULL on failure. If status is not
 * NULL, *status receives the raw waitpid status (use WIFEXITED/WEXITSTATUS).
 * Returns 0 once the program has exited, whatever its status. Errors: CRAWL_EINVAL (argv
 * NULL or empty, timeout_ms <= 0), CRAWL_ENOMEM, CRAWL_ESYS (pipe or fork failed; a
 * failed exec shows as exit status 127), CRAWL_ETIMEDOUT (still running at the deadline:
 * it was killed with SIGKILL and reaped). */
int tsupport_run_timeout(const char *const argv[], int timeout_ms, char **out, int *status);

/* tsupport_run_timeout with the default bound of 10 s. */
int tsupport_run(const char *const argv[], char **out, int *status);

/* "$CRAWL_BUILD/name" as a malloc'd string owned by the caller; NULL if name is NULL or
 * memory runs out. */
char *tsupport_build_path(const char *name);

#endif
