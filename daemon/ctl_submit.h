/* ctl_submit.h - `crawlctl submit`: a new crawl job from seed URLs given
 * as arguments, in files (--file) or on stdin ("-"), with its options.
 *
 * Everything the client can check is checked before connecting (numbers
 * and their ranges, the sort key, regular expressions, URL syntax and
 * scheme, a non-empty seed list), so a typo costs no round trip and
 * nothing reaches the daemon. See crawlctl(1).
 */
#ifndef CRAWLD_CTL_SUBMIT_H
#define CRAWLD_CTL_SUBMIT_H

#include "ctl_client.h"

/* The submit subcommand; argv[0] is "submit". Returns the exit status:
 * prints the new job's id (or with --json the reply's result) and returns
 * 0; CTL_EXIT_USAGE for a bad command line or unreadable URL list; else
 * what ctl_call returns. ctx (settings and connection) is used, not kept. */
int ctl_cmd_submit(struct ctl_ctx *ctx, int argc, char **argv);

#endif
