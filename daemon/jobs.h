/* jobs.h - crawld's job registry: specs, states, running crawls, durability.
 *
 * Every job lives in the store (daemon/store.h) from the moment submit
 * answers. Up to max_jobs_running jobs crawl at once on the daemon's one
 * loop, higher priority first, then oldest first; the others wait queued.
 *
 * Durability: results are inserted into the store as they come, inside one
 * open transaction; every checkpoint_interval_ms (and before a results
 * request is answered, and at shutdown) each running job's frontier and
 * seen-set are saved and the transaction commits. A crash therefore loses
 * only uncommitted work, and the checkpoint that commits with the results
 * re-queues exactly the URLs whose results were lost: after a restart the
 * job continues with no gap and no duplicate (results are keyed by
 * (job, url) as well). Each job's JSON-lines file is re-synced from the
 * store at start.
 */
#ifndef CRAWLD_JOBS_H
#define CRAWLD_JOBS_H

#include <jansson.h>
#include <stdint.h>

#include "jobspec.h"
#include "loop.h"

struct store;
struct dlog;
struct fetcher;
struct crawld_config;
struct jobs;

struct jobs_env {
	loop_t *loop;
	struct fetcher *fetcher;
	struct store *store;
	struct dlog *log;
	const struct crawld_config *cfg; /* borrowed; replaced by jobs_set_config */
	struct workers *workers;         /* parse pool shared by every crawl (borrowed;
					  * NULL: parse on the loop) */
};

int jobs_new(struct jobs **out, const struct jobs_env *env);
/* Loads every job from the store: running ones resume from their last
 * checkpoint, queued ones queue, JSON-lines files are re-synced. */
int jobs_restore(struct jobs *js, struct jobs_err *e);
void jobs_free(struct jobs *js);

/* Validates args (docs/protocol.md, submit) and stores the job queued. */
int jobs_submit(struct jobs *js, json_t *args, int64_t *id, struct jobs_err *e);
int jobs_pause(struct jobs *js, int64_t id, struct jobs_err *e);
int jobs_resume(struct jobs *js, int64_t id, struct jobs_err *e);
int jobs_cancel(struct jobs *js, int64_t id, struct jobs_err *e);

/* New references, or NULL with e filled (not_found). */
json_t *jobs_status(struct jobs *js, int64_t id, struct jobs_err *e);
json_t *jobs_list(struct jobs *js);
/* The order a job's results are listed in when a results request names
 * none: its spec's sort_by, else the configured [crawl] sort_by. Borrowed
 * (valid until the job is freed or the configuration replaced); NULL with e
 * filled (not_found) for an unknown job. */
const char *jobs_sort_by(struct jobs *js, int64_t id, struct jobs_err *e);
void jobs_counts(const struct jobs *js, int *running, int *queued, double *pages_per_s,
		 uint64_t *pages_total);
/* How many jobs the daemon knows, and a new object counting them by state
 * ({"queued": 0, "running": 2, ..., "cancelled": 0}, every state present),
 * or NULL when out of memory. */
int jobs_total(const struct jobs *js);
json_t *jobs_by_state(const struct jobs *js);

/* Saves every running job's checkpoint and commits. */
int jobs_checkpoint(struct jobs *js);
/* Shutdown: stops starting fetches; done(arg) runs once nothing is in
 * flight (or at once). Jobs stay "running" in the store, to resume. */
void jobs_drain(struct jobs *js, void (*done)(void *arg), void *arg);
/* Hard stop after drain: cancels every crawl; returns how many still have
 * fetches in flight (run the loop a little until 0). From then on nothing
 * is recorded or checkpointed: the last checkpoint (taken by the drain or
 * by the caller before) is what a restart continues from. */
int jobs_abort(struct jobs *js);
void jobs_set_config(struct jobs *js, const struct crawld_config *cfg);

#endif
