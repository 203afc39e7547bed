/* test_crawl.c - the crawl engine end to end, against the simulated web and
 * against the local test server over real HTTP (loopback, allow_private).
 *
 * Every crawl records what its callbacks saw into a struct rec; the test
 * asserts after loop_run_until_complete returns (never inside a callback or
 * a task: cmocka's failed assert longjmps). Each crawl runs with a watchdog
 * on the loop that cancels it after WATCHDOG_S, so a hang is a failure, not
 * a stuck suite. Expected page sets are computed independently: from
 * simweb_links for the simulated web, and from the test server's link
 * formula (tests/testserver.c, page_href) for the real one. Timing checks
 * are lower bounds on the loop clock only. Every test runs twice, with
 * dedicated coroutine stacks and with shared stacks. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coro.h"
#include "crawl.h"
#include "fetch.h"
#include "simweb.h"
#include "task.h"
#include "tsupport.h"
#include "url.h"
#include "workers.h"

#define WATCHDOG_S 15.0
#define MAX_URLS 4096

/* ---- a growable list of strings ---- */

struct strs {
	char **v;
	size_t n, cap;
};

static void strs_add(struct strs *s, const char *str)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		assert_non_null(s->v);
	}
	s->v[s->n] = strdup(str);
	assert_non_null(s->v[s->n]);
	s->n++;
}

static int strs_find(const struct strs *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return (int)i;
	return -1;
}

static void strs_free(struct strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void strs_sort(struct strs *s)
{
	if (s->n)
		qsort(s->v, s->n, sizeof *s->v, cmp_str);
}

/* Sorted copy of s has no two equal strings; otherwise fails naming one. */
static void assert_no_dups(struct strs *s, const char *what)
{
	strs_sort(s);
	for (size_t i = 1; i < s->n; i++)
		if (strcmp(s->v[i - 1], s->v[i]) == 0)
			fail_msg("%s: %s appears twice", what, s->v[i]);
}

/* Both sets equal (sorted in place); a difference is named. */
static void assert_same_set(struct strs *got, struct strs *want)
{
	strs_sort(got);
	strs_sort(want);
	for (size_t i = 0; i < got->n || i < want->n; i++) {
		const char *g = i < got->n ? got->v[i] : "(none)";
		const char *w = i < want->n ? want->v[i] : "(none)";
		if (strcmp(g, w) != 0)
			fail_msg("sets differ at %zu (%zu vs %zu): got %s, want %s", i, got->n,
			         want->n, g, w);
	}
}

/* ---- what the callbacks saw ---- */

struct res {
	char *url;
	int status, error;
	unsigned depth, attempts, links;
	size_t bytes;
	double fetch_ms;
	uint64_t start, end; /* loop clock, ns */
};

struct rec {
	loop_t *loop;
	struct crawl *crawl;
	enum crawl_sort sort;
	struct res *r;
	size_t n, cap;
	size_t *batch_n; /* size of each batch, in order */
	size_t nbatches, bcap;
	struct strs batch_urls;
	int unsorted;  /* a batch was out of order */
	int mixed;     /* a batch held results of several depths */
	int per_depth; /* the crawl makes one batch per depth level */
	int done_calls;
	enum crawl_state end;
	struct crawl_stats st;
	int after_done; /* callbacks after done */
	int timed_out;
	/* Actions taken from the page callback when n reaches a count (0: never). */
	size_t pause_at, cancel_at, save_at;
	int pause_rc, cancel_rc, save_rc;
	char *fr;
	size_t flen, slen;
	void *seen;
};

static void on_page(void *arg, const struct crawl_result *r)
{
	struct rec *rc = arg;
	if (rc->done_calls)
		rc->after_done++;
	if (rc->n == rc->cap) {
		rc->cap = rc->cap ? rc->cap * 2 : 256;
		struct res *v = realloc(rc->r, rc->cap * sizeof *v);
		if (!v)
			abort();
		rc->r = v;
	}
	uint64_t now = loop_now(rc->loop);
	struct res *o = &rc->r[rc->n++];
	*o = (struct res){.url = strdup(r->url),
	                  .status = r->status,
	                  .error = r->error,
	                  .depth = r->depth,
	                  .attempts = r->attempts,
	                  .links = r->links,
	                  .bytes = r->bytes,
	                  .fetch_ms = r->fetch_ms,
	                  .end = now,
	                  .start = now - (uint64_t)llround(r->fetch_ms * 1e6)};
	if (rc->n == rc->pause_at)
		rc->pause_rc = crawl_pause(rc->crawl);
	if (rc->n == rc->save_at) {
		rc->save_rc = crawl_save(rc->crawl, &rc->fr, &rc->flen, &rc->seen, &rc->slen);
		crawl_cancel(rc->crawl);
	}
	if (rc->n == rc->cancel_at)
		rc->cancel_rc = crawl_cancel(rc->crawl);
}

static int key_cmp(enum crawl_sort k, const struct crawl_result *x, const struct crawl_result *y)
{
	int d = 0;
	if (k == CRAWL_SORT_STATUS)
		d = (x->status > y->status) - (x->status < y->status);
	else if (k == CRAWL_SORT_TIME)
		d = (x->fetch_ms > y->fetch_ms) - (x->fetch_ms < y->fetch_ms);
	else if (k == CRAWL_SORT_SIZE)
		d = (x->bytes > y->bytes) - (x->bytes < y->bytes);
	return d ? d : strcmp(x->url, y->url);
}

static void on_batch(void *arg, const struct crawl_result *const *rs, size_t n)
{
	struct rec *rc = arg;
	if (rc->done_calls)
		rc->after_done++;
	if (rc->nbatches == rc->bcap) {
		rc->bcap = rc->bcap ? rc->bcap * 2 : 64;
		size_t *v = realloc(rc->batch_n, rc->bcap * sizeof *v);
		if (!v)
			abort();
		rc->batch_n = v;
	}
	rc->batch_n[rc->nbatches++] = n;
	for (size_t i = 0; i < n; i++) {
		if (rs[i]->depth != rs[0]->depth)
			rc->mixed++;
		if (i && key_cmp(rc->sort, rs[i - 1], rs[i]) >= 0)
			rc->unsorted++;
		rc->batch_urls.v =
		    realloc(rc->batch_urls.v, (rc->batch_urls.n + 1) * sizeof(char *));
		if (!rc->batch_urls.v)
			abort();
		rc->batch_urls.v[rc->batch_urls.n++] = strdup(rs[i]->url);
	}
	rc->batch_urls.cap = rc->batch_urls.n;
}

static void on_done(void *arg, const struct crawl_stats *st, enum crawl_state end)
{
	struct rec *rc = arg;
	rc->done_calls++;
	rc->end = end;
	rc->st = *st;
}

static void rec_free(struct rec *rc)
{
	for (size_t i = 0; i < rc->n; i++)
		free(rc->r[i].url);
	free(rc->r);
	free(rc->batch_n);
	strs_free(&rc->batch_urls);
	free(rc->fr);
	free(rc->seen);
	memset(rc, 0, sizeof *rc);
}

static const struct res *rec_find(const struct rec *rc, const char *url)
{
	for (size_t i = 0; i < rc->n; i++)
		if (strcmp(rc->r[i].url, url) == 0)
			return &rc->r[i];
	return NULL;
}

static void rec_urls(const struct rec *rc, struct strs *out)
{
	for (size_t i = 0; i < rc->n; i++)
		strs_add(out, rc->r[i].url);
}

/* ---- the environment of one test ---- */

struct env {
	loop_t *loop;
	struct workers *workers; /* with g_parse_threads > 0 */
	struct fetcher *fr;
	struct simweb *web;
	struct tsupport_server srv;
	char robots_path[64];
};

/* The test's environment, for the teardown after a failed assert (which
 * skips env_fini): it stops the server so no child outlives the test. */
static struct env *live_env;

/* Parse threads of the group being run: 0 parses inline on the loop. */
static int g_parse_threads;

static void env_init(struct env *e, const char *simspec)
{
	char err[256] = "";
	memset(e, 0, sizeof *e);
	live_env = e;
	assert_int_equal(loop_new(&e->loop), 0);
	assert_int_equal(fetcher_new(e->loop, NULL, &e->fr), 0);
	if (g_parse_threads)
		assert_int_equal(workers_new(e->loop, g_parse_threads, &e->workers), 0);
	if (simspec) {
		if (simweb_new(&e->web, simspec, err, sizeof err) != 0)
			fail_msg("simweb_new(%s): %s", simspec, err);
		fetcher_set_simweb(e->fr, e->web);
	}
}

/* Starts the test server with args; robots (if not NULL) is served as robots.txt. */
static void env_server(struct env *e, const char *robots, const char *const *args)
{
	const char *argv[16];
	size_t n = 0;
	if (robots) {
		snprintf(e->robots_path, sizeof e->robots_path, "/tmp/test_crawl_robots.XXXXXX");
		int fd = mkstemp(e->robots_path);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, robots, strlen(robots)), (ssize_t)strlen(robots));
		close(fd);
		argv[n++] = "--robots";
		argv[n++] = e->robots_path;
	}
	for (size_t i = 0; args && args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	assert_int_equal(tsupport_server_start(&e->srv, argv), 0);
}

static void env_stop_server(struct env *e)
{
	tsupport_server_stop(&e->srv);
	if (e->robots_path[0])
		unlink(e->robots_path);
	e->robots_path[0] = '\0';
}

static void env_fini(struct env *e)
{
	live_env = NULL;
	env_stop_server(e);
	fetcher_free(e->fr);
	workers_free(e->workers); /* before the loop: it holds the pool's event */
	loop_free(e->loop);
	simweb_free(e->web);
}

/* Defaults for tests: no depth or page limit, fast retries. */
static void spec_init(struct crawl_spec *s, const char *const *seeds, size_t nseeds)
{
	crawl_spec_init(s);
	s->seeds = seeds;
	s->nseeds = nseeds;
	s->max_depth = 1000;
	s->max_pages = 0;
	s->backoff = 0.001;
	s->timeout = 5;
	s->per_host = 16; /* one simulated host: keep the tests quick */
}

static void watchdog(void *arg)
{
	struct rec *rc = arg;
	rc->timed_out = 1;
	crawl_cancel(rc->crawl);
}

static void crawl_begin(struct env *e, const struct crawl_spec *spec, struct rec *rc)
{
	char err[256] = "";
	struct crawl_spec ws = *spec, *s = &ws;
	ws.workers = e->workers;
	struct crawl_callbacks cb = {on_page, on_batch, on_done, rc};
	rc->loop = e->loop;
	rc->sort = s->sort_by;
	rc->per_depth = s->batch_size == 0;
	int r = crawl_new(&rc->crawl, e->loop, e->fr, s, &cb, err, sizeof err);
	if (r != 0)
		fail_msg("crawl_new: %s (%s)", crawl_errname(r), err);
}

/* Runs the loop until the crawl is done (bounded by the watchdog); frees it. */
static void crawl_finish(struct env *e, struct rec *rc)
{
	loop_handle_t *wd = NULL;
	void *result = NULL;
	assert_int_equal(loop_call_later(e->loop, WATCHDOG_S, watchdog, rc, &wd), 0);
	int r = loop_run_until_complete(e->loop, crawl_future(rc->crawl), &result);
	loop_handle_cancel(wd);
	assert_int_equal(r, 0);
	assert_ptr_equal(result, rc->crawl);
	assert_false(rc->timed_out);
	crawl_free(rc->crawl);
	rc->crawl = NULL;
}

/* What every finished crawl must satisfy. */
static void check_common(struct rec *rc)
{
	assert_int_equal(rc->done_calls, 1);
	assert_int_equal(rc->after_done, 0);
	assert_int_equal(rc->unsorted, 0);
	struct strs urls = {0};
	rec_urls(rc, &urls);
	assert_no_dups(&urls, "page callback");
	/* Every result is in exactly one batch (for a crawl that was not cancelled). */
	if (rc->end == CRAWL_DONE) {
		assert_same_set(&rc->batch_urls, &urls);
		if (rc->per_depth)
			assert_int_equal(rc->mixed, 0);
		uint64_t ok = 0, bad = 0;
		for (size_t i = 0; i < rc->n; i++) {
			if (rc->r[i].error || rc->r[i].status >= 400)
				bad++;
			else
				ok++;
		}
		assert_int_equal(rc->st.pages, ok);
		assert_int_equal(rc->st.errors, bad);
		assert_int_equal(rc->st.in_flight, 0);
	}
	strs_free(&urls);
}

static void run_crawl(struct env *e, const struct crawl_spec *s, struct rec *rc)
{
	crawl_begin(e, s, rc);
	assert_int_equal(crawl_start(rc->crawl), 0);
	assert_int_equal(crawl_state(rc->crawl), CRAWL_RUNNING);
	assert_int_equal(crawl_start(rc->crawl), CRAWL_EBUSY);
	crawl_finish(e, rc);
	check_common(rc);
}

/* ---- expected sets ---- */

typedef int (*url_pred)(void *arg, const char *url);

struct bfs {
	struct strs urls;
	unsigned depth[MAX_URLS];
	int has_page[MAX_URLS];
};

struct bfs_walk {
	struct bfs *b;
	unsigned depth;
	url_pred ok;
	void *ok_arg;
};

static void bfs_add(struct bfs *b, const char *url, unsigned depth)
{
	if (strs_find(&b->urls, url) >= 0)
		return;
	assert_true(b->urls.n < MAX_URLS);
	b->depth[b->urls.n] = depth;
	strs_add(&b->urls, url);
}

static int bfs_link(void *arg, const struct simweb_link *l)
{
	struct bfs_walk *w = arg;
	char *u = NULL;
	if (url_normalize(l->url, &u) != 0)
		return 0;
	if (!w->ok || w->ok(w->ok_arg, u))
		bfs_add(w->b, u, w->depth + 1);
	free(u);
	return 0;
}

/* Every URL a breadth-first crawl from seed reaches within max_depth on web,
 * keeping only links that ok accepts. */
static void sim_expect(const struct simweb *web, const char *seed, unsigned max_depth, url_pred ok,
                       void *ok_arg, struct bfs *b)
{
	memset(b, 0, sizeof *b);
	bfs_add(b, seed, 0);
	for (size_t i = 0; i < b->urls.n; i++) {
		if (b->depth[i] >= max_depth)
			continue;
		struct bfs_walk w = {b, b->depth[i], ok, ok_arg};
		char url[256];
		snprintf(url, sizeof url, "%s", b->urls.v[i]);
		int r = simweb_links(web, url, bfs_link, &w);
		b->has_page[i] = r == 0;
	}
}

/* ---- the simulated web ---- */

static const char *const sim_seed[] = {"sim://h0.sim/"};

static void test_sim_exact_count(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=500,links=5,offsite=0,broken=0,latency=uniform:1:3");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	struct rec rc = {0};
	uint64_t links = 0;
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.end, CRAWL_DONE);
	assert_int_equal(rc.n, 500);
	for (size_t i = 0; i < rc.n; i++) {
		assert_int_equal(rc.r[i].status, 200);
		assert_int_equal(rc.r[i].error, 0);
		assert_int_equal(rc.r[i].attempts, 1);
		assert_true(rc.r[i].links >= 1 && rc.r[i].links <= 5); /* distinct links */
		assert_true(rc.r[i].bytes > 0);
		links += rc.r[i].links;
	}
	assert_int_equal(rc.st.pages, 500);
	assert_int_equal(rc.st.errors, 0);
	assert_int_equal(rc.st.seen, 500);
	assert_int_equal(rc.st.queued, 0);
	assert_int_equal(rc.st.links, links);
	assert_int_equal(rc.st.robots_blocked, 0);
	/* Seeds are depth 0; nothing else is. */
	const struct res *seed = rec_find(&rc, "sim://h0.sim/");
	assert_non_null(seed);
	assert_int_equal(seed->depth, 0);
	for (size_t i = 0; i < rc.n; i++)
		if (&rc.r[i] != seed)
			assert_true(rc.r[i].depth > 0);
	rec_free(&rc);
	env_fini(&e);
}

/* Several hosts, broken and off-site links: the crawl finds exactly what a
 * breadth-first walk of the simulated web's links finds, and reports the
 * broken ones as 404s; off-site http links are out of scope. */
static void test_sim_matches_walk(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=60,hosts=3,links=6,offsite=0.1,broken=0.1,seed=7");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	const char *const doms[] = {"sim"};
	s.domains = doms;
	s.ndomains = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	struct bfs *b = calloc(1, sizeof *b);
	assert_non_null(b);
	sim_expect(e.web, "sim://h0.sim/", 1000, NULL, NULL, b);
	/* Off-site links are not sim URLs: the domain rule drops them. */
	struct strs want = {0}, got = {0};
	size_t broken = 0;
	for (size_t i = 0; i < b->urls.n; i++) {
		if (strncmp(b->urls.v[i], "sim:", 4) != 0)
			continue;
		strs_add(&want, b->urls.v[i]);
		broken += !b->has_page[i];
	}
	assert_true(broken > 0);
	rec_urls(&rc, &got);
	assert_same_set(&got, &want);
	size_t n404 = 0;
	for (size_t i = 0; i < rc.n; i++) {
		assert_true(rc.r[i].status == 200 || rc.r[i].status == 404);
		n404 += rc.r[i].status == 404;
		if (rc.r[i].status == 404)
			assert_int_equal(rc.r[i].error, 0); /* a response, not a failure */
	}
	assert_int_equal(n404, broken);
	assert_int_equal(rc.st.errors, broken);
	assert_int_equal(rc.st.pages, want.n - broken);
	strs_free(&want);
	strs_free(&got);
	strs_free(&b->urls);
	free(b);
	rec_free(&rc);
	env_fini(&e);
}

static void test_sim_depth_limit(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=200,links=8,offsite=0,broken=0");
	for (int depth = 0; depth <= 2; depth++) {
		struct crawl_spec s;
		spec_init(&s, sim_seed, 1);
		s.max_depth = depth;
		struct rec rc = {0};
		run_crawl(&e, &s, &rc);
		struct bfs *b = calloc(1, sizeof *b);
		assert_non_null(b);
		sim_expect(e.web, "sim://h0.sim/", (unsigned)depth, NULL, NULL, b);
		struct strs got = {0};
		rec_urls(&rc, &got);
		if (depth == 0)
			assert_int_equal(got.n, 1);
		assert_true(got.n < 200);
		for (size_t i = 0; i < rc.n; i++) {
			int k = strs_find(&b->urls, rc.r[i].url);
			assert_true(k >= 0);
			assert_true(rc.r[i].depth <= (unsigned)depth);
			if (depth <= 1) /* one page at depth 0: depths are exact */
				assert_int_equal(rc.r[i].depth, b->depth[k]);
		}
		assert_same_set(&got, &b->urls);
		strs_free(&got);
		strs_free(&b->urls);
		free(b);
		rec_free(&rc);
	}
	env_fini(&e);
}

static void test_sim_max_pages(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=500,links=5,offsite=0,broken=0,latency=fixed:1");
	long limits[] = {1, 10, 64, 65};
	for (size_t i = 0; i < sizeof limits / sizeof limits[0]; i++) {
		struct crawl_spec s;
		spec_init(&s, sim_seed, 1);
		s.max_pages = limits[i];
		struct rec rc = {0};
		run_crawl(&e, &s, &rc);
		assert_int_equal(rc.end, CRAWL_DONE);
		assert_int_equal(rc.n, (size_t)limits[i]);
		assert_int_equal(rc.st.pages, (uint64_t)limits[i]);
		rec_free(&rc);
	}
	/* max_bytes stops dispatching once the bytes received reach it. */
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	s.max_bytes = 20000;
	s.concurrency = 1;
	s.per_host = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	assert_true(rc.st.bytes >= 20000);
	assert_true(rc.n > 1 && rc.n < 500);
	assert_true(rc.st.bytes - rc.r[rc.n - 1].bytes < 20000);
	rec_free(&rc);
	env_fini(&e);
}

static int in_hosts_01(void *arg, const char *url)
{
	(void)arg;
	return strncmp(url, "sim://h0.sim/", 13) == 0 || strncmp(url, "sim://h1.sim/", 13) == 0;
}

static void test_sim_scope_domains(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=30,hosts=4,links=5,offsite=0.2,broken=0,seed=3");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	const char *const doms[] = {"h0.sim", "h1.sim"};
	s.domains = doms;
	s.ndomains = 2;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	struct bfs *b = calloc(1, sizeof *b);
	assert_non_null(b);
	sim_expect(e.web, "sim://h0.sim/", 1000, in_hosts_01, NULL, b);
	struct strs got = {0};
	rec_urls(&rc, &got);
	assert_int_equal(got.n, 60);
	assert_same_set(&got, &b->urls);
	strs_free(&got);
	strs_free(&b->urls);
	rec_free(&rc);

	/* No domains: the seeds' hosts only, so one host of four. */
	spec_init(&s, sim_seed, 1);
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 30);
	for (size_t i = 0; i < rc.n; i++)
		assert_int_equal(strncmp(rc.r[i].url, "sim://h0.sim/", 13), 0);
	rec_free(&rc);
	free(b);
	env_fini(&e);
}

struct regex_pred {
	regex_t inc, exc;
};

static int regex_ok(void *arg, const char *url)
{
	struct regex_pred *p = arg;
	return regexec(&p->inc, url, 0, NULL, 0) == 0 && regexec(&p->exc, url, 0, NULL, 0) != 0;
}

static void test_sim_scope_regex(void **state)
{
	(void)state;
	static const char inc[] = "^sim://h0\\.sim/(p/[0-9]*[02468])?$";
	static const char exc[] = "/p/[0-9]*4$";
	struct env e;
	env_init(&e, "pages=300,links=6,offsite=0,broken=0,seed=5");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	const char *const incl[] = {"^$", inc}; /* several: any one must match */
	const char *const excl[] = {exc};
	s.include = incl;
	s.ninclude = 2;
	s.exclude = excl;
	s.nexclude = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	struct regex_pred p;
	assert_int_equal(regcomp(&p.inc, inc, REG_EXTENDED | REG_NOSUB), 0);
	assert_int_equal(regcomp(&p.exc, exc, REG_EXTENDED | REG_NOSUB), 0);
	struct bfs *b = calloc(1, sizeof *b);
	assert_non_null(b);
	sim_expect(e.web, "sim://h0.sim/", 1000, regex_ok, &p, b);
	struct strs got = {0};
	rec_urls(&rc, &got);
	assert_true(got.n > 20);
	for (size_t i = 0; i < got.n; i++)
		if (!regex_ok(&p, got.v[i]))
			fail_msg("out of scope: %s", got.v[i]);
	assert_same_set(&got, &b->urls);
	regfree(&p.inc);
	regfree(&p.exc);
	strs_free(&got);
	strs_free(&b->urls);
	free(b);
	rec_free(&rc);
	env_fini(&e);
}

/* Transient 503s are retried until they succeed; attempts and the retry
 * count add up. */
static void test_sim_503_retry(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=100,links=4,offsite=0,broken=0,e503=0.3,seed=11");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	s.retries = 12;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 100);
	uint64_t retried = 0, extra = 0;
	for (size_t i = 0; i < rc.n; i++) {
		assert_int_equal(rc.r[i].status, 200);
		assert_true(rc.r[i].attempts >= 1);
		retried += rc.r[i].attempts > 1;
		extra += rc.r[i].attempts - 1;
	}
	assert_true(retried >= 10);
	assert_int_equal(rc.st.retries, extra);
	rec_free(&rc);

	/* Without retries the 503s are final. */
	spec_init(&s, sim_seed, 1);
	s.retries = 0;
	run_crawl(&e, &s, &rc);
	size_t n503 = 0;
	for (size_t i = 0; i < rc.n; i++) {
		assert_int_equal(rc.r[i].attempts, 1);
		n503 += rc.r[i].status == 503;
	}
	assert_true(n503 > 0);
	assert_int_equal(rc.st.retries, 0);
	rec_free(&rc);
	env_fini(&e);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Smallest gap between consecutive fetch starts of results whose URL
 * starts with prefix (UINT64_MAX if fewer than two). */
static uint64_t min_start_gap(const struct rec *rc, const char *prefix, size_t *count)
{
	uint64_t *t = calloc(rc->n + 1, sizeof *t);
	size_t n = 0;
	assert_non_null(t);
	for (size_t i = 0; i < rc->n; i++)
		if (strncmp(rc->r[i].url, prefix, strlen(prefix)) == 0)
			t[n++] = rc->r[i].start;
	qsort(t, n, sizeof *t, cmp_u64);
	uint64_t gap = UINT64_MAX;
	for (size_t i = 1; i < n; i++)
		if (t[i] - t[i - 1] < gap)
			gap = t[i] - t[i - 1];
	free(t);
	*count = n;
	return gap;
}

/* Starts measured in the task are at most one loop turn after the dispatch,
 * so a gap may look this much shorter than the real one. */
#define START_SLACK_NS 2000000u

static void test_sim_host_delay(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=5,hosts=2,links=3,offsite=0,broken=0,latency=fixed:1");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	s.delay = 0.04;
	s.per_host = 4;
	const char *const doms[] = {"sim"};
	s.domains = doms;
	s.ndomains = 1;
	struct rec rc = {0};
	uint64_t t0 = loop_update_time(e.loop);
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 10);
	size_t n0, n1;
	uint64_t g0 = min_start_gap(&rc, "sim://h0.sim/", &n0);
	uint64_t g1 = min_start_gap(&rc, "sim://h1.sim/", &n1);
	assert_int_equal(n0, 5);
	assert_int_equal(n1, 5);
	assert_true(g0 + START_SLACK_NS >= 40000000u);
	assert_true(g1 + START_SLACK_NS >= 40000000u);
	/* Five starts per host, 40 ms apart: at least 160 ms in all. */
	assert_true(loop_now(e.loop) - t0 >= 160000000u);
	rec_free(&rc);
	env_fini(&e);
}

/* Each batch is sorted by the key (URL breaks ties), the batches hold every
 * result once, for each key, with batches per depth and by size. */
static void test_sim_sorted_batches(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=120,links=4,offsite=0,broken=0.2,e404=0.05,latency=uniform:1:9,"
	             "size=3000,seed=9");
	for (int key = CRAWL_SORT_URL; key <= CRAWL_SORT_SIZE; key++) {
		for (int by_size = 0; by_size < 2; by_size++) {
			struct crawl_spec s;
			spec_init(&s, sim_seed, 1);
			s.sort_by = (enum crawl_sort)key;
			s.batch_size = by_size ? 16 : 0;
			struct rec rc = {0};
			run_crawl(&e, &s, &rc); /* checks order and the union */
			assert_true(rc.n > 60);
			assert_true(rc.nbatches >= 2);
			size_t total = 0;
			for (size_t i = 0; i < rc.nbatches; i++) {
				assert_true(rc.batch_n[i] > 0);
				total += rc.batch_n[i];
			}
			assert_int_equal(total, rc.n);
			int statuses = 0, sizes = 0;
			for (size_t i = 1; i < rc.n; i++) {
				statuses |= rc.r[i].status != rc.r[0].status;
				sizes |= rc.r[i].bytes != rc.r[0].bytes;
			}
			assert_true(statuses && sizes); /* the keys really differ */
			rec_free(&rc);
		}
	}
	env_fini(&e);
}

static void test_sim_batch_size(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=100,links=3,offsite=0,broken=0");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	s.batch_size = 7;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 100);
	assert_int_equal(rc.nbatches, 15);
	for (size_t i = 0; i < 14; i++)
		assert_int_equal(rc.batch_n[i], 7);
	assert_int_equal(rc.batch_n[14], 2);
	rec_free(&rc);

	/* A total that is a multiple of the size leaves no empty final batch. */
	s.batch_size = 25;
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.nbatches, 4);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(rc.batch_n[i], 25);
	rec_free(&rc);
	env_fini(&e);
}

/* Per-depth batches: the seed, then one batch per depth level, each holding
 * every URL of that depth and no other, whether the fetches run one at a
 * time or many at once with latencies that reorder their ends. */
static void test_sim_depth_batches(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=300,links=3,offsite=0,broken=0,latency=uniform:1:20,seed=4");
	for (int conc = 1; conc <= 32; conc *= 32) {
		struct crawl_spec s;
		spec_init(&s, sim_seed, 1);
		s.concurrency = conc;
		s.per_host = conc;
		struct rec rc = {0};
		run_crawl(&e, &s, &rc);
		assert_int_equal(rc.n, 300);
		assert_int_equal(rc.mixed, 0);
		unsigned maxd = 0;
		for (size_t i = 0; i < rc.n; i++)
			maxd = rc.r[i].depth > maxd ? rc.r[i].depth : maxd;
		assert_int_equal(rc.nbatches, maxd + 1);
		assert_int_equal(rc.batch_n[0], 1);
		for (size_t bi = 0; bi < rc.nbatches; bi++) {
			size_t want = 0;
			for (size_t i = 0; i < rc.n; i++)
				want += rc.r[i].depth == bi;
			assert_int_equal(rc.batch_n[bi], want);
		}
		rec_free(&rc);
	}
	env_fini(&e);
}

/* ---- pause, resume, cancel ---- */

struct ctl {
	struct rec *rc;
	size_t paused_count, later_count, final_queued;
	uint64_t in_flight_after;
	int saw_pause, resume_rc, save;
	int save_rc;
};

static int ctl_task(void *arg, void **result)
{
	struct ctl *c = arg;
	struct crawl *cr = c->rc->crawl;
	struct crawl_stats st;
	*result = NULL;
	for (int i = 0; i < 5000 && crawl_state(cr) == CRAWL_RUNNING; i++)
		task_sleep(0.001);
	c->saw_pause = crawl_state(cr) == CRAWL_PAUSED;
	crawl_stats(cr, &st);
	for (int i = 0; i < 5000 && st.in_flight > 0; i++) {
		task_sleep(0.001);
		crawl_stats(cr, &st);
	}
	c->paused_count = c->rc->n;
	task_sleep(0.1); /* loop time passes: nothing may start */
	crawl_stats(cr, &st);
	c->later_count = c->rc->n;
	c->in_flight_after = st.in_flight;
	c->final_queued = st.queued;
	if (c->save) {
		c->save_rc = crawl_save(cr, &c->rc->fr, &c->rc->flen, &c->rc->seen, &c->rc->slen);
		crawl_cancel(cr);
		return 0;
	}
	c->resume_rc = crawl_resume(cr);
	return 0;
}

static void test_sim_pause_resume(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=200,links=4,offsite=0,broken=0,latency=fixed:3");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	s.concurrency = 8;
	s.per_host = 8;
	struct rec rc = {.pause_at = 30};
	struct ctl c = {.rc = &rc};
	crawl_begin(&e, &s, &rc);
	assert_int_equal(crawl_pause(rc.crawl), CRAWL_EINVAL); /* not running yet */
	assert_int_equal(crawl_resume(rc.crawl), CRAWL_EINVAL);
	assert_int_equal(crawl_start(rc.crawl), 0);
	task_t *t;
	assert_int_equal(task_create(e.loop, ctl_task, &c, NULL, &t), 0);
	crawl_finish(&e, &rc);
	assert_int_equal(loop_run_until_complete(e.loop, task_future(t), NULL), 0);
	task_unref(t);
	check_common(&rc);
	assert_int_equal(rc.pause_rc, 0);
	assert_true(c.saw_pause);
	assert_true(c.paused_count >= 30);
	assert_true(c.paused_count <= 30 + 8); /* only fetches already in flight */
	assert_int_equal(c.later_count, c.paused_count);
	assert_int_equal(c.in_flight_after, 0);
	assert_true(c.final_queued > 0);
	assert_int_equal(c.resume_rc, 0);
	assert_int_equal(rc.end, CRAWL_DONE);
	assert_int_equal(rc.n, 200);
	rec_free(&rc);
	env_fini(&e);
}

static void test_sim_cancel(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=300,links=4,offsite=0,broken=0,latency=fixed:5");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	s.concurrency = 16;
	struct rec rc = {.cancel_at = 40};
	crawl_begin(&e, &s, &rc);
	assert_int_equal(crawl_start(rc.crawl), 0);
	crawl_finish(&e, &rc);
	check_common(&rc);
	assert_int_equal(rc.cancel_rc, 0);
	assert_int_equal(rc.end, CRAWL_CANCELLED);
	assert_int_equal(rc.n, 40); /* cancelled fetches are not reported */
	rec_free(&rc);

	/* Cancel while paused, and before the start. */
	rc = (struct rec){.pause_at = 10, .cancel_at = 10};
	crawl_begin(&e, &s, &rc);
	assert_int_equal(crawl_start(rc.crawl), 0);
	crawl_finish(&e, &rc);
	assert_int_equal(rc.end, CRAWL_CANCELLED);
	assert_int_equal(rc.n, 10);
	assert_int_equal(rc.done_calls, 1);
	rec_free(&rc);

	rc = (struct rec){0};
	crawl_begin(&e, &s, &rc);
	assert_int_equal(crawl_cancel(rc.crawl), 0);
	assert_int_equal(crawl_cancel(rc.crawl), CRAWL_EDONE);
	crawl_finish(&e, &rc);
	assert_int_equal(rc.end, CRAWL_CANCELLED);
	assert_int_equal(rc.n, 0);
	assert_int_equal(rc.done_calls, 1);
	rec_free(&rc);

	/* A finished crawl cannot be cancelled or paused. */
	rc = (struct rec){0};
	struct crawl_spec small;
	spec_init(&small, sim_seed, 1);
	small.max_pages = 3;
	crawl_begin(&e, &small, &rc);
	assert_int_equal(crawl_start(rc.crawl), 0);
	void *res;
	assert_int_equal(loop_run_until_complete(e.loop, crawl_future(rc.crawl), &res), 0);
	assert_int_equal(crawl_state(rc.crawl), CRAWL_DONE);
	assert_int_equal(crawl_cancel(rc.crawl), CRAWL_EDONE);
	assert_int_equal(crawl_pause(rc.crawl), CRAWL_EINVAL);
	crawl_free(rc.crawl);
	assert_int_equal(rc.n, 3);
	rec_free(&rc);
	env_fini(&e);
}

/* Freeing a crawl with fetches in flight, then running the loop on: the
 * cancelled tasks end without touching the freed crawl. */
static void test_sim_free_running(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=300,links=4,offsite=0,broken=0,latency=fixed:5");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	struct rec rc = {0};
	crawl_begin(&e, &s, &rc);
	assert_int_equal(crawl_start(rc.crawl), 0);
	future_t *f;
	assert_int_equal(sleep_future(e.loop, 0.02, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(e.loop, f, NULL), 0);
	future_unref(f);
	assert_true(rc.n > 0);
	size_t n = rc.n;
	crawl_free(rc.crawl);
	rc.crawl = NULL;
	assert_int_equal(sleep_future(e.loop, 0.05, NULL, &f), 0);
	assert_int_equal(loop_run_until_complete(e.loop, f, NULL), 0);
	future_unref(f);
	assert_int_equal(rc.n, n); /* nothing reported after the free */
	assert_int_equal(fetcher_inflight(e.fr), 0);
	rec_free(&rc);
	env_fini(&e);
}

/* ---- checkpoints ---- */

static void restore_and_run(struct env *e, const struct crawl_spec *s, struct rec *first,
                            struct rec *second)
{
	crawl_begin(e, s, second);
	assert_int_equal(
	    crawl_restore(second->crawl, first->fr, first->flen, first->seen, first->slen), 0);
	assert_int_equal(
	    crawl_restore(second->crawl, first->fr, first->flen, first->seen, first->slen),
	    CRAWL_EBUSY);
	assert_int_equal(crawl_start(second->crawl), 0);
	crawl_finish(e, second);
	check_common(second);
	assert_int_equal(second->end, CRAWL_DONE);
}

/* The union of the two halves is the uninterrupted crawl, with no URL in
 * both. */
static void check_halves(struct rec *whole, struct rec *a, struct rec *b)
{
	struct strs u = {0}, ab = {0};
	rec_urls(whole, &u);
	rec_urls(a, &ab);
	rec_urls(b, &ab);
	assert_no_dups(&ab, "first and second half");
	assert_same_set(&ab, &u);
	strs_free(&u);
	strs_free(&ab);
}

static void test_sim_save_restore(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=300,links=4,hosts=2,offsite=0,broken=0.05,latency=fixed:2");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	const char *const doms[] = {"sim"};
	s.domains = doms;
	s.ndomains = 1;
	s.concurrency = 8;
	s.per_host = 8;
	struct rec whole = {0};
	run_crawl(&e, &s, &whole);
	assert_true(whole.n > 600);

	/* Pause, let the fetches in flight end, save, cancel; restore elsewhere. */
	struct rec a = {.pause_at = 150}, b = {0};
	struct ctl c = {.rc = &a, .save = 1};
	crawl_begin(&e, &s, &a);
	assert_int_equal(crawl_start(a.crawl), 0);
	task_t *t;
	assert_int_equal(task_create(e.loop, ctl_task, &c, NULL, &t), 0);
	crawl_finish(&e, &a);
	assert_int_equal(loop_run_until_complete(e.loop, task_future(t), NULL), 0);
	task_unref(t);
	assert_int_equal(c.save_rc, 0);
	assert_int_equal(a.end, CRAWL_CANCELLED);
	assert_true(a.flen > 0 && a.slen > 0);
	restore_and_run(&e, &s, &a, &b);
	check_halves(&whole, &a, &b);
	rec_free(&a);
	rec_free(&b);

	/* Save with fetches in flight and cancel at once: the ones in flight are
	 * in the checkpoint and fetched by the restored crawl. */
	a = (struct rec){.save_at = 100};
	b = (struct rec){0};
	crawl_begin(&e, &s, &a);
	assert_int_equal(crawl_start(a.crawl), 0);
	crawl_finish(&e, &a);
	assert_int_equal(a.save_rc, 0);
	assert_int_equal(a.n, 100);
	restore_and_run(&e, &s, &a, &b);
	check_halves(&whole, &a, &b);
	rec_free(&a);
	rec_free(&b);
	rec_free(&whole);
	env_fini(&e);
}

static void test_restore_corrupt(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=20,links=3,offsite=0,broken=0");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	struct rec a = {.save_at = 5};
	crawl_begin(&e, &s, &a);
	assert_int_equal(crawl_start(a.crawl), 0);
	crawl_finish(&e, &a);
	assert_int_equal(a.save_rc, 0);
	assert_true(a.flen > 2);

	struct rec b = {0};
	crawl_begin(&e, &s, &b);
	/* A torn frontier (last line cut), a garbage seen-set, a bad line. */
	assert_int_equal(crawl_restore(b.crawl, a.fr, a.flen - 1, a.seen, a.slen), CRAWL_EINVAL);
	assert_int_equal(crawl_restore(b.crawl, a.fr, a.flen, "garbage", 7), CRAWL_EINVAL);
	assert_int_equal(crawl_restore(b.crawl, a.fr, a.flen, a.seen, a.slen / 2), CRAWL_EINVAL);
	assert_int_equal(crawl_restore(b.crawl, "x\ty\n", 4, a.seen, a.slen), CRAWL_EINVAL);
	assert_int_equal(crawl_restore(b.crawl, "0\t0\tnot a url\t\n", 15, a.seen, a.slen),
	                 CRAWL_EINVAL);
	/* Failed restores leave the crawl as it was: it starts from its seeds. */
	assert_int_equal(crawl_start(b.crawl), 0);
	crawl_finish(&e, &b);
	check_common(&b);
	assert_int_equal(b.n, 20);
	rec_free(&a);
	rec_free(&b);
	env_fini(&e);
}

/* ---- bad specs ---- */

static void expect_bad_spec(struct env *e, const struct crawl_spec *s, int want,
                            const char *msg_part)
{
	char err[256] = "";
	struct crawl *c = (struct crawl *)&err; /* must stay untouched */
	struct crawl *before = c;
	int r = crawl_new(&c, e->loop, e->fr, s, NULL, err, sizeof err);
	if (r != want)
		fail_msg("crawl_new gave %s, want %s (%s)", crawl_errname(r), crawl_errname(want),
		         err);
	assert_ptr_equal(c, before);
	if (!strstr(err, msg_part))
		fail_msg("message '%s' does not mention '%s'", err, msg_part);
}

static void test_bad_specs(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, NULL);
	struct crawl_spec s;
	spec_init(&s, NULL, 0);
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "seed");

	const char *const bad_url[] = {"http://example.com/", "not a url"};
	spec_init(&s, bad_url, 2);
	expect_bad_spec(&e, &s, CRAWL_EURL, "not a url");
	const char *const bad_scheme[] = {"ftp://example.com/"};
	spec_init(&s, bad_scheme, 1);
	expect_bad_spec(&e, &s, CRAWL_ESCHEME, "ftp://example.com/");
	const char *const relative[] = {"/page/1"};
	spec_init(&s, relative, 1);
	expect_bad_spec(&e, &s, CRAWL_EURL, "/page/1");

	const char *const ok[] = {"http://example.com/"};
	spec_init(&s, ok, 1);
	s.max_pages = -1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "negative");
	spec_init(&s, ok, 1);
	s.max_bytes = -5;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "negative");
	spec_init(&s, ok, 1);
	s.max_depth = -1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "depth");
	spec_init(&s, ok, 1);
	s.concurrency = 0;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "concurrency");
	spec_init(&s, ok, 1);
	s.per_host = s.concurrency + 1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "per-host");
	spec_init(&s, ok, 1);
	s.delay = -0.5;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "delay");
	spec_init(&s, ok, 1);
	s.delay = NAN;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "delay");
	spec_init(&s, ok, 1);
	s.retries = -1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "retries");
	spec_init(&s, ok, 1);
	s.timeout = 0;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "timeout");

	const char *const bad_re[] = {"([a-z"};
	spec_init(&s, ok, 1);
	s.include = bad_re;
	s.ninclude = 1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "include");
	spec_init(&s, ok, 1);
	s.exclude = bad_re;
	s.nexclude = 1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "exclude");
	const char *const bad_dom[] = {"bad domain!"};
	spec_init(&s, ok, 1);
	s.domains = bad_dom;
	s.ndomains = 1;
	expect_bad_spec(&e, &s, CRAWL_EINVAL, "domain");

	/* The names of sort keys and states. */
	enum crawl_sort k;
	assert_int_equal(crawl_sort_parse("size", &k), 0);
	assert_int_equal(k, CRAWL_SORT_SIZE);
	assert_int_equal(crawl_sort_parse("time", &k), 0);
	assert_int_equal(k, CRAWL_SORT_TIME);
	assert_int_equal(crawl_sort_parse("speed", &k), CRAWL_EINVAL);
	assert_string_equal(crawl_state_name(CRAWL_PAUSED), "paused");
	assert_string_equal(crawl_state_name((enum crawl_state)42), "unknown");
	env_fini(&e);
}

/* ---- real HTTP against the test server ---- */

/* The test server's generated site (tests/testserver.c, page_href): the
 * targets of page k's links, and its extra link. */
static long site_link(long pages, long k, long i)
{
	return i == 0 ? (k + 1) % pages : (k * 7 + i * 13 + 1) % pages;
}

/* Distinct http links on page k: its targets, and the off-site extra link
 * of every fourth page (mailto and javascript links do not count). */
static unsigned site_nlinks(long pages, long links, long k)
{
	unsigned n = k % 4 == 0;
	for (long i = 0; i < links; i++) {
		int dup = 0;
		for (long h = 0; h < i; h++)
			dup |= site_link(pages, k, h) == site_link(pages, k, i);
		n += !dup;
	}
	return n;
}

static void site_url(const struct env *e, long k, char *buf, size_t n)
{
	if (k == 0)
		snprintf(buf, n, "%s/", e->srv.base);
	else
		snprintf(buf, n, "%s/page/%ld", e->srv.base, k);
}

/* Pages reachable from / through pages not blocked (blocked[k] != 0). */
static void site_expect(const struct env *e, long pages, long links, const int *blocked,
                        struct strs *out, int *reached)
{
	long queue[1000];
	size_t qh = 0, qt = 0;
	memset(reached, 0, (size_t)pages * sizeof *reached);
	reached[0] = 1;
	queue[qt++] = 0;
	while (qh < qt) {
		long k = queue[qh++];
		char url[128];
		site_url(e, k, url, sizeof url);
		strs_add(out, url);
		if (blocked && blocked[k])
			continue;
		for (long i = 0; i < links; i++) {
			long j = site_link(pages, k, i);
			if (!reached[j]) {
				reached[j] = 1;
				queue[qt++] = j;
			}
		}
	}
}

static const char *seed_root(const struct env *e, char *buf, size_t n)
{
	snprintf(buf, n, "%s/", e->srv.base);
	return buf;
}

static void test_http_exact_count(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, NULL);
	env_server(&e, NULL, (const char *const[]){"--pages", "50", "--links", "4", NULL});
	char seed[96];
	const char *const seeds[] = {seed_root(&e, seed, sizeof seed)};
	struct crawl_spec s;
	spec_init(&s, seeds, 1);
	s.allow_private = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.end, CRAWL_DONE);
	assert_int_equal(rc.n, 50);
	struct strs want = {0}, got = {0};
	int reached[50];
	site_expect(&e, 50, 4, NULL, &want, reached);
	rec_urls(&rc, &got);
	assert_same_set(&got, &want);
	for (size_t i = 0; i < rc.n; i++) {
		assert_int_equal(rc.r[i].status, 200);
		assert_int_equal(rc.r[i].error, 0);
		assert_true(rc.r[i].bytes >= 8000);
		long k = 0;
		sscanf(rc.r[i].url + strlen(e.srv.base), "/page/%ld", &k);
		assert_int_equal(rc.r[i].links, site_nlinks(50, 4, k));
	}
	assert_int_equal(rc.st.pages, 50);
	strs_free(&want);
	strs_free(&got);
	rec_free(&rc);
	env_fini(&e);
}

static void test_http_robots(void **state)
{
	(void)state;
	static const char robots[] = "User-agent: otherbot\n"
	                             "Disallow: /\n"
	                             "\n"
	                             "User-agent: *\n"
	                             "Disallow: /private/\n"
	                             "Disallow: /page/1\n"
	                             "Allow: /page/12$\n"
	                             "Disallow: /*7$\n";
	struct env e;
	env_init(&e, NULL);
	env_server(&e, robots,
	           (const char *const[]){"--pages", "50", "--links", "5", "--private-links", NULL});
	char seed[96];
	const char *const seeds[] = {seed_root(&e, seed, sizeof seed)};
	struct crawl_spec s;
	spec_init(&s, seeds, 1);
	s.allow_private = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);

	int blocked[50] = {0}, reached[50];
	for (long k = 1; k < 50; k++) {
		char p[32];
		snprintf(p, sizeof p, "/page/%ld", k);
		blocked[k] = (strncmp(p, "/page/1", 7) == 0 && k != 12) || k % 10 == 7;
	}
	struct strs want = {0}, got = {0};
	site_expect(&e, 50, 5, blocked, &want, reached);
	char priv[128];
	snprintf(priv, sizeof priv, "%s/private/x", e.srv.base);
	strs_add(&want, priv);
	rec_urls(&rc, &got);
	assert_same_set(&got, &want);

	size_t nblocked = 0;
	for (size_t i = 0; i < rc.n; i++) {
		const struct res *r = &rc.r[i];
		long k = -1;
		sscanf(r->url + strlen(e.srv.base), "/page/%ld", &k);
		int is_blocked = (k > 0 && blocked[k]) || strcmp(r->url, priv) == 0;
		if (is_blocked) {
			/* Never fetched: /private/x would have answered 200. */
			if (r->error != CRAWL_EROBOTS || r->status != 0 || r->bytes != 0)
				fail_msg("%s: error %d status %d, want EROBOTS and no fetch",
				         r->url, r->error, r->status);
			assert_int_equal(r->links, 0);
			nblocked++;
		} else {
			assert_int_equal(r->error, 0);
			assert_int_equal(r->status, 200);
		}
	}
	assert_int_equal(nblocked, 15); /* 14 pages and /private/x */
	assert_int_equal(rc.st.robots_blocked, nblocked);
	assert_non_null(rec_find(&rc, priv));
	strs_free(&want);
	strs_free(&got);
	rec_free(&rc);

	/* With robots off, the same site is crawled whole, /private/x included. */
	spec_init(&s, seeds, 1);
	s.allow_private = 1;
	s.obey_robots = 0;
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 51);
	const struct res *p = rec_find(&rc, priv);
	assert_non_null(p);
	assert_int_equal(p->status, 200);
	rec_free(&rc);
	env_fini(&e);
}

/* RFC 9309 2.3.1.4: a robots.txt answering 5xx holds its host's URLs and is
 * asked again after robots_retry; after CRAWL_ROBOTS_TRIES such answers the
 * host is disallowed. */
static void test_http_robots_unavailable(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, NULL);
	env_server(&e, NULL,
	           (const char *const[]){"--pages", "6", "--links", "3", "--robots-fail", "2", NULL});
	char seed[96];
	const char *const seeds[] = {seed_root(&e, seed, sizeof seed)};
	struct crawl_spec s;
	spec_init(&s, seeds, 1);
	s.allow_private = 1;
	s.robots_retry = 0.1;
	struct rec rc = {0};
	uint64_t t0 = loop_update_time(e.loop);
	run_crawl(&e, &s, &rc);
	/* Two 503s, each waited out, then rules: every page, none refused. */
	assert_int_equal(rc.n, 6);
	for (size_t i = 0; i < rc.n; i++) {
		assert_int_equal(rc.r[i].error, 0);
		assert_int_equal(rc.r[i].status, 200);
	}
	assert_true(loop_now(e.loop) - t0 >= 200000000u);
	rec_free(&rc);
	env_stop_server(&e);

	/* Never available: after the last try the host is disallowed. */
	env_server(&e, NULL,
	           (const char *const[]){"--pages", "6", "--links", "3", "--robots-fail", "100", NULL});
	const char *const seeds2[] = {seed_root(&e, seed, sizeof seed)};
	spec_init(&s, seeds2, 1);
	s.allow_private = 1;
	s.robots_retry = 0.05;
	t0 = loop_update_time(e.loop);
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 1);
	assert_int_equal(rc.r[0].error, CRAWL_EROBOTS);
	assert_int_equal(rc.r[0].status, 0);
	assert_true(loop_now(e.loop) - t0 >= (CRAWL_ROBOTS_TRIES - 1) * 50000000u);
	rec_free(&rc);
	env_fini(&e);
}

static void test_http_crawl_delay(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, NULL);
	env_server(&e, "User-agent: *\nCrawl-delay: 0.05\n",
	           (const char *const[]){"--pages", "6", "--links", "3", NULL});
	char seed[96];
	const char *const seeds[] = {seed_root(&e, seed, sizeof seed)};
	struct crawl_spec s;
	spec_init(&s, seeds, 1);
	s.allow_private = 1;
	s.per_host = 4;
	struct rec rc = {0};
	uint64_t t0 = loop_update_time(e.loop);
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 6);
	size_t n;
	uint64_t gap = min_start_gap(&rc, e.srv.base, &n);
	assert_int_equal(n, 6);
	if (gap + START_SLACK_NS < 50000000u)
		fail_msg("fetch starts %.1f ms apart, Crawl-delay is 50 ms", (double)gap / 1e6);
	assert_true(loop_now(e.loop) - t0 >= 250000000u);
	rec_free(&rc);
	env_fini(&e);
}

static void test_http_statuses(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, NULL);
	env_server(&e, NULL, (const char *const[]){"--pages", "5", NULL});
	char u404[96], u503[96], u500[96];
	snprintf(u404, sizeof u404, "%s/page/999", e.srv.base);
	snprintf(u503, sizeof u503, "%s/status/503", e.srv.base);
	snprintf(u500, sizeof u500, "%s/status/500", e.srv.base);
	const char *const seeds[] = {u404, u503, u500};
	struct crawl_spec s;
	spec_init(&s, seeds, 3);
	s.allow_private = 1;
	s.retries = 2;
	const int only_503[] = {503};
	s.retry_statuses = only_503;
	s.nretry_statuses = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 3);
	const struct res *r = rec_find(&rc, u404);
	assert_non_null(r);
	assert_int_equal(r->status, 404);
	assert_int_equal(r->error, 0);
	assert_int_equal(r->attempts, 1);
	r = rec_find(&rc, u503);
	assert_non_null(r);
	assert_int_equal(r->status, 503);
	assert_int_equal(r->attempts, 3);
	r = rec_find(&rc, u500);
	assert_non_null(r);
	assert_int_equal(r->status, 500);
	assert_int_equal(r->attempts, 1); /* not in retry_statuses */
	assert_int_equal(rc.st.retries, 2);
	assert_int_equal(rc.st.errors, 3);
	assert_int_equal(rc.st.pages, 0);
	rec_free(&rc);
	env_fini(&e);
}

static void test_http_broken_html(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, NULL);
	env_server(&e, NULL, (const char *const[]){"--pages", "5", NULL});
	char seed[96];
	snprintf(seed, sizeof seed, "%s/broken", e.srv.base);
	const char *const seeds[] = {seed};
	struct crawl_spec s;
	spec_init(&s, seeds, 1);
	s.allow_private = 1;
	s.max_depth = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	struct strs want = {0}, got = {0};
	char u[128];
	strs_add(&want, seed);
	snprintf(u, sizeof u, "%s/page/1", e.srv.base);
	strs_add(&want, u);
	snprintf(u, sizeof u, "%s/page/2", e.srv.base);
	strs_add(&want, u);
	rec_urls(&rc, &got);
	assert_same_set(&got, &want);
	const struct res *b = rec_find(&rc, seed);
	assert_non_null(b);
	assert_int_equal(b->status, 200);
	assert_int_equal(b->links, 2);
	strs_free(&want);
	strs_free(&got);
	rec_free(&rc);
	env_fini(&e);
}

/* Simulated and real hosts in one crawl: each host's robots.txt is asked
 * for with its own scheme. */
static void test_mixed_seeds(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=10,links=2,offsite=0,broken=0,robots=1");
	env_server(&e, NULL, (const char *const[]){"--pages", "5", "--links", "2", NULL});
	char seed[96];
	const char *const seeds[] = {"sim://h0.sim/", seed_root(&e, seed, sizeof seed)};
	struct crawl_spec s;
	spec_init(&s, seeds, 2);
	s.allow_private = 1;
	struct rec rc = {0};
	run_crawl(&e, &s, &rc);
	assert_int_equal(rc.n, 15);
	size_t sim = 0;
	for (size_t i = 0; i < rc.n; i++) {
		if (rc.r[i].error)
			fail_msg("%s: %s", rc.r[i].url, crawl_strerror(rc.r[i].error));
		assert_int_equal(rc.r[i].status, 200);
		sim += strncmp(rc.r[i].url, "sim:", 4) == 0;
	}
	assert_int_equal(sim, 10);
	rec_free(&rc);
	env_fini(&e);
}

static void cancel_cb(void *arg)
{
	struct rec *rc = arg;
	rc->cancel_rc = crawl_cancel(rc->crawl);
}

/* A cancel does not wait for a robots.txt still being fetched. */
static void test_cancel_during_robots(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "pages=10,links=2,latency=fixed:2000");
	struct crawl_spec s;
	spec_init(&s, sim_seed, 1);
	struct rec rc = {0};
	crawl_begin(&e, &s, &rc);
	uint64_t t0 = loop_update_time(e.loop);
	assert_int_equal(crawl_start(rc.crawl), 0);
	loop_handle_t *h;
	assert_int_equal(loop_call_later(e.loop, 0.01, cancel_cb, &rc, &h), 0);
	crawl_finish(&e, &rc);
	loop_handle_release(h);
	assert_int_equal(rc.cancel_rc, 0);
	assert_int_equal(rc.end, CRAWL_CANCELLED);
	assert_int_equal(rc.n, 0);
	/* Done before the robots.txt answer (2 s of loop time) could come. */
	assert_true(loop_now(e.loop) - t0 < 1500000000u);
	assert_int_equal(fetcher_inflight(e.fr), 0);
	rec_free(&rc);
	env_fini(&e);
}

/* ---- both coroutine modes ---- */

static int setup_dedicated(void **state)
{
	(void)state;
	coro_default_shared(0);
	return 0;
}

static int setup_shared(void **state)
{
	(void)state;
	coro_default_shared(1);
	return 0;
}

static int teardown_test(void **state)
{
	(void)state;
	if (live_env)
		env_stop_server(live_env);
	live_env = NULL;
	return 0;
}

static int setup_dedicated_workers(void **state)
{
	g_parse_threads = 2;
	return setup_dedicated(state);
}

static int setup_shared_workers(void **state)
{
	g_parse_threads = 2;
	return setup_shared(state);
}

static int teardown_mode(void **state)
{
	(void)state;
	coro_default_shared(0);
	g_parse_threads = 0;
	return 0;
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown_test)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_sim_exact_count),  T(test_sim_matches_walk),  T(test_sim_depth_limit),
	    T(test_sim_max_pages),    T(test_sim_scope_domains), T(test_sim_scope_regex),
	    T(test_sim_503_retry),    T(test_sim_host_delay),    T(test_sim_sorted_batches),
	    T(test_sim_batch_size),   T(test_sim_depth_batches), T(test_sim_pause_resume),
	    T(test_sim_cancel),       T(test_sim_free_running),  T(test_sim_save_restore),
	    T(test_restore_corrupt),  T(test_bad_specs),         T(test_http_exact_count),
	    T(test_http_robots),      T(test_http_robots_unavailable), T(test_http_crawl_delay),  T(test_http_statuses),
	    T(test_http_broken_html), T(test_mixed_seeds),       T(test_cancel_during_robots),
	};
	int failed =
	    cmocka_run_group_tests_name("crawl_dedicated", tests, setup_dedicated, teardown_mode);
	failed += cmocka_run_group_tests_name("crawl_shared", tests, setup_shared, teardown_mode);
	failed += cmocka_run_group_tests_name("crawl_dedicated_workers", tests,
					      setup_dedicated_workers, teardown_mode);
	failed += cmocka_run_group_tests_name("crawl_shared_workers", tests, setup_shared_workers,
					      teardown_mode);
	return failed;
}
