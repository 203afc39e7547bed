/* ctl_watch.c - wait, results, logs (see ctl_watch.h). */
#include "ctl_watch.h"

#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl_output.h"
#include "ctl_parse.h"
#include "ctl_signal.h"

#define BAR_WIDTH 30
#define PLAIN_EVERY_MS 1000 /* plain wait lines: at most one a second */
#define GREP_MAX 1024
#define MESSAGE_WIDTH 40    /* logs: URLs start in one column after it */

/* ---- wait ---- */

static const char wait_help[] =
	"usage: crawlctl wait [--interval MS] [--json] ID\n"
	"Waits until job ID is done, failed or cancelled, asking for its status\n"
	"every MS milliseconds (10..60000, default 200). On a terminal it shows\n"
	"a progress bar, otherwise a line per change (at most one a second).\n"
	"Exit status: 0 done, 1 failed or cancelled, 130 interrupted (the job\n"
	"goes on).\n";

enum { O_INTERVAL = CTL_OPT_CMD, O_SORT_BY, O_JOB, O_LEVEL, O_SINCE, O_GREP };

static const struct option wait_opts[] = {
	{ "interval", required_argument, NULL, O_INTERVAL },
	CTL_OPTS_COMMON,
};

/* One status reply, the fields wait shows. */
struct snapshot {
	char state[16];
	int64_t pages, queued, errors, bytes;
	double rate, elapsed;
	const char *error; /* borrowed from the reply */
};

struct waiter {
	long long job;
	int interval_ms;
	bool tty, bar_drawn, printed;
	struct snapshot last; /* as last printed (plain mode) */
	struct timespec last_time;
};

/* A numeric member as an integer; 0 when absent, not a number, or a real
 * too large to convert (a cast of it would be undefined). */
static int64_t field_int(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	double d;

	if (json_is_integer(v))
		return json_integer_value(v);
	d = json_is_real(v) ? json_real_value(v) : 0;
	return d > -9e18 && d < 9e18 ? (int64_t)d : 0;
}

static void snapshot_read(struct snapshot *s, const json_t *status)
{
	const char *state = json_string_value(json_object_get(status, "state"));
	const json_t *rate = json_object_get(status, "rate");
	const json_t *elapsed = json_object_get(status, "elapsed");

	snprintf(s->state, sizeof s->state, "%s", state ? state : "unknown");
	s->pages = field_int(status, "pages");
	s->queued = field_int(status, "queued");
	s->errors = field_int(status, "errors");
	s->bytes = field_int(status, "bytes");
	s->rate = json_is_number(rate) ? json_number_value(rate) : 0;
	s->elapsed = json_is_number(elapsed) ? json_number_value(elapsed) : 0;
	s->error = json_string_value(json_object_get(status, "error"));
}

static bool is_terminal(const char *state)
{
	return strcmp(state, "done") == 0 || strcmp(state, "failed") == 0 ||
	       strcmp(state, "cancelled") == 0;
}

static int64_t ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)(now.tv_sec - t->tv_sec) * 1000 + (now.tv_nsec - t->tv_nsec) / 1000000;
}

/* The line of a job that ended. */
static void print_final(const struct waiter *w, const struct snapshot *s)
{
	printf("job %lld: ", w->job);
	ctl_text_put(stdout, s->state);
	printf(", %" PRId64 " pages, %" PRId64 " error%s, %" PRId64 " bytes, %.1f s", s->pages,
	       s->errors, s->errors == 1 ? "" : "s", s->bytes, s->elapsed);
	if (s->error) {
		fputs(": ", stdout);
		ctl_text_put(stdout, s->error);
	}
	putchar('\n');
}

/* Plain mode: a line when something changed, at most once a second. */
static void print_plain(struct waiter *w, const struct snapshot *s)
{
	bool changed = !w->printed || strcmp(s->state, w->last.state) != 0 ||
		       s->pages != w->last.pages || s->queued != w->last.queued ||
		       s->errors != w->last.errors;
	char line[256];

	if (!changed || (w->printed && ms_since(&w->last_time) < PLAIN_EVERY_MS))
		return;
	ctl_progress_format(line, sizeof line, BAR_WIDTH, s->pages, s->queued, s->rate,
			    s->errors);
	printf("job %lld: ", w->job);
	ctl_text_put(stdout, s->state);
	/* the numbers of the bar line, without the bar */
	printf(", %s\n", strchr(line, ']') + 2);
	w->last = *s;
	w->last.error = NULL;
	w->printed = true;
	clock_gettime(CLOCK_MONOTONIC, &w->last_time);
}

static void show_progress(struct waiter *w, const struct snapshot *s, bool done)
{
	char line[256];

	if (w->tty) {
		ctl_progress_format(line, sizeof line, BAR_WIDTH, s->pages, s->queued, s->rate,
				    s->errors);
		printf("\r%s\033[K", line);
		w->bar_drawn = true;
		if (done)
			putchar('\n');
	} else if (!done) {
		print_plain(w, s);
	}
	if (done)
		print_final(w, s);
	fflush(stdout);
}

/* One status round; *done set when the job has ended. */
static int wait_round(struct ctl_ctx *ctx, struct waiter *w, const json_t *args, bool *done)
{
	struct snapshot s;
	json_t *status = NULL;
	int rc;

	if ((rc = ctl_call(ctx, "status", args, &status)) != 0)
		return rc;
	snapshot_read(&s, status);
	*done = is_terminal(s.state);
	if (ctx->json && *done)
		rc = ctl_print_json(status);
	else if (!ctx->json)
		show_progress(w, &s, *done);
	if (*done && rc == 0 && strcmp(s.state, "done") != 0)
		rc = CTL_EXIT_FAIL;
	json_decref(status);
	return rc;
}

static int wait_option(void *arg, int opt)
{
	struct waiter *w = arg;
	long long ms;

	(void)opt; /* --interval is wait's only option */
	if (ctl_parse_int(optarg, CTL_WAIT_INTERVAL_MIN, CTL_WAIT_INTERVAL_MAX, &ms) != 0)
		return ctl_usage("wait", "--interval: expected milliseconds from %d to %d, got "
					 "'%.100s'",
				 CTL_WAIT_INTERVAL_MIN, CTL_WAIT_INTERVAL_MAX, optarg);
	w->interval_ms = (int)ms;
	return 0;
}

int ctl_cmd_wait(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct waiter w = { .interval_ms = CTL_WAIT_INTERVAL, .tty = isatty(STDOUT_FILENO) };
	json_t *args;
	bool done = false;
	int rc;

	rc = ctl_getopt(ctx, "wait", argc, argv, ":h", wait_opts, wait_help, wait_option, &w);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals("wait", argc, argv, 1, 1, "a job id")) != 0 ||
	    (rc = ctl_parse_job_arg("wait", argv[optind], &w.job)) != 0)
		return rc;
	if (!(args = ctl_job_args(w.job)))
		return CTL_EXIT_FAIL;
	/* Ends when the job does, on SIGINT, or when the daemon goes away;
	 * each round sleeps interval_ms, so it never spins. */
	while ((rc = wait_round(ctx, &w, args, &done)) == 0 && !done)
		if (ctl_signal_sleep(w.interval_ms) != 0) {
			rc = CTL_EXIT_INTERRUPTED;
			break;
		}
	if (w.bar_drawn && !done)
		putchar('\n');
	if (rc == CTL_EXIT_INTERRUPTED)
		ctl_warn("stopped waiting; job %lld goes on", w.job);
	json_decref(args);
	return rc;
}

/* ---- results ---- */

static const char results_help[] =
	"usage: crawlctl results [--sort-by KEY] [--json] ID\n"
	"Shows job ID's results as a table STATUS DEPTH BYTES MS URL, in the\n"
	"job's order or by KEY (url, status, time, size); with --json one JSON\n"
	"object per result and line.\n";

static const struct option results_opts[] = {
	{ "sort-by", required_argument, NULL, O_SORT_BY },
	CTL_OPTS_COMMON,
};

static int check_sort_key(const char *cmd, const char *key)
{
	static const char *const keys[] = { "url", "status", "time", "size" };

	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		if (strcmp(key, keys[i]) == 0)
			return 0;
	return ctl_usage(cmd, "--sort-by: expected url, status, time or size, got '%.100s'",
			 key);
}

static int results_option(void *arg, int opt)
{
	const char **sort_by = arg;

	(void)opt; /* --sort-by is results' only option */
	*sort_by = optarg;
	return check_sort_key("results", optarg);
}

/* The table's header comes with the first row (or after an empty but
 * successful stream), so that an error reply prints no table at all. */
struct results_out {
	const struct ctl_ctx *ctx;
	int header_done;
};

static void results_header(struct results_out *o)
{
	if (!o->header_done && !o->ctx->json)
		printf("%6s  %5s  %10s  %9s  %s\n", "STATUS", "DEPTH", "BYTES", "MS", "URL");
	o->header_done = 1;
}

static int result_row(void *arg, json_t *item)
{
	struct results_out *o = arg;
	const struct ctl_ctx *ctx = o->ctx;
	const json_t *status = json_object_get(item, "status");
	const json_t *ms = json_object_get(item, "fetch_ms");
	const char *url = json_string_value(json_object_get(item, "url"));
	const char *error = json_string_value(json_object_get(item, "error"));
	char st[32];

	results_header(o);
	if (ctx->json)
		return ctl_print_json(item);
	if (json_is_integer(status) && json_integer_value(status) > 0)
		snprintf(st, sizeof st, "%" JSON_INTEGER_FORMAT, json_integer_value(status));
	else
		snprintf(st, sizeof st, "%s", error ? "ERR" : "-");
	printf("%6s  %5" PRId64 "  %10" PRId64 "  %9.1f  ", st, field_int(item, "depth"),
	       field_int(item, "bytes"), json_is_number(ms) ? json_number_value(ms) : 0.0);
	ctl_text_put(stdout, url ? url : "-");
	if (error) {
		fputs("  (", stdout);
		ctl_text_put(stdout, error);
		putchar(')');
	}
	putchar('\n');
	return ferror(stdout) ? CTL_EXIT_FAIL : 0;
}

int ctl_cmd_results(struct ctl_ctx *ctx, int argc, char **argv)
{
	const char *sort_by = NULL;
	struct results_out o = { ctx, 0 };
	json_t *args = NULL;
	long long id;
	int rc;

	rc = ctl_getopt(ctx, "results", argc, argv, ":h", results_opts, results_help,
			results_option, &sort_by);
	if (rc != CTL_OPT_CONTINUE)
		return rc;
	if ((rc = ctl_positionals("results", argc, argv, 1, 1, "a job id")) != 0 ||
	    (rc = ctl_parse_job_arg("results", argv[optind], &id)) != 0)
		return rc;
	if (!(args = ctl_job_args(id)))
		return CTL_EXIT_FAIL;
	if (sort_by && (rc = ctl_json_set(args, "sort_by", json_string(sort_by))) != 0)
		goto out;
	rc = ctl_stream(ctx, "results", args, ctx->timeout_ms, result_row, &o, NULL);
	if (rc == 0)
		results_header(&o);
out:
	json_decref(args);
	return rc;
}

/* ---- logs ---- */

static const char logs_help[] =
	"usage: crawlctl logs [--job ID] [--level LEVEL] [--since TIME] [--grep TEXT]\n"
	"                     [-f|--follow] [--json]\n"
	"Shows the daemon's log records as TIME LEVEL JOB MESSAGE URL.\n"
	"  --job ID        only job ID's records\n"
	"  --level LEVEL   LEVEL and above: debug, info, notice, warning, error\n"
	"  --since TIME    from TIME on: a Unix time, 2026-11-25T10:00:00 (local\n"
	"                  time; Z for UTC), or a time ago: 30s, 10m, 2h, 1d, 1w\n"
	"  --grep TEXT     only records whose message holds TEXT\n"
	"  -f, --follow    keep showing new records until Ctrl-C\n"
	"  --json          one JSON object per record and line\n"
	"Colours on a terminal: red error, yellow warning, dim debug (NO_COLOR\n"
	"turns them off).\n";

static const struct option logs_opts[] = {
	{ "job", required_argument, NULL, O_JOB },
	{ "level", required_argument, NULL, O_LEVEL },
	{ "since", required_argument, NULL, O_SINCE },
	{ "grep", required_argument, NULL, O_GREP },
	{ "follow", no_argument, NULL, 'f' },
	CTL_OPTS_COMMON,
};

struct logs {
	const struct ctl_ctx *ctx;
	json_t *args;
	bool follow, color;
};

static int set_level(struct logs *l, const char *level)
{
	static const char *const levels[] = { "debug", "info", "notice", "warning", "error" };

	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
		if (strcmp(level, levels[i]) == 0)
			return ctl_json_set(l->args, "level", json_string(level));
	return ctl_usage("logs", "--level: expected debug, info, notice, warning or error, "
				 "got '%.100s'",
			 level);
}

static int set_since(struct logs *l, const char *text)
{
	double t;

	if (ctl_parse_since(text, time(NULL), &t) != 0)
		return ctl_usage("logs", "--since: expected a Unix time, a date-time like "
					 "2026-11-25T10:00:00, or a time ago like 10m, 2h, 1d; "
					 "got '%.100s'",
				 text);
	if (t == floor(t))
		return ctl_json_set(l->args, "since", json_integer((json_int_t)t));
	return ctl_json_set(l->args, "since", json_real(t));
}

static int logs_option(void *arg, int opt)
{
	struct logs *l = arg;
	long long id;
	int rc;

	switch (opt) {
	case O_JOB:
		if ((rc = ctl_parse_job_arg("logs", optarg, &id)) != 0)
			return rc;
		return ctl_json_set(l->args, "job", json_integer(id));
	case O_LEVEL:
		return set_level(l, optarg);
	case O_SINCE:
		return set_since(l, optarg);
	case O_GREP:
		if (strlen(optarg) > GREP_MAX)
			return ctl_usage("logs", "--grep: at most %d bytes", GREP_MAX);
		return ctl_json_set(l->args, "grep", json_string(optarg));
	default: /* 'f' */
		l->follow = true;
		return ctl_json_set(l->args, "follow", json_true());
	}
}

/* "2026-11-25 10:00:00" in local time, or "-". */
static void time_text(const json_t *v, char *buf, size_t len)
{
	double d = json_is_number(v) ? json_number_value(v) : -1;
	time_t t = d >= 0 && d < 1e15 ? (time_t)d : 0;
	struct tm tm;

	if (d < 0 || d >= 1e15 || !localtime_r(&t, &tm) ||
	    strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm) == 0)
		snprintf(buf, len, "-");
}

static int log_line(void *arg, json_t *item)
{
	const struct logs *l = arg;
	const char *level = json_string_value(json_object_get(item, "level"));
	const char *msg = json_string_value(json_object_get(item, "message"));
	const char *url = json_string_value(json_object_get(item, "url"));
	const char *color = l->color ? ctl_color_level(level) : "";
	char when[32], job[32];

	if (l->ctx->json) {
		if (ctl_print_json(item) != 0)
			return CTL_EXIT_FAIL;
	} else {
		time_text(json_object_get(item, "time"), when, sizeof when);
		ctl_value_text(json_object_get(item, "job"), job, sizeof job);
		printf("%s%s  ", color, when);
		ctl_text_pad(stdout, level ? level : "-", 7);
		fputs("  ", stdout);
		ctl_text_pad(stdout, job, 5);
		fputs("  ", stdout);
		ctl_text_pad(stdout, msg ? msg : "", url ? MESSAGE_WIDTH : 0);
		if (url) {
			fputs("  ", stdout);
			ctl_text_put(stdout, url);
		}
		printf("%s\n", color[0] ? CTL_COLOR_RESET : "");
	}
	if (l->follow)
		fflush(stdout);
	return ferror(stdout) ? CTL_EXIT_FAIL : 0;
}

int ctl_cmd_logs(struct ctl_ctx *ctx, int argc, char **argv)
{
	struct logs l = { .ctx = ctx, .color = ctl_color_enabled(STDOUT_FILENO) };
	int rc;

	if (!(l.args = json_object())) {
		ctl_warn("out of memory");
		return CTL_EXIT_FAIL;
	}
	rc = ctl_getopt(ctx, "logs", argc, argv, ":hf", logs_opts, logs_help, logs_option, &l);
	if (rc != CTL_OPT_CONTINUE)
		goto out;
	if ((rc = ctl_positionals("logs", argc, argv, 0, 0, "nothing")) != 0)
		goto out;
	/* A followed stream has no end, so no reply timeout either. */
	rc = ctl_stream(ctx, "logs", json_object_size(l.args) ? l.args : NULL,
			l.follow ? -1 : ctx->timeout_ms, log_line, &l, NULL);
	if (rc == CTL_EXIT_INTERRUPTED && l.follow)
		rc = CTL_EXIT_OK; /* Ctrl-C is how a follow ends */
out:
	json_decref(l.args);
	return rc;
}
