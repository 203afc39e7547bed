/* commands.c - one handler per control command. */
#include "commands.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "jobs.h"
#include "log.h"
#include "store.h"

static void reply_jobs_err(struct control_conn *c, json_t *id, const struct jobs_err *e)
{
	control_reply_error(c, id, e->code ? e->code : "internal", "%s", e->msg);
}

/* args.job as a positive integer, or an error reply. */
static int job_arg(struct control_conn *c, json_t *id, json_t *args, int64_t *job)
{
	json_t *v = json_object_get(args, "job");
	if (!json_is_integer(v) || json_integer_value(v) < 1) {
		control_reply_error(c, id, "bad_field", "args.job: expected a job id (an integer >= 1)");
		return -1;
	}
	*job = json_integer_value(v);
	return 0;
}

static void cmd_submit(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	struct commands_ctx *x = arg;
	struct jobs_err e = {0};
	int64_t job;
	if (jobs_submit(x->jobs, args, &job, &e) != 0)
		reply_jobs_err(c, id, &e);
	else
		control_reply_ok(c, id, json_pack("{s:I, s:s}", "job", (json_int_t)job, "state", "queued"));
}

static void cmd_list(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	struct commands_ctx *x = arg;
	(void)args;
	control_reply_ok(c, id, json_pack("{s:o}", "jobs", jobs_list(x->jobs)));
}

static json_t *daemon_status(struct commands_ctx *x)
{
	int running, queued;
	double rate;
	uint64_t total;
	jobs_counts(x->jobs, &running, &queued, &rate, &total);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return json_pack("{s:s, s:f, s:i, s:i, s:i, s:i, s:I, s:f}", "version", CRAWLD_VERSION,
			 "uptime", (double)ts.tv_sec - x->started, "running", running, "queued",
			 queued, "jobs", jobs_total(x->jobs), "clients",
			 x->control ? control_clients(x->control) : 0, "pages_total",
			 (json_int_t)total, "pages_per_s", rate);
}

static void cmd_status(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	struct commands_ctx *x = arg;
	int64_t job;
	if (!json_object_get(args, "job")) {
		control_reply_ok(c, id, daemon_status(x));
		return;
	}
	if (job_arg(c, id, args, &job) != 0)
		return;
	struct jobs_err e = {0};
	json_t *st = jobs_status(x->jobs, job, &e);
	if (st)
		control_reply_ok(c, id, st);
	else
		reply_jobs_err(c, id, &e);
}

typedef int (*job_action)(struct jobs *, int64_t, struct jobs_err *);

static void job_command(struct commands_ctx *x, struct control_conn *c, json_t *id, json_t *args,
			job_action act)
{
	int64_t job;
	struct jobs_err e = {0};
	if (job_arg(c, id, args, &job) != 0)
		return;
	if (act(x->jobs, job, &e) != 0) {
		reply_jobs_err(c, id, &e);
		return;
	}
	json_t *st = jobs_status(x->jobs, job, &e);
	control_reply_ok(c, id, json_pack("{s:I, s:O?}", "job", (json_int_t)job, "state",
					  st ? json_object_get(st, "state") : NULL));
	json_decref(st);
}

static void cmd_pause(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	job_command(arg, c, id, args, jobs_pause);
}

static void cmd_resume(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	job_command(arg, c, id, args, jobs_resume);
}

static void cmd_cancel(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	job_command(arg, c, id, args, jobs_cancel);
}

/* ---- streams ---- */

struct stream {
	struct control_conn *c;
	json_t *id;
	int64_t count;
};

static json_t *result_json(const struct store_result *r)
{
	return json_pack("{s:s, s:s?, s:i, s:i, s:s?, s:s?, s:I, s:f, s:i, s:s?, s:s?}", "url", r->url,
			 "final_url", r->final_url, "status", r->status, "depth", r->depth,
			 "referrer", r->referrer, "content_type", r->content_type, "bytes",
			 (json_int_t)r->bytes, "fetch_ms", r->fetch_ms, "links", r->links, "error",
			 r->error, "code", r->error_code ? crawl_errname(r->error_code) : NULL);
}

static int stream_result(void *arg, const struct store_result *r)
{
	struct stream *s = arg;
	control_send_item(s->c, s->id, result_json(r));
	s->count++;
	return 0;
}

static void cmd_results(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	struct commands_ctx *x = arg;
	int64_t job;
	struct jobs_err e = {0};
	if (job_arg(c, id, args, &job) != 0)
		return;
	/* Without sort_by, the order the job was submitted with. */
	const char *sort = jobs_sort_by(x->jobs, job, &e);
	if (!sort) {
		reply_jobs_err(c, id, &e);
		return;
	}
	json_t *v = json_object_get(args, "sort_by");
	if (v)
		sort = json_is_string(v) ? json_string_value(v) : "";
	if (strcmp(sort, "url") && strcmp(sort, "status") && strcmp(sort, "time") &&
	    strcmp(sort, "size")) {
		control_reply_error(c, id, "bad_field", "args.sort_by: expected url, status, time or size");
		return;
	}
	/* What is reported must survive a crash: commit first. */
	jobs_checkpoint(x->jobs);
	struct stream s = {c, id, 0};
	if (store_results_iter(x->store, job, sort, stream_result, &s) != 0)
		control_reply_error(c, id, "internal", "%s", store_errmsg(x->store));
	else
		control_reply_ok(c, id, json_pack("{s:I}", "count", (json_int_t)s.count));
}

static json_t *log_json(double time, int level, int64_t job, const char *url, int code,
			const char *msg)
{
	return json_pack("{s:f, s:s, s:I, s:s?, s:s?, s:s}", "time", time, "level",
			 dlog_level_name(level), "job", (json_int_t)job, "url", url, "code",
			 code ? crawl_errname(code) : NULL, "message", msg);
}

static int stream_log(void *arg, const struct store_log *r)
{
	struct stream *s = arg;
	control_send_item(s->c, s->id, log_json(r->time, r->level, r->job, r->url, r->code,
						r->message));
	s->count++;
	return 0;
}

/* A follower of the live log: one per "logs -f" connection. */
struct follower {
	struct commands_ctx *x;
	struct control_conn *c;
	json_t *id;
	struct store_log_filter f;
	char *grep;
};

static void follow_record(void *arg, const struct dlog_record *r)
{
	struct follower *fw = arg;
	if (fw->f.job && r->job != fw->f.job)
		return;
	if (r->level > fw->f.min_level)
		return;
	if (fw->grep && !strstr(r->message, fw->grep) && !(r->url && strstr(r->url, fw->grep)))
		return;
	if (control_conn_pending(fw->c) > (8u << 20))
		return; /* a reader that does not keep up loses records, not memory */
	control_send_item(fw->c, fw->id, log_json(r->time, r->level, r->job, r->url, r->code,
						  r->message));
}

static void follow_end(void *arg)
{
	struct follower *fw = arg;
	dlog_unsubscribe(fw->x->log, follow_record, fw);
	json_decref(fw->id);
	free(fw->grep);
	free(fw);
}

static int log_filter(struct control_conn *c, json_t *id, json_t *args, struct store_log_filter *f)
{
	json_t *v;
	memset(f, 0, sizeof *f);
	f->min_level = 7;
	if ((v = json_object_get(args, "job")) && (!json_is_integer(v) || json_integer_value(v) < 0))
		goto bad_job;
	f->job = v ? json_integer_value(v) : 0;
	if ((v = json_object_get(args, "level"))) {
		int lv = json_is_string(v) ? dlog_level_parse(json_string_value(v)) : -1;
		if (lv < 0) {
			control_reply_error(c, id, "bad_field", "args.level: expected debug, info, notice, warning or error");
			return -1;
		}
		f->min_level = lv;
	}
	if ((v = json_object_get(args, "since")) && !json_is_number(v)) {
		control_reply_error(c, id, "bad_field", "args.since: expected a Unix time");
		return -1;
	}
	f->since = v ? json_number_value(v) : 0;
	if ((v = json_object_get(args, "grep")) && !json_is_string(v)) {
		control_reply_error(c, id, "bad_field", "args.grep: expected a string");
		return -1;
	}
	f->grep = v ? json_string_value(v) : NULL;
	return 0;
bad_job:
	control_reply_error(c, id, "bad_field", "args.job: expected a job id");
	return -1;
}

static void cmd_logs(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	struct commands_ctx *x = arg;
	struct store_log_filter f;
	if (log_filter(c, id, args, &f) != 0)
		return;
	/* Log records sit in the store's open transaction, which this
	 * connection reads as it is: no checkpoint needed to see them. */
	struct stream s = {c, id, 0};
	if (store_logs_iter(x->store, &f, stream_log, &s) != 0) {
		control_reply_error(c, id, "internal", "%s", store_errmsg(x->store));
		return;
	}
	if (!json_is_true(json_object_get(args, "follow"))) {
		control_reply_ok(c, id, json_pack("{s:I}", "count", (json_int_t)s.count));
		return;
	}
	struct follower *fw = calloc(1, sizeof *fw);
	if (!fw || (f.grep && !(fw->grep = strdup(f.grep))) ||
	    dlog_subscribe(x->log, follow_record, fw) != 0) {
		if (fw)
			free(fw->grep);
		free(fw);
		control_reply_error(c, id, "internal", "out of memory");
		return;
	}
	fw->x = x;
	fw->c = c;
	fw->id = json_incref(id);
	fw->f = f;
	control_conn_on_close(c, follow_end, fw);
}

/* The resident set now, from /proc/self/statm (pages); 0 if unreadable. */
static json_int_t rss_bytes(void)
{
	long size = 0, pages = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	if (f && fscanf(f, "%ld %ld", &size, &pages) != 2)
		pages = 0;
	if (f)
		fclose(f);
	return (json_int_t)pages * sysconf(_SC_PAGESIZE);
}

/* The daemon's status with jobs counted by state, and its memory. */
static void cmd_stats(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	struct commands_ctx *x = arg;
	struct rusage ru;
	(void)args;
	json_t *st = daemon_status(x);
	json_object_set_new(st, "jobs", jobs_by_state(x->jobs));
	json_object_set_new(st, "rss_bytes", json_integer(rss_bytes()));
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		json_object_set_new(st, "max_rss_bytes", json_integer((json_int_t)ru.ru_maxrss * 1024));
	control_reply_ok(c, id, st);
}

static void cmd_version(void *arg, struct control_conn *c, json_t *id, json_t *args)
{
	(void)arg;
	(void)args;
	control_reply_ok(c, id, json_pack("{s:s, s:s, s:s, s:s}", "version", CRAWLD_VERSION,
					  "libcurl", curl_version(), "libevent",
					  event_get_version(), "sqlite", sqlite3_libversion()));
}

const struct control_cmd commands_table[] = {
	{"submit", cmd_submit}, {"list", cmd_list},       {"status", cmd_status},
	{"pause", cmd_pause},   {"resume", cmd_resume},   {"cancel", cmd_cancel},
	{"results", cmd_results}, {"logs", cmd_logs},     {"stats", cmd_stats},
	{"version", cmd_version}, {NULL, NULL},
};
