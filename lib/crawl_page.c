/* crawl_page.c - one page's task (robots check, fetch with retries, parse
 * on the worker pool, result) and one host's robots.txt. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crawl_int.h"
#include "links.h"
#include "robots.h"
#include "url.h"
#include "workers.h"

/* ---- page tasks ---- */

static int is_retry_status(const struct crawl *c, int status)
{
	for (size_t i = 0; i < c->spec.nretry_statuses; i++)
		if (c->spec.retry_statuses[i] == status)
			return 1;
	return 0;
}

static int is_retry_error(int err)
{
	return err == CRAWL_ETIMEDOUT || err == CRAWL_ECONNECT || err == CRAWL_ERESET ||
	       err == CRAWL_ECONNREFUSED || err == CRAWL_EHTTP;
}

static void fill_opts(const struct crawl *c, struct fetch_opts *o)
{
	fetch_opts_init(o);
	o->timeout = c->spec.timeout;
	o->connect_timeout = c->spec.connect_timeout;
	if (c->spec.user_agent)
		o->user_agent = c->spec.user_agent;
	if (c->spec.max_body)
		o->max_body = c->spec.max_body;
	o->allow_private = c->spec.allow_private;
	o->simweb = c->spec.simweb;
}

/* ---- link extraction, on a worker thread or inline ----
 *
 * A worker may not touch the seen-set, scope or frontier: the parse only
 * collects the resolved URLs (NUL-separated, in one buffer) and the page
 * task enqueues them back on the loop thread. */

struct parse_job {
	const char *base, *body; /* borrowed from the response */
	size_t body_len;
	char *urls;              /* NUL-terminated URLs, one after another */
	size_t len, cap;
	unsigned n;
	int rc;
};

static int collect_link(void *arg, const char *url)
{
	struct parse_job *p = arg;
	size_t ul = strlen(url) + 1;
	if (p->cap - p->len < ul) {
		size_t cap = p->cap ? p->cap : 1024;
		while (cap - p->len < ul)
			cap *= 2;
		char *v = realloc(p->urls, cap);
		if (!v)
			return CRAWL_ENOMEM;
		p->urls = v;
		p->cap = cap;
	}
	memcpy(p->urls + p->len, url, ul);
	p->len += ul;
	p->n++;
	return 0;
}

/* Runs on a worker thread: libxml2 and uriparser only, nothing shared. */
static void parse_run(void *arg)
{
	struct parse_job *p = arg;
	struct links *lx = NULL;
	int rc = links_new(&lx, p->base, collect_link, p);
	if (rc == 0)
		rc = links_feed(lx, p->body, p->body_len);
	if (rc == 0)
		rc = links_finish(lx);
	links_free(lx);
	p->rc = rc;
}

/* Back on the loop thread. The links found before a parse error still
 * count, as they did when they were enqueued while parsing. */
static void enqueue_links(struct page_job *j, const struct parse_job *p)
{
	const char *u = p->urls;
	for (unsigned i = 0; i < p->n; i++, u += strlen(u) + 1) {
		j->nlinks++;
		if (crawl__enqueue(j->crawl, u, j->item.url, j->item.depth + 1) < 0)
			return;
	}
}

/* On the pool if there is one (its queue full: here), inline otherwise.
 * task_await returns only once the job's future is done, that is once
 * parse_run has returned or will never run, so p is freed safely on every
 * path, cancellation too. */
static int parse_links(struct crawl *c, struct parse_job *p)
{
	future_t *f = NULL;
	if (!c->spec.workers || workers_submit(c->spec.workers, parse_run, p, &f) != 0) {
		parse_run(p);
		return 0;
	}
	int rc = task_await(f, NULL);
	future_unref(f);
	return rc;
}

void crawl__parse_free(struct parse_job *p)
{
	if (p)
		free(p->urls);
	free(p);
}

/* The job is on the heap, not the task's stack: a shared-stack task's
 * stack is copied away while it waits, and the worker writes into it. */
static int extract_links(struct page_job *j, const struct fetch_response *resp)
{
	struct parse_job *p = calloc(1, sizeof *p);
	if (!p)
		return 0; /* the page counts, without its links */
	p->base = resp->final_url ? resp->final_url : j->item.url;
	p->body = resp->body ? resp->body : "";
	p->body_len = resp->body_len;
	j->parse = p;
	int rc = parse_links(j->crawl, p);
	if (rc == 0)
		enqueue_links(j, p);
	j->parse = NULL;
	crawl__parse_free(p);
	return rc;
}

static int robots_allows(struct page_job *j)
{
	struct host_state *hs = j->host->data;
	if (!hs->robots)
		return 1;
	const char *p = strstr(j->item.url, "://");
	p = p ? strchr(p + 3, '/') : NULL;
	return robots_allowed(hs->robots, p ? p : "/");
}

/* Fetches with retries; the response (if any) stays owned by *fut. */
static int fetch_page(struct page_job *j, future_t **fut, struct fetch_response **resp)
{
	struct crawl *c = j->crawl;
	struct fetch_opts o;
	fill_opts(c, &o);
	for (;;) {
		o.attempt = j->item.attempt;
		int rc = fetch(c->fetcher, j->item.url, &o, fut);
		if (rc == 0)
			rc = task_await(*fut, (void **)resp);
		int status = rc == 0 ? (int)(*resp)->status : 0;
		int again = rc ? is_retry_error(rc) : is_retry_status(c, status);
		if (!again || j->item.attempt >= (unsigned)c->spec.retries || rc == CRAWL_ECANCELLED)
			return rc;
		future_unref(*fut);
		*fut = NULL;
		c->st.retries++;
		double wait = c->spec.backoff * (double)(1u << j->item.attempt);
		j->item.attempt++;
		if ((rc = task_sleep(wait)) != 0)
			return rc;
	}
}

static void job_unlink(struct crawl *c, struct page_job *j)
{
	if (j->prev)
		j->prev->next = j->next;
	else
		c->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
}

/* A fetched page's result; returns the parse's CRAWL_ECANCELLED if the
 * task was cancelled while its page was parsed, else 0. */
static int page_fetched(struct page_job *j, const struct fetch_response *resp,
			struct crawl_result *r)
{
	int rc = 0;
	r->status = (int)resp->status;
	r->final_url = resp->final_url;
	r->content_type = resp->content_type;
	r->bytes = resp->body_len;
	if (resp->status == 200 && resp->content_type && strstr(resp->content_type, "html"))
		rc = extract_links(j, resp);
	r->links = j->nlinks;
	return rc;
}

int crawl__page_task(void *arg, void **result)
{
	struct page_job *j = arg;
	struct crawl *c = j->crawl;
	struct crawl_result r = {.url = j->item.url, .referrer = j->item.referrer,
				 .depth = j->item.depth};
	future_t *fut = NULL;
	struct fetch_response *resp = NULL;
	uint64_t t0 = loop_update_time(c->loop);
	int rc = robots_allows(j) ? fetch_page(j, &fut, &resp) : CRAWL_EROBOTS;
	r.fetch_ms = (double)(loop_update_time(c->loop) - t0) / 1e6;
	r.attempts = j->item.attempt + 1;
	if (rc == CRAWL_EROBOTS)
		c->st.robots_blocked++;
	int cancelled = rc == CRAWL_ECANCELLED;
	if (rc == 0) {
		cancelled = page_fetched(j, resp, &r) == CRAWL_ECANCELLED;
	} else {
		const struct fetch_response *fr = fut ? fetch_response_of(fut) : NULL;
		r.error = rc;
		r.error_msg = fr && fr->message ? fr->message : crawl_strerror(rc);
		if (fr)
			r.status = (int)fr->status;
	}
	j->reported = 1;
	/* A cancelled crawl reports no page whose task it cut short. */
	if (!cancelled || c->state != CRAWL_CANCELLED)
		crawl__record(c, &r);
	future_unref(fut);
	*result = NULL;
	return 0;
}

/* After a task's end, whatever it was: the crawl goes on, or the deferred
 * free completes with the last task. */
static void task_ended(struct crawl *c)
{
	if (!c->freeing)
		crawl__pump(c);
	else if (c->inflight == 0 && c->robots_inflight == 0)
		crawl__destroy(c);
}

/* The page task's done callback. A task cancelled before its first step
 * never runs its body, so the bookkeeping lives here, not in page_task. */
void crawl__job_end(future_t *f, void *arg)
{
	struct page_job *j = arg;
	struct crawl *c = j->crawl;
	(void)f;
	frontier_done(c->fr, j->host);
	job_unlink(c, j);
	c->inflight--;
	frontier_item_clear(&j->item);
	task_unref(j->task);
	free(j);
	task_ended(c);
}

/* ---- robots.txt, once per host ---- */

static void robots_set(struct host_state *hs, struct robots *r)
{
	struct crawl *c = hs->crawl;
	robots_free(hs->robots);
	hs->robots = r;
	hs->robots_state = ROBOTS_KNOWN;
	double d = r ? robots_crawl_delay(r) : -1;
	if (d > c->spec.delay)
		hs->fh->delay_ns = (uint64_t)(d * 1e9);
	hs->fh->ready = 1;
}

/* RFC 9309: 2xx parse; 4xx allow all; 5xx or unreachable disallow all. */
static struct robots *robots_from(const struct crawl *c, int rc, const struct fetch_response *resp)
{
	struct robots *r = NULL;
	if (rc == 0 && resp->status >= 200 && resp->status < 300)
		robots_parse(resp->body ? resp->body : "", resp->body_len, c->spec.user_agent, &r);
	else if (rc == 0 && resp->status >= 400 && resp->status < 500)
		robots_new_allow_all(&r);
	else
		robots_new_disallow_all(&r);
	return r;
}

/* RFC 9309 2.3.1.4: a 5xx or no answer at all means "disallow all" for now;
 * the host's URLs wait and it is asked again, up to CRAWL_ROBOTS_TRIES. */
static int robots_unavailable(int rc, const struct fetch_response *resp)
{
	return rc != 0 || resp->status >= 500;
}

static void robots_ask_again(void *arg)
{
	struct host_state *hs = arg;
	struct crawl *c = hs->crawl;
	hs->robots_state = ROBOTS_UNKNOWN;
	hs->next_pending = c->robots_pending;
	c->robots_pending = hs;
	crawl__pump(c);
}

void crawl__host_init(struct crawl *c, struct host_state *hs)
{
	hs->crawl = c;
	loop_timer_init(&hs->robots_retry, robots_ask_again, hs);
}

void crawl__host_stop(struct host_state *hs)
{
	loop_timer_stop(hs->crawl->loop, &hs->robots_retry);
}

static int robots_task(void *arg, void **result)
{
	struct host_state *hs = arg;
	struct crawl *c = hs->crawl;
	char url[URL_HOST_MAX + 32];
	snprintf(url, sizeof url, "%s://%s/robots.txt", hs->scheme, hs->fh->key);
	struct fetch_opts o;
	fill_opts(c, &o);
	future_t *fut = NULL;
	struct fetch_response *resp = NULL;
	int rc = fetch(c->fetcher, url, &o, &fut);
	if (rc == 0)
		rc = task_await(fut, (void **)&resp);
	if (rc != CRAWL_ECANCELLED && robots_unavailable(rc, resp) &&
	    ++hs->robots_tries < CRAWL_ROBOTS_TRIES && c->state != CRAWL_CANCELLED) {
		hs->robots_state = ROBOTS_FETCHING; /* not pending: the timer re-lists it */
		loop_timer_after(c->loop, &hs->robots_retry, c->spec.robots_retry);
	} else if (rc != CRAWL_ECANCELLED) {
		robots_set(hs, robots_from(c, rc, resp));
	}
	future_unref(fut);
	*result = NULL;
	return 0;
}

static void robots_end(future_t *f, void *arg)
{
	struct host_state *hs = arg;
	struct crawl *c = hs->crawl;
	(void)f;
	task_unref(hs->robots_task);
	hs->robots_task = NULL;
	c->robots_inflight--;
	task_ended(c);
}

static void start_robots(struct crawl *c, struct host_state *hs)
{
	task_t *t;
	hs->robots_state = ROBOTS_FETCHING;
	if (task_create(c->loop, robots_task, hs, NULL, &t) != 0) {
		robots_set(hs, NULL); /* cannot ask: fetch without rules */
		return;
	}
	if (future_add_done_callback(task_future(t), robots_end, hs) != 0) {
		task_cancel(t); /* not started: its body never runs */
		task_unref(t);
		robots_set(hs, NULL);
		return;
	}
	hs->robots_task = t;
	c->robots_inflight++;
}

/* Hosts are listed when created, so a pump costs nothing per known host. */
void crawl__start_pending_robots(struct crawl *c)
{
	while (c->robots_pending) {
		struct host_state *hs = c->robots_pending;
		c->robots_pending = hs->next_pending;
		hs->next_pending = NULL;
		start_robots(c, hs);
	}
}

