/* fakecrawld.h - test support: a fake crawld that answers canned replies
 * on a Unix socket, and a runner for the real crawlctl binary.
 *
 * The fake listens on <tmpdir>/crawld.sock and serves one connection at a
 * time on a thread. Every request line is recorded; request number k (0,
 * 1, ... counted over all connections) is answered with reply template k,
 * the last template repeating for later requests. A template is lines
 * separated by '\n'; in each, "$ID" becomes the request's id as JSON.
 * Lines that are a directive instead:
 *   @CLOSE  close the connection (what was sent before stays sent)
 *   @HANG   send nothing more and keep the connection open
 *   @TORN   send the first half of a reply line, then close
 *   @BIG    send a line longer than crawlctl accepts (16 MiB + 1 KiB)
 *
 * fake_run runs "$CRAWL_BUILD/crawlctl" (CRAWL_BUILD defaults to "build")
 * with TZ=UTC and without CRAWLD_SOCKET and NO_COLOR in its environment
 * (unless given in spawn.env), collects stdout and stderr, and bounds the
 * run to 20 seconds (then kills it and fails the test). A sanitizer report
 * on its stderr (the SAN=1 build: leaks, ASan, UBSan) fails the test.
 * Failures of the harness itself are cmocka assertions, so these are to be
 * called from a test's own thread only.
 */
#ifndef TESTS_FAKECRAWLD_H
#define TESTS_FAKECRAWLD_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#define FAKE_REQS_MAX 256

struct fake;

/* Creates the temporary directory (not yet the socket). */
struct fake *fake_new(void);

/* Binds, listens and starts serving with these templates (kept, not
 * copied: they must outlive the fake; nreplies >= 1). */
void fake_start(struct fake *f, const char *const *replies, size_t nreplies);

/* Stops the thread, removes the socket and the directory, frees f (and
 * every JSON value fake_req handed out). NULL is fine. */
void fake_free(struct fake *f);

/* The socket's path, owned by f. */
const char *fake_socket(const struct fake *f);

/* The temporary directory, owned by f (tests may put files there). */
const char *fake_dir(const struct fake *f);

/* How many request lines were received so far, over all connections. */
size_t fake_nreqs(struct fake *f);

/* How many connections were accepted so far. */
size_t fake_nconns(struct fake *f);

/* Request i parsed (asserts that it is a JSON object); owned by f. */
json_t *fake_req(struct fake *f, size_t i);

/* How crawlctl is run. All fields may be zero. */
struct spawn {
	const char *input;       /* its stdin (else /dev/null) */
	bool pty;                /* stdout is a terminal (a pty in raw mode) */
	const char *const *env;  /* extra "NAME=value" entries, NULL-terminated */
	const char *sigint_on;   /* send SIGINT once stdout holds this text */
};

/* What a run gave. out and err are NUL-terminated, malloc'd. */
struct run {
	int status; /* exit status, or 128 + the signal that killed it */
	char *out;
	char *err;
};

/* Runs crawlctl with argv (NULL-terminated, without the program name). */
void fake_run(const struct spawn *sp, struct run *r, const char *const *argv);

/* Frees what a run holds. */
void fake_run_clear(struct run *r);

#endif
