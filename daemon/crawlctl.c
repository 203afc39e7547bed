/* crawlctl.c - the command-line client of crawld: global options, the
 * table of subcommands, and the exit status. The subcommands themselves
 * live in ctl_submit.c, ctl_jobs.c and ctl_watch.c; see crawlctl(1) and
 * docs/protocol.md. */
#include <stdio.h>
#include <string.h>

#include "ctl_client.h"
#include "ctl_jobs.h"
#include "ctl_signal.h"
#include "ctl_submit.h"
#include "ctl_watch.h"

struct command {
	const char *name;
	int (*run)(struct ctl_ctx *ctx, int argc, char **argv);
	const char *args;
	const char *summary;
};

static const struct command commands[] = {
	{ "submit", ctl_cmd_submit, "URL... [OPTION]...", "submit a crawl job, print its id" },
	{ "list", ctl_cmd_list, "", "list the jobs" },
	{ "status", ctl_cmd_status, "[ID]", "a job's state and counters, or the daemon's" },
	{ "wait", ctl_cmd_wait, "ID [--interval MS]", "wait until a job ends" },
	{ "pause", ctl_cmd_control, "ID", "pause a running job" },
	{ "resume", ctl_cmd_control, "ID", "resume a paused job" },
	{ "cancel", ctl_cmd_control, "ID", "cancel a job" },
	{ "results", ctl_cmd_results, "ID [--sort-by KEY]", "a job's results" },
	{ "logs", ctl_cmd_logs, "[--job ID] [--level L] [--since T] [-f]", "log records" },
	{ "stats", ctl_cmd_stats, "", "daemon-wide counters" },
	{ "version", ctl_cmd_version, "", "crawlctl's and crawld's versions" },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct option global_opts[] = {
	{ "version", no_argument, NULL, 'V' },
	CTL_OPTS_COMMON,
};

/* crawlctl --help: the global options and the table of subcommands. */
static void print_help(void)
{
	printf("usage: crawlctl [--socket PATH] [--json] [--timeout MS] COMMAND [ARG]...\n"
	       "Controls crawld, the crawler daemon, through its control socket.\n\n"
	       "  --socket PATH   crawld's socket (default $CRAWLD_SOCKET, else %s)\n"
	       "  --json          print replies as JSON\n"
	       "  --timeout MS    wait at most MS ms for each reply (default %d; 0: no limit)\n"
	       "  --version       print crawlctl's version\n"
	       "  --help          this help\n\ncommands:\n",
	       CTL_SOCKET_DEFAULT, CTL_TIMEOUT_DEFAULT);
	for (size_t i = 0; i < NCOMMANDS; i++)
		printf("  %-8s %-40s %s\n", commands[i].name, commands[i].args,
		       commands[i].summary);
	printf("\n'crawlctl COMMAND --help' describes a command. Exit status: 0 success,\n"
	       "1 failure (job failed, or crawld answered an error), 2 usage error,\n"
	       "69 crawld unavailable, 130 interrupted.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

/* The options before the subcommand; '+' stops at the first non-option. */
static int parse_global(struct ctl_ctx *ctx, int argc, char **argv)
{
	int opt, rc;

	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:h", global_opts, NULL)) != -1) {
		if (opt == 'h') {
			print_help();
			return CTL_EXIT_OK;
		}
		if (opt == 'V') {
			printf("crawlctl %s\n", CTL_VERSION);
			return CTL_EXIT_OK;
		}
		rc = ctl_opt_common(ctx, NULL, opt, argv, "");
		if (rc != CTL_OPT_CONTINUE)
			return rc;
	}
	return CTL_OPT_CONTINUE;
}

/* Output that never reached stdout (a full disk, a closed pipe's EPIPE
 * when SIGPIPE is ignored) must not end in exit status 0. */
static int finish(int rc)
{
	if (fflush(stdout) != 0 || ferror(stdout)) {
		ctl_warn("error writing to standard output");
		return rc ? rc : CTL_EXIT_FAIL;
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct ctl_ctx ctx;
	const struct command *cmd;
	int rc;

	ctl_ctx_init(&ctx);
	if ((rc = parse_global(&ctx, argc, argv)) != CTL_OPT_CONTINUE)
		return finish(rc);
	if (optind >= argc)
		return ctl_usage(NULL, "expected a command (submit, list, status, wait, ...)");
	if (!(cmd = find_command(argv[optind])))
		return ctl_usage(NULL, "unknown command '%.100s'", argv[optind]);
	if (ctl_signal_init() != 0) {
		ctl_warn("cannot set up signal handling");
		return CTL_EXIT_FAIL;
	}
	rc = cmd->run(&ctx, argc - optind, argv + optind);
	ctl_ctx_close(&ctx);
	return finish(rc);
}
