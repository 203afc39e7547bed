/* ctl_watch.h - crawlctl's subcommands that watch over time: wait (polls a
 * job's status until it ends), results and logs (streamed replies). See
 * crawlctl(1).
 *
 * Each takes the run's settings and connection in ctx (used, not kept) and
 * its own argv (argv[0] the subcommand's name), and returns the exit
 * status. Output goes to stdout and is flushed after each line that a
 * person or a pipe may be waiting for (wait's lines, followed logs).
 */
#ifndef CRAWLD_CTL_WATCH_H
#define CRAWLD_CTL_WATCH_H

#include "ctl_client.h"

/* Default and bounds of wait --interval, milliseconds. */
#define CTL_WAIT_INTERVAL 200
#define CTL_WAIT_INTERVAL_MIN 10
#define CTL_WAIT_INTERVAL_MAX 60000

/* wait ID [--interval MS]: 0 when the job is done, CTL_EXIT_FAIL when it
 * failed or was cancelled, CTL_EXIT_INTERRUPTED on SIGINT (the job is left
 * alone), or what ctl_call returns. On a terminal stdout it redraws a
 * progress bar; otherwise it prints a line per change, at most one a
 * second, and always the last one. */
int ctl_cmd_wait(struct ctl_ctx *ctx, int argc, char **argv);

/* results ID [--sort-by KEY]: a table STATUS DEPTH BYTES MS URL of the
 * streamed results, or one JSON object per line with --json. */
int ctl_cmd_results(struct ctl_ctx *ctx, int argc, char **argv);

/* logs [--job ID] [--level L] [--since T] [--grep S] [-f]: log records
 * as aligned lines (coloured by level on a terminal unless NO_COLOR), or
 * JSON lines. With -f it follows until SIGINT, which then ends it with 0. */
int ctl_cmd_logs(struct ctl_ctx *ctx, int argc, char **argv);

#endif
