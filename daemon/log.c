/* log.c - sinks of the daemon's structured log. */
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <time.h>

#include "error.h"
#include "store.h"

struct dlog_sub {
	dlog_sub_fn fn;
	void *arg;
};

struct dlog {
	struct dlog_opts o;
	char *path; /* the JSON-lines file, or NULL */
	FILE *file;
	int64_t file_bytes;
	int journal;
	struct store *store;
	struct dlog_sub *subs;
	size_t nsubs;
	int failed_file, failed_store;
};

static const char *const level_names[] = {"emerg", "alert", "crit",   "error",
					  "warning", "notice", "info", "debug"};

const char *dlog_level_name(int level)
{
	return level >= 0 && level < 8 ? level_names[level] : "unknown";
}

int dlog_level_parse(const char *name)
{
	for (int i = 0; i < 8; i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	if (strcmp(name, "err") == 0)
		return LOG_ERR;
	if (strcmp(name, "warn") == 0)
		return LOG_WARNING;
	return -1;
}

static int open_file(struct dlog *l, char *err, size_t errlen)
{
	struct stat sb;
	l->file = fopen(l->path, "a");
	if (!l->file) {
		snprintf(err, errlen, "cannot open log file %s: %s", l->path, strerror(errno));
		return CRAWL_ESYS;
	}
	l->file_bytes = fstat(fileno(l->file), &sb) == 0 ? (int64_t)sb.st_size : 0;
	return 0;
}

int dlog_open(struct dlog **out, const struct dlog_opts *o, char *err, size_t errlen)
{
	struct dlog *l = calloc(1, sizeof *l);
	int rc = CRAWL_ENOMEM;
	if (!l)
		return rc;
	l->o = *o;
	l->journal = getenv("JOURNAL_STREAM") != NULL;
	if (!l->journal && o->log_dir && *o->log_dir) {
		if (asprintf(&l->path, "%s/crawld.log", o->log_dir) < 0) {
			l->path = NULL;
			goto fail;
		}
		if ((rc = open_file(l, err, errlen)) != 0)
			goto fail;
	}
	*out = l;
	return 0;
fail:
	free(l->path);
	free(l);
	return rc;
}

void dlog_close(struct dlog *l)
{
	if (!l)
		return;
	if (l->file)
		fclose(l->file);
	free(l->path);
	free(l->subs);
	free(l);
}

void dlog_set_level(struct dlog *l, int level)
{
	l->o.level = level;
}

void dlog_set_store(struct dlog *l, struct store *st)
{
	l->store = st;
}

/* crawld.log -> crawld.log.1 -> ... -> crawld.log.<keep> (dropped). */
static void rotate(struct dlog *l)
{
	char from[4096], to[4096];
	fclose(l->file);
	l->file = NULL;
	for (int i = l->o.keep; i >= 1; i--) {
		snprintf(to, sizeof to, "%s.%d", l->path, i);
		if (i == 1)
			snprintf(from, sizeof from, "%s", l->path);
		else
			snprintf(from, sizeof from, "%s.%d", l->path, i - 1);
		rename(from, to);
	}
	if (l->o.keep <= 0)
		remove(l->path);
	char err[256];
	if (open_file(l, err, sizeof err) != 0 && !l->failed_file++)
		fprintf(stderr, "crawld: %s\n", err);
}

static void to_file(struct dlog *l, const struct dlog_record *r)
{
	json_t *o = json_pack("{s:f, s:s, s:I, s:s?, s:s?, s:s}", "time", r->time, "level",
			      dlog_level_name(r->level), "job", (json_int_t)r->job, "url", r->url,
			      "code", r->code ? crawl_errname(r->code) : NULL, "message",
			      r->message);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!line)
		return;
	int n = fprintf(l->file, "%s\n", line);
	free(line);
	fflush(l->file);
	if (n > 0)
		l->file_bytes += n;
	if (l->o.max_bytes > 0 && l->file_bytes >= l->o.max_bytes)
		rotate(l);
}

static void to_journal(const struct dlog_record *r)
{
	sd_journal_send("MESSAGE=%s", r->message, "PRIORITY=%d", r->level, "JOB_ID=%lld",
			(long long)r->job, "URL=%s", r->url ? r->url : "", "CRAWL_STATUS=%s",
			r->code ? crawl_errname(r->code) : "OK", "SYSLOG_IDENTIFIER=crawld", NULL);
}

static void to_stderr(const struct dlog_record *r)
{
	time_t t = (time_t)r->time;
	struct tm tm;
	char ts[32];
	localtime_r(&t, &tm);
	strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(stderr, "%s %-7s", ts, dlog_level_name(r->level));
	if (r->job)
		fprintf(stderr, " job %lld", (long long)r->job);
	fprintf(stderr, " %s%s%s\n", r->message, r->url ? " " : "", r->url ? r->url : "");
}

static void to_store(struct dlog *l, struct dlog_record *r)
{
	if (store_log_add(l->store, r->time, r->level, r->job, r->url, r->code, r->message) != 0) {
		if (!l->failed_store++)
			fprintf(stderr, "crawld: cannot store log records: %s\n",
				store_errmsg(l->store));
	}
}

void dlog(struct dlog *l, int level, int64_t job, const char *url, int code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	if (!l || level > l->o.level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	struct dlog_record r = {0, (double)ts.tv_sec + ts.tv_nsec / 1e9, level, job, url, code, msg};
	if (l->journal)
		to_journal(&r);
	else if (l->file)
		to_file(l, &r);
	if (l->o.to_stderr && !l->journal)
		to_stderr(&r);
	if (l->store)
		to_store(l, &r);
	for (size_t i = 0; i < l->nsubs; i++)
		l->subs[i].fn(l->subs[i].arg, &r);
}

int dlog_subscribe(struct dlog *l, dlog_sub_fn fn, void *arg)
{
	struct dlog_sub *s = realloc(l->subs, (l->nsubs + 1) * sizeof *s);
	if (!s)
		return CRAWL_ENOMEM;
	l->subs = s;
	s[l->nsubs++] = (struct dlog_sub){fn, arg};
	return 0;
}

void dlog_unsubscribe(struct dlog *l, dlog_sub_fn fn, void *arg)
{
	for (size_t i = 0; i < l->nsubs; i++) {
		if (l->subs[i].fn == fn && l->subs[i].arg == arg) {
			memmove(&l->subs[i], &l->subs[i + 1], (l->nsubs - i - 1) * sizeof *l->subs);
			l->nsubs--;
			return;
		}
	}
}
