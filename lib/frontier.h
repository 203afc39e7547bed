/* frontier.h - the crawl frontier: per-host FIFO queues with politeness.
 *
 * Each host (url_host key) has its own queue, a count of fetches in flight,
 * a minimum delay between fetch starts, and a readiness flag (its robots.txt
 * is known). frontier_next picks, among hosts that may fetch now, one whose
 * head has the smallest depth (breadth-first), rotating between hosts of
 * equal depth (fairness). Cost: O(hosts with queued URLs) per pick.
 *
 * The frontier does not de-duplicate: the crawler checks its seen-set
 * before frontier_push.
 */
#ifndef CRAWL_FRONTIER_H
#define CRAWL_FRONTIER_H

#include <stddef.h>
#include <stdint.h>

struct frontier;

struct frontier_host {
	char *key;         /* host[:port], owned */
	void *data;        /* the crawler's per-host state */
	uint64_t next_ok;  /* ns: earliest start of the next fetch */
	uint64_t delay_ns; /* politeness delay between starts */
	int active;        /* fetches in flight */
	int ready;         /* 0 until the crawler says the host may fetch */
	/* private */
	struct frontier_node *head, *tail;
	size_t queued;
	struct frontier_host *hnext; /* hash chain */
	struct frontier_host *rnext, *rprev; /* ring of hosts with queued URLs */
};

/* One queued URL; url and referrer are owned by the node. */
struct frontier_item {
	char *url;
	char *referrer; /* NULL for seeds */
	unsigned depth;
	unsigned attempt;
};

int frontier_new(struct frontier **out, int per_host_max);
void frontier_free(struct frontier *f);

/* Finds or creates the host for key. Errors: CRAWL_ENOMEM. */
int frontier_host(struct frontier *f, const char *key, struct frontier_host **out);
/* Calls fn for every host (in no particular order). */
void frontier_each_host(struct frontier *f, void (*fn)(void *arg, struct frontier_host *h),
			void *arg);

/* Queues a copy of url/referrer on host h. Errors: CRAWL_ENOMEM. */
int frontier_push(struct frontier *f, struct frontier_host *h, const char *url,
		  const char *referrer, unsigned depth, unsigned attempt);

/* Takes the next URL that may be fetched at time now (ns). Returns 1 and
 * fills *item (caller owns its strings: frontier_item_clear) and *host
 * (whose active count is incremented and next_ok advanced); 0 if nothing
 * may start now, with *wake set to the earliest time something may (0 =
 * nothing queued is waiting on time). */
int frontier_next(struct frontier *f, uint64_t now, struct frontier_item *item,
		  struct frontier_host **host, uint64_t *wake);
/* A fetch of host h ended. */
void frontier_done(struct frontier *f, struct frontier_host *h);
void frontier_item_clear(struct frontier_item *item);

size_t frontier_queued(const struct frontier *f);
/* Smallest depth still queued (UINT32_MAX if none). */
unsigned frontier_min_depth(const struct frontier *f);

/* Checkpoints: every queued URL, as text lines "depth\tattempt\turl\treferrer\n"
 * (URLs are normalised, so they hold no tab or newline). save: a malloc'd
 * buffer. load: queues each line through push_fn (the crawler re-derives
 * hosts); a malformed line → CRAWL_EINVAL and nothing after it is loaded. */
int frontier_save(const struct frontier *f, char **buf, size_t *len);
int frontier_parse(const char *buf, size_t len,
		   int (*push_fn)(void *arg, const char *url, const char *referrer, unsigned depth,
				  unsigned attempt),
		   void *arg);

#endif
