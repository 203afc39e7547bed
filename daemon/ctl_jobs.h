/* ctl_jobs.h - crawlctl's one-question subcommands: list, status, pause,
 * resume, cancel, stats, version. Each sends one request and shows the
 * result for people (a table or "key: value" lines) or, with --json, as the
 * raw result object on one line. See crawlctl(1).
 *
 * Each takes the run's settings and connection in ctx (used, not kept) and
 * its own argv (argv[0] the subcommand's name), and returns the exit
 * status: 0, CTL_EXIT_USAGE for a bad command line, or what ctl_call
 * returns after printing why.
 */
#ifndef CRAWLD_CTL_JOBS_H
#define CRAWLD_CTL_JOBS_H

#include "ctl_client.h"

/* list: a table ID STATE PRI PAGES ERRORS QUEUED SEEDS. */
int ctl_cmd_list(struct ctl_ctx *ctx, int argc, char **argv);

/* status [ID]: one job's fields, or the daemon's without an id. */
int ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv);

/* pause ID, resume ID, cancel ID (argv[0] says which): prints the new
 * state alone ("paused"). */
int ctl_cmd_control(struct ctl_ctx *ctx, int argc, char **argv);

/* stats: the daemon's counters. */
int ctl_cmd_stats(struct ctl_ctx *ctx, int argc, char **argv);

/* version: crawlctl's version, then crawld's and its libraries'. */
int ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv);

#endif
