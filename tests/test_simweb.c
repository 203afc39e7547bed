/* test_simweb.c - the simulated web: spec parsing, determinism, latency
 * distributions, error rates, rendered pages against simweb_links,
 * reachability, URL forms, and a 10^8-page web. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uriparser/Uri.h>

#include "error.h"
#include "simweb.h"

#define SAMPLES 100000
#define URL_CAP 128

static struct simweb *web(const char *spec)
{
	struct simweb *w = NULL;
	char err[256] = "";
	int rc = simweb_new(&w, spec, err, sizeof err);

	if (rc != 0)
		fail_msg("simweb_new(\"%s\"): %d %s", spec, rc, err);
	assert_non_null(w);
	return w;
}

static void page_url(char *buf, unsigned host, uint64_t page)
{
	if (page == 0)
		snprintf(buf, URL_CAP, "sim://h%u.sim/", host);
	else
		snprintf(buf, URL_CAP, "sim://h%u.sim/p/%llu", host, (unsigned long long)page);
}

static struct simweb_page get(const struct simweb *w, const char *url, unsigned attempt)
{
	struct simweb_page p;

	memset(&p, 0xa5, sizeof p);
	assert_int_equal(simweb_get(w, url, attempt, &p), 0);
	return p;
}

/* The body, NUL-terminated, in a fresh allocation. */
static char *render(const struct simweb *w, const char *url, size_t *len)
{
	size_t n = simweb_render(w, url, NULL, 0);
	char *buf = malloc(n + 1);

	assert_non_null(buf);
	assert_int_equal(simweb_render(w, url, buf, n + 1), n);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* ---- spec parsing ------------------------------------------------------ */

static void test_spec_defaults(void **state)
{
	const char *specs[] = {NULL, ""};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct simweb *w = web(specs[i]);
		const struct simweb_config *c = simweb_config(w);

		assert_int_equal(c->seed, 1);
		assert_int_equal(c->pages, 1000);
		assert_int_equal(c->hosts, 1);
		assert_int_equal(c->links, 10);
		assert_int_equal(c->size, 4096);
		assert_int_equal(c->robots, 0);
		assert_int_equal(c->latency, SIMWEB_LATENCY_FIXED);
		assert_true(c->lat_a == 0);
		assert_true(c->e404 == 0 && c->e500 == 0 && c->e503 == 0 && c->timeout == 0);
		assert_true(c->offsite == 0.02);
		assert_true(c->broken == 0.01);
		simweb_free(w);
	}
}

static void test_spec_every_key(void **state)
{
	struct simweb *w = web("seed=18446744073709551615,pages=100000000,hosts=1000000,"
	                       "links=1000,latency=uniform:2.5:10,e404=0.1,e500=0.05,e503=0.2,"
	                       "timeout=0.15,size=10485760,offsite=0.5,broken=0.25,robots=1");
	const struct simweb_config *c = simweb_config(w);

	(void)state;
	assert_true(c->seed == UINT64_MAX);
	assert_int_equal(c->pages, 100000000);
	assert_int_equal(c->hosts, 1000000);
	assert_int_equal(c->links, 1000);
	assert_int_equal(c->latency, SIMWEB_LATENCY_UNIFORM);
	assert_true(c->lat_a == 2.5 && c->lat_b == 10);
	assert_true(c->e404 == 0.1 && c->e500 == 0.05 && c->e503 == 0.2 && c->timeout == 0.15);
	assert_int_equal(c->size, 10485760);
	assert_true(c->offsite == 0.5 && c->broken == 0.25);
	assert_int_equal(c->robots, 1);
	simweb_free(w);

	w = web("seed=0,pages=1,links=0,size=0,latency=fixed:7.5,offsite=0,broken=1,robots=0");
	c = simweb_config(w);
	assert_int_equal(c->seed, 0);
	assert_int_equal(c->pages, 1);
	assert_int_equal(c->links, 0);
	assert_int_equal(c->size, 0);
	assert_int_equal(c->latency, SIMWEB_LATENCY_FIXED);
	assert_true(c->lat_a == 7.5);
	assert_true(c->offsite == 0 && c->broken == 1);
	simweb_free(w);

	w = web("latency=lognormal:80:0.4");
	c = simweb_config(w);
	assert_int_equal(c->latency, SIMWEB_LATENCY_LOGNORMAL);
	assert_true(c->lat_a == 80 && c->lat_b == 0.4);
	simweb_free(w);

	/* Rounding slack: 0.1 + 0.2 + 0.7 is 1.0000000000000002 in doubles. */
	w = web("e404=0.1,e500=0.2,e503=0.7");
	simweb_free(w);
}

struct bad_spec {
	const char *spec;
	const char *msg; /* the whole message, or its start when it ends in '*' */
};

static const char latency_msg[] = "latency: expected fixed:MS, uniform:MIN:MAX*";

static const struct bad_spec bad_specs[] = {
    {"pages=0", "pages: expected an integer from 1 to 100000000, got \"0\""},
    {"pages=100000001", "pages: expected an integer from 1 to 100000000, got \"100000001\""},
    {"pages=abc", "pages: expected an integer from 1 to 100000000, got \"abc\""},
    {"pages=-1", "pages: expected an integer from 1 to 100000000, got \"-1\""},
    {"pages=+5", "pages: expected an integer from 1 to 100000000, got \"+5\""},
    {"pages= 5", "pages: expected an integer from 1 to 100000000, got \" 5\""},
    {"pages=1e3", "pages: expected an integer from 1 to 100000000, got \"1e3\""},
    {"pages=", "pages: expected an integer from 1 to 100000000, got \"\""},
    {"hosts=0", "hosts: expected an integer from 1 to 1000000, got \"0\""},
    {"hosts=1000001", "hosts: expected an integer from 1 to 1000000, got \"1000001\""},
    {"links=1001", "links: expected an integer from 0 to 1000, got \"1001\""},
    {"size=10485761", "size: expected an integer from 0 to 10485760, got \"10485761\""},
    {"robots=2", "robots: expected an integer from 0 to 1, got \"2\""},
    {"seed=18446744073709551616",
     "seed: expected an integer from 0 to 18446744073709551615, got \"18446744073709551616\""},
    {"seed=x", "seed: expected an integer from 0 to 18446744073709551615, got \"x\""},
    {"e404=1.5", "e404: expected a probability from 0 to 1, got \"1.5\""},
    {"e500=-0.1", "e500: expected a probability from 0 to 1, got \"-0.1\""},
    {"e503=nan", "e503: expected a probability from 0 to 1, got \"nan\""},
    {"timeout=inf", "timeout: expected a probability from 0 to 1, got \"inf\""},
    {"offsite=0x1p-2", "offsite: expected a probability from 0 to 1, got \"0x1p-2\""},
    {"broken=", "broken: expected a probability from 0 to 1, got \"\""},
    {"e404=0.5x", "e404: expected a probability from 0 to 1, got \"0.5x\""},
    {"latency=fixed", latency_msg},
    {"latency=fixed:", latency_msg},
    {"latency=fixed:-1", latency_msg},
    {"latency=fixed:1:2", latency_msg},
    {"latency=fixed:3600001", latency_msg},
    {"latency=uniform:5:1", latency_msg},
    {"latency=uniform:1", latency_msg},
    {"latency=uniform:1:2:3", latency_msg},
    {"latency=uniform:1:3600001", latency_msg},
    {"latency=lognormal:0:1", latency_msg},
    {"latency=lognormal:10:11", latency_msg},
    {"latency=lognormal:10:x", latency_msg},
    {"latency=gamma:1:2", latency_msg},
    {"latency=", latency_msg},
    {"bogus=1", "unknown key \"bogus\": expected one of seed, pages, hosts, links, latency, "
                "e404, e500, e503, timeout, size, offsite, broken, robots"},
    {"Pages=5", "unknown key \"Pages\": *"},
    {"=5", "unknown key \"\": *"},
    {"pages", "\"pages\": expected key=value"},
    {"pages=1,,links=2", "empty item in the spec: expected key=value between commas"},
    {"pages=1,", "empty item in the spec: expected key=value between commas"},
    {",pages=1", "empty item in the spec: expected key=value between commas"},
    {"pages=1,pages=2", "pages: given twice, expected once"},
    {"e404=0.5,e500=0.3,e503=0.2,timeout=0.1",
     "e404+e500+e503+timeout: expected a sum of at most 1, got 1.1"},
    {"offsite=0.6,broken=0.5", "offsite+broken: expected a sum of at most 1, got 1.1"},
};

static void check_msg(const char *spec, const char *got, const char *want)
{
	size_t n = strlen(want);

	if (want[n - 1] == '*' ? strncmp(got, want, n - 1) != 0 : strcmp(got, want) != 0)
		fail_msg("spec \"%s\": message \"%s\", expected \"%s\"", spec, got, want);
}

static void test_spec_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_specs / sizeof bad_specs[0]; i++) {
		struct simweb *w = (struct simweb *)&w; /* must become NULL */
		char err[512] = "stale";

		assert_int_equal(simweb_new(&w, bad_specs[i].spec, err, sizeof err), CRAWL_EINVAL);
		assert_null(w);
		check_msg(bad_specs[i].spec, err, bad_specs[i].msg);
	}
}

static void test_spec_limits(void **state)
{
	char *spec = malloc(SIMWEB_SPEC_MAX + 2);
	struct simweb *w = NULL;
	char err[256], small[8];

	(void)state;
	assert_non_null(spec);
	/* Exactly the limit parses (a long run of repeated zeros in the seed
	 * is still a valid integer) ... */
	memcpy(spec, "seed=", 5);
	memset(spec + 5, '0', SIMWEB_SPEC_MAX - 5);
	spec[SIMWEB_SPEC_MAX] = '\0';
	assert_int_equal(simweb_new(&w, spec, err, sizeof err), 0);
	assert_int_equal(simweb_config(w)->seed, 0);
	simweb_free(w);
	/* ... one byte more does not. */
	spec[SIMWEB_SPEC_MAX] = '0';
	spec[SIMWEB_SPEC_MAX + 1] = '\0';
	assert_int_equal(simweb_new(&w, spec, err, sizeof err), CRAWL_EINVAL);
	assert_string_equal(err, "spec: expected at most 4096 bytes");
	free(spec);

	/* A short buffer gets a truncated, terminated message; none at all is fine. */
	assert_int_equal(simweb_new(&w, "pages=0", small, sizeof small), CRAWL_EINVAL);
	assert_string_equal(small, "pages: ");
	assert_int_equal(simweb_new(&w, "pages=0", NULL, 0), CRAWL_EINVAL);
	assert_int_equal(simweb_new(&w, "pages=0", small, 0), CRAWL_EINVAL);
	assert_int_equal(simweb_new(NULL, "", err, sizeof err), CRAWL_EINVAL);
	assert_string_equal(err, "simweb_new: out is NULL");

	/* A long bad value is quoted only in part. */
	{
		char longval[300];

		memcpy(longval, "pages=", 6);
		memset(longval + 6, '9', sizeof longval - 7);
		longval[sizeof longval - 1] = '\0';
		assert_int_equal(simweb_new(&w, longval, err, sizeof err), CRAWL_EINVAL);
		assert_true(strlen(err) < 130);
	}
	simweb_free(NULL);
}

/* ---- determinism -------------------------------------------------------- */

static void same_answers(const struct simweb *a, const struct simweb *b, const char *url)
{
	for (unsigned attempt = 0; attempt < 3; attempt++) {
		struct simweb_page pa = get(a, url, attempt), pb = get(b, url, attempt);

		assert_int_equal(pa.status, pb.status);
		assert_int_equal(pa.timeout, pb.timeout);
		assert_memory_equal(&pa.latency_ms, &pb.latency_ms, sizeof(double));
		assert_string_equal(pa.content_type, pb.content_type);
		assert_int_equal(pa.body_len, pb.body_len);
	}
	{
		size_t la, lb;
		char *ba = render(a, url, &la), *bb = render(b, url, &lb);

		assert_int_equal(la, lb);
		assert_memory_equal(ba, bb, la);
		free(ba);
		free(bb);
	}
}

static void test_determinism(void **state)
{
	const char *spec = "seed=7,pages=5000,hosts=3,latency=lognormal:40:0.8,e404=0.1,"
	                   "e500=0.1,e503=0.1,timeout=0.1,offsite=0.1,broken=0.1,size=2000";
	struct simweb *a = web(spec), *b = web(spec);
	const char *odd[] = {"sim://h1.sim/robots.txt", "sim://h2.sim/nothing/here",
	                     "sim://h0.sim/p/5000", "sim://h0.sim"};
	char url[URL_CAP];

	(void)state;
	for (unsigned i = 0; i < 600; i++) {
		page_url(url, i % 3, (i * 7919u) % 5000);
		same_answers(a, b, url);
	}
	for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++)
		same_answers(a, b, odd[i]);
	simweb_free(a);
	simweb_free(b);
}

static void test_seed_changes_latency(void **state)
{
	struct simweb *a = web("seed=1,latency=uniform:0:1000");
	struct simweb *b = web("seed=2,latency=uniform:0:1000");
	char url[URL_CAP];
	unsigned differ = 0, attempts_differ = 0;

	(void)state;
	for (unsigned i = 0; i < 1000; i++) {
		page_url(url, 0, i);
		differ += get(a, url, 0).latency_ms != get(b, url, 0).latency_ms;
		attempts_differ += get(a, url, 0).latency_ms != get(a, url, 1).latency_ms;
	}
	assert_true(differ >= 995);
	assert_true(attempts_differ >= 995);
	simweb_free(a);
	simweb_free(b);
}

/* ---- latency ------------------------------------------------------------ */

/* Latencies of pages 0..SAMPLES-1 at attempt 0, in a fresh array. */
static double *latencies(const char *spec)
{
	struct simweb *w = web(spec);
	double *v = malloc(SAMPLES * sizeof *v);
	char url[URL_CAP];

	assert_non_null(v);
	for (unsigned i = 0; i < SAMPLES; i++) {
		page_url(url, 0, i);
		v[i] = get(w, url, 0).latency_ms;
	}
	simweb_free(w);
	return v;
}

static void test_latency_fixed(void **state)
{
	struct simweb *w = web("latency=fixed:25");
	char url[URL_CAP];

	(void)state;
	for (unsigned i = 0; i < 1000; i++) {
		page_url(url, 0, i);
		assert_true(get(w, url, i % 5).latency_ms == 25.0);
	}
	assert_true(get(w, "sim://h0.sim/robots.txt", 0).latency_ms == 25.0);
	assert_true(get(w, "sim://h0.sim/missing", 0).latency_ms == 25.0);
	simweb_free(w);
}

static void test_latency_uniform(void **state)
{
	double *v = latencies("pages=100000,latency=uniform:10:30");
	double sum = 0, lo = 1e9, hi = -1;

	(void)state;
	for (unsigned i = 0; i < SAMPLES; i++) {
		assert_true(v[i] >= 10 && v[i] <= 30);
		sum += v[i];
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
	}
	/* The mean's standard error is 20/sqrt(12)/sqrt(10^5) = 0.018. */
	assert_true(fabs(sum / SAMPLES - 20) < 0.1);
	assert_true(lo < 10.01 && hi > 29.99);
	free(v);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void test_latency_lognormal(void **state)
{
	double *v = latencies("pages=100000,latency=lognormal:50:0.5");
	double sum = 0, sq = 0, mean, sd;

	(void)state;
	for (unsigned i = 0; i < SAMPLES; i++) {
		assert_true(v[i] > 0 && v[i] <= SIMWEB_LATENCY_MAX_MS);
		sum += log(v[i]);
		sq += log(v[i]) * log(v[i]);
	}
	mean = sum / SAMPLES;
	sd = sqrt(sq / SAMPLES - mean * mean);
	qsort(v, SAMPLES, sizeof *v, cmp_double);
	/* The sample median's standard error here is about 0.1 ms. */
	assert_true(fabs(v[SAMPLES / 2] - 50) < 0.6);
	assert_true(fabs(mean - log(50)) < 0.01);
	assert_true(fabs(sd - 0.5) < 0.01);
	free(v);
}

/* ---- status codes ------------------------------------------------------- */

struct tally {
	unsigned ok, e404, e500, e503, timeout;
};

static void tally_add(struct tally *t, const struct simweb_page *p)
{
	switch (p->status) {
	case 200:
		t->ok++;
		break;
	case 404:
		t->e404++;
		break;
	case 500:
		t->e500++;
		break;
	case 503:
		t->e503++;
		break;
	case 0:
		assert_int_equal(p->timeout, 1);
		assert_string_equal(p->content_type, "");
		t->timeout++;
		break;
	default:
		fail_msg("status %d", p->status);
	}
	if (p->status != 0)
		assert_int_equal(p->timeout, 0);
	if (p->status != 200)
		assert_int_equal(p->body_len, 0);
}

static void assert_rate(unsigned count, double p)
{
	/* 5 standard errors of a rate over 10^5 pages is at most 0.008. */
	double rate = (double)count / SAMPLES;

	if (fabs(rate - p) > 0.008)
		fail_msg("rate %f, expected %f", rate, p);
}

static void test_error_rates(void **state)
{
	struct simweb *w = web("pages=100000,e404=0.1,e500=0.05,e503=0.2,timeout=0.15");
	char url[URL_CAP];

	(void)state;
	for (unsigned attempt = 0; attempt < 2; attempt++) {
		struct tally t = {0};

		for (unsigned i = 0; i < SAMPLES; i++) {
			struct simweb_page p;

			page_url(url, 0, i);
			p = get(w, url, attempt);
			tally_add(&t, &p);
		}
		assert_rate(t.e404, 0.1);
		assert_rate(t.e500, 0.05);
		assert_rate(t.e503, 0.2);
		assert_rate(t.timeout, 0.15);
		assert_rate(t.ok, 0.5);
	}
	simweb_free(w);
}

/* 404 and 500 stay; 503 and timeouts come and go with the attempt. */
static void test_transient_errors(void **state)
{
	struct simweb *w = web("pages=100000,e404=0.1,e500=0.1,e503=0.1");
	char url[URL_CAP];
	unsigned was503 = 0, recovered = 0, stuck = 0;

	(void)state;
	for (unsigned i = 0; i < SAMPLES; i++) {
		int first;
		unsigned a = 1;

		page_url(url, 0, i);
		first = get(w, url, 0).status;
		if (first == 404 || first == 500) {
			for (unsigned k = 1; k < 4; k++)
				assert_int_equal(get(w, url, k).status, first);
			assert_int_equal(simweb_render(w, url, NULL, 0), 0);
			continue;
		}
		if (first != 503)
			continue;
		was503++;
		recovered += get(w, url, 1).status == 200;
		while (a < 12 && get(w, url, a).status == 503)
			a++;
		stuck += a == 12;
		/* A transient page has its body all along. */
		assert_true(simweb_render(w, url, NULL, 0) > 0);
	}
	/* Of the 80% left by 404/500, 503 takes 0.1/0.8 on every attempt. */
	assert_rate(was503, 0.1);
	assert_true(fabs((double)recovered / was503 - 0.875) < 0.02);
	assert_int_equal(stuck, 0);
	simweb_free(w);
}

static void test_error_extremes(void **state)
{
	struct simweb *w = web("pages=100,e404=1");
	char url[URL_CAP];

	(void)state;
	for (unsigned i = 0; i < 100; i++) {
		page_url(url, 0, i);
		assert_int_equal(get(w, url, i).status, 404);
	}
	simweb_free(w);
	w = web("pages=100,e503=1");
	for (unsigned i = 0; i < 100; i++) {
		page_url(url, 0, i);
		assert_int_equal(get(w, url, i).status, 503);
	}
	/* Robots files never fail. */
	assert_int_equal(get(w, "sim://h0.sim/robots.txt", 0).status, 200);
	simweb_free(w);
	w = web("pages=100,timeout=1");
	assert_int_equal(get(w, "sim://h0.sim/p/5", 0).timeout, 1);
	simweb_free(w);
}

/* ---- pages and links ---------------------------------------------------- */

struct got_link {
	enum simweb_link_kind kind;
	uint32_t index, host;
	uint64_t page;
	char href[URL_CAP], url[URL_CAP];
};

struct link_list {
	size_t n, stop_at;
	struct got_link v[SIMWEB_LINKS_MAX];
};

static int collect(void *arg, const struct simweb_link *l)
{
	struct link_list *list = arg;
	struct got_link *g = &list->v[list->n];

	if (list->n >= SIMWEB_LINKS_MAX || strlen(l->href) >= URL_CAP || strlen(l->url) >= URL_CAP)
		return -999;
	*g = (struct got_link){l->kind, l->index, l->host, l->page, "", ""};
	strcpy(g->href, l->href);
	strcpy(g->url, l->url);
	list->n++;
	return list->n == list->stop_at ? 7 : 0;
}

static struct link_list *links_of(const struct simweb *w, const char *url)
{
	struct link_list *list = calloc(1, sizeof *list);

	assert_non_null(list);
	assert_int_equal(simweb_links(w, url, collect, list), 0);
	return list;
}

/* The target of a relative reference, by uriparser, normalised. */
static void resolve(const char *base, const char *ref, char *out, size_t cap)
{
	UriUriA b, r, res;
	const char *end;
	int chars;

	assert_int_equal(uriParseSingleUriA(&b, base, &end), URI_SUCCESS);
	assert_int_equal(uriParseSingleUriA(&r, ref, &end), URI_SUCCESS);
	assert_int_equal(uriAddBaseUriA(&res, &r, &b), URI_SUCCESS);
	assert_int_equal(uriNormalizeSyntaxA(&res), URI_SUCCESS);
	assert_int_equal(uriToStringA(out, &res, (int)cap, &chars), URI_SUCCESS);
	uriFreeUriMembersA(&b);
	uriFreeUriMembersA(&r);
	uriFreeUriMembersA(&res);
}

/* strstr without the sanitizers' cost: their strstr measures the whole
 * haystack on every call, which makes repeated scans of a 10 MiB body
 * quadratic. */
static const char *find(const char *s, const char *needle)
{
	size_t n = strlen(needle);

	for (; *s; s++)
		if (*s == needle[0] && strncmp(s, needle, n) == 0)
			return s;
	return NULL;
}

/* The href attributes of body, in order, by a plain scan. */
static size_t scan_hrefs(const char *body, char (*out)[URL_CAP], size_t max)
{
	size_t n = 0;

	for (const char *p = find(body, "href=\""); p; p = find(p, "href=\"")) {
		const char *end;

		p += 6;
		end = find(p, "\"");
		assert_non_null(end);
		assert_true(n < max && (size_t)(end - p) < URL_CAP);
		memcpy(out[n], p, (size_t)(end - p));
		out[n][end - p] = '\0';
		n++;
	}
	return n;
}

static size_t count_str(const char *s, const char *needle)
{
	size_t n = 0;

	for (s = find(s, needle); s; s = find(s + 1, needle))
		n++;
	return n;
}

static void check_html(const char *body, size_t len, uint64_t page)
{
	char head[128];

	snprintf(head, sizeof head,
	         "<!DOCTYPE html>\n<html><head><title>Page %llu</title></head><body>\n",
	         (unsigned long long)page);
	assert_int_equal(strlen(body), len); /* no NUL inside */
	assert_memory_equal(body, head, strlen(head));
	assert_string_equal(body + len - 15, "</body></html>\n");
	assert_int_equal(count_str(body, "<"), count_str(body, ">"));
	assert_int_equal(count_str(body, "<p>"), count_str(body, "</p>"));
	assert_int_equal(count_str(body, "<a "), count_str(body, "</a>"));
	assert_int_equal(count_str(body, "<ul>"), 1);
	assert_int_equal(count_str(body, "</ul>"), 1);
	assert_null(find(body, "&"));
}

/* One page of a web without errors, checked every way. */
static void check_page(const struct simweb *w, const char *url, uint64_t page)
{
	const struct simweb_config *c = simweb_config(w);
	struct simweb_page p = get(w, url, 0);
	size_t len;
	char *body = render(w, url, &len);
	struct link_list *list = links_of(w, url);
	static char hrefs[SIMWEB_LINKS_MAX + 1][URL_CAP];
	char abs[URL_CAP];

	assert_int_equal(p.status, 200);
	assert_string_equal(p.content_type, "text/html; charset=utf-8");
	assert_int_equal(p.body_len, len);
	check_html(body, len, page);
	assert_true(len >= c->size - c->size / 4);
	if (c->links * 100 < c->size / 2)
		assert_true(len <= c->size + c->size / 4);
	assert_int_equal(scan_hrefs(body, hrefs, SIMWEB_LINKS_MAX + 1), c->links);
	assert_int_equal(list->n, c->links);
	for (size_t i = 0; i < list->n; i++) {
		const struct got_link *g = &list->v[i];

		assert_string_equal(hrefs[i], g->href);
		assert_int_equal(g->index, i);
		resolve(url, g->href, abs, sizeof abs);
		assert_string_equal(abs, g->url);
		assert_null(strstr(g->href, "/p/0"));
		if (g->kind == SIMWEB_LINK_OFFSITE) {
			assert_memory_equal(g->url, "http://offsite.invalid/", 23);
			continue;
		}
		assert_true(g->host < c->hosts);
		assert_true(g->kind == SIMWEB_LINK_PAGE ? g->page < c->pages : g->page >= c->pages);
		assert_int_equal(get(w, g->url, 0).status, g->kind == SIMWEB_LINK_PAGE ? 200 : 404);
	}
	free(list);
	free(body);
}

static const char *const page_specs[] = {
    "pages=50,hosts=3,offsite=0.2,broken=0.2",
    "pages=7,links=0,size=0",
    "pages=1000,links=1000,size=100,offsite=0.1,broken=0.1",
    "pages=100000000,hosts=1000000,links=30,size=8192,offsite=0.3,broken=0.3",
    "pages=1,hosts=2,links=3",
    "pages=20,links=40,size=1500,hosts=11",
    "pages=9,links=5,size=3",
    "pages=99,size=1000000,links=100",
};

static void test_render_pages(void **state)
{
	char url[URL_CAP];

	(void)state;
	for (size_t s = 0; s < sizeof page_specs / sizeof page_specs[0]; s++) {
		struct simweb *w = web(page_specs[s]);
		const struct simweb_config *c = simweb_config(w);

		for (unsigned i = 0; i < 40; i++) {
			unsigned host = (i * 7) % c->hosts;
			uint64_t page = i < 3 ? (uint64_t)(c->pages - i) % c->pages
			                      : ((uint64_t)i * 2654435761u) % c->pages;

			page_url(url, host, page);
			check_page(w, url, page);
		}
		/* Page 0 by its other names: the relative links change with the base. */
		check_page(w, "sim://h0.sim", 0);
		check_page(w, "sim://h0.sim/p/0", 0);
		check_page(w, "SIM://H0.SIM/#top", 0);
		simweb_free(w);
	}
}

static void test_render_big(void **state)
{
	struct simweb *w = web("pages=3,size=10485760,links=5");
	size_t len;
	char *body = render(w, "sim://h0.sim/p/2", &len);

	(void)state;
	assert_true(len >= 10485760 - 10485760 / 4 && len <= 10485760 + 10485760 / 4);
	assert_int_equal(get(w, "sim://h0.sim/p/2", 0).body_len, len);
	check_html(body, len, 2);
	free(body);
	simweb_free(w);
}

/* get() gives body_len from a bound on the link list when the list surely
 * fits in the page's target size; sweep target sizes across the longest
 * lists (off-site links with the widest numbers) so that a bound too small
 * by even a byte per link would show as a wrong body_len. */
static void test_length_bound_edge(void **state)
{
	char spec[160], url[URL_CAP];

	(void)state;
	for (unsigned size = 56000; size <= 80000; size += 300) {
		struct simweb *w;

		snprintf(spec, sizeof spec,
		         "pages=100000000,hosts=1000000,links=1000,offsite=1,broken=0,size=%u",
		         size);
		w = web(spec);
		for (unsigned i = 0; i < 3; i++) {
			page_url(url, 999999 - i, 99999999 - i);
			assert_int_equal(get(w, url, 0).body_len, simweb_render(w, url, NULL, 0));
		}
		simweb_free(w);
	}
}

static void test_render_truncates(void **state)
{
	struct simweb *w = web("pages=10,size=3000");
	const char *url = "sim://h0.sim/p/3";
	size_t len;
	char *full = render(w, url, &len);
	char part[200];

	(void)state;
	memset(part, 'X', sizeof part);
	assert_int_equal(simweb_render(w, url, part, 100), len);
	assert_memory_equal(part, full, 100);
	for (size_t i = 100; i < sizeof part; i++)
		assert_int_equal(part[i], 'X');
	assert_int_equal(simweb_render(w, url, NULL, 0), len);
	assert_int_equal(simweb_render(w, url, NULL, 50), len); /* NULL buf: measures */
	part[0] = 'X';
	assert_int_equal(simweb_render(w, url, part, 0), len);
	assert_int_equal(part[0], 'X');
	free(full);
	simweb_free(w);
}

static void test_robots(void **state)
{
	const char *texts[] = {"User-agent: *\nDisallow:\n",
	                       "User-agent: *\nDisallow: /p/private\n"};
	const char *specs[] = {"hosts=2", "hosts=2,robots=1"};

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		struct simweb *w = web(specs[i]);
		struct simweb_page p = get(w, "sim://h1.sim/robots.txt", 3);
		size_t len;
		char *body = render(w, "sim://h1.sim/robots.txt", &len);

		assert_int_equal(p.status, 200);
		assert_string_equal(p.content_type, "text/plain; charset=utf-8");
		assert_int_equal(p.body_len, strlen(texts[i]));
		assert_string_equal(body, texts[i]);
		assert_int_equal(simweb_links(w, "sim://h1.sim/robots.txt", collect, NULL),
		                 CRAWL_ENOTFOUND);
		free(body);
		simweb_free(w);
	}
}

static void test_link_structure(void **state)
{
	struct simweb *w = web("pages=10,hosts=4,links=2");
	char url[URL_CAP], want[URL_CAP];

	(void)state;
	for (unsigned h = 0; h < 4; h++) {
		for (unsigned n = 0; n < 10; n++) {
			struct link_list *list;

			page_url(url, h, n);
			list = links_of(w, url);
			assert_int_equal(list->n, 2);
			assert_int_equal(list->v[0].kind, SIMWEB_LINK_PAGE);
			assert_int_equal(list->v[0].host, h);
			assert_int_equal(list->v[0].page, (n + 1) % 10);
			page_url(want, h, (n + 1) % 10);
			assert_string_equal(list->v[0].url, want);
			if (n == 0) {
				page_url(want, (h + 1) % 4, 0);
				assert_string_equal(list->v[1].url, want);
			}
			free(list);
		}
	}
	/* A callback's non-zero return stops the walk and is returned. */
	{
		struct link_list *list = calloc(1, sizeof *list);

		assert_non_null(list);
		simweb_free(w);
		w = web("links=20");
		list->stop_at = 3;
		assert_int_equal(simweb_links(w, "sim://h0.sim/p/5", collect, list), 7);
		assert_int_equal(list->n, 3);
		free(list);
	}
	simweb_free(w);
}

/* ---- reachability ------------------------------------------------------- */

struct bfs {
	const struct simweb_config *c;
	unsigned char *seen;
	uint64_t *queue;
	size_t tail, found;
};

static int bfs_visit(void *arg, const struct simweb_link *l)
{
	struct bfs *b = arg;
	uint64_t id;

	if (l->kind != SIMWEB_LINK_PAGE)
		return 0;
	id = (uint64_t)l->host * b->c->pages + l->page;
	if (!b->seen[id]) {
		b->seen[id] = 1;
		b->queue[b->tail++] = id;
	}
	return 0;
}

/* Pages found by breadth-first traversal from sim://h0.sim/. */
static size_t bfs_count(const char *spec)
{
	struct simweb *w = web(spec);
	struct bfs b = {.c = simweb_config(w)};
	size_t total = (size_t)b.c->hosts * b.c->pages, head = 0;
	char url[URL_CAP];

	b.seen = calloc(total, 1);
	b.queue = malloc(total * sizeof *b.queue);
	assert_true(b.seen && b.queue);
	b.seen[0] = 1;
	b.queue[b.tail++] = 0;
	while (head < b.tail) {
		uint64_t id = b.queue[head++];
		int rc;

		page_url(url, (unsigned)(id / b.c->pages), id % b.c->pages);
		rc = simweb_links(w, url, bfs_visit, &b);
		assert_true(rc == 0 || rc == CRAWL_ENOTFOUND);
	}
	free(b.seen);
	free(b.queue);
	simweb_free(w);
	return b.tail;
}

/* The table in simweb.h. */
static size_t expected_pages(unsigned links, unsigned hosts, unsigned pages)
{
	if (links == 0)
		return 1;
	if (links == 1 || hosts == 1)
		return pages;
	return (size_t)hosts * pages;
}

static void test_reachability(void **state)
{
	static const struct {
		const char *spec;
		unsigned links, hosts, pages;
	} cases[] = {
	    {"pages=1000", 10, 1, 1000},
	    {"pages=500,hosts=4,links=2", 2, 4, 500},
	    {"pages=20000,hosts=3,offsite=0.1,broken=0.1", 10, 3, 20000},
	    {"pages=100,hosts=5,links=1", 1, 5, 100},
	    {"pages=100,hosts=5,links=0", 0, 5, 100},
	    {"pages=1,hosts=10,links=2", 2, 10, 1},
	    {"pages=1,hosts=1,links=1", 1, 1, 1},
	    {"pages=2000,hosts=2,links=50,offsite=0.5,broken=0.5", 50, 2, 2000},
	    {"seed=99,pages=3000,hosts=7,links=3,offsite=0,broken=0", 3, 7, 3000},
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(bfs_count(cases[i].spec),
		                 expected_pages(cases[i].links, cases[i].hosts, cases[i].pages));
	/* With permanent errors, fewer: the traversal stops at pages that fail. */
	assert_true(bfs_count("pages=2000,links=3,e404=0.3") < 2000);
}

/* ---- URL forms ---------------------------------------------------------- */

static void test_bad_urls(void **state)
{
	static const char *eurl[] = {
	    "",
	    "http://h0.sim/",
	    "sim:/h0.sim/",
	    "sim//h0.sim/",
	    "sim://",
	    "sim:///p/1",
	    "sim://h0.sim:80/",
	    "sim://user@h0.sim/",
	    "sim://h0.sim/p/1 x",
	    "sim://h0.sim/\tp",
	    "sim://h0.sim/p/\x7f",
	    "ftp://x",
	    "sim:",
	    "sim://?x",
	};
	static const char *edns[] = {
	    "sim://h2.sim/", "sim://h01.sim/", "sim://x0.sim/",        "sim://h0.com/",
	    "sim://h.sim/",  "sim://h-1.sim/", "sim://h99999999.sim/", "sim://h0.sim.evil/",
	    "sim://h0sim/",  "sim://h0x.sim/",
	};
	struct simweb *w = web("hosts=2");
	struct simweb_page p;

	(void)state;
	for (size_t i = 0; i < sizeof eurl / sizeof eurl[0]; i++) {
		if (simweb_get(w, eurl[i], 0, &p) != CRAWL_EURL)
			fail_msg("\"%s\" is not CRAWL_EURL", eurl[i]);
		assert_int_equal(simweb_render(w, eurl[i], NULL, 0), 0);
		assert_int_equal(simweb_links(w, eurl[i], collect, NULL), CRAWL_EURL);
	}
	for (size_t i = 0; i < sizeof edns / sizeof edns[0]; i++) {
		if (simweb_get(w, edns[i], 0, &p) != CRAWL_EDNS)
			fail_msg("\"%s\" is not CRAWL_EDNS", edns[i]);
		assert_int_equal(simweb_links(w, edns[i], collect, NULL), CRAWL_EDNS);
	}
	simweb_free(w);
}

static void test_url_length_and_args(void **state)
{
	struct simweb *w = web("");
	struct simweb_page p;
	char *big = malloc(SIMWEB_URL_MAX + 2);

	(void)state;
	assert_non_null(big);
	memcpy(big, "sim://h0.sim/", 13);
	memset(big + 13, 'a', SIMWEB_URL_MAX - 13);
	big[SIMWEB_URL_MAX] = '\0';
	assert_int_equal(get(w, big, 0).status, 404); /* at the limit: a fine 404 */
	big[SIMWEB_URL_MAX] = 'a';
	big[SIMWEB_URL_MAX + 1] = '\0';
	assert_int_equal(simweb_get(w, big, 0, &p), CRAWL_EURL);
	free(big);

	assert_int_equal(simweb_get(NULL, "sim://h0.sim/", 0, &p), CRAWL_EINVAL);
	assert_int_equal(simweb_get(w, NULL, 0, &p), CRAWL_EINVAL);
	assert_int_equal(simweb_get(w, "sim://h0.sim/", 0, NULL), CRAWL_EINVAL);
	assert_int_equal(simweb_links(w, "sim://h0.sim/", NULL, NULL), CRAWL_EINVAL);
	assert_int_equal(simweb_links(NULL, "sim://h0.sim/", collect, NULL), CRAWL_EINVAL);
	assert_int_equal(simweb_render(NULL, "sim://h0.sim/", NULL, 0), 0);
	assert_int_equal(simweb_render(w, NULL, NULL, 0), 0);
	simweb_free(w);
}

static void test_not_found_paths(void **state)
{
	static const char *missing[] = {
	    "sim://h0.sim/p/",         "sim://h0.sim/p/-1",         "sim://h0.sim/p/007",
	    "sim://h0.sim/p/1000",     "sim://h0.sim/p/3?x=1",      "sim://h0.sim/p/3/",
	    "sim://h0.sim/index.html", "sim://h0.sim/p/1234567890", "sim://h0.sim/P/3",
	    "sim://h0.sim?q",          "sim://h0.sim/robots.txt/",  "sim://h0.sim//",
	    "sim://h0.sim/p/0x3",
	};
	struct simweb *w = web("pages=1000");

	(void)state;
	for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
		struct simweb_page p = get(w, missing[i], 0);

		if (p.status != 404)
			fail_msg("\"%s\": status %d, expected 404", missing[i], p.status);
		assert_int_equal(p.body_len, 0);
		assert_int_equal(p.timeout, 0);
		assert_int_equal(simweb_render(w, missing[i], NULL, 0), 0);
		assert_int_equal(simweb_links(w, missing[i], collect, NULL), CRAWL_ENOTFOUND);
	}
	simweb_free(w);
}

/* Case, fragments and page 0's three names change nothing but the base. */
static void test_url_equivalents(void **state)
{
	struct simweb *w = web("latency=uniform:0:100,size=5000,pages=100");
	struct simweb_page a = get(w, "sim://h0.sim/p/3", 2), b = get(w, "SIM://H0.Sim/p/3#x", 2);
	struct simweb_page r0 = get(w, "sim://h0.sim/", 1), r1 = get(w, "sim://h0.sim", 1);
	struct simweb_page r2 = get(w, "sim://h0.sim/p/0", 1);

	(void)state;
	assert_true(a.latency_ms == b.latency_ms && a.body_len == b.body_len);
	assert_true(r0.latency_ms == r1.latency_ms && r0.latency_ms == r2.latency_ms);
	assert_int_equal(r0.status, 200);
	assert_int_equal(r0.body_len, r1.body_len);
	assert_int_equal(r0.body_len, r2.body_len);
	simweb_free(w);
}

/* ---- scale -------------------------------------------------------------- */

static int count_links(void *arg, const struct simweb_link *l)
{
	(*(size_t *)arg) += l->page < 200000000;
	return 0;
}

static void test_huge_web(void **state)
{
	struct simweb *w = web("pages=100000000,hosts=1000000,size=8192");
	struct link_list *list = links_of(w, "sim://h999999.sim/p/99999999");
	char url[URL_CAP], body[16384];
	struct mallinfo2 before, after;
	size_t seen = 0;

	(void)state;
	assert_string_equal(list->v[0].url, "sim://h999999.sim/");
	assert_int_equal(get(w, "sim://h999999.sim/p/99999999", 0).status, 200);
	assert_int_equal(get(w, "sim://h999999.sim/p/100000000", 0).status, 404);
	assert_int_equal(simweb_get(w, "sim://h1000000.sim/", 0, &(struct simweb_page){0}),
	                 CRAWL_EDNS);
	free(list);

	/* No allocation, whatever the page numbers: the heap does not move. */
	before = mallinfo2();
	for (unsigned i = 0; i < 20000; i++) {
		uint64_t page = 100000000 - 1 - (uint64_t)i * 4999;
		struct simweb_page p;

		page_url(url, (i * 104729u) % 1000000, page);
		p = get(w, url, i);
		assert_int_equal(simweb_render(w, url, body, sizeof body), p.body_len);
		assert_int_equal(simweb_links(w, url, count_links, &seen), 0);
	}
	after = mallinfo2();
	assert_int_equal(before.uordblks, after.uordblks);
	assert_int_equal(before.arena, after.arena);
	assert_int_equal(seen, 20000 * 10);
	simweb_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_spec_defaults),
	    cmocka_unit_test(test_spec_every_key),
	    cmocka_unit_test(test_spec_errors),
	    cmocka_unit_test(test_spec_limits),
	    cmocka_unit_test(test_determinism),
	    cmocka_unit_test(test_seed_changes_latency),
	    cmocka_unit_test(test_latency_fixed),
	    cmocka_unit_test(test_latency_uniform),
	    cmocka_unit_test(test_latency_lognormal),
	    cmocka_unit_test(test_error_rates),
	    cmocka_unit_test(test_transient_errors),
	    cmocka_unit_test(test_error_extremes),
	    cmocka_unit_test(test_render_pages),
	    cmocka_unit_test(test_render_big),
	    cmocka_unit_test(test_length_bound_edge),
	    cmocka_unit_test(test_render_truncates),
	    cmocka_unit_test(test_robots),
	    cmocka_unit_test(test_link_structure),
	    cmocka_unit_test(test_reachability),
	    cmocka_unit_test(test_bad_urls),
	    cmocka_unit_test(test_url_length_and_args),
	    cmocka_unit_test(test_not_found_paths),
	    cmocka_unit_test(test_url_equivalents),
	    cmocka_unit_test(test_huge_web),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
