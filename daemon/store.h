/* store.h - crawld's durable state: jobs, results, checkpoints and logs in
 * one SQLite database (<state_dir>/crawld.db) in WAL mode.
 *
 * What survives what: every committed write survives a crash of the process
 * (kill -9); a power loss may lose the last transactions but never corrupts
 * the file (see the comment on synchronous in store.c). A result is keyed by
 * (job, url), so a page crawled again after a crash is never stored twice.
 *
 * Times are Unix seconds as doubles (CLOCK_REALTIME). Log levels are syslog
 * priorities (LOG_ERR=3 ... LOG_DEBUG=7). Job states are the strings
 * "queued", "running", "paused", "done", "failed", "cancelled"; the database
 * itself rejects any other (a CHECK constraint).
 *
 * Every function returns 0 or a negative code: CRAWL_ESTORE (SQLite failed;
 * store_errmsg says what and why), CRAWL_ENOMEM, CRAWL_ENOTFOUND (no such
 * job or checkpoint), CRAWL_EINVAL (a bad argument). Nothing prints.
 * A store belongs to one thread. Iterators may call other store functions
 * from their callback, but must not free the store.
 */
#ifndef CRAWLD_STORE_H
#define CRAWLD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The schema version this code writes (PRAGMA user_version). */
#define STORE_SCHEMA_VERSION 1

struct store;

/* A job row. From store_job_get / store_job_list; spec and error are
 * malloc'd (store_job_get: owned by the caller, free with store_job_clear;
 * store_job_list: owned by the store, valid during the callback only). */
struct store_job {
	int64_t id;
	char *spec;      /* the job's JSON spec as submitted */
	char state[16];  /* "queued" ... "cancelled" */
	int priority;
	double created;
	double started;  /* 0 if never started */
	double finished; /* 0 unless done, failed or cancelled */
	char *error;     /* why it failed, or NULL */
	int64_t pages;
	int64_t errors;
	int64_t bytes;
};

/* A result row: one fetched (or failed) page. Strings are not owned by the
 * store: store_result_add copies them; iterators hand out strings valid
 * during the callback only. NULL strings are stored as NULL. */
struct store_result {
	int64_t job;          /* ignored by store_result_add (its argument) */
	int64_t seq;          /* the caller's order of completion */
	const char *url;      /* required: the key within the job */
	const char *final_url;
	int status;           /* HTTP status, 0 if none */
	int depth;
	const char *referrer;
	const char *content_type;
	int64_t bytes;
	double fetch_ms;
	int links;
	const char *error;    /* message, or NULL */
	int error_code;       /* CRAWL_E* or 0 */
};

/* A checkpoint: opaque blobs the crawl engine wrote. From
 * store_checkpoint_get, owned by the caller (store_checkpoint_clear).
 * An empty blob is NULL with length 0. */
struct store_checkpoint {
	void *frontier;
	size_t frontier_len;
	void *seen;
	size_t seen_len;
	int64_t results_seq;
	double taken;
};

/* A log record; strings valid during the callback only. job 0: daemon. */
struct store_log {
	int64_t id;
	double time;
	int level;
	int64_t job;
	const char *url;     /* or NULL */
	int code;
	const char *message;
};

/* Which logs store_logs_iter returns; zero-initialised means all. */
struct store_log_filter {
	int64_t job;       /* only this job's records; 0 = every record */
	int min_level;     /* least severe kept, as a syslog priority: records
			    * with level <= min_level; 0 = every level */
	double since;      /* only records with time >= since; 0 = all */
	const char *grep;  /* substring of message or url (case-sensitive);
			    * NULL or "" = all; not kept */
	int64_t after_id;  /* only records with id > after_id (following) */
	int64_t limit;     /* at most this many records; 0 = no limit */
};

/* Callbacks of the iterators: return 0 to go on; any other value stops the
 * iteration and becomes the iterator's return value. */
typedef int (*store_job_cb)(void *arg, const struct store_job *job);
typedef int (*store_result_cb)(void *arg, const struct store_result *r);
typedef int (*store_log_cb)(void *arg, const struct store_log *rec);

/* Opens (creating if needed) the database at path, switches it to WAL and
 * creates or migrates the schema. path is not kept. On failure *out is NULL
 * and err (may be NULL) holds a message such as "crawld.db: file is not a
 * database". Errors: CRAWL_ESTORE (cannot open, not a database, schema
 * newer than this program), CRAWL_ENOMEM. */
int store_open(struct store **out, const char *path, char *err, size_t errlen);

/* Closes the database (a pending transaction is rolled back). NULL is
 * accepted. */
void store_close(struct store *st);

/* The message of the last failure of st ("" if none); owned by st, valid
 * until its next call. */
const char *store_errmsg(const struct store *st);

/* Batching: everything between begin and commit is one transaction (and one
 * disk sync). rollback undoes it. Errors: CRAWL_ESTORE (e.g. begin inside a
 * transaction, commit outside one). */
int store_begin(struct store *st);
int store_commit(struct store *st);
int store_rollback(struct store *st);

/* ---- jobs ---- */

/* Adds a "queued" job; spec_json is copied as text (not parsed). *id_out
 * gets its id (ids grow, never reused). */
int store_job_add(struct store *st, const char *spec_json, int priority,
		  int64_t *id_out);

/* Sets the state and error (NULL clears it). Entering "running" sets
 * started (once); entering done/failed/cancelled sets finished, any other
 * state clears it. A state outside the list fails the CHECK: CRAWL_ESTORE.
 * CRAWL_ENOTFOUND if there is no such job. */
int store_job_set_state(struct store *st, int64_t id, const char *state,
			const char *error);

/* Fills *out (overwritten; free with store_job_clear). CRAWL_ENOTFOUND. */
int store_job_get(struct store *st, int64_t id, struct store_job *out);

/* Frees the strings of job and zeroes it. NULL is accepted. */
void store_job_clear(struct store_job *job);

/* Calls cb for every job in id order. */
int store_job_list(struct store *st, store_job_cb cb, void *arg);

/* Sets the counters of a job. CRAWL_ENOTFOUND. */
int store_job_update_counts(struct store *st, int64_t id, int64_t pages,
			    int64_t errors, int64_t bytes);

/* Deletes a job with its results, checkpoint and logs. CRAWL_ENOTFOUND. */
int store_job_delete(struct store *st, int64_t id);

/* ---- results ---- */

/* INSERT OR IGNORE of r for job: *inserted (may be NULL) = 1 if it was new,
 * 0 if the job already had a result for r->url (the old one is kept).
 * CRAWL_EINVAL if r->url is NULL; CRAWL_ESTORE if the job does not exist
 * (a foreign key). */
int store_result_add(struct store *st, int64_t job, const struct store_result *r,
		     int *inserted);

/* Calls cb for every result of job in the order order_by: "url", "status",
 * "time" (fetch_ms), "size" (bytes), each ascending with ties by url, or
 * "seq" (completion order); NULL means "url". CRAWL_EINVAL for another. */
int store_results_iter(struct store *st, int64_t job, const char *order_by,
		       store_result_cb cb, void *arg);

/* *n = the number of results of job (0 for an unknown job). */
int store_result_count(struct store *st, int64_t job, int64_t *n);

/* ---- checkpoints ---- */

/* Replaces job's checkpoint with copies of the blobs (a NULL blob must have
 * length 0); taken = now. */
int store_checkpoint_put(struct store *st, int64_t job, const void *frontier,
			 size_t flen, const void *seen, size_t slen,
			 int64_t results_seq);

/* Fills *out with malloc'd copies (store_checkpoint_clear). CRAWL_ENOTFOUND
 * if job has no checkpoint. */
int store_checkpoint_get(struct store *st, int64_t job,
			 struct store_checkpoint *out);

/* Frees the blobs of cp and zeroes it. NULL is accepted. */
void store_checkpoint_clear(struct store_checkpoint *cp);

/* ---- logs ---- */

/* Appends a record. job 0 = the daemon's own; url may be NULL; message is
 * required (CRAWL_EINVAL). Copies everything. */
int store_log_add(struct store *st, double time, int level, int64_t job,
		  const char *url, int code, const char *message);

/* Calls cb for every record that passes filter (NULL = all), in id order. */
int store_logs_iter(struct store *st, const struct store_log_filter *filter,
		    store_log_cb cb, void *arg);

#endif
