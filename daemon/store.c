/* store.c - crawld's durable state in SQLite (see store.h). */
#include "store.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sqlite3.h>

/* How long a statement waits for a lock held by another connection (say a
 * `sqlite3` shell reading the file) before failing with "database is
 * locked". */
#define BUSY_TIMEOUT_MS 5000

/* The statements run often; prepared once, kept in the store. */
enum stmt_id {
	SQL_BEGIN,
	SQL_COMMIT,
	SQL_ROLLBACK,
	SQL_JOB_ADD,
	SQL_JOB_STATE,
	SQL_JOB_GET,
	SQL_JOB_COUNTS,
	SQL_JOB_DELETE,
	SQL_JOB_DELETE_LOGS,
	SQL_RESULT_ADD,
	SQL_RESULT_COUNT,
	SQL_CP_PUT,
	SQL_CP_GET,
	SQL_LOG_ADD,
	SQL_COUNT
};

static const char *const stmt_sql[SQL_COUNT] = {
	/* IMMEDIATE takes the write lock at once, so a batch never fails
	 * half-way because a reader upgraded first. */
	[SQL_BEGIN] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_JOB_ADD] = "INSERT INTO jobs(spec, state, priority, created) "
			"VALUES (?1, 'queued', ?2, ?3)",
	[SQL_JOB_STATE] =
		"UPDATE jobs SET state = ?2, error = ?3, "
		"started = CASE WHEN ?2 = 'running' THEN coalesce(started, ?4) "
		"ELSE started END, "
		"finished = CASE WHEN ?2 IN ('done', 'failed', 'cancelled') "
		"THEN ?4 ELSE NULL END WHERE id = ?1",
	[SQL_JOB_GET] = "SELECT id, spec, state, priority, created, started, "
			"finished, error, pages, errors, bytes FROM jobs "
			"WHERE id = ?1",
	[SQL_JOB_COUNTS] = "UPDATE jobs SET pages = ?2, errors = ?3, bytes = ?4 "
			   "WHERE id = ?1",
	[SQL_JOB_DELETE] = "DELETE FROM jobs WHERE id = ?1",
	[SQL_JOB_DELETE_LOGS] = "DELETE FROM logs WHERE job = ?1",
	[SQL_RESULT_ADD] =
		"INSERT OR IGNORE INTO results(job, seq, url, final_url, status, "
		"depth, referrer, content_type, bytes, fetch_ms, links, error, "
		"error_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, "
		"?11, ?12, ?13)",
	[SQL_RESULT_COUNT] = "SELECT count(*) FROM results WHERE job = ?1",
	[SQL_CP_PUT] = "INSERT OR REPLACE INTO checkpoints(job, frontier, seen, "
		       "taken, results_seq) VALUES (?1, ?2, ?3, ?4, ?5)",
	[SQL_CP_GET] = "SELECT frontier, seen, taken, results_seq FROM "
		       "checkpoints WHERE job = ?1",
	[SQL_LOG_ADD] = "INSERT INTO logs(time, level, job, url, code, message) "
			"VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
};

/* Schema version 1. results and checkpoints belong to their job (deleted
 * with it); logs do not reference jobs, so that logging never fails. Ids
 * are AUTOINCREMENT: never reused, so `logs --follow` (after_id) and job
 * ids stay unambiguous even after deletions. */
static const char schema_v1[] =
	"CREATE TABLE jobs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" spec TEXT NOT NULL,"
	" state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'paused',"
	"  'done', 'failed', 'cancelled')),"
	" priority INT NOT NULL DEFAULT 0,"
	" created REAL NOT NULL, started REAL, finished REAL, error TEXT,"
	" pages INT NOT NULL DEFAULT 0, errors INT NOT NULL DEFAULT 0,"
	" bytes INT NOT NULL DEFAULT 0);"
	"CREATE TABLE results ("
	" job INT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
	" seq INT, url TEXT NOT NULL, final_url TEXT, status INT, depth INT,"
	" referrer TEXT, content_type TEXT, bytes INT, fetch_ms REAL,"
	" links INT, error TEXT, error_code INT,"
	" PRIMARY KEY (job, url));"
	"CREATE TABLE checkpoints ("
	" job INTEGER PRIMARY KEY REFERENCES jobs(id) ON DELETE CASCADE,"
	" frontier BLOB, seen BLOB, taken REAL NOT NULL, results_seq INT);"
	"CREATE TABLE logs ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time REAL NOT NULL, level INT NOT NULL, job INT NOT NULL DEFAULT 0,"
	" url TEXT, code INT NOT NULL DEFAULT 0, message TEXT NOT NULL);"
	"CREATE INDEX logs_job ON logs (job, id);";

/* migrations[v] takes the schema from version v to v + 1. A new version
 * appends its step here and bumps STORE_SCHEMA_VERSION. */
static const char *const migrations[STORE_SCHEMA_VERSION] = { schema_v1 };

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_COUNT];
	char err[512];
};

static double now_unix(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records "what: sqlite's message" and maps the SQLite code. */
static int fail(struct store *st, int sqlite_rc, const char *what)
{
	snprintf(st->err, sizeof st->err, "%s: %s", what,
		 st->db ? sqlite3_errmsg(st->db) : sqlite3_errstr(sqlite_rc));
	return (sqlite_rc & 0xff) == SQLITE_NOMEM ? CRAWL_ENOMEM : CRAWL_ESTORE;
}

const char *store_errmsg(const struct store *st)
{
	return st ? st->err : "no store";
}

/* The cached statement id, reset and ready for binding. */
static int stmt_get(struct store *st, enum stmt_id id, sqlite3_stmt **out)
{
	int rc;

	if (!st->stmt[id]) {
		rc = sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
					SQLITE_PREPARE_PERSISTENT, &st->stmt[id],
					NULL);
		if (rc != SQLITE_OK)
			return fail(st, rc, "preparing a statement");
	}
	*out = st->stmt[id];
	return 0;
}

/* Resets s so that it holds no lock and no bound pointer. */
static void stmt_done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

/* Steps a statement that returns no row. */
static int stmt_exec(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	stmt_done(s);
	return rc == SQLITE_DONE ? 0 : fail(st, rc, what);
}

static int bind_text(sqlite3_stmt *s, int i, const char *text)
{
	return text ? sqlite3_bind_text(s, i, text, -1, SQLITE_STATIC)
		    : sqlite3_bind_null(s, i);
}

/* A text or blob did not bind (too big for SQLite): s is reset. */
static int bind_fail(struct store *st, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_errcode(st->db);

	stmt_done(s);
	return fail(st, rc == SQLITE_OK ? SQLITE_TOOBIG : rc, what);
}

/* Runs one cached statement with no parameters and no row. */
static int run_simple(struct store *st, enum stmt_id id, const char *what)
{
	sqlite3_stmt *s;
	int rc = stmt_get(st, id, &s);

	return rc ? rc : stmt_exec(st, s, what);
}

int store_begin(struct store *st)
{
	return run_simple(st, SQL_BEGIN, "beginning a transaction");
}

int store_commit(struct store *st)
{
	return run_simple(st, SQL_COMMIT, "committing");
}

int store_rollback(struct store *st)
{
	return run_simple(st, SQL_ROLLBACK, "rolling back");
}

/* ---- opening ------------------------------------------------------------ */

static int exec_sql(struct store *st, const char *sql, const char *what)
{
	int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : fail(st, rc, what);
}

/* Runs a one-row query and copies its first column as text into buf. */
static int query_text(struct store *st, const char *sql, char *buf, size_t len,
		      const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);

	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		snprintf(buf, len, "%s", t ? (const char *)t : "");
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_OK)
		rc = fail(st, rc, what);
	sqlite3_finalize(s);
	return rc;
}

static int migrate(struct store *st)
{
	char text[64];
	long version;
	int rc;

	if ((rc = query_text(st, "PRAGMA user_version", text, sizeof text,
			     "reading the schema version")))
		return rc;
	version = strtol(text, NULL, 10);
	if (version < 0 || version > STORE_SCHEMA_VERSION) {
		snprintf(st->err, sizeof st->err, "the database has schema "
			 "version %ld, newer than this crawld's (%d)", version,
			 STORE_SCHEMA_VERSION);
		return CRAWL_ESTORE;
	}
	for (; version < STORE_SCHEMA_VERSION; version++) {
		snprintf(text, sizeof text, "PRAGMA user_version = %ld", version + 1);
		if ((rc = store_begin(st)) ||
		    (rc = exec_sql(st, migrations[version], "creating the schema")) ||
		    (rc = exec_sql(st, text, "setting the schema version")) ||
		    (rc = store_commit(st))) {
			sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
			return rc;
		}
	}
	return 0;
}

/* Connection settings, then the schema. */
static int setup(struct store *st)
{
	char mode[16];
	int rc;

	sqlite3_extended_result_codes(st->db, 1);
	sqlite3_busy_timeout(st->db, BUSY_TIMEOUT_MS);
	if ((rc = exec_sql(st, "PRAGMA foreign_keys = ON", "enabling foreign keys")) ||
	    (rc = query_text(st, "PRAGMA journal_mode = WAL", mode, sizeof mode,
			     "switching to WAL")))
		return rc;
	if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0) {
		snprintf(st->err, sizeof st->err, "switching to WAL: the "
			 "journal mode stayed '%s'", mode);
		return CRAWL_ESTORE;
	}
	/* WAL with synchronous=NORMAL syncs the WAL only at checkpoints, not
	 * at each commit. A committed transaction is in the WAL file, i.e. in
	 * the kernel's page cache, before COMMIT returns, so it survives the
	 * process being killed (kill -9, a crash, the OOM killer) - which is
	 * what crawld promises. Only a power loss or kernel crash can lose the
	 * last commits, and even then the database stays consistent. FULL
	 * would add an fsync per commit (milliseconds each) for that case. */
	if ((rc = exec_sql(st, "PRAGMA synchronous = NORMAL",
			   "setting synchronous")))
		return rc;
	return migrate(st);
}

int store_open(struct store **out, const char *path, char *err, size_t errlen)
{
	struct store *st;
	int rc;

	*out = NULL;
	if (!(st = calloc(1, sizeof *st)))
		return CRAWL_ENOMEM;
	rc = sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE |
			     SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	rc = rc == SQLITE_OK ? setup(st) : fail(st, rc, "opening");
	if (rc) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, st->err);
		store_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void store_close(struct store *st)
{
	if (!st)
		return;
	for (int i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	/* Everything is finalized, so close cannot fail with SQLITE_BUSY;
	 * a transaction still open is rolled back. */
	sqlite3_close(st->db);
	free(st);
}

/* ---- jobs --------------------------------------------------------------- */

int store_job_add(struct store *st, const char *spec_json, int priority,
		  int64_t *id_out)
{
	sqlite3_stmt *s;
	int rc;

	if (!spec_json)
		return CRAWL_EINVAL;
	if ((rc = stmt_get(st, SQL_JOB_ADD, &s)))
		return rc;
	if (bind_text(s, 1, spec_json))
		return bind_fail(st, s, "adding a job");
	sqlite3_bind_int(s, 2, priority);
	sqlite3_bind_double(s, 3, now_unix());
	if ((rc = stmt_exec(st, s, "adding a job")))
		return rc;
	if (id_out)
		*id_out = sqlite3_last_insert_rowid(st->db);
	return 0;
}

/* An UPDATE or DELETE of one job: CRAWL_ENOTFOUND if it touched nothing. */
static int exec_job_change(struct store *st, sqlite3_stmt *s, int64_t id,
			   const char *what)
{
	int rc = stmt_exec(st, s, what);

	if (rc == 0 && sqlite3_changes(st->db) == 0) {
		snprintf(st->err, sizeof st->err, "%s: no job %lld", what,
			 (long long)id);
		return CRAWL_ENOTFOUND;
	}
	return rc;
}

int store_job_set_state(struct store *st, int64_t id, const char *state,
			const char *error)
{
	sqlite3_stmt *s;
	int rc;

	if (!state)
		return CRAWL_EINVAL;
	if ((rc = stmt_get(st, SQL_JOB_STATE, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_double(s, 4, now_unix());
	if (bind_text(s, 2, state) || bind_text(s, 3, error))
		return bind_fail(st, s, "setting a job's state");
	return exec_job_change(st, s, id, "setting a job's state");
}

int store_job_update_counts(struct store *st, int64_t id, int64_t pages,
			    int64_t errors, int64_t bytes)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = stmt_get(st, SQL_JOB_COUNTS, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	sqlite3_bind_int64(s, 2, pages);
	sqlite3_bind_int64(s, 3, errors);
	sqlite3_bind_int64(s, 4, bytes);
	return exec_job_change(st, s, id, "updating a job's counts");
}

int store_job_delete(struct store *st, int64_t id)
{
	sqlite3_stmt *logs, *job;
	int rc;

	if ((rc = stmt_get(st, SQL_JOB_DELETE_LOGS, &logs)) ||
	    (rc = stmt_get(st, SQL_JOB_DELETE, &job)))
		return rc;
	/* A savepoint works both inside and outside a caller's batch. */
	if ((rc = exec_sql(st, "SAVEPOINT job_delete", "deleting a job")))
		return rc;
	sqlite3_bind_int64(logs, 1, id);
	sqlite3_bind_int64(job, 1, id);
	if ((rc = stmt_exec(st, logs, "deleting a job's logs")) ||
	    (rc = exec_job_change(st, job, id, "deleting a job"))) {
		sqlite3_exec(st->db, "ROLLBACK TO job_delete; RELEASE job_delete",
			     NULL, NULL, NULL);
		return rc;
	}
	return exec_sql(st, "RELEASE job_delete", "deleting a job");
}

/* *out = a malloc'd copy of column i, NULL for SQL NULL. */
static int column_strdup(sqlite3_stmt *s, int i, char **out)
{
	const unsigned char *t = sqlite3_column_text(s, i);

	*out = NULL;
	if (!t)
		return sqlite3_column_type(s, i) == SQLITE_NULL ? 0 : CRAWL_ENOMEM;
	return (*out = strdup((const char *)t)) ? 0 : CRAWL_ENOMEM;
}

/* Fills job from a row of "SELECT id, spec, state, ..." (the order of
 * SQL_JOB_GET); the strings are malloc'd. */
static int job_from_row(sqlite3_stmt *s, struct store_job *job)
{
	const unsigned char *state = sqlite3_column_text(s, 2);
	int rc;

	memset(job, 0, sizeof *job);
	job->id = sqlite3_column_int64(s, 0);
	snprintf(job->state, sizeof job->state, "%s", state ? (const char *)state : "");
	job->priority = sqlite3_column_int(s, 3);
	job->created = sqlite3_column_double(s, 4);
	job->started = sqlite3_column_double(s, 5);
	job->finished = sqlite3_column_double(s, 6);
	job->pages = sqlite3_column_int64(s, 8);
	job->errors = sqlite3_column_int64(s, 9);
	job->bytes = sqlite3_column_int64(s, 10);
	if ((rc = column_strdup(s, 1, &job->spec)) ||
	    (rc = column_strdup(s, 7, &job->error)))
		store_job_clear(job);
	return rc;
}

void store_job_clear(struct store_job *job)
{
	if (!job)
		return;
	free(job->spec);
	free(job->error);
	memset(job, 0, sizeof *job);
}

int store_job_get(struct store *st, int64_t id, struct store_job *out)
{
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = stmt_get(st, SQL_JOB_GET, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		rc = job_from_row(s, out);
	else if (rc == SQLITE_DONE)
		rc = CRAWL_ENOTFOUND;
	else
		rc = fail(st, rc, "reading a job");
	if (rc == CRAWL_ENOTFOUND)
		snprintf(st->err, sizeof st->err, "no job %lld", (long long)id);
	stmt_done(s);
	return rc;
}

/* Iterations use their own statement, prepared per call, so a callback may
 * use any other store function, even start another iteration. */
static int iter_prepare(struct store *st, const char *sql, sqlite3_stmt **out)
{
	int rc = sqlite3_prepare_v2(st->db, sql, -1, out, NULL);

	return rc == SQLITE_OK ? 0 : fail(st, rc, "preparing a query");
}

/* The caller's callback of an iteration. */
struct iter_cb {
	union {
		store_job_cb job;
		store_result_cb result;
		store_log_cb log;
	} fn;
	void *arg;
};

/* Steps s to its end (and finalizes it); row_cb turns each row into a call
 * of the caller's callback. */
static int iter_run(struct store *st, sqlite3_stmt *s,
		    int (*row_cb)(sqlite3_stmt *s, const struct iter_cb *cb),
		    const struct iter_cb *cb)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int stop = row_cb(s, cb);

		if (stop) {
			sqlite3_finalize(s);
			return stop;
		}
	}
	rc = rc == SQLITE_DONE ? 0 : fail(st, rc, "reading rows");
	sqlite3_finalize(s);
	return rc;
}

static int job_row(sqlite3_stmt *s, const struct iter_cb *cb)
{
	struct store_job job;
	int rc;

	if ((rc = job_from_row(s, &job)))
		return rc;
	rc = cb->fn.job(cb->arg, &job);
	store_job_clear(&job);
	return rc;
}

int store_job_list(struct store *st, store_job_cb cb, void *arg)
{
	struct iter_cb it = { .fn.job = cb, .arg = arg };
	sqlite3_stmt *s;
	int rc = iter_prepare(st, "SELECT id, spec, state, priority, created, "
			      "started, finished, error, pages, errors, bytes "
			      "FROM jobs ORDER BY id", &s);

	return rc ? rc : iter_run(st, s, job_row, &it);
}

/* ---- results ------------------------------------------------------------ */

int store_result_add(struct store *st, int64_t job, const struct store_result *r,
		     int *inserted)
{
	sqlite3_stmt *s;
	int rc;

	if (!r || !r->url)
		return CRAWL_EINVAL;
	if ((rc = stmt_get(st, SQL_RESULT_ADD, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, job);
	sqlite3_bind_int64(s, 2, r->seq);
	sqlite3_bind_int(s, 5, r->status);
	sqlite3_bind_int(s, 6, r->depth);
	sqlite3_bind_int64(s, 9, r->bytes);
	sqlite3_bind_double(s, 10, r->fetch_ms);
	sqlite3_bind_int(s, 11, r->links);
	sqlite3_bind_int(s, 13, r->error_code);
	if (bind_text(s, 3, r->url) || bind_text(s, 4, r->final_url) ||
	    bind_text(s, 7, r->referrer) || bind_text(s, 8, r->content_type) ||
	    bind_text(s, 12, r->error))
		return bind_fail(st, s, "adding a result");
	if ((rc = stmt_exec(st, s, "adding a result")))
		return rc;
	if (inserted)
		*inserted = sqlite3_changes(st->db) > 0;
	return 0;
}

static const char *column_str(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

static int result_row(sqlite3_stmt *s, const struct iter_cb *cb)
{
	struct store_result r = {
		.job = sqlite3_column_int64(s, 0),
		.seq = sqlite3_column_int64(s, 1),
		.url = column_str(s, 2),
		.final_url = column_str(s, 3),
		.status = sqlite3_column_int(s, 4),
		.depth = sqlite3_column_int(s, 5),
		.referrer = column_str(s, 6),
		.content_type = column_str(s, 7),
		.bytes = sqlite3_column_int64(s, 8),
		.fetch_ms = sqlite3_column_double(s, 9),
		.links = sqlite3_column_int(s, 10),
		.error = column_str(s, 11),
		.error_code = sqlite3_column_int(s, 12),
	};

	return cb->fn.result(cb->arg, &r);
}

int store_results_iter(struct store *st, int64_t job, const char *order_by,
		       store_result_cb cb, void *arg)
{
	static const char *const orders[][2] = {
		{ "url", "url" },          { "status", "status, url" },
		{ "time", "fetch_ms, url" }, { "size", "bytes, url" },
		{ "seq", "seq, url" },
	};
	struct iter_cb it = { .fn.result = cb, .arg = arg };
	const char *order = NULL;
	char sql[256];
	sqlite3_stmt *s;
	int rc;

	for (size_t i = 0; i < sizeof orders / sizeof orders[0]; i++)
		if (!strcmp(order_by ? order_by : "url", orders[i][0]))
			order = orders[i][1];
	if (!order)
		return CRAWL_EINVAL;
	snprintf(sql, sizeof sql, "SELECT job, seq, url, final_url, status, "
		 "depth, referrer, content_type, bytes, fetch_ms, links, error, "
		 "error_code FROM results WHERE job = ?1 ORDER BY %s", order);
	if ((rc = iter_prepare(st, sql, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, job);
	return iter_run(st, s, result_row, &it);
}

int store_result_count(struct store *st, int64_t job, int64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	if ((rc = stmt_get(st, SQL_RESULT_COUNT, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, job);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*n = sqlite3_column_int64(s, 0);
		rc = 0;
	} else {
		rc = fail(st, rc, "counting results");
	}
	stmt_done(s);
	return rc;
}

/* ---- checkpoints -------------------------------------------------------- */

static int bind_blob(sqlite3_stmt *s, int i, const void *p, size_t len)
{
	return len ? sqlite3_bind_blob64(s, i, p, len, SQLITE_STATIC)
		   : sqlite3_bind_null(s, i);
}

int store_checkpoint_put(struct store *st, int64_t job, const void *frontier,
			 size_t flen, const void *seen, size_t slen,
			 int64_t results_seq)
{
	sqlite3_stmt *s;
	int rc;

	if ((flen && !frontier) || (slen && !seen))
		return CRAWL_EINVAL;
	if ((rc = stmt_get(st, SQL_CP_PUT, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, job);
	sqlite3_bind_double(s, 4, now_unix());
	sqlite3_bind_int64(s, 5, results_seq);
	if (bind_blob(s, 2, frontier, flen) || bind_blob(s, 3, seen, slen))
		return bind_fail(st, s, "saving a checkpoint");
	return stmt_exec(st, s, "saving a checkpoint");
}

/* *out = a malloc'd copy of blob column i (NULL if empty). */
static int column_blobdup(sqlite3_stmt *s, int i, void **out, size_t *len)
{
	const void *p = sqlite3_column_blob(s, i);
	int n = sqlite3_column_bytes(s, i);

	*out = NULL;
	*len = 0;
	if (n <= 0)
		return 0;
	if (!p || !(*out = malloc((size_t)n)))
		return CRAWL_ENOMEM;
	memcpy(*out, p, (size_t)n);
	*len = (size_t)n;
	return 0;
}

int store_checkpoint_get(struct store *st, int64_t job,
			 struct store_checkpoint *out)
{
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof *out);
	if ((rc = stmt_get(st, SQL_CP_GET, &s)))
		return rc;
	sqlite3_bind_int64(s, 1, job);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		out->taken = sqlite3_column_double(s, 2);
		out->results_seq = sqlite3_column_int64(s, 3);
		if ((rc = column_blobdup(s, 0, &out->frontier, &out->frontier_len)) ||
		    (rc = column_blobdup(s, 1, &out->seen, &out->seen_len)))
			store_checkpoint_clear(out);
	} else if (rc == SQLITE_DONE) {
		snprintf(st->err, sizeof st->err, "no checkpoint of job %lld",
			 (long long)job);
		rc = CRAWL_ENOTFOUND;
	} else {
		rc = fail(st, rc, "reading a checkpoint");
	}
	stmt_done(s);
	return rc;
}

void store_checkpoint_clear(struct store_checkpoint *cp)
{
	if (!cp)
		return;
	free(cp->frontier);
	free(cp->seen);
	memset(cp, 0, sizeof *cp);
}

/* ---- logs --------------------------------------------------------------- */

int store_log_add(struct store *st, double time, int level, int64_t job,
		  const char *url, int code, const char *message)
{
	sqlite3_stmt *s;
	int rc;

	if (!message)
		return CRAWL_EINVAL;
	if ((rc = stmt_get(st, SQL_LOG_ADD, &s)))
		return rc;
	sqlite3_bind_double(s, 1, time);
	sqlite3_bind_int(s, 2, level);
	sqlite3_bind_int64(s, 3, job);
	sqlite3_bind_int(s, 5, code);
	if (bind_text(s, 4, url) || bind_text(s, 6, message))
		return bind_fail(st, s, "adding a log record");
	return stmt_exec(st, s, "adding a log record");
}

static int log_row(sqlite3_stmt *s, const struct iter_cb *cb)
{
	struct store_log rec = {
		.id = sqlite3_column_int64(s, 0),
		.time = sqlite3_column_double(s, 1),
		.level = sqlite3_column_int(s, 2),
		.job = sqlite3_column_int64(s, 3),
		.url = column_str(s, 4),
		.code = sqlite3_column_int(s, 5),
		.message = column_str(s, 6),
	};

	return cb->fn.log(cb->arg, &rec);
}

int store_logs_iter(struct store *st, const struct store_log_filter *filter,
		    store_log_cb cb, void *arg)
{
	/* Two texts so that a job's records come from the (job, id) index. */
	static const char head[] = "SELECT id, time, level, job, url, code, "
				   "message FROM logs WHERE ";
	static const char tail[] =
		"(?2 <= 0 OR level <= ?2) AND time >= ?3 AND id > ?4 AND "
		"(?5 IS NULL OR instr(message, ?5) > 0 OR instr(url, ?5) > 0) "
		"ORDER BY id LIMIT ?6";
	const struct store_log_filter all = { 0 }, *f = filter ? filter : &all;
	struct iter_cb it = { .fn.log = cb, .arg = arg };
	char sql[sizeof head + sizeof tail + 16];
	sqlite3_stmt *s;
	int rc;

	snprintf(sql, sizeof sql, "%s%s%s", head, f->job ? "job = ?1 AND " : "",
		 tail);
	if ((rc = iter_prepare(st, sql, &s)))
		return rc;
	if (f->job)
		sqlite3_bind_int64(s, 1, f->job);
	sqlite3_bind_int(s, 2, f->min_level);
	sqlite3_bind_double(s, 3, f->since);
	sqlite3_bind_int64(s, 4, f->after_id);
	sqlite3_bind_int64(s, 6, f->limit > 0 ? f->limit : -1);
	if (bind_text(s, 5, f->grep && *f->grep ? f->grep : NULL)) {
		rc = fail(st, SQLITE_TOOBIG, "reading logs");
		sqlite3_finalize(s);
		return rc;
	}
	return iter_run(st, s, log_row, &it);
}
