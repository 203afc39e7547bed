/* test_fetch.c - fetch through the simulated backend: responses, statuses
 * as successes, latency on the loop clock, timeouts, body limit, URL and
 * option errors, cancellation, many fetches in flight, freeing a fetcher
 * with fetches in flight. No assert runs inside a task: tasks record, the
 * test asserts after the loop returns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "simweb.h"
#include "task.h"

struct env {
	loop_t *loop;
	struct fetcher *fr;
	struct simweb *web;
};

static struct env *env_new(const char *spec)
{
	struct env *e = calloc(1, sizeof *e);
	char err[256] = "";
	assert_non_null(e);
	assert_int_equal(loop_new(&e->loop), 0);
	assert_int_equal(fetcher_new(e->loop, NULL, &e->fr), 0);
	if (simweb_new(&e->web, spec, err, sizeof err) != 0)
		fail_msg("simweb_new(%s): %s", spec, err);
	fetcher_set_simweb(e->fr, e->web);
	return e;
}

static void env_free(struct env *e)
{
	fetcher_free(e->fr);
	loop_free(e->loop);
	simweb_free(e->web);
	free(e);
}

/* ---- one fetch awaited by a task ---- */

struct one {
	struct fetcher *fr;
	const char *url;
	struct fetch_opts opts;
	int rc;
	future_t *f;
	double t0, t1;
};

static int one_body(void *arg, void **result)
{
	struct one *o = arg;
	loop_t *l = task_loop(task_current());
	void *r = NULL;
	o->t0 = loop_time(l);
	o->rc = fetch(o->fr, o->url, &o->opts, &o->f);
	if (o->rc == 0)
		o->rc = task_await(o->f, &r);
	o->t1 = loop_time(l);
	*result = r;
	return 0;
}

/* Runs one fetch in a task; the future stays in o->f (caller unrefs). */
static void run_one(struct env *e, struct one *o)
{
	task_t *t;
	o->fr = e->fr;
	assert_int_equal(task_create(e->loop, one_body, o, NULL, &t), 0);
	assert_int_equal(loop_run_until_complete(e->loop, task_future(t), NULL), 0);
	task_unref(t);
	assert_non_null(o->f);
}

static void test_opts_defaults(void **state)
{
	struct fetch_opts o;
	struct fetcher_limits lim;
	(void)state;
	memset(&o, 0x5a, sizeof o);
	fetch_opts_init(&o);
	assert_true(o.connect_timeout == 10 && o.timeout == 30);
	assert_int_equal(o.low_speed_limit, 1);
	assert_int_equal(o.low_speed_time, 30);
	assert_int_equal(o.max_redirects, 10);
	assert_int_equal(o.max_body, 16u * 1024 * 1024);
	assert_string_equal(o.accept_encoding, "");
	assert_string_equal(o.user_agent, FETCH_DEFAULT_USER_AGENT);
	assert_null(o.headers);
	assert_null(o.proxy);
	assert_int_equal(o.allow_private, 0);
	assert_null(o.allow_addrs);
	assert_null(o.simweb);
	assert_int_equal(o.attempt, 0);
	fetcher_limits_init(&lim);
	assert_int_equal(lim.max_total_connections, 256);
	assert_int_equal(lim.max_host_connections, 16);
	assert_int_equal(lim.max_idle_handles, 256);
}

static void test_sim_page(void **state)
{
	struct env *e = env_new("pages=10,latency=fixed:20,size=3000");
	struct one o = {.url = "sim://h0.sim/p/3"};
	struct simweb_page pg;
	(void)state;
	fetch_opts_init(&o.opts);
	run_one(e, &o);
	assert_int_equal(o.rc, 0);
	const struct fetch_response *r = fetch_response_of(o.f);
	assert_non_null(r);
	assert_int_equal(future_state(o.f), FUTURE_FINISHED);
	assert_ptr_equal(r, (void *)o.f->result);
	assert_int_equal(simweb_get(e->web, o.url, 0, &pg), 0);
	assert_int_equal(r->error, 0);
	assert_null(r->message);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->backend, FETCH_BACKEND_SIM);
	assert_string_equal(r->url, o.url);
	assert_string_equal(r->final_url, o.url);
	assert_int_equal(r->redirects, 0);
	assert_string_equal(r->content_type, "text/html; charset=utf-8");
	assert_string_equal(fetch_response_header(r, "content-type"), "text/html; charset=utf-8");
	assert_non_null(fetch_response_header(r, "CONTENT-LENGTH"));
	assert_int_equal(strtoul(fetch_response_header(r, "Content-Length"), NULL, 10), pg.body_len);
	assert_null(fetch_response_header(r, "X-Nope"));
	assert_int_equal(r->nheaders, 2);
	/* the body is exactly what the simulated web renders */
	char *want = malloc(pg.body_len);
	assert_non_null(want);
	assert_int_equal(simweb_render(e->web, o.url, want, pg.body_len), pg.body_len);
	assert_int_equal(r->body_len, pg.body_len);
	assert_memory_equal(r->body, want, pg.body_len);
	assert_int_equal(r->body[r->body_len], '\0');
	assert_true(strstr(r->body, "<title>Page 3</title>") != NULL);
	assert_true(r->bytes_received > r->body_len);
	free(want);
	/* latency on the loop clock */
	assert_true(o.t1 - o.t0 >= 0.020);
	assert_true(r->timings.total_us >= 20000);
	assert_int_equal(r->timings.first_byte_us, r->timings.total_us);
	future_unref(o.f);
	env_free(e);
}

/* 404, 500 and 503 are responses, not errors. */
static void test_sim_statuses(void **state)
{
	static const struct {
		const char *spec;
		long status;
	} cases[] = {{"e404=1", 404}, {"e500=1", 500}, {"e503=1", 503}, {"e404=0", 200}};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct env *e = env_new(cases[i].spec);
		struct one o = {.url = "sim://h0.sim/p/7"};
		fetch_opts_init(&o.opts);
		run_one(e, &o);
		assert_int_equal(o.rc, 0);
		const struct fetch_response *r = fetch_response_of(o.f);
		assert_int_equal(r->status, cases[i].status);
		assert_int_equal(r->error, 0);
		assert_non_null(r->body);
		if (cases[i].status != 200)
			assert_int_equal(r->body_len, 0);
		else
			assert_true(r->body_len > 0);
		future_unref(o.f);
		env_free(e);
	}
}

/* The attempt number reaches the simulated web: transient 503s change. */
static void test_sim_attempts(void **state)
{
	struct env *e = env_new("e503=0.5,pages=1000");
	struct simweb_page pg;
	char url[64];
	int differ = 0;
	(void)state;
	for (unsigned p = 1; p < 40 && !differ; p++) {
		snprintf(url, sizeof url, "sim://h0.sim/p/%u", p);
		for (unsigned a = 0; a < 3; a++) {
			struct one o = {.url = url};
			fetch_opts_init(&o.opts);
			o.opts.attempt = a;
			run_one(e, &o);
			assert_int_equal(simweb_get(e->web, url, a, &pg), 0);
			assert_int_equal(o.rc, 0);
			assert_int_equal(fetch_response_of(o.f)->status, pg.status);
			if (a > 0 && fetch_response_of(o.f)->status != 503)
				differ = 1;
			future_unref(o.f);
		}
	}
	assert_true(differ);
	env_free(e);
}

static void test_sim_timeout(void **state)
{
	(void)state;
	/* a page that never answers: ETIMEDOUT after the configured timeout */
	struct env *e = env_new("timeout=1");
	struct one o = {.url = "sim://h0.sim/p/1"};
	fetch_opts_init(&o.opts);
	o.opts.timeout = 0.05;
	run_one(e, &o);
	assert_int_equal(o.rc, CRAWL_ETIMEDOUT);
	assert_int_equal(future_error(o.f), CRAWL_ETIMEDOUT);
	const struct fetch_response *r = fetch_response_of(o.f);
	assert_non_null(r);
	assert_int_equal(r->error, CRAWL_ETIMEDOUT);
	assert_non_null(r->message);
	assert_non_null(strstr(r->message, "timed out"));
	assert_non_null(strstr(r->message, o.url));
	assert_null(r->body);
	assert_true(o.t1 - o.t0 >= 0.05);
	assert_true(o.t1 - o.t0 < 1.0);
	future_unref(o.f);
	env_free(e);

	/* slower than the timeout: ETIMEDOUT at the timeout, not the latency */
	e = env_new("latency=fixed:3000");
	struct one p = {.url = "sim://h0.sim/"};
	fetch_opts_init(&p.opts);
	p.opts.timeout = 0.03;
	run_one(e, &p);
	assert_int_equal(p.rc, CRAWL_ETIMEDOUT);
	assert_true(p.t1 - p.t0 >= 0.03 && p.t1 - p.t0 < 1.0);
	future_unref(p.f);
	env_free(e);
}

static void test_sim_body_limit(void **state)
{
	struct env *e = env_new("size=4096");
	struct simweb_page pg;
	const char *url = "sim://h0.sim/p/2";
	(void)state;
	assert_int_equal(simweb_get(e->web, url, 0, &pg), 0);
	/* one byte over the limit fails */
	struct one o = {.url = url};
	fetch_opts_init(&o.opts);
	o.opts.max_body = pg.body_len - 1;
	run_one(e, &o);
	assert_int_equal(o.rc, CRAWL_EBODYTOOLARGE);
	const struct fetch_response *r = fetch_response_of(o.f);
	assert_int_equal(r->error, CRAWL_EBODYTOOLARGE);
	assert_int_equal(r->status, 200);
	assert_null(r->body);
	assert_non_null(strstr(r->message, "over the limit"));
	future_unref(o.f);
	/* exactly at the limit passes */
	struct one p = {.url = url};
	fetch_opts_init(&p.opts);
	p.opts.max_body = pg.body_len;
	run_one(e, &p);
	assert_int_equal(p.rc, 0);
	assert_int_equal(fetch_response_of(p.f)->body_len, pg.body_len);
	future_unref(p.f);
	env_free(e);
}

/* URL problems fail the future at once, before the loop runs. */
static void test_url_errors_at_once(void **state)
{
	static const struct {
		const char *url;
		int err;
	} cases[] = {
		{"ftp://example.com/", CRAWL_ESCHEME},
		{"FILE:///etc/passwd", CRAWL_ESCHEME},
		{"javascript:alert(1)", CRAWL_ESCHEME},
		{"mailto:a@b.c", CRAWL_ESCHEME},
		{"not a url", CRAWL_EURL},
		{"", CRAWL_EURL},
		{"//example.com/", CRAWL_EURL},
		{"http//example.com/", CRAWL_EURL},
		{"http://", CRAWL_EURL},
		{"http://exa mple.com/", CRAWL_EURL},
		{"http://example.com:99999/", CRAWL_EURL},
		{"https://[::1/", CRAWL_EURL},
		{"sim://h0.sim:80/", CRAWL_EURL},
		{"sim://", CRAWL_EURL},
		{"sim://h9.sim/", CRAWL_EDNS}, /* hosts=1 */
		{"sim://nohost/", CRAWL_EDNS},
	};
	struct env *e = env_new("hosts=1");
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		future_t *f = NULL;
		assert_int_equal(fetch(e->fr, cases[i].url, NULL, &f), 0);
		assert_non_null(f);
		if (!future_done(f) || future_error(f) != cases[i].err)
			fail_msg("%s: done %d error %s, want %s", cases[i].url, future_done(f),
				 crawl_errname(future_error(f)), crawl_errname(cases[i].err));
		const struct fetch_response *r = fetch_response_of(f);
		assert_non_null(r);
		assert_int_equal(r->error, cases[i].err);
		assert_non_null(r->message);
		assert_null(r->body);
		future_unref(f);
	}
	assert_int_equal(fetcher_inflight(e->fr), 0);
	/* too long */
	size_t n = FETCH_URL_MAX + 10;
	char *big = malloc(n + 1);
	assert_non_null(big);
	memcpy(big, "http://a.com/", 13);
	memset(big + 13, 'a', n - 13);
	big[n] = '\0';
	future_t *f;
	assert_int_equal(fetch(e->fr, big, NULL, &f), 0);
	assert_int_equal(future_error(f), CRAWL_EURL);
	future_unref(f);
	free(big);
	env_free(e);
}

static void test_bad_arguments(void **state)
{
	struct env *e = env_new(NULL);
	struct fetch_opts o;
	future_t *f = NULL;
	const char *crlf[] = {"X-A: 1\r\nX-Injected: 2", NULL};
	const char *nocolon[] = {"X-A 1", NULL};
	const char *many[FETCH_HEADERS_MAX + 2];
	(void)state;
	assert_int_equal(fetch(NULL, "sim://h0.sim/", NULL, &f), CRAWL_EINVAL);
	assert_int_equal(fetch(e->fr, NULL, NULL, &f), CRAWL_EINVAL);
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", NULL, NULL), CRAWL_EINVAL);
	fetch_opts_init(&o);
	o.timeout = -1;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", &o, &f), CRAWL_EINVAL);
	o.timeout = 0;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", &o, &f), CRAWL_EINVAL);
	o.timeout = NAN;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", &o, &f), CRAWL_EINVAL);
	o.timeout = INFINITY;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", &o, &f), CRAWL_EINVAL);
	fetch_opts_init(&o);
	o.connect_timeout = -0.5;
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	fetch_opts_init(&o);
	o.max_redirects = -1;
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	fetch_opts_init(&o);
	o.headers = crlf;
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	o.headers = nocolon;
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	for (size_t i = 0; i < FETCH_HEADERS_MAX + 1; i++)
		many[i] = "X-Many: 1";
	many[FETCH_HEADERS_MAX + 1] = NULL;
	o.headers = many;
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	fetch_opts_init(&o);
	o.allow_addrs = "localhost";
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	fetch_opts_init(&o);
	o.user_agent = NULL;
	assert_int_equal(fetch(e->fr, "http://example.com/", &o, &f), CRAWL_EINVAL);
	/* a sim fetch needs a simulated web */
	fetcher_set_simweb(e->fr, NULL);
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", NULL, &f), CRAWL_EINVAL);
	assert_int_equal(fetcher_inflight(e->fr), 0);
	assert_null(fetch_response_of(NULL));
	assert_int_equal(fetcher_new(NULL, NULL, &e->fr), CRAWL_EINVAL);
	env_free(e);
}

/* opts->simweb wins over the fetcher's. */
static void test_simweb_choice(void **state)
{
	struct env *e = env_new("e404=1");
	struct simweb *ok;
	(void)state;
	assert_int_equal(simweb_new(&ok, "e404=0", NULL, 0), 0);
	struct one o = {.url = "sim://h0.sim/p/1"};
	fetch_opts_init(&o.opts);
	o.opts.simweb = ok;
	run_one(e, &o);
	assert_int_equal(fetch_response_of(o.f)->status, 200);
	future_unref(o.f);
	struct one p = {.url = "sim://h0.sim/p/1"};
	fetch_opts_init(&p.opts);
	run_one(e, &p);
	assert_int_equal(fetch_response_of(p.f)->status, 404);
	future_unref(p.f);
	simweb_free(ok);
	env_free(e);
}

/* ---- cancel ---- */

static void cancel_cb(void *arg)
{
	task_cancel(arg);
}

static void test_sim_cancel_task(void **state)
{
	struct env *e = env_new("latency=fixed:5000");
	struct one o = {.url = "sim://h0.sim/"};
	task_t *t;
	loop_handle_t *h;
	(void)state;
	fetch_opts_init(&o.opts);
	o.fr = e->fr;
	assert_int_equal(task_create(e->loop, one_body, &o, NULL, &t), 0);
	assert_int_equal(loop_call_later(e->loop, 0.02, cancel_cb, t, &h), 0);
	double t0 = loop_time(e->loop);
	assert_int_equal(loop_run_until_complete(e->loop, task_future(t), NULL), 0);
	assert_true(loop_time(e->loop) - t0 < 1.0);
	loop_handle_release(h);
	/* the await saw the cancellation; the fetch future is CANCELLED */
	assert_int_equal(o.rc, CRAWL_ECANCELLED);
	assert_int_equal(future_state(o.f), FUTURE_CANCELLED);
	const struct fetch_response *r = fetch_response_of(o.f);
	assert_non_null(r);
	assert_int_equal(r->error, CRAWL_ECANCELLED);
	assert_int_equal(fetcher_inflight(e->fr), 0);
	future_unref(o.f);
	task_unref(t);
	env_free(e);
}

static void test_sim_cancel_future(void **state)
{
	struct env *e = env_new("latency=fixed:50");
	future_t *f, *g;
	(void)state;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/p/1", NULL, &f), 0);
	assert_int_equal(fetch(e->fr, "sim://h0.sim/p/2", NULL, &g), 0);
	assert_int_equal(fetcher_inflight(e->fr), 2);
	assert_int_equal(future_cancel(f), 0);
	assert_int_equal(future_cancel(f), CRAWL_EDONE);
	assert_int_equal(fetcher_inflight(e->fr), 1);
	assert_int_equal(loop_run_until_complete(e->loop, g, NULL), 0);
	assert_int_equal(future_state(f), FUTURE_CANCELLED);
	assert_int_equal(fetch_response_of(g)->status, 200);
	assert_int_equal(future_cancel(g), CRAWL_EDONE);
	future_unref(f);
	future_unref(g);
	env_free(e);
}

/* ---- many in flight ---- */

#define MANY 10000

struct many {
	loop_t *loop;
	const struct simweb *web;
	size_t done, ok, bad_len, out_of_order, early;
	double last, start;
};

struct one_cb {
	struct many *m;
	future_t *f;
	double latency;
};

static void many_done(future_t *f, void *arg)
{
	struct one_cb *c = arg;
	struct many *m = c->m;
	struct simweb_page pg;
	double now = loop_time(m->loop);
	const struct fetch_response *r = fetch_response_of(f);
	m->done++;
	if (future_error(f) == 0 && r->status == 200)
		m->ok++;
	if (simweb_get(m->web, r->url, 0, &pg) != 0 || pg.body_len != r->body_len)
		m->bad_len++;
	if (now < m->last)
		m->out_of_order++;
	if (now - m->start < c->latency / 1000.0 - 1e-6)
		m->early++;
	m->last = now;
}

static void test_sim_many_in_flight(void **state)
{
	struct env *e = env_new("pages=100000,latency=uniform:1:50,size=512");
	struct many m = {.loop = e->loop, .web = e->web};
	struct one_cb *cbs = calloc(MANY, sizeof *cbs);
	char url[64];
	(void)state;
	assert_non_null(cbs);
	m.start = loop_time(e->loop);
	for (size_t i = 0; i < MANY; i++) {
		struct simweb_page pg;
		snprintf(url, sizeof url, "sim://h0.sim/p/%zu", i + 1);
		assert_int_equal(simweb_get(e->web, url, 0, &pg), 0);
		cbs[i].m = &m;
		cbs[i].latency = pg.latency_ms;
		assert_int_equal(fetch(e->fr, url, NULL, &cbs[i].f), 0);
		assert_int_equal(future_add_done_callback(cbs[i].f, many_done, &cbs[i]), 0);
	}
	assert_int_equal(fetcher_inflight(e->fr), MANY);
	for (size_t i = 0; i < MANY; i++)
		if (!future_done(cbs[i].f))
			assert_int_equal(loop_run_until_complete(e->loop, cbs[i].f, NULL), 0);
	/* let the last callbacks run */
	future_t *s;
	assert_int_equal(sleep_future(e->loop, 0, NULL, &s), 0);
	assert_int_equal(loop_run_until_complete(e->loop, s, NULL), 0);
	future_unref(s);
	assert_int_equal(m.done, MANY);
	assert_int_equal(m.ok, MANY);
	assert_int_equal(m.bad_len, 0);
	assert_int_equal(m.out_of_order, 0);
	assert_int_equal(m.early, 0);
	/* all ran concurrently, not one after another */
	assert_true(m.last - m.start < 0.05 * 50);
	assert_int_equal(fetcher_inflight(e->fr), 0);
	for (size_t i = 0; i < MANY; i++)
		future_unref(cbs[i].f);
	free(cbs);
	env_free(e);
}

/* Tasks that each fetch several pages in sequence. */
struct crawler {
	struct fetcher *fr;
	unsigned id, fetched, failed;
};

static int crawler_body(void *arg, void **result)
{
	struct crawler *c = arg;
	char url[64];
	(void)result;
	for (unsigned i = 0; i < 10; i++) {
		future_t *f;
		void *r;
		snprintf(url, sizeof url, "sim://h%u.sim/p/%u", c->id % 4, i + 1);
		if (fetch(c->fr, url, NULL, &f) != 0) {
			c->failed++;
			continue;
		}
		if (task_await(f, &r) == 0 && ((struct fetch_response *)r)->status == 200)
			c->fetched++;
		else
			c->failed++;
		future_unref(f);
	}
	return 0;
}

static void test_sim_tasks(void **state)
{
	struct env *e = env_new("hosts=4,latency=uniform:0:5");
	struct crawler cs[100];
	task_t *ts[100];
	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		cs[i] = (struct crawler){.fr = e->fr, .id = i};
		assert_int_equal(task_create(e->loop, crawler_body, &cs[i], NULL, &ts[i]), 0);
	}
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(loop_run_until_complete(e->loop, task_future(ts[i]), NULL), 0);
		task_unref(ts[i]);
	}
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(cs[i].fetched, 10);
		assert_int_equal(cs[i].failed, 0);
	}
	env_free(e);
}

/* Freeing the fetcher cancels what is in flight; nothing leaks. */
static void test_free_with_inflight(void **state)
{
	struct env *e = env_new("latency=fixed:1000");
	future_t *f[50];
	(void)state;
	for (int i = 0; i < 50; i++)
		assert_int_equal(fetch(e->fr, "sim://h0.sim/p/1", NULL, &f[i]), 0);
	assert_int_equal(fetcher_inflight(e->fr), 50);
	fetcher_free(e->fr);
	e->fr = NULL;
	for (int i = 0; i < 50; i++) {
		assert_int_equal(future_state(f[i]), FUTURE_CANCELLED);
		assert_int_equal(fetch_response_of(f[i])->error, CRAWL_ECANCELLED);
		future_unref(f[i]);
	}
	env_free(e);
}

/* A million zero-latency fetches would be the benchmark; here a quick
 * check that zero latency completes on the next loop iteration. */
static void test_sim_zero_latency(void **state)
{
	struct env *e = env_new("latency=fixed:0");
	future_t *f;
	(void)state;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", NULL, &f), 0);
	assert_false(future_done(f));
	assert_int_equal(loop_run_until_complete(e->loop, f, NULL), 0);
	assert_int_equal(fetch_response_of(f)->status, 200);
	assert_true(fetch_response_of(f)->timings.total_us < 1000000);
	future_unref(f);
	env_free(e);
}

/* A zero-latency fetch's timer sits in the loop's ready queue; cancelling
 * it and dropping the future at once frees that timer before the loop
 * runs again (a stopped timer must be out of every loop list). */
static void test_sim_cancel_queued_then_free(void **state)
{
	struct env *e = env_new("latency=fixed:0");
	future_t *f[3], *s;
	(void)state;
	for (int i = 0; i < 3; i++)
		assert_int_equal(fetch(e->fr, "sim://h0.sim/", NULL, &f[i]), 0);
	assert_int_equal(future_cancel(f[1]), 0);
	future_unref(f[1]);
	assert_int_equal(sleep_future(e->loop, 0, NULL, &s), 0);
	assert_int_equal(loop_run_until_complete(e->loop, s, NULL), 0);
	future_unref(s);
	assert_int_equal(loop_run_until_complete(e->loop, f[2], NULL), 0);
	assert_int_equal(fetch_response_of(f[0])->status, 200);
	/* and once more with the loop closed right after */
	future_t *g;
	assert_int_equal(fetch(e->fr, "sim://h0.sim/", NULL, &g), 0);
	assert_int_equal(future_cancel(g), 0);
	future_unref(g);
	future_unref(f[0]);
	future_unref(f[2]);
	env_free(e);
}

static void test_robots(void **state)
{
	struct env *e = env_new("robots=1");
	struct one o = {.url = "sim://h0.sim/robots.txt"};
	(void)state;
	fetch_opts_init(&o.opts);
	run_one(e, &o);
	assert_int_equal(o.rc, 0);
	const struct fetch_response *r = fetch_response_of(o.f);
	assert_string_equal(r->content_type, "text/plain; charset=utf-8");
	assert_string_equal(r->body, "User-agent: *\nDisallow: /p/private\n");
	future_unref(o.f);
	env_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_opts_defaults),
		cmocka_unit_test(test_sim_page),
		cmocka_unit_test(test_sim_statuses),
		cmocka_unit_test(test_sim_attempts),
		cmocka_unit_test(test_sim_timeout),
		cmocka_unit_test(test_sim_body_limit),
		cmocka_unit_test(test_url_errors_at_once),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_simweb_choice),
		cmocka_unit_test(test_sim_cancel_task),
		cmocka_unit_test(test_sim_cancel_future),
		cmocka_unit_test(test_sim_many_in_flight),
		cmocka_unit_test(test_sim_tasks),
		cmocka_unit_test(test_free_with_inflight),
		cmocka_unit_test(test_sim_zero_latency),
		cmocka_unit_test(test_sim_cancel_queued_then_free),
		cmocka_unit_test(test_robots),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
