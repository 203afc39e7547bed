/* test_frontier.c - the crawl frontier on its own: host table, per-host FIFO
 * order, the breadth-first pick across hosts and its rotation, the per-host
 * limit of fetches in flight, politeness (next_ok and the wake time), the
 * ready flag, and the checkpoint text format (round trip, corrupt and torn
 * input). Times are plain numbers: nothing here reads a clock. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "frontier.h"

static struct frontier_host *host(struct frontier *f, const char *key)
{
	struct frontier_host *h = NULL;
	assert_int_equal(frontier_host(f, key, &h), 0);
	assert_non_null(h);
	h->ready = 1;
	return h;
}

static void push(struct frontier *f, struct frontier_host *h, const char *url, unsigned depth)
{
	assert_int_equal(frontier_push(f, h, url, NULL, depth, 0), 0);
}

/* Takes the next item at time now and checks its URL (and host, if given). */
static void expect_next(struct frontier *f, uint64_t now, const char *url,
                        const struct frontier_host *want_host)
{
	struct frontier_item it = {0};
	struct frontier_host *h = NULL;
	uint64_t wake = 12345;
	assert_int_equal(frontier_next(f, now, &it, &h, &wake), 1);
	assert_string_equal(it.url, url);
	if (want_host)
		assert_ptr_equal(h, want_host);
	frontier_item_clear(&it);
}

static void expect_none(struct frontier *f, uint64_t now, uint64_t want_wake)
{
	struct frontier_item it = {0};
	struct frontier_host *h = NULL;
	uint64_t wake = 12345;
	assert_int_equal(frontier_next(f, now, &it, &h, &wake), 0);
	assert_int_equal(wake, want_wake);
	assert_null(it.url);
}

static void test_host_table(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	struct frontier_host *a = NULL, *b = NULL;
	assert_int_equal(frontier_new(&f, 4), 0);
	assert_int_equal(frontier_host(f, "a.example", &a), 0);
	assert_int_equal(frontier_host(f, "a.example", &b), 0);
	assert_ptr_equal(a, b);
	assert_string_equal(a->key, "a.example");
	assert_int_equal(a->ready, 0);
	assert_int_equal(a->active, 0);
	/* Enough hosts to grow the table several times; each stays findable. */
	char key[48];
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "h%d.example:%d", i, 8000 + i);
		assert_int_equal(frontier_host(f, key, &b), 0);
		b->data = (void *)(intptr_t)(i + 1);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(key, sizeof key, "h%d.example:%d", i, 8000 + i);
		assert_int_equal(frontier_host(f, key, &b), 0);
		assert_int_equal((intptr_t)b->data, i + 1);
	}
	assert_int_equal(frontier_queued(f), 0);
	assert_int_equal(frontier_min_depth(f), UINT32_MAX);
	frontier_free(f);
	frontier_free(NULL);
}

static void count_host(void *arg, struct frontier_host *h)
{
	(void)h;
	(*(int *)arg)++;
}

static void test_each_host(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 1), 0);
	char key[48];
	for (int i = 0; i < 300; i++) {
		snprintf(key, sizeof key, "h%d", i);
		host(f, key);
	}
	int n = 0;
	frontier_each_host(f, count_host, &n);
	assert_int_equal(n, 300);
	frontier_free(f);
}

static void test_fifo_per_host(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 10), 0);
	struct frontier_host *h = host(f, "a");
	assert_int_equal(frontier_push(f, h, "http://a/1", NULL, 0, 0), 0);
	assert_int_equal(frontier_push(f, h, "http://a/2", "http://a/1", 0, 2), 0);
	assert_int_equal(frontier_push(f, h, "http://a/3", "http://a/2", 0, 0), 0);
	assert_int_equal(frontier_queued(f), 3);

	struct frontier_item it = {0};
	struct frontier_host *got = NULL;
	uint64_t wake;
	assert_int_equal(frontier_next(f, 0, &it, &got, &wake), 1);
	assert_string_equal(it.url, "http://a/1");
	assert_null(it.referrer);
	assert_int_equal(it.depth, 0);
	assert_int_equal(it.attempt, 0);
	assert_ptr_equal(got, h);
	assert_int_equal(h->active, 1);
	frontier_item_clear(&it);
	assert_null(it.url);

	assert_int_equal(frontier_next(f, 0, &it, &got, &wake), 1);
	assert_string_equal(it.url, "http://a/2");
	assert_string_equal(it.referrer, "http://a/1");
	assert_int_equal(it.attempt, 2);
	frontier_item_clear(&it);
	expect_next(f, 0, "http://a/3", h);
	assert_int_equal(frontier_queued(f), 0);
	assert_int_equal(h->active, 3);
	expect_none(f, 0, 0);
	for (int i = 0; i < 3; i++)
		frontier_done(f, h);
	assert_int_equal(h->active, 0);
	frontier_done(f, h); /* never below zero */
	assert_int_equal(h->active, 0);
	frontier_free(f);
}

static void test_breadth_first(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 10), 0);
	struct frontier_host *a = host(f, "a"), *b = host(f, "b"), *c = host(f, "c");
	push(f, a, "http://a/d2", 2);
	push(f, a, "http://a/d0", 0); /* FIFO per host: behind the depth-2 URL */
	push(f, b, "http://b/d1", 1);
	push(f, c, "http://c/d3", 3);
	push(f, c, "http://c/d1", 1);
	assert_int_equal(frontier_min_depth(f), 0);
	/* Heads: a=2, b=1, c=3. */
	expect_next(f, 0, "http://b/d1", b);
	expect_next(f, 0, "http://a/d2", a); /* heads now a=2, c=3 */
	expect_next(f, 0, "http://a/d0", a);
	expect_next(f, 0, "http://c/d3", c);
	expect_next(f, 0, "http://c/d1", c);
	assert_int_equal(frontier_min_depth(f), UINT32_MAX);
	frontier_free(f);
}

static void test_rotation(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 100), 0);
	struct frontier_host *h[3] = {host(f, "a"), host(f, "b"), host(f, "c")};
	const char *names[3] = {"a", "b", "c"};
	char url[32];
	for (int i = 0; i < 4; i++)
		for (int k = 0; k < 3; k++) {
			snprintf(url, sizeof url, "http://%s/%d", names[k], i);
			push(f, h[k], url, 1);
		}
	/* Equal depths: every host gets its turn before any gets a second. */
	int taken[3] = {0};
	for (int round = 0; round < 4; round++) {
		int seen[3] = {0};
		for (int k = 0; k < 3; k++) {
			struct frontier_item it = {0};
			struct frontier_host *got = NULL;
			uint64_t wake;
			assert_int_equal(frontier_next(f, 0, &it, &got, &wake), 1);
			int idx = got == h[0] ? 0 : got == h[1] ? 1 : 2;
			assert_ptr_equal(got, h[idx]);
			snprintf(url, sizeof url, "http://%s/%d", names[idx], taken[idx]);
			assert_string_equal(it.url, url); /* FIFO within the host */
			seen[idx]++;
			taken[idx]++;
			frontier_item_clear(&it);
		}
		assert_int_equal(seen[0], 1);
		assert_int_equal(seen[1], 1);
		assert_int_equal(seen[2], 1);
	}
	expect_none(f, 0, 0);
	frontier_free(f);
}

/* A host that joins later is not starved by hosts already rotating. */
static void test_rotation_new_host(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 100), 0);
	struct frontier_host *a = host(f, "a"), *b = host(f, "b");
	for (int i = 0; i < 10; i++) {
		push(f, a, "http://a/x", 0);
		push(f, b, "http://b/x", 0);
	}
	expect_next(f, 0, "http://a/x", a);
	expect_next(f, 0, "http://b/x", b);
	struct frontier_host *c = host(f, "c");
	push(f, c, "http://c/x", 0);
	int got_c = 0;
	for (int i = 0; i < 3; i++) {
		struct frontier_item it = {0};
		struct frontier_host *got = NULL;
		uint64_t wake;
		assert_int_equal(frontier_next(f, 0, &it, &got, &wake), 1);
		got_c += got == c;
		frontier_item_clear(&it);
	}
	assert_int_equal(got_c, 1);
	frontier_free(f);
}

static void test_per_host_max(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 2), 0);
	struct frontier_host *a = host(f, "a"), *b = host(f, "b");
	for (int i = 0; i < 4; i++)
		push(f, a, "http://a/x", 0);
	push(f, b, "http://b/x", 5);
	expect_next(f, 0, "http://a/x", a);
	expect_next(f, 0, "http://a/x", a);
	assert_int_equal(a->active, 2);
	/* a is full: the deeper URL of b goes first. */
	expect_next(f, 0, "http://b/x", b);
	/* Nothing may start, and nothing waits on time (only on a fetch ending). */
	expect_none(f, 0, 0);
	frontier_done(f, a);
	expect_next(f, 0, "http://a/x", a);
	expect_none(f, 0, 0);
	frontier_done(f, a);
	frontier_done(f, a);
	expect_next(f, 0, "http://a/x", a);
	assert_int_equal(frontier_queued(f), 0);
	frontier_free(f);

	/* per_host_max < 1 means 1. */
	assert_int_equal(frontier_new(&f, 0), 0);
	a = host(f, "a");
	push(f, a, "http://a/1", 0);
	push(f, a, "http://a/2", 0);
	expect_next(f, 0, "http://a/1", a);
	expect_none(f, 0, 0);
	frontier_free(f);
}

static void test_politeness(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 4), 0);
	struct frontier_host *a = host(f, "a"), *b = host(f, "b");
	a->delay_ns = 1000;
	b->delay_ns = 300;
	for (int i = 0; i < 3; i++) {
		push(f, a, "http://a/x", 0);
		push(f, b, "http://b/x", 0);
	}
	expect_next(f, 5000, "http://a/x", a);
	assert_int_equal(a->next_ok, 6000);
	expect_next(f, 5000, "http://b/x", b);
	assert_int_equal(b->next_ok, 5300);
	/* Both wait: wake is the earlier of the two. */
	expect_none(f, 5000, 5300);
	expect_none(f, 5299, 5300);
	expect_next(f, 5300, "http://b/x", b);
	assert_int_equal(b->next_ok, 5600);
	expect_none(f, 5301, 5600);
	/* Starting later than next_ok counts from the real start. */
	expect_next(f, 5900, "http://b/x", b);
	assert_int_equal(b->next_ok, 6200);
	expect_none(f, 5900, 6000);
	expect_next(f, 6000, "http://a/x", a);
	/* b is empty now: only a's time counts. */
	expect_none(f, 6000, 7000);
	/* A host at its in-flight limit does not set a wake time. */
	a->delay_ns = 0;
	a->active = 4;
	expect_none(f, 7000, 0);
	a->active = 0;
	expect_next(f, 7000, "http://a/x", a);
	frontier_free(f);
}

static void test_ready_flag(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 4), 0);
	struct frontier_host *a = NULL, *b = host(f, "b");
	assert_int_equal(frontier_host(f, "a", &a), 0);
	a->delay_ns = 100;
	push(f, a, "http://a/x", 0);
	push(f, b, "http://b/x", 3);
	expect_next(f, 0, "http://b/x", b); /* a is shallower but not ready */
	expect_none(f, 0, 0);               /* not ready: no wake time either */
	a->ready = 1;
	expect_next(f, 0, "http://a/x", a);
	frontier_free(f);
}

/* ---- checkpoints ---- */

struct loaded {
	char url[16][64], ref[16][64];
	int has_ref[16];
	unsigned depth[16], attempt[16];
	int n;
	int fail_at; /* push_fn returns CRAWL_ENOMEM at this index (-1: never) */
};

static int load_one(void *arg, const char *url, const char *referrer, unsigned depth,
                    unsigned attempt)
{
	struct loaded *l = arg;
	if (l->n == l->fail_at || l->n >= 16)
		return CRAWL_ENOMEM;
	snprintf(l->url[l->n], sizeof l->url[0], "%s", url);
	l->has_ref[l->n] = referrer != NULL;
	snprintf(l->ref[l->n], sizeof l->ref[0], "%s", referrer ? referrer : "");
	l->depth[l->n] = depth;
	l->attempt[l->n] = attempt;
	l->n++;
	return 0;
}

static int parse_str(const char *s, struct loaded *l)
{
	memset(l, 0, sizeof *l);
	l->fail_at = -1;
	return frontier_parse(s, strlen(s), load_one, l);
}

static void test_save_parse_round_trip(void **state)
{
	(void)state;
	struct frontier *f = NULL;
	assert_int_equal(frontier_new(&f, 4), 0);
	struct frontier_host *a = host(f, "a"), *b = host(f, "b:8080");
	assert_int_equal(frontier_push(f, a, "http://a/1", NULL, 0, 0), 0);
	assert_int_equal(frontier_push(f, a, "http://a/2?q=1", "http://a/1", 1, 3), 0);
	assert_int_equal(frontier_push(f, b, "http://b:8080/", "http://a/2?q=1", 7, 0), 0);
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(frontier_save(f, &buf, &len), 0);
	assert_int_equal(len, strlen(buf));
	assert_string_equal(buf, "0\t0\thttp://a/1\t\n"
	                         "1\t3\thttp://a/2?q=1\thttp://a/1\n"
	                         "7\t0\thttp://b:8080/\thttp://a/2?q=1\n");
	struct loaded l;
	assert_int_equal(parse_str(buf, &l), 0);
	assert_int_equal(l.n, 3);
	assert_string_equal(l.url[0], "http://a/1");
	assert_false(l.has_ref[0]);
	assert_string_equal(l.url[1], "http://a/2?q=1");
	assert_string_equal(l.ref[1], "http://a/1");
	assert_int_equal(l.depth[1], 1);
	assert_int_equal(l.attempt[1], 3);
	assert_string_equal(l.url[2], "http://b:8080/");
	assert_int_equal(l.depth[2], 7);
	free(buf);

	/* Saving does not consume: the queue is still there. */
	assert_int_equal(frontier_queued(f), 3);
	expect_next(f, 0, "http://a/1", a);
	assert_int_equal(frontier_save(f, &buf, &len), 0);
	assert_int_equal(parse_str(buf, &l), 0);
	assert_int_equal(l.n, 2);
	free(buf);
	frontier_free(f);

	/* An empty frontier saves as an empty buffer, which loads as nothing. */
	assert_int_equal(frontier_new(&f, 4), 0);
	assert_int_equal(frontier_save(f, &buf, &len), 0);
	assert_int_equal(len, 0);
	assert_int_equal(frontier_parse(buf ? buf : "", len, load_one, &l), 0);
	free(buf);
	frontier_free(f);
}

static void test_parse_corrupt(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "0\t0\thttp://a/1",               /* torn: no final newline */
	    "0\t0\thttp://a/1\t",             /* torn inside the line */
	    "x\t0\thttp://a/1\t\n",           /* depth not a number */
	    "\t0\thttp://a/1\t\n",            /* empty depth */
	    "0 0 http://a/1\n",               /* not tab-separated */
	    "0\t0\thttp://a/1\n",             /* no referrer field */
	    "0\t0\t\t\n",                     /* empty URL */
	    "0\tz\thttp://a/1\t\n",           /* attempt not a number */
	    "0\t99999\thttp://a/1\t\n",       /* attempt out of range */
	    "99999999999\t0\thttp://a/1\t\n", /* depth out of range */
	    "0\t0\thttp://a/1\tr\tx\n",       /* a field too many */
	    "\n",                             /* an empty line */
	};
	struct loaded l;
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse_str(bad[i], &l) != CRAWL_EINVAL)
			fail_msg("accepted corrupt checkpoint #%zu", i);
		assert_int_equal(l.n, 0);
	}
	/* Lines before the bad one were loaded, none after it. */
	assert_int_equal(parse_str("0\t0\thttp://a/1\t\n1\t0\thttp://a/2\thttp://a/1\n"
	                           "garbage\n2\t0\thttp://a/3\t\n",
	                           &l),
	                 CRAWL_EINVAL);
	assert_int_equal(l.n, 2);
	/* A checkpoint cut off in the middle of its last line. */
	const char *full = "0\t0\thttp://a/1\t\n1\t0\thttp://a/2\thttp://a/1\n";
	for (size_t cut = 1; cut < strlen(full); cut++) {
		if (full[cut - 1] == '\n')
			continue;
		memset(&l, 0, sizeof l);
		l.fail_at = -1;
		assert_int_equal(frontier_parse(full, cut, load_one, &l), CRAWL_EINVAL);
	}
	/* A NUL inside a line is not a shorter valid line. */
	static const char nul[] = "0\t0\thttp://a/1\0x\t\n";
	memset(&l, 0, sizeof l);
	l.fail_at = -1;
	assert_int_equal(frontier_parse(nul, sizeof nul - 1, load_one, &l), CRAWL_EINVAL);
	/* The push function's error stops the load and is returned. */
	memset(&l, 0, sizeof l);
	l.fail_at = 1;
	assert_int_equal(frontier_parse(full, strlen(full), load_one, &l), CRAWL_ENOMEM);
	assert_int_equal(l.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_host_table),    cmocka_unit_test(test_each_host),
	    cmocka_unit_test(test_fifo_per_host), cmocka_unit_test(test_breadth_first),
	    cmocka_unit_test(test_rotation),      cmocka_unit_test(test_rotation_new_host),
	    cmocka_unit_test(test_per_host_max),  cmocka_unit_test(test_politeness),
	    cmocka_unit_test(test_ready_flag),    cmocka_unit_test(test_save_parse_round_trip),
	    cmocka_unit_test(test_parse_corrupt),
	};
	return cmocka_run_group_tests_name("frontier", tests, NULL, NULL);
}
