/* log.h - crawld's structured log.
 *
 * A record is: time, level (syslog priority), job id (0 = none), URL, error
 * code (0 = none) and a message. Each record at or above the level goes to:
 *  - the journal with fields (MESSAGE, PRIORITY, JOB_ID, URL, CRAWL_STATUS)
 *    when JOURNAL_STREAM says stderr is the journal (running under systemd);
 *    otherwise a JSON-lines file <log_dir>/crawld.log rotated by size;
 *  - stderr as a plain line when running in the foreground off systemd;
 *  - the store (so crawlctl logs can filter and follow it), when set;
 *  - every subscriber (crawlctl logs -f over the control socket).
 * Logging never fails the caller: a sink that fails is reported once on
 * stderr and skipped.
 */
#ifndef CRAWLD_LOG_H
#define CRAWLD_LOG_H

#include <stddef.h>
#include <stdint.h>

struct store;

struct dlog_record {
	int64_t id; /* store row id, 0 if not stored */
	double time;
	int level;
	int64_t job;
	const char *url;
	int code;
	const char *message;
};

typedef void (*dlog_sub_fn)(void *arg, const struct dlog_record *r);

struct dlog;

struct dlog_opts {
	const char *log_dir; /* NULL: no file */
	int level;           /* least severe kept (LOG_DEBUG = everything) */
	int64_t max_bytes;   /* rotate the file at this size */
	int keep;            /* rotated files kept */
	int to_stderr;       /* foreground: plain lines on stderr */
};

/* Opens the sinks. The journal is used instead of the file when
 * JOURNAL_STREAM is set. Errors: CRAWL_ENOMEM, CRAWL_ESYS (the log file
 * cannot be opened; err says why). */
int dlog_open(struct dlog **out, const struct dlog_opts *o, char *err, size_t errlen);
void dlog_close(struct dlog *l);
void dlog_set_level(struct dlog *l, int level);
/* The store to keep records in (borrowed; NULL to stop). */
void dlog_set_store(struct dlog *l, struct store *st);

void dlog(struct dlog *l, int level, int64_t job, const char *url, int code, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

/* Subscribers get every record logged (stored or not) until removed.
 * Errors: CRAWL_ENOMEM. */
int dlog_subscribe(struct dlog *l, dlog_sub_fn fn, void *arg);
void dlog_unsubscribe(struct dlog *l, dlog_sub_fn fn, void *arg);

/* "error", "warning", ... ; parse returns -1 for an unknown name. */
const char *dlog_level_name(int level);
int dlog_level_parse(const char *name);

#endif
