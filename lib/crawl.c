/* crawl.c - the crawl engine: a job's spec, queue, results, pump and API.
 * One page's task and one host's robots.txt are in crawl_page.c. */
#include "crawl.h"
#include "crawl_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontier.h"
#include "pipeline.h"
#include "robots.h"
#include "seen.h"
#include "task.h"
#include "url.h"
#include "workers.h"

static const int default_retry[] = {429, 500, 502, 503, 504};

void crawl_spec_init(struct crawl_spec *s)
{
	memset(s, 0, sizeof *s);
	s->max_depth = 3;
	s->max_pages = 10000;
	s->concurrency = 64;
	s->per_host = 4;
	s->obey_robots = 1;
	s->robots_retry = 60;
	s->user_agent = "crawld/0.1";
	s->retries = 2;
	s->backoff = 0.5;
	s->retry_statuses = default_retry;
	s->nretry_statuses = sizeof default_retry / sizeof default_retry[0];
	s->timeout = 30;
	s->connect_timeout = 10;
	s->max_body = 10u << 20;
}

const char *crawl_state_name(enum crawl_state s)
{
	static const char *const names[] = {"idle", "running", "paused", "done", "cancelled"};
	return (unsigned)s < 5 ? names[s] : "unknown";
}

int crawl_sort_parse(const char *name, enum crawl_sort *out)
{
	static const char *const names[] = {"url", "status", "time", "size"};
	for (int i = 0; i < 4; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum crawl_sort)i;
			return 0;
		}
	}
	return CRAWL_EINVAL;
}

/* ---- spec copy and validation ---- */

/* Every copy the spec points at is tracked here and freed with the crawl. */
static void *track(struct crawl *c, void *p)
{
	if (!p)
		return NULL;
	char **v = realloc(c->strings, (c->nstrings + 1) * sizeof *v);
	if (!v) {
		free(p);
		return NULL;
	}
	c->strings = v;
	v[c->nstrings++] = p;
	return p;
}

static int copy_list(struct crawl *c, const char *const **list, size_t n)
{
	if (!n) {
		*list = NULL;
		return 0;
	}
	const char **v = track(c, calloc(n, sizeof *v));
	if (!v)
		return CRAWL_ENOMEM;
	for (size_t i = 0; i < n; i++)
		if (!(v[i] = track(c, strdup((*list)[i]))))
			return CRAWL_ENOMEM;
	*list = v;
	return 0;
}

static int copy_spec(struct crawl *c, const struct crawl_spec *in)
{
	struct crawl_spec *s = &c->spec;
	*s = *in;
	if (copy_list(c, &s->seeds, s->nseeds) || copy_list(c, &s->domains, s->ndomains) ||
	    copy_list(c, &s->include, s->ninclude) || copy_list(c, &s->exclude, s->nexclude))
		return CRAWL_ENOMEM;
	if (s->user_agent && !(s->user_agent = track(c, strdup(s->user_agent))))
		return CRAWL_ENOMEM;
	if (s->nretry_statuses) {
		int *r = track(c, malloc(s->nretry_statuses * sizeof *r));
		if (!r)
			return CRAWL_ENOMEM;
		memcpy(r, in->retry_statuses, s->nretry_statuses * sizeof *r);
		s->retry_statuses = r;
	}
	return 0;
}

static int check_spec(const struct crawl_spec *s, char *err, size_t len)
{
	const char *what = NULL;
	if (s->nseeds == 0)
		what = "at least one seed URL is required";
	else if (s->max_depth < 0 || s->max_depth > 1000)
		what = "depth must be from 0 to 1000";
	else if (s->max_pages < 0 || s->max_bytes < 0)
		what = "max pages and max bytes must not be negative";
	else if (s->concurrency < 1 || s->concurrency > 100000)
		what = "concurrency must be from 1 to 100000";
	else if (s->per_host < 1 || s->per_host > s->concurrency)
		what = "per-host concurrency must be from 1 to the total concurrency";
	else if (!(s->delay >= 0) || !(s->backoff >= 0) || !(s->timeout > 0))
		what = "delay and backoff must not be negative, timeout must be positive";
	else if (s->retries < 0 || s->retries > 20)
		what = "retries must be from 0 to 20";
	if (!what)
		return 0;
	snprintf(err, len, "%s", what);
	return CRAWL_EINVAL;
}

static int build_scope(struct crawl *c, char *err, size_t len)
{
	const struct crawl_spec *s = &c->spec;
	int rc = url_scope_new(&c->scope);
	for (size_t i = 0; rc == 0 && i < s->ndomains; i++)
		if ((rc = url_scope_add_domain(c->scope, s->domains[i])) == CRAWL_EINVAL)
			snprintf(err, len, "bad domain '%s'", s->domains[i]);
	for (size_t i = 0; rc == 0 && i < s->nseeds; i++) {
		char host[URL_HOST_MAX];
		rc = url_host(s->seeds[i], host, sizeof host);
		if (rc) {
			snprintf(err, len, "bad seed URL '%s': %s", s->seeds[i], crawl_strerror(rc));
			return rc;
		}
		if (!s->ndomains)
			rc = url_scope_add_domain(c->scope, host);
	}
	for (size_t i = 0; rc == 0 && i < s->ninclude; i++)
		if ((rc = url_scope_add_include(c->scope, s->include[i])))
			snprintf(err, len, "bad include pattern '%s'", s->include[i]);
	for (size_t i = 0; rc == 0 && i < s->nexclude; i++)
		if ((rc = url_scope_add_exclude(c->scope, s->exclude[i])))
			snprintf(err, len, "bad exclude pattern '%s'", s->exclude[i]);
	return rc;
}

/* ---- results and sorted batches ---- */

static void result_free(void *p)
{
	free(p);
}

/* One allocation: the record, then its strings. */
static struct crawl_result *result_copy(const struct crawl_result *r)
{
	const char *s[5] = {r->url, r->final_url, r->referrer, r->content_type, r->error_msg};
	size_t len[5], total = sizeof *r;
	for (int i = 0; i < 5; i++)
		total += (len[i] = s[i] ? strlen(s[i]) + 1 : 0);
	struct crawl_result *o = malloc(total);
	if (!o)
		return NULL;
	*o = *r;
	char *p = (char *)(o + 1);
	const char **dst[5] = {&o->url, &o->final_url, &o->referrer, &o->content_type, &o->error_msg};
	for (int i = 0; i < 5; i++) {
		*dst[i] = s[i] ? memcpy(p, s[i], len[i]) : NULL;
		p += len[i];
	}
	return o;
}

static int cmp_result(const void *a, const void *b, void *ctx)
{
	const struct crawl_result *x = a, *y = b;
	enum crawl_sort key = *(const enum crawl_sort *)ctx;
	int d = 0;
	if (key == CRAWL_SORT_STATUS)
		d = (x->status > y->status) - (x->status < y->status);
	else if (key == CRAWL_SORT_TIME)
		d = (x->fetch_ms > y->fetch_ms) - (x->fetch_ms < y->fetch_ms);
	else if (key == CRAWL_SORT_SIZE)
		d = (x->bytes > y->bytes) - (x->bytes < y->bytes);
	return d ? d : strcmp(x->url, y->url);
}

static void emit_batch(void *arg, struct pipeline_batch *b)
{
	struct crawl *c = arg;
	if (c->cb.batch && b->count)
		c->cb.batch(c->cb.arg, (const struct crawl_result *const *)b->items, b->count);
	for (size_t i = 0; i < b->count; i++)
		result_free(b->items[i]);
	pipeline_batch_free(b);
}

static void send_result(struct crawl *c, struct crawl_result *r)
{
	if (pipeline_send(c->pipe, r) == 0)
		c->batch_count++;
	else
		result_free(r);
}

/* A result of a deeper level than the one being collected waits for its
 * level's batch; without memory for that it goes in the current one. */
static void hold_result(struct crawl *c, struct crawl_result *r)
{
	if (c->nheld == c->held_cap) {
		size_t cap = c->held_cap ? c->held_cap * 2 : 64;
		struct crawl_result **v = realloc(c->held, cap * sizeof *v);
		if (!v) {
			send_result(c, r);
			return;
		}
		c->held = v;
		c->held_cap = cap;
	}
	c->held[c->nheld++] = r;
}

/* Opens the batch of level d: closes the current one, sends d's results. */
static void open_level(struct crawl *c, unsigned d)
{
	if (pipeline_pending(c->pipe))
		pipeline_end_batch(c->pipe);
	c->batch_count = 0;
	c->batch_depth = d;
	size_t k = 0;
	for (size_t i = 0; i < c->nheld; i++) {
		if (c->held[i]->depth == d)
			send_result(c, c->held[i]);
		else
			c->held[k++] = c->held[i];
	}
	c->nheld = k;
}

/* Per depth: level d's batch closes once no URL of depth d is open. Levels
 * close in order, and URLs of depth d + 1 only come from pages of depth d,
 * so the next level's count is final by then. */
static void close_levels(struct crawl *c)
{
	while (c->batch_depth <= (unsigned)c->spec.max_depth && !c->depth_open[c->batch_depth])
		open_level(c, c->batch_depth + 1);
}

/* At the end: whatever waits goes out, one batch per depth, in order. */
static void flush_held(struct crawl *c)
{
	while (c->nheld) {
		unsigned d = UINT32_MAX;
		for (size_t i = 0; i < c->nheld; i++)
			if (c->held[i]->depth < d)
				d = c->held[i]->depth;
		open_level(c, d);
	}
}

void crawl__record(struct crawl *c, const struct crawl_result *r)
{
	if (r->error || r->status >= 400)
		c->st.errors++;
	else
		c->st.pages++;
	c->st.bytes += r->bytes;
	c->st.links += r->links;
	if (c->cb.page)
		c->cb.page(c->cb.arg, r);
	if (r->depth <= (unsigned)c->spec.max_depth && c->depth_open[r->depth])
		c->depth_open[r->depth]--;
	struct crawl_result *copy = result_copy(r);
	if (copy && !c->spec.batch_size && r->depth > c->batch_depth)
		hold_result(c, copy);
	else if (copy)
		send_result(c, copy);
	if (!c->spec.batch_size) {
		close_levels(c);
	} else if (c->batch_count >= c->spec.batch_size) {
		pipeline_end_batch(c->pipe);
		c->batch_count = 0;
	}
}

/* ---- queueing ---- */

static int host_for(struct crawl *c, const char *url, struct frontier_host **out)
{
	char key[URL_HOST_MAX];
	int rc = url_host(url, key, sizeof key);
	if (rc)
		return rc;
	rc = frontier_host(c->fr, key, out);
	if (rc || (*out)->data)
		return rc;
	struct host_state *hs = calloc(1, sizeof *hs);
	if (!hs)
		return CRAWL_ENOMEM;
	hs->fh = *out;
	crawl__host_init(c, hs);
	/* URLs are normalised: the scheme is lower case, before the ':'. */
	size_t n = strcspn(url, ":");
	memcpy(hs->scheme, url, n < sizeof hs->scheme ? n : sizeof hs->scheme - 1);
	(*out)->data = hs;
	(*out)->delay_ns = (uint64_t)(c->spec.delay * 1e9);
	(*out)->ready = !c->spec.obey_robots;
	if (c->spec.obey_robots) {
		hs->next_pending = c->robots_pending;
		c->robots_pending = hs;
	}
	return 0;
}

static int push_url(void *arg, const char *url, const char *referrer, unsigned depth,
		    unsigned attempt)
{
	struct crawl *c = arg;
	struct frontier_host *h;
	int rc = host_for(c, url, &h);
	if (rc == 0)
		rc = frontier_push(c->fr, h, url, referrer, depth, attempt);
	if (rc == 0 && depth <= (unsigned)c->spec.max_depth)
		c->depth_open[depth]++;
	return rc;
}

/* A normalised URL enters the frontier once, if in scope and depth. Most
 * links of a page are known already: the seen-set's hash lookup answers
 * them before the scope check, which parses the URL (ten times dearer). */
int crawl__enqueue(struct crawl *c, const char *url, const char *referrer, unsigned depth)
{
	if (depth > (unsigned)c->spec.max_depth)
		return 0;
	uint64_t h = seen_hash(url, strlen(url));
	if (seen_contains_hash(c->seen, h) || !url_scope_allows(c->scope, url))
		return 0;
	int rc = seen_add_hash(c->seen, h);
	if (rc <= 0)
		return rc;
	return push_url(c, url, referrer, depth, 0);
}

/* ---- the pump ---- */

static int limits_reached(const struct crawl *c)
{
	return (c->spec.max_pages && c->dispatched >= c->spec.max_pages) ||
	       (c->spec.max_bytes && (long long)c->st.bytes >= c->spec.max_bytes);
}

static void finish(struct crawl *c, enum crawl_state end)
{
	if (c->state == CRAWL_DONE || (c->state == CRAWL_CANCELLED && future_done(c->done)))
		return;
	c->state = end;
	loop_timer_stop(c->loop, &c->pump_timer);
	flush_held(c);
	pipeline_finish(c->pipe);
	crawl_stats(c, &c->st);
	if (c->cb.done)
		c->cb.done(c->cb.arg, &c->st, end);
	future_set_result(c->done, c);
}

static int dispatch(struct crawl *c, struct frontier_item *it, struct frontier_host *h)
{
	struct page_job *j = calloc(1, sizeof *j);
	if (!j)
		return CRAWL_ENOMEM;
	j->crawl = c;
	j->item = *it;
	j->host = h;
	int rc = task_create(c->loop, crawl__page_task, j, NULL, &j->task);
	if (rc == 0 && (rc = future_add_done_callback(task_future(j->task), crawl__job_end, j)) != 0) {
		task_cancel(j->task); /* not started: its body never runs */
		task_unref(j->task);
	}
	if (rc) {
		free(j);
		return rc;
	}
	j->next = c->jobs;
	if (c->jobs)
		c->jobs->prev = j;
	c->jobs = j;
	c->inflight++;
	c->dispatched++;
	return 0;
}

void crawl__pump(struct crawl *c)
{
	if (c->state == CRAWL_RUNNING) {
		if (c->spec.obey_robots)
			crawl__start_pending_robots(c);
		uint64_t wake = 0, now = loop_update_time(c->loop);
		struct frontier_item it;
		struct frontier_host *h;
		while (c->inflight < c->spec.concurrency && !limits_reached(c) &&
		       frontier_next(c->fr, now, &it, &h, &wake) == 1) {
			if (dispatch(c, &it, h) != 0) {
				frontier_done(c->fr, h);
				frontier_item_clear(&it);
				break;
			}
		}
		if (wake && !limits_reached(c))
			loop_timer_at(c->loop, &c->pump_timer, wake);
	}
	int idle = c->inflight == 0 && c->robots_inflight == 0;
	if (idle && c->state == CRAWL_CANCELLED)
		finish(c, CRAWL_CANCELLED);
	else if (idle && c->state == CRAWL_RUNNING &&
		 (frontier_queued(c->fr) == 0 || limits_reached(c)))
		finish(c, CRAWL_DONE);
}

static void pump_cb(void *arg)
{
	crawl__pump(arg);
}

/* ---- the job's API ---- */

static void host_state_free(void *arg, struct frontier_host *h)
{
	(void)arg;
	struct host_state *hs = h->data;
	if (hs) {
		crawl__host_stop(hs);
		robots_free(hs->robots);
		task_unref(hs->robots_task); /* only left when the loop closed first */
	}
	free(hs);
	h->data = NULL;
}

static void cancel_robots(void *arg, struct frontier_host *h)
{
	(void)arg;
	struct host_state *hs = h->data;
	if (hs && hs->robots_task)
		task_cancel(hs->robots_task);
	if (hs)
		crawl__host_stop(hs); /* a host waiting to ask again asks no more */
}

static void cancel_tasks(struct crawl *c)
{
	for (struct page_job *j = c->jobs; j; j = j->next)
		task_cancel(j->task);
	if (c->robots_inflight)
		frontier_each_host(c->fr, cancel_robots, NULL);
}

/* Frees everything. Jobs are left only when the loop closed with their
 * tasks alive (their done callbacks never ran): drop them here. */
void crawl__destroy(struct crawl *c)
{
	while (c->jobs) {
		struct page_job *j = c->jobs;
		c->jobs = j->next;
		crawl__parse_free(j->parse);
		frontier_item_clear(&j->item);
		task_unref(j->task);
		free(j);
	}
	loop_timer_stop(c->loop, &c->pump_timer);
	pipeline_free(c->pipe);
	if (c->fr)
		frontier_each_host(c->fr, host_state_free, NULL);
	frontier_free(c->fr);
	seen_free(c->seen);
	url_scope_free(c->scope);
	future_unref(c->done);
	for (size_t i = 0; i < c->nstrings; i++)
		free(c->strings[i]);
	free(c->strings);
	free(c->depth_open);
	for (size_t i = 0; i < c->nheld; i++)
		result_free(c->held[i]);
	free(c->held);
	free(c);
}

void crawl_free(struct crawl *c)
{
	if (!c)
		return;
	memset(&c->cb, 0, sizeof c->cb); /* the caller hears nothing more */
	if ((c->inflight || c->robots_inflight) && !loop_is_closed(c->loop)) {
		/* Tasks still use c: cancel them, the last one's end frees. */
		c->freeing = 1;
		c->state = CRAWL_CANCELLED;
		cancel_tasks(c);
		loop_timer_stop(c->loop, &c->pump_timer);
		return;
	}
	crawl__destroy(c);
}

static int crawl_alloc(struct crawl *c)
{
	int rc = frontier_new(&c->fr, c->spec.per_host);
	if (rc == 0)
		rc = seen_new(&c->seen, 1024);
	if (rc == 0)
		rc = future_new(c->loop, &c->done);
	if (rc == 0)
		rc = pipeline_new_opts(&c->pipe, cmp_result, &c->spec.sort_by, emit_batch, c,
				       &(struct coro_opts){.shared = -1});
	if (rc == 0 && !(c->depth_open = calloc((size_t)c->spec.max_depth + 2, sizeof(uint32_t))))
		rc = CRAWL_ENOMEM;
	return rc;
}

int crawl_new(struct crawl **out, loop_t *l, struct fetcher *f, const struct crawl_spec *spec,
	      const struct crawl_callbacks *cb, char *err, size_t errlen)
{
	int rc = check_spec(spec, err, errlen);
	if (rc)
		return rc;
	struct crawl *c = calloc(1, sizeof *c);
	if (!c)
		return CRAWL_ENOMEM;
	c->loop = l;
	c->fetcher = f;
	if (cb)
		c->cb = *cb;
	loop_timer_init(&c->pump_timer, pump_cb, c);
	rc = copy_spec(c, spec);
	if (rc == 0)
		rc = build_scope(c, err, errlen);
	if (rc == 0)
		rc = crawl_alloc(c);
	if (rc) {
		if (rc == CRAWL_ENOMEM)
			snprintf(err, errlen, "out of memory");
		crawl__destroy(c);
		return rc;
	}
	*out = c;
	return 0;
}

int crawl_start(struct crawl *c)
{
	if (c->state != CRAWL_IDLE)
		return CRAWL_EBUSY;
	c->state = CRAWL_RUNNING;
	c->started = loop_update_time(c->loop);
	for (size_t i = 0; !c->restored && i < c->spec.nseeds; i++) {
		char *u = NULL;
		int rc = url_normalize(c->spec.seeds[i], &u);
		if (rc == 0)
			rc = crawl__enqueue(c, u, NULL, 0);
		free(u);
		if (rc < 0)
			return rc;
	}
	loop_timer_soon(c->loop, &c->pump_timer);
	return 0;
}

int crawl_pause(struct crawl *c)
{
	if (c->state != CRAWL_RUNNING)
		return CRAWL_EINVAL;
	c->state = CRAWL_PAUSED;
	loop_timer_stop(c->loop, &c->pump_timer);
	return 0;
}

int crawl_resume(struct crawl *c)
{
	if (c->state != CRAWL_PAUSED)
		return CRAWL_EINVAL;
	c->state = CRAWL_RUNNING;
	loop_timer_soon(c->loop, &c->pump_timer);
	return 0;
}

int crawl_cancel(struct crawl *c)
{
	if (c->state == CRAWL_DONE || c->state == CRAWL_CANCELLED)
		return CRAWL_EDONE;
	c->state = CRAWL_CANCELLED;
	cancel_tasks(c);
	loop_timer_soon(c->loop, &c->pump_timer);
	return 0;
}

enum crawl_state crawl_state(const struct crawl *c)
{
	return c->state;
}

void crawl_stats(const struct crawl *c, struct crawl_stats *st)
{
	*st = c->st;
	st->queued = frontier_queued(c->fr);
	st->in_flight = (uint64_t)c->inflight;
	st->seen = seen_count(c->seen);
	st->elapsed = c->started ? (double)(loop_now(c->loop) - c->started) / 1e9 : 0;
}

future_t *crawl_future(struct crawl *c)
{
	return c->done;
}

int crawl_save(const struct crawl *c, char **frontier, size_t *flen, void **seen, size_t *slen)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = frontier_save(c->fr, &buf, &len);
	if (rc)
		return rc;
	/* In-flight URLs go back to the queue: re-fetched after a restore. */
	FILE *m = open_memstream(frontier, flen);
	if (!m) {
		free(buf);
		return CRAWL_ENOMEM;
	}
	fwrite(buf, 1, len, m);
	for (const struct page_job *j = c->jobs; j; j = j->next)
		if (!j->reported)
			fprintf(m, "%u\t0\t%s\t%s\n", j->item.depth, j->item.url,
				j->item.referrer ? j->item.referrer : "");
	free(buf);
	if (fclose(m) != 0)
		return CRAWL_ENOMEM;
	rc = seen_save_buf(c->seen, seen, slen);
	if (rc) {
		free(*frontier);
		*frontier = NULL;
	}
	return rc;
}

/* A checkpoint line is usable if its URL names a host. */
static int check_line(void *arg, const char *url, const char *referrer, unsigned depth,
		      unsigned attempt)
{
	char key[URL_HOST_MAX];
	(void)arg, (void)referrer, (void)depth, (void)attempt;
	return url_host(url, key, sizeof key) == 0 ? 0 : CRAWL_EINVAL;
}

int crawl_restore(struct crawl *c, const char *frontier, size_t flen, const void *seen,
		  size_t slen)
{
	if (c->state != CRAWL_IDLE || c->restored)
		return CRAWL_EBUSY;
	/* Check everything before changing anything: a refused checkpoint leaves
	 * the crawl as it was, to start from its seeds. */
	int rc = frontier_parse(frontier, flen, check_line, NULL);
	if (rc)
		return rc;
	struct seen *s = NULL;
	if ((rc = seen_load_buf(&s, seen, slen)) != 0)
		return rc;
	seen_free(c->seen);
	c->seen = s;
	c->restored = 1;
	/* Only memory can fail now; the crawl then holds part of the queue. */
	return frontier_parse(frontier, flen, push_url, c);
}
