/* crawl.h - the crawl engine: one job's frontier, fetch tasks and results.
 *
 * A crawl runs on a loop. Every page is fetched by its own task (a
 * coroutine: robots check, fetch with retries and backoff, link extraction),
 * at most `concurrency` at once and `per_host` per host, each host's fetch
 * starts spaced by max(delay, robots Crawl-delay). URLs are normalised and
 * de-duplicated through a seen-set before they are queued; the frontier is
 * breadth-first by depth.
 *
 * Results go out through callbacks: one per page (page or error), sorted
 * batches from a delegating pipeline (one per depth level, or every
 * batch_size results, and a final one), and a done callback with the
 * statistics. Strings in callback arguments are borrowed for the call.
 */
#ifndef CRAWL_CRAWL_H
#define CRAWL_CRAWL_H

#include <stddef.h>
#include <stdint.h>

#include "fetch.h"
#include "loop.h"

struct workers;

enum { CRAWL_ROBOTS_TRIES = 3 };

enum crawl_sort { CRAWL_SORT_URL, CRAWL_SORT_STATUS, CRAWL_SORT_TIME, CRAWL_SORT_SIZE };

/* The job. All strings and arrays are copied by crawl_new. */
struct crawl_spec {
	const char *const *seeds;
	size_t nseeds;
	const char *const *domains; /* allowed domains; none: the seeds' hosts */
	size_t ndomains;
	const char *const *include; /* POSIX extended regexes */
	size_t ninclude;
	const char *const *exclude;
	size_t nexclude;
	int max_depth;          /* seeds are depth 0 */
	long max_pages;         /* 0 = no limit */
	long long max_bytes;    /* 0 = no limit */
	int concurrency;        /* fetches in flight in total */
	int per_host;           /* fetches in flight per host */
	double delay;           /* seconds between fetch starts on one host */
	int obey_robots;
	double robots_retry;    /* seconds a host whose robots.txt answers 5xx or
				 * nothing waits before it is asked again; after
				 * CRAWL_ROBOTS_TRIES such answers the host is
				 * disallowed for the rest of the crawl */
	const char *user_agent;
	int retries;            /* extra attempts after the first */
	double backoff;         /* seconds; doubles each attempt */
	const int *retry_statuses;
	size_t nretry_statuses;
	double timeout, connect_timeout;
	size_t max_body;
	int allow_private;      /* fetch loopback/private addresses (tests, demo) */
	const struct simweb *simweb; /* for sim:// seeds (borrowed; NULL: the fetcher's) */
	enum crawl_sort sort_by;
	size_t batch_size;      /* 0: one batch per depth level */
	struct workers *workers; /* parses pages on its threads (borrowed, may be
				  * shared by crawls of one loop; it must outlive
				  * the crawl's tasks); NULL: parse on the loop */
};

/* Defaults: depth 3, 10,000 pages, concurrency 64, per_host 4, robots on,
 * 2 retries, backoff 0.5 s on 429/500/502/503/504, timeout 30 s, an
 * unavailable robots.txt asked again after 60 s. */
void crawl_spec_init(struct crawl_spec *s);

struct crawl_result {
	const char *url, *final_url, *referrer, *content_type;
	int status;      /* HTTP status, 0 if no response */
	unsigned depth;
	size_t bytes;
	double fetch_ms;
	unsigned links;  /* links found on the page */
	unsigned attempts;
	int error;       /* 0 or a CRAWL_E* code */
	const char *error_msg;
};

struct crawl_stats {
	uint64_t pages, errors, bytes, retries, robots_blocked, links;
	uint64_t queued, in_flight, seen;
	double elapsed;
};

enum crawl_state { CRAWL_IDLE, CRAWL_RUNNING, CRAWL_PAUSED, CRAWL_DONE, CRAWL_CANCELLED };

struct crawl_callbacks {
	void (*page)(void *arg, const struct crawl_result *r);  /* every result */
	void (*batch)(void *arg, const struct crawl_result *const *rs, size_t n); /* sorted */
	void (*done)(void *arg, const struct crawl_stats *st, enum crawl_state end);
	void *arg;
};

struct crawl;

/* Validates and copies spec (bad seed URL, negative limits, bad regex →
 * CRAWL_EURL / CRAWL_EINVAL with a message in err). fetcher is borrowed. */
int crawl_new(struct crawl **out, loop_t *l, struct fetcher *f, const struct crawl_spec *spec,
	      const struct crawl_callbacks *cb, char *err, size_t errlen);
/* Queues the seeds (unless restored) and starts fetching on the loop. */
int crawl_start(struct crawl *c);
int crawl_pause(struct crawl *c);   /* in-flight fetches finish; no new ones */
int crawl_resume(struct crawl *c);
int crawl_cancel(struct crawl *c);  /* cancels in-flight fetches; done gets CRAWL_CANCELLED */
enum crawl_state crawl_state(const struct crawl *c);
void crawl_stats(const struct crawl *c, struct crawl_stats *st);
/* A future done when the crawl ends (borrowed; valid until crawl_free). */
future_t *crawl_future(struct crawl *c);

/* Checkpoint: the frontier (queued and in-flight URLs) and the seen-set,
 * as two malloc'd buffers. restore (before start): the crawl continues from
 * there instead of the seeds. Errors: CRAWL_ENOMEM, CRAWL_EINVAL (corrupt:
 * the crawl is then unchanged), CRAWL_EBUSY (started or already restored). */
int crawl_save(const struct crawl *c, char **frontier, size_t *flen, void **seen, size_t *slen);
int crawl_restore(struct crawl *c, const char *frontier, size_t flen, const void *seen,
		  size_t slen);

/* Frees c; no callback is called from here on. With tasks still alive (a
 * running or cancelled crawl whose fetches have not ended) it cancels them
 * and returns at once: the memory goes when the loop has run their ends,
 * so keep running the loop (not loop_close) for that. Call it before
 * loop_free. NULL is fine. */
void crawl_free(struct crawl *c);

const char *crawl_state_name(enum crawl_state s);
int crawl_sort_parse(const char *name, enum crawl_sort *out);

#endif
