/* test_fetch_curl.c - the curl backend against the local test server
 * (tests/testserver.c on 127.0.0.1, started through tsupport): each
 * endpoint's response or exact error, the address policy, cancellation,
 * 1,000 concurrent fetches, real and simulated fetches in one loop, and
 * the three traps of driving curl from an event loop. Tasks record; the
 * test asserts after the loop returns. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fetch.h"
#include "fetch_curl.h"
#include "simweb.h"
#include "task.h"
#include "tsupport.h"

static struct tsupport_server srv;

struct env {
	loop_t *loop;
	struct fetcher *fr;
};

static int group_setup(void **state)
{
	(void)state;
	int rc = tsupport_server_start(&srv, NULL);
	if (rc != 0)
		fprintf(stderr, "test server did not start: %s\n", crawl_strerror(rc));
	return rc == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	tsupport_server_stop(&srv);
	return 0;
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof *e);
	if (!e || loop_new(&e->loop) != 0 || fetcher_new(e->loop, NULL, &e->fr) != 0)
		return -1;
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	fetcher_free(e->fr);
	loop_free(e->loop);
	free(e);
	return 0;
}

static void url_of(char *buf, size_t n, const char *path)
{
	snprintf(buf, n, "%s%s", srv.base, path);
}

/* Options for the test server: loopback allowed, short timeouts. */
static void local_opts(struct fetch_opts *o)
{
	fetch_opts_init(o);
	o->allow_private = 1;
	o->timeout = 10;
	o->connect_timeout = 5;
}

/* ---- one fetch awaited by a task ---- */

struct one {
	struct fetcher *fr;
	char url[2300];
	struct fetch_opts opts;
	int rc;
	future_t *f;
	double t0, t1;
};

static int one_body(void *arg, void **result)
{
	struct one *o = arg;
	loop_t *l = task_loop(task_current());
	o->t0 = loop_time(l);
	o->rc = fetch(o->fr, o->url, &o->opts, &o->f);
	if (o->rc == 0)
		o->rc = task_await(o->f, NULL);
	o->t1 = loop_update_time(l) / 1e9;
	*result = NULL;
	return 0;
}

static void run_task(struct env *e, coro_fn fn, void *arg)
{
	task_t *t;
	assert_int_equal(task_create(e->loop, fn, arg, NULL, &t), 0);
	assert_int_equal(loop_run_until_complete(e->loop, task_future(t), NULL), 0);
	task_unref(t);
}

/* Fetches path (or a full URL) with opts (NULL: local_opts); returns the
 * response, keeps the future in o->f. */
static const struct fetch_response *get(struct env *e, struct one *o, const char *path,
					const struct fetch_opts *opts)
{
	memset(o, 0, sizeof *o);
	o->fr = e->fr;
	if (path[0] != '/')
		snprintf(o->url, sizeof o->url, "%s", path);
	else
		url_of(o->url, sizeof o->url, path);
	if (opts)
		o->opts = *opts;
	else
		local_opts(&o->opts);
	run_task(e, one_body, o);
	assert_non_null(o->f);
	const struct fetch_response *r = fetch_response_of(o->f);
	assert_non_null(r);
	return r;
}

static void expect_error(const struct one *o, const struct fetch_response *r, int err)
{
	if (o->rc != err || r->error != err)
		fail_msg("%s: got %s (%s), want %s", o->url, crawl_errname(o->rc),
			 r->message ? r->message : "no message", crawl_errname(err));
	assert_non_null(r->message);
	assert_non_null(strstr(r->message, o->url));
	assert_null(r->body);
}

static struct fetch_curl_stats stats_of(struct env *e)
{
	struct fetch_curl_stats s;
	fetch_curl_get_stats(fetcher__curl(e->fr), &s);
	return s;
}

/* ---- endpoints ---- */

static void test_page(void **state)
{
	struct env *e = *state;
	struct one o;
	const struct fetch_response *r = get(e, &o, "/page/3", NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(r->error, 0);
	assert_null(r->message);
	assert_int_equal(r->status, 200);
	assert_int_equal(r->backend, FETCH_BACKEND_CURL);
	assert_string_equal(r->content_type, "text/html; charset=utf-8");
	assert_string_equal(fetch_response_header(r, "content-type"), "text/html; charset=utf-8");
	assert_string_equal(r->url, o.url);
	assert_string_equal(r->final_url, o.url);
	assert_int_equal(r->redirects, 0);
	assert_non_null(strstr(r->body, "<title>Page 3</title>"));
	assert_true(r->body_len >= 8000 && r->body_len < 9000);
	assert_int_equal(strlen(r->body), r->body_len);
	assert_int_equal(strcmp(r->body + r->body_len - 15, "</body></html>\n"), 0);
	char len[32];
	snprintf(len, sizeof len, "%zu", r->body_len);
	assert_string_equal(fetch_response_header(r, "Content-Length"), len);
	assert_true(r->bytes_received > r->body_len);
	assert_true(r->timings.total_us > 0);
	assert_true(r->timings.total_us >= r->timings.first_byte_us);
	assert_true(r->timings.first_byte_us >= r->timings.connect_us);
	assert_true(r->timings.connect_us >= r->timings.dns_us);
	future_unref(o.f);
}

static void test_statuses_are_responses(void **state)
{
	struct env *e = *state;
	static const long codes[] = {404, 503, 500, 204};
	for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
		struct one o;
		char path[32], body[32];
		snprintf(path, sizeof path, "/status/%ld", codes[i]);
		const struct fetch_response *r = get(e, &o, path, NULL);
		assert_int_equal(o.rc, 0);
		assert_int_equal(r->error, 0);
		assert_int_equal(r->status, codes[i]);
		snprintf(body, sizeof body, "status %ld\n", codes[i]);
		assert_string_equal(r->body, codes[i] == 204 ? "" : body);
		future_unref(o.f);
	}
}

static void test_total_timeout(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	local_opts(&opts);
	opts.timeout = 0.2;
	const struct fetch_response *r = get(e, &o, "/delay?ms=3000", &opts);
	expect_error(&o, r, CRAWL_ETIMEDOUT);
	assert_non_null(strstr(r->message, "curl:"));
	assert_true(o.t1 - o.t0 >= 0.19);
	assert_true(o.t1 - o.t0 < 2.0);
	future_unref(o.f);
	/* a delay within the timeout is fine */
	opts.timeout = 5;
	r = get(e, &o, "/delay?ms=50", &opts);
	assert_int_equal(o.rc, 0);
	assert_string_equal(r->body, "delayed 50 ms\n");
	future_unref(o.f);
}

static void test_redirects(void **state)
{
	struct env *e = *state;
	struct one o;
	char want[128];
	const struct fetch_response *r = get(e, &o, "/redirect/3", NULL);
	assert_int_equal(o.rc, 0);
	url_of(want, sizeof want, "/page/0");
	assert_string_equal(r->final_url, want);
	assert_int_equal(r->redirects, 4); /* 3 -> 2 -> 1 -> 0 -> /page/0 */
	assert_int_equal(r->status, 200);
	assert_non_null(strstr(r->body, "<title>Page 0</title>"));
	/* headers are the final response's only */
	assert_null(fetch_response_header(r, "Location"));
	future_unref(o.f);

	/* not following: the 302 is the response */
	struct fetch_opts opts;
	local_opts(&opts);
	opts.max_redirects = 0;
	r = get(e, &o, "/redirect/1", &opts);
	assert_int_equal(o.rc, 0);
	assert_int_equal(r->status, 302);
	assert_string_equal(fetch_response_header(r, "location"), "/redirect/0");
	assert_int_equal(r->redirects, 0);
	future_unref(o.f);

	/* too many */
	local_opts(&opts);
	opts.max_redirects = 2;
	r = get(e, &o, "/redirect/3", &opts);
	expect_error(&o, r, CRAWL_EREDIRECTS);
	future_unref(o.f);
}

static void test_redirect_loop(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	local_opts(&opts);
	opts.max_redirects = 5;
	const struct fetch_response *r = get(e, &o, "/redirect-loop", &opts);
	expect_error(&o, r, CRAWL_EREDIRECTS);
	assert_int_equal(r->redirects, 5);
	future_unref(o.f);
}

static void test_redirect_scheme(void **state)
{
	struct env *e = *state;
	static const char *const targets[] = {
		"/redirect-to?url=file:///etc/passwd",
		"/redirect-to?url=ftp://127.0.0.1/x",
		"/redirect-to?url=gopher://127.0.0.1/",
	};
	for (size_t i = 0; i < sizeof targets / sizeof *targets; i++) {
		struct one o;
		const struct fetch_response *r = get(e, &o, targets[i], NULL);
		expect_error(&o, r, CRAWL_EREDIRSCHEME);
		assert_int_equal(r->redirects, 1);
		future_unref(o.f);
	}
}

static void test_body_limit(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	local_opts(&opts);
	opts.max_body = 1024 * 1024;
	const struct fetch_response *r = get(e, &o, "/huge", &opts);
	expect_error(&o, r, CRAWL_EBODYTOOLARGE);
	assert_non_null(strstr(r->message, "1048576"));
	assert_int_equal(r->status, 200);
	assert_int_equal(r->body_len, 0);
	future_unref(o.f);
	/* a Content-Length over the limit fails before any body byte */
	opts.max_body = 100;
	r = get(e, &o, "/page/1", &opts);
	expect_error(&o, r, CRAWL_EBODYTOOLARGE);
	future_unref(o.f);
	assert_int_equal(stats_of(e).reentry, 0);
}

static void test_gzip(void **state)
{
	struct env *e = *state;
	struct one o;
	char want[1200] = "";
	for (int i = 0; i < 100; i++)
		strcat(want, "hello gzip\n");
	const struct fetch_response *r = get(e, &o, "/gzip", NULL);
	assert_int_equal(o.rc, 0);
	assert_string_equal(fetch_response_header(r, "Content-Encoding"), "gzip");
	assert_string_equal(r->body, want);
	assert_true(r->bytes_received < r->body_len); /* it came compressed */
	future_unref(o.f);
	/* no Accept-Encoding: the server sends it plain */
	struct fetch_opts opts;
	local_opts(&opts);
	opts.accept_encoding = NULL;
	r = get(e, &o, "/gzip", &opts);
	assert_int_equal(o.rc, 0);
	assert_null(fetch_response_header(r, "Content-Encoding"));
	assert_string_equal(r->body, want);
	future_unref(o.f);
}

static void test_chunked(void **state)
{
	struct env *e = *state;
	struct one o;
	const struct fetch_response *r = get(e, &o, "/chunked", NULL);
	assert_int_equal(o.rc, 0);
	assert_string_equal(fetch_response_header(r, "Transfer-Encoding"), "chunked");
	assert_string_equal(r->body,
			    "chunk 1 of 5\nchunk 2 of 5\nchunk 3 of 5\nchunk 4 of 5\nchunk 5 of 5\n");
	future_unref(o.f);
}

static void test_reset(void **state)
{
	struct env *e = *state;
	struct one o;
	const struct fetch_response *r = get(e, &o, "/reset", NULL);
	expect_error(&o, r, CRAWL_ERESET);
	assert_non_null(strstr(r->message, "reset"));
	assert_int_equal(r->status, 200);
	future_unref(o.f);
}

static void test_request_headers(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	const char *extra[] = {"X-Test: yes", "X-Other:  two words ", NULL};
	local_opts(&opts);
	opts.user_agent = "crawld-test/1.0";
	opts.headers = extra;
	const struct fetch_response *r = get(e, &o, "/headers", &opts);
	assert_int_equal(o.rc, 0);
	assert_non_null(strstr(r->body, "User-Agent: crawld-test/1.0\n"));
	assert_non_null(strstr(r->body, "X-Test: yes\n"));
	assert_non_null(strstr(r->body, "X-Other: two words"));
	assert_non_null(strstr(r->body, "Accept-Encoding: "));
	assert_non_null(strstr(r->body, "gzip"));
	future_unref(o.f);
	/* defaults: our user agent */
	r = get(e, &o, "/headers", NULL);
	assert_non_null(strstr(r->body, "User-Agent: " FETCH_DEFAULT_USER_AGENT "\n"));
	future_unref(o.f);
}

static int closed_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd); /* bound, never listened: connecting is refused */
	return ntohs(a.sin_port);
}

static void test_connection_refused(void **state)
{
	struct env *e = *state;
	struct one o;
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port());
	const struct fetch_response *r = get(e, &o, url, NULL);
	expect_error(&o, r, CRAWL_ECONNREFUSED);
	future_unref(o.f);
}

static void test_dns_failure(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	local_opts(&opts);
	opts.timeout = 8;
	const struct fetch_response *r = get(e, &o, "http://nonexistent.invalid/", &opts);
	expect_error(&o, r, CRAWL_EDNS);
	assert_non_null(strstr(r->message, "nonexistent.invalid"));
	future_unref(o.f);
}

/* ---- policy ---- */

static void test_policy_blocks_loopback(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	fetch_opts_init(&opts); /* no allow_private */
	const struct fetch_response *r = get(e, &o, "/page/1", &opts);
	expect_error(&o, r, CRAWL_EADDRBLOCKED);
	assert_non_null(strstr(r->message, "127.0.0.1"));
	assert_non_null(strstr(r->message, "loopback"));
	assert_int_equal(r->status, 0);
	future_unref(o.f);
	assert_int_equal(stats_of(e).blocked, 1);
	/* the allow-list opens exactly that address */
	opts.allow_addrs = "127.0.0.1";
	r = get(e, &o, "/page/1", &opts);
	assert_int_equal(o.rc, 0);
	assert_int_equal(r->status, 200);
	future_unref(o.f);
	/* the connection it opened is in the pool; reusing it for a fetch
	 * that may not reach loopback is refused as well */
	fetch_opts_init(&opts);
	r = get(e, &o, "/page/2", &opts);
	expect_error(&o, r, CRAWL_EADDRBLOCKED);
	future_unref(o.f);
}

static void test_policy_on_redirect(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	char path[200];
	fetch_opts_init(&opts);
	opts.allow_addrs = "127.0.0.1";
	/* 127.0.0.2 is loopback too, not on the list: the redirect is refused
	 * before connecting */
	snprintf(path, sizeof path, "/redirect-to?url=http://127.0.0.2:%d/page/1", srv.port);
	const struct fetch_response *r = get(e, &o, path, &opts);
	expect_error(&o, r, CRAWL_EADDRBLOCKED);
	assert_non_null(strstr(r->message, "127.0.0.2"));
	assert_int_equal(r->redirects, 1);
	future_unref(o.f);
}

static void test_bad_urls_at_once(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *url;
		int err;
	} cases[] = {
		{"ftp://127.0.0.1/", CRAWL_ESCHEME},
		{"file:///etc/passwd", CRAWL_ESCHEME},
		{"http://exa mple.com/", CRAWL_EURL},
		{"http://:80/", CRAWL_EURL},
		{"https://", CRAWL_EURL},
		{"http://[::1/", CRAWL_EURL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		future_t *f;
		assert_int_equal(fetch(e->fr, cases[i].url, NULL, &f), 0);
		assert_true(future_done(f));
		if (future_error(f) != cases[i].err)
			fail_msg("%s: %s", cases[i].url, crawl_errname(future_error(f)));
		future_unref(f);
	}
	assert_int_equal(stats_of(e).started, 0);
}

static void test_proxy(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	struct one o;
	local_opts(&opts);
	opts.proxy = srv.base; /* the test server answers absolute-form requests */
	const struct fetch_response *r = get(e, &o, "http://nonexistent.invalid/page/2", &opts);
	assert_int_equal(o.rc, 0);
	assert_non_null(strstr(r->body, "<title>Page 2</title>"));
	future_unref(o.f);
	/* a proxy that is not there */
	char proxy[64];
	snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port());
	opts.proxy = proxy;
	r = get(e, &o, "http://nonexistent.invalid/page/2", &opts);
	expect_error(&o, r, CRAWL_ECONNREFUSED);
	future_unref(o.f);
}

/* ---- cancel ---- */

struct canceller {
	task_t *victim;
	double after;
	size_t inflight_before;
	struct fetcher *fr;
};

static int cancel_body(void *arg, void **result)
{
	struct canceller *c = arg;
	(void)result;
	task_sleep(c->after);
	c->inflight_before = fetcher_inflight(c->fr);
	task_cancel(c->victim);
	return 0;
}

static void test_cancel_in_flight(void **state)
{
	struct env *e = *state;
	struct one o = {.fr = e->fr};
	struct canceller c = {.after = 0.3, .fr = e->fr};
	task_t *t, *k;
	url_of(o.url, sizeof o.url, "/slow");
	local_opts(&o.opts);
	assert_int_equal(task_create(e->loop, one_body, &o, NULL, &t), 0);
	c.victim = t;
	assert_int_equal(task_create(e->loop, cancel_body, &c, NULL, &k), 0);
	assert_int_equal(loop_run_until_complete(e->loop, task_future(t), NULL), 0);
	assert_int_equal(c.inflight_before, 1);
	assert_int_equal(o.rc, CRAWL_ECANCELLED);
	assert_int_equal(future_state(o.f), FUTURE_CANCELLED);
	assert_int_equal(fetch_response_of(o.f)->error, CRAWL_ECANCELLED);
	assert_true(o.t1 - o.t0 < 1.5); /* /slow takes 2 s */
	/* the reaper removed it on a later loop turn */
	assert_int_equal(loop_run_until_complete(e->loop, task_future(k), NULL), 0);
	assert_int_equal(fetcher_inflight(e->fr), 0);
	struct fetch_curl_stats s = stats_of(e);
	assert_int_equal(s.reaped, 1);
	assert_int_equal(s.reentry, 0);
	task_unref(t);
	task_unref(k);
	future_unref(o.f);
	/* the fetcher goes on working, with the recycled handle */
	const struct fetch_response *r = get(e, &o, "/page/5", NULL);
	assert_int_equal(o.rc, 0);
	assert_non_null(strstr(r->body, "Page 5"));
	future_unref(o.f);
	assert_int_equal(stats_of(e).handles_made, 1);
}

/* Cancelled before the loop ever ran it, and the future dropped at once. */
static void test_cancel_before_start(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	future_t *f, *g;
	char url[128];
	local_opts(&opts);
	url_of(url, sizeof url, "/page/1");
	assert_int_equal(fetch(e->fr, url, &opts, &f), 0);
	assert_int_equal(fetch(e->fr, url, &opts, &g), 0);
	assert_int_equal(future_cancel(f), 0);
	future_unref(f);
	assert_int_equal(loop_run_until_complete(e->loop, g, NULL), 0);
	assert_int_equal(fetch_response_of(g)->status, 200);
	future_unref(g);
	assert_int_equal(fetcher_inflight(e->fr), 0);
	assert_int_equal(stats_of(e).reaped, 1);
}

/* Freeing the fetcher with transfers in flight cancels them, no leaks. */
static void test_free_in_flight(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	future_t *f[8], *s;
	char url[128];
	local_opts(&opts);
	url_of(url, sizeof url, "/slow");
	for (int i = 0; i < 8; i++)
		assert_int_equal(fetch(e->fr, url, &opts, &f[i]), 0);
	assert_int_equal(sleep_future(e->loop, 0.2, NULL, &s), 0);
	assert_int_equal(loop_run_until_complete(e->loop, s, NULL), 0);
	future_unref(s);
	assert_int_equal(fetcher_inflight(e->fr), 8);
	assert_true(stats_of(e).sockets_open > 0);
	fetcher_free(e->fr);
	e->fr = NULL;
	for (int i = 0; i < 8; i++) {
		assert_int_equal(future_state(f[i]), FUTURE_CANCELLED);
		future_unref(f[i]);
	}
	assert_int_equal(fetcher_new(e->loop, NULL, &e->fr), 0);
}

/* ---- many ---- */

#define MANY 1000

struct many {
	size_t done, ok;
	char bad[128];
};

struct many_one {
	struct many *m;
	future_t *f;
	int k;
};

static void many_done(future_t *f, void *arg)
{
	struct many_one *x = arg;
	const struct fetch_response *r = fetch_response_of(f);
	char title[48];
	x->m->done++;
	snprintf(title, sizeof title, "<title>Page %d</title>", x->k);
	if (future_error(f) == 0 && r->status == 200 && strstr(r->body, title))
		x->m->ok++;
	else if (!x->m->bad[0])
		snprintf(x->m->bad, sizeof x->m->bad, "%s: %s", r->url,
			 r->message ? r->message : "wrong body");
}

static void test_thousand_concurrent(void **state)
{
	struct env *e = *state;
	struct many m = {0};
	struct many_one *xs = calloc(MANY, sizeof *xs);
	struct fetch_opts opts;
	char path[32], url[128];
	assert_non_null(xs);
	local_opts(&opts);
	opts.timeout = 60;
	for (int i = 0; i < MANY; i++) {
		xs[i].m = &m;
		xs[i].k = i % 100;
		snprintf(path, sizeof path, "/page/%d", xs[i].k);
		url_of(url, sizeof url, path);
		assert_int_equal(fetch(e->fr, url, &opts, &xs[i].f), 0);
		assert_int_equal(future_add_done_callback(xs[i].f, many_done, &xs[i]), 0);
	}
	assert_int_equal(fetcher_inflight(e->fr), MANY);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(loop_run_until_complete(e->loop, xs[i].f, NULL), 0);
	if (m.bad[0])
		fail_msg("%s", m.bad);
	assert_int_equal(m.done, MANY);
	assert_int_equal(m.ok, MANY);
	struct fetch_curl_stats s = stats_of(e);
	assert_int_equal(s.started, MANY);
	assert_int_equal(s.reentry, 0);
	assert_int_equal(s.handles_made + s.handles_reused, MANY);
	for (int i = 0; i < MANY; i++)
		future_unref(xs[i].f);
	free(xs);
}

/* Real and simulated fetches side by side in one loop. */
struct mixed {
	struct fetcher *fr;
	int real_ok, sim_ok;
};

static int mixed_body(void *arg, void **result)
{
	struct mixed *m = arg;
	struct fetch_opts opts;
	future_t *f[20];
	char url[128];
	(void)result;
	local_opts(&opts);
	for (int i = 0; i < 20; i++) {
		if (i % 2)
			snprintf(url, sizeof url, "sim://h0.sim/p/%d", i);
		else
			snprintf(url, sizeof url, "%s/page/%d", srv.base, i);
		if (fetch(m->fr, url, &opts, &f[i]) != 0)
			f[i] = NULL;
	}
	for (int i = 0; i < 20; i++) {
		void *r;
		if (f[i] && task_await(f[i], &r) == 0 && ((struct fetch_response *)r)->status == 200)
			*(i % 2 ? &m->sim_ok : &m->real_ok) += 1;
		future_unref(f[i]);
	}
	return 0;
}

static void test_mixed_sim_and_real(void **state)
{
	struct env *e = *state;
	struct simweb *w;
	struct mixed m = {.fr = e->fr};
	assert_int_equal(simweb_new(&w, "latency=uniform:1:20", NULL, 0), 0);
	fetcher_set_simweb(e->fr, w);
	run_task(e, mixed_body, &m);
	assert_int_equal(m.real_ok, 10);
	assert_int_equal(m.sim_ok, 10);
	fetcher_set_simweb(e->fr, NULL);
	simweb_free(w);
}

/* ---- the three traps ---- */

/* curl asks for a 0 ms timeout from inside curl_multi_add_handle and from
 * inside socket actions; acting there would re-enter curl. The request is
 * deferred (timer_zero counts them) and nothing re-enters (reentry 0). */
static void test_trap_timer_zero(void **state)
{
	struct env *e = *state;
	struct one o;
	const struct fetch_response *r = get(e, &o, "/page/9", NULL);
	assert_int_equal(o.rc, 0);
	assert_int_equal(r->status, 200);
	future_unref(o.f);
	struct fetch_curl_stats s = stats_of(e);
	assert_true(s.timer_zero >= 1);
	assert_int_equal(s.reentry, 0);
}

/* A transfer aborted from the write callback (body limit) and one
 * cancelled while its body streams: both are removed from the multi handle
 * by loop callbacks, never inside curl. */
static void test_trap_remove_outside_callbacks(void **state)
{
	struct env *e = *state;
	struct fetch_opts opts;
	future_t *big, *slow, *s;
	char url[128];
	local_opts(&opts);
	opts.max_body = 200 * 1024;
	url_of(url, sizeof url, "/huge");
	assert_int_equal(fetch(e->fr, url, &opts, &big), 0);
	url_of(url, sizeof url, "/slow");
	assert_int_equal(fetch(e->fr, url, &opts, &slow), 0);
	assert_int_equal(loop_run_until_complete(e->loop, big, NULL), CRAWL_EBODYTOOLARGE);
	assert_int_equal(sleep_future(e->loop, 0.15, NULL, &s), 0);
	assert_int_equal(loop_run_until_complete(e->loop, s, NULL), 0);
	future_unref(s);
	assert_int_equal(future_cancel(slow), 0);
	assert_int_equal(fetcher_inflight(e->fr), 1); /* still in curl until the reaper */
	assert_int_equal(sleep_future(e->loop, 0, NULL, &s), 0);
	assert_int_equal(loop_run_until_complete(e->loop, s, NULL), 0);
	future_unref(s);
	assert_int_equal(fetcher_inflight(e->fr), 0);
	struct fetch_curl_stats st = stats_of(e);
	assert_int_equal(st.reentry, 0);
	assert_int_equal(st.reaped, 1);
	future_unref(big);
	future_unref(slow);
}

/* CURL_POLL_REMOVE for a socket never announced, and for one that was
 * closed before the removal came: both harmless. */
static void test_trap_poll_remove(void **state)
{
	struct env *e = *state;
	struct fetch_curl *c = fetcher__curl(e->fr);
	int sv[2];
	assert_null(fetch_curl__socket_cb(c, 1000, CURL_POLL_REMOVE, NULL));
	assert_int_equal(stats_of(e).stray_remove, 1);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	void *s = fetch_curl__socket_cb(c, sv[0], CURL_POLL_IN, NULL);
	assert_non_null(s);
	assert_ptr_equal(fetch_curl__socket_cb(c, sv[0], CURL_POLL_INOUT, s), s);
	assert_int_equal(stats_of(e).sockets_open, 1);
	close(sv[0]);
	close(sv[1]);
	assert_null(fetch_curl__socket_cb(c, sv[0], CURL_POLL_REMOVE, s));
	assert_int_equal(stats_of(e).sockets_open, 0);
	assert_int_equal(stats_of(e).stray_remove, 1);
	/* and real traffic still flows */
	struct one o;
	const struct fetch_response *r = get(e, &o, "/page/4", NULL);
	assert_int_equal(r->status, 200);
	future_unref(o.f);
}

/* Sequential fetches reuse one easy handle and one connection. */
static void test_handle_and_connection_reuse(void **state)
{
	struct env *e = *state;
	for (int i = 0; i < 5; i++) {
		struct one o;
		const struct fetch_response *r = get(e, &o, "/page/6", NULL);
		assert_int_equal(r->status, 200);
		if (i > 0)
			assert_int_equal(r->timings.connect_us, 0); /* reused */
		future_unref(o.f);
	}
	struct fetch_curl_stats s = stats_of(e);
	assert_int_equal(s.handles_made, 1);
	assert_int_equal(s.handles_reused, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_statuses_are_responses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_total_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_redirect_scheme, setup, teardown),
		cmocka_unit_test_setup_teardown(test_body_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gzip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_connection_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dns_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_blocks_loopback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_policy_on_redirect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_urls_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_proxy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_thousand_concurrent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mixed_sim_and_real, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trap_timer_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trap_remove_outside_callbacks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trap_poll_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handle_and_connection_reuse, setup, teardown),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
