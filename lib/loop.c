/* loop.c - ready queue, timer heap and libevent poll phase. */
#include "loop.h"

#include <event2/event.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

struct loop {
	struct event_base *base;
	struct event *wake;   /* timeout for the earliest timer */
	struct event *keep;   /* keeps epoll blocking when nothing else is registered */
	int keep_fd;
	uint64_t now;
	struct loop_timer ready;        /* ready queue: circular list sentinel */
	struct loop_timer mark;         /* end of the batch run_ready runs */
	struct loop_timer **heap;       /* 1-based min-heap by deadline */
	uint32_t nheap, capheap;
	struct loop__task_link tasks;   /* pending tasks (circular list) */
	loop_report_fn report;
	void *report_arg;
	uint8_t running, stopping, closed;
};

struct loop_handle {
	struct loop_timer t;
	loop_t *loop;
	loop_fn fn;
	void *arg;
	int refs;
	uint8_t ran;
};

static uint64_t clock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
}

static void on_keep(evutil_socket_t fd, short what, void *arg)
{
	uint64_t v;
	(void)what;
	(void)arg;
	if (read(fd, &v, sizeof v) < 0) {
		/* EAGAIN: nothing to drain */
	}
}

static int loop_open_base(loop_t *l)
{
	l->base = event_base_new();
	if (!l->base)
		return CRAWL_ESYS;
#ifdef __linux__
	if (strcmp(event_base_get_method(l->base), "epoll") != 0)
		return CRAWL_ESYS;
#endif
	l->wake = evtimer_new(l->base, on_wake, l);
	l->keep_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!l->wake || l->keep_fd < 0)
		return l->wake ? CRAWL_ESYS : CRAWL_ENOMEM;
	l->keep = event_new(l->base, l->keep_fd, EV_READ | EV_PERSIST, on_keep, l);
	if (!l->keep)
		return CRAWL_ENOMEM;
	if (event_add(l->keep, NULL) != 0)
		return CRAWL_ESYS;
	return 0;
}

static void loop_release_base(loop_t *l)
{
	if (l->keep)
		event_free(l->keep);
	if (l->wake)
		event_free(l->wake);
	if (l->keep_fd >= 0)
		close(l->keep_fd);
	if (l->base)
		event_base_free(l->base);
	l->keep = l->wake = NULL;
	l->base = NULL;
	l->keep_fd = -1;
}

int loop_new(loop_t **out)
{
	loop_t *l = calloc(1, sizeof *l);
	if (!l)
		return CRAWL_ENOMEM;
	l->keep_fd = -1;
	l->tasks.prev = l->tasks.next = &l->tasks;
	l->ready.prev = l->ready.next = &l->ready;
	int rc = loop_open_base(l);
	if (rc)
		goto fail;
	l->now = clock_ns();
	*out = l;
	return 0;
fail:
	loop_release_base(l);
	free(l);
	return rc;
}

void loop_set_report(loop_t *l, loop_report_fn fn, void *arg)
{
	l->report = fn;
	l->report_arg = arg;
	if (fn && l->base)
		loop__report(l, 7, "event loop backend: %s", event_base_get_method(l->base));
}

void loop__report(loop_t *l, int level, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (!l->report)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	l->report(l->report_arg, level, buf);
}

uint64_t loop_now(const loop_t *l)
{
	return l->now;
}

double loop_time(const loop_t *l)
{
	return (double)l->now / 1e9;
}

uint64_t loop_update_time(loop_t *l)
{
	l->now = clock_ns();
	return l->now;
}

struct event_base *loop_event_base(loop_t *l)
{
	return l->base;
}

int loop_is_closed(const loop_t *l)
{
	return l->closed;
}

int loop_is_running(const loop_t *l)
{
	return l->running;
}

/* ---- timer heap ---- */

static void heap_set(loop_t *l, uint32_t i, struct loop_timer *t)
{
	l->heap[i] = t;
	t->heap_index = i;
}

static void heap_up(loop_t *l, uint32_t i)
{
	struct loop_timer *t = l->heap[i];
	while (i > 1 && l->heap[i / 2]->deadline > t->deadline) {
		heap_set(l, i, l->heap[i / 2]);
		i /= 2;
	}
	heap_set(l, i, t);
}

static void heap_down(loop_t *l, uint32_t i)
{
	struct loop_timer *t = l->heap[i];
	for (;;) {
		uint32_t c = i * 2;
		if (c > l->nheap)
			break;
		if (c < l->nheap && l->heap[c + 1]->deadline < l->heap[c]->deadline)
			c++;
		if (l->heap[c]->deadline >= t->deadline)
			break;
		heap_set(l, i, l->heap[c]);
		i = c;
	}
	heap_set(l, i, t);
}

static int heap_push(loop_t *l, struct loop_timer *t)
{
	if (l->nheap + 1 >= l->capheap) {
		uint32_t cap = l->capheap ? l->capheap * 2 : 64;
		struct loop_timer **h = realloc(l->heap, cap * sizeof *h);
		if (!h)
			return CRAWL_ENOMEM;
		l->heap = h;
		l->capheap = cap;
	}
	l->nheap++;
	heap_set(l, l->nheap, t);
	heap_up(l, l->nheap);
	return 0;
}

static void heap_remove(loop_t *l, struct loop_timer *t)
{
	uint32_t i = t->heap_index;
	struct loop_timer *last = l->heap[l->nheap--];
	t->heap_index = 0;
	if (last == t)
		return;
	heap_set(l, i, last);
	if (i > 1 && l->heap[i / 2]->deadline > last->deadline)
		heap_up(l, i);
	else
		heap_down(l, i);
}

/* ---- embedded timers ---- */

void loop_timer_init(struct loop_timer *t, loop_fn fn, void *arg)
{
	memset(t, 0, sizeof *t);
	t->fn = fn;
	t->arg = arg;
}

int loop_timer_armed(const struct loop_timer *t)
{
	return t->heap_index || t->queued;
}

static int ready_empty(const loop_t *l)
{
	return l->ready.next == &l->ready;
}

static void ready_link(loop_t *l, struct loop_timer *t)
{
	t->prev = l->ready.prev;
	t->next = &l->ready;
	l->ready.prev->next = t;
	l->ready.prev = t;
}

static void ready_unlink(struct loop_timer *t)
{
	t->prev->next = t->next;
	t->next->prev = t->prev;
	t->next = t->prev = NULL;
}

/* Already queued: it keeps its place. */
static void ready_push(loop_t *l, struct loop_timer *t)
{
	if (t->queued)
		return;
	t->queued = 1;
	ready_link(l, t);
}

static void ready_remove(struct loop_timer *t)
{
	if (!t->queued)
		return;
	ready_unlink(t);
	t->queued = 0;
}

void loop_timer_soon(loop_t *l, struct loop_timer *t)
{
	if (t->heap_index)
		heap_remove(l, t);
	ready_push(l, t);
}

void loop_timer_at(loop_t *l, struct loop_timer *t, uint64_t deadline_ns)
{
	ready_remove(t);
	if (t->heap_index) {
		t->deadline = deadline_ns;
		heap_up(l, t->heap_index);
		heap_down(l, t->heap_index);
		return;
	}
	t->deadline = deadline_ns;
	if (heap_push(l, t) != 0)
		ready_push(l, t); /* no memory for the heap: run early rather than never */
}

void loop_timer_after(loop_t *l, struct loop_timer *t, double seconds)
{
	if (!(seconds > 0)) {
		loop_timer_soon(l, t);
		return;
	}
	loop_timer_at(l, t, l->now + (uint64_t)(seconds * 1e9));
}

void loop_timer_stop(loop_t *l, struct loop_timer *t)
{
	if (t->heap_index)
		heap_remove(l, t);
	ready_remove(t);
}

/* ---- call_soon / call_later handles ---- */

static void handle_unref(loop_handle_t *h)
{
	if (--h->refs == 0)
		free(h);
}

static void handle_drop(void *arg)
{
	handle_unref(arg);
}

static void handle_run(void *arg)
{
	loop_handle_t *h = arg;
	h->ran = 1;
	h->fn(h->arg);
	handle_unref(h);
}

static int handle_new(loop_t *l, loop_fn fn, void *arg, loop_handle_t **out, loop_handle_t **h)
{
	if (l->closed)
		return CRAWL_ELOOPCLOSED;
	if (!fn)
		return CRAWL_EINVAL;
	*h = calloc(1, sizeof **h);
	if (!*h)
		return CRAWL_ENOMEM;
	loop_timer_init(&(*h)->t, handle_run, *h);
	(*h)->t.drop = handle_drop;
	(*h)->loop = l;
	(*h)->fn = fn;
	(*h)->arg = arg;
	(*h)->refs = out ? 2 : 1;
	if (out)
		*out = *h;
	return 0;
}

int loop_call_soon(loop_t *l, loop_fn fn, void *arg, loop_handle_t **out)
{
	loop_handle_t *h;
	int rc = handle_new(l, fn, arg, out, &h);
	if (rc == 0)
		loop_timer_soon(l, &h->t);
	return rc;
}

int loop_call_later(loop_t *l, double delay, loop_fn fn, void *arg, loop_handle_t **out)
{
	if (!(delay >= 0) || isinf(delay))
		return CRAWL_EINVAL;
	loop_handle_t *h;
	int rc = handle_new(l, fn, arg, out, &h);
	if (rc == 0)
		loop_timer_after(l, &h->t, delay);
	return rc;
}

int loop_handle_cancel(loop_handle_t *h)
{
	int rc = h->ran ? CRAWL_EDONE : 0;
	if (!h->ran && loop_timer_armed(&h->t)) {
		loop_timer_stop(h->loop, &h->t);
		h->refs--; /* the loop's reference: nothing will run it now */
	}
	handle_unref(h);
	return rc;
}

void loop_handle_release(loop_handle_t *h)
{
	handle_unref(h);
}

/* ---- running ---- */

static void poll_io(loop_t *l)
{
	int flags = EVLOOP_ONCE;
	if (!ready_empty(l)) {
		flags |= EVLOOP_NONBLOCK;
	} else if (l->nheap) {
		uint64_t now = loop_update_time(l), when = l->heap[1]->deadline;
		uint64_t ns = when > now ? when - now : 0;
		struct timeval tv = {(time_t)(ns / 1000000000u), (suseconds_t)((ns % 1000000000u + 999) / 1000)};
		if (tv.tv_usec >= 1000000) {
			tv.tv_sec++;
			tv.tv_usec -= 1000000;
		}
		if (ns == 0)
			flags |= EVLOOP_NONBLOCK;
		else
			evtimer_add(l->wake, &tv);
	}
	event_base_loop(l->base, flags);
	evtimer_del(l->wake);
	loop_update_time(l);
}

static void run_due_timers(loop_t *l)
{
	while (l->nheap && l->heap[1]->deadline <= l->now) {
		struct loop_timer *t = l->heap[1];
		heap_remove(l, t);
		ready_push(l, t);
	}
}

/* Runs what was ready when the phase began; what they schedule goes
 * behind the mark and waits for the next iteration. A timer stopped
 * meanwhile is unlinked, so it is simply not met. */
static void run_ready(loop_t *l)
{
	ready_link(l, &l->mark);
	for (;;) {
		struct loop_timer *t = l->ready.next;
		ready_unlink(t);
		if (t == &l->mark)
			break;
		t->queued = 0;
		t->fn(t->arg);
	}
}

static int loop_enter(loop_t *l)
{
	if (l->closed)
		return CRAWL_ELOOPCLOSED;
	if (l->running)
		return CRAWL_ELOOPRUNNING;
	l->running = 1;
	l->stopping = 0;
	loop_update_time(l);
	return 0;
}

static void loop_iterate(loop_t *l)
{
	poll_io(l);
	run_due_timers(l);
	run_ready(l);
}

int loop_run_forever(loop_t *l)
{
	int rc = loop_enter(l);
	if (rc)
		return rc;
	while (!l->stopping)
		loop_iterate(l);
	l->running = 0;
	l->stopping = 0;
	return 0;
}

void loop_stop(loop_t *l)
{
	l->stopping = 1;
}

int loop__run_until(loop_t *l, const uint8_t *flag)
{
	int rc = loop_enter(l);
	if (rc)
		return rc;
	while (!*flag && !l->stopping)
		loop_iterate(l);
	l->running = 0;
	l->stopping = 0;
	return *flag ? 0 : CRAWL_EPENDING;
}

void loop__task_add(loop_t *l, struct loop__task_link *link)
{
	link->next = l->tasks.next;
	link->prev = &l->tasks;
	l->tasks.next->prev = link;
	l->tasks.next = link;
}

void loop__task_remove(loop_t *l, struct loop__task_link *link)
{
	(void)l;
	if (!link->next)
		return;
	link->prev->next = link->next;
	link->next->prev = link->prev;
	link->next = link->prev = NULL;
}

static void drop_timers(loop_t *l)
{
	/* Popped one by one: a drop may stop other timers. */
	while (l->nheap) {
		struct loop_timer *t = l->heap[l->nheap--];
		t->heap_index = 0;
		if (t->drop)
			t->drop(t->arg);
	}
	while (!ready_empty(l)) {
		struct loop_timer *t = l->ready.next;
		ready_unlink(t);
		t->queued = 0;
		if (t->drop)
			t->drop(t->arg);
	}
}

int loop_close(loop_t *l)
{
	if (l->running)
		return CRAWL_ELOOPRUNNING;
	if (l->closed)
		return 0;
	l->closed = 1;
	int n = 0;
	while (l->tasks.next != &l->tasks) {
		struct loop__task_link *link = l->tasks.next;
		loop__task_remove(l, link);
		loop__report(l, 4, "Task was destroyed but it is pending!");
		link->destroy(link);
		n++;
	}
	drop_timers(l);
	free(l->heap);
	l->heap = NULL;
	l->capheap = 0;
	loop_release_base(l);
	return n;
}

void loop_free(loop_t *l)
{
	if (!l)
		return;
	loop_close(l);
	free(l);
}
