/* jobs.c - the job registry: scheduling, results into the store, checkpoints.
 * What a submitted spec may say is checked in jobspec.c. */
#include "jobs.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "config.h"
#include "crawl.h"
#include "fetch.h"
#include "jobspec.h"
#include "log.h"
#include "results_file.h"
#include "simweb.h"
#include "store.h"
#include "url.h"

enum jstate { J_QUEUED, J_RUNNING, J_PAUSED, J_DONE, J_FAILED, J_CANCELLED };
static const char *const jstate_names[] = {"queued", "running", "paused",
					   "done",   "failed",  "cancelled"};

struct job {
	struct jobs *js;
	int64_t id;
	int priority;
	enum jstate state;
	json_t *spec; /* as submitted */
	struct crawl *crawl;
	struct simweb *sim;
	struct results_file *rf;
	int64_t seq;
	double created;
	uint64_t pages, errors, bytes;
	double elapsed; /* of a finished crawl (its crawl object is gone) */
	int counts_dirty; /* results stored since the counters were */
	char *error;
	struct job *next;
};

struct jobs {
	struct jobs_env env;
	struct job *list; /* in id order */
	struct loop_timer checkpoint; /* periodic: reap, schedule, checkpoint */
	struct loop_timer sched;      /* soon after a change: reap, schedule */
	int in_txn;
	int draining;
	int aborted; /* after jobs_abort: nothing more is recorded or saved */
	void (*drained)(void *arg);
	void *drained_arg;
	uint64_t pages_total;
	double rate, rate_t;
	uint64_t rate_pages;
};

static struct job *find(struct jobs *js, int64_t id)
{
	for (struct job *j = js->list; j; j = j->next)
		if (j->id == id)
			return j;
	return NULL;
}

/* ---- the transaction that batches results ---- */

static void txn_open(struct jobs *js)
{
	if (!js->in_txn && store_begin(js->env.store) == 0)
		js->in_txn = 1;
}

/* Every commit carries the counters of the results it commits: results
 * committed between checkpoints (a submit, a job's end) are not fetched
 * again after a crash, so they would never be counted otherwise. */
static void store_dirty_counts(struct jobs *js)
{
	for (struct job *j = js->list; j; j = j->next) {
		if (!j->counts_dirty)
			continue;
		j->counts_dirty = 0;
		if (store_job_update_counts(js->env.store, j->id, (int64_t)j->pages,
					    (int64_t)j->errors, (int64_t)j->bytes) != 0)
			dlog(js->env.log, LOG_ERR, j->id, NULL, CRAWL_ESTORE,
			     "cannot store the job's counters: %s", store_errmsg(js->env.store));
	}
}

static int txn_commit(struct jobs *js)
{
	if (!js->in_txn)
		return 0;
	store_dirty_counts(js);
	js->in_txn = 0;
	int rc = store_commit(js->env.store);
	if (rc)
		dlog(js->env.log, LOG_ERR, 0, NULL, rc, "cannot commit results: %s",
		     store_errmsg(js->env.store));
	return rc;
}

/* ---- a running job's callbacks ---- */

static void on_page(void *arg, const struct crawl_result *r)
{
	struct job *j = arg;
	struct jobs *js = j->js;
	struct store_result sr = {
		.job = j->id, .seq = ++j->seq, .url = r->url, .final_url = r->final_url,
		.status = r->status, .depth = (int)r->depth, .referrer = r->referrer,
		.content_type = r->content_type, .bytes = (int64_t)r->bytes, .fetch_ms = r->fetch_ms,
		.links = (int)r->links, .error = r->error ? r->error_msg : NULL,
		.error_code = r->error};
	int inserted = 0;
	/* After a hard stop the last checkpoint has this URL queued again: a
	 * result stored now would be committed without the counters and seq
	 * that go with it. */
	if (js->aborted)
		return;
	txn_open(js);
	if (store_result_add(js->env.store, j->id, &sr, &inserted) != 0) {
		dlog(js->env.log, LOG_ERR, j->id, r->url, CRAWL_ESTORE, "cannot store result: %s",
		     store_errmsg(js->env.store));
		return;
	}
	if (!inserted)
		return; /* re-fetched after a restart: already reported */
	if (j->rf)
		results_file_append(j->rf, j->id, &sr);
	if (r->error || r->status >= 400) {
		j->errors++;
		dlog(js->env.log, LOG_WARNING, j->id, r->url, r->error, "%s %d%s%s",
		     r->error ? "failed:" : "status", r->status, r->error ? " " : "",
		     r->error ? r->error_msg : "");
	} else {
		j->pages++;
		js->pages_total++;
		dlog(js->env.log, LOG_DEBUG, j->id, r->url, 0, "fetched %d, %zu bytes, %u links",
		     r->status, r->bytes, r->links);
	}
	j->bytes += r->bytes;
	j->counts_dirty = 1;
}

static void on_batch(void *arg, const struct crawl_result *const *rs, size_t n)
{
	struct job *j = arg;
	dlog(j->js->env.log, LOG_INFO, j->id, NULL, 0, "sorted batch of %zu results, first %s", n,
	     n ? rs[0]->url : "-");
}

static void schedule(struct jobs *js);

static void set_state(struct job *j, enum jstate st, const char *error)
{
	struct jobs *js = j->js;
	j->state = st;
	txn_open(js);
	store_job_update_counts(js->env.store, j->id, (int64_t)j->pages, (int64_t)j->errors,
				(int64_t)j->bytes);
	if (store_job_set_state(js->env.store, j->id, jstate_names[st], error) != 0)
		dlog(js->env.log, LOG_ERR, j->id, NULL, CRAWL_ESTORE, "cannot store job state: %s",
		     store_errmsg(js->env.store));
}

static void on_done(void *arg, const struct crawl_stats *st, enum crawl_state end)
{
	struct job *j = arg;
	struct jobs *js = j->js;
	if (js->draining)
		return; /* stopped for shutdown: stays running in the store */
	j->elapsed = st->elapsed;
	set_state(j, end == CRAWL_CANCELLED ? J_CANCELLED : J_DONE, NULL);
	store_checkpoint_put(js->env.store, j->id, "", 0, "", 0, j->seq);
	txn_commit(js);
	/* The job's counters, not the crawl's: after a restart the crawl only
	 * knows what it fetched since. */
	dlog(js->env.log, LOG_NOTICE, j->id, NULL, 0,
	     "job %s: %llu pages, %llu errors, %llu bytes in %.2f s",
	     jstate_names[j->state], (unsigned long long)j->pages,
	     (unsigned long long)j->errors, (unsigned long long)j->bytes, st->elapsed);
	results_file_close(j->rf);
	j->rf = NULL;
	loop_timer_soon(js->env.loop, &js->sched); /* reaps the crawl, starts others */
}

/* ---- starting a job ---- */

static int open_results_file(struct job *j)
{
	struct jobs *js = j->js;
	char path[4096], err[256];
	int64_t lines = 0;
	snprintf(path, sizeof path, "%s/job-%lld.jsonl", js->env.cfg->daemon.state_dir,
		 (long long)j->id);
	/* The store is the truth: a file torn or ahead of it after a crash is
	 * rewritten from it. */
	if (results_file_resync(path, js->env.store, j->id, err, sizeof err) < 0)
		dlog(js->env.log, LOG_WARNING, j->id, NULL, 0, "results file: %s", err);
	if (results_file_open(&j->rf, path, &lines, err, sizeof err) != 0) {
		dlog(js->env.log, LOG_ERR, j->id, NULL, 0, "results file: %s", err);
		return CRAWL_ESYS;
	}
	return 0;
}

static int restore_checkpoint(struct job *j)
{
	struct store_checkpoint cp = {0};
	if (store_checkpoint_get(j->js->env.store, j->id, &cp) != 0)
		return 0; /* none: start from the seeds */
	int rc = 0;
	if (cp.seen_len) {
		rc = crawl_restore(j->crawl, cp.frontier, cp.frontier_len, cp.seen, cp.seen_len);
		j->seq = cp.results_seq;
	}
	store_checkpoint_clear(&cp);
	return rc;
}

static int job_start(struct job *j, struct jobs_err *e)
{
	struct jobs *js = j->js;
	struct jobspec b = {0};
	char err[256] = "";
	struct crawl_callbacks cb = {on_page, on_batch, on_done, j};
	int rc = jobspec_parse(js->env.cfg, j->spec, &b, e);
	if (rc == 0 && b.sim && (rc = simweb_new(&j->sim, b.sim, err, sizeof err)) != 0)
		jobs_fail(e, "bad_field", "args.sim: %s", err);
	b.s.simweb = j->sim;
	b.s.workers = js->env.workers;
	if (rc == 0 && (rc = crawl_new(&j->crawl, js->env.loop, js->env.fetcher, &b.s, &cb, err,
				       sizeof err)) != 0)
		jobs_fail(e, "bad_field", "%s", err);
	jobspec_free(&b);
	if (rc == 0 && (rc = restore_checkpoint(j)) != 0)
		jobs_fail(e, "internal", "checkpoint of job %lld is corrupt", (long long)j->id);
	if (rc == 0 && (rc = open_results_file(j)) != 0)
		jobs_fail(e, "internal", "cannot open the job's results file");
	if (rc == 0 && (rc = crawl_start(j->crawl)) != 0)
		jobs_fail(e, "internal", "cannot start: %s", crawl_strerror(rc));
	if (rc == 0 && j->state == J_PAUSED)
		crawl_pause(j->crawl);
	return rc;
}

static int running_count(const struct jobs *js)
{
	int n = 0;
	for (const struct job *j = js->list; j; j = j->next)
		n += j->crawl && (j->state == J_RUNNING || j->state == J_PAUSED);
	return n;
}

/* Highest priority first, then the oldest. */
static struct job *next_queued(struct jobs *js)
{
	struct job *best = NULL;
	for (struct job *j = js->list; j; j = j->next)
		if (j->state == J_QUEUED && (!best || j->priority > best->priority))
			best = j;
	return best;
}

static void schedule(struct jobs *js)
{
	struct job *j;
	while (!js->draining && running_count(js) < js->env.cfg->limits.max_jobs_running &&
	       (j = next_queued(js))) {
		struct jobs_err e;
		j->state = J_RUNNING;
		if (job_start(j, &e) != 0) {
			dlog(js->env.log, LOG_ERR, j->id, NULL, 0, "job failed to start: %s", e.msg);
			crawl_free(j->crawl);
			j->crawl = NULL;
			set_state(j, J_FAILED, e.msg);
			continue;
		}
		set_state(j, J_RUNNING, NULL);
		dlog(js->env.log, LOG_NOTICE, j->id, NULL, 0, "job started");
	}
}

/* ---- the periodic tick: reap, schedule, checkpoint ---- */

static void reap(struct jobs *js)
{
	for (struct job *j = js->list; j; j = j->next) {
		if (j->crawl && (j->state == J_DONE || j->state == J_CANCELLED) &&
		    future_done(crawl_future(j->crawl))) {
			crawl_free(j->crawl);
			j->crawl = NULL;
			simweb_free(j->sim);
			j->sim = NULL;
		}
	}
}

int jobs_checkpoint(struct jobs *js)
{
	int rc = 0;
	/* Cancelled crawls no longer list the fetches cut short: saving them
	 * would drop those URLs from the frontier for good. */
	if (js->aborted)
		return 0;
	txn_open(js);
	for (struct job *j = js->list; j; j = j->next) {
		if (!j->crawl || (j->state != J_RUNNING && j->state != J_PAUSED))
			continue;
		char *fr = NULL;
		void *seen = NULL;
		size_t flen = 0, slen = 0;
		rc = crawl_save(j->crawl, &fr, &flen, &seen, &slen);
		if (rc == 0)
			rc = store_checkpoint_put(js->env.store, j->id, fr, flen, seen, slen, j->seq);
		if (rc == 0)
			rc = store_job_update_counts(js->env.store, j->id, (int64_t)j->pages,
						     (int64_t)j->errors, (int64_t)j->bytes);
		free(fr);
		free(seen);
		if (rc)
			dlog(js->env.log, LOG_ERR, j->id, NULL, rc, "checkpoint failed: %s",
			     store_errmsg(js->env.store));
	}
	int crc = txn_commit(js);
	return rc ? rc : crc;
}

static void update_rate(struct jobs *js)
{
	double t = loop_time(js->env.loop);
	if (js->rate_t > 0 && t - js->rate_t >= 1.0) {
		js->rate = (double)(js->pages_total - js->rate_pages) / (t - js->rate_t);
		js->rate_t = t;
		js->rate_pages = js->pages_total;
	} else if (js->rate_t == 0) {
		js->rate_t = t;
		js->rate_pages = js->pages_total;
	}
}

static void tick(void *arg)
{
	struct jobs *js = arg;
	if (js->aborted)
		return;
	reap(js);
	schedule(js);
	jobs_checkpoint(js);
	update_rate(js);
	if (js->draining && js->drained) {
		int busy = 0;
		for (struct job *j = js->list; j; j = j->next) {
			struct crawl_stats st = {0};
			if (j->crawl)
				crawl_stats(j->crawl, &st);
			busy += st.in_flight > 0;
		}
		if (!busy) {
			void (*done)(void *) = js->drained;
			js->drained = NULL;
			done(js->drained_arg);
			return;
		}
	}
	double every = js->draining ? 0.05 : js->env.cfg->daemon.checkpoint_interval_ms / 1000.0;
	loop_timer_after(js->env.loop, &js->checkpoint, every);
}

/* Starting queued jobs does not wait for the next checkpoint, nor bring it
 * forward: a burst of submits must not checkpoint every running job each. */
static void sched_tick(void *arg)
{
	struct jobs *js = arg;
	if (js->aborted)
		return;
	reap(js);
	schedule(js);
}

/* ---- requests ---- */

static struct job *job_add(struct jobs *js, int64_t id, json_t *spec, int priority,
			   enum jstate st)
{
	struct job *j = calloc(1, sizeof *j), **tail = &js->list;
	if (!j)
		return NULL;
	j->js = js;
	j->id = id;
	j->spec = json_incref(spec);
	j->priority = priority;
	j->state = st;
	while (*tail)
		tail = &(*tail)->next;
	*tail = j;
	return j;
}

int jobs_submit(struct jobs *js, json_t *args, int64_t *id, struct jobs_err *e)
{
	struct jobspec b = {0};
	long long prio = 0;
	int rc = jobspec_parse(js->env.cfg, args, &b, e);
	if (rc == 0)
		rc = jobspec_get_int(args, "priority", -100, 100, &prio, e);
	if (rc == 0 && b.sim) {
		struct simweb *w = NULL;
		char err[256];
		if (simweb_new(&w, b.sim, err, sizeof err) != 0)
			rc = jobs_fail(e, "bad_field", "args.sim: %s", err);
		simweb_free(w);
	}
	jobspec_free(&b);
	if (rc)
		return rc;
	char *text = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	/* Stored and committed before the reply: an accepted job survives a crash. */
	txn_commit(js);
	rc = text ? store_job_add(js->env.store, text, (int)prio, id) : CRAWL_ENOMEM;
	free(text);
	if (rc)
		return jobs_fail(e, "internal", "cannot store the job: %s", store_errmsg(js->env.store));
	if (!job_add(js, *id, args, (int)prio, J_QUEUED))
		return jobs_fail(e, "internal", "out of memory");
	dlog(js->env.log, LOG_INFO, *id, NULL, 0, "job submitted");
	loop_timer_soon(js->env.loop, &js->sched);
	return 0;
}

static struct job *get_job(struct jobs *js, int64_t id, struct jobs_err *e)
{
	struct job *j = find(js, id);
	if (!j)
		jobs_fail(e, "not_found", "no job %lld", (long long)id);
	return j;
}

int jobs_pause(struct jobs *js, int64_t id, struct jobs_err *e)
{
	struct job *j = get_job(js, id, e);
	if (!j)
		return CRAWL_ENOTFOUND;
	if (j->state != J_RUNNING && j->state != J_QUEUED)
		return jobs_fail(e, "bad_state", "job %lld is %s, not running", (long long)id,
			    jstate_names[j->state]);
	if (j->crawl)
		crawl_pause(j->crawl);
	set_state(j, J_PAUSED, NULL);
	txn_commit(js);
	return 0;
}

int jobs_resume(struct jobs *js, int64_t id, struct jobs_err *e)
{
	struct job *j = get_job(js, id, e);
	if (!j)
		return CRAWL_ENOTFOUND;
	if (j->state != J_PAUSED)
		return jobs_fail(e, "bad_state", "job %lld is %s, not paused", (long long)id,
			    jstate_names[j->state]);
	if (j->crawl)
		crawl_resume(j->crawl);
	set_state(j, j->crawl ? J_RUNNING : J_QUEUED, NULL);
	txn_commit(js);
	loop_timer_soon(js->env.loop, &js->sched);
	return 0;
}

int jobs_cancel(struct jobs *js, int64_t id, struct jobs_err *e)
{
	struct job *j = get_job(js, id, e);
	if (!j)
		return CRAWL_ENOTFOUND;
	if (j->state == J_DONE || j->state == J_FAILED || j->state == J_CANCELLED)
		return jobs_fail(e, "bad_state", "job %lld is already %s", (long long)id,
			    jstate_names[j->state]);
	if (j->crawl && crawl_state(j->crawl) != CRAWL_DONE) {
		crawl_cancel(j->crawl); /* on_done records the state */
		j->state = J_CANCELLED;
	} else {
		set_state(j, J_CANCELLED, NULL);
		txn_commit(js);
	}
	return 0;
}

static json_t *job_json(const struct job *j)
{
	struct crawl_stats st = {0};
	if (j->crawl)
		crawl_stats(j->crawl, &st);
	if (j->elapsed > 0)
		st.elapsed = j->elapsed;
	double rate = st.elapsed > 0 ? (double)j->pages / st.elapsed : 0;
	return json_pack("{s:I, s:s, s:i, s:O?, s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:s?}", "job",
			 (json_int_t)j->id, "state", jstate_names[j->state], "priority",
			 j->priority, "seeds", json_object_get(j->spec, "seeds"), "pages",
			 (json_int_t)j->pages, "errors", (json_int_t)j->errors, "bytes",
			 (json_int_t)j->bytes, "queued", (json_int_t)st.queued, "in_flight",
			 (json_int_t)st.in_flight, "rate", rate, "elapsed", st.elapsed, "error",
			 j->error);
}

json_t *jobs_status(struct jobs *js, int64_t id, struct jobs_err *e)
{
	struct job *j = get_job(js, id, e);
	return j ? job_json(j) : NULL;
}

const char *jobs_sort_by(struct jobs *js, int64_t id, struct jobs_err *e)
{
	struct job *j = get_job(js, id, e);
	const char *s = j ? json_string_value(json_object_get(j->spec, "sort_by")) : NULL;
	return j && !s ? js->env.cfg->crawl.sort_by : s;
}

json_t *jobs_list(struct jobs *js)
{
	json_t *a = json_array();
	for (struct job *j = js->list; a && j; j = j->next)
		json_array_append_new(a, job_json(j));
	return a;
}

void jobs_counts(const struct jobs *js, int *running, int *queued, double *pages_per_s,
		 uint64_t *pages_total)
{
	*running = *queued = 0;
	for (const struct job *j = js->list; j; j = j->next) {
		*running += j->state == J_RUNNING;
		*queued += j->state == J_QUEUED;
	}
	*pages_per_s = js->rate;
	*pages_total = js->pages_total;
}

int jobs_total(const struct jobs *js)
{
	int n = 0;
	for (const struct job *j = js->list; j; j = j->next)
		n++;
	return n;
}

json_t *jobs_by_state(const struct jobs *js)
{
	json_int_t n[6] = {0};
	for (const struct job *j = js->list; j; j = j->next)
		n[j->state]++;
	json_t *o = json_object();
	for (int i = 0; o && i < 6; i++)
		if (json_object_set_new(o, jstate_names[i], json_integer(n[i])) != 0) {
			json_decref(o);
			o = NULL;
		}
	return o;
}

/* ---- life cycle ---- */

int jobs_new(struct jobs **out, const struct jobs_env *env)
{
	struct jobs *js = calloc(1, sizeof *js);
	if (!js)
		return CRAWL_ENOMEM;
	js->env = *env;
	loop_timer_init(&js->checkpoint, tick, js);
	loop_timer_init(&js->sched, sched_tick, js);
	*out = js;
	return 0;
}

static enum jstate state_parse(const char *s)
{
	for (int i = 0; i < 6; i++)
		if (strcmp(s, jstate_names[i]) == 0)
			return (enum jstate)i;
	return J_FAILED;
}

static int restore_one(void *arg, const struct store_job *sj)
{
	struct jobs *js = arg;
	json_error_t jerr;
	json_t *spec = json_loads(sj->spec, 0, &jerr);
	enum jstate st = state_parse(sj->state);
	/* Running jobs resume from their checkpoint; paused ones come back
	 * paused, with their crawl loaded. */
	struct job *j = job_add(js, sj->id, spec ? spec : json_object(), sj->priority,
				st == J_RUNNING ? J_QUEUED : st);
	json_decref(spec);
	if (!j)
		return CRAWL_ENOMEM;
	j->pages = (uint64_t)sj->pages;
	j->errors = (uint64_t)sj->errors;
	j->bytes = (uint64_t)sj->bytes;
	j->error = sj->error ? strdup(sj->error) : NULL;
	if (st == J_RUNNING)
		dlog(js->env.log, LOG_NOTICE, j->id, NULL, 0, "job resumes from its checkpoint");
	return 0;
}

int jobs_restore(struct jobs *js, struct jobs_err *e)
{
	if (store_job_list(js->env.store, restore_one, js) != 0)
		return jobs_fail(e, "internal", "cannot load jobs: %s", store_errmsg(js->env.store));
	for (struct job *j = js->list; j; j = j->next) {
		if (j->state != J_PAUSED)
			continue;
		struct jobs_err e2;
		if (job_start(j, &e2) != 0)
			set_state(j, J_FAILED, e2.msg);
	}
	loop_timer_soon(js->env.loop, &js->checkpoint);
	return 0;
}

void jobs_drain(struct jobs *js, void (*done)(void *arg), void *arg)
{
	js->draining = 1;
	js->drained = done;
	js->drained_arg = arg;
	for (struct job *j = js->list; j; j = j->next)
		if (j->crawl && j->state == J_RUNNING)
			crawl_pause(j->crawl);
	loop_timer_soon(js->env.loop, &js->checkpoint);
}

int jobs_abort(struct jobs *js)
{
	int busy = 0;
	js->aborted = 1;
	loop_timer_stop(js->env.loop, &js->checkpoint);
	loop_timer_stop(js->env.loop, &js->sched);
	for (struct job *j = js->list; j; j = j->next) {
		if (!j->crawl)
			continue;
		if (crawl_state(j->crawl) != CRAWL_DONE && crawl_state(j->crawl) != CRAWL_CANCELLED)
			crawl_cancel(j->crawl);
		busy += !future_done(crawl_future(j->crawl));
	}
	return busy;
}

void jobs_set_config(struct jobs *js, const struct crawld_config *cfg)
{
	js->env.cfg = cfg;
	loop_timer_soon(js->env.loop, &js->sched);
}

void jobs_free(struct jobs *js)
{
	if (!js)
		return;
	loop_timer_stop(js->env.loop, &js->checkpoint);
	loop_timer_stop(js->env.loop, &js->sched);
	txn_commit(js);
	struct job *j = js->list;
	while (j) {
		struct job *next = j->next;
		crawl_free(j->crawl);
		simweb_free(j->sim);
		results_file_close(j->rf);
		json_decref(j->spec);
		free(j->error);
		free(j);
		j = next;
	}
	free(js);
}
