/* test_pipeline.c - the sorting pipeline (seed 2.3), in both stack modes.
 *
 * Comparators and emit callbacks run on the pipeline's coroutines: they only
 * record, the tests assert afterwards. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "coro.h"
#include "pipeline.h"

#define P(i) ((void *)(intptr_t)(i))
#define I(p) ((intptr_t)(p))

enum { MAX_KEEP = 64 };

/* What emit saw: every batch kept (owned) for the test to inspect. */
struct sink {
	int tag;
	int bad_arg;
	size_t nbatches;
	struct pipeline_batch *batches[MAX_KEEP];
	coro_t *emit_coro;
	struct pipeline *reenter; /* if set, emit tries to send into it */
	int reenter_rc, reenter_end_rc, reenter_finish_rc;
};

static void sink_emit(void *arg, struct pipeline_batch *batch)
{
	struct sink *s = arg;
	s->bad_arg += s->tag != 0x5eed;
	s->emit_coro = coro_current();
	if (s->reenter) {
		s->reenter_rc = pipeline_send(s->reenter, P(1));
		s->reenter_end_rc = pipeline_end_batch(s->reenter);
		s->reenter_finish_rc = pipeline_finish(s->reenter);
	}
	if (s->nbatches < MAX_KEEP)
		s->batches[s->nbatches++] = batch;
	else
		pipeline_batch_free(batch);
}

static void sink_clear(struct sink *s)
{
	for (size_t i = 0; i < s->nbatches; i++)
		pipeline_batch_free(s->batches[i]);
	s->nbatches = 0;
}

/* Comparator context: counts calls and remembers which coroutine ran it. */
struct cmp_rec {
	size_t calls;
	coro_t *coro;
};

static int cmp_int(const void *a, const void *b, void *ctx)
{
	struct cmp_rec *r = ctx;
	if (r) {
		r->calls++;
		r->coro = coro_current();
	}
	intptr_t x = I(a), y = I(b);
	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b, void *ctx)
{
	(void)ctx;
	return strcmp(a, b);
}

struct item {
	int key;
	int seq; /* send order, to check stability */
};

static int cmp_item(const void *a, const void *b, void *ctx)
{
	const struct item *x = a, *y = b;
	(void)ctx;
	return (x->key > y->key) - (x->key < y->key);
}

static void new_int_pipeline(struct pipeline **p, struct cmp_rec *cr, struct sink *s)
{
	s->tag = 0x5eed;
	assert_int_equal(pipeline_new(p, cmp_int, cr, sink_emit, s), 0);
}

static void test_ints_sorted(void **state)
{
	(void)state;
	struct sink s = {0};
	struct cmp_rec cr = {0};
	struct pipeline *p = NULL;
	static const intptr_t in[] = {5, -3, 12, 0, 5, 99, -100, 7};
	static const intptr_t want[] = {-100, -3, 0, 5, 5, 7, 12, 99};
	new_int_pipeline(&p, &cr, &s);
	for (size_t i = 0; i < 8; i++) {
		assert_int_equal(pipeline_send(p, P(in[i])), 0);
		assert_int_equal(pipeline_pending(p), i + 1);
	}
	assert_int_equal(s.nbatches, 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(pipeline_pending(p), 0);
	assert_int_equal(pipeline_batches(p), 1);
	assert_int_equal(s.nbatches, 1);
	assert_int_equal(s.bad_arg, 0);
	assert_int_equal(s.batches[0]->count, 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(I(s.batches[0]->items[i]), want[i]);
	assert_true(cr.calls > 0);
	sink_clear(&s);
	pipeline_free(p);
}

static void test_strings_sorted(void **state)
{
	(void)state;
	struct sink s = {.tag = 0x5eed};
	struct pipeline *p = NULL;
	static const char *const in[] = {"MH", "EC", "MD", "ML", "GA", "EC"};
	static const char *const want[] = {"EC", "EC", "GA", "MD", "MH", "ML"};
	assert_int_equal(pipeline_new(&p, cmp_str, NULL, sink_emit, &s), 0);
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(pipeline_send(p, (void *)in[i]), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.nbatches, 1);
	assert_int_equal(s.batches[0]->count, 6);
	for (size_t i = 0; i < 6; i++)
		assert_string_equal(s.batches[0]->items[i], want[i]);
	sink_clear(&s);
	pipeline_free(p);
}

static void test_structs_stable(void **state)
{
	(void)state;
	enum { N = 500 };
	struct item *items = calloc(N, sizeof *items);
	assert_non_null(items);
	struct sink s = {.tag = 0x5eed};
	struct pipeline *p = NULL;
	assert_int_equal(pipeline_new(&p, cmp_item, NULL, sink_emit, &s), 0);
	unsigned x = 12345;
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		items[i] = (struct item){.key = (int)((x >> 16) % 7), .seq = i};
		assert_int_equal(pipeline_send(p, &items[i]), 0);
	}
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.nbatches, 1);
	struct pipeline_batch *b = s.batches[0];
	assert_int_equal(b->count, N);
	int bad = 0;
	for (size_t i = 1; i < b->count; i++) {
		const struct item *prev = b->items[i - 1], *cur = b->items[i];
		bad += prev->key > cur->key;
		bad += prev->key == cur->key && prev->seq >= cur->seq; /* stable */
	}
	assert_int_equal(bad, 0);
	sink_clear(&s);
	pipeline_free(p);
	free(items);
}

static void test_empty_batch(void **state)
{
	(void)state;
	struct sink s = {0};
	struct pipeline *p = NULL;
	new_int_pipeline(&p, NULL, &s);
	assert_int_equal(pipeline_pending(p), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.nbatches, 2);
	assert_int_equal(s.batches[0]->count, 0);
	assert_non_null(s.batches[0]->items);
	assert_int_equal(s.batches[1]->count, 0);
	sink_clear(&s);
	pipeline_free(p);
}

/* Reference check: b is sorted and a permutation of in[0..n). */
static int batch_matches(const struct pipeline_batch *b, const intptr_t *in, size_t n)
{
	if (b->count != n)
		return 0;
	intptr_t *sorted = malloc((n ? n : 1) * sizeof *sorted);
	if (!sorted)
		return 0;
	memcpy(sorted, in, n * sizeof *sorted);
	/* insertion sort: n is small here and it is independent of the code
	 * under test */
	for (size_t i = 1; i < n; i++) {
		intptr_t v = sorted[i];
		size_t j = i;
		for (; j > 0 && sorted[j - 1] > v; j--)
			sorted[j] = sorted[j - 1];
		sorted[j] = v;
	}
	int ok = 1;
	for (size_t i = 0; i < n; i++)
		ok &= I(b->items[i]) == sorted[i];
	free(sorted);
	return ok;
}

static void test_many_rounds(void **state)
{
	(void)state;
	enum { ROUNDS = 300, MAXN = 200 };
	struct sink s = {0};
	struct pipeline *p = NULL;
	intptr_t in[MAXN];
	unsigned x = 99;
	int bad = 0;
	new_int_pipeline(&p, NULL, &s);
	for (int r = 0; r < ROUNDS; r++) {
		x = x * 1103515245u + 12345u;
		size_t n = (x >> 16) % MAXN;
		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			in[i] = (intptr_t)((x >> 8) % 1000) - 500;
			bad += pipeline_send(p, P(in[i])) != 0;
		}
		bad += pipeline_end_batch(p) != 0;
		bad += s.nbatches != 1 || !batch_matches(s.batches[0], in, n);
		sink_clear(&s);
	}
	assert_int_equal(bad, 0);
	assert_int_equal(pipeline_batches(p), ROUNDS);
	pipeline_free(p);
}

static void test_large_batch(void **state)
{
	(void)state;
	enum { N = 200000 };
	struct sink s = {0};
	struct pipeline *p = NULL;
	unsigned x = 7;
	new_int_pipeline(&p, NULL, &s);
	for (int i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		assert_int_equal(pipeline_send(p, P(x >> 4)), 0);
	}
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.batches[0]->count, N);
	int bad = 0;
	for (size_t i = 1; i < N; i++)
		bad += I(s.batches[0]->items[i - 1]) > I(s.batches[0]->items[i]);
	assert_int_equal(bad, 0);
	sink_clear(&s);
	pipeline_free(p);
}

static void test_sorter_is_separate_coroutine(void **state)
{
	(void)state;
	struct sink s = {0};
	struct cmp_rec cr = {0};
	struct pipeline *p = NULL;
	new_int_pipeline(&p, &cr, &s);
	assert_int_equal(pipeline_send(p, P(2)), 0);
	assert_int_equal(pipeline_send(p, P(1)), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_non_null(cr.coro);      /* the comparator runs in the sorter */
	assert_non_null(s.emit_coro);  /* emit runs in the delegator */
	assert_ptr_not_equal(cr.coro, s.emit_coro);
	assert_null(coro_current());
	sink_clear(&s);
	pipeline_free(p);
}

static void test_max_batch_emits_early(void **state)
{
	(void)state;
	struct sink s = {0};
	struct pipeline *p = NULL;
	new_int_pipeline(&p, NULL, &s);
	assert_int_equal(pipeline_set_max_batch(p, 0), CRAWL_EINVAL);
	assert_int_equal(pipeline_set_max_batch(p, PIPELINE_MAX_BATCH_LIMIT + 1), CRAWL_EINVAL);
	assert_int_equal(pipeline_set_max_batch(NULL, 3), CRAWL_EINVAL);
	assert_int_equal(pipeline_set_max_batch(p, 3), 0);
	for (intptr_t v = 7; v >= 1; v--)
		assert_int_equal(pipeline_send(p, P(v)), 0);
	/* 7 6 5 | 4 3 2 | 1 */
	assert_int_equal(s.nbatches, 2);
	assert_int_equal(pipeline_pending(p), 1);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.nbatches, 3);
	static const intptr_t want[3][3] = {{5, 6, 7}, {2, 3, 4}, {1, 0, 0}};
	for (size_t b = 0; b < 3; b++) {
		assert_int_equal(s.batches[b]->count, b < 2 ? 3 : 1);
		for (size_t i = 0; i < s.batches[b]->count; i++)
			assert_int_equal(I(s.batches[b]->items[i]), want[b][i]);
	}
	/* exactly full: the end marker then emits an empty batch */
	sink_clear(&s);
	for (intptr_t v = 0; v < 3; v++)
		assert_int_equal(pipeline_send(p, P(v)), 0);
	assert_int_equal(s.nbatches, 1);
	assert_int_equal(pipeline_pending(p), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.nbatches, 2);
	assert_int_equal(s.batches[1]->count, 0);
	sink_clear(&s);
	pipeline_free(p);
}

static void test_finish_emits_final_batch(void **state)
{
	(void)state;
	struct sink s = {0};
	struct pipeline *p = NULL;
	new_int_pipeline(&p, NULL, &s);
	assert_int_equal(pipeline_send(p, P(3)), 0);
	assert_int_equal(pipeline_send(p, P(1)), 0);
	assert_int_equal(pipeline_finish(p), 0);
	assert_int_equal(s.nbatches, 1);
	assert_int_equal(s.batches[0]->count, 2);
	assert_int_equal(I(s.batches[0]->items[0]), 1);
	assert_int_equal(pipeline_send(p, P(4)), CRAWL_ECLOSED);
	assert_int_equal(pipeline_end_batch(p), CRAWL_ECLOSED);
	assert_int_equal(pipeline_finish(p), 0);
	assert_int_equal(s.nbatches, 1);
	sink_clear(&s);
	pipeline_free(p);

	/* nothing pending: no batch */
	new_int_pipeline(&p, NULL, &s);
	assert_int_equal(pipeline_finish(p), 0);
	assert_int_equal(s.nbatches, 0);
	pipeline_free(p);
}

static void test_free_drops_pending(void **state)
{
	(void)state;
	struct sink s = {0};
	struct pipeline *p = NULL;
	new_int_pipeline(&p, NULL, &s);
	for (intptr_t v = 1; v <= 100; v++)
		assert_int_equal(pipeline_send(p, P(v)), 0);
	pipeline_free(p); /* the sorter's arrays are freed (the leak check sees) */
	assert_int_equal(s.nbatches, 0);
	pipeline_free(NULL);
	pipeline_batch_free(NULL);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct sink s = {0};
	struct pipeline *p = NULL;
	assert_int_equal(pipeline_new(NULL, cmp_int, NULL, sink_emit, &s), CRAWL_EINVAL);
	assert_int_equal(pipeline_new(&p, NULL, NULL, sink_emit, &s), CRAWL_EINVAL);
	assert_int_equal(pipeline_new(&p, cmp_int, NULL, NULL, &s), CRAWL_EINVAL);
	assert_null(p);
	new_int_pipeline(&p, NULL, &s);
	assert_int_equal(pipeline_send(p, PIPELINE_END), CRAWL_EINVAL);
	assert_int_equal(pipeline_pending(p), 0);
	assert_int_equal(pipeline_send(NULL, P(1)), CRAWL_EINVAL);
	assert_int_equal(pipeline_end_batch(NULL), CRAWL_EINVAL);
	assert_int_equal(pipeline_finish(NULL), CRAWL_EINVAL);
	assert_int_equal(s.nbatches, 0);
	pipeline_free(p);
}

static void test_emit_reentry_refused(void **state)
{
	(void)state;
	struct sink s = {0};
	struct pipeline *p = NULL;
	new_int_pipeline(&p, NULL, &s);
	s.reenter = p;
	assert_int_equal(pipeline_send(p, P(5)), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.reenter_rc, CRAWL_ERUNNING);
	assert_int_equal(s.reenter_end_rc, CRAWL_ERUNNING);
	assert_int_equal(s.reenter_finish_rc, CRAWL_ERUNNING);
	s.reenter = NULL;
	/* the pipeline is unharmed */
	assert_int_equal(s.nbatches, 1);
	assert_int_equal(s.batches[0]->count, 1);
	assert_int_equal(pipeline_send(p, P(6)), 0);
	assert_int_equal(pipeline_end_batch(p), 0);
	assert_int_equal(s.nbatches, 2);
	assert_int_equal(I(s.batches[1]->items[0]), 6);
	sink_clear(&s);
	pipeline_free(p);
}

/* Two pipelines fed in alternation: in shared mode their delegators and
 * sorters evict each other at every send. */
static void test_two_pipelines_interleaved(void **state)
{
	(void)state;
	struct sink s1 = {0}, s2 = {0};
	struct pipeline *p1 = NULL, *p2 = NULL;
	new_int_pipeline(&p1, NULL, &s1);
	new_int_pipeline(&p2, NULL, &s2);
	intptr_t in1[100], in2[100];
	for (int i = 0; i < 100; i++) {
		in1[i] = (i * 37) % 101;
		in2[i] = -((i * 53) % 103);
		assert_int_equal(pipeline_send(p1, P(in1[i])), 0);
		assert_int_equal(pipeline_send(p2, P(in2[i])), 0);
	}
	assert_int_equal(pipeline_end_batch(p2), 0);
	assert_int_equal(pipeline_end_batch(p1), 0);
	assert_true(batch_matches(s1.batches[0], in1, 100));
	assert_true(batch_matches(s2.batches[0], in2, 100));
	sink_clear(&s1);
	sink_clear(&s2);
	pipeline_free(p1);
	pipeline_free(p2);
}

/* A pipeline created inside a coroutine, then fed from the thread's stack
 * (in shared mode its delegator sits one level deeper than it is fed). */
struct owner_rec {
	struct sink sink;
	struct pipeline *p;
	int rc_new, rc_send, rc_end;
};

static int body_owner(void *arg, void **result)
{
	struct owner_rec *r = arg;
	(void)result;
	r->sink.tag = 0x5eed;
	r->rc_new = pipeline_new(&r->p, cmp_int, NULL, sink_emit, &r->sink);
	if (r->rc_new)
		return r->rc_new;
	r->rc_send = pipeline_send(r->p, P(9));
	r->rc_end = pipeline_end_batch(r->p);
	return 0;
}

static void test_created_in_coroutine(void **state)
{
	(void)state;
	struct owner_rec r = {0};
	coro_t *c = NULL;
	assert_int_equal(coro_new(&c, body_owner, &r, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), CORO_RETURNED);
	assert_int_equal(r.rc_new, 0);
	assert_int_equal(r.rc_send, 0);
	assert_int_equal(r.rc_end, 0);
	for (int round = 0; round < 3; round++) {
		assert_int_equal(pipeline_send(r.p, P(2)), 0);
		assert_int_equal(pipeline_send(r.p, P(1)), 0);
		assert_int_equal(pipeline_end_batch(r.p), 0);
	}
	assert_int_equal(r.sink.nbatches, 4);
	assert_int_equal(r.sink.batches[0]->count, 1);
	assert_int_equal(I(r.sink.batches[3]->items[0]), 1);
	assert_int_equal(I(r.sink.batches[3]->items[1]), 2);
	sink_clear(&r.sink);
	pipeline_free(r.p);
	assert_int_equal(coro_free(c), 0);
}

/* Fed from a coroutine that runs on the very stack the delegator is bound
 * to: CRAWL_ESHARED in shared mode, nothing lost; fine with dedicated
 * stacks. */
struct feeder_rec {
	struct pipeline *p;
	int rc;
};

static int body_feeder(void *arg, void **result)
{
	struct feeder_rec *r = arg;
	(void)result;
	r->rc = pipeline_send(r->p, P(4));
	return 0;
}

static void test_fed_from_coroutine(void **state)
{
	const int shared = *(int *)*state;
	struct sink s = {0};
	struct feeder_rec r = {0};
	coro_t *c = NULL;
	new_int_pipeline(&r.p, NULL, &s);
	assert_int_equal(pipeline_send(r.p, P(8)), 0);
	assert_int_equal(coro_new(&c, body_feeder, &r, NULL), 0);
	assert_int_equal(coro_send(c, NULL, NULL), CORO_RETURNED);
	assert_int_equal(r.rc, shared ? CRAWL_ESHARED : 0);
	assert_int_equal(pipeline_pending(r.p), shared ? 1 : 2);
	assert_int_equal(pipeline_end_batch(r.p), 0);
	assert_int_equal(s.batches[0]->count, shared ? 1 : 2);
	assert_int_equal(I(s.batches[0]->items[shared ? 0 : 1]), 8);
	sink_clear(&s);
	pipeline_free(r.p);
	assert_int_equal(coro_free(c), 0);
}

static int mode_dedicated = 0, mode_shared = 1;

static int setup_dedicated(void **state)
{
	coro_default_shared(0);
	*state = &mode_dedicated;
	return 0;
}

static int setup_shared(void **state)
{
	coro_default_shared(1);
	*state = &mode_shared;
	return 0;
}

static int teardown_default(void **state)
{
	(void)state;
	coro_default_shared(0);
	return 0;
}

#define PIPELINE_TESTS                                         \
	cmocka_unit_test(test_ints_sorted),                    \
	cmocka_unit_test(test_strings_sorted),                 \
	cmocka_unit_test(test_structs_stable),                 \
	cmocka_unit_test(test_empty_batch),                    \
	cmocka_unit_test(test_many_rounds),                    \
	cmocka_unit_test(test_large_batch),                    \
	cmocka_unit_test(test_sorter_is_separate_coroutine),   \
	cmocka_unit_test(test_max_batch_emits_early),          \
	cmocka_unit_test(test_finish_emits_final_batch),       \
	cmocka_unit_test(test_free_drops_pending),             \
	cmocka_unit_test(test_bad_arguments),                  \
	cmocka_unit_test(test_emit_reentry_refused),           \
	cmocka_unit_test(test_two_pipelines_interleaved),      \
	cmocka_unit_test(test_created_in_coroutine),           \
	cmocka_unit_test(test_fed_from_coroutine)

int main(void)
{
	const struct CMUnitTest dedicated[] = {PIPELINE_TESTS};
	const struct CMUnitTest shared[] = {PIPELINE_TESTS};
	int failed = 0;
	failed += cmocka_run_group_tests_name("pipeline_dedicated", dedicated, setup_dedicated,
					      teardown_default);
	failed += cmocka_run_group_tests_name("pipeline_shared", shared, setup_shared,
					      teardown_default);
	return failed ? 1 : 0;
}
