/* pipeline.c - a delegator running sorter sub-coroutines with yield_from. */
#include "pipeline.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coro.h"

char pipeline__end;

enum { FIRST_CAP = 16 };

/* What the sorter is given: how to order and when a batch is full. It is
 * all the sorter knows of the pipeline. */
struct sort_cfg {
	pipeline_cmp cmp;
	void *ctx;
	size_t max;
};

struct pipeline {
	coro_t *co; /* the delegator */
	struct sort_cfg cfg;
	pipeline_emit emit;
	void *emit_arg;
	size_t pending;
	size_t batches;
	int error; /* set once the delegator is gone: every call returns it */
	struct coro_opts opts; /* for the delegator and each sorter */
};

/* The sorter's state, on its own stack. batch and its items are one block
 * so that ending a batch needs no allocation; tmp is the merge buffer. */
struct sorter {
	struct pipeline_batch *batch;
	void **tmp;
	size_t cap; /* room in both batch->items and tmp */
};

/* The sorter yields NULL for a stored value, or an error code as a pointer
 * when it could not store it; the delegator passes that out unchanged. */
#define STATUS(rc) ((void *)(intptr_t)(rc))

/* Doubles the room, up to the batch bound (max) when that is enough. */
static int sorter_grow(struct sorter *s, size_t want, size_t max)
{
	size_t cap = s->cap ? s->cap * 2 : FIRST_CAP;
	if (cap > max)
		cap = max;
	if (cap < want)
		cap = want;
	struct pipeline_batch *b = realloc(s->batch, sizeof *b + cap * sizeof(void *));
	if (!b)
		return CRAWL_ENOMEM;
	b->items = (void **)(b + 1);
	if (!s->batch)
		b->count = 0;
	s->batch = b;
	void **t = realloc(s->tmp, cap * sizeof(void *));
	if (!t)
		return CRAWL_ENOMEM; /* the larger batch block is kept, unused */
	s->tmp = t;
	s->cap = cap;
	return 0;
}

static int sorter_add(struct sorter *s, void *v, size_t max)
{
	if (s->batch->count == s->cap) {
		int rc = sorter_grow(s, s->cap + 1, max);
		if (rc)
			return rc;
	}
	s->batch->items[s->batch->count++] = v;
	return 0;
}

/* Merges the sorted runs src[lo, mid) and src[mid, hi) into dst; on ties
 * the left run goes first, which keeps the sort stable. */
static void merge(void **dst, void *const *src, size_t lo, size_t mid, size_t hi,
		  const struct sort_cfg *cfg)
{
	size_t i = lo, j = mid, k = lo;
	while (i < mid && j < hi)
		dst[k++] = cfg->cmp(src[j], src[i], cfg->ctx) < 0 ? src[j++] : src[i++];
	while (i < mid)
		dst[k++] = src[i++];
	while (j < hi)
		dst[k++] = src[j++];
}

/* Bottom-up merge sort: runs of width 1, 2, 4... bounce between the two
 * arrays; iterative so it uses no stack whatever n is. */
static void merge_sort(void **items, void **tmp, size_t n, const struct sort_cfg *cfg)
{
	void **src = items, **dst = tmp;
	for (size_t width = 1; width < n; width *= 2) {
		for (size_t lo = 0; lo < n; lo += 2 * width) {
			size_t mid = lo + width < n ? lo + width : n;
			size_t hi = mid + width < n ? mid + width : n;
			merge(dst, src, lo, mid, hi, cfg);
		}
		void **t = src;
		src = dst;
		dst = t;
	}
	if (src != items)
		memcpy(items, src, n * sizeof *items);
}

/* sub_coro(): collects what it is sent until the end marker (or a full
 * batch), then returns the values sorted. */
static int sorter_run(void *arg, void **result)
{
	const struct sort_cfg *cfg = arg;
	struct sorter s = {0};
	void *status = NULL;
	int rc = sorter_grow(&s, 1, cfg->max);
	if (rc)
		goto fail;
	while (s.batch->count < cfg->max) {
		void *v = NULL;
		rc = coro_yield(status, &v);
		if (rc < 0)
			goto fail; /* closed (or thrown into): the batch is dropped */
		if (v == PIPELINE_END)
			break;
		status = STATUS(sorter_add(&s, v, cfg->max));
	}
	merge_sort(s.batch->items, s.tmp, s.batch->count, cfg);
	free(s.tmp);
	*result = s.batch;
	return 0;
fail:
	free(s.batch);
	free(s.tmp);
	return rc;
}

/* dele_coro(): forever, one sorter per round, its batch to emit. */
static int delegator_run(void *arg, void **result)
{
	struct pipeline *p = arg;
	(void)result;
	for (;;) {
		void *batch = NULL;
		coro_t *sorter = NULL;
		int rc = coro_new(&sorter, sorter_run, &p->cfg, &p->opts);
		if (rc == 0)
			rc = coro_yield_from(sorter, &batch);
		coro_free(sorter);
		if (rc < 0)
			return rc; /* CRAWL_EEXIT when closed; else no sorter */
		p->pending = 0;
		p->batches++;
		p->emit(p->emit_arg, batch);
	}
}

int pipeline_new(struct pipeline **out, pipeline_cmp cmp, void *cmp_ctx, pipeline_emit emit,
		 void *emit_arg)
{
	return pipeline_new_opts(out, cmp, cmp_ctx, emit, emit_arg, NULL);
}

int pipeline_new_opts(struct pipeline **out, pipeline_cmp cmp, void *cmp_ctx, pipeline_emit emit,
		      void *emit_arg, const struct coro_opts *opts)
{
	if (!out || !cmp || !emit)
		return CRAWL_EINVAL;
	struct pipeline *p = calloc(1, sizeof *p);
	if (!p)
		return CRAWL_ENOMEM;
	p->cfg = (struct sort_cfg){.cmp = cmp, .ctx = cmp_ctx, .max = PIPELINE_DEFAULT_MAX_BATCH};
	p->emit = emit;
	p->emit_arg = emit_arg;
	if (opts)
		p->opts = *opts;
	int rc = coro_start(&p->co, delegator_run, p, &p->opts, NULL);
	if (rc != 0)
		goto fail;
	*out = p;
	return 0;
fail:
	coro_free(p->co);
	free(p);
	return rc < 0 ? rc : CRAWL_ENOMEM;
}

int pipeline_set_max_batch(struct pipeline *p, size_t max_batch)
{
	if (!p || max_batch == 0 || max_batch > PIPELINE_MAX_BATCH_LIMIT)
		return CRAWL_EINVAL;
	p->cfg.max = max_batch;
	return 0;
}

/* Sends v to the delegator. A usage error (CRAWL_ERUNNING, CRAWL_ESHARED)
 * leaves everything as it was; if the delegator ended, the pipeline keeps
 * that error, but a batch emitted during this call still counts as done. */
static int pipeline_push(struct pipeline *p, void *v, size_t *emitted)
{
	if (p->error)
		return p->error;
	size_t before = p->batches;
	void *status = NULL;
	int rc = coro_send(p->co, v, &status);
	*emitted = p->batches - before;
	if (coro_state(p->co) == CORO_CLOSED) {
		p->error = rc < 0 ? rc : CRAWL_ECLOSED;
		return *emitted ? 0 : p->error;
	}
	if (rc < 0)
		return rc;
	return (int)(intptr_t)status;
}

int pipeline_send(struct pipeline *p, void *value)
{
	if (!p || value == PIPELINE_END)
		return CRAWL_EINVAL;
	size_t emitted = 0;
	int rc = pipeline_push(p, value, &emitted);
	if (rc == 0 && !emitted)
		p->pending++;
	return rc;
}

int pipeline_end_batch(struct pipeline *p)
{
	if (!p)
		return CRAWL_EINVAL;
	size_t emitted = 0;
	return pipeline_push(p, PIPELINE_END, &emitted);
}

size_t pipeline_pending(const struct pipeline *p)
{
	return p->pending;
}

size_t pipeline_batches(const struct pipeline *p)
{
	return p->batches;
}

int pipeline_finish(struct pipeline *p)
{
	if (!p)
		return CRAWL_EINVAL;
	if (p->error)
		return p->error == CRAWL_ECLOSED ? 0 : p->error;
	int rc = p->pending ? pipeline_end_batch(p) : 0;
	if (rc)
		return rc; /* a usage error: nothing changed */
	if (!p->error) {
		rc = coro_close(p->co);
		if (rc == CRAWL_ERUNNING || rc == CRAWL_ESHARED)
			return rc;
	}
	p->error = CRAWL_ECLOSED;
	return rc;
}

void pipeline_free(struct pipeline *p)
{
	if (!p)
		return;
	coro_free(p->co);
	free(p);
}

void pipeline_batch_free(struct pipeline_batch *batch)
{
	free(batch);
}
