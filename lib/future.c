/* future.c - futures, done callbacks, and run_until_complete. */
#include "future.h"

#include <stdlib.h>
#include <string.h>

#define FUTURE_MAGIC 0x46555452u /* "FUTR" */

static void plain_destroy(future_t *f)
{
	free(f);
}

static const struct future_ops plain_ops = {"Future", NULL, plain_destroy};

static void run_callbacks(void *arg);

/* The loop closed with the callbacks still scheduled: release its ref. */
static void drop_callbacks(void *arg)
{
	future_t *f = arg;
	f->cb_scheduled = 0;
	future_unref(f);
}

void future__init(future_t *f, loop_t *l, const struct future_ops *ops)
{
	memset(f, 0, sizeof *f);
	f->magic = FUTURE_MAGIC;
	f->refs = 1;
	f->loop = l;
	f->ops = ops ? ops : &plain_ops;
	loop_timer_init(&f->cb_timer, run_callbacks, f);
	f->cb_timer.drop = drop_callbacks;
}

void future__fini(future_t *f)
{
	if (f->cb_scheduled)
		loop_timer_stop(f->loop, &f->cb_timer);
	free(f->cbs);
	f->cbs = NULL;
	if (f->result_free && f->result)
		f->result_free(f->result);
	f->result = NULL;
	f->magic = 0;
}

int future_new(loop_t *l, future_t **out)
{
	future_t *f = malloc(sizeof *f);
	if (!f)
		return CRAWL_ENOMEM;
	future__init(f, l, NULL);
	*out = f;
	return 0;
}

void future_ref(future_t *f)
{
	f->refs++;
}

void future_unref(future_t *f)
{
	if (!f || --f->refs > 0)
		return;
	future__fini(f);
	f->ops->destroy(f);
}

enum future_state future_state(const future_t *f)
{
	return (enum future_state)f->state;
}

const char *future_state_name(enum future_state s)
{
	static const char *const names[] = {"PENDING", "FINISHED", "CANCELLED"};
	return (unsigned)s < 3 ? names[s] : "UNKNOWN";
}

int future_done(const future_t *f)
{
	return f->state != FUTURE_PENDING;
}

int future_cancelled(const future_t *f)
{
	return f->state == FUTURE_CANCELLED;
}

int future_is(const void *p)
{
	return p && ((const future_t *)p)->magic == FUTURE_MAGIC;
}

loop_t *future_loop(const future_t *f)
{
	return f->loop;
}

static int has_callbacks(const future_t *f)
{
	return f->ncb > 0;
}

static struct future_cbent *cb_at(future_t *f, uint32_t i)
{
	return i == 0 ? &f->cb0 : &f->cbs[i - 1];
}

/* Drops the first skip entries and every emptied one (fn == NULL). */
static void compact_callbacks(future_t *f, uint32_t skip)
{
	uint32_t keep = 0;
	for (uint32_t i = skip; i < f->ncb; i++) {
		struct future_cbent e = *cb_at(f, i);
		if (e.fn)
			*cb_at(f, keep++) = e;
	}
	f->ncb = keep;
	if (keep == 0)
		f->cb0.fn = NULL;
	if (keep <= 1) {
		free(f->cbs);
		f->cbs = NULL;
		f->capcb = 0;
	}
}

/* The loop holds a reference while callbacks are scheduled. */
static void schedule_callbacks(future_t *f)
{
	if (f->cb_scheduled || !has_callbacks(f) || loop_is_closed(f->loop))
		return;
	f->cb_scheduled = 1;
	future_ref(f);
	loop_timer_soon(f->loop, &f->cb_timer);
}

/* Runs the entries present when the batch starts, in place: each is
 * emptied before it runs, one removed meanwhile is emptied by
 * future_remove_done_callback and so skipped, and ones added meanwhile are
 * scheduled anew (the future is done), as asyncio's call_soon per callback
 * would. */
static void run_callbacks(void *arg)
{
	future_t *f = arg;
	uint32_t n = f->ncb;
	f->cb_scheduled = 0;
	f->cb_running = 1;
	for (uint32_t i = 0; i < n; i++) {
		struct future_cbent *e = cb_at(f, i), run = *e;
		e->fn = NULL;
		if (run.fn)
			run.fn(f, run.arg);
	}
	f->cb_running = 0;
	compact_callbacks(f, n);
	future_unref(f);
}

static int complete(future_t *f, enum future_state state, void *result, int err)
{
	if (f->state != FUTURE_PENDING)
		return CRAWL_EDONE;
	f->state = (uint8_t)state;
	f->result = result;
	f->error = err;
	schedule_callbacks(f);
	return 0;
}

int future_set_result(future_t *f, void *result)
{
	return complete(f, FUTURE_FINISHED, result, 0);
}

int future_set_result_owned(future_t *f, void *result, void (*free_fn)(void *))
{
	int rc = complete(f, FUTURE_FINISHED, result, 0);
	if (rc == 0)
		f->result_free = free_fn;
	return rc;
}

int future_set_error(future_t *f, int err)
{
	if (err >= 0)
		return CRAWL_EINVAL;
	return complete(f, FUTURE_FINISHED, NULL, err);
}

int future__set_cancelled(future_t *f)
{
	return complete(f, FUTURE_CANCELLED, NULL, CRAWL_ECANCELLED);
}

int future_cancel(future_t *f)
{
	if (f->state != FUTURE_PENDING)
		return CRAWL_EDONE;
	return f->ops->cancel ? f->ops->cancel(f) : future__set_cancelled(f);
}

int future_result(const future_t *f, void **result)
{
	switch (f->state) {
	case FUTURE_PENDING:
		return CRAWL_EPENDING;
	case FUTURE_CANCELLED:
		return CRAWL_ECANCELLED;
	default:
		break;
	}
	if (f->error)
		return f->error;
	if (result)
		*result = f->result;
	return 0;
}

int future_error(const future_t *f)
{
	return f->state == FUTURE_PENDING ? 0 : f->error;
}

int future_add_done_callback(future_t *f, future_cb fn, void *arg)
{
	if (!fn)
		return CRAWL_EINVAL;
	if (!has_callbacks(f)) {
		f->cb0 = (struct future_cbent){fn, arg};
		f->ncb = 1;
	} else {
		if (f->ncb >= f->capcb + 1) {
			uint32_t cap = f->capcb ? f->capcb * 2 : 4;
			struct future_cbent *p = realloc(f->cbs, cap * sizeof *p);
			if (!p)
				return CRAWL_ENOMEM;
			f->cbs = p;
			f->capcb = cap;
		}
		f->cbs[f->ncb - 1] = (struct future_cbent){fn, arg};
		f->ncb++;
	}
	if (f->state != FUTURE_PENDING)
		schedule_callbacks(f);
	return 0;
}

/* While a batch runs the entries are only emptied (run_callbacks walks
 * them by index); it compacts them when it ends. */
int future_remove_done_callback(future_t *f, future_cb fn, void *arg)
{
	int removed = 0;
	for (uint32_t i = 0; i < f->ncb; i++) {
		struct future_cbent *e = cb_at(f, i);
		if (e->fn && e->fn == fn && e->arg == arg) {
			e->fn = NULL;
			removed++;
		}
	}
	if (!f->cb_running)
		compact_callbacks(f, 0);
	return removed;
}

/* ---- run_until_complete (declared in loop.h) ---- */

static void mark_done(future_t *f, void *arg)
{
	(void)f;
	*(uint8_t *)arg = 1;
}

int loop_run_until_complete(loop_t *l, future_t *f, void **result)
{
	if (loop_is_closed(l))
		return CRAWL_ELOOPCLOSED;
	if (loop_is_running(l))
		return CRAWL_ELOOPRUNNING;
	uint8_t done = 0;
	future_ref(f);
	/* Added last, so the future's own callbacks run before we return. */
	int rc = future_add_done_callback(f, mark_done, &done);
	if (rc == 0)
		rc = loop__run_until(l, &done);
	if (rc != 0)
		future_remove_done_callback(f, mark_done, &done);
	if (rc == 0)
		rc = future_result(f, result);
	future_unref(f);
	return rc;
}
