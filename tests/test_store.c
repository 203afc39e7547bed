/* test_store.c - daemon/store (SQLite state) and daemon/results_file
 * (JSON lines kept in step with the store across crashes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <sqlite3.h>

#include "results_file.h"
#include "store.h"

struct fixture {
	char dir[64];
	char db[128];
	char jsonl[128];
	struct store *st;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char err[256];

	if (!f)
		return -1;
	strcpy(f->dir, "/tmp/test_store.XXXXXX");
	if (!mkdtemp(f->dir))
		goto fail;
	snprintf(f->db, sizeof f->db, "%s/crawld.db", f->dir);
	snprintf(f->jsonl, sizeof f->jsonl, "%s/job-1.jsonl", f->dir);
	if (store_open(&f->st, f->db, err, sizeof err) != 0)
		goto fail;
	*state = f;
	return 0;
fail:
	free(f);
	return -1;
}

static int remove_entry(const char *path, const struct stat *sb, int type,
			struct FTW *ftw)
{
	(void)sb, (void)type, (void)ftw;
	return remove(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->st);
	nftw(f->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* The file's whole content, malloc'd (NULL if it cannot be read). */
static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 &&
	    fseek(fp, 0, SEEK_SET) == 0 && (buf = calloc(1, (size_t)n + 1)) &&
	    fread(buf, 1, (size_t)n, fp) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	return buf;
}

static void spew(const char *path, const void *data, size_t n)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static int64_t add_job(struct fixture *f, const char *spec, int priority)
{
	int64_t id = 0;

	assert_int_equal(store_job_add(f->st, spec, priority, &id), 0);
	return id;
}

static void add_result(struct fixture *f, int64_t job, int64_t seq,
		       const char *url, int status, double ms, int64_t bytes)
{
	struct store_result r = {
		.seq = seq, .url = url, .status = status, .fetch_ms = ms,
		.bytes = bytes, .depth = 1, .content_type = "text/html",
	};
	int inserted = -1;

	assert_int_equal(store_result_add(f->st, job, &r, &inserted), 0);
	assert_int_equal(inserted, 1);
}

/* ---- jobs --------------------------------------------------------------- */

static void test_job_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct store_job job;
	int64_t a = add_job(f, "{\"seeds\":[\"http://a/\"]}", 5);
	int64_t b = add_job(f, "{}", 0);

	assert_int_equal(a, 1);
	assert_int_equal(b, 2);
	assert_int_equal(store_job_get(f->st, a, &job), 0);
	assert_int_equal(job.id, a);
	assert_string_equal(job.spec, "{\"seeds\":[\"http://a/\"]}");
	assert_string_equal(job.state, "queued");
	assert_int_equal(job.priority, 5);
	assert_true(job.created > 1.6e9);
	assert_true(job.started == 0 && job.finished == 0);
	assert_null(job.error);
	store_job_clear(&job);

	assert_int_equal(store_job_set_state(f->st, a, "running", NULL), 0);
	assert_int_equal(store_job_get(f->st, a, &job), 0);
	assert_string_equal(job.state, "running");
	assert_true(job.started >= job.created && job.finished == 0);
	store_job_clear(&job);

	assert_int_equal(store_job_set_state(f->st, a, "failed", "robots.txt "
					     "unreachable"), 0);
	assert_int_equal(store_job_update_counts(f->st, a, 10, 2, 4096), 0);
	assert_int_equal(store_job_get(f->st, a, &job), 0);
	assert_string_equal(job.state, "failed");
	assert_string_equal(job.error, "robots.txt unreachable");
	assert_true(job.finished >= job.started);
	assert_int_equal(job.pages, 10);
	assert_int_equal(job.errors, 2);
	assert_int_equal(job.bytes, 4096);
	store_job_clear(&job);

	/* Queued again (a restart): finished is cleared, started kept. */
	assert_int_equal(store_job_set_state(f->st, a, "queued", NULL), 0);
	assert_int_equal(store_job_get(f->st, a, &job), 0);
	assert_true(job.finished == 0 && job.started > 0);
	assert_null(job.error);
	store_job_clear(&job);
	store_job_clear(NULL);
}

static void test_job_bad_state_and_missing(void **state)
{
	struct fixture *f = *state;
	struct store_job job;
	int64_t a = add_job(f, "{}", 0);

	assert_int_equal(store_job_set_state(f->st, a, "sleeping", NULL),
			 CRAWL_ESTORE);
	assert_non_null(strstr(store_errmsg(f->st), "CHECK constraint failed"));
	assert_int_equal(store_job_get(f->st, a, &job), 0);
	assert_string_equal(job.state, "queued");
	store_job_clear(&job);

	assert_int_equal(store_job_set_state(f->st, 99, "done", NULL),
			 CRAWL_ENOTFOUND);
	assert_int_equal(store_job_get(f->st, 99, &job), CRAWL_ENOTFOUND);
	assert_string_equal(store_errmsg(f->st), "no job 99");
	assert_null(job.spec);
	assert_int_equal(store_job_update_counts(f->st, 99, 1, 1, 1),
			 CRAWL_ENOTFOUND);
	assert_int_equal(store_job_delete(f->st, 99), CRAWL_ENOTFOUND);
	assert_int_equal(store_job_set_state(f->st, a, NULL, NULL), CRAWL_EINVAL);
	assert_int_equal(store_job_add(f->st, NULL, 0, NULL), CRAWL_EINVAL);
}

struct job_seen {
	int64_t ids[8];
	char states[8][16];
	int n;
	int stop_at;
	struct store *st;
};

static int collect_job(void *arg, const struct store_job *job)
{
	struct job_seen *s = arg;

	s->ids[s->n] = job->id;
	strcpy(s->states[s->n], job->state);
	s->n++;
	/* Other store calls from inside the iteration work. */
	if (s->st && store_job_set_state(s->st, job->id, "paused", NULL) != 0)
		return -1000;
	return s->n == s->stop_at ? 42 : 0;
}

static void test_job_list(void **state)
{
	struct fixture *f = *state;
	struct job_seen seen = { .stop_at = 0 };

	for (int i = 0; i < 4; i++)
		add_job(f, "{}", i);
	assert_int_equal(store_job_set_state(f->st, 3, "done", NULL), 0);
	assert_int_equal(store_job_list(f->st, collect_job, &seen), 0);
	assert_int_equal(seen.n, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(seen.ids[i], i + 1);
	assert_string_equal(seen.states[2], "done");
	assert_string_equal(seen.states[3], "queued");
	/* A callback's non-zero value stops the iteration and comes back. */
	seen = (struct job_seen){ .stop_at = 2, .st = f->st };
	assert_int_equal(store_job_list(f->st, collect_job, &seen), 42);
	assert_int_equal(seen.n, 2);
	seen = (struct job_seen){ .stop_at = 0 };
	assert_int_equal(store_job_list(f->st, collect_job, &seen), 0);
	assert_string_equal(seen.states[0], "paused");
	assert_string_equal(seen.states[1], "paused");
	assert_string_equal(seen.states[3], "queued");
}

/* ---- results ------------------------------------------------------------ */

static void test_results_once(void **state)
{
	struct fixture *f = *state;
	int64_t job = add_job(f, "{}", 0), n = -1;
	struct store_result r = { .seq = 9, .url = "http://a/", .status = 500 };
	int inserted = -1;

	add_result(f, job, 1, "http://a/", 200, 3.5, 100);
	assert_int_equal(store_result_add(f->st, job, &r, &inserted), 0);
	assert_int_equal(inserted, 0);
	assert_int_equal(store_result_count(f->st, job, &n), 0);
	assert_int_equal(n, 1);
	/* The same url in another job is another result. */
	add_result(f, add_job(f, "{}", 0), 1, "http://a/", 200, 1, 1);
	assert_int_equal(store_result_count(f->st, job, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_result_count(f->st, 77, &n), 0);
	assert_int_equal(n, 0);
	/* Bad input: no url; a job that does not exist (foreign key). */
	r.url = NULL;
	assert_int_equal(store_result_add(f->st, job, &r, &inserted), CRAWL_EINVAL);
	r.url = "http://b/";
	assert_int_equal(store_result_add(f->st, 77, &r, &inserted), CRAWL_ESTORE);
	assert_non_null(strstr(store_errmsg(f->st), "FOREIGN KEY"));
}

struct urls {
	char list[8][32];
	int n;
	int64_t bytes0;
	const char *ctype0;
};

static int collect_url(void *arg, const struct store_result *r)
{
	struct urls *u = arg;

	if (u->n == 0) {
		u->bytes0 = r->bytes;
		u->ctype0 = r->content_type ? "text/html" : NULL;
	}
	snprintf(u->list[u->n++], sizeof u->list[0], "%s", r->url);
	return 0;
}

/* Asserts the urls of job in order_by's order, given as "a b c d". */
static void assert_order(struct fixture *f, int64_t job, const char *order_by,
			 const char *want)
{
	struct urls u = { .n = 0 };
	char got[256] = "";

	assert_int_equal(store_results_iter(f->st, job, order_by, collect_url, &u), 0);
	for (int i = 0; i < u.n; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s",
			 i ? " " : "", u.list[i]);
	assert_string_equal(got, want);
}

static void test_results_order(void **state)
{
	struct fixture *f = *state;
	int64_t job = add_job(f, "{}", 0);
	struct urls u = { .n = 0 };

	/*            seq url  status  ms    bytes */
	add_result(f, job, 1, "d", 404, 1.0, 300);
	add_result(f, job, 2, "b", 200, 9.0, 100);
	add_result(f, job, 3, "a", 404, 5.0, 300);
	add_result(f, job, 4, "c", 200, 1.0, 50);
	assert_order(f, job, "url", "a b c d");
	assert_order(f, job, NULL, "a b c d");
	assert_order(f, job, "status", "b c a d");
	assert_order(f, job, "time", "c d a b");
	assert_order(f, job, "size", "c b a d");
	assert_order(f, job, "seq", "d b a c");
	assert_order(f, 99, "url", "");
	assert_int_equal(store_results_iter(f->st, job, "url; DROP TABLE jobs",
					    collect_url, &u), CRAWL_EINVAL);
	assert_int_equal(u.n, 0);
	assert_int_equal(store_results_iter(f->st, job, "size", collect_url, &u), 0);
	assert_int_equal(u.bytes0, 50);
	assert_non_null(u.ctype0);
}

static void test_batch(void **state)
{
	struct fixture *f = *state;
	int64_t job = add_job(f, "{}", 0), n;
	char url[32];

	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_begin(f->st), CRAWL_ESTORE);
	for (int i = 0; i < 100; i++) {
		snprintf(url, sizeof url, "http://h/%d", i);
		add_result(f, job, i, url, 200, 1, 1);
	}
	assert_int_equal(store_rollback(f->st), 0);
	assert_int_equal(store_result_count(f->st, job, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_begin(f->st), 0);
	for (int i = 0; i < 100; i++) {
		snprintf(url, sizeof url, "http://h/%d", i);
		add_result(f, job, i, url, 200, 1, 1);
	}
	assert_int_equal(store_commit(f->st), 0);
	assert_int_equal(store_result_count(f->st, job, &n), 0);
	assert_int_equal(n, 100);
	assert_int_equal(store_commit(f->st), CRAWL_ESTORE);
	assert_non_null(strstr(store_errmsg(f->st), "no transaction is active"));
}

/* ---- checkpoints -------------------------------------------------------- */

static void test_checkpoint(void **state)
{
	struct fixture *f = *state;
	int64_t job = add_job(f, "{}", 0);
	unsigned char frontier[3000], seen[17] = "seen\0set\0bytes";
	struct store_checkpoint cp;

	for (size_t i = 0; i < sizeof frontier; i++)
		frontier[i] = (unsigned char)(i * 7);
	assert_int_equal(store_checkpoint_get(f->st, job, &cp), CRAWL_ENOTFOUND);
	assert_int_equal(store_checkpoint_put(f->st, job, frontier, sizeof frontier,
					      seen, sizeof seen, 41), 0);
	assert_int_equal(store_checkpoint_get(f->st, job, &cp), 0);
	assert_int_equal(cp.frontier_len, sizeof frontier);
	assert_memory_equal(cp.frontier, frontier, sizeof frontier);
	assert_int_equal(cp.seen_len, sizeof seen);
	assert_memory_equal(cp.seen, seen, sizeof seen);
	assert_int_equal(cp.results_seq, 41);
	assert_true(cp.taken > 1.6e9);
	store_checkpoint_clear(&cp);
	assert_null(cp.frontier);
	/* A newer one replaces it; empty blobs come back as NULL, 0. */
	assert_int_equal(store_checkpoint_put(f->st, job, NULL, 0, seen, 4, 50), 0);
	assert_int_equal(store_checkpoint_get(f->st, job, &cp), 0);
	assert_null(cp.frontier);
	assert_int_equal(cp.frontier_len, 0);
	assert_int_equal(cp.seen_len, 4);
	assert_int_equal(cp.results_seq, 50);
	store_checkpoint_clear(&cp);
	store_checkpoint_clear(NULL);
	assert_int_equal(store_checkpoint_put(f->st, job, NULL, 5, NULL, 0, 0),
			 CRAWL_EINVAL);
	assert_int_equal(store_checkpoint_put(f->st, 99, frontier, 1, NULL, 0, 0),
			 CRAWL_ESTORE);
}

/* ---- logs --------------------------------------------------------------- */

struct logs_seen {
	int64_t ids[16];
	int n;
};

static int collect_log(void *arg, const struct store_log *rec)
{
	struct logs_seen *s = arg;

	s->ids[s->n++] = rec->id;
	return 0;
}

/* Asserts the ids a filter selects, given as "1 2 3". */
static void assert_logs(struct fixture *f, const struct store_log_filter *flt,
			const char *want)
{
	struct logs_seen s = { .n = 0 };
	char got[128] = "";

	assert_int_equal(store_logs_iter(f->st, flt, collect_log, &s), 0);
	for (int i = 0; i < s.n; i++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld",
			 i ? " " : "", (long long)s.ids[i]);
	assert_string_equal(got, want);
}

static int check_first_log(void *arg, const struct store_log *rec)
{
	(void)arg;
	assert_int_equal(rec->id, 1);
	assert_true(rec->time == 100.0);
	assert_int_equal(rec->level, LOG_INFO);
	assert_int_equal(rec->job, 0);
	assert_null(rec->url);
	assert_int_equal(rec->code, 0);
	assert_string_equal(rec->message, "daemon started");
	return 1;
}

static void test_logs(void **state)
{
	struct fixture *f = *state;
	int64_t j1 = add_job(f, "{}", 0), j2 = add_job(f, "{}", 0);
	struct store_log_filter flt = { 0 };

	assert_int_equal(store_log_add(f->st, 100, LOG_INFO, 0, NULL, 0,
				       "daemon started"), 0);
	assert_int_equal(store_log_add(f->st, 101, LOG_DEBUG, j1, "http://a/x", 0,
				       "fetched"), 0);
	assert_int_equal(store_log_add(f->st, 102, LOG_WARNING, j1, "http://a/y",
				       CRAWL_ETIMEDOUT, "timed out"), 0);
	assert_int_equal(store_log_add(f->st, 103, LOG_ERR, j2, "http://b/",
				       CRAWL_EDNS, "could not resolve host"), 0);
	assert_int_equal(store_log_add(f->st, 104, LOG_INFO, j1, NULL, 0,
				       "job done"), 0);
	assert_int_equal(store_log_add(f->st, 105, LOG_NOTICE, 0, NULL, 0,
				       "reloaded"), 0);
	assert_int_equal(store_log_add(f->st, 1, LOG_INFO, 0, NULL, 0, NULL),
			 CRAWL_EINVAL);
	assert_int_equal(store_logs_iter(f->st, NULL, check_first_log, NULL), 1);
	assert_logs(f, &flt, "1 2 3 4 5 6");
	flt.job = j1;
	assert_logs(f, &flt, "2 3 5");
	flt = (struct store_log_filter){ .min_level = LOG_WARNING };
	assert_logs(f, &flt, "3 4");
	flt = (struct store_log_filter){ .min_level = LOG_INFO, .job = j1 };
	assert_logs(f, &flt, "3 5");
	flt = (struct store_log_filter){ .since = 103 };
	assert_logs(f, &flt, "4 5 6");
	flt = (struct store_log_filter){ .grep = "time" };   /* message */
	assert_logs(f, &flt, "3");
	flt = (struct store_log_filter){ .grep = "a/" };     /* url */
	assert_logs(f, &flt, "2 3");
	flt = (struct store_log_filter){ .grep = "%" };      /* not a pattern */
	assert_logs(f, &flt, "");
	flt = (struct store_log_filter){ .grep = "" };
	assert_logs(f, &flt, "1 2 3 4 5 6");
	flt = (struct store_log_filter){ .after_id = 4 };   /* following */
	assert_logs(f, &flt, "5 6");
	assert_int_equal(store_log_add(f->st, 106, LOG_INFO, j2, NULL, 0, "more"), 0);
	assert_logs(f, &flt, "5 6 7");
	flt = (struct store_log_filter){ .after_id = 1, .limit = 2 };
	assert_logs(f, &flt, "2 3");
	flt = (struct store_log_filter){ .job = j2, .after_id = 4 };
	assert_logs(f, &flt, "7");
}

static void test_job_delete(void **state)
{
	struct fixture *f = *state;
	int64_t a = add_job(f, "{}", 0), b = add_job(f, "{}", 0), n;
	struct store_checkpoint cp;
	struct store_log_filter flt = { 0 };

	add_result(f, a, 1, "http://a/", 200, 1, 1);
	add_result(f, b, 1, "http://b/", 200, 1, 1);
	assert_int_equal(store_checkpoint_put(f->st, a, "x", 1, NULL, 0, 1), 0);
	assert_int_equal(store_log_add(f->st, 1, LOG_INFO, a, NULL, 0, "a"), 0);
	assert_int_equal(store_log_add(f->st, 2, LOG_INFO, b, NULL, 0, "b"), 0);
	assert_int_equal(store_job_delete(f->st, a), 0);
	assert_int_equal(store_result_count(f->st, a, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_result_count(f->st, b, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(store_checkpoint_get(f->st, a, &cp), CRAWL_ENOTFOUND);
	assert_logs(f, &flt, "2");
	/* Ids are never reused. */
	assert_int_equal(add_job(f, "{}", 0), 3);
	/* Inside a caller's transaction too. */
	assert_int_equal(store_begin(f->st), 0);
	assert_int_equal(store_job_delete(f->st, b), 0);
	assert_int_equal(store_job_delete(f->st, b), CRAWL_ENOTFOUND);
	assert_int_equal(store_rollback(f->st), 0);
	assert_int_equal(store_result_count(f->st, b, &n), 0);
	assert_int_equal(n, 1);
}

/* ---- the file ----------------------------------------------------------- */

static void test_reopen(void **state)
{
	struct fixture *f = *state;
	int64_t job = add_job(f, "{\"x\":1}", 3), n;
	struct store_log_filter flt = { 0 };
	struct store_checkpoint cp;
	struct store_job j;
	char err[256];

	assert_int_equal(store_job_set_state(f->st, job, "running", NULL), 0);
	add_result(f, job, 1, "http://a/", 200, 1, 1);
	add_result(f, job, 2, "http://b/", 404, 1, 1);
	assert_int_equal(store_checkpoint_put(f->st, job, "fr", 2, "se", 2, 2), 0);
	assert_int_equal(store_log_add(f->st, 5, LOG_INFO, job, NULL, 0, "m"), 0);
	store_close(f->st);
	f->st = NULL;
	assert_int_equal(store_open(&f->st, f->db, err, sizeof err), 0);
	assert_int_equal(store_job_get(f->st, job, &j), 0);
	assert_string_equal(j.spec, "{\"x\":1}");
	assert_string_equal(j.state, "running");
	assert_int_equal(j.priority, 3);
	store_job_clear(&j);
	assert_int_equal(store_result_count(f->st, job, &n), 0);
	assert_int_equal(n, 2);
	assert_order(f, job, "status", "http://a/ http://b/");
	assert_int_equal(store_checkpoint_get(f->st, job, &cp), 0);
	assert_memory_equal(cp.frontier, "fr", 2);
	assert_int_equal(cp.results_seq, 2);
	store_checkpoint_clear(&cp);
	assert_logs(f, &flt, "1");
}

/* The schema is there, versioned, and the file is in WAL mode. */
static void test_schema(void **state)
{
	struct fixture *f = *state;
	sqlite3 *db;
	sqlite3_stmt *s;

	add_job(f, "{}", 0);
	assert_int_equal(sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL),
			 SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(s, 0), STORE_SCHEMA_VERSION);
	sqlite3_finalize(s);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
	sqlite3_finalize(s);
	sqlite3_close(db);
}

static void test_corrupt_file(void **state)
{
	struct fixture *f = *state;
	unsigned char junk[8192];
	uint32_t x = 12345;
	struct store *st = (struct store *)1;
	char path[160], err[256], want[256];

	for (size_t i = 0; i < sizeof junk; i++) {
		x = x * 1103515245u + 12345u; /* fixed "random" bytes */
		junk[i] = (unsigned char)(x >> 16);
	}
	snprintf(path, sizeof path, "%s/corrupt.db", f->dir);
	spew(path, junk, sizeof junk);
	assert_int_equal(store_open(&st, path, err, sizeof err), CRAWL_ESTORE);
	assert_null(st);
	snprintf(want, sizeof want, "%s: switching to WAL: file is not a "
		 "database", path);
	assert_string_equal(err, want);

	assert_int_equal(store_open(&st, "/nonexistent/dir/crawld.db", err,
				    sizeof err), CRAWL_ESTORE);
	assert_null(st);
	assert_non_null(strstr(err, "unable to open database file"));
	assert_int_equal(store_open(&st, "/nonexistent/x.db", NULL, 0), CRAWL_ESTORE);
	store_close(NULL);
}

static void test_newer_schema(void **state)
{
	struct fixture *f = *state;
	struct store *st;
	sqlite3 *db;
	char err[256];

	store_close(f->st);
	f->st = NULL;
	assert_int_equal(sqlite3_open(f->db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
				      NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&st, f->db, err, sizeof err), CRAWL_ESTORE);
	assert_non_null(strstr(err, "schema version 99, newer than this "
				    "crawld's (1)"));
}

/* ---- results_file ------------------------------------------------------- */

static void append(struct results_file *rf, int64_t job, int64_t seq,
		   const char *url)
{
	struct store_result r = { .seq = seq, .url = url, .status = 200 };

	assert_int_equal(results_file_append(rf, job, &r), 0);
}

static void test_results_file_lines(void **state)
{
	struct fixture *f = *state;
	struct results_file *rf;
	struct store_result r = {
		.seq = 1, .url = "http://a/\"q\"", .final_url = "http://a/b",
		.status = 301, .depth = 2, .referrer = NULL,
		.content_type = "text/html", .bytes = 512, .fetch_ms = 12.5,
		.links = 7, .error = "bad \xff byte", .error_code = -36,
	};
	int64_t lines = -1;
	char *text;

	assert_int_equal(results_file_open(&rf, f->jsonl, &lines, NULL, 0), 0);
	assert_int_equal(lines, 0);
	assert_int_equal(results_file_append(rf, 1, &r), 0);
	append(rf, 1, 2, "http://c/");
	assert_int_equal(results_file_lines(rf), 2);
	r.url = NULL;
	assert_int_equal(results_file_append(rf, 1, &r), CRAWL_EINVAL);
	assert_string_equal(results_file_errmsg(rf), "");
	results_file_close(rf);
	text = slurp(f->jsonl);
	assert_non_null(text);
	assert_string_equal(text,
		"{\"job\":1,\"seq\":1,\"url\":\"http://a/\\\"q\\\"\","
		"\"final_url\":\"http://a/b\",\"status\":301,\"depth\":2,"
		"\"referrer\":null,\"content_type\":\"text/html\",\"bytes\":512,"
		"\"fetch_ms\":12.5,\"links\":7,\"error\":\"bad ? byte\","
		"\"error_code\":-36}\n"
		"{\"job\":1,\"seq\":2,\"url\":\"http://c/\",\"final_url\":null,"
		"\"status\":200,\"depth\":0,\"referrer\":null,\"content_type\":null,"
		"\"bytes\":0,\"fetch_ms\":0.0,\"links\":0,\"error\":null,"
		"\"error_code\":0}\n");
	free(text);
}

static void test_results_file_torn(void **state)
{
	struct fixture *f = *state;
	static const char torn[] = "{\"url\":\"a\"}\n{\"url\":\"b\"}\n{\"url\":\"c";
	struct results_file *rf;
	int64_t lines = -1;
	char *text, err[256];

	spew(f->jsonl, torn, sizeof torn - 1);
	assert_int_equal(results_file_open(&rf, f->jsonl, &lines, err, sizeof err), 0);
	assert_int_equal(lines, 2);
	append(rf, 1, 3, "d");
	results_file_close(rf);
	text = slurp(f->jsonl);
	assert_non_null(text);
	assert_memory_equal(text, "{\"url\":\"a\"}\n{\"url\":\"b\"}\n{\"job\":1,"
			    "\"seq\":3,\"url\":\"d\"", 43);
	assert_int_equal(text[strlen(text) - 1], '\n');
	free(text);
	/* A file with no newline at all is all torn. */
	spew(f->jsonl, "{\"u", 3);
	assert_int_equal(results_file_open(&rf, f->jsonl, &lines, NULL, 0), 0);
	assert_int_equal(lines, 0);
	results_file_close(rf);
	text = slurp(f->jsonl);
	assert_string_equal(text, "");
	free(text);
	assert_int_equal(results_file_open(&rf, "/nonexistent/job-1.jsonl", &lines,
					   err, sizeof err), CRAWL_ESYS);
	assert_null(rf);
	assert_string_equal(err, "/nonexistent/job-1.jsonl: cannot open: No such "
			    "file or directory");
	results_file_close(NULL);
}

static int64_t count_lines(const char *path)
{
	char *text = slurp(path);
	int64_t n = 0;

	assert_non_null(text);
	for (char *p = text; *p; p++)
		n += *p == '\n';
	free(text);
	return n;
}

static void test_resync(void **state)
{
	struct fixture *f = *state;
	int64_t job = add_job(f, "{}", 0);
	struct results_file *rf;
	char err[256], *text;

	assert_int_equal(job, 1);
	/* No file, no results: in sync (an empty file is created). */
	assert_int_equal(results_file_resync(f->jsonl, f->st, job, err, sizeof err), 0);
	assert_int_equal(count_lines(f->jsonl), 0);
	add_result(f, job, 2, "http://b/", 200, 1, 1);
	add_result(f, job, 1, "http://a/", 200, 1, 1);
	add_result(f, job, 3, "http://c/", 200, 1, 1);
	/* A crash left one line and a torn one: rewritten from the store. */
	spew(f->jsonl, "{\"job\":1,\"seq\":2,\"url\":\"http://b/\"}\n{\"jo", 40);
	assert_int_equal(results_file_resync(f->jsonl, f->st, job, err, sizeof err), 1);
	text = slurp(f->jsonl);
	assert_non_null(text);
	assert_int_equal(count_lines(f->jsonl), 3);
	assert_non_null(strstr(text, "{\"job\":1,\"seq\":1,\"url\":\"http://a/\""));
	assert_true(strstr(text, "\"seq\":1,") < strstr(text, "\"seq\":2,"));
	assert_true(strstr(text, "\"seq\":2,") < strstr(text, "\"seq\":3,"));
	free(text);
	assert_int_equal(results_file_resync(f->jsonl, f->st, job, err, sizeof err), 0);
	/* Lines of a batch that never committed: too many, rewritten. */
	assert_int_equal(results_file_open(&rf, f->jsonl, NULL, NULL, 0), 0);
	append(rf, job, 4, "http://d/");
	results_file_close(rf);
	assert_int_equal(count_lines(f->jsonl), 4);
	assert_int_equal(results_file_resync(f->jsonl, f->st, job, err, sizeof err), 1);
	assert_int_equal(count_lines(f->jsonl), 3);
	/* The temporary file does not stay behind. */
	snprintf(err, sizeof err, "%s.tmp", f->jsonl);
	assert_int_equal(access(err, F_OK), -1);
	/* Errors: the file cannot be opened. */
	assert_int_equal(results_file_resync("/nonexistent/job-1.jsonl", f->st, job,
					     err, sizeof err), CRAWL_ESYS);
	assert_non_null(strstr(err, "No such file or directory"));
}

/* ---- a real crash ------------------------------------------------------ */

/* Adds url to the store and, if new, to the file: the daemon's protocol. */
static int add_both(struct store *st, struct results_file *rf, int64_t seq,
		    const char *url, int *inserted)
{
	struct store_result r = { .seq = seq, .url = url, .status = 200 };
	int rc = store_result_add(st, 1, &r, inserted);

	return rc ? rc : *inserted ? results_file_append(rf, 1, &r) : 0;
}

/* The child: three committed results, then a fourth in a batch that is
 * in the file but not committed when the process is killed. No cmocka
 * asserts here (they would longjmp in the wrong process). */
static void crash_child(const char *db, const char *jsonl)
{
	struct results_file *rf;
	struct store *st;
	int64_t id;
	int ins;

	if (store_open(&st, db, NULL, 0) || store_job_add(st, "{}", 0, &id) ||
	    results_file_open(&rf, jsonl, NULL, NULL, 0))
		_exit(2);
	for (int i = 1; i <= 3; i++) {
		char url[32];

		snprintf(url, sizeof url, "http://%d/", i);
		if (add_both(st, rf, i, url, &ins) || !ins)
			_exit(3);
	}
	if (store_begin(st) || add_both(st, rf, 4, "http://4/", &ins))
		_exit(4);
	kill(getpid(), SIGKILL);
	_exit(5);
}

static void test_survives_kill(void **state)
{
	struct fixture *f = *state;
	struct results_file *rf;
	int64_t n, lines;
	int status, ins;
	pid_t pid;

	store_close(f->st); /* no connection may cross a fork */
	f->st = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		crash_child(f->db, f->jsonl);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

	assert_int_equal(store_open(&f->st, f->db, NULL, 0), 0);
	assert_int_equal(store_result_count(f->st, 1, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(count_lines(f->jsonl), 4);
	/* Restart: resync, then crawl again from the checkpoint. */
	assert_int_equal(results_file_resync(f->jsonl, f->st, 1, NULL, 0), 1);
	assert_int_equal(results_file_open(&rf, f->jsonl, &lines, NULL, 0), 0);
	assert_int_equal(lines, 3);
	assert_int_equal(add_both(f->st, rf, 5, "http://3/", &ins), 0);
	assert_int_equal(ins, 0);
	assert_int_equal(add_both(f->st, rf, 6, "http://4/", &ins), 0);
	assert_int_equal(ins, 1);
	results_file_close(rf);
	assert_int_equal(count_lines(f->jsonl), 4);
	assert_int_equal(store_result_count(f->st, 1, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(results_file_resync(f->jsonl, f->st, 1, NULL, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_job_lifecycle),
		T(test_job_bad_state_and_missing),
		T(test_job_list),
		T(test_results_once),
		T(test_results_order),
		T(test_batch),
		T(test_checkpoint),
		T(test_logs),
		T(test_job_delete),
		T(test_reopen),
		T(test_schema),
		T(test_corrupt_file),
		T(test_newer_schema),
		T(test_results_file_lines),
		T(test_results_file_torn),
		T(test_resync),
		T(test_survives_kill),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
