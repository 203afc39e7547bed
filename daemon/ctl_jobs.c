/* ctl_jobs.c - list, status, pause, resume, cancel, stats, version (see
 * ctl_jobs.h). */
#include "ctl_jobs.h"

#include <stdio.h>
#include <string.h>

#include "ctl_output.h"

static const struct option common_only[] = { CTL_OPTS_COMMON };

static const char list_help[] =
	"usage: crawlctl list [--json]\n"
	"Lists the jobs: ID, STATE, PRI (priority), PAGES (fetched), ERRORS,\n"
	"QUEUED (URLs waiting) and SEEDS (the first seed, +N for the others).\n";

static const char status_help[] =
	"usage: crawlctl status [--json] [ID]\n"
	"Shows job ID's state and counters (pages, errors, bytes, queued,\n"
	"in_flight, rate in pages/s, elapsed seconds, error), or without ID the\n"
	"daemon's (version, uptime, running, queued, jobs, clients).\n";

static const char pause_help[] =
	"usage: crawlctl pause [--json] ID\n"
	"Pauses running job ID (fetches in flight finish) and prints its new state.\n";

static const char resume_help[] =
	"usage: crawlctl resume [--json] ID\n"
	"Resumes paused job ID and prints its new state.\n";

static const char cancel_help[] =
	"usage: crawlctl cancel [--json] ID\n"
	"Cancels job ID (its results so far are kept) and prints its new state.\n";

static const char stats_help[] =
	"usage: crawlctl stats [--json]\n"
	"Shows daemon-wide counters: pages fetched, pages/s, jobs by state,\n"
	"clients, uptime, resident memory.\n";

static const char version_help[] =
	"usage: crawlctl version [--json]\n"
	"Prints crawlctl's version, then crawld's and those of its libraries.\n";

/* "SEED" or "SEED (+N)" into buf. */
static const char *seeds_text(const json_t *seeds, char *buf, size_t len)
{
	size_t n = json_array_size(seeds);
	const char *first = json_string_value(json_array_get(seeds, 0));

	if (!first)
		return "-";
	if (n == 1)
		snprintf(buf, len, "%s", first);
	else
		snprintf(buf, len, "%s (+%zu)", first, n - 1);
	return buf;
}

static int list_row(struct ctl_table *t, const json_t *job)
{
	static const char *const keys[] = { "job", "state", "priority", "pages", "errors",
					    "queued" };
	char text[6][64];
	char seeds[1024];
	const char *cells[7];

	for (size_t i = 0; i < 6; i++)
		cells[i] = ctl_value_text(json_object_get(job, keys[i]), text[i], sizeof text[i]);
	cells[6] = seeds_text(json_object_get(job, "seeds"), seeds, sizeof seeds);
	return ctl_table_add(t, cells);
}

static int print_jobs(const json_t *jobs)
{
	static const char *const headers[] = { "ID",     "STATE",  "PRI",  "PAGES",
						"ERRORS", "QUEUED", "SEEDS" };
	struct ctl_table *t = NULL;
	size_t i;
	json_t *job;
	int rc;

	if ((rc = ctl_table_new(&t, 7, headers, "rlrrrrl")) != 0)
		goto fail;
	json_array_foreach(jobs, i, job)
		if ((rc = list_row(t, job)) != 0)
			goto fail;
	rc = ctl_table_print(t, stdout);
fail:
	ctl_table_free(t);
	if (rc != 0)
		ctl_warn("cannot show the jobs: %s", crawl_strerror(rc));
	return rc ? CTL_EXIT_FAIL : 0;
}

int ctl_cmd_list(struct ctl_ctx *ctx, int argc, char **argv)
{
	json_t *result = NULL, *jobs;
	int rc;

	rc = ctl_getopt(ctx, "list", argc, argv, ":h", common_only, list_help, NULL, NULL);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals("list", argc, argv, 0, 0, "nothing")) != 0)
		return rc;
	if ((rc = ctl_call(ctx, "list", NULL, &result)) != 0)
		return rc;
	jobs = json_object_get(result, "jobs");
	if (ctx->json) {
		rc = ctl_print_json(result);
	} else if (json_is_array(jobs)) {
		rc = print_jobs(jobs);
	} else {
		ctl_warn("bad reply from crawld: list's result has no jobs array");
		rc = CTL_EXIT_FAIL;
	}
	json_decref(result);
	return rc;
}

/* The result as "key: value" lines, or one JSON line with --json. */
static int show_object(const struct ctl_ctx *ctx, const json_t *result,
		       const char *const *order)
{
	if (ctx->json)
		return ctl_print_json(result);
	if (!json_is_object(result)) {
		ctl_warn("bad reply from crawld: the result is not an object");
		return CTL_EXIT_FAIL;
	}
	return ctl_kv_print(stdout, result, order) ? CTL_EXIT_FAIL : 0;
}

int ctl_cmd_status(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const char *const job_order[] = { "job",    "state",     "pages", "errors",
						 "bytes",  "queued",    "in_flight", "rate",
						 "elapsed", "error",    NULL };
	static const char *const daemon_order[] = { "version", "uptime", "running", "queued",
						    "jobs",    "clients", NULL };
	json_t *args = NULL, *result = NULL;
	long long id = 0;
	int rc;

	rc = ctl_getopt(ctx, "status", argc, argv, ":h", common_only, status_help, NULL, NULL);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals("status", argc, argv, 0, 1, "a job id")) != 0)
		return rc;
	if (optind < argc && (rc = ctl_parse_job_arg("status", argv[optind], &id)) != 0)
		return rc;
	if (id && !(args = ctl_job_args(id)))
		return CTL_EXIT_FAIL;
	if ((rc = ctl_call(ctx, "status", args, &result)) == 0)
		rc = show_object(ctx, result, id ? job_order : daemon_order);
	json_decref(result);
	json_decref(args);
	return rc;
}

int ctl_cmd_control(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *cmd = argv[0];
	const char *help = strcmp(cmd, "pause") == 0    ? pause_help
			   : strcmp(cmd, "resume") == 0 ? resume_help
							: cancel_help;
	json_t *args = NULL, *result = NULL;
	const char *state;
	long long id;
	int rc;

	rc = ctl_getopt(ctx, cmd, argc, argv, ":h", common_only, help, NULL, NULL);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals(cmd, argc, argv, 1, 1, "a job id")) != 0 ||
	    (rc = ctl_parse_job_arg(cmd, argv[optind], &id)) != 0)
		return rc;
	if (!(args = ctl_job_args(id)))
		return CTL_EXIT_FAIL;
	if ((rc = ctl_call(ctx, cmd, args, &result)) != 0)
		goto out;
	state = json_string_value(json_object_get(result, "state"));
	if (ctx->json) {
		rc = ctl_print_json(result);
	} else if (state) {
		ctl_text_put(stdout, state);
		putchar('\n');
	} else {
		ctl_warn("bad reply from crawld: %s's result has no state", cmd);
		rc = CTL_EXIT_FAIL;
	}
out:
	json_decref(result);
	json_decref(args);
	return rc;
}

int ctl_cmd_stats(struct ctl_ctx *ctx, int argc, char **argv)
{
	static const char *const order[] = { "pages_total", "pages_per_s", "jobs", "clients",
					     "uptime",      "rss_bytes",   NULL };
	json_t *result = NULL;
	int rc;

	rc = ctl_getopt(ctx, "stats", argc, argv, ":h", common_only, stats_help, NULL, NULL);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals("stats", argc, argv, 0, 0, "nothing")) != 0)
		return rc;
	if ((rc = ctl_call(ctx, "stats", NULL, &result)) == 0)
		rc = show_object(ctx, result, order);
	json_decref(result);
	return rc;
}

/* {"crawlctl": CTL_VERSION, "crawld": <daemon's version>, <libraries>}
 * for people, {"crawlctl": ..., "crawld": <the whole result>} for --json. */
static int show_versions(const struct ctl_ctx *ctx, json_t *result)
{
	json_t *all = json_pack("{s:s}", "crawlctl", CTL_VERSION);
	json_t *daemon = ctx->json ? result : json_object_get(result, "version");
	const char *key;
	json_t *v;
	int rc;

	if (!all || json_object_set(all, "crawld", daemon ? daemon : json_null()) != 0)
		goto nomem;
	if (!ctx->json)
		json_object_foreach(result, key, v)
			if (strcmp(key, "version") != 0 && json_object_set(all, key, v) != 0)
				goto nomem;
	if (ctx->json)
		rc = ctl_print_json(all);
	else
		rc = ctl_kv_print(stdout, all, NULL) ? CTL_EXIT_FAIL : 0;
	json_decref(all);
	return rc;
nomem:
	ctl_warn("out of memory");
	json_decref(all);
	return CTL_EXIT_FAIL;
}

int ctl_cmd_version(struct ctl_ctx *ctx, int argc, char **argv)
{
	json_t *result = NULL;
	int rc;

	rc = ctl_getopt(ctx, "version", argc, argv, ":h", common_only, version_help, NULL, NULL);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals("version", argc, argv, 0, 0, "nothing")) != 0)
		return rc;
	if ((rc = ctl_call(ctx, "version", NULL, &result)) != 0) {
		printf("crawlctl: %s\n", CTL_VERSION);
		return rc;
	}
	if (!json_is_object(result)) {
		ctl_warn("bad reply from crawld: the result is not an object");
		rc = CTL_EXIT_FAIL;
	} else {
		rc = show_versions(ctx, result);
	}
	json_decref(result);
	return rc;
}
