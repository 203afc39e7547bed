/* crawl_int.h - what crawl.c (the job: spec, queue, results, pump, API)
 * and crawl_page.c (one page's task, its parse, one host's robots.txt)
 * share. Private to lib/crawl*.c. */
#ifndef CRAWL_CRAWL_INT_H
#define CRAWL_CRAWL_INT_H

#include "crawl.h"
#include "frontier.h"
#include "task.h"

struct parse_job;

enum { ROBOTS_UNKNOWN, ROBOTS_FETCHING, ROBOTS_KNOWN };

struct host_state {
	struct robots *robots;
	int robots_state;
	struct crawl *crawl;
	struct frontier_host *fh;
	task_t *robots_task;             /* while its robots.txt is fetched */
	struct host_state *next_pending; /* robots.txt not asked for yet */
	char scheme[8];                  /* of the host's first URL: robots.txt's */
	unsigned robots_tries;           /* answers that were 5xx or none at all */
	struct loop_timer robots_retry;  /* asks again after such an answer */
};

/* One page being fetched: the argument of its task. */
struct page_job {
	struct crawl *crawl;
	struct frontier_item item;
	struct frontier_host *host;
	task_t *task;
	struct page_job *prev, *next;
	unsigned nlinks;
	struct parse_job *parse; /* while its page is parsed (freed with j if
				  * the loop closes with the task alive) */
	int reported; /* its result is out: a checkpoint must not re-queue it */
};

struct crawl {
	loop_t *loop;
	struct fetcher *fetcher;
	struct crawl_spec spec;
	char **strings; /* owned copies behind spec's pointers */
	size_t nstrings;
	int *retry_statuses;
	struct crawl_callbacks cb;
	struct frontier *fr;
	struct seen *seen;
	struct url_scope *scope;
	struct pipeline *pipe;
	future_t *done;
	struct loop_timer pump_timer;
	struct page_job *jobs; /* in flight */
	struct host_state *robots_pending;
	int inflight, robots_inflight; /* tasks whose done callback has not run */
	int freeing; /* crawl_free came while tasks were alive: the last frees */
	long dispatched;
	uint32_t *depth_open; /* queued + in flight, per depth */
	unsigned batch_depth;  /* per-depth batches: the level being collected */
	size_t batch_count;
	struct crawl_result **held; /* results deeper than batch_depth, waiting */
	size_t nheld, held_cap;
	uint64_t started;
	struct crawl_stats st;
	enum crawl_state state;
	int restored;
};

/* crawl.c */
int crawl__enqueue(struct crawl *c, const char *url, const char *referrer, unsigned depth);
void crawl__record(struct crawl *c, const struct crawl_result *r);
void crawl__pump(struct crawl *c);
void crawl__destroy(struct crawl *c);

/* crawl_page.c */
void crawl__host_init(struct crawl *c, struct host_state *hs);
void crawl__host_stop(struct host_state *hs);
int crawl__page_task(void *arg, void **result);
void crawl__job_end(future_t *f, void *arg);
void crawl__start_pending_robots(struct crawl *c);
void crawl__parse_free(struct parse_job *p);

#endif
