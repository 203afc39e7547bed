/* dharness.h - the real crawld and the real crawlctl for the integration tests
 * (tests/test_daemon*.c): a daemon on a scratch state folder and socket, crawlctl runs,
 * raw control-protocol connections, and bounded polling of a job's status.
 *
 * Every wait here is bounded in time; children are only ever signalled by their own PID.
 * Nothing here asserts (cmocka's asserts longjmp): functions return values the tests check.
 * Every scratch path lives under /tmp and is removed by dh_destroy.
 */
#ifndef CRAWL_DHARNESS_H
#define CRAWL_DHARNESS_H

#include <jansson.h>
#include <stdint.h>
#include <sys/types.h>

#include "tsupport.h"

#define DH_PATH_MAX 160
#define DH_ARGS_MAX 24

/* One crawld under test. The caller embeds it (zeroed, then dh_init); every field is
 * public and read-only for the caller. */
struct dh_daemon {
	pid_t pid;                   /* crawld's PID, 0 when not running */
	char dir[64];                /* the scratch root "/tmp/crawld-it.XXXXXX", mode 0755 */
	char sock[DH_PATH_MAX];      /* DIR/crawld.sock */
	char state[DH_PATH_MAX];     /* DIR/state, the state_dir */
	char errlog[DH_PATH_MAX];    /* DIR/crawld.out: crawld's stdout and stderr, appended
	                                over every start */
	char *args[DH_ARGS_MAX + 1]; /* extra arguments given to dh_init (copies) */
	struct tsupport_server web;  /* a test server the test may start; stopped by dh_destroy */
};

/* Makes the scratch root and keeps copies of extra (NULL or a NULL-terminated list of at most
 * DH_ARGS_MAX strings, e.g. {"--set", "daemon.max_line=1024", NULL}), which every dh_start
 * adds after the --set options of the state folder, socket, log folder and
 * crawl.allow_private=true. Errors: CRAWL_EINVAL (too many args), CRAWL_ENOMEM, CRAWL_ESYS. */
int dh_init(struct dh_daemon *d, const char *const *extra);
/* Appends copies of more arguments (NULL-terminated) to those of dh_init, e.g. a "-c FILE"
 * whose FILE lives in d->dir. Errors: CRAWL_EINVAL (more than DH_ARGS_MAX in all),
 * CRAWL_ENOMEM. */
int dh_add_args(struct dh_daemon *d, const char *const *more);

/* Starts "$CRAWL_BUILD/crawld" with stdin from /dev/null and stdout and stderr appended to
 * d->errlog, and waits (at most 20 s) until its socket accepts a connection. Errors:
 * CRAWL_EBUSY (already running), CRAWL_ESYS (fork failed, or crawld exited first: it was
 * reaped, d->pid is 0), CRAWL_ETIMEDOUT (no socket in time: crawld was killed). */
int dh_start(struct dh_daemon *d);

/* Sends sig to crawld and waits at most timeout_ms for it to exit. Returns the waitpid status
 * (d->pid becomes 0), or -1 if it is still running at the deadline (it is left running) or
 * was not running. */
int dh_stop(struct dh_daemon *d, int sig, int timeout_ms);

/* Stops crawld with SIGTERM (20 s at most) and checks how it ended: 1 if it exited with
 * status 0 and its output holds no sanitizer report, else 0 after printing why. */
int dh_stop_clean(struct dh_daemon *d);

/* Kills (SIGKILL) a crawld still running, stops d->web and removes the scratch root.
 * Frees the argument copies. Accepts a d that dh_init never filled (zeroed). */
void dh_destroy(struct dh_daemon *d);

/* 1 if d->errlog holds no sanitizer report ("ERROR: AddressSanitizer", "runtime error:",
 * "LeakSanitizer"), else 0 after printing the log to stderr. */
int dh_sanitizer_clean(const struct dh_daemon *d);

/* True (1) if d->errlog contains text. */
int dh_errlog_has(const struct dh_daemon *d, const char *text);

/* Runs argv ("crawlctl" as argv[0] means "$CRAWL_BUILD/crawlctl"; at most 40 entries,
 * NULL-terminated) with stdout captured into *out (malloc'd, owned by the caller; may be
 * NULL), and stderr too when merged is 1. Waits at most 30 s. Returns the exit status
 * (0..255), or -1 if it did not exit normally in time. */
int dh_run(const char *const *argv, int merged, char **out);

/* "crawlctl --socket D->SOCK arg..." through dh_run; the list of args ends with NULL. */
int dh_ctl(const struct dh_daemon *d, int merged, char **out, const char *arg, ...)
    __attribute__((sentinel));

/* ---- raw protocol connections ---- */

struct dh_conn;

/* Connects to the Unix socket at path. Errors: CRAWL_ENOMEM, CRAWL_ESYS (connect failed). */
int dh_conn_open(struct dh_conn **out, const char *path);
/* Writes all of the len bytes (blocking, 5 s at most). 0, or CRAWL_ESYS / CRAWL_ETIMEDOUT. */
int dh_conn_write(struct dh_conn *c, const char *bytes, size_t len);
/* The next line parsed as JSON (a new reference), or NULL on end of file, after timeout_ms,
 * or for a line that is not JSON (then *raw_bad, if given, is set to 1). Lines are kept up
 * to 16 MiB. */
json_t *dh_conn_read(struct dh_conn *c, int timeout_ms, int *raw_bad);
/* Sends line + "\n" and returns the final reply (a line with "ok"), skipping item lines and
 * counting them in *items (may be NULL). NULL if none came in 10 s or the peer closed. */
json_t *dh_conn_call(struct dh_conn *c, const char *line, int *items);
/* 1 once the peer has closed the connection (all data before is dropped), 0 if it is still
 * open after timeout_ms. */
int dh_conn_wait_eof(struct dh_conn *c, int timeout_ms);
int dh_conn_fd(const struct dh_conn *c);
void dh_conn_close(struct dh_conn *c);

/* One request on a fresh connection; the final reply, or NULL. */
json_t *dh_call(const struct dh_daemon *d, const char *line);

/* ---- jobs ---- */

/* The "result" object of status for job (a new reference), or NULL. */
json_t *dh_job_status(const struct dh_daemon *d, int64_t job);
/* An integer field of the job's status ("pages", "in_flight", ...), or -1. */
int64_t dh_job_int(const struct dh_daemon *d, int64_t job, const char *key);
/* Polls every few ms until the job's state is state: 1, or 0 after timeout_ms. */
int dh_wait_state(const struct dh_daemon *d, int64_t job, const char *state, int timeout_ms);
/* Polls until the integer field key of the job's status is >= min: 1, or 0 after
 * timeout_ms. */
int dh_wait_int(const struct dh_daemon *d, int64_t job, const char *key, int64_t min,
                int timeout_ms);
/* Submits through crawlctl (args after "submit", NULL-terminated) and returns the job id it
 * prints, or -1. */
int64_t dh_submit(const struct dh_daemon *d, const char *arg, ...) __attribute__((sentinel));

/* Every line of text parsed as JSON into a new array (NULL if a line is not JSON). */
json_t *dh_json_lines(const char *text);
/* "crawlctl results ID --json [--sort-by SORT]" parsed (SORT NULL: the job's order). */
json_t *dh_results(const struct dh_daemon *d, int64_t job, const char *sort);
/* The job's JSON-lines file state/job-ID.jsonl parsed, or NULL. */
json_t *dh_results_file(const struct dh_daemon *d, int64_t job);

/* Milliseconds on the monotonic clock. */
long long dh_now_ms(void);
void dh_sleep_ms(long ms);

#endif
