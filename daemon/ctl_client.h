/* ctl_client.h - what every crawlctl subcommand shares: the global
 * options, the connection, calls that report their own failures, usage
 * errors and exit statuses.
 *
 * This is program code, not library code: functions here print to stderr
 * (messages start with "crawlctl: ") and return the exit status the
 * program should end with, never exiting themselves.
 */
#ifndef CRAWLD_CTL_CLIENT_H
#define CRAWLD_CTL_CLIENT_H

#include <getopt.h>
#include <sysexits.h>

#include <jansson.h>

#include "ctl_conn.h"

#define CTL_PROG "crawlctl"
#define CTL_VERSION "0.1.0"
#define CTL_SOCKET_DEFAULT "/run/crawld/crawld.sock"
#define CTL_TIMEOUT_DEFAULT 10000
#define CTL_TIMEOUT_MAX 86400000

/* Exit statuses (crawlctl(1), EXIT STATUS). */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAIL = 1,                  /* job failed, or an error reply */
	CTL_EXIT_USAGE = 2,                 /* bad command line */
	CTL_EXIT_UNAVAILABLE = EX_UNAVAILABLE, /* crawld unreachable or gone */
	CTL_EXIT_INTERRUPTED = 130,         /* SIGINT while waiting */
};

/* The settings of one run. socket is borrowed (argv or the environment). */
struct ctl_ctx {
	const char *socket;
	int json;            /* --json: print raw JSON */
	int timeout_ms;      /* for each reply; -1: no limit */
	struct ctl_conn *conn; /* opened by ctl_connect, closed by ctl_ctx_close */
};

/* getopt_long codes of the options every subcommand accepts (after the
 * subcommand as well as before it); a command's own long-only options use
 * codes from CTL_OPT_CMD on. */
enum { CTL_OPT_JSON = 0x100, CTL_OPT_SOCKET, CTL_OPT_TIMEOUT, CTL_OPT_CMD };

#define CTL_OPTS_COMMON                                                          \
	{ "help", no_argument, NULL, 'h' }, { "json", no_argument, NULL, CTL_OPT_JSON }, \
	{ "socket", required_argument, NULL, CTL_OPT_SOCKET },                    \
	{ "timeout", required_argument, NULL, CTL_OPT_TIMEOUT },                  \
	{ NULL, 0, NULL, 0 }

/* ctl_opt_common's answers besides an exit status. */
#define CTL_OPT_CONTINUE (-1) /* handled: go on parsing */
#define CTL_OPT_OTHER (-2)    /* not a shared option: the command's own */

/* Defaults: socket from CRAWLD_SOCKET (if set and not empty) or
 * CTL_SOCKET_DEFAULT, timeout CTL_TIMEOUT_DEFAULT, no connection. */
void ctl_ctx_init(struct ctl_ctx *ctx);

/* Closes the connection, if any. */
void ctl_ctx_close(struct ctl_ctx *ctx);

/* Handles getopt_long's answer opt when it is shared: help (prints help,
 * which must start with the usage line, to stdout; returns 0), --json,
 * --socket, --timeout, and getopt's errors '?' and ':' (prints what was
 * wrong; returns CTL_EXIT_USAGE). cmd names the subcommand in messages
 * (NULL before one). argv is the vector getopt_long is parsing. */
int ctl_opt_common(struct ctl_ctx *ctx, const char *cmd, int opt, char *const *argv,
		   const char *help);

/* Handles one of a command's own options (optarg as getopt_long left it);
 * returns 0 to go on, or an exit status that ends the command. */
typedef int (*ctl_own_fn)(void *arg, int opt);

/* Parses argv (argv[0] the subcommand's name) with getopt_long from the
 * start: shared options through ctl_opt_common, the others through own
 * (NULL: the command has none). Returns CTL_OPT_CONTINUE when the command
 * should run, its positional arguments then being argv[optind..argc-1];
 * else the exit status to end with (0 after --help). */
int ctl_getopt(struct ctl_ctx *ctx, const char *cmd, int argc, char **argv,
	       const char *shortopts, const struct option *longopts, const char *help,
	       ctl_own_fn own, void *arg);

/* Checks that argv[optind..argc-1] holds min..max positional arguments;
 * what names them ("a job id") in the message when too few are given.
 * Returns 0, or prints why and returns CTL_EXIT_USAGE. */
int ctl_positionals(const char *cmd, int argc, char **argv, int min, int max,
		    const char *what);

/* Prints "crawlctl CMD: <message>" and "see crawlctl CMD --help" (cmd may
 * be NULL) to stderr; returns CTL_EXIT_USAGE. */
int ctl_usage(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "crawlctl: <message>" to stderr. */
void ctl_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Connects to ctx->socket unless already connected. Returns 0, or prints
 * "cannot connect to crawld at PATH: <reason> (is crawld running?)" and
 * returns CTL_EXIT_UNAVAILABLE (CTL_EXIT_USAGE for an impossible path). */
int ctl_connect(struct ctl_ctx *ctx);

/* One request and its final reply, connecting first if needed. args is
 * borrowed (NULL: none). On success returns 0 and *result holds a new
 * reference (the reply's result, json null if it had none) that the caller
 * releases; items before the final reply are ignored. On failure *result
 * is NULL and the return is an exit status after printing why:
 * CTL_EXIT_FAIL for an error reply ("crawlctl: CODE: MESSAGE") or a
 * malformed reply, CTL_EXIT_UNAVAILABLE when the connection fails, times
 * out or closes, CTL_EXIT_INTERRUPTED on SIGINT. */
int ctl_call(struct ctl_ctx *ctx, const char *cmd, const json_t *args, json_t **result);

/* Called for each streamed item (borrowed, valid during the call). Returns
 * 0 to go on, or an exit status that ends the stream with it. */
typedef int (*ctl_item_fn)(void *arg, json_t *item);

/* Like ctl_call for a streaming command: each item goes to fn, in order.
 * timeout_ms bounds the wait for each line (-1: none, for follow).
 * result may be NULL when the final result is not wanted. */
int ctl_stream(struct ctl_ctx *ctx, const char *cmd, const json_t *args, int timeout_ms,
	       ctl_item_fn fn, void *arg, json_t **result);

/* Prints v as one line of compact JSON to stdout. Returns 0, or
 * CTL_EXIT_FAIL after a message when it cannot be encoded. */
int ctl_print_json(const json_t *v);

/* Sets key to a new reference made by value (a json_*() constructor's
 * result, NULL after a failed allocation). Returns 0, or prints "out of
 * memory" and returns CTL_EXIT_FAIL. */
int ctl_json_set(json_t *obj, const char *key, json_t *value);

/* An object {"job": id} for the commands that take one; NULL when out of
 * memory (after a message). */
json_t *ctl_job_args(long long id);

/* Parses a positional job id argument for cmd; prints a usage message and
 * returns CTL_EXIT_USAGE when it is not one, else 0. */
int ctl_parse_job_arg(const char *cmd, const char *text, long long *id);

#endif
